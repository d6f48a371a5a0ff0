//! The runner's errors: what went wrong, with the serial output that explains it.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::outcome::{ExitKind, Outcome};

/// The Debian/Ubuntu package that provides `qemu-system-x86_64`.
pub const QEMU_APT_PACKAGE: &str = "qemu-system-x86";

/// How many trailing lines of serial or build output an error message shows.
pub const TAIL_LINES: usize = 40;

/// Everything that can go wrong when building, booting or checking the test kernel.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The QEMU binary could not be started because it does not exist.
    QemuNotFound {
        /// The program that was looked up (`qemu-system-x86_64` or `$IRQKIT_QEMU`).
        program: String,
    },
    /// Building the kernel failed.
    KernelBuild(BuildError),
    /// An I/O operation of the runner failed.
    Io {
        /// What the runner was doing.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A disk image was refused before QEMU started.
    BadDisk {
        /// The disk's position (IDE index).
        index: usize,
        /// Why.
        reason: String,
    },
    /// A run was described wrongly (e.g. a test name with whitespace).
    InvalidArgument(String),
    /// A key name is not a QEMU QKeyCode name.
    InvalidKeyName(String),
    /// A deadline passed; QEMU was killed if it was still running.
    Timeout {
        /// The test case.
        test: String,
        /// What the runner was waiting for.
        waiting_for: String,
        /// How long it waited.
        after: Duration,
        /// Serial output captured up to then.
        serial: Vec<String>,
        /// QEMU's stderr captured up to then.
        stderr: Vec<String>,
    },
    /// QEMU exited before printing an awaited line.
    MissingLine {
        /// The test case.
        test: String,
        /// The awaited line.
        pattern: String,
        /// How QEMU ended.
        status: ExitKind,
        /// The whole serial output.
        serial: Vec<String>,
        /// QEMU's stderr.
        stderr: Vec<String>,
    },
    /// A QMP exchange failed.
    Qmp(QmpError),
    /// The kernel ran to its end but did not report success.
    Failed(Box<Outcome>),
}

/// Why the kernel could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// `cargo` could not be started.
    CargoNotStarted {
        /// The program used.
        cargo: String,
        /// The operating system's reason.
        reason: String,
    },
    /// `cargo build` exited with a failure.
    Failed {
        /// The command line, for reproducing by hand.
        command: String,
        /// Cargo's exit code (`None` if killed by a signal).
        status: Option<i32>,
        /// The last lines of cargo's stderr.
        stderr_tail: String,
    },
    /// Cargo succeeded but the kernel image is not where it should be.
    ImageMissing(PathBuf),
}

/// A failed QMP exchange.
#[derive(Debug)]
#[non_exhaustive]
pub enum QmpError {
    /// The socket could not be connected before the deadline.
    Connect {
        /// The socket path.
        path: PathBuf,
        /// The last connection error.
        source: io::Error,
    },
    /// Reading or writing the socket failed (or timed out).
    Io {
        /// The command or step.
        during: String,
        /// The underlying error.
        source: io::Error,
    },
    /// QEMU closed the connection.
    Closed {
        /// The command or step.
        during: String,
    },
    /// QEMU sent something that is not a QMP message the runner understands.
    Protocol {
        /// The command or step.
        during: String,
        /// The offending line.
        line: String,
    },
    /// QEMU answered a command with an error.
    Command {
        /// The command sent.
        command: String,
        /// QMP's error class (e.g. `GenericError`).
        class: String,
        /// QMP's description.
        desc: String,
    },
}

impl Error {
    /// An [`Error::Io`] with context.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// The serial output attached to the error, if any.
    pub fn serial(&self) -> Option<&[String]> {
        match self {
            Self::Timeout { serial, .. } | Self::MissingLine { serial, .. } => Some(serial),
            Self::Failed(outcome) => Some(&outcome.serial),
            _ => None,
        }
    }

    /// The kernel's panic message (`<message> at <location>`), if it printed one.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            Self::Failed(outcome) => outcome.panic.as_deref(),
            Self::MissingLine { serial, .. } => crate::serial::panic_message(serial),
            _ => None,
        }
    }
}

/// Writes the last [`TAIL_LINES`] of `lines` under a heading.
pub(crate) fn write_tail(
    f: &mut fmt::Formatter<'_>,
    heading: &str,
    lines: &[String],
) -> fmt::Result {
    if lines.is_empty() {
        return writeln!(f, "{heading}: (nothing)");
    }
    let skipped = lines.len().saturating_sub(TAIL_LINES);
    if skipped > 0 {
        writeln!(f, "{heading} (last {TAIL_LINES} of {} lines):", lines.len())?;
    } else {
        writeln!(f, "{heading}:")?;
    }
    for line in &lines[skipped..] {
        writeln!(f, "    {line}")?;
    }
    Ok(())
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::QemuNotFound { program } => write!(
                f,
                "QEMU not found: cannot run `{program}`; install it with \
                 `apt-get install {QEMU_APT_PACKAGE}` or point $IRQKIT_QEMU at the binary"
            ),
            Self::KernelBuild(error) => write!(f, "building the test kernel failed: {error}"),
            Self::Io { context, source } => write!(f, "{context}: {source}"),
            Self::BadDisk { index, reason } => write!(f, "disk {index}: {reason}"),
            Self::InvalidArgument(reason) => write!(f, "invalid run: {reason}"),
            Self::InvalidKeyName(name) => write!(
                f,
                "{name:?} is not a QEMU QKeyCode name (expected lowercase letters, digits and \
                 '_', e.g. \"a\", \"esc\", \"shift\", \"up\")"
            ),
            Self::Timeout {
                test,
                waiting_for,
                after,
                serial,
                stderr,
            } => {
                writeln!(
                    f,
                    "test `{test}` timed out after {:.1} s waiting for {waiting_for} \
                     (QEMU was killed)",
                    after.as_secs_f64()
                )?;
                write_tail(f, "serial", serial)?;
                if !stderr.is_empty() {
                    write_tail(f, "QEMU stderr", stderr)?;
                }
                Ok(())
            }
            Self::MissingLine {
                test,
                pattern,
                status,
                serial,
                stderr,
            } => {
                write!(
                    f,
                    "test `{test}`: QEMU ended ({status}) before printing {pattern}"
                )?;
                if let Some(panic) = crate::serial::panic_message(serial) {
                    write!(f, "; kernel panicked: {panic}")?;
                }
                writeln!(f)?;
                write_tail(f, "serial", serial)?;
                if !stderr.is_empty() {
                    write_tail(f, "QEMU stderr", stderr)?;
                }
                Ok(())
            }
            Self::Qmp(error) => write!(f, "QMP: {error}"),
            Self::Failed(outcome) => {
                writeln!(f, "{}", outcome.summary())?;
                write_tail(f, "serial", &outcome.serial)?;
                if !outcome.stderr.is_empty() {
                    write_tail(f, "QEMU stderr", &outcome.stderr)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Qmp(error) => Some(error),
            Self::KernelBuild(error) => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CargoNotStarted { cargo, reason } => {
                write!(f, "cannot run `{cargo}`: {reason}")
            }
            Self::Failed {
                command,
                status,
                stderr_tail,
            } => {
                match status {
                    Some(code) => writeln!(f, "`{command}` exited with status {code}")?,
                    None => writeln!(f, "`{command}` was killed by a signal")?,
                }
                write!(f, "cargo's stderr (tail):\n{stderr_tail}")
            }
            Self::ImageMissing(path) => {
                write!(f, "cargo succeeded but {} does not exist", path.display())
            }
        }
    }
}

impl std::error::Error for BuildError {}

impl fmt::Display for QmpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect { path, source } => {
                write!(f, "cannot connect to {}: {source}", path.display())
            }
            Self::Io { during, source } => write!(f, "{during}: {source}"),
            Self::Closed { during } => write!(f, "QEMU closed the connection during {during}"),
            Self::Protocol { during, line } => {
                write!(f, "unexpected message during {during}: {line}")
            }
            Self::Command {
                command,
                class,
                desc,
            } => write!(f, "QEMU refused {command}: {class}: {desc}"),
        }
    }
}

impl std::error::Error for QmpError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect { source, .. } | Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl QmpError {
    /// Whether QEMU went away (closed or reset the connection) rather than answering.
    pub fn is_disconnect(&self) -> bool {
        match self {
            Self::Closed { .. } => true,
            Self::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionAborted
            ),
            _ => false,
        }
    }
}

impl From<QmpError> for Error {
    fn from(error: QmpError) -> Self {
        Self::Qmp(error)
    }
}

impl From<BuildError> for Error {
    fn from(error: BuildError) -> Self {
        Self::KernelBuild(error)
    }
}
