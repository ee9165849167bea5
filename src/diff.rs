//! The reachability delta between two snapshots (`vpcreach diff OLD NEW`): for each ENI, which
//! (peer, protocol, port) traffic its security groups and its subnet's network ACL let in or out
//! in one snapshot and not in the other: what a change opened and what it closed.
//!
//! The comparison is exact, over the same header-space algebra as the static audit
//! ([`crate::audit::region`]): for each ENI (matched by id), direction and protocol (TCP, UDP,
//! ICMP, ICMPv6, and rules of all protocols), the set allowed is the security groups' union
//! intersected with the first-match result of the NACL, for traffic crossing the subnet's
//! boundary. `opened` is what the new snapshot allows and the old does not; `closed` the
//! reverse. Each change carries its peers and ports, a witness (one concrete flow) and, for that
//! witness, what decided in each snapshot: the rule that allows it, or the rule (or the absence
//! of one) that stops it.
//!
//! Left out (said in the README): routes and gateways (a new route to an internet gateway is a
//! change this does not report), the stateless return path of a NACL, ICMP type and code
//! granularity, and traffic between ENIs of one subnet (which crosses no NACL).
//!
//! ```
//! use vpcreach::{Network, Snapshot};
//! let v = |ports: u16| format!(r#"{{
//!   "Vpcs": [{{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}}],
//!   "Subnets": [{{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"}}],
//!   "NetworkAcls": [{{"NetworkAclId": "acl-1", "VpcId": "vpc-1", "IsDefault": true,
//!     "Associations": [{{"SubnetId": "subnet-1"}}],
//!     "Entries": [{{"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"}},
//!                 {{"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"}}]}}],
//!   "SecurityGroups": [{{"GroupId": "sg-1", "GroupName": "web", "VpcId": "vpc-1",
//!     "IpPermissions": [{{"IpProtocol": "tcp", "FromPort": {ports}, "ToPort": {ports}, "IpRanges": [{{"CidrIp": "0.0.0.0/0"}}]}}],
//!     "IpPermissionsEgress": []}}],
//!   "NetworkInterfaces": [{{"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-1", "VpcId": "vpc-1",
//!     "PrivateIpAddress": "10.0.1.10", "PrivateIpAddresses": [{{"PrivateIpAddress": "10.0.1.10", "Primary": true}}],
//!     "Groups": [{{"GroupId": "sg-1"}}]}}]}}"#);
//! let old = Network::build(&Snapshot::from_json_str(&v(443)).unwrap());
//! let new = Network::build(&Snapshot::from_json_str(&v(22)).unwrap());
//! let delta = vpcreach::diff::diff(&old, &new);
//! assert_eq!(delta.opened.len(), 1);
//! assert_eq!(delta.opened[0].ranges[0].ports, "22");
//! assert_eq!(delta.closed[0].ranges[0].ports, "443");
//! ```

use crate::audit::region::{AddrRange, Region};
use crate::network::Network;
use crate::protocol::{PortRange, Protocol};
use crate::security_group::{Direction, SgDecision};
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// The protocols compared, each on its own: TCP, UDP, ICMP, ICMPv6, then rules that allow all
/// protocols (what they open is not repeated under each protocol).
const PROTOCOLS: [Protocol; 4] = [
    Protocol::Number(6),
    Protocol::Number(17),
    Protocol::Number(1),
    Protocol::Number(58),
];

/// At most this many peers are listed per port range (the count says how many there are).
const PEERS_SHOWN: usize = 20;

/// Peers allowed on some ports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Range {
    /// The destination ports (`443`, `1024-65535`, `all`), or `-` for protocols without ports.
    pub ports: String,
    /// The peers (sources inbound, destinations outbound) as CIDRs, at most 20 (the count says how many there are).
    pub peers: Vec<String>,
    /// How many CIDRs the peers make in all.
    pub peer_count: usize,
}

/// One concrete flow of a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Witness {
    /// The peer address (the source inbound, the destination outbound).
    pub peer: IpAddr,
    /// The destination port, for protocols with ports.
    pub port: Option<u16>,
}

/// What one snapshot's configuration does with a witness, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// Whether the ENI's filters let it through.
    pub allowed: bool,
    /// What decided, each in words (`sg-… allows tcp/22 from 0.0.0.0/0`, `acl-… rule 90 …`).
    pub because: Vec<String>,
}

/// Traffic one snapshot allows at an ENI and the other does not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The ENI.
    pub eni: String,
    /// Its `Name` tag or description (untrusted text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Inbound (peers are sources) or outbound (peers are destinations).
    pub direction: Direction,
    /// `tcp`, `udp`, `icmp`, `icmpv6` or `all`.
    pub protocol: String,
    /// The peers and ports, grouped by port range.
    pub ranges: Vec<Range>,
    /// One flow of the change.
    pub witness: Witness,
    /// What the old snapshot does with the witness.
    pub old: Side,
    /// What the new snapshot does with it.
    pub new: Side,
    /// Whether the witness is a connection that works end to end in the snapshot that lets
    /// it through at the ENI (the new one for `opened`, the old one for `closed`).
    pub end_to_end: EndToEnd,
}

/// Whether a change's witness works end to end: the path from its source to its destination
/// (routes, gateways, public addresses, the other end's filters) as `query` walks it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndToEnd {
    /// `effective` (the connection works: the change matters now), `latent` (something else
    /// stops it: the change matters once that changes) or `unknown`.
    pub status: &'static str,
    /// The query's verdict in one sentence (untrusted names inside).
    pub because: String,
}

/// The delta between two snapshots.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Delta {
    /// Traffic the new snapshot allows and the old did not.
    pub opened: Vec<Change>,
    /// Traffic the old snapshot allowed and the new does not.
    pub closed: Vec<Change>,
    /// ENIs compared (in either snapshot).
    pub enis: usize,
    /// What the comparison could not decide (rules referencing what a snapshot lacks).
    pub notes: Vec<String>,
    /// Where what was opened or closed depends on a network ACL entry of unknown content (a
    /// model at an earlier time, see [`crate::snapshot::UnknownNaclEntry`]): the ENI,
    /// direction and protocol, and the entry. The delta is then not known there.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub undecided: Vec<String>,
}

impl Delta {
    /// True when nothing was opened or closed.
    pub fn is_empty(&self) -> bool {
        self.opened.is_empty() && self.closed.is_empty()
    }
}

/// What `net` lets through at `eni` in `dir` for `proto`, crossing the subnet's boundary; the
/// ids of rules that could allow more but reference what the snapshot lacks; and what its
/// security groups let through that reaches a NACL entry of unknown content.
fn allowed(
    net: &Network,
    eni: usize,
    dir: Direction,
    proto: Protocol,
) -> (Region, Vec<String>, Region) {
    let (sg, unresolved) = crate::audit::analysis::sg_region(net, eni, dir, proto);
    let unresolved = unresolved
        .iter()
        .map(|r| format!("{} {}", r.group_id, crate::network::sg_rule_text(net, r)))
        .collect();
    let nacl = net.enis[eni]
        .subnet
        .and_then(|s| net.subnets.get(s))
        .and_then(|s| s.nacl)
        .and_then(|n| net.nacls.get(n));
    let (region, unknown) = match nacl {
        Some(nacl) => crate::audit::analysis::nacl_regions(nacl, dir, proto, &sg),
        None => (sg, Region::empty()),
    };
    (region, unresolved, unknown)
}

fn proto_name(p: Protocol) -> String {
    match p {
        Protocol::All => "all".into(),
        Protocol::Number(6) => "tcp".into(),
        Protocol::Number(17) => "udp".into(),
        Protocol::Number(1) => "icmp".into(),
        Protocol::Number(58) => "icmpv6".into(),
        Protocol::Number(n) => n.to_string(),
    }
}

fn ports_text(proto: Protocol, p: PortRange) -> String {
    if !proto.has_ports() {
        "-".into()
    } else if p == PortRange::ALL {
        "all".into()
    } else if p.from == p.to {
        p.from.to_string()
    } else {
        format!("{}-{}", p.from, p.to)
    }
}

/// The addresses of `ranges` in words, per family: the CIDRs that cover them exactly, or, when
/// shorter, the family's whole space "except" the CIDRs of what is missing (`0.0.0.0/0 except
/// 10.0.1.10/32`).
fn cidrs(ranges: Vec<AddrRange>) -> Vec<String> {
    let mut out = Vec::new();
    for v6 in [false, true] {
        let family: Vec<AddrRange> = ranges.iter().copied().filter(|r| r.v6 == v6).collect();
        if family.is_empty() {
            continue;
        }
        let exact = exact_cidrs(family.clone());
        let universe = Region::from_box(AddrRange::all(v6), PortRange::single(0));
        let mut have = Region::empty();
        for r in &family {
            have.push(*r, PortRange::single(0));
        }
        let missing = exact_cidrs(universe.minus(&have).addrs());
        if !missing.is_empty() && missing.len() < exact.len() {
            let all = if v6 { "::/0" } else { "0.0.0.0/0" };
            out.push(format!("{all} except {}", missing.join(", ")));
        } else {
            out.extend(exact);
        }
    }
    out
}

/// The CIDRs that cover exactly the addresses of `ranges` (merged first).
fn exact_cidrs(mut ranges: Vec<AddrRange>) -> Vec<String> {
    ranges.sort();
    let mut merged: Vec<AddrRange> = Vec::new();
    for r in ranges {
        match merged.last_mut() {
            Some(last) if last.v6 == r.v6 && r.lo <= last.hi.saturating_add(1) => {
                last.hi = last.hi.max(r.hi);
            }
            _ => merged.push(r),
        }
    }
    let mut out = Vec::new();
    for r in merged {
        let (lo, hi) = (
            crate::audit::region::decode(r.v6, r.lo),
            crate::audit::region::decode(r.v6, r.hi),
        );
        match (lo, hi) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                out.extend(ipnet::Ipv4Subnets::new(a, b, 0).map(|n| n.to_string()));
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                out.extend(ipnet::Ipv6Subnets::new(a, b, 0).map(|n| n.to_string()));
            }
            _ => {}
        }
    }
    out
}

/// The region as ranges grouped by port range, narrowest port ranges first.
fn ranges(proto: Protocol, region: &Region) -> Vec<Range> {
    let mut ports: Vec<PortRange> = region.boxes().iter().map(|(_, p)| *p).collect();
    ports.sort_by_key(|p| (p.to - p.from, p.from));
    ports.dedup();
    ports
        .into_iter()
        .map(|p| {
            let addrs = region
                .boxes()
                .iter()
                .filter(|(_, q)| *q == p)
                .map(|(a, _)| *a)
                .collect();
            let all = cidrs(addrs);
            Range {
                ports: ports_text(proto, p),
                peer_count: all.len(),
                peers: all.into_iter().take(PEERS_SHOWN).collect(),
            }
        })
        .collect()
}

/// What `net` does with the witness at the ENI named `id`, in words.
fn side(
    net: &Network,
    id: &str,
    dir: Direction,
    proto: Protocol,
    w: &Witness,
    which: &str,
) -> Side {
    let Some(eni) = net.eni_idx(id) else {
        return Side {
            allowed: false,
            because: vec![format!("{id} is not in the {which} snapshot")],
        };
    };
    let icmp = match proto {
        Protocol::Number(1) => Some((8, 0)),
        Protocol::Number(58) => Some((128, 0)),
        _ => None,
    };
    let mut because = Vec::new();
    let refs = net.refs_apply(eni, w.peer);
    let sg = match net.sg_evaluate(eni, dir, w.peer, proto, w.port, icmp, refs) {
        SgDecision::Allow(rule) => {
            because.push(format!(
                "{} allows {}",
                rule.group_id,
                crate::network::sg_rule_text(net, rule)
            ));
            true
        }
        SgDecision::Deny => {
            let groups: Vec<&str> = net.enis[eni]
                .groups
                .iter()
                .filter_map(|&g| net.groups.get(g).map(|g| g.id.as_str()))
                .collect();
            because.push(format!(
                "no {dir} rule of its security groups ({}) allows it",
                groups.join(", ")
            ));
            false
        }
        SgDecision::Unresolved(rule) => {
            because.push(format!(
                "{} {} references what the snapshot lacks (unknown)",
                rule.group_id,
                crate::network::sg_rule_text(net, rule)
            ));
            false
        }
        SgDecision::MissingGroups => {
            because.push(format!(
                "its security groups {} are not in the snapshot (unknown)",
                net.enis[eni].missing_groups.join(", ")
            ));
            false
        }
    };
    let nacl = net.enis[eni]
        .subnet
        .and_then(|s| net.subnets.get(s))
        .and_then(|s| s.nacl)
        .and_then(|n| net.nacls.get(n));
    let nacl_ok = match nacl {
        Some(nacl) => match nacl.decide(dir, w.peer, proto, w.port, icmp) {
            Some(rule) => {
                because.push(format!("{} {rule}", nacl.id));
                rule.action == crate::network_acl::Action::Allow
            }
            None => {
                because.push(format!("{}: no rule matches", nacl.id));
                false
            }
        },
        None => {
            because.push("its subnet's network ACL is not in the snapshot (unknown)".into());
            false
        }
    };
    Side {
        allowed: sg && nacl_ok,
        because,
    }
}

/// When the network ACL of `eni`'s subnet holds an entry of unknown content in `dir` (a model
/// at an earlier time, see [`crate::snapshot::UnknownNaclEntry`]): the NACL and the entry.
fn unknown_rule_note(net: &Network, eni: usize, dir: Direction) -> Option<String> {
    let nacl = net.enis[eni]
        .subnet
        .and_then(|s| net.subnets.get(s))
        .and_then(|s| s.nacl)
        .and_then(|n| net.nacls.get(n))?;
    let rule = nacl.rules(dir).iter().find(|r| r.unknown.is_some())?;
    Some(format!("{} {dir} {rule} decides part of it", nacl.id))
}

/// Whether the witness works end to end in `net`: a query from the peer to the ENI named `id`
/// (inbound) or from the ENI to the peer (outbound).
fn end_to_end(net: &Network, id: &str, dir: Direction, proto: Protocol, w: &Witness) -> EndToEnd {
    let unknown = |because: String| EndToEnd {
        status: "unknown",
        because,
    };
    let (Ok(eni), Ok(peer)) = (net.resolve(id), net.resolve(&w.peer.to_string())) else {
        return unknown(format!("{id} or {} cannot be resolved", w.peer));
    };
    let (from, to) = match dir {
        Direction::Inbound => (peer, eni),
        Direction::Outbound => (eni, peer),
    };
    let ((from, from_info), (to, to_info)) = match net.orient(from, to) {
        Ok(ends) => ends,
        Err(e) => return unknown(e.to_string()),
    };
    let q = crate::query::Query {
        from,
        to,
        protocol: proto,
        port: w.port,
        src_port: None,
    };
    let trace = net.query_labeled(&q, from_info, to_info);
    EndToEnd {
        status: match trace.verdict {
            crate::trace::Verdict::Reachable => "effective",
            crate::trace::Verdict::Unreachable => "latent",
            crate::trace::Verdict::Unknown => "unknown",
        },
        because: trace.message,
    }
}

/// A flow of the region: from a documentation address (198.51.100.1, 2001:db8::1: "some host
/// on the internet") when the region holds one, else its first point.
fn witness_of(r: &Region) -> Option<(IpAddr, u16)> {
    for example in ["198.51.100.1", "2001:db8::1"] {
        let Ok(ip) = example.parse::<IpAddr>() else {
            continue;
        };
        let here = r.restrict_addrs(&[AddrRange::single(ip)]);
        if let Some((_, port)) = here.witness(None) {
            return Some((ip, port));
        }
    }
    r.witness(None)
}

/// The reachability delta of a change of routes or of route-table associations, end to end:
/// for each ENI whose subnet's route table is one of `tables` (in either network) or is not the
/// same table in both, each direction and each address of `targets` (of the ENI's family), one
/// witness flow that the ENI's own filters let through (in the network that lets more
/// through), queried end to end (`query`'s walk: routes, gateways, public addresses, the other
/// end's filters) in both networks. A witness that works in one and not the other is opened or
/// closed (`old`/`new` say the verdict of each, in words). This samples one flow per ENI,
/// direction, destination and protocol (TCP, UDP, ICMP, then all protocols; the first that
/// shows a difference): it is a witness, not the exact region `diff` gives for filters.
pub fn routes_delta(
    old: &Network,
    new: &Network,
    tables: &BTreeSet<String>,
    targets: &[IpAddr],
) -> Delta {
    let rt = |net: &Network, i: usize| -> Option<String> {
        let s = net.enis[i].subnet?;
        let t = net.subnets.get(s)?.route_table?;
        net.route_tables.get(t).map(|t| t.id.clone())
    };
    let ids = eni_ids(old, new);
    let mut delta = Delta::default();
    for id in ids {
        let (o, n) = (old.eni_idx(id), new.eni_idx(id));
        let (rt_old, rt_new) = (o.and_then(|i| rt(old, i)), n.and_then(|i| rt(new, i)));
        let concerned = rt_old != rt_new
            || [&rt_old, &rt_new]
                .iter()
                .any(|t| t.as_ref().is_some_and(|t| tables.contains(t)));
        if !concerned {
            continue;
        }
        delta.enis += 1;
        let name = eni_name(old, new, o, n);
        for dir in [Direction::Inbound, Direction::Outbound] {
            for &target in targets {
                let protocols = [
                    Protocol::Number(6),
                    Protocol::Number(17),
                    Protocol::Number(if target.is_ipv6() { 58 } else { 1 }),
                    Protocol::All,
                ];
                for p in protocols {
                    // A flow the ENI's own filters let through, in the network that lets more.
                    let flow = [(new, n), (old, o)].into_iter().find_map(|(net, i)| {
                        let r = allowed(net, i?, dir, p).0;
                        r.restrict_addrs(&[AddrRange::single(target)])
                            .witness(None)
                            .map(|(_, port)| port)
                    });
                    let Some(port) = flow else { continue };
                    let witness = Witness {
                        peer: target,
                        port: p.has_ports().then_some(port),
                    };
                    let before = end_to_end(old, id, dir, p, &witness);
                    let after = end_to_end(new, id, dir, p, &witness);
                    let works = |e: &EndToEnd| e.status == "effective";
                    // Not known on one side because the ENI's NACL holds an entry of unknown
                    // content (a model at an earlier time): what the change did is not known.
                    let unknown_entry = [(new, n), (old, o)].into_iter().any(|(net, i)| {
                        i.is_some_and(|i| {
                            unknown_rule_note(net, i, Direction::Inbound).is_some()
                                || unknown_rule_note(net, i, Direction::Outbound).is_some()
                        })
                    });
                    if unknown_entry {
                        if let Some(e) = [&before, &after]
                            .into_iter()
                            .find(|e| e.status == "unknown")
                        {
                            delta.undecided.push(format!(
                                "{id} {dir} {} to {target}: {}",
                                proto_name(p),
                                e.because
                            ));
                            break;
                        }
                    }
                    if works(&before) == works(&after)
                        || before.status == "unknown"
                        || after.status == "unknown"
                    {
                        continue;
                    }
                    let opened = works(&after);
                    let side = |e: &EndToEnd| Side {
                        allowed: works(e),
                        because: vec![e.because.clone()],
                    };
                    let change = Change {
                        eni: id.to_string(),
                        name: name.clone(),
                        direction: dir,
                        protocol: proto_name(p),
                        ranges: vec![Range {
                            ports: match witness.port {
                                Some(port) => port.to_string(),
                                None => "-".into(),
                            },
                            peers: vec![ipnet::IpNet::from(target).to_string()],
                            peer_count: 1,
                        }],
                        witness,
                        old: side(&before),
                        new: side(&after),
                        end_to_end: if opened { after } else { before },
                    };
                    if opened {
                        delta.opened.push(change);
                    } else {
                        delta.closed.push(change);
                    }
                    break;
                }
            }
        }
    }
    delta.notes.push(
        "routes are compared end to end on one witness flow per ENI, direction, destination and protocol, not over every address and port".into(),
    );
    delta
}

/// The ids of the ENIs of either network.
fn eni_ids<'a>(old: &'a Network, new: &'a Network) -> BTreeSet<&'a str> {
    old.enis
        .iter()
        .chain(new.enis.iter())
        .map(|e| e.id.as_str())
        .collect()
}

/// An ENI's name: in the new network (index `n`), else in the old one (`o`).
fn eni_name(old: &Network, new: &Network, o: Option<usize>, n: Option<usize>) -> Option<String> {
    n.and_then(|i| new.enis[i].name.clone())
        .or_else(|| o.and_then(|i| old.enis[i].name.clone()))
}

/// Compares two networks ENI by ENI (see the module documentation).
pub fn diff(old: &Network, new: &Network) -> Delta {
    let ids = eni_ids(old, new);
    let mut delta = Delta {
        enis: ids.len(),
        ..Delta::default()
    };
    let mut unresolved = BTreeSet::new();
    let mut undecided = BTreeSet::new();
    for id in ids {
        let (o, n) = (old.eni_idx(id), new.eni_idx(id));
        let name = eni_name(old, new, o, n);
        for dir in [Direction::Inbound, Direction::Outbound] {
            let region =
                |net: &Network, i: Option<usize>, p: Protocol, notes: &mut BTreeSet<String>| {
                    i.map(|i| {
                        let (r, u, x) = allowed(net, i, dir, p);
                        notes.extend(u);
                        (r, x)
                    })
                    .unwrap_or_else(|| (Region::empty(), Region::empty()))
                };
            // Whether what changed between `(po, uo)` and `(pn, un)` (allowed, reaching an
            // entry of unknown content) is where such an entry decides.
            let depends = |(po, uo): &(Region, Region), (pn, un): &(Region, Region)| {
                let unknown = uo.clone().union(un);
                if unknown.is_empty() {
                    return false;
                }
                let moved = !un.minus(uo).is_empty() || !uo.minus(un).is_empty();
                let exact_delta = pn.minus(po).union(&po.minus(pn));
                moved || !exact_delta.intersect(&unknown).is_empty()
            };
            let mut undecided_here = |p: Protocol| {
                let note = [(new, n), (old, o)]
                    .into_iter()
                    .find_map(|(net, i)| i.and_then(|i| unknown_rule_note(net, i, dir)))
                    .unwrap_or_default();
                undecided.insert(format!("{id} {dir} {}: {note}", proto_name(p)));
            };
            let all_o = region(old, o, Protocol::All, &mut unresolved);
            let all_n = region(new, n, Protocol::All, &mut unresolved);
            if depends(&all_o, &all_n) {
                undecided_here(Protocol::All);
            }
            let (all_old, all_new) = (all_o.0, all_n.0);
            let all_opened = all_new.minus(&all_old);
            let all_closed = all_old.minus(&all_new);
            let mut found = Vec::new();
            for p in PROTOCOLS {
                let o_p = region(old, o, p, &mut unresolved);
                let n_p = region(new, n, p, &mut unresolved);
                if depends(&o_p, &n_p) {
                    undecided_here(p);
                }
                let (po, pn) = (o_p.0, n_p.0);
                found.push((p, pn.minus(&po).minus(&all_opened), true));
                found.push((p, po.minus(&pn).minus(&all_closed), false));
            }
            found.push((Protocol::All, all_opened, true));
            found.push((Protocol::All, all_closed, false));
            for (p, r, opened) in found {
                if r.is_empty() {
                    continue;
                }
                let Some((peer, port)) = witness_of(&r) else {
                    continue;
                };
                let witness = Witness {
                    peer,
                    port: p.has_ports().then_some(port),
                };
                let end_to_end = end_to_end(if opened { new } else { old }, id, dir, p, &witness);
                let change = Change {
                    eni: id.to_string(),
                    name: name.clone(),
                    direction: dir,
                    protocol: proto_name(p),
                    ranges: ranges(p, &r),
                    old: side(old, id, dir, p, &witness, "old"),
                    new: side(new, id, dir, p, &witness, "new"),
                    witness,
                    end_to_end,
                };
                if opened {
                    delta.opened.push(change);
                } else {
                    delta.closed.push(change);
                }
            }
        }
    }
    delta.notes = unresolved
        .into_iter()
        .map(|r| {
            format!("{r}: references a group or prefix list a snapshot lacks; what it allows is not compared")
        })
        .collect();
    delta.undecided = undecided.into_iter().collect();
    delta
}
