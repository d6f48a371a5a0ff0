//! Every path against the QEMU-like disk model: probe, PIO, DMA (polled and by interrupt),
//! scatter/gather, LBA48, flush.

mod common;

use common::*;
use irqkit_ata::{ChannelRegs, DeviceKind, Drive, Error, Unsupported};
use irqkit_hal_mock::ata::{AtaDisk, Drive as SimDrive, IdeChannel};

#[test]
fn probe_finds_the_disk_and_no_slave() {
    let rig = one_disk(1 << 20);
    let ch = rig.pio();
    let info = ch.drive(Drive::Master).expect("master");
    assert_eq!(info.kind(), DeviceKind::Pata);
    assert!(info.is_disk());
    assert_eq!(info.identify().model().as_str(), "QEMU HARDDISK");
    assert_eq!(info.identify().serial().as_str(), "QM00001");
    assert_eq!(info.sectors(), 1 << 20);
    assert_eq!(info.sector_size(), 512);
    assert_eq!(info.multiple(), 16);
    assert!(ch.drive(Drive::Slave).is_none());
}

#[test]
fn absent_slave_is_no_device() {
    let rig = one_disk(1000);
    let mut ch = rig.pio();
    let mut buf = [0u8; 512];
    assert_eq!(
        ch.read_pio(Drive::Slave, 0, &mut buf),
        Err(Error::NoDevice {
            drive: Drive::Slave
        })
    );
}

#[test]
fn empty_secondary_channel_and_floating_bus_find_nothing() {
    for channel in [
        IdeChannel::secondary(),
        IdeChannel::secondary().with_floating_bus(true),
    ] {
        let rig = rig(channel);
        let mut ch =
            irqkit_ata::Channel::new(rig.sim.bus(), rig.sim.clock(), ChannelRegs::SECONDARY);
        let before = rig.sim.now();
        assert_eq!(ch.probe(), Ok([None, None]));
        // No reset waits on an empty channel.
        assert!(rig.sim.now().as_micros() - before.as_micros() < 1000);
        let mut buf = [0u8; 512];
        assert_eq!(
            ch.read(Drive::Master, 0, &mut buf),
            Err(Error::NoDevice {
                drive: Drive::Master
            })
        );
    }
}

#[test]
fn atapi_is_reported_never_used_as_a_disk() {
    let rig = rig(IdeChannel::primary()
        .with_master(AtaDisk::new(100))
        .with_slave(SimDrive::Atapi));
    let mut ch = rig.pio();
    assert_eq!(
        ch.drive(Drive::Slave).map(|d| d.kind()),
        Some(DeviceKind::Patapi)
    );
    assert!(!ch.drive(Drive::Slave).unwrap().is_disk());
    let mut buf = [0u8; 512];
    let before = rig.accesses();
    assert_eq!(
        ch.read(Drive::Slave, 0, &mut buf),
        Err(Error::Unsupported(Unsupported::NotADisk(
            DeviceKind::Patapi
        )))
    );
    assert_eq!(rig.accesses(), before, "refused before touching a register");
}

#[test]
fn pio_round_trip_with_multiple_and_single_sectors() {
    let rig = one_disk(4096);
    for (string_io, multiple) in [(true, true), (false, true), (true, false)] {
        let mut ch = rig.pio();
        ch.options_mut().string_io = string_io;
        if !multiple {
            ch.options_mut().read_multiple = false;
            ch.probe().unwrap();
            assert_eq!(ch.drive(M).unwrap().multiple(), 0);
        }
        // 37 sectors: two full MULTIPLE blocks and a partial one.
        let data = pattern(100, 37 * 512, string_io as u8);
        ch.write_pio(M, 100, &data).unwrap();
        let mut back = vec![0u8; data.len()];
        ch.read_pio(M, 100, &mut back).unwrap();
        assert_eq!(back, data);
        let cmds: Vec<u8> = rig.disk(|d| d.commands().iter().map(|c| c.command).collect());
        let (r, w) = if multiple { (0xC4, 0xC5) } else { (0x20, 0x30) };
        assert!(cmds.ends_with(&[w, r]), "{cmds:x?}");
    }
}

#[test]
fn dma_round_trip_polled_and_by_interrupt() {
    let rig = one_disk(1 << 16);
    let mut ch = rig.dma();
    let data = pattern(7, 300 * 512, 1); // split into 256 + 44
    ch.write_dma(M, 7, &data).unwrap();
    let mut back = vec![0u8; data.len()];
    ch.read_dma(M, 7, &mut back).unwrap();
    assert_eq!(back, data);

    let (mut ch, irq) = rig.dma_irq();
    let data = pattern(1000, 64 * 512, 2);
    ch.write(M, 1000, &data).unwrap();
    let mut back = vec![0u8; data.len()];
    ch.read(M, 1000, &mut back).unwrap();
    assert_eq!(back, data);
    assert_eq!(irq.completed(), 2);
    assert_eq!(ch.stats().lost_interrupts, 0);
    let cmds: Vec<(u8, Option<u32>)> =
        rig.disk(|d| d.commands().iter().map(|c| (c.command, c.count)).collect());
    assert!(
        cmds.ends_with(&[(0xCA, Some(64)), (0xC8, Some(64))]),
        "{cmds:x?}"
    );
    assert!(rig.mem.mappings().is_empty(), "everything unmapped");
}

#[test]
fn lba48_is_chosen_by_the_range_not_the_start() {
    let rig = one_disk(1 << 29);
    let mut ch = rig.dma();
    let lba = (1 << 28) - 4;
    let data = pattern(lba, 8 * 512, 3);
    ch.write(M, lba, &data).unwrap();
    let mut back = vec![0u8; data.len()];
    ch.read(M, lba, &mut back).unwrap();
    assert_eq!(back, data);
    ch.read_pio(M, lba - 4, &mut back[..4 * 512]).unwrap();
    let cmds: Vec<(u8, Option<u64>, bool)> = rig.disk(|d| {
        d.commands()
            .iter()
            .map(|c| (c.command, c.lba, c.lba48))
            .collect()
    });
    assert!(
        cmds.ends_with(&[
            (0x35, Some(lba), true),
            (0x25, Some(lba), true),
            (0xC4, Some(lba - 4), false)
        ]),
        "{cmds:x?}"
    );
    // Past 2^28: LBA48 PIO too.
    let far = (1 << 29) - 3;
    let data = pattern(far, 3 * 512, 4);
    ch.write_pio(M, far, &data).unwrap();
    let mut back = vec![0u8; data.len()];
    ch.read_pio(M, far, &mut back).unwrap();
    assert_eq!(back, data);
}

#[test]
fn scatter_gather_one_command_over_split_buffers() {
    let rig = one_disk(1 << 16);
    let mut ch = rig.dma();
    rig.mem.set_split(Some(4096)); // every page a separate segment
    let data = pattern(50, 40 * 512, 5);
    let (a, rest) = data.split_at(3 * 512);
    let (b, c) = rest.split_at(20 * 512);
    ch.writev_dma(M, 50, &[a, b, c]).unwrap();
    let mut x = vec![0u8; 512];
    let mut y = vec![0u8; 30 * 512];
    let mut z = vec![0u8; 9 * 512];
    ch.readv_dma(M, 50, &mut [&mut x, &mut y, &mut z]).unwrap();
    assert_eq!([x, y, z].concat(), data);
    let cmds: Vec<u8> = rig.disk(|d| d.commands().iter().map(|c| c.command).collect());
    assert!(cmds.ends_with(&[0xCA, 0xC8]), "one command each: {cmds:x?}");
    assert!(rig.mem.mappings().is_empty());
}

#[test]
fn flush_makes_writes_survive_power_loss() {
    let rig = one_disk(1000);
    let mut ch = rig.dma();
    let kept = pattern(10, 512, 6);
    ch.write(M, 10, &kept).unwrap();
    ch.flush(M).unwrap();
    let lost = pattern(11, 512, 7);
    ch.write(M, 11, &lost).unwrap();
    rig.disk(|d| d.power_loss());
    let mut back = vec![0u8; 1024];
    ch.read(M, 10, &mut back).unwrap();
    assert_eq!(&back[..512], &kept[..]);
    assert_eq!(&back[512..], &[0u8; 512][..], "unflushed write dropped");
    assert_eq!(rig.disk(|d| d.flushes()), 1);
    let cmds: Vec<u8> = rig.disk(|d| d.commands().iter().map(|c| c.command).collect());
    assert!(cmds.ends_with(&[0xCA, 0xEA, 0xCA, 0xC8]), "{cmds:x?}");
}

#[test]
fn flush_by_interrupt_uses_flush_ext_on_lba48_disks() {
    let rig = one_disk(1000);
    let (mut ch, irq) = rig.dma_irq();
    ch.write(M, 1, &vec![9u8; 512]).unwrap();
    let before = irq.completed();
    ch.flush(M).unwrap();
    assert_eq!(irq.completed(), before + 1);
    let last = rig.disk(|d| d.commands().last().map(|c| c.command));
    assert_eq!(last, Some(0xEA));
    assert_eq!(rig.disk(|d| d.dirty_sectors()), Vec::<u64>::new());
}

#[test]
fn channel_from_the_pci_ide_helper_and_bus_mastering() {
    use irqkit_hal::pci::{ConfigSpace, IdeController, PciConfig};
    use irqkit_hal_mock::pci::{PciConfigSpace, PciFunction};

    let function = PciFunction::piix3_ide();
    let rig = rig(IdeChannel::primary()
        .with_master(AtaDisk::new(1000))
        .with_pci(&function));
    PciConfigSpace::qemu_pc(&function)
        .attach(&rig.sim.bus())
        .unwrap();
    let mut cfg = PciConfig::new(rig.sim.bus());
    let ide = IdeController::find(&mut cfg).unwrap();
    let regs = ChannelRegs::from(ide.primary);
    assert_eq!(
        (regs.command, regs.control, regs.bus_master),
        (0x1F0, 0x3F6, Some(0xC040))
    );
    let mut ch = irqkit_ata::Channel::new(rig.sim.bus(), rig.sim.clock(), regs)
        .with_options(irqkit_ata::Options {
            timeouts: short_timeouts(),
            ..Default::default()
        })
        .with_dma(rig.mem.clone(), leak_prd())
        .unwrap();
    ch.probe().unwrap();
    let data = pattern(3, 512, 8);
    rig.disk(|d| d.write_medium(3, &data));
    // Bus mastering off (as firmware leaves it): no data moves; a typed timeout, not a hang
    // and not stale data.
    let mut buf = vec![0xEEu8; 512];
    assert!(matches!(
        ch.read_dma(M, 3, &mut buf),
        Err(Error::Timeout { .. })
    ));
    assert!(buf.iter().all(|&b| b == 0xEE));
    cfg.enable_bus_mastering(ide.function.address).unwrap();
    assert!(function.bus_master_enabled());
    ch.read_dma(M, 3, &mut buf).unwrap();
    assert_eq!(buf, data);
}

#[test]
fn read_and_write_take_buffers_dma_cannot_use() {
    let rig = one_disk(100);
    let mut ch = rig.dma();
    let data = pattern(4, 1024, 9);
    rig.mem.set_misalign(1); // every buffer lands at an odd bus address
    assert!(matches!(
        ch.write_dma(M, 4, &data),
        Err(Error::Misaligned { align: 2, .. })
    ));
    ch.write(M, 4, &data).unwrap(); // by PIO
    let mut back = vec![0u8; 1024];
    ch.read(M, 4, &mut back).unwrap();
    assert_eq!(back, data);
    let cmds: Vec<u8> = rig.disk(|d| d.commands().iter().map(|c| c.command).collect());
    assert!(cmds.ends_with(&[0xC5, 0xC4]), "{cmds:x?}");
    rig.mem.set_misalign(0);
    ch.read(M, 4, &mut back).unwrap();
    let last = rig.disk(|d| d.commands().last().map(|c| c.command));
    assert_eq!(last, Some(0xC8), "DMA again once the buffer is usable");
}

#[test]
fn level_triggered_line_is_acknowledged_no_storm() {
    let rig = one_disk(1000);
    let (mut ch, irq) = rig.dma_irq_with(irqkit_hal_mock::Trigger::Level);
    for i in 0..4u64 {
        let data = pattern(i * 8, 8 * 512, 10);
        ch.write(M, i * 8, &data).unwrap();
        let mut back = vec![0u8; data.len()];
        ch.read(M, i * 8, &mut back).unwrap();
        assert_eq!(back, data);
    }
    ch.flush(M).unwrap();
    assert_eq!(irq.completed(), 9);
    // Each completion ran the handler once: the status read dropped the line.
    assert_eq!(rig.sim.lines().handler_runs(irqkit_hal_mock::Line(14)), 9);
    assert!(!rig.sim.lines().level(irqkit_hal_mock::Line(14)));
}
