//! Adapters to the block and byte traits other crates expect (behind features).

#[cfg(feature = "embedded-io")]
mod io;
#[cfg(feature = "embedded-sdmmc")]
mod sdmmc;

#[cfg(feature = "embedded-io")]
pub use io::ByteDisk;
#[cfg(feature = "embedded-sdmmc")]
pub use sdmmc::BlockDisk;

use irqkit_hal::dma::DmaMap;
use irqkit_hal::{DelayNs, PortIo};

use crate::{Channel, Drive, Error, Wait};

/// The sector size the adapters work in.
pub(crate) const SECTOR: usize = 512;

/// A sector buffer the DMA engine can always use (PRD addresses must be even).
#[repr(C, align(4))]
pub(crate) struct Aligned(pub(crate) [u8; SECTOR]);

impl core::fmt::Debug for Aligned {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Aligned(..)")
    }
}

/// Reads sectors into `buf` of any alignment: directly when the engine can reach it,
/// sector by sector through an aligned bounce buffer when its address is odd.
pub(crate) fn read_any<P: PortIo, D: DelayNs, M: DmaMap, W: Wait>(
    ch: &mut Channel<P, D, M, W>,
    drive: Drive,
    lba: u64,
    buf: &mut [u8],
) -> Result<(), Error> {
    match ch.read(drive, lba, buf) {
        Err(Error::Misaligned { .. }) => {
            let mut bounce = Aligned([0; SECTOR]);
            for (i, chunk) in buf.chunks_mut(SECTOR).enumerate() {
                ch.read(drive, lba + i as u64, &mut bounce.0)?;
                chunk.copy_from_slice(&bounce.0[..chunk.len()]);
            }
            Ok(())
        }
        r => r,
    }
}

/// Writes sectors from `buf` of any alignment (see [`read_any`]).
pub(crate) fn write_any<P: PortIo, D: DelayNs, M: DmaMap, W: Wait>(
    ch: &mut Channel<P, D, M, W>,
    drive: Drive,
    lba: u64,
    buf: &[u8],
) -> Result<(), Error> {
    match ch.write(drive, lba, buf) {
        Err(Error::Misaligned { .. }) => {
            let mut bounce = Aligned([0; SECTOR]);
            for (i, chunk) in buf.chunks(SECTOR).enumerate() {
                bounce.0[..chunk.len()].copy_from_slice(chunk);
                ch.write(drive, lba + i as u64, &bounce.0)?;
            }
            Ok(())
        }
        r => r,
    }
}
