//! Ending the run through QEMU's `isa-debug-exit` device (port 0xF4): writing `v` makes QEMU
//! exit with status `(v << 1) | 1`.

use irqkit_hal::{x86::interrupts, PortIo};

use crate::port::ports;

/// The isa-debug-exit port the host runner configures (`iobase=0xf4,iosize=0x04`).
const DEBUG_EXIT_PORT: u16 = 0xF4;

/// How the test ended; the host treats only QEMU exit status 33 as success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// QEMU exits with status 33.
    Success = 0x10,
    /// QEMU exits with status 35.
    Failure = 0x11,
}

/// Ends the QEMU run with `code`. If no debug-exit device is present, halts with interrupts
/// off forever, and the host's deadline ends the run.
pub fn exit(code: ExitCode) -> ! {
    ports().write8(DEBUG_EXIT_PORT, code as u8);
    loop {
        interrupts::disable();
        interrupts::halt();
    }
}
