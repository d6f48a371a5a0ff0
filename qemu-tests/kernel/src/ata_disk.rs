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
use irqkit_hal::DelayNs;

use crate::delay::PitDelay;
use crate::dma_region::{self, DmaRegion};
use crate::port::{ports, Ports};
use crate::{ide, irq, tsc};

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
    let found = probe(&mut disk);
    assert!(
        disk.drive(Drive::Master)
            .is_some_and(|drive| drive.is_disk()),
        "no disk as primary master: probe found {found:?} ({:?})",
        disk.stats()
    );
    let secondary = ChannelRegs::from(ide.controller.secondary);
    (disk, Setup { secondary, data })
}

/// Probes `channel` with the driver's default timeouts.
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
    channel
        .probe()
        .unwrap_or_else(|error| panic!("probe: {error}"))
}

/// What a case gets besides the channel.
#[derive(Debug)]
pub struct Setup {
    /// The secondary channel's ports, as discovered.
    pub secondary: ChannelRegs,
    /// 64 KiB-aligned data memory.
    pub data: &'static mut [u8],
}
