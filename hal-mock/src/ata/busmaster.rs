//! The bus-master IDE registers of one channel (BAR4 + 0, or + 8 for the secondary) and the
//! PRD table walk, as QEMU's PIIX model does them.

use irqkit_hal::dma::BusAddr;

use crate::device::Width;
use crate::memory::SimMemory;

/// Command register: start/stop bus master.
pub(crate) const CMD_START: u8 = 0x01;
/// Command register: transfer direction, set for device-to-memory (a READ).
pub(crate) const CMD_READ: u8 = 0x08;
/// Status register: bus master active.
pub(crate) const STATUS_ACTIVE: u8 = 0x01;
/// Status register: error (write 1 to clear).
pub(crate) const STATUS_ERROR: u8 = 0x02;
/// Status register: interrupt (write 1 to clear).
pub(crate) const STATUS_INTR: u8 = 0x04;

/// QEMU reads at most 4 KiB of PRD table: 512 entries.
pub const MAX_PRD_ENTRIES: usize = 512;

/// One physical region descriptor as the bus master read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrdEntry {
    /// Bus address of the region (bit 0 ignored, as the hardware does).
    pub addr: u32,
    /// Bytes in the region (a count field of 0 means 64 KiB; bit 0 ignored).
    pub len: u32,
    /// Whether the end-of-table bit (15 of the flags word) was set.
    pub end_of_table: bool,
}

impl PrdEntry {
    /// Whether the region crosses a 64 KiB boundary (which the specification forbids; QEMU
    /// does not check, real controllers wrap).
    pub fn crosses_64k(&self) -> bool {
        let start = u64::from(self.addr);
        let last = start + u64::from(self.len) - 1;
        start >> 16 != last >> 16
    }

    fn decode(raw: [u8; 8]) -> Self {
        let addr = u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) & !1;
        let count = u16::from_le_bytes([raw[4], raw[5]]) & 0xFFFE;
        let flags = u16::from_le_bytes([raw[6], raw[7]]);
        PrdEntry {
            addr,
            len: if count == 0 {
                0x1_0000
            } else {
                u32::from(count)
            },
            end_of_table: flags & 0x8000 != 0,
        }
    }
}

/// The PRD entries a transfer of `needed` bytes uses, read from `table` as QEMU does: entry by
/// entry until they cover `needed`, the end-of-table bit, or 512 entries. With bus mastering
/// disabled nothing is read.
pub(crate) fn walk_prds(memory: &SimMemory, table: u32, needed: u64) -> Vec<PrdEntry> {
    let mut entries = Vec::new();
    let mut covered = 0u64;
    while covered < needed && entries.len() < MAX_PRD_ENTRIES {
        let at = u64::from(table) + 8 * entries.len() as u64;
        let mut raw = [0u8; 8];
        if memory.read(BusAddr::new(at), &mut raw).is_err() {
            // Recording only: the table is unreadable, the walk ends.
            break;
        }
        let entry = PrdEntry::decode(raw);
        covered += u64::from(entry.len);
        entries.push(entry);
        if entry.end_of_table {
            break;
        }
    }
    entries
}

/// Total bytes the entries describe.
pub(crate) fn total(entries: &[PrdEntry]) -> u64 {
    entries.iter().map(|e| u64::from(e.len)).sum()
}

/// Moves `data` (a device-to-memory transfer) into the regions, in order.
pub(crate) fn scatter(memory: &SimMemory, entries: &[PrdEntry], mut data: &[u8]) {
    for e in entries {
        if data.is_empty() {
            break;
        }
        let n = data.len().min(e.len as usize);
        // A violation (recording only) loses the piece; the device does not know.
        let _ = memory.write(BusAddr::new(e.addr.into()), &data[..n]);
        data = &data[n..];
    }
}

/// Fills `data` (a memory-to-device transfer) from the regions, in order.
pub(crate) fn gather(memory: &SimMemory, entries: &[PrdEntry], mut data: &mut [u8]) {
    for e in entries {
        if data.is_empty() {
            break;
        }
        let n = data.len().min(e.len as usize);
        let (piece, rest) = data.split_at_mut(n);
        let _ = memory.read(BusAddr::new(e.addr.into()), piece);
        data = rest;
    }
}

/// The three registers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BusMasterRegs {
    pub(crate) command: u8,
    pub(crate) status: u8,
    pub(crate) prd_table: u32,
}

/// What a write to the command register asks of the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartStop {
    Start,
    Stop,
    Nothing,
}

impl BusMasterRegs {
    /// A register read; QEMU answers command and status only to byte reads.
    pub(crate) fn read(&self, offset: u16, width: Width) -> u32 {
        match offset {
            0..=3 if width != Width::W8 => width.mask(),
            0 => self.command.into(),
            2 => self.status.into(),
            4..=7 => {
                let shift = u32::from(offset - 4) * 8;
                (u64::from(self.prd_table) >> shift) as u32 & width.mask()
            }
            _ => 0xFF,
        }
    }

    /// A register write; the start/stop edge for the channel to act on.
    #[allow(clippy::cast_possible_truncation)] // byte registers take the low byte
    pub(crate) fn write(&mut self, offset: u16, width: Width, value: u32) -> StartStop {
        match offset {
            0..=3 if width != Width::W8 => StartStop::Nothing,
            0 => {
                let value = value as u8;
                let edge = (value ^ self.command) & CMD_START != 0;
                self.command = value & (CMD_START | CMD_READ);
                match (edge, value & CMD_START != 0) {
                    (false, _) => StartStop::Nothing,
                    (true, true) => StartStop::Start,
                    (true, false) => StartStop::Stop,
                }
            }
            2 => {
                let value = value as u8;
                let old = self.status;
                self.status = (value & 0x60) | (old & STATUS_ACTIVE) | (old & !value & 0x06);
                StartStop::Nothing
            }
            4..=7 => {
                let shift = u32::from(offset - 4) * 8;
                let mask = (u64::from(width.mask()) << shift) as u32;
                let value = ((u64::from(value) << shift) as u32) & mask;
                self.prd_table = ((self.prd_table & !mask) | value) & !3;
                StartStop::Nothing
            }
            _ => StartStop::Nothing,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use irqkit_hal::dma::{Direction, DmaMap, Reach};

    fn prd(addr: u32, count: u16, eot: bool) -> [u8; 8] {
        let mut raw = [0u8; 8];
        raw[..4].copy_from_slice(&addr.to_le_bytes());
        raw[4..6].copy_from_slice(&count.to_le_bytes());
        raw[6..].copy_from_slice(&(u16::from(eot) << 15).to_le_bytes());
        raw
    }

    #[test]
    fn registers_like_qemu() {
        let mut r = BusMasterRegs::default();
        assert_eq!(r.write(0, Width::W8, 0xFF), StartStop::Start);
        assert_eq!(r.read(0, Width::W8), 0x09);
        assert_eq!(r.read(0, Width::W16), 0xFFFF, "byte accesses only");
        assert_eq!(r.write(0, Width::W8, 0x09), StartStop::Nothing);
        assert_eq!(r.write(0, Width::W8, 0x08), StartStop::Stop);
        r.status = STATUS_ACTIVE | STATUS_ERROR | STATUS_INTR;
        r.write(2, Width::W8, 0x64);
        assert_eq!(
            r.status,
            0x60 | STATUS_ACTIVE | STATUS_ERROR,
            "W1C INTR, ACTIVE kept"
        );
        r.write(2, Width::W32, 0xFF);
        assert_eq!(r.read(2, Width::W8), 0x63);
        assert_eq!(r.read(1, Width::W8), 0xFF);
        r.write(4, Width::W32, 0x0012_3457);
        assert_eq!(r.read(4, Width::W32), 0x0012_3454);
        r.write(6, Width::W16, 0xABCD);
        assert_eq!(r.read(4, Width::W32), 0xABCD_3454);
        assert_eq!(r.read(7, Width::W8), 0xAB);
    }

    #[test]
    fn walk_stops_at_eot_when_covered_or_at_512_entries() {
        let mut mem = SimMemory::new();
        let mut table = Vec::new();
        table.extend(prd(0x1001, 0x201, false)); // bit 0 of address and count ignored
        table.extend(prd(0x3000, 0, true)); // 64 KiB
        table.extend(prd(0x9000, 16, true)); // after EOT: never read
        let mut segs = Vec::new();
        mem.map(&table, Direction::ToDevice, Reach::ADDR32, &mut |s| {
            segs.push(s);
            Ok(())
        })
        .unwrap();
        let table_addr = u32::try_from(segs[0].addr.get()).unwrap();
        let e = walk_prds(&mem, table_addr, 1 << 20);
        assert_eq!(
            e,
            [
                PrdEntry {
                    addr: 0x1000,
                    len: 0x200,
                    end_of_table: false
                },
                PrdEntry {
                    addr: 0x3000,
                    len: 0x1_0000,
                    end_of_table: true
                }
            ]
        );
        assert_eq!(total(&e), 0x1_0200);
        assert_eq!(walk_prds(&mem, table_addr, 0x200).len(), 1, "covered");
        assert!(!e[0].crosses_64k());
        assert!(e[1].crosses_64k(), "64 KiB from 0x3000");
        assert!(PrdEntry {
            addr: 0xFF00,
            len: 0x200,
            end_of_table: true
        }
        .crosses_64k());

        let many = vec![0u8; 8 * 600];
        let mut segs = Vec::new();
        mem.map(&many, Direction::ToDevice, Reach::ADDR32, &mut |s| {
            segs.push(s);
            Ok(())
        })
        .unwrap();
        let addr = u32::try_from(segs[0].addr.get()).unwrap();
        assert_eq!(walk_prds(&mem, addr, u64::MAX).len(), MAX_PRD_ENTRIES);
    }
}
