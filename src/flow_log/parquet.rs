//! Flow logs delivered as Apache Parquet (`…_vpcflowlogs_….log.parquet`, Hive-style folders).
//!
//! A Parquet file is read row group by row group, a batch of rows at a time, by the `parquet`
//! crate's Arrow reader (each column decoded into an array; a string column chunk that is all
//! dictionary-encoded is kept as its dictionary and one key per row, and explaining reads each
//! dictionary entry once for the whole chunk). Each batch becomes a [`Chunk`] whose rows read
//! exactly as a text flow log with the header `version account-id interface-id …` would hold
//! them. So
//! every command that reads flow logs (`parse`, `explain`, `audit --flows`, `coverage`) reads
//! Parquet through the same parser and explainer as text: a Parquet file and the same records
//! as text give the same answers, and what is malformed in one is malformed in the other.
//!
//! - **Columns** are matched by name, with `_` read as `-` (`interface_id` is `interface-id`)
//!   and case ignored; any subset and order. A column that is no flow-log field is kept as
//!   text, as an unknown header field is (with the same warning).
//! - **Types**: integers of either width (INT32 or INT64, whatever the field; a logical type
//!   such as unsigned or date is not applied: the stored value is read), strings (BYTE_ARRAY,
//!   not checked as UTF-8), booleans and floating point numbers (written as text; the parser
//!   then judges them as it would in a text log). A column of another physical type (INT96,
//!   fixed-length bytes), a list, or a column inside a group cannot be read as a flow-log
//!   field: the file is an error naming the column.
//! - **NULL** is the text format's `-` (the field does not apply), and so is an empty string.
//! - **Untrusted strings**: a string value holding a blank or a control character cannot be one
//!   field of a text record. Each such byte is written as `?`, so that the value stays one
//!   field (never shifting the fields after it) and no control character reaches a terminal.
//!   No flow-log field's valid value holds one.
//! - **Compression**: the column chunks' own codec (GZIP, as AWS writes them, Snappy, ZSTD,
//!   LZ4); Parquet files are not wrapped in an outer gzip.
//! - **Numbering**: a record's `line` is its 1-based row number in the file (rows counted
//!   across row groups); `parse` writes it as `row`.
//!
//! A Parquet file is recognised by its content (`PAR1` at its start), whatever its name; in a
//! folder, files whose names end in `.parquet` are read.
//!
//! **Parallel**: with more than one thread ([`ChunkReader::with_threads`](super::ChunkReader::with_threads)),
//! the columns of each row group are split between that many threads, each decoding its
//! columns' pages batch by batch (and making each batch's [`Column`]s), while the reading thread
//! puts each batch's columns together in order. Splitting a row group by column rather than
//! handing whole row groups to threads keeps memory flat (a thread is never more than two
//! batches ahead) and uses every thread on a file of a single row group, which is how flow-log
//! files are usually written; the rows are then explained in parallel as any chunk is.

use super::chunk::Chunk;
use super::format::Format;
use super::input::ReadError;
use super::scan::DictRead;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Float64Type, Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, BinaryArray};
use arrow_schema::{DataType, Field as ArrowField, Schema};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::basic::{Encoding, Type as Physical};
use parquet::file::metadata::{
    ColumnChunkMetaData, FileMetaData, ParquetMetaData, ParquetMetaDataReader,
};
use parquet::file::reader::{ChunkReader as ByteSource, Length};
use parquet::schema::types::{SchemaDescriptor, Type as SchemaType};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, OnceLock};

/// Rows read per column at a time: about a megabyte of text records for the widest formats.
const BATCH_ROWS: usize = 8192;

/// True when the file starts with Parquet's magic bytes (its position is put back).
pub(crate) fn is_parquet(file: &mut File) -> io::Result<bool> {
    let mut magic = [0u8; 4];
    let mut got = 0;
    while got < magic.len() {
        match file.read(&mut magic[got..])? {
            0 => break,
            n => got += n,
        }
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(got == 4 && &magic == b"PAR1")
}

/// The number of rows of each row group of `path` when it is a Parquet file (`None` when it is
/// not one): what a reader that splits a file by row group
/// ([`ChunkReader::with_row_groups`](super::ChunkReader::with_row_groups)) plans with.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.log");
/// std::fs::write(&path, "2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n").unwrap();
/// assert_eq!(vpcreach::flow_log::parquet_row_groups(&path).unwrap(), None);
/// ```
pub fn parquet_row_groups(path: &Path) -> io::Result<Option<Vec<u64>>> {
    let mut file = File::open(path)?;
    if !is_parquet(&mut file)? {
        return Ok(None);
    }
    let meta = ParquetMetaDataReader::new()
        .parse_and_finish(&file)
        .map_err(|e| invalid(format!("not a readable Parquet file: {e}")))?;
    Ok(Some(
        (0..meta.num_row_groups())
            .map(|g| u64::try_from(meta.row_group(g).num_rows()).unwrap_or(0))
            .collect(),
    ))
}

/// A Parquet file read at given offsets (`pread`), so that the threads reading its column
/// chunks never move one another's position (handles made by [`File::try_clone`] share one).
#[derive(Clone)]
struct SharedFile {
    file: Arc<File>,
    /// The file's length when it was opened: no read reaches past it.
    len: u64,
}

impl Length for SharedFile {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ByteSource for SharedFile {
    type T = io::BufReader<ReadAt>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(io::BufReader::new(ReadAt {
            file: Arc::clone(&self.file),
            at: start,
            end: self.len,
        }))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        // A length from the file's metadata: checked against the file before anything is
        // allocated for it.
        let end = start
            .checked_add(length as u64)
            .filter(|&end| end <= self.len);
        if end.is_none() {
            return Err(parquet::errors::ParquetError::EOF(format!(
                "{length} bytes at offset {start} are past the end of the file ({} bytes)",
                self.len
            )));
        }
        let mut buffer = vec![0; length];
        self.file.read_exact_at(&mut buffer, start)?;
        Ok(bytes::Bytes::from(buffer))
    }
}

/// A reader of a [`SharedFile`] from an offset to its end.
struct ReadAt {
    file: Arc<File>,
    at: u64,
    end: u64,
}

impl Read for ReadAt {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.end.saturating_sub(self.at)).unwrap_or(usize::MAX);
        let want = buf.len().min(left);
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

/// What reading a row group's columns gives next.
enum Decoded {
    /// The next batch: its number of rows and its columns (the part's, in its order).
    Batch(usize, Vec<Column>),
    /// Reading failed (the message says why); nothing more comes.
    Failed(String),
    /// The row group is read.
    End,
}

/// Some columns of the open row group, batch by batch: read here, or by a thread of their own.
enum Part {
    /// Read by the reading thread.
    Here {
        /// The columns (their indices in the file), in order.
        columns: Vec<usize>,
        /// Their reader.
        batches: ParquetRecordBatchReader,
        /// Per column: its dictionary (see [`column_of`]).
        dictionaries: Vec<Option<(ArrayRef, Arc<Dictionary>)>>,
    },
    /// Read by a thread of their own, at most two batches ahead.
    Thread {
        /// The columns (their indices in the file), in order.
        columns: Vec<usize>,
        /// What the thread read.
        decoded: Receiver<Decoded>,
    },
}

impl Part {
    fn columns(&self) -> &[usize] {
        match self {
            Part::Here { columns, .. } | Part::Thread { columns, .. } => columns,
        }
    }

    fn next(&mut self) -> Decoded {
        match self {
            Part::Here {
                batches,
                dictionaries,
                ..
            } => next_batch(batches, dictionaries),
            // The thread ended without saying so: it cannot, but is not taken for the end.
            Part::Thread { decoded, .. } => decoded.recv().unwrap_or_else(|_| {
                Decoded::Failed("internal error: a thread reading columns stopped".into())
            }),
        }
    }
}

/// The next batch of `batches`, its columns made [`Column`]s; a panic of the Parquet reader
/// (a bug, on whatever input) is a failure, not the end of the program or a silent end.
fn next_batch(
    batches: &mut ParquetRecordBatchReader,
    dictionaries: &mut [Option<(ArrayRef, Arc<Dictionary>)>],
) -> Decoded {
    let read = catch_unwind(AssertUnwindSafe(|| loop {
        return match batches.next() {
            Some(Ok(batch)) if batch.num_rows() == 0 => continue,
            Some(Ok(batch)) => Decoded::Batch(
                batch.num_rows(),
                batch
                    .columns()
                    .iter()
                    .zip(dictionaries.iter_mut())
                    .map(|(array, dictionary)| column_of(array, dictionary))
                    .collect(),
            ),
            Some(Err(e)) => Decoded::Failed(e.to_string()),
            None => Decoded::End,
        };
    }));
    read.unwrap_or_else(|_| Decoded::Failed("internal error: the Parquet reader panicked".into()))
}

/// Reads `batches` on a thread of its own, sending each batch (at most two ahead of the
/// receiver) until the end, a failure, or the receiver is gone.
fn spawn_part(
    mut batches: ParquetRecordBatchReader,
    width: usize,
) -> io::Result<Receiver<Decoded>> {
    let (tx, rx): (SyncSender<Decoded>, _) = mpsc::sync_channel(2);
    std::thread::Builder::new()
        .name("parquet-columns".into())
        .spawn(move || {
            let mut dictionaries = vec![None; width];
            loop {
                let next = next_batch(&mut batches, &mut dictionaries);
                let last = !matches!(next, Decoded::Batch(..));
                if tx.send(next).is_err() || last {
                    return;
                }
            }
        })?;
    Ok(rx)
}

/// The columns `0..sizes.len()` split into at most `parts` sets of about equal size (`sizes`:
/// each column's bytes), each set in column order; the largest columns are placed first, each
/// in the set that holds the fewest bytes so far.
fn split_columns(sizes: &[u64], parts: usize) -> Vec<Vec<usize>> {
    let parts = parts.clamp(1, sizes.len().max(1));
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let mut sets = vec![(0u64, Vec::new()); parts];
    for i in order {
        if let Some(set) = sets.iter_mut().min_by_key(|(total, _)| *total) {
            set.0 = set.0.saturating_add(sizes[i]);
            set.1.push(i);
        }
    }
    let mut sets: Vec<Vec<usize>> = sets
        .into_iter()
        .map(|(_, mut set)| {
            set.sort_unstable();
            set
        })
        .filter(|set| !set.is_empty())
        .collect();
    sets.sort_unstable();
    sets
}

/// An open Parquet flow log, read batch by batch.
pub(crate) struct ParquetRows {
    name: Arc<Path>,
    /// The file, read at offsets: each row group's columns through readers of their own.
    file: SharedFile,
    /// Threads to read a row group's columns with (1: all on the reading thread).
    threads: usize,
    /// The file's metadata, its schema reduced to the columns' physical types
    /// ([`physical_only`]).
    metadata: Arc<ParquetMetaData>,
    /// The records' format, from the column names.
    format: Format,
    /// Warnings about the columns, handed out before the first chunk.
    pub(crate) notices: Vec<ReadError>,
    /// The next row group to open.
    next_group: usize,
    /// The row group after the last to read (all of them unless [`ParquetRows::select_groups`]
    /// chose fewer).
    end_group: usize,
    /// The open row group's columns, batch by batch (empty: none is open).
    parts: Vec<Part>,
    /// The 1-based number of the next row.
    next_row: u64,
}

/// Rows of a Parquet file, column by column: what a [`Chunk`] of a Parquet file holds instead
/// of text ([`Chunk::rows`]).
///
/// Explaining reads the fields it needs straight from the columns
/// ([`Scanner`](super::Scanner)); everything else reads the rows as text, one line per row in the
/// file's format, exactly as a text flow log with the same records ([`Rows::text`], made on first
/// use and kept).
#[derive(Debug)]
pub struct Rows {
    columns: Vec<Column>,
    rows: usize,
    /// The rows as text, made on first use.
    text: OnceLock<Vec<u8>>,
}

/// One column's values.
#[derive(Debug, Clone)]
enum Column {
    /// INT32 and INT64 values (`None`: NULL).
    Ints(Vec<Option<i64>>),
    /// Values as bytes; row `i`'s is `data[ends[i-1]..ends[i]]` (empty: NULL). `raw` when they
    /// are the file's strings as they are (a blank or control byte is written as `?` in text),
    /// not text made here (booleans and floating point numbers).
    Bytes {
        data: Vec<u8>,
        ends: Vec<usize>,
        raw: bool,
    },
    /// Strings as a dictionary-encoded column chunk holds them: each row's key into `values`
    /// (a `Bytes` column of the distinct values, as the file holds them), [`NULL_KEY`] for NULL.
    Dict {
        keys: Vec<u32>,
        values: Arc<Dictionary>,
    },
}

/// The values of a dictionary-encoded column chunk, shared by its batches.
#[derive(Debug)]
struct Dictionary {
    /// The entries (a [`Column::Bytes`]).
    values: Column,
    /// What the fast reader made of each entry, made on first use.
    read: OnceLock<DictRead>,
}

/// The key of a NULL row of a [`Column::Dict`].
pub(crate) const NULL_KEY: u32 = u32::MAX;

/// A value of a column of [`Rows::from_values`]: an integer (`Ok`), a string as the file
/// holds it (`Err`), or NULL (`None`).
#[cfg(test)]
pub(crate) type TestValue = Option<Result<i64, Vec<u8>>>;

/// One value of [`Rows`], as [`Rows::cell`] gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell<'a> {
    /// NULL (or an empty string): `-` in text.
    Null,
    /// An integer.
    Int(i64),
    /// Bytes: in text as they are, except that a blank or control byte is `?`.
    Bytes(&'a [u8]),
}

/// One column of [`Rows`], as [`Rows::column`] gives it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ColumnRef<'a> {
    /// Integers, `None` for NULL.
    Ints(&'a [Option<i64>]),
    /// Bytes: row `i`'s value is `data[ends[i-1]..ends[i]]` (empty: NULL), in text as they
    /// are except that a blank or control byte is `?`.
    Bytes {
        /// The values one after the other.
        data: &'a [u8],
        /// Where each row's value ends.
        ends: &'a [usize],
    },
    /// Bytes of a dictionary: row `i`'s value is entry `keys[i]` of the dictionary (none for
    /// [`NULL_KEY`]), entry `k` being `data[ends[k-1]..ends[k]]` (empty: NULL); in text as they
    /// are except that a blank or control byte is `?`.
    Dict {
        /// Each row's entry.
        keys: &'a [u32],
        /// The entries one after the other.
        data: &'a [u8],
        /// Where each entry ends.
        ends: &'a [usize],
        /// What the fast reader made of the entries, kept for every batch of the chunk.
        read: &'a OnceLock<DictRead>,
    },
}

impl Column {
    fn cell(&self, row: usize) -> Cell<'_> {
        match self {
            Column::Ints(values) => match values.get(row) {
                Some(Some(v)) => Cell::Int(*v),
                _ => Cell::Null,
            },
            Column::Bytes { data, ends, .. } => {
                let start = if row == 0 {
                    0
                } else {
                    ends.get(row - 1).copied().unwrap_or(0)
                };
                let end = ends.get(row).copied().unwrap_or(start);
                match data.get(start..end) {
                    Some(v) if !v.is_empty() => Cell::Bytes(v),
                    _ => Cell::Null,
                }
            }
            Column::Dict { keys, values } => match keys.get(row) {
                Some(&key) if key != NULL_KEY => values.values.cell(key as usize),
                _ => Cell::Null,
            },
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Ints(values) => values.len(),
            Column::Bytes { ends, .. } => ends.len(),
            Column::Dict { keys, .. } => keys.len(),
        }
    }

    fn slice(&self, rows: std::ops::Range<usize>) -> Column {
        match self {
            Column::Ints(values) => Column::Ints(values.get(rows).unwrap_or_default().to_vec()),
            Column::Bytes { data, ends, raw } => {
                let base = if rows.start == 0 {
                    0
                } else {
                    ends.get(rows.start - 1).copied().unwrap_or(0)
                };
                let last = if rows.end == 0 {
                    0
                } else {
                    ends.get(rows.end - 1).copied().unwrap_or(base)
                };
                Column::Bytes {
                    data: data.get(base..last).unwrap_or_default().to_vec(),
                    ends: ends
                        .get(rows)
                        .unwrap_or_default()
                        .iter()
                        .map(|e| e - base)
                        .collect(),
                    raw: *raw,
                }
            }
            Column::Dict { keys, values } => Column::Dict {
                keys: keys.get(rows).unwrap_or_default().to_vec(),
                values: Arc::clone(values),
            },
        }
    }
}

impl Rows {
    /// Rows of these columns (all of the same length).
    fn new(columns: Vec<Column>) -> Rows {
        let rows = columns.first().map_or(0, Column::len);
        Rows {
            columns,
            rows,
            text: OnceLock::new(),
        }
    }

    /// Rows from values column by column (for tests): `Ok` values are integers, `Err` values
    /// strings as the file holds them; `None` is NULL.
    #[cfg(test)]
    pub(crate) fn from_values(columns: &[Vec<TestValue>]) -> Rows {
        Rows::from_plain_values(columns)
    }

    /// [`Rows::from_values`], each string column dictionary-encoded when `dictionary` is set:
    /// its distinct values, then that many entries no row uses.
    #[cfg(test)]
    pub(crate) fn from_values_encoded(
        columns: &[Vec<TestValue>],
        dictionary: Option<usize>,
    ) -> Rows {
        let mut rows = Rows::from_plain_values(columns);
        let Some(unused) = dictionary else {
            return rows;
        };
        for (column, values) in rows.columns.iter_mut().zip(columns) {
            if matches!(column, Column::Ints(_)) {
                continue;
            }
            let mut entries: Vec<Vec<u8>> = Vec::new();
            let keys = values
                .iter()
                .map(|v| {
                    let bytes = match v {
                        None => return NULL_KEY,
                        Some(Ok(n)) => n.to_string().into_bytes(),
                        Some(Err(b)) => b.clone(),
                    };
                    let at = entries.iter().position(|e| *e == bytes).unwrap_or_else(|| {
                        entries.push(bytes);
                        entries.len() - 1
                    });
                    at as u32
                })
                .collect();
            entries.extend((0..unused).map(|i| format!("unused{i}").into_bytes()));
            let mut data = Vec::new();
            let ends = entries
                .iter()
                .map(|e| {
                    data.extend_from_slice(e);
                    data.len()
                })
                .collect();
            *column = Column::Dict {
                keys,
                values: Arc::new(Dictionary {
                    values: Column::Bytes {
                        data,
                        ends,
                        raw: true,
                    },
                    read: OnceLock::new(),
                }),
            };
        }
        rows
    }

    /// [`Rows::from_values`] without a dictionary.
    #[cfg(test)]
    fn from_plain_values(columns: &[Vec<TestValue>]) -> Rows {
        let columns = columns
            .iter()
            .map(|values| {
                if values.iter().all(|v| !matches!(v, Some(Err(_)))) {
                    Column::Ints(
                        values
                            .iter()
                            .map(|v| v.as_ref().and_then(|v| v.as_ref().ok().copied()))
                            .collect(),
                    )
                } else {
                    let mut data = Vec::new();
                    let mut ends = Vec::new();
                    for v in values {
                        match v {
                            Some(Ok(n)) => data.extend_from_slice(n.to_string().as_bytes()),
                            Some(Err(b)) => data.extend_from_slice(b),
                            None => {}
                        }
                        ends.push(data.len());
                    }
                    Column::Bytes {
                        data,
                        ends,
                        raw: true,
                    }
                }
            })
            .collect();
        Rows::new(columns)
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// How many columns.
    pub(crate) fn width(&self) -> usize {
        self.columns.len()
    }

    /// Column `column`.
    pub(crate) fn column(&self, column: usize) -> Option<ColumnRef<'_>> {
        self.columns.get(column).map(|c| match c {
            Column::Ints(values) => ColumnRef::Ints(values),
            Column::Bytes { data, ends, .. } => ColumnRef::Bytes { data, ends },
            Column::Dict { keys, values } => match &values.values {
                Column::Bytes { data, ends, .. } => ColumnRef::Dict {
                    keys,
                    data,
                    ends,
                    read: &values.read,
                },
                // Never made: a dictionary's values are bytes.
                _ => ColumnRef::Dict {
                    keys,
                    data: &[],
                    ends: &[],
                    read: &values.read,
                },
            },
        })
    }

    /// The value of column `column` in row `row` (NULL outside the rows).
    pub(crate) fn cell(&self, row: usize, column: usize) -> Cell<'_> {
        self.columns.get(column).map_or(Cell::Null, |c| c.cell(row))
    }

    /// True when some row's text might not be a record line: its first value starts with a
    /// letter (a header line is field names), `{` (JSON), `#` (a comment) or a byte outside
    /// ASCII (white space beyond ASCII is trimmed before any of those). Such rows are read
    /// through the text ([`Rows::text`]), as a text flow log's lines are.
    pub(crate) fn may_hold_other_lines(&self) -> bool {
        match self.columns.first() {
            Some(Column::Bytes { .. } | Column::Dict { .. }) => {
                (0..self.rows).any(|row| match self.cell(row, 0) {
                    Cell::Bytes(v) => v.first().is_some_and(|b| {
                        b.is_ascii_alphabetic() || matches!(b, b'{' | b'#' | 0x80..)
                    }),
                    _ => false,
                })
            }
            _ => false,
        }
    }

    /// Appends row `row` as one line of text, without its line end.
    pub(crate) fn write_row(&self, row: usize, out: &mut Vec<u8>) {
        for (i, column) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(b' ');
            }
            match column.cell(row) {
                Cell::Null => out.push(b'-'),
                Cell::Int(v) => out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes()),
                Cell::Bytes(v) => match column {
                    Column::Bytes { raw: true, .. } | Column::Dict { .. } => out.extend(
                        v.iter()
                            .map(|&b| if b <= b' ' || b == 0x7f { b'?' } else { b }),
                    ),
                    _ => out.extend_from_slice(v),
                },
            }
        }
    }

    /// The length of row `row`'s line of text, its line end included.
    fn line_len(&self, row: usize) -> usize {
        let values: usize = self
            .columns
            .iter()
            .map(|column| match column.cell(row) {
                Cell::Null => 1,
                Cell::Int(v) => decimal_len(v),
                Cell::Bytes(v) => v.len(),
            })
            .sum();
        values + self.columns.len()
    }

    /// Every row as a line of text (`\n` after each), in the file's format: what a text flow
    /// log of the same records holds.
    pub fn text(&self) -> &[u8] {
        self.text.get_or_init(|| {
            let mut data = Vec::with_capacity((0..self.rows).map(|r| self.line_len(r)).sum());
            for row in 0..self.rows {
                self.write_row(row, &mut data);
                data.push(b'\n');
            }
            data
        })
    }

    /// Rows `rows` alone.
    pub(crate) fn slice(&self, rows: std::ops::Range<usize>) -> Rows {
        Rows::new(self.columns.iter().map(|c| c.slice(rows.clone())).collect())
    }

    /// The last rows whose lines of text lie within the last `bytes` bytes of the rows' text:
    /// what [`Chunk::before`] takes of the chunk before, as it would of its text.
    pub(crate) fn tail(&self, bytes: usize) -> std::ops::Range<usize> {
        let mut sum = 0;
        let mut from = self.rows;
        while from > 0 {
            sum += self.line_len(from - 1);
            if sum > bytes {
                break;
            }
            from -= 1;
        }
        from..self.rows
    }

    /// The first rows whose lines of text lie within the first `bytes` bytes of the rows'
    /// text: what [`Chunk::after`] takes of the chunk after, as it would of its text.
    pub(crate) fn head(&self, bytes: usize) -> std::ops::Range<usize> {
        let mut sum = 0;
        let mut to = 0;
        while to < self.rows {
            sum += self.line_len(to);
            if sum > bytes {
                break;
            }
            to += 1;
        }
        0..to
    }
}

/// How many bytes `v` takes written in decimal (its sign included).
fn decimal_len(v: i64) -> usize {
    let mut n = v.unsigned_abs();
    let mut len = 1 + usize::from(v < 0);
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl ParquetRows {
    /// Opens a Parquet file and reads its schema; its row groups' columns are then read on
    /// `threads` threads (1: on the calling thread).
    pub(crate) fn open(name: &Path, file: File, threads: usize) -> io::Result<ParquetRows> {
        let metadata = ParquetMetaDataReader::new()
            .parse_and_finish(&file)
            .map_err(|e| invalid(format!("not a readable Parquet file: {e}")))?;
        let schema = metadata.file_metadata().schema_descr();
        let mut names = Vec::with_capacity(schema.num_columns());
        for i in 0..schema.num_columns() {
            let column = schema.column(i);
            if column.max_rep_level() > 0 {
                return Err(invalid(format!(
                    "column `{}` is a list: flow-log columns hold one value per row",
                    crate::render::sanitize(&column.path().string())
                )));
            }
            if column.path().parts().len() > 1 {
                return Err(invalid(format!(
                    "column `{}` is inside a group: flow-log columns are at the top level",
                    crate::render::sanitize(&column.path().string())
                )));
            }
            match column.physical_type() {
                Physical::INT32
                | Physical::INT64
                | Physical::BYTE_ARRAY
                | Physical::BOOLEAN
                | Physical::FLOAT
                | Physical::DOUBLE => {}
                other => {
                    return Err(invalid(format!(
                        "column `{}` is of Parquet type {other}, which no flow-log field has",
                        crate::render::sanitize(column.name())
                    )))
                }
            }
            let name = column.name().to_ascii_lowercase().replace('_', "-");
            if name.is_empty() || name.bytes().any(|b| b <= b' ' || b == 0x7f) {
                return Err(invalid(format!(
                    "column `{}` has a name no flow-log field has",
                    crate::render::sanitize(column.name())
                )));
            }
            names.push(name);
        }
        if names.is_empty() {
            return Err(invalid("the Parquet file has no columns".into()));
        }
        let format = Format::from_columns(names.iter().map(String::as_str))
            .map_err(|e| invalid(format!("its columns are not a flow-log format: {e}")))?;
        let mut notices = Vec::new();
        for unknown in format.unknown_names() {
            if super::field::is_aws_field_name(unknown) {
                continue;
            }
            notices.push(ReadError::UnknownField {
                path: name.to_path_buf(),
                line: 0,
                name: crate::render::sanitize(unknown),
                suggestion: super::suggest_field(unknown),
            });
        }
        let metadata = physical_only(&metadata)
            .map_err(|e| invalid(format!("not a readable Parquet file: {e}")))?;
        let len = file.metadata()?.len();
        Ok(ParquetRows {
            name: Arc::from(name),
            file: SharedFile {
                file: Arc::new(file),
                len,
            },
            threads: threads.max(1),
            metadata: Arc::new(metadata),
            format,
            notices,
            next_group: 0,
            end_group: usize::MAX,
            parts: Vec::new(),
            next_row: 1,
        })
    }

    /// Reads only the row groups `groups` (0-based), numbering their rows as in the whole file.
    pub(crate) fn select_groups(&mut self, groups: std::ops::Range<usize>) {
        let meta = &self.metadata;
        let before: i64 = (0..groups.start.min(meta.num_row_groups()))
            .map(|g| meta.row_group(g).num_rows())
            .sum();
        self.next_row = 1 + u64::try_from(before).unwrap_or(0);
        self.next_group = groups.start;
        self.end_group = groups.end;
    }

    /// Stops reading (after an error); threads reading columns end at their next batch.
    fn stop(&mut self) {
        self.next_group = usize::MAX;
        self.parts = Vec::new();
    }

    /// The next chunk of records; `None` at the end of the file.
    pub(crate) fn next_chunk(&mut self) -> Option<io::Result<Chunk>> {
        loop {
            if !self.parts.is_empty() {
                match self.next_columns() {
                    Ok(Some((rows, columns))) => return Some(Ok(self.chunk(rows, columns))),
                    Ok(None) => self.parts = Vec::new(),
                    Err(e) => {
                        self.stop();
                        return Some(Err(invalid(format!("rows from {}: {e}", self.next_row))));
                    }
                }
                continue;
            }
            if self.next_group >= self.metadata.num_row_groups().min(self.end_group) {
                return None;
            }
            let group = self.next_group;
            self.next_group += 1;
            match self.open_group(group) {
                Ok(parts) => self.parts = parts,
                Err(e) => {
                    self.stop();
                    return Some(Err(invalid(format!("row group {}: {e}", group + 1))));
                }
            }
        }
    }

    /// The next batch of the open row group, every part's columns in file order; `None` at
    /// the row group's end.
    fn next_columns(&mut self) -> Result<Option<(usize, Vec<Column>)>, String> {
        let width = self.metadata.file_metadata().schema_descr().num_columns();
        let mut columns: Vec<Option<Column>> = (0..width).map(|_| None).collect();
        let (mut rows, mut ended) = (None, false);
        for part in &mut self.parts {
            match part.next() {
                Decoded::Batch(n, read) => {
                    if ended || rows.is_some_and(|r| r != n) {
                        return Err("its columns hold different numbers of rows".into());
                    }
                    rows = Some(n);
                    for (&i, column) in part.columns().iter().zip(read) {
                        if let Some(slot) = columns.get_mut(i) {
                            *slot = Some(column);
                        }
                    }
                }
                Decoded::End if rows.is_some() => {
                    return Err("its columns hold different numbers of rows".into())
                }
                Decoded::End => ended = true,
                Decoded::Failed(e) => return Err(e),
            }
        }
        let Some(rows) = rows else { return Ok(None) };
        let columns: Option<Vec<Column>> = columns.into_iter().collect();
        match columns {
            Some(columns) => Ok(Some((rows, columns))),
            None => Err("internal error: a column was not read".into()),
        }
    }

    /// The chunk of one batch of rows.
    fn chunk(&mut self, rows: usize, columns: Vec<Column>) -> Chunk {
        let chunk = Chunk {
            file: Arc::clone(&self.name),
            first_line: self.next_row,
            format: self.format.clone(),
            data: Vec::new(),
            rows: Some(Arc::new(Rows::new(columns))),
            piece: None,
            before: None,
            after: None,
            too_long: None,
        };
        self.next_row += rows as u64;
        chunk
    }

    /// Readers of row group `group`'s rows, a batch at a time: its columns split between
    /// [`ParquetRows::threads`] threads (or all read here). A string column whose chunk is all
    /// dictionary-encoded is read as its dictionary and keys.
    fn open_group(&mut self, group: usize) -> parquet::errors::Result<Vec<Part>> {
        let descr = self.metadata.file_metadata().schema_descr();
        let chunks = self.metadata.row_group(group).columns();
        let fields: Vec<ArrowField> = descr
            .columns()
            .iter()
            .enumerate()
            .map(|(i, column)| {
                let kind = match column.physical_type() {
                    Physical::INT32 => DataType::Int32,
                    Physical::INT64 => DataType::Int64,
                    Physical::BOOLEAN => DataType::Boolean,
                    Physical::FLOAT => DataType::Float32,
                    Physical::DOUBLE => DataType::Float64,
                    _ if chunks.get(i).is_some_and(all_dictionary) => {
                        DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Binary))
                    }
                    _ => DataType::Binary,
                };
                ArrowField::new(column.name(), kind, column.self_type().is_optional())
            })
            .collect();
        let options = ArrowReaderOptions::new()
            .with_skip_arrow_metadata(true)
            .with_schema(Arc::new(Schema::new(fields)));
        let metadata = ArrowReaderMetadata::try_new(Arc::clone(&self.metadata), options)?;
        let reader = |columns: &[usize]| {
            ParquetRecordBatchReaderBuilder::new_with_metadata(self.file.clone(), metadata.clone())
                .with_row_groups(vec![group])
                .with_projection(ProjectionMask::leaves(descr, columns.iter().copied()))
                .with_batch_size(BATCH_ROWS)
                .build()
        };
        let sizes: Vec<u64> = chunks
            .iter()
            .map(|c| u64::try_from(c.uncompressed_size()).unwrap_or(0))
            .collect();
        let sets = split_columns(&sizes, self.threads);
        if sets.len() <= 1 {
            let columns: Vec<usize> = (0..descr.num_columns()).collect();
            return Ok(vec![Part::Here {
                batches: reader(&columns)?,
                dictionaries: vec![None; columns.len()],
                columns,
            }]);
        }
        let mut parts = Vec::with_capacity(sets.len());
        for columns in sets {
            let decoded = spawn_part(reader(&columns)?, columns.len())
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e)))?;
            parts.push(Part::Thread { columns, decoded });
        }
        Ok(parts)
    }
}

/// True when every data page of the column chunk is dictionary-encoded (so the dictionary and
/// the keys are read, not a value per row).
fn all_dictionary(chunk: &ColumnChunkMetaData) -> bool {
    chunk.dictionary_page_offset().is_some()
        && chunk.page_encoding_stats_mask().is_none_or(|mask| {
            mask.is_only(Encoding::PLAIN_DICTIONARY) || mask.is_only(Encoding::RLE_DICTIONARY)
        })
}

/// The metadata with a schema of the columns' physical types alone (no logical or converted
/// types): integers are read as the file stores them (an unsigned, date or decimal column as
/// its INT32 or INT64 values), strings as bytes (not checked as UTF-8), as the text of a flow
/// log holds them. The schema is flat ([`ParquetRows::open`] refuses groups and lists).
fn physical_only(metadata: &ParquetMetaData) -> parquet::errors::Result<ParquetMetaData> {
    let file = metadata.file_metadata();
    let descr = file.schema_descr();
    let fields = descr
        .columns()
        .iter()
        .map(|column| {
            let info = column.self_type().get_basic_info();
            let mut field =
                SchemaType::primitive_type_builder(column.name(), column.physical_type());
            if info.has_repetition() {
                field = field.with_repetition(info.repetition());
            }
            field.build().map(Arc::new)
        })
        .collect::<parquet::errors::Result<Vec<_>>>()?;
    let root = SchemaType::group_type_builder(descr.root_schema().name())
        .with_fields(fields)
        .build()?;
    let file = FileMetaData::new(
        file.version(),
        file.num_rows(),
        None,
        None,
        Arc::new(SchemaDescriptor::new(Arc::new(root))),
        None,
    );
    Ok(ParquetMetaData::new(file, metadata.row_groups().to_vec()))
}

/// One batch's column as a [`Column`]; `dictionary` holds the column's last dictionary, reused
/// while the batches share it.
fn column_of(array: &ArrayRef, dictionary: &mut Option<(ArrayRef, Arc<Dictionary>)>) -> Column {
    use std::io::Write;
    fn text<T: std::fmt::Display>(values: impl Iterator<Item = Option<T>>) -> Column {
        let mut data = Vec::new();
        let ends = values
            .map(|v| {
                if let Some(v) = v {
                    let _ = write!(data, "{v}");
                }
                data.len()
            })
            .collect();
        Column::Bytes {
            data,
            ends,
            raw: false,
        }
    }
    if let Some(a) = array.as_primitive_opt::<Int32Type>() {
        if a.null_count() == 0 {
            return Column::Ints(a.values().iter().map(|&v| Some(i64::from(v))).collect());
        }
        return Column::Ints(a.iter().map(|v| v.map(i64::from)).collect());
    }
    if let Some(a) = array.as_primitive_opt::<Int64Type>() {
        if a.null_count() == 0 {
            return Column::Ints(a.values().iter().map(|&v| Some(v)).collect());
        }
        return Column::Ints(a.iter().collect());
    }
    if let Some(a) = array.as_binary_opt::<i32>() {
        return bytes_of(a);
    }
    if let Some(a) = array.as_dictionary_opt::<Int32Type>() {
        let values = match dictionary {
            // Each batch's array is new, its buffers the column chunk's dictionary's (kept alive
            // here, so that another dictionary cannot take their place in memory).
            Some((kept, values)) if same_buffers(kept, a.values()) => Arc::clone(values),
            _ => {
                let values = Arc::new(Dictionary {
                    values: match a.values().as_binary_opt::<i32>() {
                        Some(v) => bytes_of(v),
                        None => Column::Bytes {
                            data: Vec::new(),
                            ends: Vec::new(),
                            raw: true,
                        },
                    },
                    read: OnceLock::new(),
                });
                *dictionary = Some((Arc::clone(a.values()), Arc::clone(&values)));
                values
            }
        };
        let keys = a
            .keys()
            .iter()
            .map(|k| k.and_then(|k| u32::try_from(k).ok()).unwrap_or(NULL_KEY))
            .collect();
        return Column::Dict { keys, values };
    }
    if let Some(a) = array.as_boolean_opt() {
        return text(a.iter());
    }
    if let Some(a) = array.as_primitive_opt::<Float32Type>() {
        return text(a.iter());
    }
    if let Some(a) = array.as_primitive_opt::<Float64Type>() {
        return text(a.iter());
    }
    // Never read: the schema asks for the types above only. Every row NULL.
    Column::Ints(vec![None; array.len()])
}

/// True when two binary arrays are views of the same buffers, whole.
fn same_buffers(a: &ArrayRef, b: &ArrayRef) -> bool {
    match (a.as_binary_opt::<i32>(), b.as_binary_opt::<i32>()) {
        (Some(a), Some(b)) => {
            a.len() == b.len()
                && std::ptr::eq(a.value_data().as_ptr(), b.value_data().as_ptr())
                && std::ptr::eq(a.value_offsets().as_ptr(), b.value_offsets().as_ptr())
        }
        _ => false,
    }
}

/// A binary array's values as a [`Column::Bytes`] (a NULL as nothing).
fn bytes_of(array: &BinaryArray) -> Column {
    let offsets = array.value_offsets();
    let first = offsets.first().map_or(0, |&o| o as usize);
    let last = offsets.last().map_or(0, |&o| o as usize);
    if array.null_count() == 0 {
        if let Some(data) = array.value_data().get(first..last) {
            return Column::Bytes {
                data: data.to_vec(),
                ends: offsets
                    .iter()
                    .skip(1)
                    .map(|&o| (o as usize).saturating_sub(first))
                    .collect(),
                raw: true,
            };
        }
    }
    let mut data = Vec::with_capacity(last.saturating_sub(first));
    let ends = array
        .iter()
        .map(|v| {
            if let Some(v) = v {
                data.extend_from_slice(v);
            }
            data.len()
        })
        .collect();
    Column::Bytes {
        data,
        ends,
        raw: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_split_into_sets_of_about_equal_bytes() {
        let sizes = [100, 10, 10, 80, 5, 5, 0];
        let sets = split_columns(&sizes, 2);
        let mut all: Vec<usize> = sets.concat();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..sizes.len()).collect::<Vec<_>>(),
            "each column once"
        );
        let bytes: Vec<u64> = sets
            .iter()
            .map(|s| s.iter().map(|&i| sizes[i]).sum())
            .collect();
        assert_eq!(bytes.iter().sum::<u64>(), 210);
        assert!(bytes.iter().all(|&b| (100..=110).contains(&b)), "{bytes:?}");
        assert!(sets.iter().all(|s| s.windows(2).all(|w| w[0] < w[1])));
        // More threads than columns: a set per column; one thread: one set.
        assert_eq!(split_columns(&[3, 1], 8), vec![vec![0], vec![1]]);
        assert_eq!(split_columns(&sizes, 1), vec![(0..7).collect::<Vec<_>>()]);
        assert_eq!(split_columns(&[], 4), Vec::<Vec<usize>>::new());
    }

    #[test]
    fn a_range_past_the_end_of_the_file_is_an_error_before_anything_is_allocated() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"0123456789").unwrap();
        let file = SharedFile {
            file: Arc::new(File::open(&path).unwrap()),
            len: 10,
        };
        assert_eq!(&file.get_bytes(2, 3).unwrap()[..], b"234");
        // A length no machine could allocate: refused, not attempted.
        let err = file.get_bytes(4, usize::MAX / 2).unwrap_err().to_string();
        assert!(err.contains("past the end of the file (10 bytes)"), "{err}");
        assert!(file.get_bytes(u64::MAX, 2).is_err());
        let mut read = String::new();
        file.get_read(6).unwrap().read_to_string(&mut read).unwrap();
        assert_eq!(read, "6789");
    }

    #[test]
    fn decimal_len_is_the_length_of_the_written_number() {
        for v in [
            0,
            1,
            9,
            10,
            99,
            100,
            -1,
            -10,
            1_752_247_584,
            i64::MAX,
            i64::MIN,
        ] {
            assert_eq!(super::decimal_len(v), v.to_string().len(), "{v}");
        }
    }
}
