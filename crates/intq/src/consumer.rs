//! The consumer end: owned by the thread or bottom half that drains the queue.

use core::fmt;
use core::marker::PhantomData;

use crate::index::Ring;
use crate::sync::Ordering;
use crate::wake::{Pop, Readable};
use crate::{PopError, Queue, ReadChunk, Wait};

/// The reading end of a [`Queue`], owned by the bottom half, a kernel thread or an async task.
///
/// There is exactly one per queue; it is not `Clone`. It is `Send` if `T` is, and `Sync` only if
/// `T` is `Sync` as well, because a shared consumer hands out shared items. [`try_pop`](Self::try_pop),
/// [`peek`](Self::peek) and the batch operations are wait-free and O(1) (plus the copy), using
/// only atomic loads and stores; [`pop_blocking`](Self::pop_blocking) and the futures wait.
///
/// # Orderings
///
/// The consumer reads its own `head` `Relaxed`, reads the producer's `tail` with `Acquire` only
/// when its cached copy says the queue is empty (so the producer's write of a slot happens
/// before the read), reads the item out, and frees the slot with a `Release` store of `head`
/// (so the read happens before the producer overwrites the slot).
///
/// Handles cannot be duplicated:
///
/// ```compile_fail,E0599
/// use irqkit_intq::Queue;
///
/// static QUEUE: Queue<u8, 4> = Queue::new();
/// let (_tx, rx) = QUEUE.split_static().unwrap();
/// let second = rx.clone(); // error: `Consumer` is not `Clone`
/// ```
///
/// nor lead back to their queue (which could then be split again):
///
/// ```compile_fail,E0624
/// use irqkit_intq::Queue;
///
/// let queue: &'static mut Queue<u8, 4> = Box::leak(Box::new(Queue::new()));
/// let (_tx, rx) = queue.split();
/// let again = rx.queue().split_static(); // error: `queue` is private
/// ```
///
/// A consumer of items that are not `Sync` cannot be shared between threads, since `peek` hands
/// out `&T` (two threads could otherwise mutate one `Cell` at once):
///
/// ```compile_fail,E0277
/// use core::cell::Cell;
/// use irqkit_intq::Queue;
///
/// static QUEUE: Queue<Cell<u32>, 4> = Queue::new();
/// let (_tx, rx) = QUEUE.split_static().unwrap();
/// let rx = &rx;
/// std::thread::scope(|s| {
///     s.spawn(move || rx.peek().map(|item| item.set(1))); // error: `Cell<u32>` is not `Sync`
///     let _ = rx.peek().map(|item| item.set(2));
/// });
/// ```
///
/// while moving it to another thread is fine:
///
/// ```
/// use core::cell::Cell;
/// use irqkit_intq::Queue;
///
/// static QUEUE: Queue<Cell<u32>, 4> = Queue::new();
/// let (mut tx, mut rx) = QUEUE.split_static().unwrap();
/// tx.try_push(Cell::new(1)).unwrap();
/// std::thread::spawn(move || rx.try_pop().unwrap().get()).join().unwrap();
/// ```
pub struct Consumer<'a, T, const N: usize> {
    queue: &'a Queue<T, N>,
    /// The consumer's own index: the value of the queue's `head`, which only this handle
    /// writes. Kept here so that a pop reads nothing from the line the producer polls.
    head: usize,
    /// The consumer's last view of the producer's `tail`: at most as far as the real one, so
    /// the items it shows are all published.
    tail_cache: usize,
    /// Makes the consumer `Sync` only if `T` is (see [`SharesItems`]).
    _hands_out_shared_items: SharesItems<T>,
}

/// A zero-sized marker that is `Sync` only if `T` is `Sync`.
///
/// `&Consumer` hands out `&T` ([`Consumer::peek`], and [`ReadChunk::as_slices`] through
/// `&ReadChunk`), so sharing a consumer between threads shares `&T`. (`Send` stays as `&Queue`
/// gives it: `T: Send`.) A marker rather than an `unsafe impl`, so the compiler derives both
/// traits; it is `Unpin` whatever `T` is, as the consumer was without it.
struct SharesItems<T>(PhantomData<T>);

impl<T> Unpin for SharesItems<T> {}

impl<'a, T, const N: usize> Consumer<'a, T, N> {
    /// The consumer of `queue`, whose indices nobody moves while the handle is made (`split`
    /// holds `&mut Queue`; `split_static` runs once, before any handle exists).
    pub(crate) fn new(queue: &'a Queue<T, N>) -> Self {
        Self {
            queue,
            head: queue.consumer.0.head.load(Ordering::Relaxed),
            tail_cache: queue.producer.0.tail.load(Ordering::Acquire),
            _hands_out_shared_items: SharesItems(PhantomData),
        }
    }

    /// The queue this consumer reads from. Crate-private: a handle must not lead back to its
    /// queue, or safe code could split it a second time.
    pub(crate) fn queue(&self) -> &'a Queue<T, N> {
        self.queue
    }

    /// The number of slots, `N`.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Returns `(head, len)`: the consumer's index and the number of readable items,
    /// refreshing the cached tail only if the cache shows fewer than `wanted` items.
    #[inline(always)]
    pub(crate) fn available(&mut self, wanted: usize) -> (usize, usize) {
        let head = self.head;
        let len = Ring::<N>::distance(head, self.tail_cache);
        if len >= wanted {
            return (head, len);
        }
        (head, Ring::<N>::distance(head, self.refresh_tail(head)))
    }

    /// Loads the producer's `tail` into the cache and returns it (see [`Queue::observe_tail`]).
    #[inline(always)]
    fn refresh_tail(&mut self, head: usize) -> usize {
        let tail = self.queue.producer.0.tail.load(Ordering::Acquire);
        self.tail_cache = tail;
        if tail == head {
            return self.refresh_tail_when_empty(head);
        }
        tail
    }

    /// [`Consumer::refresh_tail`] once the queue looked empty: in [`WakeMode::Edge`] looks
    /// again after the fence (see [`Queue::observe_tail`]).
    ///
    /// [`WakeMode::Edge`]: crate::WakeMode::Edge
    #[cold]
    fn refresh_tail_when_empty(&mut self, head: usize) -> usize {
        self.tail_cache = self.queue.observe_tail(head);
        self.tail_cache
    }

    /// The number of readable items, freshly loaded (also refreshes the cache).
    pub(crate) fn refresh_len(&mut self) -> usize {
        self.available(usize::MAX).1
    }

    /// Frees `count` slots starting at `head` (their items must have been moved out or dropped).
    #[inline(always)]
    pub(crate) fn release(&mut self, head: usize, count: usize) {
        let new_head = Ring::<N>::advance(head, count);
        self.head = new_head;
        self.queue
            .consumer
            .0
            .head
            .store(new_head, Ordering::Release);
    }

    /// Removes and returns the oldest item, or reports that there is none (the `EAGAIN` of this
    /// world).
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] if the producer has published no unread item.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::{PopError, Queue};
    ///
    /// let mut queue: Queue<u8, 4> = Queue::new();
    /// let (mut tx, mut rx) = queue.split();
    /// assert_eq!(rx.try_pop(), Err(PopError::Empty));
    /// tx.try_push(42).unwrap();
    /// assert_eq!(rx.try_pop(), Ok(42));
    /// ```
    #[inline]
    pub fn try_pop(&mut self) -> Result<T, PopError> {
        // The queue is loaded once, ahead of the Acquire load that a refresh runs (a load after
        // it could not reuse one from before).
        let (queue, head) = (self.queue, self.head);
        // `available(1)`, spelled out: one compare while the cache shows an item.
        if head == self.tail_cache && head == self.refresh_tail(head) {
            return Err(PopError::Empty);
        }
        // The next index first: then `head` is dead once masked to a slot, and the mask needs
        // no copy of it (`lea` + `and` rather than `mov` + `and` + `inc` on x86).
        let new_head = Ring::<N>::advance(head, 1);
        let slot = Ring::<N>::slot(head);
        queue.tracker.read(slot, 1);
        // SAFETY: `head != tail` means slot `head` is inside `head .. tail`: the producer wrote it
        // before its Release store of `tail`, which our Acquire load (now or when the cache was
        // filled) observed, and it will not touch it again before our Release store of `head`.
        // Reading moves the item out; the slot counts as uninitialized once `head` moves past it.
        let value = unsafe { (*queue.slot_ptr(slot)).assume_init_read() };
        self.head = new_head;
        queue.consumer.0.head.store(new_head, Ordering::Release);
        Ok(value)
    }

    /// The oldest item, left in the queue.
    ///
    /// # Errors
    ///
    /// [`PopError::Empty`] if there is no item.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::Queue;
    ///
    /// let mut queue: Queue<&str, 4> = Queue::new();
    /// let (mut tx, mut rx) = queue.split();
    /// tx.try_push("first").unwrap();
    /// assert_eq!(rx.peek(), Ok(&"first"));
    /// assert_eq!(rx.try_pop(), Ok("first"));
    /// ```
    pub fn peek(&self) -> Result<&T, PopError> {
        let head = self.head;
        if head == self.tail_cache && self.queue.observe_tail(head) == head {
            return Err(PopError::Empty);
        }
        let slot = Ring::<N>::slot(head);
        self.queue.tracker.read(slot, 1);
        // SAFETY: the slot is inside `head .. tail` (published, see `try_pop`), and it stays
        // there while the returned borrow of `self` lives, because only `&mut self` methods
        // advance `head`.
        Ok(unsafe { (*self.queue.slot_ptr(slot)).assume_init_ref() })
    }

    /// The number of readable items right now. Only the producer adds items, so the true
    /// number can only be larger by the time the caller acts on it.
    #[must_use]
    pub fn len(&self) -> usize {
        let tail = self.queue.producer.0.tail.load(Ordering::Acquire);
        Ring::<N>::distance(self.head, tail)
    }

    /// Whether there is no readable item right now.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Items rejected by [`Producer::push_or_count`](crate::Producer::push_or_count) (or
    /// recorded with [`record_overruns`](crate::Producer::record_overruns)) since the queue was
    /// created or the count last reset, like `atkbd`'s `err_count`.
    #[must_use]
    pub fn overruns(&self) -> usize {
        let total = self.queue.producer.0.overruns.load(Ordering::Relaxed);
        // SAFETY: `overruns_seen` is written only through `&mut Consumer`, which cannot coexist
        // with this `&self`.
        let seen = unsafe { *self.queue.consumer.0.overruns_seen.get() };
        total.wrapping_sub(seen)
    }

    /// Returns [`overruns`](Self::overruns) and resets it to zero.
    ///
    /// Implemented without read-modify-write atomics: the producer keeps a running total and
    /// the consumer remembers the total at its last reset, so each counter has one writer.
    pub fn take_overruns(&mut self) -> usize {
        let total = self.queue.producer.0.overruns.load(Ordering::Relaxed);
        // SAFETY: `overruns_seen` is only accessed through the unique consumer, and `&mut self`
        // excludes other accesses through it.
        let seen = unsafe { &mut *self.queue.consumer.0.overruns_seen.get() };
        let count = total.wrapping_sub(*seen);
        *seen = total;
        count
    }

    /// Copies up to `out.len()` items into `out`, frees their slots with a single index store,
    /// and returns how many were copied.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::Queue;
    ///
    /// let mut queue: Queue<u8, 8> = Queue::new();
    /// let (mut tx, mut rx) = queue.split();
    /// tx.push_slice(b"abc");
    /// let mut line = [0u8; 2];
    /// assert_eq!(rx.pop_slice(&mut line), 2);
    /// assert_eq!(&line, b"ab");
    /// ```
    pub fn pop_slice(&mut self, out: &mut [T]) -> usize
    where
        T: Copy,
    {
        let chunk = self.read_chunk(out.len());
        let (first, second) = chunk.as_slices();
        let count = first.len() + second.len();
        out[..first.len()].copy_from_slice(first);
        out[first.len()..count].copy_from_slice(second);
        chunk.commit_all();
        count
    }

    /// Borrows up to `max_len` of the oldest items in place (zero-copy): a driver can parse or
    /// copy them out, then [`commit`](ReadChunk::commit) how many it consumed. The chunk may be
    /// shorter than `max_len` (even empty).
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::Queue;
    ///
    /// let mut queue: Queue<u8, 8> = Queue::new();
    /// let (mut tx, mut rx) = queue.split();
    /// tx.push_slice(b"\xe0\x48\x1c");
    /// let chunk = rx.read_chunk(usize::MAX);
    /// let (first, _wrapped) = chunk.as_slices();
    /// assert_eq!(first, b"\xe0\x48\x1c");
    /// chunk.commit(2).unwrap(); // consume the two-byte extended scancode, keep the rest
    /// assert_eq!(rx.try_pop(), Ok(0x1c));
    /// ```
    pub fn read_chunk(&mut self, max_len: usize) -> ReadChunk<'_, 'a, T, N> {
        let (head, available) = self.available(max_len.min(N));
        let len = available.min(max_len);
        ReadChunk::new(self, head, len)
    }

    /// Removes the oldest item, waiting for one with the caller's strategy while the queue is
    /// empty (spin, halt, or block in the OS).
    ///
    /// # Errors
    ///
    /// Whatever `wait` reports when it gives up (a timeout); nothing is lost then.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::{Queue, Spin};
    ///
    /// static QUEUE: Queue<u32, 8> = Queue::new();
    /// let (mut tx, mut rx) = QUEUE.split_static().unwrap();
    /// std::thread::spawn(move || tx.try_push(5).unwrap());
    /// assert_eq!(rx.pop_blocking(&mut Spin), Ok(5));
    /// ```
    pub fn pop_blocking<W: Wait + ?Sized>(&mut self, wait: &mut W) -> Result<T, W::Error> {
        loop {
            if let Ok(value) = self.try_pop() {
                return Ok(value);
            }
            let (queue, head) = (self.queue, self.head);
            wait.wait(&mut || queue.observe_tail(head) != head)?;
        }
    }

    /// Waits (`.await`) until at least one item is readable and returns how many are; the
    /// producer wakes the task from interrupt context (see [`WakeMode`](crate::WakeMode)).
    /// Useful before draining a [`read_chunk`](Self::read_chunk).
    ///
    /// Cancel-safe: dropping the future removes its waker.
    pub fn readable(&mut self) -> Readable<'_, 'a, T, N> {
        Readable::new(self)
    }

    /// Removes the oldest item, waiting (`.await`) while the queue is empty.
    ///
    /// Cancel-safe: an item is removed only when the future completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_intq::Queue;
    ///
    /// static QUEUE: Queue<u8, 8> = Queue::new();
    ///
    /// async fn keyboard_task(mut rx: irqkit_intq::Consumer<'static, u8, 8>) -> u8 {
    ///     rx.pop().await
    /// }
    /// # use core::future::Future;
    /// # let (mut tx, rx) = QUEUE.split_static().unwrap();
    /// # tx.try_push(0x1c).unwrap();
    /// # let mut task = core::pin::pin!(keyboard_task(rx));
    /// # let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    /// # assert_eq!(task.as_mut().poll(&mut cx), core::task::Poll::Ready(0x1c));
    /// ```
    pub fn pop(&mut self) -> Pop<'_, 'a, T, N> {
        Pop::new(self)
    }
}

impl<T, const N: usize> fmt::Debug for Consumer<'_, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Consumer")
            .field("capacity", &N)
            .field("len", &self.len())
            .field("overruns", &self.overruns())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::{PopError, Queue, SpinLimit, SpinTimeout};

    #[test]
    fn peek_does_not_consume_and_reports_empty() {
        let mut queue: Queue<u8, 3> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        assert_eq!(rx.peek(), Err(PopError::Empty));
        tx.try_push(1).unwrap();
        assert_eq!(rx.peek(), Ok(&1));
        assert_eq!(rx.peek(), Ok(&1));
        assert_eq!(rx.try_pop(), Ok(1));
        assert_eq!(rx.peek(), Err(PopError::Empty));
    }

    #[test]
    fn pop_slice_wraps_around_the_end() {
        let mut queue: Queue<u8, 4> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        tx.push_slice(&[1, 2, 3]);
        let mut out = [0; 2];
        assert_eq!(rx.pop_slice(&mut out), 2);
        assert_eq!(tx.push_slice(&[4, 5, 6]), 3); // slots 3, 0, 1
        let mut out = [0; 8];
        assert_eq!(rx.pop_slice(&mut out), 4);
        assert_eq!(&out[..4], &[3, 4, 5, 6]);
        assert_eq!(rx.pop_slice(&mut out), 0);
    }

    #[test]
    fn pop_blocking_gives_up_through_the_strategy_without_losing_data() {
        let mut queue: Queue<u8, 2> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        assert_eq!(
            rx.pop_blocking(&mut SpinLimit { remaining: 3 }),
            Err(SpinTimeout)
        );
        tx.try_push(8).unwrap();
        assert_eq!(rx.pop_blocking(&mut SpinLimit { remaining: 0 }), Ok(8));
    }
}
