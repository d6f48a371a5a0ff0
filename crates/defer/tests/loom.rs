//! loom models of the schedule / run / cancel / disable races.
//!
//! Run with: `RUSTFLAGS="--cfg loom" cargo test -p irqkit-defer --test loom --release`
//!
//! Each model checks, over every interleaving loom explores:
//! * no lost schedule: a schedule that returned `true` leads to exactly one run, unless a
//!   `cancel` that returned `true` took it back (through `run` and through the lean
//!   `Runner::run_items`);
//! * no double run, and no run of an item concurrently with itself;
//! * publication: data written (non-atomically, in a `loom::cell::UnsafeCell`) before a schedule
//!   is read race-free by the run it leads to;
//! * task slots: the spawner's writes to the storage and the executor's polls and drops are
//!   ordered (the slot's storage is a loom cell under loom), each future is dropped exactly
//!   once and never polled after it was aborted, and an abort never reaches a task spawned
//!   after the one it meant;
//! * the fast paths of the lean `Runner::run_items` (schedule from idle, take of a pending
//!   item, a lone item popped without the ready list, a task polled through the run function
//!   its spawn installed) against the slow paths and a stale waker.
#![cfg(loom)]

use loom::cell::UnsafeCell;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

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

/// Drains the executor through the lean entry point (`claim` + `Runner::run_items`), retrying
/// while another thread holds it; returns the runs.
fn drain_lean(executor: &Executor) -> u32 {
    for _ in 0..1000 {
        match executor.claim() {
            Ok(mut runner) => return runner.run_items(u32::MAX),
            Err(RunError::Busy) => thread::yield_now(),
            Err(e) => panic!("{e}"),
        }
    }
    panic!("executor stayed busy: {executor:?}");
}

/// Data written before a schedule or wake and read by the run or poll it leads to: a loom
/// cell, so an access not ordered by the executor is a reported race.
struct Data(UnsafeCell<u32>);

// SAFETY: the models check exactly that accesses are ordered by schedule/run or wake/poll.
unsafe impl Sync for Data {}

#[test]
fn schedule_publishes_data_to_the_run() {
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

/// A schedule and a cancel race with `drain` while one run is already pending: each pending
/// run ends in exactly one run or one cancel.
fn schedule_vs_cancel_vs(drain: fn(&Executor) -> u32) {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref A: Work = Work::new(&EXEC, || {});
    }
    model(move || {
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
fn schedule_vs_run_vs_cancel() {
    schedule_vs_cancel_vs(drain);
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

/// A task that finishes once an interrupt has published its data and woken it, run by
/// `drain` while the interrupt happens: the wake after the data is never lost.
fn task_wake_vs(drain: fn(&Executor) -> u32) {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref READY: AtomicBool = AtomicBool::new(false);
        static ref SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    }
    model(move || {
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

#[test]
fn task_wake_vs_poll() {
    task_wake_vs(drain);
}

#[test]
fn run_items_publishes_data_and_loses_no_schedule() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref DATA: Data = Data(UnsafeCell::new(0));
        static ref A: Work = Work::new(&EXEC, read_data);
    }
    fn read_data() {
        // SAFETY: loom reports the read if it races with the write.
        let value = DATA.0.with(|v| unsafe { *v });
        assert_eq!(value, 7);
    }
    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*DATA, &*A]);
        let runner = thread::spawn(|| drain_lean(&EXEC));
        // SAFETY: loom reports the write if it races with the handler's read.
        DATA.0.with_mut(|v| unsafe { *v = 7 });
        assert!(A.schedule());
        let mut ran = runner.join().unwrap();
        ran += drain_lean(&EXEC);
        assert_eq!(ran, 1);
        assert_eq!(A.runs(), 1);
    });
}

#[test]
fn run_items_vs_schedule_vs_cancel() {
    schedule_vs_cancel_vs(drain_lean);
}

#[test]
fn task_wake_vs_run_items() {
    task_wake_vs(drain_lean);
}

/// The fast paths of `schedule` (an idle item: one compare-exchange from 0) and of the
/// executor's take (pending and enabled: one compare-exchange to 0), and the lone-item pop of
/// `Runner::run_items`, against the slow paths that a disable forces and against a second
/// item pushed while the runner takes the first: nothing is lost or run twice, and items run
/// in the order they were scheduled.
#[test]
fn run_items_fast_paths_keep_order_and_lose_nothing() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref A_RAN: AtomicBool = AtomicBool::new(false);
        static ref A: Work = Work::new(&EXEC, run_a);
        static ref B: Work = Work::new(&EXEC, run_b);
    }
    fn run_a() {
        A_RAN.store(true, Ordering::Relaxed);
    }
    fn run_b() {
        // Every run happens on this model's main thread, one after the other.
        assert!(
            A_RAN.load(Ordering::Relaxed),
            "B ran before A, scheduled first"
        );
    }
    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*A_RAN, &*A, &*B]);
        let irq = thread::spawn(|| (A.schedule(), B.schedule()));
        let toggler = thread::spawn(|| {
            B.disable().unwrap();
            B.enable().unwrap();
        });
        let mut ran = drain_lean(&EXEC);
        let (a_newly, b_newly) = irq.join().unwrap();
        toggler.join().unwrap();
        ran += drain_lean(&EXEC);
        assert!(a_newly && b_newly, "idle items become pending");
        assert_eq!(ran, 2);
        assert_eq!((A.runs(), B.runs()), (1, 1));
        assert!(A.is_idle() && B.is_idle());
        let stats = EXEC.stats();
        assert_eq!(stats.runs, 2);
        assert!(
            stats.skipped <= 1,
            "only B, disabled once, is parked, at most once"
        );
    });
}

/// A task future that keeps the waker of its one poll (a stale waker once it is done).
struct KeepsWaker;

impl Future for KeepsWaker {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        *STALE_WAKER.lock().unwrap() = Some(cx.waker().clone());
        Poll::Ready(())
    }
}

loom::lazy_static! {
    static ref STALE_WAKER: loom::sync::Mutex<Option<std::task::Waker>> =
        loom::sync::Mutex::new(None);
}

/// The task path of `Runner::run_items` (lifecycle read, then the one call through the run
/// function `spawn` installed): a stale waker of a finished task wakes the slot while another
/// task is spawned into it and the lean runner runs. The run function and the storage are
/// touched only in an order loom accepts (the storage is a loom cell), the new task is polled
/// and dropped exactly once, and the stale wake-up touches nothing.
#[test]
fn stale_wake_vs_respawn_vs_run_items() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
        static ref POLLS: AtomicUsize = AtomicUsize::new(0);
        static ref DROPS: AtomicUsize = AtomicUsize::new(0);
    }
    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*SLOT, &*POLLS, &*DROPS, &*STALE_WAKER]);
        SLOT.spawn(KeepsWaker).unwrap();
        assert_eq!(drain_lean(&EXEC), 1);
        assert!(!SLOT.is_occupied());
        let stale = STALE_WAKER.lock().unwrap().take().unwrap();
        let runner = thread::spawn(|| drain_lean(&EXEC));
        let spawner = thread::spawn(|| {
            spawn_when_free(
                &SLOT,
                Counted {
                    polls: &POLLS,
                    drops: &DROPS,
                },
            )
        });
        // This thread plays the interrupt that still holds the finished task's waker.
        stale.wake();
        runner.join().unwrap();
        let second = spawner.join().unwrap();
        drain_lean(&EXEC);
        assert_eq!(
            (POLLS.load(Ordering::Relaxed), DROPS.load(Ordering::Relaxed)),
            (1, 1),
            "the new task ran once and was dropped once"
        );
        assert!(!SLOT.is_occupied() && !SLOT.holds(second));
    });
}

/// A task that finishes on its first poll and counts its polls and drops.
struct Counted {
    polls: &'static AtomicUsize,
    drops: &'static AtomicUsize,
}

impl Future for Counted {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        assert_eq!(
            self.drops.load(Ordering::Relaxed),
            0,
            "polled after its drop"
        );
        self.polls.fetch_add(1, Ordering::Relaxed);
        Poll::Ready(())
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        assert_eq!(
            self.drops.fetch_add(1, Ordering::Relaxed),
            0,
            "dropped twice"
        );
    }
}

/// Spawns `future` into `slot`, retrying while the slot is still held.
fn spawn_when_free(slot: &'static TaskSlot<64>, future: Counted) -> irqkit_defer::TaskId {
    let mut future = Some(future);
    for _ in 0..1000 {
        match slot.spawn(future.take().unwrap()) {
            Ok(id) => return id,
            Err(refused) => {
                future = Some(refused.into_inner());
                thread::yield_now();
            }
        }
    }
    panic!("slot stayed occupied: {slot:?}");
}

#[test]
fn abort_task_never_aborts_the_task_that_replaced_it() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
        static ref FIRST_POLLS: AtomicUsize = AtomicUsize::new(0);
        static ref FIRST_DROPS: AtomicUsize = AtomicUsize::new(0);
        static ref SECOND_POLLS: AtomicUsize = AtomicUsize::new(0);
        static ref SECOND_DROPS: AtomicUsize = AtomicUsize::new(0);
    }
    model(|| {
        touch(&[
            &*EXEC as &dyn Sync,
            &*SLOT,
            &*FIRST_POLLS,
            &*FIRST_DROPS,
            &*SECOND_POLLS,
            &*SECOND_DROPS,
        ]);
        let first = SLOT
            .spawn(Counted {
                polls: &FIRST_POLLS,
                drops: &FIRST_DROPS,
            })
            .unwrap();
        // Races the first task's run (its completion) and the second spawn.
        let aborter = thread::spawn(move || SLOT.abort_task(first));
        // Another thread reuses the storage as soon as the executor frees it.
        let spawner = thread::spawn(|| {
            spawn_when_free(
                &SLOT,
                Counted {
                    polls: &SECOND_POLLS,
                    drops: &SECOND_DROPS,
                },
            )
        });
        drain(&EXEC);
        let second = spawner.join().unwrap();
        let aborted = aborter.join().unwrap();
        drain(&EXEC);

        assert_ne!(first, second);
        assert_eq!(FIRST_DROPS.load(Ordering::Relaxed), 1);
        // Not aborted: the first task had finished, so its one poll happened. Aborted: the
        // abort came before its run or during its one poll; no poll starts after it.
        let first_polls = FIRST_POLLS.load(Ordering::Relaxed);
        assert!(first_polls <= 1);
        if !aborted {
            assert_eq!(
                first_polls, 1,
                "a refused abort_task means the task had finished"
            );
        }
        assert_eq!(
            (
                SECOND_POLLS.load(Ordering::Relaxed),
                SECOND_DROPS.load(Ordering::Relaxed)
            ),
            (1, 1),
            "the second task ran to completion: never aborted"
        );
        assert!(!SLOT.is_occupied() && !SLOT.holds(first) && !SLOT.holds(second));
    });
}

#[test]
fn abort_reaches_exactly_the_task_it_found() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
        static ref FIRST_POLLS: AtomicUsize = AtomicUsize::new(0);
        static ref FIRST_DROPS: AtomicUsize = AtomicUsize::new(0);
        static ref SECOND_POLLS: AtomicUsize = AtomicUsize::new(0);
        static ref SECOND_DROPS: AtomicUsize = AtomicUsize::new(0);
    }
    model(|| {
        touch(&[
            &*EXEC as &dyn Sync,
            &*SLOT,
            &*FIRST_POLLS,
            &*FIRST_DROPS,
            &*SECOND_POLLS,
            &*SECOND_DROPS,
        ]);
        SLOT.spawn(Counted {
            polls: &FIRST_POLLS,
            drops: &FIRST_DROPS,
        })
        .unwrap();
        let aborter = thread::spawn(|| SLOT.abort());
        drain(&EXEC);
        spawn_when_free(
            &SLOT,
            Counted {
                polls: &SECOND_POLLS,
                drops: &SECOND_DROPS,
            },
        );
        let aborted = aborter.join().unwrap();
        drain(&EXEC);

        let first = FIRST_POLLS.load(Ordering::Relaxed);
        let second = SECOND_POLLS.load(Ordering::Relaxed);
        assert_eq!(
            (
                FIRST_DROPS.load(Ordering::Relaxed),
                SECOND_DROPS.load(Ordering::Relaxed)
            ),
            (1, 1),
            "every future dropped exactly once"
        );
        // A task's first poll finishes it, so each is polled at most once. Without an abort
        // both ran; an abort skips the poll of at most one of them (it may also land during
        // the first task's poll, then it skips none).
        assert!(first <= 1 && second <= 1);
        assert!(first + second >= if aborted { 1 } else { 2 });
        assert!(!SLOT.is_occupied());
    });
}

/// Wake lanes: data written before a task's wake (a loom cell, so an unordered access is a
/// reported race) is read by the poll it leads to, while the runner takes rounds on another
/// thread; each wake that returned `true` is one poll.
#[test]
fn lane_wake_publishes_data_to_the_poll() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref DATA: Data = Data(UnsafeCell::new(0));
        static ref SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
        static ref POLLS: AtomicUsize = AtomicUsize::new(0);
    }
    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*DATA, &*SLOT, &*POLLS]);
        SLOT.spawn(std::future::poll_fn(|_cx| {
            // The first poll is the spawn's: it reads nothing.
            if POLLS.fetch_add(1, Ordering::Relaxed) > 0 {
                // SAFETY: loom reports the read if it races with the write.
                assert_eq!(DATA.0.with(|v| unsafe { *v }), 7);
            }
            Poll::<()>::Pending
        }))
        .unwrap();
        assert_eq!(drain_lean(&EXEC), 1);
        let runner = thread::spawn(|| drain_lean(&EXEC));
        // SAFETY: loom reports the write if it races with the poll's read.
        DATA.0.with_mut(|v| unsafe { *v = 7 });
        assert!(SLOT.wake());
        let mut polls = runner.join().unwrap();
        polls += drain_lean(&EXEC);
        assert_eq!(polls, 1);
        assert_eq!(POLLS.load(Ordering::Relaxed), 2);
        assert!(!SLOT.is_scheduled());
    });
}

/// Two interrupts wake the same lane while the runner takes rounds: the wakes that returned
/// `true` are exactly the polls, and at least one wake is.
#[test]
fn concurrent_lane_wakes_coalesce_without_loss() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    }
    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*SLOT]);
        SLOT.spawn(std::future::pending()).unwrap();
        assert_eq!(drain_lean(&EXEC), 1);
        let first = thread::spawn(|| u32::from(SLOT.wake()));
        let second = thread::spawn(|| u32::from(SLOT.wake()));
        let mut polls = drain_lean(&EXEC);
        let newly = first.join().unwrap() + second.join().unwrap();
        polls += drain_lean(&EXEC);
        assert!(newly >= 1);
        assert_eq!(polls, newly);
        assert_eq!(EXEC.stats().coalesced, 2 - newly);
    });
}

/// A waker made before the slot's first spawn races that spawn (which gives the slot its
/// lane) and the runner: the wake takes the queue or the lane, whichever it sees, and the
/// runner may find the lane's bit before the slot is published. The task is polled at least
/// once (its spawn's poll), at most once more, and never touched out of order.
#[test]
fn wake_before_the_first_spawn_vs_spawn_vs_run_items() {
    loom::lazy_static! {
        static ref EXEC: Executor = Executor::new();
        static ref SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
        static ref POLLS: AtomicUsize = AtomicUsize::new(0);
    }
    model(|| {
        touch(&[&*EXEC as &dyn Sync, &*SLOT, &*POLLS]);
        let waker = SLOT.waker();
        let spawner = thread::spawn(|| {
            SLOT.spawn(std::future::poll_fn(|_cx| {
                POLLS.fetch_add(1, Ordering::Relaxed);
                Poll::<()>::Pending
            }))
            .unwrap();
        });
        let runner = thread::spawn(|| drain_lean(&EXEC));
        waker.wake_by_ref();
        spawner.join().unwrap();
        runner.join().unwrap();
        drain_lean(&EXEC);
        let polls = POLLS.load(Ordering::Relaxed);
        assert!((1..=2).contains(&polls), "{polls} polls");
        assert!(!EXEC.has_work() && SLOT.is_occupied());
    });
}
