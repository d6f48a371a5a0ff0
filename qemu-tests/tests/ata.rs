//! irqkit-ata on QEMU's PIIX3 IDE (`-machine pc`): the platform the driver needs (PCI,
//! DMA memory, TSC), then the driver itself against images the host writes and reads back.
//! Ignored by plain `cargo test` (QEMU may be missing); `cargo xtask test` runs them with
//! `cargo test -p irqkit-qemu-tests -- --ignored --test-threads=2`.

use std::time::Duration;

use irqkit_qemu_tests::{
    pattern_mismatch, Disk, LineMatch, Outcome, Qemu, TraceEvent, IDE_EXEC_CMD, SERIAL_WRITE,
};

fn secs(seconds: u64) -> Duration {
    Duration::from_secs(seconds)
}

fn run(qemu: Qemu) -> Outcome {
    let outcome = qemu
        .spawn()
        .and_then(|running| running.wait())
        .and_then(Outcome::expect_success)
        .unwrap_or_else(|error| panic!("{error}"));
    // WARNING lines of the kernel, shown in the test log.
    for warning in outcome.serial.iter().filter(|l| l.starts_with("WARNING:")) {
        eprintln!("{}: {warning}", outcome.test);
    }
    outcome
}

/// The `NAME=VALUE` word of `line`.
fn word<'a>(line: &'a str, name: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

fn hex(line: &str, name: &str) -> u64 {
    let text = word(line, name);
    u64::from_str_radix(text.trim_start_matches("0x"), 16)
        .unwrap_or_else(|e| panic!("{name}= in {line:?}: {e}"))
}

fn number(line: &str, name: &str) -> u64 {
    word(line, name)
        .parse()
        .unwrap_or_else(|e| panic!("{name}= in {line:?}: {e}"))
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn platform_ide_on_pci_dma_region_and_tsc() {
    let outcome = run(Qemu::new("ata_platform")
        .disk(Disk::zeroed(1 << 20))
        .timeout(secs(30)));
    let ide = outcome
        .line(LineMatch::prefix("ide pci="))
        .unwrap_or_else(|| {
            panic!("no ide line in {:?}", outcome.serial);
        });
    // The PIIX3 IDE function, bus-master capable, compatibility channels.
    assert_eq!(word(ide, "pci"), "00:01.1", "{ide}");
    assert_eq!(word(ide, "id"), "8086:7010", "{ide}");
    assert_eq!(hex(ide, "prog_if") & 0x85, 0x80, "{ide}");
    // SeaBIOS leaves bus mastering off; setup turns it (and I/O space) on.
    assert_eq!(hex(ide, "command_before") & 0x4, 0, "{ide}");
    assert_eq!(hex(ide, "command") & 0x5, 0x5, "{ide}");
    assert_ne!(hex(ide, "bus_master"), 0, "{ide}");
    assert!(outcome
        .line("ide primary command_block=1f0 control=3f6 irq=14")
        .is_some());
    assert!(outcome
        .line("ide secondary command_block=170 control=376 irq=15")
        .is_some());

    let dma = outcome.line(LineMatch::prefix("dma ")).expect("a dma line");
    assert!(hex(dma, "data") + (8 << 20) <= 1 << 30, "{dma}");

    // The TSC rate from the PIT counter is plausible, and no faster than the rate over 200 PIT
    // interrupts: a tick can arrive late or be lost on a loaded host (the interrupt rate then
    // reads high), never early.
    let tsc = outcome.line(LineMatch::prefix("tsc ")).expect("a tsc line");
    let (hz, ticks_hz) = (number(tsc, "hz"), number(tsc, "ticks_hz"));
    assert!((100_000_000..20_000_000_000).contains(&hz), "{tsc}");
    assert!(ticks_hz as f64 >= 0.8 * hz as f64, "{tsc}");
}

/// The runner's trace capture: QEMU's `ide_exec_cmd` and the guest's serial bytes land in one
/// file, in execution order.
#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn trace_puts_ata_commands_and_serial_lines_in_order() {
    let outcome = run(Qemu::new("defer_irq14")
        .disk(Disk::zeroed(1 << 20))
        .trace(IDE_EXEC_CMD)
        .trace(SERIAL_WRITE));
    let trace = outcome.trace().expect("the trace file");
    let started = trace
        .serial_position("irqkit test kernel: test=defer_irq14")
        .unwrap_or_else(|| panic!("no start line in the trace:\n{trace}"));
    let reported = trace
        .serial_position("ata status=58")
        .unwrap_or_else(|| panic!("no report line in the trace:\n{trace}"));
    // The kernel's IDENTIFY DEVICE runs between its start line and its report.
    assert_eq!(
        trace.ide_commands_between(started, reported),
        [0xEC],
        "{trace}"
    );
    assert!(trace
        .events()
        .iter()
        .any(|event| *event == TraceEvent::SerialLine("TEST PASSED: defer_irq14".into())));
}

/// The seeds and layouts the kernel's ATA cases expect (`kernel/src/cases/ata_io.rs`).
const READ_SEED: u32 = 11;
const WRITE_SEED: u32 = 21;
const LBA48_READ_SEED: u32 = 31;
const LBA48_WRITE_SEED: u32 = 32;
const MIB: u64 = 1 << 20;

/// Probing finds the disk (and no slave), the reads in every mode return the host's
/// pattern; returns the outcome for the channel checks.
fn check_reads(qemu: Qemu) -> Outcome {
    let outcome = run(qemu.disk(Disk::pattern(16 * MIB, READ_SEED)));
    let probe = outcome
        .line(LineMatch::prefix("probe master=disk"))
        .expect("a probe line");
    assert_eq!(number(probe, "sectors"), 16 * MIB / 512, "{probe}");
    assert!(probe.contains("model=\"QEMU HARDDISK\""), "{probe}");
    assert!(probe.ends_with("slave=none"), "{probe}");
    // The absent slave is a typed error.
    assert!(outcome
        .line(LineMatch::prefix(
            "slave read error=NoDevice { drive: Slave }"
        ))
        .is_some());
    // Polled modes take no completion interrupt; interrupt-driven DMA completes one command
    // per interrupt (1 + 2 + 1 + 1: the 300-sector read is two 256-sector commands), or, when
    // a loaded host delays an interrupt past the driver's lost-interrupt limit, by reading
    // the registers (counted as lost).
    for mode in ["pio_word", "pio_string", "dma_polled"] {
        let line = format!("read mode={mode} ok irq_completions=0 lost_interrupts=0");
        assert!(
            outcome.line(line.as_str()).is_some(),
            "{line}: {:?}",
            outcome.serial
        );
    }
    let dma_irq = outcome
        .line(LineMatch::prefix("read mode=dma_irq ok"))
        .unwrap_or_else(|| panic!("{:?}", outcome.serial));
    assert_eq!(
        number(dma_irq, "irq_completions") + number(dma_irq, "lost_interrupts"),
        5,
        "{dma_irq}"
    );
    assert!(number(dma_irq, "irq_completions") >= 1, "{dma_irq}");
    outcome
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn reads_in_every_mode_with_an_empty_secondary_channel() {
    let outcome = check_reads(
        Qemu::new("ata_read")
            .kernel_arg("secondary=empty")
            .without_default_devices(),
    );
    assert!(outcome.line("secondary found=[None, None]").is_some());
    assert!(outcome
        .line(LineMatch::prefix(
            "secondary read error=NoDevice { drive: Master }"
        ))
        .is_some());
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn reads_in_every_mode_with_an_atapi_drive_on_the_secondary_channel() {
    let outcome = check_reads(Qemu::new("ata_read").kernel_arg("secondary=atapi"));
    assert!(outcome
        .line("secondary found=[Some(Patapi), None]")
        .is_some());
    assert!(outcome
        .line(LineMatch::prefix(
            "secondary read error=Unsupported(NotADisk(Patapi))"
        ))
        .is_some());
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn writes_in_every_mode_and_gather_reach_the_image() {
    let outcome = run(Qemu::new("ata_write").disk(Disk::zeroed(16 * MIB)));
    // (LBA, sectors) of each write, as the kernel reports them; nothing around them changed.
    let mut regions: Vec<(u64, u64)> = outcome
        .serial
        .iter()
        .filter(|line| line.starts_with("wrote mode="))
        .map(|line| (number(line, "lba"), number(line, "sectors")))
        .collect();
    assert_eq!(
        regions,
        [(100, 8), (200, 40), (300, 300), (1000, 64), (2000, 136)],
        "{:?}",
        outcome.serial
    );
    assert!(outcome.line("flushed").is_some());
    assert!(outcome
        .line("scatter read ok pieces=[100, 30, 6]")
        .is_some());
    let image = outcome.disk(0).expect("the image");
    regions.sort_unstable();
    let mut next_free = 0;
    for (lba, sectors) in regions {
        let bytes = &image[(lba * 512) as usize..((lba + sectors) * 512) as usize];
        assert_eq!(
            pattern_mismatch(WRITE_SEED, lba, bytes),
            None,
            "region at {lba} ({sectors} sectors)"
        );
        let untouched = &image[(next_free * 512) as usize..(lba * 512) as usize];
        assert!(
            untouched.iter().all(|&b| b == 0),
            "bytes changed between LBA {next_free} and {lba}"
        );
        next_free = lba + sectors;
    }
    assert!(image[(next_free * 512) as usize..].iter().all(|&b| b == 0));
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn lba48_reads_and_writes_past_2_pow_28_on_a_sparse_200_gib_disk() {
    let size = 200u64 << 30;
    let sectors = size / 512;
    let limit = 1u64 << 28;
    let disk = Disk::zeroed(size)
        .with_pattern_at(limit - 8, 16, LBA48_READ_SEED)
        .with_pattern_at(sectors - 8, 8, LBA48_READ_SEED);
    let outcome = run(Qemu::new("ata_lba48").disk(disk).timeout(secs(60)));
    let probe = outcome
        .line(LineMatch::prefix("probe master=disk"))
        .expect("a probe line");
    assert_eq!(number(probe, "sectors"), sectors, "{probe}");
    assert!(probe.contains("lba48=true"), "{probe}");
    for mode in ["pio_word", "pio_string", "dma_polled", "dma_irq"] {
        let line = format!("lba48 read mode={mode} ok");
        assert!(outcome.line(line.as_str()).is_some(), "{line}");
    }
    let far = limit + 1000;
    assert_eq!(
        pattern_mismatch(
            LBA48_WRITE_SEED,
            far,
            &outcome.read_disk(0, far * 512, 16 * 512).unwrap()
        ),
        None
    );
    // The last 4 sectors were rewritten; the 4 before them keep the host's pattern.
    let tail = outcome.read_disk(0, (sectors - 8) * 512, 8 * 512).unwrap();
    assert_eq!(
        pattern_mismatch(LBA48_READ_SEED, sectors - 8, &tail[..4 * 512]),
        None
    );
    assert_eq!(
        pattern_mismatch(LBA48_WRITE_SEED, sectors - 4, &tail[4 * 512..]),
        None
    );
    // Sectors next to the write are untouched (still sparse zeros).
    let before = outcome.read_disk(0, (far - 1) * 512, 512).unwrap();
    assert!(before.iter().all(|&b| b == 0));
    let error = outcome
        .line(LineMatch::prefix("out_of_range error=OutOfRange"))
        .expect("the out-of-range error");
    assert!(
        error.contains(&format!("lba: {sectors}, count: 1, capacity: {sectors}")),
        "{error}"
    );
    assert!(outcome
        .line(LineMatch::prefix("after errors read ok"))
        .is_some());
    // Sparse: the 200 GiB image still takes almost no space.
    let path = outcome.disk_path(0).unwrap();
    let used = std::os::unix::fs::MetadataExt::blocks(&std::fs::metadata(path).unwrap()) * 512;
    assert!(used < 64 * MIB, "{used} bytes allocated");
}

/// The seeds of `kernel/src/cases/ata_async.rs`.
const QUEUE_IMAGE_SEED: u32 = 41;
const QUEUE_WRITE_SEED: u32 = 42;
/// ATA write commands: WRITE SECTORS (EXT), WRITE MULTIPLE (EXT), WRITE DMA (EXT).
const WRITE_COMMANDS: [u8; 6] = [0x30, 0x34, 0xC5, 0x39, 0xCA, 0x35];
/// FLUSH CACHE and FLUSH CACHE EXT.
const FLUSH_COMMANDS: [u8; 2] = [0xE7, 0xEA];

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn request_queue_serviced_from_the_irq14_bottom_half() {
    let outcome = run(Qemu::new("ata_queue")
        .disk(Disk::pattern(16 * MIB, QUEUE_IMAGE_SEED))
        .trace(IDE_EXEC_CMD)
        .trace(SERIAL_WRITE));
    // All 8 submitted before the first completed: the disk worked through the queue from
    // the bottom half while the case slept.
    let submitted = outcome
        .line(LineMatch::prefix("queue submitted=8"))
        .expect("the submit line");
    assert_eq!(number(submitted, "outstanding"), 8, "{submitted}");
    let reads = outcome
        .line(LineMatch::prefix("queue reads=8 in_order=true"))
        .unwrap_or_else(|| panic!("{:?}", outcome.serial));
    assert_eq!(number(reads, "irq_completions"), 8, "{reads}");
    assert!(number(reads, "service_runs") >= 8, "{reads}");
    for (op, user_data) in [("Write", 100), ("Write", 101), ("Flush", 200)] {
        let line = format!("queue completed op={op} user_data={user_data}");
        assert!(outcome.line(line.as_str()).is_some(), "{line}");
    }
    let bytes = outcome.read_disk(0, 5000 * 512, 128 * 512).unwrap();
    assert_eq!(pattern_mismatch(QUEUE_WRITE_SEED, 5000, &bytes), None);
    // QEMU executed the two writes, then the flush, before the guest reported it.
    let trace = outcome.trace().unwrap();
    let from = trace
        .serial_position("queue reads=8")
        .expect("in the trace");
    let to = trace
        .serial_position("queue flushed")
        .expect("in the trace");
    let commands = trace.ide_commands_between(from, to);
    let tail: Vec<u8> = commands
        .iter()
        .copied()
        .skip(commands.len().saturating_sub(3))
        .collect();
    assert!(
        commands.len() == 3
            && WRITE_COMMANDS.contains(&tail[0])
            && WRITE_COMMANDS.contains(&tail[1])
            && FLUSH_COMMANDS.contains(&tail[2]),
        "{commands:02x?}"
    );
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn flush_cache_runs_after_the_writes_and_before_the_guest_reports_them_flushed() {
    let outcome = run(Qemu::new("ata_flush")
        .disk(Disk::zeroed(4 * MIB))
        .trace(IDE_EXEC_CMD)
        .trace(SERIAL_WRITE));
    let trace = outcome.trace().unwrap();
    let written = trace
        .serial_position("writes done")
        .unwrap_or_else(|| panic!("{trace}"));
    let flushed = trace
        .serial_position("flushed")
        .unwrap_or_else(|| panic!("{trace}"));
    let before = trace.ide_commands_between(0, written);
    let between = trace.ide_commands_between(written, flushed);
    let after = trace.ide_commands_between(flushed, trace.events().len());
    // The writes ran before `writes done`; between that and `flushed`, only the flush.
    assert!(
        before.iter().any(|c| WRITE_COMMANDS.contains(c)),
        "{before:02x?}"
    );
    assert!(
        !before.iter().any(|c| FLUSH_COMMANDS.contains(c)),
        "{before:02x?}"
    );
    assert_eq!(between.len(), 1, "{between:02x?}");
    assert!(FLUSH_COMMANDS.contains(&between[0]), "{between:02x?}");
    assert!(after.is_empty(), "{after:02x?}");
    let bytes = outcome.read_disk(0, 64 * 512, 72 * 512).unwrap();
    assert_eq!(pattern_mismatch(QUEUE_WRITE_SEED, 64, &bytes), None);
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn async_read_woken_by_irq14_and_a_dropped_transfer() {
    let outcome = run(Qemu::new("ata_async").disk(Disk::pattern(16 * MIB, QUEUE_IMAGE_SEED)));
    let dropped = outcome
        .line(LineMatch::prefix("dropped transfer"))
        .unwrap_or_else(|| panic!("{:?}", outcome.serial));
    assert!(number(dropped, "resets") >= 1, "{dropped}");
    // The first poll (interrupts masked) started the DMA and returned Pending; IRQ 14
    // completed it and woke the task, which polled it again. A transfer with interrupts
    // bound never wakes itself.
    let read = outcome
        .line(LineMatch::contains("first_poll_pending=true"))
        .unwrap_or_else(|| panic!("{:?}", outcome.serial));
    assert!(read.starts_with("async read ok sectors=64"), "{read}");
    assert!(number(read, "polls") >= 2, "{read}");
    assert_eq!(number(read, "irq_completions"), 1, "{read}");
}
