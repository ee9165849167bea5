//! AWS Config as a history source (issue 15): configuration history and snapshot files (plain
//! and gzipped, in the S3 layout) and `get-resource-config-history` output, read by the real
//! reader, and the network at a time through the binary (`query --at`, `explain --history`,
//! `changes`).

mod common;

use assert_cmd::Command;
use common::{base, snapshot_dir};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

fn fixture(dir: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
        .join(name)
}

/// A bucket folder holding the Config fixtures `config` (gzipped, as Config delivers them, in
/// `AWSLogs/<acct>/Config/<region>/<y>/<m>/<d>/ConfigHistory/`, beside Config's writability
/// check file) and the CloudTrail fixtures `trail` (in the CloudTrail layout).
fn bucket(config: &[&str], trail: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir
        .path()
        .join("AWSLogs/111122223333/Config/us-east-1/2024/10/14/ConfigHistory");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        dir.path()
            .join("AWSLogs/111122223333/Config/ConfigWritabilityCheckFile"),
        b"",
    )
    .unwrap();
    for (i, n) in config.iter().enumerate() {
        let name = format!(
            "111122223333_Config_us-east-1_ConfigHistory_AWS::EC2::SecurityGroup_20241014T000000Z_20241014T060000Z_{}.json.gz",
            i + 1
        );
        let f = std::fs::File::create(cfg.join(name)).unwrap();
        let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::default());
        gz.write_all(&std::fs::read(fixture("config", n)).unwrap())
            .unwrap();
        gz.finish().unwrap();
    }
    let day = dir
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/10/14");
    std::fs::create_dir_all(&day).unwrap();
    for n in trail {
        std::fs::copy(fixture("cloudtrail", n), day.join(n)).unwrap();
    }
    dir
}

/// Runs `vpcreach ARGS --snapshot SNAP --snapshot-time 15:00 [--history HIST]`, checking the
/// exit code, and returns stdout and stderr.
fn run(args: &[&str], snap: &Path, hist: Option<&Path>, code: i32) -> (String, String) {
    let mut cmd = Command::cargo_bin("vpcreach").unwrap();
    cmd.env("NO_COLOR", "1")
        .args(args)
        .arg("--snapshot")
        .arg(snap)
        .args(["--snapshot-time", "2024-10-14T15:00:00Z"]);
    if let Some(h) = hist {
        cmd.arg("--history").arg(h);
    }
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn query_at(port: &str, at: &str, snap: &Path, hist: &Path, code: i32) -> (Value, String) {
    let (out, err) = run(
        &[
            "query",
            "--from",
            "203.0.113.5",
            "--to",
            "eni-web",
            "--port",
            port,
            "--output",
            "json",
            "--at",
            at,
        ],
        snap,
        Some(hist),
        code,
    );
    (serde_json::from_str(&out).unwrap(), err)
}

#[test]
fn config_files_are_read_item_by_item_with_totals_that_add_up() {
    let h = bucket(
        &["sg-web-history.json", "deleted-not-recorded-eni.json"],
        &[],
    );
    let api = fixture("config", "get-resource-config-history-sg-db.json");
    let got = vpcreach::history::read(&[h.path().to_path_buf(), api]).unwrap();
    let s = &got.stats;
    assert_eq!(s.files, 3, "{s:?}");
    // 6 + 3 items in the bucket, 1 in the API output.
    assert_eq!((s.records, s.config_items), (10, 10), "{s:?}");
    // sg-web twice, sg-old, rtb-pub, eni-app2, sg-db; the first sg-web item delivered twice
    // (same state id) and once more without a state id (same time and content); a VPC item.
    assert_eq!(
        (s.applied, s.duplicates, s.passed_by, s.malformed),
        (6, 2, 1, 1),
        "{s:?}"
    );
    assert_eq!(
        s.records,
        s.applied + s.duplicates + s.failed + s.not_changes + s.passed_by + s.malformed
    );
    // The bad item is named by file and index.
    assert_eq!(got.problems.len(), 1, "{:?}", got.problems);
    let p = &got.problems[0];
    assert!(
        p.contains("ConfigHistory_AWS::EC2::SecurityGroup")
            && p.contains("configuration item 5")
            && p.contains("cidrIp"),
        "{p}"
    );
    assert!(
        got.warnings
            .iter()
            .any(|w| w.contains("ConfigWritabilityCheckFile")),
        "{:?}",
        got.warnings
    );
    // In time order, each with what it says.
    let ids: Vec<&str> = got.events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "sg-old@1728903600000",
            "rtb-pub@1728905400000",
            "eni-app2@1728906300000",
            // The same second: by id.
            "sg-db@1728907200123",
            "sg-web@1728907200000",
            "sg-web@1728915600500"
        ]
    );
    use vpcreach::history::ConfigState;
    let state = |i: usize| &got.events[i].config_item().unwrap().state;
    assert_eq!(*state(0), ConfigState::Deleted);
    assert_eq!(*state(1), ConfigState::NotRecorded);
    assert_eq!(
        *state(2),
        ConfigState::NetworkInterface {
            groups: vec!["sg-web".into()]
        }
    );
    // The API form: `configuration` decoded from its string, epoch-second capture time.
    let ConfigState::SecurityGroup(db) = state(3) else {
        panic!("{:?}", state(3))
    };
    assert_eq!(got.events[3].time, 1_728_907_200);
    assert_eq!(db.ip_permissions[1].ip_ranges[0].cidr_ip, "10.0.1.0/24");
    assert_eq!(got.events[3].account.as_deref(), Some("111122223333"));
    let ConfigState::SecurityGroup(web) = state(4) else {
        panic!()
    };
    let ssh = &web.ip_permissions[1];
    assert_eq!(ssh.from_port, Some(22));
    assert_eq!(ssh.ip_ranges.len(), 1, "ipRanges and ipv4Ranges merged");
    assert_eq!(
        ssh.ip_ranges[0].description.as_deref(),
        Some("temporary ssh")
    );
}

#[test]
fn query_at_before_a_config_item_that_closed_ssh_is_reachable_naming_the_rule() {
    // The snapshot has no ssh on sg-web; Config says it was open from 12:00 to 14:20.
    let snap = snapshot_dir(&base());
    let h = bucket(&["sg-web-history.json"], &[]);
    let (now, _) = run(
        &[
            "query",
            "--from",
            "203.0.113.5",
            "--to",
            "eni-web",
            "--port",
            "22",
            "--output",
            "json",
        ],
        snap.path(),
        None,
        1,
    );
    let now: Value = serde_json::from_str(&now).unwrap();
    assert_eq!(now["verdict"], "unreachable", "{now}");
    let (v, err) = query_at("22", "2024-10-14T13:00:00Z", snap.path(), h.path(), 0);
    assert_eq!(v["verdict"], "reachable", "{v}\n{err}");
    assert_eq!(v["model"]["changes_undone"], 1, "{v}");
    assert!(
        v.to_string().contains("0.0.0.0/0"),
        "the rule is named: {v}"
    );
    // After the item that closed it, and before the first item (what the rest of the history
    // says going back from it: nothing else changed sg-web).
    let (v, _) = query_at("22", "2024-10-14T14:30:00Z", snap.path(), h.path(), 1);
    assert_eq!(v["verdict"], "unreachable", "{v}");
    let (v, _) = query_at("22", "2024-10-14T14:20:00Z", snap.path(), h.path(), 1);
    assert_eq!(v["verdict"], "unreachable", "at the item's own second: {v}");
    let (v, _) = query_at("22", "2024-10-14T14:19:59Z", snap.path(), h.path(), 0);
    assert_eq!(v["verdict"], "reachable", "one second before: {v}");
    assert!(
        err.contains("6 record(s): 2 change(s) kept, 2 duplicate(s)")
            && err.contains("1 unreadable, 1 passed by (AWS Config items of resource types that do not matter to reachability; 6 Config item(s) in all)"),
        "{err}"
    );
}

/// 2024-10-14T13:00:00Z.
const T13: u64 = 1_728_910_800;
/// 2024-10-14T14:30:00Z.
const T1430: u64 = 1_728_916_200;

fn explain(lines: &[String], snap: &Path, hist: &Path, human: bool) -> (String, String) {
    let flows = tempfile::tempdir().unwrap();
    let log = flows.path().join("web.log");
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
    std::fs::write(&log, format!("{header}\n{}\n", lines.join("\n"))).unwrap();
    let mut cmd = Command::cargo_bin("vpcreach").unwrap();
    cmd.env("NO_COLOR", "1").arg("explain");
    if !human {
        cmd.args(["--output", "jsonl"]);
    }
    let out = cmd
        .arg("--snapshot")
        .arg(snap)
        .args(["--snapshot-time", "2024-10-14T15:00:00Z"])
        .arg("--history")
        .arg(hist)
        .arg(&log)
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn record(port: u16, start: u64, action: &str) -> String {
    format!(
        "2 111122223333 eni-web 203.0.113.5 10.0.1.10 50000 {port} 6 5 500 {start} {} {action} OK",
        start + 60
    )
}

#[test]
fn explain_history_judges_by_the_config_item_and_names_it() {
    let snap = snapshot_dir(&base());
    let h = bucket(&["sg-web-history.json"], &[]);
    let lines = [record(22, T13, "ACCEPT"), record(22, T1430, "REJECT")];
    let (out, err) = explain(&lines, snap.path(), h.path(), false);
    let recs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 2, "{out}\n{err}");
    // Accepted at 13:00, when Config says ssh was open: consistent, where the snapshot alone
    // says contradiction; the item that closed it is named.
    assert_eq!(recs[0]["status"], "consistent", "{}", recs[0]);
    let then = &recs[0]["then"];
    assert_eq!(then["snapshot_status"], "contradiction", "{then}");
    let changes = then["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{then}");
    assert_eq!(changes[0]["config_item"], "sg-web@1728915600500");
    assert!(changes[0].get("event_id").is_none(), "{then}");
    assert_eq!(changes[0]["api"], "ConfigurationItem OK");
    assert_eq!(changes[0]["time"], "2024-10-14T14:20:00Z");
    assert_eq!(recs[1]["status"], "consistent", "{}", recs[1]);
    assert!(recs[1].get("then").is_none());
    // Human output names it too.
    let (out, _) = explain(&lines, snap.path(), h.path(), true);
    assert!(
        out.contains("recorded by AWS Config (sg-web; config item sg-web@1728915600500)"),
        "{out}"
    );
}

#[test]
fn changes_lists_each_config_item_with_its_effect() {
    let snap = snapshot_dir(&base());
    let h = bucket(&["sg-web-history.json"], &[]);
    let mut cmd = Command::cargo_bin("vpcreach").unwrap();
    let out = cmd
        .env("NO_COLOR", "1")
        .args(["changes", "--output", "json", "--snapshot"])
        .arg(snap.path())
        .args(["--snapshot-time", "2024-10-14T15:00:00Z", "--history"])
        .arg(h.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{v}");
    // The first item: what sg-web was before it is in no item.
    assert_eq!(changes[0]["effect"], "unknown", "{}", changes[0]);
    assert!(
        changes[0]["reason"]
            .as_str()
            .unwrap()
            .contains("first AWS Config item of `sg-web`"),
        "{}",
        changes[0]
    );
    // The second closed ssh to eni-web.
    let c = &changes[1];
    assert_eq!(c["effect"], "closed", "{c}");
    assert!(c.get("event_id").is_none(), "{c}");
    assert_eq!(
        c["config_item"],
        json!({"id": "sg-web@1728915600500", "resource_type": "AWS::EC2::SecurityGroup",
               "resource_id": "sg-web", "capture_time": "2024-10-14T14:20:00.500Z",
               "status": "OK", "configuration_state_id": "1728915600500"})
    );
    assert_eq!(c["resources"], json!(["sg-web"]));
    let closed = c["closed"].to_string();
    assert!(
        closed.contains("eni-web") && closed.contains("22"),
        "{closed}"
    );
    assert_eq!(v["history"]["config_items"], 6);
    // Human output.
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["changes", "--snapshot"])
        .arg(snap.path())
        .args(["--snapshot-time", "2024-10-14T15:00:00Z", "--history"])
        .arg(h.path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("config item sg-web@1728915600500 (AWS::EC2::SecurityGroup sg-web, OK, captured 2024-10-14T14:20:00.500Z)"),
        "{text}"
    );
}

/// The snapshot after the authorize of `authorize-ingress.json` (ssh on sg-web from
/// 203.0.113.0/24 at 14:01) and the delete of acl-default's inbound rule 100 at 14:12.
fn after_delete() -> Value {
    let mut v = base();
    let sg = common::find(&mut v, "SecurityGroups", "GroupId", "sg-web");
    sg["IpPermissions"].as_array_mut().unwrap().push(json!(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]}));
    common::find(&mut v, "NetworkAcls", "NetworkAclId", "acl-default")["Entries"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !(e["RuleNumber"] == 100 && e["Egress"] == false));
    v
}

#[test]
fn a_config_item_makes_exact_the_nacl_entry_cloudtrail_cannot_tell() {
    let snap = snapshot_dir(&after_delete());
    let trail = ["authorize-ingress.json", "delete-network-acl-entry.json"];
    // CloudTrail alone: what rule 100 was before its delete is in no event.
    let ct = bucket(&[], &trail);
    let (v, _) = query_at("22", "2024-10-14T14:05:00Z", snap.path(), ct.path(), 1);
    assert_eq!(v["verdict"], "unknown", "{v}");
    assert!(
        v["model"]["unknown_rules"]
            .to_string()
            .contains("acl-default"),
        "{v}"
    );
    // With the Config snapshot of the NACL at 10:00 (mixed with the trail in one folder):
    // exact, and reachable through the rule then in place.
    let both = bucket(&["acl-default-snapshot.json"], &trail);
    let (v, err) = query_at("22", "2024-10-14T14:05:00Z", snap.path(), both.path(), 0);
    assert_eq!(v["verdict"], "reachable", "{v}\n{err}");
    assert_eq!(v["model"]["unknown"], json!([]), "{v}");
    assert_eq!(v["model"]["unknown_rules"], json!([]), "{v}");
    assert!(v.to_string().contains("acl-default"), "{v}");
    // Before the authorize, ssh was not allowed by sg-web: unreachable, exactly.
    let (v, _) = query_at("22", "2024-10-14T13:00:00Z", snap.path(), both.path(), 1);
    assert_eq!(v["verdict"], "unreachable", "{v}");
    assert_eq!(v["model"]["unknown"], json!([]), "{v}");
    assert!(
        err.contains("3 file(s), 3 record(s): 3 change(s) kept"),
        "{err}"
    );
}

#[test]
fn deleted_not_recorded_and_interface_items_shape_the_model() {
    // eni-app2 had sg-web (not sg-app, as in the snapshot) from 11:45 on, says Config, and no
    // later item or event changed it. rtb-pub not recorded: nothing is taken from it, nothing
    // is left out for it; sg-old deleted (not in the snapshot): nothing to remove.
    let snap = snapshot_dir(&base());
    let h = bucket(&["deleted-not-recorded-eni.json"], &[]);
    let q = |at: Option<&str>, code: i32| {
        let mut args = vec![
            "query", "--from", "eni-web", "--to", "eni-app2", "--port", "443", "--output", "json",
        ];
        let hist = at.map(|_| h.path());
        if let Some(at) = at {
            args.extend(["--at", at]);
        }
        let (out, _) = run(&args, snap.path(), hist, code);
        serde_json::from_str::<Value>(&out).unwrap()
    };
    // Now: sg-app allows 8080 from sg-web only.
    let now = q(None, 1);
    assert_eq!(now["verdict"], "unreachable", "{now}");
    assert!(now.to_string().contains("sg-app"), "{now}");
    // At 14:00: the item's groups (sg-web allows 443 from anywhere).
    let then = q(Some("2024-10-14T14:00:00Z"), 0);
    assert_eq!(then["verdict"], "reachable", "{then}");
    assert_eq!(then["model"]["unknown"], json!([]), "{then}");
    assert!(then.to_string().contains("sg-web"), "{then}");
    // Before the item: no earlier item, and no event: what the history says going back from
    // the item (its groups).
    assert_eq!(q(Some("2024-10-14T11:00:00Z"), 0)["verdict"], "reachable");
}

#[test]
fn explain_and_query_at_agree_where_the_newest_item_says_other_than_the_snapshot() {
    // Config's last word on sg-web (12:00) has ssh open; the snapshot (15:00) has not, and no
    // item or event says when it closed. After 12:00 the model is the item's, for `query --at`
    // and `explain --history` alike.
    let snap = snapshot_dir(&base());
    let mut doc: Value =
        serde_json::from_slice(&std::fs::read(fixture("config", "sg-web-history.json")).unwrap())
            .unwrap();
    doc["configurationItems"]
        .as_array_mut()
        .unwrap()
        .truncate(1);
    let h = tempfile::tempdir().unwrap();
    std::fs::write(
        h.path().join("sg-web.json"),
        serde_json::to_vec(&doc).unwrap(),
    )
    .unwrap();
    let (v, _) = query_at("22", "2024-10-14T14:30:00Z", snap.path(), h.path(), 0);
    assert_eq!(v["verdict"], "reachable", "{v}");
    let (out, err) = explain(&[record(22, T1430, "ACCEPT")], snap.path(), h.path(), false);
    let rec: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(rec["status"], "consistent", "{rec}\n{err}");
    assert_eq!(rec["then"]["snapshot_status"], "contradiction", "{rec}");
    // The item that says so is named.
    assert_eq!(
        rec["then"]["changes"][0]["config_item"], "sg-web@1728907200000",
        "{rec}"
    );
    // At the snapshot's own time, the snapshot is the model.
    let (v, _) = query_at("22", "2024-10-14T15:00:00Z", snap.path(), h.path(), 1);
    assert_eq!(v["verdict"], "unreachable", "{v}");
}
