//! One IDE channel: the register interface of its two units, the interrupt line, soft reset,
//! and the bus master that moves DMA data between the disk and simulated memory.

use std::time::Duration;

use crate::bus::{AttachError, Bus, DeviceHandle};
use crate::device::{Device, DeviceAddr, DeviceCtx, Width};
use crate::irq::Line;
use crate::pci::PciFunction;
use crate::time::EventId;

use super::busmaster::{self, BusMasterRegs, PrdEntry, StartStop, CMD_READ, STATUS_ACTIVE};
use super::disk::{AtaDisk, DiskFaults, SECTOR};
use super::taskfile::{status, Signature, Taskfile, ABRT, DEV_SLAVE};

/// Device control register: interrupts disabled.
const CTRL_NIEN: u8 = 0x02;
/// Device control register: software reset.
const CTRL_SRST: u8 = 0x04;
/// Device control register: read the previous ("high order byte") register values.
const CTRL_HOB: u8 = 0x80;

/// Where a channel's registers are and which line it interrupts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelPorts {
    /// First port of the command block (8 ports: data .. status/command).
    pub command: u16,
    /// The control block port (alternate status / device control).
    pub control: u16,
    /// The interrupt line.
    pub irq: Line,
    /// First port of this channel's 8 bus-master registers, if it has a bus master.
    pub bus_master: Option<u16>,
}

impl ChannelPorts {
    /// The primary channel of QEMU's PIIX3 IDE: 0x1F0, 0x3F6, IRQ 14, bus master at
    /// BAR4 = 0xC040.
    pub const PRIMARY: ChannelPorts = ChannelPorts {
        command: 0x1F0,
        control: 0x3F6,
        irq: Line(14),
        bus_master: Some(0xC040),
    };

    /// The secondary channel: 0x170, 0x376, IRQ 15, bus master at BAR4 + 8 = 0xC048.
    pub const SECONDARY: ChannelPorts = ChannelPorts {
        command: 0x170,
        control: 0x376,
        irq: Line(15),
        bus_master: Some(0xC048),
    };
}

/// Which of the two devices of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Device 0.
    Master,
    /// Device 1.
    Slave,
}

impl Unit {
    fn index(self) -> usize {
        match self {
            Unit::Master => 0,
            Unit::Slave => 1,
        }
    }
}

/// What sits in a unit slot of a channel.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum Drive {
    /// Nothing: status and error read 0x00 (QEMU); the taskfile registers hold what is
    /// written (all read 0x00 when both units are absent); commands to an absent slave are
    /// ignored.
    #[default]
    Absent,
    /// An ATA hard disk.
    Disk(Box<AtaDisk>),
    /// An ATAPI device (QEMU's CD-ROM) that answers with its signature, aborts IDENTIFY
    /// DEVICE, and answers IDENTIFY PACKET DEVICE; it is never a disk.
    Atapi,
}

impl From<AtaDisk> for Drive {
    fn from(disk: AtaDisk) -> Self {
        Drive::Disk(Box::new(disk))
    }
}

/// A PIO transfer of sectors: where it is and what is left.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RwJob {
    pub(crate) lba: u64,
    pub(crate) remaining: u32,
    /// Sectors per DRQ block (1, or the multiple count).
    pub(crate) block: u32,
    pub(crate) lba48: bool,
}

impl RwJob {
    pub(crate) fn block_len(&self) -> u32 {
        self.remaining.min(self.block)
    }
}

/// The data phase of a PIO command.
#[derive(Debug, Clone)]
pub(crate) struct Pio {
    /// Host to device (a write).
    pub(crate) out: bool,
    pub(crate) buf: Vec<u8>,
    pub(crate) pos: usize,
    /// `None` for IDENTIFY: one block of data and done.
    pub(crate) rw: Option<RwJob>,
}

/// A DMA command waiting for the bus master or in flight.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DmaJob {
    pub(crate) unit: usize,
    pub(crate) write: bool,
    pub(crate) lba: u64,
    pub(crate) count: u32,
    pub(crate) lba48: bool,
    /// Whether the bus master started it.
    pub(crate) begun: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct UnitState {
    pub(crate) drive: Drive,
    pub(crate) tf: Taskfile,
    pub(crate) status: u8,
    pub(crate) error: u8,
    pub(crate) pio: Option<Pio>,
}

impl UnitState {
    fn new(drive: Drive) -> Self {
        let mut unit = UnitState {
            drive,
            tf: Taskfile::default(),
            status: 0,
            error: 0,
            pio: None,
        };
        unit.reset();
        unit
    }

    /// QEMU's `ide_reset` followed by the diagnostic: registers, signature, status.
    pub(crate) fn reset(&mut self) {
        self.tf = Taskfile {
            select: 0xA0,
            ..Taskfile::default()
        };
        self.pio = None;
        self.error = 0x01;
        match &mut self.drive {
            Drive::Absent => {
                self.tf.set_signature(Signature::Nothing);
                self.status = 0;
                self.error = 0;
            }
            Drive::Disk(disk) => {
                disk.reset_settings();
                self.tf.set_signature(Signature::Ata);
                self.status = status::DRDY | status::DSC;
            }
            Drive::Atapi => {
                self.tf.set_signature(Signature::Atapi);
                // QEMU: ATAPI devices do not set DRDY after reset.
                self.status = 0;
            }
        }
    }

    pub(crate) fn disk(&mut self) -> Option<&mut AtaDisk> {
        match &mut self.drive {
            Drive::Disk(d) => Some(&mut **d),
            _ => None,
        }
    }
}

/// Work a latency postponed to a virtual-time event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deferred {
    ReadBlock(usize),
    WriteBlock(usize),
    Flush(usize),
    Dma,
    Reset,
}

/// An IDE channel with up to two drives and its bus master, behaving like QEMU's PIIX3 IDE.
/// See the [module docs](super) for what is modelled.
#[derive(Debug)]
pub struct IdeChannel {
    ports: ChannelPorts,
    pub(crate) units: [UnitState; 2],
    pub(crate) selected: usize,
    control: u8,
    /// Whether this channel holds its line high.
    intrq: bool,
    bm: BusMasterRegs,
    pci: Option<PciFunction>,
    pub(crate) command_latency: Duration,
    dma_latency: Duration,
    reset_latency: Duration,
    floating: bool,
    deferred: Option<(EventId, Deferred)>,
    pub(crate) dma: Option<DmaJob>,
    last_prds: Vec<PrdEntry>,
    direction_mismatches: u32,
    spurious: u32,
}

impl IdeChannel {
    /// An empty channel at `ports` (both units absent), bus mastering allowed, no latencies
    /// but [`with_dma_latency`](Self::with_dma_latency)'s default of 100 us.
    pub fn new(ports: ChannelPorts) -> Self {
        IdeChannel {
            ports,
            units: [UnitState::new(Drive::Absent), UnitState::new(Drive::Absent)],
            selected: 0,
            control: 0,
            intrq: false,
            bm: BusMasterRegs::default(),
            pci: None,
            command_latency: Duration::ZERO,
            dma_latency: Duration::from_micros(100),
            reset_latency: Duration::ZERO,
            floating: false,
            deferred: None,
            dma: None,
            last_prds: Vec::new(),
            direction_mismatches: 0,
            spurious: 0,
        }
    }

    /// QEMU's primary channel ([`ChannelPorts::PRIMARY`]), empty.
    pub fn primary() -> Self {
        Self::new(ChannelPorts::PRIMARY)
    }

    /// QEMU's secondary channel ([`ChannelPorts::SECONDARY`]), empty (as QEMU's with no
    /// CD-ROM: every register reads 0x00).
    pub fn secondary() -> Self {
        Self::new(ChannelPorts::SECONDARY)
    }

    /// Puts `drive` (an [`AtaDisk`], [`Drive::Atapi`], [`Drive::Absent`]) in the master slot.
    pub fn with_master(mut self, drive: impl Into<Drive>) -> Self {
        self.units[0] = UnitState::new(drive.into());
        self
    }

    /// Puts `drive` in the slave slot.
    pub fn with_slave(mut self, drive: impl Into<Drive>) -> Self {
        self.units[1] = UnitState::new(drive.into());
        self
    }

    /// Makes the bus master honour `function`'s command register, as on a PCI controller:
    /// without bus mastering (bit 2) DMA does nothing (ACTIVE stays set, no data moves, no
    /// interrupt: QEMU's DMA finds no memory), without I/O space (bit 0) the bus-master
    /// registers read all ones. Without a function, both are on.
    pub fn with_pci(mut self, function: &PciFunction) -> Self {
        self.pci = Some(function.clone());
        self
    }

    /// How long a DMA transfer takes from the moment both the command and the bus master's
    /// start bit are in (default 100 us; zero completes within the starting access).
    pub fn with_dma_latency(mut self, latency: Duration) -> Self {
        self.dma_latency = latency;
        self
    }

    /// How long the drive stays busy for each PIO block and for FLUSH CACHE (default zero:
    /// data is ready when the command or the previous block's last word is written, like
    /// QEMU with a fast host).
    pub fn with_command_latency(mut self, latency: Duration) -> Self {
        self.command_latency = latency;
        self
    }

    /// How long a soft reset keeps the drives busy after SRST is set (default zero: done at
    /// the next clock step, as QEMU does it in a bottom half).
    pub fn with_reset_latency(mut self, latency: Duration) -> Self {
        self.reset_latency = latency;
        self
    }

    /// With `floating`, the channel answers nothing: every read of its command and control
    /// blocks is all ones (a real controller with no drive cabled), writes vanish.
    pub fn with_floating_bus(mut self, floating: bool) -> Self {
        self.floating = floating;
        self
    }

    /// Attaches the channel to `bus`: the command block, the control port and (if any) the
    /// 8 bus-master registers, as ranges 0, 1 and 2.
    ///
    /// # Errors
    ///
    /// [`AttachError`] if the ports are taken.
    pub fn attach(self, bus: &Bus) -> Result<DeviceHandle<IdeChannel>, AttachError> {
        let p = self.ports;
        let name = format!("ide@{:#x}", p.command);
        let mut ranges = vec![p.command..=p.command + 7, p.control..=p.control];
        if let Some(bm) = p.bus_master {
            ranges.push(bm..=bm + 7);
        }
        bus.attach(&name, &ranges, self)
    }

    // --- inspection and test controls ---

    /// The channel's ports and line.
    pub fn ports(&self) -> ChannelPorts {
        self.ports
    }

    /// The disk in `unit`, if it holds one.
    pub fn disk(&self, unit: Unit) -> Option<&AtaDisk> {
        match &self.units[unit.index()].drive {
            Drive::Disk(d) => Some(&**d),
            _ => None,
        }
    }

    /// The disk in `unit`, mutably (to inject faults or look at its storage).
    pub fn disk_mut(&mut self, unit: Unit) -> Option<&mut AtaDisk> {
        self.units[unit.index()].disk()
    }

    /// The status register of `unit`, without acknowledging anything.
    pub fn status(&self, unit: Unit) -> u8 {
        self.units[unit.index()].status
    }

    /// The error register of `unit`.
    pub fn error(&self, unit: Unit) -> u8 {
        self.units[unit.index()].error
    }

    /// The unit the device register selects.
    pub fn selected(&self) -> Unit {
        if self.selected == 0 {
            Unit::Master
        } else {
            Unit::Slave
        }
    }

    /// The device control register as last written (bit 1 nIEN, bit 2 SRST, bit 7 HOB).
    pub fn device_control(&self) -> u8 {
        self.control
    }

    /// Whether the channel holds its interrupt line high (set by an interrupt, cleared by a
    /// status read).
    pub fn interrupt_asserted(&self) -> bool {
        self.intrq
    }

    /// The bus-master status register.
    pub fn bus_master_status(&self) -> u8 {
        self.bm.status
    }

    /// The bus-master command register.
    pub fn bus_master_command(&self) -> u8 {
        self.bm.command
    }

    /// The PRD table address register.
    pub fn prd_table_address(&self) -> u32 {
        self.bm.prd_table
    }

    /// The PRD entries the last DMA transfer used (or the short table it gave up on), as read
    /// from memory: a test can check the end-of-table bit and the 64 KiB rule.
    pub fn last_prd_table(&self) -> &[PrdEntry] {
        &self.last_prds
    }

    /// How many DMA transfers started with the bus-master direction bit disagreeing with
    /// the command (QEMU follows the command; real controllers move data the wrong way).
    pub fn direction_mismatches(&self) -> u32 {
        self.direction_mismatches
    }

    /// Whether a DMA command is waiting for the bus master or in flight.
    pub fn dma_pending(&self) -> bool {
        self.dma.is_some()
    }

    /// How many spurious interrupts [`spurious_interrupt`](Self::spurious_interrupt) sent.
    pub fn spurious_interrupts(&self) -> u32 {
        self.spurious
    }

    /// Turns the floating-bus fault on or off (see [`with_floating_bus`](Self::with_floating_bus)).
    pub fn set_floating_bus(&mut self, floating: bool) {
        self.floating = floating;
    }

    /// A spurious interrupt: one edge on the line with nothing pending (status, error and
    /// bus-master INTR unchanged). Nothing happens while the channel holds the line high.
    pub fn spurious_interrupt(&mut self, ctx: &mut DeviceCtx<'_>) {
        if !self.intrq {
            ctx.pulse(self.ports.irq);
            self.spurious += 1;
        }
    }

    /// A power cycle: every disk loses its unflushed writes, and the channel and drives come
    /// back in their power-on state (write cache setting, transfer mode and multiple count
    /// included; any command or transfer in flight is lost).
    pub fn power_cycle(&mut self, ctx: &mut DeviceCtx<'_>) {
        for unit in &mut self.units {
            if let Some(disk) = unit.disk() {
                disk.power_loss();
                disk.power_on();
            }
        }
        if let Some((id, _)) = self.deferred.take() {
            ctx.cancel(id);
        }
        self.hard_reset(ctx);
    }

    fn hard_reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        self.deferred = None;
        self.dma = None;
        self.control = 0;
        self.selected = 0;
        self.bm = BusMasterRegs::default();
        for unit in &mut self.units {
            unit.reset();
        }
        self.lower_irq(ctx);
    }

    // --- interrupt line ---

    /// Interrupts on behalf of `unit` (QEMU's `ide_set_irq`): nothing with nIEN set;
    /// otherwise bus-master INTR and the line.
    pub(crate) fn raise_irq(&mut self, unit: usize, ctx: &mut DeviceCtx<'_>) {
        if self.control & CTRL_NIEN != 0 {
            return;
        }
        self.bm.status |= busmaster::STATUS_INTR;
        let lost = self.units[unit]
            .disk()
            .is_some_and(|d| DiskFaults::take(&mut d.faults.lost_interrupts));
        if !lost {
            self.intrq = true;
            ctx.raise(self.ports.irq);
        }
    }

    fn lower_irq(&mut self, ctx: &mut DeviceCtx<'_>) {
        if self.intrq {
            self.intrq = false;
            ctx.lower(self.ports.irq);
        }
    }

    // --- deferred work ---

    /// Runs `work` after `after` (or now if that is zero).
    pub(crate) fn after(&mut self, after: Duration, work: Deferred, ctx: &mut DeviceCtx<'_>) {
        if after.is_zero() && work != Deferred::Reset {
            self.run(work, ctx);
        } else {
            let id = ctx.schedule_in(after, 0);
            self.deferred = Some((id, work));
        }
    }

    fn run(&mut self, work: Deferred, ctx: &mut DeviceCtx<'_>) {
        match work {
            Deferred::ReadBlock(u) => self.load_read_block(u, ctx),
            Deferred::WriteBlock(u) => self.commit_write_block(u, ctx),
            Deferred::Flush(u) => self.finish_flush(u, ctx),
            Deferred::Dma => self.finish_dma(ctx),
            Deferred::Reset => self.finish_soft_reset(),
        }
    }

    // --- soft reset ---

    fn write_control(&mut self, value: u8, ctx: &mut DeviceCtx<'_>) {
        if self.control & CTRL_SRST == 0 && value & CTRL_SRST != 0 {
            self.begin_soft_reset(ctx);
        }
        self.control = value;
    }

    /// SRST rising (QEMU's `ide_ctrl_write` + `ide_perform_srst`): a DMA in flight completes
    /// first (QEMU drains it), then the drives are busy until the reset is done.
    fn begin_soft_reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        if let Some((id, work)) = self.deferred.take() {
            ctx.cancel(id);
            if work == Deferred::Dma {
                self.finish_dma(ctx);
            }
        }
        self.dma = None;
        for unit in &mut self.units {
            unit.pio = None;
            // Absent units too (QEMU sets BSY on both): their status still reads 0x00, but
            // register writes (a select included) are dropped while one is selected.
            unit.status |= status::BSY;
        }
        self.after(self.reset_latency, Deferred::Reset, ctx);
    }

    fn finish_soft_reset(&mut self) {
        for unit in &mut self.units {
            unit.reset();
        }
        // QEMU clears SRST itself once the reset is done; the selected unit stays.
        self.control &= !CTRL_SRST;
    }

    // --- register access ---

    /// Whether reads of the selected unit's registers give 0x00 (QEMU: no drive there).
    fn selected_absent(&self) -> bool {
        matches!(self.units[self.selected].drive, Drive::Absent)
    }

    fn read_register(&mut self, reg: u16, ctx: &mut DeviceCtx<'_>) -> u8 {
        let hob = self.control & CTRL_HOB != 0;
        let absent = self.selected_absent();
        let unit = &self.units[self.selected];
        match reg {
            1 if absent => 0,
            1 => {
                if hob {
                    unit.tf.read(1, true)
                } else {
                    unit.error
                }
            }
            // QEMU: an absent unit's taskfile reads back (so a register echo passes) unless
            // the channel has no drive at all.
            2..=6 if self.units.iter().all(|u| matches!(u.drive, Drive::Absent)) => 0,
            2..=5 => unit.tf.read(reg, hob),
            6 => unit.tf.select,
            _ => {
                let value = if absent { 0 } else { unit.status };
                // Reading status acknowledges the interrupt (QEMU lowers the line always).
                self.lower_irq(ctx);
                value
            }
        }
    }

    fn write_register(&mut self, reg: u16, value: u8, ctx: &mut DeviceCtx<'_>) {
        if reg == 7 {
            self.exec(value, ctx);
            return;
        }
        // Taskfile writes are ignored while the selected drive is busy or wants data.
        if self.units[self.selected].status & (status::BSY | status::DRQ) != 0 {
            return;
        }
        self.control &= !CTRL_HOB;
        if reg == 6 {
            self.units[0].tf.select = value & !DEV_SLAVE;
            self.units[1].tf.select = value | DEV_SLAVE;
            self.selected = usize::from(value & DEV_SLAVE != 0);
        } else {
            // QEMU keeps one taskfile per drive and writes both.
            for unit in &mut self.units {
                unit.tf.write(reg, value);
            }
        }
    }

    // --- bus master ---

    fn bus_master_decoded(&self) -> bool {
        self.pci.as_ref().is_none_or(PciFunction::io_space_enabled)
    }

    fn write_bus_master(&mut self, offset: u16, width: Width, value: u32, ctx: &mut DeviceCtx<'_>) {
        match self.bm.write(offset, width, value) {
            StartStop::Nothing => {}
            StartStop::Start => {
                if self.bm.status & STATUS_ACTIVE == 0 {
                    self.bm.status |= STATUS_ACTIVE;
                    self.begin_dma(ctx);
                }
            }
            StartStop::Stop => {
                // QEMU cannot cancel a transfer mid-way: it completes it, then stops. After
                // this write the device touches no memory.
                if let Some((id, Deferred::Dma)) = self.deferred {
                    ctx.cancel(id);
                    self.deferred = None;
                    self.finish_dma(ctx);
                }
                self.bm.status &= !STATUS_ACTIVE;
            }
        }
    }

    /// Starts the DMA command if the bus master is active (QEMU's first `ide_dma_cb`).
    pub(crate) fn begin_dma(&mut self, ctx: &mut DeviceCtx<'_>) {
        if self.bm.status & STATUS_ACTIVE == 0 {
            return;
        }
        let Some(job) = self.dma.as_mut().filter(|j| !j.begun) else {
            return;
        };
        job.begun = true;
        let job = *job;
        if (self.bm.command & CMD_READ != 0) == job.write {
            self.direction_mismatches += 1;
        }
        if self.pci.as_ref().is_some_and(|f| !f.bus_master_enabled()) {
            // No memory to reach: the transfer never makes progress.
            return;
        }
        let needed = u64::from(job.count) * SECTOR as u64;
        let prds = busmaster::walk_prds(ctx.memory(), self.bm.prd_table, needed);
        let short = busmaster::total(&prds) < needed;
        self.last_prds = prds;
        if short {
            // QEMU: PRDs shorter than the transfer end it with ACTIVE clear and no interrupt.
            self.dma = None;
            self.units[job.unit].status = status::DRDY | status::DSC;
            self.bm.status &= !STATUS_ACTIVE;
            return;
        }
        let in_range = self.units[job.unit]
            .disk()
            .is_some_and(|d| d.in_range(job.lba, job.count.into()));
        if !in_range {
            self.dma = None;
            self.bm.status &= !STATUS_ACTIVE;
            self.abort(job.unit, ctx);
            return;
        }
        self.after(self.dma_latency, Deferred::Dma, ctx);
    }

    /// Moves the data of the begun DMA command and completes it.
    fn finish_dma(&mut self, ctx: &mut DeviceCtx<'_>) {
        let Some(job) = self.dma.take() else { return };
        let needed = u64::from(job.count) * SECTOR as u64;
        let memory = ctx.memory().clone();
        let prds = busmaster::walk_prds(&memory, self.bm.prd_table, needed);
        let long = busmaster::total(&prds) > needed;
        self.last_prds.clone_from(&prds);
        let u = job.unit;
        let Some(disk) = self.units[u].disk() else {
            return;
        };
        if DiskFaults::take(&mut disk.faults.bus_master_errors) {
            self.bm.status = (self.bm.status | busmaster::STATUS_ERROR) & !STATUS_ACTIVE;
            self.abort(u, ctx);
            return;
        }
        let bad = disk.faults.first_bad(job.lba, job.count.into());
        let good = bad.map_or(u64::from(job.count), |(lba, _)| lba - job.lba);
        if job.write {
            let mut data = vec![0u8; usize::try_from(good).unwrap_or(0) * SECTOR];
            busmaster::gather(&memory, &prds, &mut data);
            for (i, sector) in data.chunks_exact(SECTOR).enumerate() {
                disk.write_sector(job.lba + i as u64, sector);
            }
        } else {
            let data: Vec<u8> = (job.lba..job.lba + good)
                .flat_map(|lba| disk.sector(lba))
                .collect();
            busmaster::scatter(&memory, &prds, &data);
        }
        match bad {
            Some((lba, error)) => {
                self.bm.status &= !STATUS_ACTIVE;
                self.media_error(u, lba, error, job.lba48, ctx);
            }
            None => {
                let unit = &mut self.units[u];
                unit.tf.set_lba(job.lba + u64::from(job.count), job.lba48);
                unit.tf.nsector = 0;
                unit.status = status::DRDY | status::DSC;
                self.raise_irq(u, ctx);
                if !long {
                    // QEMU: PRDs longer than the transfer leave ACTIVE set.
                    self.bm.status &= !STATUS_ACTIVE;
                }
            }
        }
    }

    // --- shared command endings ---

    /// QEMU's `ide_abort_command` + interrupt: status DRDY | ERR, error ABRT.
    pub(crate) fn abort(&mut self, u: usize, ctx: &mut DeviceCtx<'_>) {
        let unit = &mut self.units[u];
        unit.pio = None;
        unit.status = status::DRDY | status::ERR;
        unit.error = ABRT;
        self.raise_irq(u, ctx);
    }

    /// A command that completed without data: DRDY | DSC and an interrupt.
    pub(crate) fn complete(&mut self, u: usize, ctx: &mut DeviceCtx<'_>) {
        self.units[u].status = status::DRDY | status::DSC;
        self.raise_irq(u, ctx);
    }

    /// A media error at `lba`, reported as drives do.
    pub(crate) fn media_error(
        &mut self,
        u: usize,
        lba: u64,
        error: super::disk::MediaError,
        lba48: bool,
        ctx: &mut DeviceCtx<'_>,
    ) {
        let unit = &mut self.units[u];
        unit.pio = None;
        unit.tf.set_lba(lba, lba48);
        unit.status = status::DRDY | status::DSC | status::ERR;
        unit.error = error.error_bits();
        self.raise_irq(u, ctx);
    }
}

impl Device for IdeChannel {
    fn read(&mut self, at: DeviceAddr, width: Width, ctx: &mut DeviceCtx<'_>) -> u32 {
        match at.range {
            _ if self.floating && at.range < 2 => width.mask(),
            0 => match (at.offset, width) {
                (0, Width::W8) => 0xFF,
                (0, Width::W16) => self.read_data(ctx).into(),
                (0, _) => {
                    let low = u32::from(self.read_data(ctx));
                    low | u32::from(self.read_data(ctx)) << 16
                }
                // Wider accesses to byte registers split into bytes of consecutive ports.
                (reg, _) => (0..u16::from(width.bytes()))
                    .map(|i| match reg + i {
                        r @ 1..=7 => self.read_register(r, ctx),
                        _ => 0xFF,
                    })
                    .rev()
                    .fold(0, |acc, b| acc << 8 | u32::from(b)),
            },
            1 => {
                let alt = if self.selected_absent() {
                    0
                } else {
                    self.units[self.selected].status
                };
                u32::from(alt) | (width.mask() & !0xFF)
            }
            _ if !self.bus_master_decoded() => width.mask(),
            _ => self.bm.read(at.offset, width),
        }
    }

    #[allow(clippy::cast_possible_truncation)] // registers take the bytes they decode
    fn write(&mut self, at: DeviceAddr, width: Width, value: u32, ctx: &mut DeviceCtx<'_>) {
        match at.range {
            _ if self.floating && at.range < 2 => {}
            0 => match (at.offset, width) {
                (0, Width::W8) => {}
                (0, Width::W16) => self.write_data(value as u16, ctx),
                (0, _) => {
                    self.write_data(value as u16, ctx);
                    self.write_data((value >> 16) as u16, ctx);
                }
                (reg, _) => {
                    for i in 0..u16::from(width.bytes()) {
                        if let r @ 1..=7 = reg + i {
                            self.write_register(r, (value >> (8 * i)) as u8, ctx);
                        }
                    }
                }
            },
            1 => self.write_control(value as u8, ctx),
            _ if !self.bus_master_decoded() => {}
            _ => self.write_bus_master(at.offset, width, value, ctx),
        }
    }

    fn event(&mut self, _token: u64, ctx: &mut DeviceCtx<'_>) {
        let current = ctx.current_event();
        if let Some((id, work)) = self.deferred {
            if Some(id) == current {
                self.deferred = None;
                self.run(work, ctx);
            }
        }
    }

    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        self.hard_reset(ctx);
    }
}

impl DeviceHandle<IdeChannel> {
    /// Runs `f` on the disk in `unit` (to inject faults, preload or inspect its storage).
    ///
    /// # Panics
    ///
    /// If `unit` holds no disk, or `f` uses the simulation.
    pub fn with_disk<R>(&self, unit: Unit, f: impl FnOnce(&mut AtaDisk) -> R) -> R {
        self.with(|channel| {
            let disk = channel
                .disk_mut(unit)
                .unwrap_or_else(|| panic!("no disk in the {unit:?} slot"));
            f(disk)
        })
    }

    /// Sends a spurious interrupt (see [`IdeChannel::spurious_interrupt`]).
    pub fn spurious_interrupt(&self) {
        self.with_ctx(IdeChannel::spurious_interrupt);
    }

    /// Power-cycles the channel (see [`IdeChannel::power_cycle`]).
    pub fn power_cycle(&self) {
        self.with_ctx(IdeChannel::power_cycle);
    }
}
