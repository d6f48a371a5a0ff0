//! The irqkit-ata benchmark: the kernel's `ata_bench` case times sequential reads and writes
//! with the guest's TSC in every transfer mode, and the host times reading the same image
//! file in the same run. [`run`] does both and returns a [`Report`] whose [`Report::table`]
//! is the Markdown table of `docs/BENCHMARKS.md` and whose [`Report::goals`] says which goals
//! were met.
//!
//! ```no_run
//! use irqkit_qemu_tests::bench_ata::{run, Options};
//!
//! let report = run(&Options { dma_mib: 64, pio_mib: 8, reps: 5, echo: false })?;
//! println!("{}", report.table());
//! # Ok::<(), irqkit_qemu_tests::Error>(())
//! ```

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::disk::{pattern_bytes, pattern_mismatch, Disk, SECTOR_SIZE};
use crate::error::Error;
use crate::outcome::Outcome;
use crate::runner::Qemu;
use crate::serial::LineMatch;

/// The seed of the image the kernel reads (`IMAGE_SEED` in `kernel/src/cases/ata_bench.rs`).
pub const IMAGE_SEED: u32 = 71;
/// The seed of the 128 KiB block every write pass writes, repeated (`WRITE_SEED` there).
pub const WRITE_SEED: u32 = 72;
/// The repeated block: 256 sectors.
const WRITE_BLOCK_SECTORS: u64 = 256;

/// How much data the benchmark moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// MiB per DMA pass (read and write each). The image is this large.
    pub dma_mib: u64,
    /// MiB per PIO pass (PIO is slow; per-sector figures compare across sizes).
    pub pio_mib: u64,
    /// How many times every pass runs (the modes take turns); the table shows medians.
    pub reps: u64,
    /// Copy the kernel's serial output to stdout while it runs.
    pub echo: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dma_mib: 64,
            pio_mib: 8,
            reps: 5,
            echo: false,
        }
    }
}

/// One timed pass in the guest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestPass {
    /// `pio_word`, `pio_string`, `dma_polled`, `dma_irq`, `dma_irq_1m` or `dma_queue`.
    pub mode: String,
    /// `read` or `write`.
    pub op: String,
    /// Which repetition (0-based).
    pub rep: u64,
    /// Bytes moved.
    pub bytes: u64,
    /// TSC cycles the pass took.
    pub cycles: u64,
}

/// One timed read of the image file on the host.
#[derive(Debug, Clone, PartialEq)]
pub struct HostRead {
    /// What was run.
    pub how: String,
    /// Bytes read.
    pub bytes: u64,
    /// Wall-clock time.
    pub elapsed: Duration,
}

impl HostRead {
    /// MB/s (10^6 bytes per second).
    pub fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64() / 1e6
    }
}

/// A goal of the benchmark and whether the run met it.
#[derive(Debug, Clone, PartialEq)]
pub struct Goal {
    /// What is asked.
    pub name: &'static str,
    /// Whether this run met it.
    pub met: bool,
    /// The measured figures behind the verdict.
    pub measured: String,
}

/// Everything one run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The guest's TSC frequency (measured against the PIT).
    pub tsc_hz: u64,
    /// The guest's passes, in the order they ran.
    pub guest: Vec<GuestPass>,
    /// The host's reads of the image file, after the guest exited.
    pub host: Vec<HostRead>,
}

/// Modes in table order, with their descriptions.
const MODES: [(&str, &str); 6] = [
    ("pio_word", "PIO, one `in`/`out` per word"),
    ("pio_string", "PIO, string I/O (`rep insw`/`rep outsw`)"),
    ("dma_polled", "DMA, completion polled"),
    (
        "dma_irq",
        "DMA, completion by IRQ 14 (back-to-back blocking calls)",
    ),
    (
        "dma_irq_1m",
        "DMA, by IRQ 14, 1 MiB commands instead of 128 KiB",
    ),
    (
        "dma_queue",
        "DMA, request queue (8 deep, bottom half issues the next)",
    ),
];

impl GuestPass {
    /// Seconds at the guest's TSC rate.
    pub fn seconds(&self, tsc_hz: u64) -> f64 {
        self.cycles as f64 / tsc_hz as f64
    }

    /// MB/s (10^6 bytes per second).
    pub fn mb_per_s(&self, tsc_hz: u64) -> f64 {
        self.bytes as f64 / self.seconds(tsc_hz) / 1e6
    }

    /// TSC cycles per 512-byte sector.
    pub fn cycles_per_sector(&self) -> f64 {
        self.cycles as f64 / (self.bytes / SECTOR_SIZE) as f64
    }
}

/// Parses the kernel's `bench ...` lines.
///
/// # Errors
///
/// A description of the first line that is missing or malformed.
pub fn parse(serial: &[String]) -> Result<(u64, Vec<GuestPass>), String> {
    let field = |line: &str, name: &str| -> Result<String, String> {
        line.split_whitespace()
            .find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
            .map(str::to_owned)
            .ok_or_else(|| format!("no {name}= in {line:?}"))
    };
    let number = |line: &str, name: &str| -> Result<u64, String> {
        field(line, name)?
            .parse()
            .map_err(|e| format!("{name}= in {line:?}: {e}"))
    };
    let hz_line = crate::serial::find(serial, &LineMatch::prefix("bench tsc_hz="))
        .ok_or("no `bench tsc_hz=` line")?;
    let tsc_hz = number(hz_line, "tsc_hz")?;
    if tsc_hz == 0 {
        return Err("tsc_hz=0".into());
    }
    let mut passes = Vec::new();
    for line in serial.iter().filter(|l| l.starts_with("bench mode=")) {
        let pass = GuestPass {
            mode: field(line, "mode")?,
            op: field(line, "op")?,
            rep: number(line, "rep")?,
            bytes: number(line, "bytes")?,
            cycles: number(line, "cycles")?,
        };
        if pass.bytes < SECTOR_SIZE || pass.cycles == 0 {
            return Err(format!("empty pass in {line:?}"));
        }
        passes.push(pass);
    }
    Ok((tsc_hz, passes))
}

impl Report {
    /// Every repetition of the guest pass of `mode` and `op`.
    pub fn passes(&self, mode: &str, op: &str) -> Vec<&GuestPass> {
        self.guest
            .iter()
            .filter(|p| p.mode == mode && p.op == op)
            .collect()
    }

    /// The repetition of `mode` and `op` with the median time (the lower median for an even
    /// count).
    pub fn pass(&self, mode: &str, op: &str) -> Option<&GuestPass> {
        let mut passes = self.passes(mode, op);
        passes.sort_by_key(|p| p.cycles);
        passes.get(passes.len().saturating_sub(1) / 2).copied()
    }

    /// The slowest and fastest repetition of `mode` and `op`, in MB/s.
    pub fn range(&self, mode: &str, op: &str) -> Option<(f64, f64)> {
        let speeds = self
            .passes(mode, op)
            .into_iter()
            .map(|p| p.mb_per_s(self.tsc_hz));
        speeds.fold(None, |range, v| match range {
            None => Some((v, v)),
            Some((lo, hi)) => Some((f64::min(lo, v), f64::max(hi, v))),
        })
    }

    fn mb_per_s(&self, mode: &str, op: &str) -> Option<f64> {
        self.pass(mode, op).map(|p| p.mb_per_s(self.tsc_hz))
    }

    /// The host read the DMA goal compares against: the image read with the page cache
    /// dropped first (`cat` after `posix_fadvise(DONTNEED)`).
    pub fn host_cold(&self) -> Option<&HostRead> {
        self.host.first()
    }

    /// The Markdown table: one row per mode, read and write MB/s (median of the repetitions,
    /// then the slowest-fastest range) and cycles per sector (median), then the host's reads.
    pub fn table(&self) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "| mode | read MB/s | (range) | read cycles/sector | write MB/s | (range) | write cycles/sector | MiB per pass |"
        );
        let _ = writeln!(text, "|---|---:|---:|---:|---:|---:|---:|---:|");
        for (mode, about) in MODES {
            let (Some(read), Some(write)) = (self.pass(mode, "read"), self.pass(mode, "write"))
            else {
                continue;
            };
            let range = |op| {
                self.range(mode, op)
                    .map_or(String::new(), |(lo, hi)| format!("{lo:.0}-{hi:.0}"))
            };
            let _ = writeln!(
                text,
                "| {about} | {:.1} | {} | {:.0} | {:.1} | {} | {:.0} | {} |",
                read.mb_per_s(self.tsc_hz),
                range("read"),
                read.cycles_per_sector(),
                write.mb_per_s(self.tsc_hz),
                range("write"),
                write.cycles_per_sector(),
                read.bytes >> 20,
            );
        }
        for host in &self.host {
            let _ = writeln!(
                text,
                "| host: {} | {:.1} | | | | | | {} |",
                host.how,
                host.mb_per_s(),
                host.bytes >> 20
            );
        }
        let _ = writeln!(text);
        let reps = self.guest.iter().map(|p| p.rep + 1).max().unwrap_or(0);
        let _ = writeln!(
            text,
            "Guest TSC: {:.3} GHz (measured against the PIT); {reps} repetitions per pass.",
            self.tsc_hz as f64 / 1e9
        );
        text
    }

    /// The benchmark's goals and whether this run met them.
    pub fn goals(&self) -> Vec<Goal> {
        let mut goals = Vec::new();
        let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
        let dma = self.mb_per_s("dma_irq", "read");
        let pio = self.mb_per_s("pio_string", "read");
        if let Some(r) = ratio(dma, pio) {
            goals.push(Goal {
                name: "DMA read at least 10x PIO string read",
                met: r >= 10.0,
                measured: format!(
                    "DMA (IRQ) {:.1} MB/s / PIO string {:.1} MB/s = {r:.1}x",
                    dma.unwrap_or(0.0),
                    pio.unwrap_or(0.0)
                ),
            });
        }
        if let (Some(dma), Some(host)) = (dma, self.host_cold()) {
            let r = host.mb_per_s() / dma;
            goals.push(Goal {
                name: "DMA read within 2x of the host's read of the image",
                met: r <= 2.0,
                measured: format!(
                    "host {} {:.1} MB/s / DMA (IRQ) {dma:.1} MB/s = {r:.2}x",
                    host.how,
                    host.mb_per_s()
                ),
            });
        }
        for op in ["read", "write"] {
            let queue = self.mb_per_s("dma_queue", op);
            let blocking = self.mb_per_s("dma_irq", op);
            if let Some(r) = ratio(queue, blocking) {
                goals.push(Goal {
                    name: if op == "read" {
                        "request queue read at least as fast as back-to-back blocking calls"
                    } else {
                        "request queue write at least as fast as back-to-back blocking calls"
                    },
                    met: r >= 1.0,
                    measured: format!(
                        "queue {:.1} MB/s / blocking (IRQ) {:.1} MB/s = {r:.2}x",
                        queue.unwrap_or(0.0),
                        blocking.unwrap_or(0.0)
                    ),
                });
            }
        }
        goals
    }
}

/// Checks the image after the write passes: the first `bytes` hold the 128 KiB write block,
/// repeated; the rest is still the read pattern.
fn check_image(outcome: &Outcome, bytes: u64, image_bytes: u64) -> Result<(), String> {
    let block = pattern_bytes(WRITE_SEED, 0, WRITE_BLOCK_SECTORS);
    let image = outcome
        .disk(0)
        .map_err(|e| format!("reading the image back: {e}"))?;
    if image.len() as u64 != image_bytes {
        return Err(format!("the image is {} bytes", image.len()));
    }
    for (index, chunk) in image[..bytes as usize].chunks(block.len()).enumerate() {
        if chunk != &block[..chunk.len()] {
            return Err(format!("write block {index} differs in the image"));
        }
    }
    let first = bytes / SECTOR_SIZE;
    match pattern_mismatch(IMAGE_SEED, first, &image[bytes as usize..]) {
        None => Ok(()),
        Some(lba) => Err(format!("sector {lba} past the writes changed")),
    }
}

/// Times `program args` reading the image; `None` when it cannot run or fails.
fn time_command(how: &str, program: &str, args: &[&str], bytes: u64) -> Option<HostRead> {
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    let elapsed = started.elapsed();
    status.success().then(|| HostRead {
        how: how.to_owned(),
        bytes,
        elapsed,
    })
}

/// The host's reads of `path`: `cat` after dropping the file from the page cache
/// (`dd iflag=nocache count=0` is GNU dd's `posix_fadvise(POSIX_FADV_DONTNEED)`), `dd` with
/// `O_DIRECT` (the page cache bypassed), and `cat` again with the file cached.
fn host_reads(path: &Path, bytes: u64) -> Vec<HostRead> {
    let path_text = path.to_string_lossy().into_owned();
    let input = format!("if={path_text}");
    // Dirty pages cannot be dropped: write them back first.
    if let Ok(file) = std::fs::File::open(path) {
        let _ = file.sync_all();
    }
    let drop_cache = || {
        let _ = Command::new("dd")
            .args([input.as_str(), "iflag=nocache", "count=0", "status=none"])
            .status();
    };
    let mut reads = Vec::new();
    drop_cache();
    reads.extend(time_command(
        "`cat` (page cache dropped)",
        "cat",
        &[&path_text],
        bytes,
    ));
    reads.extend(time_command(
        "`dd bs=1M iflag=direct` (O_DIRECT)",
        "dd",
        &[
            input.as_str(),
            "of=/dev/null",
            "bs=1M",
            "iflag=direct",
            "status=none",
        ],
        bytes,
    ));
    reads.extend(time_command(
        "`cat` (file in the page cache)",
        "cat",
        &[&path_text],
        bytes,
    ));
    reads
}

/// Runs the benchmark: the kernel's passes, the image check, the host's reads.
///
/// # Errors
///
/// [`Error`]s of the run, or [`Error::InvalidArgument`] when the kernel's lines cannot be
/// parsed, the image does not hold what the write passes wrote, or a size is zero.
pub fn run(options: &Options) -> Result<Report, Error> {
    if options.dma_mib == 0 || options.pio_mib == 0 {
        return Err(Error::InvalidArgument(
            "sizes must be at least 1 MiB".into(),
        ));
    }
    let bytes = options.dma_mib.max(options.pio_mib) << 20;
    // Room for the queue's buffers past the last request is not needed: passes start at 0.
    let outcome = Qemu::new("ata_bench")
        .disk(Disk::pattern(bytes, IMAGE_SEED))
        .kernel_arg(format!("mib={}", options.dma_mib))
        .kernel_arg(format!("pio_mib={}", options.pio_mib))
        .kernel_arg(format!("reps={}", options.reps))
        .timeout(Duration::from_secs(600))
        .echo_serial(options.echo)
        .spawn()?
        .wait()?
        .expect_success()?;
    let (tsc_hz, guest) = parse(&outcome.serial).map_err(Error::InvalidArgument)?;
    check_image(&outcome, options.dma_mib << 20, bytes).map_err(Error::InvalidArgument)?;
    let path = outcome
        .disk_path(0)
        .ok_or_else(|| Error::InvalidArgument("no image".into()))?;
    let host = host_reads(path, bytes);
    Ok(Report {
        tsc_hz,
        guest,
        host,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    fn sample() -> Report {
        let serial = lines(
            "bench tsc_hz=1000000000 reps=3
bench mode=pio_string op=read rep=0 bytes=1048576 cycles=100000000
bench mode=pio_string op=write rep=0 bytes=1048576 cycles=200000000
bench mode=dma_irq op=read rep=0 bytes=4194304 cycles=20000000
bench mode=dma_irq op=write rep=0 bytes=4194304 cycles=20000000
bench mode=dma_queue op=read rep=0 bytes=4194304 cycles=10000000
bench mode=dma_queue op=write rep=0 bytes=4194304 cycles=40000000
bench mode=dma_queue op=write rep=1 bytes=4194304 cycles=80000000
bench mode=dma_queue op=write rep=2 bytes=4194304 cycles=30000000",
        );
        let (tsc_hz, guest) = parse(&serial).unwrap();
        Report {
            tsc_hz,
            guest,
            host: vec![HostRead {
                how: "cat".into(),
                bytes: 1 << 28,
                elapsed: Duration::from_secs(1),
            }],
        }
    }

    #[test]
    fn figures_come_from_cycles_and_the_tsc_rate() {
        let report = sample();
        let pio = report.pass("pio_string", "read").unwrap();
        assert!((pio.mb_per_s(report.tsc_hz) - 10.485_76).abs() < 1e-9);
        assert_eq!(pio.cycles_per_sector(), 100_000_000.0 / 2048.0);
        let table = report.table();
        assert!(table.contains("| PIO, string I/O"), "{table}");
        // The median of three repetitions, and the range.
        assert_eq!(
            report.pass("dma_queue", "write").unwrap().cycles,
            40_000_000
        );
        let (lo, hi) = report.range("dma_queue", "write").unwrap();
        assert!((lo - 52.428_8).abs() < 1e-9 && (hi - 139.810_133).abs() < 1e-3);
        assert!(table.contains("| 52-140 |"), "{table}");
        assert!(table.contains("3 repetitions per pass"), "{table}");
        assert!(table.contains("| host: cat | 268.4 |"), "{table}");
        // Modes without both passes are left out.
        assert!(!table.contains("one `in`/`out`"), "{table}");
    }

    #[test]
    fn goals_are_judged_from_the_figures() {
        let goals = sample().goals();
        let verdicts: Vec<(&str, bool)> = goals.iter().map(|g| (g.name, g.met)).collect();
        assert_eq!(
            verdicts,
            [
                ("DMA read at least 10x PIO string read", true),
                ("DMA read within 2x of the host's read of the image", true),
                (
                    "request queue read at least as fast as back-to-back blocking calls",
                    true
                ),
                (
                    "request queue write at least as fast as back-to-back blocking calls",
                    false
                ),
            ]
        );
        assert!(
            goals[0].measured.contains("= 20.0x"),
            "{}",
            goals[0].measured
        );
    }

    #[test]
    fn bad_lines_are_errors() {
        assert!(parse(&lines("bench mode=x op=read rep=0 bytes=512 cycles=1")).is_err());
        assert!(parse(&lines("bench tsc_hz=0")).is_err());
        assert!(parse(&lines("bench tsc_hz=5\nbench mode=x op=read bytes=512")).is_err());
        assert!(parse(&lines(
            "bench tsc_hz=5\nbench mode=x op=read bytes=0 cycles=3"
        ))
        .is_err());
        assert_eq!(parse(&lines("bench tsc_hz=5")).unwrap(), (5, vec![]));
    }
}
