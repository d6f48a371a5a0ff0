//! The demo as `cargo xtask demo` runs it: the `irqkit-qemu demo` binary boots the `demo` case,
//! types a line over QMP, and the kernel echoes it through IRQ 1 -> irqkit-intq ->
//! irqkit-defer -> irqkit-ps2 decoder -> US layout. Ignored by plain `cargo test` (QEMU may be
//! missing); `cargo xtask test` runs them with
//! `cargo test -p irqkit-qemu-tests -- --ignored --test-threads=2`.

use std::process::{Command, Output};
use std::time::Duration;

use irqkit_qemu_tests::{KeyEvent, LineMatch, Outcome, Qemu, Running};

/// Runs `irqkit-qemu demo` with `args` and returns its output.
fn irqkit_qemu_demo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_irqkit-qemu"))
        .args(["demo", "--timeout", "120"])
        .args(args)
        .output()
        .expect("irqkit-qemu starts")
}

/// The stdout lines (the kernel's serial output), checked for success first.
fn successful_lines(output: &Output) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "irqkit-qemu demo failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    stdout.lines().map(str::to_owned).collect()
}

/// The `stats ...` counter named `name`.
fn stat(lines: &[String], name: &str) -> u64 {
    let line = lines
        .iter()
        .find(|line| line.starts_with("stats "))
        .unwrap_or_else(|| panic!("no stats line in {lines:?}"));
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
        .parse()
        .unwrap()
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn demo_echoes_the_typed_sentence() {
    let lines = successful_lines(&irqkit_qemu_demo(&[]));
    let has = |wanted: &str| lines.iter().any(|line| line == wanted);
    assert!(has("Hello from the irqkit demo kernel!"), "{lines:?}");
    assert!(has("READY"), "{lines:?}");
    let echoes: Vec<&str> = lines
        .iter()
        .filter_map(|line| line.strip_prefix("echo "))
        .collect();
    let expected: Vec<String> = "Hello, irqkit!".chars().map(|c| format!("{c:?}")).collect();
    assert_eq!(echoes, expected);
    assert!(has("line=Hello, irqkit!"), "{lines:?}");
    assert!(has("TEST PASSED: demo"), "{lines:?}");
    // 12 plain characters (2 bytes each), 2 shifted ones (4 each), Enter (2).
    assert_eq!(stat(&lines, "bytes"), 12 * 2 + 2 * 4 + 2);
    assert_eq!(stat(&lines, "events"), 12 * 2 + 2 * 4 + 2);
    assert_eq!(stat(&lines, "overruns"), 0);
    assert!(stat(&lines, "bottom_half_runs") >= 1);
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn demo_types_every_printable_ascii_character() {
    let text: String = (' '..='~').collect();
    let lines = successful_lines(&irqkit_qemu_demo(&["--text", &text]));
    let expected = format!("line={text}");
    assert!(lines.contains(&expected), "{lines:?}");
    assert_eq!(stat(&lines, "overruns"), 0);
}

/// Taps `key` (pressing Shift around it when `shift`) and waits for the guest's `line`.
fn tap_and_wait(running: &mut Running, key: &str, shift: bool, line: &str) {
    let mut events = vec![
        KeyEvent::press(key).unwrap(),
        KeyEvent::release(key).unwrap(),
    ];
    if shift {
        events.insert(0, KeyEvent::press("shift").unwrap());
        events.push(KeyEvent::release("shift").unwrap());
    }
    running.send_events(&events).unwrap();
    running
        .wait_for_line(line, Duration::from_secs(15))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn demo_caps_lock_sets_the_led_through_the_engine_and_shifts_letters() {
    let mut running = Qemu::new("demo")
        .kernel_arg("demo_wait=enter")
        .timeout(Duration::from_secs(60))
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    running
        .wait_for_line("READY", Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}"));
    tap_and_wait(&mut running, "caps_lock", false, "engine ed -> ack");
    tap_and_wait(&mut running, "a", false, "echo 'A'");
    tap_and_wait(&mut running, "b", true, "echo 'b'");
    tap_and_wait(&mut running, "caps_lock", false, "engine ed -> ack");
    tap_and_wait(&mut running, "c", false, "echo 'c'");
    tap_and_wait(&mut running, "d", true, "echo 'D'");
    running.send_keys(&["ret"]).unwrap();
    let outcome = running
        .wait()
        .and_then(Outcome::expect_success)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome.value("line"), Some("AbcD"));
    let engine: Vec<&String> = outcome
        .serial
        .iter()
        .filter(|line| line.starts_with("engine "))
        .collect();
    assert_eq!(engine, ["engine ed -> ack", "engine ed -> ack"]);
    assert!(outcome.line(LineMatch::contains("overruns=0")).is_some());
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn demo_without_keys_ends_after_its_idle_limit() {
    let outcome = Qemu::new("demo")
        .spawn()
        .and_then(|running| running.wait())
        .and_then(Outcome::expect_success)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(outcome
        .line("No key within 2000 ms: nothing typed.")
        .is_some());
    assert_eq!(outcome.value("line"), Some(""));
}
