//! irqkit-defer with irqkit-intq: an "interrupt" thread (inside `critical_section::with`, as an
//! interrupt handler runs with the line masked) pushes scancodes into a static queue whose
//! `Pend` hook schedules a bottom half; the bottom half drains the queue. Then the same with an
//! async consumer task awaiting the queue, woken through its waker (one schedule per wake).

use std::sync::Mutex;
use std::thread;

use irqkit_defer::{Budget, Executor, TaskSlot, Work};
use irqkit_intq::{Consumer, Queue};

fn bytes() -> u32 {
    if cfg!(miri) {
        40
    } else {
        5_000
    }
}

#[test]
fn keyboard_bottom_half_drains_the_interrupt_queue() {
    static EXEC: Executor = Executor::new();
    static KBD_BH: Work = Work::new(&EXEC, kbd_bottom_half);
    // The work item itself is the queue's pend hook (feature `intq`).
    static KBD_QUEUE: Queue<u8, 16> = Queue::new().with_pend(&KBD_BH);
    static RX: Mutex<Option<Consumer<'static, u8, 16>>> = Mutex::new(None);
    static RECEIVED: Mutex<Vec<u8>> = Mutex::new(Vec::new());
    fn kbd_bottom_half() {
        let mut rx = RX.lock().unwrap();
        let rx = rx.as_mut().unwrap();
        let mut received = RECEIVED.lock().unwrap();
        // Drain until empty: everything pushed before the schedule is visible here.
        while let Ok(byte) = rx.try_pop() {
            received.push(byte);
        }
    }

    let (mut tx, rx) = KBD_QUEUE.split_static().unwrap();
    *RX.lock().unwrap() = Some(rx);
    let total = bytes();
    let irq = thread::spawn(move || {
        let mut sent = 0u32;
        while sent < total {
            // The IRQ 1 top half: push the byte; the queue's hook schedules the bottom half.
            let pushed = critical_section::with(|_| tx.try_push((sent % 251) as u8).is_ok());
            if pushed {
                sent += 1;
            } else {
                thread::yield_now(); // the queue is full: the "device" waits
            }
        }
    });
    while !irq.is_finished() {
        if EXEC.run(Budget::items(4)).unwrap().ran == 0 {
            thread::yield_now();
        }
    }
    irq.join().unwrap();
    EXEC.run_until_idle().unwrap();

    let received = RECEIVED.lock().unwrap();
    let expected: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
    assert_eq!(*received, expected, "every byte, in order, nothing lost");
    assert!(KBD_BH.runs() >= 1 && KBD_BH.runs() <= total);
    assert!(KBD_BH.is_idle());
}

#[test]
fn async_consumer_awaits_the_interrupt_queue() {
    static EXEC: Executor = Executor::new();
    static QUEUE: Queue<u8, 8> = Queue::new();
    static CONSUMER: TaskSlot<256> = TaskSlot::new(&EXEC);
    static RECEIVED: Mutex<Vec<u8>> = Mutex::new(Vec::new());

    let (mut tx, mut rx) = QUEUE.split_static().unwrap();
    let total = bytes();
    CONSUMER
        .spawn(async move {
            for _ in 0..total {
                let byte = rx.pop().await;
                RECEIVED.lock().unwrap().push(byte);
            }
        })
        .unwrap();
    EXEC.run_until_idle().unwrap(); // parks on the empty queue

    let irq = thread::spawn(move || {
        let mut sent = 0u32;
        while sent < total {
            let pushed = critical_section::with(|_| tx.try_push((sent % 7) as u8).is_ok());
            if pushed {
                sent += 1;
            } else {
                thread::yield_now();
            }
        }
    });
    while CONSUMER.is_occupied() {
        if EXEC.run(Budget::items(4)).unwrap().ran == 0 {
            thread::yield_now();
        }
    }
    irq.join().unwrap();

    let received = RECEIVED.lock().unwrap();
    let expected: Vec<u8> = (0..total).map(|i| (i % 7) as u8).collect();
    assert_eq!(*received, expected);
    // Each poll was caused by a wake; wakes during a pending poll coalesced.
    assert!(CONSUMER.polls() <= total + 1);
}
