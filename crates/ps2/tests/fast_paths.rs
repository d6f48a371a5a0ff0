//! The closure entry points (`Decoder::feed_with`, `Keyboard::feed`) against the iterator API
//! they shortcut (`Decoder::feed`, then `Keyboard::process_event` on each event): the same
//! events, the same decoded keys, the same state after every byte, for every set and layout,
//! on arbitrary byte streams (garbage included) and on well-formed typing with modifiers,
//! locks, dead keys and Compose.

use irqkit_ps2::encoder::encode;
use irqkit_ps2::keyboard::{DecodedKey, Keyboard, Locks};
use irqkit_ps2::layout::{AnyLayout, De, Fr, Layout, Us, UsIntl};
use irqkit_ps2::{Decoder, Event, KeyCode, KeyEvent, KeyKind, ScancodeSet};
use proptest::prelude::*;

#[path = "invariants/decoder.rs"]
#[allow(dead_code)] // the stream and round-trip checks run in decoder_invariants.rs
mod invariants;

const SETS: [ScancodeSet; 3] = [ScancodeSet::Set1, ScancodeSet::Set2, ScancodeSet::Set3];

/// Keys with state behind them (modifiers, locks, dead keys on some layout, Compose
/// candidates, keypad), drawn more often than the rest.
const HOT: [KeyCode; 24] = [
    KeyCode::LeftShift,
    KeyCode::RightShift,
    KeyCode::LeftCtrl,
    KeyCode::RightCtrl,
    KeyCode::LeftAlt,
    KeyCode::RightAlt,
    KeyCode::RightMeta,
    KeyCode::CapsLock,
    KeyCode::NumLock,
    KeyCode::Quote,
    KeyCode::Backquote,
    KeyCode::Equals,
    KeyCode::LeftBracket,
    KeyCode::Digit6,
    KeyCode::E,
    KeyCode::A,
    KeyCode::S,
    KeyCode::Space,
    KeyCode::Numpad7,
    KeyCode::NumpadPeriod,
    KeyCode::ContextMenu,
    KeyCode::Up,
    KeyCode::Pause,
    KeyCode::Hangul,
];

/// Bytes that matter to the decoders: prefixes, responses, the set 1 bytes that are both.
const SPECIAL: [u8; 14] = [
    0x00, 0xAA, 0xE0, 0xE1, 0xEE, 0xF0, 0xF1, 0xF2, 0xFA, 0xFC, 0xFD, 0xFE, 0xFF, 0xB6,
];

/// One piece of a byte stream: a raw byte, or the encoding of a key event.
#[derive(Clone, Debug)]
enum Piece {
    Byte(u8),
    Key(KeyEvent),
}

fn piece() -> impl Strategy<Value = Piece> {
    let key = prop_oneof![
        3 => prop::sample::select(&HOT[..]),
        1 => prop::sample::select(&KeyCode::ALL[..]),
    ];
    let kind = prop_oneof![
        Just(KeyKind::Press),
        Just(KeyKind::Release),
        Just(KeyKind::Repeat)
    ];
    prop_oneof![
        6 => (key, kind).prop_map(|(code, kind)| Piece::Key(KeyEvent { code, kind })),
        1 => any::<u8>().prop_map(Piece::Byte),
        1 => prop::sample::select(&SPECIAL[..]).prop_map(Piece::Byte),
    ]
}

/// A layout outside the crate, without a table: the keyboard asks `key` for everything.
#[derive(Clone, Copy, Debug, PartialEq)]
struct NoTable(Fr);

impl Layout for NoTable {
    fn key(&self, key: KeyCode) -> irqkit_ps2::layout::KeyDef {
        self.0.key(key)
    }
    fn has_altgr(&self) -> bool {
        true
    }
    fn name(&self) -> &'static str {
        "fr-no-table"
    }
}

fn bytes_of(set: ScancodeSet, pieces: &[Piece]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Byte(b) => bytes.push(*b),
            Piece::Key(event) => {
                if let Ok(encoded) = encode(set, *event) {
                    bytes.extend_from_slice(&encoded);
                }
            }
        }
    }
    bytes
}

/// Keyboard options: locks at start, Ctrl+Alt as AltGr, a Compose key.
fn options() -> impl Strategy<Value = (Locks, bool, Option<KeyCode>)> {
    (
        (0u8..8).prop_map(Locks::from_bits_truncate),
        any::<bool>(),
        prop::option::of(prop::sample::select(
            &[KeyCode::ContextMenu, KeyCode::RightMeta, KeyCode::RightAlt][..],
        )),
    )
}

fn keyboard<L: Layout>(
    layout: L,
    (locks, ctrl_alt, compose): (Locks, bool, Option<KeyCode>),
) -> Keyboard<L> {
    Keyboard::with_locks(layout, locks)
        .ctrl_alt_is_altgr(ctrl_alt)
        .with_compose_key(compose)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn decoder_entry_points_agree(
        pieces in prop::collection::vec(piece(), 0..200),
        garbage in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        for set in SETS {
            invariants::check_decoder_entry_points(set, &bytes_of(set, &pieces));
            invariants::check_decoder_entry_points(set, &garbage);
        }
    }

    #[test]
    fn keyboard_entry_points_agree_on_every_layout(
        pieces in prop::collection::vec(piece(), 0..200),
        garbage in prop::collection::vec(any::<u8>(), 0..64),
        options in options(),
    ) {
        for set in SETS {
            let bytes = bytes_of(set, &pieces);
            for layout in AnyLayout::ALL {
                invariants::check_keyboard_entry_points(set, keyboard(layout, options), &bytes);
                invariants::check_keyboard_entry_points(set, keyboard(layout, options), &garbage);
            }
        }
    }

    #[test]
    fn keyboard_entry_points_agree_on_concrete_layouts(
        pieces in prop::collection::vec(piece(), 0..200),
        options in options(),
    ) {
        // The layouts as types of their own (inlined tables), not through AnyLayout.
        for set in SETS {
            let bytes = bytes_of(set, &pieces);
            invariants::check_keyboard_entry_points(set, keyboard(Us, options), &bytes);
            invariants::check_keyboard_entry_points(set, keyboard(UsIntl, options), &bytes);
            invariants::check_keyboard_entry_points(set, keyboard(De, options), &bytes);
            invariants::check_keyboard_entry_points(set, keyboard(Fr, options), &bytes);
            invariants::check_keyboard_entry_points(set, keyboard(NoTable(Fr), options), &bytes);
            invariants::check_keyboard_entry_points(set, keyboard(&De, options), &bytes);
        }
    }
}

/// Responses, Pause, a Korean key without break code and a resync through `Keyboard::feed`:
/// the keys come out, the rest is returned.
#[test]
fn keyboard_feed_returns_what_is_not_a_key() {
    use irqkit_ps2::{Response, Resync};
    let mut decoder = Decoder::new(ScancodeSet::Set2);
    let mut keyboard = Keyboard::new(Us);
    let mut keys = Vec::new();
    let mut rest = Vec::new();
    // ACK, Hangul (make only), E0 then garbage 0xFA (resync, then ACK), BAT.
    for byte in [0xFA, 0xF2, 0xE0, 0xFA, 0xAA] {
        rest.extend(keyboard.feed(&mut decoder, byte, |k| keys.push(k)));
    }
    assert_eq!(
        keys,
        [
            DecodedKey::Key(KeyCode::Hangul),
            DecodedKey::LocksChanged(Locks::empty())
        ]
    );
    assert_eq!(
        rest,
        [
            Event::Response(Response::Ack),
            Event::Resync(Resync {
                discarded: 1,
                unexpected: 0xFA
            }),
            Event::Response(Response::Ack),
            Event::Response(Response::BatOk),
        ]
    );
}

/// Feeds `bytes` through `Keyboard::feed` with a closure that panics on its `panic_at`-th key
/// (and `Decoder::feed_with` with one that panics on its `panic_at`-th event): the panic
/// reaches the caller, and both decoders are left exactly as the iterator API leaves one fed
/// the same bytes, so decoding goes on from the next byte. The keyboard keeps working too.
fn check_panicking_closures(
    set: ScancodeSet,
    bytes: &[u8],
    panic_at: usize,
) -> Result<(), TestCaseError> {
    use std::panic::{catch_unwind, AssertUnwindSafe};
    let mut general = Decoder::new(set);
    let mut typing_decoder = Decoder::new(set);
    let mut keyboard = Keyboard::new(Us);
    let mut event_decoder = Decoder::new(set);
    let (mut keys_seen, mut events_seen) = (0, 0);
    let (mut key_panics, mut event_panics) = (0, 0);
    for (i, &byte) in bytes.iter().enumerate() {
        general.feed(byte).for_each(drop);
        let typed = catch_unwind(AssertUnwindSafe(|| {
            keyboard
                .feed(&mut typing_decoder, byte, |_| {
                    keys_seen += 1;
                    assert!(keys_seen != panic_at, "on_key panics");
                })
                .for_each(drop);
        }));
        key_panics += usize::from(typed.is_err());
        let decoded = catch_unwind(AssertUnwindSafe(|| {
            event_decoder.feed_with(byte, |_| {
                events_seen += 1;
                assert!(events_seen != panic_at, "on_event panics");
            });
        }));
        event_panics += usize::from(decoded.is_err());
        prop_assert_eq!(&typing_decoder, &general, "Keyboard::feed, byte {}", i);
        prop_assert_eq!(&event_decoder, &general, "Decoder::feed_with, byte {}", i);
    }
    prop_assert_eq!(key_panics, usize::from(keys_seen >= panic_at));
    prop_assert_eq!(event_panics, usize::from(events_seen >= panic_at));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn a_panicking_closure_leaves_the_decoder_as_the_iterator_api_does(
        pieces in prop::collection::vec(piece(), 0..100),
        panic_at in 1usize..40,
    ) {
        for set in SETS {
            check_panicking_closures(set, &bytes_of(set, &pieces), panic_at)?;
        }
    }
}
