//! The command engine properties the fuzz target checks (`fuzz/fuzz_targets/command_engine.rs`),
//! as property tests.

#[path = "invariants/engine.rs"]
mod invariants;

use proptest::prelude::*;

/// Operations biased towards answers the engine acts on.
fn op() -> impl Strategy<Value = [u8; 2]> {
    let answer = prop_oneof![
        Just(0xFAu8),
        Just(0xFE),
        Just(0xAA),
        Just(0xEE),
        Just(0xAB),
        Just(0xFC),
        any::<u8>()
    ];
    prop_oneof![
        (0u8..51)
            .prop_map(|k| k * 5)
            .prop_flat_map(|k| any::<u8>().prop_map(move |a| [k, a])),
        Just([1u8, 0]),
        answer.prop_map(|a| [2u8, a]),
        any::<u8>().prop_map(|a| [3u8, a]),
        Just([4u8, 0]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Any interleaving: bounded bytes per command, every command completes exactly once.
    #[test]
    fn any_interleaving_completes_every_command_once(
        ops in prop::collection::vec(op(), 0..200),
    ) {
        let bytes: Vec<u8> = ops.concat();
        invariants::check_engine(&bytes);
    }

    /// Raw bytes, as the fuzzer sees them.
    #[test]
    fn any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        invariants::check_engine(&bytes);
    }
}
