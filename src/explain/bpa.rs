//! VPC Block Public Access for a record: whether the record's peer is reached through an
//! internet or egress-only internet gateway of the ENI's subnet, what BPA does with that
//! connection, and what a record's `reject-reason` (`BPA`) says against it.

use super::*;
use crate::bpa::{Initiated, Judgement, Outcome, Path};
use crate::route::Target;

impl<'n> Explainer<'n> {
    /// The BPA check of a record at `eni`, when its peer is on the internet through a gateway
    /// of the ENI's subnet and the snapshot has BPA options; `None` otherwise (no cost beyond
    /// one test for a snapshot without BPA data).
    pub(crate) fn bpa(
        &self,
        eni: usize,
        direction: Direction,
        role: Role,
        peer: IpAddr,
    ) -> Option<(Decided<'n>, &'n Judgement)> {
        let net = self.net;
        if net.bpa_table.is_empty() || crate::query::is_private(peer) {
            return None;
        }
        let en = &net.enis[eni];
        let subnet = en.subnet?;
        let rt = net.subnets[subnet].route_table?;
        let mut unresolved = Vec::new();
        let m = net.route_tables[rt].lookup(peer, &net.prefix_lists, &mut unresolved)?;
        let nat = en.interface_type.as_deref() == Some("nat_gateway");
        let path = match m.route.target {
            Target::InternetGateway(_) if nat => Path::NatGateway,
            Target::InternetGateway(_) => Path::InternetGateway,
            Target::EgressOnlyInternetGateway(_) => Path::EgressOnly,
            _ => return None,
        };
        let init = match (direction, role) {
            (Direction::Outbound, Role::Request) | (Direction::Inbound, Role::Response) => {
                Initiated::FromInside
            }
            _ => Initiated::FromInternet,
        };
        let conflict = (path == Path::NatGateway && init == Initiated::FromInside)
            .then(|| net.bpa_nat_judgement(eni))
            .flatten();
        let j = match conflict {
            Some(j) => j,
            None => net.bpa_judgement(subnet, path, init)?,
        };
        Some((
            Decided::Bpa {
                subnet,
                path,
                init,
                outcome: j.outcome,
                nat_conflict: conflict.map(|_| eni),
            },
            j,
        ))
    }

    /// Hints for a contradiction that involves BPA: a REJECT whose `reject-reason` is `BPA`
    /// where the model lets BPA pass it (naming the exclusion that should have let it through,
    /// or the mode), and an ACCEPT the model says BPA blocks (naming the mode).
    pub(crate) fn bpa_hints(&self, c: &Core<'n>, r: &FlowRecord) -> Vec<Cow<'static, str>> {
        let mut h: Vec<Cow<'static, str>> = Vec::new();
        let (Some(eni), Some(direction), Some(role), Some(peer)) =
            (c.eni, c.direction, c.role, c.peer)
        else {
            return h;
        };
        let judged = self.bpa(eni, direction, role, peer).map(|(_, j)| j);
        if c.reject_bpa && c.code != Code::VpcBlockPublicAccess {
            let said = "the record says VPC Block Public Access rejected it (reject-reason BPA)";
            h.push(match judged {
                Some(j) if j.outcome == Outcome::Allow && !j.exclusions.is_empty() => format!(
                    "{said}, but {} should have let it through: {}",
                    j.exclusions.join(", "),
                    j.detail
                )
                .into(),
                Some(j) => format!("{said}, but in the snapshot {}", j.detail).into(),
                None if self.net.bpa.is_empty() => format!(
                    "{said}, but VPC Block Public Access state was not in the snapshot (describe-vpc-block-public-access-options)"
                )
                .into(),
                None => format!(
                    "{said}, but in the snapshot this traffic does not pass an internet or egress-only internet gateway of the ENI's subnet"
                )
                .into(),
            });
        }
        if r.action == Some(Action::Accept) && c.code == Code::VpcBlockPublicAccess {
            if let Some(j) = judged {
                h.push(
                    format!(
                        "the configuration says VPC Block Public Access ({}) blocks it, but it was accepted: the mode or an exclusion may have changed since the snapshot ({})",
                        j.mode.map(|m| m.as_str()).unwrap_or("unknown mode"),
                        j.detail
                    )
                    .into(),
                );
            }
        }
        h
    }
}
