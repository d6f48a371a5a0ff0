//! The encoder: a key event back into the bytes a keyboard sends for it.
//!
//! Use it to emulate a keyboard (a virtual machine monitor, a USB-to-PS/2 bridge) or to write
//! tests: [`encode`] gives what a keyboard sends with no modifier held; [`encode_with`] adds
//! the fake shifts real keyboards wrap around navigation keys, keypad `/` and Print Screen
//! depending on Num Lock and the held modifiers ([`Context`]).
//!
//! Keys that send no break code encode their release as no bytes: Hangul and Hanja. Pause and
//! Break send their make and break at once; their press gives the first half and their release
//! the second, so send both when the key goes down.
//!
//! # Examples
//!
//! ```
//! use irqkit_ps2::encoder::{encode, encode_with, Context};
//! use irqkit_ps2::{KeyCode, KeyEvent, ScancodeSet};
//!
//! let press_a = KeyEvent::press(KeyCode::A);
//! assert_eq!(&*encode(ScancodeSet::Set1, press_a)?, &[0x1E]);
//! assert_eq!(&*encode(ScancodeSet::Set2, KeyEvent::release(KeyCode::A))?, &[0xF0, 0x1C]);
//! assert_eq!(&*encode(ScancodeSet::Set1, KeyEvent::press(KeyCode::Pause))?, &[0xE1, 0x1D, 0x45]);
//!
//! // Insert with Num Lock on: the keyboard pretends Left Shift goes down first.
//! let num_lock = Context { num_lock: true, ..Context::default() };
//! let insert = KeyEvent::press(KeyCode::Insert);
//! assert_eq!(&*encode_with(ScancodeSet::Set1, insert, num_lock)?, &[0xE0, 0x2A, 0xE0, 0x52]);
//! # Ok::<(), irqkit_ps2::encoder::EncodeError>(())
//! ```

use core::fmt;
use core::ops::Deref;

use crate::{KeyCode, KeyEvent, KeyKind, ScancodeSet};

/// The bytes of one encoded key event (at most [`Bytes::CAPACITY`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bytes {
    buf: [u8; Bytes::CAPACITY],
    len: u8,
}

impl Bytes {
    /// The longest encoding: a set 2 navigation key pressed with both shifts held
    /// (`E0 F0 12 E0 F0 59 E0 xx`).
    pub const CAPACITY: usize = 8;

    const fn new() -> Self {
        Bytes {
            buf: [0; Self::CAPACITY],
            len: 0,
        }
    }

    /// Appends; the encodings below never exceed the capacity (checked by tests), and a byte
    /// that would is dropped rather than panicking.
    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.buf.get_mut(self.len as usize) {
            *slot = byte;
            self.len += 1;
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.push(byte);
        }
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
}

impl Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.as_slice().iter().map(|b| Hex(*b)))
            .finish()
    }
}

struct Hex(u8);

impl fmt::Debug for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02X}", self.0)
    }
}

/// Why a key event could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EncodeError {
    /// The key has no scancode in this set (QEMU's table gives it none).
    NoScancode {
        /// The key asked for.
        key: KeyCode,
        /// The set asked for.
        set: ScancodeSet,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::NoScancode { key, set } => write!(f, "{key} has no scancode in {set}"),
        }
    }
}

impl core::error::Error for EncodeError {}

/// What the keyboard knows when it encodes a key: the state that decides its fake shifts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Context {
    /// Num Lock is on (navigation keys get a fake Left Shift press around them).
    pub num_lock: bool,
    /// Left Shift is held (navigation keys and keypad `/` get a fake Left Shift release).
    pub left_shift: bool,
    /// Right Shift is held (likewise, with Right Shift).
    pub right_shift: bool,
    /// Ctrl is held (Print Screen then sends its code without a fake shift).
    pub ctrl: bool,
}

/// Encodes `event` as a keyboard sends it with Num Lock off and no modifier held.
///
/// # Errors
///
/// [`EncodeError::NoScancode`] when the key has no code in `set`.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::encoder::{encode, EncodeError};
/// use irqkit_ps2::{KeyCode, KeyEvent, ScancodeSet};
///
/// let print = encode(ScancodeSet::Set2, KeyEvent::press(KeyCode::PrintScreen)).unwrap();
/// assert_eq!(&*print, &[0xE0, 0x12, 0xE0, 0x7C]);
/// assert_eq!(
///     encode(ScancodeSet::Set3, KeyEvent::press(KeyCode::F24)),
///     Err(EncodeError::NoScancode { key: KeyCode::F24, set: ScancodeSet::Set3 })
/// );
/// ```
pub fn encode(set: ScancodeSet, event: KeyEvent) -> Result<Bytes, EncodeError> {
    encode_with(set, event, Context::default())
}

/// Navigation keys: the keyboard wraps them in fake shifts by Num Lock and Shift.
const fn is_navigation(key: KeyCode) -> bool {
    matches!(
        key,
        KeyCode::Insert
            | KeyCode::Delete
            | KeyCode::Home
            | KeyCode::End
            | KeyCode::PageUp
            | KeyCode::PageDown
            | KeyCode::Up
            | KeyCode::Down
            | KeyCode::Left
            | KeyCode::Right
    )
}

/// Encodes `event` as a keyboard in `context` sends it, fake shifts included.
///
/// # Errors
///
/// [`EncodeError::NoScancode`] when the key has no code in `set`.
pub fn encode_with(
    set: ScancodeSet,
    event: KeyEvent,
    context: Context,
) -> Result<Bytes, EncodeError> {
    let key = event.code;
    let release = event.kind == KeyKind::Release;
    let mut out = Bytes::new();
    // Keys with fixed multi-byte sequences.
    match (set, key) {
        (ScancodeSet::Set1, KeyCode::Pause) => {
            out.extend(if release {
                &[0xE1, 0x9D, 0xC5]
            } else {
                &[0xE1, 0x1D, 0x45]
            });
            return Ok(out);
        }
        (ScancodeSet::Set2, KeyCode::Pause) => {
            out.extend(if release {
                &[0xE1, 0xF0, 0x14, 0xF0, 0x77]
            } else {
                &[0xE1, 0x14, 0x77]
            });
            return Ok(out);
        }
        (ScancodeSet::Set1 | ScancodeSet::Set2, KeyCode::Hangul | KeyCode::Hanja) => {
            if !release {
                out.push(if key == KeyCode::Hangul { 0xF2 } else { 0xF1 });
            }
            return Ok(out);
        }
        _ => {}
    }
    let code = key
        .code_in(set)
        .ok_or(EncodeError::NoScancode { key, set })?;
    let wrap = if set == ScancodeSet::Set3 || event.kind == KeyKind::Repeat {
        Wrap::None
    } else if key == KeyCode::PrintScreen {
        // Shift or Ctrl held: the bare code. Otherwise a fake Left Shift press.
        if context.left_shift || context.right_shift || context.ctrl {
            Wrap::None
        } else {
            Wrap::FakePress
        }
    } else if (is_navigation(key) || key == KeyCode::NumpadSlash)
        && (context.left_shift || context.right_shift)
    {
        Wrap::FakeRelease {
            left: context.left_shift,
            right: context.right_shift,
        }
    } else if is_navigation(key) && context.num_lock {
        Wrap::FakePress
    } else {
        Wrap::None
    };
    // The fake shifts go before a make and after a break, mirrored.
    if !release {
        wrap.before_make(set, &mut out);
    }
    push_code(set, code, release, &mut out);
    if release {
        wrap.after_break(set, &mut out);
    }
    Ok(out)
}

/// Which fake shifts surround a key.
#[derive(Clone, Copy)]
enum Wrap {
    None,
    /// Fake Left Shift make before, break after (Num Lock on, Print Screen).
    FakePress,
    /// Fake breaks of the held shifts before, makes after (Shift held).
    FakeRelease {
        left: bool,
        right: bool,
    },
}

/// The set's code for the left / right shift, as used by fake shifts.
const LEFT_SHIFT: [u8; 2] = [0x2A, 0x12];
const RIGHT_SHIFT: [u8; 2] = [0x36, 0x59];

impl Wrap {
    fn before_make(self, set: ScancodeSet, out: &mut Bytes) {
        match self {
            Wrap::None => {}
            Wrap::FakePress => fake(set, LEFT_SHIFT, false, out),
            Wrap::FakeRelease { left, right } => {
                if left {
                    fake(set, LEFT_SHIFT, true, out);
                }
                if right {
                    fake(set, RIGHT_SHIFT, true, out);
                }
            }
        }
    }

    fn after_break(self, set: ScancodeSet, out: &mut Bytes) {
        match self {
            Wrap::None => {}
            Wrap::FakePress => fake(set, LEFT_SHIFT, true, out),
            Wrap::FakeRelease { left, right } => {
                if right {
                    fake(set, RIGHT_SHIFT, false, out);
                }
                if left {
                    fake(set, LEFT_SHIFT, false, out);
                }
            }
        }
    }
}

fn fake(set: ScancodeSet, codes: [u8; 2], release: bool, out: &mut Bytes) {
    let code = match set {
        ScancodeSet::Set1 => codes[0],
        _ => codes[1],
    };
    push_code(set, 0xE000 | u16::from(code), release, out);
}

fn push_code(set: ScancodeSet, code: u16, release: bool, out: &mut Bytes) {
    if code > 0xFF {
        out.push((code >> 8) as u8);
    }
    let low = code as u8;
    match (set, release) {
        (_, false) => out.push(low),
        (ScancodeSet::Set1, true) => out.push(low | 0x80),
        (_, true) => out.extend(&[0xF0, low]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(set: ScancodeSet, event: KeyEvent, context: Context) -> Bytes {
        encode_with(set, event, context).unwrap()
    }

    #[test]
    fn plain_and_extended_keys() {
        let set1 = ScancodeSet::Set1;
        let set2 = ScancodeSet::Set2;
        assert_eq!(
            &*encode(set1, KeyEvent::release(KeyCode::A)).unwrap(),
            &[0x9E]
        );
        assert_eq!(
            &*encode(set1, KeyEvent::press(KeyCode::RightCtrl)).unwrap(),
            &[0xE0, 0x1D]
        );
        assert_eq!(
            &*encode(set1, KeyEvent::release(KeyCode::RightCtrl)).unwrap(),
            &[0xE0, 0x9D]
        );
        assert_eq!(
            &*encode(set2, KeyEvent::release(KeyCode::RightCtrl)).unwrap(),
            &[0xE0, 0xF0, 0x14]
        );
        assert_eq!(
            &*encode(ScancodeSet::Set3, KeyEvent::release(KeyCode::RightCtrl)).unwrap(),
            &[0xF0, 0x58]
        );
        assert_eq!(
            &*encode(set1, KeyEvent::repeat(KeyCode::A)).unwrap(),
            &[0x1E]
        );
    }

    #[test]
    fn special_sequences() {
        let set1 = ScancodeSet::Set1;
        let set2 = ScancodeSet::Set2;
        let d = Context::default();
        assert_eq!(
            &*bytes(set2, KeyEvent::release(KeyCode::Pause), d),
            &[0xE1, 0xF0, 0x14, 0xF0, 0x77]
        );
        assert_eq!(
            &*bytes(set1, KeyEvent::release(KeyCode::Pause), d),
            &[0xE1, 0x9D, 0xC5]
        );
        assert_eq!(
            &*bytes(set1, KeyEvent::press(KeyCode::Break), d),
            &[0xE0, 0x46]
        );
        assert_eq!(
            &*bytes(set1, KeyEvent::release(KeyCode::Break), d),
            &[0xE0, 0xC6]
        );
        assert_eq!(
            &*bytes(set2, KeyEvent::release(KeyCode::Break), d),
            &[0xE0, 0xF0, 0x7E]
        );
        assert_eq!(&*bytes(set1, KeyEvent::press(KeyCode::SysRq), d), &[0x54]);
        assert_eq!(&*bytes(set2, KeyEvent::press(KeyCode::SysRq), d), &[0x84]);
        assert_eq!(
            &*bytes(set2, KeyEvent::release(KeyCode::SysRq), d),
            &[0xF0, 0x84]
        );
        assert_eq!(&*bytes(set1, KeyEvent::press(KeyCode::Hangul), d), &[0xF2]);
        assert_eq!(&*bytes(set2, KeyEvent::press(KeyCode::Hanja), d), &[0xF1]);
        assert!(bytes(set1, KeyEvent::release(KeyCode::Hanja), d).is_empty());
        assert_eq!(
            &*bytes(set1, KeyEvent::press(KeyCode::PrintScreen), d),
            &[0xE0, 0x2A, 0xE0, 0x37]
        );
        assert_eq!(
            &*bytes(set1, KeyEvent::release(KeyCode::PrintScreen), d),
            &[0xE0, 0xB7, 0xE0, 0xAA]
        );
        assert_eq!(
            &*bytes(set2, KeyEvent::release(KeyCode::PrintScreen), d),
            &[0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12]
        );
        let ctrl = Context { ctrl: true, ..d };
        assert_eq!(
            &*bytes(set1, KeyEvent::press(KeyCode::PrintScreen), ctrl),
            &[0xE0, 0x37]
        );
        assert_eq!(
            &*bytes(ScancodeSet::Set3, KeyEvent::press(KeyCode::Pause), d),
            &[0x62]
        );
        assert_eq!(
            &*bytes(
                ScancodeSet::Set3,
                KeyEvent::release(KeyCode::PrintScreen),
                d
            ),
            &[0xF0, 0x57]
        );
    }

    #[test]
    fn fake_shifts() {
        let set1 = ScancodeSet::Set1;
        let set2 = ScancodeSet::Set2;
        let both = Context {
            left_shift: true,
            right_shift: true,
            num_lock: true,
            ctrl: false,
        };
        let longest = bytes(set2, KeyEvent::press(KeyCode::Home), both);
        assert_eq!(&*longest, &[0xE0, 0xF0, 0x12, 0xE0, 0xF0, 0x59, 0xE0, 0x6C]);
        assert_eq!(longest.len(), Bytes::CAPACITY);
        assert_eq!(
            &*bytes(set2, KeyEvent::release(KeyCode::Home), both),
            &[0xE0, 0xF0, 0x6C, 0xE0, 0x59, 0xE0, 0x12]
        );
        let left = Context {
            left_shift: true,
            ..Context::default()
        };
        assert_eq!(
            &*bytes(set1, KeyEvent::press(KeyCode::NumpadSlash), left),
            &[0xE0, 0xAA, 0xE0, 0x35]
        );
        assert_eq!(
            &*bytes(set1, KeyEvent::release(KeyCode::NumpadSlash), left),
            &[0xE0, 0xB5, 0xE0, 0x2A]
        );
        let num = Context {
            num_lock: true,
            ..Context::default()
        };
        // Keypad / gets no Num Lock fake shift; a repeat is the bare code.
        assert_eq!(
            &*bytes(set1, KeyEvent::press(KeyCode::NumpadSlash), num),
            &[0xE0, 0x35]
        );
        assert_eq!(
            &*bytes(set1, KeyEvent::repeat(KeyCode::Up), num),
            &[0xE0, 0x48]
        );
        assert_eq!(
            &*bytes(set1, KeyEvent::release(KeyCode::Up), num),
            &[0xE0, 0xC8, 0xE0, 0xAA]
        );
    }

    #[test]
    fn every_key_fits_in_every_context() {
        for set in ScancodeSet::ALL {
            for key in KeyCode::ALL {
                for kind in [KeyKind::Press, KeyKind::Release, KeyKind::Repeat] {
                    for bits in 0..16u8 {
                        let context = Context {
                            num_lock: bits & 1 != 0,
                            left_shift: bits & 2 != 0,
                            right_shift: bits & 4 != 0,
                            ctrl: bits & 8 != 0,
                        };
                        match encode_with(set, KeyEvent { code: key, kind }, context) {
                            Ok(out) => assert!(out.len() <= Bytes::CAPACITY),
                            Err(EncodeError::NoScancode { key: k, set: s }) => {
                                assert_eq!((k, s), (key, set));
                                assert_eq!(key.code_in(set), None);
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn error_and_debug_text() {
        extern crate std;
        let err = EncodeError::NoScancode {
            key: KeyCode::F24,
            set: ScancodeSet::Set3,
        };
        assert_eq!(
            std::format!("{err}"),
            "F24 has no scancode in scancode set 3"
        );
        let out = encode(ScancodeSet::Set1, KeyEvent::press(KeyCode::Pause)).unwrap();
        assert_eq!(std::format!("{out:?}"), "[E1, 1D, 45]");
    }
}
