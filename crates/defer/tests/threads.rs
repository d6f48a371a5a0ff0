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
