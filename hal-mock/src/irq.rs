//! Interrupt lines: levels and edges that models drive and tests observe, and the simulated
//! CPU side that runs a test's interrupt handlers.

use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::bus::Bus;
use crate::sim::Sim;

/// An interrupt line number (an ISA IRQ, a PCI INTx routed somewhere, ...): 0 to 255.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Line(pub u8);

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IRQ{}", self.0)
    }
}

/// How a registered interrupt handler is triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// Once per rising edge (ISA, 8259 default).
    Edge,
    /// Whenever the line is high: again after each return while the device keeps it asserted
    /// (PCI INTx, IOAPIC level mode).
    Level,
}

/// The handler storm limit a new simulation starts with.
pub const DEFAULT_STORM_LIMIT: u32 = 1000;

/// Lock-free observable state of one line. Written only with the simulation locked (so it
/// stays consistent with the pending bits); read without locking.
#[derive(Debug, Default)]
struct LineCell {
    level: AtomicBool,
    rising_edges: AtomicU64,
    /// `rising_edges` as of the last `take_edge`.
    seen_edges: AtomicU64,
    handler_runs: AtomicU64,
}

/// The 256 lines' observable state.
#[derive(Debug)]
pub(crate) struct LineTable {
    cells: Box<[LineCell]>,
}

impl Default for LineTable {
    fn default() -> Self {
        Self {
            cells: (0..256).map(|_| LineCell::default()).collect(),
        }
    }
}

impl LineTable {
    fn cell(&self, line: Line) -> &LineCell {
        &self.cells[usize::from(line.0)]
    }

    pub(crate) fn level(&self, line: Line) -> bool {
        self.cell(line).level.load(Ordering::Acquire)
    }
}

type HandlerFn = Box<dyn FnMut(&mut Bus) + Send>;

struct Handler {
    run: HandlerFn,
    trigger: Trigger,
    generation: u64,
}

enum HandlerSlot {
    Empty,
    Installed(Handler),
    /// Taken out by the delivery loop; put back on return unless replaced meanwhile.
    Running {
        generation: u64,
        trigger: Trigger,
    },
}

impl HandlerSlot {
    fn trigger(&self) -> Option<Trigger> {
        match self {
            HandlerSlot::Empty => None,
            HandlerSlot::Installed(h) => Some(h.trigger),
            HandlerSlot::Running { trigger, .. } => Some(*trigger),
        }
    }
}

/// A set of lines, one bit each.
#[derive(Debug, Default, Clone, Copy)]
struct LineSet([u64; 4]);

impl LineSet {
    fn insert(&mut self, line: Line) {
        self.0[usize::from(line.0 / 64)] |= 1 << (line.0 % 64);
    }

    fn remove(&mut self, line: Line) {
        self.0[usize::from(line.0 / 64)] &= !(1 << (line.0 % 64));
    }

    fn contains(&self, line: Line) -> bool {
        self.0[usize::from(line.0 / 64)] & (1 << (line.0 % 64)) != 0
    }

    /// Removes and returns the lowest line not in `skip`.
    fn take_lowest(&mut self, skip: &LineSet) -> Option<Line> {
        for (index, (word, skip)) in self.0.iter_mut().zip(skip.0).enumerate() {
            let candidates = *word & !skip;
            if candidates != 0 {
                let bit = candidates.trailing_zeros();
                *word &= !(1 << bit);
                // At most 3 * 64 + 63 = 255.
                return u8::try_from(index * 64 + bit as usize).ok().map(Line);
            }
        }
        None
    }
}

/// Pending bits, handlers and the delivery flag; lives inside the locked simulation state.
pub(crate) struct IrqState {
    handlers: Vec<HandlerSlot>,
    pending: LineSet,
    /// Lines whose handlers wait (like an 8259's mask register).
    masked: LineSet,
    /// Nesting depth of `IrqLines::without_interrupts` (like `cli`).
    disabled: u32,
    delivering: bool,
    storm_limit: u32,
    next_generation: u64,
}

impl fmt::Debug for IrqState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IrqState")
            .field("pending", &self.pending)
            .field("masked", &self.masked)
            .field("disabled", &self.disabled)
            .field("delivering", &self.delivering)
            .field("storm_limit", &self.storm_limit)
            .finish_non_exhaustive()
    }
}

impl Default for IrqState {
    fn default() -> Self {
        Self {
            handlers: (0..256).map(|_| HandlerSlot::Empty).collect(),
            pending: LineSet::default(),
            masked: LineSet::default(),
            disabled: 0,
            delivering: false,
            storm_limit: DEFAULT_STORM_LIMIT,
            next_generation: 0,
        }
    }
}

impl IrqState {
    /// Drives a line; counts a rising edge and marks the handler pending.
    pub(crate) fn set_line(&mut self, table: &LineTable, line: Line, high: bool) {
        let cell = table.cell(line);
        let was_high = cell.level.swap(high, Ordering::AcqRel);
        if high && !was_high {
            cell.rising_edges.fetch_add(1, Ordering::AcqRel);
            self.mark_pending(line);
        }
    }

    fn mark_pending(&mut self, line: Line) {
        if self.handlers[usize::from(line.0)].trigger().is_some() {
            self.pending.insert(line);
        }
    }

    /// Takes the lowest pending line that is not masked.
    fn take_pending(&mut self) -> Option<Line> {
        self.pending.take_lowest(&self.masked)
    }
}

/// Runs pending interrupt handlers until none is left (see the delivery rules on `IrqLines`).
/// Call with the simulation unlocked.
pub(crate) fn deliver(sim: &Sim) {
    let mut state = sim.lock();
    if state.core.irq.delivering || state.core.irq.disabled > 0 {
        return;
    }
    state.core.irq.delivering = true;
    let limit = state.core.irq.storm_limit;
    let mut runs: u32 = 0;
    let mut bus = sim.bus();
    loop {
        let irq = &mut state.core.irq;
        // Another thread may have disabled interrupts meanwhile: it delivers when it enables.
        let next = if irq.disabled > 0 {
            None
        } else {
            irq.take_pending()
        };
        let Some(line) = next else {
            irq.delivering = false;
            return;
        };
        let slot = &mut irq.handlers[usize::from(line.0)];
        let mut handler = match std::mem::replace(slot, HandlerSlot::Empty) {
            HandlerSlot::Installed(h) => h,
            // Removed since it was marked; a running slot cannot be pending-and-taken because
            // only this loop takes handlers and it runs one at a time.
            other => {
                *slot = other;
                continue;
            }
        };
        *slot = HandlerSlot::Running {
            generation: handler.generation,
            trigger: handler.trigger,
        };
        runs += 1;
        if runs > limit {
            *slot = HandlerSlot::Installed(handler);
            irq.delivering = false;
            drop(state);
            panic!(
                "interrupt storm on {line}: more than {limit} handler runs in one delivery \
                 (a level-triggered line that is never lowered, or a handler whose accesses \
                 raise its own line every time); see IrqLines::set_storm_limit"
            );
        }
        drop(state);

        sim.lines_table()
            .cell(line)
            .handler_runs
            .fetch_add(1, Ordering::AcqRel);
        let outcome = catch_unwind(AssertUnwindSafe(|| (handler.run)(&mut bus)));

        state = sim.lock();
        let irq = &mut state.core.irq;
        let slot = &mut irq.handlers[usize::from(line.0)];
        let still_ours = matches!(slot, HandlerSlot::Running { generation, .. }
            if *generation == handler.generation);
        if still_ours {
            let trigger = handler.trigger;
            *slot = HandlerSlot::Installed(handler);
            if trigger == Trigger::Level && sim.lines_table().level(line) {
                irq.mark_pending(line);
            }
        }
        if let Err(panic) = outcome {
            irq.delivering = false;
            drop(state);
            resume_unwind(panic);
        }
    }
}

/// The interrupt lines of a simulation: drive them, watch them, and attach handlers.
///
/// Cloning gives another handle to the same lines. Observation methods
/// ([`level`](Self::level), [`rising_edges`](Self::rising_edges), [`take_edge`](Self::take_edge))
/// are lock-free, so a second thread can watch a line while the driver runs.
///
/// # Delivery rules
///
/// - A line is a wire with a level. A rising edge (low to high) counts in
///   [`IrqLines::rising_edges`] and, if a handler is registered for the line, marks it pending
///   (one pending bit per line, like an 8259's request register: edges while pending merge).
/// - Pending handlers run after the operation that raised the line has released the simulation
///   (a port access, a clock step, a `raise` from the test), so a handler may use the bus, the
///   clock and the lines freely. Lowest line number first.
/// - Handlers never nest: while one runs, interrupts are "disabled". If its own accesses raise
///   a line again (its own or another), that line is pending and its handler runs after the
///   current one returns, from the same delivery loop.
/// - [`Trigger::Level`]: after its handler returns, a line still high is pending again (the
///   device was not acknowledged). Registering a level handler on a high line makes it pending.
/// - At most [`storm limit`](IrqLines::set_storm_limit) handler runs (default 1000) happen in
///   one delivery loop; one more is an interrupt storm and panics with the line number, so a
///   driver that never acknowledges its device fails the test instead of hanging it.
/// - With several threads, whichever thread finds handlers pending and no delivery running
///   runs them; a thread that raises a line while another thread is delivering leaves the work
///   to that thread.
/// - [`IrqLines::without_interrupts`] holds all delivery back (like `cli`), [`IrqLines::mask`]
///   one line's (like an 8259 mask bit); what became pending meanwhile runs when they end.
/// - A handler that panics: the panic comes out of the operation that ran the delivery (the
///   driver's port access, the test's `advance`); the simulation stays usable.
///
/// # Examples
///
/// An interrupt handler that reads the device that raised the line:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use irqkit_hal::PortIo;
/// use irqkit_hal_mock::{Line, Sim, Trigger};
///
/// let sim = Sim::new();
/// let lines = sim.lines();
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = Arc::clone(&seen);
/// lines.on_rise(Line(1), Trigger::Edge, move |bus| log.lock().unwrap().push(bus.read8(0x60)));
///
/// lines.pulse(Line(1));
/// assert_eq!(*seen.lock().unwrap(), [0xFF]); // nothing at 0x60: floating bus
/// assert_eq!(lines.rising_edges(Line(1)), 1);
/// assert!(lines.take_edge(Line(1)));
/// assert!(!lines.take_edge(Line(1)));
/// ```
#[derive(Debug, Clone)]
pub struct IrqLines {
    sim: Sim,
}

impl IrqLines {
    pub(crate) fn new(sim: Sim) -> Self {
        Self { sim }
    }

    /// Drives `line` high, then runs the handlers this made pending.
    pub fn raise(&self, line: Line) {
        self.set(line, true);
    }

    /// Drives `line` low.
    pub fn lower(&self, line: Line) {
        self.set(line, false);
    }

    /// Raises and lowers `line` (one rising edge), then runs the handlers this made pending.
    pub fn pulse(&self, line: Line) {
        {
            let mut state = self.sim.lock();
            let table = self.sim.lines_table();
            state.core.irq.set_line(table, line, true);
            state.core.irq.set_line(table, line, false);
        }
        deliver(&self.sim);
    }

    /// Drives `line` to `high`, then runs the handlers this made pending.
    pub fn set(&self, line: Line, high: bool) {
        {
            let mut state = self.sim.lock();
            state.core.irq.set_line(self.sim.lines_table(), line, high);
        }
        deliver(&self.sim);
    }

    /// The current level of `line`.
    pub fn level(&self, line: Line) -> bool {
        self.sim.lines_table().level(line)
    }

    /// Rising edges of `line` since the simulation started.
    pub fn rising_edges(&self, line: Line) -> u64 {
        self.sim
            .lines_table()
            .cell(line)
            .rising_edges
            .load(Ordering::Acquire)
    }

    /// Whether `line` had a rising edge since the previous `take_edge` / `take_edges` of it
    /// (through any handle: the "last looked" mark is shared). Wait-free.
    pub fn take_edge(&self, line: Line) -> bool {
        self.take_edges(line) > 0
    }

    /// How many rising edges `line` had since the previous `take_edge` / `take_edges` of it.
    /// Wait-free.
    pub fn take_edges(&self, line: Line) -> u64 {
        let cell = self.sim.lines_table().cell(line);
        let now = cell.rising_edges.load(Ordering::Acquire);
        // fetch_max: two threads looking at once never move the mark back (which would report
        // an edge twice).
        let before = cell.seen_edges.fetch_max(now, Ordering::AcqRel);
        now.saturating_sub(before)
    }

    /// How many times the handler of `line` has run (all handlers it ever had).
    pub fn handler_runs(&self, line: Line) -> u64 {
        self.sim
            .lines_table()
            .cell(line)
            .handler_runs
            .load(Ordering::Acquire)
    }

    /// Registers `handler` to run on `line` as described in the
    /// [delivery rules](IrqLines#delivery-rules), replacing
    /// any handler the line had. It gets a [`Bus`] handle of this simulation.
    ///
    /// A [`Trigger::Level`] handler registered while the line is high runs right away.
    pub fn on_rise(
        &self,
        line: Line,
        trigger: Trigger,
        handler: impl FnMut(&mut Bus) + Send + 'static,
    ) {
        {
            let mut state = self.sim.lock();
            let irq = &mut state.core.irq;
            let generation = irq.next_generation;
            irq.next_generation += 1;
            irq.handlers[usize::from(line.0)] = HandlerSlot::Installed(Handler {
                run: Box::new(handler),
                trigger,
                generation,
            });
            if trigger == Trigger::Level && self.level(line) {
                irq.mark_pending(line);
            }
        }
        deliver(&self.sim);
    }

    /// Removes the handler of `line`; `true` if it had one. A handler that is running finishes.
    pub fn remove_handler(&self, line: Line) -> bool {
        let mut state = self.sim.lock();
        let slot = &mut state.core.irq.handlers[usize::from(line.0)];
        let had = !matches!(slot, HandlerSlot::Empty);
        *slot = HandlerSlot::Empty;
        had
    }

    /// Runs `f` with interrupt delivery off (like `cli` ... `sti` around a driver's critical
    /// section): edges are still counted and handlers become pending, but none runs, on any
    /// thread, until `f` returns; then the pending ones run. Nests.
    ///
    /// It does not wait for a handler already running on another thread.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// use irqkit_hal_mock::{Line, Sim, Trigger};
    ///
    /// let lines = Sim::new().lines();
    /// let runs = Arc::new(AtomicU32::new(0));
    /// let r = Arc::clone(&runs);
    /// lines.on_rise(Line(1), Trigger::Edge, move |_| { r.fetch_add(1, Ordering::SeqCst); });
    /// lines.without_interrupts(|| {
    ///     lines.pulse(Line(1));
    ///     assert_eq!(runs.load(Ordering::SeqCst), 0);
    ///     assert!(lines.is_pending(Line(1)));
    /// });
    /// assert_eq!(runs.load(Ordering::SeqCst), 1);
    /// ```
    pub fn without_interrupts<R>(&self, f: impl FnOnce() -> R) -> R {
        /// Re-enables on the way out, also when `f` panics.
        struct Enable<'a>(&'a Sim);
        impl Drop for Enable<'_> {
            fn drop(&mut self) {
                let irq = &mut self.0.lock().core.irq;
                irq.disabled = irq.disabled.saturating_sub(1);
            }
        }

        self.sim.lock().core.irq.disabled += 1;
        let result = {
            let _enable = Enable(&self.sim);
            f()
        };
        deliver(&self.sim);
        result
    }

    /// Masks `line` (like setting its bit in an 8259's mask register): its edges are counted
    /// and its handler becomes pending, but does not run until [`unmask`](Self::unmask).
    pub fn mask(&self, line: Line) {
        self.sim.lock().core.irq.masked.insert(line);
    }

    /// Unmasks `line`; a pending handler (or a level handler on a high line) runs now.
    pub fn unmask(&self, line: Line) {
        {
            let mut state = self.sim.lock();
            let irq = &mut state.core.irq;
            irq.masked.remove(line);
            let level_high = irq.handlers[usize::from(line.0)].trigger() == Some(Trigger::Level)
                && self.level(line);
            if level_high {
                irq.mark_pending(line);
            }
        }
        deliver(&self.sim);
    }

    /// Whether the handler of `line` waits to run (masked, interrupts disabled, or behind the
    /// handler running now).
    pub fn is_pending(&self, line: Line) -> bool {
        self.sim.lock().core.irq.pending.contains(line)
    }

    /// Sets how many handler runs one delivery loop may make before it declares an interrupt
    /// storm and panics (default [`DEFAULT_STORM_LIMIT`]).
    pub fn set_storm_limit(&self, runs: u32) {
        self.sim.lock().core.irq.storm_limit = runs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_is_taken_lowest_line_first_and_merges() {
        let table = LineTable::default();
        let mut irq = IrqState::default();
        for l in [200u8, 3, 64, 3] {
            irq.handlers[usize::from(l)] = HandlerSlot::Running {
                generation: 0,
                trigger: Trigger::Edge,
            };
            irq.set_line(&table, Line(l), true);
            irq.set_line(&table, Line(l), false);
        }
        let order: Vec<u8> = std::iter::from_fn(|| irq.take_pending())
            .map(|l| l.0)
            .collect();
        assert_eq!(order, [3, 64, 200]);
        assert_eq!(table.cell(Line(3)).rising_edges.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn no_handler_no_pending_but_edges_counted() {
        let table = LineTable::default();
        let mut irq = IrqState::default();
        irq.set_line(&table, Line(9), true);
        irq.set_line(&table, Line(9), true); // already high: no edge
        assert_eq!(irq.take_pending(), None);
        assert_eq!(table.cell(Line(9)).rising_edges.load(Ordering::Relaxed), 1);
        assert!(table.level(Line(9)));
    }
}
