//! `vpcreach coverage` through the binary: flow logs at VPC, subnet and ENI level of each traffic
//! type, a log whose deliveries fail, an inactive log, a VPC without logs, custom formats that
//! lack fields, and untrusted text from the snapshot.

use assert_cmd::Command;
use serde_json::{json, Value};

fn eni(id: &str, vpc: &str, subnet: &str, ip: &str) -> Value {
    json!({"NetworkInterfaceId": id, "VpcId": vpc, "SubnetId": subnet, "PrivateIpAddress": ip,
           "InterfaceType": "interface", "Groups": []})
}

/// Three VPCs: `vpc-all` logged in full at VPC level; `vpc-mixed` with a REJECT log on one
/// subnet, an ACCEPT log on one ENI of the other subnet and a failing ENI log on the last;
/// `vpc-none` with an inactive log only.
fn snapshot() -> tempfile::TempDir {
    let v = json!({
        "Vpcs": [
            {"VpcId": "vpc-all", "CidrBlock": "10.1.0.0/16"},
            {"VpcId": "vpc-mixed", "CidrBlock": "10.2.0.0/16"},
            {"VpcId": "vpc-none", "CidrBlock": "10.3.0.0/16"}
        ],
        "Subnets": [
            {"SubnetId": "subnet-all", "VpcId": "vpc-all", "CidrBlock": "10.1.1.0/24"},
            {"SubnetId": "subnet-rej", "VpcId": "vpc-mixed", "CidrBlock": "10.2.1.0/24"},
            {"SubnetId": "subnet-eni", "VpcId": "vpc-mixed", "CidrBlock": "10.2.2.0/24"},
            {"SubnetId": "subnet-none", "VpcId": "vpc-none", "CidrBlock": "10.3.1.0/24"}
        ],
        "NetworkInterfaces": [
            eni("eni-all", "vpc-all", "subnet-all", "10.1.1.5"),
            eni("eni-rej", "vpc-mixed", "subnet-rej", "10.2.1.5"),
            eni("eni-acc", "vpc-mixed", "subnet-eni", "10.2.2.5"),
            eni("eni-fail", "vpc-mixed", "subnet-eni", "10.2.2.6"),
            eni("eni-none", "vpc-none", "subnet-none", "10.3.1.5")
        ],
        "FlowLogs": [
            {"FlowLogId": "fl-vpc", "ResourceId": "vpc-all", "TrafficType": "ALL",
             "FlowLogStatus": "ACTIVE", "DeliverLogsStatus": "SUCCESS", "LogDestinationType": "s3",
             "LogDestination": "arn:aws:s3:::logs-\u{1b}]0;owned\u{7}bucket", "MaxAggregationInterval": 600},
            {"FlowLogId": "fl-subnet", "ResourceId": "subnet-rej", "TrafficType": "REJECT",
             "FlowLogStatus": "ACTIVE", "DeliverLogsStatus": "SUCCESS",
             "LogFormat": "${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${action} ${log-status} ${tcp-flags} ${flow-direction} ${pkt-srcaddr} ${pkt-dstaddr} ${vpc-id} ${subnet-id}"},
            {"FlowLogId": "fl-eni", "ResourceId": "eni-acc", "TrafficType": "ACCEPT",
             "FlowLogStatus": "ACTIVE", "DeliverLogsStatus": "SUCCESS", "LogGroupName": "flows"},
            {"FlowLogId": "fl-failing", "ResourceId": "eni-fail", "TrafficType": "ALL",
             "FlowLogStatus": "ACTIVE", "DeliverLogsStatus": "FAILED",
             "DeliverLogsErrorMessage": "Access error"},
            {"FlowLogId": "fl-inactive", "ResourceId": "vpc-none", "TrafficType": "ALL",
             "FlowLogStatus": "PENDING"}
        ]
    });
    let dir = tempfile::tempdir().expect("temp dir");
    for (key, value) in v.as_object().expect("object") {
        std::fs::write(
            dir.path().join(format!("{key}.json")),
            serde_json::to_string(&json!({ key: value })).expect("json"),
        )
        .expect("write");
    }
    dir
}

fn coverage(dir: &std::path::Path, output: &str) -> std::process::Output {
    Command::cargo_bin("vpcreach")
        .expect("binary")
        .args(["coverage", "--output", output, "--snapshot"])
        .arg(dir)
        .output()
        .expect("run")
}

#[test]
fn every_eni_is_covered_partly_covered_or_not_and_says_by_what() {
    let dir = snapshot();
    let out = coverage(dir.path(), "json");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let capture = |id: &str| {
        let e = v["enis"]
            .as_array()
            .expect("enis")
            .iter()
            .find(|e| e["eni"] == id)
            .unwrap_or_else(|| panic!("{id} in {v:#}"));
        (
            e["capture"].as_str().unwrap_or("").to_string(),
            e["flow_logs"].clone(),
        )
    };
    assert_eq!(capture("eni-all"), ("all".into(), json!(["fl-vpc"])));
    assert_eq!(
        capture("eni-rej"),
        ("reject_only".into(), json!(["fl-subnet"]))
    );
    assert_eq!(
        capture("eni-acc"),
        ("accept_only".into(), json!(["fl-eni"]))
    );
    // A log that cannot deliver captures nothing that can be read; it is still named.
    assert_eq!(capture("eni-fail"), ("none".into(), json!(["fl-failing"])));
    assert_eq!(capture("eni-none"), ("none".into(), json!(["fl-inactive"])));
    assert_eq!(
        v["totals"],
        json!({"enis": 5, "covered": 1, "partly": 2, "not_covered": 2})
    );
    let vpcs: Vec<(String, String)> = v["vpcs"]
        .as_array()
        .expect("vpcs")
        .iter()
        .map(|r| {
            (
                r["vpc_id"].as_str().unwrap_or("").into(),
                r["capture"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert!(vpcs.contains(&("vpc-all".into(), "all".into())), "{vpcs:?}");
    assert!(
        vpcs.contains(&("vpc-none".into(), "none".into())),
        "{vpcs:?}"
    );
    let subnet = v["subnets"]
        .as_array()
        .expect("subnets")
        .iter()
        .find(|s| s["subnet_id"] == "subnet-rej")
        .expect("subnet-rej");
    assert_eq!(subnet["capture"], "reject_only");
    assert_eq!(subnet["vpc_id"], "vpc-mixed");

    let log = |id: &str| {
        v["flow_logs"]
            .as_array()
            .expect("flow_logs")
            .iter()
            .find(|l| l["flow_log_id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let failing = log("fl-failing");
    assert_eq!(failing["effective"], false);
    assert_eq!(failing["why_not"], "its deliveries fail (Access error)");
    assert_eq!(failing["level"], "eni");
    assert_eq!(
        log("fl-inactive")["why_not"],
        "its status is `PENDING`, not `ACTIVE`"
    );
    // The default format lacks what v3 and v5 added; the custom format of fl-subnet has it all.
    let fl_vpc = log("fl-vpc");
    let missing: Vec<&str> = fl_vpc["missing_fields"]
        .as_array()
        .expect("missing")
        .iter()
        .filter_map(|m| m["field"].as_str())
        .collect();
    assert_eq!(
        missing,
        [
            "tcp-flags",
            "flow-direction",
            "pkt-srcaddr",
            "pkt-dstaddr",
            "vpc-id",
            "subnet-id"
        ]
    );
    assert_eq!(log("fl-subnet")["missing_fields"], json!([]));
    assert_eq!(log("fl-vpc")["enis"], 1);
    assert_eq!(log("fl-vpc")["aggregation_interval"], 600);
}

#[test]
fn the_report_reads_and_no_snapshot_text_reaches_the_terminal_raw() {
    let dir = snapshot();
    let out = coverage(dir.path(), "human");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("logs-?]0;owned?bucket"), "{text}");
    assert!(
        text.contains("lacks `tcp-flags`: requests and responses are told apart by pairing the two directions and by ports only"),
        "{text}"
    );
    assert!(text.contains("fl-failing on eni-fail (eni): ALL to -, 1 ENI(s); captures nothing: its deliveries fail (Access error)"), "{text}");
    assert!(
        text.contains("  eni-rej (subnet-rej): partly (REJECT only) (by fl-subnet)"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "ENIs: 1 covered, 2 partly covered (ACCEPT or REJECT only), 2 not covered, of 5\n"
        ),
        "{text}"
    );

    let md = String::from_utf8(coverage(dir.path(), "markdown").stdout).expect("UTF-8");
    assert!(md.starts_with("# Flow-log coverage\n"), "{md}");
    assert!(
        md.contains("| fl-failing | eni-fail | ALL | - | no: its deliveries fail (Access error) |"),
        "{md}"
    );
    assert!(!md.contains('\u{1b}'), "{md:?}");
    assert!(
        md.contains("| eni-none | subnet-none | not covered |"),
        "{md}"
    );
}

#[test]
fn a_snapshot_without_flow_logs_says_so() {
    // An empty `FlowLogs` key: the account has no flow log.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("Vpcs.json"),
        r#"{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}"#,
    )
    .expect("write");
    std::fs::write(dir.path().join("FlowLogs.json"), r#"{"FlowLogs": []}"#).expect("write");
    let out = coverage(dir.path(), "human");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        text.starts_with("flow logs: none in the snapshot (`describe-flow-logs`)\n"),
        "{text}"
    );
    assert!(text.contains("  vpc-1: not covered\n"), "{text}");
}

#[test]
fn a_snapshot_without_the_flow_logs_key_says_unknown_not_uncovered() {
    // No `FlowLogs` key at all: nothing is known of the flow logs (changed deliberately: this
    // used to say "not covered", a guess).
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("Vpcs.json"),
        r#"{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}"#,
    )
    .expect("write");
    let out = coverage(dir.path(), "human");
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(
        text.starts_with("flow logs: flow-log configuration not in the snapshot (no `FlowLogs` key read for its place"),
        "{text}"
    );
    assert!(
        text.contains("  vpc-1: unknown (flow-log configuration not in the snapshot)\n"),
        "{text}"
    );
    let v: Value = serde_json::from_slice(&coverage(dir.path(), "json").stdout).expect("JSON");
    assert_eq!(v["vpcs"][0]["capture"], "unknown");
}

/// Flow-log records of the fixture's ENIs: `eni-all` with an ACCEPT, a REJECT and a SKIPDATA
/// window; `eni-rej` with a NODATA window and a REJECT; `eni-none` (whose only log is not
/// active) and `eni-gone` (not in the snapshot) with one ACCEPT each; a malformed line.
const RECORDS: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 111122223333 eni-all 10.1.1.5 10.1.1.9 40000 443 6 10 840 1700000000 1700000060 ACCEPT OK
2 111122223333 eni-all 10.1.1.9 10.1.1.5 443 40000 6 10 840 1700000000 1700000060 REJECT OK
2 111122223333 eni-all - - - - - - - 1700000060 1700000120 - SKIPDATA
2 111122223333 eni-rej - - - - - - - 1700000000 1700000060 - NODATA
2 111122223333 eni-rej 10.2.1.5 10.2.1.9 40000 22 6 1 40 1700000100 1700000160 REJECT OK
2 111122223333 eni-gone 10.9.9.9 10.2.1.9 40000 22 6 1 40 1700000100 1700000160 ACCEPT OK
2 111122223333 eni-none 10.3.1.5 10.3.1.9 40000 22 6 1 40 1700000100 1700000160 ACCEPT OK
this is not a record
";

fn coverage_with_flows(dir: &std::path::Path, output: &str) -> std::process::Output {
    let flows = dir.join("flows");
    std::fs::create_dir_all(&flows).expect("flows dir");
    std::fs::write(flows.join("f.log"), RECORDS).expect("write flows");
    Command::cargo_bin("vpcreach")
        .expect("binary")
        .args(["coverage", "--output", output, "--snapshot"])
        .arg(dir.join("snap"))
        .arg(&flows)
        .output()
        .expect("run")
}

/// The fixture's snapshot under `snap/`, beside a `flows/` folder.
fn snapshot_and_flows() -> tempfile::TempDir {
    let snap = snapshot();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("snap")).expect("snap dir");
    for f in std::fs::read_dir(snap.path()).expect("read") {
        let f = f.expect("entry");
        std::fs::copy(f.path(), dir.path().join("snap").join(f.file_name())).expect("copy");
    }
    dir
}

#[test]
fn records_per_eni_with_lost_and_empty_windows_silent_enis_and_uncovered_records() {
    let dir = snapshot_and_flows();
    let out = coverage_with_flows(dir.path(), "json");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let r = &v["records"];
    // The totals add up: 8 lines = 5 with flow data + 1 NODATA + 1 SKIPDATA + 1 malformed, and
    // the 7 valid records are 5 at covered ENIs + 2 at interfaces no log covers.
    assert_eq!(
        (
            &r["read"],
            &r["parsed"],
            &r["nodata"],
            &r["skipdata"],
            &r["malformed"]
        ),
        (&json!(8), &json!(5), &json!(1), &json!(1), &json!(1)),
        "{r:#}"
    );
    assert_eq!(r["at_covered_enis"], 5);
    assert_eq!(r["at_uncovered_interfaces"], 2);
    assert_eq!(r["without_interface_id"], 0);
    assert_eq!(r["enis_seen"], 3, "eni-all, eni-rej, eni-none: {r:#}");
    assert_eq!(r["enis_with_lost_windows"], 1);
    // Covered (wholly or partly) but silent: eni-acc. eni-fail's only log fails: not covered.
    assert_eq!(r["silent"], json!(["eni-acc"]));
    let uncovered: Vec<(String, bool, u64)> = r["uncovered"]
        .as_array()
        .expect("uncovered")
        .iter()
        .map(|u| {
            (
                u["eni"].as_str().unwrap_or("").to_string(),
                u["in_snapshot"].as_bool().unwrap_or(true),
                u["records"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        uncovered,
        [("eni-gone".into(), false, 1), ("eni-none".into(), true, 1)]
    );
    let eni = |id: &str| {
        v["enis"]
            .as_array()
            .expect("enis")
            .iter()
            .find(|e| e["eni"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let all = eni("eni-all");
    assert_eq!(
        (
            &all["seen"]["records"],
            &all["seen"]["skipdata"],
            &all["seen"]["nodata"]
        ),
        (&json!(2), &json!(1), &json!(0))
    );
    assert_eq!(all["seen"]["first"], "2023-11-14T22:13:20Z");
    assert_eq!(all["seen"]["last"], "2023-11-14T22:15:20Z");
    assert_eq!(
        all["seen"]["skipdata_windows"],
        json!([{"start": "2023-11-14T22:14:20Z", "end": "2023-11-14T22:15:20Z"}])
    );
    let rej = eni("eni-rej");
    assert_eq!(
        rej["seen"]["nodata_windows"],
        json!([{"start": "2023-11-14T22:13:20Z", "end": "2023-11-14T22:14:20Z"}])
    );
    assert_eq!(eni("eni-acc")["seen"], Value::Null);
    assert_eq!(v["complete"], true);

    let text = String::from_utf8(coverage_with_flows(dir.path(), "human").stdout).expect("UTF-8");
    assert!(
        text.contains("records: 8 read = 5 with flow data + 1 NODATA + 1 SKIPDATA + 1 malformed; 5 at covered ENIs, 2 at interfaces no flow log of the snapshot covers, 0 without `interface-id`"),
        "{text}"
    );
    assert!(
        text.contains("ENIs seen: 3 of 5 (60%), 1 with lost windows (SKIPDATA)"),
        "{text}"
    );
    assert!(
        text.contains(
            "      records lost (SKIPDATA): 2023-11-14T22:14:20Z .. 2023-11-14T22:15:20Z"
        ),
        "{text}"
    );
    assert!(
        text.contains("covered ENIs that sent no record at all: eni-acc"),
        "{text}"
    );
    assert!(text.contains("records of eni-gone that no flow log of the snapshot covers: 1 record(s) (2023-11-14T22:15:00Z .. 2023-11-14T22:16:00Z); the ENI is not in the snapshot (a stale snapshot, or another account)"), "{text}");
    let md = String::from_utf8(coverage_with_flows(dir.path(), "markdown").stdout).expect("UTF-8");
    assert!(
        md.contains("| eni-all | 1 | 2023-11-14T22:14:20Z .. 2023-11-14T22:15:20Z |"),
        "{md}"
    );
}

#[test]
fn an_unreadable_flow_input_is_an_error_and_the_rest_is_reported() {
    let dir = snapshot_and_flows();
    std::fs::create_dir_all(dir.path().join("flows")).expect("dir");
    // A truncated gzip file.
    std::fs::write(
        dir.path().join("flows/bad.log.gz"),
        [0x1f, 0x8b, 8, 0, 0, 0],
    )
    .expect("write");
    let out = coverage_with_flows(dir.path(), "json");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["complete"], false);
    assert!(
        v["errors"][0].as_str().unwrap_or("").contains("bad.log.gz"),
        "{v:#}"
    );
    assert_eq!(v["records"]["parsed"], 5);
}

/// NACL entries allowing everything both ways (IPv4), with the `*` rules.
fn allow_all() -> Value {
    json!([
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": true, "CidrBlock": "0.0.0.0/0"}
    ])
}

fn sg(id: &str, vpc: &str) -> Value {
    json!({"GroupId": id, "GroupName": id, "VpcId": vpc,
           "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
           "IpPermissionsEgress": []})
}

fn eni_sg(id: &str, vpc: &str, subnet: &str, ip: &str, group: &str) -> Value {
    json!({"NetworkInterfaceId": id, "VpcId": vpc, "SubnetId": subnet, "PrivateIpAddress": ip,
           "InterfaceType": "interface", "Groups": [{"GroupId": group}]})
}

/// `vpc-a`: `eni-rej` (sg-rej) under a subnet-level REJECT log, `eni-lost` (sg-lost) under an
/// ENI-level ALL log with a SKIPDATA window, `eni-fail` under a log that fails to deliver.
/// `vpc-b`: `eni-ok` (sg-ok) under a VPC-level ALL log. `vpc-nolog`: no flow log at all.
fn audit_snapshot(dir: &std::path::Path, with_flow_logs: bool) {
    let mut v = json!({
        "Vpcs": [{"VpcId": "vpc-a", "CidrBlock": "10.1.0.0/16"}, {"VpcId": "vpc-b", "CidrBlock": "10.2.0.0/16"},
                 {"VpcId": "vpc-nolog", "CidrBlock": "10.3.0.0/16"}],
        "Subnets": [{"SubnetId": "subnet-a", "VpcId": "vpc-a", "CidrBlock": "10.1.1.0/24"},
                    {"SubnetId": "subnet-b", "VpcId": "vpc-b", "CidrBlock": "10.2.1.0/24"}],
        "NetworkAcls": [
            {"NetworkAclId": "acl-a", "VpcId": "vpc-a", "IsDefault": true, "Entries": allow_all(),
             "Associations": [{"NetworkAclId": "acl-a", "SubnetId": "subnet-a"}]},
            {"NetworkAclId": "acl-b", "VpcId": "vpc-b", "IsDefault": true, "Entries": allow_all(),
             "Associations": [{"NetworkAclId": "acl-b", "SubnetId": "subnet-b"}]}],
        "SecurityGroups": [sg("sg-rej", "vpc-a"), sg("sg-lost", "vpc-a"), sg("sg-ok", "vpc-b")],
        "NetworkInterfaces": [
            eni_sg("eni-rej", "vpc-a", "subnet-a", "10.1.1.10", "sg-rej"),
            eni_sg("eni-lost", "vpc-a", "subnet-a", "10.1.1.11", "sg-lost"),
            eni_sg("eni-ok", "vpc-b", "subnet-b", "10.2.1.10", "sg-ok")],
        "FlowLogs": [
            {"FlowLogId": "fl-rej", "ResourceId": "subnet-a", "TrafficType": "REJECT", "FlowLogStatus": "ACTIVE",
             "DeliverLogsStatus": "SUCCESS"},
            {"FlowLogId": "fl-lost", "ResourceId": "eni-lost", "TrafficType": "ALL", "FlowLogStatus": "ACTIVE",
             "DeliverLogsStatus": "SUCCESS"},
            {"FlowLogId": "fl-fail", "ResourceId": "vpc-a", "TrafficType": "ALL", "FlowLogStatus": "ACTIVE",
             "DeliverLogsStatus": "FAILED", "DeliverLogsErrorMessage": "Access error"},
            {"FlowLogId": "fl-b", "ResourceId": "vpc-b", "TrafficType": "ALL", "FlowLogStatus": "ACTIVE",
             "DeliverLogsStatus": "SUCCESS",
             "LogFormat": "${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${action} ${log-status} ${tcp-flags} ${flow-direction} ${pkt-srcaddr} ${pkt-dstaddr} ${vpc-id} ${subnet-id}"}
        ]
    });
    if !with_flow_logs {
        v.as_object_mut().expect("object").remove("FlowLogs");
    }
    std::fs::create_dir_all(dir).expect("dir");
    for (key, value) in v.as_object().expect("object") {
        std::fs::write(
            dir.join(format!("{key}.json")),
            serde_json::to_string(&json!({ key: value })).expect("json"),
        )
        .expect("write");
    }
}

const AUDIT_RECORDS: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 111122223333 eni-rej 203.0.113.9 10.1.1.10 40000 22 6 1 40 1700000000 1700000060 REJECT OK
2 111122223333 eni-lost 203.0.113.9 10.1.1.11 40000 22 6 1 40 1700000000 1700000060 REJECT OK
2 111122223333 eni-lost - - - - - - - 1700000060 1700000120 - SKIPDATA
2 111122223333 eni-ok 203.0.113.9 10.2.1.10 40000 22 6 1 40 1700000000 1700000060 REJECT OK
";

fn audit_json(dir: &std::path::Path, flows: bool) -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::write(dir.join("flows.log"), AUDIT_RECORDS).expect("write");
    let mut cmd = Command::cargo_bin("vpcreach").expect("binary");
    cmd.args(["audit", "--output", "json", "--snapshot"])
        .arg(dir.join("snap"))
        .arg("--policies")
        .arg(root.join("policies"));
    if flows {
        cmd.arg("--flows").arg(dir.join("flows.log"));
    }
    let out = cmd.output().expect("run");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn findings_of<'a>(v: &'a Value, check: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == check)
        .collect()
}

#[test]
fn the_baseline_flow_log_checks_name_the_vpc_and_the_flow_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    audit_snapshot(&dir.path().join("snap"), true);
    let v = audit_json(dir.path(), false);
    let vpc = findings_of(&v, "cis-3.7-vpc-flow-logs");
    assert_eq!(vpc.len(), 1, "{vpc:#?}");
    assert_eq!(vpc[0]["resources"], json!(["vpc-nolog"]));
    assert_eq!(vpc[0]["status"], "no_flow_log");
    assert_eq!(vpc[0]["severity"], "medium");
    let delivery = findings_of(&v, "flow-log-delivery");
    assert_eq!(delivery.len(), 1, "{delivery:#?}");
    assert_eq!(delivery[0]["resources"], json!(["fl-fail", "vpc-a"]));
    assert!(delivery[0]["message"]
        .as_str()
        .unwrap_or("")
        .contains("(Access error)"));
    // The default format lacks fields; fl-b's custom format has them all.
    let fields: Vec<&Value> = findings_of(&v, "flow-log-fields")
        .iter()
        .map(|f| &f["resources"][0])
        .collect();
    assert_eq!(
        fields,
        [&json!("fl-fail"), &json!("fl-lost"), &json!("fl-rej")]
    );
    assert!(findings_of(&v, "flow-log-fields")
        .iter()
        .all(|f| f["severity"] == "low"));

    // Without the `FlowLogs` key: unknown, never "no flow log".
    let dir = tempfile::tempdir().expect("temp dir");
    audit_snapshot(&dir.path().join("snap"), false);
    let v = audit_json(dir.path(), false);
    let vpc = findings_of(&v, "cis-3.7-vpc-flow-logs");
    assert_eq!(vpc.len(), 3, "{vpc:#?}");
    for f in vpc {
        assert_eq!(f["status"], "unknown");
        assert!(f["message"]
            .as_str()
            .unwrap_or("")
            .contains("flow-log configuration not in the snapshot"));
    }
    assert_eq!(findings_of(&v, "flow-log-delivery")[0]["status"], "unknown");
}

#[test]
fn an_unused_rule_is_claimed_only_where_the_logs_keep_accepted_traffic_and_lost_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    audit_snapshot(&dir.path().join("snap"), true);
    let v = audit_json(dir.path(), true);
    let unused = findings_of(&v, "unused-rule");
    let of = |sg: &str| {
        unused
            .iter()
            .find(|f| f["resources"][0] == sg)
            .copied()
            .unwrap_or_else(|| panic!("{sg} in {unused:#?}"))
    };
    // eni-ok: an ALL log, nothing lost: the claim is made.
    assert_eq!(of("sg-ok")["status"], "unused");
    // eni-rej: its only log keeps REJECT: accepted traffic through the rule would not be seen.
    let rej = of("sg-rej");
    assert_eq!(rej["status"], "unknown");
    assert!(
        rej["message"]
            .as_str()
            .unwrap_or("")
            .contains("cannot be judged: eni-rej: its flow logs keep only REJECT"),
        "{rej:#}"
    );
    // eni-lost: an ALL log, but a window was lost.
    let lost = of("sg-lost");
    assert_eq!(lost["status"], "unknown");
    assert!(
        lost["message"]
            .as_str()
            .unwrap_or("")
            .contains("records lost (SKIPDATA windows) at eni-lost (1)"),
        "{lost:#}"
    );
    let notes: Vec<&str> = v["summary"]["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        notes.iter().any(|n| n.contains(
            "3 interfaces seen of the snapshot's 3 (100%), 1 with lost windows (SKIPDATA)"
        )),
        "{notes:?}"
    );
}

#[test]
fn explain_states_the_share_of_enis_seen_and_the_lost_windows() {
    let dir = tempfile::tempdir().expect("temp dir");
    audit_snapshot(&dir.path().join("snap"), true);
    std::fs::write(dir.path().join("flows.log"), AUDIT_RECORDS).expect("write");
    let out = Command::cargo_bin("vpcreach")
        .expect("binary")
        .args(["explain", "--snapshot"])
        .arg(dir.path().join("snap"))
        .arg(dir.path().join("flows.log"))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("ENIs seen: 3 of the snapshot's 3 (100%), 1 with lost windows (SKIPDATA)\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("records lost: eni-lost: 1 window(s) (SKIPDATA)"),
        "{stderr}"
    );
    let out = Command::cargo_bin("vpcreach")
        .expect("binary")
        .args(["explain", "--output", "json", "--snapshot"])
        .arg(dir.path().join("snap"))
        .arg(dir.path().join("flows.log"))
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        (
            &v["summary"]["interfaces_seen"],
            &v["summary"]["interfaces_in_snapshot"],
            &v["summary"]["interfaces_with_lost_windows"]
        ),
        (&json!(3), &json!(3), &json!(1))
    );
}

#[test]
fn explain_rule_usage_lists_rules_without_hits_but_does_not_call_them_unused() {
    // eni-lost lost a window: a rule with no hits there may have been used. `explain` does not
    // judge that; `audit --flows` does (see the test above).
    let dir = tempfile::tempdir().expect("temp dir");
    audit_snapshot(&dir.path().join("snap"), true);
    std::fs::write(dir.path().join("flows.log"), AUDIT_RECORDS).expect("write");
    let out = Command::cargo_bin("vpcreach")
        .expect("binary")
        .env("NO_COLOR", "1")
        .args(["explain", "--rule-usage", "--snapshot"])
        .arg(dir.path().join("snap"))
        .arg(dir.path().join("flows.log"))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("unused)"), "{stderr}");
    assert!(stderr.contains("(no hits)"), "{stderr}");
    assert!(
        stderr.contains("note: a rule with no hits in these records is not called unused: `vpcreach audit --flows` judges that"),
        "{stderr}"
    );
}
