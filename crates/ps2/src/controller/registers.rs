//! The i8042's registers and controller commands as types: the status register, the
//! configuration byte, and the commands written to port 0x64.

use bitflags::bitflags;

bitflags! {
    /// The i8042 status register (read from port 0x64).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Status: u8 {
        /// Output buffer full: a byte waits at port 0x60.
        const OUTPUT_FULL = 0x01;
        /// Input buffer full: the controller has not consumed the last write yet.
        const INPUT_FULL = 0x02;
        /// System flag (set by the controller after a successful self-test).
        const SYSTEM = 0x04;
        /// The last write went to port 0x64 (a command) rather than to 0x60 (data).
        const LAST_WRITE_WAS_COMMAND = 0x08;
        /// Keyboard inhibit switch (unused on modern machines).
        const KEYBOARD_UNLOCKED = 0x10;
        /// The byte in the output buffer came from the AUX (mouse) port.
        const AUX_DATA = 0x20;
        /// Timeout error on the serial line.
        const TIMEOUT_ERROR = 0x40;
        /// Parity error on the serial line.
        const PARITY_ERROR = 0x80;
    }
}

bitflags! {
    /// The controller configuration byte ("command byte"), read with
    /// [`ControllerCommand::ReadConfig`] and written with [`ControllerCommand::WriteConfig`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Config: u8 {
        /// Raise IRQ 1 when a keyboard byte arrives.
        const KEYBOARD_IRQ = 0x01;
        /// Raise IRQ 12 when an AUX byte arrives.
        const AUX_IRQ = 0x02;
        /// System flag, passed through to the status register.
        const SYSTEM = 0x04;
        /// Ignore the keyboard lock switch (AT only).
        const OVERRIDE_INHIBIT = 0x08;
        /// Keyboard clock disabled (the keyboard port is off).
        const KEYBOARD_CLOCK_DISABLED = 0x10;
        /// AUX clock disabled (the mouse port is off).
        const AUX_CLOCK_DISABLED = 0x20;
        /// Translate the keyboard's set 2 bytes into set 1 (XLATE).
        const TRANSLATE = 0x40;
        /// Reserved, must be zero.
        const RESERVED = 0x80;
    }
}

/// Commands written to port 0x64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum ControllerCommand {
    /// Read the configuration byte (answer on 0x60).
    ReadConfig = 0x20,
    /// Write the configuration byte (next byte written to 0x60).
    WriteConfig = 0x60,
    /// Disable the AUX port.
    DisableAux = 0xA7,
    /// Enable the AUX port.
    EnableAux = 0xA8,
    /// Test the AUX port (answers like [`ControllerCommand::TestKeyboardPort`]).
    TestAuxPort = 0xA9,
    /// Controller self-test: answers [`SELF_TEST_PASSED`](super::spec::SELF_TEST_PASSED).
    SelfTest = 0xAA,
    /// Keyboard port test: answers [`PORT_TEST_PASSED`](super::spec::PORT_TEST_PASSED) or a line-stuck code 0x01-0x04.
    TestKeyboardPort = 0xAB,
    /// Disable the keyboard port (clock line held low).
    DisableKeyboard = 0xAD,
    /// Enable the keyboard port.
    EnableKeyboard = 0xAE,
    /// Put the next byte written to 0x60 into the output buffer as if the keyboard sent it.
    WriteKeyboardOutput = 0xD2,
    /// Send the next byte written to 0x60 to the AUX device.
    WriteAux = 0xD4,
}

impl ControllerCommand {
    /// The command byte.
    pub const fn byte(self) -> u8 {
        self as u8
    }
}

/// defmt has no bitflags support: print the raw byte.
macro_rules! defmt_bits {
    ($($ty:ident),*) => {$(
        #[cfg(feature = "defmt")]
        impl defmt::Format for $ty {
            fn format(&self, f: defmt::Formatter<'_>) {
                defmt::write!(f, "{}({=u8:#04x})", stringify!($ty), self.bits())
            }
        }
    )*};
}
defmt_bits!(Status, Config);
