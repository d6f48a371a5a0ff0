//! `embedded-sdmmc`'s `BlockDevice`, so a FAT volume mounts on an ATA disk.

use core::cell::RefCell;

use embedded_sdmmc::{Block, BlockCount, BlockDevice, BlockIdx};
use irqkit_hal::dma::DmaMap;
use irqkit_hal::{DelayNs, PortIo};

use super::SECTOR;
use crate::{Channel, Drive, Error, Unsupported, Wait};

/// A drive as an `embedded-sdmmc` [`BlockDevice`] (512-byte blocks).
///
/// `BlockDevice` takes `&self`, so the channel sits in a [`RefCell`]: use the adapter from
/// one context at a time (a re-entrant call fails with [`Error::Busy`]). Writes are in the
/// drive's cache when they return: call [`BlockDisk::flush`] when the volume must be
/// durable (after closing files). Disks above 2^32 blocks report 2^32 - 1 blocks (the trait
/// counts in `u32`).
///
/// ```
/// use embedded_sdmmc::BlockDevice;
/// use irqkit_ata::{BlockDisk, Channel, ChannelRegs, Drive, Error};
/// # struct Floating;
/// # impl irqkit_hal::PortIo for Floating {
/// #     fn read8(&mut self, _: u16) -> u8 { 0xFF }
/// #     fn write8(&mut self, _: u16, _: u8) {}
/// #     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
/// #     fn write16(&mut self, _: u16, _: u16) {}
/// #     fn read32(&mut self, _: u16) -> u32 { !0 }
/// #     fn write32(&mut self, _: u16, _: u32) {}
/// # }
/// # struct NoDelay;
/// # impl irqkit_hal::DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
/// let mut ch = Channel::new(Floating, NoDelay, ChannelRegs::PRIMARY);
/// ch.probe()?;
/// let disk = BlockDisk::new(ch, Drive::Master);
/// assert!(matches!(disk.num_blocks(), Err(Error::NoDevice { .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug)]
pub struct BlockDisk<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> {
    ch: RefCell<Channel<P, D, M, W>>,
    drive: Drive,
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> BlockDisk<P, D, M, W> {
    /// Wraps a probed channel; blocks are sectors of `drive`.
    pub fn new(channel: Channel<P, D, M, W>, drive: Drive) -> Self {
        BlockDisk {
            ch: RefCell::new(channel),
            drive,
        }
    }

    /// FLUSH CACHE on the drive: the durability barrier.
    ///
    /// # Errors
    ///
    /// As [`Channel::flush`], and [`Error::Busy`] on re-entrant use.
    pub fn flush(&self) -> Result<(), Error> {
        self.channel()?.flush(self.drive)
    }

    /// Gives the channel back.
    pub fn into_inner(self) -> Channel<P, D, M, W> {
        self.ch.into_inner()
    }

    fn channel(&self) -> Result<core::cell::RefMut<'_, Channel<P, D, M, W>>, Error> {
        self.ch.try_borrow_mut().map_err(|_| Error::Busy)
    }

    fn check(&self, ch: &Channel<P, D, M, W>) -> Result<(), Error> {
        let g = ch.disk(self.drive)?;
        if g.sector_size as usize != SECTOR {
            return Err(Error::Unsupported(Unsupported::SectorSize(g.sector_size)));
        }
        Ok(())
    }
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> BlockDevice for BlockDisk<P, D, M, W> {
    type Error = Error;

    fn read(&self, blocks: &mut [Block], start_block_idx: BlockIdx) -> Result<(), Error> {
        let mut ch = self.channel()?;
        self.check(&ch)?;
        for (i, block) in blocks.iter_mut().enumerate() {
            let lba = u64::from(start_block_idx.0) + i as u64;
            ch.read(self.drive, lba, &mut block.contents)?;
        }
        Ok(())
    }

    fn write(&self, blocks: &[Block], start_block_idx: BlockIdx) -> Result<(), Error> {
        let mut ch = self.channel()?;
        self.check(&ch)?;
        for (i, block) in blocks.iter().enumerate() {
            let lba = u64::from(start_block_idx.0) + i as u64;
            ch.write(self.drive, lba, &block.contents)?;
        }
        Ok(())
    }

    fn num_blocks(&self) -> Result<BlockCount, Error> {
        let ch = self.channel()?;
        self.check(&ch)?;
        let g = ch.disk(self.drive)?;
        Ok(BlockCount(u32::try_from(g.sectors).unwrap_or(u32::MAX)))
    }
}
