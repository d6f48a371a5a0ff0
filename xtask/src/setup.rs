//! Installing what the checks need on a fresh machine: rustup targets and components,
//! cargo-fuzz, and QEMU.

use std::process::Command;

use crate::steps::{run, Cmd};

/// The no_std targets every library crate must build for.
pub const NO_STD_TARGETS: &[&str] = &["thumbv7em-none-eabihf", "x86_64-unknown-none"];
/// Targets needed beyond those: thumbv6m proves the queue needs no read-modify-write atomics.
pub const EXTRA_TARGETS: &[&str] = &["thumbv6m-none-eabi"];

pub fn have(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn installed_targets(toolchain: &str) -> String {
    Command::new("rustup")
        .args([
            "+".to_string() + toolchain,
            "target".into(),
            "list".into(),
            "--installed".into(),
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// Rust side: targets for stable, rustfmt/clippy, nightly with miri and rust-src.
pub fn rust(needs_nightly: bool) -> Result<(), String> {
    if !have("rustup", "--version") {
        return Err("rustup not found: install rustup to add targets and components".into());
    }
    let installed = installed_targets("stable");
    let missing: Vec<&str> = NO_STD_TARGETS
        .iter()
        .chain(EXTRA_TARGETS)
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if !missing.is_empty() {
        let mut c = Cmd::new("rustup").args(["target", "add"]);
        c = c.args(missing);
        run(&c)?;
    }
    run(&Cmd::new("rustup").args(["component", "add", "rustfmt", "clippy"]))?;
    if needs_nightly {
        // Keep an installed nightly as it is (an update would change the Miri and fuzz
        // toolchain under our feet); add only the components.
        let toolchains = Command::new("rustup")
            .args(["toolchain", "list"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        if toolchains.lines().any(|l| l.starts_with("nightly")) {
            run(&Cmd::new("rustup").args([
                "component",
                "add",
                "--toolchain",
                "nightly",
                "miri",
                "rust-src",
            ]))?;
        } else {
            run(&Cmd::new("rustup").args([
                "toolchain",
                "install",
                "nightly",
                "--profile",
                "minimal",
                "--component",
                "miri,rust-src",
            ]))?;
        }
    }
    Ok(())
}

/// The toolchain of the declared `rust-version`, for the MSRV build (host only, so the
/// minimal profile without extra targets).
pub fn msrv_toolchain(version: &str) -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let prefix = format!("{version}-");
    if installed.lines().any(|l| l.starts_with(&prefix)) {
        return Ok(());
    }
    run(&Cmd::new("rustup").args(["toolchain", "install", version, "--profile", "minimal"]))
}

/// The host's target triple (`rustc -vV`), which `-Zbuild-std` needs spelled out.
pub fn host_triple() -> Result<String, String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|e| format!("could not run `rustc -vV`: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_string())
        .ok_or_else(|| "`rustc -vV` printed no `host:` line".into())
}

/// cargo-fuzz for the fuzz smoke step.
pub fn cargo_fuzz() -> Result<(), String> {
    if have("cargo-fuzz", "--version") {
        return Ok(());
    }
    run(&Cmd::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
}

/// QEMU: installed with apt-get when missing and we may (root with apt), else a clear message.
pub fn qemu() -> Result<(), String> {
    apt_install("qemu-system-x86_64", "qemu-system-x86")
}

/// tmux, which the demo's terminal-session tests drive: installed like QEMU.
pub fn tmux() -> Result<(), String> {
    apt_install("tmux", "tmux")
}

/// Makes `program` runnable: nothing when it is, else `apt-get install -y package` when we
/// are root with apt, else an error that says which package to install.
fn apt_install(program: &str, package: &str) -> Result<(), String> {
    if have(program, "-V") || have(program, "--version") {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !is_root || !have("apt-get", "--version") {
        return Err(format!(
            "{program} not found: install the Debian/Ubuntu package `{package}` \
             (apt-get install -y {package}), then rerun"
        ));
    }
    run(&Cmd::new("apt-get")
        .arg("update")
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(&Cmd::new("apt-get")
        .args(["install", "-y", package])
        .env("DEBIAN_FRONTEND", "noninteractive"))?;
    if have(program, "-V") || have(program, "--version") {
        Ok(())
    } else {
        Err(format!(
            "apt-get installed {package} but {program} is still not runnable"
        ))
    }
}
