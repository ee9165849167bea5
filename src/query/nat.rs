//! The NAT gateway hop: source translation to the gateway's address, and the way back.

use super::*;

impl<'n> Walker<'n> {
    pub(super) fn via_nat(&mut self, subnet: usize, nat_id: &str, mut pkt: Pkt) -> Step {
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
}
