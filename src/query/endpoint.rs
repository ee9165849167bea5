//! The ends of a query: what a user typed (an ENI or instance id, a private or public address,
//! any other address) resolved to an endpoint of the network, with its labels.

use super::*;

/// Whether an address is not routable on the internet (RFC 1918, shared, loopback, link-local,
/// unique-local IPv6, documentation ranges excluded on purpose: they stand for internet hosts).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || v4.is_unspecified()
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback() || (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// Why an address cannot be the end of a unicast connection, if it cannot.
fn not_unicast(net: &Network, ip: IpAddr) -> Option<String> {
    if ip.is_multicast() {
        return Some("a multicast address (VPCs carry multicast only through a transit gateway multicast domain, not modelled)".into());
    }
    if ip.is_unspecified() {
        return Some("the unspecified address".into());
    }
    if let IpAddr::V4(v4) = ip {
        if v4.is_broadcast() {
            return Some("the broadcast address (a VPC does not carry broadcast)".into());
        }
        if let Some(s) = net.subnet_of(ip) {
            for c in &net.subnets[s].cidrs {
                if let ipnet::IpNet::V4(n) = c {
                    if n.contains(&v4) && n.prefix_len() < 31 && v4 == n.broadcast() {
                        return Some(format!(
                            "the broadcast address of {} (a VPC does not carry broadcast)",
                            net.subnets[s].id
                        ));
                    }
                }
            }
        }
    }
    None
}

/// A resolved query end: the endpoint and how it was named.
pub type End = (Endpoint, EndpointInfo);

impl crate::network::NetworkBase {
    /// The subnet whose CIDR holds an address, if any (the most specific one).
    pub fn subnet_of(&self, ip: IpAddr) -> Option<usize> {
        self.subnet_cidrs
            .get_or_init(|| crate::network::SubnetCidrs::of(&self.subnets))
            .find(ip)
    }

    /// [`Network::subnet_of`](crate::NetworkBase::subnet_of) by a pass over every subnet: the reference the index is tested
    /// against.
    #[cfg(test)]
    pub(crate) fn subnet_of_by_scan(&self, ip: IpAddr) -> Option<usize> {
        self.subnets
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                s.cidrs
                    .iter()
                    .filter(|c| c.contains(&ip))
                    .map(|c| c.prefix_len())
                    .max()
                    .map(|len| (len, i))
            })
            .max()
            .map(|(_, i)| i)
    }
}

impl Network {
    /// Resolves what a user typed as a query end: an ENI id, an instance id, a NAT gateway id
    /// (its ENI), the `Name` tag of an ENI or its instance, a private IP in the snapshot, a
    /// public/Elastic IP of an ENI, or any other unicast address (`::ffff:` mapped IPv4
    /// addresses are read as IPv4).
    pub fn resolve(&self, input: &str) -> Result<(Endpoint, EndpointInfo), ResolveError> {
        let s = input.trim();
        if let Ok(ip) = s.parse::<IpAddr>() {
            let ip = match ip {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
                v4 => v4,
            };
            if let Some(why) = not_unicast(self, ip) {
                return Err(ResolveError::NotUnicast {
                    input: s.to_string(),
                    why,
                });
            }
            if let Some(eni) = self.eni_by_private_ip(ip, None) {
                return Ok((
                    Endpoint::Eni { eni, addr: ip },
                    self.info(input, Some(eni), ip, "eni"),
                ));
            }
            if let Some((eni, private)) = self.eni_by_public_ip(ip) {
                return Ok((
                    Endpoint::PublicIp {
                        eni,
                        public: ip,
                        private,
                    },
                    self.info(input, Some(eni), ip, "public_ip"),
                ));
            }
            if let Some(e) = self.withheld_alias(s, &ip.to_string()) {
                return Err(e);
            }
            let e = Endpoint::External(ip);
            let mut info = self.endpoint_info(&e);
            info.input = input.to_string();
            return Ok((e, info));
        }
        let kind = crate::network::component_kind_of(s);
        let (eni, note) = match kind {
            ComponentKind::NetworkInterface if s.starts_with("eni-") => (self.eni_idx(s), None),
            ComponentKind::NetworkInterface => (self.eni_of_instance(s), None),
            ComponentKind::NatGateway => {
                let Some(nat) = self.nat_gateways.get(s) else {
                    return Err(ResolveError::UnknownId {
                        input: s.to_string(),
                        suggestion: crate::suggest::closest(
                            s,
                            self.nat_gateways.keys().map(String::as_str),
                        ),
                    });
                };
                let Some(eni) = nat.eni else {
                    return Err(ResolveError::Gateway {
                        input: s.to_string(),
                        kind: "NAT gateway",
                        hint: "its network interface is not in the snapshot".into(),
                    });
                };
                let note = format!(
                    "{s} is a NAT gateway: the query starts or ends at its network interface {}",
                    self.enis[eni].id
                );
                (Some(eni), Some(note))
            }
            ComponentKind::InternetGateway | ComponentKind::EgressOnlyInternetGateway => {
                return Err(ResolveError::Gateway {
                    input: s.to_string(),
                    kind: kind_name(kind),
                    hint: "for traffic from or to the internet, use an internet address (such as `198.51.100.1`)".into(),
                })
            }
            ComponentKind::TransitGateway
            | ComponentKind::TransitGatewayAttachment
            | ComponentKind::VpnGateway
            | ComponentKind::PeeringConnection => {
                return Err(ResolveError::Gateway {
                    input: s.to_string(),
                    kind: kind_name(kind),
                    hint: "use the ENI, instance or address of a host on the other side".into(),
                })
            }
            ComponentKind::External => match self.eni_by_name(s)? {
                Some(eni) => (Some(eni), None),
                None => {
                    if let Some(e) = self.withheld_alias(s, s) {
                        return Err(e);
                    }
                    let names = self.enis.iter().filter_map(|e| e.name.as_deref());
                    return Err(ResolveError::Unrecognized {
                        input: s.to_string(),
                        suggestion: crate::suggest::closest(s, names.chain(self.known_ids())),
                    });
                }
            },
            _ if self.known_ids().any(|k| k == s) => {
                return Err(ResolveError::NotAnEndpoint(s.to_string(), kind_name(kind)))
            }
            _ => (None, None),
        };
        let Some(eni) = eni else {
            if let Some(why) = self.withheld.get(s) {
                return Err(ResolveError::Withheld {
                    input: s.to_string(),
                    why: crate::render::sanitize_line(why),
                });
            }
            if let Some(e) = self.withheld_alias(s, s) {
                return Err(e);
            }
            return Err(ResolveError::UnknownId {
                input: s.to_string(),
                suggestion: crate::suggest::closest(s, self.known_ids()),
            });
        };
        let e = &self.enis[eni];
        let Some(addr) = e.primary(false).or_else(|| e.primary(true)) else {
            return Err(ResolveError::NoAddress {
                input: s.to_string(),
                family: "IP",
            });
        };
        let mut info = self.info(input, Some(eni), addr, "eni");
        info.by_name = true;
        info.note = note;
        Ok((Endpoint::Eni { eni, addr }, info))
    }

    /// `input` (looked up as `key`) names an ENI left out of the model: why, as an error.
    fn withheld_alias(&self, input: &str, key: &str) -> Option<ResolveError> {
        let eni = self.withheld_aliases.get(key)?;
        let why = self.withheld.get(eni)?;
        Some(ResolveError::Withheld {
            input: input.to_string(),
            why: crate::render::sanitize_line(&format!(
                "it names `{eni}`, which is left out: {why}"
            )),
        })
    }

    /// The one ENI whose `Name` tag (or its instance's) is `name`.
    fn eni_by_name(&self, name: &str) -> Result<Option<usize>, ResolveError> {
        let found: Vec<usize> = (0..self.enis.len())
            .filter(|&i| self.enis[i].name.as_deref() == Some(name))
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(*one)),
            many => Err(ResolveError::AmbiguousName {
                input: name.to_string(),
                ids: many.iter().map(|&i| self.enis[i].id.clone()).collect(),
            }),
        }
    }

    /// Gives each end of a query as the other end sees it. An end named by id or name takes the
    /// address family of an end given as an address, and, seen from the internet, its public
    /// (Elastic) IPv4 address, or its IPv6 address for an IPv6 source; two typed addresses of
    /// different families are refused.
    pub fn orient(
        &self,
        from: (Endpoint, EndpointInfo),
        to: (Endpoint, EndpointInfo),
    ) -> Result<(End, End), ResolveError> {
        let fam = |e: &Endpoint| e.address().is_ipv6();
        if !from.1.by_name && !to.1.by_name && fam(&from.0) != fam(&to.0) {
            return Err(ResolveError::FamilyMismatch {
                from: from.1.input.clone(),
                to: to.1.input.clone(),
            });
        }
        let to = self.face(to, &from)?;
        let from = self.face(from, &to)?;
        Ok((from, to))
    }

    /// An end named by id or name, with the address its peer sees.
    fn face(
        &self,
        end: (Endpoint, EndpointInfo),
        peer: &(Endpoint, EndpointInfo),
    ) -> Result<(Endpoint, EndpointInfo), ResolveError> {
        let (Endpoint::Eni { eni, addr }, mut info) = end else {
            return Ok(end);
        };
        if !info.by_name {
            return Ok((Endpoint::Eni { eni, addr }, info));
        }
        let peer_addr = peer.0.address();
        let v6 = if peer.1.by_name {
            addr.is_ipv6()
        } else {
            peer_addr.is_ipv6()
        };
        let e = &self.enis[eni];
        let Some(private) = (if addr.is_ipv6() == v6 {
            Some(addr)
        } else {
            e.primary(v6)
        }) else {
            return Err(ResolveError::NoAddress {
                input: info.input.clone(),
                family: if v6 { "IPv6" } else { "IPv4" },
            });
        };
        info.address = private;
        let internet_peer = matches!(peer.0, Endpoint::External(ip) if !is_private(ip));
        if internet_peer && !v6 {
            if let Some(public) = e.public_for(private) {
                let note = format!(
                    "{} is reached from the internet on its public address {public} (the internet gateway translates it to {private})",
                    info.input
                );
                info.address = public;
                info.kind = "public_ip";
                info.note = Some(match info.note.take() {
                    Some(n) => format!("{n}; {note}"),
                    None => note,
                });
                return Ok((
                    Endpoint::PublicIp {
                        eni,
                        public,
                        private,
                    },
                    info,
                ));
            }
        }
        Ok((Endpoint::Eni { eni, addr: private }, info))
    }

    pub(super) fn info(
        &self,
        input: &str,
        eni: Option<usize>,
        addr: IpAddr,
        kind: &'static str,
    ) -> EndpointInfo {
        EndpointInfo {
            input: input.to_string(),
            eni: eni.map(|e| self.enis[e].id.clone()),
            instance: eni.and_then(|e| self.enis[e].instance_id.clone()),
            address: addr,
            kind,
            note: None,
            by_name: false,
        }
    }

    pub(super) fn endpoint_info(&self, e: &Endpoint) -> EndpointInfo {
        match *e {
            Endpoint::Eni { eni, addr } => self.info(&self.enis[eni].id, Some(eni), addr, "eni"),
            Endpoint::PublicIp { eni, public, .. } => {
                self.info(&public.to_string(), Some(eni), public, "public_ip")
            }
            Endpoint::External(ip) => self.info(
                &ip.to_string(),
                None,
                ip,
                if self.subnet_of(ip).is_some() {
                    "in_subnet"
                } else if is_private(ip) {
                    "external_private"
                } else {
                    "internet"
                },
            ),
        }
    }
}

#[cfg(test)]
mod subnet_index_tests {
    use crate::{Network, Snapshot};
    use std::net::IpAddr;

    /// The index answers as the pass over every subnet does, with overlapping CIDRs across
    /// VPCs, nested prefixes, equal CIDRs in two subnets and IPv6.
    #[test]
    fn subnet_index_agrees_with_a_scan() {
        let subnets = [
            ("subnet-a", "vpc-1", "10.0.0.0/16", Some("2600:1f18:1::/64")),
            ("subnet-b", "vpc-1", "10.0.1.0/24", None),
            ("subnet-c", "vpc-2", "10.0.1.0/24", Some("2600:1f18:1::/56")),
            ("subnet-d", "vpc-2", "10.0.1.128/25", None),
            ("subnet-e", "vpc-3", "172.16.0.0/12", None),
            ("subnet-f", "vpc-3", "0.0.0.0/0", None),
            (
                "subnet-g",
                "vpc-4",
                "192.168.7.7/32",
                Some("2600:1f18:1:0:1::/80"),
            ),
        ];
        let items: Vec<String> = subnets
            .iter()
            .map(|(id, vpc, v4, v6)| {
                let v6 = v6.map_or(String::new(), |c| {
                    format!(r#","Ipv6CidrBlockAssociationSet":[{{"Ipv6CidrBlock":"{c}"}}]"#)
                });
                format!(r#"{{"SubnetId":"{id}","VpcId":"{vpc}","CidrBlock":"{v4}"{v6}}}"#)
            })
            .collect();
        let json = format!(r#"{{"Subnets":[{}]}}"#, items.join(","));
        let net = Network::build(&Snapshot::from_json_str(&json).unwrap());
        assert_eq!(net.subnets.len(), subnets.len());
        // Addresses around every boundary, and a spread of others.
        let mut probes: Vec<IpAddr> = [
            "10.0.0.0",
            "10.0.0.255",
            "10.0.1.0",
            "10.0.1.127",
            "10.0.1.128",
            "10.0.1.255",
            "10.0.2.0",
            "10.1.0.0",
            "9.255.255.255",
            "172.15.255.255",
            "172.16.0.0",
            "172.31.255.255",
            "172.32.0.0",
            "192.168.7.6",
            "192.168.7.7",
            "192.168.7.8",
            "255.255.255.255",
            "0.0.0.0",
            "2600:1f18:1::",
            "2600:1f18:1::1",
            "2600:1f18:1:0:1::5",
            "2600:1f18:1:0:2::",
            "2600:1f18:1:ff::1",
            "2600:1f18:2::1",
            "::1",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let hi = (x >> 32) as u32;
            probes.push(IpAddr::from(std::net::Ipv4Addr::from(match x % 3 {
                0 => 0x0a00_0000 | (hi & 0x0003_ffff),
                1 => 0xac10_0000 | (hi & 0x001f_ffff),
                _ => hi,
            })));
            probes.push(IpAddr::from(std::net::Ipv6Addr::from(
                (0x2600_1f18_0001_u128 << 80) | u128::from(x & 0xffff_ffff_ffff) << 16,
            )));
        }
        for ip in probes {
            assert_eq!(net.subnet_of(ip), net.subnet_of_by_scan(ip), "{ip}");
        }
        assert_eq!(
            net.subnet_of("10.0.1.200".parse().unwrap())
                .map(|i| net.subnets[i].id.as_str()),
            Some("subnet-d")
        );
    }
}
