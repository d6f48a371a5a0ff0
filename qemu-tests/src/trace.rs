//! QEMU's trace events (`-trace enable=EVENT`, written with `-D FILE`), read back after a run.
//!
//! Tracing `ide_exec_cmd` shows every ATA command the emulated drives executed; tracing
//! `serial_write` as well puts the guest's serial output in the same file, in the same order,
//! so a test can tell whether a command ran before or after the guest printed a line
//! ([`Trace::events`]). Debian's QEMU uses the `log` trace backend: one line per event,
//! `NAME ARGS`, optionally prefixed by `PID@SECONDS:` (`-msg timestamp=on`).

use std::fmt;

/// The ATA command traced by `ide_exec_cmd`.
pub const IDE_EXEC_CMD: &str = "ide_exec_cmd";
/// Every byte the guest writes to a 16550 UART register.
pub const SERIAL_WRITE: &str = "serial_write";

/// UART register offsets and bits needed to tell transmitted bytes from divisor writes.
const UART_DATA: u8 = 0;
const UART_LINE_CONTROL: u8 = 3;
const LINE_CONTROL_DLAB: u8 = 0x80;

/// One traced event, in the order QEMU executed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent {
    /// `ide_exec_cmd`: a drive started executing ATA command `command` (e.g. 0xE7 FLUSH CACHE).
    IdeCommand {
        /// The command byte written to the command register.
        command: u8,
    },
    /// A whole line the guest wrote to a serial port (`serial_write` bytes up to `\n`).
    SerialLine(String),
    /// Any other traced line, without its timestamp prefix.
    Other(String),
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IdeCommand { command } => write!(f, "ATA command {command:#04x}"),
            Self::SerialLine(line) => write!(f, "serial {line:?}"),
            Self::Other(line) => write!(f, "{line}"),
        }
    }
}

/// A parsed trace file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    events: Vec<TraceEvent>,
}

impl Trace {
    /// Parses the text of a trace file.
    pub fn parse(text: &str) -> Self {
        let mut events = Vec::new();
        let mut line = Vec::new();
        let mut dlab = false;
        for raw in text.lines() {
            let raw = strip_timestamp(raw);
            let mut words = raw.split_whitespace();
            match words.next() {
                Some(IDE_EXEC_CMD) => match hex_after(raw, "cmd ") {
                    Some(command) => events.push(TraceEvent::IdeCommand { command }),
                    None => events.push(TraceEvent::Other(raw.to_owned())),
                },
                Some(SERIAL_WRITE) => {
                    let (Some(addr), Some(value)) =
                        (hex_after(raw, "addr "), hex_after(raw, "val "))
                    else {
                        events.push(TraceEvent::Other(raw.to_owned()));
                        continue;
                    };
                    match addr {
                        UART_LINE_CONTROL => dlab = value & LINE_CONTROL_DLAB != 0,
                        UART_DATA if !dlab => {
                            if value == b'\n' {
                                let text = String::from_utf8_lossy(&line);
                                events.push(TraceEvent::SerialLine(text.trim_end().to_owned()));
                                line.clear();
                            } else {
                                line.push(value);
                            }
                        }
                        _ => {}
                    }
                }
                Some(_) => events.push(TraceEvent::Other(raw.to_owned())),
                None => {}
            }
        }
        if !line.is_empty() {
            events.push(TraceEvent::SerialLine(
                String::from_utf8_lossy(&line).into_owned(),
            ));
        }
        Self { events }
    }

    /// Every event, in order.
    pub fn events(&self) -> &[TraceEvent] {
        &self.events
    }

    /// The ATA command bytes, in order.
    pub fn ide_commands(&self) -> Vec<u8> {
        self.events
            .iter()
            .filter_map(|event| match event {
                TraceEvent::IdeCommand { command } => Some(*command),
                _ => None,
            })
            .collect()
    }

    /// The position of the first serial line that contains `text`.
    pub fn serial_position(&self, text: &str) -> Option<usize> {
        self.events
            .iter()
            .position(|event| matches!(event, TraceEvent::SerialLine(line) if line.contains(text)))
    }

    /// The ATA commands between events `from` (exclusive) and `to` (exclusive).
    pub fn ide_commands_between(&self, from: usize, to: usize) -> Vec<u8> {
        self.events
            .get(from.saturating_add(1)..to.min(self.events.len()))
            .unwrap_or_default()
            .iter()
            .filter_map(|event| match event {
                TraceEvent::IdeCommand { command } => Some(*command),
                _ => None,
            })
            .collect()
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for event in &self.events {
            writeln!(f, "{event}")?;
        }
        Ok(())
    }
}

/// Drops a `PID@SECONDS.MICROS:` prefix.
fn strip_timestamp(line: &str) -> &str {
    match line.split_once(':') {
        Some((prefix, rest))
            if prefix.contains('@')
                && prefix
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '@' || c == '.') =>
        {
            rest
        }
        _ => line,
    }
}

/// The hexadecimal byte after the last `key` (`cmd 0xe7` -> 0xE7).
fn hex_after(line: &str, key: &str) -> Option<u8> {
    let (_, rest) = line.rsplit_once(key)?;
    let word = rest
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find(|w| !w.is_empty())?;
    u8::from_str_radix(word.strip_prefix("0x").unwrap_or(word), 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
18091@1796133720.851746:serial_write write addr 0x03 val 0x80
18091@1796133720.851746:serial_write write addr 0x00 val 0x01
18091@1796133720.851746:serial_write write addr 0x03 val 0x03
ide_exec_cmd IDE exec cmd: bus 0x55d6b3ccce00; state 0x55d6b3ccce88; cmd 0xca
serial_write write addr 0x00 val 0x68
serial_write write addr 0x00 val 0x69
serial_write write addr 0x00 val 0x0d
serial_write write addr 0x00 val 0x0a
18091@1796133720.854299:ide_exec_cmd IDE exec cmd: bus 0x55d6b3ccce00; state 0x55d6b3ccce88; cmd 0xe7
serial_write write addr 0x01 val 0x00
ide_reset IDE reset 0x1
serial_write write addr 0x00 val 0x6f
serial_write write addr 0x00 val 0x6b
";

    #[test]
    fn events_keep_their_order() {
        let trace = Trace::parse(SAMPLE);
        assert_eq!(
            trace.events(),
            [
                TraceEvent::IdeCommand { command: 0xCA },
                TraceEvent::SerialLine("hi".into()),
                TraceEvent::IdeCommand { command: 0xE7 },
                TraceEvent::Other("ide_reset IDE reset 0x1".into()),
                TraceEvent::SerialLine("ok".into()),
            ]
        );
        assert_eq!(trace.ide_commands(), [0xCA, 0xE7]);
        assert_eq!(trace.serial_position("h"), Some(1));
        assert_eq!(trace.serial_position("ok"), Some(4));
        assert_eq!(trace.serial_position("nope"), None);
        assert_eq!(trace.ide_commands_between(1, 4), [0xE7]);
        assert_eq!(trace.ide_commands_between(0, 1), []);
        assert_eq!(trace.ide_commands_between(3, 99), []);
        assert_eq!(trace.ide_commands_between(9, 2), []);
        assert!(trace.to_string().contains("ATA command 0xe7"));
    }

    #[test]
    fn malformed_lines_are_kept_as_other() {
        let trace = Trace::parse("ide_exec_cmd garbage\nserial_write addr 0x00\n\n");
        assert_eq!(
            trace.events(),
            [
                TraceEvent::Other("ide_exec_cmd garbage".into()),
                TraceEvent::Other("serial_write addr 0x00".into()),
            ]
        );
    }
}
