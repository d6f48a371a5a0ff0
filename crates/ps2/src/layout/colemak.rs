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
        Backquote => KeyDef::symbol('`', '~'),
        Digit1 => KeyDef::symbol('1', '!'),
        Digit2 => KeyDef::symbol('2', '@'),
        Digit3 => KeyDef::symbol('3', '#'),
        Digit4 => KeyDef::symbol('4', '$'),
        Digit5 => KeyDef::symbol('5', '%'),
        Digit6 => KeyDef::symbol('6', '^'),
        Digit7 => KeyDef::symbol('7', '&'),
        Digit8 => KeyDef::symbol('8', '*'),
        Digit9 => KeyDef::symbol('9', '('),
        Digit0 => KeyDef::symbol('0', ')'),
        Minus => KeyDef::symbol('-', '_'),
        Equals => KeyDef::symbol('=', '+'),
        Q => KeyDef::letter('q', 'Q'),
        W => KeyDef::letter('w', 'W'),
        E => KeyDef::letter('f', 'F'),
        R => KeyDef::letter('p', 'P'),
        T => KeyDef::letter('g', 'G'),
        Y => KeyDef::letter('j', 'J'),
        U => KeyDef::letter('l', 'L'),
        I => KeyDef::letter('u', 'U'),
        O => KeyDef::letter('y', 'Y'),
        P => KeyDef::symbol(';', ':'),
        LeftBracket => KeyDef::symbol('[', '{'),
        RightBracket => KeyDef::symbol(']', '}'),
        Backslash => KeyDef::symbol('\\', '|'),
        A => KeyDef::letter('a', 'A'),
        S => KeyDef::letter('r', 'R'),
        D => KeyDef::letter('s', 'S'),
        F => KeyDef::letter('t', 'T'),
        G => KeyDef::letter('d', 'D'),
        H => KeyDef::letter('h', 'H'),
        J => KeyDef::letter('n', 'N'),
        K => KeyDef::letter('e', 'E'),
        L => KeyDef::letter('i', 'I'),
        Semicolon => KeyDef::letter('o', 'O'),
        Quote => KeyDef::symbol('\'', '"'),
        IntlBackslash => KeyDef::symbol('\\', '|'),
        Z => KeyDef::letter('z', 'Z'),
        X => KeyDef::letter('x', 'X'),
        C => KeyDef::letter('c', 'C'),
        V => KeyDef::letter('v', 'V'),
        B => KeyDef::letter('b', 'B'),
        N => KeyDef::letter('k', 'K'),
        M => KeyDef::letter('m', 'M'),
        Comma => KeyDef::symbol(',', '<'),
        Period => KeyDef::symbol('.', '>'),
        Slash => KeyDef::symbol('/', '?'),
        _ => KeyDef::NONE,
    }
}

static TABLE: KeyTable = key_table!(def);

impl Layout for Colemak {
    #[inline]
    fn key(&self, key: KeyCode) -> KeyDef {
        TABLE.get(key)
    }

    fn has_altgr(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        "colemak"
    }
}
