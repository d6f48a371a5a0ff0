//! Test cases that drive the irqkit crates on QEMU's emulated devices, one module per area.
//! They are listed in [`crate::tests::ALL`] with the kernel's own cases.

pub mod ata;
pub mod ata_async;
pub mod ata_bench;
pub mod ata_io;
pub mod ata_platform;
pub mod defer;
pub mod demo;
pub mod keyboard;

use irqkit_ps2::controller::{InitOptions, InitReport, I8042};

use crate::delay::PitDelay;
use crate::keyboard::ReplyText;
use crate::port::{ports, Ports};
use crate::println;

/// The blocking i8042 driver on the kernel's ports.
pub type Controller = I8042<Ports, PitDelay>;

/// A blocking i8042 driver on the CPU's ports, not yet initialised.
pub fn controller() -> Controller {
    I8042::new(ports(), PitDelay)
}

/// Initialises the controller and keyboard with `options` and prints what it found as one
/// `i8042 ...` line.
///
/// # Panics
///
/// If the driver reports an error (the message names it).
pub fn init_i8042(controller: &mut Controller, options: InitOptions) -> InitReport {
    let report = controller
        .init(options)
        .unwrap_or_else(|error| panic!("i8042 init failed: {error}"));
    println!(
        "i8042 translation={} keyboard_set={} host_set={} keyboard={} self_test={:02x}",
        if report.translation { "on" } else { "off" },
        report.keyboard_set.number(),
        report.host_set.number(),
        ReplyText(irqkit_ps2::controller::Reply::Identity(report.keyboard_id)),
        report.self_test,
    );
    report
}
