//! The internet hop: leaving through an internet or egress-only internet gateway (public
//! addresses, NAT), and traffic from the internet to a public or Elastic IP.

use super::*;

impl<'n> Walker<'n> {
    pub(super) fn leave_to_internet(
        &mut self,
        gw: &str,
        mut pkt: Pkt,
        subnet: usize,
        src_eni: Option<usize>,
        egress_only: bool,
    ) -> Step {
        let net = self.net;
        let kind = if egress_only {
            ComponentKind::EgressOnlyInternetGateway
        } else {
            ComponentKind::InternetGateway
        };
        let layer = if egress_only {
            Layer::EgressOnlyInternetGateway
        } else {
            Layer::InternetGateway
        };
        if is_private(pkt.dst) {
            return Err(self.stop(
                (gw, kind),
                layer,
                vec![gw.to_string()],
                format!(
                    "{} is a private address: the internet does not route it",
                    pkt.dst
                ),
                Stop::Blocked(Reason::NoRoute),
            ));
        }
        let v6 = pkt.src.is_ipv6();
        if egress_only && !v6 {
            return Err(self.stop(
                (gw, kind),
                layer,
                vec![gw.to_string()],
                "an egress-only internet gateway carries IPv6 only".into(),
                Stop::Blocked(Reason::NoRoute),
            ));
        }
        // A NAT gateway's own connection: its subnet's exclusion counts (aws-semantics 36).
        let via_nat = !v6
            && self.mode == Mode::Request
            && self
                .nat
                .as_ref()
                .is_some_and(|n| n.private_ip == Some(pkt.src));
        let path = if egress_only {
            crate::bpa::Path::EgressOnly
        } else if via_nat {
            crate::bpa::Path::NatGateway
        } else {
            crate::bpa::Path::InternetGateway
        };
        let init = self.initiated(true);
        let detail;
        if v6 {
            detail = format!("{} leaves through {gw} with its own IPv6 address", pkt.src);
        } else {
            // The source needs a public address: its ENI's, or the NAT gateway's.
            let public = match &self.nat {
                Some(n) if n.private_ip == Some(pkt.src) && self.mode == Mode::Request => {
                    n.public_ip
                }
                _ => src_eni.and_then(|e| net.enis[e].public_for(pkt.src)),
            };
            let Some(public) = public else {
                return Err(self.stop(
                    (gw, kind),
                    layer,
                    vec![gw.to_string()],
                    format!(
                        "{} has no public or Elastic IP: the internet gateway drops its traffic",
                        pkt.src
                    ),
                    Stop::Blocked(Reason::IgwExpectsPublicAddress),
                ));
            };
            detail = format!("{gw} translates source {} to {public}", pkt.src);
            pkt.src = public;
        }
        self.bpa_check(gw, kind, Some(subnet), path, init)?;
        let check = Self::simple(layer, Decision::Allow, vec![gw.to_string()], detail);
        self.push(gw, kind, check);
        pkt.refs_ok = false;
        // A public address of the snapshot: the traffic comes back in through an internet gateway.
        let ours = net.eni_by_public_ip(pkt.dst).is_some()
            || (pkt.dst.is_ipv6() && net.eni_by_private_ip(pkt.dst, None).is_some())
            || self.nat_public(pkt.dst).is_some();
        if ours {
            return self.enter_from_internet(pkt);
        }
        let check = Self::simple(
            Layer::InternetGateway,
            Decision::Allow,
            vec![],
            format!("delivered to {} on the internet", pkt.dst),
        );
        self.push("internet", ComponentKind::External, check);
        Ok(Arrival::Internet { pkt })
    }

    pub(super) fn nat_public(&self, ip: IpAddr) -> Option<&crate::network::NatInfo> {
        self.net
            .nat_gateways
            .values()
            .find(|n| n.public_ip == Some(ip))
    }

    pub(super) fn enter_from_internet(&mut self, mut pkt: Pkt) -> Step {
        let net = self.net;
        pkt.refs_ok = false;
        // Responses to a NAT gateway's public address go back to the connection's source.
        if let Some(nat) = self.nat_public(pkt.dst).cloned() {
            if self.mode == Mode::Request {
                return Err(self.stop(
                    (&nat.id, ComponentKind::NatGateway),
                    Layer::NatGateway,
                    vec![nat.id.clone()],
                    format!(
                        "NAT gateway {} drops unsolicited inbound traffic to {}",
                        nat.id, pkt.dst
                    ),
                    Stop::Blocked(Reason::NatUnsolicitedInbound),
                ));
            }
            let Some(state) = self.nat.clone().filter(|s| s.nat_id == nat.id) else {
                return Err(self.stop(
                    (&nat.id, ComponentKind::NatGateway),
                    Layer::NatGateway,
                    vec![nat.id.clone()],
                    format!("NAT gateway {} has no connection for this response", nat.id),
                    Stop::Blocked(Reason::NatUnsolicitedInbound),
                ));
            };
            let vpc_igw = nat
                .subnet
                .and_then(|s| net.vpc(&net.subnets[s].vpc_id))
                .and_then(|v| v.internet_gateway.clone())
                .unwrap_or_else(|| "internet gateway".into());
            let check = Self::simple(
                Layer::InternetGateway,
                Decision::Allow,
                vec![vpc_igw.clone()],
                format!(
                    "{vpc_igw} translates destination {} to {}",
                    pkt.dst,
                    nat.private_ip.map(|p| p.to_string()).unwrap_or_default()
                ),
            );
            self.bpa_check(
                &vpc_igw,
                ComponentKind::InternetGateway,
                nat.subnet,
                crate::bpa::Path::NatGateway,
                crate::bpa::Initiated::FromInside,
            )?;
            self.push(&vpc_igw, ComponentKind::InternetGateway, check);
            if let Some(p) = nat.private_ip {
                pkt.dst = p;
            }
            self.cross(None, nat.subnet, &mut pkt)?;
            let check = Self::simple(
                Layer::NatGateway,
                Decision::Allow,
                vec![nat.id.clone()],
                format!(
                    "NAT gateway {} translates the response back to {}",
                    nat.id, state.orig_src
                ),
            );
            self.push(&nat.id, ComponentKind::NatGateway, check);
            pkt.dst = state.orig_src;
            pkt.dport = state.orig_sports.clone();
            let Some(ns) = nat.subnet else {
                return Err(self.no_interface(
                    &nat.id,
                    ComponentKind::NatGateway,
                    pkt.dst,
                    "the NAT gateway's subnet",
                ));
            };
            return self.route_from_subnet(ns, pkt, None);
        }
        let (eni, private, via) = if let Some((eni, private)) = net.eni_by_public_ip(pkt.dst) {
            (eni, private, "public")
        } else if let Some(eni) = pkt
            .dst
            .is_ipv6()
            .then(|| net.eni_by_private_ip(pkt.dst, None))
            .flatten()
        {
            (eni, pkt.dst, "ipv6")
        } else if let Some(eni) = net.eni_by_private_ip(pkt.dst, None) {
            // A private address of an ENI: the internet reaches an ENI only on a public address.
            let e = &net.enis[eni];
            let label = match &e.name {
                Some(n) => format!("{} ({})", e.id, crate::render::sanitize(n)),
                None => e.id.clone(),
            };
            let (detail, reason) = match e.public_for(pkt.dst) {
                Some(public) => (
                    format!("{} is the private address of {label}: from the internet it is reached on its public address {public}", pkt.dst),
                    Reason::NoRoute,
                ),
                None => (
                    format!("{label} has no public or Elastic IP: the internet cannot reach it ({} is a private address)", pkt.dst),
                    Reason::IgwExpectsPublicAddress,
                ),
            };
            return Err(self.stop(
                ("internet", ComponentKind::External),
                Layer::InternetGateway,
                vec![e.id.clone()],
                detail,
                Stop::Blocked(reason),
            ));
        } else {
            return Err(self.stop(
                ("internet", ComponentKind::External),
                Layer::InternetGateway,
                vec![],
                if is_private(pkt.dst) {
                    format!(
                        "{} is a private address: it cannot be reached from the internet",
                        pkt.dst
                    )
                } else {
                    format!(
                        "no network interface in the snapshot holds the public address {}",
                        pkt.dst
                    )
                },
                Stop::Blocked(Reason::NoRoute),
            ));
        };
        let e = &net.enis[eni];
        let vpc = e.vpc_id.as_deref().and_then(|v| net.vpc(v));
        let igw = vpc.and_then(|v| v.internet_gateway.clone());
        // The response to a connection that left through an egress-only internet gateway comes
        // back through it, even in a VPC that also has an internet gateway.
        let eigw_back = if via == "ipv6" && self.mode == Mode::Response {
            e.subnet
                .and_then(|s| net.subnets[s].route_table)
                .and_then(|rt| {
                    let mut unresolved = Vec::new();
                    net.route_tables[rt]
                        .lookup(pkt.src, &net.prefix_lists, &mut unresolved)
                        .and_then(|m| match &m.route.target {
                            Target::EgressOnlyInternetGateway(g) => Some(g.clone()),
                            _ => None,
                        })
                })
        } else {
            None
        };
        if let Some(eigw) = eigw_back.filter(|_| igw.is_some()) {
            self.bpa_check(
                &eigw,
                ComponentKind::EgressOnlyInternetGateway,
                e.subnet,
                crate::bpa::Path::EgressOnly,
                crate::bpa::Initiated::FromInside,
            )?;
            let check = Self::simple(
                Layer::EgressOnlyInternetGateway,
                Decision::Allow,
                vec![eigw.clone()],
                format!("{eigw} lets the response in"),
            );
            self.push(&eigw, ComponentKind::EgressOnlyInternetGateway, check);
            self.cross(None, e.subnet, &mut pkt)?;
            return self.arrive_eni(eni, pkt);
        }
        let Some(igw) = igw else {
            if via == "ipv6" && self.mode == Mode::Response {
                if let Some(eigw) = vpc.and_then(|v| v.egress_only_gateways.first().cloned()) {
                    self.bpa_check(
                        &eigw,
                        ComponentKind::EgressOnlyInternetGateway,
                        e.subnet,
                        crate::bpa::Path::EgressOnly,
                        crate::bpa::Initiated::FromInside,
                    )?;
                    let check = Self::simple(
                        Layer::EgressOnlyInternetGateway,
                        Decision::Allow,
                        vec![eigw.clone()],
                        format!("{eigw} lets the response in"),
                    );
                    self.push(&eigw, ComponentKind::EgressOnlyInternetGateway, check);
                    self.cross(None, e.subnet, &mut pkt)?;
                    return self.arrive_eni(eni, pkt);
                }
            }
            if via == "ipv6" {
                if let Some(eigw) = vpc.and_then(|v| v.egress_only_gateways.first().cloned()) {
                    return Err(self.stop(
                        (&eigw, ComponentKind::EgressOnlyInternetGateway),
                        Layer::EgressOnlyInternetGateway,
                        vec![eigw.clone()],
                        format!("{eigw} is egress-only: it drops connections from the internet"),
                        Stop::Blocked(Reason::EgressOnlyInbound),
                    ));
                }
            }
            return Err(self.stop(
                (e.vpc_id.as_deref().unwrap_or("vpc"), ComponentKind::Vpc),
                Layer::InternetGateway,
                vec![e.vpc_id.clone().unwrap_or_default()],
                format!(
                    "{} has no internet gateway: {} cannot be reached from the internet",
                    e.vpc_id.as_deref().unwrap_or("the VPC"),
                    pkt.dst
                ),
                Stop::Blocked(Reason::NoRoute),
            ));
        };
        let detail = if via == "public" {
            format!("{igw} translates destination {} to {private}", pkt.dst)
        } else {
            format!("{igw} delivers {} inbound", pkt.dst)
        };
        let check = Self::simple(
            Layer::InternetGateway,
            Decision::Allow,
            vec![igw.clone()],
            detail,
        );
        let init = self.initiated(false);
        let subnet = e.subnet;
        self.bpa_check(
            &igw,
            ComponentKind::InternetGateway,
            subnet,
            crate::bpa::Path::InternetGateway,
            init,
        )?;
        self.push(&igw, ComponentKind::InternetGateway, check);
        pkt.dst = private;
        // A gateway route table (edge association) may send inbound traffic to an appliance.
        if let Some(rt) = net.route_tables.iter().find(|t| t.gateways.contains(&igw)) {
            let mut unresolved = Vec::new();
            if let Some(m) = rt.lookup(pkt.dst, &net.prefix_lists, &mut unresolved) {
                if let Target::NetworkInterface(id) | Target::Instance(id) = &m.route.target {
                    let mut check = Self::simple(
                        Layer::RouteTable,
                        Decision::Allow,
                        vec![rt.id.clone()],
                        format!("gateway route table {} sends {} to {id}", rt.id, pkt.dst),
                    );
                    check.rule = rule_json(m.route);
                    self.push(&rt.id, ComponentKind::RouteTable, check);
                    let target = if id.starts_with("i-") {
                        net.eni_of_instance(id)
                    } else {
                        net.eni_idx(id)
                    };
                    let target_subnet = target.and_then(|t| net.enis[t].subnet);
                    return match (target, target_subnet) {
                        (Some(t), Some(ts)) => {
                            // Entering the appliance's subnet from outside.
                            self.nacl_check(ts, Direction::Inbound, &mut pkt)?;
                            self.via_appliance(ts, Some(t), id, pkt)
                        }
                        _ => self.via_appliance(0, None, id, pkt),
                    };
                }
            }
        }
        self.cross(None, e.subnet, &mut pkt)?;
        self.arrive_eni(eni, pkt)
    }
}
