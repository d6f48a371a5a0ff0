//! The data port (0x60) checked against the status register (0x64), as every i8042 driver and
//! interrupt handler needs it: read only when the output buffer holds a byte (OBF), write only
//! once the controller has taken the previous byte (IBF clear), with a bounded wait.

use irqkit_hal::{poll_until, DelayNs, PortIo};

use super::error::{Error, WaitingFor};
use super::options::Timing;
use super::registers::Status;
use super::spec::{DATA_PORT, STATUS_COMMAND_PORT};

/// Reads the keyboard byte waiting at port 0x60, if the status register says one is there
/// (OBF); a byte from the AUX (mouse) port is read, to clear the buffer, and dropped.
///
/// One status read and at most one data read, never a wait: what an IRQ 1 handler calls.
/// Port 0x60 repeats its last byte when read again, so it is read only when OBF says so.
///
/// # Examples
///
/// ```
/// use irqkit_hal::PortIo;
/// use irqkit_ps2::controller::read_keyboard_byte;
///
/// /// The i8042 as an interrupt handler finds it: status, then one byte.
/// struct Controller { status: u8, data: u8 }
/// impl PortIo for Controller {
///     fn read8(&mut self, port: u16) -> u8 {
///         if port == 0x64 { self.status } else { self.status &= !1; self.data }
///     }
///     fn write8(&mut self, _: u16, _: u8) {}
///     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
///     fn write16(&mut self, _: u16, _: u16) {}
///     fn read32(&mut self, _: u16) -> u32 { !0 }
///     fn write32(&mut self, _: u16, _: u32) {}
/// }
///
/// let mut keyboard_byte = Controller { status: 0x01, data: 0x1E };
/// assert_eq!(read_keyboard_byte(&mut keyboard_byte), Some(0x1E));
/// assert_eq!(read_keyboard_byte(&mut keyboard_byte), None); // OBF now clear
/// let mut mouse_byte = Controller { status: 0x21, data: 0x08 };
/// assert_eq!(read_keyboard_byte(&mut mouse_byte), None);
/// assert_eq!(mouse_byte.status, 0x20); // read and dropped
/// ```
pub fn read_keyboard_byte(ports: &mut impl PortIo) -> Option<u8> {
    let status = Status::from_bits_retain(ports.read8(STATUS_COMMAND_PORT));
    if !status.contains(Status::OUTPUT_FULL) {
        return None;
    }
    let byte = ports.read8(DATA_PORT);
    (!status.contains(Status::AUX_DATA)).then_some(byte)
}

/// Writes `byte` (a keyboard command or its data) to port 0x60 once the controller's input
/// buffer is empty (status IBF clear), polling every [`Timing::poll_interval_us`] for at most
/// [`Timing::buffer_timeout_us`].
///
/// # Errors
///
/// [`Error::Timeout`] waiting for [`WaitingFor::InputBufferEmpty`], with `byte` as the
/// command, when the controller never takes the previous byte; `byte` is not written then.
///
/// # Examples
///
/// ```
/// use irqkit_hal::{DelayNs, PortIo};
/// use irqkit_ps2::controller::{write_data, Error, Timing, WaitingFor};
///
/// /// A controller whose input buffer is `busy` (IBF stuck or clear); records the writes.
/// struct Controller { busy: bool, written: Vec<(u16, u8)> }
/// impl PortIo for Controller {
///     fn read8(&mut self, _: u16) -> u8 { if self.busy { 0x02 } else { 0x00 } }
///     fn write8(&mut self, port: u16, value: u8) { self.written.push((port, value)) }
///     fn read16(&mut self, _: u16) -> u16 { 0xFFFF }
///     fn write16(&mut self, _: u16, _: u16) {}
///     fn read32(&mut self, _: u16) -> u32 { !0 }
///     fn write32(&mut self, _: u16, _: u32) {}
/// }
/// struct NoDelay;
/// impl DelayNs for NoDelay { fn delay_ns(&mut self, _: u32) {} }
///
/// let timing = Timing { buffer_timeout_us: 1_000, poll_interval_us: 10, ..Timing::default() };
/// let mut ready = Controller { busy: false, written: Vec::new() };
/// write_data(&mut ready, &mut NoDelay, &timing, 0xED)?;
/// assert_eq!(ready.written, [(0x60, 0xED)]);
///
/// let mut stuck = Controller { busy: true, written: Vec::new() };
/// let err = write_data(&mut stuck, &mut NoDelay, &timing, 0xED).unwrap_err();
/// assert_eq!(err, Error::Timeout { waiting_for: WaitingFor::InputBufferEmpty, command: 0xED });
/// assert!(stuck.written.is_empty());
/// # Ok::<(), Error>(())
/// ```
pub fn write_data(
    ports: &mut impl PortIo,
    delay: &mut impl DelayNs,
    timing: &Timing,
    byte: u8,
) -> Result<(), Error> {
    write_when_ready(ports, delay, timing, DATA_PORT, byte, byte)
}

/// Waits for the input buffer to empty, then writes `byte` to `port`; a timeout names
/// `command`.
pub(super) fn write_when_ready(
    ports: &mut impl PortIo,
    delay: &mut impl DelayNs,
    timing: &Timing,
    port: u16,
    byte: u8,
    command: u8,
) -> Result<(), Error> {
    poll_until(
        delay,
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
    ports.write8(port, byte);
    Ok(())
}
