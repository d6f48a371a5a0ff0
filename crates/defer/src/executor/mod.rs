//! The executor: queues of work items per priority, wake lanes for tasks, a budgeted `run`, and
//! the idle path.
//!
//! Each priority has two queues:
//!
//! * `incoming`: a lock-free stack that schedulers (interrupts, other threads) push on;
//! * `ready`: a list owned by the running executor, refilled from `incoming` only when empty and
//!   reversed on the way, so items run in the order they were scheduled (FIFO).
//!
//! Normal-priority task slots also have wake lanes (see `lanes`): a word of bits that the
//! runner takes as a whole, a round, when it refills `ready`, and polls after it.
//!
//! Before every item the urgent queues are looked at first, so an urgent bottom half scheduled
//! during a storm of ordinary work waits for at most the run in progress.

mod budget;
mod lanes;
mod runner;
mod stats;

pub use budget::{Budget, RunError, RunReport, Stop};
pub(crate) use lanes::NO_LANE;
pub use runner::Runner;
pub(crate) use stats::Counters;
pub use stats::Stats;

use lanes::Lanes;
use runner::Finish;

use core::convert::Infallible;
use core::fmt;
use core::ptr::{self, NonNull};

use crate::fmt::trace;
use crate::loom_const::const_unless_loom;
use crate::sync::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use crate::work::{Handler, Priority, Taken, WorkRef};

/// A free-running clock in the caller's units (TSC, SysTick, PIT ticks...), read with
/// wrapping arithmetic: differences must stay below 2^32 units.
///
/// It must not panic. If it does, nothing is left inconsistent, but the operation that read it
/// is cut short: a `schedule` does not happen, and a run whose item was already taken off the
/// queue is lost (the item is idle again and can be scheduled anew).
pub type Clock = fn() -> u32;

/// Called when work is queued on an idle queue: "please call `run` soon" (set a flag, trigger a
/// software interrupt, record a trace). Runs in the scheduler's context, maybe an interrupt.
pub type Pender = fn();

/// An item the runner popped.
#[derive(Clone, Copy)]
enum Next {
    /// From the queues: `take` decides whether it runs.
    Queued(WorkRef),
    /// A task slot from a round of woken lanes: it runs.
    Lane(WorkRef),
}

/// A run queue for [`Work`](crate::Work) items and [`TaskSlot`](crate::TaskSlot) tasks.
///
/// `const`-constructible: declare it as a `static` and refer to it from the items.
///
/// # Examples
///
/// The kernel main loop of an x86 kernel: run a budget of work, then sleep until an interrupt
/// unless work is already queued. `irqkit-hal`'s `interrupts::idle` checks `has_work` with
/// interrupts masked and then executes `sti; hlt` as one step, so an interrupt that queues work
/// after the check still ends the sleep; it runs outside any critical section, so interrupt
/// handlers never run inside one:
///
/// ```no_run
/// use irqkit_defer::{Budget, Executor};
///
/// static EXEC: Executor = Executor::new();
///
/// fn kernel_main() -> ! {
///     // ... install IDT, unmask IRQs, enable interrupts ...
///     # mod interrupts { pub fn idle(_: impl FnOnce() -> bool) -> Result<(), ()> { Ok(()) } }
///     loop {
///         let report = EXEC.run(Budget::items(32)).expect("one runner, no time budget");
///         if !report.more_work {
///             // irqkit_hal::x86::interrupts::idle
///             interrupts::idle(|| EXEC.has_work()).expect("interrupts enabled");
///         }
///     }
/// }
/// ```
///
/// On Cortex-M, where `wfi` wakes on a pending interrupt without taking it, the same loop is
/// [`run_forever`](Executor::run_forever) with `cortex_m::asm::wfi` as the wait.
pub struct Executor {
    incoming: [AtomicPtr<crate::Work>; Priority::COUNT],
    ready: [AtomicPtr<crate::Work>; Priority::COUNT],
    /// The wake lanes of the first normal-priority task slots spawned here.
    pub(crate) lanes: Lanes,
    /// Claimed by the one [`Runner`]: runs never overlap.
    running: AtomicBool,
    /// The item whose handler is running (null: none); written by the runner only.
    current: AtomicPtr<crate::Work>,
    pub(crate) clock: Option<Clock>,
    pender: Option<Pender>,
    pub(crate) stats: Counters,
    /// Timer ticks so far (wrapping), advanced by [`tick`](Executor::tick).
    pub(crate) now: AtomicU32,
    /// Head of the delayed-work list, sorted by deadline; changed only in a critical section.
    pub(crate) timers: AtomicPtr<crate::Work>,
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("has_work", &self.has_work())
            .field("running", &self.running.load(Ordering::Relaxed))
            .field("has_clock", &self.clock.is_some())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Default for Executor {
    fn default() -> Self {
        Self::new()
    }
}

impl Executor {
    const_unless_loom! {
        /// An executor without clock or pender.
        pub fn new() -> Self {
            Self {
                incoming: [
                    AtomicPtr::new(ptr::null_mut()),
                    AtomicPtr::new(ptr::null_mut()),
                ],
                ready: [AtomicPtr::new(ptr::null_mut()), AtomicPtr::new(ptr::null_mut())],
                lanes: Lanes::new(),
                running: AtomicBool::new(false),
                current: AtomicPtr::new(ptr::null_mut()),
                clock: None,
                pender: None,
                stats: Counters::new(),
                now: AtomicU32::new(0),
                timers: AtomicPtr::new(ptr::null_mut()),
            }
        }
    }

    const_unless_loom! {
        /// The same executor with a clock: enables time budgets and schedule-to-run latency.
        ///
        /// The clock is read on every schedule that makes an item pending (maybe in an
        /// interrupt), and before and after every run.
        #[must_use]
        pub fn with_clock(mut self, clock: Clock) -> Self {
            self.clock = Some(clock);
            self
        }
    }

    const_unless_loom! {
        /// The same executor with a pender, called when an empty queue gets work.
        #[must_use]
        pub fn with_pender(mut self, pender: Pender) -> Self {
            self.pender = Some(pender);
            self
        }
    }

    /// Pushes an item whose `QUEUED` bit the caller just set.
    #[inline]
    pub(crate) fn push(&self, work: WorkRef) {
        let head = &self.incoming[work.work().priority.index()];
        let mut top = head.load(Ordering::Relaxed);
        loop {
            work.work().next.store(top, Ordering::Relaxed);
            // Release: the link and everything the scheduler wrote before are visible to the
            // executor's acquiring swap.
            match head.compare_exchange_weak(
                top,
                work.as_ptr(),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => top = actual,
            }
        }
        if top.is_null() {
            if let Some(pend) = self.pender {
                pend();
            }
        }
    }

    /// The next urgent item, in scheduling order. Only the run-lock holder calls.
    ///
    /// Inlined, like `pop_any`, so that `Runner::run_items` checks empty queues in place.
    #[inline(always)]
    fn pop_urgent(&self) -> Option<WorkRef> {
        let priority = Priority::Urgent.index();
        let head = self.ready[priority].load(Ordering::Relaxed);
        // Both queues empty, in one test (only addresses are compared).
        if head.addr() | self.incoming[priority].load(Ordering::Relaxed).addr() == 0 {
            return None;
        }
        match NonNull::new(head) {
            Some(head) => Some(self.pop_ready(priority, head)),
            None => Some(self.take_incoming(priority)),
        }
    }

    /// The next normal item or task. Only the run-lock holder calls.
    ///
    /// The runner works in rounds. A round starts when the previous one is over and takes
    /// everything queued or woken so far: first the queued items, in scheduling order (the
    /// `ready` list), then the woken lanes, in lane order. Nothing scheduled waits for more
    /// than the round in progress.
    #[inline(always)]
    fn pop_normal(&self) -> Option<Next> {
        let priority = Priority::Normal.index();
        loop {
            // The round in progress: its queued items, then its lanes.
            let head = self.ready[priority].load(Ordering::Relaxed);
            let mut round = self.lanes.round();
            if head.addr() | round as usize == 0 {
                // The round is over: start the next one with everything queued or woken so
                // far. Only addresses and bits are compared: one test.
                let top = self.incoming[priority].load(Ordering::Relaxed);
                let woken = self.lanes.woken();
                if top.addr() | woken as usize == 0 {
                    return None;
                }
                if woken != 0 {
                    round = self.lanes.start_round();
                }
                if !top.is_null() {
                    return Some(Next::Queued(self.take_incoming(priority)));
                }
            } else if let Some(head) = NonNull::new(head) {
                return Some(Next::Queued(self.pop_ready(priority, head)));
            }
            // Here `round` is not empty (the swap read at least the bits seen before: only
            // the runner clears them).
            if let Some(item) = self.lanes.take(round) {
                return Some(Next::Lane(item));
            }
            // A lane without slot (see `Lanes::take`): nothing to run.
        }
    }

    /// Unlinks `head`, the head of the ready list of `priority`.
    #[inline(always)]
    fn pop_ready(&self, priority: usize, head: NonNull<crate::Work>) -> WorkRef {
        // SAFETY: only `push` stores non-null pointers in the queues, and it stores
        // `WorkRef::as_ptr` values; `take_incoming` moves them from `incoming` to `ready`
        // unchanged.
        let item = unsafe { WorkRef::from_ptr(head) };
        // Read the link before `take` gives up QUEUED: after that a scheduler may relink it.
        self.ready[priority].store(item.work().next.load(Ordering::Relaxed), Ordering::Relaxed);
        item
    }

    /// Takes the whole `incoming` stack of `priority` (non-empty; `ready` is empty): returns
    /// its oldest item and leaves the others in `ready`, oldest first.
    #[inline(always)]
    fn take_incoming(&self, priority: usize) -> WorkRef {
        // Acquire pairs with the pushes' release: links and published data are visible.
        let top = self.incoming[priority].swap(ptr::null_mut(), Ordering::Acquire);
        debug_assert!(
            !top.is_null(),
            "the runner's swap found the stack it saw empty"
        );
        // SAFETY: the caller saw `incoming` non-null, and only the run-lock holder takes from
        // it; pushes only add. The swap reads the newest value, pushed after the non-null one
        // we saw or that one itself.
        let top = unsafe { NonNull::new_unchecked(top) };
        // The stack is newest-first. Its last (oldest) item runs now; the others are reversed
        // into the (empty) ready list, so items run in scheduling order. Every link is read
        // here, before `take` gives up QUEUED.
        // SAFETY: a pointer `push` stored (see `pop_ready`).
        let mut item = unsafe { WorkRef::from_ptr(top) };
        let mut list = ptr::null_mut();
        while let Some(next) = NonNull::new(item.work().next.load(Ordering::Relaxed)) {
            item.work().next.store(list, Ordering::Relaxed);
            list = item.as_ptr();
            // SAFETY: a link `push` stored, to an item it pushed (see `pop_ready`).
            item = unsafe { WorkRef::from_ptr(next) };
        }
        if !list.is_null() {
            self.ready[priority].store(list, Ordering::Relaxed);
        }
        item
    }

    #[inline(always)]
    fn pop_any(&self) -> Option<Next> {
        match self.pop_urgent() {
            Some(item) => Some(Next::Queued(item)),
            None => self.pop_normal(),
        }
    }

    /// Takes a popped item for a run: `Some` when its handler is to run, `None` when the entry
    /// is consumed without a run (a cancelled or disabled item).
    #[inline(always)]
    fn take(next: Next) -> Option<WorkRef> {
        match next {
            Next::Queued(item) => match item.take() {
                Taken::Run => Some(item),
                Taken::Cancelled | Taken::Parked => None,
            },
            // The round's swap cleared its bit: nothing else to take.
            Next::Lane(item) => Some(item),
        }
    }

    /// Whether any item is queued (possibly a cancelled one whose entry is not consumed yet).
    pub fn has_work(&self) -> bool {
        // Every queue is read (no early exit), and only addresses are compared: one test.
        self.incoming
            .iter()
            .chain(self.ready.iter())
            .fold(0, |queued, queue| {
                queued | queue.load(Ordering::Acquire).addr()
            })
            != 0
            || self.lanes.has_work()
    }

    /// Runs queued items until the queues are empty or `budget` is spent: claims the
    /// executor, runs, and releases it. A kernel loop can [`claim`](Self::claim) once instead
    /// and save the claim per call.
    ///
    /// Items run in priority order: urgent ones first, FIFO; normal ones in rounds, each the
    /// queued items in scheduling order and then the woken lane tasks in lane order (see the
    /// crate docs). An item's pending flag is cleared just before its handler is called (a
    /// lane task's when its round starts). When a time budget is set, at least one item runs
    /// per call, so every call makes progress. The report's [`stop`](RunReport::stop) is
    /// [`Stop::Idle`] whenever no work is left, even if the budget ran out on the last item.
    ///
    /// # Errors
    ///
    /// * [`RunError::Busy`] when the executor is claimed (`run` called from a handler, from an
    ///   interrupt that preempted `run`, from another thread, or while a [`Runner`] exists).
    /// * [`RunError::NoClock`] when `budget` has a time limit and the executor has no clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_defer::{Budget, Executor, Stop, Work};
    ///
    /// static EXEC: Executor = Executor::new();
    /// static A: Work = Work::new(&EXEC, || {});
    /// static B: Work = Work::new(&EXEC, || {});
    ///
    /// A.schedule();
    /// B.schedule();
    /// let report = EXEC.run(Budget::items(1)).unwrap();
    /// assert_eq!((report.ran, report.stop, report.more_work), (1, Stop::ItemBudget, true));
    /// let report = EXEC.run(Budget::items(1)).unwrap();
    /// assert_eq!((report.ran, report.stop, report.more_work), (1, Stop::Idle, false));
    /// ```
    pub fn run(&self, budget: Budget) -> Result<RunReport, RunError> {
        self.claim()?.run(budget)
    }

    /// Claims the executor for one caller: the returned [`Runner`] runs items without a
    /// per-call claim, and nothing else can run this executor until it is dropped.
    ///
    /// # Errors
    ///
    /// [`RunError::Busy`] when the executor is already claimed.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_defer::{Budget, Executor, RunError};
    /// static EXEC: Executor = Executor::new();
    ///
    /// let mut runner = EXEC.claim().unwrap();
    /// assert_eq!(EXEC.claim().unwrap_err(), RunError::Busy);
    /// runner.run(Budget::items(8)).unwrap();
    /// drop(runner);
    /// assert!(EXEC.claim().is_ok());
    /// ```
    pub fn claim(&self) -> Result<Runner<'_>, RunError> {
        if self
            .running
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return Err(RunError::Busy);
        }
        Ok(Runner { executor: self })
    }

    #[inline]
    fn run_claimed(&self, budget: Budget) -> Result<RunReport, RunError> {
        let start = match (budget.time, self.clock) {
            (None, _) => 0,
            (Some(_), Some(clock)) => clock(),
            (Some(_), None) => return Err(RunError::NoClock),
        };
        let mut report = RunReport {
            ran: 0,
            skipped: 0,
            stop: Stop::Idle,
            more_work: false,
        };
        loop {
            if report.ran >= budget.items {
                report.stop = Stop::ItemBudget;
                break;
            }
            if let (Some(limit), Some(clock)) = (budget.time, self.clock) {
                if report.ran > 0 && clock().wrapping_sub(start) >= limit {
                    report.stop = Stop::TimeBudget;
                    break;
                }
            }
            let Some(next) = self.pop_any() else {
                report.stop = Stop::Idle;
                break;
            };
            if let Some(item) = Self::take(next) {
                self.run_one(item);
                report.ran += 1;
            } else {
                self.count_skipped();
                report.skipped += 1;
            }
        }
        report.more_work = self.has_work();
        if report.stop != Stop::Idle && !report.more_work {
            // The budget ran out exactly as the queues did.
            report.stop = Stop::Idle;
        }
        Ok(report)
    }

    /// Counts a queue entry consumed without a run (only the runner writes `skipped`).
    #[inline]
    fn count_skipped(&self) {
        let skipped = &self.stats.skipped;
        skipped.store(
            skipped.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
    }

    /// Runs a taken item's handler. Inlined into both run loops: the common path has no call
    /// but the handler's (the latency measurement is out of line).
    #[inline]
    fn run_one(&self, item: WorkRef) {
        let work = item.work();
        if let Some(clock) = self.clock {
            self.note_latency(clock, work);
        }
        trace!("irqkit-defer: run {=usize:x}", item.as_ptr() as usize);
        self.current.store(item.as_ptr(), Ordering::Relaxed);
        // Ends the run even if the handler unwinds (host tests), so the item is not stuck.
        let _finish = Finish {
            executor: self,
            item,
        };
        match work.handler {
            Handler::Fn(handler) => handler(),
            Handler::Task => crate::task::run(item),
        }
    }

    /// Folds the schedule-to-run latency of `work` into the maximum.
    #[cold]
    #[inline(never)]
    fn note_latency(&self, clock: Clock, work: &crate::Work) {
        let latency = clock().wrapping_sub(work.queued_at.load(Ordering::Relaxed));
        if latency > self.stats.max_latency.load(Ordering::Relaxed) {
            self.stats.max_latency.store(latency, Ordering::Relaxed);
        }
    }

    /// Whether `work`'s handler is running now.
    pub(crate) fn is_running(&self, work: &crate::Work) -> bool {
        ptr::eq(self.current.load(Ordering::Acquire), work)
    }

    /// Runs until the queues are empty (no budget). Handlers that keep rescheduling themselves
    /// keep it running: prefer [`run`](Self::run) with a budget in a kernel loop.
    ///
    /// # Errors
    ///
    /// [`RunError::Busy`] as for [`run`](Self::run).
    pub fn run_until_idle(&self) -> Result<RunReport, RunError> {
        self.run(Budget::UNLIMITED)
    }

    /// The race-free idle step: inside a critical section (interrupts masked), if no work is
    /// queued, calls `wait_for_interrupt`. Returns whether it waited.
    ///
    /// `wait_for_interrupt` is called with interrupts masked and must return with them masked,
    /// without letting an interrupt handler run in between: it suits wait instructions that
    /// wake on a pending interrupt without taking it, such as Cortex-M `wfi` (the handler runs
    /// when the critical section ends). An interrupt that schedules work after the check
    /// cannot be missed.
    ///
    /// Not for x86: `sti; hlt` here would run interrupt handlers inside the critical section,
    /// and a handler that enters one of its own (a `critical_section::Mutex` borrowed on both
    /// sides) breaks the critical-section contract. There, check [`has_work`](Self::has_work)
    /// through `irqkit-hal`'s `interrupts::idle` outside any critical section (see the
    /// [`Executor`] example).
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_defer::Executor;
    /// static EXEC: Executor = Executor::new();
    ///
    /// let mut slept = false;
    /// assert!(EXEC.wait_for_work(|| slept = true));
    /// assert!(slept);
    /// ```
    pub fn wait_for_work(&self, wait_for_interrupt: impl FnOnce()) -> bool {
        critical_section::with(|_| {
            if self.has_work() {
                false
            } else {
                wait_for_interrupt();
                true
            }
        })
    }

    /// The kernel main loop: `run(budget)`, then [`wait_for_work`](Self::wait_for_work), forever.
    ///
    /// # Errors
    ///
    /// Returns only on misuse: [`RunError::NoClock`] for a time budget without clock,
    /// [`RunError::Busy`] when called while the executor is running.
    pub fn run_forever(
        &self,
        budget: Budget,
        wait_for_interrupt: impl FnMut(),
    ) -> Result<Infallible, RunError> {
        self.claim()?.run_forever(budget, wait_for_interrupt)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        Stats {
            scheduled: self
                .stats
                .runs()
                .wrapping_add(self.stats.cancelled.load(Ordering::Relaxed)),
            coalesced: self.stats.coalesced.load(Ordering::Relaxed),
            cancelled: self.stats.cancelled.load(Ordering::Relaxed),
            runs: self.stats.runs(),
            skipped: self.stats.skipped.load(Ordering::Relaxed),
            max_latency: self.stats.max_latency.load(Ordering::Relaxed),
            timers_fired: self.stats.timers_fired.load(Ordering::Relaxed),
        }
    }

    /// Starts a new worst-latency measurement window; returns the old maximum.
    pub fn reset_max_latency(&self) -> u32 {
        self.stats.max_latency.swap(0, Ordering::Relaxed)
    }
}
