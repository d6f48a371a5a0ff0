//! The shell's disk commands: irqkit-ata on the primary master, raw sectors by async DMA
//! (completion by IRQ 14 waking the shell task), the FAT volume through irqkit-ata's
//! `embedded-sdmmc` block-device adapter, and a PIO-versus-DMA benchmark.
//!
//! Every failure is one line naming the command and the cause (a bad LBA, a missing file,
//! a driver error with its phase); nothing here panics on input.

use core::fmt;

use embedded_sdmmc::{Mode, TimeSource, Timestamp, VolumeIdx, VolumeManager};
use irqkit_ata::{BlockDisk, Channel, ChannelRegs, Drive, Options};
use irqkit_hal::dma::IdentityMap;

use super::words;
use crate::ata_disk::{self, Disk};
use crate::delay::PitDelay;
use crate::dma_region::{self, DmaRegion};
use crate::port::{ports, Ports};
use crate::{cprint, cprintln, ide, irq, tsc};

/// Sectors `read` shows at most.
const MAX_READ_SECTORS: u64 = 4;
/// Bytes `cat` shows at most.
const MAX_CAT_BYTES: usize = 4096;
/// Bytes the benchmark reads with each method.
const BENCH_BYTES: usize = 1 << 20;
/// Bytes of one sector.
const SECTOR: usize = 512;
/// The volume manager over the drive.
type Fat = VolumeManager<BlockDisk<Ports, PitDelay, IdentityMap, ata_disk::Halt>, Clock>;

/// The disk as the shell holds it.
pub struct DiskState {
    /// The channel, when a disk answered on the primary master (lent to the FAT adapter
    /// during a file command).
    channel: Option<Disk>,
    /// The sector buffer of `read` / `write` (DMA memory; lent to each transfer).
    sectors: Option<&'static mut [u8]>,
    /// The benchmark's buffer (DMA memory).
    bench: &'static mut [u8],
    /// Sectors on the disk.
    capacity: u64,
}

impl fmt::Debug for DiskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiskState")
            .field("present", &self.channel.is_some())
            .field("capacity", &self.capacity)
            .finish()
    }
}

/// The FAT time stamps of files the shell writes: a fixed date (the demo has no clock).
#[derive(Debug, Clone, Copy)]
pub struct Clock;

impl TimeSource for Clock {
    fn get_timestamp(&self) -> Timestamp {
        Timestamp {
            year_since_1970: 56,
            zero_indexed_month: 0,
            zero_indexed_day: 0,
            hours: 12,
            minutes: 0,
            seconds: 0,
        }
    }
}

/// IRQ 14: irqkit-ata's top half (acknowledges the drive, wakes the waiting transfer).
fn irq14(_irq: u8) {
    let _ = ata_disk::PRIMARY_IRQ.handle(&mut ports());
}

/// Opens the primary channel (DMA, IRQ 14) and looks for a disk on its master. Without a
/// usable disk, the state says so and each disk command answers that in one line.
///
/// # Panics
///
/// If there is no IDE controller or the channel fails while probing (the machine, not
/// anything typed).
pub fn open() -> DiskState {
    let absent = |reason: &dyn fmt::Display| {
        cprintln!("Disk: unusable ({reason}); the disk commands will say so.");
        DiskState {
            channel: None,
            sectors: None,
            bench: &mut [],
            capacity: 0,
        }
    };
    let ide = ide::setup();
    let Some(DmaRegion { descriptors, data }) = dma_region::take() else {
        return absent(&"the DMA region is already in use");
    };
    let regs = ChannelRegs::from(ide.controller.primary);
    if regs.bus_master.is_none() {
        return absent(&"the IDE controller has no bus master");
    }
    // SAFETY: every buffer the demo hands the mapper is part of the kernel's DMA region, a
    // static inside the boot stub's identity map of the first GiB (virtual == physical),
    // ordinary RAM.
    let map = unsafe { IdentityMap::new() };
    let mut channel = match Channel::new(ports(), PitDelay, regs)
        .with_dma(map, &mut descriptors[..ata_disk::PRD_TABLE_BYTES])
    {
        Ok(channel) => channel
            .with_interrupts(&ata_disk::PRIMARY_IRQ)
            .with_wait(ata_disk::Halt)
            .with_options(Options {
                interrupts: true,
                ..Options::default()
            }),
        Err(error) => return absent(&error),
    };
    irq::register(irq::PRIMARY_ATA, irq14);
    ata_disk::probe(&mut channel);
    let (sectors, bench) = data.split_at_mut(64 << 10);
    let bench = &mut bench[..BENCH_BYTES];
    let info = channel.drive(Drive::Master).filter(|info| info.is_disk());
    let capacity = info.map_or(0, |info| info.sectors());
    let state = DiskState {
        channel: info.is_some().then_some(channel),
        sectors: Some(sectors),
        bench,
        capacity,
    };
    state.describe();
    state
}

impl DiskState {
    /// The banner's line about the disk.
    pub fn describe(&self) {
        match self
            .channel
            .as_ref()
            .and_then(|channel| channel.drive(Drive::Master))
        {
            Some(info) => cprintln!(
                "Disk: {:?} (primary master), {} sectors, {} KiB. Try ls.",
                info.identify().model().as_str(),
                self.capacity,
                self.capacity / 2
            ),
            None => cprintln!("Disk: none on the primary master (the disk commands say so)."),
        }
    }

    fn channel(&mut self, command: &str) -> Option<&mut Disk> {
        if self.channel.is_none() {
            cprintln!("{command}: no disk on the primary master (irqkit-qemu demo attaches one)");
        }
        self.channel.as_mut()
    }

    /// Checks that `count` sectors from `lba` lie on the disk.
    fn check_range(&self, command: &str, lba: u64, count: u64) -> bool {
        if lba >= self.capacity {
            cprintln!(
                "{command}: LBA {lba} is past the end of the disk ({} sectors)",
                self.capacity
            );
            return false;
        }
        if lba + count > self.capacity {
            cprintln!(
                "{command}: LBA {lba} + {count} sectors runs past the end of the disk ({} sectors)",
                self.capacity
            );
            return false;
        }
        true
    }
}

/// Parses a number argument, or says what is wrong with it.
fn number(command: &str, what: &str, text: &str) -> Option<u64> {
    let parsed = words::parse_number(text);
    if parsed.is_none() {
        cprintln!("{command}: {what} {text:?} is not a number");
    }
    parsed
}

/// `disk`: what IDENTIFY DEVICE says.
pub fn disk(state: &mut DiskState) {
    let capacity = state.capacity;
    let Some(channel) = state.channel("disk") else {
        return;
    };
    let dma = channel.dma_available(Drive::Master);
    let Some(info) = channel.drive(Drive::Master) else {
        return;
    };
    let id = info.identify();
    cprintln!(
        "disk: {:?} serial {:?} firmware {:?}",
        id.model().as_str(),
        id.serial().as_str(),
        id.firmware().as_str()
    );
    cprintln!(
        "  capacity: {capacity} sectors of {} bytes ({} KiB), LBA48 {}",
        info.sector_size(),
        capacity * u64::from(info.sector_size()) / 1024,
        if id.supports_lba48() { "yes" } else { "no" }
    );
    let modes = id.modes();
    cprint!("  modes: PIO {}", modes.pio);
    if modes.mwdma != 0 {
        cprint!(", multiword DMA mask {:03b}", modes.mwdma);
        if let Some(mode) = modes.mwdma_selected {
            cprint!(" (mode {mode} selected)");
        }
    }
    if modes.udma != 0 {
        cprint!(", Ultra DMA mask {:07b}", modes.udma);
        if let Some(mode) = modes.udma_selected {
            cprint!(" (mode {mode} selected)");
        }
    }
    cprintln!();
    cprintln!(
        "  transfers: {}; completion by IRQ 14",
        if dma {
            "bus-master DMA (PIO for the benchmark)"
        } else {
            "PIO only"
        }
    );
    cprintln!(
        "  cache: write cache {}, FLUSH CACHE {}",
        match (id.write_cache_supported(), id.write_cache_enabled()) {
            (true, true) => "on",
            (true, false) => "off",
            _ => "absent",
        },
        if id.supports_flush_ext() {
            "and FLUSH CACHE EXT"
        } else if id.supports_flush() {
            "supported"
        } else {
            "not supported"
        }
    );
}

/// `read LBA [N]`: N sectors by DMA (the shell task sleeps until IRQ 14), as a hex dump.
pub async fn read(state: &mut DiskState, args: &[&str]) {
    let (lba, count) = match args {
        [lba] => (number("read", "LBA", lba), Some(1)),
        [lba, count] => (number("read", "LBA", lba), number("read", "count", count)),
        _ => {
            cprintln!("read: usage: read LBA [N]");
            return;
        }
    };
    let (Some(lba), Some(count)) = (lba, count) else {
        return;
    };
    if count == 0 || count > MAX_READ_SECTORS {
        cprintln!("read: N must be 1 to {MAX_READ_SECTORS} sectors");
        return;
    }
    if state.channel("read").is_none() || !state.check_range("read", lba, count) {
        return;
    }
    let (Some(channel), Some(buffer)) = (state.channel.as_mut(), state.sectors.take()) else {
        return;
    };
    let bytes = count as usize * SECTOR;
    let (head, tail) = buffer.split_at_mut(bytes);
    let result = channel.read_async(Drive::Master, lba, head).await;
    let head = match result {
        Ok(head) => {
            for (index, sector) in head.chunks(SECTOR).enumerate() {
                cprintln!("LBA {}:", lba + index as u64);
                hexdump(sector);
            }
            head
        }
        Err(failed) => {
            cprintln!("read: LBA {lba}: {}", failed.error);
            failed.buf
        }
    };
    state.sectors = Some(rejoin(head, tail));
}

/// Puts a buffer split for a transfer back together.
fn rejoin(head: &'static mut [u8], tail: &'static mut [u8]) -> &'static mut [u8] {
    let (start, len) = (head.as_mut_ptr(), head.len() + tail.len());
    if head.as_ptr_range().end != tail.as_ptr() {
        // Not adjacent (cannot happen: both come from one split): keep the larger part.
        return if head.len() >= tail.len() { head } else { tail };
    }
    // SAFETY: `head` and `tail` are the two halves of one `split_at_mut` of a `'static` buffer
    // (checked adjacent above), both moved in here, so the joined slice is that buffer again
    // and no other reference to any of it remains.
    unsafe { core::slice::from_raw_parts_mut(start, len) }
}

/// The hex dump of `bytes` on the console.
fn hexdump(bytes: &[u8]) {
    /// Console output as a `fmt::Write`.
    struct Console;
    impl fmt::Write for Console {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            cprint!("{s}");
            Ok(())
        }
    }
    // The console never fails.
    let _ = words::hexdump(bytes, &mut Console);
}

/// `write LBA TEXT`: the text, zero-padded to a sector, by DMA.
pub async fn write(state: &mut DiskState, args: &[&str], text: &str) {
    let [lba, ..] = args else {
        cprintln!("write: usage: write LBA TEXT");
        return;
    };
    let Some(lba) = number("write", "LBA", lba) else {
        return;
    };
    if text.is_empty() {
        cprintln!("write: usage: write LBA TEXT (the text is missing)");
        return;
    }
    if state.channel("write").is_none() || !state.check_range("write", lba, 1) {
        return;
    }
    let (Some(channel), Some(buffer)) = (state.channel.as_mut(), state.sectors.take()) else {
        return;
    };
    let (head, tail) = buffer.split_at_mut(SECTOR);
    head.fill(0);
    let length = text.len().min(SECTOR);
    head[..length].copy_from_slice(&text.as_bytes()[..length]);
    let head = match channel.write_async(Drive::Master, lba, head).await {
        Ok(head) => {
            cprintln!(
                "write: LBA {lba} <- {length} bytes, the rest of the sector zeroed (in the \
                 drive's cache until flush)"
            );
            head
        }
        Err(failed) => {
            cprintln!("write: LBA {lba}: {}", failed.error);
            failed.buf
        }
    };
    state.sectors = Some(rejoin(head, tail));
}

/// `flush`: FLUSH CACHE.
pub fn flush(state: &mut DiskState) {
    let Some(channel) = state.channel("flush") else {
        return;
    };
    match channel.flush(Drive::Master) {
        Ok(()) => cprintln!("flush: the drive's write cache is on the medium"),
        Err(error) => cprintln!("flush: {error}"),
    }
}

/// Runs `f` on the FAT volume: the channel is lent to irqkit-ata's `BlockDisk` adapter under
/// `embedded-sdmmc`'s volume manager, then taken back.
fn with_fat(state: &mut DiskState, command: &str, f: impl FnOnce(&Fat)) {
    if state.channel(command).is_none() {
        return;
    }
    let Some(channel) = state.channel.take() else {
        return;
    };
    let fat: Fat = VolumeManager::new(BlockDisk::new(channel, Drive::Master), Clock);
    f(&fat);
    let (block_disk, _) = fat.free();
    state.channel = Some(block_disk.into_inner());
}

/// `embedded-sdmmc`'s error as words.
struct FatError<E: fmt::Debug>(embedded_sdmmc::Error<E>);

impl<E: fmt::Debug> fmt::Display for FatError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use embedded_sdmmc::Error;
        match &self.0 {
            Error::NotFound => f.write_str("no such file or directory"),
            Error::FilenameError(_) => f.write_str("not an 8.3 name (like NOTES.TXT)"),
            Error::OpenedDirAsFile => f.write_str("is a directory"),
            Error::OpenedFileAsDir => f.write_str("is not a directory"),
            Error::DiskFull => f.write_str("the volume is full"),
            Error::FormatError(what) => write!(f, "not a FAT16/FAT32 volume ({what})"),
            Error::NoSuchVolume => f.write_str("no FAT partition in the MBR"),
            Error::DeviceError(error) => write!(f, "disk error: {error:?}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// `ls [DIR]`.
pub fn ls(state: &mut DiskState, args: &[&str]) {
    let path = match args {
        [] => "",
        [path] => path,
        _ => {
            cprintln!("ls: usage: ls [DIR]");
            return;
        }
    };
    with_fat(state, "ls", |fat| {
        let result = (|| -> Result<_, embedded_sdmmc::Error<irqkit_ata::Error>> {
            let volume = fat.open_volume(VolumeIdx(0))?;
            let mut dir = volume.open_root_dir()?;
            for part in path.split('/').filter(|part| !part.is_empty()) {
                dir.change_dir(part)?;
            }
            let mut count = 0;
            dir.iterate_dir(|entry| {
                if entry.name.to_string_is_dot() || entry.attributes.is_volume() {
                    return;
                }
                count += 1;
                let extension = entry.name.extension().len();
                let width = entry.name.base_name().len() + extension + usize::from(extension > 0);
                let pad = 12usize.saturating_sub(width);
                if entry.attributes.is_directory() {
                    cprintln!("  {}{:pad$}  <DIR>", entry.name, "");
                } else {
                    cprintln!("  {}{:pad$}  {:>6} bytes", entry.name, "", entry.size);
                }
            })?;
            Ok(count)
        })();
        match result {
            Ok(count) => cprintln!("ls: {count} entries in /{path}"),
            Err(error) => cprintln!("ls: /{path}: {}", FatError(error)),
        }
    });
}

/// Whether a short name is `.` or `..`.
trait DotName {
    fn to_string_is_dot(&self) -> bool;
}

impl DotName for embedded_sdmmc::ShortFileName {
    fn to_string_is_dot(&self) -> bool {
        let base = self.base_name();
        !base.is_empty() && base.iter().all(|&b| b == b'.')
    }
}

/// `cat FILE`.
pub fn cat(state: &mut DiskState, args: &[&str]) {
    let [path] = args else {
        cprintln!("cat: usage: cat FILE");
        return;
    };
    with_fat(state, "cat", |fat| {
        let result = (|| -> Result<_, embedded_sdmmc::Error<irqkit_ata::Error>> {
            let volume = fat.open_volume(VolumeIdx(0))?;
            let mut dir = volume.open_root_dir()?;
            let (dirs, name) = words::split_path(path);
            for part in dirs {
                dir.change_dir(part)?;
            }
            let file = dir.open_file_in_dir(name, Mode::ReadOnly)?;
            let length = file.length() as usize;
            let mut shown = 0;
            let mut chunk = [0u8; 64];
            while !file.is_eof() && shown < MAX_CAT_BYTES {
                let count = file.read(&mut chunk)?;
                if count == 0 {
                    break;
                }
                for &byte in &chunk[..count] {
                    let c = match byte {
                        b'\n' | 0x20..=0x7E => byte as char,
                        b'\r' => continue,
                        _ => '.',
                    };
                    cprint!("{c}");
                }
                shown += count;
            }
            Ok((length, shown))
        })();
        crate::demo::console::fresh_line();
        match result {
            Ok((length, shown)) if shown < length => {
                cprintln!("cat: {path}: {} more bytes not shown", length - shown)
            }
            Ok(_) => {}
            Err(error) => cprintln!("cat: {path}: {}", FatError(error)),
        }
    });
}

/// `write-file FILE TEXT`: creates or replaces the file with TEXT and a newline, closes it
/// and flushes the drive's cache.
pub fn write_file(state: &mut DiskState, args: &[&str], text: &str) {
    let [path, ..] = args else {
        cprintln!("write-file: usage: write-file FILE TEXT");
        return;
    };
    let mut written = None;
    with_fat(state, "write-file", |fat| {
        let result = (|| -> Result<_, embedded_sdmmc::Error<irqkit_ata::Error>> {
            let volume = fat.open_volume(VolumeIdx(0))?;
            let mut dir = volume.open_root_dir()?;
            let (dirs, name) = words::split_path(path);
            for part in dirs {
                dir.change_dir(part)?;
            }
            let file = dir.open_file_in_dir(name, Mode::ReadWriteCreateOrTruncate)?;
            file.write(text.as_bytes())?;
            file.write(b"\n")?;
            file.close()?;
            Ok(text.len() + 1)
        })();
        match result {
            Ok(bytes) => written = Some(bytes),
            Err(error) => cprintln!("write-file: {path}: {}", FatError(error)),
        }
    });
    let (Some(bytes), Some(channel)) = (written, state.channel.as_mut()) else {
        return;
    };
    match channel.flush(Drive::Master) {
        Ok(()) => cprintln!("write-file: {path}: {bytes} bytes written and flushed"),
        Err(error) => cprintln!("write-file: {path}: written, but the flush failed: {error}"),
    }
}

/// `bench`: reads the same bytes by PIO and by DMA and reports MB/s and TSC cycles per
/// sector (reads only: the disk is not changed).
pub fn bench(state: &mut DiskState) {
    let capacity = state.capacity;
    let bytes = (BENCH_BYTES as u64).min(capacity * SECTOR as u64) as usize;
    if state.channel("bench").is_none() {
        return;
    }
    let (Some(channel), buffer) = (state.channel.as_mut(), &mut state.bench[..bytes]) else {
        return;
    };
    let sectors = (bytes / SECTOR) as u64;
    let hz = tsc::hz();
    cprintln!(
        "bench: reading {} KiB from LBA 0 by PIO, then by DMA (TSC at {} MHz)",
        bytes / 1024,
        hz / 1_000_000
    );
    let report = |method: &str, result: Result<(), irqkit_ata::Error>, cycles: u64| match result {
        Ok(()) => {
            let micros = (cycles.saturating_mul(1_000_000) / hz.max(1)).max(1);
            let mb_per_s = bytes as u64 / micros;
            cprintln!(
                    "bench: {method:<4} {bytes} bytes in {}.{:03} ms: {mb_per_s} MB/s, {} cycles per sector",
                    micros / 1000,
                    micros % 1000,
                    cycles / sectors.max(1)
                );
        }
        Err(error) => cprintln!("bench: {method}: {error}"),
    };
    let start = tsc::now();
    let pio = channel.read_pio(Drive::Master, 0, buffer);
    report("PIO", pio, tsc::now() - start);
    let start = tsc::now();
    let dma = channel.read_dma(Drive::Master, 0, buffer);
    report("DMA", dma, tsc::now() - start);
}
