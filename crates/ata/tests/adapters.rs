//! The `embedded-io` byte stream and the `embedded-sdmmc` block device: a FAT volume mounts,
//! a file is written, flushed, and survives a power loss.

mod common;

use common::*;
use embedded_io::{Read, Seek, SeekFrom, Write};
use embedded_sdmmc::{
    BlockDevice, BlockIdx, Mode, TimeSource, Timestamp, VolumeIdx, VolumeManager,
};
use irqkit_ata::{BlockDisk, ByteDisk, Error};
use proptest::prelude::*;

#[test]
fn byte_stream_reads_writes_and_seeks_at_any_offset() {
    let rig = one_disk(64);
    let mut ch = rig.dma();
    let mut disk = ByteDisk::new(&mut ch, M).unwrap();
    assert_eq!(disk.len(), 64 * 512);
    disk.seek(SeekFrom::Start(1000)).unwrap();
    let text = pattern(0, 1500, 1); // crosses sectors 1..=4, unaligned both ends
    disk.write_all(&text).unwrap();
    assert_eq!(disk.position(), 2500);
    disk.seek(SeekFrom::Current(-1500)).unwrap();
    let mut back = vec![0u8; 1500];
    disk.read_exact(&mut back).unwrap();
    assert_eq!(back, text);
    // Bytes around the write are untouched (read-modify-write kept them).
    disk.seek(SeekFrom::Start(0)).unwrap();
    let mut head = vec![0xEEu8; 1000];
    disk.read_exact(&mut head).unwrap();
    assert!(head.iter().all(|&b| b == 0));
    // End of disk.
    assert_eq!(disk.seek(SeekFrom::End(-2)).unwrap(), 64 * 512 - 2);
    let mut tail = [0u8; 8];
    assert_eq!(disk.read(&mut tail).unwrap(), 2);
    assert_eq!(disk.read(&mut tail).unwrap(), 0);
    assert!(matches!(disk.write(&tail), Err(Error::OutOfRange { .. })));
    assert!(disk.seek(SeekFrom::Current(-100_000)).is_err());
    disk.flush().unwrap();
    assert_eq!(rig.disk(|d| d.flushes()), 1);
}

#[test]
fn buffers_dma_cannot_use_still_work() {
    let rig = one_disk(64);
    let mut ch = rig.dma();
    let mut disk = ByteDisk::new(&mut ch, M).unwrap();
    rig.mem.set_misalign(1); // odd bus addresses: the channel falls back to PIO
    disk.write_all(&pattern(0, 1024, 2)).unwrap();
    disk.rewind().unwrap();
    let mut back = vec![0u8; 1024];
    disk.read_exact(&mut back).unwrap();
    assert_eq!(back, pattern(0, 1024, 2));
    let cmds: Vec<u8> = rig.disk(|d| d.commands().iter().map(|c| c.command).collect());
    assert!(cmds.ends_with(&[0xC5, 0xC4]), "{cmds:x?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn byte_stream_matches_a_vec(ops in proptest::collection::vec((0u64..6500, 1usize..1600, any::<u8>()), 1..12)) {
        let rig = one_disk(16);
        let mut ch = rig.dma();
        let mut disk = ByteDisk::new(&mut ch, M).unwrap();
        let mut model = vec![0u8; 16 * 512];
        for (at, len, salt) in ops {
            let data = pattern(at, len, salt);
            disk.seek(SeekFrom::Start(at)).unwrap();
            disk.write_all(&data).unwrap();
            model[at as usize..at as usize + len].copy_from_slice(&data);
        }
        disk.rewind().unwrap();
        let mut all = vec![0u8; model.len()];
        disk.read_exact(&mut all).unwrap();
        prop_assert_eq!(all, model);
    }
}

#[derive(Clone, Copy)]
struct Epoch;
impl TimeSource for Epoch {
    fn get_timestamp(&self) -> Timestamp {
        Timestamp {
            year_since_1970: 56,
            zero_indexed_month: 11,
            zero_indexed_day: 0,
            hours: 0,
            minutes: 0,
            seconds: 0,
        }
    }
}

/// Writes an MBR with one FAT16 partition of 16384 sectors at LBA 64 and formats it.
fn format_fat16(rig: &Rig) {
    const START: u32 = 64;
    const SECTORS: u32 = 16384;
    const FAT_SECTORS: u16 = 64;
    let mut mbr = [0u8; 512];
    let p = &mut mbr[446..462];
    p[4] = 0x06; // FAT16
    p[8..12].copy_from_slice(&START.to_le_bytes());
    p[12..16].copy_from_slice(&SECTORS.to_le_bytes());
    mbr[510] = 0x55;
    mbr[511] = 0xAA;
    let mut vbr = [0u8; 512];
    vbr[..3].copy_from_slice(&[0xEB, 0x3C, 0x90]);
    vbr[3..11].copy_from_slice(b"IRQKIT  ");
    vbr[11..13].copy_from_slice(&512u16.to_le_bytes());
    vbr[13] = 1; // sectors per cluster
    vbr[14..16].copy_from_slice(&1u16.to_le_bytes()); // reserved
    vbr[16] = 2; // FATs
    vbr[17..19].copy_from_slice(&512u16.to_le_bytes()); // root entries
    vbr[19..21].copy_from_slice(&(SECTORS as u16).to_le_bytes());
    vbr[21] = 0xF8;
    vbr[22..24].copy_from_slice(&FAT_SECTORS.to_le_bytes());
    vbr[24..26].copy_from_slice(&63u16.to_le_bytes());
    vbr[26..28].copy_from_slice(&255u16.to_le_bytes());
    vbr[28..32].copy_from_slice(&START.to_le_bytes());
    vbr[36] = 0x80;
    vbr[38] = 0x29;
    vbr[43..54].copy_from_slice(b"IRQKIT     ");
    vbr[54..62].copy_from_slice(b"FAT16   ");
    vbr[510] = 0x55;
    vbr[511] = 0xAA;
    let mut fat = [0u8; 512];
    fat[..4].copy_from_slice(&[0xF8, 0xFF, 0xFF, 0xFF]);
    rig.disk(|d| {
        d.write_medium(0, &mbr);
        d.write_medium(u64::from(START), &vbr);
        for f in 0..2u64 {
            d.write_medium(u64::from(START) + 1 + f * u64::from(FAT_SECTORS), &fat);
        }
    });
}

#[test]
fn a_fat_volume_mounts_and_a_flushed_file_survives_power_loss() {
    let rig = one_disk(20_000);
    format_fat16(&rig);
    let ch = rig.dma();
    let vm = VolumeManager::new(BlockDisk::new(ch, M), Epoch);
    let text = b"written through irqkit-ata by embedded-sdmmc\n".repeat(40);
    {
        let volume = vm.open_volume(VolumeIdx(0)).expect("mount");
        let root = volume.open_root_dir().unwrap();
        let file = root
            .open_file_in_dir("HELLO.TXT", Mode::ReadWriteCreateOrTruncate)
            .unwrap();
        file.write(&text).unwrap();
        file.close().unwrap();
        root.close().unwrap();
        volume.close().unwrap();
    }
    vm.device(|disk| {
        disk.flush().unwrap();
        Epoch
    });
    rig.disk(|d| d.power_loss());
    let volume = vm.open_volume(VolumeIdx(0)).unwrap();
    let root = volume.open_root_dir().unwrap();
    let file = root.open_file_in_dir("HELLO.TXT", Mode::ReadOnly).unwrap();
    let mut back = vec![0u8; text.len() + 10];
    let mut got = 0;
    loop {
        let n = file.read(&mut back[got..]).unwrap();
        if n == 0 {
            break;
        }
        got += n;
    }
    assert_eq!(&back[..got], &text[..]);
}

#[test]
fn block_device_counts_and_reports_errors() {
    let rig = one_disk(100);
    let disk = BlockDisk::new(rig.dma(), M);
    assert_eq!(disk.num_blocks().unwrap().0, 100);
    let mut blocks = [embedded_sdmmc::Block::new(), embedded_sdmmc::Block::new()];
    assert!(matches!(
        disk.read(&mut blocks, BlockIdx(99)),
        Err(Error::OutOfRange { lba: 100, .. })
    ));
    blocks[1].contents.fill(7);
    disk.write(&blocks, BlockIdx(10)).unwrap();
    let mut back = [embedded_sdmmc::Block::new(), embedded_sdmmc::Block::new()];
    disk.read(&mut back, BlockIdx(10)).unwrap();
    assert_eq!(back[1].contents, [7u8; 512]);
    let slave = BlockDisk::new(rig.dma(), irqkit_ata::Drive::Slave);
    assert!(matches!(slave.num_blocks(), Err(Error::NoDevice { .. })));
}
