//! One test per point of `aws-semantics.md` sections "Security groups", "Network ACLs" and
//! "Routing" (points 1–25), each through the real loader, model and query walk.

mod common;

use common::*;
use serde_json::json;
use vpcreach::trace::{Decision, Layer, PathDir};
use vpcreach::Verdict;

fn set_sg_in(v: &mut serde_json::Value, sg: &str, perms: serde_json::Value) {
    find(v, "SecurityGroups", "GroupId", sg)["IpPermissions"] = perms;
}

fn set_sg_out(v: &mut serde_json::Value, sg: &str, perms: serde_json::Value) {
    find(v, "SecurityGroups", "GroupId", sg)["IpPermissionsEgress"] = perms;
}

/// Gives `subnet` its own NACL with `entries`.
fn own_nacl(v: &mut serde_json::Value, subnet: &str, entries: serde_json::Value) {
    let id = format!("acl-{subnet}");
    let def = find(v, "NetworkAcls", "NetworkAclId", "acl-default");
    let assoc = def["Associations"].as_array_mut().unwrap();
    assoc.retain(|a| a["SubnetId"] != subnet);
    let acls = v["NetworkAcls"].as_array_mut().unwrap();
    acls.retain(|a| a["NetworkAclId"] != id.as_str());
    acls.push(json!({
        "NetworkAclId": id, "VpcId": "vpc-a", "IsDefault": false,
        "Associations": [{"NetworkAclId": id, "SubnetId": subnet}],
        "Entries": entries
    }));
}

fn add_route(v: &mut serde_json::Value, rtb: &str, route: serde_json::Value) {
    find(v, "RouteTables", "RouteTableId", rtb)["Routes"]
        .as_array_mut()
        .unwrap()
        .push(route);
}

// ---- security groups ----------------------------------------------------------------------

#[test]
fn p01_groups_are_a_union_and_no_match_denies() {
    let mut v = base();
    // Only sg-app is attached: 22 from the web tier is not allowed.
    let t = query(&v, "eni-web", "eni-app", "tcp", Some(22), None);
    assert_eq!(t.verdict, Verdict::Unreachable);
    assert_eq!(code(&t), "ENI_SG_RULES_MISMATCH");
    let b = t.blocked_at.as_ref().unwrap();
    assert_eq!(b.resources, vec!["sg-app".to_string()]);
    // A second group that allows it: the union allows.
    v["SecurityGroups"].as_array_mut().unwrap().push(json!({
        "GroupId": "sg-ssh", "GroupName": "ssh", "VpcId": "vpc-a",
        "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.1.0/24"}]}],
        "IpPermissionsEgress": []}));
    find(&mut v, "NetworkInterfaces", "NetworkInterfaceId", "eni-app")["Groups"] =
        json!([{"GroupId": "sg-app"}, {"GroupId": "sg-ssh"}]);
    let t = query(&v, "eni-web", "eni-app", "tcp", Some(22), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    let sg = &t.forward.hops.last().unwrap().checks[0];
    assert_eq!(sg.resources, vec!["sg-ssh".to_string()]);
    // Denied again on another port, now naming both groups.
    let t = query(&v, "eni-web", "eni-app", "tcp", Some(23), None);
    assert_eq!(
        t.blocked_at.unwrap().resources,
        vec!["sg-app".to_string(), "sg-ssh".to_string()]
    );
}

#[test]
fn p02_sources_ipv6_cidr_prefix_list_and_group() {
    let mut v = base();
    // IPv6 CIDR: the internet reaches web's IPv6 address on 443 through ::/0.
    let t = query(
        &v,
        "2001:db8::1",
        "2600:1f18:0:1::10",
        "tcp",
        Some(443),
        None,
    );
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    // Group reference: web → app 8080.
    let t = query(&v, "eni-web", "eni-app", "tcp", Some(8080), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    // Prefix list.
    v["ManagedPrefixLists"] = json!([{"PrefixListId": "pl-corp", "AddressFamily": "IPv4",
        "Entries": [{"Cidr": "10.0.2.22/32"}]}]);
    set_sg_in(
        &mut v,
        "sg-db",
        json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "PrefixListIds": [{"PrefixListId": "pl-corp"}]}]),
    );
    let t = query(&v, "eni-app2", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    let t = query(&v, "eni-app", "eni-db", "tcp", Some(5432), None);
    assert_eq!(code(&t), "ENI_SG_RULES_MISMATCH");
}

#[test]
fn p03_group_reference_matches_private_ips_only_and_unknown_refs_are_unknown() {
    let mut v = base();
    // A secondary private address of a member ENI matches.
    let web = find(&mut v, "NetworkInterfaces", "NetworkInterfaceId", "eni-web");
    web["PrivateIpAddresses"]
        .as_array_mut()
        .unwrap()
        .push(json!({"PrivateIpAddress": "10.0.1.11", "Primary": false}));
    let t = query(&v, "10.0.1.11", "eni-app", "tcp", Some(8080), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    // Through the internet the source is web's public IP: the reference does not match.
    let app = find(&mut v, "NetworkInterfaces", "NetworkInterfaceId", "eni-app");
    app["SubnetId"] = json!("subnet-pub");
    app["Association"] = json!({"PublicIp": "54.0.0.20"});
    app["PrivateIpAddresses"][0]["Association"] = json!({"PublicIp": "54.0.0.20"});
    let t = query(&v, "eni-web", "54.0.0.20", "tcp", Some(8080), None);
    assert_eq!(t.verdict, Verdict::Unreachable, "{}", t.message);
    assert_eq!(code(&t), "ENI_SG_RULES_MISMATCH");
    assert!(t.message.contains("54.0.0.10"), "{}", t.message);
    // A reference to a group not in the snapshot is unknown, not a deny.
    set_sg_in(
        &mut v,
        "sg-db",
        json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": "sg-gone", "UserId": "999999999999"}]}]),
    );
    let t = query(&v, "eni-app2", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Unknown);
    assert_eq!(code(&t), "UNKNOWN_PEERED_SGS");
    // But a rule that does allow decides even when an unknown one is there.
    set_sg_in(
        &mut v,
        "sg-db",
        json!([
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": "sg-gone"}]},
        {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.0.2.0/24"}]}]),
    );
    let t = query(&v, "eni-app2", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Reachable);
}

#[test]
fn p04_prefix_list_without_entries_is_unknown() {
    let mut v = base();
    v["ManagedPrefixLists"] =
        json!([{"PrefixListId": "pl-unk", "AddressFamily": "IPv4", "Entries": null}]);
    set_sg_in(
        &mut v,
        "sg-db",
        json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "PrefixListIds": [{"PrefixListId": "pl-unk"}]}]),
    );
    let t = query(&v, "eni-app", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Unknown);
    assert_eq!(code(&t), "UNKNOWN_PREFIX_LIST");
    // AWS-managed lists in `describe-prefix-lists` shape are lists like any other.
    v["PrefixLists"] = json!([{"PrefixListId": "pl-unk", "PrefixListName": "com.amazonaws.us-east-1.s3", "Cidrs": ["10.0.2.0/24"]}]);
    let t = query(&v, "eni-app", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
}

#[test]
fn p05_protocols_ports_and_icmp_type_code() {
    let mut v = base();
    set_sg_in(
        &mut v,
        "sg-db",
        json!([
        {"IpProtocol": "17", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]},
        {"IpProtocol": "47", "FromPort": 0, "ToPort": 0, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]},
        {"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]),
    );
    // Numeric 17 is UDP with ports.
    assert_eq!(
        query(&v, "eni-app", "eni-db", "udp", Some(53), None).verdict,
        Verdict::Reachable
    );
    assert_eq!(
        query(&v, "eni-app", "eni-db", "udp", Some(54), None).verdict,
        Verdict::Unreachable
    );
    assert_eq!(
        query(&v, "eni-app", "eni-db", "tcp", Some(53), None).verdict,
        Verdict::Unreachable
    );
    // GRE: ports ignored.
    assert_eq!(
        query(&v, "eni-app", "eni-db", "47", None, None).verdict,
        Verdict::Reachable
    );
    // ICMP: type 8 (echo) any code allowed, type 13 not.
    assert_eq!(
        query(&v, "eni-app", "eni-db", "icmp", Some(8), None).verdict,
        Verdict::Reachable
    );
    assert_eq!(
        query(&v, "eni-app", "eni-db", "icmp", Some(13), None).verdict,
        Verdict::Unreachable
    );
    // -1 allows everything; `all` queries need an all-traffic rule.
    assert_eq!(
        query(&v, "eni-app", "eni-db", "all", None, None).verdict,
        Verdict::Unreachable
    );
    set_sg_in(
        &mut v,
        "sg-db",
        json!([{"IpProtocol": "-1", "FromPort": 5, "ToPort": 5, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]),
    );
    assert_eq!(
        query(&v, "eni-app", "eni-db", "all", None, None).verdict,
        Verdict::Reachable
    );
    assert_eq!(
        query(&v, "eni-app", "eni-db", "tcp", Some(6000), None).verdict,
        Verdict::Reachable
    );
}

#[test]
fn p06_responses_are_allowed_statefully() {
    let v = base();
    // sg-app has no inbound rule for the response from db; tracking lets it in.
    let t = query(&v, "eni-app", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    let ret = t.return_path.unwrap();
    let sg_back = ret
        .hops
        .last()
        .unwrap()
        .checks
        .iter()
        .find(|c| c.layer == Layer::SecurityGroup)
        .unwrap();
    assert_eq!(sg_back.decision, Decision::Allow);
    assert_eq!(sg_back.tracking, Some("tracked"));
    assert!(
        sg_back.detail.contains("request was allowed by sg-app"),
        "{}",
        sg_back.detail
    );
}

#[test]
fn p07_untracked_flows_and_icmp_always_tracked() {
    let mut v = base();
    // 443 from 0.0.0.0/0 and all outbound to 0.0.0.0/0: untracked, response judged by that rule.
    let t = query(&v, "8.8.8.8", "54.0.0.10", "tcp", Some(443), None);
    let ret = t.return_path.unwrap();
    let sg = &ret.hops[0].checks[0];
    assert_eq!(sg.tracking, Some("untracked"), "{}", sg.detail);
    // Narrow the outbound rule: now tracked.
    set_sg_out(
        &mut v,
        "sg-web",
        json!([{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]),
    );
    let t = query(&v, "8.8.8.8", "54.0.0.10", "tcp", Some(443), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert_eq!(
        t.return_path.unwrap().hops[0].checks[0].tracking,
        Some("tracked")
    );
    // ICMP is always tracked.
    let mut v = base();
    set_sg_in(
        &mut v,
        "sg-web",
        json!([{"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]),
    );
    let t = query(&v, "8.8.8.8", "54.0.0.10", "icmp", None, None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert_eq!(
        t.return_path.unwrap().hops[0].checks[0].tracking,
        Some("tracked")
    );
}

#[test]
fn p09_p15_resolver_and_metadata_are_not_filtered() {
    let mut v = base();
    set_sg_out(&mut v, "sg-db", json!([]));
    own_nacl(&mut v, "subnet-db", json!([]));
    for dst in ["10.0.0.2", "169.254.169.254", "169.254.169.123"] {
        let t = query(&v, "eni-db", dst, "udp", Some(53), None);
        assert_eq!(t.verdict, Verdict::Reachable, "{dst}: {}", t.message);
        assert_eq!(t.forward.hops[0].checks[0].layer, Layer::Exempt);
    }
    // Anything else is filtered.
    let t = query(&v, "eni-db", "10.0.0.3", "udp", Some(53), None);
    assert_eq!(t.verdict, Verdict::Unreachable);
}

#[test]
fn p10_default_group_allows_its_members() {
    let mut v = base();
    v["SecurityGroups"].as_array_mut().unwrap().push(json!({
        "GroupId": "sg-default", "GroupName": "default", "VpcId": "vpc-a",
        "IpPermissions": [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-default"}]}],
        "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}));
    for e in ["eni-app", "eni-app2"] {
        find(&mut v, "NetworkInterfaces", "NetworkInterfaceId", e)["Groups"] =
            json!([{"GroupId": "sg-default"}]);
    }
    assert_eq!(
        query(&v, "eni-app", "eni-app2", "tcp", Some(9999), None).verdict,
        Verdict::Reachable
    );
    assert_eq!(
        query(&v, "eni-app", "eni-app2", "udp", Some(1), None).verdict,
        Verdict::Reachable
    );
    let t = query(&v, "eni-web", "eni-app2", "tcp", Some(9999), None);
    assert_eq!(code(&t), "ENI_SG_RULES_MISMATCH");
}

// ---- network ACLs -------------------------------------------------------------------------

#[test]
fn p11_nacl_rules_in_rule_number_order_first_match_and_star_rule() {
    let mut v = base();
    // Given in no useful order, directions mixed, as the API returns them.
    own_nacl(
        &mut v,
        "subnet-db",
        json!([
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 200, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "10.0.0.0/16", "PortRange": {"From": 5432, "To": 5432}},
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 90, "Protocol": "6", "RuleAction": "deny", "Egress": false, "CidrBlock": "10.0.2.22/32", "PortRange": {"From": 5000, "To": 6000}},
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": true, "CidrBlock": "0.0.0.0/0"}]),
    );
    let t = query(&v, "eni-app", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    let t = query(&v, "eni-app2", "eni-db", "tcp", Some(5432), None);
    assert_eq!(code(&t), "SUBNET_ACL_RESTRICTION");
    let b = t.blocked_at.unwrap();
    assert_eq!(b.rule_number, Some(90));
    assert_eq!(b.resources, vec!["acl-subnet-db".to_string()]);
    // Nothing matches: the `*` rule.
    let mut v2 = v.clone();
    set_sg_in(
        &mut v2,
        "sg-db",
        json!([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]),
    );
    let t = query(&v2, "eni-app", "eni-db", "tcp", Some(22), None);
    assert_eq!(t.blocked_at.unwrap().rule_number, Some(32767));
    // IPv6 has its own `*` rule: IPv4 allow rules do not let IPv6 in.
    let mut v3 = base();
    own_nacl(
        &mut v3,
        "subnet-pub",
        json!([
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"}]),
    );
    assert_eq!(
        query(&v3, "8.8.8.8", "54.0.0.10", "tcp", Some(443), None).verdict,
        Verdict::Reachable
    );
    let t = query(
        &v3,
        "2001:db8::1",
        "2600:1f18:0:1::10",
        "tcp",
        Some(443),
        None,
    );
    assert_eq!(code(&t), "SUBNET_ACL_RESTRICTION");
    assert_eq!(t.blocked_at.unwrap().rule_number, Some(32767));
}

#[test]
fn p12_nacl_not_applied_inside_one_subnet() {
    let mut v = base();
    own_nacl(&mut v, "subnet-app", json!([]));
    set_sg_in(
        &mut v,
        "sg-app",
        json!([{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-app"}]}]),
    );
    let t = query(&v, "eni-app", "eni-app2", "tcp", Some(80), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert!(t
        .forward
        .hops
        .iter()
        .all(|h| h.checks.iter().all(|c| c.layer != Layer::NetworkAcl)));
    // Leaving the subnet, the NACL applies.
    let t = query(&v, "eni-app", "eni-db", "tcp", Some(5432), None);
    assert_eq!(code(&t), "SUBNET_ACL_RESTRICTION");
    assert_eq!(t.blocked_at.unwrap().component, "subnet-app");
}

#[test]
fn p13_stateless_return_needs_ephemeral_ports() {
    let mut v = base();
    own_nacl(
        &mut v,
        "subnet-db",
        json!([
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "10.0.0.0/16", "PortRange": {"From": 5432, "To": 5432}},
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": true, "CidrBlock": "10.0.0.0/16", "PortRange": {"From": 32768, "To": 60999}}]),
    );
    // Any client port: reachable for Linux ports only, and said so.
    let t = query(&v, "eni-app", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert_eq!(t.src_ports.as_ref().unwrap().to_string(), "32768-60999");
    assert!(
        t.notes.iter().any(|n| n.contains("32768-60999")),
        "{:?}",
        t.notes
    );
    // A Windows client port outside the range: the response is denied by the `*` rule.
    let t = query(&v, "eni-app", "eni-db", "tcp", Some(5432), Some(61000));
    assert_eq!(t.verdict, Verdict::Unreachable);
    let b = t.blocked_at.unwrap();
    assert_eq!(b.path, PathDir::Return);
    assert_eq!(b.rule_number, Some(32767));
    assert_eq!(
        b.direction,
        Some(vpcreach::security_group::Direction::Outbound)
    );
    // No ephemeral rule at all: request accepted, response rejected.
    own_nacl(
        &mut v,
        "subnet-db",
        json!([
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "10.0.0.0/16", "PortRange": {"From": 5432, "To": 5432}}]),
    );
    let t = query(&v, "eni-app", "eni-db", "tcp", Some(5432), None);
    assert_eq!(code(&t), "SUBNET_ACL_RESTRICTION");
    assert_eq!(t.blocked_at.unwrap().path, PathDir::Return);
}

#[test]
fn p14_nacl_protocols_and_icmp_type_code() {
    let mut v = base();
    set_sg_in(
        &mut v,
        "sg-db",
        json!([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]),
    );
    own_nacl(
        &mut v,
        "subnet-db",
        json!([
        {"RuleNumber": 100, "Protocol": "1", "RuleAction": "allow", "Egress": false, "CidrBlock": "10.0.0.0/16", "IcmpTypeCode": {"Type": 8, "Code": -1}},
        {"RuleNumber": 110, "Protocol": "47", "RuleAction": "allow", "Egress": false, "CidrBlock": "10.0.0.0/16", "PortRange": {"From": 1, "To": 1}},
        {"RuleNumber": 110, "Protocol": "47", "RuleAction": "allow", "Egress": true, "CidrBlock": "10.0.0.0/16"},
        {"RuleNumber": 100, "Protocol": "1", "RuleAction": "allow", "Egress": true, "CidrBlock": "10.0.0.0/16", "IcmpTypeCode": {"Type": 8, "Code": -1}}]),
    );
    // The echo request passes; the echo reply (type 0) is denied on the way back.
    let t = query(&v, "eni-app", "eni-db", "icmp", Some(8), None);
    assert_eq!(code(&t), "SUBNET_ACL_RESTRICTION", "{}", t.message);
    assert_eq!(t.blocked_at.unwrap().path, PathDir::Return);
    // GRE ignores the rule's port range.
    assert_eq!(
        query(&v, "eni-app", "eni-db", "47", None, None).verdict,
        Verdict::Reachable
    );
}

// ---- routing -------------------------------------------------------------------------------

#[test]
fn p16_explicit_association_else_main_table() {
    let v = base();
    let t = query(&v, "eni-app", "8.8.8.8", "tcp", Some(443), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert!(t.forward.hops.iter().any(|h| h.component == "rtb-main"));
    assert!(t.forward.hops.iter().any(|h| h.component == "nat-1"));
    let t = query(&v, "eni-web", "8.8.8.8", "tcp", Some(443), None);
    assert!(t.forward.hops.iter().any(|h| h.component == "rtb-pub"));
    assert!(!t.forward.hops.iter().any(|h| h.component == "nat-1"));
}

#[test]
fn p17_longest_prefix_and_routes_more_specific_than_local() {
    let mut v = base();
    v["NetworkInterfaces"].as_array_mut().unwrap().push(eni(
        "eni-fw",
        "subnet-pub",
        "10.0.1.50",
        &["sg-web"],
        None,
        None,
    ));
    add_route(
        &mut v,
        "rtb-main",
        json!({"DestinationCidrBlock": "10.0.3.0/24", "NetworkInterfaceId": "eni-fw", "State": "active"}),
    );
    set_sg_in(
        &mut v,
        "sg-web",
        json!([{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]),
    );
    let t = query(&v, "eni-app", "eni-db", "tcp", Some(5432), None);
    assert_eq!(
        code(&t),
        "ENI_SOURCE_DEST_CHECK_RESTRICTION",
        "{}",
        t.message
    );
    find(&mut v, "NetworkInterfaces", "NetworkInterfaceId", "eni-fw")["SourceDestCheck"] =
        json!(false);
    let t = query(&v, "eni-app", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Unknown);
    assert_eq!(code(&t), "NOT_MODELLED");
    assert_eq!(t.blocked_at.unwrap().component, "eni-fw");
    // Other subnets of the VPC still go local.
    assert_eq!(
        query(&v, "eni-web", "eni-app", "tcp", Some(8080), None).verdict,
        Verdict::Reachable
    );
}

#[test]
fn p18_static_beats_propagated_and_cidr_beats_prefix_list() {
    let mut v = base();
    add_route(
        &mut v,
        "rtb-pub",
        json!({"DestinationCidrBlock": "8.8.8.0/24", "GatewayId": "vgw-1", "State": "active", "Origin": "EnableVgwRoutePropagation"}),
    );
    add_route(
        &mut v,
        "rtb-pub",
        json!({"DestinationCidrBlock": "8.8.8.0/24", "GatewayId": "igw-a", "State": "active", "Origin": "CreateRoute"}),
    );
    let t = query(&v, "eni-web", "8.8.8.8", "tcp", Some(443), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    v["PrefixLists"] = json!([{"PrefixListId": "pl-x", "Cidrs": ["9.9.9.0/24"]}]);
    add_route(
        &mut v,
        "rtb-pub",
        json!({"DestinationPrefixListId": "pl-x", "GatewayId": "vgw-1", "State": "active"}),
    );
    add_route(
        &mut v,
        "rtb-pub",
        json!({"DestinationCidrBlock": "9.9.9.0/24", "GatewayId": "igw-a", "State": "active"}),
    );
    let t = query(&v, "eni-web", "9.9.9.9", "tcp", Some(443), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    // Remove the CIDR route: the prefix-list route (to the VGW) wins, which is not modelled.
    find(&mut v, "RouteTables", "RouteTableId", "rtb-pub")["Routes"]
        .as_array_mut()
        .unwrap()
        .pop();
    let t = query(&v, "eni-web", "9.9.9.9", "tcp", Some(443), None);
    assert_eq!(code(&t), "NOT_MODELLED");
}

#[test]
fn p19_blackhole_route_drops() {
    let mut v = base();
    add_route(
        &mut v,
        "rtb-main",
        json!({"DestinationCidrBlock": "8.8.0.0/16", "TransitGatewayId": "tgw-gone", "State": "blackhole"}),
    );
    let t = query(&v, "eni-app", "8.8.8.8", "tcp", Some(443), None);
    assert_eq!(code(&t), "BAD_STATE_ROUTE");
    assert_eq!(t.blocked_at.unwrap().component, "rtb-main");
    // A shorter route elsewhere does not rescue it; other destinations still work.
    assert_eq!(
        query(&v, "eni-app", "9.9.9.9", "tcp", Some(443), None).verdict,
        Verdict::Reachable
    );
}

#[test]
fn p20_internet_gateway_needs_public_addresses() {
    let mut v = base();
    // No public IP: the IGW drops it.
    v["NetworkInterfaces"].as_array_mut().unwrap().push(eni(
        "eni-priv",
        "subnet-pub",
        "10.0.1.60",
        &["sg-web"],
        None,
        None,
    ));
    let t = query(&v, "eni-priv", "8.8.8.8", "tcp", Some(443), None);
    assert_eq!(code(&t), "IGW_EXPECTS_PUBLIC_ADDRESS");
    // Inbound reaches only the public IP, translated 1:1.
    let t = query(&v, "8.8.8.8", "54.0.0.10", "tcp", Some(443), None);
    assert_eq!(t.verdict, Verdict::Reachable);
    assert!(t.forward.hops.iter().any(|h| h.checks.iter().any(|c| c
        .detail
        .contains("translates destination 54.0.0.10 to 10.0.1.10"))));
    let t = query(&v, "8.8.8.8", "10.0.1.10", "tcp", Some(443), None);
    assert_eq!(code(&t), "NO_ROUTE_TO_DESTINATION");
    // Private destinations are not routed to the internet.
    let t = query(&v, "eni-web", "172.16.5.5", "tcp", Some(443), None);
    assert_eq!(code(&t), "NO_ROUTE_TO_DESTINATION");
    // IPv6 needs no public address.
    let t = query(&v, "eni-web", "2001:db8::1", "tcp", Some(443), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
}

#[test]
fn p21_nat_gateway_out_and_no_unsolicited_in() {
    let v = base();
    let t = query(&v, "eni-app", "8.8.8.8", "tcp", Some(443), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert!(t.forward.hops.iter().any(|h| h
        .checks
        .iter()
        .any(|c| c.detail.contains("translates source 10.0.1.5 to 54.0.0.5"))));
    let ret = t.return_path.unwrap();
    assert!(ret.hops.iter().any(|h| h.component == "nat-1"));
    let t = query(&v, "8.8.8.8", "54.0.0.5", "tcp", Some(443), None);
    assert_eq!(code(&t), "NAT_GATEWAY_UNSOLICITED_INBOUND");
    // The NAT gateway's subnet NACL is on the path, for the NAT's own ports too.
    let mut v = base();
    own_nacl(
        &mut v,
        "subnet-pub",
        json!([
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "10.0.0.0/16", "PortRange": {"From": 0, "To": 65535}}]),
    );
    let t = query(&v, "eni-app", "8.8.8.8", "tcp", Some(443), None);
    assert_eq!(code(&t), "SUBNET_ACL_RESTRICTION");
    let b = t.blocked_at.unwrap();
    assert_eq!(
        (b.path, b.component.as_str()),
        (PathDir::Return, "subnet-pub")
    );
}

fn peered() -> serde_json::Value {
    let mut v = base();
    v["Vpcs"]
        .as_array_mut()
        .unwrap()
        .push(json!({"VpcId": "vpc-b", "CidrBlock": "10.1.0.0/16"}));
    v["Subnets"].as_array_mut().unwrap().push(json!({"SubnetId": "subnet-b", "VpcId": "vpc-b", "CidrBlock": "10.1.1.0/24", "AvailabilityZone": "us-east-1a"}));
    v["VpcPeeringConnections"] = json!([{"VpcPeeringConnectionId": "pcx-1", "Status": {"Code": "active"},
        "RequesterVpcInfo": {"VpcId": "vpc-a", "CidrBlock": "10.0.0.0/16"},
        "AccepterVpcInfo": {"VpcId": "vpc-b", "CidrBlock": "10.1.0.0/16"}}]);
    v["RouteTables"].as_array_mut().unwrap().push(json!({"RouteTableId": "rtb-b", "VpcId": "vpc-b",
        "Associations": [{"Main": true}],
        "Routes": [
            {"DestinationCidrBlock": "10.1.0.0/16", "GatewayId": "local", "State": "active"},
            {"DestinationCidrBlock": "10.0.0.0/16", "VpcPeeringConnectionId": "pcx-1", "State": "active"},
            {"DestinationCidrBlock": "0.0.0.0/0", "VpcPeeringConnectionId": "pcx-1", "State": "active"}]}));
    add_route(
        &mut v,
        "rtb-main",
        json!({"DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": "pcx-1", "State": "active"}),
    );
    v["NetworkAcls"].as_array_mut().unwrap().push(
        json!({"NetworkAclId": "acl-b", "VpcId": "vpc-b", "IsDefault": true,
        "Associations": [{"SubnetId": "subnet-b"}], "Entries": allow_all_entries()}),
    );
    v["SecurityGroups"].as_array_mut().unwrap().push(json!({"GroupId": "sg-b", "GroupName": "analytics", "VpcId": "vpc-b",
        "IpPermissions": [], "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}));
    let mut b = eni("eni-b", "subnet-b", "10.1.1.10", &["sg-b"], None, None);
    b["VpcId"] = json!("vpc-b");
    v["NetworkInterfaces"].as_array_mut().unwrap().push(b);
    set_sg_in(
        &mut v,
        "sg-db",
        json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": "sg-b", "UserId": "222233334444", "VpcPeeringConnectionId": "pcx-1"}]}]),
    );
    v
}

#[test]
fn p22_peering_needs_routes_both_ways_and_is_not_transitive() {
    let mut v = peered();
    // The peered group reference matches across the peering.
    let t = query(&v, "eni-b", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert!(t.forward.hops.iter().any(|h| h.component == "pcx-1"));
    // No transitive routing: vpc-b cannot use vpc-a's NAT or IGW through the peering.
    let t = query(&v, "eni-b", "8.8.8.8", "tcp", Some(443), None);
    assert_eq!(code(&t), "NO_ROUTE_TO_DESTINATION");
    assert_eq!(t.blocked_at.unwrap().component, "pcx-1");
    // Remove vpc-a's route back (db uses rtb-main): the response has no route.
    find(&mut v, "RouteTables", "RouteTableId", "rtb-main")["Routes"]
        .as_array_mut()
        .unwrap()
        .pop();
    let t = query(&v, "eni-b", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Unreachable, "{}", t.message);
    assert_eq!(t.blocked_at.unwrap().path, PathDir::Return);
    // An inactive peering.
    let mut v = peered();
    v["VpcPeeringConnections"][0]["Status"]["Code"] = json!("pending-acceptance");
    let t = query(&v, "eni-b", "eni-db", "tcp", Some(5432), None);
    assert_eq!(code(&t), "PEERING_CONNECTION_NOT_ACTIVE");
}

#[test]
fn p23_transit_gateway_route_tables_and_availability_zones() {
    let mut v = peered();
    v["VpcPeeringConnections"] = json!([]);
    for rt in ["rtb-main", "rtb-b"] {
        for r in find(&mut v, "RouteTables", "RouteTableId", rt)["Routes"]
            .as_array_mut()
            .unwrap()
        {
            if r.get("VpcPeeringConnectionId").is_some() {
                r.as_object_mut().unwrap().remove("VpcPeeringConnectionId");
                r["TransitGatewayId"] = json!("tgw-1");
            }
        }
    }
    set_sg_in(
        &mut v,
        "sg-db",
        json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}]),
    );
    v["TransitGateways"] = json!([{"TransitGatewayId": "tgw-1", "State": "available"}]);
    v["TransitGatewayVpcAttachments"] = json!([
        {"TransitGatewayAttachmentId": "tgw-attach-a", "TransitGatewayId": "tgw-1", "VpcId": "vpc-a", "SubnetIds": ["subnet-app", "subnet-db"], "State": "available"},
        {"TransitGatewayAttachmentId": "tgw-attach-b", "TransitGatewayId": "tgw-1", "VpcId": "vpc-b", "SubnetIds": ["subnet-b"], "State": "available"}]);
    v["TransitGatewayAttachments"] = json!([
        {"TransitGatewayAttachmentId": "tgw-attach-a", "TransitGatewayId": "tgw-1", "ResourceType": "vpc", "ResourceId": "vpc-a",
         "Association": {"TransitGatewayRouteTableId": "tgw-rtb-1", "State": "associated"}},
        {"TransitGatewayAttachmentId": "tgw-attach-b", "TransitGatewayId": "tgw-1", "ResourceType": "vpc", "ResourceId": "vpc-b",
         "Association": {"TransitGatewayRouteTableId": "tgw-rtb-1", "State": "associated"}}]);
    v["TransitGatewayRouteTables"] =
        json!([{"TransitGatewayRouteTableId": "tgw-rtb-1", "TransitGatewayId": "tgw-1"}]);
    v["TransitGatewayPropagations"] = json!([{"TransitGatewayRouteTableId": "tgw-rtb-1", "TransitGatewayRouteTablePropagations": [
        {"TransitGatewayAttachmentId": "tgw-attach-a", "ResourceId": "vpc-a", "ResourceType": "vpc", "State": "enabled"},
        {"TransitGatewayAttachmentId": "tgw-attach-b", "ResourceId": "vpc-b", "ResourceType": "vpc", "State": "enabled"}]}]);
    let t = query(&v, "eni-b", "eni-db", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert!(t.forward.hops.iter().any(|h| h.component == "tgw-1"));
    // Group references do not match across a transit gateway (only across peering).
    set_sg_in(
        &mut v,
        "sg-db",
        json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "UserIdGroupPairs": [{"GroupId": "sg-b"}]}]),
    );
    assert_eq!(
        code(&query(&v, "eni-b", "eni-db", "tcp", Some(5432), None)),
        "ENI_SG_RULES_MISMATCH"
    );
    set_sg_in(
        &mut v,
        "sg-db",
        json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432, "IpRanges": [{"CidrIp": "10.1.0.0/16"}]}]),
    );
    // vpc-b's attachment has no subnet in us-east-1b: a source there cannot reach the TGW.
    v["Subnets"].as_array_mut().unwrap().push(json!({"SubnetId": "subnet-b2", "VpcId": "vpc-b", "CidrBlock": "10.1.2.0/24", "AvailabilityZone": "us-east-1b"}));
    find(&mut v, "NetworkAcls", "NetworkAclId", "acl-b")["Associations"]
        .as_array_mut()
        .unwrap()
        .push(json!({"SubnetId": "subnet-b2"}));
    let mut b2 = eni("eni-b2", "subnet-b2", "10.1.2.10", &["sg-b"], None, None);
    b2["VpcId"] = json!("vpc-b");
    b2["AvailabilityZone"] = json!("us-east-1b");
    v["NetworkInterfaces"].as_array_mut().unwrap().push(b2);
    assert_eq!(
        code(&query(&v, "eni-b2", "eni-db", "tcp", Some(5432), None)),
        "TGW_NO_ATTACHMENT_IN_AZ"
    );
    // The attachment subnets' NACLs: with vpc-a attached only in subnet-app (us-east-1a), traffic
    // to db (us-east-1b) leaves through subnet-app, whose NACL outbound now judges it.
    let mut w = v.clone();
    w["TransitGatewayVpcAttachments"][0]["SubnetIds"] = json!(["subnet-app"]);
    own_nacl(
        &mut w,
        "subnet-app",
        json!([
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 90, "Protocol": "6", "RuleAction": "deny", "Egress": true, "CidrBlock": "10.0.3.0/24", "PortRange": {"From": 5432, "To": 5432}},
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"}]),
    );
    let t = query(&w, "eni-b", "eni-db", "tcp", Some(5432), None);
    assert_eq!(code(&t), "SUBNET_ACL_RESTRICTION", "{}", t.message);
    let b = t.blocked_at.unwrap();
    assert_eq!(
        (b.component.as_str(), b.rule_number),
        ("subnet-app", Some(90))
    );
    // On the source side the attachment subnet's NACL judges it inbound, even when the source
    // is in that very subnet.
    let mut w = v.clone();
    find(&mut w, "NetworkAcls", "NetworkAclId", "acl-b")["Entries"] = json!([
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "10.0.0.0/16"}]);
    let t = query(&w, "eni-b", "eni-db", "tcp", Some(5432), None);
    assert_eq!(code(&t), "SUBNET_ACL_RESTRICTION", "{}", t.message);
    assert_eq!(
        t.blocked_at.unwrap().direction,
        Some(vpcreach::security_group::Direction::Inbound)
    );
    // A blackhole static route beats nothing: it drops.
    v["TransitGatewayStaticRoutes"] = json!([{"TransitGatewayRouteTableId": "tgw-rtb-1", "Routes": [
        {"DestinationCidrBlock": "10.0.3.0/24", "State": "blackhole", "Type": "static"}]}]);
    assert_eq!(
        code(&query(&v, "eni-b", "eni-db", "tcp", Some(5432), None)),
        "BAD_STATE_ROUTE"
    );
}

#[test]
fn p24_gateway_endpoint_routes_use_prefix_lists() {
    let mut v = base();
    v["PrefixLists"] = json!([{"PrefixListId": "pl-s3", "PrefixListName": "com.amazonaws.us-east-1.s3", "Cidrs": ["52.216.0.0/15"]}]);
    v["VpcEndpoints"] = json!([{"VpcEndpointId": "vpce-s3", "VpcEndpointType": "Gateway", "VpcId": "vpc-a",
        "ServiceName": "com.amazonaws.us-east-1.s3", "RouteTableIds": ["rtb-main"]}]);
    add_route(
        &mut v,
        "rtb-main",
        json!({"DestinationPrefixListId": "pl-s3", "GatewayId": "vpce-s3", "State": "active"}),
    );
    let t = query(&v, "eni-app", "52.216.1.1", "tcp", Some(443), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert!(t.forward.hops.iter().any(|h| h.component == "vpce-s3"));
    assert!(!t.forward.hops.iter().any(|h| h.component == "nat-1"));
    // Addresses outside the list still use the NAT gateway.
    let t = query(&v, "eni-app", "54.1.1.1", "tcp", Some(443), None);
    assert!(t.forward.hops.iter().any(|h| h.component == "nat-1"));
}

#[test]
fn p25_gateway_route_table_redirects_inbound_to_an_appliance() {
    let mut v = base();
    let mut fw = eni("eni-fw", "subnet-app", "10.0.2.50", &["sg-web"], None, None);
    fw["SourceDestCheck"] = json!(false);
    v["NetworkInterfaces"].as_array_mut().unwrap().push(fw);
    v["RouteTables"].as_array_mut().unwrap().push(json!({"RouteTableId": "rtb-edge", "VpcId": "vpc-a",
        "Associations": [{"GatewayId": "igw-a", "Main": false}],
        "Routes": [
            {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
            {"DestinationCidrBlock": "10.0.1.0/24", "NetworkInterfaceId": "eni-fw", "State": "active"}]}));
    let t = query(&v, "8.8.8.8", "54.0.0.10", "tcp", Some(443), None);
    assert_eq!(t.verdict, Verdict::Unknown, "{}", t.message);
    assert_eq!(code(&t), "NOT_MODELLED");
    assert!(t.forward.hops.iter().any(|h| h.component == "rtb-edge"));
    assert_eq!(t.blocked_at.unwrap().component, "eni-fw");
}

#[test]
fn p20_p21_egress_only_gateway_lets_ipv6_out_not_in() {
    let mut v = base();
    v["EgressOnlyInternetGateways"] = json!([{"EgressOnlyInternetGatewayId": "eigw-1", "Attachments": [{"VpcId": "vpc-a", "State": "attached"}]}]);
    // The app subnet gets IPv6 and a ::/0 route to the egress-only gateway; no internet gateway
    // route for it.
    find(&mut v, "Subnets", "SubnetId", "subnet-app")["Ipv6CidrBlockAssociationSet"] =
        json!([{"Ipv6CidrBlock": "2600:1f18:0:2::/64"}]);
    add_route(
        &mut v,
        "rtb-main",
        json!({"DestinationIpv6CidrBlock": "::/0", "EgressOnlyInternetGatewayId": "eigw-1", "State": "active"}),
    );
    find(&mut v, "NetworkInterfaces", "NetworkInterfaceId", "eni-app")["Ipv6Addresses"] =
        json!([{"Ipv6Address": "2600:1f18:0:2::20"}]);
    set_sg_out(
        &mut v,
        "sg-app",
        json!([{"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}], "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]),
    );
    set_sg_in(
        &mut v,
        "sg-app",
        json!([{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]),
    );
    // Out: through the egress-only gateway, and the response comes back in.
    let t = query(&v, "eni-app", "2001:db8::1", "tcp", Some(443), None);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert!(t.forward.hops.iter().any(|h| h.component == "eigw-1"));
    // IPv4 cannot use it.
    let mut v4 = v.clone();
    find(&mut v4, "RouteTables", "RouteTableId", "rtb-main")["Routes"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r.get("NatGatewayId").is_none());
    add_route(
        &mut v4,
        "rtb-main",
        json!({"DestinationCidrBlock": "0.0.0.0/0", "EgressOnlyInternetGatewayId": "eigw-1", "State": "active"}),
    );
    assert_eq!(
        code(&query(&v4, "eni-app", "8.8.8.8", "tcp", Some(443), None)),
        "NO_ROUTE_TO_DESTINATION"
    );
    // In: an inbound connection from the internet is dropped, though the group would allow it
    // (the VPC's internet gateway is detached here, so only the egress-only gateway is there).
    v["InternetGateways"] = json!([]);
    let t = query(
        &v,
        "2001:db8::1",
        "2600:1f18:0:2::20",
        "tcp",
        Some(443),
        None,
    );
    assert_eq!(code(&t), "EGRESS_ONLY_GATEWAY_INBOUND", "{}", t.message);
}

#[test]
fn p03_reference_into_a_peered_vpc_missing_from_the_snapshot_is_unknown() {
    let mut v = base();
    // An active peering to another account's VPC that the snapshot does not hold.
    v["VpcPeeringConnections"] = json!([{"VpcPeeringConnectionId": "pcx-ghost", "Status": {"Code": "active"},
        "RequesterVpcInfo": {"VpcId": "vpc-a", "CidrBlock": "10.0.0.0/16"},
        "AccepterVpcInfo": {"VpcId": "vpc-c", "OwnerId": "222222222222", "CidrBlock": "10.5.0.0/16"}}]);
    add_route(
        &mut v,
        "rtb-main",
        json!({"DestinationCidrBlock": "10.5.0.0/16", "VpcPeeringConnectionId": "pcx-ghost", "State": "active"}),
    );
    set_sg_out(
        &mut v,
        "sg-app",
        json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": "sg-db-c", "UserId": "222222222222", "VpcPeeringConnectionId": "pcx-ghost"}]}]),
    );
    let t = query(&v, "eni-app", "10.5.1.1", "tcp", Some(5432), None);
    assert_eq!(t.verdict, Verdict::Unknown, "{}", t.message);
    assert_eq!(code(&t), "UNKNOWN_PEERED_SGS");
    // Outside every peered VPC the reference cannot match: a plain deny.
    let t = query(&v, "eni-app", "8.8.8.8", "tcp", Some(5432), None);
    assert_eq!(code(&t), "ENI_SG_RULES_MISMATCH");
}

// An IPv6 source is never swapped for an IPv4 address (nor an external address of one family
// sent to a destination of the other): the library answers `unknown` with its own reason.
#[test]
fn mixed_address_families_are_refused_not_swapped() {
    let v = base();
    let net = build(&v);
    let web = net.eni_idx("eni-web").expect("eni-web");
    let v6: std::net::IpAddr = "2600:1f18:0:1::10".parse().unwrap();
    let app = net.resolve("eni-app").expect("eni-app").0;
    let q = |from, to| vpcreach::Query {
        from,
        to,
        protocol: "tcp".parse().unwrap(),
        port: Some(443),
        src_port: None,
    };
    let t = net.query(&q(vpcreach::Endpoint::Eni { eni: web, addr: v6 }, app));
    assert_eq!(t.verdict, Verdict::Unknown, "{}", t.message);
    assert_eq!(code(&t), "MIXED_ADDRESS_FAMILIES");
    assert!(t.message.contains("2600:1f18:0:1::10"), "{}", t.message);
    let t = net.query(&q(
        vpcreach::Endpoint::External("2001:db8::1".parse().unwrap()),
        app,
    ));
    assert_eq!(code(&t), "MIXED_ADDRESS_FAMILIES");
    // An ENI given by id (its primary IPv4 address) still takes an IPv6 destination's family.
    let t = query(&v, "eni-web", "2001:db8::1", "tcp", Some(443), None);
    assert_ne!(code(&t), "MIXED_ADDRESS_FAMILIES", "{}", t.message);
}
