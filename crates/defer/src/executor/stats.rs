//! What the executor counts, and the snapshot [`Executor::stats`] gives.

use crate::loom_const::const_unless_loom;
use crate::sync::{AtomicU32, Ordering};

#[cfg(doc)]
use super::Executor;

/// Counters updated by schedulers and the executor.
pub(crate) struct Counters {
    pub(super) coalesced: AtomicU32,
    pub(super) cancelled: AtomicU32,
    pub(super) runs: AtomicU32,
    pub(super) skipped: AtomicU32,
    pub(super) max_latency: AtomicU32,
    pub(crate) timers_fired: AtomicU32,
}

impl Counters {
    const_unless_loom! {
        pub(super) fn new() -> Self {
            Self {
                coalesced: AtomicU32::new(0),
                cancelled: AtomicU32::new(0),
                runs: AtomicU32::new(0),
                skipped: AtomicU32::new(0),
                max_latency: AtomicU32::new(0),
                timers_fired: AtomicU32::new(0),
            }
        }
    }

    // Schedules that make an item pending are not counted where they happen (that would be a
    // read-modify-write on every schedule): each one ends in exactly one run or one successful
    // cancel, which are counted instead.

    pub(crate) fn count_coalesced(&self) {
        self.coalesced.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_cancel(&self) {
        self.cancelled.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn runs(&self) -> u32 {
        self.runs.load(Ordering::Relaxed)
    }
}

/// A snapshot of an executor's counters ([`Executor::stats`]). Counters wrap at 2^32.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stats {
    /// Schedules that made an item pending and have since been run or cancelled
    /// (`runs + cancelled`; schedules still pending are not included). Once the executor is
    /// idle this equals the number of schedules that returned `true`.
    pub scheduled: u32,
    /// Schedules of items that were already pending (merged into the pending run).
    pub coalesced: u32,
    /// Cancels that took back a pending run.
    pub cancelled: u32,
    /// Handler runs (task polls included).
    pub runs: u32,
    /// Queue entries dropped because the item was cancelled, or parked because it was disabled.
    pub skipped: u32,
    /// Worst schedule-to-run latency in clock units since the last reset (0 without a clock).
    pub max_latency: u32,
    /// Delayed items whose delay expired in [`Executor::tick`].
    pub timers_fired: u32,
}
