//! The bus-master IDE engine of one channel (SFF-8038i).

use irqkit_hal::PortIo;

/// Command register offset.
pub(crate) const COMMAND: u16 = 0;
/// Status register offset.
pub(crate) const STATUS: u16 = 2;
/// PRD table address offset (32-bit).
pub(crate) const PRD_ADDR: u16 = 4;

/// Command: start the engine.
pub(crate) const CMD_START: u8 = 0x01;
/// Command: device to memory (a READ DMA).
pub(crate) const CMD_READ: u8 = 0x08;

/// Status: the engine is moving data.
pub(crate) const ST_ACTIVE: u8 = 0x01;
/// Status: the engine hit an error (write 1 to clear).
pub(crate) const ST_ERROR: u8 = 0x02;
/// Status: the device raised its interrupt (write 1 to clear).
pub(crate) const ST_INTR: u8 = 0x04;
/// Status: drive 0 / drive 1 is set up for DMA (kept when writing).
pub(crate) const ST_DRIVE_CAPABLE: u8 = 0x60;

/// The engine registers at `base`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BusMaster {
    pub(crate) base: u16,
}

impl BusMaster {
    pub(crate) fn status(self, io: &mut impl PortIo) -> u8 {
        io.read8(self.base + STATUS)
    }

    /// Clears ERR and INTR (write-1-to-clear), keeping the drive-capable bits.
    pub(crate) fn clear(self, io: &mut impl PortIo, status: u8) {
        io.write8(
            self.base + STATUS,
            (status & ST_DRIVE_CAPABLE) | ST_ERROR | ST_INTR,
        );
    }

    /// Clears START (and leaves the direction as given): the engine stops.
    pub(crate) fn stop(self, io: &mut impl PortIo) {
        io.write8(self.base + COMMAND, 0);
    }

    /// Loads the table address and the direction with START clear.
    pub(crate) fn prepare(self, io: &mut impl PortIo, prd: u32, read: bool) {
        let dir = if read { CMD_READ } else { 0 };
        io.write8(self.base + COMMAND, dir);
        io.write32(self.base + PRD_ADDR, prd);
        let st = self.status(io);
        self.clear(io, st);
    }

    /// Sets START: the engine runs.
    pub(crate) fn start(self, io: &mut impl PortIo, read: bool) {
        let dir = if read { CMD_READ } else { 0 };
        io.write8(self.base + COMMAND, dir | CMD_START);
    }
}
