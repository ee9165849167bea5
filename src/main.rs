//! The `vpcreach` command line: parses arguments and dispatches to one subcommand.

mod cli;

use clap::Parser;
use std::process::ExitCode;

// Flow logs are parsed and explained in large batches on every core; glibc's allocator spent a
// tenth of `explain`'s time consolidating freed batches (perf), mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
