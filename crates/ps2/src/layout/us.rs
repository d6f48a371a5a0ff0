//! US (ANSI) QWERTY: the layout printed on the keys [`KeyCode`] is named after.

use super::{key_table, KeyDef, KeyTable, Layout};
use crate::KeyCode;

/// US QWERTY (ANSI), no AltGr, no dead keys. The ISO key left of Z (absent on ANSI boards)
/// types `\` `|`, as on Linux.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{Action, Layout, Level, Us};
/// use irqkit_ps2::KeyCode;
///
/// assert_eq!(Us.key(KeyCode::Digit2).action(Level::Shift), Action::Char('@'));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Us;

/// The US key definitions; layouts that differ from US in a few keys fall back to it.
pub(super) const fn def(key: KeyCode) -> KeyDef {
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
        E => KeyDef::letter('e', 'E'),
        R => KeyDef::letter('r', 'R'),
        T => KeyDef::letter('t', 'T'),
        Y => KeyDef::letter('y', 'Y'),
        U => KeyDef::letter('u', 'U'),
        I => KeyDef::letter('i', 'I'),
        O => KeyDef::letter('o', 'O'),
        P => KeyDef::letter('p', 'P'),
        LeftBracket => KeyDef::symbol('[', '{'),
        RightBracket => KeyDef::symbol(']', '}'),
        Backslash => KeyDef::symbol('\\', '|'),
        A => KeyDef::letter('a', 'A'),
        S => KeyDef::letter('s', 'S'),
        D => KeyDef::letter('d', 'D'),
        F => KeyDef::letter('f', 'F'),
        G => KeyDef::letter('g', 'G'),
        H => KeyDef::letter('h', 'H'),
        J => KeyDef::letter('j', 'J'),
        K => KeyDef::letter('k', 'K'),
        L => KeyDef::letter('l', 'L'),
        Semicolon => KeyDef::symbol(';', ':'),
        Quote => KeyDef::symbol('\'', '"'),
        IntlBackslash => KeyDef::symbol('\\', '|'),
        Z => KeyDef::letter('z', 'Z'),
        X => KeyDef::letter('x', 'X'),
        C => KeyDef::letter('c', 'C'),
        V => KeyDef::letter('v', 'V'),
        B => KeyDef::letter('b', 'B'),
        N => KeyDef::letter('n', 'N'),
        M => KeyDef::letter('m', 'M'),
        Comma => KeyDef::symbol(',', '<'),
        Period => KeyDef::symbol('.', '>'),
        Slash => KeyDef::symbol('/', '?'),
        _ => KeyDef::NONE,
    }
}

pub(super) static TABLE: KeyTable = key_table!(def);

impl Layout for Us {
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
        "us"
    }
}
