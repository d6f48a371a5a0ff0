//! Port I/O: the register access every legacy PC device speaks.

/// Access to a 16-bit I/O address space: 8/16/32-bit registers and string transfers.
///
/// The six scalar methods are the primitives. The string methods (`*_into`, `*_from`) move a
/// whole slice through one port, the way `rep insw` / `rep outsw` do; their default bodies loop
/// over the scalar methods, and implementations with a block instruction override them.
///
/// Methods take `&mut self` and cannot fail: a port access on a PC has no error path (an
/// absent device reads as all ones, a "floating bus"). Implementations for other buses
/// document what they do for addresses they do not decode.
///
/// # Memory ordering
///
/// Port I/O is **not** a memory barrier. Nothing in this trait promises that stores to memory
/// made before a port write reach memory before the device sees the write, nor that loads
/// after a port read observe what a device wrote before it: an implementation over volatile
/// MMIO may let the compiler move ordinary accesses across it, and a mock has no device that
/// reads memory at all. (`X86PortIo` happens to be a compiler barrier, and x86 does not reorder
/// memory accesses with I/O instructions, but a generic driver cannot know it runs on that.)
///
/// A driver that hands memory to a bus-master device orders it with
/// [`DmaMap`](crate::dma::DmaMap): [`map`](crate::dma::DmaMap::map) before the port write that
/// starts the device, [`sync_for_cpu`](crate::dma::DmaMap::sync_for_cpu) after the port read that
/// says it is done.
///
/// # Example
///
/// ```
/// use irqkit_hal::PortIo;
///
/// /// Reads one 512-byte ATA sector from the data port with a single string transfer.
/// fn read_sector(ports: &mut impl PortIo, buf: &mut [u16; 256]) {
///     ports.read16_into(0x1F0, buf);
/// }
/// ```
pub trait PortIo {
    /// Reads a byte from `port` (`in al, dx`).
    fn read8(&mut self, port: u16) -> u8;
    /// Writes a byte to `port` (`out dx, al`).
    fn write8(&mut self, port: u16, value: u8);
    /// Reads a 16-bit word from `port` (`in ax, dx`).
    fn read16(&mut self, port: u16) -> u16;
    /// Writes a 16-bit word to `port` (`out dx, ax`).
    fn write16(&mut self, port: u16, value: u16);
    /// Reads a 32-bit double word from `port` (`in eax, dx`).
    fn read32(&mut self, port: u16) -> u32;
    /// Writes a 32-bit double word to `port` (`out dx, eax`).
    fn write32(&mut self, port: u16, value: u32);

    /// Fills `buf` with successive bytes read from `port` (`rep insb`).
    fn read8_into(&mut self, port: u16, buf: &mut [u8]) {
        for b in buf {
            *b = self.read8(port);
        }
    }
    /// Writes every byte of `buf` to `port` in order (`rep outsb`).
    fn write8_from(&mut self, port: u16, buf: &[u8]) {
        for &b in buf {
            self.write8(port, b);
        }
    }
    /// Fills `buf` with successive words read from `port` (`rep insw`).
    fn read16_into(&mut self, port: u16, buf: &mut [u16]) {
        for w in buf {
            *w = self.read16(port);
        }
    }
    /// Writes every word of `buf` to `port` in order (`rep outsw`).
    fn write16_from(&mut self, port: u16, buf: &[u16]) {
        for &w in buf {
            self.write16(port, w);
        }
    }
    /// Fills `buf` with successive double words read from `port` (`rep insd`).
    fn read32_into(&mut self, port: u16, buf: &mut [u32]) {
        for d in buf {
            *d = self.read32(port);
        }
    }
    /// Writes every double word of `buf` to `port` in order (`rep outsd`).
    fn write32_from(&mut self, port: u16, buf: &[u32]) {
        for &d in buf {
            self.write32(port, d);
        }
    }
}

/// Lets a driver borrow a bus: `Driver::new(&mut ports)` keeps the caller's handle.
impl<T: PortIo + ?Sized> PortIo for &mut T {
    #[inline]
    fn read8(&mut self, port: u16) -> u8 {
        T::read8(self, port)
    }
    #[inline]
    fn write8(&mut self, port: u16, value: u8) {
        T::write8(self, port, value)
    }
    #[inline]
    fn read16(&mut self, port: u16) -> u16 {
        T::read16(self, port)
    }
    #[inline]
    fn write16(&mut self, port: u16, value: u16) {
        T::write16(self, port, value)
    }
    #[inline]
    fn read32(&mut self, port: u16) -> u32 {
        T::read32(self, port)
    }
    #[inline]
    fn write32(&mut self, port: u16, value: u32) {
        T::write32(self, port, value)
    }
    #[inline]
    fn read8_into(&mut self, port: u16, buf: &mut [u8]) {
        T::read8_into(self, port, buf)
    }
    #[inline]
    fn write8_from(&mut self, port: u16, buf: &[u8]) {
        T::write8_from(self, port, buf)
    }
    #[inline]
    fn read16_into(&mut self, port: u16, buf: &mut [u16]) {
        T::read16_into(self, port, buf)
    }
    #[inline]
    fn write16_from(&mut self, port: u16, buf: &[u16]) {
        T::write16_from(self, port, buf)
    }
    #[inline]
    fn read32_into(&mut self, port: u16, buf: &mut [u32]) {
        T::read32_into(self, port, buf)
    }
    #[inline]
    fn write32_from(&mut self, port: u16, buf: &[u32]) {
        T::write32_from(self, port, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::PortIo;

    /// Records accesses; reads return a counter so string reads can be checked for order.
    #[derive(Default)]
    struct Recorder {
        log: [(u16, u32, bool); 16],
        len: usize,
        next: u32,
    }

    impl Recorder {
        fn push(&mut self, port: u16, value: u32, write: bool) {
            self.log[self.len] = (port, value, write);
            self.len += 1;
        }
        fn read(&mut self, port: u16) -> u32 {
            self.next += 1;
            self.push(port, self.next, false);
            self.next
        }
    }

    impl PortIo for Recorder {
        fn read8(&mut self, port: u16) -> u8 {
            self.read(port) as u8
        }
        fn write8(&mut self, port: u16, value: u8) {
            self.push(port, value.into(), true)
        }
        fn read16(&mut self, port: u16) -> u16 {
            self.read(port) as u16
        }
        fn write16(&mut self, port: u16, value: u16) {
            self.push(port, value.into(), true)
        }
        fn read32(&mut self, port: u16) -> u32 {
            self.read(port)
        }
        fn write32(&mut self, port: u16, value: u32) {
            self.push(port, value, true)
        }
    }

    #[test]
    fn string_defaults_loop_in_order() {
        let mut r = Recorder::default();
        let mut words = [0u16; 3];
        r.read16_into(0x1F0, &mut words);
        assert_eq!(words, [1, 2, 3]);
        r.write32_from(0xCFC, &[7, 8]);
        let mut bytes = [0u8; 2];
        r.read8_into(0x60, &mut bytes);
        assert_eq!(bytes, [4, 5]);
        r.write8_from(0x60, &[0xED, 0x02]);
        let mut dwords = [0u32; 1];
        r.read32_into(0xCFC, &mut dwords);
        r.write16_from(0x1F0, &[0xBEEF]);
        assert_eq!(
            &r.log[..r.len],
            &[
                (0x1F0, 1, false),
                (0x1F0, 2, false),
                (0x1F0, 3, false),
                (0xCFC, 7, true),
                (0xCFC, 8, true),
                (0x60, 4, false),
                (0x60, 5, false),
                (0x60, 0xED, true),
                (0x60, 0x02, true),
                (0xCFC, 6, false),
                (0x1F0, 0xBEEF, true),
            ]
        );
        assert_eq!(dwords, [6]);
    }

    #[test]
    fn forwarding_impl_reaches_the_same_bus() {
        fn via_generic(mut p: impl PortIo) -> u16 {
            p.write16(0x10, 0x1234);
            p.read16(0x10)
        }
        let mut r = Recorder::default();
        assert_eq!(via_generic(&mut r), 1);
        assert_eq!(via_generic(&mut &mut r), 2);
        assert_eq!(r.len, 4);
    }
}
