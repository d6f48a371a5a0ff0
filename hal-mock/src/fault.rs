//! Fault injection: a model wrapper that loses, corrupts or delays chosen accesses.

use std::time::Duration;

use crate::device::{Device, DeviceAddr, DeviceCtx, Width};
use crate::time::{EventId, SimTime};

/// What happens to a selected access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// The access never reaches the model: a write is lost, a read returns all ones (floating).
    Drop,
    /// The value is XORed with this mask on its way (into the model for a write, out of it for
    /// a read): flipped bits on the wire.
    Corrupt(u32),
    /// The value is replaced by this one on its way (a read still reaches the model, so its
    /// side effects happen).
    Replace(u32),
    /// A write reaches the model this much later (virtual time), after the writes made
    /// meanwhile: a slow or reordered bus. A read cannot be late; it is not affected (but
    /// still counts as the hit access).
    Delay(Duration),
}

/// Which accesses a fault rule counts.
///
/// # Examples
///
/// ```
/// use irqkit_hal_mock::Match;
///
/// let third_data_write = Match::writes().at(0, 0);
/// # let _ = third_data_write;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Match {
    write: Option<bool>,
    at: Option<(usize, u16)>,
}

impl Match {
    /// Every access.
    pub fn any() -> Self {
        Self::default()
    }

    /// Reads only.
    pub fn reads() -> Self {
        Self {
            write: Some(false),
            at: None,
        }
    }

    /// Writes only.
    pub fn writes() -> Self {
        Self {
            write: Some(true),
            at: None,
        }
    }

    /// Only accesses at `offset` of the model's range number `range` (see
    /// [`DeviceAddr`]).
    pub fn at(self, range: usize, offset: u16) -> Self {
        Self {
            at: Some((range, offset)),
            ..self
        }
    }

    fn matches(&self, at: DeviceAddr, write: bool) -> bool {
        self.write.is_none_or(|w| w == write)
            && self.at.is_none_or(|(r, o)| r == at.range && o == at.offset)
    }
}

#[derive(Debug, Clone)]
struct Rule {
    matching: Match,
    /// Index (from 0) of the first matching access to hit.
    first: u64,
    /// Hit every matching access from `first` on, not just that one.
    repeat: bool,
    fault: Fault,
    seen: u64,
}

impl Rule {
    /// Counts the access; whether this rule hits it.
    fn count(&mut self, at: DeviceAddr, write: bool) -> bool {
        if !self.matching.matches(at, write) {
            return false;
        }
        let index = self.seen;
        self.seen += 1;
        index == self.first || (self.repeat && index > self.first)
    }
}

/// A fault that [`Faulty`] applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Injected {
    /// Virtual time of the access.
    pub at: SimTime,
    /// Where it landed.
    pub addr: DeviceAddr,
    /// Whether it was a write.
    pub write: bool,
    /// What was done to it.
    pub fault: Fault,
}

/// Wraps a model and injects faults into chosen accesses, to test a driver's error paths
/// (a lost command byte, a corrupted status read, a register stuck at a value).
///
/// Each rule counts the accesses it [matches](Match) on its own; when several rules hit the
/// same access, the one added first applies. Events and resets pass through to the model.
///
/// # Examples
///
/// ```
/// use irqkit_hal::PortIo;
/// use irqkit_hal_mock::{Device, DeviceAddr, DeviceCtx, Fault, Faulty, Match, Sim, Width};
///
/// #[derive(Debug, Default)]
/// struct Latch(u32);
/// impl Device for Latch {
///     fn read(&mut self, _: DeviceAddr, _: Width, _: &mut DeviceCtx<'_>) -> u32 { self.0 }
///     fn write(&mut self, _: DeviceAddr, _: Width, v: u32, _: &mut DeviceCtx<'_>) { self.0 = v }
/// }
///
/// let mut bus = Sim::new().bus();
/// // The second write is lost.
/// let latch = Faulty::new(Latch::default()).nth(Match::writes(), 1, Fault::Drop);
/// let latch = bus.attach("latch", &[0x80..=0x80], latch).unwrap();
/// bus.write8(0x80, 1);
/// bus.write8(0x80, 2);
/// assert_eq!(bus.read8(0x80), 1);
/// assert_eq!(latch.with(|f| f.injected().len()), 1);
/// ```
#[derive(Debug)]
pub struct Faulty<M> {
    inner: M,
    rules: Vec<Rule>,
    injected: Vec<Injected>,
    /// Delayed writes waiting for their event.
    delayed: Vec<DelayedWrite>,
}

#[derive(Debug, Clone, Copy)]
struct DelayedWrite {
    event: EventId,
    at: DeviceAddr,
    width: Width,
    value: u32,
}

impl<M: Device> Faulty<M> {
    /// Wraps `inner` with no faults yet.
    pub fn new(inner: M) -> Self {
        Self {
            inner,
            rules: Vec::new(),
            injected: Vec::new(),
            delayed: Vec::new(),
        }
    }

    /// Applies `fault` to the `n`th access that `matching` selects (counting from 0, like
    /// [`Iterator::nth`]).
    pub fn nth(mut self, matching: Match, n: u64, fault: Fault) -> Self {
        self.rules.push(Rule {
            matching,
            first: n,
            repeat: false,
            fault,
            seen: 0,
        });
        self
    }

    /// Applies `fault` to the `n`th access that `matching` selects (from 0) and every one after.
    pub fn from_nth(mut self, matching: Match, n: u64, fault: Fault) -> Self {
        self.rules.push(Rule {
            matching,
            first: n,
            repeat: true,
            fault,
            seen: 0,
        });
        self
    }

    /// The wrapped model.
    pub fn inner(&self) -> &M {
        &self.inner
    }

    /// The wrapped model, mutably.
    pub fn inner_mut(&mut self) -> &mut M {
        &mut self.inner
    }

    /// Unwraps the model.
    pub fn into_inner(self) -> M {
        self.inner
    }

    /// The faults applied so far, oldest first.
    pub fn injected(&self) -> &[Injected] {
        &self.injected
    }

    /// Counts the access in every rule; the fault of the first rule that hits, recorded.
    fn select(&mut self, at: DeviceAddr, write: bool, now: SimTime) -> Option<Fault> {
        let mut chosen = None;
        for rule in &mut self.rules {
            if rule.count(at, write) && chosen.is_none() {
                chosen = Some(rule.fault);
            }
        }
        if let Some(fault) = chosen {
            self.injected.push(Injected {
                at: now,
                addr: at,
                write,
                fault,
            });
        }
        chosen
    }
}

impl<M: Device> Device for Faulty<M> {
    fn read(&mut self, at: DeviceAddr, width: Width, ctx: &mut DeviceCtx<'_>) -> u32 {
        match self.select(at, false, ctx.now()) {
            None => self.inner.read(at, width, ctx),
            Some(Fault::Drop) => width.mask(),
            Some(Fault::Corrupt(mask)) => self.inner.read(at, width, ctx) ^ mask,
            Some(Fault::Replace(value)) => {
                self.inner.read(at, width, ctx);
                value
            }
            Some(Fault::Delay(_)) => self.inner.read(at, width, ctx),
        }
    }

    fn write(&mut self, at: DeviceAddr, width: Width, value: u32, ctx: &mut DeviceCtx<'_>) {
        let value = match self.select(at, true, ctx.now()) {
            None => value,
            Some(Fault::Drop) => return,
            Some(Fault::Corrupt(mask)) => (value ^ mask) & width.mask(),
            Some(Fault::Replace(v)) => v & width.mask(),
            Some(Fault::Delay(by)) => {
                // The token is unused: the event is recognised by its id.
                let event = ctx.schedule_in(by, 0);
                self.delayed.push(DelayedWrite {
                    event,
                    at,
                    width,
                    value,
                });
                return;
            }
        };
        self.inner.write(at, width, value, ctx);
    }

    fn event(&mut self, token: u64, ctx: &mut DeviceCtx<'_>) {
        let mine = ctx
            .current_event()
            .and_then(|id| self.delayed.iter().position(|d| d.event == id));
        match mine {
            Some(index) => {
                let w = self.delayed.remove(index);
                self.inner.write(w.at, w.width, w.value, ctx);
            }
            None => self.inner.event(token, ctx),
        }
    }

    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        // The bus cancelled this device's events, the delayed writes' included.
        self.delayed.clear();
        self.inner.reset(ctx);
    }
}
