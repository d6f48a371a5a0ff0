//! The time-stamp counter: cycle counts for benchmarks, and its frequency measured against the
//! PIT so cycles become seconds (and MB/s).
//!
//! The measurement uses PIT channel 2 (the speaker channel, otherwise unused here) counting
//! down once from 0xFFFF (55 ms): the counts that passed between two samples are exact however
//! long the vCPU was descheduled in between (a periodic channel would lose whole periods), and
//! a round that overran the count is seen (OUT went high) and retried. Under QEMU's TCG the
//! guest's TSC follows the host's TSC and the PIT the host's clock.

use core::sync::atomic::{AtomicU64, Ordering};

use irqkit_hal::{critical_section, PortIo};

use crate::port::ports;
use crate::timer::{MODE_COMMAND, PIT_HZ};

/// Channel 2's data port.
const CHANNEL2_DATA: u16 = 0x42;
/// Port B of the system control: bit 0 gates channel 2, bit 1 routes it to the speaker,
/// bit 5 reads channel 2's OUT.
const PORT_B: u16 = 0x61;
const GATE2: u8 = 1 << 0;
const SPEAKER: u8 = 1 << 1;
const OUT2: u8 = 1 << 5;
/// Channel 2, low byte then high byte, mode 0 (interrupt on terminal count), binary.
const CHANNEL2_ONE_SHOT: u8 = 0xB0;
/// Latch command for channel 2.
const LATCH_CHANNEL2: u8 = 0x80;
/// PIT counts per round (about 42 ms of the 55 ms the count lasts).
const ROUND_COUNTS: u32 = 50_000;
/// Rounds measured; the median is kept (a vCPU descheduled between a latch and its `rdtsc`
/// skews a round either way).
const ROUNDS: usize = 5;
/// Attempts per round before giving up on a host too loaded to finish one in 55 ms.
const ATTEMPTS: usize = 20;

/// The measured TSC frequency, 0 until [`hz`] first runs.
static HZ: AtomicU64 = AtomicU64::new(0);

/// The time-stamp counter.
pub fn now() -> u64 {
    // SAFETY: `rdtsc` exists on every x86_64 CPU, is allowed at CPL 0 whatever CR4.TSD says,
    // and only reads the counter into registers: no memory or flags are touched.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// Channel 2's count, the TSC right after the latch, and whether OUT is high (the count ran
/// out).
fn sample(io: &mut impl PortIo) -> (u16, u64, bool) {
    io.write8(MODE_COMMAND, LATCH_CHANNEL2);
    let tsc = now();
    let low = io.read8(CHANNEL2_DATA);
    let high = io.read8(CHANNEL2_DATA);
    let out = io.read8(PORT_B) & OUT2 != 0;
    (u16::from_le_bytes([low, high]), tsc, out)
}

/// One round: TSC cycles per second over [`ROUND_COUNTS`] counts; `None` if the count ran
/// out before the end was seen.
fn round() -> Option<u64> {
    critical_section::with(|_| {
        let mut io = ports();
        let port_b = io.read8(PORT_B);
        // Gate off, speaker off, load 0xFFFF, gate on: the count starts.
        io.write8(PORT_B, port_b & !(GATE2 | SPEAKER));
        io.write8(MODE_COMMAND, CHANNEL2_ONE_SHOT);
        io.write8(CHANNEL2_DATA, 0xFF);
        io.write8(CHANNEL2_DATA, 0xFF);
        io.write8(PORT_B, (port_b & !SPEAKER) | GATE2);
        let (first, start, _) = sample(&mut io);
        let result = loop {
            core::hint::spin_loop();
            let (count, tsc, out) = sample(&mut io);
            if out || count > first {
                break None;
            }
            let counts = u32::from(first - count);
            if counts >= ROUND_COUNTS {
                break Some((tsc - start) * u64::from(PIT_HZ) / u64::from(counts));
            }
        };
        io.write8(PORT_B, port_b & !SPEAKER);
        result
    })
}

/// The TSC frequency in Hz, measured on first use (about 0.2 s of spinning on the PIT).
///
/// # Panics
///
/// If no round completes in [`ATTEMPTS`] tries.
pub fn hz() -> u64 {
    match HZ.load(Ordering::Relaxed) {
        0 => {
            let mut rounds = [0u64; ROUNDS];
            for r in &mut rounds {
                *r = (0..ATTEMPTS)
                    .find_map(|_| round())
                    .expect("the PIT count ran out in every calibration attempt");
            }
            rounds.sort_unstable();
            let hz = rounds[ROUNDS / 2].max(1);
            HZ.store(hz, Ordering::Relaxed);
            hz
        }
        hz => hz,
    }
}
