//! `vpcreach parse`: read flow-log records and print them as JSON Lines.

use anyhow::Context;
use serde::ser::{SerializeMap, Serializer};
use std::io::{self, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use vpcreach::flow_log::{
    parse_parallel, suggest_field, ChunkReader, Counts, Entry, FlowRecord, Format, LogStatus,
    ParsedChunk,
};

/// Arguments of `vpcreach parse`.
#[derive(Debug, clap::Args)]
pub struct ParseArgs {
    /// Flow-log files or folders (every `.log`, `.gz`, `.txt`, `.json` below them), `-` for
    /// standard input; gzip is read as such.
    #[arg(required = true, value_name = "FILES")]
    files: Vec<PathBuf>,

    /// Format of records in files without a header line: AWS's format string
    /// (`${version} ${account-id} …`) or field names separated by spaces [default: the
    /// version 2 format]
    #[arg(long, value_name = "FORMAT")]
    format: Option<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Jsonl)]
    output: Output,

    /// Treat the first malformed record as an error (exit code 2).
    #[arg(long)]
    strict: bool,

    /// Parser threads, 1 to 256 [default: one per core].
    #[arg(long, short = 'j', value_name = "N", value_parser = super::threads_arg)]
    threads: Option<usize>,
}

/// Output formats of `vpcreach parse`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Output {
    /// One JSON object per record.
    Jsonl,
}

/// Runs `vpcreach parse`.
///
/// Every valid record is printed, NODATA and SKIPDATA ones included (with their `log_status`:
/// SKIPDATA means records were lost in that window), and counted apart. Malformed records are reported on stderr and skipped (with `--strict`, the first one
/// stops the run). Exit code 0, or 2 when an input could not be read or `--strict` failed.
pub fn run(args: ParseArgs) -> anyhow::Result<u8> {
    let Output::Jsonl = args.output;
    let format = match &args.format {
        Some(text) => {
            let format = Format::parse(text).context("invalid `--format`")?;
            for name in format.unknown_names() {
                match suggest_field(name) {
                    Some(known) => eprintln!(
                        "warning: `{name}` is not a flow-log field; its values are kept as text (did you mean `{known}`?)"
                    ),
                    None => eprintln!(
                        "warning: `{name}` is not a flow-log field; its values are kept as text"
                    ),
                }
            }
            Some(format)
        }
        None => None,
    };

    let reader = ChunkReader::new(args.files, format).with_threads(args.threads.unwrap_or(0));
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut state = State::default();
    let flow = parse_parallel(reader, args.threads.unwrap_or(0), |item| match item {
        Ok(parsed) => state.print(&parsed, &mut out, args.strict),
        Err(e) if e.is_warning() => {
            eprintln!(
                "warning: {}",
                vpcreach::render::sanitize_line(&e.to_string())
            );
            ControlFlow::Continue(())
        }
        Err(e) => {
            eprintln!("error: {}", vpcreach::render::sanitize_line(&e.to_string()));
            state.failed = true;
            ControlFlow::Continue(())
        }
    })?;
    if flow.is_continue() {
        if let Err(e) = out.flush() {
            state.write_failed(e);
        }
    }
    drop(out);
    if let Some(e) = state.write_error.take() {
        return Err(e).context("cannot write the output");
    }
    if state.broken_pipe {
        // The reader of the output went away (`| head`): stop without a word.
        return Ok(if state.failed { 2 } else { 0 });
    }

    let c = state.counts;
    eprintln!(
        "{} records read: {} parsed, {} skipped ({} NODATA, {} SKIPDATA), {} malformed; {} header {}",
        c.read,
        c.parsed,
        c.skipped(),
        c.nodata,
        c.skipdata,
        c.malformed,
        c.headers,
        if c.headers == 1 { "line" } else { "lines" },
    );
    Ok(if state.failed { 2 } else { 0 })
}

#[derive(Default)]
struct State {
    counts: Counts,
    failed: bool,
    write_error: Option<io::Error>,
    broken_pipe: bool,
}

impl State {
    /// Prints a chunk's records and reports its malformed lines, in line order.
    fn print(
        &mut self,
        parsed: &ParsedChunk,
        out: &mut impl Write,
        strict: bool,
    ) -> ControlFlow<()> {
        let file = parsed.file.to_string_lossy();
        for entry in parsed.in_line_order() {
            match entry {
                Entry::Record(record) => {
                    if let Err(e) = write_record(out, &file, parsed.rows, record) {
                        self.write_failed(e);
                        return ControlFlow::Break(());
                    }
                }
                Entry::Malformed(malformed) if strict => {
                    // Flush what came before, so the output stops where the error is.
                    if let Err(e) = out.flush() {
                        self.write_failed(e);
                    }
                    eprintln!(
                        "error: {}",
                        vpcreach::render::sanitize_line(&malformed.to_string())
                    );
                    self.counts += counts_up_to(parsed, malformed.line);
                    self.failed = true;
                    return ControlFlow::Break(());
                }
                Entry::Malformed(malformed) => eprintln!(
                    "{}",
                    vpcreach::render::sanitize_line(&malformed.to_string())
                ),
            }
        }
        self.counts += parsed.counts;
        ControlFlow::Continue(())
    }

    /// A broken pipe (`| head`) ends the output quietly; other write errors are errors.
    fn write_failed(&mut self, e: io::Error) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            self.broken_pipe = true;
        } else {
            self.write_error = Some(e);
        }
    }
}

/// The counts of a chunk's lines up to and including `line`, for a run stopped there.
fn counts_up_to(parsed: &ParsedChunk, line: u64) -> Counts {
    let mut counts = Counts::default();
    for record in parsed.records.iter().take_while(|r| r.line < line) {
        counts.read += 1;
        match record.log_status {
            Some(LogStatus::NoData) => counts.nodata += 1,
            Some(LogStatus::SkipData) => counts.skipdata += 1,
            _ => counts.parsed += 1,
        }
    }
    let bad = parsed
        .malformed
        .iter()
        .take_while(|m| m.line <= line)
        .count() as u64;
    counts.read += bad;
    counts.malformed += bad;
    counts.headers = parsed.header_lines.iter().filter(|&&h| h < line).count() as u64;
    counts
}

/// Writes one record as a JSON object: `file`, `line` (`row` for a Parquet file; and `event` on a line of several
/// records), the fields of the record's own version under their AWS names with `-` → `_`
/// (`null` when `-`), any later field the record has, fields not known to vpcreach (`extra_`
/// before a name that is taken), and `community_id`. A v2 record is not padded with the 26
/// fields of versions 3 to 8.
fn write_record(
    out: &mut impl Write,
    file: &str,
    rows: bool,
    record: &FlowRecord,
) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::new(&mut *out);
    let written = (|| {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("file", file)?;
        // A Parquet file's records are numbered by row.
        map.serialize_entry(if rows { "row" } else { "line" }, &record.line)?;
        if let Some(event) = record.event {
            map.serialize_entry("event", &event)?;
        }
        let version = record.version.unwrap_or(2);
        for (field, value) in record.fields() {
            if field.version() <= version
                || !matches!(value, vpcreach::flow_log::FieldValue::Absent)
            {
                map.serialize_entry(field.json_name(), &value)?;
            }
        }
        // A field not known to vpcreach may be named as a key of vpcreach's own (`file`,
        // `line`, `event`, `community-id`): it gets an `extra_` prefix, so that no key is
        // written twice (a reader would keep one of them).
        let mut used: std::collections::HashSet<String> = std::collections::HashSet::new();
        if !record.extra.is_empty() {
            used.extend(["file", "line", "row", "event", "community_id"].map(String::from));
            used.extend(record.fields().map(|(f, _)| f.json_name().to_string()));
        }
        for (name, value) in &record.extra {
            let mut key = name.replace('-', "_");
            while used.contains(&key) {
                key = format!("extra_{key}");
            }
            map.serialize_entry(&key, &value.as_deref())?;
            used.insert(key);
        }
        map.serialize_entry("community_id", &record.community_id())?;
        map.end()
    })();
    written.map_err(io::Error::from)?;
    out.write_all(b"\n")
}
