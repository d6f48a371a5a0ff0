//! An ATA disk on a bus-master IDE channel, modelled on QEMU's PIIX3 IDE (`ide-hd` behind
//! `piix3-ide`), for testing ATA drivers against the quirks a kernel meets under QEMU.
//!
//! An [`IdeChannel`] is one channel (primary: 0x1F0..=0x1F7, 0x3F6, IRQ 14, bus master at
//! 0xC040; secondary: 0x170, 0x376, IRQ 15, 0xC048) with a master and a slave slot, each
//! holding an [`AtaDisk`], an ATAPI device ([`Drive::Atapi`]) or nothing. The bus master moves
//! DMA data between the disk and [`SimMemory`](crate::SimMemory) by bus address, so a driver
//! under test hands its buffers over with [`Sim::memory`](crate::Sim::memory) as its
//! [`DmaMap`](irqkit_hal::dma::DmaMap); with [`IdeChannel::with_pci`] it honours the PCI
//! command register of a [`PciFunction`](crate::pci::PciFunction).
//!
//! # What is modelled
//!
//! - Registers: taskfile with LBA48 two-deep FIFOs and HOB readback (device control bit 7;
//!   any taskfile write clears it, as QEMU), writes go to both drives' taskfiles and are
//!   ignored while the selected drive has BSY or DRQ; device register select; status read
//!   acknowledges the interrupt (lowers the line), alternate status does not; data port
//!   16- and 32-bit (byte reads give 0xFF), reads without DRQ give 0 and do not advance.
//! - Absent units (QEMU): status and error read 0x00, the other registers hold what is
//!   written (a register echo passes; signature 01 01 FF FF after a reset), all read 0x00
//!   when both units are absent; commands to an absent slave are ignored, no interrupt; an
//!   absent master aborts with an interrupt while still reading 0x00.
//! - Soft reset (SRST rising): a DMA in flight completes first (QEMU drains it), every unit
//!   is BSY until the next clock step (or [`IdeChannel::with_reset_latency`]: QEMU finishes
//!   the reset later, in its main loop), so register writes, the select of the other unit
//!   included, are dropped meanwhile, also while an absent unit (reading 0x00) is selected;
//!   then the
//!   signatures (01 01 00 00 for a disk, 01 01 14 EB for ATAPI, 01 01 FF FF for nothing),
//!   error 0x01, status 0x50
//!   (0x00 for ATAPI), the device register 0xA0 with the selected unit unchanged and SRST
//!   cleared, as QEMU does.
//! - Commands: IDENTIFY DEVICE (QEMU's words), READ/WRITE SECTORS (EXT), READ/WRITE
//!   MULTIPLE (EXT) (count 16 at power-on as QEMU; SET MULTIPLE takes 0 or powers of two up
//!   to 16), READ/WRITE DMA (EXT), FLUSH CACHE (EXT), SET FEATURES (write cache 0x02/0x82,
//!   transfer mode 0x03 updating words 62/63/88, QEMU's ignored subcommands), READ VERIFY
//!   (EXT), READ NATIVE MAX (EXT), CHECK POWER MODE, idle/standby, INITIALIZE DEVICE
//!   PARAMETERS, RECALIBRATE, EXECUTE DEVICE DIAGNOSTIC; CHS addressing when the LBA bit is
//!   clear (16 heads, 63 sectors). Anything else, and any address out of range, aborts as
//!   QEMU does: status 0x41 (DRDY | ERR), error ABRT, interrupt. ATAPI devices abort IDENTIFY
//!   DEVICE with their signature and answer IDENTIFY PACKET DEVICE.
//! - PIO as QEMU: reads raise DRQ and an interrupt per sector (per block for READ
//!   MULTIPLE), nothing after the last word; writes ask for the first block without an
//!   interrupt and interrupt after every block; ranges are checked per block (for writes
//!   after the block's data arrived); the address and count registers advance as blocks go.
//! - Bus master: command (start, direction), status (ACTIVE, ERR and INTR write-1-to-clear,
//!   drive DMA-capable bits 5/6), PRD table address; byte accesses only to command and status
//!   (others read all ones). A transfer begins when both the DMA command and the start bit
//!   are in; the PRD table is read from simulated memory (to the end-of-table bit, until it
//!   covers the transfer, or 512 entries); shorter than the transfer: ACTIVE clears, status
//!   0x50, no interrupt; otherwise after [`IdeChannel::with_dma_latency`] the data moves,
//!   status 0x50, INTR and the interrupt, ACTIVE clear unless the PRDs were longer. Clearing
//!   start completes a transfer in flight at once (QEMU cannot cancel one); after that write
//!   the device touches no memory. Every interrupt the channel raises sets bus-master INTR
//!   (QEMU routes the IDE interrupt through the bus master); with nIEN set neither happens,
//!   so a polling driver waits for ACTIVE to clear and reads the ATA status.
//! - Bus mastering off in the linked PCI function: the transfer never makes progress
//!   (ACTIVE stays set, status 0x58, no data, no interrupt).
//! - A volatile write cache (see [`AtaDisk`]), a command log and a flush count.
//!
//! # Faults
//!
//! Per disk, in [`DiskFaults`] (through [`AtaDisk::faults`] or
//! [`DeviceHandle::with_disk`](crate::DeviceHandle::with_disk)): stuck BSY, DRQ never set,
//! errors with UNC / IDNF / ABRT / ICRC at chosen LBAs, device fault, lost interrupts,
//! bus-master errors. Per channel: [`IdeChannel::with_floating_bus`] (all ones on every
//! read), [`IdeChannel::spurious_interrupt`]; absent slave by leaving the slot empty; PRD
//! tables too short or too long come from what the driver writes.
//!
//! # Examples
//!
//! A QEMU-like machine: the PCI function, a disk on the primary channel, DMA through
//! simulated memory. The raw register sequence stands for the driver under test.
//!
//! ```
//! use std::time::Duration;
//! use irqkit_hal::dma::{Direction, DmaMap, Reach};
//! use irqkit_hal::PortIo;
//! use irqkit_hal_mock::ata::{AtaDisk, IdeChannel, Unit};
//! use irqkit_hal_mock::pci::{PciConfigSpace, PciFunction};
//! use irqkit_hal_mock::{Line, Sim};
//!
//! let sim = Sim::new();
//! let mut bus = sim.bus();
//! let ide_fn = PciFunction::piix3_ide();
//! PciConfigSpace::qemu_pc(&ide_fn).attach(&bus).unwrap();
//! let mut disk = AtaDisk::new(1 << 20);
//! disk.write_medium(8, &[0x5A; 512]);
//! let ide = IdeChannel::primary().with_master(disk).with_pci(&ide_fn).attach(&bus).unwrap();
//!
//! // Enable bus mastering (SeaBIOS leaves it off).
//! bus.write32(0xCF8, 0x8000_0904);
//! bus.write16(0xCFC, 0x0107);
//!
//! // Map the buffer and a one-entry PRD table (at page starts: the table is a byte array,
//! // whose host address need not be 4-byte aligned).
//! let mut mem = sim.memory();
//! mem.set_keep_page_offset(false);
//! let mut buf = [0u8; 512];
//! let mut data = None;
//! mem.map(&buf, Direction::FromDevice, Reach::ADDR32, &mut |s| { data = Some(s); Ok(()) })
//!     .unwrap();
//! let data = data.unwrap();
//! let mut prd = [0u8; 8];
//! prd[..4].copy_from_slice(&(data.addr.get() as u32).to_le_bytes());
//! prd[4..6].copy_from_slice(&512u16.to_le_bytes());
//! prd[7] = 0x80; // end of table
//! let mut table = None;
//! mem.map(&prd, Direction::ToDevice, Reach::ADDR32.with_align(4), &mut |s| {
//!     table = Some(s);
//!     Ok(())
//! })
//! .unwrap();
//!
//! // READ DMA of LBA 8.
//! bus.write8(0x1F6, 0xE0);
//! bus.write8(0x1F2, 1);
//! bus.write8(0x1F3, 8);
//! bus.write8(0x1F4, 0);
//! bus.write8(0x1F5, 0);
//! bus.write32(0xC044, table.unwrap().addr.get() as u32);
//! bus.write8(0xC040, 0x08); // direction: device to memory
//! bus.write8(0xC042, 0x06); // clear ERR and INTR
//! bus.write8(0x1F7, 0xC8);
//! bus.write8(0xC040, 0x09); // start
//! sim.clock().advance(Duration::from_micros(100));
//! assert_eq!(sim.lines().rising_edges(Line(14)), 1);
//! assert_eq!(bus.read8(0xC042) & 0x07, 0x04); // INTR, not active, no error
//! bus.write8(0xC040, 0x00);
//! assert_eq!(bus.read8(0x1F7), 0x50);
//! mem.sync_for_cpu(&mut buf);
//! mem.unmap(&buf, Direction::FromDevice);
//! mem.unmap(&prd, Direction::ToDevice);
//! assert_eq!(buf, [0x5A; 512]);
//! assert_eq!(ide.with_disk(Unit::Master, |d| d.commands().len()), 1);
//! ```

mod busmaster;
mod channel;
mod command;
mod disk;
mod taskfile;

pub use busmaster::{PrdEntry, MAX_PRD_ENTRIES};
pub use channel::{ChannelPorts, Drive, IdeChannel, Unit};
pub use command::code;
pub use disk::{
    ata_string, AtaDisk, CommandRecord, DiskFaults, MediaError, Sector, MAX_MULTIPLE, MAX_SECTORS,
    SECTOR,
};
