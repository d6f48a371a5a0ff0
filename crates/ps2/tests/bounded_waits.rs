//! Every wait of the i8042 driver and of the command engine ends, in bounded virtual time and
//! after a bounded number of bytes read, against controllers that never stop answering: a
//! status register stuck at 0x21 (OBF + AUX), at 0xFD, or at 0x01 with a key byte always
//! waiting, and garbage forever.
//!
//! The bus runs with a spin limit: a driver that polls without letting time pass makes
//! hal-mock panic instead of hanging the test.

#[path = "invariants/driver.rs"]
mod invariants;

use std::time::Duration;

use invariants::{command_time_bound, operations, rig, run_bounded, Kbd, SPIN_LIMIT};
use irqkit_hal_mock::i8042::I8042 as Model;
use irqkit_hal_mock::{
    Device, DeviceAddr, DeviceCtx, DeviceHandle, Fault, Faulty, Line, Match, Sim, Width,
};
use irqkit_ps2::controller::{
    ByteOutcome, Command, CommandEngine, EngineTiming, Error, InitOptions, LedState, Reply, Timing,
    Typematic, WaitingFor, I8042,
};
use irqkit_ps2::ScancodeSet;
use proptest::prelude::*;

const IRQ1: Line = Line(1);

/// Runs every operation on `kbd` and checks that each returns within the bounds; `data_reads`
/// counts the reads of port 0x60 so far. Returns the results by name.
fn run_all_bounded(
    sim: &Sim,
    kbd: &mut Kbd,
    data_reads: impl Fn() -> u64,
) -> Vec<(&'static str, Result<(), Error>)> {
    let timing = Timing::default();
    operations()
        .into_iter()
        .map(|op| (op.0, run_bounded(sim, kbd, &timing, op, &data_reads)))
        .collect()
}

// ---- stuck status on hal-mock's i8042 model, through Faulty --------------------------------

struct FaultyRig {
    sim: Sim,
    model: DeviceHandle<Faulty<Model>>,
    kbd: Kbd,
}

/// A healthy model behind a [`Faulty`] wrapper, initialised, with the spin limit on.
fn faulty_rig() -> FaultyRig {
    let sim = Sim::new();
    let bus = sim.bus();
    let model = bus
        .attach(
            "i8042",
            &[0x60..=0x60, 0x64..=0x64],
            Faulty::new(Model::new(IRQ1)),
        )
        .unwrap();
    bus.set_spin_limit(Some(SPIN_LIMIT));
    let mut kbd = I8042::new(bus, sim.clock());
    kbd.init(InitOptions::translated()).unwrap();
    FaultyRig { sim, model, kbd }
}

/// From now on every read of the status register (port 0x64) returns `status`.
fn stick_status(model: &DeviceHandle<Faulty<Model>>, status: u8) {
    model.with(|f| {
        let inner = std::mem::replace(f, Faulty::new(Model::new(IRQ1))).into_inner();
        *f = Faulty::new(inner).from_nth(Match::reads().at(1, 0), 0, Fault::Replace(status.into()));
    });
}

/// The keyboard behind the model sends `bytes`.
fn keyboard_sends(model: &DeviceHandle<Faulty<Model>>, bytes: &[u8]) {
    model.with_ctx(|f, ctx| f.inner_mut().keyboard_sends(bytes, ctx));
}

fn model_data_reads(model: &DeviceHandle<Faulty<Model>>) -> u64 {
    model
        .bus()
        .log()
        .iter()
        .filter(|e| e.access.is_read() && e.access.port() == 0x60)
        .count() as u64
}

/// Regression: with the status stuck at 0x21, 0xFD, or 0x01 with a key byte always waiting,
/// `echo()` looped forever without time passing (AUX bytes and bytes that were not the
/// answer were skipped without advancing time).
#[test]
fn echo_with_a_stuck_status_ends_with_a_typed_error() {
    for status in [0x21u8, 0xFD, 0x01] {
        let mut r = faulty_rig();
        keyboard_sends(&r.model, &[0x1C]);
        stick_status(&r.model, status);
        let start = r.sim.now();
        let result = r.kbd.echo();
        assert!(
            matches!(
                result,
                Err(Error::TooManyBytes {
                    waiting_for: WaitingFor::OutputBufferEmpty,
                    command: 0xEE,
                    ..
                })
            ),
            "status {status:#04x}: {result:?}"
        );
        assert!(r.sim.now() - start < Duration::from_secs(1));
    }
}

/// Every public operation, with each stuck status from its first access on.
#[test]
fn every_operation_ends_with_a_stuck_status() {
    for status in [0x21u8, 0xFD, 0x01] {
        let mut r = faulty_rig();
        keyboard_sends(&r.model, &[0x1C]);
        stick_status(&r.model, status);
        let model = r.model.clone();
        let results = run_all_bounded(&r.sim, &mut r.kbd, || model_data_reads(&model));
        for (name, result) in results {
            match name {
                "init" | "init raw set 3" => {
                    assert_eq!(result, Err(Error::NoController), "{status:#04x} {name}")
                }
                "drain" => assert!(
                    matches!(result, Err(Error::OutputStuck { read: 32 })),
                    "{status:#04x} {name}: {result:?}"
                ),
                "without_irq" | "command" | "set_leds" | "scancode_set" | "set_scancode_set"
                | "identify" | "set_typematic" | "enable_scanning" | "disable_scanning"
                | "set_defaults" | "echo" | "reset" => assert!(
                    matches!(result, Err(Error::TooManyBytes { .. })),
                    "{status:#04x} {name}: {result:?}"
                ),
                _ => {}
            }
        }
    }
}

/// The drain loop of a polled keyboard ends even with OBF stuck, and reads the keyboard's
/// bytes when nothing is stuck.
#[test]
fn drain_is_bounded() {
    let mut r = faulty_rig();
    r.model.with_ctx(|f, ctx| {
        f.inner_mut().key_down_set2(&[0x1C], ctx);
        f.inner_mut().key_up_set2(&[0x1C], ctx);
    });
    let mut got = Vec::new();
    assert_eq!(r.kbd.drain(|b| got.push(b)), Ok(2));
    assert_eq!(got, [0x1E, 0x9E]);
    assert_eq!(r.kbd.drain(|b| got.push(b)), Ok(0));

    keyboard_sends(&r.model, &[0x1C]);
    stick_status(&r.model, 0x01);
    let mut got = Vec::new();
    assert_eq!(
        r.kbd.drain(|b| got.push(b)),
        Err(Error::OutputStuck { read: 32 })
    );
    assert_eq!(got.len(), 32, "the bytes read are handed out, not lost");
    // AUX bytes are read (and counted) but not handed out.
    stick_status(&r.model, 0x21);
    let mut got = Vec::new();
    assert_eq!(
        r.kbd.drain(|b| got.push(b)),
        Err(Error::OutputStuck { read: 32 })
    );
    assert!(got.is_empty());
}

// ---- a controller that goes stuck once a keyboard byte was sent ---------------------------

/// Where a [`Babbler`] read comes from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Fixed(u8),
    /// xorshift64 state: garbage forever.
    Garbage(u64),
}

impl Source {
    fn next(&mut self) -> u8 {
        match self {
            Source::Fixed(b) => *b,
            Source::Garbage(state) => {
                *state ^= *state << 13;
                *state ^= *state >> 7;
                *state ^= *state << 17;
                (*state >> 32) as u8
            }
        }
    }
}

/// A controller that behaves as an idle, healthy one (status 0x1C: nothing to read, input
/// buffer empty) until `quiet_data_writes` bytes were written to port 0x60, then answers
/// every read from its sources, forever. Writes change nothing else.
#[derive(Debug)]
struct Babbler {
    status: Source,
    data: Source,
    quiet_data_writes: u32,
    data_reads: u64,
}

impl Device for Babbler {
    fn read(&mut self, at: DeviceAddr, _: Width, _: &mut DeviceCtx<'_>) -> u32 {
        let data = at.range == 0;
        if data {
            self.data_reads += 1;
        }
        if self.quiet_data_writes > 0 {
            return if data { 0 } else { 0x1C };
        }
        u32::from(if data {
            self.data.next()
        } else {
            self.status.next()
        })
    }

    fn write(&mut self, at: DeviceAddr, _: Width, _: u32, _: &mut DeviceCtx<'_>) {
        if at.range == 0 {
            self.quiet_data_writes = self.quiet_data_writes.saturating_sub(1);
        }
    }
}

fn babbler_rig(babbler: Babbler) -> (Sim, DeviceHandle<Babbler>, Kbd) {
    rig(babbler, Timing::default())
}

/// The keyboard commands, each with what it first waits for after its first byte.
fn keyboard_commands() -> Vec<(Command, WaitingFor)> {
    vec![
        (Command::SetLeds(LedState::NUM_LOCK), WaitingFor::Ack),
        (Command::Echo, WaitingFor::Echo),
        (Command::GetScancodeSet, WaitingFor::Ack),
        (Command::SetScancodeSet(ScancodeSet::Set1), WaitingFor::Ack),
        (Command::Identify, WaitingFor::Ack),
        (Command::SetTypematic(Typematic::default()), WaitingFor::Ack),
        (Command::EnableScanning, WaitingFor::Ack),
        (Command::DisableScanning, WaitingFor::Ack),
        (Command::SetDefaults, WaitingFor::Ack),
        (Command::Reset, WaitingFor::Ack),
    ]
}

/// Regression: the status goes stuck right after the command byte is written, so the wait
/// for the answer meets the stuck status (not the set-aside of stale bytes before it).
#[test]
fn every_command_ends_when_the_status_sticks_after_the_command_byte() {
    let timing = Timing::default();
    for (status, data) in [(0x21u8, 0xFA), (0xFD, 0xFA), (0x01, 0x1C)] {
        for (command, waiting_for) in keyboard_commands() {
            let (sim, handle, mut kbd) = babbler_rig(Babbler {
                status: Source::Fixed(status),
                data: Source::Fixed(data),
                quiet_data_writes: 1,
                data_reads: 0,
            });
            let result = kbd.command(command);
            let read = handle.with(|b| b.data_reads);
            assert_eq!(
                result,
                Err(Error::TooManyBytes {
                    waiting_for,
                    command: command.opcode(),
                    read: timing.byte_limit + 1,
                }),
                "status {status:#04x}, {command:?}"
            );
            assert_eq!(read, u64::from(timing.byte_limit) + 1);
            assert!(sim.now().as_micros() <= command_time_bound(&timing));
        }
    }
}

/// A stuck key byte while the second byte of a command waits for its ACK.
#[test]
fn a_stuck_status_during_the_data_byte_is_bounded_too() {
    let timing = Timing::default();
    let (_sim, _handle, mut kbd) = babbler_rig(Babbler {
        status: Source::Fixed(0x01),
        data: Source::Fixed(0xFA),
        quiet_data_writes: 1,
        data_reads: 0,
    });
    // The stuck 0xFA ACKs the command byte and the data byte: a stuck ACK is a success.
    assert_eq!(kbd.set_leds(LedState::CAPS_LOCK), Ok(()));
    let (_sim, _handle, mut kbd) = babbler_rig(Babbler {
        status: Source::Fixed(0x01),
        data: Source::Fixed(0xFE),
        quiet_data_writes: 1,
        data_reads: 0,
    });
    // A stuck RESEND is bounded by the tries.
    assert_eq!(
        kbd.set_leds(LedState::CAPS_LOCK),
        Err(Error::ResendExhausted {
            command: 0xED,
            byte: 0xED,
            tries: timing.keyboard.max_tries
        })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Garbage forever (status and data bytes from a generator, or OBF always set with garbage
    /// data), from the first access or from a later keyboard byte on: every public operation
    /// returns Ok or a typed error within the time and byte bounds.
    #[test]
    fn garbage_forever_never_hangs(
        status_seed in any::<u64>(),
        data_seed in any::<u64>(),
        obf_always in any::<bool>(),
        quiet_data_writes in 0u32..4,
    ) {
        let status = if obf_always {
            Source::Fixed(0x01)
        } else {
            Source::Garbage(status_seed | 1)
        };
        let (sim, handle, mut kbd) = babbler_rig(Babbler {
            status,
            data: Source::Garbage(data_seed | 1),
            quiet_data_writes,
            data_reads: 0,
        });
        let reads = handle.clone();
        let results = run_all_bounded(&sim, &mut kbd, || reads.with(|b| b.data_reads));
        for (name, result) in results {
            if let Err(e) = result {
                // Typed, and says what it is.
                prop_assert!(!e.to_string().is_empty(), "{}", name);
            }
        }
    }
}

// ---- the command engine -------------------------------------------------------------------

const ENGINE_TIMING: EngineTiming = EngineTiming {
    ack_timeout: 10,
    reply_timeout: 20,
    bat_timeout: 100,
    max_tries: 3,
};

/// The most bytes the engine consumes for one command (an ACK or RESEND per send of each of
/// the two wire bytes, then up to two identity bytes).
const ENGINE_CONSUMED_BOUND: u64 = 2 * ENGINE_TIMING.max_tries as u64 + 2;

/// Drives one command through an engine with `next_byte` arriving every `dt` ticks, the way a
/// bottom half does. Returns the completion, the bytes consumed, and the ticks it took.
fn drive_engine(
    command: Command,
    dt: u64,
    mut next_byte: impl FnMut() -> u8,
) -> (Result<Reply, Error>, u64, u64) {
    let mut engine: CommandEngine<1> = CommandEngine::new(ENGINE_TIMING);
    engine.submit(command).unwrap();
    let (mut now, mut consumed) = (0u64, 0u64);
    // Longer than any command may take, so that a hang shows as a failed assertion.
    for _ in 0..100_000 {
        let _ = engine.poll_send(now);
        now += dt;
        match engine.on_byte(next_byte(), now) {
            ByteOutcome::Consumed(done) => {
                consumed += 1;
                if let Some(done) = done {
                    return (done.result, consumed, now);
                }
            }
            ByteOutcome::NotMine(_) => {}
        }
        if let Some(done) = engine.on_tick(now) {
            return (done.result, consumed, now);
        }
    }
    panic!("{command:?} never completed");
}

/// The longest one command may wait in the engine: a deadline per consumed byte, plus one.
fn engine_time_bound(dt: u64) -> u64 {
    let longest = ENGINE_TIMING
        .ack_timeout
        .max(ENGINE_TIMING.reply_timeout)
        .max(ENGINE_TIMING.bat_timeout);
    (ENGINE_CONSUMED_BOUND + 1) * (longest + dt)
}

/// The engine's every command ends on a stuck byte stream (0x1C, an AUX-looking 0x21, 0xFD,
/// RESEND, ACK) as long as time passes between bytes, after a bounded number of bytes
/// consumed; the stuck key bytes are handed back, not swallowed.
#[test]
fn engine_commands_end_on_stuck_bytes() {
    for byte in [0x1Cu8, 0x21, 0xFD, 0xFE, 0xFA, 0xAA, 0xEE, 0x00] {
        for (command, _) in keyboard_commands() {
            let (result, consumed, took) = drive_engine(command, 1, || byte);
            assert!(consumed <= ENGINE_CONSUMED_BOUND, "{byte:#04x} {command:?}");
            assert!(
                took <= engine_time_bound(1),
                "{byte:#04x} {command:?}: {took}"
            );
            if byte == 0x1C {
                assert!(
                    matches!(result, Err(Error::Timeout { .. })),
                    "{command:?}: {result:?}"
                );
            }
            if byte == 0xFE && command != Command::Echo {
                assert!(matches!(result, Err(Error::ResendExhausted { .. })));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Garbage forever into the engine, any command, any pace: bounded bytes consumed and
    /// bounded time.
    #[test]
    fn engine_commands_end_on_garbage(
        which in 0usize..10,
        seed in any::<u64>(),
        dt in 1u64..12,
    ) {
        let (command, _) = keyboard_commands()[which];
        let mut source = Source::Garbage(seed | 1);
        let (_, consumed, took) = drive_engine(command, dt, || source.next());
        prop_assert!(consumed <= ENGINE_CONSUMED_BOUND);
        prop_assert!(took <= engine_time_bound(dt), "{}", took);
    }
}

/// `without_irq` unmasks IRQ 1 again even when the command inside fails at a bound.
#[test]
fn irq_is_unmasked_after_a_command_fails_at_the_byte_bound() {
    let mut r = faulty_rig();
    assert!(r.model.with(|f| f.inner().config()) & 0x01 != 0);
    keyboard_sends(&r.model, &[0x1C]);
    // Stuck only for the command's own reads: the config writes still go through.
    stick_status(&r.model, 0x01);
    let result = r.kbd.echo();
    assert!(
        matches!(result, Err(Error::TooManyBytes { .. })),
        "{result:?}"
    );
    assert!(
        r.model.with(|f| f.inner().config()) & 0x01 != 0,
        "IRQ 1 back on"
    );
}

/// The fuzz target's property on a few recordings: the stuck statuses, silence, a healthy
/// answer, and an alternation of statuses and bytes.
#[test]
fn recorded_controllers_never_hang() {
    let every_operation: Vec<u8> = (0..operations().len() as u8).collect();
    for recording in [
        &[0x21u8][..],
        &[0xFD],
        &[0x01, 0x1C],
        &[0x1C],
        &[],
        &[0x1D, 0xFA],
        &[0x01, 0xFE],
        &[0x41, 0x00, 0x81, 0xAA, 0x02, 0x00],
    ] {
        invariants::check_blocking_driver(&every_operation, recording);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The fuzz target `blocking_driver`: any recording played forever, any operations.
    #[test]
    fn any_recording_never_hangs(
        choices in prop::collection::vec(any::<u8>(), 1..8),
        recording in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        invariants::check_blocking_driver(&choices, &recording);
    }
}
