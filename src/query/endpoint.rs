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

impl Network {
    /// Resolves what a user typed as a query end: an ENI id, an instance id, a private IP in the
    /// snapshot, a public/Elastic IP of an ENI, or any other address.
    pub fn resolve(&self, input: &str) -> Result<(Endpoint, EndpointInfo), ResolveError> {
        let s = input.trim();
        if let Ok(ip) = s.parse::<IpAddr>() {
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
            let kind = if is_private(ip) {
                "external_private"
            } else {
                "internet"
            };
            return Ok((Endpoint::External(ip), self.info(input, None, ip, kind)));
        }
        let by_id = if s.starts_with("eni-") {
            self.eni_idx(s)
        } else if s.starts_with("i-") {
            self.eni_of_instance(s)
        } else {
            let kind = crate::network::component_kind_of(s);
            if kind != ComponentKind::External && self.known_ids().any(|k| k == s) {
                return Err(ResolveError::NotAnEndpoint(s.to_string(), kind_name(kind)));
            }
            if kind == ComponentKind::External {
                return Err(ResolveError::Unrecognized(s.to_string()));
            }
            None
        };
        match by_id {
            Some(eni) => {
                let e = &self.enis[eni];
                let addr = e.primary(false).or_else(|| e.primary(true));
                match addr {
                    Some(a) => Ok((
                        Endpoint::Eni { eni, addr: a },
                        self.info(input, Some(eni), a, "eni"),
                    )),
                    None => Err(ResolveError::Unrecognized(format!(
                        "{s} (it has no address)"
                    ))),
                }
            }
            None => Err(ResolveError::UnknownId {
                input: s.to_string(),
                suggestion: crate::suggest::closest(s, self.known_ids()),
            }),
        }
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
                if is_private(ip) {
                    "external_private"
                } else {
                    "internet"
                },
            ),
        }
    }
}
