//! `vpcreach cluster scheduler|executor` and `vpcreach sql --cluster`: the tables of `vpcreach
//! sql` on an Apache DataFusion Ballista cluster (the `cluster` cargo feature).
//!
//! The client registers one [`VpcTable`] per table. Its logical plan goes to Ballista's
//! scheduler, which decodes the tables with [`VpcLogicalCodec`] and plans them as
//! [`VpcScanExec`]: one partition per flow-log file (the `flows` and `explained` tables), one
//! for each configuration table and for `changes`. The executors decode that plan with
//! [`VpcPhysicalCodec`] and run each partition by reading its file and explaining it with the
//! very code `vpcreach sql` runs in one process, so both give the same rows.
//!
//! What travels in the plan is small: file paths (or `s3://` prefixes), the snapshot's path, the
//! history's paths, the format and times. Every executor loads the snapshot itself from that
//! path (a folder all nodes can read): a model is large in memory and is built from the snapshot
//! in well under a second, while its path is a few bytes in every task.

use super::explain::{ExplainArgs, ExplainOutput};
use super::sql::{SqlArgs, SqlOutput, Table};
use anyhow::Context;
use ballista::prelude::{SessionConfigExt, SessionContextExt};
use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::TableReference;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{
    FileGroup, FileOpenFuture, FileOpener, FileScanConfig, FileScanConfigBuilder, FileSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::execution::{SessionStateBuilder, TaskContext};
use datafusion::logical_expr::{Expr, Extension, LogicalPlan, TableType};
use datafusion::object_store::ObjectStore;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::metrics::ExecutionPlanMetricsSet;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::{DisplayFormatType, ExecutionPlan};
use datafusion::prelude::{SessionConfig, SessionContext};
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use std::any::Any;
use std::fmt;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use vpcreach::timestamp::TimeArg;

/// Arguments of `vpcreach cluster`.
#[derive(Debug, clap::Args)]
pub struct ClusterArgs {
    #[command(subcommand)]
    role: Role,
}

#[derive(Debug, clap::Subcommand)]
enum Role {
    /// Run a Ballista scheduler: `vpcreach sql --cluster df://HOST:PORT` sends it queries, and
    /// executors register with it.
    Scheduler(SchedulerArgs),
    /// Run a Ballista executor that registers with the scheduler and runs the tasks it is
    /// given: it reads flow-log files and the snapshot from the paths in the plan.
    Executor(ExecutorArgs),
}

/// Arguments of `vpcreach cluster scheduler`.
#[derive(Debug, clap::Args)]
struct SchedulerArgs {
    /// Address to listen on for clients and executors (an IP address and a port).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    bind: SocketAddr,
    /// The host name executors and clients reach this scheduler by [default: the bind address].
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
    /// Log Ballista's informational messages too (not only warnings and errors).
    #[arg(long, short = 'v')]
    verbose: bool,
}

/// Arguments of `vpcreach cluster executor`.
#[derive(Debug, clap::Args)]
struct ExecutorArgs {
    /// The scheduler to register with.
    #[arg(long, value_name = "HOST:PORT")]
    scheduler: String,
    /// Address of this executor's Arrow Flight service, which other executors and clients
    /// fetch results from (the port: 0 or absent, a free one).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:0")]
    bind: SocketAddr,
    /// The host name the scheduler, other executors and clients reach this executor by
    /// [default: the bind address].
    #[arg(long, value_name = "HOST")]
    external_host: Option<String>,
    /// Port of this executor's gRPC service, which the scheduler sends tasks to [default: a free
    /// port].
    #[arg(long, value_name = "PORT")]
    grpc_port: Option<u16>,
    /// Tasks run at once [default: one per core].
    #[arg(long, value_name = "N")]
    concurrent_tasks: Option<usize>,
    /// Folder for shuffle files [default: a temporary folder].
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Log Ballista's informational messages too (not only warnings and errors).
    #[arg(long, short = 'v')]
    verbose: bool,
}

/// Runs `vpcreach cluster`: until the process is stopped (exit 0), or 2 when it cannot start.
pub fn run(args: ClusterArgs) -> anyhow::Result<u8> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    match args.role {
        Role::Scheduler(a) => {
            init_log(a.verbose);
            runtime.block_on(scheduler(a))?
        }
        Role::Executor(a) => {
            init_log(a.verbose);
            runtime.block_on(executor(a))?
        }
    }
    Ok(0)
}

async fn scheduler(args: SchedulerArgs) -> anyhow::Result<()> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::{SchedulerConfig, TaskDistributionPolicy};
    let config = SchedulerConfig {
        bind_host: args.bind.ip().to_string(),
        bind_port: args.bind.port(),
        external_host: args
            .external_host
            .unwrap_or_else(|| args.bind.ip().to_string()),
        // Files are spread over the executors, one task to each in turn, rather than filling
        // the first executor's slots before the next one gets any.
        task_distribution: TaskDistributionPolicy::RoundRobin,
        override_logical_codec: Some(Arc::new(VpcLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(VpcPhysicalCodec::default())),
        ..Default::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the scheduler: {e}"))?;
    eprintln!("vpcreach: scheduler listening on {}", args.bind);
    ballista_scheduler::scheduler_process::start_server(cluster, args.bind, Arc::new(config))
        .await
        .map_err(|e| anyhow::anyhow!("the scheduler stopped: {e}"))
}

async fn executor(args: ExecutorArgs) -> anyhow::Result<()> {
    use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
    let (scheduler_host, scheduler_port) = host_port(&args.scheduler)?;
    let host = args.bind.ip().to_string();
    let port = match args.bind.port() {
        0 => free_port(&host)?,
        p => p,
    };
    let grpc_port = match args.grpc_port {
        Some(p) => p,
        None => free_port(&host)?,
    };
    let defaults = ExecutorProcessConfig::default();
    let config = ExecutorProcessConfig {
        executor_id: format!("vpcreach-{}-{port}", std::process::id()),
        bind_host: host.clone(),
        external_host: Some(args.external_host.unwrap_or(host)),
        port,
        grpc_port,
        scheduler_host,
        scheduler_port,
        scheduler_connect_timeout_seconds: 30,
        vcores: args.concurrent_tasks.unwrap_or(0),
        work_dir: args.work_dir.map(|d| d.display().to_string()),
        override_logical_codec: Some(Arc::new(VpcLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(VpcPhysicalCodec::default())),
        ..defaults
    };
    let _ = EXECUTOR.set(config.executor_id.clone());
    eprintln!(
        "vpcreach: executor {} (Arrow Flight on port {port}, gRPC on port {grpc_port}) registering with {}",
        config.executor_id, args.scheduler
    );
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| anyhow::anyhow!("the executor stopped: {e}"))
}

/// Set in executor processes: their id, which they name the partitions they run with.
static EXECUTOR: OnceLock<String> = OnceLock::new();

/// `HOST:PORT` split; the port is required.
fn host_port(text: &str) -> anyhow::Result<(String, u16)> {
    let text = text.strip_prefix("df://").unwrap_or(text);
    let Some((host, port)) = text.rsplit_once(':') else {
        anyhow::bail!("`{text}`: expected HOST:PORT");
    };
    let port: u16 = port
        .parse()
        .with_context(|| format!("`{text}`: the port is not a number from 0 to 65535"))?;
    if host.is_empty() {
        anyhow::bail!("`{text}`: expected HOST:PORT");
    }
    Ok((host.trim_matches(['[', ']']).to_string(), port))
}

/// A port free on `host` now (the system's choice).
fn free_port(host: &str) -> anyhow::Result<u16> {
    let listener = TcpListener::bind((host, 0))
        .with_context(|| format!("cannot find a free port on `{host}`"))?;
    Ok(listener.local_addr()?.port())
}

/// Ballista's log messages (warnings and errors; informational ones when `verbose`) on stderr.
fn init_log(verbose: bool) {
    struct Stderr;
    impl log::Log for Stderr {
        fn enabled(&self, m: &log::Metadata<'_>) -> bool {
            m.level() <= log::max_level()
        }
        fn log(&self, r: &log::Record<'_>) {
            if self.enabled(r.metadata()) {
                eprintln!(
                    "{} {}: {}",
                    r.level(),
                    r.target(),
                    vpcreach::render::sanitize_line(&r.args().to_string())
                );
            }
        }
        fn flush(&self) {}
    }
    static LOGGER: Stderr = Stderr;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(if verbose {
            log::LevelFilter::Info
        } else {
            log::LevelFilter::Warn
        });
    }
}

/// The tables of `vpcreach sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableKind {
    /// Every parsed record.
    Flows,
    /// Every record with its explanation.
    Explained,
    /// The configuration's ENIs.
    Enis,
    /// The security groups' rules.
    SecurityGroupRules,
    /// The network ACLs' entries.
    NetworkAclEntries,
    /// The route tables' routes.
    Routes,
    /// The subnets.
    Subnets,
    /// The history's changes.
    Changes,
}

impl TableKind {
    /// The table's name in SQL.
    pub fn name(self) -> &'static str {
        match self {
            TableKind::Flows => "flows",
            TableKind::Explained => "explained",
            TableKind::Enis => "enis",
            TableKind::SecurityGroupRules => "security_group_rules",
            TableKind::NetworkAclEntries => "network_acl_entries",
            TableKind::Routes => "routes",
            TableKind::Subnets => "subnets",
            TableKind::Changes => "changes",
        }
    }

    const CONFIG: [TableKind; 5] = [
        TableKind::Enis,
        TableKind::SecurityGroupRules,
        TableKind::NetworkAclEntries,
        TableKind::Routes,
        TableKind::Subnets,
    ];

    /// The table's columns (those of `vpcreach sql`).
    fn schema(self) -> anyhow::Result<SchemaRef> {
        use super::sql::Builder;
        let table = match self {
            TableKind::Flows => Builder::new(&super::sql::flows_columns()).finish()?,
            TableKind::Explained => Builder::new(super::sql::EXPLAINED).finish()?,
            TableKind::Changes => super::sql::changes_table(&[])?,
            config => config_table(
                config,
                &vpcreach::Network::build(&vpcreach::Snapshot::default()),
            )?,
        };
        Ok(table.schema)
    }
}

/// One configuration table of a network.
fn config_table(kind: TableKind, net: &vpcreach::Network) -> anyhow::Result<Table> {
    super::sql::config_tables(net)
        .into_iter()
        .find(|(name, _)| *name == kind.name())
        .map(|(_, t)| t)
        .with_context(|| format!("table `{}` could not be built", kind.name()))
}

/// What every partition of every table reads: given by the client, the same for all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inputs {
    /// The partitions of the `flows` and `explained` tables: flow-log files (absolute paths
    /// every executor can read), row groups of Parquet files, or `s3://` prefixes.
    pub splits: Vec<Split>,
    /// The snapshot folder or file.
    pub snapshot: Option<PathBuf>,
    /// History sources (`--history`).
    pub history: Vec<PathBuf>,
    /// `--format`.
    pub format: Option<String>,
    /// `--snapshot-time` as (start, end) Unix seconds.
    pub snapshot_time: Option<(i64, i64)>,
    /// `--since` and `--until` (remote flow logs), as (start, end) Unix seconds.
    pub since: Option<(i64, i64)>,
    /// See `since`.
    pub until: Option<(i64, i64)>,
    /// Worker threads per partition (`-j`).
    pub threads: Option<usize>,
}

/// One partition of the `flows` and `explained` tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Split {
    /// The file (or `s3://` prefix).
    pub file: String,
    /// The row groups of a Parquet file, from the first to before the second (0-based); the
    /// whole file when `None`.
    pub row_groups: Option<(usize, usize)>,
}

impl fmt::Display for Split {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.row_groups {
            Some((from, to)) if to == from + 1 => write!(f, "{} row group {}", self.file, from + 1),
            Some((from, to)) => write!(f, "{} row groups {} to {}", self.file, from + 1, to),
            None => f.write_str(&self.file),
        }
    }
}

/// A table and what it reads: what the codecs write into the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSpec {
    /// Which table.
    pub kind: TableKind,
    /// Its inputs.
    pub inputs: Arc<Inputs>,
    /// The columns a scan reads (indices into the table's schema; `None`: every one): the
    /// others are NULL, and what only they need is not computed.
    #[serde(default)]
    pub columns: Option<Vec<usize>>,
}

impl TableSpec {
    /// Partitions of the table: one per flow-log file, else one.
    fn partitions(&self) -> usize {
        match self.kind {
            TableKind::Flows | TableKind::Explained => self.inputs.splits.len().max(1),
            _ => 1,
        }
    }
}

fn time_arg(t: Option<(i64, i64)>) -> Option<TimeArg> {
    t.map(|(start, end)| TimeArg { start, end })
}

/// Builds one partition of a table: reads its file (or the snapshot, or the history) and
/// turns it into rows with `vpcreach sql`'s own code. Blocking.
fn partition_rows(spec: &TableSpec, partition: usize) -> anyhow::Result<RecordBatch> {
    let inputs = &spec.inputs;
    let snapshot_source = || super::source::SnapshotSource {
        snapshot: inputs.snapshot.clone(),
        live: false,
        aws: super::aws::AwsArgs::default(),
    };
    let load_snapshot = || -> anyhow::Result<vpcreach::Snapshot> {
        if inputs.snapshot.is_none() {
            anyhow::bail!("the configuration tables need `--snapshot`");
        }
        snapshot_source().load()
    };
    let table = match spec.kind {
        TableKind::Flows | TableKind::Explained => {
            let Some(split) = inputs.splits.get(partition) else {
                return Ok(RecordBatch::new_empty(spec.kind.schema()?));
            };
            if let Some(id) = EXECUTOR.get() {
                eprintln!(
                    "vpcreach: executor {id} runs `{}` partition {} of {}: {}",
                    spec.kind.name(),
                    partition + 1,
                    inputs.splits.len(),
                    vpcreach::render::sanitize_line(&split.to_string())
                );
            }
            let window = super::source::FlowWindow {
                since: time_arg(inputs.since),
                until: time_arg(inputs.until),
            };
            let file = PathBuf::from(&split.file);
            let flows = vec![file.clone()];
            let aws = super::aws::AwsArgs::default();
            let flow_inputs = if super::aws::is_remote(&file) {
                super::source::flow_inputs_with(&flows, &window, &aws)?
            } else {
                super::source::FlowInputs {
                    paths: flows.clone(),
                    remote_names: Vec::new(),
                    row_groups: split
                        .row_groups
                        .map(|(from, to)| (file.clone(), from..to))
                        .into_iter()
                        .collect(),
                    _scratch: None,
                }
            };
            if spec.kind == TableKind::Flows {
                let format = super::format_arg(inputs.format.as_deref())?;
                let (table, errors) = super::sql::flows_table(
                    &flow_inputs,
                    format,
                    inputs.threads.unwrap_or(0),
                    spec.columns.as_deref(),
                )?;
                if !errors.is_empty() {
                    anyhow::bail!("{}", errors.join("; "));
                }
                table
            } else {
                let args = ExplainArgs {
                    source: snapshot_source(),
                    flows,
                    format: inputs.format.clone(),
                    output: ExplainOutput::Jsonl,
                    only: Vec::new(),
                    strict: false,
                    rule_usage: false,
                    snapshot_time: time_arg(inputs.snapshot_time),
                    threads: inputs.threads,
                    window,
                    history: inputs.history.clone(),
                };
                let (table, seen) =
                    super::sql::explained_table(&args, &flow_inputs, spec.columns.as_deref())?;
                if !seen.read_errors.is_empty() {
                    anyhow::bail!("{}", seen.read_errors.join("; "));
                }
                table
            }
        }
        TableKind::Changes => {
            let history = super::history::HistoryArgs {
                history: inputs.history.clone(),
                snapshot_time: time_arg(inputs.snapshot_time),
            };
            // The executor's own AWS credentials and Region (the standard chain), for a
            // remote history source.
            let aws = super::aws::AwsArgs::default();
            super::sql::changes_table(&history.load(&aws)?.events)?
        }
        config => {
            let snap = load_snapshot()?;
            config_table(config, &vpcreach::Network::build(&snap))?
        }
    };
    Ok(table.batch)
}

/// A table of `vpcreach sql` whose rows are built where its scan runs (on the executors).
#[derive(Debug)]
pub struct VpcTable {
    spec: TableSpec,
    schema: SchemaRef,
}

impl VpcTable {
    /// The table for `spec`.
    pub fn new(spec: TableSpec) -> anyhow::Result<VpcTable> {
        let schema = spec.kind.schema()?;
        Ok(VpcTable { spec, schema })
    }
}

#[async_trait::async_trait]
impl TableProvider for VpcTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let groups = (0..self.spec.partitions()).map(|p| vec![p]).collect();
        let spec = TableSpec {
            columns: projection.cloned(),
            ..self.spec.clone()
        };
        let scan: Arc<dyn ExecutionPlan> = scan_exec(spec, groups)?;
        let Some(projection) = projection else {
            return Ok(scan);
        };
        let columns: Vec<(Arc<dyn PhysicalExpr>, String)> = projection
            .iter()
            .map(|&i| {
                let name = self.schema.field(i).name().clone();
                (
                    Arc::new(Column::new(&name, i)) as Arc<dyn PhysicalExpr>,
                    name,
                )
            })
            .collect();
        Ok(Arc::new(ProjectionExec::try_new(columns, scan)?))
    }
}

/// Which partition of its table a file of a scan stands for (an index into the table's
/// splits): kept with the file as Ballista hands each task its share of the files.
#[derive(Debug, Clone, Copy)]
struct SplitIndex(usize);

/// The scan of a [`VpcTable`]: DataFusion's file scan (`DataSourceExec`) over one "file" per
/// partition, each read by [`VpcOpener`]. A file scan, because it is what Ballista's scheduler
/// knows how to give each task its own share of (a scan of another kind would be run whole by
/// every task).
fn scan_exec(spec: TableSpec, groups: Vec<Vec<usize>>) -> DfResult<Arc<DataSourceExec>> {
    let schema = spec.kind.schema().map_err(df_error)?;
    let files: Vec<FileGroup> = groups
        .into_iter()
        .map(|group| {
            FileGroup::new(
                group
                    .into_iter()
                    .map(|i| {
                        let name = spec
                            .inputs
                            .splits
                            .get(i)
                            .map_or_else(|| spec.kind.name().to_string(), |s| s.to_string());
                        let mut file = PartitionedFile::new(name, 0);
                        file.extensions.insert(SplitIndex(i));
                        file
                    })
                    .collect(),
            )
        })
        .collect();
    let source = VpcSource {
        spec,
        table_schema: TableSchema::from(schema),
        metrics: ExecutionPlanMetricsSet::new(),
    };
    let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
        .with_file_groups(files)
        .build();
    Ok(DataSourceExec::from_data_source(config))
}

/// The file source of a [`VpcTable`]'s scan.
#[derive(Clone)]
struct VpcSource {
    spec: TableSpec,
    table_schema: TableSchema,
    metrics: ExecutionPlanMetricsSet,
}

impl FileSource for VpcSource {
    fn create_file_opener(
        &self,
        _object_store: Arc<dyn ObjectStore>,
        _base_config: &FileScanConfig,
        _partition: usize,
    ) -> DfResult<Arc<dyn FileOpener>> {
        Ok(Arc::new(VpcOpener {
            spec: self.spec.clone(),
        }))
    }

    fn table_schema(&self) -> &TableSchema {
        &self.table_schema
    }

    fn with_batch_size(&self, _batch_size: usize) -> Arc<dyn FileSource> {
        Arc::new(self.clone())
    }

    fn metrics(&self) -> &ExecutionPlanMetricsSet {
        &self.metrics
    }

    fn file_type(&self) -> &str {
        "vpcreach"
    }

    fn fmt_extra(&self, _t: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ", table={}", self.spec.kind.name())
    }

    /// A partition is a file or a row group, read whole: never split by byte ranges.
    fn supports_repartitioning(&self) -> bool {
        false
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }
}

/// Builds a partition's rows, off the async runtime.
struct VpcOpener {
    spec: TableSpec,
}

impl FileOpener for VpcOpener {
    fn open(&self, file: PartitionedFile) -> DfResult<FileOpenFuture> {
        let Some(SplitIndex(index)) = file.extensions.get::<SplitIndex>().copied() else {
            return Err(DataFusionError::Internal(format!(
                "`{}` names no partition of a vpcreach table",
                file.object_meta.location
            )));
        };
        let spec = self.spec.clone();
        Ok(Box::pin(async move {
            let batch = tokio::task::spawn_blocking(move || partition_rows(&spec, index))
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?
                .map_err(df_error)?;
            Ok(futures::stream::once(async move { Ok(batch) }).boxed())
        }))
    }
}

fn df_error(e: anyhow::Error) -> DataFusionError {
    DataFusionError::Execution(format!("{e:#}"))
}

/// The scan as the physical codec writes it: the table, and the partitions (indices into its
/// splits) of each file group, as the scheduler restricted them for one task.
#[derive(Serialize, Deserialize)]
struct ScanNode {
    spec: TableSpec,
    groups: Vec<Vec<usize>>,
}

impl ScanNode {
    /// The scan node of `plan` when it is a [`VpcTable`]'s scan.
    fn of(plan: &Arc<dyn ExecutionPlan>) -> Option<ScanNode> {
        let exec = plan.downcast_ref::<DataSourceExec>()?;
        let source: &dyn Any = exec.data_source().as_ref();
        let config = source.downcast_ref::<FileScanConfig>()?;
        let file_source: &dyn Any = config.file_source().as_ref();
        let vpc = file_source.downcast_ref::<VpcSource>()?;
        let groups = config
            .file_groups
            .iter()
            .map(|g| {
                g.iter()
                    .filter_map(|f| f.extensions.get::<SplitIndex>().map(|s| s.0))
                    .collect()
            })
            .collect();
        Some(ScanNode {
            spec: vpc.spec.clone(),
            groups,
        })
    }
}

/// What starts a vpcreach node in a plan, before its JSON.
const MAGIC: &[u8] = b"vpcreach/1:";

fn encode<T: Serialize>(value: &T, buf: &mut Vec<u8>) -> DfResult<()> {
    buf.extend_from_slice(MAGIC);
    serde_json::to_writer(buf, value).map_err(|e| DataFusionError::External(Box::new(e)))
}

fn decode<T: for<'de> Deserialize<'de>>(buf: &[u8]) -> Option<DfResult<T>> {
    let json = buf.strip_prefix(MAGIC)?;
    Some(serde_json::from_slice(json).map_err(|e| DataFusionError::External(Box::new(e))))
}

/// Ballista's logical codec with vpcreach's tables: the client encodes them, the scheduler
/// decodes them.
#[derive(Debug, Default)]
pub struct VpcLogicalCodec {
    inner: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for VpcLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> DfResult<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> DfResult<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> DfResult<Arc<dyn TableProvider>> {
        match decode::<TableSpec>(buf) {
            Some(spec) => Ok(Arc::new(VpcTable::new(spec?).map_err(df_error)?)),
            None => self
                .inner
                .try_decode_table_provider(buf, table_ref, schema, ctx),
        }
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> DfResult<()> {
        match node.downcast_ref::<VpcTable>() {
            Some(table) => encode(&table.spec, buf),
            None => self.inner.try_encode_table_provider(table_ref, node, buf),
        }
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> DfResult<Arc<dyn datafusion::datasource::file_format::FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn datafusion::datasource::file_format::FileFormatFactory>,
    ) -> DfResult<()> {
        self.inner.try_encode_file_format(buf, node)
    }
}

/// Ballista's physical codec with vpcreach's scan: the scheduler encodes it into tasks, the
/// executors decode it.
#[derive(Debug, Default)]
pub struct VpcPhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for VpcPhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        match decode::<ScanNode>(buf) {
            Some(node) => {
                let node = node?;
                Ok(scan_exec(node.spec, node.groups)?)
            }
            None => self.inner.try_decode(buf, inputs, ctx, proto_converter),
        }
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<()> {
        match ScanNode::of(&node) {
            Some(scan) => encode(&scan, buf),
            None => self.inner.try_encode(node, buf, proto_converter),
        }
    }
}

/// The flow-log arguments as partitions: files as they are, folders as the log files in them
/// (in path order, as `vpcreach sql` reads them), each made absolute, and a Parquet file of
/// several row groups as one partition per row group; an `s3://` prefix as the flow-log
/// objects under it (listed here, with the window, as `vpcreach sql` would fetch them), one
/// partition per object, which the executor that runs it fetches alone.
fn partitions(
    flows: &[PathBuf],
    window: &vpcreach::timestamp::Window,
    aws: &super::aws::AwsArgs,
) -> anyhow::Result<Vec<Split>> {
    let mut splits = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    for arg in flows {
        let text = arg.to_string_lossy();
        if text == "-" {
            anyhow::bail!(
                "standard input cannot be sent to a cluster: give files every executor can read"
            );
        }
        if text.starts_with("cloudwatch://") {
            anyhow::bail!(
                "`{text}`: CloudWatch Logs cannot be read on a cluster: export them to S3, or run `vpcreach sql` without `--cluster`"
            );
        }
        if super::aws::is_remote(arg) {
            for object in super::aws::list_remote_objects(arg, window, aws)? {
                splits.push(Split {
                    file: object,
                    row_groups: None,
                });
            }
            continue;
        }
        let path =
            std::path::absolute(arg).with_context(|| format!("cannot read `{}`", arg.display()))?;
        if !path.is_dir() {
            files.push(path);
            continue;
        }
        let walk = vpcreach::walk::walk(&path, vpcreach::flow_log::is_log_name)
            .with_context(|| format!("cannot read the folder `{}`", path.display()))?;
        if let Some((p, e)) = walk.errors.first() {
            anyhow::bail!("cannot read `{}`: {e}", p.display());
        }
        let passed = walk
            .passed
            .iter()
            .map(|p| vpcreach::walk::Skipped::NotWanted {
                path: p.clone(),
                expected: "a flow-log file (.log, .gz, .txt, .json or .parquet)",
            });
        for s in walk.skipped.iter().cloned().chain(passed) {
            eprintln!(
                "warning: {}",
                vpcreach::render::sanitize_line(&s.to_string())
            );
        }
        files.extend(walk.files);
    }
    for file in files {
        // A file that cannot be read here is one partition: its executor names the error.
        let groups = vpcreach::flow_log::parquet_row_groups(&file)
            .ok()
            .flatten()
            .map_or(0, |g| g.len());
        let name = file.display().to_string();
        if groups > 1 {
            splits.extend((0..groups).map(|g| Split {
                file: name.clone(),
                row_groups: Some((g, g + 1)),
            }));
        } else {
            splits.push(Split {
                file: name,
                row_groups: None,
            });
        }
    }
    Ok(splits)
}

/// Runs `vpcreach sql --cluster df://HOST:PORT`: the same tables, planned by the scheduler and
/// built by the executors.
pub fn run_sql(args: SqlArgs) -> anyhow::Result<u8> {
    let Some(url) = args.cluster.clone() else {
        anyhow::bail!("`--cluster` names no scheduler");
    };
    if args.output == SqlOutput::Parquet && args.out.is_none() {
        anyhow::bail!("`--output parquet` writes a file: name it with `--out FILE`");
    }
    if !url.starts_with("df://") {
        anyhow::bail!("`--cluster {url}`: expected df://HOST:PORT (the scheduler)");
    }
    let (host, port) = host_port(&url)?;
    super::format_arg(args.format.as_deref())?;
    let snapshot = match &args.snapshot {
        Some(s) => {
            Some(std::path::absolute(s).with_context(|| format!("cannot read `{}`", s.display()))?)
        }
        None => None,
    };
    let history = args
        .history
        .iter()
        .map(|h| std::path::absolute(h).with_context(|| format!("cannot read `{}`", h.display())))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The window is checked here; each partition that reads `s3://` applies it.
    let window = args.window.window()?;
    let splits = partitions(&args.flows, &window, &args.aws)?;
    let inputs = Arc::new(Inputs {
        splits,
        snapshot,
        history,
        format: args.format.clone(),
        snapshot_time: args.snapshot_time.map(|t| (t.start, t.end)),
        since: args.window.since.map(|t| (t.start, t.end)),
        until: args.window.until.map(|t| (t.start, t.end)),
        threads: args.threads,
    });
    let mut kinds = Vec::new();
    if !args.history.is_empty() {
        kinds.push(TableKind::Changes);
    }
    if !args.flows.is_empty() {
        kinds.push(TableKind::Flows);
    }
    if args.snapshot.is_some() {
        kinds.extend(TableKind::CONFIG);
        if !args.flows.is_empty() {
            kinds.push(TableKind::Explained);
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the query engine")?;
    let timeout = Duration::from_secs(args.cluster_timeout);
    let result = runtime.block_on(async {
        reachable(&host, port).await?;
        let config = SessionConfig::new_with_ballista()
            .with_ballista_logical_extension_codec(Arc::new(VpcLogicalCodec::default()))
            .with_ballista_physical_extension_codec(Arc::new(VpcPhysicalCodec::default()));
        let state = SessionStateBuilder::new()
            .with_default_features()
            .with_config(config)
            .build();
        let ctx = SessionContext::remote_with_state(&url, state)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for kind in &kinds {
            let table = VpcTable::new(TableSpec {
                kind: *kind,
                inputs: inputs.clone(),
                columns: None,
            })?;
            ctx.register_table(kind.name(), Arc::new(table))
                .with_context(|| format!("table `{}`", kind.name()))?;
        }
        let query = async {
            let df = ctx
                .sql(&args.sql)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let schema: Arc<Schema> = Arc::new(df.schema().as_arrow().clone());
            let batches = df.collect().await.map_err(|e| anyhow::anyhow!("{e}"))?;
            anyhow::Ok((schema, batches))
        };
        match tokio::time::timeout(timeout, query).await {
            Ok(r) => r,
            Err(_) => anyhow::bail!(
                "the cluster `{url}` gave no answer in {} s (`--cluster-timeout`)",
                timeout.as_secs()
            ),
        }
    })?;
    super::sql::write_result(&result, args.output, args.out.as_deref())?;
    Ok(0)
}

/// Checks that the scheduler answers a TCP connection within 10 seconds, so that a wrong
/// address is an error now rather than a wait.
async fn reachable(host: &str, port: u16) -> anyhow::Result<()> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .with_context(|| format!("cannot resolve the scheduler's host `{host}`"))?
        .collect();
    let Some(addr) = addrs.first() else {
        anyhow::bail!("cannot resolve the scheduler's host `{host}`");
    };
    match tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect(addr),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => {
            Err(e).with_context(|| format!("cannot reach the scheduler at {host}:{port}"))
        }
        Err(_) => anyhow::bail!("cannot reach the scheduler at {host}:{port}: no answer in 10 s"),
    }
}
