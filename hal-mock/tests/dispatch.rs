//! Device dispatch: ranges, offsets, widths, string transfers, floating bus, errors, the log.

mod common;

use std::time::Duration;

use common::{panic_text, Recorder, Sequence};
use irqkit_hal::PortIo;
use irqkit_hal_mock::{
    Access, AttachError, Bus, DeviceAddr, DeviceId, LogEntry, LookupError, Sim, SimTime, Target,
    Width,
};

fn addr(range: usize, offset: u16, port: u16) -> DeviceAddr {
    DeviceAddr {
        range,
        offset,
        port,
    }
}

#[test]
fn handles_are_send_sync_and_cheap_to_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Sim>();
    check::<Bus>();
    check::<irqkit_hal_mock::Clock>();
    check::<irqkit_hal_mock::IrqLines>();
    check::<irqkit_hal_mock::DeviceHandle<Recorder>>();
}

#[test]
fn accesses_reach_the_model_with_range_index_and_offset() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let ide = bus
        .attach("ide", &[0x1F0..=0x1F7, 0x3F6..=0x3F6], Recorder::default())
        .unwrap();
    bus.write8(0x1F0, 1);
    bus.write8(0x1F7, 2);
    bus.write8(0x3F6, 3);
    bus.read8(0x1F5);
    let seen = ide.with(|r| r.seen.clone());
    assert_eq!(
        seen,
        [
            (addr(0, 0, 0x1F0), Width::W8, Some(1)),
            (addr(0, 7, 0x1F7), Width::W8, Some(2)),
            (addr(1, 0, 0x3F6), Width::W8, Some(3)),
            (addr(0, 5, 0x1F5), Width::W8, None),
        ]
    );
    // Ports just outside the ranges float.
    assert_eq!(bus.read8(0x1EF), 0xFF);
    assert_eq!(bus.read8(0x1F8), 0xFF);
    assert_eq!(bus.read8(0x3F7), 0xFF);
    assert_eq!(ide.with(|r| r.seen.len()), 4);
}

#[test]
fn adjacent_devices_each_get_their_own_ports() {
    let bus = Sim::new().bus();
    let a = bus
        .attach("a", &[0x10..=0x1F], Recorder::default())
        .unwrap();
    let b = bus
        .attach("b", &[0x20..=0x2F], Recorder::default())
        .unwrap();
    let c = bus
        .attach("c", &[0x00..=0x0F], Recorder::default())
        .unwrap();
    let mut p = bus.clone();
    for port in [0x0F, 0x10, 0x1F, 0x20, 0x2F, 0x00] {
        p.write8(port, port as u8);
    }
    let offsets = |h: &irqkit_hal_mock::DeviceHandle<Recorder>| {
        h.with(|r| r.seen.iter().map(|s| (s.0.offset, s.2)).collect::<Vec<_>>())
    };
    assert_eq!(offsets(&a), [(0, Some(0x10)), (0xF, Some(0x1F))]);
    assert_eq!(offsets(&b), [(0, Some(0x20)), (0xF, Some(0x2F))]);
    assert_eq!(offsets(&c), [(0xF, Some(0x0F)), (0, Some(0))]);
    assert_eq!(
        (a.id(), b.id(), c.id()),
        (DeviceId::new(0), DeviceId::new(1), DeviceId::new(2))
    );
}

#[test]
fn widths_are_passed_and_values_cut_to_them() {
    let mut bus = Sim::new().bus();
    let rec = bus
        .attach(
            "rec",
            &[0xCF8..=0xCFF],
            Recorder {
                answer: 0xDEAD_BEEF,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(bus.read8(0xCFC), 0xEF);
    assert_eq!(bus.read16(0xCFC), 0xBEEF);
    assert_eq!(bus.read32(0xCFC), 0xDEAD_BEEF);
    bus.write8(0xCFD, 0x12);
    bus.write16(0xCFE, 0x3456);
    bus.write32(0xCF8, 0x8000_0010);
    let widths: Vec<_> = rec.with(|r| r.seen.iter().map(|s| (s.1, s.2)).collect());
    assert_eq!(
        widths,
        [
            (Width::W8, None),
            (Width::W16, None),
            (Width::W32, None),
            (Width::W8, Some(0x12)),
            (Width::W16, Some(0x3456)),
            (Width::W32, Some(0x8000_0010)),
        ]
    );
    let log = bus.log();
    assert_eq!(log[0].access, Access::read8(0xCFC, 0xEF));
    assert_eq!(log[1].access, Access::read16(0xCFC, 0xBEEF));
}

#[test]
fn string_transfers_are_element_by_element_and_logged_once() {
    let mut bus = Sim::new().bus();
    let seq = bus
        .attach("seq", &[0x1F0..=0x1F0], Sequence::default())
        .unwrap();
    let mut words = [0u16; 4];
    bus.read16_into(0x1F0, &mut words);
    assert_eq!(words, [1, 2, 3, 4]);
    let mut bytes = [0u8; 2];
    bus.read8_into(0x1F0, &mut bytes);
    assert_eq!(bytes, [5, 6]);
    let mut dwords = [0u32; 2];
    bus.read32_into(0x1F0, &mut dwords);
    assert_eq!(dwords, [7, 8]);
    bus.write16_from(0x1F0, &[100, 200]);
    assert_eq!(seq.with(|s| s.0), 200, "elements are written in order");
    bus.write8_from(0x1F0, &[9]);
    bus.write32_from(0x1F0, &[]);
    let accesses: Vec<Access> = bus.take_log().into_iter().map(|e| e.access).collect();
    assert_eq!(
        accesses,
        [
            Access::read16_into(0x1F0, &[1, 2, 3, 4]),
            Access::read8_into(0x1F0, &[5, 6]),
            Access::read32_into(0x1F0, &[7, 8]),
            Access::write16_from(0x1F0, &[100, 200]),
            Access::write8_from(0x1F0, &[9]),
            Access::write32_from(0x1F0, &[]),
        ]
    );
    assert!(bus.log().is_empty());
}

#[test]
fn unmapped_ports_float_high_and_are_logged() {
    let mut bus = Sim::new().bus();
    assert_eq!(bus.read8(0x80), 0xFF);
    assert_eq!(bus.read16(0x80), 0xFFFF);
    assert_eq!(bus.read32(0x80), 0xFFFF_FFFF);
    let mut words = [0u16; 3];
    bus.read16_into(0x170, &mut words);
    assert_eq!(words, [0xFFFF; 3]);
    bus.write8(0x80, 0x42);
    let log = bus.log();
    assert!(log.iter().all(|e| e.target == Target::Unmapped));
    assert_eq!(log[3].access, Access::read16_into(0x170, &[0xFFFF; 3]));
    assert_eq!(log[4].access, Access::write8(0x80, 0x42));
    assert_eq!(log[4].target.name(), "unmapped");
}

#[test]
fn the_highest_port_can_be_decoded() {
    let mut bus = Sim::new().bus();
    bus.attach("top", &[0xFFF0..=0xFFFF], Sequence::default())
        .unwrap();
    assert_eq!(bus.read8(0xFFFF), 1);
    assert_eq!(bus.read8(0xFFEF), 0xFF);
}

#[test]
fn overlapping_ranges_are_a_typed_error_and_attach_nothing() {
    let mut bus = Sim::new().bus();
    bus.attach("i8042", &[0x60..=0x60, 0x64..=0x64], Recorder::default())
        .unwrap();
    let err = bus
        .attach("pit", &[0x40..=0x43, 0x61..=0x64], Recorder::default())
        .unwrap_err();
    assert_eq!(
        err,
        AttachError::Overlap {
            device: "pit".into(),
            range: 0x61..=0x64,
            existing_device: "i8042".into(),
            existing_range: 0x64..=0x64,
        }
    );
    assert_eq!(
        err.to_string(),
        "cannot attach pit: ports 0x0061..=0x0064 overlap 0x0064..=0x0064 of i8042"
    );
    // The first, fine range of the refused device was not registered either.
    assert_eq!(bus.read8(0x40), 0xFF);
    assert_eq!(bus.log()[0].target, Target::Unmapped);

    // Overlap inside one attach, and exact duplicates.
    let err = bus
        .attach("dup", &[0x100..=0x107, 0x104..=0x104], Recorder::default())
        .unwrap_err();
    assert!(
        matches!(err, AttachError::Overlap { ref existing_device, .. } if existing_device == "dup")
    );
    assert!(bus
        .attach("again", &[0x60..=0x60], Recorder::default())
        .is_err());
    // A range covering an existing one entirely.
    assert!(bus
        .attach("wide", &[0x00..=0xFF], Recorder::default())
        .is_err());
}

#[test]
#[allow(clippy::reversed_empty_ranges)]
fn empty_and_missing_ranges_are_errors() {
    let bus = Sim::new().bus();
    assert_eq!(
        bus.attach("backwards", &[0x20..=0x1F], Recorder::default())
            .unwrap_err(),
        AttachError::EmptyRange {
            device: "backwards".into(),
            range: 0x20..=0x1F
        }
    );
    assert_eq!(
        bus.attach("nothing", &[], Recorder::default()).unwrap_err(),
        AttachError::NoRanges {
            device: "nothing".into()
        }
    );
    // Failed attaches use no device id.
    let ok = bus
        .attach("ok", &[0x20..=0x20], Recorder::default())
        .unwrap();
    assert_eq!(ok.id().index(), 0);
}

#[test]
fn the_log_has_time_target_and_access() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let dev = bus
        .attach("seq", &[0x300..=0x303], Sequence::default())
        .unwrap();
    bus.read8(0x300);
    sim.clock().advance(Duration::from_micros(250));
    bus.write16(0x302, 0xABCD);
    bus.read8(0x304);
    let log = bus.log();
    let name: std::sync::Arc<str> = "seq".into();
    assert_eq!(
        log,
        [
            LogEntry {
                at: SimTime::ZERO,
                target: Target::Device {
                    id: dev.id(),
                    name: name.clone()
                },
                access: Access::read8(0x300, 1),
            },
            LogEntry {
                at: SimTime::from_nanos(250_000),
                target: Target::Device { id: dev.id(), name },
                access: Access::write16(0x302, 0xABCD),
            },
            LogEntry {
                at: SimTime::from_nanos(250_000),
                target: Target::Unmapped,
                access: Access::read8(0x304, 0xFF),
            },
        ]
    );
    assert_eq!(
        bus.log_text(),
        "[0.000 us] seq: read8 0x0300 -> 0x01\n\
         [250.000 us] seq: write16 0x0302 <- 0xabcd\n\
         [250.000 us] unmapped: read8 0x0304 -> 0xff\n"
    );
    // Any clone sees the same log.
    let other = sim.bus();
    assert_eq!(other.log().len(), 3);
    other.clear_log();
    assert!(bus.log().is_empty());
}

#[test]
fn with_device_is_typed() {
    let bus = Sim::new().bus();
    let rec = bus
        .attach("rec", &[0x10..=0x10], Recorder::default())
        .unwrap();
    assert_eq!(
        bus.with_device::<Recorder, _>(rec.id(), |r, _| r.answer),
        Ok(0)
    );
    assert_eq!(
        bus.with_device::<Sequence, _>(rec.id(), |s, _| s.0),
        Err(LookupError::WrongType {
            id: rec.id(),
            name: "rec".into(),
            expected: std::any::type_name::<Sequence>(),
        })
    );
    let missing = DeviceId::new(7);
    assert_eq!(
        bus.with_device::<Recorder, _>(missing, |r, _| r.answer),
        Err(LookupError::NoSuchDevice(missing))
    );
}

#[test]
fn using_the_sim_inside_a_model_closure_panics_clearly_and_leaves_it_usable() {
    let sim = Sim::new();
    let bus = sim.bus();
    let rec = bus
        .attach("rec", &[0x10..=0x10], Recorder::default())
        .unwrap();
    let text = panic_text(|| {
        rec.with(|_| {
            let mut inner = sim.bus();
            inner.read8(0x10);
        });
    });
    assert!(
        text.contains("the simulation was used from inside itself"),
        "{text}"
    );
    let mut bus = bus;
    assert_eq!(bus.read8(0x10), 0);
    assert_eq!(rec.with(|r| r.seen.len()), 1);
}

#[test]
fn reset_cancels_events_and_calls_the_hook() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let line = irqkit_hal_mock::Line(14);
    let slow = bus
        .attach(
            "slow",
            &[0x1F7..=0x1F7],
            common::Slow::new(Duration::from_millis(1), line),
        )
        .unwrap();
    let rec = bus
        .attach("rec", &[0x10..=0x10], Recorder::default())
        .unwrap();
    bus.write8(0x1F7, 0xEC);
    assert_eq!(sim.clock().pending_events(), 1);
    bus.reset_devices();
    assert_eq!(sim.clock().pending_events(), 0);
    sim.clock().advance(Duration::from_millis(5));
    assert!(!slow.with(|s| s.ready));
    assert_eq!(rec.with(|r| r.resets), 1);
    rec.reset();
    assert_eq!(rec.with(|r| r.resets), 2);
}

#[test]
fn a_second_thread_can_use_the_bus() {
    let sim = Sim::new();
    let seq = sim
        .bus()
        .attach("seq", &[0x10..=0x10], Sequence::default())
        .unwrap();
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let mut bus = sim.bus();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    bus.read32(0x10);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(seq.with(|s| s.0), 400);
    let values: Vec<u32> = sim
        .bus()
        .log()
        .iter()
        .map(|e| e.access.values()[0])
        .collect();
    assert_eq!(
        values,
        (1..=400).collect::<Vec<_>>(),
        "the log is in access order"
    );
}

#[test]
fn the_spin_limit_turns_a_busy_loop_without_delay_into_a_failure() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    bus.attach(
        "slow",
        &[0x300..=0x300],
        common::Slow::new(Duration::from_millis(1), irqkit_hal_mock::Line(5)),
    )
    .unwrap();
    bus.set_spin_limit(Some(1_000));
    bus.write8(0x300, 1);
    let text = panic_text(|| {
        let mut bus = sim.bus();
        while bus.read8(0x300) & 0x01 == 0 {}
    });
    assert_eq!(
        text,
        "irqkit-hal-mock: 1000 port accesses without virtual time moving (the last: \
         [0.000 us] slow: read8 0x0300 -> 0x80); a driver polling without a delay? \
         (Bus::set_spin_limit)"
    );
    // Accesses with time moving in between never trip it.
    let mut clock = sim.clock();
    for _ in 0..2_000 {
        bus.read8(0x300);
        irqkit_hal::DelayNs::delay_ns(&mut clock, 100);
    }
    bus.set_spin_limit(None);
    for _ in 0..2_000 {
        bus.read8(0x300);
    }
}
