//! The command block registers of one drive: the LBA48 two-deep FIFOs, HOB readback, address
//! decoding (LBA28, LBA48, CHS) and the reset signature.

/// Status register bits.
pub(crate) mod status {
    /// Busy.
    pub const BSY: u8 = 0x80;
    /// Device ready.
    pub const DRDY: u8 = 0x40;
    /// Device fault.
    pub const DF: u8 = 0x20;
    /// Seek complete (QEMU sets it after most commands).
    pub const DSC: u8 = 0x10;
    /// Data request.
    pub const DRQ: u8 = 0x08;
    /// Error.
    pub const ERR: u8 = 0x01;
}

/// Error register: command aborted.
pub(crate) const ABRT: u8 = 0x04;

/// Device register: LBA addressing.
pub(crate) const DEV_LBA: u8 = 0x40;
/// Device register: device 1 (slave) selected.
pub(crate) const DEV_SLAVE: u8 = 0x10;

/// The CHS geometry the model reports (and decodes CHS addresses with): 16 heads, 63 sectors
/// per track, as QEMU guesses for disks of more than 504 MiB.
pub(crate) const HEADS: u64 = 16;
pub(crate) const SECTORS_PER_TRACK: u64 = 63;

/// What a drive answers with after a reset (sector count, LBA low/mid/high).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signature {
    Ata,
    Atapi,
    /// QEMU's signature of a unit without a drive.
    Nothing,
}

/// Registers 1..=6 of one drive, with the previous ("HOB") value of each FIFO.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Taskfile {
    pub(crate) feature: u8,
    pub(crate) nsector: u8,
    pub(crate) sector: u8,
    pub(crate) lcyl: u8,
    pub(crate) hcyl: u8,
    pub(crate) hob_feature: u8,
    pub(crate) hob_nsector: u8,
    pub(crate) hob_sector: u8,
    pub(crate) hob_lcyl: u8,
    pub(crate) hob_hcyl: u8,
    pub(crate) select: u8,
}

impl Taskfile {
    /// Writes register `reg` (1 features .. 5 LBA high): the old value moves to the HOB slot.
    pub(crate) fn write(&mut self, reg: u16, value: u8) {
        let (cur, hob) = match reg {
            1 => (&mut self.feature, &mut self.hob_feature),
            2 => (&mut self.nsector, &mut self.hob_nsector),
            3 => (&mut self.sector, &mut self.hob_sector),
            4 => (&mut self.lcyl, &mut self.hob_lcyl),
            5 => (&mut self.hcyl, &mut self.hob_hcyl),
            _ => return,
        };
        *hob = *cur;
        *cur = value;
    }

    /// Reads register `reg` (2 sector count .. 5 LBA high; 1 gives the HOB feature only, the
    /// error register being the caller's); `hob` selects the previous values.
    pub(crate) fn read(&self, reg: u16, hob: bool) -> u8 {
        match (reg, hob) {
            (1, _) => self.hob_feature,
            (2, false) => self.nsector,
            (2, true) => self.hob_nsector,
            (3, false) => self.sector,
            (3, true) => self.hob_sector,
            (4, false) => self.lcyl,
            (4, true) => self.hob_lcyl,
            (5, false) => self.hcyl,
            (5, true) => self.hob_hcyl,
            _ => 0,
        }
    }

    /// The sector count of a command: LBA28 0 means 256, LBA48 0 means 65536.
    pub(crate) fn count(&self, lba48: bool) -> u32 {
        if lba48 {
            match u32::from(self.hob_nsector) << 8 | u32::from(self.nsector) {
                0 => 65536,
                n => n,
            }
        } else {
            match self.nsector {
                0 => 256,
                n => u32::from(n),
            }
        }
    }

    /// The address of a command: LBA48 from both FIFO levels, LBA28 with bits 24..=27 in the
    /// device register, or CHS when the device register's LBA bit is clear.
    pub(crate) fn lba(&self, lba48: bool) -> u64 {
        let b = |v: u8, shift: u32| u64::from(v) << shift;
        if self.select & DEV_LBA == 0 {
            let cylinder = b(self.hcyl, 8) | b(self.lcyl, 0);
            let head = u64::from(self.select & 0x0F);
            // Sector numbers count from 1; QEMU takes sector 0 as the one before (and at
            // 0/0/0 the address wraps to one that fails the range check).
            return ((cylinder * HEADS + head) * SECTORS_PER_TRACK)
                .wrapping_add(u64::from(self.sector).wrapping_sub(1));
        }
        if lba48 {
            b(self.hob_hcyl, 40)
                | b(self.hob_lcyl, 32)
                | b(self.hob_sector, 24)
                | b(self.hcyl, 16)
                | b(self.lcyl, 8)
                | b(self.sector, 0)
        } else {
            b(self.select & 0x0F, 24) | b(self.hcyl, 16) | b(self.lcyl, 8) | b(self.sector, 0)
        }
    }

    /// Stores `lba` back the way the address was given (what the drive reports after a
    /// transfer or at an error).
    #[allow(clippy::cast_possible_truncation)] // byte extraction
    pub(crate) fn set_lba(&mut self, lba: u64, lba48: bool) {
        if self.select & DEV_LBA == 0 {
            let sector = lba % SECTORS_PER_TRACK;
            let track = lba / SECTORS_PER_TRACK;
            let cylinder = track / HEADS;
            self.select = (self.select & 0xF0) | (track % HEADS) as u8;
            self.sector = sector as u8 + 1;
            self.lcyl = cylinder as u8;
            self.hcyl = (cylinder >> 8) as u8;
            return;
        }
        self.sector = lba as u8;
        self.lcyl = (lba >> 8) as u8;
        self.hcyl = (lba >> 16) as u8;
        if lba48 {
            self.hob_sector = (lba >> 24) as u8;
            self.hob_lcyl = (lba >> 32) as u8;
            self.hob_hcyl = (lba >> 40) as u8;
        } else {
            self.select = (self.select & 0xF0) | ((lba >> 24) as u8 & 0x0F);
        }
    }

    /// Puts the reset signature in place (QEMU's `ide_set_signature`: the head bits clear).
    pub(crate) fn set_signature(&mut self, signature: Signature) {
        self.select &= !0x0F;
        self.nsector = 1;
        self.sector = 1;
        (self.lcyl, self.hcyl) = match signature {
            Signature::Ata => (0x00, 0x00),
            Signature::Atapi => (0x14, 0xEB),
            Signature::Nothing => (0xFF, 0xFF),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_shift_and_lba48_decodes_both_levels() {
        let mut tf = Taskfile {
            select: DEV_LBA,
            ..Taskfile::default()
        };
        for (reg, high, low) in [
            (2, 0x01, 0x02),
            (3, 0x44, 0x11),
            (4, 0x55, 0x22),
            (5, 0x66, 0x33),
        ] {
            tf.write(reg, high);
            tf.write(reg, low);
        }
        assert_eq!(tf.lba(true), 0x6655_4433_2211);
        assert_eq!(tf.count(true), 0x0102);
        assert_eq!((tf.read(3, false), tf.read(3, true)), (0x11, 0x44));
        tf.set_lba(0x1234_5678_9ABC, true);
        assert_eq!(tf.lba(true), 0x1234_5678_9ABC);
    }

    #[test]
    fn lba28_uses_device_bits_and_zero_counts_are_maximal() {
        let mut tf = Taskfile {
            select: 0xE5,
            sector: 0x44,
            lcyl: 0x33,
            hcyl: 0x22,
            ..Taskfile::default()
        };
        assert_eq!(tf.lba(false), 0x0522_3344);
        assert_eq!(tf.count(false), 256);
        assert_eq!(tf.count(true), 65536);
        tf.set_lba(0x0FFF_FFFF, false);
        assert_eq!((tf.select, tf.lba(false)), (0xEF, 0x0FFF_FFFF));
    }

    #[test]
    fn chs_round_trips_and_sector_zero_is_the_one_before() {
        let mut tf = Taskfile {
            select: 0xA0,
            ..Taskfile::default()
        };
        tf.set_lba(100_000, false);
        assert_eq!(tf.lba(false), 100_000);
        tf.sector = 1;
        let track_start = tf.lba(false);
        tf.sector = 0;
        assert_eq!(tf.lba(false), track_start - 1);
        tf.set_lba(0, false);
        tf.sector = 0;
        assert!(tf.lba(false) > 1 << 48);
    }

    #[test]
    fn signatures() {
        let mut tf = Taskfile {
            select: 0xBF,
            ..Taskfile::default()
        };
        tf.set_signature(Signature::Atapi);
        assert_eq!(
            (tf.nsector, tf.sector, tf.lcyl, tf.hcyl, tf.select),
            (1, 1, 0x14, 0xEB, 0xB0)
        );
        tf.set_signature(Signature::Ata);
        assert_eq!((tf.lcyl, tf.hcyl), (0, 0));
    }
}
