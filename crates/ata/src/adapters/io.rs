//! `embedded-io` `Read` / `Write` / `Seek` over a disk's bytes.

use embedded_io::{ErrorKind, ErrorType, Read, Seek, SeekFrom, Write};
use irqkit_hal::dma::DmaMap;
use irqkit_hal::{DelayNs, PortIo};

use super::{Aligned, SECTOR};
use crate::{Channel, Drive, Error, Unsupported, Wait};

impl embedded_io::Error for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::NoDevice { .. } => ErrorKind::NotFound,
            Error::Timeout { .. } => ErrorKind::TimedOut,
            Error::OutOfRange { .. }
            | Error::BadLength { .. }
            | Error::BadSectorCount { .. }
            | Error::Misaligned { .. }
            | Error::Unreachable { .. } => ErrorKind::InvalidInput,
            Error::Unsupported(_) => ErrorKind::Unsupported,
            Error::Busy => ErrorKind::Interrupted,
            _ => ErrorKind::Other,
        }
    }
}

/// A drive as a byte stream: [`Read`], [`Write`] and [`Seek`] over byte offsets, for
/// `no_std` file-system crates that speak `embedded-io` (fatfs-style).
///
/// Whole aligned sectors go straight between the caller's buffer and the disk (DMA when
/// available); a partial sector is read, patched and written back (read-modify-write).
/// [`Write::flush`] is FLUSH CACHE: the durability barrier. Reading at or past the end
/// returns `Ok(0)`; writing past the end is [`Error::OutOfRange`]. Logical sectors must be
/// 512 bytes.
///
/// ```
/// use embedded_io::{Read, Seek, SeekFrom};
/// use irqkit_ata::{ByteDisk, Channel, ChannelRegs, Drive, Error};
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
/// // Nothing on a floating bus:
/// assert!(matches!(ByteDisk::new(&mut ch, Drive::Master), Err(Error::NoDevice { .. })));
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug)]
pub struct ByteDisk<'c, P: PortIo, D: DelayNs, M: DmaMap, W: Wait> {
    ch: &'c mut Channel<P, D, M, W>,
    drive: Drive,
    pos: u64,
    len: u64,
    scratch: Aligned,
}

impl<'c, P: PortIo, D: DelayNs, M: DmaMap, W: Wait> ByteDisk<'c, P, D, M, W> {
    /// A stream over `drive` (probed), at offset 0.
    ///
    /// # Errors
    ///
    /// [`Error::NoDevice`], [`Error::Unsupported`] (not a disk, or logical sectors other than
    /// 512 bytes).
    pub fn new(ch: &'c mut Channel<P, D, M, W>, drive: Drive) -> Result<Self, Error> {
        let g = ch.disk(drive)?;
        if g.sector_size as usize != SECTOR {
            return Err(Error::Unsupported(Unsupported::SectorSize(g.sector_size)));
        }
        Ok(ByteDisk {
            ch,
            drive,
            pos: 0,
            len: g.sectors * SECTOR as u64,
            scratch: Aligned([0; SECTOR]),
        })
    }

    /// The disk's size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the disk has no sectors.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The current offset.
    pub fn position(&self) -> u64 {
        self.pos
    }
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> ErrorType for ByteDisk<'_, P, D, M, W> {
    type Error = Error;
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Read for ByteDisk<'_, P, D, M, W> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if buf.is_empty() || self.pos >= self.len {
            return Ok(0);
        }
        let avail = usize::try_from(self.len - self.pos).unwrap_or(usize::MAX);
        let want = buf.len().min(avail);
        let lba = self.pos / SECTOR as u64;
        let offset = (self.pos % SECTOR as u64) as usize;
        let n = if offset == 0 && want >= SECTOR {
            let whole = want - want % SECTOR;
            self.ch.read(self.drive, lba, &mut buf[..whole])?;
            whole
        } else {
            self.ch.read(self.drive, lba, &mut self.scratch.0)?;
            let n = want.min(SECTOR - offset);
            buf[..n].copy_from_slice(&self.scratch.0[offset..offset + n]);
            n
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Write for ByteDisk<'_, P, D, M, W> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Error> {
        if buf.is_empty() {
            return Ok(0);
        }
        let lba = self.pos / SECTOR as u64;
        if self.pos >= self.len {
            return Err(Error::OutOfRange {
                lba,
                count: 1,
                capacity: self.len / SECTOR as u64,
            });
        }
        let avail = usize::try_from(self.len - self.pos).unwrap_or(usize::MAX);
        let want = buf.len().min(avail);
        let offset = (self.pos % SECTOR as u64) as usize;
        let n = if offset == 0 && want >= SECTOR {
            let whole = want - want % SECTOR;
            self.ch.write(self.drive, lba, &buf[..whole])?;
            whole
        } else {
            let n = want.min(SECTOR - offset);
            self.ch.read(self.drive, lba, &mut self.scratch.0)?;
            self.scratch.0[offset..offset + n].copy_from_slice(&buf[..n]);
            self.ch.write(self.drive, lba, &self.scratch.0)?;
            n
        };
        self.pos += n as u64;
        Ok(n)
    }

    /// FLUSH CACHE: everything written before is on the medium when this returns `Ok`.
    fn flush(&mut self) -> Result<(), Error> {
        self.ch.flush(self.drive)
    }
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Seek for ByteDisk<'_, P, D, M, W> {
    fn seek(&mut self, pos: SeekFrom) -> Result<u64, Error> {
        let target = match pos {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or(Error::OutOfRange {
            lba: self.pos / SECTOR as u64,
            count: 0,
            capacity: self.len / SECTOR as u64,
        })?;
        self.pos = target;
        Ok(target)
    }
}
