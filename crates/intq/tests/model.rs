//! Model test: random operation sequences (single items, slices, chunks, overruns) applied to
//! the queue and to a `VecDeque` bounded at `N` must give the same results.

use std::collections::VecDeque;

use irqkit_intq::{Overrun, PopError, PushError, Queue};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    TryPush,
    PushOrCount,
    TryPop,
    Peek,
    PushSlice(usize),
    PopSlice(usize),
    WriteChunk {
        reserve: usize,
        fill: usize,
    },
    /// `write_chunk_uninit(reserve).fill_from_iter(..)` from a source of `count` items.
    FillFromIter {
        reserve: usize,
        count: usize,
    },
    ReadChunk {
        max: usize,
        consume: usize,
    },
    /// Moves `take` items out through the chunk iterator, then drops or leaks the iterator.
    ReadChunkIter {
        max: usize,
        take: usize,
        leak: bool,
    },
    TakeOverruns,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::TryPush),
        2 => Just(Op::PushOrCount),
        4 => Just(Op::TryPop),
        1 => Just(Op::Peek),
        2 => (0usize..12).prop_map(Op::PushSlice),
        2 => (0usize..12).prop_map(Op::PopSlice),
        2 => (0usize..12, 0usize..12).prop_map(|(reserve, fill)| Op::WriteChunk { reserve, fill }),
        1 => (0usize..12, 0usize..12).prop_map(|(reserve, count)| Op::FillFromIter { reserve, count }),
        2 => (0usize..12, 0usize..12).prop_map(|(max, consume)| Op::ReadChunk { max, consume }),
        2 => (0usize..12, 0usize..12, any::<bool>())
            .prop_map(|(max, take, leak)| Op::ReadChunkIter { max, take, leak }),
        1 => Just(Op::TakeOverruns),
    ]
}

/// Runs `ops` on a `Queue<u32, N>` and on the model, comparing every observable result.
fn check<const N: usize>(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut queue: Queue<u32, N> = Queue::new();
    let (mut tx, mut rx) = queue.split();
    let mut model: VecDeque<u32> = VecDeque::new();
    let mut next = 0u32;
    let mut overruns = 0usize;
    let mut fresh = |count: usize| -> Vec<u32> {
        let values = (next..next + count as u32).collect();
        next += count as u32;
        values
    };

    for op in ops {
        match *op {
            Op::TryPush => {
                let value = fresh(1)[0];
                let expected = if model.len() < N {
                    model.push_back(value);
                    Ok(())
                } else {
                    Err(PushError::Full(value))
                };
                prop_assert_eq!(tx.try_push(value), expected);
            }
            Op::PushOrCount => {
                let value = fresh(1)[0];
                let expected = if model.len() < N {
                    model.push_back(value);
                    Ok(())
                } else {
                    overruns += 1;
                    Err(Overrun {
                        value,
                        total: tx.overruns_total() + 1,
                    })
                };
                prop_assert_eq!(tx.push_or_count(value), expected);
            }
            Op::TryPop => {
                prop_assert_eq!(rx.try_pop(), model.pop_front().ok_or(PopError::Empty));
            }
            Op::Peek => {
                prop_assert_eq!(
                    rx.peek().copied(),
                    model.front().copied().ok_or(PopError::Empty)
                );
            }
            Op::FillFromIter { reserve, count } => {
                let values = fresh(count);
                let fits = count.min(reserve).min(N - model.len());
                let mut source = values.iter().copied();
                prop_assert_eq!(
                    tx.write_chunk_uninit(reserve).fill_from_iter(&mut source),
                    fits
                );
                // Nothing beyond the chunk was taken from the source.
                prop_assert_eq!(source.len(), count - fits);
                model.extend(&values[..fits]);
            }
            Op::PushSlice(len) => {
                let values = fresh(len);
                let fits = len.min(N - model.len());
                model.extend(&values[..fits]);
                prop_assert_eq!(tx.push_slice(&values), fits);
            }
            Op::PopSlice(len) => {
                let mut out = vec![0; len];
                let count = rx.pop_slice(&mut out);
                let expected: Vec<u32> = model.drain(..len.min(model.len())).collect();
                prop_assert_eq!(&out[..count], &expected[..]);
            }
            Op::WriteChunk { reserve, fill } => {
                let mut chunk = tx.write_chunk_uninit(reserve);
                prop_assert_eq!(chunk.len(), reserve.min(N - model.len()));
                let (first, second) = chunk.as_mut_slices();
                prop_assert_eq!(first.len() + second.len(), reserve.min(N - model.len()));
                let count = fill.min(chunk.len());
                let values = fresh(count);
                {
                    let (first, second) = chunk.as_mut_slices();
                    for (slot, value) in first.iter_mut().chain(second.iter_mut()).zip(&values) {
                        slot.write(*value);
                    }
                }
                // SAFETY: the first `count` slots were written just above.
                let committed = unsafe { chunk.commit(count) };
                prop_assert!(committed.is_ok());
                model.extend(values);
            }
            Op::ReadChunk { max, consume } => {
                let chunk = rx.read_chunk(max);
                let len = max.min(model.len());
                prop_assert_eq!(chunk.len(), len);
                let (first, second) = chunk.as_slices();
                let seen: Vec<u32> = first.iter().chain(second).copied().collect();
                let expected: Vec<u32> = model.iter().take(len).copied().collect();
                prop_assert_eq!(seen, expected);
                let result = chunk.commit(consume);
                if consume <= len {
                    prop_assert!(result.is_ok());
                    model.drain(..consume);
                } else {
                    prop_assert!(result.is_err());
                }
            }
            Op::ReadChunkIter { max, take, leak } => {
                let mut iter = rx.read_chunk(max).into_iter();
                let taken: Vec<u32> = iter.by_ref().take(take).collect();
                if leak {
                    // Leaking the iterator must not bring the items taken back.
                    #[allow(clippy::forget_non_drop)]
                    std::mem::forget(iter);
                }
                let expected: Vec<u32> = model.drain(..take.min(max).min(model.len())).collect();
                prop_assert_eq!(taken, expected);
            }
            Op::TakeOverruns => {
                prop_assert_eq!(rx.take_overruns(), overruns);
                overruns = 0;
            }
        }
        prop_assert_eq!(rx.len(), model.len());
        prop_assert_eq!(tx.free_space(), N - model.len());
        prop_assert_eq!(rx.overruns(), overruns);
    }
    Ok(())
}

/// Miri interprets every step of proptest's machinery too: keep its runs small.
const CASES: u32 = if cfg!(miri) { 2 } else { 256 };
const MAX_OPS: usize = if cfg!(miri) { 40 } else { 200 };

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn matches_vecdeque_power_of_two(ops in prop::collection::vec(op(), 0..MAX_OPS)) {
        check::<8>(&ops)?;
    }

    #[test]
    fn matches_vecdeque_odd_capacity(ops in prop::collection::vec(op(), 0..MAX_OPS)) {
        check::<5>(&ops)?;
    }

    #[test]
    fn matches_vecdeque_capacity_one(ops in prop::collection::vec(op(), 0..MAX_OPS / 2)) {
        check::<1>(&ops)?;
    }
}

/// Items of a type with a destructor are dropped exactly once whichever path removes them.
#[test]
fn owned_items_are_dropped_exactly_once() {
    use std::rc::Rc;
    let token = Rc::new(());
    {
        let mut queue: Queue<Rc<()>, 4> = Queue::new();
        let (mut tx, mut rx) = queue.split();
        for _ in 0..3 {
            assert!(tx.try_push(token.clone()).is_ok());
        }
        drop(rx.try_pop());
        rx.read_chunk(1).commit_all();
        for _ in 0..3 {
            assert!(tx.try_push(token.clone()).is_ok());
        }
        assert_eq!(Rc::strong_count(&token), 5);
    }
    assert_eq!(Rc::strong_count(&token), 1);
}

/// The same model check over fixed pseudo-random sequences: cheap enough for Miri to run many
/// operations (proptest's own machinery is slow under the interpreter).
#[test]
fn matches_vecdeque_on_fixed_sequences() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    let length = if cfg!(miri) { 300 } else { 5_000 };
    let ops: Vec<Op> = (0..length)
        .map(|_| match next(10) {
            0 | 1 => Op::TryPush,
            2 => Op::PushOrCount,
            3 | 4 => Op::TryPop,
            5 => Op::Peek,
            6 => Op::PushSlice(next(12)),
            7 => Op::PopSlice(next(12)),
            8 if next(2) == 0 => Op::WriteChunk {
                reserve: next(12),
                fill: next(12),
            },
            8 => Op::FillFromIter {
                reserve: next(12),
                count: next(12),
            },
            _ => match next(3) {
                0 => Op::ReadChunk {
                    max: next(12),
                    consume: next(12),
                },
                1 => Op::ReadChunkIter {
                    max: next(12),
                    take: next(12),
                    leak: next(2) == 1,
                },
                _ => Op::TakeOverruns,
            },
        })
        .collect();
    check::<8>(&ops).unwrap();
    check::<5>(&ops).unwrap();
    check::<1>(&ops).unwrap();
}
