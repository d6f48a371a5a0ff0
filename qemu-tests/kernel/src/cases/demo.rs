//! `demo` (`cargo xtask demo`): the interactive shell of [`crate::demo`] on the VGA console,
//! typed on through IRQ 1 -> irqkit-intq -> irqkit-defer -> irqkit-ps2 -> line editor.
//!
//! Kernel command-line words it reads:
//! - `layout=NAME`: the starting layout (irqkit-ps2's names: `us`, `de`, `fr`...);
//! - `set=2`: the keyboard in raw set 2 with the i8042's translation off (default: translated
//!   set 1);
//! - `echo=serial`: script mode, each typed character acknowledged on serial (`echo 'c'`);
//! - `idle=none`: wait for keys however long it takes (`irqkit-qemu demo` passes it). Without
//!   it, as under a plain `irqkit-qemu run demo`, the run ends after [`IDLE_LIMIT_TICKS`]
//!   without a key.
//!
//! Serial carries the console's output, the submitted lines (`irqkit> help`), and `READY`
//! each time the prompt waits for a line. `exit` ends the run with `TEST PASSED: demo`.

use irqkit_ps2::controller::InitOptions;
use irqkit_ps2::layout::{AnyLayout, Layout};
use irqkit_ps2::ScancodeSet;

use super::{controller, init_i8042};
use crate::demo::{console, disk, input, shell, status};
use crate::keyboard::{self, Sink};
use crate::{boot_info, cprintln, deferred, println, timer};

/// Without `idle=none`, how long the demo waits for a first key before it ends (2 s).
const IDLE_LIMIT_TICKS: u64 = 2 * timer::TICK_HZ as u64;

/// `demo`.
pub fn demo() {
    let layout = match boot_info::kernel_argument("layout") {
        None => AnyLayout::Us,
        Some(name) => AnyLayout::from_name(name).unwrap_or_else(|| {
            println!("demo: unknown layout {name:?}, using us");
            AnyLayout::Us
        }),
    };
    let options = match boot_info::kernel_argument("set") {
        Some("2") => InitOptions::raw(ScancodeSet::Set2),
        _ => InitOptions::translated(),
    };
    input::set_layout(layout);
    input::echo_to_serial(boot_info::kernel_argument("echo") == Some("serial"));

    console::clear();
    cprintln!("irqkit demo kernel: a shell on the emulated PS/2 keyboard and VGA console.");
    cprintln!("Each key: IRQ 1 top half -> irqkit-intq queue -> irqkit-defer bottom half ->");
    cprintln!("irqkit-ps2 decoder and layout -> line editor; commands run as an async task.");
    cprintln!("Type help for the commands. To leave: type exit, or press Alt+2 (QEMU's");
    cprintln!("monitor; a terminal sends Esc 2) and type quit. Alt+1 comes back here.");

    let report = init_i8042(&mut controller(), options);
    let set = report.host_set.number();
    cprintln!(
        "Keyboard: {} set {set}, layout {}.",
        if report.translation {
            "translated"
        } else {
            "raw"
        },
        layout.name()
    );
    // Probing blocks (for up to a command timeout per absent drive): before any bottom half
    // is there to be kept waiting.
    let disk = disk::open();
    keyboard::start(
        report.host_set,
        Sink {
            on_event: input::on_event,
            on_completion: input::on_completion,
        },
    );
    status::start(set);
    shell::start(disk);
    let idle_limit = boot_info::kernel_argument("idle") != Some("none");
    let ready_at = timer::ticks();
    let idle_too_long =
        || idle_limit && input::presses() == 0 && timer::ticks() >= ready_at + IDLE_LIMIT_TICKS;
    deferred::run_until(|| shell::exit_requested() || idle_too_long());
    if !shell::exit_requested() {
        cprintln!("No key within {IDLE_LIMIT_TICKS} ms: powering off.");
    }
    keyboard::stop();
    println!("demo stats {}", keyboard::stats());
}
