//! Reaching AWS from the command line: the options every command shares (`--profile`,
//! `--region`, `--role-arn`), a snapshot read live (`--live`), remote flow logs (`s3://`,
//! `cloudwatch://`) and the progress shown meanwhile. A build without the `aws` cargo feature
//! keeps the options, so that commands parse the same, and answers each use of them with an
//! error that says why.

use std::path::{Path, PathBuf};
use vpcreach::timestamp::Window;
use vpcreach::Snapshot;
#[cfg(feature = "aws")]
use {
    super::progress::{FetchBar, StderrProgress},
    std::io::IsTerminal,
    std::sync::Arc,
    vpcreach::aws::{AwsOptions, FetchProgress, Progress},
};

const AWS_HEADING: &str = "AWS access (standard credential chain; keys never on the command line)";

/// How to reach AWS: profile, regions, role. Credentials and endpoints come only from the
/// standard AWS chain (environment, shared config and credentials files, SSO, web identity,
/// container and instance metadata; `AWS_ENDPOINT_URL` and `AWS_REGION` honoured).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AwsArgs {
    /// Profile of the shared AWS config and credentials files [default: AWS_PROFILE, or `default`].
    #[arg(long, value_name = "PROFILE", help_heading = AWS_HEADING)]
    pub profile: Option<String>,
    /// Region to read; repeat for several [default: AWS_REGION, or the profile's region].
    #[arg(long = "region", value_name = "REGION", help_heading = AWS_HEADING)]
    pub regions: Vec<String>,
    /// Read every region enabled for the account.
    #[arg(long, conflicts_with = "regions", help_heading = AWS_HEADING)]
    pub all_regions: bool,
    /// IAM role to assume first (read-only access is enough); the snapshot then goes under
    /// `accounts/<its account>/<region>/`.
    #[arg(long, value_name = "ARN", help_heading = AWS_HEADING)]
    pub role_arn: Option<String>,
    /// External id that the role's trust policy requires.
    #[arg(long, value_name = "ID", requires = "role_arn", help_heading = AWS_HEADING)]
    pub external_id: Option<String>,
    /// Seconds allowed to connect to an AWS endpoint [default: 10].
    #[arg(long, value_name = "SECS", value_parser = seconds, help_heading = AWS_HEADING)]
    pub connect_timeout: Option<std::time::Duration>,
    /// Seconds allowed for an endpoint to answer, or to send the next bytes of a download
    /// [default: 60].
    #[arg(long, value_name = "SECS", value_parser = seconds, help_heading = AWS_HEADING)]
    pub read_timeout: Option<std::time::Duration>,
    /// Seconds allowed for one API call, retries included [default: 300].
    #[arg(long, value_name = "SECS", value_parser = seconds, help_heading = AWS_HEADING)]
    pub operation_timeout: Option<std::time::Duration>,
    /// Pages of one paginated API call before it is stopped as an error (a token handed out
    /// twice stops it too) [default: 10000].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000_000), help_heading = AWS_HEADING)]
    pub max_pages: Option<u32>,
}

/// A number of seconds, 1 to 86400.
fn seconds(text: &str) -> Result<std::time::Duration, String> {
    match text.parse::<u64>() {
        Ok(n @ 1..=86_400) => Ok(std::time::Duration::from_secs(n)),
        _ => Err("expected a whole number of seconds from 1 to 86400".into()),
    }
}

#[cfg(feature = "aws")]
impl AwsArgs {
    /// The library's options.
    pub fn options(&self) -> AwsOptions {
        AwsOptions {
            profile: self.profile.clone(),
            regions: self.regions.clone(),
            all_regions: self.all_regions,
            role_arn: self.role_arn.clone(),
            external_id: self.external_id.clone(),
            page_size: None,
            connect_timeout: self.connect_timeout,
            read_timeout: self.read_timeout,
            operation_timeout: self.operation_timeout,
            max_pages: self.max_pages.map(|n| n as usize),
        }
    }
}

/// True for a flow-log argument that names a remote source (`s3://…`, `cloudwatch://…`) rather
/// than a local file or folder.
pub fn is_remote(arg: &Path) -> bool {
    arg.to_str()
        .is_some_and(|s| s.starts_with("s3://") || s.starts_with("cloudwatch://"))
}

#[cfg(not(feature = "aws"))]
const NO_AWS: &str = "this vpcreach was built without AWS access (the `aws` cargo feature): use a saved snapshot (`--snapshot DIR`) and local flow-log files";

/// The snapshot read live from the AWS API (`--live`), with its collection time.
#[cfg(feature = "aws")]
pub fn live_snapshot(aws: &AwsArgs) -> anyhow::Result<Snapshot> {
    // Progress only on a terminal: `--live` output is often piped or parsed.
    let progress: Arc<dyn Progress> = if std::io::stderr().is_terminal() {
        Arc::new(StderrProgress::new(true))
    } else {
        Arc::new(vpcreach::aws::NoProgress)
    };
    let collected = vpcreach::aws::collect(&aws.options(), progress)?;
    let mut snap = collected.to_snapshot();
    snap.collected_at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok());
    Ok(snap)
}

/// Without the `aws` feature, `--live` is an error.
#[cfg(not(feature = "aws"))]
pub fn live_snapshot(_aws: &AwsArgs) -> anyhow::Result<Snapshot> {
    anyhow::bail!("`--live`: {NO_AWS}")
}

/// Fetches one remote flow-log source (`s3://BUCKET/PREFIX`, `cloudwatch://LOG_GROUP`) within
/// `window` into `scratch`, one file per S3 object or log stream; returns each file with its
/// remote name.
#[cfg(feature = "aws")]
pub fn fetch_remote(
    arg: &Path,
    window: &Window,
    aws: &AwsArgs,
    scratch: &Path,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let location = match arg.to_str().and_then(vpcreach::aws::parse_location) {
        Some(location) => location?,
        None => anyhow::bail!("`{}` is not a remote flow-log source", arg.display()),
    };
    let progress: Arc<dyn FetchProgress> = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{elapsed:>4} [{bar:30}] {bytes}/{total_bytes}  {msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Arc::new(FetchBar(bar))
    } else {
        Arc::new(vpcreach::aws::NoProgress)
    };
    let fetched = vpcreach::aws::fetch(&location, window, &aws.options(), scratch, progress)?;
    for note in &fetched.notes {
        eprintln!(
            "note: {}",
            vpcreach::render::sanitize_line(&format!("{location}: {note}"))
        );
    }
    eprintln!(
        "fetched {} file(s), {} bytes, from {}",
        fetched.files.len(),
        fetched.bytes,
        vpcreach::render::sanitize_line(&format!("{location}{window}"))
    );
    Ok(fetched.files.into_iter().zip(fetched.names).collect())
}

/// The flow-log objects of an `s3://` argument, as [`fetch_remote`] would fetch them
/// (`s3://bucket/key` each, in key order), without fetching them: what spreads a prefix over
/// a cluster's executors. Its notes (objects passed over) are printed.
#[cfg(all(feature = "aws", feature = "cluster"))]
pub fn list_remote_objects(
    arg: &Path,
    window: &Window,
    aws: &AwsArgs,
) -> anyhow::Result<Vec<String>> {
    let location = match arg.to_str().and_then(vpcreach::aws::parse_location) {
        Some(location) => location?,
        None => anyhow::bail!("`{}` is not a remote flow-log source", arg.display()),
    };
    let (objects, notes) = vpcreach::aws::list_s3_objects(&location, window, &aws.options())?;
    for note in &notes {
        eprintln!(
            "note: {}",
            vpcreach::render::sanitize_line(&format!("{location}: {note}"))
        );
    }
    Ok(objects)
}

/// True for a `--history` argument that names a remote source (`s3://…`, `cloudtrail://…`).
pub fn is_remote_history(arg: &Path) -> bool {
    arg.to_str()
        .is_some_and(|s| s.starts_with("s3://") || s.starts_with("cloudtrail://"))
}

/// Fetches one remote history source (`s3://BUCKET/PREFIX`, `cloudtrail://REGION`) into
/// `scratch`; returns each file with its remote name.
#[cfg(feature = "aws")]
pub fn fetch_history_remote(
    arg: &Path,
    aws: &AwsArgs,
    scratch: &Path,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let location = match arg.to_str().and_then(vpcreach::aws::parse_history_location) {
        Some(location) => location?,
        None => anyhow::bail!("`{}` is not a remote history source", arg.display()),
    };
    let progress: Arc<dyn FetchProgress> = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{elapsed:>4} {bytes}  {msg}") {
            bar.set_style(style);
        }
        Arc::new(FetchBar(bar))
    } else {
        Arc::new(vpcreach::aws::NoProgress)
    };
    let fetched = vpcreach::aws::fetch_history(&location, &aws.options(), scratch, progress)?;
    for note in &fetched.notes {
        eprintln!(
            "note: {}",
            vpcreach::render::sanitize_line(&format!("{location}: {note}"))
        );
    }
    let what = match location {
        vpcreach::aws::HistoryLocation::S3 { .. } => format!("{} file(s)", fetched.files.len()),
        vpcreach::aws::HistoryLocation::CloudTrail { .. } => {
            format!(
                "{} event(s) of the calls that change reachability",
                fetched.events
            )
        }
    };
    eprintln!(
        "fetched {what}, {} bytes, from {}",
        fetched.bytes,
        vpcreach::render::sanitize_line(&location.to_string())
    );
    Ok(fetched.files.into_iter().zip(fetched.names).collect())
}

/// Without the `aws` feature, a remote history source is an error.
#[cfg(not(feature = "aws"))]
pub fn fetch_history_remote(
    arg: &Path,
    _aws: &AwsArgs,
    _scratch: &Path,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    anyhow::bail!("`--history {}`: {NO_AWS}", arg.display())
}

/// Without the `aws` feature, a remote flow-log source is an error.
#[cfg(all(not(feature = "aws"), feature = "cluster"))]
pub fn list_remote_objects(
    arg: &Path,
    _window: &Window,
    _aws: &AwsArgs,
) -> anyhow::Result<Vec<String>> {
    anyhow::bail!("`{}`: {NO_AWS}", arg.display())
}

/// Without the `aws` feature, a remote flow-log source is an error.
#[cfg(not(feature = "aws"))]
pub fn fetch_remote(
    arg: &Path,
    _window: &Window,
    _aws: &AwsArgs,
    _scratch: &Path,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    anyhow::bail!("`{}`: {NO_AWS}", arg.display())
}
