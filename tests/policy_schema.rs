//! `policies/schema.json` describes the policy format for editors: the shipped baseline policy
//! validates against it (and loads without a mistake), broken policies do not.

use serde_json::Value;
use std::path::Path;

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string("policies/schema.json").unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

/// A policy file as JSON, the way an editor's TOML language server sees it.
fn as_json(toml_text: &str) -> Value {
    let value: toml::Value = toml::from_str(toml_text).unwrap();
    serde_json::to_value(value).unwrap()
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{}: {}", e.instance_path(), e))
        .collect()
}

#[test]
fn the_baseline_policy_validates_and_loads() {
    let v = schema();
    let text = std::fs::read_to_string("policies/baseline.toml").unwrap();
    let json = as_json(&text);
    assert_eq!(errors(&v, &json), Vec::<String>::new());

    let set = vpcreach::policy::PolicySet::load(Path::new("policies")).unwrap();
    let ids: Vec<&str> = set.statements().map(|(_, s)| s.id.as_str()).collect();
    for expected in [
        "cis-5.2-ssh-from-internet",
        "cis-5.2-rdp-from-internet",
        "internet-mysql",
        "internet-postgresql",
        "internet-redis",
        "internet-memcached",
        "internet-mongodb",
        "internet-telnet",
        "internet-windows-rpc-smb",
        "internet-docker-api",
    ] {
        assert!(ids.contains(&expected), "{expected} missing from {ids:?}");
    }
    // Every baseline statement is a `deny` from the internet with a description.
    for (_, s) in set.statements() {
        assert_eq!(s.kind, vpcreach::policy::Kind::Deny, "{}", s.id);
        assert_eq!(s.from, vec!["internet"], "{}", s.id);
        assert!(!s.description.is_empty());
    }
}

#[test]
fn a_full_policy_validates() {
    let v = schema();
    let json = as_json(
        r#"
mode = "allowlist"
unlisted_severity = "low"
[groups.web]
security_groups = ["sg-0123456789abcdef0", "web"]
tags = "Tier=web"
cidrs = ["10.0.1.0/24", "2600:1f18::/56"]
[groups.db]
subnets = "subnet-0be1b8313d05298ec"
[[statement]]
id = "web-to-db"
description = "the web tier reaches the database"
severity = "high"
kind = "require"
from = "web"
to = ["db"]
traffic = ["tcp/5432", "icmp", "udp/1024-65535"]
[[statement]]
id = "https-in"
description = "HTTPS from anywhere is intended"
kind = "allow"
from = "internet"
to = "web"
traffic = "tcp/443"
"#,
    );
    assert_eq!(errors(&v, &json), Vec::<String>::new());
}

#[test]
fn broken_policies_do_not_validate() {
    let v = schema();
    let base = r#"
[[statement]]
id = "x"
description = "d"
severity = "high"
kind = "deny"
from = "internet"
to = "any"
traffic = "tcp/22"
"#;
    assert!(v.is_valid(&as_json(base)));
    for (broken, why) in [
        (base.replace("\"deny\"", "\"forbid\""), "unknown kind"),
        (base.replace("\"high\"", "\"hgih\""), "unknown severity"),
        (
            base.replace("\"tcp/22\"", "\"tcp:22\""),
            "malformed traffic",
        ),
        (
            base.replace("from = ", "form = "),
            "misspelt key and missing `from`",
        ),
        (
            base.replace("severity = \"high\"\n", ""),
            "deny without severity",
        ),
        (
            base.replace("to = \"any\"", "to = []"),
            "empty destination list",
        ),
        (format!("mode = \"allowlst\"\n{base}"), "unknown mode"),
        (
            format!("[groups.web]\nsubnet = \"subnet-1\"\n{base}"),
            "unknown selector",
        ),
        (
            format!("[groups.web]\nenis = \"i-1\"\n{base}"),
            "instance id under `enis`",
        ),
        (
            format!("[groups.internet]\ntags = \"a\"\n{base}"),
            "redefined built-in group",
        ),
        (format!("[groups.web]\n{base}"), "empty group"),
    ] {
        assert!(!v.is_valid(&as_json(&broken)), "{why} should not validate");
    }
}
