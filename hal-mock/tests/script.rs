//! Scripted port I/O: passing scripts, mismatch diffs, unconsumed scripts.

mod common;

use common::panic_text;
use irqkit_hal::PortIo;
use irqkit_hal_mock::{Access, ScriptedPorts};

/// A tiny "driver": waits for the i8042 input buffer, sends a command, reads the answer.
fn send_command(mut ports: impl PortIo, command: u8) -> u8 {
    while ports.read8(0x64) & 0x02 != 0 {}
    ports.write8(0x64, command);
    while ports.read8(0x64) & 0x01 == 0 {}
    ports.read8(0x60)
}

#[test]
fn a_matching_script_passes_every_width_and_string_form() {
    let mut ports = ScriptedPorts::new([
        Access::read8(0x60, 0xAB),
        Access::write8(0x61, 0xCD),
        Access::read16(0x1F0, 0xBEEF),
        Access::write16(0x1F2, 0x1234),
        Access::read32(0xCFC, 0xDEAD_BEEF),
        Access::write32(0xCF8, 0x8000_0000),
        Access::read8_into(0x60, &[1, 2, 3]),
        Access::write8_from(0x60, &[4, 5]),
        Access::read16_into(0x1F0, &[0x0102, 0x0304]),
        Access::write16_from(0x1F0, &[0x0506]),
        Access::read32_into(0xCFC, &[7, 8]),
        Access::write32_from(0xCFC, &[9]),
    ]);
    assert_eq!(ports.read8(0x60), 0xAB);
    ports.write8(0x61, 0xCD);
    assert_eq!(ports.read16(0x1F0), 0xBEEF);
    ports.write16(0x1F2, 0x1234);
    assert_eq!(ports.read32(0xCFC), 0xDEAD_BEEF);
    ports.write32(0xCF8, 0x8000_0000);
    let mut b = [0u8; 3];
    ports.read8_into(0x60, &mut b);
    assert_eq!(b, [1, 2, 3]);
    ports.write8_from(0x60, &[4, 5]);
    let mut w = [0u16; 2];
    ports.read16_into(0x1F0, &mut w);
    assert_eq!(w, [0x0102, 0x0304]);
    ports.write16_from(0x1F0, &[0x0506]);
    let mut d = [0u32; 2];
    ports.read32_into(0xCFC, &mut d);
    assert_eq!(d, [7, 8]);
    ports.write32_from(0xCFC, &[9]);
    assert_eq!((ports.position(), ports.remaining()), (12, 0));
    ports.finish();
}

#[test]
fn a_driver_can_borrow_the_script() {
    let mut ports = ScriptedPorts::new([
        Access::read8(0x64, 0x02),
        Access::read8(0x64, 0x00),
        Access::write8(0x64, 0xAA),
        Access::read8(0x64, 0x00),
        Access::read8(0x64, 0x01),
    ]);
    ports.push(Access::read8(0x60, 0x55));
    assert_eq!(send_command(&mut ports, 0xAA), 0x55);
    ports.finish();
}

#[test]
#[should_panic(expected = "scripted port I/O mismatch at script index 2 of 5")]
fn a_wrong_value_panics_with_the_index() {
    let ports = ScriptedPorts::new([
        Access::read8(0x64, 0x02), // input buffer full
        Access::read8(0x64, 0x00),
        Access::write8(0x64, 0xAA),
        Access::read8(0x64, 0x01),
        Access::read8(0x60, 0x55),
    ]);
    send_command(ports, 0xAB); // the driver sends the wrong command byte
}

#[test]
fn the_mismatch_message_is_a_diff_with_context() {
    let text = panic_text(|| {
        let mut ports = ScriptedPorts::new([
            Access::read8(0x64, 0x1C),
            Access::write8(0x60, 0xFF),
            Access::read8(0x60, 0xFA),
            Access::read8(0x60, 0xAA),
            Access::write8(0x60, 0xF4),
            Access::read8(0x60, 0xFA),
        ]);
        ports.read8(0x64);
        ports.write8(0x60, 0xFF);
        ports.read8(0x60);
        ports.read8(0x60);
        ports.write8(0x60, 0xF5);
    });
    let expected = "scripted port I/O mismatch at script index 4 of 6\n\
                    \x20 expected: write8 0x0060 <- 0xf4\n\
                    \x20 actual:   write8 0x0060 <- 0xf5\n\
                    \x20 (the value differs: expected 0xf4, got 0xf5)\n\
                    \x20 previous accesses:\n\
                    \x20   script index 0: read8 0x0064 -> 0x1c\n\
                    \x20   script index 1: write8 0x0060 <- 0xff\n\
                    \x20   script index 2: read8 0x0060 -> 0xfa\n\
                    \x20   script index 3: read8 0x0060 -> 0xaa\n";
    assert_eq!(text, expected);
}

#[test]
fn wrong_kind_port_and_string_shape_are_named() {
    let text = panic_text(|| {
        let mut p = ScriptedPorts::new([Access::read8(0x64, 0)]);
        p.write8(0x64, 0);
    });
    assert!(text.contains("expected: read8 0x0064 -> 0x00\n  actual:   write8 0x0064 <- 0x00\n  (a different kind of access)"), "{text}");
    assert!(text.contains("no access matched before"), "{text}");

    let text = panic_text(|| {
        let mut p = ScriptedPorts::new([Access::read16(0x1F7, 0x50)]);
        p.read16(0x1F6);
    });
    assert!(
        text.contains("(the port differs: expected 0x01f7, got 0x01f6)"),
        "{text}"
    );

    // A loop of single reads does not match a string step.
    let text = panic_text(|| {
        let mut p = ScriptedPorts::new([Access::read16_into(0x1F0, &[1, 2])]);
        p.read16(0x1F0);
    });
    assert!(
        text.contains(
            "expected: read16_into 0x01f0 -> [0x0001, 0x0002]\n  actual:   read16 0x01f0\n"
        ),
        "{text}"
    );

    let text = panic_text(|| {
        let mut p = ScriptedPorts::new([Access::write16_from(0x1F0, &[1, 2, 3])]);
        p.write16_from(0x1F0, &[1, 2, 9]);
    });
    assert!(
        text.contains("(element 2 differs: expected 0x0003, got 0x0009)"),
        "{text}"
    );
}

#[test]
#[should_panic(expected = "script not finished: 2 of 3 steps never happened")]
fn finish_reports_an_unconsumed_script() {
    let mut ports = ScriptedPorts::new([
        Access::read8(0x64, 0x1C),
        Access::write8(0x60, 0xF4),
        Access::read8(0x60, 0xFA),
    ]);
    ports.read8(0x64);
    ports.finish();
}

#[test]
fn the_unconsumed_message_names_what_was_next() {
    let text = panic_text(|| {
        let mut ports = ScriptedPorts::new([
            Access::read8(0x64, 0x1C),
            Access::write8(0x60, 0xF4),
            Access::read8(0x60, 0xFA),
        ]);
        ports.read8(0x64);
        drop(ports);
    });
    assert_eq!(
        text,
        "scripted port I/O: script not finished: 2 of 3 steps never happened\n\
         \x20 next expected (script index 1): write8 0x0060 <- 0xf4\n\
         \x20 then (script index 2): read8 0x0060 -> 0xfa\n\
         \x20 previous accesses:\n\
         \x20   script index 0: read8 0x0064 -> 0x1c\n"
    );
}

#[test]
#[should_panic(expected = "script not finished: 1 of 1 steps never happened")]
fn dropping_an_unconsumed_script_panics() {
    let _ports = ScriptedPorts::new([Access::write8(0x80, 1)]);
}

#[test]
fn a_reported_mismatch_is_not_reported_again_on_drop() {
    let mut ports = ScriptedPorts::new([Access::write8(0x80, 1), Access::write8(0x80, 2)]);
    let text = panic_text(|| ports.write8(0x80, 3));
    assert!(text.contains("mismatch at script index 0 of 2"));
    // Dropping the failed, unfinished script must not panic a second time.
    drop(ports);
}

#[test]
fn an_access_after_the_end_panics() {
    let text = panic_text(|| {
        let mut p = ScriptedPorts::new([Access::write32(0xCF8, 0x8000_0000)]);
        p.write32(0xCF8, 0x8000_0000);
        p.read32(0xCFC);
    });
    assert!(text.starts_with("scripted port I/O: access after the end of the script (1 steps)\n  actual:   read32 0x0cfc\n"), "{text}");
}

#[test]
fn an_empty_script_finishes() {
    ScriptedPorts::new([]).finish();
    drop(ScriptedPorts::default());
}
