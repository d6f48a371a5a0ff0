//! The shell's text handling: words of a command line, numbers, paths, hex dumps. Pure (no
//! hardware, no statics, only `core`): the host's tests compile this file on their own.

use core::fmt::{self, Write};

/// The text of `line` after its first `words` words, leading blanks removed (the TEXT of
/// `write LBA TEXT`).
pub fn rest_after(line: &str, words: usize) -> &str {
    let mut rest = line.trim_start();
    for _ in 0..words {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest
}

/// A number argument: decimal, or hexadecimal after `0x`.
pub fn parse_number(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `DIR/SUB/NAME` as its directory names (empty parts skipped) and the last name.
pub fn split_path(path: &str) -> (impl Iterator<Item = &str>, &str) {
    let (dirs, name) = path.rsplit_once('/').unwrap_or(("", path));
    (dirs.split('/').filter(|part| !part.is_empty()), name)
}

/// Writes `bytes` as a hex dump: sixteen bytes a line (offset, hex, ASCII), a run of equal
/// lines shown once and then `*`, and after a run the total length, as `hexdump` does.
///
/// # Errors
///
/// Only those of `out`.
pub fn hexdump(bytes: &[u8], out: &mut impl Write) -> fmt::Result {
    let mut previous: Option<&[u8]> = None;
    let mut starred = false;
    for (index, line) in bytes.chunks(16).enumerate() {
        if previous == Some(line) {
            if !starred {
                out.write_str("*\n")?;
                starred = true;
            }
            continue;
        }
        previous = Some(line);
        starred = false;
        write!(out, "{:04x} ", index * 16)?;
        for byte in line {
            write!(out, " {byte:02x}")?;
        }
        out.write_str("  ")?;
        for &byte in line {
            out.write_char(if (0x20..0x7F).contains(&byte) {
                byte as char
            } else {
                '.'
            })?;
        }
        out.write_char('\n')?;
    }
    if starred {
        writeln!(out, "{:04x}", bytes.len())?;
    }
    Ok(())
}
