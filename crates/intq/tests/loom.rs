//! loom models: every interleaving (and every weak-memory outcome loom models) of small
//! producer / consumer scenarios.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p irqkit-intq --test loom --release`.
//! Slot accesses are checked for data races through the crate's loom slot tracker; a lost
//! wake-up shows up as a deadlock, which loom reports.
#![cfg(loom)]
// Chunks and iterators are dropped or forgotten explicitly, to show where a model ends their
// use, whether or not they have a destructor.
#![allow(clippy::drop_non_drop, clippy::forget_non_drop)]

use irqkit_intq::{HeavyBarrier, Pend, PopError, Queue, WakeMode};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// Explores with a preemption bound, which keeps the larger models tractable; set
/// `LOOM_MAX_PREEMPTIONS` to override.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// A queue that lives for the rest of the model run (loom threads need `'static`).
fn leaked<T: Send, const N: usize>(mode: WakeMode) -> &'static mut Queue<T, N> {
    Box::leak(Box::new(Queue::new().with_wake_mode(mode)))
}

#[test]
fn push_pop_keeps_order_with_full_capacity() {
    model(|| {
        let (mut tx, mut rx) = leaked::<u32, 2>(WakeMode::Off).split();
        let producer = thread::spawn(move || {
            for value in 0..3 {
                while tx.try_push(value).is_err() {
                    thread::yield_now();
                }
            }
        });
        for expected in 0..3 {
            loop {
                match rx.try_pop() {
                    Ok(value) => {
                        assert_eq!(value, expected);
                        break;
                    }
                    Err(e) => {
                        assert_eq!(e, PopError::Empty);
                        thread::yield_now();
                    }
                }
            }
        }
        producer.join().unwrap();
        assert!(rx.try_pop().is_err());
    });
}

#[test]
fn indices_wrap_around_with_capacity_one() {
    // With N = 1 the indices run over 0..2, so three items take them around the ring and back.
    model(|| {
        let (mut tx, mut rx) = leaked::<u32, 1>(WakeMode::Off).split();
        let producer = thread::spawn(move || {
            for value in 0..3 {
                while tx.try_push(value).is_err() {
                    thread::yield_now();
                }
            }
        });
        let mut received = Vec::new();
        while received.len() < 3 {
            match rx.try_pop() {
                Ok(value) => received.push(value),
                Err(_) => thread::yield_now(),
            }
        }
        producer.join().unwrap();
        assert_eq!(received, [0, 1, 2]);
    });
}

#[test]
fn wrap_around_with_odd_capacity_and_owned_items() {
    // N = 3 is not a power of two (compare-based index arithmetic); `String` checks that every
    // item is moved out exactly once (a double read or a torn slot would double-free or leak).
    model(|| {
        let queue = leaked::<String, 3>(WakeMode::Off);
        {
            let (mut tx, mut rx) = queue.split();
            // Move the indices close to the end of the slot array first.
            tx.try_push(String::from("x")).unwrap();
            tx.try_push(String::from("y")).unwrap();
            assert_eq!(rx.try_pop().unwrap(), "x");
            assert_eq!(rx.try_pop().unwrap(), "y");
        }
        let (mut tx, mut rx) = queue.split();
        let producer = thread::spawn(move || {
            for word in ["a", "b"] {
                let mut item = String::from(word);
                while let Err(full) = tx.try_push(item) {
                    item = full.into_inner();
                    thread::yield_now();
                }
            }
        });
        let mut received = Vec::new();
        while received.len() < 2 {
            match rx.try_pop() {
                Ok(word) => received.push(word),
                Err(_) => thread::yield_now(),
            }
        }
        producer.join().unwrap();
        assert_eq!(received, ["a", "b"]);
    });
}

#[test]
fn batches_and_chunks_publish_whole_ranges() {
    model(|| {
        let (mut tx, mut rx) = leaked::<u8, 3>(WakeMode::Off).split();
        let producer = thread::spawn(move || {
            let items = [1, 2, 3, 4];
            let mut sent = 0;
            while sent < items.len() {
                let pushed = if sent == 0 {
                    tx.push_slice(&items[..3])
                } else {
                    tx.write_chunk_uninit(items.len() - sent)
                        .fill_from_slice(&items[sent..])
                };
                if pushed == 0 {
                    thread::yield_now();
                }
                sent += pushed;
            }
        });
        let mut received = Vec::new();
        while received.len() < 4 {
            let chunk = rx.read_chunk(2);
            if chunk.is_empty() {
                drop(chunk);
                let mut buffer = [0; 2];
                let count = rx.pop_slice(&mut buffer);
                received.extend_from_slice(&buffer[..count]);
                if count == 0 {
                    thread::yield_now();
                }
                continue;
            }
            let (first, second) = chunk.as_slices();
            received.extend(first.iter().chain(second));
            chunk.commit_all();
        }
        producer.join().unwrap();
        assert_eq!(received, [1, 2, 3, 4]);
    });
}

#[test]
fn overruns_are_counted_exactly() {
    model(|| {
        let queue = leaked::<u8, 1>(WakeMode::Off);
        let (mut tx, mut rx) = queue.split();
        let producer = thread::spawn(move || {
            for value in 0..3 {
                let _ = tx.push_or_count(value);
            }
        });
        let mut received = 0;
        if rx.try_pop().is_ok() {
            received += 1;
        }
        producer.join().unwrap();
        while rx.try_pop().is_ok() {
            received += 1;
        }
        assert_eq!(received + rx.take_overruns(), 3);
    });
}

fn async_wakeup(mode: WakeMode) {
    model(move || {
        let (mut tx, mut rx) = leaked::<u8, 2>(mode).split();
        let producer = thread::spawn(move || {
            tx.try_push(7).unwrap();
        });
        // If the producer's notification could miss the parked consumer, `block_on` would
        // never be woken and loom would report a deadlock.
        let value = loom::future::block_on(rx.pop());
        assert_eq!(value, 7);
        producer.join().unwrap();
    });
}

#[test]
fn no_lost_wakeup_level() {
    async_wakeup(WakeMode::Level);
}

/// The single-core handshake, with loom's threads standing for an interrupt handler and the
/// task it interrupts; the compiler fence is modelled by the `SeqCst` fence that one CPU's
/// program order amounts to (see `sync::single_core_fence`).
#[test]
fn no_lost_wakeup_single_core() {
    async_wakeup(WakeMode::SingleCore);
}

/// A batch push notifies once; the parked `readable()` must see it.
fn batch_wakeup(mode: WakeMode) {
    model(move || {
        let (mut tx, mut rx) = leaked::<u8, 2>(mode).split();
        let producer = thread::spawn(move || {
            assert_eq!(tx.push_slice(&[1, 2]), 2);
        });
        let len = loom::future::block_on(rx.readable());
        assert!(len >= 1);
        producer.join().unwrap();
        let mut buffer = [0; 2];
        assert_eq!(rx.pop_slice(&mut buffer), 2);
        assert_eq!(buffer, [1, 2]);
    });
}

#[test]
fn no_lost_wakeup_single_core_batch() {
    batch_wakeup(WakeMode::SingleCore);
}

/// The kernel's cross-CPU barrier as the model sees it: asymmetric fences pair like two
/// `SeqCst` fences (the light side is modelled as one, see `sync::single_core_fence`), so the
/// model checks that the consumer runs the barrier between raising `parked` and re-reading
/// `tail`.
struct ModelBarrier;

impl HeavyBarrier for ModelBarrier {
    fn heavy_barrier(&self) {
        loom::sync::atomic::fence(Ordering::SeqCst);
    }
}

#[test]
fn no_lost_wakeup_asymmetric() {
    async_wakeup(WakeMode::Asymmetric(&ModelBarrier));
}

#[test]
fn no_lost_wakeup_asymmetric_batch() {
    batch_wakeup(WakeMode::Asymmetric(&ModelBarrier));
}

/// A "barrier" that orders nothing: the waiter's half of the handshake is missing.
struct NoBarrier;

impl HeavyBarrier for NoBarrier {
    fn heavy_barrier(&self) {}
}

/// The store-buffering argument of `WakeMode`'s docs, checked: with a barrier on the
/// producer's side only, loom finds the interleaving in which the producer sees no waiter and
/// the consumer sees no item, and reports the consumer blocked forever.
#[test]
#[should_panic(expected = "deadlock")]
fn lost_wakeup_without_the_waiters_barrier() {
    async_wakeup(WakeMode::Asymmetric(&NoBarrier));
}

#[test]
fn no_lost_wakeup_edge() {
    async_wakeup(WakeMode::Edge);
}

#[test]
fn no_lost_wakeup_batch() {
    model(|| {
        let (mut tx, mut rx) = leaked::<u8, 2>(WakeMode::Level).split();
        let producer = thread::spawn(move || {
            assert_eq!(tx.push_slice(&[1, 2]), 2);
        });
        let len = loom::future::block_on(rx.readable());
        assert!(len >= 1);
        let mut buffer = [0; 2];
        let mut count = rx.pop_slice(&mut buffer);
        producer.join().unwrap();
        count += rx.pop_slice(&mut buffer[count..]);
        assert_eq!(&buffer[..count], &[1, 2]);
    });
}

/// Counts pends in a loom atomic.
struct CountPends(AtomicUsize);

impl Pend for CountPends {
    fn pend(&'static self) {
        self.0
            .store(self.0.load(Ordering::Relaxed) + 1, Ordering::Release);
    }
}

/// The producer's plan byte holds the pend hook's bit and the parked flag together: with a
/// hook, a push takes the notification path on every push, and must still wake a parked
/// consumer and pend exactly once.
fn wakeup_with_pend(mode: WakeMode) {
    model(move || {
        let pends: &'static CountPends = Box::leak(Box::new(CountPends(AtomicUsize::new(0))));
        let queue: &'static mut Queue<u8, 2> =
            Box::leak(Box::new(Queue::new().with_wake_mode(mode).with_pend(pends)));
        let (mut tx, mut rx) = queue.split();
        let producer = thread::spawn(move || {
            tx.try_push(7).unwrap();
        });
        assert_eq!(loom::future::block_on(rx.pop()), 7);
        producer.join().unwrap();
        assert_eq!(pends.0.load(Ordering::Acquire), 1);
    });
}

#[test]
fn no_lost_wakeup_single_core_with_pend() {
    wakeup_with_pend(WakeMode::SingleCore);
}

#[test]
fn no_lost_wakeup_level_with_pend() {
    wakeup_with_pend(WakeMode::Level);
}

/// Two sleeps in a row: the producer's wake-up lowers the parked flag with a store that must
/// keep the mode's fixed bits of the plan (the fence of `Level`), so the second sleep is
/// handshaken like the first.
fn two_wakeups(mode: WakeMode) {
    model(move || {
        let (mut tx, mut rx) = leaked::<u8, 2>(mode).split();
        let producer = thread::spawn(move || {
            tx.try_push(1).unwrap();
            tx.try_push(2).unwrap();
        });
        assert_eq!(loom::future::block_on(rx.pop()), 1);
        assert_eq!(loom::future::block_on(rx.pop()), 2);
        producer.join().unwrap();
    });
}

#[test]
fn no_lost_wakeup_level_twice() {
    two_wakeups(WakeMode::Level);
}

#[test]
fn no_lost_wakeup_single_core_twice() {
    two_wakeups(WakeMode::SingleCore);
}

#[test]
fn edge_pend_is_not_lost_when_the_bottom_half_drains_to_empty() {
    // The bottom half drains until `try_pop` reports empty, concurrently with a push. Whatever
    // the interleaving, an item left behind must have come with a pend (the producer saw the
    // empty -> non-empty edge), or the bottom half would never run for it.
    model(|| {
        let pends: &'static CountPends = Box::leak(Box::new(CountPends(AtomicUsize::new(0))));
        let queue: &'static mut Queue<u8, 2> = Box::leak(Box::new(
            Queue::new().with_wake_mode(WakeMode::Edge).with_pend(pends),
        ));
        let queue: &'static Queue<u8, 2> = queue;
        let (mut tx, mut rx) = queue.split_static().unwrap();
        tx.try_push(1).unwrap(); // already queued when the bottom half starts
        let pends_before = pends.0.load(Ordering::Acquire);
        let producer = thread::spawn(move || {
            tx.try_push(2).unwrap();
        });
        while rx.try_pop().is_ok() {}
        producer.join().unwrap();
        let pended = pends.0.load(Ordering::Acquire) > pends_before;
        assert!(rx.is_empty() || pended, "item stranded without a pend");
    });
}

#[test]
fn chunk_iterator_and_commit_free_slots_the_producer_reuses() {
    // The consumer frees slots one at a time (the chunk iterator, even when leaked) or as a
    // range after dropping the items in place (`commit` of owned items), while the producer
    // fills the freed slots again through `fill_from_iter`. `String` items make a double drop
    // or a read of an overwritten slot visible, and the slot tracker reports any race.
    model(|| {
        let (mut tx, mut rx) = leaked::<String, 2>(WakeMode::Off).split();
        let producer = thread::spawn(move || {
            let mut words = ["a", "b", "c"].into_iter().map(String::from).peekable();
            while words.peek().is_some() {
                if tx.write_chunk_uninit(2).fill_from_iter(&mut words) == 0 {
                    thread::yield_now();
                }
            }
        });
        let mut received = Vec::new();
        while received.len() < 3 {
            if received.len() % 2 == 0 {
                let mut iter = rx.read_chunk(2).into_iter();
                match iter.next() {
                    Some(word) => received.push(word),
                    None => thread::yield_now(),
                }
                // Items left in the chunk stay queued, whether or not the iterator is dropped.
                std::mem::forget(iter);
            } else {
                let chunk = rx.read_chunk(1);
                if chunk.is_empty() {
                    drop(chunk);
                    thread::yield_now();
                    continue;
                }
                received.push(chunk.as_slices().0[0].clone());
                chunk.commit_all(); // drops the item in place, then frees the slot
            }
        }
        producer.join().unwrap();
        assert_eq!(received, ["a", "b", "c"]);
        assert!(rx.try_pop().is_err());
    });
}
