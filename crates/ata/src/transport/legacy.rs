//! Taskfile register access of a legacy IDE channel.

use irqkit_hal::PortIo;

use super::ChannelRegs;
use crate::command::{AddressMode, DeviceKind, Status, Taskfile};

/// Command block offsets.
pub(crate) const DATA: u16 = 0;
pub(crate) const ERROR: u16 = 1;
pub(crate) const COUNT: u16 = 2;
pub(crate) const LBA_LOW: u16 = 3;
pub(crate) const LBA_MID: u16 = 4;
pub(crate) const LBA_HIGH: u16 = 5;
pub(crate) const DEVICE: u16 = 6;
/// Status on read (acknowledges INTRQ), command on write.
pub(crate) const STATUS: u16 = 7;

/// Device control: interrupts off.
pub(crate) const CTRL_NIEN: u8 = 0x02;
/// Device control: software reset.
pub(crate) const CTRL_SRST: u8 = 0x04;
/// Device control: read the previous (high-order) LBA48 bytes.
pub(crate) const CTRL_HOB: u8 = 0x80;

/// Reads of alternate status that make the 400 ns a drive needs after a select.
const SELECT_SETTLE_READS: usize = 5;

/// Device register: device 1 (slave) selected.
const DEV_SLAVE: u8 = 0x10;

/// What a drive position shows once selected (see [`Legacy::answer`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Status 0xFF: nothing drives the bus.
    Floating,
    /// The device register reads back the other position: the select was dropped (writes
    /// are ignored while the selected drive is busy, also during a reset the device finishes
    /// late, as QEMU does in its main loop).
    NotSelected,
    /// Selected and busy.
    Busy,
    /// Selected and not busy: a status other than 0x00, or 0x00 with an ATAPI signature (an
    /// ATAPI device after reset).
    Ready,
    /// Status 0x00 without an ATAPI signature: no device (QEMU's absent unit), or a select
    /// that did not take after all.
    Silent,
}

/// The register operations of a channel, over borrowed ports.
pub(crate) struct Legacy<'a, P> {
    pub(crate) io: &'a mut P,
    pub(crate) regs: ChannelRegs,
}

impl<P: PortIo> Legacy<'_, P> {
    fn cmd(&self, offset: u16) -> u16 {
        self.regs.command + offset
    }

    /// The status register; acknowledges a pending interrupt.
    pub(crate) fn status(&mut self) -> u8 {
        let port = self.cmd(STATUS);
        self.io.read8(port)
    }

    /// The alternate status register; leaves the interrupt pending.
    pub(crate) fn alt_status(&mut self) -> u8 {
        self.io.read8(self.regs.control)
    }

    pub(crate) fn error(&mut self) -> u8 {
        let port = self.cmd(ERROR);
        self.io.read8(port)
    }

    /// Writes device control. Always a full value: the register cannot be read back (reading
    /// this address gives alternate status), so it is never read-modify-written.
    pub(crate) fn control(&mut self, value: u8) {
        self.io.write8(self.regs.control, value);
    }

    /// Writes the device register and waits the 400 ns the drive needs to drive its status.
    pub(crate) fn select(&mut self, device: u8) -> u8 {
        let port = self.cmd(DEVICE);
        self.io.write8(port, device);
        self.settle()
    }

    /// Selects the drive with device register `device` and tells what answers there. The
    /// device register is read back because a select is silently dropped while the drive
    /// selected before is busy, and the status read would then be the other drive's.
    pub(crate) fn answer(&mut self, device: u8) -> Answer {
        self.select(device);
        let port = self.cmd(DEVICE);
        let back = self.io.read8(port);
        let status = self.alt_status();
        if status == 0xFF {
            return Answer::Floating;
        }
        // 0x00: no unit drives the register at all (QEMU's channel without drives).
        if back != 0 && back & DEV_SLAVE != device & DEV_SLAVE {
            return Answer::NotSelected;
        }
        if status & Status::BSY.bits() != 0 {
            return Answer::Busy;
        }
        // Status 0x00 is what an ATAPI device shows after a reset (no DRDY), with its
        // signature; anything else with 0x00 is nobody: QEMU's absent unit (whose other
        // registers echo what is written, 01 01 FF FF after a reset), device 0 answering for
        // an absent device 1, a bus pulled low.
        let (mid, high) = self.signature();
        if status != 0 || DeviceKind::from_signature(mid, high).is_atapi() {
            Answer::Ready
        } else {
            Answer::Silent
        }
    }

    /// Reads alternate status a few times (400 ns on any ISA-speed bus) and returns the last.
    pub(crate) fn settle(&mut self) -> u8 {
        let mut s = 0;
        for _ in 0..SELECT_SETTLE_READS {
            s = self.alt_status();
        }
        s
    }

    /// Loads a taskfile (high-order bytes first for LBA48) without the command byte.
    pub(crate) fn load(&mut self, tf: &Taskfile) {
        let regs = [ERROR, COUNT, LBA_LOW, LBA_MID, LBA_HIGH];
        if let Some(high) = tf.high_order() {
            for (r, v) in regs.iter().zip(high) {
                let port = self.cmd(*r);
                self.io.write8(port, v);
            }
        }
        for (r, v) in regs.iter().zip(tf.low_order()) {
            let port = self.cmd(*r);
            self.io.write8(port, v);
        }
        let port = self.cmd(DEVICE);
        self.io.write8(port, tf.device);
    }

    /// Writes the command register: the device starts.
    pub(crate) fn command(&mut self, command: u8) {
        let port = self.cmd(STATUS);
        self.io.write8(port, command);
    }

    /// Reads the LBA registers (the failing sector after an error). For LBA48 the high-order
    /// bytes are read with HOB set; `control` is the device control value to restore.
    pub(crate) fn read_lba(&mut self, mode: AddressMode, control: u8) -> u64 {
        let low = self.lba_bytes();
        match mode {
            AddressMode::Lba28 => {
                let dev = u64::from(self.io.read8(self.cmd(DEVICE)) & 0x0F);
                low | dev << 24
            }
            AddressMode::Lba48 => {
                self.control(control | CTRL_HOB);
                let high = self.lba_bytes();
                self.control(control);
                low | high << 24
            }
        }
    }

    fn lba_bytes(&mut self) -> u64 {
        let l = u64::from(self.io.read8(self.cmd(LBA_LOW)));
        let m = u64::from(self.io.read8(self.cmd(LBA_MID)));
        let h = u64::from(self.io.read8(self.cmd(LBA_HIGH)));
        l | m << 8 | h << 16
    }

    /// The signature registers after a reset: (LBA mid, LBA high).
    pub(crate) fn signature(&mut self) -> (u8, u8) {
        let m = self.io.read8(self.cmd(LBA_MID));
        let h = self.io.read8(self.cmd(LBA_HIGH));
        (m, h)
    }

    /// Reads one DRQ block into `buf` (whose length is even). `string` picks one string
    /// transfer per 256 words (`rep insw`) over a loop of single reads.
    pub(crate) fn read_block(&mut self, buf: &mut [u8], string: bool) {
        let port = self.cmd(DATA);
        let mut words = [0u16; 256];
        for chunk in buf.chunks_mut(512) {
            let w = &mut words[..chunk.len() / 2];
            if string {
                self.io.read16_into(port, w);
            } else {
                for x in w.iter_mut() {
                    *x = self.io.read16(port);
                }
            }
            for (b, x) in chunk.chunks_exact_mut(2).zip(w.iter()) {
                b.copy_from_slice(&x.to_le_bytes());
            }
        }
    }

    /// Writes one DRQ block from `buf` (whose length is even).
    pub(crate) fn write_block(&mut self, buf: &[u8], string: bool) {
        let port = self.cmd(DATA);
        let mut words = [0u16; 256];
        for chunk in buf.chunks(512) {
            let w = &mut words[..chunk.len() / 2];
            for (x, b) in w.iter_mut().zip(chunk.chunks_exact(2)) {
                *x = u16::from_le_bytes([b[0], b[1]]);
            }
            if string {
                self.io.write16_from(port, w);
            } else {
                for x in w.iter() {
                    self.io.write16(port, *x);
                }
            }
        }
    }
}
