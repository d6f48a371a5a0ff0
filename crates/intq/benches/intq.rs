//! irqkit-intq against heapless 0.9 spsc, rtrb 0.4 and crossbeam's `ArrayQueue` (MPMC, for
//! reference), side by side in one run:
//!
//! - `latency/*`: one push + one pop on one thread (the cost an interrupt handler and its
//!   consumer pay on one core);
//! - `throughput_u8/*`, `throughput_u64/*`: two threads, one item at a time;
//! - `batch_u8/*`: two threads, 256-item slices (queues with a slice API only).
//!
//! `cargo bench -p irqkit-intq --bench intq` (or `cargo xtask bench --criterion intq`). The
//! two-thread cases pin the producer to CPU 1 and the consumer to CPU 0, keep the queues on the
//! heap and each end in its own thread (the transfer `cargo xtask bench intq` repeats for its
//! medians). Full and empty queues are waited on with the same spin-then-yield back-off for
//! every queue, so that an oversubscribed machine does not turn the benchmark into a
//! scheduler test.

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use irqkit_intq::WakeMode;

mod ends;
use ends::{
    pin_to, threads_heapless, threads_intq, threads_rtrb, transfer, Backoff, Item, Rx, Tx, CAPACITY,
};

#[cfg(target_os = "linux")]
#[path = "../tests/membarrier/mod.rs"]
mod membarrier;

const BATCH_CAPACITY: usize = 4096;
const BATCH: usize = 256;
/// Items moved per criterion iteration in the two-thread benchmarks.
const ITEMS_PER_ITER: u64 = 100_000;
const BATCH_ITEMS_PER_ITER: u64 = 1_000_000;

/// Either end of a crossbeam `ArrayQueue`.
struct Crossbeam<'q, T>(&'q crossbeam_queue::ArrayQueue<T>);

impl<T: Send> Tx<T> for Crossbeam<'_, T> {
    #[inline]
    fn push(&mut self, value: T) -> bool {
        self.0.push(value).is_ok()
    }
}

impl<T: Send> Rx<T> for Crossbeam<'_, T> {
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
}

fn latency(c: &mut Criterion) {
    let mut group = c.benchmark_group("latency");
    group.throughput(Throughput::Elements(1));

    // Inlined into every case's loop alike, as in the instruction-count binary: left to
    // itself the compiler inlined some queues' push + pop and called others' out of line, so
    // the cases differed by a call. Returns the item, not the `Option`: `black_box` of an
    // `Option<u64>` is two 8-byte stores read back as one 16-byte load, a store-forwarding
    // stall that cost every case about 4 ns and hid the queues' own differences.
    #[inline(always)]
    fn push_pop(tx: &mut impl Tx<u64>, rx: &mut impl Rx<u64>) -> u64 {
        let pushed = tx.push(black_box(42));
        debug_assert!(pushed);
        rx.pop().unwrap_or(u64::MAX)
    }

    group.bench_function("intq_level", |b| {
        let mut queue: irqkit_intq::Queue<u64, CAPACITY> = irqkit_intq::Queue::new();
        let (mut tx, mut rx) = queue.split();
        b.iter(|| black_box(push_pop(&mut tx, &mut rx)));
    });
    group.bench_function("intq_single_core", |b| {
        let mut queue: irqkit_intq::Queue<u64, CAPACITY> =
            irqkit_intq::Queue::new().with_wake_mode(WakeMode::SingleCore);
        let (mut tx, mut rx) = queue.split();
        b.iter(|| black_box(push_pop(&mut tx, &mut rx)));
    });
    #[cfg(target_os = "linux")]
    group.bench_function("intq_asymmetric", |b| {
        membarrier::Membarrier::register();
        let mut queue: irqkit_intq::Queue<u64, CAPACITY> =
            irqkit_intq::Queue::new().with_wake_mode(WakeMode::Asymmetric(&membarrier::MEMBARRIER));
        let (mut tx, mut rx) = queue.split();
        b.iter(|| black_box(push_pop(&mut tx, &mut rx)));
    });
    group.bench_function("intq_off", |b| {
        let mut queue: irqkit_intq::Queue<u64, CAPACITY> =
            irqkit_intq::Queue::new().with_wake_mode(WakeMode::Off);
        let (mut tx, mut rx) = queue.split();
        b.iter(|| black_box(push_pop(&mut tx, &mut rx)));
    });
    group.bench_function("heapless", |b| {
        let mut queue: heapless::spsc::Queue<u64, CAPACITY> = heapless::spsc::Queue::new();
        let (mut tx, mut rx) = queue.split();
        b.iter(|| black_box(push_pop(&mut tx, &mut rx)));
    });
    group.bench_function("rtrb", |b| {
        let (mut tx, mut rx) = rtrb::RingBuffer::new(CAPACITY);
        b.iter(|| black_box(push_pop(&mut tx, &mut rx)));
    });
    group.bench_function("crossbeam_array_queue", |b| {
        let queue = crossbeam_queue::ArrayQueue::new(CAPACITY);
        let (mut tx, mut rx) = (Crossbeam(&queue), Crossbeam(&queue));
        b.iter(|| black_box(push_pop(&mut tx, &mut rx)));
    });
    group.finish();
}

fn throughput<T: Item>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(ITEMS_PER_ITER));
    // Each iteration is long and may be disturbed by the scheduler: flat sampling, and read the
    // median (criterion's estimates.json) rather than the mean.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);

    let items = |iters: u64| iters * ITEMS_PER_ITER;
    group.bench_function("intq_level", |b| {
        b.iter_custom(|iters| threads_intq::<T, 0>(WakeMode::Level, items(iters)));
    });
    group.bench_function("intq_off", |b| {
        b.iter_custom(|iters| threads_intq::<T, 0>(WakeMode::Off, items(iters)));
    });
    group.bench_function("heapless", |b| {
        b.iter_custom(|iters| threads_heapless::<T, 0>(items(iters)));
    });
    group.bench_function("rtrb", |b| {
        b.iter_custom(|iters| threads_rtrb::<T, 0>(items(iters)));
    });
    group.bench_function("crossbeam_array_queue", |b| {
        b.iter_custom(|iters| {
            let queue = Box::new(crossbeam_queue::ArrayQueue::<T>::new(CAPACITY));
            transfer::<T, 0>(Crossbeam(&queue), Crossbeam(&queue), items(iters))
        });
    });
    group.finish();
}

fn throughput_u8(c: &mut Criterion) {
    throughput::<u8>(c, "throughput_u8");
}

fn throughput_u64(c: &mut Criterion) {
    throughput::<u64>(c, "throughput_u64");
}

/// Moves `items` bytes in `BATCH`-sized slices from a producer thread to this thread.
fn transfer_batches(
    mut push: impl FnMut(&[u8]) -> usize + Send,
    mut pop: impl FnMut(&mut [u8]) -> usize,
    items: u64,
) -> Duration {
    let start = Instant::now();
    thread::scope(|s| {
        s.spawn(move || {
            pin_to(1);
            let mut batch = [0u8; BATCH];
            let mut backoff = Backoff(0);
            let mut sent = 0u64;
            while sent < items {
                let len = ((items - sent) as usize).min(BATCH);
                for (i, byte) in batch[..len].iter_mut().enumerate() {
                    *byte = (sent as usize + i) as u8;
                }
                let mut done = 0;
                while done < len {
                    match push(&batch[done..len]) {
                        0 => backoff.snooze(),
                        pushed => done += pushed,
                    }
                }
                sent += len as u64;
            }
        });
        pin_to(0);
        let mut buffer = [0u8; BATCH];
        let mut backoff = Backoff(0);
        let mut received = 0u64;
        let mut sum = 0u64;
        while received < items {
            match pop(&mut buffer) {
                0 => backoff.snooze(),
                count => {
                    sum = sum.wrapping_add(u64::from(buffer[count - 1]));
                    received += count as u64;
                }
            }
        }
        black_box(sum);
    });
    start.elapsed()
}

fn batch_u8(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch_u8");
    group.throughput(Throughput::Elements(BATCH_ITEMS_PER_ITER));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);

    for mode in [WakeMode::Level, WakeMode::Off] {
        let id = BenchmarkId::new("intq", format!("{mode:?}").to_lowercase());
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let mut queue: Box<irqkit_intq::Queue<u8, BATCH_CAPACITY>> =
                    Box::new(irqkit_intq::Queue::new().with_wake_mode(mode));
                let (mut tx, mut rx) = queue.split();
                transfer_batches(
                    move |items| tx.push_slice(items),
                    move |out| rx.pop_slice(out),
                    iters * BATCH_ITEMS_PER_ITER,
                )
            });
        });
    }
    group.bench_function("intq/chunk", |b| {
        b.iter_custom(|iters| {
            let mut queue: Box<irqkit_intq::Queue<u8, BATCH_CAPACITY>> =
                Box::new(irqkit_intq::Queue::new());
            let (mut tx, mut rx) = queue.split();
            transfer_batches(
                move |items| tx.write_chunk_uninit(items.len()).fill_from_slice(items),
                move |out| {
                    // Zero-copy read: consume in place (here: fold), then commit.
                    let chunk = rx.read_chunk(out.len());
                    let (first, second) = chunk.as_slices();
                    let count = first.len() + second.len();
                    if count > 0 {
                        out[count - 1] = *second.last().or(first.last()).unwrap_or(&0);
                    }
                    chunk.commit_all();
                    count
                },
                iters * BATCH_ITEMS_PER_ITER,
            )
        });
    });
    group.bench_function("rtrb", |b| {
        b.iter_custom(|iters| {
            let (mut tx, mut rx) = rtrb::RingBuffer::new(BATCH_CAPACITY);
            transfer_batches(
                move |items| tx.push_partial_slice(items).0.len(),
                move |out| rx.pop_partial_slice(out).0.len(),
                iters * BATCH_ITEMS_PER_ITER,
            )
        });
    });
    group.finish();
}

/// One thread pushes a 256-byte slice and pops it again: the per-item cost of the batch path
/// without any cross-core traffic (what an interrupt handler and its bottom half pay on one core).
fn batch_u8_one_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("batch_u8_one_thread");
    group.throughput(Throughput::Elements(BATCH as u64));
    let input = [0x5au8; BATCH];

    group.bench_function("intq", |b| {
        let mut queue: irqkit_intq::Queue<u8, BATCH_CAPACITY> = irqkit_intq::Queue::new();
        let (mut tx, mut rx) = queue.split();
        let mut out = [0u8; BATCH];
        b.iter(|| {
            let pushed = tx.push_slice(black_box(&input));
            let popped = rx.pop_slice(&mut out);
            black_box((pushed, popped, &out));
        });
    });
    group.bench_function("rtrb", |b| {
        let (mut tx, mut rx) = rtrb::RingBuffer::<u8>::new(BATCH_CAPACITY);
        let mut out = [0u8; BATCH];
        b.iter(|| {
            let pushed = tx.push_partial_slice(black_box(&input)).0.len();
            let popped = rx.pop_partial_slice(&mut out).0.len();
            black_box((pushed, popped, &out));
        });
    });
    group.bench_function("heapless_loop", |b| {
        let mut queue: heapless::spsc::Queue<u8, BATCH_CAPACITY> = heapless::spsc::Queue::new();
        let (mut tx, mut rx) = queue.split();
        let mut out = [0u8; BATCH];
        b.iter(|| {
            for &byte in black_box(&input) {
                let _ = tx.enqueue(byte);
            }
            for slot in out.iter_mut() {
                *slot = rx.dequeue().unwrap_or(0);
            }
            black_box(&out);
        });
    });
    group.finish();
}

criterion_group!(
    benches,
    latency,
    throughput_u8,
    throughput_u64,
    batch_u8,
    batch_u8_one_thread
);
criterion_main!(benches);
