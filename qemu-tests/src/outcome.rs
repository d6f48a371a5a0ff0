//! How a QEMU run ended, and what the kernel printed.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::error::Error;
use crate::serial::{self, LineMatch};
use crate::tempdir::TempDir;
use crate::trace::Trace;

/// QEMU's exit status when the kernel wrote 0x10 to isa-debug-exit: the only success.
pub const SUCCESS_STATUS: i32 = (0x10 << 1) | 1;
/// QEMU's exit status when the kernel wrote 0x11 to isa-debug-exit (panic, exception, failed
/// check).
pub const FAILURE_STATUS: i32 = (0x11 << 1) | 1;

/// What QEMU's exit status means for the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// Status 33: the kernel reported success.
    Success,
    /// Status 35: the kernel reported failure.
    Failure,
    /// Status 0: under `-no-reboot` this is a triple fault (or a reset), never a success.
    TripleFault,
    /// Any other status: QEMU itself failed (1 = bad option, missing file...) or the kernel
    /// wrote an unexpected value to isa-debug-exit.
    Other(i32),
    /// QEMU was ended by a signal (no status).
    Signaled,
}

impl ExitKind {
    /// Interprets QEMU's exit code (`None` when ended by a signal).
    pub fn from_code(code: Option<i32>) -> Self {
        match code {
            Some(SUCCESS_STATUS) => Self::Success,
            Some(FAILURE_STATUS) => Self::Failure,
            Some(0) => Self::TripleFault,
            Some(other) => Self::Other(other),
            None => Self::Signaled,
        }
    }

    /// Whether this is the agreed success status.
    pub fn is_success(self) -> bool {
        self == Self::Success
    }
}

impl fmt::Display for ExitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Success => write!(f, "exit status {SUCCESS_STATUS}: success"),
            Self::Failure => write!(
                f,
                "exit status {FAILURE_STATUS}: the kernel reported failure"
            ),
            Self::TripleFault => write!(f, "exit status 0: triple fault or reset"),
            Self::Other(code) => write!(f, "unexpected exit status {code}"),
            Self::Signaled => write!(f, "killed by a signal"),
        }
    }
}

/// The end of a QEMU run that exited by itself.
#[derive(Debug)]
pub struct Outcome {
    /// The test case.
    pub test: String,
    /// What the exit status means.
    pub status: ExitKind,
    /// Every serial line, without line terminators.
    pub serial: Vec<String>,
    /// QEMU's stderr lines.
    pub stderr: Vec<String>,
    /// The kernel's panic message (`<message> at <location>`), if it printed one.
    pub panic: Option<String>,
    /// The kernel's exception report (the first `EXCEPTION:` line, without the prefix).
    pub exception: Option<String>,
    /// Time from spawning QEMU to its exit.
    pub elapsed: Duration,
    pub(crate) disks: Vec<PathBuf>,
    pub(crate) trace_file: Option<PathBuf>,
    pub(crate) _dir: Arc<TempDir>,
}

impl Outcome {
    /// Whether QEMU exited with the success status.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// Returns the outcome if the kernel reported success.
    ///
    /// # Errors
    ///
    /// [`Error::Failed`] otherwise; its message names the status, the panic message or
    /// exception report, and the serial output.
    pub fn expect_success(self) -> Result<Self, Error> {
        if self.is_success() {
            Ok(self)
        } else {
            Err(Error::Failed(Box::new(self)))
        }
    }

    /// One line: which test, how it ended, and why.
    pub fn summary(&self) -> String {
        let verdict = if self.is_success() {
            "passed"
        } else {
            "FAILED"
        };
        let mut text = format!(
            "test `{}` {verdict} ({}) in {:.2} s",
            self.test,
            self.status,
            self.elapsed.as_secs_f64()
        );
        if let Some(panic) = &self.panic {
            text.push_str(&format!("; kernel panicked: {panic}"));
        }
        if let Some(exception) = &self.exception {
            text.push_str(&format!("; CPU exception: {exception}"));
        }
        if let Some(error) = serial::find(&self.serial, &LineMatch::prefix("ERROR: ")) {
            text.push_str(&format!("; kernel said: {error}"));
        }
        text
    }

    /// The first serial line that matches.
    pub fn line(&self, pattern: impl Into<LineMatch>) -> Option<&str> {
        serial::find(&self.serial, &pattern.into())
    }

    /// The value of the first `KEY=VALUE` serial line for `key` (e.g. `ticks`).
    pub fn value(&self, key: &str) -> Option<&str> {
        serial::value(&self.serial, key)
    }

    /// The values of every `KEY=VALUE` serial line for `key`, in order (e.g. every `key=XX`).
    pub fn values(&self, key: &str) -> Vec<&str> {
        serial::values(&self.serial, key)
    }

    /// The current contents of disk `index` (after the kernel's writes).
    ///
    /// # Errors
    ///
    /// An I/O error when the index has no disk or the image cannot be read.
    pub fn disk(&self, index: usize) -> io::Result<Vec<u8>> {
        let path = self.disks.get(index).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no disk with index {index}"),
            )
        })?;
        std::fs::read(path)
    }

    /// Where disk `index`'s image file is (it lives as long as this outcome).
    pub fn disk_path(&self, index: usize) -> Option<&Path> {
        self.disks.get(index).map(PathBuf::as_path)
    }

    /// `len` bytes of disk `index` from byte `offset` (for images too large to read whole,
    /// such as a sparse 200 GiB disk).
    ///
    /// # Errors
    ///
    /// An I/O error when the index has no disk or the range cannot be read.
    pub fn read_disk(&self, index: usize, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        use std::io::{Read, Seek, SeekFrom};
        let path = self.disk_path(index).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no disk with index {index}"),
            )
        })?;
        let mut file = std::fs::File::open(path)?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = vec![0; len];
        file.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    /// The QEMU trace events of the run ([`Qemu::trace`](crate::Qemu::trace)), in order.
    ///
    /// # Errors
    ///
    /// An I/O error when the run traced nothing or the file cannot be read.
    pub fn trace(&self) -> io::Result<Trace> {
        let path = self.trace_file.as_ref().ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                "this run enabled no trace events (Qemu::trace)",
            )
        })?;
        let bytes = std::fs::read(path)?;
        Ok(Trace::parse(&String::from_utf8_lossy(&bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_33_is_success() {
        assert_eq!(ExitKind::from_code(Some(33)), ExitKind::Success);
        assert_eq!(ExitKind::from_code(Some(35)), ExitKind::Failure);
        assert_eq!(ExitKind::from_code(Some(0)), ExitKind::TripleFault);
        assert_eq!(ExitKind::from_code(Some(1)), ExitKind::Other(1));
        assert_eq!(ExitKind::from_code(None), ExitKind::Signaled);
        for code in [0, 1, 2, 32, 34, 35, 255] {
            assert!(!ExitKind::from_code(Some(code)).is_success(), "{code}");
        }
        assert!(ExitKind::from_code(Some(33)).is_success());
    }

    fn outcome(status: Option<i32>, serial: &[&str]) -> Outcome {
        let serial: Vec<String> = serial.iter().map(|s| s.to_string()).collect();
        Outcome {
            test: "t".into(),
            status: ExitKind::from_code(status),
            panic: serial::panic_message(&serial).map(str::to_owned),
            exception: serial::exception_report(&serial).map(str::to_owned),
            serial,
            stderr: Vec::new(),
            elapsed: Duration::from_millis(250),
            disks: Vec::new(),
            trace_file: None,
            _dir: Arc::new(TempDir::new().unwrap()),
        }
    }

    #[test]
    fn failure_error_names_the_panic_and_the_serial() {
        let error = outcome(Some(35), &["booting", "PANIC: boom at src/x.rs:1:2"])
            .expect_success()
            .unwrap_err();
        let text = error.to_string();
        assert!(text.contains("FAILED"), "{text}");
        assert!(
            text.contains("kernel panicked: boom at src/x.rs:1:2"),
            "{text}"
        );
        assert!(text.contains("    booting"), "{text}");
        assert_eq!(error.panic_message(), Some("boom at src/x.rs:1:2"));
    }

    #[test]
    fn triple_fault_is_a_failure_with_its_reason() {
        let error = outcome(Some(0), &["boot"]).expect_success().unwrap_err();
        assert!(error.to_string().contains("triple fault"), "{error}");
    }

    #[test]
    fn success_keeps_values() {
        let outcome = outcome(Some(33), &["ticks=12", "TEST PASSED: t"])
            .expect_success()
            .unwrap();
        assert_eq!(outcome.value("ticks"), Some("12"));
        assert_eq!(
            outcome.line(LineMatch::prefix("TEST PASSED")),
            Some("TEST PASSED: t")
        );
        assert!(outcome.summary().contains("passed"));
    }
}
