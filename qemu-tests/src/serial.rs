//! Serial output: line matching (pure) and the line log a reader thread fills while QEMU runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The kernel's panic line prefix.
pub const PANIC_PREFIX: &str = "PANIC: ";
/// The kernel's exception report prefix.
pub const EXCEPTION_PREFIX: &str = "EXCEPTION: ";

/// Which serial line to look for. A `&str` converts to [`LineMatch::Exact`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineMatch {
    /// The whole line (trailing whitespace ignored).
    Exact(String),
    /// The line starts with this.
    Prefix(String),
    /// The line contains this.
    Contains(String),
}

impl LineMatch {
    /// [`LineMatch::Exact`].
    pub fn exact(text: impl Into<String>) -> Self {
        Self::Exact(text.into())
    }
    /// [`LineMatch::Prefix`].
    pub fn prefix(text: impl Into<String>) -> Self {
        Self::Prefix(text.into())
    }
    /// [`LineMatch::Contains`].
    pub fn contains(text: impl Into<String>) -> Self {
        Self::Contains(text.into())
    }

    /// Whether `line` matches.
    pub fn matches(&self, line: &str) -> bool {
        match self {
            Self::Exact(text) => line.trim_end() == text,
            Self::Prefix(text) => line.starts_with(text.as_str()),
            Self::Contains(text) => line.contains(text.as_str()),
        }
    }
}

impl From<&str> for LineMatch {
    fn from(text: &str) -> Self {
        Self::exact(text)
    }
}

impl From<String> for LineMatch {
    fn from(text: String) -> Self {
        Self::Exact(text)
    }
}

impl std::fmt::Display for LineMatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Exact(text) => write!(f, "the line {text:?}"),
            Self::Prefix(text) => write!(f, "a line starting with {text:?}"),
            Self::Contains(text) => write!(f, "a line containing {text:?}"),
        }
    }
}

/// The first line that matches.
pub fn find<'a>(lines: &'a [String], pattern: &LineMatch) -> Option<&'a str> {
    lines
        .iter()
        .map(String::as_str)
        .find(|line| pattern.matches(line))
}

/// The value of the first `KEY=VALUE` line for `key`.
pub fn value<'a>(lines: &'a [String], key: &str) -> Option<&'a str> {
    lines.iter().find_map(|line| {
        line.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix('='))
            .map(str::trim_end)
    })
}

/// The values of every `KEY=VALUE` line for `key`, in order.
pub fn values<'a>(lines: &'a [String], key: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter_map(|line| {
            line.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::trim_end)
        })
        .collect()
}

/// The kernel's panic message (`<message> at <location>`) from its `PANIC: ` line. The prefix
/// may follow a partial line (a panic in the middle of a `print!`).
pub fn panic_message(lines: &[String]) -> Option<&str> {
    report_after(lines, PANIC_PREFIX)
}

/// The kernel's first `EXCEPTION: ` report, without the prefix (found mid-line as well).
pub fn exception_report(lines: &[String]) -> Option<&str> {
    report_after(lines, EXCEPTION_PREFIX)
}

fn report_after<'a>(lines: &'a [String], prefix: &str) -> Option<&'a str> {
    lines.iter().find_map(|line| {
        line.find(prefix)
            .map(|start| line[start + prefix.len()..].trim_end())
    })
}

/// Turns raw bytes into a line: lossy UTF-8, line terminators (`\n`, `\r\n`) removed.
pub fn decode_line(mut bytes: &[u8]) -> String {
    while let [rest @ .., b'\n' | b'\r'] = bytes {
        bytes = rest;
    }
    String::from_utf8_lossy(bytes).into_owned()
}

#[derive(Debug, Default)]
struct LogState {
    lines: Vec<String>,
    closed: bool,
}

/// Lines read from a pipe by a background thread, with waiting for a line under a deadline.
#[derive(Debug, Clone, Default)]
pub(crate) struct LineLog {
    shared: Arc<(Mutex<LogState>, Condvar)>,
}

/// Why [`LineLog::wait_for`] returned without a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WaitError {
    /// The deadline passed.
    Timeout,
    /// The pipe reached end of file (QEMU exited).
    Closed,
}

impl LineLog {
    fn state(&self) -> MutexGuard<'_, LogState> {
        // A reader thread that panicked while holding the lock left consistent data behind
        // (a push is the only mutation), so poisoning is ignored.
        self.shared
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts a thread that reads `pipe` line by line until end of file, optionally copying
    /// each line to `echo` as it arrives.
    pub(crate) fn spawn_reader(
        &self,
        name: &str,
        pipe: impl Read + Send + 'static,
        mut echo: Option<Box<dyn Write + Send>>,
    ) -> std::io::Result<JoinHandle<()>> {
        let log = self.clone();
        thread::Builder::new().name(name.to_owned()).spawn(move || {
            let mut reader = BufReader::new(pipe);
            let mut buffer = Vec::new();
            loop {
                buffer.clear();
                match reader.read_until(b'\n', &mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let line = decode_line(&buffer);
                        if let Some(out) = echo.as_mut() {
                            // Echo is a convenience: a closed stdout must not stop capture.
                            let _ = writeln!(out, "{line}").and_then(|()| out.flush());
                        }
                        log.push(line);
                    }
                }
            }
            log.close();
        })
    }

    pub(crate) fn push(&self, line: String) {
        self.state().lines.push(line);
        self.shared.1.notify_all();
    }

    pub(crate) fn close(&self) {
        self.state().closed = true;
        self.shared.1.notify_all();
    }

    /// A copy of every line so far.
    pub(crate) fn lines(&self) -> Vec<String> {
        self.state().lines.clone()
    }

    /// Waits until a line at index `*cursor` or later matches, then moves `*cursor` past it.
    pub(crate) fn wait_for(
        &self,
        pattern: &LineMatch,
        cursor: &mut usize,
        deadline: Instant,
    ) -> Result<String, WaitError> {
        let mut state = self.state();
        loop {
            if let Some(offset) = state.lines[*cursor..]
                .iter()
                .position(|line| pattern.matches(line))
            {
                let index = *cursor + offset;
                *cursor = index + 1;
                return Ok(state.lines[index].clone());
            }
            *cursor = state.lines.len();
            if state.closed {
                return Err(WaitError::Closed);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(WaitError::Timeout);
            }
            state = self
                .shared
                .1
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// Waits until the pipe is closed (the reader saw end of file), at most `timeout`.
    pub(crate) fn wait_closed(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.state();
        while !state.closed {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            state = self
                .shared
                .1
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn matching_kinds() {
        assert!(LineMatch::from("READY").matches("READY"));
        assert!(LineMatch::from("READY").matches("READY  "));
        assert!(!LineMatch::from("READY").matches("NOT READY"));
        assert!(LineMatch::prefix("key=").matches("key=1e"));
        assert!(!LineMatch::prefix("key=").matches(" key=1e"));
        assert!(LineMatch::contains("1e").matches("key=1e"));
    }

    #[test]
    fn values_and_reports() {
        let serial = lines(&[
            "boot",
            "ticks=12",
            "ticks=13",
            "EXCEPTION: #UD (invalid opcode) vector=6",
            "PANIC: oops at a.rs:1:1\r",
        ]);
        assert_eq!(value(&serial, "ticks"), Some("12"));
        assert_eq!(value(&serial, "tick"), None);
        assert_eq!(values(&serial, "ticks"), ["12", "13"]);
        assert!(values(&serial, "key").is_empty());
        assert_eq!(panic_message(&serial), Some("oops at a.rs:1:1"));
        assert_eq!(
            exception_report(&serial),
            Some("#UD (invalid opcode) vector=6")
        );
        assert_eq!(panic_message(&lines(&["no panic"])), None);
        assert_eq!(
            panic_message(&lines(&["half a linePANIC: late at b.rs:2:2"])),
            Some("late at b.rs:2:2")
        );
    }

    #[test]
    fn decoding_strips_terminators_and_survives_bad_utf8() {
        assert_eq!(decode_line(b"READY\r\n"), "READY");
        assert_eq!(decode_line(b"READY"), "READY");
        assert_eq!(decode_line(b"\xffx\n"), "\u{fffd}x");
    }

    #[test]
    fn reader_and_waiting() {
        let log = LineLog::default();
        let input: &[u8] = b"boot\nREADY\nkey=1e\nlast without newline";
        log.spawn_reader("test-reader", input, None)
            .unwrap()
            .join()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut cursor = 0;
        assert_eq!(
            log.wait_for(&"READY".into(), &mut cursor, deadline),
            Ok("READY".into())
        );
        assert_eq!(cursor, 2);
        // Already consumed lines are not matched again.
        assert_eq!(
            log.wait_for(&"READY".into(), &mut cursor, deadline),
            Err(WaitError::Closed)
        );
        assert_eq!(log.lines().last().unwrap(), "last without newline");
        assert!(log.wait_closed(Duration::ZERO));
    }

    #[test]
    fn waiting_times_out_on_an_open_log() {
        let log = LineLog::default();
        log.push("boot".into());
        let mut cursor = 0;
        let deadline = Instant::now() + Duration::from_millis(20);
        assert_eq!(
            log.wait_for(&"READY".into(), &mut cursor, deadline),
            Err(WaitError::Timeout)
        );
        assert!(!log.wait_closed(Duration::from_millis(1)));
    }

    #[test]
    fn a_line_pushed_later_wakes_the_waiter() {
        let log = LineLog::default();
        let writer = log.clone();
        let handle = thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            writer.push("READY".into());
        });
        let mut cursor = 0;
        let deadline = Instant::now() + Duration::from_secs(5);
        assert_eq!(
            log.wait_for(&"READY".into(), &mut cursor, deadline),
            Ok("READY".into())
        );
        handle.join().unwrap();
    }
}
