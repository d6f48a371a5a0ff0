//! `irqkit-qemu`: boots a test case of the irqkit test kernel and streams its serial output,
//! or runs the interactive demo.
//!
//! ```text
//! irqkit-qemu run <test> [--timeout SECONDS]    boot one test case; exit 0 only on success
//! irqkit-qemu demo [OPTIONS]                    the demo shell (see `irqkit-qemu demo --help`)
//! ```

use std::process::ExitCode;
use std::time::Duration;

use irqkit_qemu_tests::demo::{self, DemoOptions};
use irqkit_qemu_tests::{Error, Qemu};

const USAGE: &str = "\
usage: irqkit-qemu run <test> [--timeout SECONDS]
       irqkit-qemu demo [OPTIONS]        (irqkit-qemu demo --help lists them)

`run` boots a test case of the irqkit test kernel (qemu-tests/kernel) under QEMU, streams its
serial output to stdout, and exits with 0 only if the kernel reported success (QEMU status 33).
Test names: the kernel lists them when given an unknown one.

`demo` boots the demo shell: on this terminal through QEMU's curses display, or typed from a
script over QMP.";

/// What `run` was asked for.
#[derive(Debug, PartialEq)]
struct Request {
    test: String,
    timeout: Option<Duration>,
}

fn parse_run(args: &[String]) -> Result<Request, String> {
    let (test, rest) = match args {
        [test, rest @ ..] if !test.starts_with("--") => (test.clone(), rest),
        _ => return Err("`run` needs a test name".into()),
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
    match args.split_first() {
        Some((command, rest)) if command == "demo" => run_demo(rest),
        Some((command, rest)) if command == "run" => {
            if rest.iter().any(|arg| arg == "--help" || arg == "-h") {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            match parse_run(rest) {
                Ok(request) => run_test(request),
                Err(problem) => usage_error(&problem),
            }
        }
        Some((command, _)) if command == "--help" || command == "-h" || command == "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some((other, _)) => usage_error(&format!("unknown command {other:?}")),
        None => usage_error("missing command"),
    }
}

fn usage_error(problem: &str) -> ExitCode {
    eprintln!("irqkit-qemu: {problem}\n\n{USAGE}");
    ExitCode::from(2)
}

fn run_demo(args: &[String]) -> ExitCode {
    let options = match DemoOptions::parse(args) {
        Ok(options) => options,
        Err(problem) => {
            eprintln!("irqkit-qemu demo: {problem}\n\n{}", demo::USAGE);
            return ExitCode::from(2);
        }
    };
    if options.help {
        println!("{}", demo::USAGE);
        return ExitCode::SUCCESS;
    }
    let result = if options.script.is_none() && demo::on_a_terminal() {
        demo::run_interactive(&options)
    } else {
        demo::run_script(&options, &mut std::io::stdout())
    };
    match result {
        Ok(outcome) => {
            eprintln!("irqkit-qemu demo: {}", outcome.summary);
            if outcome.success {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("irqkit-qemu demo: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run_test(request: Request) -> ExitCode {
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
    fn run_requests() {
        assert_eq!(
            parse_run(&args("smoke")),
            Ok(Request {
                test: "smoke".into(),
                timeout: None,
            })
        );
        assert_eq!(
            parse_run(&args("hang --timeout 1.5")),
            Ok(Request {
                test: "hang".into(),
                timeout: Some(Duration::from_millis(1500)),
            })
        );
        assert!(parse_run(&[]).is_err());
        assert!(parse_run(&args("--timeout 3")).is_err());
        assert!(parse_run(&args("smoke --timeout")).is_err());
        assert!(parse_run(&args("smoke --timeout -1")).is_err());
        assert!(parse_run(&args("smoke --timeout nan")).is_err());
        assert!(parse_run(&args("smoke extra")).is_err());
    }
}
