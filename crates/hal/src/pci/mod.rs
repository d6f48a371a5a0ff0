//! PCI configuration space: the [`ConfigSpace`] trait, configuration mechanism #1 (ports
//! 0xCF8 / 0xCFC) implementing it, and helpers that work over any implementation.
//!
//! | need | what to use |
//! |------|-------------|
//! | configuration access on a PC through ports 0xCF8 / 0xCFC | [`PciConfig`] |
//! | ECAM (memory-mapped configuration) or a kernel's own PCI layer | implement [`ConfigSpace`] |
//! | every function on every bus | [`ConfigSpace::functions`] |
//! | a function's identity (vendor, device, class) | [`ConfigSpace::function`] |
//! | a base address register | [`ConfigSpace::bar`] -> [`Bar`] |
//! | the interrupt the firmware routed | [`ConfigSpace::interrupt`] -> [`Interrupt`] |
//! | I/O decoding, DMA | [`ConfigSpace::enable_io_space`], [`ConfigSpace::enable_bus_mastering`] |
//! | an IDE controller's ports, bus-master base and IRQs | [`IdeController::find`] |
//!
//! # For driver authors
//!
//! Take a `C: ConfigSpace`; the kernel passes `PciConfig::new(&mut ports)` or its own
//! implementation. The helpers are provided methods of the trait, so they work the same on
//! both. Nothing here changes a device's configuration unless its name says so
//! (`enable_*`).
//!
//! # For kernel authors
//!
//! Implement the two dword accessors [`ConfigSpace::read32`] and [`ConfigSpace::write32`]. The
//! configuration sequence of mechanism #1 is two port accesses (address, then data): code in an
//! interrupt handler that also uses it must be excluded, e.g. by a critical section around
//! every use.
//!
//! # Example
//!
//! ```
//! use irqkit_hal::pci::{ConfigSpace, IdeController, IdeError};
//!
//! /// Finds the IDE controller and lets its bus-master engine do DMA.
//! fn setup_ide(cfg: &mut impl ConfigSpace) -> Result<IdeController, IdeError> {
//!     let ide = IdeController::find(cfg)?;
//!     cfg.enable_io_space(ide.function.address)?;
//!     if ide.bus_master_capable() {
//!         cfg.enable_bus_mastering(ide.function.address)?;
//!     }
//!     Ok(ide)
//! }
//! ```

#[cfg(test)]
mod fake;
mod ide;
mod mechanism1;

pub use ide::{ChannelMode, IdeChannel, IdeController, IdeError, CLASS_MASS_STORAGE, SUBCLASS_IDE};
pub use mechanism1::{PciConfig, CONFIG_ADDRESS, CONFIG_DATA};

use core::fmt;

/// Offset of the vendor ID (u16).
pub const VENDOR_ID: u16 = 0x00;
/// Offset of the device ID (u16).
pub const DEVICE_ID: u16 = 0x02;
/// Offset of the command register (u16).
pub const COMMAND: u16 = 0x04;
/// Offset of the status register (u16; its error bits are write-1-to-clear).
pub const STATUS: u16 = 0x06;
/// Offset of the revision ID byte.
pub const REVISION_ID: u16 = 0x08;
/// Offset of the programming interface byte.
pub const PROG_IF: u16 = 0x09;
/// Offset of the subclass byte.
pub const SUBCLASS: u16 = 0x0A;
/// Offset of the class code byte.
pub const CLASS: u16 = 0x0B;
/// Offset of the header type byte (bit 7: multi-function device).
pub const HEADER_TYPE: u16 = 0x0E;
/// Offset of BAR0; BAR n is at `BAR0 + 4 * n` (n = 0..=5 in a type 0 header).
pub const BAR0: u16 = 0x10;
/// Offset of a bridge's secondary bus number byte (header types 1 and 2).
pub const SECONDARY_BUS: u16 = 0x19;
/// Offset of the interrupt line byte (the legacy IRQ the firmware routed; 0xFF: none).
pub const INTERRUPT_LINE: u16 = 0x3C;
/// Offset of the interrupt pin byte (0: none, 1..=4: INTA#..INTD#).
pub const INTERRUPT_PIN: u16 = 0x3D;

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
        offset: u16,
        /// The access width in bytes.
        width: u8,
    },
    /// An offset past the configuration space the implementation reaches (256 bytes for
    /// mechanism #1, 4096 for ECAM).
    OffsetOutOfRange {
        /// The offset asked for.
        offset: u16,
        /// The size of the reachable space in bytes.
        limit: u16,
    },
    /// A BAR index above 5.
    InvalidBar(u8),
    /// A BAR whose value is not a valid encoding: a 64-bit memory BAR in the last slot, the
    /// reserved memory type, or an I/O BAR above port 0xFFFF.
    BadBar {
        /// Where the function lives.
        addr: PciAddress,
        /// The BAR index.
        index: u8,
        /// The register's value.
        raw: u32,
    },
    /// An interrupt pin register above 4.
    BadInterruptPin {
        /// Where the function lives.
        addr: PciAddress,
        /// The register's value.
        pin: u8,
    },
    /// No function answers at this address (vendor ID 0xFFFF).
    NoDevice(PciAddress),
    /// Command register bits did not stick: the function does not implement them (a device
    /// that cannot master the bus has the bus-master bit hard-wired to 0).
    CommandNotSet {
        /// Where the function lives.
        addr: PciAddress,
        /// The bits asked for.
        wanted: u16,
        /// The command register read back after the write.
        got: u16,
    },
}

impl fmt::Display for PciError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InvalidDevice(d) => write!(f, "PCI device number {d} is above 31"),
            Self::InvalidFunction(n) => write!(f, "PCI function number {n} is above 7"),
            Self::Misaligned { offset, width } => write!(
                f,
                "PCI config offset {offset:#05x} is not {width}-byte aligned"
            ),
            Self::OffsetOutOfRange { offset, limit } => write!(
                f,
                "PCI config offset {offset:#05x} is past the {limit}-byte configuration space"
            ),
            Self::InvalidBar(i) => write!(f, "BAR index {i} is above 5"),
            Self::BadBar { addr, index, raw } => {
                write!(
                    f,
                    "BAR{index} of PCI function {addr} has an invalid value {raw:#010x}"
                )
            }
            Self::BadInterruptPin { addr, pin } => write!(
                f,
                "PCI function {addr} reports interrupt pin {pin} (valid: 0 to 4)"
            ),
            Self::NoDevice(a) => write!(f, "no PCI function at {a}"),
            Self::CommandNotSet { addr, wanted, got } => write!(
                f,
                "PCI function {addr} did not accept command bits {wanted:#06x} \
                 (command register reads {got:#06x})"
            ),
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

    /// The next function of the same device, or `None` after function 7.
    const fn next_function(self) -> Option<Self> {
        if self.function < 7 {
            Some(Self {
                function: self.function + 1,
                ..self
            })
        } else {
            None
        }
    }

    /// Function 0 of the next device on the same bus, or `None` after device 31.
    const fn next_device(self) -> Option<Self> {
        if self.device < 31 {
            Some(Self {
                bus: self.bus,
                device: self.device + 1,
                function: 0,
            })
        } else {
            None
        }
    }
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

/// A decoded base address register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Bar {
    /// The register reads 0: not implemented, or not assigned by the firmware.
    Unused,
    /// An I/O-space BAR: the base port.
    Io {
        /// First port of the range (low two bits masked off).
        port: u16,
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

/// An interrupt pin of a PCI function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum InterruptPin {
    /// INTA#
    A,
    /// INTB#
    B,
    /// INTC#
    C,
    /// INTD#
    D,
}

/// How a function's interrupt is wired, as the firmware left it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Interrupt {
    /// The legacy (PIC) IRQ the firmware routed the pin to; `None` when the register reads
    /// 0xFF (unknown or not connected) or the function uses no pin.
    pub line: Option<u8>,
    /// The pin the function uses; `None` when it uses none.
    pub pin: Option<InterruptPin>,
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
    /// Programming interface (for IDE: channel modes and bus-master capability).
    pub prog_if: u8,
    /// Revision ID.
    pub revision: u8,
    /// Header type (bit 7 = multi-function).
    pub header_type: u8,
}

impl PciFunction {
    /// Whether this is function 0 of a multi-function device (header type bit 7).
    pub const fn is_multi_function(&self) -> bool {
        self.header_type & 0x80 != 0
    }
}

/// Access to PCI configuration space: dword reads and writes at a function's address.
///
/// The two dword accessors are the primitives; everything else is provided on top of them.
/// Narrower writes are deliberately absent: a read-modify-write of a dword can write
/// write-1-to-clear bits of a neighbouring register (the status register shares its dword with
/// the command register), so the provided helpers build each dword write themselves.
///
/// # Example
///
/// An implementation over a flat array (what an ECAM window looks like from a kernel):
///
/// ```
/// use irqkit_hal::pci::{ConfigSpace, PciAddress, PciError};
///
/// /// One function's 4 KiB extended configuration space at 00:00.0.
/// struct OneFunction([u32; 1024]);
///
/// impl ConfigSpace for OneFunction {
///     fn read32(&mut self, addr: PciAddress, offset: u16) -> Result<u32, PciError> {
///         let reg = ecam_index(addr, offset)?;
///         Ok(reg.map_or(u32::MAX, |i| self.0[i]))
///     }
///     fn write32(&mut self, addr: PciAddress, offset: u16, value: u32) -> Result<(), PciError> {
///         if let Some(i) = ecam_index(addr, offset)? {
///             self.0[i] = value;
///         }
///         Ok(())
///     }
/// }
///
/// fn ecam_index(addr: PciAddress, offset: u16) -> Result<Option<usize>, PciError> {
///     if offset % 4 != 0 {
///         return Err(PciError::Misaligned { offset, width: 4 });
///     }
///     if offset >= 4096 {
///         return Err(PciError::OffsetOutOfRange { offset, limit: 4096 });
///     }
///     let here = addr == PciAddress::new(0, 0, 0)?;
///     Ok(here.then_some(usize::from(offset / 4)))
/// }
///
/// let mut cfg = OneFunction([0; 1024]);
/// cfg.0[0] = 0x1237_8086;
/// cfg.0[2] = 0x0600_0002;
/// let host = cfg.functions().next().unwrap();
/// assert_eq!((host.vendor_id, host.device_id, host.class), (0x8086, 0x1237, 0x06));
/// assert_eq!(cfg.functions().count(), 1);
/// ```
pub trait ConfigSpace {
    /// Reads the dword at `offset` of `addr`'s configuration space. A function that is not
    /// there reads as all ones.
    ///
    /// # Errors
    ///
    /// [`PciError::Misaligned`] unless `offset` is a multiple of 4;
    /// [`PciError::OffsetOutOfRange`] past the space the implementation reaches.
    fn read32(&mut self, addr: PciAddress, offset: u16) -> Result<u32, PciError>;

    /// Writes the dword at `offset` of `addr`'s configuration space (dropped when no function
    /// is there).
    ///
    /// # Errors
    ///
    /// As for [`read32`](Self::read32).
    fn write32(&mut self, addr: PciAddress, offset: u16, value: u32) -> Result<(), PciError>;

    /// Reads the word at `offset` (even) from its dword.
    ///
    /// # Errors
    ///
    /// [`PciError::Misaligned`] unless `offset` is even; otherwise as for
    /// [`read32`](Self::read32).
    fn read16(&mut self, addr: PciAddress, offset: u16) -> Result<u16, PciError> {
        if offset % 2 != 0 {
            return Err(PciError::Misaligned { offset, width: 2 });
        }
        let dword = self.read32(addr, offset & !3)?;
        Ok((dword >> (8 * (offset & 3))) as u16)
    }

    /// Reads the byte at `offset` from its dword.
    ///
    /// # Errors
    ///
    /// As for [`read32`](Self::read32) on the dword that holds it.
    fn read8(&mut self, addr: PciAddress, offset: u16) -> Result<u8, PciError> {
        let dword = self.read32(addr, offset & !3)?;
        Ok((dword >> (8 * (offset & 3))) as u8)
    }

    /// Reads the identity of the function at `addr`.
    ///
    /// # Errors
    ///
    /// [`PciError::NoDevice`] when nothing answers there (vendor ID 0xFFFF), or the error of
    /// a configuration access.
    fn function(&mut self, addr: PciAddress) -> Result<PciFunction, PciError> {
        let id = self.read32(addr, VENDOR_ID)?;
        let vendor_id = id as u16;
        if vendor_id == 0xFFFF {
            return Err(PciError::NoDevice(addr));
        }
        let class = self.read32(addr, REVISION_ID)?;
        let header_type = self.read8(addr, HEADER_TYPE)?;
        Ok(PciFunction {
            address: addr,
            vendor_id,
            device_id: (id >> 16) as u16,
            class: (class >> 24) as u8,
            subclass: (class >> 16) as u8,
            prog_if: (class >> 8) as u8,
            revision: class as u8,
            header_type,
        })
    }

    /// Iterates over every function the firmware made reachable, bus by bus in increasing
    /// order: bus 0, every bus behind a PCI-to-PCI (or CardBus) bridge as the firmware numbered
    /// it, and buses 1-7 when 00:00 is a multi-function device whose further functions are host
    /// bridges (one per bus). Functions 1-7 are probed only on multi-function devices. An
    /// address whose configuration access fails counts as empty.
    ///
    /// A bridge whose secondary bus is not above its own bus (not how firmware numbers them)
    /// is not followed, so a misprogrammed bridge cannot make the scan loop. To probe an
    /// address the scan does not reach, use [`function`](Self::function).
    fn functions(&mut self) -> Functions<'_, Self>
    where
        Self: Sized,
    {
        let mut pending = [0u32; 8];
        pending[0] = 1; // bus 0
        Functions {
            cfg: self,
            next: Some(PciAddress {
                bus: 0,
                device: 0,
                function: 0,
            }),
            pending,
        }
    }

    /// Decodes BAR `index` (0..=5). A 64-bit memory BAR reads the next register as its high
    /// half.
    ///
    /// # Errors
    ///
    /// [`PciError::InvalidBar`] for an index above 5; [`PciError::BadBar`] for a value that is
    /// not a valid encoding (a 64-bit BAR at index 5, the reserved memory type 0b11, an I/O BAR
    /// above port 0xFFFF); the error of a configuration access.
    fn bar(&mut self, addr: PciAddress, index: u8) -> Result<Bar, PciError> {
        if index > 5 {
            return Err(PciError::InvalidBar(index));
        }
        let offset = BAR0 + 4 * u16::from(index);
        let raw = self.read32(addr, offset)?;
        let bad = PciError::BadBar { addr, index, raw };
        if raw == 0 {
            return Ok(Bar::Unused);
        }
        if raw & 1 == 1 {
            let port = u16::try_from(raw & !3).map_err(|_| bad)?;
            return Ok(Bar::Io { port });
        }
        let (is_64bit, high) = match (raw >> 1) & 3 {
            // 0b00: 32-bit anywhere; 0b01: 32-bit below 1 MiB (legacy).
            0 | 1 => (false, 0),
            2 if index < 5 => (true, self.read32(addr, offset + 4)?),
            _ => return Err(bad),
        };
        Ok(Bar::Memory {
            address: (u64::from(high) << 32) | u64::from(raw & !0xF),
            prefetchable: raw & 8 != 0,
            is_64bit,
        })
    }

    /// Reads the interrupt line and pin.
    ///
    /// # Errors
    ///
    /// [`PciError::BadInterruptPin`] when the pin register is above 4; the error of a
    /// configuration access.
    fn interrupt(&mut self, addr: PciAddress) -> Result<Interrupt, PciError> {
        let dword = self.read32(addr, INTERRUPT_LINE)?;
        let [line, pin, ..] = dword.to_le_bytes();
        let pin = match pin {
            0 => None,
            1 => Some(InterruptPin::A),
            2 => Some(InterruptPin::B),
            3 => Some(InterruptPin::C),
            4 => Some(InterruptPin::D),
            _ => return Err(PciError::BadInterruptPin { addr, pin }),
        };
        Ok(Interrupt {
            // The line register is only meaningful for a function that uses a pin (QEMU's
            // PIIX3 IDE function reads line 0, pin 0).
            line: (line != 0xFF && pin.is_some()).then_some(line),
            pin,
        })
    }

    /// Reads the command register.
    ///
    /// # Errors
    ///
    /// The error of a configuration access.
    fn command(&mut self, addr: PciAddress) -> Result<u16, PciError> {
        self.read16(addr, COMMAND)
    }

    /// Sets `bits` in the command register, keeping the others, and checks that they stuck.
    /// Returns the command register as it was before. The status register, which shares the
    /// dword, is written with zeros, which leaves its write-1-to-clear bits alone.
    ///
    /// # Errors
    ///
    /// [`PciError::NoDevice`] when nothing answers at `addr`; [`PciError::CommandNotSet`] when
    /// the bits read back clear (the function does not implement them); the error of a
    /// configuration access.
    fn set_command_bits(&mut self, addr: PciAddress, bits: u16) -> Result<u16, PciError> {
        self.function(addr)?;
        let before = self.command(addr)?;
        if before & bits != bits {
            self.write32(addr, COMMAND, u32::from(before | bits))?;
        }
        let got = self.command(addr)?;
        if got & bits != bits {
            return Err(PciError::CommandNotSet {
                addr,
                wanted: bits,
                got,
            });
        }
        Ok(before)
    }

    /// Lets the function decode its I/O BARs (command bit 0). Returns the command register as
    /// it was before.
    ///
    /// # Errors
    ///
    /// As for [`set_command_bits`](Self::set_command_bits).
    fn enable_io_space(&mut self, addr: PciAddress) -> Result<u16, PciError> {
        self.set_command_bits(addr, COMMAND_IO_SPACE)
    }

    /// Lets the function decode its memory BARs (command bit 1). Returns the command register
    /// as it was before.
    ///
    /// # Errors
    ///
    /// As for [`set_command_bits`](Self::set_command_bits).
    fn enable_memory_space(&mut self, addr: PciAddress) -> Result<u16, PciError> {
        self.set_command_bits(addr, COMMAND_MEMORY_SPACE)
    }

    /// Lets the function master the bus, i.e. do DMA (command bit 2). Firmware often leaves
    /// it off (SeaBIOS does), and a bus-master engine then reads zeros without reporting an
    /// error. Returns the command register as it was before.
    ///
    /// # Errors
    ///
    /// As for [`set_command_bits`](Self::set_command_bits):
    /// [`PciError::CommandNotSet`] when the function cannot master the bus.
    fn enable_bus_mastering(&mut self, addr: PciAddress) -> Result<u16, PciError> {
        self.set_command_bits(addr, COMMAND_BUS_MASTER)
    }
}

/// Lets a driver borrow the kernel's configuration access.
impl<T: ConfigSpace + ?Sized> ConfigSpace for &mut T {
    #[inline]
    fn read32(&mut self, addr: PciAddress, offset: u16) -> Result<u32, PciError> {
        T::read32(self, addr, offset)
    }
    #[inline]
    fn write32(&mut self, addr: PciAddress, offset: u16, value: u32) -> Result<(), PciError> {
        T::write32(self, addr, offset, value)
    }
}

/// Iterator returned by [`ConfigSpace::functions`].
#[derive(Debug)]
pub struct Functions<'a, C: ?Sized> {
    cfg: &'a mut C,
    next: Option<PciAddress>,
    /// Buses still to scan, one bit per bus (all above the current one).
    pending: [u32; 8],
}

impl<C: ConfigSpace + ?Sized> Functions<'_, C> {
    /// Notes a bus to scan later; buses at or below the current one are never rescanned.
    fn add_bus(&mut self, current: u8, bus: u8) {
        if bus > current {
            self.pending[usize::from(bus / 32)] |= 1 << (bus % 32);
        }
    }

    /// Function 0 of device 0 on the lowest pending bus above `current`.
    fn next_bus(&self, current: u8) -> Option<PciAddress> {
        let bus = (u16::from(current) + 1..256)
            .map(|b| b as u8)
            .find(|&b| self.pending[usize::from(b / 32)] & (1 << (b % 32)) != 0)?;
        Some(PciAddress {
            bus,
            device: 0,
            function: 0,
        })
    }

    /// Follows bridges and extra host bridges found at `f`.
    fn note_buses_behind(&mut self, f: &PciFunction) {
        let addr = f.address;
        let is_host_bridge = f.class == 0x06 && f.subclass == 0x00;
        if addr.bus == 0 && addr.device == 0 && addr.function > 0 && is_host_bridge {
            self.add_bus(0, addr.function);
        }
        // Header types 1 (PCI-to-PCI) and 2 (CardBus) hold the secondary bus at 0x19.
        if matches!(f.header_type & 0x7F, 1 | 2) {
            if let Ok(secondary) = self.cfg.read8(addr, SECONDARY_BUS) {
                self.add_bus(addr.bus, secondary);
            }
        }
    }
}

impl<C: ConfigSpace + ?Sized> Iterator for Functions<'_, C> {
    type Item = PciFunction;

    fn next(&mut self) -> Option<PciFunction> {
        while let Some(addr) = self.next {
            let found = self.cfg.function(addr).ok();
            if let Some(f) = &found {
                self.note_buses_behind(f);
            }
            // Functions 1-7 exist only on a multi-function device; an absent function 0
            // means no device at all.
            let multi = addr.function > 0 || found.is_some_and(|f| f.is_multi_function());
            let same_device = if multi { addr.next_function() } else { None };
            self.next = same_device
                .or_else(|| addr.next_device())
                .or_else(|| self.next_bus(addr.bus));
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeSpace;
    use super::*;
    use std::string::ToString;

    fn at(bus: u8, device: u8, function: u8) -> PciAddress {
        PciAddress::new(bus, device, function).unwrap()
    }

    #[test]
    fn address_encoding_and_order() {
        let a = at(1, 2, 3);
        assert_eq!(a.config_address(0x3E), 0x8001_133C);
        assert_eq!(PciAddress::new(0, 0, 8), Err(PciError::InvalidFunction(8)));
        assert_eq!(at(0, 0, 6).next_function(), Some(at(0, 0, 7)));
        assert_eq!(at(0, 0, 7).next_function(), None);
        assert_eq!(at(0, 30, 7).next_device(), Some(at(0, 31, 0)));
        assert_eq!(at(255, 31, 0).next_device(), None);
        assert_eq!(at(3, 4, 5).to_string(), "03:04.5");
    }

    #[test]
    fn scan_finds_all_functions_once_in_order() {
        let mut cfg = FakeSpace::qemu_pc();
        // A single-function device whose functions 1-7 would answer if probed (aliasing, as
        // some hardware does): they must be skipped.
        cfg.add(at(0, 4, 0), 0x0001_1AF4, 0x0C03_0000, 0);
        cfg.add(at(0, 4, 1), 0x0001_1AF4, 0x0C03_0000, 0);
        // 00:1e.0 bridges to bus 2, 02:05.0 to bus 3; 03:01.0 points back at bus 1 (not
        // followed). 01:00.0 and 05:00.0 sit on buses nothing leads to.
        cfg.add(at(0, 0x1E, 0), 0x244E_8086, 0x0604_0000, 0x0001_0000);
        cfg.set(at(0, 0x1E, 0), 0x18, 0x0003_0200);
        cfg.add(at(2, 3, 0), 0x1234_5678, 0x0200_0000, 0);
        cfg.add(at(2, 5, 0), 0x0001_104C, 0x0607_0000, 0x0002_0000); // CardBus
        cfg.set(at(2, 5, 0), 0x18, 0x0003_0302);
        cfg.add(at(3, 0, 0), 0x0002_1AF4, 0x0C03_3000, 0);
        cfg.add(at(3, 1, 0), 0x244E_8086, 0x0604_0000, 0x0001_0000);
        cfg.set(at(3, 1, 0), 0x18, 0x0001_0103);
        cfg.add(at(1, 0, 0), 0x0003_1AF4, 0x0C03_3000, 0);
        cfg.add(at(5, 0, 0), 0x0004_1AF4, 0x0C03_3000, 0);
        let found: std::vec::Vec<_> = cfg
            .functions()
            .map(|f| (f.address.to_string(), f.class, f.subclass))
            .collect();
        assert_eq!(
            found,
            [
                ("00:00.0".to_string(), 0x06, 0x00),
                ("00:01.0".to_string(), 0x06, 0x01),
                ("00:01.1".to_string(), 0x01, 0x01),
                ("00:04.0".to_string(), 0x0C, 0x03),
                ("00:1e.0".to_string(), 0x06, 0x04),
                ("02:03.0".to_string(), 0x02, 0x00),
                ("02:05.0".to_string(), 0x06, 0x07),
                ("03:00.0".to_string(), 0x0C, 0x03),
                ("03:01.0".to_string(), 0x06, 0x04),
            ]
        );
        // What the scan does not reach is still there for a direct probe.
        assert_eq!(cfg.function(at(5, 0, 0)).map(|f| f.device_id), Ok(4));
    }

    #[test]
    fn extra_host_bridges_at_00_00_own_buses_1_to_7() {
        let mut cfg = FakeSpace::qemu_pc();
        cfg.set(at(0, 0, 0), 0x0C, 0x0080_0000);
        cfg.add(at(0, 0, 1), 0x1237_8086, 0x0600_0000, 0);
        cfg.add(at(0, 0, 2), 0x1237_8086, 0x0880_0000, 0); // not a host bridge
        cfg.add(at(1, 2, 0), 0x0001_1AF4, 0x0100_0000, 0);
        cfg.add(at(2, 2, 0), 0x0002_1AF4, 0x0100_0000, 0);
        let found: std::vec::Vec<_> = cfg.functions().map(|f| f.address).collect();
        assert_eq!(
            found,
            [
                at(0, 0, 0),
                at(0, 0, 1),
                at(0, 0, 2),
                at(0, 1, 0),
                at(0, 1, 1),
                at(1, 2, 0)
            ]
        );
    }

    #[test]
    fn scan_skips_addresses_that_fail() {
        let mut cfg = FakeSpace::qemu_pc();
        cfg.fail_at = Some(at(0, 1, 0));
        let found: std::vec::Vec<_> = cfg.functions().map(|f| f.address).collect();
        // 00:01.0 fails, so the device looks absent and 00:01.1 is not probed.
        assert_eq!(found, [at(0, 0, 0)]);
    }

    #[test]
    fn function_identity() {
        let mut cfg = FakeSpace::qemu_pc();
        let ide = cfg.function(at(0, 1, 1)).unwrap();
        assert_eq!(
            (ide.vendor_id, ide.device_id, ide.prog_if, ide.revision),
            (0x8086, 0x7010, 0x80, 0x00)
        );
        assert!(cfg.function(at(0, 1, 0)).unwrap().is_multi_function());
        assert_eq!(
            cfg.function(at(0, 9, 0)),
            Err(PciError::NoDevice(at(0, 9, 0)))
        );
    }

    #[test]
    fn bars_decode() {
        let mut cfg = FakeSpace::qemu_pc();
        let ide = at(0, 1, 1);
        assert_eq!(cfg.bar(ide, 4), Ok(Bar::Io { port: 0xC040 }));
        assert_eq!(cfg.bar(ide, 0), Ok(Bar::Unused));
        assert_eq!(cfg.bar(ide, 6), Err(PciError::InvalidBar(6)));
        let dev = at(0, 5, 0);
        cfg.add(dev, 0x0001_1AF4, 0x0100_0000, 0);
        cfg.set(dev, BAR0, 0xFEB0_000C); // 64-bit prefetchable
        cfg.set(dev, BAR0 + 4, 0x0000_0001);
        cfg.set(dev, BAR0 + 8, 0xFEC0_0000); // 32-bit
        cfg.set(dev, BAR0 + 12, 0xFED0_0002); // below 1 MiB type (legacy)
        cfg.set(dev, BAR0 + 16, 0xFEE0_0006); // reserved type
        cfg.set(dev, BAR0 + 20, 0xFEF0_0004); // 64-bit in the last slot
        assert_eq!(
            cfg.bar(dev, 0),
            Ok(Bar::Memory {
                address: 0x1_FEB0_0000,
                prefetchable: true,
                is_64bit: true
            })
        );
        assert_eq!(
            cfg.bar(dev, 2),
            Ok(Bar::Memory {
                address: 0xFEC0_0000,
                prefetchable: false,
                is_64bit: false
            })
        );
        assert!(matches!(
            cfg.bar(dev, 3),
            Ok(Bar::Memory {
                address: 0xFED0_0000,
                ..
            })
        ));
        for (index, raw) in [(4, 0xFEE0_0006), (5, 0xFEF0_0004)] {
            assert_eq!(
                cfg.bar(dev, index),
                Err(PciError::BadBar {
                    addr: dev,
                    index,
                    raw
                })
            );
        }
        cfg.set(dev, BAR0, 0x0001_0001); // I/O port 0x10000: not an x86 port
        assert_eq!(
            cfg.bar(dev, 0),
            Err(PciError::BadBar {
                addr: dev,
                index: 0,
                raw: 0x0001_0001
            })
        );
        cfg.set(dev, BAR0, 0xFFFF_FFFD);
        assert_eq!(
            cfg.bar(dev, 0),
            Err(PciError::BadBar {
                addr: dev,
                index: 0,
                raw: 0xFFFF_FFFD
            })
        );
        cfg.set(dev, BAR0, 0x0000_FFFD);
        assert_eq!(cfg.bar(dev, 0), Ok(Bar::Io { port: 0xFFFC }));
    }

    #[test]
    fn interrupt_line_and_pin() {
        let mut cfg = FakeSpace::qemu_pc();
        let ide = at(0, 1, 1);
        assert_eq!(
            cfg.interrupt(ide),
            Ok(Interrupt {
                line: None,
                pin: None
            })
        );
        for (pin, want) in [
            (1, InterruptPin::A),
            (2, InterruptPin::B),
            (3, InterruptPin::C),
            (4, InterruptPin::D),
        ] {
            cfg.set(ide, INTERRUPT_LINE, 0x0000_000B | pin << 8);
            assert_eq!(
                cfg.interrupt(ide),
                Ok(Interrupt {
                    line: Some(11),
                    pin: Some(want)
                })
            );
        }
        // No pin: the line register means nothing (QEMU's IDE function reads line 0, pin 0).
        cfg.set(ide, INTERRUPT_LINE, 0x0000_0000);
        assert_eq!(
            cfg.interrupt(ide),
            Ok(Interrupt {
                line: None,
                pin: None
            })
        );
        cfg.set(ide, INTERRUPT_LINE, 0x0000_0500);
        assert_eq!(
            cfg.interrupt(ide),
            Err(PciError::BadInterruptPin { addr: ide, pin: 5 })
        );
    }

    #[test]
    fn bus_mastering_is_set_and_the_rest_kept() {
        let mut cfg = FakeSpace::qemu_pc();
        let ide = at(0, 1, 1);
        cfg.set(ide, COMMAND, 0x0280_0103); // status: two W1C error bits set
        assert_eq!(cfg.enable_bus_mastering(ide), Ok(0x0103));
        assert_eq!(cfg.command(ide), Ok(0x0107));
        // The status half was written with zeros: its W1C bits are still set.
        assert_eq!(cfg.read16(ide, STATUS), Ok(0x0280));
        // Already set: nothing written, same answer.
        let writes = cfg.writes;
        assert_eq!(cfg.enable_bus_mastering(ide), Ok(0x0107));
        assert_eq!(cfg.writes, writes);
        assert_eq!(cfg.enable_io_space(ide), Ok(0x0107));
        let absent = at(0, 5, 0);
        assert_eq!(
            cfg.enable_bus_mastering(absent),
            Err(PciError::NoDevice(absent))
        );
    }

    #[test]
    fn command_bits_that_do_not_stick_are_an_error() {
        let mut cfg = FakeSpace::qemu_pc();
        let ide = at(0, 1, 1);
        cfg.set(ide, COMMAND, 0x0000_0001);
        cfg.hardwired_zero = COMMAND_BUS_MASTER | COMMAND_MEMORY_SPACE;
        assert_eq!(
            cfg.enable_bus_mastering(ide),
            Err(PciError::CommandNotSet {
                addr: ide,
                wanted: COMMAND_BUS_MASTER,
                got: 0x0001
            })
        );
        assert!(cfg.enable_memory_space(ide).is_err());
        assert_eq!(cfg.enable_io_space(ide), Ok(0x0001));
    }

    #[test]
    fn narrow_reads_check_alignment() {
        let mut cfg = FakeSpace::qemu_pc();
        let a = at(0, 0, 0);
        assert_eq!(
            cfg.read16(a, 1),
            Err(PciError::Misaligned {
                offset: 1,
                width: 2
            })
        );
        assert_eq!(cfg.read16(a, 2), Ok(0x1237));
        assert_eq!(cfg.read8(a, CLASS), Ok(0x06));
        assert_eq!(
            cfg.read32(a, 2),
            Err(PciError::Misaligned {
                offset: 2,
                width: 4
            })
        );
    }

    #[test]
    fn errors_say_what_and_where() {
        let a = at(0, 1, 1);
        let cases = [
            (
                PciError::InvalidDevice(40),
                "PCI device number 40 is above 31",
            ),
            (
                PciError::OffsetOutOfRange {
                    offset: 0x100,
                    limit: 256,
                },
                "PCI config offset 0x100 is past the 256-byte configuration space",
            ),
            (
                PciError::BadBar {
                    addr: a,
                    index: 5,
                    raw: 0xFEF0_0004,
                },
                "BAR5 of PCI function 00:01.1 has an invalid value 0xfef00004",
            ),
            (
                PciError::CommandNotSet {
                    addr: a,
                    wanted: 4,
                    got: 0x103,
                },
                "PCI function 00:01.1 did not accept command bits 0x0004 (command register \
                 reads 0x0103)",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn forwarding_impl_reaches_the_same_space() {
        fn via_generic(mut cfg: impl ConfigSpace) -> u16 {
            cfg.function(at(0, 1, 1)).unwrap().device_id
        }
        let mut cfg = FakeSpace::qemu_pc();
        assert_eq!(via_generic(&mut cfg), 0x7010);
        // A `&mut dyn ConfigSpace` is a `ConfigSpace` too, scan included.
        let mut dynamic: &mut dyn ConfigSpace = &mut cfg;
        assert_eq!(dynamic.read16(at(0, 1, 1), 0), Ok(0x8086));
        assert_eq!((&mut dynamic).functions().count(), 3);
        assert!(IdeController::find(&mut dynamic).is_ok());
    }
}
