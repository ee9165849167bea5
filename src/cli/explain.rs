//! `vpcreach explain`: for each flow-log record, what the configuration does at its ENI, which
//! rule decided, and whether the observed action agrees.

use anyhow::Context;
use std::collections::BTreeSet;
use std::io::{self, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use vpcreach::explain::{Explainer, MemoPool, Status, Tally};
use vpcreach::flow_log::{run_ordered, Counts};
use vpcreach::render::explain::{JsonParts, RenderCache};
use vpcreach::Network;

/// Output formats of `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExplainOutput {
    /// One readable line per record, and a summary on stderr.
    Human,
    /// One JSON object per record; the summary on stderr.
    Jsonl,
    /// One JSON document: `{"records": [...], "summary": {...}}`.
    Json,
}

/// Arguments of `vpcreach explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub source: super::source::SnapshotSource,
    /// Flow-log files or folders (`.log`, `.gz`, … as S3 lays them out), `-` for standard input,
    /// `s3://BUCKET/PREFIX` or `cloudwatch://LOG_GROUP`.
    #[arg(required = true, value_name = "FLOWS")]
    pub flows: Vec<PathBuf>,
    /// Format of records in files without a header line: AWS's format string or field names
    /// [default: the version 2 format].
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub output: ExplainOutput,
    /// Print only records of these statuses (comma-separated: consistent, contradiction,
    /// unknown, skipped, malformed); the summary still counts every record.
    #[arg(long, value_name = "STATUS,…", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Treat the first malformed line as an error (exit code 2).
    #[arg(long)]
    pub strict: bool,
    /// Add every security-group and NACL rule of the ENIs seen, with its hit count and the
    /// narrowest addresses and ports the accepted traffic used, to the summary.
    #[arg(long)]
    pub rule_usage: bool,
    /// When the snapshot was taken (RFC 3339, e.g. 2024-05-01T13:00:00Z), for a folder that
    /// does not record it (`vpcreach collect` does): contradictions then say whether the
    /// snapshot is older or newer than the record.
    #[arg(long, value_name = "TIME")]
    pub snapshot_time: Option<vpcreach::timestamp::TimeArg>,
    /// Worker threads, 1 to 256 [default: one per core].
    #[arg(long, short = 'j', value_name = "N", value_parser = super::threads_arg)]
    pub threads: Option<usize>,
    #[command(flatten)]
    pub window: super::source::FlowWindow,
    /// CloudTrail log files or folders (`AWSLogs/<account>/CloudTrail/<region>/…`, `.json` or
    /// `.json.gz`), AWS Config files, `s3://BUCKET/PREFIX` of either, or `cloudtrail://REGION`
    /// (the Region's CloudTrail event history, 90 days): each record is then judged by the configuration at its start (the snapshot
    /// with every later change undone), and a record whose answer differs from the snapshot's
    /// names the changes in between. Needs the snapshot's time. Repeat the option for more
    /// sources (one value each: FLOWS follow).
    #[arg(long, value_name = "SRC")]
    pub history: Vec<PathBuf>,
}

/// What records are judged by: the snapshot, or the snapshot and its history.
enum Model {
    Snapshot(Box<Network>),
    History(Box<vpcreach::explain::Timeline>),
}

impl Model {
    /// The model at the snapshot's time.
    fn current(&self) -> &Network {
        match self {
            Model::Snapshot(n) => n,
            Model::History(t) => t.current(),
        }
    }
}

struct ChunkOut {
    /// The file the chunk comes from, for the counts per file.
    file: std::sync::Arc<std::path::Path>,
    /// The chunk's printed records: lines each ending in `\n` (human, jsonl), or JSON objects
    /// separated by `,\n  ` (json).
    text: Vec<u8>,
    warnings: Vec<String>,
    tally: Tally,
    counts: Counts,
}

/// The options of a run, checked before any work.
struct Options {
    only: BTreeSet<Status>,
    format: Option<vpcreach::flow_log::Format>,
    output: ExplainOutput,
    color: bool,
    strict: bool,
    rule_usage: bool,
    threads: usize,
    /// The parts of each JSON line written (`sql` asks for fewer).
    parts: JsonParts,
}

/// What reading and explaining every input gave.
#[derive(Default)]
struct Outcome {
    tally: Tally,
    counts: Counts,
    /// Counts per input file, in the order first seen.
    per_file: Vec<(std::sync::Arc<std::path::Path>, Counts)>,
    /// Inputs that could not be read (a truncated `.gz`, a missing file), and files with no
    /// valid record: the run is incomplete.
    errors: Vec<String>,
    strict_error: Option<String>,
    write_error: Option<io::Error>,
    /// Malformed-line warnings per file.
    warned: std::collections::BTreeMap<std::sync::Arc<std::path::Path>, u64>,
}

/// Runs `vpcreach explain`: exit 0 when nothing contradicts, 1 when a record contradicts the
/// configuration, 2 on errors (an input that could not be read, or a file with no valid record).
pub fn run(args: ExplainArgs) -> anyhow::Result<u8> {
    let opts = parse_options(&args)?;
    let model = build_model(&args)?;
    let net = model.current();
    let inputs = super::source::flow_inputs_with(&args.flows, &args.window, &args.source.aws)?;
    let mut sink = Sink::new(opts.output);
    let mut outcome = explain_inputs(&model, &inputs, &opts, &mut sink)?;
    check_files(&mut outcome);
    if let Some(w) = outcome.strict_error.take() {
        if outcome.write_error.is_none() {
            // JSON output stays a valid document: the records so far, and why it stopped.
            sink.fail(&format!("{w} (--strict)"))?;
        }
        anyhow::bail!("{w} (--strict)");
    }
    if let Some(e) = outcome.write_error.take() {
        if e.kind() == io::ErrorKind::BrokenPipe {
            // The reader went away (`| head`): the exit code still says what was seen.
            return Ok(exit_code(&outcome));
        }
        return Err(e).context("cannot write the output");
    }
    sink.finish(&outcome, net, opts.rule_usage)?;
    summarize(&outcome, net, &opts);
    Ok(exit_code(&outcome))
}

/// Stage 1: the flags, checked.
fn parse_options(args: &ExplainArgs) -> anyhow::Result<Options> {
    let only: BTreeSet<Status> = args
        .only
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                anyhow::anyhow!(
                    "`--only {s}`: expected consistent, contradiction, unknown, skipped or malformed"
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let format = super::format_arg(args.format.as_deref())?;
    let output = args.output;
    let color = output == ExplainOutput::Human
        && io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    Ok(Options {
        only,
        format,
        output,
        color,
        strict: args.strict,
        rule_usage: args.rule_usage,
        threads: args.threads.unwrap_or(0),
        parts: JsonParts::ALL,
    })
}

/// Stage 2: the network model of the snapshot (with `--history`, at every time up to it).
fn build_model(args: &ExplainArgs) -> anyhow::Result<Model> {
    let snap = args.source.load()?;
    if !args.history.is_empty() {
        let history = super::history::HistoryArgs {
            history: args.history.clone(),
            snapshot_time: args.snapshot_time,
        };
        let t = history.snapshot_time(&snap)?;
        let h = history.load(&args.source.aws)?;
        let later = h.events.iter().filter(|e| e.time > t).count();
        if later > 0 {
            eprintln!(
                "note: {later} change(s) after the snapshot's time ({}) are already not in it: records after them are judged by the snapshot",
                vpcreach::timestamp::Rfc3339(t)
            );
        }
        let timeline = vpcreach::explain::Timeline::new(snap, t, h.events);
        super::report_model(timeline.snapshot(), timeline.current());
        return Ok(Model::History(Box::new(timeline)));
    }
    let mut net = Network::build(&snap);
    if let Some(t) = &args.snapshot_time {
        net.snapshot_time = Some(t.start);
    }
    super::report_model(&snap, &net);
    // The model holds what explaining needs: the parsed snapshot's memory is given back as
    // `snap` goes out of scope here.
    Ok(Model::Snapshot(Box::new(net)))
}

/// Stage 3: reads the inputs in chunks, explains each chunk on the worker threads and hands
/// the printed records to `sink` in input order. Malformed lines are reported once, on stderr
/// (as warnings), not as records on stdout, unless `--only malformed` asks for them.
fn explain_inputs(
    model: &Model,
    inputs: &super::source::FlowInputs,
    opts: &Options,
    sink: &mut Sink<'_>,
) -> anyhow::Result<Outcome> {
    let net = model.current();
    let explainer = Explainer::new(net);
    let reader = inputs
        .reader(opts.format.clone())
        .with_threads(opts.threads);
    let memos = MemoPool::default();
    // Output buffers, given back once written: large ones, so not allocated anew per chunk.
    let buffers: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
    // Rendered rule pieces, one cache per worker thread (taken and given back per chunk).
    let renders: std::sync::Mutex<Vec<RenderCache<'_>>> = std::sync::Mutex::new(Vec::new());
    let only = &opts.only;
    let (output, color) = (opts.output, opts.color);
    let printed = |s: Status| {
        if s == Status::Malformed {
            only.contains(&s)
        } else {
            only.is_empty() || only.contains(&s)
        }
    };
    let work = |item: Result<vpcreach::flow_log::Chunk, vpcreach::flow_log::ReadError>| {
        item.map(|chunk| {
            // Fetched inputs are named as the user gave them (`s3://…`), not by their scratch path.
            let remote = inputs.remote_name(&chunk.file).map(|name| {
                let label: std::sync::Arc<std::path::Path> = std::path::Path::new(name).into();
                (label, chunk.file.display().to_string(), name)
            });
            let file = remote
                .as_ref()
                .map(|(label, _, _)| label.clone())
                .unwrap_or_else(|| chunk.file.clone());
            let mut text: Vec<u8> = buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_default();
            let mut warnings = Vec::new();
            let want = |s: Status| s == Status::Malformed || printed(s);
            let mut render = renders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_else(|| RenderCache::new(net));
            let mut handle = |mut e: vpcreach::explain::Explanation<'_>,
                              render: &mut RenderCache<'_>| {
                if let Some((label, scratch, name)) = &remote {
                    e.file = label.clone();
                    if let Some(p) = &mut e.problem {
                        *p = p.replace(scratch.as_str(), name);
                    }
                }
                if e.status == Status::Malformed {
                    warnings.push(e.problem.clone().unwrap_or_default());
                }
                if printed(e.status) {
                    render_record(&e, output, opts.parts, color, render, &mut text);
                }
            };
            let (tally, counts) = match model {
                Model::Snapshot(_) => memos.with(|memo| {
                    explainer.explain_chunk_counted(&chunk, memo, want, |e| handle(e, &mut render))
                }),
                // Each record by the model at its start, by the fast scan.
                Model::History(timeline) => memos.with(|memo| {
                    timeline.explain_chunk_counted(&chunk, memo, want, |net, e| {
                        if std::ptr::eq(net, timeline.current()) {
                            handle(e, &mut render);
                        } else {
                            // A record judged by an earlier configuration is rendered with its
                            // network.
                            handle(e, &mut RenderCache::new(net));
                        }
                    })
                }),
            };
            renders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(render);
            ChunkOut {
                file,
                text,
                warnings,
                tally,
                counts,
            }
        })
    };
    let mut outcome = Outcome::default();
    if let Err(e) = sink.begin() {
        outcome.write_error = Some(e);
        return Ok(outcome);
    }
    let _ = run_ordered(reader, opts.threads, work, |item| {
        let chunk = match item {
            Ok(c) => c,
            Err(e) if e.is_warning() => {
                eprintln!(
                    "warning: {}",
                    vpcreach::render::sanitize_line(&e.to_string())
                );
                return ControlFlow::Continue(());
            }
            Err(e) => {
                eprintln!("error: {}", vpcreach::render::sanitize_line(&e.to_string()));
                outcome.errors.push(e.to_string());
                return ControlFlow::Continue(());
            }
        };
        for w in &chunk.warnings {
            if opts.strict {
                outcome.strict_error = Some(w.clone());
                return ControlFlow::Break(());
            }
            // A file that is not a flow log would print a warning per line: the first few
            // say what is wrong, the rest are counted.
            let shown = outcome.warned.entry(chunk.file.clone()).or_default();
            *shown += 1;
            if *shown <= WARNINGS_PER_FILE {
                eprintln!("warning: {}", vpcreach::render::sanitize_line(w));
            }
        }
        outcome.counts += chunk.counts;
        match outcome.per_file.last_mut() {
            Some((f, c)) if *f == chunk.file => *c += chunk.counts,
            _ => outcome.per_file.push((chunk.file.clone(), chunk.counts)),
        }
        outcome.tally.merge(chunk.tally);
        let res = sink.write_chunk(&chunk.text);
        let mut text = chunk.text;
        text.clear();
        buffers.lock().unwrap_or_else(|e| e.into_inner()).push(text);
        if let Err(e) = res {
            outcome.write_error = Some(e);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    Ok(outcome)
}

/// One record, in the output format, appended to a chunk's text.
fn render_record(
    e: &vpcreach::explain::Explanation,
    output: ExplainOutput,
    parts: JsonParts,
    color: bool,
    render: &mut RenderCache<'_>,
    text: &mut Vec<u8>,
) {
    match output {
        ExplainOutput::Human => {
            let line = vpcreach::render::explain::line_cached(e, render, color);
            text.extend_from_slice(line.as_bytes());
            text.push(b'\n');
        }
        ExplainOutput::Jsonl => {
            e.write_json_line_parts(render, text, parts);
            text.push(b'\n');
        }
        ExplainOutput::Json => {
            if !text.is_empty() {
                text.extend_from_slice(b",\n  ");
            }
            e.write_json_line(render, text);
        }
    }
}

/// Malformed-line warnings printed per file; the others are counted in one line.
const WARNINGS_PER_FILE: u64 = 10;

/// A file whose lines gave no valid record (a binary file, a wrong `--format`) is an error,
/// named once with its counts.
fn check_files(outcome: &mut Outcome) {
    for (file, n) in &outcome.warned {
        if *n > WARNINGS_PER_FILE {
            eprintln!(
                "warning: `{}`: {} more malformed line(s) not shown",
                file.display(),
                n - WARNINGS_PER_FILE
            );
        }
    }
    for (file, c) in &outcome.per_file {
        let valid = c.parsed + c.skipped();
        if c.read > 0 && valid == 0 {
            let e = format!(
                "`{}`: no valid flow-log record in {} line(s), all malformed (is it a flow log, and is `--format` or its header right?)",
                file.display(),
                c.read
            );
            eprintln!("error: {e}");
            outcome.errors.push(e);
        }
    }
}

/// Stage 4: where the records go, in the output format (stdout, or another writer for
/// `vpcreach sql`).
struct Sink<'w> {
    out: io::BufWriter<Box<dyn Write + 'w>>,
    output: ExplainOutput,
    first: bool,
}

impl<'w> Sink<'w> {
    fn new(output: ExplainOutput) -> Sink<'static> {
        Sink::to(output, Box::new(io::stdout().lock()))
    }

    fn to(output: ExplainOutput, out: Box<dyn Write + 'w>) -> Sink<'w> {
        Sink {
            out: io::BufWriter::with_capacity(256 * 1024, out),
            output,
            first: true,
        }
    }

    fn begin(&mut self) -> io::Result<()> {
        if self.output == ExplainOutput::Json {
            self.out.write_all(b"{\"records\": [\n")?;
        }
        Ok(())
    }

    fn write_chunk(&mut self, text: &[u8]) -> io::Result<()> {
        // The whole chunk at once: larger than the writer's buffer, it is not copied into it.
        if text.is_empty() {
            Ok(())
        } else if self.output == ExplainOutput::Json {
            let sep: &[u8] = if self.first { b"  " } else { b",\n  " };
            self.first = false;
            self.out.write_all(sep)?;
            self.out.write_all(text)
        } else {
            self.out.write_all(text)
        }
    }

    /// Ends the output of a run stopped by `error` (`--strict`): JSON output is closed as a
    /// valid document with the records so far and the `error`.
    fn fail(mut self, error: &str) -> anyhow::Result<()> {
        if self.output == ExplainOutput::Json {
            let error = serde_json::to_string(error)?;
            let _ =
                writeln!(self.out, "\n],\n\"error\": {error}}}").and_then(|()| self.out.flush());
        }
        Ok(())
    }

    /// Ends the output: the JSON summary (with `errors`) where it is printed.
    fn finish(mut self, o: &Outcome, net: &Network, rule_usage: bool) -> anyhow::Result<()> {
        // The JSON summary only where it is printed: with every rule hit, building it costs as
        // much as the human one.
        let res = if self.output == ExplainOutput::Json {
            let summary =
                vpcreach::render::explain::summary_json(&o.tally, &o.counts, net, rule_usage);
            writeln!(
                self.out,
                "\n],\n\"summary\": {},\n\"errors\": {},\n\"complete\": {}}}",
                serde_json::to_string_pretty(&summary)?,
                serde_json::to_string(&o.errors)?,
                o.errors.is_empty()
            )
        } else {
            Ok(())
        };
        if let Err(e) = res.and_then(|()| self.out.flush()) {
            if e.kind() != io::ErrorKind::BrokenPipe {
                return Err(e).context("cannot write the output");
            }
        }
        Ok(())
    }
}

/// Stage 5: the human summary on stderr (JSON carries its own).
fn summarize(o: &Outcome, net: &Network, opts: &Options) {
    if opts.output != ExplainOutput::Json {
        eprint!(
            "{}",
            vpcreach::render::explain::summary_human(&o.tally, &o.counts, net, opts.rule_usage)
        );
        if !o.errors.is_empty() {
            eprintln!(
                "incomplete: {} input(s) could not be explained (see the errors above)",
                o.errors.len()
            );
        }
    }
    // Totals add up: records read = explained + skipped + malformed.
    debug_assert_eq!(o.tally.total(), o.counts.read);
}

/// The exit code: 2 on errors, 1 on contradictions, else 0.
fn exit_code(o: &Outcome) -> u8 {
    if !o.errors.is_empty() {
        2
    } else if o.tally.count(Status::Contradiction) > 0 {
        1
    } else {
        0
    }
}

/// What [`explain_jsonl`] saw: the records of each status (inputs that could not be read were
/// named on stderr).
#[cfg(feature = "sql")]
pub(crate) struct Explained {
    /// `(status, records)` for every status, in report order.
    pub statuses: Vec<(Status, u64)>,
    /// Inputs that could not be read (a missing file, a truncated `.gz`), as named on stderr.
    pub read_errors: Vec<String>,
}

/// Explains every record of `inputs` as `explain --output jsonl` does with every status
/// printed (malformed lines too, as records), writing the JSON lines (with the `parts` asked
/// for) to `out`: `vpcreach sql` reads its `explained` table from them, so that it says what
/// `explain` says.
#[cfg(feature = "sql")]
pub(crate) fn explain_jsonl(
    args: &ExplainArgs,
    inputs: &super::source::FlowInputs,
    parts: JsonParts,
    out: Box<dyn Write + '_>,
) -> anyhow::Result<Explained> {
    let mut opts = parse_options(args)?;
    opts.parts = parts;
    opts.only = Status::ALL.into_iter().collect();
    opts.output = ExplainOutput::Jsonl;
    opts.color = false;
    opts.strict = false;
    let model = build_model(args)?;
    let mut sink = Sink::to(ExplainOutput::Jsonl, out);
    let mut outcome = explain_inputs(&model, inputs, &opts, &mut sink)?;
    let read_errors = outcome.errors.clone();
    check_files(&mut outcome);
    if let Some(e) = outcome.write_error.take() {
        return Err(e).context("cannot read the explanations");
    }
    sink.out.flush().context("cannot read the explanations")?;
    Ok(Explained {
        statuses: Status::ALL
            .into_iter()
            .map(|s| (s, outcome.tally.count(s)))
            .collect(),
        read_errors,
    })
}
