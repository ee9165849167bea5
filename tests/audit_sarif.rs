//! `--output sarif` validates against the OASIS SARIF 2.1.0 schema (vendored under
//! tests/fixtures/sarif, see its README for where it comes from) and carries what dashboards
//! need: one rule per statement, levels from severities, logical locations for AWS resources,
//! stable fingerprints, suppressions and baseline states.

use serde_json::Value;
use std::path::Path;
use vpcreach::audit::analysis::AuditResult;
use vpcreach::audit::report::{Baseline, Report, ReportOptions, ResourceTags, Suppressions};
use vpcreach::audit::{Finding, FindingStatus, Witness};
use vpcreach::policy::{PolicyFile, PolicySet, Severity};

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string("tests/fixtures/sarif/sarif-schema-2.1.0.json").unwrap();
    // This copy's two `language` patterns have a stray `]` that the meta-schema's `regex` format
    // check rejects; OASIS's errata01 schema corrected them to exactly this. Nothing else is
    // changed, and format checks (uri, uri-reference, date-time) are on.
    let broken = r#""^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$""#;
    assert_eq!(text.matches(broken).count(), 2);
    let text = text.replace(broken, r#""^[a-zA-Z]{2}(-[a-zA-Z]{2})?$""#);
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{}: {}", e.instance_path(), e))
        .collect()
}

fn finding(check: &str, severity: Severity, status: FindingStatus, resources: &[&str]) -> Finding {
    let resources: Vec<String> = resources.iter().map(|r| r.to_string()).collect();
    Finding {
        id: Finding::fingerprint(check, status, &resources),
        check: check.into(),
        severity,
        status,
        witness: (status == FindingStatus::Exposed).then(|| Witness {
            src: "198.51.100.7".into(),
            dst: "54.0.0.10".into(),
            protocol: "tcp".into(),
            port: Some(22),
        }),
        because: vec!["sg-1 inbound rule tcp/22 from 0.0.0.0/0".into()],
        message: format!("{check}: <b>untrusted</b> text from AWS"),
        resources,
        ..Default::default()
    }
}

fn report() -> Report {
    let policy = r#"
[[statement]]
id = "no-ssh"
description = "SSH (tcp/22) must not be reachable from the internet (CIS 5.2); use a VPN"
severity = "critical"
kind = "deny"
from = "internet"
to = "any"
traffic = "tcp/22"

[[statement]]
id = "web-reaches-db"
description = "the web tier reaches the database"
severity = "medium"
kind = "require"
from = "internet"
to = "any"
traffic = "tcp/5432"

[[statement]]
id = "quiet"
description = "a statement without findings still has a rule"
severity = "low"
kind = "deny"
from = "internet"
to = "any"
traffic = "udp/53"
"#;
    let file = PolicyFile::parse(Path::new("policies/my team.toml"), policy).unwrap();
    let policies = PolicySet {
        files: vec![file],
        ..PolicySet::default()
    };
    let result = AuditResult {
        findings: vec![
            finding(
                "no-ssh",
                Severity::Critical,
                FindingStatus::Exposed,
                &["eni-0a", "sg-0a", "acl-0a", "subnet-0a", "vpc-0a", "i-0a"],
            ),
            finding(
                "no-ssh",
                Severity::High,
                FindingStatus::Latent,
                &["eni-0b", "sg-0b", "acl-0b"],
            ),
            finding(
                "web-reaches-db",
                Severity::Medium,
                FindingStatus::Blocked,
                &["eni-0c", "rtb-0c"],
            ),
            finding(
                "default-security-group",
                Severity::Medium,
                FindingStatus::DefaultSecurityGroupInUse,
                &["sg-0d"],
            ),
            finding(
                "unused-rule",
                Severity::Low,
                FindingStatus::Unused,
                &["sg-0e"],
            ),
            finding("odd", Severity::Low, FindingStatus::Unknown, &[]),
        ],
        statements: 3,
        interfaces: 3,
        notes: vec![],
        errors: vec![],
        warnings: vec![],
        ..Default::default()
    };
    let baseline = Baseline::parse(
        Path::new("prev.json"),
        &serde_json::json!({"findings": [
            result.findings[1].clone(),
            finding("gone", Severity::High, FindingStatus::Exposed, &["eni-old"]),
        ]})
        .to_string(),
    )
    .unwrap();
    let suppressions = Suppressions::parse(
        Path::new("s.toml"),
        "[[suppression]]\ncheck = \"unused-rule\"\nreason = \"kept for DR\"\nexpires = 2999-01-01\n\
         [[suppression]]\ncheck = \"default-security-group\"\nreason = \"old\"\nexpires = 2000-01-01\n",
    )
    .unwrap();
    Report::build(
        result,
        &policies,
        ReportOptions {
            fail_on: Severity::Low,
            today: vpcreach::audit::report::Day::today(),
            baseline: Some(&baseline),
            suppressions: Some(&suppressions),
            tags: &ResourceTags::default(),
        },
    )
}

fn sarif() -> Value {
    serde_json::from_str(&vpcreach::render::audit::sarif::report(&report())).unwrap()
}

#[test]
fn the_sarif_output_validates_against_the_official_schema() {
    let v = validator();
    let log = sarif();
    assert_eq!(errors(&v, &log), Vec::<String>::new());
    // And the validator does reject what the schema forbids.
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!v.is_valid(&bad));
    let mut bad = log.clone();
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        "a b\\c".into();
    assert!(!v.is_valid(&bad), "format checks are on");
    // An empty report is valid too.
    let empty = Report::build(
        AuditResult::default(),
        &PolicySet::default(),
        ReportOptions {
            fail_on: Severity::Low,
            today: vpcreach::audit::report::Day::today(),
            baseline: None,
            suppressions: None,
            tags: &ResourceTags::default(),
        },
    );
    let empty: Value =
        serde_json::from_str(&vpcreach::render::audit::sarif::report(&empty)).unwrap();
    assert_eq!(errors(&v, &empty), Vec::<String>::new());
}

/// The log is written as it is made (result by result), with the bytes of the whole log built
/// as one JSON value: every object's keys in the order such a value keeps them, pretty-printed
/// alike; and written to a stream, the same bytes again.
#[test]
fn the_log_written_as_it_is_made_is_the_log_built_whole() {
    let report = report();
    let text = vpcreach::render::audit::sarif::report(&report);
    let whole: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        text,
        format!("{}\n", serde_json::to_string_pretty(&whole).unwrap())
    );
    assert!(whole["runs"][0]["results"].as_array().unwrap().len() > 2);
    let mut streamed = Vec::new();
    vpcreach::render::audit::sarif::write_located(
        &report,
        &std::collections::HashMap::new(),
        &mut streamed,
    )
    .unwrap();
    assert_eq!(String::from_utf8(streamed).unwrap(), text);
}

#[test]
fn one_rule_per_statement_and_built_in_check() {
    let log = sarif();
    let run = &log["runs"][0];
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(run["tool"]["driver"]["name"], "vpcreach");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "no-ssh",
            "web-reaches-db",
            "quiet",
            "default-security-group",
            "unused-rule",
            "odd"
        ]
    );
    assert_eq!(
        rules[0]["shortDescription"]["text"],
        "SSH (tcp/22) must not be reachable from the internet (CIS 5.2)"
    );
    assert_eq!(
        rules[0]["fullDescription"]["text"],
        "SSH (tcp/22) must not be reachable from the internet (CIS 5.2); use a VPN"
    );
    assert_eq!(rules[0]["defaultConfiguration"]["level"], "error");
    assert_eq!(rules[1]["defaultConfiguration"]["level"], "warning");
    assert_eq!(rules[2]["defaultConfiguration"]["level"], "note");
    assert_eq!(rules[0]["properties"]["security-severity"], "9.5");
}

#[test]
fn results_carry_levels_locations_fingerprints_and_states() {
    let log = sarif();
    let run = &log["runs"][0];
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["error", "error", "warning", "warning", "note", "note"]
    );

    let first = &results[0];
    assert_eq!(first["ruleId"], "no-ssh");
    assert_eq!(first["ruleIndex"], 0);
    let id = Finding::fingerprint(
        "no-ssh",
        FindingStatus::Exposed,
        &["eni-0a", "sg-0a", "acl-0a", "subnet-0a", "vpc-0a", "i-0a"].map(String::from),
    );
    assert_eq!(
        first["partialFingerprints"]["vpcreachFindingId/v1"],
        id.as_str()
    );
    assert_eq!(
        first["message"]["text"],
        "no-ssh: <b>untrusted</b> text from AWS"
    );
    let logical = first["locations"][0]["logicalLocations"]
        .as_array()
        .unwrap();
    let names: Vec<(&str, &str, &str)> = logical
        .iter()
        .map(|l| {
            (
                l["fullyQualifiedName"].as_str().unwrap(),
                l["kind"].as_str().unwrap(),
                l["properties"]["resourceType"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("eni-0a", "resource", "network-interface"),
            ("sg-0a", "resource", "security-group"),
            ("acl-0a", "resource", "network-acl"),
            ("subnet-0a", "resource", "subnet"),
            ("vpc-0a", "resource", "vpc"),
            ("i-0a", "resource", "instance"),
        ]
    );
    // Statement findings point at the statement in its policy file.
    let physical = &first["locations"][0]["physicalLocation"];
    assert_eq!(
        physical["artifactLocation"]["uri"],
        "policies/my%20team.toml"
    );
    assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(physical["region"]["startLine"], 2);
    assert_eq!(first["properties"]["witness"]["port"], 22);
    assert_eq!(first["baselineState"], "new");
    assert_eq!(results[1]["baselineState"], "unchanged");

    // Built-in checks have no policy file: logical locations only.
    let dsg = results
        .iter()
        .find(|r| r["ruleId"] == "default-security-group")
        .unwrap();
    assert!(dsg["locations"][0].get("physicalLocation").is_none());
    assert_eq!(dsg["properties"]["expiredSuppression"]["reason"], "old");
    assert!(dsg.get("suppressions").is_none());
    let unused = results
        .iter()
        .find(|r| r["ruleId"] == "unused-rule")
        .unwrap();
    assert_eq!(unused["suppressions"][0]["kind"], "external");
    assert_eq!(unused["suppressions"][0]["justification"], "kept for DR");
    let odd = results.iter().find(|r| r["ruleId"] == "odd").unwrap();
    assert!(odd.get("locations").is_none());

    // The expired suppression is a tool notification, resolved findings a run property.
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert!(notes[0]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("suppression expired on 2000-01-01"));
    assert_eq!(run["properties"]["resolved"][0]["check"], "gone");
    assert_eq!(run["properties"]["summary"]["failing"], 4);
}

#[test]
fn the_binary_s_sarif_on_the_example_network_validates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = assert_cmd::Command::cargo_bin("vpcreach")
        .unwrap()
        .current_dir(root)
        .args([
            "audit",
            "--snapshot",
            "examples/network",
            "--policies",
            "policies",
            "--flows",
            "examples/flows",
            "--output",
            "sarif",
        ])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(errors(&validator(), &log), Vec::<String>::new());
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert!(rules.len() >= 21, "one rule per baseline statement");
    assert_eq!(rules[0]["id"], "cis-5.2-ssh-from-internet");
}

// Code scanning shows a result only with a file: built-in checks (no policy statement) point at
// the snapshot file and line that define their resource, repository-relative.
#[test]
fn every_result_of_the_example_has_a_file_and_line() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = assert_cmd::Command::cargo_bin("vpcreach")
        .unwrap()
        .current_dir(root)
        .args([
            "audit",
            "--snapshot",
            "examples/network",
            "--policies",
            "policies",
            "--output",
            "sarif",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let p = &r["locations"][0]["physicalLocation"];
        let uri = p["artifactLocation"]["uri"].as_str().unwrap_or("");
        assert!(!uri.is_empty() && !uri.starts_with("file:"), "{r:#}");
        assert!(p["region"]["startLine"].as_u64().unwrap_or(0) >= 1, "{r:#}");
    }
    let dsg = results
        .iter()
        .find(|r| r["ruleId"] == "default-security-group")
        .unwrap();
    let p = &dsg["locations"][0]["physicalLocation"];
    assert_eq!(
        p["artifactLocation"]["uri"],
        "examples/network/SecurityGroups.json"
    );
    let line = p["region"]["startLine"].as_u64().unwrap() as usize;
    let text = std::fs::read_to_string(root.join("examples/network/SecurityGroups.json")).unwrap();
    let group = dsg["properties"]["resources"][0].as_str().unwrap();
    assert!(
        text.lines()
            .nth(line - 1)
            .unwrap()
            .contains(&format!("\"GroupId\": \"{group}\"")),
        "line {line}"
    );
}
