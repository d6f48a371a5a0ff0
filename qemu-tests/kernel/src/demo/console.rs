//! The demo's screen: the VGA text buffer (80x25 at 0xB8000) with a status line on row 0 and
//! a scrolling area below it, mirrored to COM1.
//!
//! What the person reads is the VGA screen (QEMU's curses display shows it in the terminal);
//! what a script or test reads is the serial port. Output goes to both; the line being edited
//! is drawn on the screen only and reaches serial once, when Enter submits it, so the serial
//! transcript reads like the screen without the keystroke-by-keystroke redraws.

use core::cell::RefCell;
use core::fmt::{self, Write};

use irqkit_hal::critical_section::{self, Mutex};
use irqkit_hal::PortIo;

use crate::port::ports;
use crate::serial;

/// Columns of the text mode.
pub const COLUMNS: usize = 80;
/// Rows of the text mode.
pub const ROWS: usize = 25;
/// The status line's row.
const STATUS_ROW: usize = 0;
/// The first row of the scrolling area.
const FIRST_ROW: usize = 1;
/// The text buffer of colour text mode 3, which SeaBIOS leaves set.
const VGA_TEXT_BUFFER: usize = 0xB8000;
/// Light grey on black.
const NORMAL: u8 = 0x07;
/// Black on cyan: the status line.
const STATUS: u8 = 0x30;
/// CRT controller index and data ports (colour mode).
const CRTC_INDEX: u16 = 0x3D4;
const CRTC_DATA: u16 = 0x3D5;
/// CRTC registers: cursor location high and low byte.
const CURSOR_HIGH: u8 = 0x0E;
const CURSOR_LOW: u8 = 0x0F;

/// The console's position in the scrolling area.
#[derive(Debug)]
struct Cursor {
    row: usize,
    column: usize,
}

static CURSOR: Mutex<RefCell<Cursor>> = Mutex::new(RefCell::new(Cursor {
    row: FIRST_ROW,
    column: 0,
}));

/// Writes one character cell.
fn put_cell(row: usize, column: usize, byte: u8, attribute: u8) {
    if row >= ROWS || column >= COLUMNS {
        return;
    }
    let cell = (VGA_TEXT_BUFFER as *mut u16).wrapping_add(row * COLUMNS + column);
    // SAFETY: the boot stub identity-maps the first GiB, so 0xB8000.. is mapped; row and
    // column are checked above, so the cell lies inside the 80x25 text buffer, which is
    // device memory no Rust object overlaps. Volatile: the display reads it.
    unsafe { cell.write_volatile(u16::from(attribute) << 8 | u16::from(byte)) };
}

/// Reads one character cell.
fn get_cell(row: usize, column: usize) -> u16 {
    if row >= ROWS || column >= COLUMNS {
        return 0;
    }
    let cell = (VGA_TEXT_BUFFER as *const u16).wrapping_add(row * COLUMNS + column);
    // SAFETY: as in `put_cell`: a checked cell of the mapped text buffer.
    unsafe { cell.read_volatile() }
}

/// Moves the blinking hardware cursor.
fn place_hardware_cursor(row: usize, column: usize) {
    let position = (row * COLUMNS + column.min(COLUMNS - 1)) as u16;
    let [low, high] = position.to_le_bytes();
    let mut io = ports();
    io.write8(CRTC_INDEX, CURSOR_HIGH);
    io.write8(CRTC_DATA, high);
    io.write8(CRTC_INDEX, CURSOR_LOW);
    io.write8(CRTC_DATA, low);
}

/// The code page 437 byte showing `c`, or `?` when the VGA font has no such glyph.
pub fn cp437(c: char) -> u8 {
    const HIGH: &str = "ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»";
    match c {
        ' '..='~' => c as u8,
        'ß' => 0xE1,
        'µ' => 0xE6,
        '±' => 0xF1,
        '°' => 0xF8,
        '·' => 0xFA,
        '²' => 0xFD,
        _ => HIGH
            .chars()
            .position(|h| h == c)
            .map_or(b'?', |index| 0x80 + index as u8),
    }
}

impl Cursor {
    fn newline(&mut self) {
        self.column = 0;
        if self.row + 1 < ROWS {
            self.row += 1;
            return;
        }
        for row in FIRST_ROW + 1..ROWS {
            for column in 0..COLUMNS {
                let cell = get_cell(row, column);
                put_cell(row - 1, column, cell as u8, (cell >> 8) as u8);
            }
        }
        clear_row(ROWS - 1, 0);
    }

    fn put(&mut self, c: char) {
        match c {
            '\n' => self.newline(),
            _ => {
                if self.column >= COLUMNS {
                    self.newline();
                }
                put_cell(self.row, self.column, cp437(c), NORMAL);
                self.column += 1;
            }
        }
    }
}

fn clear_row(row: usize, from_column: usize) {
    for column in from_column..COLUMNS {
        put_cell(row, column, b' ', NORMAL);
    }
}

/// Writes to the screen only, at the console's cursor.
struct Screen<'a>(&'a mut Cursor);

impl Write for Screen<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.chars().for_each(|c| self.0.put(c));
        Ok(())
    }
}

/// Prints to the screen and to serial (used by [`cprint!`](crate::cprint)).
pub fn print_args(args: fmt::Arguments<'_>) {
    critical_section::with(|cs| {
        let mut cursor = CURSOR.borrow_ref_mut(cs);
        // Neither writer fails; a Display impl's error only cuts the text short.
        let _ = Screen(&mut cursor).write_fmt(args);
        place_hardware_cursor(cursor.row, cursor.column);
        serial::print_args(args);
    });
}

/// Prints to the screen and serial like `print!`.
#[macro_export]
macro_rules! cprint {
    ($($arg:tt)*) => { $crate::demo::console::print_args(format_args!($($arg)*)) };
}

/// Prints a line to the screen and serial like `println!`.
#[macro_export]
macro_rules! cprintln {
    () => { $crate::cprint!("\n") };
    ($($arg:tt)*) => {
        $crate::demo::console::print_args(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Clears the scrolling area (Ctrl+L) and puts the cursor at its top.
pub fn clear() {
    critical_section::with(|cs| {
        let mut cursor = CURSOR.borrow_ref_mut(cs);
        for row in FIRST_ROW..ROWS {
            clear_row(row, 0);
        }
        *cursor = Cursor {
            row: FIRST_ROW,
            column: 0,
        };
        place_hardware_cursor(cursor.row, cursor.column);
    });
}

/// Starts a fresh line unless the cursor is already at the start of one.
pub fn fresh_line() {
    critical_section::with(|cs| {
        let mut cursor = CURSOR.borrow_ref_mut(cs);
        if cursor.column != 0 {
            cursor.newline();
            serial::print_args(format_args!("\n"));
        }
    });
}

/// Draws the line being edited on the cursor's row, screen only: `prompt`, then `text`, the
/// rest of the row cleared, the hardware cursor at character `cursor_at` of `text`. Text
/// wider than the row is shown by its end (the editor keeps lines shorter than a row).
pub fn draw_input(prompt: &str, text: &[char], cursor_at: usize) {
    critical_section::with(|cs| {
        let cursor = CURSOR.borrow_ref(cs);
        let row = cursor.row;
        let width = COLUMNS - 1 - prompt.len().min(COLUMNS - 1);
        let skip = text.len().saturating_sub(width);
        let mut column = 0;
        for c in prompt.chars().chain(text[skip..].iter().copied()) {
            put_cell(row, column, cp437(c), NORMAL);
            column += 1;
        }
        clear_row(row, column.min(COLUMNS));
        place_hardware_cursor(row, prompt.len() + cursor_at.saturating_sub(skip));
    });
}

/// Ends the edited line: the screen moves to the next row, and serial gets the whole line
/// (`prompt` and `text`) once.
pub fn commit_input(prompt: &str, text: &[char], suffix: &str) {
    critical_section::with(|cs| {
        let mut cursor = CURSOR.borrow_ref_mut(cs);
        draw_suffix(&mut cursor, prompt.len() + text.len(), suffix);
        cursor.newline();
        place_hardware_cursor(cursor.row, cursor.column);
        serial::print_args(format_args!("{prompt}"));
        text.iter()
            .for_each(|c| serial::print_args(format_args!("{c}")));
        serial::print_args(format_args!("{suffix}\n"));
    });
}

fn draw_suffix(cursor: &mut Cursor, column: usize, suffix: &str) {
    for (offset, c) in suffix.chars().enumerate() {
        put_cell(cursor.row, column + offset, cp437(c), NORMAL);
    }
}

/// Writes `args` into the status line (row 0) from the left and `right` against its right
/// edge (kept visible however long the left part grows), the rest blank. Screen only.
pub fn set_status(args: fmt::Arguments<'_>, right: &str) {
    struct StatusLine {
        column: usize,
        end: usize,
    }
    impl Write for StatusLine {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for c in s.chars() {
                if self.column < self.end {
                    put_cell(STATUS_ROW, self.column, cp437(c), STATUS);
                    self.column += 1;
                }
            }
            Ok(())
        }
    }
    let right_start = COLUMNS.saturating_sub(right.chars().count());
    critical_section::with(|_| {
        let mut line = StatusLine {
            column: 0,
            end: right_start,
        };
        let _ = line.write_fmt(args);
        for column in line.column..right_start {
            put_cell(STATUS_ROW, column, b' ', STATUS);
        }
        for (offset, c) in right.chars().enumerate() {
            put_cell(STATUS_ROW, right_start + offset, cp437(c), STATUS);
        }
    });
}
