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
        Digit2 => KeyDef::symbol('2', '"'),
        Digit3 => KeyDef::symbol('3', '£'),
        Digit4 => KeyDef::symbol('4', '$').altgr('€'),
        E => KeyDef::letter('e', 'E').altgr_letter('é', 'É'),
        U => KeyDef::letter('u', 'U').altgr_letter('ú', 'Ú'),
        I => KeyDef::letter('i', 'I').altgr_letter('í', 'Í'),
        O => KeyDef::letter('o', 'O').altgr_letter('ó', 'Ó'),
        A => KeyDef::letter('a', 'A').altgr_letter('á', 'Á'),
        Quote => KeyDef::symbol('\'', '@'),
        // The ISO key left of Enter shares the US backslash scancode.
        Backslash => KeyDef::symbol('#', '~'),
        // Every other key is the same as on US.
        _ => super::us::def(key),
    }
}

pub(super) static TABLE: KeyTable = key_table!(def);

impl Layout for Uk {
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
        "uk"
    }
}
