//! PIO transfers: the CPU moves every word through the data port.

use irqkit_hal::dma::DmaMap;
use irqkit_hal::{DelayNs, PortIo};

use crate::channel::Channel;
use crate::command::{Chunks, Direction, Drive, Protocol, Taskfile};
use crate::drive::Geometry;
use crate::wait::Wait;
use crate::Error;

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Channel<P, D, M, W> {
    /// Reads `buf.len() / sector_size` sectors from `lba` by PIO (READ MULTIPLE after SET
    /// MULTIPLE when the drive allows it, READ SECTORS otherwise), polling with interrupts
    /// off. Requests larger than one command are split.
    ///
    /// # Errors
    ///
    /// Before any register is touched: [`Error::NoDevice`], [`Error::Unsupported`] (not a
    /// disk), [`Error::BadLength`], [`Error::OutOfRange`]. Then device errors (with the failing
    /// LBA) and [`Error::Timeout`] (after which the channel has been reset). On error the
    /// contents of `buf` are unspecified: never use them as data.
    pub fn read_pio(&mut self, drive: Drive, lba: u64, buf: &mut [u8]) -> Result<(), Error> {
        let g = self.disk(drive)?;
        let count = Self::check_request(&g, lba, buf.len())?;
        self.abandon_in_flight();
        let ss = g.sector_size as usize;
        let mut parts = buf.chunks_mut(ss * g.max_command as usize);
        for (l, n) in Chunks::new(lba, count.into(), g.max_command) {
            let part = parts.next().ok_or(Error::BadLength {
                len: 0,
                sector_size: g.sector_size,
            })?;
            self.pio_read_command(&g, drive, l, n, part)?;
        }
        Ok(())
    }

    /// Writes `buf` to the sectors from `lba` by PIO (WRITE MULTIPLE / WRITE SECTORS).
    ///
    /// The data is in the drive's write cache when this returns; see [`Channel::flush`].
    ///
    /// # Errors
    ///
    /// As [`Channel::read_pio`].
    pub fn write_pio(&mut self, drive: Drive, lba: u64, buf: &[u8]) -> Result<(), Error> {
        let g = self.disk(drive)?;
        let count = Self::check_request(&g, lba, buf.len())?;
        self.abandon_in_flight();
        let ss = g.sector_size as usize;
        let mut parts = buf.chunks(ss * g.max_command as usize);
        for (l, n) in Chunks::new(lba, count.into(), g.max_command) {
            let part = parts.next().ok_or(Error::BadLength {
                len: 0,
                sector_size: g.sector_size,
            })?;
            self.pio_write_command(&g, drive, l, n, part)?;
        }
        Ok(())
    }

    /// The protocol and DRQ block size in bytes for PIO on this drive.
    fn pio_protocol(g: &Geometry) -> (Protocol, usize) {
        if g.multiple > 1 {
            (
                Protocol::PioMultiple,
                g.multiple as usize * g.sector_size as usize,
            )
        } else {
            (Protocol::Pio, g.sector_size as usize)
        }
    }

    fn pio_read_command(
        &mut self,
        g: &Geometry,
        drive: Drive,
        lba: u64,
        count: u32,
        buf: &mut [u8],
    ) -> Result<(), Error> {
        let (protocol, block) = Self::pio_protocol(g);
        let tf = Taskfile::read_write(Direction::Read, protocol, drive, lba, count, g.lba48)?;
        self.prepare(&tf, false)?;
        self.legacy().command(tf.command);
        let string = self.options.string_io;
        for chunk in buf.chunks_mut(block) {
            // Never read the data port without DRQ: the data would be stale.
            self.wait_data_request(&tf)?;
            self.legacy().read_block(chunk, string);
        }
        self.finish_polled(&tf)
    }

    fn pio_write_command(
        &mut self,
        g: &Geometry,
        drive: Drive,
        lba: u64,
        count: u32,
        buf: &[u8],
    ) -> Result<(), Error> {
        let (protocol, block) = Self::pio_protocol(g);
        let tf = Taskfile::read_write(Direction::Write, protocol, drive, lba, count, g.lba48)?;
        self.prepare(&tf, false)?;
        self.legacy().command(tf.command);
        let string = self.options.string_io;
        for chunk in buf.chunks(block) {
            self.wait_data_request(&tf)?;
            self.legacy().write_block(chunk, string);
        }
        self.finish_polled(&tf)
    }
}
