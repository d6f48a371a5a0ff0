//! US Dvorak (the ANSI Dvorak Simplified Keyboard).

use super::{key_table, KeyDef, KeyTable, Layout};
use crate::KeyCode;

/// US Dvorak: `' , . p y f g c r l / =` on the top row, `a o e u i d h t n s -` on the home
/// row, `; q j k x b m w v z` on the bottom row, `[ ]` right of 0. No AltGr, no dead keys.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{Action, Dvorak, Layout, Level};
/// use irqkit_ps2::KeyCode;
///
/// assert_eq!(Dvorak.key(KeyCode::S).action(Level::Base), Action::Char('o'));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dvorak;

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
        Minus => KeyDef::symbol('[', '{'),
        Equals => KeyDef::symbol(']', '}'),
        Q => KeyDef::symbol('\'', '"'),
        W => KeyDef::symbol(',', '<'),
        E => KeyDef::symbol('.', '>'),
        R => KeyDef::letter('p', 'P'),
        T => KeyDef::letter('y', 'Y'),
        Y => KeyDef::letter('f', 'F'),
        U => KeyDef::letter('g', 'G'),
        I => KeyDef::letter('c', 'C'),
        O => KeyDef::letter('r', 'R'),
        P => KeyDef::letter('l', 'L'),
        LeftBracket => KeyDef::symbol('/', '?'),
        RightBracket => KeyDef::symbol('=', '+'),
        Backslash => KeyDef::symbol('\\', '|'),
        A => KeyDef::letter('a', 'A'),
        S => KeyDef::letter('o', 'O'),
        D => KeyDef::letter('e', 'E'),
        F => KeyDef::letter('u', 'U'),
        G => KeyDef::letter('i', 'I'),
        H => KeyDef::letter('d', 'D'),
        J => KeyDef::letter('h', 'H'),
        K => KeyDef::letter('t', 'T'),
        L => KeyDef::letter('n', 'N'),
        Semicolon => KeyDef::letter('s', 'S'),
        Quote => KeyDef::symbol('-', '_'),
        IntlBackslash => KeyDef::symbol('\\', '|'),
        Z => KeyDef::symbol(';', ':'),
        X => KeyDef::letter('q', 'Q'),
        C => KeyDef::letter('j', 'J'),
        V => KeyDef::letter('k', 'K'),
        B => KeyDef::letter('x', 'X'),
        N => KeyDef::letter('b', 'B'),
        M => KeyDef::letter('m', 'M'),
        Comma => KeyDef::letter('w', 'W'),
        Period => KeyDef::letter('v', 'V'),
        Slash => KeyDef::letter('z', 'Z'),
        _ => KeyDef::NONE,
    }
}

pub(super) static TABLE: KeyTable = key_table!(def);

impl Layout for Dvorak {
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
        "dvorak"
    }
}
