//! Disk images attached to the guest as raw IDE disks.

/// Bytes per sector: images must be whole sectors.
pub const SECTOR_SIZE: u64 = 512;
/// IDE on `-machine pc` has two channels with two devices each.
pub const MAX_DISKS: usize = 4;

/// A raw disk image the runner writes to a fresh file before QEMU starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disk {
    contents: Contents,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Contents {
    /// A sparse file of this many bytes: costs no disk space, reads as zeros.
    Zeroed(u64),
    Bytes(Vec<u8>),
}

impl Disk {
    /// `bytes` zero bytes (a sparse file).
    pub fn zeroed(bytes: u64) -> Self {
        Self {
            contents: Contents::Zeroed(bytes),
        }
    }

    /// An image holding exactly `bytes`.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            contents: Contents::Bytes(bytes.into()),
        }
    }

    /// The image size in bytes.
    pub fn len(&self) -> u64 {
        match &self.contents {
            Contents::Zeroed(bytes) => *bytes,
            Contents::Bytes(bytes) => bytes.len() as u64,
        }
    }

    /// Whether the image is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Why QEMU could not use this image, if it could not.
    pub fn problem(&self) -> Option<String> {
        let len = self.len();
        if len == 0 {
            Some("an empty image has no sectors".into())
        } else if len % SECTOR_SIZE != 0 {
            Some(format!(
                "size {len} is not a multiple of the {SECTOR_SIZE}-byte sector \
                 ({} bytes over)",
                len % SECTOR_SIZE
            ))
        } else {
            None
        }
    }

    /// Writes the image to `path`.
    pub(crate) fn write_to(&self, path: &std::path::Path) -> std::io::Result<()> {
        match &self.contents {
            Contents::Zeroed(bytes) => std::fs::File::create(path)?.set_len(*bytes),
            Contents::Bytes(bytes) => std::fs::write(path, bytes),
        }
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
}
