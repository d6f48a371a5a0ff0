//! The primary IDE channel as the ATA cases drive it with irqkit-ata: the controller found on
//! PCI ([`crate::ide`]), DMA through the kernel's identity-mapped region
//! ([`crate::dma_region`]), completion by IRQ 14 through [`PRIMARY_IRQ`], and blocking calls
//! that wait with `sti; hlt` ([`Halt`]).
//!
//! The kernel owns the statics; the driver holds none.

use core::cell::Cell;
use core::sync::atomic::{AtomicU32, Ordering};

use irqkit_ata::command::DeviceKind;
use irqkit_ata::{Channel, ChannelIrq, ChannelRegs, Drive, IrqOutcome, Options, Wait};
use irqkit_hal::critical_section::{self, Mutex};
use irqkit_hal::dma::IdentityMap;
use irqkit_hal::x86::interrupts;
use irqkit_hal::{poll_until, DelayNs, PortIo};

use crate::delay::PitDelay;
use crate::dma_region::{self, DmaRegion};
use crate::port::{ports, Ports};
use crate::{ide, irq, println, tsc};

/// Bytes of one PRD table: 512 entries, the most QEMU reads.
pub const PRD_TABLE_BYTES: usize = 4096;

/// A channel with DMA, interrupts bound, waiting by halting.
pub type Disk = Channel<Ports, PitDelay, IdentityMap, Halt>;

/// The primary channel's interrupt state, shared with the IRQ 14 handler.
pub static PRIMARY_IRQ: ChannelIrq = ChannelIrq::new();
/// IRQ 14s the top half handled as completions, and those that were not the channel's.
static IRQ14_COMPLETED: AtomicU32 = AtomicU32::new(0);
static IRQ14_NOT_OURS: AtomicU32 = AtomicU32::new(0);
/// What else the IRQ 14 handler does after a completion (the request queue's bottom half).
static AFTER_COMPLETION: Mutex<Cell<Option<Hook>>> = Mutex::new(Cell::new(None));

/// Something the IRQ 14 handler runs after a completion.
type Hook = fn();

/// How blocking calls wait for the disk's interrupt: `sti; hlt` until the next interrupt (the
/// disk's, or the 1 kHz PIT tick that bounds every halt), timed with the TSC.
///
/// Blocking channel calls are made from a case's main flow only, never inside a critical
/// section: the wait enables interrupts.
#[derive(Debug, Default, Clone, Copy)]
pub struct Halt;

impl Wait for Halt {
    fn wait<D: DelayNs + ?Sized>(&mut self, _delay: &mut D, max_us: u32) -> u32 {
        let start = tsc::now();
        let was_enabled = interrupts::are_enabled();
        // SAFETY: the channel's blocking calls run in a case's main flow, outside any
        // critical section (see above), so nothing relies on interrupts staying masked.
        unsafe { interrupts::enable_and_halt() };
        if !was_enabled {
            interrupts::disable();
        }
        let cycles = tsc::now() - start;
        let us = cycles.saturating_mul(1_000_000) / tsc::hz();
        u32::try_from(us).unwrap_or(u32::MAX).min(max_us.max(1))
    }
}

/// IRQ 14: the driver's top half; on a completion, the hook set by [`on_completion`].
fn irq14(_irq: u8) {
    match PRIMARY_IRQ.handle(&mut ports()) {
        IrqOutcome::Completed => {
            IRQ14_COMPLETED.fetch_add(1, Ordering::Relaxed);
            let hook = critical_section::with(|cs| AFTER_COMPLETION.borrow(cs).get());
            if let Some(hook) = hook {
                hook();
            }
        }
        IrqOutcome::NotOurs => {
            IRQ14_NOT_OURS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Runs `hook` in the IRQ 14 handler after each completion (e.g. schedule a bottom half).
pub fn on_completion(hook: fn()) {
    critical_section::with(|cs| AFTER_COMPLETION.borrow(cs).set(Some(hook)));
}

/// IRQ 14 completions and foreign interrupts seen so far.
pub fn irq14_counts() -> (u32, u32) {
    (
        IRQ14_COMPLETED.load(Ordering::Relaxed),
        IRQ14_NOT_OURS.load(Ordering::Relaxed),
    )
}

/// The primary channel with DMA and IRQ 14, probed, the data part of the DMA region and the
/// secondary channel's ports.
/// `interrupts` picks interrupt completion (else polling with nIEN set).
///
/// # Panics
///
/// If there is no IDE controller, the DMA region was taken, or probing fails.
pub fn open(interrupts: bool) -> (Disk, Setup) {
    let ide = ide::setup();
    let DmaRegion { descriptors, data } = dma_region::take().expect("the DMA region is free");
    let prd = &mut descriptors[..PRD_TABLE_BYTES];
    // The ports irqkit-hal's discovery found (compatibility mode on the PIIX3: 0x1F0, 0x3F6,
    // BAR4 + 0); DMA needs the bus master.
    let regs = ChannelRegs::from(ide.controller.primary);
    assert!(
        regs.bus_master.is_some(),
        "the IDE controller has no bus master"
    );
    // SAFETY: every buffer this kernel hands the mapper is a static or stack buffer inside
    // the boot stub's identity map of the first 1 GiB (virtual == physical), ordinary RAM.
    let map = unsafe { IdentityMap::new() };
    let options = Options {
        interrupts,
        ..Options::default()
    };
    let mut disk = Channel::new(ports(), PitDelay, regs)
        .with_dma(map, prd)
        .unwrap_or_else(|error| panic!("with_dma: {error}"))
        .with_interrupts(&PRIMARY_IRQ)
        .with_wait(Halt)
        .with_options(options);
    irq::register(irq::PRIMARY_ATA, irq14);
    let mut found = probe(&mut disk);
    for attempt in 2..=PROBE_ATTEMPTS {
        if disk
            .drive(Drive::Master)
            .is_some_and(|drive| drive.is_disk())
        {
            break;
        }
        // A known race (see PROBE_ATTEMPTS): say so on serial, then probe again.
        println!(
            "WARNING: probe found {found:?} ({:?}); probing again (attempt {attempt})",
            disk.stats()
        );
        settle(disk.regs(), false);
        found = probe(&mut disk);
    }
    assert!(
        disk.drive(Drive::Master)
            .is_some_and(|drive| drive.is_disk()),
        "no disk as primary master: probe found {found:?} ({:?})",
        disk.stats()
    );
    let secondary = ChannelRegs::from(ide.controller.secondary);
    (disk, Setup { secondary, data })
}

/// How long probing waits for a drive to answer IDENTIFY. QEMU ignores commands to an
/// absent slave (its status reads 0x00 and never changes), and the driver's default command
/// timeout (10 s) would be spent on it at every probe.
const PROBE_COMMAND_TIMEOUT_US: u32 = 1_000_000;

/// Probes of the primary channel before giving up on finding its master.
///
/// QEMU performs a soft reset (SRST) in a main-loop bottom half, so under host load the
/// drives stay internally busy for a while after SRST is cleared. The driver's probe selects
/// the slave last before the reset; while the (absent) slave is busy, QEMU drops the write
/// that selects the master, and the absent slave's status reads 0x00, which passes for "not
/// busy": the master's IDENTIFY then goes to the absent slave and times out. A second probe
/// starts from a settled channel.
pub const PROBE_ATTEMPTS: u32 = 3;

/// Probes `channel` with [`PROBE_COMMAND_TIMEOUT_US`], then restores its timeouts.
///
/// # Panics
///
/// If probing fails.
pub fn probe<P, D, M, W>(channel: &mut Channel<P, D, M, W>) -> [Option<DeviceKind>; 2]
where
    P: irqkit_hal::PortIo,
    D: DelayNs,
    M: irqkit_hal::dma::DmaMap,
    W: Wait,
{
    let timeouts = channel.options().timeouts;
    channel.options_mut().timeouts.command_us = PROBE_COMMAND_TIMEOUT_US;
    let found = channel.probe();
    channel.options_mut().timeouts = timeouts;
    let found = found.unwrap_or_else(|error| panic!("probe: {error}"));
    if let Some(index) = found.iter().position(Option::is_some) {
        settle(channel.regs(), index == 1);
    }
    found
}

/// Device register: drive 1 (slave) selected.
const DEVICE_SLAVE: u8 = 0x10;
/// Status: busy.
const STATUS_BUSY: u8 = 0x80;
/// How long [`settle`] waits for QEMU to finish a reset.
const SETTLE_TIMEOUT_US: u32 = 5_000_000;

/// Waits until the master (or with `slave`, the slave) is selected and not busy.
///
/// The driver's probe (and the reset after a timed-out IDENTIFY of the absent slave) asserts
/// SRST while the slave is selected. QEMU finishes a reset later, in a main-loop bottom half;
/// until then the drives are busy, QEMU drops register writes (the select of the master
/// included) and the absent slave's status reads 0x00, so the driver takes the reset as done.
/// On a loaded host the next command can then go to a drive that is still resetting and be
/// lost. Here the kernel selects the drive itself, checks that the device register reads
/// back with it selected, and waits for BSY to clear, so the reset has really finished.
///
/// # Panics
///
/// If the channel does not settle within [`SETTLE_TIMEOUT_US`].
fn settle(regs: ChannelRegs, slave: bool) {
    let select = 0xA0 | if slave { DEVICE_SLAVE } else { 0 };
    let mut io = ports();
    let device = regs.command + 6;
    let settled = poll_until(&mut PitDelay, SETTLE_TIMEOUT_US, 100, || {
        io.write8(device, select);
        let selected = io.read8(device) & DEVICE_SLAVE == select & DEVICE_SLAVE;
        let status = io.read8(regs.control);
        (selected && status & STATUS_BUSY == 0).then_some(status)
    });
    if let Err(error) = settled {
        panic!(
            "the channel at {:#x} did not settle after probing: {error}",
            regs.command
        );
    }
}

/// What a case gets besides the channel.
#[derive(Debug)]
pub struct Setup {
    /// The secondary channel's ports, as discovered.
    pub secondary: ChannelRegs,
    /// 64 KiB-aligned data memory.
    pub data: &'static mut [u8],
}
