//! Two-thread stress tests with sequence-numbered items: nothing lost, nothing duplicated, order
//! kept, overruns counted exactly.
//!
//! The full 10^7 items run in release builds (`cargo test -p irqkit-intq --release --test
//! stress`, a few seconds); debug builds move 10^5 so plain `cargo test` stays quick, and Miri
//! moves 10^3.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use irqkit_intq::{Queue, WakeMode};

const ITEMS: u64 = if cfg!(miri) {
    1_000
} else if cfg!(debug_assertions) {
    100_000
} else {
    10_000_000
};

/// Waits a little after a full / empty result. Spins first, then yields: the two threads may
/// share one core with other processes, and a spinning thread would then hold the core that the
/// other side needs to make progress.
struct Backoff(u32);

impl Backoff {
    fn new() -> Self {
        Self(0)
    }

    fn snooze(&mut self) {
        self.0 += 1;
        if self.0 < 64 {
            std::hint::spin_loop();
        } else {
            self.0 = 0;
            thread::yield_now();
        }
    }
}

#[test]
fn single_items_arrive_once_and_in_order() {
    let mut queue: Queue<u64, 256> = Queue::new();
    let (mut tx, mut rx) = queue.split();
    thread::scope(|s| {
        s.spawn(move || {
            let mut backoff = Backoff::new();
            for seq in 0..ITEMS {
                let mut item = seq;
                while let Err(full) = tx.try_push(item) {
                    item = full.into_inner();
                    backoff.snooze();
                }
            }
        });
        let mut expected = 0;
        let mut backoff = Backoff::new();
        while expected < ITEMS {
            match rx.try_pop() {
                Ok(seq) => {
                    assert_eq!(seq, expected, "lost, duplicated or reordered item");
                    expected += 1;
                }
                Err(_) => backoff.snooze(),
            }
        }
        assert!(rx.try_pop().is_err(), "an item beyond the last one arrived");
    });
}

#[test]
fn batches_arrive_once_and_in_order_across_wrap_around() {
    // An odd capacity, so that batches wrap at every possible offset.
    let mut queue: Queue<u64, 61> = Queue::new();
    let (mut tx, mut rx) = queue.split();
    thread::scope(|s| {
        s.spawn(move || {
            let mut next = 0;
            let mut batch = [0u64; 17];
            while next < ITEMS {
                let len = ((ITEMS - next) as usize).min(batch.len());
                for (i, slot) in batch[..len].iter_mut().enumerate() {
                    *slot = next + i as u64;
                }
                let mut sent = 0;
                let mut backoff = Backoff::new();
                while sent < len {
                    match tx.push_slice(&batch[sent..len]) {
                        0 => backoff.snooze(),
                        pushed => sent += pushed,
                    }
                }
                next += len as u64;
            }
        });
        let mut expected = 0;
        let mut buffer = [0u64; 23];
        let mut backoff = Backoff::new();
        while expected < ITEMS {
            let count = if expected % 2 == 0 {
                rx.pop_slice(&mut buffer)
            } else {
                // Alternate with the zero-copy path.
                let chunk = rx.read_chunk(buffer.len());
                let (first, second) = chunk.as_slices();
                buffer[..first.len()].copy_from_slice(first);
                buffer[first.len()..first.len() + second.len()].copy_from_slice(second);
                let count = chunk.len();
                chunk.commit_all();
                count
            };
            if count == 0 {
                backoff.snooze();
            }
            for &seq in &buffer[..count] {
                assert_eq!(seq, expected, "lost, duplicated or reordered item");
                expected += 1;
            }
        }
    });
}

#[test]
fn throttled_consumer_sees_exact_overrun_count() {
    let items = ITEMS / 10;
    let mut queue: Queue<u64, 64> = Queue::new().with_wake_mode(WakeMode::Off);
    let done = AtomicBool::new(false);
    let (mut tx, mut rx) = queue.split();
    let (received, overruns) = thread::scope(|s| {
        let done = &done;
        s.spawn(move || {
            for seq in 0..items {
                let _ = tx.push_or_count(seq); // the interrupt handler never waits
            }
            done.store(true, Ordering::Release);
        });
        let mut received = 0u64;
        let mut last: Option<u64> = None;
        let mut backoff = Backoff::new();
        loop {
            // Read `done` before popping: once it is seen, everything pushed is visible.
            let finished = done.load(Ordering::Acquire);
            match rx.try_pop() {
                Ok(seq) => {
                    if let Some(last) = last {
                        assert!(
                            seq > last,
                            "duplicated or reordered item: {seq} after {last}"
                        );
                    }
                    last = Some(seq);
                    received += 1;
                    // Throttle: the consumer is slower than the producer.
                    for _ in 0..50 {
                        std::hint::spin_loop();
                    }
                }
                Err(_) if finished => break,
                Err(_) => backoff.snooze(),
            }
        }
        (received, rx.take_overruns() as u64)
    });
    assert!(overruns > 0, "the throttled consumer never fell behind");
    assert_eq!(received + overruns, items, "overrun count is not exact");
}
