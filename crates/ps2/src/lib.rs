//! PS/2 keyboards for `no_std` kernels.
//!
//! The crate is split the way the hardware is:
//!
//! | layer | what it does | where |
//! |-------|--------------|-------|
//! | key identity | one key type with conversions to USB HID usages, Linux evdev codes and QEMU names | [`KeyCode`], [`keycode`] |
//! | decoding | scancode sets 1, 2 and 3, fed one byte at a time, into key and protocol events | [`Decoder`], [`Event`] |
//! | encoding | key events back into the wire bytes of each set (tests, keyboard emulation) | [`encoder`] |
//! | controller and commands | the i8042 controller and the keyboard command protocol | [`controller`] |
//! | layouts | keyboard state (modifiers, locks) and layouts turning keys into characters | [`Keyboard`], [`layout`] |
//!
//! Everything except the controller driver is pure: it touches no hardware and holds no global
//! state, so it runs (and is tested) on the host. The controller reaches the hardware only through
//! the [`irqkit_hal::PortIo`] trait.
//!
//! # Example
//!
//! The bytes an interrupt handler read (set 1, as the CPU sees them through the i8042's
//! translation), decoded into key events and protocol responses:
//!
//! ```
//! use irqkit_ps2::{Decoder, Event, KeyCode, KeyEvent, Response, ScancodeSet};
//!
//! let mut decoder = Decoder::new(ScancodeSet::Set1);
//! let bytes = [0xFA, 0x2A, 0x1E, 0x1E, 0x9E, 0xAA, 0xE0, 0x48, 0xE0, 0xC8];
//! let events: Vec<Event> = bytes.iter().flat_map(|&b| decoder.feed(b)).collect();
//! assert_eq!(events, [
//!     Event::Response(Response::Ack),
//!     Event::Key(KeyEvent::press(KeyCode::LeftShift)),
//!     Event::Key(KeyEvent::press(KeyCode::A)),
//!     Event::Key(KeyEvent::repeat(KeyCode::A)), // held: the keyboard repeats the make code
//!     Event::Key(KeyEvent::release(KeyCode::A)),
//!     Event::Key(KeyEvent::release(KeyCode::LeftShift)), // 0xAA: Left Shift was held
//!     Event::Key(KeyEvent::press(KeyCode::Up)),
//!     Event::Key(KeyEvent::release(KeyCode::Up)),
//! ]);
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

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
