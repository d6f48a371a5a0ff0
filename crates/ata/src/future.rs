//! Async transfers: a future woken by the completion interrupt.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use irqkit_hal::dma::DmaMap;
use irqkit_hal::{DelayNs, PortIo};

use crate::channel::Channel;
use crate::command::{Direction, Drive};
use crate::dma::{BufList, Reads, Started, Writes};
use crate::wait::Wait;
use crate::Error;

/// A DMA transfer in flight: a future that completes with the buffer.
///
/// Made by [`Channel::read_async`] / [`Channel::write_async`]. The first poll starts the
/// command; the channel's [`ChannelIrq`](crate::ChannelIrq) top half wakes the task when the
/// disk interrupts. Without a bound `ChannelIrq` the future completes by polling registers
/// and wakes itself at each poll (a busy loop: bind interrupts for real use). Works with
/// any executor (`irqkit-defer`'s `TaskSlot` included).
///
/// # Who owns the buffer
///
/// The transfer holds the buffer (`&'static mut [u8]`) from start to end and hands it back
/// in the output, also on error ([`Failed`]). Two ways a caller could stop awaiting are
/// covered:
///
/// * **Dropping** the future mid-transfer stops the engine, unmaps the buffer and resets
///   the channel (the drive was mid-command) before the buffer is released. The drop
///   therefore blocks for the reset (a few milliseconds). Dropping is how an async caller
///   puts a timeout on a transfer (race it with a timer).
/// * **Forgetting** it (`mem::forget`) runs no code: the engine may keep writing. That is
///   why the buffer is `'static`: a forgotten transfer keeps its `&'static mut` forever, so
///   no one can reuse that memory while the device writes it. The channel notices the
///   abandoned command at its next call, stops the engine and resets before anything else.
///
/// A borrowed `&'a mut [u8]` could not give the second guarantee, so the blocking calls,
/// which never return with the engine running, are the ones that take any buffer.
///
/// Polling the future again after it completed returns `Pending` forever.
///
/// # What the types refuse
///
/// A borrowed buffer does not compile:
///
/// ```compile_fail,E0597
/// # use irqkit_ata::{Channel, ChannelRegs, Drive};
/// # struct Floating;
/// # impl irqkit_hal::PortIo for Floating {
/// #     fn read8(&mut self, _: u16) -> u8 { 0xFF }
/// #     fn write8(&mut self, _: u16, _: u8) {}
/// #     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
/// #     fn write16(&mut self, _: u16, _: u16) {}
/// #     fn read32(&mut self, _: u16) -> u32 { !0 }
/// #     fn write32(&mut self, _: u16, _: u32) {}
/// # }
/// # struct NoDelay;
/// # impl irqkit_hal::DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
/// let mut ch = Channel::new(Floating, NoDelay, ChannelRegs::PRIMARY);
/// let mut sector = [0u8; 512];
/// let transfer = ch.read_async(Drive::Master, 0, &mut sector);
/// # drop(transfer);
/// ```
///
/// and while a transfer is alive nothing else can use the channel:
///
/// ```compile_fail,E0499
/// # use irqkit_ata::{Channel, ChannelRegs, Drive};
/// # struct Floating;
/// # impl irqkit_hal::PortIo for Floating {
/// #     fn read8(&mut self, _: u16) -> u8 { 0xFF }
/// #     fn write8(&mut self, _: u16, _: u8) {}
/// #     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
/// #     fn write16(&mut self, _: u16, _: u16) {}
/// #     fn read32(&mut self, _: u16) -> u32 { !0 }
/// #     fn write32(&mut self, _: u16, _: u32) {}
/// # }
/// # struct NoDelay;
/// # impl irqkit_hal::DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
/// let mut ch = Channel::new(Floating, NoDelay, ChannelRegs::PRIMARY);
/// let buf: &'static mut [u8] = Box::leak(Box::new([0u8; 512]));
/// let transfer = ch.read_async(Drive::Master, 0, buf);
/// ch.flush(Drive::Master);
/// drop(transfer);
/// ```
#[derive(Debug)]
#[must_use = "a transfer does nothing until awaited"]
pub struct Transfer<'c, P: PortIo, D: DelayNs, M: DmaMap, W: Wait> {
    ch: &'c mut Channel<P, D, M, W>,
    drive: Drive,
    lba: u64,
    dir: Direction,
    buf: Option<&'static mut [u8]>,
    started: Option<Started>,
}

/// A transfer that failed: the error, and the buffer back (its contents are not data).
#[derive(Debug)]
pub struct Failed {
    /// What went wrong.
    pub error: Error,
    /// The caller's buffer.
    pub buf: &'static mut [u8],
}

impl core::fmt::Display for Failed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(&self.error, f)
    }
}

impl core::error::Error for Failed {}

fn with_list<R>(
    dir: Direction,
    buf: &mut &'static mut [u8],
    f: impl FnOnce(&mut dyn BufList) -> R,
) -> R {
    match dir {
        Direction::Read => f(&mut Reads(core::slice::from_mut(buf))),
        Direction::Write => {
            let b: &[u8] = buf;
            f(&mut Writes(core::slice::from_ref(&b)))
        }
    }
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Channel<P, D, M, W> {
    /// Reads `buf.len() / sector_size` sectors from `lba` by DMA, as a future. One command:
    /// the buffer must not exceed what one command moves.
    ///
    /// # Errors
    ///
    /// As [`Channel::readv_dma`], reported by the future with the buffer ([`Failed`]).
    pub fn read_async(
        &mut self,
        drive: Drive,
        lba: u64,
        buf: &'static mut [u8],
    ) -> Transfer<'_, P, D, M, W> {
        Transfer {
            ch: self,
            drive,
            lba,
            dir: Direction::Read,
            buf: Some(buf),
            started: None,
        }
    }

    /// Writes `buf` to the sectors from `lba` by DMA, as a future. The data is in the drive's
    /// cache when it completes; see [`Channel::flush`].
    ///
    /// # Errors
    ///
    /// As [`Channel::writev_dma`], reported by the future with the buffer ([`Failed`]).
    pub fn write_async(
        &mut self,
        drive: Drive,
        lba: u64,
        buf: &'static mut [u8],
    ) -> Transfer<'_, P, D, M, W> {
        Transfer {
            ch: self,
            drive,
            lba,
            dir: Direction::Write,
            buf: Some(buf),
            started: None,
        }
    }
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait> Future for Transfer<'_, P, D, M, W> {
    type Output = Result<&'static mut [u8], Failed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(mut buf) = this.buf.take() else {
            return Poll::Pending;
        };
        let irq = this.ch.irq_mode();
        // Register before looking, so a completion between the look and the return wakes us.
        if let Some(irq) = irq {
            irq.register(cx.waker());
        }
        let started = match this.started {
            Some(s) => s,
            None => {
                this.ch.abandon_in_flight();
                let (ch, drive, lba, dir) = (&mut *this.ch, this.drive, this.lba, this.dir);
                match with_list(dir, &mut buf, |l| {
                    ch.begin(drive, dir, lba, l, irq.is_some())
                }) {
                    Ok(s) => {
                        this.ch.busy = true;
                        this.started = Some(s);
                        s
                    }
                    Err(error) => return Poll::Ready(Err(Failed { error, buf })),
                }
            }
        };
        match this.ch.poll_done(&started) {
            Some(rec) => {
                this.started = None;
                let ch = &mut *this.ch;
                let r = with_list(started.dir, &mut buf, |l| ch.end(&started, l, rec));
                Poll::Ready(match r {
                    Ok(()) => Ok(buf),
                    Err(error) => Err(Failed { error, buf }),
                })
            }
            None => {
                this.buf = Some(buf);
                if irq.is_none() {
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
        }
    }
}

impl<P, D, M, W> Drop for Transfer<'_, P, D, M, W>
where
    P: PortIo,
    D: DelayNs,
    M: DmaMap,
    W: Wait,
{
    fn drop(&mut self) {
        if let (Some(started), Some(mut buf)) = (self.started.take(), self.buf.take()) {
            let ch = &mut *self.ch;
            with_list(started.dir, &mut buf, |l| ch.cancel(&started, l));
        }
    }
}
