//! Finding an IDE controller (class 01, subclass 01) and decoding where its channels are.

use core::fmt;

use super::{Bar, ConfigSpace, Interrupt, PciAddress, PciError, PciFunction};

/// Class code of mass-storage controllers.
pub const CLASS_MASS_STORAGE: u8 = 0x01;
/// Subclass of IDE controllers (with [`CLASS_MASS_STORAGE`]).
pub const SUBCLASS_IDE: u8 = 0x01;

/// Prog-if bit: the primary channel runs in native mode (its own BARs and the PCI interrupt).
const PRIMARY_NATIVE: u8 = 1 << 0;
/// Prog-if bit: the secondary channel runs in native mode.
const SECONDARY_NATIVE: u8 = 1 << 2;
/// Prog-if bit: the controller has a bus-master (DMA) engine at BAR4.
const BUS_MASTER: u8 = 1 << 7;

/// How a channel is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChannelMode {
    /// The legacy ISA ports and IRQ (0x1F0 / 0x3F6 / IRQ 14 primary, 0x170 / 0x376 / IRQ 15
    /// secondary).
    Compatibility,
    /// Ports from the function's BARs and the function's PCI interrupt.
    Native,
}

/// Where one IDE channel's registers are and which IRQ it raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IdeChannel {
    /// Legacy ports or the function's BARs.
    pub mode: ChannelMode,
    /// The command block: data port at +0 up to status / command at +7 (0x1F0 / 0x170, or
    /// BAR0 / BAR2 in native mode).
    pub command_block: u16,
    /// The alternate status (read) / device control (write) port (0x3F6 / 0x376, or
    /// BAR1 / BAR3 + 2 in native mode).
    pub control: u16,
    /// This channel's bus-master registers (BAR4 + 0 primary, + 8 secondary): command at +0,
    /// status at +2, PRD table address at +4. `None` when the controller has no bus master.
    pub bus_master: Option<u16>,
    /// The IRQ: 14 / 15 in compatibility mode, the function's interrupt line in native mode
    /// (`None` when the firmware routed none; poll then).
    pub irq: Option<u8>,
}

/// An IDE controller's two channels, as the firmware configured them.
///
/// Decoding changes nothing: turn on I/O decoding and DMA with
/// [`ConfigSpace::enable_io_space`] and [`ConfigSpace::enable_bus_mastering`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct IdeController {
    /// The PCI function (address, IDs, prog-if).
    pub function: PciFunction,
    /// The primary channel.
    pub primary: IdeChannel,
    /// The secondary channel.
    pub secondary: IdeChannel,
    /// The function's interrupt routing (what native channels use).
    pub interrupt: Interrupt,
}

/// Why no usable IDE controller was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum IdeError {
    /// No function with class 01, subclass 01 on any bus.
    NotFound,
    /// The function at this address is not an IDE controller.
    NotIde {
        /// Where the function lives.
        addr: PciAddress,
        /// Its class code.
        class: u8,
        /// Its subclass.
        subclass: u8,
    },
    /// A BAR the controller needs (a native channel's BAR0-3, or BAR4 of a bus-master
    /// capable controller) is not assigned: it reads 0.
    BarUnassigned {
        /// Where the function lives.
        addr: PciAddress,
        /// The BAR index.
        index: u8,
    },
    /// A BAR the controller needs is a memory BAR where IDE needs I/O ports.
    BarNotIo {
        /// Where the function lives.
        addr: PciAddress,
        /// The BAR index.
        index: u8,
        /// What the BAR holds.
        bar: Bar,
    },
    /// An I/O BAR so close to port 0xFFFF that the registers the controller needs there
    /// would pass it.
    BarTooHigh {
        /// Where the function lives.
        addr: PciAddress,
        /// The BAR index.
        index: u8,
        /// The BAR's base port.
        port: u16,
    },
    /// A configuration access failed or returned an invalid value.
    Pci(PciError),
}

impl From<PciError> for IdeError {
    fn from(e: PciError) -> Self {
        Self::Pci(e)
    }
}

impl fmt::Display for IdeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NotFound => f.write_str("no IDE controller (PCI class 01:01) found"),
            Self::NotIde {
                addr,
                class,
                subclass,
            } => write!(
                f,
                "PCI function {addr} is class {class:02x}:{subclass:02x}, not an IDE \
                 controller (01:01)"
            ),
            Self::BarUnassigned { addr, index } => {
                write!(f, "IDE controller {addr}: BAR{index} is not assigned")
            }
            Self::BarNotIo { addr, index, bar } => write!(
                f,
                "IDE controller {addr}: BAR{index} is {bar:?}, not an I/O port range"
            ),
            Self::BarTooHigh { addr, index, port } => write!(
                f,
                "IDE controller {addr}: BAR{index} at port {port:#06x} runs past port 0xffff"
            ),
            Self::Pci(e) => write!(f, "IDE controller: {e}"),
        }
    }
}

impl core::error::Error for IdeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Pci(e) => Some(e),
            _ => None,
        }
    }
}

impl IdeController {
    /// Finds the first IDE controller (class 01:01) in scan order and decodes it.
    ///
    /// # Errors
    ///
    /// [`IdeError::NotFound`] when there is none; otherwise as for [`at`](Self::at).
    pub fn find<C: ConfigSpace>(cfg: &mut C) -> Result<Self, IdeError> {
        let ide = cfg
            .functions()
            .find(|f| f.class == CLASS_MASS_STORAGE && f.subclass == SUBCLASS_IDE)
            .ok_or(IdeError::NotFound)?;
        Self::at(cfg, ide.address)
    }

    /// Decodes the IDE controller at `addr`: channel modes from prog-if, ports from the legacy
    /// addresses or BAR0-3, the bus-master base from BAR4, IRQs.
    ///
    /// # Errors
    ///
    /// [`IdeError::Pci`] with [`PciError::NoDevice`] when nothing is there;
    /// [`IdeError::NotIde`] for another kind of function; [`IdeError::BarUnassigned`],
    /// [`IdeError::BarNotIo`] or [`IdeError::BarTooHigh`] for a BAR a native channel or the bus
    /// master needs; [`IdeError::Pci`] for a failed access or an invalid register value.
    pub fn at<C: ConfigSpace + ?Sized>(cfg: &mut C, addr: PciAddress) -> Result<Self, IdeError> {
        let function = cfg.function(addr)?;
        if function.class != CLASS_MASS_STORAGE || function.subclass != SUBCLASS_IDE {
            return Err(IdeError::NotIde {
                addr,
                class: function.class,
                subclass: function.subclass,
            });
        }
        let interrupt = cfg.interrupt(addr)?;
        let bus_master = if function.prog_if & BUS_MASTER != 0 {
            // 16 ports: 8 per channel.
            Some(io_bar(cfg, addr, 4, 15)?)
        } else {
            None
        };
        let channel = |cfg: &mut C, native: bool, n: u8| -> Result<IdeChannel, IdeError> {
            let bus_master = bus_master.map(|base| base + 8 * u16::from(n));
            if !native {
                let (command_block, control, irq) = match n {
                    0 => (0x1F0, 0x3F6, 14),
                    _ => (0x170, 0x376, 15),
                };
                return Ok(IdeChannel {
                    mode: ChannelMode::Compatibility,
                    command_block,
                    control,
                    bus_master,
                    irq: Some(irq),
                });
            }
            // Command block: 8 ports; control block: 4 ports, the register at +2.
            let command_block = io_bar(cfg, addr, 2 * n, 7)?;
            let control = io_bar(cfg, addr, 2 * n + 1, 3)? + 2;
            Ok(IdeChannel {
                mode: ChannelMode::Native,
                command_block,
                control,
                bus_master,
                irq: interrupt.line,
            })
        };
        let primary = channel(cfg, function.prog_if & PRIMARY_NATIVE != 0, 0)?;
        let secondary = channel(cfg, function.prog_if & SECONDARY_NATIVE != 0, 1)?;
        Ok(Self {
            function,
            primary,
            secondary,
            interrupt,
        })
    }

    /// Whether the controller has a bus-master (DMA) engine (prog-if bit 7).
    pub const fn bus_master_capable(&self) -> bool {
        self.function.prog_if & BUS_MASTER != 0
    }

    /// The two channels, primary first.
    pub const fn channels(&self) -> [IdeChannel; 2] {
        [self.primary, self.secondary]
    }
}

/// The base port of I/O BAR `index`, whose range must hold `last` more ports after it.
fn io_bar<C: ConfigSpace + ?Sized>(
    cfg: &mut C,
    addr: PciAddress,
    index: u8,
    last: u16,
) -> Result<u16, IdeError> {
    match cfg.bar(addr, index)? {
        Bar::Unused | Bar::Io { port: 0 } => Err(IdeError::BarUnassigned { addr, index }),
        Bar::Io { port } if port.checked_add(last).is_none() => {
            Err(IdeError::BarTooHigh { addr, index, port })
        }
        Bar::Io { port } => Ok(port),
        bar @ Bar::Memory { .. } => Err(IdeError::BarNotIo { addr, index, bar }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeSpace;
    use super::super::{InterruptPin, BAR0, INTERRUPT_LINE};
    use super::*;
    use std::string::ToString;

    fn at(bus: u8, device: u8, function: u8) -> PciAddress {
        PciAddress::new(bus, device, function).unwrap()
    }

    fn ide_fn() -> PciAddress {
        at(0, 1, 1)
    }

    /// Sets the IDE function's prog-if (the class dword is 0x0101_xx00).
    fn prog_if(cfg: &mut FakeSpace, value: u8) {
        cfg.set(ide_fn(), 0x08, 0x0101_0000 | u32::from(value) << 8);
    }

    #[test]
    fn qemu_pc_compatibility_with_bus_master() {
        let mut cfg = FakeSpace::qemu_pc();
        let ide = IdeController::find(&mut cfg).unwrap();
        assert_eq!(ide.function.address, ide_fn());
        assert!(ide.bus_master_capable());
        assert_eq!(
            ide.channels(),
            [
                IdeChannel {
                    mode: ChannelMode::Compatibility,
                    command_block: 0x1F0,
                    control: 0x3F6,
                    bus_master: Some(0xC040),
                    irq: Some(14),
                },
                IdeChannel {
                    mode: ChannelMode::Compatibility,
                    command_block: 0x170,
                    control: 0x376,
                    bus_master: Some(0xC048),
                    irq: Some(15),
                },
            ]
        );
        assert_eq!(cfg.writes, 0, "decoding must not change the configuration");
    }

    #[test]
    fn native_channels_use_their_bars_and_the_pci_interrupt() {
        let mut cfg = FakeSpace::qemu_pc();
        prog_if(&mut cfg, 0x8F);
        for (i, bar) in [0xD001, 0xD011, 0xD021, 0xD031].into_iter().enumerate() {
            cfg.set(ide_fn(), BAR0 + 4 * i as u16, bar);
        }
        cfg.set(ide_fn(), INTERRUPT_LINE, 0x0000_010B);
        let ide = IdeController::at(&mut cfg, ide_fn()).unwrap();
        assert_eq!(ide.interrupt.pin, Some(InterruptPin::A));
        assert_eq!(
            ide.primary,
            IdeChannel {
                mode: ChannelMode::Native,
                command_block: 0xD000,
                control: 0xD012,
                bus_master: Some(0xC040),
                irq: Some(11),
            }
        );
        assert_eq!(ide.secondary.command_block, 0xD020);
        assert_eq!(ide.secondary.control, 0xD032);
        assert_eq!(ide.secondary.bus_master, Some(0xC048));
        // Unrouted interrupt line: native channels have no IRQ (poll).
        cfg.set(ide_fn(), INTERRUPT_LINE, 0x0000_01FF);
        let ide = IdeController::at(&mut cfg, ide_fn()).unwrap();
        assert_eq!((ide.primary.irq, ide.secondary.irq), (None, None));
    }

    #[test]
    fn mixed_modes_and_no_bus_master() {
        let mut cfg = FakeSpace::qemu_pc();
        prog_if(&mut cfg, 0x04); // secondary native, no bus master
        cfg.set(ide_fn(), 0x20, 0); // BAR4 unassigned: not needed without bus master
        cfg.set(ide_fn(), BAR0 + 8, 0xE001);
        cfg.set(ide_fn(), BAR0 + 12, 0xE101);
        cfg.set(ide_fn(), INTERRUPT_LINE, 0x0000_010A);
        let ide = IdeController::at(&mut cfg, ide_fn()).unwrap();
        assert!(!ide.bus_master_capable());
        assert_eq!(ide.primary.mode, ChannelMode::Compatibility);
        assert_eq!(ide.primary.bus_master, None);
        assert_eq!(ide.primary.irq, Some(14));
        assert_eq!(ide.secondary.mode, ChannelMode::Native);
        assert_eq!(ide.secondary.command_block, 0xE000);
        assert_eq!(ide.secondary.control, 0xE102);
        assert_eq!(ide.secondary.irq, Some(10));
    }

    #[test]
    fn every_bad_bar_is_a_typed_error() {
        let addr = ide_fn();
        // Bus master capable, BAR4 unassigned.
        let mut cfg = FakeSpace::qemu_pc();
        cfg.set(addr, 0x20, 0);
        assert_eq!(
            IdeController::at(&mut cfg, addr),
            Err(IdeError::BarUnassigned { addr, index: 4 })
        );
        // I/O BAR at port 0 is unassigned too.
        cfg.set(addr, 0x20, 1);
        assert_eq!(
            IdeController::at(&mut cfg, addr),
            Err(IdeError::BarUnassigned { addr, index: 4 })
        );
        // BAR4 as memory.
        cfg.set(addr, 0x20, 0xFEB0_0000);
        assert_eq!(
            IdeController::at(&mut cfg, addr),
            Err(IdeError::BarNotIo {
                addr,
                index: 4,
                bar: Bar::Memory {
                    address: 0xFEB0_0000,
                    prefetchable: false,
                    is_64bit: false
                }
            })
        );
        // BAR4's 16 ports would pass 0xFFFF.
        cfg.set(addr, 0x20, 0xFFF5);
        assert_eq!(
            IdeController::at(&mut cfg, addr),
            Err(IdeError::BarTooHigh {
                addr,
                index: 4,
                port: 0xFFF4
            })
        );
        cfg.set(addr, 0x20, 0xFFF1);
        assert!(IdeController::at(&mut cfg, addr).is_ok());
        // Native primary with an unassigned control BAR.
        prog_if(&mut cfg, 0x81);
        cfg.set(addr, BAR0, 0xD001);
        assert_eq!(
            IdeController::at(&mut cfg, addr),
            Err(IdeError::BarUnassigned { addr, index: 1 })
        );
        // A 64-bit BAR where BAR5 would hold its high half is fine to skip; a bad encoding in
        // a needed BAR is a PCI error.
        cfg.set(addr, BAR0 + 4, 0xFEF0_0006);
        assert_eq!(
            IdeController::at(&mut cfg, addr),
            Err(IdeError::Pci(PciError::BadBar {
                addr,
                index: 1,
                raw: 0xFEF0_0006
            }))
        );
    }

    #[test]
    fn not_found_not_ide_no_device() {
        let mut cfg = FakeSpace::qemu_pc();
        prog_if(&mut cfg, 0x80);
        cfg.set(ide_fn(), 0x08, 0x0106_0100); // SATA AHCI
        assert_eq!(IdeController::find(&mut cfg), Err(IdeError::NotFound));
        assert_eq!(
            IdeController::at(&mut cfg, ide_fn()),
            Err(IdeError::NotIde {
                addr: ide_fn(),
                class: 0x01,
                subclass: 0x06
            })
        );
        let absent = at(0, 7, 0);
        assert_eq!(
            IdeController::at(&mut cfg, absent),
            Err(IdeError::Pci(PciError::NoDevice(absent)))
        );
        // A garbage interrupt pin is reported, not guessed around.
        let mut cfg = FakeSpace::qemu_pc();
        cfg.set(ide_fn(), INTERRUPT_LINE, 0x0000_090E);
        assert_eq!(
            IdeController::at(&mut cfg, ide_fn()),
            Err(IdeError::Pci(PciError::BadInterruptPin {
                addr: ide_fn(),
                pin: 9
            }))
        );
    }

    #[test]
    fn errors_say_what_and_where() {
        let addr = ide_fn();
        assert_eq!(
            IdeError::BarTooHigh {
                addr,
                index: 4,
                port: 0xFFF4
            }
            .to_string(),
            "IDE controller 00:01.1: BAR4 at port 0xfff4 runs past port 0xffff"
        );
        assert_eq!(
            IdeError::NotIde {
                addr,
                class: 1,
                subclass: 6
            }
            .to_string(),
            "PCI function 00:01.1 is class 01:06, not an IDE controller (01:01)"
        );
        let e = IdeError::from(PciError::NoDevice(addr));
        assert_eq!(e.to_string(), "IDE controller: no PCI function at 00:01.1");
        assert!(core::error::Error::source(&e).is_some());
    }
}
