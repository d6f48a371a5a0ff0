//! Keyboard commands on the blocking driver: one command at a time, with RESEND retries and
//! waits bounded in time and in bytes.

use irqkit_hal::{DelayNs, PortIo};

use super::I8042;
use crate::controller::command::{Command, Reply};
use crate::controller::engine::{ByteOutcome, CommandEngine};
use crate::controller::error::{Error, WaitingFor};
use crate::controller::registers::Status;
use crate::controller::settings::{KeyboardId, LedState, Typematic};
use crate::controller::spec::DATA_PORT;
use crate::ScancodeSet;

#[cfg(doc)]
use crate::controller::Timing;

impl<P: PortIo, D: DelayNs> I8042<P, D> {
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
                crate::controller::spec::response::ID_MF2,
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
