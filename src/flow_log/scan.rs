//! A fast pass over a chunk for the fields that explaining a record reads, without building a
//! [`FlowRecord`] for each line.
//!
//! Plain record lines (ASCII, fields separated by spaces, no comment) are read straight into a
//! [`Lite`]; every other line (a header, JSON, a comment, tabs, non-ASCII text, a value that does
//! not parse) goes through the full parser of [`parse_chunk`](super::parse_chunk), so the
//! answer, the counts and every error message are the same as the full parser's. A test checks
//! the two against each other on generated lines.

use super::chunk::{Chunk, Counts};
use super::field::{is_aws_field_name, Field};
use super::format::{Format, Slot};
use super::line::{item_record, read_line, record_from_json, Line, LineParser, Malformed, Problem};
use super::parquet::{ColumnRef, Rows, NULL_KEY};
use super::record::{Action, FlowDirection, FlowRecord, LogStatus};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// The fields of one record that explaining reads, borrowed from its line (or its parsed
/// record). Absent fields and `-` are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lite<'a> {
    /// 1-based line number.
    pub line: u64,
    /// `interface-id`, as the line holds it (printable ASCII).
    pub interface_id: Option<&'a [u8]>,
    /// `srcaddr`.
    pub srcaddr: Option<IpAddr>,
    /// `dstaddr`.
    pub dstaddr: Option<IpAddr>,
    /// `srcport`.
    pub srcport: Option<u16>,
    /// `dstport`.
    pub dstport: Option<u16>,
    /// `protocol`.
    pub protocol: Option<u8>,
    /// `action`.
    pub action: Option<Action>,
    /// `log-status`.
    pub log_status: Option<LogStatus>,
    /// `start`.
    pub start: Option<u64>,
    /// `end`.
    pub end: Option<u64>,
    /// `tcp-flags`.
    pub tcp_flags: Option<u16>,
    /// `flow-direction`.
    pub flow_direction: Option<FlowDirection>,
    /// `pkt-srcaddr`.
    pub pkt_srcaddr: Option<IpAddr>,
    /// `pkt-dstaddr`.
    pub pkt_dstaddr: Option<IpAddr>,
    /// `reject-reason` (v8), as the line holds it (`BPA`).
    pub reject_reason: Option<&'a [u8]>,
}

impl<'a> Lite<'a> {
    /// The fields of a parsed record.
    pub fn of(r: &'a FlowRecord) -> Lite<'a> {
        Lite {
            line: r.line,
            interface_id: r.interface_id.as_deref().map(str::as_bytes),
            srcaddr: r.srcaddr,
            dstaddr: r.dstaddr,
            srcport: r.srcport,
            dstport: r.dstport,
            protocol: r.protocol,
            action: r.action,
            log_status: r.log_status,
            start: r.start,
            end: r.end,
            tcp_flags: r.tcp_flags,
            flow_direction: r.flow_direction,
            pkt_srcaddr: r.pkt_srcaddr,
            pkt_dstaddr: r.pkt_dstaddr,
            reject_reason: r.reject_reason.as_deref().map(str::as_bytes),
        }
    }

    /// False for NODATA and SKIPDATA records.
    pub fn has_flow_data(&self) -> bool {
        !matches!(
            self.log_status,
            Some(LogStatus::NoData) | Some(LogStatus::SkipData)
        )
    }
}

/// Where a record line is in its chunk, to read it in full later ([`Scanner::full`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAt {
    start: usize,
    end: usize,
    /// 1-based line number.
    pub line: u64,
    format: usize,
    /// For a record of a line of several (log events), where [`Scanner::scan`] kept it.
    kept: Option<usize>,
}

/// One record line of a chunk, as [`Scanner::scan`] hands it out.
#[derive(Debug)]
pub enum Scanned<'a> {
    /// A valid record (NODATA and SKIPDATA included).
    Record(Lite<'a>),
    /// A line that is not a valid record.
    Malformed(Malformed),
}

/// How a column is read in the fast pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Any text (a field explaining does not read, or an unknown field).
    Text,
    /// A number (`packets`, `bytes`) that explaining does not read.
    Number,
    /// `traffic-path`, `version`: a number up to 255.
    Small,
    Field(Field),
}

/// Reads the record lines of one chunk, fast where it can.
pub struct Scanner<'c> {
    chunk: &'c Chunk,
    /// The formats in effect in the chunk, in order: the chunk's own, then one per header.
    formats: Vec<Format>,
    plans: Vec<Vec<Kind>>,
    parser: LineParser,
    /// The records of lines of several records (log events), for [`Scanner::full`].
    kept: Vec<FlowRecord>,
    /// Set when the chunk's Parquet rows are read from their columns, not from their text.
    rows: Option<&'c Rows>,
    /// A row's line of text, for the full parser.
    line: Vec<u8>,
}

fn plan(format: &Format) -> Vec<Kind> {
    format
        .slots()
        .iter()
        .map(|slot| match slot {
            Slot::Unknown(_) => Kind::Text,
            Slot::Known(f) => match f {
                Field::InterfaceId
                | Field::Srcaddr
                | Field::Dstaddr
                | Field::Srcport
                | Field::Dstport
                | Field::Protocol
                | Field::Start
                | Field::End
                | Field::Action
                | Field::LogStatus
                | Field::TcpFlags
                | Field::FlowDirection
                | Field::PktSrcaddr
                | Field::PktDstaddr
                | Field::RejectReason => Kind::Field(*f),
                Field::Packets | Field::Bytes => Kind::Number,
                Field::Version | Field::TrafficPath => Kind::Small,
                _ => Kind::Text,
            },
        })
        .collect()
}

impl<'c> Scanner<'c> {
    /// A scanner over `chunk`.
    pub fn new(chunk: &'c Chunk) -> Scanner<'c> {
        Scanner {
            chunk,
            plans: vec![plan(&chunk.format)],
            formats: vec![chunk.format.clone()],
            parser: LineParser::default(),
            kept: Vec::new(),
            rows: chunk
                .rows
                .as_deref()
                .filter(|rows| !rows.may_hold_other_lines()),
            line: Vec::new(),
        }
    }

    /// Hands every record line and malformed line to `each` in line order, with where it is;
    /// returns the counts, equal to [`parse_chunk`](super::parse_chunk)'s for the chunk.
    pub fn scan(&mut self, mut each: impl FnMut(Scanned<'_>, LineAt)) -> Counts {
        let mut counts = Counts::default();
        let chunk: &'c Chunk = self.chunk;
        if let Some(bad) = super::chunk::too_long(chunk) {
            counts.read = 1;
            counts.malformed = 1;
            let at = LineAt {
                start: 0,
                end: 0,
                line: chunk.first_line,
                format: 0,
                kept: None,
            };
            each(Scanned::Malformed(bad), at);
            return counts;
        }
        if let Some(rows) = self.rows {
            return self.scan_rows(rows, each);
        }
        let data = chunk.text();
        let mut start = 0;
        let mut line = self.chunk.first_line;
        while start < data.len() {
            let format = self.formats.len() - 1;
            // The first line of a piece is read as such (it may not look like JSON at all).
            let piece = chunk.piece.filter(|_| start == 0);
            let fast = match piece {
                None => fast(data, start, &self.plans[format], line),
                Some(_) => None,
            };
            let end = match &fast {
                Some((_, end)) => *end,
                None => memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i),
            };
            let at = LineAt {
                start,
                end,
                line,
                format,
                kept: None,
            };
            let raw = &data[start..end];
            start = end + 1;
            line += 1;
            if let Some((lite, _)) = fast {
                counts.read += 1;
                count_status(&mut counts, lite.log_status);
                each(Scanned::Record(lite), at);
                continue;
            }
            let format = &self.formats[at.format];
            let (read, events_before) = match piece {
                Some(piece) => match piece.items(raw) {
                    items if items.is_empty() => (Line::Nothing, 0),
                    items => (Line::Events(items), piece.events_before),
                },
                None => (read_line(raw, at.line), 0),
            };
            match read {
                Line::Nothing => {}
                Line::Header(Ok(header)) => {
                    counts.headers += 1;
                    self.plans.push(plan(&header));
                    self.formats.push(header);
                }
                Line::Header(Err(e)) => {
                    // Malformed, and so is every record until the next valid header.
                    counts.read += 1;
                    counts.malformed += 1;
                    let bad = Malformed {
                        file: Arc::clone(&self.chunk.file),
                        line: at.line,
                        column: None,
                        problem: Problem::Header(e),
                    };
                    each(Scanned::Malformed(bad), at);
                    let broken = Format::after_invalid_header(at.line);
                    self.plans.push(plan(&broken));
                    self.formats.push(broken);
                }
                Line::Events(items) => {
                    // As the full parser orders them: the line's records, then its bad events.
                    // In event order. Each record is kept for `full`: reading the line again for
                    // each would take time in the square of the line's length.
                    for (k, item) in items.into_iter().enumerate() {
                        let k = events_before + k;
                        counts.read += 1;
                        match item_record(&mut self.parser, item, format, at.line, k + 1) {
                            Ok(record) => keep(&mut self.kept, record, at, &mut counts, &mut each),
                            Err(problem) => {
                                counts.malformed += 1;
                                let bad = event_error(&self.chunk.file, at.line, k, problem);
                                each(Scanned::Malformed(bad), at);
                            }
                        }
                    }
                }
                other => {
                    counts.read += 1;
                    match full_line(&mut self.parser, other, format, &self.chunk.file, at.line) {
                        Ok(record) => {
                            count_status(&mut counts, record.log_status);
                            each(Scanned::Record(Lite::of(&record)), at);
                        }
                        Err(bad) => {
                            counts.malformed += 1;
                            each(Scanned::Malformed(bad), at);
                        }
                    }
                }
            }
        }
        counts
    }

    /// [`Scanner::scan`] over Parquet rows held as columns (none of them a header, a comment
    /// or JSON: [`Rows::may_hold_other_lines`]): each row read by [`fast_rows`] where it can,
    /// else its line of text by the full parser, as [`Scanner::scan`] reads the text.
    fn scan_rows(&mut self, rows: &'c Rows, mut each: impl FnMut(Scanned<'_>, LineAt)) -> Counts {
        let mut counts = Counts::default();
        let first_line = self.chunk.first_line;
        let mut lites = Vec::with_capacity(rows.len());
        fast_rows(rows, &self.plans[0], first_line, &mut lites);
        for (row, lite) in lites.into_iter().enumerate() {
            let line = first_line + row as u64;
            let at = LineAt {
                start: row,
                end: row,
                line,
                format: 0,
                kept: None,
            };
            counts.read += 1;
            if let Some(lite) = lite {
                count_status(&mut counts, lite.log_status);
                each(Scanned::Record(lite), at);
                continue;
            }
            self.line.clear();
            rows.write_row(row, &mut self.line);
            let read = read_line(&self.line, line);
            match full_line(
                &mut self.parser,
                read,
                &self.formats[0],
                &self.chunk.file,
                line,
            ) {
                Ok(record) => keep(&mut self.kept, record, at, &mut counts, &mut each),
                Err(bad) => {
                    counts.malformed += 1;
                    each(Scanned::Malformed(bad), at);
                }
            }
        }
        counts
    }

    /// The full record on a line that [`Scanner::scan`] handed out as a record.
    pub fn full(&mut self, at: LineAt) -> Result<FlowRecord, Malformed> {
        if let Some(record) = at.kept.and_then(|k| self.kept.get(k)) {
            return Ok(record.clone());
        }
        if let Some(rows) = self.rows {
            self.line.clear();
            rows.write_row(at.start, &mut self.line);
            let line = read_line(&self.line, at.line);
            return full_line(
                &mut self.parser,
                line,
                &self.formats[0],
                &self.chunk.file,
                at.line,
            );
        }
        let raw = &self.chunk.text()[at.start..at.end];
        let line = read_line(raw, at.line);
        full_line(
            &mut self.parser,
            line,
            &self.formats[at.format],
            &self.chunk.file,
            at.line,
        )
    }
}

/// Hands out a record the full parser read, counted, and keeps it for [`Scanner::full`] (its
/// place in `kept` goes with it).
fn keep(
    kept: &mut Vec<FlowRecord>,
    record: FlowRecord,
    at: LineAt,
    counts: &mut Counts,
    each: &mut impl FnMut(Scanned<'_>, LineAt),
) {
    count_status(counts, record.log_status);
    let at = LineAt {
        kept: Some(kept.len()),
        ..at
    };
    each(Scanned::Record(Lite::of(&record)), at);
    kept.push(record);
}

fn event_error(file: &Arc<std::path::Path>, line: u64, k: usize, problem: Problem) -> Malformed {
    Malformed {
        file: Arc::clone(file),
        line,
        column: None,
        problem: Problem::Event {
            index: k + 1,
            problem: Box::new(problem),
        },
    }
}

fn count_status(counts: &mut Counts, status: Option<LogStatus>) {
    match status {
        Some(LogStatus::NoData) => counts.nodata += 1,
        Some(LogStatus::SkipData) => counts.skipdata += 1,
        _ => counts.parsed += 1,
    }
}

/// What [`parse_chunk`](super::parse_chunk) makes of a line that is not blank, a comment or a
/// valid header.
fn full_line(
    parser: &mut LineParser,
    line: Line<'_>,
    format: &Format,
    file: &Arc<std::path::Path>,
    number: u64,
) -> Result<FlowRecord, Malformed> {
    let result = match line {
        Line::Nothing => Err((None, Problem::JsonShape)),
        Line::Header(Ok(_)) => Err((None, Problem::JsonShape)),
        Line::Header(Err(e)) => Err((None, Problem::Header(e))),
        Line::Events(_) => Err((None, Problem::JsonShape)),
        Line::Text(text) => parser.parse_text(text, format, number),
        Line::Message(text) => parser
            .parse_text(&text, format, number)
            .map_err(|(_, problem)| (None, problem)),
        Line::Fields(fields) => record_from_json(&fields, number).map_err(|p| (None, p)),
        Line::Bad(problem) => Err((None, problem)),
    };
    result.map_err(|(column, problem)| Malformed {
        file: Arc::clone(file),
        line: number,
        column,
        problem,
    })
}

/// The record on the plain line that starts at `start` in `data`, and where the line ends (its
/// `\n`, or the end of `data`); `None` when the line needs the full parser (it may be blank, a
/// header, JSON, commented, not plain ASCII, or malformed, or hold a value the fast pass leaves
/// to the full parser, such as a 20-digit number or an IPv6 address).
///
/// One pass over the line: each field is read where it starts, numbers and addresses are
/// parsed as their bytes are walked, other words are checked and skipped eight bytes at a time.
/// What it accepts, the full parser reads the same (a test checks the two against each other).
fn fast<'a>(data: &'a [u8], start: usize, plan: &[Kind], line: u64) -> Option<(Lite<'a>, usize)> {
    let mut at = Cursor {
        raw: data,
        pos: start,
    };
    if !at.skip_spaces() {
        return None;
    }
    // A header starts with a field name; JSON with `{`: the full parser reads both.
    match data.get(at.pos) {
        Some(b'{') => return None,
        Some(b) if b.is_ascii_lowercase() => {
            let word = at.clone().text()?;
            if is_aws_field_name(std::str::from_utf8(word).ok()?) {
                return None;
            }
        }
        _ => {}
    }
    let mut lite = Lite {
        line,
        ..Lite::default()
    };
    for kind in plan {
        if !at.skip_spaces() {
            return None;
        }
        if at.dash() {
            continue;
        }
        read_field(&mut at, *kind, &mut lite)?;
    }
    // Only spaces may follow the last field, then the line's end.
    if at.skip_spaces() {
        return None;
    }
    // A record impossible as a whole: the full parser says why.
    if super::line::inconsistent(lite.start, lite.end).is_some() {
        return None;
    }
    let end = at.pos + usize::from(data.get(at.pos) == Some(&b'\r'));
    Some((lite, end))
}

/// Reads the word at `at` as a column of kind `kind` into `lite`; `None` when the full parser
/// must read the line.
#[inline(always)]
fn read_field<'a>(at: &mut Cursor<'a>, kind: Kind, lite: &mut Lite<'a>) -> Option<()> {
    match kind {
        Kind::Text => {
            at.text()?;
        }
        Kind::Number => {
            at.decimal()?;
        }
        Kind::Small => {
            u8::try_from(at.decimal()?).ok()?;
        }
        Kind::Field(f) => match f {
            Field::InterfaceId => lite.interface_id = Some(at.text()?),
            Field::Srcaddr => lite.srcaddr = Some(at.address()?),
            Field::Dstaddr => lite.dstaddr = Some(at.address()?),
            Field::Srcport => lite.srcport = Some(u16::try_from(at.decimal()?).ok()?),
            Field::Dstport => lite.dstport = Some(u16::try_from(at.decimal()?).ok()?),
            Field::Protocol => lite.protocol = Some(u8::try_from(at.decimal()?).ok()?),
            Field::Start => {
                lite.start = Some(at.decimal()?).filter(|&t| t <= super::line::MAX_TIME);
                lite.start?;
            }
            Field::End => {
                lite.end = Some(at.decimal()?).filter(|&t| t <= super::line::MAX_TIME);
                lite.end?;
            }
            Field::TcpFlags => lite.tcp_flags = Some(u16::try_from(at.decimal()?).ok()?),
            Field::Action => {
                lite.action = Some(match at.text()? {
                    b"ACCEPT" => Action::Accept,
                    b"REJECT" => Action::Reject,
                    _ => return None,
                })
            }
            Field::LogStatus => {
                lite.log_status = Some(match at.text()? {
                    b"OK" => LogStatus::Ok,
                    b"NODATA" => LogStatus::NoData,
                    b"SKIPDATA" => LogStatus::SkipData,
                    _ => return None,
                })
            }
            Field::FlowDirection => {
                lite.flow_direction = Some(match at.text()? {
                    b"ingress" => FlowDirection::Ingress,
                    b"egress" => FlowDirection::Egress,
                    _ => return None,
                })
            }
            Field::PktSrcaddr => lite.pkt_srcaddr = Some(at.address()?),
            Field::PktDstaddr => lite.pkt_dstaddr = Some(at.address()?),
            Field::RejectReason => lite.reject_reason = Some(at.text()?),
            _ => {
                at.text()?;
            }
        },
    }
    Some(())
}

/// [`fast`] for every row of Parquet rows held as columns, a column at a time: row `r`'s
/// record in `out[r]`, the same as [`fast`] reads from the row's line of text
/// ([`Rows::write_row`]), or `None` where [`fast`] would give `None` (or where a value is
/// easier left to the full parser: an integer where text is expected, a string with a byte the
/// text writes as `?`).
fn fast_rows<'a>(rows: &'a Rows, plan: &[Kind], first_line: u64, out: &mut Vec<Option<Lite<'a>>>) {
    out.clear();
    if plan.len() != rows.width() {
        out.resize(rows.len(), None);
        return;
    }
    out.extend((0..rows.len() as u64).map(|r| {
        Some(Lite {
            line: first_line + r,
            ..Lite::default()
        })
    }));
    for (column, &kind) in plan.iter().enumerate() {
        match rows.column(column) {
            Some(ColumnRef::Ints(values)) => int_column(values, kind, out),
            Some(ColumnRef::Bytes { data, ends }) => {
                let mut start = 0;
                for (slot, &end) in out.iter_mut().zip(ends) {
                    let value = data.get(start..end).unwrap_or_default();
                    start = end;
                    bytes_value(slot, value, kind);
                }
            }
            Some(ColumnRef::Dict {
                keys,
                data,
                ends,
                read,
            }) => {
                let entry = |key: u32| dictionary_entry(data, ends, key as usize);
                // Each entry read once for every batch of the column chunk.
                let read = read.get_or_init(|| DictRead::new(kind, data, ends));
                for (slot, &key) in out.iter_mut().zip(keys) {
                    if key == NULL_KEY || slot.is_none() {
                        continue;
                    }
                    let entry_read = if read.kind == kind {
                        read.entries.get(key as usize).copied()
                    } else {
                        Some(Entry::Reread)
                    };
                    if entry_read == Some(Entry::Reread) {
                        bytes_value(slot, entry(key), kind);
                        continue;
                    }
                    let Some(lite) = slot else { continue };
                    match entry_read {
                        Some(Entry::Skip) => {}
                        Some(Entry::Valid) => match kind {
                            Kind::Field(Field::InterfaceId) => lite.interface_id = Some(entry(key)),
                            Kind::Field(Field::RejectReason) => {
                                lite.reject_reason = Some(entry(key))
                            }
                            _ => {}
                        },
                        Some(Entry::Address(a)) => match kind {
                            Kind::Field(Field::Srcaddr) => lite.srcaddr = Some(a),
                            Kind::Field(Field::Dstaddr) => lite.dstaddr = Some(a),
                            Kind::Field(Field::PktSrcaddr) => lite.pkt_srcaddr = Some(a),
                            Kind::Field(Field::PktDstaddr) => lite.pkt_dstaddr = Some(a),
                            _ => {}
                        },
                        Some(Entry::Action(a)) => lite.action = Some(a),
                        Some(Entry::Status(v)) => lite.log_status = Some(v),
                        Some(Entry::Direction(d)) => lite.flow_direction = Some(d),
                        Some(Entry::Bad) | Some(Entry::Reread) | None => *slot = None,
                    }
                }
            }
            None => out.iter_mut().for_each(|slot| *slot = None),
        }
    }
    for slot in out.iter_mut() {
        if slot
            .as_ref()
            .is_some_and(|l| super::line::inconsistent(l.start, l.end).is_some())
        {
            *slot = None;
        }
    }
}

/// Reads one string value of a column of kind `kind` into the row's record `slot` (already
/// `None` when an earlier column sent the row to the full parser); `slot` becomes `None` when
/// the full parser must read the row.
#[inline(always)]
fn bytes_value<'a>(slot: &mut Option<Lite<'a>>, value: &'a [u8], kind: Kind) {
    let Some(lite) = slot else { return };
    // NULL (or empty) and `-`: the field does not apply.
    if value.is_empty() || value == b"-" {
        return;
    }
    let mut at = Cursor { raw: value, pos: 0 };
    // The whole value is one word (a blank or control byte in it is `?` in text).
    if read_field(&mut at, kind, lite).is_none() || at.pos != value.len() {
        *slot = None;
    }
}

/// Entry `k` of a dictionary whose entries are `data[ends[k-1]..ends[k]]`.
fn dictionary_entry<'a>(data: &'a [u8], ends: &[usize], k: usize) -> &'a [u8] {
    let start = if k == 0 {
        0
    } else {
        ends.get(k - 1).copied().unwrap_or(0)
    };
    let end = ends.get(k).copied().unwrap_or(start);
    data.get(start..end).unwrap_or_default()
}

/// What [`fast_rows`] made of each entry of a dictionary-encoded string column, for the kind of
/// field it reads the column as: made once per column chunk (its batches share the dictionary)
/// and kept with the dictionary ([`ColumnRef::Dict`]).
#[derive(Debug)]
pub(crate) struct DictRead {
    kind: Kind,
    entries: Vec<Entry>,
}

/// One dictionary entry as [`fast_rows`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Entry {
    /// Empty or `-`: the field does not apply.
    Skip,
    /// The row goes to the full parser.
    Bad,
    /// Read: the entry itself is the value where the field keeps its text.
    Valid,
    /// An address.
    Address(IpAddr),
    /// An action.
    Action(Action),
    /// A log status.
    Status(LogStatus),
    /// A flow direction.
    Direction(FlowDirection),
    /// Read row by row (a number written as a string).
    Reread,
}

impl DictRead {
    fn new(kind: Kind, data: &[u8], ends: &[usize]) -> DictRead {
        let entries = (0..ends.len())
            .map(|k| {
                let value = dictionary_entry(data, ends, k);
                if value.is_empty() || value == b"-" {
                    return Entry::Skip;
                }
                let mut lite = Some(Lite::default());
                bytes_value(&mut lite, value, kind);
                let Some(lite) = lite else {
                    return Entry::Bad;
                };
                let read = match kind {
                    Kind::Text | Kind::Number | Kind::Small => Some(Entry::Valid),
                    Kind::Field(f) => match f {
                        Field::InterfaceId | Field::RejectReason => Some(Entry::Valid),
                        Field::Srcaddr => lite.srcaddr.map(Entry::Address),
                        Field::Dstaddr => lite.dstaddr.map(Entry::Address),
                        Field::PktSrcaddr => lite.pkt_srcaddr.map(Entry::Address),
                        Field::PktDstaddr => lite.pkt_dstaddr.map(Entry::Address),
                        Field::Action => lite.action.map(Entry::Action),
                        Field::LogStatus => lite.log_status.map(Entry::Status),
                        Field::FlowDirection => lite.flow_direction.map(Entry::Direction),
                        Field::Srcport
                        | Field::Dstport
                        | Field::Protocol
                        | Field::TcpFlags
                        | Field::Start
                        | Field::End => Some(Entry::Reread),
                        _ => Some(Entry::Valid),
                    },
                };
                read.unwrap_or(Entry::Bad)
            })
            .collect();
        DictRead { kind, entries }
    }
}

/// [`fast_rows`] for a column of integers: each kind's loop on its own.
fn int_column(values: &[Option<i64>], kind: Kind, out: &mut [Option<Lite<'_>>]) {
    // Applies `set` to each row's value; a row whose value it refuses (or a negative one,
    // `-5` in text, which no field reads fast) goes to the full parser.
    fn each(
        values: &[Option<i64>],
        out: &mut [Option<Lite<'_>>],
        set: impl Fn(&mut Lite<'_>, u64) -> Option<()>,
    ) {
        for (slot, value) in out.iter_mut().zip(values) {
            let (Some(lite), Some(v)) = (slot.as_mut(), value) else {
                continue;
            };
            if u64::try_from(*v).ok().and_then(|n| set(lite, n)).is_none() {
                *slot = None;
            }
        }
    }
    let time = |n: u64| Some(n).filter(|&t| t <= super::line::MAX_TIME);
    match kind {
        Kind::Text | Kind::Number => each(values, out, |_, _| Some(())),
        Kind::Small => each(values, out, |_, n| u8::try_from(n).ok().map(drop)),
        Kind::Field(f) => match f {
            Field::Srcport => each(values, out, |l, n| {
                l.srcport = Some(u16::try_from(n).ok()?);
                Some(())
            }),
            Field::Dstport => each(values, out, |l, n| {
                l.dstport = Some(u16::try_from(n).ok()?);
                Some(())
            }),
            Field::Protocol => each(values, out, |l, n| {
                l.protocol = Some(u8::try_from(n).ok()?);
                Some(())
            }),
            Field::TcpFlags => each(values, out, |l, n| {
                l.tcp_flags = Some(u16::try_from(n).ok()?);
                Some(())
            }),
            Field::Start => each(values, out, |l, n| {
                l.start = Some(time(n)?);
                Some(())
            }),
            Field::End => each(values, out, |l, n| {
                l.end = Some(time(n)?);
                Some(())
            }),
            // Digits are no interface id, address, action, status or direction the fast pass
            // reads; `reject-reason` keeps its text.
            Field::InterfaceId
            | Field::Srcaddr
            | Field::Dstaddr
            | Field::PktSrcaddr
            | Field::PktDstaddr
            | Field::Action
            | Field::LogStatus
            | Field::FlowDirection
            | Field::RejectReason => each(values, out, |_, _| None),
            // Any other field is read as text: digits are.
            _ => each(values, out, |_, _| Some(())),
        },
    }
}

/// A position in a chunk, read word by word along one line: words are separated by runs of
/// spaces, the line ends at `\n`. Each reader starts at the first byte of a word and stops
/// after its last byte.
#[derive(Clone)]
struct Cursor<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Whether a word ends before byte `i` of `raw`: a space, the line's end (`\n`, or `\r\n`),
    /// the chunk's end.
    #[inline(always)]
    fn ends_word(raw: &[u8], i: usize) -> bool {
        match raw.get(i) {
            None | Some(b' ') | Some(b'\n') => true,
            Some(b'\r') => Cursor::ends_line(raw, i),
            Some(_) => false,
        }
    }

    /// Whether the line ends before byte `i` of `raw` (at `\n`, `\r\n` or the chunk's end).
    #[inline(always)]
    fn ends_line(raw: &[u8], i: usize) -> bool {
        match raw.get(i) {
            None | Some(b'\n') => true,
            Some(b'\r') => matches!(raw.get(i + 1), None | Some(b'\n')),
            Some(_) => false,
        }
    }

    /// Moves past spaces; false at the end of the line.
    #[inline(always)]
    fn skip_spaces(&mut self) -> bool {
        while self.raw.get(self.pos) == Some(&b' ') {
            self.pos += 1;
        }
        !Cursor::ends_line(self.raw, self.pos)
    }

    /// True, past it, when the word here is `-`.
    #[inline(always)]
    fn dash(&mut self) -> bool {
        let dash =
            self.raw.get(self.pos) == Some(&b'-') && Cursor::ends_word(self.raw, self.pos + 1);
        if dash {
            self.pos += 1;
        }
        dash
    }

    /// The word here when it is printable ASCII without `#` (else `None`: tabs, other white
    /// space, UTF-8 and comments are for the full parser).
    ///
    /// Eight bytes at a time, exact for the lowest byte of each test (the classic
    /// has-zero-byte and has-less-than tests can only err above a true hit): the word ends at
    /// the first byte at or below a space; it must be a space or `\n`, and no byte before it
    /// may be `#` or above `~`.
    #[inline(always)]
    fn text(&mut self) -> Option<&'a [u8]> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let raw = self.raw;
        let start = self.pos;
        let mut i = start;
        while let Some(chunk) = raw.get(i..).and_then(|r| r.first_chunk::<8>()) {
            let x = u64::from_le_bytes(*chunk);
            // Bytes up to 0x20; bytes from 0x7f (high bit set, or 0x7f + 1); `#` bytes.
            let low = x.wrapping_sub(ONES * 0x21) & !x & HIGH;
            let high = (x | x.wrapping_add(ONES)) & HIGH;
            let h = x ^ (ONES * u64::from(b'#'));
            let hash = h.wrapping_sub(ONES) & !h & HIGH;
            if low | high | hash != 0 {
                let end = low.trailing_zeros();
                if (high | hash).trailing_zeros() < end {
                    return None;
                }
                i += (end / 8) as usize;
                break;
            }
            i += 8;
        }
        while let Some(&b) = raw.get(i) {
            if b <= b' ' {
                break;
            }
            if b == b'#' || b > b'~' {
                return None;
            }
            i += 1;
        }
        if !Cursor::ends_word(raw, i) {
            return None;
        }
        self.pos = i;
        raw.get(start..i)
    }

    /// The word here as a decimal number of 1 to 19 digits (longer ones are left to the full
    /// parser, which reads up to `u64::MAX`).
    #[inline(always)]
    fn decimal(&mut self) -> Option<u64> {
        let start = self.pos;
        let mut i = start;
        let mut n: u64 = 0;
        while let Some(&b) = self.raw.get(i) {
            let d = b.wrapping_sub(b'0');
            if d > 9 {
                if Cursor::ends_word(self.raw, i) {
                    break;
                }
                return None;
            }
            // At most 19 digits (checked below) cannot overflow.
            n = n.wrapping_mul(10).wrapping_add(u64::from(d));
            i += 1;
        }
        if i - start > 19 {
            return None;
        }
        self.pos = i;
        Some(n)
    }

    /// The word here as an address, as `str::parse::<IpAddr>` reads it.
    #[inline(always)]
    fn address(&mut self) -> Option<IpAddr> {
        if let Some((v4, end)) = ipv4_at(self.raw, self.pos) {
            self.pos = end;
            return Some(IpAddr::V4(v4));
        }
        other_address(self.text()?)
    }
}

/// Dotted-decimal IPv4 without leading zeros (which the standard library refuses too) at
/// `i`, ending at a space, a line's end or the end of `raw`: the address and where it ends. `None` for
/// anything else, which then goes to the standard parser.
#[inline(always)]
fn ipv4_at(raw: &[u8], mut i: usize) -> Option<(Ipv4Addr, usize)> {
    let mut octets = [0u8; 4];
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if raw.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let begin = i;
        let mut n: u32 = 0;
        while let Some(&b) = raw.get(i) {
            let d = b.wrapping_sub(b'0');
            if d > 9 || i - begin == 3 {
                break;
            }
            n = n * 10 + u32::from(d);
            i += 1;
        }
        let len = i - begin;
        if len == 0 || (len > 1 && raw.get(begin) == Some(&b'0')) || n > 255 {
            return None;
        }
        *octet = n as u8;
    }
    Cursor::ends_word(raw, i).then_some((Ipv4Addr::from(octets), i))
}

/// An address that is not plain dotted IPv4, by the standard library.
#[cold]
#[inline(never)]
fn other_address(word: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(word).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow_log::{parse_chunk, ChunkReader};
    use proptest::prelude::*;

    fn both(text: &str, format: Format) {
        both_in(text, format, None);
    }

    fn both_in(text: &str, format: Format, piece: Option<crate::flow_log::Piece>) {
        let chunk = Chunk {
            file: Arc::from(std::path::Path::new("x.log")),
            first_line: 7,
            format,
            data: text.as_bytes().to_vec(),
            rows: None,
            piece,
            before: None,
            after: None,
            too_long: None,
        };
        check_chunk(&chunk);
    }

    /// The scanner reads a chunk as the full parser does: the same records, malformed lines
    /// and counts, and `full` gives each record back whole.
    fn check_chunk(chunk: &Chunk) {
        let text = String::from_utf8_lossy(chunk.text());
        let parsed = parse_chunk(chunk);
        let mut scanner = Scanner::new(chunk);
        let mut records = Vec::new();
        let mut malformed = Vec::new();
        let mut ats = Vec::new();
        let counts = scanner.scan(|s, at| match s {
            Scanned::Record(l) => {
                records.push(format!("{l:?}"));
                ats.push(at);
            }
            Scanned::Malformed(m) => malformed.push(m),
        });
        assert_eq!(counts, parsed.counts, "{text:?}");
        let want: Vec<String> = parsed
            .records
            .iter()
            .map(|r| format!("{:?}", Lite::of(r)))
            .collect();
        assert_eq!(records, want, "{text:?}");
        assert_eq!(malformed, parsed.malformed, "{text:?}");
        for (at, r) in ats.into_iter().zip(&parsed.records) {
            assert_eq!(&scanner.full(at).unwrap(), r);
        }
    }

    /// The words `Cursor::text` reads from `text`, one after the other, or `None` where it
    /// leaves the line to the full parser.
    fn text_words(text: &str) -> Option<Vec<&[u8]>> {
        let mut at = Cursor {
            raw: text.as_bytes(),
            pos: 0,
        };
        let mut words = Vec::new();
        while at.skip_spaces() {
            words.push(at.text()?);
        }
        Some(words)
    }

    /// What `text_words` must give: the words split on spaces up to the line's end, when they
    /// are all printable ASCII without `#`.
    fn plain_words(text: &str) -> Option<Vec<&[u8]>> {
        let line = text.split('\n').next().unwrap_or_default();
        let line = line.strip_suffix('\r').unwrap_or(line);
        let printable = line
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'#');
        printable.then(|| {
            line.split(' ')
                .filter(|w| !w.is_empty())
                .map(str::as_bytes)
                .collect()
        })
    }

    #[test]
    fn words_split_on_runs_of_spaces_up_to_the_line_end() {
        for text in [
            "",
            " ",
            "a",
            "  a  b ",
            "2 123456789010 eni-0a1b2c3d4e5f00001 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK",
            "abcdefgh abcdefghijklmnopq  x",
            "        12345678        ",
            "abcdefgh\nijkl",
            "abcdefghij\r\nnext line",
            "abc\r",
            "abcdefgh\rijklmnop",
            "abcdefg#hijk",
            "abcdefghijklm\tn",
            "abcdefghijklmnó",
            "abc~\x7f",
        ] {
            assert_eq!(text_words(text), plain_words(text), "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn words_split_as_the_standard_library(text in "[ a-z0-9.!~#\t\r\n\x7fé-]{0,300}") {
            prop_assert_eq!(text_words(&text), plain_words(&text));
        }

        #[test]
        fn numbers_and_addresses_read_as_the_standard_library(word in "[0-9]{1,21}|[0-9.]{1,16}|[0-9a-f:.]{1,20}") {
            for end in ["", " x", "\n", "\r\n", "\t", "\r"] {
                let text = format!("{word}{end}");
                // A last line may end in `\r` without `\n`, as the full parser reads it.
                let ok_end = end != "\t";
                let at = || Cursor { raw: text.as_bytes(), pos: 0 };
                let std_number = word.parse::<u64>().ok().filter(|_| ok_end && word.len() < 20);
                prop_assert_eq!(at().decimal(), std_number, "{:?}", text);
                let std_address = word.parse::<IpAddr>().ok().filter(|_| ok_end);
                prop_assert_eq!(at().address(), std_address, "{:?}", text);
            }
        }
    }

    #[test]
    fn ipv4_as_the_standard_library() {
        for s in [
            "1.2.3.4",
            "255.255.255.255",
            "0.0.0.0",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "256.1.1.1",
            "1..2.3",
            "1.2.3.4 ",
            "1234.1.1.1",
            "1.2.3.04",
            "10.0.0.10",
            "",
            ".1.2.3",
        ] {
            let ours = ipv4_at(s.as_bytes(), 0)
                .filter(|&(_, end)| end == s.len())
                .map(|(a, _)| a);
            assert_eq!(ours, s.parse::<Ipv4Addr>().ok(), "{s:?}");
        }
    }

    #[test]
    fn plain_and_odd_lines_read_as_the_full_parser_reads_them() {
        let v2 = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK\n";
        both(v2, Format::default());
        both(&v2.replace(' ', "  "), Format::default());
        both(&v2.replace(' ', "\t"), Format::default());
        both(&v2.replace("ACCEPT", "accept"), Format::default());
        both(&v2.replace("443", "65536"), Format::default());
        both(&v2.replace("10.0.0.1", "2001:db8::1"), Format::default());
        both(&v2.replace("10.0.0.1", "010.0.0.1"), Format::default());
        both(&v2.replace("\n", " # note\n"), Format::default());
        both(&v2.replace("\n", "\r\n"), Format::default());
        both(&v2.replace("\n", " \r\n"), Format::default());
        both(&v2.replace("\n", "\r \n"), Format::default());
        both(&v2.replace(" OK\n", " OK\rX\n"), Format::default());
        both(v2.trim_end(), Format::default());
        both(&format!("{v2}{v2}").replace("\n", "\r"), Format::default());
        both(
            &v2.replace(" 443 ", " 12345678901234567890 "),
            Format::default(),
        );
        both(
            &v2.replace(" 840 ", " 18446744073709551615 "),
            Format::default(),
        );
        both(
            &v2.replace(" 840 ", " 18446744073709551616 "),
            Format::default(),
        );
        both(&v2.replace("eni-1", "eni-1#"), Format::default());
        both(
            &v2.replace("123456789010", "1234567890\u{7f}"),
            Format::default(),
        );
        both(&v2.replace("10.0.0.2", "10.0.0.2\r"), Format::default());
        both(&v2.replace("eni-1", "ení-1"), Format::default());
        both(&v2.replace(" OK", ""), Format::default());
        both(
            "2 1 eni-1 - - - - - - - 1 2 - NODATA\n\n# c\n{\"message\": \"2 1 eni-1 - - - - - - - 1 2 - SKIPDATA\"}\n{bad\n",
            Format::default(),
        );
        both(
            "version interface-id srcaddr dstaddr tcp-flags flow-direction\n3 eni-9 1.1.1.1 2.2.2.2 18 egress\nsrcaddr dstaddr\n1.1.1.1 2.2.2.2\nversion bogus-field\n",
            Format::default(),
        );
        let f: Format = "interface-id srcaddr pkt-srcaddr".parse().unwrap();
        both("eni-1 1.1.1.1 -\nenis 1.2.3.4 5.6.7.8\n", f);
    }

    /// CloudWatch Logs subscription data as Firehose writes it to S3: envelopes one after the
    /// other (here two on one line), a control message, a bad event among good ones.
    const ENVELOPES: &str = concat!(
        r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[]}"#,
        "\n",
        r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"vpc-flow","logStream":"eni-1-all","subscriptionFilters":["f"],"logEvents":["#,
        r#"{"id":"1","timestamp":1,"message":"2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK"},"#,
        r#"{"id":"2","timestamp":1,"message":"2 123456789012 eni-1 10.0.0.1 10.0.0.2 http 49152 6 10 840 1 2 ACCEPT OK"},"#,
        r#"{"id":"3","timestamp":1,"message":"2 123456789012 eni-1 - - - - - - - 1 2 - NODATA"}]}"#,
        r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"vpc-flow","logStream":"eni-2-all","subscriptionFilters":["f"],"logEvents":["#,
        r#"{"id":"4","timestamp":1,"message":"2 123456789012 eni-2 10.0.0.2 10.0.0.1 49152 443 6 10 840 1 2 REJECT OK"}]}"#,
        "\n",
        // A data message that lost its events is reported, not dropped.
        r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"vpc-flow"}"#,
        "\n",
    );

    #[test]
    fn cloudwatch_subscription_envelopes_hold_one_record_per_log_event() {
        both(ENVELOPES, Format::default());
        let chunk = Chunk::new("firehose.log", ENVELOPES.into(), Format::default());
        let parsed = parse_chunk(&chunk);
        assert_eq!(
            (
                parsed.counts.read,
                parsed.counts.parsed,
                parsed.counts.nodata,
                parsed.counts.malformed
            ),
            (5, 2, 1, 2)
        );
        assert!(parsed.records.iter().all(|r| r.line == 2));
        // Each record knows its log event (the second event is the malformed one).
        let events: Vec<_> = parsed.records.iter().map(|r| r.event).collect();
        assert_eq!(events, [Some(1), Some(3), Some(4)]);
        assert_eq!(parsed.records[2].interface_id.as_deref(), Some("eni-2"));
        assert_eq!(
            parsed.malformed[0].to_string(),
            "firehose.log:2: log event 2: `http` is not a valid `srcport`: expected a port number from 0 to 65535"
        );
        assert_eq!(
            parsed.malformed[1].to_string(),
            "firehose.log:3: log event 1: expected a `logEvents` array in a CloudWatch Logs subscription message"
        );
        // A broken envelope loses the rest of its line, not the records before it.
        let two_lines = &ENVELOPES[..ENVELOPES.rfind(r#"{"messageType""#).unwrap()];
        let cut = &two_lines[..two_lines.len() - 40];
        both(cut, Format::default());
        let parsed = parse_chunk(&Chunk::new("cut.log", cut.into(), Format::default()));
        assert_eq!((parsed.counts.parsed, parsed.counts.nodata), (1, 1));
        assert_eq!(parsed.counts.malformed, 2);
    }

    /// A file whose second line is CloudWatch Logs envelopes back to back, as Firehose writes
    /// them, with odd values among them.
    fn firehose_file() -> String {
        let event = |i: usize, port: &str| {
            format!(
                r#"{{"id":"{i}","timestamp":1,"message":"2 123456789012 eni-1 10.0.0.1 10.0.0.2 {port} 49152 6 10 840 1 2 ACCEPT OK"}}"#
            )
        };
        let envelope = |events: Vec<String>| {
            format!(
                r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"a}}b{{\"c[","logStream":"s","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
                events.join(",")
            )
        };
        let mut long = String::new();
        for i in 0..12 {
            let port = if i % 5 == 3 { "http" } else { "443" };
            long += &envelope((0..(i % 4) + 1).map(|k| event(10 * i + k, port)).collect());
            match i {
                2 => long += r#"{"messageType":"CONTROL_MESSAGE","logEvents":[]}"#,
                4 => long += "  \t ",
                6 => long += r#"{"a" 1}"#,
                7 => long += "xyz",
                8 => long += r#"{"messageType":"DATA_MESSAGE"}"#,
                9 => long += r#"[1]{"message":"2 1 eni-2 - - - - - - - 1 2 - NODATA"}"#,
                _ => {}
            }
        }
        let plain = "2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK";
        let cut = &long[..long.len() - 30];
        // The last line is read with the format of the header before it: its events are bad.
        format!("{plain}\n{long}\n{plain}\n{long}\n{cut}\nversion srcaddr dstaddr\n3 10.0.0.9 10.0.0.8\n{cut}")
    }

    /// The column of `{"a" 1}`'s error on its line of `firehose_file`.
    fn bad_value_column() -> usize {
        let text = firehose_file();
        let line = text.lines().nth(1).unwrap();
        line.find(r#"{"a" 1}"#).unwrap() + 6
    }

    #[test]
    fn long_lines_of_json_values_cut_into_pieces_read_as_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("firehose.json");
        std::fs::write(&path, firehose_file()).unwrap();
        let read = |size: usize| {
            let mut records = Vec::new();
            let mut malformed = Vec::new();
            let mut counts = Counts::default();
            let mut pieces = 0;
            let mut longest = 0;
            for chunk in ChunkReader::new(vec![path.clone()], None).with_chunk_size(size) {
                let chunk = chunk.unwrap();
                check_chunk(&chunk);
                pieces += usize::from(chunk.piece.is_some());
                longest = longest.max(chunk.data.len());
                let parsed = parse_chunk(&chunk);
                records.extend(parsed.records);
                malformed.extend(parsed.malformed.iter().map(ToString::to_string));
                counts += parsed.counts;
            }
            (records, malformed, counts, pieces, longest)
        };
        let (records, malformed, counts, pieces, _) = read(1 << 20);
        assert_eq!(pieces, 0);
        // Per long line: 30 envelope events, of which 5 have port `http`, a NODATA record, and
        // 4 bad values (`{"a" 1}`, `xyz`, the envelope without events, `[1]`); the last line
        // loses the 4 events of its cut envelope, which is one bad value.
        assert_eq!(counts.read, 1 + 35 + 1 + 35 + 32 + 1 + 32);
        assert_eq!((counts.headers, counts.malformed), (1, 9 + 9 + 10 + 32));
        let on = |line: u64| records.iter().filter(|r| r.line == line).count();
        assert_eq!([on(2), on(4), on(5), on(7), on(8)], [26, 26, 22, 1, 0]);
        let want = format!(
            "{}:2: log event 17: invalid JSON: expected `:` at line 1 column {}",
            path.display(),
            bad_value_column()
        );
        let eof = format!(
            "{}:5: log event 32: invalid JSON: EOF while parsing a string at line 1 column {}",
            path.display(),
            firehose_file().lines().nth(4).unwrap().len()
        );
        assert!(malformed.contains(&eof), "{eof} not in {malformed:#?}");
        assert!(malformed.contains(&want), "{want} not in {malformed:#?}");
        let events: Vec<_> = records
            .iter()
            .filter(|r| r.line == 4)
            .map(|r| r.event)
            .collect();
        assert_eq!(events.len(), 26);
        assert_eq!(events.last(), Some(&Some(35)));
        for size in [1, 2, 64, 333, 700, 1500] {
            let (r, m, c, pieces, longest) = read(size);
            assert_eq!(
                (&r, &m, c),
                (&records, &malformed, counts),
                "chunk size {size}"
            );
            assert!(pieces > 6, "chunk size {size}: {pieces} pieces");
            // A chunk ends after the last whole value, once the chunk is full or, for a value
            // longer than the chunk, twice as long as when a cut was last tried.
            assert!(
                longest < 2 * (size + 600),
                "chunk size {size}: a chunk of {longest} bytes"
            );
        }
    }

    proptest! {
        #[test]
        fn random_lines_read_as_the_full_parser_reads_them(
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    prop_oneof![
                        Just("2".to_string()), Just("-".to_string()), Just("eni-1".to_string()),
                        Just("10.0.0.1".to_string()), Just("::1".to_string()),
                        Just("ACCEPT".to_string()), Just("REJECT".to_string()),
                        Just("OK".to_string()), Just("NODATA".to_string()),
                        Just("65535".to_string()), Just("65536".to_string()),
                        Just("300".to_string()), Just("ingress".to_string()),
                        Just("version".to_string()), Just("srcaddr".to_string()),
                        Just("#".to_string()), Just("\t".to_string()),
                        Just("\r".to_string()), Just("x\r".to_string()),
                        "[0-9.]{1,16}", "[ -~]{0,6}",
                    ],
                    0..16,
                ),
                0..8,
            )
        ) {
            let text: String = lines.iter().map(|w| w.join(" ") + "\n").collect();
            both(&text, Format::default());
            let f: Format = "version interface-id srcaddr dstaddr srcport dstport protocol action log-status tcp-flags flow-direction pkt-srcaddr".parse().unwrap();
            both(&text, f);
        }
    }

    /// Values of a Parquet column, as [`Rows::from_values`] takes them: integers of either
    /// sign and width, strings AWS writes, and strings no valid record holds.
    fn parquet_value() -> impl Strategy<Value = Option<Result<i64, Vec<u8>>>> {
        let text = |s: &'static str| Just(Some(Err(s.as_bytes().to_vec())));
        prop_oneof![
            Just(None),
            prop_oneof![
                Just(0i64),
                Just(1),
                Just(6),
                Just(17),
                Just(80),
                Just(255),
                Just(256),
                Just(65_535),
                Just(65_536),
                Just(-1),
                Just(-300),
                Just(1_700_000_000),
                Just(1_700_000_060),
                Just(253_402_300_799),
                Just(253_402_300_800),
                Just(i64::MAX),
                Just(i64::MIN),
                any::<i64>(),
            ]
            .prop_map(|n| Some(Ok(n))),
            text(""),
            text("-"),
            text("eni-1"),
            text("eni-2"),
            text("10.0.0.1"),
            text("10.0.0.2"),
            text("::1"),
            text("10.0.0.01"),
            text("ACCEPT"),
            text("REJECT"),
            text("OK"),
            text("NODATA"),
            text("SKIPDATA"),
            text("ingress"),
            text("egress"),
            text("BPA"),
            text("123456789012"),
            text("80"),
            text("-5"),
            text("a b"),
            text("x#y"),
            text("#"),
            text("{"),
            text("version"),
            text("Version"),
            text("\t"),
            text("80\r"),
            text("\u{7f}"),
            text("é"),
            text("-\n"),
            // White space beyond ASCII, trimmed before a comment, JSON or a header is seen.
            text("\u{3000}#x"),
            text("\u{a0}{}"),
            text("\u{2003}version"),
            text("\u{a0}12"),
            proptest::collection::vec(any::<u8>(), 0..6).prop_map(|b| Some(Err(b))),
        ]
    }

    proptest! {
        /// Parquet rows read from their columns give what their lines of text give the full
        /// parser: the same records, malformed lines, counts, and records back in full.
        #[test]
        fn parquet_rows_read_as_their_text_reads(
            names in proptest::sample::subsequence(
                vec!["version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport",
                     "dstport", "protocol", "packets", "bytes", "start", "end", "action",
                     "log-status", "tcp-flags", "flow-direction", "pkt-srcaddr",
                     "pkt-dstaddr", "traffic-path", "reject-reason", "vpc-id", "extra"],
                1..22,
            ).prop_shuffle(),
            seed in proptest::collection::vec(proptest::collection::vec(parquet_value(), 22), 0..12),
            ints in proptest::collection::vec(any::<bool>(), 22),
            dictionary in proptest::option::of(0usize..20),
        ) {
            // Column `c` of row `r` is `seed[r][c]`; a column marked in `ints` holds only
            // integers (as INT32/INT64 columns do), the others strings.
            let columns: Vec<Vec<_>> = (0..names.len())
                .map(|c| {
                    seed.iter()
                        .map(|row| match &row[c] {
                            Some(Err(_)) if ints[c] => Some(Ok(c as i64)),
                            Some(Ok(n)) if !ints[c] => Some(Err(n.to_string().into_bytes())),
                            v => v.clone(),
                        })
                        .collect()
                })
                .collect();
            // String columns as they are, or dictionary-encoded (with unused entries, so that
            // the dictionary is sometimes larger than the rows).
            let rows = crate::flow_log::parquet::Rows::from_values_encoded(&columns, dictionary);
            let format = Format::from_columns(names.iter().copied()).unwrap();
            let chunk = Chunk {
                file: Arc::from(std::path::Path::new("x.log.parquet")),
                first_line: 3,
                format,
                data: Vec::new(),
                rows: Some(Arc::new(rows)),
                piece: None,
                before: None,
                after: None,
                too_long: None,
            };
            check_chunk(&chunk);
        }
    }
}
