//! Wake lanes: the short path from a task's waker to its poll.
//!
//! Through the queues, a wake + poll costs four read-modify-writes: the wake marks the item
//! pending and pushes it, the runner swaps the queue out and clears the item's pending flag.
//! Bottom halves need the per-item flag (cancel and disable act on it) and the queue (FIFO
//! order). A task needs neither, so the first [`LANES`] task slots of [`Priority::Normal`]
//! spawned on an executor each get a lane instead: one bit of a word.
//!
//! * A wake sets the bit: one atomic OR, which also tells whether the bit was set already
//!   (wakes coalesce) and publishes the waker's writes (release).
//! * The runner takes all bits in one swap (acquire), a round, and polls the round's tasks in
//!   lane order. Their bits are clear from the swap on, so a wake during a poll means one more
//!   poll, in the next round (and a wake between the swap and the poll, one extra poll).
//!
//! Two read-modify-writes per wake + poll, and one of them is shared by every task in the
//! round. A slot keeps its lane for good (slots are `static`): lanes are never handed back,
//! so a stale waker can only ever reach the slot the lane belongs to. Slots spawned after the
//! lanes are all taken go through the queues, and so do urgent slots: they are few, and the
//! runner looks at the urgent queues before every item, where a lane word would be one more
//! pair of loads in every look.

use core::ptr::{self, NonNull};

use super::Executor;
use crate::loom_const::const_unless_loom;
use crate::sync::{AtomicPtr, AtomicU32, Ordering};
use crate::work::{Priority, Work, WorkRef};

/// How many task slots per executor get a wake lane.
pub(crate) const LANES: usize = u32::BITS as usize;

/// A work item without a lane (every bottom half, and task slots beyond the first [`LANES`]).
pub(crate) const NO_LANE: u8 = u8::MAX;

/// An executor's lanes.
pub(crate) struct Lanes {
    /// The lanes woken since the runner last took a round.
    woken: AtomicU32,
    /// The lanes of the round the runner took and has not polled yet. Written by the runner
    /// only; atomic so that `is_woken` and `has_work` may read it from anywhere.
    round: AtomicU32,
    /// The lanes handed out. Bits are never cleared: a slot keeps its lane.
    taken: AtomicU32,
    /// Each lane's task slot (its work item, with the provenance of the whole slot), written
    /// once, before the lane is given to the slot.
    items: [AtomicPtr<Work>; LANES],
}

impl Lanes {
    const_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                woken: AtomicU32::new(0),
                round: AtomicU32::new(0),
                taken: AtomicU32::new(0),
                items: new_items(),
            }
        }
    }

    /// Gives `item` (a task slot's work item) a free lane and returns it, or [`NO_LANE`] when
    /// all are taken or the slot is urgent. Called by `spawn` while it holds the slot, so one
    /// call per slot at a time.
    pub(crate) fn assign(&self, item: WorkRef) -> u8 {
        if item.work().priority != Priority::Normal {
            return NO_LANE;
        }
        let mut taken = self.taken.load(Ordering::Relaxed);
        loop {
            let free = !taken;
            if free == 0 {
                return NO_LANE;
            }
            let lane = free.trailing_zeros();
            match self.taken.compare_exchange_weak(
                taken,
                taken | 1 << lane,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    // Published to wakers by `spawn`'s release store of the lane.
                    self.items[lane as usize].store(item.as_ptr(), Ordering::Relaxed);
                    // `lane < 32`, so it fits.
                    return lane as u8;
                }
                Err(actual) => taken = actual,
            }
        }
    }

    /// Whether `lane` is woken and its poll has not started.
    pub(crate) fn is_woken(&self, lane: u8) -> bool {
        (self.woken.load(Ordering::Acquire) | self.round.load(Ordering::Relaxed)) & 1 << lane != 0
    }

    /// The lanes woken since the last round started.
    #[inline(always)]
    pub(crate) fn woken(&self) -> u32 {
        self.woken.load(Ordering::Relaxed)
    }

    /// Whether any lane is woken or in the round.
    pub(crate) fn has_work(&self) -> bool {
        self.woken.load(Ordering::Acquire) | self.round.load(Ordering::Relaxed) != 0
    }

    /// The lanes of the round the runner has not finished.
    #[inline(always)]
    pub(crate) fn round(&self) -> u32 {
        self.round.load(Ordering::Relaxed)
    }

    /// Starts a round: takes every lane woken so far, and returns them. Runner only.
    #[inline(always)]
    pub(crate) fn start_round(&self) -> u32 {
        // Acquire pairs with the wakes' release: what the wakers wrote is visible to the polls.
        let round = self.woken.swap(0, Ordering::Acquire);
        self.round.store(round, Ordering::Relaxed);
        round
    }

    /// Takes the lowest lane of `round` (non-zero, the current round) out of the round and
    /// returns its task slot. Runner only.
    ///
    /// A wake loads the lane with acquire, after `assign` stored the slot here, and the round
    /// synchronises with the wake, so the slot is always found; `None` (a lane without slot)
    /// is only the safe answer to a state no execution reaches.
    #[inline(always)]
    pub(crate) fn take(&self, round: u32) -> Option<WorkRef> {
        debug_assert_ne!(round, 0, "a lane is taken from a non-empty round");
        self.round
            .store(round & round.wrapping_sub(1), Ordering::Relaxed);
        let lane = round.trailing_zeros() as usize;
        let item = NonNull::new(self.items.get(lane)?.load(Ordering::Relaxed))?;
        // SAFETY: `assign` stores only `WorkRef::as_ptr` values of task slots.
        Some(unsafe { WorkRef::from_ptr(item) })
    }
}

#[cfg(not(loom))]
const fn new_items() -> [AtomicPtr<Work>; LANES] {
    [const { AtomicPtr::new(ptr::null_mut()) }; LANES]
}

#[cfg(loom)]
fn new_items() -> [AtomicPtr<Work>; LANES] {
    core::array::from_fn(|_| AtomicPtr::new(ptr::null_mut()))
}

impl Executor {
    /// Wakes the task of `lane` (the lane of `item`): [`WorkRef::schedule`] of a task slot with
    /// a lane. Returns whether the poll is newly scheduled.
    ///
    /// The common case, an executor without clock or pender and a task not woken yet, is one
    /// `lock bts` on x86 and needs no registers saved; everything else is out of line.
    #[inline]
    pub(crate) fn wake_lane(&self, item: WorkRef, lane: u8) -> bool {
        if self.clock.is_some() || self.pender.is_some() {
            return self.wake_lane_slow(item, lane);
        }
        let bit = 1 << lane;
        // Release: the waker's writes are visible to the round that takes the bit (and to any
        // later round: every change of the word is a read-modify-write).
        let newly = self.lanes.woken.fetch_or(bit, Ordering::Release) & bit == 0;
        if !newly {
            self.count_coalesced();
        }
        newly
    }

    /// [`wake_lane`](Self::wake_lane) on an executor with a clock or a pender.
    #[inline(never)]
    fn wake_lane_slow(&self, item: WorkRef, lane: u8) -> bool {
        let work = item.work();
        let woken = &self.lanes.woken;
        let bit = 1 << lane;
        if let Some(clock) = self.clock {
            if woken.load(Ordering::Relaxed) & bit == 0 {
                // Stamped before the bit is set, so the poll never reads an older stamp.
                work.queued_at.store(clock(), Ordering::Relaxed);
            }
        }
        // Release: as in `wake_lane`.
        let before = woken.fetch_or(bit, Ordering::Release);
        if before == 0 {
            if let Some(pend) = self.pender {
                pend();
            }
        }
        let newly = before & bit == 0;
        if !newly {
            self.count_coalesced();
        }
        newly
    }

    /// Counts a coalesced wake, out of line: the counter's read-modify-write stays off the
    /// wake's fast path.
    #[cold]
    #[inline(never)]
    fn count_coalesced(&self) {
        self.stats.count_coalesced();
    }
}
