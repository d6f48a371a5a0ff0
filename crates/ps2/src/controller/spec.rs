//! Facts of the i8042 controller and the PS/2 keyboard command protocol as bytes: ports,
//! controller answers, keyboard command and response bytes. Pure: no I/O, no state. The
//! registers and command data as types are in [`controller`](super) ([`Status`](super::Status),
//! [`Config`](super::Config), [`LedState`](super::LedState), [`Typematic`](super::Typematic), ...).

use crate::ScancodeSet;

/// Data port: keyboard bytes are read here, keyboard commands and controller command data
/// are written here.
pub const DATA_PORT: u16 = 0x60;
/// Status register when read, controller command register when written.
pub const STATUS_COMMAND_PORT: u16 = 0x64;

/// The controller self-test answer when the test passed.
pub const SELF_TEST_PASSED: u8 = 0x55;
/// The port test answer when the port is fine (0x01-0x04 name a stuck clock or data line).
pub const PORT_TEST_PASSED: u8 = 0x00;

/// Keyboard command bytes (written to port 0x60).
pub mod keyboard_command {
    /// Set the LEDs; a data byte follows ([`LedState`](crate::controller::LedState)).
    pub const SET_LEDS: u8 = 0xED;
    /// Echo: the keyboard answers 0xEE (no ACK).
    pub const ECHO: u8 = 0xEE;
    /// Get (data 0) or set (data 1, 2, 3) the scancode set.
    pub const SCANCODE_SET: u8 = 0xF0;
    /// Identify: ACK then up to two identity bytes.
    pub const IDENTIFY: u8 = 0xF2;
    /// Set typematic rate and delay; a data byte follows ([`Typematic`](crate::controller::Typematic)).
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
