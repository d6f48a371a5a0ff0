//! Port I/O over a memory-mapped register window.
//!
//! Some boards put port-style devices (a 16550 UART, an i8042, an IDE channel) behind a memory
//! window instead of x86 I/O space. [`MmioPorts`] maps "port" `n` to byte offset `n << shift`
//! of the window, with volatile accesses through `volatile-register`.

use core::ptr::NonNull;

use volatile_register::RW;

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

    /// The register at `port` as a `T`, if it lies inside the window and is aligned.
    fn register<T: Copy>(&self, port: u16) -> Option<&RW<T>> {
        let size = core::mem::size_of::<T>();
        let offset = usize::from(port) << self.shift;
        let end = offset.checked_add(size)?;
        let addr = (self.base.as_ptr() as usize).checked_add(offset)?;
        if end > self.len || addr % core::mem::align_of::<T>() != 0 {
            return None;
        }
        // SAFETY: `offset..end` lies inside the window that `new`'s caller promised is valid
        // for volatile access for our lifetime, and the address is aligned for `T`. `RW<T>` is
        // a transparent wrapper over an `UnsafeCell<T>`, so a shared reference to it permits
        // the volatile writes done through it.
        Some(unsafe { &*(self.base.as_ptr().add(offset) as *const RW<T>) })
    }

    fn read<T: Copy>(&self, port: u16, floating: T) -> T {
        self.register::<T>(port).map_or(floating, RW::read)
    }

    fn write<T: Copy>(&self, port: u16, value: T) {
        if let Some(reg) = self.register::<T>(port) {
            // SAFETY: the register is inside the caller-vouched window (see `register`); the
            // caller of `new` took responsibility for the device-level effects of writes.
            unsafe { reg.write(value) }
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
}
