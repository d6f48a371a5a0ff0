//! Random read / write / flush / power-loss sequences against a model of a disk with a
//! volatile write cache: every flushed write survives, and no read returns data that was
//! never written (or was lost).

mod common;

use std::collections::HashMap;

use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Step {
    Write {
        lba: u64,
        n: usize,
        salt: u8,
        dma: bool,
    },
    Read {
        lba: u64,
        n: usize,
        dma: bool,
    },
    Flush,
    PowerLoss,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u64..60, 1usize..5, any::<u8>(), any::<bool>())
            .prop_map(|(lba, n, salt, dma)| Step::Write { lba, n, salt, dma }),
        4 => (0u64..60, 1usize..5, any::<bool>()).prop_map(|(lba, n, dma)| Step::Read { lba, n, dma }),
        1 => Just(Step::Flush),
        1 => Just(Step::PowerLoss),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn flushed_writes_survive_and_reads_are_never_invented(steps in proptest::collection::vec(step(), 1..40)) {
        let rig = one_disk(64);
        let mut ch = rig.dma();
        let mut durable: HashMap<u64, Vec<u8>> = HashMap::new();
        let mut cached: HashMap<u64, Vec<u8>> = HashMap::new();
        for s in steps {
            match s {
                Step::Write { lba, n, salt, dma } => {
                    let data = pattern(lba, n * 512, salt);
                    let r = if dma { ch.write_dma(M, lba, &data) } else { ch.write_pio(M, lba, &data) };
                    prop_assert_eq!(r, Ok(()));
                    for (i, chunk) in data.chunks(512).enumerate() {
                        cached.insert(lba + i as u64, chunk.to_vec());
                    }
                }
                Step::Read { lba, n, dma } => {
                    let mut buf = vec![0xEEu8; n * 512];
                    let r = if dma { ch.read_dma(M, lba, &mut buf) } else { ch.read_pio(M, lba, &mut buf) };
                    prop_assert_eq!(r, Ok(()));
                    for (i, chunk) in buf.chunks(512).enumerate() {
                        let l = lba + i as u64;
                        let want = cached.get(&l).or(durable.get(&l)).cloned().unwrap_or(vec![0; 512]);
                        prop_assert_eq!(chunk, &want[..], "sector {}", l);
                    }
                }
                Step::Flush => {
                    prop_assert_eq!(ch.flush(M), Ok(()));
                    durable.extend(cached.drain());
                }
                Step::PowerLoss => {
                    rig.disk(|d| d.power_loss());
                    cached.clear();
                }
            }
        }
        prop_assert!(rig.mem.mappings().is_empty());
        prop_assert!(rig.mem.violations().is_empty());
    }
}
