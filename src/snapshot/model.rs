//! The resource types of a snapshot, in the shapes the EC2 API returns them.
//!
//! Field names follow the AWS CLI's JSON output (PascalCase) so that a saved `aws ec2 describe-*`
//! file deserializes directly. Every field is optional or defaulted: AWS omits empty fields freely.

use serde::{Deserialize, Deserializer, Serialize};
pub use thin_vec::ThinVec;

/// A short string, held inline up to 24 bytes (a rule's protocol, CIDR, group and account ids,
/// most descriptions): a large snapshot holds millions of them in its security-group rules,
/// and each would otherwise be an allocation of its own.
pub type Short = compact_str::CompactString;

/// A list as read, without the spare room its growth left: a snapshot holds millions of short
/// lists (a rule's one source took the room of four), and they are kept while the model is
/// built.
fn fit<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    let mut v = Vec::<T>::deserialize(d)?;
    v.shrink_to_fit();
    Ok(v)
}

/// [`fit`] for the lists kept as [`ThinVec`]s (an empty one takes no allocation).
fn fit_thin<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<ThinVec<T>, D::Error> {
    let v = Vec::<T>::deserialize(d)?;
    let mut out = ThinVec::with_capacity(v.len());
    out.extend(v);
    Ok(out)
}

/// A tag as AWS returns it. Keys and values are untrusted text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tag {
    /// The tag key.
    pub key: String,
    /// The tag value.
    pub value: String,
}

/// Where a resource was found: the account and region folders of the snapshot it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The account folder (`accounts/<id>/…`), when the snapshot has one.
    pub account: Option<String>,
    /// The region folder, when the snapshot has one.
    pub region: Option<String>,
}

/// A state wrapper (`{"State": "associated"}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StateWrapper {
    /// The state name.
    pub state: Option<String>,
}

/// An IPv4 CIDR association of a VPC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CidrBlockAssociation {
    /// The CIDR block.
    pub cidr_block: Option<String>,
    /// Its association state.
    pub cidr_block_state: Option<StateWrapper>,
}

/// An IPv6 CIDR association of a VPC or subnet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipv6CidrBlockAssociation {
    /// The IPv6 CIDR block.
    pub ipv6_cidr_block: Option<String>,
    /// Its association state (VPC form).
    pub ipv6_cidr_block_state: Option<StateWrapper>,
}

/// A VPC (`describe-vpcs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Vpc {
    /// `vpc-…`.
    pub vpc_id: String,
    /// The primary IPv4 CIDR.
    pub cidr_block: Option<String>,
    /// All IPv4 CIDRs, the primary included.
    #[serde(deserialize_with = "fit")]
    pub cidr_block_association_set: Vec<CidrBlockAssociation>,
    /// IPv6 CIDRs.
    #[serde(deserialize_with = "fit")]
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrBlockAssociation>,
    /// Owning account.
    pub owner_id: Option<String>,
    /// Whether this is the region's default VPC.
    pub is_default: Option<bool>,
    /// The VPC Block Public Access state in force for this VPC, when AWS reports it.
    pub block_public_access_states: Option<BlockPublicAccessStates>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
    /// Where it was found.
    #[serde(skip)]
    pub origin: Origin,
}

/// A subnet (`describe-subnets`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Subnet {
    /// `subnet-…`.
    pub subnet_id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// IPv4 CIDR (absent for IPv6-only subnets).
    pub cidr_block: Option<String>,
    /// IPv6 CIDRs.
    #[serde(deserialize_with = "fit")]
    pub ipv6_cidr_block_association_set: Vec<Ipv6CidrBlockAssociation>,
    /// Availability zone name.
    pub availability_zone: Option<String>,
    /// Availability zone id.
    pub availability_zone_id: Option<String>,
    /// Owning account.
    pub owner_id: Option<String>,
    /// The VPC Block Public Access state in force for this subnet, when AWS reports it.
    pub block_public_access_states: Option<BlockPublicAccessStates>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
    /// Where it was found.
    #[serde(skip)]
    pub origin: Origin,
}

/// The association of a route table to a subnet, a gateway, or the VPC (main).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RouteTableAssociation {
    /// Whether this is the VPC's main route table.
    pub main: Option<bool>,
    /// The associated subnet.
    pub subnet_id: Option<String>,
    /// The associated gateway (edge association).
    pub gateway_id: Option<String>,
    /// Association id.
    pub route_table_association_id: Option<String>,
    /// Association state.
    pub association_state: Option<StateWrapper>,
}

/// One route of a VPC route table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Route {
    /// IPv4 destination.
    pub destination_cidr_block: Option<String>,
    /// IPv6 destination.
    pub destination_ipv6_cidr_block: Option<String>,
    /// Prefix-list destination (gateway endpoints, customer lists).
    pub destination_prefix_list_id: Option<String>,
    /// `local`, `igw-…`, `vgw-…`, `vpce-…` (gateway endpoint or GWLB endpoint).
    pub gateway_id: Option<String>,
    /// NAT gateway target.
    pub nat_gateway_id: Option<String>,
    /// ENI target.
    pub network_interface_id: Option<String>,
    /// Instance target.
    pub instance_id: Option<String>,
    /// Peering target.
    pub vpc_peering_connection_id: Option<String>,
    /// Transit gateway target.
    pub transit_gateway_id: Option<String>,
    /// Egress-only internet gateway target.
    pub egress_only_internet_gateway_id: Option<String>,
    /// Local gateway target (Outposts).
    pub local_gateway_id: Option<String>,
    /// Carrier gateway target (Wavelength).
    pub carrier_gateway_id: Option<String>,
    /// Cloud WAN core network target.
    pub core_network_arn: Option<String>,
    /// `CreateRouteTable`, `CreateRoute` or `EnableVgwRoutePropagation`.
    pub origin: Option<String>,
    /// `active` or `blackhole`.
    pub state: Option<String>,
}

/// A route table (`describe-route-tables`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RouteTable {
    /// `rtb-…`.
    pub route_table_id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Associations (main, subnets, gateways).
    #[serde(deserialize_with = "fit")]
    pub associations: Vec<RouteTableAssociation>,
    /// Routes, in any order.
    #[serde(deserialize_with = "fit")]
    pub routes: Vec<Route>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
    /// Where it was found.
    #[serde(skip)]
    pub origin: Origin,
}

/// ICMP type and code of a NACL entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IcmpTypeCode {
    /// ICMP code, -1 for all.
    pub code: Option<i32>,
    /// ICMP type, -1 for all.
    #[serde(rename = "Type")]
    pub icmp_type: Option<i32>,
}

/// A NACL entry's port range.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortRange {
    /// First port.
    pub from: Option<i32>,
    /// Last port.
    pub to: Option<i32>,
}

/// One NACL entry (a rule of one direction).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAclEntry {
    /// IPv4 CIDR.
    pub cidr_block: Option<String>,
    /// IPv6 CIDR.
    pub ipv6_cidr_block: Option<String>,
    /// `true` for outbound rules.
    pub egress: bool,
    /// ICMP type/code.
    pub icmp_type_code: Option<IcmpTypeCode>,
    /// Port range.
    pub port_range: Option<PortRange>,
    /// Protocol number as text, `-1` for all.
    pub protocol: String,
    /// `allow` or `deny`.
    pub rule_action: String,
    /// 1–32766, or 32767 for the default `*` rule.
    pub rule_number: i64,
}

/// A NACL's association with a subnet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAclAssociation {
    /// Association id.
    pub network_acl_association_id: Option<String>,
    /// The NACL.
    pub network_acl_id: Option<String>,
    /// The subnet.
    pub subnet_id: Option<String>,
}

/// A network ACL (`describe-network-acls`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkAcl {
    /// `acl-…`.
    pub network_acl_id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Whether this is the VPC's default NACL.
    pub is_default: Option<bool>,
    /// Subnet associations.
    #[serde(deserialize_with = "fit")]
    pub associations: Vec<NetworkAclAssociation>,
    /// Entries of both directions, in any order.
    #[serde(deserialize_with = "fit")]
    pub entries: Vec<NetworkAclEntry>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
    /// Where it was found.
    #[serde(skip)]
    pub origin: Origin,
    /// Entries whose content is not known (never in a snapshot read from files: the history
    /// puts one where it cannot tell what an entry was before a change, see
    /// [`crate::history::at`]).
    #[serde(skip)]
    pub unknown_entries: Vec<UnknownNaclEntry>,
}

/// A network ACL entry whose content is not known: the history cannot tell what the entry at
/// this rule number was before a change (a `DeleteNetworkAclEntry` or
/// `ReplaceNetworkAclEntry` whose earlier content is in no earlier event or AWS Config item).
/// Traffic that reaches it (no entry of a lower number matches) is decided by it, and so is
/// `unknown`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnknownNaclEntry {
    /// Its rule number.
    pub rule_number: i64,
    /// `true` for an outbound entry.
    pub egress: bool,
    /// Why it is not known, naming the change (API, time, event id).
    pub why: String,
}

/// An IPv4 range of a security-group rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpRange {
    /// The CIDR.
    pub cidr_ip: Short,
    /// Free text.
    pub description: Option<Short>,
}

/// An IPv6 range of a security-group rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipv6Range {
    /// The CIDR.
    pub cidr_ipv6: Short,
    /// Free text.
    pub description: Option<Short>,
}

/// A prefix-list reference of a security-group rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrefixListRef {
    /// `pl-…`.
    pub prefix_list_id: Short,
    /// Free text.
    pub description: Option<Short>,
}

/// A security-group reference of a security-group rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UserIdGroupPair {
    /// The referenced group.
    pub group_id: Option<Short>,
    /// Its name (EC2-Classic / default VPC).
    pub group_name: Option<Short>,
    /// The account that owns the referenced group.
    pub user_id: Option<Short>,
    /// The referenced group's VPC (peered references).
    pub vpc_id: Option<Short>,
    /// The peering through which it is referenced.
    pub vpc_peering_connection_id: Option<Short>,
    /// Peering status (`active`, `deleted`).
    pub peering_status: Option<Short>,
    /// Free text.
    pub description: Option<Short>,
}

/// One `IpPermission` of a security group: a protocol, a port range and its sources.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpPermission {
    /// `tcp`, `udp`, `icmp`, `icmpv6`, `-1`, or a protocol number.
    pub ip_protocol: Short,
    /// First port, or ICMP type.
    pub from_port: Option<i32>,
    /// Last port, or ICMP code.
    pub to_port: Option<i32>,
    /// IPv4 CIDRs.
    #[serde(deserialize_with = "fit_thin")]
    pub ip_ranges: ThinVec<IpRange>,
    /// IPv6 CIDRs.
    #[serde(deserialize_with = "fit_thin")]
    pub ipv6_ranges: ThinVec<Ipv6Range>,
    /// Prefix lists.
    #[serde(deserialize_with = "fit_thin")]
    pub prefix_list_ids: ThinVec<PrefixListRef>,
    /// Security-group references.
    #[serde(deserialize_with = "fit_thin")]
    pub user_id_group_pairs: ThinVec<UserIdGroupPair>,
}

/// A security group (`describe-security-groups`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct SecurityGroup {
    /// `sg-…`.
    pub group_id: String,
    /// Its name (`default` for the VPC's default group).
    pub group_name: String,
    /// Free text.
    pub description: Option<String>,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Owning account.
    pub owner_id: Option<String>,
    /// Inbound permissions.
    #[serde(deserialize_with = "fit")]
    pub ip_permissions: Vec<IpPermission>,
    /// Outbound permissions.
    #[serde(deserialize_with = "fit")]
    pub ip_permissions_egress: Vec<IpPermission>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
    /// Where it was found.
    #[serde(skip)]
    pub origin: Origin,
}

/// A group attached to an ENI or instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GroupIdentifier {
    /// `sg-…`.
    pub group_id: String,
    /// Its name.
    pub group_name: Option<String>,
}

/// A public IP association.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpAssociation {
    /// The public or Elastic IP.
    pub public_ip: Option<String>,
    /// The Elastic IP allocation, when it is one.
    pub allocation_id: Option<String>,
    /// Who owns the address (`amazon` for auto-assigned).
    pub ip_owner_id: Option<String>,
}

/// A private IPv4 address of an ENI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrivateIpAddress {
    /// The address.
    pub private_ip_address: String,
    /// Whether it is the primary address.
    pub primary: Option<bool>,
    /// Its public IP, when it has one.
    pub association: Option<IpAssociation>,
}

/// An IPv6 address of an ENI.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipv6Address {
    /// The address.
    pub ipv6_address: String,
}

/// An ENI's attachment to an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Attachment {
    /// The instance.
    pub instance_id: Option<String>,
    /// Device index.
    pub device_index: Option<i32>,
    /// Attachment status.
    pub status: Option<String>,
}

/// An elastic network interface (`describe-network-interfaces`, or an instance's interface).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkInterface {
    /// `eni-…`.
    pub network_interface_id: String,
    /// Its subnet.
    pub subnet_id: Option<String>,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Availability zone.
    pub availability_zone: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// `interface`, `nat_gateway`, `vpc_endpoint`, `network_load_balancer`, `transit_gateway`, …
    pub interface_type: Option<String>,
    /// Attached security groups.
    #[serde(deserialize_with = "fit")]
    pub groups: Vec<GroupIdentifier>,
    /// Primary private IPv4.
    pub private_ip_address: Option<String>,
    /// All private IPv4 addresses.
    #[serde(deserialize_with = "fit")]
    pub private_ip_addresses: Vec<PrivateIpAddress>,
    /// IPv6 addresses.
    #[serde(deserialize_with = "fit")]
    pub ipv6_addresses: Vec<Ipv6Address>,
    /// Public IP of the primary address.
    pub association: Option<IpAssociation>,
    /// Instance attachment.
    pub attachment: Option<Attachment>,
    /// Whether source/destination check is on.
    pub source_dest_check: Option<bool>,
    /// `in-use`, `available`, …
    pub status: Option<String>,
    /// The service that manages it, when requester-managed.
    pub requester_id: Option<String>,
    /// Owning account.
    pub owner_id: Option<String>,
    /// Tags (`TagSet` in this API).
    #[serde(deserialize_with = "fit")]
    pub tag_set: Vec<Tag>,
    /// Where it was found.
    #[serde(skip)]
    pub origin: Origin,
}

/// Instance state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InstanceState {
    /// `running`, `stopped`, …
    pub name: Option<String>,
}

/// An EC2 instance (`describe-instances`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Instance {
    /// `i-…`.
    pub instance_id: String,
    /// Its interfaces.
    #[serde(deserialize_with = "fit")]
    pub network_interfaces: Vec<NetworkInterface>,
    /// Primary private IP.
    pub private_ip_address: Option<String>,
    /// Public IP.
    pub public_ip_address: Option<String>,
    /// Subnet of the primary interface.
    pub subnet_id: Option<String>,
    /// VPC.
    pub vpc_id: Option<String>,
    /// Groups of the primary interface.
    #[serde(deserialize_with = "fit")]
    pub security_groups: Vec<GroupIdentifier>,
    /// State.
    pub state: Option<InstanceState>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
}

/// A reservation of `describe-instances`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Reservation {
    /// Its instances.
    #[serde(deserialize_with = "fit")]
    pub instances: Vec<Instance>,
    /// Owning account.
    pub owner_id: Option<String>,
}

/// A gateway's attachment to a VPC.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct GatewayAttachment {
    /// The VPC.
    pub vpc_id: String,
    /// `available`/`attached`, …
    pub state: Option<String>,
}

/// An internet gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct InternetGateway {
    /// `igw-…`.
    pub internet_gateway_id: String,
    /// VPC attachments.
    #[serde(deserialize_with = "fit")]
    pub attachments: Vec<GatewayAttachment>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
}

/// An egress-only internet gateway (IPv6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EgressOnlyInternetGateway {
    /// `eigw-…`.
    pub egress_only_internet_gateway_id: String,
    /// VPC attachments.
    #[serde(deserialize_with = "fit")]
    pub attachments: Vec<GatewayAttachment>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
}

/// An address of a NAT gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NatGatewayAddress {
    /// Its ENI.
    pub network_interface_id: Option<String>,
    /// Private IP.
    pub private_ip: Option<String>,
    /// Public IP (public NAT gateways).
    pub public_ip: Option<String>,
    /// Elastic IP allocation.
    pub allocation_id: Option<String>,
}

/// A NAT gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NatGateway {
    /// `nat-…`.
    pub nat_gateway_id: String,
    /// The subnet it lives in.
    pub subnet_id: Option<String>,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// `available`, `deleted`, …
    pub state: Option<String>,
    /// `public` (default) or `private`.
    pub connectivity_type: Option<String>,
    /// Its addresses.
    #[serde(deserialize_with = "fit")]
    pub nat_gateway_addresses: Vec<NatGatewayAddress>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
}

/// A CIDR of a peering side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CidrBlockEntry {
    /// IPv4 CIDR.
    pub cidr_block: Option<String>,
    /// IPv6 CIDR.
    pub ipv6_cidr_block: Option<String>,
}

/// One side of a peering connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PeeringVpcInfo {
    /// The VPC.
    pub vpc_id: Option<String>,
    /// Its account.
    pub owner_id: Option<String>,
    /// Its region.
    pub region: Option<String>,
    /// Primary CIDR.
    pub cidr_block: Option<String>,
    /// IPv4 CIDRs.
    #[serde(deserialize_with = "fit")]
    pub cidr_block_set: Vec<CidrBlockEntry>,
    /// IPv6 CIDRs.
    #[serde(deserialize_with = "fit")]
    pub ipv6_cidr_block_set: Vec<CidrBlockEntry>,
}

/// Peering status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PeeringStatus {
    /// `active`, `pending-acceptance`, `deleted`, …
    pub code: Option<String>,
}

/// A VPC peering connection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpcPeeringConnection {
    /// `pcx-…`.
    pub vpc_peering_connection_id: String,
    /// The accepter side.
    pub accepter_vpc_info: PeeringVpcInfo,
    /// The requester side.
    pub requester_vpc_info: PeeringVpcInfo,
    /// Status.
    pub status: Option<PeeringStatus>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
}

/// A prefix list in the `describe-prefix-lists` shape (AWS service lists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrefixList {
    /// `pl-…`.
    pub prefix_list_id: String,
    /// Its name (`com.amazonaws.us-east-1.s3`).
    pub prefix_list_name: Option<String>,
    /// Its CIDRs.
    #[serde(deserialize_with = "fit")]
    pub cidrs: Vec<String>,
}

/// An entry of a managed prefix list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PrefixListEntry {
    /// The CIDR.
    pub cidr: String,
    /// Free text.
    pub description: Option<String>,
}

/// A managed prefix list (`describe-managed-prefix-lists`), with its entries when collected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ManagedPrefixList {
    /// `pl-…`.
    pub prefix_list_id: String,
    /// Its name.
    pub prefix_list_name: Option<String>,
    /// `IPv4` or `IPv6`.
    pub address_family: Option<String>,
    /// Owning account (`AWS` for AWS-managed lists).
    pub owner_id: Option<String>,
    /// Its entries (`get-managed-prefix-list-entries`); `None` when not collected.
    pub entries: Option<Vec<PrefixListEntry>>,
}

/// A VPC endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpcEndpoint {
    /// `vpce-…`.
    pub vpc_endpoint_id: String,
    /// `Gateway`, `Interface`, `GatewayLoadBalancer`.
    pub vpc_endpoint_type: Option<String>,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// `com.amazonaws.<region>.s3`, …
    pub service_name: Option<String>,
    /// `available`, …
    pub state: Option<String>,
    /// Route tables (gateway endpoints).
    #[serde(deserialize_with = "fit")]
    pub route_table_ids: Vec<String>,
    /// Subnets (interface endpoints).
    #[serde(deserialize_with = "fit")]
    pub subnet_ids: Vec<String>,
    /// Groups (interface endpoints).
    #[serde(deserialize_with = "fit")]
    pub groups: Vec<GroupIdentifier>,
    /// ENIs (interface endpoints).
    #[serde(deserialize_with = "fit")]
    pub network_interface_ids: Vec<String>,
}

/// An Elastic IP (`describe-addresses`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Address {
    /// The public IP.
    pub public_ip: Option<String>,
    /// Allocation id.
    pub allocation_id: Option<String>,
    /// Association id, when associated.
    pub association_id: Option<String>,
    /// The ENI it is associated with.
    pub network_interface_id: Option<String>,
    /// The private IP it maps to.
    pub private_ip_address: Option<String>,
    /// The instance.
    pub instance_id: Option<String>,
}

/// A transit gateway's options.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TransitGatewayOptions {
    /// Default association route table.
    pub association_default_route_table_id: Option<String>,
    /// Default propagation route table.
    pub propagation_default_route_table_id: Option<String>,
}

/// A transit gateway.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TransitGateway {
    /// `tgw-…`.
    pub transit_gateway_id: String,
    /// `available`, …
    pub state: Option<String>,
    /// Owning account.
    pub owner_id: Option<String>,
    /// Options.
    pub options: Option<TransitGatewayOptions>,
}

/// A transit gateway attachment's route-table association.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwAttachmentAssociation {
    /// The TGW route table.
    pub transit_gateway_route_table_id: Option<String>,
    /// `associated`, …
    pub state: Option<String>,
}

/// A transit gateway attachment (`describe-transit-gateway-attachments`, or the VPC form).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TransitGatewayAttachment {
    /// `tgw-attach-…`.
    pub transit_gateway_attachment_id: String,
    /// Its TGW.
    pub transit_gateway_id: Option<String>,
    /// `vpc`, `vpn`, `direct-connect-gateway`, `peering`, …
    pub resource_type: Option<String>,
    /// The attached resource (a VPC id for `vpc`).
    pub resource_id: Option<String>,
    /// `available`, …
    pub state: Option<String>,
    /// Its route-table association.
    pub association: Option<TgwAttachmentAssociation>,
    /// The VPC (VPC-attachment form).
    pub vpc_id: Option<String>,
    /// Attachment subnets, one per AZ (VPC-attachment form).
    #[serde(deserialize_with = "fit")]
    pub subnet_ids: Vec<String>,
}

/// An attachment named by a TGW route.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwRouteAttachment {
    /// The attachment.
    pub transit_gateway_attachment_id: Option<String>,
    /// The resource behind it.
    pub resource_id: Option<String>,
    /// Its type.
    pub resource_type: Option<String>,
}

/// A route of a transit gateway route table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwRoute {
    /// Destination CIDR.
    pub destination_cidr_block: Option<String>,
    /// Destination prefix list.
    pub prefix_list_id: Option<String>,
    /// `active` or `blackhole`.
    pub state: Option<String>,
    /// `static` or `propagated`.
    #[serde(rename = "Type")]
    pub route_type: Option<String>,
    /// Next-hop attachments.
    #[serde(deserialize_with = "fit")]
    pub transit_gateway_attachments: Vec<TgwRouteAttachment>,
}

/// A transit gateway route table, with its routes when collected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TransitGatewayRouteTable {
    /// `tgw-rtb-…`.
    pub transit_gateway_route_table_id: String,
    /// Its TGW.
    pub transit_gateway_id: Option<String>,
    /// Whether it is the default association table.
    pub default_association_route_table: Option<bool>,
    /// Whether it is the default propagation table.
    pub default_propagation_route_table: Option<bool>,
    /// Routes (`search-transit-gateway-routes`), when collected.
    #[serde(deserialize_with = "fit")]
    pub routes: Vec<TgwRoute>,
}

/// Static routes of one TGW route table (Batfish's `TransitGatewayStaticRoutes` file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwRouteSet {
    /// The TGW route table.
    pub transit_gateway_route_table_id: String,
    /// Its routes.
    #[serde(deserialize_with = "fit")]
    pub routes: Vec<TgwRoute>,
}

/// One propagation into a TGW route table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwPropagation {
    /// The attachment whose routes propagate.
    pub transit_gateway_attachment_id: Option<String>,
    /// The resource behind it.
    pub resource_id: Option<String>,
    /// Its type.
    pub resource_type: Option<String>,
    /// `enabled` or not.
    pub state: Option<String>,
}

/// Propagations of one TGW route table (`get-transit-gateway-route-table-propagations`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TgwPropagationSet {
    /// The TGW route table.
    pub transit_gateway_route_table_id: String,
    /// Its propagations.
    #[serde(deserialize_with = "fit")]
    pub transit_gateway_route_table_propagations: Vec<TgwPropagation>,
}

/// A VPC Flow Log (`describe-flow-logs`): what it captures, from which resource, and whether
/// its deliveries succeed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct FlowLog {
    /// `fl-…`.
    pub flow_log_id: String,
    /// The VPC, subnet or ENI it captures (`vpc-…`, `subnet-…`, `eni-…`); transit gateway
    /// logs name a `tgw-…` or `tgw-attach-…`.
    pub resource_id: Option<String>,
    /// `ALL`, `ACCEPT` or `REJECT`.
    pub traffic_type: Option<String>,
    /// `cloud-watch-logs`, `s3` or `kinesis-data-firehose`.
    pub log_destination_type: Option<String>,
    /// The destination's ARN (S3 bucket and prefix, Firehose stream, log group).
    pub log_destination: Option<String>,
    /// The CloudWatch Logs group (CloudWatch Logs destinations).
    pub log_group_name: Option<String>,
    /// `SUCCESS` or `FAILED`: how the latest deliveries went.
    pub deliver_logs_status: Option<String>,
    /// Why deliveries fail (`Rate limited`, `Access error`, `Unknown error`).
    pub deliver_logs_error_message: Option<String>,
    /// `ACTIVE` when the flow log is in place.
    pub flow_log_status: Option<String>,
    /// The record format (`${version} ${account-id} …`); absent for AWS's default format.
    pub log_format: Option<String>,
    /// The aggregation interval in seconds (60 or 600).
    pub max_aggregation_interval: Option<i64>,
    /// When it was created.
    pub creation_time: Option<String>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
}

/// `BlockPublicAccessStates` of a VPC or subnet: the VPC Block Public Access mode in force for it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct BlockPublicAccessStates {
    /// `off`, `block-bidirectional` or `block-ingress`.
    pub internet_gateway_block_mode: Option<String>,
}

/// The VPC Block Public Access options of an account and Region
/// (`describe-vpc-block-public-access-options`, key `VpcBlockPublicAccessOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpcBlockPublicAccessOptions {
    /// The account.
    pub aws_account_id: Option<String>,
    /// The Region.
    pub aws_region: Option<String>,
    /// `default-state`, `update-in-progress` or `update-complete`.
    pub state: Option<String>,
    /// `off`, `block-bidirectional` or `block-ingress`.
    pub internet_gateway_block_mode: Option<String>,
    /// The reason for the current state.
    pub reason: Option<String>,
    /// `account` or `declarative-policy`.
    pub managed_by: Option<String>,
    /// `allowed` or `not-allowed`.
    pub exclusions_allowed: Option<String>,
    /// Where it was found.
    #[serde(skip)]
    pub origin: Origin,
}

/// A VPC Block Public Access exclusion (`describe-vpc-block-public-access-exclusions`, key
/// `VpcBlockPublicAccessExclusions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VpcBlockPublicAccessExclusion {
    /// `exclusion-…`.
    pub exclusion_id: String,
    /// `allow-bidirectional` or `allow-egress`.
    pub internet_gateway_exclusion_mode: Option<String>,
    /// The excluded VPC or subnet: `arn:aws:ec2:<region>:<account>:vpc/<id>` or `…:subnet/<id>`.
    pub resource_arn: Option<String>,
    /// `create-complete`, `update-complete`, `delete-complete`, `*-in-progress`, `*-failed`,
    /// `disable-complete`, ….
    pub state: Option<String>,
    /// The reason for the current state.
    pub reason: Option<String>,
    /// Tags.
    #[serde(deserialize_with = "fit")]
    pub tags: Vec<Tag>,
    /// Where it was found.
    #[serde(skip)]
    pub origin: Origin,
}
