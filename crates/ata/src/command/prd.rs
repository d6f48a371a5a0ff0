//! Physical Region Descriptor tables: the scatter/gather list of the bus-master engine.
//!
//! An entry is 8 bytes: the buffer's 32-bit bus address (even), a 16-bit byte count (0 means
//! 64 KiB), and 16 bits of flags whose bit 15 marks the last entry (EOT). No buffer may cross
//! a 64 KiB boundary, the table itself must not cross one, and the byte counts must add up to
//! exactly the transfer the command asks for.

use crate::Error;

/// Bytes per PRD entry.
pub const PRD_ENTRY_SIZE: usize = 8;
/// Entries a table may hold: 4 KiB of table, which is what QEMU reads at most.
pub const PRD_MAX_ENTRIES: usize = 512;
/// Bytes one entry moves at most (and the boundary no entry crosses).
pub const PRD_MAX_BYTES: u64 = 0x1_0000;

/// Flags of the last entry.
const EOT: u16 = 0x8000;

/// A PRD table being built in a region the caller provides.
///
/// ```
/// use irqkit_ata::command::PrdTable;
/// let mut region = [0u8; 64];
/// let mut prd = PrdTable::new(&mut region);
/// prd.push(0x1_F000, 0x2000)?; // crosses the 64 KiB boundary at 0x2_0000
/// assert_eq!(prd.finish(0x2000)?, 2);
/// assert_eq!(&region[..8], &[0x00, 0xF0, 0x01, 0x00, 0x00, 0x10, 0x00, 0x00]);
/// assert_eq!(&region[8..16], &[0x00, 0x00, 0x02, 0x00, 0x00, 0x10, 0x00, 0x80]);
/// # Ok::<(), irqkit_ata::Error>(())
/// ```
#[derive(Debug)]
pub struct PrdTable<'a> {
    table: &'a mut [u8],
    entries: usize,
    bytes: u64,
    max_entries: usize,
}

impl<'a> PrdTable<'a> {
    /// An empty table in `region`; it holds `min(region.len() / 8, 512)` entries.
    pub fn new(region: &'a mut [u8]) -> PrdTable<'a> {
        let max_entries = (region.len() / PRD_ENTRY_SIZE).min(PRD_MAX_ENTRIES);
        PrdTable {
            table: region,
            entries: 0,
            bytes: 0,
            max_entries,
        }
    }

    /// Entries the table can hold.
    pub fn capacity(&self) -> usize {
        self.max_entries
    }

    /// Entries written so far.
    pub fn len(&self) -> usize {
        self.entries
    }

    /// Whether no entry has been written.
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Bytes described so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends `len` bytes at bus address `addr`, split at every 64 KiB boundary.
    ///
    /// # Errors
    ///
    /// [`Error::Misaligned`] for an odd address or length, [`Error::Unreachable`] for bytes
    /// above 4 GiB, [`Error::TooManySegments`] when the table is full. On error the table is
    /// unchanged.
    pub fn push(&mut self, addr: u64, len: usize) -> Result<(), Error> {
        if len == 0 {
            return Ok(());
        }
        if addr % 2 != 0 || len % 2 != 0 {
            return Err(Error::Misaligned {
                addr: if addr % 2 != 0 {
                    addr
                } else {
                    addr + len as u64
                },
                align: 2,
            });
        }
        let end = addr.checked_add(len as u64);
        if end.is_none_or(|e| e > 1 << 32) {
            return Err(Error::Unreachable { addr, len });
        }
        let needed = pieces(addr, len as u64);
        if self.entries + needed > self.max_entries {
            return Err(Error::TooManySegments {
                max: self.max_entries,
            });
        }
        let (mut at, mut left) = (addr, len as u64);
        while left > 0 {
            let room = PRD_MAX_BYTES - (at % PRD_MAX_BYTES);
            let n = left.min(room);
            self.write_entry(at as u32, n as u32);
            at += n;
            left -= n;
        }
        self.bytes += len as u64;
        Ok(())
    }

    fn write_entry(&mut self, addr: u32, bytes: u32) {
        let e = &mut self.table[self.entries * PRD_ENTRY_SIZE..][..PRD_ENTRY_SIZE];
        e[..4].copy_from_slice(&addr.to_le_bytes());
        // 0x1_0000 truncates to 0, which means 64 KiB.
        e[4..6].copy_from_slice(&(bytes as u16).to_le_bytes());
        e[6..8].copy_from_slice(&0u16.to_le_bytes());
        self.entries += 1;
    }

    /// Marks the last entry EOT and returns the number of entries.
    ///
    /// # Errors
    ///
    /// [`Error::BadLength`] when the entries do not add up to exactly `transfer_bytes` (the
    /// engine would stall or stop short) or the table is empty.
    pub fn finish(self, transfer_bytes: u64) -> Result<usize, Error> {
        if self.entries == 0 || self.bytes != transfer_bytes {
            return Err(Error::BadLength {
                len: usize::try_from(self.bytes).unwrap_or(usize::MAX),
                sector_size: 0,
            });
        }
        let last = (self.entries - 1) * PRD_ENTRY_SIZE;
        self.table[last + 6..last + 8].copy_from_slice(&EOT.to_le_bytes());
        Ok(self.entries)
    }

    /// Checks where the table lands on the bus: dword aligned, below 4 GiB, and `entries`
    /// entries not crossing a 64 KiB boundary.
    ///
    /// # Errors
    ///
    /// [`Error::Misaligned`], [`Error::Unreachable`] or [`Error::BadPrdRegion`].
    pub fn check_placement(addr: u64, entries: usize) -> Result<(), Error> {
        let len = entries * PRD_ENTRY_SIZE;
        if addr % 4 != 0 {
            return Err(Error::Misaligned { addr, align: 4 });
        }
        if addr + len as u64 > 1 << 32 {
            return Err(Error::Unreachable { addr, len });
        }
        if len == 0 || addr / PRD_MAX_BYTES != (addr + len as u64 - 1) / PRD_MAX_BYTES {
            return Err(Error::BadPrdRegion);
        }
        Ok(())
    }
}

/// Entries `len` bytes at `addr` need.
fn pieces(addr: u64, len: u64) -> usize {
    let first = addr / PRD_MAX_BYTES;
    let last = (addr + len - 1) / PRD_MAX_BYTES;
    (last - first + 1) as usize
}

/// Decodes entry `i` of a table: (address, bytes, end of table).
#[cfg(test)]
pub(crate) fn entry(table: &[u8], i: usize) -> (u64, u64, bool) {
    let e = &table[i * 8..i * 8 + 8];
    let addr = u32::from_le_bytes([e[0], e[1], e[2], e[3]]);
    let count = u16::from_le_bytes([e[4], e[5]]);
    let flags = u16::from_le_bytes([e[6], e[7]]);
    let bytes = if count == 0 {
        0x1_0000
    } else {
        u64::from(count)
    };
    (u64::from(addr), bytes, flags & EOT != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::vec::Vec;

    #[test]
    fn full_64k_entry_encodes_zero() {
        let mut r = [0u8; 16];
        let mut prd = PrdTable::new(&mut r);
        prd.push(0x3_0000, 0x1_0000).unwrap();
        assert_eq!(prd.finish(0x1_0000), Ok(1));
        assert_eq!(entry(&r, 0), (0x3_0000, 0x1_0000, true));
        assert_eq!(&r[4..6], &[0, 0]);
    }

    #[test]
    fn errors_leave_the_table_unchanged() {
        let mut r = [0u8; 16];
        let mut prd = PrdTable::new(&mut r);
        assert_eq!(prd.capacity(), 2);
        assert_eq!(
            prd.push(1, 512),
            Err(Error::Misaligned { addr: 1, align: 2 })
        );
        assert!(matches!(prd.push(0, 3), Err(Error::Misaligned { .. })));
        assert_eq!(
            prd.push(0xFFFF_FF00, 0x200),
            Err(Error::Unreachable {
                addr: 0xFFFF_FF00,
                len: 0x200
            })
        );
        prd.push(0xFFFF_FE00, 0x200).unwrap(); // the last bytes below 4 GiB are fine
        assert_eq!(
            prd.push(0xFFFF, 0x2),
            Err(Error::Misaligned {
                addr: 0xFFFF,
                align: 2
            })
        );
        assert_eq!(
            prd.push(0xFFF0, 0x20),
            Err(Error::TooManySegments { max: 2 })
        );
        assert_eq!(prd.len(), 1);
        prd.push(0, 0).unwrap();
        assert_eq!(prd.len(), 1);
        assert!(matches!(
            prd.finish(0x400),
            Err(Error::BadLength { len: 0x200, .. })
        ));
        assert!(matches!(
            PrdTable::new(&mut [0u8; 8]).finish(0),
            Err(Error::BadLength { .. })
        ));
    }

    #[test]
    fn capacity_is_capped_at_512() {
        let mut r = [0u8; 8 * 600];
        assert_eq!(PrdTable::new(&mut r).capacity(), 512);
        assert_eq!(PrdTable::new(&mut [0u8; 15]).capacity(), 1);
    }

    #[test]
    fn placement() {
        assert_eq!(PrdTable::check_placement(0x1000, 512), Ok(()));
        assert_eq!(PrdTable::check_placement(0xF000, 512), Ok(()));
        assert_eq!(
            PrdTable::check_placement(0xF008, 512),
            Err(Error::BadPrdRegion)
        );
        assert_eq!(
            PrdTable::check_placement(0x1002, 1),
            Err(Error::Misaligned {
                addr: 0x1002,
                align: 4
            })
        );
        assert!(matches!(
            PrdTable::check_placement(0xFFFF_FFF8, 2),
            Err(Error::Unreachable { .. })
        ));
    }

    fn segments() -> impl Strategy<Value = Vec<(u64, usize)>> {
        proptest::collection::vec(
            (0u64..(1 << 31), 1usize..0x3_0000).prop_map(|(a, l)| (a & !1, l & !1)),
            1..12,
        )
    }

    proptest! {
        #![proptest_config(crate::proptest_config())]
        #[test]
        fn table_covers_exactly_the_segments(segs in segments()) {
            let mut region = std::vec![0u8; 8 * 64];
            let mut prd = PrdTable::new(&mut region);
            let mut total = 0u64;
            for &(a, l) in &segs {
                prd.push(a, l).unwrap();
                total += l as u64;
            }
            let n = prd.finish(total).unwrap();
            // Walk the entries against the segments: each entry continues the current
            // segment exactly where the last one stopped, and ends either at the segment's
            // end or at a 64 KiB boundary (so no entry is wasted).
            let mut segs_left = segs.iter().copied().filter(|s| s.1 > 0);
            let mut cur = segs_left.next();
            for i in 0..n {
                let (a, b, eot) = entry(&region, i);
                prop_assert_eq!(eot, i == n - 1);
                prop_assert!((1..=PRD_MAX_BYTES).contains(&b));
                prop_assert_eq!(a / PRD_MAX_BYTES, (a + b - 1) / PRD_MAX_BYTES, "entry crosses 64 KiB");
                let (sa, sl) = cur.expect("more entries than segments");
                prop_assert_eq!(a, sa);
                prop_assert!(b <= sl as u64);
                let rest = sl - b as usize;
                prop_assert!(rest == 0 || (a + b) % PRD_MAX_BYTES == 0);
                cur = if rest == 0 { segs_left.next() } else { Some((a + b, rest)) };
            }
            prop_assert_eq!(cur, None, "segments left undescribed");
        }

        #[test]
        fn overflow_is_an_error_not_a_truncation(len in 1usize..64, base in 0u64..0x1_0000) {
            let base = base & !1;
            let mut region = [0u8; 8 * 4];
            let mut prd = PrdTable::new(&mut region);
            let bytes = len * 0x8000;
            let needed = pieces(base, bytes as u64);
            let r = prd.push(base, bytes);
            prop_assert_eq!(r.is_ok(), needed <= 4);
            if r.is_err() {
                prop_assert_eq!(prd.len(), 0);
            }
        }
    }
}
