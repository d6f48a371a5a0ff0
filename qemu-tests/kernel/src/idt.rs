//! The interrupt descriptor table and the interrupt entry stubs.
//!
//! Vectors 0..31 are CPU exceptions: they are reported on serial (vector, name, error code,
//! RIP, and CR2 for page faults) and end the run as a failure. Vectors 0x20..0x2F are the
//! remapped PIC IRQs, handed to [`irq::dispatch`]. Other vectors have no gate: raising one
//! faults with #GP/#NP, which is reported like any exception.
//!
//! The stubs are plain assembly (`extern "x86-interrupt"` is nightly-only): each pushes a
//! dummy error code when the CPU does not push one, then its vector number, and jumps to a
//! common path that saves the caller-saved registers, calls [`interrupt_dispatch`] with the
//! stack 16-byte aligned, restores and returns with `iretq`.

use core::arch::{asm, global_asm};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::{boot, boot::KERNEL_CODE_SELECTOR, exit, gdt, irq, pic, println};

/// Number of vectors with a stub: 32 exceptions + 16 PIC IRQs.
const STUB_COUNT: usize = 48;
/// Every stub starts on a 16-byte boundary: stub `v` is at `isr_stubs + 16 * v`.
const STUB_SIZE: usize = 16;
/// The double-fault vector: its gate switches to the IST stack.
const DOUBLE_FAULT: usize = 8;
/// The page-fault vector.
const PAGE_FAULT: u64 = 14;
/// Present, DPL 0, 64-bit interrupt gate (IF cleared on entry).
const INTERRUPT_GATE: u64 = 0x8E;

global_asm!(
    r#"
    .section .text.isr, "ax"
    .balign 16
    .global isr_stubs
isr_stubs:
    .set vector, 0
    .rept 48
    .balign 16
    /* Vectors for which the CPU pushes an error code. */
    .if (vector == 8) || (vector == 10) || (vector == 11) || (vector == 12) || (vector == 13) || (vector == 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30)
    pushq $vector
    .else
    pushq $0
    pushq $vector
    .endif
    jmp isr_common
    .set vector, vector + 1
    .endr

isr_common:
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    push %rbp
    mov %rsp, %rdi          /* &InterruptFrame */
    mov %rsp, %rbp          /* rbp is callee-saved: it restores rsp after the call */
    and $-16, %rsp
    cld
    call interrupt_dispatch
    mov %rbp, %rsp
    pop %rbp
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rax
    add $16, %rsp           /* vector and error code */
    iretq
    "#,
    options(att_syntax)
);

extern "C" {
    /// The first interrupt stub (never called as a function: only its address is used).
    fn isr_stubs();
}

/// What the common stub saved, lowest address first, followed by what the CPU pushed.
#[repr(C)]
#[derive(Debug)]
pub struct InterruptFrame {
    rbp: u64,
    r11: u64,
    r10: u64,
    r9: u64,
    r8: u64,
    rdi: u64,
    rsi: u64,
    rdx: u64,
    rcx: u64,
    rax: u64,
    /// Vector number pushed by the stub.
    pub vector: u64,
    /// The CPU's error code, or 0 for vectors without one.
    pub error_code: u64,
    /// Where the interrupted code was.
    pub rip: u64,
    /// Its code segment.
    pub cs: u64,
    /// Its RFLAGS.
    pub rflags: u64,
    /// Its stack pointer.
    pub rsp: u64,
    /// Its stack segment.
    pub ss: u64,
}

/// 256 gates of 16 bytes. Atomics give interior mutability with the exact layout of `u64`s;
/// the CPU reads the table only after `lidt`.
#[repr(C, align(16))]
struct Idt([AtomicU64; 512]);

static IDT: Idt = Idt([const { AtomicU64::new(0) }; 512]);

/// The `lidt` operand.
#[repr(C, packed)]
struct IdtPointer {
    limit: u16,
    base: u64,
}

/// Fills the gates of vectors 0..0x2F and loads the table. Call with interrupts disabled.
pub fn init() {
    let first_stub = isr_stubs as *const () as usize;
    for vector in 0..STUB_COUNT {
        let handler = (first_stub + vector * STUB_SIZE) as u64;
        let ist = if vector == DOUBLE_FAULT {
            gdt::DOUBLE_FAULT_IST
        } else {
            0
        };
        let low = (handler & 0xFFFF)
            | (u64::from(KERNEL_CODE_SELECTOR) << 16)
            | (u64::from(ist) << 32)
            | (INTERRUPT_GATE << 40)
            | ((handler >> 16) & 0xFFFF) << 48;
        let high = handler >> 32;
        IDT.0[vector * 2].store(low, Ordering::Relaxed);
        IDT.0[vector * 2 + 1].store(high, Ordering::Relaxed);
    }
    let pointer = IdtPointer {
        limit: (core::mem::size_of::<Idt>() - 1) as u16,
        base: &IDT as *const Idt as u64,
    };
    // SAFETY: `pointer` describes the static IDT, which lives forever; every present gate
    // points at a stub above, whose common path preserves all registers the interrupted code
    // may hold and returns with `iretq`. `lidt` only reads the 10-byte operand.
    unsafe { asm!("lidt [{}]", in(reg) &pointer, options(readonly, nostack, preserves_flags)) };
}

/// The Rust side of every interrupt: called by `isr_common` with interrupts disabled.
#[no_mangle]
extern "C" fn interrupt_dispatch(frame: &InterruptFrame) {
    let vector = frame.vector;
    let irq_base = u64::from(pic::IRQ_BASE_VECTOR);
    if (irq_base..irq_base + u64::from(pic::IRQ_COUNT)).contains(&vector) {
        irq::dispatch((vector - irq_base) as u8);
    } else {
        report_exception(frame);
    }
}

/// Set while an exception is being reported.
static REPORTING: AtomicBool = AtomicBool::new(false);

/// Prints the exception line the host runner looks for, and ends the run as a failure.
fn report_exception(frame: &InterruptFrame) -> ! {
    // A fault while reporting a fault must not recurse: end the run at once.
    if REPORTING.swap(true, Ordering::Relaxed) {
        exit::exit(exit::ExitCode::Failure)
    }
    let vector = frame.vector;
    println!(
        "EXCEPTION: {} ({}) vector={} error_code={:#x} rip={:#x} cs={:#x} rflags={:#x} rsp={:#x}",
        exception_mnemonic(vector),
        exception_name(vector),
        vector,
        frame.error_code,
        frame.rip,
        frame.cs,
        frame.rflags,
        frame.rsp,
    );
    let guard = boot::stack_guard();
    if vector == PAGE_FAULT {
        let address = read_cr2();
        println!("EXCEPTION: page fault address cr2={address:#x}");
        if guard.contains(&address) {
            println!("EXCEPTION: the address is the stack's guard page: kernel stack overflow");
        }
    }
    if vector == DOUBLE_FAULT as u64 && frame.rsp.abs_diff(guard.end) <= 4096 + 64 {
        println!(
            "EXCEPTION: the stack pointer is at the stack's guard page: kernel stack overflow"
        );
    }
    exit::exit(exit::ExitCode::Failure)
}

fn read_cr2() -> u64 {
    let value: u64;
    // SAFETY: reading CR2 at CPL 0 has no side effect.
    unsafe { asm!("mov {}, cr2", out(reg) value, options(nomem, nostack, preserves_flags)) };
    value
}

fn exception_mnemonic(vector: u64) -> &'static str {
    const MNEMONICS: [&str; 32] = [
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP", "#SS",
        "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23", "#24", "#25",
        "#26", "#27", "#HV", "#VC", "#SX", "#31",
    ];
    MNEMONICS.get(vector as usize).copied().unwrap_or("#??")
}

fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "divide error",
        1 => "debug",
        2 => "non-maskable interrupt",
        3 => "breakpoint",
        4 => "overflow",
        5 => "bound range exceeded",
        6 => "invalid opcode",
        7 => "device not available",
        8 => "double fault",
        10 => "invalid TSS",
        11 => "segment not present",
        12 => "stack-segment fault",
        13 => "general protection fault",
        14 => "page fault",
        16 => "x87 floating-point error",
        17 => "alignment check",
        18 => "machine check",
        19 => "SIMD floating-point error",
        20 => "virtualization exception",
        21 => "control protection",
        _ => "reserved or unexpected vector",
    }
}
