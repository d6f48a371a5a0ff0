//! The shell: an irqkit-defer async task that waits for a submitted line, runs the command
//! and shows the prompt again. Commands print through the console (screen and serial); a bad
//! argument is one line saying what and why, never a panic.

use core::future::poll_fn;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::Poll;

use irqkit_defer::{sleep, TaskSlot};
use irqkit_ps2::controller::{Command, LedState};
use irqkit_ps2::keyboard::Locks;
use irqkit_ps2::layout::{AnyLayout, Layout};

use super::disk::{self, DiskState};
use super::editor::CAPACITY;
use super::input::{self, Mode};
use super::words;
use super::{console, status};
use crate::deferred::{self, EXECUTOR};
use crate::keyboard::{self, ReplyText};
use crate::{cprintln, irq, timer};

/// The shell task's storage (its future holds no buffers: they are statics).
static SHELL: TaskSlot<8192> = TaskSlot::new(&EXECUTOR);
/// Set by `exit`: the main loop ends the run.
static EXIT_REQUESTED: AtomicBool = AtomicBool::new(false);
/// How long `leds` waits for the keyboard's answer, in ticks.
const LED_TIMEOUT_TICKS: u64 = 500;

/// Starts the shell task with the disk it drives: it shows the first prompt at its first
/// poll.
///
/// # Panics
///
/// If called twice (the slot holds one shell).
pub fn start(disk: DiskState) {
    if SHELL.spawn(shell(disk)).is_err() {
        panic!("the shell task starts once");
    }
}

/// Wakes the shell task (a line was submitted, or `keys` mode ended).
pub fn wake() {
    SHELL.wake();
}

/// Whether `exit` was typed.
pub fn exit_requested() -> bool {
    EXIT_REQUESTED.load(Ordering::Acquire)
}

async fn shell(mut disk: DiskState) {
    let mut buffer = [0u8; CAPACITY * 4];
    loop {
        input::show_prompt();
        let line = poll_fn(|_| match input::take_line(&mut buffer) {
            Some(line) => Poll::Ready(line.len()),
            None => Poll::Pending,
        })
        .await;
        // `take_line` wrote the line at the start of the buffer.
        let line = core::str::from_utf8(&buffer[..line]).unwrap_or("");
        let mut words = line.split_ascii_whitespace();
        let Some(command) = words.next() else {
            continue;
        };
        let mut args = [""; 8];
        let mut count = 0;
        for word in words {
            if count == args.len() {
                count += 1;
                break;
            }
            args[count] = word;
            count += 1;
        }
        if count > args.len() {
            cprintln!("{command}: too many arguments (at most {})", args.len());
            continue;
        }
        run(command, &args[..count], line, &mut disk).await;
        if exit_requested() {
            return;
        }
    }
}

async fn run(command: &str, args: &[&str], line: &str, disk: &mut DiskState) {
    // Commands are matched without case (Caps Lock may be on); arguments keep theirs.
    let mut lower = [0u8; 16];
    let name = match lower.get_mut(..command.len()) {
        Some(lower) => {
            lower.copy_from_slice(command.as_bytes());
            lower.make_ascii_lowercase();
            core::str::from_utf8(lower).unwrap_or(command)
        }
        None => command,
    };
    match name {
        "help" => help(),
        "clear" => console::clear(),
        "keys" => keys().await,
        "layout" => layout(args),
        "leds" => leds(args).await,
        "stats" => stats(),
        "disk" => disk::disk(disk),
        "read" => disk::read(disk, args).await,
        "write" => disk::write(disk, args, words::rest_after(line, 2)).await,
        "flush" => disk::flush(disk),
        "ls" => disk::ls(disk, args),
        "cat" => disk::cat(disk, args),
        "write-file" => disk::write_file(disk, args, words::rest_after(line, 2)),
        "bench" => disk::bench(disk),
        "exit" => {
            cprintln!("Powering off through isa-debug-exit (QEMU exits with status 33).");
            EXIT_REQUESTED.store(true, Ordering::Release);
        }
        _ => cprintln!("{command}: unknown command (type help for the list)"),
    }
}

fn help() {
    cprintln!("Editing: Left/Right, Home/End, Backspace, Delete, Up/Down (history),");
    cprintln!("         Ctrl+C (drop the line), Ctrl+L (clear the screen).");
    cprintln!("Commands:");
    cprintln!("  help                 this list");
    cprintln!("  keys                 raw bytes and decoded events of each key (Esc leaves)");
    cprintln!("  layout [NAME]        show or switch the layout");
    cprintln!("  leds [caps num scroll | off]   show or set the keyboard LEDs");
    cprintln!("  stats                interrupts per line, queue overruns, bottom halves");
    cprintln!("  disk                 what the disk says it is (IDENTIFY DEVICE)");
    cprintln!("  read LBA [N]         hex dump of N sectors (DMA, woken by IRQ 14)");
    cprintln!("  write LBA TEXT       TEXT into a sector (DMA); flush   FLUSH CACHE");
    cprintln!("  ls [DIR], cat FILE, write-file FILE TEXT   the FAT volume");
    cprintln!("  bench                read 1 MiB by PIO and by DMA: MB/s, cycles per sector");
    cprintln!("  clear                clear the screen");
    cprintln!("  exit                 power off (QEMU exits with status 33)");
}

/// `keys`: shows each event with its bytes until Escape.
async fn keys() {
    cprintln!("keys: press keys to see their bytes and events; Esc leaves.");
    keyboard::tap_bytes(Some(input::collect_raw_byte));
    input::set_mode(Mode::Keys);
    poll_fn(|_| match input::mode() {
        Mode::Keys => Poll::Pending,
        _ => Poll::Ready(()),
    })
    .await;
    keyboard::tap_bytes(None);
    cprintln!("keys: done.");
}

/// `layout [NAME]`.
fn layout(args: &[&str]) {
    match args {
        [] => {
            crate::cprint!("layout: {} (available:", input::layout().name());
            input::layout_names().for_each(|name| crate::cprint!(" {name}"));
            cprintln!(")");
        }
        [name] => match AnyLayout::from_name(name) {
            Some(layout) => {
                input::set_layout(layout);
                status::refresh_soon();
                cprintln!("layout: now {}", layout.name());
            }
            None => {
                crate::cprint!("layout: no layout {name:?} (available:");
                input::layout_names().for_each(|name| crate::cprint!(" {name}"));
                cprintln!(")");
            }
        },
        _ => cprintln!("layout: takes one layout name"),
    }
}

fn print_locks(prefix: &str, locks: Locks) {
    let state = |lock| if locks.contains(lock) { "on" } else { "off" };
    cprintln!(
        "{prefix}caps {}, num {}, scroll {}",
        state(Locks::CAPS),
        state(Locks::NUM),
        state(Locks::SCROLL)
    );
}

/// `leds [caps num scroll | off]`: shows the locks, or sets them and the LEDs.
async fn leds(args: &[&str]) {
    if args.is_empty() {
        print_locks("leds: ", input::locks());
        return;
    }
    let mut locks = Locks::empty();
    for &arg in args {
        let is = |name: &str| arg.eq_ignore_ascii_case(name);
        match arg {
            _ if is("caps") => locks |= Locks::CAPS,
            _ if is("num") => locks |= Locks::NUM,
            _ if is("scroll") => locks |= Locks::SCROLL,
            _ if is("off") => {}
            other => {
                cprintln!("leds: {other:?} is not caps, num, scroll or off");
                return;
            }
        }
    }
    input::set_locks(locks);
    let _ = input::take_completion();
    let leds = LedState::from_bits_truncate(locks.led_byte());
    if let Err(error) = keyboard::submit(Command::SetLeds(leds)) {
        cprintln!("leds: {error}");
        return;
    }
    let deadline = timer::ticks() + LED_TIMEOUT_TICKS;
    let done = loop {
        if let Some(done) = input::take_completion() {
            break Some(done);
        }
        if timer::ticks() >= deadline {
            break None;
        }
        // Cannot fail: one tick is far below MAX_DELAY.
        let _ = sleep(1).await;
    };
    print_locks("leds: ", locks);
    match done.map(|done| done.result) {
        Some(Ok(reply)) => cprintln!(
            "leds: keyboard command ed {:02x} -> {}",
            locks.led_byte(),
            ReplyText(reply)
        ),
        Some(Err(error)) => cprintln!("leds: keyboard command ed failed: {error}"),
        None => cprintln!("leds: no answer from the keyboard within {LED_TIMEOUT_TICKS} ms"),
    }
}

/// `stats`.
fn stats() {
    let pipeline = keyboard::stats();
    let executor = deferred::stats();
    cprintln!(
        "interrupts: irq0 timer {}, irq1 keyboard {}, irq14 disk {}, spurious {}",
        irq::handled_count(irq::TIMER),
        irq::handled_count(irq::KEYBOARD),
        irq::handled_count(irq::PRIMARY_ATA),
        irq::spurious_count()
    );
    cprintln!(
        "keyboard queue: {} bytes in, {} events, {} overruns ({}-byte irqkit-intq queue)",
        pipeline.bytes,
        pipeline.events,
        pipeline.overruns,
        keyboard::QUEUE_LEN
    );
    cprintln!(
        "bottom halves: keyboard {} runs; executor {} runs, {} scheduled, {} coalesced",
        pipeline.bottom_half_runs,
        executor.runs,
        executor.scheduled,
        executor.coalesced
    );
    cprintln!(
        "worst latency: {} ms from schedule to run; uptime {} ms",
        executor.max_latency,
        timer::ticks()
    );
}
