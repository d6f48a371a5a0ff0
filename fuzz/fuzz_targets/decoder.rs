//! Any byte stream, fed to a decoder of every scancode set.
//!
//! Checks (`crates/ps2/tests/invariants/decoder.rs`, also run as property tests by
//! `cargo test`): no panic; an unfinished sequence never holds more than 4 bytes; at most 4
//! silent bytes in a row before the decoder reports something or is idle; byte conservation
//! (every byte ends in exactly one event or is pending; only the documented fake shifts end
//! in none); every key reported round-trips, press and release, through the encoder; one ACK
//! byte always ends an unfinished sequence; and after the stream as garbage, an idle decoder
//! reads `encode(k)` as exactly `k` for the key chosen by the input's last two bytes; and the
//! closure entry points (`Decoder::feed_with`, `Keyboard::feed`) agree with the iterator API
//! byte by byte for every layout.
#![no_main]

#[path = "../../crates/ps2/tests/invariants/decoder.rs"]
mod invariants;

use irqkit_ps2::{KeyCode, ScancodeSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for set in ScancodeSet::ALL {
        invariants::check_stream(set, data);
        invariants::check_entry_points_agree(set, data);
    }
    if let [garbage @ .., key, kind] = data {
        let key = KeyCode::ALL[usize::from(*key) % KeyCode::COUNT];
        for set in ScancodeSet::ALL {
            invariants::check_garbage_then_key(set, garbage, key, kind & 1 == 0);
        }
    }
});
