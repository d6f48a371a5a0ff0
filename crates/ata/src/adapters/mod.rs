//! Adapters to the block and byte traits other crates expect (behind features).

#[cfg(feature = "embedded-io")]
mod io;
#[cfg(feature = "embedded-sdmmc")]
mod sdmmc;

#[cfg(feature = "embedded-io")]
pub use io::ByteDisk;
#[cfg(feature = "embedded-sdmmc")]
pub use sdmmc::BlockDisk;

/// The sector size the adapters work in.
pub(crate) const SECTOR: usize = 512;

/// A sector buffer the DMA engine can always use (PRD addresses must be even), so partial
/// sectors go by DMA too.
#[cfg(feature = "embedded-io")]
#[repr(C, align(4))]
pub(crate) struct Aligned(pub(crate) [u8; SECTOR]);

#[cfg(feature = "embedded-io")]
impl core::fmt::Debug for Aligned {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Aligned(..)")
    }
}
