//! The VPC peering hop: from one VPC to the other side of an active peering connection.

use super::*;

impl<'n> Walker<'n> {
    pub(super) fn via_peering(&mut self, vpc: &str, pcx: &str, mut pkt: Pkt) -> Step {
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
}
