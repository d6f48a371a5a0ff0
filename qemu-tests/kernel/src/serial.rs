//! COM1 (16550 UART at 0x3F8) output, and the `print!` / `println!` macros built on it.
//!
//! QEMU's `-serial stdio` hands every byte to the host runner, which reads whole lines.

use core::fmt::{self, Write};

use irqkit_hal::critical_section;
use irqkit_hal::PortIo;

use crate::port::ports;

const COM1: u16 = 0x3F8;
const DATA: u16 = COM1;
const INTERRUPT_ENABLE: u16 = COM1 + 1;
const FIFO_CONTROL: u16 = COM1 + 2;
const LINE_CONTROL: u16 = COM1 + 3;
const MODEM_CONTROL: u16 = COM1 + 4;
const LINE_STATUS: u16 = COM1 + 5;
/// Line status: the transmit holding register is empty.
const TRANSMIT_EMPTY: u8 = 1 << 5;
/// Polls of the line status per byte before the byte is written anyway: a missing UART must
/// not hang the kernel (QEMU's is always ready).
const MAX_POLLS: u32 = 100_000;

/// Programs COM1 for 115200 baud, 8N1, FIFOs on, no UART interrupts.
pub fn init() {
    let mut io = ports();
    io.write8(INTERRUPT_ENABLE, 0x00);
    io.write8(LINE_CONTROL, 0x80); // DLAB: the next two registers are the divisor
    io.write8(DATA, 0x01); // divisor 1 = 115200 baud
    io.write8(INTERRUPT_ENABLE, 0x00);
    io.write8(LINE_CONTROL, 0x03); // 8 data bits, no parity, 1 stop bit, DLAB off
    io.write8(FIFO_CONTROL, 0xC7); // enable and clear FIFOs
    io.write8(MODEM_CONTROL, 0x03); // DTR | RTS
}

/// A `core::fmt::Write` sink that sends bytes to COM1.
#[derive(Debug)]
pub struct SerialWriter;

impl Write for SerialWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut io = ports();
        for byte in s.bytes() {
            let mut polls = 0;
            while io.read8(LINE_STATUS) & TRANSMIT_EMPTY == 0 && polls < MAX_POLLS {
                polls += 1;
            }
            io.write8(DATA, byte);
        }
        Ok(())
    }
}

/// Writes formatted text to COM1 inside a critical section, so lines printed by interrupt
/// handlers never interleave with the main flow's lines. Used by [`print!`](crate::print).
pub fn print_args(args: fmt::Arguments<'_>) {
    critical_section::with(|_| {
        // SerialWriter itself never fails; a formatting error of a Display impl is dropped here
        // rather than turned into a panic inside the panic handler's own output path.
        let _ = SerialWriter.write_fmt(args);
    });
}

/// Prints to COM1 like `std::print!`.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::serial::print_args(format_args!($($arg)*)) };
}

/// Prints a line to COM1 like `std::println!` (the host runner splits serial output at `\n`).
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::serial::print_args(format_args!("{}\n", format_args!($($arg)*))) };
}
