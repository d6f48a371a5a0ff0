//! Booting one test case: [`Qemu`] describes the run, [`Running`] is the live QEMU process.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::command::{kernel_command_line, qemu_program, trace_args, QemuArgs};
use crate::disk::{Disk, MAX_DISKS};
use crate::error::Error;
use crate::kernel::kernel_image;
use crate::outcome::{ExitKind, Outcome};
use crate::qmp::{input_send_event_command, KeyEvent, QmpClient};
use crate::serial::{self, LineLog, LineMatch, WaitError};
use crate::tempdir::TempDir;

/// The whole-run deadline unless [`Qemu::timeout`] sets another. A test boots in well under a
/// second; the margin is for a machine loaded by parallel builds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause between key taps in [`Running::send_keys`]: QEMU's PS/2 keyboard queue holds only
/// 16 bytes and drops the rest, so taps are spaced to let the guest's IRQ 1 handler drain it.
pub const KEY_PACING: Duration = Duration::from_millis(10);
/// How long QMP may take to connect and answer one command.
const QMP_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the runner checks whether QEMU exited.
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// How long the output readers may lag behind QEMU's exit.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);

/// A test-kernel run to start: the test case, disks, deadline.
///
/// ```no_run
/// use std::time::Duration;
/// use irqkit_qemu_tests::Qemu;
///
/// let outcome = Qemu::new("smoke").timeout(Duration::from_secs(20)).spawn()?.wait()?;
/// let outcome = outcome.expect_success()?;
/// assert!(outcome.value("ticks").is_some());
/// # Ok::<(), irqkit_qemu_tests::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Qemu {
    test: String,
    disks: Vec<Disk>,
    timeout: Duration,
    echo_serial: bool,
    extra_args: Vec<String>,
    kernel: Option<PathBuf>,
    memory: String,
    program: Option<OsString>,
    trace_events: Vec<String>,
    no_defaults: bool,
}

impl Qemu {
    /// A run of the kernel test case `test` (the kernel's `test=NAME`).
    pub fn new(test: impl Into<String>) -> Self {
        Self {
            test: test.into(),
            disks: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            echo_serial: false,
            extra_args: Vec::new(),
            kernel: None,
            memory: "64M".into(),
            program: None,
            trace_events: Vec::new(),
            no_defaults: false,
        }
    }

    /// Attaches a raw IDE disk (the first is primary master, then primary slave, ...).
    pub fn disk(mut self, disk: Disk) -> Self {
        self.disks.push(disk);
        self
    }

    /// The deadline for the whole run, from spawn to exit; QEMU is killed when it passes.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Copies serial lines to this process's stdout (and QEMU's stderr to stderr) as they
    /// arrive.
    pub fn echo_serial(mut self, echo: bool) -> Self {
        self.echo_serial = echo;
        self
    }

    /// Adds a `key=value` word to the kernel command line after `test=NAME`.
    pub fn kernel_arg(mut self, word: impl Into<String>) -> Self {
        self.extra_args.push(word.into());
        self
    }

    /// Boots this kernel image instead of building `qemu-tests/kernel`.
    pub fn kernel(mut self, path: impl Into<PathBuf>) -> Self {
        self.kernel = Some(path.into());
        self
    }

    /// Guest memory, as QEMU's `-m` takes it (default `64M`).
    pub fn memory(mut self, memory: impl Into<String>) -> Self {
        self.memory = memory.into();
        self
    }

    /// Runs this QEMU binary instead of `$IRQKIT_QEMU` or `qemu-system-x86_64`.
    pub fn program(mut self, program: impl Into<OsString>) -> Self {
        self.program = Some(program.into());
        self
    }

    /// Enables QEMU trace event `event` (e.g. [`crate::IDE_EXEC_CMD`]); the events go to a file
    /// that [`Outcome::trace`] parses after the run.
    pub fn trace(mut self, event: impl Into<String>) -> Self {
        self.trace_events.push(event.into());
        self
    }

    /// Starts QEMU with `-nodefaults`: no default devices, in particular no empty CD-ROM drive
    /// as secondary master (so an IDE channel without [`Qemu::disk`]s is really empty) and no
    /// VGA card. The serial port, the exit device and the disks stay.
    pub fn without_default_devices(mut self) -> Self {
        self.no_defaults = true;
        self
    }

    /// The kernel command line this run passes.
    pub fn command_line(&self) -> String {
        kernel_command_line(&self.test, &self.extra_args)
    }

    /// Builds the kernel (once per process), writes the disk images and starts QEMU.
    ///
    /// # Errors
    ///
    /// [`Error::BadDisk`], [`Error::KernelBuild`], [`Error::QemuNotFound`], or [`Error::Io`].
    pub fn spawn(self) -> Result<Running, Error> {
        for word in std::iter::once(&self.test).chain(&self.extra_args) {
            if word.is_empty() || word.chars().any(char::is_whitespace) {
                return Err(Error::InvalidArgument(format!(
                    "kernel command-line word {word:?} must be non-empty without whitespace"
                )));
            }
        }
        if self.disks.len() > MAX_DISKS {
            return Err(Error::BadDisk {
                index: MAX_DISKS,
                reason: format!("at most {MAX_DISKS} IDE disks, got {}", self.disks.len()),
            });
        }
        for (index, disk) in self.disks.iter().enumerate() {
            if let Some(reason) = disk.problem() {
                return Err(Error::BadDisk { index, reason });
            }
        }
        let kernel = match &self.kernel {
            Some(path) => path.clone(),
            None => kernel_image()?.path.clone(),
        };
        let dir = TempDir::new().map_err(|e| Error::io("creating a temporary directory", e))?;
        let mut disk_paths = Vec::with_capacity(self.disks.len());
        for (index, disk) in self.disks.iter().enumerate() {
            let path = dir.path().join(format!("disk{index}.img"));
            disk.write_to(&path)
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            disk_paths.push(path);
        }
        let qmp_socket = dir.path().join("qmp.sock");
        let args = QemuArgs {
            kernel,
            append: self.command_line(),
            disks: disk_paths.clone(),
            qmp_socket: qmp_socket.clone(),
            memory: self.memory.clone(),
        };
        let trace_file = (!self.trace_events.is_empty()).then(|| dir.path().join("trace.log"));
        let mut qemu_args = args.to_args();
        if let Some(file) = &trace_file {
            qemu_args.extend(trace_args(&self.trace_events, file));
        }
        if self.no_defaults {
            qemu_args.push("-nodefaults".into());
        }
        let program = self.program.clone().unwrap_or_else(qemu_program);
        let started = Instant::now();
        let mut child = Command::new(&program)
            .args(qemu_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| match error.kind() {
                io::ErrorKind::NotFound => Error::QemuNotFound {
                    program: program.to_string_lossy().into_owned(),
                },
                _ => Error::io(format!("starting {}", program.to_string_lossy()), error),
            })?;

        let serial = LineLog::default();
        let stderr = LineLog::default();
        let mut readers = Vec::with_capacity(2);
        let pipes = child.stdout.take().zip(child.stderr.take());
        let started_readers = pipes
            .ok_or_else(|| io::Error::other("QEMU's pipes are missing"))
            .and_then(|(stdout_pipe, stderr_pipe)| {
                let echo_out: Option<Box<dyn io::Write + Send>> =
                    self.echo_serial.then(|| Box::new(io::stdout()) as _);
                let echo_err: Option<Box<dyn io::Write + Send>> =
                    self.echo_serial.then(|| Box::new(io::stderr()) as _);
                readers.push(serial.spawn_reader("qemu-serial", stdout_pipe, echo_out)?);
                readers.push(stderr.spawn_reader("qemu-stderr", stderr_pipe, echo_err)?);
                Ok(())
            });
        if let Err(error) = started_readers {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Error::io("starting the output readers", error));
        }
        Ok(Running {
            test: self.test,
            child,
            exit: None,
            serial,
            stderr,
            readers,
            cursor: 0,
            qmp: None,
            qmp_socket,
            disks: disk_paths,
            trace_file,
            dir: Arc::new(dir),
            started,
            timeout: self.timeout,
            deadline: started + self.timeout,
        })
    }
}

/// A QEMU process running a test case. Dropping it kills QEMU.
#[derive(Debug)]
pub struct Running {
    test: String,
    child: Child,
    exit: Option<ExitStatus>,
    serial: LineLog,
    stderr: LineLog,
    readers: Vec<JoinHandle<()>>,
    cursor: usize,
    qmp: Option<QmpClient>,
    qmp_socket: PathBuf,
    disks: Vec<PathBuf>,
    trace_file: Option<PathBuf>,
    dir: Arc<TempDir>,
    started: Instant,
    timeout: Duration,
    deadline: Instant,
}

impl Running {
    /// Waits for the next serial line (after the last one this method returned) that matches
    /// `pattern`, for at most `timeout` and never past the run's deadline. A `&str` pattern
    /// matches a whole line, e.g. `running.wait_for_line("READY", secs(5))`.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] (QEMU keeps running until the `Running` is dropped) or
    /// [`Error::MissingLine`] when QEMU exited first.
    pub fn wait_for_line(
        &mut self,
        pattern: impl Into<LineMatch>,
        timeout: Duration,
    ) -> Result<String, Error> {
        let pattern = pattern.into();
        let deadline = (Instant::now() + timeout).min(self.deadline);
        match self.serial.wait_for(&pattern, &mut self.cursor, deadline) {
            Ok(line) => Ok(line),
            Err(WaitError::Timeout) => Err(Error::Timeout {
                test: self.test.clone(),
                waiting_for: pattern.to_string(),
                after: deadline.saturating_duration_since(self.started),
                serial: self.serial.lines(),
                stderr: self.stderr.lines(),
            }),
            Err(WaitError::Closed) => {
                let status = self.wait_for_exit(Instant::now() + DRAIN_TIMEOUT)?;
                Err(Error::MissingLine {
                    test: self.test.clone(),
                    pattern: pattern.to_string(),
                    status: ExitKind::from_code(status.and_then(|status| status.code())),
                    serial: self.serial.lines(),
                    stderr: self.stderr.lines(),
                })
            }
        }
    }

    /// The serial lines received so far.
    pub fn serial(&self) -> Vec<String> {
        self.serial.lines()
    }

    /// The image file of disk `index`, while QEMU runs (it is removed after the
    /// [`Outcome`] is dropped).
    pub fn disk_path(&self, index: usize) -> Option<&Path> {
        self.disks.get(index).map(PathBuf::as_path)
    }

    /// Sends key events in one QMP `input-send-event` command, connecting QMP on first use.
    ///
    /// If QEMU exits while the command is in flight (the guest ended the run in reaction to
    /// the keys before QEMU answered), this returns `Ok`: [`Running::wait`] reports the end.
    ///
    /// # Errors
    ///
    /// [`Error::Qmp`] when the socket fails or QEMU refuses the command (e.g. an unknown key).
    pub fn send_events(&mut self, events: &[KeyEvent]) -> Result<(), Error> {
        if events.is_empty() {
            return Ok(());
        }
        let deadline = Instant::now() + QMP_TIMEOUT;
        let command = input_send_event_command(events);
        let result = match &mut self.qmp {
            Some(client) => client.execute(&command, deadline),
            None => QmpClient::connect(&self.qmp_socket, deadline)
                .and_then(|client| self.qmp.insert(client).execute(&command, deadline)),
        };
        match result {
            Ok(()) => Ok(()),
            Err(error) if error.is_disconnect() => {
                self.qmp = None;
                // The guest may end the run in reaction to the keys (its exit races QEMU's
                // answer): then the keys were delivered, and the outcome tells what it saw.
                match self.wait_for_exit(Instant::now() + DRAIN_TIMEOUT)? {
                    Some(_) => Ok(()),
                    None => Err(error.into()),
                }
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Presses and releases each key in turn (QKeyCode names: `"a"`, `"ret"`, `"esc"`...),
    /// [`KEY_PACING`] apart.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`] before anything is sent, or as [`Running::send_events`].
    pub fn send_keys(&mut self, keys: &[&str]) -> Result<(), Error> {
        let taps = KeyEvent::taps(keys)?;
        for (index, tap) in taps.chunks(2).enumerate() {
            if index > 0 {
                thread::sleep(KEY_PACING);
            }
            self.send_events(tap)?;
        }
        Ok(())
    }

    /// Presses `key` (QKeyCode name) without releasing it.
    ///
    /// # Errors
    ///
    /// As [`Running::send_keys`].
    pub fn press(&mut self, key: &str) -> Result<(), Error> {
        self.send_events(&[KeyEvent::press(key)?])
    }

    /// Releases `key` (QKeyCode name).
    ///
    /// # Errors
    ///
    /// As [`Running::send_keys`].
    pub fn release(&mut self, key: &str) -> Result<(), Error> {
        self.send_events(&[KeyEvent::release(key)?])
    }

    /// Waits for QEMU to exit by the run's deadline and collects the outcome. Whatever the
    /// exit status, this is `Ok`: check it with [`Outcome::expect_success`].
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when the deadline passed (QEMU is killed first, and the error carries
    /// the serial output so far), or [`Error::Io`].
    pub fn wait(mut self) -> Result<Outcome, Error> {
        let status = self.wait_for_exit(self.deadline)?;
        let Some(status) = status else {
            self.kill();
            return Err(Error::Timeout {
                test: self.test.clone(),
                waiting_for: "the kernel to exit".into(),
                after: self.timeout,
                serial: self.serial.lines(),
                stderr: self.stderr.lines(),
            });
        };
        let elapsed = self.started.elapsed();
        // Both pipes close when QEMU exits; the readers finish right after.
        if self.serial.wait_closed(DRAIN_TIMEOUT) && self.stderr.wait_closed(DRAIN_TIMEOUT) {
            for reader in self.readers.drain(..) {
                let _ = reader.join();
            }
        }
        let serial = self.serial.lines();
        Ok(Outcome {
            test: self.test.clone(),
            status: ExitKind::from_code(status.code()),
            panic: serial::panic_message(&serial).map(str::to_owned),
            exception: serial::exception_report(&serial).map(str::to_owned),
            serial,
            stderr: self.stderr.lines(),
            elapsed,
            disks: self.disks.clone(),
            trace_file: self.trace_file.clone(),
            _dir: Arc::clone(&self.dir),
        })
    }

    /// Polls for QEMU's exit until `deadline`; `None` if it is still running then.
    fn wait_for_exit(&mut self, deadline: Instant) -> Result<Option<ExitStatus>, Error> {
        loop {
            if let Some(status) = self.exit {
                return Ok(Some(status));
            }
            match self.child.try_wait() {
                Ok(Some(status)) => self.exit = Some(status),
                Ok(None) if Instant::now() >= deadline => return Ok(None),
                Ok(None) => thread::sleep(POLL_INTERVAL),
                Err(error) => return Err(Error::io("waiting for QEMU", error)),
            }
        }
    }

    /// Kills QEMU (by its own child handle) and reaps it, if it has not exited.
    fn kill(&mut self) {
        if self.exit.is_none() {
            // Errors mean it already exited; `wait` then reaps it.
            let _ = self.child.kill();
            self.exit = self.child.wait().ok();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_qemu_names_the_apt_package() {
        let error = Qemu::new("smoke")
            .kernel("/nonexistent/kernel")
            .program("/nonexistent/qemu-system-x86_64")
            .spawn()
            .unwrap_err();
        assert!(matches!(error, Error::QemuNotFound { .. }), "{error}");
        let text = error.to_string();
        assert!(text.contains("apt-get install qemu-system-x86"), "{text}");
        assert!(text.contains("/nonexistent/qemu-system-x86_64"), "{text}");
    }

    #[test]
    fn bad_runs_are_refused_before_qemu_starts() {
        let program = "/nonexistent/qemu";
        let spawn = |qemu: Qemu| qemu.kernel("/k").program(program).spawn().unwrap_err();
        assert!(matches!(
            spawn(Qemu::new("two words")),
            Error::InvalidArgument(_)
        ));
        assert!(matches!(spawn(Qemu::new("")), Error::InvalidArgument(_)));
        assert!(matches!(
            spawn(Qemu::new("t").kernel_arg("a b")),
            Error::InvalidArgument(_)
        ));
        assert!(matches!(
            spawn(Qemu::new("t").disk(Disk::zeroed(100))),
            Error::BadDisk { index: 0, .. }
        ));
        let mut five = Qemu::new("t");
        for _ in 0..5 {
            five = five.disk(Disk::zeroed(512));
        }
        assert!(matches!(spawn(five), Error::BadDisk { .. }));
        assert_eq!(
            Qemu::new("disk").kernel_arg("lba=3").command_line(),
            "test=disk lba=3"
        );
    }
}
