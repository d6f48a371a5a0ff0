//! Logging shim: `trace!` goes to `defmt` with the `defmt` feature and nowhere otherwise.

/// Emits a `defmt::trace!` record when the `defmt` feature is on; compiles to nothing
/// (arguments still type-checked, never evaluated) otherwise.
macro_rules! trace {
    ($($arg:tt)*) => {{
        #[cfg(feature = "defmt")]
        ::defmt::trace!($($arg)*);
        #[cfg(not(feature = "defmt"))]
        if false {
            let _ = ($($arg)*);
        }
    }};
}
pub(crate) use trace;
