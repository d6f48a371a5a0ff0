//! Direct memory access: handing memory to a bus-master device and getting it back.
//!
//! A device that masters the bus (an IDE bus-master engine, a network card) reads and writes
//! memory by *bus address*, not by the CPU's virtual address, and it can usually reach only
//! part of memory (below 4 GiB for IDE). Before starting such a device a driver must learn the
//! bus address of every byte it hands over, check that the device can reach it, and make sure
//! the CPU's stores have left for memory; after the device is done it must make the device's
//! writes visible to its own loads. [`DmaMap`] is that knowledge of the address space, supplied
//! by the kernel; [`IdentityMap`] is the implementation for kernels whose virtual addresses are
//! their physical addresses.
//!
//! | need | what to use |
//! |------|-------------|
//! | an address as the device sees it | [`BusAddr`] |
//! | "can the device reach this?" (limit, alignment) | [`Reach`], [`Reach::check`] |
//! | a buffer's bus address(es) | [`DmaMap::map`] reporting [`Segment`]s |
//! | ordering: "buffer written -> start the engine" | [`DmaMap::map`] |
//! | ordering: "status says done -> read the buffer" | [`DmaMap::sync_for_cpu`] |
//! | a kernel that identity-maps its memory | [`IdentityMap`] |
//!
//! # For driver authors
//!
//! The sequence for one transfer, modelled on the streaming DMA API of big kernels:
//!
//! 1. Keep the buffer borrowed (`&mut [u8]`) inside a transfer value for the whole transfer:
//!    that borrow is what keeps the memory alive and untouched while the device owns it.
//! 2. [`DmaMap::map`] the buffer with the device's [`Reach`]; write a descriptor for each
//!    [`Segment`] reported. Descriptor tables are memory the device reads as well: write them
//!    into a region the kernel gives you and `map` that region [`Direction::ToDevice`] after
//!    filling it.
//! 3. Start the device (a port or register write). `map` already ordered every earlier store
//!    before its return, so the device sees the buffer and the descriptors.
//! 4. When the device says it is done (or after stopping it), call [`DmaMap::sync_for_cpu`]
//!    for a [`Direction::FromDevice`] buffer, then [`DmaMap::unmap`] every mapped region,
//!    and only then give the buffer back to the caller.
//!
//! Drivers call nothing else for ordering: port I/O and register accesses are not memory
//! barriers for DMA (see [`PortIo`](crate::PortIo)).
//!
//! # For kernel authors
//!
//! Implement [`DmaMap`] when virtual addresses are not bus addresses (paging with a higher-half
//! kernel, an IOMMU, bounce buffers for memory above 4 GiB, or a platform whose DMA is not
//! cache coherent and needs cache maintenance in `map` / `sync_for_cpu`). Use [`IdentityMap`]
//! when every buffer your drivers see is identity-mapped RAM and DMA is cache coherent, as on
//! a PC.
//!
//! # Example
//!
//! ```
//! use irqkit_hal::dma::{BusAddr, DmaError, DmaMap, Direction, Reach, Segment};
//!
//! /// Writes one 8-byte IDE PRD entry per segment; the last one carries end-of-table.
//! fn describe(
//!     map: &mut impl DmaMap,
//!     buf: &[u8],
//!     prd: &mut [[u8; 8]],
//! ) -> Result<usize, DmaError> {
//!     let mut used = 0;
//!     map.map(buf, Direction::FromDevice, Reach::ADDR32.with_align(2), &mut |seg| {
//!         let slot = prd.get_mut(used).ok_or(DmaError::TooManySegments { max: 4 })?;
//!         slot[..4].copy_from_slice(&(seg.addr.get() as u32).to_le_bytes());
//!         slot[4..6].copy_from_slice(&(seg.len as u16).to_le_bytes());
//!         used += 1;
//!         Ok(())
//!     })?;
//!     if let Some(last) = used.checked_sub(1) {
//!         prd[last][7] = 0x80;
//!     }
//!     Ok(used)
//! }
//! # struct At(u64);
//! # impl DmaMap for At {
//! #     fn map(&mut self, buf: &[u8], _: Direction, reach: Reach,
//! #            segment: &mut dyn FnMut(Segment) -> Result<(), DmaError>) -> Result<(), DmaError> {
//! #         let seg = Segment { addr: BusAddr::new(self.0), len: buf.len() };
//! #         reach.check(seg)?;
//! #         segment(seg)
//! #     }
//! #     fn sync_for_cpu(&mut self, _: &mut [u8]) {}
//! #     fn unmap(&mut self, _: &[u8], _: Direction) {}
//! # }
//! let mut prd = [[0u8; 8]; 4];
//! assert_eq!(describe(&mut At(0x10_0000), &[0; 512], &mut prd), Ok(1));
//! assert_eq!(prd[0], [0x00, 0x00, 0x10, 0x00, 0x00, 0x02, 0x00, 0x80]);
//! assert!(describe(&mut At(0x1_0000_0000), &[0; 512], &mut prd).is_err());
//! ```

use core::fmt;

/// An address as a bus-master device sees memory (a "physical" address on a PC).
///
/// ```
/// use irqkit_hal::dma::BusAddr;
/// let a = BusAddr::new(0xFFFF_FFF0);
/// assert_eq!(a.checked_add(0x10), Some(BusAddr::new(0x1_0000_0000)));
/// assert_eq!(BusAddr::new(u64::MAX).checked_add(1), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct BusAddr(u64);

impl BusAddr {
    /// The bus address `addr`.
    pub const fn new(addr: u64) -> Self {
        Self(addr)
    }

    /// The address as a number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The address `bytes` further on, or `None` if that overflows 64 bits.
    pub const fn checked_add(self, bytes: u64) -> Option<BusAddr> {
        match self.0.checked_add(bytes) {
            Some(a) => Some(BusAddr(a)),
            None => None,
        }
    }
}

impl fmt::Display for BusAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// Which way the data moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Direction {
    /// The device reads the buffer (a disk write, a descriptor table).
    ToDevice,
    /// The device writes the buffer (a disk read).
    FromDevice,
}

/// What memory a device can reach and how it must be aligned.
///
/// `max_addr` is the highest reachable byte (inclusive, so a 32-bit device has
/// `0xFFFF_FFFF`), `align` the alignment in bytes that the start of every segment needs
/// (`0` and `1` both mean "any").
///
/// ```
/// use irqkit_hal::dma::{BusAddr, DmaError, Reach, Segment};
/// let prd_buffer = Reach::ADDR32.with_align(2);
/// let seg = |addr, len| Segment { addr: BusAddr::new(addr), len };
/// assert_eq!(prd_buffer.check(seg(0xFFFF_FE00, 0x200)), Ok(()));
/// assert_eq!(
///     prd_buffer.check(seg(0xFFFF_FE00, 0x201)),
///     Err(DmaError::Unreachable {
///         addr: BusAddr::new(0xFFFF_FE00),
///         len: 0x201,
///         max_addr: 0xFFFF_FFFF,
///     })
/// );
/// assert_eq!(
///     prd_buffer.check(seg(0x1001, 2)),
///     Err(DmaError::Misaligned { addr: BusAddr::new(0x1001), align: 2 })
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Reach {
    /// The highest bus address the device can reach (inclusive).
    pub max_addr: u64,
    /// The alignment every segment's start address needs, in bytes (0 or 1: none).
    pub align: u64,
}

impl Reach {
    /// 32-bit bus masters (IDE, PRD tables): below 4 GiB.
    pub const ADDR32: Reach = Reach {
        max_addr: 0xFFFF_FFFF,
        align: 1,
    };

    /// 64-bit bus masters: all of the bus address space.
    pub const ADDR64: Reach = Reach {
        max_addr: u64::MAX,
        align: 1,
    };

    /// The same limit with segment starts aligned to `align` bytes (0 or 1: no alignment; any
    /// other value is used as a divisor, powers of two being the usual case).
    pub const fn with_align(self, align: u64) -> Reach {
        Reach {
            max_addr: self.max_addr,
            align,
        }
    }

    /// Whether `[addr, addr + len)` is reachable and `addr` is aligned.
    ///
    /// The start address itself must be reachable even for an empty segment (it is what a
    /// descriptor would hold), and every byte of a non-empty one must be.
    ///
    /// # Errors
    ///
    /// [`DmaError::Unreachable`] when part of the segment lies above `max_addr` (including a
    /// segment whose end overflows the 64-bit address space); otherwise
    /// [`DmaError::Misaligned`] when `addr` is not a multiple of `align`.
    pub fn check(&self, seg: Segment) -> Result<(), DmaError> {
        let start = seg.addr.get();
        // The last byte, or the start for an empty segment. `len` fits u64 on every target
        // Rust supports; a conversion failure counts as unreachable all the same.
        let last = match seg.len {
            0 => Some(start),
            n => u64::try_from(n - 1)
                .ok()
                .and_then(|tail| start.checked_add(tail)),
        };
        if !matches!(last, Some(last) if last <= self.max_addr) {
            return Err(DmaError::Unreachable {
                addr: seg.addr,
                len: seg.len,
                max_addr: self.max_addr,
            });
        }
        if self.align > 1 && start % self.align != 0 {
            return Err(DmaError::Misaligned {
                addr: seg.addr,
                align: self.align,
            });
        }
        Ok(())
    }
}

/// One physically contiguous piece of a mapped buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Segment {
    /// Bus address of the first byte.
    pub addr: BusAddr,
    /// Length in bytes.
    pub len: usize,
}

/// Why memory cannot be handed to a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DmaError {
    /// Part of the buffer lies above what the device can address.
    Unreachable {
        /// Bus address of the segment.
        addr: BusAddr,
        /// Length of the segment in bytes.
        len: usize,
        /// The highest address the device reaches.
        max_addr: u64,
    },
    /// The buffer's bus address is not aligned as the device needs.
    Misaligned {
        /// Bus address of the segment.
        addr: BusAddr,
        /// The alignment the device needs, in bytes.
        align: u64,
    },
    /// The buffer is split into more physically contiguous pieces than the caller can describe.
    TooManySegments {
        /// How many segments the caller can describe.
        max: usize,
    },
    /// The mapper cannot map this buffer (no bounce space, not DMA-able memory, ...).
    NotMappable,
}

impl fmt::Display for DmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Unreachable {
                addr,
                len,
                max_addr,
            } => write!(
                f,
                "DMA segment of {len} bytes at bus address {addr} reaches past the device's \
                 limit {max_addr:#x}"
            ),
            Self::Misaligned { addr, align } => write!(
                f,
                "DMA segment at bus address {addr} is not aligned to {align} bytes"
            ),
            Self::TooManySegments { max } => write!(
                f,
                "buffer needs more than the {max} DMA segments the device can describe"
            ),
            Self::NotMappable => f.write_str("buffer cannot be mapped for DMA"),
        }
    }
}

impl core::error::Error for DmaError {}

/// How a driver hands memory to a bus-master device and gets it back: the kernel's (or the
/// mock's) knowledge of the address space.
///
/// Modelled on the streaming DMA API of big kernels: map before the device starts, sync +
/// unmap after it is done (or has been stopped).
///
/// Ordering: `map` returns only after every CPU store to `buf` made before the call is visible
/// to the device (it is the barrier "descriptors/buffer written -> start the engine"), and
/// `sync_for_cpu` makes every device write visible to CPU loads after it (the barrier
/// "status says done -> read the buffer"). Drivers call nothing else for ordering.
pub trait DmaMap {
    /// Prepares `buf` for the device and reports its bus segments in address order by
    /// calling `segment` for each physically contiguous piece (an error from `segment`
    /// aborts the mapping and is returned; the mapper undoes what it did).
    ///
    /// An empty `buf` has no pieces: `segment` may not be called at all.
    ///
    /// # Errors
    ///
    /// [`DmaError::Unreachable`] / [`DmaError::Misaligned`] when `reach` cannot be met (a
    /// mapper with bounce buffers may bounce instead), [`DmaError::NotMappable`] when the
    /// memory cannot be given to a device, or the error `segment` returned.
    fn map(
        &mut self,
        buf: &[u8],
        dir: Direction,
        reach: Reach,
        segment: &mut dyn FnMut(Segment) -> Result<(), DmaError>,
    ) -> Result<(), DmaError>;

    /// After the device finished writing (`Direction::FromDevice`): makes what it wrote the
    /// contents of `buf` (identity mapping: an acquire barrier; bounce/mock: a copy back).
    fn sync_for_cpu(&mut self, buf: &mut [u8]);

    /// Releases the mapping of `buf` (same slice as given to `map`). After this the device must
    /// not touch the memory; a mock flags any later access.
    fn unmap(&mut self, buf: &[u8], dir: Direction);
}

/// Lets a driver borrow the kernel's mapper: `Driver::new(&mut map)`.
impl<T: DmaMap + ?Sized> DmaMap for &mut T {
    #[inline]
    fn map(
        &mut self,
        buf: &[u8],
        dir: Direction,
        reach: Reach,
        segment: &mut dyn FnMut(Segment) -> Result<(), DmaError>,
    ) -> Result<(), DmaError> {
        T::map(self, buf, dir, reach, segment)
    }
    #[inline]
    fn sync_for_cpu(&mut self, buf: &mut [u8]) {
        T::sync_for_cpu(self, buf)
    }
    #[inline]
    fn unmap(&mut self, buf: &[u8], dir: Direction) {
        T::unmap(self, buf, dir)
    }
}

/// Virtual address == bus address (a kernel that identity-maps its memory, as most hobby
/// kernels do below 4 GiB). One segment per buffer; fences in `map` / `sync_for_cpu`.
///
/// # Fences
///
/// The device is not a Rust thread, so the language's memory model says nothing about it;
/// what matters is (a) that the compiler neither sinks stores to the buffer below `map` nor
/// hoists loads from it above `sync_for_cpu`, and (b) that the hardware makes the stores
/// visible to the device before the start command, and the device's writes visible to later
/// loads.
///
/// - **x86 / x86_64**: a compiler barrier only: an empty `asm!` block without `nomem` that
///   takes the buffer's address as an operand, so the compiler must assume it reads and writes
///   the buffer. The hardware needs nothing more: bus-master DMA to write-back RAM is cache
///   coherent on a PC, x86 never reorders a store with an earlier store, and "reads or writes
///   cannot be reordered with I/O instructions, locked instructions, or serializing
///   instructions" (Intel SDM vol. 3, "Memory ordering in P6 and more recent processor
///   families"); an MMIO doorbell store is ordered after the buffer stores by the store
///   ordering rule. (Write-combining memory and non-temporal stores are the exception: a kernel
///   that puts DMA buffers there needs its own mapper with `sfence`.)
/// - **other architectures** (and Miri): [`core::sync::atomic::fence`] with `SeqCst`, a
///   compiler barrier plus the strongest hardware barrier `core` emits (`dmb sy` on Armv7-M,
///   `dmb ish` on AArch64). That covers cache-coherent DMA within the barrier's domain only; a
///   platform with non-coherent DMA or devices outside that domain implements [`DmaMap`] with
///   the cache maintenance and barriers it needs.
///
/// The crate's `port_io_order` test checks the emitted code of a start / finish sequence
/// (`cargo rustc --release --lib -- --emit asm -C llvm-args=-x86-asm-syntax=intel` on a probe
/// crate): the store to a private `&mut` buffer stays before `map` and the `out` that starts
/// the device, and the load after `sync_for_cpu` stays after the last status `in`.
///
/// # Example
///
/// ```
/// use irqkit_hal::dma::{Direction, DmaMap, IdentityMap, Reach};
///
/// // SAFETY: in this example no device is ever started; on a real kernel: every buffer
/// // given to `map` is identity-mapped RAM.
/// let mut map = unsafe { IdentityMap::new() };
/// let buf = [0u8; 512];
/// let mut segments = 0;
/// map.map(&buf, Direction::ToDevice, Reach::ADDR64, &mut |seg| {
///     assert_eq!(seg.addr.get(), buf.as_ptr() as usize as u64);
///     segments += 1;
///     Ok(())
/// })?;
/// map.unmap(&buf, Direction::ToDevice);
/// assert_eq!(segments, 1);
/// # Ok::<(), irqkit_hal::dma::DmaError>(())
/// ```
#[derive(Debug)]
pub struct IdentityMap {
    _private: (),
}

impl IdentityMap {
    /// Creates the identity mapper.
    ///
    /// # Safety
    ///
    /// Every buffer later passed to `map` is identity-mapped (its virtual address is its bus
    /// address) and is ordinary RAM the device may access, with cache-coherent DMA (see
    /// [Fences](IdentityMap#fences)). A wrong bus address would let a device write memory
    /// the program uses for something else.
    pub const unsafe fn new() -> Self {
        Self { _private: () }
    }
}

impl DmaMap for IdentityMap {
    fn map(
        &mut self,
        buf: &[u8],
        _dir: Direction,
        reach: Reach,
        segment: &mut dyn FnMut(Segment) -> Result<(), DmaError>,
    ) -> Result<(), DmaError> {
        if buf.is_empty() {
            return Ok(());
        }
        let seg = Segment {
            addr: BusAddr::new(buf.as_ptr().addr() as u64),
            len: buf.len(),
        };
        reach.check(seg)?;
        segment(seg)?;
        // After the descriptor writes `segment` may have made, too.
        dma_barrier(buf.as_ptr());
        Ok(())
    }

    fn sync_for_cpu(&mut self, buf: &mut [u8]) {
        dma_barrier(buf.as_ptr());
    }

    fn unmap(&mut self, _buf: &[u8], _dir: Direction) {}
}

/// The ordering point between CPU accesses to a DMA buffer and the device (see
/// [`IdentityMap`]'s "Fences").
#[inline]
fn dma_barrier(buf: *const u8) {
    #[cfg(all(any(target_arch = "x86", target_arch = "x86_64"), not(miri)))]
    // SAFETY: an empty instruction sequence: it executes nothing. Leaving out `nomem` and
    // `readonly` is the point: the compiler must assume it reads and writes memory reachable
    // from `buf` (and any other escaped memory), so no access moves across it.
    unsafe {
        core::arch::asm!("/* dma barrier {0} */", in(reg) buf, options(nostack, preserves_flags));
    }
    #[cfg(not(all(any(target_arch = "x86", target_arch = "x86_64"), not(miri))))]
    {
        let _ = buf;
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    fn seg(addr: u64, len: usize) -> Segment {
        Segment {
            addr: BusAddr::new(addr),
            len,
        }
    }

    fn unreachable(addr: u64, len: usize, max_addr: u64) -> Result<(), DmaError> {
        Err(DmaError::Unreachable {
            addr: BusAddr::new(addr),
            len,
            max_addr,
        })
    }

    #[test]
    fn end_of_4gib_is_inclusive() {
        let r = Reach::ADDR32;
        assert_eq!(r.check(seg(0xFFFF_FFFF, 1)), Ok(()));
        assert_eq!(r.check(seg(0xFFFF_0000, 0x1_0000)), Ok(()));
        assert_eq!(r.check(seg(0, 1 << 32)), Ok(()));
        assert_eq!(
            r.check(seg(0xFFFF_0000, 0x1_0001)),
            unreachable(0xFFFF_0000, 0x1_0001, 0xFFFF_FFFF)
        );
        assert_eq!(
            r.check(seg(0x1_0000_0000, 1)),
            unreachable(0x1_0000_0000, 1, 0xFFFF_FFFF)
        );
        assert_eq!(
            r.check(seg(1, 1 << 32)),
            unreachable(1, 1 << 32, 0xFFFF_FFFF)
        );
    }

    #[test]
    fn empty_segment_needs_a_reachable_start() {
        let r = Reach::ADDR32;
        assert_eq!(r.check(seg(0, 0)), Ok(()));
        assert_eq!(r.check(seg(0xFFFF_FFFF, 0)), Ok(()));
        assert_eq!(
            r.check(seg(0x1_0000_0000, 0)),
            unreachable(0x1_0000_0000, 0, 0xFFFF_FFFF)
        );
    }

    #[test]
    fn overflow_of_the_address_space_is_unreachable() {
        let r = Reach::ADDR64;
        assert_eq!(r.check(seg(u64::MAX, 1)), Ok(()));
        assert_eq!(r.check(seg(u64::MAX - 9, 10)), Ok(()));
        assert_eq!(
            r.check(seg(u64::MAX, 2)),
            unreachable(u64::MAX, 2, u64::MAX)
        );
        assert_eq!(
            r.check(seg(u64::MAX - 9, 11)),
            unreachable(u64::MAX - 9, 11, u64::MAX)
        );
        assert_eq!(
            r.check(seg(2, usize::MAX)),
            unreachable(2, usize::MAX, u64::MAX)
        );
    }

    #[test]
    fn alignment() {
        let r = Reach::ADDR32.with_align(4);
        assert_eq!(r.check(seg(0x1000, 3)), Ok(()));
        assert_eq!(r.check(seg(0, 0)), Ok(()));
        for addr in [0x1001, 0x1002, 0x1003, 0xFFFF_FFFF] {
            assert_eq!(
                r.check(seg(addr, 1)),
                Err(DmaError::Misaligned {
                    addr: BusAddr::new(addr),
                    align: 4
                })
            );
        }
        // An empty misaligned segment is still misaligned: its address goes in a descriptor.
        assert!(r.check(seg(0x1002, 0)).is_err());
        // 0 and 1 mean "no alignment"; other values divide.
        assert_eq!(Reach::ADDR32.with_align(0).check(seg(7, 1)), Ok(()));
        assert_eq!(Reach::ADDR32.with_align(1).check(seg(7, 1)), Ok(()));
        assert_eq!(Reach::ADDR32.with_align(3).check(seg(9, 1)), Ok(()));
        // Unreachable takes precedence over misaligned.
        assert_eq!(
            r.check(seg(0x1_0000_0001, 1)),
            unreachable(0x1_0000_0001, 1, 0xFFFF_FFFF)
        );
    }

    #[test]
    fn bus_addr_arithmetic() {
        assert_eq!(BusAddr::new(5).get(), 5);
        assert_eq!(BusAddr::new(5).checked_add(3), Some(BusAddr::new(8)));
        assert_eq!(BusAddr::new(u64::MAX - 1).checked_add(2), None);
        assert_eq!(BusAddr::new(0xC040).to_string(), "0xc040");
        assert!(BusAddr::new(1) < BusAddr::new(2));
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = DmaError::Unreachable {
            addr: BusAddr::new(0x1_0000_0000),
            len: 512,
            max_addr: 0xFFFF_FFFF,
        };
        assert_eq!(
            e.to_string(),
            "DMA segment of 512 bytes at bus address 0x100000000 reaches past the device's \
             limit 0xffffffff"
        );
        let e = DmaError::Misaligned {
            addr: BusAddr::new(0x1001),
            align: 2,
        };
        assert_eq!(
            e.to_string(),
            "DMA segment at bus address 0x1001 is not aligned to 2 bytes"
        );
        assert!(DmaError::TooManySegments { max: 512 }
            .to_string()
            .contains("512"));
        let _: &dyn core::error::Error = &DmaError::NotMappable;
    }

    #[repr(align(16))]
    struct Aligned([u8; 64]);

    #[test]
    fn identity_map_reports_the_buffer_itself() {
        // SAFETY: no device is involved; the mapper only reports addresses.
        let mut map = unsafe { IdentityMap::new() };
        let mut mem = Aligned([7; 64]);
        let base = mem.0.as_ptr().addr() as u64;
        let mut seen = std::vec::Vec::new();
        let r = map.map(
            &mem.0[16..48],
            Direction::ToDevice,
            Reach::ADDR64.with_align(16),
            &mut |s| {
                seen.push(s);
                Ok(())
            },
        );
        assert_eq!(r, Ok(()));
        assert_eq!(seen, [seg(base + 16, 32)]);
        map.sync_for_cpu(&mut mem.0[16..48]);
        map.unmap(&mem.0[16..48], Direction::ToDevice);
        assert_eq!(mem.0, [7; 64]);
    }

    #[test]
    fn identity_map_checks_reach_before_reporting() {
        // SAFETY: as above.
        let mut map = unsafe { IdentityMap::new() };
        let mem = Aligned([0; 64]);
        let base = mem.0.as_ptr().addr() as u64;
        let mut calls = 0;
        let mut count = |_: Segment| {
            calls += 1;
            Ok(())
        };
        let r = map.map(
            &mem.0[1..9],
            Direction::FromDevice,
            Reach::ADDR64.with_align(2),
            &mut count,
        );
        assert_eq!(
            r,
            Err(DmaError::Misaligned {
                addr: BusAddr::new(base + 1),
                align: 2
            })
        );
        let below = Reach {
            max_addr: base + 7,
            align: 1,
        };
        assert_eq!(
            map.map(&mem.0[..9], Direction::ToDevice, below, &mut count),
            unreachable(base, 9, base + 7)
        );
        assert_eq!(
            map.map(&mem.0[..8], Direction::ToDevice, below, &mut count),
            Ok(())
        );
        assert_eq!(
            map.map(&[], Direction::ToDevice, Reach::ADDR32, &mut count),
            Ok(())
        );
        assert_eq!(calls, 1);
    }

    #[test]
    fn segment_errors_abort_the_mapping_and_forwarding_works() {
        // SAFETY: as above.
        let mut map = unsafe { IdentityMap::new() };
        let mut by_ref = &mut map;
        let buf = [0u8; 4];
        let r = DmaMap::map(
            &mut by_ref,
            &buf,
            Direction::ToDevice,
            Reach::ADDR64,
            &mut |_| Err(DmaError::TooManySegments { max: 0 }),
        );
        assert_eq!(r, Err(DmaError::TooManySegments { max: 0 }));
    }
}
