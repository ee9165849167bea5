//! `vpcreach coverage`: which flow logs capture each VPC, subnet and ENI of a snapshot, what they
//! keep, whether they deliver, and which fields the explanation needs that their formats lack;
//! with flow-log inputs, what the records themselves say per ENI.

use std::io::Write;
use vpcreach::coverage::records::{Observed, Records};
use vpcreach::coverage::Coverage;
use vpcreach::Network;

/// Output formats of `coverage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CoverageOutput {
    /// A readable report.
    Human,
    /// JSON: `flow_logs`, `vpcs`, `subnets`, `enis`, `totals`.
    Json,
    /// Markdown tables, for a pull request or a wiki.
    Markdown,
}

/// Arguments of `vpcreach coverage`.
#[derive(Debug, clap::Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    pub source: super::source::SnapshotSource,
    /// Flow-log files or folders (`.log`, `.gz`, … as S3 lays them out), `-` for standard input,
    /// `s3://BUCKET/PREFIX` or `cloudwatch://LOG_GROUP`: adds the records seen per ENI, their
    /// NODATA and SKIPDATA windows, covered ENIs that sent nothing, and records of ENIs no
    /// flow log of the snapshot covers.
    #[arg(value_name = "FLOWS")]
    pub flows: Vec<std::path::PathBuf>,
    /// Format of records in files without a header line [default: the version 2 format].
    #[arg(long, value_name = "FORMAT", requires = "flows")]
    pub format: Option<String>,
    /// Worker threads for flow logs, 1 to 256 [default: one per core].
    #[arg(long, short = 'j', value_name = "N", value_parser = super::threads_arg)]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub output: CoverageOutput,
    #[command(flatten)]
    pub window: super::source::FlowWindow,
}

/// Runs `vpcreach coverage`: exit 0 with the report, 2 on errors (an input that could not be
/// read: the report of the rest is still printed).
pub fn run(args: CoverageArgs) -> anyhow::Result<u8> {
    let format = super::format_arg(args.format.as_deref())?;
    let snap = args.source.load()?;
    let net = Network::build(&snap);
    super::report_model(&snap, &net);
    let coverage = Coverage::of(&snap, &net);
    let mut errors = Vec::new();
    let observed = if args.flows.is_empty() {
        None
    } else {
        let inputs = super::source::flow_inputs_with(&args.flows, &args.window, &args.source.aws)?;
        let records = Records::read(inputs.paths.clone(), format, args.threads.unwrap_or(0));
        let name = |text: &str| {
            // Fetched inputs are named as the user gave them (`s3://…`).
            inputs
                .remote_names
                .iter()
                .fold(text.to_string(), |t, (p, n)| {
                    t.replace(&p.display().to_string(), n)
                })
        };
        for w in &records.warnings {
            eprintln!("warning: {}", vpcreach::render::sanitize_line(&name(w)));
        }
        for e in &records.errors {
            eprintln!("error: {}", vpcreach::render::sanitize_line(&name(e)));
            errors.push(name(e));
        }
        let o = Observed::of(&coverage, &records);
        // Totals add up: every record line is counted once, every valid record at one place.
        debug_assert!(o.adds_up());
        Some(o)
    };
    let text = match args.output {
        CoverageOutput::Human => vpcreach::render::coverage::human(&coverage, observed.as_ref()),
        CoverageOutput::Json => {
            let mut v = vpcreach::render::coverage::json(&coverage, observed.as_ref());
            if observed.is_some() {
                v["errors"] = serde_json::json!(errors);
                v["complete"] = serde_json::json!(errors.is_empty());
            }
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            s
        }
        CoverageOutput::Markdown => {
            vpcreach::render::coverage::markdown(&coverage, observed.as_ref())
        }
    };
    super::write_stdout(&text)?;
    std::io::stdout().flush()?;
    Ok(if errors.is_empty() { 0 } else { 2 })
}
