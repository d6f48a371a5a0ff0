//! `cargo xtask bench`: benchmarks that hold on a shared, loaded machine.
//!
//! - One-thread paths: instruction counts. Each crate has a `*_instructions` bench binary that
//!   runs one named case N times (`--run CASE N`). We run it under
//!   `valgrind --tool=callgrind` for two values of N and divide the difference of the two
//!   instruction totals by the difference in operations: process start and set-up cancel, and
//!   the count does not move with the neighbours' load.
//! - Two-thread queue throughput: each thread pinned to its own CPU by the bench binary
//!   (`--threads CASE ITEMS 1`), several runs interleaved across the cases so that a change of
//!   load hits every case alike; the median and the spread (min-max) are reported.
//!
//! Prints one table per crate (irqkit beside each alternative, with a ratio column) and rewrites
//! the marked tables in docs/BENCHMARKS.md with the machine, the command and the date.
//! `--criterion` runs the wall-clock criterion benchmarks instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::steps::root;

/// A crate with an instruction-count bench binary.
struct Suite {
    /// Folder under crates/ (also the name accepted on the command line).
    dir: &'static str,
    package: &'static str,
    target: &'static str,
    title: &'static str,
    /// Iteration counts of the two callgrind runs.
    iterations: (u64, u64),
}

const SUITES: &[Suite] = &[
    Suite {
        dir: "intq",
        package: "irqkit-intq",
        target: "intq_instructions",
        title: "irqkit-intq vs heapless 0.9 spsc and rtrb 0.4",
        iterations: (1 << 12, (1 << 16) + (1 << 12)),
    },
    Suite {
        dir: "defer",
        package: "irqkit-defer",
        target: "defer_instructions",
        title:
            "irqkit-defer vs embassy-executor 0.10 raw executor and a heapless queue of fn pointers",
        iterations: (1 << 10, (1 << 14) + (1 << 10)),
    },
    Suite {
        dir: "ps2",
        package: "irqkit-ps2",
        target: "decode_instructions",
        title: "irqkit-ps2 vs pc-keyboard 0.9",
        iterations: (1, 3),
    },
];

const USAGE: &str = "\
usage: cargo xtask bench [--runs N] [--items N] [--no-write] [CRATE...]
       cargo xtask bench --criterion [CRATE...] [-- CRITERION ARGS]

  CRATE        intq, defer, ps2 (default: all)
  --runs N     two-thread runs per case (default 7)
  --items N    items moved per two-thread run (default 2000000)
  --no-write   print the tables only; leave docs/BENCHMARKS.md as it is
  --criterion  the wall-clock criterion benchmarks (noisy on a shared machine)
";

struct Options {
    suites: Vec<&'static Suite>,
    runs: usize,
    items: u64,
    write: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        suites: Vec::new(),
        runs: 7,
        items: 2_000_000,
        write: true,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |flag: &str| -> Result<u64, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .filter(|&v| v > 0)
                .ok_or_else(|| format!("{flag} needs a positive number\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--runs" => options.runs = number("--runs")? as usize,
            "--items" => options.items = number("--items")?,
            "--no-write" => options.write = false,
            "-h" | "--help" => return Err(USAGE.into()),
            name => {
                let suite = SUITES
                    .iter()
                    .find(|s| s.dir == name || s.package == name)
                    .ok_or_else(|| format!("no benchmarks for `{name}`\n\n{USAGE}"))?;
                options.suites.push(suite);
            }
        }
    }
    if options.suites.is_empty() {
        options.suites = SUITES.iter().collect();
    }
    Ok(options)
}

pub fn bench(args: &[String]) -> Result<(), String> {
    if let Some(rest) = args.strip_prefix(&["--criterion".to_string()]) {
        return crate::steps::bench(rest);
    }
    let options = parse(args)?;
    if !crate::setup::have("valgrind", "--version") {
        return Err(
            "valgrind not found: install the Debian/Ubuntu package `valgrind` \
                    (apt-get install -y valgrind), then rerun"
                .into(),
        );
    }
    let command = std::iter::once("cargo xtask bench".to_string())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let header = format!("Measured {} on {}, with `{command}`.", today(), machine());
    println!("\n{header}");
    for suite in &options.suites {
        let exe = build(suite)?;
        let mut section = format!("{header}\n\n{}", instruction_table(suite, &exe)?);
        if let Some(table) = thread_table(&exe, &options)? {
            section.push('\n');
            section.push_str(&table);
        }
        if let Some(table) = handshake_table(&exe, &options)? {
            section.push('\n');
            section.push_str(&table);
        }
        println!("\n## {}\n\n{section}", suite.title);
        if options.write {
            write_section(suite.dir, &section)?;
        }
    }
    if options.write {
        println!("\nrewrote the tables in docs/BENCHMARKS.md");
    }
    Ok(())
}

/// Builds the suite's bench binary (release, with debug info) and returns its path.
fn build(suite: &Suite) -> Result<PathBuf, String> {
    let cmd = argv(&[
        "cargo",
        "bench",
        "-p",
        suite.package,
        "--bench",
        suite.target,
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    println!("\n$ {}", cmd.join(" "));
    let out = capture(&cmd, true)?;
    // Each artifact is one JSON line; ours names the target and its executable.
    out.lines()
        .filter(|l| l.contains("\"reason\":\"compiler-artifact\""))
        .filter(|l| l.contains(&format!("\"name\":\"{}\"", suite.target)))
        .find_map(|l| json_string(l, "executable"))
        .map(PathBuf::from)
        .ok_or_else(|| {
            format!(
                "`{}` named no executable for {}",
                cmd.join(" "),
                suite.target
            )
        })
}

/// The string value of `"key":"..."` in one line of cargo's JSON output.
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = start + line[start..].find('"')?;
    Some(line[start..end].replace("\\\\", "\\"))
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// Runs the command line `cmd` and returns its standard output (standard error passes through
/// if `show_errors`, else it is returned after the output).
fn capture(cmd: &[String], show_errors: bool) -> Result<String, String> {
    let shown = cmd.join(" ");
    let mut c = Command::new(&cmd[0]);
    c.args(&cmd[1..]).current_dir(root());
    c.stderr(if show_errors {
        Stdio::inherit()
    } else {
        Stdio::piped()
    });
    let out = c
        .output()
        .map_err(|e| format!("could not start `{shown}`: {e}"))?;
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !show_errors {
        text.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("`{shown}` failed ({}):\n{text}", out.status))
    }
}

/// One line of the bench binary's `--list`.
struct Case {
    name: String,
    operation: String,
    per_iteration: u64,
}

fn list(exe: &Path, flag: &str) -> Result<Vec<Case>, String> {
    let out = capture(&[exe.display().to_string(), flag.to_string()], true)?;
    out.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            match fields[..] {
                [name, operation] => Ok(Case {
                    name: name.into(),
                    operation: operation.into(),
                    per_iteration: 1,
                }),
                [name, operation, per] => Ok(Case {
                    name: name.into(),
                    operation: operation.into(),
                    per_iteration: per
                        .parse()
                        .map_err(|_| format!("bad count in `{l}` from {flag}"))?,
                }),
                _ => Err(format!(
                    "unexpected line `{l}` from {} {flag}",
                    exe.display()
                )),
            }
        })
        .collect()
}

/// What callgrind counted for one run: instructions, and branch mispredictions of its simple
/// simulated predictor (conditional and indirect).
#[derive(Clone, Copy)]
struct Counts {
    instructions: u64,
    mispredicts: u64,
}

/// Counts for `exe --run CASE iterations`, from callgrind with branch simulation.
fn counts(exe: &Path, case: &str, iterations: u64) -> Result<Counts, String> {
    let cmd = [
        "valgrind".to_string(),
        "--tool=callgrind".to_string(),
        "--branch-sim=yes".to_string(),
        "--callgrind-out-file=/dev/null".to_string(),
        exe.display().to_string(),
        "--run".to_string(),
        case.to_string(),
        iterations.to_string(),
    ];
    let out = capture(&cmd, false)?;
    // callgrind ends with `==PID== Events    : Ir Bc Bcm Bi Bim` and `==PID== Collected : ...`.
    let field = |label: &str| -> Option<Vec<String>> {
        let line = out.lines().find_map(|l| l.split(label).nth(1))?;
        Some(line.split_whitespace().map(str::to_string).collect())
    };
    let parsed = field("Events    :")
        .zip(field("Collected :"))
        .and_then(|(events, values)| {
            let value = |name: &str| -> Option<u64> {
                values
                    .get(events.iter().position(|e| e == name)?)?
                    .parse()
                    .ok()
            };
            Some(Counts {
                instructions: value("Ir")?,
                mispredicts: value("Bcm")? + value("Bim")?,
            })
        });
    parsed.ok_or_else(|| format!("`{}` printed no event totals:\n{out}", cmd.join(" ")))
}

/// Groups cases by operation, in the order they were listed.
fn by_operation<T>(cases: Vec<(Case, T)>) -> Vec<(String, Vec<(Case, T)>)> {
    let mut groups: Vec<(String, Vec<(Case, T)>)> = Vec::new();
    for (case, value) in cases {
        match groups.iter_mut().find(|(op, _)| *op == case.operation) {
            Some((_, members)) => members.push((case, value)),
            None => groups.push((case.operation.clone(), vec![(case, value)])),
        }
    }
    groups
}

fn is_ours(case: &Case) -> bool {
    case.name.starts_with("irqkit")
}

fn instruction_table(suite: &Suite, exe: &Path) -> Result<String, String> {
    let (n1, n2) = suite.iterations;
    let mut measured = Vec::new();
    for case in list(exe, "--list")? {
        let low = counts(exe, &case.name, n1)?;
        let high = counts(exe, &case.name, n2)?;
        let ops = ((n2 - n1) * case.per_iteration) as f64;
        let per_op = |f: fn(Counts) -> u64| f(high).saturating_sub(f(low)) as f64 / ops;
        let (instructions, mispredicts) = (per_op(|c| c.instructions), per_op(|c| c.mispredicts));
        println!(
            "{:<32} {instructions:>10.1} instructions/op {mispredicts:>8.2} mispredicts/op  \
             ({} at {n1}, {} at {n2} iterations)",
            case.name, low.instructions, high.instructions
        );
        measured.push((case, (instructions, mispredicts)));
    }
    let mut table = String::from(
        "Per operation, one thread (callgrind; mispredicts from its simulated branch \
         predictor):\n\n\
         | operation | irqkit | instructions | mispredicts | alternative | instructions | \
         mispredicts | alternative ÷ irqkit (instructions) |\n\
         |---|---|---:|---:|---|---:|---:|---:|\n",
    );
    for (operation, members) in by_operation(measured) {
        let (ours, theirs): (Vec<_>, Vec<_>) = members.iter().partition(|(c, _)| is_ours(c));
        for (our, (our_count, our_miss)) in &ours {
            for (alt, (alt_count, alt_miss)) in &theirs {
                table.push_str(&format!(
                    "| {operation} | {} | {our_count:.1} | {our_miss:.2} | {} | {alt_count:.1} | \
                     {alt_miss:.2} | {:.2}x |\n",
                    our.name,
                    alt.name,
                    alt_count / our_count
                ));
            }
        }
    }
    Ok(table)
}

/// Median and range of a set of runs.
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        let mid = values.len() / 2;
        let median = if values.len() % 2 == 1 {
            values[mid]
        } else {
            (values[mid - 1] + values[mid]) / 2.0
        };
        Self {
            median,
            min: values[0],
            max: values[values.len() - 1],
        }
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} ({:.1}-{:.1})", self.median, self.min, self.max)
    }
}

fn thread_table(exe: &Path, options: &Options) -> Result<Option<String>, String> {
    let cases = match list(exe, "--list-threads") {
        Ok(cases) if !cases.is_empty() => cases,
        _ => return Ok(None),
    };
    let mut runs: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for run in 0..options.runs {
        println!("two-thread run {}/{}", run + 1, options.runs);
        for case in &cases {
            let cmd = [
                exe.display().to_string(),
                "--threads".to_string(),
                case.name.clone(),
                options.items.to_string(),
                "1".to_string(),
            ];
            let out = capture(&cmd, true)?;
            let rate: f64 = out
                .trim()
                .parse()
                .map_err(|_| format!("`{}` printed `{}`, not a rate", cmd.join(" "), out.trim()))?;
            runs.entry(case.name.clone()).or_default().push(rate);
        }
    }
    let measured = cases
        .into_iter()
        .map(|c| {
            let spread = Spread::of(runs.remove(&c.name).unwrap_or_default());
            (c, spread)
        })
        .collect();
    let mut table = format!(
        "Two threads, producer pinned to CPU 1 and consumer to CPU 0, {} runs of {} items each \
         (interleaved across cases); median (min-max) in M items/s:\n\n\
         | operation | irqkit | M items/s | alternative | M items/s | irqkit ÷ alternative (medians) |\n\
         |---|---|---:|---|---:|---:|\n",
        options.runs, options.items
    );
    for (operation, members) in by_operation(measured) {
        let (ours, theirs): (Vec<_>, Vec<_>) = members.iter().partition(|(c, _)| is_ours(c));
        for (our, our_rate) in &ours {
            for (alt, alt_rate) in &theirs {
                table.push_str(&format!(
                    "| {operation} | {} | {our_rate} | {} | {alt_rate} | {:.2}x |\n",
                    our.name,
                    alt.name,
                    our_rate.median / alt_rate.median
                ));
            }
        }
    }
    for (name, rates) in &runs {
        println!("unlisted case {name}: {rates:?}");
    }
    Ok(Some(table))
}

/// Wake-up handshakes across two CPUs (`--handshakes CASE COUNT` prints
/// `sleeps <TAB> lost <TAB> seconds`): how often the consumer slept, how many of those sleeps
/// no notification ended, and the rate. One run of `items / 10` handshakes per case.
fn handshake_table(exe: &Path, options: &Options) -> Result<Option<String>, String> {
    let cases = match list(exe, "--list-handshakes") {
        Ok(cases) if !cases.is_empty() => cases,
        _ => return Ok(None),
    };
    let count = (options.items / 10).max(1);
    let mut table = format!(
        "Wake-up handshakes across two CPUs, {count} per mode: each time, the consumer (CPU 0) \
         empties the queue and `.await`s, and the producer (CPU 1) pushes one item after a \
         varying delay. A lost wake-up is a sleep that the producer's push, notification \
         included, had returned without ending:\n\n\
         | mode | handshakes | consumer slept | wake-ups lost | k handshakes/s |\n\
         |---|---:|---:|---:|---:|\n"
    );
    for case in cases {
        let cmd = [
            exe.display().to_string(),
            "--handshakes".to_string(),
            case.name.clone(),
            count.to_string(),
        ];
        let out = capture(&cmd, true)?;
        let fields: Vec<f64> = out
            .trim()
            .split('\t')
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| format!("`{}` printed `{}`", cmd.join(" "), out.trim()))?;
        let [sleeps, lost, seconds] = fields[..] else {
            return Err(format!("`{}` printed `{}`", cmd.join(" "), out.trim()));
        };
        println!(
            "{:<32} slept {sleeps} lost {lost} in {seconds:.3} s",
            case.name
        );
        table.push_str(&format!(
            "| {} | {count} | {sleeps} | {lost} | {:.0} |\n",
            case.name,
            count as f64 / seconds / 1e3
        ));
    }
    Ok(Some(table))
}

fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|_| "an unknown date".into())
}

/// CPU model, CPU count and load average (Linux), e.g. `AMD EPYC 7B13, 2 CPUs, load 3.10`.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("an unknown CPU", str::trim)
        .to_string();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    format!(
        "{model}, {cpus} CPUs, {} {}, load average {load}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Replaces the text between `<!-- bench:DIR -->` and `<!-- /bench:DIR -->` in
/// docs/BENCHMARKS.md (appends a marked section if there is none).
fn write_section(dir: &str, section: &str) -> Result<(), String> {
    let path = root().join("docs/BENCHMARKS.md");
    let doc = std::fs::read_to_string(&path)
        .map_err(|e| format!("could not read {}: {e}", path.display()))?;
    let (open, close) = (
        format!("<!-- bench:{dir} -->"),
        format!("<!-- /bench:{dir} -->"),
    );
    let marked = format!("{open}\n{section}{close}");
    let updated = match (doc.find(&open), doc.find(&close)) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{marked}{}", &doc[..start], &doc[end + close.len()..])
        }
        _ => format!("{}\n{marked}\n", doc.trim_end()),
    };
    std::fs::write(&path, updated).map_err(|e| format!("could not write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_odd_and_even_runs() {
        let s = Spread::of(vec![3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        let s = Spread::of(vec![4.0, 1.0, 2.0, 3.0]);
        assert_eq!((s.median, s.min, s.max), (2.5, 1.0, 4.0));
    }

    #[test]
    fn executable_from_cargo_json() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"x"},"executable":"/t/x-1","fresh":true}"#;
        assert_eq!(json_string(line, "executable").as_deref(), Some("/t/x-1"));
        assert_eq!(json_string(line, "missing"), None);
    }
}
