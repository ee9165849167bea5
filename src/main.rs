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
            eprintln!("error: {}", chain(&err));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes, joined by `: `, each said once: a cause whose text already ends the
/// message before it (an error that shows its source in its own message) is not repeated.
fn chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !last.is_empty() && last.ends_with(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
        last = text;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::chain;

    #[test]
    fn a_cause_already_in_the_message_is_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let plain = anyhow::anyhow!("cannot read `x`: gone").context("outer");
        // A wrapped error whose own message ends with its source's text.
        #[derive(Debug)]
        struct Shows(std::io::Error);
        impl std::fmt::Display for Shows {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "cannot read `x`: {}", self.0)
            }
        }
        impl std::error::Error for Shows {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = anyhow::Error::new(Shows(io)).context("cannot load the snapshot");
        assert_eq!(
            chain(&err),
            "cannot load the snapshot: cannot read `x`: gone"
        );
        // Causes that add something are all kept.
        assert_eq!(chain(&plain), "outer: cannot read `x`: gone");
    }
}
