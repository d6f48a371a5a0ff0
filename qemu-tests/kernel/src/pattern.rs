//! The sector pattern the host writes into test images (`irqkit_qemu_tests::pattern_sector`):
//! every sector is a function of a seed and its LBA, so any sector read can be checked and
//! any sector written can be checked by the host. Both copies pin the same known values.

/// SplitMix64's output function.
const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Word `word` (0..64) of sector `lba`: `lba` itself for word 0, else a hash of both and the
/// seed.
const fn word(seed: u32, lba: u64, word: usize) -> u64 {
    if word == 0 {
        lba
    } else {
        mix64((lba << 6 | word as u64) ^ (seed as u64) << 40)
    }
}

/// Fills `buf` (whole sectors) with the pattern from `first_lba`.
pub fn fill(seed: u32, first_lba: u64, buf: &mut [u8]) {
    for (sector, lba) in buf.chunks_exact_mut(512).zip(first_lba..) {
        for (index, bytes) in sector.chunks_exact_mut(8).enumerate() {
            bytes.copy_from_slice(&word(seed, lba, index).to_le_bytes());
        }
    }
}

/// The first sector of `buf` (starting at `first_lba`) that is not the pattern, if any.
pub fn mismatch(seed: u32, first_lba: u64, buf: &[u8]) -> Option<u64> {
    for (sector, lba) in buf.chunks_exact(512).zip(first_lba..) {
        for (index, bytes) in sector.chunks_exact(8).enumerate() {
            if bytes != word(seed, lba, index).to_le_bytes() {
                return Some(lba);
            }
        }
    }
    None
}

/// The known values the host's copy checks as well (run once at the start of every ATA case).
pub fn self_check() {
    assert_eq!(
        mix64(1),
        0x5692_161D_100B_05E5,
        "pattern hash differs from the host's"
    );
    assert_eq!(
        word(7, 3, 1),
        0xEC99_A57E_F680_EA3F,
        "pattern differs from the host's"
    );
    assert_eq!(word(7, 3, 0), 3);
}
