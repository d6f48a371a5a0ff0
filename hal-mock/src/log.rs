//! Port accesses as values: what the bus log records and what a script expects.

use std::fmt;
use std::sync::Arc;

use crate::device::{DeviceId, Width};
use crate::time::SimTime;

/// One port access, with its data.
///
/// For reads the value is what the access returned (in a script: what it will return); for
/// writes it is what was written (in a script: what must be written). String transfers
/// (`read16_into`, `write16_from`, ...) are one access with all their elements, so a script or
/// a log check can tell a `rep insw` from a loop of `inw`.
///
/// # Examples
///
/// ```
/// use irqkit_hal_mock::{Access, Width};
///
/// let a = Access::read8(0x64, 0x1C);
/// assert_eq!(a.port(), 0x64);
/// assert_eq!(a.width(), Width::W8);
/// assert_eq!(a.to_string(), "read8 0x0064 -> 0x1c");
/// assert_eq!(
///     Access::write16_from(0x1F0, &[1, 2]).to_string(),
///     "write16_from 0x01f0 <- [0x0001, 0x0002]"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Access {
    /// A single read.
    Read {
        /// The port.
        port: u16,
        /// The access width.
        width: Width,
        /// The value read.
        value: u32,
    },
    /// A single write.
    Write {
        /// The port.
        port: u16,
        /// The access width.
        width: Width,
        /// The value written.
        value: u32,
    },
    /// A string read (`rep ins`): successive reads of one port into a buffer.
    ReadString {
        /// The port.
        port: u16,
        /// The element width.
        width: Width,
        /// The values read, in order.
        values: Vec<u32>,
    },
    /// A string write (`rep outs`): successive writes of a buffer to one port.
    WriteString {
        /// The port.
        port: u16,
        /// The element width.
        width: Width,
        /// The values written, in order.
        values: Vec<u32>,
    },
}

impl Access {
    /// `read8(port)` returning `value`.
    pub fn read8(port: u16, value: u8) -> Self {
        Access::Read {
            port,
            width: Width::W8,
            value: value.into(),
        }
    }
    /// `read16(port)` returning `value`.
    pub fn read16(port: u16, value: u16) -> Self {
        Access::Read {
            port,
            width: Width::W16,
            value: value.into(),
        }
    }
    /// `read32(port)` returning `value`.
    pub fn read32(port: u16, value: u32) -> Self {
        Access::Read {
            port,
            width: Width::W32,
            value,
        }
    }
    /// `write8(port, value)`.
    pub fn write8(port: u16, value: u8) -> Self {
        Access::Write {
            port,
            width: Width::W8,
            value: value.into(),
        }
    }
    /// `write16(port, value)`.
    pub fn write16(port: u16, value: u16) -> Self {
        Access::Write {
            port,
            width: Width::W16,
            value: value.into(),
        }
    }
    /// `write32(port, value)`.
    pub fn write32(port: u16, value: u32) -> Self {
        Access::Write {
            port,
            width: Width::W32,
            value,
        }
    }
    /// `read8_into(port, buf)` filling `buf` with `values`.
    pub fn read8_into(port: u16, values: &[u8]) -> Self {
        Access::ReadString {
            port,
            width: Width::W8,
            values: widen(values),
        }
    }
    /// `read16_into(port, buf)` filling `buf` with `values`.
    pub fn read16_into(port: u16, values: &[u16]) -> Self {
        Access::ReadString {
            port,
            width: Width::W16,
            values: widen(values),
        }
    }
    /// `read32_into(port, buf)` filling `buf` with `values`.
    pub fn read32_into(port: u16, values: &[u32]) -> Self {
        Access::ReadString {
            port,
            width: Width::W32,
            values: values.to_vec(),
        }
    }
    /// `write8_from(port, values)`.
    pub fn write8_from(port: u16, values: &[u8]) -> Self {
        Access::WriteString {
            port,
            width: Width::W8,
            values: widen(values),
        }
    }
    /// `write16_from(port, values)`.
    pub fn write16_from(port: u16, values: &[u16]) -> Self {
        Access::WriteString {
            port,
            width: Width::W16,
            values: widen(values),
        }
    }
    /// `write32_from(port, values)`.
    pub fn write32_from(port: u16, values: &[u32]) -> Self {
        Access::WriteString {
            port,
            width: Width::W32,
            values: values.to_vec(),
        }
    }

    /// The port accessed.
    pub fn port(&self) -> u16 {
        match self {
            Access::Read { port, .. }
            | Access::Write { port, .. }
            | Access::ReadString { port, .. }
            | Access::WriteString { port, .. } => *port,
        }
    }

    /// The width of the access (of each element, for strings).
    pub fn width(&self) -> Width {
        match self {
            Access::Read { width, .. }
            | Access::Write { width, .. }
            | Access::ReadString { width, .. }
            | Access::WriteString { width, .. } => *width,
        }
    }

    /// Whether data flowed from the device to the CPU.
    pub fn is_read(&self) -> bool {
        matches!(self, Access::Read { .. } | Access::ReadString { .. })
    }

    /// The values moved, in order (one for a scalar access).
    pub fn values(&self) -> &[u32] {
        match self {
            Access::Read { value, .. } | Access::Write { value, .. } => std::slice::from_ref(value),
            Access::ReadString { values, .. } | Access::WriteString { values, .. } => values,
        }
    }

    /// The method name of the access (`read8`, `write16_from`, ...).
    pub fn method(&self) -> &'static str {
        method_name(
            self.is_read(),
            matches!(self, Access::ReadString { .. } | Access::WriteString { .. }),
            self.width(),
        )
    }
}

fn widen<T: Copy + Into<u32>>(values: &[T]) -> Vec<u32> {
    values.iter().map(|&v| v.into()).collect()
}

/// `read8`, `write16_from`, ... for the given shape.
pub(crate) fn method_name(read: bool, string: bool, width: Width) -> &'static str {
    const NAMES: [[&str; 3]; 4] = [
        ["write8", "write16", "write32"],
        ["read8", "read16", "read32"],
        ["write8_from", "write16_from", "write32_from"],
        ["read8_into", "read16_into", "read32_into"],
    ];
    let column = match width {
        Width::W8 => 0,
        Width::W16 => 1,
        Width::W32 => 2,
    };
    NAMES[usize::from(read) + 2 * usize::from(string)][column]
}

/// Formats `values` as hex of `width`, the first few and a count when there are many.
pub(crate) fn fmt_values(f: &mut fmt::Formatter<'_>, width: Width, values: &[u32]) -> fmt::Result {
    const SHOWN: usize = 8;
    let digits = width.hex_digits();
    write!(f, "[")?;
    for (i, v) in values.iter().take(SHOWN).enumerate() {
        if i > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{v:#0w$x}", w = digits + 2)?;
    }
    if values.len() > SHOWN {
        write!(f, ", ... ({} elements)", values.len())?;
    }
    write!(f, "]")
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.width();
        let digits = width.hex_digits() + 2;
        write!(f, "{} {:#06x} ", self.method(), self.port())?;
        match self {
            Access::Read { value, .. } => write!(f, "-> {value:#0digits$x}"),
            Access::Write { value, .. } => write!(f, "<- {value:#0digits$x}"),
            Access::ReadString { values, .. } => {
                write!(f, "-> ")?;
                fmt_values(f, width, values)
            }
            Access::WriteString { values, .. } => {
                write!(f, "<- ")?;
                fmt_values(f, width, values)
            }
        }
    }
}

/// Who answered an access on the bus.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// An attached device.
    Device {
        /// Its id.
        id: DeviceId,
        /// The name it was attached under.
        name: Arc<str>,
    },
    /// No device decodes the port: reads float to all ones, writes vanish.
    Unmapped,
}

impl Target {
    /// The device name, or `"unmapped"`.
    pub fn name(&self) -> &str {
        match self {
            Target::Device { name, .. } => name,
            Target::Unmapped => "unmapped",
        }
    }
}

/// One line of the bus log.
///
/// # Examples
///
/// ```
/// use irqkit_hal::PortIo;
/// use irqkit_hal_mock::{Access, Sim, Target};
///
/// let mut bus = Sim::new().bus();
/// bus.read8(0x80);
/// let log = bus.log();
/// assert_eq!(log[0].access, Access::read8(0x80, 0xFF));
/// assert_eq!(log[0].target, Target::Unmapped);
/// assert_eq!(log[0].to_string(), "[0.000 us] unmapped: read8 0x0080 -> 0xff");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogEntry {
    /// Virtual time of the access.
    pub at: SimTime,
    /// Who answered it.
    pub target: Target,
    /// The access and its data.
    pub access: Access,
}

impl fmt::Display for LogEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}: {}", self.at, self.target.name(), self.access)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_are_abbreviated() {
        let words: Vec<u16> = (0..256).collect();
        let text = Access::read16_into(0x1F0, &words).to_string();
        assert!(
            text.starts_with("read16_into 0x01f0 -> [0x0000, 0x0001,"),
            "{text}"
        );
        assert!(text.ends_with("0x0007, ... (256 elements)]"), "{text}");
    }

    #[test]
    fn method_names_cover_every_shape() {
        assert_eq!(Access::write32(0xCF8, 1).method(), "write32");
        assert_eq!(Access::read32_into(0xCFC, &[1]).method(), "read32_into");
        assert_eq!(Access::write8_from(0x60, &[1]).method(), "write8_from");
        assert_eq!(
            Access::read16(0x1F0, 1).to_string(),
            "read16 0x01f0 -> 0x0001"
        );
        assert_eq!(
            Access::write32(0xCF8, 0x8000_0000).to_string(),
            "write32 0x0cf8 <- 0x80000000"
        );
    }
}
