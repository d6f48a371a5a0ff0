//! The interactive demo: a shell a person types on through the whole interrupt-driven path.
//!
//! ```text
//! IRQ 1 top half     byte from port 0x60 -> irqkit-intq queue (crate::keyboard)
//! keyboard BH        irqkit-ps2 decoder -> `input::on_event`: layout -> line editor -> screen
//! shell task         an irqkit-defer async task: woken by Enter, runs the command
//! status BH          delayed work every 250 ms: redraws the status line
//! main loop          deferred::run_until: bottom halves with IRQs on, `sti; hlt` when idle
//! ```
//!
//! [`console`] draws the VGA text screen (status line on top) and mirrors output to serial;
//! [`editor`] is the pure line editor and [`words`] the pure text handling of commands;
//! [`input`] turns key events into edits; [`shell`] runs the commands, [`disk`] those on the
//! disk; [`status`] keeps the status line current.

pub mod console;
pub mod disk;
pub mod editor;
pub mod input;
pub mod shell;
pub mod status;
pub mod words;
