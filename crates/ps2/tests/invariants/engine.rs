//! Command engine properties, shared by the property tests (`tests/engine_invariants.rs`) and
//! the fuzz target `fuzz/fuzz_targets/command_engine.rs` so that whatever the fuzzer checks,
//! `cargo test` checks too. Each function panics when its property fails.

use irqkit_ps2::controller::{
    ByteOutcome, Command, CommandEngine, Completion, EngineTiming, LedState, QueueFull, Typematic,
};
use irqkit_ps2::ScancodeSet;

const CAPACITY: usize = 4;

const TIMING: EngineTiming = EngineTiming {
    ack_timeout: 8,
    reply_timeout: 16,
    bat_timeout: 64,
    max_tries: 3,
};

/// The most bytes one command consumes: an ACK or RESEND for each send of its two wire
/// bytes, then up to two identity bytes (documented on `CommandEngine`).
const CONSUMED_BOUND: u32 = 2 * TIMING.max_tries as u32 + 2;

fn command(selector: u8, data: u8) -> Command {
    match selector % 10 {
        0 => Command::SetLeds(LedState::from_bits_truncate(data)),
        1 => Command::Echo,
        2 => Command::GetScancodeSet,
        3 => Command::SetScancodeSet(ScancodeSet::ALL[usize::from(data % 3)]),
        4 => Command::Identify,
        5 => Command::SetTypematic(Typematic::from_byte(data & 0x7F).unwrap_or_default()),
        6 => Command::EnableScanning,
        7 => Command::DisableScanning,
        8 => Command::SetDefaults,
        _ => Command::Reset,
    }
}

#[derive(Default)]
struct Checker {
    submitted: Vec<(u32, Command)>,
    completed: Vec<u32>,
    /// Bytes consumed by the command in flight.
    consumed: u32,
}

impl Checker {
    fn complete(&mut self, done: Completion) {
        let known = self.submitted.iter().find(|(id, _)| *id == done.id.0);
        assert_eq!(
            known.map(|(_, c)| *c),
            Some(done.command),
            "unknown completion {done:?}"
        );
        assert!(
            !self.completed.contains(&done.id.0),
            "completed twice: {done:?}"
        );
        self.completed.push(done.id.0);
        self.consumed = 0;
    }
}

/// Plays `ops` (pairs of bytes: what to do, and its argument) on an engine: submissions,
/// sends, keyboard bytes, clock ticks and expiries. Checks: no panic; at most one byte handed
/// out per answer; a full queue gives the command back; a command consumes at most
/// `2 * max_tries + 2` bytes; and once the keyboard falls silent, every submitted command
/// completes exactly once (with a reply or a typed error) within bounded steps.
pub fn check_engine(ops: &[u8]) {
    let mut engine: CommandEngine<CAPACITY> = CommandEngine::new(TIMING);
    let mut check = Checker::default();
    let mut now = 0u64;
    for op in ops.chunks_exact(2) {
        let (kind, arg) = (op[0], op[1]);
        match kind % 5 {
            0 => {
                let cmd = command(kind / 5, arg);
                match engine.submit(cmd) {
                    Ok(id) => check.submitted.push((id.0, cmd)),
                    Err(QueueFull(back)) => {
                        assert_eq!(back, cmd);
                        let in_flight = usize::from(engine.in_flight().is_some());
                        assert_eq!(engine.pending(), CAPACITY + in_flight);
                    }
                }
            }
            1 => {
                if engine.poll_send(now).is_some() {
                    // One byte per step: nothing more until an answer or a timeout.
                    assert_eq!(engine.poll_send(now), None);
                    assert!(engine.deadline().is_some());
                    assert!(engine.waiting_for().is_some());
                }
            }
            2 => match engine.on_byte(arg, now) {
                ByteOutcome::Consumed(done) => {
                    check.consumed += 1;
                    assert!(
                        check.consumed <= CONSUMED_BOUND,
                        "{:?} consumed {} bytes",
                        engine.in_flight(),
                        check.consumed
                    );
                    match done {
                        Some(done) => check.complete(done),
                        None => assert!(engine.in_flight().is_some()),
                    }
                }
                ByteOutcome::NotMine(b) => assert_eq!(b, arg),
            },
            3 => {
                now += u64::from(arg);
                if let Some(done) = engine.on_tick(now) {
                    check.complete(done);
                }
            }
            _ => {
                // The controller reported a keyboard timeout.
                let waiting = engine.deadline().is_some();
                match engine.expire() {
                    Some(done) => check.complete(done),
                    None => assert!(!waiting),
                }
            }
        }
        assert!(engine.pending() <= CAPACITY + 1);
    }
    // The keyboard falls silent: every command must still finish, in bounded steps
    // (each of the at most CAPACITY + 1 commands needs at most 2 bytes x 3 tries).
    for _ in 0..(CAPACITY + 1) * 8 {
        if engine.is_idle() {
            break;
        }
        let _ = engine.poll_send(now);
        now += 1_000;
        if let Some(done) = engine.on_tick(now) {
            check.complete(done);
        }
    }
    assert!(engine.is_idle());
    let mut submitted: Vec<u32> = check.submitted.iter().map(|(id, _)| *id).collect();
    submitted.sort_unstable();
    check.completed.sort_unstable();
    assert_eq!(check.completed, submitted);
}
