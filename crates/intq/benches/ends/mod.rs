//! The two ends of each queue the benchmarks compare (irqkit-intq, heapless, rtrb) behind one
//! pair of traits, shared by the criterion and the instruction-count benchmarks.

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
