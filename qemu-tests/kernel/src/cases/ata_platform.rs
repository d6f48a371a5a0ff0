//! `ata_platform`: what the ATA cases stand on, checked on its own: the IDE controller found on
//! PCI with I/O decoding and bus mastering on, the DMA region inside the identity map, the
//! sector pattern agreeing with the host's, and the TSC frequency measured against the PIT
//! agreeing with the PIT's interrupt ticks.
//!
//! Lines the host checks: `ide ...` (see `ide::setup`), `dma data=ADDR descriptors=ADDR`,
//! `tsc hz=N ticks_hz=N`.

use irqkit_hal::DelayNs;

use crate::delay::PitDelay;
use crate::{dma_region, ide, pattern, println, timer, tsc};

/// Ticks of the second, interrupt-driven TSC measurement.
const CROSS_CHECK_TICKS: u64 = 200;

/// `ata_platform`.
pub fn ata_platform() {
    pattern::self_check();
    let ide = ide::setup();
    let bus_master = ide.primary_bus_master();
    assert_eq!(
        bus_master & 0xF,
        0,
        "bus-master base {bus_master:#x} not 16-port aligned"
    );
    assert_ne!(
        ide.command_after, ide.command_before,
        "setup changed nothing"
    );
    assert_eq!(ide.controller.secondary.bus_master, Some(bus_master + 8));

    let region = dma_region::take().expect("the DMA region is taken once");
    let data = dma_region::bus_address(region.data);
    let descriptors = dma_region::bus_address(region.descriptors);
    println!("dma data={data:#x} descriptors={descriptors:#x}");
    assert_eq!(data % 0x1_0000, 0, "data not 64 KiB aligned");
    assert_eq!(descriptors % 0x1_0000, 0, "descriptors not 64 KiB aligned");
    assert!(
        dma_region::take().is_none(),
        "the DMA region was handed out twice"
    );
    // The whole region is mapped and writable: touch every page.
    for page in region.data.chunks_mut(4096) {
        page[0] = 0xA5;
    }
    assert!(region.data.chunks(4096).all(|page| page[0] == 0xA5));
    // The pattern functions agree with each other over the region (the host pins the values).
    pattern::fill(5, 1 << 28, region.data);
    assert_eq!(pattern::mismatch(5, 1 << 28, region.data), None);
    assert_eq!(pattern::mismatch(6, 1 << 28, region.data), Some(1 << 28));
    region.data[1000 * 512 + 17] ^= 1;
    assert_eq!(
        pattern::mismatch(5, 1 << 28, region.data),
        Some((1 << 28) + 1000)
    );

    let hz = tsc::hz();
    // The same rate from the PIT's interrupts: TSC cycles between two tick edges.
    timer::wait_ticks(1);
    let start = tsc::now();
    timer::wait_ticks(CROSS_CHECK_TICKS);
    let cycles = tsc::now() - start;
    let ticks_hz = cycles * u64::from(timer::TICK_HZ) / CROSS_CHECK_TICKS;
    println!("tsc hz={hz} ticks_hz={ticks_hz}");
    // How long the PIT-counter busy-wait that drivers get takes for 100 ms, and for 100
    // steps of 1 ms (a driver's poll loop).
    let start = tsc::now();
    PitDelay.delay_ms(100);
    let one = tsc::now() - start;
    let start = tsc::now();
    for _ in 0..100 {
        PitDelay.delay_us(1000);
    }
    let steps = tsc::now() - start;
    println!(
        "pit_delay one_100ms_us={} steps_100x1ms_us={}",
        one * 1_000_000 / hz,
        steps * 1_000_000 / hz
    );
    assert!(hz > 10_000_000, "TSC at {hz} Hz");
}
