//! The two cascaded 8259 PICs, remapped so IRQ 0..15 arrive at vectors 0x20..0x2F (clear of
//! the CPU exception vectors 0..31).

use irqkit_hal::critical_section;
use irqkit_hal::PortIo;

use crate::port::ports;

/// Vector of IRQ 0; IRQ n arrives at `IRQ_BASE_VECTOR + n`.
pub const IRQ_BASE_VECTOR: u8 = 0x20;
/// Number of IRQ lines behind the two PICs.
pub const IRQ_COUNT: u8 = 16;

const MASTER_COMMAND: u16 = 0x20;
const MASTER_DATA: u16 = 0x21;
const SLAVE_COMMAND: u16 = 0xA0;
const SLAVE_DATA: u16 = 0xA1;
/// The IRQ line of the master that the slave is cascaded on.
const CASCADE_IRQ: u8 = 2;
const ICW1_INIT_WITH_ICW4: u8 = 0x11;
const ICW4_8086: u8 = 0x01;
const OCW2_EOI: u8 = 0x20;
const OCW3_READ_ISR: u8 = 0x0B;

/// A port write with no effect, to give the old PICs time between initialisation words.
fn io_wait() {
    ports().write8(0x80, 0);
}

/// Remaps both PICs to [`IRQ_BASE_VECTOR`] and masks every line except the cascade.
/// Call with interrupts disabled.
pub fn init() {
    let mut io = ports();
    for (command, data, vector_base, cascade) in [
        (
            MASTER_COMMAND,
            MASTER_DATA,
            IRQ_BASE_VECTOR,
            1 << CASCADE_IRQ,
        ),
        (SLAVE_COMMAND, SLAVE_DATA, IRQ_BASE_VECTOR + 8, CASCADE_IRQ),
    ] {
        io.write8(command, ICW1_INIT_WITH_ICW4);
        io_wait();
        io.write8(data, vector_base);
        io_wait();
        io.write8(data, cascade);
        io_wait();
        io.write8(data, ICW4_8086);
        io_wait();
    }
    io.write8(MASTER_DATA, !(1 << CASCADE_IRQ));
    io.write8(SLAVE_DATA, 0xFF);
}

fn data_port_and_bit(irq: u8) -> (u16, u8) {
    if irq < 8 {
        (MASTER_DATA, irq)
    } else {
        (SLAVE_DATA, irq - 8)
    }
}

/// Lets `irq` through to the CPU.
pub fn unmask(irq: u8) {
    let (port, bit) = data_port_and_bit(irq);
    critical_section::with(|_| {
        let mut io = ports();
        let mask = io.read8(port);
        io.write8(port, mask & !(1 << bit));
    });
}

/// Blocks `irq` at the PIC.
pub fn mask(irq: u8) {
    let (port, bit) = data_port_and_bit(irq);
    critical_section::with(|_| {
        let mut io = ports();
        let mask = io.read8(port);
        io.write8(port, mask | (1 << bit));
    });
}

/// Whether an IRQ 7 or IRQ 15 is spurious (its in-service bit is clear): such an interrupt
/// must not be acknowledged at its own PIC (a spurious IRQ 15 still needs the master's EOI,
/// since the master did see the cascade line).
pub fn is_spurious(irq: u8) -> bool {
    let mut io = ports();
    match irq {
        7 => {
            io.write8(MASTER_COMMAND, OCW3_READ_ISR);
            io.read8(MASTER_COMMAND) & (1 << 7) == 0
        }
        15 => {
            io.write8(SLAVE_COMMAND, OCW3_READ_ISR);
            io.read8(SLAVE_COMMAND) & (1 << 7) == 0
        }
        _ => false,
    }
}

/// Acknowledges `irq` (slave first when it came through the cascade).
pub fn end_of_interrupt(irq: u8) {
    let mut io = ports();
    if irq >= 8 {
        io.write8(SLAVE_COMMAND, OCW2_EOI);
    }
    io.write8(MASTER_COMMAND, OCW2_EOI);
}

/// Acknowledges only the master: the end of a spurious IRQ 15.
pub fn end_of_interrupt_master_only() {
    ports().write8(MASTER_COMMAND, OCW2_EOI);
}
