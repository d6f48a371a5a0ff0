//! The PIT (8253/8254) channel 0 as a periodic tick on IRQ 0, and waiting for ticks.

use core::sync::atomic::{AtomicU64, Ordering};

use irqkit_hal::critical_section;
use irqkit_hal::x86::interrupts::{self, Idle};
use irqkit_hal::PortIo;

use crate::{deferred, irq, port::ports};

/// The PIT's input clock in Hz.
pub const PIT_HZ: u32 = 1_193_182;
/// Channel 0's data port (the counter, read after a latch command).
pub const CHANNEL0_DATA: u16 = 0x40;
/// The PIT's mode/command port.
pub const MODE_COMMAND: u16 = 0x43;
/// Channel 0, low byte then high byte, mode 2 (rate generator), binary.
const CHANNEL0_RATE_GENERATOR: u8 = 0x34;

/// The tick rate [`init`] programs.
pub const TICK_HZ: u32 = 1000;
/// Channel 0's reload value: it counts down from this to 1, once per tick.
pub const DIVISOR: u16 = (PIT_HZ / TICK_HZ) as u16;

static TICKS: AtomicU64 = AtomicU64::new(0);

/// Programs the PIT to [`TICK_HZ`] and registers the tick counter on IRQ 0 (interrupts stay
/// as they were: ticks start counting once a test enables them).
pub fn init() {
    let [low, high] = DIVISOR.to_le_bytes();
    critical_section::with(|_| {
        let mut io = ports();
        io.write8(MODE_COMMAND, CHANNEL0_RATE_GENERATOR);
        io.write8(CHANNEL0_DATA, low);
        io.write8(CHANNEL0_DATA, high);
    });
    irq::register(irq::TIMER, on_tick);
}

fn on_tick(_irq: u8) {
    TICKS.fetch_add(1, Ordering::Relaxed);
    // Delayed bottom halves count the same ticks.
    deferred::on_tick();
}

/// Ticks counted since interrupts were first enabled.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// Enables interrupts and idles with `sti; hlt` until `done()` holds, checking it with
/// interrupts disabled so no wake-up is lost. Returns with interrupts disabled.
///
/// Call it from a test case's main flow only, never from an interrupt handler or inside a
/// critical section (it enables interrupts).
///
/// It never returns if `done()` never holds: the host runner's deadline ends such a run.
pub fn idle_until(mut done: impl FnMut() -> bool) {
    // SAFETY: called from a test case's main flow (see above): no critical section is held and
    // no handler is running, so nothing relies on interrupts staying masked.
    unsafe { interrupts::enable() };
    loop {
        match interrupts::idle(&mut done) {
            Ok(Idle::WorkPending) => break,
            Ok(Idle::Woken) => {}
            Err(masked) => panic!("idle_until: {masked}"),
        }
    }
    interrupts::disable();
}

/// Waits until at least `count` more ticks have passed. Returns with interrupts disabled.
pub fn wait_ticks(count: u64) {
    let until = ticks() + count;
    idle_until(|| ticks() >= until);
}
