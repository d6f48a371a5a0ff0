//! The whole keyboard path of a kernel, runnable on the host:
//!
//! ```text
//! IRQ 1 top half      reads port 0x60 (when status OBF says a byte is there) and pushes the
//!                     byte into an irqkit-intq queue; the push schedules the bottom half
//! bottom half         runs later from the main loop, interrupts enabled: drains the queue,
//!                     decodes scancodes (irqkit-ps2), applies the layout, gets characters
//! ```
//!
//! `cargo run -p irqkit-examples --example keyboard`. The only host stand-in is the i8042 at
//! the bottom of this file; the comments marked "In a kernel" say what replaces it. No
//! `static mut`, no `unsafe`: the kernel owns the statics, the crates hold no global state.

use core::cell::RefCell;

use critical_section::Mutex;
use irqkit_defer::{Budget, Executor, State, Work};
use irqkit_hal::PortIo;
use irqkit_intq::{Consumer, Producer, Queue};
use irqkit_ps2::controller::read_keyboard_byte;
use irqkit_ps2::keyboard::{DecodedKey, Keyboard};
use irqkit_ps2::layout::Us;
use irqkit_ps2::{Decoder, ScancodeSet};

/// Scancodes the queue holds between the two halves (a burst of typing is a few dozen).
const QUEUE_LEN: usize = 64;

/// Runs the bottom halves; the kernel's main loop drives it.
static EXECUTOR: Executor = Executor::new();
/// The keyboard's bottom half. Every push into `SCANCODES` schedules it (schedules coalesce).
static KEYBOARD_BH: Work = Work::new(&EXECUTOR, keyboard_bottom_half);
/// Scancodes from the top half to the bottom half.
static SCANCODES: Queue<u8, QUEUE_LEN> = Queue::new().with_pend(&KEYBOARD_BH);
/// The top half's end of the queue.
static PRODUCER: Mutex<RefCell<Option<Producer<'static, u8, QUEUE_LEN>>>> =
    Mutex::new(RefCell::new(None));
/// Everything the bottom half owns between runs.
static KEYBOARD: State<KeyboardState> = State::new();

struct KeyboardState {
    scancodes: Consumer<'static, u8, QUEUE_LEN>,
    decoder: Decoder,
    keyboard: Keyboard<Us>,
    /// In a kernel: the terminal's input line (a `heapless::String`, a TTY buffer).
    typed: String,
}

/// IRQ 1, the top half: one byte from the controller into the queue, nothing else.
///
/// In a kernel: the IDT entry of the keyboard vector calls this with `irqkit_hal`'s
/// `X86PortIo`, then acknowledges the interrupt (EOI). Interrupts are masked in the handler,
/// so the critical section around the producer costs nothing there.
fn irq1_top_half(ports: &mut impl PortIo) {
    let Some(byte) = read_keyboard_byte(ports) else {
        return; // no byte (a shared or spurious interrupt) or a mouse byte
    };
    critical_section::with(|cs| {
        if let Some(producer) = PRODUCER.borrow_ref_mut(cs).as_mut() {
            // Never blocks: a full queue counts an overrun, which the consumer can report.
            let _ = producer.push_or_count(byte);
        }
    });
}

/// The bottom half: runs with interrupts enabled; only taking its state out and putting it
/// back mask them, for a few instructions each.
fn keyboard_bottom_half() {
    let _ = KEYBOARD.with(|kbd| {
        let mut bytes = [0u8; 16];
        loop {
            let count = kbd.scancodes.pop_slice(&mut bytes);
            if count == 0 {
                break;
            }
            for &byte in &bytes[..count] {
                // Decode and apply the layout in one call; what is not a key (ACKs and other
                // responses to commands) comes back for the command engine.
                let _responses = kbd.keyboard.feed(&mut kbd.decoder, byte, |key| match key {
                    DecodedKey::Char(c) => kbd.typed.push(c),
                    // Arrows, F-keys: for whoever wants them.
                    DecodedKey::Key(_) => {}
                    // A lock key toggled: send the LEDs (irqkit-ps2's CommandEngine,
                    // `Command::SetLeds(locks.into())`).
                    DecodedKey::LocksChanged(_) => {}
                });
            }
        }
    });
}

/// Boot: split the queue once, hand the producer to the top half and the consumer to the
/// bottom half. In a kernel, IRQ 1 is unmasked after this (and after `I8042::init`).
fn init() {
    let (producer, consumer) = SCANCODES.split_static().expect("split once, at boot");
    critical_section::with(|cs| *PRODUCER.borrow_ref_mut(cs) = Some(producer));
    let state = KeyboardState {
        scancodes: consumer,
        // Set 1: what the CPU reads when the i8042 translates (the firmware's default).
        decoder: Decoder::new(ScancodeSet::Set1),
        keyboard: Keyboard::new(Us),
        typed: String::new(),
    };
    assert!(KEYBOARD.put(state).is_ok(), "initialised once");
}

fn main() {
    init();
    let mut i8042 = host::I8042::default();
    // "Hi!" in set 1: Shift down, H, Shift up, I, Shift down, 1, Shift up.
    let typing = [0x2A, 0x23, 0xA3, 0xAA, 0x17, 0x97, 0x2A, 0x02, 0x82, 0xAA];
    for byte in typing {
        // The keyboard sends a byte; the controller raises IRQ 1.
        i8042.receive(byte);
        irq1_top_half(&mut i8042);
        // The main loop runs what the interrupts scheduled. In a kernel:
        // `loop { EXECUTOR.run(Budget::items(16)); EXECUTOR.wait_for_work(idle) }`, where
        // `idle` is irqkit-hal's race-free `sti; hlt` (`x86::interrupts::idle`).
        while EXECUTOR
            .run(Budget::items(16))
            .expect("one runner")
            .more_work
        {}
    }
    let typed = KEYBOARD.with(|kbd| kbd.typed.clone()).expect("initialised");
    println!("typed: {typed}");
    assert_eq!(typed, "Hi!");
}

/// The host stand-in for the hardware.
mod host {
    use irqkit_hal::PortIo;

    /// An i8042 that holds one byte at a time, as the real one does: status bit 0 (OBF) says
    /// a byte waits at port 0x60.
    #[derive(Debug, Default)]
    pub struct I8042 {
        output: Option<u8>,
    }

    impl I8042 {
        /// The keyboard sends `byte`.
        pub fn receive(&mut self, byte: u8) {
            self.output = Some(byte);
        }
    }

    impl PortIo for I8042 {
        fn read8(&mut self, port: u16) -> u8 {
            match port {
                0x64 => u8::from(self.output.is_some()),
                0x60 => self.output.take().unwrap_or(0),
                _ => 0xFF,
            }
        }
        fn write8(&mut self, _port: u16, _value: u8) {}
        fn read16(&mut self, _port: u16) -> u16 {
            0xFFFF
        }
        fn write16(&mut self, _port: u16, _value: u16) {}
        fn read32(&mut self, _port: u16) -> u32 {
            !0
        }
        fn write32(&mut self, _port: u16, _value: u32) {}
    }
}

#[test]
fn keyboard_path() {
    main();
}
