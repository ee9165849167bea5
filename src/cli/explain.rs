//! `vpcreach explain`: for each flow-log record, what the configuration does at its ENI, which
//! rule decided, and whether the observed action agrees.

use anyhow::Context;
use std::collections::BTreeSet;
use std::io::{self, IsTerminal, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use vpcreach::explain::{Explainer, MemoPool, Status, Tally};
use vpcreach::flow_log::{run_ordered, ChunkReader, Counts};
use vpcreach::render::explain::RenderCache;
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
}

struct ChunkOut {
    /// The chunk's printed records: lines each ending in `\n` (human, jsonl), or JSON objects
    /// separated by `,\n  ` (json).
    text: Vec<u8>,
    warnings: Vec<String>,
    tally: Tally,
    counts: Counts,
}

/// Runs `vpcreach explain`: exit 0 when nothing contradicts, 1 when a record contradicts the
/// configuration, 2 on errors.
pub fn run(args: ExplainArgs) -> anyhow::Result<u8> {
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
    let snap = args.source.load()?;
    let mut net = Network::build(&snap);
    if let Some(t) = args.snapshot_time {
        net.snapshot_time = Some(t.start);
    }
    super::report_model(&snap, &net);
    // The model holds what explaining needs: the parsed snapshot's memory is given back now.
    drop(snap);
    let explainer = Explainer::new(&net);
    let output = args.output;
    let color = output == ExplainOutput::Human
        && io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();

    let inputs = super::source::flow_inputs_with(&args.flows, &args.window, &args.source.aws)?;
    let reader = ChunkReader::new(inputs.paths.clone(), format);
    let memos = MemoPool::default();
    // Output buffers, given back once written: large ones, so not allocated anew per chunk.
    let buffers: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
    // Rendered rule pieces, one cache per worker thread (taken and given back per chunk).
    let renders: std::sync::Mutex<Vec<RenderCache<'_>>> = std::sync::Mutex::new(Vec::new());
    let work = |item: Result<vpcreach::flow_log::Chunk, vpcreach::flow_log::ReadError>| {
        item.map(|chunk| {
            // Fetched inputs are named as the user gave them (`s3://…`), not by their scratch path.
            let remote = inputs.remote_name(&chunk.file).map(|name| {
                let label: std::sync::Arc<std::path::Path> = std::path::Path::new(name).into();
                (label, chunk.file.display().to_string(), name)
            });
            let mut text: Vec<u8> = buffers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_default();
            let mut warnings = Vec::new();
            let want = |s: Status| s == Status::Malformed || only.is_empty() || only.contains(&s);
            let mut render = renders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .unwrap_or_else(|| RenderCache::new(&net));
            let (tally, counts) = memos.with(|memo| {
                explainer.explain_chunk_counted(&chunk, memo, want, |mut e| {
                    if let Some((label, scratch, name)) = &remote {
                        e.file = label.clone();
                        if let Some(p) = &mut e.problem {
                            *p = p.replace(scratch.as_str(), name);
                        }
                    }
                    if e.status == Status::Malformed {
                        warnings.push(e.problem.clone().unwrap_or_default());
                    }
                    if only.is_empty() || only.contains(&e.status) {
                        match output {
                            ExplainOutput::Human => {
                                let line =
                                    vpcreach::render::explain::line_cached(&e, &mut render, color);
                                text.extend_from_slice(line.as_bytes());
                                text.push(b'\n');
                            }
                            ExplainOutput::Jsonl => {
                                e.write_json_line(&mut render, &mut text);
                                text.push(b'\n');
                            }
                            ExplainOutput::Json => {
                                if !text.is_empty() {
                                    text.extend_from_slice(b",\n  ");
                                }
                                e.write_json_line(&mut render, &mut text);
                            }
                        }
                    }
                })
            });
            renders
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(render);
            ChunkOut {
                text,
                warnings,
                tally,
                counts,
            }
        })
    };

    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut tally = Tally::default();
    let mut counts = Counts::default();
    let mut failed = false;
    let mut strict_error: Option<String> = None;
    let mut write_error: Option<io::Error> = None;
    let mut first = true;
    if output == ExplainOutput::Json {
        if let Err(e) = out.write_all(b"{\"records\": [\n") {
            write_error = Some(e);
        }
    }
    let flow = run_ordered(reader, args.threads.unwrap_or(0), work, |item| {
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
                failed = true;
                return ControlFlow::Continue(());
            }
        };
        for w in &chunk.warnings {
            if args.strict {
                strict_error = Some(w.clone());
                return ControlFlow::Break(());
            }
            eprintln!("warning: {}", vpcreach::render::sanitize_line(w));
        }
        counts += chunk.counts;
        tally.merge(chunk.tally);
        // The whole chunk at once: larger than the writer's buffer, it is not copied into it.
        let res = if chunk.text.is_empty() {
            Ok(())
        } else if output == ExplainOutput::Json {
            let sep: &[u8] = if first { b"  " } else { b",\n  " };
            first = false;
            out.write_all(sep).and_then(|()| out.write_all(&chunk.text))
        } else {
            out.write_all(&chunk.text)
        };
        let mut text = chunk.text;
        text.clear();
        buffers.lock().unwrap_or_else(|e| e.into_inner()).push(text);
        if let Err(e) = res {
            write_error = Some(e);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    let _ = flow;
    if let Some(w) = strict_error {
        if output == ExplainOutput::Json && write_error.is_none() {
            // The document stays valid JSON: the records so far, and why it stopped.
            let error = serde_json::to_string(&format!("{w} (--strict)"))?;
            let _ = writeln!(out, "\n],\n\"error\": {error}}}").and_then(|()| out.flush());
        }
        anyhow::bail!("{w} (--strict)");
    }
    if let Some(e) = write_error {
        if e.kind() == io::ErrorKind::BrokenPipe {
            // The reader went away (`| head`): the exit code still says what was seen.
            let seen = tally.count(Status::Contradiction) > 0;
            return Ok(if failed {
                2
            } else if seen {
                1
            } else {
                0
            });
        }
        return Err(e).context("cannot write the output");
    }
    // The JSON summary only where it is printed: with every rule hit, building it costs as
    // much as the human one.
    let res = if output == ExplainOutput::Json {
        let summary =
            vpcreach::render::explain::summary_json(&tally, &counts, &net, args.rule_usage);
        writeln!(
            out,
            "\n],\n\"summary\": {}}}",
            serde_json::to_string_pretty(&summary)?
        )
    } else {
        Ok(())
    };
    if let Err(e) = res.and_then(|()| out.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            return Err(e).context("cannot write the output");
        }
    }
    drop(out);
    if output != ExplainOutput::Json {
        eprint!(
            "{}",
            vpcreach::render::explain::summary_human(&tally, &counts, &net, args.rule_usage)
        );
    }
    // Totals add up: records read = explained + skipped + malformed.
    debug_assert_eq!(tally.total(), counts.read);
    let contradictions = tally.count(Status::Contradiction);
    Ok(if failed {
        2
    } else if contradictions > 0 {
        1
    } else {
        0
    })
}
