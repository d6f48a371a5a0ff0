//! The blocking i8042 driver: controller initialisation, shutdown, configuration and polled
//! reads; the keyboard commands are in `commands`.

mod commands;

use irqkit_hal::{poll_until, DelayNs, PortIo};

use super::data_port::{read_keyboard_byte, write_when_ready};
use super::error::{Error, WaitingFor};
use super::options::{InitOptions, InitReport, Mode, Timing};
use super::registers::{Config, ControllerCommand, Status};
use super::settings::KeyboardId;
use super::spec::{DATA_PORT, PORT_TEST_PASSED, SELF_TEST_PASSED, STATUS_COMMAND_PORT};

#[cfg(doc)]
use super::{CommandEngine, LedState};

/// Bytes that arrived during a blocking command but were not its answers (keys pressed
/// meanwhile), kept for the caller's decoder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct StrayBytes {
    bytes: [u8; 16],
    len: u8,
    /// Bytes that did not fit and were dropped.
    pub dropped: u32,
}

impl StrayBytes {
    /// The bytes kept, oldest first.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    pub(super) fn push(&mut self, byte: u8) {
        if usize::from(self.len) < self.bytes.len() {
            self.bytes[usize::from(self.len)] = byte;
            self.len += 1;
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }
}

/// The i8042 keyboard controller and its keyboard, driven by polling with bounded waits.
///
/// Every method returns, with a typed error at the latest, whatever the controller answers:
/// each wait is bounded in time ([`Timing`]: each poll that finds nothing, and each byte that
/// is not an answer, costs a [poll interval](Timing::poll_interval_us)) and in bytes read
/// ([`Timing::flush_limit`], [`Timing::byte_limit`]), so a status register stuck with OBF set
/// or a device sending garbage forever ends in [`Error::TooManyBytes`],
/// [`Error::OutputStuck`] or [`Error::NoController`].
///
/// Use it to initialise the controller and for keyboard commands outside interrupt context.
/// Once IRQ 1 is live, let the interrupt handler own port 0x60 and send commands through a
/// [`CommandEngine`] instead: a blocking command masks IRQ 1 (config bit 0) for its duration
/// because QEMU latches IRQ 1 while the status register is polled, but it cannot stop a
/// handler that is already running.
///
/// # Examples
///
/// A kernel passes its `irqkit_hal::x86::X86PortIo` and a `DelayNs`; here, a fake
/// controller (hidden) answers as QEMU's does:
///
/// ```
/// use irqkit_ps2::controller::{I8042, InitOptions, LedState};
/// use irqkit_ps2::ScancodeSet;
/// # use std::{cell::RefCell, collections::VecDeque, rc::Rc};
/// # use irqkit_hal::{DelayNs, PortIo};
/// #
/// # /// An i8042 whose keyboard answers every command like a real one; never busy.
/// # #[derive(Clone, Default)]
/// # struct FakeI8042(Rc<RefCell<State>>);
/// # #[derive(Default)]
/// # struct State { out: VecDeque<u8>, config: u8, leds: u8, data_for: Option<u8> }
/// # impl FakeI8042 {
/// #     fn leds(&self) -> u8 { self.0.borrow().leds }
/// #     fn send(&self, bytes: &[u8]) { self.0.borrow_mut().out.extend(bytes) }
/// # }
/// # impl PortIo for FakeI8042 {
/// #     fn read8(&mut self, port: u16) -> u8 {
/// #         let mut s = self.0.borrow_mut();
/// #         if port == 0x64 { u8::from(!s.out.is_empty()) } else { s.out.pop_front().unwrap_or(0) }
/// #     }
/// #     fn write8(&mut self, port: u16, value: u8) {
/// #         let s = &mut *self.0.borrow_mut();
/// #         match (port, s.data_for.take()) {
/// #             (0x64, _) => match value {
/// #                 0x20 => s.out.push_back(s.config),
/// #                 0x60 => s.data_for = Some(0x60),
/// #                 0xAA => s.out.push_back(0x55),
/// #                 0xAB => s.out.push_back(0x00),
/// #                 _ => {}
/// #             },
/// #             (_, Some(0x60)) => s.config = value,
/// #             (_, Some(command)) => {
/// #                 s.out.push_back(0xFA);
/// #                 match (command, value) {
/// #                     (0xED, leds) => s.leds = leds,
/// #                     (0xF0, 0) => s.out.push_back(0x02),
/// #                     _ => {}
/// #                 }
/// #             }
/// #             (_, None) => {
/// #                 s.out.push_back(0xFA);
/// #                 match value {
/// #                     0xFF => s.out.push_back(0xAA),
/// #                     0xF2 => s.out.extend([0xAB, 0x83]),
/// #                     0xED | 0xF0 | 0xF3 => s.data_for = Some(value),
/// #                     _ => {}
/// #                 }
/// #             }
/// #         }
/// #     }
/// #     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
/// #     fn write16(&mut self, _: u16, _: u16) {}
/// #     fn read32(&mut self, _: u16) -> u32 { !0 }
/// #     fn write32(&mut self, _: u16, _: u32) {}
/// # }
/// # struct NoDelay;
/// # impl DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
///
/// let controller = FakeI8042::default();
/// let mut kbd = I8042::new(controller.clone(), NoDelay);
/// let report = kbd.init(InitOptions::translated())?;
/// assert_eq!(report.host_set, ScancodeSet::Set1);
/// assert!(report.keyboard_id.is_mf2());
/// kbd.set_leds(LedState::NUM_LOCK)?;
/// assert_eq!(controller.leds(), 0x02);
///
/// controller.send(&[0x1E, 0x9E]); // 'A' pressed and released (set 1)
/// assert_eq!((kbd.try_read(), kbd.try_read()), (Some(0x1E), Some(0x9E)));
///
/// kbd.shutdown()?; // the firmware's configuration byte back
/// # Ok::<(), irqkit_ps2::controller::Error>(())
/// ```
#[derive(Debug)]
pub struct I8042<P, D> {
    ports: P,
    delay: D,
    timing: Timing,
    /// The configuration byte last written (known after init or `write_config`).
    config: Option<Config>,
    saved_config: Option<Config>,
    translation: bool,
    stray: StrayBytes,
}

impl<P: PortIo, D: DelayNs> I8042<P, D> {
    /// A driver with the [default timing](Timing::default). Touches no port.
    pub fn new(ports: P, delay: D) -> Self {
        Self::with_timing(ports, delay, Timing::default())
    }

    /// A driver with explicit polling limits. Touches no port.
    pub fn with_timing(ports: P, delay: D, timing: Timing) -> Self {
        I8042 {
            ports,
            delay,
            timing,
            config: None,
            saved_config: None,
            translation: false,
            stray: StrayBytes::default(),
        }
    }

    /// Gives the port and delay back.
    pub fn release(self) -> (P, D) {
        (self.ports, self.delay)
    }

    /// Whether the controller translates (as last configured by this driver).
    pub fn translation(&self) -> bool {
        self.translation
    }

    /// Bytes that arrived during blocking commands and were not answers.
    pub fn stray_bytes(&self) -> &StrayBytes {
        &self.stray
    }

    /// Empties the [stray bytes](Self::stray_bytes).
    pub fn clear_stray_bytes(&mut self) {
        self.stray = StrayBytes::default();
    }

    /// Initialises controller and keyboard in the robust order: flush, save the configuration
    /// byte and mask its IRQ bits, disable both ports, flush, re-read the configuration, mask
    /// translation, controller self-test, keyboard port test, enable the port, reset the
    /// keyboard and check its self-test (unless [`InitOptions::reset_keyboard`] is off),
    /// select and verify the scancode set, identify, LEDs and typematic, enable scanning, and
    /// finally write the configuration (translation, IRQ 1). The AUX (mouse) port stays
    /// disabled until [`shutdown`](Self::shutdown).
    ///
    /// The configuration byte is saved before the ports are disabled so that
    /// [`shutdown`](Self::shutdown) restores what the firmware really left (a key byte
    /// answering in its place is detected by re-reading the byte after disabling).
    ///
    /// When the firmware left IRQ 1 on (SeaBIOS does), the very first read of the
    /// configuration byte raises IRQ 1 once, as a controller answer does on QEMU and real
    /// hardware; it is masked right after. Keep IRQ 1 masked in the interrupt controller
    /// during `init` and have the handler check status OBF before reading 0x60.
    ///
    /// # Errors
    ///
    /// [`Error::NoController`] when the status register never lets a byte through or the
    /// output buffer never drains; [`Error::SelfTestFailed`], [`Error::PortTestFailed`];
    /// [`Error::NoKeyboard`] when the first keyboard command (the reset) is not ACKed;
    /// [`Error::BatFailed`]; [`Error::ScancodeSetMismatch`]; and the command errors of
    /// [`command`](Self::command).
    /// Every wait is bounded by [`Timing`].
    pub fn init(&mut self, options: InitOptions) -> Result<InitReport, Error> {
        let no_controller = |e: Error| match e {
            Error::Timeout { .. } => Error::NoController,
            other => other,
        };
        let mut flushed = self.flush()?;
        let first = self
            .controller_query(ControllerCommand::ReadConfig)
            .map_err(no_controller)?;
        // IRQs off at once: every controller answer would raise IRQ 1 otherwise.
        let quiet =
            Config::from_bits_retain(first).difference(Config::KEYBOARD_IRQ | Config::AUX_IRQ);
        self.write_config(quiet).map_err(no_controller)?;
        self.controller_command(ControllerCommand::DisableKeyboard)?;
        self.controller_command(ControllerCommand::DisableAux)?;
        flushed = flushed.saturating_add(self.flush()?);
        let second = self.read_config()?;
        let clocks = Config::KEYBOARD_CLOCK_DISABLED | Config::AUX_CLOCK_DISABLED;
        let saved_config = if second.difference(clocks) == quiet.difference(clocks) {
            Config::from_bits_retain(first)
        } else {
            // The first answer was a key byte racing the command: trust the second read, and
            // the keyboard was evidently live. IRQ bits are unknown then: keep IRQ 1 on.
            second
                .difference(Config::KEYBOARD_CLOCK_DISABLED)
                .union(Config::KEYBOARD_IRQ)
        };
        self.saved_config = Some(saved_config);

        let testing = second.difference(Config::KEYBOARD_IRQ | Config::AUX_IRQ | Config::TRANSLATE);
        self.write_config(testing)?;
        let self_test = self.controller_query(ControllerCommand::SelfTest)?;
        if self_test != SELF_TEST_PASSED {
            return Err(Error::SelfTestFailed { got: self_test });
        }
        // Some controllers reset their configuration during the self-test.
        self.write_config(testing)?;
        let port = self.controller_query(ControllerCommand::TestKeyboardPort)?;
        if port != PORT_TEST_PASSED {
            return Err(Error::PortTestFailed { code: port });
        }
        let enabled = testing.difference(Config::KEYBOARD_CLOCK_DISABLED);
        self.write_config(enabled)?;
        self.controller_command(ControllerCommand::EnableKeyboard)?;

        // Whatever the keyboard hears first: silence there means nothing is plugged in.
        let no_keyboard = |e: Error| match e {
            Error::Timeout {
                waiting_for: WaitingFor::Ack,
                ..
            } => Error::NoKeyboard,
            other => other,
        };
        let keyboard_set = options.mode.keyboard_set();
        if options.reset_keyboard {
            self.reset().map_err(no_keyboard)?;
            self.set_scancode_set(keyboard_set)?;
        } else {
            self.set_scancode_set(keyboard_set).map_err(no_keyboard)?;
        }
        if options.verify_set {
            let reported = self.scancode_set()?;
            if reported != keyboard_set {
                return Err(Error::ScancodeSetMismatch {
                    requested: keyboard_set.number(),
                    reported: reported.number(),
                });
            }
        }
        let keyboard_id = if options.identify {
            self.identify()?
        } else {
            KeyboardId::NONE
        };
        if let Some(leds) = options.leds {
            self.set_leds(leds)?;
        }
        if let Some(typematic) = options.typematic {
            self.set_typematic(typematic)?;
        }
        self.enable_scanning()?;

        let translation = options.mode == Mode::Translated;
        let mut config = enabled;
        config.set(Config::TRANSLATE, translation);
        config.set(Config::KEYBOARD_IRQ, options.enable_irq);
        self.write_config(config)?;
        self.translation = translation;
        Ok(InitReport {
            saved_config,
            config,
            self_test,
            flushed,
            translation,
            keyboard_set,
            host_set: options.mode.host_set(),
            keyboard_id,
        })
    }

    /// Writes back the configuration byte saved by [`init`](Self::init) (the firmware's
    /// IRQ, translation and port settings) and returns it. Does nothing before `init`.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when the controller does not accept the bytes.
    pub fn shutdown(&mut self) -> Result<Option<Config>, Error> {
        let Some(saved) = self.saved_config else {
            return Ok(None);
        };
        self.write_config(saved)?;
        self.translation = saved.contains(Config::TRANSLATE);
        Ok(Some(saved))
    }

    /// Reads the status register.
    pub fn status(&mut self) -> Status {
        Status::from_bits_retain(self.ports.read8(STATUS_COMMAND_PORT))
    }

    /// Reads a keyboard byte if one is waiting (status OBF), without blocking. Bytes from the
    /// AUX port are read and dropped (`None`). The polled-mode way to receive one scancode.
    ///
    /// Do not loop on it until it returns `None`: a controller whose status is stuck with OBF
    /// set hands out a byte on every read, forever. [`drain`](Self::drain) is that loop
    /// with a bound.
    pub fn try_read(&mut self) -> Option<u8> {
        read_keyboard_byte(&mut self.ports)
    }

    /// Reads the keyboard bytes waiting in the output buffer, oldest first, handing each to
    /// `f`, until the buffer is empty; returns how many bytes were read. AUX bytes are read
    /// and dropped (but counted).
    ///
    /// Reads at most twice [`Timing::flush_limit`] bytes (the keyboard's buffer, and as many
    /// again landing meanwhile) and does not wait: the polled-mode way to empty the buffer.
    ///
    /// # Errors
    ///
    /// [`Error::OutputStuck`] when the buffer still holds a byte after that many reads: the
    /// status register is stuck with OBF set, or something sends without pause. The keyboard
    /// bytes read were handed to `f` all the same.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_ps2::controller::{I8042, InitOptions};
    /// # use std::{cell::RefCell, collections::VecDeque, rc::Rc};
    /// # use irqkit_hal::{DelayNs, PortIo};
    /// #
    /// # /// An i8042 whose keyboard answers every command like a real one; never busy.
    /// # #[derive(Clone, Default)]
    /// # struct FakeI8042(Rc<RefCell<State>>);
    /// # #[derive(Default)]
    /// # struct State { out: VecDeque<u8>, config: u8, leds: u8, data_for: Option<u8> }
    /// # impl FakeI8042 {
    /// #     fn leds(&self) -> u8 { self.0.borrow().leds }
    /// #     fn send(&self, bytes: &[u8]) { self.0.borrow_mut().out.extend(bytes) }
    /// # }
    /// # impl PortIo for FakeI8042 {
    /// #     fn read8(&mut self, port: u16) -> u8 {
    /// #         let mut s = self.0.borrow_mut();
    /// #         if port == 0x64 { u8::from(!s.out.is_empty()) } else { s.out.pop_front().unwrap_or(0) }
    /// #     }
    /// #     fn write8(&mut self, port: u16, value: u8) {
    /// #         let s = &mut *self.0.borrow_mut();
    /// #         match (port, s.data_for.take()) {
    /// #             (0x64, _) => match value {
    /// #                 0x20 => s.out.push_back(s.config),
    /// #                 0x60 => s.data_for = Some(0x60),
    /// #                 0xAA => s.out.push_back(0x55),
    /// #                 0xAB => s.out.push_back(0x00),
    /// #                 _ => {}
    /// #             },
    /// #             (_, Some(0x60)) => s.config = value,
    /// #             (_, Some(command)) => {
    /// #                 s.out.push_back(0xFA);
    /// #                 match (command, value) {
    /// #                     (0xED, leds) => s.leds = leds,
    /// #                     (0xF0, 0) => s.out.push_back(0x02),
    /// #                     _ => {}
    /// #                 }
    /// #             }
    /// #             (_, None) => {
    /// #                 s.out.push_back(0xFA);
    /// #                 match value {
    /// #                     0xFF => s.out.push_back(0xAA),
    /// #                     0xF2 => s.out.extend([0xAB, 0x83]),
    /// #                     0xED | 0xF0 | 0xF3 => s.data_for = Some(value),
    /// #                     _ => {}
    /// #                 }
    /// #             }
    /// #         }
    /// #     }
    /// #     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
    /// #     fn write16(&mut self, _: u16, _: u16) {}
    /// #     fn read32(&mut self, _: u16) -> u32 { !0 }
    /// #     fn write32(&mut self, _: u16, _: u32) {}
    /// # }
    /// # struct NoDelay;
    /// # impl DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
    /// # let controller = FakeI8042::default();
    /// # let mut kbd = I8042::new(controller.clone(), NoDelay);
    /// kbd.init(InitOptions::translated())?;
    /// # controller.send(&[0x1E, 0x9E]);
    /// let mut bytes = Vec::new();
    /// assert_eq!(kbd.drain(|b| bytes.push(b))?, 2);
    /// assert_eq!(bytes, [0x1E, 0x9E]); // 'A' pressed and released
    /// # Ok::<(), irqkit_ps2::controller::Error>(())
    /// ```
    pub fn drain(&mut self, mut f: impl FnMut(u8)) -> Result<u16, Error> {
        let limit = 2 * u16::from(self.timing.flush_limit);
        for read in 0..limit {
            let status = self.status();
            if !status.contains(Status::OUTPUT_FULL) {
                return Ok(read);
            }
            let byte = self.ports.read8(DATA_PORT);
            if !status.contains(Status::AUX_DATA) {
                f(byte);
            }
        }
        if self.status().contains(Status::OUTPUT_FULL) {
            Err(Error::OutputStuck { read: limit })
        } else {
            Ok(limit)
        }
    }

    /// Reads the configuration byte.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when the controller does not answer.
    pub fn read_config(&mut self) -> Result<Config, Error> {
        self.controller_query(ControllerCommand::ReadConfig)
            .map(Config::from_bits_retain)
    }

    /// Writes the configuration byte.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when the controller does not accept the bytes.
    pub fn write_config(&mut self, config: Config) -> Result<(), Error> {
        self.controller_command(ControllerCommand::WriteConfig)?;
        self.write_byte(
            DATA_PORT,
            config.bits(),
            ControllerCommand::WriteConfig.byte(),
        )?;
        self.config = Some(config);
        Ok(())
    }

    /// Turns IRQ 1 on or off (configuration bit 0), keeping the rest of the configuration.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when the controller does not answer.
    pub fn set_keyboard_irq(&mut self, enabled: bool) -> Result<(), Error> {
        let mut config = match self.config {
            Some(c) => c,
            None => self.read_config()?,
        };
        config.set(Config::KEYBOARD_IRQ, enabled);
        self.write_config(config)
    }

    /// Sends a controller command that has no answer.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] waiting for [`WaitingFor::InputBufferEmpty`].
    pub fn controller_command(&mut self, command: ControllerCommand) -> Result<(), Error> {
        self.write_byte(STATUS_COMMAND_PORT, command.byte(), command.byte())?;
        // The controller's own bookkeeping of enable / disable shows in the config byte.
        if let Some(config) = self.config.as_mut() {
            match command {
                ControllerCommand::DisableKeyboard => {
                    config.insert(Config::KEYBOARD_CLOCK_DISABLED)
                }
                ControllerCommand::EnableKeyboard => config.remove(Config::KEYBOARD_CLOCK_DISABLED),
                ControllerCommand::DisableAux => config.insert(Config::AUX_CLOCK_DISABLED),
                ControllerCommand::EnableAux => config.remove(Config::AUX_CLOCK_DISABLED),
                _ => {}
            }
        }
        Ok(())
    }

    /// Sends a controller command and reads its one-byte answer.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] waiting for [`WaitingFor::InputBufferEmpty`] or
    /// [`WaitingFor::ControllerReply`].
    pub fn controller_query(&mut self, command: ControllerCommand) -> Result<u8, Error> {
        self.controller_command(command)?;
        let (ports, timing) = (&mut self.ports, self.timing);
        poll_until(
            &mut self.delay,
            timing.buffer_timeout_us,
            timing.poll_interval_us,
            || {
                let status = Status::from_bits_retain(ports.read8(STATUS_COMMAND_PORT));
                status
                    .contains(Status::OUTPUT_FULL)
                    .then(|| ports.read8(DATA_PORT))
            },
        )
        .map_err(|_| Error::Timeout {
            waiting_for: WaitingFor::ControllerReply,
            command: command.byte(),
        })
    }

    /// Runs `f` with IRQ 1 masked in the configuration byte (if it was on), then unmasks it:
    /// several blocking commands pay for one mask / unmask instead of one each.
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`] when the controller does not accept the configuration byte.
    ///
    /// # Examples
    ///
    /// ```
    /// use irqkit_ps2::controller::{I8042, InitOptions, LedState, Typematic};
    /// # use std::{cell::RefCell, collections::VecDeque, rc::Rc};
    /// # use irqkit_hal::{DelayNs, PortIo};
    /// #
    /// # /// An i8042 whose keyboard answers every command like a real one; never busy.
    /// # #[derive(Clone, Default)]
    /// # struct FakeI8042(Rc<RefCell<State>>);
    /// # #[derive(Default)]
    /// # struct State { out: VecDeque<u8>, config: u8, leds: u8, data_for: Option<u8> }
    /// # impl FakeI8042 {
    /// #     fn leds(&self) -> u8 { self.0.borrow().leds }
    /// #     fn send(&self, bytes: &[u8]) { self.0.borrow_mut().out.extend(bytes) }
    /// # }
    /// # impl PortIo for FakeI8042 {
    /// #     fn read8(&mut self, port: u16) -> u8 {
    /// #         let mut s = self.0.borrow_mut();
    /// #         if port == 0x64 { u8::from(!s.out.is_empty()) } else { s.out.pop_front().unwrap_or(0) }
    /// #     }
    /// #     fn write8(&mut self, port: u16, value: u8) {
    /// #         let s = &mut *self.0.borrow_mut();
    /// #         match (port, s.data_for.take()) {
    /// #             (0x64, _) => match value {
    /// #                 0x20 => s.out.push_back(s.config),
    /// #                 0x60 => s.data_for = Some(0x60),
    /// #                 0xAA => s.out.push_back(0x55),
    /// #                 0xAB => s.out.push_back(0x00),
    /// #                 _ => {}
    /// #             },
    /// #             (_, Some(0x60)) => s.config = value,
    /// #             (_, Some(command)) => {
    /// #                 s.out.push_back(0xFA);
    /// #                 match (command, value) {
    /// #                     (0xED, leds) => s.leds = leds,
    /// #                     (0xF0, 0) => s.out.push_back(0x02),
    /// #                     _ => {}
    /// #                 }
    /// #             }
    /// #             (_, None) => {
    /// #                 s.out.push_back(0xFA);
    /// #                 match value {
    /// #                     0xFF => s.out.push_back(0xAA),
    /// #                     0xF2 => s.out.extend([0xAB, 0x83]),
    /// #                     0xED | 0xF0 | 0xF3 => s.data_for = Some(value),
    /// #                     _ => {}
    /// #                 }
    /// #             }
    /// #         }
    /// #     }
    /// #     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
    /// #     fn write16(&mut self, _: u16, _: u16) {}
    /// #     fn read32(&mut self, _: u16) -> u32 { !0 }
    /// #     fn write32(&mut self, _: u16, _: u32) {}
    /// # }
    /// # struct NoDelay;
    /// # impl DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
    /// # let controller = FakeI8042::default();
    /// # let mut kbd = I8042::new(controller.clone(), NoDelay);
    /// kbd.init(InitOptions::translated())?;
    /// kbd.without_irq(|kbd| {
    ///     kbd.set_leds(LedState::CAPS_LOCK)?;
    ///     kbd.set_typematic(Typematic::default())
    /// })??;
    /// # assert_eq!(controller.leds(), 0x04);
    /// # Ok::<(), irqkit_ps2::controller::Error>(())
    /// ```
    pub fn without_irq<R>(&mut self, f: impl FnOnce(&mut Self) -> R) -> Result<R, Error> {
        let irq_was_on = self
            .config
            .is_some_and(|c| c.contains(Config::KEYBOARD_IRQ));
        if irq_was_on {
            self.set_keyboard_irq(false)?;
        }
        let result = f(self);
        if irq_was_on {
            self.set_keyboard_irq(true)?;
        }
        Ok(result)
    }

    /// Reads and discards stale output bytes, at most [`Timing::flush_limit`]; returns how
    /// many were read.
    fn flush(&mut self) -> Result<u8, Error> {
        for n in 0..self.timing.flush_limit {
            if !self.status().contains(Status::OUTPUT_FULL) {
                return Ok(n);
            }
            let _stale = self.ports.read8(DATA_PORT);
            // Give a byte still in transit from the keyboard time to land.
            self.delay.delay_us(self.timing.poll_interval_us);
        }
        if self.status().contains(Status::OUTPUT_FULL) {
            Err(Error::NoController)
        } else {
            Ok(self.timing.flush_limit)
        }
    }

    /// Waits for the input buffer to empty, then writes `byte` to `port`.
    fn write_byte(&mut self, port: u16, byte: u8, command: u8) -> Result<(), Error> {
        write_when_ready(
            &mut self.ports,
            &mut self.delay,
            &self.timing,
            port,
            byte,
            command,
        )
    }
}
