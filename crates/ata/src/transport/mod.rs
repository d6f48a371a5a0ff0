//! The legacy IDE transport: the taskfile registers of a channel and its bus-master engine.
//!
//! Only register access lives here; what to write comes from [`crate::command`], and the
//! sequencing (select, issue, wait, transfer, finish) from the channel. An AHCI transport
//! would sit beside these modules and reuse the command layer unchanged.

pub(crate) mod busmaster;
pub(crate) mod legacy;
mod regs;

pub use regs::{ChannelId, ChannelRegs};
