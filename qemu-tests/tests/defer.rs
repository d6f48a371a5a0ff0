//! irqkit-defer driven by real interrupts under QEMU: delayed work on PIT ticks, an async task
//! woken from IRQ 1 through an irqkit-intq queue, and an IRQ 14 (ATA) top half scheduling the
//! bottom half that reads the drive's data. Ignored by plain `cargo test` (QEMU may be
//! missing); `cargo xtask test` runs them with
//! `cargo test -p irqkit-qemu-tests -- --ignored --test-threads=2`.

use std::time::Duration;

use irqkit_qemu_tests::{Disk, LineMatch, Outcome, Qemu};

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

/// The `NAME=NUMBER` words of `line`, by name.
fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("{name}= in {line:?}: {e}"))
}

fn lines_with_prefix<'a>(outcome: &'a Outcome, prefix: &str) -> Vec<&'a str> {
    outcome
        .serial
        .iter()
        .map(String::as_str)
        .filter(|line| line.starts_with(prefix))
        .collect()
}

fn executor_line(outcome: &Outcome) -> &str {
    outcome
        .line(LineMatch::prefix("executor "))
        .unwrap_or_else(|| panic!("no executor counters in {:?}", outcome.serial))
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn defer_ticks_fires_delays_in_order_and_wakes_a_task_from_irq1() {
    let mut running = Qemu::new("defer_ticks")
        .timeout(secs(60))
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    running
        .wait_for_line("READY", secs(30))
        .unwrap_or_else(|e| panic!("{e}"));
    running.send_keys(&["a"]).unwrap();
    let outcome = running
        .wait()
        .and_then(Outcome::expect_success)
        .unwrap_or_else(|e| panic!("{e}"));

    // Delayed work: 5, 10, 20 ticks, in that order, none early, all armed at the same tick.
    let delayed = lines_with_prefix(&outcome, "delayed ");
    assert_eq!(delayed.len(), 3, "{delayed:?}");
    let mut last_ran = 0;
    for (line, after) in delayed.iter().zip([5, 10, 20]) {
        assert_eq!(field(line, "after"), after, "{delayed:?}");
        assert_eq!(field(line, "armed_at"), field(delayed[0], "armed_at"));
        let ran = field(line, "ran_at");
        assert!(
            ran >= field(line, "armed_at") + after,
            "ran before its deadline: {line}"
        );
        assert!(ran >= last_ran, "{delayed:?}");
        last_ran = ran;
    }

    // Two schedules before a run coalesce into one run.
    assert!(outcome
        .line("ping runs=1 first_schedule=true second_schedule=false")
        .is_some());

    // The async task: woken by IRQ 1 for each byte of the tap, then by the tick after 5.
    assert_eq!(
        lines_with_prefix(&outcome, "task byte="),
        ["task byte=1e", "task byte=9e"]
    );
    let slept = outcome
        .line(LineMatch::prefix("task slept=5 "))
        .unwrap_or_else(|| panic!("no task sleep line in {:?}", outcome.serial));
    assert!(field(slept, "to") >= field(slept, "from") + 5, "{slept}");

    let executor = executor_line(&outcome);
    assert!(field(executor, "coalesced") >= 1, "{executor}");
    // The three delays and the task's sleep.
    assert_eq!(field(executor, "timers_fired"), 4, "{executor}");
    assert_eq!(field(executor, "skipped"), 0, "{executor}");
    // 3 delayed items + ping + the task's polls (at least two: one that finds the key's
    // bytes, maybe the very first, and the end of the sleep).
    assert!(field(executor, "runs") >= 6, "{executor}");
    assert!(field(executor, "worst_latency_ticks") < 1000, "{executor}");
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn defer_irq14_reads_identify_data_in_the_bottom_half() {
    let outcome = Qemu::new("defer_irq14")
        .timeout(secs(60))
        .disk(Disk::zeroed(1 << 20))
        .spawn()
        .and_then(|running| running.wait())
        .and_then(Outcome::expect_success)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        lines_with_prefix(&outcome, "ata status="),
        ["ata status=58 model=\"QEMU HARDDISK\""]
    );
    let irqs = outcome
        .value("ata irqs")
        .expect("an ata irqs= line")
        .parse::<u32>()
        .unwrap();
    assert!((1..=2).contains(&irqs), "{irqs} IRQ 14s");
    let executor = executor_line(&outcome);
    assert!(field(executor, "runs") >= 1, "{executor}");
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn defer_irq14_without_a_disk_fails_with_a_clear_message() {
    let outcome = Qemu::new("defer_irq14")
        .timeout(secs(60))
        .spawn()
        .and_then(|running| running.wait())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!outcome.is_success());
    let panic = outcome.panic.as_deref().expect("a PANIC line");
    assert!(
        panic.starts_with("no drive on the primary channel (attach a disk)"),
        "{panic}"
    );
}
