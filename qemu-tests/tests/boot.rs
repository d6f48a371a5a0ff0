//! Boots the test kernel under QEMU. Ignored by plain `cargo test` (QEMU may be missing);
//! `cargo xtask test` runs them with
//! `cargo test -p irqkit-qemu-tests -- --ignored --test-threads=2`.

use std::time::{Duration, Instant};

use irqkit_qemu_tests::{Disk, Error, ExitKind, LineMatch, Qemu};

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn smoke_boots_counts_ticks_and_exits_with_success() {
    let outcome = Qemu::new("smoke")
        .spawn()
        .and_then(|running| running.wait())
        .and_then(|outcome| outcome.expect_success())
        .unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(outcome.status, ExitKind::Success);
    assert!(outcome.line("irqkit test kernel: test=smoke").is_some());
    let ticks: u64 = outcome
        .value("ticks")
        .expect("a ticks=N line")
        .parse()
        .expect("ticks=N is a number");
    assert!(ticks >= 10, "only {ticks} ticks");
    assert!(outcome.line("TEST PASSED: smoke").is_some());
    assert_eq!(outcome.panic, None);
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn demo_exits_with_success() {
    let outcome = Qemu::new("demo").spawn().unwrap().wait().unwrap();
    assert!(outcome.is_success(), "{}", outcome.summary());
    assert!(outcome
        .line(LineMatch::contains("irqkit demo kernel"))
        .is_some());
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn panic_is_a_failure_with_its_message() {
    let outcome = Qemu::new("panic").spawn().unwrap().wait().unwrap();
    assert_eq!(outcome.status, ExitKind::Failure);
    let panic = outcome.panic.clone().expect("the panic line was captured");
    assert!(
        panic.starts_with("deliberate panic from the panic test case at src/tests.rs:"),
        "{panic}"
    );
    let error = outcome.expect_success().unwrap_err();
    assert!(matches!(error, Error::Failed(_)));
    assert_eq!(error.panic_message(), Some(panic.as_str()));
    let text = error.to_string();
    assert!(text.contains("FAILED"), "{text}");
    assert!(
        text.contains("kernel panicked: deliberate panic from the panic test case"),
        "{text}"
    );
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn invalid_opcode_is_reported_as_a_failure() {
    let outcome = Qemu::new("fault").spawn().unwrap().wait().unwrap();
    assert_eq!(outcome.status, ExitKind::Failure);
    let exception = outcome.exception.as_deref().expect("an EXCEPTION line");
    assert!(
        exception.starts_with("#UD (invalid opcode) vector=6"),
        "{exception}"
    );
    assert!(exception.contains("rip=0x"), "{exception}");
    let text = outcome.expect_success().unwrap_err().to_string();
    assert!(text.contains("CPU exception: #UD"), "{text}");
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn page_fault_reports_the_address() {
    let outcome = Qemu::new("page_fault").spawn().unwrap().wait().unwrap();
    assert_eq!(outcome.status, ExitKind::Failure);
    assert!(outcome
        .exception
        .as_deref()
        .unwrap()
        .starts_with("#PF (page fault) vector=14"));
    assert!(outcome
        .line("EXCEPTION: page fault address cr2=0x52345000")
        .is_some());
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn null_pointer_read_faults_on_the_unmapped_page_0() {
    let outcome = Qemu::new("null_pointer").spawn().unwrap().wait().unwrap();
    assert_eq!(outcome.status, ExitKind::Failure);
    assert!(
        outcome
            .line("EXCEPTION: page fault address cr2=0x0")
            .is_some(),
        "{:?}",
        outcome.serial
    );
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn stack_overflow_is_caught_by_the_guard_page() {
    let outcome = Qemu::new("stack_overflow").spawn().unwrap().wait().unwrap();
    assert_eq!(outcome.status, ExitKind::Failure, "{}", outcome.summary());
    assert!(outcome
        .exception
        .as_deref()
        .unwrap()
        .starts_with("#DF (double fault) vector=8"));
    assert!(
        outcome
            .line(LineMatch::contains("kernel stack overflow"))
            .is_some(),
        "{:?}",
        outcome.serial
    );
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn disks_are_attached_and_readable_afterwards() {
    let pattern: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    let outcome = Qemu::new("smoke")
        .disk(Disk::from_bytes(pattern.clone()))
        .disk(Disk::zeroed(200 << 30))
        .spawn()
        .unwrap()
        .wait()
        .unwrap();
    assert!(outcome.is_success(), "{}", outcome.summary());
    assert!(
        outcome.stderr.is_empty(),
        "QEMU complained: {:?}",
        outcome.stderr
    );
    assert_eq!(outcome.disk(0).unwrap(), pattern);
    assert!(outcome.disk(2).is_err());
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn deadline_kills_a_kernel_that_never_exits() {
    // Long enough for a boot on a loaded machine (about 0.2 s when idle).
    let timeout = secs(4);
    let running = Qemu::new("hang").timeout(timeout).spawn().unwrap();
    // The deadline runs from QEMU's start (after the kernel build).
    let started = Instant::now();
    let error = running.wait().unwrap_err();
    let elapsed = started.elapsed();
    assert!(elapsed < timeout + secs(2), "took {elapsed:?}");
    match &error {
        Error::Timeout { serial, after, .. } => {
            assert_eq!(*after, timeout);
            assert!(
                serial.iter().any(|line| line == "hang: cli; hlt forever"),
                "{serial:?}"
            );
        }
        other => panic!("expected a timeout, got {other}"),
    }
    assert!(error.to_string().contains("timed out"), "{error}");
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn waiting_for_a_line_that_never_comes_times_out() {
    let mut running = Qemu::new("hang").timeout(secs(20)).spawn().unwrap();
    running
        .wait_for_line(LineMatch::prefix("hang:"), secs(15))
        .unwrap();
    let started = Instant::now();
    let error = running
        .wait_for_line("READY", Duration::from_millis(300))
        .unwrap_err();
    assert!(started.elapsed() < secs(5));
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    // Dropping `running` kills QEMU.
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn unknown_test_fails_and_lists_the_known_ones() {
    let outcome = Qemu::new("no_such_test").spawn().unwrap().wait().unwrap();
    assert_eq!(outcome.status, ExitKind::Failure);
    assert!(outcome
        .line("ERROR: unknown test \"no_such_test\"")
        .is_some());
    assert!(outcome.line(LineMatch::prefix("  smoke ")).is_some());
    assert!(outcome
        .summary()
        .contains("kernel said: ERROR: unknown test"));
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn missing_line_reports_how_qemu_ended() {
    let mut running = Qemu::new("panic").spawn().unwrap();
    let error = running.wait_for_line("READY", secs(20)).unwrap_err();
    match &error {
        Error::MissingLine { status, .. } => assert_eq!(*status, ExitKind::Failure),
        other => panic!("expected MissingLine, got {other}"),
    }
    assert!(error
        .panic_message()
        .unwrap()
        .starts_with("deliberate panic"));
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn keys_injected_over_qmp_reach_irq1_as_set1_scancodes() {
    let mut running = Qemu::new("echo_keys").spawn().unwrap();
    running.wait_for_line("READY", secs(20)).unwrap();
    running.send_keys(&["a"]).unwrap();
    assert_eq!(
        running
            .wait_for_line(LineMatch::prefix("key="), secs(10))
            .unwrap(),
        "key=1e"
    );
    assert_eq!(
        running
            .wait_for_line(LineMatch::prefix("key="), secs(10))
            .unwrap(),
        "key=9e"
    );
    running.press("up").unwrap();
    running.release("up").unwrap();
    running.send_keys(&["esc"]).unwrap();
    let outcome = running
        .wait()
        .unwrap()
        .expect_success()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        outcome.values("key"),
        ["1e", "9e", "e0", "48", "e0", "c8", "01", "81"]
    );
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn qemu_refuses_an_unknown_key_name() {
    let mut running = Qemu::new("echo_keys").spawn().unwrap();
    running.wait_for_line("READY", secs(20)).unwrap();
    let error = running.press("no_such_key").unwrap_err();
    assert!(matches!(error, Error::Qmp(_)), "{error}");
    assert!(error.to_string().contains("no_such_key"), "{error}");
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn a_typed_word_arrives_complete_and_in_order() {
    let mut running = Qemu::new("echo_keys").spawn().unwrap();
    running.wait_for_line("READY", secs(20)).unwrap();
    // 12 taps = 24 bytes: more than QEMU's 16-byte PS/2 queue, so this checks the pacing.
    let word = ["h", "e", "l", "l", "o", "spc", "w", "o", "r", "l", "d"];
    running.send_keys(&word).unwrap();
    running.send_keys(&["esc"]).unwrap();
    let outcome = running
        .wait()
        .unwrap()
        .expect_success()
        .unwrap_or_else(|e| panic!("{e}"));
    let keys = outcome.values("key");
    let make = [
        "23", "12", "26", "26", "18", "39", "11", "18", "13", "26", "20", "01",
    ];
    let expected: Vec<String> = make
        .iter()
        .flat_map(|code| {
            let code = u8::from_str_radix(code, 16).unwrap();
            [format!("{code:02x}"), format!("{:02x}", code | 0x80)]
        })
        .collect();
    assert_eq!(keys, expected);
}
