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
//! - anything else (`cargo bench` passes `--bench`): runs every case briefly as a self-check.

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use irqkit_intq::WakeMode;

mod ends;
use ends::{Rx, Tx};

const CAPACITY: usize = 1024;
const BATCH: usize = 256;

/// Item types for the generic cases.
trait Item: Copy + Send + 'static {
    fn from_seq(seq: u64) -> Self;
    fn to_u64(self) -> u64;
}

impl Item for u8 {
    fn from_seq(seq: u64) -> Self {
        seq as u8
    }
    fn to_u64(self) -> u64 {
        u64::from(self)
    }
}

impl Item for u64 {
    fn from_seq(seq: u64) -> Self {
        seq
    }
    fn to_u64(self) -> u64 {
        self
    }
}

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

/// Pins the calling thread to `cpu` (Linux); elsewhere, or if the CPU does not exist, does
/// nothing and says so once.
fn pin_to(cpu: usize) -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: `cpu_set_t` is plain data for which all-zero is the empty set; CPU_SET writes
        // inside it (it checks `cpu` against the set size), and sched_setaffinity reads
        // `size_of::<cpu_set_t>()` bytes of it. Pid 0 is the calling thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(cpu, &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = cpu;
        false
    }
}

/// Spins a little, then yields the core, while the other side is not ready.
struct Backoff(u32);

impl Backoff {
    #[inline]
    fn snooze(&mut self) {
        self.0 += 1;
        if self.0 < 64 {
            std::hint::spin_loop();
        } else {
            self.0 = 0;
            thread::yield_now();
        }
    }
}

/// Moves `items` sequence numbers from a producer pinned to CPU 1 to a consumer pinned to
/// CPU 0; checks the sum and returns the time.
fn transfer<T: Item>(mut tx: impl Tx<T>, mut rx: impl Rx<T>, items: u64) -> Duration {
    let (start, ready) = (std::sync::Barrier::new(2), std::sync::Barrier::new(2));
    let elapsed = thread::scope(|s| {
        s.spawn(|| {
            let pinned = pin_to(1);
            ready.wait();
            start.wait();
            let mut backoff = Backoff(0);
            for seq in 0..items {
                let value = T::from_seq(seq);
                while !tx.push(value) {
                    backoff.snooze();
                }
            }
            pinned
        });
        let pinned = pin_to(0);
        ready.wait();
        let begin = Instant::now();
        start.wait();
        let mut backoff = Backoff(0);
        let mut sum = 0u64;
        for _ in 0..items {
            loop {
                if let Some(value) = rx.pop() {
                    sum = sum.wrapping_add(value.to_u64());
                    break;
                }
                backoff.snooze();
            }
        }
        let elapsed = begin.elapsed();
        let expected = (0..items).fold(0u64, |a, seq| a.wrapping_add(T::from_seq(seq).to_u64()));
        assert_eq!(sum, expected, "items lost or reordered");
        if !pinned {
            eprintln!("note: could not pin the consumer to CPU 0");
        }
        elapsed
    });
    elapsed
}

fn threads_intq<T: Item>(mode: WakeMode, items: u64) -> Duration {
    let mut queue: irqkit_intq::Queue<T, CAPACITY> = irqkit_intq::Queue::new().with_wake_mode(mode);
    let (tx, rx) = queue.split();
    transfer(tx, rx, items)
}

fn threads_heapless<T: Item>(items: u64) -> Duration {
    let mut queue: heapless::spsc::Queue<T, CAPACITY> = heapless::spsc::Queue::new();
    let (tx, rx) = queue.split();
    transfer(tx, rx, items)
}

fn threads_rtrb<T: Item>(items: u64) -> Duration {
    let (tx, rx) = rtrb::RingBuffer::<T>::new(CAPACITY);
    transfer(tx, rx, items)
}

/// A two-thread case: name, operation, and the function that moves the items.
struct ThreadCase {
    name: &'static str,
    operation: &'static str,
    run: fn(u64) -> Duration,
}

const THREAD_CASES: &[ThreadCase] = &[
    ThreadCase {
        name: "irqkit_level/u8",
        operation: "two threads, u8",
        run: |n| threads_intq::<u8>(WakeMode::Level, n),
    },
    ThreadCase {
        name: "irqkit_off/u8",
        operation: "two threads, u8",
        run: |n| threads_intq::<u8>(WakeMode::Off, n),
    },
    ThreadCase {
        name: "heapless/u8",
        operation: "two threads, u8",
        run: threads_heapless::<u8>,
    },
    ThreadCase {
        name: "rtrb/u8",
        operation: "two threads, u8",
        run: threads_rtrb::<u8>,
    },
    ThreadCase {
        name: "irqkit_level/u64",
        operation: "two threads, u64",
        run: |n| threads_intq::<u64>(WakeMode::Level, n),
    },
    ThreadCase {
        name: "irqkit_off/u64",
        operation: "two threads, u64",
        run: |n| threads_intq::<u64>(WakeMode::Off, n),
    },
    ThreadCase {
        name: "heapless/u64",
        operation: "two threads, u64",
        run: threads_heapless::<u64>,
    },
    ThreadCase {
        name: "rtrb/u64",
        operation: "two threads, u64",
        run: threads_rtrb::<u64>,
    },
];

fn number(text: Option<&String>, what: &str) -> u64 {
    text.and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("expected a number for {what}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--list") => {
            for case in CASES {
                println!("{}\t{}\t{}", case.name, case.operation, case.per_iteration);
            }
        }
        Some("--run") => {
            let name = args.get(1).expect("--run CASE ITERATIONS");
            let case = CASES
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("no case {name}"));
            black_box((case.run)(number(args.get(2), "ITERATIONS")));
        }
        Some("--list-threads") => {
            for case in THREAD_CASES {
                println!("{}\t{}", case.name, case.operation);
            }
        }
        Some("--threads") => {
            let name = args.get(1).expect("--threads CASE ITEMS RUNS");
            let case = THREAD_CASES
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("no case {name}"));
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
            for case in THREAD_CASES {
                black_box((case.run)(10_000));
            }
            println!(
                "irqkit-intq instruction-count cases ran; measure them with `cargo xtask bench intq`"
            );
        }
    }
}
