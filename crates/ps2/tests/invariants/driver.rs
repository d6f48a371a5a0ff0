//! Bounds of the blocking i8042 driver, shared by the tests (`tests/bounded_waits.rs`) and
//! the fuzz target `fuzz/fuzz_targets/blocking_driver.rs` so that whatever the fuzzer checks,
//! `cargo test` checks too. Each function panics when its property fails.

use std::time::Duration;

use irqkit_hal_mock::{Bus, Clock, Device, DeviceAddr, DeviceCtx, DeviceHandle, Sim, Width};
use irqkit_ps2::controller::{
    Command, Config, ControllerCommand, Error, InitOptions, LedState, Timing, Typematic, I8042,
};
use irqkit_ps2::ScancodeSet;

/// Port accesses in a row without virtual time moving before hal-mock calls it a busy loop.
pub const SPIN_LIMIT: u64 = 256;

/// The driver on hal-mock's bus and clock.
pub type Kbd = I8042<Bus, Clock>;

/// One public operation of the blocking driver, giving `Ok` or a typed error.
pub type Operation = fn(&mut Kbd) -> Result<(), Error>;

/// Every public operation of the blocking driver, by name.
pub fn operations() -> Vec<(&'static str, Operation)> {
    vec![
        ("init", |k| k.init(InitOptions::translated()).map(drop)),
        ("init raw set 3", |k| {
            k.init(InitOptions::raw(ScancodeSet::Set3)).map(drop)
        }),
        ("shutdown", |k| k.shutdown().map(drop)),
        ("status", |k| {
            k.status();
            Ok(())
        }),
        ("try_read", |k| {
            k.try_read();
            Ok(())
        }),
        ("drain", |k| k.drain(|_| {}).map(drop)),
        ("read_config", |k| k.read_config().map(drop)),
        ("write_config", |k| {
            k.write_config(Config::from_bits_retain(0x61))
        }),
        ("set_keyboard_irq", |k| k.set_keyboard_irq(true)),
        ("controller_command", |k| {
            k.controller_command(ControllerCommand::EnableKeyboard)
        }),
        ("controller_query", |k| {
            k.controller_query(ControllerCommand::SelfTest).map(drop)
        }),
        ("without_irq", |k| k.without_irq(|k| k.echo())?),
        ("command", |k| k.command(Command::Identify).map(drop)),
        ("set_leds", |k| k.set_leds(LedState::CAPS_LOCK)),
        ("scancode_set", |k| k.scancode_set().map(drop)),
        ("set_scancode_set", |k| {
            k.set_scancode_set(ScancodeSet::Set2)
        }),
        ("identify", |k| k.identify().map(drop)),
        ("set_typematic", |k| k.set_typematic(Typematic::default())),
        ("enable_scanning", |k| k.enable_scanning()),
        ("disable_scanning", |k| k.disable_scanning()),
        ("set_defaults", |k| k.set_defaults()),
        ("echo", |k| k.echo()),
        ("reset", |k| k.reset()),
    ]
}

/// The most bytes one keyboard command may read with `timing`: the stale bytes set aside
/// before it, the bytes that are not its answers, and its answers (an ACK or RESEND per send,
/// two identity bytes).
pub fn command_read_bound(timing: &Timing) -> u64 {
    let answers = 2 * u64::from(timing.keyboard.max_tries.max(1)) + 2;
    u64::from(timing.flush_limit) + u64::from(timing.byte_limit) + answers + 1
}

/// The longest one keyboard command may take with `timing` (the IRQ mask and unmask around
/// it included), in microseconds.
pub fn command_time_bound(timing: &Timing) -> u64 {
    let k = timing.keyboard;
    let tries = u64::from(k.max_tries.max(1));
    let waits = 2 * tries * k.ack_timeout + 2 * k.reply_timeout + k.bat_timeout;
    let buffers = 8 * u64::from(timing.buffer_timeout_us);
    // Every poll may overshoot its deadline by one interval.
    let polls = (command_read_bound(timing) + 8) * u64::from(timing.poll_interval_us);
    waits + buffers + polls
}

/// Runs `operation` and checks that it returned within the bounds of `timing`;
/// `data_reads` counts the reads of port 0x60 so far.
pub fn run_bounded(
    sim: &Sim,
    kbd: &mut Kbd,
    timing: &Timing,
    (name, operation): (&str, Operation),
    data_reads: &impl Fn() -> u64,
) -> Result<(), Error> {
    // The caller's own work between two calls takes a little time, so the spin limit counts
    // the accesses of this call alone.
    sim.clock().advance(Duration::from_micros(1));
    let (t0, r0) = (sim.now(), data_reads());
    let result = operation(kbd);
    let (took, read) = (sim.now() - t0, data_reads() - r0);
    // init runs a dozen controller and keyboard commands.
    let scale = if name.starts_with("init") { 16 } else { 1 };
    assert!(
        took <= Duration::from_micros(scale * command_time_bound(timing)),
        "{name}: took {took:?} ({result:?})"
    );
    assert!(
        read <= scale * command_read_bound(timing),
        "{name}: read {read} bytes ({result:?})"
    );
    if let Err(e) = result {
        // Typed, and it says what happened.
        assert!(!e.to_string().is_empty());
    }
    result
}

/// A controller whose every read (status or data, one stream) is the next byte of a
/// recording, played in a loop: whatever a fuzzer or a test scripts, forever. Reads with an
/// empty recording float (0xFF). Writes are ignored.
#[derive(Debug)]
pub struct Replay {
    bytes: Vec<u8>,
    next: usize,
    /// Reads of the data port so far.
    pub data_reads: u64,
}

impl Replay {
    /// Plays `bytes` in a loop.
    pub fn new(bytes: &[u8]) -> Self {
        Replay {
            bytes: bytes.to_vec(),
            next: 0,
            data_reads: 0,
        }
    }
}

impl Device for Replay {
    fn read(&mut self, at: DeviceAddr, _: Width, _: &mut DeviceCtx<'_>) -> u32 {
        if at.range == 0 {
            self.data_reads += 1;
        }
        let Some(&byte) = self.bytes.get(self.next) else {
            return 0xFF;
        };
        self.next = (self.next + 1) % self.bytes.len();
        u32::from(byte)
    }

    fn write(&mut self, _: DeviceAddr, _: Width, _: u32, _: &mut DeviceCtx<'_>) {}
}

/// A driver on a fresh simulation with `device` at ports 0x60 and 0x64 and the spin limit
/// on.
pub fn rig<D: Device>(device: D, timing: Timing) -> (Sim, DeviceHandle<D>, Kbd) {
    let sim = Sim::new();
    let bus = sim.bus();
    let handle = bus
        .attach("i8042", &[0x60..=0x60, 0x64..=0x64], device)
        .unwrap();
    bus.set_spin_limit(Some(SPIN_LIMIT));
    let kbd = I8042::with_timing(bus, sim.clock(), timing);
    (sim, handle, kbd)
}

/// The blocking driver against a controller that plays `recording` forever: the operations
/// chosen by `choices` (each byte picks one) each return, Ok or a typed error, within the
/// time and byte bounds, and never busy-loop (the spin limit is on).
pub fn check_blocking_driver(choices: &[u8], recording: &[u8]) {
    // Coarse polling keeps the many timeouts cheap to simulate.
    let timing = Timing {
        poll_interval_us: 1_000,
        ..Timing::default()
    };
    let (sim, handle, mut kbd) = rig(Replay::new(recording), timing);
    let operations = operations();
    let data_reads = || handle.with(|r| r.data_reads);
    for &choice in choices {
        let operation = operations[usize::from(choice) % operations.len()];
        let _ = run_bounded(&sim, &mut kbd, &timing, operation, &data_reads);
    }
}
