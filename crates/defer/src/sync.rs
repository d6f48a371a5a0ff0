//! The atomics this crate uses, swapped for loom's under `--cfg loom` so the model checker sees
//! every access of the schedule / run / cancel state machine.
//!
//! loom's atomics have no `const fn new`, so constructors that must be `const` for `static`
//! items are written once through [`maybe_const_fn!`] and lose `const` only under loom.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32};

pub(crate) use core::sync::atomic::Ordering;

/// Declares a function that is `const` except under `--cfg loom`.
macro_rules! maybe_const_fn {
    ($(#[$meta:meta])* $vis:vis fn $($rest:tt)*) => {
        #[cfg(not(loom))]
        $(#[$meta])*
        $vis const fn $($rest)*

        #[cfg(loom)]
        $(#[$meta])*
        $vis fn $($rest)*
    };
}
pub(crate) use maybe_const_fn;
