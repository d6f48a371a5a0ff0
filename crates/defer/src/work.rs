//! The work item: a statically allocated bottom half.
//!
//! # State machine
//!
//! One atomic word holds everything a schedule, a run, a cancel and a disable race on:
//!
//! | bits | meaning |
//! |------|---------|
//! | `PENDING` | the item should run (once) |
//! | `QUEUED` | the item is linked in its executor's queue; only the executor unlinks it |
//! | 8..32 | disable depth |
//!
//! Every change is a read-modify-write (`AcqRel`), so a schedule's release always reaches the
//! executor's acquire when it clears `PENDING` (release sequences are made of RMWs only). The
//! item is pushed on the queue by whoever sets `QUEUED`, so it is never linked twice; the
//! executor clears `PENDING` in the same step in which it takes the item for a run, which is what
//! makes "scheduled during a run" mean "exactly one more run". Which item is running is kept by
//! the executor (one plain store before and after each run), not in this word: a run costs no
//! extra read-modify-write.

use core::fmt;
use core::ptr::NonNull;

use crate::executor::{Executor, NO_LANE};
use crate::loom_const::const_unless_loom;
use crate::sync::{AtomicPtr, AtomicU32, AtomicU8, Ordering};
use crate::timer::TimerLink;

pub(crate) const PENDING: u32 = 1 << 0;
pub(crate) const QUEUED: u32 = 1 << 1;
const DISABLE_SHIFT: u32 = 8;
const DISABLE_ONE: u32 = 1 << DISABLE_SHIFT;

/// The deepest [`Work::disable`] nesting: 2^24 - 1.
pub const MAX_DISABLE_DEPTH: u32 = u32::MAX >> DISABLE_SHIFT;

const fn disable_depth(state: u32) -> u32 {
    state >> DISABLE_SHIFT
}

/// Which queue of its executor an item waits in. Urgent items run before any normal item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Priority {
    /// Bottom halves of interrupts that must be serviced first (a NIC ring, a disk completion).
    Urgent = 0,
    /// Everything else (the default).
    Normal = 1,
}

impl Priority {
    /// How many priorities there are.
    pub const COUNT: usize = 2;

    pub(crate) const fn index(self) -> usize {
        self as usize
    }
}

/// What the executor calls for an item.
#[derive(Clone, Copy)]
pub(crate) enum Handler {
    /// A plain bottom half.
    Fn(fn()),
    /// The item heads a task slot: the executor polls the slot's future through the one
    /// function its spawn installed ([`crate::task::run`]). Data-less, so a `Handler` is one
    /// nullable pointer and telling the two apart is a null test.
    Task,
}

/// A statically allocated bottom half: a handler that an interrupt schedules and the
/// [`Executor`] runs later, with interrupts enabled.
///
/// * [`schedule`](Work::schedule) is lock-free, safe from any interrupt, and coalesces: an item
///   scheduled twice before it runs runs once.
/// * `PENDING` is cleared just before the handler runs, so scheduling from inside the handler
///   (or from an interrupt during it) means exactly one more run.
/// * An item never runs concurrently with itself: it belongs to one executor, and an executor
///   runs one item at a time.
///
/// # Examples
///
/// ```
/// use core::sync::atomic::{AtomicU32, Ordering};
/// use irqkit_defer::{Executor, Work};
///
/// static EXEC: Executor = Executor::new();
/// static KEYS: AtomicU32 = AtomicU32::new(0);
/// static KBD_BH: Work = Work::new(&EXEC, kbd_bottom_half);
///
/// fn kbd_bottom_half() {
///     KEYS.fetch_add(1, Ordering::Relaxed);
/// }
///
/// // The top half (the IRQ 1 handler) acknowledges the device and schedules:
/// assert!(KBD_BH.schedule());
/// assert!(!KBD_BH.schedule()); // coalesced: it is already pending
///
/// // Later, the kernel's main loop runs it with interrupts enabled.
/// let report = EXEC.run_until_idle().unwrap();
/// assert_eq!(report.ran, 1);
/// assert_eq!(KEYS.load(Ordering::Relaxed), 1);
/// assert_eq!(KBD_BH.runs(), 1);
/// ```
pub struct Work {
    pub(crate) state: AtomicU32,
    /// Run-queue link, written only by whoever owns the item's `QUEUED` bit.
    pub(crate) next: AtomicPtr<Work>,
    pub(crate) executor: &'static Executor,
    pub(crate) handler: Handler,
    pub(crate) priority: Priority,
    /// The item's wake lane on its executor, or `NO_LANE`: set once, by the first spawn of
    /// the task slot the item heads (bottom halves never get one).
    pub(crate) lane: AtomicU8,
    /// Completed runs; written by the executor only.
    pub(crate) runs: AtomicU32,
    /// Executor clock when the item last became pending (when the executor has a clock).
    pub(crate) queued_at: AtomicU32,
    pub(crate) timer: TimerLink,
}

impl fmt::Debug for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Work")
            .field("priority", &self.priority)
            .field("pending", &self.is_pending())
            .field("running", &self.is_running())
            .field("disable_depth", &self.disable_depth())
            .field("runs", &self.runs())
            .finish_non_exhaustive()
    }
}

impl Work {
    const_unless_loom! {
        /// A work item that runs `handler` on `executor`, at [`Priority::Normal`].
        ///
        /// `const`, so items are `static`s; no allocator is involved.
        pub fn new(executor: &'static Executor, handler: fn()) -> Self {
            Self::with_handler(executor, Handler::Fn(handler))
        }
    }

    const_unless_loom! {
        pub(crate) fn with_handler(executor: &'static Executor, handler: Handler) -> Self {
            Self {
                state: AtomicU32::new(0),
                next: AtomicPtr::new(core::ptr::null_mut()),
                executor,
                handler,
                priority: Priority::Normal,
                lane: AtomicU8::new(NO_LANE),
                runs: AtomicU32::new(0),
                queued_at: AtomicU32::new(0),
                timer: TimerLink::new(),
            }
        }
    }

    const_unless_loom! {
        /// The same item at `priority`.
        ///
        /// ```
        /// # use irqkit_defer::{Executor, Priority, Work};
        /// # static EXEC: Executor = Executor::new();
        /// # fn disk_done() {}
        /// static DISK_BH: Work = Work::new(&EXEC, disk_done).with_priority(Priority::Urgent);
        /// assert_eq!(DISK_BH.priority(), Priority::Urgent);
        /// ```
        #[must_use]
        pub fn with_priority(mut self, priority: Priority) -> Self {
            self.priority = priority;
            self
        }
    }

    /// Schedules the item: it will run once on its executor.
    ///
    /// Returns `true` when the item became pending, `false` when it already was (the schedules
    /// coalesce into one run). Safe from interrupt handlers and other threads; lock-free. Writes
    /// made before the call are visible to the handler run it leads to.
    ///
    /// A disabled item becomes pending but is not run before [`enable`](Self::enable) brings its
    /// disable depth back to zero.
    pub fn schedule(&'static self) -> bool {
        // A `&Work` is never a task slot's (slots do not hand theirs out): no lane to look at.
        WorkRef::new(self).queue()
    }

    /// Takes back a pending run (and an armed delay, see [`schedule_after`](Self::schedule_after)).
    ///
    /// Returns whether there was something to take back. A run that has already started is not
    /// interrupted; [`is_running`](Self::is_running) tells when it is over. Scheduling again
    /// before the executor has consumed the old queue entry reuses that entry's place in the
    /// queue.
    pub fn cancel(&'static self) -> bool {
        WorkRef::new(self).cancel()
    }

    /// Increments the disable depth and returns the new depth. A disabled item stays pending
    /// but does not run; a run already under way finishes.
    ///
    /// # Errors
    ///
    /// [`DisableError::TooDeep`] when the depth is already [`MAX_DISABLE_DEPTH`].
    pub fn disable(&self) -> Result<u32, DisableError> {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if disable_depth(state) == MAX_DISABLE_DEPTH {
                return Err(DisableError::TooDeep {
                    depth: MAX_DISABLE_DEPTH,
                });
            }
            match self.state.compare_exchange_weak(
                state,
                state + DISABLE_ONE,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(disable_depth(state) + 1),
                Err(actual) => state = actual,
            }
        }
    }

    /// Decrements the disable depth and returns the new depth; at zero a pending item is queued
    /// again.
    ///
    /// # Errors
    ///
    /// [`EnableError::NotDisabled`] when the item is not disabled (unbalanced `enable`).
    pub fn enable(&'static self) -> Result<u32, EnableError> {
        WorkRef::new(self).enable()
    }

    /// Whether the item is scheduled and has not started its run yet.
    pub fn is_pending(&self) -> bool {
        if self.state.load(Ordering::Acquire) & PENDING != 0 {
            return true;
        }
        let lane = self.lane.load(Ordering::Relaxed);
        lane != NO_LANE && self.executor.lanes.is_woken(lane)
    }

    /// Whether the handler is running right now.
    pub fn is_running(&self) -> bool {
        self.executor.is_running(self)
    }

    /// Whether the item is neither pending nor running (a `flush` is a wait for this).
    pub fn is_idle(&self) -> bool {
        !self.is_pending() && !self.is_running()
    }

    /// The current disable depth (0: enabled).
    pub fn disable_depth(&self) -> u32 {
        disable_depth(self.state.load(Ordering::Acquire))
    }

    /// Completed runs of the handler (wrapping).
    pub fn runs(&self) -> u32 {
        self.runs.load(Ordering::Relaxed)
    }

    /// The item's priority.
    pub fn priority(&self) -> Priority {
        self.priority
    }

    /// The executor the item runs on.
    pub fn executor(&self) -> &'static Executor {
        self.executor
    }
}

/// [`Work::disable`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DisableError {
    /// The disable depth is already at its maximum.
    TooDeep {
        /// The depth found ([`MAX_DISABLE_DEPTH`]).
        depth: u32,
    },
}

impl fmt::Display for DisableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooDeep { depth } => write!(f, "work item disabled too deeply (depth {depth})"),
        }
    }
}

impl core::error::Error for DisableError {}

/// [`Work::enable`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EnableError {
    /// `enable` without a matching `disable`: expected depth >= 1, found 0.
    NotDisabled,
}

impl fmt::Display for EnableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotDisabled => f.write_str("enable of a work item that is not disabled"),
        }
    }
}

impl core::error::Error for EnableError {}

/// What the executor does with an item it takes off its queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// Pending was cleared: call the handler.
    Run,
    /// The item was cancelled while queued: drop the queue entry.
    Cancelled,
    /// The item is disabled: it stays pending, unlinked, until `enable` queues it again.
    Parked,
}

/// A pointer to a `'static` work item that keeps the provenance it was made with.
///
/// Task slots embed their [`Work`] as the first field and find themselves again from it, so the
/// pointers of their items must cover the whole slot: they are made from the slot reference
/// ([`WorkRef::from_owner`]) and travel through the queue, the timer list and the waker as raw
/// pointers, never narrowed through a `&Work`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WorkRef(NonNull<Work>);

// SAFETY: a `WorkRef` is a `&'static Work` in raw form; `Work` is `Sync`, so sharing or sending
// the pointer is as safe as sharing the reference.
unsafe impl Send for WorkRef {}
// SAFETY: as above.
unsafe impl Sync for WorkRef {}

impl WorkRef {
    #[inline]
    pub(crate) fn new(work: &'static Work) -> Self {
        Self(NonNull::from(work))
    }

    /// A pointer to the `Work` at the start of `owner`, with the provenance of all of `owner`.
    ///
    /// # Safety
    ///
    /// `O` must be `#[repr(C)]` with a `Work` as its first field.
    #[inline]
    pub(crate) unsafe fn from_owner<O>(owner: &'static O) -> Self {
        Self(NonNull::from(owner).cast::<Work>())
    }

    /// Rebuilds a `WorkRef` from [`as_ptr`](Self::as_ptr).
    ///
    /// # Safety
    ///
    /// `ptr` must come from `WorkRef::as_ptr` (of any copy), so it points to a `'static` `Work`.
    #[inline]
    pub(crate) unsafe fn from_ptr(ptr: NonNull<Work>) -> Self {
        Self(ptr)
    }

    #[inline]
    pub(crate) fn as_ptr(self) -> *mut Work {
        self.0.as_ptr()
    }

    #[inline]
    pub(crate) fn work(self) -> &'static Work {
        // SAFETY: every `WorkRef` is made from a `&'static Work` (or the `'static` owner that
        // contains it at offset 0), so the pointee lives forever and is only shared.
        unsafe { self.0.as_ref() }
    }

    /// A schedule: of a task slot with a wake lane, a wake of the lane; of anything else,
    /// [`queue`](Self::queue).
    #[inline]
    pub(crate) fn schedule(self) -> bool {
        // Acquire pairs with the release in `spawn`'s store of the lane: a wake that takes the
        // lane happens after the lane table names the slot, and so does the round that takes
        // its bit (a plain load on x86).
        let lane = self.work().lane.load(Ordering::Acquire);
        if lane != NO_LANE {
            return self.work().executor.wake_lane(self, lane);
        }
        self.queue()
    }

    /// The schedule of an item without a lane (every bottom half: [`Work::schedule`] goes
    /// straight here).
    ///
    /// The fast path: an idle item (no flag, not disabled) on an executor without clock
    /// becomes pending and queued in one compare-exchange from 0. Everything else
    /// (coalescing, a disabled or still-queued item, the latency stamp) takes
    /// [`schedule_slow`](Self::schedule_slow) with the word the compare-exchange read.
    #[inline]
    pub(crate) fn queue(self) -> bool {
        let work = self.work();
        let executor = work.executor;
        let state = if executor.clock.is_none() {
            // AcqRel as in `schedule_slow`: the release publishes the caller's writes to the
            // run that clears PENDING.
            match work.state.compare_exchange(
                0,
                PENDING | QUEUED,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    executor.push(self);
                    return true;
                }
                Err(actual) => actual,
            }
        } else {
            work.state.load(Ordering::Relaxed)
        };
        self.schedule_slow(state)
    }

    /// Every schedule but the fast one; `state` is a value of the item's word read last.
    #[inline(never)]
    fn schedule_slow(self, mut state: u32) -> bool {
        let work = self.work();
        let executor = work.executor;
        if state & PENDING == 0 {
            if let Some(clock) = executor.clock {
                // Stamped before the item becomes visible as pending, so the executor never
                // reads a stamp older than the schedule that queued the run.
                work.queued_at.store(clock(), Ordering::Relaxed);
            }
        }
        loop {
            let newly_pending = state & PENDING == 0;
            let push = newly_pending && state & QUEUED == 0 && disable_depth(state) == 0;
            let new = state | PENDING | if push { QUEUED } else { 0 };
            // An RMW even when coalescing: its release publishes the caller's writes to the
            // run that clears PENDING.
            match work
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    if push {
                        executor.push(self);
                    }
                    if !newly_pending {
                        executor.stats.count_coalesced();
                    }
                    return newly_pending;
                }
                Err(actual) => state = actual,
            }
        }
    }

    pub(crate) fn cancel(self) -> bool {
        let work = self.work();
        let was_armed = work.executor.disarm(self);
        let was_pending = work.state.fetch_and(!PENDING, Ordering::AcqRel) & PENDING != 0;
        if was_pending {
            work.executor.stats.count_cancel();
        }
        was_pending || was_armed
    }

    pub(crate) fn enable(self) -> Result<u32, EnableError> {
        let work = self.work();
        let mut state = work.state.load(Ordering::Relaxed);
        loop {
            let depth = disable_depth(state);
            if depth == 0 {
                return Err(EnableError::NotDisabled);
            }
            let push = depth == 1 && state & (PENDING | QUEUED) == PENDING;
            let new = (state - DISABLE_ONE) | if push { QUEUED } else { 0 };
            match work
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    if push {
                        work.executor.push(self);
                    }
                    return Ok(depth - 1);
                }
                Err(actual) => state = actual,
            }
        }
    }

    /// The executor took the item off its queue (it owned `QUEUED`): decide what to do with it.
    ///
    /// The fast path is the usual case, pending and enabled: one compare-exchange from exactly
    /// `PENDING | QUEUED` to 0.
    #[inline]
    pub(crate) fn take(self) -> Taken {
        // Acquire: see what the schedulers published. Release: our reads of `next` happen
        // before a scheduler that sees QUEUED clear links the item again.
        match self.work().state.compare_exchange(
            PENDING | QUEUED,
            0,
            Ordering::AcqRel,
            Ordering::Relaxed,
        ) {
            Ok(_) => Taken::Run,
            Err(actual) => self.take_slow(actual),
        }
    }

    /// [`take`](Self::take) of a cancelled or disabled item, or after a lost race.
    #[cold]
    #[inline(never)]
    fn take_slow(self, mut state: u32) -> Taken {
        let work = self.work();
        loop {
            let (new, taken) = if state & PENDING == 0 {
                (state & !QUEUED, Taken::Cancelled)
            } else if disable_depth(state) > 0 {
                (state & !QUEUED, Taken::Parked)
            } else {
                (state & !(QUEUED | PENDING), Taken::Run)
            };
            // Orderings as in `take`.
            match work
                .state
                .compare_exchange_weak(state, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return taken,
                Err(actual) => state = actual,
            }
        }
    }

    /// Counts a completed run (only the executor's runner writes `runs`).
    #[inline]
    pub(crate) fn count_run(self) {
        let runs = &self.work().runs;
        runs.store(
            runs.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }
}
