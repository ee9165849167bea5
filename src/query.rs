//! Answering "can A reach B on this port, and if not, what stops it?": a walk of the forward path
//! (request) and of the return path (response), checking security groups, NACLs and routes at
//! every hop and recording the rule that decided each check.

use crate::network::{ComponentKind, Network};
use crate::network_acl::Action;
use crate::protocol::{PortRange, PortSet, Protocol, ICMP, ICMPV6};
use crate::route::Target;
use crate::security_group::SgDecision;
use crate::security_group::{Direction, SgPeer, SgRule};
use crate::trace::*;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One end of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// An ENI, by one of its private addresses.
    Eni {
        /// Index into [`Network::enis`].
        eni: usize,
        /// The private address (IPv4 or IPv6).
        addr: IpAddr,
    },
    /// The public or Elastic IP of an ENI (reached through its internet gateway).
    PublicIp {
        /// Index into [`Network::enis`].
        eni: usize,
        /// The public address.
        public: IpAddr,
        /// The private address it maps to.
        private: IpAddr,
    },
    /// An address outside the snapshot: the internet, or on-premises.
    External(IpAddr),
}

impl Endpoint {
    fn address(&self) -> IpAddr {
        match self {
            Endpoint::Eni { addr, .. } => *addr,
            Endpoint::PublicIp { public, .. } => *public,
            Endpoint::External(ip) => *ip,
        }
    }
}

/// A reachability question.
#[derive(Debug, Clone)]
pub struct Query {
    /// The source.
    pub from: Endpoint,
    /// The destination.
    pub to: Endpoint,
    /// The protocol.
    pub protocol: Protocol,
    /// The destination port (TCP/UDP) or the ICMP type (default 8, echo request).
    pub port: Option<u16>,
    /// The client's source port; `None` means any ephemeral port (1024–65535).
    pub src_port: Option<u16>,
}

/// Why an endpoint could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// An id of a known shape that is not in the snapshot.
    #[error("`{input}` is not in the snapshot{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownId {
        /// What was typed.
        input: String,
        /// The closest known id.
        suggestion: Option<String>,
    },
    /// Neither an id nor an address.
    #[error("`{0}` is not an ENI id, an instance id or an IP address")]
    Unrecognized(String),
    /// The id names something that is not an endpoint.
    #[error("`{0}` names a {1}, not an ENI or instance")]
    NotAnEndpoint(String, &'static str),
}

/// Well-known addresses AWS does not filter with security groups or NACLs (aws-semantics 9, 15).
fn exempt_service(net: &Network, src_vpc: Option<&str>, dst: IpAddr) -> Option<&'static str> {
    match dst {
        IpAddr::V4(v4) => {
            if v4 == Ipv4Addr::new(169, 254, 169, 254) {
                return Some("instance metadata service");
            }
            if v4 == Ipv4Addr::new(169, 254, 169, 123) {
                return Some("Amazon Time Sync Service");
            }
            if v4 == Ipv4Addr::new(169, 254, 169, 253) {
                return Some("Route 53 Resolver");
            }
            let vpc = net.vpc(src_vpc?)?;
            for c in &vpc.cidrs {
                if let ipnet::IpNet::V4(n) = c {
                    let base = u32::from(n.network());
                    if u32::from(v4) == base.wrapping_add(2) {
                        return Some("Route 53 Resolver (VPC base + 2)");
                    }
                }
            }
            None
        }
        IpAddr::V6(v6) => {
            let svc = [
                (0x254u16, "instance metadata service"),
                (0x123, "Amazon Time Sync Service"),
                (0x253, "Route 53 Resolver"),
            ];
            for (last, name) in svc {
                if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, last) {
                    return Some(name);
                }
            }
            None
        }
    }
}

/// Whether an address is not routable on the internet (RFC 1918, shared, loopback, link-local,
/// unique-local IPv6, documentation ranges excluded on purpose: they stand for internet hosts).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Request,
    Response,
}

#[derive(Debug, Clone)]
struct Pkt {
    src: IpAddr,
    dst: IpAddr,
    proto: Protocol,
    /// Destination ports still possible (one port for a request; a range for a response).
    dport: PortSet,
    /// Source ports (one port, or the client's possible range).
    sports: PortSet,
    icmp: Option<(u8, u8)>,
    /// Whether security-group references can match the source (same VPC or a peering).
    refs_ok: bool,
}

#[derive(Debug, Clone)]
struct NatState {
    nat_id: String,
    public_ip: Option<IpAddr>,
    private_ip: Option<IpAddr>,
    orig_src: IpAddr,
    orig_sports: PortSet,
}

#[derive(Debug)]
enum Arrival {
    Eni { eni: usize, pkt: Pkt },
    Internet { pkt: Pkt },
    Service { pkt: Pkt, subnet: Option<usize> },
    Exempt,
}

#[derive(Debug, Clone, Copy)]
enum Stop {
    Blocked(Reason),
    Unknown(Reason),
}

type Step = Result<Arrival, Stop>;

struct Walker<'n> {
    net: &'n Network,
    mode: Mode,
    hops: Vec<Hop>,
    stop: Option<(usize, usize)>,
    steps: usize,
    /// Security-group rules that allowed the request, by (ENI, direction), for the response.
    sg_allowed: HashMap<(usize, Direction), SgRule>,
    nat: Option<NatState>,
    notes: Vec<String>,
}

fn rule_json<T: serde::Serialize>(r: &T) -> Option<serde_json::Value> {
    serde_json::to_value(r).ok()
}

fn sg_rule_json(net: &Network, r: &SgRule) -> Option<serde_json::Value> {
    let mut v = rule_json(r)?;
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "text".into(),
            serde_json::Value::String(sg_rule_text(net, r)),
        );
    }
    Some(v)
}

/// A rule in plain words: `tcp/443 from 0.0.0.0/0`.
pub fn sg_rule_text(net: &Network, r: &SgRule) -> String {
    let dir = match r.direction {
        Direction::Inbound => "from",
        Direction::Outbound => "to",
    };
    format!(
        "{}{} {dir} {}",
        r.protocol,
        r.ports,
        net.peer_label(&r.peer)
    )
}

impl<'n> Walker<'n> {
    fn new(net: &'n Network, mode: Mode) -> Self {
        Walker {
            net,
            mode,
            hops: Vec::new(),
            stop: None,
            steps: 0,
            sg_allowed: HashMap::new(),
            nat: None,
            notes: Vec::new(),
        }
    }

    fn name_of(&self, component: &str, kind: ComponentKind) -> Option<String> {
        match kind {
            ComponentKind::NetworkInterface => self.net.eni(component).and_then(|e| e.name.clone()),
            _ => None,
        }
    }

    fn push(&mut self, component: &str, kind: ComponentKind, check: Check) -> (usize, usize) {
        let same = self
            .hops
            .last()
            .is_some_and(|h| h.component == component && h.kind == kind);
        if !same {
            let name = self.name_of(component, kind);
            self.hops.push(Hop {
                component: component.to_string(),
                kind,
                name,
                checks: Vec::new(),
            });
        }
        let hi = self.hops.len() - 1;
        self.hops[hi].checks.push(check);
        (hi, self.hops[hi].checks.len() - 1)
    }

    fn deny(&mut self, component: &str, kind: ComponentKind, check: Check, r: Reason) -> Stop {
        let at = self.push(component, kind, check);
        self.stop = Some(at);
        Stop::Blocked(r)
    }

    fn unknown(&mut self, component: &str, kind: ComponentKind, check: Check, r: Reason) -> Stop {
        let at = self.push(component, kind, check);
        self.stop = Some(at);
        Stop::Unknown(r)
    }

    /// Records a check that stops the walk, denied (`Stop::Blocked`) or undecidable
    /// (`Stop::Unknown`), at a component.
    fn stop(
        &mut self,
        at: (&str, ComponentKind),
        layer: Layer,
        resources: Vec<String>,
        detail: String,
        stop: Stop,
    ) -> Stop {
        let decision = match stop {
            Stop::Blocked(_) => Decision::Deny,
            Stop::Unknown(_) => Decision::Unknown,
        };
        let check = Self::simple(layer, decision, resources, detail);
        let spot = self.push(at.0, at.1, check);
        self.stop = Some(spot);
        stop
    }

    fn simple(layer: Layer, decision: Decision, resources: Vec<String>, detail: String) -> Check {
        Check {
            layer,
            decision,
            direction: None,
            resources,
            rule_number: None,
            rule: None,
            ports_allowed: None,
            tracking: None,
            detail,
        }
    }

    // ---- security groups -------------------------------------------------------------------

    fn sg_check(&mut self, eni: usize, dir: Direction, pkt: &Pkt) -> Result<(), Stop> {
        let net = self.net;
        let e = &net.enis[eni];
        let peer = match dir {
            Direction::Inbound => pkt.src,
            Direction::Outbound => pkt.dst,
        };
        let mut resources: Vec<String> =
            e.groups.iter().map(|&g| net.groups[g].id.clone()).collect();
        resources.extend(e.missing_groups.iter().cloned());
        if self.mode == Mode::Response {
            return self.sg_response(eni, dir, pkt, resources);
        }
        let port = pkt.dport.first();
        let refs_ok = match dir {
            Direction::Outbound => net.refs_apply(eni, peer),
            Direction::Inbound => Some(pkt.refs_ok),
        };
        let mut unresolved: Option<(Reason, &SgRule)> = None;
        match net.sg_evaluate(eni, dir, peer, pkt.proto, port, pkt.icmp, refs_ok) {
            SgDecision::Allow(rule) => {
                self.sg_allowed.insert((eni, dir), rule.clone());
                let detail = format!(
                    "{dir} allowed by {} rule {}",
                    rule.group_id,
                    sg_rule_text(net, rule)
                );
                self.push(
                    &e.id,
                    ComponentKind::NetworkInterface,
                    Check {
                        layer: Layer::SecurityGroup,
                        decision: Decision::Allow,
                        direction: Some(dir),
                        resources: vec![rule.group_id.clone()],
                        rule_number: None,
                        rule: sg_rule_json(net, rule),
                        ports_allowed: None,
                        tracking: None,
                        detail,
                    },
                );
                return Ok(());
            }
            SgDecision::Unresolved(rule) => {
                let r = match rule.peer {
                    SgPeer::PrefixList { .. } => Reason::UnknownPrefixList,
                    _ => Reason::UnknownPeeredSgs,
                };
                unresolved = Some((r, rule));
            }
            SgDecision::Deny | SgDecision::MissingGroups => {}
        }
        if let Some((reason, rule)) = unresolved {
            let detail = format!(
                "{dir}: no rule allows it, but {} rule {} references {} which is not in the snapshot",
                rule.group_id,
                sg_rule_text(net, rule),
                rule.peer
            );
            let check = Check {
                layer: Layer::SecurityGroup,
                decision: Decision::Unknown,
                direction: Some(dir),
                resources: vec![rule.group_id.clone()],
                rule_number: None,
                rule: sg_rule_json(net, rule),
                ports_allowed: None,
                tracking: None,
                detail,
            };
            return Err(self.unknown(&e.id, ComponentKind::NetworkInterface, check, reason));
        }
        if !e.missing_groups.is_empty() {
            let detail = format!(
                "{dir}: no known rule allows it; groups {} are not in the snapshot",
                e.missing_groups.join(", ")
            );
            return Err(self.stop(
                (&e.id, ComponentKind::NetworkInterface),
                Layer::SecurityGroup,
                resources,
                detail,
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        }
        let what = match dir {
            Direction::Inbound => format!("from {peer}"),
            Direction::Outbound => format!("to {peer}"),
        };
        let detail = format!(
            "{dir}: no rule of {} allows {}{} {what}",
            if resources.is_empty() {
                "its security groups (none attached)".to_string()
            } else {
                resources.join(", ")
            },
            pkt.proto,
            port_text(pkt)
        );
        let mut check = Self::simple(Layer::SecurityGroup, Decision::Deny, resources, detail);
        check.direction = Some(dir);
        Err(self.deny(
            &e.id,
            ComponentKind::NetworkInterface,
            check,
            Reason::SgRulesMismatch,
        ))
    }

    fn sg_response(
        &mut self,
        eni: usize,
        dir: Direction,
        pkt: &Pkt,
        resources: Vec<String>,
    ) -> Result<(), Stop> {
        let net = self.net;
        let e = &net.enis[eni];
        let request_rule = self.sg_allowed.get(&(eni, dir.reverse())).cloned();
        // Untracked (aws-semantics 7): TCP/UDP allowed by a rule for 0.0.0.0/0 or ::/0 whose
        // opposite direction allows all traffic everywhere; then the response is judged by rules.
        let v6 = pkt.dst.is_ipv6();
        let untracked_by = request_rule.as_ref().and_then(|rr| {
            let wide = matches!(&rr.peer, SgPeer::Cidr { cidr } if cidr.prefix_len() == 0);
            let tcp_udp = pkt.proto.has_ports();
            if !(wide && tcp_udp) {
                return None;
            }
            net.eni_rules(eni, dir)
                .find(|r| r.is_allow_all_for(v6))
                .cloned()
        });
        let (tracking, rule, detail) = match (&untracked_by, &request_rule) {
            (Some(r), _) => (
                "untracked",
                Some(r.clone()),
                format!(
                    "{dir} response allowed by {} rule {} (untracked: the request matched a rule for all addresses)",
                    r.group_id,
                    sg_rule_text(net, r)
                ),
            ),
            (None, Some(rr)) => (
                "tracked",
                Some(rr.clone()),
                format!(
                    "{dir} response allowed by connection tracking: the request was allowed by {} rule {}",
                    rr.group_id,
                    sg_rule_text(net, rr)
                ),
            ),
            (None, None) => (
                "tracked",
                None,
                format!("{dir} response allowed by connection tracking"),
            ),
        };
        self.push(
            &e.id,
            ComponentKind::NetworkInterface,
            Check {
                layer: Layer::SecurityGroup,
                decision: Decision::Allow,
                direction: Some(dir),
                resources: rule
                    .as_ref()
                    .map(|r| vec![r.group_id.clone()])
                    .unwrap_or(resources),
                rule_number: None,
                rule: rule.as_ref().and_then(|r| sg_rule_json(net, r)),
                ports_allowed: None,
                tracking: Some(tracking),
                detail,
            },
        );
        Ok(())
    }

    // ---- network ACLs ----------------------------------------------------------------------

    fn nacl_check(&mut self, subnet: usize, dir: Direction, pkt: &mut Pkt) -> Result<(), Stop> {
        let net = self.net;
        let s = &net.subnets[subnet];
        let Some(ni) = s.nacl else {
            return Err(self.stop(
                (&s.id, ComponentKind::Subnet),
                Layer::NetworkAcl,
                vec![],
                format!("{dir}: the subnet's network ACL is not in the snapshot"),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        let nacl = &net.nacls[ni];
        let peer = match dir {
            Direction::Inbound => pkt.src,
            Direction::Outbound => pkt.dst,
        };
        let outcome = nacl.evaluate(dir, peer, pkt.proto, &pkt.dport, pkt.icmp);
        let allowed = if pkt.proto.has_ports() {
            outcome.allowed()
        } else if outcome.allowed().is_empty() {
            PortSet::empty()
        } else {
            pkt.dport.clone()
        };
        let on_ports = pkt.proto.has_ports();
        if allowed.is_empty() {
            let deciding: Vec<_> = outcome
                .parts
                .iter()
                .filter(|(_, r)| r.action == Action::Deny)
                .collect();
            let first = deciding.first().map(|(_, r)| *r);
            let rules_text: Vec<String> = deciding
                .iter()
                .map(|(p, r)| {
                    if on_ports && deciding.len() > 1 {
                        format!("{r} for ports {p}")
                    } else {
                        r.to_string()
                    }
                })
                .collect();
            let detail = format!(
                "{dir}: {} {} denies {}{} {} {peer}",
                nacl.id,
                rules_text.join(", "),
                pkt.proto,
                port_text(pkt),
                if dir == Direction::Inbound {
                    "from"
                } else {
                    "to"
                }
            );
            let check = Check {
                layer: Layer::NetworkAcl,
                decision: Decision::Deny,
                direction: Some(dir),
                resources: vec![nacl.id.clone()],
                rule_number: first.map(|r| r.rule_number),
                rule: first.and_then(rule_json),
                ports_allowed: None,
                tracking: None,
                detail,
            };
            return Err(self.deny(
                &s.id,
                ComponentKind::Subnet,
                check,
                Reason::SubnetAclRestriction,
            ));
        }
        let witness = allowed.first();
        let allowing = outcome
            .parts
            .iter()
            .find(|(p, r)| {
                r.action == Action::Allow
                    && (!on_ports
                        || witness
                            .is_some_and(|w| !p.intersect_range(&PortRange::single(w)).is_empty()))
            })
            .map(|(_, r)| *r);
        let partial = on_ports && allowed != pkt.dport;
        let mut detail = format!(
            "{dir}: {} {} allows {}{}",
            nacl.id,
            allowing.map(|r| r.to_string()).unwrap_or_default(),
            pkt.proto,
            if partial {
                format!(" on ports {allowed}")
            } else {
                port_text(pkt)
            }
        );
        if partial {
            let denied: Vec<String> = outcome
                .parts
                .iter()
                .filter(|(_, r)| r.action == Action::Deny)
                .map(|(p, r)| format!("ports {p} by {r}"))
                .collect();
            detail.push_str(&format!("; denied: {}", denied.join(", ")));
        }
        let check = Check {
            layer: Layer::NetworkAcl,
            decision: Decision::Allow,
            direction: Some(dir),
            resources: vec![nacl.id.clone()],
            rule_number: allowing.map(|r| r.rule_number),
            rule: allowing.and_then(rule_json),
            ports_allowed: partial.then(|| allowed.clone()),
            tracking: None,
            detail,
        };
        self.push(&s.id, ComponentKind::Subnet, check);
        if on_ports {
            pkt.dport = allowed;
        }
        Ok(())
    }

    /// NACL checks for traffic moving between two subnets (none within one subnet).
    fn cross(&mut self, from: Option<usize>, to: Option<usize>, pkt: &mut Pkt) -> Result<(), Stop> {
        if from.is_some() && from == to {
            return Ok(());
        }
        if let Some(f) = from {
            self.nacl_check(f, Direction::Outbound, pkt)?;
        }
        if let Some(t) = to {
            self.nacl_check(t, Direction::Inbound, pkt)?;
        }
        Ok(())
    }

    // ---- the walk --------------------------------------------------------------------------

    fn depart_eni(&mut self, eni: usize, mut pkt: Pkt) -> Step {
        let net = self.net;
        let e = &net.enis[eni];
        if self.mode == Mode::Request {
            if let Some(svc) = exempt_service(net, e.vpc_id.as_deref(), pkt.dst) {
                let check = Self::simple(
                    Layer::Exempt,
                    Decision::Allow,
                    vec![],
                    format!(
                        "{} ({}) is not filtered by security groups or network ACLs",
                        pkt.dst, svc
                    ),
                );
                self.push(&e.id, ComponentKind::NetworkInterface, check);
                return Ok(Arrival::Exempt);
            }
        }
        self.sg_check(eni, Direction::Outbound, &pkt)?;
        let Some(subnet) = e.subnet else {
            return Err(self.stop(
                (&e.id, ComponentKind::NetworkInterface),
                Layer::RouteTable,
                vec![],
                "the ENI's subnet is not in the snapshot".into(),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        pkt.refs_ok = true;
        self.route_from_subnet(subnet, pkt, Some(eni))
    }

    fn route_from_subnet(&mut self, subnet: usize, mut pkt: Pkt, src_eni: Option<usize>) -> Step {
        let net = self.net;
        self.steps += 1;
        let s = &net.subnets[subnet];
        if self.steps > 12 {
            return Err(self.stop(
                (&s.id, ComponentKind::Subnet),
                Layer::RouteTable,
                vec![],
                "the path loops between route tables".into(),
                Stop::Blocked(Reason::RoutingLoop),
            ));
        }
        let Some(rti) = s.route_table else {
            return Err(self.stop(
                (&s.id, ComponentKind::Subnet),
                Layer::RouteTable,
                vec![],
                "the subnet has no route table in the snapshot (and its VPC no main table)".into(),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        let rt = &net.route_tables[rti];
        let mut unresolved = Vec::new();
        let found = rt.lookup(pkt.dst, &net.prefix_lists, &mut unresolved);
        let Some(m) = found else {
            let (reason, decision, detail) = if unresolved.is_empty() {
                (
                    Reason::NoRoute,
                    Decision::Deny,
                    format!("no route matches {}", pkt.dst),
                )
            } else {
                (
                    Reason::UnknownPrefixList,
                    Decision::Unknown,
                    format!(
                        "no route matches {}; routes to prefix lists {} could, but their entries are not in the snapshot",
                        pkt.dst,
                        unresolved.join(", ")
                    ),
                )
            };
            let check = Self::simple(Layer::RouteTable, decision, vec![rt.id.clone()], detail);
            return Err(if decision == Decision::Deny {
                self.deny(&rt.id, ComponentKind::RouteTable, check, reason)
            } else {
                self.unknown(&rt.id, ComponentKind::RouteTable, check, reason)
            });
        };
        let route = m.route;
        let mut check = Self::simple(
            Layer::RouteTable,
            Decision::Allow,
            vec![rt.id.clone()],
            format!("{} matches route {route}", pkt.dst),
        );
        check.rule = rule_json(route);
        if route.blackhole {
            check.decision = Decision::Deny;
            check.detail = format!(
                "{} matches route {route}: the route is a blackhole (its target was deleted)",
                pkt.dst
            );
            return Err(self.deny(
                &rt.id,
                ComponentKind::RouteTable,
                check,
                Reason::BadStateRoute,
            ));
        }
        self.push(&rt.id, ComponentKind::RouteTable, check);
        let vpc_id = s.vpc_id.clone();
        match route.target.clone() {
            Target::Local => self.deliver_local(subnet, &vpc_id, pkt),
            Target::InternetGateway(igw) => {
                self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                self.leave_to_internet(&igw, pkt, src_eni, false)
            }
            Target::EgressOnlyInternetGateway(eigw) => {
                self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                self.leave_to_internet(&eigw, pkt, src_eni, true)
            }
            Target::NatGateway(nat) => self.via_nat(subnet, &nat, pkt),
            Target::Peering(pcx) => {
                self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                self.via_peering(&vpc_id, &pcx, pkt)
            }
            Target::TransitGateway(tgw) => {
                self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                let az = src_eni
                    .and_then(|e| net.enis[e].availability_zone.clone())
                    .or_else(|| s.availability_zone.clone());
                self.via_tgw(&vpc_id, &tgw, az, pkt)
            }
            Target::VpcEndpoint(vpce) => {
                let ep = net.endpoints.get(&vpce);
                let kind = ep.map(|e| e.endpoint_type.as_str()).unwrap_or("Gateway");
                if kind.eq_ignore_ascii_case("Gateway") {
                    self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                    let svc = ep
                        .and_then(|e| e.service_name.clone())
                        .unwrap_or_else(|| "an AWS service".into());
                    let check = Self::simple(
                        Layer::RouteTable,
                        Decision::Allow,
                        vec![vpce.clone()],
                        format!("delivered to {svc} through gateway endpoint {vpce}"),
                    );
                    self.push(&vpce, ComponentKind::VpcEndpoint, check);
                    Ok(Arrival::Service {
                        pkt,
                        subnet: Some(subnet),
                    })
                } else {
                    Err(self.stop((&vpce, ComponentKind::VpcEndpoint), Layer::NotModelled, vec![vpce.clone()], format!("traffic goes through {kind} endpoint {vpce} (an appliance behind a load balancer), not modelled"), Stop::Unknown(Reason::NotModelled)))
                }
            }
            Target::NetworkInterface(id) => self.via_appliance(subnet, net.eni_idx(&id), &id, pkt),
            Target::Instance(id) => self.via_appliance(subnet, net.eni_of_instance(&id), &id, pkt),
            Target::VpnGateway(vgw) => {
                self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                Err(self.stop((&vgw, ComponentKind::VpnGateway), Layer::NotModelled, vec![vgw.clone()], format!("traffic leaves AWS through virtual private gateway {vgw} (VPN or Direct Connect); what happens beyond it is not modelled"), Stop::Unknown(Reason::NotModelled)))
            }
            Target::Other(id) => Err(self.stop(
                (&id, ComponentKind::External),
                Layer::NotModelled,
                vec![id.clone()],
                format!("the route's target {id} is not modelled"),
                Stop::Unknown(Reason::NotModelled),
            )),
        }
    }

    fn no_interface(
        &mut self,
        component: &str,
        kind: ComponentKind,
        dst: IpAddr,
        where_: &str,
    ) -> Stop {
        let check = Self::simple(
            Layer::Address,
            Decision::Deny,
            vec![component.to_string()],
            format!("no network interface in {where_} has the address {dst}"),
        );
        self.deny(component, kind, check, Reason::NoRoute)
    }

    fn deliver_local(&mut self, subnet: usize, vpc: &str, mut pkt: Pkt) -> Step {
        let net = self.net;
        let Some(dst) = net.eni_by_private_ip(pkt.dst, Some(vpc)) else {
            return Err(self.no_interface(vpc, ComponentKind::Vpc, pkt.dst, vpc));
        };
        self.cross(Some(subnet), net.enis[dst].subnet, &mut pkt)?;
        self.arrive_eni(dst, pkt)
    }

    fn arrive_eni(&mut self, eni: usize, pkt: Pkt) -> Step {
        self.sg_check(eni, Direction::Inbound, &pkt)?;
        Ok(Arrival::Eni { eni, pkt })
    }

    fn via_peering(&mut self, vpc: &str, pcx: &str, mut pkt: Pkt) -> Step {
        let net = self.net;
        let Some(p) = net.peerings.get(pcx) else {
            return Err(self.stop(
                (pcx, ComponentKind::PeeringConnection),
                Layer::PeeringConnection,
                vec![pcx.to_string()],
                format!("peering connection {pcx} is not in the snapshot"),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        if !p.active {
            return Err(self.stop(
                (pcx, ComponentKind::PeeringConnection),
                Layer::PeeringConnection,
                vec![pcx.to_string()],
                format!("peering connection {pcx} is {}, not active", p.status),
                Stop::Blocked(Reason::PeeringNotActive),
            ));
        }
        let Some(other) = p.other_side(vpc).map(str::to_string) else {
            return Err(self.stop(
                (pcx, ComponentKind::PeeringConnection),
                Layer::PeeringConnection,
                vec![pcx.to_string()],
                format!("peering connection {pcx} does not connect {vpc}"),
                Stop::Blocked(Reason::NoRoute),
            ));
        };
        if net.vpc(&other).is_none() {
            return Err(self.stop(
                (pcx, ComponentKind::PeeringConnection),
                Layer::PeeringConnection,
                vec![pcx.to_string(), other.clone()],
                format!("the peer VPC {other} is not in the snapshot"),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        }
        if !net.vpc_contains(&other, pkt.dst) {
            // No transitive routing: the peer delivers only to its own addresses.
            return Err(self.stop((pcx, ComponentKind::PeeringConnection), Layer::PeeringConnection, vec![pcx.to_string(), other.clone()], format!(
                    "{} is not in {other}: a peering connection delivers only to the peer VPC's own addresses (no transitive routing)",
                    pkt.dst
                ), Stop::Blocked(Reason::NoRoute)));
        }
        let check = Self::simple(
            Layer::PeeringConnection,
            Decision::Allow,
            vec![pcx.to_string()],
            format!("crosses peering connection {pcx} into {other}"),
        );
        self.push(pcx, ComponentKind::PeeringConnection, check);
        let Some(dst) = net.eni_by_private_ip(pkt.dst, Some(&other)) else {
            return Err(self.no_interface(&other, ComponentKind::Vpc, pkt.dst, &other));
        };
        pkt.refs_ok = true;
        self.cross(None, net.enis[dst].subnet, &mut pkt)?;
        self.arrive_eni(dst, pkt)
    }

    fn via_tgw(&mut self, vpc: &str, tgw: &str, az: Option<String>, mut pkt: Pkt) -> Step {
        let net = self.net;
        let att = net
            .tgw_attachments
            .values()
            .filter(|a| {
                a.tgw == tgw && a.resource_type == "vpc" && a.resource_id.as_deref() == Some(vpc)
            })
            .min_by(|a, b| a.id.cmp(&b.id));
        let Some(att) = att else {
            return Err(self.stop(
                (tgw, ComponentKind::TransitGateway),
                Layer::TransitGateway,
                vec![tgw.to_string()],
                format!("{vpc} has no attachment to transit gateway {tgw}"),
                Stop::Blocked(Reason::NoRoute),
            ));
        };
        if let Some(az) = &az {
            let subnet_azs: Vec<Option<&str>> = att
                .subnets
                .iter()
                .map(|s| {
                    net.subnet_idx(s)
                        .and_then(|i| net.subnets[i].availability_zone.as_deref())
                })
                .collect();
            let known = !subnet_azs.is_empty() && subnet_azs.iter().all(Option::is_some);
            if known && !subnet_azs.contains(&Some(az.as_str())) {
                return Err(self.stop((&att.id, ComponentKind::TransitGatewayAttachment), Layer::TransitGateway, vec![att.id.clone()], format!(
                        "attachment {} has no subnet in {az}, so resources there cannot reach {tgw}",
                        att.id
                    ), Stop::Blocked(Reason::TgwNoAttachmentInAz)));
            }
        }
        let Some(rtb) = att.route_table.clone() else {
            return Err(self.stop(
                (&att.id, ComponentKind::TransitGatewayAttachment),
                Layer::TransitGateway,
                vec![att.id.clone()],
                format!(
                    "attachment {} is not associated with a transit gateway route table",
                    att.id
                ),
                Stop::Blocked(Reason::NoRoute),
            ));
        };
        let routes = net
            .tgw_route_tables
            .get(&rtb)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let best = routes
            .iter()
            .filter(|r| r.destination.contains(&pkt.dst))
            .max_by_key(|r| (r.destination.prefix_len(), r.route_type == "static"));
        let Some(best) = best else {
            return Err(self.stop(
                (&rtb, ComponentKind::TransitGateway),
                Layer::TransitGateway,
                vec![rtb.clone()],
                format!(
                    "transit gateway route table {rtb} has no route to {}",
                    pkt.dst
                ),
                Stop::Blocked(Reason::NoRoute),
            ));
        };
        let mut check = Self::simple(
            Layer::TransitGateway,
            Decision::Allow,
            vec![rtb.clone()],
            format!(
                "{} matches {} route {} → {}",
                pkt.dst,
                best.route_type,
                best.destination,
                best.attachment.as_deref().unwrap_or("(none)")
            ),
        );
        check.rule = rule_json(best);
        if best.blackhole {
            check.decision = Decision::Deny;
            check.detail = format!(
                "{} matches blackhole route {} in {rtb}",
                pkt.dst, best.destination
            );
            return Err(self.deny(
                &rtb,
                ComponentKind::TransitGateway,
                check,
                Reason::BadStateRoute,
            ));
        }
        // Entering the attachment: its subnet's NACL judges the traffic inbound (by source),
        // also when the source is in that same subnet (AWS's rules for transit gateway NACLs).
        if let Some(ts) = attachment_subnet(net, att, az.as_deref()) {
            self.nacl_check(ts, Direction::Inbound, &mut pkt)?;
        }
        self.push(tgw, ComponentKind::TransitGateway, check);
        let next = best
            .attachment
            .as_ref()
            .and_then(|a| net.tgw_attachments.get(a));
        let Some(next) = next.filter(|n| n.resource_type == "vpc") else {
            let id = best.attachment.clone().unwrap_or_default();
            let what = next
                .map(|n| n.resource_type.clone())
                .unwrap_or_else(|| "unknown".into());
            return Err(self.stop(
                (&id, ComponentKind::TransitGatewayAttachment),
                Layer::NotModelled,
                vec![id.clone()],
                format!("the next hop is attachment {id} of type {what}, not modelled"),
                Stop::Unknown(Reason::NotModelled),
            ));
        };
        let Some(dst_vpc) = next.resource_id.clone() else {
            return Err(self.no_interface(
                &next.id,
                ComponentKind::TransitGatewayAttachment,
                pkt.dst,
                "the attached VPC",
            ));
        };
        pkt.refs_ok = false;
        if net.vpc_contains(&dst_vpc, pkt.dst) {
            let Some(dst) = net.eni_by_private_ip(pkt.dst, Some(&dst_vpc)) else {
                return Err(self.no_interface(&dst_vpc, ComponentKind::Vpc, pkt.dst, &dst_vpc));
            };
            // Leaving the attachment: its subnet's NACL outbound, then the destination subnet's
            // inbound; neither when both are one subnet.
            let dst_az = net.enis[dst].availability_zone.clone();
            let ts = attachment_subnet(net, next, dst_az.as_deref());
            let ds = net.enis[dst].subnet;
            if ts.is_none() || ts != ds {
                self.cross(ts, ds, &mut pkt)?;
            }
            return self.arrive_eni(dst, pkt);
        }
        // Not for this VPC: the attachment subnet's route table decides (e.g. central egress).
        let sub = next.subnets.iter().find_map(|s| net.subnet_idx(s));
        match sub {
            Some(si) => self.route_from_subnet(si, pkt, None),
            None => Err(self.no_interface(&dst_vpc, ComponentKind::Vpc, pkt.dst, &dst_vpc)),
        }
    }

    fn via_nat(&mut self, subnet: usize, nat_id: &str, mut pkt: Pkt) -> Step {
        let net = self.net;
        let Some(nat) = net.nat_gateways.get(nat_id) else {
            return Err(self.stop(
                (nat_id, ComponentKind::NatGateway),
                Layer::NatGateway,
                vec![nat_id.to_string()],
                format!("NAT gateway {nat_id} is not in the snapshot"),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        if !nat.available {
            return Err(self.stop(
                (nat_id, ComponentKind::NatGateway),
                Layer::NatGateway,
                vec![nat_id.to_string()],
                format!("NAT gateway {nat_id} is not available"),
                Stop::Blocked(Reason::BadStateRoute),
            ));
        }
        self.cross(Some(subnet), nat.subnet, &mut pkt)?;
        let Some(private_ip) = nat.private_ip else {
            return Err(self.stop(
                (nat_id, ComponentKind::NatGateway),
                Layer::NatGateway,
                vec![nat_id.to_string()],
                format!("NAT gateway {nat_id} has no private address in the snapshot"),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        let check = Self::simple(
            Layer::NatGateway,
            Decision::Allow,
            vec![nat_id.to_string()],
            format!(
                "NAT gateway {nat_id} translates source {} to {private_ip}{}",
                pkt.src,
                nat.public_ip
                    .map(|p| format!(" (public {p})"))
                    .unwrap_or_default()
            ),
        );
        self.push(nat_id, ComponentKind::NatGateway, check);
        self.nat = Some(NatState {
            nat_id: nat_id.to_string(),
            public_ip: nat.public_ip,
            private_ip: Some(private_ip),
            orig_src: pkt.src,
            orig_sports: pkt.sports.clone(),
        });
        pkt.src = private_ip;
        pkt.sports = PortSet::from_range(PortRange::NAT_GATEWAY);
        pkt.refs_ok = false;
        let Some(ns) = nat.subnet else {
            return Err(self.stop(
                (nat_id, ComponentKind::NatGateway),
                Layer::NatGateway,
                vec![nat_id.to_string()],
                format!("the subnet of NAT gateway {nat_id} is not in the snapshot"),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        self.route_from_subnet(ns, pkt, nat.eni)
    }

    fn via_appliance(&mut self, subnet: usize, eni: Option<usize>, id: &str, mut pkt: Pkt) -> Step {
        let net = self.net;
        let Some(eni) = eni else {
            return Err(self.stop(
                (id, ComponentKind::NetworkInterface),
                Layer::RouteTable,
                vec![id.to_string()],
                format!("the route's target {id} is not in the snapshot"),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        self.cross(Some(subnet), net.enis[eni].subnet, &mut pkt)?;
        self.sg_check(eni, Direction::Inbound, &pkt)?;
        let e = &net.enis[eni];
        if e.source_dest_check {
            return Err(self.stop((&e.id, ComponentKind::NetworkInterface), Layer::SourceDestCheck, vec![e.id.clone()], format!(
                    "the route sends traffic for {} through {}, whose source/destination check is enabled",
                    pkt.dst, e.id
                ), Stop::Blocked(Reason::SourceDestCheck)));
        }
        Err(self.stop((&e.id, ComponentKind::NetworkInterface), Layer::NotModelled, vec![e.id.clone()], format!(
                "traffic is handed to appliance {}; what it forwards is not modelled (security-group references no longer match after it)",
                e.id
            ), Stop::Unknown(Reason::NotModelled)))
    }

    fn leave_to_internet(
        &mut self,
        gw: &str,
        mut pkt: Pkt,
        src_eni: Option<usize>,
        egress_only: bool,
    ) -> Step {
        let net = self.net;
        let kind = if egress_only {
            ComponentKind::EgressOnlyInternetGateway
        } else {
            ComponentKind::InternetGateway
        };
        let layer = if egress_only {
            Layer::EgressOnlyInternetGateway
        } else {
            Layer::InternetGateway
        };
        if is_private(pkt.dst) {
            return Err(self.stop(
                (gw, kind),
                layer,
                vec![gw.to_string()],
                format!(
                    "{} is a private address: the internet does not route it",
                    pkt.dst
                ),
                Stop::Blocked(Reason::NoRoute),
            ));
        }
        let v6 = pkt.src.is_ipv6();
        if egress_only && !v6 {
            return Err(self.stop(
                (gw, kind),
                layer,
                vec![gw.to_string()],
                "an egress-only internet gateway carries IPv6 only".into(),
                Stop::Blocked(Reason::NoRoute),
            ));
        }
        let detail;
        if v6 {
            detail = format!("{} leaves through {gw} with its own IPv6 address", pkt.src);
        } else {
            // The source needs a public address: its ENI's, or the NAT gateway's.
            let public = match &self.nat {
                Some(n) if n.private_ip == Some(pkt.src) && self.mode == Mode::Request => {
                    n.public_ip
                }
                _ => src_eni.and_then(|e| net.enis[e].public_for(pkt.src)),
            };
            let Some(public) = public else {
                return Err(self.stop(
                    (gw, kind),
                    layer,
                    vec![gw.to_string()],
                    format!(
                        "{} has no public or Elastic IP: the internet gateway drops its traffic",
                        pkt.src
                    ),
                    Stop::Blocked(Reason::IgwExpectsPublicAddress),
                ));
            };
            detail = format!("{gw} translates source {} to {public}", pkt.src);
            pkt.src = public;
        }
        let check = Self::simple(layer, Decision::Allow, vec![gw.to_string()], detail);
        self.push(gw, kind, check);
        pkt.refs_ok = false;
        // A public address of the snapshot: the traffic comes back in through an internet gateway.
        let ours = net.eni_by_public_ip(pkt.dst).is_some()
            || (pkt.dst.is_ipv6() && net.eni_by_private_ip(pkt.dst, None).is_some())
            || self.nat_public(pkt.dst).is_some();
        if ours {
            return self.enter_from_internet(pkt);
        }
        let check = Self::simple(
            Layer::InternetGateway,
            Decision::Allow,
            vec![],
            format!("delivered to {} on the internet", pkt.dst),
        );
        self.push("internet", ComponentKind::External, check);
        Ok(Arrival::Internet { pkt })
    }

    fn nat_public(&self, ip: IpAddr) -> Option<&crate::network::NatInfo> {
        self.net
            .nat_gateways
            .values()
            .find(|n| n.public_ip == Some(ip))
    }

    fn enter_from_internet(&mut self, mut pkt: Pkt) -> Step {
        let net = self.net;
        pkt.refs_ok = false;
        // Responses to a NAT gateway's public address go back to the connection's source.
        if let Some(nat) = self.nat_public(pkt.dst).cloned() {
            if self.mode == Mode::Request {
                return Err(self.stop(
                    (&nat.id, ComponentKind::NatGateway),
                    Layer::NatGateway,
                    vec![nat.id.clone()],
                    format!(
                        "NAT gateway {} drops unsolicited inbound traffic to {}",
                        nat.id, pkt.dst
                    ),
                    Stop::Blocked(Reason::NatUnsolicitedInbound),
                ));
            }
            let Some(state) = self.nat.clone().filter(|s| s.nat_id == nat.id) else {
                return Err(self.stop(
                    (&nat.id, ComponentKind::NatGateway),
                    Layer::NatGateway,
                    vec![nat.id.clone()],
                    format!("NAT gateway {} has no connection for this response", nat.id),
                    Stop::Blocked(Reason::NatUnsolicitedInbound),
                ));
            };
            let vpc_igw = nat
                .subnet
                .and_then(|s| net.vpc(&net.subnets[s].vpc_id))
                .and_then(|v| v.internet_gateway.clone())
                .unwrap_or_else(|| "internet gateway".into());
            let check = Self::simple(
                Layer::InternetGateway,
                Decision::Allow,
                vec![vpc_igw.clone()],
                format!(
                    "{vpc_igw} translates destination {} to {}",
                    pkt.dst,
                    nat.private_ip.map(|p| p.to_string()).unwrap_or_default()
                ),
            );
            self.push(&vpc_igw, ComponentKind::InternetGateway, check);
            if let Some(p) = nat.private_ip {
                pkt.dst = p;
            }
            self.cross(None, nat.subnet, &mut pkt)?;
            let check = Self::simple(
                Layer::NatGateway,
                Decision::Allow,
                vec![nat.id.clone()],
                format!(
                    "NAT gateway {} translates the response back to {}",
                    nat.id, state.orig_src
                ),
            );
            self.push(&nat.id, ComponentKind::NatGateway, check);
            pkt.dst = state.orig_src;
            pkt.dport = state.orig_sports.clone();
            let Some(ns) = nat.subnet else {
                return Err(self.no_interface(
                    &nat.id,
                    ComponentKind::NatGateway,
                    pkt.dst,
                    "the NAT gateway's subnet",
                ));
            };
            return self.route_from_subnet(ns, pkt, None);
        }
        let (eni, private, via) = if let Some((eni, private)) = net.eni_by_public_ip(pkt.dst) {
            (eni, private, "public")
        } else if let Some(eni) = pkt
            .dst
            .is_ipv6()
            .then(|| net.eni_by_private_ip(pkt.dst, None))
            .flatten()
        {
            (eni, pkt.dst, "ipv6")
        } else {
            return Err(self.stop(
                ("internet", ComponentKind::External),
                Layer::InternetGateway,
                vec![],
                if is_private(pkt.dst) {
                    format!(
                        "{} is a private address: it cannot be reached from the internet",
                        pkt.dst
                    )
                } else {
                    format!(
                        "no network interface in the snapshot holds the public address {}",
                        pkt.dst
                    )
                },
                Stop::Blocked(Reason::NoRoute),
            ));
        };
        let e = &net.enis[eni];
        let vpc = e.vpc_id.as_deref().and_then(|v| net.vpc(v));
        let igw = vpc.and_then(|v| v.internet_gateway.clone());
        let Some(igw) = igw else {
            if via == "ipv6" && self.mode == Mode::Response {
                if let Some(eigw) = vpc.and_then(|v| v.egress_only_gateways.first().cloned()) {
                    let check = Self::simple(
                        Layer::EgressOnlyInternetGateway,
                        Decision::Allow,
                        vec![eigw.clone()],
                        format!("{eigw} lets the response in"),
                    );
                    self.push(&eigw, ComponentKind::EgressOnlyInternetGateway, check);
                    self.cross(None, e.subnet, &mut pkt)?;
                    return self.arrive_eni(eni, pkt);
                }
            }
            if via == "ipv6" {
                if let Some(eigw) = vpc.and_then(|v| v.egress_only_gateways.first().cloned()) {
                    return Err(self.stop(
                        (&eigw, ComponentKind::EgressOnlyInternetGateway),
                        Layer::EgressOnlyInternetGateway,
                        vec![eigw.clone()],
                        format!("{eigw} is egress-only: it drops connections from the internet"),
                        Stop::Blocked(Reason::EgressOnlyInbound),
                    ));
                }
            }
            return Err(self.stop(
                (e.vpc_id.as_deref().unwrap_or("vpc"), ComponentKind::Vpc),
                Layer::InternetGateway,
                vec![e.vpc_id.clone().unwrap_or_default()],
                format!(
                    "{} has no internet gateway: {} cannot be reached from the internet",
                    e.vpc_id.as_deref().unwrap_or("the VPC"),
                    pkt.dst
                ),
                Stop::Blocked(Reason::NoRoute),
            ));
        };
        let detail = if via == "public" {
            format!("{igw} translates destination {} to {private}", pkt.dst)
        } else {
            format!("{igw} delivers {} inbound", pkt.dst)
        };
        let check = Self::simple(
            Layer::InternetGateway,
            Decision::Allow,
            vec![igw.clone()],
            detail,
        );
        self.push(&igw, ComponentKind::InternetGateway, check);
        pkt.dst = private;
        // A gateway route table (edge association) may send inbound traffic to an appliance.
        if let Some(rt) = net.route_tables.iter().find(|t| t.gateways.contains(&igw)) {
            let mut unresolved = Vec::new();
            if let Some(m) = rt.lookup(pkt.dst, &net.prefix_lists, &mut unresolved) {
                if let Target::NetworkInterface(id) | Target::Instance(id) = &m.route.target {
                    let mut check = Self::simple(
                        Layer::RouteTable,
                        Decision::Allow,
                        vec![rt.id.clone()],
                        format!("gateway route table {} sends {} to {id}", rt.id, pkt.dst),
                    );
                    check.rule = rule_json(m.route);
                    self.push(&rt.id, ComponentKind::RouteTable, check);
                    let target = if id.starts_with("i-") {
                        net.eni_of_instance(id)
                    } else {
                        net.eni_idx(id)
                    };
                    let target_subnet = target.and_then(|t| net.enis[t].subnet);
                    return match (target, target_subnet) {
                        (Some(t), Some(ts)) => {
                            // Entering the appliance's subnet from outside.
                            self.nacl_check(ts, Direction::Inbound, &mut pkt)?;
                            self.via_appliance(ts, Some(t), id, pkt)
                        }
                        _ => self.via_appliance(0, None, id, pkt),
                    };
                }
            }
        }
        self.cross(None, e.subnet, &mut pkt)?;
        self.arrive_eni(eni, pkt)
    }

    fn return_from_service(&mut self, subnet: Option<usize>, src_eni: usize, mut pkt: Pkt) -> Step {
        if let Some(s) = subnet {
            let check = Self::simple(
                Layer::RouteTable,
                Decision::Allow,
                vec![],
                "the AWS service responds through the gateway endpoint".into(),
            );
            self.push("aws-service", ComponentKind::External, check);
            self.nacl_check(s, Direction::Inbound, &mut pkt)?;
        }
        self.arrive_eni(src_eni, pkt)
    }
}

/// The attachment's subnet in an availability zone (else its first subnet in the snapshot).
fn attachment_subnet(
    net: &Network,
    att: &crate::network::TgwAttachmentInfo,
    az: Option<&str>,
) -> Option<usize> {
    let subnets: Vec<usize> = att
        .subnets
        .iter()
        .filter_map(|s| net.subnet_idx(s))
        .collect();
    subnets
        .iter()
        .copied()
        .find(|&i| az.is_some() && net.subnets[i].availability_zone.as_deref() == az)
        .or_else(|| subnets.first().copied())
}

fn port_text(pkt: &Pkt) -> String {
    if pkt.proto.has_ports() {
        format!("/{}", pkt.dport)
    } else if let (true, Some((t, c))) = (pkt.proto.is_icmp(), pkt.icmp) {
        format!(" type {t} code {c}")
    } else {
        String::new()
    }
}

impl Network {
    /// Resolves what a user typed as a query end: an ENI id, an instance id, a private IP in the
    /// snapshot, a public/Elastic IP of an ENI, or any other address.
    pub fn resolve(&self, input: &str) -> Result<(Endpoint, EndpointInfo), ResolveError> {
        let s = input.trim();
        if let Ok(ip) = s.parse::<IpAddr>() {
            if let Some(eni) = self.eni_by_private_ip(ip, None) {
                return Ok((
                    Endpoint::Eni { eni, addr: ip },
                    self.info(input, Some(eni), ip, "eni"),
                ));
            }
            if let Some((eni, private)) = self.eni_by_public_ip(ip) {
                return Ok((
                    Endpoint::PublicIp {
                        eni,
                        public: ip,
                        private,
                    },
                    self.info(input, Some(eni), ip, "public_ip"),
                ));
            }
            let kind = if is_private(ip) {
                "external_private"
            } else {
                "internet"
            };
            return Ok((Endpoint::External(ip), self.info(input, None, ip, kind)));
        }
        let by_id = if s.starts_with("eni-") {
            self.eni_idx(s)
        } else if s.starts_with("i-") {
            self.eni_of_instance(s)
        } else {
            let kind = crate::network::component_kind_of(s);
            if kind != ComponentKind::External && self.known_ids().any(|k| k == s) {
                return Err(ResolveError::NotAnEndpoint(s.to_string(), kind_name(kind)));
            }
            if kind == ComponentKind::External {
                return Err(ResolveError::Unrecognized(s.to_string()));
            }
            None
        };
        match by_id {
            Some(eni) => {
                let e = &self.enis[eni];
                let addr = e.primary(false).or_else(|| e.primary(true));
                match addr {
                    Some(a) => Ok((
                        Endpoint::Eni { eni, addr: a },
                        self.info(input, Some(eni), a, "eni"),
                    )),
                    None => Err(ResolveError::Unrecognized(format!(
                        "{s} (it has no address)"
                    ))),
                }
            }
            None => Err(ResolveError::UnknownId {
                input: s.to_string(),
                suggestion: crate::suggest::closest(s, self.known_ids()),
            }),
        }
    }

    fn info(
        &self,
        input: &str,
        eni: Option<usize>,
        addr: IpAddr,
        kind: &'static str,
    ) -> EndpointInfo {
        EndpointInfo {
            input: input.to_string(),
            eni: eni.map(|e| self.enis[e].id.clone()),
            instance: eni.and_then(|e| self.enis[e].instance_id.clone()),
            address: addr,
            kind,
        }
    }

    /// Answers a query: walks the forward path, then the return path, and says what decided.
    pub fn query(&self, q: &Query) -> Trace {
        self.query_labeled(q, self.endpoint_info(&q.from), self.endpoint_info(&q.to))
    }

    /// [`Network::query`], with the ends described as the user named them (from
    /// [`Network::resolve`]).
    pub fn query_labeled(&self, q: &Query, from: EndpointInfo, to: EndpointInfo) -> Trace {
        let dst_addr = q.to.address();
        let v6 = dst_addr.is_ipv6();
        // The source address: of the destination's family.
        let src_addr = match q.from {
            Endpoint::Eni { eni, addr }
            | Endpoint::PublicIp {
                eni, private: addr, ..
            } => {
                if addr.is_ipv6() == v6 {
                    Some(addr)
                } else {
                    self.enis[eni].primary(v6)
                }
            }
            Endpoint::External(ip) => Some(ip),
        };
        let icmp = if q.protocol.is_icmp() {
            Some((
                u8::try_from(q.port.unwrap_or(if q.protocol == Protocol::Number(ICMPV6) {
                    128
                } else {
                    8
                }))
                .unwrap_or(8),
                0,
            ))
        } else {
            None
        };
        let sports = PortSet::from_range(
            q.src_port
                .map(PortRange::single)
                .unwrap_or(PortRange::EPHEMERAL),
        );
        let port = if q.protocol.has_ports() { q.port } else { None };
        let mut trace = Trace {
            from,
            to,
            protocol: q.protocol,
            port: if q.protocol.has_ports() || q.protocol.is_icmp() {
                q.port.or(icmp.map(|(t, _)| u16::from(t)))
            } else {
                None
            },
            src_ports: q.protocol.has_ports().then(|| sports.clone()),
            verdict: Verdict::Reachable,
            reason: None,
            blocked_at: None,
            message: String::new(),
            forward: PathTrace::default(),
            return_path: None,
            notes: Vec::new(),
        };
        let Some(src_addr) = src_addr else {
            trace.verdict = Verdict::Unreachable;
            trace.reason = Some(Reason::NoRoute);
            trace.message = format!(
                "the source has no {} address to reach {dst_addr}",
                if v6 { "IPv6" } else { "IPv4" }
            );
            return trace;
        };
        let pkt = Pkt {
            src: src_addr,
            dst: dst_addr,
            proto: q.protocol,
            dport: PortSet::from_range(port.map(PortRange::single).unwrap_or(PortRange::ALL)),
            sports: sports.clone(),
            icmp,
            refs_ok: true,
        };
        let mut fwd = Walker::new(self, Mode::Request);
        let result = match q.from {
            Endpoint::Eni { eni, .. } | Endpoint::PublicIp { eni, .. } => fwd.depart_eni(eni, pkt),
            Endpoint::External(_) => {
                if matches!(q.to, Endpoint::External(_))
                    && (is_private(src_addr) || is_private(dst_addr))
                {
                    trace.verdict = Verdict::Unknown;
                    trace.reason = Some(Reason::NotModelled);
                    trace.message = "neither end is in the snapshot".into();
                    return trace;
                }
                if is_private(src_addr) && matches!(q.to, Endpoint::Eni { .. }) {
                    // On-premises: it arrives through a VPN or Direct Connect, not modelled.
                    let check = Walker::simple(
                        Layer::NotModelled,
                        Decision::Unknown,
                        vec![],
                        format!("{src_addr} is a private address outside the snapshot (on-premises?): it would arrive through a VPN or Direct Connect, not modelled"),
                    );
                    Err(fwd.unknown(
                        "on-premises",
                        ComponentKind::External,
                        check,
                        Reason::NotModelled,
                    ))
                } else {
                    let check = Walker::simple(
                        Layer::InternetGateway,
                        Decision::Allow,
                        vec![],
                        format!("{src_addr} sends from the internet"),
                    );
                    fwd.push("internet", ComponentKind::External, check);
                    fwd.enter_from_internet(pkt)
                }
            }
        };
        trace.forward = PathTrace {
            hops: std::mem::take(&mut fwd.hops),
        };
        trace.notes.append(&mut fwd.notes);
        let arrival = match result {
            Err(stop) => {
                self.finish_stopped(&mut trace, stop, fwd.stop, PathDir::Forward);
                return trace;
            }
            Ok(a) => a,
        };
        // Where did it arrive, and is that the destination asked for?
        let arrived_right = match (&arrival, &q.to) {
            (
                Arrival::Eni { eni, .. },
                Endpoint::Eni { eni: d, .. } | Endpoint::PublicIp { eni: d, .. },
            ) => eni == d,
            (Arrival::Internet { .. } | Arrival::Service { .. }, Endpoint::External(_)) => true,
            (Arrival::Exempt, _) => true,
            _ => false,
        };
        if !arrived_right {
            trace.verdict = Verdict::Unreachable;
            trace.reason = Some(Reason::NoRoute);
            trace.message = "the traffic is delivered somewhere other than the destination".into();
            return trace;
        }
        // The return path: the response, from where the request arrived back to its source.
        let mut ret = Walker::new(self, Mode::Response);
        ret.sg_allowed = fwd.sg_allowed.clone();
        ret.nat = fwd.nat.clone();
        let reply_icmp = icmp.map(|(t, c)| match (q.protocol, t) {
            (Protocol::Number(ICMP), 8) => (0, 0),
            (Protocol::Number(ICMPV6), 128) => (129, 0),
            _ => (t, c),
        });
        let needs_return = !(q.protocol.is_icmp() && reply_icmp == icmp);
        let back = |p: &Pkt| Pkt {
            src: p.dst,
            dst: p.src,
            proto: p.proto,
            dport: if p.proto.has_ports() {
                p.sports.clone()
            } else {
                p.dport.clone()
            },
            sports: p.dport.clone(),
            icmp: reply_icmp,
            refs_ok: true,
        };
        let rresult = match (&arrival, needs_return) {
            (Arrival::Exempt, _) | (_, false) => None,
            (Arrival::Eni { eni, pkt }, true) => Some(ret.depart_eni(*eni, back(pkt))),
            (Arrival::Internet { pkt }, true) => Some(ret.enter_from_internet(back(pkt))),
            (Arrival::Service { pkt, subnet }, true) => match q.from {
                Endpoint::Eni { eni, .. } | Endpoint::PublicIp { eni, .. } => {
                    Some(ret.return_from_service(*subnet, eni, back(pkt)))
                }
                Endpoint::External(_) => None,
            },
        };
        if let Some(rresult) = rresult {
            trace.return_path = Some(PathTrace {
                hops: std::mem::take(&mut ret.hops),
            });
            match rresult {
                Err(stop) => {
                    self.finish_stopped(&mut trace, stop, ret.stop, PathDir::Return);
                    return trace;
                }
                Ok(a) => {
                    let back_home = match (&a, &q.from) {
                        (
                            Arrival::Eni { eni, .. },
                            Endpoint::Eni { eni: s, .. } | Endpoint::PublicIp { eni: s, .. },
                        ) => eni == s,
                        (Arrival::Internet { .. }, Endpoint::External(_)) => true,
                        _ => false,
                    };
                    if !back_home {
                        trace.verdict = Verdict::Unreachable;
                        trace.reason = Some(Reason::NoRoute);
                        trace.message = "the response is routed somewhere other than the source (asymmetric routing)".into();
                        return trace;
                    }
                    // Which client ports work end to end.
                    if let Arrival::Eni { pkt, .. } | Arrival::Internet { pkt } = &a {
                        if q.protocol.has_ports() && pkt.dport != sports {
                            trace.notes.push(format!(
                                "the response passes only for client ports {}; clients using other ephemeral ports fail (Linux uses 32768-60999, Windows 49152-65535, NAT gateways and ELB 1024-65535)",
                                pkt.dport
                            ));
                            trace.src_ports = Some(pkt.dport.clone());
                        }
                    }
                }
            }
        }
        if matches!(arrival, Arrival::Exempt) {
            trace.message = format!("reachable: {} is a service AWS does not filter", dst_addr);
        } else {
            trace.message = format!(
                "reachable: {} can reach {} on {}{}",
                trace.from.input,
                trace.to.input,
                q.protocol,
                port.map(|p| format!("/{p}")).unwrap_or_default()
            );
        }
        trace.notes.dedup();
        trace
    }

    fn endpoint_info(&self, e: &Endpoint) -> EndpointInfo {
        match *e {
            Endpoint::Eni { eni, addr } => self.info(&self.enis[eni].id, Some(eni), addr, "eni"),
            Endpoint::PublicIp { eni, public, .. } => {
                self.info(&public.to_string(), Some(eni), public, "public_ip")
            }
            Endpoint::External(ip) => self.info(
                &ip.to_string(),
                None,
                ip,
                if is_private(ip) {
                    "external_private"
                } else {
                    "internet"
                },
            ),
        }
    }

    fn finish_stopped(
        &self,
        trace: &mut Trace,
        stop: Stop,
        at: Option<(usize, usize)>,
        dir: PathDir,
    ) {
        let (verdict, reason) = match stop {
            Stop::Blocked(r) => (Verdict::Unreachable, r),
            Stop::Unknown(r) => (Verdict::Unknown, r),
        };
        trace.verdict = verdict;
        trace.reason = Some(reason);
        let path = match dir {
            PathDir::Forward => &trace.forward,
            PathDir::Return => trace.return_path.as_ref().unwrap_or(&trace.forward),
        };
        if let Some((hi, ci)) = at {
            if let Some(hop) = path.hops.get(hi) {
                if let Some(c) = hop.checks.get(ci) {
                    trace.blocked_at = Some(BlockedAt {
                        path: dir,
                        component: hop.component.clone(),
                        kind: hop.kind,
                        layer: c.layer,
                        direction: c.direction,
                        resources: c.resources.clone(),
                        rule_number: c.rule_number,
                        rule: c.rule.clone(),
                        detail: c.detail.clone(),
                    });
                    let where_ = match dir {
                        PathDir::Forward => "on the way there",
                        PathDir::Return => "on the way back (the response)",
                    };
                    trace.message = format!(
                        "{verdict}: {} at {} {where_}: {}",
                        reason.description(),
                        hop.component,
                        c.detail
                    );
                }
            }
        }
        if trace.message.is_empty() {
            trace.message = format!("{verdict}: {}", reason.description());
        }
    }
}

fn kind_name(k: ComponentKind) -> &'static str {
    match k {
        ComponentKind::NetworkInterface => "network interface",
        ComponentKind::Subnet => "subnet",
        ComponentKind::Vpc => "VPC",
        ComponentKind::RouteTable => "route table",
        ComponentKind::InternetGateway => "internet gateway",
        ComponentKind::EgressOnlyInternetGateway => "egress-only internet gateway",
        ComponentKind::NatGateway => "NAT gateway",
        ComponentKind::PeeringConnection => "peering connection",
        ComponentKind::TransitGateway => "transit gateway",
        ComponentKind::TransitGatewayAttachment => "transit gateway attachment",
        ComponentKind::VpnGateway => "VPN gateway",
        ComponentKind::VpcEndpoint => "VPC endpoint",
        ComponentKind::External => "external address",
    }
}
