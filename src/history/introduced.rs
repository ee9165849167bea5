//! Which change introduced a finding (`audit --history`): going back through the history from
//! the time judged, the newest change before which the finding's witness was not what it is.

use super::{at, Event};
use crate::audit::finding::{Finding, FindingStatus, IntroducedBy, Witness};
use crate::network::Network;
use crate::protocol::Protocol;
use crate::query::{Endpoint, Query};
use crate::security_group::{Direction, SgDecision};
use crate::snapshot::Snapshot;
use crate::timestamp::Rfc3339;
use crate::trace::Verdict;
use std::collections::HashMap;
use std::net::IpAddr;

/// Sets [`Finding::introduced_by`] on the findings whose witness is a connection that is
/// possible or not (`exposed`, `not_allowed`, `blocked`, `latent`) in `model`, the network at
/// `t` (`snapshot`, taken at `snapshot_time`, with the changes of `events` after `t` undone):
/// the newest change at or before `t` before which the witness was not what it is. For
/// `exposed`, `not_allowed` and `blocked` that is its end-to-end verdict; for `latent` (a
/// security group allows it, something else stops it) it is both the end-to-end verdict and
/// whether the destination's security groups allow it inbound, so that the change that added
/// the rule (or the one that stopped the path) is named. A witness whose state no change in
/// the history altered, or whose ends are not known before a change (left out of the model
/// then), gets none.
pub fn introduced_by(
    snapshot: &Snapshot,
    snapshot_time: i64,
    events: &[Event],
    t: i64,
    model: &Network,
    findings: &mut [Finding],
) {
    let candidates: Vec<usize> = (0..events.len())
        .filter(|&j| events[j].time <= t && events[j].time <= snapshot_time)
        .collect();
    // The model just before each change, built when a finding first needs it.
    let mut before: HashMap<usize, Network> = HashMap::new();
    for f in findings.iter_mut() {
        if !matches!(
            f.status,
            FindingStatus::Exposed
                | FindingStatus::NotAllowed
                | FindingStatus::Blocked
                | FindingStatus::Latent
        ) {
            continue;
        }
        let latent = f.status == FindingStatus::Latent;
        let Some(w) = f.witness.clone() else {
            continue;
        };
        let Some(now) = state(model, &w, latent) else {
            continue;
        };
        for &j in candidates.iter().rev() {
            let net = before.entry(j).or_insert_with(|| {
                let undone = at(snapshot, events, snapshot_time, events[j].time - 1);
                Network::build(&undone.snapshot)
            });
            match state(net, &w, latent) {
                Some(v) if v == now => continue,
                Some(_) => {
                    let e = &events[j];
                    f.introduced_by = Some(Box::new(IntroducedBy {
                        event_id: e.event_id.clone(),
                        time: Rfc3339(e.time).to_string(),
                        api: e.api.clone(),
                        principal: e.principal.clone(),
                        source_ip: e.source_ip.clone(),
                    }));
                    break;
                }
                // An end not known before this change: what it introduced is not known.
                None => break,
            }
        }
    }
}

/// The verdict of a witness's connection in `net`, when both ends resolve, and with `sg`
/// whether the destination ENI's security groups allow it inbound (`None` when the
/// destination is no ENI).
fn state(net: &Network, w: &Witness, sg: bool) -> Option<(Verdict, Option<bool>)> {
    let v = verdict(net, w)?;
    if !sg {
        return Some((v, None));
    }
    let (to, _) = net.resolve(&w.dst).ok()?;
    let (Endpoint::Eni { eni, .. } | Endpoint::PublicIp { eni, .. }) = to else {
        return Some((v, None));
    };
    let src: IpAddr = w.src.parse().ok()?;
    let protocol: Protocol = w.protocol.parse().ok()?;
    let port = w.port.filter(|_| protocol.has_ports());
    let refs = net.enis[eni]
        .vpc_id
        .as_deref()
        .map(|vpc| net.vpc_contains(vpc, src));
    let allows = matches!(
        net.sg_evaluate(eni, Direction::Inbound, src, protocol, port, None, refs),
        SgDecision::Allow(_)
    );
    Some((v, Some(allows)))
}

/// The verdict of a witness's connection in `net`, when both ends resolve.
fn verdict(net: &Network, w: &Witness) -> Option<Verdict> {
    let from = net.resolve(&w.src).ok()?;
    let to = net.resolve(&w.dst).ok()?;
    let ((from, from_info), (to, to_info)) = net.orient(from, to).ok()?;
    let protocol: Protocol = w.protocol.parse().ok()?;
    let q = Query {
        from,
        to,
        protocol,
        port: w.port,
        src_port: None,
    };
    let trace = net.query_labeled(&q, from_info, to_info);
    match trace.verdict {
        Verdict::Unknown => None,
        v => Some(v),
    }
}
