//! Layout and keyboard-state tests: every layout's rows, dead keys, AltGr, Ctrl, the keypad,
//! locks, and the whole byte -> decoder -> keyboard pipeline in all three scancode sets.

use irqkit_ps2::encoder::{encode, encode_with, Context};
use irqkit_ps2::keyboard::{DecodedKey, Keyboard, Locks, Modifiers, Pending};
use irqkit_ps2::layout::{AnyLayout, Colemak, De, Dvorak, Fr, Jis, Layout, Uk, Us, UsIntl};
use irqkit_ps2::{Decoder, KeyCode, KeyCode as K, KeyEvent, ScancodeSet};

/// Marks a key that types nothing at that level.
const NOTHING: char = '∅';

const ROW1: [KeyCode; 13] = [
    K::Backquote,
    K::Digit1,
    K::Digit2,
    K::Digit3,
    K::Digit4,
    K::Digit5,
    K::Digit6,
    K::Digit7,
    K::Digit8,
    K::Digit9,
    K::Digit0,
    K::Minus,
    K::Equals,
];
const ROW2: [KeyCode; 12] = [
    K::Q,
    K::W,
    K::E,
    K::R,
    K::T,
    K::Y,
    K::U,
    K::I,
    K::O,
    K::P,
    K::LeftBracket,
    K::RightBracket,
];
const ROW3: [KeyCode; 12] = [
    K::A,
    K::S,
    K::D,
    K::F,
    K::G,
    K::H,
    K::J,
    K::K,
    K::L,
    K::Semicolon,
    K::Quote,
    K::Backslash,
];
const ROW4: [KeyCode; 11] = [
    K::IntlBackslash,
    K::Z,
    K::X,
    K::C,
    K::V,
    K::B,
    K::N,
    K::M,
    K::Comma,
    K::Period,
    K::Slash,
];

fn press(key: KeyCode) -> KeyEvent {
    KeyEvent::press(key)
}

fn release(key: KeyCode) -> KeyEvent {
    KeyEvent::release(key)
}

fn run<L: Layout>(kb: &mut Keyboard<L>, events: &[KeyEvent]) -> Vec<DecodedKey> {
    events.iter().flat_map(|&e| kb.process(e)).collect()
}

fn text_of(keys: &[DecodedKey]) -> String {
    keys.iter().filter_map(|k| k.char()).collect()
}

/// Taps each key (press, release) with `held` held down, and returns the text.
fn type_keys<L: Layout>(kb: &mut Keyboard<L>, held: &[KeyCode], keys: &[KeyCode]) -> String {
    let mut events: Vec<KeyEvent> = held.iter().map(|&k| press(k)).collect();
    for &key in keys {
        events.extend([press(key), release(key)]);
    }
    events.extend(held.iter().rev().map(|&k| release(k)));
    text_of(&run(kb, &events))
}

/// What each key of `row` types alone with `held` and `locks`: its character, a dead key's
/// symbol (flushed with Space), or [`NOTHING`].
fn row_chars<L: Layout + Copy>(
    layout: L,
    locks: Locks,
    held: &[KeyCode],
    row: &[KeyCode],
) -> String {
    row.iter()
        .map(|&key| {
            let mut kb = Keyboard::with_locks(layout, locks);
            let mut text = type_keys(&mut kb, held, &[key]);
            if let Pending::Dead { .. } = kb.pending() {
                text = type_keys(&mut kb, &[], &[K::Space]);
            }
            match text.chars().count() {
                0 => NOTHING.to_string(),
                1 => text,
                _ => panic!("{key:?} typed {text:?}"),
            }
        })
        .collect()
}

/// Checks the four rows unshifted and shifted.
fn check_rows<L: Layout + Copy>(layout: L, rows: [(&str, &str); 4]) {
    let keys: [&[KeyCode]; 4] = [&ROW1, &ROW2, &ROW3, &ROW4];
    for (i, (row, (base, shifted))) in keys.iter().zip(rows).enumerate() {
        assert_eq!(
            row_chars(layout, Locks::empty(), &[], row),
            base,
            "{} row {} unshifted",
            layout.name(),
            i + 1
        );
        assert_eq!(
            row_chars(layout, Locks::empty(), &[K::LeftShift], row),
            shifted,
            "{} row {} shifted",
            layout.name(),
            i + 1
        );
        assert_eq!(
            row_chars(layout, Locks::empty(), &[K::RightShift], row),
            shifted,
            "{} row {} right shift",
            layout.name(),
            i + 1
        );
    }
}

// ---- rows of every layout -------------------------------------------------------------------

#[test]
fn us_rows() {
    check_rows(
        Us,
        [
            ("`1234567890-=", "~!@#$%^&*()_+"),
            ("qwertyuiop[]", "QWERTYUIOP{}"),
            ("asdfghjkl;'\\", "ASDFGHJKL:\"|"),
            ("\\zxcvbnm,./", "|ZXCVBNM<>?"),
        ],
    );
}

#[test]
fn us_intl_rows() {
    // Same characters as US; `, ', ~, " and ^ are dead keys typing themselves before Space.
    check_rows(
        UsIntl,
        [
            ("`1234567890-=", "~!@#$%^&*()_+"),
            ("qwertyuiop[]", "QWERTYUIOP{}"),
            ("asdfghjkl;'\\", "ASDFGHJKL:\"|"),
            ("\\zxcvbnm,./", "|ZXCVBNM<>?"),
        ],
    );
}

#[test]
fn uk_rows() {
    check_rows(
        Uk,
        [
            ("`1234567890-=", "¬!\"£$%^&*()_+"),
            ("qwertyuiop[]", "QWERTYUIOP{}"),
            ("asdfghjkl;'#", "ASDFGHJKL:@~"),
            ("\\zxcvbnm,./", "|ZXCVBNM<>?"),
        ],
    );
}

#[test]
fn de_rows() {
    check_rows(
        De,
        [
            ("^1234567890ß´", "°!\"§$%&/()=?`"),
            ("qwertzuiopü+", "QWERTZUIOPÜ*"),
            ("asdfghjklöä#", "ASDFGHJKLÖÄ'"),
            ("<yxcvbnm,.-", ">YXCVBNM;:_"),
        ],
    );
}

#[test]
fn fr_rows() {
    check_rows(
        Fr,
        [
            ("²&é\"'(-è_çà)=", "∅1234567890°+"),
            ("azertyuiop^$", "AZERTYUIOP¨£"),
            ("qsdfghjklmù*", "QSDFGHJKLM%µ"),
            ("<wxcvbn,;:!", ">WXCVBN?./§"),
        ],
    );
}

#[test]
fn dvorak_rows() {
    check_rows(
        Dvorak,
        [
            ("`1234567890[]", "~!@#$%^&*(){}"),
            ("',.pyfgcrl/=", "\"<>PYFGCRL?+"),
            ("aoeuidhtns-\\", "AOEUIDHTNS_|"),
            ("\\;qjkxbmwvz", "|:QJKXBMWVZ"),
        ],
    );
}

#[test]
fn colemak_rows() {
    check_rows(
        Colemak,
        [
            ("`1234567890-=", "~!@#$%^&*()_+"),
            ("qwfpgjluy;[]", "QWFPGJLUY:{}"),
            ("arstdhneio'\\", "ARSTDHNEIO\"|"),
            ("\\zxcvbkm,./", "|ZXCVBKM<>?"),
        ],
    );
}

#[test]
fn jis_rows() {
    check_rows(
        Jis::new(),
        [
            ("∅1234567890-^", "∅!\"#$%&'()∅=~"),
            ("qwertyuiop@[", "QWERTYUIOP`{"),
            ("asdfghjkl;:]", "ASDFGHJKL+*}"),
            ("∅zxcvbnm,./", "∅ZXCVBNM<>?"),
        ],
    );
}

#[test]
fn jis_keys() {
    let jis = Jis::new();
    let jp = [K::IntlYen, K::IntlRo];
    assert_eq!(row_chars(jis, Locks::empty(), &[], &jp), "\\\\");
    assert_eq!(row_chars(jis, Locks::empty(), &[K::LeftShift], &jp), "|_");
    let yen = Jis::with_yen_sign();
    assert_eq!(row_chars(yen, Locks::empty(), &[], &jp), "¥\\");
    assert_eq!(yen.name(), "jp-yen");
    // Zenkaku/Hankaku (the key in the US ` position) and the conversion keys come out as keys.
    let mut kb = Keyboard::new(jis);
    let keys = [
        K::Backquote,
        K::Lang5,
        K::Convert,
        K::NonConvert,
        K::KatakanaHiragana,
    ];
    let out: Vec<_> = keys.iter().flat_map(|&k| kb.process(press(k))).collect();
    assert_eq!(
        out,
        [
            DecodedKey::Key(K::Lang5),
            DecodedKey::Key(K::Lang5),
            DecodedKey::Key(K::Convert),
            DecodedKey::Key(K::NonConvert),
            DecodedKey::Key(K::KatakanaHiragana),
        ]
    );
    assert_eq!(type_keys(&mut kb, &[], &[K::NumpadJpComma]), ",");
}

#[test]
fn dvorak_types_the_quick_brown_fox() {
    // The physical keys a Dvorak typist presses for "the quick brown fox".
    let keys = [
        K::K,
        K::J,
        K::D,
        K::Space,
        K::X,
        K::F,
        K::G,
        K::I,
        K::V,
        K::Space,
        K::N,
        K::O,
        K::S,
        K::Comma,
        K::L,
        K::Space,
        K::Y,
        K::S,
        K::B,
    ];
    let mut kb = Keyboard::new(Dvorak);
    assert_eq!(type_keys(&mut kb, &[], &keys), "the quick brown fox");
}

#[test]
fn qwerty_keys_through_every_layout() {
    // The same physical keys ("hello world" on US) through each layout.
    let keys = [
        K::H,
        K::E,
        K::L,
        K::L,
        K::O,
        K::Space,
        K::W,
        K::O,
        K::R,
        K::L,
        K::D,
    ];
    let expected = [
        (AnyLayout::Us, "hello world"),
        (AnyLayout::UsIntl, "hello world"),
        (AnyLayout::Uk, "hello world"),
        (AnyLayout::De, "hello world"),
        (AnyLayout::Fr, "hello zorld"),
        (AnyLayout::Dvorak, "d.nnr ,rpne"),
        (AnyLayout::Colemak, "hfiiy wypis"),
        (AnyLayout::Jis, "hello world"),
    ];
    for (layout, text) in expected {
        let mut kb = Keyboard::new(layout);
        assert_eq!(type_keys(&mut kb, &[], &keys), text, "{layout:?}");
    }
}

// ---- Caps Lock --------------------------------------------------------------------------------

#[test]
fn caps_lock_applies_to_letters_only() {
    let caps = Locks::CAPS;
    assert_eq!(row_chars(Us, caps, &[], &ROW2), "QWERTYUIOP[]");
    assert_eq!(row_chars(Us, caps, &[], &ROW1), "`1234567890-=");
    assert_eq!(row_chars(Us, caps, &[K::LeftShift], &ROW2), "qwertyuiop{}");
    assert_eq!(row_chars(De, caps, &[], &ROW3), "ASDFGHJKLÖÄ#");
    assert_eq!(row_chars(De, caps, &[], &ROW1), "^1234567890ß´");
    // AZERTY: the digit row and ù are not letters here.
    assert_eq!(row_chars(Fr, caps, &[], &ROW1), "²&é\"'(-è_çà)=");
    assert_eq!(row_chars(Fr, caps, &[], &ROW3), "QSDFGHJKLMù*");
    assert_eq!(row_chars(Dvorak, caps, &[], &ROW2), "',.PYFGCRL/=");
    // Caps applies to US-International's AltGr letters too.
    assert_eq!(
        row_chars(UsIntl, caps, &[K::RightAlt], &[K::Q, K::N, K::S]),
        "ÄÑß"
    );
}

// ---- dead keys ----------------------------------------------------------------------------------

fn dead_sequence<L: Layout>(layout: L, events: &[KeyEvent]) -> String {
    let mut kb = Keyboard::new(layout);
    text_of(&run(&mut kb, events))
}

fn taps(keys: &[KeyCode]) -> Vec<KeyEvent> {
    keys.iter().flat_map(|&k| [press(k), release(k)]).collect()
}

fn shifted(key: KeyCode) -> Vec<KeyEvent> {
    vec![
        press(K::LeftShift),
        press(key),
        release(key),
        release(K::LeftShift),
    ]
}

fn altgr(key: KeyCode) -> Vec<KeyEvent> {
    vec![
        press(K::RightAlt),
        press(key),
        release(key),
        release(K::RightAlt),
    ]
}

#[test]
fn us_intl_dead_keys() {
    let l = UsIntl;
    assert_eq!(dead_sequence(l, &taps(&[K::Quote, K::E])), "é");
    assert_eq!(dead_sequence(l, &taps(&[K::Quote, K::Space])), "'");
    assert_eq!(dead_sequence(l, &taps(&[K::Quote, K::T])), "'t");
    assert_eq!(dead_sequence(l, &taps(&[K::Quote, K::C])), "ç");
    assert_eq!(dead_sequence(l, &taps(&[K::Backquote, K::A])), "à");
    let mut events = shifted(K::Quote);
    events.extend(taps(&[K::U]));
    assert_eq!(dead_sequence(l, &events), "ü");
    let mut events = shifted(K::Backquote);
    events.extend(taps(&[K::N]));
    assert_eq!(dead_sequence(l, &events), "ñ");
    let mut events = shifted(K::Digit6);
    events.extend(shifted(K::O));
    assert_eq!(dead_sequence(l, &events), "Ô");
    let mut events = shifted(K::Digit6);
    events.extend(taps(&[K::Digit1]));
    assert_eq!(dead_sequence(l, &events), "^1");
    // A whole word: "naïve café".
    let mut events = taps(&[K::N, K::A]);
    events.extend(shifted(K::Quote));
    events.extend(taps(&[
        K::I,
        K::V,
        K::E,
        K::Space,
        K::C,
        K::A,
        K::F,
        K::Quote,
        K::E,
    ]));
    assert_eq!(dead_sequence(l, &events), "naïve café");
}

#[test]
fn us_intl_altgr() {
    let l = UsIntl;
    assert_eq!(dead_sequence(l, &altgr(K::Q)), "ä");
    assert_eq!(dead_sequence(l, &altgr(K::Digit5)), "€");
    assert_eq!(dead_sequence(l, &altgr(K::S)), "ß");
    assert_eq!(dead_sequence(l, &altgr(K::Quote)), "´");
    let events = [
        press(K::RightAlt),
        press(K::LeftShift),
        press(K::Q),
        press(K::Digit4),
    ];
    assert_eq!(dead_sequence(l, &events), "Ä£");
}

#[test]
fn german_dead_keys_and_altgr() {
    let l = De;
    assert_eq!(dead_sequence(l, &taps(&[K::Backquote, K::E])), "ê");
    assert_eq!(dead_sequence(l, &taps(&[K::Backquote, K::Space])), "^");
    assert_eq!(dead_sequence(l, &taps(&[K::Equals, K::E])), "é");
    assert_eq!(dead_sequence(l, &taps(&[K::Equals, K::Equals])), "´");
    assert_eq!(dead_sequence(l, &taps(&[K::Equals, K::Digit1])), "´1");
    let mut events = shifted(K::Equals);
    events.extend(taps(&[K::A]));
    assert_eq!(dead_sequence(l, &events), "à");
    assert_eq!(dead_sequence(l, &altgr(K::Q)), "@");
    assert_eq!(dead_sequence(l, &altgr(K::E)), "€");
    assert_eq!(dead_sequence(l, &altgr(K::Digit7)), "{");
    assert_eq!(dead_sequence(l, &altgr(K::Minus)), "\\");
    assert_eq!(dead_sequence(l, &altgr(K::IntlBackslash)), "|");
    assert_eq!(dead_sequence(l, &altgr(K::RightBracket)), "~");
    assert_eq!(dead_sequence(l, &altgr(K::M)), "µ");
    // AltGr with nothing on the key: the bare key.
    let mut kb = Keyboard::new(De);
    assert_eq!(run(&mut kb, &altgr(K::X)), [DecodedKey::Key(K::X)]);
}

#[test]
fn french_dead_keys_and_altgr() {
    let l = Fr;
    assert_eq!(dead_sequence(l, &taps(&[K::LeftBracket, K::E])), "ê");
    let mut events = shifted(K::LeftBracket);
    events.extend(taps(&[K::E]));
    assert_eq!(dead_sequence(l, &events), "ë");
    assert_eq!(dead_sequence(l, &taps(&[K::LeftBracket, K::X])), "^x");
    let mut events = altgr(K::Digit2);
    events.extend(taps(&[K::N]));
    assert_eq!(dead_sequence(l, &events), "ñ");
    let mut events = altgr(K::Digit7);
    events.extend(taps(&[K::Q]));
    assert_eq!(dead_sequence(l, &events), "à");
    assert_eq!(dead_sequence(l, &altgr(K::Digit0)), "@");
    assert_eq!(dead_sequence(l, &altgr(K::E)), "€");
    assert_eq!(dead_sequence(l, &altgr(K::Digit9)), "^");
    assert_eq!(dead_sequence(l, &altgr(K::RightBracket)), "¤");
}

#[test]
fn uk_altgr() {
    assert_eq!(dead_sequence(Uk, &altgr(K::Digit4)), "€");
    assert_eq!(dead_sequence(Uk, &altgr(K::Backquote)), "¦");
    assert_eq!(dead_sequence(Uk, &altgr(K::E)), "é");
    // Left Alt is not AltGr.
    let events = [press(K::LeftAlt), press(K::Digit4)];
    assert_eq!(dead_sequence(Uk, &events), "4");
}

// ---- Ctrl -------------------------------------------------------------------------------------

#[test]
fn ctrl_gives_control_characters() {
    let ctrl = |layout: AnyLayout, held: &[KeyCode], key| {
        let mut kb = Keyboard::new(layout);
        type_keys(&mut kb, held, &[key])
    };
    assert_eq!(ctrl(AnyLayout::Us, &[K::LeftCtrl], K::C), "\u{3}");
    assert_eq!(ctrl(AnyLayout::Us, &[K::RightCtrl], K::A), "\u{1}");
    assert_eq!(
        ctrl(AnyLayout::Us, &[K::LeftCtrl, K::LeftShift], K::Z),
        "\u{1a}"
    );
    assert_eq!(
        ctrl(AnyLayout::Us, &[K::LeftCtrl], K::LeftBracket),
        "\u{1b}"
    );
    assert_eq!(ctrl(AnyLayout::Us, &[K::LeftCtrl], K::Backslash), "\u{1c}");
    assert_eq!(
        ctrl(AnyLayout::Us, &[K::LeftCtrl, K::LeftShift], K::Digit2),
        "\0"
    );
    assert_eq!(
        ctrl(AnyLayout::Us, &[K::LeftCtrl, K::LeftShift], K::Minus),
        "\u{1f}"
    );
    assert_eq!(ctrl(AnyLayout::Us, &[K::LeftCtrl], K::Digit1), "1");
    // Caps Lock does not matter.
    let mut kb = Keyboard::with_locks(Us, Locks::CAPS);
    assert_eq!(type_keys(&mut kb, &[K::LeftCtrl], &[K::C]), "\u{3}");
    // The layout's letter decides: Dvorak's J key types h, AZERTY's A key (US Q) types a.
    assert_eq!(ctrl(AnyLayout::Dvorak, &[K::LeftCtrl], K::J), "\u{8}");
    assert_eq!(ctrl(AnyLayout::Fr, &[K::LeftCtrl], K::Q), "\u{1}");
    assert_eq!(ctrl(AnyLayout::De, &[K::LeftCtrl], K::Y), "\u{1a}");
    // Alt and Meta leave characters alone (shortcuts read the modifiers).
    let mut kb = Keyboard::new(Us);
    assert_eq!(type_keys(&mut kb, &[K::LeftAlt, K::LeftMeta], &[K::C]), "c");
}

// ---- keypad -----------------------------------------------------------------------------------

const KEYPAD: [KeyCode; 11] = [
    K::Numpad0,
    K::Numpad1,
    K::Numpad2,
    K::Numpad3,
    K::Numpad4,
    K::Numpad5,
    K::Numpad6,
    K::Numpad7,
    K::Numpad8,
    K::Numpad9,
    K::NumpadPeriod,
];

#[test]
fn keypad_follows_num_lock() {
    let mut on = Keyboard::with_locks(Us, Locks::NUM);
    assert_eq!(type_keys(&mut on, &[], &KEYPAD), "0123456789.");
    let mut off = Keyboard::new(Us);
    let out: Vec<_> = KEYPAD.iter().flat_map(|&k| off.process(press(k))).collect();
    let nav = [
        K::Insert,
        K::End,
        K::Down,
        K::PageDown,
        K::Left,
        K::Numpad5,
        K::Right,
        K::Home,
        K::Up,
        K::PageUp,
        K::Delete,
    ];
    assert_eq!(out, nav.map(DecodedKey::Key));
    // Shift inverts Num Lock for these keys.
    assert_eq!(type_keys(&mut off, &[K::LeftShift], &KEYPAD), "0123456789.");
    let out: Vec<_> = [press(K::RightShift), press(K::Numpad7)]
        .iter()
        .flat_map(|&e| on.process(e))
        .collect();
    assert_eq!(out, [DecodedKey::Key(K::Home)]);
    // German decimal comma.
    let mut de = Keyboard::with_locks(De, Locks::NUM);
    assert_eq!(
        type_keys(&mut de, &[], &[K::Numpad1, K::NumpadPeriod, K::Numpad5]),
        "1,5"
    );
}

#[test]
fn keypad_operators_always_type() {
    let ops = [
        K::NumpadSlash,
        K::NumpadStar,
        K::NumpadMinus,
        K::NumpadPlus,
        K::NumpadEnter,
    ];
    for locks in [Locks::empty(), Locks::NUM] {
        let mut kb = Keyboard::with_locks(Us, locks);
        assert_eq!(type_keys(&mut kb, &[], &ops), "/*-+\n");
    }
}

#[test]
fn shared_keys() {
    let mut kb = Keyboard::new(Fr);
    let keys = [K::Space, K::Enter, K::Tab, K::Backspace, K::Escape];
    assert_eq!(type_keys(&mut kb, &[], &keys), " \n\t\u{8}\u{1b}");
    let keys = [K::F1, K::Up, K::Delete, K::Home, K::PrintScreen, K::Pause];
    let out: Vec<_> = keys.iter().flat_map(|&k| kb.process(press(k))).collect();
    assert_eq!(out, keys.map(DecodedKey::Key));
}

// ---- locks --------------------------------------------------------------------------------------

#[test]
fn locks_toggle_on_press_only() {
    let mut kb = Keyboard::new(Us);
    for lock in [K::CapsLock, K::NumLock, K::ScrollLock] {
        let out = run(
            &mut kb,
            &[
                press(lock),
                KeyEvent::repeat(lock),
                KeyEvent::repeat(lock),
                release(lock),
            ],
        );
        assert_eq!(out.len(), 1, "{lock:?}");
    }
    assert_eq!(kb.locks(), Locks::all());
    assert_eq!(kb.locks().led_byte(), 0x07);
    let out = run(&mut kb, &[press(K::NumLock), release(K::NumLock)]);
    assert_eq!(out, [DecodedKey::LocksChanged(Locks::CAPS | Locks::SCROLL)]);
    assert_eq!(kb.locks().led_byte(), 0x05);
}

#[test]
fn led_byte_bits() {
    assert_eq!(Locks::SCROLL.led_byte(), 0x01);
    assert_eq!(Locks::NUM.led_byte(), 0x02);
    assert_eq!(Locks::CAPS.led_byte(), 0x04);
    assert_eq!(Locks::empty().led_byte(), 0x00);
}

#[test]
fn initial_locks() {
    static KEYBOARD: Keyboard<Us> = Keyboard::with_locks(Us, Locks::NUM.union(Locks::CAPS));
    let mut kb = KEYBOARD;
    assert_eq!(kb.locks().led_byte(), 0x06);
    assert_eq!(type_keys(&mut kb, &[], &[K::A, K::Numpad1]), "A1");
    kb.set_locks(Locks::empty());
    assert_eq!(type_keys(&mut kb, &[], &[K::A]), "a");
}

// ---- modifier robustness --------------------------------------------------------------------

#[test]
fn releasing_unpressed_modifiers_is_harmless() {
    let mut kb = Keyboard::new(Us);
    let out = run(
        &mut kb,
        &[
            release(K::LeftShift),
            release(K::RightShift),
            release(K::RightAlt),
        ],
    );
    assert!(out.is_empty());
    assert_eq!(kb.modifiers(), Modifiers::empty());
    // Left Shift held, a stray Right Shift release: still shifted.
    let events = [press(K::LeftShift), release(K::RightShift), press(K::A)];
    assert_eq!(text_of(&run(&mut kb, &events)), "A");
    assert_eq!(kb.modifiers(), Modifiers::LEFT_SHIFT);
}

#[test]
fn fake_shifts_do_not_change_shift_state() {
    // Shift+Insert with Num Lock on, and Shift+keypad /: the keyboard wraps them in fake
    // shift releases and presses, which the decoder drops.
    for set in [ScancodeSet::Set1, ScancodeSet::Set2] {
        let mut decoder = Decoder::new(set);
        let mut kb = Keyboard::with_locks(Us, Locks::NUM);
        let context = Context {
            num_lock: true,
            left_shift: true,
            ..Context::default()
        };
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&encode(set, press(K::LeftShift)).unwrap());
        for key in [K::Insert, K::NumpadSlash] {
            for event in [press(key), release(key)] {
                bytes.extend_from_slice(&encode_with(set, event, context).unwrap());
            }
        }
        bytes.extend_from_slice(&encode(set, press(K::A)).unwrap());
        let out: Vec<_> = bytes
            .iter()
            .flat_map(|&b| decoder.feed(b))
            .flat_map(|e| kb.process_event(e))
            .collect();
        assert_eq!(
            out,
            [
                DecodedKey::Key(K::Insert),
                DecodedKey::Char('/'),
                DecodedKey::Char('A')
            ],
            "{set:?}"
        );
        assert_eq!(kb.modifiers(), Modifiers::LEFT_SHIFT);
    }
}

// ---- the whole pipeline -----------------------------------------------------------------------

#[test]
fn bytes_to_text_in_every_set() {
    // "Grüße, Jürgen!" on German, typed key by key with Shift where needed.
    let keys: &[(bool, KeyCode)] = &[
        (true, K::G),
        (false, K::R),
        (false, K::LeftBracket),
        (false, K::Minus),
        (false, K::E),
        (false, K::Comma),
        (false, K::Space),
        (true, K::J),
        (false, K::LeftBracket),
        (false, K::R),
        (false, K::G),
        (false, K::E),
        (false, K::N),
        (true, K::Digit1),
    ];
    let mut events = Vec::new();
    for &(shift, key) in keys {
        if shift {
            events.push(press(K::LeftShift));
        }
        events.extend([press(key), release(key)]);
        if shift {
            events.push(release(K::LeftShift));
        }
    }
    for set in [ScancodeSet::Set1, ScancodeSet::Set2, ScancodeSet::Set3] {
        let bytes: Vec<u8> = events
            .iter()
            .flat_map(|&e| encode(set, e).unwrap().as_slice().to_vec())
            .collect();
        let mut decoder = Decoder::new(set);
        let mut kb = Keyboard::new(De);
        let text: String = bytes
            .iter()
            .flat_map(|&b| decoder.feed(b))
            .flat_map(|e| kb.process_event(e))
            .filter_map(DecodedKey::char)
            .collect();
        assert_eq!(text, "Grüße, Jürgen!", "{set:?}");
    }
}

#[test]
fn typematic_repeat_types_again() {
    let mut kb = Keyboard::new(Us);
    let events = [
        press(K::A),
        KeyEvent::repeat(K::A),
        KeyEvent::repeat(K::A),
        release(K::A),
    ];
    assert_eq!(text_of(&run(&mut kb, &events)), "aaa");
}

#[test]
fn runtime_layout_switch() {
    let mut kb = Keyboard::new(AnyLayout::Us);
    assert_eq!(type_keys(&mut kb, &[], &[K::Y]), "y");
    kb.set_layout(AnyLayout::from_name("de").unwrap());
    assert_eq!(type_keys(&mut kb, &[], &[K::Y]), "z");
    let dyn_layout: &dyn Layout = &Colemak;
    let mut kb = Keyboard::new(dyn_layout);
    assert_eq!(type_keys(&mut kb, &[], &[K::E]), "f");
}

#[test]
fn jis_keys_from_set1_bytes() {
    // Set 1 JIS keys are plain bytes: Yen 7D, Ro 73 (breaks FD and F3), here with Shift.
    let bytes = [
        0x7D, 0xFD, // Yen
        0x73, 0xF3, // Ro
        0x2A, 0x7D, 0xFD, 0x73, 0xF3, 0xAA, // Shift + Yen, Ro
        0x1A, 0x9A, // [ position: @
        0x28, 0xA8, // ' position: :
    ];
    let mut decoder = Decoder::new(ScancodeSet::Set1);
    let mut kb = Keyboard::new(Jis::new());
    let text: String = bytes
        .iter()
        .flat_map(|&b| decoder.feed(b))
        .flat_map(|e| kb.process_event(e))
        .filter_map(DecodedKey::char)
        .collect();
    assert_eq!(text, "\\\\|_@:");
    assert_eq!(kb.modifiers(), Modifiers::empty());
}
