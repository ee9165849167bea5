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
use super::line::{
    item_record, read_line, record_from_json, Item, Line, LineParser, Malformed, Problem,
};
use super::record::{Action, FlowDirection, FlowRecord, LogStatus};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// The fields of one record that explaining reads, borrowed from its line (or its parsed
/// record). Absent fields and `-` are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lite<'a> {
    /// 1-based line number.
    pub line: u64,
    /// `interface-id`.
    pub interface_id: Option<&'a str>,
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
}

impl<'a> Lite<'a> {
    /// The fields of a parsed record.
    pub fn of(r: &'a FlowRecord) -> Lite<'a> {
        Lite {
            line: r.line,
            interface_id: r.interface_id.as_deref(),
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
    /// The record's position among the line's log events (0 for a line of one record).
    event: usize,
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
                | Field::PktDstaddr => Kind::Field(*f),
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
        }
    }

    /// Hands every record line and malformed line to `each` in line order, with where it is;
    /// returns the counts, equal to [`parse_chunk`](super::parse_chunk)'s for the chunk.
    pub fn scan(&mut self, mut each: impl FnMut(Scanned<'_>, LineAt)) -> Counts {
        let mut counts = Counts::default();
        let chunk: &'c Chunk = self.chunk;
        let data = &chunk.data[..];
        let mut start = 0;
        let mut line = self.chunk.first_line;
        while start < data.len() {
            let end = memchr::memchr(b'\n', &data[start..]).map_or(data.len(), |i| start + i);
            let at = LineAt {
                start,
                end,
                line,
                format: self.formats.len() - 1,
                event: 0,
            };
            let raw = &data[start..end];
            start = end + 1;
            line += 1;
            let kinds = &self.plans[at.format];
            if let Some(lite) = fast(raw, kinds, at.line) {
                counts.read += 1;
                count_status(&mut counts, lite.log_status);
                each(Scanned::Record(lite), at);
                continue;
            }
            let format = &self.formats[at.format];
            match read_line(raw, at.line) {
                Line::Nothing => {}
                Line::Header(Ok(header)) => {
                    counts.headers += 1;
                    self.plans.push(plan(&header));
                    self.formats.push(header);
                }
                Line::Events(items) => {
                    // As the full parser orders them: the line's records, then its bad events.
                    let mut bad = Vec::new();
                    for (k, item) in items.into_iter().enumerate() {
                        counts.read += 1;
                        let at = LineAt { event: k, ..at };
                        match item_record(&mut self.parser, item, format, at.line, k + 1) {
                            Ok(record) => {
                                count_status(&mut counts, record.log_status);
                                each(Scanned::Record(Lite::of(&record)), at);
                            }
                            Err(problem) => {
                                counts.malformed += 1;
                                bad.push(event_error(&self.chunk.file, at.line, k, problem));
                            }
                        }
                    }
                    for m in bad {
                        each(Scanned::Malformed(m), at);
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

    /// The full record on a line that [`Scanner::scan`] handed out as a record.
    pub fn full(&mut self, at: LineAt) -> Result<FlowRecord, Malformed> {
        let raw = &self.chunk.data[at.start..at.end];
        let line = read_line(raw, at.line);
        if let Line::Events(items) = line {
            let format = &self.formats[at.format];
            let item = items
                .into_iter()
                .nth(at.event)
                .unwrap_or(Item::Bad(Problem::JsonShape));
            return item_record(&mut self.parser, item, format, at.line, at.event + 1)
                .map_err(|p| event_error(&self.chunk.file, at.line, at.event, p));
        }
        full_line(
            &mut self.parser,
            line,
            &self.formats[at.format],
            &self.chunk.file,
            at.line,
        )
    }
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

/// The record on a plain line, or `None` when the line needs the full parser (it may be
/// blank, a header, JSON, commented, not plain ASCII, or malformed).
fn fast<'a>(raw: &'a [u8], plan: &[Kind], line: u64) -> Option<Lite<'a>> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    // Only printable ASCII and spaces: no tabs or other white space, no UTF-8, no comment.
    let odd = raw.iter().fold(false, |acc, &b| {
        acc | !(b' '..=b'~').contains(&b) | (b == b'#')
    });
    if odd {
        return None;
    }
    let first = *raw.iter().find(|&&b| b != b' ')?;
    if first == b'{' {
        return None;
    }
    let mut lite = Lite {
        line,
        ..Lite::default()
    };
    let mut words = Words { raw, pos: 0 };
    if first.is_ascii_lowercase() {
        // Maybe a header: the full parser decides.
        let word = words.clone().next()?;
        if is_aws_field_name(std::str::from_utf8(word).ok()?) {
            return None;
        }
    }
    for kind in plan {
        let word = words.next()?;
        if word == b"-" {
            continue;
        }
        match *kind {
            Kind::Text => {}
            Kind::Number => {
                number(word)?;
            }
            Kind::Small => {
                u8::try_from(number(word)?).ok()?;
            }
            Kind::Field(f) => match f {
                Field::InterfaceId => lite.interface_id = Some(std::str::from_utf8(word).ok()?),
                Field::Srcaddr => lite.srcaddr = Some(address(word)?),
                Field::Dstaddr => lite.dstaddr = Some(address(word)?),
                Field::Srcport => lite.srcport = Some(u16::try_from(number(word)?).ok()?),
                Field::Dstport => lite.dstport = Some(u16::try_from(number(word)?).ok()?),
                Field::Protocol => lite.protocol = Some(u8::try_from(number(word)?).ok()?),
                Field::Start => lite.start = Some(number(word)?),
                Field::End => lite.end = Some(number(word)?),
                Field::TcpFlags => lite.tcp_flags = Some(u16::try_from(number(word)?).ok()?),
                Field::Action => {
                    lite.action = Some(match word {
                        b"ACCEPT" => Action::Accept,
                        b"REJECT" => Action::Reject,
                        _ => return None,
                    })
                }
                Field::LogStatus => {
                    lite.log_status = Some(match word {
                        b"OK" => LogStatus::Ok,
                        b"NODATA" => LogStatus::NoData,
                        b"SKIPDATA" => LogStatus::SkipData,
                        _ => return None,
                    })
                }
                Field::FlowDirection => {
                    lite.flow_direction = Some(match word {
                        b"ingress" => FlowDirection::Ingress,
                        b"egress" => FlowDirection::Egress,
                        _ => return None,
                    })
                }
                Field::PktSrcaddr => lite.pkt_srcaddr = Some(address(word)?),
                Field::PktDstaddr => lite.pkt_dstaddr = Some(address(word)?),
                _ => {}
            },
        }
    }
    if words.next().is_some() {
        return None;
    }
    Some(lite)
}

/// The words of a line of printable ASCII, split on runs of spaces.
#[derive(Clone, Copy)]
struct Words<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let raw = self.raw;
        let mut i = self.pos;
        while raw.get(i) == Some(&b' ') {
            i += 1;
        }
        if i >= raw.len() {
            self.pos = i;
            return None;
        }
        let start = i;
        // Eight bytes at a time: the first byte equal to a space is the lowest zero byte of
        // `w ^ 0x20…20` (the classic has-zero-byte test, exact for the lowest one).
        while let Some(chunk) = raw.get(i..).and_then(|r| r.first_chunk::<8>()) {
            let x = u64::from_le_bytes(*chunk) ^ 0x2020_2020_2020_2020;
            let zero = x.wrapping_sub(0x0101_0101_0101_0101) & !x & 0x8080_8080_8080_8080;
            if zero != 0 {
                i += (zero.trailing_zeros() / 8) as usize;
                self.pos = i;
                return raw.get(start..i);
            }
            i += 8;
        }
        while raw.get(i).is_some_and(|&b| b != b' ') {
            i += 1;
        }
        self.pos = i;
        raw.get(start..i)
    }
}

/// A decimal number, as the full parser reads it.
#[inline]
fn number(word: &[u8]) -> Option<u64> {
    super::line::decimal(word)
}

/// An address, as `str::parse::<IpAddr>` reads it; dotted IPv4 is read here, anything else
/// by the standard library. Inlined: returned through memory, the address cost a
/// store-forwarding stall per field (perf).
#[inline(always)]
fn address(word: &[u8]) -> Option<IpAddr> {
    match ipv4(word) {
        Some(v4) => Some(IpAddr::V4(v4)),
        None => other_address(word),
    }
}

/// An address that is not plain dotted IPv4, by the standard library.
#[cold]
#[inline(never)]
fn other_address(word: &[u8]) -> Option<IpAddr> {
    std::str::from_utf8(word).ok()?.parse().ok()
}

/// Dotted-decimal IPv4 without leading zeros (which the standard library refuses too); `None`
/// for anything else, which then goes to the standard parser.
#[inline(always)]
fn ipv4(word: &[u8]) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if word.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let begin = i;
        let mut n: u32 = 0;
        while let Some(&b) = word.get(i) {
            let d = b.wrapping_sub(b'0');
            if d > 9 || i - begin == 3 {
                break;
            }
            n = n * 10 + u32::from(d);
            i += 1;
        }
        let len = i - begin;
        if len == 0 || (len > 1 && word[begin] == b'0') || n > 255 {
            return None;
        }
        *octet = n as u8;
    }
    (i == word.len()).then_some(Ipv4Addr::from(octets))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow_log::parse_chunk;
    use proptest::prelude::*;

    fn both(text: &str, format: Format) {
        let chunk = Chunk {
            file: Arc::from(std::path::Path::new("x.log")),
            first_line: 7,
            format,
            data: text.as_bytes().to_vec(),
        };
        let parsed = parse_chunk(&chunk);
        let mut scanner = Scanner::new(&chunk);
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

    #[test]
    fn words_split_on_runs_of_spaces() {
        for text in [
            "",
            " ",
            "a",
            "  a  b ",
            "2 123456789010 eni-0a1b2c3d4e5f00001 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK",
            "abcdefgh abcdefghijklmnopq  x",
            "        12345678        ",
        ] {
            let ours: Vec<&[u8]> = Words { raw: text.as_bytes(), pos: 0 }.collect();
            let plain: Vec<&[u8]> = text.split(' ').filter(|w| !w.is_empty()).map(str::as_bytes).collect();
            assert_eq!(ours, plain, "{text:?}");
        }
    }

    proptest! {
        #[test]
        fn words_split_as_the_standard_library(text in "[ a-z0-9.!~-]{0,300}") {
            let ours: Vec<&[u8]> = Words { raw: text.as_bytes(), pos: 0 }.collect();
            let plain: Vec<&[u8]> = text.split(' ').filter(|w| !w.is_empty()).map(str::as_bytes).collect();
            prop_assert_eq!(ours, plain);
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
            assert_eq!(ipv4(s.as_bytes()), s.parse::<Ipv4Addr>().ok(), "{s:?}");
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
}
