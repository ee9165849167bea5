//! VPC Block Public Access (aws-semantics 35–40) through the real loader, model and query walk:
//! the VPC User Guide's advanced example (Block public access → Advanced example: subnets A and
//! B public, B holding the NAT gateway, C private with IPv4 through the NAT gateway and IPv6
//! through an egress-only internet gateway) in each of its scenarios, then every mode ×
//! exclusion mode × direction, exclusion states, and `ExclusionsAllowed: not-allowed`.

mod common;

use common::*;
use serde_json::{json, Value};
use vpcreach::trace::{Decision, Layer};
use vpcreach::Verdict;

const ACCOUNT: &str = "470889052923";
const REGION: &str = "us-east-2";

fn arn(kind: &str, id: &str) -> String {
    format!("arn:aws:ec2:{REGION}:{ACCOUNT}:{kind}/{id}")
}

fn nic(id: &str, subnet: &str, ip: &str, public: Option<&str>, v6: Option<&str>) -> Value {
    let mut e = eni(id, subnet, ip, &["sg-bpa"], public, v6);
    e["VpcId"] = json!("vpc-bpa");
    e["AvailabilityZone"] = json!("us-east-2a");
    e
}

/// The advanced example's network, without BPA data.
fn example() -> Value {
    let local = json!([
        {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
        {"DestinationIpv6CidrBlock": "2600:1f16:abc:100::/56", "GatewayId": "local", "State": "active"}
    ]);
    let mut public_routes = local.clone();
    public_routes.as_array_mut().unwrap().push(
        json!({"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-bpa", "State": "active"}),
    );
    let mut private_routes = local;
    private_routes.as_array_mut().unwrap().extend([
        json!({"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-bpa", "State": "active"}),
        json!({"DestinationIpv6CidrBlock": "::/0", "EgressOnlyInternetGatewayId": "eigw-bpa", "State": "active"}),
    ]);
    let subnet = |id: &str, cidr: &str| json!({"SubnetId": id, "VpcId": "vpc-bpa", "CidrBlock": cidr, "AvailabilityZone": "us-east-2a", "OwnerId": ACCOUNT});
    let mut c = subnet("subnet-c", "10.0.3.0/24");
    c["Ipv6CidrBlockAssociationSet"] = json!([{"Ipv6CidrBlock": "2600:1f16:abc:100::/64"}]);
    json!({
        "Vpcs": [{"VpcId": "vpc-bpa", "CidrBlock": "10.0.0.0/16", "OwnerId": ACCOUNT,
                  "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:1f16:abc:100::/56"}]}],
        "Subnets": [subnet("subnet-a", "10.0.1.0/24"), subnet("subnet-b", "10.0.2.0/24"), c],
        "InternetGateways": [{"InternetGatewayId": "igw-bpa", "Attachments": [{"VpcId": "vpc-bpa", "State": "available"}]}],
        "EgressOnlyInternetGateways": [{"EgressOnlyInternetGatewayId": "eigw-bpa", "Attachments": [{"VpcId": "vpc-bpa", "State": "attached"}]}],
        "RouteTables": [
            {"RouteTableId": "rtb-public", "VpcId": "vpc-bpa",
             "Associations": [{"SubnetId": "subnet-a"}, {"SubnetId": "subnet-b"}], "Routes": public_routes},
            {"RouteTableId": "rtb-private", "VpcId": "vpc-bpa",
             "Associations": [{"SubnetId": "subnet-c"}, {"Main": true}], "Routes": private_routes}
        ],
        "NetworkAcls": [{"NetworkAclId": "acl-bpa", "VpcId": "vpc-bpa", "IsDefault": true,
            "Associations": [{"SubnetId": "subnet-a"}, {"SubnetId": "subnet-b"}, {"SubnetId": "subnet-c"}],
            "Entries": allow_all_entries()}],
        "SecurityGroups": [{"GroupId": "sg-bpa", "GroupName": "VPC BPA Instances Security Group", "VpcId": "vpc-bpa",
            "IpPermissions": [
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
                {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
            "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]}],
        "NatGateways": [{"NatGatewayId": "nat-bpa", "SubnetId": "subnet-b", "VpcId": "vpc-bpa", "State": "available",
            "NatGatewayAddresses": [{"NetworkInterfaceId": "eni-nat", "PrivateIp": "10.0.2.10", "PublicIp": "3.16.146.5"}]}],
        "NetworkInterfaces": [
            nic("eni-a", "subnet-a", "10.0.1.85", Some("18.225.8.244"), None),
            nic("eni-b", "subnet-b", "10.0.2.98", Some("3.18.106.198"), None),
            nic("eni-c", "subnet-c", "10.0.3.180", None, None),
            nic("eni-d", "subnet-c", "10.0.3.59", None, Some("2600:1f16:abc:100::59")),
            {"NetworkInterfaceId": "eni-nat", "SubnetId": "subnet-b", "VpcId": "vpc-bpa", "InterfaceType": "nat_gateway",
             "PrivateIpAddress": "10.0.2.10", "Association": {"PublicIp": "3.16.146.5"},
             "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.2.10", "Primary": true, "Association": {"PublicIp": "3.16.146.5"}}],
             "Groups": [], "SourceDestCheck": false}
        ]
    })
}

/// The example with BPA options in `mode` and the given exclusions
/// (`(id, mode, "subnet"|"vpc", resource id, state)`).
fn with_bpa(mode: &str, exclusions: &[(&str, &str, &str, &str, &str)]) -> Value {
    let mut v = example();
    v["VpcBlockPublicAccessOptions"] = json!({
        "AwsAccountId": ACCOUNT, "AwsRegion": REGION, "State": "update-complete",
        "InternetGatewayBlockMode": mode, "ManagedBy": "account", "ExclusionsAllowed": "allowed"
    });
    v["VpcBlockPublicAccessExclusions"] = exclusions
        .iter()
        .map(|(id, m, kind, res, state)| {
            json!({"ExclusionId": id, "InternetGatewayExclusionMode": m,
                   "ResourceArn": arn(kind, res), "State": state})
        })
        .collect();
    v
}

const INTERNET: &str = "198.51.100.7";
const INTERNET6: &str = "2001:db8::1";

/// Inbound to A and B (ssh on their public addresses), outbound from A and B (their own public
/// addresses), C through the NAT gateway, D over IPv6 through the egress-only gateway.
fn paths(v: &Value) -> [(&'static str, Verdict); 6] {
    let net = build(v);
    let q = |from: &str, to: &str| query_net(&net, from, to, "tcp", Some(22), None).verdict;
    [
        ("A in", q(INTERNET, "18.225.8.244")),
        ("A out", q("eni-a", INTERNET)),
        ("B in", q(INTERNET, "3.18.106.198")),
        ("B out", q("eni-b", INTERNET)),
        ("C out (NAT)", q("eni-c", INTERNET)),
        ("D out (EIGW)", q("2600:1f16:abc:100::59", INTERNET6)),
    ]
}

fn expect(v: &Value, want: [bool; 6]) {
    let got = paths(v);
    for ((name, verdict), reachable) in got.iter().zip(want) {
        let w = if reachable {
            Verdict::Reachable
        } else {
            Verdict::Unreachable
        };
        assert_eq!(*verdict, w, "{name}: {got:?}");
    }
}

use Verdict::*;

#[test]
fn guide_scenario_1_without_bpa_everything_reaches_and_the_answer_says_bpa_was_not_known() {
    expect(&example(), [true; 6]);
    let t = query(&example(), INTERNET, "18.225.8.244", "tcp", Some(22), None);
    assert_eq!(
        t.notes
            .iter()
            .filter(|n| n.contains("Block Public Access state was not in the snapshot"))
            .count(),
        1,
        "{:?}",
        t.notes
    );
    // Off mode is stated at the gateway.
    let v = with_bpa("off", &[]);
    expect(&v, [true; 6]);
    let t = query(&v, INTERNET, "18.225.8.244", "tcp", Some(22), None);
    let igw = t
        .forward
        .hops
        .iter()
        .find(|h| h.component == "igw-bpa")
        .unwrap();
    let c = igw
        .checks
        .iter()
        .find(|c| c.layer == Layer::BlockPublicAccess)
        .unwrap();
    assert_eq!(c.decision, Decision::Allow);
    assert!(
        c.detail
            .contains("is off in account 470889052923, us-east-2"),
        "{}",
        c.detail
    );
    assert!(
        !t.notes.iter().any(|n| n.contains("not in the snapshot")),
        "{:?}",
        t.notes
    );
}

#[test]
fn guide_scenario_2_bidirectional_blocks_everything() {
    let v = with_bpa("block-bidirectional", &[]);
    expect(&v, [false; 6]);
    let t = query(&v, INTERNET, "18.225.8.244", "tcp", Some(22), None);
    assert_eq!(code(&t), "VPC_BLOCK_PUBLIC_ACCESS_ENABLED");
    let b = t.blocked_at.unwrap();
    assert_eq!(b.layer, Layer::BlockPublicAccess);
    assert_eq!(b.component, "igw-bpa");
    assert!(b.detail.contains("block-bidirectional"), "{}", b.detail);
    // The NAT gateway's connection is stopped at the internet gateway, the IPv6 one at the
    // egress-only gateway.
    let t = query(&v, "eni-c", INTERNET, "tcp", Some(443), None);
    assert_eq!(
        t.blocked_at.as_ref().unwrap().component,
        "igw-bpa",
        "{}",
        t.message
    );
    assert!(t.forward.hops.iter().any(|h| h.component == "nat-bpa"));
    let t = query(
        &v,
        "2600:1f16:abc:100::59",
        INTERNET6,
        "tcp",
        Some(443),
        None,
    );
    assert_eq!(
        t.blocked_at.as_ref().unwrap().component,
        "eigw-bpa",
        "{}",
        t.message
    );
    assert_eq!(code(&t), "VPC_BLOCK_PUBLIC_ACCESS_ENABLED");
}

#[test]
fn guide_scenario_3_ingress_only_lets_nat_and_egress_only_connections_out() {
    let v = with_bpa("block-ingress", &[]);
    expect(&v, [false, false, false, false, true, true]);
    let t = query(&v, "eni-c", INTERNET, "tcp", Some(443), None);
    let c = t
        .forward
        .hops
        .iter()
        .flat_map(|h| &h.checks)
        .find(|c| c.layer == Layer::BlockPublicAccess)
        .unwrap();
    assert!(c.detail.contains("block-ingress"), "{}", c.detail);
}

#[test]
fn guide_scenario_4_a_bidirectional_exclusion_opens_subnet_a_only() {
    let v = with_bpa(
        "block-ingress",
        &[(
            "exclusion-a",
            "allow-bidirectional",
            "subnet",
            "subnet-a",
            "create-complete",
        )],
    );
    expect(&v, [true, true, false, false, true, true]);
    // The hop names the exclusion that lets it through.
    let t = query(&v, INTERNET, "18.225.8.244", "tcp", Some(22), None);
    let c = t
        .forward
        .hops
        .iter()
        .flat_map(|h| &h.checks)
        .find(|c| c.layer == Layer::BlockPublicAccess)
        .unwrap();
    assert_eq!(c.resources, vec!["exclusion-a".to_string()]);
    assert!(
        c.detail
            .contains("exclusion-a (allow-bidirectional on subnet-a"),
        "{}",
        c.detail
    );
}

#[test]
fn guide_scenario_5_allow_egress_is_ignored_in_ingress_only_mode() {
    let v = with_bpa(
        "block-ingress",
        &[(
            "exclusion-a",
            "allow-egress",
            "subnet",
            "subnet-a",
            "update-complete",
        )],
    );
    expect(&v, [false, false, false, false, true, true]);
    let t = query(&v, "eni-a", INTERNET, "tcp", Some(443), None);
    let b = t.blocked_at.unwrap();
    assert!(
        b.resources.contains(&"exclusion-a".to_string()),
        "{:?}",
        b.resources
    );
    assert!(
        b.detail
            .contains("applies only in block-bidirectional mode"),
        "{}",
        b.detail
    );
}

#[test]
fn guide_scenario_6_bidirectional_with_allow_egress_on_a_still_blocks_a_public_instance() {
    let v = with_bpa(
        "block-bidirectional",
        &[(
            "exclusion-a",
            "allow-egress",
            "subnet",
            "subnet-a",
            "update-complete",
        )],
    );
    expect(&v, [false; 6]);
    // Inbound names the exclusion that does not let inbound through.
    let t = query(&v, INTERNET, "18.225.8.244", "tcp", Some(22), None);
    let b = t.blocked_at.unwrap();
    assert_eq!(b.resources[1], "exclusion-a");
    assert!(
        b.detail
            .contains("does not let inbound connections through"),
        "{}",
        b.detail
    );
}

#[test]
fn allow_egress_in_bidirectional_mode_lets_nat_and_egress_only_connections_out_not_in() {
    // The NAT gateway's subnet and the source subnet both excluded: the NAT path passes.
    let v = with_bpa(
        "block-bidirectional",
        &[
            (
                "exclusion-b",
                "allow-egress",
                "subnet",
                "subnet-b",
                "create-complete",
            ),
            (
                "exclusion-c",
                "allow-egress",
                "subnet",
                "subnet-c",
                "create-complete",
            ),
        ],
    );
    expect(&v, [false, false, false, false, true, true]);
    let t = query(
        &v,
        "2600:1f16:abc:100::59",
        INTERNET6,
        "tcp",
        Some(443),
        None,
    );
    let c = t
        .forward
        .hops
        .iter()
        .flat_map(|h| &h.checks)
        .find(|c| c.layer == Layer::BlockPublicAccess)
        .unwrap();
    assert_eq!(c.resources, vec!["exclusion-c".to_string()]);
    // The return path of the NAT connection states the mode too.
    let t = query(&v, "eni-c", INTERNET, "tcp", Some(443), None);
    assert_eq!(t.verdict, Reachable, "{}", t.message);
    let back = t.return_path.as_ref().unwrap();
    assert!(back
        .hops
        .iter()
        .flat_map(|h| &h.checks)
        .any(|c| c.layer == Layer::BlockPublicAccess
            && c.resources == vec!["exclusion-b".to_string()]));
}

#[test]
fn a_nat_path_whose_two_subnets_decide_differently_is_unknown_naming_both() {
    // Only the NAT gateway's subnet is excluded.
    let v = with_bpa(
        "block-bidirectional",
        &[(
            "exclusion-b",
            "allow-bidirectional",
            "subnet",
            "subnet-b",
            "create-complete",
        )],
    );
    let t = query(&v, "eni-c", INTERNET, "tcp", Some(443), None);
    assert_eq!(t.verdict, Unknown, "{}", t.message);
    assert_eq!(code(&t), "VPC_BLOCK_PUBLIC_ACCESS_UNKNOWN");
    let b = t.blocked_at.unwrap();
    assert!(
        b.detail.contains("subnet-b") && b.detail.contains("subnet-c"),
        "{}",
        b.detail
    );
    assert!(b.resources.contains(&"exclusion-b".to_string()));
    // B's own instance is let through by the same exclusion.
    assert_eq!(
        query(&v, "eni-b", INTERNET, "tcp", Some(443), None).verdict,
        Reachable
    );
}

#[test]
fn every_mode_by_exclusion_mode_by_direction_for_a_public_instance() {
    // (mode, exclusion mode or none, inbound reachable, outbound reachable)
    let table = [
        ("off", None, true, true),
        ("off", Some("allow-egress"), true, true),
        ("off", Some("allow-bidirectional"), true, true),
        ("block-bidirectional", None, false, false),
        ("block-bidirectional", Some("allow-egress"), false, false),
        (
            "block-bidirectional",
            Some("allow-bidirectional"),
            true,
            true,
        ),
        ("block-ingress", None, false, false),
        ("block-ingress", Some("allow-egress"), false, false),
        ("block-ingress", Some("allow-bidirectional"), true, true),
    ];
    for (mode, ex, inbound, outbound) in table {
        for kind in ["subnet", "vpc"] {
            let res = if kind == "subnet" {
                "subnet-a"
            } else {
                "vpc-bpa"
            };
            let exclusions: Vec<_> = ex
                .map(|m| ("exclusion-x", m, kind, res, "create-complete"))
                .into_iter()
                .collect();
            let v = with_bpa(mode, &exclusions);
            let net = build(&v);
            let i = query_net(&net, INTERNET, "18.225.8.244", "tcp", Some(22), None);
            let o = query_net(&net, "eni-a", INTERNET, "tcp", Some(443), None);
            let want = |b| if b { Reachable } else { Unreachable };
            assert_eq!(
                i.verdict,
                want(inbound),
                "{mode} {ex:?} {kind} inbound: {}",
                i.message
            );
            assert_eq!(
                o.verdict,
                want(outbound),
                "{mode} {ex:?} {kind} outbound: {}",
                o.message
            );
        }
    }
}

#[test]
fn egress_only_and_nat_gateways_in_each_mode() {
    for (mode, open) in [
        ("off", true),
        ("block-ingress", true),
        ("block-bidirectional", false),
    ] {
        let v = with_bpa(mode, &[]);
        let nat = query(&v, "eni-c", INTERNET, "tcp", Some(443), None);
        let eigw = query(
            &v,
            "2600:1f16:abc:100::59",
            INTERNET6,
            "tcp",
            Some(443),
            None,
        );
        let want = if open { Reachable } else { Unreachable };
        assert_eq!(nat.verdict, want, "{mode} NAT: {}", nat.message);
        assert_eq!(eigw.verdict, want, "{mode} EIGW: {}", eigw.message);
        // Inbound to the NAT gateway or through the egress-only gateway stays dropped by the
        // gateway itself, whatever the mode.
        let nat_in = query(&v, INTERNET, "3.16.146.5", "tcp", Some(443), None);
        assert_eq!(code(&nat_in), "NAT_GATEWAY_UNSOLICITED_INBOUND", "{mode}");
    }
}

#[test]
fn deleted_failed_and_disabled_exclusions_do_not_count_and_pending_ones_are_unknown() {
    for state in [
        "delete-complete",
        "disable-complete",
        "create-failed",
        "update-failed",
    ] {
        let v = with_bpa(
            "block-bidirectional",
            &[(
                "exclusion-a",
                "allow-bidirectional",
                "subnet",
                "subnet-a",
                state,
            )],
        );
        let t = query(&v, INTERNET, "18.225.8.244", "tcp", Some(22), None);
        assert_eq!(t.verdict, Unreachable, "{state}: {}", t.message);
        assert!(
            t.message.contains("is not in force"),
            "{state}: {}",
            t.message
        );
    }
    for state in [
        "create-in-progress",
        "update-in-progress",
        "delete-in-progress",
        "disable-in-progress",
    ] {
        let v = with_bpa(
            "block-bidirectional",
            &[(
                "exclusion-a",
                "allow-bidirectional",
                "subnet",
                "subnet-a",
                state,
            )],
        );
        let t = query(&v, INTERNET, "18.225.8.244", "tcp", Some(22), None);
        assert_eq!(t.verdict, Unknown, "{state}: {}", t.message);
        assert_eq!(
            t.blocked_at.unwrap().resources,
            vec!["exclusion-a".to_string()]
        );
    }
}

#[test]
fn exclusions_not_allowed_makes_a_decision_that_depends_on_them_unknown() {
    let mut v = with_bpa(
        "block-bidirectional",
        &[(
            "exclusion-a",
            "allow-bidirectional",
            "subnet",
            "subnet-a",
            "create-complete",
        )],
    );
    v["VpcBlockPublicAccessOptions"]["ExclusionsAllowed"] = json!("not-allowed");
    v["VpcBlockPublicAccessOptions"]["ManagedBy"] = json!("declarative-policy");
    let net = build(&v);
    let t = query_net(&net, INTERNET, "18.225.8.244", "tcp", Some(22), None);
    assert_eq!(t.verdict, Unknown, "{}", t.message);
    assert_eq!(code(&t), "VPC_BLOCK_PUBLIC_ACCESS_UNKNOWN");
    assert!(t.message.contains("not-allowed"), "{}", t.message);
    assert_eq!(
        t.blocked_at.unwrap().resources,
        vec!["exclusion-a".to_string()]
    );
    // A decision that does not depend on it stays decided.
    let t = query_net(&net, INTERNET, "3.18.106.198", "tcp", Some(22), None);
    assert_eq!(t.verdict, Unreachable);
}

#[test]
fn block_public_access_states_that_disagree_are_warned_with_ids() {
    let mut v = with_bpa(
        "block-bidirectional",
        &[(
            "exclusion-a",
            "allow-bidirectional",
            "subnet",
            "subnet-a",
            "create-complete",
        )],
    );
    find(&mut v, "Subnets", "SubnetId", "subnet-a")["BlockPublicAccessStates"] =
        json!({"InternetGatewayBlockMode": "off"});
    find(&mut v, "Subnets", "SubnetId", "subnet-b")["BlockPublicAccessStates"] =
        json!({"InternetGatewayBlockMode": "off"});
    v["Vpcs"][0]["BlockPublicAccessStates"] =
        json!({"InternetGatewayBlockMode": "block-bidirectional"});
    let net = build(&v);
    let bpa: Vec<&String> = net
        .problems
        .iter()
        .filter(|p| p.contains("BlockPublicAccessStates"))
        .collect();
    assert_eq!(bpa.len(), 1, "{bpa:?}");
    assert!(
        bpa[0].starts_with("subnet-b:") && bpa[0].contains("make it `block-bidirectional`"),
        "{}",
        bpa[0]
    );
}

#[test]
fn the_options_of_another_region_do_not_apply() {
    let mut v = with_bpa("block-bidirectional", &[]);
    v["VpcBlockPublicAccessOptions"]["AwsRegion"] = json!("eu-west-1");
    let t = query(&v, INTERNET, "18.225.8.244", "tcp", Some(22), None);
    assert_eq!(t.verdict, Reachable, "{}", t.message);
    assert!(
        t.notes
            .iter()
            .any(|n| n.contains("account 470889052923, us-east-2 is not in the snapshot")),
        "{:?}",
        t.notes
    );
}

/// Saved `aws ec2 describe-vpc-block-public-access-*` output (written from the EC2 API
/// reference's shapes), in the `accounts/<id>/<region>/` layout, through the real loader.
#[test]
fn recorded_cli_output_loads_per_account_and_region() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/bpa");
    let snap = vpcreach::Snapshot::load(std::path::Path::new(dir)).expect("fixture loads");
    assert_eq!(snap.vpc_block_public_access_options.len(), 1);
    let o = &snap.vpc_block_public_access_options[0];
    assert_eq!(
        o.internet_gateway_block_mode.as_deref(),
        Some("block-bidirectional")
    );
    assert_eq!(o.origin.account.as_deref(), Some("111122223333"));
    assert_eq!(o.origin.region.as_deref(), Some("us-east-2"));
    assert_eq!(snap.vpc_block_public_access_exclusions.len(), 3);
    let bpa = vpcreach::bpa::Bpa::build(&snap);
    assert_eq!(bpa.scopes[0].label(), "account 111122223333, us-east-2");
    let standings: Vec<_> = bpa.exclusions.iter().map(|e| e.standing).collect();
    use vpcreach::bpa::Standing;
    assert_eq!(
        standings,
        [Standing::InForce, Standing::InForce, Standing::NotInForce]
    );
    assert_eq!(
        bpa.exclusions[1].resource,
        vpcreach::bpa::Resource::Vpc("vpc-0bbbbbbbbbbbbbbb1".into())
    );
    // The second subnet says `off`, but it has no exclusion: warned, with its id; the first is
    // excluded (off is right), the VPCs agree (an allow-egress VPC is block-ingress).
    assert_eq!(bpa.warnings.len(), 1, "{:?}", bpa.warnings);
    assert!(
        bpa.warnings[0].starts_with("subnet-0aaaaaaaaaaaaaaa2: BlockPublicAccessStates says `off`"),
        "{:?}",
        bpa.warnings
    );
}

// ---- explain: `reject-reason` ------------------------------------------------------------

use vpcreach::explain::{Code, Explainer, Memo, Status};
use vpcreach::flow_log::{parse_chunk, Chunk, Format};

const V8: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status flow-direction reject-reason";

/// Explains lines (after a v8 header) through the full and the fast path, which must agree;
/// returns (status, code, JSON, hints) per line.
fn explain(v: &Value, lines: &[&str]) -> Vec<(Status, Code, Value, Vec<String>)> {
    let net = build(v);
    let text = format!("{V8}\n{}\n", lines.join("\n"));
    let chunk = Chunk::new("flows.log", text.into_bytes(), Format::default());
    let parsed = parse_chunk(&chunk);
    let ex = Explainer::new(&net);
    let slow: Vec<_> = ex
        .explain_chunk(&parsed)
        .iter()
        .map(|e| {
            (
                e.status,
                e.code,
                e.to_json(&net),
                e.hints.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            )
        })
        .collect();
    let mut fast = Vec::new();
    ex.explain_chunk_counted(
        &chunk,
        &mut Memo::default(),
        |_| true,
        |e| {
            fast.push((
                e.status,
                e.code,
                e.to_json(&net),
                e.hints.iter().map(|h| h.to_string()).collect::<Vec<_>>(),
            ))
        },
    );
    assert_eq!(fast, slow);
    slow
}

const SSH_IN: &str =
    "8 470889052923 eni-a 198.51.100.7 10.0.1.85 40000 22 6 3 180 1727450000 1727450060";
const NAT_OUT: &str =
    "8 470889052923 eni-nat 10.0.2.10 198.51.100.7 40000 443 6 3 180 1727450000 1727450060";

#[test]
fn a_bpa_reject_is_consistent_when_bpa_blocks_and_bpa_is_the_deciding_layer() {
    let v = with_bpa("block-bidirectional", &[]);
    let out = explain(
        &v,
        &[
            &format!("{SSH_IN} REJECT OK ingress BPA"),
            &format!("{NAT_OUT} REJECT OK egress BPA"),
            // Without the field: the model alone.
            &format!("{SSH_IN} REJECT OK ingress -"),
        ],
    );
    for (i, (status, code, json, _)) in out.iter().enumerate() {
        assert_eq!(*status, Status::Consistent, "line {i}: {json:#}");
        assert_eq!(*code, Code::VpcBlockPublicAccess, "line {i}");
        let decided = json["decided_by"].as_array().unwrap();
        let last = decided.last().unwrap();
        assert_eq!(last["layer"], "block_public_access", "line {i}: {json:#}");
        assert_eq!(last["decision"], "deny");
        assert!(
            last["rule"].is_null() && json["reason"] == "VPC_BLOCK_PUBLIC_ACCESS_ENABLED",
            "{json:#}"
        );
        // Inbound, BPA is met first: no security-group rule is named as the decider.
        if i != 1 {
            assert_eq!(decided.len(), 1, "{json:#}");
        }
    }
}

#[test]
fn a_bpa_reject_the_model_lets_through_is_a_contradiction_naming_the_exclusion() {
    let v = with_bpa(
        "block-bidirectional",
        &[(
            "exclusion-a",
            "allow-bidirectional",
            "subnet",
            "subnet-a",
            "create-complete",
        )],
    );
    let (status, code, json, hints) =
        explain(&v, &[&format!("{SSH_IN} REJECT OK ingress BPA")]).remove(0);
    assert_eq!(status, Status::Contradiction, "{json:#}");
    assert_eq!(code, Code::Allowed);
    assert!(
        hints[0].contains("reject-reason BPA")
            && hints[0].contains("exclusion-a should have let it through"),
        "{hints:?}"
    );
    // The exclusion is evidence of the allow.
    assert!(json["decided_by"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["layer"] == "block_public_access" && d["resources"][0] == "exclusion-a"));
    // No BPA data at all: the contradiction says so.
    let (status, _, _, hints) =
        explain(&example(), &[&format!("{SSH_IN} REJECT OK ingress BPA")]).remove(0);
    assert_eq!(status, Status::Contradiction);
    assert!(
        hints[0].contains("state was not in the snapshot"),
        "{hints:?}"
    );
}

#[test]
fn an_accept_the_model_says_bpa_blocks_is_a_contradiction_naming_the_mode() {
    let v = with_bpa("block-ingress", &[]);
    let (status, code, json, hints) =
        explain(&v, &[&format!("{SSH_IN} ACCEPT OK ingress -")]).remove(0);
    assert_eq!(status, Status::Contradiction, "{json:#}");
    assert_eq!(code, Code::VpcBlockPublicAccess);
    assert!(
        hints[0].contains("VPC Block Public Access (block-ingress) blocks it, but it was accepted"),
        "{hints:?}"
    );
    // The NAT gateway's connection passes in block-ingress mode: consistent.
    let (status, code, _, _) = explain(&v, &[&format!("{NAT_OUT} ACCEPT OK egress -")]).remove(0);
    assert_eq!((status, code), (Status::Consistent, Code::Allowed));
}

// ---- the binary: query, explain and audit ------------------------------------------------

/// Writes a fixture as one file per key under `us-east-2/`.
fn snapshot_in_region(v: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let region = dir.path().join(REGION);
    std::fs::create_dir(&region).unwrap();
    for (key, value) in v.as_object().unwrap() {
        std::fs::write(
            region.join(format!("{key}.json")),
            serde_json::to_string_pretty(&json!({ key: value })).unwrap(),
        )
        .unwrap();
    }
    dir
}

fn bin() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("vpcreach").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn stdout(c: &mut assert_cmd::Command, code: i32) -> String {
    let out = c.assert().code(code).get_output().stdout.clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_binary_answers_with_bpa_as_the_deciding_layer() {
    let dir = snapshot_in_region(&with_bpa(
        "block-bidirectional",
        &[(
            "exclusion-a",
            "allow-egress",
            "subnet",
            "subnet-a",
            "create-complete",
        )],
    ));
    let out = stdout(
        bin().args(["query", "--snapshot"]).arg(dir.path()).args([
            "--from",
            INTERNET,
            "--to",
            "18.225.8.244",
            "--port",
            "22",
            "--output",
            "json",
        ]),
        1,
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["reason"], "VPC_BLOCK_PUBLIC_ACCESS_ENABLED");
    assert_eq!(v["blocked_at"]["layer"], "block_public_access");
    assert_eq!(v["blocked_at"]["resources"][1], "exclusion-a");
    let human = stdout(
        bin()
            .args(["query", "--snapshot"])
            .arg(dir.path())
            .args(["--from", "eni-a", "--to", INTERNET, "--port", "443"]),
        1,
    );
    assert!(human.contains("VPC BPA            DENY"), "{human}");
    assert!(human.contains("block-bidirectional"), "{human}");
    // explain, human: BPA named as what decided.
    let flows = dir.path().join("flows.log");
    std::fs::write(&flows, format!("{V8}\n{SSH_IN} REJECT OK ingress BPA\n")).unwrap();
    let out = stdout(
        bin()
            .args(["explain", "--snapshot"])
            .arg(dir.path())
            .arg(&flows)
            .args(["--output", "jsonl"]),
        0,
    );
    let v: Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["status"], "consistent", "{v:#}");
    assert_eq!(v["decided_by"][0]["layer"], "block_public_access", "{v:#}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("VPC Block Public Access"),
        "{v:#}"
    );
}

#[test]
fn audit_reports_the_mode_and_every_exclusion_in_every_format() {
    let dir = snapshot_in_region(&with_bpa(
        "block-bidirectional",
        &[
            (
                "exclusion-a",
                "allow-bidirectional",
                "subnet",
                "subnet-a",
                "create-complete",
            ),
            (
                "exclusion-c",
                "allow-egress",
                "subnet",
                "subnet-c",
                "update-complete",
            ),
            (
                "exclusion-old",
                "allow-bidirectional",
                "vpc",
                "vpc-bpa",
                "delete-complete",
            ),
            (
                "exclusion-new",
                "allow-bidirectional",
                "subnet",
                "subnet-b",
                "create-in-progress",
            ),
        ],
    ));
    let policies = concat!(env!("CARGO_MANIFEST_DIR"), "/policies");
    let run = |format: &str| {
        stdout(
            bin().args(["audit", "--snapshot"]).arg(dir.path()).args([
                "--policies",
                policies,
                "--output",
                format,
            ]),
            1,
        )
    };
    let json: Value = serde_json::from_str(&run("json")).unwrap();
    let bpa: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "vpc-bpa-exclusion")
        .collect();
    assert_eq!(bpa.len(), 3, "{bpa:#?}");
    let a = bpa
        .iter()
        .find(|f| f["resources"][0] == "exclusion-a")
        .unwrap();
    assert_eq!(a["status"], "bpa_exclusion");
    assert_eq!(a["resources"][2], "eni-a");
    assert!(
        a["message"]
            .as_str()
            .unwrap()
            .contains("eni-a (in and out on 18.225.8.244)"),
        "{a:#}"
    );
    let c = bpa
        .iter()
        .find(|f| f["resources"][0] == "exclusion-c")
        .unwrap();
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("eni-d (IPv6 connections out through the egress-only gateway)"),
        "{c:#}"
    );
    let pending = bpa
        .iter()
        .find(|f| f["resources"][0] == "exclusion-new")
        .unwrap();
    assert_eq!(pending["status"], "unknown");
    let notes = json["summary"]["notes"].to_string();
    assert!(notes.contains("VPC Block Public Access in account 470889052923, us-east-2: block-bidirectional, managed by account"), "{notes}");
    assert!(
        notes.contains(
            "exclusion-old (allow-bidirectional on vpc-bpa, delete-complete) is not in force"
        ),
        "{notes}"
    );
    for format in ["human", "markdown", "sarif"] {
        let out = run(format);
        assert!(out.contains("exclusion-a"), "{format}: {out}");
        assert!(out.contains("block-bidirectional"), "{format}: {out}");
    }
}

#[test]
fn a_nat_gateway_record_whose_subnet_and_source_subnet_decide_differently_is_unknown() {
    let v = with_bpa(
        "block-bidirectional",
        &[(
            "exclusion-b",
            "allow-bidirectional",
            "subnet",
            "subnet-b",
            "create-complete",
        )],
    );
    let (status, code, json, _) =
        explain(&v, &[&format!("{NAT_OUT} ACCEPT OK egress -")]).remove(0);
    assert_eq!(
        (status, code),
        (Status::Unknown, Code::VpcBlockPublicAccessUnknown),
        "{json:#}"
    );
    let d = json["decided_by"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(d["layer"], "block_public_access", "{json:#}");
    assert_eq!(d["decision"], "unknown");
    assert_eq!(d["resources"][0], "exclusion-b");
    let message = json["message"].as_str().unwrap();
    assert!(
        message.contains("at the NAT gateway's subnet subnet-b")
            && message.contains("at source subnet subnet-c"),
        "{message}"
    );
    // Both subnets excluded: decided.
    let v = with_bpa(
        "block-bidirectional",
        &[
            (
                "exclusion-b",
                "allow-bidirectional",
                "subnet",
                "subnet-b",
                "create-complete",
            ),
            (
                "exclusion-c",
                "allow-egress",
                "subnet",
                "subnet-c",
                "create-complete",
            ),
        ],
    );
    let (status, code, _, _) = explain(&v, &[&format!("{NAT_OUT} ACCEPT OK egress -")]).remove(0);
    assert_eq!((status, code), (Status::Consistent, Code::Allowed));
}
