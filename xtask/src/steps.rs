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

/// The Miri runs: package, MIRIFLAGS, and the cargo-test arguments that select what runs.
/// Whole suites for the crates with unsafe code or atomics; for hal-mock (whose IDE model suites
/// take minutes per test under the interpreter) the model-independent parts: the bus, clock,
/// interrupt lines, scripts and faults. intq's tests leak `'static` queues on purpose
/// (`Box::leak`) and its doctests leave threads running, so leaks are not errors there.
const MIRI_RUNS: &[(&str, &str, &[&str])] = &[
    ("irqkit-hal", "-Zmiri-strict-provenance", &[]),
    (
        "irqkit-intq",
        "-Zmiri-strict-provenance -Zmiri-ignore-leaks",
        &[],
    ),
    ("irqkit-defer", "-Zmiri-strict-provenance", &[]),
    (
        "irqkit-hal-mock",
        "-Zmiri-strict-provenance",
        &[
            "--lib",
            "--test",
            "time",
            "--test",
            "script",
            "--test",
            "fault",
            "--test",
            "irq",
            "--test",
            "dispatch",
            "--",
            // Spins 100 000 accesses on purpose: minutes under the interpreter.
            "--skip",
            "the_spin_limit",
        ],
    ),
    // Safe code only: Miri checks what it calls in core and the dependencies. The unit tests
    // cover every set's decoder, the encoder, layouts and the controller engine; proptest needs
    // the working directory for its failure file, hence no isolation.
    (
        "irqkit-ps2",
        "-Zmiri-strict-provenance -Zmiri-disable-isolation",
        // The engine's command property test is minutes under the interpreter (its own
        // case count); it runs natively and as the command_engine fuzz target.
        &["--lib", "--", "--skip", "controller::engine::tests::prop"],
    ),
    // The pure command layer, the top half's races and the async/queue ownership paths; the
    // other suites drive the IDE model, which is slow under the interpreter.
    (
        "irqkit-ata",
        "-Zmiri-strict-provenance -Zmiri-ignore-leaks",
        &["--lib", "--test", "async_queue"],
    ),
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
        about: "cargo doc with warnings denied (broken links, missing docs), and as docs.rs builds it (nightly, --cfg docsrs)",
        run: step_doc,
    },
    Step {
        name: "package",
        about: "cargo package of every library crate (licence and README shipped, packaged crate builds)",
        run: step_package,
    },
    Step {
        name: "msrv",
        about: "build every library crate with the declared rust-version (all features it supports)",
        run: step_msrv,
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
    setup::msrv_toolchain(&rust_version()?)?;
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
    run(&cargo().args(["test", "--workspace"]))?;
    // The block-device adapters are features of their own; their tests need both.
    run(&cargo().args(["test", "-p", "irqkit-ata", "--all-features"]))
}

fn step_doc(_: &Options) -> Result<(), String> {
    run(&cargo()
        .args(["doc", "--workspace", "--no-deps", "--all-features"])
        .env("RUSTDOCFLAGS", "-D warnings"))?;
    // docs.rs builds with nightly, all features (our metadata asks for them) and
    // `--cfg docsrs`, under which the crates enable `feature(doc_cfg)`.
    let mut cmd = cargo().args(["+nightly", "doc", "--no-deps", "--all-features"]);
    for c in library_crates() {
        cmd = cmd.args(["-p", &c.name]);
    }
    run(&cmd.env("RUSTDOCFLAGS", "--cfg docsrs -D warnings").env(
        "CARGO_TARGET_DIR",
        target_dir("docsrs").display().to_string(),
    ))
}

/// Files every packaged library crate must contain (the crates.io page and the licences).
const PACKAGE_FILES: &[&str] = &["README.md", "LICENSE-MIT", "LICENSE-APACHE"];

/// Packages every library crate in one `cargo package` run and builds each packaged crate.
///
/// One run with every crate named, not one run per crate: a crate's dependencies on the other
/// irqkit crates then resolve to their packaged versions through cargo's temporary local
/// registry (cargo 1.90 and newer), whereas `cargo package -p irqkit-ata` alone would resolve
/// `irqkit-hal` from crates.io, which lacks the API of the workspace version or the crate
/// altogether. `--allow-dirty`: the step checks the working tree, committed or not.
fn step_package(_: &Options) -> Result<(), String> {
    let crates = library_crates();
    if crates.is_empty() {
        return Err("no library crates found under crates/".into());
    }
    let mut problems = Vec::new();
    for c in &crates {
        let out = Command::new("cargo")
            .args(["package", "--list", "--allow-dirty", "-p", &c.name])
            .current_dir(root())
            .output()
            .map_err(|e| format!("could not run cargo package --list: {e}"))?;
        if !out.status.success() {
            problems.push(format!(
                "`cargo package --list -p {}` failed: {}",
                c.name,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
            continue;
        }
        let listed = String::from_utf8_lossy(&out.stdout);
        let missing: Vec<&str> = PACKAGE_FILES
            .iter()
            .copied()
            .filter(|f| !listed.lines().any(|l| l.trim() == *f))
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "{} does not ship {} (add them to {})",
                c.name,
                missing.join(", "),
                c.dir.display()
            ));
        }
    }
    let mut cmd = cargo().args(["package", "--allow-dirty"]);
    for c in &crates {
        cmd = cmd.args(["-p", &c.name]);
    }
    if let Err(e) = run(&cmd.env(
        "CARGO_TARGET_DIR",
        target_dir("package").display().to_string(),
    )) {
        problems.push(e);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Features left out of the MSRV build because a dependency they enable needs a newer Rust;
/// each crate's README says so per feature.
const MSRV_EXCLUDED_FEATURES: &[(&str, &str)] = &[];

/// The workspace's `rust-version` (the MSRV every library crate declares).
fn rust_version() -> Result<String, String> {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml"))
        .map_err(|e| format!("Cargo.toml: {e}"))?;
    manifest
        .lines()
        .find_map(|l| {
            let rest = l.trim().strip_prefix("rust-version")?.trim_start();
            Some(rest.strip_prefix('=')?.trim().trim_matches('"').to_string())
        })
        .ok_or_else(|| "no rust-version in the workspace Cargo.toml".into())
}

/// The feature names of a crate's `[features]` table, `default` left out.
fn features(c: &Crate) -> Vec<String> {
    let manifest = std::fs::read_to_string(c.dir.join("Cargo.toml")).unwrap_or_default();
    let mut in_features = false;
    let mut names = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_features = line == "[features]";
            continue;
        }
        if !in_features || line.starts_with('#') {
            continue;
        }
        if let Some((name, _)) = line.split_once('=') {
            let name = name.trim();
            if !name.is_empty() && name != "default" {
                names.push(name.to_string());
            }
        }
    }
    names
}

/// Builds every library crate, with every feature not in [`MSRV_EXCLUDED_FEATURES`], on the
/// declared `rust-version` toolchain, for the host.
///
/// The build runs in a scratch package that depends on the crates by path, not in the
/// workspace: the workspace's Cargo.lock holds the newest dependency versions (some need a
/// newer Rust), while the scratch package resolves with cargo's MSRV-aware resolver
/// (`resolver = "3"`), picking what a user on the oldest supported Rust gets.
fn step_msrv(_: &Options) -> Result<(), String> {
    let version = rust_version()?;
    let crates = library_crates();
    let dir = target_dir("msrv-check");
    std::fs::create_dir_all(dir.join("src")).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut manifest = format!(
        "# Written by `cargo xtask test --only msrv`.\n\
         [package]\nname = \"irqkit-msrv-check\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         rust-version = \"{version}\"\nresolver = \"3\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\n"
    );
    for c in &crates {
        let features: Vec<String> = features(c)
            .into_iter()
            .filter(|f| !MSRV_EXCLUDED_FEATURES.contains(&(c.name.as_str(), f.as_str())))
            .map(|f| format!("{f:?}"))
            .collect();
        manifest += &format!(
            "{} = {{ path = {:?}, features = [{}] }}\n",
            c.name,
            c.dir.display().to_string(),
            features.join(", ")
        );
    }
    let write = |path: PathBuf, text: &str| {
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write(dir.join("Cargo.toml"), &manifest)?;
    write(dir.join("src").join("lib.rs"), "#![no_std]\n")?;
    // A fresh resolution each run: the newest versions that still support `version`.
    let _ = std::fs::remove_file(dir.join("Cargo.lock"));
    run(&cargo()
        .arg(format!("+{version}"))
        .arg("build")
        .dir(&dir)
        .env("CARGO_TARGET_DIR", target_dir("msrv").display().to_string()))
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
    for (name, flags, args) in MIRI_RUNS {
        run(&cargo()
            .args(["+nightly", "miri", "test", "-p", name])
            .args(args.iter().copied())
            .env("MIRIFLAGS", *flags)
            // Property tests on their default configuration run a few cases under Miri.
            .env("PROPTEST_CASES", "8")
            .env("CARGO_TARGET_DIR", target_dir("miri").display().to_string()))?;
    }
    Ok(())
}

/// The test targets that run real threads, per crate: ThreadSanitizer checks them for data
/// races the way Miri checks the single-threaded suites.
const TSAN_TESTS: &[(&str, &[&str])] = &[
    ("irqkit-intq", &["stress", "wake_modes", "soundness"]),
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
