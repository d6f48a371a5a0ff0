//! Bad input and every injected fault: a typed error, no hang, nothing stale, and the next
//! request works.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};

use common::*;
use irqkit_ata::{Error, Phase, Unsupported, Wait};
use irqkit_hal::dma::{BusAddr, DmaError};
use irqkit_hal::DelayNs;
use irqkit_hal_mock::ata::MediaError;

/// Checks the channel still works after a failure.
fn still_works(ch: &mut Disk, lba: u64) {
    let data = pattern(lba, 2 * 512, 0x5A);
    ch.write(M, lba, &data).unwrap();
    let mut back = vec![0u8; data.len()];
    ch.read(M, lba, &mut back).unwrap();
    assert_eq!(back, data);
}

#[test]
fn bad_requests_touch_no_register() {
    let rig = one_disk(1000);
    let mut ch = rig.dma();
    let mut pio = rig.pio();
    let before = rig.accesses();
    let mut buf = vec![0u8; 4 * 512];
    let out = Error::OutOfRange {
        lba: 998,
        count: 4,
        capacity: 1000,
    };
    assert_eq!(ch.read(M, 998, &mut buf), Err(out));
    assert_eq!(ch.write(M, 998, &buf), Err(out));
    assert_eq!(pio.read_pio(M, 998, &mut buf), Err(out));
    assert!(matches!(
        ch.read(M, u64::MAX, &mut buf),
        Err(Error::OutOfRange { .. })
    ));
    for len in [0, 100, 513] {
        let e = Error::BadLength {
            len,
            sector_size: 512,
        };
        assert_eq!(ch.read_dma(M, 0, &mut buf[..len]), Err(e));
        assert_eq!(pio.write_pio(M, 0, &buf[..len]), Err(e));
    }
    let (a, b) = buf.split_at_mut(512);
    assert!(matches!(
        ch.readv_dma(M, 0, &mut [a, &mut b[..0]]),
        Err(Error::BadLength { len: 0, .. })
    ));
    assert_eq!(rig.accesses(), before);
    assert!(rig.mem.mappings().is_empty());
}

#[test]
fn unreachable_misaligned_and_unmappable_buffers() {
    let rig = one_disk(1000);
    let mut ch = rig.dma();
    let mut buf = vec![0u8; 2 * 512];
    let before = rig.accesses();

    rig.mem.set_base(BusAddr::new(1 << 32));
    assert!(matches!(
        ch.read_dma(M, 0, &mut buf),
        Err(Error::Unreachable { addr, .. }) if addr >= 1 << 32
    ));
    rig.mem.set_base(BusAddr::new(0x10_0000));

    rig.mem.set_misalign(1);
    assert!(matches!(
        ch.write_dma(M, 0, &buf),
        Err(Error::Misaligned { align: 2, .. })
    ));
    rig.mem.set_misalign(0);

    rig.mem.fail_next_map(DmaError::NotMappable);
    assert_eq!(ch.read_dma(M, 0, &mut buf), Err(Error::NotMappable));

    assert_eq!(rig.accesses(), before, "no register touched");
    assert!(rig.mem.mappings().is_empty(), "nothing left mapped");
    still_works(&mut ch, 0);
}

#[test]
fn too_many_segments_for_the_prd_table() {
    let rig = one_disk(1 << 16);
    let regs =
        irqkit_ata::ChannelRegs::PRIMARY.with_bus_master(0xC040, irqkit_ata::ChannelId::Primary);
    let mut ch = irqkit_ata::Channel::new(rig.sim.bus(), rig.sim.clock(), regs)
        .with_dma(rig.mem.clone(), leak_buf(8 * 4)) // 4 entries
        .unwrap();
    ch.probe().unwrap();
    rig.mem.set_split(Some(512));
    let mut buf = vec![0u8; 8 * 512];
    assert_eq!(
        ch.read_dma(M, 0, &mut buf),
        Err(Error::TooManySegments { max: 4 })
    );
    assert!(rig.mem.mappings().is_empty());
    rig.mem.set_split(None);
    ch.read_dma(M, 0, &mut buf).unwrap();
}

#[test]
fn pio_only_channel_refuses_dma() {
    let rig = one_disk(100);
    let mut ch = rig.pio();
    let mut buf = vec![0u8; 512];
    assert_eq!(
        ch.read_dma(M, 0, &mut buf),
        Err(Error::Unsupported(Unsupported::NoDma))
    );
    ch.read(M, 0, &mut buf).unwrap(); // falls back to PIO
}

#[test]
fn stuck_bsy_times_out_then_the_channel_recovers() {
    let rig = one_disk(1000);
    let mut ch = rig.dma();
    rig.disk(|d| d.faults.stuck_bsy = 1);
    let mut buf = vec![0u8; 512];
    let r = ch.read(M, 3, &mut buf);
    assert!(
        matches!(
            r,
            Err(Error::Timeout {
                phase: Phase::Completion,
                ..
            })
        ),
        "{r:?}"
    );
    assert!(ch.stats().resets >= 2);
    assert!(rig.mem.mappings().is_empty());
    still_works(&mut ch, 3);

    let mut pio = rig.pio();
    rig.disk(|d| d.faults.stuck_bsy = 1);
    assert!(matches!(
        pio.write_pio(M, 3, &buf),
        Err(Error::Timeout {
            phase: Phase::DataRequest,
            ..
        })
    ));
    pio.write_pio(M, 3, &buf).unwrap();
}

#[test]
fn drq_never_set_is_a_timeout_not_stale_data() {
    let rig = one_disk(1000);
    let mut ch = rig.pio();
    rig.disk(|d| d.faults.no_drq = 1);
    let mut buf = vec![0xEEu8; 512];
    assert!(matches!(
        ch.read_pio(M, 5, &mut buf),
        Err(Error::Timeout {
            phase: Phase::DataRequest,
            ..
        })
    ));
    assert_eq!(buf, vec![0xEE; 512], "no data port read without DRQ");
    ch.read_pio(M, 5, &mut buf).unwrap();
}

#[test]
fn media_errors_carry_the_failing_lba_and_never_return_stale_data() {
    let cases = [
        (
            MediaError::Uncorrectable,
            Error::Media { command: 0, lba: 0 },
        ),
        (
            MediaError::IdNotFound,
            Error::IdNotFound { command: 0, lba: 0 },
        ),
        (
            MediaError::InterfaceCrc,
            Error::InterfaceCrc { command: 0, lba: 0 },
        ),
    ];
    for (fault, want) in cases {
        for far in [false, true] {
            let rig = one_disk(1 << 29);
            let base = if far { (1 << 28) + 10 } else { 30 };
            let bad = base + 7;
            rig.disk(|d| d.faults.bad_sectors.insert(bad, fault));
            let mut ch = rig.dma();
            let mut pio = rig.pio();
            for dma in [true, false] {
                let mut buf = vec![0xEEu8; 20 * 512];
                let r = if dma {
                    ch.read_dma(M, base, &mut buf)
                } else {
                    pio.read_pio(M, base, &mut buf)
                };
                let command = match (dma, far) {
                    (true, false) => 0xC8,
                    (true, true) => 0x25,
                    (false, false) => 0xC4,
                    (false, true) => 0x29,
                };
                let expect = match want {
                    Error::Media { .. } => Error::Media { command, lba: bad },
                    Error::IdNotFound { .. } => Error::IdNotFound { command, lba: bad },
                    _ => Error::InterfaceCrc { command, lba: bad },
                };
                assert_eq!(r, Err(expect), "{fault:?} dma={dma} far={far}");
                if dma {
                    assert!(buf.iter().all(|&b| b == 0xEE), "failed DMA read left data");
                }
            }
            rig.disk(|d| d.faults.bad_sectors.clear());
            still_works(&mut ch, base);
        }
    }
}

#[test]
fn aborted_and_device_fault() {
    let rig = one_disk(1000);
    let mut ch = rig.dma();
    rig.disk(|d| d.faults.bad_sectors.insert(40, MediaError::Aborted));
    let mut buf = vec![0u8; 4 * 512];
    assert!(matches!(
        ch.write(M, 38, &buf),
        Err(Error::Aborted { command: 0xCA, error }) if error & 0x04 != 0
    ));
    rig.disk(|d| d.faults.bad_sectors.clear());
    rig.disk(|d| d.faults.device_faults = 1);
    let r = ch.read(M, 38, &mut buf);
    assert!(
        matches!(r, Err(Error::DeviceFault { command: 0xC8, .. })),
        "{r:?}"
    );
    still_works(&mut ch, 38);
}

#[test]
fn bus_master_error() {
    let rig = one_disk(1000);
    for irq in [false, true] {
        let mut ch = if irq { rig.dma_irq().0 } else { rig.dma() };
        rig.disk(|d| d.faults.bus_master_errors = 1);
        let mut buf = vec![0xEEu8; 512];
        let r = ch.read(M, 9, &mut buf);
        assert!(
            matches!(r, Err(Error::BusMaster { status }) if status & 0x02 != 0),
            "irq={irq}: {r:?}"
        );
        assert!(buf.iter().all(|&b| b == 0xEE));
        still_works(&mut ch, 9);
    }
}

#[test]
fn lost_interrupt_completes_by_registers() {
    let rig = one_disk(1000);
    let (mut ch, irq) = rig.dma_irq();
    rig.disk(|d| d.faults.lost_interrupts = 1);
    let data = pattern(20, 512, 9);
    ch.write(M, 20, &data).unwrap();
    assert_eq!(ch.stats().lost_interrupts, 1);
    assert_eq!(irq.completed(), 0);
    let mut back = vec![0u8; 512];
    ch.read(M, 20, &mut back).unwrap();
    assert_eq!(back, data);
    assert_eq!(irq.completed(), 1);
}

#[test]
fn spurious_interrupts_are_not_ours() {
    let rig = one_disk(1000);
    let (mut ch, irq) = rig.dma_irq();
    rig.ide.spurious_interrupt();
    assert_eq!(irq.not_ours(), 1);
    assert_eq!(irq.completed(), 0);
    still_works(&mut ch, 1);
    assert_eq!(irq.completed(), 2);
}

/// A wait strategy that panics: the blocking call unwinds with the engine stopped.
struct Explodes;
impl Wait for Explodes {
    fn wait<D: DelayNs + ?Sized>(&mut self, _: &mut D, _: u32) -> u32 {
        panic!("wait strategy failed");
    }
}

#[test]
fn a_panicking_wait_strategy_leaves_the_engine_stopped() {
    let rig = one_disk(1000);
    let (ch, _irq) = rig.dma_irq();
    let mut ch = ch.with_wait(Explodes);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let mut buf = vec![0u8; 512];
        let _ = ch.read(M, 1, &mut buf);
    }));
    assert!(r.is_err());
    assert_eq!(
        rig.ide.with(|c| c.bus_master_command()) & 1,
        0,
        "engine stopped"
    );
    // The next call resets the abandoned command and works (with a strategy that returns).
    let mut ch = ch.with_wait(irqkit_ata::Spin);
    still_works(&mut ch, 1);
}
