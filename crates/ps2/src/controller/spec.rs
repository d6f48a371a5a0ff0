//! Facts of the i8042 controller and the PS/2 keyboard command protocol: ports, register bits,
//! command and response bytes, and the typematic encoding. Pure: no I/O, no state.

use bitflags::bitflags;

use crate::ScancodeSet;

/// Data port: keyboard bytes are read here, keyboard commands and controller command data
/// are written here.
pub const DATA_PORT: u16 = 0x60;
/// Status register when read, controller command register when written.
pub const STATUS_COMMAND_PORT: u16 = 0x64;

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
    /// Controller self-test: answers [`SELF_TEST_PASSED`].
    SelfTest = 0xAA,
    /// Keyboard port test: answers [`PORT_TEST_PASSED`] or a line-stuck code 0x01-0x04.
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

/// The controller self-test answer when the test passed.
pub const SELF_TEST_PASSED: u8 = 0x55;
/// The port test answer when the port is fine (0x01-0x04 name a stuck clock or data line).
pub const PORT_TEST_PASSED: u8 = 0x00;

/// Keyboard command bytes (written to port 0x60).
pub mod keyboard_command {
    /// Set the LEDs; a data byte follows ([`LedState`](super::LedState)).
    pub const SET_LEDS: u8 = 0xED;
    /// Echo: the keyboard answers 0xEE (no ACK).
    pub const ECHO: u8 = 0xEE;
    /// Get (data 0) or set (data 1, 2, 3) the scancode set.
    pub const SCANCODE_SET: u8 = 0xF0;
    /// Identify: ACK then up to two identity bytes.
    pub const IDENTIFY: u8 = 0xF2;
    /// Set typematic rate and delay; a data byte follows ([`Typematic`](super::Typematic)).
    pub const SET_TYPEMATIC: u8 = 0xF3;
    /// Enable scanning (the keyboard sends key events).
    pub const ENABLE_SCANNING: u8 = 0xF4;
    /// Disable scanning (and restore default parameters).
    pub const DISABLE_SCANNING: u8 = 0xF5;
    /// Restore default parameters.
    pub const SET_DEFAULTS: u8 = 0xF6;
    /// Ask the keyboard to send its last byte again.
    pub const RESEND: u8 = 0xFE;
    /// Reset and run the basic assurance test (BAT).
    pub const RESET: u8 = 0xFF;
}

/// Keyboard response bytes (read from port 0x60).
pub mod response {
    /// Key detection error or buffer overrun in scancode sets 2 and 3.
    pub const OVERRUN_SET2: u8 = 0x00;
    /// Basic assurance test passed (sent after a reset or at power-on).
    pub const BAT_PASSED: u8 = 0xAA;
    /// Answer to [`ECHO`](super::keyboard_command::ECHO).
    pub const ECHO: u8 = 0xEE;
    /// Acknowledge: the byte was accepted.
    pub const ACK: u8 = 0xFA;
    /// Basic assurance test failed (one of two codes).
    pub const BAT_FAILED_1: u8 = 0xFC;
    /// Basic assurance test failed (the other code).
    pub const BAT_FAILED_2: u8 = 0xFD;
    /// Resend: the keyboard did not understand the last byte.
    pub const RESEND: u8 = 0xFE;
    /// Key detection error or buffer overrun in scancode set 1.
    pub const OVERRUN_SET1: u8 = 0xFF;
    /// First identity byte of an MF2 keyboard.
    pub const ID_MF2: u8 = 0xAB;
    /// Second identity byte of an MF2 keyboard without translation.
    pub const ID_MF2_RAW: u8 = 0x83;
    /// Second identity byte of an MF2 keyboard as seen through i8042 translation.
    pub const ID_MF2_TRANSLATED: u8 = 0x41;
}

/// What the keyboard's answer to "get scancode set" (`F0 00`) reads as through i8042
/// translation: the controller translates the set number like a scancode (set 2 reads 0x41).
pub const fn translated_set_answer(set: ScancodeSet) -> u8 {
    match set {
        ScancodeSet::Set1 => 0x43,
        ScancodeSet::Set2 => 0x41,
        ScancodeSet::Set3 => 0x3F,
    }
}

/// Interprets the answer to "get scancode set", raw (1, 2, 3) or translated (0x43, 0x41,
/// 0x3F). The two ranges do not overlap, so both are accepted whatever the translation state
/// (some controllers do not translate command answers).
pub const fn set_from_answer(answer: u8) -> Option<ScancodeSet> {
    match answer {
        1 | 0x43 => Some(ScancodeSet::Set1),
        2 | 0x41 => Some(ScancodeSet::Set2),
        3 | 0x3F => Some(ScancodeSet::Set3),
        _ => None,
    }
}

bitflags! {
    /// The keyboard LEDs, as sent after [`SET_LEDS`](keyboard_command::SET_LEDS).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct LedState: u8 {
        /// Scroll Lock LED.
        const SCROLL_LOCK = 0x01;
        /// Num Lock LED.
        const NUM_LOCK = 0x02;
        /// Caps Lock LED.
        const CAPS_LOCK = 0x04;
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
defmt_bits!(Status, Config, LedState);

/// Typematic repeat rates in tenths of a hertz, indexed by the 5-bit rate field (0 = fastest).
///
/// The hardware period is `(8 + A) * 2^B * 4.17 ms` with A = bits 0-2 and B = bits 3-4; this
/// table is the documented rounding of that formula.
const RATE_DECIHERTZ: [u16; 32] = [
    300, 267, 240, 218, 207, 185, 171, 160, 150, 133, 120, 109, 100, 92, 86, 80, 75, 67, 60, 55,
    50, 46, 43, 40, 37, 33, 30, 27, 25, 23, 21, 20,
];

/// A typematic repeat rate: one of the 32 rates from 30 Hz down to 2 Hz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RepeatRate(u8);

impl RepeatRate {
    /// The fastest rate, 30.0 Hz.
    pub const FASTEST: RepeatRate = RepeatRate(0);
    /// The power-on default, 10.9 Hz.
    pub const DEFAULT: RepeatRate = RepeatRate(0x0B);
    /// The slowest rate, 2.0 Hz.
    pub const SLOWEST: RepeatRate = RepeatRate(31);

    /// The rate with the given 5-bit field value (0 = 30 Hz ... 31 = 2 Hz).
    pub const fn from_index(index: u8) -> Option<Self> {
        if index < 32 {
            Some(RepeatRate(index))
        } else {
            None
        }
    }

    /// The supported rate closest to `decihertz` tenths of a hertz (values outside 2-30 Hz
    /// clamp to the slowest or fastest rate).
    pub const fn nearest_decihertz(decihertz: u16) -> Self {
        let mut best = 0;
        let mut best_diff = u16::MAX;
        let mut i = 0;
        while i < RATE_DECIHERTZ.len() {
            let r = RATE_DECIHERTZ[i];
            let diff = r.abs_diff(decihertz);
            if diff < best_diff {
                best = i;
                best_diff = diff;
            }
            i += 1;
        }
        RepeatRate(best as u8)
    }

    /// The 5-bit field value.
    pub const fn index(self) -> u8 {
        self.0
    }

    /// The rate in tenths of a hertz (300 = 30.0 Hz).
    pub const fn decihertz(self) -> u16 {
        RATE_DECIHERTZ[self.0 as usize]
    }
}

/// The delay before a held key starts repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RepeatDelay {
    /// 250 ms.
    Ms250,
    /// 500 ms (power-on default).
    Ms500,
    /// 750 ms.
    Ms750,
    /// 1000 ms.
    Ms1000,
}

impl RepeatDelay {
    /// The 2-bit field value (bits 5-6 of the typematic byte).
    pub const fn index(self) -> u8 {
        match self {
            RepeatDelay::Ms250 => 0,
            RepeatDelay::Ms500 => 1,
            RepeatDelay::Ms750 => 2,
            RepeatDelay::Ms1000 => 3,
        }
    }

    /// The delay for a 2-bit field value (only the low two bits are used).
    pub const fn from_index(index: u8) -> Self {
        match index & 3 {
            0 => RepeatDelay::Ms250,
            1 => RepeatDelay::Ms500,
            2 => RepeatDelay::Ms750,
            _ => RepeatDelay::Ms1000,
        }
    }

    /// The delay in milliseconds.
    pub const fn millis(self) -> u16 {
        (self.index() as u16 + 1) * 250
    }
}

/// Typematic settings: repeat rate and delay, the data byte of
/// [`SET_TYPEMATIC`](keyboard_command::SET_TYPEMATIC).
///
/// # Examples
///
/// ```
/// use irqkit_ps2::controller::{RepeatDelay, RepeatRate, Typematic};
///
/// let t = Typematic { rate: RepeatRate::nearest_decihertz(109), delay: RepeatDelay::Ms500 };
/// assert_eq!(t.to_byte(), 0x2B); // the power-on default
/// assert_eq!(Typematic::from_byte(0x2B), Some(t));
/// assert_eq!(Typematic::from_byte(0x80), None); // bit 7 must be zero
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Typematic {
    /// Repeat rate once repeating.
    pub rate: RepeatRate,
    /// Delay before the first repeat.
    pub delay: RepeatDelay,
}

impl Default for Typematic {
    /// The power-on default: 10.9 Hz after 500 ms.
    fn default() -> Self {
        Typematic {
            rate: RepeatRate::DEFAULT,
            delay: RepeatDelay::Ms500,
        }
    }
}

impl Typematic {
    /// The data byte: bits 0-4 rate, bits 5-6 delay, bit 7 zero.
    pub const fn to_byte(self) -> u8 {
        self.rate.index() | (self.delay.index() << 5)
    }

    /// Decodes a data byte; `None` when the reserved bit 7 is set.
    pub const fn from_byte(byte: u8) -> Option<Self> {
        if byte & 0x80 != 0 {
            return None;
        }
        Some(Typematic {
            rate: RepeatRate(byte & 0x1F),
            delay: RepeatDelay::from_index(byte >> 5),
        })
    }
}

/// The identity bytes a keyboard answered to [`IDENTIFY`](keyboard_command::IDENTIFY)
/// (zero, one or two bytes: old AT keyboards send none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KeyboardId {
    bytes: [u8; 2],
    len: u8,
}

impl KeyboardId {
    /// No identity bytes (an AT keyboard).
    pub const NONE: KeyboardId = KeyboardId {
        bytes: [0; 2],
        len: 0,
    };

    /// An identity made of `bytes` (at most two are kept).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut id = KeyboardId::NONE;
        for &b in bytes.iter().take(2) {
            id.bytes[usize::from(id.len)] = b;
            id.len += 1;
        }
        id
    }

    /// The identity bytes received.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Whether this is an MF2 keyboard (`AB 83`, or `AB 41` through translation).
    pub fn is_mf2(&self) -> bool {
        matches!(
            self.bytes(),
            [
                response::ID_MF2,
                response::ID_MF2_RAW | response::ID_MF2_TRANSLATED
            ]
        )
    }

    /// Whether the second byte shows the answer passed through i8042 translation.
    pub fn is_translated(&self) -> bool {
        matches!(
            self.bytes(),
            [response::ID_MF2, response::ID_MF2_TRANSLATED]
        )
    }

    /// Whether a first identity byte announces a second one (0xAB keyboards, 0xAC NCD Sun).
    pub const fn expects_second_byte(first: u8) -> bool {
        matches!(first, 0xAB | 0xAC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typematic_round_trips_every_valid_byte() {
        for b in 0u8..0x80 {
            let t = Typematic::from_byte(b).unwrap();
            assert_eq!(t.to_byte(), b);
        }
        for b in 0x80u8..=0xFF {
            assert_eq!(Typematic::from_byte(b), None);
        }
    }

    #[test]
    fn rate_table_is_monotonic_and_nearest_finds_each_entry() {
        for i in 0..32u8 {
            let r = RepeatRate::from_index(i).unwrap();
            assert_eq!(RepeatRate::nearest_decihertz(r.decihertz()), r);
            if i > 0 {
                assert!(RepeatRate(i - 1).decihertz() > r.decihertz());
            }
        }
        assert_eq!(RepeatRate::from_index(32), None);
        assert_eq!(RepeatRate::nearest_decihertz(0), RepeatRate::SLOWEST);
        assert_eq!(RepeatRate::nearest_decihertz(u16::MAX), RepeatRate::FASTEST);
        assert_eq!(RepeatDelay::Ms1000.millis(), 1000);
        assert_eq!(Typematic::default().to_byte(), 0x2B);
    }

    #[test]
    fn scancode_set_answers_map_both_ways() {
        for set in ScancodeSet::ALL {
            assert_eq!(set_from_answer(set.number()), Some(set));
            assert_eq!(set_from_answer(translated_set_answer(set)), Some(set));
        }
        assert_eq!(translated_set_answer(ScancodeSet::Set2), 0x41);
        assert_eq!(set_from_answer(0), None);
        assert_eq!(set_from_answer(0xFA), None);
    }

    #[test]
    fn keyboard_id_classifies() {
        assert!(KeyboardId::from_bytes(&[0xAB, 0x83]).is_mf2());
        assert!(KeyboardId::from_bytes(&[0xAB, 0x41]).is_translated());
        assert!(!KeyboardId::from_bytes(&[0xAB, 0x83]).is_translated());
        assert!(!KeyboardId::NONE.is_mf2());
        assert_eq!(KeyboardId::from_bytes(&[1, 2, 3]).bytes(), &[1, 2]);
    }
}
