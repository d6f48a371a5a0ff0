//! Simulated physical memory: what a bus-master device model reads and writes by bus address,
//! and the [`DmaMap`] a driver under test hands its buffers through.
//!
//! Nothing is reachable by a device until the driver maps it. [`DmaMap::map`] gives each buffer
//! a fresh bus range (never reused), copies the buffer in (`ToDevice`) or fills the range with
//! [`POISON`] (`FromDevice`); device models then [`read`](SimMemory::read) and
//! [`write`](SimMemory::write) by bus address; [`DmaMap::sync_for_cpu`] copies what the device
//! wrote back into the buffer, and [`DmaMap::unmap`] releases the range. It behaves like a
//! bounce-buffering mapper, so a driver that writes a buffer after mapping it, reads it before
//! `sync_for_cpu`, or lets the device run after `unmap` is caught.
//!
//! Any device access outside a live mapping, or a device write into a `ToDevice` buffer, is a
//! [`Violation`]: recorded, and a panic unless the test switched to
//! [recording only](SimMemory::set_panic_on_violation).
//!
//! # Placement
//!
//! By default a mapping starts on a fresh 4 KiB page (below 4 GiB, from 1 MiB up), at the same
//! offset in the page as the buffer has in host memory (as physical pages keep the offset of
//! virtual ones, so a driver's alignment checks meet the buffer's real alignment: an odd slice
//! gets an odd bus address), and is followed by an unmapped guard page. Tests steer it:
//! [`place_next_at`](SimMemory::place_next_at) (an exact address: above 4 GiB, across a
//! 64 KiB boundary), [`set_base`](SimMemory::set_base) (every later mapping from there up),
//! [`set_split`](SimMemory::set_split) (cut buffers into separate segments at a granularity,
//! like scattered pages), [`set_misalign`](SimMemory::set_misalign),
//! [`set_keep_page_offset`](SimMemory::set_keep_page_offset) and
//! [`fail_next_map`](SimMemory::fail_next_map).
//!
//! Under Miri the host allocator places `Vec<u8>` buffers at random alignments, so their bus
//! addresses (and alignment errors) change from run to run: a test suite meant for Miri turns
//! [`set_keep_page_offset`](SimMemory::set_keep_page_offset) off (every mapping then starts
//! on a page boundary) and makes misalignment explicit with `set_misalign`.
//!
//! # Examples
//!
//! ```
//! use irqkit_hal::dma::{BusAddr, DmaMap, Direction, Reach, Segment};
//! use irqkit_hal_mock::Sim;
//!
//! let sim = Sim::new();
//! let mut mem = sim.memory();
//! let mut buf = [0u8; 8];
//! let mut segs = Vec::new();
//! mem.map(&buf, Direction::FromDevice, Reach::ADDR32, &mut |s| {
//!     segs.push(s);
//!     Ok(())
//! })
//! .unwrap();
//! // What a device model does (through `DeviceCtx::memory`):
//! sim.memory().write(segs[0].addr, b"from dev").unwrap();
//! mem.sync_for_cpu(&mut buf);
//! mem.unmap(&buf, Direction::FromDevice);
//! assert_eq!(&buf, b"from dev");
//! assert!(mem.violations().is_empty());
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use irqkit_hal::dma::{BusAddr, Direction, DmaError, DmaMap, Reach, Segment};

/// The byte a `FromDevice` mapping is filled with until the device writes it: a driver that
/// returns data the device never wrote returns this.
pub const POISON: u8 = 0xA5;

/// Where mappings start unless a test moves them: 1 MiB, above the legacy PC areas.
pub const DEFAULT_BASE: u64 = 0x0010_0000;

const PAGE: u64 = 4096;

/// A driver or device doing something with simulated memory that it must not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A device accessed bus memory that no mapping ever covered.
    NeverMapped {
        /// Whether it was a write.
        write: bool,
        /// First byte of the access.
        addr: BusAddr,
        /// Bytes accessed.
        len: usize,
    },
    /// A device accessed memory of a mapping the driver already released with `unmap` (the
    /// driver let the device run after it took the buffer back).
    AfterUnmap {
        /// Whether it was a write.
        write: bool,
        /// First byte of the access.
        addr: BusAddr,
        /// Bytes accessed.
        len: usize,
    },
    /// A device access that starts inside a mapping and runs past its end.
    PastEnd {
        /// Whether it was a write.
        write: bool,
        /// First byte of the access.
        addr: BusAddr,
        /// Bytes accessed.
        len: usize,
        /// First byte after the mapped segment.
        segment_end: BusAddr,
    },
    /// A device wrote into a buffer mapped [`Direction::ToDevice`].
    WriteToDeviceBuffer {
        /// First byte of the write.
        addr: BusAddr,
        /// Bytes written.
        len: usize,
    },
    /// The driver called `sync_for_cpu` on a buffer that is not mapped.
    SyncNotMapped {
        /// Length of the buffer given.
        len: usize,
    },
    /// The driver called `unmap` on a buffer that is not mapped in that direction (unmapped
    /// twice, another slice, or the other direction).
    UnmapNotMapped {
        /// Length of the buffer given.
        len: usize,
        /// The direction given.
        dir: Direction,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = |write: bool| if write { "wrote" } else { "read" };
        match *self {
            Violation::NeverMapped { write, addr, len } => write!(
                f,
                "the device {} {len} bytes at bus address {:#x}, which was never mapped",
                what(write),
                addr.get()
            ),
            Violation::AfterUnmap { write, addr, len } => write!(
                f,
                "the device {} {len} bytes at bus address {:#x} after the driver unmapped it",
                what(write),
                addr.get()
            ),
            Violation::PastEnd {
                write,
                addr,
                len,
                segment_end,
            } => write!(
                f,
                "the device {} {len} bytes at bus address {:#x}, past the end of its mapped \
                 segment at {:#x}",
                what(write),
                addr.get(),
                segment_end.get()
            ),
            Violation::WriteToDeviceBuffer { addr, len } => write!(
                f,
                "the device wrote {len} bytes at bus address {:#x} into a buffer mapped ToDevice",
                addr.get()
            ),
            Violation::SyncNotMapped { len } => {
                write!(f, "sync_for_cpu of a {len}-byte buffer that is not mapped")
            }
            Violation::UnmapNotMapped { len, dir } => {
                write!(f, "unmap of a {len}-byte buffer not mapped {dir:?}")
            }
        }
    }
}

impl std::error::Error for Violation {}

/// One live mapping, as [`SimMemory::mappings`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingInfo {
    /// The direction it was mapped in.
    pub dir: Direction,
    /// Length of the buffer.
    pub len: usize,
    /// Its bus segments, in buffer order.
    pub segments: Vec<Segment>,
}

/// Simulated physical memory; see the [module docs](self).
///
/// A cheap handle: clones share the same memory (`Sim::memory` and
/// [`DeviceCtx::memory`](crate::DeviceCtx::memory) hand out clones). `Send + Sync`.
#[derive(Clone, Default)]
pub struct SimMemory {
    inner: Arc<Mutex<MemState>>,
}

impl fmt::Debug for SimMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("SimMemory");
        match self.inner.try_lock() {
            Ok(state) => s
                .field("mappings", &state.mappings.len())
                .field("violations", &state.violations.len()),
            Err(_) => s.field("state", &"<locked>"),
        };
        s.finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct MemState {
    /// The lowest address the next mapping may take.
    cursor: u64,
    exact_next: Option<u64>,
    split: Option<u64>,
    misalign: u64,
    keep_page_offset: bool,
    fail_next: Option<DmaError>,
    /// Live segments by bus start address.
    regions: BTreeMap<u64, Region>,
    /// Ranges of released mappings, by start: (end, for diagnostics).
    released: BTreeMap<u64, u64>,
    mappings: Vec<Mapping>,
    violations: Vec<Violation>,
    panic_on_violation: bool,
}

impl Default for MemState {
    fn default() -> Self {
        MemState {
            cursor: DEFAULT_BASE,
            exact_next: None,
            split: None,
            misalign: 0,
            keep_page_offset: true,
            fail_next: None,
            regions: BTreeMap::new(),
            released: BTreeMap::new(),
            mappings: Vec::new(),
            violations: Vec::new(),
            panic_on_violation: true,
        }
    }
}

#[derive(Debug)]
struct Region {
    data: Vec<u8>,
    dir: Direction,
}

#[derive(Debug)]
struct Mapping {
    /// Host address and length of the buffer: how `sync_for_cpu` / `unmap` find it.
    ptr: usize,
    len: usize,
    dir: Direction,
    segments: Vec<Segment>,
}

fn align_up(value: u64, align: u64) -> u64 {
    value.div_ceil(align).saturating_mul(align)
}

fn seg_end(seg: &Segment) -> u64 {
    seg.addr.get() + seg.len as u64
}

impl SimMemory {
    /// Empty memory with the default placement (mappings from [`DEFAULT_BASE`] up), panicking on
    /// violations.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, MemState> {
        // A panic on a violation happens after the guard is released, so poisoning only comes
        // from elsewhere; the state stays consistent either way.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records `v`; panics unless recording only.
    fn violation(mut state: MutexGuard<'_, MemState>, v: Violation) -> Violation {
        state.violations.push(v);
        let panic = state.panic_on_violation;
        drop(state);
        assert!(!panic, "irqkit-hal-mock memory violation: {v}");
        v
    }

    /// Makes the next mapping start exactly at `addr` (its first segment; with
    /// [`set_split`](Self::set_split) the others follow above it). Later mappings go above it.
    pub fn place_next_at(&self, addr: BusAddr) {
        self.lock().exact_next = Some(addr.get());
    }

    /// Makes every later mapping start at or above `addr` (on a fresh page), e.g. `1 << 32` to
    /// test a driver's handling of memory a 32-bit device cannot reach.
    pub fn set_base(&self, addr: BusAddr) {
        let mut state = self.lock();
        state.cursor = addr.get();
        state.exact_next = None;
    }

    /// Cuts every later mapping into separate, non-contiguous segments at bus addresses that
    /// are multiples of `granularity` bytes (`None`: one segment per buffer, the default), like
    /// a buffer spread over scattered physical pages.
    ///
    /// # Panics
    ///
    /// If `granularity` is zero.
    pub fn set_split(&self, granularity: Option<usize>) {
        assert!(granularity != Some(0), "split granularity must not be zero");
        self.lock().split = granularity.map(|g| g as u64);
    }

    /// Shifts every later mapping `bytes` past its natural start (to produce odd or unaligned
    /// bus addresses).
    pub fn set_misalign(&self, bytes: u64) {
        self.lock().misalign = bytes;
    }

    /// Whether later mappings start at the same offset in their page as the buffer has in host
    /// memory (the default, as identity-mapped memory does, so the buffer's real alignment
    /// shows in its bus address) or at the start of a page (deterministic whatever the host
    /// allocator does; Miri's aligns at random).
    pub fn set_keep_page_offset(&self, keep: bool) {
        self.lock().keep_page_offset = keep;
    }

    /// Makes the next `map` fail with `error` (a mapper out of bounce space, say), mapping
    /// nothing.
    pub fn fail_next_map(&self, error: DmaError) {
        self.lock().fail_next = Some(error);
    }

    /// Whether a violation panics (the default) or is only recorded.
    pub fn set_panic_on_violation(&self, panic: bool) {
        self.lock().panic_on_violation = panic;
    }

    /// Every violation so far, oldest first.
    pub fn violations(&self) -> Vec<Violation> {
        self.lock().violations.clone()
    }

    /// Takes the recorded violations, leaving none.
    pub fn take_violations(&self) -> Vec<Violation> {
        std::mem::take(&mut self.lock().violations)
    }

    /// The live mappings, oldest first (a driver that forgot to unmap leaves one here).
    pub fn mappings(&self) -> Vec<MappingInfo> {
        self.lock()
            .mappings
            .iter()
            .map(|m| MappingInfo {
                dir: m.dir,
                len: m.len,
                segments: m.segments.clone(),
            })
            .collect()
    }

    /// The bytes at `addr..addr + len` if they lie in one live segment, without any check or
    /// record (for test assertions).
    pub fn peek(&self, addr: BusAddr, len: usize) -> Option<Vec<u8>> {
        let state = self.lock();
        let (start, offset) = state.locate(addr.get(), len).ok()?;
        Some(state.regions[&start].data[offset..offset + len].to_vec())
    }

    /// A device reads `buf.len()` bytes at bus address `addr`.
    ///
    /// # Errors
    ///
    /// The [`Violation`] if the range is not one live mapped segment (then `buf` is filled with
    /// 0xFF, as an unanswered bus cycle reads). Only when recording only: by default a
    /// violation panics.
    pub fn read(&self, addr: BusAddr, buf: &mut [u8]) -> Result<(), Violation> {
        if buf.is_empty() {
            return Ok(());
        }
        let state = self.lock();
        match state.locate(addr.get(), buf.len()) {
            Ok((start, offset)) => {
                buf.copy_from_slice(&state.regions[&start].data[offset..offset + buf.len()]);
                Ok(())
            }
            Err(kind) => {
                buf.fill(0xFF);
                let v = kind.violation(false, addr, buf.len());
                Err(Self::violation(state, v))
            }
        }
    }

    /// A device writes `data` at bus address `addr`.
    ///
    /// # Errors
    ///
    /// The [`Violation`] if the range is not one live segment mapped `FromDevice` (nothing is
    /// written then). Only when recording only: by default a violation panics.
    pub fn write(&self, addr: BusAddr, data: &[u8]) -> Result<(), Violation> {
        if data.is_empty() {
            return Ok(());
        }
        let mut state = self.lock();
        match state.locate(addr.get(), data.len()) {
            Ok((start, offset)) => {
                let region = state.regions.get_mut(&start).expect("located region");
                if region.dir == Direction::ToDevice {
                    let v = Violation::WriteToDeviceBuffer {
                        addr,
                        len: data.len(),
                    };
                    return Err(Self::violation(state, v));
                }
                region.data[offset..offset + data.len()].copy_from_slice(data);
                Ok(())
            }
            Err(kind) => {
                let v = kind.violation(true, addr, data.len());
                Err(Self::violation(state, v))
            }
        }
    }
}

/// Why an access did not land in a live segment.
enum Miss {
    Never,
    Released,
    PastEnd(u64),
}

impl Miss {
    fn violation(self, write: bool, addr: BusAddr, len: usize) -> Violation {
        match self {
            Miss::Never => Violation::NeverMapped { write, addr, len },
            Miss::Released => Violation::AfterUnmap { write, addr, len },
            Miss::PastEnd(end) => Violation::PastEnd {
                write,
                addr,
                len,
                segment_end: BusAddr::new(end),
            },
        }
    }
}

impl MemState {
    /// The live segment holding all of `addr..addr + len`: its start and the offset in it.
    fn locate(&self, addr: u64, len: usize) -> Result<(u64, usize), Miss> {
        let end = addr.checked_add(len as u64).ok_or(Miss::Never)?;
        if let Some((&start, region)) = self.regions.range(..=addr).next_back() {
            let region_end = start + region.data.len() as u64;
            if addr < region_end {
                if end <= region_end {
                    return Ok((start, usize::try_from(addr - start).unwrap_or(usize::MAX)));
                }
                return Err(Miss::PastEnd(region_end));
            }
        }
        // Overlapping a released range (which never overlaps a live one)?
        let released = self
            .released
            .range(..end)
            .next_back()
            .is_some_and(|(_, &r_end)| r_end > addr);
        Err(if released {
            Miss::Released
        } else {
            Miss::Never
        })
    }

    /// Bus segments for a buffer of `len` bytes at host address `ptr`, by the placement rules.
    fn place(&mut self, ptr: usize, len: usize) -> Vec<Segment> {
        let in_page = if self.keep_page_offset {
            ptr as u64 % PAGE
        } else {
            0
        };
        let first = match self.exact_next.take() {
            Some(addr) => addr,
            None => align_up(self.cursor, PAGE) + in_page + self.misalign,
        };
        let mut segments = Vec::new();
        let mut addr = first;
        let mut left = len as u64;
        while left > 0 {
            let piece = match self.split {
                Some(g) => left.min(g - addr % g),
                None => left,
            };
            segments.push(Segment {
                addr: BusAddr::new(addr),
                len: usize::try_from(piece).unwrap_or(usize::MAX),
            });
            left -= piece;
            // The next piece: on the granule after an empty one, so it is not contiguous.
            if let Some(g) = self.split {
                addr = align_up(addr + piece, g) + g;
            }
        }
        let end = segments.last().map_or(first, seg_end);
        // A guard page after every mapping keeps neighbours apart.
        self.cursor = self.cursor.max(align_up(end, PAGE).saturating_add(PAGE));
        segments
    }

    fn find(&self, ptr: usize, len: usize, dir: Option<Direction>) -> Option<usize> {
        self.mappings
            .iter()
            .rposition(|m| m.ptr == ptr && m.len == len && dir.is_none_or(|d| d == m.dir))
    }

    fn release(&mut self, index: usize) -> Mapping {
        let mapping = self.mappings.remove(index);
        for seg in &mapping.segments {
            self.regions.remove(&seg.addr.get());
            self.released.insert(seg.addr.get(), seg_end(seg));
        }
        mapping
    }
}

impl DmaMap for SimMemory {
    fn map(
        &mut self,
        buf: &[u8],
        dir: Direction,
        reach: Reach,
        segment: &mut dyn FnMut(Segment) -> Result<(), DmaError>,
    ) -> Result<(), DmaError> {
        let ptr = buf.as_ptr().addr();
        let segments = {
            let mut state = self.lock();
            if let Some(error) = state.fail_next.take() {
                return Err(error);
            }
            let segments = state.place(ptr, buf.len());
            for seg in &segments {
                reach.check(*seg)?;
            }
            for seg in &segments {
                let overlap = state
                    .regions
                    .range(..seg_end(seg))
                    .next_back()
                    .is_some_and(|(&s, r)| s + r.data.len() as u64 > seg.addr.get());
                assert!(
                    !overlap,
                    "irqkit-hal-mock: SimMemory::place_next_at({:#x}) overlaps a live mapping",
                    seg.addr.get()
                );
            }
            let mut offset = 0;
            for seg in &segments {
                let data = match dir {
                    Direction::ToDevice => buf[offset..offset + seg.len].to_vec(),
                    Direction::FromDevice => vec![POISON; seg.len],
                };
                offset += seg.len;
                state.regions.insert(seg.addr.get(), Region { data, dir });
            }
            state.mappings.push(Mapping {
                ptr,
                len: buf.len(),
                dir,
                segments: segments.clone(),
            });
            segments
        };
        // The callback runs unlocked: it may use this memory (to peek in a test, say).
        for seg in segments {
            if let Err(error) = segment(seg) {
                let mut state = self.lock();
                if let Some(index) = state.find(ptr, buf.len(), Some(dir)) {
                    // Undone, not released: the device never had it, so no later access
                    // counts as "after unmap".
                    let mapping = state.mappings.remove(index);
                    for seg in &mapping.segments {
                        state.regions.remove(&seg.addr.get());
                    }
                }
                return Err(error);
            }
        }
        Ok(())
    }

    fn sync_for_cpu(&mut self, buf: &mut [u8]) {
        let state = self.lock();
        let Some(index) = state.find(buf.as_ptr().addr(), buf.len(), None) else {
            Self::violation(state, Violation::SyncNotMapped { len: buf.len() });
            return;
        };
        let mapping = &state.mappings[index];
        if mapping.dir == Direction::FromDevice {
            let mut offset = 0;
            for seg in &mapping.segments {
                let data = &state.regions[&seg.addr.get()].data;
                buf[offset..offset + seg.len].copy_from_slice(data);
                offset += seg.len;
            }
        }
    }

    fn unmap(&mut self, buf: &[u8], dir: Direction) {
        let mut state = self.lock();
        match state.find(buf.as_ptr().addr(), buf.len(), Some(dir)) {
            Some(index) => {
                state.release(index);
            }
            None => {
                Self::violation(
                    state,
                    Violation::UnmapNotMapped {
                        len: buf.len(),
                        dir,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(mem: &mut SimMemory, buf: &[u8], dir: Direction) -> Vec<Segment> {
        let mut segs = Vec::new();
        mem.map(buf, dir, Reach::ADDR32, &mut |s| {
            segs.push(s);
            Ok(())
        })
        .unwrap();
        segs
    }

    fn recording() -> SimMemory {
        let mem = SimMemory::new();
        mem.set_panic_on_violation(false);
        mem
    }

    #[test]
    fn to_device_copies_in_and_device_reads() {
        let mut mem = SimMemory::new();
        let buf = *b"hello device";
        let segs = map(&mut mem, &buf, Direction::ToDevice);
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].len, buf.len());
        assert!(segs[0].addr.get() >= DEFAULT_BASE && segs[0].addr.get() < 1 << 32);
        assert_eq!(
            segs[0].addr.get() % PAGE,
            buf.as_ptr().addr() as u64 % PAGE,
            "keeps the offset in the page"
        );
        let mut out = [0u8; 6];
        mem.read(segs[0].addr.checked_add(6).unwrap(), &mut out)
            .unwrap();
        assert_eq!(&out, b"device");
        mem.unmap(&buf, Direction::ToDevice);
        assert!(mem.mappings().is_empty());
    }

    #[test]
    fn from_device_is_poisoned_until_written_and_copied_back_on_sync() {
        let mut mem = SimMemory::new();
        let mut buf = [0u8; 4];
        let segs = map(&mut mem, &buf, Direction::FromDevice);
        assert_eq!(mem.peek(segs[0].addr, 4), Some(vec![POISON; 4]));
        mem.write(segs[0].addr, &[1, 2]).unwrap();
        assert_eq!(
            buf, [0; 4],
            "nothing reaches the buffer before sync_for_cpu"
        );
        mem.sync_for_cpu(&mut buf);
        assert_eq!(buf, [1, 2, POISON, POISON]);
        mem.unmap(&buf, Direction::FromDevice);
    }

    #[test]
    fn mappings_never_share_or_touch_addresses() {
        let mut mem = SimMemory::new();
        let a = [0u8; 5000];
        let b = [0u8; 10];
        let sa = map(&mut mem, &a, Direction::ToDevice);
        let sb = map(&mut mem, &b, Direction::ToDevice);
        assert!(sb[0].addr.get() > seg_end(&sa[0]) + PAGE - 1);
        mem.unmap(&a, Direction::ToDevice);
        let sc = map(&mut mem, &a, Direction::ToDevice);
        assert!(sc[0].addr > sb[0].addr, "released ranges are not reused");
    }

    #[test]
    fn access_after_unmap_is_a_violation() {
        let mut mem = recording();
        let buf = [0u8; 16];
        let segs = map(&mut mem, &buf, Direction::FromDevice);
        mem.unmap(&buf, Direction::FromDevice);
        assert!(mem.write(segs[0].addr, &[1]).is_err());
        let mut one = [0u8; 1];
        assert!(mem.read(segs[0].addr, &mut one).is_err());
        assert_eq!(one, [0xFF]);
        assert_eq!(
            mem.violations(),
            [
                Violation::AfterUnmap {
                    write: true,
                    addr: segs[0].addr,
                    len: 1
                },
                Violation::AfterUnmap {
                    write: false,
                    addr: segs[0].addr,
                    len: 1
                }
            ]
        );
    }

    #[test]
    fn never_mapped_past_end_and_write_to_device_buffer() {
        let mut mem = recording();
        let buf = [7u8; 8];
        let segs = map(&mut mem, &buf, Direction::ToDevice);
        let mut four = [0u8; 4];
        assert!(mem.read(BusAddr::new(0x1000), &mut four).is_err());
        let near_end = segs[0].addr.checked_add(6).unwrap();
        assert!(mem.read(near_end, &mut four).is_err());
        assert!(mem.write(segs[0].addr, &[0]).is_err());
        assert_eq!(mem.peek(segs[0].addr, 1), Some(vec![7]), "write refused");
        let v = mem.take_violations();
        assert!(matches!(v[0], Violation::NeverMapped { write: false, .. }));
        assert_eq!(
            v[1],
            Violation::PastEnd {
                write: false,
                addr: near_end,
                len: 4,
                segment_end: segs[0].addr.checked_add(8).unwrap()
            }
        );
        assert!(matches!(
            v[2],
            Violation::WriteToDeviceBuffer { len: 1, .. }
        ));
        assert!(mem.violations().is_empty());
    }

    #[test]
    #[should_panic(expected = "after the driver unmapped it")]
    fn violations_panic_by_default() {
        let mut mem = SimMemory::new();
        let buf = [0u8; 2];
        let segs = map(&mut mem, &buf, Direction::FromDevice);
        mem.unmap(&buf, Direction::FromDevice);
        let _ = mem.write(segs[0].addr, &[1, 2]);
    }

    #[test]
    fn driver_side_misuse_is_recorded() {
        let mut mem = recording();
        let mut buf = [0u8; 3];
        mem.sync_for_cpu(&mut buf);
        map(&mut mem, &buf, Direction::ToDevice);
        mem.unmap(&buf, Direction::FromDevice);
        mem.unmap(&buf, Direction::ToDevice);
        mem.unmap(&buf, Direction::ToDevice);
        assert_eq!(
            mem.violations(),
            [
                Violation::SyncNotMapped { len: 3 },
                Violation::UnmapNotMapped {
                    len: 3,
                    dir: Direction::FromDevice
                },
                Violation::UnmapNotMapped {
                    len: 3,
                    dir: Direction::ToDevice
                },
            ]
        );
        assert!(Violation::SyncNotMapped { len: 3 }
            .to_string()
            .contains("not mapped"));
    }

    #[test]
    fn placement_knobs() {
        let mut mem = SimMemory::new();
        let buf = [1u8; 512];
        mem.place_next_at(BusAddr::new(0x1_FF00));
        let segs = map(&mut mem, &buf, Direction::ToDevice);
        assert_eq!(
            segs,
            [Segment {
                addr: BusAddr::new(0x1_FF00),
                len: 512
            }]
        );
        mem.set_base(BusAddr::new(1 << 32));
        let mut err = None;
        let r = mem.map(&buf, Direction::ToDevice, Reach::ADDR32, &mut |_| Ok(()));
        if let Err(e) = r {
            err = Some(e);
        }
        assert!(matches!(err, Some(DmaError::Unreachable { .. })));
        assert_eq!(mem.mappings().len(), 1, "a refused mapping leaves nothing");
        let wide = Reach::ADDR64;
        let mut above = Vec::new();
        mem.map(&buf, Direction::ToDevice, wide, &mut |s| {
            above.push(s);
            Ok(())
        })
        .unwrap();
        assert!(above[0].addr.get() >= 1 << 32);

        mem.set_base(BusAddr::new(DEFAULT_BASE));
        mem.set_keep_page_offset(false);
        mem.set_misalign(1);
        let r = mem.map(
            &buf,
            Direction::ToDevice,
            Reach::ADDR32.with_align(2),
            &mut |_| Ok(()),
        );
        assert!(matches!(r, Err(DmaError::Misaligned { .. })));
        mem.set_misalign(0);

        let segs = map(&mut mem, &buf, Direction::ToDevice);
        assert_eq!(
            segs[0].addr.get() % PAGE,
            0,
            "page start without the host offset"
        );
        mem.set_keep_page_offset(true);

        mem.fail_next_map(DmaError::NotMappable);
        let r = mem.map(&buf, Direction::ToDevice, Reach::ADDR32, &mut |_| Ok(()));
        assert_eq!(r, Err(DmaError::NotMappable));
    }

    #[test]
    fn split_gives_separate_segments_that_hold_the_buffer_in_order() {
        let mut mem = SimMemory::new();
        let buf: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        mem.set_split(Some(1024));
        mem.place_next_at(BusAddr::new(0x20_0100));
        let segs = map(&mut mem, &buf, Direction::ToDevice);
        let lens: Vec<usize> = segs.iter().map(|s| s.len).collect();
        assert_eq!(lens, [768, 1024, 1024, 184]);
        for pair in segs.windows(2) {
            assert!(seg_end(&pair[0]) < pair[1].addr.get(), "not contiguous");
            assert_eq!(pair[1].addr.get() % 1024, 0);
        }
        let mut gathered = Vec::new();
        for s in &segs {
            gathered.extend(mem.peek(s.addr, s.len).unwrap());
        }
        assert_eq!(gathered, buf);
        // An access spanning two segments is a violation even though both are mapped.
        mem.set_panic_on_violation(false);
        let mut two = [0u8; 2];
        let last_byte = segs[0].addr.checked_add(767).unwrap();
        assert!(mem.read(last_byte, &mut two).is_err());
    }

    #[test]
    fn a_failing_segment_callback_undoes_the_mapping() {
        let mut mem = recording();
        mem.set_split(Some(256));
        let buf = [0u8; 1024];
        let mut seen = 0;
        let r = mem.map(&buf, Direction::FromDevice, Reach::ADDR32, &mut |_| {
            seen += 1;
            if seen == 2 {
                Err(DmaError::TooManySegments { max: 1 })
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Err(DmaError::TooManySegments { max: 1 }));
        assert!(mem.mappings().is_empty());
    }

    #[test]
    fn handles_are_send_sync_and_shared() {
        fn check<T: Send + Sync + Clone>() {}
        check::<SimMemory>();
        let mut a = SimMemory::new();
        let b = a.clone();
        let buf = [3u8; 4];
        let segs = map(&mut a, &buf, Direction::ToDevice);
        assert_eq!(b.peek(segs[0].addr, 4), Some(vec![3; 4]));
        assert_eq!(b.mappings()[0].segments, segs);
    }
}
