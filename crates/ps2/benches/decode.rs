//! Decoding speed, side by side with pc-keyboard 0.9 on the same byte stream.
//!
//! The stream is realistic typing (64 KiB, `typing/mod.rs`, shared with
//! `decode_instructions.rs`), encoded by our encoder for set 1 and for set 2. Only keys both
//! crates know are used, so both decode every byte. Throughput is reported per byte.
//!
//! irqkit's main cases use the entry points that hand each result to a closure
//! (`Decoder::feed_with`; `Keyboard::feed`, which decodes and applies the layout in one call);
//! the `-iter` cases use the two-stage iterator API (`Decoder::feed`, then `Keyboard::process`
//! on each key event). Both deliver every event and every decoded key.
//!
//! Run: `cargo bench -p irqkit-ps2 --bench decode` (add `-- --warm-up-time 1
//! --measurement-time 3` while iterating).

mod loops;
mod typing;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use irqkit_ps2::keyboard::Keyboard;
use irqkit_ps2::layout::Us;
use irqkit_ps2::{Decoder, Event, ScancodeSet};
use loops::*;
use pc_keyboard::layouts::Us104Key;
use pc_keyboard::{PS2Keyboard, ScancodeSet as _};

/// Checks the two decoders agree on the stream before timing them.
fn check_same_keys(set: ScancodeSet, bytes: &[u8]) {
    let mut ours = 0;
    let mut decoder = Decoder::new(set);
    for &byte in bytes {
        for event in decoder.feed(byte) {
            assert!(matches!(event, Event::Key(_)), "{event:?}");
            ours += 1;
        }
    }
    let mut theirs = 0;
    let mut count = |r: Result<Option<pc_keyboard::KeyEvent>, pc_keyboard::Error>| {
        if r.expect("pc-keyboard decodes the whole stream").is_some() {
            theirs += 1;
        }
    };
    match set {
        ScancodeSet::Set1 => {
            let mut s = pc_keyboard::ScancodeSet1::new();
            bytes.iter().for_each(|&b| count(s.advance_state(b)));
        }
        _ => {
            let mut s = pc_keyboard::ScancodeSet2::new();
            bytes.iter().for_each(|&b| count(s.advance_state(b)));
        }
    }
    // The stream may end inside a sequence; both decoders see the same complete ones.
    assert!(
        (ours as i64 - theirs as i64).abs() <= 1,
        "ours {ours}, pc-keyboard {theirs}"
    );
}

fn bench(c: &mut Criterion) {
    let events = typing::key_events();
    println!(
        "state size: irqkit Decoder {} bytes, Keyboard<Us> {} bytes; pc-keyboard ScancodeSet1 {} / ScancodeSet2 {} bytes, \
         PS2Keyboard<Us104Key, ScancodeSet2> {} bytes",
        std::mem::size_of::<Decoder>(),
        std::mem::size_of::<Keyboard<Us>>(),
        std::mem::size_of::<pc_keyboard::ScancodeSet1>(),
        std::mem::size_of::<pc_keyboard::ScancodeSet2>(),
        std::mem::size_of::<PS2Keyboard<Us104Key, pc_keyboard::ScancodeSet2>>(),
    );
    for set in [ScancodeSet::Set1, ScancodeSet::Set2] {
        let bytes = typing::stream(set, &events);
        check_same_keys(set, &bytes);
        assert_eq!(irqkit_decode(set, &bytes), irqkit_decode_iter(set, &bytes));
        assert_eq!(
            irqkit_decode_us(set, &bytes),
            irqkit_decode_us_iter(set, &bytes)
        );
        let mut group = c.benchmark_group(format!("set{}", set.number()));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("irqkit/decode", |b| {
            b.iter(|| irqkit_decode(set, black_box(&bytes)))
        });
        group.bench_function("irqkit/decode+us", |b| {
            b.iter(|| irqkit_decode_us(set, black_box(&bytes)))
        });
        group.bench_function("irqkit/decode-iter", |b| {
            b.iter(|| irqkit_decode_iter(set, black_box(&bytes)))
        });
        group.bench_function("irqkit/decode+us-iter", |b| {
            b.iter(|| irqkit_decode_us_iter(set, black_box(&bytes)))
        });
        match set {
            ScancodeSet::Set1 => {
                group.bench_function("pc-keyboard/decode", |b| {
                    b.iter(|| {
                        pc_keyboard_decode(pc_keyboard::ScancodeSet1::new(), black_box(&bytes))
                    })
                });
                group.bench_function("pc-keyboard/decode+us", |b| {
                    b.iter(|| {
                        pc_keyboard_decode_us(pc_keyboard::ScancodeSet1::new(), black_box(&bytes))
                    })
                });
            }
            _ => {
                group.bench_function("pc-keyboard/decode", |b| {
                    b.iter(|| {
                        pc_keyboard_decode(pc_keyboard::ScancodeSet2::new(), black_box(&bytes))
                    })
                });
                group.bench_function("pc-keyboard/decode+us", |b| {
                    b.iter(|| {
                        pc_keyboard_decode_us(pc_keyboard::ScancodeSet2::new(), black_box(&bytes))
                    })
                });
            }
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
