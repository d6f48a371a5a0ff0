//! The decoding loops both PS/2 benchmarks run over the typing stream: irqkit-ps2 through its
//! one-call entry points (`Decoder::feed_with`; `Keyboard::feed`, decode and layout in one
//! call) and through the iterator API (`Decoder::feed`, then `Keyboard::process` on each key
//! event), and pc-keyboard through `advance_state` / `add_byte` + `process_keyevent`. Each
//! loop folds what it decodes into a sum, so nothing is optimised away; the layout loops also
//! count the characters typed. Never inlined, so every caller times the same code.

use irqkit_ps2::keyboard::{DecodedKey as OurKey, Keyboard};
use irqkit_ps2::layout::Us;
use irqkit_ps2::{Decoder, Event, ScancodeSet};
use pc_keyboard::layouts::Us104Key;
use pc_keyboard::{DecodedKey, HandleControl, PS2Keyboard};

/// What an irqkit key adds to a layout loop's sum; counts it in `chars` if it is a character.
#[inline(always)]
fn our_key_value(decoded: OurKey, chars: &mut u32) -> u32 {
    match decoded {
        OurKey::Char(c) => {
            *chars += 1;
            c as u32
        }
        OurKey::Key(code) => code as u32,
        OurKey::LocksChanged(locks) => u32::from(locks.bits()),
    }
}

#[inline(never)]
pub fn irqkit_decode(set: ScancodeSet, bytes: &[u8]) -> u32 {
    let mut decoder = Decoder::new(set);
    let mut sum = 0u32;
    for &byte in bytes {
        decoder.feed_with(byte, |event| {
            if let Event::Key(key) = event {
                sum = sum.wrapping_add(key.code as u32 + key.kind as u32);
            }
        });
    }
    sum
}

#[inline(never)]
pub fn irqkit_decode_us(set: ScancodeSet, bytes: &[u8]) -> (u32, u32) {
    let mut decoder = Decoder::new(set);
    let mut keyboard = Keyboard::new(Us);
    let (mut sum, mut chars) = (0u32, 0u32);
    for &byte in bytes {
        // The returned events are responses, unknown codes and resyncs, which the stream
        // has none of (pc-keyboard's errors are dropped the same way).
        let _ = keyboard.feed(&mut decoder, byte, |decoded| {
            sum = sum.wrapping_add(our_key_value(decoded, &mut chars));
        });
    }
    (sum, chars)
}

#[inline(never)]
pub fn irqkit_decode_iter(set: ScancodeSet, bytes: &[u8]) -> u32 {
    let mut decoder = Decoder::new(set);
    let mut sum = 0u32;
    for &byte in bytes {
        for event in decoder.feed(byte) {
            if let Event::Key(key) = event {
                sum = sum.wrapping_add(key.code as u32 + key.kind as u32);
            }
        }
    }
    sum
}

#[inline(never)]
pub fn irqkit_decode_us_iter(set: ScancodeSet, bytes: &[u8]) -> (u32, u32) {
    let mut decoder = Decoder::new(set);
    let mut keyboard = Keyboard::new(Us);
    let (mut sum, mut chars) = (0u32, 0u32);
    for &byte in bytes {
        for event in decoder.feed(byte) {
            if let Event::Key(key) = event {
                for decoded in keyboard.process(key) {
                    sum = sum.wrapping_add(our_key_value(decoded, &mut chars));
                }
            }
        }
    }
    (sum, chars)
}

#[inline(never)]
pub fn pc_keyboard_decode<S: pc_keyboard::ScancodeSet>(mut set: S, bytes: &[u8]) -> u32 {
    let mut sum = 0u32;
    for &byte in bytes {
        if let Ok(Some(event)) = set.advance_state(byte) {
            sum = sum.wrapping_add(event.code as u32 + event.state as u32);
        }
    }
    sum
}

#[inline(never)]
pub fn pc_keyboard_decode_us<S: pc_keyboard::ScancodeSet>(set: S, bytes: &[u8]) -> (u32, u32) {
    let mut keyboard = PS2Keyboard::new(set, Us104Key, HandleControl::Ignore);
    let (mut sum, mut chars) = (0u32, 0u32);
    for &byte in bytes {
        if let Ok(Some(event)) = keyboard.add_byte(byte) {
            if let Some(key) = keyboard.process_keyevent(event) {
                sum = sum.wrapping_add(match key {
                    DecodedKey::Unicode(c) => {
                        chars += 1;
                        c as u32
                    }
                    DecodedKey::RawKey(code) => code as u32,
                });
            }
        }
    }
    (sum, chars)
}
