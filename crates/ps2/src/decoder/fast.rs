//! The fast path: the common, simple cases of every set, precomputed from the key tables.

use super::Pending;
use crate::{KeyCode, ScancodeSet};

/// How many [`Pending`] states the fast path covers (the first four).
const HOT_STATES: usize = 4;

/// The table's rows: one per set and hot state, then rows of `Slow` steps (the first for every
/// other state, the rest padding to a power of two).
const ROWS: usize = 16;

/// The row every state outside the fast path shares.
const COLD_ROW: usize = 3 * HOT_STATES;

/// A row of the fast path's table: `set * 4 + pending` for the hot states. An enum, so that
/// indexing the table with it needs no bounds check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(u8)]
#[rustfmt::skip]
pub(super) enum Row { R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10, R11, R12, R13, R14, R15 }

#[rustfmt::skip]
const ALL_ROWS: [Row; ROWS] = [Row::R0, Row::R1, Row::R2, Row::R3, Row::R4, Row::R5, Row::R6, Row::R7, Row::R8, Row::R9, Row::R10, Row::R11, Row::R12, Row::R13, Row::R14, Row::R15];

/// The hot states, in row order.
const HOT: [Pending; HOT_STATES] = [Pending::Idle, Pending::F0, Pending::E0, Pending::E0F0];

/// The table row of `pending` in `set`.
pub(super) const fn row_of(set: ScancodeSet, pending: Pending) -> Row {
    let pending = pending as usize;
    if pending < HOT_STATES {
        ALL_ROWS[set as usize * HOT_STATES + pending]
    } else {
        ALL_ROWS[COLD_ROW]
    }
}

/// The hot state a row stands for (`None` for the cold row).
pub(super) const fn hot_state(row: Row) -> Option<Pending> {
    let row = row as usize;
    if row < COLD_ROW {
        Some(HOT[row % HOT_STATES])
    } else {
        None
    }
}

/// The idle row of each set.
pub(super) static IDLE: [Row; 3] = [
    row_of(ScancodeSet::Set1, Pending::Idle),
    row_of(ScancodeSet::Set2, Pending::Idle),
    row_of(ScancodeSet::Set3, Pending::Idle),
];

/// What the fast path does with a byte: the common, simple cases of every set, precomputed
/// from the key tables. Everything else (responses, E1, ambiguous bytes, unknown codes, errors)
/// is `Slow` and goes through the full decoding functions.
#[derive(Clone, Copy)]
pub(super) enum Step {
    /// Not a simple case.
    Slow,
    /// A make code of this key (neither a modifier nor a lock); the sequence is complete.
    Make(KeyCode),
    /// A break code of this key (neither a modifier nor a lock); the sequence is complete.
    Break(KeyCode),
    /// A make code of this modifier or lock key; the sequence is complete.
    MakeState(KeyCode),
    /// A break code of this modifier or lock key; the sequence is complete.
    BreakState(KeyCode),
    /// A prefix: wait for more, in this row (a hot state of the same set).
    Wait(Row),
    /// A fake shift: the sequence is complete and means nothing.
    Fake,
}

/// Indexed by row ([`row_of`]) and byte.
pub(super) static FAST: [[Step; 256]; ROWS] = {
    let by_set = build_fast_table();
    let mut rows = [[Step::Slow; 256]; ROWS];
    let mut row = 0;
    while row < COLD_ROW {
        rows[row] = by_set[row / HOT_STATES][row % HOT_STATES];
        row += 1;
    }
    rows
};

const fn wait(set: ScancodeSet, pending: Pending) -> Step {
    Step::Wait(row_of(set, pending))
}

const fn key_step(key: Option<KeyCode>, release: bool) -> Step {
    match key {
        Some(key) if key.is_modifier() || key.is_lock() => {
            if release {
                Step::BreakState(key)
            } else {
                Step::MakeState(key)
            }
        }
        Some(key) if release => Step::Break(key),
        Some(key) => Step::Make(key),
        None => Step::Slow,
    }
}

const fn build_fast_table() -> [[[Step; 256]; HOT_STATES]; 3] {
    use crate::keycode::consts::{SET1, SET1_E0, SET2, SET2_E0, SET3};
    const IDLE: usize = Pending::Idle as usize;
    const F0: usize = Pending::F0 as usize;
    const E0: usize = Pending::E0 as usize;
    const E0F0: usize = Pending::E0F0 as usize;
    let mut t = [[[Step::Slow; 256]; HOT_STATES]; 3];
    let mut i = 0;
    while i < 256 {
        let byte = i as u8;
        let code = (byte & 0x7F) as usize;
        let high = byte >= 0x80;
        // Set 1. Responses and prefixes (some of which are also breaks) take the slow path.
        t[0][IDLE][i] = match byte {
            0xE0 => wait(ScancodeSet::Set1, Pending::E0),
            _ if high && is_special(byte) => Step::Slow,
            _ => key_step(SET1[code], high),
        };
        t[0][E0][i] = match code {
            0x2A => Step::Fake,
            0x36 => Step::Slow, // fake right shift or BassBoost: depends on Right Shift
            _ => key_step(SET1_E0[code], high),
        };
        // Set 2.
        t[1][IDLE][i] = match byte {
            0xF0 => wait(ScancodeSet::Set2, Pending::F0),
            0xE0 => wait(ScancodeSet::Set2, Pending::E0),
            _ => key_step(SET2[i], false),
        };
        t[1][F0][i] = key_step(SET2[i], true);
        t[1][E0][i] = match byte {
            0xF0 => wait(ScancodeSet::Set2, Pending::E0F0),
            0x12 | 0x59 => Step::Fake,
            _ if high => Step::Slow,
            _ => key_step(SET2_E0[i], false),
        };
        t[1][E0F0][i] = match byte {
            0x12 | 0x59 => Step::Fake,
            _ if high => Step::Slow,
            _ => key_step(SET2_E0[i], true),
        };
        // Set 3 (no prefixes but F0).
        t[2][IDLE][i] = match byte {
            0xF0 => wait(ScancodeSet::Set3, Pending::F0),
            _ => key_step(SET3[i], false),
        };
        t[2][F0][i] = key_step(SET3[i], true);
        i += 1;
    }
    t
}

/// Bytes that are never a key in sets 2 and 3 (and never continue a set 1 `E0` sequence):
/// prefixes and responses.
pub(super) const fn is_special(byte: u8) -> bool {
    matches!(
        byte,
        0x00 | 0xAA | 0xE0 | 0xE1 | 0xEE | 0xF0 | 0xF1 | 0xF2 | 0xFA | 0xFC | 0xFD | 0xFE | 0xFF
    )
}
