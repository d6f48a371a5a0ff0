//! The scancode decoder: bytes from the keyboard in, [`Event`]s out, one byte at a time.
//!
//! The decoder is pure and small (see [`Decoder`]): feed it each byte the interrupt handler
//! read from port 0x60, in order, and act on the events. It never panics and never waits for
//! more input; an unfinished sequence simply stays pending until its next byte arrives.
//!
//! # What it handles
//!
//! - Sets 1, 2 and 3, including `E0` keys, F13-F24, media and ACPI keys, the Japanese keys of
//!   set 1 (plain bytes) and the Korean keys, whose missing break code is synthesized.
//! - Pause (`E1 1D 45 E1 9D C5` / `E1 14 77 E1 F0 14 F0 77`): a press after the first half, a
//!   release after the second. Ctrl+Pause is [`KeyCode::Break`]; Alt+Print Screen is
//!   [`KeyCode::SysRq`].
//! - Fake shifts: keyboards wrap navigation keys and keypad `/` in `E0 2A` / `E0 AA` (set 1) or
//!   `E0 12` / `E0 F0 12` (set 2) and their right-shift twins. They are dropped without an event
//!   and without touching the key set, so the shift state never changes. In set 1 the fake
//!   right shift `E0 36` / `E0 B6` is also BassBoost's code: `E0 B6` is BassBoost's release
//!   only while BassBoost is held, and `E0 36` is fake while Right Shift is held or after a
//!   fake `E0 B6` (so the pair stays fake even if the Right Shift press was lost).
//! - Repeats: a make code for a key already held is a [`KeyKind::Repeat`], not a press.
//! - Protocol bytes come out as [`Response`]s. In set 1 three of them are also break codes
//!   (`0xAA` Left Shift, `0xFD` Yen, `0xFE` Keypad comma). The decoder reads them as a release
//!   only when that key is held and no reset is pending ([`Decoder::expect_bat`]), like Linux.
//! - Garbage: a byte that cannot continue the pending sequence drops it (reported as a
//!   [`Resync`]) and is decoded afresh, so the decoder is back in step at most four bytes after
//!   any error.
//!
//! # Examples
//!
//! ```
//! use irqkit_ps2::{Decoder, Event, KeyCode, KeyEvent, ScancodeSet};
//!
//! let mut decoder = Decoder::new(ScancodeSet::Set2);
//! let mut keys = Vec::new();
//! for byte in [0x12, 0x1C, 0xF0, 0x1C, 0xF0, 0x12] {
//!     keys.extend(decoder.feed(byte).filter_map(Event::key));
//! }
//! assert_eq!(keys, [
//!     KeyEvent::press(KeyCode::LeftShift),
//!     KeyEvent::press(KeyCode::A),
//!     KeyEvent::release(KeyCode::A),
//!     KeyEvent::release(KeyCode::LeftShift),
//! ]);
//! ```

use crate::event::{Event, Events, KeyEvent, KeyKind, Response, Resync, UnknownScancode};
use crate::keycode::{SET1, SET1_E0, SET2, SET2_E0, SET3};
use crate::{KeyCode, KeySet, ScancodeSet};

/// Where the decoder is inside a multi-byte sequence.
///
/// The first four states are the common ones, which the fast path's table covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
enum Pending {
    /// Between sequences.
    Idle = 0,
    /// Seen `F0` (sets 2 and 3).
    F0 = 1,
    /// Seen `E0`.
    E0 = 2,
    /// Seen `E0 F0` (set 2).
    E0F0 = 3,
    /// Seen `E1` (sets 1 and 2).
    E1,
    /// Set 1: seen `E1 1D` (Pause make).
    E1Make,
    /// Set 1: seen `E1 9D` (Pause break).
    E1Break,
    /// Set 2: seen `E1 14`.
    E1x14,
    /// Set 2: seen `E1 F0`.
    E1F0,
    /// Set 2: seen `E1 F0 14`.
    E1F0x14,
    /// Set 2: seen `E1 F0 14 F0`.
    E1F0x14F0,
}

impl Pending {
    /// How many bytes the pending sequence holds.
    const fn len(self) -> u8 {
        match self {
            Pending::Idle => 0,
            Pending::E0 | Pending::F0 | Pending::E1 => 1,
            Pending::E0F0 | Pending::E1Make | Pending::E1Break | Pending::E1x14 | Pending::E1F0 => {
                2
            }
            Pending::E1F0x14 => 3,
            Pending::E1F0x14F0 => 4,
        }
    }
}

/// How many [`Pending`] states the fast path covers.
const HOT_STATES: usize = 4;

/// What the fast path does with a byte: the common, simple cases of every set, precomputed
/// from the key tables. Everything else (responses, E1, ambiguous bytes, unknown codes, errors)
/// is `Slow` and goes through the full decoding functions.
#[derive(Clone, Copy)]
enum Step {
    /// Not a simple case.
    Slow,
    /// A make code of this key; the sequence is complete.
    Make(KeyCode),
    /// A break code of this key; the sequence is complete.
    Break(KeyCode),
    /// A prefix: wait for more.
    Wait(Pending),
    /// A fake shift: the sequence is complete and means nothing.
    Fake,
}

/// Indexed by set, hot state and byte.
static FAST: [[[Step; 256]; HOT_STATES]; 3] = build_fast_table();

const fn key_step(key: Option<KeyCode>, release: bool) -> Step {
    match key {
        Some(key) if release => Step::Break(key),
        Some(key) => Step::Make(key),
        None => Step::Slow,
    }
}

const fn build_fast_table() -> [[[Step; 256]; HOT_STATES]; 3] {
    use crate::keycode::consts::{SET1, SET1_E0, SET2, SET2_E0, SET3};
    const IDLE: usize = Pending::Idle as usize;
    const F0: usize = Pending::F0 as usize;
    const E0: usize = Pending::E0 as usize;
    const E0F0: usize = Pending::E0F0 as usize;
    let mut t = [[[Step::Slow; 256]; HOT_STATES]; 3];
    let mut i = 0;
    while i < 256 {
        let byte = i as u8;
        let code = (byte & 0x7F) as usize;
        let high = byte >= 0x80;
        // Set 1. Responses and prefixes (some of which are also breaks) take the slow path.
        t[0][IDLE][i] = match byte {
            0xE0 => Step::Wait(Pending::E0),
            _ if high && is_special(byte) => Step::Slow,
            _ => key_step(SET1[code], high),
        };
        t[0][E0][i] = match code {
            0x2A => Step::Fake,
            0x36 => Step::Slow, // fake right shift or BassBoost: depends on Right Shift
            _ => key_step(SET1_E0[code], high),
        };
        // Set 2.
        t[1][IDLE][i] = match byte {
            0xF0 => Step::Wait(Pending::F0),
            0xE0 => Step::Wait(Pending::E0),
            _ => key_step(SET2[i], false),
        };
        t[1][F0][i] = key_step(SET2[i], true);
        t[1][E0][i] = match byte {
            0xF0 => Step::Wait(Pending::E0F0),
            0x12 | 0x59 => Step::Fake,
            _ if high => Step::Slow,
            _ => key_step(SET2_E0[i], false),
        };
        t[1][E0F0][i] = match byte {
            0x12 | 0x59 => Step::Fake,
            _ if high => Step::Slow,
            _ => key_step(SET2_E0[i], true),
        };
        // Set 3 (no prefixes but F0).
        t[2][IDLE][i] = match byte {
            0xF0 => Step::Wait(Pending::F0),
            _ => key_step(SET3[i], false),
        };
        t[2][F0][i] = key_step(SET3[i], true);
        i += 1;
    }
    t
}

/// Bytes that are never a key in sets 2 and 3 (and never continue a set 1 `E0` sequence):
/// prefixes and responses.
const fn is_special(byte: u8) -> bool {
    matches!(
        byte,
        0x00 | 0xAA | 0xE0 | 0xE1 | 0xEE | 0xF0 | 0xF1 | 0xF2 | 0xFA | 0xFC | 0xFD | 0xFE | 0xFF
    )
}

/// A scancode decoder for one keyboard.
///
/// State: the set, the pending sequence, two flags and the held keys (a 32-byte [`KeySet`]):
/// 36 bytes, `Copy`, built by a `const fn`, so it can live in a `static`.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::{Decoder, Event, Response, ScancodeSet};
///
/// static mut _DECODER: Decoder = Decoder::new(ScancodeSet::Set1); // const-constructible
///
/// let mut decoder = Decoder::new(ScancodeSet::Set1);
/// decoder.expect_bat(); // the driver just sent the reset command (0xFF)
/// assert!(decoder.feed(0xFA).eq([Event::Response(Response::Ack)]));
/// assert!(decoder.feed(0xAA).eq([Event::Response(Response::BatOk)]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Decoder {
    set: ScancodeSet,
    pending: Pending,
    expecting_bat: bool,
    /// Set 1: an `E0 B6` was taken for a fake right shift release, so the `E0 36` that
    /// closes the pair is fake too (even if the Right Shift press itself was lost).
    fake_right_shift_up: bool,
    held: KeySet,
}

impl Decoder {
    /// A decoder for `set` with no key held.
    pub const fn new(set: ScancodeSet) -> Self {
        Decoder {
            set,
            pending: Pending::Idle,
            expecting_bat: false,
            fake_right_shift_up: false,
            held: KeySet::new(),
        }
    }

    /// The set being decoded.
    pub const fn set(&self) -> ScancodeSet {
        self.set
    }

    /// Switches to `set` (after the keyboard was told to change sets), dropping any unfinished
    /// sequence and forgetting held keys, since the keyboard does too.
    pub fn set_set(&mut self, set: ScancodeSet) {
        *self = Decoder {
            expecting_bat: self.expecting_bat,
            ..Decoder::new(set)
        };
    }

    /// Forgets the pending sequence, the held keys and any expected BAT.
    pub fn reset(&mut self) {
        *self = Decoder::new(self.set);
    }

    /// Tells the decoder a reset command was sent, so the next `0xAA` is the self-test result
    /// even in set 1, where it is also the Left Shift break. Cleared by the BAT byte.
    ///
    /// Without it, a set 1 `0xAA` is a Left Shift release when Left Shift is held and a BAT
    /// otherwise (a hot-plugged keyboard), which is the rule Linux uses.
    pub fn expect_bat(&mut self) {
        self.expecting_bat = true;
    }

    /// Whether a BAT byte is expected (see [`Decoder::expect_bat`]).
    pub const fn is_expecting_bat(&self) -> bool {
        self.expecting_bat
    }

    /// Whether no sequence is unfinished.
    pub const fn is_idle(&self) -> bool {
        matches!(self.pending, Pending::Idle)
    }

    /// How many bytes of an unfinished sequence are held (0 to 4).
    pub const fn pending_len(&self) -> u8 {
        self.pending.len()
    }

    /// The keys currently held down, as far as the decoder has seen.
    pub const fn held(&self) -> &KeySet {
        &self.held
    }

    /// Whether `key` is held down.
    pub const fn is_held(&self, key: KeyCode) -> bool {
        self.held.contains(key)
    }

    /// Decodes one byte from the keyboard.
    ///
    /// Returns the events it completes (usually none or one; see [`Events`]).
    #[inline]
    pub fn feed(&mut self, byte: u8) -> Events {
        let pending = self.pending as usize;
        if pending < HOT_STATES {
            match FAST[self.set as usize][pending][byte as usize] {
                Step::Make(key) => {
                    self.pending = Pending::Idle;
                    return self.make(key);
                }
                Step::Break(key) => {
                    self.pending = Pending::Idle;
                    return self.brk(key);
                }
                Step::Wait(next) => return self.wait(next),
                Step::Fake => {
                    self.pending = Pending::Idle;
                    return Events::none();
                }
                Step::Slow => {}
            }
        }
        self.feed_slow(byte)
    }

    /// Everything the fast path's table does not cover.
    #[inline(never)]
    fn feed_slow(&mut self, byte: u8) -> Events {
        match self.set {
            ScancodeSet::Set1 => self.feed_set1(byte),
            ScancodeSet::Set2 => self.feed_set2(byte),
            ScancodeSet::Set3 => self.feed_set3(byte),
        }
    }

    // ---- shared helpers -------------------------------------------------------------------

    #[inline]
    fn make(&mut self, key: KeyCode) -> Events {
        let kind = if self.held.insert(key) {
            KeyKind::Press
        } else {
            KeyKind::Repeat
        };
        Events::one(Event::Key(KeyEvent { code: key, kind }))
    }

    #[inline]
    fn brk(&mut self, key: KeyCode) -> Events {
        self.held.remove(key);
        Events::one(Event::Key(KeyEvent::release(key)))
    }

    fn make_only(key: KeyCode) -> Events {
        Events::press_release(key)
    }

    fn unknown(extended: bool, code: u8, release: bool) -> Events {
        Events::one(Event::Unknown(UnknownScancode {
            extended,
            code,
            release,
        }))
    }

    fn response(response: Response) -> Events {
        Events::one(Event::Response(response))
    }

    fn bat(&mut self, response: Response) -> Events {
        // The keyboard reset itself: nothing is held any more.
        self.expecting_bat = false;
        self.held.clear();
        Self::response(response)
    }

    /// Drops the pending sequence because `byte` does not continue it, then decodes `byte`
    /// from scratch.
    #[cold]
    fn resync(&mut self, byte: u8) -> Events {
        let discarded = self.pending.len();
        self.pending = Pending::Idle;
        let rest = match self.set {
            ScancodeSet::Set1 => self.set1_idle(byte),
            ScancodeSet::Set2 => self.set2_idle(byte),
            ScancodeSet::Set3 => self.set3_idle(byte),
        };
        Events::after(
            Event::Resync(Resync {
                discarded,
                unexpected: byte,
            }),
            rest,
        )
    }

    /// The byte at the start of a sequence, common to all sets (prefixes excluded).
    fn response_byte(&mut self, byte: u8) -> Events {
        match byte {
            0xFA => Self::response(Response::Ack),
            0xFE => Self::response(Response::Resend),
            0xEE => Self::response(Response::Echo),
            0xAA => self.bat(Response::BatOk),
            0xFC | 0xFD => self.bat(Response::BatFailed { code: byte }),
            _ => Self::response(Response::Overrun { code: byte }),
        }
    }

    // ---- set 1 ------------------------------------------------------------------------------

    #[inline]
    fn feed_set1(&mut self, byte: u8) -> Events {
        match self.pending {
            Pending::Idle => self.set1_idle(byte),
            Pending::E0 => self.set1_e0(byte),
            Pending::E1 => match byte {
                0x1D => self.wait(Pending::E1Make),
                0x9D => self.wait(Pending::E1Break),
                _ => self.resync(byte),
            },
            Pending::E1Make if byte == 0x45 => self.finish_make(KeyCode::Pause),
            Pending::E1Break if byte == 0xC5 => self.finish_break(KeyCode::Pause),
            _ => self.resync(byte),
        }
    }

    fn wait(&mut self, pending: Pending) -> Events {
        self.pending = pending;
        Events::none()
    }

    fn finish_make(&mut self, key: KeyCode) -> Events {
        self.pending = Pending::Idle;
        self.make(key)
    }

    fn finish_break(&mut self, key: KeyCode) -> Events {
        self.pending = Pending::Idle;
        self.brk(key)
    }

    #[inline]
    fn set1_idle(&mut self, byte: u8) -> Events {
        if byte < 0x80 {
            if let Some(key) = SET1[byte as usize] {
                return self.make(key);
            }
            if byte == 0x00 {
                return Self::response(Response::Overrun { code: byte });
            }
            return Self::unknown(false, byte, false);
        }
        match byte {
            0xE0 => self.wait(Pending::E0),
            0xE1 => self.wait(Pending::E1),
            0xF1 => Self::make_only(KeyCode::Hanja),
            0xF2 => Self::make_only(KeyCode::Hangul),
            // Both a response and a break code: a break only while that key is held and no
            // reset is pending.
            0xAA | 0xFD | 0xFE
                if !self.expecting_bat
                    && SET1[(byte & 0x7F) as usize].is_some_and(|k| self.held.contains(k)) =>
            {
                self.set1_break(byte)
            }
            0xAA | 0xEE | 0xFA | 0xFC | 0xFD | 0xFE | 0xFF => self.response_byte(byte),
            _ => self.set1_break(byte),
        }
    }

    #[inline]
    fn set1_break(&mut self, byte: u8) -> Events {
        match SET1[(byte & 0x7F) as usize] {
            Some(key) => self.brk(key),
            None => Self::unknown(false, byte & 0x7F, true),
        }
    }

    fn set1_e0(&mut self, byte: u8) -> Events {
        let code = byte & 0x7F;
        let release = byte & 0x80 != 0;
        // Fake shifts: E0 2A / E0 AA always. E0 36 / E0 B6 share their code with BassBoost:
        // E0 B6 is BassBoost's release only while BassBoost is held, and E0 36 is a fake while
        // Right Shift is held or after a fake E0 B6 (the keyboard sends them in pairs).
        let fake = match (code, release) {
            (0x2A, _) => true,
            (0x36, true) if !self.held.contains(KeyCode::BassBoost) => {
                self.fake_right_shift_up = true;
                true
            }
            (0x36, false)
                if self.fake_right_shift_up || self.held.contains(KeyCode::RightShift) =>
            {
                self.fake_right_shift_up = false;
                true
            }
            _ => false,
        };
        if fake {
            self.pending = Pending::Idle;
            return Events::none();
        }
        match SET1_E0[code as usize] {
            Some(key) => {
                self.pending = Pending::Idle;
                if release {
                    self.brk(key)
                } else {
                    self.make(key)
                }
            }
            None if is_special(byte) => self.resync(byte),
            None => {
                self.pending = Pending::Idle;
                Self::unknown(true, code, release)
            }
        }
    }

    // ---- set 2 ------------------------------------------------------------------------------

    #[inline]
    fn feed_set2(&mut self, byte: u8) -> Events {
        match self.pending {
            Pending::Idle => self.set2_idle(byte),
            Pending::F0 => {
                if let Some(key) = SET2[byte as usize] {
                    self.finish_break(key)
                } else if is_special(byte) {
                    self.resync(byte)
                } else {
                    self.pending = Pending::Idle;
                    Self::unknown(false, byte, true)
                }
            }
            Pending::E0 => match byte {
                0xF0 => self.wait(Pending::E0F0),
                _ => self.set2_e0(byte, false),
            },
            Pending::E0F0 => self.set2_e0(byte, true),
            Pending::E1 => match byte {
                0x14 => self.wait(Pending::E1x14),
                0xF0 => self.wait(Pending::E1F0),
                _ => self.resync(byte),
            },
            Pending::E1x14 if byte == 0x77 => self.finish_make(KeyCode::Pause),
            Pending::E1F0 if byte == 0x14 => self.wait(Pending::E1F0x14),
            Pending::E1F0x14 if byte == 0xF0 => self.wait(Pending::E1F0x14F0),
            Pending::E1F0x14F0 if byte == 0x77 => self.finish_break(KeyCode::Pause),
            _ => self.resync(byte),
        }
    }

    #[inline]
    fn set2_idle(&mut self, byte: u8) -> Events {
        if let Some(key) = SET2[byte as usize] {
            return self.make(key);
        }
        match byte {
            0xF0 => self.wait(Pending::F0),
            0xE0 => self.wait(Pending::E0),
            0xE1 => self.wait(Pending::E1),
            0xF1 => Self::make_only(KeyCode::Hanja),
            0xF2 => Self::make_only(KeyCode::Hangul),
            _ if is_special(byte) => self.response_byte(byte),
            _ => Self::unknown(false, byte, false),
        }
    }

    fn set2_e0(&mut self, byte: u8, release: bool) -> Events {
        if byte >= 0x80 || byte == 0x00 {
            return self.resync(byte);
        }
        self.pending = Pending::Idle;
        match SET2_E0[byte as usize] {
            Some(key) if release => self.brk(key),
            Some(key) => self.make(key),
            // Fake shifts (left and right): no event, no state change.
            None if byte == 0x12 || byte == 0x59 => Events::none(),
            None => Self::unknown(true, byte, release),
        }
    }

    // ---- set 3 ------------------------------------------------------------------------------

    #[inline]
    fn feed_set3(&mut self, byte: u8) -> Events {
        match self.pending {
            Pending::F0 => {
                if let Some(key) = SET3[byte as usize] {
                    self.finish_break(key)
                } else if is_special(byte) {
                    self.resync(byte)
                } else {
                    self.pending = Pending::Idle;
                    Self::unknown(false, byte, true)
                }
            }
            // Set 3 has no other prefix, so anything else is idle.
            _ => self.set3_idle(byte),
        }
    }

    #[inline]
    fn set3_idle(&mut self, byte: u8) -> Events {
        if let Some(key) = SET3[byte as usize] {
            return self.make(key);
        }
        match byte {
            0xF0 => self.wait(Pending::F0),
            0x00 | 0xAA | 0xEE | 0xFA | 0xFC | 0xFD | 0xFE | 0xFF => self.response_byte(byte),
            _ => Self::unknown(false, byte, false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_small() {
        assert!(
            core::mem::size_of::<Decoder>() <= 36,
            "{}",
            core::mem::size_of::<Decoder>()
        );
    }

    #[test]
    fn special_bytes_are_never_keys_in_sets_2_and_3() {
        for byte in 0..=255u8 {
            if is_special(byte) {
                assert_eq!(SET2[byte as usize], None, "{byte:#x}");
                assert_eq!(SET3[byte as usize], None, "{byte:#x}");
            }
        }
    }

    #[test]
    fn set1_response_bytes_that_are_also_breaks() {
        // Every set 1 byte >= 0x80 that is a response or prefix, and the key whose break it is.
        let shared: [(u8, Option<KeyCode>); 10] = [
            (0xAA, Some(KeyCode::LeftShift)),
            (0xE0, None),
            (0xE1, None),
            (0xEE, None),
            (0xF1, None),
            (0xF2, None),
            (0xFA, None),
            (0xFC, None),
            (0xFD, Some(KeyCode::IntlYen)),
            (0xFE, Some(KeyCode::NumpadComma)),
        ];
        for (byte, key) in shared {
            assert_eq!(SET1[(byte & 0x7F) as usize], key, "{byte:#x}");
        }
        assert_eq!(SET1[0x7F], None); // 0xFF overrun
        assert_eq!(SET1[0x00], None); // 0x00 overrun
    }

    #[test]
    fn set1_prefixes_after_e0_are_not_keys() {
        // `E0 E0` and `E0 E1` must restart the sequence, so no key may be `E0 60` / `E0 61`.
        assert_eq!(SET1_E0[0x60], None);
        assert_eq!(SET1_E0[0x61], None);
        // The fake shifts: E0 2A is free, E0 36 is shared with BassBoost.
        assert_eq!(SET1_E0[0x2A], None);
        assert_eq!(SET1_E0[0x36], Some(KeyCode::BassBoost));
        assert_eq!(SET2_E0[0x12], None);
        assert_eq!(SET2_E0[0x59], None);
    }
}
