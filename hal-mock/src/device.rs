//! The device-model API: what a simulated device implements, and what it may do while it runs.

use std::any::Any;
use std::fmt;
use std::time::Duration;

use crate::irq::{Line, LineTable};
use crate::sim::Core;
use crate::time::{EventId, Scheduled, SimTime};

/// The width of one port access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Width {
    /// A byte (`inb` / `outb`).
    W8,
    /// A 16-bit word (`inw` / `outw`).
    W16,
    /// A 32-bit double word (`inl` / `outl`).
    W32,
}

impl Width {
    /// Bytes moved by one access.
    pub const fn bytes(self) -> u8 {
        match self {
            Width::W8 => 1,
            Width::W16 => 2,
            Width::W32 => 4,
        }
    }

    /// The bits an access of this width carries; also what a floating bus reads as.
    pub const fn mask(self) -> u32 {
        match self {
            Width::W8 => 0xFF,
            Width::W16 => 0xFFFF,
            Width::W32 => 0xFFFF_FFFF,
        }
    }

    /// Digits needed to print a value of this width in hex.
    pub(crate) const fn hex_digits(self) -> usize {
        self.bytes() as usize * 2
    }
}

/// Identifies a device attached to a [`Bus`](crate::Bus) (its attach order, from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(usize);

impl DeviceId {
    /// The id of the device attached `index`-th (from 0);
    /// [`Bus::with_device`](crate::Bus::with_device) reports one that does not exist.
    pub const fn new(index: usize) -> Self {
        Self(index)
    }

    /// The position of the device in attach order.
    pub const fn index(self) -> usize {
        self.0
    }
}

/// Where an access landed inside a device, as the device sees it.
///
/// A model registers one or more port ranges when it is attached (an i8042 has `0x60` and
/// `0x64`, an IDE channel `0x1F0..=0x1F7` and `0x3F6`). `range` says which of them was hit
/// (the index in the list given to [`Bus::attach`](crate::Bus::attach)) and `offset` is the
/// distance from that range's first port, so the same model works at any base address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DeviceAddr {
    /// Index of the registered range that contains the port.
    pub range: usize,
    /// Offset of the port from the start of that range.
    pub offset: u16,
    /// The absolute port number (for messages; decode with `range` and `offset`).
    pub port: u16,
}

/// A simulated device: the model of a chip behind some I/O ports.
///
/// The bus calls [`read`](Self::read) / [`write`](Self::write) for each access to the model's
/// ports (a string transfer is one call per element), [`event`](Self::event) when an event the
/// model scheduled falls due, and [`reset`](Self::reset) on a simulated reset. Every call gets a
/// [`DeviceCtx`]: the current virtual time, scheduling, and the interrupt lines.
///
/// Calls run while the simulation is locked: a model cannot reach the bus, and need not be
/// re-entrant. Interrupt handlers that a raised line triggers run after the call returns.
///
/// The value a read returns is cut to the access width; a write's value is zero-extended.
/// An access that starts inside a range is the model's even if it is wider than what is left of
/// the range (real chips decode the starting port).
///
/// # Examples
///
/// A counter that counts writes and raises its line when told to:
///
/// ```
/// use std::time::Duration;
/// use irqkit_hal::PortIo;
/// use irqkit_hal_mock::{Device, DeviceAddr, DeviceCtx, Line, Sim, Width};
///
/// #[derive(Debug, Default)]
/// struct Counter {
///     count: u32,
/// }
///
/// impl Device for Counter {
///     fn read(&mut self, _at: DeviceAddr, _width: Width, _ctx: &mut DeviceCtx<'_>) -> u32 {
///         self.count
///     }
///     fn write(&mut self, at: DeviceAddr, _width: Width, value: u32, ctx: &mut DeviceCtx<'_>) {
///         match at.offset {
///             0 => self.count += value,
///             // Offset 1: "interrupt me in `value` microseconds".
///             _ => {
///                 ctx.schedule_in(Duration::from_micros(value.into()), 0);
///             }
///         }
///     }
///     fn event(&mut self, _token: u64, ctx: &mut DeviceCtx<'_>) {
///         ctx.pulse(Line(5));
///     }
///     fn reset(&mut self, _ctx: &mut DeviceCtx<'_>) {
///         self.count = 0;
///     }
/// }
///
/// let sim = Sim::new();
/// let mut bus = sim.bus();
/// let counter = bus.attach("counter", &[0x300..=0x301], Counter::default()).unwrap();
/// bus.write8(0x300, 3);
/// bus.write8(0x300, 4);
/// assert_eq!(bus.read8(0x300), 7);
/// assert_eq!(counter.with(|c| c.count), 7);
///
/// bus.write8(0x301, 100);
/// sim.clock().advance(Duration::from_micros(99));
/// assert_eq!(sim.lines().rising_edges(Line(5)), 0);
/// sim.clock().advance(Duration::from_micros(1));
/// assert_eq!(sim.lines().rising_edges(Line(5)), 1);
/// ```
pub trait Device: Any + Send {
    /// Answers a read of `width` at `at`. Only the low `width` bits of the result are used.
    fn read(&mut self, at: DeviceAddr, width: Width, ctx: &mut DeviceCtx<'_>) -> u32;

    /// Takes a write of `value` (`width` bits, zero-extended) at `at`.
    fn write(&mut self, at: DeviceAddr, width: Width, value: u32, ctx: &mut DeviceCtx<'_>);

    /// An event this model scheduled with [`DeviceCtx::schedule_in`] / [`DeviceCtx::schedule_at`]
    /// fell due; `token` is the value given then. The default ignores it.
    fn event(&mut self, token: u64, ctx: &mut DeviceCtx<'_>) {
        let _ = (token, ctx);
    }

    /// A simulated reset ([`Bus::reset_devices`](crate::Bus::reset_devices) or
    /// [`DeviceHandle::reset`](crate::DeviceHandle::reset)). The model's pending events are
    /// already cancelled when this runs; its lines keep their level unless it changes them.
    /// The default does nothing.
    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        let _ = ctx;
    }
}

/// A type-erased model that can still be downcast to its concrete type.
pub(crate) trait AnyDevice: Device {
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<D: Device> AnyDevice for D {
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// What a device model can reach while it runs: time, its events, the interrupt lines.
pub struct DeviceCtx<'a> {
    core: &'a mut Core,
    lines: &'a LineTable,
    device: DeviceId,
    name: &'a str,
    /// The event being delivered, in `Device::event`.
    event: Option<EventId>,
}

impl fmt::Debug for DeviceCtx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCtx")
            .field("device", &self.device)
            .field("name", &self.name)
            .field("now", &self.core.now)
            .finish_non_exhaustive()
    }
}

impl<'a> DeviceCtx<'a> {
    pub(crate) fn new(
        core: &'a mut Core,
        lines: &'a LineTable,
        device: DeviceId,
        name: &'a str,
    ) -> Self {
        Self {
            core,
            lines,
            device,
            name,
            event: None,
        }
    }

    /// Marks the context as delivering event `id`.
    pub(crate) fn in_event(self, id: EventId) -> Self {
        Self {
            event: Some(id),
            ..self
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.core.now
    }

    /// This device's id.
    pub fn device(&self) -> DeviceId {
        self.device
    }

    /// The name this device was attached under.
    pub fn name(&self) -> &str {
        self.name
    }

    /// Calls this model's [`Device::event`] with `token` once virtual time reaches `now + after`.
    ///
    /// Events fire only when the clock moves (a delay or an advance, even of zero), never in the
    /// middle of the port access that scheduled them.
    pub fn schedule_in(&mut self, after: Duration, token: u64) -> EventId {
        let at = self.core.now + after;
        self.schedule_at(at, token)
    }

    /// Calls this model's [`Device::event`] with `token` once virtual time reaches `at` (at the
    /// next clock step if `at` has passed already).
    pub fn schedule_at(&mut self, at: SimTime, token: u64) -> EventId {
        let event = Scheduled::Device {
            device: self.device,
            token,
        };
        self.core.events.schedule(at, event)
    }

    /// In [`Device::event`], the id of the event being delivered (as returned when it was
    /// scheduled); `None` in other calls. Lets a wrapper model tell its own events from the
    /// wrapped model's without sharing the token space.
    pub fn current_event(&self) -> Option<EventId> {
        self.event
    }

    /// Cancels a pending event; `false` if it already fired or was cancelled.
    pub fn cancel(&mut self, id: EventId) -> bool {
        self.core.events.cancel(id)
    }

    /// Drives `line` high (a rising edge if it was low).
    pub fn raise(&mut self, line: Line) {
        self.set_line(line, true);
    }

    /// Drives `line` low.
    pub fn lower(&mut self, line: Line) {
        self.set_line(line, false);
    }

    /// Raises then lowers `line`: one rising edge, the way an edge-triggered ISA device signals.
    pub fn pulse(&mut self, line: Line) {
        self.set_line(line, true);
        self.set_line(line, false);
    }

    /// Drives `line` to `high`.
    pub fn set_line(&mut self, line: Line, high: bool) {
        self.core.irq.set_line(self.lines, line, high);
    }

    /// The simulated physical memory, for bus-master models: read and write by bus address
    /// (see [`SimMemory`](crate::SimMemory)).
    pub fn memory(&self) -> &crate::SimMemory {
        &self.core.memory
    }

    /// The current level of `line`.
    pub fn line_level(&self, line: Line) -> bool {
        self.lines.level(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_masks_and_sizes() {
        assert_eq!(
            [Width::W8, Width::W16, Width::W32].map(|w| (w.bytes(), w.mask())),
            [(1, 0xFF), (2, 0xFFFF), (4, 0xFFFF_FFFF)]
        );
    }
}
