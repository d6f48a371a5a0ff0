//! The synchronisation primitives the queue is built from, swapped for loom's under `--cfg loom`.
//!
//! Everything that two contexts touch goes through this module, so the loom models in
//! `tests/loom.rs` check the very code that ships. Under loom:
//! - the atomics and the fence are loom's, so loom explores the weak-memory behaviours the
//!   orderings allow;
//! - every slot access is announced to a loom `UnsafeCell<()>` ([`SlotTracker`]), so loom reports
//!   a data race if a slot is written and read without a happens-before edge (the slot storage
//!   itself stays a plain array, because the chunk API hands out contiguous slices of it);
//! - the waker slot is a loom mutex instead of a critical section.

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{fence, AtomicBool, AtomicU8, AtomicUsize};
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU8, AtomicUsize};

pub(crate) use core::sync::atomic::Ordering;

/// The store-to-load barrier for two contexts on one CPU (an interrupt handler and the code it
/// interrupts): the CPU itself keeps program order for them, so only the compiler is fenced.
#[cfg(not(loom))]
#[inline(always)]
pub(crate) fn single_core_fence() {
    core::sync::atomic::compiler_fence(Ordering::SeqCst);
}

/// Under loom, threads stand for separate CPUs with weak memory; what one CPU's program order
/// gives two contexts is modelled by a `SeqCst` fence, so the models check the single-core
/// handshake under exactly the guarantee it relies on.
#[cfg(loom)]
pub(crate) fn single_core_fence() {
    fence(Ordering::SeqCst);
}

/// Race detector for the slot array: a no-op in normal builds.
#[cfg(not(loom))]
pub(crate) struct SlotTracker<const N: usize>;

#[cfg(not(loom))]
impl<const N: usize> SlotTracker<N> {
    pub(crate) const fn new() -> Self {
        Self
    }

    /// Announces that the current context writes slots `first .. first + len` (mod `N`).
    #[inline(always)]
    pub(crate) fn write(&self, _first: usize, _len: usize) {}

    /// Announces that the current context reads slots `first .. first + len` (mod `N`).
    #[inline(always)]
    pub(crate) fn read(&self, _first: usize, _len: usize) {}
}

/// Race detector for the slot array: one loom cell per slot.
#[cfg(loom)]
pub(crate) struct SlotTracker<const N: usize> {
    cells: [loom::cell::UnsafeCell<()>; N],
}

#[cfg(loom)]
impl<const N: usize> SlotTracker<N> {
    pub(crate) fn new() -> Self {
        Self {
            cells: core::array::from_fn(|_| loom::cell::UnsafeCell::new(())),
        }
    }

    pub(crate) fn write(&self, first: usize, len: usize) {
        for i in 0..len {
            self.cells[(first + i) % N].with_mut(|_| ());
        }
    }

    pub(crate) fn read(&self, first: usize, len: usize) {
        for i in 0..len {
            self.cells[(first + i) % N].with(|_| ());
        }
    }
}

/// A value shared between the consumer and the producer's interrupt context, guarded by a
/// critical section (interrupts masked on a single core, a global lock on hosted targets).
///
/// Used only off the hot path (registering and taking a waker), so that no read-modify-write
/// atomic is needed anywhere and the crate builds for `thumbv6m-none-eabi`.
#[cfg(not(loom))]
pub(crate) struct Guarded<T>(critical_section::Mutex<core::cell::RefCell<T>>);

#[cfg(not(loom))]
impl<T> Guarded<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(critical_section::Mutex::new(core::cell::RefCell::new(
            value,
        )))
    }

    /// Runs `f` on the value inside a critical section.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        critical_section::with(|cs| f(&mut self.0.borrow_ref_mut(cs)))
    }
}

/// Loom version of [`Guarded`]: a loom mutex, so loom sees the synchronisation it provides.
#[cfg(loom)]
pub(crate) struct Guarded<T>(loom::sync::Mutex<T>);

#[cfg(loom)]
impl<T> Guarded<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(loom::sync::Mutex::new(value))
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut guard = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut guard)
    }
}

/// Sets a one-shot flag; returns `true` for the first caller only.
///
/// Uses an atomic swap where the target has one and a critical section otherwise
/// (`thumbv6m-none-eabi` has no compare-and-swap). Not a hot path: it runs once per queue.
pub(crate) fn set_once(flag: &AtomicBool) -> bool {
    #[cfg(any(loom, target_has_atomic = "8"))]
    {
        !flag.swap(true, Ordering::AcqRel)
    }
    #[cfg(not(any(loom, target_has_atomic = "8")))]
    {
        critical_section::with(|_| {
            if flag.load(Ordering::Acquire) {
                false
            } else {
                flag.store(true, Ordering::Release);
                true
            }
        })
    }
}
