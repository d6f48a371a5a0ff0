//! Busy-wait delays measured on the PIT's channel 0 counter: the [`DelayNs`] that drivers with
//! bounded polling waits take (irqkit-ps2's blocking `I8042`). Works with interrupts disabled.

use irqkit_hal::{critical_section, DelayNs, PortIo};

use crate::port::ports;
use crate::timer::{CHANNEL0_DATA, DIVISOR, MODE_COMMAND, PIT_HZ};

/// Latch command for channel 0: the next two reads of its data port give the count.
const LATCH_CHANNEL0: u8 = 0x00;

/// A delay that spins on the PIT counter (1.193182 MHz), so it lasts real time whatever the
/// CPU speed. A wait may last longer than asked (a counter wrap missed while the vCPU was
/// descheduled), never shorter.
#[derive(Debug, Default, Clone, Copy)]
pub struct PitDelay;

impl DelayNs for PitDelay {
    fn delay_ns(&mut self, ns: u32) {
        let target = (u64::from(ns) * u64::from(PIT_HZ)).div_ceil(1_000_000_000);
        let mut elapsed: u64 = 0;
        let mut last = read_counter();
        while elapsed < target {
            core::hint::spin_loop();
            let now = read_counter();
            // The counter runs down from DIVISOR to 1 and reloads: a larger value is a wrap.
            let step = if now <= last {
                last - now
            } else {
                last + DIVISOR - now
            };
            elapsed += u64::from(step);
            last = now;
        }
    }
}

/// Channel 0's current count. Latch and the two reads form one sequence, so no interrupt
/// handler may come between them.
fn read_counter() -> u16 {
    critical_section::with(|_| {
        let mut io = ports();
        io.write8(MODE_COMMAND, LATCH_CHANNEL0);
        let low = io.read8(CHANNEL0_DATA);
        let high = io.read8(CHANNEL0_DATA);
        u16::from_le_bytes([low, high])
    })
}
