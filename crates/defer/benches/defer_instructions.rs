//! Benchmarks that hold on a loaded machine: instruction counts of the executor's one-thread
//! paths, irqkit-defer beside embassy-executor's raw executor and a heapless queue of function
//! pointers. This binary only runs cases; `cargo xtask bench defer` measures them:
//!
//! - `--list`: one line per case: `name <TAB> operation <TAB> operations per iteration`;
//! - `--run CASE ITERATIONS`: sets the case up, then runs it ITERATIONS times. xtask runs this
//!   under `valgrind --tool=callgrind` for two iteration counts and divides the difference of
//!   the instruction totals by the difference of operations, so set-up and process start cancel;
//! - anything else (`cargo bench` passes `--bench`): runs every case briefly as a self-check.

use std::cell::OnceCell;
use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;
use std::task::Waker;

use heapless::spsc::Queue;
use irqkit_defer::Budget;

mod fixture;
use fixture::*;

/// Checks that each iteration polled the task (or ran the handler) exactly once.
fn check_count(before: u32, iterations: u64) {
    let ran = COUNT.load(Ordering::Relaxed).wrapping_sub(before);
    assert_eq!(u64::from(ran), iterations, "one run per iteration");
}

/// The irqkit-defer task's waker, spawning the task on the first call.
fn defer_task_waker() -> Waker {
    static WAKER: OnceLock<Waker> = OnceLock::new();
    WAKER.get_or_init(spawn_defer_task).clone()
}

type EmbassyTask = (&'static embassy_executor::raw::Executor, Waker);

thread_local! {
    static EMBASSY: OnceCell<EmbassyTask> = const { OnceCell::new() };
}

/// The embassy executor and task waker of this thread, spawning the task on the first call
/// (embassy's raw executor is polled from the thread that set it up).
fn embassy_task() -> EmbassyTask {
    EMBASSY.with(|cell| cell.get_or_init(spawn_embassy_task).clone())
}

#[inline(never)]
fn wake_poll_defer(iterations: u64) {
    let waker = defer_task_waker();
    let mut runner = EXEC.claim().unwrap();
    let before = COUNT.load(Ordering::Relaxed);
    for _ in 0..iterations {
        waker.wake_by_ref();
        black_box(runner.run(Budget::items(1)).unwrap());
    }
    check_count(before, iterations);
}

#[inline(never)]
fn wake_poll_defer_lean(iterations: u64) {
    let waker = defer_task_waker();
    let mut runner = EXEC.claim().unwrap();
    let before = COUNT.load(Ordering::Relaxed);
    for _ in 0..iterations {
        waker.wake_by_ref();
        black_box(runner.run_items(u32::MAX));
    }
    check_count(before, iterations);
}

#[inline(never)]
fn wake_poll_embassy(iterations: u64) {
    let (embassy, waker) = embassy_task();
    let before = COUNT.load(Ordering::Relaxed);
    for _ in 0..iterations {
        waker.wake_by_ref();
        // SAFETY: polled from this thread only, never re-entrantly.
        unsafe { embassy.poll() };
    }
    check_count(before, iterations);
}

#[inline(never)]
fn empty_run_defer(iterations: u64) {
    let mut runner = EXEC.claim().unwrap();
    for _ in 0..iterations {
        black_box(runner.run(Budget::items(u32::MAX)).unwrap());
    }
}

#[inline(never)]
fn empty_run_defer_lean(iterations: u64) {
    let mut runner = EXEC.claim().unwrap();
    for _ in 0..iterations {
        black_box(runner.run_items(u32::MAX));
    }
}

#[inline(never)]
fn empty_run_embassy(iterations: u64) {
    let (embassy, _waker) = embassy_task();
    let before = COUNT.load(Ordering::Relaxed);
    for _ in 0..iterations {
        // SAFETY: polled from this thread only, never re-entrantly.
        unsafe { embassy.poll() };
    }
    check_count(before, 0);
}

#[inline(never)]
fn schedule_run_defer(iterations: u64) {
    let mut runner = EXEC.claim().unwrap();
    let before = COUNT.load(Ordering::Relaxed);
    for _ in 0..iterations {
        black_box(BH.schedule());
        black_box(runner.run(Budget::items(1)).unwrap());
    }
    check_count(before, iterations);
}

#[inline(never)]
fn schedule_run_defer_lean(iterations: u64) {
    let mut runner = EXEC.claim().unwrap();
    let before = COUNT.load(Ordering::Relaxed);
    for _ in 0..iterations {
        black_box(BH.schedule());
        black_box(runner.run_items(u32::MAX));
    }
    check_count(before, iterations);
}

#[inline(never)]
fn schedule_run_heapless(iterations: u64) {
    let mut queue: Queue<fn(), 16> = Queue::new();
    let before = COUNT.load(Ordering::Relaxed);
    for _ in 0..iterations {
        queue.enqueue(black_box(bottom_half as fn())).unwrap();
        while let Some(handler) = queue.dequeue() {
            handler();
        }
    }
    check_count(before, iterations);
}

/// A case: name, operation, operations per iteration, and the function that runs it.
struct Case {
    name: &'static str,
    operation: &'static str,
    per_iteration: u64,
    run: fn(u64),
}

const CASES: &[Case] = &[
    Case {
        name: "irqkit_run/wake_poll",
        operation: "async task: wake + poll",
        per_iteration: 1,
        run: wake_poll_defer,
    },
    Case {
        name: "irqkit_run_items/wake_poll",
        operation: "async task: wake + poll",
        per_iteration: 1,
        run: wake_poll_defer_lean,
    },
    Case {
        name: "embassy_raw/wake_poll",
        operation: "async task: wake + poll",
        per_iteration: 1,
        run: wake_poll_embassy,
    },
    Case {
        name: "irqkit_run/empty",
        operation: "run with nothing queued",
        per_iteration: 1,
        run: empty_run_defer,
    },
    Case {
        name: "irqkit_run_items/empty",
        operation: "run with nothing queued",
        per_iteration: 1,
        run: empty_run_defer_lean,
    },
    Case {
        name: "embassy_raw/empty",
        operation: "run with nothing queued",
        per_iteration: 1,
        run: empty_run_embassy,
    },
    Case {
        name: "irqkit_run/schedule_run",
        operation: "bottom half: schedule + run",
        per_iteration: 1,
        run: schedule_run_defer,
    },
    Case {
        name: "irqkit_run_items/schedule_run",
        operation: "bottom half: schedule + run",
        per_iteration: 1,
        run: schedule_run_defer_lean,
    },
    Case {
        name: "heapless_fn_queue/schedule_run",
        operation: "bottom half: schedule + run",
        per_iteration: 1,
        run: schedule_run_heapless,
    },
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--list") => {
            for case in CASES {
                println!("{}\t{}\t{}", case.name, case.operation, case.per_iteration);
            }
        }
        Some("--run") => {
            let name = args.get(1).expect("--run CASE ITERATIONS");
            let case = CASES
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("no case {name}"));
            let iterations = args
                .get(2)
                .and_then(|t| t.parse().ok())
                .expect("ITERATIONS is a number");
            (case.run)(iterations);
        }
        _ => {
            empty_run_defer(1000);
            empty_run_defer_lean(1000);
            schedule_run_defer(1000);
            schedule_run_defer_lean(1000);
            schedule_run_heapless(1000);
            wake_poll_defer(1000);
            wake_poll_defer_lean(1000);
            wake_poll_embassy(1000);
            empty_run_embassy(1000);
            println!(
                "irqkit-defer instruction-count cases ran; measure them with `cargo xtask bench defer`"
            );
        }
    }
}
