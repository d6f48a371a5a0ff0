//! Japanese JIS (106/109-key) layout, characters only.

use super::{key_table, Action, KeyDef, KeyTable, Layout};
use crate::KeyCode;

/// Japanese JIS (OADG 106/109 keys), Latin characters only: no kana input method (the
/// Kana/Henkan keys come out as keys for an input method above the driver to use).
///
/// - Shifted digits `! " # $ % & ' ( )`, Shift+0 types nothing; `-` `=`, `^` `~` and the Yen
///   key right of `^`.
/// - `@` `` ` `` and `[` `{` right of P; `;` `+`, `:` `*` and `]` `}` right of L (the last is
///   the key in the US `\` position); `\` `_` on the Ro key right of `/`.
/// - The Yen key types `\` `|`, like Windows and Linux (Japanese fonts draw 0x5C as `¥`);
///   [`Jis::with_yen_sign`] makes it type `¥` instead, like macOS.
/// - The key in the US `` ` `` position is Zenkaku/Hankaku: it reports [`KeyCode::Lang5`].
///   Henkan ([`KeyCode::Convert`]), Muhenkan ([`KeyCode::NonConvert`]) and
///   Katakana/Hiragana ([`KeyCode::KatakanaHiragana`]) type nothing and come out as keys;
///   keypad `,` ([`KeyCode::NumpadJpComma`]) types `,`.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{Action, Jis, Layout, Level};
/// use irqkit_ps2::KeyCode;
///
/// assert_eq!(Jis::new().key(KeyCode::Digit2).action(Level::Shift), Action::Char('"'));
/// assert_eq!(Jis::new().key(KeyCode::IntlYen).action(Level::Base), Action::Char('\\'));
/// assert_eq!(Jis::with_yen_sign().key(KeyCode::IntlYen).action(Level::Base), Action::Char('¥'));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Jis {
    yen_sign: bool,
}

impl Jis {
    /// The JIS layout with the Yen key typing `\` (Windows and Linux convention).
    pub const fn new() -> Jis {
        Jis { yen_sign: false }
    }

    /// The JIS layout with the Yen key typing `¥` (U+00A5; macOS convention).
    pub const fn with_yen_sign() -> Jis {
        Jis { yen_sign: true }
    }
}

const fn def(key: KeyCode) -> KeyDef {
    use KeyCode::*;
    match key {
        Backquote => KeyDef::remap(Lang5),
        Digit1 => KeyDef::symbol('1', '!'),
        Digit2 => KeyDef::symbol('2', '"'),
        Digit3 => KeyDef::symbol('3', '#'),
        Digit4 => KeyDef::symbol('4', '$'),
        Digit5 => KeyDef::symbol('5', '%'),
        Digit6 => KeyDef::symbol('6', '&'),
        Digit7 => KeyDef::symbol('7', '\''),
        Digit8 => KeyDef::symbol('8', '('),
        Digit9 => KeyDef::symbol('9', ')'),
        Digit0 => KeyDef::new(Action::Char('0'), Action::None),
        Minus => KeyDef::symbol('-', '='),
        Equals => KeyDef::symbol('^', '~'),
        IntlYen => KeyDef::symbol('\\', '|'),
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
        LeftBracket => KeyDef::symbol('@', '`'),
        RightBracket => KeyDef::symbol('[', '{'),
        A => KeyDef::letter('a', 'A'),
        S => KeyDef::letter('s', 'S'),
        D => KeyDef::letter('d', 'D'),
        F => KeyDef::letter('f', 'F'),
        G => KeyDef::letter('g', 'G'),
        H => KeyDef::letter('h', 'H'),
        J => KeyDef::letter('j', 'J'),
        K => KeyDef::letter('k', 'K'),
        L => KeyDef::letter('l', 'L'),
        Semicolon => KeyDef::symbol(';', '+'),
        Quote => KeyDef::symbol(':', '*'),
        Backslash => KeyDef::symbol(']', '}'),
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
        IntlRo => KeyDef::symbol('\\', '_'),
        _ => KeyDef::NONE,
    }
}

/// [`def`] with the Yen key typing `¥`.
const fn def_yen_sign(key: KeyCode) -> KeyDef {
    match key {
        KeyCode::IntlYen => KeyDef::symbol('¥', '|'),
        _ => def(key),
    }
}

pub(super) static TABLE: KeyTable = key_table!(def);
pub(super) static YEN_SIGN_TABLE: KeyTable = key_table!(def_yen_sign);

impl Layout for Jis {
    #[inline]
    fn key(&self, key: KeyCode) -> KeyDef {
        if self.yen_sign {
            YEN_SIGN_TABLE.get(key)
        } else {
            TABLE.get(key)
        }
    }

    #[inline]
    fn table(&self) -> Option<&KeyTable> {
        Some(if self.yen_sign {
            &YEN_SIGN_TABLE
        } else {
            &TABLE
        })
    }

    fn has_altgr(&self) -> bool {
        false
    }

    fn name(&self) -> &'static str {
        if self.yen_sign {
            "jp-yen"
        } else {
            "jp"
        }
    }
}
