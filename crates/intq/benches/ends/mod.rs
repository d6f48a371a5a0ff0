//! The two ends of each queue the benchmarks compare (irqkit-intq, heapless, rtrb) behind one
//! pair of traits, the item types they move, the wait both sides use when the queue is full or
//! empty, and the pinned two-thread transfer, shared by the criterion and the
//! instruction-count benchmarks.

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use irqkit_intq::WakeMode;

/// Capacity of every queue in the item-at-a-time benchmarks.
pub const CAPACITY: usize = 1024;

/// A producer end: `push` returns `false` if the queue is full.
pub trait Tx<T>: Send {
    /// Pushes `value`; `false` when the queue is full.
    fn push(&mut self, value: T) -> bool;
}

/// A consumer end.
pub trait Rx<T>: Send {
    /// Pops the oldest item, if any.
    fn pop(&mut self) -> Option<T>;
}

impl<T: Send, const N: usize> Tx<T> for irqkit_intq::Producer<'_, T, N> {
    #[inline]
    fn push(&mut self, value: T) -> bool {
        self.try_push(value).is_ok()
    }
}

impl<T: Send, const N: usize> Rx<T> for irqkit_intq::Consumer<'_, T, N> {
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.try_pop().ok()
    }
}

impl<T: Send> Tx<T> for heapless::spsc::Producer<'_, T> {
    #[inline]
    fn push(&mut self, value: T) -> bool {
        self.enqueue(value).is_ok()
    }
}

impl<T: Send> Rx<T> for heapless::spsc::Consumer<'_, T> {
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.dequeue()
    }
}

impl<T: Send> Tx<T> for rtrb::Producer<T> {
    #[inline]
    fn push(&mut self, value: T) -> bool {
        rtrb::Producer::push(self, value).is_ok()
    }
}

impl<T: Send> Rx<T> for rtrb::Consumer<T> {
    #[inline]
    fn pop(&mut self) -> Option<T> {
        rtrb::Consumer::pop(self).ok()
    }
}

/// An item type for the generic benchmarks: built from, and summed as, a sequence number.
pub trait Item: Copy + Send + 'static {
    /// The item for sequence number `seq`.
    fn from_seq(seq: u64) -> Self;
    /// The item's value, for the checksum.
    fn to_u64(self) -> u64;
}

impl Item for u8 {
    fn from_seq(seq: u64) -> Self {
        seq as u8
    }
    fn to_u64(self) -> u64 {
        u64::from(self)
    }
}

impl Item for u64 {
    fn from_seq(seq: u64) -> Self {
        seq
    }
    fn to_u64(self) -> u64 {
        self
    }
}

/// Spins a little, then yields the core (the other side may need it), while the queue is full
/// or empty: the same wait for every queue. `INTQ_BENCH_SPINS` sets how many spins come before
/// a yield (default 64).
pub struct Backoff(pub u32);

fn spins_before_yield() -> u32 {
    static SPINS: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *SPINS.get_or_init(|| {
        std::env::var("INTQ_BENCH_SPINS")
            .ok()
            .and_then(|text| text.parse().ok())
            .unwrap_or(64)
    })
}

impl Backoff {
    /// One round of waiting.
    #[inline]
    pub fn snooze(&mut self) {
        self.0 += 1;
        if self.0 < spins_before_yield() {
            std::hint::spin_loop();
        } else {
            self.0 = 0;
            std::thread::yield_now();
        }
    }
}

/// Pins the calling thread to `cpu` (Linux); elsewhere, or if the CPU does not exist, does
/// nothing and returns `false`.
pub fn pin_to(cpu: usize) -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `cpu_set_t` is plain data for which all-zero is the empty set; CPU_SET writes
        // inside it (it checks `cpu` against the set size), and sched_setaffinity reads
        // `size_of::<cpu_set_t>()` bytes of it. Pid 0 is the calling thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = cpu;
        false
    }
}

/// Moves `items` sequence numbers from a producer pinned to CPU 1 to a consumer pinned to
/// CPU 0; checks the sum and returns the time.
///
/// Each thread owns its end on its own stack: an end left in the consumer's frame and reached
/// through a reference would share a cache line with the consumer's locals, and the false
/// sharing, different for every queue type's frame layout, would decide the result.
///
/// With `WORK > 0` the consumer does that many dependent multiply steps per item (about 4 ns
/// per step here), as a consumer that acts on its items does: then the consumer is the slower
/// side and the queue runs full, where with `WORK == 0` which side is slower, and so whether
/// the queue runs full or empty, depends on the two loops' exact costs.
pub fn transfer<T: Item, const WORK: u32>(
    tx: impl Tx<T>,
    mut rx: impl Rx<T>,
    items: u64,
) -> Duration {
    let (start, ready) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
    let (start, ready) = (&start, &ready);
    let elapsed = thread::scope(|s| {
        s.spawn(move || {
            let mut tx = tx;
            let pinned = pin_to(1);
            ready.wait();
            start.wait();
            let mut backoff = Backoff(0);
            for seq in 0..items {
                let value = T::from_seq(seq);
                while !tx.push(value) {
                    backoff.snooze();
                }
            }
            pinned
        });
        let pinned = pin_to(0);
        ready.wait();
        let begin = Instant::now();
        start.wait();
        let mut backoff = Backoff(0);
        let mut sum = 0u64;
        let mut mix = 0u64;
        for _ in 0..items {
            loop {
                if let Some(value) = rx.pop() {
                    sum = sum.wrapping_add(value.to_u64());
                    for _ in 0..WORK {
                        mix = (mix ^ value.to_u64())
                            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                            .rotate_left(7);
                    }
                    break;
                }
                backoff.snooze();
            }
        }
        let elapsed = begin.elapsed();
        black_box(mix);
        let expected = (0..items).fold(0u64, |a, seq| a.wrapping_add(T::from_seq(seq).to_u64()));
        assert_eq!(sum, expected, "items lost or reordered");
        if !pinned {
            eprintln!("note: could not pin the consumer to CPU 0");
        }
        elapsed
    });
    elapsed
}

// The two-thread queues live on the heap, as rtrb's buffer does (and as a kernel's `static`
// queue lives apart from any stack): a queue in the consumer's stack frame shares cache lines
// with that thread's locals at its ends.

/// [`transfer`] through an irqkit-intq queue in `mode`.
pub fn threads_intq<T: Item, const WORK: u32>(mode: WakeMode, items: u64) -> Duration {
    let mut queue: Box<irqkit_intq::Queue<T, CAPACITY>> =
        Box::new(irqkit_intq::Queue::new().with_wake_mode(mode));
    let (tx, rx) = queue.split();
    transfer::<T, WORK>(tx, rx, items)
}

/// [`transfer`] through a heapless spsc queue.
pub fn threads_heapless<T: Item, const WORK: u32>(items: u64) -> Duration {
    let mut queue: Box<heapless::spsc::Queue<T, CAPACITY>> = Box::new(heapless::spsc::Queue::new());
    let (tx, rx) = queue.split();
    transfer::<T, WORK>(tx, rx, items)
}

/// [`transfer`] through an rtrb ring buffer.
pub fn threads_rtrb<T: Item, const WORK: u32>(items: u64) -> Duration {
    let (tx, rx) = rtrb::RingBuffer::<T>::new(CAPACITY);
    transfer::<T, WORK>(tx, rx, items)
}
