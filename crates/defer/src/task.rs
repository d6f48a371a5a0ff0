//! Async tasks: futures in static slots, polled by the executor as work items.
//!
//! A [`TaskSlot<N>`] is a work item plus `N` bytes of storage. [`TaskSlot::spawn`] moves any
//! `Future<Output = ()> + Send` of at most `N` bytes into the storage (checked at compile time)
//! and keeps one run function for its type (poll, or drop when done), so the slot's own type
//! never names the future: `async fn`s and `async` blocks work on stable Rust, no allocator,
//! no macros. The executor reaches that function through the slot's fixed-layout [`Header`]
//! with one indirect call, as an executor whose tasks are typed would.
//!
//! The task's [`Waker`] is a pointer to the slot's work item. The first 32 normal-priority
//! slots spawned on an executor get a wake lane there, for good: waking such a task sets one
//! bit (one atomic OR), and the runner takes all woken lanes in one swap. Other slots are
//! scheduled like bottom halves ([`Work::schedule`](crate::Work::schedule)). Either way wakes
//! coalesce, and a wake during a poll means one more poll.
//!
//! # Slot lifecycle
//!
//! One atomic word holds a state (low two bits) and a generation (the rest):
//!
//! `EMPTY` -> (`spawn` claims) `CLAIMED` -> (future written) `OCCUPIED` -> (poll returns ready,
//! poll or drop unwinds, or `abort` then a run) `EMPTY` with the next generation. The storage
//! is touched only by the spawner while it holds `CLAIMED` and by the executor's run of the
//! slot's item while `OCCUPIED`/`ABORTING`; those never overlap because `spawn` can claim only
//! an `EMPTY` slot and only the executor empties it. The executor empties the slot only after
//! the future's destructor has run, and it always does, unwinding included (drop guards in
//! [`run_future`]): no path leaves the slot pointing at a dead future.
//!
//! The generation names each task ([`TaskId`]): [`TaskSlot::abort_task`] is one compare-exchange
//! on the exact word of that task, so a task that finishes and is replaced by a new one in the
//! meantime never has the new one aborted.

use core::cell::UnsafeCell;
use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::mem::{self, ManuallyDrop, MaybeUninit};
use core::pin::Pin;
use core::ptr;
use core::task::{Context, RawWaker, RawWakerVTable, Waker};

use crate::executor::{Executor, NO_LANE};
use crate::loom_const::const_unless_loom;
use crate::sync::{AtomicU32, Ordering};
use crate::work::{Handler, Priority, Work, WorkRef};

const EMPTY: u32 = 0;
const CLAIMED: u32 = 1;
const OCCUPIED: u32 = 2;
const ABORTING: u32 = 3;
const STATE: u32 = 0b11;
/// One step of the generation (the bits above the state).
const GENERATION_ONE: u32 = STATE + 1;

/// The largest future alignment a [`TaskSlot`] can hold.
pub const MAX_FUTURE_ALIGN: usize = 16;

#[repr(C, align(16))]
struct Storage<const N: usize>([MaybeUninit<u8>; N]);

/// Polls (state `OCCUPIED`) or drops (state `ABORTING`) the future of a slot's item; see
/// [`run_future`].
type RunFn = unsafe fn(WorkRef, u32);

/// Names one task spawned into one [`TaskSlot`]: what [`TaskSlot::spawn`] returns.
///
/// A slot counts its tasks (a generation that wraps after 2^30 spawns), so an id still names
/// its own task after that task has finished and another one took the slot:
/// [`TaskSlot::abort_task`] and [`TaskSlot::holds`] never act on the wrong task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct TaskId {
    /// The slot's address (ids of other slots are refused).
    slot: usize,
    /// The slot's lifecycle word with the state bits clear.
    generation: u32,
}

/// Static storage for one async task of at most `N` bytes.
///
/// # Examples
///
/// ```
/// use core::future::poll_fn;
/// use core::sync::atomic::{AtomicBool, Ordering};
/// use core::task::Poll;
/// use irqkit_defer::{Executor, TaskSlot};
///
/// static EXEC: Executor = Executor::new();
/// static CONSOLE: TaskSlot<256> = TaskSlot::new(&EXEC);
/// static LINE_READY: AtomicBool = AtomicBool::new(false);
///
/// async fn console_task() {
///     // Wait for the "interrupt" below; a real driver keeps the waker and wakes it.
///     poll_fn(|_cx| {
///         if LINE_READY.load(Ordering::Acquire) { Poll::Ready(()) } else { Poll::Pending }
///     })
///     .await;
/// }
///
/// CONSOLE.spawn(console_task()).unwrap();
/// // Spawning into an occupied slot hands the future back.
/// let refused = CONSOLE.spawn(console_task()).unwrap_err();
/// let _future_back = refused.into_inner();
///
/// EXEC.run_until_idle().unwrap(); // first poll: pending
/// LINE_READY.store(true, Ordering::Release);
/// CONSOLE.wake(); // what the interrupt handler does through the task's waker
/// EXEC.run_until_idle().unwrap();
/// assert!(!CONSOLE.is_occupied()); // finished: the slot is free again
/// ```
///
/// A future larger than the slot does not compile:
///
/// ```compile_fail,E0080
/// use irqkit_defer::{Executor, TaskSlot};
/// static EXEC: Executor = Executor::new();
/// static TINY: TaskSlot<8> = TaskSlot::new(&EXEC);
/// let big = [0u8; 64];
/// TINY.spawn(async move { core::hint::black_box(big); }).ok();
/// ```
#[repr(C)]
pub struct TaskSlot<const N: usize> {
    /// First field (and its `Work` first in turn): the slot, and its header without knowing
    /// `N`, are found again from a pointer to its work item.
    header: Header,
    storage: UnsafeCell<Storage<N>>,
}

/// The part of a [`TaskSlot`] whose layout does not depend on the slot's size: what the
/// executor reads to poll a task without knowing `N` ([`run`]).
#[repr(C)]
pub(crate) struct Header {
    /// First field: the header is found again from a pointer to its work item.
    work: Work,
    /// Generation and state (see the module docs).
    lifecycle: AtomicU32,
    /// The run function of the future's type, written by `spawn`.
    run: UnsafeCell<RunFn>,
    /// Under loom: stands for `run` and `storage`, accessed wherever they are, so the model
    /// checker reports a spawn and a run that touch them without a happens-before edge.
    #[cfg(loom)]
    storage_access: loom::cell::UnsafeCell<()>,
}

// SAFETY: `run` and `storage` are accessed only by the spawner holding `CLAIMED` (exclusive:
// it won the compare-exchange from `EMPTY`) and by the slot's work item while the slot is
// `OCCUPIED`/`ABORTING` (exclusive: an item never runs concurrently with itself, and nobody
// else writes the storage in those states). The lifecycle's release/acquire pairs order the
// hand-overs. Stored futures are `Send`, so polling and dropping them on the executor's
// thread is allowed; they are never reached through `&self` (no method hands out a reference
// into the storage), so they need not be `Sync`.
unsafe impl<const N: usize> Sync for TaskSlot<N> {}

impl<const N: usize> fmt::Debug for TaskSlot<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskSlot")
            .field("capacity", &N)
            .field("occupied", &self.is_occupied())
            .field("work", &self.header.work)
            .finish()
    }
}

/// The compile-time check of [`TaskSlot::spawn`]: a future `F` fits a slot of `N` bytes. A
/// failure is a build error that gives both sizes.
struct FutureFits<F, const N: usize>(PhantomData<F>);

impl<F, const N: usize> FutureFits<F, N> {
    const CHECK: () = {
        let size = mem::size_of::<F>();
        if size > N {
            let mut message = Message::new();
            message.push("future too large for its TaskSlot: the future takes ");
            message.push_number(size);
            message.push(" bytes, the slot holds ");
            message.push_number(N);
            message.push(" (TaskSlot<");
            message.push_number(N);
            message.push(">); give the slot at least ");
            message.push_number(size);
            panic!("{}", message.as_str());
        }
        if mem::align_of::<F>() > MAX_FUTURE_ALIGN {
            let mut message = Message::new();
            message.push("future alignment ");
            message.push_number(mem::align_of::<F>());
            message.push(" is above the slots' 16");
            panic!("{}", message.as_str());
        }
    };
}

/// A build-time error message: text and numbers written into a fixed buffer by `const fn`s.
struct Message {
    bytes: [u8; 192],
    len: usize,
}

impl Message {
    const fn new() -> Self {
        Message {
            bytes: [0; 192],
            len: 0,
        }
    }

    const fn push(&mut self, text: &str) {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
    }

    const fn push_number(&mut self, mut n: usize) {
        let mut digits = [0u8; 20];
        let mut count = 0;
        loop {
            digits[count] = b'0' + (n % 10) as u8;
            count += 1;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.bytes.len() {
            count -= 1;
            self.bytes[self.len] = digits[count];
            self.len += 1;
        }
    }

    const fn as_str(&self) -> &str {
        let (text, _) = self.bytes.split_at(self.len);
        match core::str::from_utf8(text) {
            Ok(text) => text,
            Err(_) => "future does not fit its TaskSlot",
        }
    }
}

impl<const N: usize> TaskSlot<N> {
    const_unless_loom! {
        /// An empty slot whose tasks run on `executor` at [`Priority::Normal`].
        pub fn new(executor: &'static Executor) -> Self {
            Self {
                header: Header {
                    work: Work::with_handler(executor, Handler::Task),
                    lifecycle: AtomicU32::new(EMPTY),
                    run: UnsafeCell::new(run_nothing),
                    #[cfg(loom)]
                    storage_access: loom::cell::UnsafeCell::new(()),
                },
                storage: UnsafeCell::new(Storage([MaybeUninit::uninit(); N])),
            }
        }
    }

    const_unless_loom! {
        /// The same slot with its tasks at `priority`.
        #[must_use]
        pub fn with_priority(mut self, priority: Priority) -> Self {
            self.header.work.priority = priority;
            self
        }
    }

    fn work_ref(&'static self) -> WorkRef {
        // SAFETY: `TaskSlot` is `repr(C)` with its `Header` first, which is `repr(C)` with its
        // `Work` first.
        unsafe { WorkRef::from_owner(self) }
    }

    /// Moves `future` into the slot and schedules its first poll. Returns the new task's
    /// [`TaskId`].
    ///
    /// The first spawn of a normal-priority slot gives it one of the executor's 32 wake lanes
    /// if one is free; the slot keeps it for all its tasks.
    ///
    /// The future must fit: `size_of::<F>() <= N` and `align_of::<F>() <= 16`, checked when
    /// the call is compiled. A future too large is a build error that gives both sizes:
    /// "future too large for its TaskSlot: the future takes 97 bytes, the slot holds 64
    /// (TaskSlot<64>); give the slot at least 97".
    ///
    /// ```compile_fail,E0080
    /// use irqkit_defer::{Executor, TaskSlot};
    /// static EXEC: Executor = Executor::new();
    /// static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    /// let buffer = [0u8; 96];
    /// SLOT.spawn(async move { core::hint::black_box(buffer); }).ok();
    /// ```
    ///
    /// It must be `Send`: the executor may poll it on another thread (or in another context)
    /// than the spawner's.
    ///
    /// ```compile_fail,E0277
    /// use irqkit_defer::{Executor, TaskSlot};
    /// static EXEC: Executor = Executor::new();
    /// static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    /// /// Holds an `Rc`: not `Send`.
    /// struct Local(std::rc::Rc<u32>);
    /// impl core::future::Future for Local {
    ///     type Output = ();
    ///     fn poll(self: core::pin::Pin<&mut Self>, _: &mut core::task::Context<'_>)
    ///         -> core::task::Poll<()> { core::task::Poll::Ready(()) }
    /// }
    /// SLOT.spawn(Local(std::rc::Rc::new(1))).ok();
    /// ```
    ///
    /// # Errors
    ///
    /// [`SpawnError::Occupied`] with the future when the slot holds a task that has not
    /// finished: nothing is dropped silently.
    pub fn spawn<F>(&'static self, future: F) -> Result<TaskId, SpawnError<F>>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        // Checked when the call is compiled; the error gives both sizes.
        let () = FutureFits::<F, N>::CHECK;
        let mut word = self.header.lifecycle.load(Ordering::Relaxed);
        loop {
            if word & STATE != EMPTY {
                return Err(SpawnError::Occupied(future));
            }
            // Acquire: the previous task's drop (released when the executor marked the slot
            // empty) happens before this spawner reuses the storage.
            match self.header.lifecycle.compare_exchange_weak(
                word,
                word | CLAIMED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => word = actual,
            }
        }
        #[cfg(loom)]
        self.header.storage_access.with_mut(|_| ());
        // SAFETY: winning EMPTY -> CLAIMED gives this call exclusive access to `storage` and
        // `run` (see the `Sync` impl). The storage is 16-aligned and at least as large and
        // aligned as `F` (checked above), and holds no live future (EMPTY).
        unsafe {
            self.storage.get().cast::<F>().write(future);
            *self.header.run.get() = run_future::<F, N>;
        }
        let work = &self.header.work;
        if work.lane.load(Ordering::Relaxed) == NO_LANE {
            // The first spawn of this slot: take a wake lane if one is free (the slot keeps
            // it). Holding CLAIMED, this call is the only one that can set the lane. Release:
            // a waker that sees the lane sees the lane table name this slot.
            work.lane.store(
                work.executor.lanes.assign(self.work_ref()),
                Ordering::Release,
            );
        }
        self.header
            .lifecycle
            .store(word | OCCUPIED, Ordering::Release);
        self.work_ref().schedule();
        Ok(self.id(word))
    }

    fn id(&self, generation: u32) -> TaskId {
        TaskId {
            slot: ptr::from_ref(self).addr(),
            generation,
        }
    }

    /// Schedules a poll of the task, as its waker does. Returns whether the poll was newly
    /// scheduled (false: one was already pending).
    pub fn wake(&'static self) -> bool {
        self.work_ref().schedule()
    }

    /// A waker for the task, for code that registers wakers by hand (an interrupt-fed driver).
    pub fn waker(&'static self) -> Waker {
        waker_of(self.work_ref())
    }

    /// Asks the executor to drop the task's future without polling it again. Returns whether a
    /// running task was asked (false: the slot is empty, or an abort is already under way).
    /// The slot is free once [`is_occupied`](Self::is_occupied) turns false. An abort that
    /// arrives while the task is being polled lets that poll finish; no later poll starts.
    ///
    /// This aborts whichever task the slot holds when it is called. To abort one particular
    /// task, and not the one that may have replaced it after it finished, use
    /// [`abort_task`](Self::abort_task).
    pub fn abort(&'static self) -> bool {
        let mut word = self.header.lifecycle.load(Ordering::Relaxed);
        loop {
            if word & STATE != OCCUPIED {
                return false;
            }
            // The generation is kept: the compare-exchange succeeds only on the task it saw.
            match self.header.lifecycle.compare_exchange_weak(
                word,
                word | ABORTING,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => word = actual,
            }
        }
        self.work_ref().schedule();
        true
    }

    /// Like [`abort`](Self::abort), for task `task` only: returns false (and does nothing)
    /// when the slot no longer holds it, because it finished or was aborted, even if another
    /// task has been spawned into the slot since. Ids of other slots are refused (false).
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_defer::{Executor, TaskSlot};
    /// static EXEC: Executor = Executor::new();
    /// static SLOT: TaskSlot<64> = TaskSlot::new(&EXEC);
    ///
    /// let first = SLOT.spawn(async {}).unwrap();
    /// EXEC.run_until_idle().unwrap(); // `first` finishes
    /// let second = SLOT.spawn(core::future::pending()).unwrap();
    /// assert!(!SLOT.abort_task(first), "a finished task's id aborts nothing");
    /// assert!(SLOT.holds(second));
    /// assert!(SLOT.abort_task(second));
    /// EXEC.run_until_idle().unwrap();
    /// assert!(!SLOT.holds(second) && !SLOT.is_occupied());
    /// ```
    pub fn abort_task(&'static self, task: TaskId) -> bool {
        if task.slot != ptr::from_ref(self).addr() {
            return false;
        }
        let asked = self
            .header
            .lifecycle
            .compare_exchange(
                task.generation | OCCUPIED,
                task.generation | ABORTING,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok();
        if asked {
            self.work_ref().schedule();
        }
        asked
    }

    /// Whether the slot still holds task `task`: spawned, and its future not dropped yet
    /// (running, or being aborted). False for ids of other slots.
    pub fn holds(&self, task: TaskId) -> bool {
        let word = self.header.lifecycle.load(Ordering::Acquire);
        task.slot == ptr::from_ref(self).addr()
            && word & !STATE == task.generation
            && matches!(word & STATE, OCCUPIED | ABORTING)
    }

    /// Whether the slot holds a task (being spawned, running, or being aborted).
    pub fn is_occupied(&self) -> bool {
        self.header.lifecycle.load(Ordering::Acquire) & STATE != EMPTY
    }

    /// Whether a poll is scheduled and has not started yet.
    pub fn is_scheduled(&self) -> bool {
        self.header.work.is_pending()
    }

    /// Polls of the task so far (the work item's run count, wrapping), aborts included.
    pub fn polls(&self) -> u32 {
        self.header.work.runs()
    }

    // The slot's `Work` is not handed out: a `&Work` would narrow the provenance that
    // `run` needs to find the slot again.
}

/// The handler of a task slot's work item ([`Handler::Task`]): one poll, or the abort.
///
/// Inlined into the executor's run, so a poll costs one indirect call (to the future's
/// [`run_future`]).
#[inline]
pub(crate) fn run(item: WorkRef) {
    // SAFETY: `Handler::Task` is installed only by `TaskSlot::new`, so `item` is the work item
    // at offset 0 of the `Header` at offset 0 of a `'static` `TaskSlot<N>` (both repr(C)).
    let header = unsafe { &*item.as_ptr().cast::<Header>() };
    let word = header.lifecycle.load(Ordering::Acquire);
    // OCCUPIED and ABORTING have this bit, EMPTY and CLAIMED do not.
    if word & OCCUPIED == 0 {
        return; // A stale wake-up of a finished task, or a spawn under way.
    }
    // SAFETY: OCCUPIED/ABORTING: the executor's run of the item has exclusive access (see the
    // `Sync` impl), and the acquire load above saw the spawner's release, so `run` holds the
    // function `spawn` wrote for the future in the storage.
    let run = unsafe { *header.run.get() };
    // SAFETY: as just argued; `item` carries the provenance of the whole slot (every slot
    // `WorkRef` is made by `work_ref` and travels as a raw pointer).
    unsafe { run(item, word & STATE) }
}

/// The run function of an empty slot: never called (`run` calls the slot's function only in
/// the states in which `spawn` has replaced it).
unsafe fn run_nothing(_: WorkRef, _: u32) {}

/// One run of a task of type `F` in a `TaskSlot<N>`: polls it (`state` `OCCUPIED`) or drops it
/// (`ABORTING`), and retires it when the poll is ready.
///
/// Unwinding: if the poll panics, the future is dropped as the panic unwinds (as a future
/// pinned in an unwinding stack frame is) and the slot is emptied; if the destructor panics
/// (after a ready poll, an abort or a panicked poll), the slot is emptied all the same: drop
/// glue has finished dropping the future's fields by then, so it is dead either way. A panic in
/// a destructor that runs during another unwind aborts the process, as everywhere in Rust.
///
/// # Safety
///
/// Called only by [`run`], after `spawn::<F>` of a `TaskSlot<N>` installed it: `item` is that
/// slot's work item (with the provenance of the whole slot), the slot's lifecycle was read as
/// `state` (`OCCUPIED` or `ABORTING`) with acquire, so the storage holds a live `F`, and the
/// caller is the run of the item (exclusive access).
unsafe fn run_future<F: Future<Output = ()>, const N: usize>(item: WorkRef, state: u32) {
    // SAFETY: see the function's contract: `item` points to a `'static` `TaskSlot<N>`.
    let slot = unsafe { &*item.as_ptr().cast::<TaskSlot<N>>() };
    #[cfg(loom)]
    slot.header.storage_access.with_mut(|_| ());
    let future = slot.storage.get().cast::<F>();
    // From here on every exit but a pending poll retires the task, unwinding included. Locals
    // drop in reverse order: the future first, then the slot is marked empty, even if the
    // future's destructor unwinds.
    let empty = MarkEmpty(&slot.header.lifecycle);
    let dead = DropFuture(future);
    if state == OCCUPIED {
        // Our wakers need no drop (`drop_waker` does nothing): skip the call through the vtable.
        let waker = ManuallyDrop::new(waker_of(item));
        let mut cx = Context::from_waker(&waker);
        // SAFETY: `future` holds a live `F`. The slot is `'static` and the future is never
        // moved out of it before it is dropped: pinned.
        if unsafe { Pin::new_unchecked(&mut *future) }
            .poll(&mut cx)
            .is_pending()
        {
            // Still live: neither guard may act.
            mem::forget(dead);
            mem::forget(empty);
        }
    }
}

/// Drops the slot's future when it goes out of scope (the end of its last run, or an unwind).
struct DropFuture<F>(*mut F);

impl<F> Drop for DropFuture<F> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: a `DropFuture` is made only in `run_future`, over the live future of an
        // OCCUPIED/ABORTING slot, and is forgotten when the future stays live; otherwise this
        // is the one drop of the future, and the `MarkEmpty` dropped after it keeps anybody
        // from reaching the future again.
        unsafe { ptr::drop_in_place(self.0) }
    }
}

/// Marks a slot empty (next generation) when it goes out of scope, unwinding included.
struct MarkEmpty<'a>(&'a AtomicU32);

impl Drop for MarkEmpty<'_> {
    #[inline]
    fn drop(&mut self) {
        // The generation cannot change while the slot is OCCUPIED/ABORTING (only the state
        // bits can, by an abort), and only this run leaves those states: a relaxed load reads
        // the task's generation. Read here rather than before the poll, so a pending poll
        // (the hot path) pays nothing for it.
        let word = self.0.load(Ordering::Relaxed);
        let next = (word & !STATE).wrapping_add(GENERATION_ONE) | EMPTY;
        // Release: the future's drop happens before a spawn that reuses the storage.
        //
        // A swap, not a store: an `abort` may compare-exchange OCCUPIED -> ABORTING at the same
        // time, and either order is fine (the abort then targets a task that is gone), but
        // loom 0.7 lets a plain store land between the read and the write of a concurrent
        // read-modify-write, a history the memory model forbids, so its models of this race
        // would report executions that cannot happen. Once per task, off the wake/poll path.
        self.0.swap(next, Ordering::Release);
    }
}

static WAKER_VTABLE: RawWakerVTable = RawWakerVTable::new(clone_waker, wake, wake, drop_waker);

fn waker_of(item: WorkRef) -> Waker {
    let raw = RawWaker::new(item.as_ptr().cast_const().cast::<()>(), &WAKER_VTABLE);
    // SAFETY: the vtable functions treat the data pointer as the `WorkRef` it was made from;
    // a `'static` work item outlives every waker, and scheduling is thread-safe, as `Waker`
    // requires.
    unsafe { Waker::from_raw(raw) }
}

/// The work item of one of our wakers; `None` for other wakers.
pub(crate) fn work_of_waker(waker: &Waker) -> Option<WorkRef> {
    if !ptr::eq(waker.vtable(), &WAKER_VTABLE) {
        return None;
    }
    let ptr = ptr::NonNull::new(waker.data().cast_mut().cast::<Work>())?;
    // SAFETY: wakers with our vtable are made only by `waker_of` from a `WorkRef`.
    Some(unsafe { WorkRef::from_ptr(ptr) })
}

unsafe fn clone_waker(data: *const ()) -> RawWaker {
    RawWaker::new(data, &WAKER_VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: the data pointer of our wakers is a `WorkRef` (see `waker_of`): not null, and
    // made by `WorkRef::as_ptr`.
    unsafe { WorkRef::from_ptr(ptr::NonNull::new_unchecked(data.cast_mut().cast::<Work>())) }
        .schedule();
}

unsafe fn drop_waker(_: *const ()) {}

/// [`TaskSlot::spawn`] refused; the future is handed back.
#[non_exhaustive]
pub enum SpawnError<F> {
    /// The slot holds a task that has not finished.
    Occupied(F),
}

impl<F> SpawnError<F> {
    /// The future that was not spawned.
    pub fn into_inner(self) -> F {
        match self {
            Self::Occupied(future) => future,
        }
    }
}

impl<F> fmt::Debug for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Occupied(_) => f.write_str("Occupied(..)"),
        }
    }
}

impl<F> fmt::Display for SpawnError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Occupied(_) => f.write_str("task slot is occupied by an unfinished task"),
        }
    }
}

impl<F> core::error::Error for SpawnError<F> {}

#[cfg(feature = "defmt")]
impl<F> defmt::Format for SpawnError<F> {
    fn format(&self, f: defmt::Formatter<'_>) {
        match self {
            Self::Occupied(_) => defmt::write!(f, "Occupied(..)"),
        }
    }
}
