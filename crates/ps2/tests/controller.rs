//! The i8042 driver and the command engine against hal-mock's QEMU-like i8042 model.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use irqkit_hal::PortIo;
use irqkit_hal_mock::i8042::{Faults, I8042 as Model};
use irqkit_hal_mock::{Access, Bus, Clock, DeviceHandle, Line, Sim, Trigger};
use irqkit_ps2::controller::{
    ByteOutcome, Command, CommandEngine, Completion, Config, EngineTiming, Error, InitOptions,
    KeyboardId, LedState, RepeatDelay, RepeatRate, Reply, Timing, Typematic, WaitingFor, I8042,
};
use irqkit_ps2::ScancodeSet;

const IRQ1: Line = Line(1);

struct Rig {
    sim: Sim,
    model: DeviceHandle<Model>,
    kbd: I8042<Bus, Clock>,
}

fn rig(model: Model) -> Rig {
    let sim = Sim::new();
    let bus = sim.bus();
    let model = Model::attach(&bus, model).unwrap();
    let kbd = I8042::new(bus, sim.clock());
    Rig { sim, model, kbd }
}

fn read_all(kbd: &mut I8042<Bus, Clock>) -> Vec<u8> {
    let mut out = Vec::new();
    kbd.drain(|b| out.push(b)).unwrap();
    out
}

#[test]
fn init_translated_set1_like_seabios_then_keys_raise_irq1() {
    let mut r = rig(Model::new(IRQ1));
    let report = r.kbd.init(InitOptions::translated()).unwrap();
    assert_eq!(report.saved_config.bits(), 0x61);
    assert!(report.translation);
    assert_eq!(report.keyboard_set, ScancodeSet::Set2);
    assert_eq!(report.host_set, ScancodeSet::Set1);
    assert_eq!(report.self_test, 0x55);
    assert!(report.keyboard_id.is_mf2());
    assert_eq!(report.config.bits(), 0x61);
    assert_eq!(r.model.with(|m| m.config()), 0x61);
    assert_eq!(r.model.with(|m| m.keyboard_resets()), 1);
    // One IRQ 1 edge: the first read of the configuration byte, before IRQs are masked.
    assert_eq!(r.sim.lines().rising_edges(IRQ1), 1);

    r.model.tap_set2(&[0x1C]);
    assert_eq!(r.sim.lines().rising_edges(IRQ1), 2);
    assert_eq!(read_all(&mut r.kbd), [0x1E, 0x9E]);
    r.model.tap_set2(&[0xE0, 0x75]);
    assert_eq!(read_all(&mut r.kbd), [0xE0, 0x48, 0xE0, 0xC8]);
}

#[test]
fn init_raw_set2_and_set3() {
    let mut r = rig(Model::new(IRQ1));
    let report = r.kbd.init(InitOptions::raw(ScancodeSet::Set2)).unwrap();
    assert!(!report.translation);
    assert_eq!(report.host_set, ScancodeSet::Set2);
    assert_eq!(r.model.with(|m| m.config()), 0x21);
    r.model.tap_set2(&[0xE0, 0x75]);
    assert_eq!(read_all(&mut r.kbd), [0xE0, 0x75, 0xE0, 0xF0, 0x75]);

    let mut r = rig(Model::new(IRQ1));
    let report = r.kbd.init(InitOptions::raw(ScancodeSet::Set3)).unwrap();
    assert_eq!(report.keyboard_set, ScancodeSet::Set3);
    assert_eq!(r.model.with(|m| m.scancode_set()), 3);
}

#[test]
fn init_with_polled_irq_off_leds_and_typematic() {
    let mut r = rig(Model::new(IRQ1));
    let typematic = Typematic {
        rate: RepeatRate::FASTEST,
        delay: RepeatDelay::Ms250,
    };
    let options = InitOptions {
        enable_irq: false,
        leds: Some(LedState::NUM_LOCK),
        typematic: Some(typematic),
        ..InitOptions::translated()
    };
    let report = r.kbd.init(options).unwrap();
    assert!(!report.config.contains(Config::KEYBOARD_IRQ));
    assert_eq!(r.model.with(|m| (m.leds(), m.typematic())), (0x02, 0x00));
    let edges = r.sim.lines().rising_edges(IRQ1);
    r.model.key_down_set2(&[0x1C]);
    assert_eq!(r.sim.lines().rising_edges(IRQ1), edges);
    assert_eq!(read_all(&mut r.kbd), [0x1E]);
}

#[test]
fn init_order_is_the_robust_one() {
    let mut r = rig(Model::new(IRQ1));
    r.kbd.init(InitOptions::translated()).unwrap();
    let writes: Vec<(u16, u8)> = r
        .model
        .bus()
        .log()
        .iter()
        .filter(|e| !e.access.is_read())
        .map(|e| (e.access.port(), e.access.values()[0] as u8))
        .collect();
    #[rustfmt::skip]
    let expected = [
        (0x64, 0x20),               // save the firmware's configuration byte
        (0x64, 0x60), (0x60, 0x60), // mask IRQs at once (keep XLATE for now)
        (0x64, 0xAD), (0x64, 0xA7), // disable both ports
        (0x64, 0x20),               // re-read after disabling (a racing key byte shows)
        (0x64, 0x60), (0x60, 0x30), // IRQs and XLATE off, ports still off
        (0x64, 0xAA),               // controller self-test
        (0x64, 0x60), (0x60, 0x30), // configuration again (self-test may reset it)
        (0x64, 0xAB),               // keyboard port test
        (0x64, 0x60), (0x60, 0x20), // keyboard clock on
        (0x64, 0xAE),               // enable the keyboard port
        (0x60, 0xFF),               // reset, BAT
        (0x60, 0xF0), (0x60, 0x02), // set 2 (translated to set 1 by the controller)
        (0x60, 0xF0), (0x60, 0x00), // verify the set
        (0x60, 0xF2),               // identify
        (0x60, 0xF4),               // enable scanning
        (0x64, 0x60), (0x60, 0x61), // XLATE and IRQ 1 on
    ];
    assert_eq!(writes, expected);
}

#[test]
fn every_keyboard_command_after_init() {
    let mut r = rig(Model::new(IRQ1));
    r.kbd.init(InitOptions::translated()).unwrap();
    let edges = r.sim.lines().rising_edges(IRQ1);
    let k = &mut r.kbd;

    k.set_leds(LedState::CAPS_LOCK | LedState::SCROLL_LOCK)
        .unwrap();
    assert_eq!(r.model.with(|m| m.leds()), 0x05);
    let t = Typematic {
        rate: RepeatRate::nearest_decihertz(200),
        delay: RepeatDelay::Ms1000,
    };
    k.set_typematic(t).unwrap();
    assert_eq!(r.model.with(|m| m.typematic()), t.to_byte());
    // With translation on, the answer is 0x41 and is mapped back to set 2.
    assert_eq!(k.scancode_set().unwrap(), ScancodeSet::Set2);
    assert_eq!(k.identify().unwrap(), KeyboardId::from_bytes(&[0xAB, 0x41]));
    assert!(k.identify().unwrap().is_translated());
    k.echo().unwrap();
    k.disable_scanning().unwrap();
    assert!(!r.model.with(|m| m.scanning()));
    r.model.tap_set2(&[0x1C]);
    assert_eq!(read_all(k), []);
    k.enable_scanning().unwrap();
    assert!(r.model.with(|m| m.scanning()));
    k.set_defaults().unwrap();
    assert_eq!(r.model.with(|m| m.typematic()), 0x2B);
    k.reset().unwrap();
    assert_eq!(r.model.with(|m| m.keyboard_resets()), 2);
    // Config bit 0 was masked during each command and is back on.
    assert_eq!(r.model.with(|m| m.config()) & 0x01, 0x01);
    assert_eq!(
        r.sim.lines().rising_edges(IRQ1),
        edges,
        "IRQ 1 masked while polling"
    );
    assert!(k.stray_bytes().as_slice().is_empty());
}

#[test]
fn shutdown_restores_the_firmware_config() {
    let mut r = rig(Model::new(IRQ1).with_config(0x47));
    let report = r.kbd.init(InitOptions::raw(ScancodeSet::Set2)).unwrap();
    assert_eq!(report.saved_config.bits(), 0x47);
    assert_eq!(r.model.with(|m| m.config()), 0x25); // the system flag is kept
    assert_eq!(
        r.kbd.shutdown().unwrap(),
        Some(Config::from_bits_retain(0x47))
    );
    assert_eq!(r.model.with(|m| m.config()), 0x47);
    assert!(r.kbd.translation());

    let mut fresh = rig(Model::new(IRQ1));
    assert_eq!(
        fresh.kbd.shutdown().unwrap(),
        None,
        "nothing saved before init"
    );
}

/// Every fault ends in its typed error, in bounded virtual time.
#[test]
fn faults_give_typed_errors_in_bounded_time() {
    let cases: Vec<(&str, Faults, Error)> = vec![
        (
            "absent",
            Faults {
                absent: true,
                ..Faults::default()
            },
            Error::NoController,
        ),
        (
            "stuck IBF",
            Faults {
                stuck_input_full: true,
                ..Faults::default()
            },
            Error::NoController,
        ),
        (
            "stuck OBF",
            Faults {
                stuck_output_full: true,
                ..Faults::default()
            },
            Error::NoController,
        ),
        (
            "self-test",
            Faults {
                self_test_answer: Some(0xFC),
                ..Faults::default()
            },
            Error::SelfTestFailed { got: 0xFC },
        ),
        (
            "port test",
            Faults {
                port_test_answer: Some(0x03),
                ..Faults::default()
            },
            Error::PortTestFailed { code: 0x03 },
        ),
        (
            "no keyboard",
            Faults {
                no_keyboard: true,
                ..Faults::default()
            },
            Error::NoKeyboard,
        ),
        (
            "BAT failure",
            Faults {
                bat_answer: Some(0xFC),
                ..Faults::default()
            },
            Error::BatFailed { code: 0xFC },
        ),
        (
            "resends",
            Faults {
                resend_next: 3,
                ..Faults::default()
            },
            Error::ResendExhausted {
                command: 0xFF,
                byte: 0xFF,
                tries: 3,
            },
        ),
        (
            "silent after ACK",
            Faults {
                silent_after_ack: true,
                ..Faults::default()
            },
            Error::Timeout {
                waiting_for: WaitingFor::Bat,
                command: 0xFF,
            },
        ),
    ];
    for (name, faults, expected) in cases {
        let mut r = rig(Model::new(IRQ1).with_faults(faults));
        assert_eq!(
            r.kbd.init(InitOptions::translated()),
            Err(expected),
            "{name}"
        );
        // The longest wait is the 4 s BAT; a few buffer waits of 0.5 s at most besides.
        assert!(
            r.sim.now().as_micros() < 6_000_000,
            "{name}: took {:?}",
            r.sim.now()
        );
    }
}

#[test]
fn nothing_on_the_bus_is_no_controller() {
    let sim = Sim::new();
    let mut kbd = I8042::new(sim.bus(), sim.clock());
    assert_eq!(
        kbd.init(InitOptions::translated()),
        Err(Error::NoController)
    );
    assert!(sim.now().as_micros() < 10_000);
}

#[test]
fn resend_is_retried_and_answer_timeouts_are_typed() {
    let mut r = rig(Model::new(IRQ1));
    r.kbd.init(InitOptions::translated()).unwrap();
    r.model.bus().clear_log();
    r.model.set_faults(Faults {
        resend_next: 2,
        ..Faults::default()
    });
    r.kbd.set_leds(LedState::NUM_LOCK).unwrap();
    assert_eq!(
        r.model
            .with(|m| m.keyboard_received().to_vec())
            .split_last_chunk::<4>()
            .unwrap()
            .1,
        &[0xED, 0xED, 0xED, 0x02]
    );
    r.model.set_faults(Faults {
        silent_after_ack: true,
        ..Faults::default()
    });
    let before = r.sim.now();
    assert_eq!(
        r.kbd.scancode_set(),
        Err(Error::Timeout {
            waiting_for: WaitingFor::ScancodeSetAnswer,
            command: 0xF0
        })
    );
    let waited = r.sim.now() - before;
    assert!(waited >= Duration::from_millis(500) && waited < Duration::from_millis(600));
    // An AT keyboard that sends no identity bytes is not an error.
    assert_eq!(r.kbd.identify(), Ok(KeyboardId::NONE));
    r.model.set_faults(Faults {
        no_keyboard: true,
        ..Faults::default()
    });
    assert_eq!(
        r.kbd.echo(),
        Err(Error::Timeout {
            waiting_for: WaitingFor::Echo,
            command: 0xEE
        })
    );
}

#[test]
fn slow_bat_is_waited_for_and_stray_bytes_are_kept() {
    let mut model = Model::new(IRQ1);
    model.bat_delay = Duration::from_millis(700);
    let mut r = rig(model);
    r.kbd.init(InitOptions::translated()).unwrap();
    assert!(r.sim.now().as_micros() >= 700_000);
    // Bytes that arrive while a command waits for its ACK are not lost.
    r.model.with(|m| m.bat_delay = Duration::ZERO);
    r.model.tap_set2(&[0x1C]);
    r.kbd.set_leds(LedState::empty()).unwrap();
    assert_eq!(r.kbd.stray_bytes().as_slice(), &[0x1E, 0x9E]);
}

#[test]
fn garbage_bytes_before_init_are_flushed() {
    let r = rig(Model::new(IRQ1));
    r.model.keyboard_sends(&[0x12, 0x34, 0x56]);
    let Rig { mut kbd, .. } = r;
    let report = kbd.init(InitOptions::translated()).unwrap();
    assert_eq!(report.flushed, 3);
}

/// The exact port accesses of one LED command that meets one RESEND.
#[test]
fn scripted_led_command_with_resend() {
    use irqkit_hal_mock::ScriptedPorts;
    struct NoDelay;
    impl irqkit_hal::DelayNs for NoDelay {
        fn delay_ns(&mut self, _: u32) {}
    }
    let mut ports = ScriptedPorts::new([
        Access::read8(0x64, 0x1C), // nothing stale to set aside
        Access::read8(0x64, 0x1C), // IBF clear
        Access::write8(0x60, 0xED),
        Access::read8(0x64, 0x1D), // OBF
        Access::read8(0x60, 0xFA),
        Access::read8(0x64, 0x1C),
        Access::write8(0x60, 0x04),
        Access::read8(0x64, 0x1D),
        Access::read8(0x60, 0xFE), // RESEND: the data byte again
        Access::read8(0x64, 0x1C),
        Access::write8(0x60, 0x04),
        Access::read8(0x64, 0x1C), // not yet
        Access::read8(0x64, 0x1D),
        Access::read8(0x60, 0xFA),
    ]);
    let mut kbd = I8042::new(&mut ports, NoDelay);
    kbd.set_leds(LedState::CAPS_LOCK).unwrap();
    let _ = kbd.release();
    ports.finish();
}

/// The interrupt-driven way: the IRQ 1 handler only queues bytes; a bottom half routes them
/// through the command engine and the scancode path.
#[test]
fn command_engine_driven_by_the_irq1_handler() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let model = Model::attach(&bus, Model::new(IRQ1)).unwrap();
    let mut kbd = I8042::new(bus.clone(), sim.clock());
    kbd.init(InitOptions::translated()).unwrap();

    let received = Arc::new(Mutex::new(Vec::new()));
    let top_half = Arc::clone(&received);
    sim.lines().on_rise(IRQ1, Trigger::Edge, move |bus| {
        // Check OBF before reading: 0x60 repeats its last byte otherwise.
        if bus.read8(0x64) & 0x01 != 0 {
            top_half.lock().unwrap().push(bus.read8(0x60));
        }
    });

    // Ticks are milliseconds here.
    let mut engine: CommandEngine = CommandEngine::new(EngineTiming::from_tick_hz(1000));
    let mut scancodes = Vec::new();
    let mut done: Vec<Completion> = Vec::new();
    let mut bottom_half = |engine: &mut CommandEngine, bus: &mut Bus| {
        let now = sim.now().as_micros() / 1000;
        let bytes: Vec<u8> = std::mem::take(&mut *received.lock().unwrap());
        for b in bytes {
            match engine.on_byte(b, now) {
                ByteOutcome::NotMine(b) => scancodes.push(b),
                ByteOutcome::Consumed(Some(c)) => done.push(c),
                ByteOutcome::Consumed(None) => {}
            }
        }
        if let Some(c) = engine.on_tick(now) {
            done.push(c);
        }
        while let Some(b) = engine.poll_send(now) {
            bus.write8(0x60, b);
        }
    };

    let leds = engine
        .submit(Command::SetLeds(LedState::CAPS_LOCK))
        .unwrap();
    let set = engine.submit(Command::GetScancodeSet).unwrap();
    let id = engine.submit(Command::Identify).unwrap();
    let typematic = Typematic::from_byte(0x1F).unwrap();
    let rate = engine.submit(Command::SetTypematic(typematic)).unwrap();
    let mut step = 0;
    while !engine.is_idle() {
        bottom_half(&mut engine, &mut bus);
        // Keys typed while commands are in flight.
        if step < 3 {
            model.tap_set2(&[0x1C]);
        }
        sim.clock().advance(Duration::from_millis(1));
        step += 1;
        assert!(step < 100, "engine never finished");
    }
    model.tap_set2(&[0x1C]);
    bottom_half(&mut engine, &mut bus);

    let results: Vec<_> = done.iter().map(|c| (c.id, c.result)).collect();
    assert_eq!(
        results,
        [
            (leds, Ok(Reply::Ack)),
            (set, Ok(Reply::ScancodeSet(ScancodeSet::Set2))),
            (
                id,
                Ok(Reply::Identity(KeyboardId::from_bytes(&[0xAB, 0x41])))
            ),
            (rate, Ok(Reply::Ack)),
        ]
    );
    assert_eq!(scancodes, [0x1E, 0x9E].repeat(4));
    assert_eq!(model.with(|m| (m.leds(), m.typematic())), (0x04, 0x1F));
    assert!(sim.lines().handler_runs(IRQ1) >= 4 * 2 + 8);
}

#[test]
fn engine_reset_consumes_the_bat_that_looks_like_left_shift_break() {
    let sim = Sim::new();
    let mut bus = sim.bus();
    let _model = Model::attach(&bus, Model::new(IRQ1)).unwrap();
    let mut kbd = I8042::new(bus.clone(), sim.clock());
    kbd.init(InitOptions {
        enable_irq: false,
        ..InitOptions::translated()
    })
    .unwrap();
    let mut engine: CommandEngine<2> = CommandEngine::new(EngineTiming::from_tick_hz(1000));
    engine.submit(Command::Reset).unwrap();
    bus.write8(0x60, engine.poll_send(0).unwrap());
    let mut outcomes = Vec::new();
    kbd.drain(|b| outcomes.push(engine.on_byte(b, 0))).unwrap();
    assert!(matches!(
        outcomes.as_slice(),
        [
            ByteOutcome::Consumed(None),
            ByteOutcome::Consumed(Some(Completion {
                result: Ok(Reply::BatPassed),
                ..
            }))
        ]
    ));
}

mod random_faults {
    use super::*;
    use proptest::prelude::*;

    fn faults() -> impl Strategy<Value = Faults> {
        (
            0u32..5,
            any::<bool>(),
            prop::option::of(prop_oneof![Just(0xFCu8), Just(0xFD)]),
            prop::option::weighted(0.1, any::<u8>()),
            prop::option::weighted(0.1, any::<u8>()),
            prop::bool::weighted(0.1),
        )
            .prop_map(
                |(resend_next, silent_after_ack, bat_answer, self_test, port_test, no_keyboard)| {
                    Faults {
                        resend_next,
                        silent_after_ack,
                        bat_answer,
                        self_test_answer: self_test,
                        port_test_answer: port_test,
                        no_keyboard,
                        ..Faults::default()
                    }
                },
            )
    }

    fn command() -> impl Strategy<Value = Command> {
        prop_oneof![
            any::<u8>().prop_map(|b| Command::SetLeds(LedState::from_bits_truncate(b))),
            Just(Command::Echo),
            Just(Command::GetScancodeSet),
            Just(Command::SetScancodeSet(ScancodeSet::Set2)),
            Just(Command::Identify),
            (0u8..0x80).prop_map(|b| Command::SetTypematic(Typematic::from_byte(b).unwrap())),
            Just(Command::EnableScanning),
            Just(Command::DisableScanning),
            Just(Command::SetDefaults),
            Just(Command::Reset),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever the faults, init and every command end (Ok or a typed error) within
        /// bounded virtual time, and a fault-free keyboard afterwards works again.
        #[test]
        fn faults_never_hang(
            init_faults in faults(),
            later in proptest::collection::vec((faults(), command(), any::<u8>()), 1..6),
        ) {
            let r = rig(Model::new(IRQ1).with_faults(init_faults.clone()));
            // Coarser polling than the default keeps the many timeouts cheap to simulate.
            let Rig { sim, model, kbd } = r;
            let (bus, clock) = kbd.release();
            let timing = Timing { poll_interval_us: 1_000, ..Timing::default() };
            let mut r = Rig { sim, model, kbd: I8042::with_timing(bus, clock, timing) };
            let start = r.sim.now();
            let init = r.kbd.init(InitOptions::translated());
            prop_assert!(r.sim.now() - start < Duration::from_secs(6));
            if init_faults == Faults::default() {
                prop_assert!(init.is_ok());
            }
            for (faults, cmd, garbage) in later {
                r.model.set_faults(faults);
                r.model.keyboard_sends(&[garbage]);
                let start = r.sim.now();
                let _ = r.kbd.command(cmd);
                prop_assert!(r.sim.now() - start < Duration::from_secs(6));
            }
            r.model.set_faults(Faults::default());
            prop_assert!(r.kbd.drain(drop).is_ok());
            prop_assert_eq!(r.kbd.command(Command::Echo), Ok(Reply::Echo));
        }
    }
}

#[test]
fn a_controller_reporting_the_missing_keyboard_fails_fast() {
    let mut r = rig(Model::new(IRQ1).with_faults(Faults {
        no_keyboard: true,
        report_missing_keyboard: true,
        ..Faults::default()
    }));
    assert_eq!(
        r.kbd.init(InitOptions::translated()),
        Err(Error::NoKeyboard)
    );
    assert!(r.sim.now().as_micros() < 10_000, "took {}", r.sim.now());
}

#[test]
fn a_parity_error_fails_the_command() {
    let mut r = rig(Model::new(IRQ1));
    r.kbd.init(InitOptions::translated()).unwrap();
    r.model.set_faults(Faults {
        parity_error_next: 1,
        ..Faults::default()
    });
    assert_eq!(
        r.kbd.set_leds(LedState::CAPS_LOCK),
        Err(Error::ParityError {
            command: 0xED,
            byte: 0xFA
        })
    );
    // A QEMU-like keyboard still waits for the LED byte: it takes the next ED as that byte
    // and refuses the 04 that follows as a command; after that it is in step again.
    assert_eq!(
        r.kbd.set_leds(LedState::CAPS_LOCK),
        Err(Error::ResendExhausted {
            command: 0xED,
            byte: 0x04,
            tries: 3
        })
    );
    r.kbd.echo().unwrap();
    r.kbd.set_leds(LedState::CAPS_LOCK).unwrap();
    assert_eq!(r.model.with(|m| m.leds()), 0x04);
}

#[test]
fn init_without_keyboard_reset() {
    let mut r = rig(Model::new(IRQ1));
    let options = InitOptions {
        reset_keyboard: false,
        ..InitOptions::raw(ScancodeSet::Set2)
    };
    r.kbd.init(options).unwrap();
    assert_eq!(r.model.with(|m| m.keyboard_resets()), 0);
    let mut r = rig(Model::new(IRQ1).with_faults(Faults {
        no_keyboard: true,
        ..Faults::default()
    }));
    assert_eq!(r.kbd.init(options), Err(Error::NoKeyboard));
}

/// Regression: a stale RESEND waiting in the output buffer was taken for the answer to the
/// next command, which then ran one send ahead of the keyboard and left it out of step.
#[test]
fn a_stale_resend_is_not_taken_for_the_next_answer() {
    let mut r = rig(Model::new(IRQ1));
    r.kbd.init(InitOptions::translated()).unwrap();
    r.model.keyboard_sends(&[0xFE, 0x00]);
    r.model.set_faults(Faults {
        resend_next: 2,
        ..Faults::default()
    });
    r.kbd.set_leds(LedState::NUM_LOCK).unwrap();
    assert_eq!(r.kbd.stray_bytes().as_slice(), &[0xFE, 0xFF]); // 00 reads 0xFF translated
    r.kbd.echo().unwrap();
    assert_eq!(r.model.with(|m| m.leds()), 0x02);
}
