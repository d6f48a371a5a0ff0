//! How much one run may do, and what it did.

use core::fmt;

#[cfg(doc)]
use super::Executor;

/// How much one [`Executor::run`] may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Budget {
    pub(super) items: u32,
    pub(super) time: Option<u32>,
}

impl Budget {
    /// No limit.
    pub const UNLIMITED: Self = Self {
        items: u32::MAX,
        time: None,
    };

    /// At most `items` handler runs.
    pub const fn items(items: u32) -> Self {
        Self { items, time: None }
    }

    /// Additionally stop once `units` of the executor clock have passed (checked between
    /// items; at least one item runs). Needs [`Executor::with_clock`].
    #[must_use]
    pub const fn with_time(mut self, units: u32) -> Self {
        self.time = Some(units);
        self
    }
}

/// Why a [`Executor::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Stop {
    /// The queues were empty.
    Idle,
    /// The item budget was used up with work left.
    ItemBudget,
    /// The time budget was used up with work left.
    TimeBudget,
}

/// What one [`Executor::run`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RunReport {
    /// Handlers run (task polls included).
    pub ran: u32,
    /// Queue entries of cancelled or disabled items that were consumed without a run.
    pub skipped: u32,
    /// Why the run stopped.
    pub stop: Stop,
    /// Whether work was queued when the run returned (call `run` again before sleeping).
    pub more_work: bool,
}

/// [`Executor::run`] refused to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RunError {
    /// The executor is already running (re-entered from a handler or an interrupt, or used
    /// from two threads at once).
    Busy,
    /// The budget has a time limit but the executor has no clock.
    NoClock,
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Busy => f.write_str("executor is already running"),
            Self::NoClock => f.write_str("time budget given to an executor without a clock"),
        }
    }
}

impl core::error::Error for RunError {}
