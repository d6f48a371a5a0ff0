//! irqkit-ata's blocking calls on QEMU's PIIX3 IDE: reads and writes in every mode against
//! images the host writes and checks, LBA48 on a 200 GiB sparse disk, probing (empty
//! secondary channel, absent slave), typed errors, scatter/gather.
//!
//! The host's images hold the sector pattern ([`crate::pattern`]) with the seed the case's
//! constants name; the host checks the sectors these cases write after QEMU exits.

use irqkit_ata::command::DeviceKind;
use irqkit_ata::{Channel, Drive, Error, Unsupported};

use crate::ata_disk::{self, Disk};
use crate::delay::PitDelay;
use crate::port::ports;
use crate::{boot_info, pattern, println};

/// The seed of the host's read image (`ata_read`).
const READ_SEED: u32 = 11;
/// The seed `ata_write` writes with.
const WRITE_SEED: u32 = 21;
/// The seed of the host's sectors around LBA 2^28 and at the end of the 200 GiB disk.
const LBA48_READ_SEED: u32 = 31;
/// The seed `ata_lba48` writes with.
const LBA48_WRITE_SEED: u32 = 32;
/// What a buffer holds before a read, so stale contents cannot pass for data.
const POISON: u8 = 0xEE;

/// How a transfer moves its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// PIO, one `in`/`out` per 16-bit word.
    PioWord,
    /// PIO, one `rep insw` / `rep outsw` per sector.
    PioString,
    /// Bus-master DMA, completion polled (nIEN set).
    DmaPolled,
    /// Bus-master DMA, completion by IRQ 14.
    DmaIrq,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 4] = [
        Mode::PioWord,
        Mode::PioString,
        Mode::DmaPolled,
        Mode::DmaIrq,
    ];

    /// The name the serial lines use.
    pub fn name(self) -> &'static str {
        match self {
            Mode::PioWord => "pio_word",
            Mode::PioString => "pio_string",
            Mode::DmaPolled => "dma_polled",
            Mode::DmaIrq => "dma_irq",
        }
    }

    fn configure(self, disk: &mut Disk) {
        let options = disk.options_mut();
        options.string_io = self != Mode::PioWord;
        options.interrupts = self == Mode::DmaIrq;
    }

    /// Reads with this mode.
    pub fn read(self, disk: &mut Disk, lba: u64, buf: &mut [u8]) -> Result<(), Error> {
        self.configure(disk);
        match self {
            Mode::PioWord | Mode::PioString => disk.read_pio(Drive::Master, lba, buf),
            Mode::DmaPolled | Mode::DmaIrq => disk.read_dma(Drive::Master, lba, buf),
        }
    }

    /// Writes with this mode.
    pub fn write(self, disk: &mut Disk, lba: u64, buf: &[u8]) -> Result<(), Error> {
        self.configure(disk);
        match self {
            Mode::PioWord | Mode::PioString => disk.write_pio(Drive::Master, lba, buf),
            Mode::DmaPolled | Mode::DmaIrq => disk.write_dma(Drive::Master, lba, buf),
        }
    }
}

/// Reads `sectors` from `lba` with `mode` into a poisoned `buf` and checks the pattern.
fn read_and_check(disk: &mut Disk, mode: Mode, seed: u32, lba: u64, buf: &mut [u8]) {
    buf.fill(POISON);
    mode.read(disk, lba, buf)
        .unwrap_or_else(|error| panic!("{} read at {lba}: {error}", mode.name()));
    if let Some(bad) = pattern::mismatch(seed, lba, buf) {
        panic!(
            "{} read at {lba}: sector {bad} is not the pattern",
            mode.name()
        );
    }
}

/// Prints what probing found and checks the layout the host set up: one disk, primary
/// master, no slave.
fn check_probe(disk: &Disk) -> u64 {
    let master = disk.drive(Drive::Master).expect("no primary master");
    assert!(master.is_disk(), "primary master is {:?}", master.kind());
    let id = master.identify();
    println!(
        "probe master=disk kind={:?} model={:?} sectors={} lba48={} dma={} multiple={} flush={} slave={}",
        master.kind(),
        id.model().as_str(),
        master.sectors(),
        id.supports_lba48(),
        id.supports_dma(),
        master.multiple(),
        id.supports_flush(),
        if disk.drive(Drive::Slave).is_some() { "present" } else { "none" },
    );
    assert!(disk.drive(Drive::Slave).is_none(), "a slave appeared");
    master.sectors()
}

/// `ata_read`: probing, then reads of the host's pattern in every mode, interrupt counts.
pub fn ata_read() {
    pattern::self_check();
    let (mut disk, memory) = ata_disk::open(true);
    check_probe(&disk);

    // The secondary channel: empty (`secondary=empty`, QEMU without default devices) or
    // QEMU's default empty CD-ROM as master (`secondary=atapi`), which is reported and
    // refused as a disk.
    let mut secondary = Channel::new(ports(), PitDelay, memory.secondary);
    let found = ata_disk::probe(&mut secondary);
    println!("secondary found={found:?}");
    let mut sector = [0u8; 512];
    let error = secondary.read(Drive::Master, 0, &mut sector).unwrap_err();
    println!("secondary read error={error:?} message=\"{error}\"");
    match boot_info::kernel_argument("secondary") {
        Some("empty") => {
            assert_eq!(found, [None, None]);
            assert_eq!(
                error,
                Error::NoDevice {
                    drive: Drive::Master
                }
            );
        }
        Some("atapi") => {
            assert_eq!(found, [Some(DeviceKind::Patapi), None]);
            assert_eq!(
                error,
                Error::Unsupported(Unsupported::NotADisk(DeviceKind::Patapi))
            );
        }
        other => panic!("secondary={other:?}: expected empty or atapi"),
    }
    // The primary slave is absent: refused before any command.
    let error = disk.read(Drive::Slave, 0, &mut sector).unwrap_err();
    println!("slave read error={error:?} message=\"{error}\"");
    assert_eq!(
        error,
        Error::NoDevice {
            drive: Drive::Slave
        }
    );

    let buf = &mut memory.data[..512 * 300];
    // (LBA, sectors): one sector; 300 sectors (more than one 256-sector DMA command and
    // many READ MULTIPLE blocks); an odd count at an odd LBA.
    let ranges: [(u64, usize); 3] = [(0, 1), (5, 300), (1001, 17)];
    for mode in Mode::ALL {
        let (completed_before, _) = ata_disk::irq14_counts();
        let lost_before = disk.stats().lost_interrupts;
        for (lba, sectors) in ranges {
            read_and_check(&mut disk, mode, READ_SEED, lba, &mut buf[..512 * sectors]);
        }
        // A stack buffer works as well as the static region for blocking calls.
        read_and_check(&mut disk, mode, READ_SEED, 77, &mut sector);
        let (completed_after, _) = ata_disk::irq14_counts();
        println!(
            "read mode={} ok irq_completions={} lost_interrupts={}",
            mode.name(),
            completed_after - completed_before,
            disk.stats().lost_interrupts - lost_before
        );
    }
    let (completed, not_ours) = ata_disk::irq14_counts();
    println!(
        "irq14 completed={completed} not_ours={not_ours} stats={:?}",
        disk.stats()
    );
}

/// Sectors `ata_write` writes in each mode, and where.
pub const WRITES: [(Mode, u64, usize); 4] = [
    (Mode::PioWord, 100, 8),
    (Mode::PioString, 200, 40),
    (Mode::DmaPolled, 300, 300),
    (Mode::DmaIrq, 1000, 64),
];
/// Where the gather write goes, and its pieces in sectors.
const GATHER_LBA: u64 = 2000;
const GATHER_PIECES: [usize; 3] = [1, 7, 128];

/// `ata_write`: writes the pattern in every mode and by one gather command, flushes, reads
/// everything back (also by one scatter command); the host checks the image afterwards.
pub fn ata_write() {
    pattern::self_check();
    let (mut disk, memory) = ata_disk::open(true);
    check_probe(&disk);
    let data = memory.data;
    for (mode, lba, sectors) in WRITES {
        let buf = &mut data[..512 * sectors];
        pattern::fill(WRITE_SEED, lba, buf);
        mode.write(&mut disk, lba, buf)
            .unwrap_or_else(|error| panic!("{} write at {lba}: {error}", mode.name()));
        println!("wrote mode={} lba={lba} sectors={sectors}", mode.name());
    }

    // Gather: three buffers, one command. The middle one straddles a 64 KiB boundary of
    // physical memory, so the driver must split its PRD entry there.
    let total: usize = GATHER_PIECES.iter().sum();
    let (first, rest) = data.split_at_mut(0x1_0000 - 512 * GATHER_PIECES[1] / 2);
    let first = &mut first[..512 * GATHER_PIECES[0]];
    let (second, rest) = rest.split_at_mut(512 * GATHER_PIECES[1]);
    let third = &mut rest[..512 * GATHER_PIECES[2]];
    pattern::fill(WRITE_SEED, GATHER_LBA, first);
    pattern::fill(WRITE_SEED, GATHER_LBA + GATHER_PIECES[0] as u64, second);
    pattern::fill(
        WRITE_SEED,
        GATHER_LBA + (GATHER_PIECES[0] + GATHER_PIECES[1]) as u64,
        third,
    );
    Mode::DmaIrq.configure(&mut disk);
    disk.writev_dma(Drive::Master, GATHER_LBA, &[first, second, third])
        .unwrap_or_else(|error| panic!("gather write: {error}"));
    println!("wrote mode=gather lba={GATHER_LBA} sectors={total} pieces={GATHER_PIECES:?}");

    disk.flush(Drive::Master)
        .unwrap_or_else(|error| panic!("flush: {error}"));
    println!("flushed");

    // Read back: every region by DMA, and the gathered one by a scatter read into pieces cut
    // differently.
    let data = &mut data[..];
    for (_, lba, sectors) in WRITES {
        read_and_check(
            &mut disk,
            Mode::DmaIrq,
            WRITE_SEED,
            lba,
            &mut data[..512 * sectors],
        );
    }
    data[..512 * total].fill(POISON);
    let (a, rest) = data.split_at_mut(512 * 100);
    let (b, rest) = rest.split_at_mut(512 * 30);
    let c = &mut rest[..512 * (total - 130)];
    disk.readv_dma(Drive::Master, GATHER_LBA, &mut [a, b, c])
        .unwrap_or_else(|error| panic!("scatter read: {error}"));
    assert_eq!(
        pattern::mismatch(WRITE_SEED, GATHER_LBA, &data[..512 * total]),
        None
    );
    println!("scatter read ok pieces=[100, 30, {}]", total - 130);
}

/// The host's 200 GiB disk: sectors.
const LBA48_DISK_SECTORS: u64 = (200 << 30) / 512;
/// The first sector LBA28 cannot address.
const LBA28_LIMIT: u64 = 1 << 28;

/// `ata_lba48`: a 200 GiB disk. Reads across and past the 2^28 boundary and at the end,
/// writes there, out-of-range and bad-length requests refused with typed errors.
pub fn ata_lba48() {
    pattern::self_check();
    let (mut disk, memory) = ata_disk::open(true);
    let sectors = check_probe(&disk);
    assert_eq!(sectors, LBA48_DISK_SECTORS, "capacity");
    let data = memory.data;

    // 16 sectors from 2^28 - 8: starts below the LBA28 limit, ends above it.
    for mode in Mode::ALL {
        read_and_check(
            &mut disk,
            mode,
            LBA48_READ_SEED,
            LBA28_LIMIT - 8,
            &mut data[..512 * 16],
        );
        read_and_check(
            &mut disk,
            mode,
            LBA48_READ_SEED,
            sectors - 8,
            &mut data[..512 * 8],
        );
        println!("lba48 read mode={} ok", mode.name());
    }

    let far = LBA28_LIMIT + 1000;
    pattern::fill(LBA48_WRITE_SEED, far, &mut data[..512 * 16]);
    Mode::DmaIrq
        .write(&mut disk, far, &data[..512 * 16])
        .unwrap_or_else(|error| panic!("write at {far}: {error}"));
    let last = sectors - 4;
    pattern::fill(LBA48_WRITE_SEED, last, &mut data[..512 * 4]);
    Mode::PioString
        .write(&mut disk, last, &data[..512 * 4])
        .unwrap_or_else(|error| panic!("write at {last}: {error}"));
    disk.flush(Drive::Master)
        .unwrap_or_else(|error| panic!("flush: {error}"));
    read_and_check(
        &mut disk,
        Mode::DmaPolled,
        LBA48_WRITE_SEED,
        far,
        &mut data[..512 * 16],
    );
    read_and_check(
        &mut disk,
        Mode::PioWord,
        LBA48_WRITE_SEED,
        last,
        &mut data[..512 * 4],
    );
    println!("lba48 wrote lba={far} sectors=16 lba={last} sectors=4");

    // Out of range: typed errors, checked before any register is touched, and the disk
    // still works afterwards.
    let mut buf = [POISON; 1024];
    for mode in Mode::ALL {
        let error = mode.read(&mut disk, sectors - 1, &mut buf).unwrap_err();
        assert_eq!(
            error,
            Error::OutOfRange {
                lba: sectors - 1,
                count: 2,
                capacity: sectors
            },
            "{}",
            mode.name()
        );
        let error = mode.write(&mut disk, u64::MAX, &buf).unwrap_err();
        assert!(matches!(error, Error::OutOfRange { .. }), "{error:?}");
        let error = mode.read(&mut disk, 0, &mut buf[..100]).unwrap_err();
        assert!(
            matches!(error, Error::BadLength { len: 100, .. }),
            "{error:?}"
        );
    }
    assert!(
        buf.iter().all(|&b| b == POISON),
        "a refused read touched the buffer"
    );
    let error = disk
        .read(Drive::Master, sectors, &mut buf[..512])
        .unwrap_err();
    println!("out_of_range error={error:?} message=\"{error}\"");
    read_and_check(
        &mut disk,
        Mode::DmaIrq,
        LBA48_WRITE_SEED,
        far,
        &mut data[..512 * 16],
    );
    println!("after errors read ok stats={:?}", disk.stats());
}
