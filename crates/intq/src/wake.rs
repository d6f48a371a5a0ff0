//! Waking the consumer: wake modes, the bottom-half hook, blocking waits and async waits.

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::sync::{fence, single_core_fence, AtomicBool, Guarded, Ordering};
use crate::Consumer;

/// When the producer notifies the consumer (wakes a parked `.await` and calls the
/// [`Pend`] hook), and what the notification costs.
///
/// Which mode to pick:
///
/// - **A single-core kernel** (the producer is an interrupt handler on the one CPU, the
///   consumer a thread, bottom half or task on the same CPU): [`SingleCore`](Self::SingleCore).
///   It notifies like `Level` and loses no wake-up, and its push path has no fence at all.
/// - **A polled consumer** (a main loop that drains the queue every tick, nobody `.await`s or
///   pends): [`Off`](Self::Off).
/// - **A consumer on another CPU** that may wait: `Level`, the default, which is correct
///   everywhere.
///
/// | mode | notifies on | push-path cost | pitfall |
/// |------|-------------|----------------|---------|
/// | `Level` (default) | every push / batch | one `SeqCst` fence + one load | none: a consumer that stops early is notified again by the next push |
/// | `SingleCore` | every push / batch | one load (the fence is a compiler fence) | producer and consumer must run on the same CPU; across CPUs a wake-up can be lost |
/// | `Edge` | a push onto an empty queue | one `SeqCst` fence + one load | a consumer that stops before the queue is empty is never notified again: the queue fills, overruns, and stays stuck |
/// | `Off` | never | none | waiters poll (`.await` busy-polls, blocking waits spin or halt) |
///
/// `Level` is the default because it loses no wake-up whatever the consumer does and wherever
/// it runs, like a level-triggered interrupt line that stays asserted. `Edge` is like
/// `EPOLLET`: fewer notifications for bursts, correct only if every consumer run drains the
/// queue until [`Consumer::try_pop`] reports empty (the consumer's empty check then pairs with
/// the producer's edge check, so the next push is seen as an edge).
///
/// # Why `Level` needs a fence per push, and `SingleCore` does not
///
/// The producer publishes `tail`, then reads the consumer's `parked` flag; a consumer about to
/// sleep sets `parked`, then reads `tail` again. Each side stores one location and then loads
/// the other: the store-buffering pattern. Without a store-to-load barrier on both sides, every
/// weak memory model in use (x86-TSO included) lets both loads return the old values, the
/// producer sees no waiter and the consumer sees no item, and the wake-up is lost for good. No
/// reordering of these steps avoids it: a producer that reads `parked` before publishing can
/// have the consumer park in between; folding the flag into `tail` needs a read-modify-write
/// on every push, which costs what the fence costs on x86 and does not exist on
/// `thumbv6m-none-eabi`. Only an asymmetric barrier (the waiter forcing the producer's CPU to
/// drain its store buffer, as Linux' `membarrier` does) removes the producer's fence, and that
/// needs the operating system. So a mode that is correct across CPUs pays one fence per push
/// (or per batch: [`Producer::push_slice`](crate::Producer::push_slice) and the chunk API
/// notify once).
///
/// On a single CPU the pattern needs no barrier: the CPU sees its own accesses in program
/// order and takes an interrupt between two instructions, so an interrupt handler sees every
/// store of the code it interrupted, and that code sees the handler's stores when it resumes.
/// Only the compiler must keep the store before the load, which a compiler fence does. That is
/// `SingleCore`.
///
/// The `Level` fence is not a read-modify-write of shared data (it is `dmb` on ARM; on x86 the
/// compiler emits a locked no-op on the stack), but it does drain the store buffer once per
/// push. An interrupt handler pushing at device rate never notices; a bulk stream that pushes
/// one item at a time at full speed across CPUs should use the batch API or `Off`.
///
/// # Examples
///
/// ```
/// use irqkit_intq::{Queue, WakeMode};
///
/// // A single-core kernel: the keyboard interrupt and the console task share the one CPU.
/// static KEYBOARD: Queue<u8, 64> = Queue::new().with_wake_mode(WakeMode::SingleCore);
/// // A sensor buffer drained by the main loop every tick.
/// static SAMPLES: Queue<u16, 128> = Queue::new().with_wake_mode(WakeMode::Off);
/// # let _ = (&KEYBOARD, &SAMPLES);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WakeMode {
    /// Notify after every push (and once per batch / chunk commit); correct on any number of
    /// CPUs.
    #[default]
    Level,
    /// Like `Level`, for a producer and a consumer that run on the same CPU: no fence on the
    /// push path. Across CPUs a wake-up can be lost.
    SingleCore,
    /// Notify only when a push finds the queue empty (the empty -> non-empty transition).
    Edge,
    /// Never notify; the consumer polls.
    Off,
}

impl WakeMode {
    /// The store-to-load barrier of the wake-up handshake (see the type's docs): a full fence,
    /// or only a compiler fence when both sides share one CPU.
    #[inline(always)]
    pub(crate) fn handshake_fence(self) {
        if self == Self::SingleCore {
            single_core_fence();
        } else {
            fence(Ordering::SeqCst);
        }
    }
}

/// A hook the producer calls to schedule the consumer (a bottom half, a softirq, a tasklet, an
/// RTOS event) from interrupt context.
///
/// `irqkit-defer` implements this for its work items (its `intq` feature, on by default):
/// `Queue::new().with_pend(&KBD_BH)`. Implementations must be short and must
/// not block: they run inside the interrupt handler.
pub trait Pend: Sync {
    /// Marks the consumer as runnable. The hook is a `static` (the queue holds a
    /// `&'static dyn Pend`), so implementations may hand `self` on, as a work item's schedule
    /// that links the item into a queue does.
    fn pend(&'static self);
}

/// A [`Pend`] hook that calls a plain function.
///
/// # Examples
///
/// ```
/// use irqkit_intq::{PendFn, Queue};
///
/// fn raise_softirq() { /* set a bit the kernel checks on interrupt exit */ }
/// static PEND: PendFn = PendFn(raise_softirq);
/// static SERIAL_RX: Queue<u8, 256> = Queue::new().with_pend(&PEND);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PendFn(pub fn());

impl Pend for PendFn {
    fn pend(&'static self) {
        (self.0)();
    }
}

/// The consumer's parking spot for `.await`: a flag the producer checks on its push path, and
/// the waker itself behind a critical section (no read-modify-write atomics needed).
pub(crate) struct Waiter {
    /// Set (inside the critical section) by a consumer that is about to return `Pending`;
    /// cleared by whoever takes the waker. Read without the lock by the producer.
    parked: AtomicBool,
    waker: Guarded<Option<Waker>>,
}

impl Waiter {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            parked: AtomicBool::new(false),
            waker: Guarded::new(None),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            parked: AtomicBool::new(false),
            waker: Guarded::new(None),
        }
    }

    /// Consumer: stores the waker and raises `parked`. The caller must then run the wake mode's
    /// handshake fence and re-check the queue before returning `Pending`.
    fn park(&self, waker: &Waker) {
        self.waker.with(|slot| {
            match slot {
                Some(current) if current.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
            self.parked.store(true, Ordering::Relaxed);
        });
    }

    /// Removes the waker and lowers `parked`; returns the waker for waking outside the lock.
    fn unpark(&self) -> Option<Waker> {
        self.waker.with(|slot| {
            self.parked.store(false, Ordering::Relaxed);
            slot.take()
        })
    }

    /// Producer, after its handshake fence: wakes the consumer if it is parked.
    #[inline(always)]
    pub(crate) fn wake_if_parked(&self) {
        if self.parked.load(Ordering::Relaxed) {
            self.wake_parked();
        }
    }

    #[cold]
    #[inline(never)]
    fn wake_parked(&self) {
        if let Some(waker) = self.unpark() {
            waker.wake();
        }
    }
}

/// How a consumer waits for data in [`Consumer::pop_blocking`]: spin, halt the CPU, block the
/// thread in the OS's scheduler, or give up after a deadline. Supplied by the caller, because
/// only the kernel knows how its CPU sleeps.
///
/// # For implementors
///
/// `wait` is called when the queue was seen empty. It must return once `ready()` may have become
/// true (returning early is fine: the caller loops), or return an error to give up. To sleep
/// without losing a wake-up, check `ready()` with the wake-up source masked and sleep in the same
/// step that unmasks it, as x86 `cli; ...; sti; hlt` does (`sti` delays interrupts by one
/// instruction, so the interrupt lands after `hlt` and ends it):
///
/// ```
/// use core::convert::Infallible;
/// use irqkit_intq::Wait;
///
/// /// Sleeps with `hlt` until an interrupt arrives (x86, ring 0).
/// struct Halt;
///
/// impl Wait for Halt {
///     type Error = Infallible;
///     fn wait(&mut self, ready: &mut dyn FnMut() -> bool) -> Result<(), Infallible> {
///         # #[cfg(any())]
///         unsafe { core::arch::asm!("cli") };
///         if !ready() {
///             # #[cfg(any())]
///             unsafe { core::arch::asm!("sti; hlt") }; // atomically re-enable and sleep
///             return Ok(());
///         }
///         # #[cfg(any())]
///         unsafe { core::arch::asm!("sti") };
///         Ok(())
///     }
/// }
/// # let _ = Halt;
/// ```
pub trait Wait {
    /// Why the wait gave up (use [`Infallible`] for strategies that wait forever).
    type Error;

    /// Waits until `ready()` may return `true`.
    ///
    /// # Errors
    ///
    /// Whatever the strategy reports to stop waiting (a timeout, a signal).
    fn wait(&mut self, ready: &mut dyn FnMut() -> bool) -> Result<(), Self::Error>;
}

impl<W: Wait + ?Sized> Wait for &mut W {
    type Error = W::Error;

    fn wait(&mut self, ready: &mut dyn FnMut() -> bool) -> Result<(), Self::Error> {
        (**self).wait(ready)
    }
}

/// Busy-waits (with the CPU's spin-loop hint) until data arrives. For multi-core systems and
/// tests; on a single core the producer must be an interrupt handler, or this spins forever.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spin;

impl Wait for Spin {
    type Error = Infallible;

    fn wait(&mut self, ready: &mut dyn FnMut() -> bool) -> Result<(), Infallible> {
        while !ready() {
            core::hint::spin_loop();
        }
        Ok(())
    }
}

/// Busy-waits at most `remaining` checks in total, then gives up with [`SpinTimeout`].
///
/// # Examples
///
/// ```
/// use irqkit_intq::{Queue, SpinLimit, SpinTimeout};
///
/// let mut queue: Queue<u8, 4> = Queue::new();
/// let (_tx, mut rx) = queue.split();
/// let mut wait = SpinLimit { remaining: 100 };
/// assert_eq!(rx.pop_blocking(&mut wait), Err(SpinTimeout));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SpinLimit {
    /// Checks left before giving up.
    pub remaining: u64,
}

/// [`SpinLimit`] ran out of checks before data arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpinTimeout;

impl fmt::Display for SpinTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("gave up waiting for the queue: spin limit reached")
    }
}

impl core::error::Error for SpinTimeout {}

impl Wait for SpinLimit {
    type Error = SpinTimeout;

    fn wait(&mut self, ready: &mut dyn FnMut() -> bool) -> Result<(), SpinTimeout> {
        loop {
            if ready() {
                return Ok(());
            }
            if self.remaining == 0 {
                return Err(SpinTimeout);
            }
            self.remaining -= 1;
            core::hint::spin_loop();
        }
    }
}

/// Future returned by [`Consumer::readable`]: resolves to the number of queued items once
/// there is at least one.
#[must_use = "futures do nothing unless polled"]
pub struct Readable<'c, 'a, T, const N: usize> {
    consumer: &'c mut Consumer<'a, T, N>,
    parked: bool,
}

impl<'c, 'a, T, const N: usize> Readable<'c, 'a, T, N> {
    pub(crate) fn new(consumer: &'c mut Consumer<'a, T, N>) -> Self {
        Self {
            consumer,
            parked: false,
        }
    }
}

impl<T, const N: usize> Future for Readable<'_, '_, T, N> {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let this = self.get_mut();
        let len = this.consumer.refresh_len();
        if len > 0 {
            return Poll::Ready(len);
        }
        let queue = this.consumer.queue();
        if queue.wake_mode() == WakeMode::Off {
            // Nobody will wake us: ask to be polled again (a busy poll through the executor).
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let waiter = &queue.waiter.0;
        waiter.park(cx.waker());
        this.parked = true;
        // Pairs with the producer's fence in `Queue::notify`: either the producer sees
        // `parked`, or we see its tail below.
        queue.wake_mode().handshake_fence();
        let len = this.consumer.refresh_len();
        if len > 0 {
            this.parked = false;
            drop(waiter.unpark());
            return Poll::Ready(len);
        }
        Poll::Pending
    }
}

impl<T, const N: usize> Drop for Readable<'_, '_, T, N> {
    fn drop(&mut self) {
        if self.parked {
            // A cancelled wait must not leave a stale waker behind.
            drop(self.consumer.queue().waiter.0.unpark());
        }
    }
}

impl<T, const N: usize> fmt::Debug for Readable<'_, '_, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Readable")
            .field("parked", &self.parked)
            .finish_non_exhaustive()
    }
}

/// Future returned by [`Consumer::pop`]: resolves to the next item.
#[must_use = "futures do nothing unless polled"]
pub struct Pop<'c, 'a, T, const N: usize> {
    readable: Readable<'c, 'a, T, N>,
}

impl<'c, 'a, T, const N: usize> Pop<'c, 'a, T, N> {
    pub(crate) fn new(consumer: &'c mut Consumer<'a, T, N>) -> Self {
        Self {
            readable: Readable::new(consumer),
        }
    }
}

impl<T, const N: usize> Future for Pop<'_, '_, T, N> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        if let Ok(value) = this.readable.consumer.try_pop() {
            return Poll::Ready(value);
        }
        match Pin::new(&mut this.readable).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(_) => match this.readable.consumer.try_pop() {
                Ok(value) => Poll::Ready(value),
                // Unreachable in practice (only this consumer removes items), but never spin.
                Err(_) => {
                    cx.waker().wake_by_ref();
                    Poll::Pending
                }
            },
        }
    }
}

impl<T, const N: usize> fmt::Debug for Pop<'_, '_, T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pop")
            .field("readable", &self.readable)
            .finish()
    }
}
