//! Disk images attached to the guest as raw IDE disks.
//!
//! Besides zeroed and literal images, a disk can hold the *sector pattern*: every sector's
//! bytes are a function of a seed and its LBA ([`pattern_sector`]), so a guest that reads any
//! sector can check it without the host sending the expected bytes, and the host can check what
//! the guest wrote with the same function. The test kernel computes the same pattern
//! (`qemu-tests/kernel/src/pattern.rs`); both sides pin it with the same known values.
//!
//! Large sparse images (200 GiB, for LBA48) cost no disk space: only the pieces written with
//! [`Disk::with_bytes_at`] / [`Disk::with_pattern_at`] take room.

use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::Path;

/// Bytes per sector: images must be whole sectors.
pub const SECTOR_SIZE: u64 = 512;
/// IDE on `-machine pc` has two channels with two devices each.
pub const MAX_DISKS: usize = 4;

/// How much of a pattern image is generated at once while writing it.
const PATTERN_CHUNK_SECTORS: u64 = 2048;

/// A raw disk image the runner writes to a fresh file before QEMU starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    contents: Contents,
    /// Pieces written over the contents, in order.
    patches: Vec<(u64, Vec<u8>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Contents {
    /// A sparse file of this many bytes: costs no disk space, reads as zeros.
    Zeroed(u64),
    Bytes(Vec<u8>),
    /// Every sector holds [`pattern_sector`]`(seed, lba)`.
    Pattern {
        bytes: u64,
        seed: u32,
    },
}

/// SplitMix64's output function: a cheap, well-mixed 64-bit hash.
const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The 512 bytes of sector `lba` in a pattern image made with `seed`.
///
/// Its 64 little-endian `u64` words are `mix64(lba << 6 | word ^ seed << 40)` with SplitMix64's
/// output function, except word 0, which is `lba` itself (so a hex dump names the sector).
/// Different seeds and different sectors differ in every word but word 0.
pub fn pattern_sector(seed: u32, lba: u64) -> [u8; 512] {
    let mut sector = [0u8; 512];
    for (word, bytes) in sector.chunks_exact_mut(8).enumerate() {
        let value = if word == 0 {
            lba
        } else {
            mix64((lba << 6 | word as u64) ^ u64::from(seed) << 40)
        };
        bytes.copy_from_slice(&value.to_le_bytes());
    }
    sector
}

/// The pattern for `count` sectors from `first_lba`.
pub fn pattern_bytes(seed: u32, first_lba: u64, count: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity((count * SECTOR_SIZE) as usize);
    for lba in first_lba..first_lba + count {
        bytes.extend_from_slice(&pattern_sector(seed, lba));
    }
    bytes
}

/// The first sector of `data` (which starts at `first_lba`) that differs from the pattern of
/// `seed`, if any.
pub fn pattern_mismatch(seed: u32, first_lba: u64, data: &[u8]) -> Option<u64> {
    data.chunks(SECTOR_SIZE as usize)
        .zip(first_lba..)
        .find(|(sector, lba)| *sector != &pattern_sector(seed, *lba)[..sector.len()])
        .map(|(_, lba)| lba)
}

impl Disk {
    /// `bytes` zero bytes (a sparse file).
    pub fn zeroed(bytes: u64) -> Self {
        Self {
            contents: Contents::Zeroed(bytes),
            patches: Vec::new(),
        }
    }

    /// An image holding exactly `bytes`.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            contents: Contents::Bytes(bytes.into()),
            patches: Vec::new(),
        }
    }

    /// An image of `bytes` whose every sector holds [`pattern_sector`]`(seed, lba)`.
    pub fn pattern(bytes: u64, seed: u32) -> Self {
        Self {
            contents: Contents::Pattern { bytes, seed },
            patches: Vec::new(),
        }
    }

    /// Writes `data` at byte `offset` over the contents (e.g. a few sectors of a sparse image).
    pub fn with_bytes_at(mut self, offset: u64, data: impl Into<Vec<u8>>) -> Self {
        self.patches.push((offset, data.into()));
        self
    }

    /// Writes the pattern of `seed` for `count` sectors from `lba` over the contents.
    pub fn with_pattern_at(self, lba: u64, count: u64, seed: u32) -> Self {
        self.with_bytes_at(lba * SECTOR_SIZE, pattern_bytes(seed, lba, count))
    }

    /// The image size in bytes.
    pub fn len(&self) -> u64 {
        match &self.contents {
            Contents::Zeroed(bytes) | Contents::Pattern { bytes, .. } => *bytes,
            Contents::Bytes(bytes) => bytes.len() as u64,
        }
    }

    /// The number of sectors (rounded down).
    pub fn sectors(&self) -> u64 {
        self.len() / SECTOR_SIZE
    }

    /// Whether the image is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Why QEMU could not use this image, if it could not.
    pub fn problem(&self) -> Option<String> {
        let len = self.len();
        if len == 0 {
            return Some("an empty image has no sectors".into());
        }
        if len % SECTOR_SIZE != 0 {
            return Some(format!(
                "size {len} is not a multiple of the {SECTOR_SIZE}-byte sector \
                 ({} bytes over)",
                len % SECTOR_SIZE
            ));
        }
        self.patches.iter().find_map(|(offset, data)| {
            let end = offset.checked_add(data.len() as u64);
            (end.is_none_or(|end| end > len)).then(|| {
                format!(
                    "{} bytes written at offset {offset} end past the image's {len} bytes",
                    data.len()
                )
            })
        })
    }

    /// Writes the image to `path`.
    pub(crate) fn write_to(&self, path: &Path) -> io::Result<()> {
        let mut file = File::create(path)?;
        match &self.contents {
            Contents::Zeroed(bytes) => file.set_len(*bytes)?,
            Contents::Bytes(bytes) => file.write_all(bytes)?,
            Contents::Pattern { bytes, seed } => {
                let mut writer = io::BufWriter::with_capacity(1 << 20, &mut file);
                let sectors = bytes / SECTOR_SIZE;
                let mut lba = 0;
                while lba < sectors {
                    let count = PATTERN_CHUNK_SECTORS.min(sectors - lba);
                    writer.write_all(&pattern_bytes(*seed, lba, count))?;
                    lba += count;
                }
                writer.flush()?;
            }
        }
        for (offset, data) in &self.patches {
            file.seek(SeekFrom::Start(*offset))?;
            file.write_all(data)?;
        }
        file.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked() {
        assert_eq!(Disk::zeroed(1 << 20).problem(), None);
        assert_eq!(Disk::from_bytes(vec![0; 1024]).problem(), None);
        assert!(Disk::zeroed(0).problem().unwrap().contains("empty"));
        assert!(Disk::from_bytes(vec![0; 513])
            .problem()
            .unwrap()
            .contains("1 bytes over"));
        assert!(Disk::zeroed(1024)
            .with_bytes_at(1000, vec![1; 100])
            .problem()
            .unwrap()
            .contains("end past"));
        assert!(Disk::zeroed(1024)
            .with_bytes_at(u64::MAX, vec![1; 100])
            .problem()
            .is_some());
        assert_eq!(Disk::pattern(4096, 1).sectors(), 8);
    }

    #[test]
    fn images_are_written() {
        let dir = crate::tempdir::TempDir::new().unwrap();
        let sparse = dir.path().join("s.img");
        Disk::zeroed(200 << 30).write_to(&sparse).unwrap();
        assert_eq!(std::fs::metadata(&sparse).unwrap().len(), 200 << 30);
        let full = dir.path().join("f.img");
        Disk::from_bytes(vec![7; 512]).write_to(&full).unwrap();
        assert_eq!(std::fs::read(&full).unwrap(), vec![7; 512]);
    }

    /// The values the test kernel's copy of the pattern checks too: both sides agree.
    #[test]
    fn pattern_is_pinned() {
        let sector = pattern_sector(7, 3);
        assert_eq!(&sector[..8], &3u64.to_le_bytes());
        let word1 = u64::from_le_bytes(sector[8..16].try_into().unwrap());
        assert_eq!(word1, mix64((3 << 6 | 1) ^ 7 << 40));
        assert_eq!(word1, 0xEC99_A57E_F680_EA3F);
        assert_eq!(mix64(0), 0);
        assert_eq!(mix64(1), 0x5692_161D_100B_05E5);
        // Every sector and seed differs from its neighbours beyond word 0.
        assert_ne!(pattern_sector(7, 3)[8..], pattern_sector(7, 4)[8..]);
        assert_ne!(pattern_sector(7, 3)[8..], pattern_sector(8, 3)[8..]);
        assert_eq!(pattern_bytes(7, 2, 2)[512..], pattern_sector(7, 3));
    }

    #[test]
    fn pattern_mismatch_names_the_first_bad_sector() {
        let mut data = pattern_bytes(1, 10, 4);
        assert_eq!(pattern_mismatch(1, 10, &data), None);
        assert_eq!(pattern_mismatch(2, 10, &data), Some(10));
        data[2 * 512 + 100] ^= 1;
        assert_eq!(pattern_mismatch(1, 10, &data), Some(12));
        assert_eq!(pattern_mismatch(1, 10, &data[..1000]), None);
    }

    #[test]
    fn pattern_images_and_patches_are_written() {
        let dir = crate::tempdir::TempDir::new().unwrap();
        let path = dir.path().join("p.img");
        Disk::pattern(5000 * 512, 9).write_to(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len(), 5000 * 512);
        assert_eq!(pattern_mismatch(9, 0, &bytes), None);

        let sparse = dir.path().join("sparse.img");
        let far = (1u64 << 28) + 5;
        Disk::zeroed(200 << 30)
            .with_pattern_at(far, 3, 4)
            .with_bytes_at(0, vec![0xAB; 512])
            .write_to(&sparse)
            .unwrap();
        let metadata = std::fs::metadata(&sparse).unwrap();
        assert_eq!(metadata.len(), 200 << 30);
        let mut file = File::open(&sparse).unwrap();
        let mut piece = vec![0; 3 * 512];
        file.seek(SeekFrom::Start(far * 512)).unwrap();
        io::Read::read_exact(&mut file, &mut piece).unwrap();
        assert_eq!(pattern_mismatch(4, far, &piece), None);
        file.seek(SeekFrom::Start(0)).unwrap();
        io::Read::read_exact(&mut file, &mut piece[..512]).unwrap();
        assert_eq!(piece[..512], [0xAB; 512]);
    }
}
