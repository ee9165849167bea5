//! One line of a flow log: a record, a header, a JSON-wrapped record, or nothing (blank, `#`
//! comment), and the typed values of a record's fields.

use super::field::Field;
use super::format::{Format, FormatError, FormatOrigin, Slot};
use super::record::{Action, FlowDirection, FlowRecord, LogStatus, Text};
use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// A line that is not a valid record, with where it is and what was wrong.
///
/// Displays as `file:line:column: message` (the column, 1-based in characters, is left out
/// when there is none, as for JSON-wrapped lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// The file the line is in (`<stdin>` for standard input).
    pub file: Arc<Path>,
    /// 1-based line number.
    pub line: u64,
    /// 1-based column (in characters) of the offending value, when the line is plain text.
    pub column: Option<usize>,
    /// What was wrong.
    pub problem: Problem,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)?;
        if let Some(column) = self.column {
            write!(f, ":{column}")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for Malformed {}

impl Malformed {
    /// Where it is, to order it among records (see [`FlowRecord::place`]): its line, and its
    /// log event (0 for a whole line).
    pub fn place(&self) -> (u64, usize) {
        match self.problem {
            Problem::Event { index, .. } => (self.line, index),
            _ => (self.line, 0),
        }
    }
}

/// What is wrong with a malformed line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A value that does not fit its field.
    #[error("`{value}` is not a valid `{field}`: expected {expected}")]
    Value {
        /// The field, by its name in the format.
        field: String,
        /// The value as written (shortened when long, control characters as `?`).
        value: String,
        /// What the field takes.
        expected: &'static str,
    },
    /// The record does not have as many fields as the format.
    #[error("expected {expected} fields as in {origin} (`{format}`), found {found}")]
    FieldCount {
        /// Fields in the format.
        expected: usize,
        /// Fields in the record.
        found: usize,
        /// Where the format came from.
        origin: FormatOrigin,
        /// The format, shortened.
        format: String,
    },
    /// Bytes that are not UTF-8 text.
    #[error("the line is not UTF-8 text")]
    NotUtf8,
    /// A line starting with `{` that is not valid JSON.
    #[error("invalid JSON: {0}")]
    Json(String),
    /// JSON that holds neither a `message` string nor flow-log fields.
    #[error("expected a JSON object with a `message` string or flow-log fields")]
    JsonShape,
    /// A header line that cannot be used.
    #[error("invalid header: {0}")]
    Header(FormatError),
    /// A line (or one JSON value of a line) longer than the most a line may hold: skipped to
    /// the next line end without being kept, so memory stays bounded.
    #[error("the line is longer than {max} bytes, the most a line or JSON value may hold: skipped to the next line")]
    TooLong {
        /// The limit ([`MAX_LINE_BYTES`](super::MAX_LINE_BYTES)).
        max: usize,
    },
    /// A record after an invalid header line, before the next valid one: its fields are unknown.
    #[error("no valid header: the header at line {header} is invalid, and records are not read until the next valid header")]
    AfterInvalidHeader {
        /// The line of the invalid header.
        header: u64,
    },
    /// A record that starts after it ends.
    #[error("`start` {start} is after `end` {end}")]
    StartAfterEnd {
        /// `start`.
        start: u64,
        /// `end`.
        end: u64,
    },
    /// A JSON object with the same key twice: which one holds the record cannot be told (a
    /// JSON reader keeps one of them silently).
    #[error("the key `{0}` appears twice in a JSON object")]
    DuplicateKey(String),
    /// A CloudWatch Logs subscription envelope without a `logEvents` array.
    #[error("expected a `logEvents` array in a CloudWatch Logs subscription message")]
    NoLogEvents,
    /// One log event of a CloudWatch Logs envelope read event by event (see
    /// [`MAX_LINE_BYTES`](super::MAX_LINE_BYTES)) longer than the most a line may hold: skipped
    /// without being kept.
    #[error("the log event is longer than {max} bytes, the most a line or JSON value may hold: skipped to the next log event")]
    EventTooLong {
        /// The limit.
        max: usize,
    },
    /// A CloudWatch Logs envelope too long to read whole whose `messageType` does not come
    /// before its `logEvents`: whether its events are records (a data message) or not (a
    /// control message) is not known until after them, so none is read.
    #[error("a CloudWatch Logs envelope longer than {max} bytes is read event by event, which needs its `messageType` before its `logEvents` (as CloudWatch Logs writes it): its log events are not read")]
    MessageTypeAfterEvents {
        /// The limit.
        max: usize,
    },
    /// Bytes that are neither a log event nor the `,` or `]` after one, in a CloudWatch Logs
    /// envelope read event by event.
    #[error("invalid JSON between the log events of a CloudWatch Logs envelope: the rest of the line is skipped")]
    BrokenEvents,
    /// A line (or the input) that ends inside a CloudWatch Logs envelope read event by event.
    #[error("the line ends inside a CloudWatch Logs envelope: its log events before are read")]
    EnvelopeCutShort,
    /// One log event of a CloudWatch Logs subscription envelope (or one of several JSON
    /// objects on a line) that is not a valid record.
    #[error("log event {index}: {problem}")]
    Event {
        /// 1-based position among the line's events.
        index: usize,
        /// What was wrong with it.
        problem: Box<Problem>,
    },
}

/// Parses one record line with `format`: plain text or JSON-wrapped, with any `#` comment
/// tail. No header detection here: a header line is reported as malformed. Errors name the
/// file `<line>` and line 1.
///
/// ```
/// use vpcreach::flow_log::{parse_line, Action, Format};
/// let format: Format = "${interface-id} ${srcport} ${action}".parse().unwrap();
/// let rec = parse_line("eni-1235b8ca123456789  443 ACCEPT", &format).unwrap();
/// assert_eq!(rec.srcport, Some(443));
/// assert_eq!(rec.action, Some(Action::Accept));
/// let err = parse_line("eni-1 abc ACCEPT", &format).unwrap_err();
/// assert_eq!(err.to_string(), "<line>:1:7: `abc` is not a valid `srcport`: expected a port number from 0 to 65535");
/// ```
pub fn parse_line(text: &str, format: &Format) -> Result<FlowRecord, Malformed> {
    let mut parser = LineParser::default();
    let located = |column, problem| Malformed {
        file: Arc::from(Path::new("<line>")),
        line: 1,
        column,
        problem,
    };
    if starts_with_brace(text) {
        match read_json(text) {
            Ok(Json::Message(message)) => parser
                .parse_text(cut_comment(&message), format, 1)
                .map_err(|(_, problem)| located(None, problem)),
            Ok(Json::Fields(fields)) => {
                record_from_json(&fields, 1).map_err(|problem| located(None, problem))
            }
            Err(problem) => Err(located(None, problem)),
        }
    } else {
        parser
            .parse_text(cut_comment(text), format, 1)
            .map_err(|(column, problem)| located(column, problem))
    }
}

/// What a line is, once read.
pub(crate) enum Line<'a> {
    /// Blank or a `#` comment.
    Nothing,
    /// A header line (or a line that tried to be one).
    Header(Result<Format, FormatError>),
    /// A plain-text record, its `#` tail removed.
    Text(&'a str),
    /// The `message` of a JSON-wrapped record, its `#` tail removed.
    Message(String),
    /// A JSON object of fields.
    Fields(serde_json::Map<String, serde_json::Value>),
    /// Several records on one line: the log events of CloudWatch Logs subscription envelopes
    /// (`{"messageType": "DATA_MESSAGE", …, "logEvents": [{"message": "…"}, …]}`, as Firehose
    /// delivers them to S3, often several objects on one line), or several JSON objects.
    Events(Vec<Item>),
    /// A line that cannot be read at all.
    Bad(Problem),
}

/// One record of a [`Line::Events`] line, not yet parsed.
pub(crate) enum Item {
    /// A log event's message: a record's text.
    Message(String),
    /// An object of fields.
    Fields(serde_json::Map<String, serde_json::Value>),
    /// What was wrong with this one.
    Bad(Problem),
}

/// The record of one item of a [`Line::Events`] line.
pub(crate) fn item_record(
    parser: &mut LineParser,
    item: Item,
    format: &Format,
    line: u64,
    event: usize,
) -> Result<FlowRecord, Problem> {
    let mut record = match item {
        Item::Message(text) => parser
            .parse_text(cut_comment(&text), format, line)
            .map_err(|(_, problem)| problem),
        Item::Fields(fields) => record_from_json(&fields, line),
        Item::Bad(problem) => Err(problem),
    }?;
    record.event = u32::try_from(event).ok();
    Ok(record)
}

/// Reads one line (without its `\n`).
pub(crate) fn read_line(raw: &[u8], line_number: u64) -> Line<'_> {
    let Ok(text) = std::str::from_utf8(raw) else {
        // A line of JSON values is read value by value, each checked on its own, as the pieces
        // the reader cuts a long one into are: the same items whatever the chunk size.
        if raw.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if JsonValues::new(raw).nth(1).is_some() {
                return Line::Events(json_items_bytes(raw, 0));
            }
        }
        return Line::Bad(Problem::NotUtf8);
    };
    let text = text.strip_suffix('\r').unwrap_or(text);
    match text.trim_start().as_bytes().first() {
        None | Some(b'#') => Line::Nothing,
        Some(b'{') => match read_json_line(text) {
            Ok(JsonLine::Events(items)) if items.is_empty() => Line::Nothing,
            Ok(JsonLine::Events(items)) => Line::Events(items),
            Ok(JsonLine::One(Json::Message(message))) => {
                let kept = cut_comment(&message);
                if let Some(header) = Format::from_header(kept, line_number) {
                    Line::Header(header)
                } else if kept.trim_start().is_empty() {
                    Line::Nothing
                } else {
                    Line::Message(kept.to_owned())
                }
            }
            Ok(JsonLine::One(Json::Fields(fields))) => Line::Fields(fields),
            Err(problem) => Line::Bad(problem),
        },
        Some(_) => {
            let kept = cut_comment(text);
            match Format::from_header(kept, line_number) {
                Some(header) => Line::Header(header),
                None => Line::Text(kept),
            }
        }
    }
}

/// The header on a line, if it is one; the same answer as [`read_line`], but cheap for the
/// lines that are records, as the chunk reader asks it of every line.
pub(crate) fn header_on_line(raw: &[u8], line_number: u64) -> Option<Result<Format, FormatError>> {
    let start = raw.iter().position(|b| !b.is_ascii_whitespace())?;
    match raw[start] {
        b'a'..=b'z' => {}
        b'{' if json_message_may_be_header(&raw[start..]) => {}
        _ => return None,
    }
    match read_line(raw, line_number) {
        Line::Header(header) => Some(header),
        _ => None,
    }
}

/// False when the `message` of a JSON line surely does not start with a lower-case letter,
/// so it cannot be a header.
fn json_message_may_be_header(json: &[u8]) -> bool {
    let Some(at) = memchr::memmem::find(json, b"\"message\"") else {
        return false;
    };
    let mut rest = json[at + 9..]
        .iter()
        .skip_while(|b| b.is_ascii_whitespace());
    if rest.next() != Some(&b':') {
        return true;
    }
    let mut rest = rest.skip_while(|b| b.is_ascii_whitespace());
    if rest.next() != Some(&b'"') {
        return false;
    }
    matches!(
        rest.find(|b| !matches!(b, b' ' | b'\t')),
        Some(b'a'..=b'z' | b'\\')
    )
}

fn starts_with_brace(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

/// Removes a `#` comment tail: from a `#` that starts a word to the end of the line (the AWS
/// documentation annotates records this way; no field value starts with `#`).
pub(crate) fn cut_comment(text: &str) -> &str {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memchr(b'#', &bytes[from..]) {
        let at = from + i;
        if at == 0 || bytes[at - 1].is_ascii_whitespace() {
            return &text[..at];
        }
        from = at + 1;
    }
    text
}

enum Json {
    Message(String),
    Fields(serde_json::Map<String, serde_json::Value>),
}

/// Unwraps a JSON line: `{"message": "…"}` (CloudWatch Logs, Firehose) or an object of fields
/// (`{"version": 2, "account_id": "…", …}`).
fn read_json(text: &str) -> Result<Json, Problem> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| json_error(&e, 0))?;
    json_object(value)
}

/// What a JSON line holds: one record, or (for envelopes and several objects) a list.
enum JsonLine {
    One(Json),
    Events(Vec<Item>),
}

/// True for a CloudWatch Logs subscription envelope (`messageType`, `logEvents`).
fn is_envelope(value: &serde_json::Value) -> bool {
    value
        .as_object()
        .is_some_and(|o| o.contains_key("logEvents") || o.contains_key("messageType"))
}

/// Reads a JSON line: one object as [`read_json`], or CloudWatch Logs subscription envelopes
/// and several values one after the other ([`JsonValues`]), each log event an item.
fn read_json_line(text: &str) -> Result<JsonLine, Problem> {
    let mut values = JsonValues::new(text.as_bytes());
    let Some(first) = values.next() else {
        return Err(Problem::JsonShape);
    };
    if values.next().is_none() {
        let value: serde_json::Value =
            serde_json::from_str(&text[first.clone()]).map_err(|e| json_error(&e, first.start))?;
        let dups = Duplicates::of(&text[first]);
        if !is_envelope(&value) {
            if let Some(key) = dups.top {
                return Err(Problem::DuplicateKey(key));
            }
            return json_object(value).map(JsonLine::One);
        }
        // One envelope: its events, without reading the line again.
        let mut items = Vec::new();
        expand(value, &dups, &mut items);
        return Ok(JsonLine::Events(items));
    }
    Ok(JsonLine::Events(json_items(text, 0)))
}

/// The items of a line (or a piece of a line, `offset` bytes into it) of JSON values one
/// after the other: each value is read on its own, so a value that cannot be read is one bad
/// item and reading goes on with the next.
fn json_items(text: &str, offset: usize) -> Vec<Item> {
    let mut items = Vec::new();
    for range in JsonValues::new(text.as_bytes()) {
        let start = range.start;
        match serde_json::from_str(&text[range.clone()]) {
            Ok(value) => expand(value, &Duplicates::of(&text[range]), &mut items),
            Err(e) => items.push(Item::Bad(json_error(&e, offset + start))),
        }
    }
    items
}

/// The items of a piece of a long line of JSON values that the chunk reader cut between values
/// (see [`Piece`](super::Piece)), `offset` bytes into the line: the same items as the whole
/// line would give from there.
pub(crate) fn piece_items(raw: &[u8], offset: usize) -> Vec<Item> {
    match std::str::from_utf8(raw) {
        Ok(text) => json_items(text.strip_suffix('\r').unwrap_or(text), offset),
        Err(_) => json_items_bytes(raw.strip_suffix(b"\r").unwrap_or(raw), offset),
    }
}

/// [`json_items`] of bytes that are not all UTF-8: a value that is not is one bad item.
fn json_items_bytes(raw: &[u8], offset: usize) -> Vec<Item> {
    let mut items = Vec::new();
    for range in JsonValues::new(raw) {
        let start = range.start;
        match std::str::from_utf8(&raw[range]) {
            Ok(text) => items.extend(json_items(text, offset + start)),
            Err(_) => items.push(Item::Bad(Problem::NotUtf8)),
        }
    }
    items
}

/// How many items [`piece_items`] gives for a piece, without building them: the reader counts
/// the log events of each piece it cuts, to number the next piece's. The same answer (a test
/// checks), for a fraction of the work.
pub(crate) fn count_piece_items(raw: &[u8]) -> usize {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    JsonValues::new(raw)
        .map(|range| {
            let Ok(text) = std::str::from_utf8(&raw[range]) else {
                // Not UTF-8: one bad item.
                return 1;
            };
            match serde_json::from_str::<Shape>(text) {
                Ok(Shape::Object(items)) => items,
                // Another value is one bad item, as is one that cannot be read.
                Ok(_) | Err(_) => 1,
            }
        })
        .sum()
}

/// What counting items needs of a JSON value (its contents are skipped, not kept).
enum Shape {
    /// An object, and how many items [`expand`] makes of it.
    Object(usize),
    /// An array of this length.
    Array(usize),
    /// A string: whether it is `CONTROL_MESSAGE`.
    Str { control: bool },
    /// Anything else.
    Other,
}

impl<'de> serde::Deserialize<'de> for Shape {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Shape;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Shape, A::Error> {
                // As `expand` reads the object (a repeated key: one bad item).
                let mut log_events = None;
                let mut message_type = None;
                let mut keys = std::collections::HashSet::new();
                let mut repeated = false;
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    repeated |= !keys.insert(key.clone().into_owned());
                    match &*key {
                        "logEvents" => log_events = Some(map.next_value::<Shape>()?),
                        "messageType" => message_type = Some(map.next_value::<Shape>()?),
                        _ => {
                            map.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(Shape::Object(match (log_events, message_type) {
                    _ if repeated => 1,
                    (_, Some(Shape::Str { control: true })) => 0,
                    (Some(Shape::Array(events)), _) => events,
                    (Some(_), _) => 1,
                    (None, _) => 1,
                }))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Shape, A::Error> {
                let mut n = 0;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    n += 1;
                }
                Ok(Shape::Array(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<Shape, E> {
                Ok(Shape::Str {
                    control: s == "CONTROL_MESSAGE",
                })
            }
            fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
                Ok(Shape::Other)
            }
            fn visit_unit<E>(self) -> Result<Shape, E> {
                Ok(Shape::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON error, its column counted from the start of the line (`offset`: where the value read
/// starts in it).
pub(super) fn json_error(e: &serde_json::Error, offset: usize) -> Problem {
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(at) if e.line() == 1 => {
            format!("{} at line 1 column {}", &text[..at], offset + e.column())
        }
        _ => text,
    };
    Problem::Json(lower_first(&text))
}

/// The byte ranges of the JSON values of a line, one after the other, found by their
/// structure alone (brackets and strings, not yet checked as JSON): an object or array ends at
/// its closing bracket, a string at its closing quote, anything else before white space or
/// the next bracket or quote. The last range runs to the end of the line when the line ends
/// inside a value.
pub(crate) struct JsonValues<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> JsonValues<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> JsonValues<'a> {
        JsonValues { bytes, pos: 0 }
    }

    /// Where the value starting at `start` ends, and whether it is closed (for objects,
    /// arrays and strings) before the end of the bytes.
    pub(super) fn value_end(&self, start: usize) -> (usize, bool) {
        let b = self.bytes;
        match b.get(start) {
            Some(b'{' | b'[') => {
                // The open brackets, innermost last. A closing bracket of the other kind ends
                // the value there (it is broken: one bad value), so that an unclosed `[` does
                // not swallow the values after it.
                let mut open: Vec<u8> = Vec::new();
                let mut i = start;
                while let Some(&c) = b.get(i) {
                    match c {
                        b'"' => match string_end(b, i + 1) {
                            Some(end) => i = end,
                            None => return (b.len(), false),
                        },
                        b'{' | b'[' => {
                            open.push(c);
                            i += 1;
                        }
                        b'}' | b']' => {
                            let opener = if c == b'}' { b'{' } else { b'[' };
                            i += 1;
                            if open.pop() != Some(opener) || open.is_empty() {
                                return (i, true);
                            }
                        }
                        _ => i += 1,
                    }
                }
                (b.len(), false)
            }
            Some(b'"') => string_end(b, start + 1).map_or((b.len(), false), |end| (end, true)),
            _ => {
                let len = b[start..]
                    .iter()
                    .position(|&c| is_json_space(c) || matches!(c, b'{' | b'[' | b'"'))
                    .unwrap_or(b.len() - start);
                (start + len.max(1), true)
            }
        }
    }

    /// Where the next value ends, if it is closed: the end of the last whole value when
    /// `self` is over bytes read so far.
    pub(crate) fn last_closed_end(mut self) -> Option<usize> {
        let mut last = None;
        while self.skip_space() {
            let (end, closed) = self.value_end(self.pos);
            if !closed || end >= self.bytes.len() {
                // Open, or maybe not over (a number or word the next bytes may go on with).
                break;
            }
            last = Some(end);
            self.pos = end;
        }
        last
    }

    /// Moves past white space; false at the end.
    fn skip_space(&mut self) -> bool {
        while self.bytes.get(self.pos).is_some_and(|&c| is_json_space(c)) {
            self.pos += 1;
        }
        self.pos < self.bytes.len()
    }
}

impl Iterator for JsonValues<'_> {
    type Item = std::ops::Range<usize>;

    fn next(&mut self) -> Option<std::ops::Range<usize>> {
        if !self.skip_space() {
            return None;
        }
        let start = self.pos;
        let (mut end, closed) = self.value_end(start);
        if !closed {
            // Open to the end of the line: a broken envelope. Read on from the next one
            // (Firehose writes them back to back), so that one bad envelope is one bad value.
            if let Some(next) = memchr::memmem::find(&self.bytes[start + 1..end], ENVELOPE_START) {
                end = start + 1 + next;
            }
        }
        self.pos = end;
        Some(start..self.pos)
    }
}

/// How a CloudWatch Logs subscription envelope starts, as Firehose writes them.
const ENVELOPE_START: &[u8] = b"{\"messageType\"";

/// JSON white space.
pub(super) fn is_json_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Where the JSON string whose content starts at `i` ends (after its closing quote).
pub(super) fn string_end(b: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i += memchr::memchr2(b'"', b'\\', b.get(i..)?)?;
        if b.get(i) == Some(&b'"') {
            return Some(i + 1);
        }
        // A backslash escapes the next byte.
        i += 2;
    }
}

/// The items of one object of a multi-record line: the log events of an envelope (none for a
/// control message), or the object itself. `dups` are its repeated keys: a repeated key in the
/// object makes it one bad item, in a log event that event.
fn expand(value: serde_json::Value, dups: &Duplicates, items: &mut Vec<Item>) {
    let serde_json::Value::Object(mut object) = value else {
        items.push(Item::Bad(Problem::JsonShape));
        return;
    };
    if let Some(key) = &dups.top {
        items.push(Item::Bad(Problem::DuplicateKey(key.clone())));
        return;
    }
    if object.get("messageType").and_then(|t| t.as_str()) == Some("CONTROL_MESSAGE") {
        // CloudWatch checking that the destination is reachable (its one log event says
        // `CWL CONTROL MESSAGE: Checking health of destination …`): no records.
        return;
    }
    if let Some(events) = object.remove("logEvents") {
        let serde_json::Value::Array(events) = events else {
            items.push(Item::Bad(Problem::NoLogEvents));
            return;
        };
        for (k, event) in events.into_iter().enumerate() {
            if let Some((_, key)) = dups.events.iter().find(|(i, _)| *i == k) {
                items.push(Item::Bad(Problem::DuplicateKey(key.clone())));
                continue;
            }
            items.push(match event {
                serde_json::Value::Object(mut e) => match e.remove("message") {
                    Some(serde_json::Value::String(m)) => Item::Message(m),
                    _ => Item::Bad(Problem::JsonShape),
                },
                _ => Item::Bad(Problem::JsonShape),
            });
        }
        return;
    }
    if object.contains_key("messageType") {
        items.push(Item::Bad(Problem::NoLogEvents));
        return;
    }
    items.push(match json_object(serde_json::Value::Object(object)) {
        Ok(Json::Message(m)) => Item::Message(m),
        Ok(Json::Fields(f)) => Item::Fields(f),
        Err(p) => Item::Bad(p),
    });
}

/// The repeated keys of a JSON value: of the object itself, and of each of its log events.
#[derive(Debug, Default)]
pub(super) struct Duplicates {
    /// A key the object has twice.
    pub(super) top: Option<String>,
    /// Log events (0-based) with a key twice, and the key.
    events: Vec<(usize, String)>,
}

impl Duplicates {
    /// The repeated keys of `text`, a JSON value (nothing when it is not valid JSON: reading
    /// it reports that).
    pub(super) fn of(text: &str) -> Duplicates {
        serde_json::from_str::<Duplicates>(text).unwrap_or_default()
    }
}

/// Reads a map's keys, skipping values, and gives the first key seen twice.
fn first_repeated<'de, A: serde::de::MapAccess<'de>>(
    map: &mut A,
    mut on: impl FnMut(&str, &mut A) -> Result<bool, A::Error>,
) -> Result<Option<String>, A::Error> {
    let mut keys = std::collections::HashSet::new();
    let mut repeated = None;
    while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
        if !keys.insert(key.clone().into_owned()) && repeated.is_none() {
            repeated = Some(key.into_owned());
            map.next_value::<serde::de::IgnoredAny>()?;
            continue;
        }
        if !on(&key, map)? {
            map.next_value::<serde::de::IgnoredAny>()?;
        }
    }
    Ok(repeated)
}

impl<'de> serde::Deserialize<'de> for Duplicates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        /// The repeated key of one log event, if it is an object.
        struct Event(Option<String>);
        impl<'de> serde::Deserialize<'de> for Event {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Event;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a JSON value")
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Event, A::Error> {
                        first_repeated(&mut map, |_, _| Ok(false)).map(Event)
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(
                        self,
                        mut seq: A,
                    ) -> Result<Event, A::Error> {
                        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                        Ok(Event(None))
                    }
                    fn visit_str<E>(self, _: &str) -> Result<Event, E> {
                        Ok(Event(None))
                    }
                    fn visit_bool<E>(self, _: bool) -> Result<Event, E> {
                        Ok(Event(None))
                    }
                    fn visit_i64<E>(self, _: i64) -> Result<Event, E> {
                        Ok(Event(None))
                    }
                    fn visit_u64<E>(self, _: u64) -> Result<Event, E> {
                        Ok(Event(None))
                    }
                    fn visit_f64<E>(self, _: f64) -> Result<Event, E> {
                        Ok(Event(None))
                    }
                    fn visit_unit<E>(self) -> Result<Event, E> {
                        Ok(Event(None))
                    }
                }
                d.deserialize_any(V)
            }
        }
        /// The repeated keys of the log events of a `logEvents` array.
        struct Events(Vec<(usize, String)>);
        impl<'de> serde::Deserialize<'de> for Events {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = Events;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a JSON value")
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(
                        self,
                        mut seq: A,
                    ) -> Result<Events, A::Error> {
                        let mut out = Vec::new();
                        let mut k = 0;
                        while let Some(Event(e)) = seq.next_element::<Event>()? {
                            if let Some(key) = e {
                                out.push((k, key));
                            }
                            k += 1;
                        }
                        Ok(Events(out))
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<Events, A::Error> {
                        while map
                            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                            .is_some()
                        {}
                        Ok(Events(Vec::new()))
                    }
                    fn visit_str<E>(self, _: &str) -> Result<Events, E> {
                        Ok(Events(Vec::new()))
                    }
                    fn visit_bool<E>(self, _: bool) -> Result<Events, E> {
                        Ok(Events(Vec::new()))
                    }
                    fn visit_i64<E>(self, _: i64) -> Result<Events, E> {
                        Ok(Events(Vec::new()))
                    }
                    fn visit_u64<E>(self, _: u64) -> Result<Events, E> {
                        Ok(Events(Vec::new()))
                    }
                    fn visit_f64<E>(self, _: f64) -> Result<Events, E> {
                        Ok(Events(Vec::new()))
                    }
                    fn visit_unit<E>(self) -> Result<Events, E> {
                        Ok(Events(Vec::new()))
                    }
                }
                d.deserialize_any(V)
            }
        }
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Duplicates;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Duplicates, A::Error> {
                let mut events = Vec::new();
                let top = first_repeated(&mut map, |key, map| {
                    if key == "logEvents" {
                        // The last `logEvents` counts, as for the value read.
                        events = map.next_value::<Events>()?.0;
                        return Ok(true);
                    }
                    Ok(false)
                })?;
                Ok(Duplicates { top, events })
            }
        }
        d.deserialize_map(V)
    }
}

/// A `{"message": "…"}` object or an object of fields.
fn json_object(value: serde_json::Value) -> Result<Json, Problem> {
    let serde_json::Value::Object(mut object) = value else {
        return Err(Problem::JsonShape);
    };
    match object.remove("message") {
        Some(serde_json::Value::String(message)) => return Ok(Json::Message(message)),
        Some(_) => return Err(Problem::JsonShape),
        None => {}
    }
    let has_field = object
        .keys()
        .any(|k| Field::from_name(&k.replace('_', "-")).is_some());
    if has_field {
        Ok(Json::Fields(object))
    } else {
        Err(Problem::JsonShape)
    }
}

/// The message with its first letter in lower case, to follow a colon.
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        // An acronym (`EOF`) stays as it is.
        Some(_) if s.chars().nth(1).is_some_and(char::is_uppercase) => s.to_string(),
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A record from a JSON object of fields; numbers may be written as `6.0`, `null` is absent.
pub(crate) fn record_from_json(
    fields: &serde_json::Map<String, serde_json::Value>,
    line: u64,
) -> Result<FlowRecord, Problem> {
    let mut record = FlowRecord {
        line,
        ..FlowRecord::default()
    };
    for (key, value) in fields {
        let name = key.replace('_', "-");
        let slot = match Field::from_name(&name) {
            Some(f) => Slot::Known(f),
            None => Slot::Unknown(name.into()),
        };
        let text = match value {
            serde_json::Value::Null => "-".to_owned(),
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => match (n.as_u64(), n.as_f64()) {
                (Some(u), _) => u.to_string(),
                // `-0.0` is no port or count: only a number without a sign is read as one.
                (None, Some(f))
                    if f >= 0.0 && !f.is_sign_negative() && f.fract() == 0.0 && f < 1.8e19 =>
                {
                    (f as u64).to_string()
                }
                _ => n.to_string(),
            },
            // A list, an object or a boolean is no field value (not even as its JSON text).
            other => {
                return Err(Problem::Value {
                    field: key.clone(),
                    value: shorten(&other.to_string()),
                    expected: "a string or a number",
                })
            }
        };
        set_field(&mut record, &slot, text.trim()).map_err(|expected| Problem::Value {
            field: key.clone(),
            value: shorten(&text),
            expected,
        })?;
    }
    if let Some(problem) = inconsistency(&record) {
        return Err(problem);
    }
    Ok(record)
}

/// The latest `start` or `end` a record may hold: the end of year 9999, in seconds. Later is
/// no time (a value in milliseconds, or a corrupted one), and cannot be compared with a
/// snapshot's time.
pub(crate) const MAX_TIME: u64 = 253_402_300_799;

/// What makes a record whose every value is valid on its own impossible as a whole: `start`
/// after `end`.
///
/// A source and a destination of different address families are not refused here: Elastic's
/// own VPC flow-log samples (the conformance data of `tests/flow_log_conformance.rs`) hold such
/// records and expect them read.
pub(crate) fn inconsistency(record: &FlowRecord) -> Option<Problem> {
    inconsistent(record.start, record.end)
}

/// [`inconsistency`] from the fields alone (the fast scanner has no [`FlowRecord`]).
pub(crate) fn inconsistent(start: Option<u64>, end: Option<u64>) -> Option<Problem> {
    match (start, end) {
        (Some(start), Some(end)) if start > end => Some(Problem::StartAfterEnd { start, end }),
        _ => None,
    }
}

/// Parses the text of record lines, keeping its scratch space from line to line.
#[derive(Default)]
pub(crate) struct LineParser {
    /// Byte ranges of the words of the current line.
    words: Vec<(usize, usize)>,
}

impl LineParser {
    /// Parses one record; on error, the 1-based column (if any) and the problem.
    pub(crate) fn parse_text(
        &mut self,
        text: &str,
        format: &Format,
        line: u64,
    ) -> Result<FlowRecord, (Option<usize>, Problem)> {
        if let FormatOrigin::InvalidHeader { line: header } = format.origin() {
            return Err((None, Problem::AfterInvalidHeader { header }));
        }
        self.split_words(text);
        let slots = format.slots();
        if self.words.len() != slots.len() {
            let column = match self.words.get(slots.len()) {
                Some(&(start, _)) => column_of(text, start),
                None => column_of(text, text.trim_end().len()),
            };
            return Err((
                Some(column),
                Problem::FieldCount {
                    expected: slots.len(),
                    found: self.words.len(),
                    origin: format.origin(),
                    format: format.abbreviated(),
                },
            ));
        }
        let mut record = FlowRecord {
            line,
            ..FlowRecord::default()
        };
        for (slot, &(start, end)) in slots.iter().zip(&self.words) {
            let word = &text[start..end];
            if let Err(expected) = set_field(&mut record, slot, word) {
                return Err((
                    Some(column_of(text, start)),
                    Problem::Value {
                        field: slot.name().to_owned(),
                        value: shorten(word),
                        expected,
                    },
                ));
            }
        }
        if let Some(problem) = inconsistency(&record) {
            return Err((None, problem));
        }
        Ok(record)
    }

    /// Splits on runs of ASCII white space (AWS's own examples have double spaces).
    fn split_words(&mut self, text: &str) {
        self.words.clear();
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let start = i;
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i > start {
                self.words.push((start, i));
            }
        }
    }
}

fn column_of(text: &str, byte: usize) -> usize {
    text.get(..byte).map_or(byte, |s| s.chars().count()) + 1
}

/// A value as an error message quotes it: at most 40 characters, control characters (a log
/// line may hold terminal escapes) shown as `?`.
fn shorten(value: &str) -> String {
    const MAX: usize = 40;
    let printable = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if crate::render::is_unsafe_char(c) {
                    '?'
                } else {
                    c
                }
            })
            .collect()
    };
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", printable(&value[..cut])),
        None => printable(value),
    }
}

/// Stores `word` in the field `slot` names; `-` is absent. On error, what the field takes.
fn set_field(record: &mut FlowRecord, slot: &Slot, word: &str) -> Result<(), &'static str> {
    let field = match slot {
        Slot::Known(f) => *f,
        Slot::Unknown(name) => {
            let value = (word != "-").then(|| Text::from(word));
            record.extra.push((Arc::clone(name), value));
            return Ok(());
        }
    };
    if word == "-" {
        return Ok(());
    }
    const PORT: &str = "a port number from 0 to 65535";
    const COUNT: &str = "a whole number";
    const TIME: &str = "a time in seconds since 1970, up to the end of year 9999";
    const ADDR: &str = "an IPv4 or IPv6 address";
    let text = || Some(Text::from(word));
    match field {
        Field::Version => record.version = Some(number(word).ok_or("a version number")?),
        Field::AccountId => record.account_id = text(),
        Field::InterfaceId => record.interface_id = text(),
        Field::Srcaddr => record.srcaddr = Some(address(word).ok_or(ADDR)?),
        Field::Dstaddr => record.dstaddr = Some(address(word).ok_or(ADDR)?),
        Field::Srcport => record.srcport = Some(number(word).ok_or(PORT)?),
        Field::Dstport => record.dstport = Some(number(word).ok_or(PORT)?),
        Field::Protocol => {
            record.protocol = Some(number(word).ok_or("a protocol number from 0 to 255")?)
        }
        Field::Packets => record.packets = Some(number(word).ok_or(COUNT)?),
        Field::Bytes => record.bytes = Some(number(word).ok_or(COUNT)?),
        Field::Start => record.start = Some(time(word).ok_or(TIME)?),
        Field::End => record.end = Some(time(word).ok_or(TIME)?),
        Field::Action => {
            record.action = Some(match word {
                "ACCEPT" => Action::Accept,
                "REJECT" => Action::Reject,
                _ => return Err("`ACCEPT` or `REJECT`"),
            })
        }
        Field::LogStatus => {
            record.log_status = Some(match word {
                "OK" => LogStatus::Ok,
                "NODATA" => LogStatus::NoData,
                "SKIPDATA" => LogStatus::SkipData,
                _ => return Err("`OK`, `NODATA` or `SKIPDATA`"),
            })
        }
        Field::VpcId => record.vpc_id = text(),
        Field::SubnetId => record.subnet_id = text(),
        Field::InstanceId => record.instance_id = text(),
        Field::TcpFlags => {
            record.tcp_flags = Some(number(word).ok_or("TCP flags as a number from 0 to 65535")?)
        }
        Field::Type => record.r#type = text(),
        Field::PktSrcaddr => record.pkt_srcaddr = Some(address(word).ok_or(ADDR)?),
        Field::PktDstaddr => record.pkt_dstaddr = Some(address(word).ok_or(ADDR)?),
        Field::Region => record.region = text(),
        Field::AzId => record.az_id = text(),
        Field::SublocationType => record.sublocation_type = text(),
        Field::SublocationId => record.sublocation_id = text(),
        Field::PktSrcAwsService => record.pkt_src_aws_service = text(),
        Field::PktDstAwsService => record.pkt_dst_aws_service = text(),
        Field::FlowDirection => {
            record.flow_direction = Some(match word {
                "ingress" => FlowDirection::Ingress,
                "egress" => FlowDirection::Egress,
                _ => return Err("`ingress` or `egress`"),
            })
        }
        Field::TrafficPath => {
            record.traffic_path = Some(number(word).ok_or("a traffic path number from 1 to 8")?)
        }
        Field::EcsClusterArn => record.ecs_mut().cluster_arn = text(),
        Field::EcsClusterName => record.ecs_mut().cluster_name = text(),
        Field::EcsContainerInstanceArn => record.ecs_mut().container_instance_arn = text(),
        Field::EcsContainerInstanceId => record.ecs_mut().container_instance_id = text(),
        Field::EcsContainerId => record.ecs_mut().container_id = text(),
        Field::EcsSecondContainerId => record.ecs_mut().second_container_id = text(),
        Field::EcsServiceName => record.ecs_mut().service_name = text(),
        Field::EcsTaskDefinitionArn => record.ecs_mut().task_definition_arn = text(),
        Field::EcsTaskArn => record.ecs_mut().task_arn = text(),
        Field::EcsTaskId => record.ecs_mut().task_id = text(),
        Field::RejectReason => record.reject_reason = text(),
    }
    Ok(())
}

/// A decimal number that fits `T`: digits only, no sign.
/// A `start` or `end`: seconds since 1970, up to [`MAX_TIME`].
fn time(word: &str) -> Option<u64> {
    number::<u64>(word).filter(|&t| t <= MAX_TIME)
}

fn number<T: TryFrom<u64>>(word: &str) -> Option<T> {
    T::try_from(decimal(word.as_bytes())?).ok()
}

/// A decimal number: digits only, no sign, at most 20 digits, fits `u64`.
#[inline]
pub(crate) fn decimal(word: &[u8]) -> Option<u64> {
    if word.is_empty() || word.len() > 20 {
        return None;
    }
    if word.len() < 20 {
        // At most 19 digits cannot overflow.
        let mut n: u64 = 0;
        for &b in word {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            n = n.wrapping_mul(10).wrapping_add(u64::from(digit));
        }
        return Some(n);
    }
    let mut n: u64 = 0;
    for &b in word {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(n)
}

fn address(word: &str) -> Option<IpAddr> {
    word.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<&str> {
        JsonValues::new(text.as_bytes()).map(|r| &text[r]).collect()
    }

    #[test]
    fn json_values_are_found_by_their_structure() {
        assert_eq!(values(""), Vec::<&str>::new());
        assert_eq!(values(" \t "), Vec::<&str>::new());
        assert_eq!(
            values(r#"{"a":"}{\"["}  [1,{"b":[]}]"x\"}" 12 true{"c":1}"#),
            [
                r#"{"a":"}{\"["}"#,
                r#"[1,{"b":[]}]"#,
                r#""x\"}""#,
                "12",
                "true",
                r#"{"c":1}"#
            ]
        );
        // A value the line ends in runs to the end.
        assert_eq!(values(r#"{"a":1} {"b":"}"#), [r#"{"a":1}"#, r#"{"b":"}"#]);
        assert_eq!(values(r#"{"a":[1,2"#), [r#"{"a":[1,2"#]);
        // Where a reader may cut bytes read so far: after the last closed value, and not
        // after a number or word that may go on.
        let cut = |t: &str| JsonValues::new(t.as_bytes()).last_closed_end();
        assert_eq!(cut(r#"{"a":1}{"b":2} {"c""#), Some(14));
        assert_eq!(cut(r#"{"a":1}{"b":2}"#), Some(7));
        assert_eq!(cut(r#"{"a":1} 12"#), Some(7));
        assert_eq!(cut(r#"{"a":"#), None);
        // A bracket of the wrong kind ends a broken value there; an envelope open to the end
        // of the line ends where the next envelope starts.
        assert_eq!(
            values(r#"{"logEvents":[{"message":"x"}}{"c":1}"#),
            [r#"{"logEvents":[{"message":"x"}}"#, r#"{"c":1}"#]
        );
        assert_eq!(
            values(r#"{"messageType":"A","logEvents":[{"message":"x"}{"messageType":"B"}"#),
            [
                r#"{"messageType":"A","logEvents":[{"message":"x"}"#,
                r#"{"messageType":"B"}"#
            ]
        );
    }

    #[test]
    fn a_bad_value_among_several_is_one_bad_event_placed_in_its_line() {
        let line = r#"{"message":"a"} {"b" 2} {"message":"c"}"#;
        let Ok(JsonLine::Events(items)) = read_json_line(line) else {
            panic!("expected events");
        };
        let kinds: Vec<String> = items
            .iter()
            .map(|i| match i {
                Item::Message(m) => m.clone(),
                Item::Fields(_) => "fields".into(),
                Item::Bad(p) => p.to_string(),
            })
            .collect();
        assert_eq!(
            kinds,
            ["a", "invalid JSON: expected `:` at line 1 column 22", "c"]
        );
        // The same value alone on its line: the line is bad, as serde_json places it.
        let line = r#"  {"b" 2}"#;
        let err = serde_json::from_str::<serde_json::Value>(line).unwrap_err();
        assert!(matches!(
            read_json_line(line),
            Err(Problem::Json(m)) if m == lower_first(&err.to_string())
        ));
    }

    proptest::proptest! {
        /// The reader's count of a piece's log events is what reading it gives, whatever the
        /// values: envelopes, control messages, repeated keys, other values, broken JSON.
        #[test]
        fn counting_items_agrees_with_reading_them(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Strategy::prop_map(0..4usize, |n| format!(
                        r#"{{"messageType":"DATA_MESSAGE","logEvents":[{}]}}"#,
                        vec![r#"{"message":"x"}"#; n].join(",")
                    )),
                    proptest::strategy::Just(r#"{"messageType":"CONTROL_MESSAGE","logEvents":[]}"#.to_string()),
                    proptest::strategy::Just(r#"{"messageType":"CONTROL_MESSAGE"}"#.to_string()),
                    proptest::strategy::Just(r#"{"messageType":"DATA_MESSAGE"}"#.to_string()),
                    proptest::strategy::Just(r#"{"messageType":7,"logEvents":{"a":[1]}}"#.to_string()),
                    proptest::strategy::Just(r#"{"logEvents":[1,2],"logEvents":"x"}"#.to_string()),
                    proptest::strategy::Just(r#"{"log\u0045vents":[1,2,3]}"#.to_string()),
                    proptest::strategy::Just(r#"{"message":"2 1 eni-1 - - - - - - - 1 2 - NODATA"}"#.to_string()),
                    proptest::strategy::Just("[1,[2]] null 1e999 \"s\"".to_string()),
                    "[{}\\[\\]\":,a-z0-9 ]{0,12}",
                ],
                0..8,
            )
        ) {
            let text = parts.concat();
            proptest::prop_assert_eq!(count_piece_items(text.as_bytes()), piece_items(text.as_bytes(), 0).len(), "{}", text);
        }

        /// Serialized values one after the other, with or without white space between them,
        /// are found again one by one.
        #[test]
        fn json_values_split_serialized_values(
            parts in proptest::collection::vec(
                ("[a-z{}\\[\\]\"\\\\ ]{0,8}", 0..1000i32, "[ \t]{0,2}"),
                0..8,
            )
        ) {
            let mut text = String::new();
            let mut want = Vec::new();
            for (i, (s, n, space)) in parts.iter().enumerate() {
                let value = match i % 3 {
                    0 => serde_json::json!({ "k": s, "n": [n, {"s": s}] }),
                    1 => serde_json::json!([s, n]),
                    _ => serde_json::json!(s),
                };
                let json = value.to_string();
                text += &json;
                text += space;
                want.push(json);
            }
            proptest::prop_assert_eq!(values(&text), want);
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(number::<u16>("65535"), Some(65535));
        assert_eq!(number::<u16>("65536"), None);
        assert_eq!(number::<u64>("18446744073709551615"), Some(u64::MAX));
        assert_eq!(number::<u64>("18446744073709551616"), None);
        assert_eq!(number::<u8>("+1"), None);
        assert_eq!(number::<u8>(""), None);
        assert_eq!(number::<u8>("1.0"), None);
    }

    proptest::proptest! {
        #[test]
        fn decimal_reads_as_the_standard_library(word in "[0-9]{0,21}|[0-9/:a+]{1,21}") {
            let std = if word.bytes().all(|b| b.is_ascii_digit()) && word.len() <= 20 {
                word.parse::<u64>().ok()
            } else {
                None
            };
            proptest::prop_assert_eq!(decimal(word.as_bytes()), std);
        }
    }

    #[test]
    fn comment_tails() {
        assert_eq!(cut_comment("a b #c d"), "a b ");
        assert_eq!(cut_comment("#all"), "");
        assert_eq!(cut_comment("a#b c"), "a#b c");
        assert_eq!(cut_comment("a#b\t#c"), "a#b\t");
    }

    #[test]
    fn json_header_peek_agrees_with_reading() {
        for (line, header) in [
            (r#"{"message": "version srcaddr"}"#, true),
            (r#"{"message":"2 123 eni-1"}"#, false),
            (r#"{"message" : "  interface-id srcaddr"}"#, true),
            (r#"{"message": "\u0076ersion srcaddr"}"#, true),
            (r#"{"version": 2}"#, false),
        ] {
            assert_eq!(
                header_on_line(line.as_bytes(), 1).is_some(),
                header,
                "{line}"
            );
        }
    }

    #[test]
    fn shortened_values() {
        let long = "x".repeat(100);
        assert_eq!(shorten(&long).chars().count(), 41);
        assert_eq!(shorten("abc"), "abc");
        assert_eq!(shorten("\u{1b}[31mx\u{7}"), "?[31mx?");
    }
}
