//! The demo's default disk: an MBR with one FAT16 partition holding `README.TXT` and a few
//! files, written on the host with the `fatfs` crate (no mkfs, no root, no loop device).
//!
//! Sectors 1 to [`PARTITION_START_LBA`]` - 1` lie outside the volume, so the shell's raw
//! `write LBA TEXT` there never damages the file system.

use std::io::{self, Cursor, Read, Write};

use fatfs::{FatType, FileSystem, FormatVolumeOptions, FsOptions};

/// Bytes per sector.
pub const SECTOR: usize = 512;
/// The image size in sectors (4 MiB: FAT16 needs at least 4085 clusters).
pub const IMAGE_SECTORS: usize = 8192;
/// Where the FAT partition starts.
pub const PARTITION_START_LBA: usize = 64;
/// MBR partition type: FAT16 with LBA addressing.
const FAT16_LBA: u8 = 0x0E;

/// The README on the default disk.
pub const README: &str = "\
Welcome to the irqkit demo disk.

This FAT16 volume was written on the host by the fatfs crate. The kernel
reads it through irqkit-ata (PIO, or bus-master DMA completed by IRQ 14)
and a FAT library over the driver's block-device adapter.

Try: ls, cat HELLO.TXT, ls DOCS, write-file NOTES.TXT hello, read 0, bench.
";

/// The files of the default disk besides the README: path and contents.
pub const FILES: [(&str, &str); 2] = [
    ("HELLO.TXT", "Hello from the host!\n"),
    (
        "DOCS/CRATES.TXT",
        "irqkit-hal irqkit-intq irqkit-ps2 irqkit-defer irqkit-ata\n",
    ),
];

/// The default disk image: MBR, one FAT16 partition, the README and [`FILES`].
///
/// # Panics
///
/// Never for these fixed contents (formatting an in-memory buffer cannot fail).
pub fn default_image() -> Vec<u8> {
    let partition_sectors = IMAGE_SECTORS - PARTITION_START_LBA;
    let mut volume = Cursor::new(vec![0u8; partition_sectors * SECTOR]);
    fatfs::format_volume(
        &mut volume,
        FormatVolumeOptions::new()
            .fat_type(FatType::Fat16)
            .bytes_per_cluster(SECTOR as u32)
            .volume_label(*b"IRQKIT DEMO"),
    )
    .expect("formatting an in-memory FAT16 volume");
    {
        let fs = FileSystem::new(&mut volume, FsOptions::new()).expect("mounting the new volume");
        let root = fs.root_dir();
        root.create_dir("DOCS").expect("creating DOCS");
        for (path, contents) in std::iter::once(("README.TXT", README)).chain(FILES) {
            let mut file = root.create_file(path).expect("creating a file");
            file.write_all(contents.as_bytes()).expect("writing a file");
        }
    }
    let mut image = vec![0u8; IMAGE_SECTORS * SECTOR];
    image[PARTITION_START_LBA * SECTOR..].copy_from_slice(volume.get_ref());
    image[..SECTOR].copy_from_slice(&mbr(PARTITION_START_LBA as u32, partition_sectors as u32));
    image
}

/// A master boot record with one partition of type FAT16 LBA.
fn mbr(start: u32, sectors: u32) -> [u8; SECTOR] {
    let mut sector = [0u8; SECTOR];
    let entry = &mut sector[446..462];
    entry[4] = FAT16_LBA;
    // CHS fields stay 0xFE/0xFF/0xFF style "use LBA": readers of LBA partitions ignore them.
    entry[1..4].copy_from_slice(&[0xFE, 0xFF, 0xFF]);
    entry[5..8].copy_from_slice(&[0xFE, 0xFF, 0xFF]);
    entry[8..12].copy_from_slice(&start.to_le_bytes());
    entry[12..16].copy_from_slice(&sectors.to_le_bytes());
    sector[510] = 0x55;
    sector[511] = 0xAA;
    sector
}

/// The FAT partition of a default-layout image (a copy).
fn volume_of(image: &[u8]) -> io::Result<Cursor<Vec<u8>>> {
    let start = PARTITION_START_LBA * SECTOR;
    image
        .get(start..)
        .map(|volume| Cursor::new(volume.to_vec()))
        .ok_or_else(|| io::Error::other("the image is smaller than the partition start"))
}

/// Reads the file at `path` (e.g. `NOTES.TXT`, `DOCS/CRATES.TXT`) from a default-layout
/// image, as the host's FAT library sees it.
///
/// # Errors
///
/// When the volume does not mount or the file is missing.
pub fn read_file(image: &[u8], path: &str) -> io::Result<Vec<u8>> {
    let mut volume = volume_of(image)?;
    let fs = FileSystem::new(&mut volume, FsOptions::new())?;
    let mut contents = Vec::new();
    fs.root_dir().open_file(path)?.read_to_end(&mut contents)?;
    Ok(contents)
}

/// The names in the directory `path` (`""` for the root) of a default-layout image.
///
/// # Errors
///
/// When the volume does not mount or the directory is missing.
pub fn list_dir(image: &[u8], path: &str) -> io::Result<Vec<String>> {
    let mut volume = volume_of(image)?;
    let fs = FileSystem::new(&mut volume, FsOptions::new())?;
    let root = fs.root_dir();
    let dir = if path.is_empty() {
        root
    } else {
        root.open_dir(path)?
    };
    let mut names = Vec::new();
    for entry in dir.iter() {
        let name = entry?.file_name();
        if name != "." && name != ".." {
            names.push(name);
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `cat` prints to the kernel's 80-column console: a longer line would wrap mid-word.
    #[test]
    fn every_line_of_the_default_files_fits_the_console() {
        let texts = core::iter::once(README).chain(FILES.iter().map(|(_, text)| *text));
        for line in texts.flat_map(str::lines) {
            assert!(line.chars().count() < 80, "{line:?} wraps on the console");
        }
    }

    #[test]
    fn the_default_image_holds_its_files() {
        let image = default_image();
        assert_eq!(image.len(), IMAGE_SECTORS * SECTOR);
        assert_eq!(&image[510..512], &[0x55, 0xAA]);
        assert_eq!(image[446 + 4], FAT16_LBA);
        assert_eq!(read_file(&image, "README.TXT").unwrap(), README.as_bytes());
        for (path, contents) in FILES {
            assert_eq!(read_file(&image, path).unwrap(), contents.as_bytes());
        }
        let mut names = list_dir(&image, "").unwrap();
        names.sort();
        assert_eq!(names, ["DOCS", "HELLO.TXT", "README.TXT"]);
        assert!(read_file(&image, "MISSING.TXT").is_err());
        // The sectors between the MBR and the volume are free for raw writes.
        assert!(image[SECTOR..PARTITION_START_LBA * SECTOR]
            .iter()
            .all(|&b| b == 0));
    }
}
