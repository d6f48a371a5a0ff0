//! A small run of the irqkit-ata benchmark (2 MiB DMA, 1 MiB PIO per pass): every mode runs,
//! reports a figure, and writes what it should; the image check and the host's reads work.
//! No performance is asserted here: the full run is
//! `cargo run --release -p irqkit-qemu-tests --bin irqkit-bench-ata` (docs/BENCHMARKS.md).
//! Ignored by plain `cargo test` (QEMU may be missing).

use irqkit_qemu_tests::bench_ata::{run, Options};

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn benchmark_smoke_every_mode_reports() {
    let report = run(&Options {
        dma_mib: 2,
        pio_mib: 1,
        reps: 1,
        echo: false,
    })
    .unwrap_or_else(|error| panic!("{error}"));
    for mode in [
        "pio_word",
        "pio_string",
        "dma_polled",
        "dma_irq",
        "dma_queue",
    ] {
        for op in ["read", "write"] {
            let pass = report
                .pass(mode, op)
                .unwrap_or_else(|| panic!("no {mode} {op} in {:?}", report.guest));
            let expected = if mode.starts_with("pio") {
                1 << 20
            } else {
                2 << 20
            };
            assert_eq!(pass.bytes, expected, "{mode} {op}");
            assert!(pass.cycles > 0);
        }
    }
    assert_eq!(report.guest.len(), 12, "{:?}", report.guest);
    assert!(
        report.host_cold().is_some(),
        "the host read of the image ran"
    );
    let table = report.table();
    assert_eq!(
        table.lines().filter(|l| l.starts_with("| ")).count(),
        1 + 6 + report.host.len()
    );
    assert_eq!(report.goals().len(), 4);
}
