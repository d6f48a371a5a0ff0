//! Conformance against QEMU's keycode table (third_party/keycodemapdb/keymaps.csv).
//!
//! For every row and every set the row gives a code for, the wire bytes (make, then break) go
//! through a fresh decoder, and the key that comes out must be the row's Linux keycode. The
//! rows where the table does not hold wire bytes are listed in `EXCEPTIONS` with the reason
//! and what the decoder does instead; a row that fails and is not listed fails the test, and a
//! listed row that passes fails it too (so the list stays exact).
//!
//! The USB column and the QEMU name column are checked against `KeyCode::from_hid` and
//! `KeyCode::from_qcode` the same way. Run with `--nocapture` to see the counts.

use std::collections::BTreeSet;

use irqkit_ps2::{Decoder, Event, HidUsage, KeyCode, KeyEvent, ScancodeSet};

struct Row {
    line: usize,
    linux_name: String,
    linux: u16,
    sets: [Option<u16>; 3],
    usb: Option<u16>,
    qcode: Option<String>,
}

fn parse_code(field: &str) -> Option<u16> {
    let hex = field.strip_prefix("0x")?;
    Some(u16::from_str_radix(hex, 16).expect("hex code"))
}

fn rows() -> Vec<Row> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/third_party/keycodemapdb/keymaps.csv"
    );
    let text = std::fs::read_to_string(path).expect("keymaps.csv");
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().expect("header");
    let columns: Vec<&str> = header.split(',').map(|c| c.trim_matches('"')).collect();
    let col = |name: &str| columns.iter().position(|c| *c == name).expect(name);
    let (name, linux, s1, s2, s3, usb, qcode) = (
        col("Linux Name"),
        col("Linux Keycode"),
        col("AT set1 keycode"),
        col("AT set2 keycode"),
        col("AT set3 keycode"),
        col("USB Keycodes"),
        col("QEMU QKeyCode"),
    );
    lines
        .map(|(i, line)| {
            // No field of this table contains a comma, so a plain split is exact.
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), columns.len(), "line {}", i + 1);
            let linux = f[linux];
            let linux =
                parse_code(linux).unwrap_or_else(|| linux.parse().expect("decimal keycode"));
            Row {
                line: i + 1,
                linux_name: f[name].to_string(),
                linux,
                sets: [parse_code(f[s1]), parse_code(f[s2]), parse_code(f[s3])],
                usb: (!f[usb].is_empty()).then(|| f[usb].parse().expect("usb usage")),
                qcode: (!f[qcode].is_empty() && f[qcode] != "unmapped")
                    .then(|| f[qcode].to_string()),
            }
        })
        .collect()
}

/// The wire bytes of a make and a break for a table code.
fn wire(set: ScancodeSet, code: u16) -> (Vec<u8>, Vec<u8>) {
    let low = code as u8;
    let prefix: Vec<u8> = if code > 0xFF {
        vec![(code >> 8) as u8]
    } else {
        vec![]
    };
    let make = [prefix.clone(), vec![low]].concat();
    let brk = match set {
        ScancodeSet::Set1 => [prefix, vec![low | 0x80]].concat(),
        _ => [prefix, vec![0xF0, low]].concat(),
    };
    (make, brk)
}

fn decode(decoder: &mut Decoder, bytes: &[u8]) -> Vec<Event> {
    bytes.iter().flat_map(|&b| decoder.feed(b)).collect()
}

/// What a row decodes to, if it decodes as a proper press and release of one key.
fn decode_row(set: ScancodeSet, code: u16) -> Result<KeyCode, String> {
    let (make, brk) = wire(set, code);
    let mut decoder = Decoder::new(set);
    let pressed = decode(&mut decoder, &make);
    let key = match pressed.as_slice() {
        [Event::Key(KeyEvent {
            code,
            kind: irqkit_ps2::KeyKind::Press,
        })] => *code,
        // Keys with no break code: the make gives the press and the synthesized release.
        [Event::Key(p), Event::Key(r)]
            if *p == KeyEvent::press(p.code) && *r == KeyEvent::release(p.code) =>
        {
            assert!(p.code.is_make_only());
            return Ok(p.code);
        }
        other => return Err(format!("make {make:02X?} gave {other:?}")),
    };
    let released = decode(&mut decoder, &brk);
    if released != [Event::Key(KeyEvent::release(key))] {
        return Err(format!("break {brk:02X?} gave {released:?}"));
    }
    if !decoder.is_idle() || !decoder.held().is_empty() {
        return Err("decoder not back to idle and empty".into());
    }
    Ok(key)
}

/// Rows where the table does not hold wire bytes: (set, Linux keycode, table code, what the
/// decoder gives instead, why).
const EXCEPTIONS: &[(u8, u16, u16, Option<KeyCode>, &str)] = &[
    (1, 84, 0x54, Some(KeyCode::SysRq),
     "0x54 is Alt+Print Screen; Linux leaves keycode 84 unnamed and reports this byte as KEY_SYSRQ (99)"),
    (1, 119, 0xE046, Some(KeyCode::Break),
     "Linux's internal code for Pause; on the wire E0 46 is Ctrl+Pause (Break), Pause itself is E1 1D 45 E1 9D C5"),
    (2, 119, 0xE077, None,
     "Linux's internal code for Pause; on the wire Pause is E1 14 77 E1 F0 14 F0 77, E0 77 is no key"),
    (2, 255, 0xE012, None,
     "E0 12 is the fake left shift around navigation keys: no key, no event"),
    (3, 98, 0x4A, Some(KeyCode::Slash),
     "set 3 0x4A is Slash (the table lists it for both); IBM set 3 and Linux put Keypad / at 0x77"),
    (3, 74, 0x4E, Some(KeyCode::Minus),
     "set 3 0x4E is Minus (the table lists it for both); IBM set 3 and Linux put Keypad - at 0x84"),
    (3, 91, 0x87, Some(KeyCode::KatakanaHiragana),
     "set 3 0x87 is listed for Hiragana and Katakana/Hiragana; Linux's set 3 table maps it to the latter"),
];

#[test]
fn every_scancode_row_decodes_to_its_key() {
    let rows = rows();
    let mut failures = Vec::new();
    let mut exceptions_seen = BTreeSet::new();
    for (index, set) in ScancodeSet::ALL.into_iter().enumerate() {
        let n = set.number();
        let mut row_count = 0;
        let mut ok_rows = 0;
        let mut keys = BTreeSet::new();
        let mut ok_keys = BTreeSet::new();
        for row in &rows {
            let Some(code) = row.sets[index] else {
                continue;
            };
            row_count += 1;
            keys.insert(row.linux);
            let got = decode_row(set, code);
            let exception = EXCEPTIONS
                .iter()
                .find(|e| e.0 == n && e.1 == row.linux && e.2 == code);
            match (exception, got) {
                (None, Ok(key)) if key.to_evdev() == row.linux => {
                    ok_rows += 1;
                    ok_keys.insert(row.linux);
                }
                (None, got) => failures.push(format!(
                    "set {n} line {} {} ({}) code {code:#x}: got {got:?}",
                    row.line, row.linux_name, row.linux
                )),
                (Some(&(_, _, _, expected, why)), got) => {
                    exceptions_seen.insert((n, row.linux));
                    match (expected, got) {
                        (Some(e), Ok(k)) if e == k && k.to_evdev() != row.linux => {}
                        (None, Err(_)) => {}
                        (expected, got) => failures.push(format!(
                            "set {n} line {}: exception ({why}) expected {expected:?}, got {got:?}",
                            row.line
                        )),
                    }
                }
            }
        }
        println!(
            "set {n}: {ok_rows} of {row_count} rows and {} of {} keys decode to the table's key",
            ok_keys.len(),
            keys.len()
        );
    }
    for e in EXCEPTIONS {
        assert!(
            exceptions_seen.contains(&(e.0, e.1)),
            "exception never met: {e:?}"
        );
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_key_with_a_table_code_is_decodable() {
    // The other direction: every code the tables give (after corrections) decodes to its key.
    for set in ScancodeSet::ALL {
        for key in KeyCode::ALL {
            if let Some(code) = key.code_in(set) {
                if key.is_make_only() && set != ScancodeSet::Set3 {
                    continue; // Hangul / Hanja / Break: covered by the sequence tests.
                }
                assert_eq!(decode_row(set, code), Ok(key), "{key:?} in {set}");
            }
        }
    }
}

#[test]
fn usb_column_matches_from_hid() {
    let mut checked = 0;
    let mut private = 0;
    for row in rows() {
        let Some(usb) = row.usb else { continue };
        let Some(expected) = KeyCode::from_evdev(row.linux) else {
            panic!(
                "line {}: {} has a USB usage but no KeyCode",
                row.line, row.linux_name
            )
        };
        if usb >= 0xE8 {
            // 0xE8.. on the keyboard page is reserved: these are Linux usbkbd's private
            // numbers for media keys. We use the real consumer / desktop usages instead.
            private += 1;
            let usage = expected.to_hid();
            let real = usage.page != HidUsage::KEYBOARD_PAGE || usage.id < 0xE8;
            assert!(real, "line {}: {usage}", row.line);
            assert_eq!(
                KeyCode::from_hid(HidUsage::keyboard(usb)),
                None,
                "line {}",
                row.line
            );
            continue;
        }
        checked += 1;
        let got = KeyCode::from_hid(HidUsage::keyboard(usb));
        assert_eq!(
            got.map(KeyCode::to_evdev),
            Some(row.linux),
            "line {} usage {usb:#x}",
            row.line
        );
    }
    println!("USB: {checked} rows match from_hid; {private} rows use Linux-private numbers 0xE8..");
    assert!(checked > 150);
}

#[test]
fn qemu_names_match_from_qcode() {
    let mut checked = 0;
    for row in rows() {
        let Some(name) = row.qcode else { continue };
        let key = KeyCode::from_qcode(&name).unwrap_or_else(|| panic!("line {}: {name}", row.line));
        assert_eq!(key.to_evdev(), row.linux, "line {}: {name}", row.line);
        checked += 1;
    }
    println!("QEMU: {checked} rows match from_qcode");
    assert!(checked > 150);
}
