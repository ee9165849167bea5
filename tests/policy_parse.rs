//! The policy language: every statement kind and selector as written in TOML, and mistakes
//! reported all together with their exact file, line, column and help.

use std::path::Path;
use vpcreach::policy::{Kind, Mode, PolicyFile, PolicySet, Selector, Severity, Traffic};
use vpcreach::Protocol;

fn parse(text: &str) -> PolicyFile {
    match PolicyFile::parse(Path::new("p.toml"), text) {
        Ok(f) => f,
        Err(e) => panic!("{:#?}", e.errors),
    }
}

/// The errors of a file, each as `line:column: message (help)`.
fn errors(text: &str) -> Vec<String> {
    match PolicyFile::parse(Path::new("p.toml"), text) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e
            .errors
            .iter()
            .map(|e| {
                let mut s = format!("{}:{}: {}", e.location.line, e.location.column, e.message);
                if let Some(h) = &e.help {
                    s.push_str(&format!(" ({h})"));
                }
                s
            })
            .collect(),
    }
}

const STATEMENT: &str = r#"
[[statement]]
id = "s1"
description = "words"
severity = "high"
kind = "KIND"
from = "internet"
to = "any"
traffic = "tcp/22"
"#;

#[test]
fn every_statement_kind() {
    for (word, kind) in [
        ("deny", Kind::Deny),
        ("require", Kind::Require),
        ("allow", Kind::Allow),
    ] {
        let f = parse(&STATEMENT.replace("KIND", word));
        let s = &f.statements[0];
        assert_eq!(s.kind, kind);
        assert_eq!(s.id, "s1");
        assert_eq!(s.description, "words");
        assert_eq!(s.severity, Severity::High);
        assert_eq!(s.from, vec!["internet"]);
        assert_eq!(s.to, vec!["any"]);
        assert_eq!(s.traffic[0].to_string(), "tcp/22");
        assert_eq!((s.location.line, s.location.column), (2, 1));
    }
}

#[test]
fn allow_statements_may_leave_out_severity() {
    let f = parse(
        &STATEMENT
            .replace("KIND", "allow")
            .replace("severity = \"high\"\n", ""),
    );
    assert_eq!(f.statements[0].severity, Severity::Low);
    let e = errors(
        &STATEMENT
            .replace("KIND", "deny")
            .replace("severity = \"high\"\n", ""),
    );
    assert_eq!(e, vec!["2:1: statement `s1` has no `severity`"]);
}

#[test]
fn severities_modes_and_lists() {
    for (word, sev) in [
        ("low", Severity::Low),
        ("medium", Severity::Medium),
        ("high", Severity::High),
        ("critical", Severity::Critical),
    ] {
        let f = parse(
            &STATEMENT
                .replace("KIND", "deny")
                .replace("\"high\"", &format!("\"{word}\"")),
        );
        assert_eq!(f.statements[0].severity, sev);
    }
    let f = parse(&format!(
        "mode = \"allowlist\"\nunlisted_severity = \"high\"\n[groups.web]\ntags = \"Tier=web\"\n[groups.db]\ntags = \"Tier=db\"\n{}",
        STATEMENT
            .replace("KIND", "allow")
            .replace("from = \"internet\"", "from = [\"internet\", \"web\"]")
            .replace("to = \"any\"", "to = [\"db\"]")
            .replace("traffic = \"tcp/22\"", "traffic = [\"tcp/5432\", \"udp/53\", \"tcp/1024-65535\", \"icmp\", \"all\"]")
    ));
    assert_eq!(f.mode, Mode::Allowlist);
    assert_eq!(f.unlisted_severity, Severity::High);
    let s = &f.statements[0];
    assert_eq!(s.from, vec!["internet", "web"]);
    assert_eq!(s.to, vec!["db"]);
    let traffic: Vec<String> = s.traffic.iter().map(Traffic::to_string).collect();
    assert_eq!(
        traffic,
        ["tcp/5432", "udp/53", "tcp/1024-65535", "icmp", "all"]
    );
    assert_eq!(s.traffic[4].protocol, Protocol::All);
    assert_eq!(parse("").mode, Mode::Denylist);
}

#[test]
fn every_selector() {
    let f = parse(
        r#"
[groups.everything]
security_groups = ["sg-0123456789abcdef0", "web-sg"]
tags = ["Tier=web", "Team"]
subnets = "subnet-0159ec2fddce7b80c"
vpcs = "vpc-0bf0174f4733eeaf8"
enis = "eni-0de1a09baeda39360"
instances = "i-09c59af6d96b75e39"
cidrs = ["10.0.0.0/16", "2001:db8::/32"]
prefix_lists = "pl-02cd2c6b"
"#,
    );
    let g = &f.groups[0];
    assert_eq!(g.name, "everything");
    assert_eq!((g.location.line, g.location.column), (2, 1));
    assert_eq!(
        g.selectors,
        vec![
            Selector::SecurityGroup("sg-0123456789abcdef0".into()),
            Selector::SecurityGroup("web-sg".into()),
            Selector::Tag {
                key: "Tier".into(),
                value: Some("web".into())
            },
            Selector::Tag {
                key: "Team".into(),
                value: None
            },
            Selector::Subnet("subnet-0159ec2fddce7b80c".into()),
            Selector::Vpc("vpc-0bf0174f4733eeaf8".into()),
            Selector::Eni("eni-0de1a09baeda39360".into()),
            Selector::Instance("i-09c59af6d96b75e39".into()),
            Selector::Cidr("10.0.0.0/16".parse().unwrap()),
            Selector::Cidr("2001:db8::/32".parse().unwrap()),
            Selector::PrefixList("pl-02cd2c6b".into()),
        ]
    );
    // Each selector knows where it is written.
    let l: Vec<(usize, usize)> = g
        .selector_locations
        .iter()
        .map(|l| (l.line, l.column))
        .collect();
    assert_eq!(l[0], (3, 20));
    assert_eq!(l[1], (3, 44));
    assert_eq!(l[4], (5, 11));
}

#[test]
fn built_in_groups() {
    let f = parse("");
    assert_eq!(
        f.group("internet").map(|g| g.selectors),
        Some(vec![Selector::Internet])
    );
    assert_eq!(
        f.group("any").map(|g| g.selectors),
        Some(vec![Selector::Any])
    );
    assert_eq!(f.group("web"), None);
}

#[test]
fn several_mistakes_in_one_file_are_reported_together() {
    let text = r#"mode = "allowlst"

[groups.web]
tags = "Tier=web"
subnet = "subnet-0159ec2fddce7b80c"

[groups.db]
cidrs = ["10.0.3.5/24", "10.0.3.7"]
enis = "i-0490966ced8ad8194"

[[statement]]
id = "no-ssh"
description = "no SSH from the internet"
severity = "hgih"
kind = "deny"
form = "internet"
to = ["wbe", "db"]
traffic = ["tpc/22", "tcp/80-22", "icmp/8", "tcp/70000"]
"#;
    assert_eq!(
        errors(text),
        vec![
            "1:8: `mode` expects `denylist` or `allowlist`, found `allowlst` (did you mean `allowlist`?)",
            "5:1: unknown key `subnet` in group `web` (did you mean `subnets`?)",
            "8:10: `10.0.3.5/24` has bits set after its prefix length (did you mean `10.0.3.0/24`?)",
            "8:25: `10.0.3.7` is not a CIDR: expected e.g. `10.0.0.0/16` or `2001:db8::/32` (did you mean `10.0.3.7/32`?)",
            "9:8: `i-0490966ced8ad8194` is not an ENI id (it looks like an id for `instances`: move it there)",
            "11:1: statement `no-ssh` has no `from`",
            "14:12: `severity` expects `low`, `medium`, `high` or `critical`, found `hgih` (did you mean `high`?)",
            "16:1: unknown key `form` in a statement (did you mean `from`?)",
            "17:7: unknown group `wbe` (did you mean `web`?)",
            "18:12: `tpc/22` is not a protocol: expected `tcp/PORT`, `udp/PORT`, `tcp/FROM-TO`, `icmp`, `icmpv6`, `all` or a protocol number (did you mean `tcp/22`?)",
            "18:22: `tcp/80-22`: the port range is reversed (did you mean `tcp/22-80`?)",
            "18:35: `icmp/8`: `icmp` has no ports (did you mean `icmp`?)",
            "18:45: `tcp/70000`: `70000` is not a port: expected a number from 0 to 65535",
        ]
    );
}

#[test]
fn syntax_errors_are_located_and_do_not_hide_the_others() {
    let text = "[[statement]]\nid = \"a\"\ntraffic = tcp/22\nkind = \"deni\"\n";
    let e = errors(text);
    assert!(e.contains(&"3:11: invalid TOML: invalid boolean, expected `true` (text is written in quotes: `\"tcp/22\"`)".to_string()), "{e:#?}");
    assert!(e.contains(&"4:8: `kind` expects `deny`, `require` or `allow`, found `deni` (did you mean `deny`?)".to_string()), "{e:#?}");
    // The statement lacks keys, but a broken line may be the cause: no "missing key" noise.
    assert!(!e.iter().any(|m| m.contains("has no")), "{e:#?}");
    let e = errors("mode = \"denylist\"\nmode = \"allowlist\"\n");
    assert_eq!(e, vec!["2:1: duplicate key `mode`"]);
}

#[test]
fn top_level_and_type_mistakes() {
    let e = errors("[[statements]]\nid = \"x\"\n");
    assert_eq!(
        e,
        vec!["1:3: unknown key `statements` in a policy file (did you mean `statement`?)"]
    );
    let e = errors("[groups.internet]\ntags = \"a\"\n[groups.empty]\n[groups.bad]\ntags = 3\n");
    assert_eq!(
        e,
        vec![
            "1:9: group `internet` is built in and cannot be redefined (choose another name)",
            "3:1: group `empty` selects nothing (add one of `security_groups`, `tags`, `subnets`, `vpcs`, `enis`, `instances`, `cidrs` or `prefix_lists`)",
            "5:8: `tags` expects a tag `Key=Value` (or `Key` for any value) or a list of them, found an integer",
        ]
    );
    let e = errors(
        &STATEMENT
            .replace("KIND", "deny")
            .replace("\"s1\"", "\"s 1\"")
            .replace("to = \"any\"", "to = []"),
    );
    assert_eq!(
        e,
        vec![
            "3:6: `s 1` is not a valid statement id: expected letters, digits, `-`, `_`, `.` or `:`",
            "8:6: `to` is empty: expected a group name or a list of group names",
        ]
    );
}

#[test]
fn duplicate_ids_in_a_file_and_across_files() {
    let one = STATEMENT.replace("KIND", "deny");
    let e = errors(&format!("{one}{one}"));
    assert_eq!(
        e,
        vec!["11:1: duplicate statement id `s1` (it is first used at line 2)"]
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), &one).unwrap();
    std::fs::create_dir(dir.path().join("team")).unwrap();
    std::fs::write(dir.path().join("team/b.toml"), &one).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a policy").unwrap();
    let err = PolicySet::load(dir.path()).unwrap_err();
    assert_eq!(err.errors.len(), 1);
    let shown = err.errors[0].to_string();
    assert!(shown.ends_with(&format!(
        "b.toml:2:1: duplicate statement id `s1` (it is first used at {}:2:1; ids are unique across all policy files)",
        dir.path().join("a.toml").display()
    )), "{shown}");
}

#[test]
fn a_folder_reads_every_toml_file_sorted() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("b.toml"),
        STATEMENT.replace("KIND", "deny").replace("s1", "b"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("a.toml"),
        STATEMENT.replace("KIND", "require").replace("s1", "a"),
    )
    .unwrap();
    let set = PolicySet::load(dir.path()).unwrap();
    let ids: Vec<&str> = set.statements().map(|(_, s)| s.id.as_str()).collect();
    assert_eq!(ids, ["a", "b"]);
    let empty = tempfile::tempdir().unwrap();
    let err = PolicySet::load(empty.path()).unwrap_err();
    assert_eq!(
        err.errors[0].message,
        "no `.toml` policy file in this folder"
    );
}
