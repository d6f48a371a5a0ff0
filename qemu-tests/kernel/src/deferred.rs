//! The kernel's bottom halves: one irqkit-defer [`Executor`], clocked and advanced by the PIT
//! tick, and the main loop that runs deferred work with interrupts enabled.
//!
//! Interrupt handlers (top halves) call `Work::schedule` on items bound to [`EXECUTOR`]; a
//! test case calls [`run_until`] to run them until it is done.

use irqkit_defer::{Budget, Executor, Stats};
use irqkit_hal::x86::interrupts;

use crate::{println, timer};

/// The kernel's only executor. Its clock is the PIT tick, so latencies are in ticks (1 ms).
pub static EXECUTOR: Executor = Executor::new().with_clock(clock);

/// How many bottom halves one pass of the main loop runs before it checks whether the test
/// case is done (the softirq budget).
const BUDGET: Budget = Budget::items(16);

fn clock() -> u32 {
    // Wraps after 49 days of ticks; the executor compares clock values with wrapping math.
    timer::ticks() as u32
}

/// Advances delayed work by one tick; called by the timer interrupt.
pub fn on_tick() {
    EXECUTOR.tick();
}

/// Runs bottom halves with interrupts enabled, sleeping with `sti; hlt` when none is queued,
/// until `done()` holds (checked with interrupts disabled after each pass). Returns with
/// interrupts disabled.
///
/// Call it from a test case's main flow only, never from an interrupt handler or inside a
/// critical section (it enables interrupts).
///
/// # Panics
///
/// If the executor is already running (`run_until` called from a bottom half).
pub fn run_until(mut done: impl FnMut() -> bool) {
    loop {
        // SAFETY: called from a test case's main flow (see above): no critical section is held
        // and no handler is running, so nothing relies on interrupts staying masked.
        unsafe { interrupts::enable() };
        let report = EXECUTOR.run(BUDGET);
        interrupts::disable();
        let report = report.unwrap_or_else(|error| panic!("bottom-half executor: {error}"));
        if done() {
            return;
        }
        if !report.more_work {
            // SAFETY: as above.
            unsafe { interrupts::enable() };
            // Checks for work with interrupts masked and halts in the same step: an interrupt
            // that schedules work after the check still ends the halt.
            if let Err(masked) = interrupts::idle(|| EXECUTOR.has_work()) {
                panic!("bottom-half idle: {masked}");
            }
            interrupts::disable();
        }
    }
}

/// The executor's counters.
pub fn stats() -> Stats {
    EXECUTOR.stats()
}

/// Prints the executor's counters as one `executor ...` line.
pub fn print_stats() {
    let stats = stats();
    println!(
        "executor scheduled={} coalesced={} runs={} skipped={} timers_fired={} worst_latency_ticks={}",
        stats.scheduled,
        stats.coalesced,
        stats.runs,
        stats.skipped,
        stats.timers_fired,
        stats.max_latency
    );
}
