//! `vpcreach changes`: each change of the history in time order, who made it, and what it did
//! to reachability.

use super::history::HistoryArgs;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;
use vpcreach::timestamp::TimeArg;
use vpcreach::Snapshot;

/// Output formats of `changes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChangesOutput {
    /// A readable report.
    Human,
    /// JSON: `{"changes": [...], "history": {...}}`.
    Json,
    /// Markdown.
    Markdown,
}

/// Arguments of `vpcreach changes`.
#[derive(Debug, clap::Args)]
pub struct ChangesArgs {
    /// The snapshot (a folder of saved `describe-*` JSON, as `vpcreach collect` writes).
    #[arg(long, value_name = "DIR")]
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub history: HistoryArgs,
    #[command(flatten)]
    pub aws: super::aws::AwsArgs,
    /// Show changes from this time on: an RFC 3339 date (the whole day, UTC) or date-time.
    #[arg(long, value_name = "TIME")]
    pub since: Option<TimeArg>,
    /// Show changes before this time (a date includes its whole day).
    #[arg(long, value_name = "TIME")]
    pub until: Option<TimeArg>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub output: ChangesOutput,
}

/// Runs `vpcreach changes`: exit 0, or 2 on errors.
pub fn run(args: ChangesArgs) -> anyhow::Result<u8> {
    if args.history.history.is_empty() {
        anyhow::bail!("`changes` needs --history SRC (CloudTrail or AWS Config files or folders)");
    }
    let snap = Snapshot::load(&args.snapshot)
        .with_context(|| format!("cannot load the snapshot `{}`", args.snapshot.display()))?;
    let t = args.history.snapshot_time(&snap)?;
    let window = vpcreach::timestamp::Window::new(args.since, args.until);
    if let (Some(since), Some(until)) = (window.since, window.until) {
        if since >= until {
            anyhow::bail!("`--since` must be before `--until`");
        }
    }
    let h = args.history.load(&args.aws)?;
    let after = h.events.iter().filter(|e| e.time > t).count();
    if after > 0 {
        eprintln!(
            "note: {after} change(s) after the snapshot's time ({}) are not in it and are not shown",
            vpcreach::timestamp::Rfc3339(t)
        );
    }
    let list = vpcreach::history::effects(&snap, &h.events, t, window.since, window.until);
    let text = match args.output {
        ChangesOutput::Human => vpcreach::render::changes::human(&list),
        ChangesOutput::Json => {
            let mut s =
                serde_json::to_string_pretty(&vpcreach::render::changes::json(&list, &h.stats))?;
            s.push('\n');
            s
        }
        ChangesOutput::Markdown => vpcreach::render::changes::markdown(&list),
    };
    super::write_stdout(&text)?;
    std::io::stdout().flush()?;
    Ok(0)
}
