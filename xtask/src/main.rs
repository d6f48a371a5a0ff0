//! `cargo xtask`: irqkit's project commands.
//!
//! - `cargo xtask test`: the one test command. Installs what is missing (rustup targets and
//!   components, cargo-fuzz, QEMU), then runs every check and prints a summary.
//! - `cargo xtask demo`: boots the demo kernel under QEMU and shows its serial output.
//! - `cargo xtask bench [CRATE...]`: instruction counts (callgrind) of the one-thread paths and
//!   pinned two-thread queue runs, beside the alternatives; rewrites docs/BENCHMARKS.md.
//!   `cargo xtask bench --criterion` runs the wall-clock criterion benchmarks.
//!
//! `cargo xtask test --help` lists the steps and the options to select them.

mod bench;
mod setup;
mod steps;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test [--only STEP[,STEP]] [--skip STEP[,STEP]] [--no-install] [--fuzz-seconds N]
                 install what is missing, run every check, print a summary
  demo           boot the demo kernel under QEMU and stream its serial output
  bench [--runs N] [--items N] [--no-write] [CRATE...]
                 instruction counts (valgrind) beside the alternatives, and pinned
                 two-thread queue runs (median and spread); one table per crate, written
                 to docs/BENCHMARKS.md
  bench --criterion [CRATE...] [-- ARGS]
                 the wall-clock criterion benchmarks; ARGS go to criterion
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
        Some("bench") => bench::bench(&args[1..]),
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
