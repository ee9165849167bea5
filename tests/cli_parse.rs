//! `vpcreach parse`, run as a user runs it: JSON Lines on stdout, problems and a summary on
//! stderr, exit codes.

use assert_cmd::Command;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const ACCEPT: &str = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
const NODATA: &str =
    "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA";
const BAD_PORT: &str = "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 abc 3389 6 20 4249 1418530010 1418530070 REJECT OK";
const REJECT: &str = "2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK";

fn vpcreach() -> Command {
    Command::cargo_bin("vpcreach").unwrap()
}

fn file_with(dir: &Path, name: &str, lines: &[&str]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8(stdout.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

struct Run {
    code: i32,
    stdout: Vec<u8>,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: out.stdout,
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn prints_one_json_object_per_record_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "a.log", &[HEADER, ACCEPT, NODATA, REJECT]);
    let out = run(vpcreach().arg("parse").arg(&path));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let records = json_lines(&out.stdout);
    // NODATA is printed too (issue 12, item 8), with its `log_status`.
    assert_eq!(records.len(), 3);
    assert_eq!(records[1]["log_status"], "NODATA");
    let r = &records[0];
    assert_eq!(r["file"], path.to_str().unwrap());
    assert_eq!(r["line"], 2);
    assert_eq!(r["version"], 2);
    assert_eq!(r["account_id"], "123456789010");
    assert_eq!(r["interface_id"], "eni-1235b8ca123456789");
    assert_eq!(r["srcaddr"], "172.31.16.139");
    assert_eq!(r["srcport"], 20641);
    assert_eq!(r["dstport"], 22);
    assert_eq!(r["protocol"], 6);
    assert_eq!(r["packets"], 20);
    assert_eq!(r["bytes"], 4249);
    assert_eq!(r["start"], 1418530010);
    assert_eq!(r["action"], "ACCEPT");
    assert_eq!(r["log_status"], "OK");
    assert_eq!(r["tcp_flags"], Value::Null);
    assert_eq!(r["flow_direction"], Value::Null);
    assert_eq!(r["reject_reason"], Value::Null);
    assert_eq!(r["ecs_task_id"], Value::Null);
    assert_eq!(r["community_id"], "1:78twGw5/iHs2/5/1899dIS6GfPc=");
    // The fields of the record's own version (v2: 14), not every field of v2-v8.
    assert_eq!(r.as_object().unwrap().len(), 2 + 14 + 1);
    assert_eq!(records[2]["line"], 4);
    assert_eq!(
        out.stderr,
        "3 records read: 2 parsed, 1 skipped (1 NODATA, 0 SKIPDATA), 0 malformed; 1 header line\n"
    );
}

#[test]
fn malformed_lines_are_reported_counted_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(
        dir.path(),
        "a.log",
        &[ACCEPT, BAD_PORT, "", REJECT, "2 1 eni-1"],
    );
    let out = run(vpcreach().arg("parse").arg(&path));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let shown = path.display();
    assert_eq!(
        out.stderr,
        format!(
            "{shown}:2:62: `abc` is not a valid `srcport`: expected a port number from 0 to 65535\n\
             {shown}:5:10: expected 14 fields as in the default version 2 format (`version account-id interface-id … action log-status`), found 3\n\
             4 records read: 2 parsed, 0 skipped (0 NODATA, 0 SKIPDATA), 2 malformed; 0 header lines\n"
        )
    );
    let lines: Vec<Value> = json_lines(&out.stdout)
        .iter()
        .map(|r| r["line"].clone())
        .collect();
    assert_eq!(lines, [1, 4]);
}

#[test]
fn strict_makes_the_first_malformed_line_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "a.log", &[ACCEPT, BAD_PORT, REJECT]);
    let out = run(vpcreach().args(["parse", "--strict"]).arg(&path));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with(&format!(
            "error: {}:2:62: `abc` is not a valid `srcport`",
            path.display()
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.ends_with("2 records read: 1 parsed, 0 skipped (0 NODATA, 0 SKIPDATA), 1 malformed; 0 header lines\n"), "{}", out.stderr);
    // The output stops where the error is.
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["line"], 1);
}

#[test]
fn an_unreadable_file_is_an_error_and_the_others_are_still_read() {
    let dir = tempfile::tempdir().unwrap();
    let good = file_with(dir.path(), "good.log", &[ACCEPT]);
    let missing = dir.path().join("missing.log");
    let out = run(vpcreach().arg("parse").arg(&missing).arg(&good));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .starts_with(&format!("error: {}: ", missing.display())),
        "{}",
        out.stderr
    );
    assert_eq!(json_lines(&out.stdout).len(), 1);
}

#[test]
fn user_formats_and_their_mistakes() {
    let dir = tempfile::tempdir().unwrap();
    let path = file_with(dir.path(), "a.log", &["eni-1 10.0.0.1 10.0.0.2 tgw-1"]);
    let out = run(vpcreach()
        .args([
            "parse",
            "--format",
            "${interface-id} ${srcaddr} ${dstaddr} ${tgw-id}",
        ])
        .arg(&path));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = &json_lines(&out.stdout)[0];
    assert_eq!(r["interface_id"], "eni-1");
    assert_eq!(r["dstaddr"], "10.0.0.2");
    assert_eq!(r["version"], Value::Null);
    assert_eq!(r["tgw_id"], "tgw-1");
    assert!(out
        .stderr
        .starts_with("warning: `tgw-id` is not a flow-log field; its values are kept as text\n"));

    let out = run(vpcreach()
        .args(["parse", "--format", "interface-id srcadr dstaddr x"])
        .arg(&path));
    assert!(
        out.stderr.contains("warning: `srcadr` is not a flow-log field; its values are kept as text (did you mean `srcaddr`?)"),
        "{}",
        out.stderr
    );

    let out = run(vpcreach()
        .args(["parse", "--format", "${srcaddr"])
        .arg(&path));
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "error: invalid `--format`: unexpected `${srcaddr` in the format: expected `${field}` items separated by spaces\n"
    );
}

#[test]
fn stdin_gzip_and_json_wrapped_lines() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let text = format!("{HEADER}\n{ACCEPT}\n{{\"message\": \"{REJECT}\"}}\n");
    gz.write_all(text.as_bytes()).unwrap();
    let out = run(vpcreach()
        .args(["parse", "-"])
        .write_stdin(gz.finish().unwrap()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let records = json_lines(&out.stdout);
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["file"], "<stdin>");
    assert_eq!(records[1]["line"], 3);
    assert_eq!(records[1]["action"], "REJECT");
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let lines = vec![ACCEPT; 200_000];
    let path = file_with(dir.path(), "big.log", &lines);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("vpcreach"))
        .arg("parse")
        .arg(&path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("{\"file\""));
    // The reading end is dropped here, as `| head -1` does.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn the_aws_documentation_examples() {
    let Some(dir) = std::env::var_os("VPCREACH_CONFORMANCE_DIR") else {
        panic!(
            "VPCREACH_CONFORMANCE_DIR is not set: run the tests with `bash .ci/run`, which sets it"
        );
    };
    let dir = Path::new(&dir).join("aws-doc-flow-examples");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    assert_eq!(logs.len(), 8);
    let out = run(vpcreach().args(["parse", "-j", "2"]).args(&logs));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stderr,
        "27 records read: 25 parsed, 2 skipped (1 NODATA, 1 SKIPDATA), 0 malformed; 8 header lines\n"
    );
    let records = json_lines(&out.stdout);
    // NODATA and SKIPDATA records are printed too (issue 12, item 8).
    assert_eq!(records.len(), 27);
    // In input order, file by file.
    let files: Vec<&str> = records
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    let mut sorted = files.clone();
    sorted.sort();
    assert_eq!(files, sorted);
    let doubled = records
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("05_tcp_flags_v3.log") && r["line"] == 9)
        .unwrap();
    assert_eq!(doubled["dstport"], 43638);
    assert_eq!(doubled["tcp_flags"], 19);
    assert_eq!(doubled["pkt_srcaddr"], "10.0.0.62");
    let annotated = records
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("06_nat_gateway.log") && r["line"] == 7)
        .unwrap();
    assert_eq!(annotated["pkt_dstaddr"], "10.0.1.5");
    assert_eq!(annotated["community_id"], Value::Null);
}
