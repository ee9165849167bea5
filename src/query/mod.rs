//! Answering "can A reach B on this port, and if not, what stops it?": a walk of the forward path
//! (request) and of the return path (response), checking security groups, NACLs and routes at
//! every hop and recording the rule that decided each check.

use crate::network::{ComponentKind, Network};
use crate::network_acl::Action;
use crate::protocol::{PortRange, PortSet, Protocol, CLIENT_RANGES, ICMP, ICMPV6};
use crate::route::Target;
use crate::security_group::SgDecision;
use crate::security_group::{Direction, SgPeer, SgRule};
use crate::trace::*;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

mod bpa;
mod endpoint;
mod internet;
mod load_balancer;
mod nat;
mod network_acl;
mod peering;
mod security_group;
mod transit_gateway;
mod walk;

pub use crate::network::sg_rule_text;
pub use bpa::NO_BPA_NOTE;
pub use endpoint::{is_private, End};
pub use load_balancer::{
    LbQueryError, LbSummary, LbTrace, Leg, ListenerSummary, NodeLeg, NodeToTarget,
    TargetGroupSummary, TargetResult, TargetVerdict,
};

/// One end of a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// An ENI, by one of its private addresses.
    Eni {
        /// Index into [`Network::enis`](crate::NetworkBase::enis).
        eni: usize,
        /// The private address (IPv4 or IPv6).
        addr: IpAddr,
    },
    /// The public or Elastic IP of an ENI (reached through its internet gateway).
    PublicIp {
        /// Index into [`Network::enis`](crate::NetworkBase::enis).
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
    /// An id the snapshot holds but cannot be believed about, or whose state at `--at` the history cannot tell ([`Network::withheld`](crate::NetworkBase::withheld)).
    #[error("`{input}` is left out of the model: {why}")]
    Withheld {
        /// What was typed.
        input: String,
        /// Why it is left out.
        why: String,
    },
    /// An id of a known shape that is not in the snapshot.
    #[error("`{input}` is not in the snapshot{}", did_you_mean(suggestion))]
    UnknownId {
        /// What was typed.
        input: String,
        /// The closest known id.
        suggestion: Option<String>,
    },
    /// Neither an id, a `Name` tag nor an address.
    #[error(
        "`{input}` is not an ENI id, an instance id, a `Name` tag or an IP address{}",
        did_you_mean(suggestion)
    )]
    Unrecognized {
        /// What was typed.
        input: String,
        /// The closest known id or name.
        suggestion: Option<String>,
    },
    /// The id names something that is not an endpoint.
    #[error("`{0}` names a {1}, not an ENI or instance")]
    NotAnEndpoint(String, &'static str),
    /// The id names a gateway: a component that traffic passes, not an end of it.
    #[error("`{input}` is {} {kind}, not an end of a connection: {hint}", if kind.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" })]
    Gateway {
        /// What was typed.
        input: String,
        /// What it names.
        kind: &'static str,
        /// What to ask instead.
        hint: String,
    },
    /// A `Name` tag held by more than one ENI.
    #[error("the name `{input}` is on {} network interfaces ({}): use an ENI or instance id", ids.len(), ids.join(", "))]
    AmbiguousName {
        /// What was typed.
        input: String,
        /// The ENIs with that name.
        ids: Vec<String>,
    },
    /// An address no unicast connection can have as its end.
    #[error("`{input}` is {why}: a query asks about one host")]
    NotUnicast {
        /// What was typed.
        input: String,
        /// What kind of address it is.
        why: String,
    },
    /// An ENI with no address of the family the other end needs.
    #[error("`{input}` has no {family} address")]
    NoAddress {
        /// What was typed.
        input: String,
        /// `IPv4` or `IPv6`.
        family: &'static str,
    },
    /// Two typed addresses of different families.
    #[error("`{from}` and `{to}` are of different address families: a packet has one (an IPv6 source is never replaced by an IPv4 address)")]
    FamilyMismatch {
        /// The source as typed.
        from: String,
        /// The destination as typed.
        to: String,
    },
}

fn did_you_mean(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default()
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
    Eni {
        eni: usize,
        pkt: Pkt,
    },
    Internet {
        pkt: Pkt,
    },
    /// An address of a subnet that no ENI of the snapshot holds.
    Unheld {
        pkt: Pkt,
    },
    Service {
        pkt: Pkt,
        subnet: Option<usize>,
    },
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
    /// Whether the walk passed an address that no ENI of the snapshot holds.
    unheld: bool,
    /// Whether the client's port is any ephemeral port (no `--src-port`): a response must then
    /// pass a common client's whole range.
    clients: bool,
    /// The client ports a response would pass, when the return path stopped for want of a
    /// client's whole range.
    passing_ports: Option<PortSet>,
    /// The first check that could not decide but did not stop the walk (a NACL entry of
    /// unknown content): the walk goes on, so that a later check that denies anyway still
    /// decides exactly; if none does, the answer is `unknown` there.
    pending: Option<((usize, usize), Reason)>,
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
            unheld: false,
            clients: false,
            passing_ports: None,
            pending: None,
        }
    }

    /// Records a check that cannot decide without stopping the walk (see `pending`).
    fn undecided(&mut self, component: &str, kind: ComponentKind, check: Check, r: Reason) {
        let at = self.push(component, kind, check);
        self.pending.get_or_insert((at, r));
    }

    fn name_of(&self, component: &str, kind: ComponentKind) -> Option<String> {
        match kind {
            ComponentKind::NetworkInterface => self.net.eni(component).and_then(|e| e.name.clone()),
            _ => self.net.names.get(component).cloned(),
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
}

fn rule_json<T: serde::Serialize>(r: &T) -> Option<serde_json::Value> {
    serde_json::to_value(r).ok()
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
    /// Answers a query: walks the forward path, then the return path, and says what decided.
    pub fn query(&self, q: &Query) -> Trace {
        self.query_labeled(q, self.endpoint_info(&q.from), self.endpoint_info(&q.to))
    }

    /// [`Network::query`], with the ends described as the user named them (from
    /// [`Network::resolve`]).
    pub fn query_labeled(&self, q: &Query, from: EndpointInfo, to: EndpointInfo) -> Trace {
        let dst_addr = q.to.address();
        let v6 = dst_addr.is_ipv6();
        // The source address: of the destination's family. An ENI named by id or name (or given
        // by its primary IPv4 address, as [`Network::resolve`] gives an id) takes the
        // destination's family; an IPv6 source is never swapped for an IPv4 address.
        let mut mixed = false;
        let src_addr = match q.from {
            Endpoint::Eni { eni, addr }
            | Endpoint::PublicIp {
                eni, private: addr, ..
            } => {
                if addr.is_ipv6() == v6 {
                    Some(addr)
                } else if from.by_name
                    || (!addr.is_ipv6() && self.enis[eni].primary(false) == Some(addr))
                {
                    self.enis[eni].primary(v6)
                } else {
                    mixed = true;
                    Some(addr)
                }
            }
            Endpoint::External(ip) => {
                mixed = ip.is_ipv6() != v6;
                Some(ip)
            }
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
        for note in [&trace.from.note, &trace.to.note].into_iter().flatten() {
            trace.notes.push(note.clone());
        }
        if mixed {
            trace.verdict = Verdict::Unknown;
            trace.reason = Some(Reason::MixedAddressFamilies);
            trace.message = format!(
                "{} and {dst_addr} are of different address families: a packet has one (an IPv6 source is never replaced by an IPv4 address)",
                src_addr.map(|a| a.to_string()).unwrap_or_default()
            );
            return trace;
        }
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
                if let Some(t) = self.subnet_of(src_addr) {
                    // An address of a subnet no ENI of the snapshot holds: it leaves its subnet
                    // as any ENI of it would.
                    fwd.unheld(t, src_addr, Direction::Outbound);
                    fwd.route_from_subnet(t, pkt, None)
                } else if is_private(src_addr) && matches!(q.to, Endpoint::Eni { .. }) {
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
            (
                Arrival::Internet { .. } | Arrival::Service { .. } | Arrival::Unheld { .. },
                Endpoint::External(_),
            ) => true,
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
        ret.clients = q.src_port.is_none();
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
            (Arrival::Unheld { pkt }, true) => self
                .subnet_of(pkt.dst)
                .map(|t| ret.route_from_subnet(t, back(pkt), None)),
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
                    if let Some(p) = ret.passing_ports.take() {
                        trace.src_ports = Some(p);
                    }
                    return trace;
                }
                Ok(a) => {
                    let back_home = match (&a, &q.from) {
                        (
                            Arrival::Eni { eni, .. },
                            Endpoint::Eni { eni: s, .. } | Endpoint::PublicIp { eni: s, .. },
                        ) => eni == s,
                        (
                            Arrival::Internet { .. } | Arrival::Unheld { .. },
                            Endpoint::External(_),
                        ) => true,
                        _ => false,
                    };
                    if !back_home {
                        trace.verdict = Verdict::Unreachable;
                        trace.reason = Some(Reason::NoRoute);
                        trace.message = "the response is routed somewhere other than the source (asymmetric routing)".into();
                        return trace;
                    }
                    // Which client ports work end to end.
                    if let Arrival::Eni { pkt, .. }
                    | Arrival::Internet { pkt }
                    | Arrival::Unheld { pkt } = &a
                    {
                        if q.protocol.has_ports() && pkt.dport != sports {
                            trace.src_ports = Some(pkt.dport.clone());
                        }
                        if q.protocol.has_ports() && q.src_port.is_none() {
                            let works = pkt.dport.clients();
                            let fails: Vec<&str> = CLIENT_RANGES
                                .iter()
                                .map(|(n, _)| *n)
                                .filter(|n| !works.contains(n))
                                .collect();
                            if !fails.is_empty() {
                                trace.notes.push(format!(
                                    "the response passes only client ports {}: it works for {} clients, not for {} clients ({})",
                                    pkt.dport,
                                    works.join(", "),
                                    fails.join(", "),
                                    CLIENT_RANGES
                                        .iter()
                                        .map(|(n, r)| format!("{n} {r}"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ));
                            }
                        }
                    }
                }
            }
        }
        if self.finish_pending(&mut trace, &fwd, Some(&ret)) {
            trace.notes.dedup();
            return trace;
        }
        if fwd.unheld || ret.unheld {
            trace.verdict = Verdict::Unknown;
            trace.reason = Some(Reason::IncompleteSnapshot);
            trace.message = "unknown: routes and network ACLs allow it, but an end is an address that no network interface of the snapshot holds, so its security groups are not known".into();
            trace.notes.dedup();
            return trace;
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

    /// A path that nothing stopped but that passed a check that could not decide (a NACL
    /// entry of unknown content, see `Walker::pending`) is `unknown` there. Returns whether
    /// it was.
    fn finish_pending(
        &self,
        trace: &mut Trace,
        fwd: &Walker<'_>,
        ret: Option<&Walker<'_>>,
    ) -> bool {
        let found = fwd
            .pending
            .map(|p| (p, PathDir::Forward))
            .or_else(|| ret.and_then(|r| r.pending).map(|p| (p, PathDir::Return)));
        let Some(((at, reason), dir)) = found else {
            return false;
        };
        self.finish_stopped(trace, Stop::Unknown(reason), Some(at), dir);
        true
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
