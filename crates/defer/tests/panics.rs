//! Panics in user code in the middle of an operation: task futures (poll and drop), work
//! handlers, the pender and future construction. After every unwind the executor and the
//! slot must be in a defined state: a future is polled only while live, dropped exactly once,
//! and the slot is reusable.
//!
//! The futures own heap memory (`Box`), so a poll or a drop after the drop is a use after free
//! that Miri reports (and a `double free` abort natively).

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::{Context, Poll};

use irqkit_defer::{sleep, Executor, RunError, RunReport, TaskSlot, Work};

/// Runs the executor until idle, returning `Err` when a handler panicked.
fn run_catching(executor: &'static Executor) -> Result<RunReport, ()> {
    catch_unwind(AssertUnwindSafe(|| executor.run_until_idle()))
        .map(|report| report.expect("executor not busy"))
        .map_err(|_| ())
}

/// Counts of one future type's polls and drops.
struct Counts {
    polls: AtomicU32,
    drops: AtomicU32,
}

impl Counts {
    const fn new() -> Self {
        Self {
            polls: AtomicU32::new(0),
            drops: AtomicU32::new(0),
        }
    }

    fn get(&self) -> (u32, u32) {
        (
            self.polls.load(Ordering::Relaxed),
            self.drops.load(Ordering::Relaxed),
        )
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Ready,
    Pending,
    Panic,
}

/// A future that owns heap memory, counts its polls and drops, and does what `script` says
/// at each poll (by poll number); its destructor panics when `drop_panics` is set.
struct Scripted {
    data: Box<u64>,
    polls: u32,
    script: fn(u32) -> Step,
    counts: &'static Counts,
    drop_panics: bool,
}

impl Scripted {
    fn new(counts: &'static Counts, script: fn(u32) -> Step, drop_panics: bool) -> Self {
        Self {
            data: Box::new(0xF00D),
            polls: 0,
            script,
            counts,
            drop_panics,
        }
    }
}

impl Future for Scripted {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A read of the owned memory: a use after free if the future is already dropped.
        assert_eq!(*self.data, 0xF00D, "polled a dead future");
        self.polls += 1;
        self.counts.polls.fetch_add(1, Ordering::Relaxed);
        match (self.script)(self.polls) {
            Step::Ready => Poll::Ready(()),
            Step::Pending => {
                let _ = cx.waker();
                Poll::Pending
            }
            Step::Panic => panic!("poll #{} panics", self.polls),
        }
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        assert_eq!(*self.data, 0xF00D, "dropped a dead future");
        self.counts.drops.fetch_add(1, Ordering::Relaxed);
        if self.drop_panics {
            panic!("the future's destructor panics");
        }
    }
}

#[test]
fn a_future_whose_destructor_panics_after_ready_is_dropped_once_and_frees_the_slot() {
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    static COUNTS: Counts = Counts::new();

    SLOT.spawn(Scripted::new(&COUNTS, |_| Step::Ready, true))
        .unwrap();
    assert!(
        run_catching(&EXEC).is_err(),
        "the destructor's panic unwinds out of run"
    );
    assert_eq!(COUNTS.get(), (1, 1));

    // A wake and an abort after the unwind: neither may touch the dead future.
    SLOT.wake();
    assert!(run_catching(&EXEC).is_ok(), "no poll of the dead future");
    assert!(!SLOT.abort(), "nothing left to abort");
    assert!(run_catching(&EXEC).is_ok(), "no second drop");
    assert_eq!(COUNTS.get(), (1, 1), "one poll, one drop");
    assert!(
        !SLOT.is_occupied(),
        "the unwind completed the change to empty"
    );
    assert!(EXEC.claim().is_ok(), "the executor is not left claimed");

    // The slot is reusable.
    static AGAIN: Counts = Counts::new();
    SLOT.spawn(Scripted::new(&AGAIN, |_| Step::Ready, false))
        .unwrap();
    assert!(run_catching(&EXEC).is_ok());
    assert_eq!(AGAIN.get(), (1, 1));
    assert!(!SLOT.is_occupied());
}

#[test]
fn an_aborted_future_whose_destructor_panics_is_dropped_once_and_frees_the_slot() {
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    static COUNTS: Counts = Counts::new();

    SLOT.spawn(Scripted::new(&COUNTS, |_| Step::Pending, true))
        .unwrap();
    assert!(run_catching(&EXEC).is_ok());
    assert!(SLOT.abort());
    assert!(
        run_catching(&EXEC).is_err(),
        "the destructor's panic unwinds out of run"
    );

    SLOT.wake();
    assert!(run_catching(&EXEC).is_ok());
    assert!(!SLOT.abort());
    assert!(run_catching(&EXEC).is_ok());
    assert_eq!(COUNTS.get(), (1, 1), "no poll after the abort, one drop");
    assert!(!SLOT.is_occupied());
}

#[test]
fn a_future_whose_poll_panics_is_dropped_and_never_polled_again() {
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    static COUNTS: Counts = Counts::new();

    SLOT.spawn(Scripted::new(
        &COUNTS,
        |n| if n == 1 { Step::Pending } else { Step::Panic },
        false,
    ))
    .unwrap();
    assert!(run_catching(&EXEC).is_ok());
    assert_eq!(COUNTS.get(), (1, 0));
    SLOT.wake();
    assert!(
        run_catching(&EXEC).is_err(),
        "the poll's panic unwinds out of run"
    );
    assert_eq!(COUNTS.get(), (2, 1), "dropped as the panic unwound");
    assert!(!SLOT.is_occupied(), "a panicked task leaves the slot empty");

    SLOT.wake();
    assert!(run_catching(&EXEC).is_ok(), "never polled again");
    assert!(!SLOT.abort());
    assert!(run_catching(&EXEC).is_ok());
    assert_eq!(COUNTS.get(), (2, 1));

    static AGAIN: Counts = Counts::new();
    SLOT.spawn(Scripted::new(&AGAIN, |_| Step::Ready, false))
        .unwrap();
    assert!(run_catching(&EXEC).is_ok());
    assert_eq!(AGAIN.get(), (1, 1));
}

#[test]
fn a_panicking_task_with_an_armed_sleep_leaves_only_a_stale_wake_up() {
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<128> = TaskSlot::new(&EXEC);
    static PANIC_NOW: AtomicBool = AtomicBool::new(false);
    static DROPS: AtomicU32 = AtomicU32::new(0);

    struct CountDrop(Box<u64>);
    impl Drop for CountDrop {
        fn drop(&mut self) {
            assert_eq!(*self.0, 1);
            DROPS.fetch_add(1, Ordering::Relaxed);
        }
    }

    SLOT.spawn(async {
        let owned = CountDrop(Box::new(1));
        // Armed for 3 ticks; the panic comes first, on a wake-up.
        let mut nap = core::pin::pin!(sleep(3));
        std::future::poll_fn(|cx| {
            if PANIC_NOW.load(Ordering::Relaxed) {
                panic!("task panics while its sleep is armed");
            }
            nap.as_mut().poll(cx).map(|r| r.unwrap())
        })
        .await;
        drop(owned);
    })
    .unwrap();
    assert!(run_catching(&EXEC).is_ok());
    assert!(EXEC.has_timers(), "the sleep armed the slot's timer");
    PANIC_NOW.store(true, Ordering::Relaxed);
    SLOT.wake();
    assert!(run_catching(&EXEC).is_err());
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
    assert!(!SLOT.is_occupied());

    // The armed timer fires into the empty slot: a stale run that touches nothing.
    for _ in 0..3 {
        EXEC.tick();
        assert!(run_catching(&EXEC).is_ok());
    }
    assert!(!EXEC.has_timers());
    assert_eq!(DROPS.load(Ordering::Relaxed), 1);
}

#[test]
fn a_future_whose_construction_panics_leaves_the_slot_empty() {
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    static COUNTS: Counts = Counts::new();

    fn build() -> Scripted {
        panic!("constructor panics");
    }
    assert!(catch_unwind(|| SLOT.spawn(build())).is_err());
    assert!(!SLOT.is_occupied());
    assert!(!SLOT.is_scheduled());
    SLOT.spawn(Scripted::new(&COUNTS, |_| Step::Ready, false))
        .unwrap();
    assert!(run_catching(&EXEC).is_ok());
    assert_eq!(COUNTS.get(), (1, 1));
}

#[test]
fn a_handler_that_panics_ends_its_run_and_keeps_its_reschedule() {
    static EXEC: Executor = Executor::new();
    static PANICS: AtomicBool = AtomicBool::new(true);
    static A: Work = Work::new(&EXEC, a);
    static B: Work = Work::new(&EXEC, || {});
    fn a() {
        if PANICS.swap(false, Ordering::Relaxed) {
            assert!(A.schedule(), "pending was cleared before the run");
            panic!("handler panics");
        }
    }

    A.schedule();
    B.schedule();
    assert!(run_catching(&EXEC).is_err());
    assert!(!A.is_running(), "the run ended as the panic unwound");
    assert_eq!(A.runs(), 1);
    assert!(A.is_pending(), "the schedule made during the run is kept");
    let report = run_catching(&EXEC).expect("the executor is not left claimed");
    assert_eq!(
        report.ran, 2,
        "A's second run, and B, still queued behind it"
    );
    assert_eq!((A.runs(), B.runs()), (2, 1));
    assert!(A.is_idle() && B.is_idle());
}

/// Runs the executor through the lean entry point (a `Runner` claimed for the call), returning
/// `Err` when a handler or a poll panicked; the runner is dropped as the panic unwinds.
fn run_items_catching(executor: &'static Executor) -> Result<u32, ()> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut runner = executor.claim().expect("executor not busy");
        runner.run_items(u32::MAX)
    }))
    .map_err(|_| ())
}

#[test]
fn run_items_with_a_handler_that_panics_ends_its_run_and_keeps_its_reschedule() {
    static EXEC: Executor = Executor::new();
    static PANICS: AtomicBool = AtomicBool::new(true);
    static A: Work = Work::new(&EXEC, a);
    static B: Work = Work::new(&EXEC, || {});
    fn a() {
        if PANICS.swap(false, Ordering::Relaxed) {
            assert!(A.is_running(), "the lean loop records the running item");
            assert!(A.schedule(), "pending was cleared before the run");
            panic!("handler panics");
        }
    }

    A.schedule();
    B.schedule();
    assert!(run_items_catching(&EXEC).is_err());
    assert!(!A.is_running(), "the run ended as the panic unwound");
    assert_eq!(A.runs(), 1);
    assert_eq!(EXEC.stats().runs, 1, "the panicked run is counted");
    assert!(A.is_pending(), "the schedule made during the run is kept");
    assert!(B.is_pending(), "B, behind A, is still queued");
    assert_eq!(
        run_items_catching(&EXEC),
        Ok(2),
        "the runner was released as the panic unwound; A's second run, and B"
    );
    assert_eq!((A.runs(), B.runs()), (2, 1));
    assert!(A.is_idle() && B.is_idle() && !EXEC.has_work());
    assert_eq!(EXEC.stats().runs, 3);
}

#[test]
fn run_items_with_a_future_whose_poll_panics_drops_it_and_frees_the_slot() {
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    // A second task, spawned after SLOT: it has the next lane, so in a round it is polled
    // after SLOT.
    static OTHER: TaskSlot<64> = TaskSlot::new(&EXEC);
    static COUNTS: Counts = Counts::new();

    SLOT.spawn(Scripted::new(
        &COUNTS,
        |n| if n == 1 { Step::Pending } else { Step::Panic },
        false,
    ))
    .unwrap();
    OTHER.spawn(core::future::pending()).unwrap();
    assert_eq!(run_items_catching(&EXEC), Ok(2));
    assert_eq!(COUNTS.get(), (1, 0));
    OTHER.wake();
    SLOT.wake();
    assert!(
        run_items_catching(&EXEC).is_err(),
        "the poll's panic unwinds out of run_items"
    );
    assert_eq!(COUNTS.get(), (2, 1), "dropped as the panic unwound");
    assert!(!SLOT.is_occupied(), "a panicked task leaves the slot empty");
    assert_eq!(SLOT.polls(), 2);
    assert!(
        OTHER.is_scheduled(),
        "the task behind it in the round is still to be polled"
    );

    SLOT.wake();
    assert_eq!(
        run_items_catching(&EXEC),
        Ok(2),
        "OTHER, and the stale wake-up, which polls nothing"
    );
    assert_eq!(COUNTS.get(), (2, 1), "never polled again");
    assert_eq!(OTHER.polls(), 2);

    static AGAIN: Counts = Counts::new();
    SLOT.spawn(Scripted::new(&AGAIN, |_| Step::Ready, false))
        .unwrap();
    assert_eq!(run_items_catching(&EXEC), Ok(1));
    assert_eq!(AGAIN.get(), (1, 1));
    assert!(!SLOT.is_occupied());
}

#[test]
fn a_pender_that_panics_leaves_spawn_abort_and_schedule_consistent() {
    static PENDER_PANICS: AtomicBool = AtomicBool::new(false);
    fn pender() {
        if PENDER_PANICS.load(Ordering::Relaxed) {
            panic!("pender panics");
        }
    }
    static EXEC: Executor = Executor::new().with_pender(pender);
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    static W: Work = Work::new(&EXEC, || {});
    static COUNTS: Counts = Counts::new();

    // spawn: the future is in the slot and its first poll is queued before the pender runs.
    PENDER_PANICS.store(true, Ordering::Relaxed);
    assert!(catch_unwind(|| {
        SLOT.spawn(Scripted::new(&COUNTS, |_| Step::Pending, false))
            .map(|_| ())
            .map_err(|_| ())
    })
    .is_err());
    assert!(SLOT.is_occupied() && SLOT.is_scheduled());
    PENDER_PANICS.store(false, Ordering::Relaxed);
    assert_eq!(run_catching(&EXEC).unwrap().ran, 1);
    assert_eq!(COUNTS.get(), (1, 0));

    // abort: the abort is recorded and its run queued before the pender runs.
    PENDER_PANICS.store(true, Ordering::Relaxed);
    assert!(catch_unwind(|| SLOT.abort()).is_err());
    assert!(!SLOT.abort(), "already being aborted");
    PENDER_PANICS.store(false, Ordering::Relaxed);
    assert_eq!(run_catching(&EXEC).unwrap().ran, 1);
    assert_eq!(COUNTS.get(), (1, 1), "dropped without another poll");
    assert!(!SLOT.is_occupied());

    // schedule: pending and queued.
    PENDER_PANICS.store(true, Ordering::Relaxed);
    assert!(catch_unwind(|| W.schedule()).is_err());
    assert!(W.is_pending());
    assert!(!W.schedule(), "coalesces with the queued run");
    PENDER_PANICS.store(false, Ordering::Relaxed);
    assert_eq!(run_catching(&EXEC).unwrap().ran, 1);
    assert_eq!(W.runs(), 1);
}

#[test]
fn a_pender_that_panics_in_tick_loses_no_timer() {
    static PENDER_PANICS: AtomicBool = AtomicBool::new(false);
    fn pender() {
        if PENDER_PANICS.load(Ordering::Relaxed) {
            panic!("pender panics");
        }
    }
    static EXEC: Executor = Executor::new().with_pender(pender);
    static A: Work = Work::new(&EXEC, || {});
    static B: Work = Work::new(&EXEC, || {});

    A.schedule_after(1).unwrap();
    B.schedule_after(1).unwrap();
    PENDER_PANICS.store(true, Ordering::Relaxed);
    // A is scheduled on an empty queue: the pender panics inside the tick.
    assert!(catch_unwind(|| EXEC.tick()).is_err());
    PENDER_PANICS.store(false, Ordering::Relaxed);
    assert!(A.is_pending() && !A.is_delayed(), "A fired");
    assert!(B.is_delayed(), "B is still armed, its deadline passed");
    assert_eq!(EXEC.stats().timers_fired, 1, "the fired timer is counted");
    assert_eq!(EXEC.tick(), 1, "B fires on the next tick");
    assert_eq!(run_catching(&EXEC).unwrap().ran, 2);
    assert_eq!((A.runs(), B.runs()), (1, 1));
    assert_eq!(EXEC.stats().timers_fired, 2);
}

#[test]
fn run_from_a_panicking_handler_is_refused_not_reentered() {
    static EXEC: Executor = Executor::new();
    static A: Work = Work::new(&EXEC, || {
        assert_eq!(EXEC.run_until_idle(), Err(RunError::Busy));
        panic!("after the refused run");
    });
    A.schedule();
    assert!(run_catching(&EXEC).is_err());
    assert_eq!(run_catching(&EXEC).unwrap().ran, 0);
    assert!(A.is_idle());
}

#[test]
fn a_clock_that_panics_in_run_loses_that_run_and_nothing_else() {
    static CLOCK_PANICS: AtomicBool = AtomicBool::new(false);
    fn clock() -> u32 {
        if CLOCK_PANICS.load(Ordering::Relaxed) {
            panic!("clock panics");
        }
        0
    }
    static EXEC: Executor = Executor::new().with_clock(clock);
    static A: Work = Work::new(&EXEC, || {});
    static B: Work = Work::new(&EXEC, || {});

    A.schedule();
    B.schedule();
    CLOCK_PANICS.store(true, Ordering::Relaxed);
    // The latency read after A is taken for its run panics.
    assert!(run_catching(&EXEC).is_err());
    CLOCK_PANICS.store(false, Ordering::Relaxed);
    assert!(A.is_idle(), "A's run is lost, A is not stuck");
    assert_eq!(run_catching(&EXEC).unwrap().ran, 1, "B is still queued");
    assert!(A.schedule(), "A can be scheduled again");
    assert_eq!(run_catching(&EXEC).unwrap().ran, 1);
    assert_eq!((A.runs(), B.runs()), (1, 1));
}
