//! The simulated I/O bus: port ranges dispatched to device models, every access logged.

use std::fmt;
use std::marker::PhantomData;
use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use irqkit_hal::PortIo;

use crate::device::{AnyDevice, Device, DeviceAddr, DeviceCtx, DeviceId, Width};
use crate::irq::{IrqLines, LineTable};
use crate::log::{Access, LogEntry, Target};
use crate::sim::{Sim, State};
use crate::time::{duration_ns, Clock, SimTime};

/// An attached model and its name.
pub(crate) struct Slot {
    pub(crate) name: Arc<str>,
    pub(crate) model: Box<dyn AnyDevice>,
}

/// One registered port range.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mapping {
    first: u16,
    last: u16,
    device: DeviceId,
    range: usize,
}

/// Why [`Bus::attach`] refused a model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttachError {
    /// A range whose start is after its end.
    EmptyRange {
        /// The device being attached.
        device: String,
        /// The range as given.
        range: RangeInclusive<u16>,
    },
    /// A range shares ports with one already registered (by another device, or earlier in the
    /// same list).
    Overlap {
        /// The device being attached.
        device: String,
        /// Its range that overlaps.
        range: RangeInclusive<u16>,
        /// The device that already has the ports.
        existing_device: String,
        /// That device's range.
        existing_range: RangeInclusive<u16>,
    },
    /// No ranges at all: the model would be unreachable.
    NoRanges {
        /// The device being attached.
        device: String,
    },
}

impl fmt::Display for AttachError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachError::EmptyRange { device, range } => write!(
                f,
                "cannot attach {device}: port range {:#06x}..={:#06x} is empty",
                range.start(),
                range.end()
            ),
            AttachError::Overlap {
                device,
                range,
                existing_device,
                existing_range,
            } => write!(
                f,
                "cannot attach {device}: ports {:#06x}..={:#06x} overlap \
                 {:#06x}..={:#06x} of {existing_device}",
                range.start(),
                range.end(),
                existing_range.start(),
                existing_range.end()
            ),
            AttachError::NoRanges { device } => {
                write!(f, "cannot attach {device}: no port ranges given")
            }
        }
    }
}

impl std::error::Error for AttachError {}

/// Why [`Bus::with_device`] found no model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookupError {
    /// No device has this id.
    NoSuchDevice(DeviceId),
    /// The device exists but is another type.
    WrongType {
        /// The id asked for.
        id: DeviceId,
        /// The name the device was attached under.
        name: String,
        /// The type asked for.
        expected: &'static str,
    },
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::NoSuchDevice(id) => write!(f, "no device with id {}", id.index()),
            LookupError::WrongType { id, name, expected } => {
                write!(f, "device {} ({name}) is not a {expected}", id.index())
            }
        }
    }
}

impl std::error::Error for LookupError {}

/// A port-I/O handle to the simulated bus: implements [`PortIo`] by dispatching each access to
/// the model whose port range contains it, and logs every access.
///
/// Ports no model decodes are a floating bus: reads return all ones of the access width,
/// writes are dropped; both are logged with [`Target::Unmapped`]. After each access the
/// interrupt handlers it triggered run (see [`IrqLines`]).
///
/// Cloning is cheap and every clone reaches the same machine.
///
/// # Examples
///
/// ```
/// use irqkit_hal::PortIo;
/// use irqkit_hal_mock::{Access, Device, DeviceAddr, DeviceCtx, Sim, Width};
///
/// /// Eight scratch registers.
/// #[derive(Debug, Default)]
/// struct Scratch([u8; 8]);
///
/// impl Device for Scratch {
///     fn read(&mut self, at: DeviceAddr, _: Width, _: &mut DeviceCtx<'_>) -> u32 {
///         self.0[usize::from(at.offset)].into()
///     }
///     fn write(&mut self, at: DeviceAddr, _: Width, value: u32, _: &mut DeviceCtx<'_>) {
///         self.0[usize::from(at.offset)] = value as u8;
///     }
/// }
///
/// let sim = Sim::new();
/// let mut bus = sim.bus();
/// let scratch = bus.attach("scratch", &[0x3F8..=0x3FF], Scratch::default()).unwrap();
/// bus.write8(0x3FF, 0x5A);
/// assert_eq!(bus.read8(0x3FF), 0x5A);
/// assert_eq!(scratch.with(|s| s.0[7]), 0x5A);
/// assert!(bus.attach("other", &[0x3F0..=0x3F8], Scratch::default()).is_err());
/// assert_eq!(bus.log()[1].access, Access::read8(0x3FF, 0x5A));
/// ```
#[derive(Debug, Clone)]
pub struct Bus {
    sim: Sim,
}

impl Bus {
    pub(crate) fn new(sim: Sim) -> Self {
        Self { sim }
    }

    /// The simulation this bus belongs to.
    pub fn sim(&self) -> &Sim {
        &self.sim
    }

    /// The simulation's clock.
    pub fn clock(&self) -> Clock {
        self.sim.clock()
    }

    /// The simulation's interrupt lines.
    pub fn lines(&self) -> IrqLines {
        self.sim.lines()
    }

    /// Attaches `model` under `name`, decoding the given port ranges (inclusive). The model sees
    /// each access as a [`DeviceAddr`]: the index of the range in `ranges` and the offset in it.
    ///
    /// # Errors
    ///
    /// [`AttachError`] if `ranges` is empty, a range is empty, or a range overlaps a registered
    /// one (or another range in `ranges`); nothing is attached then.
    pub fn attach<M: Device>(
        &self,
        name: &str,
        ranges: &[RangeInclusive<u16>],
        model: M,
    ) -> Result<DeviceHandle<M>, AttachError> {
        let mut state = self.sim.lock();
        let device = DeviceId::new(state.devices.len());
        let mut map = state.map.clone();
        if ranges.is_empty() {
            return Err(AttachError::NoRanges {
                device: name.into(),
            });
        }
        for (index, range) in ranges.iter().enumerate() {
            if range.start() > range.end() {
                return Err(AttachError::EmptyRange {
                    device: name.into(),
                    range: range.clone(),
                });
            }
            if let Some(existing) = map
                .iter()
                .find(|m| m.first <= *range.end() && *range.start() <= m.last)
            {
                let existing_device = if existing.device == device {
                    name.to_owned()
                } else {
                    state.devices[existing.device.index()].name.to_string()
                };
                return Err(AttachError::Overlap {
                    device: name.into(),
                    range: range.clone(),
                    existing_device,
                    existing_range: existing.first..=existing.last,
                });
            }
            map.push(Mapping {
                first: *range.start(),
                last: *range.end(),
                device,
                range: index,
            });
        }
        map.sort_by_key(|m| m.first);
        state.map = map;
        state.devices.push(Slot {
            name: name.into(),
            model: Box::new(model),
        });
        Ok(DeviceHandle {
            bus: self.clone(),
            id: device,
            model: PhantomData,
        })
    }

    /// Runs `f` on the model with id `id`, which must be an `M`. Interrupt handlers that `f`
    /// made pending run after it returns.
    ///
    /// # Errors
    ///
    /// [`LookupError`] if there is no such device or it is not an `M`.
    ///
    /// # Panics
    ///
    /// If `f` uses this simulation (the bus, clock or lines): it runs with the simulation locked.
    pub fn with_device<M: Device, R>(
        &self,
        id: DeviceId,
        f: impl FnOnce(&mut M, &mut DeviceCtx<'_>) -> R,
    ) -> Result<R, LookupError> {
        let result = {
            let mut state = self.sim.lock();
            let State { devices, core, .. } = &mut *state;
            let slot = devices
                .get_mut(id.index())
                .ok_or(LookupError::NoSuchDevice(id))?;
            let Some(model) = slot.model.as_any_mut().downcast_mut::<M>() else {
                return Err(LookupError::WrongType {
                    id,
                    name: slot.name.to_string(),
                    expected: std::any::type_name::<M>(),
                });
            };
            let mut ctx = DeviceCtx::new(core, self.sim.lines_table(), id, &slot.name);
            f(model, &mut ctx)
        };
        self.sim.deliver_interrupts();
        Ok(result)
    }

    /// Resets every device (in attach order): cancels its events, then calls [`Device::reset`].
    pub fn reset_devices(&self) {
        let count = self.sim.lock().devices.len();
        for index in 0..count {
            self.reset_device(DeviceId::new(index));
        }
    }

    fn reset_device(&self, id: DeviceId) {
        {
            let mut state = self.sim.lock();
            let State { devices, core, .. } = &mut *state;
            core.events.cancel_device(id);
            let slot = &mut devices[id.index()];
            let mut ctx = DeviceCtx::new(core, self.sim.lines_table(), id, &slot.name);
            slot.model.reset(&mut ctx);
        }
        self.sim.deliver_interrupts();
    }

    /// A copy of the access log, oldest first.
    pub fn log(&self) -> Vec<LogEntry> {
        self.sim.lock().log.clone()
    }

    /// Takes the access log, leaving it empty.
    pub fn take_log(&self) -> Vec<LogEntry> {
        std::mem::take(&mut self.sim.lock().log)
    }

    /// Empties the access log.
    pub fn clear_log(&self) {
        self.sim.lock().log.clear();
    }

    /// The log as text, one access per line (for assertion messages and debugging).
    pub fn log_text(&self) -> String {
        let state = self.sim.lock();
        let mut text = String::new();
        for entry in &state.log {
            text.push_str(&entry.to_string());
            text.push('\n');
        }
        text
    }

    /// Sets how much virtual time each port access takes (each element of a string transfer),
    /// default zero. The clock then moves (and due events fire) after every access, like the
    /// ~1 us an ISA `inb` takes, so drivers that count on port reads taking time can be tested.
    pub fn set_access_time(&self, per_access: Duration) {
        self.sim.lock().timing.access_ns = duration_ns(per_access);
    }

    /// Makes the bus panic when `limit` port accesses in a row happen without virtual time
    /// moving (`None`, the default, turns the check off): a driver that polls a register
    /// without a delay would hang a test forever against a model that waits for time to pass.
    pub fn set_spin_limit(&self, limit: Option<u64>) {
        let mut state = self.sim.lock();
        state.timing.spin_limit = limit;
        state.timing.spins = 0;
    }

    /// Performs one logged bus operation at `port`, then lets time pass and delivers the
    /// interrupts it caused. Returns the values read (empty for writes).
    fn access(&self, port: u16, width: Width, transfer: Transfer<'_>, string: bool) -> Vec<u32> {
        let (values, advance_to) = {
            let mut state = self.sim.lock();
            let (values, target) = state.dispatch(self.sim.lines_table(), port, width, &transfer);
            let access = match (&transfer, string) {
                (Transfer::Read { .. }, false) => Access::Read {
                    port,
                    width,
                    value: values[0],
                },
                (Transfer::Read { .. }, true) => Access::ReadString {
                    port,
                    width,
                    values: values.clone(),
                },
                (Transfer::Write { data }, false) => Access::Write {
                    port,
                    width,
                    value: data[0] & width.mask(),
                },
                (Transfer::Write { data }, true) => Access::WriteString {
                    port,
                    width,
                    values: data.iter().map(|v| v & width.mask()).collect(),
                },
            };
            let now = state.core.now;
            let spun = state.timing.count_spin(now);
            let elements = u64::try_from(transfer.len()).unwrap_or(u64::MAX);
            let advance_to = (state.timing.access_ns > 0).then(|| {
                SimTime::from_nanos(
                    now.as_nanos()
                        .saturating_add(state.timing.access_ns.saturating_mul(elements)),
                )
            });
            let entry = LogEntry {
                at: now,
                target,
                access,
            };
            if let Some(spins) = spun {
                drop(state);
                panic!(
                    "irqkit-hal-mock: {spins} port accesses without virtual time moving (the last: \
                     {entry}); a driver polling without a delay? (Bus::set_spin_limit)"
                );
            }
            state.log.push(entry);
            (values, advance_to)
        };
        match advance_to {
            // Runs due events and delivers interrupts.
            Some(target) => self.sim.run_until(target),
            None => self.sim.deliver_interrupts(),
        }
        values
    }

    fn read(&self, port: u16, width: Width) -> u32 {
        self.access(port, width, Transfer::Read { count: 1 }, false)[0]
    }

    fn write(&self, port: u16, width: Width, value: u32) {
        self.access(port, width, Transfer::Write { data: &[value] }, false);
    }

    fn read_string(&self, port: u16, width: Width, count: usize) -> Vec<u32> {
        self.access(port, width, Transfer::Read { count }, true)
    }

    fn write_string(&self, port: u16, width: Width, data: &[u32]) {
        self.access(port, width, Transfer::Write { data }, true);
    }
}

/// The data of one bus operation.
enum Transfer<'a> {
    /// `count` successive reads.
    Read { count: usize },
    /// Successive writes of `data`.
    Write { data: &'a [u32] },
}

impl Transfer<'_> {
    fn len(&self) -> usize {
        match self {
            Transfer::Read { count } => *count,
            Transfer::Write { data } => data.len(),
        }
    }
}

/// How port accesses relate to virtual time.
#[derive(Debug, Default)]
pub(crate) struct BusTiming {
    /// Virtual nanoseconds each access element takes.
    access_ns: u64,
    spin_limit: Option<u64>,
    /// Accesses since virtual time last moved.
    spins: u64,
    spins_since: SimTime,
}

impl BusTiming {
    /// Counts an access at `now`; the count if it reached the spin limit.
    fn count_spin(&mut self, now: SimTime) -> Option<u64> {
        let limit = self.spin_limit?;
        if now != self.spins_since {
            self.spins_since = now;
            self.spins = 0;
        }
        self.spins += 1;
        (self.spins >= limit).then(|| std::mem::take(&mut self.spins))
    }
}

impl State {
    /// Finds the model decoding `port` and runs the transfer on it (or on the floating bus).
    fn dispatch(
        &mut self,
        lines: &LineTable,
        port: u16,
        width: Width,
        transfer: &Transfer<'_>,
    ) -> (Vec<u32>, Target) {
        let hit = self
            .map
            .get(self.map.partition_point(|m| m.last < port))
            .filter(|m| m.first <= port)
            .copied();
        let Some(m) = hit else {
            let values = match transfer {
                Transfer::Read { count } => vec![width.mask(); *count],
                Transfer::Write { .. } => Vec::new(),
            };
            return (values, Target::Unmapped);
        };
        let slot = &mut self.devices[m.device.index()];
        let at = DeviceAddr {
            range: m.range,
            offset: port - m.first,
            port,
        };
        let mut ctx = DeviceCtx::new(&mut self.core, lines, m.device, &slot.name);
        let values = match transfer {
            Transfer::Read { count } => (0..*count)
                .map(|_| slot.model.read(at, width, &mut ctx) & width.mask())
                .collect(),
            Transfer::Write { data } => {
                for &v in *data {
                    slot.model.write(at, width, v & width.mask(), &mut ctx);
                }
                Vec::new()
            }
        };
        let target = Target::Device {
            id: m.device,
            name: Arc::clone(&slot.name),
        };
        (values, target)
    }
}

// The casts below narrow values the bus already masked to the access width.
#[allow(clippy::cast_possible_truncation)]
impl PortIo for Bus {
    fn read8(&mut self, port: u16) -> u8 {
        self.read(port, Width::W8) as u8
    }
    fn write8(&mut self, port: u16, value: u8) {
        self.write(port, Width::W8, value.into());
    }
    fn read16(&mut self, port: u16) -> u16 {
        self.read(port, Width::W16) as u16
    }
    fn write16(&mut self, port: u16, value: u16) {
        self.write(port, Width::W16, value.into());
    }
    fn read32(&mut self, port: u16) -> u32 {
        self.read(port, Width::W32)
    }
    fn write32(&mut self, port: u16, value: u32) {
        self.write(port, Width::W32, value);
    }
    fn read8_into(&mut self, port: u16, buf: &mut [u8]) {
        let values = self.read_string(port, Width::W8, buf.len());
        for (b, v) in buf.iter_mut().zip(values) {
            *b = v as u8;
        }
    }
    fn write8_from(&mut self, port: u16, buf: &[u8]) {
        let data: Vec<u32> = buf.iter().map(|&b| b.into()).collect();
        self.write_string(port, Width::W8, &data);
    }
    fn read16_into(&mut self, port: u16, buf: &mut [u16]) {
        let values = self.read_string(port, Width::W16, buf.len());
        for (w, v) in buf.iter_mut().zip(values) {
            *w = v as u16;
        }
    }
    fn write16_from(&mut self, port: u16, buf: &[u16]) {
        let data: Vec<u32> = buf.iter().map(|&w| w.into()).collect();
        self.write_string(port, Width::W16, &data);
    }
    fn read32_into(&mut self, port: u16, buf: &mut [u32]) {
        buf.copy_from_slice(&self.read_string(port, Width::W32, buf.len()));
    }
    fn write32_from(&mut self, port: u16, buf: &[u32]) {
        self.write_string(port, Width::W32, buf);
    }
}

/// A typed handle to an attached model, returned by [`Bus::attach`]: lets a test inspect or
/// poke the model (inject a key press, make a disk fail) while the driver uses the bus.
///
/// The handle is typed, so it only ever gives the model's own type:
///
/// ```compile_fail
/// use irqkit_hal_mock::{Device, DeviceAddr, DeviceCtx, Sim, Width};
/// #[derive(Debug)]
/// struct A;
/// impl Device for A {
///     fn read(&mut self, _: DeviceAddr, _: Width, _: &mut DeviceCtx<'_>) -> u32 { 0 }
///     fn write(&mut self, _: DeviceAddr, _: Width, _: u32, _: &mut DeviceCtx<'_>) {}
/// }
/// struct B { field: u8 }
/// let a = Sim::new().bus().attach("a", &[0x10..=0x10], A).unwrap();
/// a.with(|b: &mut B| b.field); // error: the model is an `A`
/// ```
pub struct DeviceHandle<M> {
    bus: Bus,
    id: DeviceId,
    model: PhantomData<fn() -> M>,
}

impl<M> Clone for DeviceHandle<M> {
    fn clone(&self) -> Self {
        Self {
            bus: self.bus.clone(),
            id: self.id,
            model: PhantomData,
        }
    }
}

impl<M> fmt::Debug for DeviceHandle<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceHandle")
            .field("id", &self.id)
            .field("type", &std::any::type_name::<M>())
            .finish()
    }
}

impl<M: Device> DeviceHandle<M> {
    /// The device's id.
    pub fn id(&self) -> DeviceId {
        self.id
    }

    /// The bus the device is attached to.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Runs `f` on the model (to inspect or change its state).
    ///
    /// # Panics
    ///
    /// If `f` uses this simulation: it runs with the simulation locked.
    pub fn with<R>(&self, f: impl FnOnce(&mut M) -> R) -> R {
        self.with_ctx(|model, _| f(model))
    }

    /// Runs `f` on the model with a [`DeviceCtx`], for changes that raise lines or schedule
    /// events (a key press arriving). Interrupt handlers run after `f` returns.
    ///
    /// # Panics
    ///
    /// If `f` uses this simulation: it runs with the simulation locked.
    pub fn with_ctx<R>(&self, f: impl FnOnce(&mut M, &mut DeviceCtx<'_>) -> R) -> R {
        match self.bus.with_device(self.id, f) {
            Ok(r) => r,
            // The handle was made by `attach` for this id and type, and devices are never
            // detached, so the lookup cannot fail.
            Err(e) => unreachable!("DeviceHandle lookup failed: {e}"),
        }
    }

    /// Resets the device: cancels its pending events, then calls [`Device::reset`].
    pub fn reset(&self) {
        self.bus.reset_device(self.id);
    }
}
