//! The steps of `cargo xtask test`, and the `demo` and `bench` commands.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::setup;

/// A command line, printed before it runs.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
    dir: Option<PathBuf>,
}

impl Cmd {
    pub fn new(program: &str) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            dir: None,
        }
    }
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = Some(dir.into());
        self
    }
}

impl std::fmt::Display for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(dir) = &self.dir {
            write!(f, "(cd {} && ", dir.display())?;
        }
        for (k, v) in &self.env {
            write!(f, "{k}={v:?} ")?;
        }
        write!(f, "{}", self.program)?;
        for a in &self.args {
            write!(f, " {a}")?;
        }
        if self.dir.is_some() {
            write!(f, ")")?;
        }
        Ok(())
    }
}

/// Runs `cmd` with inherited stdio; a non-zero exit is an error naming the command.
pub fn run(cmd: &Cmd) -> Result<(), String> {
    println!("\n$ {cmd}");
    let mut c = Command::new(&cmd.program);
    c.args(&cmd.args);
    for (k, v) in &cmd.env {
        c.env(k, v);
    }
    c.current_dir(cmd.dir.clone().unwrap_or_else(root));
    let status = c
        .status()
        .map_err(|e| format!("could not start `{}`: {e}", cmd.program))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{cmd}` failed ({status})"))
    }
}

/// The workspace root (the parent of xtask/).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_path_buf()
}

fn cargo() -> Cmd {
    Cmd::new("cargo")
}

/// A library crate under crates/: its package name and folder.
struct Crate {
    name: String,
    dir: PathBuf,
}

impl Crate {
    fn has(&self, rel: &str) -> bool {
        self.dir.join(rel).exists()
    }
}

/// Every library crate under crates/, by reading `name = ...` from each Cargo.toml.
fn library_crates() -> Vec<Crate> {
    let mut crates: Vec<Crate> = std::fs::read_dir(root().join("crates"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let dir = entry.path();
            let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
            let name = manifest.lines().find_map(|l| {
                let rest = l
                    .trim()
                    .strip_prefix("name")?
                    .trim_start()
                    .strip_prefix('=')?;
                Some(rest.trim().trim_matches('"').to_string())
            })?;
            Some(Crate { name, dir })
        })
        .collect();
    crates.sort_by(|a, b| a.name.cmp(&b.name));
    crates
}

/// Crates whose whole suite runs under Miri (the ones with unsafe code or atomics), with their
/// MIRIFLAGS. intq's tests leak `'static` queues on purpose (`Box::leak`) and its doctests
/// leave threads running, so leaks are not errors there.
const MIRI_CRATES: &[(&str, &str)] = &[
    ("irqkit-hal", "-Zmiri-strict-provenance"),
    (
        "irqkit-intq",
        "-Zmiri-strict-provenance -Zmiri-ignore-leaks",
    ),
    ("irqkit-defer", "-Zmiri-strict-provenance"),
];

/// Extra features a crate needs for a no_std build of everything it offers on a target.
fn no_std_features(name: &str, target: &str) -> Option<&'static str> {
    match (name, target) {
        ("irqkit-hal", "x86_64-unknown-none") => Some("x86"),
        _ => None,
    }
}

pub struct Step {
    pub name: &'static str,
    pub about: &'static str,
    run: fn(&Options) -> Result<(), String>,
}

pub const STEPS: &[Step] = &[
    Step {
        name: "setup",
        about: "install rustup targets/components, cargo-fuzz and QEMU when missing",
        run: step_setup,
    },
    Step {
        name: "fmt",
        about: "cargo fmt --check (workspace, QEMU kernel, fuzz)",
        run: step_fmt,
    },
    Step {
        name: "clippy",
        about: "cargo clippy --all-targets -D warnings (workspace and QEMU kernel)",
        run: step_clippy,
    },
    Step {
        name: "test",
        about: "cargo test --workspace (unit, integration, property and doc tests)",
        run: step_test,
    },
    Step {
        name: "doc",
        about: "cargo doc with warnings denied (broken links, missing docs)",
        run: step_doc,
    },
    Step {
        name: "no-std",
        about: "build every library crate for thumbv7em-none-eabihf and x86_64-unknown-none",
        run: step_no_std,
    },
    Step {
        name: "stress",
        about: "release-mode stress tests (tests/stress.rs of each crate)",
        run: step_stress,
    },
    Step {
        name: "loom",
        about: "loom model checking (tests/loom.rs of each crate, --cfg loom)",
        run: step_loom,
    },
    Step {
        name: "miri",
        about: "the test suites of the unsafe crates under Miri (nightly)",
        run: step_miri,
    },
    Step {
        name: "tsan",
        about: "the threaded tests under ThreadSanitizer (nightly, -Zbuild-std)",
        run: step_tsan,
    },
    Step {
        name: "fuzz",
        about: "a short cargo-fuzz smoke run of every target in fuzz/",
        run: step_fuzz,
    },
    Step {
        name: "qemu",
        about: "boot the test kernel under QEMU for every QEMU test",
        run: step_qemu,
    },
];

#[derive(Debug)]
struct Options {
    install: bool,
    fuzz_seconds: u32,
}

fn parse_list(value: Option<&String>, flag: &str) -> Result<Vec<String>, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    let names: Vec<String> = value.split(',').map(str::to_string).collect();
    for n in &names {
        if !STEPS.iter().any(|s| s.name == n) {
            return Err(format!("unknown step `{n}` (see `cargo xtask steps`)"));
        }
    }
    Ok(names)
}

pub fn test(args: &[String]) -> Result<(), String> {
    let mut only: Option<Vec<String>> = None;
    let mut skip: Vec<String> = Vec::new();
    let mut options = Options {
        install: true,
        fuzz_seconds: 30,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--only" => only = Some(parse_list(it.next(), "--only")?),
            "--skip" => skip.extend(parse_list(it.next(), "--skip")?),
            "--no-install" => options.install = false,
            "--fuzz-seconds" => {
                options.fuzz_seconds = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--fuzz-seconds needs a whole number")?;
            }
            "-h" | "--help" => {
                print!("{}", crate::USAGE);
                return Ok(());
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    let selected = |name: &str| {
        only.as_ref().is_none_or(|o| o.iter().any(|n| n == name)) && !skip.iter().any(|n| n == name)
    };

    let started = Instant::now();
    let mut results: Vec<(&str, Result<(), String>, Duration)> = Vec::new();
    for step in STEPS {
        if !selected(step.name) {
            continue;
        }
        println!("\n==== xtask test: {} ({}) ====", step.name, step.about);
        let t = Instant::now();
        let r = (step.run)(&options);
        if let Err(e) = &r {
            println!("==== {} FAILED: {e}", step.name);
        }
        results.push((step.name, r, t.elapsed()));
        // Without the tools nothing after setup can run meaningfully.
        if step.name == "setup" && results.last().is_some_and(|r| r.1.is_err()) {
            break;
        }
    }

    println!("\n==== xtask test summary ====");
    for (name, r, d) in &results {
        let verdict = if r.is_ok() { "ok" } else { "FAILED" };
        println!("{name:<8} {verdict:<7} {:>7.1} s", d.as_secs_f64());
        if let Err(e) = r {
            println!("         {e}");
        }
    }
    let failed = results.iter().filter(|r| r.1.is_err()).count();
    let passed = results.len() - failed;
    println!("total {:.1} s", started.elapsed().as_secs_f64());
    println!("steps: {passed} passed, {failed} failed");
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} step(s) failed"))
    }
}

fn step_setup(o: &Options) -> Result<(), String> {
    if !o.install {
        println!("--no-install: checking nothing, installing nothing");
        return Ok(());
    }
    setup::rust(true)?;
    if root().join("fuzz").exists() {
        setup::cargo_fuzz()?;
    }
    setup::qemu()?;
    setup::tmux()
}

fn kernel_dir() -> PathBuf {
    root().join("qemu-tests").join("kernel")
}

fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

fn step_fmt(_: &Options) -> Result<(), String> {
    run(&cargo().args(["fmt", "--all", "--check"]))?;
    for dir in [kernel_dir(), fuzz_dir()] {
        if dir.join("Cargo.toml").exists() {
            // Without --all: path dependencies belong to the workspace checked above.
            run(&cargo().args(["fmt", "--check"]).dir(dir))?;
        }
    }
    Ok(())
}

fn step_clippy(_: &Options) -> Result<(), String> {
    run(&cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    if kernel_dir().join("Cargo.toml").exists() {
        run(&cargo()
            .args([
                "clippy",
                "--release",
                "--target",
                "x86_64-unknown-none",
                "--",
                "-D",
                "warnings",
            ])
            .dir(kernel_dir())
            .env(
                "CARGO_TARGET_DIR",
                target_dir("kernel").display().to_string(),
            ))?;
    }
    Ok(())
}

fn target_dir(sub: &str) -> PathBuf {
    let base = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    base.join(sub)
}

fn step_test(_: &Options) -> Result<(), String> {
    run(&cargo().args(["test", "--workspace"]))
}

fn step_doc(_: &Options) -> Result<(), String> {
    run(&cargo()
        .args(["doc", "--workspace", "--no-deps", "--all-features"])
        .env("RUSTDOCFLAGS", "-D warnings"))
}

fn step_no_std(_: &Options) -> Result<(), String> {
    let crates = library_crates();
    if crates.is_empty() {
        return Err("no library crates found under crates/".into());
    }
    let mut targets: Vec<&str> = setup::NO_STD_TARGETS.to_vec();
    targets.extend(setup::EXTRA_TARGETS);
    for target in targets {
        for c in &crates {
            // thumbv6m (no RMW atomics) is a promise of the queue only.
            if setup::EXTRA_TARGETS.contains(&target) && c.name != "irqkit-intq" {
                continue;
            }
            let mut cmd = cargo().args(["build", "-p", &c.name, "--target", target]);
            if let Some(features) = no_std_features(&c.name, target) {
                cmd = cmd.args(["--features", features]);
            }
            run(&cmd)?;
        }
    }
    Ok(())
}

fn step_stress(_: &Options) -> Result<(), String> {
    for c in library_crates().iter().filter(|c| c.has("tests/stress.rs")) {
        run(&cargo().args(["test", "--release", "-p", &c.name, "--test", "stress"]))?;
    }
    Ok(())
}

fn step_loom(_: &Options) -> Result<(), String> {
    for c in library_crates().iter().filter(|c| c.has("tests/loom.rs")) {
        run(&cargo()
            .args(["test", "--release", "-p", &c.name, "--test", "loom"])
            .env("RUSTFLAGS", "--cfg loom")
            .env("LOOM_MAX_PREEMPTIONS", "3")
            .env("CARGO_TARGET_DIR", target_dir("loom").display().to_string()))?;
    }
    Ok(())
}

fn step_miri(_: &Options) -> Result<(), String> {
    for (name, flags) in MIRI_CRATES {
        if !library_crates().iter().any(|c| c.name == *name) {
            continue;
        }
        run(&cargo()
            .args(["+nightly", "miri", "test", "-p", name])
            .env("MIRIFLAGS", *flags)
            .env("CARGO_TARGET_DIR", target_dir("miri").display().to_string()))?;
    }
    Ok(())
}

/// The test targets that run real threads, per crate: ThreadSanitizer checks them for data
/// races the way Miri checks the single-threaded suites.
const TSAN_TESTS: &[(&str, &[&str])] = &[
    ("irqkit-intq", &["stress", "wake_modes"]),
    ("irqkit-defer", &["threads", "intq"]),
];

fn step_tsan(_: &Options) -> Result<(), String> {
    let host = setup::host_triple()?;
    for (name, tests) in TSAN_TESTS {
        let mut cmd = cargo().args([
            "+nightly",
            "test",
            "-Zbuild-std",
            "--target",
            &host,
            // Debug builds: the stress tests scale their item counts down without
            // optimisations, which keeps the sanitizer run to a few minutes.
            "-p",
            name,
        ]);
        for t in *tests {
            cmd = cmd.args(["--test", t]);
        }
        run(&cmd
            .env("RUSTFLAGS", "-Zsanitizer=thread")
            // The sanitizer build of std must not share artefacts with the plain builds.
            .env("CARGO_TARGET_DIR", target_dir("tsan").display().to_string())
            .env("TSAN_OPTIONS", "halt_on_error=1"))?;
    }
    Ok(())
}

fn step_fuzz(o: &Options) -> Result<(), String> {
    let targets_dir = fuzz_dir().join("fuzz_targets");
    let Ok(entries) = std::fs::read_dir(&targets_dir) else {
        println!("no fuzz/ targets yet");
        return Ok(());
    };
    let mut targets: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    targets.sort();
    for t in targets {
        // New inputs go to a scratch corpus; the committed corpus only seeds the run, so the
        // repository's corpus stays small.
        let scratch = target_dir("fuzz-scratch").join(&t);
        std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
        let seeds = fuzz_dir().join("corpus").join(&t);
        let mut cmd = cargo().args(["+nightly", "fuzz", "run", &t]);
        cmd = cmd.arg(scratch.display().to_string());
        if seeds.exists() {
            cmd = cmd.arg(seeds.display().to_string());
        }
        run(&cmd.args([
            "--".to_string(),
            format!("-max_total_time={}", o.fuzz_seconds),
        ]))?;
    }
    Ok(())
}

fn step_qemu(_: &Options) -> Result<(), String> {
    run(&cargo().args([
        "test",
        "-p",
        "irqkit-qemu-tests",
        "--",
        "--ignored",
        "--test-threads=2",
    ]))
}

pub fn demo(args: &[String]) -> Result<(), String> {
    setup::qemu()?;
    run(&cargo()
        .args([
            "run",
            "--quiet",
            "-p",
            "irqkit-qemu-tests",
            "--bin",
            "irqkit-qemu",
            "--",
            "demo",
        ])
        .args(args.iter().cloned()))
}

/// The bench targets of a crate: the files in its benches/ folder.
fn bench_targets(c: &Crate) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(c.dir.join("benches"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".rs").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

pub fn bench(args: &[String]) -> Result<(), String> {
    // `cargo xtask bench [CRATE...] [-- CRITERION ARGS]`
    let split = args.iter().position(|a| a == "--").unwrap_or(args.len());
    let (names, criterion_args) = (&args[..split], args.get(split + 1..).unwrap_or(&[]));
    let crates = library_crates();
    let chosen: Vec<&Crate> = if names.is_empty() {
        crates.iter().filter(|c| c.has("benches")).collect()
    } else {
        names
            .iter()
            .map(|a| {
                crates
                    .iter()
                    .find(|c| &c.name == a || c.dir.ends_with(a))
                    .ok_or_else(|| format!("no crate `{a}` under crates/"))
            })
            .collect::<Result<_, _>>()?
    };
    for c in chosen {
        // Name the criterion targets: the lib's libtest harness would reject criterion's flags.
        let mut cmd = cargo().args(["bench", "-p", &c.name]);
        for bench in bench_targets(c) {
            cmd = cmd.args(["--bench", &bench]);
        }
        run(&cmd.arg("--").args(criterion_args.iter().cloned()))?;
    }
    Ok(())
}
