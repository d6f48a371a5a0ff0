//! Probing and resetting against a channel that finishes a soft reset late, as QEMU does (in
//! its main loop, dropping register writes until then), and absent drives that cost no
//! command timeout.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use common::*;
use irqkit_ata::{Channel, ChannelRegs, DeviceKind, Drive, Error, Options, Timeouts};
use irqkit_hal::{DelayNs, PortIo};
use irqkit_hal_mock::ata::{AtaDisk, Drive as SimDrive, IdeChannel};

/// A master disk, no slave, and a reset that QEMU finishes `latency` after SRST.
fn late_reset(latency: Duration) -> Rig {
    rig(IdeChannel::primary()
        .with_master(AtaDisk::new(4096))
        .with_reset_latency(latency))
}

/// A PIO channel with the default timeouts (10 s per command), not probed.
fn channel(rig: &Rig) -> Channel<irqkit_hal_mock::Bus, irqkit_hal_mock::Clock> {
    Channel::new(rig.sim.bus(), rig.sim.clock(), ChannelRegs::PRIMARY)
}

/// The master is a disk that answers the first command after probing.
fn master_works(rig: &Rig, ch: &mut Channel<irqkit_hal_mock::Bus, irqkit_hal_mock::Clock>) {
    assert!(
        ch.drive(M).is_some_and(|d| d.is_disk()),
        "{:?}",
        ch.drive(M)
    );
    let data = pattern(9, 512, 4);
    ch.write_pio(M, 9, &data)
        .expect("the first command after probing");
    let mut back = [0u8; 512];
    ch.read_pio(M, 9, &mut back).unwrap();
    assert_eq!(back[..], data[..]);
    assert_eq!(ch.stats().timeouts, 0, "{:?}", ch.stats());
    assert_eq!(rig.disk(|d| d.sector(9).to_vec()), data);
}

#[test]
fn probe_finds_the_master_when_the_reset_finishes_late() {
    for latency_us in [1, 2_001, 5_000, 50_000, 2_000_000] {
        let rig = late_reset(Duration::from_micros(latency_us));
        let mut ch = channel(&rig);
        assert_eq!(
            ch.probe(),
            Ok([Some(DeviceKind::Pata), None]),
            "reset latency {latency_us} us"
        );
        master_works(&rig, &mut ch);
        let identifies = rig.disk(|d| d.commands().iter().filter(|c| c.command == 0xEC).count());
        assert_eq!(identifies, 1, "reset latency {latency_us} us");
    }
}

#[test]
fn reset_waits_for_a_late_reset_so_the_next_command_is_not_lost() {
    let rig = late_reset(Duration::from_millis(20));
    let mut ch = channel(&rig);
    ch.probe().unwrap();
    for _ in 0..3 {
        ch.reset().unwrap();
        master_works(&rig, &mut ch);
    }
}

#[test]
fn probe_right_after_a_reset_someone_else_started_with_the_slave_selected() {
    let rig = late_reset(Duration::from_millis(30));
    let mut bus = rig.sim.bus();
    bus.write8(0x1F6, 0xB0);
    bus.write8(0x3F6, 0x06);
    bus.write8(0x3F6, 0x02);
    let mut ch = channel(&rig);
    assert_eq!(ch.probe(), Ok([Some(DeviceKind::Pata), None]));
    master_works(&rig, &mut ch);
}

#[test]
fn an_absent_slave_costs_no_command_timeout() {
    for latency_us in [0, 5_000] {
        let rig = late_reset(Duration::from_micros(latency_us));
        let mut ch = channel(&rig);
        assert_eq!(ch.options().timeouts.command_us, 10_000_000);
        let before = rig.sim.now();
        assert_eq!(ch.probe(), Ok([Some(DeviceKind::Pata), None]));
        let took = rig.sim.now() - before;
        assert!(
            took < Duration::from_micros(latency_us + 20_000),
            "probe took {took:?} with a reset latency of {latency_us} us"
        );
        assert!(!rig.ide.with(|c| c.dma_pending()));
    }
}

#[test]
fn atapi_slave_found_after_a_late_reset() {
    let rig = rig(IdeChannel::primary()
        .with_master(AtaDisk::new(100))
        .with_slave(SimDrive::Atapi)
        .with_reset_latency(Duration::from_millis(5)));
    let mut ch = channel(&rig);
    assert_eq!(
        ch.probe(),
        Ok([Some(DeviceKind::Pata), Some(DeviceKind::Patapi)])
    );
}

/// Registers that hold what is written, an ATAPI signature and a status that stays 0x00
/// whatever the command: positions that look like an ATAPI device after reset but take no
/// command (device 0, an ATAPI device, answering register reads for an absent device 1).
struct Echoing {
    regs: [u8; 8],
    commands: Rc<Cell<u32>>,
}

impl PortIo for Echoing {
    fn read8(&mut self, port: u16) -> u8 {
        match port {
            0x1F7 | 0x3F6 => 0x00,
            0x1F1..=0x1F6 => self.regs[usize::from(port - 0x1F0)],
            _ => 0xFF,
        }
    }
    fn write8(&mut self, port: u16, value: u8) {
        match port {
            0x1F7 => self.commands.set(self.commands.get() + 1),
            0x1F1..=0x1F6 => self.regs[usize::from(port - 0x1F0)] = value,
            _ => {}
        }
    }
    fn read16(&mut self, _: u16) -> u16 {
        0
    }
    fn write16(&mut self, _: u16, _: u16) {}
    fn read32(&mut self, _: u16) -> u32 {
        0
    }
    fn write32(&mut self, _: u16, _: u32) {}
}

struct VirtualDelay(Rc<Cell<u64>>);

impl DelayNs for VirtualDelay {
    fn delay_ns(&mut self, ns: u32) {
        self.0.set(self.0.get() + u64::from(ns));
    }
}

#[test]
fn identify_left_at_status_zero_is_no_device_after_the_identify_timeout() {
    let now = Rc::new(Cell::new(0));
    let commands = Rc::new(Cell::new(0));
    let ports = Echoing {
        regs: [0, 0, 1, 1, 0x14, 0xEB, 0xA0, 0],
        commands: commands.clone(),
    };
    let timeouts = Timeouts::default();
    let mut ch = Channel::new(ports, VirtualDelay(now.clone()), ChannelRegs::PRIMARY).with_options(
        Options {
            timeouts,
            ..Options::default()
        },
    );
    assert_eq!(ch.probe(), Ok([None, None]));
    assert_eq!(commands.get(), 2, "one IDENTIFY per position");
    let took_us = now.get() / 1_000;
    assert!(
        took_us >= 2 * u64::from(timeouts.identify_us)
            && took_us < 2 * u64::from(timeouts.identify_us) + 10_000,
        "{took_us} us"
    );
    assert!(u64::from(timeouts.identify_us) * 10 <= u64::from(timeouts.command_us));
    assert_eq!(ch.stats().timeouts, 0);
    let mut buf = [0u8; 512];
    assert_eq!(
        ch.read(Drive::Master, 0, &mut buf),
        Err(Error::NoDevice {
            drive: Drive::Master
        })
    );
}
