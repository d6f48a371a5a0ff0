//! The test cases, one function each, selected by `test=NAME` on the kernel command line.
//!
//! To add one: write `fn my_case()` below (return to pass; panic, `assert!` or fault to fail;
//! print the lines the host checks), then add `TestCase { name: "my_case", .. }` to [`ALL`].
//! Interrupts are disabled when a case starts; the PIT is programmed and counted on IRQ 0.
//! Hook another IRQ with [`irq::register`]; print `READY` before the host should inject keys.

use core::sync::atomic::{AtomicBool, Ordering};

use irqkit_hal::{x86::interrupts, PortIo};

use crate::{cases, irq, port::ports, println, timer};

/// A test case the host can select.
#[derive(Debug)]
pub struct TestCase {
    /// The `test=` value.
    pub name: &'static str,
    /// One line for the list of known tests.
    pub about: &'static str,
    /// Runs the case; returning means success.
    pub run: fn(),
}

/// Every test case, in the order `print_known` lists them.
pub const ALL: &[TestCase] = &[
    TestCase {
        name: "smoke",
        about: "enables interrupts, waits for 10 PIT ticks, prints ticks=N",
        run: smoke,
    },
    TestCase {
        name: "demo",
        about: "interactive shell on the VGA console (cargo xtask demo); exit powers off",
        run: cases::demo::demo,
    },
    TestCase {
        name: "panic",
        about: "panics with a known message (must be reported as a failure)",
        run: panic,
    },
    TestCase {
        name: "fault",
        about: "executes ud2 (invalid opcode exception, must be reported as a failure)",
        run: fault,
    },
    TestCase {
        name: "page_fault",
        about: "reads unmapped memory (page fault exception, failure)",
        run: page_fault,
    },
    TestCase {
        name: "null_pointer",
        about: "reads address 0 (page 0 is unmapped: page fault, failure)",
        run: null_pointer,
    },
    TestCase {
        name: "stack_overflow",
        about: "recurses without end (guard page, double fault on its own stack, failure)",
        run: stack_overflow,
    },
    TestCase {
        name: "hang",
        about: "cli; hlt forever (the host's deadline must end it)",
        run: hang,
    },
    TestCase {
        name: "echo_keys",
        about: "prints key=XX for each byte from port 0x60 on IRQ 1; ends after Escape's release",
        run: echo_keys,
    },
    TestCase {
        name: "kbd_set1",
        about: "i8042 translated set 1, IRQ 1 -> intq -> defer bottom half, prints KEY lines",
        run: cases::keyboard::kbd_set1,
    },
    TestCase {
        name: "kbd_set2",
        about: "like kbd_set1 with translation off and the keyboard in set 2",
        run: cases::keyboard::kbd_set2,
    },
    TestCase {
        name: "kbd_set3",
        about: "like kbd_set1 with translation off and the keyboard in set 3",
        run: cases::keyboard::kbd_set3,
    },
    TestCase {
        name: "kbd_overrun",
        about: "bottom half held back while 40 keys arrive: the 64-byte queue counts 16 overruns",
        run: cases::keyboard::kbd_overrun,
    },
    TestCase {
        name: "kbd_commands",
        about: "LEDs, typematic, identify, get set: blocking driver, then the command engine",
        run: cases::keyboard::kbd_commands,
    },
    TestCase {
        name: "defer_ticks",
        about: "delayed work on PIT ticks, coalescing, an async task woken by IRQ 1",
        run: cases::defer::defer_ticks,
    },
    TestCase {
        name: "defer_irq14",
        about: "ATA IDENTIFY: IRQ 14 top half schedules the bottom half that reads the data",
        run: cases::ata::defer_irq14,
    },
    TestCase {
        name: "ata_platform",
        about: "IDE on PCI (I/O + bus master on), the DMA region, the sector pattern, TSC rate",
        run: cases::ata_platform::ata_platform,
    },
    TestCase {
        name: "ata_read",
        about: "irqkit-ata: probe, empty secondary, absent slave, pattern reads in every mode",
        run: cases::ata_io::ata_read,
    },
    TestCase {
        name: "ata_write",
        about: "irqkit-ata: writes in every mode, gather write, flush, scatter read back",
        run: cases::ata_io::ata_write,
    },
    TestCase {
        name: "ata_lba48",
        about: "irqkit-ata: 200 GiB disk, I/O across 2^28 and at the end, typed range errors",
        run: cases::ata_io::ata_lba48,
    },
    TestCase {
        name: "ata_queue",
        about: "irqkit-ata: 8 queued reads serviced from the IRQ 14 bottom half, writes + flush",
        run: cases::ata_async::ata_queue,
    },
    TestCase {
        name: "ata_flush",
        about: "irqkit-ata: writes, then FLUSH CACHE (the host checks QEMU's command trace)",
        run: cases::ata_async::ata_flush,
    },
    TestCase {
        name: "ata_async",
        about: "irqkit-ata: a dropped in-flight transfer, an async read woken by IRQ 14",
        run: cases::ata_async::ata_async,
    },
    TestCase {
        name: "ata_bench",
        about: "irqkit-ata: sequential MB/s by PIO, DMA polled/IRQ/queue (mib=, pio_mib=)",
        run: cases::ata_bench::ata_bench,
    },
];

/// The test case called `name`.
pub fn find(name: &str) -> Option<&'static TestCase> {
    ALL.iter().find(|test| test.name == name)
}

/// Lists the test cases on serial (after an unknown or missing `test=`).
pub fn print_known() {
    println!("known tests:");
    for test in ALL {
        println!("  {:<14} {}", test.name, test.about);
    }
}

/// How many ticks `smoke` waits for.
const SMOKE_TICKS: u64 = 10;

fn smoke() {
    println!(
        "smoke: PIT at {} Hz, waiting for {SMOKE_TICKS} ticks",
        timer::TICK_HZ
    );
    timer::wait_ticks(SMOKE_TICKS);
    let ticks = timer::ticks();
    println!("ticks={ticks}");
    println!(
        "unhandled_irqs={} spurious_irqs={}",
        (0..16).map(irq::unhandled_count).sum::<u32>(),
        irq::spurious_count()
    );
    assert!(ticks >= SMOKE_TICKS, "only {ticks} ticks counted");
}

/// The message the host's panic test expects.
const PANIC_MESSAGE: &str = "deliberate panic from the panic test case";

fn panic() {
    panic!("{PANIC_MESSAGE}");
}

fn fault() {
    println!("fault: executing ud2");
    // SAFETY: `ud2` raises #UD, whose handler reports it and ends the run; it never returns.
    unsafe { core::arch::asm!("ud2", options(nomem, nostack)) };
}

/// An address the boot stub's 1 GiB identity map does not cover.
const UNMAPPED_ADDRESS: usize = 0x4000_0000 + 0x1234_5000;

fn page_fault() {
    println!("page_fault: reading {UNMAPPED_ADDRESS:#x}");
    // SAFETY: the address is not mapped, so the read raises #PF, whose handler reports it and
    // ends the run: no value is ever produced from the unmapped address.
    let value = unsafe { (UNMAPPED_ADDRESS as *const u64).read_volatile() };
    println!("page_fault: read {value:#x} without a fault");
}

fn null_pointer() {
    let address = core::hint::black_box(0usize);
    println!("null_pointer: reading {address:#x}");
    // SAFETY: page 0 is unmapped, so the read raises #PF, whose handler reports it and ends
    // the run: no value is ever produced from address 0.
    let value = unsafe { (address as *const u64).read_volatile() };
    println!("null_pointer: read {value:#x} without a fault");
}

fn stack_overflow() {
    println!("stack_overflow: recursing");
    let depth = recurse(0);
    println!("stack_overflow: returned from depth {depth} without a fault");
}

/// Uses 1 KiB of stack per level; `black_box` keeps the compiler from removing the recursion.
fn recurse(depth: u64) -> u64 {
    // Never true (the stack ends long before); it only gives the recursion an exit.
    if core::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    let frame = core::hint::black_box([depth; 128]);
    core::hint::black_box(recurse(depth + 1)) + frame[0]
}

fn hang() {
    println!("hang: cli; hlt forever");
    loop {
        interrupts::disable();
        interrupts::halt();
    }
}

const I8042_DATA: u16 = 0x60;
const I8042_STATUS: u16 = 0x64;
/// Status bit 0: the output buffer holds a byte for the CPU.
const OUTPUT_FULL: u8 = 1 << 0;
/// Translated set 1 break code of Escape: the host sends it last.
const ESCAPE_RELEASE: u8 = 0x81;

static ESCAPE_RELEASED: AtomicBool = AtomicBool::new(false);

fn echo_keys() {
    // Drop whatever the firmware left in the controller, so the first line is the host's key.
    let mut io = ports();
    for _ in 0..32 {
        if io.read8(I8042_STATUS) & OUTPUT_FULL == 0 {
            break;
        }
        io.read8(I8042_DATA);
    }
    irq::register(irq::KEYBOARD, echo_key);
    println!("READY");
    timer::idle_until(|| ESCAPE_RELEASED.load(Ordering::Relaxed));
    irq::unregister(irq::KEYBOARD);
}

fn echo_key(_irq: u8) {
    let mut io = ports();
    // Port 0x60 repeats its last byte when read again: only read what the controller has.
    if io.read8(I8042_STATUS) & OUTPUT_FULL == 0 {
        return;
    }
    let byte = io.read8(I8042_DATA);
    println!("key={byte:02x}");
    if byte == ESCAPE_RELEASE {
        ESCAPE_RELEASED.store(true, Ordering::Relaxed);
    }
}
