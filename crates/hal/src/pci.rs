//! PCI configuration space through configuration mechanism #1 (ports 0xCF8 / 0xCFC).
//!
//! The ATA driver needs it to find the IDE controller, read its bus-master BAR and turn on bus
//! mastering (firmware such as SeaBIOS leaves it off, and DMA then silently reads zeros).

use crate::PortIo;

/// The configuration address port.
pub const CONFIG_ADDRESS: u16 = 0xCF8;
/// The configuration data port (the dword selected by [`CONFIG_ADDRESS`]).
pub const CONFIG_DATA: u16 = 0xCFC;

/// Offset of the vendor ID (u16).
pub const VENDOR_ID: u8 = 0x00;
/// Offset of the device ID (u16).
pub const DEVICE_ID: u8 = 0x02;
/// Offset of the command register (u16).
pub const COMMAND: u8 = 0x04;
/// Offset of the status register (u16).
pub const STATUS: u8 = 0x06;
/// Offset of the programming interface byte.
pub const PROG_IF: u8 = 0x09;
/// Offset of the subclass byte.
pub const SUBCLASS: u8 = 0x0A;
/// Offset of the class code byte.
pub const CLASS: u8 = 0x0B;
/// Offset of the header type byte (bit 7: multi-function device).
pub const HEADER_TYPE: u8 = 0x0E;
/// Offset of BAR0; BAR n is at `BAR0 + 4 * n`.
pub const BAR0: u8 = 0x10;
/// Offset of the interrupt line byte (the legacy IRQ the firmware routed).
pub const INTERRUPT_LINE: u8 = 0x3C;

/// Command register: respond to I/O space accesses.
pub const COMMAND_IO_SPACE: u16 = 1 << 0;
/// Command register: respond to memory space accesses.
pub const COMMAND_MEMORY_SPACE: u16 = 1 << 1;
/// Command register: the function may master the bus (DMA).
pub const COMMAND_BUS_MASTER: u16 = 1 << 2;

/// What went wrong with a configuration-space request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum PciError {
    /// A device number above 31.
    InvalidDevice(u8),
    /// A function number above 7.
    InvalidFunction(u8),
    /// An offset that is not aligned to the access width.
    Misaligned {
        /// The offset asked for.
        offset: u8,
        /// The access width in bytes.
        width: u8,
    },
    /// A BAR index above 5.
    InvalidBar(u8),
    /// No function answers at this address (vendor ID 0xFFFF).
    NoDevice(PciAddress),
}

impl core::fmt::Display for PciError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::InvalidDevice(d) => write!(f, "PCI device number {d} is above 31"),
            Self::InvalidFunction(n) => write!(f, "PCI function number {n} is above 7"),
            Self::Misaligned { offset, width } => {
                write!(
                    f,
                    "PCI config offset {offset:#04x} is not {width}-byte aligned"
                )
            }
            Self::InvalidBar(i) => write!(f, "BAR index {i} is above 5"),
            Self::NoDevice(a) => write!(f, "no PCI function at {a}"),
        }
    }
}

impl core::error::Error for PciError {}

/// A bus / device / function triple, validated on construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PciAddress {
    bus: u8,
    device: u8,
    function: u8,
}

impl PciAddress {
    /// Builds an address.
    ///
    /// # Errors
    ///
    /// [`PciError::InvalidDevice`] for a device above 31, [`PciError::InvalidFunction`] for a
    /// function above 7.
    ///
    /// ```
    /// use irqkit_hal::pci::{PciAddress, PciError};
    /// let ide = PciAddress::new(0, 1, 1)?;
    /// assert_eq!(ide.to_string(), "00:01.1");
    /// assert_eq!(PciAddress::new(0, 32, 0), Err(PciError::InvalidDevice(32)));
    /// # Ok::<(), PciError>(())
    /// ```
    pub const fn new(bus: u8, device: u8, function: u8) -> Result<Self, PciError> {
        if device > 31 {
            return Err(PciError::InvalidDevice(device));
        }
        if function > 7 {
            return Err(PciError::InvalidFunction(function));
        }
        Ok(Self {
            bus,
            device,
            function,
        })
    }

    /// The bus number.
    pub const fn bus(self) -> u8 {
        self.bus
    }
    /// The device number (0..=31).
    pub const fn device(self) -> u8 {
        self.device
    }
    /// The function number (0..=7).
    pub const fn function(self) -> u8 {
        self.function
    }

    /// The value written to 0xCF8 to select the dword at `offset` (low two bits ignored).
    pub const fn config_address(self, offset: u8) -> u32 {
        0x8000_0000
            | (self.bus as u32) << 16
            | (self.device as u32) << 11
            | (self.function as u32) << 8
            | (offset & 0xFC) as u32
    }
}

impl core::fmt::Display for PciAddress {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

/// A decoded base address register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Bar {
    /// An I/O-space BAR: the base port.
    Io {
        /// First port of the range (low two bits masked off).
        port: u32,
    },
    /// A memory-space BAR.
    Memory {
        /// Physical base address (64-bit BARs combine two registers).
        address: u64,
        /// Whether the region is prefetchable.
        prefetchable: bool,
        /// Whether this is a 64-bit BAR (it occupies this index and the next).
        is_64bit: bool,
    },
}

/// The identity of a PCI function, read from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct PciFunction {
    /// Where it lives.
    pub address: PciAddress,
    /// Vendor ID.
    pub vendor_id: u16,
    /// Device ID.
    pub device_id: u16,
    /// Class code (0x01 = mass storage).
    pub class: u8,
    /// Subclass (0x01 with class 0x01 = IDE).
    pub subclass: u8,
    /// Programming interface (for IDE: bit 7 = bus-master capable).
    pub prog_if: u8,
    /// Header type (bit 7 = multi-function).
    pub header_type: u8,
}

/// Configuration-space access over a [`PortIo`].
///
/// ```
/// use irqkit_hal::{pci::PciConfig, PortIo};
///
/// /// Finds the first IDE controller and turns on bus mastering for it.
/// fn setup_ide(ports: impl PortIo) -> Option<u32> {
///     let mut pci = PciConfig::new(ports);
///     let ide = pci.functions().find(|f| f.class == 0x01 && f.subclass == 0x01)?;
///     pci.enable_bus_master(ide.address).ok()?;
///     match pci.bar(ide.address, 4).ok()? {
///         irqkit_hal::pci::Bar::Io { port } => Some(port),
///         _ => None,
///     }
/// }
/// ```
#[derive(Debug)]
pub struct PciConfig<P> {
    ports: P,
}

impl<P: PortIo> PciConfig<P> {
    /// Wraps a port-I/O implementation that reaches 0xCF8 and 0xCFC.
    pub const fn new(ports: P) -> Self {
        Self { ports }
    }

    /// Gives the port-I/O implementation back.
    pub fn into_inner(self) -> P {
        self.ports
    }

    fn check(offset: u8, width: u8) -> Result<(), PciError> {
        if offset % width != 0 {
            return Err(PciError::Misaligned { offset, width });
        }
        Ok(())
    }

    fn select(&mut self, addr: PciAddress, offset: u8) -> u16 {
        self.ports
            .write32(CONFIG_ADDRESS, addr.config_address(offset));
        CONFIG_DATA + u16::from(offset & 3)
    }

    /// Reads the dword at `offset`.
    ///
    /// # Errors
    ///
    /// [`PciError::Misaligned`] unless `offset` is a multiple of 4.
    pub fn read32(&mut self, addr: PciAddress, offset: u8) -> Result<u32, PciError> {
        Self::check(offset, 4)?;
        let port = self.select(addr, offset);
        Ok(self.ports.read32(port))
    }

    /// Reads the word at `offset`.
    ///
    /// # Errors
    ///
    /// [`PciError::Misaligned`] unless `offset` is even.
    pub fn read16(&mut self, addr: PciAddress, offset: u8) -> Result<u16, PciError> {
        Self::check(offset, 2)?;
        let port = self.select(addr, offset);
        Ok(self.ports.read16(port))
    }

    /// Reads the byte at `offset`.
    pub fn read8(&mut self, addr: PciAddress, offset: u8) -> u8 {
        let port = self.select(addr, offset);
        self.ports.read8(port)
    }

    /// Writes the dword at `offset`.
    ///
    /// # Errors
    ///
    /// [`PciError::Misaligned`] unless `offset` is a multiple of 4.
    pub fn write32(&mut self, addr: PciAddress, offset: u8, value: u32) -> Result<(), PciError> {
        Self::check(offset, 4)?;
        let port = self.select(addr, offset);
        self.ports.write32(port, value);
        Ok(())
    }

    /// Writes the word at `offset` (a word access: neighbouring registers are untouched).
    ///
    /// # Errors
    ///
    /// [`PciError::Misaligned`] unless `offset` is even.
    pub fn write16(&mut self, addr: PciAddress, offset: u8, value: u16) -> Result<(), PciError> {
        Self::check(offset, 2)?;
        let port = self.select(addr, offset);
        self.ports.write16(port, value);
        Ok(())
    }

    /// Writes the byte at `offset`.
    pub fn write8(&mut self, addr: PciAddress, offset: u8, value: u8) {
        let port = self.select(addr, offset);
        self.ports.write8(port, value);
    }

    /// Reads the identity of the function at `addr`.
    ///
    /// # Errors
    ///
    /// [`PciError::NoDevice`] when nothing answers there (vendor ID 0xFFFF).
    pub fn function(&mut self, addr: PciAddress) -> Result<PciFunction, PciError> {
        let id = self.read32(addr, VENDOR_ID)?;
        let vendor_id = id as u16;
        if vendor_id == 0xFFFF {
            return Err(PciError::NoDevice(addr));
        }
        let class = self.read32(addr, 0x08)?;
        let header_type = self.read8(addr, HEADER_TYPE);
        Ok(PciFunction {
            address: addr,
            vendor_id,
            device_id: (id >> 16) as u16,
            class: (class >> 24) as u8,
            subclass: (class >> 16) as u8,
            prog_if: (class >> 8) as u8,
            header_type,
        })
    }

    /// Iterates over every function on every bus (brute-force scan; functions 1-7 are probed
    /// only on multi-function devices).
    pub fn functions(&mut self) -> Functions<'_, P> {
        Functions {
            pci: self,
            next: Some((0, 0, 0)),
        }
    }

    /// Decodes BAR `index` (0..=5). A 64-bit memory BAR reads the next register as its high half.
    ///
    /// # Errors
    ///
    /// [`PciError::InvalidBar`] for an index above 5.
    pub fn bar(&mut self, addr: PciAddress, index: u8) -> Result<Bar, PciError> {
        if index > 5 {
            return Err(PciError::InvalidBar(index));
        }
        let offset = BAR0 + 4 * index;
        let low = self.read32(addr, offset)?;
        if low & 1 == 1 {
            return Ok(Bar::Io { port: low & !3 });
        }
        let is_64bit = (low >> 1) & 3 == 2;
        let high = if is_64bit && index < 5 {
            self.read32(addr, offset + 4)?
        } else {
            0
        };
        Ok(Bar::Memory {
            address: (u64::from(high) << 32) | u64::from(low & !0xF),
            prefetchable: low & 8 != 0,
            is_64bit,
        })
    }

    /// Sets the bus-master bit (and I/O space) in the command register, keeping the other bits.
    /// Returns the command register as it was before.
    ///
    /// # Errors
    ///
    /// [`PciError::NoDevice`] when nothing answers at `addr`.
    pub fn enable_bus_master(&mut self, addr: PciAddress) -> Result<u16, PciError> {
        self.function(addr)?;
        let before = self.read16(addr, COMMAND)?;
        self.write16(
            addr,
            COMMAND,
            before | COMMAND_BUS_MASTER | COMMAND_IO_SPACE,
        )?;
        Ok(before)
    }
}

/// Iterator returned by [`PciConfig::functions`].
#[derive(Debug)]
pub struct Functions<'a, P> {
    pci: &'a mut PciConfig<P>,
    next: Option<(u8, u8, u8)>,
}

impl<P: PortIo> Iterator for Functions<'_, P> {
    type Item = PciFunction;

    fn next(&mut self) -> Option<PciFunction> {
        while let Some((bus, device, function)) = self.next {
            // Advance first: an absent function 0 skips the whole device.
            let found = PciAddress::new(bus, device, function)
                .ok()
                .and_then(|a| self.pci.function(a).ok());
            let multi = function == 0 && found.is_some_and(|f| f.header_type & 0x80 != 0);
            self.next = if function > 0 && function < 7 || multi {
                Some((bus, device, function + 1))
            } else if device < 31 {
                Some((bus, device + 1, 0))
            } else if bus < 255 {
                Some((bus + 1, 0, 0))
            } else {
                None
            };
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    /// A config space with two functions on bus 0: 00:00.0 (host bridge) and a multi-function
    /// device 00:01 with an IDE function at .1.
    struct FakeConfig {
        address: u32,
        command: u16,
    }

    impl FakeConfig {
        fn dword(&self) -> u32 {
            let bus = (self.address >> 16) & 0xFF;
            let dev = (self.address >> 11) & 0x1F;
            let func = (self.address >> 8) & 7;
            let reg = self.address & 0xFC;
            match (bus, dev, func, reg) {
                (0, 0, 0, 0x00) => 0x1237_8086,
                (0, 0, 0, 0x08) => 0x0600_0002,
                (0, 0, 0, 0x0C) => 0,
                (0, 1, 0, 0x00) => 0x7000_8086,
                (0, 1, 0, 0x08) => 0x0601_0000,
                (0, 1, 0, 0x0C) => 0x0080_0000,
                (0, 1, 1, 0x00) => 0x7010_8086,
                (0, 1, 1, 0x04) => u32::from(self.command),
                (0, 1, 1, 0x08) => 0x0101_8000,
                (0, 1, 1, 0x0C) => 0,
                (0, 1, 1, 0x20) => 0xC041,
                (0, 1, 1, 0x10) => 0xFEB0_000C, // 64-bit prefetchable
                (0, 1, 1, 0x14) => 0x0000_0001,
                (0, 1, 1, _) => 0,
                _ => 0xFFFF_FFFF,
            }
        }
    }

    impl PortIo for FakeConfig {
        fn read8(&mut self, port: u16) -> u8 {
            (self.dword() >> (8 * u32::from(port - CONFIG_DATA))) as u8
        }
        fn write8(&mut self, _: u16, _: u8) {}
        fn read16(&mut self, port: u16) -> u16 {
            (self.dword() >> (8 * u32::from(port - CONFIG_DATA))) as u16
        }
        fn write16(&mut self, port: u16, value: u16) {
            assert_eq!((port, self.address & 0xFC), (CONFIG_DATA, 4));
            self.command = value;
        }
        fn read32(&mut self, _: u16) -> u32 {
            self.dword()
        }
        fn write32(&mut self, port: u16, value: u32) {
            assert_eq!(port, CONFIG_ADDRESS);
            self.address = value;
        }
    }

    fn fake() -> PciConfig<FakeConfig> {
        PciConfig::new(FakeConfig {
            address: 0,
            command: 0x0103,
        })
    }

    #[test]
    fn address_encoding() {
        let a = PciAddress::new(1, 2, 3).unwrap();
        assert_eq!(a.config_address(0x3E), 0x8001_133C);
        assert_eq!(PciAddress::new(0, 0, 8), Err(PciError::InvalidFunction(8)));
    }

    #[test]
    fn scan_finds_all_functions_once() {
        let mut pci = fake();
        let found: [_; 3] = core::array::from_fn({
            let mut it = pci.functions();
            move |_| {
                it.next()
                    .map(|f| (f.address.to_string(), f.class, f.subclass))
            }
        });
        assert_eq!(found[0], Some(("00:00.0".into(), 0x06, 0x00)));
        assert_eq!(found[1], Some(("00:01.0".into(), 0x06, 0x01)));
        assert_eq!(found[2], Some(("00:01.1".into(), 0x01, 0x01)));
        assert_eq!(pci.functions().count(), 3);
    }

    #[test]
    fn bars_decode() {
        let mut pci = fake();
        let ide = PciAddress::new(0, 1, 1).unwrap();
        assert_eq!(pci.bar(ide, 4), Ok(Bar::Io { port: 0xC040 }));
        assert_eq!(
            pci.bar(ide, 0),
            Ok(Bar::Memory {
                address: 0x1_FEB0_0000,
                prefetchable: true,
                is_64bit: true
            })
        );
        assert_eq!(pci.bar(ide, 6), Err(PciError::InvalidBar(6)));
    }

    #[test]
    fn bus_master_is_set_and_rest_kept() {
        let mut pci = fake();
        let ide = PciAddress::new(0, 1, 1).unwrap();
        assert_eq!(pci.enable_bus_master(ide), Ok(0x0103));
        assert_eq!(pci.read16(ide, COMMAND), Ok(0x0107));
        let absent = PciAddress::new(0, 5, 0).unwrap();
        assert_eq!(
            pci.enable_bus_master(absent),
            Err(PciError::NoDevice(absent))
        );
    }

    #[test]
    fn misaligned_access_is_an_error() {
        let mut pci = fake();
        let a = PciAddress::new(0, 0, 0).unwrap();
        assert_eq!(
            pci.read32(a, 2),
            Err(PciError::Misaligned {
                offset: 2,
                width: 4
            })
        );
        assert_eq!(
            pci.write16(a, 1, 0),
            Err(PciError::Misaligned {
                offset: 1,
                width: 2
            })
        );
        assert_eq!(pci.read16(a, 2), Ok(0x1237));
        assert_eq!(pci.read8(a, 0x0B), 0x06);
    }
}
