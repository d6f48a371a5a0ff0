//! Device signatures: what kind of device answered a reset.

use core::fmt;

/// The kind of device, from the signature left in the taskfile after a reset (or the
/// IDENTIFY that answered).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DeviceKind {
    /// Parallel ATA disk (LBA mid/high 00/00).
    Pata,
    /// Parallel ATAPI device, e.g. a CD-ROM (14/EB).
    Patapi,
    /// Serial ATA disk behind a legacy interface (3C/C3).
    Sata,
    /// Serial ATAPI device (69/96).
    Satapi,
    /// A signature this driver does not know.
    Unknown {
        /// LBA mid.
        mid: u8,
        /// LBA high.
        high: u8,
    },
}

impl DeviceKind {
    /// Decodes the LBA mid / LBA high registers read after a reset.
    ///
    /// ```
    /// use irqkit_ata::command::DeviceKind;
    /// assert_eq!(DeviceKind::from_signature(0x14, 0xEB), DeviceKind::Patapi);
    /// assert!(DeviceKind::from_signature(0, 0).is_disk());
    /// ```
    pub const fn from_signature(mid: u8, high: u8) -> DeviceKind {
        match (mid, high) {
            (0x00, 0x00) => DeviceKind::Pata,
            (0x14, 0xEB) => DeviceKind::Patapi,
            (0x3C, 0xC3) => DeviceKind::Sata,
            (0x69, 0x96) => DeviceKind::Satapi,
            (mid, high) => DeviceKind::Unknown { mid, high },
        }
    }

    /// A disk this driver reads and writes (PATA or SATA).
    pub const fn is_disk(self) -> bool {
        matches!(self, DeviceKind::Pata | DeviceKind::Sata)
    }

    /// A packet device (ATAPI): reported, never used as a disk.
    pub const fn is_atapi(self) -> bool {
        matches!(self, DeviceKind::Patapi | DeviceKind::Satapi)
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceKind::Pata => f.write_str("a PATA disk"),
            DeviceKind::Patapi => f.write_str("a PATAPI device"),
            DeviceKind::Sata => f.write_str("a SATA disk"),
            DeviceKind::Satapi => f.write_str("a SATAPI device"),
            DeviceKind::Unknown { mid, high } => {
                write!(f, "an unknown device (signature {mid:#04x}/{high:#04x})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_signatures() {
        assert_eq!(DeviceKind::from_signature(0, 0), DeviceKind::Pata);
        assert_eq!(DeviceKind::from_signature(0x3C, 0xC3), DeviceKind::Sata);
        assert_eq!(DeviceKind::from_signature(0x69, 0x96), DeviceKind::Satapi);
        let u = DeviceKind::from_signature(0xFF, 0xFF);
        assert_eq!(
            u,
            DeviceKind::Unknown {
                mid: 0xFF,
                high: 0xFF
            }
        );
        assert!(!u.is_disk() && !u.is_atapi());
        assert!(DeviceKind::Satapi.is_atapi() && DeviceKind::Sata.is_disk());
    }
}
