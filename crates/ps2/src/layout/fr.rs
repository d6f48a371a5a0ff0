//! French AZERTY (the Windows and Linux "fr" layout).

use super::{dead, key_table, Accent, Action, KeyDef, KeyTable, Layout};
use crate::KeyCode;

/// French AZERTY.
///
/// - A/Q and Z/W swapped, M right of L, `ù` `%` right of M, `,` `;` `:` `!` on the bottom row.
/// - The digit row types `& é " ' ( - è _ ç à ) =` unshifted and the digits with Shift.
/// - Dead keys: `^` (circumflex) and Shift `¨` (diaeresis) right of P; AltGr+2 `~` (tilde)
///   and AltGr+7 `` ` `` (grave).
/// - AltGr: `# { [ | \ ^ @ ] }` on 3, 4, 5, 6, 8, 9, 0, `)`, `=`; `€` on E; `¤` on `$`.
/// - Caps Lock applies to the 26 letters only: the digit row keeps `é`, `è`, `ç`, `à` (not
///   `É` as on Linux, nor the digits as on Windows) and `ù` stays `ù`.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{Action, Fr, Layout, Level};
/// use irqkit_ps2::KeyCode;
///
/// assert_eq!(Fr.key(KeyCode::Q).action(Level::Base), Action::Char('a'));
/// assert_eq!(Fr.key(KeyCode::Digit0).action(Level::AltGr), Action::Char('@'));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Fr;

const fn def(key: KeyCode) -> KeyDef {
    use KeyCode::*;
    match key {
        Backquote => KeyDef::new(Action::Char('²'), Action::None),
        Digit1 => KeyDef::symbol('&', '1'),
        Digit2 => KeyDef::symbol('é', '2').with(super::Level::AltGr, dead(Accent::Tilde, '~')),
        Digit3 => KeyDef::symbol('"', '3').altgr('#'),
        Digit4 => KeyDef::symbol('\'', '4').altgr('{'),
        Digit5 => KeyDef::symbol('(', '5').altgr('['),
        Digit6 => KeyDef::symbol('-', '6').altgr('|'),
        Digit7 => KeyDef::symbol('è', '7').with(super::Level::AltGr, dead(Accent::Grave, '`')),
        Digit8 => KeyDef::symbol('_', '8').altgr('\\'),
        Digit9 => KeyDef::symbol('ç', '9').altgr('^'),
        Digit0 => KeyDef::symbol('à', '0').altgr('@'),
        Minus => KeyDef::symbol(')', '°').altgr(']'),
        Equals => KeyDef::symbol('=', '+').altgr('}'),
        Q => KeyDef::letter('a', 'A'),
        W => KeyDef::letter('z', 'Z'),
        E => KeyDef::letter('e', 'E').altgr('€'),
        R => KeyDef::letter('r', 'R'),
        T => KeyDef::letter('t', 'T'),
        Y => KeyDef::letter('y', 'Y'),
        U => KeyDef::letter('u', 'U'),
        I => KeyDef::letter('i', 'I'),
        O => KeyDef::letter('o', 'O'),
        P => KeyDef::letter('p', 'P'),
        LeftBracket => KeyDef::new(dead(Accent::Circumflex, '^'), dead(Accent::Diaeresis, '¨')),
        RightBracket => KeyDef::symbol('$', '£').altgr('¤'),
        A => KeyDef::letter('q', 'Q'),
        S => KeyDef::letter('s', 'S'),
        D => KeyDef::letter('d', 'D'),
        F => KeyDef::letter('f', 'F'),
        G => KeyDef::letter('g', 'G'),
        H => KeyDef::letter('h', 'H'),
        J => KeyDef::letter('j', 'J'),
        K => KeyDef::letter('k', 'K'),
        L => KeyDef::letter('l', 'L'),
        Semicolon => KeyDef::letter('m', 'M'),
        Quote => KeyDef::symbol('ù', '%'),
        // The ISO key left of Enter shares the US backslash scancode.
        Backslash => KeyDef::symbol('*', 'µ'),
        IntlBackslash => KeyDef::symbol('<', '>'),
        Z => KeyDef::letter('w', 'W'),
        X => KeyDef::letter('x', 'X'),
        C => KeyDef::letter('c', 'C'),
        V => KeyDef::letter('v', 'V'),
        B => KeyDef::letter('b', 'B'),
        N => KeyDef::letter('n', 'N'),
        M => KeyDef::symbol(',', '?'),
        Comma => KeyDef::symbol(';', '.'),
        Period => KeyDef::symbol(':', '/'),
        Slash => KeyDef::symbol('!', '§'),
        _ => KeyDef::NONE,
    }
}

pub(super) static TABLE: KeyTable = key_table!(def);

impl Layout for Fr {
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
        "fr"
    }
}
