//! The queue between an interrupt handler and the code that consumes its data.
//!
//! # Top half, bottom half
//!
//! A keyboard, a serial port or a network card raises an interrupt when it has data. The
//! interrupt handler (the *top half*) must be short: it reads the byte from the device and must
//! put it somewhere at once, without blocking, because it runs with further interrupts held off.
//! The work that takes time (decoding scancodes, line discipline, waking the process that reads
//! the terminal) runs later, in a *bottom half* (a softirq, a tasklet, a kernel thread, an async
//! task). Between them sits a bounded buffer: Pintos' `intq`, the ring buffer of a keyboard
//! driver. This crate is that buffer:
//!
//! - one [`Producer`] (owned by the interrupt handler) and one [`Consumer`] (owned by the bottom
//!   half), split once from a [`Queue`] that can be a `static` ([`Queue::new`] is a `const fn`);
//! - `no_std`, no allocator, any `T` (items left over are dropped with the queue), all `N` slots
//!   usable;
//! - wait-free O(1) push and pop using only atomic loads and stores (no read-modify-write), so it
//!   runs on `thumbv6m-none-eabi` as well as on x86-64; each side caches the other side's index
//!   and the two sides live on separate cache lines;
//! - [`try_push`](Producer::try_push) / [`try_pop`](Consumer::try_pop) report full / empty (the
//!   `EAGAIN` of this world), [`peek`](Consumer::peek), [`len`](Consumer::len),
//!   [`free_space`](Producer::free_space);
//! - batches: [`push_slice`](Producer::push_slice) / [`pop_slice`](Consumer::pop_slice), and
//!   zero-copy [`write_chunk_uninit`](Producer::write_chunk_uninit) /
//!   [`read_chunk`](Consumer::read_chunk);
//! - an overflow policy for interrupt context: [`push_or_count`](Producer::push_or_count) never
//!   blocks and counts what it rejects ([`Consumer::overruns`] reads the count, like the
//!   `err_count` of Linux' `atkbd`, and [`Consumer::take_overruns`] resets it);
//! - waiting: [`pop_blocking`](Consumer::pop_blocking) with a caller-supplied [`Wait`] strategy
//!   (spin, `hlt`, the OS scheduler), or [`pop`](Consumer::pop) /
//!   [`readable`](Consumer::readable) `.await`; the producer wakes the consumer from interrupt
//!   context and can pend a bottom half through a [`Pend`] hook.
//!
//! # A static queue, split once, fed by an interrupt handler
//!
//! ```
//! use core::cell::RefCell;
//! use critical_section::Mutex;
//! use irqkit_intq::{Producer, Queue, WakeMode};
//!
//! /// The kernel owns the queue. One CPU runs both the interrupt handler and the bottom half,
//! /// so the single-core wake mode applies: no fence on the push path (see `WakeMode` for the
//! /// choice; `Queue::new()` alone is correct on any number of CPUs).
//! static KEYBOARD: Queue<u8, 64> = Queue::new().with_wake_mode(WakeMode::SingleCore);
//! /// ...and the slot through which the interrupt handler reaches its producer.
//! static KEYBOARD_TX: Mutex<RefCell<Option<Producer<'static, u8, 64>>>> =
//!     Mutex::new(RefCell::new(None));
//!
//! /// The top half: runs on IRQ 1, reads the scancode and queues it.
//! fn keyboard_interrupt(scancode: u8) {
//!     critical_section::with(|cs| {
//!         if let Some(tx) = KEYBOARD_TX.borrow_ref_mut(cs).as_mut() {
//!             // Never blocks. A full queue counts an overrun instead.
//!             let _ = tx.push_or_count(scancode);
//!         }
//!     });
//! }
//!
//! // Kernel init: split once, install the producer, keep the consumer.
//! let (tx, mut rx) = KEYBOARD.split_static().expect("split once at boot");
//! critical_section::with(|cs| *KEYBOARD_TX.borrow_ref_mut(cs) = Some(tx));
//! assert!(KEYBOARD.split_static().is_err()); // no second producer, ever
//!
//! keyboard_interrupt(0x1e); // 'A' pressed
//! keyboard_interrupt(0x9e); // 'A' released
//!
//! // The bottom half drains what arrived.
//! let mut scancodes = [0u8; 8];
//! let n = rx.pop_slice(&mut scancodes);
//! assert_eq!(&scancodes[..n], &[0x1e, 0x9e]);
//! assert_eq!(rx.overruns(), 0);
//! ```
//!
//! `Queue::split(&mut self)` is the borrow-checked alternative for a queue that is not a
//! `static`: the mutable borrow guarantees a single pair of handles at compile time.
//!
//! ## Why the split is sound
//!
//! Splitting in `main` and then again (or using the queue) in the ISR would create two producers
//! of the same queue, which is undefined behaviour for an SPSC queue. Here the only
//! ways to get handles are [`Queue::split`], which borrows the queue mutably for as long as the
//! handles live, and [`Queue::split_static`], which sets a one-shot flag (an atomic swap, or a
//! critical section on targets without compare-and-swap) and fails on every later call. `split`
//! sets the same flag, so a queue leaked as `&'static mut`, split by borrowing and later shared,
//! cannot be split again; and a handle gives no way back to its queue. Handles are neither
//! `Clone` nor `Copy`, and their mutating methods take `&mut self`, so a shared reference to a
//! handle cannot push or pop. Hence at most one producer and one consumer exist for a queue at
//! any time, which is what the unsynchronised fields (the slots, the overrun bookkeeping) and
//! the handles' copies of the indices rely on.
//! The full list of what the unsafe code relies on, and what checks it, is in
//! [Soundness](#soundness) below.
//!
//! # Orderings
//!
//! `head` (next slot to read) is stored only by the consumer, `tail` (next slot to write) only by
//! the producer; both count modulo `2N` (for a power-of-two `N`, freely, wrapping with the
//! machine word) so that a full queue differs from an empty one.
//!
//! - Nobody else writes a side's own index. The consumer keeps its `head` in its handle and
//!   never loads from its own cache line, which the producer polls; it only stores there. The
//!   producer reads its `tail` back from the queue (the value it last stored), which on one
//!   CPU costs less than storing the index twice and measured no loss across two.
//! - A side keeps a cached copy of the other side's index and loads the real one, with
//!   `Acquire`, only when the cache says full (producer) or empty (consumer). The `Acquire` pairs
//!   with the other side's `Release` store, so the producer's write of a slot happens before
//!   the consumer reads it, and the consumer's read happens before the producer overwrites it.
//! - A side publishes with a `Release` store of its index, once per item or once per batch.
//! - Waking uses a `SeqCst` fence on each side (a Dekker pattern; see [`WakeMode`]): after
//!   publishing, the producer fences and checks whether the consumer is parked (one byte holds
//!   both the parked flag and what the wake mode asks of every push, so the push path of the
//!   fence-free modes is one load and one branch while nobody waits); before parking,
//!   the consumer announces itself, fences, and re-checks `tail`. Whatever the interleaving, one
//!   of them sees the other's store, so no wake-up is lost. Fences are not read-modify-write
//!   operations, so this works on `thumbv6m`. With [`WakeMode::SingleCore`] (producer and
//!   consumer on one CPU) both fences are compiler fences: the CPU's program order does the
//!   rest. Across CPUs, no handshake of plain loads and stores avoids the producer's fence
//!   ([`WakeMode`] gives the argument), unless the kernel can make every CPU run a barrier:
//!   then [`WakeMode::Asymmetric`] moves the cost from every push to every sleep.
//! - The waker itself sits behind a critical section (touched only when a consumer parks or is
//!   woken, never on the plain push/pop path). The one-shot split flag uses an atomic swap, or a
//!   critical section where there is none. Building for a bare-metal target therefore needs a
//!   `critical-section` implementation in the final binary (irqkit-hal provides one for x86).
//!
//! # Edge- versus level-triggered wake-ups
//!
//! [`WakeMode::Level`] (the default) notifies on every push: a consumer that returns with items
//! still queued is notified again by the next push, so no wake-up is lost whatever the consumer
//! does. [`WakeMode::SingleCore`] notifies the same way without the fence, for a single-core
//! kernel (the usual case for an interrupt handler and its bottom half), and is the mode to
//! pick there; [`WakeMode::Asymmetric`] does the same across CPUs with a [`HeavyBarrier`] from
//! the kernel. [`WakeMode::Edge`] notifies only on the empty -> non-empty transition: fewer wake-ups
//! for bursts, but a consumer that stops before draining the queue is never notified again
//! (as with `EPOLLET`). [`WakeMode::Off`] never notifies, for polled queues. The tests
//! `wake_modes.rs` and the loom model `no_lost_wakeup_*` check both behaviours.
//!
//! # Guide
//!
//! The [guide](https://github.com/irqkit/irqkit/blob/main/docs/GUIDE.md) wires this queue into
//! a whole keyboard path (IRQ 1 top half, an `irqkit-defer` bottom half, the `irqkit-ps2`
//! decoder and layout) in a host-runnable example.
//!
//! # Verification
//!
//! Unit tests, a proptest model test against `VecDeque`, tests of what safe callers can do to
//! the handles (`tests/soundness.rs`: leaking, panicking mid-operation, second handles, auto
//! traits), loom models, Miri on the whole suite, ThreadSanitizer on the threaded tests, and a
//! two-thread stress test moving 10^7 sequence-numbered items. The commands are listed at the
//! end of the next section.
//!
#![doc = include_str!("../SAFETY.md")]
#![no_std]
#![doc(html_root_url = "https://docs.rs/irqkit-intq/0.1.0")]

#[cfg(test)]
extern crate std;

mod chunk;
mod consumer;
mod error;
mod index;
mod loom_const;
mod producer;
mod queue;
mod sync;
mod wake;

pub use chunk::{ReadChunk, ReadChunkIntoIter, WriteChunkUninit};
pub use consumer::Consumer;
pub use error::{AlreadySplit, CommitError, Overrun, PopError, PushError};
pub use producer::Producer;
pub use queue::Queue;
pub use wake::{
    HeavyBarrier, Pend, PendFn, Pop, Readable, Spin, SpinLimit, SpinTimeout, Wait, WakeMode,
};
