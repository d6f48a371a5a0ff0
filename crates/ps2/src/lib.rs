//! PS/2 keyboards for `no_std` kernels.
//!
//! The crate is split the way the hardware is:
//!
//! | layer | what it does |
//! |-------|--------------|
//! | key identity | one key type with conversions to USB HID usages, Linux evdev codes and QEMU names |
//! | decoding | scancode sets 1, 2 and 3, fed one byte at a time, into key and protocol events |
//! | encoding | key events back into the wire bytes of each set (tests, keyboard emulation) |
//! | controller and commands | the i8042 controller and the keyboard command protocol |
//! | layouts | keyboard state (modifiers, locks) and layouts turning keys into characters |
//!
//! Everything except the controller driver is pure: it touches no hardware and holds no global
//! state, so it runs (and is tested) on the host. The controller reaches the hardware only through
//! the [`irqkit_hal::PortIo`] trait.
#![no_std]
#![forbid(unsafe_code)]

// Module declarations: one line each. Helpers working in parallel append their own line here.
pub mod controller;
pub mod decoder;
pub mod encoder;
pub mod event;
pub mod key_set;
pub mod keyboard;
pub mod keycode;
pub mod layout;
pub mod scancode_set;

pub use decoder::Decoder;
pub use event::{Event, Events, KeyEvent, KeyKind, Response, Resync, UnknownScancode};
pub use key_set::KeySet;
pub use keyboard::{DecodedKey, Keyboard, Locks, Modifiers};
pub use keycode::{HidUsage, KeyCode};
pub use scancode_set::ScancodeSet;
