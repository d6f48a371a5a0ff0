//! The simulation object: one shared state (devices, virtual time, events, lines, log) behind
//! a lock, and the cheap handles that reach it.

use std::cell::RefCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::bus::{Bus, BusTiming, Mapping, Slot};
use crate::device::DeviceCtx;
use crate::irq::{self, IrqLines, IrqState, LineTable};
use crate::log::LogEntry;
use crate::memory::SimMemory;
use crate::time::{Clock, EventQueue, Scheduled, SimTime};

/// A simulated machine: the I/O bus with its device models, a virtual clock and interrupt lines.
///
/// `Sim` is a handle (an `Arc` inside): clones share the same machine, and it is `Send + Sync`,
/// so a test can give [`bus`](Self::bus) to the driver, keep another handle to inspect the log,
/// advance the [`clock`](Self::clock) and drive the [`lines`](Self::lines), from any thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use irqkit_hal::{DelayNs, PortIo};
/// use irqkit_hal_mock::Sim;
///
/// let sim = Sim::new();
/// let mut bus = sim.bus();
/// let mut delay = sim.clock();
/// assert_eq!(bus.read8(0x64), 0xFF); // nothing attached: floating bus
/// delay.delay_ms(2);
/// assert_eq!(sim.now().as_nanos(), 2_000_000);
/// assert_eq!(bus.log().len(), 1);
/// ```
#[derive(Clone)]
pub struct Sim {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    lines: LineTable,
    memory: SimMemory,
}

/// Everything behind the lock.
pub(crate) struct State {
    pub(crate) devices: Vec<Slot>,
    /// Port ranges, sorted by first port, non-overlapping.
    pub(crate) map: Vec<Mapping>,
    pub(crate) log: Vec<LogEntry>,
    pub(crate) timing: BusTiming,
    pub(crate) core: Core,
}

/// The part of the state a device model may reach through its [`DeviceCtx`].
#[derive(Debug, Default)]
pub(crate) struct Core {
    pub(crate) now: SimTime,
    pub(crate) events: EventQueue,
    pub(crate) irq: IrqState,
    /// The simulated physical memory (a handle; the memory has its own lock).
    pub(crate) memory: SimMemory,
}

thread_local! {
    /// Simulations whose lock this thread holds (to turn re-entrant use into a clear panic
    /// instead of a deadlock).
    static HELD: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// The locked state; releases the re-entrancy mark on drop.
pub(crate) struct StateGuard<'a> {
    guard: MutexGuard<'a, State>,
    key: usize,
}

impl Deref for StateGuard<'_> {
    type Target = State;
    fn deref(&self) -> &State {
        &self.guard
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.guard
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        HELD.with(|held| held.borrow_mut().retain(|&k| k != self.key));
    }
}

impl Default for Sim {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Sim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Sim");
        match self.shared.state.try_lock() {
            Ok(state) => s
                .field("now", &state.core.now)
                .field(
                    "devices",
                    &state.devices.iter().map(|d| &*d.name).collect::<Vec<_>>(),
                )
                .field("log_len", &state.log.len())
                .field("pending_events", &state.core.events.len()),
            Err(_) => s.field("state", &"<locked>"),
        };
        s.finish_non_exhaustive()
    }
}

impl Sim {
    /// A machine with nothing attached, at time zero, all lines low.
    pub fn new() -> Self {
        let memory = SimMemory::new();
        Self {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    devices: Vec::new(),
                    map: Vec::new(),
                    log: Vec::new(),
                    timing: BusTiming::default(),
                    core: Core {
                        memory: memory.clone(),
                        ..Core::default()
                    },
                }),
                lines: LineTable::default(),
                memory,
            }),
        }
    }

    /// A port-I/O handle to the bus (implements [`irqkit_hal::PortIo`]).
    pub fn bus(&self) -> Bus {
        Bus::new(self.clone())
    }

    /// A handle to the virtual clock (implements [`irqkit_hal::DelayNs`]).
    pub fn clock(&self) -> Clock {
        Clock::new(self.clone())
    }

    /// A handle to the interrupt lines.
    pub fn lines(&self) -> IrqLines {
        IrqLines::new(self.clone())
    }

    /// A handle to the simulated physical memory (implements
    /// [`irqkit_hal::dma::DmaMap`]; device models reach it through
    /// [`DeviceCtx::memory`](crate::DeviceCtx::memory)).
    pub fn memory(&self) -> SimMemory {
        self.shared.memory.clone()
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.lock().core.now
    }

    /// Locks the state.
    ///
    /// # Panics
    ///
    /// If this thread already holds it: a model or a `DeviceHandle::with` closure tried to use
    /// the simulation it is running inside. A poisoned lock (a panic while locked, say a model
    /// that panicked under `catch_unwind`) is taken over, so one failed check does not cascade.
    pub(crate) fn lock(&self) -> StateGuard<'_> {
        let key = Arc::as_ptr(&self.shared) as usize;
        let reentered = HELD.with(|held| held.borrow().contains(&key));
        assert!(
            !reentered,
            "irqkit-hal-mock: the simulation was used from inside itself (a DeviceHandle::with / \
             Bus::with_device closure or a device model called the bus, clock or lines); \
             use the DeviceCtx inside models, and act on the result after the closure returns"
        );
        let guard = self
            .shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        HELD.with(|held| held.borrow_mut().push(key));
        StateGuard { guard, key }
    }

    pub(crate) fn lines_table(&self) -> &LineTable {
        &self.shared.lines
    }

    /// Runs interrupt handlers made pending by the last operation. Call with the state unlocked.
    pub(crate) fn deliver_interrupts(&self) {
        irq::deliver(self);
    }

    /// Fires due events in order up to `target`, delivering interrupts after each, then sets
    /// the clock to `target` (unless it is already later).
    pub(crate) fn run_until(&self, target: SimTime) {
        loop {
            let callback = {
                let mut state = self.lock();
                let State { devices, core, .. } = &mut *state;
                let Some((id, event)) = core.events.pop_due(target) else {
                    core.now = core.now.max(target);
                    break;
                };
                core.now = core.now.max(id.due());
                match event {
                    Scheduled::Device { device, token } => {
                        let slot = &mut devices[device.index()];
                        let mut ctx = DeviceCtx::new(core, &self.shared.lines, device, &slot.name)
                            .in_event(id);
                        slot.model.event(token, &mut ctx);
                        None
                    }
                    Scheduled::Call(f) => Some(f),
                }
            };
            if let Some(f) = callback {
                f(&mut self.bus());
            }
            self.deliver_interrupts();
        }
        self.deliver_interrupts();
    }
}
