//! The claimed executor, and the guard that ends an item's run.

use core::convert::Infallible;
use core::ptr;

use super::{Budget, Executor, RunError, RunReport};
use crate::sync::Ordering;
use crate::work::WorkRef;

/// The claimed executor ([`Executor::claim`]): the one place items are run from.
///
/// Holding it is what guarantees that runs never overlap, so its methods take `&mut self` and
/// skip the claim that [`Executor::run`] makes per call. Dropping it releases the executor.
#[derive(Debug)]
pub struct Runner<'a> {
    pub(super) executor: &'a Executor,
}

impl Runner<'_> {
    /// The lean entry point: runs queued items and woken tasks, in the order [`run`](Self::run)
    /// does, until nothing is left or `max_items` handlers have run; returns how many ran.
    ///
    /// Each item is handled as [`run`](Self::run) handles it: coalescing, cancel, disable,
    /// priorities (urgent items first, looked for before every item), rounds and their order,
    /// [`Work::is_running`](crate::Work::is_running), [`Work::runs`](crate::Work::runs), the
    /// counters of [`Executor::stats`] and the latency maximum behave alike, and so does an
    /// unwinding handler or future. What it leaves out is what only `run` needs: there is no
    /// time budget and no [`RunReport`], so when `max_items` runs out the queues are not
    /// looked at again before it returns. Entries of cancelled or disabled items are consumed
    /// without counting towards `max_items`. Before sleeping, check [`Executor::has_work`]
    /// with interrupts masked (or use [`Executor::wait_for_work`]), as after `run`.
    ///
    /// The loop is compiled into its caller (`#[inline(always)]`; a kernel calls it from one
    /// place, its main loop), so the only call per item is the handler's (for a task, the
    /// one call to its future's run function, which polls it).
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_defer::{Executor, Work};
    ///
    /// static EXEC: Executor = Executor::new();
    /// static A: Work = Work::new(&EXEC, || {});
    /// static B: Work = Work::new(&EXEC, || {});
    ///
    /// let mut runner = EXEC.claim().unwrap();
    /// A.schedule();
    /// B.schedule();
    /// assert_eq!(runner.run_items(1), 1);
    /// assert_eq!(runner.run_items(8), 1);
    /// assert_eq!(runner.run_items(8), 0);
    /// ```
    #[inline(always)]
    pub fn run_items(&mut self, max_items: u32) -> u32 {
        let executor = self.executor;
        let mut ran = 0;
        while ran < max_items {
            let Some(next) = executor.pop_any() else {
                break;
            };
            if let Some(item) = Executor::take(next) {
                executor.run_one(item);
                ran += 1;
            } else {
                executor.count_skipped();
            }
        }
        ran
    }

    /// [`Executor::run`] without the claim.
    ///
    /// # Errors
    ///
    /// [`RunError::NoClock`] when `budget` has a time limit and the executor has no clock.
    #[inline]
    pub fn run(&mut self, budget: Budget) -> Result<RunReport, RunError> {
        self.executor.run_claimed(budget)
    }

    /// Runs until the queues are empty (no budget).
    ///
    /// # Errors
    ///
    /// None in practice: an unlimited budget has no time limit. The `Result` keeps the
    /// signature of [`run`](Self::run).
    pub fn run_until_idle(&mut self) -> Result<RunReport, RunError> {
        self.run(Budget::UNLIMITED)
    }

    /// `run(budget)`, then [`Executor::wait_for_work`], forever.
    ///
    /// # Errors
    ///
    /// Returns only on misuse: [`RunError::NoClock`] for a time budget without clock.
    pub fn run_forever(
        &mut self,
        budget: Budget,
        mut wait_for_interrupt: impl FnMut(),
    ) -> Result<Infallible, RunError> {
        loop {
            let report = self.run(budget)?;
            if !report.more_work {
                self.executor.wait_for_work(&mut wait_for_interrupt);
            }
        }
    }
}

impl Drop for Runner<'_> {
    fn drop(&mut self) {
        self.executor.running.store(false, Ordering::Release);
    }
}

/// Ends an item's run when the handler returns (or unwinds).
pub(super) struct Finish<'a> {
    pub(super) executor: &'a Executor,
    pub(super) item: WorkRef,
}

impl Drop for Finish<'_> {
    #[inline]
    fn drop(&mut self) {
        self.item.count_run();
        let runs = &self.executor.stats.runs;
        runs.store(
            runs.load(Ordering::Relaxed).wrapping_add(1),
            Ordering::Relaxed,
        );
        // Release: a caller that sees the item no longer running sees the handler's writes.
        self.executor
            .current
            .store(ptr::null_mut(), Ordering::Release);
    }
}
