//! The producer end: owned by the interrupt handler (the top half).

use core::fmt;

use crate::index::Ring;
use crate::sync::Ordering;
use crate::{Overrun, PushError, Queue, WriteChunkUninit};

/// The writing end of a [`Queue`], owned by the top half (the interrupt handler).
///
/// There is exactly one per queue (see [`Queue::split_static`] and [`Queue::split`]); it is
/// not `Clone`. It is `Send` and `Sync` if `T` is `Send` (move it into the interrupt handler's
/// state): a shared producer hands out no item, only counts. Every operation is
/// wait-free and O(1) (batches O(n) in the copy only), uses only atomic loads and stores, and
/// never blocks: a full queue is reported, never waited on.
///
/// # Orderings
///
/// The producer reads its own `tail` `Relaxed` (nobody else writes it), reads the consumer's
/// `head` with `Acquire` only when its cached copy says the queue is full (so the consumer's
/// reads of a slot happen before the slot is overwritten), writes the item, and publishes it
/// with a `Release` store of `tail` (so the write happens before the consumer's read).
///
/// Handles cannot be duplicated:
///
/// ```compile_fail,E0599
/// use irqkit_intq::Queue;
///
/// static QUEUE: Queue<u8, 4> = Queue::new();
/// let (tx, _rx) = QUEUE.split_static().unwrap();
/// let second = tx.clone(); // error: `Producer` is not `Clone`
/// ```
///
/// nor lead back to their queue (which could then be split again):
///
/// ```compile_fail,E0624
/// use irqkit_intq::Queue;
///
/// let queue: &'static mut Queue<u8, 4> = Box::leak(Box::new(Queue::new()));
/// let (tx, _rx) = queue.split();
/// let (tx2, rx2) = tx.queue().split_static().unwrap(); // error: `queue` is private
/// ```
///
/// A producer of items that are not `Send` cannot move to another thread (or interrupt
/// context):
///
/// ```compile_fail,E0277
/// use std::rc::Rc;
/// use irqkit_intq::Queue;
///
/// let mut queue: Queue<Rc<u8>, 4> = Queue::new();
/// let (mut tx, _rx) = queue.split();
/// std::thread::scope(|s| {
///     s.spawn(move || tx.try_push(Rc::new(1))); // error: `Rc<u8>` is not `Send`
/// });
/// ```
pub struct Producer<'a, T, const N: usize> {
    queue: &'a Queue<T, N>,
    /// The producer's last view of the consumer's `head`, kept as the index at which that view
    /// says the queue is full (`head + N`), so that a push compares it with `tail` directly.
    /// The real `head` is at least as far, so the free space it shows is never more than the
    /// truth.
    full_at: usize,
}

impl<'a, T, const N: usize> Producer<'a, T, N> {
    /// The producer of `queue`, whose indices nobody moves while the handle is made (`split`
    /// holds `&mut Queue`; `split_static` runs once, before any handle exists).
    pub(crate) fn new(queue: &'a Queue<T, N>) -> Self {
        Self {
            queue,
            full_at: Ring::<N>::advance(queue.consumer.0.head.load(Ordering::Acquire), N),
        }
    }

    /// The queue this producer writes to. Crate-private: a handle must not lead back to its
    /// queue, or safe code could split it a second time.
    pub(crate) fn queue(&self) -> &'a Queue<T, N> {
        self.queue
    }

    /// The number of slots, `N`.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The producer's own index, read back from the queue: only this handle writes it, so the
    /// load sees its last store. Not copied into the handle: on one CPU, a push that reads the
    /// index it stored last time is faster than one that stores it twice (handle and queue).
    #[inline(always)]
    fn tail(&self) -> usize {
        self.queue.producer.0.tail.load(Ordering::Relaxed)
    }

    /// Returns `(tail, free)`: the producer's index and the number of free slots, refreshing the
    /// cached head only if the cache shows fewer than `wanted` free slots.
    #[inline(always)]
    pub(crate) fn reserve(&mut self, wanted: usize) -> (usize, usize) {
        let tail = self.tail();
        let free = Ring::<N>::distance(tail, self.full_at);
        if free >= wanted {
            return (tail, free);
        }
        (tail, Ring::<N>::distance(tail, self.refresh_full_at()))
    }

    /// Loads the consumer's `head` (`Acquire`: its reads of the slots it freed happen before
    /// we overwrite them) and caches where it makes the queue full.
    #[inline(always)]
    fn refresh_full_at(&mut self) -> usize {
        let head = self.queue.consumer.0.head.load(Ordering::Acquire);
        self.full_at = Ring::<N>::advance(head, N);
        self.full_at
    }

    /// Publishes `count` items written at `tail ..` and notifies the consumer.
    #[inline(always)]
    pub(crate) fn publish(&mut self, tail: usize, count: usize) {
        self.publish_up_to(Ring::<N>::advance(tail, count), count);
    }

    /// Publishes the `count` items written up to `new_tail` and notifies the consumer.
    #[inline(always)]
    fn publish_up_to(&mut self, new_tail: usize, count: usize) {
        self.queue
            .producer
            .0
            .tail
            .store(new_tail, Ordering::Release);
        self.queue.notify(count);
    }

    /// Appends `value`, or hands it back if the queue is full (the `EAGAIN` of this world).
    ///
    /// A rejection is not counted as an overrun (the caller may retry or count it with
    /// [`Producer::record_overruns`]); interrupt handlers usually want
    /// [`Producer::push_or_count`].
    ///
    /// # Errors
    ///
    /// [`PushError::Full`] with `value` if all `N` slots hold unread items.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::{PushError, Queue};
    ///
    /// let mut queue: Queue<char, 1> = Queue::new();
    /// let (mut tx, _rx) = queue.split();
    /// assert_eq!(tx.try_push('a'), Ok(()));
    /// assert_eq!(tx.try_push('b'), Err(PushError::Full('b')));
    /// ```
    #[inline]
    pub fn try_push(&mut self, value: T) -> Result<(), PushError<T>> {
        let tail = self.tail();
        // `reserve(1)`, spelled out: one compare while the cache shows room.
        if tail == self.full_at && tail == self.refresh_full_at() {
            return Err(PushError::Full(value));
        }
        // The next index first, so that masking `tail` to a slot needs no copy of it.
        let new_tail = Ring::<N>::advance(tail, 1);
        let slot = Ring::<N>::slot(tail);
        self.queue.tracker.write(slot, 1);
        // SAFETY: `tail != full_at` (fewer than `N` items from `head` to `tail`) means slot `tail`
        // is outside `head .. tail`, so it belongs to the producer: the consumer has finished
        // with it (the Acquire load of `head` in `refresh_full_at`, now or when the cache was
        // filled, ordered its read before this write) and will not read it before the Release
        // store in `publish`.
        unsafe { (*self.queue.slot_ptr(slot)).write(value) };
        self.publish_up_to(new_tail, 1);
        Ok(())
    }

    /// The interrupt handler's push: appends `value`, or, if the queue is full, drops nothing
    /// silently: it counts the rejection as an overrun and hands the value back.
    ///
    /// The overrun count is the queue's equivalent of the `err_count` a Linux `atkbd` keyboard
    /// exposes in sysfs: a running total of input lost because the consumer fell behind, which
    /// the consumer reads with [`Consumer::overruns`](crate::Consumer::overruns) and resets with
    /// [`Consumer::take_overruns`](crate::Consumer::take_overruns). The producer never blocks and never overwrites unread items
    /// (overwriting is incompatible with a lock-free single-producer single-consumer queue: the
    /// consumer may be reading the oldest item at that moment).
    ///
    /// # Errors
    ///
    /// [`Overrun`] with `value` and the new overrun total if the queue is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::Queue;
    ///
    /// let mut queue: Queue<u8, 2> = Queue::new();
    /// let (mut tx, mut rx) = queue.split();
    /// for scancode in [0x1c, 0x9c, 0x32] {
    ///     let _ = tx.push_or_count(scancode); // in an ISR: nothing to do about a full queue
    /// }
    /// assert_eq!(rx.overruns(), 1);
    /// assert_eq!(rx.take_overruns(), 1);
    /// assert_eq!(rx.overruns(), 0);
    /// ```
    #[inline]
    pub fn push_or_count(&mut self, value: T) -> Result<(), Overrun<T>> {
        self.try_push(value).map_err(|error| {
            let total = self.record_overruns(1);
            Overrun {
                value: error.into_inner(),
                total,
            }
        })
    }

    /// Adds `lost` to the overrun count (for items a driver had to discard itself, such as the
    /// tail of a batch that did not fit) and returns the new running total (wrapping).
    pub fn record_overruns(&mut self, lost: usize) -> usize {
        let overruns = &self.queue.producer.0.overruns;
        // Load + store instead of `fetch_add`: the producer is the only writer, and targets such
        // as thumbv6m have no read-modify-write atomics.
        let total = overruns.load(Ordering::Relaxed).wrapping_add(lost);
        overruns.store(total, Ordering::Relaxed);
        total
    }

    /// The running overrun total since the queue was created (wrapping; the consumer's resets
    /// do not change it).
    #[must_use]
    pub fn overruns_total(&self) -> usize {
        self.queue.producer.0.overruns.load(Ordering::Relaxed)
    }

    /// The number of free slots right now. Only the consumer frees slots, so the true number can
    /// only be larger by the time the caller acts on it.
    #[must_use]
    pub fn free_space(&self) -> usize {
        let head = self.queue.consumer.0.head.load(Ordering::Acquire);
        N - Ring::<N>::distance(head, self.tail())
    }

    /// Whether the queue is full right now.
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.free_space() == 0
    }

    /// Copies as many items of `items` as fit, publishes them with a single index store (and
    /// a single notification), and returns how many were pushed.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::Queue;
    ///
    /// let mut queue: Queue<u8, 4> = Queue::new();
    /// let (mut tx, mut rx) = queue.split();
    /// assert_eq!(tx.push_slice(b"hello"), 4);
    /// let mut out = [0; 8];
    /// assert_eq!(rx.pop_slice(&mut out), 4);
    /// assert_eq!(&out[..4], b"hell");
    /// ```
    pub fn push_slice(&mut self, items: &[T]) -> usize
    where
        T: Copy,
    {
        self.write_chunk_uninit(items.len()).fill_from_slice(items)
    }

    /// Reserves up to `max_len` free slots for in-place writing (zero-copy): a driver can DMA or
    /// copy straight into them, then [`commit`](WriteChunkUninit::commit) how many it filled.
    /// The chunk may be shorter than `max_len` (even empty) when the queue has less room.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::Queue;
    ///
    /// let mut queue: Queue<u16, 8> = Queue::new();
    /// let (mut tx, mut rx) = queue.split();
    /// let filled = tx.write_chunk_uninit(3).fill_from_iter(100..);
    /// assert_eq!(filled, 3);
    /// assert_eq!(rx.try_pop(), Ok(100));
    /// ```
    pub fn write_chunk_uninit(&mut self, max_len: usize) -> WriteChunkUninit<'_, 'a, T, N> {
        let (tail, free) = self.reserve(max_len.min(N));
        let len = free.min(max_len);
        WriteChunkUninit::new(self, tail, len)
    }
}

impl<T, const N: usize> fmt::Debug for Producer<'_, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Producer")
            .field("capacity", &N)
            .field("free_space", &self.free_space())
            .field("overruns_total", &self.overruns_total())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::{Overrun, PushError, Queue};

    #[test]
    fn push_or_count_counts_exactly_the_rejections() {
        let mut queue: Queue<u8, 2> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        assert_eq!(tx.push_or_count(1), Ok(()));
        assert_eq!(tx.push_or_count(2), Ok(()));
        assert_eq!(tx.push_or_count(3), Err(Overrun { value: 3, total: 1 }));
        assert_eq!(tx.push_or_count(4), Err(Overrun { value: 4, total: 2 }));
        assert_eq!(tx.try_push(5), Err(PushError::Full(5))); // not counted
        assert_eq!(rx.overruns(), 2);
        assert_eq!(rx.take_overruns(), 2);
        assert_eq!(rx.overruns(), 0);
        assert_eq!(tx.record_overruns(3), 5);
        assert_eq!(tx.overruns_total(), 5);
        assert_eq!(rx.overruns(), 3);
    }

    #[test]
    fn overrun_counter_wraps_without_losing_the_difference() {
        let mut queue: Queue<u8, 1> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        tx.record_overruns(usize::MAX - 1);
        assert_eq!(rx.take_overruns(), usize::MAX - 1);
        tx.record_overruns(5); // total wraps past zero
        assert_eq!(rx.overruns(), 5);
    }

    #[test]
    fn free_space_tracks_pushes_and_pops() {
        let mut queue: Queue<u8, 5> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        assert_eq!(tx.free_space(), 5);
        tx.push_slice(&[1, 2, 3]);
        assert_eq!(tx.free_space(), 2);
        rx.try_pop().unwrap();
        assert_eq!(tx.free_space(), 3);
        assert_eq!(tx.capacity(), 5);
    }

    #[test]
    fn write_chunk_never_exceeds_free_space() {
        let mut queue: Queue<u8, 4> = Queue::new();
        let (mut tx, _rx) = queue.split();
        assert_eq!(tx.write_chunk_uninit(usize::MAX).len(), 4);
        tx.push_slice(&[0; 3]);
        let chunk = tx.write_chunk_uninit(10);
        assert_eq!(chunk.len(), 1);
        assert_eq!(chunk.fill_from_slice(&[7, 8]), 1);
        assert!(tx.write_chunk_uninit(1).is_empty());
    }
}
