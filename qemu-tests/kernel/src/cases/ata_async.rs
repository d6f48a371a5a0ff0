//! irqkit-ata's non-blocking side on QEMU: the request queue serviced by a bottom half that
//! IRQ 14 schedules, FLUSH CACHE ordered after the writes (the host reads QEMU's
//! `ide_exec_cmd` trace), and an async read woken by IRQ 14 through irqkit-defer.

use core::cell::RefCell;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use core::task::{Context, Waker};

use irqkit_ata::{Completion, Drive, Op, Queue, Request};
use irqkit_defer::{TaskSlot, Work};
use irqkit_hal::critical_section::{self, Mutex};
use irqkit_hal::dma::IdentityMap;
use irqkit_hal::x86::interrupts;

use crate::ata_disk::{self, Disk, Halt};
use crate::deferred::{self, EXECUTOR};
use crate::delay::PitDelay;
use crate::port::Ports;
use crate::{pattern, println, timer};

/// The seed of the host's image for the queue and async reads.
const IMAGE_SEED: u32 = 41;
/// The seed the queue and flush cases write with.
const WRITE_SEED: u32 = 42;
/// What a buffer holds before a read.
const POISON: u8 = 0xEE;
/// How long a case waits for its completions, in ticks (ms).
const DEADLINE_TICKS: u64 = 10_000;

/// Requests the queue holds at most.
pub(crate) const DEPTH: usize = 8;
/// Sectors per queued read (one 128 KiB DMA command).
const READ_SECTORS: usize = 256;

pub(crate) type DiskQueue = Queue<Ports, PitDelay, IdentityMap, Halt, DEPTH>;

pub(crate) static QUEUE: Mutex<RefCell<Option<DiskQueue>>> = Mutex::new(RefCell::new(None));
/// The bottom half IRQ 14 schedules: collects the completion, issues the next request.
static SERVICE: Work = Work::new(&EXECUTOR, service);
static SERVICE_RUNS: AtomicU32 = AtomicU32::new(0);

pub(crate) fn schedule_service() {
    SERVICE.schedule();
}

fn service() {
    SERVICE_RUNS.fetch_add(1, Ordering::Relaxed);
    critical_section::with(|cs| {
        if let Some(queue) = QUEUE.borrow_ref_mut(cs).as_mut() {
            queue.service();
        }
    });
}

pub(crate) fn with_queue<R>(f: impl FnOnce(&mut DiskQueue) -> R) -> R {
    critical_section::with(|cs| {
        let mut queue = QUEUE.borrow_ref_mut(cs);
        f(queue.as_mut().expect("the queue is set up"))
    })
}

pub(crate) fn submit(request: Request) {
    with_queue(|queue| queue.submit(request)).unwrap_or_else(|full| panic!("{full}"));
}

/// Runs bottom halves until `count` completions are popped; returns them in order.
fn collect(count: usize) -> [Option<Completion>; DEPTH] {
    let mut done = [const { None }; DEPTH];
    let mut popped = 0;
    let started = timer::ticks();
    deferred::run_until(|| {
        while let Some(completion) = with_queue(DiskQueue::pop) {
            assert!(popped < count, "more completions than requests");
            done[popped] = Some(completion);
            popped += 1;
        }
        popped >= count || timer::ticks() > started + DEADLINE_TICKS
    });
    assert_eq!(popped, count, "completions within {DEADLINE_TICKS} ms");
    done
}

/// `ata_queue`: 8 reads queued at once, serviced from the IRQ 14 bottom half, completions
/// in order with the host's pattern; then two writes and a flush through the queue.
pub fn ata_queue() {
    pattern::self_check();
    let (disk, memory) = ata_disk::open(true);
    critical_section::with(|cs| QUEUE.borrow(cs).replace(Some(Queue::new(disk))));
    ata_disk::on_completion(schedule_service);

    let (completed_before, _) = ata_disk::irq14_counts();
    for (index, buf) in memory
        .data
        .chunks_mut(512 * READ_SECTORS)
        .take(DEPTH)
        .enumerate()
    {
        buf.fill(POISON);
        submit(Request {
            op: Op::Read,
            drive: Drive::Master,
            lba: (index * READ_SECTORS) as u64,
            buf: Some(buf),
            user_data: index as u64,
        });
    }
    let outstanding = with_queue(|queue| queue.outstanding());
    println!("queue submitted={DEPTH} outstanding={outstanding}");
    let done = collect(DEPTH);
    let mut in_order = true;
    let mut bufs: [Option<&'static mut [u8]>; DEPTH] = [const { None }; DEPTH];
    for (index, completion) in done.into_iter().flatten().enumerate() {
        in_order &= completion.user_data == index as u64;
        if let Err(error) = completion.result {
            panic!("queued read {}: {error}", completion.user_data);
        }
        let buf = completion.buf.expect("a read gives its buffer back");
        let lba = completion.user_data * READ_SECTORS as u64;
        assert_eq!(
            pattern::mismatch(IMAGE_SEED, lba, buf),
            None,
            "queued read {}",
            completion.user_data
        );
        bufs[index] = Some(buf);
    }
    let (completed_after, _) = ata_disk::irq14_counts();
    println!(
        "queue reads={DEPTH} in_order={in_order} irq_completions={} service_runs={}",
        completed_after - completed_before,
        SERVICE_RUNS.load(Ordering::Relaxed)
    );
    assert!(in_order);

    // Two writes, then a flush: the queue runs them in order, so the flush covers both.
    let mut lba = QUEUE_WRITE_LBA;
    for (index, buf) in bufs.into_iter().flatten().take(2).enumerate() {
        let buf = &mut buf[..512 * QUEUE_WRITE_SECTORS];
        pattern::fill(WRITE_SEED, lba, buf);
        submit(Request {
            op: Op::Write,
            drive: Drive::Master,
            lba,
            buf: Some(buf),
            user_data: 100 + index as u64,
        });
        lba += QUEUE_WRITE_SECTORS as u64;
    }
    submit(Request {
        op: Op::Flush,
        drive: Drive::Master,
        lba: 0,
        buf: None,
        user_data: 200,
    });
    for completion in collect(3).into_iter().flatten() {
        if let Err(error) = completion.result {
            panic!(
                "queued {:?} {}: {error}",
                completion.op, completion.user_data
            );
        }
        println!(
            "queue completed op={:?} user_data={}",
            completion.op, completion.user_data
        );
    }
    println!("queue flushed");
    ata_disk::on_completion(|| {});
}

/// Where `ata_queue` writes, and how much per request.
pub const QUEUE_WRITE_LBA: u64 = 5000;
/// Sectors per queued write.
pub const QUEUE_WRITE_SECTORS: usize = 64;
/// Where `ata_flush` writes (DMA, then PIO right after it).
pub const FLUSH_LBA: u64 = 64;

/// `ata_flush`: DMA and PIO writes, `writes done`, FLUSH CACHE, `flushed`. The host's trace
/// shows the flush command between the two lines and after every write command.
pub fn ata_flush() {
    pattern::self_check();
    let (mut disk, memory) = ata_disk::open(true);
    let data = memory.data;
    pattern::fill(WRITE_SEED, FLUSH_LBA, &mut data[..512 * 72]);
    disk.write_dma(Drive::Master, FLUSH_LBA, &data[..512 * 64])
        .unwrap_or_else(|error| panic!("write: {error}"));
    disk.write_pio(Drive::Master, FLUSH_LBA + 64, &data[512 * 64..512 * 72])
        .unwrap_or_else(|error| panic!("write: {error}"));
    println!("writes done");
    disk.flush(Drive::Master)
        .unwrap_or_else(|error| panic!("flush: {error}"));
    println!("flushed");
}

/// The async task's slot (the task owns the channel: its future holds it).
static TASK: TaskSlot<4096> = TaskSlot::new(&EXECUTOR);
static TASK_DONE: AtomicBool = AtomicBool::new(false);
/// Where the async read reads.
const ASYNC_LBA: u64 = 300;
const ASYNC_SECTORS: usize = 64;

/// Counts the polls of a future and remembers whether the first one returned `Pending`. The
/// first poll runs with interrupts masked: the disk's completion interrupt cannot be handled
/// inside it (on an idle host the DMA of a short read can finish within the poll), so the
/// second poll always comes from the wake-up of the IRQ 14 top half.
struct Counted<F> {
    inner: F,
    polls: u32,
    first_pending: bool,
}

impl<F: Future + Unpin> Future for Counted<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> core::task::Poll<F::Output> {
        let this = &mut *self;
        this.polls += 1;
        if this.polls == 1 {
            let poll = interrupts::without(|| Pin::new(&mut this.inner).poll(cx));
            this.first_pending = poll.is_pending();
            return poll;
        }
        Pin::new(&mut this.inner).poll(cx)
    }
}

async fn read_task(mut disk: Disk, buf: &'static mut [u8]) {
    let (completed_before, _) = ata_disk::irq14_counts();
    let mut read = Counted {
        inner: disk.read_async(Drive::Master, ASYNC_LBA, buf),
        polls: 0,
        first_pending: false,
    };
    let buf = (&mut read)
        .await
        .unwrap_or_else(|failed| panic!("async read: {failed}"));
    let (completed_after, _) = ata_disk::irq14_counts();
    assert_eq!(pattern::mismatch(IMAGE_SEED, ASYNC_LBA, buf), None);
    println!(
        "async read ok sectors={ASYNC_SECTORS} first_poll_pending={} polls={} irq_completions={}",
        read.first_pending,
        read.polls,
        completed_after - completed_before
    );
    TASK_DONE.store(true, Ordering::Relaxed);
}

/// `ata_async`: a transfer dropped mid-flight (the engine stopped, the channel reset, the
/// next read correct), then an async read in an irqkit-defer task, woken by IRQ 14.
pub fn ata_async() {
    pattern::self_check();
    let (mut disk, memory) = ata_disk::open(true);
    let (first, rest) = memory.data.split_at_mut(512 * 2048);
    let second = &mut rest[..512 * ASYNC_SECTORS];

    // Start a 1 MiB read by polling its future once, then drop it before it can finish.
    let resets_before = disk.stats().resets;
    {
        let mut transfer = disk.read_async(Drive::Master, 0, first);
        let mut cx = Context::from_waker(Waker::noop());
        let poll = Pin::new(&mut transfer).poll(&mut cx);
        assert!(poll.is_pending(), "a 1 MiB read finished within one poll");
    }
    let resets = disk.stats().resets - resets_before;
    let mut check = [POISON; 512 * 8];
    disk.read(Drive::Master, 8, &mut check)
        .unwrap_or_else(|error| panic!("read after the dropped transfer: {error}"));
    assert_eq!(pattern::mismatch(IMAGE_SEED, 8, &check), None);
    println!("dropped transfer resets={resets} next read ok");

    second.fill(POISON);
    if TASK.spawn(read_task(disk, second)).is_err() {
        panic!("the task slot is busy");
    }
    let started = timer::ticks();
    deferred::run_until(|| {
        TASK_DONE.load(Ordering::Relaxed) || timer::ticks() > started + DEADLINE_TICKS
    });
    assert!(
        TASK_DONE.load(Ordering::Relaxed),
        "the async read never finished"
    );
}
