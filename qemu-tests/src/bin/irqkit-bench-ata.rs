//! `irqkit-bench-ata [--mib N] [--pio-mib N] [--reps N] [--echo]`: runs the irqkit-ata
//! benchmark under QEMU (sequential reads and writes timed with the guest's TSC in every
//! transfer mode, and the host reading the same image) and prints the Markdown table and the
//! goals.
//!
//! `cargo run --release -p irqkit-qemu-tests --bin irqkit-bench-ata`

use std::process::ExitCode;

use irqkit_qemu_tests::bench_ata::{run, Options};

const USAGE: &str = "usage: irqkit-bench-ata [--mib N] [--pio-mib N] [--reps N] [--echo]
  --mib N      MiB per DMA pass (default 64)
  --pio-mib N  MiB per PIO pass (default 8)
  --reps N     runs of every pass, modes taking turns; the table shows medians (default 5)
  --echo       show the kernel's serial output";

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options::default();
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let value = args.next().ok_or(format!("{name} needs a number"))?;
            value
                .parse()
                .map_err(|_| format!("{name} {value:?} is not a number"))
        };
        match arg.as_str() {
            "--mib" => options.dma_mib = number("--mib")?,
            "--pio-mib" => options.pio_mib = number("--pio-mib")?,
            "--reps" => options.reps = number("--reps")?,
            "--echo" => options.echo = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("irqkit-bench-ata: {message}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(report) => {
            print!("{}", report.table());
            println!();
            for goal in report.goals() {
                let verdict = if goal.met { "met" } else { "NOT met" };
                println!("- {}: {verdict} ({})", goal.name, goal.measured);
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("irqkit-bench-ata: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> impl Iterator<Item = String> + '_ {
        text.split_whitespace().map(str::to_owned)
    }

    #[test]
    fn arguments() {
        assert_eq!(parse(args("")).unwrap(), Options::default());
        let options = parse(args("--mib 4 --pio-mib 1 --echo")).unwrap();
        assert_eq!(
            (options.dma_mib, options.pio_mib, options.echo),
            (4, 1, true)
        );
        assert!(parse(args("--mib")).is_err());
        assert!(parse(args("--mib x")).is_err());
        assert!(parse(args("--what")).is_err());
    }
}
