//! The two ends of each queue the benchmarks compare (irqkit-intq, heapless, rtrb) behind one
//! pair of traits, the item types they move and the wait both sides use when the queue is
//! full or empty, shared by the criterion and the instruction-count benchmarks.

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
