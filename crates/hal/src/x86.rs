//! x86 / x86_64 port I/O instructions and interrupt-flag control (feature `x86`).

use core::arch::asm;

use crate::PortIo;

/// The CPU's I/O address space, through `in` / `out` and `rep ins` / `rep outs`.
///
/// Drivers take it as their [`PortIo`]; the only `unsafe` is its construction.
///
/// # Memory ordering
///
/// Every access is a compiler barrier for memory: the `asm!` blocks are neither `nomem` nor
/// `readonly`, so the compiler keeps program-order for loads and stores of memory whose address
/// has escaped (statics, anything reached through a raw pointer or handed to other code) on
/// either side of an `in` or `out`. The CPU keeps that order too: on x86, reads and writes are
/// not reordered with I/O instructions. This is not a barrier for memory the compiler can prove
/// private (a `&mut` buffer whose address no asm block or call has seen), which is why drivers
/// that hand memory to a device order it with [`DmaMap::map`](crate::dma::DmaMap::map) and
/// [`DmaMap::sync_for_cpu`](crate::dma::DmaMap::sync_for_cpu), not with port I/O.
///
/// The emitted order is checked by the `port_io_order` integration test of this crate, which
/// compiles small start / finish sequences with
/// `cargo rustc --release --lib -- --emit asm -C llvm-args=-x86-asm-syntax=intel` and checks
/// that a store stays before the `out` that starts a device and a load stays after the `in`
/// that says it is done (and that the same code with `nomem` port accesses fails the check).
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

// None of the asm blocks below is `nomem` or `readonly`: the compiler must assume each may read
// and write any memory the program has exposed, so every port access is a compiler barrier (see
// "Memory ordering" on `X86PortIo`). The scalar forms touch no memory in fact; the string forms
// read or write exactly `buf.len()` elements of `buf` (rdi/rsi advance upward: the ABI
// guarantees DF = 0 at function boundaries).
impl PortIo for X86PortIo {
    #[inline]
    fn read8(&mut self, port: u16) -> u8 {
        let value: u8;
        // SAFETY: `new`'s caller vouched for I/O privilege and for the effects of port access.
        unsafe {
            asm!("in al, dx", in("dx") port, out("al") value, options(nostack, preserves_flags))
        };
        value
    }
    #[inline]
    fn write8(&mut self, port: u16, value: u8) {
        // SAFETY: as in `read8`.
        unsafe {
            asm!("out dx, al", in("dx") port, in("al") value, options(nostack, preserves_flags))
        };
    }
    #[inline]
    fn read16(&mut self, port: u16) -> u16 {
        let value: u16;
        // SAFETY: as in `read8`.
        unsafe {
            asm!("in ax, dx", in("dx") port, out("ax") value, options(nostack, preserves_flags))
        };
        value
    }
    #[inline]
    fn write16(&mut self, port: u16, value: u16) {
        // SAFETY: as in `read8`.
        unsafe {
            asm!("out dx, ax", in("dx") port, in("ax") value, options(nostack, preserves_flags))
        };
    }
    #[inline]
    fn read32(&mut self, port: u16) -> u32 {
        let value: u32;
        // SAFETY: as in `read8`.
        unsafe {
            asm!("in eax, dx", in("dx") port, out("eax") value, options(nostack, preserves_flags))
        };
        value
    }
    #[inline]
    fn write32(&mut self, port: u16, value: u32) {
        // SAFETY: as in `read8`.
        unsafe {
            asm!("out dx, eax", in("dx") port, in("eax") value, options(nostack, preserves_flags))
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
                 inout("cx") buf.len() => _, options(nostack, preserves_flags))
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
                 inout("cx") buf.len() => _, options(nostack, preserves_flags))
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
                 inout("cx") buf.len() => _, options(nostack, preserves_flags))
        };
    }
}

/// The interrupt flag (IF): masking, unmasking, and the race-free idle `sti; hlt`.
///
/// # Why enabling is `unsafe`
///
/// A critical section (the [`critical-section`](critical_section) crate, or the implementation
/// behind this crate's `critical-section-single-core` feature) relies on IF staying clear until
/// it ends: an interrupt handler that enters the same section while it is held gets a second
/// `&` to data the section protects (a `Mutex<RefCell<_>>` borrowed twice, a `Cell` written
/// mid-update). Setting IF is therefore `unsafe` ([`enable`](interrupts::enable),
/// [`enable_and_halt`](interrupts::enable_and_halt)) and names that condition. Clearing IF
/// ([`disable`](interrupts::disable)), reading it, and [`without`](interrupts::without) are
/// safe: they never set IF unless it was set when they started, and IF is never set inside a
/// critical section.
///
/// ```compile_fail,E0133
/// // Enabling interrupts is unsafe: safe code cannot do it inside `critical_section::with`.
/// irqkit_hal::critical_section::with(|_| irqkit_hal::x86::interrupts::enable());
/// ```
///
/// The safe way to wait for an interrupt is [`idle`](interrupts::idle): it halts only when
/// interrupts were enabled on entry (so it cannot run inside a critical section), checks for
/// work with them masked, and enables them and halts in one step so no wake-up is lost.
pub mod interrupts {
    use core::arch::asm;
    use core::fmt;

    /// Whether maskable interrupts are enabled (RFLAGS.IF).
    #[inline]
    pub fn are_enabled() -> bool {
        let flags: usize;
        // SAFETY: pushes RFLAGS and pops it into a register: stack-balanced, no other effect.
        unsafe { asm!("pushf", "pop {}", out(reg) flags, options(nomem, preserves_flags)) };
        flags & (1 << 9) != 0
    }

    /// Enables maskable interrupts (`sti`).
    ///
    /// # Safety
    ///
    /// The caller is not inside a critical section (`critical_section::with`, or any code
    /// holding a `critical_section::CriticalSection` token) nor in any other code that relies
    /// on interrupts being masked for exclusive access to data an interrupt handler also uses.
    /// Interrupt handlers may run as soon as this returns.
    #[inline]
    pub unsafe fn enable() {
        // SAFETY: `sti` only sets IF; the caller vouched that nothing relies on IF being clear.
        // It is not `nomem`: handlers that run from here on may touch any memory.
        unsafe { asm!("sti", options(nostack)) };
    }

    /// Disables maskable interrupts (`cli`).
    #[inline]
    pub fn disable() {
        // SAFETY: `cli` only clears IF, which no code relies on being set for memory safety;
        // it acts as a compiler barrier (no `nomem`).
        unsafe { asm!("cli", options(nostack)) };
    }

    /// Enables interrupts and halts until the next one, atomically: `sti` takes effect after
    /// the following instruction, so an interrupt that arrives between the two still ends the
    /// `hlt`. Returns with interrupts enabled. Prefer the safe [`idle`].
    ///
    /// # Safety
    ///
    /// As for [`enable`]: not inside a critical section nor in code that relies on interrupts
    /// being masked.
    #[inline]
    pub unsafe fn enable_and_halt() {
        // SAFETY: sets IF (the caller vouched that nothing relies on it being clear) and halts
        // until an interrupt; handlers run and return here.
        unsafe { asm!("sti", "hlt", options(nostack)) };
    }

    /// Halts until the next interrupt without touching IF.
    ///
    /// With interrupts disabled only an NMI (or a system-management interrupt) ends the wait:
    /// use it that way only to stop the CPU for good.
    #[inline]
    pub fn halt() {
        // SAFETY: `hlt` waits for an interrupt (or forever when IF = 0: the caller's choice).
        unsafe { asm!("hlt", options(nostack)) };
    }

    /// Runs `f` with interrupts disabled, restoring the previous state afterwards.
    ///
    /// Safe because it sets IF again only when it was set on entry, which is never the case
    /// inside a critical section.
    #[inline]
    pub fn without<R>(f: impl FnOnce() -> R) -> R {
        let was_enabled = are_enabled();
        disable();
        let r = f();
        if was_enabled {
            // SAFETY: IF was set when `without` started, so the caller is not inside a
            // critical section (they run with IF clear) and restoring IF is what it expects.
            unsafe { enable() };
        }
        r
    }

    /// What [`idle`] did.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[cfg_attr(feature = "defmt", derive(defmt::Format))]
    pub enum Idle {
        /// `has_work` said there is work: the CPU did not halt.
        WorkPending,
        /// The CPU halted and an interrupt ended the halt; its handler has run.
        Woken,
    }

    /// [`idle`] was called with interrupts disabled (inside a critical section, an interrupt
    /// handler, or after [`disable`]): halting would never end, so it did not halt.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    #[cfg_attr(feature = "defmt", derive(defmt::Format))]
    pub struct InterruptsMasked;

    impl fmt::Display for InterruptsMasked {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(
                "cannot idle with interrupts disabled (inside a critical section or handler)",
            )
        }
    }

    impl core::error::Error for InterruptsMasked {}

    /// The race-free idle step of a kernel main loop: with interrupts masked, asks `has_work`;
    /// if there is none, enables interrupts and halts in one step (`sti; hlt`), so an interrupt
    /// that queues work after the check still ends the halt. Returns with interrupts enabled,
    /// as they were on entry.
    ///
    /// `has_work` runs with interrupts disabled; it may take critical sections.
    ///
    /// # Errors
    ///
    /// [`InterruptsMasked`] when interrupts are disabled on entry: the caller may be inside a
    /// critical section, where enabling them is unsound, and halting without them would never
    /// end. Nothing is called and the CPU does not halt.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use core::sync::atomic::{AtomicBool, Ordering};
    /// use irqkit_hal::x86::interrupts::{self, Idle};
    ///
    /// static KEY_PRESSED: AtomicBool = AtomicBool::new(false); // set by the IRQ 1 handler
    ///
    /// fn wait_for_key() -> Result<(), interrupts::InterruptsMasked> {
    ///     while interrupts::idle(|| KEY_PRESSED.load(Ordering::Relaxed))? != Idle::WorkPending {}
    ///     KEY_PRESSED.store(false, Ordering::Relaxed);
    ///     Ok(())
    /// }
    /// ```
    #[inline]
    pub fn idle(has_work: impl FnOnce() -> bool) -> Result<Idle, InterruptsMasked> {
        if !are_enabled() {
            return Err(InterruptsMasked);
        }
        disable();
        if has_work() {
            // SAFETY: IF was set on entry, so the caller is not inside a critical section;
            // this restores the state it had.
            unsafe { enable() };
            return Ok(Idle::WorkPending);
        }
        // SAFETY: as above; `sti; hlt` restores IF as found and waits for the next interrupt.
        unsafe { enable_and_halt() };
        Ok(Idle::Woken)
    }
}

/// The `critical-section` implementation for a single x86 CPU (feature
/// `critical-section-single-core`).
///
/// It masks interrupts on the current CPU only (save RFLAGS.IF, `cli`, restore IF): that
/// excludes interrupt handlers, not other CPUs. A kernel that runs code on several CPUs needs
/// an implementation that also takes a lock.
#[cfg(feature = "critical-section-single-core")]
mod cs {
    struct SingleCoreCriticalSection;
    critical_section::set_impl!(SingleCoreCriticalSection);

    // SAFETY: single CPU: with IF cleared nothing else runs on it (NMIs aside, which must not
    // take critical sections), and IF stays clear until release because setting it is
    // `unsafe` with "not inside a critical section" as its condition. `acquire` returns whether
    // IF was set, `release` sets it again only then, so nested sections restore correctly.
    unsafe impl critical_section::Impl for SingleCoreCriticalSection {
        unsafe fn acquire() -> critical_section::RawRestoreState {
            let was_enabled = super::interrupts::are_enabled();
            super::interrupts::disable();
            was_enabled
        }

        unsafe fn release(was_enabled: critical_section::RawRestoreState) {
            if was_enabled {
                // SAFETY: this ends the outermost critical section (IF was set when it began),
                // so no section is held any more.
                unsafe { super::interrupts::enable() };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::interrupts::{self, InterruptsMasked};
    use std::string::ToString;

    /// User-mode code on a hosted OS runs with interrupts enabled (IF = 1); reading RFLAGS is
    /// allowed there, so this checks the flag decoding.
    #[test]
    #[cfg_attr(miri, ignore = "inline assembly")]
    fn interrupts_are_enabled_in_user_mode() {
        assert!(interrupts::are_enabled());
    }

    #[test]
    fn masked_error_says_why() {
        assert_eq!(
            InterruptsMasked.to_string(),
            "cannot idle with interrupts disabled (inside a critical section or handler)"
        );
        let _: &dyn core::error::Error = &InterruptsMasked;
    }
}
