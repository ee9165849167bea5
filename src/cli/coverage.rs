//! `vpcreach coverage`: which flow logs capture each VPC, subnet and ENI of a snapshot, what they
//! keep, whether they deliver, and which fields the explanation needs that their formats lack.

use std::io::Write;
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
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub output: CoverageOutput,
}

/// Runs `vpcreach coverage`: exit 0 with the report, 2 on errors.
pub fn run(args: CoverageArgs) -> anyhow::Result<u8> {
    let snap = args.source.load()?;
    let net = Network::build(&snap);
    super::report_model(&snap, &net);
    let coverage = Coverage::of(&snap, &net);
    let text = match args.output {
        CoverageOutput::Human => vpcreach::render::coverage::human(&coverage),
        CoverageOutput::Json => {
            let mut s = serde_json::to_string_pretty(&vpcreach::render::coverage::json(&coverage))?;
            s.push('\n');
            s
        }
        CoverageOutput::Markdown => vpcreach::render::coverage::markdown(&coverage),
    };
    super::write_stdout(&text)?;
    std::io::stdout().flush()?;
    Ok(0)
}
