//! A deliberately simple reference evaluator, for model-based testing of the real engine.
//!
//! It is written straight from `docs/aws-semantics.md` (sections "Security groups", "Network ACLs"
//! and "Routing"), shares no code with the engine, and favours obviousness over speed: every lookup
//! is a linear scan of the [`Snapshot`], nothing is indexed or cached. It answers one question: can
//! a packet from an ENI reach an address, and can the response come back?
//!
//! Its scope is small on purpose: one VPC, or two VPCs joined by an active peering connection;
//! subnets, ENIs, security groups, network ACLs, route tables with `local`, internet-gateway,
//! peering and blackhole routes. Anything else (NAT gateways, transit gateways, endpoints, routes to
//! ENIs, instances, …) makes it answer `Unknown { code: "OUT_OF_SCOPE" }`.
//!
//! Steps, in the order a failure is reported (the first step that does not pass decides; an
//! unknown step decides `Unknown` when no earlier step failed). They follow the packet:
//!
//! 1. security groups of the source ENI, outbound;
//! 2. the route lookup in the source subnet's table (no route: `NO_ROUTE_TO_DESTINATION`;
//!    blackhole: `BAD_STATE_ROUTE`; `local` to an address no ENI of the VPC holds: no route);
//! 3. the network ACL of the source subnet, outbound, when the packet leaves the subnet (always
//!    through a gateway or peering connection; through `local` only to another subnet);
//! 4. the gateway: an internet gateway first drops private destinations (no route), then IPv4
//!    sources without a public address (`IGW_EXPECTS_PUBLIC_ADDRESS`); a peering connection
//!    delivers only to an ENI of the peer VPC (no route);
//! 5. the network ACL of the destination subnet, inbound, when it is another subnet;
//! 6. security groups of the destination ENI, inbound;
//! 7. return path (`on_return: true`), the same steps 2–5 for the response from the destination
//!    back to the source (security groups are stateful and never block it); for an internet
//!    destination, only the source subnet's ACL, inbound.
//!
//! A query for protocol `-1` asks whether *all* traffic passes: a security-group or ACL rule for a
//! single protocol never allows it, and an ACL deny rule for any protocol blocks it.

use crate::snapshot::{
    NetworkAcl, NetworkAclEntry, NetworkInterface, RouteTable, SecurityGroup, Snapshot, Subnet,
};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The code of a query the reference does not model.
pub const OUT_OF_SCOPE: &str = "OUT_OF_SCOPE";

/// A reachability question: from an ENI to an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefQuery {
    /// The source ENI (`eni-…`). Its primary private address of `dst`'s family is the source.
    pub src_eni: String,
    /// The destination address.
    pub dst: IpAddr,
    /// IANA protocol number; `-1` means all traffic.
    pub protocol: i16,
    /// Destination port (TCP/UDP).
    pub dst_port: u16,
    /// Source port (TCP/UDP): the destination port of the response.
    pub src_port: u16,
    /// ICMP type and code, for ICMP and ICMPv6.
    pub icmp: Option<(u8, u8)>,
}

/// The reference's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefVerdict {
    /// Every step passes, both ways.
    Reachable,
    /// A step blocks the traffic.
    Unreachable {
        /// Why (`ENI_SG_RULES_MISMATCH`, `NO_ROUTE_TO_DESTINATION`, …).
        code: &'static str,
        /// Whether it is the response that is blocked.
        on_return: bool,
    },
    /// The snapshot does not say (`UNKNOWN_PEERED_SGS`, `UNKNOWN_PREFIX_LIST`, `OUT_OF_SCOPE`).
    Unknown {
        /// Why.
        code: &'static str,
    },
}

/// Evaluates a query against a snapshot: the first step that does not pass decides.
pub fn evaluate(snap: &Snapshot, q: &RefQuery) -> RefVerdict {
    let mut found = Vec::new();
    let res = run(snap, q, &mut found);
    match (found.first(), res) {
        (Some(first), _) => *first,
        (None, Ok(())) => RefVerdict::Reachable,
        (None, Err(_)) => RefVerdict::Unknown { code: OUT_OF_SCOPE },
    }
}

/// Every step that does not pass, in the order of the module documentation; empty when the
/// query is reachable. [`evaluate`] reports the first. Useful to tell a different verdict from a
/// different order of checks. Stops at the first step the reference does not model.
pub fn failures(snap: &Snapshot, q: &RefQuery) -> Vec<RefVerdict> {
    let mut found = Vec::new();
    let _ = run(snap, q, &mut found);
    found
}

/// Why [`evaluate`] answered `OUT_OF_SCOPE`, or `None` when it did not.
pub fn out_of_scope_reason(snap: &Snapshot, q: &RefQuery) -> Option<&'static str> {
    let mut found = Vec::new();
    match run(snap, q, &mut found) {
        Err(OutOfScope(why)) if found.is_empty() => Some(why),
        _ => None,
    }
}

/// The reference does not model this snapshot or query; the text says what.
struct OutOfScope(&'static str);

type R<T> = Result<T, OutOfScope>;

fn oos<T>(why: &'static str) -> R<T> {
    Err(OutOfScope(why))
}

/// The outcome of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Pass,
    Fail(&'static str),
    Unknown(&'static str),
}

/// One packet: the request, or the response.
#[derive(Debug, Clone, Copy)]
struct Packet {
    src: IpAddr,
    dst: IpAddr,
    protocol: i16,
    /// Destination port.
    port: u16,
    icmp: Option<(u8, u8)>,
}

const SG_MISMATCH: &str = "ENI_SG_RULES_MISMATCH";
const NO_ROUTE: &str = "NO_ROUTE_TO_DESTINATION";
const BAD_ROUTE: &str = "BAD_STATE_ROUTE";
const IGW_PUBLIC: &str = "IGW_EXPECTS_PUBLIC_ADDRESS";
const ACL_DENY: &str = "SUBNET_ACL_RESTRICTION";
const UNKNOWN_SG: &str = "UNKNOWN_PEERED_SGS";
const UNKNOWN_PL: &str = "UNKNOWN_PREFIX_LIST";

/// Records a step that does not pass.
fn record(found: &mut Vec<RefVerdict>, step: Step, on_return: bool) {
    match step {
        Step::Pass => {}
        Step::Fail(code) => found.push(RefVerdict::Unreachable { code, on_return }),
        Step::Unknown(code) => found.push(RefVerdict::Unknown { code }),
    }
}

/// Runs every step in order, recording those that do not pass.
fn run(snap: &Snapshot, q: &RefQuery, found: &mut Vec<RefVerdict>) -> R<()> {
    if !snap.instances.is_empty() {
        return oos("instances (ENIs are read from NetworkInterfaces only)");
    }
    let v6 = q.dst.is_ipv6();
    match (q.protocol, v6) {
        (1, true) => return oos("ICMP (1) to an IPv6 address"),
        (58, false) => return oos("ICMPv6 (58) to an IPv4 address"),
        (1, false) | (58, true) if q.icmp.is_none() => return oos("ICMP without type and code"),
        _ => {}
    }
    let Some(src) = find_eni(snap, &q.src_eni) else {
        return oos("source ENI not in the snapshot");
    };
    let Some(src_addr) = primary_address(src, v6)? else {
        return oos("source ENI has no address of the destination's family");
    };
    if private_addresses(src)?.contains(&q.dst) {
        return oos("destination is the source itself");
    }
    if is_public_ip_of_some_eni(snap, q.dst)? {
        return oos("destination is the public IP of an ENI");
    }
    let src_subnet = subnet_of(snap, src)?;
    let dst_eni = eni_owning(snap, q.dst)?;
    let dst = match dst_eni {
        Some(e) => Some((e, subnet_of(snap, e)?)),
        None => None,
    };

    let request = Packet {
        src: src_addr,
        dst: q.dst,
        protocol: q.protocol,
        port: q.dst_port,
        icmp: q.icmp,
    };

    // 1. Security groups of the source, outbound.
    record(found, sg_step(snap, src, true, &request)?, false);
    // 2–5. Route, source ACL outbound, gateway, destination ACL inbound.
    hop(snap, src, src_subnet, dst, &request, false, found)?;
    // 6. Security groups of the destination, inbound.
    if let Some((de, _)) = dst {
        record(found, sg_step(snap, de, false, &request)?, false);
    }

    // 7. The response.
    let reply_icmp = match (q.protocol, q.icmp) {
        (1, Some((8, _))) => Some((0, 0)),
        (58, Some((128, _))) => Some((129, 0)),
        // Other ICMP types have no response to check.
        (1, _) | (58, _) => return Ok(()),
        _ => None,
    };
    let response = Packet {
        src: q.dst,
        dst: src_addr,
        protocol: q.protocol,
        port: q.src_port,
        icmp: reply_icmp,
    };
    match dst {
        // The same steps as a request from the destination back to the source; security
        // groups are stateful and let it through.
        Some((de, ds)) => hop(
            snap,
            de,
            ds,
            Some((src, src_subnet)),
            &response,
            true,
            found,
        )?,
        // From the internet: only the source subnet's ACL, inbound.
        None => record(found, nacl_step(snap, src_subnet, false, &response)?, true),
    }
    Ok(())
}

/// One packet's way from the ENI `from` (in `from_subnet`) to `pkt.dst`, held by the ENI `to`
/// (with its subnet) or by nobody in the snapshot (the internet). Records, in order:
///
/// 1. the route lookup in `from_subnet`'s table: no route, a blackhole, or a `local` route to
///    an address no ENI of the VPC holds fail;
/// 2. `from_subnet`'s ACL, outbound, when the packet leaves the subnet (always through a
///    gateway or peering connection, through `local` only towards another subnet);
/// 3. the gateway: an internet gateway drops private destinations, then IPv4 sources without a
///    public address; a peering connection delivers only to ENIs of the peer VPC;
/// 4. the destination subnet's ACL, inbound, when it is another subnet.
///
/// After a failing route the later steps are still checked along the direct path (for
/// [`failures`]).
fn hop(
    snap: &Snapshot,
    from: &NetworkInterface,
    from_subnet: &Subnet,
    to: Option<(&NetworkInterface, &Subnet)>,
    pkt: &Packet,
    on_return: bool,
    found: &mut Vec<RefVerdict>,
) -> R<()> {
    let from_vpc = from_subnet.vpc_id.as_str();
    let to_vpc = to.map(|(_, s)| s.vpc_id.as_str());
    let same_subnet = to.is_some_and(|(_, s)| s.subnet_id == from_subnet.subnet_id);
    let route = lookup_route(snap, from_subnet, pkt.dst)?;
    let route_step = match &route {
        None => Step::Fail(NO_ROUTE),
        Some(Target::Blackhole) => Step::Fail(BAD_ROUTE),
        Some(Target::Local) if to_vpc == Some(from_vpc) => Step::Pass,
        Some(Target::Local) => Step::Fail(NO_ROUTE),
        Some(Target::Igw | Target::Peering(_)) => Step::Pass,
    };
    record(found, route_step, on_return);
    let leaves = match &route {
        Some(Target::Igw | Target::Peering(_)) => true,
        _ => !same_subnet,
    };
    if leaves {
        record(found, nacl_step(snap, from_subnet, true, pkt)?, on_return);
    }
    let gateway_step = match &route {
        Some(Target::Igw) => {
            if is_non_internet(pkt.dst) {
                Step::Fail(NO_ROUTE)
            } else if pkt.dst.is_ipv4() && !has_public_ipv4(snap, from)? {
                Step::Fail(IGW_PUBLIC)
            } else if to.is_some() {
                return oos("an ENI's IPv6 address reached through the internet");
            } else {
                Step::Pass
            }
        }
        Some(Target::Peering(pcx)) => {
            let peer = peer_vpc(snap, pcx, from_vpc)?;
            if to_vpc == Some(peer.as_str()) {
                Step::Pass
            } else {
                Step::Fail(NO_ROUTE)
            }
        }
        _ => Step::Pass,
    };
    record(found, gateway_step, on_return);
    if let Some((_, ts)) = to {
        if !same_subnet {
            record(found, nacl_step(snap, ts, false, pkt)?, on_return);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Addresses and lookups (linear scans).

fn parse_ip(text: &str) -> R<IpAddr> {
    match text.trim().parse::<IpAddr>() {
        Ok(ip) => Ok(ip),
        Err(_) => oos("an address does not parse"),
    }
}

fn parse_cidr(text: &str) -> R<IpNet> {
    match text.trim().parse::<IpNet>() {
        Ok(net) => Ok(net),
        Err(_) => oos("a CIDR does not parse"),
    }
}

/// Whether `cidr` contains `ip`; a CIDR of the other family contains nothing.
fn cidr_contains(cidr: &str, ip: IpAddr) -> R<bool> {
    let net = parse_cidr(cidr)?;
    Ok(net.contains(&ip))
}

fn find_eni<'a>(snap: &'a Snapshot, id: &str) -> Option<&'a NetworkInterface> {
    snap.network_interfaces
        .iter()
        .find(|e| e.network_interface_id == id)
}

/// All private addresses of an ENI: primary and secondary IPv4, and IPv6.
fn private_addresses(eni: &NetworkInterface) -> R<Vec<IpAddr>> {
    let mut out = Vec::new();
    if let Some(a) = &eni.private_ip_address {
        out.push(parse_ip(a)?);
    }
    for p in &eni.private_ip_addresses {
        out.push(parse_ip(&p.private_ip_address)?);
    }
    for a in &eni.ipv6_addresses {
        out.push(parse_ip(&a.ipv6_address)?);
    }
    Ok(out)
}

/// The ENI's primary private address of one family (for IPv6: its first IPv6 address).
fn primary_address(eni: &NetworkInterface, v6: bool) -> R<Option<IpAddr>> {
    if v6 {
        return match eni.ipv6_addresses.first() {
            Some(a) => Ok(Some(parse_ip(&a.ipv6_address)?)),
            None => Ok(None),
        };
    }
    if let Some(a) = &eni.private_ip_address {
        return Ok(Some(parse_ip(a)?));
    }
    for p in &eni.private_ip_addresses {
        if p.primary == Some(true) {
            return Ok(Some(parse_ip(&p.private_ip_address)?));
        }
    }
    Ok(None)
}

/// Whether the ENI's primary private IPv4 address has a public or Elastic IP.
fn has_public_ipv4(snap: &Snapshot, eni: &NetworkInterface) -> R<bool> {
    if let Some(a) = &eni.association {
        if a.public_ip.is_some() {
            return Ok(true);
        }
    }
    let primary = primary_address(eni, false)?;
    for p in &eni.private_ip_addresses {
        let is_primary =
            p.primary == Some(true) || Some(parse_ip(&p.private_ip_address)?) == primary;
        if is_primary
            && p.association
                .as_ref()
                .is_some_and(|a| a.public_ip.is_some())
        {
            return Ok(true);
        }
    }
    for addr in &snap.addresses {
        if addr.network_interface_id.as_deref() == Some(eni.network_interface_id.as_str())
            && addr.public_ip.is_some()
        {
            match &addr.private_ip_address {
                Some(p) if Some(parse_ip(p)?) != primary => {}
                _ => return Ok(true),
            }
        }
    }
    Ok(false)
}

fn is_public_ip_of_some_eni(snap: &Snapshot, ip: IpAddr) -> R<bool> {
    for eni in &snap.network_interfaces {
        if let Some(p) = eni.association.as_ref().and_then(|a| a.public_ip.as_ref()) {
            if parse_ip(p)? == ip {
                return Ok(true);
            }
        }
        for pa in &eni.private_ip_addresses {
            if let Some(p) = pa.association.as_ref().and_then(|a| a.public_ip.as_ref()) {
                if parse_ip(p)? == ip {
                    return Ok(true);
                }
            }
        }
    }
    for addr in &snap.addresses {
        if let Some(p) = &addr.public_ip {
            if parse_ip(p)? == ip {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// The ENI that has `ip` as a private address, if any.
fn eni_owning(snap: &Snapshot, ip: IpAddr) -> R<Option<&NetworkInterface>> {
    let mut found: Option<&NetworkInterface> = None;
    for eni in &snap.network_interfaces {
        if private_addresses(eni)?.contains(&ip) {
            if found.is_some() {
                return oos("two ENIs share an address");
            }
            found = Some(eni);
        }
    }
    Ok(found)
}

fn subnet_of<'a>(snap: &'a Snapshot, eni: &NetworkInterface) -> R<&'a Subnet> {
    let Some(id) = &eni.subnet_id else {
        return oos("an ENI has no subnet");
    };
    match snap.subnets.iter().find(|s| &s.subnet_id == id) {
        Some(s) => Ok(s),
        None => oos("an ENI's subnet is not in the snapshot"),
    }
}

/// The VPC of an ENI: its subnet's VPC.
fn vpc_of<'a>(snap: &'a Snapshot, eni: &NetworkInterface) -> R<&'a str> {
    Ok(subnet_of(snap, eni)?.vpc_id.as_str())
}

/// The CIDRs of a VPC (IPv4 primary and associated, IPv6).
fn vpc_cidrs(snap: &Snapshot, vpc_id: &str) -> R<Vec<String>> {
    let Some(vpc) = snap.vpcs.iter().find(|v| v.vpc_id == vpc_id) else {
        return oos("a VPC is not in the snapshot");
    };
    let mut out = Vec::new();
    if let Some(c) = &vpc.cidr_block {
        out.push(c.clone());
    }
    for a in &vpc.cidr_block_association_set {
        let live = a
            .cidr_block_state
            .as_ref()
            .and_then(|s| s.state.as_deref())
            .is_none_or(|s| s == "associated");
        if let Some(c) = &a.cidr_block {
            if live && !out.contains(c) {
                out.push(c.clone());
            }
        }
    }
    for a in &vpc.ipv6_cidr_block_association_set {
        let live = a
            .ipv6_cidr_block_state
            .as_ref()
            .and_then(|s| s.state.as_deref())
            .is_none_or(|s| s == "associated");
        if let Some(c) = &a.ipv6_cidr_block {
            if live && !out.contains(c) {
                out.push(c.clone());
            }
        }
    }
    Ok(out)
}

/// Whether an active peering connection joins the two VPCs; its id when it does.
fn active_peering_between(snap: &Snapshot, a: &str, b: &str) -> Option<String> {
    for p in &snap.vpc_peering_connections {
        let active = p.status.as_ref().and_then(|s| s.code.as_deref()) == Some("active");
        let r = p.requester_vpc_info.vpc_id.as_deref();
        let c = p.accepter_vpc_info.vpc_id.as_deref();
        let joins = (r == Some(a) && c == Some(b)) || (r == Some(b) && c == Some(a));
        if active && joins {
            return Some(p.vpc_peering_connection_id.clone());
        }
    }
    None
}

/// Whether an active peering connection joins the VPC to a VPC the snapshot does not hold.
fn peered_outside_snapshot(snap: &Snapshot, vpc: &str) -> bool {
    snap.vpc_peering_connections.iter().any(|p| {
        let active = p.status.as_ref().and_then(|s| s.code.as_deref()) == Some("active");
        let r = p.requester_vpc_info.vpc_id.as_deref();
        let a = p.accepter_vpc_info.vpc_id.as_deref();
        let other = match (r, a) {
            (Some(r), a) if r == vpc => a,
            (r, Some(a)) if a == vpc => r,
            _ => return false,
        };
        active && other.is_none_or(|o| !snap.vpcs.iter().any(|v| v.vpc_id == o))
    })
}

/// Whether traffic between the two VPCs can exist at all (same VPC or actively peered).
fn same_or_peered(snap: &Snapshot, a: &str, b: &str) -> bool {
    a == b || active_peering_between(snap, a, b).is_some()
}

/// Whether an address is never routed to the internet (RFC 1918, shared, loopback, link-local, …).
fn is_non_internet(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let in_net = |net: Ipv4Addr, len: u32| {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                (u32::from(v4) & mask) == (u32::from(net) & mask)
            };
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || in_net(Ipv4Addr::new(100, 64, 0, 0), 10)
                || in_net(Ipv4Addr::new(0, 0, 0, 0), 8)
                || in_net(Ipv4Addr::new(240, 0, 0, 0), 4)
        }
        IpAddr::V6(v6) => {
            let in_net = |net: Ipv6Addr, len: u32| {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                (u128::from(v6) & mask) == (u128::from(net) & mask)
            };
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || in_net(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7)
                || in_net(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10)
                || in_net(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0, 0), 96)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Security groups (points 1–5 of aws-semantics.md).

/// The protocol number of a security-group rule's `IpProtocol` (`-1` = all).
fn sg_rule_protocol(text: &str) -> R<i16> {
    match text.trim().to_ascii_lowercase().as_str() {
        "tcp" => Ok(6),
        "udp" => Ok(17),
        "icmp" => Ok(1),
        "icmpv6" => Ok(58),
        "-1" | "all" => Ok(-1),
        other => match other.parse::<i16>() {
            Ok(n) if (-1..=255).contains(&n) => Ok(n),
            _ => oos("a security-group rule has an unknown protocol"),
        },
    }
}

/// Whether an ICMP type/code pattern (`-1` = any) matches.
fn icmp_matches(rule_type: i32, rule_code: i32, icmp: Option<(u8, u8)>) -> bool {
    let Some((t, c)) = icmp else {
        return false;
    };
    (rule_type == -1 || rule_type == i32::from(t)) && (rule_code == -1 || rule_code == i32::from(c))
}

/// Whether a security-group rule covers the packet's protocol and port (or ICMP type/code).
fn sg_rule_covers(perm: &crate::snapshot::IpPermission, pkt: &Packet) -> R<bool> {
    let rp = sg_rule_protocol(&perm.ip_protocol)?;
    if rp == -1 {
        return Ok(true);
    }
    if pkt.protocol == -1 {
        // A rule for one protocol does not allow all traffic.
        return Ok(false);
    }
    if rp != pkt.protocol {
        return Ok(false);
    }
    match rp {
        6 | 17 => {
            let (Some(from), Some(to)) = (perm.from_port, perm.to_port) else {
                return oos("a TCP/UDP security-group rule has no port range");
            };
            if from == -1 {
                return Ok(true);
            }
            let p = i32::from(pkt.port);
            Ok(from <= p && p <= to)
        }
        1 | 58 => {
            let t = perm.from_port.unwrap_or(-1);
            let c = perm.to_port.unwrap_or(-1);
            Ok(icmp_matches(t, c, pkt.icmp))
        }
        // Other protocols: ports are ignored.
        _ => Ok(true),
    }
}

/// One ENI's security groups, in one direction, for one packet. `egress` = outbound rules, whose
/// addresses match the packet's destination; inbound rules match its source.
fn sg_step(snap: &Snapshot, holder: &NetworkInterface, egress: bool, pkt: &Packet) -> R<Step> {
    let peer = if egress { pkt.dst } else { pkt.src };
    let holder_vpc = vpc_of(snap, holder)?;
    let mut unknown: Option<&'static str> = None;
    for gi in &holder.groups {
        let Some(sg) = snap
            .security_groups
            .iter()
            .find(|g| g.group_id == gi.group_id)
        else {
            return oos("an ENI's security group is not in the snapshot");
        };
        let perms = if egress {
            &sg.ip_permissions_egress
        } else {
            &sg.ip_permissions
        };
        for perm in perms {
            if !sg_rule_covers(perm, pkt)? {
                continue;
            }
            for r in &perm.ip_ranges {
                if cidr_contains(&r.cidr_ip, peer)? {
                    return Ok(Step::Pass);
                }
            }
            for r in &perm.ipv6_ranges {
                if cidr_contains(&r.cidr_ipv6, peer)? {
                    return Ok(Step::Pass);
                }
            }
            for pl in &perm.prefix_list_ids {
                let list = snap
                    .managed_prefix_lists
                    .iter()
                    .find(|l| l.prefix_list_id == pl.prefix_list_id);
                match list.and_then(|l| l.entries.as_ref()) {
                    Some(entries) => {
                        for e in entries {
                            if cidr_contains(&e.cidr, peer)? {
                                return Ok(Step::Pass);
                            }
                        }
                    }
                    None => {
                        if unknown.is_none() {
                            unknown = Some(UNKNOWN_PL);
                        }
                    }
                }
            }
            // A reference matches only private addresses of ENIs of the same VPC or of a
            // peered one (point 3). The snapshot holds every ENI of its VPCs, so a peer that is
            // no such address cannot match, even a group the snapshot does not hold.
            let member = if perm.user_id_group_pairs.is_empty() {
                None
            } else {
                match eni_owning(snap, peer)? {
                    Some(m) if same_or_peered(snap, holder_vpc, vpc_of(snap, m)?) => Some(m),
                    _ => None,
                }
            };
            for pair in &perm.user_id_group_pairs {
                let Some(gid) = &pair.group_id else {
                    return oos("a security-group reference without a group id");
                };
                let Some(member) = member else {
                    if peered_outside_snapshot(snap, holder_vpc) {
                        // The peer could be a member in a VPC the snapshot does not hold.
                        return oos(
                            "a security-group reference, and a peered VPC not in the snapshot",
                        );
                    }
                    continue;
                };
                let Some(group) = find_group(snap, gid) else {
                    if unknown.is_none() {
                        unknown = Some(UNKNOWN_SG);
                    }
                    continue;
                };
                if member.groups.iter().any(|g| g.group_id == group.group_id) {
                    return Ok(Step::Pass);
                }
            }
        }
    }
    Ok(match unknown {
        Some(code) => Step::Unknown(code),
        None => Step::Fail(SG_MISMATCH),
    })
}

fn find_group<'a>(snap: &'a Snapshot, id: &str) -> Option<&'a SecurityGroup> {
    snap.security_groups.iter().find(|g| g.group_id == id)
}

// ---------------------------------------------------------------------------------------------
// Network ACLs (points 11–14).

/// The subnet's NACL: the associated one, else the VPC's default.
fn nacl_of<'a>(snap: &'a Snapshot, subnet: &Subnet) -> R<&'a NetworkAcl> {
    let mut associated: Option<&NetworkAcl> = None;
    for acl in &snap.network_acls {
        let has = acl
            .associations
            .iter()
            .any(|a| a.subnet_id.as_deref() == Some(subnet.subnet_id.as_str()));
        if has {
            if associated.is_some() {
                return oos("a subnet is associated with two network ACLs");
            }
            associated = Some(acl);
        }
    }
    if let Some(acl) = associated {
        return Ok(acl);
    }
    for acl in &snap.network_acls {
        if acl.vpc_id == subnet.vpc_id && acl.is_default == Some(true) {
            return Ok(acl);
        }
    }
    oos("a subnet has no network ACL (no association, no default)")
}

fn nacl_protocol(text: &str) -> R<i16> {
    match text.trim().to_ascii_lowercase().as_str() {
        "-1" | "all" => Ok(-1),
        "tcp" => Ok(6),
        "udp" => Ok(17),
        "icmp" => Ok(1),
        "icmpv6" => Ok(58),
        other => match other.parse::<i16>() {
            Ok(n) if (-1..=255).contains(&n) => Ok(n),
            _ => oos("a network ACL entry has an unknown protocol"),
        },
    }
}

/// Whether an entry of the packet's protocol matches its port or ICMP type/code.
fn nacl_entry_ports_match(e: &NetworkAclEntry, protocol: i16, pkt: &Packet) -> R<bool> {
    match protocol {
        6 | 17 => {
            let Some(range) = &e.port_range else {
                return oos("a TCP/UDP network ACL entry has no port range");
            };
            let (Some(from), Some(to)) = (range.from, range.to) else {
                return oos("a TCP/UDP network ACL entry has no port range");
            };
            let p = i32::from(pkt.port);
            Ok(from <= p && p <= to)
        }
        1 | 58 => {
            let Some(tc) = &e.icmp_type_code else {
                return oos("an ICMP network ACL entry has no type/code");
            };
            Ok(icmp_matches(
                tc.icmp_type.unwrap_or(-1),
                tc.code.unwrap_or(-1),
                pkt.icmp,
            ))
        }
        _ => Ok(true),
    }
}

/// A subnet's NACL, one direction. Outbound entries match the packet's destination, inbound
/// entries its source. First match by ascending rule number; nothing matches = deny.
fn nacl_step(snap: &Snapshot, subnet: &Subnet, egress: bool, pkt: &Packet) -> R<Step> {
    let acl = nacl_of(snap, subnet)?;
    let addr = if egress { pkt.dst } else { pkt.src };
    let v6 = addr.is_ipv6();
    let mut entries: Vec<&NetworkAclEntry> = Vec::new();
    for e in &acl.entries {
        if e.egress != egress {
            continue;
        }
        let cidr = if v6 {
            &e.ipv6_cidr_block
        } else {
            &e.cidr_block
        };
        if cidr.is_some() {
            entries.push(e);
        }
    }
    entries.sort_by_key(|e| e.rule_number);
    for w in entries.windows(2) {
        if w[0].rule_number == w[1].rule_number {
            return oos("two network ACL entries share a rule number");
        }
    }
    for e in entries {
        let cidr = if v6 {
            &e.ipv6_cidr_block
        } else {
            &e.cidr_block
        };
        let Some(cidr) = cidr else { continue };
        if !cidr_contains(cidr, addr)? {
            continue;
        }
        let allow = match e.rule_action.trim().to_ascii_lowercase().as_str() {
            "allow" => true,
            "deny" => false,
            _ => return oos("a network ACL entry is neither allow nor deny"),
        };
        let ep = nacl_protocol(&e.protocol)?;
        if ep == -1 {
            return Ok(if allow {
                Step::Pass
            } else {
                Step::Fail(ACL_DENY)
            });
        }
        if pkt.protocol == -1 {
            // A rule for one protocol covers only part of "all traffic": a deny blocks some of
            // it, an allow leaves the rest to the next rules.
            if !allow {
                return Ok(Step::Fail(ACL_DENY));
            }
            continue;
        }
        if ep != pkt.protocol {
            continue;
        }
        if !nacl_entry_ports_match(e, ep, pkt)? {
            continue;
        }
        return Ok(if allow {
            Step::Pass
        } else {
            Step::Fail(ACL_DENY)
        });
    }
    Ok(Step::Fail(ACL_DENY))
}

// ---------------------------------------------------------------------------------------------
// Routing (points 16–22).

/// What the chosen route does.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Local,
    Igw,
    Peering(String),
    Blackhole,
}

/// The subnet's route table: the explicitly associated one, else the VPC's main table.
fn route_table_of<'a>(snap: &'a Snapshot, subnet: &Subnet) -> R<&'a RouteTable> {
    let mut explicit: Option<&RouteTable> = None;
    for rt in &snap.route_tables {
        let has = rt.associations.iter().any(|a| {
            a.subnet_id.as_deref() == Some(subnet.subnet_id.as_str())
                && a.association_state
                    .as_ref()
                    .and_then(|s| s.state.as_deref())
                    .is_none_or(|s| s == "associated")
        });
        if has {
            if explicit.is_some() {
                return oos("a subnet is associated with two route tables");
            }
            explicit = Some(rt);
        }
    }
    if let Some(rt) = explicit {
        return Ok(rt);
    }
    for rt in &snap.route_tables {
        if rt.vpc_id == subnet.vpc_id && rt.associations.iter().any(|a| a.main == Some(true)) {
            return Ok(rt);
        }
    }
    oos("a subnet has no route table (no association, no main table)")
}

/// Longest-prefix match in the subnet's route table. `None` = no route.
fn lookup_route(snap: &Snapshot, subnet: &Subnet, dst: IpAddr) -> R<Option<Target>> {
    let rt = route_table_of(snap, subnet)?;
    let local_cidrs = vpc_cidrs(snap, &rt.vpc_id)?;
    // Candidates: (prefix length, target).
    let mut candidates: Vec<(u8, Target)> = Vec::new();
    // Every VPC CIDR has a local route, listed or not.
    for c in &local_cidrs {
        let net = parse_cidr(c)?;
        if net.contains(&dst) {
            candidates.push((net.prefix_len(), Target::Local));
        }
    }
    for route in &rt.routes {
        if route.destination_prefix_list_id.is_some() {
            return oos("a route to a prefix list");
        }
        let dest = match (
            &route.destination_cidr_block,
            &route.destination_ipv6_cidr_block,
        ) {
            (Some(d), _) => d,
            (None, Some(d)) => d,
            (None, None) => return oos("a route without a destination"),
        };
        let net = parse_cidr(dest)?;
        if !net.contains(&dst) {
            continue;
        }
        let target = if route.state.as_deref() == Some("blackhole") {
            Target::Blackhole
        } else if route.gateway_id.as_deref() == Some("local") {
            Target::Local
        } else if let Some(igw) = route
            .gateway_id
            .as_deref()
            .filter(|g| g.starts_with("igw-"))
        {
            let attached = snap.internet_gateways.iter().any(|g| {
                g.internet_gateway_id == igw && g.attachments.iter().any(|a| a.vpc_id == rt.vpc_id)
            });
            if !attached {
                return oos("a route to an internet gateway not attached to the VPC");
            }
            Target::Igw
        } else if let Some(pcx) = &route.vpc_peering_connection_id {
            Target::Peering(pcx.clone())
        } else {
            return oos("a route to a target other than local, IGW or peering");
        };
        candidates.push((net.prefix_len(), target));
    }
    let Some(best_len) = candidates.iter().map(|(l, _)| *l).max() else {
        return Ok(None);
    };
    let mut best: Vec<Target> = Vec::new();
    for (l, t) in candidates {
        if l == best_len && !best.contains(&t) {
            best.push(t);
        }
    }
    if best.len() != 1 {
        return oos("two routes for the same prefix");
    }
    let target = best.remove(0);
    if target != Target::Local {
        for c in &local_cidrs {
            if cidr_contains(c, dst)? {
                return oos("a non-local route more specific than local");
            }
        }
    }
    Ok(Some(target))
}

/// The VPC at the other end of a peering connection, if it is active and joins `from`.
fn peer_vpc(snap: &Snapshot, pcx: &str, from: &str) -> R<String> {
    let Some(p) = snap
        .vpc_peering_connections
        .iter()
        .find(|p| p.vpc_peering_connection_id == pcx)
    else {
        return oos("a route to a peering connection not in the snapshot");
    };
    if p.status.as_ref().and_then(|s| s.code.as_deref()) != Some("active") {
        return oos("a route to a peering connection that is not active");
    }
    let r = p.requester_vpc_info.vpc_id.as_deref();
    let a = p.accepter_vpc_info.vpc_id.as_deref();
    match (r, a) {
        (Some(r), Some(a)) if r == from => Ok(a.to_string()),
        (Some(r), Some(a)) if a == from => Ok(r.to_string()),
        _ => oos("a route to a peering connection of another VPC"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two VPCs peered: A (10.0.0.0/16, 2600:1f18:a::/56) with subnets a1, a2; B (10.1.0.0/16)
    /// with subnet b1. ENIs: x (a1, public IP, IPv6), y (a1), z (a2), w (b1). Everything open:
    /// sg-open allows all both ways, default NACLs allow all, routes: local, IGW, peering.
    fn base() -> Snapshot {
        let json = r#"{
          "Vpcs": [
            {"VpcId": "vpc-a", "CidrBlock": "10.0.0.0/16",
             "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:1f18:a::/56"}]},
            {"VpcId": "vpc-b", "CidrBlock": "10.1.0.0/16"}
          ],
          "Subnets": [
            {"SubnetId": "subnet-a1", "VpcId": "vpc-a", "CidrBlock": "10.0.1.0/24",
             "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:1f18:a:1::/64"}]},
            {"SubnetId": "subnet-a2", "VpcId": "vpc-a", "CidrBlock": "10.0.2.0/24",
             "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": "2600:1f18:a:2::/64"}]},
            {"SubnetId": "subnet-b1", "VpcId": "vpc-b", "CidrBlock": "10.1.1.0/24"}
          ],
          "NetworkInterfaces": [
            {"NetworkInterfaceId": "eni-x", "SubnetId": "subnet-a1", "VpcId": "vpc-a",
             "PrivateIpAddress": "10.0.1.10",
             "PrivateIpAddresses": [
               {"PrivateIpAddress": "10.0.1.10", "Primary": true,
                "Association": {"PublicIp": "54.0.0.1"}}],
             "Association": {"PublicIp": "54.0.0.1"},
             "Ipv6Addresses": [{"Ipv6Address": "2600:1f18:a:1::10"}],
             "Groups": [{"GroupId": "sg-open"}]},
            {"NetworkInterfaceId": "eni-y", "SubnetId": "subnet-a1", "VpcId": "vpc-a",
             "PrivateIpAddress": "10.0.1.11",
             "PrivateIpAddresses": [
               {"PrivateIpAddress": "10.0.1.11", "Primary": true},
               {"PrivateIpAddress": "10.0.1.111", "Primary": false}],
             "Ipv6Addresses": [{"Ipv6Address": "2600:1f18:a:1::11"}],
             "Groups": [{"GroupId": "sg-open"}]},
            {"NetworkInterfaceId": "eni-z", "SubnetId": "subnet-a2", "VpcId": "vpc-a",
             "PrivateIpAddress": "10.0.2.12",
             "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.2.12", "Primary": true}],
             "Ipv6Addresses": [{"Ipv6Address": "2600:1f18:a:2::12"}],
             "Groups": [{"GroupId": "sg-open"}]},
            {"NetworkInterfaceId": "eni-w", "SubnetId": "subnet-b1", "VpcId": "vpc-b",
             "PrivateIpAddress": "10.1.1.13",
             "PrivateIpAddresses": [{"PrivateIpAddress": "10.1.1.13", "Primary": true}],
             "Groups": [{"GroupId": "sg-open-b"}]}
          ],
          "SecurityGroups": [
            {"GroupId": "sg-open", "GroupName": "open", "VpcId": "vpc-a",
             "IpPermissions": [{"IpProtocol": "-1",
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}],
             "IpPermissionsEgress": [{"IpProtocol": "-1",
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}]},
            {"GroupId": "sg-open-b", "GroupName": "open", "VpcId": "vpc-b",
             "IpPermissions": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
             "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}
          ],
          "NetworkAcls": [
            {"NetworkAclId": "acl-a", "VpcId": "vpc-a", "IsDefault": true, "Entries": [
              {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"},
              {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"},
              {"RuleNumber": 101, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "Ipv6CidrBlock": "::/0"},
              {"RuleNumber": 101, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "Ipv6CidrBlock": "::/0"},
              {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"},
              {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": true, "CidrBlock": "0.0.0.0/0"}]},
            {"NetworkAclId": "acl-b", "VpcId": "vpc-b", "IsDefault": true, "Entries": [
              {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"},
              {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"}]}
          ],
          "RouteTables": [
            {"RouteTableId": "rtb-a", "VpcId": "vpc-a", "Associations": [{"Main": true}], "Routes": [
              {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
              {"DestinationIpv6CidrBlock": "2600:1f18:a::/56", "GatewayId": "local", "State": "active"},
              {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-a", "State": "active"},
              {"DestinationIpv6CidrBlock": "::/0", "GatewayId": "igw-a", "State": "active"},
              {"DestinationCidrBlock": "10.1.0.0/16", "VpcPeeringConnectionId": "pcx-1", "State": "active"}]},
            {"RouteTableId": "rtb-b", "VpcId": "vpc-b", "Associations": [{"Main": true}], "Routes": [
              {"DestinationCidrBlock": "10.1.0.0/16", "GatewayId": "local", "State": "active"},
              {"DestinationCidrBlock": "10.0.0.0/16", "VpcPeeringConnectionId": "pcx-1", "State": "active"}]}
          ],
          "InternetGateways": [
            {"InternetGatewayId": "igw-a", "Attachments": [{"VpcId": "vpc-a", "State": "available"}]}
          ],
          "VpcPeeringConnections": [
            {"VpcPeeringConnectionId": "pcx-1", "Status": {"Code": "active"},
             "RequesterVpcInfo": {"VpcId": "vpc-a", "CidrBlock": "10.0.0.0/16"},
             "AccepterVpcInfo": {"VpcId": "vpc-b", "CidrBlock": "10.1.0.0/16"}}
          ],
          "ManagedPrefixLists": [
            {"PrefixListId": "pl-full", "AddressFamily": "IPv4",
             "Entries": [{"Cidr": "10.0.2.0/24"}]},
            {"PrefixListId": "pl-empty", "AddressFamily": "IPv4"}
          ]
        }"#;
        Snapshot::from_json_str(json).expect("test snapshot parses")
    }

    fn tcp(src: &str, dst: &str, port: u16) -> RefQuery {
        RefQuery {
            src_eni: src.to_string(),
            dst: dst.parse().expect("test address"),
            protocol: 6,
            dst_port: port,
            src_port: 50000,
            icmp: None,
        }
    }

    fn unreachable(code: &'static str) -> RefVerdict {
        RefVerdict::Unreachable {
            code,
            on_return: false,
        }
    }

    fn unreachable_on_return(code: &'static str) -> RefVerdict {
        RefVerdict::Unreachable {
            code,
            on_return: true,
        }
    }

    fn sg_mut<'a>(s: &'a mut Snapshot, id: &str) -> &'a mut SecurityGroup {
        s.security_groups
            .iter_mut()
            .find(|g| g.group_id == id)
            .expect("group in test snapshot")
    }

    fn acl_mut<'a>(s: &'a mut Snapshot, id: &str) -> &'a mut NetworkAcl {
        s.network_acls
            .iter_mut()
            .find(|g| g.network_acl_id == id)
            .expect("acl in test snapshot")
    }

    fn rt_mut<'a>(s: &'a mut Snapshot, id: &str) -> &'a mut RouteTable {
        s.route_tables
            .iter_mut()
            .find(|g| g.route_table_id == id)
            .expect("route table in test snapshot")
    }

    fn perm(json: &str) -> crate::snapshot::IpPermission {
        serde_json::from_str(json).expect("test permission parses")
    }

    fn entry(json: &str) -> NetworkAclEntry {
        serde_json::from_str(json).expect("test entry parses")
    }

    fn route(json: &str) -> crate::snapshot::Route {
        serde_json::from_str(json).expect("test route parses")
    }

    /// A second group on eni-z allowing only tcp/22 from anywhere; sg-open removed from z.
    fn z_with_groups(s: &mut Snapshot, inbound: &[&str]) {
        let mut g = SecurityGroup {
            group_id: "sg-z".into(),
            group_name: "z".into(),
            vpc_id: Some("vpc-a".into()),
            ..Default::default()
        };
        g.ip_permissions = inbound.iter().map(|p| perm(p)).collect();
        g.ip_permissions_egress = vec![perm(
            r#"{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}"#,
        )];
        s.security_groups.push(g);
        let z = s
            .network_interfaces
            .iter_mut()
            .find(|e| e.network_interface_id == "eni-z")
            .expect("eni-z");
        z.groups = vec![crate::snapshot::GroupIdentifier {
            group_id: "sg-z".into(),
            group_name: None,
        }];
    }

    #[test]
    fn open_network_is_reachable_everywhere() {
        let s = base();
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.1.11", 22)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 22)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.1.1.13", 22)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "8.8.8.8", 443)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "2600:1f18:a:2::12", 80)),
            RefVerdict::Reachable
        );
    }

    // Point 1: allow-only, union of groups, no match = denied.
    #[test]
    fn sg_no_matching_rule_denies_and_groups_are_unioned() {
        let mut s = base();
        z_with_groups(
            &mut s,
            &[
                r#"{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}"#,
            ],
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 22)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 80)),
            unreachable(SG_MISMATCH)
        );
        // A second group on z allowing 80 makes the union allow it.
        let mut g2 = SecurityGroup {
            group_id: "sg-z2".into(),
            vpc_id: Some("vpc-a".into()),
            ..Default::default()
        };
        g2.ip_permissions = vec![perm(
            r#"{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "10.0.1.0/24"}]}"#,
        )];
        s.security_groups.push(g2);
        for e in &mut s.network_interfaces {
            if e.network_interface_id == "eni-z" {
                e.groups.push(crate::snapshot::GroupIdentifier {
                    group_id: "sg-z2".into(),
                    group_name: None,
                });
            }
        }
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 80)),
            RefVerdict::Reachable
        );
    }

    #[test]
    fn sg_outbound_is_checked_first() {
        let mut s = base();
        sg_mut(&mut s, "sg-open").ip_permissions_egress = vec![perm(
            r#"{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}"#,
        )];
        // Also break the route: the SG failure must be the one reported.
        rt_mut(&mut s, "rtb-a")
            .routes
            .retain(|r| r.gateway_id.as_deref() != Some("igw-a"));
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "8.8.8.8", 443)),
            unreachable(SG_MISMATCH)
        );
        let mut q = tcp("eni-x", "10.0.2.12", 53);
        q.protocol = 17;
        assert_eq!(evaluate(&s, &q), RefVerdict::Reachable);
    }

    // Point 2: IPv6 CIDRs are separate from IPv4 ones.
    #[test]
    fn sg_ipv6_ranges_match_only_ipv6() {
        let mut s = base();
        z_with_groups(
            &mut s,
            &[
                r#"{"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}"#,
            ],
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "2600:1f18:a:2::12", 443)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 443)),
            unreachable(SG_MISMATCH)
        );
    }

    // Point 3: SG references match members' private addresses; unknown groups are unknown.
    #[test]
    fn sg_reference_matches_members_only() {
        let mut s = base();
        z_with_groups(
            &mut s,
            &[
                r#"{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": "sg-open"}]}"#,
            ],
        );
        // x and y are members of sg-open, w is not (it is in vpc-b with sg-open-b).
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 22)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "2600:1f18:a:2::12", 22)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-w", "10.0.2.12", 22)),
            unreachable(SG_MISMATCH)
        );
    }

    #[test]
    fn sg_reference_to_missing_group_is_unknown() {
        let mut s = base();
        z_with_groups(
            &mut s,
            &[
                r#"{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": "sg-ghost"}]}"#,
            ],
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 22)),
            RefVerdict::Unknown { code: UNKNOWN_SG }
        );
        // The unresolvable rule does not cover port 80: a plain mismatch.
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 80)),
            unreachable(SG_MISMATCH)
        );
        // Outbound to an address no ENI of the same or a peered VPC holds, the missing group
        // cannot match (decision E): a plain mismatch.
        sg_mut(&mut s, "sg-open").ip_permissions_egress = vec![perm(
            r#"{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-ghost"}]}"#,
        )];
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 22)),
            RefVerdict::Unknown { code: UNKNOWN_SG }
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "8.8.8.8", 443)),
            unreachable(SG_MISMATCH)
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.9.9", 443)),
            unreachable(SG_MISMATCH)
        );
        // Unless a peered VPC the snapshot does not hold could hold a member.
        s.vpcs.retain(|v| v.vpc_id != "vpc-b");
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.5.1.1", 443)),
            RefVerdict::Unknown { code: OUT_OF_SCOPE }
        );
    }

    #[test]
    fn unknown_step_yields_to_an_earlier_failure_only() {
        let mut s = base();
        z_with_groups(
            &mut s,
            &[
                r#"{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": "sg-ghost"}]}"#,
            ],
        );
        // A NACL deny before the unknown SG step wins.
        let acl = acl_mut(&mut s, "acl-a");
        acl.entries.push(entry(
            r#"{"RuleNumber": 50, "Protocol": "6", "RuleAction": "deny", "Egress": false, "CidrBlock": "10.0.1.0/24", "PortRange": {"From": 22, "To": 22}}"#,
        ));
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 22)),
            unreachable(ACL_DENY)
        );
    }

    // Point 4: prefix lists match their entries; a list without entries is unknown.
    #[test]
    fn sg_prefix_lists() {
        let mut s = base();
        sg_mut(&mut s, "sg-open").ip_permissions_egress = vec![perm(
            r#"{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": "pl-full"}]}"#,
        )];
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 443)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.1.1.13", 443)),
            unreachable(SG_MISMATCH)
        );
        sg_mut(&mut s, "sg-open").ip_permissions_egress = vec![perm(
            r#"{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": "pl-empty"}, {"PrefixListId": "pl-missing"}]}"#,
        )];
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.1.1.13", 443)),
            RefVerdict::Unknown { code: UNKNOWN_PL }
        );
    }

    // Point 5: protocols and ports.
    #[test]
    fn sg_protocols_and_ports() {
        let mut s = base();
        z_with_groups(
            &mut s,
            &[
                r#"{"IpProtocol": "udp", "FromPort": 1024, "ToPort": 65535, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}"#,
                r#"{"IpProtocol": "icmp", "FromPort": 8, "ToPort": -1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}"#,
                r#"{"IpProtocol": "47", "FromPort": 5, "ToPort": 5, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}"#,
            ],
        );
        let mut q = tcp("eni-x", "10.0.2.12", 5432);
        assert_eq!(evaluate(&s, &q), unreachable(SG_MISMATCH), "tcp is not udp");
        q.protocol = 17;
        assert_eq!(evaluate(&s, &q), RefVerdict::Reachable);
        q.dst_port = 80;
        assert_eq!(
            evaluate(&s, &q),
            unreachable(SG_MISMATCH),
            "port below range"
        );
        q.protocol = 47;
        assert_eq!(evaluate(&s, &q), RefVerdict::Reachable, "GRE ignores ports");
        q.protocol = 1;
        q.icmp = Some((8, 0));
        assert_eq!(evaluate(&s, &q), RefVerdict::Reachable);
        q.icmp = Some((3, 4));
        assert_eq!(
            evaluate(&s, &q),
            unreachable(SG_MISMATCH),
            "wrong ICMP type"
        );
        q.protocol = -1;
        q.icmp = None;
        assert_eq!(
            evaluate(&s, &q),
            unreachable(SG_MISMATCH),
            "single-protocol rules do not allow all traffic"
        );
    }

    // Point 11: first match by rule number, whatever the listed order; `*` denies.
    #[test]
    fn nacl_first_match_by_rule_number() {
        let mut s = base();
        let acl = acl_mut(&mut s, "acl-a");
        acl.entries.push(entry(
            r#"{"RuleNumber": 90, "Protocol": "6", "RuleAction": "allow", "Egress": true, "CidrBlock": "8.8.8.8/32", "PortRange": {"From": 443, "To": 443}}"#,
        ));
        acl.entries.push(entry(
            r#"{"RuleNumber": 80, "Protocol": "-1", "RuleAction": "deny", "Egress": true, "CidrBlock": "8.8.0.0/16"}"#,
        ));
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "8.8.8.8", 443)),
            unreachable(ACL_DENY)
        );
        let acl = acl_mut(&mut s, "acl-a");
        acl.entries.retain(|e| e.rule_number != 80);
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "8.8.8.8", 443)),
            RefVerdict::Reachable
        );
        // No entry at all: the implicit `*` denies.
        acl_mut(&mut s, "acl-a").entries.clear();
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "8.8.8.8", 443)),
            unreachable(ACL_DENY)
        );
    }

    #[test]
    fn nacl_ipv6_entries_are_separate() {
        let mut s = base();
        let acl = acl_mut(&mut s, "acl-a");
        acl.entries.retain(|e| e.ipv6_cidr_block.is_none());
        // Only IPv4 allow rules: IPv6 traffic leaving the subnet hits the deny.
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "2600:1f18:a:2::12", 80)),
            unreachable(ACL_DENY)
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 80)),
            RefVerdict::Reachable
        );
    }

    #[test]
    fn nacl_inbound_at_destination() {
        let mut s = base();
        let acl = acl_mut(&mut s, "acl-b");
        acl.entries.push(entry(
            r#"{"RuleNumber": 10, "Protocol": "6", "RuleAction": "deny", "Egress": false, "CidrBlock": "10.0.1.10/32", "PortRange": {"From": 0, "To": 1023}}"#,
        ));
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.1.1.13", 22)),
            unreachable(ACL_DENY)
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.1.1.13", 5432)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-z", "10.1.1.13", 22)),
            RefVerdict::Reachable
        );
    }

    // Point 12: same subnet is not filtered; associated NACL replaces the default.
    #[test]
    fn nacl_not_applied_within_a_subnet() {
        let mut s = base();
        acl_mut(&mut s, "acl-a").entries.clear();
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.1.11", 22)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 22)),
            unreachable(ACL_DENY)
        );
    }

    #[test]
    fn nacl_association_overrides_default() {
        let mut s = base();
        let mut custom = NetworkAcl {
            network_acl_id: "acl-custom".into(),
            vpc_id: "vpc-a".into(),
            is_default: Some(false),
            ..Default::default()
        };
        custom
            .associations
            .push(crate::snapshot::NetworkAclAssociation {
                subnet_id: Some("subnet-a2".into()),
                network_acl_id: Some("acl-custom".into()),
                network_acl_association_id: None,
            });
        s.network_acls.push(custom);
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 22)),
            unreachable(ACL_DENY)
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.1.11", 22)),
            RefVerdict::Reachable
        );
    }

    // Point 13: stateless, the response needs the ephemeral port in the other direction.
    #[test]
    fn nacl_response_needs_ephemeral_ports() {
        let mut s = base();
        let acl = acl_mut(&mut s, "acl-b");
        acl.entries = vec![
            entry(
                r#"{"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 22, "To": 22}}"#,
            ),
            entry(
                r#"{"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 1024, "To": 65535}}"#,
            ),
        ];
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.1.1.13", 22)),
            RefVerdict::Reachable
        );
        let mut q = tcp("eni-x", "10.1.1.13", 22);
        q.src_port = 22;
        assert_eq!(evaluate(&s, &q), unreachable_on_return(ACL_DENY));
        // Return into the source subnet is checked too.
        let acl = acl_mut(&mut s, "acl-a");
        acl.entries.retain(|e| e.egress);
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.1.1.13", 22)),
            unreachable_on_return(ACL_DENY)
        );
        // An internet destination's response needs only the source subnet's inbound rules.
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "8.8.8.8", 443)),
            unreachable_on_return(ACL_DENY)
        );
    }

    #[test]
    fn icmp_echo_reply_is_checked_other_icmp_is_not() {
        let mut s = base();
        let acl = acl_mut(&mut s, "acl-b");
        acl.entries = vec![
            entry(
                r#"{"RuleNumber": 100, "Protocol": "1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0", "IcmpTypeCode": {"Type": -1, "Code": -1}}"#,
            ),
            entry(
                r#"{"RuleNumber": 100, "Protocol": "1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0", "IcmpTypeCode": {"Type": 3, "Code": -1}}"#,
            ),
        ];
        let mut q = tcp("eni-x", "10.1.1.13", 0);
        q.protocol = 1;
        q.icmp = Some((8, 0));
        assert_eq!(evaluate(&s, &q), unreachable_on_return(ACL_DENY));
        q.icmp = Some((3, 4));
        assert_eq!(evaluate(&s, &q), RefVerdict::Reachable);
        // Allow echo replies out: the ping works.
        acl_mut(&mut s, "acl-b").entries.push(entry(
            r#"{"RuleNumber": 110, "Protocol": "1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0", "IcmpTypeCode": {"Type": 0, "Code": 0}}"#,
        ));
        q.icmp = Some((8, 0));
        assert_eq!(evaluate(&s, &q), RefVerdict::Reachable);
    }

    // Point 14: protocol -1 ignores ports; a query for all traffic is blocked by a partial deny.
    #[test]
    fn nacl_all_traffic_query() {
        let mut s = base();
        let mut q = tcp("eni-x", "10.1.1.13", 0);
        q.protocol = -1;
        assert_eq!(evaluate(&s, &q), RefVerdict::Reachable);
        acl_mut(&mut s, "acl-b").entries.push(entry(
            r#"{"RuleNumber": 10, "Protocol": "17", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0", "PortRange": {"From": 53, "To": 53}}"#,
        ));
        assert_eq!(evaluate(&s, &q), unreachable(ACL_DENY));
        let mut t = q.clone();
        t.protocol = 6;
        assert_eq!(evaluate(&s, &t), RefVerdict::Reachable);
    }

    // Point 16: explicit association beats main.
    #[test]
    fn route_table_association_overrides_main() {
        let mut s = base();
        let mut rt = RouteTable {
            route_table_id: "rtb-a2".into(),
            vpc_id: "vpc-a".into(),
            ..Default::default()
        };
        rt.associations
            .push(crate::snapshot::RouteTableAssociation {
                subnet_id: Some("subnet-a2".into()),
                ..Default::default()
            });
        rt.routes.push(route(
            r#"{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"}"#,
        ));
        s.route_tables.push(rt);
        // z's subnet has no IGW route.
        let mut q = tcp("eni-z", "8.8.8.8", 443);
        assert_eq!(evaluate(&s, &q), unreachable(NO_ROUTE));
        q.src_eni = "eni-x".into();
        assert_eq!(evaluate(&s, &q), RefVerdict::Reachable);
    }

    // Points 17, 19: longest prefix; a blackhole is still the longest match.
    #[test]
    fn route_longest_prefix_and_blackhole() {
        let mut s = base();
        rt_mut(&mut s, "rtb-a").routes.push(route(
            r#"{"DestinationCidrBlock": "8.8.8.0/24", "GatewayId": "igw-gone", "State": "blackhole"}"#,
        ));
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "8.8.8.8", 443)),
            unreachable(BAD_ROUTE)
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "8.8.4.4", 443)),
            RefVerdict::Reachable
        );
    }

    #[test]
    fn local_route_needs_an_eni_behind_the_address() {
        let s = base();
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.9.9", 22)),
            unreachable(NO_ROUTE)
        );
        // A secondary address is an address of its ENI.
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.1.111", 22)),
            RefVerdict::Reachable
        );
    }

    // Point 20: IGW needs a public IPv4 (not for IPv6); private destinations go nowhere.
    #[test]
    fn igw_needs_public_ipv4_and_public_destination() {
        let s = base();
        assert_eq!(
            evaluate(&s, &tcp("eni-z", "8.8.8.8", 443)),
            unreachable(IGW_PUBLIC)
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-z", "2606:4700::1111", 443)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "192.168.1.1", 443)),
            unreachable(NO_ROUTE)
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "fd00::1", 443)),
            unreachable(NO_ROUTE)
        );
    }

    // Point 22: peering needs routes on both sides.
    #[test]
    fn peering_needs_routes_both_ways() {
        let mut s = base();
        assert_eq!(
            evaluate(&s, &tcp("eni-w", "10.0.2.12", 22)),
            RefVerdict::Reachable
        );
        rt_mut(&mut s, "rtb-a")
            .routes
            .retain(|r| r.vpc_peering_connection_id.is_none());
        assert_eq!(
            evaluate(&s, &tcp("eni-w", "10.0.2.12", 22)),
            unreachable_on_return(NO_ROUTE)
        );
        // From A, the IGW default route now catches 10.1.x: private, not routed.
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.1.1.13", 22)),
            unreachable(NO_ROUTE)
        );
        // Without a peering connection, no route at all from B.
        s.vpc_peering_connections.clear();
        assert_eq!(
            evaluate(&s, &tcp("eni-w", "10.0.2.12", 22)),
            RefVerdict::Unknown { code: OUT_OF_SCOPE }
        );
    }

    #[test]
    fn sg_reference_across_peering() {
        let mut s = base();
        z_with_groups(
            &mut s,
            &[
                r#"{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": "sg-open-b"}]}"#,
            ],
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-w", "10.0.2.12", 22)),
            RefVerdict::Reachable
        );
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.2.12", 22)),
            unreachable(SG_MISMATCH)
        );
    }

    #[test]
    fn failures_lists_every_failing_step_in_order() {
        let mut s = base();
        acl_mut(&mut s, "acl-a").entries.clear();
        sg_mut(&mut s, "sg-open").ip_permissions_egress.clear();
        let q = tcp("eni-z", "8.8.8.8", 443);
        assert_eq!(
            failures(&s, &q),
            vec![
                unreachable(SG_MISMATCH),
                unreachable(ACL_DENY),
                unreachable(IGW_PUBLIC),
                unreachable_on_return(ACL_DENY),
            ]
        );
        assert_eq!(evaluate(&s, &q), unreachable(SG_MISMATCH));
        assert!(failures(&base(), &q).contains(&unreachable(IGW_PUBLIC)));
        assert!(failures(&base(), &tcp("eni-x", "8.8.8.8", 443)).is_empty());
    }

    // Decisions A and B: the checks follow the packet; the source ACL comes before the
    // gateway, and inside the internet gateway a private destination before a private source.
    #[test]
    fn forward_checks_follow_the_packet() {
        let mut s = base();
        acl_mut(&mut s, "acl-a").entries.clear();
        // z has no public IP: the ACL it crosses first decides.
        assert_eq!(
            evaluate(&s, &tcp("eni-z", "8.8.8.8", 443)),
            unreachable(ACL_DENY)
        );
        // Within the subnet the ACL is not crossed; a local address without an ENI has no
        // route, whatever the ACL.
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "10.0.9.9", 22)),
            unreachable(NO_ROUTE)
        );
        let s = base();
        assert_eq!(
            evaluate(&s, &tcp("eni-z", "192.168.1.1", 443)),
            unreachable(NO_ROUTE),
            "private destination before private source"
        );
        assert_eq!(
            failures(&s, &tcp("eni-z", "192.168.1.1", 443)),
            vec![unreachable(NO_ROUTE)]
        );
        // A blackhole comes before the ACL.
        let mut s = base();
        acl_mut(&mut s, "acl-a").entries.clear();
        rt_mut(&mut s, "rtb-a").routes.push(route(
            r#"{"DestinationCidrBlock": "8.8.8.0/24", "GatewayId": "igw-gone", "State": "blackhole"}"#,
        ));
        assert_eq!(
            evaluate(&s, &tcp("eni-x", "8.8.8.8", 443)),
            unreachable(BAD_ROUTE)
        );
    }

    // Decision C: the response takes the route back before the destination subnet's ACL.
    #[test]
    fn return_checks_follow_the_packet() {
        let mut s = base();
        rt_mut(&mut s, "rtb-b")
            .routes
            .retain(|r| r.vpc_peering_connection_id.is_none());
        acl_mut(&mut s, "acl-b").entries.retain(|e| !e.egress);
        assert_eq!(
            failures(&s, &tcp("eni-x", "10.1.1.13", 22)),
            vec![
                unreachable_on_return(NO_ROUTE),
                unreachable_on_return(ACL_DENY),
            ]
        );
        // With a route back to the IGW (private destination): the ACL out first, then the IGW.
        rt_mut(&mut s, "rtb-b").routes.push(route(
            r#"{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-b", "State": "active"}"#,
        ));
        s.internet_gateways.push(
            serde_json::from_str(
                r#"{"InternetGatewayId": "igw-b", "Attachments": [{"VpcId": "vpc-b", "State": "available"}]}"#,
            )
            .expect("test gateway parses"),
        );
        assert_eq!(
            failures(&s, &tcp("eni-x", "10.1.1.13", 22)),
            vec![
                unreachable_on_return(ACL_DENY),
                unreachable_on_return(NO_ROUTE),
            ]
        );
    }

    #[test]
    fn out_of_scope_is_explained() {
        let s = base();
        let q = tcp("eni-x", "54.0.0.1", 22);
        assert_eq!(evaluate(&s, &q), RefVerdict::Unknown { code: OUT_OF_SCOPE });
        assert!(out_of_scope_reason(&s, &q).is_some());
        assert_eq!(
            out_of_scope_reason(&s, &tcp("eni-x", "10.0.1.11", 22)),
            None
        );
    }
}
