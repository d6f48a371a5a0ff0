//! A minimal QMP client: the capabilities handshake, then `input-send-event` key events.
//!
//! QMP sends one JSON object per line: a greeting (`{"QMP": ...}`), answers (`{"return": ...}`
//! or `{"error": {"class": ..., "desc": ...}}`) and asynchronous events (`{"event": ...}`),
//! which are skipped. The messages are classified by their top-level keys with a small scanner
//! instead of a JSON library: the runner needs no other field.
//!
//! Keys go through `input-send-event` only. `send-key` returns before the keys are delivered,
//! spaces them about 10 ms apart, and reorders them when mixed with `input-send-event`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, QmpError};

/// One key going down or up, named by its QEMU QKeyCode (`"a"`, `"esc"`, `"shift"`, `"up"`;
/// see the "QEMU QKeyCode" column of keycodemapdb's `keymaps.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEvent {
    /// The QKeyCode name.
    pub key: String,
    /// `true` for press, `false` for release.
    pub down: bool,
}

impl KeyEvent {
    /// A key press.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`] unless `key` looks like a QKeyCode (lowercase ASCII letters,
    /// digits and `_`).
    pub fn press(key: &str) -> Result<Self, Error> {
        validate_key_name(key)?;
        Ok(Self {
            key: key.to_owned(),
            down: true,
        })
    }

    /// A key release.
    ///
    /// # Errors
    ///
    /// As [`KeyEvent::press`].
    pub fn release(key: &str) -> Result<Self, Error> {
        validate_key_name(key)?;
        Ok(Self {
            key: key.to_owned(),
            down: false,
        })
    }

    /// Press then release of each key, in order.
    ///
    /// # Errors
    ///
    /// As [`KeyEvent::press`], for the first bad name.
    pub fn taps(keys: &[&str]) -> Result<Vec<Self>, Error> {
        let mut events = Vec::with_capacity(keys.len() * 2);
        for key in keys {
            events.push(Self::press(key)?);
            events.push(Self::release(key)?);
        }
        Ok(events)
    }
}

/// Checks that `name` has the shape of a QKeyCode name, so it can be put into JSON unescaped.
/// (Whether QEMU knows the name is QEMU's to answer: it refuses unknown ones with an error.)
///
/// # Errors
///
/// [`Error::InvalidKeyName`].
pub fn validate_key_name(name: &str) -> Result<(), Error> {
    let well_formed = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if well_formed {
        Ok(())
    } else {
        Err(Error::InvalidKeyName(name.to_owned()))
    }
}

/// The capabilities handshake command.
pub const CAPABILITIES_COMMAND: &str = r#"{"execute":"qmp_capabilities"}"#;

/// The `input-send-event` command text for `events` (names must be validated).
pub fn input_send_event_command(events: &[KeyEvent]) -> String {
    let events: Vec<String> = events
        .iter()
        .map(|event| {
            format!(
                r#"{{"type":"key","data":{{"down":{},"key":{{"type":"qcode","data":"{}"}}}}}}"#,
                event.down, event.key
            )
        })
        .collect();
    format!(
        r#"{{"execute":"input-send-event","arguments":{{"events":[{}]}}}}"#,
        events.join(",")
    )
}

/// A QMP message, classified by its top-level keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The greeting sent on connection.
    Greeting,
    /// A successful answer.
    Return,
    /// An error answer.
    Error {
        /// QMP error class.
        class: String,
        /// Human-readable description.
        desc: String,
    },
    /// An asynchronous event.
    Event(String),
}

/// Classifies one QMP line; `None` if it is not a JSON object with a known top-level key.
pub fn parse_message(line: &str) -> Option<Message> {
    let members = object_members(line)?;
    let get = |key: &str| {
        members
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| *value)
    };
    if get("return").is_some() {
        Some(Message::Return)
    } else if let Some(error) = get("error") {
        let fields = object_members(error).unwrap_or_default();
        let field = |key: &str| {
            fields
                .iter()
                .find(|(name, _)| name == key)
                .and_then(|(_, value)| string_value(value))
                .unwrap_or_default()
        };
        Some(Message::Error {
            class: field("class"),
            desc: field("desc"),
        })
    } else if let Some(event) = get("event") {
        Some(Message::Event(string_value(event).unwrap_or_default()))
    } else if get("QMP").is_some() {
        Some(Message::Greeting)
    } else {
        None
    }
}

/// The top-level members of a JSON object: decoded key and raw value text.
fn object_members(text: &str) -> Option<Vec<(String, &str)>> {
    let bytes = text.as_bytes();
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_space(bytes, at + 1);
    let mut members = Vec::new();
    if bytes.get(at) == Some(&b'}') {
        return Some(members);
    }
    loop {
        let key_end = string_end(bytes, at)?;
        let key = string_value(&text[at..key_end])?;
        at = skip_space(bytes, key_end);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        let value_start = skip_space(bytes, at + 1);
        let value_end = value_end(bytes, value_start)?;
        members.push((key, text[value_start..value_end].trim_end()));
        at = skip_space(bytes, value_end);
        match bytes.get(at) {
            Some(b',') => at = skip_space(bytes, at + 1),
            Some(b'}') => return Some(members),
            _ => return None,
        }
    }
}

fn skip_space(bytes: &[u8], mut at: usize) -> usize {
    while bytes.get(at).is_some_and(u8::is_ascii_whitespace) {
        at += 1;
    }
    at
}

/// The index just past the JSON string starting at `start` (which must be `"`).
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    if bytes.get(start) != Some(&b'"') {
        return None;
    }
    let mut at = start + 1;
    loop {
        match bytes.get(at)? {
            b'\\' => at += 2,
            b'"' => return Some(at + 1),
            _ => at += 1,
        }
    }
}

/// The index just past the JSON value starting at `start`.
fn value_end(bytes: &[u8], start: usize) -> Option<usize> {
    match bytes.get(start)? {
        b'"' => string_end(bytes, start),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut at = start;
            loop {
                match bytes.get(at)? {
                    b'"' => {
                        at = string_end(bytes, at)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(at + 1);
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
        }
        _ => {
            let mut at = start;
            while !matches!(bytes.get(at), None | Some(b',' | b'}' | b']')) {
                at += 1;
            }
            Some(at)
        }
    }
}

/// Decodes a raw JSON string value (with its quotes); `None` if it is not a string.
fn string_value(raw: &str) -> Option<String> {
    let inner = raw.trim().strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16).ok()?;
                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// A connected, capability-negotiated QMP session.
#[derive(Debug)]
pub(crate) struct QmpClient {
    writer: UnixStream,
    reader: BufReader<UnixStream>,
    path: PathBuf,
}

impl QmpClient {
    /// Connects (retrying until `deadline`: QEMU creates the socket while starting), reads the
    /// greeting and negotiates capabilities.
    pub(crate) fn connect(path: &Path, deadline: Instant) -> Result<Self, QmpError> {
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(stream) => break stream,
                Err(source) if Instant::now() >= deadline => {
                    return Err(QmpError::Connect {
                        path: path.to_owned(),
                        source,
                    })
                }
                Err(_) => thread::sleep(Duration::from_millis(10)),
            }
        };
        let io_error = |during: &str| {
            let during = during.to_owned();
            move |source| QmpError::Io { during, source }
        };
        let reader = stream.try_clone().map_err(io_error("cloning the socket"))?;
        let mut client = Self {
            writer: stream,
            reader: BufReader::new(reader),
            path: path.to_owned(),
        };
        client.set_deadline(deadline)?;
        match client.read_message("the greeting")? {
            Message::Greeting => {}
            other => {
                return Err(QmpError::Protocol {
                    during: "the greeting".into(),
                    line: format!("{other:?}"),
                })
            }
        }
        client.execute(CAPABILITIES_COMMAND, deadline)?;
        Ok(client)
    }

    fn set_deadline(&mut self, deadline: Instant) -> Result<(), QmpError> {
        let remaining = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        self.reader
            .get_ref()
            .set_read_timeout(Some(remaining))
            .and_then(|()| self.writer.set_write_timeout(Some(remaining)))
            .map_err(|source| QmpError::Io {
                during: format!("setting timeouts on {}", self.path.display()),
                source,
            })
    }

    fn read_message(&mut self, during: &str) -> Result<Message, QmpError> {
        let mut line = String::new();
        loop {
            line.clear();
            let read = self
                .reader
                .read_line(&mut line)
                .map_err(|source| QmpError::Io {
                    during: during.to_owned(),
                    source,
                })?;
            if read == 0 {
                return Err(QmpError::Closed {
                    during: during.to_owned(),
                });
            }
            match parse_message(&line) {
                Some(Message::Event(_)) => continue,
                Some(message) => return Ok(message),
                None => {
                    return Err(QmpError::Protocol {
                        during: during.to_owned(),
                        line: line.trim_end().to_owned(),
                    })
                }
            }
        }
    }

    /// Sends one command and waits for its answer (skipping events) until `deadline`.
    pub(crate) fn execute(&mut self, command: &str, deadline: Instant) -> Result<(), QmpError> {
        self.set_deadline(deadline)?;
        self.writer
            .write_all(command.as_bytes())
            .and_then(|()| self.writer.write_all(b"\n"))
            .and_then(|()| self.writer.flush())
            .map_err(|source| QmpError::Io {
                during: format!("sending {command}"),
                source,
            })?;
        match self.read_message(command)? {
            Message::Return => Ok(()),
            Message::Error { class, desc } => Err(QmpError::Command {
                command: command.to_owned(),
                class,
                desc,
            }),
            other => Err(QmpError::Protocol {
                during: command.to_owned(),
                line: format!("{other:?}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_event_command_text() {
        let events = KeyEvent::taps(&["a"]).unwrap();
        assert_eq!(
            input_send_event_command(&events),
            concat!(
                r#"{"execute":"input-send-event","arguments":{"events":["#,
                r#"{"type":"key","data":{"down":true,"key":{"type":"qcode","data":"a"}}},"#,
                r#"{"type":"key","data":{"down":false,"key":{"type":"qcode","data":"a"}}}"#,
                "]}}"
            )
        );
        let text = input_send_event_command(&[KeyEvent::release("esc").unwrap()]);
        assert!(text.contains(r#""down":false,"key":{"type":"qcode","data":"esc"}"#));
    }

    #[test]
    fn key_names_are_checked() {
        for good in ["a", "esc", "shift_r", "f12", "kp_0"] {
            assert!(KeyEvent::press(good).is_ok(), "{good}");
        }
        for bad in ["", "A", "a\"", "ctrl-alt", "a b", &"x".repeat(40)] {
            assert!(
                matches!(KeyEvent::press(bad), Err(Error::InvalidKeyName(_))),
                "{bad}"
            );
        }
        assert!(KeyEvent::taps(&["a", "Esc"]).is_err());
    }

    #[test]
    fn messages_are_classified() {
        assert_eq!(
            parse_message(
                r#"{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}"#
            ),
            Some(Message::Greeting)
        );
        assert_eq!(parse_message("{\"return\": {}}\r\n"), Some(Message::Return));
        assert_eq!(
            parse_message(
                r#"{"error": {"class": "GenericError", "desc": "Invalid parameter 'nokey' \"q\""}}"#
            ),
            Some(Message::Error {
                class: "GenericError".into(),
                desc: "Invalid parameter 'nokey' \"q\"".into(),
            })
        );
        // An event whose data mentions "return" and "error" is still an event.
        assert_eq!(
            parse_message(
                r#"{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "BLOCK_IO_ERROR", "data": {"error": "x", "return": 1}}"#
            ),
            Some(Message::Event("BLOCK_IO_ERROR".into()))
        );
        assert_eq!(parse_message("not json"), None);
        assert_eq!(parse_message(r#"{"other": 1}"#), None);
        assert_eq!(parse_message(r#"{"return": {"#), None);
    }
}
