//! Bus-master DMA transfers: map the buffers, build the PRD table, run the engine, finish.
//!
//! One DMA command is four steps, shared by the blocking calls, the async [`Transfer`] and
//! the request queue: `begin` (checks, mapping, PRD table, taskfile, start), `poll_done`
//! (interrupt state or registers), `end` (verdict, sync, unmap) or `cancel` (stop, unmap,
//! reset). The engine is always stopped before a buffer is unmapped.
//!
//! [`Transfer`]: crate::Transfer

use irqkit_hal::dma::{Direction as DmaDirection, DmaError, DmaMap, Reach};
use irqkit_hal::{DelayNs, PortIo};

use crate::channel::Channel;
use crate::command::{
    Chunks, Direction, Drive, PrdTable, Protocol, Status, Taskfile, PRD_ENTRY_SIZE,
};
use crate::drive::Geometry;
use crate::irq::Recorded;
use crate::transport::busmaster::{ST_ACTIVE, ST_ERROR, ST_INTR};
use crate::wait::Wait;
use crate::{Error, Phase, Unsupported};

/// A list of buffers one command moves (readv / writev).
pub(crate) trait BufList {
    fn count(&self) -> usize;
    fn get(&self, i: usize) -> &[u8];
    /// `None` for write lists (nothing to sync back).
    fn get_mut(&mut self, i: usize) -> Option<&mut [u8]>;
}

/// The buffers of a read: filled by the device, synced back on success.
pub(crate) struct Reads<'a, 'b>(pub(crate) &'a mut [&'b mut [u8]]);

impl BufList for Reads<'_, '_> {
    fn count(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> &[u8] {
        &*self.0[i]
    }
    fn get_mut(&mut self, i: usize) -> Option<&mut [u8]> {
        Some(&mut *self.0[i])
    }
}

/// The buffers of a write: only read by the device.
pub(crate) struct Writes<'a, 'b>(pub(crate) &'a [&'b [u8]]);

impl BufList for Writes<'_, '_> {
    fn count(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> &[u8] {
        self.0[i]
    }
    fn get_mut(&mut self, _: usize) -> Option<&mut [u8]> {
        None
    }
}

/// What `begin` set up and `end` / `cancel` undo.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Started {
    pub(crate) tf: Taskfile,
    pub(crate) dir: Direction,
    /// PRD entries mapped.
    pub(crate) entries: usize,
    /// Completing by interrupt.
    pub(crate) irq: bool,
}

fn dma_dir(dir: Direction) -> DmaDirection {
    match dir {
        Direction::Read => DmaDirection::FromDevice,
        Direction::Write => DmaDirection::ToDevice,
    }
}

fn from_dma_error(e: DmaError) -> Error {
    match e {
        DmaError::Unreachable { addr, len, .. } => Error::Unreachable {
            addr: addr.get(),
            len,
        },
        DmaError::Misaligned { addr, align } => Error::Misaligned {
            addr: addr.get(),
            align,
        },
        DmaError::TooManySegments { max } => Error::TooManySegments { max },
        _ => Error::NotMappable,
    }
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Channel<P, D, M, W> {
    /// Reads `buf.len() / sector_size` sectors from `lba` by DMA, straight into `buf`. Split
    /// into commands of at most [`Options::max_dma_sectors`](crate::Options). Completes by
    /// interrupt when a [`ChannelIrq`](crate::ChannelIrq) is bound (waiting with the
    /// channel's [`Wait`] strategy), by polling otherwise.
    ///
    /// # Errors
    ///
    /// Before any register is touched: [`Error::NoDevice`], [`Error::Unsupported`] (no DMA,
    /// not a disk), [`Error::BadLength`], [`Error::OutOfRange`], and the mapping errors
    /// [`Error::Unreachable`] (above 4 GiB), [`Error::Misaligned`] (odd address),
    /// [`Error::TooManySegments`], [`Error::NotMappable`]. Then device errors (with the
    /// failing LBA), [`Error::BusMaster`], [`Error::DmaIncomplete`], [`Error::Timeout`]
    /// (after which the channel has been reset). On error `buf` holds no data: it is not
    /// synced back from the device, so it keeps what it held (a mapper with bounce buffers
    /// leaves it untouched).
    pub fn read_dma(&mut self, drive: Drive, lba: u64, buf: &mut [u8]) -> Result<(), Error> {
        let g = self.dma_disk(drive)?;
        let count = Self::check_request(&g, lba, buf.len())?;
        let max = self.max_dma(&g);
        let bytes = max as usize * g.sector_size as usize;
        let mut parts = buf.chunks_mut(bytes);
        for (l, _) in Chunks::new(lba, count.into(), max) {
            if let Some(part) = parts.next() {
                self.dma_blocking(drive, Direction::Read, l, &mut Reads(&mut [part]))?;
            }
        }
        Ok(())
    }

    /// Writes `buf` to the sectors from `lba` by DMA. The data is in the drive's write
    /// cache when this returns; see [`Channel::flush`].
    ///
    /// # Errors
    ///
    /// As [`Channel::read_dma`].
    pub fn write_dma(&mut self, drive: Drive, lba: u64, buf: &[u8]) -> Result<(), Error> {
        let g = self.dma_disk(drive)?;
        let count = Self::check_request(&g, lba, buf.len())?;
        let max = self.max_dma(&g);
        let bytes = max as usize * g.sector_size as usize;
        let mut parts = buf.chunks(bytes);
        for (l, _) in Chunks::new(lba, count.into(), max) {
            if let Some(part) = parts.next() {
                self.dma_blocking(drive, Direction::Write, l, &mut Writes(&[part]))?;
            }
        }
        Ok(())
    }

    /// Scatter read: one DMA command fills `bufs` in order from `lba` (each a non-zero
    /// multiple of the sector size; together at most one command).
    ///
    /// # Errors
    ///
    /// As [`Channel::read_dma`], and [`Error::BadSectorCount`] when the buffers add up to
    /// more than one command moves.
    pub fn readv_dma(
        &mut self,
        drive: Drive,
        lba: u64,
        bufs: &mut [&mut [u8]],
    ) -> Result<(), Error> {
        self.dma_blocking(drive, Direction::Read, lba, &mut Reads(bufs))
    }

    /// Gather write: one DMA command writes `bufs` in order from `lba`.
    ///
    /// # Errors
    ///
    /// As [`Channel::readv_dma`].
    pub fn writev_dma(&mut self, drive: Drive, lba: u64, bufs: &[&[u8]]) -> Result<(), Error> {
        self.dma_blocking(drive, Direction::Write, lba, &mut Writes(bufs))
    }

    /// Reads by DMA when the channel and drive can, by PIO otherwise. A buffer the bus
    /// master cannot use because of its address (odd, as a `[u8; 512]` on the stack may
    /// be) goes by PIO too, so any buffer works.
    ///
    /// # Errors
    ///
    /// As [`Channel::read_dma`] / [`Channel::read_pio`].
    pub fn read(&mut self, drive: Drive, lba: u64, buf: &mut [u8]) -> Result<(), Error> {
        if !self.dma_available(drive) {
            return self.read_pio(drive, lba, buf);
        }
        match self.read_dma(drive, lba, buf) {
            // Refused while mapping the first command, before any register was touched.
            Err(Error::Misaligned { .. }) => self.read_pio(drive, lba, buf),
            r => r,
        }
    }

    /// Writes by DMA when the channel and drive can, by PIO otherwise (and for a buffer at
    /// an address the bus master cannot use, as [`Channel::read`]). The data is in the
    /// drive's write cache when this returns; see [`Channel::flush`].
    ///
    /// # Errors
    ///
    /// As [`Channel::write_dma`] / [`Channel::write_pio`].
    pub fn write(&mut self, drive: Drive, lba: u64, buf: &[u8]) -> Result<(), Error> {
        if !self.dma_available(drive) {
            return self.write_pio(drive, lba, buf);
        }
        match self.write_dma(drive, lba, buf) {
            Err(Error::Misaligned { .. }) => self.write_pio(drive, lba, buf),
            r => r,
        }
    }

    /// Sectors per DMA command for split requests.
    fn max_dma(&self, g: &Geometry) -> u32 {
        self.options.max_dma_sectors.clamp(1, g.max_command)
    }

    /// The drive's numbers, if DMA is possible with it.
    pub(crate) fn dma_disk(&self, drive: Drive) -> Result<Geometry, Error> {
        let g = self.disk(drive)?;
        if self.dma.is_none() || !g.dma {
            return Err(Error::Unsupported(Unsupported::NoDma));
        }
        Ok(g)
    }

    /// One blocking DMA command over `bufs`.
    fn dma_blocking(
        &mut self,
        drive: Drive,
        dir: Direction,
        lba: u64,
        bufs: &mut dyn BufList,
    ) -> Result<(), Error> {
        self.abandon_in_flight();
        let started = self.begin(drive, dir, lba, bufs, self.irq_mode().is_some())?;
        // From here until `end`/`cancel` the engine may run: the guard stops it if the wait
        // strategy panics, before the caller's buffers go away.
        let guard = StopOnUnwind { ch: self };
        let ch = &mut *guard.ch;
        let timeout = ch.options.timeouts.command_us;
        let waited = match ch.irq_mode() {
            Some(irq) if started.irq => ch.wait_for_irq(irq, timeout, true),
            _ => {
                let max_step = ch.options.max_poll_step_us;
                let Channel {
                    io,
                    delay,
                    dma,
                    regs,
                    ..
                } = &mut *ch;
                let bm = dma.as_ref().map(|d| d.bm);
                let control = regs.control;
                crate::wait::poll(delay, &mut crate::wait::Spin, timeout, max_step, || {
                    let alt = Status::from_bits_retain(io.read8(control));
                    let idle = !alt.intersects(Status::BSY | Status::DRQ) || alt.failed();
                    let bms = bm.map_or(0, |b| b.status(io));
                    let engine_done = bms & ST_ACTIVE == 0 || bms & ST_INTR != 0;
                    // A device that ended the command with an error is done whatever the
                    // engine thinks (it aborted before or during the data phase).
                    (alt.failed() || (idle && engine_done)).then_some(())
                })
                .map(|()| ch.complete_by_registers(true))
            }
        };
        let result = match waited {
            Ok(rec) => ch.end(&started, bufs, rec),
            Err(waited_us) => {
                let why = ch.classify_timeout(waited_us);
                ch.cancel(&started, bufs);
                Err(why)
            }
        };
        core::mem::forget(guard);
        result
    }

    /// Why a DMA wait ran out: the engine stopped short of the device (PRD table shorter
    /// than the transfer) or the device never finished.
    fn classify_timeout(&mut self, waited_us: u32) -> Error {
        self.stats.timeouts += 1;
        let alt = self.legacy().alt_status();
        let bms = self.dma.as_ref().map_or(0, |d| d.bm.status(&mut self.io));
        let device_busy = alt & (Status::BSY | Status::DRQ).bits() != 0;
        // The engine and the device disagree about the length: the PRD table was shorter
        // (engine stopped, device waiting) or longer (device done, engine waiting).
        if (bms & ST_ACTIVE == 0) == device_busy {
            Error::DmaIncomplete {
                status: bms,
                ata_status: alt,
            }
        } else {
            Error::Timeout {
                phase: Phase::Completion,
                waited_us,
            }
        }
    }

    /// Checks, maps and starts one DMA command. On error nothing stays mapped and (for
    /// errors found before the taskfile) no register was touched.
    pub(crate) fn begin(
        &mut self,
        drive: Drive,
        dir: Direction,
        lba: u64,
        bufs: &mut dyn BufList,
        irq: bool,
    ) -> Result<Started, Error> {
        let g = self.dma_disk(drive)?;
        let mut len = 0usize;
        for i in 0..bufs.count() {
            let l = bufs.get(i).len();
            if l == 0 || l % g.sector_size as usize != 0 {
                return Err(Error::BadLength {
                    len: l,
                    sector_size: g.sector_size,
                });
            }
            len = len.saturating_add(l);
        }
        let count = Self::check_request(&g, lba, len)?;
        if count > g.max_command {
            return Err(Error::BadSectorCount {
                count: count.into(),
                max: g.max_command,
            });
        }
        let tf = Taskfile::read_write(dir, Protocol::Dma, drive, lba, count, g.lba48)?;
        let (entries, prd_addr) = self.map_all(dir, bufs, len as u64)?;
        let started = Started {
            tf,
            dir,
            entries,
            irq,
        };
        if let Err(e) = self.prepare(&tf, irq) {
            self.unmap_all(&started, bufs);
            return Err(e);
        }
        let read = dir == Direction::Read;
        let Some(parts) = self.dma.as_ref() else {
            return Err(Error::Unsupported(Unsupported::NoDma));
        };
        let bm = parts.bm;
        bm.prepare(&mut self.io, prd_addr, read);
        if irq {
            if let Some(i) = self.irq {
                i.arm(true);
            }
        }
        self.legacy().command(tf.command);
        bm.start(&mut self.io, read);
        Ok(started)
    }

    /// Maps the buffers, builds the PRD table from their segments and maps it. Returns the
    /// entry count and the table's bus address.
    fn map_all(
        &mut self,
        dir: Direction,
        bufs: &dyn BufList,
        total: u64,
    ) -> Result<(usize, u32), Error> {
        let Some(parts) = self.dma.as_mut() else {
            return Err(Error::Unsupported(Unsupported::NoDma));
        };
        let ddir = dma_dir(dir);
        let reach = Reach::ADDR32.with_align(2);
        let mut table = PrdTable::new(&mut *parts.prd);
        let mut mapped = 0;
        let mut failure = None;
        for i in 0..bufs.count() {
            let mut prd_error = None;
            let r = parts.map.map(bufs.get(i), ddir, reach, &mut |seg| {
                table.push(seg.addr.get(), seg.len).map_err(|e| {
                    prd_error = Some(e);
                    DmaError::NotMappable
                })
            });
            if let Err(e) = r {
                failure = Some(prd_error.unwrap_or(from_dma_error(e)));
                break;
            }
            mapped += 1;
        }
        let entries = match failure {
            None => table.finish(total),
            Some(e) => Err(e),
        };
        let entries = match entries {
            Ok(n) => n,
            Err(e) => {
                for i in 0..mapped {
                    parts.map.unmap(bufs.get(i), ddir);
                }
                return Err(e);
            }
        };
        // The table is memory the device reads: map it too (this is also the barrier that
        // makes the entries visible before the engine starts).
        let table_bytes = &parts.prd[..entries * PRD_ENTRY_SIZE];
        let mut at = None;
        let mut pieces = 0;
        let r = parts.map.map(
            table_bytes,
            DmaDirection::ToDevice,
            Reach::ADDR32.with_align(4),
            &mut |seg| {
                pieces += 1;
                at = Some(seg.addr.get());
                Ok(())
            },
        );
        let placed = match (r, at) {
            (Err(e), _) => Err(from_dma_error(e)),
            (Ok(()), Some(addr)) if pieces == 1 => {
                PrdTable::check_placement(addr, entries).map(|()| addr as u32)
            }
            (Ok(()), _) => {
                parts.map.unmap(table_bytes, DmaDirection::ToDevice);
                Err(Error::BadPrdRegion)
            }
        };
        match placed {
            Ok(addr) => Ok((entries, addr)),
            Err(e) => {
                if r.is_ok() && pieces == 1 {
                    parts.map.unmap(table_bytes, DmaDirection::ToDevice);
                }
                for i in 0..bufs.count() {
                    parts.map.unmap(bufs.get(i), ddir);
                }
                Err(e)
            }
        }
    }

    fn unmap_all(&mut self, started: &Started, bufs: &dyn BufList) {
        if let Some(parts) = self.dma.as_mut() {
            parts.map.unmap(
                &parts.prd[..started.entries * PRD_ENTRY_SIZE],
                DmaDirection::ToDevice,
            );
            for i in 0..bufs.count() {
                parts.map.unmap(bufs.get(i), dma_dir(started.dir));
            }
        }
    }

    /// The completion of a started command, if there is one yet (non-blocking).
    pub(crate) fn poll_done(&mut self, started: &Started) -> Option<Recorded> {
        match self.irq {
            Some(irq) if started.irq => irq.take(),
            _ => self
                .done_by_registers(true)
                .then(|| self.complete_by_registers(true)),
        }
    }

    /// The verdict on a completed command; syncs read buffers back on success and unmaps.
    pub(crate) fn end(
        &mut self,
        started: &Started,
        bufs: &mut dyn BufList,
        rec: Recorded,
    ) -> Result<(), Error> {
        // The engine is stopped (by the top half or complete_by_registers): make sure.
        if let Some(parts) = self.dma.as_ref() {
            let bm = parts.bm;
            bm.stop(&mut self.io);
        }
        self.busy = false;
        let st = Status::from_bits_retain(rec.ata);
        let verdict = if rec.bm & ST_ERROR != 0 {
            let e = Error::BusMaster { status: rec.bm };
            self.stop_engine();
            let _ = self.reset();
            Err(e)
        } else if st.failed() {
            Err(self.command_error(&started.tf, st))
        } else if rec.bm & ST_ACTIVE != 0 || st.intersects(Status::BSY | Status::DRQ) {
            let e = Error::DmaIncomplete {
                status: rec.bm,
                ata_status: rec.ata,
            };
            self.stop_engine();
            let _ = self.reset();
            Err(e)
        } else {
            Ok(())
        };
        if verdict.is_ok() && started.dir == Direction::Read {
            if let Some(parts) = self.dma.as_mut() {
                for i in 0..bufs.count() {
                    if let Some(b) = bufs.get_mut(i) {
                        parts.map.sync_for_cpu(b);
                    }
                }
            }
        }
        self.unmap_all(started, bufs);
        verdict
    }

    /// Stops a started command that will not be completed (timeout, dropped future): engine
    /// off, interrupt disarmed, buffers unmapped, channel reset (the drive is mid-command).
    pub(crate) fn cancel(&mut self, started: &Started, bufs: &dyn BufList) {
        self.stop_engine();
        self.unmap_all(started, bufs);
        let _ = self.reset();
    }
}

/// Stops the engine if a blocking DMA call unwinds (a panicking wait strategy) before the
/// caller's buffers are released. Forgotten on the normal path.
struct StopOnUnwind<'a, P: PortIo, D: DelayNs, M: DmaMap, W: Wait> {
    ch: &'a mut Channel<P, D, M, W>,
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Drop for StopOnUnwind<'_, P, D, M, W> {
    fn drop(&mut self) {
        self.ch.stop_engine();
        self.ch.busy = true; // the drive is mid-command: reset before the next one
    }
}
