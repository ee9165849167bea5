//! The human and Markdown renderers on findings built by hand: untrusted AWS text is escaped,
//! colour appears only when asked for, and the sections a reader expects are there.

use std::path::Path;
use vpcreach::audit::analysis::AuditResult;
use vpcreach::audit::report::{Baseline, Day, Report, ReportOptions, ResourceTags, Suppressions};
use vpcreach::audit::{Finding, FindingStatus, Witness};
use vpcreach::policy::{PolicyFile, PolicySet, Severity};
use vpcreach::render::audit::{human, json, markdown};

/// A name an attacker could give a security group or tag, or put in a description.
const HOSTILE: &str =
    "x|y `z` <script>alert(1)</script> [link](http://e.vil) @everyone\n# heading \u{1b}[31mred";

fn report() -> Report {
    let hostile = |check: &str, severity, status| Finding {
        id: Finding::fingerprint(check, status, &["eni-1".into()]),
        check: check.into(),
        severity,
        status,
        resources: vec!["eni-1".into(), format!("sg-1 ({HOSTILE})")],
        witness: Some(Witness {
            src: "203.0.113.9".into(),
            dst: "54.0.0.1".into(),
            protocol: "tcp".into(),
            port: Some(22),
        }),
        because: vec![format!("sg-1 rule tcp/22 from 0.0.0.0/0 ({HOSTILE})")],
        message: format!("exposed: {HOSTILE}"),
        ..Default::default()
    };
    let policy = "[[statement]]\nid = \"no-ssh\"\ndescription = \"no *SSH* from the internet\"\nseverity = \"critical\"\nkind = \"deny\"\nfrom = \"internet\"\nto = \"any\"\ntraffic = \"tcp/22\"\n";
    let policies = PolicySet {
        files: vec![PolicyFile::parse(Path::new("p.toml"), policy).unwrap()],
        ..PolicySet::default()
    };
    let result = AuditResult {
        findings: vec![
            hostile("no-ssh", Severity::Critical, FindingStatus::Exposed),
            hostile("no-rdp", Severity::Low, FindingStatus::Latent),
            hostile("no-ftp", Severity::Medium, FindingStatus::Exposed),
        ],
        statements: 1,
        interfaces: 1,
        notes: vec!["header space: boxes".into()],
        errors: vec![],
        warnings: vec![],
        ..Default::default()
    };
    let baseline = Baseline::parse(
        Path::new("b.json"),
        r#"{"findings": [{"id": "0123456789abcdef", "check": "gone", "severity": "high", "message": "it was | bad"}]}"#,
    )
    .unwrap();
    let suppressions = Suppressions::parse(
        Path::new("s.toml"),
        &format!(
            "[[suppression]]\ncheck = \"no-rdp\"\nreason = {:?}\nexpires = 2999-01-01\n",
            "risk | accepted @ops <b>"
        ),
    )
    .unwrap();
    Report::build(
        result,
        &policies,
        ReportOptions {
            fail_on: Severity::Medium,
            today: Day::today(),
            baseline: Some(&baseline),
            suppressions: Some(&suppressions),
            tags: &ResourceTags::default(),
        },
    )
}

/// The text of a Markdown document outside its code spans (escaped backticks are text).
fn outside_code(md: &str) -> String {
    let mut out = String::new();
    let (mut code, mut escaped) = (false, false);
    for c in md.chars() {
        match c {
            '`' if !escaped => code = !code,
            _ if !code => out.push(c),
            _ => {}
        }
        escaped = c == '\\' && !escaped;
    }
    assert!(!code, "unbalanced code span");
    out
}

#[test]
fn markdown_escapes_untrusted_text() {
    let md = markdown::report(&report());
    assert!(md.starts_with("# vpcreach audit\n\n❌ **Fail**: 2 finding(s) at or above `medium`, new since the baseline\n"), "{md}");
    // Outside code spans (where Markdown shows text as is), no raw HTML, link, mention,
    // heading or control character survives.
    let prose = outside_code(&md);
    assert!(!prose.contains("<script>"), "{prose}");
    assert!(!prose.contains("<b>"));
    assert!(
        !prose.contains("[link](http"),
        "a link text and target stay escaped"
    );
    assert!(!prose.contains("@everyone") && !prose.contains("@ops"));
    assert!(!md.contains('\u{1b}'));
    assert!(!md.contains("\n# heading"));
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(md.contains("\\[link\\](http://e.vil)"));
    assert!(md.contains("&#64;everyone"));
    // Ids in code spans cannot close the span early or break a table row.
    assert!(md.contains("`sg-1 (x\\|y 'z' <script>"), "{md}");
    // Sections.
    for heading in [
        "## Critical (1)",
        "## Medium (1)",
        "## Suppressed (1)",
        "## Resolved since the baseline (1)",
        "## Notes",
        "<details><summary>Checks (",
    ] {
        assert!(md.contains(heading), "{heading} missing:\n{md}");
    }
    assert!(md.contains("| low | `no-rdp` |"), "{md}");
    assert!(md.contains("risk \\| accepted &#64;ops &lt;b&gt;"), "{md}");
    assert!(md.contains("| high | `gone` |  | it was \\| bad |"), "{md}");
    assert!(md.contains("- **Witness:** `203.0.113.9` → `54.0.0.1` `tcp/22`"));
    assert!(
        md.contains("| `no-ssh` | deny | critical | no \\*SSH\\* from the internet |"),
        "{md}"
    );
    // Every table row has as many cells as its header.
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        let cells = line.replace("\\|", "").matches('|').count();
        assert!(matches!(cells, 3 | 5 | 6), "{line}");
    }
}

#[test]
fn human_output_is_colourless_unless_asked_and_strips_escapes() {
    let r = report();
    let plain = human::report(&r, false);
    assert!(!plain.contains('\u{1b}'), "{plain}");
    assert!(plain.starts_with("SEVERITY"));
    assert!(plain.contains("critical"));
    assert!(plain.contains("witness: 203.0.113.9 -> 54.0.0.1 tcp/22"));
    assert!(plain.contains("suppressed (1):"));
    assert!(plain.contains("resolved since the baseline (1):"));
    assert!(plain.contains("fail: 2 finding(s) at or above `medium` and new since the baseline"));
    assert!(plain.contains("NEW") && plain.contains("FAIL"));
    let coloured = human::report(&r, true);
    assert!(coloured.contains("\u{1b}[1;31mcritical"));
    // The only escapes are the renderer's own colours: the hostile one became `?`.
    assert!(coloured.contains("?[31mred"));
}

#[test]
fn json_is_the_documented_envelope() {
    let v: serde_json::Value = serde_json::from_str(&json::report(&report())).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["complete", "errors", "findings", "resolved", "summary", "warnings"]
    );
    assert_eq!(v["complete"], true);
    let f = &v["findings"][0];
    for k in [
        "id",
        "check",
        "severity",
        "status",
        "resources",
        "witness",
        "because",
        "message",
        "baseline",
        "failing",
    ] {
        assert!(f.get(k).is_some(), "{k} missing in {f}");
    }
    let suppressed = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "no-rdp")
        .unwrap();
    assert_eq!(
        suppressed["suppressed"]["reason"],
        "risk | accepted @ops <b>"
    );
    assert_eq!(suppressed["suppressed"]["expires"], "2999-01-01");
    assert_eq!(v["summary"]["baseline"]["resolved"], 1);
    assert_eq!(v["summary"]["by_severity"]["critical"], 1);
    assert_eq!(v["summary"]["by_status"]["exposed"], 2);
    assert_eq!(v["summary"]["notes"][0], "header space: boxes");
}
