//! The kernel's DMA memory: one static region below 4 GiB, identity-mapped by the boot page
//! tables (virtual address == physical == bus address), handed out once as a data buffer and
//! a descriptor (PRD table) area.
//!
//! The drivers own no memory: the kernel gives them this region. Its address is checked
//! against the boot stub's identity map (the first 1 GiB) when it is taken.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, Ordering};

/// Bytes for data buffers (DMA transfers read into and write from here).
pub const DATA_BYTES: usize = 8 << 20;
/// Bytes for descriptor tables: 16 tables of 4 KiB (512 PRD entries each, QEMU's limit).
pub const DESCRIPTOR_BYTES: usize = 64 << 10;
/// The end of the boot stub's identity map.
const IDENTITY_MAPPED_END: usize = 1 << 30;

/// 64 KiB aligned, so a 4 KiB descriptor table never crosses a 64 KiB boundary and data
/// buffers start on one.
#[repr(C, align(65536))]
struct Region {
    descriptors: [u8; DESCRIPTOR_BYTES],
    data: [u8; DATA_BYTES],
}

struct Shared(UnsafeCell<Region>);

// SAFETY: the region is only reached through `take`, which hands out the one `&mut` once.
unsafe impl Sync for Shared {}

static REGION: Shared = Shared(UnsafeCell::new(Region {
    descriptors: [0; DESCRIPTOR_BYTES],
    data: [0; DATA_BYTES],
}));
static TAKEN: AtomicBool = AtomicBool::new(false);

/// The DMA memory, split by use.
#[derive(Debug)]
pub struct DmaRegion {
    /// 64 KiB-aligned descriptor memory ([`DESCRIPTOR_BYTES`]).
    pub descriptors: &'static mut [u8],
    /// 64 KiB-aligned data memory ([`DATA_BYTES`]).
    pub data: &'static mut [u8],
}

/// The region, the first time; `None` after that.
pub fn take() -> Option<DmaRegion> {
    if TAKEN.swap(true, Ordering::AcqRel) {
        return None;
    }
    // SAFETY: `TAKEN` was false, so this is the only `&mut` to the region ever made, and
    // nothing else names `REGION`.
    let region = unsafe { &mut *REGION.0.get() };
    let end = region.data.as_ptr() as usize + DATA_BYTES;
    assert!(
        end <= IDENTITY_MAPPED_END,
        "DMA region ends at {end:#x}, past the identity map"
    );
    Some(DmaRegion {
        descriptors: &mut region.descriptors,
        data: &mut region.data,
    })
}

/// The bus address of `buf`: its address (identity mapping).
pub fn bus_address(buf: &[u8]) -> u64 {
    buf.as_ptr() as u64
}
