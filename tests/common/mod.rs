//! Shared fixtures for the engine tests: a small VPC as `describe-*` JSON that each test changes.
#![allow(dead_code)]

use serde_json::{json, Value};
use vpcreach::{Network, Protocol, Query, Snapshot, Trace};

/// One VPC (10.0.0.0/16 + 2600:1f18::/56) with public, app and db subnets, an IGW, a NAT gateway,
/// allow-all default NACL, and web/app/db ENIs with chained security groups.
pub fn base() -> Value {
    json!({
        "Vpcs": [{"VpcId": "vpc-a", "CidrBlock": "10.0.0.0/16",
                  "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:1f18::/56"}]}],
        "Subnets": [
            {"SubnetId": "subnet-pub", "VpcId": "vpc-a", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a",
             "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:1f18:0:1::/64"}]},
            {"SubnetId": "subnet-app", "VpcId": "vpc-a", "CidrBlock": "10.0.2.0/24", "AvailabilityZone": "us-east-1a"},
            {"SubnetId": "subnet-db", "VpcId": "vpc-a", "CidrBlock": "10.0.3.0/24", "AvailabilityZone": "us-east-1b"}
        ],
        "InternetGateways": [{"InternetGatewayId": "igw-a", "Attachments": [{"VpcId": "vpc-a", "State": "available"}]}],
        "RouteTables": [
            {"RouteTableId": "rtb-pub", "VpcId": "vpc-a",
             "Associations": [{"SubnetId": "subnet-pub", "Main": false}],
             "Routes": [
                {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active", "Origin": "CreateRouteTable"},
                {"DestinationIpv6CidrBlock": "2600:1f18::/56", "GatewayId": "local", "State": "active", "Origin": "CreateRouteTable"},
                {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-a", "State": "active", "Origin": "CreateRoute"},
                {"DestinationIpv6CidrBlock": "::/0", "GatewayId": "igw-a", "State": "active", "Origin": "CreateRoute"}
             ]},
            {"RouteTableId": "rtb-main", "VpcId": "vpc-a",
             "Associations": [{"Main": true}],
             "Routes": [
                {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active", "Origin": "CreateRouteTable"},
                {"DestinationIpv6CidrBlock": "2600:1f18::/56", "GatewayId": "local", "State": "active", "Origin": "CreateRouteTable"},
                {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1", "State": "active", "Origin": "CreateRoute"}
             ]}
        ],
        "NetworkAcls": [
            {"NetworkAclId": "acl-default", "VpcId": "vpc-a", "IsDefault": true,
             "Associations": [
                {"NetworkAclId": "acl-default", "SubnetId": "subnet-pub"},
                {"NetworkAclId": "acl-default", "SubnetId": "subnet-app"},
                {"NetworkAclId": "acl-default", "SubnetId": "subnet-db"}],
             "Entries": allow_all_entries()}
        ],
        "SecurityGroups": [
            {"GroupId": "sg-web", "GroupName": "web", "VpcId": "vpc-a",
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                                "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}],
             "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]},
            {"GroupId": "sg-app", "GroupName": "app", "VpcId": "vpc-a",
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                                "UserIdGroupPairs": [{"GroupId": "sg-web", "UserId": "111122223333"}]}],
             "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
            {"GroupId": "sg-db", "GroupName": "db", "VpcId": "vpc-a",
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
                                "UserIdGroupPairs": [{"GroupId": "sg-app", "UserId": "111122223333"}]}],
             "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}
        ],
        "NatGateways": [{"NatGatewayId": "nat-1", "SubnetId": "subnet-pub", "VpcId": "vpc-a", "State": "available",
                         "NatGatewayAddresses": [{"NetworkInterfaceId": "eni-nat", "PrivateIp": "10.0.1.5", "PublicIp": "54.0.0.5"}]}],
        "NetworkInterfaces": [
            eni("eni-web", "subnet-pub", "10.0.1.10", &["sg-web"], Some("54.0.0.10"), Some("2600:1f18:0:1::10")),
            eni("eni-app", "subnet-app", "10.0.2.20", &["sg-app"], None, None),
            eni("eni-app2", "subnet-app", "10.0.2.22", &["sg-app"], None, None),
            eni("eni-db", "subnet-db", "10.0.3.30", &["sg-db"], None, None),
            {"NetworkInterfaceId": "eni-nat", "SubnetId": "subnet-pub", "VpcId": "vpc-a", "InterfaceType": "nat_gateway",
             "PrivateIpAddress": "10.0.1.5", "Association": {"PublicIp": "54.0.0.5"},
             "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.5", "Primary": true, "Association": {"PublicIp": "54.0.0.5"}}],
             "Groups": [], "SourceDestCheck": false}
        ]
    })
}

/// NACL entries allowing everything both ways, IPv4 and IPv6, with the `*` rules.
pub fn allow_all_entries() -> Value {
    json!([
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 101, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "Ipv6CidrBlock": "::/0"},
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "Ipv6CidrBlock": "::/0"},
        {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 101, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "Ipv6CidrBlock": "::/0"},
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": true, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": true, "Ipv6CidrBlock": "::/0"}
    ])
}

/// An ENI in the shape of `describe-network-interfaces`.
pub fn eni(
    id: &str,
    subnet: &str,
    ip: &str,
    groups: &[&str],
    public: Option<&str>,
    v6: Option<&str>,
) -> Value {
    let assoc = public.map(|p| json!({"PublicIp": p}));
    json!({
        "NetworkInterfaceId": id, "SubnetId": subnet, "VpcId": "vpc-a", "InterfaceType": "interface",
        "AvailabilityZone": if subnet == "subnet-db" { "us-east-1b" } else { "us-east-1a" },
        "PrivateIpAddress": ip, "Association": assoc,
        "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": true, "Association": assoc}],
        "Ipv6Addresses": v6.map(|a| vec![json!({"Ipv6Address": a})]).unwrap_or_default(),
        "Groups": groups.iter().map(|g| json!({"GroupId": g})).collect::<Vec<_>>(),
        "SourceDestCheck": true
    })
}

/// Finds an element of a top-level array by its id field, for changing it in place.
pub fn find<'a>(v: &'a mut Value, key: &str, id_field: &str, id: &str) -> &'a mut Value {
    let arr = v[key].as_array_mut().expect("fixture array");
    arr.iter_mut()
        .find(|x| x[id_field] == id)
        .expect("fixture element")
}

/// Builds the network from a fixture.
pub fn build(v: &Value) -> Network {
    let snap = Snapshot::from_json_str(&v.to_string()).expect("fixture loads");
    Network::build(&snap)
}

/// Runs one query on a fixture.
pub fn query(
    v: &Value,
    from: &str,
    to: &str,
    proto: &str,
    port: Option<u16>,
    src_port: Option<u16>,
) -> Trace {
    let net = build(v);
    query_net(&net, from, to, proto, port, src_port)
}

/// Runs one query on a built network.
pub fn query_net(
    net: &Network,
    from: &str,
    to: &str,
    proto: &str,
    port: Option<u16>,
    src_port: Option<u16>,
) -> Trace {
    let (f, _) = net.resolve(from).expect("from resolves");
    let (t, _) = net.resolve(to).expect("to resolves");
    let protocol: Protocol = proto.parse().expect("protocol");
    net.query(&Query {
        from: f,
        to: t,
        protocol,
        port,
        src_port,
    })
}

/// The reason code of a trace, or `"-"`.
pub fn code(t: &Trace) -> &'static str {
    t.reason.map(|r| r.code()).unwrap_or("-")
}

/// Writes a fixture as one file per `describe-*` key, under a region folder.
pub fn snapshot_dir(v: &Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let region = dir.path().join("us-east-1");
    std::fs::create_dir(&region).unwrap();
    for (key, value) in v.as_object().unwrap() {
        let doc = serde_json::json!({ key: value });
        std::fs::write(
            region.join(format!("{key}.json")),
            serde_json::to_string_pretty(&doc).unwrap(),
        )
        .unwrap();
    }
    dir
}

/// A history event of `change` (API `Test`, no principal), the `n`-th of a test's history, at
/// `time` (Unix seconds).
pub fn history_event(
    n: usize,
    time: i64,
    change: vpcreach::history::Change,
) -> vpcreach::history::Event {
    vpcreach::history::Event {
        event_id: format!("ev-{n:04}"),
        time,
        api: "Test".into(),
        principal: None,
        source_ip: None,
        region: None,
        account: None,
        change,
    }
}
