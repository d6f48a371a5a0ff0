//! Trace tests in the style of embassy-executor's: a recorder stands in for the pender and the
//! handlers, and each test asserts the exact sequence of "pend" and runs for given schedules.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use irqkit_defer::{
    sleep, Budget, DelayError, EnableError, Executor, Priority, RunError, Stats, Stop, TaskId,
    TaskSlot, Work, MAX_DELAY,
};

/// Declares a per-test trace recorder: `t(event)`, `take()`, and `pend` for the executor.
macro_rules! recorder {
    () => {
        static TRACE: Mutex<Vec<String>> = Mutex::new(Vec::new());
        #[allow(dead_code)]
        fn t(event: impl Into<String>) {
            TRACE.lock().unwrap().push(event.into());
        }
        #[allow(dead_code)]
        fn take() -> Vec<String> {
            std::mem::take(&mut *TRACE.lock().unwrap())
        }
        #[allow(dead_code)]
        fn pend() {
            t("pend");
        }
    };
}

#[test]
fn one_pend_for_coalesced_schedules_and_fifo_runs() {
    recorder!();
    static EXEC: Executor = Executor::new().with_pender(pend);
    static A: Work = Work::new(&EXEC, || t("run a"));
    static B: Work = Work::new(&EXEC, || t("run b"));

    assert!(A.schedule());
    assert!(!A.schedule());
    assert!(B.schedule());
    assert_eq!(take(), ["pend"]);
    let report = EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["run a", "run b"]);
    assert_eq!(
        (report.ran, report.skipped, report.stop),
        (2, 0, Stop::Idle)
    );
    // Nothing queued: running again does nothing.
    assert_eq!(EXEC.run_until_idle().unwrap().ran, 0);
    assert!(take().is_empty());
}

#[test]
fn scheduled_during_its_run_runs_exactly_once_more() {
    recorder!();
    static EXEC: Executor = Executor::new().with_pender(pend);
    static A: Work = Work::new(&EXEC, a);
    fn a() {
        t("run a");
        assert!(
            !A.is_pending(),
            "pending is cleared before the handler runs"
        );
        if A.runs() == 0 {
            assert!(A.schedule());
            assert!(!A.schedule());
        }
    }

    A.schedule();
    let report = EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["pend", "run a", "pend", "run a"]);
    assert_eq!(report.ran, 2);
    assert_eq!(A.runs(), 2);
    assert!(!A.is_running() && A.is_idle());
}

#[test]
fn urgent_items_run_before_normal_ones() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static N1: Work = Work::new(&EXEC, n1);
    static N2: Work = Work::new(&EXEC, || t("n2"));
    static U1: Work = Work::new(&EXEC, || t("u1")).with_priority(Priority::Urgent);
    static U2: Work = Work::new(&EXEC, || t("u2")).with_priority(Priority::Urgent);
    fn n1() {
        t("n1");
        U2.schedule(); // an interrupt's urgent bottom half overtakes the waiting N2
    }

    N1.schedule();
    N2.schedule();
    U1.schedule();
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["u1", "n1", "u2", "n2"]);
}

#[test]
fn cancel_takes_back_a_pending_run() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static A: Work = Work::new(&EXEC, || t("a"));
    static B: Work = Work::new(&EXEC, || t("b"));

    A.schedule();
    B.schedule();
    assert!(A.cancel());
    assert!(!A.cancel());
    let report = EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["b"]);
    assert_eq!((report.ran, report.skipped), (1, 1));

    // Rescheduled before its old entry was consumed: it keeps its place.
    A.schedule();
    B.schedule();
    A.cancel();
    A.schedule();
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["a", "b"]);
    assert_eq!((A.runs(), B.runs()), (1, 2));
    assert!(!A.cancel(), "nothing pending after the run");
}

#[test]
fn a_disabled_item_stays_pending_until_the_last_enable() {
    recorder!();
    static EXEC: Executor = Executor::new().with_pender(pend);
    static A: Work = Work::new(&EXEC, || t("a"));

    assert_eq!(A.enable(), Err(EnableError::NotDisabled));
    assert_eq!(A.disable(), Ok(1));
    assert_eq!(A.disable(), Ok(2));
    assert!(A.schedule());
    assert_eq!(
        take(),
        Vec::<String>::new(),
        "a disabled item is not queued"
    );
    let report = EXEC.run_until_idle().unwrap();
    assert_eq!((report.ran, report.skipped), (0, 0));
    assert!(A.is_pending());
    assert_eq!(A.enable(), Ok(1));
    assert!(take().is_empty());
    assert_eq!(A.enable(), Ok(0));
    assert_eq!(take(), ["pend"]);
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["a"]);

    // Disabled while queued: the entry is parked (skipped), the run waits for enable.
    A.schedule();
    A.disable().unwrap();
    let report = EXEC.run_until_idle().unwrap();
    assert_eq!((report.ran, report.skipped), (0, 1));
    assert!(A.is_pending());
    take();
    A.enable().unwrap();
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["pend", "a"]);
    assert_eq!(A.disable_depth(), 0);
}

#[test]
fn item_budget_reports_what_remains() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static ITEMS: [Work; 5] = [
        Work::new(&EXEC, || t("0")),
        Work::new(&EXEC, || t("1")),
        Work::new(&EXEC, || t("2")),
        Work::new(&EXEC, || t("3")),
        Work::new(&EXEC, || t("4")),
    ];
    for item in &ITEMS {
        item.schedule();
    }
    let report = EXEC.run(Budget::items(2)).unwrap();
    assert_eq!(
        (report.ran, report.stop, report.more_work),
        (2, Stop::ItemBudget, true)
    );
    assert_eq!(take(), ["0", "1"]);
    let report = EXEC.run(Budget::items(0)).unwrap();
    assert_eq!(
        (report.ran, report.stop, report.more_work),
        (0, Stop::ItemBudget, true)
    );
    let report = EXEC.run(Budget::items(10)).unwrap();
    assert_eq!(
        (report.ran, report.stop, report.more_work),
        (3, Stop::Idle, false)
    );
    assert_eq!(take(), ["2", "3", "4"]);
}

#[test]
fn time_budget_stops_a_storm() {
    static NOW: AtomicU32 = AtomicU32::new(0);
    fn clock() -> u32 {
        NOW.load(Ordering::Relaxed)
    }
    static EXEC: Executor = Executor::new().with_clock(clock);
    /// A storm: the handler takes 10 clock units and reschedules itself every time.
    static STORM: Work = Work::new(&EXEC, storm);
    fn storm() {
        NOW.fetch_add(10, Ordering::Relaxed);
        STORM.schedule();
    }

    STORM.schedule();
    let report = EXEC.run(Budget::items(100).with_time(25)).unwrap();
    assert_eq!(
        (report.ran, report.stop, report.more_work),
        (3, Stop::TimeBudget, true)
    );
    // A zero time budget still makes progress: one item per call.
    let report = EXEC.run(Budget::items(100).with_time(0)).unwrap();
    assert_eq!((report.ran, report.stop), (1, Stop::TimeBudget));
    STORM.cancel();
    let report = EXEC.run_until_idle().unwrap();
    assert_eq!(
        (report.ran, report.skipped, report.stop),
        (0, 1, Stop::Idle)
    );
}

#[test]
fn misuse_is_reported_not_panicked() {
    static EXEC: Executor = Executor::new();
    static NESTED: Mutex<Option<Result<(), RunError>>> = Mutex::new(None);
    static REENTER: Work = Work::new(&EXEC, || {
        *NESTED.lock().unwrap() = Some(EXEC.run_until_idle().map(drop));
    });

    assert_eq!(
        EXEC.run(Budget::items(1).with_time(5)),
        Err(RunError::NoClock)
    );
    assert_eq!(
        EXEC.run_forever(Budget::UNLIMITED.with_time(1), || {})
            .unwrap_err(),
        RunError::NoClock
    );
    REENTER.schedule();
    EXEC.run_until_idle().unwrap();
    assert_eq!(*NESTED.lock().unwrap(), Some(Err(RunError::Busy)));
}

#[test]
fn counters_and_worst_latency() {
    static NOW: AtomicU32 = AtomicU32::new(100);
    fn clock() -> u32 {
        NOW.load(Ordering::Relaxed)
    }
    static EXEC: Executor = Executor::new().with_clock(clock);
    static A: Work = Work::new(&EXEC, || {});
    static B: Work = Work::new(&EXEC, || {});

    A.schedule(); // at 100
    NOW.store(110, Ordering::Relaxed);
    A.schedule(); // coalesced: the stamp stays 100
    B.schedule(); // at 110
    NOW.store(130, Ordering::Relaxed);
    EXEC.run_until_idle().unwrap();
    B.schedule();
    B.cancel();
    EXEC.run_until_idle().unwrap();
    assert_eq!(
        EXEC.stats(),
        Stats {
            scheduled: 3,
            coalesced: 1,
            cancelled: 1,
            runs: 2,
            skipped: 1,
            max_latency: 30,
            timers_fired: 0
        }
    );
    assert_eq!(EXEC.reset_max_latency(), 30);
    assert_eq!(EXEC.stats().max_latency, 0);
    assert_eq!((A.runs(), B.runs()), (1, 1));
}

#[test]
fn idle_sleeps_only_without_work() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static A: Work = Work::new(&EXEC, || t("a"));

    assert!(EXEC.wait_for_work(|| t("wfi")));
    A.schedule();
    assert!(!EXEC.wait_for_work(|| t("wfi")));
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["wfi", "a"]);
}

// ---------------------------------------------------------------- tasks

/// A future that records its polls and finishes after `polls_to_finish` polls, keeping the
/// waker in `WAKER` for the "interrupt".
struct Recorded {
    name: &'static str,
    polls: u32,
    polls_to_finish: u32,
    trace: fn(String),
    waker: &'static Mutex<Option<Waker>>,
}

impl Future for Recorded {
    type Output = ();
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls += 1;
        (self.trace)(format!("poll {} #{}", self.name, self.polls));
        *self.waker.lock().unwrap() = Some(cx.waker().clone());
        if self.polls == self.polls_to_finish {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Recorded {
    fn drop(&mut self) {
        (self.trace)(format!("drop {}", self.name));
    }
}

#[test]
fn task_wakes_coalesce_and_there_is_no_poll_after_completion() {
    recorder!();
    static EXEC: Executor = Executor::new().with_pender(pend);
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    static WAKER: Mutex<Option<Waker>> = Mutex::new(None);
    fn trace(s: String) {
        t(s)
    }

    SLOT.spawn(Recorded {
        name: "t",
        polls: 0,
        polls_to_finish: 2,
        trace,
        waker: &WAKER,
    })
    .unwrap();
    assert_eq!(take(), ["pend"]); // spawning schedules the first poll
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["poll t #1"]);

    let waker = WAKER.lock().unwrap().take().unwrap();
    waker.wake_by_ref(); // the interrupt wakes it twice: one pend, one poll
    let cloned = waker.clone(); // exercises clone and the consuming `wake`
    cloned.wake();
    assert_eq!(take(), ["pend"]);
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["poll t #2", "drop t"]);
    assert!(!SLOT.is_occupied());

    waker.wake_by_ref(); // a stale waker: schedules the item, which finds the slot empty
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["pend"]);
    assert_eq!(SLOT.polls(), 3);
}

// ---------------------------------------------------------------- wake lanes

/// A task that records each poll under its name and never finishes; `then` runs inside the
/// poll (what an interrupt or another task could do at that moment).
struct Polled {
    name: &'static str,
    trace: fn(String),
    then: fn(),
}

impl Future for Polled {
    type Output = ();
    fn poll(self: std::pin::Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        (self.trace)(format!("poll {}", self.name));
        (self.then)();
        Poll::Pending
    }
}

#[test]
fn lane_wakes_pend_once_coalesce_and_count() {
    recorder!();
    static EXEC: Executor = Executor::new().with_pender(pend);
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    fn trace(s: String) {
        t(s)
    }

    SLOT.spawn(Polled {
        name: "t",
        trace,
        then: || {},
    })
    .unwrap();
    assert!(SLOT.is_scheduled());
    assert_eq!(take(), ["pend"]);
    EXEC.run_until_idle().unwrap();
    assert!(!SLOT.is_scheduled());
    assert_eq!(take(), ["poll t"]);

    assert!(SLOT.wake(), "newly woken");
    assert!(!SLOT.wake(), "coalesced");
    SLOT.waker().wake_by_ref();
    assert_eq!(take(), ["pend"], "one pend: the lanes were idle once");
    assert!(EXEC.has_work());
    let report = EXEC.run(Budget::items(8)).unwrap();
    assert_eq!((report.ran, report.more_work), (1, false));
    assert_eq!(take(), ["poll t"]);
    let stats = EXEC.stats();
    assert_eq!((stats.runs, stats.coalesced, stats.scheduled), (2, 2, 2));
    assert_eq!(SLOT.polls(), 2);
}

#[test]
fn lane_wake_to_poll_latency_is_measured() {
    static NOW: AtomicU32 = AtomicU32::new(5);
    fn clock() -> u32 {
        NOW.load(Ordering::Relaxed)
    }
    static EXEC: Executor = Executor::new().with_clock(clock);
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);

    SLOT.spawn(core::future::pending()).unwrap(); // at 5
    NOW.store(9, Ordering::Relaxed);
    EXEC.run_until_idle().unwrap();
    assert_eq!(EXEC.reset_max_latency(), 4);
    SLOT.wake(); // at 9
    NOW.store(20, Ordering::Relaxed);
    SLOT.wake(); // coalesced: the stamp stays 9
    NOW.store(30, Ordering::Relaxed);
    EXEC.run_until_idle().unwrap();
    assert_eq!(EXEC.stats().max_latency, 21);
}

#[test]
fn a_round_runs_queued_items_then_lanes_in_lane_order() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static A: TaskSlot<64> = TaskSlot::new(&EXEC);
    static B: TaskSlot<64> = TaskSlot::new(&EXEC);
    static BH: Work = Work::new(&EXEC, || t("run bh"));
    fn trace(s: String) {
        t(s)
    }

    A.spawn(Polled {
        name: "a",
        trace,
        then: || {
            // Woken again during its own poll: polled again, in the next round.
            A.wake();
        },
    })
    .unwrap();
    B.spawn(Polled {
        name: "b",
        trace,
        then: || {
            BH.schedule();
        },
    })
    .unwrap();
    assert_eq!(EXEC.run(Budget::items(2)).unwrap().ran, 2);
    assert_eq!(take(), ["poll a", "poll b"]);

    // The next round: the bottom half B queued, then A (woken by itself); B is not woken.
    assert_eq!(EXEC.claim().unwrap().run_items(3), 3);
    assert_eq!(take(), ["run bh", "poll a", "poll a"]);

    // Wake order does not matter inside a round: lanes are polled by number.
    A.abort();
    B.wake();
    BH.schedule();
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["run bh", "poll b", "run bh"]);
    assert!(!A.is_occupied() && !EXEC.has_work());
}

#[test]
fn a_task_that_keeps_waking_itself_starves_nobody() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static BUSY: TaskSlot<64> = TaskSlot::new(&EXEC);
    static OTHER: TaskSlot<64> = TaskSlot::new(&EXEC);
    static BH: Work = Work::new(&EXEC, || t("run bh"));
    fn trace(s: String) {
        t(s)
    }

    BUSY.spawn(Polled {
        name: "busy",
        trace,
        then: || {
            BUSY.wake();
        },
    })
    .unwrap();
    OTHER
        .spawn(Polled {
            name: "other",
            trace,
            then: || {},
        })
        .unwrap();
    EXEC.claim().unwrap().run_items(2);
    assert_eq!(take(), ["poll busy", "poll other"]);
    OTHER.wake();
    BH.schedule();
    // Every round polls `busy` once more; everything else scheduled before a round runs in it.
    assert_eq!(EXEC.claim().unwrap().run_items(5), 5);
    assert_eq!(
        take(),
        [
            "run bh",
            "poll busy",
            "poll other",
            "poll busy",
            "poll busy"
        ]
    );
    BUSY.abort();
    EXEC.run_until_idle().unwrap();
}

#[test]
fn a_task_in_the_round_is_scheduled_until_its_poll_starts() {
    static EXEC: Executor = Executor::new();
    static FIRST: TaskSlot<64> = TaskSlot::new(&EXEC);
    static SECOND: TaskSlot<64> = TaskSlot::new(&EXEC);
    static SEEN: Mutex<Vec<(bool, bool)>> = Mutex::new(Vec::new());

    FIRST
        .spawn(core::future::poll_fn(|_| {
            SEEN.lock()
                .unwrap()
                .push((FIRST.is_scheduled(), SECOND.is_scheduled()));
            Poll::<()>::Pending
        }))
        .unwrap();
    SECOND.spawn(core::future::pending()).unwrap();
    EXEC.run_until_idle().unwrap();
    SECOND.wake();
    FIRST.wake();
    EXEC.run_until_idle().unwrap();
    // In FIRST's polls: FIRST itself is running, not scheduled; SECOND (same round, next
    // lane) is scheduled.
    assert_eq!(*SEEN.lock().unwrap(), [(false, true), (false, true)]);
    assert!(!FIRST.is_scheduled() && !SECOND.is_scheduled());
}

#[test]
fn task_slots_beyond_the_lanes_and_urgent_slots_go_through_the_queues() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static SLOTS: [TaskSlot<64>; 34] = [const { TaskSlot::new(&EXEC) }; 34];
    static URGENT: TaskSlot<64> = TaskSlot::new(&EXEC).with_priority(Priority::Urgent);

    fn task(i: usize) -> impl Future<Output = ()> {
        core::future::poll_fn(move |_| {
            t(format!("poll {i}"));
            Poll::Pending
        })
    }
    for (i, slot) in SLOTS.iter().enumerate() {
        slot.spawn(task(i)).unwrap();
    }
    URGENT.spawn(task(99)).unwrap();
    EXEC.run_until_idle().unwrap();
    let first: Vec<String> = take();
    // The urgent task first; then the round: slots 32 and 33 (no lane left: queued, in
    // scheduling order), then the 32 lanes by number.
    let mut expected = vec!["poll 99".to_string(), "poll 32".into(), "poll 33".into()];
    expected.extend((0..32).map(|i| format!("poll {i}")));
    assert_eq!(first, expected);

    for slot in SLOTS.iter().rev() {
        slot.wake();
    }
    URGENT.wake();
    EXEC.run_until_idle().unwrap();
    let mut expected = vec!["poll 99".to_string(), "poll 33".into(), "poll 32".into()];
    expected.extend((0..32).map(|i| format!("poll {i}")));
    assert_eq!(take(), expected);
    assert_eq!(EXEC.stats().runs, 70);
}

#[test]
fn spawning_into_an_occupied_slot_hands_the_future_back() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    static WAKER: Mutex<Option<Waker>> = Mutex::new(None);
    fn trace(s: String) {
        t(s)
    }
    let task = |name| Recorded {
        name,
        polls: 0,
        polls_to_finish: 1,
        trace,
        waker: &WAKER,
    };

    SLOT.spawn(task("first")).unwrap();
    let refused = SLOT.spawn(task("second")).unwrap_err();
    assert_eq!(format!("{refused:?}"), "Occupied(..)");
    let second = refused.into_inner();
    assert_eq!(second.name, "second");
    assert!(
        take().is_empty(),
        "the refused future is not dropped by the slot"
    );
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["poll first #1", "drop first"]);
    SLOT.spawn(second).unwrap();
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["poll second #1", "drop second"]);
}

#[test]
fn abort_drops_the_future_without_polling_it() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    static WAKER: Mutex<Option<Waker>> = Mutex::new(None);
    fn trace(s: String) {
        t(s)
    }

    assert!(!SLOT.abort(), "nothing to abort");
    SLOT.spawn(Recorded {
        name: "t",
        polls: 0,
        polls_to_finish: 9,
        trace,
        waker: &WAKER,
    })
    .unwrap();
    EXEC.run_until_idle().unwrap();
    WAKER.lock().unwrap().take().unwrap().wake();
    assert!(SLOT.abort());
    assert!(!SLOT.abort(), "already being aborted");
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["poll t #1", "drop t"]);
    assert!(!SLOT.is_occupied());
}

#[test]
fn abort_task_never_aborts_the_task_that_replaced_it() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    static OTHER: TaskSlot<64> = TaskSlot::new(&EXEC);
    static WAKER: Mutex<Option<Waker>> = Mutex::new(None);
    fn trace(s: String) {
        t(s)
    }
    let task = |name, polls_to_finish| Recorded {
        name,
        polls: 0,
        polls_to_finish,
        trace,
        waker: &WAKER,
    };

    let first = SLOT.spawn(task("first", 1)).unwrap();
    assert!(SLOT.holds(first));
    EXEC.run_until_idle().unwrap();
    assert!(!SLOT.holds(first), "finished");
    let second = SLOT.spawn(task("second", 2)).unwrap();
    assert_ne!(first, second, "each spawn is a new task");
    assert!(
        !SLOT.abort_task(first),
        "the first task's id does not reach the second"
    );
    assert!(SLOT.holds(second) && !SLOT.holds(first));
    let other = OTHER.spawn(task("other", 1)).unwrap();
    assert!(!SLOT.abort_task(other), "another slot's id is refused");
    assert!(!SLOT.holds(other));
    EXEC.run_until_idle().unwrap();
    assert!(SLOT.wake());
    EXEC.run_until_idle().unwrap();
    assert_eq!(
        take(),
        [
            "poll first #1",
            "drop first",
            "poll second #1",
            "poll other #1",
            "drop other",
            "poll second #2",
            "drop second"
        ]
    );
    assert!(!SLOT.abort_task(second), "finished");
}

#[test]
fn an_abort_whose_task_finishes_and_is_replaced_midway_leaves_the_new_task_alone() {
    recorder!();
    static RESPAWN: AtomicU32 = AtomicU32::new(0);
    static SECOND: Mutex<Option<TaskId>> = Mutex::new(None);
    static WAKER: Mutex<Option<Waker>> = Mutex::new(None);
    fn trace(s: String) {
        t(s)
    }
    fn task(name: &'static str) -> Recorded {
        Recorded {
            name,
            polls: 0,
            polls_to_finish: 2,
            trace,
            waker: &WAKER,
        }
    }
    /// Called inside `abort`, after its state change, from the schedule that asks for the
    /// run: the executor retires the aborted task and a new task takes the slot before
    /// `abort` returns.
    fn pender() {
        if RESPAWN.swap(0, Ordering::Relaxed) == 1 {
            t("pend: run");
            EXEC.run_until_idle().unwrap();
            t("pend: spawn");
            *SECOND.lock().unwrap() = Some(SLOT.spawn(task("second")).unwrap());
        }
    }
    static EXEC: Executor = Executor::new().with_pender(pender);
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);

    let first = SLOT.spawn(task("first")).unwrap();
    EXEC.run_until_idle().unwrap();
    RESPAWN.store(1, Ordering::Relaxed);
    assert!(SLOT.abort(), "the first task was asked");
    let second = SECOND.lock().unwrap().unwrap();
    assert!(!SLOT.holds(first) && SLOT.holds(second));
    assert!(!SLOT.abort_task(first));
    EXEC.run_until_idle().unwrap();
    WAKER.lock().unwrap().take().unwrap().wake();
    EXEC.run_until_idle().unwrap();
    assert_eq!(
        take(),
        [
            "poll first #1",
            "pend: run",
            "drop first",
            "pend: spawn",
            "poll second #1",
            "poll second #2",
            "drop second"
        ],
        "the second task runs to completion"
    );
}

#[test]
fn an_abort_from_the_last_poll_does_not_carry_over_to_the_next_task() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);

    SLOT.spawn(poll_fn(|_| {
        assert!(SLOT.abort(), "a task may abort itself");
        t("first aborts itself and finishes");
        Poll::Ready(())
    }))
    .unwrap();
    EXEC.run_until_idle().unwrap();
    assert!(!SLOT.is_occupied());
    let second = SLOT
        .spawn(poll_fn(|_| match SLOT.polls() {
            // poll 1: first's run; its abort's leftover schedule was consumed in the same
            // `run_until_idle`, so this is the second task's first poll.
            2 => {
                t("second pending");
                Poll::Pending
            }
            _ => {
                t("second done");
                Poll::Ready(())
            }
        }))
        .unwrap();
    EXEC.run_until_idle().unwrap();
    assert!(SLOT.holds(second), "not aborted by the first task's abort");
    SLOT.wake();
    EXEC.run_until_idle().unwrap();
    assert_eq!(
        take(),
        [
            "first aborts itself and finishes",
            "second pending",
            "second done"
        ]
    );
}

#[test]
fn async_fns_and_blocks_spawn_on_stable() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<256> = TaskSlot::new(&EXEC).with_priority(Priority::Urgent);
    static PLAIN: Work = Work::new(&EXEC, || t("plain"));
    static DATA: AtomicU32 = AtomicU32::new(0);

    async fn consumer() {
        let value = poll_fn(|cx| match DATA.load(Ordering::Acquire) {
            0 => {
                // A real driver registers the waker; here the test wakes the slot directly.
                let _ = cx.waker();
                Poll::Pending
            }
            v => Poll::Ready(v),
        })
        .await;
        t(format!("got {value}"));
    }

    SLOT.spawn(consumer()).unwrap();
    EXEC.run_until_idle().unwrap();
    DATA.store(7, Ordering::Release);
    PLAIN.schedule();
    assert!(SLOT.wake());
    assert!(!SLOT.wake());
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["got 7", "plain"], "the urgent task runs first");
}

// ---------------------------------------------------------------- delayed work

#[test]
fn delayed_work_fires_on_ticks_in_deadline_order() {
    recorder!();
    static EXEC: Executor = Executor::new().with_pender(pend);
    static A: Work = Work::new(&EXEC, || t("a"));
    static B: Work = Work::new(&EXEC, || t("b"));
    static C: Work = Work::new(&EXEC, || t("c"));

    assert_eq!(A.schedule_after(3), Ok(false));
    assert_eq!(B.schedule_after(1), Ok(false));
    assert_eq!(C.schedule_after(3), Ok(false));
    assert_eq!(
        A.schedule_after(1),
        Ok(true),
        "an armed delay keeps its deadline"
    );
    assert!(A.is_delayed());
    assert!(EXEC.has_timers());
    assert_eq!(EXEC.tick(), 1);
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["pend", "b"]);
    assert_eq!(EXEC.tick(), 0);
    assert_eq!(EXEC.tick(), 2);
    EXEC.run_until_idle().unwrap();
    assert_eq!(
        take(),
        ["pend", "a", "c"],
        "equal deadlines fire in arming order"
    );
    assert_eq!(EXEC.now(), 3);
    assert!(!EXEC.has_timers());
    assert_eq!(EXEC.stats().timers_fired, 3);
}

#[test]
fn reschedule_cancel_zero_and_too_long() {
    recorder!();
    static EXEC: Executor = Executor::new();
    static A: Work = Work::new(&EXEC, || t("a"));
    static B: Work = Work::new(&EXEC, || t("b"));

    A.schedule_after(5).unwrap();
    assert_eq!(A.reschedule_after(1), Ok(true));
    EXEC.tick();
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["a"]);

    B.schedule_after(2).unwrap();
    assert!(B.cancel(), "cancel disarms a delay");
    assert!(!B.is_delayed());
    EXEC.tick();
    EXEC.tick();
    EXEC.run_until_idle().unwrap();
    assert!(take().is_empty());

    assert_eq!(B.schedule_after(0), Ok(false));
    assert!(B.is_pending(), "zero ticks schedules at once");
    assert_eq!(
        B.schedule_after(MAX_DELAY + 1),
        Err(DelayError::TooLong {
            requested: MAX_DELAY + 1,
            max: MAX_DELAY
        })
    );
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["b"]);
}

#[test]
fn sleeping_task_wakes_from_the_tick() {
    recorder!();
    static EXEC: Executor = Executor::new().with_pender(pend);
    static SLOT: TaskSlot<128> = TaskSlot::new(&EXEC);

    SLOT.spawn(async {
        t("start");
        sleep(2).await.unwrap();
        t("woke");
        sleep(0).await.unwrap();
        t("done");
    })
    .unwrap();
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["pend", "start"]);
    EXEC.tick();
    EXEC.run_until_idle().unwrap();
    assert!(
        take().is_empty(),
        "no poll before the deadline: no busy-wait"
    );
    EXEC.tick();
    EXEC.run_until_idle().unwrap();
    assert_eq!(take(), ["pend", "woke", "done"]);
    assert!(!SLOT.is_occupied());
    assert_eq!(SLOT.polls(), 2);
}

#[test]
fn sleep_outside_a_task_is_an_error() {
    let mut cx = Context::from_waker(Waker::noop());
    let mut sleeping = pin!(sleep(1));
    assert_eq!(
        sleeping.as_mut().poll(&mut cx),
        Poll::Ready(Err(DelayError::NotInTask))
    );
}
