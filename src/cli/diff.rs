//! `vpcreach diff OLD NEW`: the reachability delta between two snapshots, as a change-review
//! gate: exit 0 when nothing changed, 1 when something did, 2 on error.

use std::io::Write;
use std::path::PathBuf;
use vpcreach::{Network, Snapshot};

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffOutput {
    /// A readable report.
    Human,
    /// JSON: `{"opened": [...], "closed": [...], "enis": N, "notes": [...]}`.
    Json,
    /// Markdown tables, for a pull request.
    Markdown,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
}

/// Arguments of `vpcreach diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The snapshot before the change (a folder or file as `--snapshot` takes).
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The snapshot after the change.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub output: DiffOutput,
}

fn load(path: &std::path::Path, which: &str) -> anyhow::Result<(Snapshot, Network)> {
    use anyhow::Context;
    let snap = Snapshot::load(path)
        .with_context(|| format!("cannot read the {which} snapshot `{}`", path.display()))?;
    let net = Network::build(&snap);
    super::report_model(&snap, &net);
    Ok((snap, net))
}

/// Runs `vpcreach diff`: exit 0 when nothing changed, 1 when something did, 2 on errors.
pub fn run(args: DiffArgs) -> anyhow::Result<u8> {
    let (_, old) = load(&args.old, "old")?;
    let (_, new) = load(&args.new, "new")?;
    let delta = vpcreach::diff::diff(&old, &new);
    let text = match args.output {
        DiffOutput::Human => vpcreach::render::diff::human(&delta),
        DiffOutput::Json => {
            let mut s = serde_json::to_string_pretty(&vpcreach::render::diff::json(&delta))?;
            s.push('\n');
            s
        }
        DiffOutput::Markdown => vpcreach::render::diff::markdown(&delta),
        DiffOutput::Sarif => {
            let mut s = serde_json::to_string_pretty(&vpcreach::render::diff::sarif(&delta))?;
            s.push('\n');
            s
        }
    };
    super::write_stdout(&text)?;
    std::io::stdout().flush()?;
    Ok(if delta.is_empty() { 0 } else { 1 })
}
