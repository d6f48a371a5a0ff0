//! loom models of the schedule / run / cancel / disable races.
//!
//! Run with: `RUSTFLAGS="--cfg loom" cargo test -p irqkit-defer --test loom --release`
//!
//! Each model checks, over every interleaving loom explores:
//! * no lost schedule: a schedule that returned `true` leads to exactly one run, unless a
//!   `cancel` that returned `true` took it back;
//! * no double run, and no run of an item concurrently with itself;
//! * publication: data written (non-atomically, in a `loom::cell::UnsafeCell`) before a schedule
//!   is read race-free by the run it leads to.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread;

use irqkit_defer::{Executor, RunError, TaskSlot, Work};

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    // Three threads each taking the executor's queues: longer paths than loom's default allows.
    builder.max_branches = 20_000;
    let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = executions.clone();
    builder.check(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        f();
    });
    let executions = executions.load(std::sync::atomic::Ordering::Relaxed);
    assert!(executions > 1, "loom explored {executions} executions");
    std::println!("loom explored {executions} executions");
}

/// Initialises loom lazy statics on the calling (main) thread. loom synchronises every access
/// to a lazy static with the thread that initialised it, so a static first touched by the
/// "interrupt" thread would add a happens-before edge the real code does not have.
fn touch(statics: &[&dyn Sync]) {
    std::hint::black_box(statics);
}

/// Drains the executor (retrying while another thread holds it); returns the runs.
fn drain(executor: &Executor) -> u32 {
    for _ in 0..1000 {
        match executor.run_until_idle() {
            Ok(report) => return report.ran,
            Err(RunError::Busy) => thread::yield_now(),
            Err(e) => panic!("{e}"),
        }
    }
    panic!("executor stayed busy: {executor:?}");
}

#[test]
fn schedule_publishes_data_to_the_run() {
    struct Data(UnsafeCell<u32>);
    // SAFETY: the model checks exactly that accesses are ordered by schedule/run.
    unsafe impl Sync for Data {}
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref DATA: Data = Data(UnsafeCell::new(0));
        static ref SEEN: AtomicUsize = AtomicUsize::new(0);
        static ref A: Work = Work::new(&EXEC, read_data);
    }
    fn read_data() {
        // SAFETY: loom reports the read if it races with the write.
        let value = DATA.0.with(|v| unsafe { *v });
        assert_eq!(value, 7);
        SEEN.fetch_add(1, Ordering::Relaxed);
    }

    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*DATA, &*SEEN, &*A]);
        // The executor runs on a second thread while this one plays the interrupt.
        let runner = thread::spawn(|| drain(&EXEC));
        // SAFETY: loom reports the write if it races with the handler's read.
        DATA.0.with_mut(|v| unsafe { *v = 7 });
        assert!(A.schedule());
        let mut ran = runner.join().unwrap();
        ran += drain(&EXEC);
        assert_eq!(ran, 1);
        assert_eq!(SEEN.load(Ordering::Relaxed), 1);
        assert_eq!(A.runs(), 1);
    });
}

#[test]
fn concurrent_schedules_coalesce_without_loss() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref A: Work = Work::new(&EXEC, || {});
    }
    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*A]);
        let first = thread::spawn(|| u32::from(A.schedule()));
        let second = thread::spawn(|| u32::from(A.schedule()));
        let mut ran = drain(&EXEC);
        let newly = first.join().unwrap() + second.join().unwrap();
        ran += drain(&EXEC);
        assert!(newly >= 1);
        assert_eq!(ran, newly);
        assert!(A.is_idle());
    });
}

#[test]
fn schedule_vs_run_vs_cancel() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref A: Work = Work::new(&EXEC, || {});
    }
    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*A]);
        // One run is already pending when the race starts.
        let mut newly = u32::from(A.schedule());
        let irq = thread::spawn(|| u32::from(A.schedule()));
        let canceller = thread::spawn(|| u32::from(A.cancel()));
        let mut ran = drain(&EXEC);
        newly += irq.join().unwrap();
        let cancelled = canceller.join().unwrap();
        ran += drain(&EXEC);
        assert_eq!(
            ran + cancelled,
            newly,
            "each pending run ends in one run or one cancel"
        );
        assert!(A.is_idle());
    });
}

#[test]
fn two_runners_and_a_rescheduling_interrupt_never_overlap_runs() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref ACTIVE: AtomicBool = AtomicBool::new(false);
        static ref A: Work = Work::new(&EXEC, guarded);
    }
    fn guarded() {
        assert!(
            !ACTIVE.swap(true, Ordering::AcqRel),
            "ran concurrently with itself"
        );
        ACTIVE.store(false, Ordering::Release);
    }
    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*ACTIVE, &*A]);
        let mut newly = u32::from(A.schedule());
        let irq = thread::spawn(|| u32::from(A.schedule()));
        let other = thread::spawn(|| match EXEC.run_until_idle() {
            Ok(report) => report.ran,
            Err(RunError::Busy) => 0,
            Err(e) => panic!("{e}"),
        });
        let mut ran = match EXEC.run_until_idle() {
            Ok(report) => report.ran,
            Err(RunError::Busy) => 0,
            Err(e) => panic!("{e}"),
        };
        newly += irq.join().unwrap();
        ran += other.join().unwrap();
        ran += drain(&EXEC);
        assert_eq!(ran, newly);
        assert_eq!(A.runs(), newly);
    });
}

#[test]
fn disable_enable_vs_schedule_vs_run() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref A: Work = Work::new(&EXEC, || {});
    }
    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*A]);
        let irq = thread::spawn(|| u32::from(A.schedule()));
        let toggler = thread::spawn(|| {
            A.disable().unwrap();
            A.enable().unwrap();
        });
        let mut ran = drain(&EXEC);
        let newly = irq.join().unwrap();
        toggler.join().unwrap();
        ran += drain(&EXEC);
        assert_eq!(ran, newly, "a disabled item is neither lost nor run twice");
        assert!(A.is_idle());
        assert_eq!(A.disable_depth(), 0);
    });
}

#[test]
fn task_wake_vs_poll() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref READY: AtomicBool = AtomicBool::new(false);
        static ref SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    }
    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*READY, &*SLOT]);
        SLOT.spawn(std::future::poll_fn(|_cx| {
            if READY.load(Ordering::Acquire) {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        }))
        .unwrap();
        let irq = thread::spawn(|| {
            READY.store(true, Ordering::Release);
            SLOT.wake();
        });
        drain(&EXEC);
        irq.join().unwrap();
        drain(&EXEC);
        assert!(!SLOT.is_occupied(), "the wake after the data was not lost");
    });
}
