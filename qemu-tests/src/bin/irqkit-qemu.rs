//! `irqkit-qemu`: boots a test case of the irqkit test kernel and streams its serial output.
//!
//! ```text
//! irqkit-qemu run <test> [--timeout SECONDS]                boot one test case; exit 0 only on success
//! irqkit-qemu demo [--timeout SECONDS] [--text TEXT]        boot the demo case and type TEXT
//! ```

use std::process::ExitCode;
use std::time::Duration;

use irqkit_qemu_tests::{Error, KeyEvent, Outcome, Qemu};

const USAGE: &str = "\
usage: irqkit-qemu run <test> [--timeout SECONDS]
       irqkit-qemu demo [--timeout SECONDS] [--text TEXT]

Boots a test case of the irqkit test kernel (qemu-tests/kernel) under QEMU, streams its
serial output to stdout, and exits with 0 only if the kernel reported success (QEMU status 33).
Test names: the kernel lists them when given an unknown one.

`demo` types TEXT (default: \"Hello, irqkit!\", printable US ASCII) and Enter over QMP as a
keyboard would, and checks that the kernel decoded the same line.";

/// What the demo types when no `--text` is given.
const DEMO_TEXT: &str = "Hello, irqkit!";
/// How long the guest may take to echo one typed character. Waiting for the echo before the
/// next key keeps QEMU's 16-byte PS/2 queue from overflowing however loaded the machine is.
const ECHO_TIMEOUT: Duration = Duration::from_secs(15);

/// What the command line asks for.
#[derive(Debug, PartialEq)]
struct Request {
    test: String,
    timeout: Option<Duration>,
    /// The text the demo types (only for `demo`).
    text: Option<String>,
}

fn parse(args: &[String]) -> Result<Request, String> {
    let (test, rest) = match args {
        [command, test, rest @ ..] if command == "run" && !test.starts_with("--") => {
            (test.clone(), rest)
        }
        [command, rest @ ..] if command == "demo" => ("demo".to_owned(), rest),
        [command, ..] if command == "run" => return Err("`run` needs a test name".into()),
        [] => return Err("missing command".into()),
        [other, ..] => return Err(format!("unknown command {other:?}")),
    };
    let demo = test == "demo" && args.first().is_some_and(|command| command == "demo");
    let mut timeout = None;
    let mut text = demo.then(|| DEMO_TEXT.to_owned());
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--timeout" => {
                let value = rest.next().ok_or("--timeout needs a number of seconds")?;
                let seconds: f64 = value
                    .parse()
                    .ok()
                    .filter(|seconds: &f64| seconds.is_finite() && *seconds > 0.0)
                    .ok_or_else(|| format!("--timeout {value:?} is not a positive number"))?;
                timeout = Some(Duration::from_secs_f64(seconds));
            }
            "--text" if demo => {
                let value = rest.next().ok_or("--text needs the text to type")?;
                if let Some(c) = value.chars().find(|&c| us_keys(c).is_none()) {
                    return Err(format!(
                        "--text: {c:?} cannot be typed on the US layout (printable ASCII only)"
                    ));
                }
                text = Some(value.clone());
            }
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(Request {
        test,
        timeout,
        text,
    })
}

/// The QEMU key (QKeyCode) that types `c` on a US keyboard, and whether Shift is needed.
fn us_keys(c: char) -> Option<(String, bool)> {
    const UNSHIFTED: &str = "`1234567890-=[]\\;',./";
    const SHIFTED: &str = "~!@#$%^&*()_+{}|:\"<>?";
    const NAMES: [&str; 21] = [
        "grave_accent",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "0",
        "minus",
        "equal",
        "bracket_left",
        "bracket_right",
        "backslash",
        "semicolon",
        "apostrophe",
        "comma",
        "dot",
        "slash",
    ];
    match c {
        'a'..='z' => Some((c.to_string(), false)),
        'A'..='Z' => Some((c.to_ascii_lowercase().to_string(), true)),
        ' ' => Some(("spc".to_owned(), false)),
        _ => {
            if let Some(index) = UNSHIFTED.chars().position(|k| k == c) {
                Some((NAMES[index].to_owned(), false))
            } else {
                let index = SHIFTED.chars().position(|k| k == c)?;
                Some((NAMES[index].to_owned(), true))
            }
        }
    }
}

/// Key events typing `c` (Shift pressed around the key when needed).
fn typing_events(c: char) -> Result<Vec<KeyEvent>, Error> {
    let (key, shift) = us_keys(c).ok_or_else(|| Error::InvalidKeyName(c.to_string()))?;
    let mut events = Vec::with_capacity(4);
    if shift {
        events.push(KeyEvent::press("shift")?);
    }
    events.push(KeyEvent::press(&key)?);
    events.push(KeyEvent::release(&key)?);
    if shift {
        events.push(KeyEvent::release("shift")?);
    }
    Ok(events)
}

/// Boots the demo case, types `text` and Enter once it is READY, and checks that the kernel
/// decoded the same line.
fn run_demo(qemu: Qemu, text: &str) -> Result<Outcome, Error> {
    let mut running = qemu.spawn()?;
    running.wait_for_line("READY", Duration::from_secs(20))?;
    for c in text.chars() {
        running.send_events(&typing_events(c)?)?;
        running.wait_for_line(format!("echo {c:?}").as_str(), ECHO_TIMEOUT)?;
    }
    running.send_keys(&["ret"])?;
    let outcome = running.wait()?;
    if outcome.is_success() {
        match outcome.value("line") {
            Some(line) if line == text => {}
            other => eprintln!("irqkit-qemu: the kernel decoded {other:?}, expected {text:?}"),
        }
    }
    Ok(outcome)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args
        .iter()
        .any(|arg| arg == "--help" || arg == "-h" || arg == "help")
    {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let request = match parse(&args) {
        Ok(request) => request,
        Err(problem) => {
            eprintln!("irqkit-qemu: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut qemu = Qemu::new(&request.test).echo_serial(true);
    if let Some(timeout) = request.timeout {
        qemu = qemu.timeout(timeout);
    }
    let result = match &request.text {
        // The kernel waits for Enter however long the typing takes.
        Some(text) => run_demo(qemu.kernel_arg("demo_wait=enter"), text),
        None => qemu.spawn().and_then(|running| running.wait()),
    };
    match result {
        Ok(outcome) => {
            eprintln!("irqkit-qemu: {}", outcome.summary());
            let typed_ok = request
                .text
                .as_deref()
                .is_none_or(|text| outcome.value("line") == Some(text));
            if outcome.is_success() && typed_ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        // The serial output was already streamed: show only the reason.
        Err(Error::Timeout {
            test,
            waiting_for,
            after,
            ..
        }) => {
            eprintln!(
                "irqkit-qemu: test `{test}` timed out after {:.1} s waiting for {waiting_for} \
                 (QEMU was killed)",
                after.as_secs_f64()
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("irqkit-qemu: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn us_typing() {
        let names = |c| {
            typing_events(c)
                .unwrap()
                .into_iter()
                .map(|e| format!("{}{}", if e.down { "+" } else { "-" }, e.key))
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(names('h'), "+h -h");
        assert_eq!(names('H'), "+shift +h -h -shift");
        assert_eq!(names(','), "+comma -comma");
        assert_eq!(names('!'), "+shift +1 -1 -shift");
        assert_eq!(names(' '), "+spc -spc");
        assert_eq!(names('?'), "+shift +slash -slash -shift");
        assert_eq!(names('"'), "+shift +apostrophe -apostrophe -shift");
        assert_eq!(names('\\'), "+backslash -backslash");
        assert_eq!(names('~'), "+shift +grave_accent -grave_accent -shift");
        assert!(typing_events('\n').is_err());
        for c in (' '..='~').filter(|c| *c != ' ') {
            assert!(us_keys(c).is_some(), "{c:?}");
        }
    }

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn commands() {
        assert_eq!(
            parse(&args("run smoke")),
            Ok(Request {
                test: "smoke".into(),
                timeout: None,
                text: None,
            })
        );
        assert_eq!(
            parse(&args("run hang --timeout 1.5")),
            Ok(Request {
                test: "hang".into(),
                timeout: Some(Duration::from_millis(1500)),
                text: None,
            })
        );
        assert_eq!(parse(&args("demo")).unwrap().test, "demo");
        assert_eq!(
            parse(&args("demo")).unwrap().text.as_deref(),
            Some(DEMO_TEXT)
        );
        assert_eq!(
            parse(&args("demo --text Hi!")).unwrap().text.as_deref(),
            Some("Hi!")
        );
        assert!(parse(&args("demo --text")).is_err());
        assert!(parse(&["demo".into(), "--text".into(), "é".into()]).is_err());
        assert!(parse(&args("run demo --text x")).is_err());
        assert_eq!(parse(&args("run demo")).unwrap().text, None);
        assert!(parse(&args("run")).is_err());
        assert!(parse(&args("run --timeout 3")).is_err());
        assert!(parse(&args("run smoke --timeout")).is_err());
        assert!(parse(&args("run smoke --timeout -1")).is_err());
        assert!(parse(&args("run smoke --timeout nan")).is_err());
        assert!(parse(&args("run smoke extra")).is_err());
        assert!(parse(&args("boot smoke")).is_err());
        assert!(parse(&[]).is_err());
    }
}
