//! ATA disks for `no_std` kernels.
//!
//! The protocol lives in [`command`], pure code without I/O: taskfiles and the LBA28 / LBA48
//! choice, IDENTIFY parsing, status and error decoding, PRD tables.
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

#[cfg(test)]
extern crate std;

pub mod command;
mod error;

pub use command::{DeviceKind, Drive, Identify};
pub use error::{Error, Phase, Unsupported};
