//! Flow logs as Apache Parquet (issue 17, item 1), through the binary: files written here with
//! a real Parquet writer (the `parquet` crate's), in AWS's column names and types, compared with
//! the same records as text.

mod parquet_support;

use assert_cmd::Command;
use parquet::basic::{Compression, GzipLevel, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet_support::{write_parquet, write_text_as_parquet, Kind};
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;

fn vpcreach() -> Command {
    Command::cargo_bin("vpcreach").unwrap()
}

fn jsonl(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Records of every version's fields, with values that do not apply (`-`).
const V5: &str = "\
version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path
5 123456789012 eni-0abc 10.0.1.5 10.0.2.9 49152 443 6 10 840 1752247584 1752247603 ACCEPT OK vpc-1 subnet-1 i-1 19 IPv4 10.0.1.5 10.0.2.9 us-east-1 use1-az1 - - - - egress 1
5 123456789012 eni-0abc 10.0.2.9 10.0.1.5 443 49152 6 8 1200 1752247584 1752247603 ACCEPT OK vpc-1 subnet-1 i-1 3 IPv4 10.0.2.9 10.0.1.5 us-east-1 use1-az1 - - - - ingress -
5 123456789012 eni-0nat 52.95.128.10 10.0.3.4 443 40000 6 4 300 1752247584 1752247603 REJECT OK vpc-1 subnet-2 - 2 IPv4 52.95.128.10 10.0.3.4 us-east-1 use1-az1 - - AMAZON - ingress -
5 123456789012 eni-0abc - - - - - - - 1752247584 1752247603 - NODATA vpc-1 subnet-1 i-1 - - - - us-east-1 use1-az1 - - - - - -
5 123456789012 eni-0abc 2001:db8::1 2001:db8::2 546 547 17 1 100 1752247584 1752247603 ACCEPT OK vpc-1 subnet-1 i-1 0 IPv6 2001:db8::1 2001:db8::2 us-east-1 use1-az1 - - - - egress 1
";

/// `parse` output without where the record is (`file`, and `line` or `row`).
fn records_only(mut v: Vec<Value>) -> Vec<Value> {
    for r in &mut v {
        let o = r.as_object_mut().unwrap();
        o.remove("file");
        o.remove("line");
        o.remove("row");
    }
    v
}

#[test]
fn parquet_and_text_give_the_same_records_with_every_codec() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("flows.log");
    std::fs::write(&text, V5).unwrap();
    let from_text = vpcreach().arg("parse").arg(&text).output().unwrap();
    assert!(from_text.status.success());
    let expected = jsonl(&from_text.stdout);
    assert_eq!(expected.len(), 5);
    for (codec, compression) in [
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("snappy", Compression::SNAPPY),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
        ("none", Compression::UNCOMPRESSED),
    ] {
        let pq = dir.path().join(format!("flows-{codec}.log.parquet"));
        write_text_as_parquet(V5, &pq, compression, 2);
        let out = vpcreach().arg("parse").arg(&pq).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{codec}: {stderr}");
        let got = jsonl(&out.stdout);
        // Numbered by row, across row groups of two rows.
        let rows: Vec<u64> = got.iter().map(|r| r["row"].as_u64().unwrap()).collect();
        assert_eq!(rows, [1, 2, 3, 4, 5], "{codec}");
        assert!(got.iter().all(|r| r.get("line").is_none()), "{codec}");
        assert_eq!(records_only(got), records_only(expected.clone()), "{codec}");
        assert!(
            stderr.contains(
                "5 records read: 4 parsed, 1 skipped (1 NODATA, 0 SKIPDATA), 0 malformed"
            ),
            "{codec}: {stderr}"
        );
    }
}

#[test]
fn any_column_subset_and_order_and_either_integer_width() {
    let dir = tempfile::tempdir().unwrap();
    // Columns in another order, a v2 subset, ports as INT64 and protocol as INT32.
    let columns = [
        ("interface_id", Kind::Str),
        ("action", Kind::Str),
        ("dstport", Kind::I64),
        ("srcaddr", Kind::Str),
        ("dstaddr", Kind::Str),
        ("protocol", Kind::I32),
        ("srcport", Kind::I64),
        ("log_status", Kind::Str),
    ];
    let row = |v: &[&str]| -> Vec<Option<String>> {
        v.iter()
            .map(|s| (*s != "-").then(|| s.to_string()))
            .collect()
    };
    let rows = vec![
        row(&[
            "eni-1",
            "REJECT",
            "22",
            "203.0.113.7",
            "10.0.1.10",
            "6",
            "40001",
            "OK",
        ]),
        row(&[
            "eni-2",
            "ACCEPT",
            "-",
            "10.0.1.10",
            "10.0.2.20",
            "1",
            "-",
            "OK",
        ]),
    ];
    let pq = dir.path().join("subset.parquet");
    write_parquet(&pq, &columns, &rows, Compression::SNAPPY, 100);
    let out = vpcreach().arg("parse").arg(&pq).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = jsonl(&out.stdout);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["interface_id"], "eni-1");
    assert_eq!(got[0]["dstport"], 22);
    assert_eq!(got[0]["srcport"], 40001);
    assert_eq!(got[0]["protocol"], 6);
    assert_eq!(got[0]["action"], "REJECT");
    assert_eq!(got[1]["protocol"], 1);
    assert_eq!(got[1]["dstport"], Value::Null);
    // A column that is no flow-log field is kept as text, with a warning naming it.
    let columns = [("interface_id", Kind::Str), ("dstprt", Kind::I32)];
    let rows = vec![vec![Some("eni-1".to_string()), Some("22".to_string())]];
    let pq = dir.path().join("misspelt.parquet");
    write_parquet(&pq, &columns, &rows, Compression::SNAPPY, 100);
    let out = vpcreach().arg("parse").arg(&pq).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("misspelt.parquet: Parquet column `dstprt` is not a flow-log field; its values are kept as text (did you mean `dstport`?)"),
        "{stderr}"
    );
    let got = jsonl(&out.stdout);
    assert_eq!(got[0]["dstprt"], "22");
}

/// `explain --output jsonl` of `input` against the example network: its exit code, records and
/// standard error.
fn explain_on_the_example(input: &Path) -> (Option<i32>, Vec<Value>, String) {
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/network");
    let out = vpcreach()
        .args([
            "explain",
            "--output",
            "jsonl",
            "--snapshot-time",
            "2026-11-27T09:00:00Z",
            "--snapshot",
        ])
        .arg(&snapshot)
        .arg(input)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    (out.status.code(), jsonl(&out.stdout), stderr)
}

#[test]
fn a_hive_layout_folder_is_read_and_explained_as_the_text_is() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flows/prod-2026-11-26.log"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let hive = dir.path().join(
        "AWSLogs/aws-account-id=111122223333/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=26/hour=00",
    );
    write_text_as_parquet(
        &text,
        &hive.join("111122223333_vpcflowlogs_us-east-1_fl-0123_20261126T0000Z_abcd.log.parquet"),
        Compression::GZIP(GzipLevel::default()),
        4,
    );
    let explain = explain_on_the_example;
    let (text_code, mut from_text, text_err) =
        explain(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flows"));
    let (pq_code, mut from_pq, pq_err) = explain(&dir.path().join("AWSLogs"));
    assert_eq!(pq_code, text_code, "{pq_err}");
    assert!(!from_text.is_empty());
    // Rows count from 1; the text file's records from line 2 (after its header).
    for (t, p) in from_text.iter_mut().zip(from_pq.iter_mut()) {
        let (t, p) = (t.as_object_mut().unwrap(), p.as_object_mut().unwrap());
        if let (Some(tl), Some(pl)) = (t.remove("line"), p.remove("line")) {
            assert_eq!(tl.as_u64().unwrap(), pl.as_u64().unwrap() + 1);
        }
        t.remove("file");
        p.remove("file");
    }
    assert_eq!(from_pq, from_text);
    // The same summary, whatever the input's form.
    let summary = |s: &str| {
        s.lines()
            .filter(|l| l.contains("records read"))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&pq_err), summary(&text_err));
}

#[test]
fn blanks_and_control_characters_in_a_value_stay_in_their_field() {
    let dir = tempfile::tempdir().unwrap();
    let columns = [
        ("version", Kind::I32),
        ("interface_id", Kind::Str),
        ("srcaddr", Kind::Str),
        ("dstaddr", Kind::Str),
        ("action", Kind::Str),
        ("log_status", Kind::Str),
    ];
    let rows = vec![
        vec![
            Some("2".into()),
            Some("eni-1 \x1b]0;owned\x07\nx".into()),
            Some("10.0.0.1".into()),
            Some("10.0.0.2".into()),
            Some("ACCEPT".into()),
            Some("OK".into()),
        ],
        vec![
            Some("2".into()),
            Some(String::new()),
            Some("10.0.0.3".into()),
            Some("10.0.0.4".into()),
            Some("REJECT".into()),
            Some("OK".into()),
        ],
    ];
    let pq = dir.path().join("odd.parquet");
    write_parquet(&pq, &columns, &rows, Compression::SNAPPY, 10);
    let out = vpcreach().arg("parse").arg(&pq).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let got = jsonl(&out.stdout);
    assert_eq!(got.len(), 2, "{stderr}");
    // The value is one field (the addresses after it are read as addresses), without its
    // control characters.
    assert_eq!(got[0]["interface_id"], "eni-1??]0;owned??x");
    assert_eq!(got[0]["dstaddr"], "10.0.0.2");
    // An empty string is a field that does not apply.
    assert_eq!(got[1]["interface_id"], Value::Null);
    assert_eq!(got[1]["action"], "REJECT");
}

#[test]
fn a_broken_parquet_file_is_named_and_the_other_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("a.parquet");
    write_text_as_parquet(V5, &good, Compression::SNAPPY, 10);
    let bytes = std::fs::read(&good).unwrap();
    // Cut short: the footer (the schema) is gone.
    std::fs::write(dir.path().join("b.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    // A column of a type no flow-log field has.
    let schema = Arc::new(
        parse_message_type("message m { optional int96 start; optional binary action (STRING); }")
            .unwrap(),
    );
    let w = SerializedFileWriter::new(
        std::fs::File::create(dir.path().join("c.parquet")).unwrap(),
        schema,
        Arc::new(WriterProperties::builder().build()),
    )
    .unwrap();
    w.close().unwrap();
    let out = vpcreach().arg("parse").arg(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("b.parquet"), "{stderr}");
    assert!(stderr.contains("c.parquet"), "{stderr}");
    assert!(stderr.contains("INT96"), "{stderr}");
    // a.parquet's records are all there.
    assert_eq!(jsonl(&out.stdout).len(), 5, "{stderr}");
}

#[test]
fn row_groups_read_apart_give_the_whole_file_with_its_row_numbers() {
    use vpcreach::flow_log::{parquet_row_groups, parse_chunk, ChunkReader};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flows.log.parquet");
    write_text_as_parquet(V5, &path, Compression::SNAPPY, 2);
    assert_eq!(parquet_row_groups(&path).unwrap(), Some(vec![2, 2, 1]));
    let rows = |reader: ChunkReader| -> Vec<(u64, String)> {
        reader
            .flat_map(|c| parse_chunk(&c.unwrap()).records)
            .map(|r| (r.line, format!("{:?}", r.interface_id)))
            .collect()
    };
    let whole = rows(ChunkReader::new(vec![path.clone()], None));
    assert_eq!(whole.len(), 5);
    let mut apart = Vec::new();
    for g in 0..3 {
        apart.extend(rows(
            ChunkReader::new(vec![path.clone()], None).with_row_groups(path.clone(), g..g + 1),
        ));
    }
    assert_eq!(apart, whole);
    assert_eq!(
        rows(ChunkReader::new(vec![path.clone()], None).with_row_groups(path.clone(), 1..3))
            .iter()
            .map(|(line, _)| *line)
            .collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    // Row groups of a file that is not Parquet: an error, not the whole file read again.
    let text = dir.path().join("flows.log");
    std::fs::write(&text, V5).unwrap();
    let items: Vec<_> = ChunkReader::new(vec![text.clone()], None)
        .with_row_groups(text, 0..1)
        .collect();
    assert_eq!(items.len(), 1);
    assert!(items[0]
        .as_ref()
        .err()
        .is_some_and(|e| e.to_string().contains("not a Parquet file")));
}

/// String columns are read the same whether their column chunks are dictionary-encoded (what
/// writers do by default), plain, or both (a dictionary that outgrew its page limit and fell
/// back to plain pages part-way through the chunk).
#[test]
fn dictionary_plain_and_mixed_string_pages_are_read_alike() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flows/prod-2026-11-26.log"),
    )
    .unwrap();
    let (columns, rows) = parquet_support::text_to_rows(&text);
    let cols: Vec<(&str, Kind)> = columns.iter().map(|(n, k)| (n.as_str(), *k)).collect();
    let dir = tempfile::tempdir().unwrap();
    let plain = WriterProperties::builder()
        .set_dictionary_enabled(false)
        .build();
    // A dictionary page of at most 40 bytes and pages of 3 rows: each string column's
    // dictionary fills up after a few pages, and the rest of its chunk is plain.
    let mixed = WriterProperties::builder()
        .set_dictionary_page_size_limit(40)
        .set_data_page_row_count_limit(3)
        .set_write_batch_size(3)
        .build();
    let explain = |input: &Path| {
        let (code, records, stderr) = explain_on_the_example(input);
        assert!(matches!(code, Some(0 | 1)), "{stderr}");
        let records = records
            .into_iter()
            .map(|mut v| {
                let o = v.as_object_mut().unwrap();
                o.remove("file");
                o.remove("line");
                v
            })
            .collect::<Vec<_>>();
        (code, records)
    };
    let parse = |input: &Path| {
        let out = vpcreach().arg("parse").arg(input).output().unwrap();
        assert!(out.status.success());
        records_only(jsonl(&out.stdout))
    };
    let text_path = dir.path().join("flows.log");
    std::fs::write(&text_path, &text).unwrap();
    let (want_explained, want_parsed) = (explain(&text_path), parse(&text_path));
    assert_eq!(want_explained.1.len(), rows.len());
    let default = WriterProperties::builder().build();
    for (name, props, group) in [
        ("dictionary", default, 10),
        ("plain", plain, 4),
        ("mixed", mixed, 100),
    ] {
        let pq = dir.path().join(format!("{name}.parquet"));
        parquet_support::write_parquet_with(&pq, &cols, &rows, props, group);
        assert_eq!(explain(&pq), want_explained, "{name}");
        assert_eq!(parse(&pq), want_parsed, "{name}");
    }
}

/// Columns are read by their physical type, whatever their logical type says: a string that is
/// not UTF-8 is still one value, an integer annotated as unsigned is its stored value; a column
/// inside a group is named as an error.
#[test]
fn logical_types_do_not_change_what_a_column_holds() {
    use parquet::data_type::{ByteArray, ByteArrayType, Int32Type};
    let dir = tempfile::tempdir().unwrap();
    let schema = Arc::new(
        parse_message_type(
            "message m { optional int32 version; optional binary interface_id (STRING);
             optional binary srcaddr (STRING); optional binary dstaddr (STRING);
             optional int32 dstport (INTEGER(16,false)); optional binary action (STRING); }",
        )
        .unwrap(),
    );
    let path = dir.path().join("odd.parquet");
    let mut w = SerializedFileWriter::new(
        std::fs::File::create(&path).unwrap(),
        schema,
        Arc::new(WriterProperties::builder().build()),
    )
    .unwrap();
    let mut rg = w.next_row_group().unwrap();
    let strings: [&[&[u8]]; 4] = [
        &[b"eni-1\xff", b"eni-2"],
        &[b"10.0.0.1", b"10.0.0.3"],
        &[b"10.0.0.2", b"10.0.0.4"],
        &[b"ACCEPT", b"REJECT"],
    ];
    let mut next = 0;
    while let Some(mut col) = rg.next_column().unwrap() {
        if next == 0 || next == 4 {
            let v = if next == 0 { [2, 2] } else { [443, 65535] };
            col.typed::<Int32Type>()
                .write_batch(&v, Some(&[1, 1]), None)
                .unwrap();
        } else {
            let i = if next < 4 { next - 1 } else { 3 };
            let v: Vec<ByteArray> = strings[i]
                .iter()
                .map(|b| ByteArray::from(b.to_vec()))
                .collect();
            col.typed::<ByteArrayType>()
                .write_batch(&v, Some(&[1, 1]), None)
                .unwrap();
        }
        col.close().unwrap();
        next += 1;
    }
    rg.close().unwrap();
    w.close().unwrap();
    let out = vpcreach().arg("parse").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let got = jsonl(&out.stdout);
    // The first row's interface id is no valid id: that row alone is malformed or read with
    // its bytes; the second row is read whole either way.
    let second = got
        .iter()
        .find(|r| r["row"] == 2)
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(second["interface_id"], "eni-2", "{stderr}");
    assert_eq!(second["dstport"], 65535, "{stderr}");
    assert_eq!(second["action"], "REJECT", "{stderr}");
    assert!(stderr.contains("2 records read"), "{stderr}");

    // A column inside a group.
    let schema = Arc::new(
        parse_message_type(
            "message m { optional group g { optional binary interface_id (STRING); }
             optional binary action (STRING); }",
        )
        .unwrap(),
    );
    let nested = dir.path().join("nested.parquet");
    SerializedFileWriter::new(
        std::fs::File::create(&nested).unwrap(),
        schema,
        Arc::new(WriterProperties::builder().build()),
    )
    .unwrap()
    .close()
    .unwrap();
    let out = vpcreach().arg("parse").arg(&nested).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("g.interface_id` is inside a group"),
        "{stderr}"
    );
}

/// Row groups of several batches read with their columns split between threads (`-j 3`) give
/// the records one thread gives, and the text gives, each in its place: 20,000 records, every
/// one with a `bytes` of its own, in row groups of 9,000 rows (each two batches, the last
/// short), explained and parsed.
#[test]
fn columns_read_on_several_threads_give_the_records_of_one_thread() {
    let example = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flows/prod-2026-11-26.log"),
    )
    .unwrap();
    let mut lines = example.lines();
    let header = lines.next().unwrap();
    let bytes_at = header.split(' ').position(|f| f == "bytes").unwrap();
    let records: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
    let mut text = format!("{header}\n");
    for i in 0..20_000 {
        let mut fields: Vec<String> = records[i % records.len()]
            .split(' ')
            .map(String::from)
            .collect();
        if fields[bytes_at] != "-" {
            fields[bytes_at] = (1000 + i).to_string();
        }
        text.push_str(&fields.join(" "));
        text.push('\n');
    }
    let (columns, rows) = parquet_support::text_to_rows(&text);
    let cols: Vec<(&str, Kind)> = columns.iter().map(|(n, k)| (n.as_str(), *k)).collect();
    let dir = tempfile::tempdir().unwrap();
    let text_path = dir.path().join("flows.log");
    std::fs::write(&text_path, &text).unwrap();
    let pq = dir.path().join("flows.parquet");
    parquet_support::write_parquet_with(
        &pq,
        &cols,
        &rows,
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
        9_000,
    );
    let snapshot = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/network");
    let run = |args: &[&str], input: &Path| {
        let out = vpcreach().args(args).arg(input).output().unwrap();
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut records = jsonl(&out.stdout);
        for r in &mut records {
            let o = r.as_object_mut().unwrap();
            o.remove("file");
            // A text record's line counts the header line; a Parquet record's row does not.
            let key = ["line", "row"]
                .into_iter()
                .find(|k| o.contains_key(*k))
                .unwrap();
            let n = o.remove(key).unwrap().as_u64().unwrap();
            let n = if input == text_path.as_path() {
                n - 1
            } else {
                n
            };
            o.insert("n".into(), n.into());
        }
        records
    };
    let explain = |j: &str, input: &Path| {
        let snap = snapshot.to_str().unwrap();
        run(
            &[
                "explain",
                "-j",
                j,
                "--output",
                "jsonl",
                "--snapshot-time",
                "2026-11-27T09:00:00Z",
                "--snapshot",
                snap,
            ],
            input,
        )
    };
    let parse = |j: &str, input: &Path| run(&["parse", "-j", j], input);
    let want = explain("1", &text_path);
    assert_eq!(want.len(), 20_000);
    let one = explain("1", &pq);
    assert_eq!(one, want, "one thread");
    assert_eq!(explain("3", &pq), want, "three threads");
    let want = parse("1", &text_path);
    assert_eq!(want.len(), 20_000);
    assert_eq!(parse("3", &pq), want);
    assert_eq!(parse("2", &pq), want);
}
