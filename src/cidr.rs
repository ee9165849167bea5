//! CIDR blocks: whether an address lies in one, inlined for the hot paths of evaluation. Shared
//! by security groups, network ACLs and the model, so that none of them depends on another for it.

use ipnet::IpNet;
use std::net::IpAddr;

/// Whether `net` contains `addr`: [`ipnet::IpNet::contains`], inlined for the hot paths.
#[inline]
pub fn cidr_contains(net: &IpNet, addr: IpAddr) -> bool {
    match (net, addr) {
        (IpNet::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(n.prefix_len()))
                .unwrap_or(0);
            (u32::from(a) ^ u32::from(n.addr())) & mask == 0
        }
        (IpNet::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(n.prefix_len()))
                .unwrap_or(0);
            (u128::from(a) ^ u128::from(n.addr())) & mask == 0
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_contains_as_ipnet() {
        use ipnet::IpNet;
        for (net, addr) in [
            ("10.0.0.0/8", "10.1.2.3"),
            ("10.0.0.0/8", "11.0.0.0"),
            ("10.1.2.3/32", "10.1.2.3"),
            ("10.1.2.3/32", "10.1.2.4"),
            ("10.1.2.3/24", "10.1.2.200"),
            ("0.0.0.0/0", "1.2.3.4"),
            ("0.0.0.0/0", "::1"),
            ("::/0", "1.2.3.4"),
            ("::/0", "2001:db8::1"),
            ("2001:db8::/32", "2001:db8:1::1"),
            ("2001:db8::/32", "2001:db9::1"),
            ("2001:db8::1/128", "2001:db8::1"),
        ] {
            let net: IpNet = net.parse().unwrap();
            let addr: IpAddr = addr.parse().unwrap();
            assert_eq!(
                cidr_contains(&net, addr),
                net.contains(&addr),
                "{net} {addr}"
            );
        }
    }
}
