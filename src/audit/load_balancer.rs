//! Built-in load-balancer checks: a registered target that some node cannot reach on the
//! traffic or health-check port ("unhealthy by configuration"), and a target that passes health
//! checks while its groups or NACL drop the client addresses a Network Load Balancer preserves
//! (aws-semantics 43–44). Each finding names the load balancer, the target and the deciding
//! security group or NACL rule.

use super::analysis::finding;
use super::{Finding, FindingStatus, Witness};
use crate::network::{LbKind, Network};
use crate::policy::Severity;
use crate::query::{Endpoint, Leg, TargetResult};
use crate::trace::Verdict;
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};

/// An internet client for the checks (TEST-NET-2, RFC 5737): an address no rule names on
/// purpose, as most of the internet is.
const INTERNET_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));

/// The deciding component of a failed leg, in words and as resources.
fn decided(leg: &Leg) -> (String, Vec<String>) {
    match &leg.trace.blocked_at {
        Some(b) => {
            let mut res = vec![b.component.clone()];
            res.extend(b.resources.iter().cloned());
            (format!("at {}: {}", b.component, b.detail), res)
        }
        None => (leg.trace.message.clone(), Vec::new()),
    }
}

/// The load-balancer findings of a network.
pub(super) fn findings(net: &Network, out: &mut Vec<Finding>) {
    let mut seen: HashSet<(usize, String, String, u16)> = HashSet::new();
    for (i, lb) in net.load_balancers.iter().enumerate() {
        if !matches!(lb.kind, LbKind::Application | LbKind::Network) {
            continue;
        }
        let client = Endpoint::External(INTERNET_CLIENT);
        for l in &lb.listeners {
            let info = net.endpoint_info_of(&client);
            let Ok(t) = net.query_load_balancer(
                i,
                client,
                info,
                crate::Protocol::Number(crate::protocol::TCP),
                l.port,
                None,
            ) else {
                continue;
            };
            for r in &t.targets {
                if !seen.insert((i, r.target_group_arn.clone(), r.id.clone(), r.port)) {
                    continue;
                }
                let preserved = t
                    .target_groups
                    .iter()
                    .any(|g| g.arn == r.target_group_arn && g.client_ip_preserved);
                unhealthy(net, i, r, preserved, out);
                if preserved && lb.internet_facing {
                    client_dropped(net, i, r, out);
                }
            }
        }
    }
}

/// A node that cannot reach the target on the traffic port (from its own address) or on the
/// health-check port.
fn unhealthy(net: &Network, lb: usize, r: &TargetResult, preserved: bool, out: &mut Vec<Finding>) {
    let lbi = &net.load_balancers[lb];
    let mut because = Vec::new();
    let mut first: Option<(IpAddr, u16)> = None;
    let mut resources = vec![lbi.arn.clone(), r.target_group_arn.clone(), r.id.clone()];
    for n in &r.nodes {
        let legs = n.health_check.iter().map(|l| ("health check", l)).chain(
            n.traffic
                .iter()
                .filter(|_| !preserved)
                .map(|l| ("traffic", l)),
        );
        for (what, leg) in legs {
            if leg.trace.verdict != Verdict::Unreachable {
                continue;
            }
            first.get_or_insert((leg.source, leg.port));
            let (text, res) = decided(leg);
            because.push(format!(
                "node {} ({}): {what} to port {}: {text}",
                n.node.as_deref().unwrap_or("?"),
                n.zone.as_deref().unwrap_or("?"),
                leg.port
            ));
            for x in res {
                if !resources.contains(&x) {
                    resources.push(x);
                }
            }
        }
    }
    if because.is_empty() {
        return;
    }
    out.push(finding(
        "lb-target-unreachable",
        Severity::High,
        FindingStatus::Blocked,
        resources,
        first.map(|(src, port)| Witness {
            src: src.to_string(),
            dst: r.address.map_or_else(|| r.id.clone(), |a| a.to_string()),
            protocol: "tcp".into(),
            port: Some(port),
        }),
        because.clone(),
        format!(
            "{} {}: target {}:{} of target group {} is unhealthy by configuration: {}",
            lbi.kind.describe(),
            crate::render::sanitize(&lbi.name),
            r.id,
            r.port,
            crate::render::sanitize(&r.target_group),
            because.join("; ")
        ),
    ));
}

/// Health checks pass (they come from the nodes) while client traffic, which keeps the
/// client's address, is dropped.
fn client_dropped(net: &Network, lb: usize, r: &TargetResult, out: &mut Vec<Finding>) {
    let lbi = &net.load_balancers[lb];
    let healthy = r.nodes.iter().all(|n| {
        n.health_check
            .as_ref()
            .is_none_or(|l| l.trace.verdict == Verdict::Reachable)
    });
    let dropped: Vec<&Leg> = r
        .nodes
        .iter()
        .filter_map(|n| n.traffic.as_ref())
        .filter(|l| l.trace.verdict == Verdict::Unreachable)
        .collect();
    let Some(leg) = dropped.first().filter(|_| healthy) else {
        return;
    };
    let (text, res) = decided(leg);
    let mut resources = vec![lbi.arn.clone(), r.target_group_arn.clone(), r.id.clone()];
    resources.extend(res);
    out.push(finding(
        "lb-client-address-dropped",
        Severity::High,
        FindingStatus::Blocked,
        resources,
        Some(Witness {
            src: INTERNET_CLIENT.to_string(),
            dst: r.address.map_or_else(|| r.id.clone(), |a| a.to_string()),
            protocol: "tcp".into(),
            port: Some(r.port),
        }),
        vec![text.clone()],
        format!(
            "{} {}: target {}:{} of target group {} passes health checks (they come from the nodes) but drops clients, whose addresses are preserved: {text}; to fix: allow the clients (or the load balancer's security group) on port {}, or turn off preserve_client_ip.enabled",
            lbi.kind.describe(),
            crate::render::sanitize(&lbi.name),
            r.id,
            r.port,
            crate::render::sanitize(&r.target_group),
            r.port
        ),
    ));
}
