//! PCI configuration mechanism #1: ports 0xCF8 (address) and 0xCFC..=0xCFF (data).

use super::{ConfigSpace, PciAddress, PciError};
use crate::PortIo;

/// The configuration address port.
pub const CONFIG_ADDRESS: u16 = 0xCF8;
/// The configuration data port (the dword selected by [`CONFIG_ADDRESS`]).
pub const CONFIG_DATA: u16 = 0xCFC;

/// The 256-byte configuration spaces of every PCI function through configuration mechanism #1
/// (the PC's ports 0xCF8 / 0xCFC), over any [`PortIo`].
///
/// Each access writes the function's address to 0xCF8, then the data port: two steps that an
/// interrupt handler using the same ports must not come between (exclude it with a critical
/// section, or never touch PCI configuration from handlers).
///
/// ```
/// use irqkit_hal::pci::{Bar, ConfigSpace, PciConfig};
/// use irqkit_hal::PortIo;
///
/// /// The bus-master base of the first IDE controller, with bus mastering turned on.
/// fn ide_bus_master(ports: impl PortIo) -> Option<u16> {
///     let mut pci = PciConfig::new(ports);
///     let ide = pci.functions().find(|f| f.class == 0x01 && f.subclass == 0x01)?;
///     pci.enable_bus_mastering(ide.address).ok()?;
///     match pci.bar(ide.address, 4).ok()? {
///         Bar::Io { port } => Some(port),
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

    /// Writes the address of the dword at `offset` to 0xCF8, after checking `offset`.
    fn select(&mut self, addr: PciAddress, offset: u16) -> Result<(), PciError> {
        if offset % 4 != 0 {
            return Err(PciError::Misaligned { offset, width: 4 });
        }
        let Ok(offset) = u8::try_from(offset) else {
            return Err(PciError::OffsetOutOfRange { offset, limit: 256 });
        };
        self.ports
            .write32(CONFIG_ADDRESS, addr.config_address(offset));
        Ok(())
    }
}

impl<P: PortIo> ConfigSpace for PciConfig<P> {
    fn read32(&mut self, addr: PciAddress, offset: u16) -> Result<u32, PciError> {
        self.select(addr, offset)?;
        Ok(self.ports.read32(CONFIG_DATA))
    }

    fn write32(&mut self, addr: PciAddress, offset: u16, value: u32) -> Result<(), PciError> {
        self.select(addr, offset)?;
        self.ports.write32(CONFIG_DATA, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// The port side of mechanism #1: 00:01.1 answers with its offset as data; every port
    /// access is logged.
    #[derive(Default)]
    struct Ports {
        address: u32,
        log: Vec<(u16, u32, bool)>,
    }

    impl PortIo for Ports {
        fn read8(&mut self, _: u16) -> u8 {
            unreachable!("mechanism #1 here uses dword accesses only")
        }
        fn write8(&mut self, _: u16, _: u8) {
            unreachable!()
        }
        fn read16(&mut self, _: u16) -> u16 {
            unreachable!()
        }
        fn write16(&mut self, _: u16, _: u16) {
            unreachable!()
        }
        fn read32(&mut self, port: u16) -> u32 {
            assert_eq!(port, CONFIG_DATA);
            let value = match self.address & !0xFC {
                0x8000_0900 => 0xAB00 | (self.address & 0xFC),
                _ => u32::MAX,
            };
            self.log.push((port, value, false));
            value
        }
        fn write32(&mut self, port: u16, value: u32) {
            if port == CONFIG_ADDRESS {
                self.address = value;
            }
            self.log.push((port, value, true));
        }
    }

    #[test]
    fn address_then_data() {
        let mut pci = PciConfig::new(Ports::default());
        let ide = PciAddress::new(0, 1, 1).unwrap();
        assert_eq!(pci.read32(ide, 0x20), Ok(0xAB20));
        assert_eq!(pci.write32(ide, 0xFC, 7), Ok(()));
        let absent = PciAddress::new(0, 2, 0).unwrap();
        assert_eq!(pci.read32(absent, 0), Ok(u32::MAX));
        assert_eq!(
            pci.into_inner().log,
            [
                (CONFIG_ADDRESS, 0x8000_0920, true),
                (CONFIG_DATA, 0xAB20, false),
                (CONFIG_ADDRESS, 0x8000_09FC, true),
                (CONFIG_DATA, 7, true),
                (CONFIG_ADDRESS, 0x8000_1000, true),
                (CONFIG_DATA, u32::MAX, false),
            ]
        );
    }

    #[test]
    fn bad_offsets_touch_no_port() {
        let mut pci = PciConfig::new(Ports::default());
        let ide = PciAddress::new(0, 1, 1).unwrap();
        assert_eq!(
            pci.read32(ide, 0x102),
            Err(PciError::Misaligned {
                offset: 0x102,
                width: 4
            })
        );
        assert_eq!(
            pci.write32(ide, 0x100, 0),
            Err(PciError::OffsetOutOfRange {
                offset: 0x100,
                limit: 256
            })
        );
        assert_eq!(
            pci.read16(ide, 0x2F1),
            Err(PciError::Misaligned {
                offset: 0x2F1,
                width: 2
            })
        );
        assert_eq!(
            pci.read8(ide, 0x1000),
            Err(PciError::OffsetOutOfRange {
                offset: 0x1000,
                limit: 256
            })
        );
        assert!(pci.into_inner().log.is_empty());
    }

    #[test]
    fn helpers_work_through_the_ports() {
        let mut pci = PciConfig::new(Ports::default());
        let ide = PciAddress::new(0, 1, 1).unwrap();
        // Offset 0x0A of a dword that reads 0xAB08: the word at 0x0A is its high half.
        assert_eq!(pci.read16(ide, 0x0A), Ok(0));
        assert_eq!(pci.read8(ide, 0x09), Ok(0xAB));
        assert_eq!(pci.read8(ide, 0x08), Ok(0x08));
    }
}
