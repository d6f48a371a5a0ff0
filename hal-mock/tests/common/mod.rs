//! Small device models shared by the integration tests.
#![allow(dead_code)]

pub mod ata;

use std::collections::VecDeque;
use std::time::Duration;

use irqkit_hal_mock::{Device, DeviceAddr, DeviceCtx, Line, SimTime, Width};

/// Records every access it gets; reads return `answer` (or the last write when `echo`).
#[derive(Debug, Default)]
pub struct Recorder {
    pub seen: Vec<(DeviceAddr, Width, Option<u32>)>,
    pub answer: u32,
    pub resets: u32,
}

impl Device for Recorder {
    fn read(&mut self, at: DeviceAddr, width: Width, _: &mut DeviceCtx<'_>) -> u32 {
        self.seen.push((at, width, None));
        self.answer
    }
    fn write(&mut self, at: DeviceAddr, width: Width, value: u32, _: &mut DeviceCtx<'_>) {
        self.seen.push((at, width, Some(value)));
    }
    fn reset(&mut self, _: &mut DeviceCtx<'_>) {
        self.resets += 1;
    }
}

/// Reads return an increasing counter (1, 2, 3, ...) so string order is visible.
#[derive(Debug, Default)]
pub struct Sequence(pub u32);

impl Device for Sequence {
    fn read(&mut self, _: DeviceAddr, _: Width, _: &mut DeviceCtx<'_>) -> u32 {
        self.0 += 1;
        self.0
    }
    fn write(&mut self, _: DeviceAddr, _: Width, value: u32, _: &mut DeviceCtx<'_>) {
        self.0 = value;
    }
}

/// A status register (offset 0) whose bit 0 becomes set `ready_after` after any write,
/// raising `line` then (level) until status is read.
#[derive(Debug)]
pub struct Slow {
    pub ready_after: Duration,
    pub ready: bool,
    pub line: Line,
    pub ready_at: Option<SimTime>,
}

impl Slow {
    pub fn new(ready_after: Duration, line: Line) -> Self {
        Self {
            ready_after,
            ready: false,
            line,
            ready_at: None,
        }
    }
}

impl Device for Slow {
    fn read(&mut self, _: DeviceAddr, _: Width, ctx: &mut DeviceCtx<'_>) -> u32 {
        ctx.lower(self.line);
        if self.ready {
            0x01
        } else {
            0x80
        }
    }
    fn write(&mut self, _: DeviceAddr, _: Width, _: u32, ctx: &mut DeviceCtx<'_>) {
        self.ready = false;
        ctx.schedule_in(self.ready_after, 0);
    }
    fn event(&mut self, _: u64, ctx: &mut DeviceCtx<'_>) {
        self.ready = true;
        self.ready_at = Some(ctx.now());
        ctx.raise(self.line);
    }
    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        self.ready = false;
        ctx.lower(self.line);
    }
}

/// A byte FIFO like an i8042 output buffer: offset 0 data (reading pops), offset 1 status
/// (bit 0: data waiting). The line is high while data waits; each pop that leaves data behind
/// re-raises it with a fresh edge (lower then raise).
#[derive(Debug)]
pub struct Fifo {
    pub bytes: VecDeque<u8>,
    pub line: Line,
}

impl Fifo {
    pub fn new(line: Line) -> Self {
        Self {
            bytes: VecDeque::new(),
            line,
        }
    }

    pub fn push(&mut self, byte: u8, ctx: &mut DeviceCtx<'_>) {
        self.bytes.push_back(byte);
        ctx.raise(self.line);
    }
}

impl Device for Fifo {
    fn read(&mut self, at: DeviceAddr, _: Width, ctx: &mut DeviceCtx<'_>) -> u32 {
        match at.offset {
            0 => {
                let byte = self.bytes.pop_front().unwrap_or(0);
                ctx.lower(self.line);
                if !self.bytes.is_empty() {
                    ctx.raise(self.line);
                }
                byte.into()
            }
            _ => u32::from(!self.bytes.is_empty()),
        }
    }
    fn write(&mut self, _: DeviceAddr, _: Width, value: u32, ctx: &mut DeviceCtx<'_>) {
        self.push(value as u8, ctx);
    }
}

/// The text of a caught panic.
pub fn panic_text(f: impl FnOnce()) -> String {
    let err =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}
