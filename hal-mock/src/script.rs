//! Scripted port I/O: a [`PortIo`] that expects an exact sequence of accesses.

use std::fmt;

use irqkit_hal::PortIo;

use crate::device::Width;
use crate::log::{fmt_values, method_name, Access};

/// How many matched accesses a failure message shows before the mismatch.
const CONTEXT: usize = 4;

/// A [`PortIo`] that plays a script: each access must be the next [`Access`] of the script.
///
/// Reads return the scripted value(s); writes must carry the scripted value(s). String
/// transfers match only string entries of the same length (a loop of `read16` does not match a
/// [`Access::read16_into`] step: the script checks the driver uses the block transfer).
///
/// On the first access that differs from the script this panics (it is a test assertion) with
/// the script index, the expected and the actual access, what differs, and the accesses just
/// before. [`finish`](Self::finish), or dropping the script when the thread is not already
/// panicking, checks that every step happened.
///
/// Use it for exact protocol sequences; use [`Sim`](crate::Sim) with device models for
/// behaviour (timing, interrupts, retries).
///
/// # Examples
///
/// ```
/// use irqkit_hal::PortIo;
/// use irqkit_hal_mock::{Access, ScriptedPorts};
///
/// let mut ports = ScriptedPorts::new([
///     Access::read8(0x64, 0x1C),       // status: input buffer empty
///     Access::write8(0x60, 0xF4),      // enable scanning
///     Access::read16_into(0x1F0, &[0xABCD, 0x1234]),
/// ]);
/// assert_eq!(ports.read8(0x64), 0x1C);
/// ports.write8(0x60, 0xF4);
/// let mut words = [0u16; 2];
/// ports.read16_into(0x1F0, &mut words);
/// assert_eq!(words, [0xABCD, 0x1234]);
/// ports.finish();
/// ```
///
/// A wrong access fails with a diff:
///
/// ```should_panic
/// # use irqkit_hal::PortIo;
/// # use irqkit_hal_mock::{Access, ScriptedPorts};
/// let mut ports = ScriptedPorts::new([Access::write8(0x60, 0xF4)]);
/// ports.write8(0x60, 0xF5);
/// // panics: "scripted port I/O mismatch at script index 0 of 1
/// //            expected: write8 0x0060 <- 0xf4
/// //            actual:   write8 0x0060 <- 0xf5 ..."
/// ```
#[derive(Debug, Default)]
pub struct ScriptedPorts {
    script: Vec<Access>,
    next: usize,
    /// A mismatch was reported: do not report the unfinished script on top of it.
    failed: bool,
}

/// An access as the driver made it (reads have no data yet).
enum Request<'a> {
    Read {
        port: u16,
        width: Width,
    },
    Write {
        port: u16,
        width: Width,
        value: u32,
    },
    ReadString {
        port: u16,
        width: Width,
        len: usize,
    },
    WriteString {
        port: u16,
        width: Width,
        values: &'a [u32],
    },
}

impl Request<'_> {
    fn shape(&self) -> (bool, bool, u16, Width) {
        match *self {
            Request::Read { port, width } => (true, false, port, width),
            Request::Write { port, width, .. } => (false, false, port, width),
            Request::ReadString { port, width, .. } => (true, true, port, width),
            Request::WriteString { port, width, .. } => (false, true, port, width),
        }
    }
}

impl fmt::Display for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (read, string, port, width) = self.shape();
        write!(f, "{} {port:#06x}", method_name(read, string, width))?;
        let digits = width.hex_digits() + 2;
        match self {
            Request::Read { .. } => Ok(()),
            Request::Write { value, .. } => write!(f, " <- {value:#0digits$x}"),
            Request::ReadString { len, .. } => write!(f, " into a buffer of {len}"),
            Request::WriteString { values, .. } => {
                write!(f, " <- ")?;
                fmt_values(f, width, values)
            }
        }
    }
}

fn shape_of(access: &Access) -> (bool, bool, u16, Width) {
    let string = matches!(
        access,
        Access::ReadString { .. } | Access::WriteString { .. }
    );
    (access.is_read(), string, access.port(), access.width())
}

/// What differs between a scripted step and the actual access, or `None` if they match.
fn difference(expected: &Access, actual: &Request<'_>) -> Option<String> {
    let (e_read, e_string, e_port, e_width) = shape_of(expected);
    let (a_read, a_string, a_port, a_width) = actual.shape();
    if (e_read, e_string, e_width) != (a_read, a_string, a_width) {
        return Some("a different kind of access".into());
    }
    if e_port != a_port {
        return Some(format!(
            "the port differs: expected {e_port:#06x}, got {a_port:#06x}"
        ));
    }
    let digits = e_width.hex_digits() + 2;
    match (expected, actual) {
        (Access::Write { value: e, .. }, Request::Write { value: a, .. }) if e != a => Some(
            format!("the value differs: expected {e:#0digits$x}, got {a:#0digits$x}"),
        ),
        (Access::ReadString { values, .. }, Request::ReadString { len, .. })
            if values.len() != *len =>
        {
            Some(format!(
                "the length differs: expected {} elements, got {len}",
                values.len()
            ))
        }
        (Access::WriteString { values: e, .. }, Request::WriteString { values: a, .. }) => {
            if e.len() != a.len() {
                Some(format!(
                    "the length differs: expected {} elements, got {}",
                    e.len(),
                    a.len()
                ))
            } else {
                e.iter().zip(a.iter()).position(|(x, y)| x != y).map(|i| {
                    format!(
                        "element {i} differs: expected {:#0digits$x}, got {:#0digits$x}",
                        e[i], a[i]
                    )
                })
            }
        }
        _ => None,
    }
}

impl ScriptedPorts {
    /// A script of the given steps, in order.
    pub fn new(script: impl IntoIterator<Item = Access>) -> Self {
        Self {
            script: script.into_iter().collect(),
            next: 0,
            failed: false,
        }
    }

    /// Appends a step to the script.
    pub fn push(&mut self, step: Access) {
        self.script.push(step);
    }

    /// Steps played so far.
    pub fn position(&self) -> usize {
        self.next
    }

    /// Steps not played yet.
    pub fn remaining(&self) -> usize {
        self.script.len() - self.next
    }

    /// Checks that the whole script was played.
    ///
    /// # Panics
    ///
    /// If steps are left: the message names the next expected ones and the last played ones.
    pub fn finish(mut self) {
        // Whatever happens below, the drop check must not report it a second time.
        self.failed = true;
        if let Some(message) = self.unfinished_message() {
            panic!("{message}");
        }
    }

    fn unfinished_message(&self) -> Option<String> {
        if self.next >= self.script.len() {
            return None;
        }
        let mut m = format!(
            "scripted port I/O: script not finished: {} of {} steps never happened\n",
            self.remaining(),
            self.script.len()
        );
        for (i, step) in self.script.iter().enumerate().skip(self.next).take(CONTEXT) {
            let label = if i == self.next {
                "next expected"
            } else {
                "then"
            };
            m.push_str(&format!("  {label} (script index {i}): {step}\n"));
        }
        self.push_context(&mut m);
        Some(m)
    }

    /// Appends the last matched steps to a failure message.
    fn push_context(&self, m: &mut String) {
        if self.next == 0 {
            m.push_str("  no access matched before\n");
            return;
        }
        m.push_str("  previous accesses:\n");
        for i in self.next.saturating_sub(CONTEXT)..self.next {
            m.push_str(&format!("    script index {i}: {}\n", self.script[i]));
        }
    }

    /// Matches `actual` against the next step and returns that step.
    #[track_caller]
    fn step(&mut self, actual: Request<'_>) -> &Access {
        let index = self.next;
        let Some(expected) = self.script.get(index) else {
            self.failed = true;
            let mut m = format!(
                "scripted port I/O: access after the end of the script ({} steps)\n  \
                 actual:   {actual}\n",
                self.script.len()
            );
            self.push_context(&mut m);
            panic!("{m}");
        };
        if let Some(what) = difference(expected, &actual) {
            self.failed = true;
            let mut m = format!(
                "scripted port I/O mismatch at script index {index} of {}\n  \
                 expected: {expected}\n  \
                 actual:   {actual}\n  \
                 ({what})\n",
                self.script.len()
            );
            self.push_context(&mut m);
            panic!("{m}");
        }
        self.next += 1;
        &self.script[index]
    }

    #[track_caller]
    fn read(&mut self, port: u16, width: Width) -> u32 {
        match self.step(Request::Read { port, width }) {
            Access::Read { value, .. } => value & width.mask(),
            _ => unreachable!("difference() checked the shape"),
        }
    }

    #[track_caller]
    fn read_string(&mut self, port: u16, width: Width, len: usize) -> &[u32] {
        match self.step(Request::ReadString { port, width, len }) {
            Access::ReadString { values, .. } => values,
            _ => unreachable!("difference() checked the shape"),
        }
    }

    #[track_caller]
    fn write_string(&mut self, port: u16, width: Width, values: &[u32]) {
        self.step(Request::WriteString {
            port,
            width,
            values,
        });
    }
}

impl Drop for ScriptedPorts {
    fn drop(&mut self) {
        if self.failed || std::thread::panicking() {
            return;
        }
        if let Some(message) = self.unfinished_message() {
            panic!("{message}");
        }
    }
}

// The casts narrow values masked to the access width.
#[allow(clippy::cast_possible_truncation)]
impl PortIo for ScriptedPorts {
    #[track_caller]
    fn read8(&mut self, port: u16) -> u8 {
        self.read(port, Width::W8) as u8
    }
    #[track_caller]
    fn write8(&mut self, port: u16, value: u8) {
        self.step(Request::Write {
            port,
            width: Width::W8,
            value: value.into(),
        });
    }
    #[track_caller]
    fn read16(&mut self, port: u16) -> u16 {
        self.read(port, Width::W16) as u16
    }
    #[track_caller]
    fn write16(&mut self, port: u16, value: u16) {
        self.step(Request::Write {
            port,
            width: Width::W16,
            value: value.into(),
        });
    }
    #[track_caller]
    fn read32(&mut self, port: u16) -> u32 {
        self.read(port, Width::W32)
    }
    #[track_caller]
    fn write32(&mut self, port: u16, value: u32) {
        self.step(Request::Write {
            port,
            width: Width::W32,
            value,
        });
    }
    #[track_caller]
    fn read8_into(&mut self, port: u16, buf: &mut [u8]) {
        let values = self.read_string(port, Width::W8, buf.len());
        for (b, &v) in buf.iter_mut().zip(values) {
            *b = v as u8;
        }
    }
    #[track_caller]
    fn write8_from(&mut self, port: u16, buf: &[u8]) {
        let values: Vec<u32> = buf.iter().map(|&b| b.into()).collect();
        self.write_string(port, Width::W8, &values);
    }
    #[track_caller]
    fn read16_into(&mut self, port: u16, buf: &mut [u16]) {
        let values = self.read_string(port, Width::W16, buf.len());
        for (w, &v) in buf.iter_mut().zip(values) {
            *w = v as u16;
        }
    }
    #[track_caller]
    fn write16_from(&mut self, port: u16, buf: &[u16]) {
        let values: Vec<u32> = buf.iter().map(|&w| w.into()).collect();
        self.write_string(port, Width::W16, &values);
    }
    #[track_caller]
    fn read32_into(&mut self, port: u16, buf: &mut [u32]) {
        buf.copy_from_slice(self.read_string(port, Width::W32, buf.len()));
    }
    #[track_caller]
    fn write32_from(&mut self, port: u16, buf: &[u32]) {
        self.write_string(port, Width::W32, buf);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panic_text(f: impl FnOnce()) -> String {
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            .expect_err("expected a panic");
        err.downcast_ref::<String>()
            .cloned()
            .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    }

    #[test]
    fn difference_names_what_differs() {
        let w = |p, v| Request::Write {
            port: p,
            width: Width::W8,
            value: v,
        };
        assert_eq!(difference(&Access::write8(0x60, 1), &w(0x60, 1)), None);
        assert!(difference(&Access::write8(0x60, 1), &w(0x64, 1))
            .unwrap()
            .contains("port"));
        assert!(difference(&Access::write8(0x60, 1), &w(0x60, 2))
            .unwrap()
            .contains("value"));
        assert!(difference(&Access::read8(0x60, 1), &w(0x60, 1))
            .unwrap()
            .contains("kind"));
        let ws = Request::WriteString {
            port: 1,
            width: Width::W16,
            values: &[1, 2, 4],
        };
        assert_eq!(
            difference(&Access::write16_from(1, &[1, 2, 3]), &ws).unwrap(),
            "element 2 differs: expected 0x0003, got 0x0004"
        );
    }

    #[test]
    fn string_length_mismatch_is_reported() {
        let text = panic_text(|| {
            let mut p = ScriptedPorts::new([Access::read16_into(0x1F0, &[1, 2, 3])]);
            let mut buf = [0u16; 2];
            p.read16_into(0x1F0, &mut buf);
        });
        assert!(text.contains("expected 3 elements, got 2"), "{text}");
        assert!(
            text.contains("actual:   read16_into 0x01f0 into a buffer of 2"),
            "{text}"
        );
    }

    #[test]
    fn access_past_the_end_is_reported_with_context() {
        let text = panic_text(|| {
            let mut p = ScriptedPorts::new([Access::read8(0x64, 0x1C)]);
            p.read8(0x64);
            p.write8(0x60, 0xFF);
        });
        assert!(
            text.contains("access after the end of the script (1 steps)"),
            "{text}"
        );
        assert!(
            text.contains("script index 0: read8 0x0064 -> 0x1c"),
            "{text}"
        );
    }
}
