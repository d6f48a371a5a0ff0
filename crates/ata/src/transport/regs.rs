//! Where a channel's registers are.

/// The two channels of a PC IDE controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChannelId {
    /// Ports 0x1F0 / 0x3F6, IRQ 14 in compatibility mode.
    Primary,
    /// Ports 0x170 / 0x376, IRQ 15 in compatibility mode.
    Secondary,
}

impl ChannelId {
    /// The ISA interrupt of the channel in compatibility mode.
    pub const fn legacy_irq(self) -> u8 {
        match self {
            ChannelId::Primary => 14,
            ChannelId::Secondary => 15,
        }
    }

    /// Bit of the PCI programming interface byte saying the channel runs in native mode.
    pub const fn native_mode_bit(self) -> u8 {
        match self {
            ChannelId::Primary => 0x01,
            ChannelId::Secondary => 0x04,
        }
    }

    /// Offset of this channel's bus-master registers from the bus-master base (BAR4).
    pub const fn bus_master_offset(self) -> u16 {
        match self {
            ChannelId::Primary => 0,
            ChannelId::Secondary => 8,
        }
    }
}

/// The I/O ports of one channel.
///
/// From the PCI IDE helper of `irqkit-hal` (which reads prog-if, the BARs and the interrupt
/// line, so both compatibility and native channels come out right):
///
/// ```
/// use irqkit_ata::ChannelRegs;
/// use irqkit_hal::pci::{ConfigSpace, IdeController, IdeError};
///
/// fn ide_channels(cfg: &mut impl ConfigSpace) -> Result<[ChannelRegs; 2], IdeError> {
///     let ide = IdeController::find(cfg)?;
///     // SeaBIOS leaves bus mastering off: without it DMA never moves a byte.
///     cfg.enable_io_space(ide.function.address)?;
///     cfg.enable_bus_mastering(ide.function.address)?;
///     Ok(ide.channels().map(ChannelRegs::from))
/// }
/// ```
///
/// By hand:
///
/// ```
/// use irqkit_ata::{ChannelId, ChannelRegs};
/// // Compatibility mode with bus mastering: BAR4 read from PCI config space.
/// let bar4 = 0xC040;
/// let regs = ChannelRegs::legacy(ChannelId::Secondary).with_bus_master(bar4, ChannelId::Secondary);
/// assert_eq!((regs.command, regs.control, regs.bus_master), (0x170, 0x376, Some(0xC048)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChannelRegs {
    /// Command block base (data port; the status/command register is at +7).
    pub command: u16,
    /// The alternate status / device control register.
    pub control: u16,
    /// This channel's bus-master registers (BAR4, +8 for the secondary channel); `None` for
    /// PIO only.
    pub bus_master: Option<u16>,
}

impl ChannelRegs {
    /// The primary channel's legacy ports, no bus master.
    pub const PRIMARY: ChannelRegs = ChannelRegs::legacy(ChannelId::Primary);
    /// The secondary channel's legacy ports, no bus master.
    pub const SECONDARY: ChannelRegs = ChannelRegs::legacy(ChannelId::Secondary);

    /// The legacy (compatibility mode) ports of `id`, no bus master.
    pub const fn legacy(id: ChannelId) -> ChannelRegs {
        match id {
            ChannelId::Primary => ChannelRegs {
                command: 0x1F0,
                control: 0x3F6,
                bus_master: None,
            },
            ChannelId::Secondary => ChannelRegs {
                command: 0x170,
                control: 0x376,
                bus_master: None,
            },
        }
    }

    /// A channel in PCI native mode: `command_bar` is BAR0 (primary) or BAR2 (secondary),
    /// `control_bar` BAR1 or BAR3 (its register is at +2), both I/O BARs with the low two bits
    /// already masked.
    pub const fn native(command_bar: u16, control_bar: u16) -> ChannelRegs {
        ChannelRegs {
            command: command_bar,
            control: control_bar + 2,
            bus_master: None,
        }
    }

    /// Adds the bus-master registers of channel `id` from the controller's bus-master base
    /// (BAR4, low two bits masked).
    pub const fn with_bus_master(self, bar4: u16, id: ChannelId) -> ChannelRegs {
        ChannelRegs {
            bus_master: Some(bar4 + id.bus_master_offset()),
            ..self
        }
    }
}

impl From<irqkit_hal::pci::IdeChannel> for ChannelRegs {
    /// The ports `irqkit-hal`'s IDE discovery decoded (legacy or native, with the channel's
    /// bus-master registers when the controller has them).
    fn from(ch: irqkit_hal::pci::IdeChannel) -> Self {
        ChannelRegs {
            command: ch.command_block,
            control: ch.control,
            bus_master: ch.bus_master,
        }
    }
}
