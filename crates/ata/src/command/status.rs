//! Status and error registers, and what a failed command means.

use crate::Error;

bitflags::bitflags! {
    /// The status register (or alternate status).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Status: u8 {
        /// Busy: no other bit is valid while set.
        const BSY = 0x80;
        /// Device ready.
        const DRDY = 0x40;
        /// Device fault.
        const DF = 0x20;
        /// Seek complete / service (obsolete).
        const DSC = 0x10;
        /// Data request: the data port is ready for a block.
        const DRQ = 0x08;
        /// Corrected data (obsolete).
        const CORR = 0x04;
        /// Index (obsolete).
        const IDX = 0x02;
        /// The command failed; the error register says why.
        const ERR = 0x01;
    }
}

bitflags::bitflags! {
    /// The error register, valid when [`Status::ERR`] is set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct ErrorBits: u8 {
        /// Interface CRC error (bad block on very old drives).
        const ICRC = 0x80;
        /// Uncorrectable data error.
        const UNC = 0x40;
        /// Media changed (removable media).
        const MC = 0x20;
        /// ID (sector) not found.
        const IDNF = 0x10;
        /// Media change request.
        const MCR = 0x08;
        /// Command aborted.
        const ABRT = 0x04;
        /// Track 0 not found / no media.
        const TK0NF = 0x02;
        /// Address mark not found.
        const AMNF = 0x01;
    }
}

impl Status {
    /// Whether the command has ended with an error (ERR or DF, and not BSY).
    pub const fn failed(self) -> bool {
        !self.contains(Status::BSY) && self.intersects(Status::ERR.union(Status::DF))
    }

    /// The values a channel with nothing attached reads: 0xFF on a floating bus, 0x00 in
    /// QEMU for an absent drive.
    pub const fn is_floating(raw: u8) -> bool {
        raw == 0xFF || raw == 0x00
    }
}

/// The error a failed command reports, from its status and error registers.
///
/// `lba` is the sector the drive left in the LBA registers (read back only when the error
/// names a sector: UNC, IDNF, ICRC); callers pass the start LBA of the command when they
/// cannot read it back. Precedence: DF, then ICRC, UNC, IDNF, ABRT (an aborted command with
/// ICRC is a cable error, not an unsupported command).
///
/// ```
/// use irqkit_ata::command::{decode_error, ErrorBits, Status};
/// use irqkit_ata::Error;
/// let e = decode_error(0xC8, Status::DRDY | Status::ERR, ErrorBits::UNC, 1234);
/// assert_eq!(e, Error::Media { command: 0xC8, lba: 1234 });
/// ```
pub fn decode_error(command: u8, status: Status, error: ErrorBits, lba: u64) -> Error {
    if status.contains(Status::DF) {
        return Error::DeviceFault {
            command,
            status: status.bits(),
        };
    }
    if error.contains(ErrorBits::ICRC) {
        Error::InterfaceCrc { command, lba }
    } else if error.contains(ErrorBits::UNC) {
        Error::Media { command, lba }
    } else if error.contains(ErrorBits::IDNF) {
        Error::IdNotFound { command, lba }
    } else if error.contains(ErrorBits::ABRT) {
        Error::Aborted {
            command,
            error: error.bits(),
        }
    } else {
        Error::Device {
            command,
            status: status.bits(),
            error: error.bits(),
        }
    }
}

/// Whether an error names a sector, so the LBA registers are worth reading back.
pub(crate) const fn names_sector(error: ErrorBits) -> bool {
    error.intersects(ErrorBits::ICRC.union(ErrorBits::UNC).union(ErrorBits::IDNF))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let s = Status::DRDY | Status::ERR;
        assert!(matches!(
            decode_error(0x25, s | Status::DF, ErrorBits::UNC, 1),
            Error::DeviceFault { status: 0x61, .. }
        ));
        assert_eq!(
            decode_error(0x25, s, ErrorBits::ICRC | ErrorBits::ABRT, 7),
            Error::InterfaceCrc {
                command: 0x25,
                lba: 7
            }
        );
        assert_eq!(
            decode_error(0x25, s, ErrorBits::IDNF, 9),
            Error::IdNotFound {
                command: 0x25,
                lba: 9
            }
        );
        assert_eq!(
            decode_error(0xEC, s, ErrorBits::ABRT, 0),
            Error::Aborted {
                command: 0xEC,
                error: 0x04
            }
        );
        assert_eq!(
            decode_error(0xEC, s, ErrorBits::AMNF, 0),
            Error::Device {
                command: 0xEC,
                status: 0x41,
                error: 0x01
            }
        );
    }

    #[test]
    fn failed_and_floating() {
        assert!(!Status::from_bits_retain(0x81).failed()); // BSY hides ERR
        assert!(Status::from_bits_retain(0x51).failed());
        assert!(Status::from_bits_retain(0x60).failed());
        assert!(!Status::from_bits_retain(0x58).failed());
        assert!(Status::is_floating(0xFF) && Status::is_floating(0));
        assert!(!Status::is_floating(0x50));
        assert!(names_sector(ErrorBits::UNC) && !names_sector(ErrorBits::ABRT));
    }
}
