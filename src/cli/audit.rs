//! `vpcreach audit`: intended policy against the configuration (and observed traffic), as a
//! report for people or dashboards and an exit code for a scheduled job.

use anyhow::Context;
use std::io::IsTerminal;
use std::path::PathBuf;
use vpcreach::audit::analysis::{
    observed_audit_with, static_audit_packed, AuditOptions, FlowOptions, GroupBy,
};
use vpcreach::audit::report::{
    merge, Baseline, Day, Report, ReportOptions, ResourceTags, Suppressions,
};
use vpcreach::policy::{PolicySet, Severity};
use vpcreach::Network;

/// Output formats of `audit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditOutput {
    /// A table for a terminal.
    Human,
    /// `{"findings": [...], "resolved": [...], "summary": {...}, "warnings": [...]}` (the
    /// input of a later `--baseline`).
    Json,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// A report for a pull request or a ticket.
    Markdown,
}

/// Arguments of `vpcreach audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub source: super::source::SnapshotSource,
    /// A policy file, or a folder whose `.toml` files are the policies (e.g. `policies/`).
    #[arg(long, value_name = "DIR")]
    pub policies: PathBuf,
    /// Flow logs to check the policies against too (files, folders, `.gz`, `s3://…`,
    /// `cloudwatch://…`).
    #[arg(long, value_name = "FLOWS", num_args = 1..)]
    pub flows: Vec<PathBuf>,
    /// Format of flow-log records in files without a header line.
    #[arg(long, value_name = "FORMAT", requires = "flows")]
    pub format: Option<String>,
    /// Worker threads for flow logs, 1 to 256 [default: one per core].
    #[arg(long, short = 'j', value_name = "N", value_parser = super::threads_arg)]
    pub threads: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub output: AuditOutput,
    /// Fail (exit 1) only on findings at or above this severity: low, medium, high, critical.
    #[arg(long, value_name = "SEVERITY", default_value = "low", value_parser = parse_severity)]
    pub fail_on: Severity,
    /// A previous run's `--output json`: findings are marked new or unchanged, resolved ones
    /// are listed, and only new findings fail the run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Accepted risks (TOML `[[suppression]]` entries with a reason and an expiry date).
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// `cause` (default): one finding per cause (the rule that makes a check fail), listing the
    /// ENIs it affects; `eni`: one finding per ENI, as before grouping.
    #[arg(long, value_enum, default_value = "cause")]
    pub group_by: GroupByArg,
    #[command(flatten)]
    pub window: super::source::FlowWindow,
    #[command(flatten)]
    pub at: super::history::AtArgs,
}

/// How findings about ENIs are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GroupByArg {
    /// One finding per cause, listing its ENIs.
    Cause,
    /// One finding per ENI.
    Eni,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    match s {
        "low" => Ok(Severity::Low),
        "medium" => Ok(Severity::Medium),
        "high" => Ok(Severity::High),
        "critical" => Ok(Severity::Critical),
        _ => Err("expected `low`, `medium`, `high` or `critical`".into()),
    }
}

/// Runs `vpcreach audit`: exit 0 when no finding fails the run, 1 when one does, 2 on errors.
pub fn run(args: AuditArgs) -> anyhow::Result<u8> {
    // Everything the user wrote is checked before the (possibly long) analysis starts.
    let policies = match PolicySet::load(&args.policies) {
        Ok(p) => {
            super::policy::print_errors(&p.warnings, "warning");
            p
        }
        Err(e) => {
            super::policy::print_errors(&e.errors, "error");
            anyhow::bail!(
                "{} mistake(s) in the policies `{}`",
                e.errors.len(),
                args.policies.display()
            );
        }
    };
    let suppressions = match &args.suppressions {
        Some(path) => match Suppressions::load(path) {
            Ok(s) => Some(s),
            Err(e) => {
                super::policy::print_errors(&e.errors, "error");
                anyhow::bail!(
                    "{} mistake(s) in the suppressions `{}`",
                    e.errors.len(),
                    path.display()
                );
            }
        },
        None => None,
    };
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };
    let format = super::format_arg(args.format.as_deref())?;
    args.at.check_audit()?;

    let snap = args.source.load()?;
    let model = args.at.apply(&snap, &args.source.aws)?;
    // With a history: the snapshot as taken, the changes, its time and the time judged, to name
    // the change that introduced each finding.
    let alone = args.at.history_alone(&snap, &args.source.aws)?;
    let history = match (&model, alone) {
        (Some(m), _) => Some((snap.clone(), m.events.clone(), m.snapshot_time, m.at)),
        (None, Some((events, t))) => Some((snap.clone(), events, t, t)),
        (None, None) => None,
    };
    let mut snap = match &model {
        Some(m) => m.snapshot.clone(),
        None => snap,
    };
    // The tags are all the report needs of the snapshot. The security groups (most of a large
    // snapshot) are dropped one by one as they are compiled, and the rest before the analysis,
    // so the audit's peak memory never holds the parsed JSON beside the model in full.
    let tags = ResourceTags::from_snapshot(&snap);
    let net = Network::build_taking_groups(&mut snap);
    super::report_model(&snap, &net);
    let coverage = vpcreach::coverage::Coverage::of(&snap, &net);
    let snapshot_files = snap.files.clone();
    drop(snap);
    let unknown = vpcreach::policy::unknown_ids(&policies, &net);
    if !unknown.is_empty() {
        super::policy::print_errors(&unknown, "warning");
    }

    let group_by = match args.group_by {
        GroupByArg::Cause => GroupBy::Cause,
        GroupByArg::Eni => GroupBy::Eni,
    };
    // The grouped findings stay packed until the model is dropped (below), unless a step that
    // needs the model reads them.
    let mut result = static_audit_packed(&net, &policies, AuditOptions { group_by });
    if !policies.checks.is_empty() {
        vpcreach::audit::flow_logs::flow_log_audit(&mut result, &coverage, &policies.checks);
    }
    if !args.flows.is_empty() {
        let inputs = super::source::flow_inputs_with(&args.flows, &args.window, &args.source.aws)?;
        let options = FlowOptions {
            paths: inputs.paths.clone(),
            format,
            threads: args.threads.unwrap_or(0),
        };
        let observed = observed_audit_with(&net, &policies, &options, Some(&coverage))
            .context("observed audit")?;
        // An input that could not be read does not lose the rest: it is named, the report is
        // marked incomplete and the exit code is 2.
        for e in &observed.errors {
            eprintln!("error: {}", vpcreach::render::sanitize_line(e));
        }
        result = merge(result, observed);
    }

    if let Some((original, events, snapshot_time, t)) = &history {
        result.unpack();
        vpcreach::history::introduced_by(
            original,
            *snapshot_time,
            events,
            *t,
            &net,
            &mut result.findings,
        );
    }

    // The report and its rendering need the findings, not the model: an organization's model
    // (a gigabyte at 100,000 ENIs) is given back before the report is built beside the findings.
    drop(history);
    drop(coverage);
    drop(net);
    let report = Report::build(
        result,
        &policies,
        ReportOptions {
            fail_on: args.fail_on,
            today: Day::today(),
            baseline: baseline.as_ref(),
            suppressions: suppressions.as_ref(),
            tags: &tags,
        },
    );
    for w in &report.warnings {
        eprintln!("warning: {}", vpcreach::render::sanitize_line(w));
    }
    let text = match args.output {
        AuditOutput::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            with_model(
                model.as_ref(),
                vpcreach::render::audit::human::report(&report, color),
            )
        }
        // With `--at`: the report and the description of the model, made in memory.
        AuditOutput::Json if model.is_some() => {
            let text = vpcreach::render::audit::json::report(&report);
            match &model {
                Some(m) => {
                    let mut v: serde_json::Value = serde_json::from_str(&text)?;
                    if let Some(o) = v.as_object_mut() {
                        o.insert("model".into(), m.json());
                    }
                    let mut s = serde_json::to_string_pretty(&v)?;
                    s.push('\n');
                    s
                }
                None => text,
            }
        }
        // Written as it is made: an organization's report runs to hundreds of MB.
        AuditOutput::Json => {
            let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            match vpcreach::render::audit::json::write(&report, out) {
                Ok(()) => return Ok(report.exit_code()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
                Err(e) => return Err(e.into()),
            }
        }
        // Written as it is made, like the JSON.
        AuditOutput::Sarif => {
            let located =
                vpcreach::render::audit::sarif::resource_locations(&report, &snapshot_files);
            let out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
            match vpcreach::render::audit::sarif::write_located(&report, &located, out) {
                Ok(()) => return Ok(report.exit_code()),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
                Err(e) => return Err(e.into()),
            }
        }
        AuditOutput::Markdown => with_model(
            model.as_ref(),
            vpcreach::render::audit::markdown::report(&report),
        ),
    };
    super::write_stdout(&text)?;
    Ok(report.exit_code())
}

/// With `--at`, the report preceded by which time the model is for and what is unknown then.
fn with_model(model: Option<&super::history::AtModel>, text: String) -> String {
    match model {
        Some(m) => format!("{}\n\n{text}", m.line()),
        None => text,
    }
}
