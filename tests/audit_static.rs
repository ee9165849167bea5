//! The static audit through the real model and query engine, with policies built in code (the
//! policy files are tested in `policy_*.rs`).

mod common;

use common::*;
use serde_json::json;
use std::path::PathBuf;
use vpcreach::audit::analysis::{observed_audit, static_audit, FlowOptions};
use vpcreach::audit::{Finding, FindingStatus};
use vpcreach::policy::{
    Group, Kind, Location, Mode, PolicyFile, PolicySet, Selector, Severity, Statement, Traffic,
};
use vpcreach::{Network, PortRange, Protocol, Snapshot};

fn traffic(p: &str, from: u16, to: u16) -> Traffic {
    Traffic {
        protocol: p.parse::<Protocol>().unwrap(),
        ports: PortRange { from, to },
    }
}

fn stmt(id: &str, kind: Kind, from: &str, to: &str, t: Vec<Traffic>) -> Statement {
    Statement {
        id: id.into(),
        description: id.into(),
        severity: Severity::High,
        kind,
        from: vec![from.into()],
        to: vec![to.into()],
        traffic: t,
        location: Location::default(),
    }
}

fn set(mode: Mode, groups: Vec<Group>, statements: Vec<Statement>) -> PolicySet {
    PolicySet {
        files: vec![PolicyFile {
            path: PathBuf::from("test.toml"),
            mode,
            unlisted_severity: Severity::Medium,
            groups,
            statements,
        }],
        ..PolicySet::default()
    }
}

fn group(name: &str, selectors: Vec<Selector>) -> Group {
    Group {
        name: name.into(),
        selectors,
        selector_locations: vec![],
        location: Location::default(),
    }
}

fn of<'a>(f: &'a [Finding], check: &str, status: FindingStatus) -> Vec<&'a Finding> {
    f.iter()
        .filter(|x| x.check == check && x.status == status)
        .collect()
}

#[test]
fn internet_exposure_is_exposed_or_latent_with_witness_and_rules() {
    let mut v = base();
    // sg-web (443 from anywhere) also on app, which has no public address: latent there.
    find(&mut v, "NetworkInterfaces", "NetworkInterfaceId", "eni-app")["Groups"] =
        json!([{"GroupId": "sg-app"}, {"GroupId": "sg-web"}]);
    let net = build(&v);
    let p = set(
        Mode::Denylist,
        vec![],
        vec![stmt(
            "no-https-from-internet",
            Kind::Deny,
            "internet",
            "any",
            vec![traffic("tcp", 443, 443)],
        )],
    );
    let r = static_audit(&net, &p);
    let exposed = of(
        &r.findings,
        "no-https-from-internet",
        FindingStatus::Exposed,
    );
    assert_eq!(exposed.len(), 1, "{:#?}", r.findings);
    let e = exposed[0];
    // Grouped by cause (issue 18): the security group and its rule that let it in (the thing to
    // fix, issue 12), and the ENI it reaches.
    assert_eq!(e.enis, vec!["eni-web".to_string()]);
    assert_eq!(e.eni_count, 1);
    assert_eq!(e.resources[0], "sg-web");
    assert!(
        e.resources[1].starts_with("inbound rule tcp/443 from "),
        "{:?}",
        e.resources
    );
    assert!(e.message.contains("to fix: remove rule"), "{}", e.message);
    assert_eq!(e.severity, Severity::High);
    let w = e.witness.as_ref().unwrap();
    assert_eq!((w.protocol.as_str(), w.port), ("tcp", Some(443)));
    assert!(
        e.because.iter().any(|b| b.contains("sg-web")),
        "{:?}",
        e.because
    );
    let latent = of(&r.findings, "no-https-from-internet", FindingStatus::Latent);
    assert_eq!(latent.len(), 1, "{:#?}", r.findings);
    // A latent finding names the security-group rule that is open (issue 12, item 3).
    assert_eq!(latent[0].enis, vec!["eni-app".to_string()]);
    assert_eq!(latent[0].resources[0], "sg-web");
    assert!(
        latent[0].because[0].contains("sg-web inbound rule"),
        "{:?}",
        latent[0].because
    );
    assert_eq!(latent[0].severity, Severity::Medium);
    assert!(
        latent[0].message.contains("stopped"),
        "{}",
        latent[0].message
    );
    // Stable ids.
    let again = static_audit(&net, &p);
    assert_eq!(r.findings, again.findings);
}

#[test]
fn nacl_rule_makes_it_latent_and_only_the_open_part_is_exposed() {
    let mut v = base();
    // The NACL denies 443 from everywhere but 198.51.100.0/24, by rule order.
    find(&mut v, "NetworkAcls", "NetworkAclId", "acl-default")["Entries"] = json!([
        {"RuleNumber": 10, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "198.51.100.0/24", "PortRange": {"From": 443, "To": 443}},
        {"RuleNumber": 20, "Protocol": "6", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 443, "To": 443}},
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"}]);
    let net = build(&v);
    let p = set(
        Mode::Denylist,
        vec![],
        vec![stmt(
            "s",
            Kind::Deny,
            "internet",
            "any",
            vec![traffic("tcp", 443, 443)],
        )],
    );
    let r = static_audit(&net, &p);
    let e = of(&r.findings, "s", FindingStatus::Exposed);
    assert_eq!(e.len(), 1, "{:#?}", r.findings);
    // The witness comes from the only open part.
    assert!(
        e[0].witness
            .as_ref()
            .unwrap()
            .src
            .starts_with("198.51.100."),
        "{:?}",
        e[0].witness
    );
    // Close it too: now latent, and the blocker is the NACL rule.
    let acl = find(&mut v, "NetworkAcls", "NetworkAclId", "acl-default");
    acl["Entries"].as_array_mut().unwrap().remove(0);
    let net = build(&v);
    let r = static_audit(&net, &p);
    assert!(
        of(&r.findings, "s", FindingStatus::Exposed).is_empty(),
        "{:#?}",
        r.findings
    );
    let l = of(&r.findings, "s", FindingStatus::Latent);
    assert_eq!(l.len(), 1);
    assert!(
        l[0].because.iter().any(|b| b.contains("rule 20")),
        "{:?}",
        l[0].because
    );
}

#[test]
fn eni_sources_require_and_unknown() {
    let v = base();
    let net = build(&v);
    let groups = vec![
        group("web", vec![Selector::SecurityGroup("web".into())]),
        group("db", vec![Selector::Eni("eni-db".into())]),
        group("app", vec![Selector::SecurityGroup("sg-app".into())]),
    ];
    let p = set(
        Mode::Denylist,
        groups.clone(),
        vec![
            stmt(
                "web-not-to-db",
                Kind::Deny,
                "web",
                "db",
                vec![traffic("tcp", 5432, 5432)],
            ),
            stmt(
                "app-to-db",
                Kind::Require,
                "app",
                "db",
                vec![traffic("tcp", 5432, 5432)],
            ),
            stmt(
                "web-to-db",
                Kind::Require,
                "web",
                "db",
                vec![traffic("tcp", 5432, 5432)],
            ),
            stmt(
                "app-not-to-db",
                Kind::Deny,
                "app",
                "db",
                vec![traffic("tcp", 5432, 5432)],
            ),
        ],
    );
    let r = static_audit(&net, &p);
    // web → db is not allowed by sg-db: no finding for the deny; the require fails with the rule.
    assert!(
        r.findings.iter().all(|f| f.check != "web-not-to-db"),
        "{:#?}",
        r.findings
    );
    let b = of(&r.findings, "web-to-db", FindingStatus::Blocked);
    assert_eq!(b.len(), 1);
    assert!(
        b[0].message.contains("ENI_SG_RULES_MISMATCH") || b[0].message.contains("no rule"),
        "{}",
        b[0].message
    );
    assert!(
        of(&r.findings, "app-to-db", FindingStatus::Blocked).is_empty(),
        "{:#?}",
        r.findings
    );
    assert_eq!(
        of(&r.findings, "app-not-to-db", FindingStatus::Exposed).len(),
        1
    );
    // An unresolvable reference makes the statement unknown for that ENI, never a pass.
    let mut v2 = base();
    find(&mut v2, "SecurityGroups", "GroupId", "sg-db")["IpPermissions"] = json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": "sg-missing"}]}]);
    let r = static_audit(&build(&v2), &p);
    assert_eq!(
        of(&r.findings, "web-not-to-db", FindingStatus::Unknown).len(),
        1,
        "{:#?}",
        r.findings
    );
}

#[test]
fn allowlist_mode_and_default_groups() {
    let mut v = base();
    v["SecurityGroups"].as_array_mut().unwrap().push(
        json!({"GroupId": "sg-def", "GroupName": "default", "VpcId": "vpc-a",
        "IpPermissions": [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-def"}]}],
        "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}),
    );
    let net = build(&v);
    let groups = vec![
        group("web", vec![Selector::Eni("eni-web".into())]),
        group("app", vec![Selector::Eni("eni-app".into())]),
        group("apps", vec![Selector::SecurityGroup("app".into())]),
        group("db", vec![Selector::Eni("eni-db".into())]),
    ];
    let p = set(
        Mode::Allowlist,
        groups,
        vec![
            stmt(
                "web-https",
                Kind::Allow,
                "internet",
                "web",
                vec![traffic("tcp", 443, 443)],
            ),
            stmt(
                "web-to-app",
                Kind::Allow,
                "web",
                "apps",
                vec![traffic("tcp", 8080, 8080)],
            ),
        ],
    );
    let r = static_audit(&net, &p);
    let na = of(
        &r.findings,
        "allowlist:test.toml",
        FindingStatus::NotAllowed,
    );
    // db accepts 5432 from app: not covered by any allow.
    assert!(
        na.iter().any(|f| f.enis.contains(&"eni-db".to_string())),
        "{:#?}",
        r.findings
    );
    // web's group allows 443 from 0.0.0.0/0, which includes the VPC: only the internet is allowed.
    let web = na
        .iter()
        .find(|f| f.enis.contains(&"eni-web".to_string()))
        .expect("web flagged");
    let w = web.witness.as_ref().unwrap();
    assert!(w.src.starts_with("10.0."), "{w:?}");
    assert_eq!(w.port, Some(443));
    assert!(
        !na.iter().any(|f| f.enis.contains(&"eni-app".to_string())),
        "{:#?}",
        na
    );
    let d = of(
        &r.findings,
        "default-security-group",
        FindingStatus::DefaultSecurityGroupInUse,
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].resources, vec!["sg-def".to_string()]);
}

#[test]
fn example_network_internet_ssh_and_database() {
    let snap = Snapshot::load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/network"))
        .unwrap();
    let net = Network::build(&snap);
    let p = set(
        Mode::Denylist,
        vec![],
        vec![
            stmt(
                "no-ssh-from-internet",
                Kind::Deny,
                "internet",
                "any",
                vec![traffic("tcp", 22, 22)],
            ),
            stmt(
                "no-db-from-internet",
                Kind::Deny,
                "internet",
                "any",
                vec![traffic("tcp", 5432, 5432)],
            ),
        ],
    );
    let r = static_audit(&net, &p);
    let e = of(&r.findings, "no-ssh-from-internet", FindingStatus::Exposed);
    // The bastion: its group allows the corp-office prefix list; the NACL denies 203.0.113.0/24
    // first, so the witness comes from 198.51.100.0/24.
    assert_eq!(e.len(), 1, "{:#?}", r.findings);
    // The ENI, then the security group whose rule lets it in (the thing to fix, issue 12), and
    // the exposure is only from the prefix list's addresses.
    assert_eq!(e[0].enis, vec!["eni-0de1a09baeda39360".to_string()]);
    assert_eq!(e[0].resources[0], "sg-01289891592a53786");
    assert!(e[0].message.contains("only from pl-"), "{}", e[0].message);
    assert!(
        e[0].witness
            .as_ref()
            .unwrap()
            .src
            .starts_with("198.51.100."),
        "{:?}",
        e[0].witness
    );
    assert!(
        r.findings.iter().all(|f| f.check != "no-db-from-internet"),
        "{:#?}",
        r.findings
    );
}

#[test]
fn observed_violations_broken_and_unused() {
    let snap_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/network");
    let net = Network::build(&Snapshot::load(&snap_dir).unwrap());
    let groups = vec![
        group("db", vec![Selector::SecurityGroup("db".into())]),
        group("app", vec![Selector::SecurityGroup("app".into())]),
        group(
            "analytics",
            vec![Selector::Cidr("10.1.0.0/16".parse().unwrap())],
        ),
    ];
    let p = set(
        Mode::Denylist,
        groups,
        vec![
            stmt(
                "no-analytics-db",
                Kind::Deny,
                "analytics",
                "db",
                vec![traffic("tcp", 5432, 5432)],
            ),
            stmt(
                "app-db",
                Kind::Require,
                "app",
                "db",
                vec![traffic("tcp", 5432, 5432)],
            ),
        ],
    );
    let flows = FlowOptions {
        paths: vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/flows")],
        format: None,
        threads: 1,
    };
    let r = observed_audit(&net, &p, &flows).unwrap();
    let v = of(&r.findings, "no-analytics-db", FindingStatus::Violation);
    assert_eq!(v.len(), 1, "{:#?}", r.findings);
    assert_eq!(v[0].witness.as_ref().unwrap().src, "10.1.1.10");
    // app → db was accepted (10.0.2.140) as well as rejected: not broken.
    assert!(
        of(&r.findings, "app-db", FindingStatus::Broken).is_empty(),
        "{:#?}",
        r.findings
    );
    assert!(of(&r.findings, "unused-rule", FindingStatus::Unused).len() > 3);
    assert!(
        r.notes.iter().any(|n| n.contains("window of 60 s")),
        "{:?}",
        r.notes
    );
}
