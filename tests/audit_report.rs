//! Baseline, suppressions and the exit code, on findings built by hand (the analyses are tested
//! on their own): what is new, unchanged and resolved; what each suppression hides, by check,
//! resource and tag; what expired suppressions stop hiding; and which findings fail the run.

use std::path::Path;
use vpcreach::audit::analysis::AuditResult;
use vpcreach::audit::report::{
    Baseline, BaselineState, Day, Report, ReportOptions, ResourceTags, Suppressions,
};
use vpcreach::audit::{Finding, FindingStatus, Witness};
use vpcreach::policy::{PolicyFile, PolicySet, Severity};

fn finding(check: &str, severity: Severity, status: FindingStatus, resources: &[&str]) -> Finding {
    let resources: Vec<String> = resources.iter().map(|r| r.to_string()).collect();
    let message = format!("{check} on {}", resources.join(", "));
    Finding {
        id: Finding::fingerprint(check, status, &resources),
        check: check.into(),
        severity,
        status,
        resources,
        witness: Some(Witness {
            src: "198.51.100.7".into(),
            dst: "54.0.0.10".into(),
            protocol: "tcp".into(),
            port: Some(22),
        }),
        because: vec!["sg-1 inbound rule tcp/22 from 0.0.0.0/0".into()],
        message,
        ..Default::default()
    }
}

fn findings() -> Vec<Finding> {
    vec![
        finding(
            "no-redis",
            Severity::Critical,
            FindingStatus::Exposed,
            &["eni-db", "sg-db"],
        ),
        finding(
            "no-ssh",
            Severity::High,
            FindingStatus::Exposed,
            &["eni-bastion", "sg-bastion"],
        ),
        finding(
            "no-ssh",
            Severity::Medium,
            FindingStatus::Latent,
            &["eni-app", "sg-app", "acl-1"],
        ),
        finding(
            "default-security-group",
            Severity::Medium,
            FindingStatus::DefaultSecurityGroupInUse,
            &["sg-default"],
        ),
        finding(
            "no-telnet",
            Severity::Low,
            FindingStatus::Exposed,
            &["eni-web", "sg-web"],
        ),
    ]
}

fn result() -> AuditResult {
    AuditResult {
        findings: findings(),
        statements: 3,
        interfaces: 4,
        notes: vec!["a note".into()],
        errors: vec![],
        warnings: vec![],
        ..Default::default()
    }
}

fn policies() -> PolicySet {
    let text = ["no-redis", "no-ssh", "no-telnet"]
        .iter()
        .map(|id| {
            format!(
                "[[statement]]\nid = \"{id}\"\ndescription = \"{id}\"\nseverity = \"high\"\nkind = \"deny\"\nfrom = \"internet\"\nto = \"any\"\ntraffic = \"tcp/22\"\n"
            )
        })
        .collect::<String>();
    let file = PolicyFile::parse(Path::new("policies/p.toml"), &text).unwrap();
    PolicySet {
        files: vec![file],
        ..PolicySet::default()
    }
}

fn day(s: &str) -> Day {
    s.parse().unwrap()
}

fn tags() -> ResourceTags {
    let mut t = ResourceTags::default();
    t.insert("eni-web", "Env", "sandbox");
    t.insert("eni-app", "Team", "payments");
    t
}

struct Opts<'a> {
    fail_on: Severity,
    baseline: Option<&'a Baseline>,
    suppressions: Option<&'a Suppressions>,
}

fn build(o: Opts<'_>) -> Report {
    let tags = tags();
    Report::build(
        result(),
        &policies(),
        ReportOptions {
            fail_on: o.fail_on,
            today: day("2026-06-15"),
            baseline: o.baseline,
            suppressions: o.suppressions,
            tags: &tags,
        },
    )
}

fn plain() -> Opts<'static> {
    Opts {
        fail_on: Severity::Low,
        baseline: None,
        suppressions: None,
    }
}

#[test]
fn fail_on_sets_the_threshold() {
    for (fail_on, failing, code) in [
        (Severity::Low, 5, 1),
        (Severity::Medium, 4, 1),
        (Severity::High, 2, 1),
        (Severity::Critical, 1, 1),
    ] {
        let r = build(Opts { fail_on, ..plain() });
        assert_eq!(r.summary.failing, failing, "{fail_on:?}");
        assert_eq!(r.exit_code(), code);
    }
    let tags = tags();
    let r = Report::build(
        AuditResult {
            findings: vec![finding(
                "no-telnet",
                Severity::Low,
                FindingStatus::Exposed,
                &["eni-web"],
            )],
            ..Default::default()
        },
        &policies(),
        ReportOptions {
            fail_on: Severity::Medium,
            today: day("2026-06-15"),
            baseline: None,
            suppressions: None,
            tags: &tags,
        },
    );
    assert_eq!((r.summary.failing, r.exit_code()), (0, 0));
    assert_eq!(r.summary.open, 1);
}

#[test]
fn summary_counts_by_severity_and_status() {
    let r = build(plain());
    let s = &r.summary;
    assert_eq!((s.findings, s.open, s.suppressed), (5, 5, 0));
    assert_eq!(s.by_severity["critical"], 1);
    assert_eq!(s.by_severity["high"], 1);
    assert_eq!(s.by_severity["medium"], 2);
    assert_eq!(s.by_severity["low"], 1);
    assert_eq!(s.by_status["exposed"], 3);
    assert_eq!(s.by_status["latent"], 1);
    assert_eq!(s.by_status["default_security_group_in_use"], 1);
    assert_eq!((s.statements, s.interfaces), (3, 4));
    assert_eq!(s.notes, ["a note"]);
    assert!(s.baseline.is_none() && r.resolved.is_none());
    // One rule per statement, plus the built-in checks that made findings.
    let ids: Vec<&str> = r.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        ["no-redis", "no-ssh", "no-telnet", "default-security-group"]
    );
}

#[test]
fn baseline_marks_new_and_unchanged_lists_resolved_and_only_new_fail() {
    let previous = findings();
    // The previous run had the SSH exposure and a finding that is gone now, not the redis one.
    let gone = finding(
        "no-ftp",
        Severity::High,
        FindingStatus::Exposed,
        &["eni-old"],
    );
    let baseline_json = serde_json::json!({
        "findings": previous.iter().filter(|f| f.check != "no-redis").chain([&gone]).collect::<Vec<_>>(),
        "summary": {}
    });
    let baseline = Baseline::parse(Path::new("prev.json"), &baseline_json.to_string()).unwrap();
    let r = build(Opts {
        baseline: Some(&baseline),
        ..plain()
    });
    let state = |check: &str| {
        r.findings
            .iter()
            .find(|f| f.finding.check == check)
            .and_then(|f| f.baseline)
    };
    assert_eq!(state("no-redis"), Some(BaselineState::New));
    assert_eq!(state("no-ssh"), Some(BaselineState::Unchanged));
    assert_eq!(state("no-telnet"), Some(BaselineState::Unchanged));
    let resolved = r.resolved.as_ref().unwrap();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].id, gone.id);
    assert_eq!(resolved[0].check, "no-ftp");
    let counts = r.summary.baseline.unwrap();
    assert_eq!((counts.new, counts.unchanged, counts.resolved), (1, 4, 1));
    // Only the new finding fails the run.
    let failing: Vec<&str> = r.failing().map(|f| f.finding.check.as_str()).collect();
    assert_eq!(failing, ["no-redis"]);
    assert_eq!(r.exit_code(), 1);

    // Against a baseline holding everything, nothing fails even at `low`.
    let all = serde_json::json!({ "findings": findings() });
    let baseline = Baseline::parse(Path::new("prev.json"), &all.to_string()).unwrap();
    let r = build(Opts {
        baseline: Some(&baseline),
        ..plain()
    });
    assert_eq!((r.summary.failing, r.exit_code()), (0, 0));
    assert_eq!(r.resolved.as_ref().map(Vec::len), Some(0));
}

#[test]
fn a_report_is_its_own_next_baseline() {
    let first = build(plain());
    let json = vpcreach::render::audit::json::report(&first);
    let baseline = Baseline::parse(Path::new("prev.json"), &json).unwrap();
    assert_eq!(baseline.findings.len(), 5);
    let second = build(Opts {
        baseline: Some(&baseline),
        ..plain()
    });
    assert!(second
        .findings
        .iter()
        .all(|f| f.baseline == Some(BaselineState::Unchanged)));
    assert_eq!(second.exit_code(), 0);
}

#[test]
fn malformed_baselines_are_located() {
    let err = Baseline::parse(
        Path::new("prev.json"),
        "{\n  \"findings\": [\n    {\"check\": \"x\"}\n  ]\n}",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "prev.json:3:18: expected the JSON report of a previous `vpcreach audit --output json`: missing field `id`"
    );
    let err = Baseline::parse(Path::new("prev.json"), "{\"findings\": [}").unwrap_err();
    assert!(err.to_string().starts_with("prev.json:1:15: "), "{err}");
}

fn suppressions(text: &str) -> Suppressions {
    match Suppressions::parse(Path::new("s.toml"), text) {
        Ok(s) => s,
        Err(e) => panic!("{:#?}", e.errors),
    }
}

#[test]
fn suppressions_match_by_check_resource_and_tag() {
    let s = suppressions(
        r#"
# The bastion's SSH exposure is accepted until the VPN is in place.
[[suppression]]
check = "no-ssh"
resource = "eni-bastion"
reason = "bastion, SEC-1234"
expires = 2026-12-31

[[suppression]]
tag = "Env=sandbox"
reason = "sandbox accounts are throw-away"
expires = "2026-06-15"

[[suppression]]
check = ["default-security-group"]
reason = "being cleaned up"
expires = 2027-01-01

[[suppression]]
resource = ["eni-app"]
tag = "Team"
check = "no-ssh"
reason = "payments team accepts"
expires = 2026-07-01
"#,
    );
    let r = build(Opts {
        suppressions: Some(&s),
        ..plain()
    });
    let hidden = |check: &str, first: &str| {
        r.findings
            .iter()
            .find(|f| f.finding.check == check && f.finding.resources[0] == first)
            .and_then(|f| f.suppressed.as_ref())
            .map(|s| s.reason.clone())
    };
    assert_eq!(
        hidden("no-ssh", "eni-bastion").as_deref(),
        Some("bastion, SEC-1234")
    );
    assert_eq!(
        hidden("no-telnet", "eni-web").as_deref(),
        Some("sandbox accounts are throw-away")
    );
    assert_eq!(
        hidden("default-security-group", "sg-default").as_deref(),
        Some("being cleaned up")
    );
    assert_eq!(
        hidden("no-ssh", "eni-app").as_deref(),
        Some("payments team accepts")
    );
    assert_eq!(hidden("no-redis", "eni-db"), None);
    assert_eq!((r.summary.open, r.summary.suppressed), (1, 4));
    // Suppressed findings are listed but do not fail the run.
    let failing: Vec<&str> = r.failing().map(|f| f.finding.check.as_str()).collect();
    assert_eq!(failing, ["no-redis"]);
    assert_eq!(r.summary.by_severity["medium"], 0);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    let entry = r
        .findings
        .iter()
        .find_map(|f| f.suppressed.clone())
        .unwrap();
    assert_eq!(entry.at, "s.toml:3:1");
    assert_eq!(entry.expires.to_string(), "2026-12-31");
}

#[test]
fn every_criterion_of_a_suppression_must_hold() {
    let s = suppressions(
        "[[suppression]]\ncheck = \"no-ssh\"\nresource = \"eni-db\"\nreason = \"r\"\nexpires = 2099-01-01\n\
         [[suppression]]\ntag = \"Team=other\"\nreason = \"r\"\nexpires = 2099-01-01\n",
    );
    let r = build(Opts {
        suppressions: Some(&s),
        ..plain()
    });
    assert_eq!(r.summary.suppressed, 0);
    assert_eq!(r.warnings.len(), 2);
    assert_eq!(r.warnings[0], "s.toml:1:1: suppression matches no finding");
}

#[test]
fn expired_suppressions_stop_suppressing_and_say_so() {
    let s = suppressions(
        "[[suppression]]\ncheck = \"no-ssh\"\nreason = \"temporary exception\"\nexpires = 2026-06-14\n",
    );
    let r = build(Opts {
        suppressions: Some(&s),
        ..plain()
    });
    assert_eq!(r.summary.suppressed, 0);
    let ssh: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.finding.check == "no-ssh")
        .collect();
    assert_eq!(ssh.len(), 2);
    for f in &ssh {
        assert!(f.suppressed.is_none());
        assert!(f.failing);
        let e = f.expired_suppression.as_ref().unwrap();
        assert_eq!(e.reason, "temporary exception");
        assert_eq!(e.expires.to_string(), "2026-06-14");
    }
    assert_eq!(
        r.warnings,
        vec!["s.toml:1:1: suppression expired on 2026-06-14 and no longer hides 2 finding(s) (reason: temporary exception)"]
    );
    // On its expiry day it still applies.
    let s =
        suppressions("[[suppression]]\ncheck = \"no-ssh\"\nreason = \"r\"\nexpires = 2026-06-15\n");
    let r = build(Opts {
        suppressions: Some(&s),
        ..plain()
    });
    assert_eq!(r.summary.suppressed, 2);
}

#[test]
fn suppression_mistakes_are_all_reported_with_locations() {
    let text = r#"[[suppression]]
chek = "no-ssh"
reason = ""
expires = 2026-13-01

[[suppression]]
reason = "no criterion"
expires = "next week"

[[suppresion]]
"#;
    let err = Suppressions::parse(Path::new("s.toml"), text).unwrap_err();
    let got: Vec<String> = err.errors.iter().map(|e| e.to_string()).collect();
    assert!(
        got.iter()
            .any(|e| e.starts_with("s.toml:4:11: invalid TOML")),
        "{got:#?}"
    );
    let text = text.replace("2026-13-01", "2026-12-01");
    let err = Suppressions::parse(Path::new("s.toml"), &text).unwrap_err();
    let got: Vec<String> = err.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        got,
        vec![
            "s.toml:1:1: this suppression has no `check`, `resource` or `tag` (one with none would hide every finding)",
            "s.toml:2:1: unknown key `chek` in a suppression (did you mean `check`?)",
            "s.toml:3:10: `reason` is empty (say why the risk is accepted, and who accepted it)",
            "s.toml:6:1: this suppression has no `check`, `resource` or `tag` (one with none would hide every finding)",
            "s.toml:8:11: `expires` expects a date like `2026-12-31`, found `next week`",
            "s.toml:10:3: unknown key `suppresion` in a suppressions file (did you mean `suppression`?)",
        ]
    );
    let err =
        Suppressions::parse(Path::new("s.toml"), "[[suppression]]\ncheck = \"x\"\n").unwrap_err();
    assert_eq!(
        err.errors[0].to_string(),
        "s.toml:1:1: this suppression has no `reason`, `expires`"
    );
}

#[test]
fn tags_come_from_enis_and_their_instances() {
    let snap = vpcreach::Snapshot::from_json_str(
        r#"{
        "NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "TagSet": [{"Key": "Name", "Value": "a"}],
                               "Attachment": {"InstanceId": "i-1"}}],
        "Reservations": [{"Instances": [{"InstanceId": "i-1", "Tags": [{"Key": "Team", "Value": "data"}]}]}],
        "SecurityGroups": [{"GroupId": "sg-1", "GroupName": "x", "Tags": [{"Key": "Env", "Value": "prod"}]}]
    }"#,
    )
    .unwrap();
    let t = ResourceTags::from_snapshot(&snap);
    assert!(t.has("eni-1", "Name", Some("a")));
    assert!(t.has("eni-1", "Team", Some("data")));
    assert!(t.has("eni-1", "Team", None));
    assert!(!t.has("eni-1", "Team", Some("web")));
    assert!(t.has("i-1", "Team", Some("data")));
    assert!(t.has("sg-1", "Env", Some("prod")));
    assert!(!t.has("eni-2", "Team", None));
    assert_eq!(t.instance_of("eni-1"), Some("i-1"));
    let _ = day("2026-01-01");
}
