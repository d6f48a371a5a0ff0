//! Colemak.

use super::{key_table, KeyDef, KeyTable, Layout};
use crate::KeyCode;

/// Colemak: `q w f p g j l u y ;` on the top row, `a r s t d h n e i o` on the home row,
/// `z x c v b k m` on the bottom row; punctuation as on US.
///
/// Caps Lock stays Caps Lock (the Colemak standard makes it a second Backspace; a kernel that
/// wants that remaps [`KeyCode::CapsLock`] before the keyboard state sees it). The AltGr
/// layer of the reference Colemak is not included.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{Action, Colemak, Layout, Level};
/// use irqkit_ps2::KeyCode;
///
/// assert_eq!(Colemak.key(KeyCode::E).action(Level::Base), Action::Char('f'));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Colemak;

const fn def(key: KeyCode) -> KeyDef {
    use KeyCode::*;
    match key {
        E => KeyDef::letter('f', 'F'),
        R => KeyDef::letter('p', 'P'),
        T => KeyDef::letter('g', 'G'),
        Y => KeyDef::letter('j', 'J'),
        U => KeyDef::letter('l', 'L'),
        I => KeyDef::letter('u', 'U'),
        O => KeyDef::letter('y', 'Y'),
        P => KeyDef::symbol(';', ':'),
        S => KeyDef::letter('r', 'R'),
        D => KeyDef::letter('s', 'S'),
        F => KeyDef::letter('t', 'T'),
        G => KeyDef::letter('d', 'D'),
        J => KeyDef::letter('n', 'N'),
        K => KeyDef::letter('e', 'E'),
        L => KeyDef::letter('i', 'I'),
        Semicolon => KeyDef::letter('o', 'O'),
        N => KeyDef::letter('k', 'K'),
        // Every other key is the same as on US.
        _ => super::us::def(key),
    }
}

pub(super) static TABLE: KeyTable = key_table!(def);

impl Layout for Colemak {
    #[inline]
    fn key(&self, key: KeyCode) -> KeyDef {
        TABLE.get(key)
    }

    #[inline]
    fn table(&self) -> Option<&KeyTable> {
        Some(&TABLE)
    }

    fn has_altgr(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "colemak"
    }
}
