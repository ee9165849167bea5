//! Rule usage as text and JSON: the rules that rejected most, in words; for each security-group and NACL rule, its hits, the peers and ports it
//! passed, and the narrowest CIDR covering them; rules with no hit are listed with none (whether
//! they are unused is `audit --flows`'s judgement, against the flow-log coverage).

use super::record::nacl_text;
use crate::explain::*;
use crate::network::sg_rule_text;
use crate::network::Network;
use crate::network_acl::NaclRule;
use crate::security_group::{Direction, SgRule};
use serde_json::{json, Value};
use std::net::IpAddr;

impl Tally {
    /// Observed rejects by the rule that explains them, in words.
    pub fn rejects_by_rule_text(&self, net: &Network) -> Vec<(String, u64)> {
        self.rejects_by_rule
            .iter()
            .map(|(k, v)| {
                let text = match *k {
                    RejectKey::Nacl(n, out, pos) => {
                        let acl = &net.nacls[n];
                        let dir = if out {
                            Direction::Outbound
                        } else {
                            Direction::Inbound
                        };
                        match acl.rules(dir).get(pos) {
                            Some(rule) => format!("{} {}", acl.id, nacl_text(rule)),
                            None => acl.id.clone(),
                        }
                    }
                    RejectKey::Sg(eni) => {
                        format!("{}: no security-group rule allows it", net.enis[eni].id)
                    }
                };
                (text, *v)
            })
            .collect()
    }

    /// Every SG and NACL rule of the ENIs seen, with its usage (zero hits included), as JSON.
    pub fn rule_usage_json(&self, net: &Network) -> Vec<Value> {
        self.rule_usage_json_of(net, true)
    }

    /// [`Tally::rule_usage_json`] for every rule (`every`), or only for the rules with hits.
    pub fn rule_usage_json_of(&self, net: &Network, every: bool) -> Vec<Value> {
        self.rule_usage_views(net, every, None).0
    }

    /// The `n` rules with the most hits (in [`Tally::rule_usage_json`]'s form, most hits first),
    /// and how many rules have hits.
    pub fn rule_usage_top(&self, net: &Network, n: usize) -> (Vec<Value>, usize) {
        self.rule_usage_views(net, false, Some(n))
    }

    /// The rules of the ENIs seen (all, or those with hits), in group and NACL order or, with
    /// `top`, the most used first; and how many there were before `top`. Only the rules shown
    /// are rendered.
    fn rule_usage_views(
        &self,
        net: &Network,
        every: bool,
        top: Option<usize>,
    ) -> (Vec<Value>, usize) {
        enum Which<'a> {
            Sg(&'a str, &'a SgRule),
            Nacl(&'a str, &'a NaclRule),
        }
        let mut groups: Vec<usize> = Vec::new();
        let mut nacls: Vec<usize> = Vec::new();
        for e in self.enis_seen.iter() {
            let en = &net.enis[e];
            groups.extend(en.groups.iter().copied());
            if let Some(n) = en.subnet.and_then(|s| net.subnets[s].nacl) {
                nacls.push(n);
            }
        }
        groups.sort_unstable();
        groups.dedup();
        nacls.sort_unstable();
        nacls.dedup();
        let empty = Usage::default();
        let mut rows: Vec<(&Usage, Which<'_>)> = Vec::new();
        let shown = |key: RuleKey| {
            let u = self.usage.get(&key).unwrap_or(&empty);
            (u.hits > 0 || every).then_some(u)
        };
        for g in groups {
            let grp = &net.groups[g];
            for (out_dir, rules) in [(false, &grp.inbound), (true, &grp.outbound)] {
                for r in rules {
                    if let Some(u) = shown(RuleKey::Sg(g, out_dir, r.position)) {
                        rows.push((u, Which::Sg(grp.id.as_str(), r)));
                    }
                }
            }
        }
        for n in nacls {
            let acl = &net.nacls[n];
            for (out_dir, rules) in [(false, &acl.inbound), (true, &acl.outbound)] {
                for r in rules {
                    if let Some(u) = shown(RuleKey::Nacl(n, out_dir, r.position)) {
                        rows.push((u, Which::Nacl(acl.id.as_str(), r)));
                    }
                }
            }
        }
        let total = rows.len();
        if let Some(n) = top {
            // Stable: rules with as many hits keep their order.
            rows.sort_by_key(|(u, _)| std::cmp::Reverse(u.hits));
            rows.truncate(n);
        }
        let views = rows
            .into_iter()
            .map(|(u, which)| match which {
                Which::Sg(id, r) => usage_json(
                    RuleRow {
                        layer: "security_group",
                        id,
                        rule_number: None,
                        text: &sg_rule_text(net, r),
                        dir: r.direction,
                        action: "allow",
                        is_default: false,
                        ports: port_range(&r.ports),
                    },
                    u,
                ),
                Which::Nacl(id, r) => usage_json(
                    RuleRow {
                        layer: "network_acl",
                        id,
                        rule_number: Some(r.rule_number),
                        text: &nacl_text(r),
                        dir: r.direction,
                        action: match r.action {
                            crate::network_acl::Action::Allow => "allow",
                            crate::network_acl::Action::Deny => "deny",
                            crate::network_acl::Action::Unknown => "unknown",
                        },
                        is_default: r.is_default,
                        ports: port_range(&r.ports),
                    },
                    u,
                ),
            })
            .collect();
        (views, total)
    }
}

fn covering_v4(lo: u32, hi: u32) -> String {
    let len = (lo ^ hi).leading_zeros();
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    format!(
        "{}/{len}",
        crate::render::ip::Ip(IpAddr::V4(std::net::Ipv4Addr::from(lo & mask)))
    )
}

fn covering_v6(lo: u128, hi: u128) -> String {
    let len = (lo ^ hi).leading_zeros();
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    format!("{}/{len}", std::net::Ipv6Addr::from(lo & mask))
}

fn port_range(m: &crate::security_group::PortMatch) -> Option<(u16, u16)> {
    match m {
        crate::security_group::PortMatch::Ports { range } => Some((range.from, range.to)),
        _ => None,
    }
}

/// What a row of rule usage says about its rule.
struct RuleRow<'a> {
    layer: &'a str,
    id: &'a str,
    rule_number: Option<u32>,
    text: &'a str,
    dir: Direction,
    action: &'a str,
    is_default: bool,
    /// The rule's port range, when it has one (TCP/UDP with ports).
    ports: Option<(u16, u16)>,
}

fn usage_json(row: RuleRow<'_>, u: &Usage) -> Value {
    let RuleRow {
        layer,
        id,
        rule_number,
        text,
        dir,
        action,
        is_default,
        ports,
    } = row;
    let mut narrowest = Vec::new();
    if let Some((lo, hi)) = u.peers_v4 {
        narrowest.push(covering_v4(lo, hi));
    }
    if let Some((lo, hi)) = u.peers_v6 {
        narrowest.push(covering_v6(lo, hi));
    }
    json!({
        "layer": layer,
        "resource": id,
        "rule_number": rule_number,
        "direction": dir,
        "rule": text,
        "action": action,
        "default": is_default,
        "rule_ports": ports.map(|(a, b)| json!([a, b])),
        "hits": u.hits,
        "accepted": u.accepted,
        "used_peers": if narrowest.is_empty() { Value::Null } else { json!(narrowest) },
        "used_ports": u.ports.map(|(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covering_prefixes() {
        let a = u32::from(std::net::Ipv4Addr::new(10, 0, 2, 10));
        let b = u32::from(std::net::Ipv4Addr::new(10, 0, 2, 140));
        assert_eq!(covering_v4(a, b), "10.0.2.0/24");
        assert_eq!(covering_v4(a, a), "10.0.2.10/32");
        assert_eq!(covering_v4(0, u32::MAX), "0.0.0.0/0");
    }
}
