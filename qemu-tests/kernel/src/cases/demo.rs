//! `demo` (`cargo xtask demo`): the whole interrupt-driven keyboard path, typed text echoed as
//! characters.
//!
//! `irqkit-qemu demo` types a sentence over QMP; the kernel echoes each character as it arrives
//! (`echo 'H'`, one line each: the host waits for it before the next key), prints the line
//! after Enter (`line=...`) and the pipeline's counters.
//!
//! With `demo_wait=enter` on the command line (what `irqkit-qemu demo` passes) it waits for
//! Enter however long the host takes; otherwise (a plain `irqkit-qemu run demo`) it ends
//! after [`IDLE_LIMIT_TICKS`] without a key.

use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, Ordering};

use irqkit_hal::critical_section::{self, Mutex};
use irqkit_ps2::controller::{Command, InitOptions, LedState};
use irqkit_ps2::keyboard::{DecodedKey, Keyboard};
use irqkit_ps2::layout::Us;
use irqkit_ps2::{Event, KeyKind};

use super::{controller, init_i8042};
use crate::keyboard::{self, Engine, Sink};
use crate::{boot_info, deferred, print, println, timer};

/// Without `demo_wait=enter`, how long the demo waits for a first key before it ends, in
/// ticks (2 s).
const IDLE_LIMIT_TICKS: u64 = 2 * timer::TICK_HZ as u64;
/// The longest line kept (more characters are echoed but not stored).
const LINE_CAPACITY: usize = 160;

/// Modifier and lock state plus the US layout: the last stage, in the bottom half.
static KEYBOARD: Mutex<RefCell<Keyboard<Us>>> = Mutex::new(RefCell::new(Keyboard::new(Us)));
static LINE: Mutex<RefCell<Line>> = Mutex::new(RefCell::new(Line::new()));
static TYPING_STARTED: AtomicBool = AtomicBool::new(false);
static ENTER_PRESSED: AtomicBool = AtomicBool::new(false);

/// The characters typed so far.
#[derive(Debug)]
struct Line {
    chars: [char; LINE_CAPACITY],
    len: usize,
}

impl Line {
    const fn new() -> Self {
        Self {
            chars: ['\0'; LINE_CAPACITY],
            len: 0,
        }
    }

    fn push(&mut self, c: char) {
        if let Some(slot) = self.chars.get_mut(self.len) {
            *slot = c;
            self.len += 1;
        }
    }

    fn pop(&mut self) -> bool {
        let had = self.len > 0;
        self.len = self.len.saturating_sub(1);
        had
    }

    fn as_slice(&self) -> &[char] {
        &self.chars[..self.len]
    }
}

/// The sink: key events through the layout; characters echoed; Caps/Num/Scroll Lock turned
/// into an LED command for the engine.
fn on_event(event: Event, engine: &mut Engine) {
    if matches!(event, Event::Key(key) if key.kind == KeyKind::Press) {
        TYPING_STARTED.store(true, Ordering::Relaxed);
    }
    let keys = critical_section::with(|cs| KEYBOARD.borrow_ref_mut(cs).process_event(event));
    for key in keys {
        match key {
            DecodedKey::Char('\n') => ENTER_PRESSED.store(true, Ordering::Relaxed),
            DecodedKey::Char(c @ '\u{8}') => {
                if critical_section::with(|cs| LINE.borrow_ref_mut(cs).pop()) {
                    println!("echo {c:?}");
                }
            }
            DecodedKey::Char(c) if !c.is_control() => {
                // One line per character: the host waits for it before the next key.
                println!("echo {c:?}");
                critical_section::with(|cs| LINE.borrow_ref_mut(cs).push(c));
            }
            DecodedKey::LocksChanged(locks) => {
                let leds = LedState::from_bits_truncate(locks.led_byte());
                // A full command queue only skips this LED update.
                let _ = engine.submit(Command::SetLeds(leds));
            }
            DecodedKey::Char(_) | DecodedKey::Key(_) => {}
        }
    }
}

/// `demo`.
pub fn demo() {
    println!("Hello from the irqkit demo kernel!");
    println!("Interrupt-driven keyboard input, end to end, on QEMU's emulated i8042:");
    println!("  1. IRQ 1 top half: reads port 0x60 (only when status OBF is set) and pushes");
    println!("     the byte into an irqkit-intq queue (wait-free, 64 bytes, overruns counted);");
    println!("  2. the queue's pend hook schedules an irqkit-defer work item (coalescing);");
    println!("  3. the bottom half runs from the kernel's main loop with interrupts enabled:");
    println!("     irqkit-ps2's command engine takes keyboard answers (LED commands),");
    println!("  4. the set 1 decoder turns bytes into key events,");
    println!("  5. and the US layout turns key events into characters.");
    let report = init_i8042(&mut controller(), InitOptions::translated());
    keyboard::start(
        report.host_set,
        Sink {
            on_event,
            // The LED commands a lock key triggers: `engine ed -> ack`.
            on_completion: keyboard::print_completion,
        },
    );
    println!("Type a line and press Enter (irqkit-qemu demo types one over QMP).");
    println!("READY");
    let wait_for_enter = boot_info::kernel_argument("demo_wait") == Some("enter");
    let ready_at = timer::ticks();
    deferred::run_until(|| {
        ENTER_PRESSED.load(Ordering::Relaxed)
            || (!wait_for_enter
                && !TYPING_STARTED.load(Ordering::Relaxed)
                && timer::ticks() >= ready_at + IDLE_LIMIT_TICKS)
    });
    keyboard::stop();
    if !ENTER_PRESSED.load(Ordering::Relaxed) {
        println!("No key within {IDLE_LIMIT_TICKS} ms: nothing typed.");
    }
    critical_section::with(|cs| {
        print!("line=");
        LINE.borrow_ref(cs)
            .as_slice()
            .iter()
            .for_each(|c| print!("{c}"));
        println!();
    });
    let stats = keyboard::stats();
    let executor = deferred::stats();
    println!(
        "stats {stats} worst_latency_ticks={} schedules={} coalesced={}",
        executor.max_latency, executor.scheduled, executor.coalesced
    );
    assert_eq!(stats.overruns, 0, "the scancode queue overran");
}
