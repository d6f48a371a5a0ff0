//! The top half: what the interrupt handler of IRQ 14/15 calls.
//!
//! [`ChannelIrq`] is the state a channel shares with its interrupt handler. The kernel puts
//! it in a `static`, binds it to the channel with [`Channel::with_interrupts`], and calls
//! [`ChannelIrq::handle`] from the handler with its own port access. The handler acknowledges
//! the device (status read) and the bus master (write-1-to-clear), stops the engine, records
//! the result, wakes the waiting future, and says whether the interrupt was this channel's,
//! so a shared line can be passed on.
//!
//! # States
//!
//! `Idle` → (the channel issues a command that completes by interrupt) `Armed` → (the handler
//! sees the completion) `Claimed` → `Done` → (the channel collects the result) `Idle`.
//! The channel can take an `Armed` state back to `Idle` (timeout, cancel); the compare-exchange
//! decides which side handles a completion, so it is handled exactly once.
//!
//! [`Channel::with_interrupts`]: crate::Channel::with_interrupts

use core::cell::Cell;
use core::sync::atomic::{AtomicU16, AtomicU32, AtomicU8, Ordering};
use core::task::Waker;

use critical_section::Mutex;
use irqkit_hal::PortIo;

use crate::command::Status;
use crate::transport::busmaster::{self, BusMaster};
use crate::transport::legacy::STATUS;
use crate::transport::ChannelRegs;

const IDLE: u8 = 0;
const ARMED_DMA: u8 = 1;
const ARMED_NODATA: u8 = 2;
const CLAIMED: u8 = 3;
const DONE: u8 = 4;

/// Whether an interrupt was this channel's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[must_use = "pass an interrupt that is not ours on to the other handlers of the line"]
pub enum IrqOutcome {
    /// A command of this channel completed; the result is recorded and the waiter woken.
    /// Schedule the bottom half (the request queue's `service`).
    Completed,
    /// Not this channel's: nothing was expected, or the device is still busy, or (DMA) the
    /// bus master has no interrupt pending. Nothing was acknowledged.
    NotOurs,
}

impl IrqOutcome {
    /// Whether the interrupt was this channel's.
    pub const fn is_ours(self) -> bool {
        matches!(self, IrqOutcome::Completed)
    }
}

/// The result the top half recorded: ATA status and bus-master status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Recorded {
    pub(crate) ata: u8,
    pub(crate) bm: u8,
}

/// Interrupt state shared between a channel and its interrupt handler.
///
/// ```
/// use irqkit_ata::{ChannelIrq, IrqOutcome};
/// # use irqkit_hal::PortIo;
/// static PRIMARY_IRQ: ChannelIrq = ChannelIrq::new();
///
/// /// IRQ 14.
/// fn irq14(ports: &mut impl PortIo) {
///     if PRIMARY_IRQ.handle(ports) == IrqOutcome::Completed {
///         // schedule the disk bottom half here
///     }
/// }
/// # struct Floating;
/// # impl PortIo for Floating {
/// #     fn read8(&mut self, _: u16) -> u8 { 0xFF }
/// #     fn write8(&mut self, _: u16, _: u8) {}
/// #     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
/// #     fn write16(&mut self, _: u16, _: u16) {}
/// #     fn read32(&mut self, _: u16) -> u32 { !0 }
/// #     fn write32(&mut self, _: u16, _: u32) {}
/// # }
/// irq14(&mut Floating); // nothing armed: not ours, nothing touched
/// assert_eq!(PRIMARY_IRQ.not_ours(), 1);
/// ```
pub struct ChannelIrq {
    state: AtomicU8,
    command: AtomicU16,
    control: AtomicU16,
    /// 0: no bus master.
    bus_master: AtomicU16,
    ata_status: AtomicU8,
    bm_status: AtomicU8,
    completed: AtomicU32,
    not_ours: AtomicU32,
    waker: Mutex<Cell<Option<Waker>>>,
}

impl core::fmt::Debug for ChannelIrq {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChannelIrq")
            .field("state", &self.state.load(Ordering::Relaxed))
            .field("completed", &self.completed())
            .field("not_ours", &self.not_ours())
            .finish_non_exhaustive()
    }
}

impl Default for ChannelIrq {
    fn default() -> Self {
        Self::new()
    }
}

impl ChannelIrq {
    /// Idle state, not yet bound to a channel.
    pub const fn new() -> ChannelIrq {
        ChannelIrq {
            state: AtomicU8::new(IDLE),
            command: AtomicU16::new(0),
            control: AtomicU16::new(0),
            bus_master: AtomicU16::new(0),
            ata_status: AtomicU8::new(0),
            bm_status: AtomicU8::new(0),
            completed: AtomicU32::new(0),
            not_ours: AtomicU32::new(0),
            waker: Mutex::new(Cell::new(None)),
        }
    }

    /// The top half. Call it from the channel's interrupt handler with port access.
    ///
    /// Touches registers only when a command of this channel is armed: for DMA it reads the
    /// bus-master status and returns [`IrqOutcome::NotOurs`] unless INTR is set; then it stops
    /// the engine, reads the ATA status (acknowledging INTRQ) and clears INTR/ERR. For a
    /// non-data command it returns `NotOurs` while the device is busy, otherwise reads the
    /// status. Never blocks, never loops.
    pub fn handle(&self, io: &mut impl PortIo) -> IrqOutcome {
        let armed = self.state.load(Ordering::Acquire);
        let command = self.command.load(Ordering::Relaxed);
        let outcome = match armed {
            ARMED_DMA => {
                let bm = BusMaster {
                    base: self.bus_master.load(Ordering::Relaxed),
                };
                let bms = bm.status(io);
                if bms & busmaster::ST_INTR == 0 || !self.claim(ARMED_DMA) {
                    IrqOutcome::NotOurs
                } else {
                    bm.stop(io);
                    let ata = io.read8(command + STATUS);
                    bm.clear(io, bms);
                    self.record(ata, bms);
                    IrqOutcome::Completed
                }
            }
            ARMED_NODATA => {
                let alt = io.read8(self.control.load(Ordering::Relaxed));
                if Status::from_bits_retain(alt).contains(Status::BSY) || !self.claim(ARMED_NODATA)
                {
                    IrqOutcome::NotOurs
                } else {
                    let ata = io.read8(command + STATUS);
                    self.record(ata, 0);
                    IrqOutcome::Completed
                }
            }
            _ => IrqOutcome::NotOurs,
        };
        match outcome {
            IrqOutcome::Completed => {
                self.completed.fetch_add(1, Ordering::Relaxed);
                self.wake();
            }
            IrqOutcome::NotOurs => {
                self.not_ours.fetch_add(1, Ordering::Relaxed);
            }
        }
        outcome
    }

    /// Interrupts this state handled as completions.
    pub fn completed(&self) -> u32 {
        self.completed.load(Ordering::Relaxed)
    }

    /// Interrupts that were not this channel's (shared line, spurious, or late).
    pub fn not_ours(&self) -> u32 {
        self.not_ours.load(Ordering::Relaxed)
    }

    fn claim(&self, armed: u8) -> bool {
        self.state
            .compare_exchange(armed, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    fn record(&self, ata: u8, bm: u8) {
        self.ata_status.store(ata, Ordering::Relaxed);
        self.bm_status.store(bm, Ordering::Relaxed);
        self.state.store(DONE, Ordering::Release);
    }

    fn wake(&self) {
        let waker = critical_section::with(|cs| self.waker.borrow(cs).take());
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Remembers the task to wake on completion.
    pub(crate) fn register(&self, waker: &Waker) {
        critical_section::with(|cs| {
            let cell = self.waker.borrow(cs);
            let keep = cell.take().filter(|w| w.will_wake(waker));
            cell.set(Some(keep.unwrap_or_else(|| waker.clone())));
        });
    }

    /// Records which ports the top half uses.
    pub(crate) fn bind(&self, regs: ChannelRegs) {
        self.command.store(regs.command, Ordering::Relaxed);
        self.control.store(regs.control, Ordering::Relaxed);
        self.bus_master
            .store(regs.bus_master.unwrap_or(0), Ordering::Relaxed);
        self.state.store(IDLE, Ordering::Release);
    }

    /// Expects a completion interrupt. Called before the command is issued.
    pub(crate) fn arm(&self, dma: bool) {
        let s = if dma { ARMED_DMA } else { ARMED_NODATA };
        self.state.store(s, Ordering::Release);
    }

    /// The recorded result, if the top half has run; the state returns to idle.
    pub(crate) fn take(&self) -> Option<Recorded> {
        self.state
            .compare_exchange(DONE, IDLE, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| Recorded {
                ata: self.ata_status.load(Ordering::Relaxed),
                bm: self.bm_status.load(Ordering::Relaxed),
            })
    }

    /// Stops expecting an interrupt. Returns the result if the top half got there first.
    pub(crate) fn disarm(&self) -> Option<Recorded> {
        for _ in 0..1_000_000 {
            match self.state.load(Ordering::Acquire) {
                ARMED_DMA | ARMED_NODATA => {
                    let s = self.state.load(Ordering::Relaxed);
                    if self
                        .state
                        .compare_exchange(s, IDLE, Ordering::Acquire, Ordering::Relaxed)
                        .is_ok()
                    {
                        return None;
                    }
                }
                // The top half is running on another CPU: it finishes in a few port accesses.
                CLAIMED => core::hint::spin_loop(),
                DONE => return self.take(),
                _ => return None,
            }
        }
        // A top half that never finishes: give up on its result.
        self.state.store(IDLE, Ordering::Release);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    /// Bus-master status says INTR, ATA status 0x50; counts accesses.
    #[derive(Default)]
    struct Completed {
        accesses: usize,
    }
    impl PortIo for Completed {
        fn read8(&mut self, port: u16) -> u8 {
            self.accesses += 1;
            if port == 0xC042 {
                busmaster::ST_INTR
            } else {
                0x50
            }
        }
        fn write8(&mut self, _: u16, _: u8) {
            self.accesses += 1;
        }
        fn read16(&mut self, _: u16) -> u16 {
            unreachable!()
        }
        fn write16(&mut self, _: u16, _: u16) {
            unreachable!()
        }
        fn read32(&mut self, _: u16) -> u32 {
            unreachable!()
        }
        fn write32(&mut self, _: u16, _: u32) {
            unreachable!()
        }
    }

    fn bound() -> ChannelIrq {
        let irq = ChannelIrq::new();
        irq.bind(ChannelRegs::PRIMARY.with_bus_master(0xC040, crate::ChannelId::Primary));
        irq
    }

    #[test]
    fn idle_interrupts_touch_nothing() {
        let irq = bound();
        let mut io = Completed::default();
        assert_eq!(irq.handle(&mut io), IrqOutcome::NotOurs);
        assert_eq!(io.accesses, 0);
        assert_eq!(irq.take(), None);
    }

    #[test]
    fn a_completion_is_recorded_once_and_wakes() {
        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let irq = bound();
        irq.register(&waker);
        irq.register(&waker); // the same task: kept, not cloned again
        irq.arm(true);
        let mut io = Completed::default();
        assert_eq!(irq.handle(&mut io), IrqOutcome::Completed);
        assert_eq!(
            irq.handle(&mut io),
            IrqOutcome::NotOurs,
            "a second edge is not ours"
        );
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            irq.take(),
            Some(Recorded {
                ata: 0x50,
                bm: busmaster::ST_INTR
            })
        );
        assert_eq!(irq.take(), None);
        assert_eq!((irq.completed(), irq.not_ours()), (1, 1));
    }

    /// The top half and a timing-out waiter race for one completion: exactly one of them
    /// handles it, on every interleaving the scheduler (or Miri) produces.
    #[test]
    fn top_half_and_disarm_never_both_handle_a_completion() {
        let rounds = if cfg!(miri) { 20 } else { 2000 };
        let irq: &'static ChannelIrq = Box::leak(Box::new(bound()));
        for _ in 0..rounds {
            irq.arm(true);
            let top = std::thread::spawn(move || irq.handle(&mut Completed::default()));
            let disarmed = irq.disarm();
            let outcome = top.join().unwrap();
            let late = irq.take();
            let by_top = outcome == IrqOutcome::Completed;
            let collected = disarmed.is_some() || late.is_some();
            assert_eq!(by_top, collected, "{outcome:?} {disarmed:?} {late:?}");
            assert_eq!(irq.take(), None);
        }
    }
}
