//! Fault injection through the Faulty wrapper.

mod common;

use std::time::Duration;

use common::{Recorder, Sequence, Slow};
use irqkit_hal::PortIo;
use irqkit_hal_mock::{DeviceAddr, Fault, Faulty, Injected, Line, Match, Sim, SimTime};

#[test]
fn the_nth_matching_write_is_dropped() {
    let mut bus = Sim::new().bus();
    let dev = bus
        .attach(
            "rec",
            &[0x60..=0x60, 0x64..=0x64],
            Faulty::new(Recorder::default()).nth(Match::writes().at(0, 0), 1, Fault::Drop),
        )
        .unwrap();
    bus.write8(0x64, 0xD4); // another port: not counted
    bus.write8(0x60, 0xFF); // matching write 0
    bus.read8(0x60); // a read: not counted
    bus.write8(0x60, 0xF4); // matching write 1: lost
    bus.write8(0x60, 0xF5);
    let writes: Vec<u32> = dev.with(|f| f.inner().seen.iter().filter_map(|s| s.2).collect());
    assert_eq!(writes, [0xD4, 0xFF, 0xF5]);
    assert_eq!(
        dev.with(|f| f.injected().to_vec()),
        [Injected {
            at: SimTime::ZERO,
            addr: DeviceAddr {
                range: 0,
                offset: 0,
                port: 0x60
            },
            write: true,
            fault: Fault::Drop,
        }]
    );
}

#[test]
fn reads_can_be_corrupted_replaced_or_lost() {
    let mut bus = Sim::new().bus();
    let dev = bus
        .attach(
            "seq",
            &[0x10..=0x10],
            Faulty::new(Sequence::default())
                .nth(Match::reads(), 0, Fault::Corrupt(0x80))
                .nth(Match::reads(), 1, Fault::Replace(0x42))
                .nth(Match::reads(), 2, Fault::Drop),
        )
        .unwrap();
    assert_eq!(bus.read8(0x10), 0x81); // 1 with bit 7 flipped
    assert_eq!(bus.read8(0x10), 0x42); // 2 replaced, but the model saw the read
    assert_eq!(bus.read8(0x10), 0xFF); // never reached the model
    assert_eq!(bus.read8(0x10), 3);
    assert_eq!(dev.with(|f| f.injected().len()), 3);
    assert_eq!(dev.with(|f| f.inner().0), 3);
}

#[test]
fn written_values_can_be_corrupted_or_replaced_within_the_width() {
    let mut bus = Sim::new().bus();
    let dev = bus
        .attach(
            "rec",
            &[0x10..=0x10],
            Faulty::new(Recorder::default())
                .nth(Match::writes(), 0, Fault::Corrupt(0xFFFF_0001))
                .nth(Match::writes(), 1, Fault::Replace(0x1_2345)),
        )
        .unwrap();
    bus.write8(0x10, 0x10);
    bus.write16(0x10, 0);
    let writes: Vec<u32> = dev.with(|f| f.inner().seen.iter().filter_map(|s| s.2).collect());
    assert_eq!(writes, [0x11, 0x2345]);
}

#[test]
fn from_nth_models_a_register_that_gets_stuck() {
    let mut bus = Sim::new().bus();
    bus.attach(
        "seq",
        &[0x10..=0x10],
        Faulty::new(Sequence::default()).from_nth(Match::any(), 2, Fault::Replace(0x80)),
    )
    .unwrap();
    let reads: Vec<u8> = (0..5).map(|_| bus.read8(0x10)).collect();
    assert_eq!(reads, [1, 2, 0x80, 0x80, 0x80]);
}

#[test]
fn the_first_added_rule_wins_and_every_rule_counts() {
    let mut bus = Sim::new().bus();
    bus.attach(
        "seq",
        &[0x10..=0x10],
        Faulty::new(Sequence::default())
            .nth(Match::any(), 0, Fault::Replace(0xAA))
            .nth(Match::reads(), 0, Fault::Replace(0xBB))
            .nth(Match::reads(), 1, Fault::Replace(0xCC)),
    )
    .unwrap();
    assert_eq!(bus.read8(0x10), 0xAA);
    assert_eq!(bus.read8(0x10), 0xCC);
}

#[test]
fn events_and_resets_pass_through() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let dev = bus
        .attach(
            "slow",
            &[0x300..=0x300],
            Faulty::new(Slow::new(Duration::from_micros(10), Line(5))).nth(
                Match::reads(),
                0,
                Fault::Replace(0),
            ),
        )
        .unwrap();
    bus.write8(0x300, 1);
    sim.clock().advance(Duration::from_micros(10));
    assert!(dev.with(|f| f.inner().ready));
    assert!(sim.lines().level(Line(5)));
    dev.reset();
    assert!(!dev.with(|f| f.inner().ready));
    assert!(!sim.lines().level(Line(5)));
    assert!(!dev.with(|f| f.inner_mut().ready));
    assert_eq!(bus.read8(0x300), 0);
    assert_eq!(bus.read8(0x300), 0x80);
}

#[test]
fn a_delayed_write_arrives_later_and_the_models_own_events_still_work() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let dev = bus
        .attach(
            "slow",
            &[0x300..=0x301],
            Faulty::new(Slow::new(Duration::from_micros(10), Line(5))).nth(
                Match::writes().at(0, 1),
                0,
                Fault::Delay(Duration::from_micros(50)),
            ),
        )
        .unwrap();
    bus.write8(0x301, 1); // reaches the model at 50 us; its event then at 60 us
    bus.write8(0x300, 1); // reaches it now; its event at 10 us
    sim.clock().advance(Duration::from_micros(10));
    assert_eq!(
        dev.with(|f| f.inner().ready_at),
        Some(SimTime::from_nanos(10_000))
    );
    sim.clock().advance(Duration::from_micros(45));
    // The delayed write arrived at 50 us and made the model busy again.
    assert!(!dev.with(|f| f.inner().ready));
    sim.clock().advance(Duration::from_micros(5));
    assert_eq!(
        dev.with(|f| f.inner().ready_at),
        Some(SimTime::from_nanos(60_000))
    );
    assert_eq!(
        dev.with(|f| f.injected()[0].fault),
        Fault::Delay(Duration::from_micros(50))
    );
}

#[test]
fn reset_drops_delayed_writes() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let dev = bus
        .attach(
            "rec",
            &[0x10..=0x10],
            Faulty::new(Recorder::default()).from_nth(
                Match::writes(),
                0,
                Fault::Delay(Duration::from_micros(5)),
            ),
        )
        .unwrap();
    bus.write8(0x10, 1);
    dev.reset();
    sim.clock().advance(Duration::from_micros(10));
    assert!(dev.with(|f| f.inner().seen.is_empty()));
    assert_eq!(dev.with(|f| f.inner().resets), 1);
}
