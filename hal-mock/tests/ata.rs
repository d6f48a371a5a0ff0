//! The IDE channel model driven through raw port accesses: every command and fault path.

mod common;

use std::time::Duration;

use common::ata::{pattern, Rig, BM, CMD, CTRL};
use irqkit_hal::dma::{Direction, DmaMap};
use irqkit_hal::PortIo;
use irqkit_hal_mock::ata::{ata_string, AtaDisk, Drive, IdeChannel, MediaError, Unit};
use irqkit_hal_mock::memory::{Violation, POISON};

// --- identity, presence, reset ---

#[test]
fn identify_returns_qemus_words_with_one_interrupt() {
    let mut rig = Rig::disk(1 << 20);
    rig.command28(false, 0, 0, 0xEC);
    assert_eq!(rig.alt_status(), 0x58);
    assert_eq!(rig.edges(), 1);
    let data = rig.read_block(1);
    let words: Vec<u16> = data
        .chunks(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(ata_string(&words[27..47]), "QEMU HARDDISK");
    assert_eq!(ata_string(&words[10..20]), "QM00001");
    assert_eq!(words[47], 0x8010);
    assert_eq!((words[60], words[61]), (0, 0x10));
    assert_eq!(rig.status(), 0x50, "DRQ clear after 256 words");
    assert_eq!(rig.edges(), 1, "no interrupt at the end of a PIO read");
    assert_eq!(rig.bus.read16(CMD), 0, "data without DRQ reads 0");
}

#[test]
fn data_port_without_drq_does_not_advance_and_dword_reads_take_two_words() {
    let mut rig = Rig::disk(64);
    rig.ide
        .with_disk(Unit::Master, |d| d.write_medium(1, &pattern(7, 1)));
    rig.command28(false, 1, 1, 0x20);
    let first = rig.bus.read32(CMD);
    let expected = pattern(7, 1);
    assert_eq!(first.to_le_bytes(), expected[..4]);
    assert_eq!(
        rig.bus.read8(CMD),
        0xFF,
        "byte reads of the data port float"
    );
    let rest = {
        let mut words = vec![0u16; 254];
        rig.bus.read16_into(CMD, &mut words);
        words
    };
    assert_eq!(rest[0].to_le_bytes(), expected[4..6]);
    assert_eq!(rig.status(), 0x50);
    assert_eq!(rig.bus.read16(CMD), 0);
    assert_eq!(rig.bus.read16(CMD), 0);
}

#[test]
fn soft_reset_signatures_and_the_device_register_quirk() {
    let mut rig = Rig::new(
        IdeChannel::primary()
            .with_master(AtaDisk::new(100))
            .with_slave(Drive::Atapi),
    );
    rig.select(0xB0);
    rig.bus.write8(CTRL, 0x04);
    assert_eq!(rig.alt_status() & 0x80, 0x80, "busy while resetting");
    rig.bus.write8(CTRL, 0x00);
    rig.advance(0);
    // The slave stays selected (QEMU does not reset the selection) but reads 0xA0.
    assert_eq!(rig.bus.read8(CMD + 6), 0xA0);
    assert_eq!(rig.ide.with(|c| c.selected()), Unit::Slave);
    let sig = |rig: &mut Rig| [2, 3, 4, 5].map(|r| rig.bus.read8(CMD + r));
    assert_eq!(sig(&mut rig), [1, 1, 0x14, 0xEB]);
    assert_eq!((rig.status(), rig.error()), (0x00, 0x01), "ATAPI: no DRDY");
    rig.select(0xA0);
    assert_eq!(sig(&mut rig), [1, 1, 0, 0]);
    assert_eq!((rig.status(), rig.error()), (0x50, 0x01));
    assert_eq!(
        rig.ide.with(|c| c.device_control()) & 0x04,
        0,
        "SRST cleared"
    );
}

#[test]
fn reset_latency_keeps_bsy() {
    let mut rig = Rig::new(
        IdeChannel::primary()
            .with_master(AtaDisk::new(100))
            .with_reset_latency(Duration::from_millis(2)),
    );
    rig.bus.write8(CTRL, 0x04);
    rig.bus.write8(CTRL, 0x00);
    rig.advance(1_999);
    assert_eq!(rig.status(), 0xD0);
    rig.advance(1);
    assert_eq!(rig.status(), 0x50);
}

/// QEMU finishes SRST in its main loop: until then every unit is busy, so writes are
/// dropped even while the absent slave (status 0x00) is selected, the select of the master
/// included; after the reset the slave is still selected and the device register reads 0xA0.
#[test]
fn a_late_reset_with_the_absent_slave_selected_drops_the_select_of_the_master() {
    let mut rig = Rig::new(
        IdeChannel::primary()
            .with_master(AtaDisk::new(100))
            .with_reset_latency(Duration::from_millis(5)),
    );
    rig.select(0xB0);
    rig.bus.write8(CTRL, 0x06);
    rig.advance(5);
    rig.bus.write8(CTRL, 0x02);
    rig.advance(2_000);
    assert_eq!(
        rig.alt_status(),
        0x00,
        "the absent slave reads 0x00 meanwhile"
    );
    rig.select(0xA0);
    assert_eq!(rig.bus.read8(CMD + 6), 0xB0, "the select was dropped");
    assert_eq!(rig.alt_status(), 0x00);
    assert_eq!(rig.ide.with(|c| c.selected()), Unit::Slave);
    rig.bus.write8(CMD + 2, 0x55);
    rig.select(0xA0);
    rig.bus.write8(CMD + 7, 0xEC);
    rig.advance(2_994);
    assert_eq!(rig.ide.with(|c| c.selected()), Unit::Slave);
    rig.advance(1);
    // Reset done: the slave is still selected but the device register reads 0xA0.
    assert_eq!(rig.bus.read8(CMD + 6), 0xA0);
    assert_eq!((rig.alt_status(), rig.edges()), (0x00, 0));
    rig.select(0xA0);
    assert_eq!(rig.alt_status(), 0x50);
    assert_eq!(rig.bus.read8(CMD + 2), 0x01, "the count write was dropped");
    assert!(rig.ide.with_disk(Unit::Master, |d| d.commands().is_empty()));
}

#[test]
fn atapi_aborts_identify_device_and_answers_identify_packet() {
    let mut rig = Rig::new(IdeChannel::primary().with_master(Drive::Atapi));
    rig.command28(false, 0, 0, 0xEC);
    assert_eq!((rig.status(), rig.error()), (0x41, 0x04));
    assert_eq!(
        [rig.bus.read8(CMD + 4), rig.bus.read8(CMD + 5)],
        [0x14, 0xEB]
    );
    assert_eq!(rig.edges(), 1);
    rig.command28(false, 0, 0, 0xA1);
    assert_eq!(rig.status(), 0x58);
    let data = rig.read_block(1);
    assert_eq!(u16::from_le_bytes([data[0], data[1]]), 0x85C0);
    assert_eq!(rig.status() & 0x08, 0);
    // A disk aborts IDENTIFY PACKET.
    let mut rig = Rig::disk(10);
    rig.command28(false, 0, 0, 0xA1);
    assert_eq!((rig.status(), rig.error()), (0x41, 0x04));
}

#[test]
fn absent_slave_reads_zero_status_echoes_ignores_commands_and_never_interrupts() {
    let mut rig = Rig::disk(100);
    rig.select(0xB0);
    assert_eq!(rig.status(), 0);
    assert_eq!(rig.alt_status(), 0);
    assert_eq!(rig.error(), 0);
    // QEMU 7.2: the absent slave's taskfile reads back what was written (a register echo
    // passes), only status and error read 0x00.
    rig.bus.write8(CMD + 2, 0x55);
    rig.bus.write8(CMD + 3, 0xAA);
    assert_eq!(
        [rig.bus.read8(CMD + 2), rig.bus.read8(CMD + 3)],
        [0x55, 0xAA]
    );
    assert_eq!(rig.bus.read8(CMD + 6), 0xB0, "device register still reads");
    rig.bus.write8(CMD + 7, 0xEC);
    rig.advance(10);
    assert_eq!(rig.edges(), 0);
    assert_eq!(rig.status(), 0);
    // After a reset: QEMU's signature of nothing, 01 01 FF FF, still status 0x00.
    rig.bus.write8(CTRL, 0x04);
    rig.bus.write8(CTRL, 0x00);
    rig.advance(1);
    let regs: [u8; 6] = std::array::from_fn(|i| rig.bus.read8(CMD + 1 + i as u16));
    assert_eq!(regs, [0, 1, 1, 0xFF, 0xFF, 0xA0]);
    assert_eq!(rig.status(), 0);
    // The master saw the echo values (QEMU writes both taskfiles).
    rig.select(0xA0);
    rig.bus.write8(CMD + 2, 0x55);
    rig.select(0xB0);
    rig.select(0xA0);
    assert_eq!(rig.bus.read8(CMD + 2), 0x55);
}

#[test]
fn empty_channel_reads_zero_and_floating_bus_reads_ones() {
    let mut rig = Rig::new(IdeChannel::secondary());
    for port in 0x171..=0x177 {
        assert_eq!(rig.bus.read8(port), 0, "port {port:#x}");
    }
    assert_eq!(rig.bus.read8(0x376), 0);
    let mut rig = Rig::new(IdeChannel::primary().with_floating_bus(true));
    for port in 0x1F0..=0x1F7 {
        assert_eq!(rig.bus.read8(port), 0xFF);
    }
    assert_eq!(rig.bus.read16(CMD), 0xFFFF);
    assert_eq!(rig.alt_status(), 0xFF);
    rig.bus.write8(CMD + 7, 0xEC);
    assert_eq!(rig.edges(), 0);
    // Switched on later, on a channel with a disk.
    let mut rig = Rig::disk(10);
    rig.ide.with(|c| c.set_floating_bus(true));
    assert_eq!(rig.status(), 0xFF);
}

#[test]
fn an_absent_master_on_an_empty_channel_aborts_with_an_interrupt_like_qemu() {
    let mut rig = Rig::new(IdeChannel::primary());
    rig.bus.write8(CMD + 7, 0xEC);
    assert_eq!(rig.edges(), 1);
    assert_eq!(rig.status(), 0, "but reads nothing");
}

// --- taskfile ---

#[test]
fn lba48_fifos_read_back_with_hob_and_a_taskfile_write_clears_hob() {
    let mut rig = Rig::disk(100);
    for (port, high, low) in [
        (2, 0x12, 0x34),
        (3, 0x56, 0x78),
        (4, 0x9A, 0xBC),
        (5, 0xDE, 0xF0),
    ] {
        rig.bus.write8(CMD + port, high);
        rig.bus.write8(CMD + port, low);
    }
    assert_eq!(rig.bus.read8(CMD + 3), 0x78);
    rig.bus.write8(CTRL, 0x80);
    assert_eq!(
        [2, 3, 4, 5].map(|r| rig.bus.read8(CMD + r)),
        [0x12, 0x56, 0x9A, 0xDE]
    );
    rig.bus.write8(CMD + 1, 0x00);
    assert_eq!(rig.bus.read8(CMD + 3), 0x78, "HOB cleared by the write");
}

#[test]
fn taskfile_writes_are_ignored_while_drq_is_set() {
    let mut rig = Rig::disk(100);
    rig.command28(false, 5, 2, 0x20);
    rig.bus.write8(CMD + 3, 0x99);
    rig.select(0xB0);
    assert_eq!(rig.ide.with(|c| c.selected()), Unit::Master);
    assert_eq!(
        rig.bus.read8(CMD + 3),
        6,
        "LBA advanced past the loaded sector"
    );
    rig.bus.write8(CMD + 7, 0xEC);
    assert_eq!(rig.ide.with_disk(Unit::Master, |d| d.commands().len()), 1);
}

// --- PIO ---

#[test]
fn pio_read_interrupts_per_sector_and_advances_the_address() {
    let mut rig = Rig::disk(1000);
    rig.ide
        .with_disk(Unit::Master, |d| d.write_medium(10, &pattern(1, 3)));
    rig.command28(false, 10, 3, 0x20);
    let mut got = Vec::new();
    for n in 1..=3 {
        assert_eq!(rig.edges(), n);
        assert!(rig.line_high());
        assert_eq!(rig.alt_status(), 0x58);
        assert!(rig.line_high(), "alternate status does not acknowledge");
        assert_eq!(rig.status(), 0x58);
        assert!(!rig.line_high(), "status acknowledges");
        got.extend(rig.read_block(1));
    }
    assert_eq!(got, pattern(1, 3));
    assert_eq!(rig.status(), 0x50);
    assert_eq!(rig.edges(), 3);
    assert_eq!(rig.lba_registers(false), 13);
    assert_eq!(rig.bus.read8(CMD + 2), 0);
}

#[test]
fn without_acknowledging_the_line_stays_high_and_makes_no_new_edge() {
    let mut rig = Rig::disk(100);
    rig.command28(false, 0, 2, 0x20);
    rig.read_block(2);
    assert_eq!(rig.edges(), 1);
    assert!(rig.line_high());
}

#[test]
fn pio_write_asks_for_the_first_block_without_interrupt_and_interrupts_after_each() {
    let mut rig = Rig::disk(1000);
    let data = pattern(9, 2);
    rig.command28(false, 20, 2, 0x30);
    assert_eq!(rig.alt_status(), 0x58);
    assert_eq!(rig.edges(), 0);
    rig.write_block(&data[..512]);
    assert_eq!(rig.edges(), 1);
    assert_eq!(rig.status(), 0x58);
    rig.write_block(&data[512..]);
    assert_eq!(rig.edges(), 2);
    assert_eq!(rig.status(), 0x50);
    assert_eq!(rig.bus.read16(CMD), 0, "a write's data cannot be read");
    rig.ide.with_disk(Unit::Master, |d| {
        assert_eq!(d.sector(21).to_vec(), data[512..]);
        assert_eq!(d.dirty_sectors(), [20, 21]);
        assert_eq!(d.medium_sector(20), [0; 512]);
    });
}

#[test]
fn flush_moves_the_cache_to_the_medium_and_power_loss_drops_the_rest() {
    let mut rig = Rig::disk(1000);
    rig.pio_write28(1, &pattern(1, 1));
    rig.command28(false, 0, 0, 0xE7);
    assert_eq!(rig.status(), 0x50);
    rig.pio_write28(2, &pattern(2, 1));
    rig.command48(0, 0, 0xEA);
    assert_eq!(rig.status(), 0x50);
    rig.pio_write28(3, &pattern(3, 1));
    rig.ide.power_cycle();
    rig.ide.with_disk(Unit::Master, |d| {
        assert_eq!(d.flushes(), 2);
        assert_eq!(d.sector(1).to_vec(), pattern(1, 1));
        assert_eq!(d.sector(2).to_vec(), pattern(2, 1));
        assert_eq!(d.sector(3), [0; 512], "never flushed");
    });
    assert_eq!(rig.status(), 0x50, "power-on state");
}

#[test]
fn flush_with_latency_is_busy_until_done() {
    let mut rig = Rig::new(
        IdeChannel::primary()
            .with_master(AtaDisk::new(100))
            .with_command_latency(Duration::from_micros(500)),
    );
    rig.pio_write28(1, &pattern(1, 1));
    assert_eq!(rig.alt_status(), 0xD0, "writing the block");
    rig.advance(500);
    rig.command28(false, 0, 0, 0xE7);
    assert_eq!(rig.alt_status(), 0xC0);
    rig.ide
        .with_disk(Unit::Master, |d| assert_eq!(d.dirty_sectors(), [1]));
    rig.advance(500);
    assert_eq!(rig.status(), 0x50);
    rig.ide
        .with_disk(Unit::Master, |d| assert!(d.dirty_sectors().is_empty()));
}

#[test]
fn command_latency_shows_bsy_before_each_block() {
    let mut rig = Rig::new(
        IdeChannel::primary()
            .with_master(AtaDisk::new(100))
            .with_command_latency(Duration::from_micros(50)),
    );
    rig.command28(false, 0, 2, 0x20);
    assert_eq!(rig.alt_status(), 0xD0);
    rig.advance(50);
    assert_eq!(rig.status(), 0x58);
    rig.read_block(1);
    assert_eq!(rig.alt_status(), 0xD0);
    rig.advance(50);
    assert_eq!(rig.alt_status(), 0x58);
    assert_eq!(rig.edges(), 2);
    // Writes: busy after each block.
    rig.read_block(1);
    rig.command28(false, 0, 1, 0x30);
    rig.write_block(&[1; 512]);
    assert_eq!(rig.alt_status(), 0xD0);
    rig.advance(50);
    assert_eq!(rig.status(), 0x50);
    rig.ide
        .with_disk(Unit::Master, |d| assert_eq!(d.sector(0), [1; 512]));
}

#[test]
fn read_and_write_multiple_use_blocks_and_set_multiple_checks_its_count() {
    let mut rig = Rig::disk(1000);
    let data = pattern(4, 6);
    rig.command28(false, 0, 4, 0xC6); // SET MULTIPLE 4
    assert_eq!(rig.status(), 0x50);
    rig.command28(false, 100, 6, 0xC5); // WRITE MULTIPLE
    rig.write_block(&data[..4 * 512]);
    assert_eq!((rig.status(), rig.edges()), (0x58, 2));
    rig.write_block(&data[4 * 512..]);
    assert_eq!((rig.status(), rig.edges()), (0x50, 3));
    rig.command28(false, 100, 6, 0xC4); // READ MULTIPLE
    assert_eq!(rig.status(), 0x58);
    let mut got = rig.read_block(4);
    assert_eq!(rig.status(), 0x58);
    got.extend(rig.read_block(2));
    assert_eq!(rig.status(), 0x50);
    assert_eq!(got, data);
    assert_eq!(rig.edges(), 5, "one interrupt per block");
    for bad in [3, 32, 17] {
        rig.command28(false, 0, bad, 0xC6);
        assert_eq!((rig.status(), rig.error()), (0x41, 0x04), "count {bad}");
    }
    rig.command28(false, 0, 0, 0xC6); // 0 disables
    rig.command28(false, 100, 1, 0xC4);
    assert_eq!((rig.status(), rig.error()), (0x41, 0x04));
    // A drive that needs SET MULTIPLE first.
    let mut rig = Rig::new(IdeChannel::primary().with_master(AtaDisk::new(10).with_multiple(0)));
    rig.command48(0, 1, 0x29);
    assert_eq!((rig.status(), rig.error()), (0x41, 0x04));
    rig.command28(false, 0, 16, 0xC6);
    rig.command48(0, 1, 0x29);
    assert_eq!(rig.status(), 0x58);
}

#[test]
fn lba48_past_2_pow_28_on_a_sparse_200_gib_disk() {
    let sectors = 200 * (1u64 << 30) / 512;
    let mut rig = Rig::disk(sectors);
    let lba = (1 << 28) + 5;
    let data = pattern(5, 2);
    rig.command48(lba, 2, 0x34);
    rig.write_block(&data[..512]);
    rig.status();
    rig.write_block(&data[512..]);
    assert_eq!(rig.status(), 0x50);
    assert_eq!(rig.lba_registers(true), lba + 2);
    rig.command48(lba, 2, 0x24);
    let mut got = rig.read_block(1);
    rig.status();
    got.extend(rig.read_block(1));
    assert_eq!(got, data);
    rig.ide.with_disk(Unit::Master, |d| {
        assert_eq!(d.stored_sectors(), 2);
        let last = d.commands().last().copied().unwrap();
        assert_eq!(
            (last.lba, last.count, last.lba48),
            (Some(lba), Some(2), true)
        );
    });
    // The last sector, and LBA48 count 0 = 65536 (out of range from the end).
    rig.command48(sectors - 1, 1, 0x24);
    assert_eq!(rig.status(), 0x58);
    rig.read_block(1);
    rig.command48(sectors - 1, 0, 0x24);
    assert_eq!(rig.status(), 0x58, "the first sector is in range");
    rig.read_block(1);
    assert_eq!((rig.status(), rig.error()), (0x41, 0x04));
}

#[test]
fn chs_addressing_reads_the_same_sector() {
    let mut rig = Rig::disk(100_000);
    let lba = 5_000u64; // cylinder 4, head 15, sector 23
    rig.ide
        .with_disk(Unit::Master, |d| d.write_medium(lba, &pattern(3, 1)));
    rig.select(0xA0 | 15);
    rig.bus.write8(CMD + 2, 1);
    rig.bus.write8(CMD + 3, 24);
    rig.bus.write8(CMD + 4, 4);
    rig.bus.write8(CMD + 5, 0);
    rig.bus.write8(CMD + 7, 0x20);
    assert_eq!(rig.read_block(1), pattern(3, 1));
}

#[test]
fn out_of_range_aborts_like_qemu_per_block() {
    let mut rig = Rig::disk(100);
    rig.command28(false, 100, 1, 0x20);
    assert_eq!((rig.status(), rig.error(), rig.edges()), (0x41, 0x04, 1));
    // A read crossing the end: the sectors before it come, then the abort.
    rig.command28(false, 99, 2, 0x20);
    assert_eq!(rig.status(), 0x58);
    rig.read_block(1);
    assert_eq!((rig.status(), rig.error()), (0x41, 0x04));
    // A write crossing the end takes the data of the bad block before aborting.
    rig.command28(false, 100, 1, 0x30);
    assert_eq!(rig.status(), 0x58);
    rig.write_block(&[0; 512]);
    assert_eq!((rig.status(), rig.error()), (0x41, 0x04));
    rig.command28(false, 200, 1, 0x40); // READ VERIFY
    assert_eq!((rig.status(), rig.error()), (0x41, 0x04));
}

#[test]
fn unknown_commands_abort_with_an_interrupt() {
    let mut rig = Rig::disk(100);
    for cmd in [0x00, 0x06, 0x3D, 0xA0, 0x08, 0xFF] {
        let before = rig.edges();
        rig.command28(false, 0, 1, cmd);
        assert_eq!((rig.status(), rig.error()), (0x41, 0x04), "{cmd:#x}");
        assert_eq!(rig.edges(), before + 1);
    }
}

#[test]
fn nien_suppresses_the_interrupt_and_bus_master_intr() {
    let mut rig = Rig::disk(100);
    rig.bus.write8(CTRL, 0x02);
    rig.command28(false, 0, 1, 0x20);
    assert_eq!(rig.alt_status(), 0x58);
    rig.read_block(1);
    rig.command28(false, 0, 1, 0xFF);
    assert_eq!(rig.status(), 0x41);
    assert_eq!(rig.edges(), 0);
    assert_eq!(rig.bm_status() & 0x04, 0);
    rig.bus.write8(CTRL, 0x00);
    rig.command28(false, 0, 0, 0xE7);
    assert_eq!(rig.edges(), 1);
    assert_eq!(
        rig.bm_status() & 0x04,
        0x04,
        "PIO interrupts set INTR too (QEMU)"
    );
}

#[test]
fn set_features_write_cache_and_transfer_mode() {
    let mut rig = Rig::disk(100);
    rig.bus.write8(CMD + 1, 0x82);
    rig.command28(false, 0, 0, 0xEF);
    assert_eq!(rig.status(), 0x50);
    rig.pio_write28(4, &[4; 512]);
    rig.ide.with_disk(Unit::Master, |d| {
        assert!(!d.write_cache_enabled());
        assert_eq!(d.medium_sector(4), [4; 512]);
        assert_eq!(d.identify_data()[85] & 0x20, 0);
    });
    rig.bus.write8(CMD + 1, 0x02);
    rig.command28(false, 0, 0, 0xEF);
    rig.bus.write8(CMD + 1, 0x03);
    rig.command28(false, 0, 0x42, 0xEF); // UDMA 2
    assert_eq!(rig.status(), 0x50);
    rig.ide.with_disk(Unit::Master, |d| {
        let w = d.identify_data();
        assert_eq!((w[63], w[88], w[85] & 0x20), (0x07, 0x043F, 0x20));
    });
    rig.bus.write8(CMD + 1, 0x03);
    rig.command28(false, 0, 0x30, 0xEF);
    assert_eq!(rig.status(), 0x41, "bad transfer mode");
    rig.bus.write8(CMD + 1, 0x66);
    rig.command28(false, 0, 0, 0xEF);
    assert_eq!(rig.status(), 0x50, "ignored subcommand");
    rig.bus.write8(CMD + 1, 0x10);
    rig.command28(false, 0, 0, 0xEF);
    assert_eq!(rig.status(), 0x41);
}

#[test]
fn verify_native_max_power_mode_and_no_data_commands() {
    let mut rig = Rig::disk(1 << 29);
    rig.command28(false, 1000, 8, 0x40);
    assert_eq!(rig.status(), 0x50);
    rig.command28(false, 0, 0, 0xF8);
    assert_eq!(rig.status(), 0x50);
    assert_eq!(
        rig.lba_registers(false),
        (1 << 28) - 1,
        "LBA28 view of the last sector"
    );
    rig.command48(0, 0, 0x27);
    assert_eq!(rig.lba_registers(true), (1 << 29) - 1);
    rig.command28(false, 0, 0, 0xE5);
    assert_eq!((rig.status(), rig.bus.read8(CMD + 2)), (0x50, 0xFF));
    for cmd in [0xE0, 0xE1, 0x91, 0x10] {
        rig.command28(false, 0, 0, cmd);
        assert_eq!(rig.status(), 0x50, "{cmd:#x}");
    }
    let edges = rig.edges();
    rig.command28(false, 0, 0, 0x90);
    assert_eq!(
        (rig.status(), rig.error(), rig.edges()),
        (0x50, 0x01, edges)
    );
}

// --- DMA ---

fn dma_rig() -> Rig {
    let rig = Rig::disk(1 << 16);
    rig.ide
        .with_disk(Unit::Master, |d| d.write_medium(0, &pattern(0, 256)));
    rig
}

#[test]
fn dma_read_completes_after_the_latency_with_intr_and_interrupt() {
    let mut rig = dma_rig();
    let mut buf = vec![0u8; 4 * 512];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 4 * 512)], true);
    rig.dma_command28(16, 4, true);
    assert_eq!(rig.alt_status(), 0x58);
    rig.start_dma(true);
    assert_eq!(rig.bm_status() & 0x07, 0x01, "active");
    rig.advance(99);
    assert_eq!(rig.edges(), 0);
    rig.advance(1);
    assert_eq!(rig.edges(), 1);
    assert_eq!(rig.bm_status() & 0x07, 0x04, "INTR, not active");
    rig.stop_dma();
    assert_eq!(rig.status(), 0x50);
    rig.bus.write8(BM + 2, 0x04);
    assert_eq!(rig.bm_status() & 0x07, 0);
    rig.mem.sync_for_cpu(&mut buf);
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
    assert_eq!(buf, pattern(0, 256)[16 * 512..20 * 512]);
    assert_eq!(rig.lba_registers(false), 20);
    assert_eq!(rig.ide.with(|c| c.direction_mismatches()), 0);
    assert!(rig.mem.violations().is_empty() && rig.mem.mappings().is_empty());
}

#[test]
fn dma_write_gathers_scattered_segments_and_start_may_come_first() {
    let mut rig = dma_rig();
    let data = pattern(77, 8);
    rig.mem.set_split(Some(1024));
    let segs = rig.map(&data, Direction::ToDevice);
    rig.mem.set_split(None);
    assert!(segs.len() >= 4);
    let regions: Vec<(u64, u32)> = segs.iter().map(|s| (s.addr.get(), s.len as u32)).collect();
    let table = rig.load_prds(&regions, true);
    rig.bus.write8(BM + 2, 0x06);
    rig.start_dma(false);
    rig.command28(false, 300, 8, 0xCA);
    rig.advance(100);
    assert_eq!(rig.status(), 0x50);
    rig.stop_dma();
    rig.mem.unmap(&data, Direction::ToDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
    rig.ide.with(|c| {
        assert_eq!(c.last_prd_table().len(), segs.len());
        assert!(c.last_prd_table().last().unwrap().end_of_table);
    });
    rig.ide.with_disk(Unit::Master, |d| {
        let got: Vec<u8> = (300..308).flat_map(|l| d.sector(l)).collect();
        assert_eq!(got, data);
    });
}

#[test]
fn dma_lba48_ext_commands() {
    let mut rig = Rig::disk((1 << 28) + 100);
    let data = pattern(3, 2);
    let segs = rig.map(&data, Direction::ToDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 1024)], true);
    rig.bus.write8(BM + 2, 0x06);
    rig.command48((1 << 28) + 10, 2, 0x35);
    rig.start_dma(false);
    rig.advance(100);
    assert_eq!(rig.status(), 0x50);
    rig.stop_dma();
    rig.mem.unmap(&data, Direction::ToDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
    let mut buf = vec![0u8; 1024];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 1024)], true);
    rig.bus.write8(BM, 0x08);
    rig.command48((1 << 28) + 10, 2, 0x25);
    rig.start_dma(true);
    rig.advance(100);
    rig.stop_dma();
    rig.mem.sync_for_cpu(&mut buf);
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
    assert_eq!(buf, data);
    assert_eq!(rig.lba_registers(true), (1 << 28) + 12);
}

#[test]
fn prds_shorter_than_the_transfer_clear_active_without_interrupt_or_data() {
    let mut rig = dma_rig();
    let mut buf = vec![0u8; 1024];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 512)], true);
    rig.dma_command28(0, 2, true);
    rig.start_dma(true);
    assert_eq!(rig.bm_status() & 0x07, 0, "ACTIVE cleared at once, no INTR");
    rig.advance(1000);
    assert_eq!(rig.edges(), 0);
    assert_eq!(rig.status(), 0x50);
    rig.stop_dma();
    rig.mem.sync_for_cpu(&mut buf);
    assert!(buf.iter().all(|&b| b == POISON), "nothing transferred");
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
}

#[test]
fn prds_longer_than_the_transfer_leave_active_set() {
    let mut rig = dma_rig();
    let mut buf = vec![0u8; 2048];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 2048)], true);
    rig.dma_command28(0, 2, true);
    rig.start_dma(true);
    rig.advance(100);
    assert_eq!(rig.edges(), 1);
    assert_eq!(rig.bm_status() & 0x07, 0x05, "INTR with ACTIVE still set");
    rig.stop_dma();
    assert_eq!(rig.bm_status() & 0x01, 0);
    rig.mem.sync_for_cpu(&mut buf);
    assert_eq!(buf[..1024], pattern(0, 2)[..]);
    assert!(buf[1024..].iter().all(|&b| b == POISON));
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
}

#[test]
fn missing_end_of_table_is_read_past_the_table() {
    let mut rig = dma_rig();
    rig.mem.set_panic_on_violation(false);
    let buf = vec![0u8; 1024];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 512)], false);
    rig.dma_command28(0, 2, true);
    rig.start_dma(true);
    // The entry after the table lies in the guard page after its mapping.
    assert!(matches!(
        rig.mem.violations()[..],
        [Violation::NeverMapped {
            write: false,
            len: 8,
            ..
        }]
    ));
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
}

#[test]
fn dma_without_bus_mastering_does_nothing_and_stays_active() {
    let mut rig = dma_rig();
    rig.set_pci_command(0x0103);
    let mut buf = vec![0u8; 512];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 512)], true);
    rig.dma_command28(0, 1, true);
    rig.start_dma(true);
    rig.advance(10_000);
    assert_eq!(rig.edges(), 0);
    assert_eq!(rig.bm_status() & 0x07, 0x01);
    assert_eq!(rig.alt_status(), 0x58);
    rig.stop_dma();
    assert_eq!(rig.bm_status() & 0x01, 0);
    rig.mem.sync_for_cpu(&mut buf);
    assert!(buf.iter().all(|&b| b == POISON));
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
    // The driver recovers with a soft reset.
    rig.bus.write8(CTRL, 0x04);
    rig.bus.write8(CTRL, 0x00);
    rig.advance(0);
    assert_eq!(rig.status(), 0x50);
    // With I/O space decoding off, the bus-master registers vanish.
    rig.set_pci_command(0x0000);
    assert_eq!(rig.bm_status(), 0xFF);
}

#[test]
fn stopping_the_engine_completes_the_transfer_so_unmap_is_safe() {
    let mut rig = dma_rig();
    let mut buf = vec![0u8; 512];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 512)], true);
    rig.dma_command28(3, 1, true);
    rig.start_dma(true);
    rig.advance(10);
    rig.stop_dma();
    assert_eq!(rig.edges(), 1, "QEMU completes, then stops");
    rig.mem.sync_for_cpu(&mut buf);
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
    rig.advance(1000);
    assert!(rig.mem.violations().is_empty());
    assert_eq!(buf, pattern(0, 4)[3 * 512..]);
}

#[test]
fn unmapping_before_the_device_is_done_is_caught() {
    let mut rig = dma_rig();
    rig.mem.set_panic_on_violation(false);
    let buf = vec![0u8; 512];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 512)], true);
    rig.dma_command28(0, 1, true);
    rig.start_dma(true);
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.advance(100);
    assert_eq!(
        rig.mem.violations(),
        [Violation::AfterUnmap {
            write: true,
            addr: segs[0].addr,
            len: 512
        }]
    );
    rig.mem.unmap(&table, Direction::ToDevice);
}

#[test]
#[should_panic(expected = "after the driver unmapped it")]
fn a_late_dma_write_panics_by_default() {
    let mut rig = dma_rig();
    let buf = vec![0u8; 512];
    let segs = rig.map(&buf, Direction::FromDevice);
    rig.load_prds(&[(segs[0].addr.get(), 512)], true);
    rig.dma_command28(0, 1, true);
    rig.start_dma(true);
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.advance(100);
}

#[test]
fn dma_out_of_range_aborts_clears_active_and_interrupts() {
    let mut rig = Rig::disk(10);
    let buf = vec![0u8; 1024];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 1024)], true);
    rig.dma_command28(9, 2, true);
    rig.start_dma(true);
    assert_eq!(rig.bm_status() & 0x07, 0x04);
    assert_eq!((rig.status(), rig.error(), rig.edges()), (0x41, 0x04, 1));
    rig.stop_dma();
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
}

#[test]
fn dma_direction_mismatch_is_counted_and_zero_latency_completes_at_start() {
    let mut rig = Rig::new(
        IdeChannel::primary()
            .with_master(AtaDisk::new(100))
            .with_dma_latency(Duration::ZERO),
    );
    let buf = vec![0u8; 512];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 512)], true);
    rig.dma_command28(0, 1, true);
    rig.start_dma(false); // direction bit says memory-to-device
    assert_eq!(rig.edges(), 1);
    assert_eq!(rig.ide.with(|c| c.direction_mismatches()), 1);
    rig.stop_dma();
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
}

#[test]
fn soft_reset_during_dma_completes_it_first() {
    let mut rig = dma_rig();
    let mut buf = vec![0u8; 512];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 512)], true);
    rig.dma_command28(1, 1, true);
    rig.start_dma(true);
    rig.bus.write8(CTRL, 0x04);
    rig.stop_dma();
    rig.mem.sync_for_cpu(&mut buf);
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
    rig.bus.write8(CTRL, 0x00);
    rig.advance(1000);
    assert_eq!(buf, pattern(0, 2)[512..]);
    assert_eq!(rig.status(), 0x50);
    assert!(rig.mem.violations().is_empty());
}

#[test]
fn bus_master_registers_take_bytes_only_on_command_and_status() {
    let mut rig = Rig::disk(10);
    assert_eq!(rig.bus.read16(BM + 2), 0xFFFF);
    assert_eq!(rig.bus.read32(BM), 0xFFFF_FFFF);
    rig.bus.write16(BM, 0x0001);
    assert_eq!(rig.bus.read8(BM), 0);
    rig.bus.write8(BM + 2, 0x60);
    assert_eq!(rig.bm_status(), 0x60, "drive DMA-capable bits are writable");
    rig.bus.write32(BM + 4, 0x1234_5679);
    assert_eq!(rig.bus.read32(BM + 4), 0x1234_5678);
    assert_eq!(rig.bus.read16(BM + 6), 0x1234);
}

#[test]
fn hard_reset_returns_to_power_on() {
    let mut rig = dma_rig();
    rig.command28(false, 0, 2, 0x20);
    rig.bus.write8(CTRL, 0x02);
    rig.bus.reset_devices();
    assert_eq!(rig.status(), 0x50);
    assert_eq!(
        rig.ide.with(|c| (c.device_control(), c.dma_pending())),
        (0, false)
    );
}

// --- faults ---

#[test]
fn stuck_bsy_ignores_everything_until_a_soft_reset() {
    let mut rig = Rig::disk(100);
    rig.ide.with_disk(Unit::Master, |d| d.faults.stuck_bsy = 1);
    rig.command28(false, 0, 1, 0x20);
    rig.advance(1_000_000);
    assert_eq!(rig.status(), 0xD0);
    assert_eq!(rig.edges(), 0);
    rig.bus.write8(CMD + 3, 0x42);
    rig.bus.write8(CMD + 7, 0xEC);
    assert_eq!(rig.status(), 0xD0);
    rig.bus.write8(CTRL, 0x04);
    rig.bus.write8(CTRL, 0x00);
    rig.advance(0);
    assert_eq!(rig.status(), 0x50);
    assert_eq!(rig.pio_read28(0, 1), vec![0; 512], "the next request works");
}

#[test]
fn drq_never_set() {
    let mut rig = Rig::disk(100);
    rig.ide.with_disk(Unit::Master, |d| d.faults.no_drq = 2);
    rig.command28(false, 0, 1, 0x20);
    assert_eq!(rig.status(), 0x50);
    assert_eq!(rig.bus.read16(CMD), 0);
    rig.dma_command28(0, 1, true);
    rig.start_dma(true);
    rig.advance(1000);
    assert_eq!((rig.status(), rig.edges()), (0x50, 0));
    assert_eq!(rig.bm_status() & 0x01, 0x01, "the bus master waits forever");
    rig.stop_dma();
    rig.command28(false, 0, 1, 0x20);
    assert_eq!(rig.status(), 0x58, "only the next two");
}

#[test]
fn uncorrectable_sector_in_a_pio_read_reports_its_lba() {
    let mut rig = Rig::disk(1 << 20);
    rig.ide.with_disk(Unit::Master, |d| {
        d.write_medium(10, &pattern(2, 4));
        d.faults.bad_sectors.insert(12, MediaError::Uncorrectable);
    });
    rig.command28(false, 10, 4, 0x20);
    assert_eq!(rig.status(), 0x58);
    assert_eq!(rig.read_block(1), pattern(2, 1));
    assert_eq!(rig.status(), 0x58);
    rig.read_block(1);
    assert_eq!((rig.status(), rig.error()), (0x51, 0x40));
    assert_eq!(rig.lba_registers(false), 12);
    assert_eq!(rig.edges(), 3);
    assert_eq!(rig.bus.read16(CMD), 0, "no data after the error");
}

#[test]
fn id_not_found_on_an_lba48_write_and_aborted_on_verify() {
    let lba = (1u64 << 32) + 7;
    let mut rig = Rig::disk(1 << 33);
    rig.ide.with_disk(Unit::Master, |d| {
        d.faults.bad_sectors.insert(lba + 1, MediaError::IdNotFound);
        d.faults.bad_sectors.insert(5, MediaError::Aborted);
    });
    rig.command48(lba, 2, 0x34);
    rig.write_block(&[1; 512]);
    rig.status();
    rig.write_block(&[2; 512]);
    assert_eq!((rig.status(), rig.error()), (0x51, 0x10));
    assert_eq!(rig.lba_registers(true), lba + 1);
    rig.ide.with_disk(Unit::Master, |d| {
        assert_eq!(d.sector(lba), [1; 512]);
        assert_eq!(d.sector(lba + 1), [0; 512]);
    });
    rig.command28(false, 0, 10, 0x40);
    assert_eq!((rig.status(), rig.error()), (0x51, 0x04));
    assert_eq!(rig.lba_registers(false), 5);
}

#[test]
fn media_error_in_a_dma_read_transfers_the_sectors_before_it() {
    let mut rig = dma_rig();
    rig.ide.with_disk(Unit::Master, |d| {
        d.faults.bad_sectors.insert(2, MediaError::InterfaceCrc);
    });
    let mut buf = vec![0u8; 2048];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 2048)], true);
    rig.dma_command28(0, 4, true);
    rig.start_dma(true);
    rig.advance(100);
    assert_eq!(rig.bm_status() & 0x07, 0x04);
    assert_eq!((rig.status(), rig.error()), (0x51, 0x84));
    assert_eq!(rig.lba_registers(false), 2);
    rig.stop_dma();
    rig.mem.sync_for_cpu(&mut buf);
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
    assert_eq!(buf[..1024], pattern(0, 2)[..]);
    assert!(
        buf[1024..].iter().all(|&b| b == POISON),
        "stale data stays poison"
    );
}

#[test]
fn device_fault() {
    let mut rig = Rig::disk(100);
    rig.ide
        .with_disk(Unit::Master, |d| d.faults.device_faults = 1);
    rig.command28(false, 0, 1, 0x20);
    assert_eq!((rig.status(), rig.error(), rig.edges()), (0x61, 0x04, 1));
}

#[test]
fn lost_interrupt_sets_intr_but_not_the_line() {
    let mut rig = dma_rig();
    rig.ide
        .with_disk(Unit::Master, |d| d.faults.lost_interrupts = 1);
    let buf = vec![0u8; 512];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 512)], true);
    rig.dma_command28(0, 1, true);
    rig.start_dma(true);
    rig.advance(100);
    assert_eq!(rig.edges(), 0);
    assert_eq!(rig.bm_status() & 0x07, 0x04);
    assert_eq!(rig.alt_status(), 0x50);
    rig.stop_dma();
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
    rig.command28(false, 0, 0, 0xE7);
    assert_eq!(rig.edges(), 1, "only one lost");
}

#[test]
fn spurious_interrupt_changes_nothing_but_the_line() {
    let mut rig = Rig::disk(100);
    rig.ide.spurious_interrupt();
    assert_eq!(rig.edges(), 1);
    assert!(!rig.line_high());
    assert_eq!(rig.alt_status(), 0x50);
    assert_eq!(rig.bm_status() & 0x04, 0, "not ours by the bus master");
    assert_eq!(rig.ide.with(|c| c.spurious_interrupts()), 1);
}

#[test]
fn bus_master_error() {
    let mut rig = dma_rig();
    rig.ide
        .with_disk(Unit::Master, |d| d.faults.bus_master_errors = 1);
    let mut buf = vec![0u8; 512];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 512)], true);
    rig.dma_command28(0, 1, true);
    rig.start_dma(true);
    rig.advance(100);
    assert_eq!(rig.bm_status() & 0x07, 0x06, "ERR and INTR, not active");
    assert_eq!((rig.status(), rig.error(), rig.edges()), (0x41, 0x04, 1));
    rig.bus.write8(BM + 2, 0x06);
    assert_eq!(rig.bm_status() & 0x07, 0);
    rig.stop_dma();
    rig.mem.sync_for_cpu(&mut buf);
    assert!(buf.iter().all(|&b| b == POISON));
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
}

#[test]
fn the_command_log_records_what_the_drive_decoded() {
    let mut rig = Rig::disk(1 << 30);
    rig.command28(false, 0x0123_4567, 0, 0x40);
    rig.command28(false, 0, 0, 0xE7);
    rig.ide.with_disk(Unit::Master, |d| {
        let log = d.commands();
        assert_eq!(log.len(), 2);
        assert_eq!(
            (log[0].command, log[0].lba, log[0].count, log[0].lba48),
            (0x40, Some(0x0123_4567), Some(256), false)
        );
        assert_eq!((log[1].command, log[1].lba), (0xE7, None));
    });
}

#[test]
fn both_channels_with_one_pci_function_and_a_top_half_on_each_line() {
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::sync::Arc;

    use irqkit_hal_mock::{Line, Trigger};

    let mut rig = Rig::new(
        IdeChannel::primary()
            .with_master(AtaDisk::new(100))
            .with_dma_latency(Duration::from_micros(40)),
    );
    let secondary = IdeChannel::secondary()
        .with_master(AtaDisk::new(100).with_serial("QM00003"))
        .with_pci(&rig.pci)
        .attach(&rig.bus)
        .unwrap();
    // A top half: bus-master INTR says whether it is ours; acknowledge both.
    let seen = Arc::new(AtomicU8::new(0));
    for (line, bm, cmd) in [(14u8, 0xC040u16, 0x1F0u16), (15, 0xC048, 0x170)] {
        let seen = Arc::clone(&seen);
        rig.sim
            .lines()
            .on_rise(Line(line), Trigger::Edge, move |bus| {
                let status = bus.read8(bm + 2);
                if status & 0x04 != 0 {
                    bus.write8(bm, 0);
                    let ata = bus.read8(cmd + 7);
                    bus.write8(bm + 2, 0x06);
                    seen.store(ata, Ordering::SeqCst);
                }
            });
    }
    let buf = vec![0u8; 512];
    let segs = rig.map(&buf, Direction::FromDevice);
    let table = rig.load_prds(&[(segs[0].addr.get(), 512)], true);
    rig.dma_command28(0, 1, true);
    rig.start_dma(true);
    rig.advance(39);
    assert_eq!(seen.load(Ordering::SeqCst), 0);
    rig.advance(1);
    assert_eq!(
        seen.load(Ordering::SeqCst),
        0x50,
        "the handler ran at completion"
    );
    assert!(!rig.line_high(), "and acknowledged");
    assert_eq!(rig.bm_status() & 0x07, 0);
    rig.mem.unmap(&buf, Direction::FromDevice);
    rig.mem.unmap(&table, Direction::ToDevice);
    // The secondary has its own registers and line.
    rig.bus.write8(0x176, 0xA0);
    rig.bus.write8(0x177, 0xEC);
    assert_eq!(rig.sim.lines().rising_edges(Line(15)), 1);
    assert_eq!(
        rig.bus.read8(0xC04A) & 0x04,
        0,
        "acknowledged by the handler"
    );
    assert_eq!(secondary.with(|c| c.status(Unit::Master)), 0x58);
    assert_eq!(rig.bus.read8(0xC042) & 0x04, 0);
}
