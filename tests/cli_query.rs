//! `vpcreach query` through the built binary: output formats, exit codes and error messages.

mod common;

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn vpcreach(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("vpcreach").unwrap();
    cmd.arg("query")
        .arg("--snapshot")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn reachable_human_trace_exits_0() {
    let d = common::snapshot_dir(&common::base());
    vpcreach(
        d.path(),
        &["--from", "eni-web", "--to", "eni-app", "--port", "8080"],
    )
    .assert()
    .code(0)
    .stdout(predicate::str::contains("forward:"))
    .stdout(predicate::str::contains("return:"))
    .stdout(predicate::str::contains(
        "inbound allowed by sg-app rule tcp/8080 from sg-web (web)",
    ))
    .stdout(predicate::str::contains("verdict: REACHABLE"));
}

#[test]
fn unreachable_json_names_the_blocker_and_exits_1() {
    let d = common::snapshot_dir(&common::base());
    let out = vpcreach(
        d.path(),
        &[
            "--from",
            "eni-web",
            "--to",
            "10.0.3.30",
            "--port",
            "5432",
            "--output",
            "json",
        ],
    )
    .assert()
    .code(1)
    .get_output()
    .stdout
    .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["verdict"], "unreachable");
    assert_eq!(v["reason"], "ENI_SG_RULES_MISMATCH");
    assert_eq!(v["blocked_at"]["component"], "eni-db");
    assert_eq!(v["blocked_at"]["layer"], "security_group");
    assert_eq!(v["blocked_at"]["resources"][0], "sg-db");
    let hops = v["forward"]["hops"].as_array().unwrap();
    assert_eq!(hops[0]["component"], "eni-web");
    assert_eq!(hops[0]["checks"][0]["layer"], "security_group");
    assert_eq!(hops[0]["checks"][0]["decision"], "allow");
    assert_eq!(hops[0]["checks"][0]["direction"], "outbound");
    assert!(v["return"].is_null());
}

#[test]
fn dot_output_marks_the_blocking_hop() {
    let d = common::snapshot_dir(&common::base());
    vpcreach(
        d.path(),
        &[
            "--from", "eni-web", "--to", "eni-db", "--port", "5432", "--output", "dot",
        ],
    )
    .assert()
    .code(1)
    .stdout(predicate::str::starts_with("digraph vpcreach {"))
    .stdout(predicate::str::contains("color=red"));
}

#[test]
fn unknown_id_suggests_the_closest_and_exits_2() {
    let d = common::snapshot_dir(&common::base());
    vpcreach(
        d.path(),
        &["--from", "eni-wbe", "--to", "eni-app", "--port", "8080"],
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains(
        "`eni-wbe` is not in the snapshot (did you mean `eni-web`?)",
    ));
}

#[test]
fn bad_arguments_and_bad_snapshots_exit_2() {
    let d = common::snapshot_dir(&common::base());
    vpcreach(d.path(), &["--from", "eni-web", "--to", "eni-app"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--port"));
    vpcreach(
        d.path(),
        &[
            "--from",
            "eni-web",
            "--to",
            "eni-app",
            "--port",
            "300",
            "--protocol",
            "icmp",
        ],
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains("ICMP type"));
    vpcreach(
        d.path(),
        &[
            "--from",
            "eni-web",
            "--to",
            "eni-app",
            "--port",
            "1",
            "--protocol",
            "bogus",
        ],
    )
    .assert()
    .code(2);
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(
        bad.path().join("Vpcs.json"),
        "{\n  \"Vpcs\": [\n    {\"VpcId\": }\n  ]\n}\n",
    )
    .unwrap();
    vpcreach(
        bad.path(),
        &["--from", "eni-web", "--to", "eni-app", "--port", "1"],
    )
    .assert()
    .code(2)
    .stderr(predicate::str::contains("Vpcs.json:3:"));
    let empty = tempfile::tempdir().unwrap();
    vpcreach(empty.path(), &["--from", "a", "--to", "b", "--port", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no `.json` files"));
}

#[test]
fn untrusted_names_are_sanitized_in_human_output() {
    let d = common::snapshot_dir(&common::base());
    let f = d.path().join("us-east-1/NetworkInterfaces.json");
    let text = std::fs::read_to_string(&f).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["NetworkInterfaces"][0]["TagSet"] =
        serde_json::json!([{"Key": "Name", "Value": "evil\u{1b}[2Jname"}]);
    std::fs::write(&f, v.to_string()).unwrap();
    vpcreach(
        d.path(),
        &["--from", "eni-web", "--to", "eni-app", "--port", "8080"],
    )
    .assert()
    .code(0)
    .stdout(predicate::str::contains("evil?[2Jname"))
    .stdout(predicate::str::contains("\u{1b}").not());
}

#[test]
fn readme_documents_every_reason_code() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for r in vpcreach::Reason::ALL {
        assert!(
            readme.contains(&format!("`{}`", r.code())),
            "README lacks {}",
            r.code()
        );
    }
}

#[test]
fn resources_not_modelled_and_snapshot_problems_are_said_once() {
    let mut v = common::base();
    v["LoadBalancerDescriptions"] = serde_json::json!([{"LoadBalancerName": "lb-1"}]);
    common::find(&mut v, "Subnets", "SubnetId", "subnet-db")["CidrBlock"] =
        serde_json::json!("10.0.3.0/33");
    let d = common::snapshot_dir(&v);
    vpcreach(
        d.path(),
        &["--from", "eni-web", "--to", "eni-app", "--port", "8080"],
    )
    .assert()
    .code(0)
    .stderr(predicate::str::contains(
        "note: not modelled (paths through them are reported as unknown): LoadBalancerDescriptions",
    ))
    .stderr(predicate::str::contains(
        "warning: subnet subnet-db: `10.0.3.0/33` is not a CIDR",
    ));
}
