//! The snapshot at another time: later changes undone (newest first), or changes applied
//! forward. What an undo needs and the history does not hold is never guessed. The content of
//! a deleted or replaced NACL entry: the NACL keeps an entry of unknown content at that rule
//! number and direction ([`crate::snapshot::NetworkAcl::unknown_entries`]) naming the change,
//! so that what reaches it is `unknown` and what an entry of a lower number decides stays
//! exact. Anything else (the old target of a replaced route, a deleted group's rules, an
//! interface's earlier groups, …): the resource is withheld ([`crate::Snapshot::withheld`])
//! naming the change, and so is everything that depends on it.
//!
//! AWS Config items ([`Change::Config`]) are states, not calls: how they join is said at
//! [`at`]. In short: a resource is its newest item's state at a time after it (with the later
//! CloudTrail changes to it applied forward), an undo needing earlier content takes it from the
//! newest earlier event or item, and a `ResourceNotRecorded` item tells nothing.

use super::parse::{norm_ports, norm_protocol};
use super::{Change, ConfigItem, ConfigKind, ConfigState, Event, Op, Peer, SgRule};
use crate::snapshot::{
    GroupIdentifier, IpPermission, IpRange, Ipv6Range, NetworkAclAssociation, NetworkAclEntry,
    PrefixListRef, Route, RouteTableAssociation, SecurityGroup, Snapshot, UnknownNaclEntry,
    UserIdGroupPair,
};
use std::collections::BTreeSet;

/// The snapshot turned back to a time.
#[derive(Debug, Clone)]
pub struct Undone {
    /// The configuration at that time (resources the history cannot tell about are withheld).
    pub snapshot: Snapshot,
    /// Changes undone, newest first.
    pub undone: usize,
    /// Changes after the snapshot's time (not in it, so not undone), passed by.
    pub after_snapshot: usize,
    /// The changes that could not be undone exactly, with why (event id, reason).
    pub unknown: Vec<(String, String)>,
}

/// The configuration at `t`: `snap` (taken at `snapshot_time`) with every change of `events`
/// (sorted by time) after `t` and not after `snapshot_time` undone, newest first.
///
/// AWS Config items join in this way (each says "from its capture time on, resource R is
/// exactly this"):
/// - **Forward from an item.** Where an item of R at or before `t` is the newest known for R
///   at `t`, R at `t` is exactly that item's state, with the CloudTrail changes to R between the
///   item and `t` applied forward. If one of those changes does not fit the item's state (a rule
///   it revokes is not there, an entry it creates already is), the item is not used and R is
///   what undoing the later changes gives. A resource already left out (withheld) by an undo
///   stays left out. At (or after) the snapshot's own time, the snapshot is the state.
/// - **Undoing across an item** (going back past its capture time): R is first set to the
///   item's state, then to the state just before it: the previous item of R with the CloudTrail
///   changes in between applied forward. With no previous item (or one that does not fit), R
///   stays the item's state and the earlier CloudTrail changes are undone from it.
/// - **Feeding CloudTrail undos.** An undo that needs earlier content (a deleted or replaced
///   NACL entry, a replaced or deleted route, an interface's earlier groups, a deleted group's
///   rules, which NACL or route table an association belonged to, whether a revoked rule
///   existed) takes it from the newest earlier event *or item* that tells: this makes exact
///   what CloudTrail alone leaves unknown.
/// - `ResourceDeleted` / `ResourceDeletedNotRecorded`: R does not exist (an interface is kept:
///   its other fields are in no item). `ResourceNotRecorded` says nothing: the item is passed by
///   in the model (nothing is guessed from it), and `changes` shows its effect as unknown.
pub fn at(snap: &Snapshot, events: &[Event], snapshot_time: i64, t: i64) -> Undone {
    let mut out = Undone {
        snapshot: snap.clone(),
        undone: 0,
        after_snapshot: events.iter().filter(|e| e.time > snapshot_time).count(),
        unknown: Vec::new(),
    };
    for i in (0..events.len()).rev() {
        let e = &events[i];
        if e.time > snapshot_time || e.time <= t {
            continue;
        }
        out.undone += 1;
        if let Some(why) = undo(&mut out.snapshot, events, i) {
            out.unknown.push((e.event_id.clone(), why));
        }
    }
    finish_at(snap, &mut out.snapshot, events, snapshot_time, t);
    out
}

/// The last step of [`at`]: `state` is `snap` with the changes of `events` after `t` (and not
/// after `snapshot_time`) undone, newest first, by [`undo`]; this joins the AWS Config items
/// at `t` and names the interfaces left out by their other names, as [`at`] does. A caller
/// that undoes the changes itself (from a state it keeps, say) gets the same configuration as
/// [`at`] with this.
pub fn finish_at(
    snap: &Snapshot,
    state: &mut Snapshot,
    events: &[Event],
    snapshot_time: i64,
    t: i64,
) {
    config_anchor(state, events, snapshot_time, t);
    // The other names of the ENIs left out, from the snapshot that still holds them.
    if state.withheld.len() > snap.withheld.len() {
        let withheld = &state.withheld;
        let named = snap.aliases_of(|e| withheld.contains_key(&e.network_interface_id));
        for (alias, id) in named {
            state.withheld_aliases.entry(alias).or_insert(id);
        }
    }
}

/// Undoes `events[i]` in `state` (the configuration just after it), using what the earlier
/// events `events[..i]` say. Returns why, when it could not be undone exactly: something had
/// to be withheld, or a NACL entry's earlier content is not known (the NACL then holds an
/// entry of unknown content there, see [`crate::snapshot::NetworkAcl::unknown_entries`]).
pub fn undo(state: &mut Snapshot, events: &[Event], i: usize) -> Option<String> {
    let e = &events[i];
    let earlier = &events[..i];
    let why = undo_change(state, e, earlier);
    if let Some(why) = &why {
        let reason = inexact(e, why);
        if !rule_unknown(state, e, &reason) {
            for id in withhold_targets(state, e) {
                withhold(state, &id, &reason);
            }
        }
    }
    cascade(state);
    why
}

/// Why `e` cannot be undone exactly, naming it.
fn inexact(e: &Event, why: &str) -> String {
    format!("history: {} cannot be undone: {why}", e.named())
}

/// Whether undoing `e` left an entry of unknown content in its NACL (with `reason`) rather
/// than something to withhold.
fn rule_unknown(state: &Snapshot, e: &Event, reason: &str) -> bool {
    let Change::NaclEntry {
        acl_id,
        rule_number,
        egress,
        ..
    } = &e.change
    else {
        return false;
    };
    state
        .network_acls
        .iter()
        .filter(|a| &a.network_acl_id == acl_id)
        .flat_map(|a| a.unknown_entries.iter())
        .any(|u| u.rule_number == *rule_number && u.egress == *egress && u.why == reason)
}

/// Applies `e` forward to `state` (the configuration just before it). An `Err` says what in
/// the state the event does not fit (a rule it revokes is not there, …).
pub fn apply(state: &mut Snapshot, e: &Event) -> Result<(), String> {
    match &e.change {
        Change::Authorize {
            group_id,
            egress,
            rules,
        } => {
            let sg = find_sg(state, group_id)?;
            let mut flat = flatten(sg, *egress);
            for (r, _) in rules {
                if flat.contains(r) {
                    return Err(format!("{group_id} already has the rule"));
                }
                flat.insert(r.clone());
            }
            set_rules(sg, *egress, &flat);
        }
        Change::Revoke {
            group_id,
            egress,
            rules,
            requested,
            ..
        } => {
            let sg = find_sg(state, group_id)?;
            let mut flat = flatten(sg, *egress);
            for r in rules.as_ref().unwrap_or(requested) {
                flat.remove(r);
            }
            set_rules(sg, *egress, &flat);
        }
        Change::ModifyRules { .. } => return Err("rule ids are not in a snapshot".into()),
        Change::CreateGroup {
            group_id,
            group_name,
            vpc_id,
        } => {
            // A new VPC group has an allow-all outbound rule, not logged on its own.
            state.security_groups.push(SecurityGroup {
                group_id: group_id.clone(),
                group_name: group_name.clone().unwrap_or_default(),
                vpc_id: vpc_id.clone(),
                ip_permissions_egress: vec![IpPermission {
                    ip_protocol: "-1".into(),
                    ip_ranges: thin_vec::thin_vec![IpRange {
                        cidr_ip: "0.0.0.0/0".into(),
                        description: None,
                    }],
                    ..IpPermission::default()
                }],
                ..SecurityGroup::default()
            });
        }
        Change::DeleteGroup { group } => state.security_groups.retain(|g| &g.group_id != group),
        Change::NaclEntry {
            op,
            acl_id,
            rule_number,
            egress,
            entry,
        } => {
            let acl = state
                .network_acls
                .iter_mut()
                .find(|a| &a.network_acl_id == acl_id)
                .ok_or_else(|| format!("{acl_id} is not in the snapshot"))?;
            let pos = acl
                .entries
                .iter()
                .position(|x| x.rule_number == *rule_number && x.egress == *egress);
            match (op, pos, entry) {
                (Op::Create, None, Some(en)) => acl.entries.push(en.clone()),
                (Op::Replace, Some(p), Some(en)) => acl.entries[p] = en.clone(),
                (Op::Delete, Some(p), _) => {
                    acl.entries.remove(p);
                }
                _ => return Err(format!("{acl_id} rule {rule_number} does not fit the call")),
            }
        }
        Change::Route {
            op,
            route_table_id,
            route,
        } => {
            let rt = state
                .route_tables
                .iter_mut()
                .find(|r| &r.route_table_id == route_table_id)
                .ok_or_else(|| format!("{route_table_id} is not in the snapshot"))?;
            let pos = rt.routes.iter().position(|x| same_destination(x, route));
            match (op, pos) {
                (Op::Create, None) => rt.routes.push(route.clone()),
                (Op::Replace, Some(p)) => rt.routes[p] = route.clone(),
                (Op::Delete, Some(p)) => {
                    rt.routes.remove(p);
                }
                _ => return Err(format!("{route_table_id}: the route does not fit the call")),
            }
        }
        Change::GroupSet { target, groups } => set_groups(state, target, groups),
        Change::Config(item) => {
            if let Some(mini) = mini_of(state, item) {
                replace(state, item.kind, &item.resource_id, &mini);
            }
        }
        Change::NaclAssociation {
            association_id,
            acl_id,
            new_association_id,
        } => {
            let mut subnet = None;
            for a in &mut state.network_acls {
                if let Some(p) = a.associations.iter().position(|x| {
                    x.network_acl_association_id.as_deref() == Some(association_id.as_str())
                }) {
                    subnet = a.associations.remove(p).subnet_id;
                }
            }
            let acl = state
                .network_acls
                .iter_mut()
                .find(|a| &a.network_acl_id == acl_id)
                .ok_or_else(|| format!("{acl_id} is not in the snapshot"))?;
            acl.associations.push(NetworkAclAssociation {
                network_acl_association_id: new_association_id.clone(),
                network_acl_id: Some(acl_id.clone()),
                subnet_id: Some(subnet.ok_or("the association is not in the snapshot")?),
            });
        }
        Change::AssociateRouteTable {
            route_table_id,
            subnet_id,
            association_id,
        } => {
            let rt = state
                .route_tables
                .iter_mut()
                .find(|r| &r.route_table_id == route_table_id)
                .ok_or_else(|| format!("{route_table_id} is not in the snapshot"))?;
            rt.associations.push(RouteTableAssociation {
                main: Some(false),
                subnet_id: subnet_id.clone(),
                route_table_association_id: association_id.clone(),
                ..RouteTableAssociation::default()
            });
        }
        Change::ReplaceRouteTableAssociation {
            association_id,
            route_table_id,
            new_association_id,
        } => {
            let old = remove_rt_association(state, association_id)
                .ok_or("the association is not in the snapshot")?;
            let rt = state
                .route_tables
                .iter_mut()
                .find(|r| &r.route_table_id == route_table_id)
                .ok_or_else(|| format!("{route_table_id} is not in the snapshot"))?;
            rt.associations.push(RouteTableAssociation {
                route_table_association_id: new_association_id.clone(),
                ..old
            });
        }
        Change::DisassociateRouteTable { association_id } => {
            remove_rt_association(state, association_id)
                .ok_or("the association is not in the snapshot")?;
        }
    }
    Ok(())
}

fn remove_rt_association(state: &mut Snapshot, id: &str) -> Option<RouteTableAssociation> {
    for rt in &mut state.route_tables {
        if let Some(p) = rt
            .associations
            .iter()
            .position(|a| a.route_table_association_id.as_deref() == Some(id))
        {
            return Some(rt.associations.remove(p));
        }
    }
    None
}

fn find_sg<'s>(state: &'s mut Snapshot, id: &str) -> Result<&'s mut SecurityGroup, String> {
    state
        .security_groups
        .iter_mut()
        .find(|g| g.group_id == id)
        .ok_or_else(|| format!("{id} is not in the snapshot"))
}

/// For a rule change of a security group (`e`), with `state` the configuration just after it:
/// for each rule it names (in the event's order: the rules authorized, or those revoked), whether
/// undoing it turns that rule from present to absent or back. Every rule authorized does (its
/// undo checks the rule is there after, and removes it); a rule revoked does when it is not there
/// after, and otherwise the undo leaves it as it is (as when a later authorization is not in the
/// history). `None` for any other change, or when the group is not in `state`.
pub(crate) fn toggles(state: &Snapshot, e: &Event) -> Option<Vec<bool>> {
    match &e.change {
        Change::Authorize { rules, .. } => Some(vec![true; rules.len()]),
        Change::Revoke {
            group_id,
            egress,
            rules,
            requested,
            ..
        } => {
            let sg = state
                .security_groups
                .iter()
                .find(|g| &g.group_id == group_id)?;
            let after = flatten(sg, *egress);
            Some(
                rules
                    .as_ref()
                    .unwrap_or(requested)
                    .iter()
                    .map(|r| !after.contains(r))
                    .collect(),
            )
        }
        _ => None,
    }
}

/// A group's rules of one direction, one peer each.
pub(super) fn flatten(sg: &SecurityGroup, egress: bool) -> BTreeSet<SgRule> {
    let perms = if egress {
        &sg.ip_permissions_egress
    } else {
        &sg.ip_permissions
    };
    let mut out = BTreeSet::new();
    for p in perms {
        let protocol = norm_protocol(&p.ip_protocol);
        let (from, to) = norm_ports(
            &protocol,
            p.from_port.map(i64::from),
            p.to_port.map(i64::from),
        );
        let mut push = |peer| {
            out.insert(SgRule {
                protocol: protocol.clone(),
                from,
                to,
                peer,
            });
        };
        for r in &p.ip_ranges {
            push(Peer::Cidr4(r.cidr_ip.to_string()));
        }
        for r in &p.ipv6_ranges {
            push(Peer::Cidr6(r.cidr_ipv6.to_string()));
        }
        for r in &p.prefix_list_ids {
            push(Peer::PrefixList(r.prefix_list_id.to_string()));
        }
        for r in &p.user_id_group_pairs {
            if let Some(g) = &r.group_id {
                push(Peer::Group(g.to_string()));
            }
        }
    }
    out
}

/// Rewrites a group's rules of one direction from single-peer rules, keeping the descriptions
/// of the rules that stay.
fn set_rules(sg: &mut SecurityGroup, egress: bool, rules: &BTreeSet<SgRule>) {
    let perms = if egress {
        &mut sg.ip_permissions_egress
    } else {
        &mut sg.ip_permissions
    };
    // Descriptions of what was there.
    let mut descriptions = std::collections::BTreeMap::new();
    for p in perms.iter() {
        let protocol = norm_protocol(&p.ip_protocol);
        let (from, to) = norm_ports(
            &protocol,
            p.from_port.map(i64::from),
            p.to_port.map(i64::from),
        );
        let key = |peer| SgRule {
            protocol: protocol.clone(),
            from,
            to,
            peer,
        };
        for r in &p.ip_ranges {
            descriptions.insert(
                key(Peer::Cidr4(r.cidr_ip.to_string())),
                r.description.clone(),
            );
        }
        for r in &p.ipv6_ranges {
            descriptions.insert(
                key(Peer::Cidr6(r.cidr_ipv6.to_string())),
                r.description.clone(),
            );
        }
        for r in &p.prefix_list_ids {
            descriptions.insert(
                key(Peer::PrefixList(r.prefix_list_id.to_string())),
                r.description.clone(),
            );
        }
        for r in &p.user_id_group_pairs {
            if let Some(g) = &r.group_id {
                descriptions.insert(key(Peer::Group(g.to_string())), r.description.clone());
            }
        }
    }
    let mut out: Vec<IpPermission> = Vec::new();
    for r in rules {
        let description = descriptions.get(r).cloned().flatten();
        let idx = match out
            .iter()
            .position(|p| p.ip_protocol == r.protocol && p.from_port == r.from && p.to_port == r.to)
        {
            Some(i) => i,
            None => {
                out.push(IpPermission {
                    ip_protocol: r.protocol.as_str().into(),
                    from_port: r.from,
                    to_port: r.to,
                    ..IpPermission::default()
                });
                out.len() - 1
            }
        };
        let p = &mut out[idx];
        match &r.peer {
            Peer::Cidr4(c) => p.ip_ranges.push(IpRange {
                cidr_ip: c.as_str().into(),
                description,
            }),
            Peer::Cidr6(c) => p.ipv6_ranges.push(Ipv6Range {
                cidr_ipv6: c.as_str().into(),
                description,
            }),
            Peer::PrefixList(c) => p.prefix_list_ids.push(PrefixListRef {
                prefix_list_id: c.as_str().into(),
                description,
            }),
            Peer::Group(g) => p.user_id_group_pairs.push(UserIdGroupPair {
                group_id: Some(g.as_str().into()),
                description,
                ..UserIdGroupPair::default()
            }),
        }
    }
    *perms = out;
}

fn same_destination(a: &Route, b: &Route) -> bool {
    a.destination_cidr_block == b.destination_cidr_block
        && a.destination_ipv6_cidr_block == b.destination_ipv6_cidr_block
        && a.destination_prefix_list_id == b.destination_prefix_list_id
}

/// Sets the groups of an ENI (or an instance's primary ENI), wherever the snapshot lists it.
fn set_groups(state: &mut Snapshot, target: &str, groups: &[String]) {
    let ids: Vec<GroupIdentifier> = groups
        .iter()
        .map(|g| GroupIdentifier {
            group_id: g.clone(),
            group_name: None,
        })
        .collect();
    let primary = |e: &crate::snapshot::NetworkInterface| {
        e.attachment.as_ref().is_some_and(|a| {
            a.instance_id.as_deref() == Some(target) && a.device_index.unwrap_or(0) == 0
        })
    };
    for e in &mut state.network_interfaces {
        if e.network_interface_id == target || primary(e) {
            e.groups = ids.clone();
        }
    }
    for inst in &mut state.instances {
        let whole = inst.instance_id == target;
        for (k, e) in inst.network_interfaces.iter_mut().enumerate() {
            let first = whole
                && e.attachment
                    .as_ref()
                    .and_then(|a| a.device_index)
                    .map_or(k == 0, |d| d == 0);
            if e.network_interface_id == target || first {
                e.groups = ids.clone();
            }
        }
        if whole {
            inst.security_groups = ids.clone();
        }
    }
}

/// What `earlier` says a NACL entry was: `Some(None)` when it did not exist, `None` unknown.
pub(super) fn nacl_entry_before(
    earlier: &[Event],
    acl: &str,
    egress: bool,
    number: i64,
) -> Option<Option<NetworkAclEntry>> {
    earlier.iter().rev().find_map(|e| match &e.change {
        Change::NaclEntry {
            op,
            acl_id,
            rule_number,
            egress: eg,
            entry,
        } if acl_id == acl && *rule_number == number && *eg == egress => Some(match op {
            Op::Delete => None,
            _ => entry.clone(),
        }),
        Change::Config(item) if item.resource_id == acl => match &item.state {
            ConfigState::NetworkAcl(a) => Some(
                a.entries
                    .iter()
                    .find(|x| x.rule_number == number && x.egress == egress)
                    .cloned(),
            ),
            ConfigState::Deleted => Some(None),
            _ => None,
        },
        _ => None,
    })
}

/// What `earlier` says a route was: `Some(None)` when it did not exist, `None` unknown.
fn route_before(earlier: &[Event], rtb: &str, dest: &Route) -> Option<Option<Route>> {
    earlier.iter().rev().find_map(|e| match &e.change {
        Change::Route {
            op,
            route_table_id,
            route,
        } if route_table_id == rtb && same_destination(route, dest) => Some(match op {
            Op::Delete => None,
            _ => Some(route.clone()),
        }),
        Change::Config(item) if item.resource_id == rtb => match &item.state {
            ConfigState::RouteTable(t) => {
                Some(t.routes.iter().find(|x| same_destination(x, dest)).cloned())
            }
            ConfigState::Deleted => Some(None),
            _ => None,
        },
        _ => None,
    })
}

/// The content of a rule (by id) as an earlier event gave it.
fn rule_by_id(earlier: &[Event], id: &str) -> Option<(bool, SgRule)> {
    earlier.iter().rev().find_map(|e| match &e.change {
        Change::Authorize { egress, rules, .. } => rules
            .iter()
            .find(|(_, rid)| rid.as_deref() == Some(id))
            .map(|(r, _)| (*egress, r.clone())),
        Change::ModifyRules { rules, group_id } => rules
            .iter()
            .find(|(rid, _)| rid == id)
            .and_then(|(_, r)| direction_of(earlier, group_id, id).map(|eg| (eg, r.clone()))),
        _ => None,
    })
}

fn direction_of(earlier: &[Event], _group: &str, id: &str) -> Option<bool> {
    earlier.iter().rev().find_map(|e| match &e.change {
        Change::Authorize { egress, rules, .. } => rules
            .iter()
            .any(|(_, rid)| rid.as_deref() == Some(id))
            .then_some(*egress),
        _ => None,
    })
}

/// Whether the latest earlier event about this rule added it.
fn added_before(earlier: &[Event], group: &str, egress: bool, rule: &SgRule) -> bool {
    earlier
        .iter()
        .rev()
        .find_map(|e| match &e.change {
            Change::Authorize {
                group_id,
                egress: eg,
                rules,
            } if group_id == group && *eg == egress && rules.iter().any(|(r, _)| r == rule) => {
                Some(true)
            }
            Change::Revoke {
                group_id,
                egress: eg,
                rules,
                requested,
                ..
            } if group_id == group
                && *eg == egress
                && rules.as_ref().unwrap_or(requested).contains(rule) =>
            {
                Some(false)
            }
            Change::Config(item) if item.resource_id == group => match &item.state {
                ConfigState::SecurityGroup(sg) => Some(flatten(sg, egress).contains(rule)),
                _ => None,
            },
            _ => None,
        })
        .unwrap_or(false)
}

/// The undo proper; `Some(why)` when it cannot be done exactly.
fn undo_change(state: &mut Snapshot, e: &Event, earlier: &[Event]) -> Option<String> {
    if e.change
        .resources()
        .iter()
        .any(|r| state.withheld.contains_key(r))
    {
        // Already left out: nothing more to undo.
        return None;
    }
    match &e.change {
        Change::Authorize {
            group_id,
            egress,
            rules,
        } => {
            let sg = state
                .security_groups
                .iter_mut()
                .find(|g| &g.group_id == group_id)?;
            let mut flat = flatten(sg, *egress);
            for (r, _) in rules {
                if !flat.remove(r) {
                    return Some(format!(
                        "the rule it added is not in the later configuration of `{group_id}`"
                    ));
                }
            }
            set_rules(sg, *egress, &flat);
            None
        }
        Change::Revoke {
            group_id,
            egress,
            rules,
            requested,
            rule_ids,
        } => {
            let removed = match rules {
                Some(r) => r.clone(),
                None if rule_ids.is_empty()
                    && !requested.is_empty()
                    && requested
                        .iter()
                        .all(|r| added_before(earlier, group_id, *egress, r)) =>
                {
                    requested.clone()
                }
                None => {
                    return Some(format!(
                        "the event does not say which rules of `{group_id}` it removed (no `revokedSecurityGroupRuleSet`), and no earlier event does"
                    ))
                }
            };
            let sg = state
                .security_groups
                .iter_mut()
                .find(|g| &g.group_id == group_id)?;
            let mut flat = flatten(sg, *egress);
            for r in removed {
                flat.insert(r);
            }
            set_rules(sg, *egress, &flat);
            None
        }
        Change::ModifyRules { group_id, rules } => {
            for (id, new) in rules {
                let Some((egress, old)) = rule_by_id(earlier, id) else {
                    return Some(format!(
                        "the earlier content of rule `{id}` of `{group_id}` is in no event"
                    ));
                };
                let sg = state
                    .security_groups
                    .iter_mut()
                    .find(|g| &g.group_id == group_id)?;
                let mut flat = flatten(sg, egress);
                if !flat.remove(new) {
                    return Some(format!(
                        "the rule it set is not in the later configuration of `{group_id}`"
                    ));
                }
                flat.insert(old);
                set_rules(sg, egress, &flat);
            }
            None
        }
        Change::CreateGroup { group_id, .. } => {
            state.security_groups.retain(|g| &g.group_id != group_id);
            None
        }
        Change::DeleteGroup { group } => {
            // An AWS Config item of the group (with the changes after it) tells.
            match config_before(state, earlier, ConfigKind::SecurityGroup, group) {
                Some(mini) if !mini.security_groups.is_empty() => {
                    replace(state, ConfigKind::SecurityGroup, group, &mini);
                    None
                }
                _ => Some(format!(
                    "the rules `{group}` had before it was deleted are in no event or Config item"
                )),
            }
        }
        Change::Config(item) => {
            // At its time the resource is exactly the item's state; before it, it is the
            // newest earlier item's state with the CloudTrail changes in between applied
            // forward, or (no such item, or a change that does not fit it) what the rest of
            // the history says going back from the item's state.
            if let Some(mini) = mini_of(state, item) {
                replace(state, item.kind, &item.resource_id, &mini);
            }
            if let Some(mini) = config_before(state, earlier, item.kind, &item.resource_id) {
                replace(state, item.kind, &item.resource_id, &mini);
            }
            None
        }
        Change::NaclEntry {
            op,
            acl_id,
            rule_number,
            egress,
            ..
        } => {
            let acl = state
                .network_acls
                .iter_mut()
                .find(|a| &a.network_acl_id == acl_id)?;
            let had = acl.entries.len();
            acl.entries
                .retain(|x| !(x.rule_number == *rule_number && x.egress == *egress));
            if (had != acl.entries.len()) == (*op == Op::Delete) {
                return Some(format!(
                    "the later configuration of `{acl_id}` {} {} rule {rule_number}, so the history and the snapshot disagree",
                    if *op == Op::Delete { "has" } else { "has no" },
                    dir(*egress)
                ));
            }
            if *op == Op::Create {
                return None;
            }
            match nacl_entry_before(earlier, acl_id, *egress, *rule_number) {
                Some(Some(old)) => {
                    acl.entries.push(old);
                    None
                }
                Some(None) => (*op == Op::Replace).then(|| {
                    format!("an earlier event deleted {} rule {rule_number} of `{acl_id}`, so the history and the snapshot disagree", dir(*egress))
                }),
                None => {
                    // Never guessed: an entry of unknown content stands at that rule number,
                    // so what reaches it is unknown and what a lower number decides is exact.
                    let why = format!(
                        "what {} rule {rule_number} of `{acl_id}` was before is in no event or AWS Config item",
                        dir(*egress)
                    );
                    acl.unknown_entries.push(UnknownNaclEntry {
                        rule_number: *rule_number,
                        egress: *egress,
                        why: inexact(e, &why),
                    });
                    Some(why)
                }
            }
        }
        Change::Route {
            op,
            route_table_id,
            route,
        } => {
            let rt = state
                .route_tables
                .iter_mut()
                .find(|r| &r.route_table_id == route_table_id)?;
            let had = rt.routes.len();
            rt.routes.retain(|x| !same_destination(x, route));
            if (had != rt.routes.len()) == (*op == Op::Delete) {
                return Some(format!(
                    "the later configuration of `{route_table_id}` {} a route to {}, so the history and the snapshot disagree",
                    if *op == Op::Delete { "has" } else { "has no" },
                    destination(route)
                ));
            }
            if *op == Op::Create {
                return None;
            }
            match route_before(earlier, route_table_id, route) {
                Some(Some(old)) => {
                    rt.routes.push(old);
                    None
                }
                Some(None) => Some(format!(
                    "an earlier event deleted this route of `{route_table_id}`, so the history and the snapshot disagree"
                )),
                None => Some(format!(
                    "what the route to {} in `{route_table_id}` was before is in no event",
                    destination(route)
                )),
            }
        }
        Change::GroupSet { target, .. } => {
            let before = earlier.iter().rev().find_map(|x| match &x.change {
                Change::GroupSet { target: t, groups } if t == target => Some(groups.clone()),
                Change::Config(item) if &item.resource_id == target => match &item.state {
                    ConfigState::NetworkInterface { groups } => Some(groups.clone()),
                    _ => None,
                },
                _ => None,
            });
            match before {
                Some(g) => {
                    set_groups(state, target, &g);
                    None
                }
                None => Some(format!("the groups `{target}` had before are in no event")),
            }
        }
        Change::NaclAssociation {
            association_id,
            acl_id,
            new_association_id,
        } => {
            let before = earlier.iter().rev().find_map(|x| match &x.change {
                Change::NaclAssociation {
                    new_association_id: Some(n),
                    acl_id,
                    ..
                } if n == association_id => Some(acl_id.clone()),
                Change::Config(item) => match &item.state {
                    ConfigState::NetworkAcl(a)
                        if a.associations.iter().any(|x| {
                            x.network_acl_association_id.as_deref() == Some(association_id.as_str())
                        }) =>
                    {
                        Some(a.network_acl_id.clone())
                    }
                    _ => None,
                },
                _ => None,
            });
            let Some(old_acl) = before else {
                return Some(format!(
                    "which network ACL association `{association_id}` belonged to is in no event"
                ));
            };
            let mut subnet = None;
            for a in &mut state.network_acls {
                if let Some(p) = a.associations.iter().position(|x| {
                    new_association_id.is_some()
                        && x.network_acl_association_id == *new_association_id
                }) {
                    subnet = a.associations.remove(p).subnet_id;
                }
            }
            let Some(subnet) = subnet else {
                return Some(format!(
                    "the association it made with `{acl_id}` is not in the later configuration"
                ));
            };
            let acl = state
                .network_acls
                .iter_mut()
                .find(|a| a.network_acl_id == old_acl)?;
            acl.associations.push(NetworkAclAssociation {
                network_acl_association_id: Some(association_id.clone()),
                network_acl_id: Some(old_acl),
                subnet_id: Some(subnet),
            });
            None
        }
        Change::AssociateRouteTable {
            route_table_id,
            subnet_id,
            association_id,
        } => {
            let rt = state
                .route_tables
                .iter_mut()
                .find(|r| &r.route_table_id == route_table_id)?;
            rt.associations.retain(|a| {
                !(association_id.is_some() && a.route_table_association_id == *association_id
                    || subnet_id.is_some() && a.subnet_id == *subnet_id && a.main != Some(true))
            });
            None
        }
        Change::ReplaceRouteTableAssociation {
            association_id,
            new_association_id,
            ..
        } => {
            let before = rt_association_before(earlier, association_id);
            let now = new_association_id
                .as_deref()
                .and_then(|n| remove_rt_association(state, n));
            match (before, now) {
                (Some(rtb), Some(a)) => {
                    let rt = state
                        .route_tables
                        .iter_mut()
                        .find(|r| r.route_table_id == rtb)?;
                    rt.associations.push(RouteTableAssociation {
                        route_table_association_id: Some(association_id.clone()),
                        ..a
                    });
                    None
                }
                (None, Some(a)) => {
                    // Put it back so that the withholding finds the subnet it concerns.
                    let sub = a.subnet_id.clone();
                    if let Some(s) = &sub {
                        state.withheld.entry(s.clone()).or_default();
                    }
                    Some(format!(
                        "which route table association `{association_id}` belonged to is in no event"
                    ))
                }
                (_, None) => Some(format!(
                    "the association it made is not in the later configuration ({association_id})"
                )),
            }
        }
        Change::DisassociateRouteTable { association_id } => {
            match rt_association_subnet_before(earlier, association_id) {
                Some((rtb, subnet)) => {
                    let rt = state.route_tables.iter_mut().find(|r| r.route_table_id == rtb)?;
                    rt.associations.push(RouteTableAssociation {
                        main: Some(false),
                        subnet_id: Some(subnet),
                        route_table_association_id: Some(association_id.clone()),
                        ..RouteTableAssociation::default()
                    });
                    None
                }
                None => Some(format!(
                    "which route table and subnet association `{association_id}` joined is in no event"
                )),
            }
        }
    }
}

fn rt_association_before(earlier: &[Event], id: &str) -> Option<String> {
    earlier.iter().rev().find_map(|x| match &x.change {
        Change::AssociateRouteTable {
            association_id: Some(a),
            route_table_id,
            ..
        } if a == id => Some(route_table_id.clone()),
        Change::ReplaceRouteTableAssociation {
            new_association_id: Some(a),
            route_table_id,
            ..
        } if a == id => Some(route_table_id.clone()),
        Change::Config(item) => match &item.state {
            ConfigState::RouteTable(t)
                if t.associations
                    .iter()
                    .any(|x| x.route_table_association_id.as_deref() == Some(id)) =>
            {
                Some(t.route_table_id.clone())
            }
            _ => None,
        },
        _ => None,
    })
}

fn rt_association_subnet_before(earlier: &[Event], id: &str) -> Option<(String, String)> {
    earlier.iter().rev().find_map(|x| match &x.change {
        Change::AssociateRouteTable {
            association_id: Some(a),
            route_table_id,
            subnet_id: Some(s),
        } if a == id => Some((route_table_id.clone(), s.clone())),
        Change::Config(item) => match &item.state {
            ConfigState::RouteTable(t) => t
                .associations
                .iter()
                .find(|x| x.route_table_association_id.as_deref() == Some(id))
                .and_then(|x| Some((t.route_table_id.clone(), x.subnet_id.clone()?))),
            _ => None,
        },
        _ => None,
    })
}

fn dir(egress: bool) -> &'static str {
    if egress {
        "outbound"
    } else {
        "inbound"
    }
}

fn destination(r: &Route) -> String {
    r.destination_cidr_block
        .clone()
        .or_else(|| r.destination_ipv6_cidr_block.clone())
        .or_else(|| r.destination_prefix_list_id.clone())
        .unwrap_or_default()
}

/// What to leave out when `e` cannot be undone.
fn withhold_targets(state: &Snapshot, e: &Event) -> Vec<String> {
    match &e.change {
        Change::Authorize { group_id, .. }
        | Change::Revoke { group_id, .. }
        | Change::ModifyRules { group_id, .. } => vec![group_id.clone()],
        Change::DeleteGroup { group } => vec![group.clone()],
        Change::CreateGroup { .. } => Vec::new(),
        Change::NaclEntry { acl_id, .. } => vec![acl_id.clone()],
        Change::Route { route_table_id, .. } => vec![route_table_id.clone()],
        Change::GroupSet { target, .. } => {
            let mut ids = vec![target.clone()];
            // An instance's primary ENI.
            for eni in state.network_interfaces.iter().chain(
                state
                    .instances
                    .iter()
                    .flat_map(|i| i.network_interfaces.iter()),
            ) {
                if eni.attachment.as_ref().is_some_and(|a| {
                    a.instance_id.as_deref() == Some(target.as_str())
                        && a.device_index.unwrap_or(0) == 0
                }) {
                    ids.push(eni.network_interface_id.clone());
                }
            }
            ids
        }
        Change::NaclAssociation {
            new_association_id,
            acl_id,
            ..
        } => {
            // The subnet it moved: the one holding the new association (or, when the event
            // does not name it, every subnet of that NACL).
            state
                .network_acls
                .iter()
                .filter(|a| &a.network_acl_id == acl_id)
                .flat_map(|a| a.associations.iter())
                .filter(|x| {
                    new_association_id.is_none()
                        || x.network_acl_association_id == *new_association_id
                })
                .filter_map(|x| x.subnet_id.clone())
                .collect()
        }
        Change::ReplaceRouteTableAssociation { .. } => {
            // `undo_change` marked the subnet it concerns (an empty reason, filled here).
            state
                .withheld
                .iter()
                .filter(|(_, why)| why.is_empty())
                .map(|(id, _)| id.clone())
                .collect()
        }
        Change::DisassociateRouteTable { .. } => {
            // The subnet now uses its VPC's main table: every subnet without an explicit
            // association may be it.
            let explicit: BTreeSet<&str> = state
                .route_tables
                .iter()
                .flat_map(|r| r.associations.iter())
                .filter(|a| a.main != Some(true))
                .filter_map(|a| a.subnet_id.as_deref())
                .collect();
            state
                .subnets
                .iter()
                .filter(|s| !explicit.contains(s.subnet_id.as_str()))
                .map(|s| s.subnet_id.clone())
                .collect()
        }
        Change::AssociateRouteTable { .. } => Vec::new(),
        Change::Config(_) => Vec::new(),
    }
}

/// Leaves `id` out of `state` with `reason` (an ENI, subnet, group, NACL or route table).
fn withhold(state: &mut Snapshot, id: &str, reason: &str) {
    let slot = state.withheld.entry(id.to_string()).or_default();
    if slot.is_empty() {
        *slot = reason.to_string();
    }
    // A NACL or route table: the subnets that use it go with it.
    let mut subnets = BTreeSet::new();
    for acl in state.network_acls.iter().filter(|a| a.network_acl_id == id) {
        subnets.extend(acl.associations.iter().filter_map(|a| a.subnet_id.clone()));
        if acl.is_default == Some(true) {
            subnets.extend(implicit_subnets(state, &acl.vpc_id, true));
        }
    }
    for rt in state.route_tables.iter().filter(|r| r.route_table_id == id) {
        subnets.extend(
            rt.associations
                .iter()
                .filter(|a| a.main != Some(true))
                .filter_map(|a| a.subnet_id.clone()),
        );
        if rt.associations.iter().any(|a| a.main == Some(true)) {
            subnets.extend(implicit_subnets(state, &rt.vpc_id, false));
        }
    }
    state.security_groups.retain(|g| g.group_id != id);
    state.network_acls.retain(|a| a.network_acl_id != id);
    state.route_tables.retain(|r| r.route_table_id != id);
    state.subnets.retain(|s| s.subnet_id != id);
    state
        .network_interfaces
        .retain(|e| e.network_interface_id != id);
    for inst in &mut state.instances {
        inst.network_interfaces
            .retain(|e| e.network_interface_id != id);
    }
    for s in subnets {
        if !state.withheld.contains_key(&s) {
            withhold(
                state,
                &s,
                &format!("{reason} (its subnet depends on `{id}`)"),
            );
        }
    }
}

/// Subnets of `vpc` without an explicit NACL (`nacl`) or route table association.
fn implicit_subnets(state: &Snapshot, vpc: &str, nacl: bool) -> Vec<String> {
    let explicit: BTreeSet<&str> = if nacl {
        state
            .network_acls
            .iter()
            .filter(|a| a.is_default != Some(true))
            .flat_map(|a| a.associations.iter())
            .filter_map(|a| a.subnet_id.as_deref())
            .collect()
    } else {
        state
            .route_tables
            .iter()
            .flat_map(|r| r.associations.iter())
            .filter(|a| a.main != Some(true))
            .filter_map(|a| a.subnet_id.as_deref())
            .collect()
    };
    state
        .subnets
        .iter()
        .filter(|s| s.vpc_id == vpc && !explicit.contains(s.subnet_id.as_str()))
        .map(|s| s.subnet_id.clone())
        .collect()
}

/// Leaves out the ENIs that depend on something left out (their subnet or a group).
fn cascade(state: &mut Snapshot) {
    if state.withheld.is_empty() {
        // Nothing is left out, so nothing depends on something left out.
        return;
    }
    let withheld = &state.withheld;
    let mut drop = Vec::new();
    for e in state.network_interfaces.iter().chain(
        state
            .instances
            .iter()
            .flat_map(|i| i.network_interfaces.iter()),
    ) {
        let why = e
            .subnet_id
            .as_ref()
            .filter(|s| withheld.contains_key(*s))
            .map(|s| format!("its subnet `{s}` is left out"))
            .or_else(|| {
                e.groups
                    .iter()
                    .find(|g| withheld.contains_key(&g.group_id))
                    .map(|g| format!("its security group `{}` is left out", g.group_id))
            });
        if let Some(why) = why {
            drop.push((e.network_interface_id.clone(), why));
        }
    }
    for (id, why) in drop {
        let reason = match state.withheld.get(&why_id(&why)) {
            Some(r) => format!("{why}: {r}"),
            None => why,
        };
        withhold(state, &id, &reason);
    }
}

fn why_id(why: &str) -> String {
    why.split('`').nth(1).unwrap_or_default().to_string()
}

/// The resource of a Config item as a snapshot holding only it (a network interface: the
/// snapshot's interface with the item's groups). `None` when the item tells nothing the model
/// can hold: not recorded, or an interface the snapshot does not have (or deleted: an
/// interface's other fields are not in the item).
fn mini_of(state: &Snapshot, item: &ConfigItem) -> Option<Snapshot> {
    let mut mini = Snapshot::default();
    match (&item.state, item.kind) {
        (ConfigState::SecurityGroup(g), _) => mini.security_groups.push(g.clone()),
        (ConfigState::NetworkAcl(a), _) => mini.network_acls.push(a.clone()),
        (ConfigState::RouteTable(r), _) => mini.route_tables.push(r.clone()),
        (ConfigState::NetworkInterface { groups }, _) => {
            let eni = state
                .network_interfaces
                .iter()
                .chain(
                    state
                        .instances
                        .iter()
                        .flat_map(|i| i.network_interfaces.iter()),
                )
                .find(|e| e.network_interface_id == item.resource_id)?;
            let mut eni = eni.clone();
            eni.groups = groups
                .iter()
                .map(|g| GroupIdentifier {
                    group_id: g.clone(),
                    group_name: None,
                })
                .collect();
            mini.network_interfaces.push(eni);
        }
        (ConfigState::Deleted, ConfigKind::NetworkInterface) => return None,
        (ConfigState::Deleted, _) => {}
        (ConfigState::NotRecorded, _) => return None,
    }
    Some(mini)
}

/// Whether CloudTrail change `e` concerns the resource `id` of a Config item (`mini`, the
/// resource alone).
fn concerns(e: &Event, kind: ConfigKind, id: &str, mini: &Snapshot) -> bool {
    match (&e.change, kind) {
        (Change::Config(_), _) => false,
        (Change::GroupSet { target, .. }, ConfigKind::NetworkInterface) => {
            target == id
                || mini.network_interfaces.iter().any(|n| {
                    n.attachment.as_ref().is_some_and(|a| {
                        a.instance_id.as_deref() == Some(target.as_str())
                            && a.device_index.unwrap_or(0) == 0
                    })
                })
        }
        (_, ConfigKind::NetworkInterface) => false,
        (c, _) => c.resources().iter().any(|r| r == id),
    }
}

/// What the history says resource `id` is just after `earlier`, from AWS Config: the newest
/// item of it in `earlier` (a snapshot holding only that resource), with the CloudTrail changes
/// to it after the item applied forward. `None` when no item tells (none, the newest is
/// `ResourceNotRecorded`, an interface the snapshot does not hold), or when a change after it
/// does not fit its state (the history is then read backward instead).
fn config_before(
    state: &Snapshot,
    earlier: &[Event],
    kind: ConfigKind,
    id: &str,
) -> Option<Snapshot> {
    let j = earlier.iter().rposition(|e| {
        e.config_item()
            .is_some_and(|c| c.kind == kind && c.resource_id == id)
    })?;
    let item = earlier[j].config_item()?;
    let mut mini = mini_of(state, item)?;
    for e in &earlier[j + 1..] {
        if concerns(e, kind, id, &mini) {
            apply(&mut mini, e).ok()?;
        }
    }
    Some(mini)
}

/// Sets resource `id` of `state` to what `mini` holds of it (absent there: removed). A
/// resource already left out stays left out (what depends on it went with it). A network ACL
/// or route table takes its subnets from the others (a subnet has one of each).
fn replace(state: &mut Snapshot, kind: ConfigKind, id: &str, mini: &Snapshot) {
    if state.withheld.contains_key(id) {
        return;
    }
    fn put<T: Clone>(list: &mut Vec<T>, is: impl Fn(&T) -> bool, new: Option<&T>) {
        match (list.iter().position(&is), new) {
            (Some(p), Some(n)) => list[p] = n.clone(),
            (Some(p), None) => {
                list.remove(p);
            }
            (None, Some(n)) => list.push(n.clone()),
            (None, None) => {}
        }
    }
    match kind {
        ConfigKind::SecurityGroup => {
            let new = mini.security_groups.iter().find(|g| g.group_id == id);
            put(&mut state.security_groups, |g| g.group_id == id, new);
        }
        ConfigKind::NetworkAcl => {
            let new = mini.network_acls.iter().find(|a| a.network_acl_id == id);
            if let Some(n) = new {
                let subnets: BTreeSet<&str> = n
                    .associations
                    .iter()
                    .filter_map(|a| a.subnet_id.as_deref())
                    .collect();
                for other in state
                    .network_acls
                    .iter_mut()
                    .filter(|a| a.network_acl_id != id)
                {
                    other
                        .associations
                        .retain(|a| !a.subnet_id.as_deref().is_some_and(|s| subnets.contains(s)));
                }
            }
            put(&mut state.network_acls, |a| a.network_acl_id == id, new);
        }
        ConfigKind::RouteTable => {
            let new = mini.route_tables.iter().find(|r| r.route_table_id == id);
            if let Some(n) = new {
                let subnets: BTreeSet<&str> = n
                    .associations
                    .iter()
                    .filter(|a| a.main != Some(true))
                    .filter_map(|a| a.subnet_id.as_deref())
                    .collect();
                let main = n.associations.iter().any(|a| a.main == Some(true));
                for other in state
                    .route_tables
                    .iter_mut()
                    .filter(|r| r.route_table_id != id)
                {
                    let same_vpc = other.vpc_id == n.vpc_id;
                    other.associations.retain(|a| {
                        !(a.main != Some(true)
                            && a.subnet_id.as_deref().is_some_and(|s| subnets.contains(s))
                            || main && same_vpc && a.main == Some(true))
                    });
                }
            }
            put(&mut state.route_tables, |r| r.route_table_id == id, new);
        }
        ConfigKind::NetworkInterface => {
            if let Some(n) = mini
                .network_interfaces
                .iter()
                .find(|n| n.network_interface_id == id)
            {
                let groups: Vec<String> = n.groups.iter().map(|g| g.group_id.clone()).collect();
                set_groups(state, id, &groups);
            }
        }
    }
}

/// Sets each resource that has an AWS Config item at or before `t` (`t` before the
/// snapshot's time) to the newest such item's state with the CloudTrail changes to it up to `t`
/// applied forward (see [`at`]).
fn config_anchor(state: &mut Snapshot, events: &[Event], snapshot_time: i64, t: i64) {
    if t >= snapshot_time {
        // At (and after) its own time, the snapshot is the newest state known.
        return;
    }
    let upto = events.partition_point(|e| e.time <= t.min(snapshot_time));
    let mut done = BTreeSet::new();
    for e in events[..upto].iter().rev() {
        let Some(item) = e.config_item() else {
            continue;
        };
        if !done.insert(item.resource_id.clone()) {
            continue;
        }
        if let Some(mini) = config_before(state, &events[..upto], item.kind, &item.resource_id) {
            replace(state, item.kind, &item.resource_id, &mini);
        }
    }
}

/// Whether AWS Config says what the resource of Config item `events[i]` was just before it:
/// `Err(why)` when not (the first item of the resource in the history, an earlier
/// `ResourceNotRecorded`, or a change after the earlier item that does not fit it), or when the
/// item itself is `ResourceNotRecorded`.
pub fn config_known_before(state: &Snapshot, events: &[Event], i: usize) -> Result<(), String> {
    let Some(item) = events.get(i).and_then(Event::config_item) else {
        return Ok(());
    };
    if item.state == ConfigState::NotRecorded {
        return Err(format!(
            "AWS Config did not record `{}` (ResourceNotRecorded): what it was is not known from this item",
            item.resource_id
        ));
    }
    let earlier = &events[..i];
    let any = earlier.iter().any(|e| {
        e.config_item()
            .is_some_and(|c| c.kind == item.kind && c.resource_id == item.resource_id)
    });
    if !any {
        return Err(format!(
            "the first AWS Config item of `{}` in the history: what it was before is in no earlier item",
            item.resource_id
        ));
    }
    match config_before(state, earlier, item.kind, &item.resource_id) {
        Some(_) => Ok(()),
        None => Err(format!(
            "what `{}` was before is not known: the earlier AWS Config item is `ResourceNotRecorded`, or a change after it does not fit it",
            item.resource_id
        )),
    }
}

/// The resources (ids) whose newest AWS Config item in `events` (sorted, none after the
/// snapshot's time), with the CloudTrail changes after it applied forward, is not what `snap`
/// holds: the model at a time after that item is then the item's (see [`at`]), not the
/// snapshot's, though no later change names the resource. Compared by meaning: rules, entries,
/// routes and associations as sets, an interface's groups.
pub fn config_disagreements(snap: &Snapshot, events: &[Event]) -> Vec<String> {
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    for e in events.iter().rev() {
        let Some(item) = e.config_item() else {
            continue;
        };
        let id = item.resource_id.as_str();
        if !done.insert(id) || snap.withheld.contains_key(id) {
            continue;
        }
        let Some(mini) = config_before(snap, events, item.kind, id) else {
            continue;
        };
        if !same_resource(snap, &mini, item.kind, id) {
            out.push(id.to_string());
        }
    }
    out
}

/// Whether `a` and `b` hold resource `id` alike (both without it counts as alike).
fn same_resource(a: &Snapshot, b: &Snapshot, kind: ConfigKind, id: &str) -> bool {
    fn set<T: std::fmt::Debug>(v: &[T]) -> BTreeSet<String> {
        v.iter().map(|x| format!("{x:?}")).collect()
    }
    match kind {
        ConfigKind::SecurityGroup => {
            let f = |s: &Snapshot| {
                s.security_groups
                    .iter()
                    .find(|g| g.group_id == id)
                    .map(|g| (flatten(g, false), flatten(g, true)))
            };
            f(a) == f(b)
        }
        ConfigKind::NetworkAcl => {
            let f = |s: &Snapshot| {
                s.network_acls
                    .iter()
                    .find(|x| x.network_acl_id == id)
                    .map(|x| {
                        let subnets: BTreeSet<Option<String>> =
                            x.associations.iter().map(|a| a.subnet_id.clone()).collect();
                        (set(&x.entries), subnets)
                    })
            };
            f(a) == f(b)
        }
        ConfigKind::RouteTable => {
            let f = |s: &Snapshot| {
                s.route_tables
                    .iter()
                    .find(|x| x.route_table_id == id)
                    .map(|x| {
                        let assoc: BTreeSet<(Option<bool>, Option<String>)> = x
                            .associations
                            .iter()
                            .map(|a| (a.main, a.subnet_id.clone()))
                            .collect();
                        (set(&x.routes), assoc)
                    })
            };
            f(a) == f(b)
        }
        ConfigKind::NetworkInterface => {
            let f = |s: &Snapshot| {
                s.network_interfaces
                    .iter()
                    .chain(s.instances.iter().flat_map(|i| i.network_interfaces.iter()))
                    .find(|n| n.network_interface_id == id)
                    .map(|n| {
                        n.groups
                            .iter()
                            .map(|g| g.group_id.clone())
                            .collect::<BTreeSet<_>>()
                    })
            };
            f(a) == f(b)
        }
    }
}
