//! Tunables and counters of a channel.

/// How long the channel waits, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timeouts {
    /// BSY to clear after a reset (real disks spinning up take seconds). Default 31 s.
    pub reset_us: u32,
    /// The channel to go idle before a command, each DRQ block, and the end of a transfer.
    /// Default 10 s.
    pub command_us: u32,
    /// IDENTIFY at probe: how long the status may stay 0x00 after the command before the
    /// position counts as empty. A drive that is there sets BSY, DRQ or ERR at once; nothing
    /// does when no device takes the command (QEMU ignores commands to an absent device 1,
    /// real device 0 answers register reads for an absent device 1 with status 0x00), so
    /// probing does not wait [`command_us`](Self::command_us) for it. Default 100 ms.
    pub identify_us: u32,
    /// FLUSH CACHE (writing back a large cache). Default 31 s.
    pub flush_us: u32,
    /// With interrupt completion: how long a completion the bus master shows may go without
    /// its interrupt before the driver treats the interrupt as lost and completes by
    /// registers. Default 100 ms.
    pub lost_irq_us: u32,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            reset_us: 31_000_000,
            command_us: 10_000_000,
            identify_us: 100_000,
            flush_us: 31_000_000,
            lost_irq_us: 100_000,
        }
    }
}

/// Tunables of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Options {
    /// Wait limits.
    pub timeouts: Timeouts,
    /// PIO moves each sector with one string transfer (`rep insw` / `rep outsw`) instead of
    /// 256 single-word accesses. Default on.
    pub string_io: bool,
    /// PIO uses READ/WRITE MULTIPLE (after SET MULTIPLE at probe) where the drive supports
    /// it. Default on. Takes effect at the next [`Channel::probe`](crate::Channel::probe).
    pub read_multiple: bool,
    /// Sectors per DMA command for [`Channel::read_dma`](crate::Channel::read_dma) /
    /// [`Channel::write_dma`](crate::Channel::write_dma) (larger
    /// requests are split). Default 256 (128 KiB with 512-byte sectors).
    pub max_dma_sectors: u32,
    /// Commands complete by interrupt when a [`ChannelIrq`](crate::ChannelIrq) is bound (DMA and non-data
    /// commands; PIO is always polled). Default on; off polls with nIEN set.
    pub interrupts: bool,
    /// Longest step between two polls of a status register, in microseconds: polls start
    /// 1 us apart and double up to this. Smaller notices a completion sooner, larger costs
    /// fewer port reads on long waits. Default 100.
    pub max_poll_step_us: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeouts: Timeouts::default(),
            string_io: true,
            read_multiple: true,
            max_dma_sectors: 256,
            interrupts: true,
            max_poll_step_us: 100,
        }
    }
}

/// Counters of recoveries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Channel resets (after timeouts, cancelled or abandoned transfers, or asked for).
    pub resets: u32,
    /// Waits that timed out.
    pub timeouts: u32,
    /// Completions found by reading registers because their interrupt never came.
    pub lost_interrupts: u32,
}
