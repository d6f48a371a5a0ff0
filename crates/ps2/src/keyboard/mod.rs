//! Keyboard state: modifiers, locks, dead keys and Compose, turning [`KeyEvent`]s into
//! characters through a [`Layout`].
//!
//! A kernel's bottom half feeds each byte the interrupt handler queued to a [`Decoder`], each
//! key event the decoder finds to a [`Keyboard`], and acts on the [`DecodedKey`]s that come
//! out: characters for the terminal, non-character keys (arrows, F-keys) for whoever wants
//! them, and [`DecodedKey::LocksChanged`] when the LEDs must be updated (keyboard command
//! `0xED`, then [`Locks::led_byte`]; `locks.into()` gives the controller's
//! [`LedState`](crate::controller::LedState) for `Command::SetLeds`).
//!
//! A bottom half that wants the characters (and the protocol responses) rather than the key
//! events themselves can make one call per byte instead: [`Keyboard::feed`] decodes the byte
//! with the decoder and hands each [`DecodedKey`] to a closure, returning the events that are
//! not key events. It gives the same keys as the two stages; on the common path (a plain key,
//! nothing pending) it goes from the decoder's table to the layout's with no value in between.
//! [`Decoder::feed_with`] is the decoder's closure form.
//!
//! # Examples
//!
//! Set 2 bytes for Shift+H, i, Caps Lock, the German dead `´` then e, through the German
//! layout:
//!
//! ```
//! use irqkit_ps2::keyboard::{DecodedKey, Keyboard, Locks};
//! use irqkit_ps2::layout::De;
//! use irqkit_ps2::{Decoder, Event, ScancodeSet};
//!
//! let mut decoder = Decoder::new(ScancodeSet::Set2);
//! let mut keyboard = Keyboard::new(De);
//! let bytes = [
//!     0x12, 0x33, 0xF0, 0x33, 0xF0, 0x12, // Shift down, H, Shift up
//!     0x43, 0xF0, 0x43,                   // i
//!     0x58, 0xF0, 0x58,                   // Caps Lock
//!     0x55, 0xF0, 0x55, 0x24, 0xF0, 0x24, // ´ (dead), e
//! ];
//! let mut text = String::new();
//! let mut leds = Vec::new();
//! for byte in bytes {
//!     for event in decoder.feed(byte) {
//!         for key in keyboard.process_event(event) {
//!             match key {
//!                 DecodedKey::Char(c) => text.push(c),
//!                 DecodedKey::LocksChanged(locks) => leds.push(locks.led_byte()),
//!                 DecodedKey::Key(_) => {}
//!             }
//!         }
//!     }
//! }
//! assert_eq!(text, "HiÉ");
//! assert_eq!(leds, [Locks::CAPS.led_byte()]); // send 0xED, 0x04
//! ```
//!
//! # Rules
//!
//! - **Modifiers** are tracked per side and set by a press or repeat, cleared by a release.
//!   Releasing a key that was never pressed just leaves its bit clear.
//! - **Locks** toggle on a [`KeyKind::Press`] only, never on a [`KeyKind::Repeat`]; each
//!   toggle yields [`DecodedKey::LocksChanged`]. The initial state is set with
//!   [`Keyboard::with_locks`].
//! - **Levels**: Shift selects the second level; on layouts with AltGr ([`Layout::has_altgr`])
//!   Right Alt selects the third and fourth. Ctrl+Left Alt as AltGr (the Windows convention)
//!   is off by default because it takes Ctrl+Alt shortcuts away; turn it on with
//!   [`Keyboard::ctrl_alt_is_altgr`]. On layouts without AltGr, Right Alt is a plain Alt.
//! - **Caps Lock** acts like Shift on the keys the layout marks as letters (Caps Lock and
//!   Shift together give the lower case), at the levels it marks.
//! - **Ctrl** (without AltGr) turns the character the layout types into a control character:
//!   `a`-`z` and `A`-`Z` give U+0001-U+001A, `@` and Space U+0000, `[` ESC, `\` U+001C, `]`
//!   U+001D, `^` U+001E, `_` U+001F, `?` DEL. It follows the layout's letter, so the AZERTY
//!   `A` key (US `Q` position) gives U+0001. Other characters come out unchanged; look at
//!   [`Keyboard::modifiers`] for shortcuts. Alt and Meta never change the character.
//! - **Shared keys** ([`shared_key`]): Space `' '`, Enter and
//!   keypad Enter `'\n'`, Tab `'\t'`, Backspace U+0008, Escape U+001B; keypad
//!   `/ * - + = , ( ) ±` always type their character.
//! - **Keypad digits** type digits and the layout's decimal separator while Num Lock is on,
//!   and act as navigation keys while it is off (7 Home, 8 Up, 9 Page Up, 4 Left,
//!   6 Right, 1 End, 2 Down, 3 Page Down, 0 Insert, `.` Delete; 5 reports itself). Shift
//!   inverts Num Lock for these keys, as on Windows and X11.
//! - **Non-character keys** (arrows, F-keys, Delete, Home, ...) and keys that type nothing at
//!   the current level come out as [`DecodedKey::Key`]. Modifier events, lock repeats and
//!   releases produce nothing. A typematic repeat of a character key types it again.
//! - **Dead keys** wait for the next character. If the layout composes the pair, the composed
//!   character comes out; Space gives the dead key's own symbol; a dead key pressed twice
//!   gives its symbol once; any other character gives the symbol then that character; a
//!   non-character key gives the symbol then the key. Modifiers and locks do not cancel a
//!   dead key. A held dead key does not repeat. With Ctrl held a dead key types its symbol
//!   (so Ctrl+`^` on French is U+001E).
//! - **Compose** (off unless [`Keyboard::with_compose_key`] names a key): Compose, then two
//!   characters, gives [`compose_pair`] of them; an unknown pair gives both characters. A dead
//!   key inside a Compose sequence counts as its symbol. Pressing Compose again cancels the
//!   sequence (typing the character it held, if any). The Compose key, even a modifier key,
//!   does nothing else.
//!
//! No input is lost: whenever a pending dead key or Compose character cannot combine, it is
//! typed before what interrupted it, so one event yields at most two [`DecodedKey`]s.

mod decoded;
mod modifiers;

pub use decoded::{DecodedKey, DecodedKeys};
pub use modifiers::{Locks, Modifiers};

use crate::decoder::Sink;
use crate::layout::{
    compose_pair, shared_key, unpack, Action, KeyDef, Layout, Level, CAPS_ALTGR, CAPS_BASE,
    FLAG_VALUES, KEYPAD, NONE_BITS,
};
use crate::{Decoder, Event, Events, KeyCode, KeyEvent, KeyKind, Response};
use modifiers::ROLES;

/// A dead key or Compose sequence in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Pending {
    /// Nothing in progress.
    None,
    /// A dead key waits for the next character.
    Dead {
        /// Its accent.
        accent: crate::layout::Accent,
        /// What it types if nothing combines with it.
        spacing: char,
    },
    /// Compose was pressed; no character yet.
    Compose,
    /// Compose and one character; waiting for the second.
    ComposeFirst(char),
}

/// The keyboard state (modifiers, locks, pending dead key or Compose) and a layout: turns key
/// events into characters.
///
/// 16 bytes plus the layout (the built-in layouts are zero-sized or one byte), `const`
/// constructible ([`Keyboard::new`], [`Keyboard::with_locks`], [`Keyboard::with_compose_key`]),
/// so it can live in a `static` beside the [`Decoder`]; the setters change a live one.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::keyboard::{DecodedKey, Keyboard, Locks};
/// use irqkit_ps2::layout::Us;
/// use irqkit_ps2::{KeyCode, KeyEvent};
///
/// // Num Lock on at boot, as the BIOS usually leaves it.
/// let mut keyboard = Keyboard::with_locks(Us, Locks::NUM);
/// assert_eq!(keyboard.locks().led_byte(), 0x02);
///
/// let press = |kb: &mut Keyboard<Us>, key| kb.process(KeyEvent::press(key)).collect::<Vec<_>>();
/// assert_eq!(press(&mut keyboard, KeyCode::Numpad7), [DecodedKey::Char('7')]);
/// assert_eq!(press(&mut keyboard, KeyCode::Up), [DecodedKey::Key(KeyCode::Up)]);
/// keyboard.process(KeyEvent::press(KeyCode::LeftCtrl)).for_each(drop);
/// assert_eq!(press(&mut keyboard, KeyCode::C), [DecodedKey::Char('\u{3}')]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Keyboard<L> {
    layout: L,
    modifiers: Modifiers,
    locks: Locks,
    pending: Pending,
    ctrl_alt_is_altgr: bool,
    compose_key: Option<KeyCode>,
    // Derived from the fields above by `refresh` whenever they change, so that the hot path
    // reads them instead of re-deriving them for every key.
    /// The level (0-3, as [`Level`]) of a key, two bits for each value of its `KeyDef` flags
    /// (Caps Lock applies at the base or AltGr levels, keypad key): Shift and AltGr, flipped
    /// by Caps Lock where it applies; Num Lock, inverted by Shift, for keypad keys.
    levels: u16,
    /// Ctrl is held and not part of AltGr: characters become control characters.
    ctrl: bool,
    /// Not `ctrl`, no Compose key, nothing pending: a plain key event needs no more than its
    /// level.
    plain: bool,
}

/// [`levels`] for each combination of Shift (bit 0), AltGr (bit 1), Caps Lock (bit 2) and
/// Num Lock (bit 3).
static LEVELS: [u16; 16] = {
    let mut table = [0; 16];
    let mut i = 0;
    while i < 16 {
        table[i] = levels(i & 1 != 0, i & 2 != 0, i & 4 != 0, i & 8 != 0);
        i += 1;
    }
    table
};

/// The `levels` of a keyboard whose Shift, AltGr, Caps Lock and Num Lock are as given.
const fn levels(shift: bool, altgr: bool, caps: bool, num: bool) -> u16 {
    let level = Level::new(shift, altgr) as u16;
    let keypad_level = (num != shift) as u16 ^ 1;
    let caps_flag = match (caps, altgr) {
        (false, _) => 0,
        (true, false) => CAPS_BASE,
        (true, true) => CAPS_ALTGR,
    };
    let mut levels = 0;
    let mut flags: u8 = 0;
    while flags < FLAG_VALUES {
        let of_key = if flags & KEYPAD != 0 {
            keypad_level
        } else {
            // Caps Lock flips Shift (bit 0 of the level).
            level ^ (flags & caps_flag != 0) as u16
        };
        levels |= of_key << (2 * flags as u16);
        flags += 1;
    }
    levels
}

impl<L: Layout> Keyboard<L> {
    /// A keyboard with no modifier held and every lock off.
    pub const fn new(layout: L) -> Self {
        Keyboard::with_locks(layout, Locks::empty())
    }

    /// A keyboard with no modifier held and these locks on (send them to the keyboard too:
    /// `0xED`, [`Locks::led_byte`]).
    pub const fn with_locks(layout: L, locks: Locks) -> Self {
        Keyboard {
            layout,
            modifiers: Modifiers::empty(),
            locks,
            pending: Pending::None,
            ctrl_alt_is_altgr: false,
            compose_key: None,
            levels: levels(
                false,
                false,
                locks.contains(Locks::CAPS),
                locks.contains(Locks::NUM),
            ),
            ctrl: false,
            plain: true,
        }
    }

    /// Recomputes the derived fields after the modifiers, locks, layout or options changed.
    fn refresh(&mut self) {
        let altgr = self.altgr();
        let index = self.modifiers.shift() as usize
            | (altgr as usize) << 1
            | (self.locks.contains(Locks::CAPS) as usize) << 2
            | (self.locks.contains(Locks::NUM) as usize) << 3;
        self.levels = LEVELS[index];
        self.ctrl = self.modifiers.ctrl() && !altgr;
        self.update_plain();
    }

    fn update_plain(&mut self) {
        self.plain =
            !self.ctrl && self.compose_key.is_none() && matches!(self.pending, Pending::None);
    }

    fn set_pending(&mut self, pending: Pending) {
        self.pending = pending;
        self.update_plain();
    }

    fn replace_pending(&mut self, pending: Pending) -> Pending {
        let previous = self.pending;
        self.set_pending(pending);
        previous
    }

    /// This keyboard with Ctrl+Left Alt acting as AltGr (on layouts with AltGr), the Windows
    /// convention for keyboards without a Right Alt. Off by default.
    pub fn ctrl_alt_is_altgr(mut self, on: bool) -> Self {
        self.set_ctrl_alt_is_altgr(on);
        self
    }

    /// Turns Ctrl+Left Alt as AltGr on or off (see [`Keyboard::ctrl_alt_is_altgr`]).
    pub fn set_ctrl_alt_is_altgr(&mut self, on: bool) {
        self.ctrl_alt_is_altgr = on;
        self.refresh();
    }

    /// Sets the Compose key (see [`Keyboard::with_compose_key`]). A Compose sequence in
    /// progress still completes.
    pub fn set_compose_key(&mut self, key: Option<KeyCode>) {
        self.compose_key = key;
        self.refresh();
    }

    /// This keyboard with `key` as the Compose key (Linux users often pick
    /// [`KeyCode::ContextMenu`] or [`KeyCode::RightMeta`]); `None`, the default, turns
    /// Compose off. The Compose key types nothing itself and, if it is a modifier key, no longer
    /// acts as that modifier.
    pub const fn with_compose_key(mut self, key: Option<KeyCode>) -> Self {
        self.compose_key = key;
        self.plain = !self.ctrl && key.is_none() && matches!(self.pending, Pending::None);
        self
    }

    /// The layout.
    pub const fn layout(&self) -> &L {
        &self.layout
    }

    /// Replaces the layout (a run-time choice, with [`crate::layout::AnyLayout`]), dropping
    /// any pending dead key.
    pub fn set_layout(&mut self, layout: L) {
        self.layout = layout;
        self.set_pending(Pending::None);
        self.refresh();
    }

    /// The modifiers held down.
    pub const fn modifiers(&self) -> Modifiers {
        self.modifiers
    }

    /// The lock states.
    pub const fn locks(&self) -> Locks {
        self.locks
    }

    /// Sets the lock states (no [`DecodedKey::LocksChanged`] is produced: the caller knows).
    pub fn set_locks(&mut self, locks: Locks) {
        self.locks = locks;
        self.refresh();
    }

    /// The dead key or Compose sequence in progress.
    pub const fn pending(&self) -> Pending {
        self.pending
    }

    /// Whether AltGr is in effect: Right Alt on a layout with AltGr, or Ctrl+Left Alt if
    /// [`Keyboard::ctrl_alt_is_altgr`] is on.
    #[inline]
    pub fn altgr(&self) -> bool {
        self.layout.has_altgr()
            && (self.modifiers.contains(Modifiers::RIGHT_ALT)
                || (self.ctrl_alt_is_altgr
                    && self.modifiers.ctrl()
                    && self.modifiers.contains(Modifiers::LEFT_ALT)))
    }

    /// Forgets the held modifiers and any pending dead key or Compose sequence, keeping the
    /// locks. For when the keyboard reset itself or key events were lost.
    pub fn release_all(&mut self) {
        self.modifiers = Modifiers::empty();
        self.set_pending(Pending::None);
        self.refresh();
    }

    /// Processes anything the decoder produced: key events through [`Keyboard::process`];
    /// a self-test pass ([`Response::BatOk`], a reset or hot-plugged keyboard, which forgot
    /// its held keys and turned its LEDs off) releases all modifiers and yields
    /// [`DecodedKey::LocksChanged`] so the LEDs are sent again. Other events yield nothing.
    #[inline]
    pub fn process_event(&mut self, event: Event) -> DecodedKeys {
        match event {
            Event::Key(key) => self.process(key),
            Event::Response(Response::BatOk) => {
                DecodedKeys::one(DecodedKey::LocksChanged(self.keyboard_reset()))
            }
            _ => DecodedKeys::none(),
        }
    }

    /// The keyboard reset itself ([`Keyboard::process_event`]): releases everything and
    /// returns the locks, whose LEDs must be sent again. Out of line: it is rare.
    #[inline(never)]
    fn keyboard_reset(&mut self) -> Locks {
        self.release_all();
        self.locks
    }

    /// Processes one key event (see the [module rules](self)).
    #[inline]
    pub fn process(&mut self, event: KeyEvent) -> DecodedKeys {
        // The common cases, as in `Keyboard::feed`: an ordinary key (neither a modifier nor
        // a lock) with nothing pending, no Ctrl and no Compose key, released (nothing) or
        // typing a Latin-1 character.
        if self.plain && ROLES[event.code as usize] == 0 {
            if event.kind == KeyKind::Release {
                return DecodedKeys::none();
            }
            if let Some(def) = self.layout.table().and_then(|t| t.entry(event.code)) {
                if let Ok(latin1) = u8::try_from(def.bits(self.level_of(def))) {
                    return DecodedKeys::one(DecodedKey::Char(char::from(latin1)));
                }
            }
        }
        DecodedKeys::from_pair(self.process_cold(event))
    }

    /// [`Keyboard::process`] past its shortcut, out of line, returning its keys in registers
    /// (a [`DecodedKeys`] would go through memory, on the shortcut's path too).
    #[inline(never)]
    fn process_cold(&mut self, event: KeyEvent) -> (Option<DecodedKey>, Option<DecodedKey>) {
        self.process_full(event).into_pair()
    }

    /// [`Keyboard::process`] without its Latin-1 shortcut.
    #[inline(always)]
    fn process_full(&mut self, event: KeyEvent) -> DecodedKeys {
        let code = event.code;
        // Before the modifiers: the Compose key is often Right Alt or Right Meta.
        if self.compose_key == Some(code) {
            if event.kind == KeyKind::Press {
                return self.compose_pressed();
            }
            return DecodedKeys::none();
        }
        let role = ROLES[code as usize];
        if role != 0 {
            return self.state_key(role, event.kind);
        }
        if event.kind == KeyKind::Release {
            return DecodedKeys::none();
        }
        let mut bits = self.bits(code);
        if bits == NONE_BITS {
            bits = self.shared_bits(code);
        }
        // The common case: a plain character (the only bits that are a `char`), no Ctrl,
        // nothing pending.
        if !self.ctrl && matches!(self.pending, Pending::None) {
            if let Some(c) = char::from_u32(bits) {
                return DecodedKeys::one(DecodedKey::Char(c));
            }
        }
        self.finish(code, event.kind, bits)
    }

    /// Decodes `byte` with `decoder` and processes the events it completes: calls `on_key`
    /// with each [`DecodedKey`], in order, and returns the events that are not key events
    /// (responses, unknown scancodes, resyncs) for the driver to act on.
    ///
    /// The keys are exactly those of
    /// `for event in decoder.feed(byte) { for key in keyboard.process_event(event) { .. } }`,
    /// but a byte that completes a plain key event goes from the decoder's table to the
    /// layout's without [`Events`] or [`DecodedKeys`] values in between.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_ps2::keyboard::{DecodedKey, Keyboard};
    /// use irqkit_ps2::layout::Us;
    /// use irqkit_ps2::{Decoder, Event, Response, ScancodeSet};
    ///
    /// let mut decoder = Decoder::new(ScancodeSet::Set2);
    /// let mut keyboard = Keyboard::new(Us);
    /// let mut text = String::new();
    /// let mut responses = Vec::new();
    /// // Shift, h, Shift up, i, then an ACK from the keyboard.
    /// for byte in [0x12, 0x33, 0xF0, 0x33, 0xF0, 0x12, 0x43, 0xF0, 0x43, 0xFA] {
    ///     let rest = keyboard.feed(&mut decoder, byte, |key| {
    ///         if let DecodedKey::Char(c) = key {
    ///             text.push(c);
    ///         }
    ///     });
    ///     responses.extend(rest);
    /// }
    /// assert_eq!(text, "Hi");
    /// assert_eq!(responses, [Event::Response(Response::Ack)]);
    /// ```
    #[inline]
    pub fn feed(
        &mut self,
        decoder: &mut Decoder,
        byte: u8,
        on_key: impl FnMut(DecodedKey),
    ) -> Events {
        decoder.feed_into(
            byte,
            Typing {
                keyboard: self,
                on_key,
            },
        )
    }

    /// [`Keyboard::process`] for the press or repeat of a key that is neither a modifier nor
    /// a lock, handing the keys to `on_key`: a plain character straight from the layout's
    /// table, anything else through `process`.
    #[inline(always)]
    fn press_into(&mut self, event: KeyEvent, on_key: &mut impl FnMut(DecodedKey)) {
        if self.plain {
            if let Some(def) = self.layout.table().and_then(|t| t.entry(event.code)) {
                // Latin-1 characters, which need no check to be a `char` (every other
                // character, and everything that is not one, takes `process`).
                if let Ok(latin1) = u8::try_from(def.bits(self.level_of(def))) {
                    return on_key(DecodedKey::Char(char::from(latin1)));
                }
            }
        }
        self.process_slow(event).for_each(on_key);
    }

    /// [`Keyboard::process`] past its shortcut, out of line for it and for
    /// [`Keyboard::press_into`].
    #[inline(never)]
    fn process_slow(&mut self, event: KeyEvent) -> DecodedKeys {
        self.process_full(event)
    }

    /// What [`Keyboard::feed`] does with the events of a byte its fast path does not cover.
    /// (`on_key` by value: its address is not taken on the hot path.)
    #[inline(never)]
    fn feed_slow(&mut self, events: Events, mut on_key: impl FnMut(DecodedKey)) -> Events {
        let mut rest = Events::none();
        for event in events {
            let keys = match event {
                // What `process_event` does with a key event, without `process`'s shortcut
                // (the keys of these bytes are rarely plain).
                Event::Key(key) => self.process_full(key),
                _ => {
                    rest.push(event);
                    self.process_event(event)
                }
            };
            keys.for_each(&mut on_key);
        }
        rest
    }

    /// Everything but a plain character: Ctrl, dead keys, pending sequences, non-character
    /// keys. Kept out of line so that [`Keyboard::process`] stays small enough to inline.
    #[inline(never)]
    fn finish(&mut self, code: KeyCode, kind: KeyKind, bits: u32) -> DecodedKeys {
        let ctrl = self.ctrl;
        match unpack(bits) {
            Action::Char(c) => self.typed(if ctrl { control_char(c) } else { c }),
            Action::Dead { spacing, .. } if ctrl => self.typed(control_char(spacing)),
            Action::Dead { .. } if kind == KeyKind::Repeat => DecodedKeys::none(),
            Action::Dead { accent, spacing } => self.dead(accent, spacing),
            Action::Key(key) => self.interrupted_by(DecodedKey::Key(key)),
            Action::None => self.interrupted_by(DecodedKey::Key(code)),
        }
    }

    /// What `code` does at its level now, read from the layout's table if it has one.
    #[inline]
    fn bits(&self, code: KeyCode) -> u32 {
        match self.layout.table().and_then(|t| t.entry(code)) {
            Some(def) => def.bits(self.level_of(def)),
            None => {
                let def = self.layout.key(code);
                def.bits(self.level_of(&def))
            }
        }
    }

    /// A hand-written layout may leave the shared keys out: their action now.
    #[inline(never)]
    fn shared_bits(&self, code: KeyCode) -> u32 {
        let shared = shared_key(code);
        shared.bits(self.level_of(&shared))
    }

    /// A modifier or lock key event (`role` from [`ROLES`]).
    #[inline(never)]
    fn state_key(&mut self, role: u16, kind: KeyKind) -> DecodedKeys {
        let modifier = Modifiers::from_bits_truncate(role as u8);
        let lock = Locks::from_bits_truncate((role >> 8) as u8);
        let mut out = DecodedKeys::none();
        match kind {
            KeyKind::Release => self.modifiers.remove(modifier),
            KeyKind::Repeat => self.modifiers.insert(modifier),
            KeyKind::Press => {
                self.modifiers.insert(modifier);
                if !lock.is_empty() {
                    self.locks.toggle(lock);
                    out = DecodedKeys::one(DecodedKey::LocksChanged(self.locks));
                }
            }
        }
        self.refresh();
        out
    }

    /// The level (0-3, as [`Level`]) of `def` now: Shift, Caps Lock where it applies, AltGr;
    /// Num Lock (inverted by Shift) for keypad keys.
    #[inline]
    fn level_of(&self, def: &KeyDef) -> u8 {
        let flags = def.flags() % FLAG_VALUES;
        ((self.levels >> (2 * flags)) & 3) as u8
    }

    /// A character was typed: combine it with a pending dead key or Compose sequence.
    fn typed(&mut self, c: char) -> DecodedKeys {
        let pending = self.replace_pending(Pending::None);
        match pending {
            Pending::None => DecodedKeys::one(DecodedKey::Char(c)),
            Pending::Dead { accent, spacing } => match self.layout.compose(accent, c) {
                Some(composed) => DecodedKeys::one(DecodedKey::Char(composed)),
                None if c == ' ' => DecodedKeys::one(DecodedKey::Char(spacing)),
                None => DecodedKeys::two(DecodedKey::Char(spacing), DecodedKey::Char(c)),
            },
            Pending::Compose => {
                self.set_pending(Pending::ComposeFirst(c));
                DecodedKeys::none()
            }
            Pending::ComposeFirst(first) => match compose_pair(first, c) {
                Some(composed) => DecodedKeys::one(DecodedKey::Char(composed)),
                None => DecodedKeys::two(DecodedKey::Char(first), DecodedKey::Char(c)),
            },
        }
    }

    /// A dead key was pressed.
    fn dead(&mut self, accent: crate::layout::Accent, spacing: char) -> DecodedKeys {
        match self.pending {
            Pending::None => {
                self.set_pending(Pending::Dead { accent, spacing });
                DecodedKeys::none()
            }
            // The same dead key twice: its symbol, once.
            Pending::Dead {
                accent: previous,
                spacing: previous_spacing,
            } if previous == accent => {
                self.set_pending(Pending::None);
                DecodedKeys::one(DecodedKey::Char(previous_spacing))
            }
            // Another dead key: type the first, wait with the second.
            Pending::Dead {
                spacing: previous_spacing,
                ..
            } => {
                self.set_pending(Pending::Dead { accent, spacing });
                DecodedKeys::one(DecodedKey::Char(previous_spacing))
            }
            // Inside a Compose sequence a dead key is its symbol.
            Pending::Compose | Pending::ComposeFirst(_) => self.typed(spacing),
        }
    }

    /// A non-character key: type whatever was pending, then report the key.
    fn interrupted_by(&mut self, key: DecodedKey) -> DecodedKeys {
        let pending = self.replace_pending(Pending::None);
        match pending {
            Pending::None | Pending::Compose => DecodedKeys::one(key),
            Pending::Dead { spacing, .. } => DecodedKeys::two(DecodedKey::Char(spacing), key),
            Pending::ComposeFirst(first) => DecodedKeys::two(DecodedKey::Char(first), key),
        }
    }

    /// The Compose key was pressed.
    #[cold]
    fn compose_pressed(&mut self) -> DecodedKeys {
        let pending = self.replace_pending(Pending::Compose);
        match pending {
            Pending::None => DecodedKeys::none(),
            Pending::Dead { spacing, .. } => DecodedKeys::one(DecodedKey::Char(spacing)),
            // Compose again cancels the sequence, typing what it held.
            Pending::Compose => {
                self.set_pending(Pending::None);
                DecodedKeys::none()
            }
            Pending::ComposeFirst(first) => {
                self.set_pending(Pending::None);
                DecodedKeys::one(DecodedKey::Char(first))
            }
        }
    }
}

/// Where [`Keyboard::feed`] has the decoder deliver events.
struct Typing<'a, L, F> {
    keyboard: &'a mut Keyboard<L>,
    on_key: F,
}

impl<L: Layout, F: FnMut(DecodedKey)> Sink for Typing<'_, L, F> {
    /// The events that are not key events, returned to the caller.
    type Output = Events;

    #[inline(always)]
    fn key(mut self, key: KeyEvent) -> Events {
        // The release of a key that is not a modifier or lock never types anything.
        if key.kind != KeyKind::Release {
            self.keyboard.press_into(key, &mut self.on_key);
        }
        Events::none()
    }

    #[inline(always)]
    fn state_key(self, key: KeyEvent) -> Events {
        self.keyboard.process_slow(key).for_each(self.on_key);
        Events::none()
    }

    #[inline(always)]
    fn slow(self, events: Events) -> Events {
        self.keyboard.feed_slow(events, self.on_key)
    }
}

/// The control character Ctrl gives with `c` (see the [module rules](self)); other
/// characters come back unchanged.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::keyboard::control_char;
/// assert_eq!(control_char('c'), '\u{3}');
/// assert_eq!(control_char('C'), '\u{3}');
/// assert_eq!(control_char('['), '\u{1b}');
/// assert_eq!(control_char('?'), '\u{7f}');
/// assert_eq!(control_char('1'), '1');
/// ```
pub const fn control_char(c: char) -> char {
    match c {
        'a'..='z' => (c as u8 - b'a' + 1) as char,
        'A'..='Z' => (c as u8 - b'A' + 1) as char,
        '@' | ' ' => '\0',
        '[' => '\u{1b}',
        '\\' => '\u{1c}',
        ']' => '\u{1d}',
        '^' => '\u{1e}',
        '_' => '\u{1f}',
        '?' => '\u{7f}',
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{Accent, De, Fr, Us, UsIntl};
    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    fn run<L: Layout>(kb: &mut Keyboard<L>, events: &[KeyEvent]) -> Vec<DecodedKey> {
        events.iter().flat_map(|&e| kb.process(e)).collect()
    }

    fn text(keys: &[DecodedKey]) -> String {
        keys.iter().filter_map(|k| k.char()).collect()
    }

    fn tap(key: KeyCode) -> [KeyEvent; 2] {
        [KeyEvent::press(key), KeyEvent::release(key)]
    }

    #[test]
    fn sizes_are_small() {
        assert!(core::mem::size_of::<Keyboard<Us>>() <= 16);
        assert_eq!(core::mem::size_of::<Modifiers>(), 1);
    }

    #[test]
    fn caps_lock_toggles_on_press_only() {
        let mut kb = Keyboard::new(Us);
        let out = run(
            &mut kb,
            &[
                KeyEvent::press(KeyCode::CapsLock),
                KeyEvent::repeat(KeyCode::CapsLock),
                KeyEvent::repeat(KeyCode::CapsLock),
                KeyEvent::release(KeyCode::CapsLock),
            ],
        );
        assert_eq!(out, [DecodedKey::LocksChanged(Locks::CAPS)]);
        assert_eq!(kb.locks(), Locks::CAPS);
        assert_eq!(text(&run(&mut kb, &tap(KeyCode::A))), "A");
    }

    #[test]
    fn shift_and_caps_cancel_on_letters_only() {
        let mut kb = Keyboard::with_locks(Us, Locks::CAPS);
        let mut events = std::vec![KeyEvent::press(KeyCode::LeftShift)];
        events.extend(tap(KeyCode::A));
        events.extend(tap(KeyCode::Digit1));
        assert_eq!(text(&run(&mut kb, &events)), "a!");
    }

    #[test]
    fn dead_key_rules() {
        let mut kb = Keyboard::new(UsIntl);
        let quote = tap(KeyCode::Quote);
        // Twice: once.
        let out = run(&mut kb, &[quote, quote].concat());
        assert_eq!(text(&out), "'");
        // Then an arrow: symbol, then the key.
        let out = run(&mut kb, &[quote, tap(KeyCode::Left)].concat());
        assert_eq!(
            out,
            [DecodedKey::Char('\''), DecodedKey::Key(KeyCode::Left)]
        );
        // Then another dead key (` grave): the first is typed, the second waits.
        let out = run(
            &mut kb,
            &[quote, tap(KeyCode::Backquote), tap(KeyCode::A)].concat(),
        );
        assert_eq!(text(&out), "'à");
        // A repeat of a held dead key does not type.
        let out = run(
            &mut kb,
            &[
                KeyEvent::press(KeyCode::Quote),
                KeyEvent::repeat(KeyCode::Quote),
                KeyEvent::release(KeyCode::Quote),
            ],
        );
        assert!(out.is_empty());
        assert_eq!(
            kb.pending(),
            Pending::Dead {
                accent: Accent::Acute,
                spacing: '\''
            }
        );
        // Shift does not cancel it: ' Shift+e gives É.
        let out = run(
            &mut kb,
            &[
                KeyEvent::press(KeyCode::LeftShift),
                KeyEvent::press(KeyCode::E),
            ],
        );
        assert_eq!(text(&out), "É");
    }

    #[test]
    fn ctrl_rules() {
        let mut kb = Keyboard::new(Fr);
        kb.process(KeyEvent::press(KeyCode::RightCtrl))
            .for_each(drop);
        // AZERTY A key (US Q position).
        assert_eq!(text(&run(&mut kb, &tap(KeyCode::Q))), "\u{1}");
        // A dead key with Ctrl types its symbol's control character.
        assert_eq!(text(&run(&mut kb, &tap(KeyCode::LeftBracket))), "\u{1e}");
        assert_eq!(kb.pending(), Pending::None);
        // Ctrl+AltGr is AltGr: the character, not a control character.
        kb.process(KeyEvent::press(KeyCode::RightAlt))
            .for_each(drop);
        assert_eq!(text(&run(&mut kb, &tap(KeyCode::Digit0))), "@");
    }

    #[test]
    fn ctrl_alt_as_altgr_is_opt_in() {
        let hold = [
            KeyEvent::press(KeyCode::LeftCtrl),
            KeyEvent::press(KeyCode::LeftAlt),
            KeyEvent::press(KeyCode::Q),
        ];
        let mut kb = Keyboard::new(De);
        assert_eq!(text(&run(&mut kb, &hold)), "\u{11}");
        let mut kb = Keyboard::new(De).ctrl_alt_is_altgr(true);
        assert_eq!(text(&run(&mut kb, &hold)), "@");
        // Not on a layout without AltGr.
        let mut kb = Keyboard::new(Us).ctrl_alt_is_altgr(true);
        assert_eq!(text(&run(&mut kb, &hold)), "\u{11}");
        // Switched on while Ctrl and Alt are held: the next key sees it.
        let mut kb = Keyboard::new(De);
        run(&mut kb, &hold[..2]);
        kb.set_ctrl_alt_is_altgr(true);
        assert_eq!(text(&run(&mut kb, &hold[2..])), "@");
    }

    #[test]
    fn right_alt_is_plain_alt_without_altgr() {
        let mut kb = Keyboard::new(Us);
        let out = run(
            &mut kb,
            &[
                KeyEvent::press(KeyCode::RightAlt),
                KeyEvent::press(KeyCode::Q),
            ],
        );
        assert_eq!(text(&out), "q");
        assert!(kb.modifiers().alt());
        assert!(!kb.altgr());
    }

    #[test]
    fn compose_sequences() {
        let mut kb = Keyboard::new(Us).with_compose_key(Some(KeyCode::ContextMenu));
        let c = tap(KeyCode::ContextMenu);
        let out = run(&mut kb, &[c, tap(KeyCode::Quote), tap(KeyCode::E)].concat());
        assert_eq!(text(&out), "é");
        let out = run(&mut kb, &[c, tap(KeyCode::S), tap(KeyCode::S)].concat());
        assert_eq!(text(&out), "ß");
        // Unknown pair: both characters.
        let out = run(&mut kb, &[c, tap(KeyCode::Q), tap(KeyCode::Q)].concat());
        assert_eq!(text(&out), "qq");
        // Compose twice cancels; compose, char, compose types the char.
        let out = run(&mut kb, &[c, c, tap(KeyCode::X)].concat());
        assert_eq!(text(&out), "x");
        let out = run(&mut kb, &[c, tap(KeyCode::X), c].concat());
        assert_eq!(text(&out), "x");
        assert_eq!(kb.pending(), Pending::None);
        // Interrupted by an arrow.
        let out = run(&mut kb, &[c, tap(KeyCode::X), tap(KeyCode::Up)].concat());
        assert_eq!(out, [DecodedKey::Char('x'), DecodedKey::Key(KeyCode::Up)]);
        // Turned off mid-sequence: the sequence completes, then the key reports itself.
        run(&mut kb, &c);
        kb.set_compose_key(None);
        let out = run(&mut kb, &[tap(KeyCode::O), tap(KeyCode::C), c].concat());
        assert_eq!(
            out,
            [DecodedKey::Char('©'), DecodedKey::Key(KeyCode::ContextMenu)]
        );
    }

    #[test]
    fn compose_with_dead_keys() {
        let mut kb = Keyboard::new(De).with_compose_key(Some(KeyCode::RightMeta));
        // Compose, dead ´ (as its symbol), e.
        let out = run(
            &mut kb,
            &[
                tap(KeyCode::RightMeta),
                tap(KeyCode::Equals),
                tap(KeyCode::E),
            ]
            .concat(),
        );
        assert_eq!(text(&out), "é");
        // Dead key, then Compose: the dead key's symbol, then the sequence starts.
        let out = run(
            &mut kb,
            &[
                tap(KeyCode::Equals),
                tap(KeyCode::RightMeta),
                tap(KeyCode::S),
                tap(KeyCode::S),
            ]
            .concat(),
        );
        assert_eq!(text(&out), "´ß");
    }

    #[test]
    fn bat_releases_modifiers_and_resends_leds() {
        let mut kb = Keyboard::with_locks(Us, Locks::NUM);
        kb.process(KeyEvent::press(KeyCode::LeftShift))
            .for_each(drop);
        let out: Vec<_> = kb.process_event(Event::Response(Response::BatOk)).collect();
        assert_eq!(out, [DecodedKey::LocksChanged(Locks::NUM)]);
        assert_eq!(kb.modifiers(), Modifiers::empty());
        assert!(kb
            .process_event(Event::Response(Response::Ack))
            .next()
            .is_none());
    }

    #[test]
    fn decoded_keys_iterate() {
        let mut keys = DecodedKeys::two(DecodedKey::Char('a'), DecodedKey::Key(KeyCode::Up));
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.next(), Some(DecodedKey::Char('a')));
        assert_eq!(keys.peek(), Some(DecodedKey::Key(KeyCode::Up)));
        assert_eq!(keys.len(), 1);
        assert_eq!(keys.next().and_then(DecodedKey::char), None);
        assert!(keys.is_empty());
        assert_eq!(keys.next(), None);
        assert_eq!(DecodedKeys::none().count(), 0);
    }

    #[test]
    fn locks_convert_to_controller_leds() {
        use crate::controller::LedState;
        assert_eq!(LedState::from(Locks::CAPS), LedState::CAPS_LOCK);
        assert_eq!(LedState::from(Locks::NUM), LedState::NUM_LOCK);
        assert_eq!(LedState::from(Locks::SCROLL), LedState::SCROLL_LOCK);
        assert_eq!(LedState::from(Locks::all()).bits(), 0x07);
    }

    #[test]
    fn roles_are_the_modifier_and_lock_keys() {
        // `Keyboard::feed` relies on the decoder's table telling these keys apart by
        // `is_modifier` and `is_lock`; `process` looks them up in `ROLES`.
        for key in KeyCode::ALL {
            assert_eq!(
                ROLES[key as usize] != 0,
                key.is_modifier() || key.is_lock(),
                "{key:?}"
            );
        }
    }

    #[test]
    fn control_chars_of_every_ascii_letter() {
        for (i, c) in ('a'..='z').enumerate() {
            assert_eq!(control_char(c) as u32, i as u32 + 1);
            assert_eq!(control_char(c.to_ascii_uppercase()) as u32, i as u32 + 1);
        }
        assert_eq!(control_char('é'), 'é');
    }

    /// `process`'s Latin-1 shortcut gives what the full path gives, for every key and kind,
    /// in states where it applies and where it must not (Ctrl, a pending dead key or
    /// Compose, a Compose key, AltGr, locks).
    fn shortcut_matches_full_path<L: Layout + Clone + PartialEq + core::fmt::Debug>(layout: L) {
        let kinds = [KeyKind::Press, KeyKind::Release, KeyKind::Repeat];
        let setups: [&[KeyEvent]; 8] = [
            &[],
            &[KeyEvent::press(KeyCode::LeftShift)],
            &[KeyEvent::press(KeyCode::RightAlt)],
            &[KeyEvent::press(KeyCode::LeftCtrl)],
            &[KeyEvent::press(KeyCode::Quote)], // a dead key on US-International
            &[KeyEvent::press(KeyCode::Equals)], // a dead key on German
            &[KeyEvent::press(KeyCode::LeftBracket)], // a dead key on French
            &[KeyEvent::press(KeyCode::RightMeta)], // Compose, when it is the Compose key
        ];
        for locks in [
            Locks::empty(),
            Locks::CAPS,
            Locks::NUM,
            Locks::CAPS | Locks::NUM,
        ] {
            for compose in [None, Some(KeyCode::RightMeta)] {
                for setup in setups {
                    let mut keyboard = Keyboard::with_locks(layout.clone(), locks);
                    keyboard.set_compose_key(compose);
                    for &event in setup {
                        keyboard.process(event).for_each(drop);
                    }
                    // Miri runs a sample of the keys.
                    for index in (0..=255).step_by(if cfg!(miri) { 37 } else { 1 }) {
                        let Some(code) = KeyCode::from_index(index) else {
                            continue;
                        };
                        for kind in kinds {
                            let event = KeyEvent { code, kind };
                            let (mut fast, mut full) = (keyboard.clone(), keyboard.clone());
                            let fast_keys: Vec<_> = fast.process(event).collect();
                            let full_keys: Vec<_> = full.process_full(event).collect();
                            assert_eq!(fast_keys, full_keys, "{event:?} after {setup:?}");
                            assert_eq!(fast, full, "{event:?} after {setup:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn process_shortcut_matches_full_path() {
        shortcut_matches_full_path(UsIntl);
        if !cfg!(miri) {
            shortcut_matches_full_path(Us);
            shortcut_matches_full_path(De);
            shortcut_matches_full_path(Fr);
        }
    }
}
