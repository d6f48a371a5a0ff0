//! Waking the consumer: wake modes, the bottom-half hook, blocking waits and async waits.

use core::convert::Infallible;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use crate::sync::{fence, single_core_fence, AtomicU8, Guarded, Ordering};
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
/// - **A consumer on another CPU, and a kernel that can run a barrier on every CPU** (an IPI
///   that each CPU acknowledges; Linux' `membarrier` in user space):
///   [`Asymmetric`](Self::Asymmetric). Pushes cost what `SingleCore` pushes cost; the consumer
///   pays the cross-CPU barrier each time it is about to sleep.
/// - **A consumer on another CPU** otherwise: `Level`, the default, which is correct
///   everywhere with nothing from the kernel.
///
/// | mode | notifies on | push-path cost | pitfall |
/// |------|-------------|----------------|---------|
/// | `Level` (default) | every push / batch | one `SeqCst` fence + two one-byte loads | none: a consumer that stops early is notified again by the next push |
/// | `SingleCore` | every push / batch | one one-byte load (the fence is a compiler fence) | producer and consumer must run on the same CPU; across CPUs a wake-up can be lost |
/// | `Asymmetric` | every push / batch | one one-byte load (a compiler fence) | each time the consumer is about to sleep it runs the kernel's [`HeavyBarrier`], which must reach every CPU that may push |
/// | `Edge` | a push onto an empty queue | one `SeqCst` fence + four loads | a consumer that stops before the queue is empty is never notified again: the queue fills, overruns, and stays stuck |
/// | `Off` | never | one one-byte load (always zero: nothing to do) | waiters poll (`.await` busy-polls, blocking waits spin or halt) |
///
/// (The byte is the producer's plan: the mode's fixed work and the consumer's "parked" flag
/// in one load; a pend hook adds its call to every notification.)
///
/// `Level` is the default because it loses no wake-up whatever the consumer does and wherever
/// it runs, like a level-triggered interrupt line that stays asserted, and needs nothing from
/// the kernel. `Edge` is like `EPOLLET`: fewer notifications for bursts, correct only if every
/// consumer run drains the queue until [`Consumer::try_pop`] reports empty (the consumer's
/// empty check then pairs with the producer's edge check, so the next push is seen as an edge).
///
/// # Why `Level` needs a fence per push, and `SingleCore` and `Asymmetric` do not
///
/// The producer publishes `tail`, then reads the consumer's `parked` flag; a consumer about to
/// sleep sets `parked`, then reads `tail` again. Each side stores one location and then loads
/// the other: the store-buffering pattern. Without a store-to-load barrier on both sides, every
/// weak memory model in use (x86-TSO included) lets both loads return the old values, the
/// producer sees no waiter and the consumer sees no item, and the wake-up is lost for good.
///
/// No protocol of plain loads and stores avoids it. Take any push path without a store-to-load
/// barrier or read-modify-write: x86-TSO may hold all of its stores in the store buffer until
/// all of its loads have run, so its loads see the consumer as it was before it prepared to
/// sleep, and it must take its no-waiter path (that is the point of a cheap path); meanwhile
/// the consumer's loads cannot see the buffered stores, it finds the queue empty and sleeps.
/// Reading `parked` before publishing lets the consumer park in between; folding the flag into
/// `tail` needs a read-modify-write on every push, which costs what the fence costs on x86 and
/// does not exist on `thumbv6m-none-eabi`; a sticky "someone may wait" flag has the same race
/// the first time it is set. So a mode that is correct across CPUs with nothing from the
/// kernel pays one fence per push (or per batch: [`Producer::push_slice`](crate::Producer::push_slice)
/// and the chunk API notify once). The loom model `lost_wakeup_without_the_waiters_barrier`
/// finds the losing interleaving when one side's barrier is missing.
///
/// The way out is to move the barrier's cost to the rare side: the waiter makes the producer's
/// CPU drain its store buffer, so the producer needs none. On a single CPU that comes free:
/// the CPU sees its own accesses in program order and takes an interrupt between two
/// instructions, so an interrupt handler sees every store of the code it interrupted, and that
/// code sees the handler's stores when it resumes. Only the compiler must keep the store before
/// the load, which a compiler fence does. That is `SingleCore`. Across CPUs it takes the kernel:
/// an inter-processor interrupt that every other CPU acknowledges (taking an interrupt
/// serializes a CPU), or `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` on Linux. That is
/// `Asymmetric`: the push path keeps only a compiler fence; the consumer, after setting
/// `parked` and before re-reading `tail`, runs the [`HeavyBarrier`]. Whatever instruction the
/// producer is at when the barrier reaches its CPU, either its `tail` store came before (and
/// is now visible to the consumer's re-read) or its `parked` load comes after (and sees the
/// flag). The cost moves from every push to every sleep.
///
/// The `Level` fence is not a read-modify-write of shared data (it is `dmb` on ARM; on x86 the
/// compiler emits a locked no-op on the stack), but it does drain the store buffer once per
/// push. An interrupt handler pushing at device rate never notices; a bulk stream that pushes
/// one item at a time at full speed across CPUs should use `Asymmetric`, the batch API or `Off`.
///
/// # Examples
///
/// ```
/// use irqkit_intq::{HeavyBarrier, Queue, WakeMode};
///
/// // A single-core kernel: the keyboard interrupt and the console task share the one CPU.
/// static KEYBOARD: Queue<u8, 64> = Queue::new().with_wake_mode(WakeMode::SingleCore);
/// // A sensor buffer drained by the main loop every tick.
/// static SAMPLES: Queue<u16, 128> = Queue::new().with_wake_mode(WakeMode::Off);
///
/// // An SMP kernel whose network interrupt lands on any CPU: the consumer's sleep pays an
/// // IPI round to every CPU, the interrupt handler's pushes pay no fence.
/// struct IpiBarrier;
/// impl HeavyBarrier for IpiBarrier {
///     fn heavy_barrier(&self) {
///         // send an IPI to every other online CPU and wait until each has acknowledged it
///     }
/// }
/// static RX_PACKETS: Queue<u32, 256> =
///     Queue::new().with_wake_mode(WakeMode::Asymmetric(&IpiBarrier));
/// # let _ = (&KEYBOARD, &SAMPLES, &RX_PACKETS);
/// ```
#[derive(Clone, Copy, Default)]
pub enum WakeMode {
    /// Notify after every push (and once per batch / chunk commit); correct on any number of
    /// CPUs.
    #[default]
    Level,
    /// Like `Level`, for a producer and a consumer that run on the same CPU: no fence on the
    /// push path. Across CPUs a wake-up can be lost.
    SingleCore,
    /// Like `Level` on any number of CPUs, with no fence on the push path: a consumer about to
    /// sleep runs this [`HeavyBarrier`] instead, which must make every CPU that may push
    /// execute a full memory barrier.
    Asymmetric(&'static dyn HeavyBarrier),
    /// Notify only when a push finds the queue empty (the empty -> non-empty transition).
    Edge,
    /// Never notify; the consumer polls.
    Off,
}

impl fmt::Debug for WakeMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Level => "Level",
            Self::SingleCore => "SingleCore",
            Self::Asymmetric(_) => "Asymmetric(..)",
            Self::Edge => "Edge",
            Self::Off => "Off",
        })
    }
}

/// Two modes are equal if they are the same variant; two `Asymmetric` modes if they name the
/// same barrier object.
impl PartialEq for WakeMode {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Asymmetric(a), Self::Asymmetric(b)) => core::ptr::addr_eq(*a, *b),
            _ => core::mem::discriminant(self) == core::mem::discriminant(other),
        }
    }
}

impl Eq for WakeMode {}

impl WakeMode {
    /// The fixed part of the producer's [`Plan`] for this mode, with or without a
    /// [`Pend`] hook.
    pub(crate) const fn plan(self, has_pend: bool) -> u8 {
        let pend = if has_pend { Plan::PEND } else { 0 };
        match self {
            Self::Off => 0,
            Self::SingleCore | Self::Asymmetric(_) => pend,
            Self::Level => Plan::FENCE | pend,
            Self::Edge => Plan::FENCE | Plan::EDGE | pend,
        }
    }

    /// The consumer's store-to-load barrier of the wake-up handshake, between raising `parked`
    /// and re-reading `tail` (see the type's docs): a full fence, a compiler fence when both
    /// sides share one CPU, or the kernel's heavy barrier.
    #[inline(always)]
    pub(crate) fn waiter_barrier(self) {
        match self {
            Self::SingleCore => single_core_fence(),
            Self::Asymmetric(barrier) => barrier.heavy_barrier(),
            Self::Level | Self::Edge | Self::Off => fence(Ordering::SeqCst),
        }
    }
}

/// The waiter's half of an asymmetric barrier, for [`WakeMode::Asymmetric`]: a full memory
/// barrier on every CPU that may run the producer, at some point between the call and its
/// return.
///
/// The push path then needs only a compiler fence, because the barrier lands between two of
/// the producer's instructions (see [`WakeMode`]). The consumer calls it each time it is about
/// to sleep, so it may be slow (microseconds), but it must not lose the guarantee:
///
/// - in a kernel: send an inter-processor interrupt to every other CPU that may push and wait
///   until each has taken it (interrupt entry serializes the CPU); the caller's own CPU needs a
///   full fence (`core::sync::atomic::fence(SeqCst)`) as well. The queue calls it outside
///   any critical section of its own; a CPU that waits for acknowledgements must keep taking
///   barrier IPIs itself, or two CPUs waiting on each other deadlock;
/// - on Linux user space: `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0)`, after one
///   `MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED`;
/// - on a single CPU a compiler fence would do, but that is [`WakeMode::SingleCore`].
///
/// # Examples
///
/// ```
/// use core::sync::atomic::{fence, Ordering};
/// use irqkit_intq::{HeavyBarrier, Queue, WakeMode};
///
/// /// A kernel's cross-CPU barrier (sketch).
/// struct ShootdownBarrier;
///
/// impl HeavyBarrier for ShootdownBarrier {
///     fn heavy_barrier(&self) {
///         fence(Ordering::SeqCst);
///         // for each other online CPU: send the barrier IPI, then spin (bounded) until its
///         // handler has bumped that CPU's acknowledgement counter
///     }
/// }
///
/// static BARRIER: ShootdownBarrier = ShootdownBarrier;
/// static DISK_EVENTS: Queue<u16, 32> =
///     Queue::new().with_wake_mode(WakeMode::Asymmetric(&BARRIER));
/// # let _ = &DISK_EVENTS;
/// ```
pub trait HeavyBarrier: Sync {
    /// Returns after every CPU that may run the producer has executed a full memory barrier
    /// (and the calling CPU one as well).
    fn heavy_barrier(&self);
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

/// The bits of [`Waiter::plan`]: what the producer has to do after publishing.
///
/// One byte, so that a push loads one byte and takes one branch when the answer is "nothing",
/// which is the usual case of [`WakeMode::Off`], [`WakeMode::SingleCore`] and
/// [`WakeMode::Asymmetric`] without a [`Pend`] hook: no consumer parked.
pub(crate) struct Plan;

impl Plan {
    /// A consumer is parked (raised and lowered only inside the waker's critical section).
    pub(crate) const PARKED: u8 = 1;
    /// Call the [`Pend`] hook (fixed at construction; never in [`WakeMode::Off`]).
    pub(crate) const PEND: u8 = 2;
    /// Run a `SeqCst` fence, then read the plan again ([`WakeMode::Level`], [`WakeMode::Edge`];
    /// fixed at construction).
    pub(crate) const FENCE: u8 = 4;
    /// Notify only if the push found the queue empty ([`WakeMode::Edge`]; fixed).
    pub(crate) const EDGE: u8 = 8;
}

/// The consumer's parking spot for `.await`: the producer's plan, which carries the "parked"
/// flag it checks on its push path, and the waker itself behind a critical section (no
/// read-modify-write atomics needed).
pub(crate) struct Waiter {
    /// [`Plan`] bits: the fixed ones of the wake mode and hook, set when the queue is built
    /// and kept by every later store, and [`Plan::PARKED`], set (inside the critical section)
    /// by a consumer that is about to return `Pending` and cleared by whoever takes the waker.
    /// Read without the lock by the producer.
    pub(crate) plan: AtomicU8,
    waker: Guarded<Option<Waker>>,
}

impl Waiter {
    #[cfg(not(loom))]
    pub(crate) const fn new(plan: u8) -> Self {
        Self {
            plan: AtomicU8::new(plan),
            waker: Guarded::new(None),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new(plan: u8) -> Self {
        Self {
            plan: AtomicU8::new(plan),
            waker: Guarded::new(None),
        }
    }

    /// Consumer: stores the waker and raises [`Plan::PARKED`]. The caller must then run the
    /// wake mode's handshake fence and re-check the queue before returning `Pending`.
    fn park(&self, waker: &Waker) {
        self.waker.with(|slot| {
            match slot {
                Some(current) if current.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
            self.set_parked(true);
        });
    }

    /// Removes the waker and lowers [`Plan::PARKED`]; returns the waker for waking outside
    /// the lock.
    fn unpark(&self) -> Option<Waker> {
        self.waker.with(|slot| {
            self.set_parked(false);
            slot.take()
        })
    }

    /// Raises or lowers [`Plan::PARKED`], keeping the fixed bits. Only inside the waker's
    /// critical section: every store to `plan` after construction happens there, so this
    /// load sees the latest value and the load + store cannot lose another writer's update.
    fn set_parked(&self, parked: bool) {
        let plan = self.plan.load(Ordering::Relaxed) & !Plan::PARKED;
        let parked = if parked { Plan::PARKED } else { 0 };
        self.plan.store(plan | parked, Ordering::Relaxed);
    }

    /// Producer, after its handshake fence, having seen [`Plan::PARKED`]: wakes the consumer.
    #[cold]
    #[inline(never)]
    pub(crate) fn wake_parked(&self) {
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
        if matches!(queue.wake_mode(), WakeMode::Off) {
            // Nobody will wake us: ask to be polled again (a busy poll through the executor).
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let waiter = &queue.waiter.0;
        waiter.park(cx.waker());
        this.parked = true;
        // Pairs with the producer's fence in `Queue::notify`: either the producer sees
        // `parked`, or we see its tail below.
        queue.wake_mode().waiter_barrier();
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

#[cfg(test)]
mod tests {
    use super::{HeavyBarrier, Plan, WakeMode};
    use crate::{PendFn, Queue};
    use core::task::Waker;

    struct NoBarrier;

    impl HeavyBarrier for NoBarrier {
        fn heavy_barrier(&self) {}
    }

    static BARRIER: NoBarrier = NoBarrier;
    static PEND: PendFn = PendFn(|| {});

    /// Every mode with and without a pend hook (set before and after the mode), and the plan
    /// bits each must start with.
    fn every_queue() -> std::vec::Vec<(Queue<u8, 2>, u8)> {
        let modes = [
            (WakeMode::Off, 0, 0),
            (WakeMode::SingleCore, 0, Plan::PEND),
            (WakeMode::Asymmetric(&BARRIER), 0, Plan::PEND),
            (WakeMode::Level, Plan::FENCE, Plan::FENCE | Plan::PEND),
            (
                WakeMode::Edge,
                Plan::FENCE | Plan::EDGE,
                Plan::FENCE | Plan::EDGE | Plan::PEND,
            ),
        ];
        let mut queues = std::vec::Vec::new();
        for (mode, plain, pended) in modes {
            queues.push((Queue::new().with_wake_mode(mode), plain));
            queues.push((Queue::new().with_wake_mode(mode).with_pend(&PEND), pended));
            queues.push((Queue::new().with_pend(&PEND).with_wake_mode(mode), pended));
        }
        queues
    }

    fn plan_of(queue: &Queue<u8, 2>) -> u8 {
        queue
            .waiter
            .0
            .plan
            .load(core::sync::atomic::Ordering::Relaxed)
    }

    #[test]
    fn the_plan_starts_with_the_modes_fixed_bits_whatever_the_builder_order() {
        assert_eq!(plan_of(&Queue::new()), Plan::FENCE);
        for (queue, fixed) in every_queue() {
            assert_eq!(plan_of(&queue), fixed, "{queue:?}");
        }
    }

    #[test]
    fn parking_and_unparking_keep_the_fixed_bits() {
        for (queue, fixed) in every_queue() {
            for _ in 0..2 {
                queue.waiter.0.park(Waker::noop());
                assert_eq!(plan_of(&queue), fixed | Plan::PARKED, "{queue:?}");
                assert!(queue.waiter.0.unpark().is_some());
                assert_eq!(plan_of(&queue), fixed, "{queue:?}");
            }
            queue.waiter.0.park(Waker::noop());
            queue.waiter.0.wake_parked();
            assert_eq!(plan_of(&queue), fixed, "{queue:?}");
        }
    }
}
