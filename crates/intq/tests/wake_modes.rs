//! Wake-up semantics: level- versus edge-triggered notification, the bottom-half hook, async
//! waits (woken from another thread standing in for the interrupt handler), and blocking waits.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use irqkit_intq::{HeavyBarrier, Pend, Queue, Spin, WakeMode};

#[cfg(all(target_os = "linux", not(miri)))]
mod membarrier;

/// A bottom-half hook that counts how often it was pended.
#[derive(Default)]
struct CountPends(AtomicUsize);

impl Pend for CountPends {
    fn pend(&'static self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

impl CountPends {
    fn count(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

#[test]
fn level_pends_the_bottom_half_on_every_push_and_once_per_batch() {
    let pends: &'static CountPends = leak(CountPends::default());
    let queue: &'static Queue<u8, 8> = leak(Queue::new().with_pend(pends));
    assert_eq!(queue.wake_mode(), WakeMode::Level);
    let (mut tx, _rx) = queue.split_static().unwrap();
    for byte in 0..3 {
        tx.try_push(byte).unwrap();
    }
    assert_eq!(pends.count(), 3);
    tx.push_slice(&[1, 2, 3]);
    assert_eq!(pends.count(), 4);
    tx.write_chunk_uninit(1).fill_from_iter([9]);
    assert_eq!(pends.count(), 5);
    tx.try_push(0).unwrap();
    assert_eq!(pends.count(), 6);
    // A full queue publishes nothing, so it pends nothing.
    assert!(tx.push_or_count(0).is_err());
    assert_eq!(tx.push_slice(&[0]), 0);
    assert_eq!(pends.count(), 6);
}

#[test]
fn edge_pends_only_on_the_empty_to_non_empty_transition() {
    let pends: &'static CountPends = leak(CountPends::default());
    let queue: &'static Queue<u8, 8> =
        leak(Queue::new().with_wake_mode(WakeMode::Edge).with_pend(pends));
    let (mut tx, mut rx) = queue.split_static().unwrap();
    for byte in 0..3 {
        tx.try_push(byte).unwrap();
    }
    assert_eq!(pends.count(), 1, "a burst is one edge");
    while rx.try_pop().is_ok() {}
    tx.push_slice(&[1, 2]);
    assert_eq!(pends.count(), 2, "draining to empty re-arms the edge");
}

/// The pitfall that makes `Level` the default: a bottom half with a budget that stops before
/// the queue is empty is never pended again under `Edge`, however much more arrives.
#[test]
fn edge_strands_items_after_a_partial_drain_and_level_does_not() {
    fn run(mode: WakeMode) -> (usize, usize) {
        let pends: &'static CountPends = leak(CountPends::default());
        let queue: &'static Queue<u8, 4> = leak(Queue::new().with_wake_mode(mode).with_pend(pends));
        let (mut tx, mut rx) = queue.split_static().unwrap();
        let mut handled = 0;
        let mut runs = 0;
        for interrupt in 0..16u8 {
            // Each interrupt delivers two bytes (a make code with a prefix, say).
            let _ = tx.push_or_count(2 * interrupt);
            let _ = tx.push_or_count(2 * interrupt + 1);
            // The bottom half runs when pended and handles one item per run (its budget).
            while runs < pends.count() {
                runs += 1;
                if rx.try_pop().is_ok() {
                    handled += 1;
                }
            }
        }
        (handled, rx.overruns())
    }
    let (handled, overruns) = run(WakeMode::Edge);
    assert_eq!(
        handled, 1,
        "after one partial drain the edge never comes again"
    );
    assert_eq!(overruns, 32 - 1 - 4, "the queue filled up and stayed stuck");
    let (handled, overruns) = run(WakeMode::Level);
    assert_eq!(
        (handled, overruns),
        (32, 0),
        "level keeps pending while data arrives"
    );
}

/// The pend hook and the fence are fixed parts of what a push does, kept when the consumer
/// parks and when the producer's wake-up unparks it: after every wake-up each push still pends.
#[test]
fn pends_and_wake_ups_continue_after_each_wake_up() {
    struct FenceBarrier;
    impl HeavyBarrier for FenceBarrier {
        fn heavy_barrier(&self) {
            std::sync::atomic::fence(Ordering::SeqCst);
        }
    }
    static BARRIER: FenceBarrier = FenceBarrier;
    for mode in [
        WakeMode::Level,
        WakeMode::SingleCore,
        WakeMode::Asymmetric(&BARRIER),
    ] {
        let pends: &'static CountPends = leak(CountPends::default());
        let queue: &'static Queue<u32, 8> =
            leak(Queue::new().with_pend(pends).with_wake_mode(mode));
        let (mut tx, mut rx) = queue.split_static().unwrap();
        let (state, waker) = ThreadWaker::for_this_thread();
        let mut cx = Context::from_waker(&waker);
        for round in 0..3 {
            {
                let mut pop = pin!(rx.pop());
                assert!(pop.as_mut().poll(&mut cx).is_pending(), "{mode:?}");
                tx.try_push(round).unwrap();
                assert_eq!(state.wakes.load(Ordering::Relaxed), round as usize + 1);
                assert_eq!(pop.as_mut().poll(&mut cx), Poll::Ready(round), "{mode:?}");
            }
            tx.push_slice(&[10, 11]);
            assert_eq!(pends.count(), 2 * (round as usize + 1), "{mode:?}");
            while rx.try_pop().is_ok() {}
        }
        assert_eq!(
            state.wakes.load(Ordering::Relaxed),
            3,
            "no spurious wake-ups"
        );
    }
}

#[test]
fn off_mode_never_notifies() {
    let pends: &'static CountPends = leak(CountPends::default());
    let queue: &'static Queue<u8, 8> =
        leak(Queue::new().with_wake_mode(WakeMode::Off).with_pend(pends));
    let (mut tx, _rx) = queue.split_static().unwrap();
    tx.push_slice(&[1, 2, 3]);
    tx.try_push(4).unwrap();
    assert_eq!(pends.count(), 0);
}

/// A waker that counts its wake-ups and unparks the thread that waits on it.
struct ThreadWaker {
    thread: thread::Thread,
    woken: AtomicBool,
    wakes: AtomicUsize,
}

impl ThreadWaker {
    /// A waker for the calling thread, and its counters.
    fn for_this_thread() -> (Arc<Self>, Waker) {
        let state = Arc::new(Self {
            thread: thread::current(),
            woken: AtomicBool::new(false),
            wakes: AtomicUsize::new(0),
        });
        let waker = Waker::from(state.clone());
        (state, waker)
    }
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// Runs a future to completion on this thread. Returns its output and the number of lost
/// wake-ups: times the future was `Pending`, nobody woke it for a long while, and yet a
/// re-poll found it ready.
fn block_on<F: Future>(future: F) -> (F::Output, usize) {
    let (state, waker) = ThreadWaker::for_this_thread();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let mut lost = 0;
    let mut timed_out = false;
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            if timed_out {
                lost += 1;
            }
            return (output, lost);
        }
        // Wait for the wake-up, but no longer than the deadline. `park_timeout` may return early
        // (a stale unpark token from an earlier waker of this thread), so time it ourselves.
        timed_out = false;
        let deadline = Instant::now() + Duration::from_millis(if cfg!(miri) { 50 } else { 500 });
        while !state.woken.swap(false, Ordering::Acquire) {
            let now = Instant::now();
            if now >= deadline {
                timed_out = true;
                break;
            }
            thread::park_timeout(deadline - now);
        }
    }
}

fn async_transfer(mode: WakeMode, items: u32) {
    let mut queue: Queue<u32, 4> = Queue::new().with_wake_mode(mode);
    let (mut tx, mut rx) = queue.split();
    thread::scope(|s| {
        s.spawn(move || {
            for seq in 0..items {
                let mut item = seq;
                while let Err(full) = tx.try_push(item) {
                    item = full.into_inner();
                    thread::yield_now();
                }
                if seq % 64 == 0 {
                    // Let the consumer run dry and park.
                    thread::sleep(Duration::from_micros(200));
                }
            }
        });
        let (received, lost) = block_on(async {
            let mut received = Vec::new();
            for _ in 0..items {
                received.push(rx.pop().await);
            }
            received
        });
        assert_eq!(lost, 0, "a wake-up was lost");
        assert!(received.iter().copied().eq(0..items));
    });
}

/// Awaits every item separately, each through its own `block_on`, so that a lost wake-up of any
/// single wait is detected.
fn async_transfer_checked(mode: WakeMode, items: u32) {
    let mut queue: Queue<u32, 4> = Queue::new().with_wake_mode(mode);
    let (mut tx, mut rx) = queue.split();
    thread::scope(|s| {
        s.spawn(move || {
            for seq in 0..items {
                let mut item = seq;
                while let Err(full) = tx.try_push(item) {
                    item = full.into_inner();
                    thread::yield_now();
                }
                if seq % 16 == 0 {
                    thread::sleep(Duration::from_micros(100));
                }
            }
        });
        let mut lost = 0;
        for expected in 0..items {
            let (value, lost_here) = block_on(rx.pop());
            lost += lost_here;
            assert_eq!(value, expected);
        }
        assert_eq!(lost, 0, "{lost} wake-ups were lost in {mode:?} mode");
    });
}

const ASYNC_ITEMS: u32 = if cfg!(miri) { 40 } else { 2_000 };

#[test]
fn async_consumer_is_woken_by_the_producer_in_level_mode() {
    async_transfer_checked(WakeMode::Level, ASYNC_ITEMS);
}

#[test]
fn async_consumer_is_woken_by_the_producer_in_edge_mode() {
    async_transfer_checked(WakeMode::Edge, ASYNC_ITEMS);
}

/// `Asymmetric` across real threads on real CPUs, with Linux' `membarrier` as the waiter's
/// barrier: the producer pushes with a compiler fence only, and no wake-up is lost.
#[test]
#[cfg(all(target_os = "linux", not(miri)))]
fn async_consumer_is_woken_by_the_producer_in_asymmetric_mode() {
    membarrier::Membarrier::register();
    async_transfer_checked(WakeMode::Asymmetric(&membarrier::MEMBARRIER), ASYNC_ITEMS);
}

/// Counts the waiter's barriers.
#[derive(Default)]
struct CountBarriers(AtomicUsize);

impl HeavyBarrier for CountBarriers {
    fn heavy_barrier(&self) {
        std::sync::atomic::fence(Ordering::SeqCst);
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn asymmetric_runs_the_heavy_barrier_once_per_sleep_and_never_on_the_push_path() {
    let barriers: &'static CountBarriers = leak(CountBarriers::default());
    let pends: &'static CountPends = leak(CountPends::default());
    let queue: &'static Queue<u8, 8> = leak(
        Queue::new()
            .with_wake_mode(WakeMode::Asymmetric(barriers))
            .with_pend(pends),
    );
    assert_eq!(queue.wake_mode(), WakeMode::Asymmetric(barriers));
    assert_ne!(queue.wake_mode(), WakeMode::Asymmetric(&MEMBARRIER_STANDIN));
    assert_ne!(queue.wake_mode(), WakeMode::Level);
    let (mut tx, mut rx) = queue.split_static().unwrap();
    tx.try_push(1).unwrap();
    tx.push_slice(&[2, 3]);
    assert_eq!(
        pends.count(),
        2,
        "notifies like Level: every push and once per batch"
    );
    assert_eq!(
        barriers.0.load(Ordering::Relaxed),
        0,
        "no barrier on the push path"
    );

    let (state, waker) = ThreadWaker::for_this_thread();
    let mut cx = Context::from_waker(&waker);
    // Items queued: no sleep, no barrier.
    for expected in 1..=3 {
        assert_eq!(pin!(rx.pop()).poll(&mut cx), Poll::Ready(expected));
    }
    assert_eq!(barriers.0.load(Ordering::Relaxed), 0);
    // Empty: the consumer parks, running the barrier once.
    let mut pop = pin!(rx.pop());
    assert_eq!(pop.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(barriers.0.load(Ordering::Relaxed), 1);
    tx.try_push(4).unwrap();
    assert_eq!(state.wakes.load(Ordering::Relaxed), 1);
    assert_eq!(pop.as_mut().poll(&mut cx), Poll::Ready(4));
    assert_eq!(barriers.0.load(Ordering::Relaxed), 1);
    assert_eq!(format!("{:?}", queue.wake_mode()), "Asymmetric(..)");
}

/// A second barrier object, to check that modes compare by the barrier they name.
static MEMBARRIER_STANDIN: CountBarriers = CountBarriers(AtomicUsize::new(0));

#[test]
fn async_consumer_busy_polls_in_off_mode() {
    async_transfer(WakeMode::Off, ASYNC_ITEMS / 4);
}

#[test]
fn readable_reports_the_queued_count_and_a_cancelled_wait_leaves_no_waker() {
    let queue: &'static Queue<u8, 8> = leak(Queue::new());
    let (mut tx, mut rx) = queue.split_static().unwrap();
    let (state, waker) = ThreadWaker::for_this_thread();
    let mut cx = Context::from_waker(&waker);
    {
        let mut wait = pin!(rx.readable());
        assert_eq!(wait.as_mut().poll(&mut cx), Poll::Pending);
    } // cancelled
    tx.try_push(1).unwrap();
    assert_eq!(state.wakes.load(Ordering::Relaxed), 0, "stale waker woken");

    tx.try_push(2).unwrap();
    let mut wait = pin!(rx.readable());
    assert_eq!(wait.as_mut().poll(&mut cx), Poll::Ready(2));
}

#[test]
fn parked_consumer_is_woken_exactly_once_per_registration() {
    let queue: &'static Queue<u8, 8> = leak(Queue::new());
    let (mut tx, mut rx) = queue.split_static().unwrap();
    let (state, waker) = ThreadWaker::for_this_thread();
    let mut cx = Context::from_waker(&waker);
    let mut pop = pin!(rx.pop());
    assert_eq!(pop.as_mut().poll(&mut cx), Poll::Pending);
    tx.try_push(7).unwrap();
    tx.try_push(8).unwrap(); // the waker was taken by the first push
    assert_eq!(state.wakes.load(Ordering::Relaxed), 1);
    assert_eq!(pop.as_mut().poll(&mut cx), Poll::Ready(7));
}

#[test]
fn single_core_notifies_like_level_on_one_cpu() {
    // The interrupt handler and the task share this thread, as they share the CPU of a
    // single-core kernel: every push and every batch pends, and a parked `.await` is woken by
    // the next push exactly once.
    let pends: &'static CountPends = leak(CountPends::default());
    let queue: &'static Queue<u8, 8> = leak(
        Queue::new()
            .with_wake_mode(WakeMode::SingleCore)
            .with_pend(pends),
    );
    let (mut tx, mut rx) = queue.split_static().unwrap();
    tx.try_push(1).unwrap();
    tx.try_push(2).unwrap();
    tx.push_slice(&[3, 4]);
    tx.write_chunk_uninit(1).fill_from_iter([5]);
    assert_eq!(pends.count(), 4);
    let mut drained = [0u8; 8];
    assert_eq!(rx.pop_slice(&mut drained), 5);
    assert_eq!(&drained[..5], &[1, 2, 3, 4, 5]);

    let (state, waker) = ThreadWaker::for_this_thread();
    let mut cx = Context::from_waker(&waker);
    let mut pop = pin!(rx.pop());
    assert_eq!(pop.as_mut().poll(&mut cx), Poll::Pending);
    tx.try_push(7).unwrap();
    tx.try_push(8).unwrap();
    assert_eq!(state.wakes.load(Ordering::Relaxed), 1);
    assert_eq!(pop.as_mut().poll(&mut cx), Poll::Ready(7));
    assert_eq!(pends.count(), 6);
}

#[test]
fn blocking_pop_is_released_by_another_thread() {
    for mode in [WakeMode::Level, WakeMode::Edge, WakeMode::Off] {
        let mut queue: Queue<u16, 2> = Queue::new().with_wake_mode(mode);
        let (mut tx, mut rx) = queue.split();
        thread::scope(|s| {
            s.spawn(move || {
                for value in 0..10 {
                    while tx.try_push(value).is_err() {
                        thread::yield_now();
                    }
                }
            });
            for expected in 0..10 {
                assert_eq!(rx.pop_blocking(&mut Spin), Ok(expected));
            }
        });
    }
}
