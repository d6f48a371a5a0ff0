//! Deferred work for interrupt-driven kernels: the top-half / bottom-half split as a crate.
//!
//! An interrupt handler (the top half) does the minimum, silences the device and calls
//! [`Work::schedule`]; the [`Executor`] runs the bottom half later with interrupts enabled.
//! Everything is statically allocated (`const fn new`), no allocator is used, and scheduling
//! is lock-free, so it is safe from any interrupt.
//!
//! | need | what to use |
//! |------|-------------|
//! | a bottom half (tasklet, BH work) | `static W: Work = Work::new(&EXEC, handler)`, [`Work::schedule`] |
//! | urgent bottom halves first | [`Work::with_priority`]`(`[`Priority::Urgent`]`)` |
//! | the kernel main loop | [`Executor::run`] with a [`Budget`], [`Executor::wait_for_work`], [`Executor::run_forever`] |
//! | the leanest loop (no time budget, no report) | [`Executor::claim`] once, then [`Runner::run_items`] |
//! | async tasks | `static T: TaskSlot<N> = TaskSlot::new(&EXEC)`, [`TaskSlot::spawn`]; the first 32 (normal priority) get a wake lane: a wake is one atomic OR |
//! | stopping a task | [`TaskSlot::abort`], or [`TaskSlot::abort_task`] with the [`TaskId`] from `spawn` |
//! | delayed work | [`Executor::tick`] from the timer IRQ, [`Work::schedule_after`], [`sleep`] |
//! | the state a bottom half owns between runs, lent out without masking interrupts | `static S: State<T> = State::new()`, [`State::with`] |
//! | observability | [`Executor::stats`], [`Work::runs`], feature `defmt` |
//! | an irqkit-intq queue that schedules its consumer | `Queue::new().with_pend(&WORK)` (feature `intq`, default) |
//!
//! # Semantics (those of Linux tasklets and BH workqueues)
//!
//! * `schedule` returns whether the item became pending; schedules of a pending item coalesce.
//!   Writes before a `schedule` are visible to the run it leads to (release/acquire).
//! * Pending is cleared just before the handler runs: a schedule during the run means exactly
//!   one more run. An item never runs concurrently with itself.
//! * [`Work::disable`] / [`Work::enable`] nest; a disabled item stays pending and runs after the
//!   last `enable`. [`Work::cancel`] takes back a pending run and reports whether there was one.
//! * [`Priority::Urgent`] items run before [`Priority::Normal`] ones, FIFO. Normal work runs in
//!   rounds: a round starts when the previous one is over and takes everything scheduled so
//!   far, first the queued items in scheduling order (FIFO), then the tasks with a wake lane
//!   in lane order (the order their slots were first spawned in). Nothing waits longer than
//!   the round in progress; a task woken during its own poll is polled again in the next
//!   round. A lane task's pending flag is cleared when its round starts, so a wake between
//!   that and its poll costs one extra poll (which futures allow).
//! * [`Executor::run`] stops after a budget of items and optionally of time (the softirq
//!   budget), and reports what ran and whether work remains, so a storm cannot starve the
//!   caller.
//!
//! # Example: a keyboard bottom half
//!
//! ```
//! use core::sync::atomic::{AtomicU8, Ordering};
//! use irqkit_defer::{Budget, Executor, Work};
//!
//! static EXEC: Executor = Executor::new();
//! static LAST_SCANCODE: AtomicU8 = AtomicU8::new(0);
//! static KBD_BH: Work = Work::new(&EXEC, kbd_bottom_half);
//!
//! /// IRQ 1: read the byte (a real kernel pushes it into an irqkit-intq queue), schedule.
//! fn irq1_top_half(scancode: u8) {
//!     LAST_SCANCODE.store(scancode, Ordering::Relaxed);
//!     KBD_BH.schedule(); // release: the store above is visible to the bottom half
//! }
//!
//! fn kbd_bottom_half() {
//!     assert_eq!(LAST_SCANCODE.load(Ordering::Relaxed), 0x1E);
//! }
//!
//! irq1_top_half(0x1E);
//! let report = EXEC.run(Budget::items(16)).unwrap();
//! assert_eq!(report.ran, 1);
//! assert!(!report.more_work);
//! ```
//!
//! # Critical sections
//!
//! Scheduling and running need none. [`Executor::tick`], delays and
//! [`Executor::wait_for_work`] use the `critical-section` crate: the kernel links one
//! implementation (for a single-core x86 kernel, `irqkit-hal`'s `critical-section-single-core`
//! feature; host tests use `critical-section/std`). An x86 kernel idles with `irqkit-hal`'s
//! `interrupts::idle` and [`Executor::has_work`] rather than `wait_for_work` (see
//! [`Executor`]).
//!
//! # Guide
//!
//! The [guide](https://github.com/irqkit/irqkit/blob/main/docs/GUIDE.md) wires a whole
//! keyboard path (IRQ 1 top half, `irqkit-intq`, a bottom half with its [`State`], the
//! `irqkit-ps2` decoder and layout) and a disk with `irqkit-ata`, in host-runnable examples.
#![doc = include_str!("../SAFETY.md")]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Scheduling, cancelling and task lifecycles are compare-and-swap state machines.
#[cfg(not(any(loom, target_has_atomic = "32")))]
compile_error!(
    "irqkit-defer needs compare-and-swap atomics (target_has_atomic = \"32\"); this target \
     (thumbv6m-none-eabi, say) has none. irqkit-intq works there."
);

// Declared first so its macros are visible everywhere.
mod fmt;

mod executor;
mod loom_const;
#[cfg(feature = "intq")]
mod pend;
mod state;
mod sync;
mod task;
mod timer;
mod work;

pub use executor::{Budget, Clock, Executor, Pender, RunError, RunReport, Runner, Stats, Stop};
pub use state::{State, StateError};
pub use task::{SpawnError, TaskId, TaskSlot, MAX_FUTURE_ALIGN};
pub use timer::{sleep, DelayError, Sleep, MAX_DELAY};
pub use work::{DisableError, EnableError, Priority, Work, MAX_DISABLE_DEPTH};
