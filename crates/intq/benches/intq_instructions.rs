//! Benchmarks that hold on a loaded machine: instruction counts of the one-thread paths, and
//! two-thread throughput with each thread pinned to its own CPU, repeated.
//!
//! irqkit-intq beside heapless 0.9 spsc and rtrb 0.4. This binary only runs cases;
//! `cargo xtask bench intq` measures them:
//!
//! - `--list`: one line per one-thread case: `name <TAB> operation <TAB> ops per iteration`;
//! - `--run CASE ITERATIONS`: sets the case up, then runs it ITERATIONS times. xtask runs this
//!   under `valgrind --tool=callgrind` for two iteration counts and divides the difference of
//!   the instruction totals by the difference of operations, so set-up and process start cancel;
//! - `--list-threads`: the two-thread cases, `name <TAB> operation`;
//! - `--threads CASE ITEMS RUNS`: RUNS transfers of ITEMS sequence numbers from a producer
//!   thread pinned to CPU 1 to a consumer pinned to CPU 0; prints one `M items/s` per line;
//! - `--list-handshakes`: the wake-up handshake cases, `name <TAB> operation`;
//! - `--handshakes CASE COUNT`: COUNT wake-up handshakes across CPUs 0 and 1 (the consumer
//!   empties the queue and `.await`s, the producer pushes one item); prints
//!   `sleeps <TAB> lost <TAB> seconds`, where a lost wake-up is a sleep that the producer's
//!   completed push did not wake;
//! - anything else (`cargo bench` passes `--bench`): runs every case briefly as a self-check.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use irqkit_intq::WakeMode;

mod ends;
use ends::{pin_to, threads_heapless, threads_intq, threads_rtrb, Item, Rx, Tx, CAPACITY};

#[cfg(target_os = "linux")]
#[path = "../tests/membarrier/mod.rs"]
mod membarrier;

/// `WakeMode::Asymmetric` with Linux' `membarrier` as the waiter's barrier.
#[cfg(target_os = "linux")]
const ASYMMETRIC: WakeMode = WakeMode::Asymmetric(&membarrier::MEMBARRIER);

const BATCH: usize = 256;

/// `iterations` times: push one item, pop it. Never inlined, so every case runs the same loop.
#[inline(never)]
fn push_pop_loop<T: Item>(tx: &mut impl Tx<T>, rx: &mut impl Rx<T>, iterations: u64) -> u64 {
    let mut sum = 0u64;
    for seq in 0..iterations {
        let pushed = tx.push(black_box(T::from_seq(seq)));
        assert!(pushed, "queue full on a one-thread push + pop");
        sum = sum.wrapping_add(rx.pop().expect("just pushed").to_u64());
    }
    sum
}

fn push_pop_intq<T: Item>(mode: WakeMode, iterations: u64) -> u64 {
    let mut queue: irqkit_intq::Queue<T, CAPACITY> = irqkit_intq::Queue::new().with_wake_mode(mode);
    let (mut tx, mut rx) = queue.split();
    push_pop_loop(&mut tx, &mut rx, iterations)
}

fn push_pop_heapless<T: Item>(iterations: u64) -> u64 {
    let mut queue: heapless::spsc::Queue<T, CAPACITY> = heapless::spsc::Queue::new();
    let (mut tx, mut rx) = queue.split();
    push_pop_loop(&mut tx, &mut rx, iterations)
}

fn push_pop_rtrb<T: Item>(iterations: u64) -> u64 {
    let (mut tx, mut rx) = rtrb::RingBuffer::<T>::new(CAPACITY);
    push_pop_loop(&mut tx, &mut rx, iterations)
}

/// `iterations` times: push a 256-byte slice, pop it again (one thread).
#[inline(never)]
fn batch_loop(
    mut push: impl FnMut(&[u8]) -> usize,
    mut pop: impl FnMut(&mut [u8]) -> usize,
    iterations: u64,
) -> u64 {
    let input = [0x5au8; BATCH];
    let mut out = [0u8; BATCH];
    let mut sum = 0u64;
    for _ in 0..iterations {
        assert_eq!(push(black_box(&input)), BATCH);
        assert_eq!(pop(&mut out), BATCH);
        sum = sum.wrapping_add(u64::from(black_box(&out)[BATCH - 1]));
    }
    sum
}

fn batch_intq(iterations: u64) -> u64 {
    let mut queue: irqkit_intq::Queue<u8, CAPACITY> = irqkit_intq::Queue::new();
    let (mut tx, mut rx) = queue.split();
    batch_loop(|s| tx.push_slice(s), |o| rx.pop_slice(o), iterations)
}

fn batch_rtrb(iterations: u64) -> u64 {
    let (mut tx, mut rx) = rtrb::RingBuffer::<u8>::new(CAPACITY);
    batch_loop(
        |s| tx.push_partial_slice(s).0.len(),
        |o| rx.pop_partial_slice(o).0.len(),
        iterations,
    )
}

fn batch_heapless(iterations: u64) -> u64 {
    let mut queue: heapless::spsc::Queue<u8, CAPACITY> = heapless::spsc::Queue::new();
    let (mut tx, mut rx) = queue.split();
    batch_loop(
        |s| s.iter().take_while(|&&b| tx.enqueue(b).is_ok()).count(),
        |o| {
            o.iter_mut()
                .map_while(|slot| rx.dequeue().map(|b| *slot = b))
                .count()
        },
        iterations,
    )
}

/// A one-thread case: name, operation, items per iteration, and the function that runs it.
struct Case {
    name: &'static str,
    operation: &'static str,
    per_iteration: u64,
    run: fn(u64) -> u64,
}

const CASES: &[Case] = &[
    Case {
        name: "irqkit_level/u64",
        operation: "push + pop u64, one thread",
        per_iteration: 1,
        run: |n| push_pop_intq::<u64>(WakeMode::Level, n),
    },
    Case {
        name: "irqkit_single_core/u64",
        operation: "push + pop u64, one thread",
        per_iteration: 1,
        run: |n| push_pop_intq::<u64>(WakeMode::SingleCore, n),
    },
    #[cfg(target_os = "linux")]
    Case {
        name: "irqkit_asymmetric/u64",
        operation: "push + pop u64, one thread",
        per_iteration: 1,
        run: |n| push_pop_intq::<u64>(ASYMMETRIC, n),
    },
    Case {
        name: "irqkit_off/u64",
        operation: "push + pop u64, one thread",
        per_iteration: 1,
        run: |n| push_pop_intq::<u64>(WakeMode::Off, n),
    },
    Case {
        name: "heapless/u64",
        operation: "push + pop u64, one thread",
        per_iteration: 1,
        run: push_pop_heapless::<u64>,
    },
    Case {
        name: "rtrb/u64",
        operation: "push + pop u64, one thread",
        per_iteration: 1,
        run: push_pop_rtrb::<u64>,
    },
    Case {
        name: "irqkit_level/u8",
        operation: "push + pop u8, one thread",
        per_iteration: 1,
        run: |n| push_pop_intq::<u8>(WakeMode::Level, n),
    },
    Case {
        name: "irqkit_single_core/u8",
        operation: "push + pop u8, one thread",
        per_iteration: 1,
        run: |n| push_pop_intq::<u8>(WakeMode::SingleCore, n),
    },
    #[cfg(target_os = "linux")]
    Case {
        name: "irqkit_asymmetric/u8",
        operation: "push + pop u8, one thread",
        per_iteration: 1,
        run: |n| push_pop_intq::<u8>(ASYMMETRIC, n),
    },
    Case {
        name: "irqkit_off/u8",
        operation: "push + pop u8, one thread",
        per_iteration: 1,
        run: |n| push_pop_intq::<u8>(WakeMode::Off, n),
    },
    Case {
        name: "heapless/u8",
        operation: "push + pop u8, one thread",
        per_iteration: 1,
        run: push_pop_heapless::<u8>,
    },
    Case {
        name: "rtrb/u8",
        operation: "push + pop u8, one thread",
        per_iteration: 1,
        run: push_pop_rtrb::<u8>,
    },
    Case {
        name: "irqkit_level/slice",
        operation: "256-byte slice in + out, one thread (per byte)",
        per_iteration: BATCH as u64,
        run: batch_intq,
    },
    Case {
        name: "heapless/item_loop",
        operation: "256-byte slice in + out, one thread (per byte)",
        per_iteration: BATCH as u64,
        run: batch_heapless,
    },
    Case {
        name: "rtrb/slice",
        operation: "256-byte slice in + out, one thread (per byte)",
        per_iteration: BATCH as u64,
        run: batch_rtrb,
    },
];

/// Consumer work per item in the "consumer works" cases (multiply steps).
const CONSUMER_WORK: u32 = 4;

/// A two-thread case: name, operation, and the function that moves the items.
struct ThreadCase {
    name: &'static str,
    operation: &'static str,
    run: fn(u64) -> Duration,
}

/// The two-thread cases of one item type and amount of consumer work, one per queue.
macro_rules! thread_cases {
    ($ty:ty, $work:expr, $suffix:literal, $operation:expr) => {
        [
            ThreadCase {
                name: concat!("irqkit_level/", stringify!($ty), $suffix),
                operation: $operation,
                run: |n| threads_intq::<$ty, { $work }>(WakeMode::Level, n),
            },
            #[cfg(target_os = "linux")]
            ThreadCase {
                name: concat!("irqkit_asymmetric/", stringify!($ty), $suffix),
                operation: $operation,
                run: |n| threads_intq::<$ty, { $work }>(ASYMMETRIC, n),
            },
            ThreadCase {
                name: concat!("irqkit_off/", stringify!($ty), $suffix),
                operation: $operation,
                run: |n| threads_intq::<$ty, { $work }>(WakeMode::Off, n),
            },
            ThreadCase {
                name: concat!("heapless/", stringify!($ty), $suffix),
                operation: $operation,
                run: threads_heapless::<$ty, { $work }>,
            },
            ThreadCase {
                name: concat!("rtrb/", stringify!($ty), $suffix),
                operation: $operation,
                run: threads_rtrb::<$ty, { $work }>,
            },
        ]
    };
}

const THREAD_CASE_GROUPS: &[&[ThreadCase]] = &[
    &thread_cases!(u8, 0, "", "two threads, u8"),
    &thread_cases!(u64, 0, "", "two threads, u64"),
    &thread_cases!(
        u8,
        CONSUMER_WORK,
        "+work",
        "two threads, u8, consumer works per item"
    ),
    &thread_cases!(
        u64,
        CONSUMER_WORK,
        "+work",
        "two threads, u64, consumer works per item"
    ),
];

/// Every two-thread case, in listing order.
fn thread_cases() -> impl Iterator<Item = &'static ThreadCase> {
    THREAD_CASE_GROUPS.iter().flat_map(|group| group.iter())
}

/// The consumer's waker in the handshake runs: raises a flag the consumer spins on.
struct FlagWaker(AtomicBool);

impl Wake for FlagWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::Release);
    }
}

/// What `count` wake-up handshakes across two CPUs observed.
struct Handshakes {
    /// Times the consumer's `pop().await` returned `Pending` (it parked its waker).
    sleeps: u64,
    /// Sleeps that nobody woke although the producer's push had returned: wake-ups lost.
    lost: u64,
    elapsed: Duration,
}

/// `count` rounds of: the consumer (CPU 0) finds the queue empty and `.await`s; the producer
/// (CPU 1), after a varying short delay, pushes one item. The push's notification must wake
/// the parked consumer; since the producer records when its push (notification included) has
/// returned, a sleep not woken by then is a lost wake-up, counted without any timeout. The
/// consumer then polls again and carries on, so one loss does not end the run.
fn handshakes(mode: WakeMode, count: u64) -> Handshakes {
    let mut queue: irqkit_intq::Queue<u64, 16> = irqkit_intq::Queue::new().with_wake_mode(mode);
    let (mut tx, mut rx) = queue.split();
    let consumed = AtomicU64::new(0);
    let pushed = AtomicU64::new(0);
    let (consumed, pushed) = (&consumed, &pushed);
    thread::scope(|s| {
        s.spawn(move || {
            pin_to(1);
            let mut jitter = 0x2545_f491_4f6c_dd1du64;
            for seq in 0..count {
                while consumed.load(Ordering::Acquire) < seq {
                    std::hint::spin_loop();
                }
                // Vary where the push lands in the consumer's path to sleep.
                jitter ^= jitter << 13;
                jitter ^= jitter >> 7;
                jitter ^= jitter << 17;
                for _ in 0..jitter % 96 {
                    black_box(());
                }
                assert!(tx.try_push(seq).is_ok(), "queue full in a handshake");
                pushed.store(seq + 1, Ordering::Release);
            }
        });
        pin_to(0);
        let flag = Arc::new(FlagWaker(AtomicBool::new(false)));
        let waker = Waker::from(flag.clone());
        let mut cx = Context::from_waker(&waker);
        let (mut sleeps, mut lost) = (0, 0);
        let begin = Instant::now();
        for seq in 0..count {
            let mut pop = pin!(rx.pop());
            let value = loop {
                if let Poll::Ready(value) = pop.as_mut().poll(&mut cx) {
                    break value;
                }
                sleeps += 1;
                loop {
                    if flag.0.swap(false, Ordering::Acquire) {
                        break;
                    }
                    if pushed.load(Ordering::Acquire) > seq {
                        // The push and its notification have returned: woken by now, or never.
                        if !flag.0.swap(false, Ordering::Acquire) {
                            lost += 1;
                        }
                        break;
                    }
                    std::hint::spin_loop();
                }
            };
            assert_eq!(value, seq, "items lost or reordered");
            consumed.store(seq + 1, Ordering::Release);
        }
        Handshakes {
            sleeps,
            lost,
            elapsed: begin.elapsed(),
        }
    })
}

/// A handshake case: name and wake mode.
struct HandshakeCase {
    name: &'static str,
    mode: fn() -> WakeMode,
}

const HANDSHAKE_CASES: &[HandshakeCase] = &[
    HandshakeCase {
        name: "irqkit_level",
        mode: || WakeMode::Level,
    },
    #[cfg(target_os = "linux")]
    HandshakeCase {
        name: "irqkit_asymmetric",
        mode: || ASYMMETRIC,
    },
    // Run across two CPUs on purpose: the handshake with the fence reduced to a compiler
    // fence, which is what `Level` would be without its fence.
    HandshakeCase {
        name: "irqkit_single_core_across_cpus",
        mode: || WakeMode::SingleCore,
    },
];

fn number(text: Option<&String>, what: &str) -> u64 {
    text.and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("expected a number for {what}"))
}

/// The case called `name` in `cases`.
fn named<'c, C>(
    cases: &'c [C],
    name: Option<&String>,
    name_of: fn(&C) -> &str,
    usage: &str,
) -> &'c C {
    let name = name.unwrap_or_else(|| panic!("usage: {usage}"));
    cases
        .iter()
        .find(|c| name_of(c) == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

fn main() {
    #[cfg(target_os = "linux")]
    membarrier::Membarrier::register();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--list-handshakes") => {
            for case in HANDSHAKE_CASES {
                println!("{}\twake-up handshakes across two CPUs", case.name);
            }
        }
        Some("--handshakes") => {
            let case = named(
                HANDSHAKE_CASES,
                args.get(1),
                |c| c.name,
                "--handshakes CASE COUNT",
            );
            let result = handshakes((case.mode)(), number(args.get(2), "COUNT"));
            println!(
                "{}\t{}\t{:.3}",
                result.sleeps,
                result.lost,
                result.elapsed.as_secs_f64()
            );
        }
        Some("--list") => {
            for case in CASES {
                println!("{}\t{}\t{}", case.name, case.operation, case.per_iteration);
            }
        }
        Some("--run") => {
            let case = named(CASES, args.get(1), |c| c.name, "--run CASE ITERATIONS");
            black_box((case.run)(number(args.get(2), "ITERATIONS")));
        }
        Some("--list-threads") => {
            for case in thread_cases() {
                println!("{}\t{}", case.name, case.operation);
            }
        }
        Some("--threads") => {
            let cases: Vec<&ThreadCase> = thread_cases().collect();
            let case = named(&cases, args.get(1), |c| c.name, "--threads CASE ITEMS RUNS");
            let items = number(args.get(2), "ITEMS");
            for _ in 0..number(args.get(3), "RUNS") {
                let elapsed = (case.run)(items);
                println!("{:.2}", items as f64 / elapsed.as_secs_f64() / 1e6);
            }
        }
        _ => {
            for case in CASES {
                black_box((case.run)(10_000));
            }
            for case in thread_cases() {
                black_box((case.run)(10_000));
            }
            for case in HANDSHAKE_CASES {
                black_box(handshakes((case.mode)(), 1_000).sleeps);
            }
            println!(
                "irqkit-intq instruction-count cases ran; measure them with `cargo xtask bench intq`"
            );
        }
    }
}
