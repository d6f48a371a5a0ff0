//! The demo as a person uses it: `irqkit-qemu demo` (what `cargo xtask demo` runs) in a tmux
//! session typed on with `tmux send-keys` and read with `capture-pane`, and in script mode.
//! Ignored by plain `cargo test` (QEMU and tmux may be missing); `cargo xtask test` runs them
//! with `cargo test -p irqkit-qemu-tests -- --ignored --test-threads=2`.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use irqkit_ps2::layout::AnyLayout;
use irqkit_ps2::{KeyCode, ScancodeSet};
use irqkit_qemu_tests::demo::Typist;
use irqkit_qemu_tests::{demo_disk, Error, KeyEvent, LineMatch, Outcome, Qemu};

/// How long a screen may take to show what is waited for (QEMU boots in well under a second;
/// the margin is for a machine loaded by parallel builds).
const SCREEN_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `irqkit-qemu demo ARGS` without a terminal (stdin null, output captured).
fn demo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_irqkit-qemu"))
        .arg("demo")
        .args(args)
        .env("IRQKIT_KERNEL_TARGET_DIR", kernel_target_dir())
        .stdin(Stdio::null())
        .output()
        .expect("irqkit-qemu starts")
}

/// The kernel's target dir, built once by this process (so a build error shows here).
fn kernel_target_dir() -> std::path::PathBuf {
    irqkit_qemu_tests::kernel_image().unwrap_or_else(|e| panic!("{e}"));
    irqkit_qemu_tests::kernel_target_dir()
}

/// The transcript of a successful script run.
fn transcript(output: &Output) -> Vec<String> {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "irqkit-qemu demo failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stderr.contains("the demo kernel powered off after the script"),
        "{stderr}"
    );
    stdout.lines().map(str::to_owned).collect()
}

fn has(lines: &[String], wanted: &str) -> bool {
    lines.iter().any(|line| line == wanted)
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn script_mode_types_commands_through_the_keyboard_path() {
    let lines = transcript(&demo(&[
        "--script",
        "help; layout; leds caps; leds off; nosuch thing; stats",
    ]));
    for wanted in [
        "irqkit> help",
        "  keys                 raw bytes and decoded events of each key (Esc leaves)",
        "irqkit> layout",
        "layout: us (available: us us-intl uk de fr dvorak colemak jp)",
        "irqkit> leds caps",
        "leds: caps on, num off, scroll off",
        "leds: keyboard command ed 04 -> ack",
        // Caps Lock is on: the next command is typed in capitals, and still understood.
        "irqkit> LEDS OFF",
        "leds: keyboard command ed 00 -> ack",
        "irqkit> nosuch thing",
        "nosuch: unknown command (type help for the list)",
        "irqkit> stats",
        "irqkit> exit",
        "TEST PASSED: demo",
    ] {
        assert!(has(&lines, wanted), "no {wanted:?} in {lines:#?}");
    }
    // The protocol lines stay out of the transcript.
    assert!(!lines.iter().any(|l| l == "READY" || l.starts_with("echo ")));
    let queue = lines
        .iter()
        .find(|line| line.starts_with("keyboard queue: "))
        .expect("stats prints the queue");
    assert!(queue.contains(" 0 overruns "), "{queue}");
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn script_mode_in_raw_set_2_on_the_german_layout() {
    // `z` and `y` swap places on the German layout, `ä` has its own key, and `@` is AltGr+Q:
    // the host types them on that layout and the kernel decodes raw set 2 bytes.
    let lines = transcript(&demo(&[
        "--set",
        "2",
        "--layout",
        "de",
        "--script",
        "zy ä @; layout us; zy",
    ]));
    assert!(has(&lines, "Keyboard: raw set 2, layout de."), "{lines:#?}");
    assert!(has(&lines, "irqkit> zy ä @"), "{lines:#?}");
    assert!(has(&lines, "layout: now us"), "{lines:#?}");
    assert!(has(&lines, "irqkit> zy"), "{lines:#?}");
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn script_mode_types_shift_altgr_and_dead_keys_in_two_layouts() {
    // German: umlauts and ß have keys, @ € { } ~ need AltGr, é È ê need the dead keys ´ ` ^
    // (È with Shift on the base key). French (AZERTY): é è à ç ù have keys, ê and ë need the
    // dead ^ and ¨ (Shift+^), @ and € need AltGr.
    let german = "Grüße aus Köln: é È ê @ € {x} ~";
    let french = "déjà vu, ça: è ù ê ë @ €";
    let lines = transcript(&demo(&[
        "--layout",
        "de",
        "--script",
        &format!("{german}; layout fr; {french}"),
    ]));
    for wanted in [
        format!("irqkit> {german}"),
        "layout: now fr".to_owned(),
        format!("irqkit> {french}"),
    ] {
        assert!(has(&lines, &wanted), "no {wanted:?} in {lines:#?}");
    }
}

/// How long a key QEMU sends nothing for is waited for.
const SILENT_KEY: Duration = Duration::from_secs(3);

/// Boots the demo in script mode (`set 2` when asked), types `keys`, then taps every key
/// irqkit-ps2 knows a QEMU QKeyCode and a scancode in the host's set for, and checks the
/// kernel's line for each press: the Linux keycode of the table (keymaps.csv, from which
/// irqkit-ps2's key table is generated). The QKeyCodes this QEMU sends nothing for are
/// pinned (`expected_silent`), so a change in QEMU or in the key table shows up; those it
/// does not know at all (newer than it) are skipped.
fn every_key_reports_its_linux_keycode(set: ScancodeSet, expected_silent: &[&str]) {
    let mut qemu = Qemu::new("demo")
        .kernel_arg("idle=none")
        .kernel_arg("echo=serial")
        .timeout(Duration::from_secs(600));
    if set == ScancodeSet::Set2 {
        qemu = qemu.kernel_arg("set=2");
    }
    let mut running = qemu.spawn().unwrap_or_else(|e| panic!("{e}"));
    let step = Duration::from_secs(30);
    running
        .wait_for_line("READY", step)
        .unwrap_or_else(|e| panic!("{e}"));
    let typist = Typist::new(AnyLayout::Us);
    for c in "keys".chars() {
        running.send_events(&typist.events(c).unwrap()).unwrap();
        running
            .wait_for_line(LineMatch::prefix("echo "), step)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    running.send_keys(&["ret"]).unwrap();
    running
        .wait_for_line(LineMatch::contains("Esc leaves."), step)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut checked = 0;
    let mut renamed = Vec::new();
    let mut silent = Vec::new();
    let mut unknown = Vec::new();
    for key in KeyCode::ALL {
        let Some(qcode) = key.to_qcode() else {
            continue;
        };
        if key == KeyCode::Escape || key.code_in(set).is_none() {
            continue;
        }
        let serial_len = running.serial().len();
        let tap = [
            KeyEvent::press(qcode).unwrap(),
            KeyEvent::release(qcode).unwrap(),
        ];
        match running.send_events(&tap) {
            Ok(()) => {}
            // A QKeyCode newer than this QEMU (keymaps.csv follows QEMU's latest list).
            Err(error) if error.to_string().contains("does not accept value") => {
                unknown.push(qcode);
                continue;
            }
            Err(error) => panic!("QEMU key {qcode:?}: {error}"),
        }
        // QEMU's PS/2 keyboard has no scancode for a few QKeyCodes and sends nothing.
        let line = match running.wait_for_line(LineMatch::contains("KEY press "), SILENT_KEY) {
            Ok(line) => line,
            Err(Error::Timeout { serial, .. }) => {
                // Whatever the kernel showed for it instead (an UNKNOWN or RESPONSE line).
                let shown = serial[serial_len..]
                    .iter()
                    .find(|line| !line.contains("KEY "))
                    .map(|line| line.trim().to_owned());
                silent.push(match shown {
                    Some(line) => format!("{qcode}: {line}"),
                    None => qcode.to_owned(),
                });
                continue;
            }
            Err(error) => panic!("QEMU key {qcode:?}: {error}"),
        };
        let evdev = format!("(Linux keycode {})", key.to_evdev());
        assert!(
            line.ends_with(&evdev),
            "QEMU key {qcode:?} ({key}): expected {evdev}, the kernel reported {line:?}"
        );
        if !line.contains(&format!("KEY press {key} ")) {
            // QEMU sends some keys as another with the same Linux code (sysrq as Print).
            renamed.push(format!("{qcode} -> {}", line.trim()));
        }
        if !key.is_make_only() {
            // The release arrived too: QEMU's 16-byte queue never fills.
            running
                .wait_for_line(LineMatch::contains("KEY release "), step)
                .unwrap_or_else(|e| panic!("QEMU key {qcode:?}: {e}"));
        }
        checked += 1;
    }
    running.send_keys(&["esc"]).unwrap();
    running
        .wait_for_line("keys: done.", step)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(checked > 100, "only {checked} keys checked");
    assert!(
        renamed.len() <= 2,
        "keys QEMU sends as others: {renamed:#?}"
    );
    eprintln!("QKeyCodes this QEMU refuses: {unknown:?}");
    assert_eq!(silent, expected_silent, "QKeyCodes QEMU sends nothing for");
    for c in "exit".chars() {
        running.send_events(&typist.events(c).unwrap()).unwrap();
        running
            .wait_for_line(LineMatch::prefix("echo "), step)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    running.send_keys(&["ret"]).unwrap();
    let outcome = running
        .wait()
        .and_then(Outcome::expect_success)
        .unwrap_or_else(|e| panic!("{e}"));
    let stats = outcome
        .line(LineMatch::prefix("demo stats "))
        .expect("the kernel's last counters");
    assert!(stats.contains(" overruns=0 "), "{stats}");
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn every_key_reports_its_linux_keycode_in_translated_set_1() {
    // QEMU 7.2's keyboard sends no byte at all for these in translated set 1.
    every_key_reports_its_linux_keycode(
        ScancodeSet::Set1,
        &[
            "lf", "lang1", "lang2", "again", "props", "undo", "front", "copy", "open", "paste",
            "find", "cut", "help", "menu",
        ],
    );
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn every_key_reports_its_linux_keycode_in_raw_set_2() {
    // QEMU 7.2's keyboard sends no byte for Hangul/Hanja in raw set 2.
    every_key_reports_its_linux_keycode(ScancodeSet::Set2, &["lang1", "lang2"]);
}

/// Types `text` (US layout) over QMP, each character after the kernel acknowledged the
/// previous one.
fn type_and_wait(running: &mut irqkit_qemu_tests::Running, text: &str) {
    let typist = Typist::new(AnyLayout::Us);
    for c in text.chars() {
        running.send_events(&typist.events(c).unwrap()).unwrap();
        running
            .wait_for_line(LineMatch::prefix("echo "), Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The number before `label` in a line like `keyboard queue: 12 bytes in, 12 events, ...`.
fn count_before(line: &str, label: &str) -> u64 {
    let end = line
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in {line:?}"));
    line[..end]
        .trim_end()
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("no number before {label:?} in {line:?}"))
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn a_key_storm_loses_nothing_in_the_guest_that_the_counters_do_not_account_for() {
    // Thousands of Shift taps, one QMP command each, as fast as QMP answers. QEMU 7.2's PS/2
    // keyboard holds 16 bytes and drops what does not fit before any guest code sees it (so
    // the guest may read fewer bytes than were sent); of what reaches the IRQ 1 top half,
    // every byte is decoded or counted as an overrun of the 64-byte queue.
    const TAPS: u64 = 2000;
    let mut running = Qemu::new("demo")
        .kernel_arg("idle=none")
        .kernel_arg("echo=serial")
        .timeout(Duration::from_secs(300))
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    running
        .wait_for_line("READY", Duration::from_secs(60))
        .unwrap_or_else(|e| panic!("{e}"));
    let tap = [
        KeyEvent::press("shift").unwrap(),
        KeyEvent::release("shift").unwrap(),
    ];
    for _ in 0..TAPS {
        running.send_events(&tap).unwrap();
    }
    // Enter (an empty line: a new prompt) once QEMU has room again: the prompt means the
    // guest has read everything sent before it.
    let mut enters = 0u64;
    loop {
        running.send_keys(&["ret"]).unwrap();
        enters += 1;
        match running.wait_for_line("READY", Duration::from_secs(3)) {
            Ok(_) => break,
            Err(Error::Timeout { .. }) if enters < 10 => {}
            Err(error) => panic!("no prompt after the storm: {error}"),
        }
    }
    type_and_wait(&mut running, "stats");
    // Enter's press alone: its release would race the counters.
    running.press("ret").unwrap();
    let line = running
        .wait_for_line(
            LineMatch::prefix("keyboard queue: "),
            Duration::from_secs(60),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let bytes = count_before(&line, "bytes in");
    let events = count_before(&line, "events");
    let overruns = count_before(&line, "overruns");
    // Set 1: one byte per press and per release.
    let sent = 2 * TAPS + 2 * enters + 2 * "stats".len() as u64 + 1;
    eprintln!("key storm: {sent} bytes sent; {line}");
    assert!(bytes <= sent, "more bytes read than sent: {line}");
    assert!(
        bytes > sent / 2,
        "most of the storm reaches the guest: {line}"
    );
    assert_eq!(
        events + overruns,
        bytes,
        "every byte read is an event or a counted overrun: {line}"
    );
    running.release("ret").unwrap();
    running
        .wait_for_line("READY", Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{e}"));
    type_and_wait(&mut running, "exit");
    running.send_keys(&["ret"]).unwrap();
    running
        .wait()
        .and_then(Outcome::expect_success)
        .unwrap_or_else(|e| panic!("{e}"));
}

/// A fresh default disk image in a temporary file (removed on drop).
struct ImageFile {
    path: std::path::PathBuf,
}

impl ImageFile {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "irqkit-demo-test-{}-{name}.img",
            std::process::id()
        ));
        std::fs::write(&path, demo_disk::default_image()).expect("writing the image");
        Self { path }
    }

    fn bytes(&self) -> Vec<u8> {
        std::fs::read(&self.path).expect("reading the image back")
    }

    fn arg(&self) -> &str {
        self.path.to_str().expect("a UTF-8 temp path")
    }
}

impl Drop for ImageFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn script_mode_disk_commands_change_the_image_as_the_host_sees_it() {
    let image = ImageFile::new("write");
    let lines = transcript(&demo(&[
        "--disk",
        image.arg(),
        "--write",
        "--script",
        "disk; read 0; write 5 hello; flush; read 5; ls; cat README.TXT; \
         write-file NOTES.TXT hi; bench; stats; read 9999999; cat NOPE.TXT",
    ]));
    let has_prefix = |prefix: &str| lines.iter().any(|line| line.starts_with(prefix));
    for wanted in [
        "disk: \"QEMU HARDDISK\" serial \"QM00001\"",
        "  capacity: 8192 sectors of 512 bytes (4096 KiB)",
        "  cache: write cache on",
        // The MBR's partition entry and signature, as the hex dump shows them.
        "01c0  ff ff 0e fe ff ff 40 00 00 00 c0 1f 00 00 00 00  ......@.........",
        "01f0  00 00 00 00 00 00 00 00 00 00 00 00 00 00 55 aa  ..............U.",
        "write: LBA 5 <- 5 bytes",
        "flush: the drive's write cache is on the medium",
        "0000  68 65 6c 6c 6f 00 00 00 00 00 00 00 00 00 00 00  hello...........",
        "  README.TXT",
        "Welcome to the irqkit demo disk.",
        "write-file: NOTES.TXT: 3 bytes written and flushed",
        "bench: PIO ",
        "bench: DMA ",
        "interrupts: irq0 timer",
        "read: LBA 9999999 is past the end of the disk (8192 sectors)",
        "cat: NOPE.TXT: no such file or directory",
    ] {
        assert!(
            has_prefix(wanted),
            "no line starting {wanted:?} in {lines:#?}"
        );
    }
    // The bench reports both rates and cycles per sector (numbers vary; only their presence
    // is checked).
    for method in ["PIO", "DMA"] {
        let line = lines
            .iter()
            .find(|line| line.starts_with(&format!("bench: {method}")))
            .unwrap();
        assert!(
            line.contains(" MB/s, ") && line.ends_with(" cycles per sector"),
            "{line}"
        );
    }
    // DMA completions came by IRQ 14.
    let interrupts = lines
        .iter()
        .find(|line| line.starts_with("interrupts: "))
        .unwrap();
    let irq14: u32 = interrupts
        .split("irq14 disk ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no IRQ 14 count in {interrupts:?}"));
    assert!(irq14 >= 3, "{interrupts}");

    // The host sees the kernel's writes in the image.
    let bytes = image.bytes();
    let sector5 = &bytes[5 * 512..6 * 512];
    assert_eq!(&sector5[..5], b"hello");
    assert!(sector5[5..].iter().all(|&b| b == 0));
    assert_eq!(
        demo_disk::read_file(&bytes, "NOTES.TXT").expect("NOTES.TXT readable on the host"),
        b"hi\n"
    );
    assert_eq!(
        demo_disk::read_file(&bytes, "README.TXT").unwrap(),
        demo_disk::README.as_bytes()
    );
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn bad_disk_commands_get_one_line_each_and_the_shell_goes_on() {
    let cases = [
        ("read 0 0", "read: N must be 1 to 4 sectors"),
        (
            "read 8191 4",
            "read: LBA 8191 + 4 sectors runs past the end of the disk (8192 sectors)",
        ),
        (
            "read 18446744073709551615",
            "read: LBA 18446744073709551615 is past the end of the disk (8192 sectors)",
        ),
        ("read -1", "read: LBA \"-1\" is not a number"),
        (
            "read 99999999999999999999",
            "read: LBA \"99999999999999999999\" is not a number",
        ),
        (
            "write 5",
            "write: usage: write LBA TEXT (the text is missing)",
        ),
        (
            "write 8192 x",
            "write: LBA 8192 is past the end of the disk (8192 sectors)",
        ),
        (
            "write-file TOOLONGNAME.TXT x",
            "write-file: TOOLONGNAME.TXT: not an 8.3 name (like NOTES.TXT)",
        ),
        (
            "write-file NO/X.TXT x",
            "write-file: NO/X.TXT: no such file or directory",
        ),
        ("cat DOCS", "cat: DOCS: is a directory"),
        ("ls README.TXT", "ls: /README.TXT: is not a directory"),
        ("cat", "cat: usage: cat FILE"),
    ];
    let script: Vec<&str> = cases.iter().map(|(command, _)| *command).collect();
    let lines = transcript(&demo(&["--script", &script.join("; ")]));
    for (command, answer) in cases {
        let at = lines
            .iter()
            .position(|line| *line == format!("irqkit> {command}"))
            .unwrap_or_else(|| panic!("{command:?} not typed: {lines:#?}"));
        assert_eq!(lines[at + 1], answer, "{command}");
        assert!(
            lines[at + 2].starts_with("irqkit> "),
            "{command}: more than one line: {lines:#?}"
        );
    }
}

#[test]
#[ignore = "needs QEMU: run by cargo xtask test"]
fn without_write_the_disk_image_is_never_modified() {
    let image = ImageFile::new("readonly");
    let before = image.bytes();
    let lines = transcript(&demo(&[
        "--disk",
        image.arg(),
        "--script",
        "write 5 hello; flush; write-file NOTES.TXT hi; read 5; ls",
    ]));
    // The kernel saw its own writes (QEMU keeps them in a temporary overlay)...
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("0000  68 65 6c 6c 6f")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|line| line.starts_with("  NOTES.TXT")),
        "{lines:#?}"
    );
    // ...and the file did not change.
    assert!(image.bytes() == before, "the image changed without --write");
}

#[test]
fn bad_options_are_one_clear_error() {
    for (args, expected) in [
        (&["--frobnicate"][..], "unknown option \"--frobnicate\""),
        (&["--layout", "klingon"][..], "unknown layout"),
        (&["--write"][..], "--write needs --disk PATH"),
        (&["--set", "3"][..], "only 2"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_irqkit-qemu"))
            .arg("demo")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("irqkit-qemu starts");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    // A missing image is reported before the kernel is built or QEMU started.
    let missing = Command::new(env!("CARGO_BIN_EXE_irqkit-qemu"))
        .args(["demo", "--disk", "/nonexistent/demo.img", "--script", "ls"])
        .stdin(Stdio::null())
        .output()
        .expect("irqkit-qemu starts");
    assert_eq!(missing.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("--disk /nonexistent/demo.img: No such file"),
        "{stderr}"
    );
    assert!(!stderr.contains("building the kernel"), "{stderr}");
    let help = Command::new(env!("CARGO_BIN_EXE_irqkit-qemu"))
        .args(["demo", "--help"])
        .output()
        .expect("irqkit-qemu starts");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for option in [
        "--script",
        "--disk",
        "--write",
        "--layout",
        "--set 2",
        "--timeout",
        "--help",
    ] {
        assert!(text.contains(option), "{option} missing from:\n{text}");
    }
}

/// A private tmux server (its own socket file) holding one detached session; dropping it
/// kills the server and removes the socket.
struct Tmux {
    socket: std::path::PathBuf,
}

impl Tmux {
    /// Starts `command` in a detached 80x30 session.
    fn start(name: &str, command: &str) -> Self {
        let socket = std::env::temp_dir().join(format!(
            "irqkit-demo-test-{}-{name}.tmux",
            std::process::id()
        ));
        let tmux = Self { socket };
        let status = tmux
            .command()
            .args(["new-session", "-d", "-s", "demo", "-x", "80", "-y", "30"])
            .arg(command)
            .status()
            .expect("tmux runs (cargo xtask setup installs it: apt-get install tmux)");
        assert!(status.success(), "tmux new-session failed");
        tmux
    }

    fn command(&self) -> Command {
        let mut command = Command::new("tmux");
        // UTF-8 whatever the caller's locale: the German test types ä and ß, and QEMU's
        // curses display reads the terminal's characters through the locale.
        command
            .arg("-u")
            .arg("-S")
            .arg(&self.socket)
            .env("LANG", "C.UTF-8")
            .env_remove("LC_ALL")
            .env_remove("LC_CTYPE");
        command
    }

    /// `tmux send-keys` (key names as tmux spells them: `Enter`, `BSpace`, `C-c`, `M-2`).
    fn send(&self, keys: &[&str]) {
        let status = self
            .command()
            .args(["send-keys", "-t", "demo"])
            .args(keys)
            .status()
            .expect("tmux send-keys");
        assert!(status.success(), "tmux send-keys {keys:?}");
    }

    /// Types literal text (no key-name lookup).
    fn type_text(&self, text: &str) {
        let status = self
            .command()
            .args(["send-keys", "-t", "demo", "-l", text])
            .status()
            .expect("tmux send-keys");
        assert!(status.success(), "tmux send-keys -l {text:?}");
    }

    fn screen(&self) -> String {
        let output = self
            .command()
            .args(["capture-pane", "-p", "-t", "demo"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Polls the screen until `done` holds, failing with the last screen at the deadline.
    fn wait_until(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + SCREEN_TIMEOUT;
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            // The demo ended (its status is on the screen): waiting longer cannot help.
            assert!(
                !screen.contains("DEMO-EXIT="),
                "the demo ended before {what} showed:\n{screen}"
            );
            assert!(
                Instant::now() < deadline,
                "no {what} on the screen within {SCREEN_TIMEOUT:?}:\n{screen}"
            );
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?}"), |screen| screen.contains(text))
    }

    /// Waits until `text` shows up `count` times.
    fn wait_for_count(&self, text: &str, count: usize) -> String {
        self.wait_until(&format!("{count} x {text:?}"), |screen| {
            screen.matches(text).count() >= count
        })
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Ends this test's own server and with it QEMU, if the test failed half-way.
        let _ = self.command().arg("kill-server").status();
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// The shell command that runs the demo in tmux and then shows its exit status.
fn demo_in_tmux_command(args: &str) -> String {
    let binary = Path::new(env!("CARGO_BIN_EXE_irqkit-qemu"));
    format!(
        "env IRQKIT_KERNEL_TARGET_DIR='{}' '{}' demo {args}; echo DEMO-EXIT=$?; sleep 600",
        kernel_target_dir().display(),
        binary.display()
    )
}

#[test]
#[ignore = "needs QEMU and tmux: run by cargo xtask test"]
fn a_person_types_in_the_terminal_session() {
    let tmux = Tmux::start("typing", &demo_in_tmux_command(""));
    let screen = tmux.wait_for("irqkit>");
    assert!(
        screen.contains("To leave: type exit, or press Alt+2"),
        "{screen}"
    );
    assert!(
        screen.contains("irqkit demo | us, set 1 | keys"),
        "{screen}"
    );

    tmux.type_text("help");
    tmux.send(&["Enter"]);
    tmux.wait_for("  exit                 power off");

    // The default disk: IDENTIFY, the FAT volume's root, a file.
    tmux.type_text("disk");
    tmux.send(&["Enter"]);
    tmux.wait_for("disk: \"QEMU HARDDISK\"");
    tmux.type_text("ls");
    tmux.send(&["Enter"]);
    tmux.wait_for("ls: 3 entries in /");
    tmux.type_text("cat README.TXT");
    tmux.send(&["Enter"]);
    tmux.wait_for("Welcome to the irqkit demo disk.");
    tmux.type_text("clear");
    tmux.send(&["Enter"]);
    tmux.wait_until("a cleared screen", |screen| {
        !screen.contains("Welcome to the irqkit demo disk.")
    });

    // A line edited before Enter: a typo erased with Backspace, a letter inserted after
    // moving left, Home and End.
    tmux.type_text("statx");
    tmux.send(&["BSpace"]);
    tmux.type_text("s");
    tmux.send(&["Home", "Delete", "End", "Left", "Left", "Left", "Left"]);
    tmux.type_text("s");
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for("interrupts: irq0 timer");
    assert!(screen.contains("irqkit> stats\n"), "{screen}");

    // History: Up brings `stats` back.
    tmux.send(&["Up", "Enter"]);
    tmux.wait_for_count("interrupts: irq0 timer", 2);

    // Ctrl+C drops the line.
    tmux.type_text("garbage");
    tmux.send(&["C-c"]);
    tmux.wait_for("irqkit> garbage^C");

    // keys: raw bytes and events; Escape leaves.
    tmux.type_text("keys");
    tmux.send(&["Enter"]);
    tmux.wait_for("Esc leaves.");
    tmux.type_text("a");
    tmux.wait_for("KEY press A (Linux keycode 30)");
    tmux.send(&["Escape"]);
    tmux.wait_for("keys: done.");

    tmux.type_text("exit");
    tmux.send(&["Enter"]);
    tmux.wait_for("DEMO-EXIT=0");
}

#[test]
#[ignore = "needs QEMU and tmux: run by cargo xtask test"]
fn a_person_types_on_the_german_layout_in_the_terminal_session() {
    // QEMU's curses display maps the terminal's characters to key positions with its `de`
    // keymap, and the kernel decodes them with irqkit-ps2's German layout.
    let tmux = Tmux::start("german", &demo_in_tmux_command("--layout de"));
    tmux.wait_for("irqkit>");
    tmux.type_text("zy @ ä ß {x}");
    tmux.send(&["Enter"]);
    tmux.wait_for("zy: unknown command");
    let screen = tmux.screen();
    assert!(screen.contains("irqkit> zy @ ä ß {x}"), "{screen}");
    assert!(screen.contains("irqkit demo | de, set 1 |"), "{screen}");
    tmux.type_text("exit");
    tmux.send(&["Enter"]);
    tmux.wait_for("DEMO-EXIT=0");
}

#[test]
#[ignore = "needs QEMU and tmux: run by cargo xtask test"]
fn a_person_leaves_through_the_qemu_monitor_as_the_banner_says() {
    let tmux = Tmux::start("monitor", &demo_in_tmux_command(""));
    tmux.wait_for("irqkit>");
    // Alt+2: what the terminal sends is Esc 2.
    tmux.send(&["M-2"]);
    tmux.wait_for("(qemu)");
    tmux.type_text("quit");
    tmux.send(&["Enter"]);
    tmux.wait_for("DEMO-EXIT=0");
}
