//! Delayed work: "schedule after N ticks", driven by [`Executor::tick`] from the timer
//! interrupt, and the [`sleep`] future for tasks.
//!
//! Armed items sit in one list per executor, sorted by deadline (ties in arming order), linked
//! through their own [`TimerLink`]: no allocation, no fixed capacity. The list changes only in a
//! critical section, so a tick (interrupt) and an arm (thread) never see it half-updated; a tick
//! looks only at the head, so its cost is one comparison plus one schedule per expired item.
//! Deadlines are tick counts compared with wrapping arithmetic, hence the [`MAX_DELAY`] limit.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::ptr::{self, NonNull};
use core::task::{Context, Poll};

use crate::executor::Executor;
use crate::loom_const::const_unless_loom;
use crate::sync::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use crate::task::work_of_waker;
use crate::work::{Work, WorkRef};

/// The longest delay, in ticks: 2^31 - 1 (deadlines are compared with wrapping arithmetic).
pub const MAX_DELAY: u32 = i32::MAX as u32;

/// The timer-list fields of a work item. All accesses happen inside a critical section.
pub(crate) struct TimerLink {
    next: AtomicPtr<Work>,
    deadline: AtomicU32,
    armed: AtomicBool,
}

impl TimerLink {
    const_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                next: AtomicPtr::new(ptr::null_mut()),
                deadline: AtomicU32::new(0),
                armed: AtomicBool::new(false),
            }
        }
    }
}

/// Ticks from `now` until `deadline` (negative: expired).
fn remaining(deadline: u32, now: u32) -> i32 {
    deadline.wrapping_sub(now) as i32
}

impl Executor {
    /// Advances the executor's tick count by one and schedules every delayed item whose delay
    /// has expired. Call it from the timer interrupt; returns how many items it scheduled.
    ///
    /// The expired items are scheduled inside a critical section, so the [`Pender`] (if any)
    /// is called there too. If the pender panics, the items scheduled so far stay scheduled
    /// and counted, and the rest stay armed: the next tick fires them.
    ///
    /// [`Pender`]: crate::Pender
    pub fn tick(&self) -> u32 {
        critical_section::with(|_| {
            let now = self.now.load(Ordering::Relaxed).wrapping_add(1);
            self.now.store(now, Ordering::Relaxed);
            let mut fired = 0;
            while let Some(head) = NonNull::new(self.timers.load(Ordering::Relaxed)) {
                // SAFETY: the timer list holds only `WorkRef::as_ptr` values (see `arm`).
                let item = unsafe { WorkRef::from_ptr(head) };
                let link = &item.work().timer;
                if remaining(link.deadline.load(Ordering::Relaxed), now) > 0 {
                    break;
                }
                self.timers
                    .store(link.next.load(Ordering::Relaxed), Ordering::Relaxed);
                link.armed.store(false, Ordering::Relaxed);
                // Counted before the schedule, whose pender is user code that may unwind: the
                // list and the counter are consistent at every call out.
                self.stats.timers_fired.fetch_add(1, Ordering::Relaxed);
                fired += 1;
                item.schedule();
            }
            fired
        })
    }

    /// Ticks counted so far by [`tick`](Self::tick) (wrapping).
    pub fn now(&self) -> u32 {
        self.now.load(Ordering::Relaxed)
    }

    /// Whether any delayed item is armed.
    pub fn has_timers(&self) -> bool {
        !self.timers.load(Ordering::Relaxed).is_null()
    }

    /// Arms `item` to fire `ticks` ticks from now; `replace` re-arms an armed item, otherwise
    /// an armed item keeps its deadline. Returns whether the item was armed before.
    fn arm(&self, item: WorkRef, ticks: u32, replace: bool) -> bool {
        critical_section::with(|_| {
            let was_armed = item.work().timer.armed.load(Ordering::Relaxed);
            if was_armed {
                if !replace {
                    return true;
                }
                self.unlink(item);
            }
            let now = self.now.load(Ordering::Relaxed);
            let link = &item.work().timer;
            link.deadline
                .store(now.wrapping_add(ticks), Ordering::Relaxed);
            // Find the first entry that expires strictly later: equal deadlines stay FIFO.
            let mut prev: Option<WorkRef> = None;
            let mut cursor = self.timers.load(Ordering::Relaxed);
            while let Some(ptr) = NonNull::new(cursor) {
                // SAFETY: the timer list holds only `WorkRef::as_ptr` values.
                let other = unsafe { WorkRef::from_ptr(ptr) };
                let other_link = &other.work().timer;
                if remaining(other_link.deadline.load(Ordering::Relaxed), now) > ticks as i32 {
                    break;
                }
                prev = Some(other);
                cursor = other_link.next.load(Ordering::Relaxed);
            }
            link.next.store(cursor, Ordering::Relaxed);
            match prev {
                Some(prev) => prev
                    .work()
                    .timer
                    .next
                    .store(item.as_ptr(), Ordering::Relaxed),
                None => self.timers.store(item.as_ptr(), Ordering::Relaxed),
            }
            link.armed.store(true, Ordering::Relaxed);
            was_armed
        })
    }

    /// Removes an armed item from the list. Call inside a critical section.
    fn unlink(&self, item: WorkRef) {
        let mut prev: Option<WorkRef> = None;
        let mut cursor = self.timers.load(Ordering::Relaxed);
        while let Some(ptr) = NonNull::new(cursor) {
            // SAFETY: the timer list holds only `WorkRef::as_ptr` values.
            let other = unsafe { WorkRef::from_ptr(ptr) };
            let next = other.work().timer.next.load(Ordering::Relaxed);
            if other == item {
                match prev {
                    Some(prev) => prev.work().timer.next.store(next, Ordering::Relaxed),
                    None => self.timers.store(next, Ordering::Relaxed),
                }
                break;
            }
            prev = Some(other);
            cursor = next;
        }
        item.work().timer.armed.store(false, Ordering::Relaxed);
    }

    /// Disarms `item`'s delay; returns whether it was armed.
    pub(crate) fn disarm(&self, item: WorkRef) -> bool {
        // Unlocked peek: an item that was never armed (the common cancel) skips the critical
        // section. A concurrent arm is ordered either way, as with any cancel/arm race.
        if !item.work().timer.armed.load(Ordering::Relaxed) {
            return false;
        }
        critical_section::with(|_| {
            let armed = item.work().timer.armed.load(Ordering::Relaxed);
            if armed {
                self.unlink(item);
            }
            armed
        })
    }
}

impl WorkRef {
    pub(crate) fn schedule_after(self, ticks: u32, replace: bool) -> Result<bool, DelayError> {
        if ticks > MAX_DELAY {
            return Err(DelayError::TooLong {
                requested: ticks,
                max: MAX_DELAY,
            });
        }
        if ticks == 0 {
            let was_armed = self.work().executor.disarm(self);
            if was_armed && !replace {
                return Ok(true);
            }
            self.schedule();
            return Ok(was_armed);
        }
        Ok(self.work().executor.arm(self, ticks, replace))
    }
}

impl Work {
    /// Schedules the item `ticks` [`Executor::tick`]s from now (0: now). An item whose delay is
    /// already armed keeps its deadline. Returns whether a delay was already armed (nothing
    /// changed), like Linux's `queue_delayed_work` returning false.
    ///
    /// [`cancel`](Self::cancel) disarms the delay.
    ///
    /// # Errors
    ///
    /// [`DelayError::TooLong`] when `ticks` exceeds [`MAX_DELAY`].
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_defer::{Executor, Work};
    ///
    /// static EXEC: Executor = Executor::new();
    /// static BLINK: Work = Work::new(&EXEC, || {});
    ///
    /// assert_eq!(BLINK.schedule_after(2), Ok(false));
    /// EXEC.tick(); // from the timer interrupt
    /// assert!(!BLINK.is_pending());
    /// EXEC.tick();
    /// assert!(BLINK.is_pending());
    /// ```
    pub fn schedule_after(&'static self, ticks: u32) -> Result<bool, DelayError> {
        WorkRef::new(self).schedule_after(ticks, false)
    }

    /// Like [`schedule_after`](Self::schedule_after), but an armed delay is replaced by the new
    /// one (Linux's `mod_delayed_work`). Returns whether a delay was armed before.
    ///
    /// # Errors
    ///
    /// [`DelayError::TooLong`] when `ticks` exceeds [`MAX_DELAY`].
    pub fn reschedule_after(&'static self, ticks: u32) -> Result<bool, DelayError> {
        WorkRef::new(self).schedule_after(ticks, true)
    }

    /// Whether a delay is armed.
    pub fn is_delayed(&self) -> bool {
        self.timer.armed.load(Ordering::Relaxed)
    }
}

/// A delay was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DelayError {
    /// The delay is longer than the wrapping tick arithmetic can order.
    TooLong {
        /// The delay asked for, in ticks.
        requested: u32,
        /// The longest delay allowed ([`MAX_DELAY`]).
        max: u32,
    },
    /// [`sleep`] was polled by something other than an irqkit-defer task (its waker is not one
    /// of ours), so there is no tick-driven item to wake it.
    NotInTask,
}

impl fmt::Display for DelayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { requested, max } => {
                write!(f, "delay of {requested} ticks exceeds the maximum of {max}")
            }
            Self::NotInTask => f.write_str("sleep polled outside an irqkit-defer task"),
        }
    }
}

impl core::error::Error for DelayError {}

/// Suspends the calling task for `ticks` ticks of its executor, counted from the first poll
/// (the `timer_sleep` of Pintos without the busy-wait: the timer interrupt's
/// [`Executor::tick`] wakes the task).
///
/// Uses the task's own delayed-work timer, so a task has one sleep at a time; a sleep dropped
/// early leaves at most one spurious wake-up behind.
///
/// # Errors
///
/// The future resolves to [`DelayError::TooLong`] for `ticks > MAX_DELAY` and to
/// [`DelayError::NotInTask`] when polled outside a [`TaskSlot`](crate::TaskSlot) task.
///
/// # Examples
///
/// ```
/// use irqkit_defer::{sleep, Executor, TaskSlot};
///
/// static EXEC: Executor = Executor::new();
/// static SLEEPER: TaskSlot<128> = TaskSlot::new(&EXEC);
///
/// SLEEPER.spawn(async {
///     sleep(3).await.unwrap();
/// }).unwrap();
/// EXEC.run_until_idle().unwrap(); // first poll: arms the timer
/// for _ in 0..3 {
///     assert!(SLEEPER.is_occupied());
///     EXEC.tick(); // the timer interrupt
///     EXEC.run_until_idle().unwrap();
/// }
/// assert!(!SLEEPER.is_occupied()); // finished after the third tick
/// ```
pub fn sleep(ticks: u32) -> Sleep {
    Sleep {
        ticks,
        deadline: None,
    }
}

/// The future of [`sleep`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    ticks: u32,
    deadline: Option<u32>,
}

impl Future for Sleep {
    type Output = Result<(), DelayError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(item) = work_of_waker(cx.waker()) else {
            return Poll::Ready(Err(DelayError::NotInTask));
        };
        if this.ticks > MAX_DELAY {
            return Poll::Ready(Err(DelayError::TooLong {
                requested: this.ticks,
                max: MAX_DELAY,
            }));
        }
        let executor = item.work().executor;
        let now = executor.now();
        let deadline = *this.deadline.get_or_insert(now.wrapping_add(this.ticks));
        let left = remaining(deadline, now);
        if left <= 0 {
            return Poll::Ready(Ok(()));
        }
        // Re-armed on every pending poll: a spurious wake-up must not lose the timer.
        executor.arm(item, left as u32, true);
        Poll::Pending
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;

    use super::*;
    use core::sync::atomic::AtomicU32 as StdU32;

    static FIRED: StdU32 = StdU32::new(0);

    #[test]
    fn deadlines_order_and_fire_across_the_tick_wraparound() {
        static EXEC: Executor = Executor::new();
        static LATE: Work = Work::new(&EXEC, || {
            FIRED.fetch_add(100, core::sync::atomic::Ordering::Relaxed);
        });
        static EARLY: Work = Work::new(&EXEC, || {
            FIRED.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
        });
        EXEC.now.store(u32::MAX - 1, Ordering::Relaxed);
        LATE.schedule_after(4).unwrap(); // deadline 2, after the wrap
        EARLY.schedule_after(1).unwrap(); // deadline u32::MAX, before it
        assert_eq!(EXEC.tick(), 1);
        assert_eq!(EXEC.now(), u32::MAX);
        EXEC.run_until_idle().unwrap();
        assert_eq!(FIRED.load(core::sync::atomic::Ordering::Relaxed), 1);
        assert_eq!(EXEC.tick(), 0); // now 0
        assert_eq!(EXEC.tick(), 0); // now 1
        assert_eq!(EXEC.tick(), 1); // now 2: the late one
        EXEC.run_until_idle().unwrap();
        assert_eq!(FIRED.load(core::sync::atomic::Ordering::Relaxed), 101);
    }
}
