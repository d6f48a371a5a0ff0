//! Keyboard cases: the IRQ 1 pipeline (`crate::keyboard`) decoding keys the host injects over
//! QMP, in translated set 1 and raw sets 2 and 3; a held-back bottom half and a full queue;
//! keyboard commands through the blocking driver and the bottom half's command engine.
//!
//! Serial lines the host checks: `i8042 ...` (what init found), `KEY press A` /
//! `KEY release A` per key event, `blocking ...` / `engine XX -> ...` per command,
//! `received N` (kbd_overrun), and `keyboard bytes=.. events=.. overruns=.. bottom_half_runs=..`
//! at the end.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use irqkit_ps2::controller::{
    Command, Completion, InitOptions, LedState, RepeatDelay, RepeatRate, Typematic,
};
use irqkit_ps2::{Event, KeyCode, KeyEvent, ScancodeSet};

use super::{controller, init_i8042, Controller};
use crate::keyboard::{self, Engine, EventLine, ReplyText, Sink};
use crate::{deferred, println};

/// Set by the bottom half when Escape is released: the host's last key.
static ESCAPE_RELEASED: AtomicBool = AtomicBool::new(false);
/// Engine commands completed (successfully or not).
static COMPLETIONS: AtomicU32 = AtomicU32::new(0);

/// Prints each event as a line; notes Escape's release.
fn print_event(event: Event, _engine: &mut Engine) {
    println!("{}", EventLine(event));
    if event.key() == Some(KeyEvent::release(KeyCode::Escape)) {
        ESCAPE_RELEASED.store(true, Ordering::Relaxed);
    }
}

/// Prints each completed engine command and counts it.
fn count_completion(done: &Completion) {
    keyboard::print_completion(done);
    COMPLETIONS.fetch_add(1, Ordering::Relaxed);
}

/// The sink of the keyboard cases: every event and completion on its own line.
const PRINT_EVERYTHING: Sink = Sink {
    on_event: print_event,
    on_completion: count_completion,
};

/// `kbd_set1`: translation on, the CPU decodes set 1.
pub fn kbd_set1() {
    typing_case(InitOptions::translated());
}

/// `kbd_set2`: translation off, the keyboard switched to set 2 and decoded raw.
pub fn kbd_set2() {
    typing_case(InitOptions::raw(ScancodeSet::Set2));
}

/// `kbd_set3`: translation off, the keyboard switched to set 3 (no E0 prefixes).
pub fn kbd_set3() {
    typing_case(InitOptions::raw(ScancodeSet::Set3));
}

/// Initialises the i8042 with `options`, then prints the host's keys until Escape's release.
fn typing_case(options: InitOptions) {
    let report = init_i8042(&mut controller(), options);
    assert_eq!(report.host_set, options.mode.host_set());
    keyboard::start(report.host_set, PRINT_EVERYTHING);
    println!("READY");
    type_until_escape();
}

/// Runs the bottom halves until the host's Escape is released, then prints the counters.
///
/// # Panics
///
/// If the queue overran.
fn type_until_escape() {
    deferred::run_until(|| ESCAPE_RELEASED.load(Ordering::Relaxed));
    keyboard::stop();
    let stats = keyboard::stats();
    println!("keyboard {stats}");
    deferred::print_stats();
    assert_eq!(stats.overruns, 0, "the scancode queue overran");
}

/// Taps the host sends in `kbd_overrun`: more bytes than the queue holds.
const OVERRUN_TAPS: u32 = 40;

/// `kbd_overrun`: the bottom half is held back while the host taps 40 keys (80 bytes). The
/// top half keeps queueing; the 64-byte queue fills and counts the 16 bytes it refuses. Once
/// released, the bottom half decodes the 64 queued bytes (the first 32 taps).
pub fn kbd_overrun() {
    let report = init_i8042(&mut controller(), InitOptions::translated());
    keyboard::start(report.host_set, PRINT_EVERYTHING);
    keyboard::hold_bottom_half(true);
    println!("READY");
    let total = 2 * OVERRUN_TAPS;
    let mut reported = 0;
    // Reports every byte so the host sends the next tap only when the last one arrived.
    deferred::run_until(|| {
        let bytes = keyboard::bytes_read();
        if bytes != reported {
            println!("received {bytes}");
            reported = bytes;
        }
        bytes >= total
    });
    println!("releasing the bottom half");
    keyboard::hold_bottom_half(false);
    let queued = keyboard::QUEUE_LEN as u32;
    deferred::run_until(|| keyboard::stats().events >= queued);
    keyboard::stop();
    let stats = keyboard::stats();
    println!("keyboard {stats}");
    deferred::print_stats();
    assert_eq!(stats.overruns, (total - queued) as usize);
    assert_eq!(stats.events, queued);
}

/// LEDs and typematic rate for the blocking commands.
const BLOCKING_LEDS: LedState = LedState::CAPS_LOCK.union(LedState::NUM_LOCK);
const BLOCKING_TYPEMATIC: Typematic = Typematic {
    rate: RepeatRate::FASTEST,
    delay: RepeatDelay::Ms250,
};

/// `kbd_commands`: keyboard commands through the blocking driver (IRQ 1 off) in both
/// translation modes, then through the command engine in the bottom half (IRQ 1 on), then
/// keys still decode.
pub fn kbd_commands() {
    let mut i8042 = controller();
    let polled = |options: InitOptions| InitOptions {
        enable_irq: false,
        ..options
    };
    init_i8042(&mut i8042, polled(InitOptions::translated()));
    blocking_commands(&mut i8042, true);
    let report = init_i8042(&mut i8042, polled(InitOptions::raw(ScancodeSet::Set2)));
    blocking_commands(&mut i8042, false);
    i8042
        .set_keyboard_irq(true)
        .unwrap_or_else(|error| panic!("enabling IRQ 1: {error}"));
    assert!(
        i8042.stray_bytes().as_slice().is_empty(),
        "stray bytes during blocking commands: {:02x?}",
        i8042.stray_bytes().as_slice()
    );
    // From here on the IRQ 1 handler owns port 0x60: commands go through the engine.
    keyboard::start(report.host_set, PRINT_EVERYTHING);
    let commands = [
        Command::SetLeds(LedState::SCROLL_LOCK),
        Command::SetTypematic(Typematic::default()),
        Command::Identify,
        Command::GetScancodeSet,
        Command::Echo,
        Command::Reset,
    ];
    for command in commands {
        keyboard::submit(command).unwrap_or_else(|refused| panic!("{refused}"));
    }
    deferred::run_until(|| COMPLETIONS.load(Ordering::Relaxed) == commands.len() as u32);
    assert_eq!(keyboard::commands_pending(), 0);
    println!("READY");
    type_until_escape();
}

/// LEDs, typematic, identify and get-set through the blocking driver, one line each.
fn blocking_commands(i8042: &mut Controller, translated: bool) {
    let mode = if translated { "on" } else { "off" };
    let ok = |result: Result<(), irqkit_ps2::controller::Error>| match result {
        Ok(()) => "ack",
        Err(error) => panic!("blocking command failed: {error}"),
    };
    println!(
        "blocking translation={mode} ed leds={:02x} -> {}",
        BLOCKING_LEDS.bits(),
        ok(i8042.set_leds(BLOCKING_LEDS))
    );
    println!(
        "blocking translation={mode} f3 typematic={:02x} -> {}",
        BLOCKING_TYPEMATIC.to_byte(),
        ok(i8042.set_typematic(BLOCKING_TYPEMATIC))
    );
    let id = i8042
        .identify()
        .unwrap_or_else(|error| panic!("identify failed: {error}"));
    println!(
        "blocking translation={mode} f2 identify -> {}",
        ReplyText(irqkit_ps2::controller::Reply::Identity(id))
    );
    let set = i8042
        .scancode_set()
        .unwrap_or_else(|error| panic!("get scancode set failed: {error}"));
    println!(
        "blocking translation={mode} f0 get_set -> {}",
        ReplyText(irqkit_ps2::controller::Reply::ScancodeSet(set))
    );
}
