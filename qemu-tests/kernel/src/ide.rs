//! The IDE controller (PIIX3 function 00:01.1 on `-machine pc`), found through irqkit-hal's PCI
//! helper with I/O decoding and bus mastering turned on, as the ATA cases need it.

use irqkit_hal::pci::{ConfigSpace, IdeController, PciConfig, COMMAND_BUS_MASTER};

use crate::port::ports;
use crate::println;

/// The controller and what its command register held before and after setup.
#[derive(Debug, Clone, Copy)]
pub struct Ide {
    /// Where the channels and the bus-master engine are.
    pub controller: IdeController,
    /// The PCI command register as the firmware left it.
    pub command_before: u16,
    /// The PCI command register after setup (I/O space and bus master set).
    pub command_after: u16,
}

impl Ide {
    /// The primary channel's bus-master base port.
    ///
    /// # Panics
    ///
    /// If the controller has no bus-master engine.
    pub fn primary_bus_master(&self) -> u16 {
        self.controller
            .primary
            .bus_master
            .expect("the IDE controller has no bus-master engine")
    }
}

/// Finds the IDE controller, enables its I/O decoding and bus mastering, and prints one
/// `ide ...` line.
///
/// # Panics
///
/// If there is no IDE controller or its command register refuses the bits.
pub fn setup() -> Ide {
    let mut cfg = PciConfig::new(ports());
    let controller = IdeController::find(&mut cfg).unwrap_or_else(|error| panic!("{error}"));
    let address = controller.function.address;
    let command_before = cfg
        .enable_io_space(address)
        .unwrap_or_else(|error| panic!("{error}"));
    if controller.bus_master_capable() {
        cfg.enable_bus_mastering(address)
            .unwrap_or_else(|error| panic!("{error}"));
    }
    let command_after = cfg
        .command(address)
        .unwrap_or_else(|error| panic!("{error}"));
    let function = controller.function;
    println!(
        "ide pci={address} id={:04x}:{:04x} prog_if={:02x} bus_master={:x} command_before={command_before:04x} command={command_after:04x}",
        function.vendor_id,
        function.device_id,
        function.prog_if,
        controller
            .primary
            .bus_master
            .map_or(0, u32::from),
    );
    for (name, channel) in [
        ("primary", controller.primary),
        ("secondary", controller.secondary),
    ] {
        println!(
            "ide {name} command_block={:x} control={:x} irq={}",
            channel.command_block,
            channel.control,
            channel.irq.map_or(-1, i16::from)
        );
    }
    if controller.bus_master_capable() {
        assert_ne!(command_after & COMMAND_BUS_MASTER, 0);
    }
    Ide {
        controller,
        command_before,
        command_after,
    }
}
