//! `irqkit-qemu demo`: the demo kernel's shell, on the terminal or driven by a script.
//!
//! - In a terminal (stdin and stdout are terminals, no `--script`): QEMU shows the kernel's
//!   VGA console with `-display curses` and turns the terminal's keys into PS/2 scancodes;
//!   serial goes to a file, so it does not mess up the screen.
//! - Otherwise: each command of the script is typed over QMP on the emulated keyboard (the
//!   real IRQ 1 path), one character at a time once the kernel acknowledged the previous one,
//!   each command after the prompt appeared on serial; the serial transcript is printed and
//!   the run ends with the kernel's status.
//!
//! ```no_run
//! use irqkit_qemu_tests::demo::{run_script, DemoOptions};
//!
//! let options = DemoOptions::parse(&["--script".into(), "help; stats".into()]).unwrap();
//! let outcome = run_script(&options, &mut std::io::stdout()).unwrap();
//! assert!(outcome.success);
//! ```

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use irqkit_ps2::keyboard::{DecodedKey, Keyboard, Pending};
use irqkit_ps2::layout::{AnyLayout, Layout};
use irqkit_ps2::{KeyCode, KeyEvent as Ps2KeyEvent};

use crate::command::{drive_option, kernel_command_line, qemu_program, QemuArgs};
use crate::error::Error;
use crate::kernel::kernel_image;
use crate::outcome::{ExitKind, SUCCESS_STATUS};
use crate::qmp::{input_send_event_command, KeyEvent, QmpClient};
use crate::serial::{LineLog, LineMatch, WaitError};
use crate::tempdir::TempDir;

/// The `--help` text of `irqkit-qemu demo` (and `cargo xtask demo`).
pub const USAGE: &str = "\
usage: cargo xtask demo [OPTIONS]      (or: irqkit-qemu demo [OPTIONS])

Boots the irqkit demo kernel under QEMU: a shell on the emulated PS/2 keyboard and the VGA
text console. In a terminal you type on it (QEMU's curses display); leave with `exit`, or
press Alt+2 (QEMU's monitor; a terminal sends Esc 2) and type `quit`.
Without a terminal, or with --script, the commands are typed over QMP through the same
keyboard path, the serial transcript is printed, and the exit status is the kernel's
(0 only when it powered off cleanly after `exit`).

options:
  --script \"CMD; CMD; ...\"  type these commands, print the transcript, exit (`exit` is
                           appended when missing); default without a terminal:
                           \"help; stats\"
  --disk PATH              attach this raw image as the IDE primary master (default: a
                           fresh FAT image made on the host, holding README.TXT)
  --write                  let the kernel write to --disk PATH (without it, writes go to a
                           temporary overlay and PATH is never modified)
  --layout NAME            the kernel's keyboard layout: us us-intl uk de fr dvorak
                           colemak jp; script text is typed on it, and in a terminal
                           QEMU maps your characters with its keymap of the same name
                           (none for dvorak and colemak: keys go by US position)
  --set 2                  the keyboard in raw scancode set 2, i8042 translation off
                           (default: translated set 1)
  --timeout SECONDS        end the run (QEMU killed) after this long (default: none in a
                           terminal, 120 s for a script)
  --help                   this text";

/// Longest command a script may type (the kernel's line editor holds 68 characters).
pub const MAX_COMMAND_CHARS: usize = 68;
/// How long the kernel may take to acknowledge one typed character or show the prompt.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// A script run's deadline unless `--timeout` sets another.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);
/// How long QMP may take to connect and answer.
const QMP_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the exit of QEMU is polled.
const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// The script run without a terminal when none is given.
pub const DEFAULT_SCRIPT: &str = "help; stats";

/// What `irqkit-qemu demo` was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoOptions {
    /// The commands to type (`--script`), already split; `None` for the terminal session.
    pub script: Option<Vec<String>>,
    /// `--disk PATH`.
    pub disk: Option<PathBuf>,
    /// `--write`.
    pub write: bool,
    /// `--layout NAME`.
    pub layout: AnyLayout,
    /// `--set 2`.
    pub raw_set2: bool,
    /// `--timeout SECONDS`.
    pub timeout: Option<Duration>,
    /// `--help`.
    pub help: bool,
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self {
            script: None,
            disk: None,
            write: false,
            layout: AnyLayout::Us,
            raw_set2: false,
            timeout: None,
            help: false,
        }
    }
}

/// Splits a script at `;` into trimmed, non-empty commands, with `exit` appended when the
/// last command is not `exit`.
pub fn split_script(script: &str) -> Vec<String> {
    let mut commands: Vec<String> = script
        .split(';')
        .map(str::trim)
        .filter(|command| !command.is_empty())
        .map(str::to_owned)
        .collect();
    if commands.last().map(String::as_str) != Some("exit") {
        commands.push("exit".into());
    }
    commands
}

impl DemoOptions {
    /// Parses the arguments after `demo`.
    ///
    /// # Errors
    ///
    /// A message naming the bad argument: an unknown option, a missing or bad value,
    /// `--write` without `--disk`, a script command that is too long or holds a character the
    /// layout cannot type.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self::default();
        let mut script = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str, what: &str| {
                args.next()
                    .cloned()
                    .ok_or_else(|| format!("{name} needs {what}"))
            };
            match arg.as_str() {
                "--help" | "-h" => options.help = true,
                "--script" => {
                    script = Some(value("--script", "the commands, e.g. \"help; stats\"")?)
                }
                "--disk" => {
                    options.disk = Some(PathBuf::from(value("--disk", "a raw image path")?))
                }
                "--write" => options.write = true,
                "--layout" => {
                    let name = value("--layout", "a layout name")?;
                    options.layout = AnyLayout::from_name(&name).ok_or_else(|| {
                        format!(
                            "--layout {name:?}: unknown layout (known: {})",
                            layout_names()
                        )
                    })?;
                }
                "--set" => match value("--set", "a scancode set (2)")?.as_str() {
                    "2" => options.raw_set2 = true,
                    "1" => options.raw_set2 = false,
                    other => {
                        return Err(format!(
                            "--set {other:?}: only 2 (raw set 2, translation off) or 1 (the \
                             default, translated)"
                        ))
                    }
                },
                "--timeout" => {
                    let text = value("--timeout", "a number of seconds")?;
                    let seconds: f64 = text
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s > 0.0)
                        .ok_or_else(|| format!("--timeout {text:?} is not a positive number"))?;
                    options.timeout = Some(Duration::from_secs_f64(seconds));
                }
                other if other.starts_with('-') => {
                    return Err(format!("unknown option {other:?} (see --help)"))
                }
                other => return Err(format!("unexpected argument {other:?} (see --help)")),
            }
        }
        if options.write && options.disk.is_none() {
            return Err("--write needs --disk PATH (the default image is temporary anyway)".into());
        }
        if let Some(script) = script {
            let commands = split_script(&script);
            check_script(&commands, options.layout)?;
            options.script = Some(commands);
        }
        Ok(options)
    }

    /// The kernel command line words after `test=demo`.
    pub fn kernel_args(&self, script: bool) -> Vec<String> {
        let mut words = vec![format!("layout={}", self.layout.name()), "idle=none".into()];
        if self.raw_set2 {
            words.push("set=2".into());
        }
        if script {
            words.push("echo=serial".into());
        }
        words
    }
}

/// The layout a command switches the kernel to (`layout NAME` with a known name).
fn layout_switch(command: &str) -> Option<AnyLayout> {
    match command.split_ascii_whitespace().collect::<Vec<_>>()[..] {
        [word, name] if word.eq_ignore_ascii_case("layout") => AnyLayout::from_name(name),
        _ => None,
    }
}

/// Checks that every command can be typed on the layout in effect when it is typed (a
/// `layout NAME` command switches it for the commands after it).
fn check_script(commands: &[String], mut layout: AnyLayout) -> Result<(), String> {
    let mut typist = Typist::new(layout);
    for command in commands {
        typist.check(command)?;
        if let Some(next) = layout_switch(command).filter(|next| *next != layout) {
            layout = next;
            typist = Typist::new(layout);
        }
    }
    Ok(())
}

fn layout_names() -> String {
    AnyLayout::ALL
        .iter()
        .map(|layout| layout.name())
        .collect::<Vec<_>>()
        .join(" ")
}

/// One keystroke: modifiers held (QKeyCodes) around a key tapped.
type Stroke = (Vec<&'static str>, &'static str);

/// Types text on a layout: for each character, the keystrokes that type it (one, or a dead
/// key and then a base key), found by asking irqkit-ps2's own layout what each key types.
#[derive(Debug, Clone)]
pub struct Typist {
    layout: AnyLayout,
    keys: HashMap<char, Vec<Stroke>>,
}

/// The modifier sets tried, fewest first.
const MODIFIER_SETS: [&[KeyCode]; 4] = [
    &[],
    &[KeyCode::LeftShift],
    &[KeyCode::RightAlt],
    &[KeyCode::LeftShift, KeyCode::RightAlt],
];

/// Presses `modifiers`, taps `key`, releases `modifiers`; returns what the key press typed.
fn tap(keyboard: &mut Keyboard<AnyLayout>, modifiers: &[KeyCode], key: KeyCode) -> Vec<DecodedKey> {
    for &modifier in modifiers {
        keyboard
            .process(Ps2KeyEvent::press(modifier))
            .for_each(drop);
    }
    let typed = keyboard.process(Ps2KeyEvent::press(key)).collect();
    keyboard.process(Ps2KeyEvent::release(key)).for_each(drop);
    for &modifier in modifiers.iter().rev() {
        keyboard
            .process(Ps2KeyEvent::release(modifier))
            .for_each(drop);
    }
    typed
}

fn stroke(modifiers: &[KeyCode], qcode: &'static str) -> Stroke {
    (
        modifiers.iter().filter_map(|m| m.to_qcode()).collect(),
        qcode,
    )
}

impl Typist {
    /// The typist of `layout`.
    pub fn new(layout: AnyLayout) -> Self {
        let typing_keys: Vec<(KeyCode, &'static str)> = KeyCode::ALL
            .into_iter()
            .filter(|key| !key.is_modifier() && !key.is_lock() && !key.name().starts_with("Numpad"))
            .filter_map(|key| Some((key, key.to_qcode()?)))
            .collect();
        let mut keys: HashMap<char, Vec<Stroke>> = HashMap::new();
        let mut dead_keys = Vec::new();
        for modifiers in MODIFIER_SETS {
            for &(key, qcode) in &typing_keys {
                let mut keyboard = Keyboard::new(layout);
                match tap(&mut keyboard, modifiers, key)[..] {
                    [DecodedKey::Char(c)] if !c.is_control() => {
                        keys.entry(c)
                            .or_insert_with(|| vec![stroke(modifiers, qcode)]);
                    }
                    [] if keyboard.pending() != Pending::None => {
                        dead_keys.push((modifiers, key, qcode));
                    }
                    _ => {}
                }
            }
        }
        // Characters only a dead key and a base key make (é on the German layout: ´ then e).
        for &(dead_modifiers, dead, dead_qcode) in &dead_keys {
            for modifiers in MODIFIER_SETS {
                for &(key, qcode) in &typing_keys {
                    let mut keyboard = Keyboard::new(layout);
                    tap(&mut keyboard, dead_modifiers, dead);
                    if let [DecodedKey::Char(c)] = tap(&mut keyboard, modifiers, key)[..] {
                        if !c.is_control() {
                            keys.entry(c).or_insert_with(|| {
                                vec![stroke(dead_modifiers, dead_qcode), stroke(modifiers, qcode)]
                            });
                        }
                    }
                }
            }
        }
        Self { layout, keys }
    }

    /// Checks that `command` can be typed and fits the kernel's line.
    ///
    /// # Errors
    ///
    /// A message naming the command and the problem.
    pub fn check(&self, command: &str) -> Result<(), String> {
        let chars = command.chars().count();
        if chars > MAX_COMMAND_CHARS {
            return Err(format!(
                "script command {command:?} is {chars} characters; the kernel's line holds \
                 {MAX_COMMAND_CHARS}"
            ));
        }
        match command.chars().find(|c| !self.keys.contains_key(c)) {
            Some(c) => Err(format!(
                "script command {command:?}: {c:?} cannot be typed on layout {}",
                self.layout.name()
            )),
            None => Ok(()),
        }
    }

    /// The key events that type `c`: for each keystroke, modifiers pressed, the key tapped,
    /// modifiers released.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidKeyName`] when the layout has no way to type `c`.
    pub fn events(&self, c: char) -> Result<Vec<KeyEvent>, Error> {
        let strokes = self
            .keys
            .get(&c)
            .ok_or_else(|| Error::InvalidKeyName(c.to_string()))?;
        let mut events = Vec::new();
        for (held, key) in strokes {
            for modifier in held {
                events.push(KeyEvent::press(modifier)?);
            }
            events.push(KeyEvent::press(key)?);
            events.push(KeyEvent::release(key)?);
            for modifier in held.iter().rev() {
                events.push(KeyEvent::release(modifier)?);
            }
        }
        Ok(events)
    }
}

/// How the disk is attached.
#[derive(Debug)]
struct AttachedDisk {
    path: PathBuf,
    /// Writes go to a temporary overlay (QEMU's `snapshot=on`): the file is never modified.
    snapshot: bool,
}

/// The disk of a run: `--disk PATH` (with `snapshot=on` unless `--write`), or a fresh
/// default image in `dir`.
fn attach_disk(options: &DemoOptions, dir: &Path) -> Result<AttachedDisk, Error> {
    match &options.disk {
        Some(path) => {
            let metadata = std::fs::metadata(path)
                .map_err(|e| Error::io(format!("--disk {}", path.display()), e))?;
            if !metadata.is_file() || metadata.len() == 0 || metadata.len() % 512 != 0 {
                return Err(Error::InvalidArgument(format!(
                    "--disk {}: not a raw image of whole 512-byte sectors ({} bytes)",
                    path.display(),
                    metadata.len()
                )));
            }
            Ok(AttachedDisk {
                path: path.clone(),
                snapshot: !options.write,
            })
        }
        None => {
            let path = dir.join("demo-disk.img");
            std::fs::write(&path, crate::demo_disk::default_image())
                .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
            Ok(AttachedDisk {
                path,
                snapshot: false,
            })
        }
    }
}

/// The QEMU arguments of a demo run: the runner's machine, with the display and serial of
/// the mode, and the disk attached as asked.
fn demo_qemu_args(
    kernel: PathBuf,
    append: String,
    disk: &AttachedDisk,
    qmp_socket: PathBuf,
    display: &str,
    serial: OsString,
    keymap: Option<&str>,
) -> Vec<OsString> {
    let base = QemuArgs {
        kernel,
        append,
        disks: Vec::new(),
        qmp_socket,
        memory: "64M".into(),
    };
    let mut args = base.to_args();
    let mut index = 0;
    while index + 1 < args.len() {
        if args[index] == "-display" {
            args[index + 1] = display.into();
        } else if args[index] == "-serial" {
            args[index + 1] = serial.clone();
        }
        index += 1;
    }
    if display == "curses" {
        // The terminal session needs no QMP, and QEMU creates its monitor on the second
        // virtual console only without -qmp: Alt+1 the VGA screen, Alt+2 the monitor.
        if let Some(index) = args.iter().position(|arg| arg == "-qmp") {
            args.drain(index..index + 2);
        }
        args.extend(["-monitor", "vc", "-parallel", "none"].map(OsString::from));
        // The curses display turns the terminal's characters into PC key positions through a
        // QEMU keymap: the guest's layout's own, so a character typed is the one decoded.
        if let Some(keymap) = keymap {
            args.extend(["-k", keymap].map(OsString::from));
        }
    }
    let mut drive = drive_option(&disk.path, 0);
    if disk.snapshot {
        drive.push(",snapshot=on");
    }
    args.push("-drive".into());
    args.push(drive);
    args
}

/// Builds the demo kernel (quick when it is up to date), saying so first: a first build
/// takes a while.
fn build_kernel() -> Result<PathBuf, Error> {
    eprintln!("irqkit-qemu demo: building the kernel (qemu-tests/kernel)...");
    Ok(kernel_image()?.path.clone())
}

/// The QEMU keymap (`-k`) of a layout, for the curses display; `None` where QEMU has none
/// (Dvorak, Colemak: keys then go by their US position, as the status line's layout decodes
/// them).
pub fn qemu_keymap(layout: AnyLayout) -> Option<&'static str> {
    match layout {
        AnyLayout::Us | AnyLayout::UsIntl => Some("en-us"),
        AnyLayout::Uk => Some("en-gb"),
        AnyLayout::De => Some("de"),
        AnyLayout::Fr => Some("fr"),
        AnyLayout::Jis => Some("ja"),
        AnyLayout::Dvorak | AnyLayout::Colemak => None,
    }
}

/// Whether this process talks to a person: stdin and stdout are terminals.
pub fn on_a_terminal() -> bool {
    io::stdin().is_terminal() && io::stdout().is_terminal()
}

/// How a demo run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoOutcome {
    /// The kernel powered off after `exit` (QEMU status 33), or the person quit QEMU from
    /// its monitor (terminal session only).
    pub success: bool,
    /// One line saying how it ended.
    pub summary: String,
    /// The serial transcript (prompt markers and key acknowledgements removed).
    pub transcript: Vec<String>,
}

/// Whether a serial line is part of the protocol with the host rather than the transcript.
fn is_protocol_line(line: &str) -> bool {
    line == "READY" || line.starts_with("echo '") || line == "echo full"
}

/// Runs the terminal session: QEMU's curses display on this terminal until the person
/// leaves.
///
/// # Errors
///
/// [`Error::KernelBuild`], [`Error::QemuNotFound`], [`Error::Io`], or a bad `--disk`.
pub fn run_interactive(options: &DemoOptions) -> Result<DemoOutcome, Error> {
    let dir = TempDir::new().map_err(|e| Error::io("creating a temporary directory", e))?;
    let disk = attach_disk(options, dir.path())?;
    let kernel = build_kernel()?;
    let serial_log = dir.path().join("serial.log");
    let mut serial = OsString::from("file:");
    serial.push(&serial_log);
    let args = demo_qemu_args(
        kernel,
        kernel_command_line("demo", &options.kernel_args(false)),
        &disk,
        dir.path().join("qmp.sock"),
        "curses",
        serial,
        qemu_keymap(options.layout),
    );
    let program = qemu_program();
    // QEMU's own messages (a character its keymap lacks...) would land on the curses screen:
    // they go to a file and are shown after the session.
    let stderr_log = dir.path().join("qemu-stderr.log");
    let stderr_file = std::fs::File::create(&stderr_log)
        .map_err(|e| Error::io(format!("creating {}", stderr_log.display()), e))?;
    let mut child = Command::new(&program)
        .args(&args)
        .stderr(stderr_file)
        .spawn()
        .map_err(|error| spawn_error(&program, error))?;
    let deadline = options.timeout.map(|timeout| Instant::now() + timeout);
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .map_err(|e| Error::io("waiting for QEMU", e))?
        {
            break Some(status);
        }
        if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(50));
    };
    let mut messages: Vec<String> = Vec::new();
    for line in std::fs::read_to_string(&stderr_log)
        .unwrap_or_default()
        .lines()
    {
        if !messages.iter().any(|seen| seen == line) {
            messages.push(line.to_owned());
        }
    }
    for message in &messages {
        eprintln!("irqkit-qemu demo: QEMU said: {message}");
    }
    let transcript: Vec<String> = std::fs::read_to_string(&serial_log)
        .unwrap_or_default()
        .lines()
        .filter(|line| !is_protocol_line(line))
        .map(str::to_owned)
        .collect();
    let problem = crate::serial::panic_message(&transcript)
        .map(|message| format!(": PANIC {message}"))
        .or_else(|| {
            crate::serial::exception_report(&transcript)
                .map(|report| format!(": EXCEPTION {report}"))
        })
        .unwrap_or_default();
    let (success, summary) = match status.map(|status| status.code()) {
        None => (false, "the --timeout passed: QEMU was killed".to_owned()),
        Some(Some(SUCCESS_STATUS)) => (true, "the demo kernel powered off (`exit`)".to_owned()),
        Some(Some(0)) if problem.is_empty() => (
            true,
            "QEMU quit (the monitor's `quit`, or the guest reset)".to_owned(),
        ),
        Some(code) => (
            false,
            format!(
                "the demo kernel failed ({}){problem}",
                ExitKind::from_code(code)
            ),
        ),
    };
    Ok(DemoOutcome {
        success,
        summary,
        transcript,
    })
}

fn spawn_error(program: &OsString, error: io::Error) -> Error {
    match error.kind() {
        io::ErrorKind::NotFound => Error::QemuNotFound {
            program: program.to_string_lossy().into_owned(),
        },
        _ => Error::io(format!("starting {}", program.to_string_lossy()), error),
    }
}

/// Runs `options.script` (or [`DEFAULT_SCRIPT`]): types each command once the prompt is
/// shown, writes the transcript to `out` as it arrives, and waits for the kernel to end.
///
/// # Errors
///
/// [`Error::Timeout`] when the kernel stops answering (QEMU is killed), [`Error::Qmp`],
/// [`Error::KernelBuild`], [`Error::QemuNotFound`], [`Error::Io`].
pub fn run_script(options: &DemoOptions, out: &mut dyn Write) -> Result<DemoOutcome, Error> {
    let commands = options
        .script
        .clone()
        .unwrap_or_else(|| split_script(DEFAULT_SCRIPT));
    check_script(&commands, options.layout).map_err(Error::InvalidArgument)?;
    let dir = TempDir::new().map_err(|e| Error::io("creating a temporary directory", e))?;
    let disk = attach_disk(options, dir.path())?;
    let kernel = build_kernel()?;
    let qmp_socket = dir.path().join("qmp.sock");
    let args = demo_qemu_args(
        kernel,
        kernel_command_line("demo", &options.kernel_args(true)),
        &disk,
        qmp_socket.clone(),
        "none",
        "stdio".into(),
        None,
    );
    let program = qemu_program();
    let started = Instant::now();
    let deadline = started + options.timeout.unwrap_or(SCRIPT_TIMEOUT);
    let mut child = Command::new(&program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| spawn_error(&program, error))?;
    let serial = LineLog::default();
    let stderr = LineLog::default();
    let (Some(stdout_pipe), Some(stderr_pipe)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(Error::io("starting QEMU", io::Error::other("no pipes")));
    };
    let readers = serial
        .spawn_reader("demo-serial", stdout_pipe, None)
        .and_then(|reader| {
            Ok((
                reader,
                stderr.spawn_reader("demo-stderr", stderr_pipe, None)?,
            ))
        });
    let mut session = ScriptSession {
        child,
        serial,
        stderr,
        cursor: 0,
        printed: 0,
        deadline,
        started,
        qmp: None,
        qmp_socket,
    };
    if let Err(error) = readers {
        return Err(Error::io("starting the output readers", error));
    }
    let result = session.type_commands(options.layout, &commands, out);
    let status = match result {
        Ok(()) => session.wait_for_exit(deadline)?,
        Err(error) => {
            session.kill();
            session.print_new(out);
            return Err(error);
        }
    };
    // The pipes close when QEMU exits; let the readers catch up before the last print.
    session.serial.wait_closed(Duration::from_secs(2));
    session.print_new(out);
    let transcript: Vec<String> = session
        .serial
        .lines()
        .into_iter()
        .filter(|line| !is_protocol_line(line))
        .collect();
    let Some(status) = status else {
        session.kill();
        return Err(session.timeout_error("the kernel to power off after `exit`"));
    };
    let kind = ExitKind::from_code(status.code());
    let problem = crate::serial::panic_message(&transcript)
        .map(|message| format!(": PANIC {message}"))
        .unwrap_or_default();
    Ok(DemoOutcome {
        success: kind.is_success(),
        summary: if kind.is_success() {
            format!(
                "the demo kernel powered off after the script ({:.1} s)",
                started.elapsed().as_secs_f64()
            )
        } else {
            format!("the demo kernel failed ({kind}){problem}")
        },
        transcript,
    })
}

/// A running script session.
struct ScriptSession {
    child: std::process::Child,
    serial: LineLog,
    stderr: LineLog,
    /// Where the next wait starts looking.
    cursor: usize,
    /// Lines already written to the output.
    printed: usize,
    deadline: Instant,
    started: Instant,
    qmp: Option<QmpClient>,
    qmp_socket: PathBuf,
}

impl ScriptSession {
    fn type_commands(
        &mut self,
        layout: AnyLayout,
        commands: &[String],
        out: &mut dyn Write,
    ) -> Result<(), Error> {
        let mut typist = Typist::new(layout);
        for command in commands {
            self.wait_for("READY".into())?;
            self.print_new(out);
            for c in command.chars() {
                self.send(&typist.events(c)?)?;
                // Any acknowledgement: with Caps Lock on the kernel reads another case.
                self.wait_for(LineMatch::prefix("echo "))?;
            }
            self.send(&KeyEvent::taps(&["ret"])?)?;
            if command == "exit" {
                break;
            }
            if let Some(next) = layout_switch(command) {
                typist = Typist::new(next);
            }
        }
        Ok(())
    }

    /// Writes the transcript lines not written yet.
    fn print_new(&mut self, out: &mut dyn Write) {
        let lines = self.serial.lines();
        for line in &lines[self.printed.min(lines.len())..] {
            if !is_protocol_line(line) {
                // A closed stdout must not stop the run.
                let _ = writeln!(out, "{line}");
            }
        }
        let _ = out.flush();
        self.printed = lines.len();
    }

    fn wait_for(&mut self, pattern: LineMatch) -> Result<(), Error> {
        let deadline = (Instant::now() + STEP_TIMEOUT).min(self.deadline);
        match self.serial.wait_for(&pattern, &mut self.cursor, deadline) {
            Ok(_) => Ok(()),
            Err(WaitError::Timeout) => Err(self.timeout_error(&pattern.to_string())),
            Err(WaitError::Closed) => {
                let status = self.wait_for_exit(Instant::now() + Duration::from_secs(2))?;
                Err(Error::MissingLine {
                    test: "demo".into(),
                    pattern: pattern.to_string(),
                    status: ExitKind::from_code(status.and_then(|status| status.code())),
                    serial: self.serial.lines(),
                    stderr: self.stderr.lines(),
                })
            }
        }
    }

    fn send(&mut self, events: &[KeyEvent]) -> Result<(), Error> {
        let deadline = Instant::now() + QMP_TIMEOUT;
        let command = input_send_event_command(events);
        let client = match &mut self.qmp {
            Some(client) => client,
            None => self
                .qmp
                .insert(QmpClient::connect(&self.qmp_socket, deadline)?),
        };
        match client.execute(&command, deadline) {
            Ok(()) => Ok(()),
            // The kernel may power off in reaction to the keys (after `exit`): the outcome
            // tells what happened.
            Err(error) if error.is_disconnect() => {
                self.qmp = None;
                match self.wait_for_exit(Instant::now() + Duration::from_secs(2))? {
                    Some(_) => Ok(()),
                    None => Err(error.into()),
                }
            }
            Err(error) => Err(error.into()),
        }
    }

    fn wait_for_exit(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<std::process::ExitStatus>, Error> {
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Ok(Some(status)),
                Ok(None) if Instant::now() >= deadline => return Ok(None),
                Ok(None) => thread::sleep(POLL_INTERVAL),
                Err(error) => return Err(Error::io("waiting for QEMU", error)),
            }
        }
    }

    fn timeout_error(&self, waiting_for: &str) -> Error {
        Error::Timeout {
            test: "demo".into(),
            waiting_for: waiting_for.to_owned(),
            after: self.started.elapsed(),
            serial: self.serial.lines(),
            stderr: self.stderr.lines(),
        }
    }

    fn kill(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

impl Drop for ScriptSession {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options() {
        let options = DemoOptions::parse(&[]).unwrap();
        assert_eq!(options, DemoOptions::default());
        let options = DemoOptions::parse(&args(&[
            "--disk",
            "/d.img",
            "--write",
            "--layout",
            "de",
            "--set",
            "2",
            "--script",
            "help ; ; stats",
            "--timeout",
            "9",
        ]))
        .unwrap();
        assert_eq!(options.disk.as_deref(), Some(Path::new("/d.img")));
        assert!(options.write && options.raw_set2);
        assert_eq!(options.layout, AnyLayout::De);
        assert_eq!(
            options.script.as_deref(),
            Some(&["help".to_owned(), "stats".into(), "exit".into()][..])
        );
        assert_eq!(options.timeout, Some(Duration::from_secs(9)));
        assert_eq!(
            options.kernel_args(true),
            ["layout=de", "idle=none", "set=2", "echo=serial"]
        );
        assert_eq!(
            DemoOptions::default().kernel_args(false),
            ["layout=us", "idle=none"]
        );
        assert!(DemoOptions::parse(&args(&["--help"])).unwrap().help);
    }

    #[test]
    fn bad_options_say_what_is_wrong() {
        let error = |a: &[&str]| DemoOptions::parse(&args(a)).unwrap_err();
        assert!(error(&["--frobnicate"]).contains("unknown option \"--frobnicate\""));
        assert!(error(&["extra"]).contains("unexpected argument"));
        assert!(error(&["--disk"]).contains("--disk needs"));
        assert!(error(&["--write"]).contains("--write needs --disk"));
        assert!(error(&["--layout", "xx"]).contains("unknown layout"));
        assert!(error(&["--set", "3"]).contains("only 2"));
        assert!(error(&["--timeout", "-1"]).contains("not a positive"));
        assert!(error(&["--script", "é"]).contains("cannot be typed on layout us"));
        assert!(error(&["--script", "ä"]).contains("cannot be typed on layout us"));
        let long = "x".repeat(MAX_COMMAND_CHARS + 1);
        assert!(error(&["--script", &long]).contains("holds 68"));
        // The same text is typeable on a layout that has the key.
        assert!(DemoOptions::parse(&args(&["--layout", "de", "--script", "ä"])).is_ok());
    }

    #[test]
    fn scripts_follow_layout_switches() {
        let script = |text: &str| split_script(text);
        assert!(check_script(&script("layout de; ä"), AnyLayout::Us).is_ok());
        assert!(check_script(&script("ä; layout de"), AnyLayout::Us).is_err());
        assert!(check_script(&script("layout de; layout us; ä"), AnyLayout::Us).is_err());
        assert_eq!(layout_switch("LAYOUT fr"), Some(AnyLayout::Fr));
        assert_eq!(layout_switch("layout xx"), None);
        assert_eq!(layout_switch("layout"), None);
    }

    #[test]
    fn scripts_end_with_exit() {
        assert_eq!(split_script("a;b"), ["a", "b", "exit"]);
        assert_eq!(split_script(" exit "), ["exit"]);
        assert_eq!(split_script(""), ["exit"]);
    }

    fn typed(typist: &Typist, c: char) -> String {
        typist
            .events(c)
            .unwrap()
            .iter()
            .map(|e| format!("{}{}", if e.down { "+" } else { "-" }, e.key))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn typist_finds_keys_per_layout() {
        let us = Typist::new(AnyLayout::Us);
        assert_eq!(typed(&us, 'a'), "+a -a");
        assert_eq!(typed(&us, 'A'), "+shift +a -a -shift");
        assert_eq!(typed(&us, ' '), "+spc -spc");
        assert_eq!(typed(&us, '?'), "+shift +slash -slash -shift");
        assert_eq!(typed(&us, '1'), "+1 -1");
        for c in ' '..='~' {
            assert!(us.events(c).is_ok(), "{c:?}");
        }
        assert!(us.events('é').is_err());
        let de = Typist::new(AnyLayout::De);
        assert_eq!(typed(&de, 'z'), "+y -y");
        assert_eq!(typed(&de, '@'), "+alt_r +q -q -alt_r");
        assert_eq!(typed(&de, 'ä'), "+apostrophe -apostrophe");
        // Dead keys: ´ then e on the German layout, ^ then e on the French one.
        assert_eq!(typed(&de, 'é'), "+equal -equal +e -e");
        assert_eq!(typed(&de, 'É'), "+equal -equal +shift +e -e -shift");
        let fr = Typist::new(AnyLayout::Fr);
        assert_eq!(typed(&fr, 'a'), "+q -q");
        assert_eq!(typed(&fr, 'ê'), "+bracket_left -bracket_left +e -e");
        assert_eq!(typed(&fr, 'é'), "+2 -2");
    }

    #[test]
    fn every_layout_with_a_qemu_keymap_names_an_installed_one() {
        let installed = Path::new("/usr/share/qemu/keymaps");
        for layout in AnyLayout::ALL {
            if let (Some(keymap), true) = (qemu_keymap(layout), installed.is_dir()) {
                assert!(installed.join(keymap).is_file(), "{keymap}");
            }
        }
        assert_eq!(qemu_keymap(AnyLayout::Dvorak), None);
    }

    #[test]
    fn qemu_arguments_of_each_mode() {
        let disk = AttachedDisk {
            path: "/d/my,disk.img".into(),
            snapshot: true,
        };
        let args: Vec<String> = demo_qemu_args(
            "/k".into(),
            "test=demo layout=us".into(),
            &disk,
            "/s".into(),
            "curses",
            "file:/d/serial.log".into(),
            qemu_keymap(AnyLayout::De),
        )
        .into_iter()
        .map(|a| a.into_string().unwrap())
        .collect();
        let text = args.join(" ");
        assert!(
            text.contains("-display curses -no-reboot -serial file:/d/serial.log"),
            "{text}"
        );
        assert!(
            text.ends_with("-drive file=/d/my,,disk.img,format=raw,if=ide,index=0,snapshot=on"),
            "{text}"
        );
        assert!(!text.contains("-display none"));
        assert!(!text.contains("-qmp"), "{text}");
        assert!(text.contains("-monitor vc -parallel none -k de"), "{text}");
        let writable = AttachedDisk {
            path: "/d.img".into(),
            snapshot: false,
        };
        let args = demo_qemu_args(
            "/k".into(),
            String::new(),
            &writable,
            "/s".into(),
            "none",
            "stdio".into(),
            None,
        );
        assert!(!args.iter().any(|a| a == "-k"));
        assert!(!args
            .iter()
            .any(|a| a.to_string_lossy().contains("snapshot")));
    }
}
