//! Where a command's inputs come from: a snapshot folder (or, with `--live`, the AWS API), and
//! flow logs from files and folders (or S3 and CloudWatch Logs).

use anyhow::Context;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use vpcreach::aws::{AwsOptions, FetchProgress, Progress, Scope, TimeArg, Window};
use vpcreach::Snapshot;

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
}

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
        }
    }
}

/// Options that choose the snapshot.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapshotSource {
    /// Folder of saved `aws ec2 describe-*` JSON (or one JSON file), as `vpcreach collect` writes.
    #[arg(long, value_name = "DIR", required_unless_present = "live")]
    pub snapshot: Option<PathBuf>,
    /// Read the configuration from the AWS API now (read-only EC2 calls, as `vpcreach collect`
    /// makes) instead of from a folder.
    #[arg(long, conflicts_with = "snapshot")]
    pub live: bool,
    #[command(flatten)]
    pub aws: AwsArgs,
}

impl SnapshotSource {
    /// Loads the snapshot: from the folder, or with `--live` from the AWS API into memory.
    pub fn load(&self) -> anyhow::Result<Snapshot> {
        match &self.snapshot {
            Some(path) if !self.live => Snapshot::load(path)
                .with_context(|| format!("cannot load the snapshot `{}`", path.display())),
            _ => {
                // Progress only on a terminal: `--live` output is often piped or parsed.
                let progress: Arc<dyn Progress> = if std::io::stderr().is_terminal() {
                    Arc::new(StderrProgress::new(true))
                } else {
                    Arc::new(vpcreach::aws::NoProgress)
                };
                let collected = vpcreach::aws::collect(&self.aws.options(), progress)?;
                let mut snap = collected.to_snapshot();
                snap.collected_at = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .ok()
                    .and_then(|d| i64::try_from(d.as_secs()).ok());
                Ok(snap)
            }
        }
    }
}

/// The items each call of a scope returned.
type CallCounts = Vec<(Scope, Vec<(&'static str, usize)>)>;

/// Progress of collection on stderr: a bar on a terminal, one line per region otherwise.
pub struct StderrProgress {
    bar: Option<indicatif::ProgressBar>,
    counts: Mutex<CallCounts>,
}

impl StderrProgress {
    /// A bar (`bar`) or plain lines.
    pub fn new(bar: bool) -> StderrProgress {
        let bar = bar.then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{elapsed:>4} [{bar:30}] {pos}/{len} calls  {msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        StderrProgress {
            bar,
            counts: Mutex::new(Vec::new()),
        }
    }

    fn summary(&self, scope: &Scope) -> String {
        let counts = self.counts.lock().map(|c| c.clone()).unwrap_or_default();
        let calls = counts
            .iter()
            .find(|(s, _)| s == scope)
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        let words: Vec<String> = calls
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(call, n)| format!("{n} {}", noun(call)))
            .collect();
        if words.is_empty() {
            "nothing".into()
        } else {
            words.join(", ")
        }
    }
}

/// What a call lists, in words.
fn noun(call: &str) -> &'static str {
    match call {
        "DescribeVpcs" => "VPCs",
        "DescribeSubnets" => "subnets",
        "DescribeRouteTables" => "route tables",
        "DescribeNetworkAcls" => "network ACLs",
        "DescribeSecurityGroups" => "security groups",
        "DescribeNetworkInterfaces" => "network interfaces",
        "DescribeInstances" => "reservations",
        "DescribeInternetGateways" => "internet gateways",
        "DescribeEgressOnlyInternetGateways" => "egress-only internet gateways",
        "DescribeNatGateways" => "NAT gateways",
        "DescribeVpcPeeringConnections" => "peering connections",
        "DescribePrefixLists" => "AWS prefix lists",
        "DescribeManagedPrefixLists" => "managed prefix lists",
        "DescribeVpcEndpoints" => "VPC endpoints",
        "DescribeAddresses" => "Elastic IPs",
        "DescribeTransitGateways" => "transit gateways",
        "DescribeTransitGatewayAttachments" => "TGW attachments",
        "DescribeTransitGatewayVpcAttachments" => "TGW VPC attachments",
        "DescribeTransitGatewayRouteTables" => "TGW route tables",
        _ => "items",
    }
}

impl Progress for StderrProgress {
    fn start(&self, scopes: &[Scope]) {
        let names: Vec<String> = scopes.iter().map(Scope::to_string).collect();
        match &self.bar {
            Some(bar) => {
                bar.set_length((scopes.len() * vpcreach::aws::CALLS.len()) as u64);
                bar.set_message(format!("reading {}", names.join(", ")));
            }
            None => eprintln!(
                "collecting {} region(s): {}",
                scopes.len(),
                names.join(", ")
            ),
        }
    }

    fn call_done(&self, scope: &Scope, call: &'static str, items: usize) {
        if let Ok(mut counts) = self.counts.lock() {
            match counts.iter_mut().find(|(s, _)| s == scope) {
                Some((_, calls)) => calls.push((call, items)),
                None => counts.push((scope.clone(), vec![(call, items)])),
            }
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!("{scope}: {call} ({items})"));
        }
    }

    fn scope_done(&self, scope: &Scope) {
        let line = format!("{scope}: {}", self.summary(scope));
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

impl Drop for StderrProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The time window of flow logs read from S3 and CloudWatch Logs (`--since`, `--until`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FlowWindow {
    /// Read remote flow logs (`s3://`, `cloudwatch://`) from this time on: S3 objects by the
    /// date in their key, CloudWatch events by their time. An RFC 3339 date (the whole day,
    /// UTC) or date-time, e.g. 2024-05-01 or 2024-05-01T13:00:00Z.
    #[arg(long, value_name = "TIME")]
    pub since: Option<TimeArg>,
    /// Read remote flow logs up to this time (a date includes its whole day).
    #[arg(long, value_name = "TIME")]
    pub until: Option<TimeArg>,
}

impl FlowWindow {
    /// The window, checked to be non-empty.
    pub fn window(&self) -> anyhow::Result<Window> {
        let window = Window::new(self.since, self.until);
        if let (Some(since), Some(until)) = (window.since, window.until) {
            if since >= until {
                anyhow::bail!("`--since` must be before `--until`");
            }
        }
        Ok(window)
    }
}

/// Flow-log inputs as local paths the flow-log reader can open. Remote inputs are fetched into
/// `_scratch`, which lives as long as the returned value.
pub struct FlowInputs {
    /// Files and folders to read, in order.
    pub paths: Vec<PathBuf>,
    /// For each fetched file, its remote name (`s3://bucket/key`, `cloudwatch://group/stream`).
    pub remote_names: Vec<(PathBuf, String)>,
    /// Temporary storage for fetched inputs (dropped with the value).
    pub _scratch: Option<tempfile::TempDir>,
}

impl FlowInputs {
    /// The remote name of a fetched file, for messages; `None` for local inputs.
    pub fn remote_name(&self, file: &Path) -> Option<&str> {
        self.remote_names
            .iter()
            .find(|(p, _)| p == file)
            .map(|(_, n)| n.as_str())
    }
}

/// Byte progress of downloads on stderr (a bar on a terminal only).
struct FetchBar(indicatif::ProgressBar);

impl FetchProgress for FetchBar {
    fn listed(&self, objects: usize, bytes: u64) {
        self.0.set_length(bytes);
        self.0.set_message(format!("{objects} object(s)"));
    }
    fn fetched(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}

/// Resolves the flow-log arguments of a command: local files and folders as they are;
/// `s3://BUCKET/PREFIX` and `cloudwatch://LOG_GROUP` fetched (within `window`, with the AWS
/// options of `aws`) into a scratch folder, one file per S3 object or log stream.
pub fn flow_inputs_with(
    args: &[PathBuf],
    window: &FlowWindow,
    aws: &AwsArgs,
) -> anyhow::Result<FlowInputs> {
    let window = window.window()?;
    let mut inputs = FlowInputs {
        paths: Vec::new(),
        remote_names: Vec::new(),
        _scratch: None,
    };
    let options = aws.options();
    let terminal = std::io::stderr().is_terminal();
    for arg in args {
        let location = match arg.to_str().and_then(vpcreach::aws::parse_location) {
            Some(location) => location?,
            None => {
                inputs.paths.push(arg.clone());
                continue;
            }
        };
        if inputs._scratch.is_none() {
            let scratch = tempfile::Builder::new()
                .prefix("vpcreach-flows-")
                .tempdir()
                .context("cannot create a scratch folder for remote flow logs")?;
            inputs._scratch = Some(scratch);
        }
        let Some(scratch) = inputs._scratch.as_ref() else {
            continue;
        };
        let progress: Arc<dyn FetchProgress> = if terminal {
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
        let fetched = vpcreach::aws::fetch(&location, &window, &options, scratch.path(), progress)?;
        for note in &fetched.notes {
            eprintln!("note: {location}: {note}");
        }
        eprintln!(
            "fetched {} file(s), {} bytes, from {location}{window}",
            fetched.files.len(),
            fetched.bytes
        );
        for (file, name) in fetched.files.iter().zip(fetched.names) {
            inputs.remote_names.push((file.clone(), name));
        }
        inputs.paths.extend(fetched.files);
    }
    if !window.is_open() && inputs.remote_names.is_empty() {
        eprintln!(
            "warning: `--since`/`--until` choose only remote flow logs (s3://, cloudwatch://); local files are read whole"
        );
    }
    Ok(inputs)
}
