//! Virtual time: a clock that only moves when the test (or the driver's delay) moves it, and the
//! queue of device events waiting for it.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

use irqkit_hal::DelayNs;

use crate::bus::Bus;
use crate::device::DeviceId;
use crate::sim::Sim;

/// A point in virtual time: nanoseconds since the simulation was created.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use irqkit_hal_mock::SimTime;
///
/// let t = SimTime::ZERO + Duration::from_micros(12);
/// assert_eq!(t.as_nanos(), 12_000);
/// assert_eq!(t.to_string(), "12.000 us");
/// assert_eq!(t - SimTime::ZERO, Duration::from_micros(12));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

impl SimTime {
    /// The moment the simulation starts.
    pub const ZERO: Self = Self(0);

    /// The time `ns` nanoseconds after the start.
    pub const fn from_nanos(ns: u64) -> Self {
        Self(ns)
    }

    /// Nanoseconds since the start.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Whole microseconds since the start.
    pub const fn as_micros(self) -> u64 {
        self.0 / 1_000
    }

    /// The time since `earlier`, or zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: SimTime) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

/// Nanoseconds of a duration, saturated to what the clock can hold (584 years).
pub(crate) fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl Add<Duration> for SimTime {
    type Output = SimTime;
    /// Saturates at the end of time instead of overflowing.
    fn add(self, rhs: Duration) -> SimTime {
        SimTime(self.0.saturating_add(duration_ns(rhs)))
    }
}

impl Sub for SimTime {
    type Output = Duration;
    /// The time between two points; zero if `rhs` is later.
    fn sub(self, rhs: SimTime) -> Duration {
        self.saturating_since(rhs)
    }
}

impl fmt::Display for SimTime {
    /// Microseconds with nanosecond precision: `12.345 us`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03} us", self.0 / 1_000, self.0 % 1_000)
    }
}

/// Names one scheduled event, to cancel it with [`DeviceCtx::cancel`](crate::DeviceCtx::cancel)
/// or [`Clock::cancel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventId {
    at: SimTime,
    seq: u64,
}

impl EventId {
    /// When the event is (or was) due.
    pub fn due(self) -> SimTime {
        self.at
    }
}

/// A test's callback for a virtual time (see [`Clock::call_at`]).
pub(crate) type Callback = Box<dyn FnOnce(&mut Bus) + Send>;

/// One pending event: a device's (with the token it chose) or a test's callback.
pub(crate) enum Scheduled {
    Device { device: DeviceId, token: u64 },
    Call(Callback),
}

impl fmt::Debug for Scheduled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scheduled::Device { device, token } => f
                .debug_struct("Device")
                .field("device", device)
                .field("token", token)
                .finish(),
            Scheduled::Call(_) => f.write_str("Call(..)"),
        }
    }
}

/// Pending events in firing order: by due time, then by scheduling order (so two events due
/// at the same instant fire in the order they were scheduled: deterministic).
#[derive(Debug, Default)]
pub(crate) struct EventQueue {
    pending: BTreeMap<(SimTime, u64), Scheduled>,
    next_seq: u64,
}

impl EventQueue {
    pub(crate) fn schedule(&mut self, at: SimTime, event: Scheduled) -> EventId {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.insert((at, seq), event);
        EventId { at, seq }
    }

    pub(crate) fn cancel(&mut self, id: EventId) -> bool {
        self.pending.remove(&(id.at, id.seq)).is_some()
    }

    /// Drops every event of `device` (on reset).
    pub(crate) fn cancel_device(&mut self, device: DeviceId) {
        self.pending
            .retain(|_, e| !matches!(e, Scheduled::Device { device: d, .. } if *d == device));
    }

    /// Removes and returns the earliest event due at or before `limit`.
    pub(crate) fn pop_due(&mut self, limit: SimTime) -> Option<(EventId, Scheduled)> {
        let entry = self.pending.first_entry()?;
        let (at, seq) = *entry.key();
        if at > limit {
            return None;
        }
        Some((EventId { at, seq }, entry.remove()))
    }

    pub(crate) fn next_due(&self) -> Option<SimTime> {
        self.pending.keys().next().map(|&(at, _)| at)
    }

    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }
}

/// The simulation's virtual clock: a [`DelayNs`] whose delays take no real time.
///
/// A delay (or [`advance`](Self::advance)) moves virtual time forward and fires every device
/// event that falls due on the way, in time order, at its own instant: a model's event handler
/// sees [`now`](crate::DeviceCtx::now) equal to the due time, and interrupt handlers triggered
/// by it run before the clock moves on. Time never goes backwards.
///
/// Cloning gives another handle to the same clock (shared with the [`Bus`](crate::Bus)).
///
/// # Examples
///
/// A driver's timeout loop runs instantly and deterministically:
///
/// ```
/// use irqkit_hal::poll_until;
/// use irqkit_hal_mock::Sim;
///
/// let sim = Sim::new();
/// let mut clock = sim.clock();
/// let r: Result<(), _> = poll_until(&mut clock, 10_000, 100, || None);
/// assert_eq!(r.unwrap_err().waited_us, 10_000);
/// assert_eq!(sim.now().as_micros(), 10_000);
/// ```
#[derive(Debug, Clone)]
pub struct Clock {
    sim: Sim,
}

impl Clock {
    pub(crate) fn new(sim: Sim) -> Self {
        Self { sim }
    }

    /// The current virtual time.
    pub fn now(&self) -> SimTime {
        self.sim.now()
    }

    /// Moves time forward by `by`, firing the events due on the way (see the type docs).
    ///
    /// `advance(Duration::ZERO)` fires the events already due (for example ones a model
    /// scheduled "in zero time" during a port access).
    pub fn advance(&self, by: Duration) {
        let target = self.now() + by;
        self.advance_to(target);
    }

    /// Moves time forward to `target` (no effect on time if it is in the past, but due events
    /// still fire).
    pub fn advance_to(&self, target: SimTime) {
        self.sim.run_until(target);
    }

    /// Runs `f` with a bus handle when virtual time reaches `at` (at the next clock step if `at`
    /// has passed): a test's way to make something happen in the middle of a driver's wait,
    /// such as a key press 3 ms into a timeout. It runs in order with the device events, with
    /// the simulation unlocked (it may use the bus, the lines and model handles).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use irqkit_hal::{poll_until, DelayNs};
    /// use irqkit_hal_mock::{Line, Sim};
    ///
    /// let sim = Sim::new();
    /// sim.clock().call_in(Duration::from_micros(300), |bus| bus.lines().pulse(Line(1)));
    /// let lines = sim.lines();
    /// let edge = || lines.take_edge(Line(1)).then_some(());
    /// assert_eq!(poll_until(&mut sim.clock(), 1_000, 100, edge), Ok(()));
    /// assert_eq!(sim.now().as_micros(), 300);
    /// ```
    pub fn call_at(&self, at: SimTime, f: impl FnOnce(&mut Bus) + Send + 'static) -> EventId {
        self.sim
            .lock()
            .core
            .events
            .schedule(at, Scheduled::Call(Box::new(f)))
    }

    /// Runs `f` with a bus handle once `after` has passed (see [`call_at`](Self::call_at)).
    pub fn call_in(&self, after: Duration, f: impl FnOnce(&mut Bus) + Send + 'static) -> EventId {
        let mut state = self.sim.lock();
        let at = state.core.now + after;
        state.core.events.schedule(at, Scheduled::Call(Box::new(f)))
    }

    /// Cancels a pending callback or device event; `false` if it already ran or was cancelled.
    pub fn cancel(&self, id: EventId) -> bool {
        self.sim.lock().core.events.cancel(id)
    }

    /// When the next event (device or callback) is due, if any is scheduled.
    pub fn next_event(&self) -> Option<SimTime> {
        self.sim.lock().core.events.next_due()
    }

    /// How many events (device and callback) are scheduled.
    pub fn pending_events(&self) -> usize {
        self.sim.lock().core.events.len()
    }
}

impl DelayNs for Clock {
    fn delay_ns(&mut self, ns: u32) {
        self.advance(Duration::from_nanos(ns.into()));
    }

    // One step instead of the default loop of `delay_ns` chunks: same end time, fewer wake-ups.
    fn delay_us(&mut self, us: u32) {
        self.advance(Duration::from_micros(us.into()));
    }

    fn delay_ms(&mut self, ms: u32) {
        self.advance(Duration::from_millis(ms.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(token: u64) -> Scheduled {
        Scheduled::Device {
            device: DeviceId::new(0),
            token,
        }
    }

    fn token(e: Scheduled) -> u64 {
        match e {
            Scheduled::Device { token, .. } => token,
            Scheduled::Call(_) => u64::MAX,
        }
    }

    #[test]
    fn queue_orders_by_time_then_by_scheduling_order() {
        let mut q = EventQueue::default();
        q.schedule(SimTime(20), ev(1));
        q.schedule(SimTime(10), ev(2));
        q.schedule(SimTime(20), ev(3));
        q.schedule(SimTime(10), ev(4));
        let order: Vec<u64> = std::iter::from_fn(|| q.pop_due(SimTime(100)))
            .map(|(_, e)| token(e))
            .collect();
        assert_eq!(order, [2, 4, 1, 3]);
    }

    #[test]
    fn pop_due_respects_the_limit_and_cancel_removes() {
        let mut q = EventQueue::default();
        let a = q.schedule(SimTime(5), ev(1));
        q.schedule(SimTime(50), ev(2));
        assert_eq!(q.next_due(), Some(SimTime(5)));
        assert!(q.cancel(a));
        assert!(!q.cancel(a));
        assert!(q.pop_due(SimTime(49)).is_none());
        assert_eq!(
            q.pop_due(SimTime(50)).map(|(id, e)| (id.due(), token(e))),
            Some((SimTime(50), 2))
        );
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn time_arithmetic_saturates() {
        let end = SimTime(u64::MAX - 1) + Duration::from_secs(1);
        assert_eq!(end, SimTime(u64::MAX));
        assert_eq!(SimTime(5) - SimTime(9), Duration::ZERO);
        assert_eq!(SimTime(1_234_567).to_string(), "1234.567 us");
    }
}
