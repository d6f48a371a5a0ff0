//! Linux' process-wide memory barrier as an [`HeavyBarrier`], for the `Asymmetric` wake mode in
//! tests and benchmarks.

use std::sync::Once;

use irqkit_intq::HeavyBarrier;

/// `membarrier(2)` commands (linux/membarrier.h).
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

/// `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`: every CPU running a thread of this process
/// executes a full barrier before the call returns (by IPI), which is the guarantee
/// [`HeavyBarrier`] asks for.
pub struct Membarrier;

pub static MEMBARRIER: Membarrier = Membarrier;

impl Membarrier {
    /// Registers the process for expedited barriers (once); panics if the kernel refuses,
    /// since the mode would then be unsound.
    pub fn register() {
        static REGISTERED: Once = Once::new();
        REGISTERED.call_once(|| {
            // SAFETY: the membarrier syscall takes plain integers and touches no memory of ours.
            let result = unsafe {
                libc::syscall(
                    libc::SYS_membarrier,
                    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
                    0 as libc::c_long,
                    0 as libc::c_long,
                )
            };
            assert_eq!(
                result,
                0,
                "membarrier registration failed: {}",
                std::io::Error::last_os_error()
            );
        });
    }
}

impl HeavyBarrier for Membarrier {
    fn heavy_barrier(&self) {
        Self::register();
        // SAFETY: as above.
        let result = unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                MEMBARRIER_CMD_PRIVATE_EXPEDITED,
                0 as libc::c_long,
                0 as libc::c_long,
            )
        };
        // A failed barrier would silently lose wake-ups: stop instead.
        assert_eq!(
            result,
            0,
            "membarrier failed: {}",
            std::io::Error::last_os_error()
        );
    }
}
