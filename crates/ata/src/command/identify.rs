//! IDENTIFY DEVICE / IDENTIFY PACKET DEVICE data.

use core::fmt;

/// The 512-byte IDENTIFY block, parsed.
///
/// Built from the 256 little-endian words as read from the data port. Fields whose validity
/// bits say "not valid" read as unsupported / zero.
///
/// ```
/// use irqkit_ata::command::Identify;
/// let mut words = [0u16; 256];
/// words[27] = u16::from_be_bytes(*b"QE");
/// words[28] = u16::from_be_bytes(*b"MU");
/// for w in &mut words[29..47] { *w = 0x2020; }
/// words[49] = 1 << 9; // LBA
/// words[60] = 0x1000; // 4096 sectors
/// let id = Identify::from_words(&words);
/// assert_eq!(id.model().as_str(), "QEMU");
/// assert_eq!(id.sectors(), 4096);
/// assert_eq!(id.sector_size(), 512);
/// assert!(!id.supports_lba48());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Identify {
    words: [u16; 256],
}

/// An IDENTIFY string: ASCII with the two bytes of each word swapped, space padded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AtaString<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> AtaString<N> {
    fn from_words(words: &[u16]) -> Self {
        let mut bytes = [0u8; N];
        for (pair, w) in bytes.chunks_exact_mut(2).zip(words) {
            pair.copy_from_slice(&w.to_be_bytes());
        }
        // Non-ASCII bytes (garbage from a broken device) become '?': as_str stays valid UTF-8.
        for b in &mut bytes {
            if !b.is_ascii() || b.is_ascii_control() {
                *b = if *b == 0 { b' ' } else { b'?' };
            }
        }
        let len = bytes.iter().rposition(|&b| b != b' ').map_or(0, |i| i + 1);
        let start = bytes[..len].iter().position(|&b| b != b' ').unwrap_or(len);
        bytes.copy_within(start..len, 0);
        AtaString {
            bytes,
            len: len - start,
        }
    }

    /// The text without leading and trailing spaces.
    pub fn as_str(&self) -> &str {
        // Only ASCII is kept (see from_words).
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> fmt::Debug for AtaString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Display for AtaString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Transfer modes a drive supports and which one is selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Modes {
    /// Highest PIO mode supported (0-4).
    pub pio: u8,
    /// Bit n set: multiword DMA mode n supported (bits 0-2).
    pub mwdma: u8,
    /// Multiword DMA mode selected, if any.
    pub mwdma_selected: Option<u8>,
    /// Bit n set: Ultra DMA mode n supported (bits 0-6).
    pub udma: u8,
    /// Ultra DMA mode selected, if any.
    pub udma_selected: Option<u8>,
}

const fn bit(word: u16, n: u32) -> bool {
    word & (1 << n) != 0
}

/// Words 83/84/106 are valid when bits 15:14 read 01.
const fn valid_1514(word: u16) -> bool {
    word & 0xC000 == 0x4000
}

fn lowest_set(bits: u16) -> Option<u8> {
    (bits != 0).then(|| bits.trailing_zeros() as u8)
}

impl Identify {
    /// Parses the 256 words read from the data port.
    pub fn from_words(words: &[u16; 256]) -> Identify {
        Identify { words: *words }
    }

    /// Parses 512 bytes in data-port order (each word little-endian).
    pub fn from_bytes(bytes: &[u8; 512]) -> Identify {
        let mut words = [0u16; 256];
        for (w, b) in words.iter_mut().zip(bytes.chunks_exact(2)) {
            *w = u16::from_le_bytes([b[0], b[1]]);
        }
        Identify { words }
    }

    /// The raw words.
    pub fn words(&self) -> &[u16; 256] {
        &self.words
    }

    /// Word 0 bit 15 clear: an ATA device (IDENTIFY DEVICE); set: ATAPI.
    pub fn is_ata(&self) -> bool {
        !bit(self.words[0], 15)
    }

    /// Model number (words 27-46).
    pub fn model(&self) -> AtaString<40> {
        AtaString::from_words(&self.words[27..47])
    }

    /// Serial number (words 10-19).
    pub fn serial(&self) -> AtaString<20> {
        AtaString::from_words(&self.words[10..20])
    }

    /// Firmware revision (words 23-26).
    pub fn firmware(&self) -> AtaString<8> {
        AtaString::from_words(&self.words[23..27])
    }

    /// Word 49 bit 9: LBA addressing.
    pub fn supports_lba(&self) -> bool {
        bit(self.words[49], 9)
    }

    /// Word 49 bit 8: DMA.
    pub fn supports_dma(&self) -> bool {
        bit(self.words[49], 8)
    }

    /// Word 83 (valid) bit 10: the 48-bit address feature set.
    pub fn supports_lba48(&self) -> bool {
        let w = self.words[83];
        valid_1514(w) && bit(w, 10)
    }

    /// Sectors addressable with LBA28 (words 60-61).
    pub fn lba28_sectors(&self) -> u32 {
        u32::from(self.words[60]) | u32::from(self.words[61]) << 16
    }

    /// Sectors addressable with LBA48 (words 100-103); 0 without LBA48 support.
    pub fn lba48_sectors(&self) -> u64 {
        if !self.supports_lba48() {
            return 0;
        }
        (0..4).fold(0u64, |acc, i| {
            acc | u64::from(self.words[100 + i]) << (16 * i)
        })
    }

    /// The drive's capacity in logical sectors: the LBA48 count when supported and non-zero,
    /// the LBA28 count otherwise.
    pub fn sectors(&self) -> u64 {
        match self.lba48_sectors() {
            0 => u64::from(self.lba28_sectors()),
            n => n,
        }
    }

    /// Logical sector size in bytes: 512 unless word 106 (valid) bit 12 says words 117-118
    /// give it (in words).
    pub fn sector_size(&self) -> u32 {
        let w = self.words[106];
        if valid_1514(w) && bit(w, 12) {
            let words = u32::from(self.words[117]) | u32::from(self.words[118]) << 16;
            // A value this driver cannot use (0, odd sizes, absurdly large) reads as 512.
            if (256..=32768).contains(&words) && words.is_power_of_two() {
                return words * 2;
            }
        }
        512
    }

    /// Sectors per DRQ block for READ/WRITE MULTIPLE (word 47 bits 7:0); 0 when the drive
    /// does not support the MULTIPLE commands.
    pub fn max_multiple(&self) -> u8 {
        self.words[47] as u8
    }

    /// The current multiple setting (word 59 bits 7:0, valid when bit 8 is set).
    pub fn current_multiple(&self) -> Option<u8> {
        let w = self.words[59];
        (bit(w, 8) && w as u8 != 0).then_some(w as u8)
    }

    /// Transfer modes (words 53, 63, 64, 88).
    pub fn modes(&self) -> Modes {
        let w53 = self.words[53];
        let pio = if bit(w53, 1) {
            match self.words[64] & 0x3 {
                0 => 2,
                1 => 3,
                _ => 4,
            }
        } else {
            0
        };
        let w63 = self.words[63];
        let (udma, udma_selected) = if bit(w53, 2) {
            let w88 = self.words[88];
            ((w88 & 0x7F) as u8, lowest_set((w88 >> 8) & 0x7F))
        } else {
            (0, None)
        };
        Modes {
            pio,
            mwdma: (w63 & 0x7) as u8,
            mwdma_selected: lowest_set((w63 >> 8) & 0x7),
            udma,
            udma_selected,
        }
    }

    /// Word 82 bit 5: a volatile write cache.
    pub fn write_cache_supported(&self) -> bool {
        let w = self.words[82];
        w != 0xFFFF && bit(w, 5)
    }

    /// Word 85 bit 5: the write cache is on.
    pub fn write_cache_enabled(&self) -> bool {
        let w = self.words[85];
        w != 0xFFFF && bit(w, 5)
    }

    /// Word 83 (valid) bit 12: FLUSH CACHE.
    pub fn supports_flush(&self) -> bool {
        let w = self.words[83];
        valid_1514(w) && bit(w, 12)
    }

    /// Word 83 (valid) bit 13: FLUSH CACHE EXT.
    pub fn supports_flush_ext(&self) -> bool {
        let w = self.words[83];
        valid_1514(w) && bit(w, 13)
    }

    /// Word 255: `None` without the integrity signature 0xA5, otherwise whether the checksum
    /// over the 512 bytes is zero.
    pub fn checksum_ok(&self) -> Option<bool> {
        if self.words[255] & 0xFF != 0xA5 {
            return None;
        }
        let sum = self.words.iter().fold(0u8, |s, w| {
            s.wrapping_add(*w as u8).wrapping_add((w >> 8) as u8)
        });
        Some(sum == 0)
    }
}

impl fmt::Debug for Identify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identify")
            .field("model", &self.model())
            .field("serial", &self.serial())
            .field("firmware", &self.firmware())
            .field("sectors", &self.sectors())
            .field("sector_size", &self.sector_size())
            .field("lba48", &self.supports_lba48())
            .field("dma", &self.supports_dma())
            .field("max_multiple", &self.max_multiple())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Identify {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(
            f,
            "Identify {{ model: {=str}, sectors: {=u64} }}",
            self.model().as_str(),
            self.sectors()
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn put_str(words: &mut [u16], s: &str) {
        let mut bytes = [b' '; 40];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        for (w, pair) in words.iter_mut().zip(bytes.chunks_exact(2)) {
            *w = u16::from_be_bytes([pair[0], pair[1]]);
        }
    }

    /// An IDENTIFY block like QEMU's for a disk of `sectors` sectors.
    pub(crate) fn qemu_like(sectors: u64) -> [u16; 256] {
        let mut w = [0u16; 256];
        w[0] = 0x0040;
        put_str(&mut w[10..20], "QM00001");
        put_str(&mut w[23..27], "2.5+");
        put_str(&mut w[27..47], "QEMU HARDDISK");
        w[47] = 0x8010;
        w[49] = (1 << 8) | (1 << 9);
        w[53] = 0x0007;
        let lba28 = sectors.min(LBA28_MAX);
        w[60] = lba28 as u16;
        w[61] = (lba28 >> 16) as u16;
        w[63] = 0x0007;
        w[64] = 0x0003;
        w[82] = 1 << 5 | 1 << 14;
        w[83] = 0x4000 | 1 << 10 | 1 << 12 | 1 << 13;
        w[85] = 1 << 5 | 1 << 14;
        w[86] = 1 << 10 | 1 << 12 | 1 << 13;
        w[88] = 0x003F | 1 << 13;
        for i in 0..4 {
            w[100 + i] = (sectors >> (16 * i)) as u16;
        }
        w
    }
    const LBA28_MAX: u64 = (1 << 28) - 1;

    #[test]
    fn parses_a_qemu_disk() {
        let id = Identify::from_words(&qemu_like(1 << 30));
        assert!(id.is_ata());
        assert_eq!(id.model().as_str(), "QEMU HARDDISK");
        assert_eq!(id.serial().as_str(), "QM00001");
        assert_eq!(id.firmware().as_str(), "2.5+");
        assert_eq!(id.lba28_sectors(), (1 << 28) - 1);
        assert_eq!(id.lba48_sectors(), 1 << 30);
        assert_eq!(id.sectors(), 1 << 30);
        assert_eq!(id.sector_size(), 512);
        assert_eq!(id.max_multiple(), 16);
        assert!(id.supports_dma() && id.supports_lba() && id.supports_lba48());
        assert!(id.supports_flush() && id.supports_flush_ext());
        assert!(id.write_cache_supported() && id.write_cache_enabled());
        let m = id.modes();
        assert_eq!(
            (m.pio, m.mwdma, m.udma, m.udma_selected),
            (4, 7, 0x3F, Some(5))
        );
        assert_eq!(id.checksum_ok(), None);
    }

    #[test]
    fn word_83_must_be_valid_for_lba48() {
        let mut w = qemu_like(1 << 30);
        w[83] = 0xFFFF; // bits 15:14 = 11: not valid
        let id = Identify::from_words(&w);
        assert!(!id.supports_lba48());
        assert!(!id.supports_flush());
        assert_eq!(id.sectors(), (1 << 28) - 1);
        w[83] = 0x4000; // valid, LBA48 bit clear
        assert_eq!(Identify::from_words(&w).lba48_sectors(), 0);
    }

    #[test]
    fn logical_sector_size() {
        let mut w = qemu_like(100);
        w[106] = 0x4000 | 1 << 12;
        w[117] = 2048; // words
        assert_eq!(Identify::from_words(&w).sector_size(), 4096);
        w[106] = 1 << 12; // not valid
        assert_eq!(Identify::from_words(&w).sector_size(), 512);
        w[106] = 0x4000 | 1 << 12;
        w[117] = 3; // nonsense
        assert_eq!(Identify::from_words(&w).sector_size(), 512);
    }

    #[test]
    fn atapi_and_garbage_strings() {
        let mut w = [0xFFFFu16; 256];
        let id = Identify::from_words(&w);
        assert!(!id.is_ata());
        assert_eq!(id.model().as_str().len(), 40);
        assert!(id.model().as_str().bytes().all(|b| b == b'?'));
        w[27..47].fill(0);
        assert_eq!(Identify::from_words(&w).model().as_str(), "");
    }

    #[test]
    fn checksum() {
        let mut w = qemu_like(100);
        w[255] = 0x00A5;
        let sum = w.iter().fold(0u8, |s, x| {
            s.wrapping_add(*x as u8).wrapping_add((x >> 8) as u8)
        });
        w[255] |= u16::from(0u8.wrapping_sub(sum)) << 8;
        assert_eq!(Identify::from_words(&w).checksum_ok(), Some(true));
        w[0] ^= 1;
        assert_eq!(Identify::from_words(&w).checksum_ok(), Some(false));
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn round_trip(model in "[ -~]{0,40}", serial in "[!-~]{1,20}", sectors in 1u64..(1 << 48)) {
            let mut w = qemu_like(sectors);
            put_str(&mut w[27..47], &model);
            put_str(&mut w[10..20], &serial);
            let mut bytes = [0u8; 512];
            for (b, x) in bytes.chunks_exact_mut(2).zip(&w) {
                b.copy_from_slice(&x.to_le_bytes());
            }
            let id = Identify::from_bytes(&bytes);
            prop_assert_eq!(id.words(), &w);
            let (m, sn) = (id.model(), id.serial());
            prop_assert_eq!(m.as_str(), model.trim());
            prop_assert_eq!(sn.as_str(), serial.as_str());
            prop_assert_eq!(id.sectors(), sectors);
            prop_assert_eq!(id.lba28_sectors() as u64, sectors.min(LBA28_MAX));
        }
    }
}
