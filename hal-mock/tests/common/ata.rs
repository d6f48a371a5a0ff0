//! A tiny raw ATA driver for the IDE model's tests: register sequences, no error handling.

use std::time::Duration;

use irqkit_hal::dma::{Direction, DmaMap, Reach, Segment};
use irqkit_hal::PortIo;
use irqkit_hal_mock::ata::{AtaDisk, IdeChannel};
use irqkit_hal_mock::pci::{PciConfigSpace, PciFunction};
use irqkit_hal_mock::{Bus, DeviceHandle, Line, Sim, SimMemory};

pub const CMD: u16 = 0x1F0;
pub const CTRL: u16 = 0x3F6;
pub const BM: u16 = 0xC040;
pub const IRQ: Line = Line(14);

/// A machine with QEMU's PCI functions and `channel` attached (bus mastering enabled).
pub struct Rig {
    pub sim: Sim,
    pub bus: Bus,
    pub ide: DeviceHandle<IdeChannel>,
    pub pci: PciFunction,
    pub mem: SimMemory,
}

impl Rig {
    pub fn new(channel: IdeChannel) -> Self {
        let sim = Sim::new();
        let bus = sim.bus();
        let pci = PciFunction::piix3_ide();
        PciConfigSpace::qemu_pc(&pci).attach(&bus).unwrap();
        let ide = channel.with_pci(&pci).attach(&bus).unwrap();
        // Bus addresses independent of the host allocator (random under Miri).
        sim.memory().set_keep_page_offset(false);
        let mut rig = Rig {
            mem: sim.memory(),
            sim,
            bus,
            ide,
            pci,
        };
        rig.set_pci_command(0x0107);
        rig
    }

    /// A disk of `sectors` as primary master.
    pub fn disk(sectors: u64) -> Self {
        Self::new(IdeChannel::primary().with_master(AtaDisk::new(sectors)))
    }

    pub fn set_pci_command(&mut self, command: u16) {
        self.bus.write32(0xCF8, 0x8000_0904);
        self.bus.write16(0xCFC, command);
    }

    pub fn edges(&self) -> u64 {
        self.sim.lines().rising_edges(IRQ)
    }

    pub fn line_high(&self) -> bool {
        self.sim.lines().level(IRQ)
    }

    pub fn advance(&self, us: u64) {
        self.sim.clock().advance(Duration::from_micros(us));
    }

    pub fn status(&mut self) -> u8 {
        self.bus.read8(CMD + 7)
    }

    pub fn alt_status(&mut self) -> u8 {
        self.bus.read8(CTRL)
    }

    pub fn error(&mut self) -> u8 {
        self.bus.read8(CMD + 1)
    }

    pub fn select(&mut self, value: u8) {
        self.bus.write8(CMD + 6, value);
    }

    /// LBA28 taskfile for the master (or slave) and a command.
    pub fn command28(&mut self, slave: bool, lba: u64, count: u8, command: u8) {
        let dev = 0xE0 | if slave { 0x10 } else { 0 } | ((lba >> 24) as u8 & 0x0F);
        self.select(dev);
        self.bus.write8(CMD + 2, count);
        self.bus.write8(CMD + 3, lba as u8);
        self.bus.write8(CMD + 4, (lba >> 8) as u8);
        self.bus.write8(CMD + 5, (lba >> 16) as u8);
        self.bus.write8(CMD + 7, command);
    }

    /// LBA48 taskfile (high bytes first) and a command.
    pub fn command48(&mut self, lba: u64, count: u16, command: u8) {
        self.select(0x40);
        self.bus.write8(CMD + 2, (count >> 8) as u8);
        self.bus.write8(CMD + 3, (lba >> 24) as u8);
        self.bus.write8(CMD + 4, (lba >> 32) as u8);
        self.bus.write8(CMD + 5, (lba >> 40) as u8);
        self.bus.write8(CMD + 2, count as u8);
        self.bus.write8(CMD + 3, lba as u8);
        self.bus.write8(CMD + 4, (lba >> 8) as u8);
        self.bus.write8(CMD + 5, (lba >> 16) as u8);
        self.bus.write8(CMD + 7, command);
    }

    /// The LBA registers (with the HOB values for LBA48).
    pub fn lba_registers(&mut self, lba48: bool) -> u64 {
        let low = |bus: &mut Bus| -> u64 {
            u64::from(bus.read8(CMD + 3))
                | u64::from(bus.read8(CMD + 4)) << 8
                | u64::from(bus.read8(CMD + 5)) << 16
        };
        let cur = low(&mut self.bus);
        if lba48 {
            self.bus.write8(CTRL, 0x80);
            let hob = low(&mut self.bus);
            self.bus.write8(CTRL, 0x00);
            cur | hob << 24
        } else {
            cur | u64::from(self.bus.read8(CMD + 6) & 0x0F) << 24
        }
    }

    /// 256 words from the data port with one string read.
    pub fn read_block(&mut self, sectors: usize) -> Vec<u8> {
        let mut words = vec![0u16; 256 * sectors];
        self.bus.read16_into(CMD, &mut words);
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    pub fn write_block(&mut self, data: &[u8]) {
        let words: Vec<u16> = data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        self.bus.write16_from(CMD, &words);
    }

    /// Maps `buf` and returns its segments.
    pub fn map(&mut self, buf: &[u8], dir: Direction) -> Vec<Segment> {
        let mut segs = Vec::new();
        self.mem
            .map(buf, dir, Reach::ADDR32, &mut |s| {
                segs.push(s);
                Ok(())
            })
            .unwrap();
        segs
    }

    /// Builds a PRD table (one entry per segment, EOT on the last unless `eot` is false),
    /// maps it and loads its address into the bus master. Returns the table to unmap later.
    pub fn load_prds(&mut self, regions: &[(u64, u32)], eot: bool) -> Vec<u8> {
        let mut table = Vec::new();
        for (i, &(addr, len)) in regions.iter().enumerate() {
            table.extend_from_slice(&(addr as u32).to_le_bytes());
            table.extend_from_slice(&((len & 0xFFFF) as u16).to_le_bytes());
            let last = eot && i + 1 == regions.len();
            table.extend_from_slice(&(u16::from(last) << 15).to_le_bytes());
        }
        // As a driver maps it: 4-byte aligned, below 4 GiB.
        let mut segs = Vec::new();
        self.mem
            .map(
                &table,
                Direction::ToDevice,
                Reach::ADDR32.with_align(4),
                &mut |s| {
                    segs.push(s);
                    Ok(())
                },
            )
            .unwrap();
        self.bus.write32(BM + 4, segs[0].addr.get() as u32);
        table
    }

    /// The libata order up to the command: PRD address already loaded; direction, clear
    /// status, command.
    pub fn dma_command28(&mut self, lba: u64, count: u8, read: bool) {
        self.bus.write8(BM, if read { 0x08 } else { 0x00 });
        self.bus.write8(BM + 2, 0x06);
        self.command28(false, lba, count, if read { 0xC8 } else { 0xCA });
    }

    pub fn start_dma(&mut self, read: bool) {
        self.bus.write8(BM, if read { 0x09 } else { 0x01 });
    }

    pub fn stop_dma(&mut self) {
        self.bus.write8(BM, 0x00);
    }

    pub fn bm_status(&mut self) -> u8 {
        self.bus.read8(BM + 2)
    }

    /// A whole PIO read of `count` sectors (LBA28), acknowledging each interrupt.
    pub fn pio_read28(&mut self, lba: u64, count: u8) -> Vec<u8> {
        self.command28(false, lba, count, 0x20);
        let mut data = Vec::new();
        for _ in 0..count {
            assert_eq!(self.status() & 0x89, 0x08, "DRQ for each sector");
            data.extend(self.read_block(1));
        }
        data
    }

    /// A whole PIO write (LBA28), acknowledging each interrupt.
    pub fn pio_write28(&mut self, lba: u64, data: &[u8]) {
        self.command28(false, lba, (data.len() / 512) as u8, 0x30);
        for block in data.chunks(512) {
            assert_eq!(self.alt_status() & 0x89, 0x08);
            self.write_block(block);
            self.status();
        }
    }
}

/// `n` sectors of a recognisable pattern starting at `seed`.
pub fn pattern(seed: u8, sectors: usize) -> Vec<u8> {
    (0..sectors * 512)
        .map(|i| seed.wrapping_add((i / 512) as u8).wrapping_mul(31) ^ (i as u8))
        .collect()
}
