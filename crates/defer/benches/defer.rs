//! Side-by-side costs of deferred work, in one run:
//!
//! * `schedule_run`: schedule one bottom half and run it: irqkit-defer `Work` vs a plain
//!   `heapless::spsc::Queue` of function pointers (no coalescing, no priorities);
//! * `wake_poll`: wake one async task and poll it: irqkit-defer `TaskSlot` (through `Runner::run`
//!   and the lean `Runner::run_items`) vs embassy-executor's raw executor (`TaskStorage` +
//!   `Executor::poll`, with a no-op `__pender`);
//! * `empty_run`: one call with nothing queued.
//!
//! `cargo bench -p irqkit-defer --bench defer`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use heapless::spsc::Queue;
use irqkit_defer::Budget;

mod fixture;
use fixture::*;

fn schedule_run(c: &mut Criterion) {
    let mut group = c.benchmark_group("schedule_run");
    group.bench_function("irqkit_defer_work", |b| {
        let mut runner = EXEC.claim().unwrap();
        b.iter(|| {
            black_box(BH.schedule());
            black_box(runner.run(Budget::items(1)).unwrap());
        })
    });
    group.bench_function("irqkit_defer_work_claim_per_run", |b| {
        b.iter(|| {
            black_box(BH.schedule());
            black_box(EXEC.run(Budget::items(1)).unwrap());
        })
    });
    let mut queue: Queue<fn(), 16> = Queue::new();
    group.bench_function("heapless_spsc_fn_queue", |b| {
        b.iter(|| {
            queue.enqueue(black_box(bottom_half as fn())).unwrap();
            while let Some(handler) = queue.dequeue() {
                handler();
            }
        })
    });
    group.finish();
}

fn wake_poll(c: &mut Criterion) {
    let mut group = c.benchmark_group("wake_poll");

    let defer_waker = spawn_defer_task();
    group.bench_function("irqkit_defer_task", |b| {
        let mut runner = EXEC.claim().unwrap();
        b.iter(|| {
            defer_waker.wake_by_ref();
            black_box(runner.run(Budget::items(1)).unwrap());
        })
    });
    group.bench_function("irqkit_defer_task_run_items", |b| {
        let mut runner = EXEC.claim().unwrap();
        b.iter(|| {
            defer_waker.wake_by_ref();
            black_box(runner.run_items(u32::MAX));
        })
    });

    let (embassy, embassy_waker) = spawn_embassy_task();
    group.bench_function("embassy_raw_executor", |b| {
        b.iter(|| {
            embassy_waker.wake_by_ref();
            // SAFETY: polled from this thread only, the one that spawned the task on it, and
            // never re-entrantly (the pender does nothing).
            unsafe { embassy.poll() };
        })
    });
    group.finish();

    // Nothing queued: the fixed cost of one call.
    let mut group = c.benchmark_group("empty_run");
    group.bench_function("irqkit_defer_run", |b| {
        let mut runner = EXEC.claim().unwrap();
        b.iter(|| black_box(runner.run(Budget::items(u32::MAX)).unwrap()))
    });
    group.bench_function("irqkit_defer_run_items", |b| {
        let mut runner = EXEC.claim().unwrap();
        b.iter(|| black_box(runner.run_items(u32::MAX)))
    });
    group.bench_function("embassy_raw_executor", |b| {
        // SAFETY: as above.
        b.iter(|| unsafe { embassy.poll() })
    });
    group.finish();
}

criterion_group!(benches, schedule_run, wake_poll);
criterion_main!(benches);
