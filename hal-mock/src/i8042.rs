//! An i8042 keyboard controller with a PS/2 keyboard behind it, modelled on QEMU's.
//!
//! Attach it at ports 0x60 and 0x64 (in that order) with [`I8042::attach`], drive it from the
//! driver under test through the bus, and from the test through the returned handle: inject
//! keys ([`DeviceHandle::key_down_set2`]), inject faults ([`Faults`]), and observe the state
//! the driver set (LEDs, typematic byte, scancode set, configuration byte).
//!
//! # What is modelled
//!
//! - Status register: OBF, IBF (only with [`Faults::stuck_input_full`]), system flag,
//!   "last write was a command", keyboard unlocked, and the timeout / parity error bits of
//!   the byte in the output buffer (only with [`Faults::report_missing_keyboard`] /
//!   [`Faults::parity_error_next`]).
//! - Controller commands: 0x20 / 0x60 (configuration byte), 0xA7 / 0xA8 / 0xA9 (AUX port, no
//!   mouse attached), 0xAA self-test (0x55, sets the system flag), 0xAB port test, 0xAD / 0xAE
//!   (keyboard clock), 0xD2 (loopback into the output buffer), 0xD4 (AUX write, swallowed).
//! - The output buffer: controller answers first, then keyboard bytes, which wait while the
//!   keyboard clock is disabled. Reading 0x60 with the buffer empty repeats the last byte.
//! - IRQ 1 is a level: high while the output buffer holds a non-AUX byte and configuration
//!   bit 0 is set (like QEMU, controller answers raise it too).
//! - Translation (configuration bit 6): the controller turns the keyboard's set 2 bytes into
//!   set 1 with the standard 8042 table (`F0 xx` becomes `T[xx] | 0x80`); command answers go
//!   through the same table, so `AB 83` reads `AB 41` and "set 2" reads 0x41.
//! - Keyboard commands like QEMU's keyboard: `ED`, `F3` (ACK, data, ACK), `F0` (get / set,
//!   invalid data answers RESEND), `F2` (`FA AB 83`), `EE`, `F4`, `F5` / `F6` (reset to power-on
//!   state with scanning off / on, as QEMU does: set 2, LEDs off, default typematic), `FE`
//!   (resend the last byte), `FF` (`FA`, then the BAT result after [`I8042::bat_delay`]);
//!   unknown commands answer RESEND. Writing to the keyboard re-enables its clock (QEMU).
//! - Keys: set 2 make codes in, set 2 or set 1 (the keyboard's own set) bytes out; dropped
//!   while scanning is off; a 16-byte keyboard queue (further bytes are dropped and counted).
//!
//! # Examples
//!
//! ```
//! use irqkit_hal::PortIo;
//! use irqkit_hal_mock::i8042::I8042;
//! use irqkit_hal_mock::{Line, Sim};
//!
//! let sim = Sim::new();
//! let mut bus = sim.bus();
//! let kbd = I8042::attach(&bus, I8042::new(Line(1))).unwrap();
//! kbd.key_down_set2(&[0x1C]); // 'A'
//! assert_eq!(bus.read8(0x64) & 1, 1); // output buffer full
//! assert_eq!(bus.read8(0x60), 0x1E); // translated to set 1 (SeaBIOS leaves XLATE on)
//! assert_eq!(sim.lines().rising_edges(Line(1)), 1);
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use crate::bus::{AttachError, Bus, DeviceHandle};
use crate::device::{Device, DeviceAddr, DeviceCtx, Width};
use crate::irq::Line;

/// The standard 8042 set 2 to set 1 translation table.
///
/// Entries for the codes of real keys were checked against QEMU's keycodemapdb
/// (`keymaps.csv`, BSD-3-Clause, Copyright (c) the keycodemapdb authors): for every key with
/// both a set 1 and a set 2 code, `TRANSLATE[set2 & 0xFF] == set1 & 0xFF`. The remaining
/// entries (codes no key sends, e.g. 0x02 which makes "set 2" read back as 0x41) complete the
/// table's fixed permutation of 0x00..=0x7F; 0x00 becomes 0xFF. Above 0x7F bytes pass through
/// unchanged except 0x83 (F7) and 0x84 (SysRq).
pub const TRANSLATE: [u8; 256] = {
    const LOW: [u8; 128] = [
        0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29,
        0x59, 0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11,
        0x03, 0x5b, 0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14,
        0x13, 0x06, 0x5d, 0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24,
        0x16, 0x08, 0x09, 0x5f, 0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35,
        0x26, 0x27, 0x19, 0x0c, 0x61, 0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36,
        0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76, 0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c,
        0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f, 0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45,
        0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
    ];
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if i < 128 { LOW[i] } else { i as u8 };
        i += 1;
    }
    table[0x83] = 0x41;
    table[0x84] = 0x54;
    table
};

const STATUS_OBF: u8 = 0x01;
const STATUS_IBF: u8 = 0x02;
const STATUS_SYSTEM: u8 = 0x04;
const STATUS_COMMAND: u8 = 0x08;
const STATUS_UNLOCKED: u8 = 0x10;
const STATUS_TIMEOUT: u8 = 0x40;
const STATUS_PARITY: u8 = 0x80;

const CONFIG_KBD_IRQ: u8 = 0x01;
const CONFIG_SYSTEM: u8 = 0x04;
const CONFIG_KBD_DISABLED: u8 = 0x10;
const CONFIG_AUX_DISABLED: u8 = 0x20;
const CONFIG_XLATE: u8 = 0x40;

const ACK: u8 = 0xFA;
const RESEND: u8 = 0xFE;
const BAT_OK: u8 = 0xAA;
const DEFAULT_TYPEMATIC: u8 = 0x2B;
const KEYBOARD_QUEUE: usize = 16;

/// Event token: the BAT result of a reset is due.
const EVENT_BAT: u64 = 1;

/// Faults the test can inject; all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// No controller: every read is 0xFF (a floating bus), writes are ignored.
    pub absent: bool,
    /// No keyboard: bytes sent to the keyboard vanish, nothing answers.
    pub no_keyboard: bool,
    /// The status register shows IBF forever and writes are ignored.
    pub stuck_input_full: bool,
    /// The status register shows OBF forever (the output buffer never drains; port 0x60
    /// keeps returning its last byte).
    pub stuck_output_full: bool,
    /// Answer the next this-many bytes sent to the keyboard with RESEND instead of acting.
    pub resend_next: u32,
    /// The self-test answer, if not 0x55.
    pub self_test_answer: Option<u8>,
    /// The keyboard port test answer, if not 0x00.
    pub port_test_answer: Option<u8>,
    /// The BAT result after a reset, if not 0xAA (0xFC / 0xFD: failure).
    pub bat_answer: Option<u8>,
    /// The keyboard ACKs commands but never sends the answer that follows (scancode set,
    /// identity bytes, BAT result).
    pub silent_after_ack: bool,
    /// With [`no_keyboard`](Self::no_keyboard): the controller reports each byte the keyboard
    /// never clocked in, as real i8042s do: 0xFE in the output buffer with the status
    /// timeout bit (0x40) set.
    pub report_missing_keyboard: bool,
    /// The next this-many keyboard bytes arrive with the status parity-error bit (0x80) set.
    pub parity_error_next: u32,
}

/// The controller and keyboard model. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct I8042 {
    irq: Line,
    /// Injected faults; change them through the handle at any time.
    pub faults: Faults,
    /// How long the keyboard's self-test takes after a reset (QEMU: no time at all).
    pub bat_delay: Duration,
    config: u8,
    status_flags: u8,
    /// Controller command waiting for its data byte (0x60, 0xD2, 0xD4).
    pending_controller: Option<u8>,
    /// The output buffer: the byte and the status error bits that come with it.
    output: Option<(u8, u8)>,
    last_output: u8,
    controller_queue: VecDeque<(u8, u8)>,
    xlate_break: bool,
    keyboard: Keyboard,
}

#[derive(Debug, Clone)]
struct Keyboard {
    set: u8,
    scanning: bool,
    leds: u8,
    typematic: u8,
    /// Keyboard command waiting for its data byte (ED, F0, F3).
    pending: Option<u8>,
    queue: VecDeque<u8>,
    last_sent: u8,
    dropped: u64,
    received: Vec<u8>,
    resets: u32,
}

impl Keyboard {
    fn power_on() -> Self {
        Keyboard {
            set: 2,
            scanning: true,
            leds: 0,
            typematic: DEFAULT_TYPEMATIC,
            pending: None,
            queue: VecDeque::new(),
            last_sent: ACK,
            dropped: 0,
            received: Vec::new(),
            resets: 0,
        }
    }

    /// Back to power-on parameters (QEMU's `ps2_reset_keyboard`).
    fn defaults(&mut self) {
        self.set = 2;
        self.leds = 0;
        self.typematic = DEFAULT_TYPEMATIC;
        self.pending = None;
        self.queue.clear();
    }

    fn send(&mut self, byte: u8) {
        if self.queue.len() < KEYBOARD_QUEUE {
            self.queue.push_back(byte);
        } else {
            self.dropped += 1;
        }
    }
}

impl I8042 {
    /// A controller as SeaBIOS leaves it (configuration 0x61: IRQ 1, translation, AUX off;
    /// system flag set), with a keyboard in set 2 that is scanning, raising `irq`.
    pub fn new(irq: Line) -> Self {
        I8042 {
            irq,
            faults: Faults::default(),
            bat_delay: Duration::ZERO,
            config: CONFIG_KBD_IRQ | CONFIG_AUX_DISABLED | CONFIG_XLATE,
            status_flags: STATUS_SYSTEM | STATUS_UNLOCKED,
            pending_controller: None,
            output: None,
            last_output: 0,
            controller_queue: VecDeque::new(),
            xlate_break: false,
            keyboard: Keyboard::power_on(),
        }
    }

    /// The same model with another initial configuration byte.
    pub fn with_config(mut self, config: u8) -> Self {
        self.config = config;
        self
    }

    /// The same model with `faults`.
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Attaches `model` to `bus` at ports 0x60 and 0x64.
    ///
    /// # Errors
    ///
    /// [`AttachError`] if the ports are taken.
    pub fn attach(bus: &Bus, model: I8042) -> Result<DeviceHandle<I8042>, AttachError> {
        bus.attach("i8042", &[0x60..=0x60, 0x64..=0x64], model)
    }

    /// The configuration byte.
    pub fn config(&self) -> u8 {
        self.config
    }

    /// Whether translation (configuration bit 6) is on.
    pub fn translation(&self) -> bool {
        self.config & CONFIG_XLATE != 0
    }

    /// The keyboard's LED byte (bit 0 Scroll, 1 Num, 2 Caps).
    pub fn leds(&self) -> u8 {
        self.keyboard.leds
    }

    /// The keyboard's typematic byte.
    pub fn typematic(&self) -> u8 {
        self.keyboard.typematic
    }

    /// The keyboard's scancode set (1, 2 or 3).
    pub fn scancode_set(&self) -> u8 {
        self.keyboard.set
    }

    /// Whether the keyboard is scanning (sending key events).
    pub fn scanning(&self) -> bool {
        self.keyboard.scanning
    }

    /// Every byte the keyboard received, in order.
    pub fn keyboard_received(&self) -> &[u8] {
        &self.keyboard.received
    }

    /// How many resets (`FF`) the keyboard received.
    pub fn keyboard_resets(&self) -> u32 {
        self.keyboard.resets
    }

    /// Keyboard bytes dropped because its queue was full.
    pub fn dropped(&self) -> u64 {
        self.keyboard.dropped
    }

    /// Bytes waiting in the keyboard and controller (not counting the output buffer).
    pub fn queued(&self) -> usize {
        self.keyboard.queue.len() + self.controller_queue.len()
    }

    /// Presses a key given by its set 2 make code (`[0x1C]`, `[0xE0, 0x75]`). The keyboard
    /// sends it in its current set: set 2 as is, set 1 converted; in set 3 the bytes are sent
    /// unchanged. Ignored while scanning is off.
    pub fn key_down_set2(&mut self, make: &[u8], ctx: &mut DeviceCtx<'_>) {
        self.key_event(make, false, ctx);
    }

    /// Releases a key given by its set 2 make code (sends `F0` / `E0 F0` forms, or set 1
    /// breaks).
    pub fn key_up_set2(&mut self, make: &[u8], ctx: &mut DeviceCtx<'_>) {
        self.key_event(make, true, ctx);
    }

    /// Makes the keyboard send `bytes` exactly (garbage, overrun codes, set 3 sequences).
    pub fn keyboard_sends(&mut self, bytes: &[u8], ctx: &mut DeviceCtx<'_>) {
        for &b in bytes {
            self.keyboard.send(b);
        }
        self.pump(ctx);
    }

    fn key_event(&mut self, make: &[u8], release: bool, ctx: &mut DeviceCtx<'_>) {
        if !self.keyboard.scanning || self.faults.no_keyboard {
            return;
        }
        let set1 = self.keyboard.set == 1;
        let (prefix, code) = match make {
            [0xE0, code] => (Some(0xE0), *code),
            [code] => (None, *code),
            // Multi-byte sequences (Pause, Print Screen) go out as given.
            other => {
                for &b in other {
                    self.keyboard.send(b);
                }
                self.pump(ctx);
                return;
            }
        };
        if let Some(p) = prefix {
            self.keyboard.send(p);
        }
        if set1 {
            let c = TRANSLATE[usize::from(code)];
            self.keyboard.send(if release { c | 0x80 } else { c });
        } else {
            if release {
                self.keyboard.send(0xF0);
            }
            self.keyboard.send(code);
        }
        self.pump(ctx);
    }

    fn status(&self) -> u8 {
        if self.faults.absent {
            return 0xFF;
        }
        let mut s = self.status_flags;
        if let Some((_, errors)) = self.output {
            s |= STATUS_OBF | errors;
        }
        if self.faults.stuck_output_full {
            s |= STATUS_OBF;
        }
        if self.faults.stuck_input_full {
            s |= STATUS_IBF;
        }
        s
    }

    fn read_data(&mut self, ctx: &mut DeviceCtx<'_>) -> u8 {
        if let Some((b, _)) = self.output.take() {
            self.last_output = b;
            // IRQ 1 drops with OBF, so the next byte makes a fresh edge.
            ctx.set_line(self.irq, false);
        }
        self.pump(ctx);
        self.last_output
    }

    /// Moves the next byte into the empty output buffer and updates IRQ 1.
    fn pump(&mut self, ctx: &mut DeviceCtx<'_>) {
        while self.output.is_none() {
            if let Some(entry) = self.controller_queue.pop_front() {
                self.output = Some(entry);
                break;
            }
            if self.config & CONFIG_KBD_DISABLED != 0 {
                break;
            }
            let Some(b) = self.keyboard.queue.pop_front() else {
                break;
            };
            self.keyboard.last_sent = b;
            let errors = if self.faults.parity_error_next > 0 {
                self.faults.parity_error_next -= 1;
                STATUS_PARITY
            } else {
                0
            };
            if self.config & CONFIG_XLATE == 0 {
                self.output = Some((b, errors));
            } else if b == 0xF0 {
                self.xlate_break = true;
            } else {
                let high = if std::mem::take(&mut self.xlate_break) {
                    0x80
                } else {
                    0
                };
                self.output = Some((TRANSLATE[usize::from(b)] | high, errors));
            }
        }
        let level = self.output.is_some() && self.config & CONFIG_KBD_IRQ != 0;
        ctx.set_line(self.irq, level);
    }

    fn controller_answer(&mut self, byte: u8) {
        self.controller_queue.push_back((byte, 0));
    }

    fn controller_command(&mut self, command: u8) {
        match command {
            0x20 => self.controller_answer(self.config),
            0x60 | 0xD2 | 0xD4 => self.pending_controller = Some(command),
            0xA7 => self.config |= CONFIG_AUX_DISABLED,
            0xA8 => self.config &= !CONFIG_AUX_DISABLED,
            0xA9 => self.controller_answer(0x00),
            0xAA => {
                self.status_flags |= STATUS_SYSTEM;
                let answer = self.faults.self_test_answer.unwrap_or(0x55);
                self.controller_answer(answer);
            }
            0xAB => {
                let answer = self.faults.port_test_answer.unwrap_or(0x00);
                self.controller_answer(answer);
            }
            0xAD => self.config |= CONFIG_KBD_DISABLED,
            0xAE => self.config &= !CONFIG_KBD_DISABLED,
            _ => {}
        }
    }

    fn write_data(&mut self, value: u8, ctx: &mut DeviceCtx<'_>) {
        match self.pending_controller.take() {
            Some(0x60) => {
                self.config = value;
                if value & CONFIG_SYSTEM != 0 {
                    self.status_flags |= STATUS_SYSTEM;
                }
            }
            Some(0xD2) => self.controller_answer(value),
            Some(_) => {} // AUX write: no mouse attached.
            None => {
                // QEMU: talking to the keyboard re-enables its port.
                self.config &= !CONFIG_KBD_DISABLED;
                self.keyboard_receives(value, ctx);
            }
        }
    }

    fn keyboard_receives(&mut self, byte: u8, ctx: &mut DeviceCtx<'_>) {
        self.keyboard.received.push(byte);
        if self.faults.no_keyboard {
            if self.faults.report_missing_keyboard {
                self.controller_queue.push_back((RESEND, STATUS_TIMEOUT));
            }
            return;
        }
        if self.faults.resend_next > 0 {
            self.faults.resend_next -= 1;
            self.keyboard.send(RESEND);
            return;
        }
        let silent = self.faults.silent_after_ack;
        let kb = &mut self.keyboard;
        if let Some(command) = kb.pending.take() {
            match command {
                0xED => {
                    kb.leds = byte & 0x07;
                    kb.send(ACK);
                }
                0xF3 => {
                    kb.typematic = byte & 0x7F;
                    kb.send(ACK);
                }
                _ => match byte {
                    0 => {
                        kb.send(ACK);
                        if !silent {
                            kb.send(kb.set);
                        }
                    }
                    1..=3 => {
                        kb.set = byte;
                        kb.send(ACK);
                    }
                    _ => kb.send(RESEND),
                },
            }
            return;
        }
        match byte {
            0xED | 0xF0 | 0xF3 => {
                kb.pending = Some(byte);
                kb.send(ACK);
            }
            0xEE => kb.send(0xEE),
            0xF2 => {
                kb.send(ACK);
                if !silent {
                    kb.send(0xAB);
                    kb.send(0x83);
                }
            }
            0xF4 => {
                kb.scanning = true;
                kb.send(ACK);
            }
            0xF5 | 0xF6 => {
                kb.defaults();
                kb.scanning = byte == 0xF6;
                kb.send(ACK);
            }
            0xFE => {
                let last = kb.last_sent;
                kb.send(last);
            }
            0xFF => {
                kb.defaults();
                kb.scanning = true;
                kb.resets += 1;
                kb.send(ACK);
                if silent {
                } else if self.bat_delay.is_zero() {
                    // QEMU queues FA AA at once.
                    kb.send(self.faults.bat_answer.unwrap_or(BAT_OK));
                } else {
                    ctx.schedule_in(self.bat_delay, EVENT_BAT);
                }
            }
            _ => kb.send(RESEND),
        }
    }
}

impl Device for I8042 {
    fn read(&mut self, at: DeviceAddr, _width: Width, ctx: &mut DeviceCtx<'_>) -> u32 {
        if self.faults.absent {
            return 0xFF;
        }
        let value = match at.range {
            0 => self.read_data(ctx),
            _ => self.status(),
        };
        value.into()
    }

    fn write(&mut self, at: DeviceAddr, _width: Width, value: u32, ctx: &mut DeviceCtx<'_>) {
        if self.faults.absent || self.faults.stuck_input_full {
            return;
        }
        let value = value as u8;
        match at.range {
            0 => {
                self.status_flags &= !STATUS_COMMAND;
                self.write_data(value, ctx);
            }
            _ => {
                self.status_flags |= STATUS_COMMAND;
                self.pending_controller = None;
                self.controller_command(value);
            }
        }
        self.pump(ctx);
    }

    fn event(&mut self, token: u64, ctx: &mut DeviceCtx<'_>) {
        if token == EVENT_BAT {
            let answer = self.faults.bat_answer.unwrap_or(BAT_OK);
            self.keyboard.send(answer);
            self.pump(ctx);
        }
    }

    fn reset(&mut self, ctx: &mut DeviceCtx<'_>) {
        let (irq, faults, bat_delay) = (self.irq, self.faults.clone(), self.bat_delay);
        *self = I8042::new(irq);
        self.faults = faults;
        self.bat_delay = bat_delay;
        self.pump(ctx);
    }
}

/// Test-side conveniences on the handle of an attached [`I8042`].
impl DeviceHandle<I8042> {
    /// Presses a key given by its set 2 make code (see [`I8042::key_down_set2`]); IRQ 1
    /// handlers run afterwards.
    pub fn key_down_set2(&self, make: &[u8]) {
        self.with_ctx(|m, ctx| m.key_down_set2(make, ctx));
    }

    /// Releases a key given by its set 2 make code (see [`I8042::key_up_set2`]).
    pub fn key_up_set2(&self, make: &[u8]) {
        self.with_ctx(|m, ctx| m.key_up_set2(make, ctx));
    }

    /// Presses and releases a key.
    pub fn tap_set2(&self, make: &[u8]) {
        self.key_down_set2(make);
        self.key_up_set2(make);
    }

    /// Makes the keyboard send `bytes` exactly.
    pub fn keyboard_sends(&self, bytes: &[u8]) {
        self.with_ctx(|m, ctx| m.keyboard_sends(bytes, ctx));
    }

    /// Changes the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        self.with(|m| m.faults = faults);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sim;
    use irqkit_hal::PortIo;

    fn setup(model: I8042) -> (Sim, Bus, DeviceHandle<I8042>) {
        let sim = Sim::new();
        let bus = sim.bus();
        let handle = I8042::attach(&bus, model).unwrap();
        (sim, bus, handle)
    }

    fn drain(bus: &mut Bus) -> Vec<u8> {
        let mut out = Vec::new();
        while bus.read8(0x64) & STATUS_OBF != 0 {
            out.push(bus.read8(0x60));
            assert!(out.len() < 100, "output never drains");
        }
        out
    }

    #[test]
    fn translation_table_is_a_permutation_with_known_points() {
        let mut seen = [false; 256];
        for &v in &TRANSLATE[..128] {
            assert!(!seen[usize::from(v)]);
            seen[usize::from(v)] = true;
        }
        assert_eq!(TRANSLATE[0x1C], 0x1E); // A
        assert_eq!(TRANSLATE[0x76], 0x01); // Esc
        assert_eq!(TRANSLATE[0x75], 0x48); // keypad 8 / Up after E0
        assert_eq!(TRANSLATE[0x77], 0x45); // Num Lock
        assert_eq!(TRANSLATE[0x84], 0x54); // SysRq
        assert_eq!(
            [TRANSLATE[1], TRANSLATE[2], TRANSLATE[3]],
            [0x43, 0x41, 0x3F]
        );
        assert_eq!(TRANSLATE[0xFA], 0xFA);
    }

    #[test]
    fn keys_translated_and_raw() {
        let (sim, mut bus, kbd) = setup(I8042::new(Line(1)));
        kbd.tap_set2(&[0xE0, 0x75]);
        assert_eq!(drain(&mut bus), [0xE0, 0x48, 0xE0, 0xC8]);
        bus.write8(0x64, 0x60);
        bus.write8(0x60, 0x01); // IRQ on, no translation
        kbd.tap_set2(&[0x1C]);
        assert_eq!(drain(&mut bus), [0x1C, 0xF0, 0x1C]);
        assert_eq!(bus.read8(0x60), 0x1C, "0x60 repeats its last byte");
        assert!(sim.lines().rising_edges(Line(1)) >= 2);
    }

    #[test]
    fn commands_answer_like_qemu() {
        let (_sim, mut bus, kbd) = setup(I8042::new(Line(1)));
        bus.write8(0x60, 0xF2);
        assert_eq!(drain(&mut bus), [0xFA, 0xAB, 0x41]);
        bus.write8(0x60, 0xF0);
        bus.write8(0x60, 0x00);
        assert_eq!(drain(&mut bus), [0xFA, 0xFA, 0x41]);
        bus.write8(0x60, 0xED);
        bus.write8(0x60, 0x05);
        bus.write8(0x60, 0xF3);
        bus.write8(0x60, 0x20);
        bus.write8(0x60, 0xEE);
        assert_eq!(drain(&mut bus), [0xFA, 0xFA, 0xFA, 0xFA, 0xEE]);
        assert_eq!(kbd.with(|m| (m.leds(), m.typematic())), (5, 0x20));
        bus.write8(0x60, 0xFF);
        assert_eq!(drain(&mut bus), [0xFA, 0xAA]);
        assert_eq!(kbd.with(|m| (m.leds(), m.typematic())), (0, 0x2B));
        bus.write8(0x64, 0xAA);
        assert_eq!(drain(&mut bus), [0x55]);
        bus.write8(0x64, 0x20);
        assert_eq!(drain(&mut bus), [0x61]);
    }

    #[test]
    fn faults() {
        let (_sim, mut bus, kbd) = setup(I8042::new(Line(1)));
        kbd.set_faults(Faults {
            resend_next: 2,
            ..Faults::default()
        });
        bus.write8(0x60, 0xF4);
        bus.write8(0x60, 0xF4);
        bus.write8(0x60, 0xF4);
        assert_eq!(drain(&mut bus), [0xFE, 0xFE, 0xFA]);
        kbd.set_faults(Faults {
            absent: true,
            ..Faults::default()
        });
        assert_eq!(bus.read8(0x64), 0xFF);
    }

    #[test]
    fn disabled_port_holds_keys_and_bat_waits() {
        let (sim, mut bus, kbd) = setup(I8042::new(Line(1)));
        bus.write8(0x64, 0xAD);
        kbd.key_down_set2(&[0x1C]);
        assert!(drain(&mut bus).is_empty());
        bus.write8(0x64, 0xAE);
        assert_eq!(drain(&mut bus), [0x1E]);
        kbd.with(|m| m.bat_delay = Duration::from_millis(300));
        bus.write8(0x60, 0xFF);
        assert_eq!(drain(&mut bus), [0xFA]);
        sim.clock().advance(Duration::from_millis(300));
        assert_eq!(drain(&mut bus), [0xAA]);
    }
}
