//! Bounded waits: every poll of a device register has a deadline, so a missing device is an
//! error, never a hang.

use embedded_hal::delay::DelayNs;

/// A bounded wait ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timeout {
    /// How long the wait lasted, in microseconds of the caller's delay source.
    pub waited_us: u32,
}

impl core::fmt::Display for Timeout {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "timed out after {} us", self.waited_us)
    }
}

impl core::error::Error for Timeout {}

/// Polls `poll` until it returns `Some`, sleeping `interval_us` between attempts, for at most
/// `timeout_us` microseconds of `delay` time.
///
/// `poll` runs first without delay, then once after each interval; the total delay never
/// exceeds `timeout_us` (the last interval is shortened). An `interval_us` of zero is treated as
/// one microsecond so the loop always ends.
///
/// # Errors
///
/// [`Timeout`] when `poll` did not succeed in time; it carries the time waited.
///
/// # Example
///
/// ```
/// use irqkit_hal::{poll_until, DelayNs};
/// # struct NoDelay;
/// # impl DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
/// let mut status = [0x80u8, 0x80, 0x50].into_iter(); // BSY, BSY, then DRDY|DSC
/// let ready = poll_until(&mut NoDelay, 1_000, 10, || {
///     status.next().filter(|s| s & 0x80 == 0)
/// });
/// assert_eq!(ready, Ok(0x50));
/// ```
pub fn poll_until<D, T>(
    delay: &mut D,
    timeout_us: u32,
    interval_us: u32,
    mut poll: impl FnMut() -> Option<T>,
) -> Result<T, Timeout>
where
    D: DelayNs + ?Sized,
{
    let interval_us = interval_us.max(1);
    let mut waited_us: u32 = 0;
    loop {
        if let Some(value) = poll() {
            return Ok(value);
        }
        if waited_us >= timeout_us {
            return Err(Timeout { waited_us });
        }
        let step = interval_us.min(timeout_us - waited_us);
        delay.delay_us(step);
        waited_us += step;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Clock {
        now_ns: u64,
    }

    impl DelayNs for Clock {
        fn delay_ns(&mut self, ns: u32) {
            self.now_ns += u64::from(ns);
        }
    }

    #[test]
    fn succeeds_without_delay_when_ready() {
        let mut clock = Clock::default();
        assert_eq!(poll_until(&mut clock, 100, 10, || Some(7)), Ok(7));
        assert_eq!(clock.now_ns, 0);
    }

    #[test]
    fn times_out_after_exactly_the_budget() {
        let mut clock = Clock::default();
        let mut polls = 0;
        let r: Result<(), _> = poll_until(&mut clock, 25, 10, || {
            polls += 1;
            None
        });
        assert_eq!(r, Err(Timeout { waited_us: 25 }));
        assert_eq!(clock.now_ns, 25_000);
        assert_eq!(polls, 4); // at 0, 10, 20, 25 us
    }

    #[test]
    fn zero_interval_and_zero_timeout_terminate() {
        let mut clock = Clock::default();
        let r: Result<(), _> = poll_until(&mut clock, 3, 0, || None);
        assert_eq!(r, Err(Timeout { waited_us: 3 }));
        let r: Result<(), _> = poll_until(&mut clock, 0, 0, || None);
        assert_eq!(r, Err(Timeout { waited_us: 0 }));
    }

    #[test]
    fn succeeds_on_a_later_poll() {
        let mut clock = Clock::default();
        let mut n = 0;
        let r = poll_until(&mut clock, 1000, 50, || {
            n += 1;
            (n == 3).then_some(n)
        });
        assert_eq!(r, Ok(3));
        assert_eq!(clock.now_ns, 100_000);
    }
}
