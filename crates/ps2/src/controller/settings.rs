//! The values keyboard commands carry: LED state, typematic rate and delay, and the identity
//! a keyboard answers.

use bitflags::bitflags;

use super::spec::response;

bitflags! {
    /// The keyboard LEDs, as sent after [`SET_LEDS`](super::spec::keyboard_command::SET_LEDS).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct LedState: u8 {
        /// Scroll Lock LED.
        const SCROLL_LOCK = 0x01;
        /// Num Lock LED.
        const NUM_LOCK = 0x02;
        /// Caps Lock LED.
        const CAPS_LOCK = 0x04;
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for LedState {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "LedState({=u8:#04x})", self.bits())
    }
}

/// Typematic repeat rates in tenths of a hertz, indexed by the 5-bit rate field (0 = fastest).
///
/// The hardware period is `(8 + A) * 2^B * 4.17 ms` with A = bits 0-2 and B = bits 3-4; this
/// table is the documented rounding of that formula.
const RATE_DECIHERTZ: [u16; 32] = [
    300, 267, 240, 218, 207, 185, 171, 160, 150, 133, 120, 109, 100, 92, 86, 80, 75, 67, 60, 55,
    50, 46, 43, 40, 37, 33, 30, 27, 25, 23, 21, 20,
];

/// A typematic repeat rate: one of the 32 rates from 30 Hz down to 2 Hz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RepeatRate(u8);

impl RepeatRate {
    /// The fastest rate, 30.0 Hz.
    pub const FASTEST: RepeatRate = RepeatRate(0);
    /// The power-on default, 10.9 Hz.
    pub const DEFAULT: RepeatRate = RepeatRate(0x0B);
    /// The slowest rate, 2.0 Hz.
    pub const SLOWEST: RepeatRate = RepeatRate(31);

    /// The rate with the given 5-bit field value (0 = 30 Hz ... 31 = 2 Hz).
    pub const fn from_index(index: u8) -> Option<Self> {
        if index < 32 {
            Some(RepeatRate(index))
        } else {
            None
        }
    }

    /// The supported rate closest to `decihertz` tenths of a hertz (values outside 2-30 Hz
    /// clamp to the slowest or fastest rate).
    pub const fn nearest_decihertz(decihertz: u16) -> Self {
        let mut best = 0;
        let mut best_diff = u16::MAX;
        let mut i = 0;
        while i < RATE_DECIHERTZ.len() {
            let r = RATE_DECIHERTZ[i];
            let diff = r.abs_diff(decihertz);
            if diff < best_diff {
                best = i;
                best_diff = diff;
            }
            i += 1;
        }
        RepeatRate(best as u8)
    }

    /// The 5-bit field value.
    pub const fn index(self) -> u8 {
        self.0
    }

    /// The rate in tenths of a hertz (300 = 30.0 Hz).
    pub const fn decihertz(self) -> u16 {
        RATE_DECIHERTZ[self.0 as usize]
    }
}

/// The delay before a held key starts repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RepeatDelay {
    /// 250 ms.
    Ms250,
    /// 500 ms (power-on default).
    Ms500,
    /// 750 ms.
    Ms750,
    /// 1000 ms.
    Ms1000,
}

impl RepeatDelay {
    /// The 2-bit field value (bits 5-6 of the typematic byte).
    pub const fn index(self) -> u8 {
        match self {
            RepeatDelay::Ms250 => 0,
            RepeatDelay::Ms500 => 1,
            RepeatDelay::Ms750 => 2,
            RepeatDelay::Ms1000 => 3,
        }
    }

    /// The delay for a 2-bit field value (only the low two bits are used).
    pub const fn from_index(index: u8) -> Self {
        match index & 3 {
            0 => RepeatDelay::Ms250,
            1 => RepeatDelay::Ms500,
            2 => RepeatDelay::Ms750,
            _ => RepeatDelay::Ms1000,
        }
    }

    /// The delay in milliseconds.
    pub const fn millis(self) -> u16 {
        (self.index() as u16 + 1) * 250
    }
}

/// Typematic settings: repeat rate and delay, the data byte of
/// [`SET_TYPEMATIC`](super::spec::keyboard_command::SET_TYPEMATIC).
///
/// # Examples
///
/// ```
/// use irqkit_ps2::controller::{RepeatDelay, RepeatRate, Typematic};
///
/// let t = Typematic { rate: RepeatRate::nearest_decihertz(109), delay: RepeatDelay::Ms500 };
/// assert_eq!(t.to_byte(), 0x2B); // the power-on default
/// assert_eq!(Typematic::from_byte(0x2B), Some(t));
/// assert_eq!(Typematic::from_byte(0x80), None); // bit 7 must be zero
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Typematic {
    /// Repeat rate once repeating.
    pub rate: RepeatRate,
    /// Delay before the first repeat.
    pub delay: RepeatDelay,
}

impl Default for Typematic {
    /// The power-on default: 10.9 Hz after 500 ms.
    fn default() -> Self {
        Typematic {
            rate: RepeatRate::DEFAULT,
            delay: RepeatDelay::Ms500,
        }
    }
}

impl Typematic {
    /// The data byte: bits 0-4 rate, bits 5-6 delay, bit 7 zero.
    pub const fn to_byte(self) -> u8 {
        self.rate.index() | (self.delay.index() << 5)
    }

    /// Decodes a data byte; `None` when the reserved bit 7 is set.
    pub const fn from_byte(byte: u8) -> Option<Self> {
        if byte & 0x80 != 0 {
            return None;
        }
        Some(Typematic {
            rate: RepeatRate(byte & 0x1F),
            delay: RepeatDelay::from_index(byte >> 5),
        })
    }
}

/// The identity bytes a keyboard answered to [`IDENTIFY`](super::spec::keyboard_command::IDENTIFY)
/// (zero, one or two bytes: old AT keyboards send none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KeyboardId {
    bytes: [u8; 2],
    len: u8,
}

impl KeyboardId {
    /// No identity bytes (an AT keyboard).
    pub const NONE: KeyboardId = KeyboardId {
        bytes: [0; 2],
        len: 0,
    };

    /// An identity made of `bytes` (at most two are kept).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut id = KeyboardId::NONE;
        for &b in bytes.iter().take(2) {
            id.bytes[usize::from(id.len)] = b;
            id.len += 1;
        }
        id
    }

    /// The identity bytes received.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Whether this is an MF2 keyboard (`AB 83`, or `AB 41` through translation).
    pub fn is_mf2(&self) -> bool {
        matches!(
            self.bytes(),
            [
                response::ID_MF2,
                response::ID_MF2_RAW | response::ID_MF2_TRANSLATED
            ]
        )
    }

    /// Whether the second byte shows the answer passed through i8042 translation.
    pub fn is_translated(&self) -> bool {
        matches!(
            self.bytes(),
            [response::ID_MF2, response::ID_MF2_TRANSLATED]
        )
    }

    /// Whether a first identity byte announces a second one (0xAB keyboards, 0xAC NCD Sun).
    pub const fn expects_second_byte(first: u8) -> bool {
        matches!(first, 0xAB | 0xAC)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typematic_round_trips_every_valid_byte() {
        for b in 0u8..0x80 {
            let t = Typematic::from_byte(b).unwrap();
            assert_eq!(t.to_byte(), b);
        }
        for b in 0x80u8..=0xFF {
            assert_eq!(Typematic::from_byte(b), None);
        }
    }

    #[test]
    fn rate_table_is_monotonic_and_nearest_finds_each_entry() {
        for i in 0..32u8 {
            let r = RepeatRate::from_index(i).unwrap();
            assert_eq!(RepeatRate::nearest_decihertz(r.decihertz()), r);
            if i > 0 {
                assert!(RepeatRate(i - 1).decihertz() > r.decihertz());
            }
        }
        assert_eq!(RepeatRate::from_index(32), None);
        assert_eq!(RepeatRate::nearest_decihertz(0), RepeatRate::SLOWEST);
        assert_eq!(RepeatRate::nearest_decihertz(u16::MAX), RepeatRate::FASTEST);
        assert_eq!(RepeatDelay::Ms1000.millis(), 1000);
        assert_eq!(Typematic::default().to_byte(), 0x2B);
    }

    #[test]
    fn keyboard_id_classifies() {
        assert!(KeyboardId::from_bytes(&[0xAB, 0x83]).is_mf2());
        assert!(KeyboardId::from_bytes(&[0xAB, 0x41]).is_translated());
        assert!(!KeyboardId::from_bytes(&[0xAB, 0x83]).is_translated());
        assert!(!KeyboardId::NONE.is_mf2());
        assert_eq!(KeyboardId::from_bytes(&[1, 2, 3]).bytes(), &[1, 2]);
    }
}
