//! The typed errors of the controller driver and the keyboard command engine.

use core::fmt;

/// What a wait that ended at its bound (of time or of bytes read) was waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum WaitingFor {
    /// The output buffer to empty before a keyboard command is sent (the stale bytes in it
    /// are set aside first).
    OutputBufferEmpty,
    /// The controller to consume the previous write (status IBF to clear).
    InputBufferEmpty,
    /// The controller's answer to a controller command (status OBF to set).
    ControllerReply,
    /// The keyboard's ACK (0xFA) to a command or data byte.
    Ack,
    /// The keyboard's 0xEE answer to an echo.
    Echo,
    /// The basic assurance test result (0xAA, or 0xFC / 0xFD) after a reset.
    Bat,
    /// The answer to "get scancode set".
    ScancodeSetAnswer,
    /// The identity bytes after the ACK of "identify".
    Identity,
}

/// Everything that can go wrong talking to the i8042 and the keyboard.
///
/// Command bytes are the bytes written: a controller command (port 0x64) for
/// [`WaitingFor::InputBufferEmpty`] / [`WaitingFor::ControllerReply`] waits, the keyboard
/// command (the first byte of the command, port 0x60) otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// No controller answers: its status register never lets a write through, or the output
    /// buffer never drains (a floating bus reads 0xFF forever).
    NoController,
    /// The controller self-test (0xAA) answered `got` instead of 0x55.
    SelfTestFailed {
        /// The answer read.
        got: u8,
    },
    /// The keyboard port test (0xAB) answered `code` instead of 0x00 (0x01-0x04: a clock or
    /// data line is stuck).
    PortTestFailed {
        /// The answer read.
        code: u8,
    },
    /// Nothing answered the keyboard reset: no keyboard is plugged in.
    NoKeyboard,
    /// A bounded wait ran out of time.
    Timeout {
        /// What the wait expected.
        waiting_for: WaitingFor,
        /// The command byte whose answer (or acceptance) was awaited.
        command: u8,
    },
    /// A keyboard command read `read` bytes that were not its answers (stale bytes set
    /// aside before it, key bytes, AUX bytes, bytes flagged with the timeout bit) and gave
    /// up: the status register is stuck with OBF set, or something sends without pause.
    /// The bounds are [`Timing::flush_limit`](super::Timing::flush_limit) stale bytes and
    /// [`Timing::byte_limit`](super::Timing::byte_limit) bytes while waiting; the key bytes
    /// among them are in [`I8042::stray_bytes`](super::I8042::stray_bytes).
    TooManyBytes {
        /// What the command was waiting for when it gave up.
        waiting_for: WaitingFor,
        /// The keyboard command byte.
        command: u8,
        /// How many bytes it read that were not its answers.
        read: u16,
    },
    /// [`I8042::drain`](super::I8042::drain) read `read` bytes and the output buffer was
    /// still full: the status register is stuck with OBF set, or something sends without
    /// pause.
    OutputStuck {
        /// How many bytes were read.
        read: u16,
    },
    /// The keyboard asked for `byte` again (RESEND) on each of `tries` sends.
    ResendExhausted {
        /// The keyboard command byte.
        command: u8,
        /// The byte that was refused (the command or its data byte).
        byte: u8,
        /// How many times it was sent.
        tries: u8,
    },
    /// The keyboard or controller answered something the protocol does not allow here.
    UnexpectedResponse {
        /// The command byte.
        command: u8,
        /// The byte expected (for a set of allowed answers: the usual one).
        expected: u8,
        /// The byte received.
        got: u8,
    },
    /// The keyboard's basic assurance test failed (0xFC or 0xFD) after a reset.
    BatFailed {
        /// The failure code received.
        code: u8,
    },
    /// The controller flagged a parity error on a byte from the keyboard while a command
    /// waited for its answer.
    ParityError {
        /// The keyboard command byte.
        command: u8,
        /// The (corrupted) byte received.
        byte: u8,
    },
    /// The keyboard accepted a scancode set but reports another one when asked.
    ScancodeSetMismatch {
        /// The set number requested.
        requested: u8,
        /// The set number reported.
        reported: u8,
    },
}

impl fmt::Display for WaitingFor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WaitingFor::OutputBufferEmpty => "the controller output buffer to empty",
            WaitingFor::InputBufferEmpty => "the controller input buffer to empty",
            WaitingFor::ControllerReply => "a controller reply",
            WaitingFor::Ack => "an ACK",
            WaitingFor::Echo => "the echo answer",
            WaitingFor::Bat => "the keyboard self-test result",
            WaitingFor::ScancodeSetAnswer => "the scancode set answer",
            WaitingFor::Identity => "the identity bytes",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::NoController => f.write_str("no i8042 controller answers"),
            Error::SelfTestFailed { got } => {
                write!(f, "i8042 self-test answered {got:#04x}, expected 0x55")
            }
            Error::PortTestFailed { code } => {
                write!(f, "keyboard port test answered {code:#04x}, expected 0x00")
            }
            Error::NoKeyboard => f.write_str("no keyboard answers on the keyboard port"),
            Error::Timeout {
                waiting_for,
                command,
            } => write!(
                f,
                "timed out waiting for {waiting_for} after {command:#04x}"
            ),
            Error::TooManyBytes {
                waiting_for,
                command,
                read,
            } => write!(
                f,
                "command {command:#04x}: read {read} bytes that were not answers while \
                 waiting for {waiting_for}; gave up"
            ),
            Error::OutputStuck { read } => write!(
                f,
                "the i8042 output buffer was still full after {read} bytes were read from it"
            ),
            Error::ResendExhausted {
                command,
                byte,
                tries,
            } => write!(
                f,
                "keyboard asked to resend {byte:#04x} of command {command:#04x} {tries} times"
            ),
            Error::UnexpectedResponse {
                command,
                expected,
                got,
            } => write!(
                f,
                "command {command:#04x}: expected {expected:#04x}, got {got:#04x}"
            ),
            Error::BatFailed { code } => {
                write!(f, "keyboard self-test failed with {code:#04x}")
            }
            Error::ParityError { command, byte } => write!(
                f,
                "command {command:#04x}: parity error on the answer byte {byte:#04x}"
            ),
            Error::ScancodeSetMismatch {
                requested,
                reported,
            } => write!(
                f,
                "scancode set {requested} was requested but the keyboard reports set {reported}"
            ),
        }
    }
}

impl core::error::Error for Error {}
