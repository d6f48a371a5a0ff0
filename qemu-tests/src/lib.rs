//! Host-side runner for the irqkit QEMU test kernel.
