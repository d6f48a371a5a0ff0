//! ATA disks for `no_std` kernels: PIO and bus-master DMA, completion by polling or by
//! interrupt, async transfers, a request queue, and flush.
//!
//! The driver is generic over [`irqkit_hal`]'s traits: [`PortIo`](irqkit_hal::PortIo) for
//! the registers, [`DelayNs`](irqkit_hal::DelayNs) for timing,
//! [`DmaMap`](irqkit_hal::dma::DmaMap) for handing buffers to the bus master. It holds no
//! global state and needs no allocator; the kernel owns the [`Channel`] and the
//! [`ChannelIrq`] its interrupt handler shares.
//!
//! | need | what to use |
//! |------|-------------|
//! | a channel on the legacy ports | [`Channel::new`] with [`ChannelRegs::PRIMARY`] / [`ChannelRegs::SECONDARY`] |
//! | a channel of a PCI IDE controller | [`ChannelRegs::legacy`] or [`ChannelRegs::native`], then [`ChannelRegs::with_bus_master`] (BAR4) |
//! | find the drives, IDENTIFY | [`Channel::probe`], [`Channel::drive`] → [`DriveInfo`] / [`Identify`] |
//! | blocking reads and writes | [`Channel::read`] / [`Channel::write`] (DMA when possible), [`Channel::read_pio`], [`Channel::read_dma`], ... |
//! | scatter / gather | [`Channel::readv_dma`] / [`Channel::writev_dma`] |
//! | DMA | [`Channel::with_dma`] (a mapper and a PRD table region) |
//! | completion by interrupt | `static IRQ: ChannelIrq`, [`Channel::with_interrupts`], [`ChannelIrq::handle`] in the handler |
//! | how blocking calls wait for the interrupt | [`Wait`] ([`Channel::with_wait`]); [`Spin`] by default |
//! | async | [`Channel::read_async`] / [`Channel::write_async`] → [`Transfer`] |
//! | many requests in flight | [`Queue`]: [`Queue::submit`], [`Queue::service`] in the bottom half, [`Queue::pop`] |
//! | durability | [`Channel::flush`], [`Op::Flush`] |
//! | the protocol without I/O (another transport, tools) | [`command`] |
//! | errors | [`Error`] (what and where: the failing LBA, the wait that timed out) |
//! | a byte stream (`embedded-io` `Read`/`Write`/`Seek`) | `ByteDisk` (feature `embedded-io`) |
//! | a FAT volume with `embedded-sdmmc` | `BlockDisk` (feature `embedded-sdmmc`) |
//!
//! The [guide](https://github.com/irqkit/irqkit/blob/main/docs/GUIDE.md) wires a disk (PCI
//! discovery, DMA, IRQ 14, reads, writes, flush) next to the keyboard path, in host-runnable
//! examples.
//!
//! # Guarantees
//!
//! * Every wait is bounded ([`Timeouts`]); after a timeout the channel is reset, so the next
//!   request works.
//! * Range and buffer checks happen before any register is touched.
//! * A failed read returns `Err`: the buffer's contents are never reported as data.
//! * ATAPI devices are reported by [`Channel::probe`] and refused as disks.
//! * LBA28 or LBA48 is chosen per command from the range it covers, never from the start
//!   LBA alone.
//! * A write is in the drive's volatile cache when it completes; [`Channel::flush`] is the
//!   durability barrier.
//! * The DMA engine never runs on memory that is no longer the transfer's: blocking calls
//!   stop it before returning (also on panic), async transfers and the queue own `'static`
//!   buffers (see [`Transfer`]).
//!
//! # Example: a kernel's disk setup
//!
//! ```
//! use irqkit_ata::{Channel, ChannelId, ChannelIrq, ChannelRegs, Drive, Error, IrqOutcome};
//! use irqkit_hal::dma::DmaMap;
//! use irqkit_hal::{DelayNs, PortIo};
//!
//! static PRIMARY_IRQ: ChannelIrq = ChannelIrq::new();
//!
//! /// IRQ 14: acknowledge, record, wake; tell the interrupt controller code if it was ours.
//! fn irq14(ports: &mut impl PortIo) -> bool {
//!     PRIMARY_IRQ.handle(ports) == IrqOutcome::Completed
//! }
//!
//! /// `bar4`: the IDE controller's bus-master base from PCI (BAR4, low bits masked, with bus
//! /// mastering enabled in its command register). `prd`: 4 KiB below 4 GiB, 4-byte aligned,
//! /// not crossing 64 KiB.
//! fn disk_setup<P: PortIo, D: DelayNs, M: DmaMap>(
//!     ports: P,
//!     delay: D,
//!     map: M,
//!     bar4: u16,
//!     prd: &'static mut [u8],
//! ) -> Result<(), Error> {
//!     let regs = ChannelRegs::PRIMARY.with_bus_master(bar4, ChannelId::Primary);
//!     let mut disk = Channel::new(ports, delay, regs)
//!         .with_dma(map, prd)?
//!         .with_interrupts(&PRIMARY_IRQ);
//!     let [master, _slave] = disk.probe()?;
//!     if master.is_some_and(|kind| kind.is_disk()) {
//!         let info = disk.drive(Drive::Master).unwrap();
//!         let _model = info.identify().model(); // "QEMU HARDDISK"
//!         let mut boot = [0u8; 512];
//!         disk.read(Drive::Master, 0, &mut boot)?; // DMA, woken by IRQ 14
//!         disk.write(Drive::Master, 1, &boot)?;
//!         disk.flush(Drive::Master)?; // now it survives a power loss
//!     }
//!     Ok(())
//! }
//! # fn main() -> Result<(), Error> {
//! # assert!(!irq14(&mut Floating));
//! # disk_setup(Floating, NoDelay, irqkit_ata::NoDma, 0xC040, Box::leak(Box::new([0u8; 4096])))
//! # }
//! # struct Floating;
//! # impl PortIo for Floating {
//! #     fn read8(&mut self, _: u16) -> u8 { 0xFF }
//! #     fn write8(&mut self, _: u16, _: u8) {}
//! #     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
//! #     fn write16(&mut self, _: u16, _: u16) {}
//! #     fn read32(&mut self, _: u16) -> u32 { !0 }
//! #     fn write32(&mut self, _: u16, _: u32) {}
//! # }
//! # struct NoDelay;
//! # impl DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(test)]
extern crate std;

#[cfg(any(feature = "embedded-io", feature = "embedded-sdmmc"))]
mod adapters;
mod channel;
pub mod command;
mod config;
mod dma;
mod drive;
mod error;
mod flush;
mod future;
mod irq;
mod pio;
mod probe;
mod queue;
mod sequence;
mod transport;
mod wait;

#[cfg(feature = "embedded-sdmmc")]
pub use adapters::BlockDisk;
#[cfg(feature = "embedded-io")]
pub use adapters::ByteDisk;
pub use channel::{Channel, NoDma};
pub use command::{DeviceKind, Drive, Identify};
pub use config::{Options, Stats, Timeouts};
pub use drive::DriveInfo;
pub use error::{Error, Phase, Unsupported};
pub use future::{Failed, Transfer};
pub use irq::{ChannelIrq, IrqOutcome};
pub use queue::{Completion, Op, Queue, QueueFull, Request};
pub use transport::{ChannelId, ChannelRegs};
pub use wait::{Spin, Wait};

/// Property-test settings of the unit tests: fewer cases and no failure files under Miri
/// (its isolation has no working directory).
#[cfg(test)]
pub(crate) fn proptest_config() -> proptest::test_runner::Config {
    let mut config = proptest::test_runner::Config::with_cases(if cfg!(miri) { 4 } else { 256 });
    if cfg!(miri) {
        config.failure_persistence = None;
    }
    config
}

#[cfg(test)]
mod auto_traits {
    use super::*;

    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}

    /// The interrupt state lives in a `static` shared with the handler; the channel, its
    /// transfers and its queue move to whichever CPU or task runs the disk code, and share
    /// only what `&self` offers.
    #[test]
    fn handles_are_send_and_the_irq_state_is_sync() {
        send_sync::<ChannelIrq>();
        send_sync::<Error>();
        send::<Channel<NoPorts, NoPorts>>();
        send_sync::<Channel<NoPorts, NoPorts>>();
        send::<Transfer<'static, NoPorts, NoPorts, NoDma, Spin>>();
        send::<Queue<NoPorts, NoPorts, NoDma, Spin, 4>>();
        send::<Failed>();
    }

    struct NoPorts;
    impl irqkit_hal::PortIo for NoPorts {
        fn read8(&mut self, _: u16) -> u8 {
            0xFF
        }
        fn write8(&mut self, _: u16, _: u8) {}
        fn read16(&mut self, _: u16) -> u16 {
            0xFFFF
        }
        fn write16(&mut self, _: u16, _: u16) {}
        fn read32(&mut self, _: u16) -> u32 {
            !0
        }
        fn write32(&mut self, _: u16, _: u32) {}
    }
    impl irqkit_hal::DelayNs for NoPorts {
        fn delay_ns(&mut self, _: u32) {}
    }
}
