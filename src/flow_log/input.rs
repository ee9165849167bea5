//! Where flow logs are read from: files, folders laid out as S3 writes them
//! (`AWSLogs/<account>/vpcflowlogs/<region>/yyyy/mm/dd/…`), gzip, and standard input; and the
//! reader that cuts them into [`Chunk`]s.

use super::chunk::{lines, Chunk, Dropped, Piece, PieceKind};
use super::envelope::{self, End, Expect, Skip, Verdict};
use super::format::Format;
use super::line::{header_on_line, JsonValues};
use super::parquet::Rows;
use flate2::read::MultiGzDecoder;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The default size of a chunk: large enough that handing it to a thread costs little, small
/// enough that memory stays flat.
pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;

/// The most a line (or one JSON value of a line of several, or one log event of a CloudWatch
/// Logs envelope) may hold: 16 MiB. A longer one is not kept: the reader skips it to the next
/// line end and it reads as one malformed line (a log event: one malformed event, and reading
/// goes on with the next), so memory stays bounded whatever a file holds (a line without a line
/// end, a gzip bomb). A longer CloudWatch Logs envelope is read event by event (see
/// [`ChunkReader`]).
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// The name standard input goes by in messages.
pub const STDIN_NAME: &str = "<stdin>";

/// An input that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Opening, listing or reading failed (missing file, no permission, corrupt gzip, …).
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        /// It is part of the message, not also the error's `source()`, so that a printed
        /// chain says it once.
        error: io::Error,
    },
    /// An entry of a folder that is not read (a FIFO, a link loop, …): a warning, not a failure;
    /// the other files are read.
    #[error(transparent)]
    Skipped(crate::walk::Skipped),
    /// A header line names a field that is no flow-log field (a misspelling such as
    /// `interfaceid`): a warning; its values are kept as text. Said once per name and reader.
    #[error("{}{}: {} `{name}` is not a flow-log field; its values are kept as text{}",
        path.display(),
        if *line == 0 { String::new() } else { format!(":{line}") },
        if *line == 0 { "Parquet column" } else { "header field" },
        suggestion.map(|f| format!(" (did you mean `{}`?)", f.name())).unwrap_or_default())]
    UnknownField {
        /// The file.
        path: PathBuf,
        /// The header's line number; 0 for a Parquet file's column.
        line: u64,
        /// The name, sanitized for a terminal.
        name: String,
        /// The closest flow-log field, when one is close.
        suggestion: Option<super::Field>,
    },
}

impl ReadError {
    /// True for what is worth a warning but reads on without a failure ([`ReadError::Skipped`]).
    pub fn is_warning(&self) -> bool {
        matches!(self, ReadError::Skipped(_) | ReadError::UnknownField { .. })
    }
}

/// Reads inputs one after the other and yields their content as [`Chunk`]s of whole lines, in
/// input order. Memory use is bounded by two chunks (plus the longest line): a chunk is handed
/// out once the next chunk of its file is read, with the lines around it in
/// [`Chunk::before`] and [`Chunk::after`] (at most [`NEAR_BYTES`] each).
///
/// Each path may be a file (read whatever its name; gzip is recognised by its content), a
/// folder (every `.log`, `.gz`, `.txt`, `.json` and `.parquet` file below it, in sorted path order), or `-`
/// for standard input. Each file starts with the format given to [`ChunkReader::new`] (or the
/// default version 2 format); a header line switches it from there on.
///
/// An input that cannot be read yields an `Err` and the reader goes on with the next one.
///
/// A line longer than the chunk is cut between its JSON values (Firehose writes CloudWatch Logs
/// envelopes back to back on one line), and a CloudWatch Logs envelope longer than
/// [`MAX_LINE_BYTES`] between its log events ([`PieceKind::Events`]): its records are the same,
/// numbered the same, as read whole. Its keys before `logEvents` decide for every event (a
/// control message holds no records, a key given twice makes the envelope one malformed item);
/// an envelope whose `messageType` comes after its `logEvents` is one malformed item, as whether
/// its events are records cannot be known until after them (CloudWatch Logs writes
/// `messageType` first). A log event longer than the bound, or a line ending inside the
/// envelope, is one malformed event and reading goes on.
///
/// ```
/// use vpcreach::flow_log::{parse_chunk, ChunkReader};
/// let dir = tempfile::tempdir().unwrap();
/// std::fs::write(dir.path().join("a.log"), "version srcaddr\n2 10.0.0.1\n").unwrap();
/// let mut reader = ChunkReader::new(vec![dir.path().to_path_buf()], None);
/// let chunk = reader.next().unwrap().unwrap();
/// assert_eq!(parse_chunk(&chunk).records.len(), 1);
/// assert!(reader.next().is_none());
/// ```
pub struct ChunkReader {
    pending: VecDeque<Pending>,
    format: Option<Format>,
    chunk_size: usize,
    max_line: usize,
    current: Option<OpenInput>,
    /// The last chunk read, held until the next chunk of its file is read (its lines just
    /// after it become [`Chunk::after`]) or its file ends.
    held: Option<Chunk>,
    /// What to hand out after the held chunk: the error that ended its file.
    queued: Option<ReadError>,
    /// Header field names already warned about ([`ReadError::UnknownField`]).
    warned: std::collections::HashSet<String>,
    /// Parquet files of which only some row groups are read ([`ChunkReader::with_row_groups`]).
    groups: Vec<(PathBuf, std::ops::Range<usize>)>,
    /// Threads reading a Parquet row group's columns ([`ChunkReader::with_threads`]).
    threads: usize,
}

/// At most this many bytes of whole lines are copied on each side of a chunk into
/// [`Chunk::before`] and [`Chunk::after`] (and no more than the neighbouring chunk holds).
pub const NEAR_BYTES: usize = 64 * 1024;

enum Pending {
    /// Named by the user: read whatever it is (a FIFO too: `<(zcat …)`).
    Given(PathBuf),
    /// A regular file with a log's name, found in a folder.
    Found(PathBuf),
    /// Something found in a folder and passed by, or a folder entry that cannot be read.
    Failed(ReadError),
}

struct OpenInput {
    name: Arc<Path>,
    source: Box<dyn Read + Send>,
    /// Bytes read but not yet handed out (the start of an unfinished line).
    carry: Vec<u8>,
    next_line: u64,
    format: Format,
    failed: Option<io::Error>,
    at_end: bool,
    /// Set when `carry` goes on with a line cut between JSON values.
    piece: Option<Piece>,
    /// Set while `carry` is inside the log events of an envelope read event by event.
    envelope: Option<Envelope>,
    /// Warnings about the headers read so far, to hand out before the next chunk.
    notices: VecDeque<ReadError>,
    /// Set for a Parquet file: its rows, read as records instead of `source`.
    parquet: Option<Box<super::parquet::ParquetRows>>,
}

impl ChunkReader {
    /// A reader of `paths`; `format` is the format of files without a header (the default
    /// version 2 format when `None`).
    pub fn new(paths: Vec<PathBuf>, format: Option<Format>) -> ChunkReader {
        ChunkReader {
            pending: paths.into_iter().map(Pending::Given).collect(),
            format,
            chunk_size: DEFAULT_CHUNK_SIZE,
            max_line: MAX_LINE_BYTES,
            current: None,
            held: None,
            queued: None,
            warned: std::collections::HashSet::new(),
            groups: Vec::new(),
            threads: 1,
        }
    }

    /// Reads the columns of a Parquet file's row groups on `threads` threads (0: one per
    /// core, as [`worker_threads`](super::worker_threads) counts them; 1, the default: on the
    /// thread that reads). Text is read on that thread whatever this says.
    pub fn with_threads(mut self, threads: usize) -> ChunkReader {
        self.threads = super::worker_threads(threads);
        self
    }

    /// Reads only the row groups `groups` (0-based) of the Parquet file `path` (one of the
    /// paths given), its rows numbered as in the whole file: a file split across workers by
    /// row group ([`parquet_row_groups`](super::parquet_row_groups) gives them). That file
    /// is then an error when it is not Parquet, rather than read whole.
    pub fn with_row_groups(mut self, path: PathBuf, groups: std::ops::Range<usize>) -> ChunkReader {
        self.groups.push((path, groups));
        self
    }

    /// Sets the chunk size (at least 1 byte; a chunk always ends at a line end, so it is
    /// larger when a line is).
    pub fn with_chunk_size(mut self, bytes: usize) -> ChunkReader {
        self.chunk_size = bytes.max(1);
        self
    }

    /// Sets the most a line may hold ([`MAX_LINE_BYTES`] unless set): a line longer than this
    /// and than the chunk size is skipped as one malformed line (a CloudWatch Logs envelope is
    /// read event by event). A lower bound holds less in memory.
    ///
    /// ```
    /// use vpcreach::flow_log::{parse_chunk, ChunkReader};
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("a.log");
    /// std::fs::write(&path, format!("{}\n2 10.0.0.1\n", "x".repeat(100))).unwrap();
    /// let reader = ChunkReader::new(vec![path], None).with_chunk_size(10).with_max_line_bytes(50);
    /// let bad: Vec<String> = reader
    ///     .flat_map(|c| parse_chunk(&c.unwrap()).malformed)
    ///     .map(|m| m.to_string())
    ///     .collect();
    /// assert!(bad[0].ends_with(":1: the line is longer than 50 bytes, the most a line or JSON value may hold: skipped to the next line"));
    /// ```
    pub fn with_max_line_bytes(mut self, bytes: usize) -> ChunkReader {
        self.max_line = bytes.max(1);
        self
    }

    /// Opens the next input, expanding folders; `None` when there is none left.
    fn open_next(&mut self) -> Option<Result<OpenInput, ReadError>> {
        loop {
            let (path, given) = match self.pending.pop_front()? {
                Pending::Given(p) => (p, true),
                Pending::Found(p) => (p, false),
                Pending::Failed(e) => return Some(Err(e)),
            };
            let io_error = |source| ReadError::Io {
                path: path.clone(),
                error: source,
            };
            if given && path.as_os_str() == "-" {
                let stdin: Box<dyn Read + Send> = Box::new(io::stdin());
                return Some(self.start(Path::new(STDIN_NAME), stdin).map_err(io_error));
            }
            if given {
                let metadata = match std::fs::metadata(&path) {
                    Ok(m) => m,
                    Err(e) => return Some(Err(io_error(e))),
                };
                if metadata.is_dir() {
                    match list_folder(&path) {
                        Ok(entries) => {
                            for entry in entries.into_iter().rev() {
                                self.pending.push_front(entry);
                            }
                            continue;
                        }
                        Err(e) => return Some(Err(io_error(e))),
                    }
                }
            }
            let mut file = match File::open(&path) {
                Ok(f) => f,
                Err(e) => return Some(Err(io_error(e))),
            };
            let groups = self
                .groups
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, g)| g.clone());
            // Parquet is recognised by its content, as gzip is.
            match super::parquet::is_parquet(&mut file) {
                Ok(true) => {
                    return Some(
                        super::parquet::ParquetRows::open(&path, file, self.threads)
                            .map(|mut rows| {
                                if let Some(g) = groups {
                                    rows.select_groups(g);
                                }
                                self.start_parquet(&path, rows)
                            })
                            .map_err(io_error),
                    )
                }
                Ok(false) if groups.is_some() => {
                    return Some(Err(io_error(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "row groups of it were to be read, but it is not a Parquet file",
                    ))))
                }
                Ok(false) => {}
                Err(e) => return Some(Err(io_error(e))),
            }
            return Some(self.start(&path, Box::new(file)).map_err(io_error));
        }
    }

    fn start_parquet(&self, name: &Path, mut rows: super::parquet::ParquetRows) -> OpenInput {
        OpenInput {
            name: Arc::from(name),
            source: Box::new(io::empty()),
            carry: Vec::new(),
            next_line: 1,
            format: Format::default(),
            failed: None,
            at_end: true,
            piece: None,
            envelope: None,
            notices: std::mem::take(&mut rows.notices).into(),
            parquet: Some(Box::new(rows)),
        }
    }

    fn start(&self, name: &Path, source: Box<dyn Read + Send>) -> io::Result<OpenInput> {
        let mut buffered = BufReader::with_capacity(64 * 1024, source);
        let gzip = buffered.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let source: Box<dyn Read + Send> = if gzip {
            Box::new(MultiGzDecoder::new(buffered))
        } else {
            Box::new(buffered)
        };
        Ok(OpenInput {
            name: Arc::from(name),
            source,
            carry: Vec::new(),
            next_line: 1,
            format: self.format.clone().unwrap_or_default(),
            failed: None,
            at_end: false,
            piece: None,
            envelope: None,
            notices: VecDeque::new(),
            parquet: None,
        })
    }

    /// The next chunk of the open input, `None` when it is used up.
    fn next_chunk(
        input: &mut OpenInput,
        chunk_size: usize,
        max_line: usize,
    ) -> Option<Result<Chunk, ReadError>> {
        if let Some(rows) = input.parquet.as_mut() {
            return rows.next_chunk().map(|r| {
                r.map_err(|error| ReadError::Io {
                    path: input.name.to_path_buf(),
                    error,
                })
            });
        }
        if let Some(mut env) = input.envelope.take() {
            let (chunk, over) =
                ChunkReader::next_in_envelope(input, &mut env, chunk_size, max_line);
            if !over {
                input.envelope = Some(env);
            }
            return Some(Ok(chunk));
        }
        let mut data = std::mem::take(&mut input.carry);
        // Read until the buffer is full and holds a line end, or the input ends.
        let mut searched = 0;
        let mut cut_between_values = false;
        // Where to look for a cut between JSON values next: twice as far each time none is
        // found (a value longer than the chunk), so a long value is scanned a few times, not
        // once per read.
        let mut try_cut_at = chunk_size;
        let cut = loop {
            if !input.at_end && input.failed.is_none() && data.len() < chunk_size {
                fill(input, &mut data, chunk_size);
                continue;
            }
            if let Some(last) = memchr::memrchr(b'\n', &data[searched..]) {
                break searched + last + 1;
            }
            if input.at_end || input.failed.is_some() {
                break data.len();
            }
            // A line longer than the chunk: cut it after its last whole JSON value, if it is
            // a line of JSON values; else read on.
            let json = input.piece.is_some()
                || data.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
            if json && data.len() >= try_cut_at {
                if let Some(end) = JsonValues::new(&data).last_closed_end() {
                    cut_between_values = true;
                    break end;
                }
                try_cut_at = data.len().saturating_mul(2);
            }
            if data.len() > max_line {
                if json {
                    if let Some(end) = JsonValues::new(&data).last_closed_end() {
                        cut_between_values = true;
                        break end;
                    }
                    // One CloudWatch Logs envelope: read it event by event.
                    let start = data.iter().take_while(|b| b.is_ascii_whitespace()).count();
                    if let Some(head) = envelope::head(&data[start..]) {
                        let mut piece = input.piece.take().unwrap_or_default();
                        let head_end = start + head.len;
                        let mut env = Envelope {
                            head: data[start..head_end].to_vec(),
                            verdict: head.verdict,
                            expect: Expect::First,
                        };
                        // In place: no second copy of what was read.
                        data.drain(..head_end);
                        input.carry = data;
                        piece.offset += head_end;
                        input.piece = Some(piece);
                        let (chunk, over) =
                            ChunkReader::next_in_envelope(input, &mut env, chunk_size, max_line);
                        if !over {
                            input.envelope = Some(env);
                        }
                        return Some(Ok(chunk));
                    }
                }
                return Some(Ok(ChunkReader::skip_long_line(
                    input, data, chunk_size, max_line,
                )));
            }
            searched = data.len();
            grow(&mut data, chunk_size, max_line);
            fill(input, &mut data, searched + chunk_size);
        };
        if input.failed.is_some() && cut < data.len() {
            // A partial last line before a read error is not handed out.
            data.truncate(cut);
        }
        input.carry = data.split_off(cut);
        let piece = match input.piece.take() {
            Some(piece) => Some(piece),
            None if cut_between_values => Some(Piece::default()),
            None => None,
        };
        if data.is_empty() {
            return input.failed.take().map(|source| {
                Err(ReadError::Io {
                    path: input.name.to_path_buf(),
                    error: source,
                })
            });
        }
        if cut_between_values {
            // The chunk is one unfinished line: the next chunk goes on with it.
            if let Some(p) = piece {
                input.piece = Some(Piece {
                    events_before: p.events_before + Piece::events_in(&data),
                    offset: p.offset + data.len(),
                    kind: PieceKind::Values,
                });
            }
        }
        let chunk = Chunk {
            file: Arc::clone(&input.name),
            first_line: input.next_line,
            format: input.format.clone(),
            data,
            rows: None,
            piece,
            before: None,
            after: None,
            too_long: None,
        };
        if cut_between_values {
            return Some(Ok(chunk));
        }
        // Follow the headers so that the next chunk starts with the right format.
        for (i, raw) in lines(&chunk.data).enumerate() {
            // A piece of a line of JSON values is not a header.
            let is_piece = i == 0 && chunk.piece.is_some();
            if !is_piece {
                let number = chunk.first_line + i as u64;
                match header_on_line(raw, number) {
                    Some(Ok(header)) => {
                        for name in header.unknown_names() {
                            if super::field::is_aws_field_name(name) {
                                // A transit gateway field: known to AWS, kept as text.
                                continue;
                            }
                            input.notices.push_back(ReadError::UnknownField {
                                path: input.name.to_path_buf(),
                                line: number,
                                name: crate::render::sanitize(name),
                                suggestion: super::suggest_field(name),
                            });
                        }
                        input.format = header;
                    }
                    Some(Err(_)) => input.format = Format::after_invalid_header(number),
                    None => {}
                }
            }
            input.next_line += 1;
        }
        Some(Ok(chunk))
    }
}

impl ChunkReader {
    /// Drops `data`, the start of a line (or JSON value) longer than [`MAX_LINE_BYTES`], and the
    /// rest of its line: the input goes on after the next line end. The chunk returned stands
    /// for the line ([`Chunk::too_long`]).
    fn skip_long_line(
        input: &mut OpenInput,
        mut data: Vec<u8>,
        chunk_size: usize,
        max_line: usize,
    ) -> Chunk {
        loop {
            if let Some(end) = memchr::memchr(b'\n', &data) {
                input.carry = data.split_off(end + 1);
                break;
            }
            if input.at_end || input.failed.is_some() {
                input.carry = Vec::new();
                break;
            }
            data.clear();
            data.shrink_to(chunk_size);
            fill(input, &mut data, chunk_size);
        }
        input.carry.shrink_to_fit();
        // A piece of a long line of JSON values ends here too: its line is over.
        input.piece = None;
        let chunk = Chunk {
            file: Arc::clone(&input.name),
            first_line: input.next_line,
            format: input.format.clone(),
            data: Vec::new(),
            rows: None,
            piece: None,
            before: None,
            after: None,
            too_long: Some(max_line),
        };
        input.next_line += 1;
        chunk
    }
}

/// A CloudWatch Logs envelope being read event by event ([`envelope`]).
struct Envelope {
    /// Its bytes up to the `[` of `logEvents`.
    head: Vec<u8>,
    /// What the head says of its log events.
    verdict: Verdict,
    /// What comes next.
    expect: Expect,
}

/// How a log event too long to keep was passed by.
enum Passed {
    /// Its end was found; `input.carry` goes on after it.
    Event,
    /// The line (or the input) ends inside it; `input.carry` starts at the line end.
    LineEnded,
}

impl ChunkReader {
    /// The next chunk of an envelope read event by event, whose log events `input.carry` is
    /// inside of (and `input.piece` at): whole log events (of a data message), one passed by,
    /// or at the end the envelope without its events, read as a piece of whole values (nothing,
    /// or what is wrong with the envelope as a whole). True when the envelope is over:
    /// `input.carry` and `input.piece` are then after it.
    fn next_in_envelope(
        input: &mut OpenInput,
        env: &mut Envelope,
        chunk_size: usize,
        max_line: usize,
    ) -> (Chunk, bool) {
        let mut piece = input.piece.take().unwrap_or_default();
        let mut data = std::mem::take(&mut input.carry);
        let records = env.verdict == Verdict::Records;
        let dropped = |input: &mut OpenInput, piece: &mut Piece, what: Dropped| {
            let at = Piece {
                kind: PieceKind::Dropped(what),
                ..*piece
            };
            piece.events_before += 1;
            input.piece = Some(*piece);
            ChunkReader::piece_chunk(input, Vec::new(), at)
        };
        loop {
            if !input.at_end && input.failed.is_none() && data.len() < chunk_size {
                fill(input, &mut data, chunk_size);
                continue;
            }
            let line_end = memchr::memchr(b'\n', &data);
            let line_len = line_end.unwrap_or(data.len());
            // Nothing more of this line is to come.
            let complete = line_end.is_some() || input.at_end || input.failed.is_some();
            let scan = envelope::scan_events(&data[..line_len], env.expect, chunk_size);
            if scan.events > 0 {
                // A chunk's worth of events; the rest stays in place (the buffer is as large
                // as the bound when the envelope is found, and shrinks back to a chunk).
                let events = data[..scan.cut].to_vec();
                data.drain(..scan.cut);
                if data.len() < chunk_size && data.capacity() > 4 * chunk_size {
                    data.shrink_to(2 * chunk_size);
                }
                env.expect = Expect::Separator;
                let at = Piece {
                    kind: PieceKind::Events,
                    ..piece
                };
                piece.offset += scan.cut;
                if records {
                    piece.events_before += scan.events;
                    input.carry = data;
                    input.piece = Some(piece);
                    return (ChunkReader::piece_chunk(input, events, at), false);
                }
                // A control message's (or a broken head's) events: passed by.
                continue;
            }
            match scan.end {
                End::Closed(at) => {
                    match Skip::inside_object().feed(&data[at + 1..line_len]) {
                        Some(len) => {
                            let end = at + 1 + len;
                            input.carry = data.split_off(end);
                            let start = piece;
                            piece.offset += end;
                            if env.verdict == Verdict::Late {
                                let what = Dropped::MessageTypeAfterEvents(max_line);
                                return (dropped(input, &mut piece, what), true);
                            }
                            // The envelope without its events: read as reading it whole would
                            // (a repeated key is one malformed item, after the events here).
                            let head_len = env.head.len();
                            let mut outside = std::mem::take(&mut env.head);
                            outside.push(b']');
                            outside.extend_from_slice(&data[at + 1..]);
                            piece.events_before += Piece::events_in(&outside);
                            input.piece = Some(piece);
                            let at = Piece {
                                kind: PieceKind::Values,
                                events_before: start.events_before,
                                offset: (start.offset + at + 1).saturating_sub(head_len + 1),
                            };
                            return (ChunkReader::piece_chunk(input, outside, at), true);
                        }
                        None if complete => {
                            input.carry = data.split_off(line_len);
                            return (dropped(input, &mut piece, Dropped::CutShort), true);
                        }
                        // Only the envelope's keys after its events count towards the
                        // bound: the white space before its `]` is not kept.
                        None if line_len - (at + 1) > max_line => {
                            discard_to_line_end(input, data, chunk_size);
                            let what = Dropped::TailTooLong(max_line);
                            return (dropped(input, &mut piece, what), true);
                        }
                        None => {
                            let n = data.len();
                            grow(&mut data, chunk_size, max_line);
                            fill(input, &mut data, n + chunk_size);
                        }
                    }
                }
                End::Broken(_) => {
                    discard_to_line_end(input, data, chunk_size);
                    return (dropped(input, &mut piece, Dropped::BrokenEvents), true);
                }
                End::More if complete => {
                    input.carry = data.split_off(line_len);
                    return (dropped(input, &mut piece, Dropped::CutShort), true);
                }
                End::More => {
                    // White space (and a `,`) before the next event is dropped, not counted
                    // as part of it.
                    let blank = envelope::pass_space(&data[..line_len], &mut env.expect);
                    if blank > 0 {
                        data.drain(..blank);
                        piece.offset += blank;
                        continue;
                    }
                    if data.len() <= max_line {
                        let n = data.len();
                        grow(&mut data, chunk_size, max_line);
                        fill(input, &mut data, n + chunk_size);
                        continue;
                    }
                    // One log event longer than the bound: passed by without keeping it.
                    let (passed, bytes) = pass_event(input, data, chunk_size);
                    piece.offset += bytes;
                    env.expect = Expect::Separator;
                    match passed {
                        Passed::Event if records => {
                            let what = Dropped::EventTooLong(max_line);
                            return (dropped(input, &mut piece, what), false);
                        }
                        Passed::Event => data = std::mem::take(&mut input.carry),
                        Passed::LineEnded => {
                            let what = if records {
                                Dropped::EventTooLong(max_line)
                            } else {
                                Dropped::CutShort
                            };
                            return (dropped(input, &mut piece, what), true);
                        }
                    }
                }
            }
        }
    }

    /// A chunk of the current line of `input` that is `piece`.
    fn piece_chunk(input: &OpenInput, data: Vec<u8>, piece: Piece) -> Chunk {
        Chunk {
            file: Arc::clone(&input.name),
            first_line: input.next_line,
            format: input.format.clone(),
            data,
            rows: None,
            piece: Some(piece),
            before: None,
            after: None,
            too_long: None,
        }
    }
}

/// Passes by the log event `data` starts with (after white space and a `,`) without keeping
/// more than a chunk of it. Returns how, and how many bytes were passed.
fn pass_event(input: &mut OpenInput, mut data: Vec<u8>, chunk_size: usize) -> (Passed, usize) {
    let mut skip = Skip::default();
    let mut passed = 0;
    loop {
        let line_end = memchr::memchr(b'\n', &data);
        let line_len = line_end.unwrap_or(data.len());
        if let Some(end) = skip.feed(&data[..line_len]) {
            input.carry = data.split_off(end);
            return (Passed::Event, passed + end);
        }
        if line_end.is_some() {
            input.carry = data.split_off(line_len);
            return (Passed::LineEnded, passed + line_len);
        }
        if input.at_end || input.failed.is_some() {
            return (Passed::LineEnded, passed + line_len);
        }
        passed += data.len();
        data.clear();
        data.shrink_to(chunk_size);
        fill(input, &mut data, chunk_size);
    }
}

/// Drops `data` and what follows it up to the next line end, which `input.carry` then starts
/// with, keeping no more than a chunk at a time.
fn discard_to_line_end(input: &mut OpenInput, mut data: Vec<u8>, chunk_size: usize) {
    loop {
        if let Some(end) = memchr::memchr(b'\n', &data) {
            input.carry = data.split_off(end);
            return;
        }
        if input.at_end || input.failed.is_some() {
            return;
        }
        data.clear();
        data.shrink_to(chunk_size);
        fill(input, &mut data, chunk_size);
    }
}

/// Copies the lines around the edge between two consecutive chunks of a file into each other's
/// [`Chunk::before`] and [`Chunk::after`]: up to [`NEAR_BYTES`] of whole lines on each side,
/// none across a header line (both sides are then read in the format in effect at the edge).
/// Pieces of a long line of JSON values get none.
fn link(prev: &mut Chunk, next: &mut Chunk) {
    if let (Some(p), Some(n)) = (prev.rows.clone(), next.rows.clone()) {
        if !p.may_hold_other_lines() && !n.may_hold_other_lines() {
            link_rows(prev, next, &p, &n);
            return;
        }
    }
    if prev.piece.is_some() || next.piece.is_some() || !prev.text().ends_with(b"\n") {
        return;
    }
    let is_header = |raw: &[u8]| header_on_line(raw, 0).is_some();
    // The end of `prev`: whole lines within the last NEAR_BYTES, after its last header.
    let data = prev.text();
    let mut start = data.len().saturating_sub(NEAR_BYTES);
    if start > 0 {
        // Start at a line start.
        start = match memchr::memchr(b'\n', &data[start - 1..]) {
            Some(i) => start + i,
            None => data.len(),
        };
    }
    let mut from = start;
    let mut at = start;
    for raw in lines(&data[start..]) {
        at += raw.len() + 1;
        if is_header(raw) {
            from = at;
        }
    }
    let from = from.min(data.len());
    if from < data.len() {
        let tail = &data[from..];
        let count = memchr::memchr_iter(b'\n', tail).count() as u64;
        next.before = Some(Box::new(Chunk {
            file: Arc::clone(&next.file),
            first_line: next.first_line.saturating_sub(count),
            format: next.format.clone(),
            data: tail.to_vec(),
            rows: None,
            piece: None,
            before: None,
            after: None,
            too_long: None,
        }));
    }
    // The start of `next`: whole lines within its first NEAR_BYTES, up to its first header.
    let data = next.text();
    let mut end = 0;
    for raw in lines(data) {
        let line_end = end + raw.len() + 1;
        if is_header(raw) || line_end > NEAR_BYTES || line_end > data.len() {
            break;
        }
        end = line_end;
    }
    if end > 0 {
        prev.after = Some(Box::new(Chunk {
            file: Arc::clone(&next.file),
            first_line: next.first_line,
            format: next.format.clone(),
            data: data[..end].to_vec(),
            rows: None,
            piece: None,
            before: None,
            after: None,
            too_long: None,
        }));
    }
}

/// [`link`] for chunks of Parquet rows held as columns (none of them a header): the same rows
/// as [`link`] would take of their text, kept as columns.
fn link_rows(prev: &mut Chunk, next: &mut Chunk, p: &Rows, n: &Rows) {
    let near = |file: &Arc<Path>, first_line: u64, format: &Format, rows: Rows| {
        Some(Box::new(Chunk {
            file: Arc::clone(file),
            first_line,
            format: format.clone(),
            data: Vec::new(),
            rows: Some(Arc::new(rows)),
            piece: None,
            before: None,
            after: None,
            too_long: None,
        }))
    };
    let tail = p.tail(NEAR_BYTES);
    if !tail.is_empty() {
        let first = next.first_line.saturating_sub(tail.len() as u64);
        next.before = near(&next.file, first, &next.format, p.slice(tail));
    }
    let head = n.head(NEAR_BYTES);
    if !head.is_empty() {
        prev.after = near(&next.file, next.first_line, &next.format, n.slice(head));
    }
}

/// Makes room in `data` for another chunk of a line longer than a chunk. Past two chunks, room
/// for the longest line is made at once: growing a buffer of megabytes step by step (or by
/// doubling) holds the old and the new one at once at each step, or reserves twice the bound.
fn grow(data: &mut Vec<u8>, chunk_size: usize, max_line: usize) {
    let want = if data.len() >= 2 * chunk_size {
        max_line.saturating_add(chunk_size)
    } else {
        data.len() + chunk_size
    };
    data.reserve_exact(want.saturating_sub(data.len()));
}

/// Reads into `data` until it holds `target` bytes, the input ends, or reading fails.
fn fill(input: &mut OpenInput, data: &mut Vec<u8>, target: usize) {
    // `read_to_end` reads into the spare capacity without zeroing it first.
    data.reserve(target.saturating_sub(data.len()));
    while data.len() < target {
        let want = (target - data.len()) as u64;
        match (&mut input.source).take(want).read_to_end(data) {
            Ok(n) if (n as u64) < want => {
                input.at_end = true;
                return;
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                input.failed = Some(e);
                return;
            }
        }
    }
}

impl Iterator for ChunkReader {
    type Item = Result<Chunk, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(e) = self.queued.take() {
                return Some(Err(e));
            }
            if let Some(input) = &mut self.current {
                if let Some(notice) = input.notices.pop_front() {
                    if let ReadError::UnknownField { name, .. } = &notice {
                        if !self.warned.insert(name.clone()) {
                            continue;
                        }
                    }
                    return Some(Err(notice));
                }
                match ChunkReader::next_chunk(input, self.chunk_size, self.max_line) {
                    Some(Ok(mut chunk)) => match self.held.take() {
                        Some(mut held) => {
                            link(&mut held, &mut chunk);
                            self.held = Some(chunk);
                            return Some(Ok(held));
                        }
                        None => {
                            self.held = Some(chunk);
                            continue;
                        }
                    },
                    Some(Err(e)) => {
                        self.current = None;
                        match self.held.take() {
                            Some(held) => {
                                self.queued = Some(e);
                                return Some(Ok(held));
                            }
                            None => return Some(Err(e)),
                        }
                    }
                    None => {
                        self.current = None;
                        if let Some(held) = self.held.take() {
                            return Some(Ok(held));
                        }
                    }
                }
            }
            match self.open_next()? {
                Ok(input) => self.current = Some(input),
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// The log files of a folder and below, in path order, walked as every folder is
/// ([`crate::walk`]): links followed once, loops, files that are not regular files and files
/// without a log's name (a README) passed by with a warning each (in path order among the
/// files), unreadable entries as errors.
fn list_folder(path: &Path) -> io::Result<Vec<Pending>> {
    let walk = crate::walk::walk(path, is_log_name)?;
    let mut entries: Vec<(PathBuf, Pending)> = walk
        .files
        .into_iter()
        .map(|p| {
            // A JSON document of another kind (a policy, a schema) beside the logs is passed by
            // with one line, not read line by line as malformed records.
            let pending = if is_other_json(&p) {
                Pending::Failed(ReadError::Skipped(crate::walk::Skipped::NotWanted {
                    path: p.clone(),
                    expected:
                        "a flow-log file (a JSON document without log events or flow-log fields)",
                }))
            } else {
                Pending::Found(p.clone())
            };
            (p, pending)
        })
        .collect();
    let passed = walk
        .passed
        .into_iter()
        .map(|path| crate::walk::Skipped::NotWanted {
            path,
            expected: "a flow-log file (.log, .gz, .txt, .json or .parquet)",
        });
    entries.extend(walk.skipped.into_iter().chain(passed).map(|s| {
        (
            s.path().to_path_buf(),
            Pending::Failed(ReadError::Skipped(s)),
        )
    }));
    entries.extend(
        walk.errors
            .into_iter()
            .map(|(path, error)| (path.clone(), Pending::Failed(ReadError::Io { path, error }))),
    );
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries.into_iter().map(|(_, p)| p).collect())
}

/// How much of a `.json` file [`is_other_json`] looks at.
const JSON_SNIFF: u64 = 64 * 1024;

/// True for a `.json` file (found in a folder) that is JSON but holds neither CloudWatch Logs
/// events nor flow-log fields in its first [`JSON_SNIFF`] bytes: an IAM or vpcreach policy, a
/// schema, `describe-*` output. A file that cannot be read, or does not start as JSON, is read
/// as a log (and its problems reported there).
fn is_other_json(path: &Path) -> bool {
    use std::io::Read;
    let json_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".json"));
    if !json_name {
        return false;
    }
    let mut head = Vec::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(JSON_SNIFF).read_to_end(&mut head));
    if read.is_err() {
        return false;
    }
    let starts_as_json = matches!(
        head.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{') | Some(b'[')
    );
    const KEYS: [&[u8]; 10] = [
        b"\"logEvents\"",
        b"\"message\"",
        b"\"interface-id\"",
        b"\"interface_id\"",
        b"\"srcaddr\"",
        b"\"log-status\"",
        b"\"log_status\"",
        b"\"account-id\"",
        b"\"account_id\"",
        b"\"version\"",
    ];
    starts_as_json
        && !KEYS
            .iter()
            .any(|k| memchr::memmem::find(&head, k).is_some())
}

/// True for the names flow-log files have: `.log`, `.log.gz`, `.gz`, `.txt`, `.json`.
pub fn is_log_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    [".log", ".gz", ".txt", ".json", ".parquet"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow_log::{parse_chunk, Counts};
    use std::io::Write;

    fn write(path: &Path, text: &[u8]) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }

    fn gzip(text: &str) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap()
    }

    const V2: &str = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK\n";

    #[test]
    fn folders_are_walked_in_order_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir
            .path()
            .join("AWSLogs/1/vpcflowlogs/us-east-1/2024/01/02");
        write(&day.join("b.log.gz"), &gzip(V2));
        write(&day.join("a.log"), V2.as_bytes());
        write(&day.join("notes.md"), b"not a log");
        write(
            &dir.path()
                .join("AWSLogs/1/vpcflowlogs/us-east-1/2024/01/01/z.txt"),
            V2.as_bytes(),
        );
        let mut passed = Vec::new();
        let files: Vec<String> = ChunkReader::new(vec![dir.path().to_path_buf()], None)
            .filter_map(|c| match c {
                Ok(c) => Some(c.file.file_name().unwrap().to_string_lossy().into()),
                Err(e) => {
                    assert!(e.is_warning(), "{e}");
                    passed.push(e.to_string());
                    None
                }
            })
            .collect();
        assert_eq!(files, ["z.txt", "a.log", "b.log.gz"]);
        // The file of another kind is named, not read.
        assert_eq!(passed.len(), 1, "{passed:?}");
        assert!(
            passed[0].contains("notes.md`: not a flow-log file"),
            "{passed:?}"
        );
    }

    #[test]
    fn chunks_end_on_line_ends_and_number_lines() {
        let text: String = (0..100).map(|_| V2).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        write(&path, text.as_bytes());
        let chunks: Vec<Chunk> = ChunkReader::new(vec![path], None)
            .with_chunk_size(200)
            .map(Result::unwrap)
            .collect();
        assert!(chunks.len() > 10);
        let mut next_line = 1;
        for chunk in &chunks {
            assert!(chunk.data.ends_with(b"\n"));
            assert_eq!(chunk.first_line, next_line);
            let parsed = parse_chunk(chunk);
            assert_eq!(parsed.counts.malformed, 0);
            next_line += parsed.records.len() as u64;
        }
        assert_eq!(next_line, 101);
    }

    #[test]
    fn long_lines_and_no_final_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        write(&path, format!("{V2}{}", V2.trim_end()).as_bytes());
        let chunks: Vec<Chunk> = ChunkReader::new(vec![path], None)
            .with_chunk_size(8)
            .map(Result::unwrap)
            .collect();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[1].first_line, 2);
        assert_eq!(parse_chunk(&chunks[1]).records.len(), 1);
    }

    #[test]
    fn the_format_follows_headers_across_chunks() {
        let text = format!(
            "{V2}interface-id srcaddr\neni-1 10.0.0.1\neni-2 10.0.0.2\nversion srcaddr\n3 10.0.0.3\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        write(&path, text.as_bytes());
        let chunks: Vec<Chunk> = ChunkReader::new(vec![path], None)
            .with_chunk_size(1)
            .map(Result::unwrap)
            .collect();
        assert_eq!(chunks.len(), 6);
        assert_eq!(chunks[2].format.to_string(), "interface-id srcaddr");
        assert_eq!(chunks[5].format.to_string(), "version srcaddr");
        let records: Vec<_> = chunks.iter().flat_map(|c| parse_chunk(c).records).collect();
        assert_eq!(records.len(), 4);
        assert_eq!(records[2].interface_id.as_deref(), Some("eni-2"));
        assert_eq!(records[3].version, Some(3));
    }

    #[test]
    fn records_after_an_invalid_header_are_malformed_at_any_chunk_size() {
        let text =
            "version srcaddr dstaddr\n2 10.0.0.1 10.0.0.2\nversion dstaddr srcaddr srcaddr\n\
                    2 10.0.0.3 10.0.0.4 10.0.0.5\n2 10.0.0.6 10.0.0.7\nversion dstaddr srcaddr\n\
                    2 10.0.0.8 10.0.0.9\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        write(&path, text.as_bytes());
        for size in [1, 7, 40, 1 << 20] {
            let parsed: Vec<_> = ChunkReader::new(vec![path.clone()], None)
                .with_chunk_size(size)
                .map(|c| parse_chunk(&c.unwrap()))
                .collect();
            let records: Vec<u64> = parsed
                .iter()
                .flat_map(|p| p.records.iter().map(|r| r.line))
                .collect();
            let bad: Vec<u64> = parsed
                .iter()
                .flat_map(|p| p.malformed.iter().map(|m| m.line))
                .collect();
            assert_eq!((records, bad), (vec![2, 7], vec![3, 4, 5]), "{size}");
        }
    }

    /// Found by the `flow_lines` fuzz target: a line of JSON values that is not all UTF-8 was
    /// one malformed line read whole, but two when the reader cut it between values.
    #[test]
    fn a_line_of_json_values_not_all_utf8_counts_the_same_at_any_chunk_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        write(&path, b"{/]\xed\n{\"message\":\"x\"} \xff {\"a\":1}\n");
        let whole: Vec<Counts> = ChunkReader::new(vec![path.clone()], None)
            .map(|c| parse_chunk(&c.unwrap()).counts)
            .collect();
        for size in [1, 2, 5, 1 << 20] {
            let mut total = Counts::default();
            for c in ChunkReader::new(vec![path.clone()], None).with_chunk_size(size) {
                total += parse_chunk(&c.unwrap()).counts;
            }
            let mut expected = Counts::default();
            for c in &whole {
                expected += *c;
            }
            assert_eq!(total, expected, "{size}");
            assert_eq!((total.read, total.malformed), (5, 5), "{size}");
        }
    }

    /// Everything a reading gives: records, malformed lines as printed, counts.
    type Read = (Vec<crate::flow_log::FlowRecord>, Vec<String>, Counts);

    /// `path` read at `chunk_size` with `max_line` as the line bound, every chunk checked.
    fn read_all(path: &Path, chunk_size: usize, max_line: usize) -> (Read, usize) {
        let mut records = Vec::new();
        let mut malformed = Vec::new();
        let mut counts = Counts::default();
        let mut event_pieces = 0;
        for chunk in ChunkReader::new(vec![path.to_path_buf()], None)
            .with_chunk_size(chunk_size)
            .with_max_line_bytes(max_line)
        {
            let chunk = chunk.unwrap();
            if let Some(p) = chunk.piece {
                event_pieces += usize::from(p.kind == PieceKind::Events);
                if p.kind == PieceKind::Events {
                    // A piece of log events holds no more than a chunk past the bound.
                    assert!(chunk.data.len() <= chunk_size + max_line);
                }
            }
            let parsed = parse_chunk(&chunk);
            records.extend(parsed.records);
            malformed.extend(parsed.malformed.iter().map(ToString::to_string));
            counts += parsed.counts;
        }
        assert_eq!(
            counts.read,
            counts.parsed + counts.skipped() + counts.malformed
        );
        ((records, malformed, counts), event_pieces)
    }

    const EVENT: &str = r#"{"id":"1","timestamp":1,"message":"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK"}"#;

    fn envelope(message_type: &str, events: &[String]) -> String {
        format!(
            r#"{{"messageType":"{message_type}","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
            events.join(",")
        )
    }

    #[test]
    fn a_long_envelope_reads_event_by_event_as_it_reads_whole() {
        let mut events: Vec<String> = (0..40)
            .map(|i| EVENT.replace("10.0.0.1 ", &format!("10.0.0.{i} ")))
            .collect();
        events[3] = r#"{"id":"3","message":"x","message":"y"}"#.into();
        events[7] = "17".into();
        events[9] = r#"{"id":"9"}"#.into();
        events[12] = format!(" \t{}  ", events[12]);
        let text = format!(
            "{}{}{} {}\n{V2}",
            envelope("DATA_MESSAGE", &events[..2]),
            envelope("DATA_MESSAGE", &events),
            envelope("CONTROL_MESSAGE", &events[..5]),
            envelope("DATA_MESSAGE", &events[..3]),
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("firehose.json");
        write(&path, text.as_bytes());
        let (whole, pieces) = read_all(&path, 1 << 20, MAX_LINE_BYTES);
        assert_eq!(pieces, 0);
        assert_eq!(whole.2.read, 2 + 40 + 3 + 1);
        assert_eq!(whole.1.len(), 3, "{:?}", whole.1);
        for (size, max) in [(1, 300), (50, 300), (700, 1000), (3000, 1000), (10, 3000)] {
            let (read, pieces) = read_all(&path, size, max);
            assert_eq!(read, whole, "chunk {size}, bound {max}");
            assert!(pieces > 0, "chunk {size}, bound {max}");
        }
    }

    #[test]
    fn a_log_event_over_the_bound_is_one_malformed_event_and_reading_goes_on() {
        let mut events: Vec<String> = (0..6).map(|_| EVENT.to_string()).collect();
        events[2] = EVENT.replace("\"id\":\"1\"", &format!("\"id\":\"{}\"", "9".repeat(600)));
        let text = format!("{}\n{V2}", envelope("DATA_MESSAGE", &events));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        write(&path, text.as_bytes());
        for size in [1, 64, 200] {
            let ((records, malformed, counts), _) = read_all(&path, size, 400);
            let places: Vec<_> = records.iter().map(|r| (r.line, r.event)).collect();
            assert_eq!(
                places,
                [
                    (1, Some(1)),
                    (1, Some(2)),
                    (1, Some(4)),
                    (1, Some(5)),
                    (1, Some(6)),
                    (2, None)
                ],
                "{size}"
            );
            assert_eq!(
                malformed,
                [format!("{}:1: log event 3: the log event is longer than 400 bytes, the most a line or JSON value may hold: skipped to the next log event", path.display())]
            );
            assert_eq!((counts.read, counts.malformed), (7, 1));
        }
    }

    #[test]
    fn a_long_envelope_that_cannot_be_read_event_by_event_says_why() {
        let events: Vec<String> = (0..8).map(|_| EVENT.to_string()).collect();
        let all = events.join(",");
        let late = format!(r#"{{"owner":"1","logEvents":[{all}],"messageType":"DATA_MESSAGE"}}"#);
        let repeated = format!(
            r#"{{"messageType":"DATA_MESSAGE","logEvents":[{all}],"owner":"1","owner":"2"}}"#
        );
        // Both longer than the bound: a broken envelope within it is read whole (one bad item).
        let broken = format!(
            r#"{{"messageType":"DATA_MESSAGE","logEvents":[{EVENT},{EVENT} {all}]}} {}"#,
            envelope("DATA_MESSAGE", &events[..1])
        );
        let cut = format!(r#"{{"messageType":"DATA_MESSAGE","logEvents":[{all},{{"message":"#);
        let text = format!("{late}\n{repeated}\n{broken}\n{cut}\n{V2}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        write(&path, text.as_bytes());
        let ((records, malformed, counts), _) = read_all(&path, 100, 500);
        let at = |line: u64| {
            records
                .iter()
                .filter(|r| r.line == line)
                .map(|r| r.event.unwrap_or(0))
                .collect::<Vec<_>>()
        };
        let shown =
            |line: usize, rest: &str| format!("{}:{line}: log event {rest}", path.display());
        assert_eq!(at(1), Vec::<u32>::new());
        assert_eq!(at(2), (1..=8).collect::<Vec<_>>());
        assert_eq!(at(3), [1, 2]);
        assert_eq!(at(4), (1..=8).collect::<Vec<_>>());
        assert_eq!(
            malformed,
            [
                shown(1, "1: a CloudWatch Logs envelope longer than 500 bytes is read event by event, which needs its `messageType` before its `logEvents` (as CloudWatch Logs writes it): its log events are not read"),
                shown(2, "9: the key `owner` appears twice in a JSON object"),
                shown(3, "3: invalid JSON between the log events of a CloudWatch Logs envelope: the rest of the line is skipped"),
                shown(4, "9: the line ends inside a CloudWatch Logs envelope: its log events before are read"),
            ]
        );
        assert_eq!((counts.read, counts.malformed), (1 + 9 + 3 + 9 + 1, 4));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// An envelope read event by event (whatever the chunk size and the bound) gives what
        /// it gives read whole: records with their line and event numbers, malformed events,
        /// counts; so do data and control messages, a repeated key before the events, and
        /// other values around it on its line.
        #[test]
        fn envelopes_read_in_pieces_read_as_whole(
            kinds in proptest::collection::vec(0..5u8, 0..30),
            message_type in 0..3u8,
            spaces in 0..3usize,
            size in 1..400usize,
            // Past the longest of everything but the envelope (its head, one event, the line
            // of text), which is then read whole when shorter.
            max in 250..3000usize,
            around in 0..4u8,
            pad in 0..1000usize,
        ) {
            let gap = " ".repeat(spaces);
            let events: Vec<String> = kinds.iter().enumerate().map(|(i, k)| match k {
                0 | 1 => EVENT.replace("10.0.0.1 ", &format!("10.0.{i}.1 ")),
                2 => format!(r#"{{"message":"x{i}","message":"y"}}"#),
                3 => format!("{i}"),
                _ => r#"{"id":"1"}"#.to_string(),
            }).collect();
            let head = match message_type {
                0 => r#""messageType":"DATA_MESSAGE","owner":"1""#,
                1 => r#""messageType":"CONTROL_MESSAGE""#,
                _ => r#""messageType":"DATA_MESSAGE","owner":"1","owner":"2""#,
            };
            // A long run of white space between two events (or before the `]`).
            let mut listed = String::new();
            for (i, e) in events.iter().enumerate() {
                if i > 0 {
                    listed += &format!("{gap},{gap}");
                }
                if i == 1 {
                    listed += &" ".repeat(pad);
                }
                listed += e;
            }
            if events.len() == 1 {
                listed += &" ".repeat(pad);
            }
            let body = format!(r#"{{{head},{gap}"logEvents":{gap}[{gap}{listed}{gap}]{gap},"logStream":"s"}}"#);
            let small = envelope("DATA_MESSAGE", &[EVENT.to_string()]);
            let line = match around {
                0 => body,
                1 => format!("{small}{body}"),
                2 => format!("{body} {small}"),
                _ => format!("{small} {body}{small}"),
            };
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("x.json");
            write(&path, format!("{line}\n{V2}").as_bytes());
            let (whole, _) = read_all(&path, 1 << 20, MAX_LINE_BYTES);
            let (read, _) = read_all(&path, size, max);
            proptest::prop_assert_eq!(read, whole);
        }
    }

    #[test]
    fn gzip_multi_member() {
        let mut data = gzip(V2);
        data.extend(gzip(V2));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log.gz");
        write(&path, &data);
        let parsed: Vec<_> = ChunkReader::new(vec![path], None)
            .map(|c| parse_chunk(&c.unwrap()))
            .collect();
        let records: usize = parsed.iter().map(|p| p.records.len()).sum();
        assert_eq!(records, 2);
    }

    /// The text of a chunk's neighbouring lines and their first line number.
    fn near(c: &Option<Box<Chunk>>) -> Option<(u64, String, String)> {
        c.as_deref().map(|c| {
            (
                c.first_line,
                String::from_utf8_lossy(c.text()).into_owned(),
                c.format.to_string(),
            )
        })
    }

    #[test]
    fn chunks_carry_the_lines_around_them_within_a_file_and_a_format() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.log");
        let b = dir.path().join("b.log");
        let l = |n: u8| format!("2 1 eni-1 10.0.0.{n} 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK\n");
        write(
            &a,
            format!(
                "{}{}{}version srcaddr\n3 10.0.0.5\n3 10.0.0.6\n",
                l(1),
                l(2),
                l(3)
            )
            .as_bytes(),
        );
        write(&b, l(7).as_bytes());
        let chunks: Vec<Chunk> = ChunkReader::new(vec![a, b], None)
            .with_chunk_size(1)
            .map(Result::unwrap)
            .collect();
        assert_eq!(chunks.len(), 7);
        let v2 = Format::default().to_string();
        let around: Vec<_> = chunks
            .iter()
            .map(|c| (near(&c.before), near(&c.after)))
            .collect();
        let at = |line: u64, text: String, format: &str| Some((line, text, format.to_string()));
        assert_eq!(
            around,
            [
                (None, at(2, l(2), &v2)),
                (at(1, l(1), &v2), at(3, l(3), &v2)),
                // Nothing across the header line.
                (at(2, l(2), &v2), None),
                (
                    at(3, l(3), &v2),
                    at(5, "3 10.0.0.5\n".into(), "version srcaddr")
                ),
                (None, at(6, "3 10.0.0.6\n".into(), "version srcaddr")),
                (at(5, "3 10.0.0.5\n".into(), "version srcaddr"), None),
                // Nothing across files.
                (None, None),
            ]
        );
    }

    /// Chunks of Parquet rows take the same rows around them, kept as columns, as chunks of
    /// their text take lines: whatever the values' lengths, and for rows that go by their text
    /// (a first value that could start a header).
    #[test]
    fn parquet_rows_take_the_rows_around_them_as_their_text_takes_lines() {
        use crate::flow_log::parquet::{Rows, TestValue};
        let value = |i: usize| -> TestValue {
            match i % 7 {
                0 => None,
                1 => Some(Ok((i * 7919) as i64)),
                2 => Some(Ok(-((i * 31) as i64))),
                _ => Some(Err(vec![b'x'; i % 97])),
            }
        };
        for (rows_a, rows_b, first) in [
            (5000, 3000, None),
            (40, 12_000, None),
            (3000, 3000, Some("srcaddr")),
        ] {
            let columns = |n: usize, salt: usize| -> Vec<Vec<TestValue>> {
                (0..4)
                    .map(|c| {
                        (0..n)
                            .map(|r| match (c, first) {
                                (0, Some(word)) if r == n / 2 => {
                                    Some(Err(word.as_bytes().to_vec()))
                                }
                                (0, Some(_)) => Some(Err(b"9".to_vec())),
                                // A first value with no letter: the rows go by their columns.
                                (0, None) => {
                                    value(r * 3 + salt).map(|v| v.map_err(|b| vec![b'7'; b.len()]))
                                }
                                _ => value(r * 3 + c + salt),
                            })
                            .collect()
                    })
                    .collect()
            };
            let format =
                Format::from_columns(["version", "srcaddr", "packets", "extra"].into_iter())
                    .unwrap();
            let chunk = |rows: Rows, first_line: u64| Chunk {
                file: Arc::from(Path::new("x.parquet")),
                first_line,
                format: format.clone(),
                data: Vec::new(),
                rows: Some(Arc::new(rows)),
                piece: None,
                before: None,
                after: None,
                too_long: None,
            };
            let (mut a, mut b) = (
                chunk(Rows::from_values(&columns(rows_a, 0)), 1),
                chunk(Rows::from_values(&columns(rows_b, 5)), 1 + rows_a as u64),
            );
            let as_text = |c: &Chunk| Chunk {
                data: c.text().to_vec(),
                rows: None,
                ..c.clone()
            };
            let (mut ta, mut tb) = (as_text(&a), as_text(&b));
            link(&mut a, &mut b);
            link(&mut ta, &mut tb);
            assert!(tb.before.is_some() && ta.after.is_some());
            assert_eq!(near(&b.before), near(&tb.before));
            assert_eq!(near(&a.after), near(&ta.after));
            // Held as columns unless the rows go by their text.
            assert_eq!(b.before.as_ref().unwrap().rows.is_some(), first.is_none());
        }
    }

    #[test]
    fn the_lines_around_a_chunk_are_whole_and_at_most_near_bytes() {
        let line = |i: usize| {
            format!(
                "2 1 eni-1 10.0.{}.{} 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK\n",
                i / 256 % 256,
                i % 256
            )
        };
        let text: String = (0..8000).map(line).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        write(&path, text.as_bytes());
        let chunks: Vec<Chunk> = ChunkReader::new(vec![path], None)
            .with_chunk_size(150_000)
            .map(Result::unwrap)
            .collect();
        assert!(chunks.len() >= 3);
        let longest = 60;
        for pair in chunks.windows(2) {
            let (prev, next) = (&pair[0], &pair[1]);
            let before = next.before.as_deref().unwrap();
            let after = prev.after.as_deref().unwrap();
            assert!(prev.data.ends_with(&before.data));
            assert!(next.data.starts_with(&after.data));
            for near in [before, after] {
                assert!(near.data.len() <= NEAR_BYTES && near.data.len() > NEAR_BYTES - longest);
                assert!(near.data.ends_with(b"\n"));
                assert!(near.before.is_none() && near.after.is_none());
            }
            // Line numbers: the lines before end where the next chunk starts.
            let lines_before = before.data.iter().filter(|&&b| b == b'\n').count() as u64;
            assert_eq!(before.first_line + lines_before, next.first_line);
            assert_eq!(after.first_line, next.first_line);
            let first = (before.first_line - 1) as usize;
            assert!(before.data.starts_with(line(first).as_bytes()));
        }
        assert!(chunks[0].before.is_none() && chunks.last().unwrap().after.is_none());
    }

    #[test]
    fn a_read_error_comes_after_the_chunks_read_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let corrupt = dir.path().join("bad.log.gz");
        let mut data = gzip(&V2.repeat(5000));
        data.truncate(data.len() / 2);
        write(&corrupt, &data);
        let items: Vec<_> = ChunkReader::new(vec![corrupt], None)
            .with_chunk_size(1000)
            .collect();
        assert!(items.len() > 2);
        let (last, chunks) = items.split_last().unwrap();
        assert!(last.is_err());
        assert!(chunks.iter().all(Result::is_ok));
    }

    #[test]
    fn unreadable_inputs_are_errors_and_reading_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.log");
        write(&good, V2.as_bytes());
        let corrupt = dir.path().join("bad.log.gz");
        let mut data = gzip(&V2.repeat(50));
        data.truncate(data.len() / 2);
        write(&corrupt, &data);
        let items: Vec<_> = ChunkReader::new(
            vec![dir.path().join("missing.log"), corrupt, good.clone()],
            None,
        )
        .collect();
        let errors: Vec<String> = items
            .iter()
            .filter_map(|i| i.as_ref().err().map(|e| e.to_string()))
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("missing.log"));
        assert!(errors[1].contains("bad.log.gz"));
        let last = items.last().unwrap().as_ref().unwrap();
        assert_eq!(&*last.file, good.as_path());
    }

    #[test]
    fn log_names() {
        for name in ["a.log", "a.log.gz", "A.LOG", "x.gz", "x.txt", "x.json"] {
            assert!(is_log_name(Path::new(name)), "{name}");
        }
        for name in ["a.md", "log", "a.log.bak"] {
            assert!(!is_log_name(Path::new(name)), "{name}");
        }
    }
}
