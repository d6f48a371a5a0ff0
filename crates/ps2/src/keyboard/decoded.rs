//! What key events amount to: a character, a key that types none, or a lock change.

use super::Locks;
use crate::KeyCode;

/// What a key event amounts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum DecodedKey {
    /// A character was typed (including control characters: Enter is `'\n'`, Ctrl+C is
    /// U+0003).
    Char(char),
    /// A key that types no character at the current level was pressed (arrows, F-keys,
    /// Home, Delete, keypad navigation, Japanese conversion keys...).
    Key(KeyCode),
    /// A lock key toggled (or the keyboard reset itself): send keyboard command `0xED` and
    /// then [`Locks::led_byte`] to update the LEDs.
    LocksChanged(Locks),
}

impl DecodedKey {
    /// The character, if one was typed.
    pub const fn char(self) -> Option<char> {
        match self {
            DecodedKey::Char(c) => Some(c),
            _ => None,
        }
    }
}

/// The [`DecodedKey`]s of one event: none, one or two (a pending dead key or Compose
/// character that could not combine, then what interrupted it). Iterate it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "the decoded keys of an event are lost unless they are read"]
pub struct DecodedKeys {
    // The next key, the one after it, and how many are left: iterating shifts `second` into
    // `first`, so there is no index to bounds-check and, inlined, it all stays in registers.
    first: DecodedKey,
    second: DecodedKey,
    len: u8,
}

/// Fills unused slots; never yielded.
const FILLER: DecodedKey = DecodedKey::Key(KeyCode::Escape);

impl DecodedKeys {
    /// The most keys one event can produce.
    pub const CAPACITY: usize = 2;

    /// No keys.
    #[inline]
    pub const fn none() -> Self {
        DecodedKeys {
            first: FILLER,
            second: FILLER,
            len: 0,
        }
    }

    /// One key.
    #[inline]
    pub const fn one(key: DecodedKey) -> Self {
        DecodedKeys {
            first: key,
            second: FILLER,
            len: 1,
        }
    }

    /// Two keys, in order.
    #[inline]
    pub const fn two(first: DecodedKey, second: DecodedKey) -> Self {
        DecodedKeys {
            first,
            second,
            len: 2,
        }
    }

    /// The keys left, as a value small enough to be returned in registers.
    #[inline(always)]
    pub(crate) const fn into_pair(self) -> (Option<DecodedKey>, Option<DecodedKey>) {
        match self.len {
            0 => (None, None),
            1 => (Some(self.first), None),
            _ => (Some(self.first), Some(self.second)),
        }
    }

    /// The keys of [`DecodedKeys::into_pair`] again.
    #[inline(always)]
    pub(crate) const fn from_pair(pair: (Option<DecodedKey>, Option<DecodedKey>)) -> Self {
        match pair {
            (Some(first), Some(second)) => DecodedKeys::two(first, second),
            (Some(key), None) | (None, Some(key)) => DecodedKeys::one(key),
            (None, None) => DecodedKeys::none(),
        }
    }

    /// How many keys are left.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no keys are left.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The next key, without taking it.
    pub const fn peek(&self) -> Option<DecodedKey> {
        if self.len == 0 {
            None
        } else {
            Some(self.first)
        }
    }
}

impl Iterator for DecodedKeys {
    type Item = DecodedKey;

    #[inline]
    fn next(&mut self) -> Option<DecodedKey> {
        if self.len == 0 {
            return None;
        }
        let key = self.first;
        self.first = self.second;
        self.len -= 1;
        Some(key)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

impl ExactSizeIterator for DecodedKeys {}

impl core::iter::FusedIterator for DecodedKeys {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyboard::Locks;

    #[test]
    fn pair_round_trip_keeps_the_keys_left() {
        let a = DecodedKey::Char('a');
        let up = DecodedKey::Key(KeyCode::Up);
        let leds = DecodedKey::LocksChanged(Locks::CAPS);
        for keys in [
            DecodedKeys::none(),
            DecodedKeys::one(a),
            DecodedKeys::one(leds),
            DecodedKeys::two(a, up),
            DecodedKeys::two(up, leds),
        ] {
            let mut expected = keys;
            let mut round_trip = DecodedKeys::from_pair(keys.into_pair());
            assert_eq!(round_trip.len(), keys.len());
            assert!(round_trip.eq(keys));
            // Part-way through, too.
            expected.next();
            round_trip = DecodedKeys::from_pair({
                let mut rest = keys;
                rest.next();
                rest.into_pair()
            });
            assert!(round_trip.eq(expected));
        }
        assert_eq!(DecodedKeys::two(a, up).into_pair(), (Some(a), Some(up)));
        assert_eq!(DecodedKeys::none().into_pair(), (None, None));
    }
}
