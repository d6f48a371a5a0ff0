//! `irqkit-qemu`: boots a test case of the irqkit test kernel and streams its serial output.
//!
//! ```text
//! irqkit-qemu run <test> [--timeout SECONDS]   boot one test case; exit 0 only on success
//! irqkit-qemu demo [--timeout SECONDS]         boot the demo case
//! ```

use std::process::ExitCode;
use std::time::Duration;

use irqkit_qemu_tests::{Error, Qemu};

const USAGE: &str = "\
usage: irqkit-qemu run <test> [--timeout SECONDS]
       irqkit-qemu demo [--timeout SECONDS]

Boots a test case of the irqkit test kernel (qemu-tests/kernel) under QEMU, streams its
serial output to stdout, and exits with 0 only if the kernel reported success (QEMU status 33).
Test names: the kernel lists them when given an unknown one.";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
struct Request {
    test: String,
    timeout: Option<Duration>,
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
    let mut timeout = None;
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
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    Ok(Request { test, timeout })
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
    match qemu.spawn().and_then(|running| running.wait()) {
        Ok(outcome) => {
            eprintln!("irqkit-qemu: {}", outcome.summary());
            if outcome.is_success() {
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

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn commands() {
        assert_eq!(
            parse(&args("run smoke")),
            Ok(Request {
                test: "smoke".into(),
                timeout: None
            })
        );
        assert_eq!(
            parse(&args("run hang --timeout 1.5")),
            Ok(Request {
                test: "hang".into(),
                timeout: Some(Duration::from_millis(1500))
            })
        );
        assert_eq!(parse(&args("demo")).unwrap().test, "demo");
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
