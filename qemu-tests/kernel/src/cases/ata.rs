//! `defer_irq14`: an IRQ 14 top half schedules a bottom half that reads the answer of ATA
//! IDENTIFY DEVICE from the primary channel.
//!
//! Deliberately raw and tiny (a few port writes): it tests the interrupt and deferred-work
//! path on a second device, not an ATA driver. Serial lines the host checks:
//! `ata status=58 model="QEMU HARDDISK"` and `ata irqs=N` (at least 1).

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};

use irqkit_defer::Work;
use irqkit_hal::{poll_until, PortIo};

use crate::deferred::{self, EXECUTOR};
use crate::delay::PitDelay;
use crate::port::ports;
use crate::{irq, println, timer};

const DATA: u16 = 0x1F0;
const DRIVE_HEAD: u16 = 0x1F6;
/// Read: status (acknowledges INTRQ). Write: command.
const STATUS_COMMAND: u16 = 0x1F7;
/// Read: alternate status (does not acknowledge). Write: device control (bit 1 nIEN).
const CONTROL: u16 = 0x3F6;

const SELECT_MASTER: u8 = 0xA0;
const IDENTIFY_DEVICE: u8 = 0xEC;
const BUSY: u8 = 0x80;
const DATA_REQUEST: u8 = 0x08;
const ERROR: u8 = 0x01;
/// IDENTIFY words 27-46: the model number, two ASCII characters per word, first in the high
/// byte, padded with spaces.
const MODEL_FIRST_WORD: usize = 27;
const MODEL_WORDS: usize = 20;
/// How long the drive may stay busy before the command is sent, in microseconds.
const BUSY_TIMEOUT_US: u32 = 1_000_000;
/// How long the drive may take to answer IDENTIFY DEVICE, in ticks (2 s).
const ANSWER_TIMEOUT_TICKS: u64 = 2 * timer::TICK_HZ as u64;

/// The status the top half read (which acknowledged the drive's interrupt).
static STATUS_AT_IRQ: AtomicU8 = AtomicU8::new(0);
static IRQS: AtomicU32 = AtomicU32::new(0);
static IDENTIFY_BH: Work = Work::new(&EXECUTOR, read_identify_data);
static DONE: AtomicBool = AtomicBool::new(false);

/// IRQ 14: acknowledge the drive by reading its status, leave the data to the bottom half.
fn top_half(_irq: u8) {
    let status = ports().read8(STATUS_COMMAND);
    STATUS_AT_IRQ.store(status, Ordering::Relaxed);
    IRQS.fetch_add(1, Ordering::Relaxed);
    IDENTIFY_BH.schedule();
}

/// The bottom half: 256 data words when the drive offers them (DRQ), then the model string.
fn read_identify_data() {
    let status = STATUS_AT_IRQ.load(Ordering::Relaxed);
    assert_eq!(
        status & ERROR,
        0,
        "IDENTIFY DEVICE failed: status {status:#04x}"
    );
    if status & (BUSY | DATA_REQUEST) != DATA_REQUEST {
        // An interrupt left over from the firmware: no data for us.
        return;
    }
    let mut words = [0u16; 256];
    ports().read16_into(DATA, &mut words);
    let mut model = [0u8; 2 * MODEL_WORDS];
    let model_words = &words[MODEL_FIRST_WORD..MODEL_FIRST_WORD + MODEL_WORDS];
    for (pair, word) in model.chunks_exact_mut(2).zip(model_words) {
        pair.copy_from_slice(&word.to_be_bytes());
    }
    let model = core::str::from_utf8(&model).unwrap_or("<not ASCII>");
    println!("ata status={status:02x} model={:?}", model.trim_end());
    DONE.store(true, Ordering::Relaxed);
}

/// `defer_irq14`.
pub fn defer_irq14() {
    let mut io = ports();
    io.write8(DRIVE_HEAD, SELECT_MASTER);
    // Clear nIEN: the drive raises INTRQ (IRQ 14) when its data is ready.
    io.write8(CONTROL, 0);
    let ready = poll_until(&mut PitDelay, BUSY_TIMEOUT_US, 100, || {
        let status = io.read8(CONTROL);
        (status & BUSY == 0).then_some(status)
    });
    match ready {
        Ok(0x00 | 0x7F) => panic!("no drive on the primary channel (attach a disk)"),
        Ok(_) => {}
        Err(_) => panic!("the primary master stays busy"),
    }
    // Acknowledge whatever the firmware left pending before the handler goes in.
    io.read8(STATUS_COMMAND);
    irq::register(irq::PRIMARY_ATA, top_half);
    io.write8(STATUS_COMMAND, IDENTIFY_DEVICE);
    let sent_at = timer::ticks();
    deferred::run_until(|| {
        DONE.load(Ordering::Relaxed) || timer::ticks() >= sent_at + ANSWER_TIMEOUT_TICKS
    });
    assert!(
        DONE.load(Ordering::Relaxed),
        "no IDENTIFY data within {ANSWER_TIMEOUT_TICKS} ms ({} IRQ 14s)",
        IRQS.load(Ordering::Relaxed)
    );
    irq::unregister(irq::PRIMARY_ATA);
    println!("ata irqs={}", IRQS.load(Ordering::Relaxed));
    deferred::print_stats();
}
