//! One IDE channel: construction, probing, reset, and the command sequencing every transfer
//! shares.

use irqkit_hal::dma::{Direction as DmaDirection, DmaError, DmaMap, Reach, Segment};
use irqkit_hal::{DelayNs, PortIo};

use crate::command::{
    decode_error, DeviceKind, Drive, ErrorBits, Identify, Opcode, Status, Taskfile,
};
use crate::drive::{DriveInfo, Geometry};
use crate::irq::{ChannelIrq, Recorded};
use crate::transport::busmaster::BusMaster;
use crate::transport::legacy::{self, Legacy, CTRL_NIEN, CTRL_SRST};
use crate::transport::ChannelRegs;
use crate::wait::{poll, Spin, Wait};
use crate::{Error, Phase, Unsupported};

/// How long the channel waits, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timeouts {
    /// BSY to clear after a reset (real disks spinning up take seconds). Default 31 s.
    pub reset_us: u32,
    /// The channel to go idle before a command, each DRQ block, and the end of a transfer.
    /// Default 10 s.
    pub command_us: u32,
    /// FLUSH CACHE (writing back a large cache). Default 31 s.
    pub flush_us: u32,
    /// With interrupt completion: how long a completion the bus master shows may go without
    /// its interrupt before the driver treats the interrupt as lost and completes by
    /// registers. Default 100 ms.
    pub lost_irq_us: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            reset_us: 31_000_000,
            command_us: 10_000_000,
            flush_us: 31_000_000,
            lost_irq_us: 100_000,
        }
    }
}

/// Tunables of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Options {
    /// Wait limits.
    pub timeouts: Timeouts,
    /// PIO moves each sector with one string transfer (`rep insw` / `rep outsw`) instead of
    /// 256 single-word accesses. Default on.
    pub string_io: bool,
    /// PIO uses READ/WRITE MULTIPLE (after SET MULTIPLE at probe) where the drive supports
    /// it. Default on. Takes effect at the next [`Channel::probe`].
    pub read_multiple: bool,
    /// Sectors per DMA command for [`Channel::read_dma`] / [`Channel::write_dma`] (larger
    /// requests are split). Default 256 (128 KiB with 512-byte sectors).
    pub max_dma_sectors: u32,
    /// Commands complete by interrupt when a [`ChannelIrq`] is bound (DMA and non-data
    /// commands; PIO is always polled). Default on; off polls with nIEN set.
    pub interrupts: bool,
    /// Longest step between two polls of a status register, in microseconds: polls start
    /// 1 us apart and double up to this. Smaller notices a completion sooner, larger costs
    /// fewer port reads on long waits. Default 100.
    pub max_poll_step_us: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeouts: Timeouts::default(),
            string_io: true,
            read_multiple: true,
            max_dma_sectors: 256,
            interrupts: true,
            max_poll_step_us: 100,
        }
    }
}

/// Counters of recoveries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Channel resets (after timeouts, cancelled or abandoned transfers, or asked for).
    pub resets: u32,
    /// Waits that timed out.
    pub timeouts: u32,
    /// Completions found by reading registers because their interrupt never came.
    pub lost_interrupts: u32,
}

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

    // ----- probing -------------------------------------------------------------------------

    /// Finds the drives: presence (floating bus, register echo), soft reset, signature,
    /// IDENTIFY (IDENTIFY PACKET for ATAPI devices, which are reported but never used as
    /// disks), and SET MULTIPLE for disks that support it. Returns the kind of device at each
    /// position (master, slave); details via [`Channel::drive`].
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when a present drive stays busy after the reset. A position with
    /// no device, or a device that does not answer IDENTIFY, is `None`, not an error.
    pub fn probe(&mut self) -> Result<[Option<DeviceKind>; 2], Error> {
        self.abandon_in_flight();
        self.drives = [None, None];
        let mut present = [false; 2];
        for drive in Drive::BOTH {
            let mut l = self.legacy();
            let st = l.select(0xA0 | drive.device_bit());
            // Status 0x00 is no proof of absence (an ATAPI device reads 0x00 until its first
            // command): the register echo decides, 0xFF (floating) settles it at once.
            present[drive.index()] = st != 0xFF && l.echo();
        }
        if present == [false, false] {
            return Ok([None, None]);
        }
        self.soft_reset(present)?;
        let mut kinds = [None, None];
        for drive in Drive::BOTH.into_iter().filter(|d| present[d.index()]) {
            if let Some(info) = self.identify_drive(drive) {
                kinds[drive.index()] = Some(info.kind);
                self.drives[drive.index()] = Some(info);
            }
        }
        for drive in Drive::BOTH {
            self.apply_multiple(drive);
        }
        Ok(kinds)
    }

    /// Signature and IDENTIFY of one drive after a reset; `None` when nothing answers.
    fn identify_drive(&mut self, drive: Drive) -> Option<DriveInfo> {
        let mut l = self.legacy();
        let st = l.select(0xA0 | drive.device_bit());
        if st == 0xFF {
            return None;
        }
        let (mid, high) = l.signature();
        let mut kind = DeviceKind::from_signature(mid, high);
        let first = if kind.is_atapi() {
            Opcode::IdentifyPacket
        } else {
            Opcode::Identify
        };
        let identify = match self.identify_command(drive, first) {
            Ok(id) => id,
            Err(Error::Aborted { .. }) if first == Opcode::Identify => {
                // An ATAPI device aborts IDENTIFY DEVICE and shows its signature again.
                let (mid, high) = self.legacy().signature();
                kind = DeviceKind::from_signature(mid, high);
                if !kind.is_atapi() {
                    return None;
                }
                self.identify_command(drive, Opcode::IdentifyPacket).ok()?
            }
            Err(_) => return None,
        };
        if kind.is_disk() && !identify.is_ata() {
            kind = DeviceKind::Unknown { mid, high };
        }
        Some(DriveInfo {
            kind,
            identify,
            multiple: 0,
        })
    }

    /// Issues IDENTIFY (PACKET) DEVICE by polling and reads the 512-byte answer.
    fn identify_command(&mut self, drive: Drive, opcode: Opcode) -> Result<Identify, Error> {
        let tf = Taskfile::simple(opcode, drive);
        self.prepare(&tf, false)?;
        self.legacy().command(tf.command);
        let status = self.wait_data_request(&tf)?;
        if !status.contains(Status::DRQ) {
            return Err(Error::NoDevice { drive });
        }
        let mut bytes = [0u8; 512];
        let string = self.options.string_io;
        self.legacy().read_block(&mut bytes, string);
        self.finish_polled(&tf)?;
        Ok(Identify::from_bytes(&bytes))
    }

    /// Sets the READ/WRITE MULTIPLE block size of a disk (largest power of two the drive
    /// allows, at most 128); falls back to plain PIO when the drive refuses.
    fn apply_multiple(&mut self, drive: Drive) {
        let Some(info) = self.drives[drive.index()].as_ref() else {
            return;
        };
        let max = info.identify.max_multiple();
        if !info.is_disk() || !self.options.read_multiple || max == 0 {
            return;
        }
        let n = 1u8 << (7 - max.leading_zeros().min(7));
        let tf = Taskfile::set_multiple(drive, n);
        let ok = self
            .non_data_polled(&tf, self.options.timeouts.command_us)
            .is_ok();
        if let Some(info) = self.drives[drive.index()].as_mut() {
            info.multiple = if ok { n } else { 0 };
        }
    }

    // ----- reset ---------------------------------------------------------------------------

    /// Soft-resets the channel (both drives), stops the bus master, forgets any interrupt
    /// expected, and restores the drives' MULTIPLE setting. Called by the driver after every
    /// timeout; the next request then starts clean.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] (phase [`Phase::Reset`]) when a known drive stays busy.
    pub fn reset(&mut self) -> Result<(), Error> {
        self.stop_engine();
        let present = [self.drives[0].is_some(), self.drives[1].is_some()];
        let r = self.soft_reset(present);
        for drive in Drive::BOTH {
            self.apply_multiple(drive);
        }
        r
    }

    /// Stops the bus master and disarms the interrupt state, whatever was going on.
    pub(crate) fn stop_engine(&mut self) {
        if let Some(irq) = self.irq {
            let _ = irq.disarm();
        }
        if let Some(dma) = self.dma.as_ref() {
            let bm = dma.bm;
            bm.stop(&mut self.io);
            let st = bm.status(&mut self.io);
            bm.clear(&mut self.io, st);
        }
        self.busy = false;
    }

    fn soft_reset(&mut self, present: [bool; 2]) -> Result<(), Error> {
        self.stats.resets += 1;
        let mut l = self.legacy();
        l.control(CTRL_SRST | CTRL_NIEN);
        self.delay.delay_us(5);
        self.legacy().control(CTRL_NIEN);
        self.delay.delay_ms(2);
        let timeout = self.options.timeouts.reset_us;
        let max_step = self.options.max_poll_step_us;
        for drive in Drive::BOTH.into_iter().filter(|d| present[d.index()]) {
            // QEMU keeps the device register across a reset: select explicitly.
            self.legacy().select(0xA0 | drive.device_bit());
            let Channel {
                io, delay, regs, ..
            } = self;
            let mut l = Legacy { io, regs: *regs };
            let r = poll(delay, &mut Spin, timeout, max_step, || {
                let s = l.alt_status();
                (legacy::absent(s) || s & Status::BSY.bits() == 0).then_some(())
            });
            if let Err(waited_us) = r {
                self.stats.timeouts += 1;
                return Err(Error::Timeout {
                    phase: Phase::Reset,
                    waited_us,
                });
            }
        }
        self.legacy().select(0xA0);
        Ok(())
    }

    /// If a non-blocking transfer was abandoned (its future forgotten), stops it and resets.
    pub(crate) fn abandon_in_flight(&mut self) {
        if self.busy {
            self.stop_engine();
            let _ = self.reset();
        }
    }

    // ----- command sequencing --------------------------------------------------------------

    /// The drive's numbers, if it is a disk this driver uses.
    pub(crate) fn disk(&self, drive: Drive) -> Result<Geometry, Error> {
        let info = self.drive(drive).ok_or(Error::NoDevice { drive })?;
        if !info.kind.is_disk() || !info.identify.is_ata() {
            return Err(Error::Unsupported(Unsupported::NotADisk(info.kind)));
        }
        if !info.identify.supports_lba() {
            return Err(Error::Unsupported(Unsupported::NoLba));
        }
        Ok(Geometry::of(info))
    }

    /// Checks a request against the disk: length a non-zero multiple of the sector size,
    /// range inside the disk. Returns the sector count.
    pub(crate) fn check_request(g: &Geometry, lba: u64, len: usize) -> Result<u32, Error> {
        let ss = g.sector_size as usize;
        if len == 0 || len % ss != 0 {
            return Err(Error::BadLength {
                len,
                sector_size: g.sector_size,
            });
        }
        let count = (len / ss) as u64;
        if lba.checked_add(count).is_none_or(|end| end > g.sectors) {
            return Err(Error::OutOfRange {
                lba,
                count,
                capacity: g.sectors,
            });
        }
        u32::try_from(count).map_err(|_| Error::BadSectorCount {
            count,
            max: g.max_command,
        })
    }

    /// Waits for the channel to be idle, selects the drive and loads the taskfile (without
    /// the command byte).
    pub(crate) fn prepare(&mut self, tf: &Taskfile, irq: bool) -> Result<(), Error> {
        let drive = if tf.device & 0x10 != 0 {
            Drive::Slave
        } else {
            Drive::Master
        };
        let timeout = self.options.timeouts.command_us;
        let control = self.control_for(irq);
        let st = self.legacy().select(tf.device);
        // A floating bus. (0x00 is also what QEMU shows for an absent drive, but an ATAPI
        // device reads 0x00 too: a command to a drive that is gone times out instead.)
        if st == 0xFF {
            return Err(Error::NoDevice { drive });
        }
        let idle = Status::BSY.union(Status::DRQ).bits();
        let r = self.poll_alt(timeout, |s| s & idle == 0);
        if let Err(waited_us) = r {
            return Err(self.timed_out(Phase::Select, waited_us));
        }
        let mut l = self.legacy();
        l.control(control);
        l.load(tf);
        Ok(())
    }

    /// Polls alternate status until `done` holds; `Err(waited)` on timeout.
    pub(crate) fn poll_alt(
        &mut self,
        timeout_us: u32,
        done: impl Fn(u8) -> bool,
    ) -> Result<u8, u32> {
        let max_step = self.options.max_poll_step_us;
        let Channel {
            io, delay, regs, ..
        } = self;
        let mut l = Legacy { io, regs: *regs };
        poll(delay, &mut Spin, timeout_us, max_step, || {
            let s = l.alt_status();
            done(s).then_some(s)
        })
    }

    /// A timeout: count it, reset the channel, and build the error.
    pub(crate) fn timed_out(&mut self, phase: Phase, waited_us: u32) -> Error {
        self.stats.timeouts += 1;
        self.stop_engine();
        let _ = self.reset();
        Error::Timeout { phase, waited_us }
    }

    /// Waits (PIO) for BSY to clear with DRQ or an error; reads status (acknowledging the
    /// interrupt) and turns an error into its [`Error`].
    pub(crate) fn wait_data_request(&mut self, tf: &Taskfile) -> Result<Status, Error> {
        let timeout = self.options.timeouts.command_us;
        let ready = (Status::DRQ | Status::ERR | Status::DF).bits();
        let r = self.poll_alt(timeout, |s| s & Status::BSY.bits() == 0 && s & ready != 0);
        match r {
            Ok(_) => {
                let st = Status::from_bits_retain(self.legacy().status());
                if st.failed() {
                    return Err(self.command_error(tf, st));
                }
                Ok(st)
            }
            Err(waited_us) => {
                // BSY clear without DRQ: the device has nothing to give (or is gone).
                Err(self.timed_out(Phase::DataRequest, waited_us))
            }
        }
    }

    /// Waits (polled) for the end of a command: BSY clear; checks for errors and for a DRQ
    /// the transfer did not expect.
    pub(crate) fn finish_polled(&mut self, tf: &Taskfile) -> Result<(), Error> {
        self.finish_polled_within(tf, self.options.timeouts.command_us)
    }

    fn finish_polled_within(&mut self, tf: &Taskfile, timeout: u32) -> Result<(), Error> {
        let r = self.poll_alt(timeout, |s| s & Status::BSY.bits() == 0);
        match r {
            Ok(_) => {
                let st = Status::from_bits_retain(self.legacy().status());
                self.check_final(tf, st)
            }
            Err(waited_us) => Err(self.timed_out(Phase::Completion, waited_us)),
        }
    }

    /// The verdict on a final status.
    pub(crate) fn check_final(&mut self, tf: &Taskfile, st: Status) -> Result<(), Error> {
        if st.failed() {
            return Err(self.command_error(tf, st));
        }
        if st.contains(Status::DRQ) {
            // The device wants more data than the command moved: stop it.
            let e = Error::Device {
                command: tf.command,
                status: st.bits(),
                error: 0,
            };
            self.stop_engine();
            let _ = self.reset();
            return Err(e);
        }
        Ok(())
    }

    /// The error of a failed command, with the failing LBA read back when the error names
    /// a sector.
    pub(crate) fn command_error(&mut self, tf: &Taskfile, st: Status) -> Error {
        let control = self.control_for(false);
        let mut l = self.legacy();
        let error = ErrorBits::from_bits_retain(l.error());
        let lba = if crate::command::names_sector(error) {
            l.read_lba(tf.mode, control)
        } else {
            tf.lba
        };
        decode_error(tf.command, st, error, lba)
    }

    /// A non-data command by polling.
    pub(crate) fn non_data_polled(&mut self, tf: &Taskfile, timeout: u32) -> Result<(), Error> {
        self.prepare(tf, false)?;
        self.legacy().command(tf.command);
        self.finish_polled_within(tf, timeout)
    }

    /// A non-data command, by interrupt when bound (with lost-interrupt recovery), by
    /// polling otherwise.
    pub(crate) fn non_data(&mut self, tf: &Taskfile, timeout: u32) -> Result<(), Error> {
        let Some(irq) = self.irq_mode() else {
            return self.non_data_polled(tf, timeout);
        };
        self.prepare(tf, true)?;
        irq.arm(false);
        self.legacy().command(tf.command);
        let rec = match self.wait_for_irq(irq, timeout, false) {
            Ok(rec) => rec,
            Err(waited_us) => return Err(self.timed_out(Phase::Completion, waited_us)),
        };
        self.check_final(tf, Status::from_bits_retain(rec.ata))
    }

    /// Whether the registers show the armed command complete (used when its interrupt is
    /// late or lost). Reads only registers without side effects.
    pub(crate) fn done_by_registers(&mut self, dma: bool) -> bool {
        let alt = Status::from_bits_retain(self.legacy().alt_status());
        let device_idle = !alt.intersects(Status::BSY | Status::DRQ) || alt.failed();
        match (dma, self.dma.as_ref()) {
            (true, Some(parts)) => {
                let bms = parts.bm.status(&mut self.io);
                alt.failed()
                    || bms & crate::transport::busmaster::ST_INTR != 0
                    || (device_idle && bms & crate::transport::busmaster::ST_ACTIVE == 0)
            }
            _ => device_idle,
        }
    }

    /// Completes the armed command from the registers (the top half never ran): stops the
    /// engine, reads status (acknowledging the interrupt), clears the bus-master status.
    pub(crate) fn complete_by_registers(&mut self, dma: bool) -> Recorded {
        let mut bms = 0;
        if let (true, Some(parts)) = (dma, self.dma.as_ref()) {
            let bm = parts.bm;
            bm.stop(&mut self.io);
            bms = bm.status(&mut self.io);
        }
        let ata = self.legacy().status();
        if let (true, Some(parts)) = (dma, self.dma.as_ref()) {
            let bm = parts.bm;
            bm.clear(&mut self.io, bms);
        }
        Recorded { ata, bm: bms }
    }

    /// Waits for the interrupt of an armed command with the wait strategy. A completion the
    /// registers show but whose interrupt has not come within `lost_irq_us` is taken as a
    /// lost interrupt and completed by registers. `Err(waited)` on timeout, with the state
    /// disarmed (the engine is still running: the caller resets).
    pub(crate) fn wait_for_irq(
        &mut self,
        irq: &'static ChannelIrq,
        timeout: u32,
        dma: bool,
    ) -> Result<Recorded, u32> {
        let lost_after = self.options.timeouts.lost_irq_us;
        let mut waited: u32 = 0;
        let mut step: u32 = 1;
        loop {
            if let Some(rec) = irq.take() {
                return Ok(rec);
            }
            let late = waited >= lost_after.min(timeout);
            if (late && self.done_by_registers(dma)) || waited >= timeout {
                if let Some(rec) = irq.disarm() {
                    return Ok(rec);
                }
                if self.done_by_registers(dma) {
                    self.stats.lost_interrupts += 1;
                    return Ok(self.complete_by_registers(dma));
                }
                return Err(waited);
            }
            let s = step.min(timeout - waited).max(1);
            let passed = self.wait.wait(&mut self.delay, s).max(1);
            waited = waited.saturating_add(passed);
            step = step
                .saturating_mul(2)
                .min(self.options.max_poll_step_us.max(1));
        }
    }

    // ----- flush ---------------------------------------------------------------------------

    /// FLUSH CACHE (EXT): the durability barrier.
    ///
    /// A write that returned `Ok` has reached the drive's volatile write cache, not the
    /// medium: a power loss can still drop it. When `flush` returns `Ok`, every write that
    /// completed before the call is on the medium (the `fsync` of the disk). Flush after a
    /// batch of writes that must survive together, not after every chunk. A drive without a
    /// write cache and without FLUSH support has nothing to flush: `Ok` at once.
    ///
    /// # Errors
    ///
    /// Device errors of FLUSH CACHE (a flush that fails reports the first sector it could
    /// not write, as [`Error::Media`] / [`Error::IdNotFound`]), [`Error::Timeout`].
    pub fn flush(&mut self, drive: Drive) -> Result<(), Error> {
        self.abandon_in_flight();
        let g = self.disk(drive)?;
        if !g.write_cache && !g.flush && !g.flush_ext {
            return Ok(());
        }
        let tf = Taskfile::flush(drive, g.lba48 && g.flush_ext);
        self.non_data(&tf, self.options.timeouts.flush_us)
    }
}
