//! Any byte stream, fed to a decoder of every scancode set.
//!
//! Checks: no panic; an unfinished sequence never holds more than 4 bytes; at most 4 silent
//! bytes in a row before the decoder reports something or is idle; one ACK byte always ends an
//! unfinished sequence; and every key the decoder reports encodes back to bytes that a fresh
//! decoder reads as the same key.
#![no_main]

use irqkit_ps2::encoder::encode;
use irqkit_ps2::{Decoder, Event, KeyEvent, KeyKind, ScancodeSet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for set in ScancodeSet::ALL {
        let mut decoder = Decoder::new(set);
        let mut silent = 0;
        for &byte in data {
            let events = decoder.feed(byte);
            assert!(decoder.pending_len() <= 4);
            if events.is_empty() && !decoder.is_idle() {
                silent += 1;
                assert!(silent <= 4, "{set}: stuck in a sequence");
            } else {
                silent = 0;
            }
            for event in events {
                if let Event::Key(key) = event {
                    check_round_trip(set, key);
                }
            }
        }
        let _ = decoder.feed(0xFA);
        assert!(decoder.is_idle(), "{set}: ACK did not end the sequence");
    }
});

/// The key's press, encoded and decoded again from scratch, is a press of the same key.
fn check_round_trip(set: ScancodeSet, key: KeyEvent) {
    let press = KeyEvent {
        code: key.code,
        kind: KeyKind::Press,
    };
    let bytes = encode(set, press).unwrap_or_else(|e| panic!("{set}: decoded {key:?} but {e}"));
    let mut fresh = Decoder::new(set);
    let first = bytes.iter().flat_map(|&b| fresh.feed(b)).next();
    assert_eq!(first, Some(Event::Key(press)), "{set}: {:02X?}", &*bytes);
}
