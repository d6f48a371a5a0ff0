//! The i8042 keyboard controller and the PS/2 keyboard command protocol.
//!
//! | module | what |
//! |--------|------|
//! | [`spec`] | facts as bytes: ports, controller answers, command and response bytes |
//! | [`Status`], [`Config`], [`ControllerCommand`] | the registers and controller commands as types |
//! | [`LedState`], [`Typematic`], [`KeyboardId`] | what keyboard commands carry and answer |
//! | [`Command`] / [`Reply`] | keyboard commands as values |
//! | [`read_keyboard_byte`] / [`write_data`] | the data port checked against the status register (OBF / IBF), for interrupt handlers and command engines |
//! | [`CommandEngine`] | non-blocking command queue for interrupt-driven kernels |
//! | [`I8042`] | blocking driver: initialisation, shutdown, keyboard commands with bounded waits |
//!
//! # Which to use
//!
//! Initialise with [`I8042::init`] before IRQ 1 is unmasked in the interrupt controller
//! (everything is polled, with IRQ 1 off in the i8042 configuration byte until the end). After
//! that, the interrupt handler owns port 0x60: it reads a byte when status bit 0 (OBF) is set
//! and the bottom half routes it through [`CommandEngine::on_byte`], giving the bytes that are
//! not command answers to the scancode decoder. Commands (LEDs after a lock key, typematic)
//! are then [submitted](CommandEngine::submit) to the engine.
//!
//! A purely polled keyboard reads its bytes with [`I8042::drain`], not with a loop over
//! [`I8042::try_read`]: a controller whose status is stuck with OBF set has a byte ready on
//! every read, and only a bounded loop ends.
//!
//! # Bounds
//!
//! Every wait ends whatever the hardware does. The blocking driver bounds each wait in time
//! and in bytes read ([`Timing`]) and reports the bound as a typed [`Error`]; the engine
//! bounds each wait by a deadline and consumes a bounded number of bytes per command (see
//! [`CommandEngine`]); an interrupt handler that reads port 0x60 bounds its own loop (a few
//! bytes per interrupt).
//!
//! ```
//! use irqkit_ps2::controller::{ByteOutcome, Command, CommandEngine, EngineTiming, LedState};
//!
//! /// The bottom half of an interrupt-driven keyboard driver, run with the bytes the IRQ 1
//! /// handler queued. `write_data` writes port 0x60 (after checking status IBF).
//! fn bottom_half(
//!     engine: &mut CommandEngine,
//!     now_ticks: u64,
//!     received: &[u8],
//!     mut write_data: impl FnMut(u8),
//!     mut scancode: impl FnMut(u8),
//! ) {
//!     for &byte in received {
//!         match engine.on_byte(byte, now_ticks) {
//!             ByteOutcome::NotMine(b) => scancode(b),
//!             ByteOutcome::Consumed(Some(done)) => { let _ = done.result; }
//!             ByteOutcome::Consumed(None) => {}
//!         }
//!     }
//!     let _ = engine.on_tick(now_ticks);
//!     while let Some(b) = engine.poll_send(now_ticks) {
//!         write_data(b);
//!     }
//! }
//!
//! let mut engine: CommandEngine = CommandEngine::new(EngineTiming::from_tick_hz(100));
//! engine.submit(Command::SetLeds(LedState::CAPS_LOCK)).unwrap();
//! let mut wire = Vec::new();
//! let mut keys = Vec::new();
//! bottom_half(&mut engine, 0, &[], |b| wire.push(b), |k| keys.push(k));
//! bottom_half(&mut engine, 1, &[0x3A, 0xFA], |b| wire.push(b), |k| keys.push(k));
//! assert_eq!(wire, [0xED, 0x04]);
//! assert_eq!(keys, [0x3A]);
//! ```

pub mod spec;

mod command;
mod data_port;
mod driver;
mod engine;
mod error;
mod options;
mod registers;
mod settings;

pub use command::{Command, Reply};
pub use data_port::{read_keyboard_byte, write_data};
pub use driver::{StrayBytes, I8042};
pub use engine::{ByteOutcome, CommandEngine, CommandId, Completion, EngineTiming, QueueFull};
pub use error::{Error, WaitingFor};
pub use options::{InitOptions, InitReport, Mode, Timing};
pub use registers::{Config, ControllerCommand, Status};
pub use settings::{KeyboardId, LedState, RepeatDelay, RepeatRate, Typematic};
