//! Taskfiles: the register values of one command, and the LBA28 / LBA48 choice.

use core::fmt;

use super::Opcode;
use crate::Error;

/// Sectors LBA28 can address: the last one is `LBA28_LIMIT - 1`.
pub const LBA28_LIMIT: u64 = 1 << 28;
/// Sectors LBA48 can address.
pub const LBA48_LIMIT: u64 = 1 << 48;

/// A drive on a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Drive {
    /// Drive 0.
    Master,
    /// Drive 1.
    Slave,
}

impl Drive {
    /// Both drives, master first.
    pub const BOTH: [Drive; 2] = [Drive::Master, Drive::Slave];

    /// 0 for the master, 1 for the slave.
    pub const fn index(self) -> usize {
        match self {
            Drive::Master => 0,
            Drive::Slave => 1,
        }
    }

    /// The DEV bit (bit 4) of the device register.
    pub const fn device_bit(self) -> u8 {
        match self {
            Drive::Master => 0,
            Drive::Slave => 0x10,
        }
    }
}

impl fmt::Display for Drive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Drive::Master => "master",
            Drive::Slave => "slave",
        })
    }
}

/// Which way data moves in a read/write command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// Device to memory.
    Read,
    /// Memory to device.
    Write,
}

/// How a read/write command moves its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Protocol {
    /// READ/WRITE SECTORS: one DRQ block per sector.
    Pio,
    /// READ/WRITE MULTIPLE: one DRQ block per `SET MULTIPLE` sectors.
    PioMultiple,
    /// READ/WRITE DMA through the bus master.
    Dma,
}

/// 28-bit or 48-bit addressing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AddressMode {
    /// 28-bit LBA, up to 256 sectors per command.
    Lba28,
    /// 48-bit LBA (the EXT commands), up to 65536 sectors per command.
    Lba48,
}

impl AddressMode {
    /// Sectors one command moves at most.
    pub const fn max_count(self) -> u32 {
        match self {
            AddressMode::Lba28 => 256,
            AddressMode::Lba48 => 65536,
        }
    }

    /// The mode `count` sectors from `lba` need: LBA28 when the whole range ends at or below
    /// [`LBA28_LIMIT`] and the count fits, LBA48 otherwise. Decided by the range, never by the
    /// start alone: 8 sectors at `2^28 - 4` need LBA48.
    ///
    /// # Errors
    ///
    /// [`Error::BadSectorCount`] for a count of 0 or above 65536, [`Error::OutOfRange`] when the
    /// range ends past [`LBA48_LIMIT`].
    ///
    /// ```
    /// use irqkit_ata::command::{AddressMode, LBA28_LIMIT};
    /// assert_eq!(AddressMode::for_range(0, 256)?, AddressMode::Lba28);
    /// assert_eq!(AddressMode::for_range(0, 257)?, AddressMode::Lba48);
    /// assert_eq!(AddressMode::for_range(LBA28_LIMIT - 8, 8)?, AddressMode::Lba28);
    /// assert_eq!(AddressMode::for_range(LBA28_LIMIT - 4, 8)?, AddressMode::Lba48);
    /// # Ok::<(), irqkit_ata::Error>(())
    /// ```
    pub fn for_range(lba: u64, count: u32) -> Result<AddressMode, Error> {
        if count == 0 || count > AddressMode::Lba48.max_count() {
            return Err(Error::BadSectorCount {
                count: count.into(),
                max: AddressMode::Lba48.max_count(),
            });
        }
        let end = lba.checked_add(count.into()).filter(|&e| e <= LBA48_LIMIT);
        match end {
            None => Err(Error::OutOfRange {
                lba,
                count: count.into(),
                capacity: LBA48_LIMIT,
            }),
            Some(end) if end <= LBA28_LIMIT && count <= AddressMode::Lba28.max_count() => {
                Ok(AddressMode::Lba28)
            }
            Some(_) => Ok(AddressMode::Lba48),
        }
    }
}

/// The register values of one command.
///
/// `count` and `lba` hold the values as written: for LBA28 only the low 8 count bits and the
/// low 28 LBA bits matter (bits 24-27 of the LBA go into the device register); a count of 0
/// means 256 (LBA28) or 65536 (LBA48).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Taskfile {
    /// The command byte.
    pub command: u8,
    /// The features register (16 bits with LBA48).
    pub features: u16,
    /// The sector count register, encoded.
    pub count: u16,
    /// The LBA.
    pub lba: u64,
    /// The device register (drive select, LBA bit, LBA28 bits 24-27).
    pub device: u8,
    /// Whether the high-order bytes are written first (LBA48).
    pub mode: AddressMode,
}

/// Device register: bits 7 and 5 (obsolete, set by convention for LBA28 and non-data).
const DEVICE_OBSOLETE: u8 = 0xA0;
/// Device register: LBA addressing.
const DEVICE_LBA: u8 = 0x40;

impl Taskfile {
    /// The READ/WRITE command for `count` sectors at `lba`, in LBA28 when the range allows it.
    ///
    /// # Errors
    ///
    /// Those of [`AddressMode::for_range`], and [`Error::Unsupported`] (`NoLba48`) when the
    /// range needs LBA48 and `lba48` (the drive supports it) is false.
    ///
    /// ```
    /// use irqkit_ata::command::{AddressMode, Direction, Drive, Protocol, Taskfile};
    /// let tf = Taskfile::read_write(Direction::Read, Protocol::Dma, Drive::Slave, 0x0ABC_DEF0, 256, true)?;
    /// assert_eq!(tf.command, 0xC8); // READ DMA
    /// assert_eq!(tf.count, 0); // 256 sectors
    /// assert_eq!(tf.device, 0xE0 | 0x10 | 0x0A); // LBA, slave, LBA bits 24-27
    /// assert_eq!(tf.mode, AddressMode::Lba28);
    /// # Ok::<(), irqkit_ata::Error>(())
    /// ```
    pub fn read_write(
        dir: Direction,
        protocol: Protocol,
        drive: Drive,
        lba: u64,
        count: u32,
        lba48: bool,
    ) -> Result<Taskfile, Error> {
        let mode = AddressMode::for_range(lba, count)?;
        if mode == AddressMode::Lba48 && !lba48 {
            if count > AddressMode::Lba28.max_count() {
                return Err(Error::BadSectorCount {
                    count: count.into(),
                    max: AddressMode::Lba28.max_count(),
                });
            }
            return Err(Error::OutOfRange {
                lba,
                count: count.into(),
                capacity: LBA28_LIMIT,
            });
        }
        use Direction::{Read, Write};
        use Opcode as O;
        let opcode = match (mode, dir, protocol) {
            (AddressMode::Lba28, Read, Protocol::Pio) => O::ReadSectors,
            (AddressMode::Lba28, Read, Protocol::PioMultiple) => O::ReadMultiple,
            (AddressMode::Lba28, Read, Protocol::Dma) => O::ReadDma,
            (AddressMode::Lba28, Write, Protocol::Pio) => O::WriteSectors,
            (AddressMode::Lba28, Write, Protocol::PioMultiple) => O::WriteMultiple,
            (AddressMode::Lba28, Write, Protocol::Dma) => O::WriteDma,
            (AddressMode::Lba48, Read, Protocol::Pio) => O::ReadSectorsExt,
            (AddressMode::Lba48, Read, Protocol::PioMultiple) => O::ReadMultipleExt,
            (AddressMode::Lba48, Read, Protocol::Dma) => O::ReadDmaExt,
            (AddressMode::Lba48, Write, Protocol::Pio) => O::WriteSectorsExt,
            (AddressMode::Lba48, Write, Protocol::PioMultiple) => O::WriteMultipleExt,
            (AddressMode::Lba48, Write, Protocol::Dma) => O::WriteDmaExt,
        };
        // Truncation is the encoding: 256 -> 0 (LBA28), 65536 -> 0 (LBA48).
        let count = match mode {
            AddressMode::Lba28 => u16::from(count as u8),
            AddressMode::Lba48 => count as u16,
        };
        let device = match mode {
            AddressMode::Lba28 => {
                DEVICE_OBSOLETE | DEVICE_LBA | drive.device_bit() | ((lba >> 24) as u8 & 0x0F)
            }
            AddressMode::Lba48 => DEVICE_LBA | drive.device_bit(),
        };
        Ok(Taskfile {
            command: opcode.byte(),
            features: 0,
            count,
            lba,
            device,
            mode,
        })
    }

    /// A command without LBA or count (IDENTIFY, FLUSH CACHE, ...), in the LBA28 layout.
    pub const fn simple(opcode: Opcode, drive: Drive) -> Taskfile {
        Taskfile {
            command: opcode.byte(),
            features: 0,
            count: 0,
            lba: 0,
            device: DEVICE_OBSOLETE | DEVICE_LBA | drive.device_bit(),
            mode: AddressMode::Lba28,
        }
    }

    /// SET MULTIPLE MODE with `sectors` per DRQ block.
    pub const fn set_multiple(drive: Drive, sectors: u8) -> Taskfile {
        let mut tf = Taskfile::simple(Opcode::SetMultiple, drive);
        tf.count = sectors as u16;
        tf
    }

    /// FLUSH CACHE EXT when `ext`, FLUSH CACHE otherwise.
    pub const fn flush(drive: Drive, ext: bool) -> Taskfile {
        Taskfile::simple(
            if ext {
                Opcode::FlushCacheExt
            } else {
                Opcode::FlushCache
            },
            drive,
        )
    }

    /// The sector count this taskfile moves (decoding 0 as 256 or 65536).
    pub const fn sectors(&self) -> u32 {
        match (self.mode, self.count) {
            (AddressMode::Lba28, c) if c & 0xFF == 0 => 256,
            (AddressMode::Lba28, c) => (c & 0xFF) as u32,
            (AddressMode::Lba48, 0) => 65536,
            (AddressMode::Lba48, c) => c as u32,
        }
    }

    /// The previous-content bytes of an LBA48 command, written first: features 15:8, count
    /// 15:8, LBA 31:24, 39:32, 47:40 (in register order features, count, LBA low, mid, high).
    /// `None` for LBA28.
    pub const fn high_order(&self) -> Option<[u8; 5]> {
        match self.mode {
            AddressMode::Lba28 => None,
            AddressMode::Lba48 => Some([
                (self.features >> 8) as u8,
                (self.count >> 8) as u8,
                (self.lba >> 24) as u8,
                (self.lba >> 32) as u8,
                (self.lba >> 40) as u8,
            ]),
        }
    }

    /// The current-content bytes, in register order features, count, LBA low, mid, high.
    pub const fn low_order(&self) -> [u8; 5] {
        [
            self.features as u8,
            self.count as u8,
            self.lba as u8,
            (self.lba >> 8) as u8,
            (self.lba >> 16) as u8,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lba28_device_register_carries_bits_24_to_27() {
        let tf = Taskfile::read_write(
            Direction::Write,
            Protocol::Pio,
            Drive::Master,
            0x0F12_3456,
            1,
            false,
        )
        .unwrap();
        assert_eq!(tf.command, 0x30);
        assert_eq!(tf.device, 0xEF);
        assert_eq!(tf.low_order(), [0, 1, 0x56, 0x34, 0x12]);
        assert_eq!(tf.high_order(), None);
    }

    #[test]
    fn lba48_writes_high_order_bytes() {
        let lba = 0x0000_ABCD_1234_5678;
        let tf = Taskfile::read_write(
            Direction::Read,
            Protocol::PioMultiple,
            Drive::Slave,
            lba,
            0x0102,
            true,
        )
        .unwrap();
        assert_eq!(tf.command, 0x29);
        assert_eq!(tf.device, 0x50);
        assert_eq!(tf.high_order(), Some([0, 0x01, 0x12, 0xCD, 0xAB]));
        assert_eq!(tf.low_order(), [0, 0x02, 0x78, 0x56, 0x34]);
        assert_eq!(tf.sectors(), 0x102);
    }

    #[test]
    fn counts_encode_max_as_zero() {
        let tf = Taskfile::read_write(Direction::Read, Protocol::Dma, Drive::Master, 0, 256, true);
        assert_eq!(tf.map(|t| (t.count, t.sectors())), Ok((0, 256)));
        let tf = Taskfile::read_write(
            Direction::Read,
            Protocol::Dma,
            Drive::Master,
            0,
            65536,
            true,
        )
        .unwrap();
        assert_eq!((tf.count, tf.sectors(), tf.command), (0, 65536, 0x25));
    }

    #[test]
    fn range_not_start_decides() {
        // Starts below 2^28, ends above it.
        let tf = Taskfile::read_write(
            Direction::Read,
            Protocol::Pio,
            Drive::Master,
            LBA28_LIMIT - 1,
            2,
            true,
        )
        .unwrap();
        assert_eq!(tf.mode, AddressMode::Lba48);
        assert_eq!(tf.command, 0x24);
        let r = Taskfile::read_write(
            Direction::Read,
            Protocol::Pio,
            Drive::Master,
            LBA28_LIMIT - 1,
            2,
            false,
        );
        assert_eq!(
            r,
            Err(Error::OutOfRange {
                lba: LBA28_LIMIT - 1,
                count: 2,
                capacity: LBA28_LIMIT
            })
        );
    }

    #[test]
    fn bad_counts_and_ranges() {
        assert!(matches!(
            AddressMode::for_range(0, 0),
            Err(Error::BadSectorCount { count: 0, .. })
        ));
        assert!(matches!(
            AddressMode::for_range(0, 65537),
            Err(Error::BadSectorCount { .. })
        ));
        assert!(matches!(
            AddressMode::for_range(LBA48_LIMIT - 1, 2),
            Err(Error::OutOfRange { .. })
        ));
        assert!(matches!(
            AddressMode::for_range(u64::MAX, 1),
            Err(Error::OutOfRange { .. })
        ));
        assert_eq!(
            AddressMode::for_range(LBA48_LIMIT - 1, 1),
            Ok(AddressMode::Lba48)
        );
        assert_eq!(
            Taskfile::read_write(Direction::Read, Protocol::Pio, Drive::Master, 0, 300, false),
            Err(Error::BadSectorCount {
                count: 300,
                max: 256
            })
        );
    }

    #[test]
    fn simple_commands() {
        assert_eq!(Taskfile::flush(Drive::Slave, true).command, 0xEA);
        assert_eq!(Taskfile::flush(Drive::Master, false).command, 0xE7);
        assert_eq!(Taskfile::flush(Drive::Slave, false).device & 0x10, 0x10);
        assert_eq!(Taskfile::set_multiple(Drive::Master, 16).count, 16);
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn mode_choice_matches_model(lba in 0u64..(LBA28_LIMIT * 2), count in 1u32..=65536) {
            let mode = AddressMode::for_range(lba, count).unwrap();
            let needs48 = lba + u64::from(count) > LBA28_LIMIT || count > 256;
            prop_assert_eq!(mode == AddressMode::Lba48, needs48);
            let tf = Taskfile::read_write(Direction::Read, Protocol::Dma, Drive::Slave, lba, count, true).unwrap();
            prop_assert_eq!(tf.sectors(), count);
            // The registers reassemble to the LBA.
            let lo = tf.low_order();
            let mut back = u64::from(lo[2]) | u64::from(lo[3]) << 8 | u64::from(lo[4]) << 16;
            match tf.high_order() {
                Some(hi) => {
                    back |= u64::from(hi[2]) << 24 | u64::from(hi[3]) << 32 | u64::from(hi[4]) << 40;
                    prop_assert_eq!(tf.device, 0x50);
                }
                None => {
                    back |= u64::from(tf.device & 0x0F) << 24;
                    prop_assert_eq!(tf.device & 0xF0, 0xF0);
                }
            }
            prop_assert_eq!(back, lba);
        }
    }
}
