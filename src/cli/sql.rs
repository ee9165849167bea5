//! `vpcreach sql`: SQL over flow-log records, their explanations and the configuration, on
//! Apache DataFusion (the `sql` cargo feature).
//!
//! Tables:
//! - `flows`: every parsed record (NODATA and SKIPDATA too), every flow-log field under its
//!   AWS name with `-` → `_`, plus `file`, `line` (text) or `row` (Parquet), and `event` (the
//!   log event of a line of several);
//! - `explained`: every record as `explain --output jsonl` gives it (malformed lines too), with
//!   its status, expected action, role, direction, ENI, reason and message, the deciding check
//!   (`deciding_layer`, `deciding_decision`, `deciding_resources`, `deciding_rule_number`,
//!   `deciding_rule`) and every check as JSON (`checks`);
//! - the configuration: `enis`, `security_group_rules`, `network_acl_entries`, `routes`,
//!   `subnets`.
//!
//! The query is planned first over empty tables, which says which columns of `flows` and
//! `explained` it reads; those two tables are then built in memory with those columns alone (a
//! table the query does not name is not built), and the query runs on DataFusion. Its errors
//! are reported in DataFusion's words (exit code 2).

use super::explain::{explain_jsonl, ExplainArgs, ExplainOutput};
use anyhow::Context;
use datafusion::arrow::array::{
    new_null_array, ArrayBuilder, ArrayRef, BooleanBuilder, RecordBatch, StringBuilder,
    UInt64Builder,
};
use datafusion::arrow::datatypes::{DataType, Field as ArrowField, Schema};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::MemTable;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::io::{self, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use vpcreach::flow_log::{parse_parallel, Field, FieldValue};
use vpcreach::Network;

/// Output formats of `sql`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlOutput {
    /// An aligned table.
    Table,
    /// CSV with a header line.
    Csv,
    /// One JSON object per row.
    Jsonl,
    /// An Apache Parquet file (with `--out`), as Athena and DuckDB read.
    Parquet,
}

/// Arguments of `vpcreach sql`.
#[derive(Debug, clap::Args)]
pub struct SqlArgs {
    /// Folder of saved `aws ec2 describe-*` JSON (or one JSON file), as `vpcreach collect`
    /// writes: the `explained` and configuration tables need it.
    #[arg(long, value_name = "DIR")]
    pub snapshot: Option<PathBuf>,
    /// Read the configuration from the AWS API now instead of from a folder.
    #[arg(long, conflicts_with = "snapshot")]
    pub live: bool,
    #[command(flatten)]
    pub aws: super::aws::AwsArgs,
    /// Flow-log files or folders (text, gzip, Parquet), `-`, `s3://BUCKET/PREFIX` or
    /// `cloudwatch://LOG_GROUP`: the `flows` and `explained` tables.
    #[arg(value_name = "FLOWS")]
    pub flows: Vec<PathBuf>,
    /// The query.
    #[arg(short = 'e', long = "execute", value_name = "SQL")]
    pub sql: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub output: SqlOutput,
    /// Write the result to this file instead of stdout (needed for `--output parquet`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Format of records in files without a header line [default: the version 2 format].
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// When the snapshot was taken (RFC 3339), for contradiction hints.
    #[arg(long, value_name = "TIME")]
    pub snapshot_time: Option<vpcreach::timestamp::TimeArg>,
    /// Worker threads, 1 to 256 [default: one per core].
    #[arg(long, short = 'j', value_name = "N", value_parser = super::threads_arg)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub window: super::source::FlowWindow,
    /// CloudTrail or AWS Config history (as `explain --history` reads it: files, folders,
    /// `s3://BUCKET/PREFIX`, `cloudtrail://REGION`): the `changes`
    /// table, and `explained` judges each record by the configuration at its start. Repeat the
    /// option for more sources.
    #[arg(long, value_name = "SRC")]
    pub history: Vec<PathBuf>,
    /// Run the query on an Apache DataFusion Ballista cluster: its scheduler's address,
    /// `df://HOST:PORT` (`vpcreach cluster scheduler`). Every executor reads the flow-log
    /// files and the snapshot itself, from the same paths: give paths all of them can read.
    #[cfg(feature = "cluster")]
    #[arg(long, value_name = "df://HOST:PORT", conflicts_with = "live")]
    pub cluster: Option<String>,
    /// With `--cluster`: give up on the query after this many seconds.
    #[cfg(feature = "cluster")]
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 3600,
        requires = "cluster"
    )]
    pub cluster_timeout: u64,
}

/// Runs `vpcreach sql`: exit 0, or 2 on errors (an SQL error in DataFusion's words, an input
/// that could not be read).
pub fn run(args: SqlArgs) -> anyhow::Result<u8> {
    if args.output == SqlOutput::Parquet && args.out.is_none() {
        anyhow::bail!("`--output parquet` writes a file: name it with `--out FILE`");
    }
    #[cfg(feature = "cluster")]
    if args.cluster.is_some() {
        return super::cluster::run_sql(args);
    }
    let has_snapshot = args.snapshot.is_some() || args.live;
    let source = super::source::SnapshotSource {
        snapshot: args.snapshot.clone(),
        live: args.live,
        aws: args.aws.clone(),
    };
    let format = super::format_arg(args.format.as_deref())?;
    let inputs = super::source::flow_inputs_with(&args.flows, &args.window, &args.aws)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .context("cannot start the query engine")?;
    // Tables built before the query is planned (small), and the tables of the flow records,
    // built after it for the columns it reads (a table it does not name is not built).
    let mut tables: Vec<(&str, Table)> = Vec::new();
    let mut lazy: Vec<(&'static str, Arc<Schema>)> = Vec::new();
    if !args.history.is_empty() {
        let history = super::history::HistoryArgs {
            history: args.history.clone(),
            snapshot_time: args.snapshot_time,
        };
        tables.push(("changes", changes_table(&history.load(&args.aws)?.events)?));
    }
    if !args.flows.is_empty() {
        lazy.push(("flows", Builder::new(&flows_columns()).finish()?.schema));
    }
    if has_snapshot {
        let snap = source.load()?;
        let net = Network::build(&snap);
        tables.extend(config_tables(&net));
        if !args.flows.is_empty() {
            lazy.push(("explained", Builder::new(EXPLAINED).finish()?.schema));
        }
    }
    let wanted = if lazy.is_empty() {
        HashMap::new()
    } else {
        runtime.block_on(wanted_columns(&tables, &lazy, &args.sql))?
    };
    let mut errors = Vec::new();
    let mut printed = Vec::new();
    if let Some(columns) = wanted.get("flows") {
        let threads = args.threads.unwrap_or(0);
        let (flows, read_errors) = flows_table(&inputs, format, threads, columns.as_deref())?;
        errors.extend(read_errors);
        tables.push(("flows", flows));
    }
    if let Some(columns) = wanted.get("explained") {
        let explain_args = ExplainArgs {
            source,
            flows: args.flows.clone(),
            format: args.format.clone(),
            output: ExplainOutput::Jsonl,
            only: Vec::new(),
            strict: false,
            rule_usage: false,
            snapshot_time: args.snapshot_time,
            threads: args.threads,
            window: args.window.clone(),
            history: args.history.clone(),
        };
        let (table, seen) = explained_table(&explain_args, &inputs, columns.as_deref())?;
        tables.push(("explained", table));
        // `explain` named the inputs it could not read as it met them.
        printed = seen.read_errors.clone();
        for e in seen.read_errors {
            if !errors.contains(&e) {
                errors.push(e);
            }
        }
    }
    let batches = runtime.block_on(query(&tables, &args.sql))?;
    write_result(&batches, args.output, args.out.as_deref())?;
    for e in errors.iter().filter(|e| !printed.contains(e)) {
        eprintln!("error: {}", vpcreach::render::sanitize_line(e));
    }
    Ok(if errors.is_empty() { 0 } else { 2 })
}

/// A session with `tables` registered.
fn session(tables: &[(&str, Table)]) -> anyhow::Result<SessionContext> {
    let ctx = SessionContext::new();
    for (name, table) in tables {
        let mem = MemTable::try_new(table.schema.clone(), vec![vec![table.batch.clone()]])
            .with_context(|| format!("table `{name}`"))?;
        ctx.register_table(*name, Arc::new(mem))
            .with_context(|| format!("table `{name}`"))?;
    }
    Ok(ctx)
}

/// The columns of each of the `lazy` tables that the query reads, found by planning it over
/// empty tables of the same schemas: a table it does not name is absent; `None`, every column.
/// An error in the query is DataFusion's, in its words.
async fn wanted_columns(
    tables: &[(&str, Table)],
    lazy: &[(&'static str, Arc<Schema>)],
    sql: &str,
) -> anyhow::Result<HashMap<&'static str, Option<Vec<usize>>>> {
    let ctx = session(tables)?;
    for (name, schema) in lazy {
        let empty = MemTable::try_new(schema.clone(), vec![Vec::new()])
            .with_context(|| format!("table `{name}`"))?;
        ctx.register_table(*name, Arc::new(empty))
            .with_context(|| format!("table `{name}`"))?;
    }
    let df = ctx.sql(sql).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let plan = ctx
        .state()
        .optimize(df.logical_plan())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut found: HashMap<&'static str, Option<BTreeSet<usize>>> = HashMap::new();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::TableScan(scan) = node {
            if let Some((name, _)) = lazy.iter().find(|(n, _)| *n == scan.table_name.table()) {
                match &scan.projection {
                    None => {
                        found.insert(name, None);
                    }
                    Some(p) => {
                        if let Some(set) =
                            found.entry(name).or_insert_with(|| Some(BTreeSet::new()))
                        {
                            set.extend(p.iter().copied());
                        }
                    }
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(found
        .into_iter()
        .map(|(name, set)| (name, set.map(|s| s.into_iter().collect())))
        .collect())
}

/// Runs the query on DataFusion over the tables.
async fn query(
    tables: &[(&str, Table)],
    sql: &str,
) -> anyhow::Result<(Arc<Schema>, Vec<RecordBatch>)> {
    let ctx = session(tables)?;
    let df = ctx.sql(sql).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let schema: Arc<Schema> = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((schema, batches))
}

/// Writes the result in the chosen format.
pub(crate) fn write_result(
    (schema, batches): &(Arc<Schema>, Vec<RecordBatch>),
    output: SqlOutput,
    out: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let mut sink: Box<dyn Write + Send> = match out {
        Some(path) => Box::new(io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create `{}`", path.display()))?,
        )),
        None => Box::new(io::BufWriter::with_capacity(1 << 16, io::stdout())),
    };
    let terminal = out.is_none() && io::stdout().is_terminal();
    let res: anyhow::Result<()> = (|| {
        match output {
            SqlOutput::Table => {
                // Strings from outside (tags, names, file names) reach a terminal sanitized.
                let clean: Vec<RecordBatch> =
                    batches.iter().map(sanitized).collect::<Result<_, _>>()?;
                let text = datafusion::arrow::util::pretty::pretty_format_batches(&clean)?;
                writeln!(sink, "{text}")?;
            }
            SqlOutput::Csv => {
                let mut w = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut sink);
                for b in batches {
                    if terminal {
                        w.write(&sanitized(b)?)?;
                    } else {
                        w.write(b)?;
                    }
                }
            }
            SqlOutput::Jsonl => {
                let mut w = datafusion::arrow::json::LineDelimitedWriter::new(&mut sink);
                for b in batches {
                    w.write(b)?;
                }
                w.finish()?;
            }
            SqlOutput::Parquet => {
                let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(
                    &mut sink,
                    schema.clone(),
                    None,
                )?;
                for b in batches {
                    w.write(b)?;
                }
                w.close()?;
            }
        }
        sink.flush()?;
        Ok(())
    })();
    match res {
        Err(e)
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe) =>
        {
            std::process::exit(0)
        }
        other => other,
    }
}

/// The batch with every string sanitized for a terminal.
fn sanitized(b: &RecordBatch) -> anyhow::Result<RecordBatch> {
    use datafusion::arrow::array::{Array, StringArray};
    let columns: Vec<ArrayRef> = b
        .columns()
        .iter()
        .map(|c| match c.as_any().downcast_ref::<StringArray>() {
            Some(s) => Arc::new(
                s.iter()
                    .map(|v| v.map(vpcreach::render::sanitize))
                    .collect::<StringArray>(),
            ) as ArrayRef,
            None => c.clone(),
        })
        .collect();
    Ok(RecordBatch::try_new(b.schema(), columns)?)
}

/// A table built in memory: its schema and its one batch.
pub(crate) struct Table {
    pub(crate) schema: Arc<Schema>,
    pub(crate) batch: RecordBatch,
}

/// One column being built.
enum Col {
    Str(StringBuilder),
    Num(UInt64Builder),
    Bool(BooleanBuilder),
    /// A column the query does not read: all NULL, nothing kept for it.
    Skip(DataType),
}

/// Columns being built, by name.
pub(crate) struct Builder {
    names: Vec<String>,
    cols: Vec<Col>,
    /// Rows ended with [`Builder::end_row`] (a table whose columns are all skipped still has
    /// its rows: `count(*)`).
    rows: usize,
}

impl Builder {
    pub(crate) fn new(columns: &[(&str, DataType)]) -> Builder {
        Builder::only(columns, None)
    }

    /// A builder of the columns at `wanted` (indices into `columns`; `None`: every one); the
    /// others are NULL in every row and cost nothing.
    pub(crate) fn only(columns: &[(&str, DataType)], wanted: Option<&[usize]>) -> Builder {
        Builder {
            names: columns.iter().map(|(n, _)| n.to_string()).collect(),
            cols: columns
                .iter()
                .enumerate()
                .map(|(i, (_, t))| match t {
                    _ if wanted.is_some_and(|w| !w.contains(&i)) => Col::Skip(t.clone()),
                    DataType::UInt64 => Col::Num(UInt64Builder::new()),
                    DataType::Boolean => Col::Bool(BooleanBuilder::new()),
                    _ => Col::Str(StringBuilder::new()),
                })
                .collect(),
            rows: 0,
        }
    }

    /// Whether column `i` is built (not skipped).
    fn wants(&self, i: usize) -> bool {
        !matches!(self.cols.get(i), Some(Col::Skip(_)) | None)
    }

    /// Ends a row (needed where columns may be skipped).
    fn end_row(&mut self) {
        self.rows += 1;
    }

    fn str(&mut self, i: usize, v: Option<&str>) {
        if let Col::Str(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }

    fn num(&mut self, i: usize, v: Option<u64>) {
        if let Col::Num(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }

    fn bool(&mut self, i: usize, v: Option<bool>) {
        if let Col::Bool(b) = &mut self.cols[i] {
            b.append_option(v);
        }
    }

    pub(crate) fn finish(self) -> anyhow::Result<Table> {
        let built = self.cols.iter().find_map(|c| match c {
            Col::Str(b) => Some(b.len()),
            Col::Num(b) => Some(b.len()),
            Col::Bool(b) => Some(b.len()),
            Col::Skip(_) => None,
        });
        let rows = built.unwrap_or(self.rows);
        let mut fields = Vec::with_capacity(self.cols.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.cols.len());
        for (name, col) in self.names.into_iter().zip(self.cols) {
            let (t, a): (DataType, ArrayRef) = match col {
                Col::Str(mut b) => (DataType::Utf8, Arc::new(b.finish())),
                Col::Num(mut b) => (DataType::UInt64, Arc::new(b.finish())),
                Col::Bool(mut b) => (DataType::Boolean, Arc::new(b.finish())),
                Col::Skip(t) => (t.clone(), new_null_array(&t, rows)),
            };
            fields.push(ArrowField::new(name, t, true));
            arrays.push(a);
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        Ok(Table { schema, batch })
    }
}

/// Flow-log fields whose values are numbers.
fn is_number(f: Field) -> bool {
    matches!(
        f.name(),
        "version"
            | "srcport"
            | "dstport"
            | "protocol"
            | "packets"
            | "bytes"
            | "start"
            | "end"
            | "tcp-flags"
            | "traffic-path"
            | "ecs-container-count"
    )
}

/// The columns of the `flows` table.
pub(crate) fn flows_columns() -> Vec<(&'static str, DataType)> {
    let mut columns: Vec<(&str, DataType)> = vec![
        ("file", DataType::Utf8),
        ("line", DataType::UInt64),
        ("row", DataType::UInt64),
        ("event", DataType::UInt64),
    ];
    for f in Field::ALL {
        let t = if is_number(f) {
            DataType::UInt64
        } else {
            DataType::Utf8
        };
        columns.push((f.json_name(), t));
    }
    columns
}

/// The `flows` table (of the columns at `wanted`, the others NULL; `None`: every column), and
/// the inputs that could not be read.
pub(crate) fn flows_table(
    inputs: &super::source::FlowInputs,
    format: Option<vpcreach::flow_log::Format>,
    threads: usize,
    wanted: Option<&[usize]>,
) -> anyhow::Result<(Table, Vec<String>)> {
    let mut b = Builder::only(&flows_columns(), wanted);
    let mut errors = Vec::new();
    let reader = inputs.reader(format).with_threads(threads);
    let _ = parse_parallel(reader, threads, |parsed| {
        let parsed = match parsed {
            Ok(p) => p,
            Err(e) if e.is_warning() => {
                eprintln!(
                    "warning: {}",
                    vpcreach::render::sanitize_line(&e.to_string())
                );
                return ControlFlow::Continue(());
            }
            Err(e) => {
                errors.push(e.to_string());
                return ControlFlow::Continue(());
            }
        };
        let file = inputs
            .remote_name(&parsed.file)
            .map(str::to_string)
            .unwrap_or_else(|| parsed.file.display().to_string());
        for r in &parsed.records {
            b.str(0, Some(&file));
            b.num(1, (!parsed.rows).then_some(r.line));
            b.num(2, parsed.rows.then_some(r.line));
            b.num(3, r.event.map(u64::from));
            for (i, (f, v)) in r.fields().enumerate() {
                let at = i + 4;
                if !b.wants(at) {
                    continue;
                }
                if is_number(f) {
                    b.num(
                        at,
                        if let FieldValue::Number(n) = v {
                            Some(n)
                        } else {
                            None
                        },
                    );
                } else {
                    match v {
                        FieldValue::Absent => b.str(at, None),
                        other => b.str(at, Some(&other.to_string())),
                    }
                }
            }
            b.end_row();
        }
        ControlFlow::Continue(())
    })
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((b.finish()?, errors))
}

/// The `explained` table, built from `explain`'s JSON lines as they are written.
struct ExplainedTable {
    b: Builder,
    partial: Vec<u8>,
    bad: Option<String>,
}

pub(crate) const EXPLAINED: &[(&str, DataType)] = &[
    ("file", DataType::Utf8),
    ("line", DataType::UInt64),
    ("event", DataType::UInt64),
    ("status", DataType::Utf8),
    ("observed", DataType::Utf8),
    ("expected", DataType::Utf8),
    ("eni", DataType::Utf8),
    ("interface_name", DataType::Utf8),
    ("direction", DataType::Utf8),
    ("role", DataType::Utf8),
    ("srcaddr", DataType::Utf8),
    ("dstaddr", DataType::Utf8),
    ("srcport", DataType::UInt64),
    ("dstport", DataType::UInt64),
    ("protocol", DataType::UInt64),
    ("reason", DataType::Utf8),
    ("message", DataType::Utf8),
    ("hints", DataType::Utf8),
    ("deciding_layer", DataType::Utf8),
    ("deciding_decision", DataType::Utf8),
    ("deciding_resources", DataType::Utf8),
    ("deciding_rule_number", DataType::UInt64),
    ("deciding_rule", DataType::Utf8),
    ("checks", DataType::Utf8),
];

/// A string of a line: borrowed from the line when it holds no escape, else its own copy.
struct Text<'a>(Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> serde::Deserialize<'de> for Text<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Cow<'de, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(Visitor).map(Text)
    }
}

/// Joins strings of a line with `sep`.
fn join(parts: &[Text<'_>], sep: &str) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(p);
    }
    out
}

/// A line of `explain --output jsonl` as the `explained` table reads it: strings borrowed from
/// the line where they hold no escape, the fields the table has no column for skipped.
/// `D` is what `decided_by` is read as: skipped, or the checks.
#[derive(serde::Deserialize)]
#[serde(bound(deserialize = "D: serde::Deserialize<'de>"))]
struct Line<'a, D> {
    #[serde(borrow, default)]
    file: Option<Text<'a>>,
    #[serde(default)]
    line: Option<u64>,
    #[serde(default)]
    event: Option<u64>,
    #[serde(borrow, default)]
    status: Option<Text<'a>>,
    #[serde(borrow, default)]
    observed: Option<Text<'a>>,
    #[serde(borrow, default)]
    expected: Option<Text<'a>>,
    #[serde(borrow, default)]
    interface_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    interface_name: Option<Text<'a>>,
    #[serde(borrow, default)]
    direction: Option<Text<'a>>,
    #[serde(borrow, default)]
    role: Option<Text<'a>>,
    #[serde(borrow, default)]
    srcaddr: Option<Text<'a>>,
    #[serde(borrow, default)]
    dstaddr: Option<Text<'a>>,
    #[serde(default)]
    srcport: Option<u64>,
    #[serde(default)]
    dstport: Option<u64>,
    #[serde(default)]
    protocol: Option<u64>,
    #[serde(borrow, default)]
    reason: Option<Text<'a>>,
    #[serde(borrow, default)]
    message: Option<Text<'a>>,
    #[serde(borrow, default)]
    problem: Option<Text<'a>>,
    #[serde(borrow, default)]
    hints: Option<Vec<Text<'a>>>,
    #[serde(default = "Option::default")]
    decided_by: Option<D>,
}

/// A check of `decided_by`, as the deciding-check columns read it.
#[derive(serde::Deserialize)]
struct Check<'a> {
    #[serde(borrow, default)]
    layer: Option<Text<'a>>,
    #[serde(borrow, default)]
    decision: Option<Text<'a>>,
    #[serde(borrow, default)]
    resources: Option<Vec<Text<'a>>>,
    #[serde(default)]
    rule_number: Option<u64>,
    #[serde(borrow, default)]
    text: Option<Text<'a>>,
}

/// `decided_by` alone, as the `checks` column keeps it (every check as JSON).
#[derive(serde::Deserialize)]
struct AllChecks {
    #[serde(default)]
    decided_by: Option<serde_json::Value>,
}

/// Columns of [`EXPLAINED`] read from `decided_by`: the deciding check, then every check.
const DECIDING: std::ops::Range<usize> = 18..23;
const CHECKS: usize = 23;

impl ExplainedTable {
    /// A table of the columns at `wanted` (indices into [`EXPLAINED`]; `None`: every one), the
    /// others NULL: a line's parts no wanted column needs are not read.
    fn only(wanted: Option<&[usize]>) -> Self {
        ExplainedTable {
            b: Builder::only(EXPLAINED, wanted),
            partial: Vec::new(),
            bad: None,
        }
    }

    /// The parts of `explain`'s JSON lines the wanted columns read.
    fn parts(&self) -> vpcreach::render::explain::JsonParts {
        vpcreach::render::explain::JsonParts {
            decided_by: DECIDING.clone().any(|i| self.b.wants(i)) || self.b.wants(CHECKS),
            message: self.b.wants(16),
        }
    }

    fn add(&mut self, line: &[u8]) {
        if let Err(e) = self.try_add(line) {
            self.bad.get_or_insert_with(|| e.to_string());
        }
    }

    fn try_add(&mut self, line: &[u8]) -> Result<(), serde_json::Error> {
        let deciding = DECIDING.clone().any(|i| self.b.wants(i));
        if deciding {
            let v: Line<'_, Vec<Check<'_>>> = serde_json::from_slice(line)?;
            let checks = v.decided_by.as_deref().unwrap_or_default();
            // The deciding check: the first that denies, else the last (every check allowed).
            let d = checks
                .iter()
                .find(|c| c.decision.as_deref() == Some("deny"))
                .or_else(|| checks.last());
            let b = &mut self.b;
            b.str(18, d.and_then(|d| d.layer.as_deref()));
            b.str(19, d.and_then(|d| d.decision.as_deref()));
            let resources = d.and_then(|d| d.resources.as_deref()).map(|r| join(r, ","));
            b.str(20, resources.as_deref());
            b.num(21, d.and_then(|d| d.rule_number));
            b.str(22, d.and_then(|d| d.text.as_deref()));
            self.head(&v);
        } else {
            let v: Line<'_, serde::de::IgnoredAny> = serde_json::from_slice(line)?;
            self.head(&v);
        }
        if self.b.wants(CHECKS) {
            let all: AllChecks = serde_json::from_slice(line)?;
            let text = all.decided_by.map(|c| c.to_string());
            self.b.str(CHECKS, text.as_deref());
        }
        self.b.end_row();
        Ok(())
    }

    /// The columns read from a line's own fields.
    fn head<D>(&mut self, v: &Line<'_, D>) {
        let b = &mut self.b;
        b.str(0, v.file.as_deref());
        b.num(1, v.line);
        b.num(2, v.event);
        b.str(3, v.status.as_deref());
        b.str(4, v.observed.as_deref());
        b.str(5, v.expected.as_deref());
        b.str(6, v.interface_id.as_deref());
        b.str(7, v.interface_name.as_deref());
        b.str(8, v.direction.as_deref());
        b.str(9, v.role.as_deref());
        b.str(10, v.srcaddr.as_deref());
        b.str(11, v.dstaddr.as_deref());
        b.num(12, v.srcport);
        b.num(13, v.dstport);
        b.num(14, v.protocol);
        b.str(15, v.reason.as_deref());
        b.str(16, v.message.as_deref().or(v.problem.as_deref()));
        if b.wants(17) {
            let hints = v.hints.as_deref().map(|h| join(h, "; "));
            b.str(17, hints.as_deref());
        }
    }

    pub(crate) fn finish(self) -> anyhow::Result<Table> {
        if let Some(e) = self.bad {
            anyhow::bail!("an explanation could not be read back: {e}");
        }
        self.b.finish()
    }
}

impl Write for &mut ExplainedTable {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut rest = buf;
        // The end of a line begun in an earlier write.
        if !self.partial.is_empty() {
            let Some(end) = memchr::memchr(b'\n', rest) else {
                self.partial.extend_from_slice(rest);
                return Ok(buf.len());
            };
            let mut line = std::mem::take(&mut self.partial);
            line.extend_from_slice(&rest[..end]);
            self.add(&line);
            line.clear();
            self.partial = line;
            rest = &rest[end + 1..];
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', rest) {
            let line = &rest[start..end];
            if !line.is_empty() {
                self.add(line);
            }
            start = end + 1;
        }
        self.partial.extend_from_slice(&rest[start..]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The `explained` table of `inputs` (the columns at `wanted`, the others NULL; `None`: every
/// column), and what explaining them saw.
pub(crate) fn explained_table(
    args: &ExplainArgs,
    inputs: &super::source::FlowInputs,
    wanted: Option<&[usize]>,
) -> anyhow::Result<(Table, super::explain::Explained)> {
    let mut table = ExplainedTable::only(wanted);
    let parts = table.parts();
    let seen = explain_jsonl(args, inputs, parts, Box::new(&mut table))?;
    let table = table.finish()?;
    // Every record explained is a row: the totals add up.
    let explained: u64 = seen.statuses.iter().map(|(_, n)| n).sum();
    if table.batch.num_rows() as u64 != explained {
        anyhow::bail!(
            "the explained table has {} rows for {explained} records explained",
            table.batch.num_rows()
        );
    }
    Ok((table, seen))
}

/// The `changes` table: each change of the history, in time order.
pub(crate) fn changes_table(events: &[vpcreach::history::Event]) -> anyhow::Result<Table> {
    let mut b = Builder::new(&[
        ("time", DataType::Utf8),
        ("unix_time", DataType::UInt64),
        ("event_id", DataType::Utf8),
        ("api", DataType::Utf8),
        ("principal", DataType::Utf8),
        ("source_ip", DataType::Utf8),
        ("region", DataType::Utf8),
        ("account", DataType::Utf8),
        ("kind", DataType::Utf8),
        ("resources", DataType::Utf8),
        ("change", DataType::Utf8),
    ]);
    for e in events {
        let change = serde_json::to_value(&e.change)?;
        b.str(0, Some(&vpcreach::timestamp::Rfc3339(e.time).to_string()));
        b.num(1, u64::try_from(e.time).ok());
        b.str(2, Some(&e.event_id));
        b.str(3, Some(&e.api));
        b.str(4, e.principal.as_deref());
        b.str(5, e.source_ip.as_deref());
        b.str(6, e.region.as_deref());
        b.str(7, e.account.as_deref());
        b.str(8, change.get("kind").and_then(|k| k.as_str()));
        b.str(9, Some(&e.change.resources().join(",")));
        b.str(10, Some(&change.to_string()));
    }
    b.finish()
}

/// The configuration tables.
pub(crate) fn config_tables(net: &Network) -> Vec<(&'static str, Table)> {
    let mut out = Vec::new();
    let subnet_id = |i: Option<usize>| i.and_then(|i| net.subnets.get(i)).map(|s| s.id.as_str());
    // enis
    let mut b = Builder::new(&[
        ("id", DataType::Utf8),
        ("name", DataType::Utf8),
        ("subnet_id", DataType::Utf8),
        ("vpc_id", DataType::Utf8),
        ("instance_id", DataType::Utf8),
        ("interface_type", DataType::Utf8),
        ("private_ips", DataType::Utf8),
        ("public_ips", DataType::Utf8),
        ("ipv6", DataType::Utf8),
        ("security_groups", DataType::Utf8),
        ("source_dest_check", DataType::Boolean),
    ]);
    for e in &net.enis {
        let join = |v: Vec<String>| (!v.is_empty()).then(|| v.join(","));
        b.str(0, Some(&e.id));
        b.str(1, e.name.as_deref());
        b.str(2, subnet_id(e.subnet));
        b.str(3, e.vpc_id.as_deref());
        b.str(4, e.instance_id.as_deref());
        b.str(5, e.interface_type.as_deref());
        b.str(
            6,
            join(e.private_ipv4.iter().map(|a| a.to_string()).collect()).as_deref(),
        );
        b.str(
            7,
            join(e.public_ips.iter().map(|(p, _)| p.to_string()).collect()).as_deref(),
        );
        b.str(
            8,
            join(e.ipv6.iter().map(|a| a.to_string()).collect()).as_deref(),
        );
        b.str(
            9,
            join(
                e.groups
                    .iter()
                    .filter_map(|g| net.groups.get(*g))
                    .map(|g| g.id.clone())
                    .collect(),
            )
            .as_deref(),
        );
        b.bool(10, Some(e.source_dest_check));
    }
    push(&mut out, "enis", b);
    // security_group_rules
    let mut b = Builder::new(&[
        ("group_id", DataType::Utf8),
        ("group_name", DataType::Utf8),
        ("vpc_id", DataType::Utf8),
        ("direction", DataType::Utf8),
        ("position", DataType::UInt64),
        ("protocol", DataType::Utf8),
        ("from_port", DataType::UInt64),
        ("to_port", DataType::UInt64),
        ("peer_kind", DataType::Utf8),
        ("peer", DataType::Utf8),
        ("description", DataType::Utf8),
        ("rule", DataType::Utf8),
    ]);
    for g in &net.groups {
        for r in g.inbound.iter().chain(&g.outbound) {
            let (from, to) = ports(&r.ports);
            b.str(0, Some(&g.id));
            b.str(1, Some(&g.name));
            b.str(2, g.vpc_id.as_deref());
            b.str(3, Some(&r.direction.to_string()));
            b.num(4, Some(r.position as u64 + 1));
            b.str(5, Some(&r.protocol.to_string()));
            b.num(6, from);
            b.num(7, to);
            let kind = match &r.peer {
                vpcreach::security_group::SgPeer::Cidr { .. } => "cidr",
                vpcreach::security_group::SgPeer::PrefixList { .. } => "prefix_list",
                vpcreach::security_group::SgPeer::Group(_) => "group",
            };
            b.str(8, Some(kind));
            b.str(9, Some(&r.peer.to_string()));
            b.str(10, r.description.as_deref());
            b.str(11, Some(&r.to_string()));
        }
    }
    push(&mut out, "security_group_rules", b);
    // network_acl_entries
    let mut b = Builder::new(&[
        ("acl_id", DataType::Utf8),
        ("vpc_id", DataType::Utf8),
        ("is_default_acl", DataType::Boolean),
        ("direction", DataType::Utf8),
        ("rule_number", DataType::UInt64),
        ("action", DataType::Utf8),
        ("protocol", DataType::Utf8),
        ("from_port", DataType::UInt64),
        ("to_port", DataType::UInt64),
        ("cidr", DataType::Utf8),
        ("is_default_rule", DataType::Boolean),
    ]);
    for n in &net.nacls {
        for r in n.inbound.iter().chain(&n.outbound) {
            let (from, to) = ports(&r.ports);
            b.str(0, Some(&n.id));
            b.str(1, Some(&n.vpc_id));
            b.bool(2, Some(n.is_default));
            b.str(3, Some(&r.direction.to_string()));
            b.num(4, Some(u64::from(r.rule_number)));
            b.str(5, Some(&r.action.to_string()));
            b.str(6, Some(&r.protocol.to_string()));
            b.num(7, from);
            b.num(8, to);
            b.str(9, Some(&r.cidr.to_string()));
            b.bool(10, Some(r.is_default));
        }
    }
    push(&mut out, "network_acl_entries", b);
    // routes
    let mut b = Builder::new(&[
        ("route_table_id", DataType::Utf8),
        ("vpc_id", DataType::Utf8),
        ("main", DataType::Boolean),
        ("destination", DataType::Utf8),
        ("target", DataType::Utf8),
        ("blackhole", DataType::Boolean),
        ("propagated", DataType::Boolean),
    ]);
    for t in &net.route_tables {
        for r in &t.routes {
            b.str(0, Some(&t.id));
            b.str(1, Some(&t.vpc_id));
            b.bool(2, Some(t.main));
            b.str(3, Some(&r.destination.to_string()));
            b.str(4, Some(&r.target.to_string()));
            b.bool(5, Some(r.blackhole));
            b.bool(6, Some(r.propagated));
        }
    }
    push(&mut out, "routes", b);
    // subnets
    let mut b = Builder::new(&[
        ("id", DataType::Utf8),
        ("vpc_id", DataType::Utf8),
        ("cidrs", DataType::Utf8),
        ("network_acl_id", DataType::Utf8),
        ("route_table_id", DataType::Utf8),
    ]);
    for s in &net.subnets {
        b.str(0, Some(&s.id));
        b.str(1, Some(&s.vpc_id));
        let cidrs: Vec<String> = s.cidrs.iter().map(|c| c.to_string()).collect();
        b.str(2, Some(&cidrs.join(",")));
        b.str(
            3,
            s.nacl.and_then(|i| net.nacls.get(i)).map(|n| n.id.as_str()),
        );
        b.str(
            4,
            s.route_table
                .and_then(|i| net.route_tables.get(i))
                .map(|t| t.id.as_str()),
        );
    }
    push(&mut out, "subnets", b);
    out
}

fn push(out: &mut Vec<(&'static str, Table)>, name: &'static str, b: Builder) {
    match b.finish() {
        Ok(t) => out.push((name, t)),
        Err(e) => eprintln!("warning: table `{name}` could not be built: {e}"),
    }
}

/// A port match as a range: ports `from`–`to`, ICMP type and code, or all (none).
fn ports(p: &vpcreach::security_group::PortMatch) -> (Option<u64>, Option<u64>) {
    use vpcreach::security_group::PortMatch;
    match p {
        PortMatch::Any => (None, None),
        PortMatch::Ports { range } => (Some(u64::from(range.from)), Some(u64::from(range.to))),
        PortMatch::Icmp {
            icmp_type,
            icmp_code,
        } => (icmp_type.map(u64::from), icmp_code.map(u64::from)),
    }
}
