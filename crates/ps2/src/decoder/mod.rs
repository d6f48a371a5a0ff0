//! The scancode decoder: bytes from the keyboard in, [`Event`]s out, one byte at a time.

mod fast;
mod set1;
mod set2;
mod set3;

use crate::event::{Event, Events, KeyEvent, KeyKind, Response, Resync, UnknownScancode};
use crate::{KeyCode, KeySet, ScancodeSet};
use fast::{hot_state, row_of, Row, Step, FAST, IDLE};

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

/// A scancode decoder for one keyboard.
///
/// State: the set, the pending sequence (and its row in the fast path's table), two flags and
/// the held keys (a 32-byte [`KeySet`]):
/// 36 bytes, `Copy`, built by a `const fn`, so it can live in a `static`.
///
/// The decoder is pure and small (see [`Decoder`]): feed it each byte the interrupt handler
/// read from port 0x60, in order, and act on the events. It never panics and never waits for
/// more input; an unfinished sequence simply stays pending until its next byte arrives.
///
/// # What it handles
///
/// - Sets 1, 2 and 3, including `E0` keys, F13-F24, media and ACPI keys, the Japanese keys of
///   set 1 (plain bytes) and the Korean keys, whose missing break code is synthesized.
/// - Pause (`E1 1D 45 E1 9D C5` / `E1 14 77 E1 F0 14 F0 77`): a press after the first half, a
///   release after the second. Ctrl+Pause is [`KeyCode::Break`]; Alt+Print Screen is
///   [`KeyCode::SysRq`].
/// - Fake shifts: keyboards wrap navigation keys and keypad `/` in `E0 2A` / `E0 AA` (set 1) or
///   `E0 12` / `E0 F0 12` (set 2) and their right-shift twins. They are dropped without an event
///   and without touching the key set, so the shift state never changes. In set 1 the fake
///   right shift `E0 36` / `E0 B6` is also BassBoost's code: `E0 B6` is BassBoost's release
///   only while BassBoost is held, and `E0 36` is fake while Right Shift is held or after a
///   fake `E0 B6` (so the pair stays fake even if the Right Shift press was lost).
/// - Repeats: a make code for a key already held is a [`KeyKind::Repeat`], not a press.
/// - Protocol bytes come out as [`Response`]s. In set 1 three of them are also break codes
///   (`0xAA` Left Shift, `0xFD` Yen, `0xFE` Keypad comma). The decoder reads them as a release
///   only when that key is held and no reset is pending ([`Decoder::expect_bat`]), like Linux.
/// - Garbage: a byte that cannot continue the pending sequence drops it (reported as a
///   [`Resync`]) and is decoded afresh, so the decoder is back in step at most four bytes after
///   any error.
///
/// # Example: set 2
///
/// ```
/// use irqkit_ps2::{Decoder, Event, KeyCode, KeyEvent, ScancodeSet};
///
/// let mut decoder = Decoder::new(ScancodeSet::Set2);
/// let mut keys = Vec::new();
/// for byte in [0x12, 0x1C, 0xF0, 0x1C, 0xF0, 0x12] {
///     keys.extend(decoder.feed(byte).filter_map(Event::key));
/// }
/// assert_eq!(keys, [
///     KeyEvent::press(KeyCode::LeftShift),
///     KeyEvent::press(KeyCode::A),
///     KeyEvent::release(KeyCode::A),
///     KeyEvent::release(KeyCode::LeftShift),
/// ]);
/// ```
///
/// # Example: responses and the reset
///
/// ```
/// use irqkit_ps2::{Decoder, Event, Response, ScancodeSet};
///
/// const _DECODER: Decoder = Decoder::new(ScancodeSet::Set1); // usable in a `static`
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
    /// The pending state if the fast path's table has no row for it, else `Idle` (the row
    /// says which state it is): see [`Decoder::pending`].
    cold: Pending,
    /// The fast path's table row for `set` and the pending state (see [`row_of`]), so that
    /// the hot path reads one byte to find its row and writes one to change state.
    row: Row,
    /// [`EXPECTING_BAT`] and [`FAKE_RIGHT_SHIFT_UP`].
    flags: u8,
    held: KeySet,
}

/// A reset command was sent: the next `0xAA` is the self-test result.
const EXPECTING_BAT: u8 = 1;
/// Set 1: an `E0 B6` was taken for a fake right shift release, so the `E0 36` that closes the
/// pair is fake too (even if the Right Shift press itself was lost).
const FAKE_RIGHT_SHIFT_UP: u8 = 2;

impl Decoder {
    /// A decoder for `set` with no key held.
    pub const fn new(set: ScancodeSet) -> Self {
        Decoder {
            set,
            cold: Pending::Idle,
            row: row_of(set, Pending::Idle),
            flags: 0,
            held: KeySet::new(),
        }
    }

    /// Enters `pending` (and the fast path's row for it).
    #[inline(always)]
    fn set_pending(&mut self, pending: Pending) {
        self.row = row_of(self.set, pending);
        self.cold = match hot_state(self.row) {
            Some(_) => Pending::Idle,
            None => pending,
        };
    }

    /// Where the decoder is inside a multi-byte sequence.
    #[inline(always)]
    const fn pending(&self) -> Pending {
        match hot_state(self.row) {
            Some(pending) => pending,
            None => self.cold,
        }
    }

    const fn flag(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    fn set_flag(&mut self, flag: u8, on: bool) {
        if on {
            self.flags |= flag;
        } else {
            self.flags &= !flag;
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
            flags: self.flags & EXPECTING_BAT,
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
        self.set_flag(EXPECTING_BAT, true);
    }

    /// Whether a BAT byte is expected (see [`Decoder::expect_bat`]).
    pub const fn is_expecting_bat(&self) -> bool {
        self.flag(EXPECTING_BAT)
    }

    /// Whether no sequence is unfinished.
    pub const fn is_idle(&self) -> bool {
        matches!(self.pending(), Pending::Idle)
    }

    /// How many bytes of an unfinished sequence are held (0 to 4).
    pub const fn pending_len(&self) -> u8 {
        self.pending().len()
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
        /// Every event goes into the returned value.
        struct Collect;
        impl Sink for Collect {
            type Output = Events;
            #[inline(always)]
            fn key(self, key: KeyEvent) -> Events {
                Events::one(Event::Key(key))
            }
            #[inline(always)]
            fn state_key(self, key: KeyEvent) -> Events {
                Events::one(Event::Key(key))
            }
            #[inline(always)]
            fn slow(self, events: Events) -> Events {
                events
            }
        }
        self.feed_into(byte, Collect)
    }

    /// The fast path saw a prefix: `next` is the row of a hot state of the same set (`cold`
    /// stays `Idle`).
    #[inline(always)]
    fn wait_fast(&mut self, next: Row) {
        self.row = next;
    }

    /// The fast path completed a sequence: back to idle (`cold` stays `Idle`).
    #[inline(always)]
    fn finish_fast(&mut self) {
        self.row = IDLE[self.set as usize];
    }

    /// Decodes one byte from the keyboard and calls `on_event` with each event it completes,
    /// in order: the same events as [`Decoder::feed`], handed over one by one instead of in
    /// an [`Events`] value, so that a caller doing little with each event does not pay for
    /// building and iterating one.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_ps2::{Decoder, Event, KeyCode, KeyEvent, ScancodeSet};
    ///
    /// let mut decoder = Decoder::new(ScancodeSet::Set1);
    /// let mut keys = Vec::new();
    /// for byte in [0x1E, 0x1E, 0x9E] {
    ///     decoder.feed_with(byte, |event| keys.extend(event.key()));
    /// }
    /// assert_eq!(keys, [
    ///     KeyEvent::press(KeyCode::A),
    ///     KeyEvent::repeat(KeyCode::A),
    ///     KeyEvent::release(KeyCode::A),
    /// ]);
    /// ```
    #[inline]
    pub fn feed_with(&mut self, byte: u8, on_event: impl FnMut(Event)) {
        /// Every event goes to the one closure.
        struct All<F>(F);
        impl<F: FnMut(Event)> Sink for All<F> {
            type Output = ();
            #[inline(always)]
            fn key(mut self, key: KeyEvent) {
                (self.0)(Event::Key(key))
            }
            #[inline(always)]
            fn state_key(mut self, key: KeyEvent) {
                (self.0)(Event::Key(key))
            }
            #[inline(always)]
            fn slow(self, events: Events) {
                events.for_each(self.0)
            }
        }
        self.feed_into(byte, All(on_event));
    }

    /// The decoding both entry points share: the fast path's table, then the full decoding
    /// functions for everything it does not cover. Each event goes to `sink` as it completes.
    #[inline(always)]
    pub(crate) fn feed_into<S: Sink>(&mut self, byte: u8, sink: S) -> S::Output {
        match FAST[self.row as usize][byte as usize] {
            Step::Make(code) => {
                self.finish_fast();
                let kind = self.make_kind(code);
                sink.key(KeyEvent { code, kind })
            }
            Step::Break(code) => {
                self.finish_fast();
                self.held.remove(code);
                sink.key(KeyEvent::release(code))
            }
            Step::MakeState(code) => {
                self.finish_fast();
                let kind = self.make_kind(code);
                sink.state_key(KeyEvent { code, kind })
            }
            Step::BreakState(code) => {
                self.finish_fast();
                self.held.remove(code);
                sink.state_key(KeyEvent::release(code))
            }
            Step::Wait(next) => {
                self.wait_fast(next);
                S::Output::default()
            }
            Step::Fake => {
                self.finish_fast();
                S::Output::default()
            }
            Step::Slow => sink.slow(self.feed_slow(byte)),
        }
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
}

/// Where [`Decoder::feed_into`] delivers what one byte decodes to (one call, so by value): key events of ordinary
/// keys and of modifier and lock keys apart, so that a keyboard fed straight from the decoder
/// knows which keys need its state without looking them up; and the [`Events`] of the bytes
/// the fast path leaves to the full decoder.
pub(crate) trait Sink {
    /// What the sink returns for one byte.
    type Output: Default;
    /// A key event of a key that is neither a modifier nor a lock.
    fn key(self, key: KeyEvent) -> Self::Output;
    /// A key event of a modifier or lock key.
    fn state_key(self, key: KeyEvent) -> Self::Output;
    /// The events of a byte the fast path does not cover.
    fn slow(self, events: Events) -> Self::Output;
}

/// What every set shares: key and response events, resynchronisation, sequence state.
impl Decoder {
    #[inline]
    fn make(&mut self, key: KeyCode) -> Events {
        let kind = self.make_kind(key);
        Events::one(Event::Key(KeyEvent { code: key, kind }))
    }

    /// A make code of `key`: a press if it was up, a repeat if it was held.
    #[inline(always)]
    fn make_kind(&mut self, key: KeyCode) -> KeyKind {
        if self.held.insert(key) {
            KeyKind::Press
        } else {
            KeyKind::Repeat
        }
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
        self.set_flag(EXPECTING_BAT, false);
        self.held.clear();
        Self::response(response)
    }

    /// Drops the pending sequence because `byte` does not continue it, then decodes `byte`
    /// from scratch.
    #[cold]
    fn resync(&mut self, byte: u8) -> Events {
        let discarded = self.pending().len();
        self.set_pending(Pending::Idle);
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

    fn wait(&mut self, pending: Pending) -> Events {
        self.set_pending(pending);
        Events::none()
    }

    fn finish_make(&mut self, key: KeyCode) -> Events {
        self.set_pending(Pending::Idle);
        self.make(key)
    }

    fn finish_break(&mut self, key: KeyCode) -> Events {
        self.set_pending(Pending::Idle);
        self.brk(key)
    }
}

#[cfg(test)]
mod tests {
    use super::fast::is_special;
    use super::*;
    use crate::keycode::{SET1, SET1_E0, SET2, SET2_E0, SET3};

    #[test]
    fn state_is_small() {
        assert!(
            core::mem::size_of::<Decoder>() <= 36,
            "{}",
            core::mem::size_of::<Decoder>()
        );
    }

    #[test]
    fn fast_table_rows_follow_the_states() {
        let sets = [ScancodeSet::Set1, ScancodeSet::Set2, ScancodeSet::Set3];
        let hot = [Pending::Idle, Pending::F0, Pending::E0, Pending::E0F0];
        let cold = [
            Pending::E1,
            Pending::E1Make,
            Pending::E1Break,
            Pending::E1x14,
            Pending::E1F0,
            Pending::E1F0x14,
            Pending::E1F0x14F0,
        ];
        for set in sets {
            for pending in hot {
                let row = row_of(set, pending);
                assert_eq!(hot_state(row), Some(pending));
                assert_eq!(IDLE[set as usize], row_of(set, Pending::Idle));
                for byte in 0..=255u8 {
                    match FAST[row as usize][byte as usize] {
                        // A wait stays in the set's hot rows, as `wait_fast` assumes.
                        Step::Wait(next) => {
                            let state = hot_state(next).expect("a hot row");
                            assert_eq!(row_of(set, state), next, "{set:?} {pending:?} {byte:#x}");
                        }
                        Step::Make(key) | Step::Break(key) => {
                            assert!(!key.is_modifier() && !key.is_lock(), "{key:?}");
                        }
                        Step::MakeState(key) | Step::BreakState(key) => {
                            assert!(key.is_modifier() || key.is_lock(), "{key:?}");
                        }
                        Step::Fake | Step::Slow => {}
                    }
                }
            }
            for pending in cold {
                let row = row_of(set, pending);
                assert_eq!(hot_state(row), None);
                assert!(FAST[row as usize].iter().all(|s| matches!(s, Step::Slow)));
            }
        }
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
