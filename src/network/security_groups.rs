//! Security-group evaluation against the model: the ENI's rules in order, with prefix lists and
//! group references resolved through the network (aws-semantics 1–5).

use super::*;
use crate::security_group::{SgDecision, SgFold};

impl Network {
    /// Evaluates an ENI's security groups (aws-semantics 1–5): allowed when any rule of any
    /// attached group matches the protocol, port (or ICMP type/code) and peer. `refs` says
    /// whether group references can match the peer at all (same VPC or a peering; `None`: cannot
    /// tell, the peer may be in a peered VPC the snapshot lacks).
    #[allow(clippy::too_many_arguments)]
    pub fn sg_evaluate(
        &self,
        eni: usize,
        dir: Direction,
        peer: IpAddr,
        proto: crate::Protocol,
        port: Option<u16>,
        icmp: Option<(u8, u8)>,
        refs: Option<bool>,
    ) -> SgDecision<'_> {
        let mut fold = SgFold::default();
        for rule in self.eni_rules(eni, dir) {
            if !rule.matches_header(proto, port, icmp) {
                continue;
            }
            let hit = match &rule.peer {
                SgPeer::Cidr { cidr } => Some(cidr.contains(&peer)),
                SgPeer::PrefixList { id } => self
                    .prefix_list(id)
                    .map(|cidrs| cidrs.iter().any(|c| c.contains(&peer))),
                SgPeer::Group(g) => match refs {
                    Some(true) => self.group_has_member(&g.id, peer),
                    Some(false) => Some(false),
                    None => None,
                },
            };
            if let Some(decided) = fold.see(rule, hit) {
                return decided;
            }
        }
        fold.finish(!self.enis[eni].missing_groups.is_empty())
    }

    /// Whether security-group references can match traffic between an ENI and a peer address:
    /// `Some(true)` when the peer is an ENI of the same VPC or of a VPC joined by an active
    /// peering; `None` when the peer lies in an actively peered VPC that the snapshot lacks (its
    /// members cannot be known); `Some(false)` otherwise.
    pub fn refs_apply(&self, eni: usize, peer: IpAddr) -> Option<bool> {
        self.refs_apply_among(eni, peer, self.enis_with_private_ip(peer))
    }

    /// [`Network::refs_apply`] given the ENIs holding `peer` ([`Network::enis_with_private_ip`](crate::NetworkBase::enis_with_private_ip)).
    pub(crate) fn refs_apply_among(
        &self,
        eni: usize,
        peer: IpAddr,
        holders: &[usize],
    ) -> Option<bool> {
        let vpc = self.enis[eni].vpc_id.as_deref()?;
        let peered = |pv: &str| {
            pv == vpc
                || self
                    .peerings
                    .values()
                    .any(|c| c.active && c.other_side(vpc) == Some(pv))
        };
        if holders
            .iter()
            .any(|&p| self.enis[p].vpc_id.as_deref().is_some_and(peered))
        {
            return Some(true);
        }
        for c in self.peerings.values().filter(|c| c.active) {
            let (other, cidrs) = if c.requester.as_deref() == Some(vpc) {
                (c.accepter.as_deref(), &c.accepter_cidrs)
            } else if c.accepter.as_deref() == Some(vpc) {
                (c.requester.as_deref(), &c.requester_cidrs)
            } else {
                continue;
            };
            let missing = other.is_none_or(|o| self.vpc(o).is_none());
            if missing && cidrs.iter().any(|n| n.contains(&peer)) {
                return None;
            }
        }
        Some(false)
    }
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
