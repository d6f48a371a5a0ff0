//! The decoder properties the fuzz targets check (`fuzz/fuzz_targets/decoder.rs`), as
//! property tests: byte conservation, press and release round trips, exact decoding of a key
//! after garbage, and the closure entry points agreeing with the iterator API.

#[path = "invariants/decoder.rs"]
mod invariants;

use irqkit_ps2::{KeyCode, ScancodeSet};
use proptest::prelude::*;

fn any_set() -> impl Strategy<Value = ScancodeSet> {
    prop_oneof![
        Just(ScancodeSet::Set1),
        Just(ScancodeSet::Set2),
        Just(ScancodeSet::Set3)
    ]
}

/// Bytes that reach the interesting paths often: prefixes, responses, and anything.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => any::<u8>(),
        1 => prop::sample::select(vec![0xE0u8, 0xE1, 0xF0, 0x12, 0x59, 0x2A, 0xAA, 0x36, 0xB6,
            0x14, 0x77, 0x1D, 0x45, 0x9D, 0xC5, 0xFA, 0xFE, 0xFD, 0xF1, 0xF2]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Any bytes: bounded pending, quick resync, byte conservation, round trips of every key
    /// reported, and an ACK ends any sequence.
    #[test]
    fn any_stream_keeps_the_invariants(
        set in any_set(),
        data in prop::collection::vec(byte(), 0..256),
    ) {
        invariants::check_stream(set, &data);
    }

    /// The closure entry points (`Decoder::feed_with`, `Keyboard::feed`) agree with the
    /// iterator API, for every layout.
    #[test]
    fn closure_entry_points_agree(
        set in any_set(),
        data in prop::collection::vec(byte(), 0..256),
    ) {
        invariants::check_entry_points_agree(set, &data);
    }

    /// Garbage, then an idle decoder, then `encode(k)` decodes to exactly `k`.
    #[test]
    fn garbage_then_idle_then_exactly_the_key(
        set in any_set(),
        garbage in prop::collection::vec(byte(), 0..64),
        key in 0..KeyCode::COUNT,
        make in any::<bool>(),
    ) {
        invariants::check_garbage_then_key(set, &garbage, KeyCode::ALL[key], make);
    }
}

/// Every key's press and release round-trip in every set it has a code in.
#[test]
fn every_key_round_trips() {
    for set in ScancodeSet::ALL {
        for key in KeyCode::ALL {
            if irqkit_ps2::encoder::encode(set, irqkit_ps2::KeyEvent::press(key)).is_ok() {
                invariants::check_round_trip(set, key);
            }
        }
    }
}
