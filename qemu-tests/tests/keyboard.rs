//! The keyboard stack on QEMU's emulated i8042: the irqkit-ps2 driver initialises the
//! controller, IRQ 1 feeds an irqkit-intq queue, an irqkit-defer bottom half decodes. Keys are
//! injected over QMP; every check is on exact serial lines. Ignored by plain `cargo test`
//! (QEMU may be missing); `cargo xtask test` runs them with
//! `cargo test -p irqkit-qemu-tests -- --ignored --test-threads=2`.

use std::time::Duration;

use irqkit_qemu_tests::{KeyEvent, LineMatch, Outcome, Qemu, Running};

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

/// Boots `test`, waits for READY, runs `inject`, and returns the successful outcome.
fn run_with_keys(test: &str, inject: impl FnOnce(&mut Running)) -> Outcome {
    let mut running = Qemu::new(test)
        .timeout(secs(60))
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    running
        .wait_for_line("READY", secs(30))
        .unwrap_or_else(|e| panic!("{e}"));
    inject(&mut running);
    running
        .wait()
        .and_then(Outcome::expect_success)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// How long the guest may take to decode one key (generous: the machine may be loaded).
const KEY_TIMEOUT: Duration = Duration::from_secs(15);

/// Taps `key` and waits until the guest printed `release_line`, so QEMU's 16-byte keyboard
/// queue never fills however slowly the guest runs.
fn tap_and_wait(running: &mut Running, key: &str, release_line: &str) {
    running.send_keys(&[key]).unwrap();
    running
        .wait_for_line(release_line, KEY_TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Letters, Shift + letter, two E0 keys, a keypad key, then Escape (which ends the case).
fn type_test_keys(running: &mut Running) {
    tap_and_wait(running, "a", "KEY release A");
    let shifted_b = [
        KeyEvent::press("shift").unwrap(),
        KeyEvent::press("b").unwrap(),
        KeyEvent::release("b").unwrap(),
        KeyEvent::release("shift").unwrap(),
    ];
    running.send_events(&shifted_b).unwrap();
    running
        .wait_for_line("KEY release LeftShift", KEY_TIMEOUT)
        .unwrap_or_else(|e| panic!("{e}"));
    tap_and_wait(running, "up", "KEY release Up");
    tap_and_wait(running, "right", "KEY release Right");
    tap_and_wait(running, "kp_1", "KEY release Numpad1");
    running.send_keys(&["esc"]).unwrap();
}

/// The event lines `type_test_keys` must produce, in order.
const EXPECTED_KEY_LINES: [&str; 14] = [
    "KEY press A",
    "KEY release A",
    "KEY press LeftShift",
    "KEY press B",
    "KEY release B",
    "KEY release LeftShift",
    "KEY press Up",
    "KEY release Up",
    "KEY press Right",
    "KEY release Right",
    "KEY press Numpad1",
    "KEY release Numpad1",
    "KEY press Escape",
    "KEY release Escape",
];

/// Every line the decoder printed: keys, and anything else it reported (responses, unknown
/// codes, resyncs), which must not appear.
fn decoder_lines(outcome: &Outcome) -> Vec<&str> {
    outcome
        .serial
        .iter()
        .map(String::as_str)
        .filter(|line| {
            ["KEY ", "RESPONSE ", "UNKNOWN ", "RESYNC "]
                .iter()
                .any(|prefix| line.starts_with(prefix))
        })
        .collect()
}

/// The `keyboard bytes=.. events=.. overruns=.. bottom_half_runs=..` counters.
fn keyboard_counters(outcome: &Outcome) -> [u64; 4] {
    let line = outcome
        .line(LineMatch::prefix("keyboard bytes="))
        .unwrap_or_else(|| panic!("no keyboard counters in {:?}", outcome.serial));
    let value = |key: &str| -> u64 {
        line.split_whitespace()
            .find_map(|word| word.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {key} in {line:?}"))
            .parse()
            .unwrap()
    };
    [
        value("bytes"),
        value("events"),
        value("overruns"),
        value("bottom_half_runs"),
    ]
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn kbd_set1_decodes_translated_keys_through_the_irq1_pipeline() {
    let outcome = run_with_keys("kbd_set1", type_test_keys);
    assert!(
        outcome
            .line("i8042 translation=on keyboard_set=2 host_set=1 keyboard=id ab83 self_test=55")
            .is_some(),
        "{:?}",
        outcome.serial
    );
    assert_eq!(decoder_lines(&outcome), EXPECTED_KEY_LINES);
    let [bytes, events, overruns, bottom_half_runs] = keyboard_counters(&outcome);
    // Set 1: one byte per plain key event, two per E0 key event.
    assert_eq!((bytes, events, overruns), (18, 14, 0));
    assert!(
        (1..=bytes).contains(&bottom_half_runs),
        "{bottom_half_runs}"
    );
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn kbd_set2_decodes_raw_set2_keys_identically() {
    let outcome = run_with_keys("kbd_set2", type_test_keys);
    assert!(
        outcome
            .line("i8042 translation=off keyboard_set=2 host_set=2 keyboard=id ab83 self_test=55")
            .is_some(),
        "{:?}",
        outcome.serial
    );
    assert_eq!(decoder_lines(&outcome), EXPECTED_KEY_LINES);
    let [bytes, events, overruns, _] = keyboard_counters(&outcome);
    // Set 2: a release is F0 + code; E0 keys add an E0 to both.
    assert_eq!((bytes, events, overruns), (25, 14, 0));
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn kbd_set3_decodes_raw_set3_keys_identically() {
    let outcome = run_with_keys("kbd_set3", type_test_keys);
    assert!(
        outcome
            .line("i8042 translation=off keyboard_set=3 host_set=3 keyboard=id ab83 self_test=55")
            .is_some(),
        "{:?}",
        outcome.serial
    );
    assert_eq!(decoder_lines(&outcome), EXPECTED_KEY_LINES);
    let [bytes, events, overruns, _] = keyboard_counters(&outcome);
    // Set 3: a release is F0 + code, no E0 prefixes.
    assert_eq!((bytes, events, overruns), (21, 14, 0));
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn kbd_commands_answer_through_the_blocking_driver_and_the_engine() {
    let outcome = run_with_keys("kbd_commands", |running| {
        tap_and_wait(running, "z", "KEY release Z");
        running.send_keys(&["esc"]).unwrap();
    });
    let lines: Vec<&str> = outcome
        .serial
        .iter()
        .map(String::as_str)
        .filter(|line| {
            line.starts_with("i8042 ")
                || line.starts_with("blocking ")
                || line.starts_with("engine ")
        })
        .collect();
    assert_eq!(
        lines,
        [
            // init identifies the keyboard while translation is still off: the raw id.
            "i8042 translation=on keyboard_set=2 host_set=1 keyboard=id ab83 self_test=55",
            "blocking translation=on ed leds=06 -> ack",
            "blocking translation=on f3 typematic=00 -> ack",
            "blocking translation=on f2 identify -> id ab41",
            "blocking translation=on f0 get_set -> set 2",
            "i8042 translation=off keyboard_set=2 host_set=2 keyboard=id ab83 self_test=55",
            "blocking translation=off ed leds=06 -> ack",
            "blocking translation=off f3 typematic=00 -> ack",
            "blocking translation=off f2 identify -> id ab83",
            "blocking translation=off f0 get_set -> set 2",
            "engine ed -> ack",
            "engine f3 -> ack",
            "engine f2 -> id ab83",
            "engine f0 -> set 2",
            "engine ee -> echo",
            "engine ff -> bat ok",
        ]
    );
    assert_eq!(
        decoder_lines(&outcome),
        [
            "KEY press Z",
            "KEY release Z",
            "KEY press Escape",
            "KEY release Escape"
        ]
    );
    let [bytes, events, overruns, _] = keyboard_counters(&outcome);
    // The answers to the engine's commands reached the pipeline too (the
    // ACKs, identity, set, echo and self-test bytes: 2 + 2 + 3 + 3 + 1 + 2), then the keys
    // (set 2: 3 bytes per tap).
    assert_eq!((bytes, events, overruns), (13 + 6, 4, 0));
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn kbd_overrun_counts_what_a_full_queue_refuses() {
    let keys = ["q", "w", "e", "r", "t", "y", "u", "i", "o", "p"];
    let taps: Vec<&str> = keys.iter().cycle().take(40).copied().collect();
    let outcome = run_with_keys("kbd_overrun", |running| {
        for (index, key) in taps.iter().enumerate() {
            running.send_keys(&[key]).unwrap();
            let received = format!("received {}", 2 * (index + 1));
            running
                .wait_for_line(received.as_str(), KEY_TIMEOUT)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    });
    // The queue kept the first 64 bytes: the first 32 taps, decoded in order.
    let expected: Vec<String> = taps[..32]
        .iter()
        .flat_map(|key| {
            let name = key.to_uppercase();
            [format!("KEY press {name}"), format!("KEY release {name}")]
        })
        .collect();
    assert_eq!(decoder_lines(&outcome), expected);
    let [bytes, events, overruns, _] = keyboard_counters(&outcome);
    assert_eq!((bytes, events, overruns), (80, 64, 16));
    let executor = outcome
        .line(LineMatch::prefix("executor "))
        .expect("executor counters");
    // One schedule made the held-back item pending; the other 63 pushes' schedules merged
    // into it; released, it ran once and drained the queue.
    assert!(
        executor.starts_with("executor scheduled=1 coalesced=63 runs=1 skipped=0 timers_fired=0 "),
        "{executor}"
    );
}
