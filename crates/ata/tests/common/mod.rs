//! A simulated PC for the driver: QEMU-like IDE channel, simulated memory, interrupts.
#![allow(dead_code)]

use std::time::Duration;

use irqkit_ata::{Channel, ChannelIrq, ChannelRegs, Drive, Options, Timeouts};
use irqkit_hal_mock::ata::{AtaDisk, IdeChannel, Unit};
use irqkit_hal_mock::{Bus, Clock, DeviceHandle, Line, Sim, SimMemory, Trigger};

/// The driver type the tests use.
pub type Disk = Channel<Bus, Clock, SimMemory>;

pub struct Rig {
    pub sim: Sim,
    pub ide: DeviceHandle<IdeChannel>,
    pub mem: SimMemory,
}

/// Short timeouts so fault tests run fast (virtual time, but every poll is real work).
pub fn short_timeouts() -> Timeouts {
    Timeouts {
        reset_us: 100_000,
        command_us: 50_000,
        identify_us: 5_000,
        flush_us: 100_000,
        lost_irq_us: 2_000,
    }
}

pub fn rig(channel: IdeChannel) -> Rig {
    let sim = Sim::new();
    let ide = channel.attach(&sim.bus()).expect("attach");
    let mem = sim.memory();
    Rig { sim, ide, mem }
}

/// QEMU's primary channel with a disk of `sectors` as master, no slave.
pub fn one_disk(sectors: u64) -> Rig {
    rig(IdeChannel::primary().with_master(AtaDisk::new(sectors)))
}

/// A leaked, page-aligned buffer (the simulated memory keeps a buffer's offset in its
/// page, and `u8` allocations have no alignment of their own).
pub fn leak_aligned(len: usize) -> &'static mut [u8] {
    let raw = Box::leak(vec![0u8; len + 4096].into_boxed_slice());
    let offset = raw.as_ptr().align_offset(4096);
    &mut raw[offset..offset + len]
}

pub fn leak_prd() -> &'static mut [u8] {
    leak_aligned(4096)
}

pub fn leak_buf(len: usize) -> &'static mut [u8] {
    leak_aligned(len)
}

impl Rig {
    /// A PIO-only channel, probed.
    pub fn pio(&self) -> Channel<Bus, Clock> {
        let mut ch = Channel::new(self.sim.bus(), self.sim.clock(), ChannelRegs::PRIMARY)
            .with_options(Options {
                timeouts: short_timeouts(),
                ..Options::default()
            });
        ch.probe().expect("probe");
        ch
    }

    /// A DMA channel completing by polling, probed.
    pub fn dma(&self) -> Disk {
        let regs = ChannelRegs::PRIMARY.with_bus_master(0xC040, irqkit_ata::ChannelId::Primary);
        let mut ch = Channel::new(self.sim.bus(), self.sim.clock(), regs)
            .with_options(Options {
                timeouts: short_timeouts(),
                ..Options::default()
            })
            .with_dma(self.mem.clone(), leak_prd())
            .expect("dma");
        ch.probe().expect("probe");
        ch
    }

    /// A DMA channel completing by interrupt (IRQ 14 wired to a fresh `ChannelIrq`).
    pub fn dma_irq(&self) -> (Disk, &'static ChannelIrq) {
        self.dma_irq_with(Trigger::Edge)
    }

    /// As [`Rig::dma_irq`] with the line's trigger mode chosen (level: PCI INTx, IOAPIC).
    pub fn dma_irq_with(&self, trigger: Trigger) -> (Disk, &'static ChannelIrq) {
        let irq: &'static ChannelIrq = Box::leak(Box::new(ChannelIrq::new()));
        self.sim
            .lines()
            .on_rise(Line(14), trigger, move |bus: &mut Bus| {
                let _ = irq.handle(bus);
            });
        let ch = self.dma().with_interrupts(irq);
        (ch, irq)
    }

    pub fn disk<R>(&self, f: impl FnOnce(&mut AtaDisk) -> R) -> R {
        self.ide.with_disk(Unit::Master, f)
    }

    /// Number of port accesses so far.
    pub fn accesses(&self) -> usize {
        self.sim.bus().log().len()
    }

    pub fn advance(&self, us: u64) {
        self.sim.clock().advance(Duration::from_micros(us));
    }
}

pub const M: Drive = Drive::Master;

/// A recognisable sector pattern.
pub fn pattern(lba: u64, len: usize, salt: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let sector = lba + (i / 512) as u64;
            (sector as u8) ^ (i as u8).wrapping_mul(31) ^ salt
        })
        .collect()
}
