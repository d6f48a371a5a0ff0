//! `cargo xtask`: irqkit's project commands.
//!
//! - `cargo xtask test`: the one test command. Installs what is missing (rustup targets and
//!   components, cargo-fuzz, QEMU), then runs every check and prints a summary.
//! - `cargo xtask demo`: boots the demo kernel under QEMU and shows its serial output.
//! - `cargo xtask bench [CRATE...]`: the criterion benchmarks.
//!
//! `cargo xtask test --help` lists the steps and the options to select them.

mod setup;
mod steps;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test [--only STEP[,STEP]] [--skip STEP[,STEP]] [--no-install] [--fuzz-seconds N]
                 install what is missing, run every check, print a summary
  demo           boot the demo kernel under QEMU and stream its serial output
  bench [CRATE...] [-- ARGS]
                 run the criterion benchmarks (all crates with benches/, or the named
                 ones); ARGS go to criterion, e.g. -- --measurement-time 3
  steps          list the steps of `test`
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => steps::test(&args[1..]),
        Some("steps") => {
            for step in steps::STEPS {
                println!("{:<12} {}", step.name, step.about);
            }
            Ok(())
        }
        Some("demo") => steps::demo(&args[1..]),
        Some("bench") => steps::bench(&args[1..]),
        Some("-h" | "--help" | "help") | None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
