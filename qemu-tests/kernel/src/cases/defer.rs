//! `defer_ticks`: irqkit-defer driven by real interrupts: delayed work fired by PIT ticks,
//! coalescing schedules, and an async task woken from IRQ 1 through an irqkit-intq queue,
//! then sleeping on ticks.
//!
//! Serial lines the host checks:
//! - `delayed after=N armed_at=T ran_at=R` for N = 5, 10, 20, in that order;
//! - `ping runs=1 first_schedule=true second_schedule=false`;
//! - `task byte=1e`, `task byte=9e` (the host's `a`), `task slept=5 from=T to=R`;
//! - `executor scheduled=.. coalesced=.. runs=.. skipped=.. timers_fired=.. worst_latency_ticks=..`.

use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use irqkit_defer::{sleep, TaskSlot, Work};
use irqkit_hal::critical_section::{self, Mutex};
use irqkit_intq::{Consumer, Producer, Queue};

use crate::deferred::{self, EXECUTOR};
use crate::keyboard::read_scancode;
use crate::port::ports;
use crate::{irq, println, timer};

/// The delays armed, in ticks, and the items that run after them.
const DELAYS: [u32; 3] = [5, 10, 20];
static DELAYED: [Work; 3] = [
    Work::new(&EXECUTOR, delayed_0),
    Work::new(&EXECUTOR, delayed_1),
    Work::new(&EXECUTOR, delayed_2),
];
/// The tick each delay was armed at, and the tick each item ran at (0: not yet).
static ARMED_AT: AtomicU64 = AtomicU64::new(0);
static RAN_AT: [AtomicU64; 3] = [const { AtomicU64::new(0) }; 3];
/// The position (1, 2, 3) in which each delayed item ran, from the counter below.
static RUN_POSITION: [AtomicU32; 3] = [const { AtomicU32::new(0) }; 3];
static RUNS_SO_FAR: AtomicU32 = AtomicU32::new(0);

/// A plain bottom half scheduled twice before it runs: the second schedule coalesces.
static PING: Work = Work::new(&EXECUTOR, ping);
static PING_RUNS: AtomicU32 = AtomicU32::new(0);

/// Key bytes from IRQ 1 to the async task; the task's waker is registered in the queue.
static KEYS: Queue<u8, 16> = Queue::new();
static KEYS_TX: Mutex<RefCell<Option<Producer<'static, u8, 16>>>> = Mutex::new(RefCell::new(None));
static TASK: TaskSlot<256> = TaskSlot::new(&EXECUTOR);
static TASK_DONE: AtomicBool = AtomicBool::new(false);
/// How long the task sleeps after the key, in ticks.
const TASK_SLEEP: u32 = 5;

fn delayed_0() {
    delayed_ran(0);
}

fn delayed_1() {
    delayed_ran(1);
}

fn delayed_2() {
    delayed_ran(2);
}

/// Records and prints when delayed item `index` ran.
fn delayed_ran(index: usize) {
    let now = timer::ticks();
    RAN_AT[index].store(now, Ordering::Relaxed);
    let position = RUNS_SO_FAR.fetch_add(1, Ordering::Relaxed) + 1;
    RUN_POSITION[index].store(position, Ordering::Relaxed);
    println!(
        "delayed after={} armed_at={} ran_at={now}",
        DELAYS[index],
        ARMED_AT.load(Ordering::Relaxed)
    );
}

fn ping() {
    PING_RUNS.fetch_add(1, Ordering::Relaxed);
}

/// IRQ 1 for this case: the byte goes to the task's queue, whose push wakes the task.
fn key_top_half(_irq: u8) {
    let Some(byte) = read_scancode(&mut ports()) else {
        return;
    };
    critical_section::with(|cs| {
        if let Some(tx) = KEYS_TX.borrow_ref_mut(cs).as_mut() {
            let _ = tx.push_or_count(byte);
        }
    });
}

/// Waits for the two bytes of one key tap, then sleeps on the tick.
async fn key_task(mut keys: Consumer<'static, u8, 16>) {
    for _ in 0..2 {
        let byte = keys.pop().await;
        println!("task byte={byte:02x}");
    }
    let from = EXECUTOR.now();
    if let Err(error) = sleep(TASK_SLEEP).await {
        panic!("sleep failed: {error}");
    }
    println!("task slept={TASK_SLEEP} from={from} to={}", EXECUTOR.now());
    assert_eq!(keys.overruns(), 0, "the task's key queue overran");
    TASK_DONE.store(true, Ordering::Relaxed);
}

/// `defer_ticks`.
pub fn defer_ticks() {
    // Drop whatever the firmware left in the controller: the task's first byte is the host's.
    let mut io = ports();
    while read_scancode(&mut io).is_some() {}
    let (tx, rx) = KEYS.split_static().expect("split once per boot");
    critical_section::with(|cs| *KEYS_TX.borrow_ref_mut(cs) = Some(tx));
    irq::register(irq::KEYBOARD, key_top_half);
    if TASK.spawn(key_task(rx)).is_err() {
        panic!("the task slot is occupied");
    }

    let first = PING.schedule();
    let second = PING.schedule();

    // Arm the delays at one tick, with the timer interrupt held off.
    critical_section::with(|_| {
        ARMED_AT.store(timer::ticks(), Ordering::Relaxed);
        for (work, delay) in DELAYED.iter().zip(DELAYS) {
            work.schedule_after(delay)
                .unwrap_or_else(|error| panic!("schedule_after({delay}): {error}"));
        }
    });
    println!("READY");
    deferred::run_until(|| {
        TASK_DONE.load(Ordering::Relaxed)
            && RAN_AT.iter().all(|ran| ran.load(Ordering::Relaxed) != 0)
    });
    irq::unregister(irq::KEYBOARD);

    println!(
        "ping runs={} first_schedule={first} second_schedule={second}",
        PING_RUNS.load(Ordering::Relaxed)
    );
    deferred::print_stats();

    let armed_at = ARMED_AT.load(Ordering::Relaxed);
    let order = RUN_POSITION
        .each_ref()
        .map(|position| position.load(Ordering::Relaxed));
    assert_eq!(order, [1, 2, 3], "delayed items ran out of order");
    for (ran, delay) in RAN_AT.iter().zip(DELAYS) {
        let ran = ran.load(Ordering::Relaxed);
        assert!(
            ran >= armed_at + u64::from(delay),
            "delay {delay} armed at {armed_at} ran early at {ran}"
        );
    }
    assert_eq!(PING_RUNS.load(Ordering::Relaxed), 1);
    assert!(first && !second, "the second schedule must coalesce");
}
