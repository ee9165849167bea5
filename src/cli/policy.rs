//! `vpcreach policy check`: reads policy files and reports every mistake at once, with file,
//! line and column, and — given a snapshot — the AWS ids it does not hold.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use vpcreach::policy::{PolicyError, PolicySet};

/// Arguments of `vpcreach policy`.
#[derive(Debug, clap::Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    command: PolicyCommand,
}

#[derive(Debug, clap::Subcommand)]
enum PolicyCommand {
    /// Check policy files: every mistake at once with file, line and column, and with
    /// `--snapshot`, the AWS ids and security-group names it does not hold.
    Check(CheckArgs),
}

/// Arguments of `vpcreach policy check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// A policy file, or a folder whose `.toml` files (sub-folders included) are the policies.
    #[arg(value_name = "DIR")]
    pub policies: PathBuf,
    /// Also check the ENI, instance, security group, subnet, VPC and prefix-list ids (and
    /// security-group names) against this snapshot folder.
    #[arg(long, value_name = "DIR")]
    pub snapshot: Option<PathBuf>,
}

/// Runs `vpcreach policy …`: exit 0 when the policies are sound, 2 when they have mistakes.
pub fn run(args: PolicyArgs) -> anyhow::Result<u8> {
    match args.command {
        PolicyCommand::Check(args) => check(args),
    }
}

fn check(args: CheckArgs) -> anyhow::Result<u8> {
    // Ids are checked against the snapshot even in files with other mistakes: all at once.
    let (set, errors) = PolicySet::load_partial(&args.policies);
    print_errors(&set.warnings, "warning");
    let mut errors = errors.errors;
    if let Some(dir) = &args.snapshot {
        use anyhow::Context;
        let snap = vpcreach::Snapshot::load(dir)
            .with_context(|| format!("cannot load the snapshot `{}`", dir.display()))?;
        for w in &snap.warnings {
            eprintln!("warning: {}", vpcreach::render::sanitize_line(w));
        }
        let net = vpcreach::Network::build(&snap);
        errors.extend(vpcreach::policy::unknown_ids(&set, &net));
    }
    if !errors.is_empty() {
        let errors = vpcreach::policy::PolicyErrors::sorted(errors).errors;
        print_errors(&errors, "error");
        eprintln!("{}", count(&errors, "error"));
        return Ok(2);
    }
    let statements = set.statements().count();
    let groups: usize = set.files.iter().map(|f| f.groups.len()).sum();
    let against = args
        .snapshot
        .as_ref()
        .map(|s| format!(", ids checked against `{}`", s.display()))
        .unwrap_or_default();
    super::write_stdout(&format!(
        "ok: {} file(s), {statements} statement(s), {groups} group(s){against}\n",
        set.files.len()
    ))?;
    Ok(0)
}

fn count(errors: &[PolicyError], what: &str) -> String {
    let files: std::collections::BTreeSet<&PathBuf> =
        errors.iter().map(|e| &e.location.file).collect();
    format!("{} {what}(s) in {} file(s)", errors.len(), files.len())
}

/// Prints mistakes on stderr, each as `file:line:column: error: message` followed by the line
/// of the file with the mistake underlined and the help, as compilers do.
pub fn print_errors(errors: &[PolicyError], label: &str) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let paint = |text: &str, code: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let mut texts: HashMap<PathBuf, Option<String>> = HashMap::new();
    for e in errors {
        let l = &e.location;
        let tag = paint(label, if label == "error" { "1;31" } else { "1;33" });
        if l.line == 0 {
            eprintln!(
                "{}: {tag}: {}",
                vpcreach::render::sanitize_line(&l.file.display().to_string()),
                vpcreach::render::sanitize_line(&e.message)
            );
            continue;
        }
        eprintln!(
            "{}:{}:{}: {tag}: {}",
            vpcreach::render::sanitize_line(&l.file.display().to_string()),
            l.line,
            l.column,
            vpcreach::render::sanitize_line(&e.message)
        );
        let text = texts
            .entry(l.file.clone())
            .or_insert_with(|| std::fs::read_to_string(&l.file).ok());
        if let Some(line) = text.as_deref().and_then(|t| t.lines().nth(l.line - 1)) {
            let line = vpcreach::render::sanitize(line);
            let number = l.line.to_string();
            let pad = " ".repeat(number.len());
            let caret_pad = " ".repeat(l.column.saturating_sub(1));
            let room = line.chars().count().saturating_sub(l.column - 1).max(1);
            let carets = "^".repeat(e.length.clamp(1, room));
            eprintln!("{pad} |");
            eprintln!("{number} | {line}");
            eprintln!("{pad} | {caret_pad}{}", paint(&carets, "1;31"));
            if let Some(help) = &e.help {
                eprintln!("{pad} = help: {}", vpcreach::render::sanitize_line(help));
            }
        } else if let Some(help) = &e.help {
            eprintln!("  = help: {}", vpcreach::render::sanitize_line(help));
        }
    }
}
