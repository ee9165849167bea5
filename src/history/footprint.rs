//! Which flow records a change can matter to: the rules it adds or removes. A security-group
//! rule or NACL entry that matches none of a record's addresses, ports and protocol (in either
//! direction, as request or response) cannot change how that record is judged: a group allows
//! what any of its rules allows, and a NACL decides by the first entry that matches. So a record
//! whose ENI only such changes reach since its time is judged by the snapshot's configuration,
//! as exactly as by the configuration then (`explain --history` then takes the fast path).
//!
//! Only changes whose content the event itself (or, for a NACL entry replaced or deleted, an
//! earlier event) states have a footprint; every other change (groups on an interface, a group
//! created or deleted, routes, rule ids whose content is unknown, AWS Config items) may matter
//! to any record at the interfaces it reaches.

use super::{Change, Event, Op, Peer, SgRule};
use crate::protocol::Protocol;
use crate::snapshot::NetworkAclEntry;
use ipnet::IpNet;
use std::net::IpAddr;

/// One rule a change adds or removes, as far as matching goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Item {
    /// An outbound rule (its peer is the destination of the packets it judges).
    egress: bool,
    protocol: Protocol,
    /// The port range, when the rule has one (TCP and UDP rules).
    ports: Option<(u16, u16)>,
    /// The peer's CIDR; `None` for a peer that can be any address (a referenced group, a
    /// prefix list, a CIDR that cannot be read).
    cidr: Option<IpNet>,
}

/// The rules a change adds or removes, when that is all it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Footprint {
    items: Vec<Item>,
}

/// What of a flow record matching looks at: its protocol, its addresses (`[srcaddr, dstaddr,
/// pkt-srcaddr, pkt-dstaddr]`: the packet's own when a NAT or a load balancer is in between)
/// and its ports (`[srcport, dstport]`). A field the record lacks matches anything.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Tuple {
    pub(crate) protocol: Option<u8>,
    pub(crate) addrs: [Option<IpAddr>; 4],
    pub(crate) ports: [Option<u16>; 2],
}

fn port_range(from: Option<i32>, to: Option<i32>) -> Option<(u16, u16)> {
    let from = u16::try_from(from?).ok()?;
    let to = u16::try_from(to?).ok()?;
    Some((from, to))
}

fn sg_item(r: &SgRule, egress: bool) -> Item {
    let protocol = Protocol::from_aws(&r.protocol).unwrap_or(Protocol::All);
    let cidr = match &r.peer {
        Peer::Cidr4(c) | Peer::Cidr6(c) => c.parse::<IpNet>().ok(),
        Peer::PrefixList(_) | Peer::Group(_) => None,
    };
    Item {
        egress,
        protocol,
        ports: if protocol.has_ports() {
            port_range(r.from, r.to)
        } else {
            None
        },
        cidr,
    }
}

fn nacl_item(e: &NetworkAclEntry) -> Item {
    let protocol = Protocol::from_aws(&e.protocol).unwrap_or(Protocol::All);
    let cidr = e
        .cidr_block
        .as_deref()
        .or(e.ipv6_cidr_block.as_deref())
        .and_then(|c| c.parse::<IpNet>().ok());
    Item {
        egress: e.egress,
        protocol,
        ports: if protocol.has_ports() {
            e.port_range.as_ref().and_then(|p| port_range(p.from, p.to))
        } else {
            None
        },
        cidr,
    }
}

impl Footprint {
    /// The footprint of `events[i]`, when it has one (see the module's documentation). The
    /// caller knows the change was undone exactly (nothing withheld).
    pub(crate) fn of(events: &[Event], i: usize) -> Option<Footprint> {
        let e = events.get(i)?;
        let items = match &e.change {
            Change::Authorize { rules, egress, .. } => {
                rules.iter().map(|(r, _)| sg_item(r, *egress)).collect()
            }
            // Undone exactly: the rules removed are those listed, or those asked for.
            Change::Revoke {
                rules,
                requested,
                rule_ids,
                egress,
                ..
            } if rule_ids.is_empty() || rules.is_some() => rules
                .as_ref()
                .unwrap_or(requested)
                .iter()
                .map(|r| sg_item(r, *egress))
                .collect(),
            Change::NaclEntry {
                op,
                acl_id,
                rule_number,
                egress,
                entry,
            } => {
                let mut items: Vec<Item> = entry.iter().map(nacl_item).collect();
                if *op != Op::Create {
                    // What the entry was before: from an earlier event (the undo was exact,
                    // so one says, or says there was none).
                    let before = super::undo::nacl_entry_before(
                        &events[..i],
                        acl_id,
                        *egress,
                        *rule_number,
                    )?;
                    items.extend(before.as_ref().map(nacl_item));
                }
                items
            }
            _ => return None,
        };
        Some(Footprint { items })
    }

    /// Whether some rule of the footprint matches the record in either direction.
    #[cfg(test)]
    pub(crate) fn matches(&self, t: &Tuple) -> bool {
        self.items.iter().any(|item| item.matches(t))
    }
}

/// The rules of many footprints, found by the addresses they match: for a record, only the
/// rules whose CIDR holds one of its addresses (and those that hold any address) are looked
/// at, each with the changes (by index) whose footprints hold it.
#[derive(Debug, Default)]
pub(crate) struct FootprintIndex {
    /// Each distinct rule, with the changes that add or remove it, ascending.
    items: Vec<(Item, Vec<u32>)>,
    /// Rules by their CIDR (its network address, truncated).
    by_cidr: rustc_hash::FxHashMap<IpNet, Vec<u32>>,
    /// The prefix lengths of those CIDRs, per family (IPv4, IPv6).
    lengths: [Vec<u8>; 2],
    /// Rules whose peer can be any address.
    anywhere: Vec<u32>,
    /// For each change, the number of each rule of its footprint, in the footprint's order.
    rules_of: Vec<Vec<u32>>,
}

impl FootprintIndex {
    /// The index of `footprints` (one per change, by index; `None` for a change without one).
    pub(crate) fn new(footprints: &[Option<Footprint>]) -> FootprintIndex {
        let mut index = FootprintIndex::default();
        let mut seen: std::collections::HashMap<Item, u32> = std::collections::HashMap::new();
        index.rules_of = vec![Vec::new(); footprints.len()];
        for (j, f) in footprints.iter().enumerate() {
            let Some(f) = f else { continue };
            let jj = j;
            let j = u32::try_from(j).unwrap_or(u32::MAX);
            for item in &f.items {
                let mut item = item.clone();
                item.cidr = item.cidr.map(|c| c.trunc());
                let next = u32::try_from(index.items.len()).unwrap_or(u32::MAX);
                let at = *seen.entry(item.clone()).or_insert(next);
                if at == next {
                    match item.cidr {
                        Some(c) => {
                            index.by_cidr.entry(c).or_default().push(at);
                            let family = usize::from(c.addr().is_ipv6());
                            if !index.lengths[family].contains(&c.prefix_len()) {
                                index.lengths[family].push(c.prefix_len());
                            }
                        }
                        None => index.anywhere.push(at),
                    }
                    index.items.push((item, Vec::new()));
                }
                if let Some((_, changes)) = index.items.get_mut(at as usize) {
                    if changes.last() != Some(&j) {
                        changes.push(j);
                    }
                }
                index.rules_of[jj].push(at);
            }
        }
        index
    }

    /// Whether a rule that matches `t` is added or removed by a change that `reaches` says
    /// yes to (given its index).
    #[cfg(test)]
    pub(crate) fn any(&self, t: &Tuple, mut reaches: impl FnMut(usize) -> bool) -> bool {
        self.any_rule(t, |at| {
            self.items
                .get(at)
                .is_some_and(|(_, changes)| changes.iter().any(|&j| reaches(j as usize)))
        })
    }

    /// The changes that add or remove each distinct rule, by the rule's number (as
    /// [`FootprintIndex::any_rule`] gives it), ascending.
    pub(crate) fn changes_by_rule(&self) -> impl Iterator<Item = &[u32]> {
        self.items.iter().map(|(_, changes)| changes.as_slice())
    }

    /// The numbers of the rules of change `j`'s footprint, in the footprint's order (a rule
    /// a security-group change names is its rule of the same position); empty for a change
    /// without one.
    pub(crate) fn rules_of(&self, j: usize) -> &[u32] {
        self.rules_of.get(j).map_or(&[], Vec::as_slice)
    }

    /// Whether `pick` says yes to some rule (by its number) that matches `t`.
    pub(crate) fn any_rule(&self, t: &Tuple, mut pick: impl FnMut(usize) -> bool) -> bool {
        let mut check = |at: u32| {
            let Some((item, _)) = self.items.get(at as usize) else {
                return false;
            };
            item.matches(t) && pick(at as usize)
        };
        // A record without its protocol, source or destination address is judged without any
        // rule (its interface may be unknown, its fields are missing, or it holds no flow):
        // no rule added or removed can alter it.
        if t.protocol.is_none() || t.addrs[0].is_none() || t.addrs[1].is_none() {
            return false;
        }
        if self.anywhere.iter().any(|&at| check(at)) {
            return true;
        }
        for a in t.addrs.iter().flatten() {
            for &len in &self.lengths[usize::from(a.is_ipv6())] {
                let Ok(net) = IpNet::new(*a, len) else {
                    continue;
                };
                if let Some(list) = self.by_cidr.get(&net.trunc()) {
                    if list.iter().any(|&at| check(at)) {
                        return true;
                    }
                }
            }
        }
        false
    }
}

impl Item {
    /// Whether the rule can match the record, in the direction it judges or as the rule a
    /// response is tracked by. An inbound rule judges packets whose source is its peer and
    /// whose destination port is its port (requests in), and tracks responses going out to
    /// its peer from its port: (destination port, source address) or (source port,
    /// destination address). An outbound rule the other way round: (destination port,
    /// destination address) or (source port, source address). A NACL entry judges one
    /// direction's packets by their peer and destination port, a case of the same pairs. The
    /// packet's own addresses (`pkt-*`) count with the record's. A field the record lacks
    /// matches anything.
    fn matches(&self, t: &Tuple) -> bool {
        let protocol = match (self.protocol, t.protocol) {
            (Protocol::All, _) | (_, None) => true,
            (Protocol::Number(p), Some(q)) => p == q,
        };
        let port = |p: Option<u16>| match (self.ports, p) {
            (None, _) | (_, None) => true,
            (Some((lo, hi)), Some(p)) => (lo..=hi).contains(&p),
        };
        let addr = |side: [Option<IpAddr>; 2]| match self.cidr {
            None => true,
            Some(c) => {
                side.iter().all(Option::is_none) || side.iter().flatten().any(|a| c.contains(a))
            }
        };
        let src = [t.addrs[0], t.addrs[2]];
        let dst = [t.addrs[1], t.addrs[3]];
        let (with_dport, with_sport) = if self.egress { (dst, src) } else { (src, dst) };
        protocol
            && ((port(t.ports[1]) && addr(with_dport)) || (port(t.ports[0]) && addr(with_sport)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(change: Change) -> Event {
        Event {
            event_id: "e".into(),
            time: 0,
            api: "x".into(),
            principal: None,
            source_ip: None,
            region: None,
            account: None,
            change,
        }
    }

    fn rule(protocol: &str, from: i32, to: i32, peer: Peer) -> SgRule {
        SgRule {
            protocol: protocol.into(),
            from: Some(from),
            to: Some(to),
            peer,
        }
    }

    fn tuple(protocol: u8, src: &str, dst: &str, sport: u16, dport: u16) -> Tuple {
        Tuple {
            protocol: Some(protocol),
            addrs: [src.parse().ok(), dst.parse().ok(), None, None],
            ports: [Some(sport), Some(dport)],
        }
    }

    #[test]
    fn a_rule_matches_in_either_direction() {
        let e = event(Change::Authorize {
            group_id: "sg-1".into(),
            egress: false,
            rules: vec![(
                rule("tcp", 443, 443, Peer::Cidr4("192.0.2.0/24".into())),
                None,
            )],
        });
        let f = Footprint::of(std::slice::from_ref(&e), 0).expect("a footprint");
        // Request and response of the same connection.
        assert!(f.matches(&tuple(6, "192.0.2.9", "10.0.0.5", 50000, 443)));
        assert!(f.matches(&tuple(6, "10.0.0.5", "192.0.2.9", 443, 50000)));
        // Another port, protocol or peer: the rule cannot matter.
        assert!(!f.matches(&tuple(6, "192.0.2.9", "10.0.0.5", 50000, 22)));
        // The rule's port as a client's ephemeral port towards another peer, or the peer on
        // the wrong side: no request or response the rule judges.
        assert!(!f.matches(&tuple(6, "198.51.100.1", "10.0.0.5", 443, 8080)));
        assert!(!f.matches(&tuple(6, "10.0.0.5", "192.0.2.9", 50000, 443)));
        assert!(!f.matches(&tuple(17, "192.0.2.9", "10.0.0.5", 50000, 443)));
        assert!(!f.matches(&tuple(6, "198.51.100.1", "10.0.0.5", 50000, 443)));
        // A record without addresses may match.
        let mut t = tuple(6, "x", "y", 50000, 443);
        t.addrs = [None; 4];
        assert!(f.matches(&t));
    }

    #[test]
    fn the_index_finds_rules_by_address_and_passes_by_records_without_one() {
        let e = event(Change::Authorize {
            group_id: "sg-1".into(),
            egress: false,
            rules: vec![
                (
                    rule("tcp", 443, 443, Peer::Cidr4("192.0.2.0/24".into())),
                    None,
                ),
                (rule("tcp", 22, 22, Peer::Cidr4("0.0.0.0/0".into())), None),
            ],
        });
        let index = FootprintIndex::new(&[Footprint::of(std::slice::from_ref(&e), 0)]);
        let any = |t: &Tuple| index.any(t, |_| true);
        assert!(any(&tuple(6, "192.0.2.9", "10.0.0.5", 50000, 443)));
        assert!(any(&tuple(6, "203.0.113.1", "10.0.0.5", 50000, 22)));
        assert!(!any(&tuple(6, "203.0.113.1", "10.0.0.5", 50000, 443)));
        // Reached by no change: nothing alters it.
        assert!(!index.any(&tuple(6, "192.0.2.9", "10.0.0.5", 50000, 443), |_| false));
        // Without a destination address the record is judged by no rule.
        let mut t = tuple(6, "192.0.2.9", "10.0.0.5", 50000, 443);
        t.addrs[1] = None;
        assert!(!any(&t));
    }

    #[test]
    fn wide_and_referencing_rules_match_more() {
        let all = event(Change::Authorize {
            group_id: "sg-1".into(),
            egress: true,
            rules: vec![(
                SgRule {
                    protocol: "-1".into(),
                    from: None,
                    to: None,
                    peer: Peer::Cidr4("0.0.0.0/0".into()),
                },
                None,
            )],
        });
        let f = Footprint::of(std::slice::from_ref(&all), 0).expect("a footprint");
        assert!(f.matches(&tuple(1, "10.0.0.5", "8.8.8.8", 0, 0)));
        let group = event(Change::Authorize {
            group_id: "sg-1".into(),
            egress: false,
            rules: vec![(rule("tcp", 5432, 5432, Peer::Group("sg-2".into())), None)],
        });
        let f = Footprint::of(std::slice::from_ref(&group), 0).expect("a footprint");
        // Any address may be a member of the group: only the port and protocol narrow it.
        assert!(f.matches(&tuple(6, "203.0.113.1", "10.0.0.5", 40000, 5432)));
        assert!(!f.matches(&tuple(6, "203.0.113.1", "10.0.0.5", 40000, 5433)));
    }

    #[test]
    fn changes_without_a_footprint() {
        let revoke_by_id = event(Change::Revoke {
            group_id: "sg-1".into(),
            egress: false,
            rules: None,
            requested: Vec::new(),
            rule_ids: vec!["sgr-1".into()],
        });
        assert!(Footprint::of(std::slice::from_ref(&revoke_by_id), 0).is_none());
        let groups = event(Change::GroupSet {
            target: "eni-1".into(),
            groups: vec!["sg-1".into()],
        });
        assert!(Footprint::of(std::slice::from_ref(&groups), 0).is_none());
        // A NACL entry replaced whose earlier content no event gives.
        let replace = event(Change::NaclEntry {
            op: Op::Replace,
            acl_id: "acl-1".into(),
            rule_number: 90,
            egress: false,
            entry: Some(NetworkAclEntry {
                cidr_block: Some("0.0.0.0/0".into()),
                protocol: "6".into(),
                rule_action: "deny".into(),
                rule_number: 90,
                ..NetworkAclEntry::default()
            }),
        });
        assert!(Footprint::of(std::slice::from_ref(&replace), 0).is_none());
        // The same after an earlier event created it: both contents count.
        let create = event(Change::NaclEntry {
            op: Op::Create,
            acl_id: "acl-1".into(),
            rule_number: 90,
            egress: false,
            entry: Some(NetworkAclEntry {
                cidr_block: Some("198.51.100.0/24".into()),
                protocol: "17".into(),
                rule_action: "allow".into(),
                rule_number: 90,
                ..NetworkAclEntry::default()
            }),
        });
        let events = [create, replace];
        let f = Footprint::of(&events, 1).expect("a footprint");
        assert!(f.matches(&tuple(6, "203.0.113.1", "10.0.0.5", 40000, 22)));
        assert!(f.matches(&tuple(17, "198.51.100.7", "10.0.0.5", 40000, 53)));
        assert!(!f.matches(&tuple(1, "203.0.113.1", "10.0.0.5", 0, 0)));
    }
}
