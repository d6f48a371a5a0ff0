//! Building the test kernel (`qemu-tests/kernel`) once per process.
//!
//! The kernel is a workspace of its own with its own `.cargo/config.toml`, and cargo reads that
//! file from the current directory, so cargo runs *in* the kernel folder. The build variables
//! cargo gives to this process (`RUSTFLAGS`, `CARGO_ENCODED_RUSTFLAGS`, `CARGO_TARGET_DIR`,
//! `CARGO_PKG_*`...) are removed: they describe the host build, not the kernel's.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::error::{BuildError, Error, TAIL_LINES};

/// The kernel's target triple.
pub const KERNEL_TARGET: &str = "x86_64-unknown-none";
/// The kernel's binary name.
pub const KERNEL_NAME: &str = "irqkit-test-kernel";

/// A built kernel image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelImage {
    /// The ELF file QEMU boots with `-kernel`.
    pub path: PathBuf,
    /// How long `cargo build` took in this process (near zero when up to date).
    pub build_time: Duration,
}

static KERNEL: OnceLock<Result<KernelImage, BuildError>> = OnceLock::new();

/// The kernel crate's folder.
pub fn kernel_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kernel")
}

/// Where the kernel is built: `$IRQKIT_KERNEL_TARGET_DIR`, else `irqkit-test-kernel/` under
/// `$CARGO_TARGET_DIR`, else under the workspace's `target/` (made absolute).
pub fn kernel_target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("IRQKIT_KERNEL_TARGET_DIR") {
        let dir = PathBuf::from(dir);
        return std::path::absolute(&dir).unwrap_or(dir);
    }
    let outer = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    // Cargo runs in the kernel folder: a relative directory must not change meaning there.
    let outer = std::path::absolute(&outer).unwrap_or(outer);
    outer.join(KERNEL_NAME)
}

/// Builds the kernel the first time it is called in this process and returns the image;
/// later calls (from any thread) return the same result without building again.
///
/// # Errors
///
/// [`Error::KernelBuild`] with cargo's stderr tail when the build fails.
pub fn kernel_image() -> Result<&'static KernelImage, Error> {
    KERNEL
        .get_or_init(|| build(&kernel_dir(), &kernel_target_dir()))
        .as_ref()
        .map_err(|error| Error::KernelBuild(error.clone()))
}

/// Whether an environment variable of the enclosing cargo invocation must not reach the
/// kernel's build: flags and settings for the host target, and the per-package variables cargo
/// sets for tests and build scripts. Registry, network, terminal and home settings stay.
pub fn is_host_build_variable(name: &str) -> bool {
    const KEPT_CARGO_PREFIXES: [&str; 6] = [
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
    ];
    if name.starts_with("__CARGO") {
        return true;
    }
    if name.starts_with("CARGO_") {
        return !KEPT_CARGO_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix));
    }
    matches!(
        name,
        "RUSTFLAGS" | "RUSTDOCFLAGS" | "RUSTC_WORKSPACE_WRAPPER" | "CARGO_ENCODED_RUSTFLAGS"
    )
}

/// The `cargo build` command for the kernel in `kernel_dir`, into `target_dir`.
pub fn build_command(kernel_dir: &Path, target_dir: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut command = Command::new(cargo);
    command
        .args(["build", "--release", "--target", KERNEL_TARGET])
        .current_dir(kernel_dir);
    for (name, _) in std::env::vars_os() {
        if name.to_str().is_some_and(is_host_build_variable) {
            command.env_remove(&name);
        }
    }
    command.env("CARGO_TARGET_DIR", target_dir);
    command
}

/// Where `cargo build --release --target x86_64-unknown-none` puts the kernel.
pub fn image_path(target_dir: &Path) -> PathBuf {
    target_dir
        .join(KERNEL_TARGET)
        .join("release")
        .join(KERNEL_NAME)
}

fn build(kernel_dir: &Path, target_dir: &Path) -> Result<KernelImage, BuildError> {
    let mut command = build_command(kernel_dir, target_dir);
    let shown = format!(
        "cd {} && CARGO_TARGET_DIR={} cargo build --release --target {KERNEL_TARGET}",
        kernel_dir.display(),
        target_dir.display()
    );
    let started = Instant::now();
    let output = command
        .output()
        .map_err(|error| BuildError::CargoNotStarted {
            cargo: command.get_program().to_string_lossy().into_owned(),
            reason: error.to_string(),
        })?;
    let build_time = started.elapsed();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        let tail = lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n");
        return Err(BuildError::Failed {
            command: shown,
            status: output.status.code(),
            stderr_tail: tail,
        });
    }
    let path = image_path(target_dir);
    if !path.is_file() {
        return Err(BuildError::ImageMissing(path));
    }
    Ok(KernelImage { path, build_time })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_build_variables_are_dropped() {
        for name in [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
            "CARGO_BUILD_TARGET",
            "CARGO_TARGET_DIR",
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER",
            "CARGO_PKG_NAME",
            "CARGO_MANIFEST_DIR",
            "CARGO_PRIMARY_PACKAGE",
            "CARGO_PROFILE_RELEASE_LTO",
            "RUSTC_WORKSPACE_WRAPPER",
            "__CARGO_FIX_PLZ",
        ] {
            assert!(is_host_build_variable(name), "{name}");
        }
        for name in [
            "CARGO_HOME",
            "CARGO_NET_OFFLINE",
            "CARGO_HTTP_TIMEOUT",
            "CARGO_REGISTRIES_CRATES_IO_PROTOCOL",
            "CARGO_TERM_COLOR",
            "CARGO",
            "PATH",
            "HOME",
            "RUSTUP_TOOLCHAIN",
        ] {
            assert!(!is_host_build_variable(name), "{name}");
        }
    }

    #[test]
    fn command_runs_in_the_kernel_folder_with_its_own_target_dir() {
        let command = build_command(Path::new("/k"), Path::new("/t"));
        let args: Vec<_> = command.get_args().collect();
        assert_eq!(
            args,
            ["build", "--release", "--target", "x86_64-unknown-none"]
        );
        assert_eq!(command.get_current_dir(), Some(Path::new("/k")));
        let envs: Vec<_> = command.get_envs().collect();
        assert!(envs.contains(&("CARGO_TARGET_DIR".as_ref(), Some("/t".as_ref()))));
        assert_eq!(
            image_path(Path::new("/t")),
            Path::new("/t/x86_64-unknown-none/release/irqkit-test-kernel")
        );
    }

    #[test]
    fn kernel_folder_exists() {
        assert!(kernel_dir().join("Cargo.toml").is_file());
        assert!(kernel_dir().join("Cargo.lock").is_file());
    }
}
