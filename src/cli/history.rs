//! `--history SRC…` and `--snapshot-time`: CloudTrail files read for the commands that look at
//! the network over time (`changes`, `--at`).

use std::path::PathBuf;
use vpcreach::history::History;
use vpcreach::render::sanitize_line;
use vpcreach::timestamp::TimeArg;
use vpcreach::Snapshot;

/// Options naming the history of changes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HistoryArgs {
    /// CloudTrail log files or folders (`AWSLogs/<account>/CloudTrail/<region>/…`, `.json` or
    /// `.json.gz`; digest files are passed by). Repeatable.
    #[arg(long, value_name = "SRC", num_args = 1..)]
    pub history: Vec<PathBuf>,
    /// When the snapshot was taken, when its folder does not say (`vpcreach collect` records
    /// it): an RFC 3339 date-time.
    #[arg(long, value_name = "TIME")]
    pub snapshot_time: Option<TimeArg>,
}

impl HistoryArgs {
    /// The snapshot's time: `--snapshot-time`, else the time `collect` recorded.
    pub fn snapshot_time(&self, snap: &Snapshot) -> anyhow::Result<i64> {
        match (self.snapshot_time, snap.collected_at) {
            (Some(t), _) => Ok(t.start),
            (None, Some(t)) => Ok(t),
            (None, None) => anyhow::bail!(
                "--history needs the time the snapshot was taken, to know which changes it already holds: the snapshot folder does not record it (`vpcreach collect` writes it in `.vpcreach-snapshot`); give it with --snapshot-time (e.g. --snapshot-time 2024-10-14T15:00:00Z)"
            ),
        }
    }

    /// Reads the history, printing what was passed by and a summary on stderr.
    pub fn load(&self) -> anyhow::Result<History> {
        use anyhow::Context;
        let h = vpcreach::history::read(&self.history).with_context(|| {
            format!(
                "cannot read the history {}",
                self.history
                    .iter()
                    .map(|p| format!("`{}`", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        for w in &h.warnings {
            eprintln!("warning: {}", sanitize_line(w));
        }
        for p in &h.problems {
            eprintln!("warning: {}", sanitize_line(p));
        }
        let s = &h.stats;
        eprintln!(
            "history: {} file(s), {} record(s): {} change(s) kept, {} duplicate(s), {} failed call(s) ({} dry run(s)) that changed nothing, {} other call(s), {} unreadable",
            s.files, s.records, s.applied, s.duplicates, s.failed, s.dry_runs, s.not_changes, s.malformed
        );
        Ok(h)
    }
}
