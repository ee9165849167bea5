//! `vpcreach diff OLD NEW` through the binary: what a change opened and closed at each ENI,
//! with the rules on each side, and the exit code of a change-review gate.

mod common;

use assert_cmd::Command;
use common::{base, find, snapshot_dir};
use serde_json::{json, Value};

fn diff(old: &Value, new: &Value, output: &str, code: i32) -> String {
    let (a, b) = (snapshot_dir(old), snapshot_dir(new));
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .env("NO_COLOR", "1")
        .args(["diff", "--output", output])
        .arg(a.path())
        .arg(b.path())
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

fn diff_json(old: &Value, new: &Value, code: i32) -> Value {
    serde_json::from_str(&diff(old, new, "json", code)).unwrap()
}

#[test]
fn nothing_changed_exits_zero() {
    let v = base();
    let doc = diff_json(&v, &v, 0);
    assert_eq!(doc["opened"], json!([]));
    assert_eq!(doc["closed"], json!([]));
    assert_eq!(doc["enis"], 5);
    assert!(diff(&v, &v, "human", 0).contains("0 opened, 0 closed, 5 ENI(s) compared"));
}

#[test]
fn a_new_rule_opens_its_traffic_and_names_the_rule_on_each_side() {
    let old = base();
    let mut new = base();
    find(&mut new, "SecurityGroups", "GroupId", "sg-web")["IpPermissions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}));
    let doc = diff_json(&old, &new, 1);
    assert_eq!(doc["closed"], json!([]), "{doc:#}");
    let opened = doc["opened"].as_array().unwrap();
    assert_eq!(opened.len(), 1, "{doc:#}");
    let c = &opened[0];
    assert_eq!(c["eni"], "eni-web");
    assert_eq!(c["direction"], "inbound");
    assert_eq!(c["protocol"], "tcp");
    assert_eq!(c["ranges"][0]["ports"], "22");
    assert_eq!(c["ranges"][0]["peers"], json!(["0.0.0.0/0"]), "{c:#}");
    assert_eq!(c["witness"], json!({"peer": "198.51.100.1", "port": 22}));
    assert_eq!(c["old"]["allowed"], false);
    assert!(c["old"]["because"][0]
        .as_str()
        .unwrap()
        .contains("no inbound rule of its security groups (sg-web)"));
    assert_eq!(c["new"]["allowed"], true);
    assert_eq!(
        c["new"]["because"][0],
        "sg-web allows tcp/22 from 0.0.0.0/0"
    );
    // The same change undone is a closing.
    let back = diff_json(&new, &old, 1);
    assert_eq!(back["opened"], json!([]));
    assert_eq!(back["closed"][0]["ranges"][0]["ports"], "22");
}

#[test]
fn a_nacl_deny_closes_part_of_a_rule_and_names_the_nacl_rule() {
    let old = base();
    let mut new = base();
    find(&mut new, "NetworkAcls", "NetworkAclId", "acl-default")["Entries"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"RuleNumber": 50, "Protocol": "6", "RuleAction": "deny", "Egress": false,
            "CidrBlock": "203.0.113.0/24", "PortRange": {"From": 443, "To": 443}}),
        );
    let doc = diff_json(&old, &new, 1);
    let closed: Vec<&Value> = doc["closed"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["eni"] == "eni-web")
        .collect();
    assert_eq!(closed.len(), 1, "{doc:#}");
    let c = closed[0];
    assert_eq!(c["ranges"][0]["peers"], json!(["203.0.113.0/24"]), "{c:#}");
    assert_eq!(c["witness"]["peer"], "203.0.113.1");
    let after = c["new"]["because"].to_string();
    assert!(
        after.contains("acl-default rule 50 (deny tcp/443 from 203.0.113.0/24)"),
        "{after}"
    );
    assert_eq!(c["new"]["allowed"], false);
    assert_eq!(c["old"]["allowed"], true);
}

#[test]
fn an_all_protocols_rule_is_one_change_and_a_new_eni_is_named() {
    let old = base();
    let mut new = base();
    find(&mut new, "SecurityGroups", "GroupId", "sg-db")["IpPermissions"]
        .as_array_mut()
        .unwrap()
        .push(json!({"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}));
    let doc = diff_json(&old, &new, 1);
    let at_db: Vec<&Value> = doc["opened"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["eni"] == "eni-db" && c["direction"] == "inbound")
        .collect();
    // Not repeated under tcp, udp, icmp: one change for all protocols.
    assert_eq!(at_db.len(), 1, "{doc:#}");
    assert_eq!(at_db[0]["protocol"], "all");
    // An ENI only in the new snapshot: what it allows is opened, and the old side says why.
    let mut added = base();
    added["NetworkInterfaces"]
        .as_array_mut()
        .unwrap()
        .push(common::eni(
            "eni-new",
            "subnet-app",
            "10.0.2.99",
            &["sg-web"],
            None,
            None,
        ));
    let doc = diff_json(&old, &added, 1);
    let c = doc["opened"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["eni"] == "eni-new" && c["protocol"] == "tcp")
        .unwrap();
    assert_eq!(c["old"]["because"][0], "eni-new is not in the old snapshot");
}

#[test]
fn markdown_and_sarif_carry_each_change() {
    let old = base();
    let mut new = base();
    find(&mut new, "SecurityGroups", "GroupId", "sg-web")["IpPermissions"][0]["FromPort"] =
        json!(80);
    find(&mut new, "SecurityGroups", "GroupId", "sg-web")["IpPermissions"][0]["ToPort"] = json!(80);
    let md = diff(&old, &new, "markdown", 1);
    assert!(md.contains("## Opened") && md.contains("## Closed"), "{md}");
    assert!(
        md.contains("| eni\\-web |") || md.contains("| eni-web |"),
        "{md}"
    );
    let sarif: Value = serde_json::from_str(&diff(&old, &new, "sarif", 1)).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let rules: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"reachability-opened"), "{rules:?}");
    assert!(rules.contains(&"reachability-closed"), "{rules:?}");
    assert_eq!(
        results[0]["locations"][0]["logicalLocations"][0]["name"],
        "eni-web"
    );
}

#[test]
fn a_missing_snapshot_is_an_error() {
    let a = snapshot_dir(&base());
    Command::cargo_bin("vpcreach")
        .unwrap()
        .args(["diff"])
        .arg(a.path())
        .arg(a.path().join("nope"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("cannot read the new snapshot"));
}

#[test]
fn each_change_says_whether_it_works_end_to_end_or_is_latent() {
    // ssh from the internet opened on web-1 (public address, route to the internet gateway)
    // and on the app group (private ENIs: the internet cannot reach them).
    let old = base();
    let mut new = base();
    for g in ["sg-web", "sg-app"] {
        find(&mut new, "SecurityGroups", "GroupId", g)["IpPermissions"]
            .as_array_mut()
            .unwrap()
            .push(json!({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}));
    }
    let doc = diff_json(&old, &new, 1);
    let opened = doc["opened"].as_array().unwrap();
    let at = |eni: &str| -> &Value {
        opened
            .iter()
            .find(|c| c["eni"] == eni)
            .unwrap_or_else(|| panic!("no change at {eni}: {doc:#}"))
    };
    assert_eq!(
        at("eni-web")["end_to_end"]["status"],
        "effective",
        "{doc:#}"
    );
    let app = &at("eni-app")["end_to_end"];
    assert_eq!(app["status"], "latent", "{doc:#}");
    assert!(
        app["because"]
            .as_str()
            .unwrap()
            .contains("no public or Elastic IP"),
        "{app}"
    );
    let human = diff(&old, &new, "human", 1);
    assert!(
        human.contains("  end to end: effective (the connection now works end to end)"),
        "{human}"
    );
    assert!(human.contains("  end to end: latent: "), "{human}");
    let sarif: Value = serde_json::from_str(&diff(&old, &new, "sarif", 1)).unwrap();
    let statuses: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["properties"]["endToEnd"].as_str())
        .collect();
    assert!(
        statuses.contains(&"latent") && statuses.contains(&"effective"),
        "{statuses:?}"
    );
}
