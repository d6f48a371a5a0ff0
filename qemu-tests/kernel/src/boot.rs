//! The PVH entry: QEMU's `-kernel` loader finds the `.note.pvh` ELF note, loads the image at
//! 1 MiB and jumps to `pvh_start32` in 32-bit protected mode with paging off and `ebx` holding
//! the physical address of `hvm_start_info`.
//!
//! The stub zeroes `.bss`, identity-maps the first 1 GiB with 2 MiB pages, enters long mode,
//! loads a GDT with one 64-bit code segment (selector [`KERNEL_CODE_SELECTOR`]) and calls
//! `kernel_main(start_info)` on a 64 KiB stack.
//!
//! The first 2 MiB are mapped with 4 KiB pages so two pages can stay unmapped: page 0 (a null
//! pointer access faults) and the guard page below the stack (an overflow faults, and the
//! double-fault handler reports it from its own stack, see `gdt`).

/// The GDT selector of the 64-bit ring-0 code segment set up by the stub (IDT gates use it).
pub const KERNEL_CODE_SELECTOR: u16 = 0x08;

core::arch::global_asm!(
    r#"
    /* PVH ELF note: name "Xen", type 18 = XEN_ELFNOTE_PHYS32_ENTRY, 8-byte descriptor. */
    .section .note.pvh, "a"
    .balign 4
    .long 4
    .long 8
    .long 18
    .asciz "Xen"
    .balign 4
    .quad pvh_start32

    .section .text.boot, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %esi                  /* keep hvm_start_info for kernel_main */

    /* Zero .bss: the page tables and the stack live there. */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    /* PML4[0] -> PDPT, PDPT[0] -> PD (present | writable). */
    mov $boot_pdpt, %eax
    or $0x3, %eax
    mov %eax, boot_pml4
    mov $boot_pd, %eax
    or $0x3, %eax
    mov %eax, boot_pdpt

    /* PD[i] = i * 2 MiB | present | writable | page size: identity map of 1 GiB. */
    mov $boot_pd, %edi
    mov $0x83, %eax
    mov $512, %ecx
1:
    mov %eax, (%edi)
    add $0x200000, %eax
    add $8, %edi
    dec %ecx
    jnz 1b

    /* PD[0] -> PT instead: the first 2 MiB in 4 KiB pages, so that page 0 (null pointers)
       and the guard page below the stack can be left unmapped. */
    mov $boot_pt, %edi
    mov $0x3, %eax
    mov $512, %ecx
3:
    mov %eax, (%edi)
    add $0x1000, %eax
    add $8, %edi
    dec %ecx
    jnz 3b
    movl $0, boot_pt                /* page 0 */
    mov $boot_stack_guard, %eax
    cmp $0x200000, %eax
    jae 4f
    shr $12, %eax
    movl $0, boot_pt(,%eax,8)       /* the stack's guard page */
4:
    mov $boot_pt, %eax
    or $0x3, %eax
    mov %eax, boot_pd

    /* CR4.PAE, CR3 = PML4, EFER.LME, then CR0.PG | CR0.PE. */
    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4
    mov $boot_pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx
    rdmsr
    or $0x100, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $pvh_start64

    .code64
pvh_start64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %rsp       /* 16-byte aligned: the call below keeps the ABI's rule */
    mov %esi, %edi                  /* zero-extends: first argument = hvm_start_info */
    call kernel_main
2:
    cli
    hlt
    jmp 2b

    .section .rodata.boot, "a"
    .balign 16
boot_gdt:
    .quad 0                         /* null */
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code, ring 0 */
    .quad 0x00cf92000000ffff        /* 0x10: data, ring 0 */
boot_gdt_end:
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .bss.boot_tables, "aw", @nobits
    .balign 4096
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4096
boot_pt:
    .skip 4096

    .section .bss.boot_stack, "aw", @nobits
    .balign 4096
boot_stack_guard:                   /* unmapped: an overflow faults instead of corrupting */
    .skip 4096
boot_stack:
    .skip 65536
boot_stack_top:

    /* The double-fault handler's own stack (IST 1), so a stack overflow can be reported. */
    .balign 16
double_fault_stack:
    .skip 16384
    .global double_fault_stack_top
double_fault_stack_top:
    .global boot_stack_guard
    "#,
    options(att_syntax)
);

extern "C" {
    /// The unmapped page below the boot stack (only its address is used).
    pub static boot_stack_guard: [u8; 4096];
    /// The top of the double-fault stack (only its address is used).
    pub static double_fault_stack_top: u8;
}

/// The address range of the stack's guard page.
pub fn stack_guard() -> core::ops::Range<u64> {
    let start = (&raw const boot_stack_guard) as u64;
    start..start + 4096
}
