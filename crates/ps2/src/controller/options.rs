//! What the blocking driver is told (polling limits, what to set up) and what it reports.

use crate::ScancodeSet;

use super::{Config, EngineTiming, KeyboardId, LedState, Typematic};

#[cfg(doc)]
use super::{Error, I8042};

/// Polling limits of the blocking driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timing {
    /// Sleep between two reads of the status register, in microseconds.
    pub poll_interval_us: u32,
    /// How long to wait for the input buffer to empty or a controller answer, in microseconds.
    pub buffer_timeout_us: u32,
    /// How many stale bytes a flush reads before deciding no controller is there, and how
    /// many a keyboard command sets aside before it is sent (the size of the keyboard's
    /// buffer). [`I8042::drain`] reads at most twice as many.
    pub flush_limit: u8,
    /// How many bytes that are not its answers (key bytes, AUX bytes) one keyboard command
    /// reads while it waits before giving up with [`Error::TooManyBytes`].
    pub byte_limit: u16,
    /// Keyboard command timeouts and tries, in microseconds.
    pub keyboard: EngineTiming,
}

impl Default for Timing {
    /// Linux's limits: 10000 polls 50 us apart, at most 16 stale bytes, and
    /// [`EngineTiming::from_tick_hz`] in microseconds; 64 stray bytes per command (a keyboard
    /// empties its buffer when a command arrives, so more means a stuck controller).
    fn default() -> Self {
        Timing {
            poll_interval_us: 50,
            buffer_timeout_us: 10_000 * 50,
            flush_limit: 16,
            byte_limit: 64,
            keyboard: EngineTiming::from_tick_hz(1_000_000),
        }
    }
}

/// How the keyboard's scancodes reach the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Mode {
    /// The keyboard sends set 2 and the controller translates it (XLATE): the CPU sees set 1.
    /// What firmware sets up and what most hobby kernels decode.
    Translated,
    /// Translation off: the CPU sees the keyboard's own bytes in the given set.
    Raw(ScancodeSet),
}

impl Mode {
    /// The set the keyboard itself is switched to.
    pub const fn keyboard_set(self) -> ScancodeSet {
        match self {
            Mode::Translated => ScancodeSet::Set2,
            Mode::Raw(set) => set,
        }
    }

    /// The set of the bytes read from port 0x60.
    pub const fn host_set(self) -> ScancodeSet {
        match self {
            Mode::Translated => ScancodeSet::Set1,
            Mode::Raw(set) => set,
        }
    }
}

/// What [`I8042::init`] should set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InitOptions {
    /// Translation and scancode set.
    pub mode: Mode,
    /// Leave IRQ 1 enabled at the end (turn off for a purely polled keyboard).
    pub enable_irq: bool,
    /// Reset the keyboard and check its self-test (BAT). Costs up to the BAT time on real
    /// keyboards (hundreds of milliseconds); without it, a missing keyboard shows as no ACK
    /// to the first command.
    pub reset_keyboard: bool,
    /// Read the scancode set back after selecting it and fail if it differs.
    pub verify_set: bool,
    /// Ask the keyboard for its identity (reported in [`InitReport::keyboard_id`]).
    pub identify: bool,
    /// LEDs to set, if any.
    pub leds: Option<LedState>,
    /// Typematic rate and delay to set, if any.
    pub typematic: Option<Typematic>,
}

impl InitOptions {
    /// Translated set 1 with IRQ 1 on, set verified, keyboard identified.
    pub const fn translated() -> Self {
        InitOptions {
            mode: Mode::Translated,
            enable_irq: true,
            reset_keyboard: true,
            verify_set: true,
            identify: true,
            leds: None,
            typematic: None,
        }
    }

    /// Raw `set` (translation off) with IRQ 1 on, set verified, keyboard identified.
    pub const fn raw(set: ScancodeSet) -> Self {
        InitOptions {
            mode: Mode::Raw(set),
            ..Self::translated()
        }
    }
}

impl Default for InitOptions {
    fn default() -> Self {
        Self::translated()
    }
}

/// What [`I8042::init`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InitReport {
    /// The configuration byte the firmware left, restored by [`I8042::shutdown`].
    pub saved_config: Config,
    /// The configuration byte written at the end of initialisation.
    pub config: Config,
    /// The controller self-test answer (0x55).
    pub self_test: u8,
    /// How many stale bytes were flushed from the output buffer.
    pub flushed: u8,
    /// Whether the controller translates set 2 into set 1.
    pub translation: bool,
    /// The set the keyboard sends.
    pub keyboard_set: ScancodeSet,
    /// The set of the bytes the CPU reads (set 1 when translating).
    pub host_set: ScancodeSet,
    /// The keyboard's identity (empty when not asked or an AT keyboard).
    pub keyboard_id: KeyboardId,
}
