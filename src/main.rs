//! The `vpcreach` command line: parses arguments and dispatches to one subcommand.

mod cli;

use clap::Parser;
use std::process::ExitCode;

// Flow logs are parsed and explained in large batches on every core; glibc's allocator spent a
// tenth of `explain`'s time consolidating freed batches (perf), mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process. mimalloc asks for them, and then every
/// buffer it hands back to the system and takes again costs a 2 MiB page to zero: `explain`
/// spent more time zeroing pages than explaining on small inputs (perf).
#[cfg(target_os = "linux")]
fn no_transparent_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments and touches no memory of ours; a
    // failure (an old kernel) only leaves the default.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    no_transparent_huge_pages();
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!(
                "error: {}",
                vpcreach::render::sanitize_line(&format!("{err:#}"))
            );
            ExitCode::from(2)
        }
    }
}
