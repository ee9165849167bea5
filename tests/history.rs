//! History (issue 15): CloudTrail files read into typed changes, the snapshot turned back in
//! time, and `vpcreach changes` through the binary.

mod common;

use assert_cmd::Command;
use common::{base, snapshot_dir};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use vpcreach::history::{self, Change, Effect, Op, Peer, SgRule};
use vpcreach::Snapshot;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/cloudtrail")
        .join(name)
}

/// The one change a fixture holds, with the history's counts.
fn one(name: &str) -> (history::Event, history::Stats) {
    let h = history::read(&[fixture(name)]).unwrap();
    assert!(h.problems.is_empty(), "{name}: {:?}", h.problems);
    assert_eq!(h.events.len(), 1, "{name}");
    (h.events[0].clone(), h.stats)
}

fn rule(protocol: &str, from: Option<i32>, to: Option<i32>, peer: Peer) -> SgRule {
    SgRule {
        protocol: protocol.into(),
        from,
        to,
        peer,
    }
}

#[test]
fn authorize_ingress_prefers_the_rule_set_and_keeps_who_and_where() {
    let (e, _) = one("authorize-ingress.json");
    assert_eq!(e.api, "AuthorizeSecurityGroupIngress");
    assert_eq!(
        e.principal.as_deref(),
        Some("arn:aws:iam::111122223333:user/alice")
    );
    assert_eq!(e.source_ip.as_deref(), Some("198.51.100.7"));
    assert_eq!(e.region.as_deref(), Some("us-east-1"));
    assert_eq!(e.account.as_deref(), Some("111122223333"));
    assert_eq!(e.event_id, "00000001-0000-4000-8000-000000000001");
    assert_eq!(
        e.change,
        Change::Authorize {
            group_id: "sg-web".into(),
            egress: false,
            rules: vec![(
                rule(
                    "tcp",
                    Some(22),
                    Some(22),
                    Peer::Cidr4("203.0.113.0/24".into())
                ),
                Some("sgr-027eb7c59241731e0".into())
            )],
        }
    );
}

#[test]
fn the_legacy_flat_form_and_egress_are_read() {
    let (e, _) = one("authorize-ingress-flat.json");
    assert_eq!(
        e.change,
        Change::Authorize {
            group_id: "sg-db".into(),
            egress: false,
            rules: vec![(
                rule("tcp", Some(22), Some(22), Peer::Cidr4("0.0.0.0/0".into())),
                None
            )],
        }
    );
    let (e, _) = one("authorize-egress.json");
    assert_eq!(
        e.principal.as_deref(),
        Some("arn:aws:sts::111122223333:assumed-role/Admin/bob")
    );
    assert!(
        matches!(e.change, Change::Authorize { egress: true, ref group_id, .. } if group_id == "sg-app")
    );
}

#[test]
fn revokes_say_which_rules_only_when_the_response_does() {
    // EventBridge-wrapped 2019 record: no `revokedSecurityGroupRuleSet`.
    let (e, _) = one("revoke-ingress-eventbridge.json");
    match e.change {
        Change::Revoke {
            rules, requested, ..
        } => {
            assert_eq!(rules, None);
            assert_eq!(
                requested,
                vec![rule(
                    "tcp",
                    Some(443),
                    Some(443),
                    Peer::Cidr4("0.0.0.0/0".into())
                )]
            );
        }
        other => panic!("{other:?}"),
    }
    let (e, _) = one("revoke-ingress.json");
    assert!(matches!(e.change, Change::Revoke { rules: Some(ref r), .. }
        if r == &vec![rule("tcp", Some(8080), Some(8080), Peer::Group("sg-web".into()))]));
    let (e, _) = one("revoke-egress.json");
    assert!(
        matches!(e.change, Change::Revoke { egress: true, rules: Some(ref r), .. }
        if r == &vec![rule("-1", None, None, Peer::Cidr4("0.0.0.0/0".into()))])
    );
}

#[test]
fn modify_rules_and_group_lifecycle_are_read() {
    let (e, _) = one("modify-security-group-rules.json");
    assert_eq!(
        e.change,
        Change::ModifyRules {
            group_id: "sg-web".into(),
            rules: vec![(
                "sgr-027eb7c59241731e0".into(),
                rule("tcp", Some(22), Some(22), Peer::Cidr4("0.0.0.0/0".into()))
            )],
        }
    );
    let (e, _) = one("create-security-group.json");
    assert!(matches!(e.change, Change::CreateGroup { ref group_id, .. } if group_id == "sg-new"));
    let (e, _) = one("delete-security-group.json");
    assert_eq!(
        e.change,
        Change::DeleteGroup {
            group: "sg-old".into()
        }
    );
}

#[test]
fn nacl_entries_and_association_are_read() {
    let (e, _) = one("create-network-acl-entry.json");
    match e.change {
        Change::NaclEntry {
            op: Op::Create,
            entry: Some(en),
            rule_number: 50,
            egress: false,
            ..
        } => {
            assert_eq!(en.protocol, "6");
            assert_eq!(en.rule_action, "deny");
            assert_eq!(en.port_range.and_then(|p| p.from), Some(443));
        }
        other => panic!("{other:?}"),
    }
    let (e, _) = one("replace-network-acl-entry.json");
    assert!(
        matches!(e.change, Change::NaclEntry { op: Op::Replace, entry: Some(ref en), .. }
        if en.protocol == "-1" && en.port_range.is_none())
    );
    let (e, _) = one("delete-network-acl-entry.json");
    assert!(matches!(
        e.change,
        Change::NaclEntry {
            op: Op::Delete,
            entry: None,
            rule_number: 100,
            ..
        }
    ));
    let (e, _) = one("replace-network-acl-association.json");
    assert_eq!(
        e.change,
        Change::NaclAssociation {
            association_id: "aclassoc-old".into(),
            acl_id: "acl-default".into(),
            new_association_id: Some("aclassoc-new".into()),
        }
    );
}

#[test]
fn routes_and_route_table_associations_are_read() {
    let (e, _) = one("create-route.json");
    assert!(
        matches!(e.change, Change::Route { op: Op::Create, ref route, .. }
        if route.gateway_id.as_deref() == Some("igw-a") && route.destination_cidr_block.as_deref() == Some("198.51.100.0/24"))
    );
    let (e, _) = one("replace-route.json");
    assert!(
        matches!(e.change, Change::Route { op: Op::Replace, ref route, .. }
        if route.transit_gateway_id.as_deref() == Some("tgw-abc"))
    );
    let (e, _) = one("delete-route.json");
    assert!(
        matches!(e.change, Change::Route { op: Op::Delete, ref route_table_id, .. } if route_table_id == "rtb-pub")
    );
    let (e, _) = one("associate-route-table.json");
    assert!(
        matches!(e.change, Change::AssociateRouteTable { association_id: Some(ref a), .. } if a == "rtbassoc-app")
    );
    let (e, _) = one("replace-route-table-association.json");
    assert!(
        matches!(e.change, Change::ReplaceRouteTableAssociation { ref route_table_id, .. } if route_table_id == "rtb-main")
    );
    let (e, _) = one("disassociate-route-table.json");
    assert!(
        matches!(e.change, Change::DisassociateRouteTable { ref association_id } if association_id == "rtbassoc-app2")
    );
}

#[test]
fn group_sets_are_changes_and_other_attributes_are_not() {
    let (e, s) = one("modify-network-interface-attribute.json");
    assert_eq!(
        e.change,
        Change::GroupSet {
            target: "eni-app".into(),
            groups: vec!["sg-app".into(), "sg-web".into()]
        }
    );
    assert_eq!((s.records, s.applied, s.not_changes), (2, 1, 1));
    let (e, s) = one("modify-instance-attribute.json");
    assert!(matches!(e.change, Change::GroupSet { ref target, .. } if target == "i-0abc"));
    assert_eq!((s.records, s.applied, s.not_changes), (2, 1, 1));
}

#[test]
fn failed_calls_and_dry_runs_change_nothing_and_are_counted() {
    let h = history::read(&[fixture("failed-and-dry-run.json")]).unwrap();
    assert!(h.events.is_empty());
    assert_eq!(
        (h.stats.records, h.stats.failed, h.stats.dry_runs),
        (3, 3, 1)
    );
}

fn gz(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap();
}

#[test]
fn a_trail_folder_is_walked_digests_skipped_duplicates_counted_once_and_bad_records_named() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir
        .path()
        .join("AWSLogs/o-abc123/111122223333/CloudTrail/us-east-1/2024/10/14");
    let auth = std::fs::read(fixture("authorize-ingress.json")).unwrap();
    gz(
        &day.join("111122223333_CloudTrail_us-east-1_20241014T1415Z_a.json.gz"),
        &auth,
    );
    // Delivered twice.
    gz(
        &day.join("111122223333_CloudTrail_us-east-1_20241014T1420Z_b.json.gz"),
        &auth,
    );
    std::fs::copy(fixture("failed-and-dry-run.json"), day.join("c.json")).unwrap();
    std::fs::write(
        day.join("d.json"),
        r#"{"Records": [{"eventName": "CreateRoute"}, {"eventID": "x1", "eventTime": "2024-10-14T14:00:00Z", "eventSource": "ec2.amazonaws.com", "eventName": "CreateRoute", "requestParameters": {"routeTableId": "rtb-1"}}]}"#,
    )
    .unwrap();
    std::fs::write(day.join("e.json"), "{not json").unwrap();
    // A digest file is never read (its records would be malformed here).
    let digest = dir
        .path()
        .join("AWSLogs/o-abc123/111122223333/CloudTrail-Digest/us-east-1/2024/10/14/x.json.gz");
    gz(&digest, br#"{"Records": [{"bad": 1}]}"#);
    let h = history::read(&[dir.path().to_path_buf()]).unwrap();
    let s = &h.stats;
    assert_eq!(s.files, 5);
    assert_eq!(s.applied, 1);
    assert_eq!(s.duplicates, 1);
    assert_eq!(s.failed, 3);
    assert_eq!(s.malformed, 2);
    assert_eq!(
        s.records,
        s.applied + s.duplicates + s.failed + s.not_changes + s.malformed
    );
    assert!(
        h.problems
            .iter()
            .any(|p| p.contains("d.json: record 0: no `eventID`")),
        "{:?}",
        h.problems
    );
    assert!(h
        .problems
        .iter()
        .any(|p| p.contains("d.json: record 1 (event x1): no route destination")));
    assert!(
        h.problems
            .iter()
            .any(|p| p.contains("e.json:1:2: not JSON")),
        "{:?}",
        h.problems
    );
    assert!(
        h.warnings.iter().any(|w| w.contains("digest")),
        "{:?}",
        h.warnings
    );
}

fn base_snapshot() -> Snapshot {
    Snapshot::from_json_str(&base().to_string()).unwrap()
}

fn events(names: &[&str]) -> Vec<history::Event> {
    let paths: Vec<PathBuf> = names.iter().map(|n| fixture(n)).collect();
    history::read(&paths).unwrap().events
}

const LATE: i64 = 2_000_000_000;

#[test]
fn undoing_an_authorize_takes_the_rule_away_and_keeps_the_others() {
    let mut snap = base_snapshot();
    // The snapshot holds the rule the event added.
    let sg = snap
        .security_groups
        .iter_mut()
        .find(|g| g.group_id == "sg-web")
        .unwrap();
    sg.ip_permissions[0]
        .ip_ranges
        .push(vpcreach::snapshot::IpRange {
            cidr_ip: "203.0.113.0/24".into(),
            description: None,
        });
    sg.ip_permissions[0].from_port = Some(443);
    let mut with22 = sg.ip_permissions[0].clone();
    with22.from_port = Some(22);
    with22.to_port = Some(22);
    with22.ip_ranges = vpcreach::snapshot::ThinVec::from([vpcreach::snapshot::IpRange {
        cidr_ip: "203.0.113.0/24".into(),
        description: Some("ssh".into()),
    }]);
    with22.ipv6_ranges.clear();
    sg.ip_permissions.push(with22);
    let ev = events(&["authorize-ingress.json"]);
    let back = history::at(&snap, &ev, LATE, ev[0].time - 1);
    assert_eq!(back.undone, 1);
    assert!(back.unknown.is_empty());
    let sg = back
        .snapshot
        .security_groups
        .iter()
        .find(|g| g.group_id == "sg-web")
        .unwrap();
    let all: Vec<String> = sg
        .ip_permissions
        .iter()
        .flat_map(|p| {
            p.ip_ranges
                .iter()
                .map(move |r| format!("{:?} {}", p.from_port, r.cidr_ip))
        })
        .collect();
    assert_eq!(all, ["Some(443) 0.0.0.0/0", "Some(443) 203.0.113.0/24"]);
    // At the event's own time the change is in effect.
    let same = history::at(&snap, &ev, LATE, ev[0].time);
    assert_eq!(same.undone, 0);
}

#[test]
fn a_deleted_nacl_entry_of_unknown_content_is_an_entry_of_unknown_content_before_it() {
    let mut snap = base_snapshot();
    // The snapshot after the delete: no inbound rule 100.
    snap.network_acls[0]
        .entries
        .retain(|e| e.rule_number != 100 || e.egress);
    let ev = events(&["delete-network-acl-entry.json"]);
    let back = history::at(&snap, &ev, LATE, 0);
    assert_eq!(back.unknown.len(), 1);
    // Nothing is withheld: the NACL, its subnets and their ENIs stay (issue 15: only the
    // entry is unknown).
    assert!(
        back.snapshot.withheld.is_empty(),
        "{:?}",
        back.snapshot.withheld
    );
    assert_eq!(back.snapshot.subnets.len(), snap.subnets.len());
    let acl = &back.snapshot.network_acls[0];
    assert_eq!(acl.entries.len(), snap.network_acls[0].entries.len());
    let [u] = acl.unknown_entries.as_slice() else {
        panic!("{:?}", acl.unknown_entries);
    };
    assert_eq!((u.rule_number, u.egress), (100, false));
    assert!(u.why.contains("DeleteNetworkAclEntry"), "{}", u.why);
    assert!(u.why.contains(&ev[0].event_id), "{}", u.why);
    assert!(
        u.why.contains("inbound rule 100 of `acl-default`"),
        "{}",
        u.why
    );
    // In the model it is the first inbound rule, of unknown action, for both families.
    let net = vpcreach::Network::build(&back.snapshot);
    let rules = net.nacls[0].rules(vpcreach::security_group::Direction::Inbound);
    for r in &rules[..2] {
        assert_eq!(r.rule_number, 100);
        assert_eq!(r.action, vpcreach::network_acl::Action::Unknown);
        assert!(r.unknown.as_deref().unwrap_or("").contains(&ev[0].event_id));
    }
    assert!(net.withheld.is_empty());
}

#[test]
fn a_nacl_entry_created_then_deleted_in_the_history_is_undone_exactly() {
    let snap = base_snapshot();
    let mut ev = events(&["create-network-acl-entry.json"]);
    let mut del = ev[0].clone();
    del.event_id = "del-1".into();
    del.time += 60;
    del.api = "DeleteNetworkAclEntry".into();
    del.change = Change::NaclEntry {
        op: Op::Delete,
        acl_id: "acl-default".into(),
        rule_number: 50,
        egress: false,
        entry: None,
    };
    ev.push(del);
    // Between the two the entry exists; before both it does not.
    let mid = history::at(&snap, &ev, LATE, ev[0].time);
    assert!(mid.unknown.is_empty());
    let acl = &mid.snapshot.network_acls[0];
    assert!(acl
        .entries
        .iter()
        .any(|e| e.rule_number == 50 && e.rule_action == "deny"));
    let before = history::at(&snap, &ev, LATE, 0);
    assert!(before.unknown.is_empty());
    assert_eq!(
        before.snapshot.network_acls[0].entries,
        snap.network_acls[0].entries
    );
}

#[test]
fn a_route_replaced_with_an_unknown_old_target_withholds_the_table_and_its_subnets() {
    let snap = base_snapshot();
    let ev = events(&["replace-route.json"]);
    let back = history::at(&snap, &ev, LATE, 0);
    let w = &back.snapshot.withheld;
    assert!(w["rtb-main"].contains("ReplaceRoute"));
    // rtb-main is the main table: the subnets without their own table use it.
    assert!(w.contains_key("subnet-app") && w.contains_key("subnet-db"));
    assert!(!w.contains_key("subnet-pub"));
}

#[test]
fn a_revoke_without_a_rule_set_is_unknown_unless_an_earlier_authorize_says_the_rule_existed() {
    let snap = base_snapshot();
    let ev = events(&["revoke-ingress-eventbridge.json"]);
    let back = history::at(&snap, &ev, LATE, 0);
    assert!(back.snapshot.withheld["sg-web"].contains("revokedSecurityGroupRuleSet"));
    assert!(back.snapshot.withheld.contains_key("eni-web"));
}

// ---- `vpcreach changes` through the binary ----

fn history_dir(names: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let day = dir
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/10/14");
    std::fs::create_dir_all(&day).unwrap();
    for n in names {
        std::fs::copy(fixture(n), day.join(n)).unwrap();
    }
    dir
}

fn changes(snap: &Value, hist: &Path, extra: &[&str], code: i32) -> (String, String) {
    let s = snapshot_dir(snap);
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .env("NO_COLOR", "1")
        .arg("changes")
        .arg("--snapshot")
        .arg(s.path())
        .arg("--history")
        .arg(hist)
        .args(extra)
        .assert()
        .code(code)
        .get_output()
        .clone();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The base network after the day's changes: ssh open on sg-web from 203.0.113.0/24.
fn after_day() -> Value {
    let mut v = base();
    let sg = common::find(&mut v, "SecurityGroups", "GroupId", "sg-web");
    sg["IpPermissions"].as_array_mut().unwrap().push(json!(
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]}));
    v
}

#[test]
fn changes_says_who_opened_what_with_a_witness_and_the_rule() {
    let h = history_dir(&["authorize-ingress.json", "failed-and-dry-run.json"]);
    let (out, err) = changes(
        &after_day(),
        h.path(),
        &[
            "--snapshot-time",
            "2024-10-14T15:00:00Z",
            "--output",
            "json",
        ],
        0,
    );
    assert!(err.contains("3 failed call(s) (1 dry run(s))"), "{err}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let list = doc["changes"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let a = &list[0];
    assert_eq!(a["api"], "AuthorizeSecurityGroupIngress");
    assert_eq!(a["time"], "2024-10-14T14:01:00Z");
    assert_eq!(a["principal"], "arn:aws:iam::111122223333:user/alice");
    assert_eq!(a["source_ip"], "198.51.100.7");
    assert_eq!(a["resources"], json!(["sg-web"]));
    assert_eq!(a["effect"], "opened");
    let opened = a["opened"].as_array().unwrap();
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0]["eni"], "eni-web");
    assert_eq!(opened[0]["ranges"][0]["ports"], "22");
    assert_eq!(opened[0]["ranges"][0]["peers"], json!(["203.0.113.0/24"]));
    assert_eq!(opened[0]["witness"]["port"], 22);
    assert!(opened[0]["new"]["because"][0]
        .as_str()
        .unwrap()
        .contains("sg-web"));
    let (human, _) = changes(
        &after_day(),
        h.path(),
        &["--snapshot-time", "2024-10-14T15:00:00Z"],
        0,
    );
    assert!(human.contains("2024-10-14T14:01:00Z AuthorizeSecurityGroupIngress by arn:aws:iam::111122223333:user/alice from 198.51.100.7 (sg-web): opened"), "{human}");
    assert!(
        human.contains(
            "1 change(s): 1 opened, 0 closed, 0 opened and closed, 0 unchanged, 0 unknown"
        ),
        "{human}"
    );
}

#[test]
fn a_change_before_one_that_cannot_be_undone_is_unknown_and_names_it() {
    let h = history_dir(&["authorize-ingress.json", "delete-network-acl-entry.json"]);
    let mut late = after_day();
    common::find(&mut late, "NetworkAcls", "NetworkAclId", "acl-default")["Entries"]
        .as_array_mut()
        .unwrap()
        .retain(|e| !(e["RuleNumber"] == 100 && e["Egress"] == false));
    let (out, _) = changes(
        &late,
        h.path(),
        &[
            "--snapshot-time",
            "2024-10-14T15:00:00Z",
            "--output",
            "json",
        ],
        0,
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    let list = doc["changes"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    // The NACL entry deleted later: its earlier content is in no event.
    let d = &list[1];
    assert_eq!(d["api"], "DeleteNetworkAclEntry");
    assert_eq!(d["effect"], "unknown");
    assert!(d["reason"]
        .as_str()
        .unwrap()
        .contains("inbound rule 100 of `acl-default`"));
    // So before it the NACL's inbound rule 100 is of unknown content: every inbound packet
    // reaches it first, so what the authorize did at eni-web is unknown too, naming it.
    let a = &list[0];
    assert_eq!(a["effect"], "unknown");
    let why = a["reason"].as_str().unwrap();
    assert!(
        why.contains("eni-web inbound tcp")
            && why.contains("acl-default inbound rule 100 (unknown: ")
            && why.contains("DeleteNetworkAclEntry"),
        "{why}"
    );
    assert_eq!(a["opened"], json!([]));
}

#[test]
fn changes_without_the_snapshot_time_is_a_clear_error() {
    let h = history_dir(&["authorize-ingress.json"]);
    let (_, err) = changes(&after_day(), h.path(), &[], 2);
    assert!(err.contains("--snapshot-time"), "{err}");
}

#[test]
fn changes_window_and_changes_after_the_snapshot() {
    let h = history_dir(&["authorize-ingress.json", "create-network-acl-entry.json"]);
    let mut late = after_day();
    common::find(&mut late, "NetworkAcls", "NetworkAclId", "acl-default")["Entries"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"RuleNumber": 50, "Protocol": "6", "RuleAction": "deny", "Egress": false,
                     "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 443, "To": 443}}),
        );
    // The snapshot was taken between the two: the NACL change is not in it.
    let (out, err) = changes(
        &after_day(),
        h.path(),
        &[
            "--snapshot-time",
            "2024-10-14T14:05:00Z",
            "--output",
            "json",
        ],
        0,
    );
    assert!(
        err.contains("1 change(s) after the snapshot's time"),
        "{err}"
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["changes"].as_array().unwrap().len(), 1);
    let (out, _) = changes(
        &late,
        h.path(),
        &[
            "--snapshot-time",
            "2024-10-14T15:00:00Z",
            "--since",
            "2024-10-14T14:05:00Z",
            "--output",
            "json",
        ],
        0,
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    let list = doc["changes"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["api"], "CreateNetworkAclEntry");
    // A deny of tcp/443 inbound at rule 50 closes https to every ENI of the VPC's subnets.
    assert_eq!(list[0]["effect"], "closed");
    assert_eq!(list[0]["closed"][0]["ranges"][0]["ports"], "443");
    let because = list[0]["closed"][0]["new"]["because"].to_string();
    assert!(because.contains("rule 50"), "{because}");
    assert_eq!(effect_of(Effect::Closed), "closed");
}

fn effect_of(e: Effect) -> String {
    serde_json::to_value(e)
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

// A change to a resource the snapshot does not hold (another account or Region, or gone) is
// `unknown`, naming it, never `unchanged`.
#[test]
fn a_change_to_a_resource_not_in_the_snapshot_is_unknown_not_unchanged() {
    let h = history_dir(&["authorize-ingress.json"]);
    // The snapshot without sg-web (and without its ENI): the change's group is not there.
    let mut v = after_day();
    v["SecurityGroups"]
        .as_array_mut()
        .unwrap()
        .retain(|g| g["GroupId"] != "sg-web");
    v["NetworkInterfaces"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["NetworkInterfaceId"] != "eni-web");
    let (out, _) = changes(
        &v,
        h.path(),
        &[
            "--snapshot-time",
            "2024-10-14T15:00:00Z",
            "--output",
            "json",
        ],
        0,
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    let a = &doc["changes"][0];
    assert_eq!(a["effect"], "unknown", "{a:#}");
    assert!(
        a["reason"]
            .as_str()
            .unwrap()
            .contains("`sg-web` is not in the snapshot"),
        "{a:#}"
    );
}

#[test]
fn a_route_change_is_judged_end_to_end() {
    // 14:14: a route to 198.51.100.0/24 through the internet gateway on the private subnets'
    // table. Their ENIs have no public address: what reached those hosts through the NAT
    // gateway before now goes to the internet gateway, and stops there.
    let h = history_dir(&["create-route.json"]);
    let mut after = base();
    let rt = common::find(&mut after, "RouteTables", "RouteTableId", "rtb-main");
    rt["Routes"].as_array_mut().unwrap().push(json!(
        {"DestinationCidrBlock": "198.51.100.0/24", "GatewayId": "igw-a", "State": "active", "Origin": "CreateRoute"}));
    let (out, _) = changes(
        &after,
        h.path(),
        &[
            "--snapshot-time",
            "2024-10-14T15:00:00Z",
            "--output",
            "json",
        ],
        0,
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    let c = &doc["changes"][0];
    assert_eq!(c["api"], "CreateRoute");
    assert_eq!(c["effect"], "closed", "{c:#}");
    let closed = c["closed"].as_array().unwrap();
    let enis: Vec<&str> = closed.iter().map(|x| x["eni"].as_str().unwrap()).collect();
    assert!(
        enis.contains(&"eni-app") && enis.contains(&"eni-db"),
        "{enis:?}"
    );
    assert!(!enis.contains(&"eni-web"), "{enis:?}");
    assert!(
        c["notes"][0].as_str().unwrap().contains("one witness flow"),
        "{c:#}"
    );
    let app = closed.iter().find(|x| x["eni"] == "eni-app").unwrap();
    assert_eq!(app["direction"], "outbound");
    assert_eq!(app["witness"]["peer"], "198.51.100.1");
    assert_eq!(app["old"]["allowed"], true);
    assert_eq!(app["new"]["allowed"], false);
    assert!(
        app["new"]["because"][0]
            .as_str()
            .unwrap()
            .contains("public"),
        "{app:#}"
    );
    // The same change on a table no subnet uses changes nothing.
    let h = history_dir(&["create-route.json"]);
    let mut unused = base();
    unused["RouteTables"].as_array_mut().unwrap().push(json!(
        {"RouteTableId": "rtb-spare", "VpcId": "vpc-a", "Associations": [],
         "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active", "Origin": "CreateRouteTable"},
                    {"DestinationCidrBlock": "198.51.100.0/24", "GatewayId": "igw-a", "State": "active", "Origin": "CreateRoute"}]}));
    let day = h
        .path()
        .join("AWSLogs/111122223333/CloudTrail/us-east-1/2024/10/14/create-route.json");
    let text = std::fs::read_to_string(&day)
        .unwrap()
        .replace("rtb-main", "rtb-spare");
    std::fs::write(&day, text).unwrap();
    let (out, _) = changes(
        &unused,
        h.path(),
        &[
            "--snapshot-time",
            "2024-10-14T15:00:00Z",
            "--output",
            "json",
        ],
        0,
    );
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["changes"][0]["effect"], "unchanged", "{doc:#}");
}
