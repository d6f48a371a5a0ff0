//! Virtual time: delays, timeouts against models, event ordering.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::Slow;
use irqkit_hal::{poll_until, DelayNs, PortIo, Timeout};
use irqkit_hal_mock::{Device, DeviceAddr, DeviceCtx, EventId, Line, Sim, SimTime, Width};

/// Waits up to `timeout_us` for the slow device's ready bit, polling every 10 us.
fn wait_ready(
    ports: &mut impl PortIo,
    delay: &mut impl DelayNs,
    timeout_us: u32,
) -> Result<u8, Timeout> {
    ports.write8(0x300, 1);
    poll_until(delay, timeout_us, 10, || {
        Some(ports.read8(0x300)).filter(|s| s & 0x01 != 0)
    })
}

#[test]
fn a_timeout_succeeds_when_the_model_becomes_ready_in_time() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let slow = bus
        .attach(
            "slow",
            &[0x300..=0x300],
            Slow::new(Duration::from_micros(250), Line(5)),
        )
        .unwrap();
    assert_eq!(wait_ready(&mut bus, &mut sim.clock(), 1_000), Ok(0x01));
    assert_eq!(
        slow.with(|s| s.ready_at),
        Some(SimTime::from_nanos(250_000))
    );
    // Polled at 0, 10, ..., 250 us: the ready read is the 26th.
    assert_eq!(sim.now(), SimTime::from_nanos(250_000));
    assert_eq!(bus.log().len(), 1 + 26);
}

#[test]
fn a_timeout_fails_after_exactly_its_budget() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    bus.attach(
        "slow",
        &[0x300..=0x300],
        Slow::new(Duration::from_millis(5), Line(5)),
    )
    .unwrap();
    assert_eq!(
        wait_ready(&mut bus, &mut sim.clock(), 1_000),
        Err(Timeout { waited_us: 1_000 })
    );
    assert_eq!(sim.now(), SimTime::from_nanos(1_000_000));
    // The device still becomes ready later.
    sim.clock().advance(Duration::from_millis(4));
    assert_eq!(bus.read8(0x300), 0x01);
}

#[test]
fn delays_advance_exactly() {
    let sim = Sim::new();
    let mut clock = sim.clock();
    clock.delay_ns(400);
    clock.delay_us(5);
    clock.delay_ms(2);
    clock.delay_ms(u32::MAX);
    assert_eq!(
        sim.now().as_nanos(),
        400 + 5_000 + 2_000_000 + u64::from(u32::MAX) * 1_000_000
    );
    clock.advance_to(SimTime::from_nanos(5)); // the past: time does not go back
    assert_eq!(
        sim.now().as_nanos(),
        400 + 5_000 + 2_000_000 + u64::from(u32::MAX) * 1_000_000
    );
}

/// Schedules the events written to it: value = delay in us * 16 + token (0..16).
#[derive(Debug, Default)]
struct Timeline {
    fired: Arc<Mutex<Vec<(u64, SimTime)>>>,
    chain: bool,
    last: Option<EventId>,
}

impl Device for Timeline {
    fn read(&mut self, _: DeviceAddr, _: Width, _: &mut DeviceCtx<'_>) -> u32 {
        0
    }
    fn write(&mut self, at: DeviceAddr, _: Width, value: u32, ctx: &mut DeviceCtx<'_>) {
        match at.offset {
            0 => {
                let id = ctx.schedule_in(
                    Duration::from_micros(u64::from(value / 16)),
                    u64::from(value % 16),
                );
                self.last = Some(id);
            }
            _ => {
                let cancelled = self.last.is_some_and(|id| ctx.cancel(id));
                assert!(cancelled);
            }
        }
    }
    fn event(&mut self, token: u64, ctx: &mut DeviceCtx<'_>) {
        self.fired.lock().unwrap().push((token, ctx.now()));
        if self.chain && token <= 3 {
            // Chained events at the same instant fire in the same advance, after the others
            // already due then.
            ctx.schedule_in(Duration::ZERO, token + 10);
        }
    }
}

#[test]
fn events_fire_in_time_order_then_scheduling_order() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let fired = Arc::new(Mutex::new(Vec::new()));
    bus.attach(
        "timeline",
        &[0x10..=0x11],
        Timeline {
            fired: Arc::clone(&fired),
            chain: true,
            last: None,
        },
    )
    .unwrap();
    for (us, token) in [(30u32, 1u32), (10, 2), (30, 3), (10, 4), (20, 5)] {
        bus.write32(0x10, us * 16 + token);
    }
    assert_eq!(sim.clock().next_event(), Some(SimTime::from_nanos(10_000)));
    sim.clock().advance(Duration::from_micros(25));
    let us = |n: u64| SimTime::from_nanos(n * 1_000);
    assert_eq!(
        *fired.lock().unwrap(),
        [(2, us(10)), (4, us(10)), (12, us(10)), (5, us(20))]
    );
    assert_eq!(sim.now(), us(25));
    sim.clock().advance(Duration::from_micros(100));
    assert_eq!(
        fired.lock().unwrap()[4..],
        [(1, us(30)), (3, us(30)), (11, us(30)), (13, us(30))]
    );
    assert_eq!(sim.clock().pending_events(), 0);
}

#[test]
fn events_due_now_fire_on_a_zero_advance_and_cancelled_ones_never() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let fired = Arc::new(Mutex::new(Vec::new()));
    bus.attach(
        "timeline",
        &[0x10..=0x11],
        Timeline {
            fired: Arc::clone(&fired),
            chain: false,
            last: None,
        },
    )
    .unwrap();
    bus.write32(0x10, 7); // in 0 us, token 7
    assert!(
        fired.lock().unwrap().is_empty(),
        "not during the access that scheduled it"
    );
    sim.clock().advance(Duration::ZERO);
    assert_eq!(*fired.lock().unwrap(), [(7, SimTime::ZERO)]);

    bus.write32(0x10, 5 * 16 + 1);
    bus.write8(0x11, 0); // cancel it
    sim.clock().advance(Duration::from_micros(10));
    assert_eq!(fired.lock().unwrap().len(), 1);
}

#[test]
fn a_delay_inside_an_interrupt_handler_fires_events_too() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    bus.attach(
        "slow",
        &[0x300..=0x300],
        Slow::new(Duration::from_micros(50), Line(5)),
    )
    .unwrap();
    bus.attach(
        "slow2",
        &[0x301..=0x301],
        Slow::new(Duration::from_micros(30), Line(6)),
    )
    .unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = Arc::clone(&order);
    sim.lines()
        .on_rise(Line(5), irqkit_hal_mock::Trigger::Edge, move |bus| {
            o.lock().unwrap().push((5, bus.sim().now()));
            bus.read8(0x300);
            bus.write8(0x301, 1); // starts slow2: ready 30 us later
            bus.clock().delay_us(100); // a (bad) busy wait inside the handler
            o.lock().unwrap().push((50, bus.sim().now()));
        });
    let o = Arc::clone(&order);
    sim.lines()
        .on_rise(Line(6), irqkit_hal_mock::Trigger::Edge, move |bus| {
            o.lock().unwrap().push((6, bus.sim().now()));
            bus.read8(0x301);
        });
    bus.write8(0x300, 1);
    sim.clock().advance(Duration::from_micros(60));
    let us = |n: u64| SimTime::from_nanos(n * 1_000);
    // IRQ6's event fires at 80 us during the handler's delay, but its handler waits for IRQ5's
    // to return (no nesting).
    assert_eq!(
        *order.lock().unwrap(),
        [(5, us(50)), (50, us(150)), (6, us(150))]
    );
    assert_eq!(
        sim.now(),
        us(150),
        "the outer advance does not move time back"
    );
}

#[test]
fn clocks_are_shared_by_every_handle() {
    let sim = Sim::new();
    let a = sim.clock();
    let b = sim.bus().clock();
    a.advance(Duration::from_micros(3));
    assert_eq!(b.now(), SimTime::from_nanos(3_000));
    let t = std::thread::spawn(move || b.advance(Duration::from_micros(4)));
    t.join().unwrap();
    assert_eq!(a.now(), SimTime::from_nanos(7_000));
}

#[test]
fn test_callbacks_run_in_order_with_device_events() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let fired = Arc::new(Mutex::new(Vec::new()));
    bus.attach(
        "timeline",
        &[0x10..=0x11],
        Timeline {
            fired: Arc::clone(&fired),
            chain: false,
            last: None,
        },
    )
    .unwrap();
    bus.write32(0x10, 20 * 16 + 1); // device event, token 1, at 20 us
    let clock = sim.clock();
    let f = Arc::clone(&fired);
    clock.call_in(Duration::from_micros(20), move |bus| {
        // Runs after the device event scheduled first for the same instant, unlocked: it can
        // use the bus, which schedules another device event.
        f.lock().unwrap().push((100, bus.sim().now()));
        bus.write32(0x10, 5 * 16 + 2);
    });
    let f = Arc::clone(&fired);
    let cancelled = clock.call_in(Duration::from_micros(1), move |_| {
        f.lock().unwrap().push((999, SimTime::ZERO));
    });
    let f = Arc::clone(&fired);
    clock.call_at(SimTime::from_nanos(10_000), move |bus| {
        f.lock().unwrap().push((101, bus.sim().now()));
    });
    assert!(clock.cancel(cancelled));
    assert_eq!(clock.pending_events(), 3);
    clock.advance(Duration::from_micros(30));
    let us = |n: u64| SimTime::from_nanos(n * 1_000);
    assert_eq!(
        *fired.lock().unwrap(),
        [(101, us(10)), (1, us(20)), (100, us(20)), (2, us(25))]
    );
}

#[test]
fn access_time_moves_the_clock_and_fires_events() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    bus.attach(
        "slow",
        &[0x300..=0x300],
        Slow::new(Duration::from_micros(3), Line(5)),
    )
    .unwrap();
    bus.set_access_time(Duration::from_micros(1));
    bus.write8(0x300, 1); // at 0, ends at 1 us
                          // A driver that spins on the status register without a delay, as old code does.
    let mut polls = 0;
    while bus.read8(0x300) & 0x01 == 0 {
        polls += 1;
    }
    assert_eq!(
        polls, 2,
        "reads at 1 and 2 us see busy, the one at 3 us sees ready"
    );
    assert_eq!(sim.now(), SimTime::from_nanos(4_000));
    let mut words = [0u16; 4];
    bus.read16_into(0x300, &mut words);
    assert_eq!(
        sim.now(),
        SimTime::from_nanos(8_000),
        "one access time per element"
    );
    let times: Vec<u64> = bus.log().iter().map(|e| e.at.as_micros()).collect();
    assert_eq!(times, [0, 1, 2, 3, 4]);
}
