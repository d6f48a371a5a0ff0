//! Reading the `-append` command line out of the PVH `hvm_start_info` structure.

use core::cell::Cell;
use core::fmt;

use irqkit_hal::critical_section::{self, Mutex};

/// `hvm_start_info.magic`.
const START_INFO_MAGIC: u32 = 0x336E_C578;
/// Offset of the 64-bit physical address of the NUL-terminated command line.
const CMDLINE_PADDR_OFFSET: usize = 24;
/// Longest command line read; a missing NUL terminator within it is an error.
const MAX_CMDLINE: usize = 4096;
/// The boot stub identity-maps this much; anything above is not readable.
const MAPPED_BYTES: u64 = 1 << 30;

/// Why the command line could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootInfoError {
    /// `hvm_start_info` is missing or outside the mapped memory.
    BadStartInfoAddress(usize),
    /// The structure's magic field did not match.
    BadMagic {
        /// What the field held.
        found: u32,
    },
    /// The command line lies outside the identity-mapped first GiB.
    CmdlineUnmapped(u64),
    /// No NUL within [`MAX_CMDLINE`] bytes.
    CmdlineUnterminated,
    /// The command line is not UTF-8.
    CmdlineNotUtf8,
}

impl fmt::Display for BootInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadStartInfoAddress(address) => {
                write!(f, "hvm_start_info address {address:#x} is not usable")
            }
            Self::BadMagic { found } => write!(
                f,
                "hvm_start_info magic is {found:#x}, expected {START_INFO_MAGIC:#x}"
            ),
            Self::CmdlineUnmapped(address) => {
                write!(
                    f,
                    "command line at {address:#x} lies outside the mapped 1 GiB"
                )
            }
            Self::CmdlineUnterminated => {
                write!(f, "command line has no NUL within {MAX_CMDLINE} bytes")
            }
            Self::CmdlineNotUtf8 => write!(f, "command line is not UTF-8"),
        }
    }
}

/// The `-append` string, or `""` when QEMU passed none.
///
/// # Errors
///
/// [`BootInfoError`] when `start_info` does not point at a valid `hvm_start_info` or the
/// command line cannot be read.
pub fn command_line(start_info: usize) -> Result<&'static str, BootInfoError> {
    if start_info == 0
        || start_info % 8 != 0
        || start_info as u64 + CMDLINE_PADDR_OFFSET as u64 + 8 > MAPPED_BYTES
    {
        return Err(BootInfoError::BadStartInfoAddress(start_info));
    }
    let base = start_info as *const u8;
    // SAFETY: `start_info` comes from the PVH loader (ebx at entry), is 8-byte aligned and the
    // 32 bytes read lie in the identity-mapped, readable first GiB; nothing writes them.
    let (magic, cmdline) = unsafe {
        (
            base.cast::<u32>().read_volatile(),
            base.add(CMDLINE_PADDR_OFFSET).cast::<u64>().read_volatile(),
        )
    };
    if magic != START_INFO_MAGIC {
        return Err(BootInfoError::BadMagic { found: magic });
    }
    if cmdline == 0 {
        return Ok("");
    }
    let readable = MAPPED_BYTES.saturating_sub(cmdline).min(MAX_CMDLINE as u64) as usize;
    if readable == 0 {
        return Err(BootInfoError::CmdlineUnmapped(cmdline));
    }
    // SAFETY: the `readable` bytes from `cmdline` lie in the identity-mapped first GiB, which
    // the loader placed the command line in and which nothing in this kernel writes.
    let bytes = unsafe { core::slice::from_raw_parts(cmdline as *const u8, readable) };
    let length = bytes
        .iter()
        .position(|&byte| byte == 0)
        .ok_or(BootInfoError::CmdlineUnterminated)?;
    core::str::from_utf8(&bytes[..length]).map_err(|_| BootInfoError::CmdlineNotUtf8)
}

/// The value of `key=value` in a space-separated command line.
pub fn argument<'a>(command_line: &'a str, key: &str) -> Option<&'a str> {
    command_line.split_ascii_whitespace().find_map(|word| {
        word.strip_prefix(key)
            .and_then(|rest| rest.strip_prefix('='))
    })
}

/// The command line `kernel_main` read, kept for test cases that take `key=value` arguments.
static COMMAND_LINE: Mutex<Cell<&'static str>> = Mutex::new(Cell::new(""));

/// Keeps the command line for [`kernel_argument`].
pub fn remember_command_line(command_line: &'static str) {
    critical_section::with(|cs| COMMAND_LINE.borrow(cs).set(command_line));
}

/// The value of `key=value` on the kernel command line (e.g. `layout=de`).
pub fn kernel_argument(key: &str) -> Option<&'static str> {
    let command_line = critical_section::with(|cs| COMMAND_LINE.borrow(cs).get());
    argument(command_line, key)
}
