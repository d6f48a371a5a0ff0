//! The queue storage, its construction, and the split into producer and consumer.

use core::cell::UnsafeCell;
use core::fmt;
use core::mem::MaybeUninit;
use core::ptr;

use crate::index::Ring;
use crate::loom_const::const_unless_loom;
use crate::sync::{fence, AtomicBool, AtomicU8, AtomicUsize, Ordering, SlotTracker};
use crate::wake::{Pend, Plan, Waiter, WakeMode};
use crate::{AlreadySplit, Consumer, Producer};

/// Keeps the producer's and the consumer's fields on separate cache lines, so that one side
/// writing its index does not evict the line the other side is working on (false sharing).
///
/// 128 bytes where the hardware prefetches cache lines in adjacent pairs (x86-64, AArch64),
/// 32 bytes on 32-bit ARM and RISC-V microcontrollers (small lines or no cache: do not waste
/// RAM), 64 bytes elsewhere.
#[cfg_attr(
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "powerpc64"
    ),
    repr(C, align(128))
)]
#[cfg_attr(any(target_arch = "arm", target_arch = "riscv32"), repr(C, align(32)))]
#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "powerpc64",
        target_arch = "arm",
        target_arch = "riscv32"
    )),
    repr(C, align(64))
)]
pub(crate) struct CachePadded<T>(pub(crate) T);

/// Fields written by the producer (and read by the consumer only when its cache runs dry).
///
/// Each handle keeps its view of the other side's index in itself. The consumer also keeps its
/// own index, so it only stores to its line, which the producer polls, and never loads from
/// it: with the consumer's and the producer's index both read back from the queue, two-thread
/// throughput measured 0.7-0.9x on x86 in three of the four cases of
/// `benches/intq_instructions.rs` (bare u64 items rose). The producer alone
/// reading its `tail` back measured no loss across two CPUs and makes a push cheaper on one,
/// where storing the index twice (handle and queue) cost more than loading it.
pub(crate) struct ProducerSide {
    /// Index of the next slot the producer writes, modulo `2N` (see `index.rs`). Written only
    /// by the producer.
    pub(crate) tail: AtomicUsize,
    /// Items rejected because the queue was full, wrapping. Written only by the producer.
    pub(crate) overruns: AtomicUsize,
    /// Read-only after construction.
    pub(crate) mode: WakeMode,
    /// Read-only after construction.
    pub(crate) pend: Option<&'static dyn Pend>,
}

/// Fields written by the consumer.
pub(crate) struct ConsumerSide {
    /// Index of the next slot the consumer reads, modulo `2N` (see `index.rs`). Written only
    /// by the consumer.
    pub(crate) head: AtomicUsize,
    /// The producer's overrun total when the consumer last reset its count. Consumer only.
    pub(crate) overruns_seen: UnsafeCell<usize>,
}

/// A bounded single-producer single-consumer queue of `N` items of type `T`.
///
/// Build it with [`Queue::new`] (a `const fn`, so it can be a `static`), then hand its two ends
/// out with [`Queue::split_static`] (for a `static`, once) or [`Queue::split`] (borrowing a
/// local queue). All `N` slots are usable; any `N > 0` works, powers of two are a little
/// faster (indices are masked instead of compared).
///
/// Items left in the queue when it is dropped are dropped with it.
///
/// # Examples
///
/// ```
/// use irqkit_intq::Queue;
///
/// let mut queue: Queue<u32, 4> = Queue::new();
/// let (mut tx, mut rx) = queue.split();
/// for i in 0..4 {
///     tx.try_push(i).unwrap();
/// }
/// assert!(tx.try_push(4).is_err()); // full at N items, not N - 1
/// assert_eq!(rx.try_pop(), Ok(0));
/// ```
///
/// A queue cannot be split a second time while its ends are alive:
///
/// ```compile_fail,E0499
/// use irqkit_intq::Queue;
///
/// let mut queue: Queue<u8, 4> = Queue::new();
/// let (tx, rx) = queue.split();
/// let (tx2, rx2) = queue.split(); // error: `queue` is already borrowed mutably
/// drop((tx, rx, tx2, rx2));
/// ```
///
/// nor split by borrowing once it was handed out for `'static`:
///
/// ```compile_fail,E0502
/// use irqkit_intq::Queue;
///
/// let queue: &'static mut Queue<u8, 4> = Box::leak(Box::new(Queue::new()));
/// let shared: &'static Queue<u8, 4> = queue;
/// let (tx, rx) = shared.split_static().unwrap();
/// let (tx2, rx2) = queue.split(); // error: `*queue` is borrowed for `'static`
/// drop((tx, rx, tx2, rx2));
/// ```
///
/// and a borrowing split marks it as split, so that a queue leaked as `&'static mut` cannot be
/// split a second time through a shared reference:
///
/// ```
/// use irqkit_intq::{AlreadySplit, Queue};
///
/// let queue: &'static mut Queue<u8, 4> = Box::leak(Box::new(Queue::new()));
/// drop(queue.split());
/// let shared: &'static Queue<u8, 4> = queue;
/// assert_eq!(shared.split_static().err(), Some(AlreadySplit));
/// ```
///
/// The queue is `Sync` (and `Send`) for `T: Send`: sharing it hands out no `&T` (see
/// [`Consumer`] for the handle that does).
#[repr(C)]
pub struct Queue<T, const N: usize> {
    pub(crate) producer: CachePadded<ProducerSide>,
    pub(crate) consumer: CachePadded<ConsumerSide>,
    pub(crate) waiter: CachePadded<Waiter>,
    pub(crate) split_done: AtomicBool,
    pub(crate) tracker: SlotTracker<N>,
    slots: [UnsafeCell<MaybeUninit<T>>; N],
}

// SAFETY: the queue moves `T` values from the producer's context to the consumer's, hence
// `T: Send`. Shared access is sound because every non-atomic field has a single owner at a
// time: slot `i` belongs to the producer while `i` is outside `head .. tail` and to the consumer
// while inside (the Release store of an index hands the slots over, the Acquire load on the
// other side takes them), and `overruns_seen` is touched only through the unique `Consumer`
// (uniqueness, and hence one writer per index, is enforced by
// `split(&mut self)`, the one-shot `split_static`, and the absence of any way from a handle back
// to its queue), and the waker slot is behind a critical section. A `&Queue` itself hands out
// no `&T`; the consumer does (`peek`, `ReadChunk::as_slices`), and it is `Sync` only for
// `T: Sync` (see `Consumer`), so `T: Sync` is not needed here.
unsafe impl<T: Send, const N: usize> Sync for Queue<T, N> {}

impl<T, const N: usize> Queue<T, N> {
    const_unless_loom! {
        /// Creates an empty queue whose producer wakes a waiting consumer on every push
        /// ([`WakeMode::Level`]).
        ///
        /// A `const fn`: the queue can be a `static` (no allocator, no runtime init).
        ///
        /// # Panics
        ///
        /// Never at run time. `N == 0` (or an `N` near `usize::MAX / 4`) is rejected at compile
        /// time.
        ///
        /// # Examples
        ///
        /// ```
        /// use irqkit_intq::Queue;
        ///
        /// static KEYBOARD: Queue<u8, 64> = Queue::new();
        /// assert_eq!(KEYBOARD.capacity(), 64);
        /// ```
        ///
        /// A zero capacity does not compile:
        ///
        /// ```compile_fail,E0080
        /// static NOTHING: irqkit_intq::Queue<u8, 0> = irqkit_intq::Queue::new();
        /// ```
        #[must_use]
        pub fn new() -> Self {
            #[allow(clippy::let_unit_value)]
            let () = Ring::<N>::VALID;
            Self {
                producer: CachePadded(ProducerSide {
                    tail: AtomicUsize::new(0),
                    overruns: AtomicUsize::new(0),
                    mode: WakeMode::Level,
                    pend: None,
                }),
                consumer: CachePadded(ConsumerSide {
                    head: AtomicUsize::new(0),
                    overruns_seen: UnsafeCell::new(0),
                }),
                waiter: CachePadded(Waiter::new(WakeMode::Level.plan(false))),
                split_done: AtomicBool::new(false),
                tracker: SlotTracker::new(),
                slots: [const { UnsafeCell::new(MaybeUninit::uninit()) }; N],
            }
        }
    }

    const_unless_loom! {
        /// Sets when the producer notifies the consumer (see [`WakeMode`]); builder style, usable
        /// in a `static` initializer.
        ///
        /// # Examples
        ///
        /// ```
        /// use irqkit_intq::{Queue, WakeMode};
        ///
        /// // A queue that a thread polls: no wake-up work on the push path at all.
        /// static SAMPLES: Queue<u16, 128> = Queue::new().with_wake_mode(WakeMode::Off);
        /// ```
        #[must_use]
        pub fn with_wake_mode(mut self, mode: WakeMode) -> Self {
            self.producer.0.mode = mode;
            self.waiter.0.plan = AtomicU8::new(mode.plan(self.producer.0.pend.is_some()));
            self
        }
    }

    const_unless_loom! {
        /// Installs the hook the producer calls to pend a bottom half (for example an
        /// `irqkit-defer` work item) when it notifies; builder style, usable in a `static`.
        ///
        /// In [`WakeMode::Level`], [`WakeMode::SingleCore`] and [`WakeMode::Asymmetric`] the
        /// hook runs after every push (and once per batch), in
        /// [`WakeMode::Edge`] only when a push made the queue non-empty, never in
        /// [`WakeMode::Off`]. It runs in the producer's context (typically the interrupt
        /// handler), so it must be short and must not block.
        ///
        /// # Examples
        ///
        /// ```
        /// use core::sync::atomic::{AtomicBool, Ordering};
        /// use irqkit_intq::{PendFn, Queue};
        ///
        /// static KEYBOARD_BH_PENDING: AtomicBool = AtomicBool::new(false);
        /// fn pend_keyboard_bh() {
        ///     KEYBOARD_BH_PENDING.store(true, Ordering::Release);
        /// }
        /// static PEND: PendFn = PendFn(pend_keyboard_bh);
        /// static KEYBOARD: irqkit_intq::Queue<u8, 64> = Queue::new().with_pend(&PEND);
        ///
        /// let (mut tx, _rx) = KEYBOARD.split_static().unwrap();
        /// tx.try_push(0x1c).unwrap();
        /// assert!(KEYBOARD_BH_PENDING.load(Ordering::Acquire));
        /// ```
        #[must_use]
        pub fn with_pend(mut self, pend: &'static dyn Pend) -> Self {
            self.producer.0.pend = Some(pend);
            self.waiter.0.plan = AtomicU8::new(self.producer.0.mode.plan(true));
            self
        }
    }

    /// Hands out the producer and consumer of a queue that lives forever (a `static`),
    /// exactly once.
    ///
    /// This is the sound replacement for "split in `main`, use the producer in the interrupt
    /// handler": the handles borrow the queue for `'static` and can be moved into whatever
    /// the interrupt handler reads (for instance a `critical_section::Mutex`), and a second call
    /// fails instead of creating a second producer. The one-shot flag is set with an atomic swap,
    /// or inside a critical section on targets without one (`thumbv6m-none-eabi`); it is not on
    /// any hot path.
    ///
    /// # Errors
    ///
    /// [`AlreadySplit`] if the queue was split before, by this method or by
    /// [`Queue::split`] (a queue leaked as `&'static mut` and split by borrowing cannot be split
    /// again through a shared reference).
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::{AlreadySplit, Queue};
    ///
    /// static QUEUE: Queue<u8, 16> = Queue::new();
    ///
    /// let (mut tx, mut rx) = QUEUE.split_static().unwrap();
    /// assert_eq!(QUEUE.split_static().err(), Some(AlreadySplit));
    /// tx.try_push(7).unwrap();
    /// assert_eq!(rx.try_pop(), Ok(7));
    /// ```
    pub fn split_static(
        &'static self,
    ) -> Result<(Producer<'static, T, N>, Consumer<'static, T, N>), AlreadySplit> {
        if crate::sync::set_once(&self.split_done) {
            Ok((Producer::new(self), Consumer::new(self)))
        } else {
            Err(AlreadySplit)
        }
    }

    /// Splits a queue the caller holds exclusively into its producer and consumer.
    ///
    /// The mutable borrow freezes the queue while the handles live, so no second pair can exist
    /// (a compile-time guarantee, see the type's docs). After both handles are dropped the queue
    /// can be split again with this method and keeps its contents. It also marks the queue as
    /// split, so that [`Queue::split_static`] fails on it from then on.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::Queue;
    ///
    /// let mut queue: Queue<u8, 2> = Queue::new();
    /// {
    ///     let (mut tx, _rx) = queue.split();
    ///     tx.try_push(1).unwrap();
    /// }
    /// let (_tx, mut rx) = queue.split();
    /// assert_eq!(rx.try_pop(), Ok(1));
    /// ```
    pub fn split(&mut self) -> (Producer<'_, T, N>, Consumer<'_, T, N>) {
        // Not needed while the borrow lasts, but a queue leaked as `&'static mut` can be split
        // here and later be reached through a `&'static` reference: `split_static` must not
        // hand out a second pair then, even if the first one was leaked rather than dropped.
        self.split_done.store(true, Ordering::Relaxed);
        let queue: &Self = self;
        (Producer::new(queue), Consumer::new(queue))
    }

    /// The number of slots, `N` (all of them usable).
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// A snapshot of the number of queued items, from any context. It may be stale by the time
    /// it is used; the handles' `len` / `free_space` give bounds that only grow in the caller's
    /// favour.
    #[must_use]
    pub fn len(&self) -> usize {
        let head = self.consumer.0.head.load(Ordering::Acquire);
        let tail = self.producer.0.tail.load(Ordering::Acquire);
        Ring::<N>::distance(head, tail)
    }

    /// Whether the snapshot of [`Queue::len`] is zero.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The queue's [`WakeMode`].
    #[must_use]
    pub const fn wake_mode(&self) -> WakeMode {
        self.producer.0.mode
    }

    /// Pointer to slot `slot` (`slot < N`). Writing through it needs ownership of the slot.
    #[inline(always)]
    pub(crate) fn slot_ptr(&self, slot: usize) -> *mut MaybeUninit<T> {
        debug_assert!(slot < N);
        // SAFETY: `slot < N`, so the offset stays inside the array the pointer was taken from.
        // `raw_get` turns the `UnsafeCell` pointer into a pointer that may be written through.
        UnsafeCell::raw_get(unsafe { self.slots.as_ptr().add(slot) })
    }

    /// The producer's notification after publishing `count` items up to `new_tail` (called
    /// once per push or batch). Runs in the producer's (interrupt) context: no blocking, no allocation.
    ///
    /// One byte tells what to do (see [`Plan`]): the wake mode's fixed bits and whether a
    /// consumer is parked. When it is zero (no consumer parked in `Off`, `SingleCore` or
    /// `Asymmetric` without a pend hook) the push is done after one load and one branch.
    #[inline(always)]
    pub(crate) fn notify(&self, count: usize) {
        self.push_fence();
        let plan = self.waiter.0.plan.load(Ordering::Relaxed);
        if plan != 0 {
            self.notify_planned(plan, count);
        }
    }

    /// The producer's side of the fence-free handshakes (`SingleCore`, `Asymmetric`): only the
    /// compiler must keep the tail store before the plan load. On one CPU program order does
    /// the rest; across CPUs the consumer's heavy barrier lands between two of our
    /// instructions (see [`WakeMode`]).
    #[cfg(not(loom))]
    #[inline(always)]
    fn push_fence(&self) {
        core::sync::atomic::compiler_fence(Ordering::SeqCst);
    }

    /// Under loom, the `SeqCst` fence that stands for one CPU's program order (see
    /// `sync::single_core_fence`), in exactly the modes that rely on it, so that the models
    /// of `Level` and `Edge` check their own fence, not this one.
    #[cfg(loom)]
    fn push_fence(&self) {
        if matches!(
            self.producer.0.mode,
            WakeMode::SingleCore | WakeMode::Asymmetric(_)
        ) {
            crate::sync::single_core_fence();
        }
    }

    /// [`Queue::notify`] when the plan has work: a fence, a parked consumer, a pend hook.
    #[inline(always)]
    fn notify_planned(&self, mut plan: u8, count: usize) {
        if plan & Plan::FENCE != 0 {
            // `Level` and `Edge`: orders the tail store before the plan load; pairs with the
            // fence the consumer runs between raising `PARKED` and re-checking `tail`
            // (Dekker): at least one side sees the other's store, so no wake-up is lost. Only
            // the load after the fence counts; the fixed bits are in every value of `plan`.
            fence(Ordering::SeqCst);
            plan = self.waiter.0.plan.load(Ordering::Relaxed);
        }
        if plan & (Plan::PARKED | Plan::PEND | Plan::EDGE) != 0 {
            self.wake_consumer(plan, count);
        }
    }

    /// Wakes a parked consumer and pends the bottom half, as `plan` (loaded after the
    /// handshake fence) says.
    ///
    /// Out of line: it calls the waker and the pend hook, so inlined it would make every
    /// push save and restore registers for calls that a push without a waiting consumer or
    /// hook never makes.
    #[inline(never)]
    fn wake_consumer(&self, plan: u8, count: usize) {
        // `Edge`: notify only if the consumer's head is where our tail was before the push.
        // The same Dekker pairing, with the fence the consumer runs when it finds the queue
        // empty: either it sees our tail, or we see its final head. Our tail is read back
        // (only we write it, so this is the value just stored): passing it in would keep the
        // old tail in a register across every push, in every mode.
        if plan & Plan::EDGE != 0 {
            let head = self.consumer.0.head.load(Ordering::Relaxed);
            let tail = self.producer.0.tail.load(Ordering::Relaxed);
            if Ring::<N>::advance(head, count) != tail {
                return;
            }
        }
        if plan & Plan::PARKED != 0 {
            self.waiter.0.wake_parked();
        }
        if plan & Plan::PEND != 0 {
            if let Some(pend) = self.producer.0.pend {
                pend.pend();
            }
        }
    }

    /// The consumer's fresh view of `tail`. `head` is the consumer's index.
    ///
    /// In [`WakeMode::Edge`], before reporting "empty" the consumer runs a `SeqCst` fence and
    /// looks again, so that a producer that publishes after this point sees the consumer's final
    /// head and recognises the empty -> non-empty edge (see [`Queue::notify`]).
    #[inline(always)]
    pub(crate) fn observe_tail(&self, head: usize) -> usize {
        let tail = self.producer.0.tail.load(Ordering::Acquire);
        if tail == head {
            return self.observe_tail_when_empty(head);
        }
        tail
    }

    /// [`Queue::observe_tail`] once `tail` was seen equal to `head`: looks again after the
    /// fence in [`WakeMode::Edge`], returns `head` (empty) in the other modes.
    #[cold]
    fn observe_tail_when_empty(&self, head: usize) -> usize {
        if matches!(self.producer.0.mode, WakeMode::Edge) {
            fence(Ordering::SeqCst);
            return self.producer.0.tail.load(Ordering::Acquire);
        }
        head
    }
}

impl<T, const N: usize> Default for Queue<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> Drop for Queue<T, N> {
    fn drop(&mut self) {
        let head = self.consumer.0.head.load(Ordering::Relaxed);
        let tail = self.producer.0.tail.load(Ordering::Relaxed);
        let (first, first_len, second_len) =
            Ring::<N>::split_range(head, Ring::<N>::distance(head, tail));
        // `&mut self` excludes every other access, and the slots in `head .. tail` hold
        // initialized items that nobody has read out: the part up to the end of the array and
        // the part that wrapped. The wrapped part is dropped by a guard, so that a destructor
        // panicking in the first part does not leak it (slice drops go on past a panic too).
        let _wrapped = DropInPlace(ptr::slice_from_raw_parts_mut(
            self.slot_ptr(0).cast::<T>(),
            second_len,
        ));
        // SAFETY: see above; the two ranges are disjoint, each is dropped exactly once.
        unsafe {
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                self.slot_ptr(first).cast::<T>(),
                first_len,
            ));
        }
    }
}

/// Drops the items of a slice of slots when dropped (see `Queue::drop`).
struct DropInPlace<T>(*mut [T]);

impl<T> Drop for DropInPlace<T> {
    fn drop(&mut self) {
        // SAFETY: built only in `Queue::drop` over initialized slots that nothing else drops
        // or reads (the queue is being dropped through `&mut`).
        unsafe { ptr::drop_in_place(self.0) }
    }
}

impl<T, const N: usize> fmt::Debug for Queue<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("capacity", &N)
            .field("len", &self.len())
            .field("wake_mode", &self.producer.0.mode)
            .field("pend_hook", &self.producer.0.pend.is_some())
            .field("split", &self.split_done.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PushError;
    use std::sync::atomic::AtomicUsize as StdAtomicUsize;
    use std::sync::Arc;

    /// Counts how many of its values were dropped.
    struct DropCounter(Arc<StdAtomicUsize>);

    impl Drop for DropCounter {
        fn drop(&mut self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    #[test]
    fn full_capacity_is_usable_for_any_n() {
        fn fill<const N: usize>() {
            let mut queue: Queue<usize, N> = Queue::new();
            let (mut tx, mut rx) = queue.split();
            for lap in 0..3 {
                for i in 0..N {
                    assert_eq!(tx.try_push(lap * N + i), Ok(()));
                }
                assert_eq!(tx.try_push(usize::MAX), Err(PushError::Full(usize::MAX)));
                assert!(tx.is_full());
                assert_eq!(rx.len(), N);
                for i in 0..N {
                    assert_eq!(rx.try_pop(), Ok(lap * N + i));
                }
                assert!(rx.is_empty());
            }
        }
        fill::<1>();
        fill::<2>();
        fill::<3>();
        fill::<5>();
        fill::<8>();
    }

    #[test]
    fn drop_releases_queued_items_including_wrapped_ones() {
        let drops = Arc::new(StdAtomicUsize::new(0));
        {
            let mut queue: Queue<DropCounter, 3> = Queue::new();
            let (mut tx, mut rx) = queue.split();
            for _ in 0..3 {
                assert!(tx.try_push(DropCounter(drops.clone())).is_ok());
            }
            drop(rx.try_pop()); // 1 dropped; the next pushes wrap around
            drop(rx.try_pop()); // 2 dropped
            assert!(tx.try_push(DropCounter(drops.clone())).is_ok());
            assert!(tx.try_push(DropCounter(drops.clone())).is_ok());
            assert_eq!(drops.load(std::sync::atomic::Ordering::Relaxed), 2);
        }
        assert_eq!(drops.load(std::sync::atomic::Ordering::Relaxed), 5);
    }

    #[test]
    fn split_static_works_once_and_resplit_keeps_contents() {
        let queue: &'static Queue<u8, 4> =
            std::boxed::Box::leak(std::boxed::Box::new(Queue::new()));
        let (mut tx, mut rx) = queue.split_static().unwrap();
        assert_eq!(queue.split_static().err(), Some(AlreadySplit));
        tx.try_push(3).unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!(rx.try_pop(), Ok(3));

        let mut local: Queue<u8, 4> = Queue::new();
        local.split().0.try_push(9).unwrap();
        assert_eq!(local.split().1.try_pop(), Ok(9));
    }

    /// A queue whose indices have counted up to just below `usize::MAX` (as after that many
    /// items): for a power-of-two `N` they run freely and wrap with the machine word.
    fn near_the_wrap<T, const N: usize>(queue: &mut Queue<T, N>, before_wrap: usize) {
        let start = 0usize.wrapping_sub(before_wrap);
        queue.producer.0.tail.store(start, Ordering::Relaxed);
        queue.consumer.0.head.store(start, Ordering::Relaxed);
    }

    #[test]
    fn free_running_indices_wrap_past_usize_max() {
        let mut queue: Queue<usize, 4> = Queue::new();
        near_the_wrap(&mut queue, 3);
        let (mut tx, mut rx) = queue.split();
        let (mut pushed, mut popped) = (0, 0);
        for _ in 0..6 {
            while tx.try_push(pushed).is_ok() {
                pushed += 1;
            }
            assert!(tx.is_full());
            assert_eq!((tx.free_space(), rx.len()), (0, 4));
            assert_eq!(rx.try_pop(), Ok(popped));
            popped += 1;
            assert_eq!(tx.push_slice(&[pushed]), 1);
            pushed += 1;
            let mut out = [0; 3];
            assert_eq!(rx.pop_slice(&mut out), 3);
            assert_eq!(out, [popped, popped + 1, popped + 2]);
            popped += 3;
            let chunk = rx.read_chunk(usize::MAX);
            assert_eq!(chunk.len(), 1);
            assert_eq!(chunk.into_iter().next(), Some(popped));
            popped += 1;
            assert!(rx.is_empty());
            assert_eq!(tx.free_space(), 4);
        }
        assert_eq!(pushed, popped);
        assert_eq!(pushed, 6 * 5);
    }

    #[test]
    fn drop_releases_items_on_both_sides_of_the_word_wrap() {
        let drops = Arc::new(StdAtomicUsize::new(0));
        {
            let mut queue: Queue<DropCounter, 4> = Queue::new();
            near_the_wrap(&mut queue, 2);
            let (mut tx, _rx) = queue.split();
            for _ in 0..3 {
                assert!(tx.try_push(DropCounter(drops.clone())).is_ok());
            }
        }
        assert_eq!(drops.load(std::sync::atomic::Ordering::Relaxed), 3);
    }

    #[test]
    fn zero_sized_items_are_counted() {
        let mut queue: Queue<(), 3> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        assert_eq!(tx.push_slice(&[(); 5]), 3);
        assert_eq!(rx.try_pop(), Ok(()));
        assert_eq!(rx.len(), 2);
    }

    #[test]
    fn debug_output_names_the_state() {
        let queue: Queue<u8, 4> = Queue::new().with_wake_mode(WakeMode::Edge);
        let text = std::format!("{queue:?}");
        assert!(
            text.contains("capacity: 4") && text.contains("Edge"),
            "{text}"
        );
    }
}
