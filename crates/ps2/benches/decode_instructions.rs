//! Benchmarks that hold on a loaded machine: instruction counts per byte of the same typing
//! stream, irqkit-ps2 beside pc-keyboard 0.9, for scancode sets 1 and 2, decoding alone and
//! decoding plus the US layout. This binary only runs cases; `cargo xtask bench ps2` measures
//! them:
//!
//! - `--list`: one line per case: `name <TAB> operation <TAB> bytes per iteration`;
//! - `--run CASE ITERATIONS`: builds the stream, then decodes it ITERATIONS times. xtask runs
//!   this under `valgrind --tool=callgrind` for two iteration counts and divides the difference
//!   of the instruction totals by the difference of bytes, so set-up and process start cancel;
//! - anything else (`cargo bench` passes `--bench`): checks that both crates decode the same
//!   keys and characters from each stream, and both irqkit entry points the same sums.
//!
//! irqkit's main cases use the entry points that hand each result to a closure
//! (`Decoder::feed_with`; `Keyboard::feed`, which decodes and applies the layout in one call);
//! the `-iter` cases use the two-stage iterator API (`Decoder::feed`, then `Keyboard::process`
//! on each key event). Both deliver every event and every decoded key, as pc-keyboard's
//! `advance_state` / `add_byte` + `process_keyevent` do.

mod loops;
mod typing;

use std::hint::black_box;

use irqkit_ps2::ScancodeSet;
use loops::*;

/// Which implementation and stage a case runs.
#[derive(Clone, Copy)]
enum Stage {
    IrqkitDecode,
    IrqkitDecodeUs,
    IrqkitDecodeIter,
    IrqkitDecodeUsIter,
    PcKeyboardDecode,
    PcKeyboardDecodeUs,
}

/// Runs `stage` over `bytes` once; returns the number of characters produced (layout stages).
fn run_stage(stage: Stage, set: ScancodeSet, bytes: &[u8]) -> u32 {
    let bytes = black_box(bytes);
    match (stage, set) {
        (Stage::IrqkitDecode, _) => {
            black_box(irqkit_decode(set, bytes));
            0
        }
        (Stage::IrqkitDecodeUs, _) => black_box(irqkit_decode_us(set, bytes)).1,
        (Stage::IrqkitDecodeIter, _) => {
            black_box(irqkit_decode_iter(set, bytes));
            0
        }
        (Stage::IrqkitDecodeUsIter, _) => black_box(irqkit_decode_us_iter(set, bytes)).1,
        (Stage::PcKeyboardDecode, ScancodeSet::Set1) => {
            black_box(pc_keyboard_decode(pc_keyboard::ScancodeSet1::new(), bytes));
            0
        }
        (Stage::PcKeyboardDecode, _) => {
            black_box(pc_keyboard_decode(pc_keyboard::ScancodeSet2::new(), bytes));
            0
        }
        (Stage::PcKeyboardDecodeUs, ScancodeSet::Set1) => {
            black_box(pc_keyboard_decode_us(
                pc_keyboard::ScancodeSet1::new(),
                bytes,
            ))
            .1
        }
        (Stage::PcKeyboardDecodeUs, _) => {
            black_box(pc_keyboard_decode_us(
                pc_keyboard::ScancodeSet2::new(),
                bytes,
            ))
            .1
        }
    }
}

/// A case: name, operation, set and stage.
struct Case {
    name: &'static str,
    operation: &'static str,
    set: ScancodeSet,
    stage: Stage,
}

const CASES: &[Case] = &[
    Case {
        name: "irqkit/set1/decode",
        operation: "set 1, decode (per byte)",
        set: ScancodeSet::Set1,
        stage: Stage::IrqkitDecode,
    },
    Case {
        name: "irqkit/set1/decode-iter",
        operation: "set 1, decode (per byte)",
        set: ScancodeSet::Set1,
        stage: Stage::IrqkitDecodeIter,
    },
    Case {
        name: "pc-keyboard/set1/decode",
        operation: "set 1, decode (per byte)",
        set: ScancodeSet::Set1,
        stage: Stage::PcKeyboardDecode,
    },
    Case {
        name: "irqkit/set1/decode+us",
        operation: "set 1, decode + US layout (per byte)",
        set: ScancodeSet::Set1,
        stage: Stage::IrqkitDecodeUs,
    },
    Case {
        name: "irqkit/set1/decode+us-iter",
        operation: "set 1, decode + US layout (per byte)",
        set: ScancodeSet::Set1,
        stage: Stage::IrqkitDecodeUsIter,
    },
    Case {
        name: "pc-keyboard/set1/decode+us",
        operation: "set 1, decode + US layout (per byte)",
        set: ScancodeSet::Set1,
        stage: Stage::PcKeyboardDecodeUs,
    },
    Case {
        name: "irqkit/set2/decode",
        operation: "set 2, decode (per byte)",
        set: ScancodeSet::Set2,
        stage: Stage::IrqkitDecode,
    },
    Case {
        name: "irqkit/set2/decode-iter",
        operation: "set 2, decode (per byte)",
        set: ScancodeSet::Set2,
        stage: Stage::IrqkitDecodeIter,
    },
    Case {
        name: "pc-keyboard/set2/decode",
        operation: "set 2, decode (per byte)",
        set: ScancodeSet::Set2,
        stage: Stage::PcKeyboardDecode,
    },
    Case {
        name: "irqkit/set2/decode+us",
        operation: "set 2, decode + US layout (per byte)",
        set: ScancodeSet::Set2,
        stage: Stage::IrqkitDecodeUs,
    },
    Case {
        name: "irqkit/set2/decode+us-iter",
        operation: "set 2, decode + US layout (per byte)",
        set: ScancodeSet::Set2,
        stage: Stage::IrqkitDecodeUsIter,
    },
    Case {
        name: "pc-keyboard/set2/decode+us",
        operation: "set 2, decode + US layout (per byte)",
        set: ScancodeSet::Set2,
        stage: Stage::PcKeyboardDecodeUs,
    },
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let events = typing::key_events();
    let streams = [
        typing::stream(ScancodeSet::Set1, &events),
        typing::stream(ScancodeSet::Set2, &events),
    ];
    let stream_of = |set: ScancodeSet| match set {
        ScancodeSet::Set1 => &streams[0],
        _ => &streams[1],
    };
    match args.first().map(String::as_str) {
        Some("--list") => {
            for case in CASES {
                let bytes = stream_of(case.set).len();
                println!("{}\t{}\t{bytes}", case.name, case.operation);
            }
        }
        Some("--run") => {
            let name = args.get(1).expect("--run CASE ITERATIONS");
            let case = CASES
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("no case {name}"));
            let iterations: u64 = args
                .get(2)
                .and_then(|t| t.parse().ok())
                .expect("ITERATIONS is a number");
            for _ in 0..iterations {
                run_stage(case.stage, case.set, stream_of(case.set));
            }
        }
        _ => {
            for set in [ScancodeSet::Set1, ScancodeSet::Set2] {
                let bytes = stream_of(set);
                let ours = run_stage(Stage::IrqkitDecodeUs, set, bytes);
                let theirs = run_stage(Stage::PcKeyboardDecodeUs, set, bytes);
                assert!(ours > 0, "the stream types characters");
                assert_eq!(ours, theirs, "both crates type as many characters");
                assert_eq!(
                    irqkit_decode_us(set, bytes),
                    irqkit_decode_us_iter(set, bytes),
                    "both irqkit entry points decode the same keys"
                );
                assert_eq!(irqkit_decode(set, bytes), irqkit_decode_iter(set, bytes));
                run_stage(Stage::IrqkitDecode, set, bytes);
                run_stage(Stage::PcKeyboardDecode, set, bytes);
            }
            println!(
                "irqkit-ps2 instruction-count cases ran; measure them with `cargo xtask bench ps2`"
            );
        }
    }
}
