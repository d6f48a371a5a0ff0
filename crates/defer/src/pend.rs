//! The bridge to irqkit-intq (feature `intq`, on by default): an interrupt queue's pend hook
//! schedules a work item directly, so a push from the top half costs one coalescing schedule.

use crate::Work;

/// Scheduling is the pend: the queue calls it from the producer (interrupt) side after
/// publishing the item, so the bottom half's run sees the item (release/acquire through the
/// queue's index, and again through the schedule).
///
/// # Examples
///
/// ```
/// use irqkit_defer::{Budget, Executor, Work};
/// use irqkit_intq::Queue;
///
/// static EXEC: Executor = Executor::new();
/// static KBD_BH: Work = Work::new(&EXEC, kbd_bottom_half);
/// static SCANCODES: Queue<u8, 64> = Queue::new().with_pend(&KBD_BH);
///
/// fn kbd_bottom_half() { /* drain the consumer, decode */ }
///
/// let (mut producer, _consumer) = SCANCODES.split_static().unwrap();
/// producer.try_push(0x1E).unwrap(); // in IRQ 1: pushes and schedules KBD_BH
/// assert!(KBD_BH.is_pending());
/// assert_eq!(EXEC.run(Budget::items(8)).unwrap().ran, 1);
/// ```
impl irqkit_intq::Pend for Work {
    #[inline]
    fn pend(&'static self) {
        self.schedule();
    }
}
