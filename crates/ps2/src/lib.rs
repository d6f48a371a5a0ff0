//! PS/2 keyboards for `no_std` kernels.
//!
//! The crate is split the way the hardware is:
//!
//! | layer | what it does | where |
//! |-------|--------------|-------|
//! | key identity | one key type with conversions to USB HID usages, Linux evdev codes and QEMU names | [`KeyCode`], [`HidUsage`] |
//! | decoding | scancode sets 1, 2 and 3, fed one byte at a time, into key and protocol events | [`Decoder`], [`Event`], [`ScancodeSet`] |
//! | encoding | key events back into the wire bytes of each set (tests, keyboard emulation) | [`encoder`] |
//! | controller and commands | the i8042 controller, its data port, and the keyboard command protocol | [`controller`] |
//! | keyboard state | modifiers, locks, dead keys and Compose, turning key events into characters | [`keyboard`] |
//! | layouts | what each key types on a national keyboard | [`layout`] |
//!
//! Each type has one path. The crate root holds the vocabulary every layer shares: key
//! identity, the decoder and its events. The layers built on it are modules: `keyboard`,
//! `layout`, `controller`, `encoder`.
//!
//! Everything except the controller driver is pure: it touches no hardware and holds no global
//! state, so it runs (and is tested) on the host. The controller reaches the hardware only through
//! the [`irqkit_hal::PortIo`] trait.
//!
//! The [guide](https://github.com/irqkit/irqkit/blob/main/docs/GUIDE.md) wires the whole
//! keyboard path (IRQ 1, `irqkit-intq`, an `irqkit-defer` bottom half, decoder, layout,
//! characters) in a host-runnable example.
//!
//! # Key identity
//!
//! A key is the same key whatever the keyboard sends for it: [`KeyCode`] converts to and from
//! USB HID usages ([`HidUsage`]), Linux evdev keycodes and QEMU `QKeyCode` names, and knows its
//! make code in each scancode set. The tables are generated from QEMU's keycodemapdb
//! (`third_party/keycodemapdb/keymaps.csv`, BSD-3) by `tools/gen_tables.py`; the corrections
//! made to that table (wire bytes where it lists Linux's internal codes) are listed in the
//! generator and checked by `tests/conformance.rs`.
//!
//! ```
//! use irqkit_ps2::{HidUsage, KeyCode};
//!
//! let key = KeyCode::MediaPlayPause;
//! assert_eq!(key.to_hid(), HidUsage::consumer(0xCD));
//! assert_eq!(key.to_evdev(), 164); // KEY_PLAYPAUSE
//! assert_eq!(key.to_qcode(), Some("audioplay"));
//! assert_eq!(key.set1_code(), Some(0xE022));
//! assert_eq!(KeyCode::from_hid(HidUsage::keyboard(0x04)), Some(KeyCode::A));
//! assert_eq!(KeyCode::from_evdev(42), Some(KeyCode::LeftShift));
//! assert_eq!(KeyCode::from_qcode("kp_divide"), Some(KeyCode::NumpadSlash));
//! ```
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

pub mod controller;
pub mod encoder;
pub mod keyboard;
pub mod layout;

mod decoder;
mod event;
mod key_set;
mod keycode;
mod scancode_set;

pub use decoder::Decoder;
pub use event::{Event, Events, KeyEvent, KeyKind, Response, Resync, UnknownScancode};
pub use key_set::KeySet;
pub use keycode::{HidUsage, KeyCode};
pub use scancode_set::ScancodeSet;
