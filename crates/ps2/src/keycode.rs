//! Key identity: [`KeyCode`], one value per physical key, and its other names.

mod generated;

pub use generated::KeyCode;

// The decode tables, as statics so every lookup reads one shared copy.
pub(crate) static SET1: [Option<KeyCode>; 128] = generated::SET1;
pub(crate) static SET1_E0: [Option<KeyCode>; 128] = generated::SET1_E0;
pub(crate) static SET2: [Option<KeyCode>; 256] = generated::SET2;
pub(crate) static SET2_E0: [Option<KeyCode>; 128] = generated::SET2_E0;
pub(crate) static SET3: [Option<KeyCode>; 256] = generated::SET3;
/// The same tables as constants, for tables built at compile time from them.
pub(crate) mod consts {
    pub(crate) use super::generated::{SET1, SET1_E0, SET2, SET2_E0, SET3};
}

use core::fmt;

/// A USB HID usage: a usage page and a usage id within it.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::HidUsage;
/// assert_eq!(HidUsage::keyboard(0x04), HidUsage { page: 0x07, id: 0x04 });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct HidUsage {
    /// The usage page (0x07 keyboard, 0x0C consumer, 0x01 generic desktop).
    pub page: u16,
    /// The usage id within the page.
    pub id: u16,
}

impl HidUsage {
    /// The generic desktop page (system power, sleep and wake controls).
    pub const GENERIC_DESKTOP_PAGE: u16 = 0x01;
    /// The keyboard/keypad page.
    pub const KEYBOARD_PAGE: u16 = 0x07;
    /// The consumer page (media and application-launch keys).
    pub const CONSUMER_PAGE: u16 = 0x0C;
    /// The vendor-defined page irqkit uses for keys that have no standard usage; the id is the
    /// key's Linux keycode.
    pub const VENDOR_PAGE: u16 = 0xFF00;

    /// A usage on the keyboard/keypad page.
    pub const fn keyboard(id: u16) -> Self {
        HidUsage {
            page: Self::KEYBOARD_PAGE,
            id,
        }
    }

    /// A usage on the consumer page.
    pub const fn consumer(id: u16) -> Self {
        HidUsage {
            page: Self::CONSUMER_PAGE,
            id,
        }
    }

    /// A usage on the generic desktop page.
    pub const fn generic_desktop(id: u16) -> Self {
        HidUsage {
            page: Self::GENERIC_DESKTOP_PAGE,
            id,
        }
    }
}

impl fmt::Display for HidUsage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#06x}:{:#06x}", self.page, self.id)
    }
}

impl fmt::Display for KeyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl KeyCode {
    /// Whether this key is a modifier (Shift, Ctrl, Alt or Meta, either side).
    pub const fn is_modifier(self) -> bool {
        matches!(
            self,
            KeyCode::LeftShift
                | KeyCode::RightShift
                | KeyCode::LeftCtrl
                | KeyCode::RightCtrl
                | KeyCode::LeftAlt
                | KeyCode::RightAlt
                | KeyCode::LeftMeta
                | KeyCode::RightMeta
        )
    }

    /// Whether this key toggles a lock (Caps, Num or Scroll Lock).
    pub const fn is_lock(self) -> bool {
        matches!(
            self,
            KeyCode::CapsLock | KeyCode::NumLock | KeyCode::ScrollLock
        )
    }

    /// Whether the keyboard sends no break code for this key, so a release is synthesized
    /// right after each press (Pause, Break, Hangul, Hanja).
    pub const fn is_make_only(self) -> bool {
        matches!(
            self,
            KeyCode::Pause | KeyCode::Break | KeyCode::Hangul | KeyCode::Hanja
        )
    }

    /// The key's make code in `set` (`0xE0xx` for E0-prefixed keys), if it has one there.
    ///
    /// [`KeyCode::Pause`] has no make code in sets 1 and 2: it sends an E1 sequence, which the
    /// encoder produces.
    pub const fn code_in(self, set: crate::ScancodeSet) -> Option<u16> {
        match set {
            crate::ScancodeSet::Set1 => self.set1_code(),
            crate::ScancodeSet::Set2 => self.set2_code(),
            crate::ScancodeSet::Set3 => self.set3_code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_matches_discriminants() {
        for key in KeyCode::ALL {
            assert_eq!(KeyCode::from_index(key as u8), Some(key));
        }
        let named = (0..=255u8)
            .filter(|&i| KeyCode::from_index(i).is_some())
            .count();
        assert_eq!(named, KeyCode::COUNT);
    }

    #[test]
    fn all_is_sorted_and_unique() {
        assert!(KeyCode::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn names_are_unique_and_match_debug() {
        extern crate std;
        use std::format;
        for key in KeyCode::ALL {
            assert_eq!(format!("{key:?}"), key.name());
            assert_eq!(format!("{key}"), key.name());
        }
        let mut names: std::vec::Vec<_> = KeyCode::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), KeyCode::COUNT);
    }

    #[test]
    fn evdev_round_trips_except_sysrq() {
        for key in KeyCode::ALL {
            let back = KeyCode::from_evdev(key.to_evdev());
            if key == KeyCode::SysRq {
                // Linux reports Alt+Print Screen as KEY_SYSRQ, the Print Screen code.
                assert_eq!(back, Some(KeyCode::PrintScreen));
            } else {
                assert_eq!(back, Some(key), "{key:?}");
            }
        }
        assert_eq!(KeyCode::from_evdev(84), Some(KeyCode::SysRq));
        assert_eq!(KeyCode::from_evdev(0), None);
        assert_eq!(KeyCode::from_evdev(0x100), None);
    }

    #[test]
    fn evdev_from_is_inverse_of_to() {
        for code in 0..=0x2FFu16 {
            if let Some(key) = KeyCode::from_evdev(code) {
                if code != 84 {
                    assert_eq!(key.to_evdev(), code);
                }
            }
        }
    }

    #[test]
    fn hid_round_trips_except_break() {
        for key in KeyCode::ALL {
            let back = KeyCode::from_hid(key.to_hid());
            if key == KeyCode::Break {
                // HID has no Break usage: Ctrl+Pause is Pause on USB.
                assert_eq!(back, Some(KeyCode::Pause));
            } else {
                assert_eq!(back, Some(key), "{key:?}");
            }
        }
    }

    #[test]
    fn hid_pages_are_the_documented_ones() {
        for key in KeyCode::ALL {
            let usage = key.to_hid();
            assert!(
                matches!(
                    usage.page,
                    HidUsage::KEYBOARD_PAGE
                        | HidUsage::CONSUMER_PAGE
                        | HidUsage::GENERIC_DESKTOP_PAGE
                        | HidUsage::VENDOR_PAGE
                ),
                "{key:?}: {usage}"
            );
            if usage.page == HidUsage::VENDOR_PAGE {
                assert_eq!(usage.id, key.to_evdev(), "{key:?}");
            }
            if usage.page == HidUsage::KEYBOARD_PAGE {
                // 0xE8..=0xFFFF is reserved on the keyboard page.
                assert!(usage.id < 0xE8, "{key:?}: {usage}");
            }
        }
        assert_eq!(KeyCode::VolumeUp.to_hid(), HidUsage::consumer(0xE9));
        assert_eq!(KeyCode::Sleep.to_hid(), HidUsage::generic_desktop(0x82));
        assert_eq!(KeyCode::Wake.to_hid(), HidUsage::generic_desktop(0x83));
        assert_eq!(KeyCode::Power.to_hid(), HidUsage::keyboard(0x66));
        assert_eq!(
            KeyCode::from_hid(HidUsage::generic_desktop(0x81)),
            Some(KeyCode::Power)
        );
        assert_eq!(
            KeyCode::from_hid(HidUsage::keyboard(0x7F)),
            Some(KeyCode::VolumeMute)
        );
        assert_eq!(
            KeyCode::from_hid(HidUsage::keyboard(0x32)),
            Some(KeyCode::Backslash)
        );
        assert_eq!(KeyCode::from_hid(HidUsage::keyboard(0x00)), None);
        assert_eq!(KeyCode::from_hid(HidUsage::keyboard(0xE8)), None);
    }

    #[test]
    fn hid_from_is_inverse_of_to_on_keyboard_page() {
        for id in 0..=0xFFu16 {
            if let Some(key) = KeyCode::from_hid(HidUsage::keyboard(id)) {
                let usage = key.to_hid();
                // Aliases (usages to_hid puts on another page, or shares) are the only exceptions.
                let alias = matches!(id, 0x32 | 0x66 | 0x7F | 0x80 | 0x81);
                assert!(
                    usage == HidUsage::keyboard(id) || alias,
                    "{id:#x} -> {key:?} -> {usage}"
                );
            }
        }
    }

    #[test]
    fn qcode_round_trips() {
        let mut with_name = 0;
        for key in KeyCode::ALL {
            if let Some(name) = key.to_qcode() {
                with_name += 1;
                assert_eq!(KeyCode::from_qcode(name), Some(key), "{key:?}");
            }
        }
        assert!(with_name > 140, "only {with_name} keys have QEMU names");
        assert_eq!(KeyCode::from_qcode("asterisk"), Some(KeyCode::NumpadStar));
        assert_eq!(KeyCode::from_qcode("sysrq"), Some(KeyCode::SysRq));
        assert_eq!(KeyCode::from_qcode("print"), Some(KeyCode::PrintScreen));
        assert_eq!(KeyCode::from_qcode("no_such_key"), None);
    }

    #[test]
    fn make_only_keys_and_classes() {
        assert!(KeyCode::Hangul.is_make_only());
        assert!(!KeyCode::A.is_make_only());
        assert!(KeyCode::RightMeta.is_modifier());
        assert!(KeyCode::ScrollLock.is_lock());
        assert!(!KeyCode::Pause.is_lock());
    }
}
