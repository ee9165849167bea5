//! Security groups compiled for evaluating many packets (built on first use, so that a single
//! query does not pay for it): each group's rules of each direction
//! are bucketed by protocol, CIDRs are masks, and group references are resolved to group
//! indexes, so that [`Network::sg_evaluate_fast`] answers exactly as
//! [`Network::sg_evaluate`] (a test checks them against each other) without walking every rule
//! or looking up names.

use crate::cidr::cidr_contains;
use crate::network::Network;
use crate::protocol::Protocol;
use crate::security_group::{CompiledGroup, SgDecision, SgFold};
use crate::security_group::{Direction, PortMatch, SgPeer};
use ipnet::IpNet;
use rustc_hash::FxHashMap;
use std::net::IpAddr;
use std::sync::Arc;

/// The compiled rules of every group of a network.
#[derive(Debug, Clone, Default)]
pub(crate) struct SgIndex {
    /// Per group (as [`Network::groups`]): inbound, then outbound (shared with the models
    /// that hold the same group, see [`SgIndex::with_groups`]).
    groups: Vec<Arc<[Buckets; 2]>>,
    /// The CIDRs of the prefix lists rules reference.
    lists: Vec<Vec<IpNet>>,
    /// The index in `lists` of each prefix list, by id.
    list_index: FxHashMap<String, usize>,
}

/// The rules of one group and direction, in order, by the protocol they can match.
#[derive(Debug, Clone, Default)]
struct Buckets {
    /// For each protocol some rule names: its rules and the all-protocol rules.
    by_proto: Vec<(u8, Rules)>,
    /// For other protocols: the all-protocol rules.
    any: Rules,
}

/// Rules that can match one protocol, split by what their peer is, each list in rule order.
/// Most rules name an IPv4 CIDR and a port range: those are packed small (20 bytes), so that
/// the rules of many groups stay in the cache.
#[derive(Debug, Clone, Default)]
struct Rules {
    v4: Vec<V4Rule>,
    v6: Vec<V6Rule>,
    /// Group references, prefix lists, and ICMP type/code rules.
    other: Vec<Fast>,
}

/// A rule of an IPv4 CIDR and ports: it matches a peer `a` with `a & mask == net` and a port
/// `p` (as [`port_key`] makes it) in `lo..=hi`.
#[derive(Debug, Clone, Copy)]
struct V4Rule {
    lo: u32,
    hi: u32,
    net: u32,
    mask: u32,
    rule: u32,
}

/// [`V4Rule`] for an IPv6 CIDR.
#[derive(Debug, Clone, Copy)]
struct V6Rule {
    lo: u32,
    hi: u32,
    rule: u32,
    net: u128,
    mask: u128,
}

/// A packet's port as [`V4Rule`] ranges take it: no port is 65536, which only a rule of every
/// port (`PortMatch::Any`, range `0..=u32::MAX`) contains, as [`PortMatch::matches`] says.
fn port_key(port: Option<u16>) -> u32 {
    port.map_or(1 << 16, u32::from)
}

/// The range of port keys a rule's ports match; `None` for ICMP type/code rules.
fn port_keys(ports: PortMatch) -> Option<(u32, u32)> {
    match ports {
        PortMatch::Any => Some((0, u32::MAX)),
        PortMatch::Ports { range } => Some((u32::from(range.from), u32::from(range.to))),
        PortMatch::Icmp { .. } => None,
    }
}

impl Rules {
    fn new(rules: &[Fast]) -> Rules {
        let mut out = Rules::default();
        for f in rules {
            let Ok(rule) = u32::try_from(f.rule) else {
                out.other.push(*f);
                continue;
            };
            match (f.peer, port_keys(f.ports)) {
                (Peer::V4 { net, mask }, Some((lo, hi))) => out.v4.push(V4Rule {
                    lo,
                    hi,
                    net,
                    mask,
                    rule,
                }),
                (Peer::V6 { net, mask }, Some((lo, hi))) => out.v6.push(V6Rule {
                    lo,
                    hi,
                    rule,
                    net,
                    mask,
                }),
                _ => out.other.push(*f),
            }
        }
        out
    }

    /// The first rule (position in the group's rules of the direction) of the CIDR lists that
    /// matches the peer and port.
    #[inline]
    fn first_cidr_hit(&self, peer: IpAddr, key: u32) -> Option<usize> {
        match peer {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4
                    .iter()
                    .find(|r| a & r.mask == r.net && r.lo <= key && key <= r.hi)
                    .map(|r| r.rule as usize)
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6
                    .iter()
                    .find(|r| a & r.mask == r.net && r.lo <= key && key <= r.hi)
                    .map(|r| r.rule as usize)
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Fast {
    /// Position in the group's rules of the direction.
    rule: usize,
    /// Ports or ICMP type/code (`Any` for all-protocol rules).
    ports: PortMatch,
    peer: Peer,
}

#[derive(Debug, Clone, Copy)]
enum Peer {
    V4 {
        net: u32,
        mask: u32,
    },
    V6 {
        net: u128,
        mask: u128,
    },
    /// A referenced group: its index, `None` when the snapshot lacks it.
    Group(Option<usize>),
    /// A prefix list: its index in [`SgIndex::lists`], `None` when the snapshot lacks it.
    PrefixList(Option<usize>),
}

fn dir_index(dir: Direction) -> usize {
    match dir {
        Direction::Inbound => 0,
        Direction::Outbound => 1,
    }
}

impl SgIndex {
    /// Compiles the groups of `net` (its groups and group index must be built).
    pub(crate) fn build(net: &Network) -> SgIndex {
        let mut index = SgIndex::default();
        index.groups = net
            .groups
            .iter()
            .map(|g| Arc::new(index.compile(net, g)))
            .collect();
        index
    }

    /// This index with the groups at `changed` (indexes into `net.groups`) compiled anew from
    /// `net`, whose other groups must be those this index was made for: the rest is shared.
    pub(crate) fn with_groups(&self, net: &Network, changed: &[usize]) -> SgIndex {
        let mut index = SgIndex {
            groups: self.groups.clone(),
            lists: self.lists.clone(),
            list_index: self.list_index.clone(),
        };
        for &gi in changed {
            if let Some(g) = net.groups.get(gi) {
                let compiled = Arc::new(index.compile(net, g));
                if let Some(slot) = index.groups.get_mut(gi) {
                    *slot = compiled;
                }
            }
        }
        index
    }

    /// One group's rules of each direction, bucketed (prefix lists they name are added to
    /// `lists`).
    fn compile(&mut self, net: &Network, g: &CompiledGroup) -> [Buckets; 2] {
        [Direction::Inbound, Direction::Outbound].map(|dir| {
            let rules = g.rules(dir);
            let fast: Vec<(Protocol, Fast)> = rules
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let peer = match &r.peer {
                        SgPeer::Cidr { cidr } => match (cidr.network(), cidr.netmask()) {
                            (IpAddr::V4(n), IpAddr::V4(m)) => Peer::V4 {
                                net: u32::from(n),
                                mask: u32::from(m),
                            },
                            (n, m) => Peer::V6 {
                                net: ip6(n),
                                mask: ip6(m),
                            },
                        },
                        SgPeer::Group(g) => Peer::Group(net.group_index.get(&g.id).copied()),
                        SgPeer::PrefixList { id } => {
                            Peer::PrefixList(match self.list_index.get(&**id) {
                                Some(&i) => Some(i),
                                None => net.prefix_list(id).map(|cidrs| {
                                    self.lists.push(cidrs.to_vec());
                                    let i = self.lists.len() - 1;
                                    self.list_index.insert(id.to_string(), i);
                                    i
                                }),
                            })
                        }
                    };
                    let ports = match r.protocol {
                        Protocol::All => PortMatch::Any,
                        Protocol::Number(_) => r.ports,
                    };
                    (
                        r.protocol,
                        Fast {
                            rule: i,
                            ports,
                            peer,
                        },
                    )
                })
                .collect();
            let mut named: Vec<u8> = fast
                .iter()
                .filter_map(|(p, _)| match p {
                    Protocol::Number(n) => Some(*n),
                    Protocol::All => None,
                })
                .collect();
            named.sort_unstable();
            named.dedup();
            let bucket = |proto: Option<u8>| -> Rules {
                let list: Vec<Fast> = fast
                    .iter()
                    .filter(|(p, _)| match p {
                        Protocol::All => true,
                        Protocol::Number(n) => Some(*n) == proto,
                    })
                    .map(|(_, f)| *f)
                    .collect();
                Rules::new(&list)
            };
            Buckets {
                by_proto: named.iter().map(|&n| (n, bucket(Some(n)))).collect(),
                any: bucket(None),
            }
        })
    }
}

fn ip6(a: IpAddr) -> u128 {
    match a {
        IpAddr::V6(a) => u128::from(a),
        IpAddr::V4(a) => u128::from(a.to_ipv6_mapped()),
    }
}

impl Network {
    /// [`Network::sg_evaluate`] for a protocol number, through the compiled groups: the same
    /// answer (the same rule), faster.
    #[allow(clippy::too_many_arguments)]
    pub fn sg_evaluate_fast(
        &self,
        eni: usize,
        dir: Direction,
        peer: IpAddr,
        proto: u8,
        port: Option<u16>,
        icmp: Option<(u8, u8)>,
        refs: Option<bool>,
    ) -> SgDecision<'_> {
        let holders = self.enis_with_private_ip(peer);
        self.sg_evaluate_among(eni, dir, peer, proto, port, icmp, refs, holders)
    }

    /// [`Network::sg_evaluate_fast`] with the ENIs holding `peer` already looked up
    /// ([`Network::enis_with_private_ip`](crate::NetworkBase::enis_with_private_ip)): a group reference matches when one of them is in
    /// the group, which is what [`Network::group_members`](crate::NetworkBase::group_members) holds, without a hash lookup per
    /// rule.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sg_evaluate_among(
        &self,
        eni: usize,
        dir: Direction,
        peer: IpAddr,
        proto: u8,
        port: Option<u16>,
        icmp: Option<(u8, u8)>,
        refs: Option<bool>,
        holders: &[usize],
    ) -> SgDecision<'_> {
        let mut fold = SgFold::default();
        let d = dir_index(dir);
        let index = self.sg_index.get_or_init(|| SgIndex::build(self));
        let key = port_key(port);
        for &g in &self.enis[eni].groups {
            let (Some(buckets), Some(group)) = (index.groups.get(g), self.groups.get(g)) else {
                continue;
            };
            let buckets = &buckets[d];
            let rules = group.rules(dir);
            let list = buckets
                .by_proto
                .iter()
                .find(|(p, _)| *p == proto)
                .map_or(&buckets.any, |(_, l)| l);
            // The first CIDR rule that matches, then the other rules before it, in order: the
            // group's first matching rule allows (an unresolved one before it does not
            // matter), as the plain evaluation folds them.
            let mut first = list.first_cidr_hit(peer, key);
            for f in &list.other {
                if first.is_some_and(|r| r < f.rule) {
                    break;
                }
                if !f.ports.matches(port, icmp) {
                    continue;
                }
                let hit = match f.peer {
                    Peer::V4 { net, mask } => {
                        Some(matches!(peer, IpAddr::V4(a) if u32::from(a) & mask == net))
                    }
                    Peer::V6 { net, mask } => {
                        Some(matches!(peer, IpAddr::V6(a) if u128::from(a) & mask == net))
                    }
                    Peer::Group(gi) => match refs {
                        Some(true) => {
                            gi.map(|gi| holders.iter().any(|&h| self.enis[h].groups.contains(&gi)))
                        }
                        Some(false) => Some(false),
                        None => None,
                    },
                    Peer::PrefixList(list) => list
                        .and_then(|i| index.lists.get(i))
                        .map(|cidrs| cidrs.iter().any(|c| cidr_contains(c, peer))),
                };
                match hit {
                    Some(true) => {
                        first = Some(f.rule);
                        break;
                    }
                    Some(false) => {}
                    None => {
                        if let Some(rule) = rules.get(f.rule) {
                            fold.see(rule, None);
                        }
                    }
                }
            }
            if let Some(rule) = first.and_then(|r| rules.get(r)) {
                return SgDecision::Allow(rule);
            }
        }
        fold.finish(!self.enis[eni].missing_groups.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use crate::security_group::Direction;
    use crate::security_group::SgDecision;
    use crate::testkit::synth::{write_snapshot, SynthSpec};
    use crate::{Network, Protocol, Snapshot};
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

    fn same(a: &SgDecision<'_>, b: &SgDecision<'_>) -> bool {
        match (a, b) {
            (SgDecision::Allow(x), SgDecision::Allow(y))
            | (SgDecision::Unresolved(x), SgDecision::Unresolved(y)) => std::ptr::eq(*x, *y),
            (SgDecision::Deny, SgDecision::Deny)
            | (SgDecision::MissingGroups, SgDecision::MissingGroups) => true,
            _ => false,
        }
    }

    #[test]
    fn compiled_groups_decide_as_the_plain_evaluation() {
        let dir = tempfile::tempdir().unwrap();
        let spec = SynthSpec::quota(150);
        write_snapshot(&spec, dir.path()).unwrap();
        let net = Network::build(&Snapshot::load(dir.path()).unwrap());
        let members: Vec<IpAddr> = net
            .enis
            .iter()
            .flat_map(|e| e.private_ipv4.iter().chain(&e.ipv6).copied())
            .collect();
        let mut x: u64 = 0x1234_5678_9abc_def1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let (mut allow, mut deny, mut unresolved) = (0, 0, 0);
        for _ in 0..200_000 {
            let eni = (next() % net.enis.len() as u64) as usize;
            let dir = if next() % 2 == 0 {
                Direction::Inbound
            } else {
                Direction::Outbound
            };
            let peer = match next() % 4 {
                0 | 1 => members[(next() % members.len() as u64) as usize],
                2 => IpAddr::V4(Ipv4Addr::from(next() as u32)),
                _ => IpAddr::V6(Ipv6Addr::from(u128::from(next()) << 64 | 7)),
            };
            let proto = [6u8, 17, 1, 58, 50, 47, 132, 4, 0][(next() % 9) as usize];
            let port = [None, Some(22), Some(443), Some(53), Some(0), Some(40000)]
                [(next() % 6) as usize]
                .map(|p| {
                    if p == 40000 {
                        (next() % 65536) as u16
                    } else {
                        p
                    }
                });
            let icmp = [None, Some((8, 0)), Some((0, 0)), Some((3, 4))][(next() % 4) as usize];
            let refs = [Some(true), Some(false), None][(next() % 3) as usize];
            let plain = net.sg_evaluate(eni, dir, peer, Protocol::Number(proto), port, icmp, refs);
            let fast = net.sg_evaluate_fast(eni, dir, peer, proto, port, icmp, refs);
            assert!(
                same(&plain, &fast),
                "{eni} {dir:?} {peer} {proto} {port:?} {icmp:?} {refs:?}: {plain:?} vs {fast:?}"
            );
            match plain {
                SgDecision::Allow(_) => allow += 1,
                SgDecision::Deny => deny += 1,
                _ => unresolved += 1,
            }
        }
        // The cases reach every outcome.
        assert!(
            allow > 1000 && deny > 1000 && unresolved > 100,
            "{allow} {deny} {unresolved}"
        );
    }
}
