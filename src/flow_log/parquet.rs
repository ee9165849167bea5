//! Flow logs delivered as Apache Parquet (`…_vpcflowlogs_….log.parquet`, Hive-style folders).
//!
//! A Parquet file is read row group by row group, a batch of rows at a time, column by column,
//! and each batch becomes a [`Chunk`] of text records in the file's own format, exactly as a
//! text flow log with the header `version account-id interface-id …` would hold them. So
//! every command that reads flow logs (`parse`, `explain`, `audit --flows`, `coverage`) reads
//! Parquet through the same parser and explainer as text: a Parquet file and the same records
//! as text give the same answers, and what is malformed in one is malformed in the other.
//!
//! - **Columns** are matched by name, with `_` read as `-` (`interface_id` is `interface-id`)
//!   and case ignored; any subset and order. A column that is no flow-log field is kept as
//!   text, as an unknown header field is (with the same warning).
//! - **Types**: integers of either width (INT32 or INT64, whatever the field), strings
//!   (BYTE_ARRAY), booleans and floating point numbers (written as text; the parser then judges
//!   them as it would in a text log). A column of another physical type (INT96, fixed-length
//!   bytes) cannot be read as a flow-log field: the file is an error naming the column.
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

use super::chunk::Chunk;
use super::format::Format;
use super::input::ReadError;
use parquet::basic::Type as Physical;
use parquet::column::reader::ColumnReader;
use parquet::file::reader::{FileReader, SerializedFileReader};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
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
    let reader = SerializedFileReader::new(file)
        .map_err(|e| invalid(format!("not a readable Parquet file: {e}")))?;
    let meta = reader.metadata();
    Ok(Some(
        (0..meta.num_row_groups())
            .map(|g| u64::try_from(meta.row_group(g).num_rows()).unwrap_or(0))
            .collect(),
    ))
}

/// An open Parquet flow log, read batch by batch.
pub(crate) struct ParquetRows {
    name: Arc<Path>,
    reader: SerializedFileReader<File>,
    /// The records' format, from the column names.
    format: Format,
    /// Warnings about the columns, handed out before the first chunk.
    pub(crate) notices: Vec<ReadError>,
    /// The next row group to open.
    next_group: usize,
    /// The row group after the last to read (all of them unless [`ParquetRows::select_groups`]
    /// chose fewer).
    end_group: usize,
    /// The open row group's column readers (in column order) and the rows left in it.
    columns: Vec<ColumnReader>,
    rows_left: usize,
    /// The 1-based number of the next row.
    next_row: u64,
    /// Per column: the definition level of a present value (0 for a required column).
    max_def: Vec<i16>,
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
}

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
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Ints(values) => values.len(),
            Column::Bytes { ends, .. } => ends.len(),
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
            Some(Column::Bytes { .. }) => (0..self.rows).any(|row| match self.cell(row, 0) {
                Cell::Bytes(v) => v
                    .first()
                    .is_some_and(|b| b.is_ascii_alphabetic() || matches!(b, b'{' | b'#' | 0x80..)),
                _ => false,
            }),
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
                    Column::Bytes { raw: true, .. } => {
                        out.extend(
                            v.iter()
                                .map(|&b| if b <= b' ' || b == 0x7f { b'?' } else { b }),
                        )
                    }
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
                Cell::Int(v) => itoa::Buffer::new().format(v).len(),
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

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what)
}

impl ParquetRows {
    /// Opens a Parquet file and reads its schema.
    pub(crate) fn open(name: &Path, file: File) -> io::Result<ParquetRows> {
        let reader = SerializedFileReader::new(file)
            .map_err(|e| invalid(format!("not a readable Parquet file: {e}")))?;
        let schema = reader.metadata().file_metadata().schema_descr_ptr();
        let mut names = Vec::with_capacity(schema.num_columns());
        let mut max_def = Vec::with_capacity(schema.num_columns());
        for i in 0..schema.num_columns() {
            let column = schema.column(i);
            if column.max_rep_level() > 0 {
                return Err(invalid(format!(
                    "column `{}` is a list: flow-log columns hold one value per row",
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
            max_def.push(column.max_def_level());
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
        Ok(ParquetRows {
            name: Arc::from(name),
            reader,
            format,
            notices,
            next_group: 0,
            end_group: usize::MAX,
            columns: Vec::new(),
            rows_left: 0,
            next_row: 1,
            max_def,
        })
    }

    /// Reads only the row groups `groups` (0-based), numbering their rows as in the whole file.
    pub(crate) fn select_groups(&mut self, groups: std::ops::Range<usize>) {
        let meta = self.reader.metadata();
        let before: i64 = (0..groups.start.min(meta.num_row_groups()))
            .map(|g| meta.row_group(g).num_rows())
            .sum();
        self.next_row = 1 + u64::try_from(before).unwrap_or(0);
        self.next_group = groups.start;
        self.end_group = groups.end;
    }

    /// The next chunk of records; `None` at the end of the file.
    pub(crate) fn next_chunk(&mut self) -> Option<io::Result<Chunk>> {
        while self.rows_left == 0 {
            if self.next_group >= self.reader.num_row_groups().min(self.end_group) {
                return None;
            }
            let group = self.next_group;
            self.next_group += 1;
            if let Err(e) = self.open_group(group) {
                self.next_group = usize::MAX;
                return Some(Err(e));
            }
        }
        let rows = self.rows_left.min(BATCH_ROWS);
        let mut columns = Vec::with_capacity(self.columns.len());
        for (i, column) in self.columns.iter_mut().enumerate() {
            match read_column(column, rows, self.max_def[i]) {
                Ok(c) if c.len() == rows => columns.push(c),
                Ok(c) => {
                    self.next_group = usize::MAX;
                    self.rows_left = 0;
                    return Some(Err(invalid(format!(
                        "row group {}: column {} holds {} rows where the row group says {rows} are left",
                        self.next_group,
                        i + 1,
                        c.len()
                    ))));
                }
                Err(e) => {
                    self.next_group = usize::MAX;
                    self.rows_left = 0;
                    return Some(Err(invalid(format!("rows from {}: {e}", self.next_row))));
                }
            }
        }
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
        self.rows_left -= rows;
        Some(Ok(chunk))
    }

    fn open_group(&mut self, group: usize) -> io::Result<()> {
        let reader = self
            .reader
            .get_row_group(group)
            .map_err(|e| invalid(format!("row group {}: {e}", group + 1)))?;
        let rows = usize::try_from(reader.metadata().num_rows()).unwrap_or(0);
        let mut columns = Vec::with_capacity(reader.num_columns());
        for i in 0..reader.num_columns() {
            columns.push(
                reader
                    .get_column_reader(i)
                    .map_err(|e| invalid(format!("row group {}: {e}", group + 1)))?,
            );
        }
        self.columns = columns;
        self.rows_left = rows;
        Ok(())
    }
}

/// Reads `rows` rows of one column.
fn read_column(
    column: &mut ColumnReader,
    rows: usize,
    max_def: i16,
) -> parquet::errors::Result<Column> {
    use std::io::Write;
    let mut defs: Vec<i16> = Vec::with_capacity(rows);
    let present =
        |defs: &[i16], r: usize| max_def == 0 || defs.get(r).is_some_and(|&d| d == max_def);
    // The present values in row order, NULL (a definition level under the maximum) as `None`.
    fn ints<T: Copy + Into<i64>>(
        defs: &[i16],
        read: usize,
        values: &[T],
        present: impl Fn(&[i16], usize) -> bool,
    ) -> Column {
        let mut next = values.iter();
        Column::Ints(
            (0..read)
                .map(|r| {
                    if present(defs, r) {
                        next.next().map(|&v| v.into())
                    } else {
                        None
                    }
                })
                .collect(),
        )
    }
    // The present values as bytes, NULL as nothing.
    fn bytes<T>(
        defs: &[i16],
        read: usize,
        values: &[T],
        present: impl Fn(&[i16], usize) -> bool,
        raw: bool,
        mut put: impl FnMut(&mut Vec<u8>, &T),
    ) -> Column {
        let mut data = Vec::new();
        let mut ends = Vec::with_capacity(read);
        let mut next = values.iter();
        for r in 0..read {
            if present(defs, r) {
                if let Some(v) = next.next() {
                    put(&mut data, v);
                }
            }
            ends.push(data.len());
        }
        Column::Bytes { data, ends, raw }
    }
    let def_buf = if max_def > 0 { Some(&mut defs) } else { None };
    Ok(match column {
        ColumnReader::Int32ColumnReader(r) => {
            let mut values = Vec::with_capacity(rows);
            let (read, _, _) = r.read_records(rows, def_buf, None, &mut values)?;
            ints(&defs, read, &values, present)
        }
        ColumnReader::Int64ColumnReader(r) => {
            let mut values = Vec::with_capacity(rows);
            let (read, _, _) = r.read_records(rows, def_buf, None, &mut values)?;
            ints(&defs, read, &values, present)
        }
        ColumnReader::BoolColumnReader(r) => {
            let mut values = Vec::with_capacity(rows);
            let (read, _, _) = r.read_records(rows, def_buf, None, &mut values)?;
            bytes(&defs, read, &values, present, false, |t, v| {
                let _ = write!(t, "{v}");
            })
        }
        ColumnReader::FloatColumnReader(r) => {
            let mut values = Vec::with_capacity(rows);
            let (read, _, _) = r.read_records(rows, def_buf, None, &mut values)?;
            bytes(&defs, read, &values, present, false, |t, v| {
                let _ = write!(t, "{v}");
            })
        }
        ColumnReader::DoubleColumnReader(r) => {
            let mut values = Vec::with_capacity(rows);
            let (read, _, _) = r.read_records(rows, def_buf, None, &mut values)?;
            bytes(&defs, read, &values, present, false, |t, v| {
                let _ = write!(t, "{v}");
            })
        }
        ColumnReader::ByteArrayColumnReader(r) => {
            let mut values = Vec::with_capacity(rows);
            let (read, _, _) = r.read_records(rows, def_buf, None, &mut values)?;
            bytes(&defs, read, &values, present, true, |t, v| {
                t.extend_from_slice(v.data())
            })
        }
        ColumnReader::Int96ColumnReader(_) | ColumnReader::FixedLenByteArrayColumnReader(_) => {
            return Err(parquet::errors::ParquetError::General(
                "a column of a type no flow-log field has".into(),
            ))
        }
    })
}
