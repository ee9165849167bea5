//! VPC Block Public Access in the audit: each account and Region's mode (a note), and every
//! exclusion with what it exposes (a `vpc-bpa-exclusion` finding), or why it cannot be told.

use super::analysis::finding;
use super::{Finding, FindingStatus};
use crate::bpa::{ExclusionMode, Mode, Resource, Standing};
use crate::network::Network;
use crate::policy::Severity;
use crate::route::Target;

/// The check id of exclusion findings.
pub const CHECK: &str = "vpc-bpa-exclusion";

/// The ENIs a report lists by name before counting the rest.
const LISTED: usize = 20;

/// Adds the BPA notes and findings of a network.
pub(super) fn audit(net: &Network, findings: &mut Vec<Finding>, notes: &mut Vec<String>) {
    let bpa = &net.bpa;
    if bpa.is_empty() {
        notes.push(crate::query::NO_BPA_NOTE.to_string());
        return;
    }
    for s in &bpa.scopes {
        notes.push(format!(
            "VPC Block Public Access in {}: {}{}{}",
            s.label(),
            crate::render::sanitize(&s.mode_raw),
            if s.exclusions_not_allowed {
                ", exclusions not allowed"
            } else {
                ""
            },
            s.managed_by
                .as_deref()
                .map(|m| format!(", managed by {}", crate::render::sanitize(m)))
                .unwrap_or_default()
        ));
    }
    for e in &bpa.exclusions {
        // The options of the exclusion's account and Region.
        let scope = bpa.scopes.iter().find(|s| {
            fits(s.region.as_deref(), e.region.as_deref())
                && fits(s.account.as_deref(), e.account.as_deref())
        });
        let desc = format!(
            "exclusion {} ({} on {}, {})",
            e.id,
            e.mode_raw,
            e.resource.id(),
            e.state
        );
        let mut resources = vec![e.id.clone(), e.resource.id().to_string()];
        if e.standing == Standing::NotInForce {
            notes.push(format!("VPC BPA {desc} is not in force"));
            continue;
        }
        let Some(scope) = scope else {
            notes.push(format!(
                "VPC BPA {desc}: the options of its account and Region are not in the snapshot"
            ));
            continue;
        };
        if e.standing == Standing::Uncertain || scope.exclusions_not_allowed {
            let why = if scope.exclusions_not_allowed {
                format!(
                    "ExclusionsAllowed is not-allowed in {} and what becomes of existing exclusions is not documented",
                    scope.label()
                )
            } else {
                "its state or mode does not say whether it is in force".into()
            };
            findings.push(finding(
                CHECK,
                Severity::Low,
                FindingStatus::Unknown,
                resources,
                None,
                vec![desc.clone()],
                format!("VPC BPA {desc}: cannot tell what it exposes: {why}"),
            ));
            continue;
        }
        let (Some(mode), Some(xmode)) = (scope.mode, e.mode) else {
            continue;
        };
        if mode == Mode::Off {
            notes.push(format!(
                "VPC BPA {desc}: no effect while BPA is off in {}",
                scope.label()
            ));
            continue;
        }
        if xmode == ExclusionMode::AllowEgress && mode == Mode::BlockIngress {
            notes.push(format!(
                "VPC BPA {desc}: no effect in block-ingress mode ({})",
                scope.label()
            ));
            continue;
        }
        let subnets: Vec<usize> = net
            .subnets
            .iter()
            .enumerate()
            .filter(|(_, s)| match &e.resource {
                Resource::Subnet(id) => &s.id == id,
                Resource::Vpc(id) => &s.vpc_id == id,
                Resource::Other(_) => false,
            })
            .map(|(i, _)| i)
            .collect();
        let mut exposed = Vec::new();
        for (i, en) in net.enis.iter().enumerate() {
            let Some(s) = en.subnet.filter(|s| subnets.contains(s)) else {
                continue;
            };
            let nat = en.interface_type.as_deref() == Some("nat_gateway");
            let what = match xmode {
                ExclusionMode::AllowBidirectional if nat && gateway_route(net, s, false) => {
                    Some("NAT gateway connections out".to_string())
                }
                ExclusionMode::AllowBidirectional => {
                    let public: Vec<String> =
                        en.public_ips.iter().map(|(p, _)| p.to_string()).collect();
                    let mut ways = Vec::new();
                    if !public.is_empty() && gateway_route(net, s, false) {
                        ways.push(format!("in and out on {}", public.join(", ")));
                    }
                    if !en.ipv6.is_empty() && gateway_route(net, s, true) {
                        ways.push("IPv6 in and out".to_string());
                    }
                    (!ways.is_empty()).then(|| ways.join("; "))
                }
                ExclusionMode::AllowEgress if nat && gateway_route(net, s, false) => {
                    Some("NAT gateway connections out".to_string())
                }
                ExclusionMode::AllowEgress => (!en.ipv6.is_empty() && eigw_route(net, s))
                    .then(|| "IPv6 connections out through the egress-only gateway".to_string()),
            };
            if let Some(w) = what {
                exposed.push((i, w));
            }
        }
        let listed: Vec<String> = exposed
            .iter()
            .take(LISTED)
            .map(|(i, w)| format!("{} ({w})", net.enis[*i].id))
            .collect();
        let more = exposed.len().saturating_sub(LISTED);
        resources.extend(
            exposed
                .iter()
                .take(LISTED)
                .map(|(i, _)| net.enis[*i].id.clone()),
        );
        let what = if exposed.is_empty() {
            "no network interface of the snapshot uses it today".to_string()
        } else {
            format!(
                "{}{}",
                listed.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )
        };
        // Stable ids: the fingerprint covers the exclusion and its resource only.
        let mut f = finding(
            CHECK,
            Severity::Low,
            FindingStatus::BpaExclusion,
            resources[..2].to_vec(),
            None,
            vec![desc.clone()],
            format!(
                "VPC BPA is {mode} in {}, and {desc} lets through: {what}",
                scope.label()
            ),
        );
        f.resources = resources;
        findings.push(f);
    }
}

fn fits(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// Whether the subnet's route table sends some IPv4 (or IPv6) destination to an internet
/// gateway.
fn gateway_route(net: &Network, subnet: usize, v6: bool) -> bool {
    routes_to(net, subnet, v6, |t| matches!(t, Target::InternetGateway(_)))
}

fn eigw_route(net: &Network, subnet: usize) -> bool {
    routes_to(net, subnet, true, |t| {
        matches!(t, Target::EgressOnlyInternetGateway(_))
    })
}

fn routes_to(net: &Network, subnet: usize, v6: bool, want: impl Fn(&Target) -> bool) -> bool {
    let Some(rt) = net.subnets[subnet].route_table else {
        return false;
    };
    net.route_tables[rt].routes.iter().any(|r| {
        want(&r.target)
            && match &r.destination {
                crate::route::Destination::Cidr(d) => d.addr().is_ipv6() == v6,
                crate::route::Destination::PrefixList(_) => true,
            }
    })
}
