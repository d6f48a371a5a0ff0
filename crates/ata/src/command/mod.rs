//! The ATA command layer: pure protocol code, no I/O.
//!
//! Everything here is a function of values: which command and taskfile a request needs,
//! what an IDENTIFY block says, what a status/error pair means, how a buffer list becomes a
//! PRD table. The legacy IDE transport of this crate uses it; an AHCI transport would use the
//! same pieces (a taskfile is what a host-to-device FIS carries).

mod identify;
mod opcode;
mod prd;
mod signature;
mod split;
mod status;
mod taskfile;

pub use identify::{AtaString, Identify, Modes};
pub use opcode::Opcode;
pub use prd::{PrdTable, PRD_ENTRY_SIZE, PRD_MAX_BYTES, PRD_MAX_ENTRIES};
pub use signature::DeviceKind;
pub use split::Chunks;
pub(crate) use status::names_sector;
pub use status::{decode_error, ErrorBits, Status};
pub use taskfile::{AddressMode, Direction, Drive, Protocol, Taskfile, LBA28_LIMIT, LBA48_LIMIT};
