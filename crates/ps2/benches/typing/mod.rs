//! The typing stream both PS/2 benchmarks decode: English text with Shift for capitals and
//! punctuation, Ctrl shortcuts, arrow keys (E0 codes), Backspace held down (typematic repeats)
//! and Enter, encoded by our encoder. Only keys pc-keyboard also knows are used.

use irqkit_ps2::encoder::encode;
use irqkit_ps2::{KeyCode, KeyEvent, ScancodeSet};

pub const STREAM_LEN: usize = 64 * 1024;

const TEXT: &str = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen \
liquor jugs! How vexingly quick daft zebras jump; 1234567890, said Sphinx of black quartz: \
judge my vow? ";

/// The key (and whether Shift is needed) for a character of `TEXT`.
fn key_for(c: char) -> (KeyCode, bool) {
    use KeyCode::*;
    let letters = [
        A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P, Q, R, S, T, U, V, W, X, Y, Z,
    ];
    let digits = [
        Digit0, Digit1, Digit2, Digit3, Digit4, Digit5, Digit6, Digit7, Digit8, Digit9,
    ];
    match c {
        'a'..='z' => (letters[c as usize - 'a' as usize], false),
        'A'..='Z' => (letters[c as usize - 'A' as usize], true),
        '0'..='9' => (digits[c as usize - '0' as usize], false),
        ' ' => (Space, false),
        '.' => (Period, false),
        ',' => (Comma, false),
        ';' => (Semicolon, false),
        ':' => (Semicolon, true),
        '!' => (Digit1, true),
        '?' => (Slash, true),
        _ => panic!("no key for {c:?}"),
    }
}

/// Builds the key events of the stream (deterministic).
pub fn key_events() -> Vec<KeyEvent> {
    let mut events = Vec::new();
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let tap = |events: &mut Vec<KeyEvent>, key| {
        events.push(KeyEvent::press(key));
        events.push(KeyEvent::release(key));
    };
    let mut chars = TEXT.chars().cycle();
    // Each step is a few bytes; stop well past the stream length (trimmed later).
    while events.len() < STREAM_LEN {
        let c = chars.next().unwrap_or(' ');
        let (key, shift) = key_for(c);
        if shift {
            events.push(KeyEvent::press(KeyCode::LeftShift));
        }
        tap(&mut events, key);
        if shift {
            events.push(KeyEvent::release(KeyCode::LeftShift));
        }
        match next() % 64 {
            0 => {
                // Backspace held: a press, typematic repeats, a release.
                events.push(KeyEvent::press(KeyCode::Backspace));
                for _ in 0..(next() % 12) {
                    events.push(KeyEvent::repeat(KeyCode::Backspace));
                }
                events.push(KeyEvent::release(KeyCode::Backspace));
            }
            1 => {
                // Ctrl+S.
                events.push(KeyEvent::press(KeyCode::LeftCtrl));
                tap(&mut events, KeyCode::S);
                events.push(KeyEvent::release(KeyCode::LeftCtrl));
            }
            2 | 3 => {
                // Cursor movement (E0 keys).
                let arrows = [KeyCode::Left, KeyCode::Right, KeyCode::Up, KeyCode::Down];
                let arrow = arrows[(next() % 4) as usize];
                tap(&mut events, arrow);
            }
            4 => tap(&mut events, KeyCode::Enter),
            _ => {}
        }
    }
    events
}

pub fn stream(set: ScancodeSet, events: &[KeyEvent]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(STREAM_LEN + 16);
    for &event in events {
        bytes.extend_from_slice(&encode(set, event).expect("every key of the stream has a code"));
        if bytes.len() >= STREAM_LEN {
            break;
        }
    }
    bytes
}
