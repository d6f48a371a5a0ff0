//! Host-side runner for the irqkit QEMU test kernel (`qemu-tests/kernel`).
//!
//! It builds the kernel once per process ([`kernel_image`]), boots a test case under
//! `qemu-system-x86_64` with a deadline ([`Qemu`] → [`Running`]), captures serial output line
//! by line, injects keys over QMP, and turns QEMU's exit status into an [`Outcome`]: only
//! status 33 (the kernel wrote 0x10 to isa-debug-exit) is success; 35 (failure), 0 (triple
//! fault) and anything else are failures, reported with the serial output and the kernel's
//! panic message.
//!
//! ```no_run
//! use std::time::Duration;
//! use irqkit_qemu_tests::Qemu;
//!
//! let secs = Duration::from_secs;
//! let mut running = Qemu::new("echo_keys").timeout(secs(20)).spawn()?;
//! running.wait_for_line("READY", secs(10))?;
//! running.send_keys(&["a", "esc"])?;
//! let outcome = running.wait()?.expect_success()?;
//! assert!(outcome.line("key=1e").is_some());
//! # Ok::<(), irqkit_qemu_tests::Error>(())
//! ```
//!
//! Environment: `$IRQKIT_QEMU` overrides the QEMU binary, `$IRQKIT_KERNEL_TARGET_DIR` the
//! kernel's cargo target directory.

pub mod bench_ata;
mod command;
pub mod demo;
pub mod demo_disk;
mod disk;
mod error;
mod kernel;
mod outcome;
mod qmp;
mod runner;
mod serial;
mod tempdir;
mod trace;

pub use command::{
    drive_option, kernel_command_line, qemu_program, trace_args, QemuArgs, DEFAULT_QEMU,
};
pub use disk::{pattern_bytes, pattern_mismatch, pattern_sector, Disk, MAX_DISKS, SECTOR_SIZE};
pub use error::{BuildError, Error, QmpError, QEMU_APT_PACKAGE};
pub use kernel::{
    build_command, image_path, is_host_build_variable, kernel_dir, kernel_image, kernel_target_dir,
    KernelImage, KERNEL_NAME, KERNEL_TARGET,
};
pub use outcome::{ExitKind, Outcome, FAILURE_STATUS, SUCCESS_STATUS};
pub use qmp::{
    input_send_event_command, parse_message, validate_key_name, KeyEvent, Message,
    CAPABILITIES_COMMAND,
};
pub use runner::{Qemu, Running, DEFAULT_TIMEOUT, KEY_PACING};
pub use serial::{decode_line, exception_report, panic_message, LineMatch};
pub use trace::{Trace, TraceEvent, IDE_EXEC_CMD, SERIAL_WRITE};
