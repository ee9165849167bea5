//! The VPC Block Public Access check at the internet hop: one layer above routes, groups and
//! NACLs, judged at the internet or egress-only internet gateway for the subnet whose exclusion
//! counts ([`crate::bpa`]).

use super::*;
use crate::bpa::{Initiated, Outcome, Path};

/// The note of an answer whose internet path was judged without VPC Block Public Access data.
pub const NO_BPA_NOTE: &str = "VPC Block Public Access state was not in the snapshot (describe-vpc-block-public-access-options): taken as off, AWS's default";

impl<'n> Walker<'n> {
    /// Which side started the connection the packet belongs to, from the walk's mode and the
    /// packet's way (out to the internet, or in from it).
    pub(super) fn initiated(&self, outward: bool) -> Initiated {
        match (self.mode, outward) {
            (Mode::Request, true) | (Mode::Response, false) => Initiated::FromInside,
            _ => Initiated::FromInternet,
        }
    }

    fn note_once(&mut self, note: &str) {
        if !self.notes.iter().any(|n| n == note) {
            self.notes.push(note.to_string());
        }
    }

    /// Records BPA's decision at gateway `gw` for traffic of `subnet`, or stops the walk when
    /// BPA blocks it or cannot be settled.
    pub(super) fn bpa_check(
        &mut self,
        gw: &str,
        kind: ComponentKind,
        subnet: Option<usize>,
        path: Path,
        init: Initiated,
    ) -> Result<(), Stop> {
        let net = self.net;
        if net.bpa.is_empty() {
            self.note_once(NO_BPA_NOTE);
            return Ok(());
        }
        // A NAT gateway's connection: the IGW sees the NAT gateway's subnet, but the guide does
        // not say whether an exclusion of the connection's source subnet counts instead; where
        // the two would decide differently, the answer is unknown, naming both.
        if path == Path::NatGateway {
            let origin = self.nat.as_ref().and_then(|n| net.subnet_of(n.orig_src));
            if let (Some(s), Some(o)) = (subnet, origin.filter(|o| Some(*o) != subnet)) {
                if let (Some(a), Some(b)) = (
                    net.bpa_judgement(s, path, init),
                    net.bpa_judgement(o, path, init),
                ) {
                    if a.outcome != b.outcome && b.outcome != Outcome::NoData {
                        let mut resources = a.resources.clone();
                        resources.extend(b.resources.iter().cloned());
                        resources.dedup();
                        let detail = format!(
                            "at the NAT gateway's subnet {}: {}; at the connection's source subnet {}: {}; which of the two subnets' exclusions counts for a NAT gateway's traffic is not documented",
                            net.subnets[s].id, a.detail, net.subnets[o].id, b.detail
                        );
                        return Err(self.stop(
                            (gw, kind),
                            Layer::BlockPublicAccess,
                            resources,
                            detail,
                            Stop::Unknown(Reason::VpcBlockPublicAccessUnknown),
                        ));
                    }
                }
            }
        }
        let Some(j) = subnet.and_then(|s| net.bpa_judgement(s, path, init)) else {
            return Err(self.stop(
                (gw, kind),
                Layer::BlockPublicAccess,
                vec![gw.to_string()],
                "the subnet whose VPC Block Public Access exclusions would apply is not in the snapshot".into(),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        match j.outcome {
            Outcome::NoData => {
                let d = j.detail.clone();
                self.note_once(&d);
                Ok(())
            }
            Outcome::Allow => {
                let check = Self::simple(
                    Layer::BlockPublicAccess,
                    Decision::Allow,
                    j.resources.clone(),
                    j.detail.clone(),
                );
                self.push(gw, kind, check);
                Ok(())
            }
            Outcome::Deny => Err(self.stop(
                (gw, kind),
                Layer::BlockPublicAccess,
                j.resources.clone(),
                j.detail.clone(),
                Stop::Blocked(Reason::VpcBlockPublicAccess),
            )),
            Outcome::Unknown => Err(self.stop(
                (gw, kind),
                Layer::BlockPublicAccess,
                j.resources.clone(),
                j.detail.clone(),
                Stop::Unknown(Reason::VpcBlockPublicAccessUnknown),
            )),
        }
    }
}
