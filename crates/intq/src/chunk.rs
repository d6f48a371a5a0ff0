//! Zero-copy access to the free region (for the producer) and the filled region (for the
//! consumer). Each region may wrap around the end of the slot array, so it is handed out as two
//! slices; the second one is empty unless the region wraps.

use core::fmt;
use core::mem::{self, MaybeUninit};
use core::ptr;

use crate::index::Ring;
use crate::{CommitError, Consumer, Producer};

/// Free slots reserved by [`Producer::write_chunk_uninit`], to be written in place and then
/// published with one index store.
///
/// Dropping (or leaking) the chunk without committing publishes nothing (items written into it
/// are then leaked, never dropped, and the slots stay free).
pub struct WriteChunkUninit<'p, 'a, T, const N: usize> {
    producer: &'p mut Producer<'a, T, N>,
    tail: usize,
    len: usize,
}

impl<'p, 'a, T, const N: usize> WriteChunkUninit<'p, 'a, T, N> {
    pub(crate) fn new(producer: &'p mut Producer<'a, T, N>, tail: usize, len: usize) -> Self {
        producer.queue().tracker.write(Ring::<N>::slot(tail), len);
        Self {
            producer,
            tail,
            len,
        }
    }

    /// The number of reserved slots.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no slot was free.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The reserved slots, in queue order: the part up to the end of the slot array, and the
    /// part that wrapped to its start.
    pub fn as_mut_slices(&mut self) -> (&mut [MaybeUninit<T>], &mut [MaybeUninit<T>]) {
        let (slot, first_len, second_len) = Ring::<N>::split_range(self.tail, self.len);
        let queue = self.producer.queue();
        // SAFETY: the `len` slots from `tail` are free (checked against `head` in `reserve`), so
        // they belong to the producer, and `self` borrows the producer mutably, so nothing else
        // touches them while the slices live. The two ranges `slot .. slot + first_len` and
        // `0 .. second_len` are inside the array and disjoint (`first_len + second_len <= N`).
        unsafe {
            (
                &mut *ptr::slice_from_raw_parts_mut(queue.slot_ptr(slot), first_len),
                &mut *ptr::slice_from_raw_parts_mut(queue.slot_ptr(0), second_len),
            )
        }
    }

    /// Publishes the first `count` reserved slots (one index store, one notification).
    ///
    /// # Errors
    ///
    /// [`CommitError`] if `count` exceeds the chunk's length; nothing is published then.
    ///
    /// # Safety
    ///
    /// The first `count` slots of [`as_mut_slices`](Self::as_mut_slices) (in order) must have
    /// been initialized.
    pub unsafe fn commit(self, count: usize) -> Result<(), CommitError> {
        if count > self.len {
            return Err(CommitError {
                requested: count,
                chunk_len: self.len,
            });
        }
        if count > 0 {
            self.producer.publish(self.tail, count);
        }
        Ok(())
    }

    /// Moves items from `items` into the chunk until either runs out, publishes them, and
    /// returns how many were written. Items beyond the chunk's length are not taken from the
    /// iterator.
    ///
    /// If the iterator panics, the items it yielded before are published all the same (nothing
    /// is lost or leaked), then the panic goes on.
    pub fn fill_from_iter<I: IntoIterator<Item = T>>(self, items: I) -> usize {
        let (slot, first_len, second_len) = Ring::<N>::split_range(self.tail, self.len);
        let mut items = items.into_iter();
        // Publishes on every exit, unwinding included: a slot counts in `written` only once it
        // holds an item, so exactly the initialized slots are published.
        let mut publish = PublishOnDrop {
            producer: self.producer,
            tail: self.tail,
            written: 0,
        };
        let slots = (slot..slot + first_len).chain(0..second_len);
        for slot in slots {
            let Some(item) = items.next() else { break };
            publish.producer.queue().tracker.write(slot, 1);
            // SAFETY: the chunk's slots are free and belong to the producer, which `publish`
            // borrows mutably (see `as_mut_slices`); `slot < N` by `split_range`. Writing a
            // `MaybeUninit` slot drops nothing.
            unsafe { (*publish.producer.queue().slot_ptr(slot)).write(item) };
            publish.written += 1;
        }
        publish.written
    }

    /// Copies as many items of `items` as fit, publishes them, and returns how many were
    /// copied.
    pub fn fill_from_slice(mut self, items: &[T]) -> usize
    where
        T: Copy,
    {
        let count = items.len().min(self.len);
        {
            let (first, second) = self.as_mut_slices();
            let in_first = count.min(first.len());
            // SAFETY: `in_first <= first.len()` and `count - in_first <= second.len()` (because
            // `count <= len = first.len() + second.len()`); source and destination do not
            // overlap (`items` is a shared borrow, the slots are borrowed mutably from the
            // queue); `MaybeUninit<T>` has the layout of `T`.
            unsafe {
                ptr::copy_nonoverlapping(items.as_ptr(), first.as_mut_ptr().cast::<T>(), in_first);
                ptr::copy_nonoverlapping(
                    items.as_ptr().add(in_first),
                    second.as_mut_ptr().cast::<T>(),
                    count - in_first,
                );
            }
        }
        // SAFETY: the first `count` slots were initialized by the copies above.
        let committed = unsafe { self.commit(count) };
        debug_assert!(committed.is_ok());
        count
    }
}

impl<T, const N: usize> fmt::Debug for WriteChunkUninit<'_, '_, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteChunkUninit")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Publishes the first `written` slots from `tail` when dropped (normal exit or unwinding).
struct PublishOnDrop<'p, 'a, T, const N: usize> {
    producer: &'p mut Producer<'a, T, N>,
    tail: usize,
    /// Slots from `tail` that hold an item. Raised only after the slot was written.
    written: usize,
}

impl<T, const N: usize> Drop for PublishOnDrop<'_, '_, T, N> {
    fn drop(&mut self) {
        if self.written > 0 {
            self.producer.publish(self.tail, self.written);
        }
    }
}

/// Frees the first `dropped` slots from `head` when dropped (normal exit or unwinding).
struct ReleaseOnDrop<'c, 'a, T, const N: usize> {
    consumer: &'c mut Consumer<'a, T, N>,
    head: usize,
    /// Slots from `head` whose item was dropped (or is being dropped).
    dropped: usize,
}

impl<T, const N: usize> Drop for ReleaseOnDrop<'_, '_, T, N> {
    fn drop(&mut self) {
        if self.dropped > 0 {
            self.consumer.release(self.head, self.dropped);
        }
    }
}

/// The oldest items, borrowed in place by [`Consumer::read_chunk`]; consume some or all of them
/// with [`commit`](Self::commit), or move them out by value with `into_iter`.
///
/// Dropping (or leaking) the chunk without committing leaves every item in the queue.
///
/// Like the [`Consumer`], a chunk is `Send` if `T` is and `Sync` only if `T` is `Sync` too,
/// because `as_slices(&self)` hands out `&T`:
///
/// ```compile_fail,E0277
/// use core::cell::Cell;
/// use irqkit_intq::Queue;
///
/// let mut queue: Queue<Cell<u32>, 4> = Queue::new();
/// let (mut tx, mut rx) = queue.split();
/// tx.try_push(Cell::new(0)).unwrap();
/// let chunk = rx.read_chunk(1);
/// let chunk = &chunk;
/// std::thread::scope(|s| {
///     s.spawn(move || chunk.as_slices().0[0].set(1)); // error: `Cell<u32>` is not `Sync`
///     chunk.as_slices().0[0].set(2);
/// });
/// ```
pub struct ReadChunk<'c, 'a, T, const N: usize> {
    consumer: &'c mut Consumer<'a, T, N>,
    head: usize,
    len: usize,
}

impl<'c, 'a, T, const N: usize> ReadChunk<'c, 'a, T, N> {
    pub(crate) fn new(consumer: &'c mut Consumer<'a, T, N>, head: usize, len: usize) -> Self {
        consumer.queue().tracker.read(Ring::<N>::slot(head), len);
        Self {
            consumer,
            head,
            len,
        }
    }

    /// The number of items in the chunk.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the queue had no item.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The items, oldest first: the part up to the end of the slot array, and the part that
    /// wrapped to its start.
    #[must_use]
    pub fn as_slices(&self) -> (&[T], &[T]) {
        let (slot, first_len, second_len) = Ring::<N>::split_range(self.head, self.len);
        let queue = self.consumer.queue();
        // SAFETY: the `len` slots from `head` were published by the producer (Acquire load of
        // `tail` in `available`), hold initialized items, and belong to the consumer until it
        // moves `head`, which needs the `&mut Consumer` this chunk holds. The ranges are inside
        // the array and disjoint.
        unsafe {
            (
                &*ptr::slice_from_raw_parts(queue.slot_ptr(slot).cast::<T>(), first_len),
                &*ptr::slice_from_raw_parts(queue.slot_ptr(0).cast::<T>(), second_len),
            )
        }
    }

    /// The items, mutable in place (for example to decode a buffer before consuming it).
    pub fn as_mut_slices(&mut self) -> (&mut [T], &mut [T]) {
        let (slot, first_len, second_len) = Ring::<N>::split_range(self.head, self.len);
        let queue = self.consumer.queue();
        // SAFETY: as in `as_slices`; `&mut self` makes the borrow exclusive.
        unsafe {
            (
                &mut *ptr::slice_from_raw_parts_mut(queue.slot_ptr(slot).cast::<T>(), first_len),
                &mut *ptr::slice_from_raw_parts_mut(queue.slot_ptr(0).cast::<T>(), second_len),
            )
        }
    }

    /// Consumes (drops) the oldest `count` items of the chunk and frees their slots with one
    /// index store.
    ///
    /// If an item's destructor panics, the slots of the items dropped so far (that one
    /// included) are freed and the others stay queued, then the panic goes on.
    ///
    /// # Errors
    ///
    /// [`CommitError`] if `count` exceeds the chunk's length; nothing is consumed then.
    pub fn commit(self, count: usize) -> Result<(), CommitError> {
        if count > self.len {
            return Err(CommitError {
                requested: count,
                chunk_len: self.len,
            });
        }
        let mut release = ReleaseOnDrop {
            consumer: self.consumer,
            head: self.head,
            dropped: 0,
        };
        if mem::needs_drop::<T>() {
            let (slot, first_len, second_len) = Ring::<N>::split_range(self.head, count);
            for slot in (slot..slot + first_len).chain(0..second_len) {
                // Counted first: an item whose destructor panics is dropped all the same (its
                // fields are dropped during the unwinding), so its slot must be freed with it.
                release.dropped += 1;
                release.consumer.queue().tracker.write(slot, 1);
                // SAFETY: the slot is one of the chunk's (`count <= len`), holds a published
                // item owned by the consumer (see `as_slices`), and is dropped once: the loop
                // visits each slot once and `release` frees it, so it is never read again.
                unsafe {
                    ptr::drop_in_place((*release.consumer.queue().slot_ptr(slot)).as_mut_ptr())
                };
            }
        } else {
            release.dropped = count;
        }
        Ok(())
    }

    /// Consumes every item of the chunk.
    pub fn commit_all(self) {
        let len = self.len;
        let committed = self.commit(len);
        debug_assert!(committed.is_ok());
    }
}

impl<'c, 'a, T, const N: usize> IntoIterator for ReadChunk<'c, 'a, T, N> {
    type Item = T;
    type IntoIter = ReadChunkIntoIter<'c, 'a, T, N>;

    /// Moves the items out by value, freeing each slot as its item is taken (items not taken
    /// stay in the queue, even if the iterator is leaked).
    fn into_iter(self) -> Self::IntoIter {
        ReadChunkIntoIter {
            consumer: self.consumer,
            head: self.head,
            left: self.len,
        }
    }
}

impl<T, const N: usize> fmt::Debug for ReadChunk<'_, '_, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadChunk")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Iterator over a [`ReadChunk`]'s items by value (see its `IntoIterator` implementation).
///
/// Each item's slot is freed as the item is moved out, so the queue never holds an item that
/// was handed out, whether or not the iterator is dropped.
pub struct ReadChunkIntoIter<'c, 'a, T, const N: usize> {
    consumer: &'c mut Consumer<'a, T, N>,
    /// Index of the next item; equal to the consumer's `head`.
    head: usize,
    /// Items of the chunk not taken yet.
    left: usize,
}

impl<T, const N: usize> Iterator for ReadChunkIntoIter<'_, '_, T, N> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.left == 0 {
            return None;
        }
        let slot = Ring::<N>::slot(self.head);
        self.consumer.queue().tracker.read(slot, 1);
        // SAFETY: slot `head` is in the chunk (`left > 0`), so it holds a published item that
        // belongs to the consumer, and it has not been read: `head` moves past it right below,
        // in the same step, so it is never read again (even if this iterator is leaked).
        let item = unsafe { (*self.consumer.queue().slot_ptr(slot)).assume_init_read() };
        self.consumer.release(self.head, 1);
        self.head = Ring::<N>::advance(self.head, 1);
        self.left -= 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl<T, const N: usize> ExactSizeIterator for ReadChunkIntoIter<'_, '_, T, N> {}

impl<T, const N: usize> core::iter::FusedIterator for ReadChunkIntoIter<'_, '_, T, N> {}

impl<T, const N: usize> fmt::Debug for ReadChunkIntoIter<'_, '_, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadChunkIntoIter")
            .field("left", &self.left)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use crate::{CommitError, Queue};
    use std::string::{String, ToString};
    use std::vec::Vec;

    #[test]
    fn write_chunk_slices_wrap_and_commit_partially() {
        let mut queue: Queue<u32, 4> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        tx.push_slice(&[0, 0, 0]);
        let mut out = [0; 3];
        rx.pop_slice(&mut out); // head = tail = 3
        let mut chunk = tx.write_chunk_uninit(4);
        let (first, second) = chunk.as_mut_slices();
        assert_eq!((first.len(), second.len()), (1, 3));
        first[0].write(10);
        second[0].write(11);
        // SAFETY: the first two slots (in order) were written above.
        unsafe { chunk.commit(2) }.unwrap();
        assert_eq!(rx.try_pop(), Ok(10));
        assert_eq!(rx.try_pop(), Ok(11));
    }

    #[test]
    fn committing_more_than_the_chunk_is_an_error_and_commits_nothing() {
        let mut queue: Queue<u32, 4> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        let chunk = tx.write_chunk_uninit(2);
        // SAFETY: the commit is rejected before any slot is published.
        let error = unsafe { chunk.commit(3) };
        assert_eq!(
            error,
            Err(CommitError {
                requested: 3,
                chunk_len: 2
            })
        );
        assert!(rx.is_empty());

        tx.push_slice(&[1, 2]);
        let chunk = rx.read_chunk(8);
        assert_eq!(
            chunk.commit(5),
            Err(CommitError {
                requested: 5,
                chunk_len: 2
            })
        );
        assert_eq!(rx.len(), 2);
    }

    #[test]
    fn read_chunk_moves_out_owned_items_and_frees_only_those_taken() {
        let mut queue: Queue<String, 3> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        for word in ["a", "b", "c"] {
            tx.try_push(word.to_string()).unwrap();
        }
        let taken: Vec<String> = rx.read_chunk(3).into_iter().take(2).collect();
        assert_eq!(taken, ["a", "b"]);
        assert_eq!(rx.len(), 1);
        let mut chunk = rx.read_chunk(3);
        chunk.as_mut_slices().0[0].push('!');
        assert_eq!(chunk.as_slices().0, ["c!"]);
        chunk.commit(1).unwrap(); // drops "c!"
        assert!(rx.is_empty());
    }

    #[test]
    fn fill_from_iter_stops_at_the_chunk_end_without_taking_more() {
        let mut queue: Queue<u8, 3> = Queue::new();
        let (mut tx, _rx) = queue.split();
        let mut source = 1..=10u8;
        assert_eq!(tx.write_chunk_uninit(2).fill_from_iter(&mut source), 2);
        assert_eq!(source.next(), Some(3));
    }

    #[test]
    fn a_panicking_destructor_during_commit_frees_exactly_the_emptied_slots() {
        struct Bomb(bool);
        impl Drop for Bomb {
            fn drop(&mut self) {
                if self.0 {
                    panic!("destructor failure");
                }
            }
        }
        let mut queue: Queue<Bomb, 4> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        for armed in [false, true, false] {
            assert!(tx.try_push(Bomb(armed)).is_ok());
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rx.read_chunk(3).commit_all();
        }));
        assert!(result.is_err());
        // The first two items were moved out (one dropped, one panicked): one item is left.
        assert_eq!(rx.len(), 1);
        assert!(rx.try_pop().is_ok());
    }
}
