//! How a blocking call passes time: bounded polls, and the caller's wait strategy.

use irqkit_hal::DelayNs;

/// How a blocking call waits for an interrupt-driven completion.
///
/// `wait` blocks until something may have changed (an interrupt arrived) or about `max_us`
/// passed, whichever comes first, and returns the microseconds that passed (its best
/// estimate; 0 is allowed, the driver then counts the step as 1 us so every wait ends). The
/// driver adds these up against its timeout, so a strategy that returns early on interrupts
/// (x86 `sti; hlt`, a scheduler's sleep on the channel's wait queue) wakes the caller as soon
/// as the disk is done.
///
/// `delay` is the channel's delay source, for strategies that simply spin.
///
/// ```
/// use irqkit_ata::Wait;
/// use irqkit_hal::DelayNs;
///
/// /// A kernel strategy: halt until the next interrupt, measure with a clock.
/// struct Halt<'a> { now_us: &'a dyn Fn() -> u64 }
/// impl Wait for Halt<'_> {
///     fn wait<D: DelayNs + ?Sized>(&mut self, _delay: &mut D, max_us: u32) -> u32 {
///         let start = (self.now_us)();
///         // x86: `core::arch::asm!("sti; hlt; cli")` (the timer bounds the halt)
///         ((self.now_us)() - start).min(u64::from(max_us)) as u32
///     }
/// }
/// ```
pub trait Wait {
    /// Waits for at most about `max_us`; returns the microseconds that passed.
    fn wait<D: DelayNs + ?Sized>(&mut self, delay: &mut D, max_us: u32) -> u32;
}

impl<T: Wait + ?Sized> Wait for &mut T {
    fn wait<D: DelayNs + ?Sized>(&mut self, delay: &mut D, max_us: u32) -> u32 {
        T::wait(self, delay, max_us)
    }
}

/// The default strategy: spin on the channel's delay source. The driver calls it in growing
/// steps (1 us doubling up to [`Options::max_poll_step_us`](crate::Options)), so a quick
/// completion is seen at once and a slow one costs few polls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spin;

impl Wait for Spin {
    fn wait<D: DelayNs + ?Sized>(&mut self, delay: &mut D, max_us: u32) -> u32 {
        delay.delay_us(max_us);
        max_us
    }
}

/// Polls `f` until it returns `Some`, for at most `timeout_us`, waiting with `wait` in
/// steps growing from 1 us to `max_step_us` (first check immediate). `Err(waited_us)` on
/// timeout.
pub(crate) fn poll<D, W, T>(
    delay: &mut D,
    wait: &mut W,
    timeout_us: u32,
    max_step_us: u32,
    mut f: impl FnMut() -> Option<T>,
) -> Result<T, u32>
where
    D: DelayNs + ?Sized,
    W: Wait + ?Sized,
{
    let mut waited: u32 = 0;
    let mut step: u32 = 1;
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if waited >= timeout_us {
            // One last look: the completion may have landed during the final step.
            return f().ok_or(waited);
        }
        let s = step.min(timeout_us - waited);
        let passed = wait.wait(delay, s).max(1);
        waited = waited.saturating_add(passed);
        step = step.saturating_mul(2).min(max_step_us.max(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Clock(u64, u32);
    impl DelayNs for Clock {
        fn delay_ns(&mut self, ns: u32) {
            self.0 += u64::from(ns);
            self.1 += 1;
        }
    }

    #[test]
    fn bounded_in_time_and_polls() {
        let mut c = Clock::default();
        let r: Result<(), u32> = poll(&mut c, &mut Spin, 1_000_000, 1_000, || None);
        assert_eq!(r, Err(1_000_000));
        assert_eq!(c.0, 1_000_000_000);
        assert!(c.1 < 1_100, "{} delay calls for 1 s", c.1);
    }

    #[test]
    fn a_strategy_returning_zero_still_ends() {
        struct Lazy;
        impl Wait for Lazy {
            fn wait<D: DelayNs + ?Sized>(&mut self, _: &mut D, _: u32) -> u32 {
                0
            }
        }
        let r: Result<(), u32> = poll(&mut Clock::default(), &mut Lazy, 50, 1_000, || None);
        assert_eq!(r, Err(50));
    }

    #[test]
    fn immediate_success_costs_no_delay() {
        let mut c = Clock::default();
        assert_eq!(poll(&mut c, &mut Spin, 10, 1_000, || Some(3)), Ok(3));
        assert_eq!(c.1, 0);
    }
}
