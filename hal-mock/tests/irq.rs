//! Interrupt lines: levels, edges, handlers that use the bus, nesting and storms.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{panic_text, Fifo, Slow};
use irqkit_hal::PortIo;
use irqkit_hal_mock::{Line, Sim, SimTime, Trigger};

const KBD: Line = Line(1);

#[test]
fn levels_and_rising_edges_are_observed() {
    let lines = Sim::new().lines();
    assert!(!lines.level(KBD));
    lines.raise(KBD);
    lines.raise(KBD); // already high: no new edge
    assert!(lines.level(KBD));
    lines.lower(KBD);
    lines.pulse(KBD);
    lines.set(KBD, true);
    assert_eq!(lines.rising_edges(KBD), 3);
    assert!(lines.level(KBD));
    assert_eq!(lines.rising_edges(Line(2)), 0, "lines are independent");
    assert_eq!(lines.rising_edges(Line(255)), 0);
}

#[test]
fn take_edge_reports_edges_since_the_last_look() {
    let sim = Sim::new();
    let lines = sim.lines();
    assert!(!lines.take_edge(KBD));
    lines.pulse(KBD);
    lines.pulse(KBD);
    assert!(lines.take_edge(KBD));
    assert!(!lines.take_edge(KBD));
    lines.pulse(KBD);
    lines.pulse(KBD);
    lines.pulse(KBD);
    // The mark is shared by every handle.
    assert_eq!(sim.lines().take_edges(KBD), 3);
    assert_eq!(lines.take_edges(KBD), 0);
}

#[test]
fn a_model_edge_runs_the_handler_which_reads_the_device() {
    let sim = Sim::new();
    let fifo = sim
        .bus()
        .attach("fifo", &[0x60..=0x61], Fifo::new(KBD))
        .unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&got);
    sim.lines().on_rise(KBD, Trigger::Edge, move |bus| {
        sink.lock().unwrap().push(bus.read8(0x60))
    });
    fifo.with_ctx(|f, ctx| f.push(0x1E, ctx));
    assert_eq!(*got.lock().unwrap(), [0x1E]);
    assert!(!sim.lines().level(KBD), "the read lowered the line");
    assert_eq!(sim.lines().handler_runs(KBD), 1);
    // The handler's access is in the log like any other.
    assert_eq!(
        sim.bus().log()[0].access,
        irqkit_hal_mock::Access::read8(0x60, 0x1E)
    );
}

#[test]
fn a_handler_whose_access_raises_the_line_again_runs_again_after_not_inside() {
    let sim = Sim::new();
    let fifo = sim
        .bus()
        .attach("fifo", &[0x60..=0x61], Fifo::new(KBD))
        .unwrap();
    let depth = Arc::new(AtomicU32::new(0));
    let max_depth = Arc::new(AtomicU32::new(0));
    let got = Arc::new(Mutex::new(Vec::new()));
    let (d, m, sink) = (Arc::clone(&depth), Arc::clone(&max_depth), Arc::clone(&got));
    sim.lines().on_rise(KBD, Trigger::Edge, move |bus| {
        let now = d.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(now, Ordering::SeqCst);
        // One byte per interrupt, as an i8042 handler does; the read re-raises the line while
        // bytes remain.
        sink.lock().unwrap().push(bus.read8(0x60));
        d.fetch_sub(1, Ordering::SeqCst);
    });
    // Three bytes arrive at once (the line rises once, stays high).
    fifo.with_ctx(|f, ctx| {
        f.bytes.extend([0xE0, 0x48]);
        f.push(0xAA, ctx);
    });
    assert_eq!(*got.lock().unwrap(), [0xE0, 0x48, 0xAA]);
    assert_eq!(max_depth.load(Ordering::SeqCst), 1, "handlers never nest");
    assert_eq!(sim.lines().handler_runs(KBD), 3);
    assert_eq!(sim.lines().rising_edges(KBD), 3);
}

#[test]
fn edges_while_a_handler_runs_merge_into_one_pending_run() {
    let sim = Sim::new();
    let lines = sim.lines();
    let runs = Arc::new(AtomicU32::new(0));
    let r = Arc::clone(&runs);
    lines.on_rise(Line(7), Trigger::Edge, move |bus| {
        if r.fetch_add(1, Ordering::SeqCst) == 0 {
            // Three more edges while running: one pending bit, like an 8259's IRR.
            for _ in 0..3 {
                bus.lines().pulse(Line(7));
            }
        }
    });
    lines.pulse(Line(7));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(lines.rising_edges(Line(7)), 4);
}

#[test]
fn lower_lines_are_served_first() {
    let sim = Sim::new();
    let lines = sim.lines();
    let order = Arc::new(Mutex::new(Vec::new()));
    for l in [Line(12), Line(1), Line(14)] {
        let o = Arc::clone(&order);
        lines.on_rise(l, Trigger::Edge, move |_| o.lock().unwrap().push(l.0));
    }
    let o = Arc::clone(&order);
    lines.on_rise(Line(0), Trigger::Edge, move |bus| {
        o.lock().unwrap().push(0);
        // Raised while IRQ0's handler runs: all pending at once when it returns.
        let l = bus.lines();
        l.pulse(Line(14));
        l.pulse(Line(12));
        l.pulse(Line(1));
    });
    lines.pulse(Line(0));
    assert_eq!(*order.lock().unwrap(), [0, 1, 12, 14]);
}

#[test]
fn level_handlers_run_until_the_device_is_acknowledged() {
    let sim = Sim::new();
    let lines = sim.lines();
    let runs = Arc::new(AtomicU32::new(0));
    let r = Arc::clone(&runs);
    lines.on_rise(Line(11), Trigger::Level, move |bus| {
        // Acknowledges only on the third run.
        if r.fetch_add(1, Ordering::SeqCst) == 2 {
            bus.lines().lower(Line(11));
        }
    });
    lines.raise(Line(11));
    assert_eq!(runs.load(Ordering::SeqCst), 3);
    assert_eq!(lines.rising_edges(Line(11)), 1);

    // An edge handler on a line that stays high runs once.
    let once = Arc::new(AtomicU32::new(0));
    let o = Arc::clone(&once);
    lines.on_rise(Line(10), Trigger::Edge, move |_| {
        o.fetch_add(1, Ordering::SeqCst);
    });
    lines.raise(Line(10));
    lines.raise(Line(10));
    assert_eq!(once.load(Ordering::SeqCst), 1);
}

#[test]
fn a_level_handler_registered_on_a_high_line_runs_at_once() {
    let sim = Sim::new();
    let lines = sim.lines();
    lines.raise(Line(5));
    let ran = Arc::new(AtomicU32::new(0));
    let r = Arc::clone(&ran);
    lines.on_rise(Line(5), Trigger::Level, move |bus| {
        r.fetch_add(1, Ordering::SeqCst);
        bus.lines().lower(Line(5));
    });
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    // An edge handler does not run for an old edge.
    lines.raise(Line(6));
    lines.on_rise(Line(6), Trigger::Edge, |_| panic!("must not run"));
    assert_eq!(lines.handler_runs(Line(6)), 0);
}

#[test]
fn an_unacknowledged_level_line_is_a_bounded_storm() {
    let sim = Sim::new();
    let lines = sim.lines();
    lines.set_storm_limit(10);
    let runs = Arc::new(AtomicU32::new(0));
    let r = Arc::clone(&runs);
    lines.on_rise(Line(3), Trigger::Level, move |_| {
        r.fetch_add(1, Ordering::SeqCst);
    });
    let text = panic_text(|| lines.raise(Line(3)));
    assert!(
        text.starts_with("interrupt storm on IRQ3: more than 10 handler runs"),
        "{text}"
    );
    assert_eq!(runs.load(Ordering::SeqCst), 10);
    // The simulation still works: delivery is not stuck "in progress".
    lines.remove_handler(Line(3));
    let ok = Arc::new(AtomicU32::new(0));
    let k = Arc::clone(&ok);
    lines.on_rise(Line(4), Trigger::Edge, move |_| {
        k.fetch_add(1, Ordering::SeqCst);
    });
    lines.pulse(Line(4));
    assert_eq!(ok.load(Ordering::SeqCst), 1);
}

#[test]
fn a_handler_that_re_raises_its_own_edge_line_forever_is_bounded_too() {
    let sim = Sim::new();
    let lines = sim.lines();
    lines.on_rise(Line(9), Trigger::Edge, |bus| bus.lines().pulse(Line(9)));
    let text = panic_text(|| lines.pulse(Line(9)));
    assert!(text.contains("more than 1000 handler runs"), "{text}");
    assert_eq!(lines.handler_runs(Line(9)), 1000);
}

#[test]
fn a_panicking_handler_propagates_and_leaves_the_sim_usable() {
    let sim = Sim::new();
    let lines = sim.lines();
    lines.on_rise(Line(2), Trigger::Edge, |_| {
        panic!("driver bug in the handler")
    });
    let text = panic_text(|| lines.pulse(Line(2)));
    assert_eq!(text, "driver bug in the handler");
    let ran = Arc::new(AtomicU32::new(0));
    let r = Arc::clone(&ran);
    lines.on_rise(Line(2), Trigger::Edge, move |_| {
        r.fetch_add(1, Ordering::SeqCst);
    });
    lines.pulse(Line(2));
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

#[test]
fn handlers_can_be_replaced_or_removed_even_while_running() {
    let sim = Sim::new();
    let lines = sim.lines();
    let log = Arc::new(Mutex::new(Vec::new()));
    let l1 = Arc::clone(&log);
    let l2 = Arc::clone(&log);
    lines.on_rise(Line(8), Trigger::Edge, move |bus| {
        l1.lock().unwrap().push("old");
        let l2 = Arc::clone(&l2);
        bus.lines().on_rise(Line(8), Trigger::Edge, move |_| {
            l2.lock().unwrap().push("new")
        });
    });
    lines.pulse(Line(8));
    lines.pulse(Line(8));
    assert_eq!(*log.lock().unwrap(), ["old", "new"]);
    assert!(lines.remove_handler(Line(8)));
    assert!(!lines.remove_handler(Line(8)));
    lines.pulse(Line(8));
    assert_eq!(log.lock().unwrap().len(), 2);

    // Removed from inside itself: not put back.
    let count = Arc::new(AtomicU32::new(0));
    let c = Arc::clone(&count);
    lines.on_rise(Line(8), Trigger::Edge, move |bus| {
        c.fetch_add(1, Ordering::SeqCst);
        bus.lines().remove_handler(Line(8));
    });
    lines.pulse(Line(8));
    lines.pulse(Line(8));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[test]
fn an_event_raised_interrupt_runs_at_the_event_time() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    bus.attach(
        "disk",
        &[0x1F7..=0x1F7],
        Slow::new(Duration::from_micros(100), Line(14)),
    )
    .unwrap();
    let seen = Arc::new(Mutex::new(None));
    let s = Arc::clone(&seen);
    sim.lines().on_rise(Line(14), Trigger::Edge, move |bus| {
        let status = bus.read8(0x1F7);
        *s.lock().unwrap() = Some((bus.sim().now(), status));
    });
    bus.write8(0x1F7, 0x20);
    sim.clock().advance(Duration::from_millis(1));
    assert_eq!(
        *seen.lock().unwrap(),
        Some((SimTime::from_nanos(100_000), 0x01))
    );
    assert_eq!(sim.now(), SimTime::from_nanos(1_000_000));
    let log = bus.log();
    assert_eq!(
        log[1].at,
        SimTime::from_nanos(100_000),
        "the handler's read is logged at 100 us"
    );
}

#[test]
fn a_second_thread_can_raise_lines_while_the_driver_polls() {
    let sim = Sim::new();
    let lines = sim.lines();
    let runs = Arc::new(AtomicU32::new(0));
    let r = Arc::clone(&runs);
    lines.on_rise(KBD, Trigger::Edge, move |bus| {
        bus.read8(0x60);
        r.fetch_add(1, Ordering::SeqCst);
    });
    let irq_source = {
        let lines = sim.lines();
        std::thread::spawn(move || {
            for _ in 0..200 {
                lines.pulse(KBD);
            }
        })
    };
    let mut bus = sim.bus();
    let mut seen = 0;
    while seen < 200 {
        bus.read8(0x64); // the "driver" keeps using the bus meanwhile
        seen += sim.lines().take_edges(KBD);
    }
    irq_source.join().unwrap();
    assert_eq!(sim.lines().rising_edges(KBD), 200);
    let runs = runs.load(Ordering::SeqCst);
    // Edges that arrived while a handler was already pending merged into one run.
    assert!((1..=200).contains(&runs), "{runs}");
    assert_eq!(u64::from(runs), sim.lines().handler_runs(KBD));
}

/// A driver whose state is shared with its interrupt handler behind a mutex, as a kernel
/// shares it behind a spinlock taken with interrupts off.
#[derive(Debug, Default)]
struct SharedDriver {
    bytes: Vec<u8>,
}

#[test]
fn without_interrupts_lets_a_driver_lock_state_its_handler_also_locks() {
    let sim = Sim::new();
    let fifo = sim
        .bus()
        .attach("fifo", &[0x60..=0x61], Fifo::new(KBD))
        .unwrap();
    let driver = Arc::new(Mutex::new(SharedDriver::default()));
    let d = Arc::clone(&driver);
    sim.lines().on_rise(KBD, Trigger::Edge, move |bus| {
        let byte = bus.read8(0x60);
        d.lock().unwrap().bytes.push(byte);
    });
    fifo.with(|f| f.bytes.extend([1, 2]));
    let lines = sim.lines();
    let mut bus = sim.bus();
    // Without the critical section the handler, run by the write below on this thread, would
    // deadlock on the driver's lock.
    lines.without_interrupts(|| {
        let mut state = driver.lock().unwrap();
        bus.write8(0x60, 3); // the model raises IRQ1
        state.bytes.push(0);
        assert!(lines.is_pending(KBD));
    });
    assert_eq!(driver.lock().unwrap().bytes, [0, 1, 2, 3]);
    assert!(!lines.is_pending(KBD));
}

#[test]
fn without_interrupts_nests_and_survives_a_panic() {
    let sim = Sim::new();
    let lines = sim.lines();
    let runs = Arc::new(AtomicU32::new(0));
    let r = Arc::clone(&runs);
    lines.on_rise(Line(4), Trigger::Edge, move |_| {
        r.fetch_add(1, Ordering::SeqCst);
    });
    lines.without_interrupts(|| {
        lines.without_interrupts(|| lines.pulse(Line(4)));
        assert_eq!(
            runs.load(Ordering::SeqCst),
            0,
            "still inside the outer section"
        );
    });
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    let text = panic_text(|| lines.without_interrupts(|| panic!("inside")));
    assert_eq!(text, "inside");
    lines.pulse(Line(4));
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "interrupts are enabled again"
    );
}

#[test]
fn without_interrupts_holds_back_other_threads_too() {
    let sim = Sim::new();
    let lines = sim.lines();
    let runs = Arc::new(AtomicU32::new(0));
    let r = Arc::clone(&runs);
    lines.on_rise(Line(4), Trigger::Edge, move |_| {
        r.fetch_add(1, Ordering::SeqCst);
    });
    lines.without_interrupts(|| {
        let other = sim.lines();
        std::thread::spawn(move || other.pulse(Line(4)))
            .join()
            .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 0);
    });
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn masked_lines_wait_while_others_run() {
    let sim = Sim::new();
    let lines = sim.lines();
    let order = Arc::new(Mutex::new(Vec::new()));
    for l in [Line(1), Line(12)] {
        let o = Arc::clone(&order);
        lines.on_rise(l, Trigger::Edge, move |_| o.lock().unwrap().push(l.0));
    }
    let level_runs = Arc::new(AtomicU32::new(0));
    let r = Arc::clone(&level_runs);
    lines.on_rise(Line(11), Trigger::Level, move |bus| {
        r.fetch_add(1, Ordering::SeqCst);
        bus.lines().lower(Line(11));
    });
    lines.mask(Line(1));
    lines.mask(Line(11));
    lines.pulse(Line(1));
    lines.pulse(Line(12));
    lines.raise(Line(11));
    assert_eq!(*order.lock().unwrap(), [12]);
    assert!(lines.is_pending(Line(1)));
    lines.unmask(Line(1));
    assert_eq!(*order.lock().unwrap(), [12, 1]);
    assert_eq!(level_runs.load(Ordering::SeqCst), 0);
    lines.unmask(Line(11));
    assert_eq!(level_runs.load(Ordering::SeqCst), 1);
    // Unmasking a quiet line runs nothing.
    lines.unmask(Line(11));
    assert_eq!(level_runs.load(Ordering::SeqCst), 1);
}
