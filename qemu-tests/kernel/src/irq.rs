//! The IRQ handler registry: a test case sets a function per IRQ line; the interrupt dispatch
//! calls it and then sends the PIC its end-of-interrupt, so handlers never deal with the PIC.
//!
//! ```ignore
//! fn on_keyboard(_irq: u8) { /* read port 0x60 */ }
//! irq::register(irq::KEYBOARD, on_keyboard); // also unmasks IRQ 1
//! ```

use core::cell::Cell;
use core::sync::atomic::{AtomicU32, Ordering};

use irqkit_hal::critical_section::{self, Mutex};

use crate::pic;

/// An IRQ handler: runs with interrupts disabled, gets its IRQ number. It must not wait for
/// other interrupts (they are masked while it runs).
pub type IrqHandler = fn(irq: u8);

/// IRQ 0: the PIT.
pub const TIMER: u8 = 0;
/// IRQ 1: the i8042 keyboard port.
pub const KEYBOARD: u8 = 1;
#[allow(dead_code, reason = "named for the device tests to come")]
/// IRQ 12: the i8042 auxiliary (mouse) port.
pub const MOUSE: u8 = 12;
/// IRQ 14: the primary IDE channel.
pub const PRIMARY_ATA: u8 = 14;
#[allow(dead_code, reason = "named for the device tests to come")]
/// IRQ 15: the secondary IDE channel.
pub const SECONDARY_ATA: u8 = 15;

static HANDLERS: Mutex<[Cell<Option<IrqHandler>>; pic::IRQ_COUNT as usize]> =
    Mutex::new([const { Cell::new(None) }; pic::IRQ_COUNT as usize]);

/// IRQs that arrived with no handler registered (acknowledged and otherwise ignored).
static UNHANDLED: [AtomicU32; pic::IRQ_COUNT as usize] =
    [const { AtomicU32::new(0) }; pic::IRQ_COUNT as usize];
/// Spurious IRQ 7 / 15 seen.
static SPURIOUS: AtomicU32 = AtomicU32::new(0);
/// IRQs handed to a registered handler, per line.
static HANDLED: [AtomicU32; pic::IRQ_COUNT as usize] =
    [const { AtomicU32::new(0) }; pic::IRQ_COUNT as usize];

/// Sets `handler` for `irq` (replacing any earlier one) and unmasks the line.
///
/// # Panics
///
/// If `irq` is not below 16.
pub fn register(irq: u8, handler: IrqHandler) {
    assert!(irq < pic::IRQ_COUNT, "IRQ {irq} out of range 0..16");
    critical_section::with(|cs| HANDLERS.borrow(cs)[usize::from(irq)].set(Some(handler)));
    pic::unmask(irq);
}

/// Masks `irq` and removes its handler.
///
/// # Panics
///
/// If `irq` is not below 16.
pub fn unregister(irq: u8) {
    assert!(irq < pic::IRQ_COUNT, "IRQ {irq} out of range 0..16");
    pic::mask(irq);
    critical_section::with(|cs| HANDLERS.borrow(cs)[usize::from(irq)].set(None));
}

/// How many times `irq` arrived without a handler.
pub fn unhandled_count(irq: u8) -> u32 {
    UNHANDLED
        .get(usize::from(irq))
        .map_or(0, |count| count.load(Ordering::Relaxed))
}

/// How many times `irq` arrived and went to its handler.
pub fn handled_count(irq: u8) -> u32 {
    HANDLED
        .get(usize::from(irq))
        .map_or(0, |count| count.load(Ordering::Relaxed))
}

/// How many spurious IRQ 7 / 15 were seen.
pub fn spurious_count() -> u32 {
    SPURIOUS.load(Ordering::Relaxed)
}

/// Runs the handler of `irq` and acknowledges it at the PIC. Called by the interrupt
/// dispatch with interrupts disabled.
pub(crate) fn dispatch(irq: u8) {
    if pic::is_spurious(irq) {
        SPURIOUS.fetch_add(1, Ordering::Relaxed);
        if irq == 15 {
            pic::end_of_interrupt_master_only();
        }
        return;
    }
    let handler = critical_section::with(|cs| HANDLERS.borrow(cs)[usize::from(irq)].get());
    match handler {
        Some(handler) => {
            HANDLED[usize::from(irq)].fetch_add(1, Ordering::Relaxed);
            handler(irq)
        }
        None => {
            UNHANDLED[usize::from(irq)].fetch_add(1, Ordering::Relaxed);
        }
    }
    pic::end_of_interrupt(irq);
}
