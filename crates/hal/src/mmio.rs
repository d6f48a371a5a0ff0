//! Port I/O over a memory-mapped register window.
//!
//! Some boards put port-style devices (a 16550 UART, an i8042, an IDE channel) behind a memory
//! window instead of x86 I/O space. [`MmioPorts`] maps "port" `n` to byte offset `n << shift`
//! of the window, with volatile accesses through raw pointers.
//!
//! No Rust reference to a register is ever created: a reference is `dereferenceable`, which
//! lets the compiler insert reads of its own (hoisting a load out of a branch, for instance),
//! and an extra read of a read-sensitive register (a FIFO, a status register that acknowledges
//! an interrupt) loses data. `core::ptr::read_volatile` / `write_volatile` on a raw pointer do
//! exactly one access of the given width each, where the program asks for it.

use core::ptr::NonNull;

use crate::PortIo;

/// A window of device registers in memory, used as a port space.
///
/// A port maps to the byte at `base + (port << shift)`. Accesses outside the window or not
/// aligned to their width do not touch memory: reads return all ones and writes are dropped,
/// the behaviour of a floating PC bus, so a wrong port number is a device-level fault rather
/// than memory corruption.
///
/// # Example
///
/// ```no_run
/// use irqkit_hal::{mmio::MmioPorts, PortIo};
///
/// // A 16550 UART whose registers sit 4 bytes apart at 0x1000_0000 (as on many SoCs).
/// // SAFETY: the window is the UART's register block, mapped uncached, used only here.
/// let mut uart = unsafe { MmioPorts::new(0x1000_0000 as *mut u8, 0x20, 2) };
/// let line_status = uart.read8(5);
/// ```
#[derive(Debug)]
pub struct MmioPorts {
    base: NonNull<u8>,
    len: usize,
    shift: u8,
}

// SAFETY: `MmioPorts` is a capability to a register window that its creator promised is used
// only through this value (see `new`); moving that capability to another thread or to an
// interrupt handler does not create a second path to the registers.
unsafe impl Send for MmioPorts {}

impl MmioPorts {
    /// Creates a port space over `len` bytes of registers at `base`, port `n` at byte offset
    /// `n << shift` (a `shift` above 15 is clamped to 15).
    ///
    /// # Safety
    ///
    /// The caller guarantees that:
    /// - `base..base + len` is a mapped region of device registers (or memory) that is valid
    ///   for volatile reads and writes of 1, 2 and 4 bytes at any aligned offset, for as long as
    ///   this value lives;
    /// - nothing else accesses that region through Rust references while this value lives
    ///   (other volatile accessors are fine as far as the device protocol allows);
    /// - writing to those registers cannot break memory safety elsewhere (for example by
    ///   starting a DMA transfer into memory the program uses), or the driver using this value
    ///   is trusted not to do so.
    pub const unsafe fn new(base: *mut u8, len: usize, shift: u8) -> Self {
        let shift = if shift > 15 { 15 } else { shift };
        match NonNull::new(base) {
            Some(base) => Self { base, len, shift },
            // A null base has no valid window: every access is out of range.
            None => Self {
                base: NonNull::dangling(),
                len: 0,
                shift,
            },
        }
    }

    /// A pointer to the register at `port` as a `T`, if it lies inside the window and is
    /// aligned for `T`.
    fn register<T>(&self, port: u16) -> Option<*mut T> {
        let size = core::mem::size_of::<T>();
        let offset = usize::from(port) << self.shift;
        let end = offset.checked_add(size)?;
        if end > self.len {
            return None;
        }
        // SAFETY: `offset + size <= len`, so `base + offset` is inside (or, for a zero-sized
        // `T`, one past the end of) the region that `new`'s caller promised is valid; a pointer
        // computed that way stays in bounds and does not wrap.
        let reg = unsafe { self.base.as_ptr().add(offset) };
        if reg.addr() % core::mem::align_of::<T>() != 0 {
            return None;
        }
        Some(reg.cast::<T>())
    }

    fn read<T: Copy>(&self, port: u16, floating: T) -> T {
        match self.register::<T>(port) {
            // SAFETY: `register` checked that the `size_of::<T>()` bytes lie inside the window
            // that `new`'s caller promised is valid for volatile reads of this width, and that
            // the pointer is aligned for `T`. The access goes through the raw pointer: no
            // reference to device memory exists, so the compiler adds no access of its own.
            Some(reg) => unsafe { reg.read_volatile() },
            None => floating,
        }
    }

    fn write<T: Copy>(&self, port: u16, value: T) {
        if let Some(reg) = self.register::<T>(port) {
            // SAFETY: as in `read`, for volatile writes; the caller of `new` took
            // responsibility for the device-level effects of writes.
            unsafe { reg.write_volatile(value) }
        }
    }
}

impl PortIo for MmioPorts {
    fn read8(&mut self, port: u16) -> u8 {
        self.read(port, u8::MAX)
    }
    fn write8(&mut self, port: u16, value: u8) {
        self.write(port, value)
    }
    fn read16(&mut self, port: u16) -> u16 {
        self.read(port, u16::MAX)
    }
    fn write16(&mut self, port: u16, value: u16) {
        self.write(port, value)
    }
    fn read32(&mut self, port: u16) -> u32 {
        self.read(port, u32::MAX)
    }
    fn write32(&mut self, port: u16, value: u32) {
        self.write(port, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(align(8))]
    struct Window([u8; 16]);

    #[test]
    fn reads_and_writes_land_at_shifted_offsets() {
        let mut mem = Window([0; 16]);
        // SAFETY: `mem` is plain memory that outlives `ports` and is not touched meanwhile.
        let mut ports = unsafe { MmioPorts::new(mem.0.as_mut_ptr(), 16, 2) };
        ports.write8(1, 0xAB);
        ports.write16(2, 0x1234);
        ports.write32(3, 0xDEAD_BEEF);
        assert_eq!(ports.read8(1), 0xAB);
        assert_eq!(ports.read16(2), 0x1234);
        assert_eq!(ports.read32(3), 0xDEAD_BEEF);
        assert_eq!(mem.0[4], 0xAB);
        assert_eq!(&mem.0[8..10], &0x1234u16.to_ne_bytes());
        assert_eq!(&mem.0[12..16], &0xDEAD_BEEFu32.to_ne_bytes());
    }

    #[test]
    fn outside_or_misaligned_floats() {
        let mut mem = Window([0; 16]);
        // SAFETY: as above.
        let mut ports = unsafe { MmioPorts::new(mem.0.as_mut_ptr(), 16, 0) };
        assert_eq!(ports.read8(16), 0xFF);
        assert_eq!(ports.read32(13), u32::MAX);
        assert_eq!(ports.read16(1), u16::MAX);
        ports.write32(14, 0);
        ports.write8(u16::MAX, 0);
        let mut words = [0u16; 2];
        ports.read16_into(20, &mut words);
        assert_eq!(words, [u16::MAX; 2]);
        assert_eq!(mem.0, [0; 16]);
        // SAFETY: a null window is never dereferenced.
        let mut none = unsafe { MmioPorts::new(core::ptr::null_mut(), 64, 0) };
        assert_eq!(none.read8(0), 0xFF);
    }

    /// A window allocated with exactly its length: an access past its end would be an
    /// out-of-bounds access that Miri reports, so these checks run under Miri.
    #[test]
    fn window_of_exact_size_is_never_overrun() {
        use std::alloc::{alloc_zeroed, dealloc, Layout};
        let layout = Layout::from_size_align(6, 8).unwrap();
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { alloc_zeroed(layout) };
        assert!(!base.is_null());
        // SAFETY: `base` is 6 bytes of fresh memory, freed only after `ports` is dropped.
        let mut ports = unsafe { MmioPorts::new(base, 6, 0) };
        ports.write16(4, 0xBEEF);
        assert_eq!(ports.read16(4), 0xBEEF);
        ports.write8(5, 0x12);
        assert_eq!(ports.read8(5), 0x12);
        // Bytes 4..8 and 6..7 reach past the allocation: they float, nothing is touched.
        assert_eq!(ports.read32(4), u32::MAX);
        ports.write32(4, 0);
        assert_eq!(ports.read8(6), 0xFF);
        ports.write8(6, 0);
        assert_eq!(ports.read16(4), 0x12EF);
        // SAFETY: allocated above with this layout.
        unsafe { dealloc(base, layout) };
    }

    /// The "device" changes registers behind the driver's back (through another raw pointer to
    /// the same memory): every read is a fresh access that sees the change, and the window
    /// holds no reference that the other writer's accesses would invalidate.
    #[test]
    fn device_side_changes_are_seen_by_every_read() {
        let mut mem = Window([0; 16]);
        let base = mem.0.as_mut_ptr();
        // SAFETY: `mem` outlives `ports`; the other accesses below are raw-pointer ones.
        let mut ports = unsafe { MmioPorts::new(base, 16, 1) };
        for value in [0x01u8, 0x80, 0x21] {
            // SAFETY: byte 6 of the 16-byte window, written as a device would.
            unsafe { base.add(6).write_volatile(value) };
            assert_eq!(ports.read8(3), value);
        }
        ports.write32(2, 0x0403_0201);
        // SAFETY: bytes 4..8 of the window, read as the device would.
        let seen = unsafe { base.add(4).cast::<u32>().read_volatile() };
        assert_eq!(seen, 0x0403_0201);
        assert_eq!(&mem.0[4..8], &0x0403_0201u32.to_ne_bytes());
    }

    #[test]
    fn the_largest_port_and_shift_stay_outside() {
        let mut mem = Window([0; 16]);
        // SAFETY: as above; a shift above 15 is clamped.
        let mut ports = unsafe { MmioPorts::new(mem.0.as_mut_ptr(), 16, 200) };
        assert_eq!(ports.shift, 15);
        ports.write8(0, 0x5A);
        assert_eq!(ports.read8(0), 0x5A);
        assert_eq!(ports.read8(1), 0xFF);
        assert_eq!(ports.read8(u16::MAX), 0xFF);
        assert_eq!(ports.read32(1), u32::MAX);
        ports.write16(u16::MAX, 0);
        assert_eq!(mem.0[0], 0x5A);
        assert_eq!(mem.0[1..], [0; 15]);
    }
}
