//! `vpcreach audit` through the built binary, as a scheduled job runs it: exit codes and
//! `--fail-on`, every output format, `--baseline` (only new findings fail) and `--suppressions`
//! (by check, resource and tag; expired ones), and errors in what the user wrote (exit 2).
//!
//! The network is a small fixture written here: one public subnet, `eni-ssh` (tagged
//! `Team=data`) with SSH open to the world, and `eni-web` (instance `i-web`, tagged `Team=web`)
//! with HTTPS open to the world. The policy denies SSH (medium) and HTTPS (low) from the
//! internet, so the analysis finds one exposure each. Assertions only look at the findings of
//! these two statements, whatever built-in checks add.

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::Path;
use tempfile::TempDir;

fn snapshot() -> Value {
    let eni = |id: &str, ip: &str, public: &str, sg: &str| {
        json!({"NetworkInterfaceId": id, "SubnetId": "subnet-1", "VpcId": "vpc-1", "PrivateIpAddress": ip,
               "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": true, "Association": {"PublicIp": public}}],
               "Association": {"PublicIp": public}, "Groups": [{"GroupId": sg}]})
    };
    let mut ssh = eni("eni-ssh", "10.0.1.10", "54.0.0.10", "sg-ssh");
    ssh["TagSet"] = json!([{"Key": "Team", "Value": "data"}]);
    let mut web = eni("eni-web", "10.0.1.20", "54.0.0.20", "sg-web");
    web["Attachment"] = json!({"InstanceId": "i-web", "Status": "attached"});
    let open = |id: &str, port: u16| {
        json!({"GroupId": id, "GroupName": id.trim_start_matches("sg-"), "VpcId": "vpc-1",
               "IpPermissions": [{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
               "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]})
    };
    let nacl = |n: u32, action: &str, egress: bool| json!({"RuleNumber": n, "Protocol": "-1", "RuleAction": action, "Egress": egress, "CidrBlock": "0.0.0.0/0"});
    json!({
        "Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}],
        "Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a"}],
        "InternetGateways": [{"InternetGatewayId": "igw-1", "Attachments": [{"VpcId": "vpc-1", "State": "available"}]}],
        "RouteTables": [{"RouteTableId": "rtb-1", "VpcId": "vpc-1", "Associations": [{"Main": true}],
            "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                       {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"}]}],
        "NetworkAcls": [{"NetworkAclId": "acl-1", "VpcId": "vpc-1", "IsDefault": true,
            "Associations": [{"NetworkAclId": "acl-1", "SubnetId": "subnet-1"}],
            "Entries": [nacl(100, "allow", false), nacl(32767, "deny", false), nacl(100, "allow", true), nacl(32767, "deny", true)]}],
        "SecurityGroups": [open("sg-ssh", 22), open("sg-web", 443)],
        "NetworkInterfaces": [ssh, web],
        "Reservations": [{"Instances": [{"InstanceId": "i-web", "Tags": [{"Key": "Team", "Value": "web"}]}]}]
    })
}

const POLICY: &str = r#"
# Two exposures the fixture has.
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

struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("snap")).unwrap();
        std::fs::write(
            dir.path().join("snap/snapshot.json"),
            snapshot().to_string(),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("policies")).unwrap();
        std::fs::write(dir.path().join("policies/p.toml"), POLICY).unwrap();
        Fixture { dir }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> std::path::PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn audit(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("vpcreach").unwrap();
        cmd.current_dir(self.dir.path())
            .arg("audit")
            .arg("--snapshot")
            .arg("snap")
            .arg("--policies")
            .arg("policies")
            .args(args)
            .env("NO_COLOR", "1");
        cmd
    }

    /// Runs with `--output json`; returns the exit code, the report and stderr.
    fn json(&self, args: &[&str]) -> (i32, Value, String) {
        let out = self
            .audit(&[&["--output", "json"], args].concat())
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (code, v, String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The findings of the fixture's own statements.
fn ours(report: &Value) -> Vec<&Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "no-ssh" || f["check"] == "no-https")
        .collect()
}

fn by_check<'a>(report: &'a Value, check: &str) -> &'a Value {
    ours(report)
        .into_iter()
        .find(|f| f["check"] == check)
        .unwrap()
}

#[test]
fn json_report_lists_findings_with_ids_witnesses_and_rules() {
    let fx = Fixture::new();
    let (code, v, _) = fx.json(&[]);
    assert_eq!(code, 1);
    let ssh = by_check(&v, "no-ssh");
    assert_eq!(ssh["severity"], "medium");
    assert_eq!(ssh["status"], "exposed");
    // Grouped by cause: the security group and its rule (the thing to fix), then the ENIs.
    assert_eq!(
        ssh["resources"],
        json!(["sg-ssh", "inbound rule tcp/22 from 0.0.0.0/0"])
    );
    assert_eq!(ssh["enis"], json!(["eni-ssh"]));
    assert_eq!(ssh["eni_count"], 1);
    assert_eq!(ssh["witness"]["port"], 22);
    assert_eq!(ssh["witness"]["protocol"], "tcp");
    assert!(ssh["because"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b.as_str().unwrap().contains("sg-ssh")));
    assert_eq!(ssh["id"].as_str().unwrap().len(), 16);
    assert!(ssh.get("baseline").is_none() && ssh.get("suppressed").is_none());
    assert!(v.get("resolved").is_none());
    assert_eq!(v["summary"]["statements"], 2);
    assert!(v["summary"]["by_severity"]["medium"].as_u64().unwrap() >= 1);
    assert!(v["summary"]["by_status"]["exposed"].as_u64().unwrap() >= 2);
    // Ids are stable from run to run.
    let (_, again, _) = fx.json(&[]);
    assert_eq!(by_check(&again, "no-ssh")["id"], ssh["id"]);
}

#[test]
fn fail_on_chooses_the_severity_that_fails_the_run() {
    let fx = Fixture::new();
    // Medium is the highest severity of the fixture's findings (built-in checks included).
    fx.audit(&[]).assert().code(1);
    fx.audit(&["--fail-on", "low"]).assert().code(1);
    fx.audit(&["--fail-on", "medium"]).assert().code(1);
    fx.audit(&["--fail-on", "high"]).assert().code(0);
    fx.audit(&["--fail-on", "critical"]).assert().code(0);
    let (code, v, _) = fx.json(&["--fail-on", "high"]);
    assert_eq!(code, 0);
    assert_eq!(v["summary"]["failing"], 0);
    assert_eq!(v["summary"]["fail_on"], "high");
    assert_eq!(by_check(&v, "no-ssh")["failing"], false);
    fx.audit(&["--fail-on", "severe"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "expected `low`, `medium`, `high` or `critical`",
        ));
}

#[test]
fn with_a_baseline_only_new_findings_fail_and_resolved_ones_are_listed() {
    let fx = Fixture::new();
    let (_, first, _) = fx.json(&[]);
    // Against itself: everything unchanged, nothing fails.
    let all = fx.write("all.json", &first.to_string());
    let (code, v, _) = fx.json(&["--baseline", all.to_str().unwrap()]);
    assert_eq!(code, 0, "{v:#}");
    assert!(v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["baseline"] == "unchanged"));
    assert_eq!(v["resolved"], json!([]));
    assert_eq!(v["summary"]["baseline"]["resolved"], 0);

    // A baseline without the SSH finding but with one that is gone now.
    let mut older = first.clone();
    let findings = older["findings"].as_array_mut().unwrap();
    findings.retain(|f| f["check"] != "no-ssh");
    findings.push(json!({"id": "00000000deadbeef", "check": "no-telnet", "severity": "high",
                         "status": "exposed", "resources": ["eni-old"], "message": "telnet was open"}));
    let older = fx.write("older.json", &older.to_string());
    let (code, v, _) = fx.json(&["--baseline", older.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(by_check(&v, "no-ssh")["baseline"], "new");
    assert_eq!(by_check(&v, "no-ssh")["failing"], true);
    assert_eq!(by_check(&v, "no-https")["baseline"], "unchanged");
    assert_eq!(by_check(&v, "no-https")["failing"], false);
    assert_eq!(v["resolved"][0]["id"], "00000000deadbeef");
    assert_eq!(v["summary"]["failing"], 1);
    assert_eq!(v["summary"]["baseline"]["new"], 1);
    // The new one fails only at or above `--fail-on`.
    fx.audit(&["--baseline", older.to_str().unwrap(), "--fail-on", "high"])
        .assert()
        .code(0);
    // The human table says which are new and which are resolved.
    fx.audit(&["--baseline", older.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(predicates::str::contains("NEW"))
        .stdout(predicates::str::contains("resolved since the baseline (1)"))
        .stdout(predicates::str::contains("1 new,"));
}

#[test]
fn suppressions_by_check_resource_and_tag() {
    let fx = Fixture::new();
    let s = fx.write(
        "suppressions.toml",
        r#"
[[suppression]]
check = "no-ssh"
tag = "Team=data"
reason = "data team's jump host, SEC-1"
expires = 2999-12-31

[[suppression]]
resource = "i-web"
reason = "the public web server"
expires = 2999-12-31
"#,
    );
    let (_, v, stderr) = fx.json(&["--suppressions", s.to_str().unwrap()]);
    let ssh = by_check(&v, "no-ssh");
    assert_eq!(ssh["suppressed"]["reason"], "data team's jump host, SEC-1");
    assert_eq!(ssh["suppressed"]["expires"], "2999-12-31");
    assert_eq!(ssh["suppressed"]["at"], format!("{}:2:1", s.display()));
    assert_eq!(ssh["failing"], false);
    // An instance id matches the findings of its ENIs.
    assert_eq!(
        by_check(&v, "no-https")["suppressed"]["reason"],
        "the public web server"
    );
    assert!(!stderr.contains("expired"));

    // By resource id and by tag of the instance, carried to its ENI.
    let s = fx.write(
        "s2.toml",
        "[[suppression]]\nresource = \"eni-ssh\"\nreason = \"r\"\nexpires = 2999-01-01\n\
         [[suppression]]\ntag = \"Team=web\"\ncheck = \"no-https\"\nreason = \"web team\"\nexpires = 2999-01-01\n",
    );
    let (_, v, _) = fx.json(&["--suppressions", s.to_str().unwrap(), "--fail-on", "low"]);
    assert_eq!(by_check(&v, "no-ssh")["suppressed"]["reason"], "r");
    assert_eq!(by_check(&v, "no-https")["suppressed"]["reason"], "web team");
    // Only built-in checks may still fail the run; the fixture's own findings do not.
    assert!(ours(&v).iter().all(|f| f["failing"] == false));
}

#[test]
fn expired_suppressions_stop_suppressing_and_say_so() {
    let fx = Fixture::new();
    let s = fx.write(
        "s.toml",
        "[[suppression]]\ncheck = \"no-ssh\"\nreason = \"until the VPN\"\nexpires = 2020-01-31\n",
    );
    let (code, v, stderr) = fx.json(&["--suppressions", s.to_str().unwrap()]);
    assert_eq!(code, 1);
    let ssh = by_check(&v, "no-ssh");
    assert!(ssh.get("suppressed").is_none());
    assert_eq!(ssh["expired_suppression"]["expires"], "2020-01-31");
    assert_eq!(ssh["failing"], true);
    let warning = format!(
        "warning: {}:1:1: suppression expired on 2020-01-31 and no longer hides 1 finding(s) (reason: until the VPN)",
        s.display()
    );
    assert!(stderr.contains(&warning), "{stderr}");
    assert!(v["warnings"][0]
        .as_str()
        .unwrap()
        .contains("expired on 2020-01-31"));
    // The Markdown report says so too.
    fx.audit(&[
        "--suppressions",
        s.to_str().unwrap(),
        "--output",
        "markdown",
    ])
    .assert()
    .code(1)
    .stdout(predicates::str::contains(
        "**Suppression expired** on 2020-01-31",
    ))
    .stdout(predicates::str::contains("## Warnings"));
}

#[test]
fn mistakes_in_what_the_user_wrote_exit_2_with_locations() {
    let fx = Fixture::new();
    // A broken suppressions file.
    let s = fx.write(
        "s.toml",
        "[[suppression]]\ncheck = \"no-ssh\"\nreason = \"r\"\nexpires = \"soon\"\n",
    );
    fx.audit(&["--suppressions", s.to_str().unwrap()])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicates::str::contains(format!(
            "{}:4:11: error: `expires` expects a date like `2026-12-31`, found `soon`",
            s.display()
        )));
    // A broken baseline.
    let b = fx.write("b.json", "{\"findings\": [\n  {\"check\": 1}\n]}");
    fx.audit(&["--baseline", b.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "{}:2:13: expected the JSON report",
            b.display()
        )));
    // A broken policy: every mistake, then exit 2.
    fx.write(
        "policies/p.toml",
        &POLICY
            .replace("\"medium\"", "\"meduim\"")
            .replace("to = \"any\"", "to = \"anny\""),
    );
    fx.audit(&[])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "policies/p.toml:6:12: error: `severity` expects",
        ))
        .stderr(predicates::str::contains("did you mean `medium`?"))
        .stderr(predicates::str::contains(
            "policies/p.toml:9:6: error: unknown group `anny`",
        ))
        .stderr(predicates::str::contains(
            "policies/p.toml:18:6: error: unknown group `anny`",
        ))
        .stderr(predicates::str::contains("3 mistake(s) in the policies"));
    // A missing snapshot.
    let mut cmd = Command::cargo_bin("vpcreach").unwrap();
    cmd.args(["audit", "--snapshot", "/nonexistent/snap", "--policies"])
        .arg(fx.path("policies"))
        .assert()
        .code(2);
}

#[test]
fn ids_the_snapshot_lacks_are_warnings_with_did_you_mean() {
    let fx = Fixture::new();
    fx.write(
        "policies/groups.toml",
        "[groups.ssh]\nenis = \"eni-shh\"\n[[statement]]\nid = \"ssh-only-from-office\"\ndescription = \"d\"\nseverity = \"low\"\nkind = \"require\"\nfrom = \"any\"\nto = \"ssh\"\ntraffic = \"tcp/22\"\n",
    );
    let out = fx.audit(&["--output", "json"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("groups.toml:2:8: warning: `eni-shh` is not in the snapshot"),
        "{stderr}"
    );
    assert!(stderr.contains("help: did you mean `eni-ssh`?"), "{stderr}");
    assert_ne!(out.status.code(), Some(2));
}

#[test]
fn every_output_format() {
    let fx = Fixture::new();
    let human = fx.audit(&[]).output().unwrap();
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.starts_with("SEVERITY"), "{text}");
    assert!(text.contains("no-ssh"));
    assert!(text.contains("witness: "));
    assert!(text.contains("fail: "));
    assert!(!text.contains('\x1b'), "no colour when not on a terminal");

    let md = fx.audit(&["--output", "markdown"]).output().unwrap();
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.starts_with("# vpcreach audit\n"));
    assert!(md.contains("| severity | open |"));
    assert!(md.contains("## Medium"));
    assert!(md.contains("### `no-ssh` — exposed — `sg-"), "{md}");
    assert!(md.contains("- **Witness:**"));
    // Every finding has a heading of its own (an anchor to link to).
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with('#')).collect();
    let unique: std::collections::BTreeSet<&&str> = headings.iter().collect();
    assert_eq!(unique.len(), headings.len(), "{headings:#?}");

    let sarif = fx.audit(&["--output", "sarif"]).output().unwrap();
    assert_eq!(sarif.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&sarif.stdout).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let rules: Vec<&str> = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(&rules[..2], ["no-ssh", "no-https"]);
    let result = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "no-ssh")
        .unwrap();
    assert_eq!(result["level"], "warning");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "policies/p.toml"
    );
    // The cause's resources, then the ENIs it affects.
    assert_eq!(
        result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "sg-ssh"
    );
    assert_eq!(
        result["locations"][0]["logicalLocations"][2]["fullyQualifiedName"],
        "eni-ssh"
    );
    assert_eq!(
        result["locations"][0]["logicalLocations"][2]["properties"]["resourceType"],
        "network-interface"
    );
}

#[test]
fn the_shipped_baseline_policy_runs_on_the_example_network() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .current_dir(root)
        .args([
            "audit",
            "--snapshot",
            "examples/network",
            "--policies",
            "policies",
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let code = out.status.code();
    assert!(
        code == Some(0) || code == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["statements"], 21);
}

#[test]
fn flows_add_the_observed_audit_to_the_static_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = |flows: bool| {
        let mut cmd = Command::cargo_bin("vpcreach").unwrap();
        cmd.current_dir(root).args([
            "audit",
            "--snapshot",
            "examples/network",
            "--policies",
            "policies",
            "--output",
            "json",
        ]);
        if flows {
            cmd.args(["--flows", "examples/flows"]);
        }
        let out = cmd.output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let (alone, with_flows) = (run(false), run(true));
    let ids = |v: &Value| -> Vec<String> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    // Every static finding is still there, once.
    let merged = ids(&with_flows);
    for id in ids(&alone) {
        assert_eq!(merged.iter().filter(|m| **m == id).count(), 1, "{id}");
    }
    assert_eq!(
        with_flows["summary"]["statements"],
        alone["summary"]["statements"]
    );
}
