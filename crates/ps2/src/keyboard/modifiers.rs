//! The modifier and lock state: which modifier keys are held, which locks are on.

use bitflags::bitflags;

use crate::KeyCode;

bitflags! {
    /// The modifier keys held down, one bit per key.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Modifiers: u8 {
        /// Left Shift.
        const LEFT_SHIFT = 0x01;
        /// Right Shift.
        const RIGHT_SHIFT = 0x02;
        /// Left Ctrl.
        const LEFT_CTRL = 0x04;
        /// Right Ctrl.
        const RIGHT_CTRL = 0x08;
        /// Left Alt.
        const LEFT_ALT = 0x10;
        /// Right Alt, which is AltGr on layouts that have AltGr.
        const RIGHT_ALT = 0x20;
        /// Left Meta (Windows, Super, Command).
        const LEFT_META = 0x40;
        /// Right Meta.
        const RIGHT_META = 0x80;
    }
}

impl Modifiers {
    /// Either Shift.
    pub const SHIFT: Modifiers = Modifiers::LEFT_SHIFT.union(Modifiers::RIGHT_SHIFT);
    /// Either Ctrl.
    pub const CTRL: Modifiers = Modifiers::LEFT_CTRL.union(Modifiers::RIGHT_CTRL);
    /// Either Alt.
    pub const ALT: Modifiers = Modifiers::LEFT_ALT.union(Modifiers::RIGHT_ALT);
    /// Either Meta.
    pub const META: Modifiers = Modifiers::LEFT_META.union(Modifiers::RIGHT_META);
    /// Right Alt under its AltGr name.
    pub const ALTGR: Modifiers = Modifiers::RIGHT_ALT;

    /// The modifier bit of `key`, if it is a modifier key.
    #[inline]
    pub const fn of(key: KeyCode) -> Option<Modifiers> {
        Some(match key {
            KeyCode::LeftShift => Modifiers::LEFT_SHIFT,
            KeyCode::RightShift => Modifiers::RIGHT_SHIFT,
            KeyCode::LeftCtrl => Modifiers::LEFT_CTRL,
            KeyCode::RightCtrl => Modifiers::RIGHT_CTRL,
            KeyCode::LeftAlt => Modifiers::LEFT_ALT,
            KeyCode::RightAlt => Modifiers::RIGHT_ALT,
            KeyCode::LeftMeta => Modifiers::LEFT_META,
            KeyCode::RightMeta => Modifiers::RIGHT_META,
            _ => return None,
        })
    }

    /// Whether either Shift is held.
    pub const fn shift(self) -> bool {
        self.intersects(Modifiers::SHIFT)
    }

    /// Whether either Ctrl is held.
    pub const fn ctrl(self) -> bool {
        self.intersects(Modifiers::CTRL)
    }

    /// Whether either Alt is held (Right Alt counts even where it is AltGr).
    pub const fn alt(self) -> bool {
        self.intersects(Modifiers::ALT)
    }

    /// Whether either Meta is held.
    pub const fn meta(self) -> bool {
        self.intersects(Modifiers::META)
    }
}

bitflags! {
    /// The lock states. The bits are those of the LED byte sent after keyboard command
    /// `0xED`, so [`Locks::led_byte`] is just the bits.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct Locks: u8 {
        /// Scroll Lock (LED bit 0).
        const SCROLL = 0x01;
        /// Num Lock (LED bit 1).
        const NUM = 0x02;
        /// Caps Lock (LED bit 2).
        const CAPS = 0x04;
    }
}

impl Locks {
    /// The data byte for keyboard command `0xED` (set LEDs): bit 0 Scroll, bit 1 Num, bit 2
    /// Caps.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_ps2::keyboard::Locks;
    /// assert_eq!((Locks::NUM | Locks::CAPS).led_byte(), 0x06);
    /// ```
    pub const fn led_byte(self) -> u8 {
        self.bits()
    }

    /// The lock bit `key` toggles, if it is a lock key.
    #[inline]
    pub const fn of(key: KeyCode) -> Option<Locks> {
        Some(match key {
            KeyCode::CapsLock => Locks::CAPS,
            KeyCode::NumLock => Locks::NUM,
            KeyCode::ScrollLock => Locks::SCROLL,
            _ => return None,
        })
    }
}

/// The LEDs to send for these locks: `Command::SetLeds(locks.into())` on the command engine,
/// or `I8042::set_leds(locks.into())` on the blocking driver.
impl From<Locks> for crate::controller::LedState {
    fn from(locks: Locks) -> Self {
        crate::controller::LedState::from_bits_truncate(locks.led_byte())
    }
}

/// Per key discriminant: the modifier bit it drives (low byte) or the lock it toggles (high
/// byte); 0 for every other key. One load tells the hot path a key is ordinary.
pub(super) static ROLES: [u16; 256] = {
    let mut roles = [0u16; 256];
    let mut index = 0;
    while index < 256 {
        if let Some(key) = KeyCode::from_index(index as u8) {
            if let Some(modifier) = Modifiers::of(key) {
                roles[index] = modifier.bits() as u16;
            } else if let Some(lock) = Locks::of(key) {
                roles[index] = (lock.bits() as u16) << 8;
            }
        }
        index += 1;
    }
    roles
};

/// defmt has no bitflags support: print the raw byte.
macro_rules! defmt_bits {
    ($($ty:ty),*) => {$(
        #[cfg(feature = "defmt")]
        impl defmt::Format for $ty {
            fn format(&self, f: defmt::Formatter<'_>) {
                defmt::write!(f, "{}({=u8:#04x})", stringify!($ty), self.bits())
            }
        }
    )*};
}
defmt_bits!(Modifiers, Locks);
