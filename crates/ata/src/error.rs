//! The driver's error type: what went wrong and where.

use core::fmt;

use crate::command::{DeviceKind, Drive};

/// Everything a driver call can fail with.
///
/// Device-reported errors carry the command byte and, where the drive reports one, the failing
/// LBA read back from the taskfile. Checks of the caller's request (range, buffer length,
/// buffer reach) happen before any register is touched, so those errors leave the channel as
/// it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// No device answers at this position (floating bus, absent slave, or never probed).
    NoDevice {
        /// The drive asked for.
        drive: Drive,
    },
    /// A bounded wait ran out. The channel has been reset; the next request starts clean.
    Timeout {
        /// What the driver was waiting for.
        phase: Phase,
        /// How long it waited, in microseconds of the wait source.
        waited_us: u32,
    },
    /// The drive set DF (device fault) in its status.
    DeviceFault {
        /// The command that failed.
        command: u8,
        /// The status register.
        status: u8,
    },
    /// The drive aborted the command (ABRT): unsupported command, bad parameter, or (QEMU) an
    /// LBA out of its range.
    Aborted {
        /// The command that failed.
        command: u8,
        /// The error register.
        error: u8,
    },
    /// Uncorrectable data (UNC): the medium could not be read at `lba`.
    Media {
        /// The command that failed.
        command: u8,
        /// The failing sector, as the drive left it in the LBA registers.
        lba: u64,
    },
    /// The sector was not found (IDNF).
    IdNotFound {
        /// The command that failed.
        command: u8,
        /// The failing sector, as the drive left it in the LBA registers.
        lba: u64,
    },
    /// A CRC error on the cable (ICRC during an Ultra DMA transfer).
    InterfaceCrc {
        /// The command that failed.
        command: u8,
        /// The sector reported in the LBA registers.
        lba: u64,
    },
    /// ERR was set with an error register this driver has no better name for.
    Device {
        /// The command that failed.
        command: u8,
        /// The status register.
        status: u8,
        /// The error register.
        error: u8,
    },
    /// The bus-master engine reported an error (bus-master status bit 1): a PCI master or
    /// target abort while reading the PRD table or the buffers.
    BusMaster {
        /// The bus-master status register.
        status: u8,
    },
    /// The bus-master engine stopped with a transfer length that does not match the command
    /// (PRD table shorter or longer than the transfer).
    DmaIncomplete {
        /// The bus-master status register.
        status: u8,
        /// The ATA status register.
        ata_status: u8,
    },
    /// The request reaches past the end of the disk or of what the address mode can reach.
    OutOfRange {
        /// First sector asked for.
        lba: u64,
        /// Number of sectors asked for.
        count: u64,
        /// Sectors the device has (or the addressing limit).
        capacity: u64,
    },
    /// A buffer whose length is zero or not a multiple of the sector size, or a request too
    /// large for one command.
    BadLength {
        /// The byte length given.
        len: usize,
        /// The logical sector size in bytes.
        sector_size: u32,
    },
    /// A sector count of zero, or more than one command can move.
    BadSectorCount {
        /// The count asked for.
        count: u64,
        /// The most one command allows in its address mode.
        max: u32,
    },
    /// A buffer whose bus address is not aligned as the DMA engine needs (PRD buffers must be
    /// word aligned, the PRD table dword aligned).
    Misaligned {
        /// The bus address.
        addr: u64,
        /// The alignment needed.
        align: u64,
    },
    /// A buffer the bus master cannot reach (bus addresses are 32-bit: below 4 GiB).
    Unreachable {
        /// The bus address.
        addr: u64,
        /// The length of the piece that is out of reach.
        len: usize,
    },
    /// The buffers map to more pieces than the PRD table has entries.
    TooManySegments {
        /// Entries available.
        max: usize,
    },
    /// The DMA mapper refused the buffer.
    NotMappable,
    /// The PRD table region cannot hold a table (too small, misaligned, above 4 GiB, or
    /// crossing a 64 KiB boundary).
    BadPrdRegion,
    /// The channel has a transfer in flight (an async or queued request has not completed).
    Busy,
    /// The operation is not possible with this device or channel.
    Unsupported(Unsupported),
}

/// What a [`Error::Timeout`] was waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Phase {
    /// A drive to answer after a soft reset (selected, BSY clear).
    Reset,
    /// BSY and DRQ to clear before selecting a drive or loading the taskfile.
    Select,
    /// DRQ (data request) during a PIO transfer.
    DataRequest,
    /// The end of a command: BSY clear after a non-data or PIO command, or the bus-master
    /// interrupt after a DMA command.
    Completion,
}

/// Why an operation is not supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Unsupported {
    /// The device is not an ATA disk (ATAPI devices are reported, never used as disks).
    NotADisk(DeviceKind),
    /// DMA needs a bus-master base, a DMA mapper and a drive that reports DMA support.
    NoDma,
    /// The request needs LBA48 addressing and the drive does not support it.
    NoLba48,
    /// The drive does not report LBA addressing (CHS-only drives are not supported).
    NoLba,
    /// Interrupt completion was asked for but no interrupt state is bound to the channel.
    NoInterrupts,
    /// The drive's logical sector size (in bytes) is not one this adapter handles.
    SectorSize(u32),
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Reset => "a drive to answer (selected, BSY clear) after reset",
            Phase::Select => "the channel to be idle before a command",
            Phase::DataRequest => "DRQ during a PIO transfer",
            Phase::Completion => "command completion",
        })
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsupported::NotADisk(kind) => write!(f, "the device is {kind}, not an ATA disk"),
            Unsupported::NoDma => f.write_str("DMA is not available on this channel or drive"),
            Unsupported::NoLba48 => f.write_str("the request needs LBA48, which the drive lacks"),
            Unsupported::NoLba => f.write_str("the drive does not support LBA addressing"),
            Unsupported::NoInterrupts => f.write_str("no interrupt state is bound to the channel"),
            Unsupported::SectorSize(n) => write!(f, "logical sectors of {n} bytes"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::NoDevice { drive } => write!(f, "no device at {drive}"),
            Error::Timeout { phase, waited_us } => {
                write!(f, "timed out after {waited_us} us waiting for {phase}")
            }
            Error::DeviceFault { command, status } => {
                write!(
                    f,
                    "device fault on command {command:#04x} (status {status:#04x})"
                )
            }
            Error::Aborted { command, error } => {
                write!(f, "command {command:#04x} aborted (error {error:#04x})")
            }
            Error::Media { command, lba } => {
                write!(
                    f,
                    "uncorrectable data at LBA {lba} (command {command:#04x})"
                )
            }
            Error::IdNotFound { command, lba } => {
                write!(f, "sector not found at LBA {lba} (command {command:#04x})")
            }
            Error::InterfaceCrc { command, lba } => {
                write!(
                    f,
                    "interface CRC error near LBA {lba} (command {command:#04x})"
                )
            }
            Error::Device {
                command,
                status,
                error,
            } => write!(
                f,
                "command {command:#04x} failed (status {status:#04x}, error {error:#04x})"
            ),
            Error::BusMaster { status } => {
                write!(f, "bus-master error (bus-master status {status:#04x})")
            }
            Error::DmaIncomplete { status, ata_status } => write!(
                f,
                "DMA ended with a length mismatch (bus-master status {status:#04x}, \
                 ATA status {ata_status:#04x})"
            ),
            Error::OutOfRange {
                lba,
                count,
                capacity,
            } => write!(
                f,
                "{count} sectors at LBA {lba} reach past the end ({capacity} sectors)"
            ),
            Error::BadLength { len, sector_size } => write!(
                f,
                "buffer of {len} bytes is empty, too large or not a multiple of {sector_size}"
            ),
            Error::BadSectorCount { count, max } => {
                write!(f, "sector count {count} is not in 1..={max}")
            }
            Error::Misaligned { addr, align } => {
                write!(f, "bus address {addr:#x} is not {align}-byte aligned")
            }
            Error::Unreachable { addr, len } => write!(
                f,
                "{len} bytes at bus address {addr:#x} are out of the bus master's reach"
            ),
            Error::TooManySegments { max } => {
                write!(f, "the buffers need more than {max} PRD entries")
            }
            Error::NotMappable => f.write_str("the DMA mapper refused the buffer"),
            Error::BadPrdRegion => f.write_str("the PRD table region is unusable"),
            Error::Busy => f.write_str("a transfer is in flight on this channel"),
            Error::Unsupported(why) => write!(f, "unsupported: {why}"),
        }
    }
}

impl core::error::Error for Error {}
