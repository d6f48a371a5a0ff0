//! The atomics this crate uses, swapped for loom's under `--cfg loom` so the model checker sees
//! every access of the schedule / run / cancel state machine.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU8};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU8};

pub(crate) use core::sync::atomic::Ordering;
