//! What a new user meets with flow logs and audits (issue 12), through the built binary: rules
//! named for untracked responses, same-subnet peers that no ENI holds, NODATA and SKIPDATA
//! kept, files with no valid record, unreadable inputs that leave the rest audited, and advice
//! from observed traffic.

mod common;

use assert_cmd::Command;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

const V2: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

fn bin() -> Command {
    let mut c = Command::cargo_bin("vpcreach").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn flows_file(dir: &Path, name: &str, lines: &[&str]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("{V2}\n{}\n", lines.join("\n"))).unwrap();
    p
}

fn explain_json(snap: &Path, files: &[&Path], extra: &[&str], code: i32) -> Value {
    let mut c = bin();
    c.args(["explain", "--output", "json"])
        .args(extra)
        .arg("--snapshot")
        .arg(snap)
        .args(files);
    let out = c.assert().code(code).get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

// Item 5: an untracked response names the rule of its own direction, and that rule is counted.
#[test]
fn untracked_response_names_its_rule_and_counts_it() {
    let net = common::base();
    let d = common::snapshot_dir(&net);
    let f = flows_file(
        d.path(),
        "untracked.log",
        &[
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web 10.0.1.10 198.51.100.7 443 40000 6 5 500 100 160 ACCEPT OK",
        ],
    );
    let doc = explain_json(d.path(), &[&f], &["--rule-usage"], 0);
    let resp = &doc["records"][1];
    let decided = resp["decided_by"].to_string();
    assert_eq!(resp["decided_by"][0]["tracking"], "untracked", "{resp:#}");
    assert!(
        decided.contains("all to 0.0.0.0/0") || decided.contains("0.0.0.0/0"),
        "{decided}"
    );
    assert!(!decided.contains("its rules (untracked flow)"), "{decided}");
    let usage = doc["summary"]["rule_usage"].as_array().unwrap();
    let out_rule = usage
        .iter()
        .find(|u| u["resource"] == "sg-web" && u["direction"] == "outbound")
        .unwrap();
    assert_eq!(out_rule["hits"], 1, "{usage:#?}");
    // The human line names the rule too.
    let out = bin()
        .args(["explain", "--snapshot"])
        .arg(d.path())
        .arg(&f)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("allowed by sg-web rule"), "{text}");
    assert!(text.contains("untracked"), "{text}");
}

// Item 7 (explain): a peer in the ENI's subnet that no ENI of the snapshot holds crosses no NACL.
#[test]
fn same_subnet_peer_without_an_eni_crosses_no_nacl() {
    let mut net = common::base();
    let acl = common::find(&mut net, "NetworkAcls", "NetworkAclId", "acl-default");
    acl["Entries"] = json!([
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": true, "CidrBlock": "0.0.0.0/0"}
    ]);
    let app = common::find(&mut net, "SecurityGroups", "GroupId", "sg-app");
    app["IpPermissions"] = json!([{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                                   "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]);
    let d = common::snapshot_dir(&net);
    let f = flows_file(
        d.path(),
        "peer.log",
        &["2 1 eni-app 10.0.2.77 10.0.2.20 40000 8080 6 5 500 100 160 ACCEPT OK"],
    );
    let doc = explain_json(d.path(), &[&f], &[], 0);
    let r = &doc["records"][0];
    assert_eq!(r["status"], "consistent", "{r:#}");
    assert!(
        !r["decided_by"].to_string().contains("acl-default"),
        "{r:#}"
    );
}

// Item 8: `parse` keeps NODATA and SKIPDATA records, and writes a v2 record's own fields.
#[test]
fn parse_keeps_nodata_and_skipdata_and_writes_own_fields() {
    let d = tempfile::tempdir().unwrap();
    let f = flows_file(
        d.path(),
        "p.log",
        &[
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web - - - - - - - 100 160 - NODATA",
            "2 1 eni-web - - - - - - - 100 160 - SKIPDATA",
        ],
    );
    let out = bin()
        .arg("parse")
        .arg(&f)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let rows: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    assert_eq!(rows[1]["log_status"], "NODATA");
    assert_eq!(rows[2]["log_status"], "SKIPDATA");
    assert_eq!(rows[2]["interface_id"], "eni-web");
    // v2 fields only: no v3-v8 field padded with null.
    assert!(rows[0].get("vpc_id").is_none(), "{:#}", rows[0]);
    assert!(rows[0].get("reject_reason").is_none(), "{:#}", rows[0]);
    assert_eq!(rows[0]["dstport"], 443);
}

// Item 9: a file with no valid record is an error, named, with a non-zero exit.
#[test]
fn a_file_with_no_valid_record_fails() {
    let d = common::snapshot_dir(&common::base());
    let bin_file = d.path().join("image.log");
    std::fs::write(
        &bin_file,
        [0u8, 159, 146, 150, 10, 255, 0, 1, 2, 10, 3, 4, 5],
    )
    .unwrap();
    let ok = flows_file(
        d.path(),
        "ok.log",
        &["2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK"],
    );
    let out = bin()
        .args(["explain", "--snapshot"])
        .arg(d.path())
        .arg(&bin_file)
        .arg(&ok)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        err.contains("image.log`: no valid flow-log record"),
        "{err}"
    );
    assert!(!err.contains("ok.log`: no valid"), "{err}");
    // A wrong `--format` makes every line malformed: the same error.
    let headerless = d.path().join("headerless.log");
    std::fs::write(
        &headerless,
        "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK\n",
    )
    .unwrap();
    bin()
        .args(["explain", "--format", "version srcaddr", "--snapshot"])
        .arg(d.path())
        .arg(&headerless)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("no valid flow-log record"));
}

// Item 10: a truncated `.gz` is reported, the rest is still read, and JSON says what failed.
#[test]
fn a_truncated_gz_is_reported_and_the_rest_is_kept() {
    let d = common::snapshot_dir(&common::base());
    let gz = d.path().join("cut.log.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut text = format!("{V2}\n");
    for i in 0..2000 {
        text += &format!(
            "2 1 eni-web 198.51.100.{} 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK\n",
            i % 250
        );
    }
    enc.write_all(text.as_bytes()).unwrap();
    let bytes = enc.finish().unwrap();
    std::fs::write(&gz, &bytes[..bytes.len() / 2]).unwrap();
    let ok = flows_file(
        d.path(),
        "ok.log",
        &["2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK"],
    );
    let doc = explain_json(d.path(), &[&gz, &ok], &[], 2);
    assert_eq!(doc["complete"], false, "{doc:#}");
    assert!(
        doc["errors"][0].as_str().unwrap().contains("cut.log.gz"),
        "{doc:#}"
    );
    // audit --flows: the static findings survive, the report says it is incomplete.
    let policies = d.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("p.toml"),
        "[[statement]]\nid = \"no-ssh\"\ndescription = \"no ssh from the internet\"\nseverity = \"high\"\nkind = \"deny\"\nfrom = \"internet\"\nto = \"any\"\ntraffic = \"tcp/22\"\n",
    )
    .unwrap();
    let out = bin()
        .args(["audit", "--output", "json", "--snapshot"])
        .arg(d.path())
        .arg("--policies")
        .arg(&policies)
        .arg("--flows")
        .arg(&gz)
        .arg(&ok)
        .assert()
        .get_output()
        .clone();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(doc["complete"], false, "{doc:#}");
    assert!(doc["errors"][0].as_str().unwrap().contains("cut.log.gz"));
    assert!(doc["findings"].is_array());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("cut.log.gz"));
}

// Item 11: a malformed line is reported once, on stderr, not also as a record on stdout.
#[test]
fn malformed_lines_are_reported_once_on_stderr() {
    let d = common::snapshot_dir(&common::base());
    let f = flows_file(
        d.path(),
        "bad.log",
        &[
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web 198.51.100.7 10.0.1.10 4x000 443 6 5 500 100 160 ACCEPT OK",
        ],
    );
    let out = bin()
        .args(["explain", "--snapshot"])
        .arg(d.path())
        .arg(&f)
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stdout.contains("bad.log:3"), "{stdout}");
    assert_eq!(stderr.matches("bad.log:3").count(), 1, "{stderr}");
}

// Item 4: default and deny NACL rules are never "unused"; outbound advice speaks of destinations.
#[test]
fn observed_audit_gives_sound_advice() {
    let d = common::snapshot_dir(&common::base());
    let f = flows_file(
        d.path(),
        "flows.log",
        &[
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web 10.0.1.10 198.51.100.7 443 40000 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web 10.0.1.10 198.51.100.9 50000 443 6 5 500 100 160 ACCEPT OK",
        ],
    );
    let policies = d.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("p.toml"),
        "[[statement]]\nid = \"no-ssh\"\ndescription = \"no ssh from the internet\"\nseverity = \"high\"\nkind = \"deny\"\nfrom = \"internet\"\nto = \"any\"\ntraffic = \"tcp/22\"\n",
    )
    .unwrap();
    let out = bin()
        .args([
            "audit",
            "--output",
            "json",
            "--fail-on",
            "critical",
            "--snapshot",
        ])
        .arg(d.path())
        .arg("--policies")
        .arg(&policies)
        .arg("--flows")
        .arg(&f)
        .assert()
        .get_output()
        .clone();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    let findings = doc["findings"].as_array().unwrap();
    for f in findings {
        let msg = f["message"].as_str().unwrap_or("");
        if f["check"] == "unused-rule" {
            assert!(!msg.contains("deny"), "a deny rule called unused: {msg}");
            assert!(!msg.contains("(*"), "a default rule called unused: {msg}");
        }
        if f["check"] == "least-privilege" && msg.contains("outbound") {
            assert!(msg.contains("went only to"), "{msg}");
            assert!(!msg.contains("came only from"), "{msg}");
        }
    }
    assert!(
        findings.iter().any(|f| f["check"] == "unused-rule"),
        "some allow rule is unused: {findings:#?}"
    );
}

// Item 8: SKIPDATA means records were lost: explain and audit --flows say per ENI how many
// windows were lost.
#[test]
fn skipdata_windows_are_counted_per_interface() {
    let d = common::snapshot_dir(&common::base());
    let f = flows_file(
        d.path(),
        "skip.log",
        &[
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web - - - - - - - 100 160 - SKIPDATA",
            "2 1 eni-web - - - - - - - 160 220 - SKIPDATA",
            "2 1 eni-app - - - - - - - 100 160 - NODATA",
        ],
    );
    let doc = explain_json(d.path(), &[&f], &[], 0);
    assert_eq!(
        doc["summary"]["skipdata_by_interface"],
        json!([{"interface": "eni-web", "windows": 2}]),
        "{doc:#}"
    );
    bin()
        .args(["explain", "--snapshot"])
        .arg(d.path())
        .arg(&f)
        .assert()
        .code(0)
        .stderr(predicates::str::contains(
            "records lost: eni-web: 2 window(s) (SKIPDATA)",
        ));
    let policies = d.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    std::fs::write(
        policies.join("p.toml"),
        "[[statement]]\nid = \"no-ssh\"\ndescription = \"no ssh from the internet\"\nseverity = \"high\"\nkind = \"deny\"\nfrom = \"internet\"\nto = \"any\"\ntraffic = \"tcp/22\"\n",
    )
    .unwrap();
    let out = bin()
        .args([
            "audit",
            "--output",
            "json",
            "--fail-on",
            "critical",
            "--snapshot",
        ])
        .arg(d.path())
        .arg("--policies")
        .arg(&policies)
        .arg("--flows")
        .arg(&f)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let doc: Value = serde_json::from_slice(&out).unwrap();
    assert!(
        doc["summary"]["notes"]
            .to_string()
            .contains("records lost at eni-web: 2 window(s)"),
        "{doc:#}"
    );
}

// Item 9: a file that is not a flow log gives a few warnings and one count, not one per line.
#[test]
fn a_non_flow_file_gives_few_warnings() {
    let d = common::snapshot_dir(&common::base());
    let f = d.path().join("notes.txt");
    let text: String = (0..500)
        .map(|i| format!("line {i} of a readme\n"))
        .collect();
    std::fs::write(&f, text).unwrap();
    let out = bin()
        .args(["explain", "--snapshot"])
        .arg(d.path())
        .arg(&f)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.lines().count() < 30, "{err}");
    assert!(
        err.contains("490 more malformed line(s) not shown"),
        "{err}"
    );
    assert!(
        err.contains("notes.txt`: no valid flow-log record in 500 line(s)"),
        "{err}"
    );
}

// Item 9: files of other kinds in a flow folder are named once each and not read; the logs
// beside them are.
#[test]
fn other_files_in_a_flow_folder_are_named_once_each() {
    let d = common::snapshot_dir(&common::base());
    let flows = tempfile::tempdir().unwrap();
    flows_file(
        flows.path(),
        "a.log",
        &["2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK"],
    );
    let readme: String = (0..300)
        .map(|i| format!("line {i} of a readme\n"))
        .collect();
    std::fs::write(flows.path().join("README.md"), readme).unwrap();
    std::fs::write(flows.path().join("policy.toml"), "[x]\n").unwrap();
    // A JSON document of another kind, pretty-printed over many lines: one line, not one
    // malformed record per line, and the run is not incomplete.
    std::fs::write(
        flows.path().join("iam-policy.json"),
        std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/iam-policy.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let out = bin()
        .args(["explain", "--snapshot"])
        .arg(d.path())
        .arg(flows.path())
        .assert()
        .code(0)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    let named: Vec<&str> = err.lines().filter(|l| l.contains("README.md")).collect();
    assert_eq!(named.len(), 1, "{err}");
    assert!(
        named[0].starts_with("warning: skipped") && named[0].contains("not a flow-log file"),
        "{err}"
    );
    assert_eq!(
        err.lines().filter(|l| l.contains("policy.toml")).count(),
        1,
        "{err}"
    );
    let json: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("iam-policy.json"))
        .collect();
    assert_eq!(json.len(), 1, "{err}");
    assert!(
        json[0].starts_with("warning: skipped")
            && json[0].contains(
                "not a flow-log file (a JSON document without log events or flow-log fields)"
            ),
        "{err}"
    );
    assert!(err.contains("1 records read"), "{err}");
}

// Item 9: a header with a misspelled field gets the warning and "did you mean" that `--format`
// gives, once per name however many files repeat it.
#[test]
fn a_misspelled_header_field_is_named_with_a_suggestion() {
    let d = common::snapshot_dir(&common::base());
    let flows = tempfile::tempdir().unwrap();
    let header = V2.replace("interface-id", "interfaceid");
    for name in ["a.log", "b.log"] {
        std::fs::write(
            flows.path().join(name),
            format!("{header}\n2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK\n"),
        )
        .unwrap();
    }
    let out = bin()
        .args(["explain", "--snapshot"])
        .arg(d.path())
        .arg(flows.path())
        .assert()
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    let warned: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("`interfaceid`"))
        .collect();
    assert_eq!(warned.len(), 1, "{err}");
    assert!(
        warned[0].contains("a.log:1: header field `interfaceid` is not a flow-log field")
            && warned[0].contains("(did you mean `interface-id`?)"),
        "{err}"
    );
    // A transit gateway field is an AWS field: kept as text without a warning.
    let tgw = flows.path().join("c.log");
    std::fs::write(&tgw, "version resource-type tgw-id srcaddr\n").unwrap();
    let out = bin()
        .args(["parse"])
        .arg(&tgw)
        .assert()
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("tgw-id"), "{err}");
}

// Issue 13 item 11: a record whose addresses are of different families is parsed, and explained
// as unknown with its own reason, never judged by one family's rules.
#[test]
fn a_record_of_mixed_address_families_is_unknown_with_its_reason() {
    let d = common::snapshot_dir(&common::base());
    let f = flows_file(
        d.path(),
        "mixed.log",
        &[
            "2 1 eni-web 2001:db8::7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
        ],
    );
    let doc = explain_json(d.path(), &[&f], &[], 0);
    let mixed = &doc["records"][0];
    assert_eq!(mixed["status"], "unknown", "{mixed:#}");
    assert_eq!(mixed["reason"], "MIXED_ADDRESS_FAMILIES", "{mixed:#}");
    assert!(
        mixed["message"]
            .as_str()
            .unwrap()
            .contains("different address families"),
        "{mixed:#}"
    );
    assert_eq!(doc["records"][1]["status"], "consistent", "{doc:#}");
    // `parse` keeps it with its fields.
    let out = bin()
        .arg("parse")
        .arg(&f)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let first: Value =
        serde_json::from_str(String::from_utf8(out).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(first["srcaddr"], "2001:db8::7", "{first:#}");
}
