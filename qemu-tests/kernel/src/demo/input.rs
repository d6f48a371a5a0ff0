//! The keyboard bottom half's end of the demo: key events through the layout into the line
//! editor (or, in `keys` mode, shown raw), lock keys into LED commands.
//!
//! Runs in the keyboard bottom half with interrupts enabled. It never runs a command itself:
//! Enter hands the line to the shell task and wakes it.

use core::cell::RefCell;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};

use irqkit_hal::critical_section::{self, Mutex};
use irqkit_ps2::controller::{Command, Completion, LedState};
use irqkit_ps2::keyboard::{DecodedKey, Keyboard, Locks};
use irqkit_ps2::layout::{AnyLayout, Layout};
use irqkit_ps2::{Event, KeyCode, KeyKind};

use super::console;
use super::editor::{Edit, LineEditor, Reaction, CAPACITY};
use super::shell;
use crate::keyboard::{Engine, EventLine};
use crate::{cprintln, println};

/// The shell's prompt.
pub const PROMPT: &str = "irqkit> ";

/// Where typed keys go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Into the line editor, at the prompt.
    Editing = 0,
    /// A command runs: keys other than locks are ignored.
    Busy = 1,
    /// `keys`: bytes and events are shown; Escape leaves.
    Keys = 2,
}

static MODE: AtomicU8 = AtomicU8::new(Mode::Busy as u8);
/// Modifier and lock state plus the chosen layout.
static KEYBOARD: Mutex<RefCell<Keyboard<AnyLayout>>> =
    Mutex::new(RefCell::new(Keyboard::new(AnyLayout::Us)));
static EDITOR: Mutex<RefCell<LineEditor>> = Mutex::new(RefCell::new(LineEditor::new()));
/// Set by Enter, taken by the shell task.
static LINE_READY: AtomicBool = AtomicBool::new(false);
/// Key presses seen (the status line shows them).
static PRESSES: AtomicU32 = AtomicU32::new(0);
/// Script mode: each inserted character is acknowledged on serial (`echo 'c'`), so the host
/// types the next one only after the guest has it.
static ECHO_TO_SERIAL: AtomicBool = AtomicBool::new(false);
/// The bytes of the event being assembled, in `keys` mode.
static RAW: Mutex<RefCell<RawBytes>> = Mutex::new(RefCell::new(RawBytes::new()));
/// The last keyboard command the engine completed, for `leds`.
static LAST_COMPLETION: Mutex<RefCell<Option<Completion>>> = Mutex::new(RefCell::new(None));

/// The current mode.
pub fn mode() -> Mode {
    match MODE.load(Ordering::Acquire) {
        0 => Mode::Editing,
        2 => Mode::Keys,
        _ => Mode::Busy,
    }
}

/// Switches the mode.
pub fn set_mode(mode: Mode) {
    MODE.store(mode as u8, Ordering::Release);
}

/// Turns the per-character serial acknowledgement of script mode on.
pub fn echo_to_serial(on: bool) {
    ECHO_TO_SERIAL.store(on, Ordering::Relaxed);
}

/// Key presses so far.
pub fn presses() -> u32 {
    PRESSES.load(Ordering::Relaxed)
}

/// The layout in use.
pub fn layout() -> AnyLayout {
    critical_section::with(|cs| *KEYBOARD.borrow_ref(cs).layout())
}

/// Switches the layout.
pub fn set_layout(layout: AnyLayout) {
    critical_section::with(|cs| KEYBOARD.borrow_ref_mut(cs).set_layout(layout));
}

/// The lock states.
pub fn locks() -> Locks {
    critical_section::with(|cs| KEYBOARD.borrow_ref(cs).locks())
}

/// Sets the lock states (the caller sends the LED command).
pub fn set_locks(locks: Locks) {
    critical_section::with(|cs| KEYBOARD.borrow_ref_mut(cs).set_locks(locks));
}

/// Takes the last completed keyboard command.
pub fn take_completion() -> Option<Completion> {
    critical_section::with(|cs| LAST_COMPLETION.borrow_ref_mut(cs).take())
}

/// Takes the submitted line if Enter was pressed since the last call, as UTF-8 in `buffer`.
pub fn take_line(buffer: &mut [u8; CAPACITY * 4]) -> Option<&str> {
    if !LINE_READY.swap(false, Ordering::Acquire) {
        return None;
    }
    let mut len = 0;
    critical_section::with(|cs| {
        for c in EDITOR.borrow_ref(cs).line() {
            len += c.encode_utf8(&mut buffer[len..]).len();
        }
    });
    // Whole characters were encoded, so this cannot fail.
    core::str::from_utf8(&buffer[..len]).ok()
}

/// Shows the prompt with the line typed so far and lets keys edit again.
pub fn show_prompt() {
    console::fresh_line();
    redraw();
    set_mode(Mode::Editing);
    // Serial only: tells a script it may type the next command.
    println!("READY");
}

fn redraw() {
    critical_section::with(|cs| {
        let editor = EDITOR.borrow_ref(cs);
        console::draw_input(PROMPT, editor.text(), editor.cursor());
    });
}

/// The keyboard sink's event function.
pub fn on_event(event: Event, engine: &mut Engine) {
    if matches!(event, Event::Key(key) if key.kind == KeyKind::Press) {
        PRESSES.fetch_add(1, Ordering::Relaxed);
    }
    if mode() == Mode::Keys {
        show_raw_event(event);
        return;
    }
    let keys = critical_section::with(|cs| KEYBOARD.borrow_ref_mut(cs).process_event(event));
    for key in keys {
        match key {
            DecodedKey::LocksChanged(locks) => {
                let leds = LedState::from_bits_truncate(locks.led_byte());
                // A full command queue only skips this LED update.
                let _ = engine.submit(Command::SetLeds(leds));
            }
            _ if mode() != Mode::Editing => {}
            key => {
                if let Some(edit) = edit_for(key) {
                    edit_line(edit);
                }
            }
        }
    }
}

/// The keyboard sink's completion function: keeps the result for `leds`.
pub fn on_completion(done: &Completion) {
    critical_section::with(|cs| *LAST_COMPLETION.borrow_ref_mut(cs) = Some(*done));
}

/// The editing key a decoded key stands for.
fn edit_for(key: DecodedKey) -> Option<Edit> {
    Some(match key {
        DecodedKey::Char('\n') => Edit::Enter,
        DecodedKey::Char('\u{8}') => Edit::Backspace,
        DecodedKey::Char('\u{7f}') => Edit::Delete,
        DecodedKey::Char('\u{3}') => Edit::Cancel,
        DecodedKey::Char('\u{c}') => Edit::ClearScreen,
        DecodedKey::Char(c) if !c.is_control() => Edit::Insert(c),
        DecodedKey::Key(KeyCode::Left) => Edit::Left,
        DecodedKey::Key(KeyCode::Right) => Edit::Right,
        DecodedKey::Key(KeyCode::Home) => Edit::Home,
        DecodedKey::Key(KeyCode::End) => Edit::End,
        DecodedKey::Key(KeyCode::Up) => Edit::Up,
        DecodedKey::Key(KeyCode::Down) => Edit::Down,
        DecodedKey::Key(KeyCode::Delete) => Edit::Delete,
        _ => return None,
    })
}

fn edit_line(edit: Edit) {
    let mut before = ['\0'; CAPACITY];
    let mut before_len = 0;
    let reaction = critical_section::with(|cs| {
        let mut editor = EDITOR.borrow_ref_mut(cs);
        before_len = editor.text().len();
        before[..before_len].copy_from_slice(editor.text());
        editor.apply(edit)
    });
    match reaction {
        Reaction::Unchanged => {}
        Reaction::Redraw | Reaction::Full => {
            redraw();
            if let (Edit::Insert(c), true) = (edit, ECHO_TO_SERIAL.load(Ordering::Relaxed)) {
                if reaction == Reaction::Full {
                    println!("echo full");
                } else {
                    println!("echo {c:?}");
                }
            }
        }
        Reaction::Submitted => {
            critical_section::with(|cs| {
                console::commit_input(PROMPT, EDITOR.borrow_ref(cs).line(), "");
            });
            set_mode(Mode::Busy);
            LINE_READY.store(true, Ordering::Release);
            shell::wake();
        }
        Reaction::Cancelled => {
            console::commit_input(PROMPT, &before[..before_len], "^C");
            show_prompt();
        }
        Reaction::ClearScreen => {
            console::clear();
            redraw();
        }
    }
}

/// Bytes of one event, for `keys`.
#[derive(Debug)]
struct RawBytes {
    bytes: [u8; 8],
    len: usize,
}

impl RawBytes {
    const fn new() -> Self {
        Self {
            bytes: [0; 8],
            len: 0,
        }
    }
}

/// The byte tap of `keys` mode: collects the bytes of the next event.
pub fn collect_raw_byte(byte: u8) {
    critical_section::with(|cs| {
        let mut raw = RAW.borrow_ref_mut(cs);
        if raw.len < raw.bytes.len() {
            let len = raw.len;
            raw.bytes[len] = byte;
            raw.len += 1;
        }
    });
}

/// `keys` mode: one line per event, with the bytes that made it; Escape's press leaves.
fn show_raw_event(event: Event) {
    let (bytes, len) = critical_section::with(|cs| {
        let mut raw = RAW.borrow_ref_mut(cs);
        let taken = (raw.bytes, raw.len);
        raw.len = 0;
        taken
    });
    let mut hex = [b' '; 24];
    for (index, byte) in bytes[..len].iter().enumerate().take(8) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        hex[index * 3] = DIGITS[usize::from(byte >> 4)];
        hex[index * 3 + 1] = DIGITS[usize::from(byte & 0xF)];
    }
    let hex = core::str::from_utf8(&hex).unwrap_or("");
    match event {
        Event::Key(key) => cprintln!(
            "  {hex} {} (Linux keycode {})",
            EventLine(event),
            key.code.to_evdev()
        ),
        _ => cprintln!("  {hex} {}", EventLine(event)),
    }
    if matches!(event, Event::Key(key) if key.code == KeyCode::Escape && key.kind == KeyKind::Press)
    {
        set_mode(Mode::Busy);
        shell::wake();
    }
}

/// The layout names, for `help` and errors.
pub fn layout_names() -> impl Iterator<Item = &'static str> {
    AnyLayout::ALL.into_iter().map(|layout| layout.name())
}
