//! `vpcreach collect`: read the network configuration of AWS accounts and regions (read-only
//! EC2 calls) into a snapshot folder that `--snapshot` reads.

use super::aws::AwsArgs;
use std::path::PathBuf;
#[cfg(feature = "aws")]
use {
    super::progress::StderrProgress,
    anyhow::Context,
    std::io::IsTerminal,
    std::sync::Arc,
    vpcreach::aws::{NoProgress, Progress},
};

/// Arguments of `vpcreach collect`.
#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Folder to write: `<region>/…` (or `accounts/<id>/<region>/…` with `--role-arn`), one
    /// JSON file per `describe-*` result. Written complete or not at all; an earlier snapshot
    /// there is replaced, any other existing folder is left alone (an error).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print no progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Without the `aws` feature, `collect` is an error.
#[cfg(not(feature = "aws"))]
pub fn run(_args: CollectArgs) -> anyhow::Result<u8> {
    anyhow::bail!("`collect`: this vpcreach was built without AWS access (the `aws` cargo feature)")
}

/// Runs `vpcreach collect`: exit 0 when the snapshot is written, 2 on errors.
#[cfg(feature = "aws")]
pub fn run(args: CollectArgs) -> anyhow::Result<u8> {
    let progress: Arc<dyn Progress> = if args.quiet {
        Arc::new(NoProgress)
    } else {
        Arc::new(StderrProgress::new(std::io::stderr().is_terminal()))
    };
    // A folder that cannot take the snapshot is an error before any API call.
    vpcreach::aws::check_out(&args.out)?;
    let collected = vpcreach::aws::collect(&args.aws.options(), Arc::clone(&progress))?;
    drop(progress);
    // Never a silent gap: an API the endpoint does not offer is named, even with --quiet.
    for n in collected.not_collected() {
        eprintln!("warning: {}", vpcreach::render::sanitize_line(&n));
    }
    collected
        .write(&args.out)
        .with_context(|| format!("cannot write the snapshot to `{}`", args.out.display()))?;
    for r in &collected.regions {
        for what in &r.elb.not_collected {
            eprintln!(
                "warning: {}: not collected: {}; load-balancer paths there are unknown",
                vpcreach::render::sanitize_line(&r.scope.region),
                vpcreach::render::sanitize_line(what)
            );
        }
    }
    if !args.quiet {
        let snap = collected.to_snapshot();
        let counts: Vec<String> = snap
            .counts()
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{n} {what}"))
            .collect();
        eprintln!(
            "wrote {} ({} region(s)): {}",
            vpcreach::render::sanitize_line(&args.out.display().to_string()),
            collected.regions.len(),
            if counts.is_empty() {
                "no resources".to_string()
            } else {
                counts.join(", ")
            }
        );
    }
    Ok(0)
}
