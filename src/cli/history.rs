//! `--history SRC…` and `--snapshot-time`: CloudTrail and AWS Config files read for the commands that look at
//! the network over time (`changes`, `--at`).

use super::aws::AwsArgs;
use std::path::PathBuf;
use vpcreach::history::History;
use vpcreach::render::sanitize_line;
use vpcreach::timestamp::TimeArg;
use vpcreach::Snapshot;

/// Options naming the history of changes.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HistoryArgs {
    /// CloudTrail log files or folders (`AWSLogs/<account>/CloudTrail/<region>/…`, `.json` or
    /// `.json.gz`; digest files are passed by), AWS Config history and snapshot files or folders
    /// (`AWSLogs/<account>/Config/<region>/…`), or saved `aws configservice
    /// get-resource-config-history` output, mixed freely; `s3://BUCKET/PREFIX` of such files
    /// (fetched whole under the prefix), or `cloudtrail://REGION` (the Region's CloudTrail
    /// event history through `LookupEvents`: the last 90 days). Repeatable.
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

    /// Reads the history, printing what was passed by and a summary on stderr. Remote sources
    /// (`s3://BUCKET/PREFIX`, `cloudtrail://REGION`) are fetched first with the AWS options of
    /// `aws` into a scratch folder (removed when read) and named as given in every message.
    pub fn load(&self, aws: &AwsArgs) -> anyhow::Result<History> {
        use anyhow::Context;
        let mut sources = Vec::new();
        let mut remote: Vec<(String, String)> = Vec::new();
        let mut scratch = None;
        for src in &self.history {
            if !super::aws::is_remote_history(src) {
                sources.push(src.clone());
                continue;
            }
            let dir = match &scratch {
                Some(d) => d,
                None => scratch.insert(
                    tempfile::Builder::new()
                        .prefix("vpcreach-history-")
                        .tempdir()
                        .context("cannot create a scratch folder for the remote history")?,
                ),
            };
            let fetched = super::aws::fetch_history_remote(src, aws, dir.path())
                .with_context(|| format!("cannot read the history `{}`", src.display()))?;
            for (file, name) in fetched {
                remote.push((file.display().to_string(), name));
                sources.push(file);
            }
        }
        let mut h = vpcreach::history::read(&sources).with_context(|| {
            format!(
                "cannot read the history {}",
                self.history
                    .iter()
                    .map(|p| format!("`{}`", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        // Fetched files are named as the user gave them (`s3://…`), not by their scratch path.
        let rename = |text: &mut String| {
            for (file, name) in &remote {
                if text.contains(file.as_str()) {
                    *text = text.replace(file.as_str(), name);
                }
            }
        };
        h.warnings.iter_mut().for_each(rename);
        h.problems.iter_mut().for_each(rename);
        drop(scratch);
        for w in &h.warnings {
            eprintln!("warning: {}", sanitize_line(w));
        }
        for p in &h.problems {
            eprintln!("warning: {}", sanitize_line(p));
        }
        let s = &h.stats;
        // With AWS Config items, the ones of other resource types are a term of the sum too.
        let config = if s.config_items > 0 {
            format!(
                ", {} passed by (AWS Config items of resource types that do not matter to reachability; {} Config item(s) in all)",
                s.passed_by, s.config_items
            )
        } else {
            String::new()
        };
        eprintln!(
            "history: {} file(s), {} record(s): {} change(s) kept, {} duplicate(s), {} failed call(s) ({} dry run(s)) that changed nothing, {} other call(s), {} unreadable{config}",
            s.files, s.records, s.applied, s.duplicates, s.failed, s.dry_runs, s.not_changes, s.malformed
        );
        Ok(h)
    }
}

/// `--at TIME` with the history it needs (`query`, `audit`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AtArgs {
    /// Judge the network as it was at this time (RFC 3339 date-time; a date means its first
    /// second, UTC): the snapshot with every later change of `--history` undone.
    #[arg(long, value_name = "TIME")]
    pub at: Option<TimeArg>,
    #[command(flatten)]
    pub history: HistoryArgs,
}

/// The snapshot turned back to `--at`, with what the output says about it.
pub struct AtModel {
    /// The configuration at that time.
    pub snapshot: Snapshot,
    /// `--at` (Unix seconds).
    pub at: i64,
    /// The snapshot's own time.
    pub snapshot_time: i64,
    /// Changes undone.
    pub undone: usize,
    /// The history read (every change, by time).
    pub events: Vec<vpcreach::history::Event>,
}

impl AtModel {
    /// The line the output starts with: which time the model is for.
    /// Then one line per resource not known at that time, with why (sanitized), and one per
    /// NACL entry whose content is not known then.
    pub fn line(&self) -> String {
        let rules = self.unknown_rules();
        let mut s = format!(
            "network as it was at {} (the snapshot of {} with {} later change(s) undone; {} resource(s) unknown at that time{})",
            vpcreach::timestamp::Rfc3339(self.at),
            vpcreach::timestamp::Rfc3339(self.snapshot_time),
            self.undone,
            self.snapshot.withheld.len(),
            if rules.is_empty() {
                String::new()
            } else {
                format!(", {} network ACL rule(s) of unknown content", rules.len())
            }
        );
        for (id, why) in &self.snapshot.withheld {
            s.push_str(&format!(
                "\n  unknown: `{}`: {}",
                sanitize_line(id),
                sanitize_line(why)
            ));
        }
        for (acl, u) in rules {
            s.push_str(&format!(
                "\n  unknown: `{}` {} rule {}: {}",
                sanitize_line(acl),
                if u.egress { "outbound" } else { "inbound" },
                u.rule_number,
                sanitize_line(&u.why)
            ));
        }
        s
    }

    /// The NACL entries whose content is not known at that time, with their NACL.
    fn unknown_rules(&self) -> Vec<(&str, &vpcreach::snapshot::UnknownNaclEntry)> {
        self.snapshot
            .network_acls
            .iter()
            .flat_map(|a| {
                a.unknown_entries
                    .iter()
                    .map(move |u| (a.network_acl_id.as_str(), u))
            })
            .collect()
    }

    /// The model's description for JSON output.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "at": vpcreach::timestamp::Rfc3339(self.at).to_string(),
            "snapshot_time": vpcreach::timestamp::Rfc3339(self.snapshot_time).to_string(),
            "changes_undone": self.undone,
            "unknown": self.snapshot.withheld.iter().map(|(id, why)| serde_json::json!({
                "resource": id,
                "reason": why,
            })).collect::<Vec<_>>(),
            "unknown_rules": self.unknown_rules().into_iter().map(|(acl, u)| serde_json::json!({
                "resource": acl,
                "direction": if u.egress { "outbound" } else { "inbound" },
                "rule_number": u.rule_number,
                "reason": u.why,
            })).collect::<Vec<_>>(),
        })
    }
}

impl AtArgs {
    /// Checks the options of `audit`: `--at` needs `--history`; `--history` alone names the
    /// change that introduced each finding.
    pub fn check_audit(&self) -> anyhow::Result<()> {
        if self.at.is_some() && self.history.history.is_empty() {
            anyhow::bail!(
                "--at needs --history SRC (CloudTrail or AWS Config files or folders): the changes to undo to go back to that time"
            );
        }
        Ok(())
    }

    /// `--history` without `--at`: the changes and the snapshot's time.
    pub fn history_alone(
        &self,
        snap: &Snapshot,
        aws: &AwsArgs,
    ) -> anyhow::Result<Option<(Vec<vpcreach::history::Event>, i64)>> {
        if self.at.is_some() || self.history.history.is_empty() {
            return Ok(None);
        }
        let t = self.history.snapshot_time(snap)?;
        Ok(Some((self.history.load(aws)?.events, t)))
    }

    /// Checks the options: `--at` needs `--history`, and `--history` means nothing without `--at`.
    pub fn check(&self) -> anyhow::Result<()> {
        match (self.at.is_some(), self.history.history.is_empty()) {
            (true, true) => anyhow::bail!(
                "--at needs --history SRC (CloudTrail or AWS Config files or folders): the changes to undo to go back to that time"
            ),
            (false, false) => anyhow::bail!(
                "--history needs --at TIME here: the time to judge the network at"
            ),
            _ => Ok(()),
        }
    }

    /// With `--at`, the snapshot turned back to that time (what cannot be known withheld, so
    /// that verdicts depending on it are `unknown` naming the change); else `None`.
    pub fn apply(&self, snap: &Snapshot, aws: &AwsArgs) -> anyhow::Result<Option<AtModel>> {
        let Some(at) = self.at else {
            return Ok(None);
        };
        let t = self.history.snapshot_time(snap)?;
        let h = self.history.load(aws)?;
        let u = vpcreach::history::at(snap, &h.events, t, at.start);
        if at.start > t {
            eprintln!(
                "note: --at {} is after the snapshot's time ({}): the changes in between are not applied, the model is the snapshot's",
                vpcreach::timestamp::Rfc3339(at.start),
                vpcreach::timestamp::Rfc3339(t)
            );
        }
        if u.after_snapshot > 0 {
            eprintln!(
                "note: {} change(s) after the snapshot's time ({}) are already not in it",
                u.after_snapshot,
                vpcreach::timestamp::Rfc3339(t)
            );
        }
        let m = AtModel {
            snapshot: u.snapshot,
            at: at.start,
            snapshot_time: t,
            undone: u.undone,
            events: h.events,
        };
        // Which time the model is for, and what is unknown then, is said by the output itself
        // (its first lines, or `model` in JSON).
        Ok(Some(m))
    }
}
