//! Queries through load balancers (aws-semantics 41–45), through the real binary on snapshot
//! folders: an ALB across two zones with a target one node cannot reach, NLBs with and without
//! client-address preservation, with and without security groups, cross-zone on and off, and a
//! listener rule forwarding to a second target group.

mod common;

use assert_cmd::Command;
use common::*;
use serde_json::{json, Value};
use std::path::Path;

const ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:111122223333";
const CLIENT: &str = "198.51.100.7";

/// What kind of load balancer the fixture gets.
struct Lb {
    /// `application` or `network`.
    kind: &'static str,
    /// Security groups of the load balancer.
    groups: Vec<&'static str>,
    /// Target type of the target groups.
    target_type: &'static str,
}

fn lb_arn(lb: &Lb) -> String {
    let (word, name, id) = if lb.kind == "application" {
        ("app", "web-alb", "50dc6c495c0c9188")
    } else {
        ("net", "web-nlb", "7e8c4f3a2b1d0e9f")
    };
    format!("{ARN}:loadbalancer/{word}/{name}/{id}")
}

fn lb_name(lb: &Lb) -> &'static str {
    if lb.kind == "application" {
        "web-alb"
    } else {
        "web-nlb"
    }
}

/// The common VPC plus a second public subnet in us-east-1b with its own NACL (allow all), two
/// internet-facing nodes (1a in `subnet-pub`, 1b in `subnet-pub-b`), a listener on 443 to
/// target group `tg-app` (port 8080: `eni-app` 10.0.2.20 and `eni-app2` 10.0.2.22, both in
/// us-east-1a) and a rule (priority 5) to `tg-admin` (port 9090: `eni-app2`).
fn fixture(lb: &Lb) -> Value {
    let mut v = base();
    let desc = lb_arn(lb)
        .split_once(":loadbalancer/")
        .map(|(_, p)| format!("ELB {p}"))
        .unwrap();
    v["Subnets"].as_array_mut().unwrap().push(json!(
        {"SubnetId": "subnet-pub-b", "VpcId": "vpc-a", "CidrBlock": "10.0.4.0/24", "AvailabilityZone": "us-east-1b"}));
    find(&mut v, "RouteTables", "RouteTableId", "rtb-pub")["Associations"]
        .as_array_mut()
        .unwrap()
        .push(json!({"SubnetId": "subnet-pub-b", "Main": false}));
    v["NetworkAcls"].as_array_mut().unwrap().push(json!(
        {"NetworkAclId": "acl-b", "VpcId": "vpc-a", "IsDefault": false,
         "Associations": [{"NetworkAclId": "acl-b", "SubnetId": "subnet-pub-b"}],
         "Entries": allow_all_entries()}));
    // Targets: instances behind eni-app and eni-app2.
    for (eni, inst) in [("eni-app", "i-app"), ("eni-app2", "i-app2")] {
        find(&mut v, "NetworkInterfaces", "NetworkInterfaceId", eni)["Attachment"] =
            json!({"InstanceId": inst, "DeviceIndex": 0, "Status": "attached"});
    }
    // The app group lets the VPC in on 8080 (the ALB's nodes among it), not the internet.
    find(&mut v, "SecurityGroups", "GroupId", "sg-app")["IpPermissions"] = json!([
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]);
    v["SecurityGroups"].as_array_mut().unwrap().push(json!(
        {"GroupId": "sg-lb", "GroupName": "lb", "VpcId": "vpc-a",
         "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
         "IpPermissionsEgress": [{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 9090, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]}));
    for (id, subnet, ip, public, az) in [
        (
            "eni-lb-a",
            "subnet-pub",
            "10.0.1.100",
            "54.0.0.100",
            "us-east-1a",
        ),
        (
            "eni-lb-b",
            "subnet-pub-b",
            "10.0.4.100",
            "54.0.0.101",
            "us-east-1b",
        ),
    ] {
        let mut e = eni(id, subnet, ip, &lb.groups, Some(public), None);
        e["Description"] = json!(desc);
        e["AvailabilityZone"] = json!(az);
        e["RequesterId"] = json!("amazon-elb");
        v["NetworkInterfaces"].as_array_mut().unwrap().push(e);
    }
    let arn = lb_arn(lb);
    let listener = format!(
        "{ARN}:listener/{}/f2f7dc8efc522ab2",
        &arn[arn.find("loadbalancer/").unwrap() + 13..]
    );
    let rule = format!(
        "{ARN}:listener-rule/{}/f2f7dc8efc522ab2/9683b2d02a6cabee",
        &arn[arn.find("loadbalancer/").unwrap() + 13..]
    );
    v["LoadBalancers"] = json!([{
        "LoadBalancerArn": arn, "DNSName": format!("{}-1234567890.us-east-1.elb.amazonaws.com", lb_name(lb)),
        "LoadBalancerName": lb_name(lb), "Scheme": "internet-facing", "VpcId": "vpc-a",
        "State": {"Code": "active"}, "Type": lb.kind,
        "AvailabilityZones": [
            {"ZoneName": "us-east-1a", "SubnetId": "subnet-pub", "LoadBalancerAddresses": []},
            {"ZoneName": "us-east-1b", "SubnetId": "subnet-pub-b", "LoadBalancerAddresses": []}],
        "SecurityGroups": lb.groups, "IpAddressType": "ipv4"}]);
    let proto = if lb.kind == "application" {
        "HTTPS"
    } else {
        "TCP"
    };
    let tproto = if lb.kind == "application" {
        "HTTP"
    } else {
        "TCP"
    };
    v["Listeners"] = json!([{"ListenerArn": listener, "LoadBalancerArn": arn, "Port": 443, "Protocol": proto,
        "DefaultActions": [{"Type": "forward", "TargetGroupArn": format!("{ARN}:targetgroup/tg-app/1"),
            "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": format!("{ARN}:targetgroup/tg-app/1"), "Weight": 1}]}}]}]);
    v["Rules"] = json!([
        {"RuleArn": rule, "Priority": "5", "IsDefault": false,
         "Conditions": [{"Field": "path-pattern", "Values": ["/admin/*"]}],
         "Actions": [{"Type": "forward", "TargetGroupArn": format!("{ARN}:targetgroup/tg-admin/2")}]}]);
    let tg = |name: &str, n: u32, port: u16| {
        json!({"TargetGroupArn": format!("{ARN}:targetgroup/{name}/{n}"), "TargetGroupName": name,
               "Protocol": tproto, "Port": port, "VpcId": "vpc-a", "HealthCheckProtocol": tproto,
               "HealthCheckPort": "traffic-port", "HealthCheckEnabled": true, "TargetType": lb.target_type,
               "LoadBalancerArns": [arn]})
    };
    v["TargetGroups"] = json!([tg("tg-app", 1, 8080), tg("tg-admin", 2, 9090)]);
    v
}

fn target_id(lb: &Lb, eni: &str) -> String {
    match (lb.target_type, eni) {
        ("instance", "eni-app") => "i-app".into(),
        ("instance", _) => "i-app2".into(),
        (_, "eni-app") => "10.0.2.20".into(),
        _ => "10.0.2.22".into(),
    }
}

/// Writes the fixture, with `describe-target-health` (and attribute) files as `collect` writes
/// them: with a top-level `TargetGroupArn` or `LoadBalancerArn`.
fn write(
    lb: &Lb,
    v: &Value,
    tg_attrs: &[(&str, &str)],
    lb_attrs: &[(&str, &str)],
) -> tempfile::TempDir {
    let dir = snapshot_dir(v);
    let region = dir.path().join("us-east-1");
    let health = |tg: &str, targets: Vec<(String, u16)>| {
        json!({"TargetGroupArn": format!("{ARN}:targetgroup/{tg}"),
               "TargetHealthDescriptions": targets.into_iter().map(|(id, port)| json!(
                   {"Target": {"Id": id, "Port": port}, "HealthCheckPort": port.to_string(),
                    "TargetHealth": {"State": "healthy"}})).collect::<Vec<_>>()})
    };
    let files = [
        (
            "th-app.json",
            health(
                "tg-app/1",
                vec![
                    (target_id(lb, "eni-app"), 8080),
                    (target_id(lb, "eni-app2"), 8080),
                ],
            ),
        ),
        (
            "th-admin.json",
            health("tg-admin/2", vec![(target_id(lb, "eni-app2"), 9090)]),
        ),
    ];
    for (name, doc) in files {
        std::fs::write(region.join(name), doc.to_string()).unwrap();
    }
    if !tg_attrs.is_empty() {
        let doc = json!({"TargetGroupArn": format!("{ARN}:targetgroup/tg-app/1"),
            "Attributes": tg_attrs.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()});
        std::fs::write(region.join("tga.json"), doc.to_string()).unwrap();
    }
    if !lb_attrs.is_empty() {
        let doc = json!({"Attributes": lb_attrs.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
            "LoadBalancerArn": lb_arn(lb)});
        std::fs::write(region.join("lba.json"), doc.to_string()).unwrap();
    }
    dir
}

fn run(dir: &Path, to: &str, from: &str, port: &str, json: bool) -> (i32, String, String) {
    let mut cmd = Command::cargo_bin("vpcreach").unwrap();
    cmd.args(["query", "--snapshot"])
        .arg(dir)
        .args(["--from", from, "--to", to, "--port", port])
        .env("NO_COLOR", "1");
    if json {
        cmd.args(["--output", "json"]);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn query_json(dir: &Path, to: &str, from: &str) -> (i32, Value) {
    let (code, out, err) = run(dir, to, from, "443", true);
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, v)
}

fn target<'a>(v: &'a Value, tg: &str, id: &str) -> &'a Value {
    v["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["target_group"] == tg && t["id"] == id)
        .unwrap_or_else(|| panic!("no target {tg}/{id} in {v:#}"))
}

fn node<'a>(t: &'a Value, eni: &str) -> &'a Value {
    t["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == eni)
        .unwrap_or_else(|| panic!("no node {eni} in {t:#}"))
}

fn alb() -> Lb {
    Lb {
        kind: "application",
        groups: vec!["sg-lb"],
        target_type: "instance",
    }
}

fn nlb(groups: Vec<&'static str>, target_type: &'static str) -> Lb {
    Lb {
        kind: "network",
        groups,
        target_type,
    }
}

#[test]
fn alb_across_two_zones_with_a_target_one_node_cannot_reach() {
    let lb = alb();
    let mut v = fixture(&lb);
    // The 1b node's subnet may not send to 10.0.2.20 on 8080 (rule 50): only that target.
    find(&mut v, "NetworkAcls", "NetworkAclId", "acl-b")["Entries"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"RuleNumber": 50, "Protocol": "6", "RuleAction": "deny", "Egress": true,
                     "CidrBlock": "10.0.2.20/32", "PortRange": {"From": 8080, "To": 8080}}),
        );
    let dir = write(&lb, &v, &[], &[]);
    let (code, j) = query_json(dir.path(), "web-alb", CLIENT);
    assert_eq!(code, 0, "{j:#}");
    assert_eq!(j["verdict"], "reachable");
    assert_eq!(j["load_balancer"]["kind"], "application");
    assert!(
        j["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["verdict"] == "reachable"),
        "{j:#}"
    );
    // The client reaches the nodes on their public addresses, through the internet gateway.
    let leg = &j["nodes"][0]["trace"];
    assert_eq!(leg["to"]["kind"], "public_ip", "{leg:#}");
    let t1 = target(&j, "tg-app", "i-app");
    assert_eq!(t1["verdict"], "partial", "{t1:#}");
    // Cross-zone is always on for an ALB: both nodes send to it, the 1b node is stopped by rule 50.
    let b = node(t1, "eni-lb-b");
    assert_eq!(b["routed"], true);
    assert_eq!(b["verdict"], "unreachable");
    assert_eq!(b["traffic"]["blocked_at"]["rule_number"], 50, "{b:#}");
    assert_eq!(b["traffic"]["blocked_at"]["resources"][0], "acl-b");
    // The health check goes to the same port (traffic-port) and is stopped by the same rule.
    assert_eq!(b["health_check"]["blocked_at"]["rule_number"], 50);
    assert_eq!(node(t1, "eni-lb-a")["verdict"], "reachable");
    // The traffic leaves the node from its private address; the ALB's outbound rule is checked.
    let a = node(t1, "eni-lb-a");
    assert_eq!(a["traffic"]["source"], "10.0.1.100");
    let fwd = a["traffic"]["forward"]["hops"][0]["checks"][0]["detail"]
        .as_str()
        .unwrap();
    assert!(fwd.contains("outbound allowed by sg-lb"), "{fwd}");
    assert_eq!(target(&j, "tg-app", "i-app2")["verdict"], "reachable");
    // Human output: one line per target, with the failing node and rule.
    let (code, human, _) = run(dir.path(), "web-alb", CLIENT, "443", false);
    assert_eq!(code, 0);
    let line = human
        .lines()
        .find(|l| l.contains("i-app:8080"))
        .unwrap_or_else(|| panic!("{human}"));
    assert!(
        line.contains("partial") && line.contains("eni-lb-b") && line.contains("rule 50"),
        "{line}"
    );
    // The same load balancer by ARN and by DNS name.
    for name in [
        lb_arn(&lb),
        "web-alb-1234567890.us-east-1.elb.amazonaws.com.".to_string(),
    ] {
        let (code, j2) = query_json(dir.path(), &name, CLIENT);
        assert_eq!(code, 0);
        assert_eq!(target(&j2, "tg-app", "i-app")["verdict"], "partial");
    }
}

#[test]
fn a_listener_rule_forwards_to_a_second_target_group() {
    let lb = alb();
    let dir = write(&lb, &fixture(&lb), &[], &[]);
    let (_, j) = query_json(dir.path(), "web-alb", CLIENT);
    let groups = j["target_groups"].as_array().unwrap();
    let admin = groups.iter().find(|g| g["name"] == "tg-admin").unwrap();
    assert_eq!(admin["via"][0], "rule 5 (9683b2d02a6cabee)");
    let app = groups.iter().find(|g| g["name"] == "tg-app").unwrap();
    assert_eq!(app["via"][0], "default action");
    // sg-app lets nothing in on 9090: the second group's target is unreachable from every node.
    let t = target(&j, "tg-admin", "i-app2");
    assert_eq!(t["verdict"], "unreachable", "{t:#}");
    assert_eq!(t["port"], 9090);
    let n = node(t, "eni-lb-a");
    assert_eq!(n["traffic"]["reason"], "ENI_SG_RULES_MISMATCH");
    assert_eq!(n["traffic"]["blocked_at"]["resources"][0], "sg-app");
    // The default group still serves the listener.
    assert_eq!(j["verdict"], "reachable");
}

#[test]
fn nlb_preserving_client_addresses_needs_the_targets_to_allow_the_clients() {
    // Instance targets: client addresses are preserved by default (aws-semantics 44).
    let lb = nlb(vec![], "instance");
    let v = fixture(&lb);
    let dir = write(&lb, &v, &[], &[]);
    let (code, j) = query_json(dir.path(), "web-nlb", CLIENT);
    assert_eq!(code, 1, "{j:#}");
    assert_eq!(j["verdict"], "unreachable");
    let g = &j["target_groups"][1];
    assert_eq!(g["client_ip_preserved"], true);
    assert_eq!(g["client_ip_preserved_from"], "default");
    let t = target(&j, "tg-app", "i-app");
    assert_eq!(t["verdict"], "unreachable");
    let a = node(t, "eni-lb-a");
    // The target sees the client: sg-app allows only the VPC.
    assert_eq!(a["traffic"]["source"], CLIENT);
    assert_eq!(
        a["traffic"]["blocked_at"]["resources"][0], "sg-app",
        "{a:#}"
    );
    // Health checks come from the node's private address: they pass ("healthy but no client").
    assert_eq!(a["health_check"]["verdict"], "reachable");
    assert_eq!(a["health_check"]["source"], "10.0.1.100");
    // Turned off by the attribute, the target sees the node and serves.
    let dir = write(&lb, &v, &[("preserve_client_ip.enabled", "false")], &[]);
    let (code, j) = query_json(dir.path(), "web-nlb", CLIENT);
    assert_eq!(code, 0, "{j:#}");
    assert_eq!(
        j["target_groups"][1]["client_ip_preserved_from"],
        "attribute"
    );
    assert_eq!(
        node(target(&j, "tg-app", "i-app"), "eni-lb-a")["traffic"]["source"],
        "10.0.1.100"
    );
    // IP targets over TCP: off by default.
    let lb = nlb(vec![], "ip");
    let dir = write(&lb, &fixture(&lb), &[], &[]);
    let (code, j) = query_json(dir.path(), "web-nlb", CLIENT);
    assert_eq!(code, 0, "{j:#}");
    assert_eq!(j["target_groups"][1]["client_ip_preserved"], false);
}

#[test]
fn nlb_with_and_without_security_groups() {
    // Without security groups, the nodes let everything in and out, and say so.
    let lb = nlb(vec![], "ip");
    let dir = write(&lb, &fixture(&lb), &[], &[]);
    let (_, j) = query_json(dir.path(), "web-nlb", CLIENT);
    let checks = j["nodes"][0]["trace"]["forward"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["checks"].as_array().unwrap().iter())
        .map(|c| c["detail"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(
        checks.iter().any(|d| d.contains("has no security groups")),
        "{checks:#?}"
    );
    assert_eq!(j["verdict"], "reachable");
    // With a group that admits only 203.0.113.0/24, another client is stopped at the node.
    let lb = nlb(vec!["sg-lb"], "ip");
    let mut v = fixture(&lb);
    find(&mut v, "SecurityGroups", "GroupId", "sg-lb")["IpPermissions"] = json!([
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "203.0.113.0/24"}]}]);
    let dir = write(&lb, &v, &[], &[]);
    let (code, j) = query_json(dir.path(), "web-nlb", CLIENT);
    assert_eq!(code, 1);
    assert_eq!(j["reason"], "ENI_SG_RULES_MISMATCH");
    assert_eq!(
        j["nodes"][0]["trace"]["blocked_at"]["resources"][0],
        "sg-lb"
    );
    let (code, j) = query_json(dir.path(), "web-nlb", "203.0.113.9");
    assert_eq!(code, 0, "{j:#}");
}

#[test]
fn nlb_cross_zone_off_and_on() {
    let lb = nlb(vec![], "ip");
    let mut v = fixture(&lb);
    // A target in us-east-1b (eni-db), allowing the VPC on 8080.
    find(&mut v, "SecurityGroups", "GroupId", "sg-db")["IpPermissions"] = json!([
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]);
    let dir = write(&lb, &v, &[], &[]);
    std::fs::write(
        dir.path().join("us-east-1/th-app.json"),
        json!({"TargetGroupArn": format!("{ARN}:targetgroup/tg-app/1"),
               "TargetHealthDescriptions": [
                   {"Target": {"Id": "10.0.2.20", "Port": 8080, "AvailabilityZone": "us-east-1a"}},
                   {"Target": {"Id": "10.0.3.30", "Port": 8080, "AvailabilityZone": "us-east-1b"}}]})
        .to_string(),
    )
    .unwrap();
    // Off by default: each node sends only to its own zone.
    let (_, j) = query_json(dir.path(), "web-nlb", CLIENT);
    let g = &j["target_groups"][1];
    assert_eq!(
        (g["cross_zone"].clone(), g["cross_zone_from"].clone()),
        (json!(false), json!("default"))
    );
    let a = target(&j, "tg-app", "10.0.2.20");
    assert_eq!(node(a, "eni-lb-a")["routed"], true);
    assert_eq!(node(a, "eni-lb-b")["routed"], false);
    assert!(node(a, "eni-lb-b")["traffic"].is_null());
    let b = target(&j, "tg-app", "10.0.3.30");
    assert_eq!(node(b, "eni-lb-a")["routed"], false);
    assert_eq!(node(b, "eni-lb-b")["routed"], true);
    // On at the load balancer: every node sends everywhere.
    std::fs::write(
        dir.path().join("us-east-1/lba.json"),
        json!({"LoadBalancerArn": lb_arn(&lb), "Attributes": [{"Key": "load_balancing.cross_zone.enabled", "Value": "true"}]}).to_string(),
    )
    .unwrap();
    let (_, j) = query_json(dir.path(), "web-nlb", CLIENT);
    assert_eq!(j["target_groups"][1]["cross_zone"], true);
    assert_eq!(
        node(target(&j, "tg-app", "10.0.2.20"), "eni-lb-b")["routed"],
        true
    );
    // The target group's own setting wins over the load balancer's.
    std::fs::write(
        dir.path().join("us-east-1/tga.json"),
        json!({"TargetGroupArn": format!("{ARN}:targetgroup/tg-app/1"), "Attributes": [{"Key": "load_balancing.cross_zone.enabled", "Value": "false"}]}).to_string(),
    )
    .unwrap();
    let (_, j) = query_json(dir.path(), "web-nlb", CLIENT);
    assert_eq!(j["target_groups"][1]["cross_zone"], false);
    assert_eq!(j["target_groups"][1]["cross_zone_from"], "attribute");
}

#[test]
fn target_health_without_its_arn_is_named_and_the_answer_is_unknown() {
    let lb = alb();
    let dir = write(&lb, &fixture(&lb), &[], &[]);
    let region = dir.path().join("us-east-1");
    std::fs::remove_file(region.join("th-admin.json")).unwrap();
    std::fs::write(
        region.join("th-app.json"),
        r#"{"TargetHealthDescriptions": [{"Target": {"Id": "i-app", "Port": 8080}}]}"#,
    )
    .unwrap();
    let (code, out, err) = run(dir.path(), "web-alb", CLIENT, "443", false);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("th-app.json") && err.contains("TargetGroupArn"),
        "{err}"
    );
    assert!(
        out.contains("registered targets of target group tg-app are not in the snapshot"),
        "{out}"
    );
    assert!(out.lines().last().unwrap().starts_with("unknown"), "{out}");
}

#[test]
fn a_port_without_listener_is_an_error_listing_the_listeners() {
    let lb = alb();
    let dir = write(&lb, &fixture(&lb), &[], &[]);
    let (code, _, err) = run(dir.path(), "web-alb", CLIENT, "80", false);
    assert_eq!(code, 2);
    assert!(
        err.contains("no listener on port 80") && err.contains("HTTPS/443"),
        "{err}"
    );
}

#[test]
fn a_gateway_load_balancer_stays_unknown() {
    let lb = alb();
    let mut v = fixture(&lb);
    v["LoadBalancers"][0]["Type"] = json!("gateway");
    let dir = write(&lb, &v, &[], &[]);
    let (code, j) = query_json(dir.path(), "web-alb", CLIENT);
    assert_eq!(code, 1);
    assert_eq!(j["verdict"], "unknown");
    assert_eq!(j["reason"], "NOT_MODELLED");
    assert!(j["message"]
        .as_str()
        .unwrap()
        .contains("Gateway Load Balancer"));
}

#[test]
fn the_example_alb_serves_from_one_zone_only() {
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/network");
    let (code, out, _) = run(&ex, "app-alb", "web-1", "80", false);
    assert_eq!(code, 0, "{out}");
    let line = out
        .lines()
        .find(|l| l.contains("i-0506fe9697179334a:8080"))
        .unwrap();
    assert!(
        line.starts_with("  partial")
            && line.contains("eni-05d8b2f6a1c9e4370")
            && line.contains("acl-0eb5dad9ed46a8620"),
        "{line}"
    );
    let admin = out.lines().find(|l| l.contains(":9090")).unwrap();
    assert!(
        admin.contains("unreachable") && admin.contains("sg-0502f61d8f862ac55"),
        "{admin}"
    );
}

#[test]
fn recorded_responses_from_the_api_reference_are_read() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/elbv2");
    let snap = vpcreach::Snapshot::load(&dir).unwrap();
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    assert!(snap.not_modelled.is_empty(), "{:?}", snap.not_modelled);
    assert_eq!(snap.load_balancers.len(), 2);
    let alb = &snap.load_balancers[0];
    assert_eq!(
        alb.dns_name.as_deref(),
        Some("my-load-balancer-424835706.us-west-2.elb.amazonaws.com")
    );
    assert_eq!(alb.origin.region.as_deref(), Some("us-west-2"));
    assert_eq!(alb.security_groups, vec!["sg-5943793c"]);
    let nlb = &snap.load_balancers[1];
    assert_eq!(
        nlb.availability_zones[0].load_balancer_addresses[0]
            .private_ipv4_address
            .as_deref(),
        Some("10.0.1.15")
    );
    assert_eq!(snap.target_health[0].descriptions.len(), 2);
    let h = snap.target_health[0].descriptions[0]
        .target_health
        .as_ref()
        .unwrap();
    assert_eq!(h.reason.as_deref(), Some("Target.ResponseCodeMismatch"));
    let net = vpcreach::Network::build(&snap);
    let i = net.load_balancer("my-load-balancer").unwrap();
    let fw = &net.load_balancers[i].listeners[0].forwards;
    let names: Vec<(&str, &str)> = fw
        .iter()
        .map(|f| {
            (
                f.target_group_arn.rsplit('/').nth(1).unwrap(),
                f.via.as_str(),
            )
        })
        .collect();
    // The rule first (priority 10), then the default action; weight 0 sends nothing; the
    // `default` rule repeats the default action and adds nothing.
    assert_eq!(
        names,
        vec![
            ("my-images", "rule 10 (9683b2d02a6cabee)"),
            ("my-targets", "default action")
        ]
    );
    let images = net
        .target_groups
        .iter()
        .find(|t| t.name == "my-images")
        .unwrap();
    assert_eq!(images.health_port(8080), Some(8081));
    let targets = net
        .target_groups
        .iter()
        .find(|t| t.name == "my-targets")
        .unwrap();
    assert_eq!(targets.health_port(80), Some(80));
    assert!(targets.attributes.is_some());
    let n = net.load_balancer("my-network-load-balancer").unwrap();
    assert_eq!(net.load_balancers[n].cross_zone, Some(true));
    // By DNS name, case and the `dualstack.` prefix aside.
    assert_eq!(
        net.load_balancer("DUALSTACK.my-load-balancer-424835706.us-west-2.elb.amazonaws.com"),
        Some(i)
    );
}

fn audit_json(dir: &Path) -> Value {
    let mut cmd = Command::cargo_bin("vpcreach").unwrap();
    let policies = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    let out = cmd
        .args(["audit", "--snapshot"])
        .arg(dir)
        .arg("--policies")
        .arg(&policies)
        .args(["--output", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn findings_of<'a>(v: &'a Value, check: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .collect()
}

#[test]
fn audit_names_a_target_unhealthy_by_configuration() {
    let lb = alb();
    let mut v = fixture(&lb);
    find(&mut v, "NetworkAcls", "NetworkAclId", "acl-b")["Entries"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"RuleNumber": 50, "Protocol": "6", "RuleAction": "deny", "Egress": true,
                     "CidrBlock": "10.0.2.20/32", "PortRange": {"From": 8080, "To": 8080}}),
        );
    let dir = write(&lb, &v, &[], &[]);
    let j = audit_json(dir.path());
    let found = findings_of(&j, "lb-target-unreachable");
    let f = found
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("target i-app:8080"))
        .unwrap_or_else(|| panic!("{j:#}"));
    let resources: Vec<&str> = f["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        resources.contains(&lb_arn(&lb).as_str())
            && resources.contains(&"i-app")
            && resources.contains(&"acl-b"),
        "{resources:?}"
    );
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("web-alb")
            && msg.contains("eni-lb-b")
            && msg.contains("rule 50")
            && msg.contains("unhealthy by configuration"),
        "{msg}"
    );
    assert_eq!(f["status"], "blocked");
    // The other target, reached by both nodes, has no finding; nor does any target of a
    // network where every node reaches it.
    assert!(
        !found.iter().any(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("target i-app2:8080")),
        "{found:#?}"
    );
    assert!(findings_of(&j, "lb-client-address-dropped").is_empty());
}

#[test]
fn audit_names_a_healthy_target_that_drops_preserved_clients() {
    let lb = nlb(vec![], "instance");
    let dir = write(&lb, &fixture(&lb), &[], &[]);
    let j = audit_json(dir.path());
    let found = findings_of(&j, "lb-client-address-dropped");
    let f = found
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("target i-app:8080"))
        .unwrap_or_else(|| panic!("{j:#}"));
    let msg = f["message"].as_str().unwrap();
    assert!(
        msg.contains("web-nlb") && msg.contains("passes health checks") && msg.contains("sg-app"),
        "{msg}"
    );
    assert!(f["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "sg-app"));
    // Its health checks pass: no "unhealthy" finding for it.
    assert!(!findings_of(&j, "lb-target-unreachable")
        .iter()
        .any(|f| f["message"].as_str().unwrap().contains("target i-app:8080")));
    // With preservation off, the finding goes away.
    let dir = write(
        &lb,
        &fixture(&lb),
        &[("preserve_client_ip.enabled", "false")],
        &[],
    );
    let j = audit_json(dir.path());
    assert!(
        !findings_of(&j, "lb-client-address-dropped")
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("target i-app:8080")),
        "{j:#}"
    );
}

#[test]
fn explain_names_the_load_balancer_a_record_came_through() {
    let lb = nlb(vec![], "instance");
    let dir = write(&lb, &fixture(&lb), &[], &[]);
    let flows = dir.path().join("flows.log");
    std::fs::write(
        &flows,
        "2 111122223333 eni-app 10.0.1.100 10.0.2.20 40000 8080 6 10 840 1700000000 1700000060 ACCEPT OK\n\
         2 111122223333 eni-app 198.51.100.7 10.0.2.20 40001 8080 6 10 840 1700000000 1700000060 REJECT OK\n\
         2 111122223333 eni-lb-a 198.51.100.7 10.0.1.100 40002 443 6 10 840 1700000000 1700000060 ACCEPT OK\n\
         2 111122223333 eni-app 10.0.1.10 10.0.2.20 40003 22 6 10 840 1700000000 1700000060 REJECT OK\n",
    )
    .unwrap();
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .args(["explain", "--snapshot"])
        .arg(dir.path())
        .arg(&flows)
        .args(["--output", "jsonl"])
        .output()
        .unwrap();
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let via = |i: usize| lines[i]["via"].as_str().unwrap_or("").to_string();
    assert!(
        via(0).contains("eni-lb-a is a node of Network Load Balancer web-nlb")
            && via(0).contains("tg-app"),
        "{}",
        via(0)
    );
    assert!(
        via(1).contains("198.51.100.7 is a client of Network Load Balancer web-nlb")
            && via(1).contains("preserved"),
        "{}",
        via(1)
    );
    assert!(
        via(2).contains("eni-lb-a is a node of Network Load Balancer web-nlb"),
        "{}",
        via(2)
    );
    assert!(lines[3]["via"].is_null(), "{:#}", lines[3]);
}
