//! Set 3: one byte per key, `F0` breaks, no other prefix.

use super::fast::is_special;
use super::{Decoder, Pending};
use crate::event::Events;
use crate::keycode::SET3;

impl Decoder {
    #[inline]
    pub(super) fn feed_set3(&mut self, byte: u8) -> Events {
        match self.pending() {
            Pending::F0 => {
                if let Some(key) = SET3[byte as usize] {
                    self.finish_break(key)
                } else if is_special(byte) {
                    self.resync(byte)
                } else {
                    self.set_pending(Pending::Idle);
                    Self::unknown(false, byte, true)
                }
            }
            // Set 3 has no other prefix, so anything else is idle.
            _ => self.set3_idle(byte),
        }
    }

    #[inline]
    pub(super) fn set3_idle(&mut self, byte: u8) -> Events {
        if let Some(key) = SET3[byte as usize] {
            return self.make(key);
        }
        match byte {
            0xF0 => self.wait(Pending::F0),
            0x00 | 0xAA | 0xEE | 0xFA | 0xFC | 0xFD | 0xFE | 0xFF => self.response_byte(byte),
            _ => Self::unknown(false, byte, false),
        }
    }
}
