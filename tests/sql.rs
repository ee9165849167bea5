//! `vpcreach sql` (issue 17, item 2), through the binary, on the example network and its flow
//! log.

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example(p: &str) -> PathBuf {
    root().join("examples").join(p)
}

fn vpcreach() -> Command {
    Command::cargo_bin("vpcreach").unwrap()
}

/// Runs `sql` over the example snapshot and flows with `--output jsonl`.
fn sql(query: &str) -> (Option<i32>, Vec<Value>, String) {
    let out = vpcreach()
        .arg("sql")
        .arg("--snapshot")
        .arg(example("network"))
        .arg(example("flows"))
        .args(["--output", "jsonl", "-e", query])
        .output()
        .unwrap();
    let rows = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        out.status.code(),
        rows,
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn explained_counts_agree_with_explain() {
    let out = vpcreach()
        .arg("explain")
        .arg("--snapshot")
        .arg(example("network"))
        .arg(example("flows"))
        .args(["--output", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses = doc["summary"]["by_status"].as_object().unwrap().clone();
    let (code, rows, stderr) =
        sql("SELECT status, count(*) AS n FROM explained GROUP BY status ORDER BY status");
    assert_eq!(code, Some(0), "{stderr}");
    let mut total = 0;
    for r in &rows {
        let status = r["status"].as_str().unwrap();
        let n = r["n"].as_u64().unwrap();
        assert_eq!(
            statuses[status].as_u64(),
            Some(n),
            "{status}: {rows:?} {statuses:?}"
        );
        total += n;
    }
    let explained: u64 = statuses.values().filter_map(Value::as_u64).sum();
    assert_eq!(total, explained);
    assert!(
        rows.iter().any(|r| r["status"] == "contradiction"),
        "{rows:?}"
    );
}

#[test]
fn explained_rows_name_the_deciding_rule() {
    let (code, rows, stderr) = sql(
        "SELECT line, status, deciding_layer, deciding_decision, deciding_resources, deciding_rule_number, deciding_rule \
         FROM explained WHERE line = 4",
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    // The bastion's ssh from 203.0.113.7, denied by NACL rule 90 (the example README).
    assert_eq!(r["deciding_layer"], "network_acl");
    assert_eq!(r["deciding_decision"], "deny");
    assert_eq!(r["deciding_rule_number"], 90);
    assert!(
        r["deciding_rule"].as_str().unwrap().contains("deny tcp/22"),
        "{r}"
    );
}

#[test]
fn flows_and_configuration_tables_join() {
    // Each record's ENI with its subnet, from the flows and enis tables.
    let (code, rows, stderr) = sql(
        "SELECT f.line, f.interface_id, e.name, e.subnet_id FROM flows f JOIN enis e ON f.interface_id = e.id \
         WHERE f.dstport = 22 ORDER BY f.line",
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r["name"] == "bastion"), "{rows:?}");
    assert!(rows
        .iter()
        .all(|r| r["subnet_id"].as_str().unwrap().starts_with("subnet-")));
    // The NACL rule that denied them, in network_acl_entries.
    let (code, rows, stderr) = sql(
        "SELECT rule_number, action, protocol, from_port, to_port, cidr FROM network_acl_entries \
         WHERE direction = 'inbound' AND rule_number = 90",
    );
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["action"], "deny");
    assert_eq!(rows[0]["from_port"], 22);
    assert_eq!(rows[0]["cidr"], "203.0.113.0/24");
    // Every security-group rule, one row per peer.
    let (code, rows, _) = sql(
        "SELECT group_id, rule FROM security_group_rules WHERE direction = 'inbound' AND rule = 'tcp/443 from 0.0.0.0/0'",
    );
    assert_eq!(code, Some(0));
    assert!(!rows.is_empty());
    let (_, rows, _) = sql("SELECT count(*) AS n FROM routes WHERE destination = '0.0.0.0/0'");
    assert!(rows[0]["n"].as_u64().unwrap() >= 1, "{rows:?}");
    let (_, rows, _) = sql("SELECT count(*) AS n FROM subnets WHERE network_acl_id IS NOT NULL");
    assert!(rows[0]["n"].as_u64().unwrap() >= 1, "{rows:?}");
}

#[test]
fn an_sql_error_is_datafusions_words_and_exit_2() {
    let (code, rows, stderr) = sql("SELECT no_such_column FROM explained");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(rows.is_empty());
    assert!(stderr.contains("no_such_column"), "{stderr}");
    let (code, _, stderr) = sql("SELEC 1");
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.to_lowercase().contains("sql"), "{stderr}");
}

#[test]
fn csv_table_and_parquet_outputs() {
    let query = "SELECT status, count(*) AS n FROM explained GROUP BY status ORDER BY status";
    let run = |output: &str, out: Option<&Path>| {
        let mut cmd = vpcreach();
        cmd.arg("sql")
            .arg("--snapshot")
            .arg(example("network"))
            .arg(example("flows"))
            .args(["--output", output, "-e", query]);
        if let Some(o) = out {
            cmd.arg("--out").arg(o);
        }
        cmd.output().unwrap()
    };
    let csv = run("csv", None);
    assert!(csv.status.success());
    let text = String::from_utf8(csv.stdout).unwrap();
    assert!(text.starts_with("status,n\n"), "{text}");
    assert!(text.contains("\ncontradiction,"), "{text}");
    let table = run("table", None);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("| status"), "{text}");
    // Parquet needs a file, and the file is a Parquet file of the result's rows.
    let refused = run("parquet", None);
    assert_eq!(refused.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("statuses.parquet");
    let written = run("parquet", Some(&file));
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    use parquet::file::reader::FileReader;
    let reader =
        parquet::file::reader::SerializedFileReader::new(std::fs::File::open(&file).unwrap())
            .unwrap();
    let meta = reader.metadata();
    let names: Vec<String> = meta
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    assert_eq!(names, ["status", "n"]);
    let (_, rows, _) = sql(query);
    assert_eq!(meta.file_metadata().num_rows() as usize, rows.len());
}

#[test]
fn flows_alone_need_no_snapshot_and_number_parquet_rows() {
    let out = vpcreach()
        .arg("sql")
        .arg(example("flows"))
        .args([
            "--output",
            "jsonl",
            "-e",
            "SELECT count(*) AS n, min(line) AS first, max(row) AS no_rows FROM flows",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value =
        serde_json::from_slice(out.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(v["n"], 14);
    assert_eq!(v["first"], 2);
    assert!(v.get("no_rows").is_none_or(Value::is_null), "{v}");
    // Without a snapshot there is nothing to explain.
    let out = vpcreach()
        .arg("sql")
        .arg(example("flows"))
        .args(["-e", "SELECT count(*) FROM explained"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("explained"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn with_history_the_changes_table_and_explained_as_explain_history() {
    let run = |query: &str| {
        vpcreach()
            .arg("sql")
            .arg("--snapshot")
            .arg(example("network"))
            .args(["--snapshot-time", "2026-11-27T09:00:00Z", "--history"])
            .arg(example("history/trail"))
            .arg(example("history/flows"))
            .args(["--output", "jsonl", "-e", query])
            .output()
            .unwrap()
    };
    let out = run("SELECT api, principal, kind, resources FROM changes ORDER BY time");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let apis: Vec<&str> = rows.iter().map(|r| r["api"].as_str().unwrap()).collect();
    assert_eq!(
        apis,
        [
            "ReplaceNetworkAclEntry",
            "AuthorizeSecurityGroupIngress",
            "RevokeSecurityGroupIngress"
        ]
    );
    assert!(rows[1]["principal"]
        .as_str()
        .unwrap()
        .ends_with("user/alice"));
    // The records judged at their own time, as `explain --history` judges them.
    let explain = vpcreach()
        .arg("explain")
        .arg("--snapshot")
        .arg(example("network"))
        .args(["--snapshot-time", "2026-11-27T09:00:00Z", "--history"])
        .arg(example("history/trail"))
        .arg(example("history/flows"))
        .args(["--output", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&explain.stdout).unwrap();
    let by_status = doc["summary"]["by_status"].as_object().unwrap().clone();
    let out = run("SELECT status, count(*) AS n FROM explained GROUP BY status");
    let rows: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(
            by_status[r["status"].as_str().unwrap()].as_u64(),
            r["n"].as_u64(),
            "{rows:?} {by_status:?}"
        );
    }
}

/// `sql` over the example's records with `--output jsonl`, the rows in order.
fn rows_of(query: &str) -> Vec<Value> {
    let (code, rows, stderr) = sql(query);
    assert_eq!(code, Some(0), "{query}: {stderr}");
    rows
}

/// A row's value of `key` (an absent key is NULL in JSON lines).
fn field<'a>(row: &'a Value, key: &str) -> &'a Value {
    row.get(key).unwrap_or(&Value::Null)
}

/// The tables of the flow records are built for the columns the query reads: whatever reads a
/// column (the select list, a filter, a join, a subquery, a common table expression) gets it
/// filled, and every column of `SELECT *` says what `explain --output jsonl` says.
#[test]
fn every_column_a_query_reads_is_built_whatever_reads_it() {
    let full = rows_of("SELECT * FROM explained ORDER BY file, line");
    assert_eq!(full.len(), 14, "{full:?}");
    // `SELECT *` against `explain`'s own lines, column by column.
    let out = vpcreach()
        .arg("explain")
        .arg("--snapshot")
        .arg(example("network"))
        .arg(example("flows"))
        .args([
            "--output",
            "jsonl",
            "--only",
            "consistent,contradiction,unknown,skipped,malformed",
        ])
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), full.len());
    for (row, line) in full.iter().zip(&lines) {
        for (column, key) in [
            ("line", "line"),
            ("status", "status"),
            ("eni", "interface_id"),
            ("interface_name", "interface_name"),
            ("role", "role"),
            ("srcport", "srcport"),
            ("reason", "reason"),
            ("message", "message"),
        ] {
            assert_eq!(
                field(row, column),
                field(line, key),
                "{column}: {row} {line}"
            );
        }
        let checks: Value = serde_json::from_str(row["checks"].as_str().unwrap()).unwrap();
        assert_eq!(checks, line["decided_by"], "{row}");
    }
    let lines_where = |keep: &dyn Fn(&Value) -> bool, column: &str| -> Vec<(Value, Value)> {
        full.iter()
            .filter(|r| keep(r))
            .map(|r| (r["line"].clone(), field(r, column).clone()))
            .collect()
    };
    // A column read by a filter alone.
    let got: Vec<(Value, Value)> = rows_of(
        "SELECT line, message FROM explained WHERE deciding_layer = 'network_acl' ORDER BY line",
    )
    .iter()
    .map(|r| (r["line"].clone(), field(r, "message").clone()))
    .collect();
    let want = lines_where(&|r| field(r, "deciding_layer") == "network_acl", "message");
    assert!(!want.is_empty());
    assert_eq!(got, want);
    // The same table twice, each side reading other columns.
    let got: Vec<(Value, Value)> = rows_of(
        "SELECT a.line, b.checks FROM explained a JOIN explained b \
         ON a.file = b.file AND a.line = b.line WHERE a.role = 'request' ORDER BY a.line",
    )
    .iter()
    .map(|r| (r["line"].clone(), field(r, "checks").clone()))
    .collect();
    let want = lines_where(&|r| field(r, "role") == "request", "checks");
    assert!(want.len() > 1, "{want:?}");
    assert_eq!(got, want);
    // A subquery and a common table expression.
    let contradictions: Vec<&Value> = full
        .iter()
        .filter(|r| r["status"] == "contradiction")
        .map(|r| field(r, "eni"))
        .collect();
    let want = full
        .iter()
        .filter(|r| contradictions.contains(&field(r, "eni")))
        .count();
    let got = rows_of(
        "SELECT count(*) AS n FROM explained WHERE eni IN \
         (SELECT eni FROM explained WHERE status = 'contradiction')",
    );
    assert!(want > 0);
    assert_eq!(got[0]["n"], want);
    let got = rows_of(
        "WITH d AS (SELECT deciding_rule_number AS r, hints FROM explained) \
         SELECT r, count(*) AS n, count(hints) AS h FROM d WHERE r IS NOT NULL GROUP BY r ORDER BY r",
    );
    let mut want: Vec<(u64, u64, u64)> = Vec::new();
    for r in &full {
        if let Some(n) = field(r, "deciding_rule_number").as_u64() {
            let hints = u64::from(!field(r, "hints").is_null());
            match want.iter_mut().find(|(x, _, _)| *x == n) {
                Some(w) => {
                    w.1 += 1;
                    w.2 += hints;
                }
                None => want.push((n, 1, hints)),
            }
        }
    }
    want.sort();
    let got: Vec<(u64, u64, u64)> = got
        .iter()
        .map(|r| {
            (
                r["r"].as_u64().unwrap(),
                r["n"].as_u64().unwrap(),
                r["h"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

/// The SQL functions users of Athena reach for: strings, regular expressions, dates.
#[test]
fn string_regex_and_date_functions_are_there() {
    let rows = rows_of(
        "SELECT upper(status) AS u, regexp_like(message, 'NACL [a-z0-9-]+ rule 90') AS nacl, \
         split_part(deciding_rule, ' ', 1) AS word, \
         CAST(date_trunc('hour', to_timestamp(3700)) AS VARCHAR) AS hour \
         FROM explained WHERE line = 4",
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["u"], "CONSISTENT");
    assert_eq!(rows[0]["nacl"], true);
    assert_eq!(rows[0]["word"], "rule");
    assert!(
        rows[0]["hour"]
            .as_str()
            .unwrap()
            .starts_with("1970-01-01T01:00:00"),
        "{rows:?}"
    );
}

/// An input that cannot be read to its end (a truncated `.gz`) is named once on stderr, whichever
/// tables the query reads, the exit code is 2, and the records read before the break are there.
#[test]
fn an_input_cut_short_is_named_once_and_its_records_are_kept() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read(example("flows/prod-2026-11-26.log")).unwrap();
    // Enough lines that the cut falls after some records.
    let mut big = text.clone();
    for _ in 0..200 {
        big.extend(text.split_inclusive(|b| *b == b'\n').skip(1).flatten());
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&big).unwrap();
    let gz = gz.finish().unwrap();
    let cut = dir.path().join("cut.log.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    for query in [
        "SELECT count(*) AS n FROM explained",
        "SELECT count(*) AS n FROM flows",
        "SELECT (SELECT count(*) FROM flows) AS n, (SELECT count(*) FROM explained) AS e",
    ] {
        let out = vpcreach()
            .arg("sql")
            .arg("--snapshot")
            .arg(example("network"))
            .arg(&cut)
            .args(["--output", "jsonl", "-e", query])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{query}: {stderr}");
        let named = stderr
            .lines()
            .filter(|l| l.starts_with("error:") && l.contains("cut.log.gz"))
            .count();
        assert_eq!(named, 1, "{query}: {stderr}");
        let row: Value = serde_json::from_slice(&out.stdout).unwrap();
        let n = row["n"].as_u64().unwrap();
        assert!(n > 14 && n < 14 * 201, "{query}: {row}");
        if let Some(e) = row.get("e") {
            assert_eq!(e, &row["n"], "{query}");
        }
    }
}
