//! PCI configuration space through mechanism #1 (ports 0xCF8 / 0xCFC), modelled on QEMU's
//! i440FX host bridge, with functions whose 256-byte configuration spaces a test builds.
//!
//! # What is modelled
//!
//! - 0xCF8: the 32-bit configuration address (dword accesses only, as QEMU: other widths read
//!   all ones and are dropped). It reads back as written.
//! - 0xCFC..=0xCFF: byte, word and dword accesses to the selected dword of the selected
//!   function's space (the port's low two bits pick the byte). With the enable bit (31) clear,
//!   or no function at the address, reads are all ones and writes are dropped.
//! - Writable registers, as QEMU's defaults: command (I/O, memory, bus master, parity, SERR,
//!   INTx disable bits), cache line size, latency timer, interrupt line, the BARs, and the
//!   device-specific area 0x40..=0xFF. Everything else is read-only.
//! - BARs with size probing: writing all ones reads back the size mask with the type bits
//!   (an I/O BAR of 16 ports reads `0xFFFF_FFF1`). Moving a BAR does not move the model that
//!   decodes its ports (models are attached at fixed ports).
//!
//! A [`PciFunction`] is a shared handle: keep a clone to inspect what the driver wrote
//! (the command register, say) or to give to a device model that must honour it (the IDE bus
//! master does DMA only while [`bus_master_enabled`](PciFunction::bus_master_enabled)).
//!
//! # Examples
//!
//! ```
//! use irqkit_hal::PortIo;
//! use irqkit_hal_mock::pci::{PciConfigSpace, PciFunction};
//! use irqkit_hal_mock::Sim;
//!
//! let sim = Sim::new();
//! let mut bus = sim.bus();
//! let ide = PciFunction::piix3_ide();
//! PciConfigSpace::qemu_pc(&ide).attach(&bus).unwrap();
//! bus.write32(0xCF8, 0x8000_0800 | 0x08); // 00:01.0, class dword
//! assert_eq!(bus.read32(0xCFC) >> 8, 0x06_01_00); // ISA bridge
//! bus.write32(0xCF8, 0x8000_0900 | 0x20); // 00:01.1, BAR4
//! assert_eq!(bus.read32(0xCFC), 0xC041);
//! bus.write32(0xCF8, 0x8000_0900 | 0x04);
//! bus.write16(0xCFC, 0x0107); // + bus master
//! assert!(ide.bus_master_enabled());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::bus::{AttachError, Bus, DeviceHandle};
use crate::device::{Device, DeviceAddr, DeviceCtx, Width};

/// Offset of the command register.
pub const COMMAND: usize = 0x04;
/// Command register: I/O space decoding.
pub const COMMAND_IO: u16 = 1 << 0;
/// Command register: memory space decoding.
pub const COMMAND_MEMORY: u16 = 1 << 1;
/// Command register: bus mastering (DMA) allowed.
pub const COMMAND_BUS_MASTER: u16 = 1 << 2;
/// Command register bits a driver can change (QEMU's default write mask).
pub const COMMAND_WRITABLE: u16 = 0x0547;
/// Offset of BAR0; BAR n is at `BAR0 + 4 * n`.
pub const BAR0: usize = 0x10;
/// Offset of the interrupt line register.
pub const INTERRUPT_LINE: usize = 0x3C;
/// Offset of the interrupt pin register.
pub const INTERRUPT_PIN: usize = 0x3D;

/// What kind of space a BAR decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKind {
    /// I/O ports.
    Io,
    /// 32-bit memory.
    Memory32 {
        /// Whether the prefetchable bit is set.
        prefetchable: bool,
    },
}

#[derive(Debug, Clone, Copy)]
struct BarSpec {
    kind: BarKind,
    size: u32,
}

impl BarSpec {
    /// The bits of the register a write can change.
    fn writable(self) -> u32 {
        let low = match self.kind {
            BarKind::Io => 0x3,
            BarKind::Memory32 { .. } => 0xF,
        };
        !(self.size - 1) & !low
    }

    fn type_bits(self) -> u32 {
        match self.kind {
            BarKind::Io => 0x1,
            BarKind::Memory32 { prefetchable } => u32::from(prefetchable) << 3,
        }
    }
}

#[derive(Debug)]
struct FunctionState {
    config: [u8; 256],
    /// Bits a configuration write may change, byte by byte.
    wmask: [u8; 256],
    bars: [Option<BarSpec>; 6],
}

/// One PCI function's configuration space: a shared handle (clones see the same registers).
#[derive(Clone)]
pub struct PciFunction {
    state: Arc<Mutex<FunctionState>>,
}

impl fmt::Debug for PciFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.lock();
        let word = |o: usize| u16::from_le_bytes([s.config[o], s.config[o + 1]]);
        write!(
            f,
            "PciFunction({:04x}:{:04x} class {:02x}:{:02x}:{:02x} command {:#06x})",
            word(0),
            word(2),
            s.config[0x0B],
            s.config[0x0A],
            s.config[0x09],
            word(COMMAND)
        )
    }
}

impl PciFunction {
    /// A function with a type 0 header: `vendor`:`device`, class `class`:`subclass`, the given
    /// programming interface, command register 0, no BARs, no interrupt.
    pub fn new(vendor: u16, device: u16, class: u8, subclass: u8, prog_if: u8) -> Self {
        let mut config = [0u8; 256];
        config[0..2].copy_from_slice(&vendor.to_le_bytes());
        config[2..4].copy_from_slice(&device.to_le_bytes());
        config[0x09] = prog_if;
        config[0x0A] = subclass;
        config[0x0B] = class;
        let mut wmask = [0u8; 256];
        wmask[COMMAND..COMMAND + 2].copy_from_slice(&COMMAND_WRITABLE.to_le_bytes());
        wmask[0x0C] = 0xFF; // cache line size
        wmask[0x0D] = 0xFF; // latency timer
        wmask[INTERRUPT_LINE] = 0xFF;
        wmask[0x40..].fill(0xFF);
        PciFunction {
            state: Arc::new(Mutex::new(FunctionState {
                config,
                wmask,
                bars: [None; 6],
            })),
        }
    }

    /// QEMU's PIIX3 IDE function as SeaBIOS leaves it (00:01.1): 8086:7010, class 01:01
    /// prog-if 0x80 (both channels in compatibility mode, bus-master capable), BAR4 the
    /// 16-port bus-master block at 0xC040 (reads 0xC041), command 0x0103 (I/O and memory
    /// decoding and SERR on, bus mastering off), interrupt line 14.
    pub fn piix3_ide() -> Self {
        PciFunction::new(0x8086, 0x7010, 0x01, 0x01, 0x80)
            .with_bar(4, BarKind::Io, 0xC040, 16)
            .with_command(0x0103)
            .with_interrupt(14, 0)
    }

    /// QEMU's i440FX host bridge (00:00.0): 8086:1237, class 06:00.
    pub fn i440fx_host_bridge() -> Self {
        PciFunction::new(0x8086, 0x1237, 0x06, 0x00, 0x00).with_command(0x0103)
    }

    /// QEMU's PIIX3 ISA bridge (00:01.0): 8086:7000, class 06:01, multi-function header
    /// (so a scan looks at functions 1..=7 of device 1).
    pub fn piix3_isa_bridge() -> Self {
        PciFunction::new(0x8086, 0x7000, 0x06, 0x01, 0x00)
            .with_header_type(0x80)
            .with_command(0x0107)
    }

    fn lock(&self) -> MutexGuard<'_, FunctionState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds BAR `index` (0..=5) of `kind`, `size` bytes (a power of two, at least 4), at `base`.
    ///
    /// # Panics
    ///
    /// If `index` is above 5 or `size` is not a power of two of at least 4 (16 for memory).
    pub fn with_bar(self, index: usize, kind: BarKind, base: u32, size: u32) -> Self {
        assert!(index < 6, "BAR index {index} is above 5");
        let min = if kind == BarKind::Io { 4 } else { 16 };
        assert!(
            size.is_power_of_two() && size >= min,
            "BAR size {size} is not a power of two of at least {min}"
        );
        {
            let mut s = self.lock();
            let spec = BarSpec { kind, size };
            s.bars[index] = Some(spec);
            let value = (base & spec.writable()) | spec.type_bits();
            let at = BAR0 + 4 * index;
            s.config[at..at + 4].copy_from_slice(&value.to_le_bytes());
        }
        self
    }

    /// Sets the command register.
    pub fn with_command(self, command: u16) -> Self {
        self.lock().config[COMMAND..COMMAND + 2].copy_from_slice(&command.to_le_bytes());
        self
    }

    /// Sets the interrupt line (what the firmware routed) and pin (1 = INTA#, 0 = none).
    pub fn with_interrupt(self, line: u8, pin: u8) -> Self {
        {
            let mut s = self.lock();
            s.config[INTERRUPT_LINE] = line;
            s.config[INTERRUPT_PIN] = pin;
        }
        self
    }

    /// Sets the header type byte (bit 7: multi-function device).
    pub fn with_header_type(self, header_type: u8) -> Self {
        self.lock().config[0x0E] = header_type;
        self
    }

    /// Sets the revision ID.
    pub fn with_revision(self, revision: u8) -> Self {
        self.lock().config[0x08] = revision;
        self
    }

    /// Reads `width` bytes of configuration space at `offset` (little-endian), as the bus
    /// would; bytes past 0xFF read as 0xFF.
    pub fn read(&self, offset: u8, width: Width) -> u32 {
        let s = self.lock();
        let mut value = 0u32;
        for i in (0..usize::from(width.bytes())).rev() {
            let byte = s
                .config
                .get(usize::from(offset) + i)
                .copied()
                .unwrap_or(0xFF);
            value = value << 8 | u32::from(byte);
        }
        value
    }

    /// Writes `width` bytes at `offset` as the bus would: only writable bits change, BARs keep
    /// their size mask and type bits.
    pub fn write(&self, offset: u8, width: Width, value: u32) {
        let mut s = self.lock();
        let offset = usize::from(offset);
        for (i, byte) in value
            .to_le_bytes()
            .into_iter()
            .take(usize::from(width.bytes()))
            .enumerate()
        {
            let at = offset + i;
            if at >= 256 {
                break;
            }
            if (BAR0..BAR0 + 24).contains(&at) {
                let index = (at - BAR0) / 4;
                let Some(spec) = s.bars[index] else { continue };
                let shift = (at % 4) * 8;
                let mask = (spec.writable() >> shift) as u8;
                s.config[at] = (s.config[at] & !mask) | (byte & mask);
                continue;
            }
            let mask = s.wmask[at];
            s.config[at] = (s.config[at] & !mask) | (byte & mask);
        }
    }

    /// The command register.
    pub fn command(&self) -> u16 {
        let s = self.lock();
        u16::from_le_bytes([s.config[COMMAND], s.config[COMMAND + 1]])
    }

    /// Whether the command register allows bus mastering (DMA).
    pub fn bus_master_enabled(&self) -> bool {
        self.command() & COMMAND_BUS_MASTER != 0
    }

    /// Whether the command register enables I/O space decoding.
    pub fn io_space_enabled(&self) -> bool {
        self.command() & COMMAND_IO != 0
    }

    /// A copy of the whole configuration space.
    pub fn config(&self) -> [u8; 256] {
        self.lock().config
    }
}

/// The configuration mechanism #1 device (ports 0xCF8..=0xCFF) hosting [`PciFunction`]s.
/// See the [module docs](self).
#[derive(Debug, Default)]
pub struct PciConfigSpace {
    address: u32,
    functions: BTreeMap<(u8, u8, u8), PciFunction>,
}

impl PciConfigSpace {
    /// An empty configuration space: every address reads all ones.
    pub fn new() -> Self {
        Self::default()
    }

    /// QEMU's `pc` machine as far as IDE needs: the i440FX host bridge at 00:00.0, the PIIX3
    /// ISA bridge at 00:01.0 and `ide` (normally [`PciFunction::piix3_ide`]) at 00:01.1.
    pub fn qemu_pc(ide: &PciFunction) -> Self {
        PciConfigSpace::new()
            .with_function(0, 0, 0, PciFunction::i440fx_host_bridge())
            .with_function(0, 1, 0, PciFunction::piix3_isa_bridge())
            .with_function(0, 1, 1, ide.clone())
    }

    /// Places `function` at `bus`:`device`.`function_number`, replacing what was there.
    ///
    /// # Panics
    ///
    /// If `device` is above 31 or `function_number` above 7.
    pub fn with_function(
        mut self,
        bus: u8,
        device: u8,
        function_number: u8,
        function: PciFunction,
    ) -> Self {
        assert!(device < 32 && function_number < 8, "no such PCI address");
        self.functions
            .insert((bus, device, function_number), function);
        self
    }

    /// The function at an address, if any.
    pub fn function(&self, bus: u8, device: u8, function_number: u8) -> Option<PciFunction> {
        self.functions.get(&(bus, device, function_number)).cloned()
    }

    /// The configuration address register as last written.
    pub fn address(&self) -> u32 {
        self.address
    }

    /// Attaches `model` to `bus` at ports 0xCF8..=0xCFF.
    ///
    /// # Errors
    ///
    /// [`AttachError`] if the ports are taken.
    pub fn attach(self, bus: &Bus) -> Result<DeviceHandle<PciConfigSpace>, AttachError> {
        bus.attach("pci-config", &[0xCF8..=0xCFF], self)
    }

    /// The selected function and the register offset of a data port access at `port_offset`
    /// (0..=3 from 0xCFC), if enabled and present.
    fn selected(&self, port_offset: u16) -> Option<(&PciFunction, u8)> {
        let a = self.address;
        if a & 0x8000_0000 == 0 {
            return None;
        }
        let key = (
            (a >> 16) as u8,
            ((a >> 11) & 0x1F) as u8,
            ((a >> 8) & 0x7) as u8,
        );
        let offset = (a & 0xFC) as u8 + port_offset as u8;
        self.functions.get(&key).map(|f| (f, offset))
    }
}

impl Device for PciConfigSpace {
    fn read(&mut self, at: DeviceAddr, width: Width, _: &mut DeviceCtx<'_>) -> u32 {
        match at.offset {
            0 if width == Width::W32 => self.address,
            4..=7 => match self.selected(at.offset - 4) {
                Some((function, offset)) => function.read(offset, width),
                None => width.mask(),
            },
            _ => width.mask(),
        }
    }

    fn write(&mut self, at: DeviceAddr, width: Width, value: u32, _: &mut DeviceCtx<'_>) {
        match at.offset {
            0 if width == Width::W32 => self.address = value,
            4..=7 => {
                if let Some((function, offset)) = self.selected(at.offset - 4) {
                    function.write(offset, width, value);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sim;
    use irqkit_hal::PortIo;

    fn addr(device: u32, function: u32, offset: u32) -> u32 {
        0x8000_0000 | device << 11 | function << 8 | offset
    }

    fn setup() -> (Bus, PciFunction) {
        let bus = Sim::new().bus();
        let ide = PciFunction::piix3_ide();
        PciConfigSpace::qemu_pc(&ide).attach(&bus).unwrap();
        (bus, ide)
    }

    #[test]
    fn piix3_ide_identity_as_seabios_leaves_it() {
        let (mut bus, _) = setup();
        bus.write32(0xCF8, addr(1, 1, 0));
        assert_eq!(bus.read32(0xCFC), 0x7010_8086);
        bus.write32(0xCF8, addr(1, 1, 0x08));
        assert_eq!(bus.read32(0xCFC), 0x0101_8000);
        assert_eq!(bus.read8(0xCFD), 0x80, "prog-if through the byte port");
        bus.write32(0xCF8, addr(1, 1, 0x04));
        assert_eq!(bus.read16(0xCFC), 0x0103);
        bus.write32(0xCF8, addr(1, 1, 0x20));
        assert_eq!(bus.read32(0xCFC), 0xC041);
        bus.write32(0xCF8, addr(1, 1, 0x3C));
        assert_eq!(bus.read8(0xCFC), 14);
        bus.write32(0xCF8, addr(1, 0, 0x0C));
        assert_eq!(bus.read8(0xCFE), 0x80, "ISA bridge is multi-function");
        assert_eq!(bus.read32(0xCF8), addr(1, 0, 0x0C), "address reads back");
    }

    #[test]
    fn absent_functions_disabled_access_and_odd_widths_read_all_ones() {
        let (mut bus, ide) = setup();
        bus.write32(0xCF8, addr(2, 0, 0));
        assert_eq!(bus.read32(0xCFC), 0xFFFF_FFFF);
        bus.write32(0xCF8, addr(1, 1, 0) & 0x7FFF_FFFF);
        assert_eq!(bus.read16(0xCFE), 0xFFFF);
        bus.write32(0xCF8, addr(1, 1, 0x04) & 0x7FFF_FFFF);
        bus.write16(0xCFC, 0x0107);
        assert!(
            !ide.bus_master_enabled(),
            "writes with the enable bit clear drop"
        );
        assert_eq!(bus.read8(0xCF8), 0xFF);
        bus.write8(0xCF8, 0x12);
        assert_eq!(bus.read32(0xCF8), addr(1, 1, 0x04) & 0x7FFF_FFFF);
    }

    #[test]
    fn command_register_bits_and_read_only_identity() {
        let (mut bus, ide) = setup();
        bus.write32(0xCF8, addr(1, 1, 0x04));
        bus.write16(0xCFC, 0xFFFF);
        assert_eq!(bus.read16(0xCFC), COMMAND_WRITABLE);
        bus.write8(0xCFC, 0x05);
        assert!(ide.bus_master_enabled() && ide.io_space_enabled());
        assert_eq!(ide.command(), 0x0505);
        bus.write32(0xCF8, addr(1, 1, 0));
        bus.write32(0xCFC, 0);
        assert_eq!(bus.read32(0xCFC), 0x7010_8086);
        bus.write32(0xCF8, addr(1, 1, 0x40));
        bus.write32(0xCFC, 0x8000_8000);
        assert_eq!(
            bus.read32(0xCFC),
            0x8000_8000,
            "device-specific area is writable"
        );
    }

    #[test]
    fn bar_size_probing_and_restore() {
        let (mut bus, ide) = setup();
        bus.write32(0xCF8, addr(1, 1, 0x20));
        bus.write32(0xCFC, 0xFFFF_FFFF);
        assert_eq!(bus.read32(0xCFC), 0xFFFF_FFF1);
        bus.write32(0xCFC, 0xC040);
        assert_eq!(bus.read32(0xCFC), 0xC041);
        bus.write32(0xCF8, addr(1, 1, 0x10));
        bus.write32(0xCFC, 0xFFFF_FFFF);
        assert_eq!(bus.read32(0xCFC), 0, "unimplemented BAR stays zero");
        let f = PciFunction::new(0x1234, 0x5678, 2, 0, 0).with_bar(
            0,
            BarKind::Memory32 { prefetchable: true },
            0xFEB0_0000,
            0x1000,
        );
        assert_eq!(f.read(0x10, Width::W32), 0xFEB0_0008);
        f.write(0x10, Width::W32, 0xFFFF_FFFF);
        assert_eq!(f.read(0x10, Width::W32), 0xFFFF_F008);
        assert_eq!(ide.config()[0x20], 0x41);
    }
}
