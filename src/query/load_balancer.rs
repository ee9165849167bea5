//! Reachability through a load balancer: the client to each node (the node's security groups,
//! its subnet's NACL, the internet path for an internet-facing one), then each node to each
//! registered target, from the node's private address or the client's when it is preserved,
//! and the health check from every node (aws-semantics 41–45). Each leg is walked by the same
//! code as any other query, so every verdict names its rule.

use super::*;
use crate::network::{LbKind, LoadBalancerInfo, TargetGroupInfo, TargetInfo};
use serde::Serialize;

/// The answer to "can this client reach the service behind this load balancer on this
/// listener port?".
#[derive(Debug, Clone, Serialize)]
pub struct LbTrace {
    /// The load balancer.
    pub load_balancer: LbSummary,
    /// The listener asked about.
    pub listener: ListenerSummary,
    /// The client.
    pub from: EndpointInfo,
    /// Reachable when the listener is reachable from the client and at least one target
    /// serves it.
    pub verdict: Verdict,
    /// `null` when reachable, else the code of what stopped it.
    pub reason: Option<Reason>,
    /// The verdict in one sentence.
    pub message: String,
    /// The client to each node.
    pub nodes: Vec<NodeLeg>,
    /// The target groups the listener forwards to.
    pub target_groups: Vec<TargetGroupSummary>,
    /// One entry per registered target of those groups.
    pub targets: Vec<TargetResult>,
    /// Caveats.
    pub notes: Vec<String>,
}

/// A load balancer, as the answer names it.
#[derive(Debug, Clone, Serialize)]
pub struct LbSummary {
    /// Its name (untrusted text).
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// Its DNS name.
    pub dns_name: Option<String>,
    /// `application`, `network`, …
    pub kind: LbKind,
    /// `internet-facing` or `internal`.
    pub scheme: &'static str,
    /// Its security groups.
    pub security_groups: Vec<String>,
}

impl LbSummary {
    /// The kind in words (`Application Load Balancer`).
    pub fn kind_text(&self) -> &'static str {
        self.kind.describe()
    }
}

/// A listener, as the answer names it.
#[derive(Debug, Clone, Serialize)]
pub struct ListenerSummary {
    /// Its ARN.
    pub arn: String,
    /// Its port.
    pub port: u16,
    /// Its protocol.
    pub protocol: String,
}

/// The client to one node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeLeg {
    /// The node's ENI, when in the snapshot.
    pub eni: Option<String>,
    /// Its subnet.
    pub subnet: String,
    /// Its zone.
    pub zone: Option<String>,
    /// The verdict of this leg.
    pub verdict: Verdict,
    /// The walk, when the node's ENI is in the snapshot.
    pub trace: Option<Trace>,
    /// The verdict in one sentence.
    pub message: String,
}

/// A target group the listener forwards to.
#[derive(Debug, Clone, Serialize)]
pub struct TargetGroupSummary {
    /// Its ARN.
    pub arn: String,
    /// Its name (untrusted text).
    pub name: String,
    /// How the listener reaches it: `default action`, `rule 10 (arn…)`.
    pub via: Vec<String>,
    /// `instance`, `ip`, …
    pub target_type: String,
    /// Whether targets see the client's address.
    pub client_ip_preserved: bool,
    /// `attribute` when read from the snapshot, else `default` (AWS's default assumed).
    pub client_ip_preserved_from: &'static str,
    /// Whether every node sends to targets in every zone.
    pub cross_zone: bool,
    /// `attribute` or `default`.
    pub cross_zone_from: &'static str,
    /// The health-check port setting (`traffic-port` or a number).
    pub health_check_port: String,
}

/// One registered target.
#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    /// Its target group's name (untrusted text).
    pub target_group: String,
    /// Its target group's ARN.
    pub target_group_arn: String,
    /// Instance id or IP address.
    pub id: String,
    /// Its port.
    pub port: u16,
    /// Its zone.
    pub zone: Option<String>,
    /// The ENI that receives its traffic.
    pub eni: Option<String>,
    /// The address its traffic is sent to.
    pub address: Option<IpAddr>,
    /// What ELB reported when the snapshot was taken.
    pub reported_health: Option<String>,
    /// `reachable` (through every node that sends to it), `partial` (some nodes or zones
    /// only), `unreachable` or `unknown`.
    pub verdict: TargetVerdict,
    /// The verdict in one sentence, naming the failing node and rule.
    pub message: String,
    /// Each node: whether it sends to this target, and what decides.
    pub nodes: Vec<NodeToTarget>,
}

/// The verdict for one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetVerdict {
    /// Every node that sends to it reaches it, and every node's health check passes.
    Reachable,
    /// Some nodes or zones only.
    Partial,
    /// No node reaches it.
    Unreachable,
    /// The snapshot cannot tell.
    Unknown,
}

impl std::fmt::Display for TargetVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TargetVerdict::Reachable => "reachable",
            TargetVerdict::Partial => "partial",
            TargetVerdict::Unreachable => "unreachable",
            TargetVerdict::Unknown => "unknown",
        })
    }
}

/// One node to one target.
#[derive(Debug, Clone, Serialize)]
pub struct NodeToTarget {
    /// The node's ENI.
    pub node: Option<String>,
    /// The node's zone.
    pub zone: Option<String>,
    /// Whether this node sends client traffic to the target (cross-zone, or the same zone).
    pub routed: bool,
    /// The verdict of node to target: client traffic (when routed) and the health check.
    pub verdict: Verdict,
    /// Client traffic, node to target (absent when not routed).
    pub traffic: Option<Leg>,
    /// The health check from this node (absent when health checks are off).
    pub health_check: Option<Leg>,
    /// What decided, in one sentence.
    pub message: String,
}

/// One walked leg, node to target.
#[derive(Debug, Clone, Serialize)]
pub struct Leg {
    /// The source address the target sees.
    pub source: IpAddr,
    /// The port.
    pub port: u16,
    /// The walk, with every check.
    #[serde(flatten)]
    pub trace: Trace,
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Reachable => 0,
        Verdict::Unknown => 1,
        Verdict::Unreachable => 2,
    }
}

fn unknown_trace(
    from: EndpointInfo,
    to: EndpointInfo,
    proto: Protocol,
    port: u16,
    reason: Reason,
    msg: String,
) -> Trace {
    Trace {
        from,
        to,
        protocol: proto,
        port: Some(port),
        src_ports: None,
        verdict: Verdict::Unknown,
        reason: Some(reason),
        blocked_at: None,
        message: msg,
        forward: PathTrace::default(),
        return_path: None,
        notes: Vec::new(),
    }
}

/// Why a load-balancer query cannot be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LbQueryError {
    /// No listener on that port.
    #[error("load balancer `{name}` has no listener on port {port}{}", if listeners.is_empty() { " (no `describe-listeners` output for it is in the snapshot)".to_string() } else { format!(" (its listeners: {})", listeners.join(", ")) })]
    NoListener {
        /// The load balancer's name.
        name: String,
        /// The port asked.
        port: u16,
        /// Its listeners (`HTTP/80`).
        listeners: Vec<String>,
    },
}

fn listener_protocol(p: &str, asked: Protocol) -> Protocol {
    match p {
        "UDP" | "QUIC" => Protocol::Number(crate::protocol::UDP),
        "TCP_UDP" | "TCP_QUIC" => asked,
        _ => Protocol::Number(crate::protocol::TCP),
    }
}

impl Network {
    /// How an endpoint is described in answers (its input, ENI, address and kind).
    pub fn endpoint_info_of(&self, e: &Endpoint) -> EndpointInfo {
        self.endpoint_info(e)
    }

    /// Answers a query through load balancer `lb` (index into [`Network::load_balancers`](crate::NetworkBase::load_balancers)) on
    /// listener `port`, from `from` (`info` as the user named it). `src_port` is the client's
    /// port, `None` for any ephemeral port.
    pub fn query_load_balancer(
        &self,
        lb: usize,
        from: Endpoint,
        info: EndpointInfo,
        protocol: Protocol,
        port: u16,
        src_port: Option<u16>,
    ) -> Result<LbTrace, LbQueryError> {
        let lbi = &self.load_balancers[lb];
        let summary = LbSummary {
            name: lbi.name.clone(),
            arn: lbi.arn.clone(),
            dns_name: lbi.dns_name.clone(),
            kind: lbi.kind,
            scheme: if lbi.internet_facing {
                "internet-facing"
            } else {
                "internal"
            },
            security_groups: lbi.security_groups.clone(),
        };
        let mut out = LbTrace {
            load_balancer: summary,
            listener: ListenerSummary {
                arn: String::new(),
                port,
                protocol: String::new(),
            },
            from: info.clone(),
            verdict: Verdict::Unknown,
            reason: None,
            message: String::new(),
            nodes: Vec::new(),
            target_groups: Vec::new(),
            targets: Vec::new(),
            notes: Vec::new(),
        };
        if !matches!(lbi.kind, LbKind::Application | LbKind::Network) {
            out.reason = Some(Reason::NotModelled);
            out.message = format!(
                "unknown: {} is a {}, which vpcreach does not model (its appliances decide what passes)",
                lbi.name,
                lbi.kind.describe()
            );
            return Ok(out);
        }
        let Some(listener) = lbi.listeners.iter().find(|l| l.port == port) else {
            return Err(LbQueryError::NoListener {
                name: lbi.name.clone(),
                port,
                listeners: lbi
                    .listeners
                    .iter()
                    .map(|l| format!("{}/{}", l.protocol, l.port))
                    .collect(),
            });
        };
        out.listener = ListenerSummary {
            arn: listener.arn.clone(),
            port,
            protocol: listener.protocol.clone(),
        };
        let proto = listener_protocol(&listener.protocol, protocol);
        // Client → each node.
        let client_addr = from.address();
        for n in &lbi.nodes {
            let leg = match n.eni {
                Some(e) => {
                    let eni = &self.enis[e];
                    let private = eni.primary(client_addr.is_ipv6());
                    let to = match (lbi.internet_facing, private) {
                        (true, Some(p)) => match eni.public_for(p) {
                            Some(public) => Some(Endpoint::PublicIp { eni: e, public, private: p }),
                            None => Some(Endpoint::Eni { eni: e, addr: p }),
                        },
                        (false, Some(p)) => Some(Endpoint::Eni { eni: e, addr: p }),
                        (_, None) => None,
                    };
                    match to {
                        Some(to) => {
                            let q = Query { from, to, protocol: proto, port: Some(port), src_port };
                            let t = self.query_labeled(&q, info.clone(), self.endpoint_info(&to));
                            NodeLeg {
                                eni: Some(eni.id.clone()),
                                subnet: n.subnet_id.clone(),
                                zone: n.zone.clone(),
                                verdict: t.verdict,
                                message: t.message.clone(),
                                trace: Some(t),
                            }
                        }
                        None => NodeLeg {
                            eni: Some(eni.id.clone()),
                            subnet: n.subnet_id.clone(),
                            zone: n.zone.clone(),
                            verdict: Verdict::Unreachable,
                            message: format!("node {} has no {} address", eni.id, if client_addr.is_ipv6() { "IPv6" } else { "IPv4" }),
                            trace: None,
                        },
                    }
                }
                None => NodeLeg {
                    eni: None,
                    subnet: n.subnet_id.clone(),
                    zone: n.zone.clone(),
                    verdict: Verdict::Unknown,
                    message: format!(
                        "unknown: the node's network interface in {} (description `ELB {}`) is not in the snapshot",
                        n.subnet_id,
                        lbi.arn.split_once(":loadbalancer/").map_or("", |(_, p)| p)
                    ),
                    trace: None,
                },
            };
            out.nodes.push(leg);
        }
        if lbi.nodes.is_empty() {
            out.notes
                .push("the load balancer lists no enabled subnet (`AvailabilityZones`)".into());
        }
        // Target groups.
        let mut groups: Vec<(usize, Vec<String>)> = Vec::new();
        for f in &listener.forwards {
            match f.target_group {
                Some(g) => match groups.iter_mut().find(|(x, _)| *x == g) {
                    Some((_, via)) => via.push(f.via.clone()),
                    None => groups.push((g, vec![f.via.clone()])),
                },
                None => out.notes.push(format!(
                    "the {} forwards to target group {}, which is not in the snapshot (`describe-target-groups`)",
                    f.via, f.target_group_arn
                )),
            }
        }
        if listener.forwards.is_empty() {
            out.notes.push(format!(
                "listener {}/{} forwards to no target group (its actions redirect or answer themselves)",
                listener.protocol, port
            ));
        }
        let mut missing_targets = false;
        for (g, via) in groups {
            let tg = &self.target_groups[g];
            let (preserved, p_known) = tg.preserves_client_ip(lbi.kind);
            let (cross, c_known) = tg.cross_zone(lbi);
            out.target_groups.push(TargetGroupSummary {
                arn: tg.arn.clone(),
                name: tg.name.clone(),
                via,
                target_type: tg.target_type.clone(),
                client_ip_preserved: preserved,
                client_ip_preserved_from: if p_known { "attribute" } else { "default" },
                cross_zone: cross,
                cross_zone_from: if c_known { "attribute" } else { "default" },
                health_check_port: tg.health_check_port.clone(),
            });
            if lbi.kind == LbKind::Network && (!p_known || !c_known) {
                out.notes.push(format!(
                    "target group {}: {} not in the snapshot; AWS's defaults are assumed (client addresses {}, cross-zone {})",
                    tg.name,
                    match (p_known, c_known) {
                        (false, false) => "its attributes and the load balancer's are",
                        (false, true) => "its attributes are",
                        _ => "the load balancer's attributes are",
                    },
                    if preserved { "preserved" } else { "not preserved" },
                    if cross { "on" } else { "off" }
                ));
            }
            let Some(targets) = &tg.targets else {
                missing_targets = true;
                out.notes.push(format!(
                    "the registered targets of target group {} are not in the snapshot (`describe-target-health` output with its `TargetGroupArn`)",
                    tg.name
                ));
                continue;
            };
            if targets.is_empty() {
                out.notes
                    .push(format!("target group {} has no registered target", tg.name));
            }
            for t in targets {
                let r = self.lb_target(
                    lbi,
                    tg,
                    t,
                    &out.nodes,
                    from,
                    client_addr,
                    proto,
                    preserved,
                    cross,
                    src_port,
                );
                out.targets.push(r);
            }
        }
        // The overall verdict.
        let listener_ok = out.nodes.iter().any(|n| n.verdict == Verdict::Reachable);
        // Served: some node the client reaches sends to a target it reaches.
        let open: Vec<Option<&str>> = out
            .nodes
            .iter()
            .filter(|n| n.verdict == Verdict::Reachable)
            .map(|n| n.eni.as_deref())
            .collect();
        let serves = |t: &TargetResult| {
            t.nodes.iter().any(|n| {
                n.routed && n.verdict == Verdict::Reachable && open.contains(&n.node.as_deref())
            })
        };
        let served = out.targets.iter().any(serves);
        let (verdict, reason, message) = if listener_ok && served {
            let n = out.targets.iter().filter(|t| serves(t)).count();
            (
                Verdict::Reachable,
                None,
                format!(
                    "reachable: {} reaches {} on {}/{port}, and {n} of {} target(s) serve it",
                    info.input,
                    lbi.name,
                    listener.protocol,
                    out.targets.len()
                ),
            )
        } else if !listener_ok {
            let worst = out.nodes.iter().min_by_key(|n| rank(n.verdict));
            let v = worst.map_or(Verdict::Unknown, |n| n.verdict);
            let reason = worst
                .and_then(|n| n.trace.as_ref())
                .and_then(|t| t.reason)
                .or(Some(if v == Verdict::Unknown {
                    Reason::IncompleteSnapshot
                } else {
                    Reason::NoRoute
                }));
            let first = worst
                .map(|n| n.message.clone())
                .unwrap_or_else(|| "the load balancer has no node".into());
            (
                v,
                reason,
                format!(
                    "{v}: no node of {} takes {}/{port} from {}: {first}",
                    lbi.name, listener.protocol, info.input
                ),
            )
        } else {
            let any_unknown = missing_targets
                || out
                    .targets
                    .iter()
                    .any(|t| t.verdict == TargetVerdict::Unknown)
                || out.targets.is_empty()
                    && !listener.forwards.is_empty()
                    && out.target_groups.is_empty();
            let v = if any_unknown {
                Verdict::Unknown
            } else {
                Verdict::Unreachable
            };
            let first = out.targets.iter().find(|t| !serves(t));
            let reason = first
                .and_then(|t| t.nodes.iter().find(|n| n.verdict != Verdict::Reachable))
                .and_then(|n| {
                    n.traffic
                        .iter()
                        .chain(n.health_check.iter())
                        .find(|l| l.trace.verdict != Verdict::Reachable)
                        .and_then(|l| l.trace.reason)
                })
                .or(Some(if v == Verdict::Unknown {
                    Reason::IncompleteSnapshot
                } else {
                    Reason::NoRoute
                }));
            let why = match first {
                Some(t)
                    if matches!(t.verdict, TargetVerdict::Reachable | TargetVerdict::Partial) =>
                {
                    format!(
                        "target {}:{} is reached only through nodes the client cannot reach",
                        t.id, t.port
                    )
                }
                Some(t) => format!("target {}:{}: {}", t.id, t.port, t.message),
                None if out.targets.is_empty() => "no registered target".to_string(),
                None => String::new(),
            };
            (v, reason, format!("{v}: the listener {}/{port} of {} takes the traffic, but no target serves it: {why}", listener.protocol, lbi.name))
        };
        out.verdict = verdict;
        out.reason = reason;
        out.message = message;
        Ok(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn lb_target(
        &self,
        lbi: &LoadBalancerInfo,
        tg: &TargetGroupInfo,
        t: &TargetInfo,
        nodes: &[NodeLeg],
        from: Endpoint,
        client_addr: IpAddr,
        proto: Protocol,
        preserved: bool,
        cross: bool,
        src_port: Option<u16>,
    ) -> TargetResult {
        let mut r = TargetResult {
            target_group: tg.name.clone(),
            target_group_arn: tg.arn.clone(),
            id: t.id.clone(),
            port: t.port,
            zone: t.zone.clone(),
            eni: t.eni.map(|e| self.enis[e].id.clone()),
            address: t.addr,
            reported_health: t.health.clone(),
            verdict: TargetVerdict::Unknown,
            message: String::new(),
            nodes: Vec::new(),
        };
        if !matches!(tg.target_type.as_str(), "instance" | "ip") {
            r.message = format!(
                "unknown: target type `{}` ({}) is not modelled",
                tg.target_type,
                if tg.target_type == "lambda" {
                    "a Lambda function"
                } else {
                    "an Application Load Balancer behind this one"
                }
            );
            return r;
        }
        let Some(addr) = t.addr else {
            r.message = format!(
                "unknown: instance {} (or its primary network interface) is not in the snapshot",
                t.id
            );
            return r;
        };
        let hc_port = tg.health_port(t.port);
        for (ni, node) in lbi.nodes.iter().enumerate() {
            let leg1 = &nodes[ni];
            let routed = cross
                || t.zone.as_deref() == Some("all")
                || (t.zone.is_some() && t.zone == node.zone);
            let Some(ne) = node.eni else {
                r.nodes.push(NodeToTarget {
                    node: None,
                    zone: node.zone.clone(),
                    routed,
                    verdict: Verdict::Unknown,
                    traffic: None,
                    health_check: None,
                    message: leg1.message.clone(),
                });
                continue;
            };
            let node_addr = self.enis[ne].primary(addr.is_ipv6());
            let traffic = routed.then(|| {
                let src = if preserved {
                    Some(client_addr)
                } else {
                    node_addr
                };
                self.lb_leg(
                    ne,
                    src,
                    t.eni,
                    addr,
                    proto,
                    t.port,
                    preserved.then_some((from, src_port)),
                )
            });
            let tcp = Protocol::Number(crate::protocol::TCP);
            let health = match (tg.health_check_enabled, hc_port) {
                // The same walk as the traffic's (same source, port and protocol): not repeated.
                (true, Some(p)) => match &traffic {
                    Some(l) if !preserved && p == t.port && proto == tcp => Some(l.clone()),
                    _ => Some(self.lb_leg(ne, node_addr, t.eni, addr, tcp, p, None)),
                },
                _ => None,
            };
            let legs: Vec<(&str, &Leg)> = traffic
                .iter()
                .map(|l| ("traffic", l))
                .chain(health.iter().map(|l| ("health check", l)))
                .collect();
            let mut verdict = Verdict::Reachable;
            let mut message = String::new();
            for (what, l) in &legs {
                if rank(l.trace.verdict) > rank(verdict) {
                    verdict = l.trace.verdict;
                    let m = &l.trace.message;
                    let m = m.split_once(": ").map_or(m.as_str(), |(_, rest)| rest);
                    message = format!("{what} to port {}: {m}", l.port);
                }
            }
            if message.is_empty() {
                message = if routed {
                    format!(
                        "node {} reaches it on port {}{}",
                        self.enis[ne].id,
                        t.port,
                        hc_port
                            .filter(|_| tg.health_check_enabled)
                            .map(|p| format!(" and its health check on port {p}"))
                            .unwrap_or_default()
                    )
                } else {
                    format!(
                        "node {} does not send to it (cross-zone load balancing is off and the target is in {}){}",
                        self.enis[ne].id,
                        t.zone.as_deref().unwrap_or("another zone"),
                        if health.is_some() { "; its health check passes" } else { "" }
                    )
                };
            }
            r.nodes.push(NodeToTarget {
                node: Some(self.enis[ne].id.clone()),
                zone: node.zone.clone(),
                routed,
                verdict,
                traffic,
                health_check: health,
                message,
            });
        }
        let routed: Vec<&NodeToTarget> = r.nodes.iter().filter(|n| n.routed).collect();
        let ok = routed
            .iter()
            .filter(|n| n.verdict == Verdict::Reachable)
            .count();
        let unknown = routed
            .iter()
            .filter(|n| n.verdict == Verdict::Unknown)
            .count();
        let health_bad: Vec<&NodeToTarget> = r
            .nodes
            .iter()
            .filter(|n| !n.routed && n.verdict != Verdict::Reachable)
            .collect();
        r.verdict = if routed.is_empty() {
            TargetVerdict::Unreachable
        } else if ok == routed.len() && health_bad.is_empty() {
            TargetVerdict::Reachable
        } else if ok > 0 {
            TargetVerdict::Partial
        } else if unknown > 0 {
            TargetVerdict::Unknown
        } else {
            TargetVerdict::Unreachable
        };
        let failing: Vec<String> = r
            .nodes
            .iter()
            .filter(|n| n.verdict != Verdict::Reachable)
            .map(|n| {
                format!(
                    "node {} ({}): {}",
                    n.node.as_deref().unwrap_or("?"),
                    n.zone.as_deref().unwrap_or("?"),
                    n.message
                )
            })
            .collect();
        r.message = match r.verdict {
            TargetVerdict::Reachable => format!("reachable from every node that sends to it ({})", ok),
            _ if routed.is_empty() => format!(
                "unreachable: no node sends to it (cross-zone load balancing is off and no node is in {})",
                t.zone.as_deref().unwrap_or("its zone")
            ),
            _ => failing.join("; "),
        };
        r
    }

    /// One leg from a node to a target: the node's outbound groups, the routes and NACLs on the
    /// way, the target's inbound groups, and the response back. `client` is set when the
    /// client's address is preserved: the response then returns through the node (the
    /// target's route table is not used), and its NACLs judge it on the client's ports.
    #[allow(clippy::too_many_arguments)]
    fn lb_leg(
        &self,
        node: usize,
        src: Option<IpAddr>,
        target: Option<usize>,
        addr: IpAddr,
        proto: Protocol,
        port: u16,
        client: Option<(Endpoint, Option<u16>)>,
    ) -> Leg {
        let from_info = match client {
            Some((c, _)) => self.endpoint_info(&c),
            None => self.endpoint_info(&Endpoint::Eni {
                eni: node,
                addr: src.unwrap_or(addr),
            }),
        };
        let to_info = match target {
            Some(t) => self.endpoint_info(&Endpoint::Eni { eni: t, addr }),
            None => self.endpoint_info(&Endpoint::External(addr)),
        };
        let Some(src) = src else {
            let t = unknown_trace(
                from_info,
                to_info,
                proto,
                port,
                Reason::NoRoute,
                format!(
                    "unreachable: node {} has no address of the target's family",
                    self.enis[node].id
                ),
            );
            return Leg {
                source: addr,
                port,
                trace: Trace {
                    verdict: Verdict::Unreachable,
                    ..t
                },
            };
        };
        let sports = match client {
            Some((_, Some(p))) => PortSet::from_range(PortRange::single(p)),
            Some((_, None)) => PortSet::from_range(PortRange::EPHEMERAL),
            // A node connects from 1024–65535 (the "NAT gateway and ELB" client range).
            None => PortSet::from_range(PortRange::NAT_GATEWAY),
        };
        let pkt = Pkt {
            src,
            dst: addr,
            proto,
            dport: PortSet::from_range(PortRange::single(port)),
            sports: sports.clone(),
            icmp: None,
            refs_ok: true,
        };
        let mut trace = Trace {
            from: from_info,
            to: to_info,
            protocol: proto,
            port: Some(port),
            src_ports: Some(sports.clone()),
            verdict: Verdict::Reachable,
            reason: None,
            blocked_at: None,
            message: String::new(),
            forward: PathTrace::default(),
            return_path: None,
            notes: Vec::new(),
        };
        let mut fwd = Walker::new(self, Mode::Request);
        let result = fwd.depart_eni(node, pkt);
        trace.forward = PathTrace {
            hops: std::mem::take(&mut fwd.hops),
        };
        trace.notes.append(&mut fwd.notes);
        let arrival = match result {
            Err(stop) => {
                self.finish_stopped(&mut trace, stop, fwd.stop, PathDir::Forward);
                return Leg {
                    source: src,
                    port,
                    trace,
                };
            }
            Ok(a) => a,
        };
        let (teni, tpkt) = match arrival {
            Arrival::Eni { eni, pkt } if Some(eni) == target => (eni, pkt),
            Arrival::Unheld { .. } => {
                trace.verdict = Verdict::Unknown;
                trace.reason = Some(Reason::IncompleteSnapshot);
                trace.message = format!("unknown: no network interface of the snapshot holds {addr}, so its security groups are not known");
                return Leg {
                    source: src,
                    port,
                    trace,
                };
            }
            _ => {
                trace.verdict = if target.is_none() {
                    Verdict::Unknown
                } else {
                    Verdict::Unreachable
                };
                trace.reason = Some(if target.is_none() {
                    Reason::IncompleteSnapshot
                } else {
                    Reason::NoRoute
                });
                trace.message = format!(
                    "{}: the traffic to {addr} is delivered somewhere other than the target",
                    trace.verdict
                );
                return Leg {
                    source: src,
                    port,
                    trace,
                };
            }
        };
        let mut ret = Walker::new(self, Mode::Response);
        ret.sg_allowed = fwd.sg_allowed.clone();
        let back = Pkt {
            src: tpkt.dst,
            dst: tpkt.src,
            proto,
            dport: tpkt.sports.clone(),
            sports: tpkt.dport.clone(),
            icmp: None,
            refs_ok: true,
        };
        let rresult = if client.is_some() {
            ret.clients = src_port_none(client);
            let mut back = back;
            let r = ret
                .sg_check(teni, Direction::Outbound, &back)
                .and_then(|()| ret.cross(self.enis[teni].subnet, self.enis[node].subnet, &mut back))
                .map(|()| Arrival::Eni {
                    eni: node,
                    pkt: back,
                });
            ret.notes.push("client addresses are preserved: the response returns through the load balancer's node, so the target's route table does not decide it, while the NACLs between them judge it on the client's ports".into());
            r
        } else {
            ret.depart_eni(teni, back)
        };
        trace.return_path = Some(PathTrace {
            hops: std::mem::take(&mut ret.hops),
        });
        trace.notes.append(&mut ret.notes);
        match rresult {
            Err(stop) => {
                self.finish_stopped(&mut trace, stop, ret.stop, PathDir::Return);
                if let Some(p) = ret.passing_ports.take() {
                    trace.src_ports = Some(p);
                }
            }
            Ok(Arrival::Eni { eni, pkt }) if eni == node => {
                if client.is_none() && pkt.dport != sports {
                    // The node uses the whole 1024–65535 range: a NACL that returns only part
                    // of it breaks the connections from the other ports.
                    let at = trace.return_path.as_ref().and_then(|p| {
                        p.hops.iter().enumerate().rev().find_map(|(hi, h)| {
                            h.checks
                                .iter()
                                .position(|c| c.ports_allowed.is_some())
                                .map(|ci| (hi, ci))
                        })
                    });
                    trace.src_ports = Some(pkt.dport.clone());
                    self.finish_stopped(
                        &mut trace,
                        Stop::Blocked(Reason::SubnetAclRestriction),
                        at,
                        PathDir::Return,
                    );
                    trace.message = format!(
                        "{}; the node connects from ports {} and only {} pass",
                        trace.message,
                        PortRange::NAT_GATEWAY,
                        pkt.dport
                    );
                } else {
                    trace.message = format!(
                        "reachable: {} reaches {addr} on {proto}/{port}",
                        trace.from.input
                    );
                }
            }
            Ok(_) => {
                trace.verdict = Verdict::Unreachable;
                trace.reason = Some(Reason::NoRoute);
                trace.message = "unreachable: the response is routed somewhere other than the load balancer's node (asymmetric routing)".into();
            }
        }
        if trace.verdict == Verdict::Reachable {
            self.finish_pending(&mut trace, &fwd, Some(&ret));
        }
        if fwd.unheld || ret.unheld {
            trace.verdict = Verdict::Unknown;
            trace.reason = Some(Reason::IncompleteSnapshot);
        }
        trace.notes.dedup();
        Leg {
            source: src,
            port,
            trace,
        }
    }
}

fn src_port_none(client: Option<(Endpoint, Option<u16>)>) -> bool {
    matches!(client, Some((_, None)))
}
