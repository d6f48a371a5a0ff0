//! Fuzzes the non-blocking keyboard command engine: any interleaving of submissions, sends,
//! keyboard bytes, clock ticks and expiries.
//!
//! Checks (`crates/ps2/tests/invariants/engine.rs`, also run as property tests by
//! `cargo test`): no panic; at most one byte handed out per step; a bounded number of bytes
//! consumed per command; every submitted command completes exactly once (with a reply or a
//! typed error) once the keyboard falls silent.
#![no_main]

#[path = "../../crates/ps2/tests/invariants/engine.rs"]
mod invariants;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| invariants::check_engine(data));
