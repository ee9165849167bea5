//! Security groups: stateful, allow-only rule sets attached to ENIs. A packet is allowed when any
//! rule of any attached group matches it; no match means denied.

use crate::protocol::{PortRange, Protocol, ICMP, ICMPV6};
use crate::snapshot::{IpPermission, SecurityGroup};
use ipnet::IpNet;
use serde::Serialize;
use std::fmt;

/// Inbound or outbound, relative to an ENI or a subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Toward the ENI (or into the subnet).
    Inbound,
    /// Away from the ENI (or out of the subnet).
    Outbound,
}

impl Direction {
    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::Inbound => Direction::Outbound,
            Direction::Outbound => Direction::Inbound,
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        })
    }
}

/// What a rule matches besides protocol and peer: a port range, an ICMP type/code, or anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PortMatch {
    /// Every port (protocol `-1`, or a protocol without ports).
    Any,
    /// A TCP/UDP port range.
    Ports {
        /// The range.
        range: PortRange,
    },
    /// ICMP type and code; `None` means all.
    Icmp {
        /// ICMP type.
        icmp_type: Option<u8>,
        /// ICMP code.
        icmp_code: Option<u8>,
    },
}

impl PortMatch {
    /// Builds the match from a protocol and AWS's from/to fields (ports, or ICMP type/code).
    pub fn from_aws(proto: Protocol, from: Option<i32>, to: Option<i32>) -> PortMatch {
        match proto {
            Protocol::Number(ICMP | ICMPV6) => PortMatch::Icmp {
                icmp_type: from.and_then(|v| u8::try_from(v).ok()),
                icmp_code: to.and_then(|v| u8::try_from(v).ok()),
            },
            p if p.has_ports() => match (from, to) {
                (Some(f), Some(t)) if f >= 0 && t >= 0 => PortRange {
                    from: u16::try_from(f).unwrap_or(0),
                    to: u16::try_from(t).unwrap_or(u16::MAX),
                }
                .into_match(),
                _ => PortMatch::Any,
            },
            _ => PortMatch::Any,
        }
    }

    /// Whether a packet's port (TCP/UDP) or ICMP type/code matches. `icmp = None` on an ICMP
    /// packet means the type is unknown (flow logs record ICMP as ports 0/0): any ICMP rule applies.
    pub fn matches(&self, port: Option<u16>, icmp: Option<(u8, u8)>) -> bool {
        match self {
            PortMatch::Any => true,
            PortMatch::Ports { range } => port.is_some_and(|p| range.contains(p)),
            PortMatch::Icmp {
                icmp_type,
                icmp_code,
            } => match icmp {
                None => true,
                Some((t, c)) => {
                    icmp_type.is_none_or(|rt| rt == t) && icmp_code.is_none_or(|rc| rc == c)
                }
            },
        }
    }
}

impl PortRange {
    fn into_match(self) -> PortMatch {
        if self == PortRange::ALL {
            PortMatch::Any
        } else {
            PortMatch::Ports { range: self }
        }
    }
}

impl fmt::Display for PortMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortMatch::Any => Ok(()),
            PortMatch::Ports { range } => write!(f, "/{range}"),
            PortMatch::Icmp {
                icmp_type,
                icmp_code,
            } => match (icmp_type, icmp_code) {
                (None, _) => f.write_str(" (all types)"),
                (Some(t), None) => write!(f, " type {t}"),
                (Some(t), Some(c)) => write!(f, " type {t} code {c}"),
            },
        }
    }
}

/// The peer of a security-group rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum SgPeer {
    /// An IPv4 or IPv6 CIDR.
    Cidr {
        /// The CIDR.
        cidr: IpNet,
    },
    /// A managed prefix list.
    PrefixList {
        /// `pl-…`.
        id: Box<str>,
    },
    /// Another security group: the private addresses of its member ENIs. (Boxed: a network
    /// holds millions of rules, most of them CIDRs, and every rule is as large as its largest
    /// kind of peer.)
    Group(Box<GroupPeer>),
}

/// The group a rule references ([`SgPeer::Group`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupPeer {
    /// `sg-…`.
    pub id: String,
    /// The owning account, for cross-account references.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// The peering through which it is referenced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peering: Option<String>,
}

impl SgPeer {
    /// A reference to another group.
    pub fn group(
        id: impl Into<String>,
        account: Option<String>,
        peering: Option<String>,
    ) -> SgPeer {
        SgPeer::Group(Box::new(GroupPeer {
            id: id.into(),
            account,
            peering,
        }))
    }

    /// The id of the group referenced, for a group reference.
    pub fn group_id(&self) -> Option<&str> {
        match self {
            SgPeer::Group(g) => Some(&g.id),
            _ => None,
        }
    }
}

impl fmt::Display for SgPeer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SgPeer::Cidr { cidr } => write!(f, "{cidr}"),
            SgPeer::PrefixList { id } => write!(f, "{id}"),
            SgPeer::Group(g) => match &g.account {
                Some(a) => write!(f, "{a}/{}", g.id),
                None => write!(f, "{}", g.id),
            },
        }
    }
}

/// One compiled security-group rule: a protocol, a port match and one peer.
///
/// AWS groups a permission's sources; each source becomes its own rule here so a decision names
/// exactly the source that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SgRule {
    /// The group the rule belongs to (shared by all its rules: a network holds millions).
    pub group_id: std::sync::Arc<str>,
    /// Inbound or outbound.
    pub direction: Direction,
    /// The position of the permission in the group's `IpPermissions`/`IpPermissionsEgress`.
    pub permission_index: u32,
    /// The protocol.
    pub protocol: Protocol,
    /// Ports or ICMP type/code.
    pub ports: PortMatch,
    /// Source (inbound) or destination (outbound).
    pub peer: SgPeer,
    /// The rule's description (untrusted text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Box<str>>,
    /// The rule's position in its group's compiled rules of its direction (an identity for
    /// usage counting).
    #[serde(skip)]
    pub position: usize,
    /// The group's index in the network model (set when the network is built).
    #[serde(skip)]
    pub group: usize,
}

impl SgRule {
    /// Whether the rule's protocol and ports match a packet.
    pub fn matches_header(
        &self,
        proto: Protocol,
        port: Option<u16>,
        icmp: Option<(u8, u8)>,
    ) -> bool {
        match self.protocol {
            Protocol::All => true,
            Protocol::Number(n) => proto == Protocol::Number(n) && self.ports.matches(port, icmp),
        }
    }

    /// Whether this rule allows all traffic to/from everywhere of one family (`-1` to 0.0.0.0/0
    /// or ::/0), the condition under which the other direction's flows are untracked.
    pub fn is_allow_all_for(&self, v6: bool) -> bool {
        self.protocol == Protocol::All
            && matches!(&self.peer, SgPeer::Cidr { cidr } if cidr.prefix_len() == 0 && cidr.addr().is_ipv6() == v6)
    }
}

impl fmt::Display for SgRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = match self.direction {
            Direction::Inbound => "from",
            Direction::Outbound => "to",
        };
        write!(f, "{}{} {dir} {}", self.protocol, self.ports, self.peer)
    }
}

/// A security group with its rules compiled.
#[derive(Debug, Clone)]
pub struct CompiledGroup {
    /// `sg-…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Inbound rules.
    pub inbound: Vec<SgRule>,
    /// Outbound rules.
    pub outbound: Vec<SgRule>,
    /// Rule text that could not be read (bad CIDR …), reported, never guessed.
    pub problems: Vec<String>,
}

impl CompiledGroup {
    /// Compiles a group from its snapshot form.
    pub fn compile(sg: &SecurityGroup) -> CompiledGroup {
        let mut g = CompiledGroup {
            id: sg.group_id.clone(),
            name: sg.group_name.clone(),
            vpc_id: sg.vpc_id.clone(),
            inbound: Vec::new(),
            outbound: Vec::new(),
            problems: Vec::new(),
        };
        for (i, p) in sg.ip_permissions.iter().enumerate() {
            compile_permission(&mut g, Direction::Inbound, i, p);
        }
        for (i, p) in sg.ip_permissions_egress.iter().enumerate() {
            compile_permission(&mut g, Direction::Outbound, i, p);
        }
        // Networks hold millions of rules: no spare room.
        g.inbound.shrink_to_fit();
        g.outbound.shrink_to_fit();
        g
    }

    /// The rules of one direction.
    pub fn rules(&self, dir: Direction) -> &[SgRule] {
        match dir {
            Direction::Inbound => &self.inbound,
            Direction::Outbound => &self.outbound,
        }
    }
}

fn compile_permission(g: &mut CompiledGroup, dir: Direction, index: usize, p: &IpPermission) {
    let Some(protocol) = Protocol::from_aws(&p.ip_protocol) else {
        g.problems.push(format!(
            "{} rule {}: unknown protocol `{}`",
            dir,
            index + 1,
            p.ip_protocol
        ));
        return;
    };
    let ports = PortMatch::from_aws(protocol, p.from_port, p.to_port);
    let group_id: std::sync::Arc<str> = match g.inbound.first().or(g.outbound.first()) {
        Some(r) => r.group_id.clone(),
        None => g.id.as_str().into(),
    };
    let mut push = |peer: SgPeer, description: Option<&str>| {
        let rule = SgRule {
            group_id: group_id.clone(),
            direction: dir,
            permission_index: u32::try_from(index).unwrap_or(u32::MAX),
            protocol,
            ports,
            peer,
            description: description.map(Box::from),
            group: 0,
            position: match dir {
                Direction::Inbound => g.inbound.len(),
                Direction::Outbound => g.outbound.len(),
            },
        };
        match dir {
            Direction::Inbound => g.inbound.push(rule),
            Direction::Outbound => g.outbound.push(rule),
        }
    };
    let mut problems = Vec::new();
    for r in &p.ip_ranges {
        match r.cidr_ip.trim().parse::<IpNet>() {
            Ok(cidr) => push(SgPeer::Cidr { cidr }, r.description.as_deref()),
            Err(_) => problems.push(format!("`{}` is not an IPv4 CIDR", r.cidr_ip)),
        }
    }
    for r in &p.ipv6_ranges {
        match r.cidr_ipv6.trim().parse::<IpNet>() {
            Ok(cidr) => push(SgPeer::Cidr { cidr }, r.description.as_deref()),
            Err(_) => problems.push(format!("`{}` is not an IPv6 CIDR", r.cidr_ipv6)),
        }
    }
    for r in &p.prefix_list_ids {
        push(
            SgPeer::PrefixList {
                id: r.prefix_list_id.as_str().into(),
            },
            r.description.as_deref(),
        );
    }
    for r in &p.user_id_group_pairs {
        match &r.group_id {
            Some(id) => push(
                SgPeer::group(
                    id.as_str(),
                    r.user_id.as_deref().map(str::to_string),
                    r.vpc_peering_connection_id.as_deref().map(str::to_string),
                ),
                r.description.as_deref(),
            ),
            None => problems.push(format!(
                "group reference without a group id (name `{}`)",
                r.group_name.as_deref().unwrap_or("-")
            )),
        }
    }
    for pr in problems {
        g.problems.push(format!("{} rule {}: {pr}", dir, index + 1));
    }
}

/// Folds the answers of an ENI's rules, in order, into a decision: the first rule that matches
/// allows; failing that, the first rule that could match but cannot be resolved makes the
/// decision unresolved.
#[derive(Default)]
pub(crate) struct SgFold<'a> {
    unresolved: Option<&'a SgRule>,
}

impl<'a> SgFold<'a> {
    /// Takes a rule's answer (`None`: cannot tell); `Some` when the rule decides.
    pub(crate) fn see(&mut self, rule: &'a SgRule, hit: Option<bool>) -> Option<SgDecision<'a>> {
        match hit {
            Some(true) => Some(SgDecision::Allow(rule)),
            Some(false) => None,
            None => {
                self.unresolved.get_or_insert(rule);
                None
            }
        }
    }

    /// The decision once no rule allowed.
    pub(crate) fn finish(self, missing_groups: bool) -> SgDecision<'a> {
        match self.unresolved {
            Some(r) => SgDecision::Unresolved(r),
            None if missing_groups => SgDecision::MissingGroups,
            None => SgDecision::Deny,
        }
    }
}

/// The decision of an ENI's security groups for one packet in one direction.
#[derive(Debug, Clone, Copy)]
pub enum SgDecision<'a> {
    /// This rule allows it (the first matching rule, in group and rule order).
    Allow(&'a SgRule),
    /// No rule allows it.
    Deny,
    /// No known rule allows it, but this rule could: it references a group or prefix list whose
    /// members are not in the snapshot.
    Unresolved(&'a SgRule),
    /// No known rule allows it, and some attached groups are not in the snapshot.
    MissingGroups,
}
