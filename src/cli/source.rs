//! Where a command's inputs come from: a snapshot folder (or, with `--live`, the AWS API), and
//! flow logs from files and folders (or S3 and CloudWatch Logs).

use anyhow::Context;
use std::path::PathBuf;
use vpcreach::Snapshot;

/// Options that choose the snapshot.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapshotSource {
    /// Folder of saved `aws ec2 describe-*` JSON (or one JSON file), as `vpcreach collect` writes.
    #[arg(long, value_name = "DIR")]
    pub snapshot: PathBuf,
}

impl SnapshotSource {
    /// Loads the snapshot.
    pub fn load(&self) -> anyhow::Result<Snapshot> {
        Snapshot::load(&self.snapshot)
            .with_context(|| format!("cannot load the snapshot `{}`", self.snapshot.display()))
    }
}

/// Flow-log inputs as local paths the flow-log reader can open. Remote inputs are fetched into
/// `_scratch`, which lives as long as the returned value.
pub struct FlowInputs {
    /// Files and folders to read, in order.
    pub paths: Vec<PathBuf>,
    /// Temporary storage for fetched inputs (dropped with the value).
    pub _scratch: Option<tempfile::TempDir>,
}

/// Resolves the flow-log arguments of a command.
pub fn flow_inputs(args: &[PathBuf]) -> anyhow::Result<FlowInputs> {
    Ok(FlowInputs {
        paths: args.to_vec(),
        _scratch: None,
    })
}
