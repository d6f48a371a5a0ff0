//! What the channel knows about a drive after probing it.

use crate::command::{AddressMode, DeviceKind, Identify};

/// A drive found by [`Channel::probe`](crate::Channel::probe).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriveInfo {
    pub(crate) kind: DeviceKind,
    pub(crate) identify: Identify,
    pub(crate) multiple: u8,
}

impl DriveInfo {
    /// What kind of device it is (from its reset signature and IDENTIFY).
    pub fn kind(&self) -> DeviceKind {
        self.kind
    }

    /// The IDENTIFY (DEVICE or PACKET DEVICE) data.
    pub fn identify(&self) -> &Identify {
        &self.identify
    }

    /// Whether this driver reads and writes it: an ATA disk with LBA addressing.
    pub fn is_disk(&self) -> bool {
        self.kind.is_disk() && self.identify.is_ata() && self.identify.supports_lba()
    }

    /// Capacity in logical sectors.
    pub fn sectors(&self) -> u64 {
        self.identify.sectors()
    }

    /// Logical sector size in bytes.
    pub fn sector_size(&self) -> u32 {
        self.identify.sector_size()
    }

    /// Sectors per DRQ block used with READ/WRITE MULTIPLE; 0 when plain READ/WRITE SECTORS
    /// are used.
    pub fn multiple(&self) -> u8 {
        self.multiple
    }

    /// Sectors one command moves at most.
    pub fn max_command_sectors(&self) -> u32 {
        if self.identify.supports_lba48() {
            AddressMode::Lba48.max_count()
        } else {
            AddressMode::Lba28.max_count()
        }
    }
}

/// The numbers a transfer needs, copied out so the channel can be borrowed again.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub(crate) sectors: u64,
    pub(crate) sector_size: u32,
    pub(crate) lba48: bool,
    pub(crate) dma: bool,
    pub(crate) multiple: u8,
    pub(crate) max_command: u32,
    pub(crate) write_cache: bool,
    pub(crate) flush: bool,
    pub(crate) flush_ext: bool,
}

impl Geometry {
    pub(crate) fn of(info: &DriveInfo) -> Geometry {
        let id = &info.identify;
        Geometry {
            sectors: id.sectors(),
            sector_size: id.sector_size(),
            lba48: id.supports_lba48(),
            dma: id.supports_dma(),
            multiple: info.multiple,
            max_command: info.max_command_sectors(),
            write_cache: id.write_cache_supported(),
            flush: id.supports_flush(),
            flush_ext: id.supports_flush_ext(),
        }
    }
}
