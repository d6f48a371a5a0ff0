//! Set 2 (what the keyboard sends): `F0` breaks, `E0` and `E1` prefixes.

use super::fast::is_special;
use super::{Decoder, Pending};
use crate::event::Events;
use crate::keycode::{SET2, SET2_E0};
use crate::KeyCode;

impl Decoder {
    #[inline]
    pub(super) fn feed_set2(&mut self, byte: u8) -> Events {
        match self.pending() {
            Pending::Idle => self.set2_idle(byte),
            Pending::F0 => {
                if let Some(key) = SET2[byte as usize] {
                    self.finish_break(key)
                } else if is_special(byte) {
                    self.resync(byte)
                } else {
                    self.set_pending(Pending::Idle);
                    Self::unknown(false, byte, true)
                }
            }
            Pending::E0 => match byte {
                0xF0 => self.wait(Pending::E0F0),
                _ => self.set2_e0(byte, false),
            },
            Pending::E0F0 => self.set2_e0(byte, true),
            Pending::E1 => match byte {
                0x14 => self.wait(Pending::E1x14),
                0xF0 => self.wait(Pending::E1F0),
                _ => self.resync(byte),
            },
            Pending::E1x14 if byte == 0x77 => self.finish_make(KeyCode::Pause),
            Pending::E1F0 if byte == 0x14 => self.wait(Pending::E1F0x14),
            Pending::E1F0x14 if byte == 0xF0 => self.wait(Pending::E1F0x14F0),
            Pending::E1F0x14F0 if byte == 0x77 => self.finish_break(KeyCode::Pause),
            _ => self.resync(byte),
        }
    }

    #[inline]
    pub(super) fn set2_idle(&mut self, byte: u8) -> Events {
        if let Some(key) = SET2[byte as usize] {
            return self.make(key);
        }
        match byte {
            0xF0 => self.wait(Pending::F0),
            0xE0 => self.wait(Pending::E0),
            0xE1 => self.wait(Pending::E1),
            0xF1 => Self::make_only(KeyCode::Hanja),
            0xF2 => Self::make_only(KeyCode::Hangul),
            _ if is_special(byte) => self.response_byte(byte),
            _ => Self::unknown(false, byte, false),
        }
    }

    pub(super) fn set2_e0(&mut self, byte: u8, release: bool) -> Events {
        if byte >= 0x80 || byte == 0x00 {
            return self.resync(byte);
        }
        self.set_pending(Pending::Idle);
        match SET2_E0[byte as usize] {
            Some(key) if release => self.brk(key),
            Some(key) => self.make(key),
            // Fake shifts (left and right): no event, no state change.
            None if byte == 0x12 || byte == 0x59 => Events::none(),
            None => Self::unknown(true, byte, release),
        }
    }
}
