//! Where a command's inputs come from: a snapshot folder (or, with `--live`, the AWS API), and
//! flow logs from files and folders (or S3 and CloudWatch Logs).

use super::aws::AwsArgs;
use anyhow::Context;
use std::path::{Path, PathBuf};
use vpcreach::flow_log::ChunkReader;
use vpcreach::timestamp::{TimeArg, Window};
use vpcreach::Snapshot;

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
            _ => super::aws::live_snapshot(&self.aws),
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
    /// Parquet files of which only some row groups are read (a partition of `sql --cluster`).
    pub row_groups: Vec<(PathBuf, std::ops::Range<usize>)>,
    /// Temporary storage for fetched inputs (dropped with the value).
    pub _scratch: Option<tempfile::TempDir>,
}

impl FlowInputs {
    /// A reader of the inputs' records.
    pub fn reader(&self, format: Option<vpcreach::flow_log::Format>) -> ChunkReader {
        self.row_groups.iter().fold(
            ChunkReader::new(self.paths.clone(), format),
            |reader, (path, groups)| reader.with_row_groups(path.clone(), groups.clone()),
        )
    }

    /// The remote name of a fetched file, for messages; `None` for local inputs.
    pub fn remote_name(&self, file: &Path) -> Option<&str> {
        self.remote_names
            .iter()
            .find(|(p, _)| p == file)
            .map(|(_, n)| n.as_str())
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
        row_groups: Vec::new(),
        _scratch: None,
    };
    for arg in args {
        if !super::aws::is_remote(arg) {
            inputs.paths.push(arg.clone());
            continue;
        }
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
        let fetched = super::aws::fetch_remote(arg, &window, aws, scratch.path())?;
        for (file, name) in fetched {
            inputs.paths.push(file.clone());
            inputs.remote_names.push((file, name));
        }
    }
    if !window.is_open() && inputs.remote_names.is_empty() {
        eprintln!(
            "warning: `--since`/`--until` choose only remote flow logs (s3://, cloudwatch://); local files are read whole"
        );
    }
    Ok(inputs)
}
