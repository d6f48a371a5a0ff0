//! One IDE channel: what it holds and how it is built.

use irqkit_hal::dma::{Direction as DmaDirection, DmaError, DmaMap, Reach, Segment};
use irqkit_hal::{DelayNs, PortIo};

use crate::command::Drive;
use crate::config::{Options, Stats};
use crate::drive::DriveInfo;
use crate::irq::ChannelIrq;
use crate::transport::busmaster::BusMaster;
use crate::transport::legacy::{Legacy, CTRL_NIEN};
use crate::transport::ChannelRegs;
use crate::wait::{Spin, Wait};
use crate::{Error, Unsupported};

/// A DMA mapper for channels without DMA: maps nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoDma;

impl DmaMap for NoDma {
    fn map(
        &mut self,
        _: &[u8],
        _: DmaDirection,
        _: Reach,
        _: &mut dyn FnMut(Segment) -> Result<(), DmaError>,
    ) -> Result<(), DmaError> {
        Err(DmaError::NotMappable)
    }
    fn sync_for_cpu(&mut self, _: &mut [u8]) {}
    fn unmap(&mut self, _: &[u8], _: DmaDirection) {}
}

/// The DMA mapper and the memory the PRD tables are built in.
#[derive(Debug)]
pub(crate) struct DmaParts<M> {
    pub(crate) map: M,
    pub(crate) prd: &'static mut [u8],
    pub(crate) bm: BusMaster,
}

/// An IDE channel (two drive positions) and everything needed to drive it.
///
/// * `P`: port I/O ([`PortIo`]); `D`: delays ([`DelayNs`]).
/// * `M`: the DMA mapper ([`DmaMap`]; [`NoDma`] until [`Channel::with_dma`]).
/// * `W`: how blocking calls wait for interrupts ([`Wait`]; [`Spin`] by default).
///
/// The channel holds no global state: the kernel owns it (and the [`ChannelIrq`] its
/// interrupt handler shares). All methods take `&mut self`; blocking calls return only once
/// the device is done with the caller's buffers or has been stopped (also when a wait
/// strategy panics), so any `&mut [u8]` will do. The async calls and the request queue take
/// `&'static mut [u8]` buffers instead (see [`Transfer`](crate::Transfer) for why).
///
/// # Example
///
/// ```
/// use irqkit_ata::{Channel, ChannelRegs, Drive};
/// # struct Floating;
/// # impl irqkit_hal::PortIo for Floating {
/// #     fn read8(&mut self, _: u16) -> u8 { 0xFF }
/// #     fn write8(&mut self, _: u16, _: u8) {}
/// #     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
/// #     fn write16(&mut self, _: u16, _: u16) {}
/// #     fn read32(&mut self, _: u16) -> u32 { !0 }
/// #     fn write32(&mut self, _: u16, _: u32) {}
/// # }
/// # struct NoDelay;
/// # impl irqkit_hal::DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
/// let mut ch = Channel::new(Floating, NoDelay, ChannelRegs::PRIMARY);
/// let found = ch.probe()?;
/// assert_eq!(found, [None, None]); // nothing on a floating bus
/// let mut sector = [0u8; 512];
/// assert_eq!(
///     ch.read(Drive::Master, 0, &mut sector),
///     Err(irqkit_ata::Error::NoDevice { drive: Drive::Master })
/// );
/// # Ok::<(), irqkit_ata::Error>(())
/// ```
#[derive(Debug)]
pub struct Channel<P, D, M = NoDma, W = Spin> {
    pub(crate) io: P,
    pub(crate) delay: D,
    pub(crate) wait: W,
    pub(crate) regs: ChannelRegs,
    pub(crate) dma: Option<DmaParts<M>>,
    pub(crate) irq: Option<&'static ChannelIrq>,
    pub(crate) drives: [Option<DriveInfo>; 2],
    pub(crate) options: Options,
    pub(crate) stats: Stats,
    /// A non-blocking transfer owns the engine (or was abandoned: its future forgotten).
    pub(crate) busy: bool,
}

impl<P: PortIo, D: DelayNs> Channel<P, D> {
    /// A PIO channel at `regs`. Touches no register: call [`Channel::probe`] next.
    pub fn new(io: P, delay: D, regs: ChannelRegs) -> Self {
        Channel {
            io,
            delay,
            wait: Spin,
            regs,
            dma: None,
            irq: None,
            drives: [None, None],
            options: Options::default(),
            stats: Stats::default(),
            busy: false,
        }
    }
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Channel<P, D, M, W> {
    /// Enables bus-master DMA: `map` turns buffers into bus addresses, `prd_region` is memory
    /// for the PRD table (at least 8 bytes, dword aligned, below 4 GiB, not crossing a
    /// 64 KiB boundary; 4 KiB holds the maximum of 512 entries). The region is `'static`
    /// because the engine reads it until stopped.
    ///
    /// # Errors
    ///
    /// [`Unsupported::NoDma`] when `regs` has no bus-master base, [`Error::BadPrdRegion`]
    /// for a region shorter than one entry. (Where the region lands on the bus is checked
    /// at each command, when it is mapped.)
    pub fn with_dma<M2: DmaMap>(
        self,
        map: M2,
        prd_region: &'static mut [u8],
    ) -> Result<Channel<P, D, M2, W>, Error> {
        let Some(base) = self.regs.bus_master else {
            return Err(Error::Unsupported(Unsupported::NoDma));
        };
        if prd_region.len() < crate::command::PRD_ENTRY_SIZE {
            return Err(Error::BadPrdRegion);
        }
        Ok(Channel {
            io: self.io,
            delay: self.delay,
            wait: self.wait,
            regs: self.regs,
            dma: Some(DmaParts {
                map,
                prd: prd_region,
                bm: BusMaster { base },
            }),
            irq: self.irq,
            drives: self.drives,
            options: self.options,
            stats: self.stats,
            busy: self.busy,
        })
    }

    /// Completes DMA and non-data commands by interrupt: `irq` is the state the interrupt
    /// handler calls [`ChannelIrq::handle`] on. Bind one `ChannelIrq` to one channel.
    pub fn with_interrupts(mut self, irq: &'static ChannelIrq) -> Self {
        irq.bind(self.regs);
        self.irq = Some(irq);
        self
    }

    /// Uses `wait` to pass time in blocking calls that wait for an interrupt.
    pub fn with_wait<W2: Wait>(self, wait: W2) -> Channel<P, D, M, W2> {
        Channel {
            io: self.io,
            delay: self.delay,
            wait,
            regs: self.regs,
            dma: self.dma,
            irq: self.irq,
            drives: self.drives,
            options: self.options,
            stats: self.stats,
            busy: self.busy,
        }
    }

    /// Replaces the options.
    pub fn with_options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// The options in use.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Changes the options.
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

    /// The ports of this channel.
    pub fn regs(&self) -> ChannelRegs {
        self.regs
    }

    /// Recovery counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// What [`Channel::probe`] found at `drive`.
    pub fn drive(&self, drive: Drive) -> Option<&DriveInfo> {
        self.drives[drive.index()].as_ref()
    }

    /// Whether DMA transfers are possible for `drive` (bus master, mapper, drive support).
    pub fn dma_available(&self, drive: Drive) -> bool {
        self.dma.is_some() && self.drive(drive).is_some_and(|d| d.identify.supports_dma())
    }

    /// Gives back the port access, delay, mapper and wait strategy.
    pub fn into_parts(self) -> (P, D, Option<M>, W) {
        (self.io, self.delay, self.dma.map(|d| d.map), self.wait)
    }

    pub(crate) fn legacy(&mut self) -> Legacy<'_, P> {
        Legacy {
            io: &mut self.io,
            regs: self.regs,
        }
    }

    /// The interrupt state, when commands complete by interrupt.
    pub(crate) fn irq_mode(&self) -> Option<&'static ChannelIrq> {
        self.irq.filter(|_| self.options.interrupts)
    }

    /// Device control value for a command: interrupts on only when completing by interrupt.
    pub(crate) fn control_for(&self, irq: bool) -> u8 {
        if irq {
            0
        } else {
            CTRL_NIEN
        }
    }
}
