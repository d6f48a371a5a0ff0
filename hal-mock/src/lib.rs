//! Simulated hardware for host tests of irqkit drivers.
//!
//! A [`Sim`] is a small machine: an I/O [`Bus`] that dispatches port ranges to device models
//! (and implements [`irqkit_hal::PortIo`]), a virtual [`Clock`] (implements
//! [`irqkit_hal::DelayNs`]; timeouts run instantly and deterministically), and interrupt
//! [`IrqLines`] with test-registered handlers. Every access is logged with its virtual time.
//!
//! | need | what to use |
//! |------|-------------|
//! | a bus for the driver under test | [`Sim::bus`] (clone it: one for the driver, one for the test) |
//! | a simulated chip | implement [`Device`]; [`Bus::attach`] it to port ranges |
//! | poke / inspect a model | the [`DeviceHandle`] from `attach` ([`DeviceHandle::with_ctx`]) |
//! | delays and timeouts | [`Sim::clock`]; [`Clock::advance`] from the test |
//! | "answer after 2 ms" in a model | [`DeviceCtx::schedule_in`] + [`Device::event`] |
//! | "a key press 3 ms into the wait" from a test | [`Clock::call_in`] |
//! | port accesses that take time; catching delay-less busy loops | [`Bus::set_access_time`], [`Bus::set_spin_limit`] |
//! | interrupts | [`DeviceCtx::raise`] / [`DeviceCtx::pulse`] in models, [`IrqLines`] in tests |
//! | check what the driver did | [`Bus::log`] ([`LogEntry`], [`Access`]) |
//! | check an exact access sequence | [`ScriptedPorts`] |
//! | lost / corrupted / late accesses | wrap a model in [`Faulty`] |
//! | PCI configuration space (0xCF8 / 0xCFC), QEMU's PIIX3 IDE function | [`pci::PciConfigSpace`], [`pci::PciFunction`] |
//! | an ATA disk on an IDE channel with its bus master, like QEMU's (PIO, DMA, write cache, faults) | [`ata::IdeChannel`], [`ata::AtaDisk`], [`ata::DiskFaults`] |
//! | memory a bus-master model reads and writes; the driver's [`DmaMap`](irqkit_hal::dma::DmaMap) | [`Sim::memory`] ([`SimMemory`]), [`DeviceCtx::memory`] in models |
//!
//! # For model authors
//!
//! A model is a plain struct implementing [`Device`]: `read` / `write` get a [`DeviceAddr`]
//! (which of the model's port ranges, and the offset in it), the [`Width`], and a
//! [`DeviceCtx`] with the virtual time, event scheduling and the interrupt lines. Models own
//! their line numbers (take them in the constructor) and never touch the bus themselves.
//! Keep each model in its own module of this crate (`src/i8042.rs`, ...), with its tests.
//!
//! # For test authors
//!
//! - Give the driver `sim.bus()` and `sim.clock()`; keep `sim` to inspect and steer.
//! - Interrupt handlers ([`IrqLines::on_rise`]) get a `&mut Bus`; they run after the access
//!   that raised the line, never nested. If the driver shares state with its handler behind a
//!   lock, take it inside [`IrqLines::without_interrupts`] (as a kernel takes a spinlock with
//!   interrupts off), or the handler run by the driver's own access would wait on it.
//! - [`DeviceHandle::with`] closures run with the simulation locked: read or change the model
//!   there, use the bus after.
//! - Failures are panics with a message (script mismatch, interrupt storm, spin limit,
//!   re-entrant use): they are test assertions.
//!
//! # Example
//!
//! A driver waits for a device that becomes ready 300 us after a command; the test takes no
//! real time:
//!
//! ```
//! use std::time::Duration;
//! use irqkit_hal::{poll_until, DelayNs, PortIo};
//! use irqkit_hal_mock::{Device, DeviceAddr, DeviceCtx, Sim, Width};
//!
//! #[derive(Debug, Default)]
//! struct SlowDevice {
//!     ready: bool,
//! }
//!
//! impl Device for SlowDevice {
//!     fn read(&mut self, _: DeviceAddr, _: Width, _: &mut DeviceCtx<'_>) -> u32 {
//!         if self.ready { 0x01 } else { 0x80 }
//!     }
//!     fn write(&mut self, _: DeviceAddr, _: Width, _: u32, ctx: &mut DeviceCtx<'_>) {
//!         self.ready = false;
//!         ctx.schedule_in(Duration::from_micros(300), 0);
//!     }
//!     fn event(&mut self, _: u64, _: &mut DeviceCtx<'_>) {
//!         self.ready = true;
//!     }
//! }
//!
//! /// The driver side: start a command, wait up to 1 ms for bit 0.
//! fn start(ports: &mut impl PortIo, delay: &mut impl DelayNs) -> Result<u8, irqkit_hal::Timeout> {
//!     ports.write8(0x200, 1);
//!     poll_until(delay, 1_000, 50, || Some(ports.read8(0x200)).filter(|s| s & 1 != 0))
//! }
//!
//! let sim = Sim::new();
//! let mut bus = sim.bus();
//! bus.attach("slow", &[0x200..=0x200], SlowDevice::default()).unwrap();
//! assert_eq!(start(&mut bus, &mut sim.clock()), Ok(0x01));
//! assert_eq!(sim.now().as_micros(), 300);
//! ```
#![forbid(unsafe_code)]

pub mod ata;
mod bus;
mod device;
mod fault;
pub mod i8042;
mod irq;
mod log;
pub mod memory;
pub mod pci;
mod script;
mod sim;
mod time;

pub use bus::{AttachError, Bus, DeviceHandle, LookupError};
pub use device::{Device, DeviceAddr, DeviceCtx, DeviceId, Width};
pub use fault::{Fault, Faulty, Injected, Match};
pub use irq::{IrqLines, Line, Trigger, DEFAULT_STORM_LIMIT};
pub use log::{Access, LogEntry, Target};
pub use memory::SimMemory;
pub use script::ScriptedPorts;
pub use sim::Sim;
pub use time::{Clock, EventId, SimTime};
