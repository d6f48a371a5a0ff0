//! The register sequences the driver writes, read back from the bus log: the order the ATA
//! and bus-master specifications (and libata) require.

mod common;

use common::*;
use irqkit_hal_mock::Access;

/// The writes since the log was cleared, as (port, value).
fn writes(rig: &Rig) -> Vec<(u16, u32)> {
    rig.sim
        .bus()
        .log()
        .into_iter()
        .filter_map(|e| match e.access {
            Access::Write { port, value, .. } => Some((port, value)),
            _ => None,
        })
        .collect()
}

#[test]
fn lba48_dma_read_start_sequence() {
    let rig = one_disk(1 << 29);
    let (mut ch, _irq) = rig.dma_irq();
    let lba: u64 = 0x0000_1234_5678;
    let buf = leak_buf(2 * 512);
    rig.sim.bus().clear_log();
    ch.read_dma(M, lba, buf).unwrap();
    let w = writes(&rig);
    let expected_prefix = [
        (0x1F6, 0x40),  // select: LBA48 device register
        (0x3F6, 0x00),  // device control: interrupts on (nIEN clear), no SRST
        (0x1F1, 0x00),  // features 15:8
        (0x1F2, 0x00),  // count 15:8 (high-order bytes first)
        (0x1F3, 0x12),  // LBA 31:24
        (0x1F4, 0x00),  // LBA 39:32
        (0x1F5, 0x00),  // LBA 47:40
        (0x1F1, 0x00),  // features 7:0
        (0x1F2, 0x02),  // count 7:0
        (0x1F3, 0x78),  // LBA 7:0
        (0x1F4, 0x56),  // LBA 15:8
        (0x1F5, 0x34),  // LBA 23:16
        (0x1F6, 0x40),  // device
        (0xC040, 0x08), // bus master: direction = read, start clear
    ];
    assert_eq!(&w[..expected_prefix.len()], &expected_prefix[..], "{w:x?}");
    let rest = &w[expected_prefix.len()..];
    // PRD address (32-bit), status cleared (write 1 to clear), command, then start.
    assert_eq!(rest[0].0, 0xC044);
    assert_eq!(rest[1].0, 0xC042);
    assert_eq!(rest[1].1 & 0x06, 0x06);
    assert_eq!(rest[2], (0x1F7, 0x25), "READ DMA EXT");
    assert_eq!(rest[3], (0xC040, 0x09), "start, direction read");
    // Then the top half: stop the engine, clear INTR; the driver never read-modify-writes
    // device control (only whole values 0x00 / 0x02 / SRST pulses are written).
    assert_eq!(rest[4], (0xC040, 0x00));
    assert!(w
        .iter()
        .filter(|(p, _)| *p == 0x3F6)
        .all(|(_, v)| [0x00, 0x02, 0x06].contains(v)));
}

#[test]
fn lba28_pio_write_uses_device_bits_and_masks_interrupts() {
    let rig = one_disk(1 << 28);
    let mut ch = rig.pio();
    rig.sim.bus().clear_log();
    let lba = 0x0ABC_DEF0;
    ch.write_pio(M, lba, &vec![0x11u8; 512]).unwrap();
    let w = writes(&rig);
    let expected = [
        (0x1F6, 0xEA), // LBA | master | LBA bits 27:24 = 0xA
        (0x3F6, 0x02), // nIEN: polled
        (0x1F1, 0x00),
        (0x1F2, 0x01),
        (0x1F3, 0xF0),
        (0x1F4, 0xDE),
        (0x1F5, 0xBC),
        (0x1F6, 0xEA),
        (0x1F7, 0xC5), // WRITE MULTIPLE (after SET MULTIPLE at probe)
    ];
    assert_eq!(&w[..expected.len()], &expected[..], "{w:x?}");
    let log = rig.sim.bus().log();
    // The data went out as one string transfer of 256 words.
    assert!(log.iter().any(|e| matches!(
        &e.access,
        Access::WriteString { port: 0x1F0, values, .. } if values.len() == 256
    )));
}
