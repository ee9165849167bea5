//! Addresses and CIDRs written without the formatting machinery: `explain` writes several per
//! record, and `Ipv4Addr`'s `Display` (four padded integers through `fmt`) was about a sixth of
//! the cost of a printed record (callgrind). The output is the same as `Display`'s (a test checks).

use ipnet::IpNet;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};

/// Dotted decimal into `buf`; returns the length used.
fn v4(a: Ipv4Addr, buf: &mut [u8; 15]) -> usize {
    let mut n = 0;
    for (k, octet) in a.octets().into_iter().enumerate() {
        if k > 0 {
            buf[n] = b'.';
            n += 1;
        }
        let digits = [octet / 100, octet / 10 % 10, octet % 10];
        let skip = if octet >= 100 {
            0
        } else if octet >= 10 {
            1
        } else {
            2
        };
        for d in &digits[skip..] {
            buf[n] = b'0' + d;
            n += 1;
        }
    }
    n
}

/// An address, written as `IpAddr`'s `Display` writes it (no width or padding support).
#[derive(Debug, Clone, Copy)]
pub struct Ip(pub IpAddr);

impl fmt::Display for Ip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => {
                let mut buf = [0u8; 15];
                let n = v4(a, &mut buf);
                // Only ASCII digits and dots were written.
                f.write_str(std::str::from_utf8(&buf[..n]).map_err(|_| fmt::Error)?)
            }
            IpAddr::V6(a) => write!(f, "{a}"),
        }
    }
}

/// A CIDR, written as `IpNet`'s `Display` writes it.
#[derive(Debug, Clone, Copy)]
pub struct Cidr<'a>(pub &'a IpNet);

impl fmt::Display for Cidr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpNet::V4(n) => {
                let mut buf = [0u8; 15];
                let len = v4(n.addr(), &mut buf);
                f.write_str(std::str::from_utf8(&buf[..len]).map_err(|_| fmt::Error)?)?;
                f.write_str("/")?;
                let p = n.prefix_len();
                let digits = [b'0' + p / 10, b'0' + p % 10];
                let d = if p >= 10 { &digits[..] } else { &digits[1..] };
                f.write_str(std::str::from_utf8(d).map_err(|_| fmt::Error)?)
            }
            IpNet::V6(n) => write!(f, "{n}"),
        }
    }
}

/// Serializes an optional address as its text (for `#[serde(serialize_with)]`).
pub(crate) fn serialize_opt<S: serde::Serializer>(
    a: &Option<IpAddr>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match a {
        Some(IpAddr::V4(a)) => {
            let mut buf = [0u8; 15];
            let n = v4(*a, &mut buf);
            s.serialize_str(std::str::from_utf8(&buf[..n]).map_err(serde::ser::Error::custom)?)
        }
        Some(a) => s.collect_str(a),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn written_as_display_writes_them(bits in any::<u32>(), v6 in any::<u128>(), len in 0u8..=32, len6 in 0u8..=128) {
            let a = IpAddr::V4(Ipv4Addr::from(bits));
            prop_assert_eq!(Ip(a).to_string(), a.to_string());
            let b = IpAddr::V6(std::net::Ipv6Addr::from(v6));
            prop_assert_eq!(Ip(b).to_string(), b.to_string());
            let n = IpNet::new(a, len).unwrap();
            prop_assert_eq!(Cidr(&n).to_string(), n.to_string());
            let m = IpNet::new(b, len6).unwrap();
            prop_assert_eq!(Cidr(&m).to_string(), m.to_string());
            let json = |x: Option<IpAddr>| {
                let mut out = Vec::new();
                let mut ser = serde_json::Serializer::new(&mut out);
                serialize_opt(&x, &mut ser).unwrap();
                String::from_utf8(out).unwrap()
            };
            prop_assert_eq!(json(Some(a)), serde_json::to_string(&a).unwrap());
            prop_assert_eq!(json(Some(b)), serde_json::to_string(&b).unwrap());
            prop_assert_eq!(json(None), "null");
        }
    }

    #[test]
    fn edges() {
        for s in [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "100.10.1.0",
            "9.99.199.200",
        ] {
            let a: IpAddr = s.parse().unwrap();
            assert_eq!(Ip(a).to_string(), s);
        }
        for s in ["0.0.0.0/0", "10.0.0.0/8", "192.0.2.128/25", "10.1.2.3/32"] {
            let n: IpNet = s.parse().unwrap();
            assert_eq!(Cidr(&n).to_string(), s);
        }
    }
}
