//! The IRQ 1 keyboard pipeline shared by the keyboard test cases and the demo.
//!
//! ```text
//! IRQ 1, top half       reads port 0x60 when status OBF is set, pushes the byte into
//!                       SCANCODES (irqkit-intq, producer owned by the handler); the queue's
//!                       pend hook schedules BOTTOM_HALF (irqkit-defer; schedules coalesce)
//! main loop, IRQs on    deferred::run_until runs BOTTOM_HALF: it drains the queue, lets the
//!                       command engine (irqkit-ps2) take ACKs and answers of keyboard
//!                       commands, decodes the rest into events and hands them to the sink
//! ```
//!
//! The kernel owns every static here; the crates' types hold no global state.

use core::cell::{Cell, RefCell};
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering};

use irqkit_defer::{State, Work, MAX_DELAY};
use irqkit_hal::critical_section::{self, Mutex};
use irqkit_intq::{Consumer, Producer, Queue};
use irqkit_ps2::controller::{
    ByteOutcome, Command, CommandEngine, CommandId, Completion, EngineTiming, QueueFull, Reply,
    Timing,
};
use irqkit_ps2::{Decoder, Event, KeyKind, ScancodeSet};

use crate::deferred::EXECUTOR;
use crate::delay::PitDelay;
use crate::port::ports;
use crate::{irq, println, timer};

/// Bytes the queue holds between the top and the bottom half.
pub const QUEUE_LEN: usize = 64;
/// How long a write to port 0x60 may wait for the controller's input buffer, in microseconds.
const INPUT_BUFFER_TIMEOUT_US: u32 = 10_000;

/// The keyboard command engine the bottom half drives (8 commands may queue).
pub type Engine = CommandEngine<8>;

/// What a test case does with the pipeline's output. Both run in the bottom half, with
/// interrupts enabled; `on_event` may submit keyboard commands to the engine it is given.
#[derive(Debug, Clone, Copy)]
pub struct Sink {
    /// Each decoded event (keys, keyboard responses, unknown codes, resyncs).
    pub on_event: fn(Event, &mut Engine),
    /// Each keyboard command that completed (its reply or error).
    pub on_completion: fn(&Completion),
}

/// Counters of the pipeline, for the `keyboard ...` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PipelineStats {
    /// Bytes the top half read from port 0x60.
    pub bytes: u32,
    /// Events the decoder produced.
    pub events: u32,
    /// Bytes the top half lost because the queue was full.
    pub overruns: usize,
    /// Runs of the bottom half.
    pub bottom_half_runs: u32,
}

impl fmt::Display for PipelineStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bytes={} events={} overruns={} bottom_half_runs={}",
            self.bytes, self.events, self.overruns, self.bottom_half_runs
        )
    }
}

/// Every push schedules the bottom half (irqkit-defer's `Work` is an irqkit-intq `Pend`).
static SCANCODES: Queue<u8, QUEUE_LEN> = Queue::new().with_pend(&BOTTOM_HALF);
/// The top half's end of the queue.
static PRODUCER: Mutex<RefCell<Option<Producer<'static, u8, QUEUE_LEN>>>> =
    Mutex::new(RefCell::new(None));
static BOTTOM_HALF: Work = Work::new(&EXECUTOR, bottom_half);
/// The bottom half's state. The bottom half takes it out for its run (so the run itself needs
/// no critical section) and puts it back; the main flow reaches it between runs.
static PIPELINE: State<Pipeline> = State::new();
/// Bytes read by the top half.
static BYTES: AtomicU32 = AtomicU32::new(0);
/// Sees every byte the bottom half takes from the queue, before it is routed (the demo's
/// `keys` command shows them).
static BYTE_TAP: Mutex<Cell<Option<ByteTap>>> = Mutex::new(Cell::new(None));

/// A function that sees raw keyboard bytes (see [`tap_bytes`]).
pub type ByteTap = fn(u8);

/// Starts the pipeline: splits the queue, installs both ends, and hooks IRQ 1 (which the
/// i8042 must have enabled in its configuration byte). `host_set` is the set of the bytes
/// read from port 0x60.
///
/// # Panics
///
/// If called twice in one boot (the queue splits once).
pub fn start(host_set: ScancodeSet, sink: Sink) {
    let (producer, consumer) = SCANCODES
        .split_static()
        .expect("the keyboard pipeline starts once per boot");
    let pipeline = Pipeline {
        consumer,
        decoder: Decoder::new(host_set),
        engine: Engine::new(EngineTiming::from_tick_hz(timer::TICK_HZ)),
        sink,
        events: 0,
    };
    critical_section::with(|cs| *PRODUCER.borrow_ref_mut(cs) = Some(producer));
    if let Err((error, _)) = PIPELINE.put(pipeline) {
        panic!("keyboard pipeline: {error}");
    }
    irq::register(irq::KEYBOARD, top_half);
}

/// Unhooks IRQ 1 (bytes still queued stay unread).
pub fn stop() {
    irq::unregister(irq::KEYBOARD);
}

/// Queues a keyboard command for the bottom half to send. Call from the main flow (between
/// bottom-half runs); a sink submits through the engine it is given instead.
///
/// # Errors
///
/// [`QueueFull`] when 8 commands already wait.
pub fn submit(command: Command) -> Result<CommandId, QueueFull> {
    let id = with_pipeline(|pipeline| pipeline.engine.submit(command))?;
    BOTTOM_HALF.schedule();
    Ok(id)
}

/// Holds the bottom half back (`true`) or lets it run again (`false`): a held-back bottom
/// half stays pending, the top half keeps queueing, and a full queue counts overruns.
///
/// # Panics
///
/// On unbalanced calls (the work item's typed error names it).
pub fn hold_bottom_half(hold: bool) {
    if hold {
        BOTTOM_HALF
            .disable()
            .unwrap_or_else(|error| panic!("{error}"));
    } else {
        BOTTOM_HALF
            .enable()
            .unwrap_or_else(|error| panic!("{error}"));
    }
}

/// Sets (or with `None` removes) the function that sees each byte the bottom half takes from
/// the queue, before the command engine and the decoder do.
pub fn tap_bytes(tap: Option<ByteTap>) {
    critical_section::with(|cs| BYTE_TAP.borrow(cs).set(tap));
}

/// Bytes the top half has read so far (callable from anywhere).
pub fn bytes_read() -> u32 {
    BYTES.load(Ordering::Relaxed)
}

/// How many keyboard commands the engine still has queued or in flight.
pub fn commands_pending() -> usize {
    with_pipeline(|pipeline| pipeline.engine.pending())
}

/// The pipeline's counters.
pub fn stats() -> PipelineStats {
    let (events, overruns) =
        with_pipeline(|pipeline| (pipeline.events, pipeline.consumer.overruns()));
    PipelineStats {
        bytes: BYTES.load(Ordering::Relaxed),
        events,
        overruns,
        bottom_half_runs: BOTTOM_HALF.runs(),
    }
}

/// Reads a keyboard byte if the controller has one (status OBF), skipping mouse bytes.
pub use irqkit_ps2::controller::read_keyboard_byte as read_scancode;

/// Runs `f` on the pipeline state.
///
/// # Panics
///
/// Before [`start`], or from inside a bottom-half run (which holds the state): both are
/// kernel bugs.
fn with_pipeline<R>(f: impl FnOnce(&mut Pipeline) -> R) -> R {
    // Callers configure the controller through the engine: keep IRQ 1 out meanwhile.
    critical_section::with(|_| PIPELINE.with(f))
        .unwrap_or_else(|error| panic!("keyboard pipeline: {error}"))
}

/// IRQ 1: one byte from the controller into the queue. Interrupts are disabled here.
fn top_half(_irq: u8) {
    let Some(byte) = read_scancode(&mut ports()) else {
        return;
    };
    BYTES.fetch_add(1, Ordering::Relaxed);
    critical_section::with(|cs| {
        if let Some(producer) = PRODUCER.borrow_ref_mut(cs).as_mut() {
            // Never blocks: a full queue counts an overrun, which the consumer reports.
            let _ = producer.push_or_count(byte);
        }
    });
}

fn bottom_half() {
    // The state is lent for the run, which happens with interrupts enabled; before `start`
    // there is nothing to run.
    let _ = PIPELINE.with(|pipeline| pipeline.run(timer::ticks()));
}

/// Everything the bottom half owns.
struct Pipeline {
    consumer: Consumer<'static, u8, QUEUE_LEN>,
    decoder: Decoder,
    engine: Engine,
    sink: Sink,
    events: u32,
}

impl Pipeline {
    fn run(&mut self, now: u64) {
        let mut bytes = [0u8; 16];
        loop {
            let count = self.consumer.pop_slice(&mut bytes);
            if count == 0 {
                break;
            }
            for &byte in &bytes[..count] {
                self.route(byte, now);
            }
        }
        if let Some(done) = self.engine.on_tick(now) {
            (self.sink.on_completion)(&done);
        }
        self.send_commands(now);
    }

    /// Command answers to the engine, everything else to the decoder and the sink.
    fn route(&mut self, byte: u8, now: u64) {
        if let Some(tap) = critical_section::with(|cs| BYTE_TAP.borrow(cs).get()) {
            tap(byte);
        }
        match self.engine.on_byte(byte, now) {
            ByteOutcome::NotMine(byte) => {
                for event in self.decoder.feed(byte) {
                    self.events = self.events.wrapping_add(1);
                    (self.sink.on_event)(event, &mut self.engine);
                }
            }
            ByteOutcome::Consumed(Some(done)) => (self.sink.on_completion)(&done),
            ByteOutcome::Consumed(None) => {}
        }
    }

    /// Writes what the engine wants sent, and comes back when its wait expires even if the
    /// keyboard stays silent (so a lost answer becomes a typed timeout).
    fn send_commands(&mut self, now: u64) {
        while let Some(byte) = self.engine.poll_send(now) {
            // A byte the controller never takes is never ACKed: the engine's ACK timeout
            // then completes the command with an error.
            let _ = write_data(byte);
        }
        if let Some(deadline) = self.engine.deadline() {
            let ticks = deadline.saturating_sub(now).clamp(1, u64::from(MAX_DELAY)) as u32;
            // Cannot fail: the delay is clamped to MAX_DELAY.
            let _ = BOTTOM_HALF.reschedule_after(ticks);
        }
    }
}

/// Writes a keyboard command or data byte to port 0x60 once the input buffer is empty.
fn write_data(byte: u8) -> Result<(), irqkit_ps2::controller::Error> {
    let timing = Timing {
        buffer_timeout_us: INPUT_BUFFER_TIMEOUT_US,
        poll_interval_us: 10,
        ..Timing::default()
    };
    irqkit_ps2::controller::write_data(&mut ports(), &mut PitDelay, &timing, byte)
}

/// An [`Event`] as one serial line: `KEY press A`, `RESPONSE Ack`, `UNKNOWN ...`,
/// `RESYNC ...`.
#[derive(Debug, Clone, Copy)]
pub struct EventLine(pub Event);

impl fmt::Display for EventLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Event::Key(key) => {
                let kind = match key.kind {
                    KeyKind::Press => "press",
                    KeyKind::Release => "release",
                    KeyKind::Repeat => "repeat",
                };
                write!(f, "KEY {kind} {}", key.code)
            }
            Event::Response(response) => write!(f, "RESPONSE {response:?}"),
            Event::Unknown(code) => write!(
                f,
                "UNKNOWN extended={} code={:02x} release={}",
                code.extended, code.code, code.release
            ),
            Event::Resync(resync) => write!(
                f,
                "RESYNC discarded={} unexpected={:02x}",
                resync.discarded, resync.unexpected
            ),
        }
    }
}

/// A keyboard command's reply in a few words: `ack`, `echo`, `set 2`, `id ab41`, `bat ok`.
#[derive(Debug, Clone, Copy)]
pub struct ReplyText(pub Reply);

impl fmt::Display for ReplyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Reply::Ack => f.write_str("ack"),
            Reply::Echo => f.write_str("echo"),
            Reply::ScancodeSet(set) => write!(f, "set {}", set.number()),
            Reply::Identity(id) => {
                f.write_str("id ")?;
                if id.bytes().is_empty() {
                    return f.write_str("none");
                }
                id.bytes()
                    .iter()
                    .try_for_each(|byte| write!(f, "{byte:02x}"))
            }
            Reply::BatPassed => f.write_str("bat ok"),
        }
    }
}

/// Prints a completed engine command as `engine XX -> <reply>` or `engine XX -> error ...`.
pub fn print_completion(done: &Completion) {
    let opcode = done.command.opcode();
    match done.result {
        Ok(reply) => println!("engine {opcode:02x} -> {}", ReplyText(reply)),
        Err(error) => println!("engine {opcode:02x} -> error {error}"),
    }
}
