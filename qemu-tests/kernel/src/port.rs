//! The kernel's one door to the I/O address space.

use irqkit_hal::x86::X86PortIo;

/// The kernel's port I/O type, as drivers see it.
pub type Ports = X86PortIo;

/// A handle to the CPU's I/O ports for the kernel's own device code.
pub fn ports() -> Ports {
    // SAFETY: the kernel runs at CPL 0 (PVH entry, no ring switch), so `in`/`out` are allowed;
    // every caller is this kernel's trusted device code, and sequences on devices shared with
    // interrupt handlers (serial, PIC) run inside critical sections (IF = 0, single CPU).
    unsafe { X86PortIo::new() }
}
