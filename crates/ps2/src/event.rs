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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[must_use = "the events of a byte are lost unless they are read"]
pub struct Events {
    buf: [Event; Events::CAPACITY],
    start: u8,
    end: u8,
}

/// Fills unused slots; never yielded.
const FILLER: Event = Event::Response(Response::Ack);

impl Events {
    /// The most events one byte can produce: a resync report, then a key press and its
    /// synthesized release.
    pub const CAPACITY: usize = 3;

    /// No events.
    pub const fn none() -> Self {
        Events {
            buf: [FILLER; Self::CAPACITY],
            start: 0,
            end: 0,
        }
    }

    /// One event.
    pub const fn one(event: Event) -> Self {
        Events {
            buf: [event, FILLER, FILLER],
            start: 0,
            end: 1,
        }
    }

    /// Two events, in order.
    pub const fn two(first: Event, second: Event) -> Self {
        Events {
            buf: [first, second, FILLER],
            start: 0,
            end: 2,
        }
    }

    /// These events with `event` in front. Only used on sets of at most two events.
    pub(crate) const fn after(event: Event, rest: Events) -> Self {
        let mut buf = [event, FILLER, FILLER];
        let mut i = rest.start as usize;
        let mut out = 1;
        while i < rest.end as usize && out < Self::CAPACITY {
            buf[out] = rest.buf[i];
            out += 1;
            i += 1;
        }
        Events {
            buf,
            start: 0,
            end: out as u8,
        }
    }

    /// The events not yet iterated.
    pub fn as_slice(&self) -> &[Event] {
        &self.buf[self.start as usize..self.end as usize]
    }

    /// How many events are left.
    pub const fn len(&self) -> usize {
        (self.end - self.start) as usize
    }

    /// Whether no events are left.
    pub const fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl Iterator for Events {
    type Item = Event;

    #[inline]
    fn next(&mut self) -> Option<Event> {
        if self.start < self.end {
            let event = self.buf[self.start as usize];
            self.start += 1;
            Some(event)
        } else {
            None
        }
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
    const B: Event = Event::Key(KeyEvent::release(KeyCode::B));
    const R: Event = Event::Resync(Resync {
        discarded: 1,
        unexpected: 0x30,
    });

    #[test]
    fn events_iterate_in_order() {
        assert_eq!(Events::none().count(), 0);
        assert!(Events::one(A).eq([A]));
        assert!(Events::two(A, B).eq([A, B]));
        assert!(Events::after(R, Events::two(A, B)).eq([R, A, B]));
        assert!(Events::after(R, Events::none()).eq([R]));
        let mut events = Events::two(A, B);
        assert_eq!(events.len(), 2);
        assert_eq!(events.next(), Some(A));
        assert_eq!(events.as_slice(), &[B]);
        assert_eq!(events.next(), Some(B));
        assert!(events.is_empty());
        assert_eq!(events.next(), None);
    }

    #[test]
    fn event_key_accessor() {
        assert_eq!(A.key(), Some(KeyEvent::press(KeyCode::A)));
        assert_eq!(R.key(), None);
    }
}
