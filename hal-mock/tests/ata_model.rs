//! Property test: random reads, writes (PIO and DMA), flushes, cache switches and power losses
//! against a model disk, checked against a reference: every flushed write survives a power
//! loss, and no read returns data that was never written.

mod common;

use std::collections::BTreeMap;

use common::ata::{Rig, BM};
use irqkit_hal::dma::{Direction, DmaMap};
use irqkit_hal::PortIo;
use irqkit_hal_mock::ata::Unit;
use proptest::prelude::*;

const SECTORS: u64 = 64;

#[derive(Debug, Clone)]
enum Op {
    Write {
        lba: u64,
        count: u8,
        seed: u8,
        dma: bool,
    },
    Read {
        lba: u64,
        count: u8,
        dma: bool,
    },
    Flush,
    WriteCache(bool),
    PowerLoss,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..SECTORS - 4, 1..=4u8, any::<u8>(), any::<bool>())
            .prop_map(|(lba, count, seed, dma)| Op::Write { lba, count, seed, dma }),
        4 => (0..SECTORS - 4, 1..=4u8, any::<bool>())
            .prop_map(|(lba, count, dma)| Op::Read { lba, count, dma }),
        2 => Just(Op::Flush),
        1 => any::<bool>().prop_map(Op::WriteCache),
        2 => Just(Op::PowerLoss),
    ]
}

/// What the disk must hold: the medium, and the writes since the last flush.
#[derive(Debug, Default)]
struct Reference {
    durable: BTreeMap<u64, Vec<u8>>,
    volatile: BTreeMap<u64, Vec<u8>>,
    cache: bool,
}

impl Reference {
    fn sector(&self, lba: u64) -> Vec<u8> {
        self.volatile
            .get(&lba)
            .or_else(|| self.durable.get(&lba))
            .cloned()
            .unwrap_or_else(|| vec![0; 512])
    }
    fn flush(&mut self) {
        let v = std::mem::take(&mut self.volatile);
        self.durable.extend(v);
    }
}

fn data(seed: u8, lba: u64, count: u8) -> Vec<u8> {
    (0..usize::from(count) * 512)
        .map(|i| seed ^ (lba as u8).wrapping_add((i / 512) as u8) ^ (i as u8).rotate_left(3))
        .collect()
}

fn dma(rig: &mut Rig, lba: u64, buf: &mut [u8], write: bool) {
    let dir = if write {
        Direction::ToDevice
    } else {
        Direction::FromDevice
    };
    let segs = rig.map(buf, dir);
    let table = rig.load_prds(&[(segs[0].addr.get(), buf.len() as u32)], true);
    let count = (buf.len() / 512) as u8;
    rig.dma_command28(lba, count, !write);
    rig.start_dma(!write);
    rig.advance(100);
    assert_eq!(rig.bm_status() & 0x07, 0x04);
    rig.stop_dma();
    rig.bus.write8(BM + 2, 0x04);
    assert_eq!(rig.status(), 0x50);
    if !write {
        rig.mem.sync_for_cpu(buf);
    }
    rig.mem.unmap(buf, dir);
    rig.mem.unmap(&table, Direction::ToDevice);
}

fn run(ops: &[Op]) {
    let mut rig = Rig::disk(SECTORS);
    let mut reference = Reference {
        cache: true,
        ..Reference::default()
    };
    for op in ops {
        match *op {
            Op::Write {
                lba,
                count,
                seed,
                dma: by_dma,
            } => {
                let mut bytes = data(seed, lba, count);
                if by_dma {
                    dma(&mut rig, lba, &mut bytes, true);
                } else {
                    rig.pio_write28(lba, &bytes);
                    assert_eq!(rig.status(), 0x50);
                }
                for (i, sector) in bytes.chunks(512).enumerate() {
                    let at = lba + i as u64;
                    if reference.cache {
                        reference.volatile.insert(at, sector.to_vec());
                    } else {
                        reference.volatile.remove(&at);
                        reference.durable.insert(at, sector.to_vec());
                    }
                }
            }
            Op::Read {
                lba,
                count,
                dma: by_dma,
            } => {
                let got = if by_dma {
                    let mut buf = vec![0u8; usize::from(count) * 512];
                    dma(&mut rig, lba, &mut buf, false);
                    buf
                } else {
                    rig.pio_read28(lba, count)
                };
                let expected: Vec<u8> = (lba..lba + u64::from(count))
                    .flat_map(|l| reference.sector(l))
                    .collect();
                assert_eq!(got, expected, "read of {count} at {lba}");
            }
            Op::Flush => {
                rig.command28(false, 0, 0, 0xE7);
                assert_eq!(rig.status(), 0x50);
                reference.flush();
            }
            Op::WriteCache(on) => {
                rig.bus.write8(0x1F1, if on { 0x02 } else { 0x82 });
                rig.command28(false, 0, 0, 0xEF);
                assert_eq!(rig.status(), 0x50);
                if !on {
                    reference.flush();
                }
                reference.cache = on;
            }
            Op::PowerLoss => {
                rig.ide.power_cycle();
                reference.volatile.clear();
                reference.cache = true;
                let cache = rig.ide.with_disk(Unit::Master, |d| d.write_cache_enabled());
                assert!(cache, "power-on state enables the cache");
            }
        }
        rig.ide.with_disk(Unit::Master, |d| {
            for (&lba, sector) in &reference.durable {
                if !reference.volatile.contains_key(&lba) {
                    assert_eq!(d.medium_sector(lba).to_vec(), *sector, "medium at {lba}");
                }
            }
        });
    }
    assert!(rig.mem.violations().is_empty());
    assert!(rig.mem.mappings().is_empty());
}

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::with_cases(if cfg!(miri) { 2 } else { 128 });
    if cfg!(miri) {
        config.failure_persistence = None;
    }
    config
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn flushed_writes_survive_and_reads_return_only_written_data(
        ops in proptest::collection::vec(op(), 1..40)
    ) {
        run(&ops);
    }
}
