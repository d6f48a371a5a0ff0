//! Command execution and the PIO data phase, after QEMU's `ide_exec_cmd` and its handlers.

use crate::device::DeviceCtx;

use super::channel::{Deferred, DmaJob, Drive, IdeChannel, Pio, RwJob};
use super::disk::{atapi_identify_data, CommandRecord, DiskFaults, MAX_MULTIPLE, SECTOR};
use super::taskfile::{status, Signature};

/// ATA command codes the model knows.
pub mod code {
    /// READ SECTORS.
    pub const READ_SECTORS: u8 = 0x20;
    /// READ SECTORS without retry (as READ SECTORS).
    pub const READ_SECTORS_NORETRY: u8 = 0x21;
    /// READ SECTORS EXT.
    pub const READ_SECTORS_EXT: u8 = 0x24;
    /// READ NATIVE MAX ADDRESS EXT.
    pub const READ_NATIVE_MAX_EXT: u8 = 0x27;
    /// READ MULTIPLE EXT.
    pub const READ_MULTIPLE_EXT: u8 = 0x29;
    /// READ DMA EXT.
    pub const READ_DMA_EXT: u8 = 0x25;
    /// WRITE SECTORS.
    pub const WRITE_SECTORS: u8 = 0x30;
    /// WRITE SECTORS without retry (as WRITE SECTORS).
    pub const WRITE_SECTORS_NORETRY: u8 = 0x31;
    /// WRITE SECTORS EXT.
    pub const WRITE_SECTORS_EXT: u8 = 0x34;
    /// WRITE DMA EXT.
    pub const WRITE_DMA_EXT: u8 = 0x35;
    /// WRITE MULTIPLE EXT.
    pub const WRITE_MULTIPLE_EXT: u8 = 0x39;
    /// READ VERIFY SECTORS.
    pub const READ_VERIFY: u8 = 0x40;
    /// READ VERIFY SECTORS without retry.
    pub const READ_VERIFY_NORETRY: u8 = 0x41;
    /// READ VERIFY SECTORS EXT.
    pub const READ_VERIFY_EXT: u8 = 0x42;
    /// EXECUTE DEVICE DIAGNOSTIC.
    pub const EXECUTE_DIAGNOSTIC: u8 = 0x90;
    /// INITIALIZE DEVICE PARAMETERS.
    pub const INITIALIZE_PARAMETERS: u8 = 0x91;
    /// DEVICE RESET (ATAPI only).
    pub const DEVICE_RESET: u8 = 0x08;
    /// PACKET (ATAPI only).
    pub const PACKET: u8 = 0xA0;
    /// IDENTIFY PACKET DEVICE (ATAPI only).
    pub const IDENTIFY_PACKET: u8 = 0xA1;
    /// READ MULTIPLE.
    pub const READ_MULTIPLE: u8 = 0xC4;
    /// WRITE MULTIPLE.
    pub const WRITE_MULTIPLE: u8 = 0xC5;
    /// SET MULTIPLE MODE.
    pub const SET_MULTIPLE: u8 = 0xC6;
    /// READ DMA.
    pub const READ_DMA: u8 = 0xC8;
    /// READ DMA without retry.
    pub const READ_DMA_NORETRY: u8 = 0xC9;
    /// WRITE DMA.
    pub const WRITE_DMA: u8 = 0xCA;
    /// WRITE DMA without retry.
    pub const WRITE_DMA_NORETRY: u8 = 0xCB;
    /// CHECK POWER MODE.
    pub const CHECK_POWER_MODE: u8 = 0xE5;
    /// FLUSH CACHE.
    pub const FLUSH_CACHE: u8 = 0xE7;
    /// FLUSH CACHE EXT.
    pub const FLUSH_CACHE_EXT: u8 = 0xEA;
    /// IDENTIFY DEVICE.
    pub const IDENTIFY: u8 = 0xEC;
    /// SET FEATURES.
    pub const SET_FEATURES: u8 = 0xEF;
    /// READ NATIVE MAX ADDRESS.
    pub const READ_NATIVE_MAX: u8 = 0xF8;
}

use code::*;

/// Whether `cmd` takes an address and a count (for the command log), and whether it is LBA48.
fn addressing(cmd: u8) -> Option<bool> {
    match cmd {
        READ_SECTORS
        | READ_SECTORS_NORETRY
        | READ_MULTIPLE
        | WRITE_SECTORS
        | WRITE_SECTORS_NORETRY
        | WRITE_MULTIPLE
        | READ_DMA
        | READ_DMA_NORETRY
        | WRITE_DMA
        | WRITE_DMA_NORETRY
        | READ_VERIFY
        | READ_VERIFY_NORETRY => Some(false),
        READ_SECTORS_EXT | READ_MULTIPLE_EXT | WRITE_SECTORS_EXT | WRITE_MULTIPLE_EXT
        | READ_DMA_EXT | WRITE_DMA_EXT | READ_VERIFY_EXT => Some(true),
        _ => None,
    }
}

/// SET FEATURES subcommands QEMU accepts and ignores.
const IGNORED_FEATURES: [u8; 13] = [
    0xCC, 0x66, 0x44, 0xAA, 0x55, 0x05, 0x85, 0x69, 0x67, 0x96, 0x9A, 0x42, 0xC2,
];

fn sector_bytes(words: &[u16; 256]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

impl IdeChannel {
    /// A write to the command register.
    pub(crate) fn exec(&mut self, cmd: u8, ctx: &mut DeviceCtx<'_>) {
        let u = self.selected;
        let atapi = match self.units[u].drive {
            // QEMU ignores commands to an absent slave; an absent master "aborts" (its
            // registers still read 0x00) and interrupts.
            Drive::Absent if u == 1 => return,
            Drive::Absent => {
                self.abort(u, ctx);
                self.units[u].status = 0;
                self.units[u].error = 0;
                return;
            }
            Drive::Atapi => true,
            Drive::Disk(_) => false,
        };
        // Only DEVICE RESET to an ATAPI device is allowed while BSY or DRQ is set.
        if self.units[u].status & (status::BSY | status::DRQ) != 0
            && !(atapi && cmd == DEVICE_RESET)
        {
            return;
        }
        if atapi {
            self.exec_atapi(u, cmd, ctx);
            return;
        }
        let now = ctx.now();
        let unit = &mut self.units[u];
        let tf = unit.tf.clone();
        let Some(disk) = unit.disk() else { return };
        let lba48 = addressing(cmd);
        disk.log(CommandRecord {
            at: now,
            command: cmd,
            lba: lba48.map(|l| tf.lba(l)),
            count: lba48.map(|l| tf.count(l)),
            lba48: lba48 == Some(true),
        });
        let stuck = DiskFaults::take(&mut disk.faults.stuck_bsy);
        let device_fault = !stuck && DiskFaults::take(&mut disk.faults.device_faults);
        if stuck {
            unit.status = status::BSY | status::DRDY | status::DSC;
            return;
        }
        if device_fault {
            unit.status = status::DRDY | status::DF | status::ERR;
            unit.error = super::taskfile::ABRT;
            self.raise_irq(u, ctx);
            return;
        }
        unit.error = 0;
        match cmd {
            READ_SECTORS | READ_SECTORS_NORETRY => self.pio_read(u, false, false, ctx),
            READ_SECTORS_EXT => self.pio_read(u, true, false, ctx),
            READ_MULTIPLE => self.pio_read(u, false, true, ctx),
            READ_MULTIPLE_EXT => self.pio_read(u, true, true, ctx),
            WRITE_SECTORS | WRITE_SECTORS_NORETRY => self.pio_write(u, false, false, ctx),
            WRITE_SECTORS_EXT => self.pio_write(u, true, false, ctx),
            WRITE_MULTIPLE => self.pio_write(u, false, true, ctx),
            WRITE_MULTIPLE_EXT => self.pio_write(u, true, true, ctx),
            READ_DMA | READ_DMA_NORETRY => self.dma_command(u, false, false, ctx),
            READ_DMA_EXT => self.dma_command(u, false, true, ctx),
            WRITE_DMA | WRITE_DMA_NORETRY => self.dma_command(u, true, false, ctx),
            WRITE_DMA_EXT => self.dma_command(u, true, true, ctx),
            FLUSH_CACHE | FLUSH_CACHE_EXT => {
                let latency = self.command_latency;
                self.units[u].status = status::BSY | status::DRDY;
                self.after(latency, Deferred::Flush(u), ctx);
            }
            IDENTIFY => self.identify(u, ctx),
            SET_FEATURES => self.set_features(u, ctx),
            SET_MULTIPLE => self.set_multiple(u, ctx),
            READ_VERIFY | READ_VERIFY_NORETRY => self.verify(u, false, ctx),
            READ_VERIFY_EXT => self.verify(u, true, ctx),
            READ_NATIVE_MAX => self.native_max(u, false, ctx),
            READ_NATIVE_MAX_EXT => self.native_max(u, true, ctx),
            CHECK_POWER_MODE => {
                self.units[u].tf.nsector = 0xFF; // active or idle
                self.complete(u, ctx);
            }
            // Idle, standby, INITIALIZE DEVICE PARAMETERS, RECALIBRATE: nothing to do.
            0xE0..=0xE3 | INITIALIZE_PARAMETERS | 0x10..=0x1F => self.complete(u, ctx),
            EXECUTE_DIAGNOSTIC => self.diagnostic(u),
            _ => self.abort(u, ctx),
        }
    }

    fn exec_atapi(&mut self, u: usize, cmd: u8, ctx: &mut DeviceCtx<'_>) {
        let unit = &mut self.units[u];
        unit.error = 0;
        match cmd {
            IDENTIFY => {
                // QEMU: the signature, then abort, so a driver sees an ATAPI device.
                unit.tf.set_signature(Signature::Atapi);
                self.abort(u, ctx);
            }
            IDENTIFY_PACKET => {
                unit.pio = Some(Pio {
                    out: false,
                    buf: sector_bytes(&atapi_identify_data()),
                    pos: 0,
                    rw: None,
                });
                unit.status = status::DRDY | status::DSC | status::DRQ;
                self.raise_irq(u, ctx);
            }
            DEVICE_RESET => {
                unit.pio = None;
                unit.tf.set_signature(Signature::Atapi);
                unit.status = 0;
                unit.error = 0x01;
            }
            EXECUTE_DIAGNOSTIC => self.diagnostic(u),
            _ => self.abort(u, ctx),
        }
    }

    /// EXECUTE DEVICE DIAGNOSTIC as QEMU: signature, error 0x01, no interrupt.
    fn diagnostic(&mut self, u: usize) {
        let unit = &mut self.units[u];
        let atapi = matches!(unit.drive, Drive::Atapi);
        unit.tf.set_signature(if atapi {
            Signature::Atapi
        } else {
            Signature::Ata
        });
        unit.status = if atapi { 0 } else { status::DRDY | status::DSC };
        unit.error = 0x01;
    }

    /// Takes the no-DRQ fault for a data command: the drive goes ready without data.
    fn no_drq(&mut self, u: usize) -> bool {
        let unit = &mut self.units[u];
        let hit = unit
            .disk()
            .is_some_and(|d| DiskFaults::take(&mut d.faults.no_drq));
        if hit {
            unit.status = status::DRDY | status::DSC;
        }
        hit
    }

    fn identify(&mut self, u: usize, ctx: &mut DeviceCtx<'_>) {
        if self.no_drq(u) {
            return;
        }
        let unit = &mut self.units[u];
        let Some(disk) = unit.disk() else { return };
        let data = sector_bytes(&disk.identify_data());
        unit.pio = Some(Pio {
            out: false,
            buf: data,
            pos: 0,
            rw: None,
        });
        unit.status = status::DRDY | status::DSC | status::DRQ;
        self.raise_irq(u, ctx);
    }

    fn set_features(&mut self, u: usize, ctx: &mut DeviceCtx<'_>) {
        let unit = &mut self.units[u];
        let (feature, nsector) = (unit.tf.feature, unit.tf.nsector);
        let Some(disk) = unit.disk() else { return };
        match feature {
            0x02 => disk.set_write_cache(true),
            0x82 => disk.set_write_cache(false),
            0x03 => {
                let bit = 1u16 << ((nsector & 0x07) + 8);
                disk.mode_words = match nsector >> 3 {
                    0 | 1 => [0x07, 0x07, 0x3F],
                    2 => [0x07 | bit, 0x07, 0x3F],
                    4 => [0x07, 0x07 | bit, 0x3F],
                    8 => [0x07, 0x07, 0x3F | bit],
                    _ => return self.abort(u, ctx),
                };
            }
            f if IGNORED_FEATURES.contains(&f) => {}
            _ => return self.abort(u, ctx),
        }
        self.complete(u, ctx);
    }

    fn set_multiple(&mut self, u: usize, ctx: &mut DeviceCtx<'_>) {
        let unit = &mut self.units[u];
        let n = unit.tf.nsector;
        let Some(disk) = unit.disk() else { return };
        if n > MAX_MULTIPLE || n & n.wrapping_sub(1) != 0 {
            return self.abort(u, ctx);
        }
        disk.multiple = n;
        self.complete(u, ctx);
    }

    fn verify(&mut self, u: usize, lba48: bool, ctx: &mut DeviceCtx<'_>) {
        let unit = &mut self.units[u];
        let (lba, count) = (unit.tf.lba(lba48), unit.tf.count(lba48));
        let Some(disk) = unit.disk() else { return };
        if !disk.in_range(lba, count.into()) {
            return self.abort(u, ctx);
        }
        if let Some((bad, error)) = disk.faults.first_bad(lba, count.into()) {
            return self.media_error(u, bad, error, lba48, ctx);
        }
        self.complete(u, ctx);
    }

    fn native_max(&mut self, u: usize, lba48: bool, ctx: &mut DeviceCtx<'_>) {
        let unit = &mut self.units[u];
        let Some(capacity) = unit.disk().map(|d| d.capacity()) else {
            return;
        };
        if capacity == 0 {
            return self.abort(u, ctx);
        }
        unit.tf.set_lba(capacity - 1, lba48);
        self.complete(u, ctx);
    }

    /// FLUSH CACHE done: the cache is on the medium.
    pub(crate) fn finish_flush(&mut self, u: usize, ctx: &mut DeviceCtx<'_>) {
        if let Some(disk) = self.units[u].disk() {
            disk.flush();
            disk.count_flush();
        }
        self.complete(u, ctx);
    }

    fn dma_command(&mut self, u: usize, write: bool, lba48: bool, ctx: &mut DeviceCtx<'_>) {
        if self.no_drq(u) {
            return;
        }
        let unit = &mut self.units[u];
        self.dma = Some(DmaJob {
            unit: u,
            write,
            lba: unit.tf.lba(lba48),
            count: unit.tf.count(lba48),
            lba48,
            begun: false,
        });
        unit.status = status::DRDY | status::DSC | status::DRQ;
        self.begin_dma(ctx);
    }

    // --- PIO ---

    fn rw_job(&mut self, u: usize, lba48: bool, multiple: bool) -> Option<RwJob> {
        let unit = &mut self.units[u];
        let (lba, remaining) = (unit.tf.lba(lba48), unit.tf.count(lba48));
        let block = if multiple {
            u32::from(unit.disk()?.multiple)
        } else {
            1
        };
        (block != 0).then_some(RwJob {
            lba,
            remaining,
            block,
            lba48,
        })
    }

    fn pio_read(&mut self, u: usize, lba48: bool, multiple: bool, ctx: &mut DeviceCtx<'_>) {
        let Some(job) = self.rw_job(u, lba48, multiple) else {
            // READ MULTIPLE before SET MULTIPLE.
            return self.abort(u, ctx);
        };
        if self.no_drq(u) {
            return;
        }
        self.units[u].pio = Some(Pio {
            out: false,
            buf: Vec::new(),
            pos: 0,
            rw: Some(job),
        });
        self.start_read_block(u, ctx);
    }

    fn start_read_block(&mut self, u: usize, ctx: &mut DeviceCtx<'_>) {
        let latency = self.command_latency;
        if !latency.is_zero() {
            self.units[u].status = status::BSY | status::DRDY | status::DSC;
        }
        self.after(latency, Deferred::ReadBlock(u), ctx);
    }

    /// Reads the next block from the disk into the data buffer and asks for it to be taken
    /// (QEMU's `ide_sector_read` + callback): DRQ and an interrupt per block.
    pub(crate) fn load_read_block(&mut self, u: usize, ctx: &mut DeviceCtx<'_>) {
        let unit = &mut self.units[u];
        let Some(mut job) = unit.pio.as_ref().and_then(|p| p.rw) else {
            return;
        };
        let n = job.block_len();
        let Some(disk) = unit.disk() else { return };
        if !disk.in_range(job.lba, n.into()) {
            return self.abort(u, ctx);
        }
        if let Some((bad, error)) = disk.faults.first_bad(job.lba, n.into()) {
            return self.media_error(u, bad, error, job.lba48, ctx);
        }
        let buf: Vec<u8> = (job.lba..job.lba + u64::from(n))
            .flat_map(|lba| disk.sector(lba))
            .collect();
        // QEMU advances the address and count registers when the block is loaded.
        job.lba += u64::from(n);
        job.remaining -= n;
        unit.tf.set_lba(job.lba, job.lba48);
        #[allow(clippy::cast_possible_truncation)] // the register holds the low byte
        {
            unit.tf.nsector = job.remaining as u8;
        }
        unit.pio = Some(Pio {
            out: false,
            buf,
            pos: 0,
            rw: Some(job),
        });
        unit.status = status::DRDY | status::DSC | status::DRQ;
        self.raise_irq(u, ctx);
    }

    fn pio_write(&mut self, u: usize, lba48: bool, multiple: bool, ctx: &mut DeviceCtx<'_>) {
        let Some(job) = self.rw_job(u, lba48, multiple) else {
            return self.abort(u, ctx);
        };
        if self.no_drq(u) {
            return;
        }
        let unit = &mut self.units[u];
        unit.pio = Some(Pio {
            out: true,
            buf: vec![0; job.block_len() as usize * SECTOR],
            pos: 0,
            rw: Some(job),
        });
        // The first block is asked for at once, without an interrupt.
        unit.status = status::DRDY | status::DSC | status::DRQ;
    }

    /// Writes the block the host just sent (QEMU's `ide_sector_write` + callback): the range
    /// is checked per block, an interrupt follows each block.
    pub(crate) fn commit_write_block(&mut self, u: usize, ctx: &mut DeviceCtx<'_>) {
        let unit = &mut self.units[u];
        let Some(pio) = unit.pio.take() else { return };
        let Some(mut job) = pio.rw else { return };
        let n = job.block_len();
        let Some(disk) = unit.disk() else { return };
        if !disk.in_range(job.lba, n.into()) {
            return self.abort(u, ctx);
        }
        let bad = disk.faults.first_bad(job.lba, n.into());
        let good = bad.map_or(u64::from(n), |(lba, _)| lba - job.lba);
        for (i, sector) in pio.buf.chunks_exact(SECTOR).take(good as usize).enumerate() {
            disk.write_sector(job.lba + i as u64, sector);
        }
        if let Some((lba, error)) = bad {
            return self.media_error(u, lba, error, job.lba48, ctx);
        }
        job.lba += u64::from(n);
        job.remaining -= n;
        unit.tf.set_lba(job.lba, job.lba48);
        #[allow(clippy::cast_possible_truncation)] // the register holds the low byte
        {
            unit.tf.nsector = job.remaining as u8;
        }
        if job.remaining == 0 {
            unit.status = status::DRDY | status::DSC;
        } else {
            unit.pio = Some(Pio {
                out: true,
                buf: vec![0; job.block_len() as usize * SECTOR],
                pos: 0,
                rw: Some(job),
            });
            unit.status = status::DRDY | status::DSC | status::DRQ;
        }
        self.raise_irq(u, ctx);
    }

    /// A data port read: the next word while DRQ is set for a read, else 0 without advancing.
    pub(crate) fn read_data(&mut self, ctx: &mut DeviceCtx<'_>) -> u16 {
        let u = self.selected;
        let unit = &mut self.units[u];
        if unit.status & status::DRQ == 0 {
            return 0;
        }
        let Some(pio) = unit.pio.as_mut().filter(|p| !p.out) else {
            return 0;
        };
        let word = u16::from_le_bytes([pio.buf[pio.pos], pio.buf[pio.pos + 1]]);
        pio.pos += 2;
        if pio.pos >= pio.buf.len() {
            let more = pio.rw.is_some_and(|j| j.remaining > 0);
            if more {
                self.start_read_block(u, ctx);
            } else {
                unit.pio = None;
                unit.status &= !status::DRQ;
            }
        }
        word
    }

    /// A data port write: stored while DRQ is set for a write, else dropped.
    pub(crate) fn write_data(&mut self, word: u16, ctx: &mut DeviceCtx<'_>) {
        let u = self.selected;
        let unit = &mut self.units[u];
        if unit.status & status::DRQ == 0 {
            return;
        }
        let Some(pio) = unit.pio.as_mut().filter(|p| p.out) else {
            return;
        };
        pio.buf[pio.pos..pio.pos + 2].copy_from_slice(&word.to_le_bytes());
        pio.pos += 2;
        if pio.pos >= pio.buf.len() {
            unit.status = status::BSY | status::DRDY | status::DSC;
            let latency = self.command_latency;
            self.after(latency, Deferred::WriteBlock(u), ctx);
        }
    }
}
