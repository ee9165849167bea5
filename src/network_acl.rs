//! Network ACLs: stateless, ordered rule lists on the subnet boundary. Each direction is evaluated
//! in ascending rule number; the first matching rule decides; the `*` rule (32767) denies.
//!
//! An entry whose content the history cannot tell ([`crate::snapshot::UnknownNaclEntry`])
//! compiles to a rule of action [`Action::Unknown`] that matches every packet: what reaches it
//! (no rule of a lower number matches) is decided by it, and so is unknown; what a rule of a
//! lower number decides stays exact.

use crate::protocol::{PortRange, PortSet, Protocol, ICMP, ICMPV6};
use crate::security_group::{Direction, PortMatch};
use crate::snapshot::{NetworkAcl, NetworkAclEntry};
use ipnet::IpNet;
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// The rule number AWS gives the final `*` rule.
pub const DEFAULT_RULE_NUMBER: u32 = 32767;

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The rule allows.
    Allow,
    /// The rule denies.
    Deny,
    /// The rule's content is not known (see [`NaclRule::unknown`]): whatever reaches it is
    /// neither allowed nor denied.
    Unknown,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Allow => "allow",
            Action::Deny => "deny",
            Action::Unknown => "unknown",
        })
    }
}

/// One compiled NACL entry. As JSON: its fields (but `position`); an entry of unknown content
/// only its rule number, action (`unknown`), direction and why (`unknown`), not the match-all
/// form it is evaluated by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NaclRule {
    /// 1–32766, or 32767 for `*`.
    pub rule_number: u32,
    /// Allow or deny.
    pub action: Action,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The protocol.
    pub protocol: Protocol,
    /// Destination ports or ICMP type/code.
    pub ports: PortMatch,
    /// The CIDR of the peer (source for inbound, destination for outbound).
    pub cidr: IpNet,
    /// Whether this is the implicit `*` rule (present or not in the snapshot).
    pub is_default: bool,
    /// The rule's position in its direction's sorted list (an identity for usage counting).
    pub position: usize,
    /// For an entry whose content is not known ([`Action::Unknown`]): why, naming the change.
    pub unknown: Option<String>,
}

impl Serialize for NaclRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        if let Some(why) = &self.unknown {
            let mut st = s.serialize_struct("NaclRule", 4)?;
            st.serialize_field("rule_number", &self.rule_number)?;
            st.serialize_field("action", &self.action)?;
            st.serialize_field("direction", &self.direction)?;
            st.serialize_field("unknown", why)?;
            return st.end();
        }
        let mut st = s.serialize_struct("NaclRule", 7)?;
        st.serialize_field("rule_number", &self.rule_number)?;
        st.serialize_field("action", &self.action)?;
        st.serialize_field("direction", &self.direction)?;
        st.serialize_field("protocol", &self.protocol)?;
        st.serialize_field("ports", &self.ports)?;
        st.serialize_field("cidr", &self.cidr)?;
        st.serialize_field("is_default", &self.is_default)?;
        st.end()
    }
}

impl NaclRule {
    fn matches_header(&self, proto: Protocol, icmp: Option<(u8, u8)>) -> bool {
        match self.protocol {
            Protocol::All => true,
            // "All traffic" passes only if every part of it does: a deny of any one protocol
            // stops it, an allow of one protocol does not let all of it through.
            Protocol::Number(_) if proto == Protocol::All => self.action == Action::Deny,
            Protocol::Number(n) => {
                proto == Protocol::Number(n)
                    && match self.ports {
                        PortMatch::Icmp { .. } => self.ports.matches(None, icmp),
                        _ => true,
                    }
            }
        }
    }

    /// The destination ports this rule covers (all ports for protocols without ports).
    fn port_range(&self) -> PortRange {
        match self.ports {
            PortMatch::Ports { range } => range,
            _ => PortRange::ALL,
        }
    }
}

impl fmt::Display for NaclRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(why) = &self.unknown {
            return write!(f, "rule {} (unknown: {why})", self.rule_number);
        }
        let num = if self.is_default {
            "*".to_string()
        } else {
            self.rule_number.to_string()
        };
        let dir = match self.direction {
            Direction::Inbound => "from",
            Direction::Outbound => "to",
        };
        write!(
            f,
            "rule {num} ({} {}{} {dir} {})",
            self.action, self.protocol, self.ports, self.cidr
        )
    }
}

/// A NACL with its entries sorted per direction.
#[derive(Debug, Clone)]
pub struct CompiledNacl {
    /// `acl-…`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Whether it is the VPC's default NACL.
    pub is_default: bool,
    /// Inbound rules, ascending rule number, `*` rules last.
    pub inbound: Vec<NaclRule>,
    /// Outbound rules, ascending rule number, `*` rules last.
    pub outbound: Vec<NaclRule>,
    /// Entries that could not be read.
    pub problems: Vec<String>,
}

/// The outcome of a NACL over a set of destination ports: which rule decided which ports.
#[derive(Debug, Clone)]
pub struct NaclOutcome<'a> {
    /// Each deciding rule with the ports it decided, in rule order.
    pub parts: Vec<(PortSet, &'a NaclRule)>,
}

impl NaclOutcome<'_> {
    /// The ports allowed.
    pub fn allowed(&self) -> PortSet {
        let mut s = PortSet::empty();
        for (p, r) in &self.parts {
            if r.action == Action::Allow {
                s = s.union(p);
            }
        }
        s
    }

    /// The first rule of unknown content ([`Action::Unknown`]) that decides some of the ports,
    /// with those ports.
    pub fn unknown(&self) -> Option<(&PortSet, &NaclRule)> {
        self.parts
            .iter()
            .find(|(_, r)| r.action == Action::Unknown)
            .map(|(p, r)| (p, *r))
    }
}

impl CompiledNacl {
    /// Compiles a NACL: entries split by direction and sorted by rule number (the API returns them
    /// in no useful order).
    pub fn compile(acl: &NetworkAcl) -> CompiledNacl {
        let mut n = CompiledNacl {
            id: acl.network_acl_id.clone(),
            vpc_id: acl.vpc_id.clone(),
            is_default: acl.is_default.unwrap_or(false),
            inbound: Vec::new(),
            outbound: Vec::new(),
            problems: Vec::new(),
        };
        for e in &acl.entries {
            match compile_entry(e) {
                Ok(rule) => match rule.direction {
                    Direction::Inbound => n.inbound.push(rule),
                    Direction::Outbound => n.outbound.push(rule),
                },
                Err(msg) => n.problems.push(format!(
                    "{} rule {}: {msg}",
                    if e.egress { "outbound" } else { "inbound" },
                    e.rule_number
                )),
            }
        }
        // An entry of unknown content may be of either family: one rule for each, both
        // matching every packet of it.
        for u in &acl.unknown_entries {
            let Ok(rule_number) = u32::try_from(u.rule_number) else {
                n.problems
                    .push(format!("rule {}: negative rule number", u.rule_number));
                continue;
            };
            let direction = if u.egress {
                Direction::Outbound
            } else {
                Direction::Inbound
            };
            for any in ["0.0.0.0/0", "::/0"] {
                let Ok(cidr) = any.parse::<IpNet>() else {
                    continue;
                };
                let rule = NaclRule {
                    rule_number,
                    action: Action::Unknown,
                    direction,
                    protocol: Protocol::All,
                    ports: PortMatch::Any,
                    cidr,
                    is_default: false,
                    position: 0,
                    unknown: Some(u.why.clone()),
                };
                match direction {
                    Direction::Inbound => n.inbound.push(rule),
                    Direction::Outbound => n.outbound.push(rule),
                }
            }
        }
        for (dir, rules) in [
            (Direction::Inbound, &mut n.inbound),
            (Direction::Outbound, &mut n.outbound),
        ] {
            // The `*` rules exist for each family even when a saved snapshot leaves them out.
            for any in ["0.0.0.0/0", "::/0"] {
                let Ok(cidr) = any.parse::<IpNet>() else {
                    continue;
                };
                if !rules.iter().any(|r| r.is_default && r.cidr == cidr) {
                    rules.push(NaclRule {
                        rule_number: DEFAULT_RULE_NUMBER,
                        action: Action::Deny,
                        direction: dir,
                        protocol: Protocol::All,
                        ports: PortMatch::Any,
                        cidr,
                        is_default: true,
                        position: 0,
                        unknown: None,
                    });
                }
            }
            rules.sort_by_key(|r| r.rule_number);
            for (i, r) in rules.iter_mut().enumerate() {
                r.position = i;
            }
        }
        n
    }

    /// The rules of one direction, in evaluation order.
    pub fn rules(&self, dir: Direction) -> &[NaclRule] {
        match dir {
            Direction::Inbound => &self.inbound,
            Direction::Outbound => &self.outbound,
        }
    }

    /// The rule that decides one packet: the first rule of the direction that matches the peer,
    /// the protocol and the destination port (the `*` rule when none does).
    pub fn decide(
        &self,
        dir: Direction,
        peer: IpAddr,
        proto: Protocol,
        port: Option<u16>,
        icmp: Option<(u8, u8)>,
    ) -> Option<&NaclRule> {
        self.rules(dir).iter().find(|rule| {
            crate::cidr::cidr_contains(&rule.cidr, peer)
                && rule.matches_header(proto, icmp)
                && (!proto.has_ports() || port.is_none_or(|p| rule.port_range().contains(p)))
        })
    }

    /// Evaluates one direction for a peer address, protocol, ICMP type/code and a set of
    /// destination ports: the first matching rule decides each port.
    pub fn evaluate(
        &self,
        dir: Direction,
        peer: IpAddr,
        proto: Protocol,
        ports: &PortSet,
        icmp: Option<(u8, u8)>,
    ) -> NaclOutcome<'_> {
        let mut undecided = if proto.has_ports() {
            ports.clone()
        } else {
            PortSet::from_range(PortRange::ALL)
        };
        let mut parts = Vec::new();
        for rule in self.rules(dir) {
            if undecided.is_empty() {
                break;
            }
            if !rule.cidr.contains(&peer) || !rule.matches_header(proto, icmp) {
                continue;
            }
            let range = if proto.has_ports() {
                rule.port_range()
            } else {
                PortRange::ALL
            };
            let hit = undecided.intersect_range(&range);
            if hit.is_empty() {
                continue;
            }
            undecided = undecided.minus_range(&range);
            parts.push((hit, rule));
        }
        NaclOutcome { parts }
    }
}

fn compile_entry(e: &NetworkAclEntry) -> Result<NaclRule, String> {
    let protocol = Protocol::from_aws(&e.protocol)
        .ok_or_else(|| format!("unknown protocol `{}`", e.protocol))?;
    let cidr_text = e
        .cidr_block
        .as_deref()
        .or(e.ipv6_cidr_block.as_deref())
        .ok_or("no CIDR block")?;
    let cidr: IpNet = cidr_text
        .trim()
        .parse()
        .map_err(|_| format!("`{cidr_text}` is not a CIDR"))?;
    let action = match e.rule_action.to_ascii_lowercase().as_str() {
        "allow" => Action::Allow,
        "deny" => Action::Deny,
        other => return Err(format!("unknown rule action `{other}`")),
    };
    let ports = match protocol {
        Protocol::Number(ICMP | ICMPV6) => {
            let tc = e.icmp_type_code.clone().unwrap_or_default();
            PortMatch::from_aws(protocol, tc.icmp_type, tc.code)
        }
        p if p.has_ports() => {
            let pr = e.port_range.clone().unwrap_or_default();
            match (pr.from, pr.to) {
                (Some(_), Some(_)) => PortMatch::from_aws(protocol, pr.from, pr.to),
                _ => PortMatch::Any,
            }
        }
        _ => PortMatch::Any,
    };
    let rule_number = u32::try_from(e.rule_number).map_err(|_| "negative rule number")?;
    Ok(NaclRule {
        rule_number,
        action,
        direction: if e.egress {
            Direction::Outbound
        } else {
            Direction::Inbound
        },
        protocol,
        ports,
        cidr,
        is_default: rule_number >= DEFAULT_RULE_NUMBER,
        position: 0,
        unknown: None,
    })
}
