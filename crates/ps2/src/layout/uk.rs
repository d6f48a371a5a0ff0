//! United Kingdom QWERTY (ISO).

use super::{key_table, KeyDef, KeyTable, Layout};
use crate::KeyCode;

/// UK QWERTY: `"` on Shift+2, `£` on Shift+3, `@` on Shift+`'`, `#` `~` left of Enter, `\`
/// `|` left of Z, `¬` on Shift+`` ` ``. AltGr: `¦` on `` ` ``, `€` on 4, and `áéíóú`
/// (Shift+AltGr `ÁÉÍÓÚ`), as on Windows. No dead keys.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{Action, Layout, Level, Uk};
/// use irqkit_ps2::KeyCode;
///
/// assert_eq!(Uk.key(KeyCode::Digit3).action(Level::Shift), Action::Char('£'));
/// assert_eq!(Uk.key(KeyCode::Digit4).action(Level::AltGr), Action::Char('€'));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Uk;

const fn def(key: KeyCode) -> KeyDef {
    use KeyCode::*;
    match key {
        Backquote => KeyDef::symbol('`', '¬').altgr('¦'),
        Digit1 => KeyDef::symbol('1', '!'),
        Digit2 => KeyDef::symbol('2', '"'),
        Digit3 => KeyDef::symbol('3', '£'),
        Digit4 => KeyDef::symbol('4', '$').altgr('€'),
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
        E => KeyDef::letter('e', 'E').altgr_letter('é', 'É'),
        R => KeyDef::letter('r', 'R'),
        T => KeyDef::letter('t', 'T'),
        Y => KeyDef::letter('y', 'Y'),
        U => KeyDef::letter('u', 'U').altgr_letter('ú', 'Ú'),
        I => KeyDef::letter('i', 'I').altgr_letter('í', 'Í'),
        O => KeyDef::letter('o', 'O').altgr_letter('ó', 'Ó'),
        P => KeyDef::letter('p', 'P'),
        LeftBracket => KeyDef::symbol('[', '{'),
        RightBracket => KeyDef::symbol(']', '}'),
        A => KeyDef::letter('a', 'A').altgr_letter('á', 'Á'),
        S => KeyDef::letter('s', 'S'),
        D => KeyDef::letter('d', 'D'),
        F => KeyDef::letter('f', 'F'),
        G => KeyDef::letter('g', 'G'),
        H => KeyDef::letter('h', 'H'),
        J => KeyDef::letter('j', 'J'),
        K => KeyDef::letter('k', 'K'),
        L => KeyDef::letter('l', 'L'),
        Semicolon => KeyDef::symbol(';', ':'),
        Quote => KeyDef::symbol('\'', '@'),
        // The ISO key left of Enter shares the US backslash scancode.
        Backslash => KeyDef::symbol('#', '~'),
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

static TABLE: KeyTable = key_table!(def);

impl Layout for Uk {
    #[inline]
    fn key(&self, key: KeyCode) -> KeyDef {
        TABLE.get(key)
    }

    fn has_altgr(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "uk"
    }
}
