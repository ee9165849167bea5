//! Each change with its effect on reachability (`vpcreach changes`): the model just before and
//! just after it, compared with [`crate::diff::diff`].

use super::{config_known_before, undo, Event};
use crate::diff::Delta;
use crate::network::Network;
use crate::snapshot::Snapshot;
use serde::Serialize;

/// What a change did to reachability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// Traffic allowed after and not before.
    Opened,
    /// Traffic allowed before and not after.
    Closed,
    /// Both.
    OpenedAndClosed,
    /// Nothing the filters allow changed.
    Unchanged,
    /// Not known: the earlier state is not known, or the change is of a kind not compared.
    Unknown,
}

/// One change and its effect.
#[derive(Debug, Clone)]
pub struct Effected {
    /// The change.
    pub event: Event,
    /// Its effect.
    pub effect: Effect,
    /// Why the effect is `unknown`.
    pub reason: Option<String>,
    /// What it opened and closed (empty when unknown).
    pub delta: Delta,
}

/// The changes of `events` (sorted by time) from `since` (inclusive) to `until` (exclusive),
/// oldest first, each with its effect; `snap` was taken at `snapshot_time`, and changes after it
/// are not in it (they are left out: the caller says so).
pub fn effects(
    snap: &Snapshot,
    events: &[Event],
    snapshot_time: i64,
    since: Option<i64>,
    until: Option<i64>,
) -> Vec<Effected> {
    let mut out = Vec::new();
    let mut state = snap.clone();
    let mut after_net: Option<Network> = None;
    for i in (0..events.len()).rev() {
        let e = &events[i];
        if e.time > snapshot_time {
            continue;
        }
        if since.is_some_and(|s| e.time < s) {
            // Older than the window: nothing more to show.
            break;
        }
        let shown = until.is_none_or(|u| e.time < u);
        let already: Option<String> = e.change.resources().iter().find_map(|r| {
            state
                .withheld
                .get(r)
                .map(|w| format!("`{r}` is left out: {w}"))
        });
        // The model after `e` is the model before the next (newer) change.
        let after = match after_net.take() {
            Some(n) => n,
            None => Network::build(&state),
        };
        let why =
            undo(&mut state, events, i).or_else(|| config_known_before(snap, events, i).err());
        // An interface the change concerns that is left out before or after it: what the
        // change did there is not known.
        let already = already.or_else(|| {
            concerned(snap, e).into_iter().find_map(|id| {
                state
                    .withheld
                    .get(&id)
                    .filter(|w| !w.is_empty())
                    .map(|w| format!("`{id}` is left out at that time: {w}"))
            })
        });
        let before_net = Network::build(&state);
        if shown {
            let resources = e.change.resources();
            let known = resources
                .iter()
                .any(|r| in_snapshot(&state, r) || in_snapshot(snap, r));
            // A change to a NACL that holds an entry of unknown content (before or after it):
            // what the change did depends on that entry, so it is not known either.
            let rule_unknown = || unknown_rule(&before_net, e).or_else(|| unknown_rule(&after, e));
            let (effect, reason, delta) = if let Some(w) = why.or(already).or_else(rule_unknown) {
                (Effect::Unknown, Some(w), Delta::default())
            } else if !known {
                (
                    Effect::Unknown,
                    Some(format!(
                        "{} not in the snapshot (another account or Region, or gone before it was taken): what the change did is not known",
                        resources
                            .iter()
                            .map(|r| format!("`{r}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                            + if resources.len() == 1 { " is" } else { " are" }
                    )),
                    Delta::default(),
                )
            } else {
                // Routes end to end, filters exactly.
                let d = if e.change.is_routing() {
                    routes_delta(&before_net, &after, e)
                } else {
                    crate::diff::diff(&before_net, &after)
                };
                if !d.undecided.is_empty() {
                    // What it did reaches an entry of unknown content somewhere.
                    let why = format!(
                        "what it did depends on a network ACL entry of unknown content at that time: {}",
                        d.undecided.join("; ")
                    );
                    (Effect::Unknown, Some(why), Delta::default())
                } else {
                    let effect = match (d.opened.is_empty(), d.closed.is_empty()) {
                        (true, true) => Effect::Unchanged,
                        (false, true) => Effect::Opened,
                        (true, false) => Effect::Closed,
                        (false, false) => Effect::OpenedAndClosed,
                    };
                    (effect, None, d)
                }
            };
            out.push(Effected {
                event: e.clone(),
                effect,
                reason,
                delta,
            });
        }
        after_net = Some(before_net);
    }
    out.reverse();
    out
}

/// When `e` changes a network ACL (an entry, an association, an AWS Config item of it) that
/// holds, in `net`, an entry of unknown content (in the changed entry's direction): why what
/// the change did is not known, naming that entry and the change that made it unknown.
fn unknown_rule(net: &Network, e: &Event) -> Option<String> {
    use super::{Change, ConfigKind};
    use crate::security_group::Direction;
    let (acl, dirs): (&str, &[Direction]) = match &e.change {
        Change::NaclEntry { acl_id, egress, .. } => (
            acl_id,
            if *egress {
                &[Direction::Outbound]
            } else {
                &[Direction::Inbound]
            },
        ),
        Change::NaclAssociation { acl_id, .. } => {
            (acl_id, &[Direction::Inbound, Direction::Outbound])
        }
        Change::Config(item) if item.kind == ConfigKind::NetworkAcl => (
            &item.resource_id,
            &[Direction::Inbound, Direction::Outbound],
        ),
        _ => return None,
    };
    let nacl = net.nacls.iter().find(|n| n.id == acl)?;
    dirs.iter()
        .flat_map(|&d| nacl.rules(d))
        .find_map(|r| r.unknown.as_ref().map(|why| (r, why)))
        .map(|(r, why)| {
            format!(
                "`{acl}` {} rule {} is of unknown content at that time ({why}): what the change did depends on it",
                r.direction, r.rule_number
            )
        })
}

/// What a change of routes did, end to end ([`crate::diff::routes_delta`]): at the ENIs using
/// the route tables it names (or whose table it changed), towards the changed route's
/// destination and the internet (198.51.100.1, 2001:db8::1).
fn routes_delta(before: &Network, after: &Network, e: &Event) -> Delta {
    let tables: std::collections::BTreeSet<String> = e
        .change
        .resources()
        .into_iter()
        .filter(|r| r.starts_with("rtb-"))
        .collect();
    let mut targets: Vec<std::net::IpAddr> = Vec::new();
    if let super::Change::Route { route, .. } = &e.change {
        let dest = route
            .destination_cidr_block
            .as_deref()
            .or(route.destination_ipv6_cidr_block.as_deref())
            .and_then(|d| d.parse::<ipnet::IpNet>().ok());
        if let Some(d) = dest {
            // A host of the destination: the internet's documentation address when the
            // destination holds it, else the destination's first address after its network one.
            let doc: std::net::IpAddr = if d.addr().is_ipv6() {
                std::net::IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])
            } else {
                std::net::IpAddr::from([198, 51, 100, 1])
            };
            let host = if d.contains(&doc) {
                doc
            } else {
                d.hosts().next().unwrap_or(d.addr())
            };
            targets.push(host);
        }
    }
    for doc in [
        std::net::IpAddr::from([198, 51, 100, 1]),
        std::net::IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]),
    ] {
        if !targets.contains(&doc) {
            targets.push(doc);
        }
    }
    crate::diff::routes_delta(before, after, &tables, &targets)
}

/// Whether `id` names a security group, network ACL, route table, subnet, VPC, ENI or instance
/// of `s` (or an association of one of its NACLs or route tables).
fn in_snapshot(s: &Snapshot, id: &str) -> bool {
    s.security_groups.iter().any(|g| g.group_id == id)
        || s.network_acls.iter().any(|a| {
            a.network_acl_id == id
                || a.associations
                    .iter()
                    .any(|x| x.network_acl_association_id.as_deref() == Some(id))
        })
        || s.route_tables.iter().any(|t| {
            t.route_table_id == id
                || t.associations
                    .iter()
                    .any(|x| x.route_table_association_id.as_deref() == Some(id))
        })
        || s.subnets.iter().any(|x| x.subnet_id == id)
        || s.vpcs.iter().any(|x| x.vpc_id == id)
        || s.network_interfaces
            .iter()
            .any(|x| x.network_interface_id == id)
        || s.instances.iter().any(|x| x.instance_id == id)
}

/// The interfaces of the snapshot a change concerns: those it names, those using a group it
/// names, those in a subnet it names or whose NACL it names.
fn concerned(snap: &Snapshot, e: &Event) -> Vec<String> {
    let ids: std::collections::BTreeSet<String> = e.change.resources().into_iter().collect();
    let mut subnets: std::collections::BTreeSet<&str> = snap
        .subnets
        .iter()
        .filter(|s| ids.contains(&s.subnet_id))
        .map(|s| s.subnet_id.as_str())
        .collect();
    for a in snap
        .network_acls
        .iter()
        .filter(|a| ids.contains(&a.network_acl_id))
    {
        subnets.extend(a.associations.iter().filter_map(|x| x.subnet_id.as_deref()));
        if a.is_default == Some(true) {
            subnets.extend(
                snap.subnets
                    .iter()
                    .filter(|s| s.vpc_id == a.vpc_id)
                    .map(|s| s.subnet_id.as_str()),
            );
        }
    }
    snap.network_interfaces
        .iter()
        .chain(
            snap.instances
                .iter()
                .flat_map(|i| i.network_interfaces.iter()),
        )
        .filter(|n| {
            ids.contains(&n.network_interface_id)
                || n.groups.iter().any(|g| ids.contains(&g.group_id))
                || n.subnet_id.as_deref().is_some_and(|s| subnets.contains(s))
        })
        .map(|n| n.network_interface_id.clone())
        .collect()
}
