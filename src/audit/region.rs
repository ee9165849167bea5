//! Header space as disjoint-able boxes: (address interval × destination-port interval), per
//! address family. The static audit computes, exactly and without sampling, which (source
//! address, port) pairs the filters of an ENI let through; a box is the unit of that algebra.
//!
//! ```
//! use vpcreach::audit::region::{AddrRange, Region};
//! use vpcreach::PortRange;
//! let all = Region::from_box(AddrRange::from_cidr(&"10.0.0.0/8".parse().unwrap()), PortRange::ALL);
//! let ssh = Region::from_box(AddrRange::from_cidr(&"10.1.0.0/16".parse().unwrap()), PortRange::single(22));
//! let rest = all.minus(&ssh);
//! assert!(!rest.is_empty());
//! assert!(rest.intersect(&ssh).is_empty());
//! ```

use crate::protocol::PortRange;
use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An inclusive interval of addresses of one family (IPv4 held in the low 32 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AddrRange {
    /// Whether the addresses are IPv6.
    pub v6: bool,
    /// First address.
    pub lo: u128,
    /// Last address (inclusive).
    pub hi: u128,
}

impl AddrRange {
    /// The addresses of a CIDR.
    pub fn from_cidr(c: &IpNet) -> AddrRange {
        match c {
            IpNet::V4(n) => AddrRange {
                v6: false,
                lo: u128::from(u32::from(n.network())),
                hi: u128::from(u32::from(n.broadcast())),
            },
            IpNet::V6(n) => AddrRange {
                v6: true,
                lo: u128::from(n.network()),
                hi: u128::from(n.broadcast()),
            },
        }
    }

    /// One address.
    pub fn single(ip: IpAddr) -> AddrRange {
        let (v6, x) = encode(ip);
        AddrRange { v6, lo: x, hi: x }
    }

    /// Every address of a family.
    pub fn all(v6: bool) -> AddrRange {
        AddrRange {
            v6,
            lo: 0,
            hi: if v6 { u128::MAX } else { u128::from(u32::MAX) },
        }
    }

    /// The overlap of two intervals.
    pub fn intersect(&self, o: &AddrRange) -> Option<AddrRange> {
        if self.v6 != o.v6 {
            return None;
        }
        let lo = self.lo.max(o.lo);
        let hi = self.hi.min(o.hi);
        (lo <= hi).then_some(AddrRange {
            v6: self.v6,
            lo,
            hi,
        })
    }

    /// The first address.
    pub fn first(&self) -> IpAddr {
        decode(self.v6, self.lo)
    }

    /// A representative address: the first, or the one after it when the range is wider (a
    /// witness reads better as a host than as a network address).
    pub fn representative(&self) -> IpAddr {
        if self.hi.saturating_sub(self.lo) >= 2 {
            decode(self.v6, self.lo + 1)
        } else {
            decode(self.v6, self.lo)
        }
    }

    /// Whether an address is inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (v6, x) = encode(ip);
        v6 == self.v6 && self.lo <= x && x <= self.hi
    }
}

/// An address as (is IPv6, number).
pub fn encode(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

/// The address of a number.
pub fn decode(v6: bool, x: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(x))
    } else {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(x).unwrap_or(u32::MAX)))
    }
}

/// A set of (address, port) pairs as a list of boxes (they may overlap after unions).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Region {
    boxes: Vec<(AddrRange, PortRange)>,
}

impl Region {
    /// The empty region.
    pub fn empty() -> Region {
        Region::default()
    }

    /// One box.
    pub fn from_box(a: AddrRange, p: PortRange) -> Region {
        Region {
            boxes: vec![(a, p)],
        }
    }

    /// The boxes.
    pub fn boxes(&self) -> &[(AddrRange, PortRange)] {
        &self.boxes
    }

    /// Whether no pair is in the region.
    pub fn is_empty(&self) -> bool {
        self.boxes.is_empty()
    }

    /// Adds a box.
    pub fn push(&mut self, a: AddrRange, p: PortRange) {
        self.boxes.push((a, p));
    }

    /// The union.
    pub fn union(mut self, o: &Region) -> Region {
        self.boxes.extend_from_slice(&o.boxes);
        self
    }

    /// The intersection.
    pub fn intersect(&self, o: &Region) -> Region {
        let mut out = Vec::new();
        // The ports `o` spans: a box of `self` outside them meets none of `o`'s boxes.
        let Some(span) = o.port_span() else {
            return Region::empty();
        };
        for (a, p) in &self.boxes {
            if p.intersect(&span).is_none() {
                continue;
            }
            for (b, q) in &o.boxes {
                if let (Some(y), Some(x)) = (p.intersect(q), a.intersect(b)) {
                    out.push((x, y));
                }
            }
        }
        Region { boxes: out }
    }

    /// The smallest port range that holds every box's ports (`None` when empty).
    fn port_span(&self) -> Option<PortRange> {
        let from = self.boxes.iter().map(|(_, p)| p.from).min()?;
        let to = self.boxes.iter().map(|(_, p)| p.to).max()?;
        Some(PortRange { from, to })
    }

    /// The same set of pairs in fewer boxes: boxes of the same ports whose addresses overlap
    /// or touch are merged into one, and the boxes are sorted. Exact: no pair is added or lost.
    pub fn normalized(mut self) -> Region {
        if self.boxes.len() < 2 {
            return self;
        }
        self.boxes
            .sort_unstable_by_key(|(a, p)| (p.from, p.to, a.v6, a.lo, a.hi));
        let mut out: Vec<(AddrRange, PortRange)> = Vec::with_capacity(self.boxes.len());
        for (a, p) in self.boxes {
            if let Some((last, lp)) = out.last_mut() {
                if *lp == p && last.v6 == a.v6 && a.lo <= last.hi.saturating_add(1) {
                    last.hi = last.hi.max(a.hi);
                    continue;
                }
            }
            out.push((a, p));
        }
        Region { boxes: out }
    }

    /// The pairs of `self` that are not in `o`.
    pub fn minus(&self, o: &Region) -> Region {
        let mut cur = self.boxes.clone();
        for (b, q) in &o.boxes {
            let mut next = Vec::with_capacity(cur.len());
            for (a, p) in cur {
                subtract_box(a, p, *b, *q, &mut next);
            }
            cur = next;
            if cur.is_empty() {
                break;
            }
        }
        Region { boxes: cur }
    }

    /// Keeps the boxes whose addresses meet `set` (a 1-D address set), cut to it.
    pub fn restrict_addrs(&self, set: &[AddrRange]) -> Region {
        let mut out = Vec::new();
        for (a, p) in &self.boxes {
            for s in set {
                if let Some(x) = a.intersect(s) {
                    out.push((x, *p));
                }
            }
        }
        Region { boxes: out }
    }

    /// The addresses of the region (projection), possibly overlapping.
    pub fn addrs(&self) -> Vec<AddrRange> {
        self.boxes.iter().map(|(a, _)| *a).collect()
    }

    /// A point of the region: its smallest address, and the smallest port of that box, preferring
    /// `port` when the region holds it.
    pub fn witness(&self, prefer_port: Option<u16>) -> Option<(IpAddr, u16)> {
        if let Some(pp) = prefer_port {
            if let Some((a, _)) = self
                .boxes
                .iter()
                .filter(|(_, p)| p.contains(pp))
                .min_by_key(|(a, _)| (a.v6, a.lo))
            {
                return Some((a.representative(), pp));
            }
        }
        self.boxes
            .iter()
            .min_by_key(|(a, p)| (a.v6, a.lo, p.from))
            .map(|(a, p)| (a.representative(), p.from))
    }
}

fn subtract_box(
    a: AddrRange,
    p: PortRange,
    b: AddrRange,
    q: PortRange,
    out: &mut Vec<(AddrRange, PortRange)>,
) {
    let (Some(ai), Some(pi)) = (a.intersect(&b), p.intersect(&q)) else {
        out.push((a, p));
        return;
    };
    // Address parts outside the overlap keep every port; the overlap keeps the ports outside.
    if ai.lo > a.lo {
        out.push((AddrRange { hi: ai.lo - 1, ..a }, p));
    }
    if ai.hi < a.hi {
        out.push((AddrRange { lo: ai.hi + 1, ..a }, p));
    }
    if pi.from > p.from {
        out.push((
            ai,
            PortRange {
                from: p.from,
                to: pi.from - 1,
            },
        ));
    }
    if pi.to < p.to {
        out.push((
            ai,
            PortRange {
                from: pi.to + 1,
                to: p.to,
            },
        ));
    }
}

/// Subtracts 1-D address ranges.
pub fn addrs_minus(set: &[AddrRange], remove: &[AddrRange]) -> Vec<AddrRange> {
    let r = Region {
        boxes: set.iter().map(|a| (*a, PortRange::ALL)).collect(),
    };
    let o = Region {
        boxes: remove.iter().map(|a| (*a, PortRange::ALL)).collect(),
    };
    r.minus(&o).addrs()
}

/// The addresses of the internet: public IPv4 (everything but private, shared, loopback,
/// link-local, multicast and reserved space) and global unicast IPv6 (2000::/3).
pub fn internet() -> Vec<AddrRange> {
    let not_public: Vec<AddrRange> = [
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/3",
    ]
    .iter()
    .filter_map(|c| c.parse::<IpNet>().ok())
    .map(|c| AddrRange::from_cidr(&c))
    .collect();
    let mut out = addrs_minus(&[AddrRange::all(false)], &not_public);
    if let Ok(g) = "2000::/3".parse::<IpNet>() {
        out.push(AddrRange::from_cidr(&g));
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> AddrRange {
        AddrRange::from_cidr(&s.parse().unwrap())
    }

    #[test]
    fn subtraction_is_exact() {
        let all = Region::from_box(cidr("10.0.0.0/8"), PortRange::ALL);
        let hole = Region::from_box(cidr("10.1.0.0/16"), PortRange { from: 20, to: 30 });
        let rest = all.minus(&hole);
        assert!(rest.intersect(&hole).is_empty());
        // Everything else is still there.
        for (ip, port) in [
            ("10.1.2.3", 19),
            ("10.1.2.3", 31),
            ("10.2.0.0", 25),
            ("10.0.255.255", 25),
        ] {
            let p = Region::from_box(
                AddrRange::single(ip.parse().unwrap()),
                PortRange::single(port),
            );
            assert!(!rest.intersect(&p).is_empty(), "{ip}:{port}");
        }
        let p = Region::from_box(
            AddrRange::single("10.1.2.3".parse().unwrap()),
            PortRange::single(25),
        );
        assert!(rest.intersect(&p).is_empty());
    }

    #[test]
    fn internet_excludes_private_space() {
        let net = internet();
        let has = |ip: &str| net.iter().any(|r| r.contains(ip.parse().unwrap()));
        assert!(has("8.8.8.8"));
        assert!(has("203.0.113.5"));
        assert!(!has("10.1.2.3"));
        assert!(!has("172.20.0.1"));
        assert!(!has("192.168.1.1"));
        assert!(has("2001:db8::1"));
        assert!(!has("fd00::1"));
    }

    #[test]
    fn witness_prefers_the_asked_port() {
        let r = Region::from_box(cidr("198.51.100.0/24"), PortRange { from: 20, to: 30 });
        assert_eq!(
            r.witness(Some(22)),
            Some(("198.51.100.1".parse().unwrap(), 22))
        );
        assert_eq!(
            r.witness(Some(80)),
            Some(("198.51.100.1".parse().unwrap(), 20))
        );
    }
}
