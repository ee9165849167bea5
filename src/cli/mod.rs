//! Subcommands, one file each. `main` only parses and dispatches here.

pub mod audit;
pub mod aws;
pub mod changes;
#[cfg(feature = "cluster")]
pub mod cluster;
pub mod collect;
pub mod coverage;
pub mod diff;
pub mod explain;
pub mod history;
pub mod parse;
pub mod policy;
#[cfg(feature = "aws")]
pub mod progress;
pub mod query;
pub mod source;
#[cfg(feature = "sql")]
pub mod sql;

use clap::{Parser, Subcommand};

/// Validate AWS security groups, network ACLs and route tables against what the network really does.
#[derive(Debug, Parser)]
#[command(name = "vpcreach", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse VPC Flow Log records and print them as JSON Lines.
    Parse(parse::ParseArgs),
    /// Can A reach B on this port? The forward and return paths, hop by hop, with the rule that
    /// decided each check.
    Query(query::QueryArgs),
    /// Explain flow-log records against the configuration: for each record, the rule that
    /// decided at its ENI and whether the observed action agrees.
    Explain(explain::ExplainArgs),
    /// Read the network configuration of AWS accounts and regions (read-only EC2 calls) into a
    /// snapshot folder that `--snapshot` reads.
    Collect(collect::CollectArgs),
    /// Which flow logs capture each VPC, subnet and ENI, what they keep, whether they deliver,
    /// and which fields the explanation needs that their formats lack; with flow logs, the
    /// records seen per ENI, lost (SKIPDATA) windows and ENIs that sent nothing.
    Coverage(coverage::CoverageArgs),
    /// What changed in reachability between two snapshots: traffic opened and closed at each
    /// ENI, with the rules on each side; exit 0 unchanged, 1 changed, 2 errors.
    Diff(diff::DiffArgs),
    /// Each change of a CloudTrail history in time order: who, when, what, and what it opened
    /// or closed.
    Changes(changes::ChangesArgs),
    /// Check policy files (`vpcreach policy check DIR`): every mistake at once.
    Policy(policy::PolicyArgs),
    /// Audit the configuration (and flow logs) against the intended policy: findings as a
    /// table, JSON, SARIF or Markdown; exit 0 clean, 1 findings, 2 errors.
    Audit(audit::AuditArgs),
    /// SQL over flow-log records, their explanations and the configuration (Apache
    /// DataFusion): tables `flows`, `explained`, `enis`, `security_group_rules`,
    /// `network_acl_entries`, `routes`, `subnets`.
    #[cfg(feature = "sql")]
    Sql(sql::SqlArgs),
    /// Run an Apache DataFusion Ballista scheduler or executor that runs `vpcreach sql
    /// --cluster` queries (`vpcreach cluster scheduler`, `vpcreach cluster executor`).
    #[cfg(feature = "cluster")]
    Cluster(cluster::ClusterArgs),
}

/// Runs the chosen subcommand; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Parse(args) => parse::run(args),
        Command::Query(args) => query::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Collect(args) => collect::run(args),
        Command::Coverage(args) => coverage::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Changes(args) => changes::run(args),
        Command::Policy(args) => policy::run(args),
        Command::Audit(args) => audit::run(args),
        #[cfg(feature = "sql")]
        Command::Sql(args) => sql::run(args),
        #[cfg(feature = "cluster")]
        Command::Cluster(args) => cluster::run(args),
    }
}

/// Writes text to stdout. A closed pipe (`| head`) ends the program quietly, as Unix tools do.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    match query::write_all(text) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e.into()),
    }
}

/// Reads `-j`/`--threads`: 1 to [`vpcreach::flow_log::MAX_THREADS`].
pub fn threads_arg(text: &str) -> Result<usize, String> {
    let max = vpcreach::flow_log::MAX_THREADS;
    match text.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a number of threads from 1 to {max}")),
    }
}

/// Reads `--format`: AWS's format string or field names. Unknown field names are kept (their
/// values as text) with a warning and a suggestion.
pub fn format_arg(text: Option<&str>) -> anyhow::Result<Option<vpcreach::flow_log::Format>> {
    use anyhow::Context;
    let Some(text) = text else { return Ok(None) };
    let format = vpcreach::flow_log::Format::parse(text).context("invalid `--format`")?;
    for name in format.unknown_names() {
        match vpcreach::flow_log::suggest_field(name) {
            Some(known) => eprintln!(
                "warning: `{name}` is not a flow-log field; its values are kept as text (did you mean `{known}`?)"
            ),
            None => eprintln!("warning: `{name}` is not a flow-log field; its values are kept as text"),
        }
    }
    Ok(Some(format))
}

/// Says once, on stderr, what the snapshot holds that the model does not use (resource types
/// not modelled) and what it could not read (bad CIDRs, missing NACLs): never fatal, never
/// silently dropped.
pub fn report_model(snap: &vpcreach::Snapshot, net: &vpcreach::Network) {
    for w in &snap.warnings {
        eprintln!("warning: {}", vpcreach::render::sanitize_line(w));
    }
    if !snap.not_modelled.is_empty() {
        let keys: Vec<String> = snap
            .not_modelled
            .keys()
            .map(|k| vpcreach::render::sanitize(k))
            .collect();
        eprintln!(
            "note: not modelled (paths through them are reported as unknown): {}",
            keys.join(", ")
        );
    }
    const SHOWN: usize = 10;
    for p in net.problems.iter().take(SHOWN) {
        eprintln!("warning: {}", vpcreach::render::sanitize(p));
    }
    if net.problems.len() > SHOWN {
        eprintln!(
            "warning: … and {} more problems in the snapshot",
            net.problems.len() - SHOWN
        );
    }
}
