//! What a safe caller can do to the handles: leak them, panic in the middle of an operation,
//! look for a second producer or consumer, share them between threads. Each test stands for a
//! rule the unsafe code relies on (listed in the crate's `SAFETY.md`); run them under Miri too
//! (`cargo +nightly miri test -p irqkit-intq --test soundness`).
//!
//! The bounds that must *not* hold (a `Consumer` of a `!Sync` item shared between threads, a
//! second split, a handle's queue accessor) are `compile_fail` doctests in the crate's docs.

// Every handle is forgotten whether or not it has a destructor today: the guarantee must hold
// either way, and must keep holding if a destructor is added.
#![allow(clippy::forget_non_drop)]

use std::cell::Cell;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use irqkit_intq::{
    AlreadySplit, Consumer, Pop, PopError, Producer, Queue, ReadChunk, ReadChunkIntoIter, Readable,
    WriteChunkUninit,
};

/// Counts drops, so that a double drop or a leak shows up natively as a wrong count (Miri and
/// the allocator catch the double drop of the `Box` as well).
#[derive(Debug)]
struct Tracked {
    value: Box<u64>,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    fn new(value: u64, drops: &Arc<AtomicUsize>) -> Self {
        Self {
            value: Box::new(value),
            drops: drops.clone(),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::Relaxed);
    }
}

fn leak<T>(value: T) -> &'static mut T {
    Box::leak(Box::new(value))
}

// ---------------------------------------------------------------------------------------------
// Auto traits: every handle is `Send`/`Sync` exactly when what it hands out allows it.
// ---------------------------------------------------------------------------------------------

const _: () = {
    const fn send<T: Send>() {}
    const fn sync<T: Sync>() {}

    // The queue moves `T` between contexts: `Send` items suffice for sharing it.
    send::<Queue<Cell<u32>, 4>>();
    sync::<Queue<Cell<u32>, 4>>();
    // The producer hands out no `&T`: `Send` items suffice for both.
    send::<Producer<'static, Cell<u32>, 4>>();
    sync::<Producer<'static, Cell<u32>, 4>>();
    send::<WriteChunkUninit<'static, 'static, Cell<u32>, 4>>();
    sync::<WriteChunkUninit<'static, 'static, Cell<u32>, 4>>();
    // The consumer and its chunk move `T` out (`Send`)...
    send::<Consumer<'static, Cell<u32>, 4>>();
    send::<ReadChunk<'static, 'static, Cell<u32>, 4>>();
    send::<ReadChunkIntoIter<'static, 'static, Cell<u32>, 4>>();
    send::<Readable<'static, 'static, Cell<u32>, 4>>();
    send::<Pop<'static, 'static, Cell<u32>, 4>>();
    // ...and hand out `&T` through `&self` (`peek`, `as_slices`): `Sync` needs `T: Sync`.
    sync::<Consumer<'static, u32, 4>>();
    sync::<ReadChunk<'static, 'static, u32, 4>>();
    sync::<ReadChunkIntoIter<'static, 'static, u32, 4>>();
    sync::<Readable<'static, 'static, u32, 4>>();
    sync::<Pop<'static, 'static, u32, 4>>();
    // The marker that ties `Sync` to `T` leaves the consumer `Unpin` for any `T`.
    const fn unpin<T: Unpin>() {}
    unpin::<Consumer<'static, std::marker::PhantomPinned, 4>>();
    unpin::<Producer<'static, std::marker::PhantomPinned, 4>>();
};

#[test]
fn a_shared_consumer_of_sync_items_peeks_from_two_threads() {
    let mut queue: Queue<u32, 4> = Queue::new();
    let (mut tx, rx) = queue.split();
    tx.try_push(7).unwrap();
    let rx = &rx;
    thread::scope(|s| {
        let peeks: Vec<_> = (0..2)
            .map(|_| s.spawn(move || *rx.peek().unwrap()))
            .collect();
        for peek in peeks {
            assert_eq!(peek.join().unwrap(), 7);
        }
    });
}

#[test]
fn a_consumer_of_send_only_items_moves_to_another_thread() {
    // `Cell` is `Send` but not `Sync`: the consumer may move (and peek there), not be shared.
    let queue: &'static Queue<Cell<u32>, 4> = leak(Queue::new());
    let (mut tx, mut rx) = queue.split_static().unwrap();
    tx.try_push(Cell::new(1)).unwrap();
    let seen = thread::spawn(move || {
        rx.peek().unwrap().set(2);
        rx.try_pop().unwrap().get()
    })
    .join()
    .unwrap();
    assert_eq!(seen, 2);
}

#[test]
fn a_local_queue_of_non_send_items_works_on_one_thread() {
    let mut queue: Queue<Rc<u8>, 2> = Queue::new();
    let (mut tx, mut rx) = queue.split();
    let item = Rc::new(5);
    tx.try_push(item.clone()).unwrap();
    assert_eq!(Rc::strong_count(&item), 2);
    assert_eq!(*rx.try_pop().unwrap(), 5);
    assert_eq!(Rc::strong_count(&item), 1);
}

// ---------------------------------------------------------------------------------------------
// Leaking: `mem::forget` of any guard, chunk, iterator or future may leak items, never duplicate
// them.
// ---------------------------------------------------------------------------------------------

#[test]
fn forgetting_a_chunk_iterator_never_yields_an_item_twice() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let mut queue: Queue<Tracked, 4> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        for value in 0..3 {
            tx.try_push(Tracked::new(value, &drops)).unwrap();
        }
        let mut iter = rx.read_chunk(3).into_iter();
        let first = iter.next().unwrap();
        mem::forget(iter);
        assert_eq!(*first.value, 0);
        drop(first);
        // The item moved out is gone from the queue, the others are still there.
        assert_eq!(rx.len(), 2);
        assert_eq!(*rx.try_pop().unwrap().value, 1);
        assert_eq!(*rx.peek().unwrap().value, 2);
    }
    assert_eq!(
        drops.load(Ordering::Relaxed),
        3,
        "an item dropped twice or leaked"
    );
}

#[test]
fn forgetting_a_partly_drained_iterator_frees_exactly_the_items_taken() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let mut queue: Queue<Tracked, 3> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        // Wrap around the end of the slot array.
        for value in 0..2 {
            tx.try_push(Tracked::new(value, &drops)).unwrap();
        }
        drop(rx.try_pop());
        drop(rx.try_pop());
        for value in 10..13 {
            tx.try_push(Tracked::new(value, &drops)).unwrap();
        }
        let mut iter = rx.read_chunk(3).into_iter();
        let taken: Vec<u64> = iter.by_ref().take(2).map(|item| *item.value).collect();
        assert_eq!(taken, [10, 11]);
        assert_eq!(iter.len(), 1);
        mem::forget(iter);
        // The producer may reuse the two freed slots at once.
        assert_eq!(tx.free_space(), 2);
        tx.try_push(Tracked::new(13, &drops)).unwrap();
        assert_eq!(*rx.try_pop().unwrap().value, 12);
        assert_eq!(*rx.try_pop().unwrap().value, 13);
        assert_eq!(rx.try_pop().err(), Some(PopError::Empty));
    }
    assert_eq!(drops.load(Ordering::Relaxed), 6);
}

#[test]
fn forgetting_a_read_chunk_leaves_every_item_queued() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let mut queue: Queue<Tracked, 2> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        tx.try_push(Tracked::new(1, &drops)).unwrap();
        let mut chunk = rx.read_chunk(2);
        *chunk.as_mut_slices().0[0].value = 2;
        mem::forget(chunk);
        assert_eq!(*rx.try_pop().unwrap().value, 2);
        assert!(rx.is_empty());
    }
    assert_eq!(drops.load(Ordering::Relaxed), 1);
}

#[test]
fn forgetting_a_write_chunk_publishes_nothing() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let mut queue: Queue<Tracked, 2> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        let mut chunk = tx.write_chunk_uninit(2);
        chunk.as_mut_slices().0[0].write(Tracked::new(1, &drops));
        mem::forget(chunk);
        assert!(rx.is_empty());
        assert_eq!(tx.free_space(), 2);
        tx.try_push(Tracked::new(2, &drops)).unwrap();
        assert_eq!(*rx.try_pop().unwrap().value, 2);
    }
    // The item written into the forgotten chunk is leaked (never dropped), the other dropped.
    assert_eq!(drops.load(Ordering::Relaxed), 1);
}

#[test]
fn forgetting_a_parked_future_leaves_the_queue_usable() {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Wake, Waker};

    struct CountWakes(AtomicUsize);
    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);

    let mut queue: Queue<u8, 2> = Queue::new();
    let (mut tx, mut rx) = queue.split();
    let mut pop = Box::pin(rx.pop());
    assert_eq!(pop.as_mut().poll(&mut cx), Poll::Pending);
    mem::forget(pop); // the waker stays registered
    tx.try_push(1).unwrap(); // wakes the leaked registration: harmless
    assert_eq!(wakes.0.load(Ordering::Relaxed), 1);
    let mut pop = rx.pop();
    assert_eq!(Pin::new(&mut pop).poll(&mut cx), Poll::Ready(1));
}

// ---------------------------------------------------------------------------------------------
// A second producer / consumer pair: every way a safe caller could try.
// ---------------------------------------------------------------------------------------------

#[test]
fn split_static_fails_after_a_borrowing_split_of_a_leaked_queue() {
    let queue: &'static mut Queue<Box<u64>, 2> = leak(Queue::new());
    {
        let (mut tx, _rx) = queue.split();
        tx.try_push(Box::new(1)).unwrap();
    }
    let queue: &'static Queue<Box<u64>, 2> = queue;
    assert_eq!(queue.split_static().err(), Some(AlreadySplit));
    assert_eq!(queue.len(), 1);
}

#[test]
fn split_static_succeeds_once_from_any_number_of_threads() {
    let queue: &'static Queue<u8, 2> = leak(Queue::new());
    let winners: usize = thread::scope(|s| {
        let tries: Vec<_> = (0..4)
            .map(|_| s.spawn(|| usize::from(queue.split_static().is_ok())))
            .collect();
        tries.into_iter().map(|t| t.join().unwrap()).sum()
    });
    assert_eq!(winners, 1);
    assert_eq!(queue.split_static().err(), Some(AlreadySplit));
}

#[test]
fn a_borrowing_split_can_be_repeated_and_keeps_the_items() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let mut queue: Queue<Tracked, 2> = Queue::new();
        queue.split().0.try_push(Tracked::new(4, &drops)).unwrap();
        assert_eq!(*queue.split().1.try_pop().unwrap().value, 4);
        queue.split().0.try_push(Tracked::new(5, &drops)).unwrap();
    }
    assert_eq!(drops.load(Ordering::Relaxed), 2);
}

// ---------------------------------------------------------------------------------------------
// Panics in user code in the middle of an operation.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_panicking_source_iterator_publishes_the_items_already_written() {
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let mut queue: Queue<Tracked, 8> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        tx.try_push(Tracked::new(0, &drops)).unwrap();
        let source = (1..).map(|value| {
            assert!(value < 4, "source failed");
            Tracked::new(value, &drops)
        });
        let result = panic::catch_unwind(AssertUnwindSafe(|| {
            tx.write_chunk_uninit(5).fill_from_iter(source)
        }));
        assert!(result.is_err());
        // Items 1..=3 were written before the panic: published, in order, nothing lost.
        assert_eq!(rx.len(), 4);
        for expected in 0..3 {
            assert_eq!(*rx.try_pop().unwrap().value, expected);
        }
        // The producer goes on normally after the panic.
        tx.try_push(Tracked::new(4, &drops)).unwrap();
        assert_eq!(rx.len(), 2);
    }
    assert_eq!(
        drops.load(Ordering::Relaxed),
        5,
        "items leaked or dropped twice"
    );
}

#[test]
fn a_panicking_source_iterator_wraps_and_publishes_across_the_end() {
    let mut queue: Queue<u32, 4> = Queue::new();
    let (mut tx, mut rx) = queue.split();
    tx.push_slice(&[0, 0, 0]);
    let mut out = [0; 3];
    assert_eq!(rx.pop_slice(&mut out), 3); // head = tail = 3: the chunk wraps after one slot
    let source = (10..).inspect(|&value| assert!(value < 12, "source failed"));
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        tx.write_chunk_uninit(4).fill_from_iter(source)
    }));
    assert!(result.is_err());
    assert_eq!(rx.try_pop(), Ok(10));
    assert_eq!(rx.try_pop(), Ok(11));
    assert_eq!(rx.try_pop(), Err(PopError::Empty));
}

#[test]
fn a_panicking_destructor_in_commit_leaves_no_item_dropped_twice() {
    struct Bomb {
        armed: bool,
        drops: Arc<AtomicUsize>,
    }
    impl Drop for Bomb {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::Relaxed);
            assert!(!self.armed, "destructor failure");
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    {
        let mut queue: Queue<Bomb, 4> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        for armed in [false, true, false, false] {
            let bomb = Bomb {
                armed,
                drops: drops.clone(),
            };
            assert!(tx.try_push(bomb).is_ok());
        }
        let result = panic::catch_unwind(AssertUnwindSafe(|| rx.read_chunk(3).commit(3)));
        assert!(result.is_err());
        // The first two were dropped (the second one panicking); the other two stay queued.
        assert_eq!(drops.load(Ordering::Relaxed), 2);
        assert_eq!(rx.len(), 2);
        assert_eq!(tx.free_space(), 2);
        drop(rx.try_pop());
        assert_eq!(drops.load(Ordering::Relaxed), 3);
    }
    assert_eq!(drops.load(Ordering::Relaxed), 4);
}

#[test]
fn a_panicking_destructor_while_dropping_the_queue_drops_the_rest() {
    struct Bomb {
        armed: bool,
        drops: Arc<AtomicUsize>,
    }
    impl Drop for Bomb {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::Relaxed);
            assert!(!self.armed, "destructor failure");
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let mut queue: Queue<Bomb, 4> = Queue::new();
    {
        let (mut tx, mut rx) = queue.split();
        for armed in [false, false, true, false] {
            let bomb = Bomb {
                armed,
                drops: drops.clone(),
            };
            assert!(tx.try_push(bomb).is_ok());
        }
        // Wrap: the queued items are in slots 2, 3, 0, 1.
        drop(rx.try_pop());
        drop(rx.try_pop());
        for _ in 0..2 {
            let bomb = Bomb {
                armed: false,
                drops: drops.clone(),
            };
            assert!(tx.try_push(bomb).is_ok());
        }
    }
    let result = panic::catch_unwind(AssertUnwindSafe(|| drop(queue)));
    assert!(result.is_err());
    assert_eq!(
        drops.load(Ordering::Relaxed),
        6,
        "items leaked by a panicking drop"
    );
}

#[test]
fn a_panicking_waker_or_pend_hook_loses_no_item() {
    use std::future::Future;
    use std::task::{Context, Poll, Wake, Waker};

    struct PanickingWaker;
    impl Wake for PanickingWaker {
        fn wake(self: Arc<Self>) {
            panic!("waker failure");
        }
    }
    struct PanickingPend;
    impl irqkit_intq::Pend for PanickingPend {
        fn pend(&'static self) {
            panic!("pend hook failure");
        }
    }

    // The waker panics in the producer's notification, after the item was published.
    let waker = Waker::from(Arc::new(PanickingWaker));
    let mut cx = Context::from_waker(&waker);
    let mut queue: Queue<u8, 2> = Queue::new();
    let (mut tx, mut rx) = queue.split();
    {
        let mut pop = Box::pin(rx.pop());
        assert_eq!(pop.as_mut().poll(&mut cx), Poll::Pending);
        let pushed = panic::catch_unwind(AssertUnwindSafe(|| tx.try_push(1)));
        assert!(pushed.is_err());
        assert_eq!(pop.as_mut().poll(&mut cx), Poll::Ready(1));
    }
    tx.try_push(2).unwrap(); // nobody parked: no wake, no panic
    assert_eq!(rx.try_pop(), Ok(2));

    // The bottom-half hook panics after a batch was published.
    let queue: &'static Queue<u8, 4> = leak(Queue::new().with_pend(leak(PanickingPend)));
    let (mut tx, mut rx) = queue.split_static().unwrap();
    let pushed = panic::catch_unwind(AssertUnwindSafe(|| tx.push_slice(&[1, 2, 3])));
    assert!(pushed.is_err());
    let mut out = [0; 4];
    assert_eq!(rx.pop_slice(&mut out), 3);
    assert_eq!(&out[..3], &[1, 2, 3]);
}
