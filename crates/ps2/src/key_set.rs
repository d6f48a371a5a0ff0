//! [`KeySet`]: a set of keys as a 256-bit bitmap (32 bytes, `Copy`, `const`).

use crate::KeyCode;

/// A set of keys, one bit per possible [`KeyCode`] discriminant (32 bytes).
///
/// The decoder keeps the keys held down in one, to tell a typematic repeat from a new press.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::{KeyCode, KeySet};
///
/// let mut held = KeySet::new();
/// assert!(held.insert(KeyCode::LeftShift));
/// assert!(!held.insert(KeyCode::LeftShift)); // already there
/// assert!(held.contains(KeyCode::LeftShift));
/// assert_eq!(held.iter().collect::<Vec<_>>(), [KeyCode::LeftShift]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KeySet {
    bits: [u32; 8],
}

impl KeySet {
    /// The empty set.
    pub const fn new() -> Self {
        KeySet { bits: [0; 8] }
    }

    const fn slot(key: KeyCode) -> (usize, u32) {
        let index = key as u8;
        ((index >> 5) as usize, 1 << (index & 31))
    }

    /// Whether `key` is in the set.
    #[inline]
    pub const fn contains(&self, key: KeyCode) -> bool {
        let (word, bit) = Self::slot(key);
        self.bits[word] & bit != 0
    }

    /// Adds `key`; returns whether it was absent.
    #[inline]
    pub fn insert(&mut self, key: KeyCode) -> bool {
        let (word, bit) = Self::slot(key);
        let absent = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        absent
    }

    /// Removes `key`; returns whether it was present.
    #[inline]
    pub fn remove(&mut self, key: KeyCode) -> bool {
        let (word, bit) = Self::slot(key);
        let present = self.bits[word] & bit != 0;
        self.bits[word] &= !bit;
        present
    }

    /// Empties the set.
    pub fn clear(&mut self) {
        self.bits = [0; 8];
    }

    /// How many keys are in the set.
    pub const fn len(&self) -> usize {
        let mut n = 0;
        let mut i = 0;
        while i < 8 {
            n += self.bits[i].count_ones() as usize;
            i += 1;
        }
        n
    }

    /// Whether the set is empty.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The keys in the set, in discriminant order.
    pub fn iter(&self) -> impl Iterator<Item = KeyCode> + '_ {
        (0..=255u8).filter_map(move |i| {
            let key = KeyCode::from_index(i)?;
            self.contains(key).then_some(key)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_remove_len() {
        let mut set = KeySet::new();
        assert!(set.is_empty());
        for key in KeyCode::ALL {
            assert!(set.insert(key));
        }
        assert_eq!(set.len(), KeyCode::COUNT);
        assert!(set.iter().eq(KeyCode::ALL));
        for key in KeyCode::ALL {
            assert!(set.remove(key));
            assert!(!set.remove(key));
            assert!(!set.contains(key));
        }
        assert!(set.is_empty());
        set.insert(KeyCode::Break);
        set.clear();
        assert_eq!(set, KeySet::default());
    }

    #[test]
    fn size_is_32_bytes() {
        assert_eq!(core::mem::size_of::<KeySet>(), 32);
    }
}
