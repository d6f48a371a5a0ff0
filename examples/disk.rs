//! A kernel's disk path, runnable on the host:
//!
//! ```text
//! boot          find the IDE controller on PCI (irqkit-hal), enable bus mastering, build a
//!               Channel with DMA and interrupts (irqkit-ata), probe the drives
//! IRQ 14        the top half: ChannelIrq::handle acknowledges the drive and wakes the waiter
//! any context   read / write by DMA, each completed by IRQ 14; flush makes writes durable
//! ```
//!
//! `cargo run -p irqkit-examples --example disk`. The hardware is hal-mock's simulated PC
//! (QEMU's PIIX3 IDE controller and a 4 MiB disk); the comments marked "In a kernel" say what
//! replaces it. No `static mut`, no `unsafe` in this file.

use irqkit_ata::{Channel, ChannelIrq, ChannelRegs, Drive, Error};
use irqkit_hal::pci::{ConfigSpace, IdeController, PciConfig};
use irqkit_hal::PortIo;
use irqkit_hal_mock::ata::{AtaDisk, IdeChannel};
use irqkit_hal_mock::pci::{PciConfigSpace, PciFunction};
use irqkit_hal_mock::{Line, Sim, Trigger};

/// The primary channel's interrupt state, shared by the IRQ 14 handler and the driver.
static PRIMARY_IRQ: ChannelIrq = ChannelIrq::new();

/// IRQ 14, the top half. In a kernel: the IDT entry of IRQ 14's vector calls this with
/// `X86PortIo`, then sends EOI. A blocking read waiting for this interrupt (in the
/// driver's `Wait`, by default a spin on the completion flag) returns once it ran.
fn irq14_top_half(ports: &mut impl PortIo) {
    // `NotOurs` on a shared line: nothing was acknowledged, leave it to the other handlers.
    let _outcome = PRIMARY_IRQ.handle(ports);
}

fn main() -> Result<(), Error> {
    // The host stand-in: a PC with QEMU's IDE controller and one disk, IRQ 14 wired to the
    // top half. In a kernel these are the machine itself and your IDT.
    let sim = Sim::new();
    let function = PciFunction::piix3_ide();
    IdeChannel::primary()
        .with_master(AtaDisk::new(8192))
        .with_pci(&function)
        .attach(&sim.bus())
        .expect("free ports");
    PciConfigSpace::qemu_pc(&function)
        .attach(&sim.bus())
        .expect("free ports");
    sim.lines().on_rise(Line(14), Trigger::Edge, irq14_top_half);
    // In a kernel: `X86PortIo::new()` (its one `unsafe`: the kernel has I/O privilege), a
    // `DelayNs` from your timer, and `irqkit_hal::dma::IdentityMap` for an identity-mapped
    // kernel.
    let (ports, delay, memory) = (sim.bus(), sim.clock(), sim.memory());

    // Boot: find the controller, let it master the bus, build the channel.
    let mut pci = PciConfig::new(ports.clone());
    let ide = IdeController::find(&mut pci).expect("an IDE controller");
    pci.enable_bus_mastering(ide.function.address)
        .expect("bus mastering");
    // The bus master's descriptor table (PRD): 4 KiB below 4 GiB, not crossing 64 KiB. In a
    // kernel: a page from your frame allocator.
    let prd = page_aligned(4096);
    let mut disk = Channel::new(ports, delay, ChannelRegs::from(ide.primary))
        .with_dma(memory, prd)?
        .with_interrupts(&PRIMARY_IRQ);
    let [master, _slave] = disk.probe()?;
    assert!(master.is_some_and(|kind| kind.is_disk()));
    let info = disk.drive(Drive::Master).expect("probed");
    println!(
        "disk: {:?}, {} sectors",
        info.identify().model(),
        info.identify().sectors()
    );

    // Reads and writes: DMA, each completed by IRQ 14.
    let sector = page_aligned(512);
    sector[..12].copy_from_slice(b"hello, disk!");
    disk.write(Drive::Master, 1, sector)?;
    disk.flush(Drive::Master)?; // now it survives a power loss
    let back = page_aligned(512);
    disk.read(Drive::Master, 1, back)?;
    assert_eq!(&back[..12], b"hello, disk!");
    println!("sector 1: {:?}", core::str::from_utf8(&back[..12]));
    Ok(())
}

/// A page-aligned, zeroed buffer that lives for the program. In a kernel: memory the bus
/// master reaches (below 4 GiB for the PIIX bus master), from your frame allocator.
fn page_aligned(len: usize) -> &'static mut [u8] {
    let raw = Box::leak(vec![0u8; len + 4096].into_boxed_slice());
    let offset = raw.as_ptr().align_offset(4096);
    &mut raw[offset..offset + len]
}

#[test]
fn disk_path() {
    main().unwrap();
}
