//! The transit gateway hop: the attachment's route table, the next attachment, and its subnet in
//! the packet's availability zone.

use super::*;

/// The attachment's subnet in an availability zone (else its first subnet in the snapshot).
pub(super) fn attachment_subnet(
    net: &Network,
    att: &crate::network::TgwAttachmentInfo,
    az: Option<&str>,
) -> Option<usize> {
    let subnets: Vec<usize> = att
        .subnets
        .iter()
        .filter_map(|s| net.subnet_idx(s))
        .collect();
    subnets
        .iter()
        .copied()
        .find(|&i| az.is_some() && net.subnets[i].availability_zone.as_deref() == az)
        .or_else(|| subnets.first().copied())
}

impl<'n> Walker<'n> {
    pub(super) fn via_tgw(
        &mut self,
        vpc: &str,
        tgw: &str,
        az: Option<String>,
        mut pkt: Pkt,
    ) -> Step {
        let net = self.net;
        let att = net
            .tgw_attachments
            .values()
            .filter(|a| {
                a.tgw == tgw && a.resource_type == "vpc" && a.resource_id.as_deref() == Some(vpc)
            })
            .min_by(|a, b| a.id.cmp(&b.id));
        let Some(att) = att else {
            return Err(self.stop(
                (tgw, ComponentKind::TransitGateway),
                Layer::TransitGateway,
                vec![tgw.to_string()],
                format!("{vpc} has no attachment to transit gateway {tgw}"),
                Stop::Blocked(Reason::NoRoute),
            ));
        };
        if let Some(az) = &az {
            let subnet_azs: Vec<Option<&str>> = att
                .subnets
                .iter()
                .map(|s| {
                    net.subnet_idx(s)
                        .and_then(|i| net.subnets[i].availability_zone.as_deref())
                })
                .collect();
            let known = !subnet_azs.is_empty() && subnet_azs.iter().all(Option::is_some);
            if known && !subnet_azs.contains(&Some(az.as_str())) {
                return Err(self.stop((&att.id, ComponentKind::TransitGatewayAttachment), Layer::TransitGateway, vec![att.id.clone()], format!(
                        "attachment {} has no subnet in {az}, so resources there cannot reach {tgw}",
                        att.id
                    ), Stop::Blocked(Reason::TgwNoAttachmentInAz)));
            }
        }
        let Some(rtb) = att.route_table.clone() else {
            return Err(self.stop(
                (&att.id, ComponentKind::TransitGatewayAttachment),
                Layer::TransitGateway,
                vec![att.id.clone()],
                format!(
                    "attachment {} is not associated with a transit gateway route table",
                    att.id
                ),
                Stop::Blocked(Reason::NoRoute),
            ));
        };
        let routes = net
            .tgw_route_tables
            .get(&rtb)
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let best = routes
            .iter()
            .filter(|r| r.destination.contains(&pkt.dst))
            .max_by_key(|r| (r.destination.prefix_len(), r.route_type == "static"));
        let Some(best) = best else {
            return Err(self.stop(
                (&rtb, ComponentKind::TransitGateway),
                Layer::TransitGateway,
                vec![rtb.clone()],
                format!(
                    "transit gateway route table {rtb} has no route to {}",
                    pkt.dst
                ),
                Stop::Blocked(Reason::NoRoute),
            ));
        };
        let mut check = Self::simple(
            Layer::TransitGateway,
            Decision::Allow,
            vec![rtb.clone()],
            format!(
                "{} matches {} route {} → {}",
                pkt.dst,
                best.route_type,
                best.destination,
                best.attachment.as_deref().unwrap_or("(none)")
            ),
        );
        check.rule = rule_json(best);
        if best.blackhole {
            check.decision = Decision::Deny;
            check.detail = format!(
                "{} matches blackhole route {} in {rtb}",
                pkt.dst, best.destination
            );
            return Err(self.deny(
                &rtb,
                ComponentKind::TransitGateway,
                check,
                Reason::BadStateRoute,
            ));
        }
        // Entering the attachment: its subnet's NACL judges the traffic inbound (by source),
        // also when the source is in that same subnet (AWS's rules for transit gateway NACLs).
        if let Some(ts) = attachment_subnet(net, att, az.as_deref()) {
            self.nacl_check(ts, Direction::Inbound, &mut pkt)?;
        }
        self.push(tgw, ComponentKind::TransitGateway, check);
        let next = best
            .attachment
            .as_ref()
            .and_then(|a| net.tgw_attachments.get(a));
        let Some(next) = next.filter(|n| n.resource_type == "vpc") else {
            let id = best.attachment.clone().unwrap_or_default();
            let what = next
                .map(|n| n.resource_type.clone())
                .unwrap_or_else(|| "unknown".into());
            return Err(self.stop(
                (&id, ComponentKind::TransitGatewayAttachment),
                Layer::NotModelled,
                vec![id.clone()],
                format!("the next hop is attachment {id} of type {what}, not modelled"),
                Stop::Unknown(Reason::NotModelled),
            ));
        };
        let Some(dst_vpc) = next.resource_id.clone() else {
            return Err(self.no_interface(
                &next.id,
                ComponentKind::TransitGatewayAttachment,
                pkt.dst,
                "the attached VPC",
            ));
        };
        pkt.refs_ok = false;
        if net.vpc_contains(&dst_vpc, pkt.dst) {
            let Some(dst) = net.eni_by_private_ip(pkt.dst, Some(&dst_vpc)) else {
                return Err(self.no_interface(&dst_vpc, ComponentKind::Vpc, pkt.dst, &dst_vpc));
            };
            // Leaving the attachment: its subnet's NACL outbound, then the destination subnet's
            // inbound; neither when both are one subnet.
            let dst_az = net.enis[dst].availability_zone.clone();
            let ts = attachment_subnet(net, next, dst_az.as_deref());
            let ds = net.enis[dst].subnet;
            if ts.is_none() || ts != ds {
                self.cross(ts, ds, &mut pkt)?;
            }
            return self.arrive_eni(dst, pkt);
        }
        // Not for this VPC: the attachment subnet's route table decides (e.g. central egress).
        let sub = next.subnets.iter().find_map(|s| net.subnet_idx(s));
        match sub {
            Some(si) => self.route_from_subnet(si, pkt, None),
            None => Err(self.no_interface(&dst_vpc, ComponentKind::Vpc, pkt.dst, &dst_vpc)),
        }
    }
}
