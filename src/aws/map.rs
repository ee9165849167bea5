//! From the SDK's types to the snapshot model: the same fields, under the same names, that
//! `aws ec2 describe-*` would have printed.

use crate::snapshot as m;
use aws_sdk_ec2::types as t;

fn s(v: Option<&str>) -> Option<String> {
    v.map(str::to_string)
}

fn req(v: Option<&str>) -> String {
    v.unwrap_or_default().to_string()
}

fn strings(v: &[String]) -> Vec<String> {
    v.to_vec()
}

fn tags(v: &[t::Tag]) -> Vec<m::Tag> {
    v.iter()
        .map(|tag| m::Tag {
            key: req(tag.key()),
            value: req(tag.value()),
        })
        .collect()
}

fn state(v: Option<&str>) -> Option<m::StateWrapper> {
    v.map(|state| m::StateWrapper {
        state: Some(state.to_string()),
    })
}

fn group(g: &t::GroupIdentifier) -> m::GroupIdentifier {
    m::GroupIdentifier {
        group_id: req(g.group_id()),
        group_name: s(g.group_name()),
    }
}

/// A VPC.
pub fn vpc(v: &t::Vpc) -> m::Vpc {
    m::Vpc {
        vpc_id: req(v.vpc_id()),
        cidr_block: s(v.cidr_block()),
        cidr_block_association_set: v
            .cidr_block_association_set()
            .iter()
            .map(|a| m::CidrBlockAssociation {
                cidr_block: s(a.cidr_block()),
                cidr_block_state: state(
                    a.cidr_block_state()
                        .and_then(|st| st.state())
                        .map(|st| st.as_str()),
                ),
            })
            .collect(),
        ipv6_cidr_block_association_set: v
            .ipv6_cidr_block_association_set()
            .iter()
            .map(|a| m::Ipv6CidrBlockAssociation {
                ipv6_cidr_block: s(a.ipv6_cidr_block()),
                ipv6_cidr_block_state: state(
                    a.ipv6_cidr_block_state()
                        .and_then(|st| st.state())
                        .map(|st| st.as_str()),
                ),
            })
            .collect(),
        owner_id: s(v.owner_id()),
        is_default: v.is_default(),
        block_public_access_states: bpa_states(v.block_public_access_states()),
        tags: tags(v.tags()),
        origin: m::Origin::default(),
    }
}

/// A subnet.
pub fn subnet(v: &t::Subnet) -> m::Subnet {
    m::Subnet {
        subnet_id: req(v.subnet_id()),
        vpc_id: req(v.vpc_id()),
        cidr_block: s(v.cidr_block()),
        ipv6_cidr_block_association_set: v
            .ipv6_cidr_block_association_set()
            .iter()
            .map(|a| m::Ipv6CidrBlockAssociation {
                ipv6_cidr_block: s(a.ipv6_cidr_block()),
                ipv6_cidr_block_state: state(
                    a.ipv6_cidr_block_state()
                        .and_then(|st| st.state())
                        .map(|st| st.as_str()),
                ),
            })
            .collect(),
        availability_zone: s(v.availability_zone()),
        availability_zone_id: s(v.availability_zone_id()),
        owner_id: s(v.owner_id()),
        block_public_access_states: bpa_states(v.block_public_access_states()),
        tags: tags(v.tags()),
        origin: m::Origin::default(),
    }
}

/// A route table.
pub fn route_table(v: &t::RouteTable) -> m::RouteTable {
    m::RouteTable {
        route_table_id: req(v.route_table_id()),
        vpc_id: req(v.vpc_id()),
        associations: v
            .associations()
            .iter()
            .map(|a| m::RouteTableAssociation {
                main: a.main(),
                subnet_id: s(a.subnet_id()),
                gateway_id: s(a.gateway_id()),
                route_table_association_id: s(a.route_table_association_id()),
                association_state: state(
                    a.association_state()
                        .and_then(|st| st.state())
                        .map(|st| st.as_str()),
                ),
            })
            .collect(),
        routes: v.routes().iter().map(route).collect(),
        tags: tags(v.tags()),
        origin: m::Origin::default(),
    }
}

fn route(r: &t::Route) -> m::Route {
    m::Route {
        destination_cidr_block: s(r.destination_cidr_block()),
        destination_ipv6_cidr_block: s(r.destination_ipv6_cidr_block()),
        destination_prefix_list_id: s(r.destination_prefix_list_id()),
        gateway_id: s(r.gateway_id()),
        nat_gateway_id: s(r.nat_gateway_id()),
        network_interface_id: s(r.network_interface_id()),
        instance_id: s(r.instance_id()),
        vpc_peering_connection_id: s(r.vpc_peering_connection_id()),
        transit_gateway_id: s(r.transit_gateway_id()),
        egress_only_internet_gateway_id: s(r.egress_only_internet_gateway_id()),
        local_gateway_id: s(r.local_gateway_id()),
        carrier_gateway_id: s(r.carrier_gateway_id()),
        core_network_arn: s(r.core_network_arn()),
        origin: s(r.origin().map(|o| o.as_str())),
        state: s(r.state().map(|o| o.as_str())),
    }
}

/// A network ACL.
pub fn network_acl(v: &t::NetworkAcl) -> m::NetworkAcl {
    m::NetworkAcl {
        network_acl_id: req(v.network_acl_id()),
        vpc_id: req(v.vpc_id()),
        is_default: v.is_default(),
        associations: v
            .associations()
            .iter()
            .map(|a| m::NetworkAclAssociation {
                network_acl_association_id: s(a.network_acl_association_id()),
                network_acl_id: s(a.network_acl_id()),
                subnet_id: s(a.subnet_id()),
            })
            .collect(),
        entries: v
            .entries()
            .iter()
            .map(|e| m::NetworkAclEntry {
                cidr_block: s(e.cidr_block()),
                ipv6_cidr_block: s(e.ipv6_cidr_block()),
                egress: e.egress().unwrap_or(false),
                icmp_type_code: e.icmp_type_code().map(|c| m::IcmpTypeCode {
                    code: c.code(),
                    icmp_type: c.r#type(),
                }),
                port_range: e.port_range().map(|p| m::PortRange {
                    from: p.from(),
                    to: p.to(),
                }),
                protocol: req(e.protocol()),
                rule_action: e
                    .rule_action()
                    .map(|a| a.as_str().to_string())
                    .unwrap_or_default(),
                rule_number: i64::from(e.rule_number().unwrap_or_default()),
            })
            .collect(),
        tags: tags(v.tags()),
        origin: m::Origin::default(),
        unknown_entries: Vec::new(),
    }
}

fn permission(p: &t::IpPermission) -> m::IpPermission {
    m::IpPermission {
        ip_protocol: req(p.ip_protocol()).into(),
        from_port: p.from_port(),
        to_port: p.to_port(),
        ip_ranges: p
            .ip_ranges()
            .iter()
            .map(|r| m::IpRange {
                cidr_ip: req(r.cidr_ip()).into(),
                description: s(r.description()).map(Into::into),
            })
            .collect(),
        ipv6_ranges: p
            .ipv6_ranges()
            .iter()
            .map(|r| m::Ipv6Range {
                cidr_ipv6: req(r.cidr_ipv6()).into(),
                description: s(r.description()).map(Into::into),
            })
            .collect(),
        prefix_list_ids: p
            .prefix_list_ids()
            .iter()
            .map(|r| m::PrefixListRef {
                prefix_list_id: req(r.prefix_list_id()).into(),
                description: s(r.description()).map(Into::into),
            })
            .collect(),
        user_id_group_pairs: p
            .user_id_group_pairs()
            .iter()
            .map(|g| m::UserIdGroupPair {
                group_id: s(g.group_id()).map(Into::into),
                group_name: s(g.group_name()).map(Into::into),
                user_id: s(g.user_id()).map(Into::into),
                vpc_id: s(g.vpc_id()).map(Into::into),
                vpc_peering_connection_id: s(g.vpc_peering_connection_id()).map(Into::into),
                peering_status: s(g.peering_status()).map(Into::into),
                description: s(g.description()).map(Into::into),
            })
            .collect(),
    }
}

/// A security group.
pub fn security_group(v: &t::SecurityGroup) -> m::SecurityGroup {
    m::SecurityGroup {
        group_id: req(v.group_id()),
        group_name: req(v.group_name()),
        description: s(v.description()),
        vpc_id: s(v.vpc_id()),
        owner_id: s(v.owner_id()),
        ip_permissions: v.ip_permissions().iter().map(permission).collect(),
        ip_permissions_egress: v.ip_permissions_egress().iter().map(permission).collect(),
        tags: tags(v.tags()),
        origin: m::Origin::default(),
    }
}

fn eni_association(a: &t::NetworkInterfaceAssociation) -> m::IpAssociation {
    m::IpAssociation {
        public_ip: s(a.public_ip()),
        allocation_id: s(a.allocation_id()),
        ip_owner_id: s(a.ip_owner_id()),
    }
}

/// A network interface (`describe-network-interfaces`).
pub fn network_interface(v: &t::NetworkInterface) -> m::NetworkInterface {
    m::NetworkInterface {
        network_interface_id: req(v.network_interface_id()),
        subnet_id: s(v.subnet_id()),
        vpc_id: s(v.vpc_id()),
        availability_zone: s(v.availability_zone()),
        description: s(v.description()),
        interface_type: s(v.interface_type().map(|x| x.as_str())),
        groups: v.groups().iter().map(group).collect(),
        private_ip_address: s(v.private_ip_address()),
        private_ip_addresses: v
            .private_ip_addresses()
            .iter()
            .map(|a| m::PrivateIpAddress {
                private_ip_address: req(a.private_ip_address()),
                primary: a.primary(),
                association: a.association().map(eni_association),
            })
            .collect(),
        ipv6_addresses: v
            .ipv6_addresses()
            .iter()
            .map(|a| m::Ipv6Address {
                ipv6_address: req(a.ipv6_address()),
            })
            .collect(),
        association: v.association().map(eni_association),
        attachment: v.attachment().map(|a| m::Attachment {
            instance_id: s(a.instance_id()),
            device_index: a.device_index(),
            status: s(a.status().map(|x| x.as_str())),
        }),
        source_dest_check: v.source_dest_check(),
        status: s(v.status().map(|x| x.as_str())),
        requester_id: s(v.requester_id()),
        owner_id: s(v.owner_id()),
        tag_set: tags(v.tag_set()),
        origin: m::Origin::default(),
    }
}

fn instance_association(a: &t::InstanceNetworkInterfaceAssociation) -> m::IpAssociation {
    m::IpAssociation {
        public_ip: s(a.public_ip()),
        allocation_id: None,
        ip_owner_id: s(a.ip_owner_id()),
    }
}

fn instance_interface(v: &t::InstanceNetworkInterface) -> m::NetworkInterface {
    m::NetworkInterface {
        network_interface_id: req(v.network_interface_id()),
        subnet_id: s(v.subnet_id()),
        vpc_id: s(v.vpc_id()),
        availability_zone: None,
        description: s(v.description()),
        interface_type: s(v.interface_type()),
        groups: v.groups().iter().map(group).collect(),
        private_ip_address: s(v.private_ip_address()),
        private_ip_addresses: v
            .private_ip_addresses()
            .iter()
            .map(|a| m::PrivateIpAddress {
                private_ip_address: req(a.private_ip_address()),
                primary: a.primary(),
                association: a.association().map(instance_association),
            })
            .collect(),
        ipv6_addresses: v
            .ipv6_addresses()
            .iter()
            .map(|a| m::Ipv6Address {
                ipv6_address: req(a.ipv6_address()),
            })
            .collect(),
        association: v.association().map(instance_association),
        attachment: v.attachment().map(|a| m::Attachment {
            instance_id: None,
            device_index: a.device_index(),
            status: s(a.status().map(|x| x.as_str())),
        }),
        source_dest_check: v.source_dest_check(),
        status: s(v.status().map(|x| x.as_str())),
        requester_id: None,
        owner_id: s(v.owner_id()),
        tag_set: Vec::new(),
        origin: m::Origin::default(),
    }
}

/// A reservation of `describe-instances`, with its instances.
pub fn reservation(v: &t::Reservation) -> m::Reservation {
    m::Reservation {
        instances: v
            .instances()
            .iter()
            .map(|i| m::Instance {
                instance_id: req(i.instance_id()),
                network_interfaces: i
                    .network_interfaces()
                    .iter()
                    .map(instance_interface)
                    .collect(),
                private_ip_address: s(i.private_ip_address()),
                public_ip_address: s(i.public_ip_address()),
                subnet_id: s(i.subnet_id()),
                vpc_id: s(i.vpc_id()),
                security_groups: i.security_groups().iter().map(group).collect(),
                state: i.state().map(|st| m::InstanceState {
                    name: s(st.name().map(|n| n.as_str())),
                }),
                tags: tags(i.tags()),
            })
            .collect(),
        owner_id: s(v.owner_id()),
    }
}

fn gateway_attachment(a: &t::InternetGatewayAttachment) -> m::GatewayAttachment {
    m::GatewayAttachment {
        vpc_id: req(a.vpc_id()),
        state: s(a.state().map(|x| x.as_str())),
    }
}

/// An internet gateway.
pub fn internet_gateway(v: &t::InternetGateway) -> m::InternetGateway {
    m::InternetGateway {
        internet_gateway_id: req(v.internet_gateway_id()),
        attachments: v.attachments().iter().map(gateway_attachment).collect(),
        tags: tags(v.tags()),
    }
}

/// An egress-only internet gateway.
pub fn egress_only_internet_gateway(
    v: &t::EgressOnlyInternetGateway,
) -> m::EgressOnlyInternetGateway {
    m::EgressOnlyInternetGateway {
        egress_only_internet_gateway_id: req(v.egress_only_internet_gateway_id()),
        attachments: v.attachments().iter().map(gateway_attachment).collect(),
        tags: tags(v.tags()),
    }
}

/// A VPC Flow Log.
pub fn flow_log(v: &t::FlowLog) -> m::FlowLog {
    m::FlowLog {
        flow_log_id: req(v.flow_log_id()),
        resource_id: s(v.resource_id()),
        traffic_type: s(v.traffic_type().map(|x| x.as_str())),
        log_destination_type: s(v.log_destination_type().map(|x| x.as_str())),
        log_destination: s(v.log_destination()),
        log_group_name: s(v.log_group_name()),
        deliver_logs_status: s(v.deliver_logs_status()),
        deliver_logs_error_message: s(v.deliver_logs_error_message()),
        flow_log_status: s(v.flow_log_status()),
        log_format: s(v.log_format()),
        max_aggregation_interval: v.max_aggregation_interval().map(i64::from),
        creation_time: v
            .creation_time()
            .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
        tags: tags(v.tags()),
    }
}

/// A NAT gateway.
pub fn nat_gateway(v: &t::NatGateway) -> m::NatGateway {
    m::NatGateway {
        nat_gateway_id: req(v.nat_gateway_id()),
        subnet_id: s(v.subnet_id()),
        vpc_id: s(v.vpc_id()),
        state: s(v.state().map(|x| x.as_str())),
        connectivity_type: s(v.connectivity_type().map(|x| x.as_str())),
        nat_gateway_addresses: v
            .nat_gateway_addresses()
            .iter()
            .map(|a| m::NatGatewayAddress {
                network_interface_id: s(a.network_interface_id()),
                private_ip: s(a.private_ip()),
                public_ip: s(a.public_ip()),
                allocation_id: s(a.allocation_id()),
            })
            .collect(),
        tags: tags(v.tags()),
    }
}

fn peering_side(v: Option<&t::VpcPeeringConnectionVpcInfo>) -> m::PeeringVpcInfo {
    let Some(v) = v else {
        return m::PeeringVpcInfo::default();
    };
    m::PeeringVpcInfo {
        vpc_id: s(v.vpc_id()),
        owner_id: s(v.owner_id()),
        region: s(v.region()),
        cidr_block: s(v.cidr_block()),
        cidr_block_set: v
            .cidr_block_set()
            .iter()
            .map(|c| m::CidrBlockEntry {
                cidr_block: s(c.cidr_block()),
                ipv6_cidr_block: None,
            })
            .collect(),
        ipv6_cidr_block_set: v
            .ipv6_cidr_block_set()
            .iter()
            .map(|c| m::CidrBlockEntry {
                cidr_block: None,
                ipv6_cidr_block: s(c.ipv6_cidr_block()),
            })
            .collect(),
    }
}

/// A VPC peering connection.
pub fn vpc_peering_connection(v: &t::VpcPeeringConnection) -> m::VpcPeeringConnection {
    m::VpcPeeringConnection {
        vpc_peering_connection_id: req(v.vpc_peering_connection_id()),
        accepter_vpc_info: peering_side(v.accepter_vpc_info()),
        requester_vpc_info: peering_side(v.requester_vpc_info()),
        status: v.status().map(|st| m::PeeringStatus {
            code: s(st.code().map(|c| c.as_str())),
        }),
        tags: tags(v.tags()),
    }
}

/// An AWS service prefix list.
pub fn prefix_list(v: &t::PrefixList) -> m::PrefixList {
    m::PrefixList {
        prefix_list_id: req(v.prefix_list_id()),
        prefix_list_name: s(v.prefix_list_name()),
        cidrs: strings(v.cidrs()),
    }
}

/// A managed prefix list, with the entries read separately.
pub fn managed_prefix_list(
    v: &t::ManagedPrefixList,
    entries: &[t::PrefixListEntry],
) -> m::ManagedPrefixList {
    m::ManagedPrefixList {
        prefix_list_id: req(v.prefix_list_id()),
        prefix_list_name: s(v.prefix_list_name()),
        address_family: s(v.address_family()),
        owner_id: s(v.owner_id()),
        entries: Some(
            entries
                .iter()
                .map(|e| m::PrefixListEntry {
                    cidr: req(e.cidr()),
                    description: s(e.description()),
                })
                .collect(),
        ),
    }
}

/// A VPC endpoint.
pub fn vpc_endpoint(v: &t::VpcEndpoint) -> m::VpcEndpoint {
    m::VpcEndpoint {
        vpc_endpoint_id: req(v.vpc_endpoint_id()),
        vpc_endpoint_type: s(v.vpc_endpoint_type().map(|x| x.as_str())),
        vpc_id: s(v.vpc_id()),
        service_name: s(v.service_name()),
        state: s(v.state().map(|x| x.as_str())),
        route_table_ids: strings(v.route_table_ids()),
        subnet_ids: strings(v.subnet_ids()),
        groups: v
            .groups()
            .iter()
            .map(|g| m::GroupIdentifier {
                group_id: req(g.group_id()),
                group_name: s(g.group_name()),
            })
            .collect(),
        network_interface_ids: strings(v.network_interface_ids()),
    }
}

/// An Elastic IP.
pub fn address(v: &t::Address) -> m::Address {
    m::Address {
        public_ip: s(v.public_ip()),
        allocation_id: s(v.allocation_id()),
        association_id: s(v.association_id()),
        network_interface_id: s(v.network_interface_id()),
        private_ip_address: s(v.private_ip_address()),
        instance_id: s(v.instance_id()),
    }
}

/// A transit gateway.
pub fn transit_gateway(v: &t::TransitGateway) -> m::TransitGateway {
    m::TransitGateway {
        transit_gateway_id: req(v.transit_gateway_id()),
        state: s(v.state().map(|x| x.as_str())),
        owner_id: s(v.owner_id()),
        options: v.options().map(|o| m::TransitGatewayOptions {
            association_default_route_table_id: s(o.association_default_route_table_id()),
            propagation_default_route_table_id: s(o.propagation_default_route_table_id()),
        }),
    }
}

/// A transit gateway attachment (the generic form).
pub fn transit_gateway_attachment(v: &t::TransitGatewayAttachment) -> m::TransitGatewayAttachment {
    m::TransitGatewayAttachment {
        transit_gateway_attachment_id: req(v.transit_gateway_attachment_id()),
        transit_gateway_id: s(v.transit_gateway_id()),
        resource_type: s(v.resource_type().map(|x| x.as_str())),
        resource_id: s(v.resource_id()),
        state: s(v.state().map(|x| x.as_str())),
        association: v.association().map(|a| m::TgwAttachmentAssociation {
            transit_gateway_route_table_id: s(a.transit_gateway_route_table_id()),
            state: s(a.state().map(|x| x.as_str())),
        }),
        vpc_id: None,
        subnet_ids: Vec::new(),
    }
}

/// A transit gateway VPC attachment (the VPC form: its VPC and subnets).
pub fn transit_gateway_vpc_attachment(
    v: &t::TransitGatewayVpcAttachment,
) -> m::TransitGatewayAttachment {
    m::TransitGatewayAttachment {
        transit_gateway_attachment_id: req(v.transit_gateway_attachment_id()),
        transit_gateway_id: s(v.transit_gateway_id()),
        resource_type: None,
        resource_id: None,
        state: s(v.state().map(|x| x.as_str())),
        association: None,
        vpc_id: s(v.vpc_id()),
        subnet_ids: strings(v.subnet_ids()),
    }
}

/// A transit gateway route table, with the routes read separately.
pub fn transit_gateway_route_table(
    v: &t::TransitGatewayRouteTable,
    routes: &[t::TransitGatewayRoute],
) -> m::TransitGatewayRouteTable {
    m::TransitGatewayRouteTable {
        transit_gateway_route_table_id: req(v.transit_gateway_route_table_id()),
        transit_gateway_id: s(v.transit_gateway_id()),
        default_association_route_table: v.default_association_route_table(),
        default_propagation_route_table: v.default_propagation_route_table(),
        routes: routes
            .iter()
            .map(|r| m::TgwRoute {
                destination_cidr_block: s(r.destination_cidr_block()),
                prefix_list_id: s(r.prefix_list_id()),
                state: s(r.state().map(|x| x.as_str())),
                route_type: s(r.r#type().map(|x| x.as_str())),
                transit_gateway_attachments: r
                    .transit_gateway_attachments()
                    .iter()
                    .map(|a| m::TgwRouteAttachment {
                        transit_gateway_attachment_id: s(a.transit_gateway_attachment_id()),
                        resource_id: s(a.resource_id()),
                        resource_type: s(a.resource_type().map(|x| x.as_str())),
                    })
                    .collect(),
            })
            .collect(),
    }
}

fn bpa_states(v: Option<&t::BlockPublicAccessStates>) -> Option<m::BlockPublicAccessStates> {
    v.map(|b| m::BlockPublicAccessStates {
        internet_gateway_block_mode: b
            .internet_gateway_block_mode()
            .map(|x| x.as_str().to_string()),
    })
}

/// VPC Block Public Access options.
pub fn bpa_options(v: &t::VpcBlockPublicAccessOptions) -> m::VpcBlockPublicAccessOptions {
    m::VpcBlockPublicAccessOptions {
        aws_account_id: s(v.aws_account_id()),
        aws_region: s(v.aws_region()),
        state: v.state().map(|x| x.as_str().to_string()),
        internet_gateway_block_mode: v
            .internet_gateway_block_mode()
            .map(|x| x.as_str().to_string()),
        reason: s(v.reason()),
        managed_by: v.managed_by().map(|x| x.as_str().to_string()),
        exclusions_allowed: v.exclusions_allowed().map(|x| x.as_str().to_string()),
        origin: m::Origin::default(),
    }
}

/// A VPC Block Public Access exclusion.
pub fn bpa_exclusion(v: &t::VpcBlockPublicAccessExclusion) -> m::VpcBlockPublicAccessExclusion {
    m::VpcBlockPublicAccessExclusion {
        exclusion_id: req(v.exclusion_id()),
        internet_gateway_exclusion_mode: v
            .internet_gateway_exclusion_mode()
            .map(|x| x.as_str().to_string()),
        resource_arn: s(v.resource_arn()),
        state: v.state().map(|x| x.as_str().to_string()),
        reason: s(v.reason()),
        tags: tags(v.tags()),
        origin: m::Origin::default(),
    }
}
