//! The blocking i8042 driver: controller initialisation, shutdown, and keyboard commands with
//! bounded polling waits.

use irqkit_hal::{poll_until, DelayNs, PortIo};

use super::command::{Command, Reply};
use super::engine::{ByteOutcome, CommandEngine, EngineTiming};
use super::error::{Error, WaitingFor};
use super::spec::{
    Config, ControllerCommand, KeyboardId, LedState, Status, Typematic, DATA_PORT,
    PORT_TEST_PASSED, SELF_TEST_PASSED, STATUS_COMMAND_PORT,
};
use crate::ScancodeSet;

/// Polling limits of the blocking driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timing {
    /// Sleep between two reads of the status register, in microseconds.
    pub poll_interval_us: u32,
    /// How long to wait for the input buffer to empty or a controller answer, in microseconds.
    pub buffer_timeout_us: u32,
    /// How many stale bytes a flush reads before deciding no controller is there, and how
    /// many a keyboard command sets aside before it is sent (the size of the keyboard's
    /// buffer). [`I8042::drain`] reads at most twice as many.
    pub flush_limit: u8,
    /// How many bytes that are not its answers (key bytes, AUX bytes) one keyboard command
    /// reads while it waits before giving up with [`Error::TooManyBytes`].
    pub byte_limit: u16,
    /// Keyboard command timeouts and tries, in microseconds.
    pub keyboard: EngineTiming,
}

impl Default for Timing {
    /// Linux's limits: 10000 polls 50 us apart, at most 16 stale bytes, and
    /// [`EngineTiming::from_tick_hz`] in microseconds; 64 stray bytes per command (a keyboard
    /// empties its buffer when a command arrives, so more means a stuck controller).
    fn default() -> Self {
        Timing {
            poll_interval_us: 50,
            buffer_timeout_us: 10_000 * 50,
            flush_limit: 16,
            byte_limit: 64,
            keyboard: EngineTiming::from_tick_hz(1_000_000),
        }
    }
}

/// How the keyboard's scancodes reach the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Mode {
    /// The keyboard sends set 2 and the controller translates it (XLATE): the CPU sees set 1.
    /// What firmware sets up and what most hobby kernels decode.
    Translated,
    /// Translation off: the CPU sees the keyboard's own bytes in the given set.
    Raw(ScancodeSet),
}

impl Mode {
    /// The set the keyboard itself is switched to.
    pub const fn keyboard_set(self) -> ScancodeSet {
        match self {
            Mode::Translated => ScancodeSet::Set2,
            Mode::Raw(set) => set,
        }
    }

    /// The set of the bytes read from port 0x60.
    pub const fn host_set(self) -> ScancodeSet {
        match self {
            Mode::Translated => ScancodeSet::Set1,
            Mode::Raw(set) => set,
        }
    }
}

/// What [`I8042::init`] should set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InitOptions {
    /// Translation and scancode set.
    pub mode: Mode,
    /// Leave IRQ 1 enabled at the end (turn off for a purely polled keyboard).
    pub enable_irq: bool,
    /// Reset the keyboard and check its self-test (BAT). Costs up to the BAT time on real
    /// keyboards (hundreds of milliseconds); without it, a missing keyboard shows as no ACK
    /// to the first command.
    pub reset_keyboard: bool,
    /// Read the scancode set back after selecting it and fail if it differs.
    pub verify_set: bool,
    /// Ask the keyboard for its identity (reported in [`InitReport::keyboard_id`]).
    pub identify: bool,
    /// LEDs to set, if any.
    pub leds: Option<LedState>,
    /// Typematic rate and delay to set, if any.
    pub typematic: Option<Typematic>,
}

impl InitOptions {
    /// Translated set 1 with IRQ 1 on, set verified, keyboard identified.
    pub const fn translated() -> Self {
        InitOptions {
            mode: Mode::Translated,
            enable_irq: true,
            reset_keyboard: true,
            verify_set: true,
            identify: true,
            leds: None,
            typematic: None,
        }
    }

    /// Raw `set` (translation off) with IRQ 1 on, set verified, keyboard identified.
    pub const fn raw(set: ScancodeSet) -> Self {
        InitOptions {
            mode: Mode::Raw(set),
            ..Self::translated()
        }
    }
}

impl Default for InitOptions {
    fn default() -> Self {
        Self::translated()
    }
}

/// What [`I8042::init`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct InitReport {
    /// The configuration byte the firmware left, restored by [`I8042::shutdown`].
    pub saved_config: Config,
    /// The configuration byte written at the end of initialisation.
    pub config: Config,
    /// The controller self-test answer (0x55).
    pub self_test: u8,
    /// How many stale bytes were flushed from the output buffer.
    pub flushed: u8,
    /// Whether the controller translates set 2 into set 1.
    pub translation: bool,
    /// The set the keyboard sends.
    pub keyboard_set: ScancodeSet,
    /// The set of the bytes the CPU reads (set 1 when translating).
    pub host_set: ScancodeSet,
    /// The keyboard's identity (empty when not asked or an AT keyboard).
    pub keyboard_id: KeyboardId,
}

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

    fn push(&mut self, byte: u8) {
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
/// On the host, against hal-mock's QEMU-like model (a kernel passes its
/// `irqkit_hal::x86::X86PortIo` and a `DelayNs` instead):
///
/// ```
/// use irqkit_hal_mock::{i8042::I8042 as Model, Line, Sim};
/// use irqkit_ps2::controller::{I8042, InitOptions, LedState};
/// use irqkit_ps2::ScancodeSet;
///
/// let sim = Sim::new();
/// let model = Model::attach(&sim.bus(), Model::new(Line(1))).unwrap();
///
/// let mut kbd = I8042::new(sim.bus(), sim.clock());
/// let report = kbd.init(InitOptions::translated())?;
/// assert_eq!(report.host_set, ScancodeSet::Set1);
/// kbd.set_leds(LedState::NUM_LOCK)?;
/// assert_eq!(model.with(|m| m.leds()), 0x02);
///
/// model.tap_set2(&[0x1C]); // 'A' pressed and released
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
        let status = self.status();
        if !status.contains(Status::OUTPUT_FULL) {
            return None;
        }
        let byte = self.ports.read8(DATA_PORT);
        (!status.contains(Status::AUX_DATA)).then_some(byte)
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
    /// # use irqkit_hal_mock::{i8042::I8042 as Model, Line, Sim};
    /// use irqkit_ps2::controller::{I8042, InitOptions};
    /// # let sim = Sim::new();
    /// # let model = Model::attach(&sim.bus(), Model::new(Line(1))).unwrap();
    /// # let mut kbd = I8042::new(sim.bus(), sim.clock());
    /// kbd.init(InitOptions::translated())?;
    /// # model.tap_set2(&[0x1C]);
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
    /// # use irqkit_hal_mock::{i8042::I8042 as Model, Line, Sim};
    /// use irqkit_ps2::controller::{I8042, InitOptions, LedState, Typematic};
    /// # let sim = Sim::new();
    /// # let model = Model::attach(&sim.bus(), Model::new(Line(1))).unwrap();
    /// # let mut kbd = I8042::new(sim.bus(), sim.clock());
    /// kbd.init(InitOptions::translated())?;
    /// kbd.without_irq(|kbd| {
    ///     kbd.set_leds(LedState::CAPS_LOCK)?;
    ///     kbd.set_typematic(Typematic::default())
    /// })??;
    /// # assert_eq!(model.with(|m| m.leds()), 0x04);
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

    /// Sends one keyboard command and waits for its answer, with RESEND retries and
    /// timeouts from [`Timing::keyboard`]. IRQ 1 is masked meanwhile when it was enabled.
    /// Bytes that are not answers, and bytes already waiting when the command starts, are
    /// kept in [`stray_bytes`](Self::stray_bytes).
    ///
    /// The wait is bounded in bytes as well as in time: at most [`Timing::flush_limit`]
    /// stale bytes before the command, at most [`Timing::byte_limit`] bytes that are not
    /// answers while it waits, and every poll, whether it found a byte or not, costs one
    /// [poll interval](Timing::poll_interval_us).
    ///
    /// A byte that comes with the status timeout bit (the controller could not reach the
    /// keyboard) ends the wait at once as a timeout; a byte with the parity-error bit fails
    /// the command with [`Error::ParityError`].
    ///
    /// # Errors
    ///
    /// [`Error::Timeout`], [`Error::ResendExhausted`], [`Error::UnexpectedResponse`],
    /// [`Error::ParityError`], [`Error::BatFailed`] (reset), [`Error::TooManyBytes`].
    pub fn command(&mut self, command: Command) -> Result<Reply, Error> {
        self.answer(command).map(|answer| answer.reply)
    }

    /// [`command`](Self::command), with the last byte the command consumed.
    fn answer(&mut self, command: Command) -> Result<Answer, Error> {
        self.without_irq(|kbd| kbd.run_command(command))?
    }

    fn run_command(&mut self, command: Command) -> Result<Answer, Error> {
        let opcode = command.opcode();
        let mut engine = CommandEngine::<1>::new(self.timing.keyboard);
        if engine.submit(command).is_err() {
            // Unreachable with an empty engine of capacity 1; stay typed rather than panic.
            return Err(Error::Timeout {
                waiting_for: WaitingFor::Ack,
                command: command.opcode(),
            });
        }
        let interval = self.timing.poll_interval_us.max(1);
        // Bytes already waiting cannot answer this command: keep them for the decoder, so a
        // stale RESEND or ACK is never taken for this command's answer. A keyboard holds at
        // most `flush_limit` of them; more means the status is stuck with OBF set.
        let mut stale: u16 = 0;
        loop {
            let status = self.status();
            if !status.contains(Status::OUTPUT_FULL) {
                break;
            }
            if stale >= u16::from(self.timing.flush_limit) {
                return Err(Error::TooManyBytes {
                    waiting_for: WaitingFor::OutputBufferEmpty,
                    command: opcode,
                    read: stale,
                });
            }
            let byte = self.ports.read8(DATA_PORT);
            stale += 1;
            if !status.contains(Status::AUX_DATA) {
                self.stray.push(byte);
            }
            // Give a byte still in transit from the keyboard time to land.
            self.delay.delay_us(interval);
        }
        // Time in microseconds since the command started, as the engine counts it. Every poll
        // costs an interval, whether it found a byte or not, so that a controller that always
        // has a byte ready still lets the deadlines pass.
        let mut now: u64 = 0;
        let mut ignored: u16 = 0;
        let mut last = None;
        loop {
            if let Some(byte) = engine.poll_send(now) {
                self.write_byte(DATA_PORT, byte, opcode)?;
            }
            let status = self.status();
            if status.contains(Status::OUTPUT_FULL) {
                let byte = self.ports.read8(DATA_PORT);
                let waiting_for = engine.waiting_for().unwrap_or(WaitingFor::Ack);
                let mut answered = false;
                if status.contains(Status::AUX_DATA) {
                    // A mouse byte: not ours, and not the decoder's.
                } else if status.contains(Status::TIMEOUT_ERROR) {
                    // The controller could not reach the keyboard: no answer will come.
                    if let Some(done) = engine.expire() {
                        return done.result.map(|reply| Answer { reply, last });
                    }
                } else if status.contains(Status::PARITY_ERROR) {
                    // A corrupted answer. Asking for it again (FE) is ambiguous while the
                    // keyboard waits for a data byte (QEMU takes FE as the data), so the
                    // command fails, as in Linux.
                    return Err(Error::ParityError {
                        command: opcode,
                        byte,
                    });
                } else {
                    match engine.on_byte(byte, now) {
                        ByteOutcome::Consumed(done) => {
                            answered = true;
                            last = Some(byte);
                            if let Some(done) = done {
                                return done.result.map(|reply| Answer { reply, last });
                            }
                        }
                        ByteOutcome::NotMine(b) => self.stray.push(b),
                    }
                }
                if !answered {
                    ignored = ignored.saturating_add(1);
                    if ignored > self.timing.byte_limit {
                        return Err(Error::TooManyBytes {
                            waiting_for,
                            command: opcode,
                            read: stale.saturating_add(ignored),
                        });
                    }
                }
            }
            if let Some(done) = engine.on_tick(now) {
                return done.result.map(|reply| Answer { reply, last });
            }
            self.delay.delay_us(interval);
            now += u64::from(interval);
        }
    }

    /// Sets the keyboard LEDs.
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command).
    pub fn set_leds(&mut self, leds: LedState) -> Result<(), Error> {
        self.command(Command::SetLeds(leds)).map(drop)
    }

    /// Asks the keyboard which scancode set it sends (translated answers are mapped back).
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command); an answer that names no set is
    /// [`Error::UnexpectedResponse`].
    pub fn scancode_set(&mut self) -> Result<ScancodeSet, Error> {
        match self.answer(Command::GetScancodeSet)? {
            Answer {
                reply: Reply::ScancodeSet(set),
                ..
            } => Ok(set),
            Answer { last, .. } => Err(unexpected(
                Command::GetScancodeSet,
                ScancodeSet::Set2.number(),
                last,
            )),
        }
    }

    /// Selects the scancode set the keyboard sends. With translation on, only set 2 gives
    /// the CPU proper set 1 bytes.
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command).
    pub fn set_scancode_set(&mut self, set: ScancodeSet) -> Result<(), Error> {
        self.command(Command::SetScancodeSet(set)).map(drop)
    }

    /// Reads the keyboard's identity bytes (`AB 83`; `AB 41` through translation).
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command).
    pub fn identify(&mut self) -> Result<KeyboardId, Error> {
        match self.answer(Command::Identify)? {
            Answer {
                reply: Reply::Identity(id),
                ..
            } => Ok(id),
            Answer { last, .. } => Err(unexpected(
                Command::Identify,
                super::spec::response::ID_MF2,
                last,
            )),
        }
    }

    /// Sets the typematic repeat rate and delay.
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command).
    pub fn set_typematic(&mut self, typematic: Typematic) -> Result<(), Error> {
        self.command(Command::SetTypematic(typematic)).map(drop)
    }

    /// Lets the keyboard send key events.
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command).
    pub fn enable_scanning(&mut self) -> Result<(), Error> {
        self.command(Command::EnableScanning).map(drop)
    }

    /// Stops key events. The keyboard also restores its power-on defaults; QEMU's keyboard
    /// even goes back to scancode set 2 and LEDs off, so select the set again after
    /// [`enable_scanning`](Self::enable_scanning) when using set 1 or 3 raw.
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command).
    pub fn disable_scanning(&mut self) -> Result<(), Error> {
        self.command(Command::DisableScanning).map(drop)
    }

    /// Restores the keyboard's default typematic settings and key types (on QEMU also scancode
    /// set 2 and LEDs off, like [`disable_scanning`](Self::disable_scanning)).
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command).
    pub fn set_defaults(&mut self) -> Result<(), Error> {
        self.command(Command::SetDefaults).map(drop)
    }

    /// Checks a keyboard is there: it must echo `EE`.
    ///
    /// # Errors
    ///
    /// As [`command`](Self::command); no keyboard is a [`WaitingFor::Echo`] timeout.
    pub fn echo(&mut self) -> Result<(), Error> {
        self.command(Command::Echo).map(drop)
    }

    /// Resets the keyboard and waits for its self-test (BAT) result.
    ///
    /// # Errors
    ///
    /// [`Error::BatFailed`] with 0xFC / 0xFD, or as [`command`](Self::command).
    pub fn reset(&mut self) -> Result<(), Error> {
        self.command(Command::Reset).map(drop)
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
        let (ports, timing) = (&mut self.ports, self.timing);
        poll_until(
            &mut self.delay,
            timing.buffer_timeout_us,
            timing.poll_interval_us,
            || {
                let status = Status::from_bits_retain(ports.read8(STATUS_COMMAND_PORT));
                (!status.contains(Status::INPUT_FULL)).then_some(())
            },
        )
        .map_err(|_| Error::Timeout {
            waiting_for: WaitingFor::InputBufferEmpty,
            command,
        })?;
        self.ports.write8(port, byte);
        Ok(())
    }
}

/// A command's reply and the last byte it consumed (the one that completed it, unless a
/// timeout did).
#[derive(Debug, Clone, Copy)]
struct Answer {
    reply: Reply,
    last: Option<u8>,
}

/// A reply of the wrong kind for the command (impossible with the engine's matching; typed
/// anyway so that no path panics), reporting `got`, the last byte the command consumed.
fn unexpected(command: Command, expected: u8, got: Option<u8>) -> Error {
    Error::UnexpectedResponse {
        command: command.opcode(),
        expected,
        // Every reply consumes at least one byte (its ACK or echo).
        got: got.unwrap_or(expected),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unexpected_reports_the_byte_received() {
        assert_eq!(
            unexpected(Command::Identify, 0xAB, Some(0x42)),
            Error::UnexpectedResponse {
                command: 0xF2,
                expected: 0xAB,
                got: 0x42
            }
        );
    }
}
