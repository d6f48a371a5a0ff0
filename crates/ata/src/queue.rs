//! A request queue: submissions in, completions out, the disk kept busy in between.

use heapless::Deque;
use irqkit_hal::dma::DmaMap;
use irqkit_hal::{DelayNs, PortIo};

use crate::channel::Channel;
use crate::command::{Direction, Drive, Taskfile};
use crate::dma::{BufList, Reads, Started, Writes};
use crate::irq::Recorded;
use crate::wait::Wait;
use crate::{Error, Phase};

/// What a queued request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Op {
    /// DMA read into the buffer.
    Read,
    /// DMA write from the buffer.
    Write,
    /// FLUSH CACHE (EXT): completes after every write completed before it is on the medium.
    Flush,
}

/// One submission.
#[derive(Debug)]
pub struct Request {
    /// What to do.
    pub op: Op,
    /// Which drive.
    pub drive: Drive,
    /// First sector (ignored for [`Op::Flush`]).
    pub lba: u64,
    /// The data (`None` for [`Op::Flush`]); at most one command's worth.
    pub buf: Option<&'static mut [u8]>,
    /// Passed through to the completion.
    pub user_data: u64,
}

/// [`Queue::submit`] found every slot outstanding (queued, running, or completed and not yet
/// popped); the request is handed back unchanged, buffer included.
#[derive(Debug)]
pub struct QueueFull(pub Request);

impl core::fmt::Display for QueueFull {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "request queue full: {:?} of LBA {} (user data {}) not queued; pop completions first",
            self.0.op, self.0.lba, self.0.user_data
        )
    }
}

impl core::error::Error for QueueFull {}

/// One completion, in submission order.
#[derive(Debug)]
pub struct Completion {
    /// The request's `user_data`.
    pub user_data: u64,
    /// The request's operation.
    pub op: Op,
    /// The request's buffer, back (on error its contents are not data).
    pub buf: Option<&'static mut [u8]>,
    /// The outcome.
    pub result: Result<(), Error>,
}

#[derive(Debug)]
enum InFlight {
    Dma(Request, Started),
    Flush(Request, Taskfile),
}

/// A submission/completion queue over a channel, as io_uring's rings are over a file.
///
/// [`Queue::submit`] starts the request at once when the channel is idle and queues it
/// otherwise. The bottom half calls [`Queue::service`] after the top half reported a
/// completion ([`IrqOutcome::Completed`](crate::IrqOutcome)): it collects the result into
/// the completion ring and issues the next request right away, so a queue of reads keeps
/// the disk busy without the caller in the loop. [`Queue::pop`] takes completions.
///
/// Requests run one at a time, in order, so a [`Op::Flush`] covers every write submitted
/// before it. Without a bound [`ChannelIrq`](crate::ChannelIrq), `service` polls the
/// registers instead (call it in a loop). At most `N` requests are outstanding (queued,
/// running, or completed and not popped).
///
/// Buffers are `&'static mut [u8]` for the reason given at [`Transfer`](crate::Transfer).
///
/// Every wait is the caller's: a request the disk never completes stays in flight until
/// [`Queue::expire`] (call it from a watchdog timer) fails it with [`Error::Timeout`] and
/// resets the channel.
///
/// # Example: the kernel side
///
/// ```
/// use irqkit_ata::{Channel, ChannelIrq, ChannelRegs, Completion, Drive, Error, Op, Queue, Request};
/// use irqkit_hal::PortIo;
/// # struct Floating;
/// # impl PortIo for Floating {
/// #     fn read8(&mut self, _: u16) -> u8 { 0xFF }
/// #     fn write8(&mut self, _: u16, _: u8) {}
/// #     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
/// #     fn write16(&mut self, _: u16, _: u16) {}
/// #     fn read32(&mut self, _: u16) -> u32 { !0 }
/// #     fn write32(&mut self, _: u16, _: u32) {}
/// # }
/// # struct NoDelay;
/// # impl irqkit_hal::DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
/// type Disk = Queue<Floating, NoDelay, irqkit_ata::NoDma, irqkit_ata::Spin, 8>;
///
/// static IRQ14: ChannelIrq = ChannelIrq::new();
///
/// /// Top half: acknowledge and record; schedule the bottom half when it was ours.
/// fn irq14(ports: &mut impl PortIo) -> bool {
///     IRQ14.handle(ports).is_ours()
/// }
///
/// /// Bottom half (an irqkit-defer `Work` item, say), with the queue locked: collect and
/// /// start the next request, then hand completions to whoever waits for them.
/// fn disk_bottom_half(disk: &mut Disk, mut deliver: impl FnMut(Completion)) {
///     disk.service();
///     while let Some(done) = disk.pop() {
///         deliver(done);
///     }
/// }
///
/// let mut ch = Channel::new(Floating, NoDelay, ChannelRegs::PRIMARY).with_interrupts(&IRQ14);
/// ch.probe()?;
/// let mut disk: Disk = Queue::new(ch);
/// let buf: &'static mut [u8] = Box::leak(Box::new([0u8; 4096]));
/// let read = Request { op: Op::Read, drive: Drive::Master, lba: 0, buf: Some(buf), user_data: 1 };
/// disk.submit(read).map_err(|_full| Error::Busy)?;
/// let _ = irq14(&mut Floating);
/// disk_bottom_half(&mut disk, |done| {
///     // Errors arrive as completions, with the buffer back.
///     assert_eq!(done.result, Err(Error::NoDevice { drive: Drive::Master }));
///     assert_eq!(done.buf.map(|b| b.len()), Some(4096));
/// });
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug)]
pub struct Queue<P: PortIo, D: DelayNs, M: DmaMap, W: Wait, const N: usize> {
    ch: Channel<P, D, M, W>,
    pending: Deque<Request, N>,
    done: Deque<Completion, N>,
    current: Option<InFlight>,
}

fn with_list<R>(
    op: Op,
    buf: &mut Option<&'static mut [u8]>,
    f: impl FnOnce(&mut dyn BufList) -> R,
) -> R {
    let mut empty: [&mut [u8]; 0] = [];
    match (op, buf.as_mut()) {
        (Op::Read, Some(b)) => f(&mut Reads(core::slice::from_mut(b))),
        (_, Some(b)) => {
            let r: &[u8] = b;
            f(&mut Writes(core::slice::from_ref(&r)))
        }
        (_, None) => f(&mut Reads(&mut empty)),
    }
}

impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait, const N: usize> Queue<P, D, M, W, N> {
    /// A queue over `channel` (probed, with DMA).
    pub fn new(channel: Channel<P, D, M, W>) -> Self {
        Queue {
            ch: channel,
            pending: Deque::new(),
            done: Deque::new(),
            current: None,
        }
    }

    /// Requests outstanding: queued, running, or completed and not yet popped.
    pub fn outstanding(&self) -> usize {
        self.pending.len() + self.done.len() + usize::from(self.current.is_some())
    }

    /// Whether a request is running on the disk.
    pub fn is_busy(&self) -> bool {
        self.current.is_some()
    }

    /// Submits a request; starts it at once when the disk is idle.
    ///
    /// # Errors
    ///
    /// [`QueueFull`], holding the request unchanged, when `N` requests are outstanding (pop
    /// completions to make room). Errors of the request itself (range, buffer, device) arrive
    /// as its [`Completion`].
    pub fn submit(&mut self, req: Request) -> Result<(), QueueFull> {
        if self.outstanding() >= N {
            return Err(QueueFull(req));
        }
        self.pending.push_back(req).map_err(QueueFull)?;
        if self.current.is_none() {
            self.issue_next();
        }
        Ok(())
    }

    /// The bottom half: collects a finished request into the completion ring and starts the
    /// next one. Returns the number of completions added.
    pub fn service(&mut self) -> usize {
        let before = self.done.len();
        let finished = match self.current.as_ref() {
            Some(InFlight::Dma(_, started)) => self.ch.poll_done(started).map(Some),
            Some(InFlight::Flush(..)) => self.poll_flush().map(Some),
            None => Some(None),
        };
        if let Some(Some(rec)) = finished {
            match self.current.take() {
                Some(InFlight::Dma(mut req, started)) => {
                    let ch = &mut self.ch;
                    let result = with_list(req.op, &mut req.buf, |l| ch.end(&started, l, rec));
                    self.complete(req, result);
                }
                Some(InFlight::Flush(req, tf)) => {
                    let st = crate::command::Status::from_bits_retain(rec.ata);
                    let result = self.ch.check_final(&tf, st);
                    self.complete(req, result);
                }
                None => {}
            }
        }
        if self.current.is_none() {
            self.issue_next();
        }
        self.done.len() - before
    }

    /// Takes the oldest completion.
    pub fn pop(&mut self) -> Option<Completion> {
        self.done.pop_front()
    }

    /// For a watchdog: call it when the running request has taken longer than the caller
    /// allows. If the registers show it complete (its interrupt was lost) it completes
    /// normally (counted in [`Stats::lost_interrupts`](crate::Stats)); otherwise it fails
    /// with [`Error::Timeout`], the engine is stopped and the channel reset. Either way the
    /// next request starts. Returns whether a request was running.
    pub fn expire(&mut self, waited_us: u32) -> bool {
        let Some(current) = self.current.take() else {
            return false;
        };
        let dma = matches!(current, InFlight::Dma(..));
        let late = match self.ch.irq_mode().and_then(|irq| irq.disarm()) {
            Some(rec) => Some(rec),
            None if self.ch.done_by_registers(dma) => {
                self.ch.stats.lost_interrupts += 1;
                Some(self.ch.complete_by_registers(dma))
            }
            None => None,
        };
        let error = Error::Timeout {
            phase: Phase::Completion,
            waited_us,
        };
        match (current, late) {
            (InFlight::Dma(mut req, started), Some(rec)) => {
                let ch = &mut self.ch;
                let result = with_list(req.op, &mut req.buf, |l| ch.end(&started, l, rec));
                self.complete(req, result);
            }
            (InFlight::Dma(mut req, started), None) => {
                self.ch.stats.timeouts += 1;
                let ch = &mut self.ch;
                with_list(req.op, &mut req.buf, |l| ch.cancel(&started, l));
                self.complete(req, Err(error));
            }
            (InFlight::Flush(req, tf), Some(rec)) => {
                let st = crate::command::Status::from_bits_retain(rec.ata);
                let result = self.ch.check_final(&tf, st);
                self.complete(req, result);
            }
            (InFlight::Flush(req, _), None) => {
                self.ch.stats.timeouts += 1;
                self.ch.stop_engine();
                let _ = self.ch.reset();
                self.complete(req, Err(error));
            }
        }
        self.issue_next();
        true
    }

    /// The channel, for blocking calls, when no request is running.
    ///
    /// # Errors
    ///
    /// [`Error::Busy`] while a request is on the disk.
    pub fn channel(&mut self) -> Result<&mut Channel<P, D, M, W>, Error> {
        match self.current {
            Some(_) => Err(Error::Busy),
            None => Ok(&mut self.ch),
        }
    }

    fn complete(&mut self, req: Request, result: Result<(), Error>) {
        // Room is guaranteed: outstanding() never exceeds N.
        let _ = self.done.push_back(Completion {
            user_data: req.user_data,
            op: req.op,
            buf: req.buf,
            result,
        });
    }

    /// Starts queued requests until one is running or the queue is empty (requests that
    /// fail their checks complete at once).
    fn issue_next(&mut self) {
        while self.current.is_none() {
            let Some(mut req) = self.pending.pop_front() else {
                return;
            };
            self.ch.abandon_in_flight();
            let irq = self.ch.irq_mode().is_some();
            let r = match req.op {
                Op::Flush => self.start_flush(req.drive).map(Err),
                op => {
                    let dir = if op == Op::Read {
                        Direction::Read
                    } else {
                        Direction::Write
                    };
                    let (ch, drive, lba) = (&mut self.ch, req.drive, req.lba);
                    if req.buf.is_none() {
                        Err(Error::BadLength {
                            len: 0,
                            sector_size: 512,
                        })
                    } else {
                        with_list(op, &mut req.buf, |l| ch.begin(drive, dir, lba, l, irq)).map(Ok)
                    }
                }
            };
            match r {
                Ok(Ok(started)) => {
                    self.ch.busy = true;
                    self.current = Some(InFlight::Dma(req, started));
                }
                Ok(Err(Some(tf))) => self.current = Some(InFlight::Flush(req, tf)),
                Ok(Err(None)) => self.complete(req, Ok(())),
                Err(e) => self.complete(req, Err(e)),
            }
        }
    }

    /// Issues FLUSH CACHE without waiting; `None` when the drive has nothing to flush.
    fn start_flush(&mut self, drive: Drive) -> Result<Option<Taskfile>, Error> {
        let g = self.ch.disk(drive)?;
        if !g.write_cache && !g.flush && !g.flush_ext {
            return Ok(None);
        }
        let tf = Taskfile::flush(drive, g.lba48 && g.flush_ext);
        let irq = self.ch.irq_mode();
        self.ch.prepare(&tf, irq.is_some())?;
        if let Some(irq) = irq {
            irq.arm(false);
        }
        self.ch.legacy().command(tf.command);
        Ok(Some(tf))
    }

    fn poll_flush(&mut self) -> Option<Recorded> {
        match self.ch.irq_mode() {
            Some(irq) => irq.take(),
            None => self
                .ch
                .done_by_registers(false)
                .then(|| self.ch.complete_by_registers(false)),
        }
    }
}

/// Dropping the queue with a request on the disk stops the engine and resets the channel;
/// the buffers of unfinished requests are dropped with it (they are `'static`, so no one
/// else can reach the memory the device may still have been writing).
impl<P: PortIo, D: DelayNs, M: DmaMap, W: Wait, const N: usize> Drop for Queue<P, D, M, W, N> {
    fn drop(&mut self) {
        if let Some(InFlight::Dma(mut req, started)) = self.current.take() {
            let ch = &mut self.ch;
            with_list(req.op, &mut req.buf, |l| ch.cancel(&started, l));
        }
    }
}
