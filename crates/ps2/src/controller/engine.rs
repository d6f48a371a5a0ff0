//! The non-blocking keyboard command engine (see [`CommandEngine`]).

use super::command::{Command, Reply};
use super::error::{Error, WaitingFor};
use super::settings::KeyboardId;
use super::spec::{response, set_from_answer};
use crate::ScancodeSet;

/// Timeouts and retry limit of the engine, in the caller's tick unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct EngineTiming {
    /// How long to wait for the ACK (or echo) of each byte sent.
    pub ack_timeout: u64,
    /// How long to wait for an answer byte after the ACK (scancode set, identity bytes).
    pub reply_timeout: u64,
    /// How long to wait for the self-test result after a reset was ACKed.
    pub bat_timeout: u64,
    /// How many times one byte is sent before a stream of RESENDs becomes an error (at least 1).
    pub max_tries: u8,
}

impl EngineTiming {
    /// Linux's limits (ACK 200 ms, answer 500 ms, self-test 4 s, 3 tries) for a tick of
    /// `tick_hz` per second. Each timeout is rounded up and gets one extra tick, so a tick
    /// arriving right after a send never expires a wait early.
    pub const fn from_tick_hz(tick_hz: u32) -> Self {
        const fn ticks(ms: u64, hz: u32) -> u64 {
            (ms * hz as u64).div_ceil(1000) + 1
        }
        EngineTiming {
            ack_timeout: ticks(200, tick_hz),
            reply_timeout: ticks(500, tick_hz),
            bat_timeout: ticks(4000, tick_hz),
            max_tries: 3,
        }
    }
}

/// Identifies one submitted command (ids count up from 0 and wrap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct CommandId(pub u32);

/// A command that finished, successfully or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Completion {
    /// The id [`CommandEngine::submit`] returned.
    pub id: CommandId,
    /// The command.
    pub command: Command,
    /// Its answer, or what went wrong.
    pub result: Result<Reply, Error>,
}

/// What [`CommandEngine::on_byte`] did with a byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ByteOutcome {
    /// The byte belonged to the command in flight; the command may have completed.
    Consumed(Option<Completion>),
    /// Not a command answer: give it to the scancode decoder.
    NotMine(u8),
}

/// [`CommandEngine::submit`] refused a command because the queue is full; the command is
/// given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct QueueFull(pub Command);

impl core::fmt::Display for QueueFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "keyboard command queue full, {:?} refused", self.0)
    }
}

impl core::error::Error for QueueFull {}

/// Where the command in flight is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Byte `InFlight::index` is next to be written.
    ReadyToSend,
    /// Written; waiting for its ACK.
    AwaitAck,
    /// Echo written; waiting for `EE`.
    AwaitEcho,
    /// Reset ACKed; waiting for the self-test result.
    AwaitBat,
    /// `F0 00` ACKed; waiting for the set number.
    AwaitSetAnswer,
    /// Identify ACKed; collecting identity bytes.
    AwaitId,
}

#[derive(Debug, Clone, Copy)]
struct InFlight {
    id: CommandId,
    command: Command,
    /// Which wire byte is being sent or acknowledged (0 = command, 1 = data).
    index: u8,
    /// How many times that byte has been written.
    tries: u8,
    phase: Phase,
    /// When the current wait expires (meaningless in `ReadyToSend`).
    deadline: u64,
    /// Identity bytes received so far.
    id_bytes: [u8; 2],
    id_len: u8,
}

/// A non-blocking keyboard command engine, queueing up to `N` commands (default 8) besides
/// the one in flight: a pure state machine that an interrupt-driven kernel drives byte by
/// byte from its bottom half.
///
/// The engine does no I/O. The kernel
///
/// 1. [`submit`](CommandEngine::submit)s commands (they queue, oldest first);
/// 2. writes to port 0x60 every byte [`poll_send`](CommandEngine::poll_send) hands out;
/// 3. gives every byte read from port 0x60 to [`on_byte`](CommandEngine::on_byte), which either
///    consumes it (an ACK, RESEND or answer of the command in flight) or hands it back as
///    [`ByteOutcome::NotMine`] for the scancode decoder;
/// 4. calls [`on_tick`](CommandEngine::on_tick) from time to time so that missing answers
///    become typed timeouts.
///
/// If the interrupt handler sees the status timeout bit (0x40: the controller could not
/// reach the keyboard), call [`expire`](CommandEngine::expire); drop bytes that come with the
/// parity-error bit (0x80).
///
/// Every submitted command completes exactly once, with its [`Reply`] or a typed [`Error`].
/// Time is counted in the caller's ticks (timer interrupts, microseconds, ...): choose the
/// [`EngineTiming`] in the same unit.
///
/// # Bounds
///
/// Every wait has a deadline, so with time passing every command completes whatever the
/// keyboard sends. A command consumes at most `2 * max_tries + 2` bytes (an ACK or RESEND for
/// each send of its two wire bytes, then up to two identity bytes), and each consumed byte
/// starts at most one new wait: a command takes at most that many plus one of the longest
/// timeout. Bytes that are not answers are handed back ([`ByteOutcome::NotMine`]) and never
/// extend a wait; a caller that reads port 0x60 in a loop must bound that loop itself (a
/// status register stuck with OBF set delivers a byte on every read).
///
/// # Examples
///
/// ```
/// use irqkit_ps2::controller::{
///     ByteOutcome, Command, CommandEngine, EngineTiming, LedState, Reply,
/// };
///
/// let mut engine: CommandEngine = CommandEngine::new(EngineTiming::from_tick_hz(1000));
/// let id = engine.submit(Command::SetLeds(LedState::CAPS_LOCK)).unwrap();
///
/// // Bottom half: write what the engine wants written...
/// assert_eq!(engine.poll_send(0), Some(0xED));
/// // ...a scancode that was already on its way is not the engine's business...
/// assert_eq!(engine.on_byte(0x1C, 1), ByteOutcome::NotMine(0x1C));
/// // ...the ACK is, and the data byte follows it.
/// assert_eq!(engine.on_byte(0xFA, 2), ByteOutcome::Consumed(None));
/// assert_eq!(engine.poll_send(2), Some(0x04));
/// let ByteOutcome::Consumed(Some(done)) = engine.on_byte(0xFA, 3) else { panic!() };
/// assert_eq!((done.id, done.result), (id, Ok(Reply::Ack)));
/// assert!(engine.is_idle());
/// ```
#[derive(Debug, Clone)]
pub struct CommandEngine<const N: usize = 8> {
    timing: EngineTiming,
    queue: [Option<(CommandId, Command)>; N],
    head: usize,
    len: usize,
    current: Option<InFlight>,
    next_id: u32,
}

impl<const N: usize> CommandEngine<N> {
    /// An idle engine with an empty queue.
    pub const fn new(timing: EngineTiming) -> Self {
        CommandEngine {
            timing,
            queue: [None; N],
            head: 0,
            len: 0,
            current: None,
            next_id: 0,
        }
    }

    /// The timing in use.
    pub const fn timing(&self) -> EngineTiming {
        self.timing
    }

    /// Queues `command` behind the others.
    ///
    /// # Errors
    ///
    /// [`QueueFull`] with the command when `N` commands already wait.
    pub fn submit(&mut self, command: Command) -> Result<CommandId, QueueFull> {
        if self.len == N {
            return Err(QueueFull(command));
        }
        let id = CommandId(self.next_id);
        self.next_id = self.next_id.wrapping_add(1);
        self.queue[(self.head + self.len) % N] = Some((id, command));
        self.len += 1;
        Ok(id)
    }

    /// Whether no command is queued or in flight.
    pub fn is_idle(&self) -> bool {
        self.current.is_none() && self.len == 0
    }

    /// How many commands are queued or in flight.
    pub fn pending(&self) -> usize {
        self.len + usize::from(self.current.is_some())
    }

    /// The command in flight (started by [`poll_send`](Self::poll_send)), if any.
    pub fn in_flight(&self) -> Option<(CommandId, Command)> {
        self.current.map(|c| (c.id, c.command))
    }

    /// When the current wait expires, if the engine waits for the keyboard.
    pub fn deadline(&self) -> Option<u64> {
        self.current
            .filter(|c| c.phase != Phase::ReadyToSend)
            .map(|c| c.deadline)
    }

    /// What the command in flight waits for, if it waits for the keyboard.
    pub fn waiting_for(&self) -> Option<WaitingFor> {
        let c = self.current.as_ref()?;
        Some(match c.phase {
            Phase::ReadyToSend => return None,
            Phase::AwaitAck => WaitingFor::Ack,
            Phase::AwaitEcho => WaitingFor::Echo,
            Phase::AwaitBat => WaitingFor::Bat,
            Phase::AwaitSetAnswer => WaitingFor::ScancodeSetAnswer,
            Phase::AwaitId => WaitingFor::Identity,
        })
    }

    /// The byte to write to port 0x60 now, if any. Starts the next queued command when idle.
    /// Each byte is handed out once; a RESEND makes the same byte come out again.
    pub fn poll_send(&mut self, now: u64) -> Option<u8> {
        if self.current.is_none() {
            let (id, command) = self.pop()?;
            self.current = Some(InFlight {
                id,
                command,
                index: 0,
                tries: 0,
                phase: Phase::ReadyToSend,
                deadline: 0,
                id_bytes: [0; 2],
                id_len: 0,
            });
        }
        let timing = self.timing;
        let c = self.current.as_mut()?;
        if c.phase != Phase::ReadyToSend {
            return None;
        }
        let byte = c.command.wire_byte(c.index)?;
        c.tries = c.tries.saturating_add(1);
        c.phase = if c.command.is_acked() {
            Phase::AwaitAck
        } else {
            Phase::AwaitEcho
        };
        c.deadline = now.saturating_add(timing.ack_timeout);
        Some(byte)
    }

    /// Routes one byte read from port 0x60 at time `now`.
    pub fn on_byte(&mut self, byte: u8, now: u64) -> ByteOutcome {
        let timing = self.timing;
        let Some(c) = self.current.as_mut() else {
            return ByteOutcome::NotMine(byte);
        };
        let command = c.command;
        let result = match (c.phase, byte) {
            (Phase::AwaitAck, response::ACK) => {
                c.tries = 0;
                if command.wire_byte(c.index + 1).is_some() {
                    c.index += 1;
                    c.phase = Phase::ReadyToSend;
                    return ByteOutcome::Consumed(None);
                }
                let (phase, wait) = match command {
                    Command::GetScancodeSet => (Phase::AwaitSetAnswer, timing.reply_timeout),
                    Command::Identify => (Phase::AwaitId, timing.reply_timeout),
                    Command::Reset => (Phase::AwaitBat, timing.bat_timeout),
                    _ => return ByteOutcome::Consumed(Some(self.finish(Ok(Reply::Ack)))),
                };
                c.phase = phase;
                c.deadline = now.saturating_add(wait);
                return ByteOutcome::Consumed(None);
            }
            (Phase::AwaitAck | Phase::AwaitEcho, response::RESEND) => {
                if c.tries >= timing.max_tries.max(1) {
                    Err(Error::ResendExhausted {
                        command: command.opcode(),
                        byte: command.wire_byte(c.index).unwrap_or(command.opcode()),
                        tries: c.tries,
                    })
                } else {
                    c.phase = Phase::ReadyToSend;
                    return ByteOutcome::Consumed(None);
                }
            }
            // 0xFC is the keyboard's "error" answer to a command byte it refuses outright.
            (Phase::AwaitAck, response::BAT_FAILED_1) => Err(Error::UnexpectedResponse {
                command: command.opcode(),
                expected: response::ACK,
                got: byte,
            }),
            (Phase::AwaitEcho, response::ECHO) => Ok(Reply::Echo),
            (Phase::AwaitBat, response::BAT_PASSED) => Ok(Reply::BatPassed),
            (Phase::AwaitBat, response::BAT_FAILED_1 | response::BAT_FAILED_2) => {
                Err(Error::BatFailed { code: byte })
            }
            (Phase::AwaitSetAnswer, _) => match set_from_answer(byte) {
                Some(set) => Ok(Reply::ScancodeSet(set)),
                None => Err(Error::UnexpectedResponse {
                    command: command.opcode(),
                    expected: ScancodeSet::Set2.number(),
                    got: byte,
                }),
            },
            (Phase::AwaitId, _) => {
                c.id_bytes[usize::from(c.id_len)] = byte;
                c.id_len += 1;
                if c.id_len == 1 && KeyboardId::expects_second_byte(byte) {
                    c.deadline = now.saturating_add(timing.reply_timeout);
                    return ByteOutcome::Consumed(None);
                }
                Ok(Reply::Identity(KeyboardId::from_bytes(
                    &c.id_bytes[..usize::from(c.id_len)],
                )))
            }
            // Scancodes that were already on their way, or bytes while nothing was sent yet.
            _ => return ByteOutcome::NotMine(byte),
        };
        ByteOutcome::Consumed(Some(self.finish(result)))
    }

    /// Expires the wait in progress if `now` has reached its deadline.
    ///
    /// A missing identity byte is not an error (AT keyboards send none): identify then
    /// completes with the bytes received so far.
    pub fn on_tick(&mut self, now: u64) -> Option<Completion> {
        let c = self.current.as_ref()?;
        if c.phase == Phase::ReadyToSend || now < c.deadline {
            return None;
        }
        let command = c.command.opcode();
        let timeout = |waiting_for| {
            Err(Error::Timeout {
                waiting_for,
                command,
            })
        };
        let result = match c.phase {
            Phase::AwaitId => Ok(Reply::Identity(KeyboardId::from_bytes(
                &c.id_bytes[..usize::from(c.id_len)],
            ))),
            Phase::AwaitEcho => timeout(WaitingFor::Echo),
            Phase::AwaitBat => timeout(WaitingFor::Bat),
            Phase::AwaitSetAnswer => timeout(WaitingFor::ScancodeSetAnswer),
            Phase::AwaitAck | Phase::ReadyToSend => timeout(WaitingFor::Ack),
        };
        Some(self.finish(result))
    }

    /// Ends the current wait at once, as if its deadline had passed: for a kernel whose
    /// controller reported that it could not reach the keyboard (status timeout bit).
    /// Returns `None` when no answer is awaited.
    pub fn expire(&mut self) -> Option<Completion> {
        let deadline = self.deadline()?;
        self.on_tick(deadline)
    }

    /// Completes every queued and in-flight command with `error` (for example when the
    /// keyboard was found unplugged), oldest first, handing each completion to `done`.
    pub fn abort_all(&mut self, error: Error, mut done: impl FnMut(Completion)) {
        if let Some(c) = self.current.take() {
            done(Completion {
                id: c.id,
                command: c.command,
                result: Err(error),
            });
        }
        while let Some((id, command)) = self.pop() {
            done(Completion {
                id,
                command,
                result: Err(error),
            });
        }
    }

    fn pop(&mut self) -> Option<(CommandId, Command)> {
        if self.len == 0 {
            return None;
        }
        let item = self.queue[self.head].take();
        self.head = (self.head + 1) % N;
        self.len -= 1;
        item
    }

    fn finish(&mut self, result: Result<Reply, Error>) -> Completion {
        // Only called with a command in flight; an empty engine yields an inert completion
        // rather than a panic.
        let c = self.current.take();
        Completion {
            id: c.map_or(CommandId(u32::MAX), |c| c.id),
            command: c.map_or(Command::Echo, |c| c.command),
            result,
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::controller::{LedState, RepeatDelay, RepeatRate, Typematic};
    use std::vec::Vec;

    const T: EngineTiming = EngineTiming {
        ack_timeout: 10,
        reply_timeout: 20,
        bat_timeout: 100,
        max_tries: 3,
    };

    fn engine() -> CommandEngine<4> {
        CommandEngine::new(T)
    }

    /// Feeds `answers` one per byte sent and returns the wire bytes and completion.
    fn run(cmd: Command, answers: &[u8]) -> (Vec<u8>, Option<Completion>) {
        let mut e = engine();
        e.submit(cmd).unwrap();
        let mut sent = Vec::new();
        let mut done = None;
        for &a in answers {
            if let Some(b) = e.poll_send(0) {
                sent.push(b);
            }
            match e.on_byte(a, 0) {
                ByteOutcome::Consumed(Some(c)) => done = Some(c),
                ByteOutcome::Consumed(None) => {}
                ByteOutcome::NotMine(b) => panic!("{b:#x} not consumed"),
            }
        }
        (sent, done)
    }

    #[test]
    fn two_byte_command_acks_each_byte() {
        let (sent, done) = run(Command::SetLeds(LedState::NUM_LOCK), &[0xFA, 0xFA]);
        assert_eq!(sent, [0xED, 0x02]);
        assert_eq!(done.unwrap().result, Ok(Reply::Ack));
        let t = Typematic {
            rate: RepeatRate::FASTEST,
            delay: RepeatDelay::Ms250,
        };
        let (sent, _) = run(Command::SetTypematic(t), &[0xFA, 0xFA]);
        assert_eq!(sent, [0xF3, 0x00]);
    }

    #[test]
    fn resend_repeats_the_refused_byte_then_gives_up() {
        let (sent, done) = run(Command::SetLeds(LedState::all()), &[0xFA, 0xFE, 0xFA]);
        assert_eq!(sent, [0xED, 0x07, 0x07]);
        assert_eq!(done.unwrap().result, Ok(Reply::Ack));
        let (sent, done) = run(Command::EnableScanning, &[0xFE, 0xFE, 0xFE]);
        assert_eq!(sent, [0xF4, 0xF4, 0xF4]);
        assert_eq!(
            done.unwrap().result,
            Err(Error::ResendExhausted {
                command: 0xF4,
                byte: 0xF4,
                tries: 3
            })
        );
    }

    #[test]
    fn answers_are_decoded() {
        let (sent, done) = run(Command::GetScancodeSet, &[0xFA, 0xFA, 0x41]);
        assert_eq!(sent, [0xF0, 0x00]);
        assert_eq!(
            done.unwrap().result,
            Ok(Reply::ScancodeSet(ScancodeSet::Set2))
        );
        let (_, done) = run(Command::GetScancodeSet, &[0xFA, 0xFA, 0x77]);
        assert_eq!(
            done.unwrap().result,
            Err(Error::UnexpectedResponse {
                command: 0xF0,
                expected: 2,
                got: 0x77
            })
        );
        let (_, done) = run(Command::Identify, &[0xFA, 0xAB, 0x83]);
        let Ok(Reply::Identity(id)) = done.unwrap().result else {
            panic!()
        };
        assert_eq!(id.bytes(), &[0xAB, 0x83]);
        let (_, done) = run(Command::Reset, &[0xFA, 0xAA]);
        assert_eq!(done.unwrap().result, Ok(Reply::BatPassed));
        let (_, done) = run(Command::Reset, &[0xFA, 0xFD]);
        assert_eq!(done.unwrap().result, Err(Error::BatFailed { code: 0xFD }));
        let (sent, done) = run(Command::Echo, &[0xEE]);
        assert_eq!(sent, [0xEE]);
        assert_eq!(done.unwrap().result, Ok(Reply::Echo));
        let (_, done) = run(Command::Reset, &[0xFC]);
        assert!(matches!(
            done.unwrap().result,
            Err(Error::UnexpectedResponse { got: 0xFC, .. })
        ));
    }

    #[test]
    fn scancodes_pass_through_while_waiting() {
        let mut e = engine();
        assert_eq!(e.on_byte(0x1E, 0), ByteOutcome::NotMine(0x1E));
        e.submit(Command::EnableScanning).unwrap();
        assert_eq!(e.on_byte(0x9E, 0), ByteOutcome::NotMine(0x9E)); // not sent yet
        assert_eq!(e.poll_send(0), Some(0xF4));
        assert_eq!(e.poll_send(0), None); // handed out once
        assert_eq!(e.on_byte(0x1E, 1), ByteOutcome::NotMine(0x1E));
        assert!(matches!(e.on_byte(0xFA, 2), ByteOutcome::Consumed(Some(_))));
        // 0xAA outside a reset is Left Shift break in set 1, not a BAT.
        assert_eq!(e.on_byte(0xAA, 3), ByteOutcome::NotMine(0xAA));
    }

    #[test]
    fn timeouts_are_typed_and_identify_tolerates_silence() {
        let mut e = engine();
        let a = e.submit(Command::Echo).unwrap();
        let b = e.submit(Command::Identify).unwrap();
        assert_eq!(e.waiting_for(), None);
        assert_eq!(e.poll_send(100), Some(0xEE));
        assert_eq!(e.waiting_for(), Some(WaitingFor::Echo));
        assert_eq!(e.deadline(), Some(110));
        assert_eq!(e.on_tick(109), None);
        let done = e.on_tick(110).unwrap();
        assert_eq!(done.id, a);
        assert_eq!(
            done.result,
            Err(Error::Timeout {
                waiting_for: WaitingFor::Echo,
                command: 0xEE
            })
        );
        assert_eq!(e.poll_send(200), Some(0xF2));
        assert_eq!(e.on_byte(0xFA, 201), ByteOutcome::Consumed(None));
        assert_eq!(e.waiting_for(), Some(WaitingFor::Identity));
        assert_eq!(e.on_byte(0xAB, 202), ByteOutcome::Consumed(None));
        let done = e.on_tick(222).unwrap();
        assert_eq!(done.id, b);
        assert_eq!(
            done.result,
            Ok(Reply::Identity(KeyboardId::from_bytes(&[0xAB])))
        );
        assert!(e.is_idle());
        assert_eq!(e.expire(), None);
        e.submit(Command::Reset).unwrap();
        assert_eq!(e.expire(), None, "nothing sent yet");
        e.poll_send(300);
        assert_eq!(
            e.expire().map(|c| c.result),
            Some(Err(Error::Timeout {
                waiting_for: WaitingFor::Ack,
                command: 0xFF
            }))
        );
    }

    #[test]
    fn queue_full_gives_the_command_back_and_order_is_kept() {
        let mut e = engine();
        for _ in 0..4 {
            e.submit(Command::EnableScanning).unwrap();
        }
        assert_eq!(e.submit(Command::Reset), Err(QueueFull(Command::Reset)));
        assert_eq!(e.pending(), 4);
        let mut ids = Vec::new();
        e.abort_all(Error::NoKeyboard, |c| ids.push(c.id.0));
        assert_eq!(ids, [0, 1, 2, 3]);
        assert!(e.is_idle());
    }

    /// A simple model: the keyboard answers randomly; every command must complete once.
    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn command() -> impl Strategy<Value = Command> {
            prop_oneof![
                any::<u8>().prop_map(|b| Command::SetLeds(LedState::from_bits_truncate(b))),
                Just(Command::Echo),
                Just(Command::GetScancodeSet),
                (1u8..=3)
                    .prop_map(|n| Command::SetScancodeSet(ScancodeSet::from_number(n).unwrap())),
                Just(Command::Identify),
                (0u8..0x80).prop_map(|b| Command::SetTypematic(Typematic::from_byte(b).unwrap())),
                Just(Command::EnableScanning),
                Just(Command::DisableScanning),
                Just(Command::SetDefaults),
                Just(Command::Reset),
            ]
        }

        #[derive(Debug, Clone)]
        enum Event {
            Submit(Command),
            Send,
            Byte(u8),
            Tick(u8),
        }

        fn event() -> impl Strategy<Value = Event> {
            prop_oneof![
                command().prop_map(Event::Submit),
                Just(Event::Send),
                prop_oneof![
                    Just(0xFAu8),
                    Just(0xFE),
                    Just(0xAA),
                    Just(0xEE),
                    Just(0xAB),
                    any::<u8>()
                ]
                .prop_map(Event::Byte),
                any::<u8>().prop_map(Event::Tick),
            ]
        }

        proptest! {
            #[test]
            fn every_command_completes_exactly_once(
                events in proptest::collection::vec(event(), 0..200),
            ) {
                let mut e = CommandEngine::<4>::new(T);
                let mut now = 0u64;
                let mut submitted = Vec::new();
                let mut completed: Vec<u32> = Vec::new();
                let record = |c: Completion, completed: &mut Vec<u32>| completed.push(c.id.0);
                for ev in events {
                    match ev {
                        Event::Submit(cmd) => match e.submit(cmd) {
                            Ok(id) => submitted.push(id.0),
                            Err(QueueFull(back)) => prop_assert_eq!(back, cmd),
                        },
                        Event::Send => { let _ = e.poll_send(now); }
                        Event::Byte(b) => {
                            if let ByteOutcome::Consumed(Some(c)) = e.on_byte(b, now) {
                                record(c, &mut completed);
                            }
                        }
                        Event::Tick(dt) => {
                            now += u64::from(dt);
                            if let Some(c) = e.on_tick(now) { record(c, &mut completed); }
                        }
                    }
                    prop_assert!(e.pending() <= 5);
                }
                // Silence from now on: everything must still finish, with bounded work.
                for _ in 0..100 {
                    if e.is_idle() { break; }
                    let _ = e.poll_send(now);
                    now += 1000;
                    if let Some(c) = e.on_tick(now) { record(c, &mut completed); }
                }
                prop_assert!(e.is_idle());
                completed.sort_unstable();
                prop_assert_eq!(completed, submitted);
            }
        }
    }
}
