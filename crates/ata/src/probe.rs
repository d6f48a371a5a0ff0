//! Finding the drives (presence, reset, signature, IDENTIFY) and resetting the channel.

use irqkit_hal::dma::DmaMap;
use irqkit_hal::{DelayNs, PortIo};

use crate::channel::Channel;
use crate::command::{DeviceKind, Drive, Identify, Opcode, Status, Taskfile};
use crate::drive::DriveInfo;
use crate::transport::legacy::{Answer, Legacy, CTRL_NIEN, CTRL_SRST};
use crate::wait::{poll, Spin, Wait};
use crate::{Error, Phase};

/// Silent answers in a row that make a position empty after a reset. One can be a select
/// dropped just before the reset finished (QEMU then shows the device register as 0xA0 with
/// device 1 still selected); the next select takes.
const SILENT_ANSWERS: u32 = 2;

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Channel<P, D, M, W> {
    /// Finds the drives: presence (floating bus, status, signature), soft reset (waiting until
    /// each position, selected with the device register read back, answers or shows it is
    /// empty), signature, IDENTIFY (IDENTIFY PACKET for ATAPI devices, which are reported but
    /// never used as disks), and SET MULTIPLE for disks that support it. Returns the kind of
    /// device at each position (master, slave); details via [`Channel::drive`].
    ///
    /// An empty position costs no command timeout: it is seen before IDENTIFY, or its status
    /// stays 0x00 after IDENTIFY for [`Timeouts::identify_us`](crate::Timeouts::identify_us).
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when a drive stays busy after the reset. A position with no
    /// device, or a device that does not answer IDENTIFY, is `None`, not an error.
    pub fn probe(&mut self) -> Result<[Option<DeviceKind>; 2], Error> {
        self.abandon_in_flight();
        self.drives = [None, None];
        // Nothing at all on the channel (floating, or QEMU's channel without drives): no
        // reset. Anything else, a select that did not take included, gets one. Silence is
        // asked twice, as after a reset (see SILENT_ANSWERS): a reset someone else started
        // may finish between the select and the read-back.
        let mut l = self.legacy();
        let empty = Drive::BOTH.map(|drive| {
            let device = 0xA0 | drive.device_bit();
            match l.answer(device) {
                Answer::Floating => true,
                Answer::Silent => l.answer(device) == Answer::Silent,
                Answer::NotSelected | Answer::Busy | Answer::Ready => false,
            }
        });
        if empty == [true, true] {
            return Ok([None, None]);
        }
        let present = self.soft_reset()?;
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
        // A drive that takes the command shows BSY, DRQ or ERR at once; a status left at 0x00
        // means nothing there did (QEMU ignores commands to an absent device 1).
        let nothing = self.poll_alt(self.options.timeouts.identify_us, |s| s != 0);
        if nothing.is_err() {
            return Err(Error::NoDevice { drive });
        }
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
    /// timeout; the next request then starts clean. Returns once each position answers
    /// (selected, not busy) or shows it is empty, so no command reaches a drive still
    /// resetting (QEMU finishes a reset later, in its main loop).
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] (phase [`Phase::Reset`]) when a position stays busy (or cannot be
    /// selected) for [`Timeouts::reset_us`](crate::Timeouts::reset_us).
    pub fn reset(&mut self) -> Result<(), Error> {
        self.stop_engine();
        let r = self.soft_reset();
        for drive in Drive::BOTH {
            self.apply_multiple(drive);
        }
        r.map(|_| ())
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

    /// SRST, then waits for each position to answer; returns which hold a device.
    fn soft_reset(&mut self) -> Result<[bool; 2], Error> {
        self.stats.resets += 1;
        let mut l = self.legacy();
        // Device 0 selected through the reset: writes are dropped until the reset is done
        // (QEMU finishes it late), and an absent device 1 left selected reads 0x00, which
        // looks like "not busy".
        l.select(0xA0);
        l.control(CTRL_SRST | CTRL_NIEN);
        self.delay.delay_us(5);
        self.legacy().control(CTRL_NIEN);
        self.delay.delay_ms(2);
        let mut present = [false; 2];
        for drive in Drive::BOTH {
            present[drive.index()] = self.await_answer(drive)?;
        }
        self.legacy().select(0xA0);
        Ok(present)
    }

    /// After a reset: selects `drive` until it answers (`true`) or shows it is empty
    /// (`false`): floating, or silent on [`SILENT_ANSWERS`] selects in a row.
    fn await_answer(&mut self, drive: Drive) -> Result<bool, Error> {
        let timeout = self.options.timeouts.reset_us;
        let max_step = self.options.max_poll_step_us;
        let device = 0xA0 | drive.device_bit();
        let Channel {
            io, delay, regs, ..
        } = self;
        let mut l = Legacy { io, regs: *regs };
        let mut silent = 0;
        let r = poll(delay, &mut Spin, timeout, max_step, || {
            match l.answer(device) {
                Answer::Ready => Some(true),
                Answer::Floating => Some(false),
                Answer::Silent => {
                    silent += 1;
                    (silent >= SILENT_ANSWERS).then_some(false)
                }
                Answer::NotSelected | Answer::Busy => {
                    silent = 0;
                    None
                }
            }
        });
        r.map_err(|waited_us| {
            self.stats.timeouts += 1;
            Error::Timeout {
                phase: Phase::Reset,
                waited_us,
            }
        })
    }

    /// If a non-blocking transfer was abandoned (its future forgotten), stops it and resets.
    pub(crate) fn abandon_in_flight(&mut self) {
        if self.busy {
            self.stop_engine();
            let _ = self.reset();
        }
    }
}
