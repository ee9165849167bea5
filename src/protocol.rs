//! IP protocols and port sets: what a rule matches besides addresses.

use serde::Serialize;
use std::fmt;

/// TCP's protocol number.
pub const TCP: u8 = 6;
/// UDP's protocol number.
pub const UDP: u8 = 17;
/// ICMP's protocol number.
pub const ICMP: u8 = 1;
/// ICMPv6's protocol number.
pub const ICMPV6: u8 = 58;

/// The protocol of a packet or a query: one IANA number, or `All` (every protocol, every port).
///
/// ```
/// use vpcreach::Protocol;
/// assert_eq!("tcp".parse::<Protocol>().unwrap(), Protocol::Number(6));
/// assert_eq!("-1".parse::<Protocol>().unwrap(), Protocol::All);
/// assert_eq!(Protocol::Number(17).to_string(), "udp");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Every protocol (`-1` in the API, `all` on the command line).
    All,
    /// One protocol by IANA number.
    Number(u8),
}

impl Protocol {
    /// Whether ports (or ICMP type/code) are meaningful for this protocol.
    pub fn has_ports(self) -> bool {
        matches!(self, Protocol::Number(TCP | UDP))
    }

    /// Whether this is ICMP or ICMPv6.
    pub fn is_icmp(self) -> bool {
        matches!(self, Protocol::Number(ICMP | ICMPV6))
    }

    /// The short name as AWS writes it: `tcp`, `udp`, `icmp`, `icmpv6`, `all` or the number
    /// (`47`); [`Display`](fmt::Display) says `protocol 47 (GRE)` for people.
    ///
    /// ```
    /// use vpcreach::Protocol;
    /// assert_eq!(Protocol::Number(47).short(), "47");
    /// assert_eq!(Protocol::Number(47).to_string(), "protocol 47 (GRE)");
    /// ```
    pub fn short(self) -> String {
        match self {
            Protocol::Number(n) if !self.has_ports() && !self.is_icmp() => n.to_string(),
            _ => self.to_string(),
        }
    }

    /// The protocol of a rule as AWS writes it (`tcp`, `6`, `-1`, `icmpv6`, …).
    pub fn from_aws(s: &str) -> Option<Protocol> {
        s.parse().ok()
    }
}

impl std::str::FromStr for Protocol {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "-1" | "all" => Protocol::All,
            "tcp" => Protocol::Number(TCP),
            "udp" => Protocol::Number(UDP),
            "icmp" => Protocol::Number(ICMP),
            "icmpv6" | "icmp6" => Protocol::Number(ICMPV6),
            n => match n.parse::<u8>() {
                Ok(v) => Protocol::Number(v),
                Err(_) => {
                    return Err(format!(
                        "`{s}` is not a protocol: expected tcp, udp, icmp, icmpv6, all or a number 0-255"
                    ))
                }
            },
        })
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protocol::All => f.write_str("all"),
            Protocol::Number(TCP) => f.write_str("tcp"),
            Protocol::Number(UDP) => f.write_str("udp"),
            Protocol::Number(ICMP) => f.write_str("icmp"),
            Protocol::Number(ICMPV6) => f.write_str("icmpv6"),
            Protocol::Number(n) => match protocol_name(*n) {
                Some(name) => write!(f, "protocol {n} ({name})"),
                None => write!(f, "protocol {n}"),
            },
        }
    }
}

/// The IANA name of a protocol number that security groups and NACLs commonly name by number.
fn protocol_name(n: u8) -> Option<&'static str> {
    Some(match n {
        2 => "IGMP",
        4 => "IP-in-IP",
        41 => "IPv6 encapsulation",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        89 => "OSPF",
        103 => "PIM",
        112 => "VRRP",
        132 => "SCTP",
        _ => return None,
    })
}

/// In JSON a protocol is its short name (`tcp`, `all`) or its number as text (`47`), as AWS
/// writes it; text for people says `protocol 47 (GRE)`.
impl Serialize for Protocol {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.short())
    }
}

/// An inclusive range of ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PortRange {
    /// First port.
    pub from: u16,
    /// Last port (inclusive).
    pub to: u16,
}

impl PortRange {
    /// Every port.
    pub const ALL: PortRange = PortRange { from: 0, to: 65535 };
    /// Ephemeral ports any client may use: Linux, Windows, ELB and NAT gateway ranges together.
    pub const EPHEMERAL: PortRange = PortRange {
        from: 1024,
        to: 65535,
    };
    /// Linux's default ephemeral range (`net.ipv4.ip_local_port_range`).
    pub const LINUX: PortRange = PortRange {
        from: 32768,
        to: 60999,
    };
    /// Windows' dynamic port range (Windows Server 2008 and later).
    pub const WINDOWS: PortRange = PortRange {
        from: 49152,
        to: 65535,
    };
    /// The ports a NAT gateway uses for its side of a translated connection.
    pub const NAT_GATEWAY: PortRange = PortRange {
        from: 1024,
        to: 65535,
    };

    /// One port.
    pub fn single(p: u16) -> PortRange {
        PortRange { from: p, to: p }
    }

    /// Whether `p` is in the range.
    pub fn contains(&self, p: u16) -> bool {
        self.from <= p && p <= self.to
    }

    /// The overlap of two ranges.
    pub fn intersect(&self, o: &PortRange) -> Option<PortRange> {
        let from = self.from.max(o.from);
        let to = self.to.min(o.to);
        (from <= to).then_some(PortRange { from, to })
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from == self.to {
            write!(f, "{}", self.from)
        } else if *self == PortRange::ALL {
            f.write_str("all ports")
        } else {
            write!(f, "{}-{}", self.from, self.to)
        }
    }
}

/// A set of ports as sorted, disjoint ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct PortSet(Vec<PortRange>);

impl PortSet {
    /// The set holding one range.
    pub fn from_range(r: PortRange) -> PortSet {
        PortSet(vec![r])
    }

    /// The empty set.
    pub fn empty() -> PortSet {
        PortSet(Vec::new())
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ranges, sorted and disjoint.
    pub fn ranges(&self) -> &[PortRange] {
        &self.0
    }

    /// The lowest port, if any.
    pub fn first(&self) -> Option<u16> {
        self.0.first().map(|r| r.from)
    }

    /// Adds a range, keeping the set sorted and merged.
    pub fn insert(&mut self, r: PortRange) {
        self.0.push(r);
        self.0.sort();
        let mut merged: Vec<PortRange> = Vec::with_capacity(self.0.len());
        for r in self.0.drain(..) {
            match merged.last_mut() {
                Some(last) if u32::from(r.from) <= u32::from(last.to) + 1 => {
                    last.to = last.to.max(r.to);
                }
                _ => merged.push(r),
            }
        }
        self.0 = merged;
    }

    /// The ports of `self` that fall in `r`.
    pub fn intersect_range(&self, r: &PortRange) -> PortSet {
        PortSet(self.0.iter().filter_map(|x| x.intersect(r)).collect())
    }

    /// The ports of `self` not in `r`.
    pub fn minus_range(&self, r: &PortRange) -> PortSet {
        let mut out = Vec::new();
        for x in &self.0 {
            match x.intersect(r) {
                None => out.push(*x),
                Some(i) => {
                    if i.from > x.from {
                        out.push(PortRange {
                            from: x.from,
                            to: i.from - 1,
                        });
                    }
                    if i.to < x.to {
                        out.push(PortRange {
                            from: i.to + 1,
                            to: x.to,
                        });
                    }
                }
            }
        }
        PortSet(out)
    }

    /// The union of two sets.
    pub fn union(&self, o: &PortSet) -> PortSet {
        let mut s = self.clone();
        for r in &o.0 {
            s.insert(*r);
        }
        s
    }
}

/// The ephemeral ranges of common clients, by name: a stateless return path works for a client
/// only when it passes the client's whole range (aws-semantics 13).
pub const CLIENT_RANGES: [(&str, PortRange); 3] = [
    ("Linux", PortRange::LINUX),
    ("Windows", PortRange::WINDOWS),
    ("NAT gateway and ELB", PortRange::NAT_GATEWAY),
];

impl PortSet {
    /// Whether every port of `r` is in the set.
    ///
    /// ```
    /// use vpcreach::protocol::{PortRange, PortSet};
    /// let s = PortSet::from_range(PortRange::EPHEMERAL);
    /// assert!(s.covers(&PortRange::LINUX));
    /// assert!(!PortSet::from_range(PortRange::single(9000)).covers(&PortRange::LINUX));
    /// ```
    pub fn covers(&self, r: &PortRange) -> bool {
        let mut rest = PortSet::from_range(*r);
        for x in &self.0 {
            rest = rest.minus_range(x);
        }
        rest.is_empty()
    }

    /// The common clients (see [`CLIENT_RANGES`]) whose whole ephemeral range is in the set.
    pub fn clients(&self) -> Vec<&'static str> {
        CLIENT_RANGES
            .iter()
            .filter(|(_, r)| self.covers(r))
            .map(|(n, _)| *n)
            .collect()
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no port");
        }
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_names_and_numbers() {
        assert_eq!("UDP".parse::<Protocol>(), Ok(Protocol::Number(17)));
        assert_eq!("icmpv6".parse::<Protocol>(), Ok(Protocol::Number(58)));
        assert_eq!("47".parse::<Protocol>(), Ok(Protocol::Number(47)));
        assert!("bogus".parse::<Protocol>().is_err());
        assert!("300".parse::<Protocol>().is_err());
        assert!(Protocol::Number(6).has_ports());
        assert!(!Protocol::Number(47).has_ports());
        assert!(!Protocol::All.has_ports());
    }

    #[test]
    fn port_sets_subtract_and_merge() {
        let s = PortSet::from_range(PortRange::EPHEMERAL);
        let s = s.minus_range(&PortRange {
            from: 32768,
            to: 60999,
        });
        assert_eq!(s.to_string(), "1024-32767, 61000-65535");
        let u = s.union(&PortSet::from_range(PortRange {
            from: 32768,
            to: 60999,
        }));
        assert_eq!(u, PortSet::from_range(PortRange::EPHEMERAL));
        assert!(s.intersect_range(&PortRange::single(40000)).is_empty());
    }
}
