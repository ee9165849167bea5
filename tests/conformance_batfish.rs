//! Batfish's AWS snapshots (real `describe-*` JSON): every one loads, and the scenario facts of
//! Batfish's own end-to-end tests (listed in the conformance README) are reproduced by `query`.

use std::path::PathBuf;
use vpcreach::{Network, Protocol, Query, Snapshot, Trace, Verdict};

/// The conformance folder; an unset variable or missing data is a failure.
fn conformance() -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("VPCREACH_CONFORMANCE_DIR") else {
        panic!(
            "VPCREACH_CONFORMANCE_DIR is not set: run the tests with `bash .ci/run`, which sets it"
        );
    };
    let dir = PathBuf::from(dir);
    assert!(
        dir.join("batfish-aws").is_dir(),
        "VPCREACH_CONFORMANCE_DIR={} has no batfish-aws folder",
        dir.display()
    );
    Some(dir)
}

#[test]
fn every_batfish_snapshot_loads() {
    let Some(dir) = conformance() else { return };
    let mut loaded = 0;
    let mut scenario_dirs = Vec::new();
    for entry in std::fs::read_dir(dir.join("batfish-aws")).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            scenario_dirs.push(p.join("aws_configs"));
        } else if p.extension().is_some_and(|e| e == "json") {
            // One fixture per resource type: each loads alone; unknown keys are listed.
            let snap = Snapshot::load(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            Network::build(&snap);
            loaded += 1;
        }
    }
    scenario_dirs.push(dir.join("batfish-hybrid-cloud/aws_configs"));
    for d in &scenario_dirs {
        if !d.is_dir() {
            continue;
        }
        let snap = Snapshot::load(d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        let net = Network::build(&snap);
        assert!(!snap.files.is_empty(), "{}", d.display());
        // Whatever was read but not modelled is listed, never silently dropped.
        for (key, files) in &snap.not_modelled {
            assert!(!files.is_empty(), "{key}");
        }
        let _ = net;
        loaded += 1;
    }
    assert!(loaded >= 60, "only {loaded} snapshots loaded");
}

#[test]
fn resource_fixtures_are_read_into_the_model() {
    let Some(dir) = conformance() else { return };
    let b = dir.join("batfish-aws");
    let snap = Snapshot::load(&b.join("NetworkAclTest.json")).unwrap();
    let net = Network::build(&snap);
    assert!(!net.nacls.is_empty());
    for n in &net.nacls {
        // Sorted per direction, `*` last.
        for rules in [&n.inbound, &n.outbound] {
            assert!(rules
                .windows(2)
                .all(|w| w[0].rule_number <= w[1].rule_number));
            assert!(rules.last().unwrap().is_default);
        }
    }
    let snap = Snapshot::load(&b.join("SecurityGroupTest.json")).unwrap();
    let net = Network::build(&snap);
    assert!(net.groups.iter().any(|g| !g.inbound.is_empty()));
    let snap = Snapshot::load(&b.join("LoadBalancerTest.json")).unwrap();
    // Batfish's ELBv2 fixture: three load balancers, read into the model (no longer "not
    // modelled").
    assert_eq!(snap.load_balancers.len(), 3);
    assert!(!snap.not_modelled.contains_key("LoadBalancers"));
    assert_eq!(snap.load_balancers[0].lb_type.as_deref(), Some("network"));
    let snap = Snapshot::load(&b.join("test-multi-account/aws_configs")).unwrap();
    assert!(snap
        .vpcs
        .iter()
        .any(|v| v.origin.account.as_deref() == Some("111")
            && v.origin.region.as_deref() == Some("us-west-1")));
}

fn ask(dir: &std::path::Path, scenario: &str, from: &str, to: &str, port: u16) -> Trace {
    let snap = Snapshot::load(&dir.join("batfish-aws").join(scenario).join("aws_configs")).unwrap();
    let net = Network::build(&snap);
    let (f, _) = net.resolve(from).unwrap();
    let (t, _) = net.resolve(to).unwrap();
    net.query(&Query {
        from: f,
        to: t,
        protocol: Protocol::Number(6),
        port: Some(port),
        src_port: None,
    })
}

fn code(t: &Trace) -> &'static str {
    t.reason.map(|r| r.code()).unwrap_or("-")
}

fn passes(t: &Trace, component: &str) -> bool {
    t.forward.hops.iter().any(|h| h.component == component)
}

#[test]
fn scenario_public_subnet() {
    let Some(d) = conformance() else { return };
    // Internet → public IP: translated by the IGW, denied inbound by the instance's group (80 is
    // not among its rules; 22 is).
    let t = ask(&d, "test-public-subnet", "8.8.8.8", "18.216.80.133", 80);
    assert_eq!(code(&t), "ENI_SG_RULES_MISMATCH", "{}", t.message);
    assert!(passes(&t, "igw-0a409e562d251f766"));
    assert_eq!(
        t.blocked_at.as_ref().unwrap().component,
        "eni-00064850627e198ee"
    );
    // A public IP that no instance holds: nothing delivers it.
    let t = ask(&d, "test-public-subnet", "8.8.8.8", "54.191.107.23", 80);
    assert_eq!(code(&t), "NO_ROUTE_TO_DESTINATION", "{}", t.message);
    // Out through the internet gateway.
    let t = ask(
        &d,
        "test-public-subnet",
        "i-06669a407b2ef3ae5",
        "8.8.8.8",
        80,
    );
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert!(passes(&t, "igw-0a409e562d251f766"));
}

#[test]
fn scenario_public_private_subnet() {
    let Some(d) = conformance() else { return };
    let s = "test-public-private-subnet";
    let t = ask(&d, s, "i-099cf38911942421c", "10.0.0.47", 80);
    assert_eq!(code(&t), "ENI_SG_RULES_MISMATCH", "{}", t.message);
    assert_eq!(
        t.blocked_at.as_ref().unwrap().path,
        vpcreach::trace::PathDir::Forward
    );
    let t = ask(&d, s, "i-094a9e5b545a4fde4", "10.0.1.204", 80);
    assert_eq!(code(&t), "ENI_SG_RULES_MISMATCH", "{}", t.message);
    let t = ask(&d, s, "i-094a9e5b545a4fde4", "8.8.8.8", 80);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    // The private subnet's default route points at the VPN gateway: it never reaches an internet
    // gateway; beyond the VGW is not modelled, so the verdict is unknown, naming the VGW.
    let t = ask(&d, s, "i-099cf38911942421c", "8.8.8.8", 80);
    assert_eq!(t.verdict, Verdict::Unknown, "{}", t.message);
    assert!(t.blocked_at.as_ref().unwrap().component.starts_with("vgw-"));
    assert!(!t
        .forward
        .hops
        .iter()
        .any(|h| h.component.starts_with("igw-")));
}

#[test]
fn scenario_subnet() {
    let Some(d) = conformance() else { return };
    let t = ask(&d, "test-subnet", "i-08ef86e76fceabd8d", "10.10.1.44", 80);
    assert_eq!(code(&t), "ENI_SG_RULES_MISMATCH", "{}", t.message);
    // Same subnet: no NACL on the way.
    assert!(t.forward.hops.iter().all(|h| h
        .checks
        .iter()
        .all(|c| c.layer != vpcreach::trace::Layer::NetworkAcl)));
    // Leaving the subnet passes its NACL.
    let snap = Snapshot::load(&d.join("batfish-aws/test-subnet/aws_configs")).unwrap();
    let net = Network::build(&snap);
    let s = net.subnet_idx("subnet-06c8307e34ffadb04").unwrap();
    assert_eq!(
        net.nacls[net.subnets[s].nacl.unwrap()].id,
        "acl-07102431133dec52a"
    );
}

#[test]
fn scenario_nat_gateway() {
    let Some(d) = conformance() else { return };
    let s = "test-nat-gateway";
    let t = ask(&d, s, "i-0a128d26e59be60f3", "8.8.8.8", 80);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    assert!(passes(&t, "nat-07ab4846da51f4612"));
    let ret = t.return_path.as_ref().unwrap();
    assert!(ret
        .hops
        .iter()
        .any(|h| h.component == "nat-07ab4846da51f4612"));
    // Unsolicited inbound to the NAT gateway's public address is dropped.
    let t = ask(&d, s, "8.8.8.8", "3.135.127.225", 80);
    assert_eq!(code(&t), "NAT_GATEWAY_UNSOLICITED_INBOUND", "{}", t.message);
}

#[test]
fn scenario_vpc_peering() {
    let Some(d) = conformance() else { return };
    let s = "test-vpc-peering";
    for (from, to) in [
        ("i-06ba034d88c84ef07", "192.168.2.229"),
        ("i-04a292ff83b3aa833", "10.10.10.157"),
    ] {
        let t = ask(&d, s, from, to, 80);
        assert_eq!(
            code(&t),
            "ENI_SG_RULES_MISMATCH",
            "{from} → {to}: {}",
            t.message
        );
        assert!(t
            .forward
            .hops
            .iter()
            .any(|h| h.component.starts_with("pcx-")));
    }
    for (from, to) in [
        ("i-06ba034d88c84ef07", "192.168.100.1"),
        ("i-04a292ff83b3aa833", "10.10.100.1"),
    ] {
        let t = ask(&d, s, from, to, 80);
        assert_eq!(
            code(&t),
            "NO_ROUTE_TO_DESTINATION",
            "{from} → {to}: {}",
            t.message
        );
    }
}

#[test]
fn scenario_transit_gateway() {
    let Some(d) = conformance() else { return };
    let s = "test-transit-gateway";
    for (from, to) in [
        ("i-06ba034d88c84ef07", "192.168.1.106"),
        ("i-0b14080af811fda3d", "10.10.10.157"),
    ] {
        let t = ask(&d, s, from, to, 80);
        assert_eq!(
            code(&t),
            "ENI_SG_RULES_MISMATCH",
            "{from} → {to}: {}",
            t.message
        );
        assert!(t
            .forward
            .hops
            .iter()
            .any(|h| h.component.starts_with("tgw-")));
    }
    // A2's subnet (us-east-2a) has a route to the TGW in its table, but the attachment has no
    // subnet in that zone, so the TGW does not carry it: unreachable, with the precise reason.
    let t = ask(&d, s, "i-075e846ed41670385", "192.168.1.106", 80);
    assert_eq!(t.verdict, Verdict::Unreachable, "{}", t.message);
    assert_eq!(code(&t), "TGW_NO_ATTACHMENT_IN_AZ");
}

#[test]
fn hybrid_cloud_answers_inside_aws() {
    let Some(d) = conformance() else { return };
    let snap = Snapshot::load(&d.join("batfish-hybrid-cloud/aws_configs")).unwrap();
    let net = Network::build(&snap);
    assert!(net.vpcs.len() >= 4, "{} VPCs", net.vpcs.len());
    assert!(net
        .vpcs
        .iter()
        .any(|v| v.region.as_deref() == Some("us-east-2")));
    // Every pair of instance ENIs gets an answer with a reason whenever it is not reachable.
    let enis: Vec<usize> = (0..net.enis.len())
        .filter(|&i| net.enis[i].instance_id.is_some())
        .collect();
    assert!(enis.len() >= 2);
    let mut reachable = 0;
    for &a in &enis {
        for &b in &enis {
            if a == b {
                continue;
            }
            let Some(dst) = net.enis[b].primary(false) else {
                continue;
            };
            let src = net.enis[a].primary(false).unwrap();
            let t = net.query(&Query {
                from: vpcreach::Endpoint::Eni { eni: a, addr: src },
                to: vpcreach::Endpoint::Eni { eni: b, addr: dst },
                protocol: Protocol::Number(6),
                port: Some(22),
                src_port: None,
            });
            if t.verdict == Verdict::Reachable {
                reachable += 1;
            } else {
                assert!(t.reason.is_some() && !t.message.is_empty());
            }
        }
    }
    eprintln!(
        "hybrid cloud: {reachable} reachable pairs of {}",
        enis.len() * (enis.len() - 1)
    );
}
