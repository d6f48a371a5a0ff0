//! x86 / x86_64 port I/O instructions and interrupt-flag control (feature `x86`).

use core::arch::asm;

use crate::PortIo;

/// The CPU's I/O address space, through `in` / `out` and `rep ins` / `rep outs`.
///
/// Drivers take it as their [`PortIo`]; the only `unsafe` is its construction.
///
/// ```no_run
/// use irqkit_hal::{x86::X86PortIo, PortIo};
/// // SAFETY: we run at CPL 0 and this kernel's drivers are trusted with every port.
/// let mut ports = unsafe { X86PortIo::new() };
/// let status = ports.read8(0x64);
/// ```
#[derive(Debug)]
pub struct X86PortIo {
    _private: (),
}

impl X86PortIo {
    /// Creates a handle to the I/O address space.
    ///
    /// # Safety
    ///
    /// The caller guarantees that:
    /// - the code runs with I/O privilege (ring 0, or an IOPL / I/O permission bitmap that
    ///   allows the ports used), otherwise every access raises #GP;
    /// - the code handed this value is trusted with every port it may touch: port writes can
    ///   reprogram DMA engines, the interrupt controller or PCI configuration, which can break
    ///   memory safety of the whole program;
    /// - devices shared with other code (an interrupt handler, another driver) are accessed
    ///   in a way their protocol allows, e.g. with interrupts masked around multi-step
    ///   sequences.
    pub const unsafe fn new() -> Self {
        Self { _private: () }
    }
}

// The asm blocks below touch no memory Rust knows about, except the string forms, which read
// or write exactly `buf.len()` elements of `buf` (rdi/rsi advance upward: the ABI guarantees
// DF = 0 at function boundaries).
impl PortIo for X86PortIo {
    #[inline]
    fn read8(&mut self, port: u16) -> u8 {
        let value: u8;
        // SAFETY: `new`'s caller vouched for I/O privilege and for the effects of port access.
        unsafe {
            asm!("in al, dx", in("dx") port, out("al") value, options(nomem, nostack, preserves_flags))
        };
        value
    }
    #[inline]
    fn write8(&mut self, port: u16, value: u8) {
        // SAFETY: as in `read8`.
        unsafe {
            asm!("out dx, al", in("dx") port, in("al") value, options(nomem, nostack, preserves_flags))
        };
    }
    #[inline]
    fn read16(&mut self, port: u16) -> u16 {
        let value: u16;
        // SAFETY: as in `read8`.
        unsafe {
            asm!("in ax, dx", in("dx") port, out("ax") value, options(nomem, nostack, preserves_flags))
        };
        value
    }
    #[inline]
    fn write16(&mut self, port: u16, value: u16) {
        // SAFETY: as in `read8`.
        unsafe {
            asm!("out dx, ax", in("dx") port, in("ax") value, options(nomem, nostack, preserves_flags))
        };
    }
    #[inline]
    fn read32(&mut self, port: u16) -> u32 {
        let value: u32;
        // SAFETY: as in `read8`.
        unsafe {
            asm!("in eax, dx", in("dx") port, out("eax") value, options(nomem, nostack, preserves_flags))
        };
        value
    }
    #[inline]
    fn write32(&mut self, port: u16, value: u32) {
        // SAFETY: as in `read8`.
        unsafe {
            asm!("out dx, eax", in("dx") port, in("eax") value, options(nomem, nostack, preserves_flags))
        };
    }

    #[inline]
    fn read8_into(&mut self, port: u16, buf: &mut [u8]) {
        // SAFETY: `rep insb` stores exactly `buf.len()` bytes upward from `buf`'s start, all
        // inside the exclusively borrowed slice; port access as in `read8`.
        unsafe {
            asm!("rep insb", in("dx") port, inout("di") buf.as_mut_ptr() => _,
                 inout("cx") buf.len() => _, options(nostack, preserves_flags))
        };
    }
    #[inline]
    fn write8_from(&mut self, port: u16, buf: &[u8]) {
        // SAFETY: `rep outsb` loads exactly `buf.len()` bytes from the borrowed slice.
        unsafe {
            asm!("rep outsb", in("dx") port, inout("si") buf.as_ptr() => _,
                 inout("cx") buf.len() => _, options(nostack, preserves_flags, readonly))
        };
    }
    #[inline]
    fn read16_into(&mut self, port: u16, buf: &mut [u16]) {
        // SAFETY: `rep insw` stores exactly `buf.len()` aligned words into the slice.
        unsafe {
            asm!("rep insw", in("dx") port, inout("di") buf.as_mut_ptr() => _,
                 inout("cx") buf.len() => _, options(nostack, preserves_flags))
        };
    }
    #[inline]
    fn write16_from(&mut self, port: u16, buf: &[u16]) {
        // SAFETY: `rep outsw` loads exactly `buf.len()` words from the borrowed slice.
        unsafe {
            asm!("rep outsw", in("dx") port, inout("si") buf.as_ptr() => _,
                 inout("cx") buf.len() => _, options(nostack, preserves_flags, readonly))
        };
    }
    #[inline]
    fn read32_into(&mut self, port: u16, buf: &mut [u32]) {
        // SAFETY: `rep insd` stores exactly `buf.len()` aligned dwords into the slice.
        unsafe {
            asm!("rep insd", in("dx") port, inout("di") buf.as_mut_ptr() => _,
                 inout("cx") buf.len() => _, options(nostack, preserves_flags))
        };
    }
    #[inline]
    fn write32_from(&mut self, port: u16, buf: &[u32]) {
        // SAFETY: `rep outsd` loads exactly `buf.len()` dwords from the borrowed slice.
        unsafe {
            asm!("rep outsd", in("dx") port, inout("si") buf.as_ptr() => _,
                 inout("cx") buf.len() => _, options(nostack, preserves_flags, readonly))
        };
    }
}

/// The interrupt flag (IF): enabling, disabling, and the race-free idle `sti; hlt`.
///
/// These are safe functions: changing IF cannot by itself break memory safety, and the
/// `critical-section` implementation restores the flag it found.
pub mod interrupts {
    use core::arch::asm;

    /// Whether maskable interrupts are enabled (RFLAGS.IF).
    #[inline]
    pub fn are_enabled() -> bool {
        let flags: usize;
        // SAFETY: pushes RFLAGS and pops it into a register: stack-balanced, no other effect.
        unsafe { asm!("pushf", "pop {}", out(reg) flags, options(nomem, preserves_flags)) };
        flags & (1 << 9) != 0
    }

    /// Enables maskable interrupts (`sti`).
    #[inline]
    pub fn enable() {
        // SAFETY: `sti` only sets IF. It is not `nomem`: pending handlers may touch memory.
        unsafe { asm!("sti", options(nostack)) };
    }

    /// Disables maskable interrupts (`cli`).
    #[inline]
    pub fn disable() {
        // SAFETY: `cli` only clears IF; acts as a compiler barrier (no `nomem`).
        unsafe { asm!("cli", options(nostack)) };
    }

    /// Enables interrupts and halts until the next one, atomically: `sti` takes effect after
    /// the following instruction, so an interrupt that arrives between the two still ends the
    /// `hlt`. Call it with interrupts disabled after finding no work, and no wake-up is lost.
    #[inline]
    pub fn enable_and_halt() {
        // SAFETY: sets IF and halts until an interrupt; handlers run and return here.
        unsafe { asm!("sti", "hlt", options(nostack)) };
    }

    /// Halts until the next interrupt without touching IF.
    #[inline]
    pub fn halt() {
        // SAFETY: `hlt` waits for an interrupt (or forever when IF = 0: the caller's choice).
        unsafe { asm!("hlt", options(nostack)) };
    }

    /// Runs `f` with interrupts disabled, restoring the previous state afterwards.
    #[inline]
    pub fn without<R>(f: impl FnOnce() -> R) -> R {
        let was_enabled = are_enabled();
        disable();
        let r = f();
        if was_enabled {
            enable();
        }
        r
    }
}

#[cfg(feature = "critical-section-x86")]
mod cs {
    struct X86CriticalSection;
    critical_section::set_impl!(X86CriticalSection);

    // SAFETY: single-core x86: with IF cleared nothing else runs on this CPU (NMIs aside, which
    // must not take critical sections). `acquire` returns whether IF was set, `release` sets it
    // again only then, so nested sections restore correctly.
    unsafe impl critical_section::Impl for X86CriticalSection {
        unsafe fn acquire() -> critical_section::RawRestoreState {
            let was_enabled = super::interrupts::are_enabled();
            super::interrupts::disable();
            was_enabled
        }

        unsafe fn release(was_enabled: critical_section::RawRestoreState) {
            if was_enabled {
                super::interrupts::enable();
            }
        }
    }
}
