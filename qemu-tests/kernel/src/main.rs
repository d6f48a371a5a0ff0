//! The irqkit test kernel: booted by QEMU's `-kernel` (PVH), it runs the test case named by
//! `test=NAME` on the command line and reports over COM1, ending the run through
//! `isa-debug-exit` (QEMU status 33 = success, 35 = failure).
//!
//! Serial protocol (one line each, read by the host runner `irqkit-qemu-tests`):
//! - `irqkit test kernel: test=NAME` when the kernel is up;
//! - `READY` when a test is ready for key injection;
//! - test-specific lines (e.g. `ticks=12`, `key=1e`);
//! - `TEST PASSED: NAME` before a success exit;
//! - `PANIC: <message> at <file:line:col>` or `EXCEPTION: ...` before a failure exit.
#![no_std]
#![no_main]

mod ata_disk;
mod boot;
mod boot_info;
mod cases;
mod deferred;
mod delay;
mod demo;
mod dma_region;
mod exit;
mod gdt;
mod ide;
mod idt;
mod irq;
mod keyboard;
mod pattern;
mod pic;
mod port;
mod serial;
mod tests;
mod timer;
mod tsc;

use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use exit::{exit, ExitCode};

/// Called by the boot stub in long mode, interrupts disabled, with the physical address of
/// `hvm_start_info`.
#[no_mangle]
extern "C" fn kernel_main(start_info: usize) -> ! {
    serial::init();
    gdt::init();
    idt::init();
    pic::init();
    timer::init();

    let command_line = match boot_info::command_line(start_info) {
        Ok(command_line) => command_line,
        Err(error) => {
            println!("ERROR: cannot read the command line: {error}");
            exit(ExitCode::Failure)
        }
    };
    boot_info::remember_command_line(command_line);
    let Some(name) = boot_info::argument(command_line, "test") else {
        println!("ERROR: no test=NAME on the command line {command_line:?}");
        tests::print_known();
        exit(ExitCode::Failure)
    };
    let Some(test) = tests::find(name) else {
        println!("ERROR: unknown test {name:?}");
        tests::print_known();
        exit(ExitCode::Failure)
    };
    println!("irqkit test kernel: test={}", test.name);
    (test.run)();
    println!("TEST PASSED: {}", test.name);
    exit(ExitCode::Success)
}

/// Set by the first panic: a panic while reporting one must not recurse.
static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    irqkit_hal::x86::interrupts::disable();
    if PANICKING.swap(true, Ordering::Relaxed) {
        println!("\nPANIC: panicked again while reporting a panic");
        exit(ExitCode::Failure)
    }
    match info.location() {
        Some(location) => println!("PANIC: {} at {}", info.message(), location),
        None => println!("PANIC: {} at <unknown location>", info.message()),
    }
    exit(ExitCode::Failure)
}
