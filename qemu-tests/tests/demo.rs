//! The demo as a person uses it: `irqkit-qemu demo` (what `cargo xtask demo` runs) in a tmux
//! session typed on with `tmux send-keys` and read with `capture-pane`, and in script mode.
//! Ignored by plain `cargo test` (QEMU and tmux may be missing); `cargo xtask test` runs them
//! with `cargo test -p irqkit-qemu-tests -- --ignored --test-threads=2`.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

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

/// A private tmux server (its own socket) holding one detached session, killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` in a detached 80x30 session.
    fn start(name: &str, command: &str) -> Self {
        let socket = format!("irqkit-demo-test-{}-{name}", std::process::id());
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
        command.args(["-L", &self.socket]);
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
    assert!(screen.contains("irqkit demo | us set 1 | keys"), "{screen}");

    tmux.type_text("help");
    tmux.send(&["Enter"]);
    tmux.wait_for("  exit                 power off");

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
