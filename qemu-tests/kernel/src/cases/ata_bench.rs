//! `ata_bench`: sequential reads and writes timed with the TSC, in every way irqkit-ata moves
//! data: PIO one word per `in`/`out`, PIO with string I/O, DMA polled, DMA by interrupt
//! (back-to-back blocking calls, with 128 KiB and with 1 MiB commands), and DMA through the
//! request queue serviced from the IRQ 14 bottom half. The host turns the lines into a table (`irqkit_qemu_tests::bench_ata`).
//!
//! Arguments: `mib=N` (DMA modes, default 64), `pio_mib=N` (PIO modes, default 8: they are
//! slow, and cycles per sector compare across sizes) and `reps=N` (default 3: every pass runs
//! N times, the modes taking turns). Lines: `bench tsc_hz=N reps=N`, then per repetition, mode
//! and operation `bench mode=NAME op=read|write rep=R bytes=N cycles=N`.

use irqkit_ata::{Drive, Op, Request};

use crate::ata_disk::{self, Disk};
use crate::cases::ata_async::{self, DiskQueue, DEPTH, QUEUE};
use crate::cases::ata_io::Mode;
use crate::{boot_info, deferred, pattern, println, timer, tsc};
use irqkit_hal::critical_section;

/// The seed of the host's benchmark image.
const IMAGE_SEED: u32 = 71;
/// The seed of what the write passes write.
const WRITE_SEED: u32 = 72;
/// Bytes per blocking call (the driver splits it into 128 KiB DMA commands, or into READ
/// MULTIPLE commands for PIO).
const CALL_BYTES: usize = 1 << 20;
/// Bytes per queued request: one 256-sector DMA command, as the blocking DMA calls issue.
const REQUEST_BYTES: usize = 128 << 10;
/// How long the queue may take for one pass, in ticks (ms).
const QUEUE_DEADLINE_TICKS: u64 = 120_000;

fn argument(name: &str, default: usize) -> usize {
    boot_info::kernel_argument(name).map_or(default, |value| {
        value
            .parse()
            .unwrap_or_else(|_| panic!("{name}={value:?} is not a number"))
    })
}

fn report(mode: &str, op: &str, rep: usize, bytes: usize, cycles: u64) {
    println!("bench mode={mode} op={op} rep={rep} bytes={bytes} cycles={cycles}");
}

/// One blocking pass over `bytes` from LBA 0 in calls of [`CALL_BYTES`].
fn blocking_pass(disk: &mut Disk, mode: Mode, write: bool, bytes: usize, buf: &mut [u8]) -> u64 {
    let start = tsc::now();
    for offset in (0..bytes).step_by(CALL_BYTES) {
        let lba = (offset / 512) as u64;
        let result = if write {
            mode.write(disk, lba, buf)
        } else {
            mode.read(disk, lba, buf)
        };
        result.unwrap_or_else(|error| panic!("{} at {lba}: {error}", mode.name()));
    }
    tsc::now() - start
}

/// One queued pass over `bytes` from LBA 0: [`DEPTH`] requests of [`REQUEST_BYTES`] in
/// flight, each completion's buffer resubmitted for the next piece.
fn queue_pass(op: Op, bytes: usize, bufs: &mut [Option<&'static mut [u8]>; DEPTH]) -> u64 {
    let requests = bytes / REQUEST_BYTES;
    let mut next = 0;
    let mut completed = 0;
    let start = tsc::now();
    for slot in bufs.iter_mut() {
        if next < requests {
            let buf = slot.take().expect("a free buffer");
            ata_async::submit(request(op, next, buf));
            next += 1;
        }
    }
    let deadline = timer::ticks() + QUEUE_DEADLINE_TICKS;
    deferred::run_until(|| {
        while let Some(done) = ata_async::with_queue(DiskQueue::pop) {
            if let Err(error) = done.result {
                panic!("queued {op:?} {}: {error}", done.user_data);
            }
            completed += 1;
            let buf = done.buf.expect("the buffer back");
            if next < requests {
                ata_async::submit(request(op, next, buf));
                next += 1;
            } else if let Some(slot) = bufs.iter_mut().find(|slot| slot.is_none()) {
                *slot = Some(buf);
            }
        }
        completed == requests || timer::ticks() > deadline
    });
    let cycles = tsc::now() - start;
    assert_eq!(completed, requests, "queue pass timed out");
    cycles
}

/// The name of DMA by interrupt with [`CALL_BYTES`] per command instead of 128 KiB.
const LARGE_COMMANDS: &str = "dma_irq_1m";

/// Runs `pass` with DMA commands of [`CALL_BYTES`] (2048 sectors, LBA48), then restores the
/// channel's command size.
fn large_commands(disk: &mut Disk, pass: impl FnOnce(&mut Disk) -> u64) -> u64 {
    let before = disk.options().max_dma_sectors;
    disk.options_mut().max_dma_sectors = (CALL_BYTES / 512) as u32;
    let cycles = pass(disk);
    disk.options_mut().max_dma_sectors = before;
    cycles
}

fn request(op: Op, index: usize, buf: &'static mut [u8]) -> Request {
    Request {
        op,
        drive: Drive::Master,
        lba: (index * REQUEST_BYTES / 512) as u64,
        buf: Some(buf),
        user_data: index as u64,
    }
}

/// `ata_bench`.
pub fn ata_bench() {
    pattern::self_check();
    let dma_bytes = argument("mib", 64) << 20;
    let pio_bytes = argument("pio_mib", 8) << 20;
    let reps = argument("reps", 3).max(1);
    let (disk, setup) = ata_disk::open(true);
    let capacity = disk.drive(Drive::Master).map_or(0, |d| d.sectors()) * 512;
    assert!(
        capacity >= dma_bytes.max(pio_bytes) as u64,
        "the disk holds {capacity} bytes"
    );
    println!("bench tsc_hz={} reps={reps}", tsc::hz());
    let (call_buf, rest) = setup.data.split_at_mut(CALL_BYTES);
    let modes = [
        (Mode::PioWord, pio_bytes),
        (Mode::PioString, pio_bytes),
        (Mode::DmaPolled, dma_bytes),
        (Mode::DmaIrq, dma_bytes),
    ];
    // The queue owns the channel; the blocking passes borrow it back while the queue is
    // idle and out of the static (so its bottom half finds nothing to do). The queue's
    // buffers are the 128 KiB pieces after the blocking calls' buffer.
    let mut queue = Some(DiskQueue::new(disk));
    let mut bufs: [Option<&'static mut [u8]>; DEPTH] = [const { None }; DEPTH];
    for (slot, buf) in bufs.iter_mut().zip(rest.chunks_mut(REQUEST_BYTES)) {
        *slot = Some(buf);
    }
    ata_disk::on_completion(ata_async::schedule_service);

    // Repetitions run every mode in turn, so a burst of host load hits all of them.
    for rep in 0..reps {
        let mut owned = queue.take().expect("the queue is back");
        let disk = owned.channel().expect("the queue is idle");
        for (mode, bytes) in modes {
            call_buf.fill(0xEE);
            let cycles = blocking_pass(disk, mode, false, bytes, call_buf);
            if rep == 0 {
                // Before any write: the host's pattern, at the last piece read.
                let last_lba = ((bytes - CALL_BYTES) / 512) as u64;
                assert_eq!(
                    pattern::mismatch(IMAGE_SEED, last_lba, call_buf),
                    None,
                    "{}",
                    mode.name()
                );
            }
            report(mode.name(), "read", rep, bytes, cycles);
        }
        let cycles = large_commands(disk, |disk| {
            blocking_pass(disk, Mode::DmaIrq, false, dma_bytes, call_buf)
        });
        report(LARGE_COMMANDS, "read", rep, dma_bytes, cycles);
        // Every write pass writes the same 128 KiB block, repeated, over the same range (the
        // host checks the image afterwards).
        for block in call_buf.chunks_mut(REQUEST_BYTES) {
            pattern::fill(WRITE_SEED, 0, block);
        }
        for (mode, bytes) in modes {
            let cycles = blocking_pass(disk, mode, true, bytes, call_buf);
            report(mode.name(), "write", rep, bytes, cycles);
        }
        let cycles = large_commands(disk, |disk| {
            blocking_pass(disk, Mode::DmaIrq, true, dma_bytes, call_buf)
        });
        report(LARGE_COMMANDS, "write", rep, dma_bytes, cycles);

        critical_section::with(|cs| QUEUE.borrow(cs).replace(Some(owned)));
        for buf in bufs.iter_mut().flatten() {
            buf.fill(0xEE);
        }
        let cycles = queue_pass(Op::Read, dma_bytes, &mut bufs);
        for buf in bufs.iter().flatten() {
            assert_eq!(pattern::mismatch(WRITE_SEED, 0, buf), None, "queued read");
        }
        report("dma_queue", "read", rep, dma_bytes, cycles);
        let cycles = queue_pass(Op::Write, dma_bytes, &mut bufs);
        report("dma_queue", "write", rep, dma_bytes, cycles);
        queue = critical_section::with(|cs| QUEUE.borrow(cs).take());
    }
    ata_disk::on_completion(|| {});
}
