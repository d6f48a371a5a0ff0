//! FLUSH CACHE: the durability barrier.

use irqkit_hal::dma::DmaMap;
use irqkit_hal::{DelayNs, PortIo};

use crate::channel::Channel;
use crate::command::{Drive, Taskfile};
use crate::wait::Wait;
use crate::Error;

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Channel<P, D, M, W> {
    /// FLUSH CACHE (EXT): the durability barrier.
    ///
    /// A write that returned `Ok` has reached the drive's volatile write cache, not the
    /// medium: a power loss can still drop it. When `flush` returns `Ok`, every write that
    /// completed before the call is on the medium (the `fsync` of the disk). Flush after a
    /// batch of writes that must survive together, not after every chunk. A drive without a
    /// write cache and without FLUSH support has nothing to flush: `Ok` at once.
    ///
    /// # Errors
    ///
    /// Device errors of FLUSH CACHE (a flush that fails reports the first sector it could
    /// not write, as [`Error::Media`] / [`Error::IdNotFound`]), [`Error::Timeout`].
    pub fn flush(&mut self, drive: Drive) -> Result<(), Error> {
        self.abandon_in_flight();
        let g = self.disk(drive)?;
        if !g.write_cache && !g.flush && !g.flush_ext {
            return Ok(());
        }
        let tf = Taskfile::flush(drive, g.lba48 && g.flush_ext);
        self.non_data(&tf, self.options.timeouts.flush_us)
    }
}
