//! A network is a snapshot built for evaluation: a `petgraph` graph of ENIs, subnets, route tables
//! and gateways, with compiled filters and address indexes. It is built once and answers many
//! questions; evaluation never reads files.

use crate::network_acl::CompiledNacl;
use crate::route::{CompiledRouteTable, Target};
use crate::security_group::{CompiledGroup, Direction, SgPeer, SgRule};
use crate::snapshot::{NetworkInterface, Snapshot, Tag};
use ipnet::IpNet;
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;

mod build;
mod load_balancer;
mod security_groups;
mod sg_index;

pub use load_balancer::{
    Forward, LbKind, LbNode, ListenerInfo, LoadBalancerInfo, TargetGroupInfo, TargetInfo,
};
pub use security_groups::sg_rule_text;

/// The kind of a component of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    /// An elastic network interface.
    NetworkInterface,
    /// A subnet (and its NACL boundary).
    Subnet,
    /// A VPC.
    Vpc,
    /// A route table.
    RouteTable,
    /// An internet gateway.
    InternetGateway,
    /// An egress-only internet gateway.
    EgressOnlyInternetGateway,
    /// A NAT gateway.
    NatGateway,
    /// A VPC peering connection.
    PeeringConnection,
    /// A transit gateway.
    TransitGateway,
    /// A transit gateway attachment.
    TransitGatewayAttachment,
    /// A VPN gateway.
    VpnGateway,
    /// A VPC endpoint.
    VpcEndpoint,
    /// Anything outside the snapshot: the internet or on-premises.
    External,
}

/// A node of the network graph.
#[derive(Debug, Clone, Serialize)]
pub struct Component {
    /// The AWS id (or `internet`).
    pub id: String,
    /// What it is.
    pub kind: ComponentKind,
}

/// One ENI, with what evaluation needs.
#[derive(Debug, Clone)]
pub struct Eni {
    /// `eni-…`.
    pub id: String,
    /// Its subnet (index into [`Network::subnets`](crate::NetworkBase::subnets)).
    pub subnet: Option<usize>,
    /// Its VPC id.
    pub vpc_id: Option<String>,
    /// Attached groups, as indexes into [`Network::groups`].
    pub groups: Vec<usize>,
    /// Attached group ids not in the snapshot.
    pub missing_groups: Vec<String>,
    /// Private IPv4 addresses, primary first.
    pub private_ipv4: Vec<IpAddr>,
    /// IPv6 addresses.
    pub ipv6: Vec<IpAddr>,
    /// Public/Elastic IPv4 → the private address it maps to.
    pub public_ips: Vec<(IpAddr, IpAddr)>,
    /// The instance it is attached to.
    pub instance_id: Option<String>,
    /// `interface`, `nat_gateway`, …
    pub interface_type: Option<String>,
    /// Whether source/destination check is on.
    pub source_dest_check: bool,
    /// The `Name` tag or description, for display (untrusted text).
    pub name: Option<String>,
    /// Availability zone.
    pub availability_zone: Option<String>,
    /// Tags of the ENI and of its instance (untrusted text).
    pub tags: Vec<(String, String)>,
    /// Why security groups do not filter this ENI's traffic, when they do not (the node of a
    /// Network Load Balancer without security groups).
    pub unfiltered: Option<String>,
}

impl Eni {
    /// The primary private address of a family.
    pub fn primary(&self, v6: bool) -> Option<IpAddr> {
        if v6 {
            self.ipv6.first().copied()
        } else {
            self.private_ipv4.first().copied()
        }
    }

    /// The public IPv4 that maps to a private address, if any.
    pub fn public_for(&self, private: IpAddr) -> Option<IpAddr> {
        self.public_ips
            .iter()
            .find(|(_, p)| *p == private)
            .map(|(pub_ip, _)| *pub_ip)
    }

    /// Whether an address is one of its private addresses (IPv4 or IPv6).
    pub fn has_private(&self, ip: IpAddr) -> bool {
        self.private_ipv4.contains(&ip) || self.ipv6.contains(&ip)
    }
}

/// One subnet.
#[derive(Debug, Clone)]
pub struct SubnetInfo {
    /// `subnet-…`.
    pub id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// IPv4 and IPv6 CIDRs.
    pub cidrs: Vec<IpNet>,
    /// Its NACL (index into [`Network::nacls`](crate::NetworkBase::nacls)).
    pub nacl: Option<usize>,
    /// Its route table (index into [`Network::route_tables`](crate::NetworkBase::route_tables)).
    pub route_table: Option<usize>,
    /// Availability zone.
    pub availability_zone: Option<String>,
    /// Owning account (the subnet's, else its VPC's, else the snapshot folder's), for VPC
    /// Block Public Access.
    pub account: Option<String>,
    /// Region (the snapshot folder's, else from the availability zone).
    pub region: Option<String>,
}

/// One VPC.
#[derive(Debug, Clone)]
pub struct VpcInfo {
    /// `vpc-…`.
    pub id: String,
    /// IPv4 and IPv6 CIDRs.
    pub cidrs: Vec<IpNet>,
    /// Attached internet gateway.
    pub internet_gateway: Option<String>,
    /// Attached egress-only internet gateways.
    pub egress_only_gateways: Vec<String>,
    /// Owning account.
    pub owner: Option<String>,
    /// Region, from the snapshot layout.
    pub region: Option<String>,
}

/// A NAT gateway.
#[derive(Debug, Clone)]
pub struct NatInfo {
    /// `nat-…`.
    pub id: String,
    /// Its subnet index.
    pub subnet: Option<usize>,
    /// Its ENI index.
    pub eni: Option<usize>,
    /// Its private address.
    pub private_ip: Option<IpAddr>,
    /// Its public address (public NAT gateways).
    pub public_ip: Option<IpAddr>,
    /// Whether it is available.
    pub available: bool,
    /// `private` connectivity (no internet).
    pub private_connectivity: bool,
}

/// A peering connection.
#[derive(Debug, Clone)]
pub struct PeeringInfo {
    /// `pcx-…`.
    pub id: String,
    /// Requester VPC.
    pub requester: Option<String>,
    /// Accepter VPC.
    pub accepter: Option<String>,
    /// Whether it is active.
    pub active: bool,
    /// Its status code.
    pub status: String,
    /// The requester VPC's CIDRs, as the peering describes them.
    pub requester_cidrs: Vec<IpNet>,
    /// The accepter VPC's CIDRs, as the peering describes them.
    pub accepter_cidrs: Vec<IpNet>,
}

impl PeeringInfo {
    /// The VPC on the other side of `vpc`.
    pub fn other_side(&self, vpc: &str) -> Option<&str> {
        if self.requester.as_deref() == Some(vpc) {
            self.accepter.as_deref()
        } else if self.accepter.as_deref() == Some(vpc) {
            self.requester.as_deref()
        } else {
            None
        }
    }
}

/// A transit gateway VPC (or other) attachment.
#[derive(Debug, Clone)]
pub struct TgwAttachmentInfo {
    /// `tgw-attach-…`.
    pub id: String,
    /// Its TGW.
    pub tgw: String,
    /// `vpc`, `vpn`, `peering`, …
    pub resource_type: String,
    /// The VPC (or other resource).
    pub resource_id: Option<String>,
    /// Attachment subnets (VPC attachments).
    pub subnets: Vec<String>,
    /// The associated TGW route table.
    pub route_table: Option<String>,
    /// Whether available.
    pub available: bool,
}

/// A TGW route.
#[derive(Debug, Clone, Serialize)]
pub struct TgwRouteInfo {
    /// Destination.
    pub destination: IpNet,
    /// Next-hop attachment (none for blackhole).
    pub attachment: Option<String>,
    /// Blackhole.
    pub blackhole: bool,
    /// `static` or `propagated`.
    pub route_type: String,
}

/// A VPC endpoint.
#[derive(Debug, Clone)]
pub struct EndpointInfo {
    /// `vpce-…`.
    pub id: String,
    /// `Gateway`, `Interface`, `GatewayLoadBalancer`.
    pub endpoint_type: String,
    /// The service.
    pub service_name: Option<String>,
}

/// The subnets' CIDRs by (address family, prefix length, network address), for finding the
/// subnet of an address without a pass over every subnet (an organization has thousands).
#[derive(Debug, Clone, Default)]
pub(crate) struct SubnetCidrs {
    /// The prefix lengths present, longest first, per family (IPv4, IPv6).
    lens: [Vec<u8>; 2],
    /// For each (is IPv6, prefix length, network address): the last subnet with that CIDR.
    by_cidr: FxHashMap<(bool, u8, u128), usize>,
}

impl SubnetCidrs {
    pub(crate) fn of(subnets: &[SubnetInfo]) -> SubnetCidrs {
        let mut out = SubnetCidrs::default();
        for (i, s) in subnets.iter().enumerate() {
            for c in &s.cidrs {
                let (v6, net) = match c {
                    IpNet::V4(n) => (false, u128::from(u32::from(n.network()))),
                    IpNet::V6(n) => (true, u128::from(n.network())),
                };
                let len = c.prefix_len();
                out.lens[usize::from(v6)].push(len);
                let slot = out.by_cidr.entry((v6, len, net)).or_insert(i);
                *slot = (*slot).max(i);
            }
        }
        for l in &mut out.lens {
            l.sort_unstable_by(|a, b| b.cmp(a));
            l.dedup();
        }
        out
    }

    /// The subnet with the most specific CIDR holding `ip` (of equals, the last one).
    pub(crate) fn find(&self, ip: IpAddr) -> Option<usize> {
        let (v6, x, bits) = match ip {
            IpAddr::V4(a) => (false, u128::from(u32::from(a)), 32u32),
            IpAddr::V6(a) => (true, u128::from(a), 128u32),
        };
        self.lens[usize::from(v6)].iter().find_map(|&len| {
            let host = bits.saturating_sub(u32::from(len));
            let net = if host >= 128 { 0 } else { (x >> host) << host };
            self.by_cidr.get(&(v6, len, net)).copied()
        })
    }
}

/// The built model of a snapshot.
///
/// Everything but the security groups is a [`NetworkBase`], reached through `Deref`
/// (`net.enis`, `net.subnets`, …) and shared by the models that differ only in some groups'
/// rules ([`Network::with_groups`]): the network at other times (`explain --history`) is made so.
/// Changing a field of the base through a `Network` whose base is shared copies the base first.
#[derive(Debug, Clone, Default)]
pub struct Network {
    base: std::sync::Arc<NetworkBase>,
    /// Security groups (each shared with the other models holding the same group).
    pub groups: Vec<std::sync::Arc<CompiledGroup>>,
    /// The groups compiled for [`Network::sg_evaluate_fast`], on first use.
    pub(crate) sg_index: std::sync::OnceLock<sg_index::SgIndex>,
}

impl std::ops::Deref for Network {
    type Target = NetworkBase;
    fn deref(&self) -> &NetworkBase {
        &self.base
    }
}

impl std::ops::DerefMut for Network {
    fn deref_mut(&mut self) -> &mut NetworkBase {
        std::sync::Arc::make_mut(&mut self.base)
    }
}

/// A [`Network`] but its security groups: the component graph, ENIs, subnets, NACLs, route
/// tables, gateways and their indexes.
#[derive(Debug, Clone, Default)]
pub struct NetworkBase {
    /// The component graph (ENIs, subnets, route tables, gateways; edges follow attachment and
    /// route targets).
    pub graph: DiGraph<Component, String>,
    pub(crate) node_index: FxHashMap<String, NodeIndex>,
    /// VPCs.
    pub vpcs: Vec<VpcInfo>,
    pub(crate) vpc_index: FxHashMap<String, usize>,
    /// Subnets.
    pub subnets: Vec<SubnetInfo>,
    pub(crate) subnet_index: FxHashMap<String, usize>,
    /// The subnets' CIDRs for [`Network::subnet_of`](crate::NetworkBase::subnet_of), on first use.
    pub(crate) subnet_cidrs: std::sync::OnceLock<SubnetCidrs>,
    /// ENIs.
    pub enis: Vec<Eni>,
    pub(crate) eni_index: FxHashMap<Box<[u8]>, usize>,
    pub(crate) instance_index: FxHashMap<String, usize>,
    pub(crate) private_ip_index: FxHashMap<IpAddr, Vec<usize>>,
    pub(crate) public_ip_index: FxHashMap<IpAddr, (usize, IpAddr)>,
    /// The index of each security group in [`Network::groups`], by id.
    pub(crate) group_index: FxHashMap<String, usize>,
    /// For each group, the private addresses of the ENIs it is attached to.
    pub(crate) group_members: Vec<FxHashSet<IpAddr>>,
    /// NACLs.
    pub nacls: Vec<CompiledNacl>,
    pub(crate) nacl_index: FxHashMap<String, usize>,
    /// Route tables.
    pub route_tables: Vec<CompiledRouteTable>,
    pub(crate) route_table_index: FxHashMap<String, usize>,
    /// Prefix lists with their entries (lists whose entries were not collected are absent).
    pub prefix_lists: HashMap<String, Vec<IpNet>>,
    /// Prefix lists named in the snapshot whose entries are unknown.
    pub prefix_lists_without_entries: HashSet<String>,
    /// NAT gateways by id.
    pub nat_gateways: HashMap<String, NatInfo>,
    /// Peerings by id.
    pub peerings: HashMap<String, PeeringInfo>,
    /// Internet gateways by id → attached VPCs.
    pub internet_gateways: HashMap<String, Vec<String>>,
    /// Egress-only internet gateways by id → attached VPCs.
    pub egress_only_gateways: HashMap<String, Vec<String>>,
    /// Transit gateways known (ids).
    pub transit_gateways: HashSet<String>,
    /// TGW attachments by id.
    pub tgw_attachments: HashMap<String, TgwAttachmentInfo>,
    /// TGW route tables: id → routes.
    pub tgw_route_tables: HashMap<String, Vec<TgwRouteInfo>>,
    /// VPC endpoints by id.
    pub endpoints: HashMap<String, EndpointInfo>,
    /// Load balancers (ALB, NLB; Gateway Load Balancers are listed but not modelled).
    pub load_balancers: Vec<LoadBalancerInfo>,
    /// Target groups.
    pub target_groups: Vec<TargetGroupInfo>,
    pub(crate) target_group_index: FxHashMap<String, usize>,
    /// Load balancer (index) of each node ENI (index).
    pub(crate) lb_of_eni: FxHashMap<usize, usize>,
    /// Resource types read but not modelled, with their files.
    pub not_modelled: BTreeMap<String, Vec<PathBuf>>,
    /// Things in the snapshot that could not be read or resolved, in plain words.
    pub problems: Vec<String>,
    /// `Name` tags of VPCs, subnets, route tables, NACLs and gateways, by id (untrusted text),
    /// so that every hop of a trace shows its name as ENIs do.
    pub names: HashMap<String, String>,
    /// When the snapshot was taken (Unix seconds), when known ([`Snapshot::collected_at`]).
    pub snapshot_time: Option<i64>,
    /// Resources left out of the model, with why ([`Snapshot::withheld`]).
    pub withheld: BTreeMap<String, String>,
    /// Other names of the withheld ENIs, with their ids ([`Snapshot::withheld_aliases`]).
    pub withheld_aliases: BTreeMap<String, String>,
    /// VPC Block Public Access options and exclusions.
    pub bpa: crate::bpa::Bpa,
    /// For each subnet (when the snapshot has BPA options), BPA's judgement for each
    /// [`bpa_slot`]: computed once, since `explain` asks for every record with an internet peer.
    pub(crate) bpa_table: Vec<[crate::bpa::Judgement; 6]>,
    /// For a NAT gateway's ENI whose own subnet and a subnet that routes to it would be judged
    /// differently by BPA (which one counts is not documented): the `unknown` judgement of its
    /// connections to the internet, naming both.
    pub(crate) bpa_nat_conflicts: HashMap<usize, crate::bpa::Judgement>,
}

/// The slot of [`Network::bpa_table`](crate::NetworkBase::bpa_table) for a path and a side that started the connection.
pub(crate) fn bpa_slot(path: crate::bpa::Path, init: crate::bpa::Initiated) -> usize {
    use crate::bpa::{Initiated, Path};
    let p = match path {
        Path::InternetGateway => 0,
        Path::NatGateway => 1,
        Path::EgressOnly => 2,
    };
    p * 2 + usize::from(init == Initiated::FromInternet)
}

impl NetworkBase {
    /// The graph node of a component id, if it is in the model.
    pub fn node_of(&self, id: &str) -> Option<NodeIndex> {
        self.node_index.get(id).copied()
    }

    /// Looks up an ENI by id.
    pub fn eni(&self, id: &str) -> Option<&Eni> {
        self.eni_index.get(id.as_bytes()).map(|&i| &self.enis[i])
    }

    /// The ENI index of an id.
    pub fn eni_idx(&self, id: &str) -> Option<usize> {
        self.eni_idx_bytes(id.as_bytes())
    }

    /// The ENI index of an id given as bytes (as a flow-log line holds it).
    pub fn eni_idx_bytes(&self, id: &[u8]) -> Option<usize> {
        self.eni_index.get(id).copied()
    }

    /// The ENI holding a private address, preferring one in `vpc` when addresses overlap.
    pub fn eni_by_private_ip(&self, ip: IpAddr, vpc: Option<&str>) -> Option<usize> {
        NetworkBase::pick_in_vpc(&self.enis, self.enis_with_private_ip(ip), vpc)
    }

    /// Every ENI holding a private address (several when VPCs overlap).
    pub fn enis_with_private_ip(&self, ip: IpAddr) -> &[usize] {
        self.private_ip_index.get(&ip).map_or(&[], Vec::as_slice)
    }

    /// Of `list`, the first ENI in `vpc` (any VPC when `None`).
    pub(crate) fn pick_in_vpc(enis: &[Eni], list: &[usize], vpc: Option<&str>) -> Option<usize> {
        match vpc {
            Some(v) => list
                .iter()
                .copied()
                .find(|&i| enis[i].vpc_id.as_deref() == Some(v)),
            None => list.first().copied(),
        }
    }

    /// The ENI and private address behind a public or Elastic IP.
    pub fn eni_by_public_ip(&self, ip: IpAddr) -> Option<(usize, IpAddr)> {
        self.public_ip_index.get(&ip).copied()
    }

    /// The primary ENI of an instance.
    pub fn eni_of_instance(&self, id: &str) -> Option<usize> {
        self.instance_index.get(id).copied()
    }

    /// A VPC by id.
    pub fn vpc(&self, id: &str) -> Option<&VpcInfo> {
        self.vpc_index.get(id).map(|&i| &self.vpcs[i])
    }

    /// A subnet by id.
    pub fn subnet_idx(&self, id: &str) -> Option<usize> {
        self.subnet_index.get(id).copied()
    }
}

impl Network {
    /// A security group by id.
    pub fn group(&self, id: &str) -> Option<&CompiledGroup> {
        self.group_index.get(id).map(|&i| &*self.groups[i])
    }

    /// Whether `peer` is a private address of a member of group `id`. `None` when the group is
    /// not in the snapshot (the reference cannot be resolved).
    pub fn group_has_member(&self, id: &str, peer: IpAddr) -> Option<bool> {
        let &gi = self.group_index.get(id)?;
        Some(self.group_members[gi].contains(&peer))
    }

    /// The private addresses of the ENIs a group is attached to; `None` when the group is not in
    /// the snapshot.
    pub fn group_member_ips(&self, id: &str) -> Option<impl Iterator<Item = &IpAddr>> {
        let &gi = self.group_index.get(id)?;
        Some(self.group_members[gi].iter())
    }

    /// Every id the model knows (ENIs, instances, subnets, VPCs, groups, gateways), for
    /// "did you mean" suggestions.
    pub fn known_ids(&self) -> impl Iterator<Item = &str> {
        self.enis
            .iter()
            .map(|e| &e.id)
            .chain(self.instance_index.keys())
            .chain(self.subnet_index.keys())
            .chain(self.vpc_index.keys())
            .chain(self.group_index.keys())
            .map(String::as_str)
    }

    /// The rules of an ENI's groups in one direction.
    pub fn eni_rules(&self, eni: usize, dir: Direction) -> impl Iterator<Item = &SgRule> {
        self.enis[eni]
            .groups
            .iter()
            .flat_map(move |&g| self.groups[g].rules(dir).iter())
    }

    /// Whether an address is in the CIDRs of a VPC.
    pub fn vpc_contains(&self, vpc: &str, ip: IpAddr) -> bool {
        self.vpc(vpc)
            .is_some_and(|v| v.cidrs.iter().any(|c| c.contains(&ip)))
    }

    /// Resolves a prefix list: `None` when its entries are not in the snapshot.
    pub fn prefix_list(&self, id: &str) -> Option<&[IpNet]> {
        self.prefix_lists.get(id).map(Vec::as_slice)
    }

    /// A human label for a security-group peer, resolving names where known.
    pub fn peer_label(&self, peer: &SgPeer) -> String {
        match peer {
            SgPeer::Group(r) => match self.group(&r.id) {
                Some(g) => format!("{} ({})", r.id, g.name),
                None => r.id.clone(),
            },
            other => other.to_string(),
        }
    }
}

/// The component kind an id names, by its AWS prefix.
pub fn component_kind_of(id: &str) -> ComponentKind {
    let prefix = id.split('-').next().unwrap_or("");
    match prefix {
        "eni" | "i" => ComponentKind::NetworkInterface,
        "subnet" => ComponentKind::Subnet,
        "vpc" => ComponentKind::Vpc,
        "rtb" => ComponentKind::RouteTable,
        "igw" => ComponentKind::InternetGateway,
        "eigw" => ComponentKind::EgressOnlyInternetGateway,
        "nat" => ComponentKind::NatGateway,
        "pcx" => ComponentKind::PeeringConnection,
        "tgw" if id.starts_with("tgw-attach-") => ComponentKind::TransitGatewayAttachment,
        "tgw" => ComponentKind::TransitGateway,
        "vgw" => ComponentKind::VpnGateway,
        "vpce" => ComponentKind::VpcEndpoint,
        _ => ComponentKind::External,
    }
}
