//! The disk behind an ATA unit: sparse storage with a volatile write cache, its identity and
//! IDENTIFY data, the faults a test injects, and what it was asked to do.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::time::SimTime;

/// Bytes in a sector.
pub const SECTOR: usize = 512;

/// One sector's bytes.
pub type Sector = [u8; SECTOR];

/// The largest capacity LBA48 can address.
pub const MAX_SECTORS: u64 = 1 << 48;

/// QEMU's READ/WRITE MULTIPLE limit (IDENTIFY word 47 = 0x8010).
pub const MAX_MULTIPLE: u8 = 16;

/// How an injected bad sector fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaError {
    /// Uncorrectable data (error register 0x40 UNC).
    Uncorrectable,
    /// The sector's ID was not found (error register 0x10 IDNF).
    IdNotFound,
    /// The drive aborts the command at this sector (error register 0x04 ABRT).
    Aborted,
    /// An interface CRC error on an Ultra DMA transfer (error register 0x84 ICRC | ABRT).
    InterfaceCrc,
}

impl MediaError {
    /// The error register value the drive reports.
    pub const fn error_bits(self) -> u8 {
        match self {
            MediaError::Uncorrectable => 0x40,
            MediaError::IdNotFound => 0x10,
            MediaError::Aborted => 0x04,
            MediaError::InterfaceCrc => 0x84,
        }
    }
}

/// Faults a test injects into an [`AtaDisk`]; all off by default. Counters ("the next N")
/// count down as they hit; set them through [`AtaDisk::faults`] at any time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiskFaults {
    /// The next this-many commands leave the drive busy (status 0xD0) forever: it ignores
    /// everything but a reset (soft reset, or [`Device::reset`](crate::Device::reset)).
    pub stuck_bsy: u32,
    /// The next this-many data commands (PIO, DMA, IDENTIFY) never request data: status
    /// 0x50 (ready, no DRQ), no interrupt, no DMA, until a reset.
    pub no_drq: u32,
    /// Sectors that fail when read, written or verified, and how. The drive reports the error
    /// register bits, status 0x51 (DRDY | DSC | ERR) and the failing LBA in the LBA registers
    /// (in the command's addressing), as real drives do; sectors before it in the same
    /// command are transferred (for PIO reads: those before its block).
    pub bad_sectors: BTreeMap<u64, MediaError>,
    /// The next this-many interrupts are lost: the drive and the bus master act as if they
    /// interrupted (bus-master INTR is set), but the line never rises.
    pub lost_interrupts: u32,
    /// The next this-many DMA transfers end in a bus-master error (a PCI master abort):
    /// nothing is transferred, bus-master status gets ERR and INTR with ACTIVE clear, the
    /// drive reports ABRT (status 0x41), and the interrupt is raised.
    pub bus_master_errors: u32,
    /// The next this-many commands end in a device fault: status 0x61 (DRDY | DF | ERR),
    /// error ABRT, interrupt raised.
    pub device_faults: u32,
}

impl DiskFaults {
    /// Takes one from `counter` if it is not zero.
    pub(crate) fn take(counter: &mut u32) -> bool {
        if *counter > 0 {
            *counter -= 1;
            true
        } else {
            false
        }
    }

    /// The first bad sector in `lba..lba + count`.
    pub(crate) fn first_bad(&self, lba: u64, count: u64) -> Option<(u64, MediaError)> {
        self.bad_sectors
            .range(lba..lba.saturating_add(count))
            .next()
            .map(|(&l, &e)| (l, e))
    }
}

/// One command the drive accepted, as it decoded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandRecord {
    /// Virtual time the command register was written.
    pub at: SimTime,
    /// The command code.
    pub command: u8,
    /// The starting address, for commands that take one (LBA28, LBA48 or CHS as given).
    pub lba: Option<u64>,
    /// The sector count, for commands that take one (0 already turned into 256 / 65536).
    pub count: Option<u32>,
    /// Whether the command used 48-bit addressing.
    pub lba48: bool,
}

/// A simulated ATA hard disk, as QEMU's `ide-hd`: sparse storage of any capacity up to 2^48
/// sectors (unwritten sectors read as zeros), a volatile write cache, IDENTIFY data like
/// QEMU's, fault injection and a log of the commands it got.
///
/// # The write cache
///
/// With the cache enabled (the default, as QEMU's `cache=writeback`), writes land in the
/// cache; the medium gets them on FLUSH CACHE (EXT), or when the driver disables the cache
/// with SET FEATURES (the drive writes it back first). [`power_loss`](Self::power_loss) drops
/// what was not flushed. With the cache disabled, writes go to the medium.
///
/// # Examples
///
/// ```
/// use irqkit_hal_mock::ata::{AtaDisk, MediaError};
///
/// let mut disk = AtaDisk::new(1 << 30).with_serial("QM00001");
/// disk.write_medium(5, &[0xAB; 512]);
/// disk.faults.bad_sectors.insert(7, MediaError::Uncorrectable);
/// assert_eq!(disk.sector(5)[0], 0xAB);
/// assert_eq!(disk.identify_data()[83] & 0xC400, 0x4400); // LBA48 supported
/// ```
#[derive(Clone)]
pub struct AtaDisk {
    sectors: u64,
    serial: String,
    firmware: String,
    model: String,
    medium: BTreeMap<u64, Box<Sector>>,
    cache: BTreeMap<u64, Box<Sector>>,
    write_cache: bool,
    initial_write_cache: bool,
    initial_multiple: u8,
    pub(crate) multiple: u8,
    /// IDENTIFY words 62, 63, 88 as SET FEATURES (transfer mode) left them.
    pub(crate) mode_words: [u16; 3],
    flushes: u64,
    commands: Vec<CommandRecord>,
    /// Injected faults; change them at any time.
    pub faults: DiskFaults,
}

impl fmt::Debug for AtaDisk {
    /// A summary: the stored sectors themselves would drown any assertion message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AtaDisk")
            .field("sectors", &self.sectors)
            .field("serial", &self.serial)
            .field("model", &self.model)
            .field("stored", &self.medium.len())
            .field("dirty", &self.cache.len())
            .field("write_cache", &self.write_cache)
            .field("multiple", &self.multiple)
            .field("flushes", &self.flushes)
            .field("commands", &self.commands.len())
            .field("faults", &self.faults)
            .finish_non_exhaustive()
    }
}

/// QEMU's power-on IDENTIFY words 62, 63 and 88 (UDMA 5 selected).
const DEFAULT_MODE_WORDS: [u16; 3] = [0x0007, 0x0007, 0x203F];

impl AtaDisk {
    /// A disk of `sectors` 512-byte sectors, all zero, with QEMU's identity (model
    /// "QEMU HARDDISK", serial "QM00001", firmware "2.5+"), write cache on, multiple count 16.
    ///
    /// # Panics
    ///
    /// If `sectors` is above 2^48.
    pub fn new(sectors: u64) -> Self {
        assert!(
            sectors <= MAX_SECTORS,
            "an ATA disk holds at most 2^48 sectors"
        );
        AtaDisk {
            sectors,
            serial: "QM00001".into(),
            firmware: "2.5+".into(),
            model: "QEMU HARDDISK".into(),
            medium: BTreeMap::new(),
            cache: BTreeMap::new(),
            write_cache: true,
            initial_write_cache: true,
            initial_multiple: MAX_MULTIPLE,
            multiple: MAX_MULTIPLE,
            mode_words: DEFAULT_MODE_WORDS,
            flushes: 0,
            commands: Vec::new(),
            faults: DiskFaults::default(),
        }
    }

    /// The same disk with another serial number (QEMU numbers drives QM00001, QM00002, ...).
    pub fn with_serial(mut self, serial: &str) -> Self {
        self.serial = serial.into();
        self
    }

    /// The same disk with another model string.
    pub fn with_model(mut self, model: &str) -> Self {
        self.model = model.into();
        self
    }

    /// The same disk with another firmware revision string.
    pub fn with_firmware(mut self, firmware: &str) -> Self {
        self.firmware = firmware.into();
        self
    }

    /// The same disk with the write cache on or off at power-on.
    pub fn with_write_cache(mut self, enabled: bool) -> Self {
        self.write_cache = enabled;
        self.initial_write_cache = enabled;
        self
    }

    /// The same disk with another READ/WRITE MULTIPLE count at power-on and after reset
    /// (QEMU: 16; 0 models a drive that needs SET MULTIPLE first).
    ///
    /// # Panics
    ///
    /// If `count` is not 0 or a power of two up to 16.
    pub fn with_multiple(mut self, count: u8) -> Self {
        assert!(
            count == 0 || (count.is_power_of_two() && count <= MAX_MULTIPLE),
            "multiple count {count} is not 0 or a power of two up to 16"
        );
        self.initial_multiple = count;
        self.multiple = count;
        self
    }

    /// The same disk with `faults`.
    pub fn with_faults(mut self, faults: DiskFaults) -> Self {
        self.faults = faults;
        self
    }

    /// Capacity in sectors.
    pub fn capacity(&self) -> u64 {
        self.sectors
    }

    /// The sector as the drive returns it: the cached copy if there is one, else the medium.
    pub fn sector(&self, lba: u64) -> Sector {
        self.cache
            .get(&lba)
            .or_else(|| self.medium.get(&lba))
            .map_or([0; SECTOR], |s| **s)
    }

    /// The sector on the medium (what survives a power loss).
    pub fn medium_sector(&self, lba: u64) -> Sector {
        self.medium.get(&lba).map_or([0; SECTOR], |s| **s)
    }

    /// The sector's copy in the write cache, if it has one (written, not flushed).
    pub fn cached_sector(&self, lba: u64) -> Option<Sector> {
        self.cache.get(&lba).map(|s| **s)
    }

    /// The LBAs in the write cache, in order.
    pub fn dirty_sectors(&self) -> Vec<u64> {
        self.cache.keys().copied().collect()
    }

    /// How many sectors are stored (written at least once); the rest read as zeros.
    pub fn stored_sectors(&self) -> usize {
        self.medium
            .keys()
            .chain(self.cache.keys())
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// Writes `data` (a whole number of sectors) straight to the medium from `lba` on, as if
    /// the image had it before the test (drops cached copies of those sectors).
    ///
    /// # Panics
    ///
    /// If `data` is not a multiple of 512 bytes or runs past the capacity.
    pub fn write_medium(&mut self, lba: u64, data: &[u8]) {
        assert!(data.len() % SECTOR == 0, "data is not whole sectors");
        for (i, chunk) in data.chunks_exact(SECTOR).enumerate() {
            let at = lba + i as u64;
            assert!(at < self.sectors, "sector {at} is past the capacity");
            self.cache.remove(&at);
            self.medium
                .insert(at, Box::new(chunk.try_into().expect("chunk")));
        }
    }

    /// Whether the volatile write cache is on.
    pub fn write_cache_enabled(&self) -> bool {
        self.write_cache
    }

    /// The current READ/WRITE MULTIPLE count (0: not set).
    pub fn multiple(&self) -> u8 {
        self.multiple
    }

    /// How many FLUSH CACHE (EXT) commands completed.
    pub fn flushes(&self) -> u64 {
        self.flushes
    }

    /// Every command the drive accepted, oldest first.
    pub fn commands(&self) -> &[CommandRecord] {
        &self.commands
    }

    /// A simulated power loss: what the write cache held and was not flushed is gone.
    pub fn power_loss(&mut self) {
        self.cache.clear();
    }

    /// The IDENTIFY DEVICE data the drive returns now (QEMU's words; see the module docs).
    pub fn identify_data(&self) -> [u16; 256] {
        let mut w = [0u16; 256];
        let cylinders = (self.sectors / (HEADS_U16 as u64 * SPT_U16 as u64)).clamp(1, 16383);
        let cylinders = u16::try_from(cylinders).unwrap_or(16383);
        let chs = u32::from(cylinders) * u32::from(HEADS_U16) * u32::from(SPT_U16);
        let lba28 = self.sectors.min((1 << 28) - 1);
        w[0] = 0x0040;
        w[1] = cylinders;
        w[3] = HEADS_U16;
        w[4] = 512 * SPT_U16;
        w[5] = 512;
        w[6] = SPT_U16;
        put_string(&mut w[10..20], &self.serial);
        w[20] = 3;
        w[21] = 512;
        w[22] = 4;
        put_string(&mut w[23..27], &self.firmware);
        put_string(&mut w[27..47], &self.model);
        w[47] = 0x8000 | u16::from(MAX_MULTIPLE);
        w[48] = 1;
        w[49] = 1 << 11 | 1 << 9 | 1 << 8;
        w[51] = 0x200;
        w[52] = 0x200;
        w[53] = 0x7;
        w[54] = cylinders;
        w[55] = HEADS_U16;
        w[56] = SPT_U16;
        w[57] = low16(u64::from(chs));
        w[58] = low16(u64::from(chs) >> 16);
        if self.multiple != 0 {
            w[59] = 0x100 | u16::from(self.multiple);
        }
        w[60] = low16(lba28);
        w[61] = low16(lba28 >> 16);
        [w[62], w[63], w[88]] = self.mode_words;
        w[64] = 0x03;
        w[65..=68].fill(120);
        w[80] = 0xF0;
        w[81] = 0x16;
        w[82] = 1 << 14 | 1 << 5 | 1;
        w[83] = 1 << 14 | 1 << 13 | 1 << 12 | 1 << 10;
        w[84] = 1 << 14;
        w[85] = 1 << 14 | u16::from(self.write_cache) << 5 | 1;
        w[86] = 1 << 13 | 1 << 12 | 1 << 10;
        w[87] = 1 << 14;
        w[93] = 1 | 1 << 14 | 0x2000;
        for (i, word) in w[100..104].iter_mut().enumerate() {
            *word = low16(self.sectors >> (16 * i));
        }
        w
    }

    // --- used by the channel model ---

    pub(crate) fn log(&mut self, record: CommandRecord) {
        self.commands.push(record);
    }

    /// Whether `count` sectors from `lba` lie on the disk (QEMU's `ide_sect_range_ok`).
    pub(crate) fn in_range(&self, lba: u64, count: u64) -> bool {
        lba <= self.sectors && count <= self.sectors - lba
    }

    pub(crate) fn write_sector(&mut self, lba: u64, data: &[u8]) {
        let sector: Box<Sector> = Box::new(data.try_into().expect("one sector"));
        if self.write_cache {
            self.cache.insert(lba, sector);
        } else {
            self.cache.remove(&lba);
            self.medium.insert(lba, sector);
        }
    }

    pub(crate) fn flush(&mut self) {
        let cached = std::mem::take(&mut self.cache);
        self.medium.extend(cached);
    }

    pub(crate) fn count_flush(&mut self) {
        self.flushes += 1;
    }

    pub(crate) fn set_write_cache(&mut self, enabled: bool) {
        if !enabled {
            self.flush();
        }
        self.write_cache = enabled;
    }

    /// Back to the power-on settings a reset restores.
    pub(crate) fn reset_settings(&mut self) {
        self.multiple = self.initial_multiple;
    }

    /// Power back on after [`power_loss`](Self::power_loss): the cache setting and transfer
    /// mode return to their power-on values too.
    pub(crate) fn power_on(&mut self) {
        self.write_cache = self.initial_write_cache;
        self.mode_words = DEFAULT_MODE_WORDS;
        self.reset_settings();
    }
}

const HEADS_U16: u16 = 16;
const SPT_U16: u16 = 63;

#[allow(clippy::cast_possible_truncation)] // the point: the low 16 bits
fn low16(v: u64) -> u16 {
    v as u16
}

/// ATA string: two characters per word, the first in the high byte, space padded.
pub(crate) fn put_string(words: &mut [u16], text: &str) {
    let mut bytes = text.bytes().chain(std::iter::repeat(b' '));
    for word in words {
        let hi = bytes.next().unwrap_or(b' ');
        let lo = bytes.next().unwrap_or(b' ');
        *word = u16::from(hi) << 8 | u16::from(lo);
    }
}

/// QEMU's IDENTIFY PACKET DEVICE data for its CD-ROM ("QEMU DVD-ROM").
pub(crate) fn atapi_identify_data() -> [u16; 256] {
    let mut w = [0u16; 256];
    w[0] = 2 << 14 | 5 << 8 | 1 << 7 | 2 << 5;
    put_string(&mut w[10..20], "QM00003");
    w[20] = 3;
    w[21] = 512;
    w[22] = 4;
    put_string(&mut w[23..27], "2.5+");
    put_string(&mut w[27..47], "QEMU DVD-ROM");
    w[48] = 1;
    w[49] = 1 << 9 | 1 << 8;
    w[53] = 7;
    w[62] = 7;
    w[63] = 7;
    w[64] = 3;
    w[65] = 0xB4;
    w[66] = 0xB4;
    w[67] = 0x12C;
    w[68] = 0xB4;
    w[71] = 30;
    w[72] = 30;
    w[80] = 0x1E;
    w[88] = 0x3F | 1 << 13;
    w
}

/// The ASCII of an ATA string field (for tests and messages).
pub fn ata_string(words: &[u16]) -> String {
    words
        .iter()
        .flat_map(|w| w.to_be_bytes())
        .map(char::from)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identify_matches_qemu_for_a_small_disk() {
        let w = AtaDisk::new(20_480).identify_data(); // 10 MiB
        assert_eq!(ata_string(&w[27..47]), "QEMU HARDDISK");
        assert_eq!(ata_string(&w[10..20]), "QM00001");
        assert_eq!(ata_string(&w[23..27]), "2.5+");
        assert_eq!(
            w[27],
            u16::from_be_bytes(*b"QE"),
            "first character in the high byte"
        );
        assert_eq!(w[0], 0x0040);
        assert_eq!(w[47], 0x8010);
        assert_eq!(w[49], 0x0B00);
        assert_eq!(w[59], 0x0110);
        assert_eq!((w[60], w[61]), (20_480, 0));
        assert_eq!(
            (w[82], w[83], w[85], w[86]),
            (0x4021, 0x7400, 0x4021, 0x3400)
        );
        assert_eq!(w[88], 0x203F, "UDMA 0-5 supported, mode 5 selected");
        assert_eq!(&w[100..104], &[20_480, 0, 0, 0]);
        assert_eq!((w[1], w[3], w[6]), (20, 16, 63));
    }

    #[test]
    fn identify_clamps_lba28_and_reports_lba48_for_a_200_gib_disk() {
        let sectors = 200 * (1u64 << 30) / 512;
        let disk = AtaDisk::new(sectors).with_write_cache(false);
        let w = disk.identify_data();
        assert_eq!(u32::from(w[61]) << 16 | u32::from(w[60]), (1 << 28) - 1);
        let lba48 = (0..4).fold(0u64, |acc, i| acc | u64::from(w[100 + i]) << (16 * i));
        assert_eq!(lba48, sectors);
        assert_eq!(w[85] & 0x20, 0, "write cache off");
        assert_eq!(w[1], 16383);
    }

    #[test]
    fn cache_flush_and_power_loss() {
        let mut disk = AtaDisk::new(100);
        disk.write_sector(1, &[1; SECTOR]);
        disk.write_sector(2, &[2; SECTOR]);
        assert_eq!(disk.sector(1), [1; SECTOR]);
        assert_eq!(disk.medium_sector(1), [0; SECTOR]);
        assert_eq!(disk.dirty_sectors(), [1, 2]);
        disk.flush();
        disk.write_sector(2, &[3; SECTOR]);
        disk.power_loss();
        assert_eq!(disk.sector(1), [1; SECTOR]);
        assert_eq!(disk.sector(2), [2; SECTOR], "the unflushed rewrite is lost");
        disk.set_write_cache(false);
        disk.write_sector(3, &[4; SECTOR]);
        disk.power_loss();
        assert_eq!(disk.sector(3), [4; SECTOR]);
        assert_eq!(disk.stored_sectors(), 3);
    }

    #[test]
    fn disabling_the_cache_writes_it_back() {
        let mut disk = AtaDisk::new(10);
        disk.write_sector(4, &[9; SECTOR]);
        disk.set_write_cache(false);
        assert_eq!(disk.medium_sector(4), [9; SECTOR]);
        assert!(disk.dirty_sectors().is_empty());
    }

    #[test]
    fn debug_output_summarises_storage() {
        let mut disk = AtaDisk::new(1 << 20);
        disk.write_medium(0, &[0xEE; SECTOR * 64]);
        let text = format!("{disk:?}");
        assert!(text.contains("stored: 64") && text.len() < 400, "{text}");
    }

    #[test]
    fn range_check_is_qemus() {
        let disk = AtaDisk::new(10);
        assert!(disk.in_range(0, 10));
        assert!(disk.in_range(10, 0));
        assert!(!disk.in_range(9, 2));
        assert!(!disk.in_range(11, 0));
        assert!(!disk.in_range(u64::MAX, 1));
    }

    #[test]
    fn atapi_identify_is_qemus_dvd_rom() {
        let w = atapi_identify_data();
        assert_eq!(w[0], 0x85C0);
        assert_eq!(ata_string(&w[27..47]), "QEMU DVD-ROM");
    }
}
