//! Load-balancer query benchmark: `vpcreach query --to <load balancer>` on a generated VPC with
//! an internet-facing ALB (two nodes in two zones), one listener and 100 registered targets
//! (in four subnets, each with a 20-rule NACL), so 100 × 2 × 2 node-to-target walks.
//!
//! `cargo bench --bench load_balancer` prints the median of several runs of the release binary
//! end to end (load, build, query, human output), and of the query alone in the process.
//! Target: under 50 ms.

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vpcreach::{Endpoint, Network, Protocol, Snapshot};

const TARGETS: usize = 100;
const ARN: &str = "arn:aws:elasticloadbalancing:us-east-1:111122223333";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn nacl_entries() -> Value {
    let mut e = Vec::new();
    for (i, egress) in [(0, false), (1, true)] {
        let _ = i;
        for k in 0..18u32 {
            e.push(json!({"RuleNumber": 10 + k * 10, "Protocol": "6", "RuleAction": "deny", "Egress": egress,
                          "CidrBlock": format!("192.0.2.{}/32", k), "PortRange": {"From": 1, "To": 65535}}));
        }
        e.push(json!({"RuleNumber": 500, "Protocol": "-1", "RuleAction": "allow", "Egress": egress, "CidrBlock": "0.0.0.0/0"}));
        e.push(json!({"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": egress, "CidrBlock": "0.0.0.0/0"}));
    }
    Value::Array(e)
}

fn snapshot() -> Value {
    let lb = format!("{ARN}:loadbalancer/app/bench-alb/50dc6c495c0c9188");
    let tg = format!("{ARN}:targetgroup/bench-tg/73e2d6bc24d8a067");
    let mut subnets = vec![
        json!({"SubnetId": "subnet-pub-a", "VpcId": "vpc-b", "CidrBlock": "10.0.0.0/24", "AvailabilityZone": "us-east-1a"}),
        json!({"SubnetId": "subnet-pub-b", "VpcId": "vpc-b", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1b"}),
    ];
    let mut assoc = vec![];
    for k in 0..4 {
        subnets.push(json!({"SubnetId": format!("subnet-app-{k}"), "VpcId": "vpc-b",
            "CidrBlock": format!("10.0.{}.0/24", 10 + k), "AvailabilityZone": if k % 2 == 0 { "us-east-1a" } else { "us-east-1b" }}));
        assoc.push(json!({"NetworkAclId": "acl-app", "SubnetId": format!("subnet-app-{k}")}));
    }
    let mut enis = Vec::new();
    for (id, subnet, ip, public) in [
        ("eni-node-a", "subnet-pub-a", "10.0.0.100", "54.0.0.100"),
        ("eni-node-b", "subnet-pub-b", "10.0.1.100", "54.0.0.101"),
    ] {
        enis.push(json!({"NetworkInterfaceId": id, "SubnetId": subnet, "VpcId": "vpc-b", "InterfaceType": "interface",
            "Description": "ELB app/bench-alb/50dc6c495c0c9188", "PrivateIpAddress": ip,
            "Association": {"PublicIp": public},
            "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": true, "Association": {"PublicIp": public}}],
            "Groups": [{"GroupId": "sg-alb"}], "SourceDestCheck": true}));
    }
    let mut targets = Vec::new();
    for t in 0..TARGETS {
        let ip = format!("10.0.{}.{}", 10 + t % 4, 10 + t / 4);
        enis.push(json!({"NetworkInterfaceId": format!("eni-t{t:03}"), "SubnetId": format!("subnet-app-{}", t % 4),
            "VpcId": "vpc-b", "InterfaceType": "interface", "PrivateIpAddress": ip,
            "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": true}],
            "Groups": [{"GroupId": "sg-app"}], "SourceDestCheck": true}));
        targets.push(
            json!({"Target": {"Id": ip, "Port": 8080}, "TargetHealth": {"State": "healthy"}}),
        );
    }
    json!({
        "Vpcs": [{"VpcId": "vpc-b", "CidrBlock": "10.0.0.0/16"}],
        "Subnets": subnets,
        "InternetGateways": [{"InternetGatewayId": "igw-b", "Attachments": [{"VpcId": "vpc-b", "State": "available"}]}],
        "RouteTables": [{"RouteTableId": "rtb-b", "VpcId": "vpc-b", "Associations": [{"Main": true}],
            "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                       {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-b", "State": "active"}]}],
        "NetworkAcls": [
            {"NetworkAclId": "acl-pub", "VpcId": "vpc-b", "Associations": [
                {"NetworkAclId": "acl-pub", "SubnetId": "subnet-pub-a"}, {"NetworkAclId": "acl-pub", "SubnetId": "subnet-pub-b"}],
             "Entries": nacl_entries()},
            {"NetworkAclId": "acl-app", "VpcId": "vpc-b", "Associations": assoc, "Entries": nacl_entries()}],
        "SecurityGroups": [
            {"GroupId": "sg-alb", "GroupName": "alb", "VpcId": "vpc-b",
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
             "IpPermissionsEgress": [{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": "sg-app"}]}]},
            {"GroupId": "sg-app", "GroupName": "app", "VpcId": "vpc-b",
             "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": "sg-alb"}]}],
             "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}],
        "NetworkInterfaces": enis,
        "LoadBalancers": [{"LoadBalancerArn": lb, "LoadBalancerName": "bench-alb", "DNSName": "bench-alb-1.us-east-1.elb.amazonaws.com",
            "Scheme": "internet-facing", "VpcId": "vpc-b", "Type": "application", "State": {"Code": "active"},
            "AvailabilityZones": [{"ZoneName": "us-east-1a", "SubnetId": "subnet-pub-a"}, {"ZoneName": "us-east-1b", "SubnetId": "subnet-pub-b"}],
            "SecurityGroups": ["sg-alb"]}],
        "Listeners": [{"ListenerArn": format!("{ARN}:listener/app/bench-alb/50dc6c495c0c9188/f2f7dc8efc522ab2"), "LoadBalancerArn": lb,
            "Port": 443, "Protocol": "HTTPS", "DefaultActions": [{"Type": "forward", "TargetGroupArn": tg}]}],
        "TargetGroups": [{"TargetGroupArn": tg, "TargetGroupName": "bench-tg", "Protocol": "HTTP", "Port": 8080, "VpcId": "vpc-b",
            "HealthCheckPort": "traffic-port", "TargetType": "ip", "LoadBalancerArns": [lb]}],
        "TargetHealth": {"TargetGroupArn": tg, "TargetHealthDescriptions": targets}
    })
}

fn main() {
    let runs = 9;
    let dir = tempfile::tempdir().expect("temp dir");
    let snap = snapshot();
    for (key, value) in snap.as_object().expect("object") {
        let doc = if key == "TargetHealth" {
            value.clone()
        } else {
            json!({ key: value })
        };
        std::fs::write(dir.path().join(format!("{key}.json")), doc.to_string()).expect("write");
    }
    // In the process: load and build once, then the query alone.
    let loaded = Snapshot::load(dir.path()).expect("load");
    let net = Network::build(&loaded);
    let lb = net.load_balancer("bench-alb").expect("the load balancer");
    let client = Endpoint::External("198.51.100.7".parse().expect("address"));
    let mut alone = Vec::new();
    let mut targets = 0;
    for _ in 0..runs {
        let info = net.endpoint_info_of(&client);
        let t0 = Instant::now();
        let t = net
            .query_load_balancer(lb, client, info, Protocol::Number(6), 443, None)
            .expect("listener");
        alone.push(t0.elapsed());
        assert_eq!(t.verdict, vpcreach::Verdict::Reachable, "{}", t.message);
        targets = t.targets.len();
    }
    assert_eq!(targets, TARGETS);
    // End to end through the release binary.
    let mut whole = Vec::new();
    for _ in 0..runs {
        let t0 = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_vpcreach"))
            .args(["query", "--snapshot"])
            .arg(dir.path())
            .args([
                "--from",
                "198.51.100.7",
                "--to",
                "bench-alb",
                "--port",
                "443",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run vpcreach");
        whole.push(t0.elapsed());
        assert_eq!(status.code(), Some(0));
    }
    let whole = median(whole);
    let alone = median(alone);
    println!(
        "query --to <load balancer>, {TARGETS} targets, 2 nodes (median of {runs}): \
         end to end (release binary: load + build + query + output) {:.1} ms, query alone {:.1} ms",
        whole.as_secs_f64() * 1e3,
        alone.as_secs_f64() * 1e3
    );
    if whole > Duration::from_millis(50) {
        println!("over the 50 ms target end to end");
    }
}
