//! The blocking i8042 driver against a controller whose status and data reads are the fuzz
//! input, played in a loop (so any input is a controller answering forever), on hal-mock with
//! `Bus::set_spin_limit` on.
//!
//! Checks (`crates/ps2/tests/invariants/driver.rs`, also run as property tests by
//! `cargo test`): every public operation returns, Ok or a typed error, within bounded virtual
//! time and bytes read, and never polls without letting time pass.
#![no_main]

#[path = "../../crates/ps2/tests/invariants/driver.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte says how many operations follow (1 to 8); they pick the operations, the
    // rest is the recording.
    let Some((&count, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 8 + 1).min(rest.len());
    let (choices, recording) = rest.split_at(count);
    invariants::check_blocking_driver(choices, recording);
});
