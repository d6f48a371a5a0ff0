//! The command sequencing every transfer shares: select and load, bounded waits, the
//! verdict on a status, interrupt waits with lost-interrupt recovery.

use irqkit_hal::dma::DmaMap;
use irqkit_hal::{DelayNs, PortIo};

use crate::channel::Channel;
use crate::command::{decode_error, Drive, ErrorBits, Status, Taskfile};
use crate::drive::Geometry;
use crate::irq::{ChannelIrq, Recorded};
use crate::transport::legacy::Legacy;
use crate::wait::{poll, Spin, Wait};
use crate::{Error, Phase, Unsupported};

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Channel<P, D, M, W> {
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
}
