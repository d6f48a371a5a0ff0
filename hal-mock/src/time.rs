//! Virtual time: a clock that only moves when the test (or the driver's delay) moves it, and the
//! queue of device events waiting for it.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

use irqkit_hal::DelayNs;

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

/// Names one scheduled device event, to cancel it with [`DeviceCtx::cancel`](crate::DeviceCtx::cancel).
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

/// One pending event: which device gets it and the token it chose.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scheduled {
    pub(crate) device: DeviceId,
    pub(crate) token: u64,
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
        self.pending.retain(|_, e| e.device != device);
    }

    /// Removes and returns the earliest event due at or before `limit`.
    pub(crate) fn pop_due(&mut self, limit: SimTime) -> Option<(SimTime, Scheduled)> {
        let entry = self.pending.first_entry()?;
        if entry.key().0 > limit {
            return None;
        }
        let at = entry.key().0;
        Some((at, entry.remove()))
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

    /// When the next device event is due, if any is scheduled.
    pub fn next_event(&self) -> Option<SimTime> {
        self.sim.lock().core.events.next_due()
    }

    /// How many device events are scheduled.
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
        Scheduled {
            device: DeviceId::new(0),
            token,
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
            .map(|(_, e)| e.token)
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
            q.pop_due(SimTime(50)).map(|(t, e)| (t, e.token)),
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
