//! `query --at` and `audit --at` (issue 15): the network as it was at a time, built from a
//! snapshot and CloudTrail files, through the binary.

mod common;

use assert_cmd::Command;
use common::{base, snapshot_dir};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloudtrail")
        .join(name)
}

/// A trail folder holding the fixtures `names` (each edited by `edit`).
fn history_dir(names: &[&str], edit: impl Fn(&mut Value)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let day = dir
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/10/14");
    std::fs::create_dir_all(&day).unwrap();
    for n in names {
        let mut v: Value = serde_json::from_slice(&std::fs::read(fixture(n)).unwrap()).unwrap();
        edit(&mut v);
        std::fs::write(day.join(n), serde_json::to_vec(&v).unwrap()).unwrap();
    }
    dir
}

/// The base network after the authorize of `authorize-ingress.json` (ssh on sg-web from `cidr`).
fn after(cidr: &str) -> Value {
    let mut v = base();
    let sg = common::find(&mut v, "SecurityGroups", "GroupId", "sg-web");
    sg["IpPermissions"].as_array_mut().unwrap().push(json!(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": cidr}]}));
    v
}

/// Runs `vpcreach ARGS --snapshot SNAP [--history HIST]`, checking the exit code (`code` < 0:
/// any), and returns stdout and stderr.
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
    if code >= 0 {
        assert_eq!(
            out.status.code(),
            Some(code),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

const SSH: [&str; 9] = [
    "query",
    "--from",
    "203.0.113.5",
    "--to",
    "eni-web",
    "--port",
    "22",
    "--output",
    "json",
];

#[test]
fn query_at_a_time_before_the_authorize_is_unreachable_and_after_it_reachable() {
    let snap = snapshot_dir(&after("203.0.113.0/24"));
    let h = history_dir(&["authorize-ingress.json"], |_| {});
    // Now (the snapshot): reachable through the new rule.
    let (now, _) = run(&SSH, snap.path(), None, 0);
    let now: Value = serde_json::from_str(&now).unwrap();
    assert_eq!(now["verdict"], "reachable");
    assert!(now.get("model").is_none());

    let before: Vec<&str> = SSH
        .iter()
        .copied()
        .chain(["--at", "2024-10-14T13:00:00Z"])
        .collect();
    let (out, err) = run(&before, snap.path(), Some(h.path()), 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "unreachable", "{out}");
    assert_eq!(v["model"]["at"], "2024-10-14T13:00:00Z");
    assert_eq!(v["model"]["snapshot_time"], "2024-10-14T15:00:00Z");
    assert_eq!(v["model"]["changes_undone"], 1);
    assert_eq!(v["model"]["unknown"], json!([]));
    assert!(out.contains("sg-web"), "the deny names the group: {out}");
    assert!(
        !err.contains("network as it was"),
        "said once, on stdout: {err}"
    );

    let later: Vec<&str> = SSH
        .iter()
        .copied()
        .chain(["--at", "2024-10-14T14:30:00Z"])
        .collect();
    let (out, _) = run(&later, snap.path(), Some(h.path()), 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "reachable", "{out}");
    assert_eq!(v["model"]["changes_undone"], 0);
    assert!(out.contains("203.0.113.0/24"), "the rule is named: {out}");

    // Human output says which time the model is for.
    let human: Vec<&str> = SSH[..7]
        .iter()
        .copied()
        .chain(["--at", "2024-10-14T13:00:00Z"])
        .collect();
    let (out, _) = run(&human, snap.path(), Some(h.path()), 1);
    assert!(
        out.starts_with("network as it was at 2024-10-14T13:00:00Z (the snapshot of 2024-10-14T15:00:00Z with 1 later change(s) undone"),
        "{out}"
    );
}

#[test]
fn query_at_a_time_whose_state_is_unknown_is_unknown_naming_the_event() {
    let h = history_dir(
        &["authorize-ingress.json", "delete-network-acl-entry.json"],
        |_| {},
    );
    let mut late = after("203.0.113.0/24");
    common::find(&mut late, "NetworkAcls", "NetworkAclId", "acl-default")["Entries"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !(e["RuleNumber"] == 100 && e["Egress"] == false));
    let snap = snapshot_dir(&late);
    let args: Vec<&str> = SSH
        .iter()
        .copied()
        .chain(["--at", "2024-10-14T14:05:00Z"])
        .collect();
    let (out, _) = run(&args, snap.path(), Some(h.path()), 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    // Rule 100, the first inbound rule, is of unknown content before the delete: ssh (which
    // sg-web allows then) reaches it, so the answer is unknown there, naming the event.
    assert_eq!(v["verdict"], "unknown", "{out}");
    let at = &v["blocked_at"];
    assert_eq!(at["component"], "subnet-pub", "{out}");
    assert_eq!(at["rule_number"], 100, "{out}");
    let why = at["detail"].as_str().unwrap();
    assert!(
        why.contains("acl-default")
            && why.contains("DeleteNetworkAclEntry")
            && why.contains("00000012-0000-4000-8000-000000000012"),
        "{why}"
    );
    // Nothing is withheld; the model names the entry of unknown content.
    assert_eq!(v["model"]["unknown"], json!([]), "{out}");
    let rules = v["model"]["unknown_rules"].as_array().unwrap();
    assert!(
        rules.iter().any(|u| u["resource"] == "acl-default"
            && u["rule_number"] == 100
            && u["reason"]
                .as_str()
                .unwrap()
                .contains("DeleteNetworkAclEntry")),
        "{rules:?}"
    );
}

#[test]
fn at_without_history_and_history_without_at_are_clear_errors() {
    let snap = snapshot_dir(&after("203.0.113.0/24"));
    let args: Vec<&str> = SSH
        .iter()
        .copied()
        .chain(["--at", "2024-10-14T13:00:00Z"])
        .collect();
    let (_, err) = run(&args, snap.path(), None, 2);
    assert!(err.contains("--at needs --history"), "{err}");
    let h = history_dir(&["authorize-ingress.json"], |_| {});
    let (_, err) = run(&SSH, snap.path(), Some(h.path()), 2);
    assert!(err.contains("--history needs --at"), "{err}");
}

const POLICY: &str = r#"
[[statement]]
id = "no-ssh"
description = "no SSH from the internet"
severity = "medium"
kind = "deny"
from = "internet"
to = "any"
traffic = "tcp/22"
"#;

/// The `no-ssh` findings that are not latent (an exposure, not a NACL the groups stop).
fn exposures(out: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(out).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "no-ssh" && f["status"] != "latent")
        .cloned()
        .collect()
}

/// A trail whose authorize (14:01) opens ssh on sg-web to the whole internet.
fn ssh_opened_to_all() -> tempfile::TempDir {
    history_dir(&["authorize-ingress.json"], |v| {
        let s = serde_json::to_string(v)
            .unwrap()
            .replace("203.0.113.0/24", "0.0.0.0/0");
        *v = serde_json::from_str(&s).unwrap();
    })
}

#[test]
fn audit_at_judges_the_network_as_it_was() {
    // The authorize opened ssh to the whole internet.
    let h = ssh_opened_to_all();
    let snap = snapshot_dir(&after("0.0.0.0/0"));
    let pol = tempfile::tempdir().unwrap();
    std::fs::write(pol.path().join("p.toml"), POLICY).unwrap();
    let p = pol.path().to_str().unwrap();
    let audit = |at: &str, code: i32| {
        run(
            &["audit", "--policies", p, "--output", "json", "--at", at],
            snap.path(),
            Some(h.path()),
            code,
        )
    };
    // Exit codes are not asserted: built-in checks may fail either run.
    let (out, _) = audit("2024-10-14T14:30:00Z", -1);
    let open = exposures(&out);
    assert_eq!(open.len(), 1, "{out}");
    assert!(open[0]["resources"].to_string().contains("sg-web"), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["model"]["at"], "2024-10-14T14:30:00Z");
    let (out, _) = audit("2024-10-14T13:00:00Z", -1);
    assert_eq!(exposures(&out), Vec::<Value>::new(), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["model"]["changes_undone"], 1);
}

/// `query --at` on the example network with the example trail (`examples/history/`): ssh from
/// the internet to web-1 was opened at 09:01 and closed at 11:02; before 08:02 rule 90 of the
/// subnet's NACL is of unknown content (a `ReplaceNetworkAclEntry` whose earlier rule is in no
/// event).
fn example_query(to: &str, at: &str, code: i32) -> Value {
    example_query_port(to, "22", at, code)
}

fn example_query_port(to: &str, port: &str, at: &str, code: i32) -> Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .current_dir(root)
        .args([
            "query",
            "--snapshot",
            "examples/network",
            "--from",
            "198.51.100.1",
        ])
        .args(["--to", to, "--port", port, "--output", "json"])
        .args([
            "--history",
            "examples/history/trail",
            "--snapshot-time",
            "2026-11-27T09:00:00Z",
        ])
        .args(["--at", at])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "{to} at {at}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn example_history_opens_and_closes_ssh_to_web_1() {
    let v = example_query("web-1", "2026-11-26T10:00:00Z", 0);
    assert_eq!(v["verdict"], "reachable", "{v:#}");
    assert!(v.to_string().contains("tcp/22 from 0.0.0.0/0"), "{v:#}");
    assert_eq!(v["model"]["changes_undone"], 1);
    let v = example_query("web-1", "2026-11-26T12:00:00Z", 1);
    assert_eq!(v["verdict"], "unreachable", "{v:#}");
    assert_eq!(v["model"]["changes_undone"], 0);
}

#[test]
fn example_before_the_replace_only_what_reaches_rule_90_is_unknown() {
    // Before 08:02 rule 90 (the first inbound rule of web-1's NACL) is of unknown content:
    // everything from the internet reaches it. web-1 by its Name tag, instance id, ENI id,
    // public address: ssh is unreachable exactly (web-1's group denies it then, whatever rule
    // 90 was); https, which the group allows, is unknown, naming the event. Its private
    // address is not reached from the internet at all.
    for to in [
        "web-1",
        "i-0a6ba572a20d54fe2",
        "eni-03e38ca8799322c76",
        "3.91.45.120",
        "10.0.1.20",
    ] {
        let v = example_query(to, "2026-11-26T07:00:00Z", 1);
        assert_eq!(v["verdict"], "unreachable", "{to}: {v:#}");
        if to == "10.0.1.20" {
            // Its private address is not reached from the internet at all: exact too.
            assert_eq!(v["reason"], "NO_ROUTE_TO_DESTINATION", "{to}: {v:#}");
            continue;
        }
        assert_eq!(v["reason"], "ENI_SG_RULES_MISMATCH", "{to}: {v:#}");
        assert_eq!(v["model"]["changes_undone"], 3);
        assert_eq!(v["model"]["unknown"], json!([]), "{to}: {v:#}");
        let v = example_query_port(to, "443", "2026-11-26T07:00:00Z", 1);
        assert_eq!(v["verdict"], "unknown", "{to}: {v:#}");
        let at = &v["blocked_at"];
        assert_eq!(at["rule_number"], 90, "{to}: {v:#}");
        let why = at["detail"].as_str().unwrap();
        assert!(
            why.contains("ReplaceNetworkAclEntry")
                && why.contains("7a1e0c52-0000-4000-8000-000000000801"),
            "{to}: {why}"
        );
    }
}

#[test]
fn every_name_of_an_eni_left_out_at_that_time_is_unknown_naming_the_event() {
    // eni-app's groups were set at 14:20, and which groups it had before is in no event: it
    // is left out before that. By its id and by its address.
    let snap = snapshot_dir(&base());
    let h = history_dir(&["modify-network-interface-attribute.json"], |_| {});
    for to in ["eni-app", "10.0.2.20"] {
        let args = [
            "query",
            "--from",
            "eni-web",
            "--to",
            to,
            "--port",
            "8080",
            "--output",
            "json",
            "--at",
            "2024-10-14T14:00:00Z",
        ];
        let (out, _) = run(&args, snap.path(), Some(h.path()), 1);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["verdict"], "unknown", "{to}: {out}");
        let why = v["reasons"][0].as_str().unwrap();
        assert!(
            why.contains(&format!("`{to}`"))
                && why.contains("ModifyNetworkInterfaceAttribute")
                && why.contains("00000020-0000-4000-8000-000000000020"),
            "{to}: {why}"
        );
    }
}

// `explain --history`: each record judged by the configuration at its start.

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
/// 2024-10-14T13:00:00Z, before the authorize of 14:01 (ssh on sg-web from 203.0.113.0/24).
const T13: u64 = 1_728_910_800;
/// 2024-10-14T14:01:00Z, the authorize's own second.
const T1401: u64 = 1_728_914_460;
/// 2024-10-14T14:30:00Z.
const T1430: u64 = 1_728_916_200;

fn record(port: u16, start: u64, action: &str) -> String {
    format!(
        "2 111122223333 eni-web 203.0.113.5 10.0.1.10 50000 {port} 6 5 500 {start} {} {action} OK",
        start + 60
    )
}

/// A day of events: the authorize (twice: delivered twice), failed calls and a dry run, and a
/// digest file.
fn noisy_history() -> tempfile::TempDir {
    let h = history_dir(
        &["authorize-ingress.json", "failed-and-dry-run.json"],
        |_| {},
    );
    let day = h
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/10/14");
    std::fs::copy(
        day.join("authorize-ingress.json"),
        day.join("authorize-ingress-again.json"),
    )
    .unwrap();
    let digest = h
        .path()
        .join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/10/14");
    std::fs::create_dir_all(&digest).unwrap();
    std::fs::write(digest.join("digest.json.gz"), b"not a trail file").unwrap();
    h
}

/// `explain --output jsonl` of `lines`, with or without the history: the records (stdout),
/// stderr and the exit code.
fn explain(lines: &[String], snap: &Path, hist: Option<&Path>) -> (Vec<Value>, String, i32) {
    let flows = tempfile::tempdir().unwrap();
    let log = flows.path().join("web.log");
    std::fs::write(&log, format!("{HEADER}\n{}\n", lines.join("\n"))).unwrap();
    let mut cmd = Command::cargo_bin("vpcreach").unwrap();
    cmd.env("NO_COLOR", "1")
        .args(["explain", "--output", "jsonl", "--snapshot"])
        .arg(snap)
        .args(["--snapshot-time", "2024-10-14T15:00:00Z"])
        .arg(&log);
    if let Some(h) = hist {
        cmd.arg("--history").arg(h);
    }
    let out = cmd.output().unwrap();
    let records = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (
        records,
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn explain_judges_each_record_by_the_configuration_at_its_start() {
    let snap = snapshot_dir(&after("203.0.113.0/24"));
    let h = noisy_history();
    let lines = [
        record(22, T13, "REJECT"), // before the authorize: rejected, as it was then
        record(22, T13, "ACCEPT"), // before the authorize: accepted, which it was not then
        record(22, T1430, "ACCEPT"), // after: accepted by the new rule
        record(22, T1430, "REJECT"), // after: rejected, which the rule does not say
        record(443, T13, "ACCEPT"), // a rule the change did not touch
        record(22, T1401, "ACCEPT"), // at the change's own second: the change is in effect
        record(22, T1401 - 1, "ACCEPT"), // one second before it: not yet
    ];
    let (now, _, code) = explain(&lines, snap.path(), None);
    let status = |v: &[Value]| -> Vec<String> {
        v.iter()
            .map(|r| r["status"].as_str().unwrap().to_string())
            .collect()
    };
    // By the snapshot alone, the record from before the change is a false contradiction.
    assert_eq!(
        status(&now),
        [
            "contradiction",
            "consistent",
            "consistent",
            "contradiction",
            "consistent",
            "consistent",
            "consistent"
        ]
    );
    assert_eq!(code, 1);
    let (then, err, code) = explain(&lines, snap.path(), Some(h.path()));
    assert_eq!(
        status(&then),
        [
            "consistent",
            "contradiction",
            "consistent",
            "contradiction",
            "consistent",
            "consistent",
            "contradiction"
        ],
        "{err}"
    );
    assert_eq!(code, 1);
    // The duplicate counts once; the failed calls and the dry run change nothing.
    assert!(
        err.contains("history: 3 file(s), 5 record(s): 1 change(s) kept, 1 duplicate(s), 3 failed call(s) (1 dry run(s)) that changed nothing"),
        "{err}"
    );
    assert!(err.contains("digest file(s) passed by"), "{err}");
    // A record whose answer differs from the snapshot's says so, naming the change.
    for (i, was) in [(0, "contradiction"), (1, "consistent"), (6, "consistent")] {
        let t = &then[i]["then"];
        assert_eq!(t["snapshot_status"], was, "{i}: {t}");
        let changes = t["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{i}: {t}");
        assert_eq!(
            changes[0]["event_id"],
            "00000001-0000-4000-8000-000000000001"
        );
        assert_eq!(changes[0]["api"], "AuthorizeSecurityGroupIngress");
        assert_eq!(changes[0]["time"], "2024-10-14T14:01:00Z");
        assert!(
            changes[0]["principal"]
                .as_str()
                .unwrap()
                .starts_with("arn:aws:"),
            "{t}"
        );
        assert!(changes[0]["source_ip"].is_string(), "{t}");
    }
    assert_eq!(then[0]["then"]["at"], "2024-10-14T13:00:00Z");
    for i in [2, 3, 4, 5] {
        assert!(then[i].get("then").is_none(), "{i}: {}", then[i]);
    }
    // Before the change the decision is the group's: no rule allows ssh.
    assert!(
        then[1]["message"].as_str().unwrap().contains("sg-web"),
        "{}",
        then[1]
    );
    // The contradictions' hints speak of the history, not of the snapshot's age: judged at an
    // earlier configuration (1), or at the snapshot's, which no later change reaches (3).
    let hints = then[1]["hints"].to_string();
    assert!(
        hints.contains("judged by the configuration at its start (the snapshot of 2024-10-14T15:00:00Z with the 1 later change(s) of the history undone)"),
        "{hints}"
    );
    let hints = then[3]["hints"].to_string();
    assert!(
        hints.contains("judged by the snapshot's configuration, which no change of the history since its start alters for this record"),
        "{hints}"
    );
    for r in [&then[1], &then[3]] {
        assert!(
            !r["hints"].to_string().contains("the snapshot was taken"),
            "{r}"
        );
    }
}

#[test]
fn explain_history_counts_every_record_and_names_what_cannot_be_known() {
    // The NACL's rule 100 was deleted at 14:12, and what it was is in no event: before that,
    // it is of unknown content, and every inbound record reaches it first.
    let h = history_dir(
        &["authorize-ingress.json", "delete-network-acl-entry.json"],
        |_| {},
    );
    let mut late = after("203.0.113.0/24");
    common::find(&mut late, "NetworkAcls", "NetworkAclId", "acl-default")["Entries"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !(e["RuleNumber"] == 100 && e["Egress"] == false));
    let snap = snapshot_dir(&late);
    let lines = [
        record(22, T13, "REJECT"),
        record(443, T13, "ACCEPT"),
        record(443, T1430, "REJECT"),
        "2 111122223333 eni-web - - - - - - - 1728910800 1728910860 - NODATA".to_string(),
        "not a record".to_string(),
    ];
    let (then, err, code) = explain(&lines, snap.path(), Some(h.path()));
    assert_eq!(code, 0, "{err}");
    // Malformed lines are warnings, not records.
    assert_eq!(then.len(), 4, "{then:?}");
    // https at 13:00 reaches rule 100, and sg-web allows it: unknown, naming the event.
    let r = &then[1];
    assert_eq!(r["status"], "unknown", "{r}");
    let m = r["message"].as_str().unwrap();
    assert!(
        m.contains("DeleteNetworkAclEntry") && m.contains("00000012-0000-4000-8000-000000000012"),
        "{m}"
    );
    // ssh at 13:00 reaches it too, but sg-web allows no ssh before the authorize of 14:01:
    // rejected whatever rule 100 was, so the record is consistent, exactly.
    assert_eq!(then[0]["status"], "consistent", "{}", then[0]);
    assert_eq!(then[0]["reason"], "ENI_SG_RULES_MISMATCH", "{}", then[0]);
    // After the delete, the snapshot's NACL (no rule 100 inbound) decides.
    assert_eq!(then[2]["status"], "consistent", "{}", then[2]);
    assert_eq!(then[3]["status"], "skipped");
    // Totals add up, and say how many records were judged by an earlier configuration.
    assert!(
        err.contains("5 records read: 2 consistent, 0 contradiction, 1 unknown, 1 skipped (1 NODATA, 0 SKIPDATA), 1 malformed"),
        "{err}"
    );
    // The two records at 13:00; the NODATA one (no interface judged) is judged by the
    // snapshot's, by the fast scan and the full parser alike.
    assert!(
        err.contains("history: 2 record(s) judged by the configuration at their start"),
        "{err}"
    );
}

#[test]
fn explain_history_human_output_names_the_change() {
    let snap = snapshot_dir(&after("203.0.113.0/24"));
    let h = noisy_history();
    let flows = tempfile::tempdir().unwrap();
    let log = flows.path().join("web.log");
    std::fs::write(&log, format!("{HEADER}\n{}\n", record(22, T13, "ACCEPT"))).unwrap();
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["explain", "--snapshot"])
        .arg(snap.path())
        .args(["--snapshot-time", "2024-10-14T15:00:00Z", "--history"])
        .arg(h.path())
        .arg(&log)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("CONTRADICTION"), "{text}");
    assert!(
        text.contains("judged at its start (2024-10-14T13:00:00Z); the snapshot's configuration says: consistent (expected ACCEPT)"),
        "{text}"
    );
    assert!(
        text.contains(
            "changed since: 2024-10-14T14:01:00Z AuthorizeSecurityGroupIngress by arn:aws:"
        ) && text.contains("(sg-web; event 00000001-0000-4000-8000-000000000001)"),
        "{text}"
    );
}

#[test]
fn explain_history_records_no_change_reaches_are_judged_by_the_snapshot_as_they_are() {
    // Every record is after the only change (or at an interface it does not reach): the chunk
    // goes through the fast scan, and a contradiction's hint says what the history says.
    let snap = snapshot_dir(&after("203.0.113.0/24"));
    let h = noisy_history();
    let lines = [
        record(22, T1430, "ACCEPT"),
        record(22, T1430, "REJECT"),
        // eni-db at 13:00: its group names only sg-app, which no change reaches.
        "2 111122223333 eni-db 203.0.113.5 10.0.3.30 50000 5432 6 5 500 1728910800 1728910860 ACCEPT OK"
            .to_string(),
    ];
    let (then, err, code) = explain(&lines, snap.path(), Some(h.path()));
    assert_eq!(code, 1, "{err}");
    let status: Vec<&str> = then.iter().map(|r| r["status"].as_str().unwrap()).collect();
    // eni-db's group allows 5432 only from sg-app: the record from the internet contradicts.
    assert_eq!(
        status,
        ["consistent", "contradiction", "contradiction"],
        "{then:?}"
    );
    for r in &then {
        assert!(r.get("then").is_none(), "{r}");
    }
    for r in &then[1..] {
        let hints = r["hints"].to_string();
        assert!(
            hints.contains(
                "which no change of the history since its start alters for this record (none reaches this interface"
            ),
            "{hints}"
        );
        assert!(!hints.contains("the snapshot was taken"), "{hints}");
    }
    assert!(
        !err.contains("record(s) judged by the configuration at their start"),
        "{err}"
    );
}

// `audit --history`: the change that introduced each finding.

const TWO_POLICIES: &str = r#"
[[statement]]
id = "no-ssh"
description = "no SSH from the internet"
severity = "medium"
kind = "deny"
from = "internet"
to = "any"
traffic = "tcp/22"

[[statement]]
id = "no-https"
description = "no HTTPS from the internet"
severity = "low"
kind = "deny"
from = "internet"
to = "any"
traffic = "tcp/443"
"#;

#[test]
fn audit_history_names_the_change_that_introduced_each_finding_in_every_format() {
    // The authorize of 14:01 opened ssh to the whole internet; https was open before it.
    let h = ssh_opened_to_all();
    let snap = snapshot_dir(&after("0.0.0.0/0"));
    let pol = tempfile::tempdir().unwrap();
    std::fs::write(pol.path().join("p.toml"), TWO_POLICIES).unwrap();
    let p = pol.path().to_str().unwrap();
    let audit = |output: &str, at: Option<&str>| {
        let mut args = vec!["audit", "--policies", p, "--output", output];
        if let Some(at) = at {
            args.extend(["--at", at]);
        }
        run(&args, snap.path(), Some(h.path()), -1).0
    };
    for at in [None, Some("2024-10-14T14:30:00Z")] {
        let out = audit("json", at);
        let v: Value = serde_json::from_str(&out).unwrap();
        let find = |check: &str| -> Value {
            v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["check"] == check && f["status"] == "exposed")
                .cloned()
                .unwrap_or_else(|| panic!("no exposed {check}: {out}"))
        };
        let ssh = find("no-ssh");
        let i = &ssh["introduced_by"];
        assert_eq!(
            i["event_id"], "00000001-0000-4000-8000-000000000001",
            "{ssh}"
        );
        assert_eq!(i["api"], "AuthorizeSecurityGroupIngress");
        assert_eq!(i["time"], "2024-10-14T14:01:00Z");
        assert!(
            i["principal"].as_str().unwrap().starts_with("arn:aws:"),
            "{i}"
        );
        // Open before the history begins: no change introduced it.
        let https = find("no-https");
        assert!(https.get("introduced_by").is_none(), "{https}");
    }
    // Judged before the change, the ssh exposure is not there to be introduced.
    let v: Value = serde_json::from_str(&audit("json", Some("2024-10-14T13:00:00Z"))).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["check"] != "no-ssh" || f["status"] == "latent"),
        "{v:#}"
    );
    let human = audit("human", None);
    assert!(
        human.contains(
            "introduced by: 2024-10-14T14:01:00Z AuthorizeSecurityGroupIngress by arn:aws:"
        ) && human.contains("(event 00000001-0000-4000-8000-000000000001)"),
        "{human}"
    );
    let md = audit("markdown", None);
    assert!(
        md.contains("- **Introduced by:** 2024-10-14T14:01:00Z AuthorizeSecurityGroupIngress"),
        "{md}"
    );
    let sarif: Value = serde_json::from_str(&audit("sarif", None)).unwrap();
    let introduced: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["properties"].get("introducedBy"))
        .collect();
    assert_eq!(introduced.len(), 1, "{sarif:#}");
    assert_eq!(
        introduced[0]["event_id"],
        "00000001-0000-4000-8000-000000000001"
    );
}

#[test]
fn example_audit_names_the_change_that_opened_ssh_to_web_1() {
    // As examples/README.md shows it (a command with a pipe, which the README test passes by).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .current_dir(root)
        .env("NO_COLOR", "1")
        .args([
            "audit",
            "--snapshot",
            "examples/network",
            "--policies",
            "policies",
        ])
        .args(["--history", "examples/history/trail"])
        .args([
            "--snapshot-time",
            "2026-11-27T09:00:00Z",
            "--at",
            "2026-11-26T10:00:00Z",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("introduced by"))
        .collect();
    assert_eq!(
        lines,
        ["         introduced by: 2026-11-26T09:01:37Z AuthorizeSecurityGroupIngress by arn:aws:iam::111122223333:user/alice from 198.51.100.7 (event 7a1e0c52-0000-4000-8000-000000000902)"],
        "{text}"
    );
}

#[test]
fn audit_history_names_the_change_that_introduced_a_latent_finding() {
    // The authorize of 14:01 opens ssh on sg-app to the whole internet: its ENIs have no public
    // address, so the exposure is latent (one change away), and the authorize introduced it.
    let h = history_dir(&["authorize-ingress.json"], |v| {
        let s = serde_json::to_string(v)
            .unwrap()
            .replace("203.0.113.0/24", "0.0.0.0/0")
            .replace("sg-web", "sg-app");
        *v = serde_json::from_str(&s).unwrap();
    });
    let mut net = base();
    let sg = common::find(&mut net, "SecurityGroups", "GroupId", "sg-app");
    sg["IpPermissions"].as_array_mut().unwrap().push(json!(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}));
    let snap = snapshot_dir(&net);
    let pol = tempfile::tempdir().unwrap();
    std::fs::write(pol.path().join("p.toml"), POLICY).unwrap();
    let p = pol.path().to_str().unwrap();
    let out = run(
        &["audit", "--policies", p, "--output", "json"],
        snap.path(),
        Some(h.path()),
        -1,
    )
    .0;
    let v: Value = serde_json::from_str(&out).unwrap();
    let latent: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["check"] == "no-ssh"
                && f["status"] == "latent"
                && f["enis"].to_string().contains("eni-app")
        })
        .collect();
    assert_eq!(latent.len(), 1, "{out}");
    let enis = latent[0]["enis"].to_string();
    assert!(enis.contains("eni-app2"), "{enis}");
    let i = &latent[0]["introduced_by"];
    assert_eq!(
        i["event_id"], "00000001-0000-4000-8000-000000000001",
        "{out}"
    );
    assert_eq!(i["api"], "AuthorizeSecurityGroupIngress");
    // Judged before the change, sg-app did not allow ssh: no latent finding to introduce.
    let before = run(
        &[
            "audit",
            "--policies",
            p,
            "--output",
            "json",
            "--at",
            "2024-10-14T13:00:00Z",
        ],
        snap.path(),
        Some(h.path()),
        -1,
    )
    .0;
    let v: Value = serde_json::from_str(&before).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !(f["check"] == "no-ssh" && f["enis"].to_string().contains("eni-app"))),
        "{before}"
    );
}
