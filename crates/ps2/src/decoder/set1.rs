//! Set 1 (what the CPU sees through the i8042's translation): `E0` and `E1` prefixes, breaks
//! with the high bit set, and the response bytes that are also breaks.

use super::fast::is_special;
use super::{Decoder, Pending, EXPECTING_BAT, FAKE_RIGHT_SHIFT_UP};
use crate::event::{Events, Response};
use crate::keycode::{SET1, SET1_E0};
use crate::KeyCode;

impl Decoder {
    #[inline]
    pub(super) fn feed_set1(&mut self, byte: u8) -> Events {
        match self.pending() {
            Pending::Idle => self.set1_idle(byte),
            Pending::E0 => self.set1_e0(byte),
            Pending::E1 => match byte {
                0x1D => self.wait(Pending::E1Make),
                0x9D => self.wait(Pending::E1Break),
                _ => self.resync(byte),
            },
            Pending::E1Make if byte == 0x45 => self.finish_make(KeyCode::Pause),
            Pending::E1Break if byte == 0xC5 => self.finish_break(KeyCode::Pause),
            _ => self.resync(byte),
        }
    }

    #[inline]
    pub(super) fn set1_idle(&mut self, byte: u8) -> Events {
        if byte < 0x80 {
            if let Some(key) = SET1[byte as usize] {
                return self.make(key);
            }
            if byte == 0x00 {
                return Self::response(Response::Overrun { code: byte });
            }
            return Self::unknown(false, byte, false);
        }
        match byte {
            0xE0 => self.wait(Pending::E0),
            0xE1 => self.wait(Pending::E1),
            0xF1 => Self::make_only(KeyCode::Hanja),
            0xF2 => Self::make_only(KeyCode::Hangul),
            // Both a response and a break code: a break only while that key is held and no
            // reset is pending.
            0xAA | 0xFD | 0xFE
                if !self.flag(EXPECTING_BAT)
                    && SET1[(byte & 0x7F) as usize].is_some_and(|k| self.held.contains(k)) =>
            {
                self.set1_break(byte)
            }
            0xAA | 0xEE | 0xFA | 0xFC | 0xFD | 0xFE | 0xFF => self.response_byte(byte),
            _ => self.set1_break(byte),
        }
    }

    #[inline]
    pub(super) fn set1_break(&mut self, byte: u8) -> Events {
        match SET1[(byte & 0x7F) as usize] {
            Some(key) => self.brk(key),
            None => Self::unknown(false, byte & 0x7F, true),
        }
    }

    pub(super) fn set1_e0(&mut self, byte: u8) -> Events {
        let code = byte & 0x7F;
        let release = byte & 0x80 != 0;
        // Fake shifts: E0 2A / E0 AA always. E0 36 / E0 B6 share their code with BassBoost:
        // E0 B6 is BassBoost's release only while BassBoost is held, and E0 36 is a fake while
        // Right Shift is held or after a fake E0 B6 (the keyboard sends them in pairs).
        let fake = match (code, release) {
            (0x2A, _) => true,
            (0x36, true) if !self.held.contains(KeyCode::BassBoost) => {
                self.set_flag(FAKE_RIGHT_SHIFT_UP, true);
                true
            }
            (0x36, false)
                if self.flag(FAKE_RIGHT_SHIFT_UP) || self.held.contains(KeyCode::RightShift) =>
            {
                self.set_flag(FAKE_RIGHT_SHIFT_UP, false);
                true
            }
            _ => false,
        };
        if fake {
            self.set_pending(Pending::Idle);
            return Events::none();
        }
        match SET1_E0[code as usize] {
            Some(key) => {
                self.set_pending(Pending::Idle);
                if release {
                    self.brk(key)
                } else {
                    self.make(key)
                }
            }
            None if is_special(byte) => self.resync(byte),
            None => {
                self.set_pending(Pending::Idle);
                Self::unknown(true, code, release)
            }
        }
    }
}
