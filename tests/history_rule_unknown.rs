//! Issue 15: a NACL entry whose content before a change the history cannot tell (a
//! `DeleteNetworkAclEntry` or `ReplaceNetworkAclEntry` whose earlier content is in no event or
//! AWS Config item) is unknown before that change, and only it: a flow that an entry of a lower
//! number decides is judged exactly, a flow that reaches the unknown entry is `unknown` naming
//! the change, and a flow that a security group denies anyway is an exact deny. Through the
//! binary (`query --at`, `explain --history`, `changes`) and the library (`history::at`).
//!
//! "Exact" here means: the answer is the one every possible content of the unknown entry gives
//! (allow, deny, or any match), so it is stated as `reachable`/`unreachable` (or, for a flow-log
//! record, `consistent`/`contradiction`) with the check that decided, never `unknown`.

mod common;

use assert_cmd::Command;
use common::{base, snapshot_dir};
use serde_json::{json, Value};
use std::path::Path;

/// The `DeleteNetworkAclEntry` of inbound rule 200 (14:12).
const DELETE_ID: &str = "00000012-0000-4000-8000-000000000200";
/// The `ReplaceNetworkAclEntry` of inbound rule 200 (14:11).
const REPLACE_ID: &str = "00000011-0000-4000-8000-000000000200";

/// The base network with sg-web allowing tcp/80 and tcp/443 from anywhere (not tcp/22 nor
/// tcp/8443), and acl-default's inbound entries: 100 allows tcp/443, 110 denies tcp/8443, and
/// then `rule_200` (if any), 300 allows all IPv4 (IPv6 as the base has it).
fn network(rule_200: Option<Value>) -> Value {
    let mut v = base();
    let sg = common::find(&mut v, "SecurityGroups", "GroupId", "sg-web");
    sg["IpPermissions"].as_array_mut().unwrap().push(json!(
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}));
    let acl = common::find(&mut v, "NetworkAcls", "NetworkAclId", "acl-default");
    let entries = acl["Entries"].as_array_mut().unwrap();
    entries.retain(|e| !(e["RuleNumber"] == 100 && e["Egress"] == false));
    entries.push(
        json!({"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": false,
                        "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 443, "To": 443}}),
    );
    entries.push(
        json!({"RuleNumber": 110, "Protocol": "6", "RuleAction": "deny", "Egress": false,
                        "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 8443, "To": 8443}}),
    );
    entries.push(
        json!({"RuleNumber": 300, "Protocol": "-1", "RuleAction": "allow", "Egress": false,
                        "CidrBlock": "0.0.0.0/0"}),
    );
    if let Some(e) = rule_200 {
        entries.push(e);
    }
    v
}

/// One CloudTrail record changing inbound rule 200 of acl-default.
fn trail_record(api: &str, id: &str, time: &str, extra: Value) -> Value {
    let mut params = json!({"networkAclId": "acl-default", "ruleNumber": 200, "egress": false});
    if let (Some(p), Some(x)) = (params.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            p.insert(k.clone(), v.clone());
        }
    }
    json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/ops",
                         "accountId": "111122223333"},
        "eventTime": time,
        "eventSource": "ec2.amazonaws.com",
        "eventName": api,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "requestParameters": params,
        "responseElements": {"_return": true},
        "eventID": id,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333"
    })
}

/// A trail folder holding `records`.
fn trail(records: Vec<Value>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let day = dir
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/10/14");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(
        day.join("trail.json"),
        serde_json::to_vec(&json!({ "Records": records })).unwrap(),
    )
    .unwrap();
    dir
}

/// Rule 200 (inbound, in no earlier event) deleted at 14:12: the snapshot (15:00) has no rule
/// 200.
fn deleted() -> (tempfile::TempDir, tempfile::TempDir) {
    let snap = snapshot_dir(&network(None));
    let h = trail(vec![trail_record(
        "DeleteNetworkAclEntry",
        DELETE_ID,
        "2024-10-14T14:12:00Z",
        json!({}),
    )]);
    (snap, h)
}

/// Rule 200 (inbound, in no earlier event) replaced at 14:11 by "allow all IPv4": the snapshot
/// has that.
fn replaced() -> (tempfile::TempDir, tempfile::TempDir) {
    let snap = snapshot_dir(&network(Some(json!(
        {"RuleNumber": 200, "Protocol": "-1", "RuleAction": "allow", "Egress": false,
         "CidrBlock": "0.0.0.0/0"}))));
    let h = trail(vec![trail_record(
        "ReplaceNetworkAclEntry",
        REPLACE_ID,
        "2024-10-14T14:11:00Z",
        json!({"ruleAction": "allow", "aclProtocol": "-1", "cidrBlock": "0.0.0.0/0",
               "portRange": {}, "icmpTypeCode": {}}),
    )]);
    (snap, h)
}

/// `vpcreach query --from 203.0.113.5 --to eni-web --port PORT --output json --at AT`:
/// the JSON and the exit code.
fn query_at(snap: &Path, hist: &Path, port: u16, at: &str) -> (Value, i32) {
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["query", "--from", "203.0.113.5", "--to", "eni-web"])
        .args(["--port", &port.to_string(), "--output", "json", "--at", at])
        .arg("--snapshot")
        .arg(snap)
        .args(["--snapshot-time", "2024-10-14T15:00:00Z", "--history"])
        .arg(hist)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
    (v, out.status.code().unwrap_or(-1))
}

/// The NACL checks of a trace's forward path.
fn nacl_checks(v: &Value) -> Vec<Value> {
    v["forward"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["checks"].as_array().unwrap().iter().cloned())
        .filter(|c| c["layer"] == "network_acl")
        .collect()
}

/// The four flows before the change, then the unknown one after it, for the change `id`.
fn query_cases(snap: &Path, hist: &Path, id: &str, api: &str, before: &str) {
    // 1. tcp/443: rule 100 (before rule 200) allows it, sg-web too: reachable, exactly.
    let (v, code) = query_at(snap, hist, 443, before);
    assert_eq!(
        (v["verdict"].as_str(), code),
        (Some("reachable"), 0),
        "{v:#}"
    );
    let nacl = nacl_checks(&v);
    assert_eq!(nacl[0]["decision"], "allow", "{v:#}");
    assert_eq!(nacl[0]["rule_number"], 100, "{v:#}");
    for part in [&v["forward"], &v["return"], &v["message"]] {
        assert!(!part.to_string().contains(id), "{v:#}");
    }

    // 2. tcp/8443: rule 110 (before rule 200) denies it: unreachable, exactly, by the NACL.
    let (v, code) = query_at(snap, hist, 8443, before);
    assert_eq!(
        (v["verdict"].as_str(), code),
        (Some("unreachable"), 1),
        "{v:#}"
    );
    assert_eq!(v["reason"], "SUBNET_ACL_RESTRICTION", "{v:#}");
    assert_eq!(v["blocked_at"]["rule_number"], 110, "{v:#}");

    // 3. tcp/80: no rule before 200 matches, sg-web allows it: unknown, naming the change.
    let (v, code) = query_at(snap, hist, 80, before);
    assert_eq!((v["verdict"].as_str(), code), (Some("unknown"), 1), "{v:#}");
    let at = &v["blocked_at"];
    assert_eq!(at["layer"], "network_acl", "{v:#}");
    assert_eq!(at["rule_number"], 200, "{v:#}");
    assert_eq!(at["resources"], json!(["acl-default"]), "{v:#}");
    let detail = at["detail"].as_str().unwrap();
    assert!(detail.contains(id) && detail.contains(api), "{detail}");
    assert!(
        at["rule"]["unknown"].as_str().unwrap().contains(id),
        "{v:#}"
    );
    assert_eq!(at["rule"]["action"], "unknown", "{v:#}");
    // Not the match-all form it is evaluated by: no content is claimed.
    for field in ["cidr", "protocol", "ports"] {
        assert!(at["rule"].get(field).is_none(), "{field}: {v:#}");
    }
    assert!(v["message"].as_str().unwrap().contains(id), "{v:#}");
    // The model says which rule is unknown then, and withholds nothing.
    assert_eq!(v["model"]["unknown"], json!([]), "{v:#}");
    let rules = v["model"]["unknown_rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1, "{v:#}");
    assert_eq!(rules[0]["resource"], "acl-default");
    assert_eq!(rules[0]["direction"], "inbound");
    assert_eq!(rules[0]["rule_number"], 200);
    assert!(rules[0]["reason"].as_str().unwrap().contains(id), "{v:#}");

    // 4. tcp/22: it reaches rule 200 too, but no rule of sg-web allows it: whatever rule 200
    // was, the group denies it. Unreachable, exactly, blocked by the group; the NACL's check
    // on the way is shown as unknown.
    let (v, code) = query_at(snap, hist, 22, before);
    assert_eq!(
        (v["verdict"].as_str(), code),
        (Some("unreachable"), 1),
        "{v:#}"
    );
    assert_eq!(v["reason"], "ENI_SG_RULES_MISMATCH", "{v:#}");
    assert_eq!(v["blocked_at"]["layer"], "security_group", "{v:#}");
    assert_eq!(v["blocked_at"]["component"], "eni-web", "{v:#}");
    let nacl = nacl_checks(&v);
    assert!(
        nacl.iter()
            .any(|c| c["decision"] == "unknown" && c["rule_number"] == 200),
        "{v:#}"
    );

    // After the change: the snapshot's NACL decides tcp/80 exactly.
    let (v, code) = query_at(snap, hist, 80, "2024-10-14T14:30:00Z");
    assert_eq!(
        (v["verdict"].as_str(), code),
        (Some("reachable"), 0),
        "{v:#}"
    );
    assert!(v["model"]["unknown_rules"].as_array().unwrap().is_empty());
}

#[test]
fn query_at_before_a_deleted_entry_is_unknown_only_where_it_decides() {
    let (snap, h) = deleted();
    query_cases(
        snap.path(),
        h.path(),
        DELETE_ID,
        "DeleteNetworkAclEntry",
        "2024-10-14T14:00:00Z",
    );
}

#[test]
fn query_at_before_a_replaced_entry_is_unknown_only_where_it_decides() {
    let (snap, h) = replaced();
    query_cases(
        snap.path(),
        h.path(),
        REPLACE_ID,
        "ReplaceNetworkAclEntry",
        "2024-10-14T14:00:00Z",
    );
}

#[test]
fn query_at_human_output_names_the_unknown_rule_and_the_change() {
    let (snap, h) = deleted();
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["query", "--from", "203.0.113.5", "--to", "eni-web"])
        .args(["--port", "80", "--at", "2024-10-14T14:00:00Z"])
        .arg("--snapshot")
        .arg(snap.path())
        .args(["--snapshot-time", "2024-10-14T15:00:00Z", "--history"])
        .arg(h.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("1 network ACL rule(s) of unknown content"),
        "{text}"
    );
    assert!(
        text.contains("unknown: `acl-default` inbound rule 200: history: DeleteNetworkAclEntry"),
        "{text}"
    );
    assert!(text.contains(DELETE_ID), "{text}");
}

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
/// 2024-10-14T14:00:00Z, before both changes.
const T1400: u64 = 1_728_914_400;
/// 2024-10-14T14:30:00Z, after both.
const T1430: u64 = 1_728_916_200;

fn record(port: u16, start: u64, action: &str) -> String {
    format!(
        "2 111122223333 eni-web 203.0.113.5 10.0.1.10 50000 {port} 6 5 500 {start} {} {action} OK",
        start + 60
    )
}

/// `explain --output jsonl --history HIST` of `lines`: the records.
fn explain(lines: &[String], snap: &Path, hist: &Path) -> Vec<Value> {
    let flows = tempfile::tempdir().unwrap();
    let log = flows.path().join("web.log");
    std::fs::write(&log, format!("{HEADER}\n{}\n", lines.join("\n"))).unwrap();
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["explain", "--output", "jsonl", "--snapshot"])
        .arg(snap)
        .args(["--snapshot-time", "2024-10-14T15:00:00Z", "--history"])
        .arg(hist)
        .arg(&log)
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn explain_cases(snap: &Path, hist: &Path, id: &str, api: &str) {
    let lines = [
        record(443, T1400, "ACCEPT"),  // rule 100 allows: exact
        record(8443, T1400, "REJECT"), // rule 110 denies: exact
        record(80, T1400, "ACCEPT"),   // reaches rule 200: unknown
        record(22, T1400, "REJECT"),   // reaches rule 200, sg-web denies anyway: exact
        record(22, T1400, "ACCEPT"),   // the same, accepted: an exact contradiction
        record(80, T1430, "ACCEPT"),   // after the change: exact
    ];
    let v = explain(&lines, snap, hist);
    let status: Vec<&str> = v.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(
        status,
        [
            "consistent",
            "consistent",
            "unknown",
            "consistent",
            "contradiction",
            "consistent"
        ],
        "{v:#?}"
    );
    // The exact ones before the change name the rule that decided, not the change.
    assert_eq!(v[0]["decided_by"][0]["rule_number"], 100, "{:#}", v[0]);
    assert_eq!(v[1]["decided_by"][0]["rule_number"], 110, "{:#}", v[1]);
    assert_eq!(v[1]["reason"], "SUBNET_ACL_RESTRICTION", "{:#}", v[1]);
    for r in [&v[0], &v[1]] {
        assert!(!r["decided_by"].to_string().contains(id), "{r:#}");
    }
    // The unknown one names the rule and the change.
    let r = &v[2];
    let nacl = &r["decided_by"][0];
    assert_eq!(nacl["layer"], "network_acl", "{r:#}");
    assert_eq!(nacl["decision"], "unknown", "{r:#}");
    assert_eq!(nacl["rule_number"], 200, "{r:#}");
    let text = nacl["text"].as_str().unwrap();
    assert!(text.contains(id) && text.contains(api), "{text}");
    let m = r["message"].as_str().unwrap();
    assert!(m.contains(id), "{m}");
    // The group's deny decides, whatever rule 200 was.
    for r in [&v[3], &v[4]] {
        assert_eq!(r["expected"], "REJECT", "{r:#}");
        assert_eq!(r["reason"], "ENI_SG_RULES_MISMATCH", "{r:#}");
    }
}

#[test]
fn explain_history_is_unknown_only_for_records_that_reach_a_deleted_entry() {
    let (snap, h) = deleted();
    explain_cases(snap.path(), h.path(), DELETE_ID, "DeleteNetworkAclEntry");
}

#[test]
fn explain_history_is_unknown_only_for_records_that_reach_a_replaced_entry() {
    let (snap, h) = replaced();
    explain_cases(snap.path(), h.path(), REPLACE_ID, "ReplaceNetworkAclEntry");
}

#[test]
fn changes_shows_the_effect_of_a_change_that_depends_on_the_unknown_rule_as_unknown() {
    // Before the delete, rule 50 (allow tcp/80) was created: traffic it does not match reaches
    // rule 200, whose content is not known then, so what the create did is unknown.
    let snap = snapshot_dir(&network(None));
    let mut with_50 = network(None);
    common::find(&mut with_50, "NetworkAcls", "NetworkAclId", "acl-default")["Entries"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"RuleNumber": 50, "Protocol": "6", "RuleAction": "allow", "Egress": false,
                     "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 80, "To": 80}}),
        );
    let snap50 = snapshot_dir(&with_50);
    let h = trail(vec![
        {
            let mut r = trail_record(
                "CreateNetworkAclEntry",
                "00000010-0000-4000-8000-000000000050",
                "2024-10-14T14:10:00Z",
                json!({"ruleAction": "allow", "aclProtocol": "6", "cidrBlock": "0.0.0.0/0",
                       "portRange": {"from": 80, "to": 80}, "icmpTypeCode": {}}),
            );
            r["requestParameters"]["ruleNumber"] = json!(50);
            r
        },
        trail_record(
            "DeleteNetworkAclEntry",
            DELETE_ID,
            "2024-10-14T14:12:00Z",
            json!({}),
        ),
    ]);
    drop(snap);
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["changes", "--output", "json", "--snapshot"])
        .arg(snap50.path())
        .args(["--snapshot-time", "2024-10-14T15:00:00Z", "--history"])
        .arg(h.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let changes = v["changes"].as_array().unwrap_or_else(|| panic!("{v:#}"));
    let by_id = |id: &str| {
        changes
            .iter()
            .find(|c| c["event_id"] == id)
            .unwrap_or_else(|| panic!("{id}: {v:#}"))
            .clone()
    };
    let create = by_id("00000010-0000-4000-8000-000000000050");
    assert_eq!(create["effect"], "unknown", "{create:#}");
    let because = create.to_string();
    assert!(because.contains(DELETE_ID), "{create:#}");
    let delete = by_id(DELETE_ID);
    assert_eq!(delete["effect"], "unknown", "{delete:#}");
}

#[test]
fn the_model_at_a_time_keeps_the_nacl_with_an_entry_of_unknown_content() {
    // Through the library: nothing is withheld; the NACL holds the unknown entry, naming the
    // change; the subnets and interfaces stay.
    let (snap_dir, h) = deleted();
    let snap = vpcreach::Snapshot::load(snap_dir.path()).unwrap();
    let history = vpcreach::history::read(&[h.path().to_path_buf()]).unwrap();
    // 2024-10-14T14:00:00Z and 15:00:00Z.
    let (t, snapshot_time) = (1_728_914_400, 1_728_918_000);
    let at = vpcreach::history::at(&snap, &history.events, snapshot_time, t);
    assert!(
        at.snapshot.withheld.is_empty(),
        "{:?}",
        at.snapshot.withheld
    );
    assert_eq!(at.unknown.len(), 1);
    assert_eq!(at.unknown[0].0, DELETE_ID);
    let acl = at
        .snapshot
        .network_acls
        .iter()
        .find(|a| a.network_acl_id == "acl-default")
        .unwrap();
    assert_eq!(acl.unknown_entries.len(), 1);
    let u = &acl.unknown_entries[0];
    assert_eq!((u.rule_number, u.egress), (200, false));
    assert!(u.why.contains(DELETE_ID) && u.why.contains("DeleteNetworkAclEntry"));
    assert_eq!(at.snapshot.subnets.len(), snap.subnets.len());
    assert_eq!(
        at.snapshot.network_interfaces.len(),
        snap.network_interfaces.len()
    );
}

#[test]
fn the_fast_scan_and_the_full_parser_agree_on_records_that_reach_an_unknown_entry() {
    // `explain --history`'s two paths, and the model at each record's start built directly:
    // the same status and expected action for every record, and the same counts.
    use vpcreach::explain::{Explainer, Memo, Status, Timeline};
    use vpcreach::flow_log::{Chunk, Format};
    for (snap_dir, h) in [deleted(), replaced()] {
        let snap = vpcreach::Snapshot::load(snap_dir.path()).unwrap();
        let events = vpcreach::history::read(&[h.path().to_path_buf()])
            .unwrap()
            .events;
        let snapshot_time = 1_728_918_000; // 15:00
        let mut lines = Vec::new();
        for start in [T1400, T1430] {
            for port in [22, 80, 443, 8443] {
                for action in ["ACCEPT", "REJECT"] {
                    lines.push(record(port, start, action));
                }
            }
            // The response of an https connection from eni-web (outbound rules: exact).
            lines.push(format!(
                "2 111122223333 eni-web 10.0.1.10 203.0.113.5 443 50000 6 5 500 {start} {} ACCEPT OK",
                start + 60
            ));
        }
        let chunk = Chunk::new("t.log", lines.join("\n").into_bytes(), Format::default());
        let timeline = Timeline::new(snap.clone(), snapshot_time, events.clone());
        let mut full = Vec::new();
        let (full_tally, _) =
            timeline.explain_chunk(&chunk, |_, e| full.push((e.status, e.expected)));
        let mut fast = Vec::new();
        let (fast_tally, _) = timeline.explain_chunk_counted(
            &chunk,
            &mut Memo::default(),
            |_| true,
            |_, e| fast.push((e.status, e.expected)),
        );
        assert_eq!(fast, full);
        for s in Status::ALL {
            assert_eq!(fast_tally.count(s), full_tally.count(s), "{s:?}");
        }
        assert_eq!(full_tally.count(Status::Unknown), 2, "{full:?}");
        let parsed = vpcreach::flow_log::parse_chunk(&chunk);
        for (r, got) in parsed.records.iter().zip(&full) {
            let start = i64::try_from(r.start.unwrap()).unwrap();
            let then = vpcreach::history::at(&snap, &events, snapshot_time, start).snapshot;
            let net = vpcreach::Network::build(&then);
            let file: std::sync::Arc<Path> = Path::new("t.log").into();
            let e = Explainer::new(&net).explain(&file, r, None);
            assert_eq!(*got, (e.status, e.expected), "line {}", r.line);
        }
    }
}

/// `changes --output json` on `snap` taken at 15:00 and the history `h`.
fn changes_json(snap: &Path, h: &Path) -> Value {
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["changes", "--output", "json", "--snapshot"])
        .arg(snap)
        .args(["--snapshot-time", "2024-10-14T15:00:00Z", "--history"])
        .arg(h)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

/// `audit --at AT --output json` with the policies in `pol`, on `snap` taken at 15:00 and the
/// history `h`: its findings.
fn audit_findings(pol: &Path, snap: &Path, h: &Path, at: &str) -> Vec<Value> {
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["audit", "--policies"])
        .arg(pol)
        .args(["--output", "json", "--at", at, "--snapshot"])
        .arg(snap)
        .args(["--snapshot-time", "2024-10-14T15:00:00Z", "--history"])
        .arg(h)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    v["findings"].as_array().cloned().unwrap_or_default()
}

#[test]
fn audit_at_a_finding_whose_witness_reaches_the_unknown_entry_is_unknown() {
    let (snap, h) = deleted();
    let pol = tempfile::tempdir().unwrap();
    std::fs::write(
        pol.path().join("p.toml"),
        r#"
[[statement]]
id = "no-http"
description = "no HTTP from the internet"
severity = "medium"
kind = "deny"
from = "internet"
to = "any"
traffic = "tcp/80"
"#,
    )
    .unwrap();
    let audit = |at: &str| -> Vec<Value> {
        audit_findings(pol.path(), snap.path(), h.path(), at)
            .into_iter()
            .filter(|f| f["check"] == "no-http")
            .collect()
    };
    // Before the delete: http from the internet to eni-web reaches rule 200, which sg-web
    // lets through: neither exposed nor latent, unknown, naming the change.
    let before = audit("2024-10-14T14:00:00Z");
    assert_eq!(
        before.len(),
        1,
        "{before:#?} {:#?}",
        audit("2024-10-14T14:30:00Z")
    );
    assert_eq!(before[0]["status"], "unknown", "{:#}", before[0]);
    assert!(before[0].to_string().contains(DELETE_ID), "{:#}", before[0]);
    // After it: rule 300 lets it in, exposed.
    let after = audit("2024-10-14T14:30:00Z");
    assert_eq!(after.len(), 1, "{after:#?}");
    assert_eq!(after[0]["status"], "exposed", "{:#}", after[0]);
}

#[test]
fn audit_at_allowlist_traffic_that_reaches_the_unknown_entry_is_unknown() {
    // Everything may send https anywhere; eni-web's group also lets http in, which reaches
    // rule 200 before the delete: whether eni-web accepts traffic no `allow` covers is not
    // known then (unknown, naming the change), and known after it (not_allowed).
    let (snap, h) = deleted();
    let pol = tempfile::tempdir().unwrap();
    std::fs::write(
        pol.path().join("p.toml"),
        r#"
mode = "allowlist"
unlisted_severity = "medium"

[groups.everyone]
cidrs = ["0.0.0.0/0", "::/0"]

[[statement]]
id = "https-anywhere"
description = "https from anywhere"
kind = "allow"
from = "everyone"
to = "any"
traffic = "tcp/443"
"#,
    )
    .unwrap();
    let audit = |at: &str| -> Vec<Value> {
        audit_findings(pol.path(), snap.path(), h.path(), at)
            .into_iter()
            .filter(|f| f["enis"].to_string().contains("\"eni-web\""))
            .filter(|f| {
                f["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains(" tcp traffic ")
            })
            .collect()
    };
    let before = audit("2024-10-14T14:00:00Z");
    assert_eq!(before.len(), 1, "{before:#?}");
    assert_eq!(before[0]["status"], "unknown", "{:#}", before[0]);
    let m = before[0]["message"].as_str().unwrap();
    assert!(
        m.contains("to port 80 it reaches acl-default inbound rule 200 (unknown: ")
            && m.contains(DELETE_ID),
        "{m}"
    );
    let after = audit("2024-10-14T14:30:00Z");
    assert_eq!(after.len(), 1, "{after:#?}");
    assert_eq!(after[0]["status"], "not_allowed", "{:#}", after[0]);
}

#[test]
fn query_at_an_outbound_entry_of_unknown_content_decides_the_response() {
    // Outbound rule 50 deleted at 14:12 (in no earlier event): before that, every response
    // from eni-web reaches it first.
    let snap = snapshot_dir(&network(None));
    let mut r = trail_record(
        "DeleteNetworkAclEntry",
        DELETE_ID,
        "2024-10-14T14:12:00Z",
        json!({}),
    );
    r["requestParameters"]["ruleNumber"] = json!(50);
    r["requestParameters"]["egress"] = json!(true);
    let h = trail(vec![r]);
    // https: the request passes (rule 100, sg-web), the response is unknown on the way back.
    let (v, code) = query_at(snap.path(), h.path(), 443, "2024-10-14T14:00:00Z");
    assert_eq!((v["verdict"].as_str(), code), (Some("unknown"), 1), "{v:#}");
    let at = &v["blocked_at"];
    assert_eq!(at["path"], "return", "{v:#}");
    assert_eq!(at["direction"], "outbound", "{v:#}");
    assert_eq!(at["rule_number"], 50, "{v:#}");
    assert!(at["detail"].as_str().unwrap().contains(DELETE_ID), "{v:#}");
    // tcp/8443: inbound rule 110 denies the request; the response does not matter: exact.
    let (v, code) = query_at(snap.path(), h.path(), 8443, "2024-10-14T14:00:00Z");
    assert_eq!(
        (v["verdict"].as_str(), code),
        (Some("unreachable"), 1),
        "{v:#}"
    );
    assert_eq!(v["blocked_at"]["rule_number"], 110, "{v:#}");
    // After the delete: reachable.
    let (v, code) = query_at(snap.path(), h.path(), 443, "2024-10-14T14:30:00Z");
    assert_eq!(
        (v["verdict"].as_str(), code),
        (Some("reachable"), 0),
        "{v:#}"
    );
}

/// The fixture's `AuthorizeSecurityGroupIngress` (14:01: sg-web, tcp `port` from
/// 203.0.113.0/24), with event id `id`.
fn authorize(port: u16, id: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloudtrail/authorize-ingress.json");
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut r = v["Records"][0].clone();
    r["eventID"] = json!(id);
    let p = &mut r["requestParameters"]["ipPermissions"]["items"][0];
    p["fromPort"] = json!(port);
    p["toPort"] = json!(port);
    let s = &mut r["responseElements"]["securityGroupRuleSet"]["items"][0];
    s["fromPort"] = json!(port);
    s["toPort"] = json!(port);
    r
}

#[test]
fn changes_of_a_group_are_unknown_only_where_their_traffic_reaches_the_unknown_entry() {
    // Two authorizes on sg-web at 14:01, before the delete of inbound rule 200 at 14:12:
    // tcp/22 reaches rule 200 (unknown effect, naming it); tcp/8443 is denied by rule 110
    // before it (unchanged, exactly).
    let mut v = network(None);
    let sg = common::find(&mut v, "SecurityGroups", "GroupId", "sg-web");
    for port in [22, 8443] {
        sg["IpPermissions"].as_array_mut().unwrap().push(json!(
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
             "IpRanges": [{"CidrIp": "203.0.113.0/24"}]}));
    }
    let snap = snapshot_dir(&v);
    let h = trail(vec![
        authorize(22, "00000001-0000-4000-8000-000000000022"),
        authorize(8443, "00000001-0000-4000-8000-000000008443"),
        trail_record(
            "DeleteNetworkAclEntry",
            DELETE_ID,
            "2024-10-14T14:12:00Z",
            json!({}),
        ),
    ]);
    let v = changes_json(snap.path(), h.path());
    let find = |id: &str| {
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["event_id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id}: {v:#}"))
    };
    let ssh = find("00000001-0000-4000-8000-000000000022");
    assert_eq!(ssh["effect"], "unknown", "{ssh:#}");
    let why = ssh["reason"].as_str().unwrap();
    assert!(
        why.contains("eni-web inbound tcp")
            && why.contains("acl-default inbound rule 200 (unknown: ")
            && why.contains(DELETE_ID),
        "{why}"
    );
    let denied = find("00000001-0000-4000-8000-000000008443");
    assert_eq!(denied["effect"], "unchanged", "{denied:#}");
}

#[test]
fn changes_of_routes_whose_witness_reaches_the_unknown_entry_are_unknown() {
    // A route to 198.51.100.0/24 through the internet gateway added to rtb-main at 14:14,
    // before the delete of inbound rule 200 at 14:20: the responses to eni-app's witness
    // flows reach rule 200 on their way back in, so what the route did is not known.
    let mut v = network(None);
    common::find(&mut v, "RouteTables", "RouteTableId", "rtb-main")["Routes"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"DestinationCidrBlock": "198.51.100.0/24", "GatewayId": "igw-a",
                     "State": "active", "Origin": "CreateRoute"}),
        );
    let snap = snapshot_dir(&v);
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cloudtrail/create-route.json");
    let create: Value = serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    let h = trail(vec![
        create["Records"][0].clone(),
        trail_record(
            "DeleteNetworkAclEntry",
            DELETE_ID,
            "2024-10-14T14:20:00Z",
            json!({}),
        ),
    ]);
    let v = changes_json(snap.path(), h.path());
    let route = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["api"] == "CreateRoute")
        .cloned()
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(route["effect"], "unknown", "{route:#}");
    let why = route["reason"].as_str().unwrap();
    assert!(why.contains(DELETE_ID) && why.contains("rule 200"), "{why}");
}
