//! `const_unless_loom!`: functions that are `const` in normal builds and plain `fn`s under
//! `--cfg loom`. loom's atomics have no `const fn new`, so the constructors that `static`
//! items need lose `const` only in the loom models.
//!
//! irqkit-intq and irqkit-defer carry this same file (each crate is packaged on its own); a
//! workspace test checks that the copies are identical.

/// Declares a function that is `const` except under `--cfg loom`.
macro_rules! const_unless_loom {
    ($(#[$meta:meta])* $vis:vis fn $($rest:tt)*) => {
        #[cfg(not(loom))]
        $(#[$meta])*
        $vis const fn $($rest)*

        #[cfg(loom)]
        $(#[$meta])*
        $vis fn $($rest)*
    };
}
pub(crate) use const_unless_loom;
