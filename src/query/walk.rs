//! The walk inside a VPC: leaving an ENI, the route lookup in its subnet (local, blackhole,
//! appliance and gateway targets), delivery to an ENI, and traffic to AWS service addresses that
//! no security group or NACL filters.

use super::*;

/// Well-known addresses AWS does not filter with security groups or NACLs (aws-semantics 9, 15).
pub(super) fn exempt_service(
    net: &Network,
    src_vpc: Option<&str>,
    dst: IpAddr,
) -> Option<&'static str> {
    match dst {
        IpAddr::V4(v4) => {
            if v4 == Ipv4Addr::new(169, 254, 169, 254) {
                return Some("instance metadata service");
            }
            if v4 == Ipv4Addr::new(169, 254, 169, 123) {
                return Some("Amazon Time Sync Service");
            }
            if v4 == Ipv4Addr::new(169, 254, 169, 253) {
                return Some("Route 53 Resolver");
            }
            let vpc = net.vpc(src_vpc?)?;
            for c in &vpc.cidrs {
                if let ipnet::IpNet::V4(n) = c {
                    let base = u32::from(n.network());
                    if u32::from(v4) == base.wrapping_add(2) {
                        return Some("Route 53 Resolver (VPC base + 2)");
                    }
                }
            }
            None
        }
        IpAddr::V6(v6) => {
            let svc = [
                (0x254u16, "instance metadata service"),
                (0x123, "Amazon Time Sync Service"),
                (0x253, "Route 53 Resolver"),
            ];
            for (last, name) in svc {
                if v6 == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, last) {
                    return Some(name);
                }
            }
            None
        }
    }
}

impl<'n> Walker<'n> {
    pub(super) fn depart_eni(&mut self, eni: usize, mut pkt: Pkt) -> Step {
        let net = self.net;
        let e = &net.enis[eni];
        if self.mode == Mode::Request {
            if let Some(svc) = exempt_service(net, e.vpc_id.as_deref(), pkt.dst) {
                let check = Self::simple(
                    Layer::Exempt,
                    Decision::Allow,
                    vec![],
                    format!(
                        "{} ({}) is not filtered by security groups or network ACLs",
                        pkt.dst, svc
                    ),
                );
                self.push(&e.id, ComponentKind::NetworkInterface, check);
                return Ok(Arrival::Exempt);
            }
        }
        self.sg_check(eni, Direction::Outbound, &pkt)?;
        let Some(subnet) = e.subnet else {
            return Err(self.stop(
                (&e.id, ComponentKind::NetworkInterface),
                Layer::RouteTable,
                vec![],
                "the ENI's subnet is not in the snapshot".into(),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        pkt.refs_ok = true;
        self.route_from_subnet(subnet, pkt, Some(eni))
    }

    pub(super) fn route_from_subnet(
        &mut self,
        subnet: usize,
        mut pkt: Pkt,
        src_eni: Option<usize>,
    ) -> Step {
        let net = self.net;
        self.steps += 1;
        let s = &net.subnets[subnet];
        if self.steps > 12 {
            return Err(self.stop(
                (&s.id, ComponentKind::Subnet),
                Layer::RouteTable,
                vec![],
                "the path loops between route tables".into(),
                Stop::Blocked(Reason::RoutingLoop),
            ));
        }
        let Some(rti) = s.route_table else {
            return Err(self.stop(
                (&s.id, ComponentKind::Subnet),
                Layer::RouteTable,
                vec![],
                "the subnet has no route table in the snapshot (and its VPC no main table)".into(),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        let rt = &net.route_tables[rti];
        let mut unresolved = Vec::new();
        let found = rt.lookup(pkt.dst, &net.prefix_lists, &mut unresolved);
        let Some(m) = found else {
            let (reason, decision, detail) = if unresolved.is_empty() {
                (
                    Reason::NoRoute,
                    Decision::Deny,
                    format!("no route matches {}", pkt.dst),
                )
            } else {
                (
                    Reason::UnknownPrefixList,
                    Decision::Unknown,
                    format!(
                        "no route matches {}; routes to prefix lists {} could, but their entries are not in the snapshot",
                        pkt.dst,
                        unresolved.join(", ")
                    ),
                )
            };
            let check = Self::simple(Layer::RouteTable, decision, vec![rt.id.clone()], detail);
            return Err(if decision == Decision::Deny {
                self.deny(&rt.id, ComponentKind::RouteTable, check, reason)
            } else {
                self.unknown(&rt.id, ComponentKind::RouteTable, check, reason)
            });
        };
        let route = m.route;
        let mut check = Self::simple(
            Layer::RouteTable,
            Decision::Allow,
            vec![rt.id.clone()],
            format!("{} matches route {route}", pkt.dst),
        );
        check.rule = rule_json(route);
        if route.blackhole {
            check.decision = Decision::Deny;
            check.detail = format!(
                "{} matches route {route}: the route is a blackhole (its target was deleted)",
                pkt.dst
            );
            return Err(self.deny(
                &rt.id,
                ComponentKind::RouteTable,
                check,
                Reason::BadStateRoute,
            ));
        }
        self.push(&rt.id, ComponentKind::RouteTable, check);
        let vpc_id = s.vpc_id.clone();
        match route.target.clone() {
            Target::Local => self.deliver_local(subnet, &vpc_id, pkt),
            Target::InternetGateway(igw) => {
                self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                self.leave_to_internet(&igw, pkt, subnet, src_eni, false)
            }
            Target::EgressOnlyInternetGateway(eigw) => {
                self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                self.leave_to_internet(&eigw, pkt, subnet, src_eni, true)
            }
            Target::NatGateway(nat) => self.via_nat(subnet, &nat, pkt),
            Target::Peering(pcx) => {
                self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                self.via_peering(&vpc_id, &pcx, pkt)
            }
            Target::TransitGateway(tgw) => {
                self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                let az = src_eni
                    .and_then(|e| net.enis[e].availability_zone.clone())
                    .or_else(|| s.availability_zone.clone());
                self.via_tgw(&vpc_id, &tgw, az, pkt)
            }
            Target::VpcEndpoint(vpce) => {
                let ep = net.endpoints.get(&vpce);
                let kind = ep.map(|e| e.endpoint_type.as_str()).unwrap_or("Gateway");
                if kind.eq_ignore_ascii_case("Gateway") {
                    self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                    let svc = ep
                        .and_then(|e| e.service_name.clone())
                        .unwrap_or_else(|| "an AWS service".into());
                    let check = Self::simple(
                        Layer::RouteTable,
                        Decision::Allow,
                        vec![vpce.clone()],
                        format!("delivered to {svc} through gateway endpoint {vpce}"),
                    );
                    self.push(&vpce, ComponentKind::VpcEndpoint, check);
                    Ok(Arrival::Service {
                        pkt,
                        subnet: Some(subnet),
                    })
                } else {
                    Err(self.stop((&vpce, ComponentKind::VpcEndpoint), Layer::NotModelled, vec![vpce.clone()], format!("traffic goes through {kind} endpoint {vpce} (an appliance behind a load balancer), not modelled"), Stop::Unknown(Reason::NotModelled)))
                }
            }
            Target::NetworkInterface(id) => self.via_appliance(subnet, net.eni_idx(&id), &id, pkt),
            Target::Instance(id) => self.via_appliance(subnet, net.eni_of_instance(&id), &id, pkt),
            Target::VpnGateway(vgw) => {
                self.nacl_check(subnet, Direction::Outbound, &mut pkt)?;
                Err(self.stop((&vgw, ComponentKind::VpnGateway), Layer::NotModelled, vec![vgw.clone()], format!("traffic leaves AWS through virtual private gateway {vgw} (VPN or Direct Connect); what happens beyond it is not modelled"), Stop::Unknown(Reason::NotModelled)))
            }
            Target::Other(id) => Err(self.stop(
                (&id, ComponentKind::External),
                Layer::NotModelled,
                vec![id.clone()],
                format!("the route's target {id} is not modelled"),
                Stop::Unknown(Reason::NotModelled),
            )),
        }
    }

    pub(super) fn no_interface(
        &mut self,
        component: &str,
        kind: ComponentKind,
        dst: IpAddr,
        where_: &str,
    ) -> Stop {
        let check = Self::simple(
            Layer::Address,
            Decision::Deny,
            vec![component.to_string()],
            format!("no network interface in {where_} has the address {dst}"),
        );
        self.deny(component, kind, check, Reason::NoRoute)
    }

    pub(super) fn deliver_local(&mut self, subnet: usize, vpc: &str, mut pkt: Pkt) -> Step {
        let net = self.net;
        let Some(dst) = net.eni_by_private_ip(pkt.dst, Some(vpc)) else {
            // An address of a subnet that no ENI of the snapshot holds: an ENI shared from
            // another account, or created after the snapshot (Lambda, endpoints).
            let held = net
                .subnet_of(pkt.dst)
                .filter(|&t| net.subnets[t].vpc_id == vpc);
            let Some(t) = held else {
                return Err(self.no_interface(vpc, ComponentKind::Vpc, pkt.dst, vpc));
            };
            self.cross(Some(subnet), Some(t), &mut pkt)?;
            self.unheld(t, pkt.dst, Direction::Inbound);
            return Ok(Arrival::Unheld { pkt });
        };
        self.cross(Some(subnet), net.enis[dst].subnet, &mut pkt)?;
        self.arrive_eni(dst, pkt)
    }

    /// Records that an address of subnet `t` is held by no ENI of the snapshot: its security
    /// groups are unknown, so the answer can be no better than unknown.
    pub(super) fn unheld(&mut self, t: usize, addr: IpAddr, dir: Direction) {
        let s = &self.net.subnets[t];
        let check = Check {
            direction: Some(dir),
            ..Self::simple(
                Layer::SecurityGroup,
                Decision::Unknown,
                vec![s.id.clone()],
                format!(
                    "no network interface of the snapshot holds {addr} in {}: its security groups are not known (an ENI shared from another account, or created after the snapshot)",
                    s.id
                ),
            )
        };
        self.push(&addr.to_string(), ComponentKind::NetworkInterface, check);
        self.unheld = true;
    }

    pub(super) fn arrive_eni(&mut self, eni: usize, pkt: Pkt) -> Step {
        self.sg_check(eni, Direction::Inbound, &pkt)?;
        Ok(Arrival::Eni { eni, pkt })
    }

    pub(super) fn via_appliance(
        &mut self,
        subnet: usize,
        eni: Option<usize>,
        id: &str,
        mut pkt: Pkt,
    ) -> Step {
        let net = self.net;
        let Some(eni) = eni else {
            return Err(self.stop(
                (id, ComponentKind::NetworkInterface),
                Layer::RouteTable,
                vec![id.to_string()],
                format!("the route's target {id} is not in the snapshot"),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        self.cross(Some(subnet), net.enis[eni].subnet, &mut pkt)?;
        self.sg_check(eni, Direction::Inbound, &pkt)?;
        let e = &net.enis[eni];
        if e.source_dest_check {
            return Err(self.stop((&e.id, ComponentKind::NetworkInterface), Layer::SourceDestCheck, vec![e.id.clone()], format!(
                    "the route sends traffic for {} through {}, whose source/destination check is enabled",
                    pkt.dst, e.id
                ), Stop::Blocked(Reason::SourceDestCheck)));
        }
        Err(self.stop((&e.id, ComponentKind::NetworkInterface), Layer::NotModelled, vec![e.id.clone()], format!(
                "traffic is handed to appliance {}; what it forwards is not modelled (security-group references no longer match after it)",
                e.id
            ), Stop::Unknown(Reason::NotModelled)))
    }

    pub(super) fn return_from_service(
        &mut self,
        subnet: Option<usize>,
        src_eni: usize,
        mut pkt: Pkt,
    ) -> Step {
        if let Some(s) = subnet {
            let check = Self::simple(
                Layer::RouteTable,
                Decision::Allow,
                vec![],
                "the AWS service responds through the gateway endpoint".into(),
            );
            self.push("aws-service", ComponentKind::External, check);
            self.nacl_check(s, Direction::Inbound, &mut pkt)?;
        }
        self.arrive_eni(src_eni, pkt)
    }
}
