//! Keyboard commands as values: what bytes they put on the wire and what they answer.

use super::settings::{KeyboardId, LedState, Typematic};
use super::spec::keyboard_command as kc;
use crate::ScancodeSet;

/// A keyboard command (sent through port 0x60), with its data byte if it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Command {
    /// Set the LEDs (`ED` + LED byte).
    SetLeds(LedState),
    /// Echo (`EE`): answers `EE` without an ACK; a cheap "is a keyboard there" probe.
    Echo,
    /// Ask which scancode set is in use (`F0 00`).
    GetScancodeSet,
    /// Select a scancode set (`F0 01/02/03`).
    SetScancodeSet(ScancodeSet),
    /// Identify (`F2`): answers zero, one or two identity bytes after the ACK.
    Identify,
    /// Set typematic rate and delay (`F3` + data).
    SetTypematic(Typematic),
    /// Enable scanning (`F4`).
    EnableScanning,
    /// Disable scanning and restore defaults (`F5`).
    DisableScanning,
    /// Restore default parameters (`F6`).
    SetDefaults,
    /// Reset and self-test (`FF`): answers the BAT result after the ACK.
    Reset,
}

impl Command {
    /// The command byte (the first byte on the wire).
    pub const fn opcode(self) -> u8 {
        match self {
            Command::SetLeds(_) => kc::SET_LEDS,
            Command::Echo => kc::ECHO,
            Command::GetScancodeSet | Command::SetScancodeSet(_) => kc::SCANCODE_SET,
            Command::Identify => kc::IDENTIFY,
            Command::SetTypematic(_) => kc::SET_TYPEMATIC,
            Command::EnableScanning => kc::ENABLE_SCANNING,
            Command::DisableScanning => kc::DISABLE_SCANNING,
            Command::SetDefaults => kc::SET_DEFAULTS,
            Command::Reset => kc::RESET,
        }
    }

    /// The data byte that follows the command byte, if any (each is ACKed separately).
    pub const fn data(self) -> Option<u8> {
        match self {
            Command::SetLeds(leds) => Some(leds.bits()),
            Command::GetScancodeSet => Some(0),
            Command::SetScancodeSet(set) => Some(set.number()),
            Command::SetTypematic(t) => Some(t.to_byte()),
            _ => None,
        }
    }

    /// Byte `index` (0 = command, 1 = data) of the command on the wire.
    pub(crate) const fn wire_byte(self, index: u8) -> Option<u8> {
        match index {
            0 => Some(self.opcode()),
            1 => self.data(),
            _ => None,
        }
    }

    /// Whether the keyboard ACKs the command (every command but echo).
    pub const fn is_acked(self) -> bool {
        !matches!(self, Command::Echo)
    }
}

/// A keyboard command's successful answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Reply {
    /// Every byte was acknowledged; the command has no further answer.
    Ack,
    /// The keyboard echoed `EE`.
    Echo,
    /// The scancode set in use (translated answers already mapped back).
    ScancodeSet(ScancodeSet),
    /// The identity bytes (possibly none: an AT keyboard).
    Identity(KeyboardId),
    /// The keyboard reset and passed its basic assurance test (0xAA).
    BatPassed,
}
