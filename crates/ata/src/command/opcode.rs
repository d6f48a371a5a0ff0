//! Command bytes.

/// The ATA commands this driver issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
#[non_exhaustive]
pub enum Opcode {
    /// READ SECTORS (PIO, LBA28).
    ReadSectors = 0x20,
    /// READ SECTORS EXT (PIO, LBA48).
    ReadSectorsExt = 0x24,
    /// READ DMA EXT (LBA48).
    ReadDmaExt = 0x25,
    /// READ MULTIPLE EXT (PIO, one DRQ block of several sectors, LBA48).
    ReadMultipleExt = 0x29,
    /// WRITE SECTORS (PIO, LBA28).
    WriteSectors = 0x30,
    /// WRITE SECTORS EXT (PIO, LBA48).
    WriteSectorsExt = 0x34,
    /// WRITE DMA EXT (LBA48).
    WriteDmaExt = 0x35,
    /// WRITE MULTIPLE EXT (PIO, LBA48).
    WriteMultipleExt = 0x39,
    /// IDENTIFY PACKET DEVICE (ATAPI).
    IdentifyPacket = 0xA1,
    /// READ MULTIPLE (PIO, LBA28).
    ReadMultiple = 0xC4,
    /// WRITE MULTIPLE (PIO, LBA28).
    WriteMultiple = 0xC5,
    /// SET MULTIPLE MODE: sectors per DRQ block for READ/WRITE MULTIPLE.
    SetMultiple = 0xC6,
    /// READ DMA (LBA28).
    ReadDma = 0xC8,
    /// WRITE DMA (LBA28).
    WriteDma = 0xCA,
    /// FLUSH CACHE.
    FlushCache = 0xE7,
    /// FLUSH CACHE EXT.
    FlushCacheExt = 0xEA,
    /// IDENTIFY DEVICE.
    Identify = 0xEC,
    /// SET FEATURES.
    SetFeatures = 0xEF,
}

impl Opcode {
    /// The byte written to the command register.
    pub const fn byte(self) -> u8 {
        self as u8
    }
}
