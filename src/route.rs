//! Route tables: longest-prefix match over a subnet's table (explicit association, else the VPC's
//! main table), with AWS's tie-breaks: static beats propagated, a CIDR beats a prefix list.

use crate::snapshot::{Route, RouteTable};
use ipnet::IpNet;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

/// Where a route sends traffic.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum Target {
    /// Within the VPC.
    Local,
    /// An internet gateway.
    InternetGateway(String),
    /// An egress-only internet gateway (IPv6 out only).
    EgressOnlyInternetGateway(String),
    /// A NAT gateway.
    NatGateway(String),
    /// A VPC peering connection.
    Peering(String),
    /// A transit gateway.
    TransitGateway(String),
    /// An ENI (a middlebox).
    NetworkInterface(String),
    /// An instance (a middlebox).
    Instance(String),
    /// A virtual private gateway (VPN, Direct Connect): leaves the modelled network.
    VpnGateway(String),
    /// A VPC endpoint (gateway endpoint for S3/DynamoDB, or a GWLB endpoint).
    VpcEndpoint(String),
    /// Anything else (local gateway, carrier gateway, core network): not modelled.
    Other(String),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Local => f.write_str("local"),
            Target::InternetGateway(id)
            | Target::EgressOnlyInternetGateway(id)
            | Target::NatGateway(id)
            | Target::Peering(id)
            | Target::TransitGateway(id)
            | Target::NetworkInterface(id)
            | Target::Instance(id)
            | Target::VpnGateway(id)
            | Target::VpcEndpoint(id)
            | Target::Other(id) => f.write_str(id),
        }
    }
}

/// The destination of a route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Destination {
    /// A CIDR.
    Cidr(IpNet),
    /// A prefix list.
    PrefixList(String),
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Destination::Cidr(c) => write!(f, "{c}"),
            Destination::PrefixList(p) => f.write_str(p),
        }
    }
}

/// One compiled route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompiledRoute {
    /// Destination.
    pub destination: Destination,
    /// Target.
    pub target: Target,
    /// Whether the route is a blackhole (its target was deleted).
    pub blackhole: bool,
    /// Whether the route was propagated (from a VGW).
    pub propagated: bool,
}

impl fmt::Display for CompiledRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} → {}", self.destination, self.target)?;
        if self.blackhole {
            f.write_str(" (blackhole)")?;
        }
        if self.propagated {
            f.write_str(" (propagated)")?;
        }
        Ok(())
    }
}

/// A route table with compiled routes.
#[derive(Debug, Clone)]
pub struct CompiledRouteTable {
    /// `rtb-…`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Whether it is the VPC's main table.
    pub main: bool,
    /// Explicitly associated subnets.
    pub subnets: Vec<String>,
    /// Edge-associated gateways (gateway route tables).
    pub gateways: Vec<String>,
    /// Routes.
    pub routes: Vec<CompiledRoute>,
    /// Routes that could not be read.
    pub problems: Vec<String>,
}

/// The route chosen for an address, with the prefix length that made it win.
#[derive(Debug, Clone, Copy)]
pub struct RouteMatch<'a> {
    /// The route.
    pub route: &'a CompiledRoute,
    /// The matched prefix length (for a prefix-list route, the matching entry's).
    pub prefix_len: u8,
}

impl CompiledRouteTable {
    /// Compiles a route table.
    pub fn compile(rt: &RouteTable) -> CompiledRouteTable {
        let mut t = CompiledRouteTable {
            id: rt.route_table_id.clone(),
            vpc_id: rt.vpc_id.clone(),
            main: rt.associations.iter().any(|a| a.main == Some(true)),
            subnets: rt
                .associations
                .iter()
                .filter(|a| association_active(a.association_state.as_ref()))
                .filter_map(|a| a.subnet_id.clone())
                .collect(),
            gateways: rt
                .associations
                .iter()
                .filter(|a| association_active(a.association_state.as_ref()))
                .filter_map(|a| a.gateway_id.clone())
                .collect(),
            routes: Vec::new(),
            problems: Vec::new(),
        };
        for r in &rt.routes {
            match compile_route(r) {
                Ok(c) => t.routes.push(c),
                Err(e) => t.problems.push(e),
            }
        }
        t
    }

    /// Longest-prefix match for `ip`. Prefix-list routes are expanded through `prefix_lists`
    /// (id → CIDRs); a list missing from the map cannot match and is returned in `unresolved`.
    pub fn lookup<'a>(
        &'a self,
        ip: IpAddr,
        prefix_lists: &HashMap<String, Vec<IpNet>>,
        unresolved: &mut Vec<String>,
    ) -> Option<RouteMatch<'a>> {
        let mut best: Option<(RouteMatch<'a>, (u8, bool, bool))> = None;
        for r in &self.routes {
            let len = match &r.destination {
                Destination::Cidr(c) => c.contains(&ip).then_some(c.prefix_len()),
                Destination::PrefixList(id) => match prefix_lists.get(id) {
                    Some(cidrs) => cidrs
                        .iter()
                        .filter(|c| c.contains(&ip))
                        .map(|c| c.prefix_len())
                        .max(),
                    None => {
                        unresolved.push(id.clone());
                        None
                    }
                },
            };
            let Some(len) = len else { continue };
            // Rank: longest prefix, then static over propagated, then CIDR over prefix list.
            let rank = (
                len,
                !r.propagated,
                matches!(r.destination, Destination::Cidr(_)),
            );
            if best.as_ref().is_none_or(|(_, b)| rank > *b) {
                best = Some((
                    RouteMatch {
                        route: r,
                        prefix_len: len,
                    },
                    rank,
                ));
            }
        }
        best.map(|(m, _)| m)
    }
}

fn association_active(state: Option<&crate::snapshot::StateWrapper>) -> bool {
    state
        .and_then(|s| s.state.as_deref())
        .is_none_or(|s| s == "associated")
}

fn compile_route(r: &Route) -> Result<CompiledRoute, String> {
    let destination = if let Some(c) = r
        .destination_cidr_block
        .as_deref()
        .or(r.destination_ipv6_cidr_block.as_deref())
    {
        Destination::Cidr(
            c.trim()
                .parse()
                .map_err(|_| format!("`{c}` is not a CIDR"))?,
        )
    } else if let Some(p) = &r.destination_prefix_list_id {
        Destination::PrefixList(p.clone())
    } else {
        return Err("a route without a destination".into());
    };
    let target = if let Some(g) = &r.gateway_id {
        if g == "local" {
            Target::Local
        } else if g.starts_with("igw-") {
            Target::InternetGateway(g.clone())
        } else if g.starts_with("vgw-") {
            Target::VpnGateway(g.clone())
        } else if g.starts_with("vpce-") {
            Target::VpcEndpoint(g.clone())
        } else {
            Target::Other(g.clone())
        }
    } else if let Some(id) = &r.nat_gateway_id {
        Target::NatGateway(id.clone())
    } else if let Some(id) = &r.vpc_peering_connection_id {
        Target::Peering(id.clone())
    } else if let Some(id) = &r.transit_gateway_id {
        Target::TransitGateway(id.clone())
    } else if let Some(id) = &r.egress_only_internet_gateway_id {
        Target::EgressOnlyInternetGateway(id.clone())
    } else if let Some(id) = &r.network_interface_id {
        Target::NetworkInterface(id.clone())
    } else if let Some(id) = &r.instance_id {
        Target::Instance(id.clone())
    } else if let Some(id) = r
        .local_gateway_id
        .as_ref()
        .or(r.carrier_gateway_id.as_ref())
        .or(r.core_network_arn.as_ref())
    {
        Target::Other(id.clone())
    } else {
        // A route whose target is gone shows no target at all, only `blackhole`.
        Target::Other("(deleted target)".into())
    };
    Ok(CompiledRoute {
        destination,
        target,
        blackhole: r.state.as_deref() == Some("blackhole"),
        propagated: r.origin.as_deref() == Some("EnableVgwRoutePropagation"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[(&str, &str, Option<&str>)]) -> CompiledRouteTable {
        let rt = RouteTable {
            route_table_id: "rtb-1".into(),
            vpc_id: "vpc-1".into(),
            routes: routes
                .iter()
                .map(|(dst, gw, origin)| Route {
                    destination_cidr_block: dst
                        .starts_with("pl-")
                        .then_some(())
                        .map_or(Some(dst.to_string()), |_| None),
                    destination_prefix_list_id: dst.starts_with("pl-").then(|| dst.to_string()),
                    gateway_id: Some(gw.to_string()),
                    origin: origin.map(str::to_string),
                    state: Some("active".into()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        CompiledRouteTable::compile(&rt)
    }

    #[test]
    fn longest_prefix_wins() {
        let t = table(&[
            ("10.0.0.0/16", "local", None),
            ("0.0.0.0/0", "igw-1", None),
            ("10.0.5.0/24", "vgw-1", None),
        ]);
        let mut un = Vec::new();
        let pl = HashMap::new();
        let m = t.lookup("10.0.5.9".parse().unwrap(), &pl, &mut un).unwrap();
        assert_eq!(m.route.target, Target::VpnGateway("vgw-1".into()));
        let m = t.lookup("10.0.6.9".parse().unwrap(), &pl, &mut un).unwrap();
        assert_eq!(m.route.target, Target::Local);
        let m = t.lookup("8.8.8.8".parse().unwrap(), &pl, &mut un).unwrap();
        assert_eq!(m.route.target, Target::InternetGateway("igw-1".into()));
    }

    #[test]
    fn static_beats_propagated_and_cidr_beats_prefix_list() {
        let t = table(&[
            ("172.16.0.0/16", "vgw-1", Some("EnableVgwRoutePropagation")),
            ("172.16.0.0/16", "igw-1", Some("CreateRoute")),
            ("pl-s3", "vpce-1", None),
            ("52.216.0.0/15", "igw-2", None),
        ]);
        let mut pl = HashMap::new();
        pl.insert("pl-s3".to_string(), vec!["52.216.0.0/15".parse().unwrap()]);
        let mut un = Vec::new();
        let m = t
            .lookup("172.16.1.1".parse().unwrap(), &pl, &mut un)
            .unwrap();
        assert_eq!(m.route.target, Target::InternetGateway("igw-1".into()));
        let m = t
            .lookup("52.216.1.1".parse().unwrap(), &pl, &mut un)
            .unwrap();
        assert_eq!(m.route.target, Target::InternetGateway("igw-2".into()));
        assert!(un.is_empty());
    }
}
