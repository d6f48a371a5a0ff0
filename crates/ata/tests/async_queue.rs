//! Async transfers (woken by the interrupt; dropped and forgotten mid-transfer) and the
//! request queue.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use common::*;
use irqkit_ata::{Error, Op, Queue, Request};

struct CountWakes(AtomicUsize);
impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Waker, Arc<CountWakes>) {
    let c = Arc::new(CountWakes(AtomicUsize::new(0)));
    (Waker::from(c.clone()), c)
}

#[test]
fn read_async_is_woken_by_the_interrupt() {
    let rig = one_disk(1000);
    let data = pattern(40, 8 * 512, 1);
    rig.disk(|d| d.write_medium(40, &data));
    let (mut ch, irq) = rig.dma_irq();
    let (waker, wakes) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = ch.read_async(M, 40, leak_buf(8 * 512));
    assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
    assert!(
        Pin::new(&mut fut).poll(&mut cx).is_pending(),
        "not before the disk is done"
    );
    assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
    rig.advance(500); // the DMA takes 100 us of virtual time
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "woken by IRQ 14");
    let Poll::Ready(Ok(buf)) = Pin::new(&mut fut).poll(&mut cx) else {
        panic!("not ready after the interrupt");
    };
    assert_eq!(&buf[..], &data[..]);
    drop(fut);
    assert_eq!(irq.completed(), 1);
    assert!(rig.mem.mappings().is_empty());
}

#[test]
fn async_errors_give_the_buffer_back() {
    let rig = one_disk(100);
    let (mut ch, _irq) = rig.dma_irq();
    let (waker, _) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = ch.write_async(M, 99, leak_buf(2 * 512));
    match Pin::new(&mut fut).poll(&mut cx) {
        Poll::Ready(Err(failed)) => {
            assert_eq!(
                failed.error,
                Error::OutOfRange {
                    lba: 99,
                    count: 2,
                    capacity: 100
                }
            );
            assert_eq!(failed.buf.len(), 1024);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn dropping_a_transfer_stops_the_engine_before_the_buffer_is_released() {
    let rig = one_disk(1000);
    let (mut ch, _irq) = rig.dma_irq();
    let (waker, _) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = ch.read_async(M, 0, leak_buf(16 * 512));
    assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
    assert!(rig.ide.with(|c| c.dma_pending()));
    drop(fut);
    // Engine stopped, mappings gone; time passing moves no data into unmapped memory (the
    // simulated memory panics on any such access).
    assert_eq!(rig.ide.with(|c| c.bus_master_command()) & 1, 0);
    assert!(rig.mem.mappings().is_empty());
    rig.advance(1000);
    assert!(rig.mem.violations().is_empty());
    let data = pattern(0, 512, 3);
    ch.write(M, 0, &data).unwrap();
    let mut back = vec![0u8; 512];
    ch.read(M, 0, &mut back).unwrap();
    assert_eq!(back, data);
}

#[test]
fn forgetting_a_transfer_is_sound_and_the_channel_recovers() {
    let rig = one_disk(1000);
    let data = pattern(5, 4 * 512, 4);
    rig.disk(|d| d.write_medium(5, &data));
    let (mut ch, _irq) = rig.dma_irq();
    let (waker, _) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let buf = leak_buf(4 * 512);
    let mut fut = ch.read_async(M, 5, buf);
    assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
    std::mem::forget(fut);
    // The engine keeps writing into the forgotten transfer's buffer, which nobody can reach
    // again ('static, owned by the leaked future): no violation.
    rig.advance(1000);
    assert!(rig.mem.violations().is_empty());
    let resets = ch.stats().resets;
    let mut back = vec![0u8; 4 * 512];
    ch.read(M, 5, &mut back).unwrap();
    assert_eq!(back, data);
    assert!(ch.stats().resets > resets, "abandoned command reset first");
}

#[test]
fn without_interrupts_a_transfer_polls_and_wakes_itself() {
    let rig = one_disk(1000);
    let data = pattern(1, 512, 5);
    rig.disk(|d| d.write_medium(1, &data));
    let mut ch = rig.dma();
    let (waker, wakes) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = ch.read_async(M, 1, leak_buf(512));
    let mut polls = 0;
    let buf = loop {
        match Pin::new(&mut fut).poll(&mut cx) {
            Poll::Ready(r) => break r.unwrap(),
            Poll::Pending => {
                polls += 1;
                assert!(polls < 1000);
                rig.advance(20);
            }
        }
    };
    assert_eq!(&buf[..], &data[..]);
    assert!(wakes.0.load(Ordering::SeqCst) >= polls);
}

#[test]
fn irqkit_defer_drives_an_async_read() {
    use irqkit_defer::{Budget, Executor, TaskSlot};
    static EXEC: Executor = Executor::new();
    static SLOT: TaskSlot<512> = TaskSlot::new(&EXEC);
    static DONE: AtomicBool = AtomicBool::new(false);

    let rig = one_disk(1000);
    let data = pattern(9, 2 * 512, 6);
    rig.disk(|d| d.write_medium(9, &data));
    let (ch, _irq) = rig.dma_irq();
    let ch: &'static mut Disk = Box::leak(Box::new(ch));
    let want = data.clone();
    SLOT.spawn(async move {
        let buf = ch.read_async(M, 9, leak_buf(2 * 512)).await.unwrap();
        assert_eq!(&buf[..], &want[..]);
        DONE.store(true, Ordering::SeqCst);
    })
    .map_err(|_| ())
    .unwrap();
    for _ in 0..100 {
        EXEC.run(Budget::items(8)).unwrap();
        if DONE.load(Ordering::SeqCst) {
            return;
        }
        rig.advance(50);
    }
    panic!("the task never completed");
}

#[test]
fn queue_keeps_the_disk_busy_and_completes_in_order() {
    let rig = one_disk(10_000);
    let (ch, irq) = rig.dma_irq();
    let mut q: Queue<_, _, _, _, 8> = Queue::new(ch);
    for i in 0..4u64 {
        let data = pattern(i * 100, 16 * 512, 7);
        let buf = leak_buf(16 * 512);
        buf.copy_from_slice(&data);
        q.submit(Request {
            op: Op::Write,
            drive: M,
            lba: i * 100,
            buf: Some(buf),
            user_data: i,
        })
        .unwrap();
    }
    q.submit(Request {
        op: Op::Flush,
        drive: M,
        lba: 0,
        buf: None,
        user_data: 99,
    })
    .unwrap();
    for i in 0..2u64 {
        q.submit(Request {
            op: Op::Read,
            drive: M,
            lba: i * 100,
            buf: Some(leak_buf(16 * 512)),
            user_data: 10 + i,
        })
        .unwrap();
    }
    // A bad request completes with its error in its place.
    q.submit(Request {
        op: Op::Read,
        drive: M,
        lba: 9_999,
        buf: Some(leak_buf(2 * 512)),
        user_data: 77,
    })
    .unwrap();
    // Full: the request comes back.
    let back = q.submit(Request {
        op: Op::Flush,
        drive: M,
        lba: 0,
        buf: None,
        user_data: 100,
    });
    let full = back.unwrap_err();
    assert_eq!(full.0.user_data, 100);
    assert!(full.to_string().starts_with("request queue full"), "{full}");

    let mut done = Vec::new();
    for _ in 0..200 {
        // The kernel: the top half ran on IRQ 14 (wired in the rig); the bottom half services.
        q.service();
        while let Some(c) = q.pop() {
            done.push(c);
        }
        if done.len() == 8 {
            break;
        }
        rig.advance(50);
    }
    let ids: Vec<u64> = done.iter().map(|c| c.user_data).collect();
    assert_eq!(ids, [0, 1, 2, 3, 99, 10, 11, 77]);
    for c in &done[..7] {
        assert_eq!(c.result, Ok(()), "{}", c.user_data);
    }
    assert!(matches!(done[7].result, Err(Error::OutOfRange { .. })));
    for c in &done[5..7] {
        let lba = (c.user_data - 10) * 100;
        assert_eq!(c.buf.as_deref().unwrap(), &pattern(lba, 16 * 512, 7)[..]);
    }
    // Flushed before power loss: the writes survive.
    rig.disk(|d| d.power_loss());
    let back = leak_buf(16 * 512); // aligned: by DMA, completed by IRQ 14
    q.channel().unwrap().read(M, 300, back).unwrap();
    assert_eq!(&back[..], &pattern(300, 16 * 512, 7)[..]);
    assert_eq!(irq.completed(), 8);
    let cmds: Vec<u8> = rig.disk(|d| d.commands().iter().map(|c| c.command).collect());
    assert!(
        cmds.ends_with(&[0xCA, 0xCA, 0xCA, 0xCA, 0xEA, 0xC8, 0xC8, 0xC8]),
        "{cmds:x?}"
    );
}

#[test]
fn queue_expire_fails_a_stuck_request_and_moves_on() {
    let rig = one_disk(1000);
    let mut q: Queue<_, _, _, _, 4> = Queue::new(rig.dma());
    rig.disk(|d| d.faults.stuck_bsy = 1);
    for i in 0..2 {
        q.submit(Request {
            op: Op::Read,
            drive: M,
            lba: i,
            buf: Some(leak_buf(512)),
            user_data: i,
        })
        .unwrap();
    }
    rig.advance(10_000);
    assert_eq!(q.service(), 0, "stuck");
    assert!(q.expire(10_000));
    let first = q.pop().unwrap();
    assert!(matches!(first.result, Err(Error::Timeout { .. })));
    for _ in 0..100 {
        if q.service() > 0 {
            break;
        }
        rig.advance(50);
    }
    let second = q.pop().unwrap();
    assert_eq!((second.user_data, second.result), (1, Ok(())));
    assert!(rig.mem.mappings().is_empty());
}

#[test]
fn queue_expire_completes_a_request_whose_interrupt_was_lost() {
    let rig = one_disk(1000);
    let data = pattern(8, 512, 8);
    rig.disk(|d| {
        d.write_medium(8, &data);
        d.faults.lost_interrupts = 1;
    });
    let (ch, irq) = rig.dma_irq();
    let mut q: Queue<_, _, _, _, 2> = Queue::new(ch);
    q.submit(Request {
        op: Op::Read,
        drive: M,
        lba: 8,
        buf: Some(leak_buf(512)),
        user_data: 1,
    })
    .unwrap();
    rig.advance(1000);
    assert_eq!(q.service(), 0, "no interrupt came");
    assert!(q.expire(1000));
    let c = q.pop().unwrap();
    assert_eq!(c.result, Ok(()));
    assert_eq!(c.buf.as_deref().unwrap(), &data[..]);
    assert_eq!(q.channel().unwrap().stats().lost_interrupts, 1);
    assert_eq!(irq.completed(), 0);
}

#[test]
fn dropping_the_queue_mid_transfer_stops_the_engine() {
    let rig = one_disk(1000);
    let (ch, _irq) = rig.dma_irq();
    let mut q: Queue<_, _, _, _, 2> = Queue::new(ch);
    q.submit(Request {
        op: Op::Read,
        drive: M,
        lba: 0,
        buf: Some(leak_buf(8 * 512)),
        user_data: 1,
    })
    .unwrap();
    assert!(q.is_busy());
    drop(q);
    assert_eq!(rig.ide.with(|c| c.bus_master_command()) & 1, 0);
    assert!(rig.mem.mappings().is_empty());
    rig.advance(1000);
    assert!(rig.mem.violations().is_empty());
}
