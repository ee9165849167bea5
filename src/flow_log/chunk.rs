//! A chunk is a run of whole lines of one file, about a megabyte, the unit of parallel parsing:
//! it carries its file, its first line number and the format in effect where it starts, so it
//! can be parsed on any thread.

use super::format::Format;
use super::line::{
    count_piece_items, item_record, piece_items, read_line, record_from_json, Item, Line,
    LineParser, Malformed, Problem,
};
use super::record::{FlowRecord, LogStatus};
use std::ops::AddAssign;
use std::path::Path;
use std::sync::Arc;

/// Whole lines of one input, ready to parse.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// The file the lines come from (`<stdin>` for standard input).
    pub file: Arc<Path>,
    /// The 1-based line number of the first line.
    pub first_line: u64,
    /// The format in effect at the first line (a header inside the chunk changes it).
    pub format: Format,
    /// The lines, each ending with `\n` except maybe the last of a file, or the last when it
    /// is cut (see [`Piece`]).
    pub data: Vec<u8>,
    /// Set for rows of a Parquet file, held column by column instead of as text (`data` is then
    /// empty): [`Chunk::text`] gives their lines.
    pub rows: Option<Arc<super::parquet::Rows>>,
    /// Set when the first line is a piece of a long line of JSON values (Firehose writes
    /// CloudWatch Logs envelopes back to back, megabytes on one line) that the reader cut
    /// between values, to keep chunks small.
    pub piece: Option<Piece>,
    /// Whole lines of the same file just before this chunk (the end of the previous chunk),
    /// not part of it: [`ChunkReader`](super::ChunkReader) sets them so that explaining can
    /// pair a record near the chunk's start with the record of the same flow in the other
    /// direction on the other side of the edge. Nothing reads them as the chunk's lines.
    pub before: Option<Box<Chunk>>,
    /// Whole lines of the same file just after this chunk (the start of the next chunk), as
    /// [`Chunk::before`].
    pub after: Option<Box<Chunk>>,
    /// Set when the chunk stands for one line (or one JSON value of a line) longer than the
    /// reader's bound (this many bytes, [`MAX_LINE_BYTES`](super::MAX_LINE_BYTES) unless set),
    /// at [`Chunk::first_line`]: the reader skipped it to the next line end without keeping
    /// it, and `data` is empty. It reads as one malformed line.
    pub too_long: Option<usize>,
}

/// Where a piece of a long line of JSON values is in its line: its log events are numbered
/// after the line's events before it, and JSON errors are placed by their column in the line.
/// A piece reads as the same records and malformed events as the whole line would from there
/// on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Piece {
    /// Log events of the line before this piece.
    pub events_before: usize,
    /// Bytes of the line before this piece.
    pub offset: usize,
    /// What the piece holds.
    pub kind: PieceKind,
}

/// What a [`Piece`] holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PieceKind {
    /// Whole JSON values (envelopes, objects), and from the last the rest of the line.
    #[default]
    Values,
    /// Whole log events of one CloudWatch Logs data message too long to be read whole
    /// ([`MAX_LINE_BYTES`](super::MAX_LINE_BYTES)), with the `,` between them: each a record
    /// (or a malformed event). Nothing else of its line.
    Events,
    /// Nothing (`data` is empty): one malformed log event of such an envelope, which the
    /// reader passed by without keeping it.
    Dropped(Dropped),
}

/// What the reader passed by in a CloudWatch Logs envelope too long to be read whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// A log event longer than the bound (given).
    EventTooLong(usize),
    /// The whole envelope: its `messageType` does not come before its `logEvents` (the bound
    /// is given).
    MessageTypeAfterEvents(usize),
    /// The rest of the line after something that is neither a log event nor the `,` or `]`
    /// after one.
    BrokenEvents,
    /// The rest of the envelope: its line (or the input) ends inside it.
    CutShort,
    /// The rest of the line: the envelope's keys after its log events are longer than the
    /// bound (given).
    TailTooLong(usize),
}

impl Dropped {
    /// What is wrong, as a malformed event says it.
    pub fn problem(self) -> Problem {
        match self {
            Dropped::EventTooLong(max) => Problem::EventTooLong { max },
            Dropped::MessageTypeAfterEvents(max) => Problem::MessageTypeAfterEvents { max },
            Dropped::BrokenEvents => Problem::BrokenEvents,
            Dropped::CutShort => Problem::EnvelopeCutShort,
            Dropped::TailTooLong(max) => Problem::TooLong { max },
        }
    }
}

impl Piece {
    /// How many log events a piece of whole JSON values holds: its records and malformed
    /// events.
    pub(crate) fn events_in(raw: &[u8]) -> usize {
        count_piece_items(raw)
    }

    /// The items of the piece's first line `raw`: the same as the whole line would give there.
    pub(crate) fn items(&self, raw: &[u8]) -> Vec<Item> {
        match self.kind {
            PieceKind::Values => piece_items(raw, self.offset),
            PieceKind::Events => super::envelope::event_items(raw, self.offset),
            PieceKind::Dropped(d) => vec![Item::Bad(d.problem())],
        }
    }
}

impl Chunk {
    /// A chunk that starts a file at line 1.
    ///
    /// ```
    /// use vpcreach::flow_log::{parse_chunk, Chunk, Format};
    /// let text = "version srcaddr dstaddr\n3 10.0.0.1 10.0.0.2\n";
    /// let parsed = parse_chunk(&Chunk::new("a.log", text.into(), Format::default()));
    /// assert_eq!(parsed.records[0].line, 2);
    /// assert_eq!(parsed.counts.headers, 1);
    /// ```
    pub fn new(file: impl AsRef<Path>, data: Vec<u8>, format: Format) -> Chunk {
        Chunk {
            file: Arc::from(file.as_ref()),
            first_line: 1,
            format,
            data,
            rows: None,
            piece: None,
            before: None,
            after: None,
            too_long: None,
        }
    }

    /// The chunk's lines: [`Chunk::data`], or for rows of a Parquet file ([`Chunk::rows`])
    /// one line per row, as a text flow log of the same records holds them.
    pub fn text(&self) -> &[u8] {
        match &self.rows {
            Some(rows) => rows.text(),
            None => &self.data,
        }
    }
}

/// How many lines of each kind were read. Every record line is exactly one of parsed, NODATA,
/// SKIPDATA or malformed: `read == parsed + nodata + skipdata + malformed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Record lines (not headers, blank lines or comments).
    pub read: u64,
    /// Records with flow data (`log-status` `OK` or not in the format).
    pub parsed: u64,
    /// `NODATA` records: no traffic in the interval.
    pub nodata: u64,
    /// `SKIPDATA` records: flows were dropped, the record set is incomplete.
    pub skipdata: u64,
    /// Lines that are not valid records.
    pub malformed: u64,
    /// Header lines (not records).
    pub headers: u64,
}

impl Counts {
    /// Records without flow data: NODATA plus SKIPDATA.
    pub fn skipped(&self) -> u64 {
        self.nodata + self.skipdata
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.read += other.read;
        self.parsed += other.parsed;
        self.nodata += other.nodata;
        self.skipdata += other.skipdata;
        self.malformed += other.malformed;
        self.headers += other.headers;
    }
}

/// The records and malformed lines of one chunk, each in line order.
#[derive(Debug, Clone)]
pub struct ParsedChunk {
    /// The file of the chunk.
    pub file: Arc<Path>,
    /// Valid records, NODATA and SKIPDATA ones included.
    pub records: Vec<FlowRecord>,
    /// Lines that are not valid records.
    pub malformed: Vec<Malformed>,
    /// What the chunk held.
    pub counts: Counts,
    /// The line numbers of its valid header lines, in order.
    pub header_lines: Vec<u64>,
    /// Set when the chunk comes from a Parquet file: its records' `line` is their row number.
    pub rows: bool,
}

/// A record or a malformed line, as [`ParsedChunk::in_line_order`] yields them.
#[derive(Debug, Clone, Copy)]
pub enum Entry<'a> {
    /// A valid record.
    Record(&'a FlowRecord),
    /// A line that is not a valid record.
    Malformed(&'a Malformed),
}

impl ParsedChunk {
    /// Records and malformed lines merged back into line order (and log-event order on a line
    /// of several records).
    pub fn in_line_order(&self) -> impl Iterator<Item = Entry<'_>> + '_ {
        let mut records = self.records.iter().peekable();
        let mut malformed = self.malformed.iter().peekable();
        std::iter::from_fn(move || match (records.peek(), malformed.peek()) {
            (Some(r), Some(m)) if m.place() < r.place() => malformed.next().map(Entry::Malformed),
            (Some(_), _) => records.next().map(Entry::Record),
            (None, _) => malformed.next().map(Entry::Malformed),
        })
    }
}

/// Parses every line of a chunk. Header lines switch the format for the lines after them;
/// blank lines and `#` comment lines are skipped; a bad line becomes a [`Malformed`] entry
/// and parsing goes on.
pub fn parse_chunk(chunk: &Chunk) -> ParsedChunk {
    let line_count = memchr::memchr_iter(b'\n', chunk.text()).count() + 1;
    let mut out = ParsedChunk {
        file: Arc::clone(&chunk.file),
        records: Vec::with_capacity(line_count),
        malformed: Vec::new(),
        counts: Counts::default(),
        header_lines: Vec::new(),
        rows: chunk.format.origin() == super::FormatOrigin::ParquetColumns,
    };
    if let Some(bad) = too_long(chunk) {
        out.counts.read = 1;
        out.counts.malformed = 1;
        out.malformed.push(bad);
        return out;
    }
    let mut format = chunk.format.clone();
    let mut parser = LineParser::default();
    for (i, raw) in lines(chunk.text()).enumerate() {
        let line = chunk.first_line + i as u64;
        let mut events_before = 0;
        let read = match chunk.piece.filter(|_| i == 0) {
            Some(piece) => {
                events_before = piece.events_before;
                match piece.items(raw) {
                    items if items.is_empty() => Line::Nothing,
                    items => Line::Events(items),
                }
            }
            None => read_line(raw, line),
        };
        let result = match read {
            Line::Nothing => continue,
            Line::Header(Ok(header)) => {
                format = header;
                out.counts.headers += 1;
                out.header_lines.push(line);
                continue;
            }
            Line::Header(Err(e)) => {
                format = Format::after_invalid_header(line);
                Err((None, Problem::Header(e)))
            }
            Line::Events(items) => {
                for (k, item) in items.into_iter().enumerate() {
                    let k = events_before + k;
                    out.counts.read += 1;
                    match item_record(&mut parser, item, &format, line, k + 1) {
                        Ok(record) => {
                            count_record(&mut out.counts, &record);
                            out.records.push(record);
                        }
                        Err(problem) => {
                            out.counts.malformed += 1;
                            out.malformed.push(Malformed {
                                file: Arc::clone(&chunk.file),
                                line,
                                column: None,
                                problem: Problem::Event {
                                    index: k + 1,
                                    problem: Box::new(problem),
                                },
                            });
                        }
                    }
                }
                continue;
            }
            Line::Text(text) => parser.parse_text(text, &format, line),
            Line::Message(text) => parser
                .parse_text(&text, &format, line)
                .map_err(|(_, problem)| (None, problem)),
            Line::Fields(fields) => record_from_json(&fields, line).map_err(|p| (None, p)),
            Line::Bad(problem) => Err((None, problem)),
        };
        out.counts.read += 1;
        match result {
            Ok(record) => {
                count_record(&mut out.counts, &record);
                out.records.push(record);
            }
            Err((column, problem)) => {
                out.counts.malformed += 1;
                out.malformed.push(Malformed {
                    file: Arc::clone(&chunk.file),
                    line,
                    column,
                    problem,
                });
            }
        }
    }
    out
}

/// The malformed line (or log event) a chunk of nothing stands for: a [`Chunk::too_long`]
/// one, or a [`PieceKind::Dropped`] piece.
pub(crate) fn too_long(chunk: &Chunk) -> Option<Malformed> {
    let problem = match (chunk.too_long, chunk.piece) {
        (Some(max), _) => Problem::TooLong { max },
        (
            None,
            Some(Piece {
                kind: PieceKind::Dropped(d),
                events_before,
                ..
            }),
        ) => Problem::Event {
            index: events_before + 1,
            problem: Box::new(d.problem()),
        },
        _ => return None,
    };
    Some(Malformed {
        file: Arc::clone(&chunk.file),
        line: chunk.first_line,
        column: None,
        problem,
    })
}

fn count_record(counts: &mut Counts, record: &FlowRecord) {
    match record.log_status {
        Some(LogStatus::NoData) => counts.nodata += 1,
        Some(LogStatus::SkipData) => counts.skipdata += 1,
        _ => counts.parsed += 1,
    }
}

/// The lines of `data` without their `\n`; a final `\n` does not start another line.
pub(crate) fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    let mut start = 0;
    let mut ends = memchr::memchr_iter(b'\n', data);
    std::iter::from_fn(move || {
        if let Some(end) = ends.next() {
            let line = &data[start..end];
            start = end + 1;
            Some(line)
        } else if start < data.len() {
            let line = &data[start..];
            start = data.len();
            Some(line)
        } else {
            None
        }
    })
}
