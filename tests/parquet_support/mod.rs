//! Writing Parquet flow logs for tests: a real Parquet writer (the `parquet` crate's), AWS's
//! column names and types.
#![allow(dead_code)]

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::path::Path;
use std::sync::Arc;

/// A column's physical type.
#[derive(Clone, Copy)]
pub enum Kind {
    I32,
    I64,
    Str,
}

/// AWS's Parquet type of a flow-log column (the VPC user guide's table; `protocol` as INT64,
/// as AWS's own Athena DDL declares it).
pub fn aws_kind(column: &str) -> Kind {
    match column {
        "version" | "srcport" | "dstport" | "tcp_flags" | "traffic_path" => Kind::I32,
        "protocol" | "packets" | "bytes" | "start" | "end" => Kind::I64,
        _ => Kind::Str,
    }
}

/// Writes `rows` (text values, `None` for NULL) as a Parquet file with the given columns, in row
/// groups of `group` rows, every column optional.
pub fn write_parquet(
    path: &Path,
    columns: &[(&str, Kind)],
    rows: &[Vec<Option<String>>],
    compression: Compression,
    group: usize,
) {
    let props = WriterProperties::builder()
        .set_compression(compression)
        .build();
    write_parquet_with(path, columns, rows, props, group);
}

/// [`write_parquet`] with the writer's properties given (dictionary encoding, page sizes).
pub fn write_parquet_with(
    path: &Path,
    columns: &[(&str, Kind)],
    rows: &[Vec<Option<String>>],
    props: WriterProperties,
    group: usize,
) {
    let fields: Vec<String> = columns
        .iter()
        .map(|(name, kind)| match kind {
            Kind::I32 => format!("optional int32 {name};"),
            Kind::I64 => format!("optional int64 {name};"),
            Kind::Str => format!("optional binary {name} (STRING);"),
        })
        .collect();
    let schema =
        Arc::new(parse_message_type(&format!("message flows {{ {} }}", fields.join(" "))).unwrap());
    let props = Arc::new(props);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    let mut writer =
        SerializedFileWriter::new(std::fs::File::create(path).unwrap(), schema, props).unwrap();
    for part in rows.chunks(group.max(1)) {
        let mut rg = writer.next_row_group().unwrap();
        let mut i = 0;
        while let Some(mut col) = rg.next_column().unwrap() {
            let defs: Vec<i16> = part.iter().map(|r| i16::from(r[i].is_some())).collect();
            let present = part.iter().filter_map(|r| r[i].as_deref());
            match columns[i].1 {
                Kind::I32 => {
                    let v: Vec<i32> = present.map(|s| s.parse().unwrap()).collect();
                    col.typed::<Int32Type>()
                        .write_batch(&v, Some(&defs), None)
                        .unwrap();
                }
                Kind::I64 => {
                    let v: Vec<i64> = present.map(|s| s.parse().unwrap()).collect();
                    col.typed::<Int64Type>()
                        .write_batch(&v, Some(&defs), None)
                        .unwrap();
                }
                Kind::Str => {
                    let v: Vec<ByteArray> = present.map(ByteArray::from).collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&v, Some(&defs), None)
                        .unwrap();
                }
            }
            col.close().unwrap();
            i += 1;
        }
        rg.close().unwrap();
    }
    writer.close().unwrap();
}

/// A text flow log (header line first) as Parquet columns and rows: names with `_`, AWS's
/// types, `-` as NULL.
/// Rows of text values, `None` for NULL.
pub type Rows = Vec<Vec<Option<String>>>;

pub fn text_to_rows(text: &str) -> (Vec<(String, Kind)>, Rows) {
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let columns: Vec<(String, Kind)> = header
        .split_whitespace()
        .map(|n| {
            let name = n.replace('-', "_");
            let kind = aws_kind(&name);
            (name, kind)
        })
        .collect();
    let rows = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split_whitespace()
                .map(|v| (v != "-").then(|| v.to_string()))
                .collect()
        })
        .collect();
    (columns, rows)
}

pub fn write_text_as_parquet(text: &str, path: &Path, compression: Compression, group: usize) {
    let (columns, rows) = text_to_rows(text);
    let cols: Vec<(&str, Kind)> = columns.iter().map(|(n, k)| (n.as_str(), *k)).collect();
    write_parquet(path, &cols, &rows, compression, group);
}
