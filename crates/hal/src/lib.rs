//! Hardware traits for the irqkit drivers.
//!
//! Every irqkit driver is generic over the small traits of this crate, so the same driver code
//! runs on real x86 hardware, on an MMIO register window, and on the host against the simulated
//! bus of `irqkit-hal-mock`.
//!
//! | need | what to use |
//! |------|-------------|
//! | byte / word / dword registers, `rep ins` / `rep outs` | [`PortIo`] |
//! | x86 `in` / `out` instructions | [`x86::X86PortIo`] (feature `x86`) |
//! | a device's registers mapped into memory | [`mmio::MmioPorts`] |
//! | PCI configuration space (any mechanism) and its helpers | [`pci::ConfigSpace`] |
//! | PCI configuration over ports 0xCF8 / 0xCFC | [`pci::PciConfig`] |
//! | an IDE controller's ports, bus-master base and IRQs | [`pci::IdeController`] |
//! | handing memory to a bus-master device (DMA) | [`dma::DmaMap`], [`dma::IdentityMap`] |
//! | delays | [`DelayNs`] from embedded-hal 1.0 |
//! | bounded waits ("poll the status register for at most 10 ms") | [`timeout::poll_until`] |
//! | masking interrupts | the re-exported [`critical_section`] crate (implementation: see below) |
//! | enabling interrupts, the race-free idle `sti; hlt` | [`x86::interrupts`] (feature `x86`) |
//!
//! For a single-CPU x86 kernel, feature `critical-section-single-core` provides the
//! `critical-section` implementation: it masks interrupts (IF) on the current CPU only, so it does
//! not exclude code running on other CPUs.
//!
//! The [guide](https://github.com/irqkit/irqkit/blob/main/docs/GUIDE.md) shows which
//! `critical-section` implementation to link where (this one in the kernel binary,
//! `critical-section/std` in host tests) and wires a keyboard and a disk with the irqkit crates.
//!
//! # For driver authors
//!
//! Take a `P: PortIo` (and a `D: DelayNs` where the protocol has timing) by value. Callers can
//! pass `&mut bus` thanks to the forwarding implementations, so tests keep their mock. Driver
//! crates stay `#![forbid(unsafe_code)]`: the unsafety of touching hardware is discharged once,
//! where the kernel constructs the real implementation.
//!
//! # For HAL authors
//!
//! Implement the six scalar methods of [`PortIo`]; override the string methods when the
//! hardware has a faster block transfer than a loop (as `rep insw` is on x86). Implement
//! [`pci::ConfigSpace`] for your configuration mechanism and [`dma::DmaMap`] for your address
//! space when the provided ones do not fit.
//!
//! # Unsafe code and what checks it
//!
//! - `x86::X86PortIo::new` (unsafe): the caller has I/O privilege and trusts the holder with
//!   every port. Its `asm!` blocks: the string forms write exactly `buf.len()` elements of
//!   `buf`, and every access is a compiler barrier, checked on the emitted code by the
//!   `port_io_order` integration test.
//! - [`mmio::MmioPorts::new`] (unsafe): the window is valid for volatile access while the value
//!   lives. Its accesses are in-window, aligned, raw-pointer volatile accesses that create no
//!   reference to a register: unit tests run under Miri, one with a window allocated with
//!   exactly its length.
//! - [`dma::IdentityMap::new`] (unsafe): every mapped buffer is identity-mapped, DMA-coherent
//!   RAM. Its barriers are checked by `port_io_order`, its address reporting by unit tests
//!   under Miri.
//! - `x86::interrupts::enable` / `enable_and_halt` (unsafe): not inside a critical section; a
//!   `compile_fail` doctest shows safe code cannot call them.
//! - The `critical-section-single-core` implementation: one CPU, and IF stays clear until the
//!   outermost section ends (setting it is unsafe with that condition); exercised by the QEMU
//!   test kernel, which keeps its shared state in critical-section mutexes.
//!
//! # Example
//!
//! ```
//! use irqkit_hal::PortIo;
//!
//! /// Reads the i8042 status register of any port-I/O implementation.
//! fn i8042_status(ports: &mut impl PortIo) -> u8 {
//!     ports.read8(0x64)
//! }
//! # struct Floating;
//! # impl PortIo for Floating {
//! #     fn read8(&mut self, _: u16) -> u8 { 0xFF }
//! #     fn write8(&mut self, _: u16, _: u8) {}
//! #     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
//! #     fn write16(&mut self, _: u16, _: u16) {}
//! #     fn read32(&mut self, _: u16) -> u32 { !0 }
//! #     fn write32(&mut self, _: u16, _: u32) {}
//! # }
//! assert_eq!(i8042_status(&mut Floating), 0xFF);
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(test)]
extern crate std;

pub mod dma;
pub mod mmio;
pub mod pci;
pub mod port;
pub mod timeout;
#[cfg(all(feature = "x86", any(target_arch = "x86", target_arch = "x86_64")))]
pub mod x86;

pub use critical_section;
pub use embedded_hal::delay::DelayNs;
pub use port::PortIo;
pub use timeout::{poll_until, Timeout};
