//! Layouts: what a key types, at each shift level, on a given national keyboard.
//!
//! A [`Layout`] answers one question: which [`KeyDef`] does this physical key have? A
//! [`KeyDef`] holds the [`Action`] of each [`Level`] (base, Shift, AltGr, Shift+AltGr) and
//! whether Caps Lock acts like Shift on it. Everything else (modifier and lock state, dead-key
//! and compose state, Ctrl+letter, Num Lock) lives in [`crate::keyboard::Keyboard`], so a
//! layout is only a table. The keys every layout shares (Space, Enter, Tab, Backspace, Escape
//! and the keypad) come from [`shared_key`], which `key_table!` merges in for every key the
//! layout's own `match` leaves out.
//!
//! # The built-in layouts
//!
//! | type | keyboard | AltGr | dead keys |
//! |------|----------|-------|-----------|
//! | [`Us`] | US (ANSI) QWERTY | no | none |
//! | [`UsIntl`] | US-International (Windows) | yes | `'` `"` `` ` `` `~` `^` |
//! | [`Uk`] | United Kingdom | yes | none |
//! | [`De`] | German QWERTZ (T1) | yes | `^` `´` `` ` `` |
//! | [`Fr`] | French AZERTY | yes | `^` `¨` `~` `` ` `` |
//! | [`Dvorak`] | US Dvorak | no | none |
//! | [`Colemak`] | Colemak | no | none |
//! | [`Jis`] | Japanese (JIS, 106/109 keys) | no | none |
//!
//! [`AnyLayout`] picks one of them at run time (from a boot option, say).
//!
//! # Dead keys and Compose
//!
//! [`compose`] covers every letter of Latin-1 and Latin Extended-A that Unicode decomposes
//! into a base letter and one accent (161 pairs, checked against the canonical
//! decompositions). [`compose_pair`] is the Compose-key table: two characters in either order,
//! Linux-style (`'` `e` gives `é`, `s` `s` gives `ß`, `o` `c` gives `©`).
//!
//! ```
//! use irqkit_ps2::layout::{compose, compose_pair, Accent};
//!
//! assert_eq!(compose(Accent::Acute, 'e'), Some('é'));
//! assert_eq!(compose(Accent::Caron, 'S'), Some('Š'));
//! assert_eq!(compose(Accent::Acute, 't'), None);
//! assert_eq!(compose_pair('\'', 'e'), Some('é'));
//! assert_eq!(compose_pair('e', '\''), Some('é'));
//! assert_eq!(compose_pair('s', 's'), Some('ß'));
//! assert_eq!(compose_pair('q', 'q'), None);
//! ```
//!
//! # Adding a layout
//!
//! Write one file beside `us.rs`: a unit struct, a `const fn def(key: KeyCode) -> KeyDef`
//! `match` over the keys it types, a `static TABLE: KeyTable =` [`key_table!`]`(def);` and an
//! `impl Layout` whose [`Layout::key`] is `TABLE.get(key)`. The `match` reads like the
//! keyboard; the table makes the lookup one array index. Add the file's `mod` and `pub use`
//! lines below, an [`AnyLayout`] variant if it should be selectable by name, and its rows to
//! `tests/layouts.rs`.
//!
//! # Examples
//!
//! ```
//! use irqkit_ps2::layout::{Action, De, Layout, Level};
//! use irqkit_ps2::KeyCode;
//!
//! assert_eq!(De.key(KeyCode::Y).action(Level::Base), Action::Char('z'));
//! assert_eq!(De.key(KeyCode::Q).action(Level::AltGr), Action::Char('@'));
//! assert!(De.key(KeyCode::Semicolon).caps_lock_applies(Level::Base)); // ö
//! ```

mod colemak;
mod compose;
mod de;
mod dvorak;
mod fr;
mod jis;
mod uk;
mod us;
mod us_intl;

pub use colemak::Colemak;
pub use compose::{compose, compose_pair, Accent};
pub use de::De;
pub use dvorak::Dvorak;
pub use fr::Fr;
pub use jis::Jis;
pub use uk::Uk;
pub use us::Us;
pub use us_intl::UsIntl;

use crate::KeyCode;
use core::fmt;

/// Which modifiers select a key's character: none, Shift, AltGr or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
pub enum Level {
    /// No level modifier.
    Base = 0,
    /// Shift (or Caps Lock on a key it applies to).
    Shift = 1,
    /// AltGr (Right Alt on layouts that have AltGr).
    AltGr = 2,
    /// Shift and AltGr.
    ShiftAltGr = 3,
}

impl Level {
    /// The level for these modifiers.
    #[inline]
    pub const fn new(shift: bool, altgr: bool) -> Level {
        match (shift, altgr) {
            (false, false) => Level::Base,
            (true, false) => Level::Shift,
            (false, true) => Level::AltGr,
            (true, true) => Level::ShiftAltGr,
        }
    }

    /// Whether Shift is part of this level.
    pub const fn is_shifted(self) -> bool {
        matches!(self, Level::Shift | Level::ShiftAltGr)
    }

    /// Whether AltGr is part of this level.
    pub const fn is_altgr(self) -> bool {
        matches!(self, Level::AltGr | Level::ShiftAltGr)
    }
}

/// What a key does at one level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Nothing is typed at this level (the keyboard reports the bare key instead).
    None,
    /// Types a character.
    Char(char),
    /// A dead key: the accent waits for the next character.
    Dead {
        /// The accent it puts on the next letter.
        accent: Accent,
        /// What it types when the next key does not take the accent (and after Space): the
        /// key's own symbol, for example `'` on US-International and `´` on German.
        spacing: char,
    },
    /// The key acts as another, non-character key (JIS: the key in the US `` ` `` position is
    /// Zenkaku/Hankaku).
    Key(KeyCode),
}

/// A dead key action (shorthand for layout tables).
pub const fn dead(accent: Accent, spacing: char) -> Action {
    Action::Dead { accent, spacing }
}

// KeyDef packs each level's action in a u32 so a layout table is 20 bytes a key.
// Char: the scalar value (never 0). Dead: DEAD_TAG | accent << 21 | spacing. Key: KEY_TAG | index.
// None: NONE_BITS. Only a plain character's bits are a valid `char`, so one
// `char::from_u32` tells the keyboard's hot path it has a character to type.
pub(crate) const NONE_BITS: u32 = 1 << 29;
const CHAR_MASK: u32 = 0x1F_FFFF;
const ACCENT_SHIFT: u32 = 21;
const DEAD_TAG: u32 = 1 << 30;
const KEY_TAG: u32 = 1 << 31;

const fn pack(action: Action) -> u32 {
    match action {
        Action::None | Action::Char('\0') => NONE_BITS,
        Action::Char(c) => c as u32,
        Action::Dead { accent, spacing } => {
            DEAD_TAG | ((accent as u32) << ACCENT_SHIFT) | spacing as u32
        }
        Action::Key(key) => KEY_TAG | key as u32,
    }
}

#[inline]
pub(crate) const fn unpack(bits: u32) -> Action {
    if bits & KEY_TAG != 0 {
        return match KeyCode::from_index(bits as u8) {
            Some(key) => Action::Key(key),
            None => Action::None,
        };
    }
    if bits & DEAD_TAG != 0 {
        let accent = Accent::from_index(((bits >> ACCENT_SHIFT) & 0x1F) as u8);
        return match (accent, char::from_u32(bits & CHAR_MASK)) {
            (Some(accent), Some(spacing)) => Action::Dead { accent, spacing },
            _ => Action::None,
        };
    }
    match char::from_u32(bits) {
        Some('\0') | None => Action::None,
        Some(c) => Action::Char(c),
    }
}

/// Everything one key types on a layout: an [`Action`] per [`Level`] and whether Caps Lock
/// acts like Shift on it.
///
/// Built with `const` constructors in layout tables:
///
/// ```
/// use irqkit_ps2::layout::{dead, Accent, Action, KeyDef, Level};
///
/// let e = KeyDef::letter('e', 'E').altgr('€');
/// assert_eq!(e.action(Level::AltGr), Action::Char('€'));
/// assert!(e.caps_lock_applies(Level::Base));
/// assert!(!e.caps_lock_applies(Level::AltGr));
///
/// let circumflex = KeyDef::new(dead(Accent::Circumflex, '^'), Action::Char('°'));
/// assert_eq!(circumflex.action(Level::Shift), Action::Char('°'));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDef {
    levels: [u32; 4],
    caps: u8,
}

/// Caps Lock applies to the base and Shift levels.
pub(crate) const CAPS_BASE: u8 = 1;
/// Caps Lock applies to the AltGr and Shift+AltGr levels.
pub(crate) const CAPS_ALTGR: u8 = 2;
/// A keypad key: the base level with Num Lock on, the Shift level with it off.
pub(crate) const KEYPAD: u8 = 4;
/// How many values the flags above can take together.
pub(crate) const FLAG_VALUES: u8 = 8;

impl KeyDef {
    /// A key that types nothing on this layout.
    pub const NONE: KeyDef = KeyDef {
        levels: [NONE_BITS; 4],
        caps: 0,
    };

    /// A key with these base and Shift actions; Caps Lock does not apply.
    pub const fn new(base: Action, shift: Action) -> KeyDef {
        KeyDef {
            levels: [pack(base), pack(shift), NONE_BITS, NONE_BITS],
            caps: 0,
        }
    }

    /// A symbol key: `base`, and `shift` with Shift; Caps Lock does not apply.
    pub const fn symbol(base: char, shift: char) -> KeyDef {
        KeyDef::new(Action::Char(base), Action::Char(shift))
    }

    /// A letter key: `lower`, and `upper` with Shift or Caps Lock (Caps Lock and Shift
    /// together give `lower`).
    pub const fn letter(lower: char, upper: char) -> KeyDef {
        KeyDef {
            caps: CAPS_BASE,
            ..KeyDef::symbol(lower, upper)
        }
    }

    /// A key typing `c` at every level, whatever the modifiers (Space, Enter, keypad `+`).
    pub const fn same(c: char) -> KeyDef {
        let bits = pack(Action::Char(c));
        KeyDef {
            levels: [bits; 4],
            caps: 0,
        }
    }

    /// A keypad key: types `c` while Num Lock is on and acts as `navigation` while it is off
    /// (Shift inverting Num Lock). See [`KeyDef::is_keypad`].
    pub const fn keypad(c: char, navigation: KeyCode) -> KeyDef {
        KeyDef {
            levels: [
                pack(Action::Char(c)),
                pack(Action::Key(navigation)),
                NONE_BITS,
                NONE_BITS,
            ],
            caps: KEYPAD,
        }
    }

    /// A key that acts as another, non-character key at every level.
    pub const fn remap(key: KeyCode) -> KeyDef {
        let bits = pack(Action::Key(key));
        KeyDef {
            levels: [bits; 4],
            caps: 0,
        }
    }

    /// This key with `action` at `level`.
    pub const fn with(mut self, level: Level, action: Action) -> KeyDef {
        self.levels[level as usize] = pack(action);
        self
    }

    /// This key typing `c` with AltGr.
    pub const fn altgr(self, c: char) -> KeyDef {
        self.with(Level::AltGr, Action::Char(c))
    }

    /// This key typing `c` with Shift+AltGr.
    pub const fn shift_altgr(self, c: char) -> KeyDef {
        self.with(Level::ShiftAltGr, Action::Char(c))
    }

    /// This key typing the letter `lower` with AltGr and `upper` with Shift+AltGr, Caps Lock
    /// acting like Shift on them.
    pub const fn altgr_letter(self, lower: char, upper: char) -> KeyDef {
        let mut key = self.altgr(lower).shift_altgr(upper);
        key.caps |= CAPS_ALTGR;
        key
    }

    /// What the key does at `level`.
    #[inline]
    pub const fn action(&self, level: Level) -> Action {
        unpack(self.levels[level as usize])
    }

    /// Whether Caps Lock acts like Shift on this key at `level` (letters).
    #[inline]
    pub const fn caps_lock_applies(&self, level: Level) -> bool {
        let flag = if level.is_altgr() {
            CAPS_ALTGR
        } else {
            CAPS_BASE
        };
        self.caps & flag != 0
    }

    /// Whether this is a keypad key ([`KeyDef::keypad`]): its [`Level::Base`] action applies
    /// while Num Lock is on (and Shift is up, or Num Lock is off and Shift is down), its
    /// [`Level::Shift`] action otherwise.
    #[inline]
    pub const fn is_keypad(&self) -> bool {
        self.caps & KEYPAD != 0
    }

    /// The packed action at level `index` (0-3, as [`Level`]; for the keyboard's fast path).
    #[inline]
    pub(crate) const fn bits(&self, index: u8) -> u32 {
        self.levels[(index & 3) as usize]
    }

    /// The Caps Lock and keypad flags (for the keyboard's fast path).
    #[inline]
    pub(crate) const fn flags(&self) -> u8 {
        self.caps
    }

    /// Whether the key types nothing at any level.
    pub const fn is_none(&self) -> bool {
        self.levels[0] == NONE_BITS
            && self.levels[1] == NONE_BITS
            && self.levels[2] == NONE_BITS
            && self.levels[3] == NONE_BITS
    }
}

impl Default for KeyDef {
    fn default() -> Self {
        KeyDef::NONE
    }
}

impl fmt::Debug for KeyDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyDef")
            .field("base", &self.action(Level::Base))
            .field("shift", &self.action(Level::Shift))
            .field("altgr", &self.action(Level::AltGr))
            .field("shift_altgr", &self.action(Level::ShiftAltGr))
            .field("caps", &self.caps)
            .finish()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for KeyDef {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "KeyDef {{ base: {}, shift: {}, altgr: {}, shift_altgr: {}, caps: {} }}",
            self.action(Level::Base),
            self.action(Level::Shift),
            self.action(Level::AltGr),
            self.action(Level::ShiftAltGr),
            self.caps
        )
    }
}

/// How many keys a [`KeyTable`] covers: every key that types a character has a [`KeyCode`]
/// discriminant below this (the highest is [`KeyCode::IntlYen`], 124).
pub const TABLE_LEN: usize = 128;

/// A layout's keys as an array indexed by [`KeyCode`] discriminant (2.5 KiB), built at
/// compile time by `key_table!` from the layout's `const fn def(KeyCode) -> KeyDef`.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyTable([KeyDef; TABLE_LEN]);

impl KeyTable {
    /// Builds a table from one [`KeyDef`] per slot (slot `i` is the key whose discriminant is
    /// `i`). Layout files use `key_table!` instead.
    pub const fn from_array(keys: [KeyDef; TABLE_LEN]) -> Self {
        KeyTable(keys)
    }

    /// The definition of `key`, by reference; `None` past the table's end.
    #[inline]
    pub(crate) fn entry(&self, key: KeyCode) -> Option<&KeyDef> {
        self.0.get(key as usize)
    }

    /// The definition of `key` ([`KeyDef::NONE`] for keys the layout does not type with).
    #[inline]
    pub const fn get(&self, key: KeyCode) -> KeyDef {
        let index = key as usize;
        if index < TABLE_LEN {
            self.0[index]
        } else {
            KeyDef::NONE
        }
    }
}

impl fmt::Debug for KeyTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let defined = self.0.iter().filter(|k| !k.is_none()).count();
        write!(f, "KeyTable {{ {defined} keys }}")
    }
}

/// Builds a [`KeyTable`](crate::layout::KeyTable) at compile time from a
/// `const fn(KeyCode) -> KeyDef`, taking [`shared_key`](crate::layout::shared_key) for every
/// key it leaves [`KeyDef::NONE`](crate::layout::KeyDef::NONE). How every built-in layout is
/// made, and usable for layouts outside this crate.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{Action, KeyDef, KeyTable, Layout, Level};
/// use irqkit_ps2::{key_table, KeyCode};
///
/// /// US, but the Q key types a schwa.
/// struct Schwa;
///
/// const fn def(key: KeyCode) -> KeyDef {
///     match key {
///         KeyCode::Q => KeyDef::letter('ə', 'Ə'),
///         _ => KeyDef::NONE,
///     }
/// }
/// static TABLE: KeyTable = key_table!(def);
///
/// impl Layout for Schwa {
///     fn key(&self, key: KeyCode) -> KeyDef {
///         TABLE.get(key)
///     }
///     fn has_altgr(&self) -> bool {
///         false
///     }
///     fn name(&self) -> &'static str {
///         "schwa"
///     }
/// }
///
/// assert_eq!(Schwa.key(KeyCode::Q).action(Level::Shift), Action::Char('Ə'));
/// assert_eq!(Schwa.key(KeyCode::Enter).action(Level::Base), Action::Char('\n'));
/// ```
#[macro_export]
macro_rules! key_table {
    ($def:path) => {{
        let mut keys = [$crate::layout::KeyDef::NONE; $crate::layout::TABLE_LEN];
        let mut index = 0;
        while index < $crate::layout::TABLE_LEN {
            if let Some(key) = $crate::KeyCode::from_index(index as u8) {
                let own = $def(key);
                keys[index] = if own.is_none() {
                    $crate::layout::shared_key(key)
                } else {
                    own
                };
            }
            index += 1;
        }
        $crate::layout::KeyTable::from_array(keys)
    }};
}
pub(crate) use crate::key_table;

/// The keys every layout shares: Space `' '`, Enter and keypad Enter `'\n'`, Tab `'\t'`,
/// Backspace U+0008, Escape U+001B, keypad `/ * - + = , ( ) ±` (all at every level), and
/// the keypad digits and `.` ([`KeyDef::keypad`]: digits with Num Lock, else Insert, End,
/// Down, Page Down, Left, keypad 5 itself, Right, Home, Up, Page Up, Delete).
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{shared_key, Action, Level};
/// use irqkit_ps2::KeyCode;
///
/// assert_eq!(shared_key(KeyCode::Enter).action(Level::ShiftAltGr), Action::Char('\n'));
/// let seven = shared_key(KeyCode::Numpad7);
/// assert!(seven.is_keypad());
/// assert_eq!(seven.action(Level::Base), Action::Char('7'));
/// assert_eq!(seven.action(Level::Shift), Action::Key(KeyCode::Home));
/// assert!(shared_key(KeyCode::A).is_none());
/// ```
pub const fn shared_key(key: KeyCode) -> KeyDef {
    use KeyCode::*;
    match key {
        Space => KeyDef::same(' '),
        Enter | NumpadEnter => KeyDef::same('\n'),
        Tab => KeyDef::same('\t'),
        Backspace => KeyDef::same('\u{8}'),
        Escape => KeyDef::same('\u{1b}'),
        NumpadSlash => KeyDef::same('/'),
        NumpadStar => KeyDef::same('*'),
        NumpadMinus => KeyDef::same('-'),
        NumpadPlus => KeyDef::same('+'),
        NumpadEquals => KeyDef::same('='),
        NumpadComma | NumpadJpComma => KeyDef::same(','),
        NumpadLeftParen => KeyDef::same('('),
        NumpadRightParen => KeyDef::same(')'),
        NumpadPlusMinus => KeyDef::same('±'),
        Numpad0 => KeyDef::keypad('0', Insert),
        Numpad1 => KeyDef::keypad('1', End),
        Numpad2 => KeyDef::keypad('2', Down),
        Numpad3 => KeyDef::keypad('3', PageDown),
        Numpad4 => KeyDef::keypad('4', Left),
        Numpad5 => KeyDef::keypad('5', Numpad5),
        Numpad6 => KeyDef::keypad('6', Right),
        Numpad7 => KeyDef::keypad('7', Home),
        Numpad8 => KeyDef::keypad('8', Up),
        Numpad9 => KeyDef::keypad('9', PageUp),
        NumpadPeriod => KeyDef::keypad('.', Delete),
        _ => KeyDef::NONE,
    }
}

/// A keyboard layout: which characters each key types.
///
/// Only [`Layout::key`], [`Layout::has_altgr`] and [`Layout::name`] are required. A layout
/// built with `key_table!` includes the [`shared_key`]s; for a key a layout returns
/// [`KeyDef::NONE`] for, the keyboard falls back on [`shared_key`] itself, so a hand-written
/// layout need not repeat them.
///
/// Implemented for `&L` too, so a keyboard can borrow a layout, and `&dyn Layout` works.
pub trait Layout {
    /// What `key` types at each level ([`KeyDef::NONE`] for a key the layout gives nothing).
    fn key(&self, key: KeyCode) -> KeyDef;

    /// Whether Right Alt is AltGr (a third and fourth level) on this layout. On layouts
    /// without AltGr, Right Alt is a second Alt.
    fn has_altgr(&self) -> bool;

    /// A short name: the usual XKB/console keymap name (`"us"`, `"de"`, ...).
    fn name(&self) -> &'static str;

    /// The character a dead key's `accent` and the next character `base` make, if any.
    /// Defaults to [`compose()`]; a layout overrides it for its own conventions (on
    /// US-International, `'` then `c` gives `ç`).
    fn compose(&self, accent: Accent, base: char) -> Option<char> {
        compose(accent, base)
    }

    /// The [`KeyTable`] [`Layout::key`] reads, if the layout is one (every built-in layout
    /// is); it must hold exactly what [`Layout::key`] returns. The keyboard then reads the one
    /// action it needs for a key from the table instead of copying the key's definition.
    /// Defaults to `None`: the keyboard asks [`Layout::key`].
    fn table(&self) -> Option<&KeyTable> {
        None
    }
}

impl<L: Layout + ?Sized> Layout for &L {
    #[inline]
    fn key(&self, key: KeyCode) -> KeyDef {
        (**self).key(key)
    }
    #[inline]
    fn has_altgr(&self) -> bool {
        (**self).has_altgr()
    }
    fn name(&self) -> &'static str {
        (**self).name()
    }
    fn compose(&self, accent: Accent, base: char) -> Option<char> {
        (**self).compose(accent, base)
    }
    #[inline]
    fn table(&self) -> Option<&KeyTable> {
        (**self).table()
    }
}

/// One of the built-in layouts, chosen at run time.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::layout::{AnyLayout, Layout};
///
/// let layout = AnyLayout::from_name("fr").unwrap();
/// assert_eq!(layout, AnyLayout::Fr);
/// assert_eq!(layout.name(), "fr");
/// assert!(AnyLayout::from_name("xx").is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum AnyLayout {
    /// [`Us`].
    #[default]
    Us,
    /// [`UsIntl`].
    UsIntl,
    /// [`Uk`].
    Uk,
    /// [`De`].
    De,
    /// [`Fr`].
    Fr,
    /// [`Dvorak`].
    Dvorak,
    /// [`Colemak`].
    Colemak,
    /// [`Jis`] with the Yen key typing `\`.
    Jis,
}

impl AnyLayout {
    /// Every built-in layout.
    pub const ALL: [AnyLayout; 8] = [
        AnyLayout::Us,
        AnyLayout::UsIntl,
        AnyLayout::Uk,
        AnyLayout::De,
        AnyLayout::Fr,
        AnyLayout::Dvorak,
        AnyLayout::Colemak,
        AnyLayout::Jis,
    ];

    /// The layout whose [`Layout::name`] is `name`.
    pub fn from_name(name: &str) -> Option<AnyLayout> {
        AnyLayout::ALL.into_iter().find(|l| l.name() == name)
    }

    fn with<R>(self, f: impl FnOnce(&dyn Layout) -> R) -> R {
        match self {
            AnyLayout::Us => f(&Us),
            AnyLayout::UsIntl => f(&UsIntl),
            AnyLayout::Uk => f(&Uk),
            AnyLayout::De => f(&De),
            AnyLayout::Fr => f(&Fr),
            AnyLayout::Dvorak => f(&Dvorak),
            AnyLayout::Colemak => f(&Colemak),
            AnyLayout::Jis => f(&Jis::new()),
        }
    }
}

impl Layout for AnyLayout {
    fn key(&self, key: KeyCode) -> KeyDef {
        self.with(|l| l.key(key))
    }
    fn has_altgr(&self) -> bool {
        self.with(|l| l.has_altgr())
    }
    fn name(&self) -> &'static str {
        self.with(|l| l.name())
    }
    fn compose(&self, accent: Accent, base: char) -> Option<char> {
        self.with(|l| l.compose(accent, base))
    }
    #[inline]
    fn table(&self) -> Option<&KeyTable> {
        Some(match self {
            AnyLayout::Us => &us::TABLE,
            AnyLayout::UsIntl => &us_intl::TABLE,
            AnyLayout::Uk => &uk::TABLE,
            AnyLayout::De => &de::TABLE,
            AnyLayout::Fr => &fr::TABLE,
            AnyLayout::Dvorak => &dvorak::TABLE,
            AnyLayout::Colemak => &colemak::TABLE,
            AnyLayout::Jis => &jis::TABLE,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_packing() {
        let actions = [
            Action::None,
            Action::Char('a'),
            Action::Char('€'),
            Action::Char(char::MAX),
            dead(Accent::Acute, '\''),
            dead(Accent::DotAbove, '˙'),
            Action::Key(KeyCode::Lang5),
            Action::Key(KeyCode::Break),
        ];
        for action in actions {
            assert_eq!(unpack(pack(action)), action);
        }
        // NUL is never typed by a table: it reads back as nothing.
        assert_eq!(unpack(pack(Action::Char('\0'))), Action::None);
        for accent in Accent::ALL {
            assert_eq!(unpack(pack(dead(accent, 'x'))), dead(accent, 'x'));
        }
    }

    #[test]
    fn keydef_levels_and_caps() {
        let key = KeyDef::letter('q', 'Q').altgr('@');
        assert_eq!(key.action(Level::Base), Action::Char('q'));
        assert_eq!(key.action(Level::Shift), Action::Char('Q'));
        assert_eq!(key.action(Level::AltGr), Action::Char('@'));
        assert_eq!(key.action(Level::ShiftAltGr), Action::None);
        assert!(key.caps_lock_applies(Level::Shift));
        assert!(!key.caps_lock_applies(Level::AltGr));
        let ae = KeyDef::letter('q', 'Q').altgr_letter('ä', 'Ä');
        assert!(ae.caps_lock_applies(Level::ShiftAltGr));
        assert!(KeyDef::NONE.is_none());
        assert!(!KeyDef::remap(KeyCode::Lang5).is_none());
        assert_eq!(KeyDef::default(), KeyDef::NONE);
    }

    #[test]
    fn levels() {
        assert_eq!(Level::new(false, false), Level::Base);
        assert_eq!(Level::new(true, false), Level::Shift);
        assert_eq!(Level::new(false, true), Level::AltGr);
        assert_eq!(Level::new(true, true), Level::ShiftAltGr);
        assert!(Level::ShiftAltGr.is_shifted() && Level::ShiftAltGr.is_altgr());
    }

    #[test]
    fn any_layout_names_are_unique_and_forward() {
        for layout in AnyLayout::ALL {
            assert_eq!(AnyLayout::from_name(layout.name()), Some(layout));
        }
        assert_eq!(
            AnyLayout::De.key(KeyCode::NumpadPeriod).action(Level::Base),
            Action::Char(',')
        );
        assert_eq!(
            AnyLayout::Us.key(KeyCode::NumpadPeriod).action(Level::Base),
            Action::Char('.')
        );
        assert!(AnyLayout::Fr.has_altgr());
        assert_eq!(
            AnyLayout::Dvorak.key(KeyCode::Q).action(Level::Base),
            Action::Char('\'')
        );
    }

    #[test]
    fn tables_hold_what_key_returns() {
        let layouts: [&dyn Layout; 10] = [
            &Us,
            &UsIntl,
            &Uk,
            &De,
            &Fr,
            &Dvorak,
            &Colemak,
            &Jis::new(),
            &Jis::with_yen_sign(),
            &AnyLayout::Fr,
        ];
        for layout in layouts {
            let table = layout.table().expect("built-in layouts are tables");
            for key in KeyCode::ALL {
                assert_eq!(table.get(key), layout.key(key), "{} {key:?}", layout.name());
            }
        }
        for layout in AnyLayout::ALL {
            let table = layout.table().expect("built-in layouts are tables");
            for key in KeyCode::ALL {
                assert_eq!(table.get(key), layout.key(key), "{layout:?} {key:?}");
            }
        }
    }

    #[test]
    fn no_table_entry_above_table_len_is_needed() {
        // Every key that types something in any layout fits the table.
        for layout in AnyLayout::ALL {
            for key in KeyCode::ALL {
                if key as usize >= TABLE_LEN {
                    assert!(layout.key(key).is_none(), "{layout:?} {key:?}");
                }
            }
        }
    }
}
