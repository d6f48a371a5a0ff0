//! The kernel's GDT (replacing the boot stub's): the same code and data segments, plus a TSS
//! whose interrupt stack table gives the double-fault handler a stack of its own. Without it a
//! stack overflow would fault again while pushing the exception frame and triple-fault.

use core::arch::asm;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::boot;

/// The IST slot of the double-fault stack (IDT gate field `ist`).
pub const DOUBLE_FAULT_IST: u8 = 1;

const CODE_64: u64 = 0x00af_9a00_0000_ffff;
const DATA: u64 = 0x00cf_9200_0000_ffff;
const TSS_SELECTOR: u16 = 0x18;
/// Bytes in a 64-bit TSS.
const TSS_SIZE: u64 = 104;
/// Present, 64-bit TSS (available).
const TSS_TYPE: u64 = 0x89;

/// Null, code (0x08), data (0x10), TSS (0x18, two entries). Atomics: the CPU sets the TSS busy
/// bit in this table on `ltr`.
#[repr(C, align(16))]
struct Gdt([AtomicU64; 5]);

static GDT: Gdt = Gdt([const { AtomicU64::new(0) }; 5]);

/// The 104-byte TSS as 32-bit words (its 64-bit fields sit at offsets 4 + 8 n, unaligned).
#[repr(C, align(16))]
struct Tss([AtomicU32; 26]);

static TSS: Tss = Tss([const { AtomicU32::new(0) }; 26]);

/// The `lgdt` operand.
#[repr(C, packed)]
struct GdtPointer {
    limit: u16,
    base: u64,
}

/// Loads the GDT and the TSS. Call once, with interrupts disabled, before `idt::init`.
pub fn init() {
    let ist_top = (&raw const boot::double_fault_stack_top) as u64;
    // IST n lives at byte offset 0x24 + 8 (n - 1): 32-bit words 9 + 2 (n - 1) and the next.
    let word = 9 + 2 * usize::from(DOUBLE_FAULT_IST - 1);
    TSS.0[word].store(ist_top as u32, Ordering::Relaxed);
    TSS.0[word + 1].store((ist_top >> 32) as u32, Ordering::Relaxed);
    // I/O map base = TSS size: no I/O permission bitmap (ring 0 needs none).
    TSS.0[25].store((TSS_SIZE as u32) << 16, Ordering::Relaxed);

    let base = &TSS as *const Tss as u64;
    let limit = TSS_SIZE - 1;
    let tss_low = (limit & 0xFFFF)
        | (base & 0xFF_FFFF) << 16
        | TSS_TYPE << 40
        | ((limit >> 16) & 0xF) << 48
        | ((base >> 24) & 0xFF) << 56;
    for (index, entry) in [0, CODE_64, DATA, tss_low, base >> 32]
        .into_iter()
        .enumerate()
    {
        GDT.0[index].store(entry, Ordering::Relaxed);
    }
    let pointer = GdtPointer {
        limit: (core::mem::size_of::<Gdt>() - 1) as u16,
        base: &GDT as *const Gdt as u64,
    };
    // SAFETY: the new table lives forever and holds the boot stub's code and data descriptors
    // at the same selectors (0x08, 0x10), so the loaded segment registers stay valid; `ltr`
    // loads the TSS descriptor just written, which points at the static TSS.
    unsafe {
        asm!(
            "lgdt [{pointer}]",
            "ltr {selector:x}",
            pointer = in(reg) &pointer,
            selector = in(reg) TSS_SELECTOR,
            options(nostack, preserves_flags)
        )
    };
}
