//! US-International: US QWERTY with dead accents and an AltGr layer (the Windows layout).

use super::{dead, key_table, Accent, Action, KeyDef, KeyTable, Layout};
use crate::KeyCode;

/// US-International, as Windows defines it.
///
/// - Dead keys: `'` (acute), `"` (diaeresis), `` ` `` (grave), `~` (tilde) and `^`
///   (circumflex). Each types itself before Space or a letter it does not accent, so `'` then
///   `t` gives `'t` and `'` then Space gives `'`. As on Windows, `'` then `c` gives `ç`.
/// - AltGr (Right Alt): `¡²³¤€¼½¾‘’¥×` on the digit row, `äåé®þüúíóö«»¬` on the top row,
///   `áßðø¶´` on the home row, `æ©ñµç¿` on the bottom row, and Shift+AltGr the capitals
///   and `¹£÷¦§°¨ÄÅÉÞÜÚÍÓÖÁÐØÆ¢ÑÇ`.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{Accent, Action, Layout, Level, UsIntl};
/// use irqkit_ps2::KeyCode;
///
/// assert_eq!(
///     UsIntl.key(KeyCode::Quote).action(Level::Base),
///     Action::Dead { accent: Accent::Acute, spacing: '\'' }
/// );
/// assert_eq!(UsIntl.key(KeyCode::Q).action(Level::AltGr), Action::Char('ä'));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct UsIntl;

const fn def(key: KeyCode) -> KeyDef {
    use KeyCode::*;
    match key {
        Backquote => KeyDef::new(dead(Accent::Grave, '`'), dead(Accent::Tilde, '~')),
        Digit1 => KeyDef::symbol('1', '!').altgr('¡').shift_altgr('¹'),
        Digit2 => KeyDef::symbol('2', '@').altgr('²'),
        Digit3 => KeyDef::symbol('3', '#').altgr('³'),
        Digit4 => KeyDef::symbol('4', '$').altgr('¤').shift_altgr('£'),
        Digit5 => KeyDef::symbol('5', '%').altgr('€'),
        Digit6 => KeyDef::new(Action::Char('6'), dead(Accent::Circumflex, '^')).altgr('¼'),
        Digit7 => KeyDef::symbol('7', '&').altgr('½'),
        Digit8 => KeyDef::symbol('8', '*').altgr('¾'),
        Digit9 => KeyDef::symbol('9', '(').altgr('‘'),
        Digit0 => KeyDef::symbol('0', ')').altgr('’'),
        Minus => KeyDef::symbol('-', '_').altgr('¥'),
        Equals => KeyDef::symbol('=', '+').altgr('×').shift_altgr('÷'),
        Q => KeyDef::letter('q', 'Q').altgr_letter('ä', 'Ä'),
        W => KeyDef::letter('w', 'W').altgr_letter('å', 'Å'),
        E => KeyDef::letter('e', 'E').altgr_letter('é', 'É'),
        R => KeyDef::letter('r', 'R').altgr('®'),
        T => KeyDef::letter('t', 'T').altgr_letter('þ', 'Þ'),
        Y => KeyDef::letter('y', 'Y').altgr_letter('ü', 'Ü'),
        U => KeyDef::letter('u', 'U').altgr_letter('ú', 'Ú'),
        I => KeyDef::letter('i', 'I').altgr_letter('í', 'Í'),
        O => KeyDef::letter('o', 'O').altgr_letter('ó', 'Ó'),
        P => KeyDef::letter('p', 'P').altgr_letter('ö', 'Ö'),
        LeftBracket => KeyDef::symbol('[', '{').altgr('«'),
        RightBracket => KeyDef::symbol(']', '}').altgr('»'),
        Backslash => KeyDef::symbol('\\', '|').altgr('¬').shift_altgr('¦'),
        A => KeyDef::letter('a', 'A').altgr_letter('á', 'Á'),
        S => KeyDef::letter('s', 'S').altgr('ß').shift_altgr('§'),
        D => KeyDef::letter('d', 'D').altgr_letter('ð', 'Ð'),
        F => KeyDef::letter('f', 'F'),
        G => KeyDef::letter('g', 'G'),
        H => KeyDef::letter('h', 'H'),
        J => KeyDef::letter('j', 'J'),
        K => KeyDef::letter('k', 'K'),
        L => KeyDef::letter('l', 'L').altgr_letter('ø', 'Ø'),
        Semicolon => KeyDef::symbol(';', ':').altgr('¶').shift_altgr('°'),
        Quote => KeyDef::new(dead(Accent::Acute, '\''), dead(Accent::Diaeresis, '"'))
            .altgr('´')
            .shift_altgr('¨'),
        IntlBackslash => KeyDef::symbol('\\', '|'),
        Z => KeyDef::letter('z', 'Z').altgr_letter('æ', 'Æ'),
        X => KeyDef::letter('x', 'X'),
        C => KeyDef::letter('c', 'C').altgr('©').shift_altgr('¢'),
        V => KeyDef::letter('v', 'V'),
        B => KeyDef::letter('b', 'B'),
        N => KeyDef::letter('n', 'N').altgr_letter('ñ', 'Ñ'),
        M => KeyDef::letter('m', 'M').altgr('µ'),
        Comma => KeyDef::symbol(',', '<').altgr_letter('ç', 'Ç'),
        Period => KeyDef::symbol('.', '>'),
        Slash => KeyDef::symbol('/', '?').altgr('¿'),
        _ => KeyDef::NONE,
    }
}

pub(super) static TABLE: KeyTable = key_table!(def);

impl Layout for UsIntl {
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
        "us-intl"
    }

    fn compose(&self, accent: Accent, base: char) -> Option<char> {
        // Windows US-International types ç for ' then c (there is no acute c in French).
        match (accent, base) {
            (Accent::Acute, 'c') => Some('ç'),
            (Accent::Acute, 'C') => Some('Ç'),
            _ => super::compose(accent, base),
        }
    }
}
