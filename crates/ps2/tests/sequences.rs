//! Hand-written byte sequences for every special case of the decoder.

use irqkit_ps2::{
    Decoder, Event, KeyCode, KeyEvent, Response, Resync, ScancodeSet, UnknownScancode,
};

use KeyCode::*;
use ScancodeSet::{Set1, Set2, Set3};

fn feed(decoder: &mut Decoder, bytes: &[u8]) -> Vec<Event> {
    bytes.iter().flat_map(|&b| decoder.feed(b)).collect()
}

fn run(set: ScancodeSet, bytes: &[u8]) -> Vec<Event> {
    feed(&mut Decoder::new(set), bytes)
}

fn press(key: KeyCode) -> Event {
    Event::Key(KeyEvent::press(key))
}
fn release(key: KeyCode) -> Event {
    Event::Key(KeyEvent::release(key))
}
fn repeat(key: KeyCode) -> Event {
    Event::Key(KeyEvent::repeat(key))
}
fn resp(response: Response) -> Event {
    Event::Response(response)
}
fn resync(discarded: u8, unexpected: u8) -> Event {
    Event::Resync(Resync {
        discarded,
        unexpected,
    })
}

#[test]
fn typing_with_shift_in_each_set() {
    let expected = [press(LeftShift), press(A), release(A), release(LeftShift)];
    assert_eq!(run(Set1, &[0x2A, 0x1E, 0x9E, 0xAA]), expected);
    assert_eq!(run(Set2, &[0x12, 0x1C, 0xF0, 0x1C, 0xF0, 0x12]), expected);
    assert_eq!(run(Set3, &[0x12, 0x1C, 0xF0, 0x1C, 0xF0, 0x12]), expected);
}

#[test]
fn held_key_repeats_and_lock_keys_repeat_too() {
    assert_eq!(
        run(Set1, &[0x1E, 0x1E, 0x1E, 0x9E, 0x1E]),
        [press(A), repeat(A), repeat(A), release(A), press(A)]
    );
    // A lock key held down: one press (toggle once), then repeats.
    assert_eq!(
        run(Set2, &[0x58, 0x58, 0x58, 0xF0, 0x58]),
        [
            press(CapsLock),
            repeat(CapsLock),
            repeat(CapsLock),
            release(CapsLock)
        ]
    );
    // An extended key repeats the same way.
    assert_eq!(
        run(Set2, &[0xE0, 0x75, 0xE0, 0x75, 0xE0, 0xF0, 0x75]),
        [press(Up), repeat(Up), release(Up)]
    );
}

#[test]
fn extended_keys() {
    assert_eq!(
        run(Set1, &[0xE0, 0x1D, 0xE0, 0x38, 0xE0, 0xB8, 0xE0, 0x9D]),
        [
            press(RightCtrl),
            press(RightAlt),
            release(RightAlt),
            release(RightCtrl)
        ]
    );
    assert_eq!(
        run(Set2, &[0xE0, 0x5A, 0xE0, 0xF0, 0x5A]),
        [press(NumpadEnter), release(NumpadEnter)]
    );
    // Set 3 has no prefixes: Right Ctrl is a plain code.
    assert_eq!(
        run(Set3, &[0x58, 0xF0, 0x58]),
        [press(RightCtrl), release(RightCtrl)]
    );
}

#[test]
fn pause_is_an_e1_sequence_with_no_ctrl() {
    let expected = [press(Pause), release(Pause)];
    assert_eq!(run(Set1, &[0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5]), expected);
    assert_eq!(
        run(Set2, &[0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77]),
        expected
    );
    assert_eq!(run(Set3, &[0x62, 0xF0, 0x62]), expected);
    let mut decoder = Decoder::new(Set2);
    feed(
        &mut decoder,
        &[0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77],
    );
    assert!(
        decoder.held().is_empty(),
        "the 14 inside the sequence is not Ctrl"
    );
}

#[test]
fn ctrl_break() {
    assert_eq!(
        run(Set1, &[0x1D, 0xE0, 0x46, 0xE0, 0xC6, 0x9D]),
        [
            press(LeftCtrl),
            press(Break),
            release(Break),
            release(LeftCtrl)
        ]
    );
    assert_eq!(
        run(Set2, &[0x14, 0xE0, 0x7E, 0xE0, 0xF0, 0x7E, 0xF0, 0x14]),
        [
            press(LeftCtrl),
            press(Break),
            release(Break),
            release(LeftCtrl)
        ]
    );
}

#[test]
fn print_screen_and_sysrq() {
    let print = [press(PrintScreen), release(PrintScreen)];
    // No modifier: wrapped in a fake left shift.
    assert_eq!(
        run(Set1, &[0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA]),
        print
    );
    assert_eq!(
        run(
            Set2,
            &[0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12]
        ),
        print
    );
    // With Ctrl: bare.
    assert_eq!(
        run(Set1, &[0x1D, 0xE0, 0x37, 0xE0, 0xB7, 0x9D]),
        [
            press(LeftCtrl),
            press(PrintScreen),
            release(PrintScreen),
            release(LeftCtrl)
        ]
    );
    assert_eq!(run(Set3, &[0x57, 0xF0, 0x57]), print);
    // Alt+Print Screen is SysRq: 54 / 84.
    assert_eq!(
        run(Set1, &[0x38, 0x54, 0xD4, 0xB8]),
        [
            press(LeftAlt),
            press(SysRq),
            release(SysRq),
            release(LeftAlt)
        ]
    );
    assert_eq!(
        run(Set2, &[0x11, 0x84, 0xF0, 0x84, 0xF0, 0x11]),
        [
            press(LeftAlt),
            press(SysRq),
            release(SysRq),
            release(LeftAlt)
        ]
    );
    // 0x7F is Linux's (and QEMU's) set 2 code for it; accepted as SysRq too.
    assert_eq!(
        run(Set2, &[0x7F, 0xF0, 0x7F]),
        [press(SysRq), release(SysRq)]
    );
}

#[test]
fn fake_shifts_with_num_lock_on() {
    let mut decoder = Decoder::new(Set1);
    assert_eq!(feed(&mut decoder, &[0xE0, 0x2A]), []);
    assert!(!decoder.is_held(LeftShift));
    assert_eq!(
        feed(&mut decoder, &[0xE0, 0x52, 0xE0, 0xD2, 0xE0, 0xAA]),
        [press(Insert), release(Insert)]
    );
    assert!(decoder.held().is_empty());
    assert_eq!(
        run(
            Set2,
            &[0xE0, 0x12, 0xE0, 0x70, 0xE0, 0xF0, 0x70, 0xE0, 0xF0, 0x12]
        ),
        [press(Insert), release(Insert)]
    );
}

#[test]
fn fake_shifts_with_shift_held_keep_shift_down() {
    // Left Shift held, then Home: the keyboard fakes a shift release and press around it.
    let mut decoder = Decoder::new(Set1);
    assert_eq!(feed(&mut decoder, &[0x2A]), [press(LeftShift)]);
    assert_eq!(feed(&mut decoder, &[0xE0, 0xAA]), []);
    assert!(
        decoder.is_held(LeftShift),
        "a fake release must not release Shift"
    );
    assert_eq!(
        feed(&mut decoder, &[0xE0, 0x47, 0xE0, 0xC7]),
        [press(Home), release(Home)]
    );
    assert_eq!(feed(&mut decoder, &[0xE0, 0x2A]), []);
    assert!(decoder.is_held(LeftShift));
    assert_eq!(
        feed(&mut decoder, &[0x2A]),
        [repeat(LeftShift)],
        "still held, so a repeat"
    );
    assert_eq!(feed(&mut decoder, &[0xAA]), [release(LeftShift)]);

    // Right Shift held, keypad /: E0 B6 / E0 36 are fakes while Right Shift is held.
    assert_eq!(
        run(
            Set1,
            &[0x36, 0xE0, 0xB6, 0xE0, 0x35, 0xE0, 0xB5, 0xE0, 0x36, 0xB6]
        ),
        [
            press(RightShift),
            press(NumpadSlash),
            release(NumpadSlash),
            release(RightShift)
        ]
    );
    // Set 2, both shifts held, Delete.
    assert_eq!(
        run(
            Set2,
            &[
                0x12, 0x59, 0xE0, 0xF0, 0x12, 0xE0, 0xF0, 0x59, 0xE0, 0x71, 0xE0, 0xF0, 0x71, 0xE0,
                0x59, 0xE0, 0x12, 0xF0, 0x59, 0xF0, 0x12
            ]
        ),
        [
            press(LeftShift),
            press(RightShift),
            press(Delete),
            release(Delete),
            release(RightShift),
            release(LeftShift)
        ]
    );
}

#[test]
fn fake_right_shift_pair_survives_a_lost_right_shift_press() {
    // Right Shift's make (0x36) was lost: the keyboard still wraps Home in E0 B6 / E0 36.
    let mut decoder = Decoder::new(Set1);
    assert_eq!(
        feed(
            &mut decoder,
            &[0xE0, 0xB6, 0xE0, 0x47, 0xE0, 0xC7, 0xE0, 0x36]
        ),
        [press(Home), release(Home)]
    );
    // The pair is closed: a later E0 36 is BassBoost again.
    assert_eq!(feed(&mut decoder, &[0xE0, 0x36]), [press(BassBoost)]);
}

#[test]
fn e0_36_is_bass_boost_when_right_shift_is_not_held() {
    assert_eq!(
        run(Set1, &[0xE0, 0x36, 0xE0, 0xB6]),
        [press(BassBoost), release(BassBoost)]
    );
}

#[test]
fn korean_keys_synthesize_their_release() {
    for set in [Set1, Set2] {
        assert_eq!(
            run(set, &[0xF2, 0xF2, 0xF1]),
            [
                press(Hangul),
                release(Hangul),
                press(Hangul),
                release(Hangul),
                press(Hanja),
                release(Hanja)
            ]
        );
    }
}

#[test]
fn japanese_keys_in_set_1_are_plain_bytes() {
    let keys = [
        (0x70, KatakanaHiragana),
        (0x73, IntlRo),
        (0x79, Convert),
        (0x7B, NonConvert),
        (0x7D, IntlYen),
    ];
    for (code, key) in keys {
        assert_eq!(
            run(Set1, &[code, code | 0x80]),
            [press(key), release(key)],
            "{code:#x}"
        );
    }
}

#[test]
fn function_media_and_acpi_keys() {
    let set1: [(&[u8], KeyCode); 9] = [
        (&[0x5D], F13),
        (&[0x6F], F24),
        (&[0xE0, 0x22], MediaPlayPause),
        (&[0xE0, 0x20], VolumeMute),
        (&[0xE0, 0x30], VolumeUp),
        (&[0xE0, 0x5E], Power),
        (&[0xE0, 0x5F], Sleep),
        (&[0xE0, 0x63], Wake),
        (&[0xE0, 0x6C], Mail),
    ];
    for (bytes, key) in set1 {
        assert_eq!(run(Set1, bytes), [press(key)], "{bytes:02X?}");
    }
    let set2: [(&[u8], KeyCode); 6] = [
        (&[0x2F], F13),
        (&[0xE0, 0x34], MediaPlayPause),
        (&[0xE0, 0x37], Power),
        (&[0xE0, 0x3F], Sleep),
        (&[0xE0, 0x5E], Wake),
        (&[0xE0, 0x2B], Calculator),
    ];
    for (bytes, key) in set2 {
        assert_eq!(run(Set2, bytes), [press(key)], "{bytes:02X?}");
    }
}

#[test]
fn protocol_bytes_are_responses_in_every_set() {
    for set in [Set1, Set2, Set3] {
        let overrun = if set == Set1 { 0xFF } else { 0x00 };
        assert_eq!(
            run(set, &[0xFA, 0xFE, 0xEE, 0xAA, 0xFC, 0xFD, overrun]),
            [
                resp(Response::Ack),
                resp(Response::Resend),
                resp(Response::Echo),
                resp(Response::BatOk),
                resp(Response::BatFailed { code: 0xFC }),
                resp(Response::BatFailed { code: 0xFD }),
                resp(Response::Overrun { code: overrun }),
            ],
            "{set}"
        );
    }
}

#[test]
fn set1_aa_is_left_shift_break_only_while_left_shift_is_held() {
    let mut decoder = Decoder::new(Set1);
    assert_eq!(
        feed(&mut decoder, &[0x2A, 0xAA]),
        [press(LeftShift), release(LeftShift)]
    );
    assert_eq!(
        feed(&mut decoder, &[0xAA]),
        [resp(Response::BatOk)],
        "nothing held: a BAT"
    );

    // After a reset command, 0xAA is the BAT even with Left Shift held; held keys are dropped.
    feed(&mut decoder, &[0x2A, 0x1E]);
    decoder.expect_bat();
    assert!(decoder.is_expecting_bat());
    assert_eq!(
        feed(&mut decoder, &[0xFA, 0xAA]),
        [resp(Response::Ack), resp(Response::BatOk)]
    );
    assert!(!decoder.is_expecting_bat());
    assert!(decoder.held().is_empty());
    assert_eq!(
        feed(&mut decoder, &[0x2A]),
        [press(LeftShift)],
        "a press again, not a repeat"
    );
}

#[test]
fn set1_fe_and_fd_are_breaks_only_while_their_key_is_held() {
    assert_eq!(
        run(Set1, &[0x7E, 0xFE, 0xFE]),
        [
            press(NumpadComma),
            release(NumpadComma),
            resp(Response::Resend)
        ]
    );
    assert_eq!(
        run(Set1, &[0x7D, 0xFD, 0xFD]),
        [
            press(IntlYen),
            release(IntlYen),
            resp(Response::BatFailed { code: 0xFD })
        ]
    );
    let mut decoder = Decoder::new(Set1);
    feed(&mut decoder, &[0x7D]);
    decoder.expect_bat();
    assert_eq!(
        feed(&mut decoder, &[0xFD]),
        [resp(Response::BatFailed { code: 0xFD })]
    );
}

#[test]
fn resync_after_garbage() {
    // A response in the middle of a sequence.
    assert_eq!(
        run(Set2, &[0xE0, 0xFA]),
        [resync(1, 0xFA), resp(Response::Ack)]
    );
    assert_eq!(
        run(Set2, &[0xF0, 0xAA]),
        [resync(1, 0xAA), resp(Response::BatOk)]
    );
    // A broken Pause: the byte that does not fit is decoded afresh.
    assert_eq!(run(Set1, &[0xE1, 0x1E]), [resync(1, 0x1E), press(A)]);
    assert_eq!(run(Set1, &[0xE1, 0x1D, 0x1E]), [resync(2, 0x1E), press(A)]);
    assert_eq!(
        run(Set2, &[0xE1, 0xF0, 0x14, 0xF0, 0x1C]),
        [resync(4, 0x1C), press(A)]
    );
    // Three events from one byte: the resync, then Hangul's press and release.
    assert_eq!(
        run(Set2, &[0xF0, 0xF2]),
        [resync(1, 0xF2), press(Hangul), release(Hangul)]
    );
    // A doubled prefix restarts the sequence.
    assert_eq!(
        run(Set1, &[0xE0, 0xE0, 0x1D]),
        [resync(1, 0xE0), press(RightCtrl)]
    );
    assert_eq!(
        run(Set2, &[0xE0, 0xF0, 0xE0, 0x14]),
        [resync(2, 0xE0), press(RightCtrl)]
    );
    assert_eq!(
        run(Set3, &[0xF0, 0xF0, 0x1C]),
        [resync(1, 0xF0), release(A)]
    );
}

#[test]
fn unknown_codes_are_reported_whole() {
    let unknown = |extended, code, release| {
        Event::Unknown(UnknownScancode {
            extended,
            code,
            release,
        })
    };
    assert_eq!(
        run(Set1, &[0xE0, 0x0D, 0xE0, 0x8D]),
        [unknown(true, 0x0D, false), unknown(true, 0x0D, true)]
    );
    assert_eq!(
        run(Set2, &[0x02, 0xF0, 0x02]),
        [unknown(false, 0x02, false), unknown(false, 0x02, true)]
    );
    assert_eq!(
        run(Set2, &[0xE0, 0x77]),
        [unknown(true, 0x77, false)],
        "Linux's internal Pause code"
    );
    assert_eq!(
        run(Set3, &[0xE0]),
        [unknown(false, 0xE0, false)],
        "set 3 has no E0 prefix"
    );
    assert_eq!(run(Set1, &[0x80]), [unknown(false, 0x00, true)]);
}

#[test]
fn switching_sets_forgets_held_keys_and_pending_bytes() {
    let mut decoder = Decoder::new(Set2);
    feed(&mut decoder, &[0x1C, 0xE0]);
    assert_eq!(decoder.pending_len(), 1);
    decoder.set_set(Set1);
    assert_eq!(decoder.set(), Set1);
    assert!(decoder.is_idle() && decoder.held().is_empty());
    assert_eq!(feed(&mut decoder, &[0x1E]), [press(A)]);
    decoder.reset();
    assert_eq!(decoder, Decoder::new(Set1));
}

#[test]
fn state_is_small_copy_and_const() {
    const DECODER: Decoder = Decoder::new(Set2);
    let copy = DECODER;
    assert_eq!(copy, DECODER);
    assert!(core::mem::size_of::<Decoder>() <= 36);
}
