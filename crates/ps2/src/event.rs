//! What the decoder reports: key events, keyboard responses, unknown codes and resyncs.

use crate::KeyCode;

/// What happened to a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum KeyKind {
    /// The key went down.
    Press,
    /// The key came up.
    Release,
    /// The key is held and the keyboard repeated its make code (typematic repeat). Lock keys
    /// must not toggle on a repeat.
    Repeat,
}

/// A key going down, coming up or repeating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KeyEvent {
    /// Which key.
    pub code: KeyCode,
    /// What happened to it.
    pub kind: KeyKind,
}

impl KeyEvent {
    /// A press of `code`.
    pub const fn press(code: KeyCode) -> Self {
        KeyEvent {
            code,
            kind: KeyKind::Press,
        }
    }

    /// A release of `code`.
    pub const fn release(code: KeyCode) -> Self {
        KeyEvent {
            code,
            kind: KeyKind::Release,
        }
    }

    /// A typematic repeat of `code`.
    pub const fn repeat(code: KeyCode) -> Self {
        KeyEvent {
            code,
            kind: KeyKind::Repeat,
        }
    }
}

/// A byte the keyboard sends about the protocol rather than about a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Response {
    /// `0xFA`: the last command or data byte was accepted.
    Ack,
    /// `0xFE`: the keyboard wants the last byte again.
    Resend,
    /// `0xEE`: the answer to the echo command.
    Echo,
    /// `0xAA`: the power-on / reset self-test (BAT) passed. The keyboard forgot every held key.
    BatOk,
    /// `0xFC` or `0xFD`: the self-test failed.
    BatFailed {
        /// The byte the keyboard sent.
        code: u8,
    },
    /// `0x00` (sets 2 and 3) or `0xFF` (set 1): key detection error or buffer overrun; key
    /// events were lost.
    Overrun {
        /// The byte the keyboard sent.
        code: u8,
    },
}

/// A well-formed scancode that no key in the tables has (a vendor key, or a code of another
/// set).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UnknownScancode {
    /// Whether it came after an `E0` prefix.
    pub extended: bool,
    /// The make code (in set 1 without the 0x80 break bit).
    pub code: u8,
    /// Whether it was a break (release).
    pub release: bool,
}

/// The decoder dropped an unfinished sequence because a byte did not fit it.
///
/// The byte that did not fit (`unexpected`) is then decoded afresh, so a resync costs only the
/// `discarded` prefix bytes. Causes: a lost byte, line noise, or a response byte arriving in
/// the middle of a scancode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Resync {
    /// How many bytes of the unfinished sequence were dropped (1 to 4).
    pub discarded: u8,
    /// The byte that did not continue the sequence.
    pub unexpected: u8,
}

/// One thing the decoder found in the byte stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Event {
    /// A key event.
    Key(KeyEvent),
    /// A protocol response (ACK, RESEND, ECHO, BAT, overrun).
    Response(Response),
    /// A complete scancode of no known key.
    Unknown(UnknownScancode),
    /// An unfinished sequence was dropped.
    Resync(Resync),
}

impl Event {
    /// The key event, if this is one.
    pub const fn key(self) -> Option<KeyEvent> {
        match self {
            Event::Key(key) => Some(key),
            _ => None,
        }
    }
}

/// The events one byte produced: none, one, or a few (at most [`Events::CAPACITY`]).
///
/// Most bytes produce zero or one event. More come from keys with no break code (Hangul and
/// Hanja give a press and a synthesized release) and from a resync (the report, then what the
/// unexpected byte decodes to). Iterate it to get them all; nothing is kept for later.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::{Decoder, Event, KeyCode, KeyEvent, ScancodeSet};
///
/// let mut decoder = Decoder::new(ScancodeSet::Set1);
/// let events: Vec<Event> = decoder.feed(0xF2).collect(); // Hangul: no break code
/// assert_eq!(
///     events,
///     [Event::Key(KeyEvent::press(KeyCode::Hangul)), Event::Key(KeyEvent::release(KeyCode::Hangul))]
/// );
/// ```
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "the events of a byte are lost unless they are read"]
pub struct Events {
    // Seven bytes, so the whole value travels in one register on the hot path. Three events
    // fit because the only three-event case is a resync followed by a key with no break code:
    // `len == 3` means the third event is the release of `second`'s key.
    first: Event,
    second: Event,
    len: u8,
}

/// Fills unused slots; never yielded.
const FILLER: Event = Event::Response(Response::Ack);

impl Events {
    /// The most events one byte can produce: a resync report, then a key press and its
    /// synthesized release.
    pub const CAPACITY: usize = 3;

    /// No events.
    pub(crate) const fn none() -> Self {
        Events {
            first: FILLER,
            second: FILLER,
            len: 0,
        }
    }

    /// One event.
    pub(crate) const fn one(event: Event) -> Self {
        Events {
            first: event,
            second: FILLER,
            len: 1,
        }
    }

    /// A press of a key with no break code and its synthesized release.
    pub(crate) const fn press_release(key: KeyCode) -> Self {
        Events {
            first: Event::Key(KeyEvent::press(key)),
            second: Event::Key(KeyEvent::release(key)),
            len: 2,
        }
    }

    /// A resync report followed by what the unexpected byte decoded to.
    pub(crate) const fn after(event: Event, rest: Events) -> Self {
        // Two events in `rest` are always a press and its release (`press_release`), which
        // `len == 3` encodes.
        Events {
            first: event,
            second: rest.first,
            len: rest.len + 1,
        }
    }

    /// Appends a non-key event (a byte completes at most two: a resync report and a response
    /// or unknown scancode). A third is dropped, which cannot happen.
    pub(crate) fn push(&mut self, event: Event) {
        match self.len {
            0 => self.first = event,
            1 => self.second = event,
            _ => return,
        }
        self.len += 1;
    }

    /// The events not yet iterated, in order (unused slots hold `None`).
    pub const fn to_array(&self) -> [Option<Event>; Self::CAPACITY] {
        [
            if self.len > 0 { Some(self.first) } else { None },
            if self.len > 1 {
                Some(self.second)
            } else {
                None
            },
            if self.len > 2 {
                Some(release_of(self.second))
            } else {
                None
            },
        ]
    }

    /// How many events are left.
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no events are left.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// No events.
impl Default for Events {
    fn default() -> Self {
        Events::none()
    }
}

/// Equal when the events left to iterate are equal (slots past the end do not count).
impl PartialEq for Events {
    fn eq(&self, other: &Self) -> bool {
        self.to_array() == other.to_array()
    }
}

impl Eq for Events {}

/// The release of the key of a key event (other events are returned as they are).
const fn release_of(event: Event) -> Event {
    match event {
        Event::Key(key) => Event::Key(KeyEvent::release(key.code)),
        other => other,
    }
}

impl Iterator for Events {
    type Item = Event;

    #[inline]
    fn next(&mut self) -> Option<Event> {
        if self.len == 0 {
            return None;
        }
        let event = self.first;
        self.first = self.second;
        if self.len == 3 {
            self.second = release_of(self.second);
        }
        self.len -= 1;
        Some(event)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.len(), Some(self.len()))
    }
}

impl ExactSizeIterator for Events {}

impl core::iter::FusedIterator for Events {}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Event = Event::Key(KeyEvent::press(KeyCode::A));
    const R: Event = Event::Resync(Resync {
        discarded: 1,
        unexpected: 0x30,
    });

    #[test]
    fn events_iterate_in_order() {
        assert_eq!(Events::none().count(), 0);
        assert!(Events::one(A).eq([A]));
        let hangul = Events::press_release(KeyCode::Hangul);
        let (p, r) = (
            Event::Key(KeyEvent::press(KeyCode::Hangul)),
            Event::Key(KeyEvent::release(KeyCode::Hangul)),
        );
        assert!(hangul.eq([p, r]));
        assert!(Events::after(R, hangul).eq([R, p, r]));
        assert_eq!(
            Events::after(R, hangul).to_array(),
            [Some(R), Some(p), Some(r)]
        );
        assert!(Events::after(R, Events::none()).eq([R]));
        assert!(Events::after(R, Events::one(A)).eq([R, A]));
        let mut events = hangul;
        assert_eq!(events.len(), 2);
        assert_eq!(events.next(), Some(p));
        assert_eq!(events.to_array(), [Some(r), None, None]);
        assert_eq!(events.next(), Some(r));
        assert_eq!(events, Events::none(), "stale slots do not count");
        assert!(events.is_empty());
        assert_eq!(events.next(), None);
    }

    #[test]
    fn event_key_accessor() {
        assert_eq!(A.key(), Some(KeyEvent::press(KeyCode::A)));
        assert_eq!(R.key(), None);
    }
}
