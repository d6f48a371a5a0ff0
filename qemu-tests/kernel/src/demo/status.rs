//! The status line (row 0): layout, scancode set, key presses, uptime and how to leave,
//! redrawn by a delayed bottom half four times a second.

use core::sync::atomic::{AtomicU8, Ordering};

use irqkit_defer::Work;
use irqkit_ps2::layout::Layout;

use super::{console, input};
use crate::deferred::EXECUTOR;
use crate::timer;

/// Redraw period, in ticks.
const PERIOD_TICKS: u32 = timer::TICK_HZ / 4;

static REFRESH: Work = Work::new(&EXECUTOR, refresh);
/// The scancode set the CPU reads (1 translated, 2 raw).
static HOST_SET: AtomicU8 = AtomicU8::new(1);

/// Draws the status line now and every [`PERIOD_TICKS`] from now on.
pub fn start(host_set: u8) {
    HOST_SET.store(host_set, Ordering::Relaxed);
    REFRESH.schedule();
}

/// Redraws the status line at the next run of the bottom halves.
pub fn refresh_soon() {
    REFRESH.schedule();
}

fn refresh() {
    let seconds = timer::ticks() / u64::from(timer::TICK_HZ);
    console::set_status(
        format_args!(
            " irqkit demo | {}, set {} | keys {} | up {}:{:02}:{:02}",
            input::layout().name(),
            HOST_SET.load(Ordering::Relaxed),
            input::presses(),
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60,
        ),
        "leave: exit, Alt+2 quit ",
    );
    // Cannot fail: the period is far below MAX_DELAY.
    let _ = REFRESH.reschedule_after(PERIOD_TICKS);
}
