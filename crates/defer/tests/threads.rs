//! A second thread plays the interrupt: it runs its "handler" inside `critical_section::with`
//! (the std implementation is a global lock, so it serialises with other critical sections but
//! otherwise runs in parallel with the executor, which explores more interleavings than one
//! core would). Counts are checked exactly against the schedulers' own return values.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Mutex;
use std::task::Waker;
use std::thread;

use irqkit_defer::{Budget, Executor, RunError, TaskSlot, Work};

fn rounds() -> u32 {
    if cfg!(miri) {
        50
    } else {
        20_000
    }
}

#[test]
fn interrupt_thread_schedules_while_the_executor_runs() {
    static EXEC: Executor = Executor::new();
    static PRODUCED: AtomicU32 = AtomicU32::new(0);
    static SEEN: AtomicU32 = AtomicU32::new(0);
    static BH: Work = Work::new(&EXEC, bottom_half);
    fn bottom_half() {
        // Relaxed: the schedule's release / the run's acquire must make it visible.
        let produced = PRODUCED.load(Ordering::Relaxed);
        let seen = SEEN.load(Ordering::Relaxed);
        assert!(produced >= seen, "values never go back");
        SEEN.store(produced, Ordering::Relaxed);
    }

    let rounds = rounds();
    let irq = thread::spawn(move || {
        let mut newly = 0;
        for i in 1..=rounds {
            critical_section::with(|_| {
                PRODUCED.store(i, Ordering::Relaxed);
                newly += u32::from(BH.schedule());
            });
        }
        newly
    });
    let mut ran = 0;
    while !irq.is_finished() {
        ran += EXEC.run(Budget::items(4)).unwrap().ran;
    }
    let newly = irq.join().unwrap();
    ran += EXEC.run_until_idle().unwrap().ran;

    assert_eq!(
        ran, newly,
        "every schedule that made the item pending led to exactly one run"
    );
    assert_eq!(BH.runs(), ran);
    assert_eq!(
        SEEN.load(Ordering::Relaxed),
        rounds,
        "the last schedule was not lost"
    );
    let stats = EXEC.stats();
    assert_eq!(
        (stats.scheduled, stats.coalesced, stats.runs),
        (newly, rounds - newly, ran)
    );
}

#[test]
fn two_runners_never_run_an_item_concurrently_with_itself() {
    static EXEC: Executor = Executor::new();
    static ACTIVE: AtomicBool = AtomicBool::new(false);
    static A: Work = Work::new(&EXEC, guarded);
    static B: Work = Work::new(&EXEC, guarded);
    fn guarded() {
        assert!(
            !ACTIVE.swap(true, Ordering::AcqRel),
            "two handlers ran at once"
        );
        std::hint::spin_loop();
        ACTIVE.store(false, Ordering::Release);
    }

    let rounds = rounds();
    let runner = move || {
        let (mut ran, mut busy) = (0, 0);
        for _ in 0..rounds {
            match EXEC.run(Budget::items(2)) {
                Ok(report) => ran += report.ran,
                Err(RunError::Busy) => busy += 1,
                Err(e) => panic!("{e}"),
            }
        }
        (ran, busy)
    };
    let irq = thread::spawn(move || {
        let mut newly = 0;
        for _ in 0..rounds {
            critical_section::with(|_| {
                newly += u32::from(A.schedule());
                newly += u32::from(B.schedule());
            });
        }
        newly
    });
    let other = thread::spawn(runner);
    let (ran_here, _) = runner();
    let (ran_there, _) = other.join().unwrap();
    let newly = irq.join().unwrap();
    let rest = loop {
        match EXEC.run_until_idle() {
            Ok(report) => break report.ran,
            Err(RunError::Busy) => thread::yield_now(),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(ran_here + ran_there + rest, newly);
    assert_eq!(A.runs() + B.runs(), newly);
}

#[test]
fn interrupt_thread_races_cancel_and_disable() {
    static EXEC: Executor = Executor::new();
    static BH: Work = Work::new(&EXEC, || {});

    let rounds = rounds();
    let irq = thread::spawn(move || {
        let mut newly = 0;
        for _ in 0..rounds {
            critical_section::with(|_| newly += u32::from(BH.schedule()));
        }
        newly
    });
    let (mut cancelled, mut ran) = (0, 0);
    for i in 0..rounds {
        if i % 3 == 0 {
            cancelled += u32::from(BH.cancel());
        }
        if i % 5 == 0 {
            BH.disable().unwrap();
            ran += EXEC.run(Budget::items(1)).unwrap().ran;
            BH.enable().unwrap();
        }
        ran += EXEC.run(Budget::items(1)).unwrap().ran;
    }
    let newly = irq.join().unwrap();
    ran += EXEC.run_until_idle().unwrap().ran;
    // Every newly-pending transition ends in exactly one run or one successful cancel.
    assert_eq!(ran + cancelled, newly);
    assert!(BH.is_idle());
    assert_eq!(BH.disable_depth(), 0);
}

#[test]
fn interrupt_thread_wakes_a_task() {
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<128> = TaskSlot::new(&EXEC);
    static WAKER: Mutex<Option<Waker>> = Mutex::new(None);
    static PRODUCED: AtomicU32 = AtomicU32::new(0);
    static TARGET: AtomicU32 = AtomicU32::new(0);

    let rounds = rounds();
    TARGET.store(rounds, Ordering::Relaxed);
    SLOT.spawn(std::future::poll_fn(|cx| {
        // Register before checking, as interrupt-fed futures must.
        *WAKER.lock().unwrap() = Some(cx.waker().clone());
        if PRODUCED.load(Ordering::Acquire) == TARGET.load(Ordering::Relaxed) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }))
    .unwrap();
    EXEC.run_until_idle().unwrap();

    let irq = thread::spawn(move || {
        for i in 1..=rounds {
            critical_section::with(|_| {
                PRODUCED.store(i, Ordering::Release);
                if let Some(waker) = WAKER.lock().unwrap().as_ref() {
                    waker.wake_by_ref();
                }
            });
        }
    });
    while SLOT.is_occupied() {
        if EXEC.run(Budget::items(8)).unwrap().ran == 0 {
            thread::yield_now();
        }
    }
    irq.join().unwrap();
    assert!(SLOT.polls() >= 2);
}

#[test]
fn interrupt_thread_spawns_wakes_and_aborts_tasks_by_id() {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::AtomicU8;
    use std::task::{Context, Poll};

    const MAX: usize = 20_000;
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    static POLLS: [AtomicU8; MAX] = [const { AtomicU8::new(0) }; MAX];
    static COMPLETED: [AtomicBool; MAX] = [const { AtomicBool::new(false) }; MAX];
    static ABORTED: [AtomicBool; MAX] = [const { AtomicBool::new(false) }; MAX];
    static DROPS: [AtomicU8; MAX] = [const { AtomicU8::new(0) }; MAX];

    /// Task `i` finishes on its `i % 3 + 1`-th poll.
    struct Numbered {
        i: usize,
        data: Box<usize>,
    }
    impl Future for Numbered {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
            assert_eq!(*self.data, self.i, "polled a dead future");
            assert_eq!(
                DROPS[self.i].load(Ordering::Relaxed),
                0,
                "polled after its drop"
            );
            let polls = POLLS[self.i].fetch_add(1, Ordering::Relaxed) + 1;
            if usize::from(polls) == self.i % 3 + 1 {
                COMPLETED[self.i].store(true, Ordering::Relaxed);
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }
    }
    impl Drop for Numbered {
        fn drop(&mut self) {
            assert_eq!(*self.data, self.i, "dropped a dead future");
            DROPS[self.i].fetch_add(1, Ordering::Relaxed);
        }
    }

    let tasks = usize::try_from(rounds()).unwrap().min(MAX);
    let irq = thread::spawn(move || {
        let mut current: Option<(irqkit_defer::TaskId, usize)> = None;
        let mut refused: Option<Numbered> = None;
        let mut next = 0;
        while next < tasks {
            if let Some((id, i)) = current {
                if i % 3 == 0 && SLOT.abort_task(id) {
                    ABORTED[i].store(true, Ordering::Relaxed);
                }
            }
            SLOT.wake();
            let future = refused.take().unwrap_or_else(|| Numbered {
                i: next,
                data: Box::new(next),
            });
            match SLOT.spawn(future) {
                Ok(id) => {
                    if let Some((previous, _)) = current {
                        // The slot was free, so the previous task has been dropped.
                        assert!(!SLOT.holds(previous));
                        assert!(!SLOT.abort_task(previous), "a finished task's id aborted");
                    }
                    current = Some((id, next));
                    next += 1;
                }
                Err(back) => {
                    refused = Some(back.into_inner());
                    thread::yield_now();
                }
            }
        }
    });
    while !irq.is_finished() {
        if EXEC.run(Budget::items(4)).unwrap().ran == 0 {
            thread::yield_now();
        }
    }
    irq.join().unwrap();
    while SLOT.is_occupied() {
        SLOT.wake();
        EXEC.run_until_idle().unwrap();
    }

    for i in 0..tasks {
        let polls = POLLS[i].load(Ordering::Relaxed);
        let completed = COMPLETED[i].load(Ordering::Relaxed);
        let aborted = ABORTED[i].load(Ordering::Relaxed);
        assert_eq!(DROPS[i].load(Ordering::Relaxed), 1, "task {i} dropped once");
        assert!(
            usize::from(polls) <= i % 3 + 1,
            "task {i}: no poll after it finished"
        );
        assert!(
            completed || aborted,
            "task {i} was dropped unfinished without an abort naming it"
        );
        if aborted {
            assert_eq!(i % 3, 0, "only tasks the interrupt aborted by id");
        }
    }
}
