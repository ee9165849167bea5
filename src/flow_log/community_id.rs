//! Community ID flow hashing (version 1), the flow identifier Zeek, Suricata and Elastic share
//! (<https://github.com/corelight/community-id-spec>).

use base64::Engine;
use sha1::{Digest, Sha1};
use std::net::IpAddr;

const ICMP: u8 = 1;
const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMPV6: u8 = 58;
const SCTP: u8 = 132;

/// The Community ID v1 (seed 0) of a flow, as `1:<base64 of SHA-1>`.
///
/// For TCP, UDP and SCTP both ports are needed. For ICMP and ICMPv6, `src_port` is the ICMP
/// type and `dst_port` the ICMP code, as Elastic reads flow-log records (whose ICMP "ports" are
/// usually `0 0`); request and reply types are paired as the spec says, so an echo request and
/// its reply get the same ID. Other protocols are hashed without ports. Returns `None` when a
/// needed port is missing.
///
/// ```
/// use vpcreach::flow_log::community_id;
/// let a = "128.232.110.120".parse().unwrap();
/// let b = "66.35.250.204".parse().unwrap();
/// let id = community_id(a, b, 6, Some(34855), Some(80));
/// assert_eq!(id.as_deref(), Some("1:LQU9qZlK+B5F3KDmev6m5PMibrg="));
/// // The same flow seen from the other side.
/// assert_eq!(community_id(b, a, 6, Some(80), Some(34855)), id);
/// assert_eq!(community_id(a, b, 6, None, Some(80)), None);
/// ```
pub fn community_id(
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    src_port: Option<u16>,
    dst_port: Option<u16>,
) -> Option<String> {
    community_id_seeded(0, src, dst, protocol, src_port, dst_port)
}

fn community_id_seeded(
    seed: u16,
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    src_port: Option<u16>,
    dst_port: Option<u16>,
) -> Option<String> {
    let src = octets(src);
    let dst = octets(dst);
    let ports = match protocol {
        TCP | UDP | SCTP => Some(order(&src, &dst, src_port?, dst_port?, false)),
        ICMP | ICMPV6 => {
            let (port1, port2, one_way) = icmp_port_equivalents(protocol, src_port?, dst_port?);
            Some(order(&src, &dst, port1, port2, one_way))
        }
        _ => None,
    };
    let (first, second, ports) = match ports {
        Some((swapped, p1, p2)) if swapped => (&dst, &src, Some((p1, p2))),
        Some((_, p1, p2)) => (&src, &dst, Some((p1, p2))),
        None if src.as_slice() <= dst.as_slice() => (&src, &dst, None),
        None => (&dst, &src, None),
    };

    let mut hasher = Sha1::new();
    hasher.update(seed.to_be_bytes());
    hasher.update(first.as_slice());
    hasher.update(second.as_slice());
    hasher.update([protocol, 0]);
    if let Some((p1, p2)) = ports {
        hasher.update(p1.to_be_bytes());
        hasher.update(p2.to_be_bytes());
    }
    let digest = hasher.finalize();
    Some(format!(
        "1:{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    ))
}

/// An address as the spec hashes it: 4 bytes for IPv4, 16 for IPv6.
enum Octets {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl Octets {
    fn as_slice(&self) -> &[u8] {
        match self {
            Octets::V4(o) => o,
            Octets::V6(o) => o,
        }
    }
}

fn octets(addr: IpAddr) -> Octets {
    match addr {
        IpAddr::V4(a) => Octets::V4(a.octets()),
        IpAddr::V6(a) => Octets::V6(a.octets()),
    }
}

/// Puts the endpoints in the spec's canonical order: returns whether to swap source and
/// destination, and the ports in the order they are then hashed.
fn order(src: &Octets, dst: &Octets, sport: u16, dport: u16, one_way: bool) -> (bool, u16, u16) {
    let src_first = (src.as_slice(), sport) < (dst.as_slice(), dport);
    if one_way || src_first {
        (false, sport, dport)
    } else {
        (true, dport, sport)
    }
}

/// The spec's ICMP "ports": (type, counterpart type or code, whether the message is one-way).
fn icmp_port_equivalents(protocol: u8, icmp_type: u16, code: u16) -> (u16, u16, bool) {
    let counterpart = if protocol == ICMP {
        match icmp_type {
            8 => Some(0),   // echo → echo reply
            0 => Some(8),   // echo reply → echo
            13 => Some(14), // timestamp
            14 => Some(13),
            15 => Some(16), // information
            16 => Some(15),
            10 => Some(9),  // router solicitation → advertisement (not the reverse)
            17 => Some(18), // address mask
            18 => Some(17),
            _ => None,
        }
    } else {
        match icmp_type {
            128 => Some(129), // echo
            129 => Some(128),
            133 => Some(134), // router solicitation / advertisement
            134 => Some(133),
            135 => Some(136), // neighbor solicitation / advertisement
            136 => Some(135),
            130 => Some(131), // multicast listener query / report
            131 => Some(130),
            139 => Some(140), // node information ("who are you")
            140 => Some(139),
            144 => Some(145), // home agent address discovery
            145 => Some(144),
            _ => None,
        }
    };
    match counterpart {
        Some(other) => (icmp_type, other, false),
        None => (icmp_type, code, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(proto: u8, s: &str, d: &str, sp: Option<u16>, dp: Option<u16>) -> Option<String> {
        community_id(s.parse().unwrap(), d.parse().unwrap(), proto, sp, dp)
    }

    /// The spec's baseline (baseline/baseline_deflt.json), whose ICMP "ports" are the type and
    /// the counterpart type; here the ICMP code passed is 0 where a counterpart exists.
    /// One flow of the spec's baseline: protocol, source, destination, ports, Community ID.
    type Case = (
        u8,
        &'static str,
        &'static str,
        Option<u16>,
        Option<u16>,
        &'static str,
    );

    /// The spec's baseline (baseline/baseline_deflt.json), whose ICMP "ports" are the type and
    /// the counterpart type; here the ICMP code passed is 0 where a counterpart exists.
    #[rustfmt::skip]
    const BASELINE: &[Case] = &[
        (58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", Some(135), Some(0), "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
        (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", Some(136), Some(0), "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="),
        (58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", Some(135), Some(0), "1:zavyT/cezQr1fmImYCwYnMXbgck="),
        (58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", Some(3), Some(0), "1:2ObVBgIn28oZvibYZhZMBgh7WdQ="),
        (58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", Some(1), Some(4), "1:hLZd0XGWojozrvxqE0dWB1iM6R0="),
        (58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", Some(128), Some(0), "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="),
        (58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", Some(129), Some(0), "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg="),
        (58, "fe80::200:86ff:fe05:80da", "ff02::2", Some(133), Some(0), "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0="),
        (58, "fe80::260:97ff:fe07:69ea", "ff02::1", Some(134), Some(0), "1:pkvHqCL88/tg1k4cPigmZXUtL00="),
        (1, "192.168.0.89", "192.168.0.1", Some(8), Some(0), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
        (1, "192.168.0.1", "192.168.0.89", Some(0), Some(0), "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="),
        (1, "10.0.0.1", "10.0.0.2", Some(11), Some(0), "1:YHxtAirCG//0OzkcVAukqKQN9xM="),
        (6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", Some(63943), Some(25), "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
        (6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", Some(25), Some(63943), "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4="),
        (132, "192.168.170.8", "192.168.170.56", Some(7), Some(7), "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
        (132, "192.168.170.56", "192.168.170.8", Some(7), Some(7), "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs="),
        (6, "128.232.110.120", "66.35.250.204", Some(34855), Some(80), "1:LQU9qZlK+B5F3KDmev6m5PMibrg="),
        (17, "192.168.1.52", "8.8.8.8", Some(54585), Some(53), "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
        (17, "8.8.8.8", "192.168.1.52", Some(53), Some(54585), "1:d/FP5EW3wiY1vCndhwleRRKHowQ="),
        (46, "10.1.12.1", "10.1.12.2", None, None, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="),
        (46, "10.1.12.2", "10.1.12.1", None, None, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw="),
    ];

    #[test]
    fn spec_baseline_vectors() {
        for (proto, s, d, sp, dp, want) in BASELINE {
            assert_eq!(
                id(*proto, s, d, *sp, *dp).as_deref(),
                Some(*want),
                "{proto} {s} {d}"
            );
        }
    }

    #[test]
    fn ports_are_required_for_port_protocols() {
        assert_eq!(id(17, "10.0.0.1", "10.0.0.2", Some(1), None), None);
        assert_eq!(id(1, "10.0.0.1", "10.0.0.2", None, Some(0)), None);
        assert!(id(47, "10.0.0.1", "10.0.0.2", None, None).is_some());
    }

    #[test]
    fn seed_changes_the_hash() {
        let a = "10.0.0.1".parse().unwrap();
        let b = "10.0.0.2".parse().unwrap();
        assert_ne!(
            community_id_seeded(1, a, b, 6, Some(1), Some(2)),
            community_id_seeded(0, a, b, 6, Some(1), Some(2))
        );
    }
}
