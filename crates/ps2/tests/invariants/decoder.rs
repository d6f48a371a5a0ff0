//! Decoder properties, shared by the property tests (`tests/decoder_invariants.rs`) and the
//! fuzz targets (`fuzz/fuzz_targets/decoder.rs`) so that whatever the fuzzer checks, `cargo
//! test` checks too. Each function panics when its property fails.

use irqkit_ps2::encoder::encode;
use irqkit_ps2::{Decoder, Event, KeyCode, KeyEvent, KeyKind, Response, Resync, ScancodeSet};

/// Feeds `data` to a fresh decoder of `set` and checks, byte by byte:
///
/// - an unfinished sequence never holds more than 4 bytes, and at most 4 bytes in a row
///   pass without an event while a sequence is unfinished;
/// - byte conservation (see [`Ledger`]);
/// - every key event round-trips: its press and its release, encoded, decode to exactly
///   that press and that release ([`check_round_trip`]);
///
/// and at the end that one ACK byte ends any unfinished sequence.
pub fn check_stream(set: ScancodeSet, data: &[u8]) {
    let mut decoder = Decoder::new(set);
    let mut ledger = Ledger::default();
    let mut silent = 0;
    for &byte in data {
        let events = ledger.feed(&mut decoder, byte);
        assert!(decoder.pending_len() <= 4);
        if events.is_empty() && !decoder.is_idle() {
            silent += 1;
            assert!(silent <= 4, "{set}: stuck in a sequence");
        } else {
            silent = 0;
        }
        for event in events {
            if let Event::Key(key) = event {
                check_round_trip(set, key.code);
            }
        }
    }
    let _ = ledger.feed(&mut decoder, 0xFA);
    assert!(decoder.is_idle(), "{set}: ACK did not end the sequence");
}

/// Byte conservation: every byte fed ends in exactly one event or is pending.
///
/// The ledger keeps the bytes of the unfinished sequence and checks each step: a byte that
/// does not complete a sequence is pending (the decoder's `pending_len` grows by one); a
/// [`Resync`] accounts for exactly the pending bytes before the byte that did not fit; a
/// completed sequence ends in one event (a key with no break code: its press, and the
/// synthesized release), and the only sequences that end in none are the fake shifts the
/// decoder documents as dropped.
#[derive(Debug, Default)]
pub struct Ledger {
    sequence: Vec<u8>,
    /// Bytes accounted so far: in events (a resync's discarded bytes, a completed
    /// sequence's bytes) or in documented fake shifts.
    pub accounted: u64,
    /// Bytes fed so far.
    pub fed: u64,
}

impl Ledger {
    /// Feeds `byte`, checks the accounting, and returns the events.
    pub fn feed(&mut self, decoder: &mut Decoder, byte: u8) -> Vec<Event> {
        let set = decoder.set();
        assert_eq!(usize::from(decoder.pending_len()), self.sequence.len());
        let events: Vec<Event> = decoder.feed(byte).collect();
        self.fed += 1;
        let mut rest = events.as_slice();
        if let [Event::Resync(Resync {
            discarded,
            unexpected,
        }), tail @ ..] = rest
        {
            assert_eq!(*unexpected, byte, "{set}: resync names another byte");
            assert_eq!(
                usize::from(*discarded),
                self.sequence.len(),
                "{set}: resync after {:02X?} discards the wrong count",
                self.sequence
            );
            self.accounted += u64::from(*discarded);
            self.sequence.clear();
            rest = tail;
        }
        assert!(
            !rest.iter().any(|e| matches!(e, Event::Resync(_))),
            "{set}: a resync that is not first: {events:?}"
        );
        self.sequence.push(byte);
        if !decoder.is_idle() {
            assert!(rest.is_empty(), "{set}: events while pending: {events:?}");
            assert_eq!(
                usize::from(decoder.pending_len()),
                self.sequence.len(),
                "{set}: pending bytes lost or invented after {:02X?}",
                self.sequence
            );
            return events;
        }
        match rest {
            [] => assert!(
                is_fake_shift(set, &self.sequence),
                "{set}: {:02X?} ended in no event",
                self.sequence
            ),
            [_] => {}
            [Event::Key(press), Event::Key(release)] => assert!(
                press.kind == KeyKind::Press
                    && *release == KeyEvent::release(press.code)
                    && has_no_break(set, press.code),
                "{set}: {:02X?} ended in two events: {events:?}",
                self.sequence
            ),
            _ => panic!("{set}: {:02X?} ended in {events:?}", self.sequence),
        }
        self.accounted += self.sequence.len() as u64;
        self.sequence.clear();
        assert_eq!(self.accounted + self.sequence.len() as u64, self.fed);
        events
    }
}

/// The fake shift sequences the decoder drops without an event (documented on the decoder).
pub fn is_fake_shift(set: ScancodeSet, sequence: &[u8]) -> bool {
    match set {
        ScancodeSet::Set1 => matches!(sequence, [0xE0, 0x2A | 0xAA | 0x36 | 0xB6]),
        ScancodeSet::Set2 => matches!(sequence, [0xE0, 0x12 | 0x59] | [0xE0, 0xF0, 0x12 | 0x59]),
        ScancodeSet::Set3 => false,
    }
}

/// Keys that send no break code: a make is a press and a synthesized release.
pub fn has_no_break(set: ScancodeSet, key: KeyCode) -> bool {
    set != ScancodeSet::Set3 && matches!(key, KeyCode::Hangul | KeyCode::Hanja)
}

fn decode(decoder: &mut Decoder, bytes: &[u8]) -> Vec<Event> {
    bytes.iter().flat_map(|&b| decoder.feed(b)).collect()
}

/// The press of `key`, encoded, decodes in a fresh decoder to exactly that press (and the
/// synthesized release of a key with no break code); then its release, encoded, decodes to
/// exactly that release (nothing for a key with no break code).
pub fn check_round_trip(set: ScancodeSet, key: KeyCode) {
    let press = KeyEvent::press(key);
    let release = KeyEvent::release(key);
    let bytes = encode(set, press).unwrap_or_else(|e| panic!("{set}: decoded {key:?} but {e}"));
    let mut decoder = Decoder::new(set);
    let got = decode(&mut decoder, &bytes);
    let expected = if has_no_break(set, key) {
        vec![Event::Key(press), Event::Key(release)]
    } else {
        vec![Event::Key(press)]
    };
    assert_eq!(got, expected, "{set}: press {:02X?}", &*bytes);
    let bytes = encode(set, release).unwrap_or_else(|e| panic!("{set}: release of {key:?}: {e}"));
    let got = decode(&mut decoder, &bytes);
    let expected = if has_no_break(set, key) {
        vec![]
    } else {
        vec![Event::Key(release)]
    };
    assert_eq!(got, expected, "{set}: release {:02X?}", &*bytes);
    assert!(decoder.is_idle());
}

/// After any garbage, a decoder made idle (by one ACK byte, when the garbage left a sequence
/// unfinished) reads `encode(k)` as exactly `k`, where `k` is the make (a press, or a repeat
/// if the garbage left the key held) or the break of `key`.
///
/// What depends on the held keys by design is part of `k`'s expected reading: in set 1 the
/// breaks `AA` / `FD` / `FE` of keys not held are responses, and BassBoost's `E0 36` /
/// `E0 B6` is a fake right shift unless BassBoost is held (its make is skipped: the decoder
/// reads it by a state the garbage may have set).
pub fn check_garbage_then_key(set: ScancodeSet, garbage: &[u8], key: KeyCode, make: bool) {
    let mut decoder = Decoder::new(set);
    let _ = decode(&mut decoder, garbage);
    if !decoder.is_idle() {
        let _ = decoder.feed(0xFA);
    }
    assert!(decoder.is_idle());
    let held = decoder.is_held(key);
    if set == ScancodeSet::Set1 && key == KeyCode::BassBoost && make {
        return;
    }
    let k = match (make, held) {
        (true, false) => KeyEvent::press(key),
        (true, true) => KeyEvent::repeat(key),
        (false, _) => KeyEvent::release(key),
    };
    let Ok(bytes) = encode(set, k) else {
        return; // no code in this set
    };
    let expected = if has_no_break(set, key) {
        if make {
            vec![
                Event::Key(KeyEvent::press(key)),
                Event::Key(KeyEvent::release(key)),
            ]
        } else {
            vec![]
        }
    } else if set == ScancodeSet::Set1 && !make && !held {
        match key {
            KeyCode::LeftShift => vec![Event::Response(Response::BatOk)],
            KeyCode::IntlYen => vec![Event::Response(Response::BatFailed { code: 0xFD })],
            KeyCode::NumpadComma => vec![Event::Response(Response::Resend)],
            KeyCode::BassBoost => vec![],
            _ => vec![Event::Key(k)],
        }
    } else {
        vec![Event::Key(k)]
    };
    let got = decode(&mut decoder, &bytes);
    assert_eq!(
        got, expected,
        "{set}: {k:?} as {:02X?} after {garbage:02X?}",
        &*bytes
    );
    assert!(decoder.is_idle());
}

/// The closure entry points agree with the iterator API on `data`, byte by byte:
/// `Decoder::feed_with` gives the events `Decoder::feed` gives ([`check_decoder_entry_points`])
/// and, for every built-in layout, `Keyboard::feed` gives what `Decoder::feed` then
/// `Keyboard::process_event` give ([`check_keyboard_entry_points`]). The first byte of `data`
/// also picks the keyboard's options: locks (bits 0-2), Ctrl+Alt as AltGr (bit 3), the
/// Compose key (bits 4-5).
#[allow(dead_code)] // not every includer of this file runs every check
pub fn check_entry_points_agree(set: ScancodeSet, data: &[u8]) {
    use irqkit_ps2::keyboard::{Keyboard, Locks};
    use irqkit_ps2::layout::AnyLayout;

    check_decoder_entry_points(set, data);
    let options = data.first().copied().unwrap_or(0);
    let compose = [
        None,
        Some(KeyCode::ContextMenu),
        Some(KeyCode::RightMeta),
        Some(KeyCode::RightAlt),
    ][usize::from(options >> 4) & 3];
    for layout in AnyLayout::ALL {
        let start = Keyboard::with_locks(layout, Locks::from_bits_truncate(options & 7))
            .ctrl_alt_is_altgr(options & 8 != 0)
            .with_compose_key(compose);
        check_keyboard_entry_points(set, start, data);
    }
}

/// `Decoder::feed_with` gives, byte by byte, the events `Decoder::feed` gives on `data`, and
/// leaves the same decoder state.
pub fn check_decoder_entry_points(set: ScancodeSet, data: &[u8]) {
    let mut general = Decoder::new(set);
    let mut fast = Decoder::new(set);
    for (i, &byte) in data.iter().enumerate() {
        let expected: Vec<Event> = general.feed(byte).collect();
        let mut got = Vec::new();
        fast.feed_with(byte, |event| got.push(event));
        assert_eq!(got, expected, "{set}: feed_with, byte {i} ({byte:#04x})");
        assert_eq!(
            fast, general,
            "{set}: decoder state after byte {i} ({byte:#04x})"
        );
    }
}

/// `Keyboard::feed`, starting from `start`, gives byte by byte the decoded keys of
/// `Decoder::feed` then `Keyboard::process_event` on `data`, returns the events that are not
/// key events, and leaves decoder and keyboard in the same state.
pub fn check_keyboard_entry_points<L>(
    set: ScancodeSet,
    start: irqkit_ps2::keyboard::Keyboard<L>,
    data: &[u8],
) where
    L: irqkit_ps2::layout::Layout + Copy + PartialEq + core::fmt::Debug,
{
    let layout = *start.layout();
    let (mut general_decoder, mut general) = (Decoder::new(set), start);
    let (mut fast_decoder, mut fast) = (Decoder::new(set), start);
    for (i, &byte) in data.iter().enumerate() {
        let mut expected_keys = Vec::new();
        let mut expected_rest = Vec::new();
        for event in general_decoder.feed(byte) {
            expected_keys.extend(general.process_event(event));
            if event.key().is_none() {
                expected_rest.push(event);
            }
        }
        let mut keys = Vec::new();
        let rest: Vec<Event> = fast
            .feed(&mut fast_decoder, byte, |k| keys.push(k))
            .collect();
        let at = format!("{set} {layout:?}, byte {i} ({byte:#04x})");
        assert_eq!(keys, expected_keys, "{at}: keys");
        assert_eq!(rest, expected_rest, "{at}: events");
        assert_eq!(fast_decoder, general_decoder, "{at}: decoder");
        assert_eq!(fast, general, "{at}: keyboard");
    }
}
