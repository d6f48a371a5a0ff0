//! German QWERTZ (T1, the DIN 2137 layout Windows and Linux ship as "de").

use super::{dead, key_table, Accent, Action, KeyDef, KeyTable, Layout};
use crate::KeyCode;

/// German QWERTZ.
///
/// - Z and Y swapped, `ü` `ö` `ä` right of P and L, `ß` right of 0; Caps Lock applies to the
///   umlauts as to other letters (`Ä`), not to `ß`.
/// - Dead keys: `^` (circumflex, left of 1; Shift gives `°`), `´` (acute) and Shift `` ` ``
///   (grave) left of Backspace.
/// - AltGr: `² ³ { [ ] } \` on 2, 3, 7, 8, 9, 0, ß; `@` on Q, `€` on E, `~` on `+`, `µ` on
///   M, `|` on `<`.
/// - The keypad decimal key types `,`.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{Action, De, Layout, Level};
/// use irqkit_ps2::KeyCode;
///
/// assert_eq!(De.key(KeyCode::E).action(Level::AltGr), Action::Char('€'));
/// assert_eq!(De.key(KeyCode::Minus).action(Level::Base), Action::Char('ß'));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct De;

const fn def(key: KeyCode) -> KeyDef {
    use KeyCode::*;
    match key {
        Backquote => KeyDef::new(dead(Accent::Circumflex, '^'), Action::Char('°')),
        Digit1 => KeyDef::symbol('1', '!'),
        Digit2 => KeyDef::symbol('2', '"').altgr('²'),
        Digit3 => KeyDef::symbol('3', '§').altgr('³'),
        Digit4 => KeyDef::symbol('4', '$'),
        Digit5 => KeyDef::symbol('5', '%'),
        Digit6 => KeyDef::symbol('6', '&'),
        Digit7 => KeyDef::symbol('7', '/').altgr('{'),
        Digit8 => KeyDef::symbol('8', '(').altgr('['),
        Digit9 => KeyDef::symbol('9', ')').altgr(']'),
        Digit0 => KeyDef::symbol('0', '=').altgr('}'),
        Minus => KeyDef::symbol('ß', '?').altgr('\\'),
        Equals => KeyDef::new(dead(Accent::Acute, '´'), dead(Accent::Grave, '`')),
        Q => KeyDef::letter('q', 'Q').altgr('@'),
        W => KeyDef::letter('w', 'W'),
        E => KeyDef::letter('e', 'E').altgr('€'),
        R => KeyDef::letter('r', 'R'),
        T => KeyDef::letter('t', 'T'),
        Y => KeyDef::letter('z', 'Z'),
        U => KeyDef::letter('u', 'U'),
        I => KeyDef::letter('i', 'I'),
        O => KeyDef::letter('o', 'O'),
        P => KeyDef::letter('p', 'P'),
        LeftBracket => KeyDef::letter('ü', 'Ü'),
        RightBracket => KeyDef::symbol('+', '*').altgr('~'),
        A => KeyDef::letter('a', 'A'),
        S => KeyDef::letter('s', 'S'),
        D => KeyDef::letter('d', 'D'),
        F => KeyDef::letter('f', 'F'),
        G => KeyDef::letter('g', 'G'),
        H => KeyDef::letter('h', 'H'),
        J => KeyDef::letter('j', 'J'),
        K => KeyDef::letter('k', 'K'),
        L => KeyDef::letter('l', 'L'),
        Semicolon => KeyDef::letter('ö', 'Ö'),
        Quote => KeyDef::letter('ä', 'Ä'),
        // The ISO key left of Enter shares the US backslash scancode.
        Backslash => KeyDef::symbol('#', '\''),
        IntlBackslash => KeyDef::symbol('<', '>').altgr('|'),
        Z => KeyDef::letter('y', 'Y'),
        X => KeyDef::letter('x', 'X'),
        C => KeyDef::letter('c', 'C'),
        V => KeyDef::letter('v', 'V'),
        B => KeyDef::letter('b', 'B'),
        N => KeyDef::letter('n', 'N'),
        M => KeyDef::letter('m', 'M').altgr('µ'),
        Comma => KeyDef::symbol(',', ';'),
        Period => KeyDef::symbol('.', ':'),
        Slash => KeyDef::symbol('-', '_'),
        NumpadPeriod => KeyDef::keypad(',', Delete),
        _ => KeyDef::NONE,
    }
}

pub(super) static TABLE: KeyTable = key_table!(def);

impl Layout for De {
    #[inline]
    fn key(&self, key: KeyCode) -> KeyDef {
        TABLE.get(key)
    }

    #[inline]
    fn table(&self) -> Option<&KeyTable> {
        Some(&TABLE)
    }

    fn has_altgr(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "de"
    }
}
