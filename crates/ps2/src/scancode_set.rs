//! The three scancode sets a PS/2 keyboard can speak.

use core::fmt;

/// A scancode set, as seen by the CPU.
///
/// Keyboards power up in set 2. The i8042 controller normally *translates* set 2 into set 1
/// (config bit 0x40, XLATE), so a kernel that leaves translation on reads set 1 even though
/// the keyboard sends set 2: decode what the CPU reads, which [`ScancodeSet::seen_by_cpu`]
/// works out.
///
/// # Examples
///
/// ```
/// use irqkit_ps2::ScancodeSet;
/// assert_eq!(ScancodeSet::seen_by_cpu(ScancodeSet::Set2, true), Some(ScancodeSet::Set1));
/// assert_eq!(ScancodeSet::seen_by_cpu(ScancodeSet::Set2, false), Some(ScancodeSet::Set2));
/// assert_eq!(ScancodeSet::from_number(3), Some(ScancodeSet::Set3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ScancodeSet {
    /// Set 1 (XT): break = make | 0x80, extended keys prefixed by `E0`. What the CPU sees
    /// through i8042 translation.
    Set1,
    /// Set 2 (AT): break = `F0` make, extended keys prefixed by `E0`. What keyboards send.
    Set2,
    /// Set 3 (PS/2): break = `F0` make, no prefixes; per-key typematic and make/break modes.
    Set3,
}

impl ScancodeSet {
    /// Every set.
    pub const ALL: [ScancodeSet; 3] = [ScancodeSet::Set1, ScancodeSet::Set2, ScancodeSet::Set3];

    /// The set's number (1, 2 or 3), as used by the keyboard's `F0` command.
    pub const fn number(self) -> u8 {
        match self {
            ScancodeSet::Set1 => 1,
            ScancodeSet::Set2 => 2,
            ScancodeSet::Set3 => 3,
        }
    }

    /// The set with this number, if it is 1, 2 or 3.
    pub const fn from_number(number: u8) -> Option<Self> {
        match number {
            1 => Some(ScancodeSet::Set1),
            2 => Some(ScancodeSet::Set2),
            3 => Some(ScancodeSet::Set3),
            _ => None,
        }
    }

    /// The set the CPU reads when the keyboard speaks `keyboard` and the i8042 translates
    /// (`translation`) or not.
    ///
    /// Translation turns set 2 into set 1. Applied to set 1 or set 3 it produces bytes no set
    /// describes, so the answer is `None`: turn translation off for those sets.
    pub const fn seen_by_cpu(keyboard: ScancodeSet, translation: bool) -> Option<Self> {
        match (keyboard, translation) {
            (set, false) => Some(set),
            (ScancodeSet::Set2, true) => Some(ScancodeSet::Set1),
            (_, true) => None,
        }
    }
}

impl fmt::Display for ScancodeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "scancode set {}", self.number())
    }
}
