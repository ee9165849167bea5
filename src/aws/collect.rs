//! Reading one region's network configuration from the EC2 API: every read-only call the
//! snapshot loader understands, each paginated to the end.

use super::config::Session;
use super::error::{classify, AwsError, CallSite};
use super::map;
use super::{Progress, Scope};
use crate::snapshot as m;
use aws_sdk_ec2::types::Filter;
use std::sync::Arc;

/// The calls made per region, in order, as progress steps. (`GetManagedPrefixListEntries` and
/// `SearchTransitGatewayRoutes` are made once per list and per table, within their step.)
pub const CALLS: &[&str] = &[
    "DescribeVpcs",
    "DescribeSubnets",
    "DescribeRouteTables",
    "DescribeNetworkAcls",
    "DescribeSecurityGroups",
    "DescribeNetworkInterfaces",
    "DescribeInstances",
    "DescribeInternetGateways",
    "DescribeEgressOnlyInternetGateways",
    "DescribeNatGateways",
    "DescribeVpcPeeringConnections",
    "DescribePrefixLists",
    "DescribeManagedPrefixLists",
    "DescribeVpcEndpoints",
    "DescribeAddresses",
    "DescribeTransitGateways",
    "DescribeTransitGatewayAttachments",
    "DescribeTransitGatewayVpcAttachments",
    "DescribeTransitGatewayRouteTables",
    "DescribeFlowLogs",
    "DescribeVpcBlockPublicAccessOptions",
    "DescribeVpcBlockPublicAccessExclusions",
];

/// The Elastic Load Balancing steps per region, after [`CALLS`]. (`DescribeListeners`,
/// `DescribeRules` and `DescribeLoadBalancerAttributes` are made per load balancer and
/// listener, `DescribeTargetHealth` and `DescribeTargetGroupAttributes` per target group,
/// within their step; [`ELB_PERMISSIONS`] lists them all.)
pub const ELB_CALLS: &[&str] = &["DescribeLoadBalancers", "DescribeTargetGroups"];

/// The IAM actions of every Elastic Load Balancing call `collect` makes.
pub const ELB_PERMISSIONS: &[&str] = &[
    "elasticloadbalancing:DescribeLoadBalancers",
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeLoadBalancerAttributes",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTargetGroupAttributes",
];

/// Everything read from one account and region, in the snapshot model's types.
#[derive(Debug, Clone, Default)]
pub struct RegionResources {
    /// Which account (with `--role-arn`) and region.
    pub scope: Scope,
    /// `DescribeVpcs`.
    pub vpcs: Vec<m::Vpc>,
    /// `DescribeSubnets`.
    pub subnets: Vec<m::Subnet>,
    /// `DescribeRouteTables`.
    pub route_tables: Vec<m::RouteTable>,
    /// `DescribeNetworkAcls`.
    pub network_acls: Vec<m::NetworkAcl>,
    /// `DescribeSecurityGroups`.
    pub security_groups: Vec<m::SecurityGroup>,
    /// `DescribeNetworkInterfaces`.
    pub network_interfaces: Vec<m::NetworkInterface>,
    /// `DescribeInstances`.
    pub reservations: Vec<m::Reservation>,
    /// `DescribeInternetGateways`.
    pub internet_gateways: Vec<m::InternetGateway>,
    /// `DescribeEgressOnlyInternetGateways`.
    pub egress_only_internet_gateways: Vec<m::EgressOnlyInternetGateway>,
    /// `DescribeNatGateways`.
    pub nat_gateways: Vec<m::NatGateway>,
    /// `DescribeVpcPeeringConnections`.
    pub vpc_peering_connections: Vec<m::VpcPeeringConnection>,
    /// `DescribePrefixLists`.
    pub prefix_lists: Vec<m::PrefixList>,
    /// `DescribeManagedPrefixLists`, with `GetManagedPrefixListEntries` under `Entries`.
    pub managed_prefix_lists: Vec<m::ManagedPrefixList>,
    /// `DescribeVpcEndpoints`.
    pub vpc_endpoints: Vec<m::VpcEndpoint>,
    /// `DescribeAddresses`.
    pub addresses: Vec<m::Address>,
    /// `DescribeTransitGateways`.
    pub transit_gateways: Vec<m::TransitGateway>,
    /// `DescribeTransitGatewayAttachments`.
    pub transit_gateway_attachments: Vec<m::TransitGatewayAttachment>,
    /// `DescribeTransitGatewayVpcAttachments`.
    pub transit_gateway_vpc_attachments: Vec<m::TransitGatewayAttachment>,
    /// `DescribeTransitGatewayRouteTables`, with `SearchTransitGatewayRoutes` under `Routes`.
    pub transit_gateway_route_tables: Vec<m::TransitGatewayRouteTable>,
    /// `DescribeFlowLogs`.
    pub flow_logs: Vec<m::FlowLog>,
    /// `DescribeVpcBlockPublicAccessOptions` (one, when the endpoint answers it).
    pub bpa_options: Vec<m::VpcBlockPublicAccessOptions>,
    /// `DescribeVpcBlockPublicAccessExclusions`.
    pub bpa_exclusions: Vec<m::VpcBlockPublicAccessExclusion>,
    /// The calls the endpoint could not answer (it does not implement them), each with AWS's
    /// error: what the snapshot lacks, said wherever it is used.
    pub not_collected: Vec<String>,
    /// Load balancers, listeners, rules, target groups, targets and attributes (ELB API).
    pub elb: super::elb::ElbResources,
}

/// Collects a paginator's items, or classifies its error.
macro_rules! paginate {
    ($site:expr, $page:expr, $op:literal, $request:expr) => {{
        let mut pages = $request.into_paginator();
        if let Some(size) = $page {
            pages = pages.page_size(size);
        }
        pages
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| classify(e, $op, $site))
    }};
}

/// What every call of one account and region needs: the client, where it calls (for errors),
/// the page size, and where progress goes.
struct Calls<'a> {
    client: &'a aws_sdk_ec2::Client,
    site: &'a CallSite,
    page: Option<i32>,
    scope: &'a Scope,
    progress: &'a Arc<dyn Progress>,
}

impl Calls<'_> {
    fn done(&self, call: &'static str, items: usize) {
        self.progress.call_done(self.scope, call, items);
    }
}

/// Reads one account and region.
pub(crate) async fn region(
    session: Session,
    scope: Scope,
    progress: Arc<dyn Progress>,
) -> Result<RegionResources, AwsError> {
    let client = session.ec2(&scope.region);
    let site = session.site("ec2", &scope.region);
    let c = Calls {
        client: &client,
        site: &site,
        page: session.page_size,
        scope: &scope,
        progress: &progress,
    };
    let mut out = RegionResources {
        scope: scope.clone(),
        ..RegionResources::default()
    };
    vpc_resources(&c, &mut out).await?;
    gateways(&c, &mut out).await?;
    prefix_lists(&c, &mut out).await?;
    endpoints_and_addresses(&c, &mut out).await?;
    transit(&c, &mut out).await?;
    flow_logs(&c, &mut out).await?;
    block_public_access(&c, &mut out).await?;
    let elb_client = session.elb(&scope.region);
    let elb_site = session.site("elasticloadbalancing", &scope.region);
    out.elb = super::elb::region(&elb_client, &elb_site, |call, n| {
        progress.call_done(&scope, call, n)
    })
    .await?;
    progress.scope_done(&scope);
    Ok(out)
}

/// The VPCs and what lives in them: subnets, route tables, network ACLs, security groups,
/// network interfaces and instances.
async fn vpc_resources(c: &Calls<'_>, out: &mut RegionResources) -> Result<(), AwsError> {
    let items = paginate!(c.site, c.page, "DescribeVpcs", c.client.describe_vpcs())?;
    out.vpcs = items.iter().map(map::vpc).collect();
    c.done("DescribeVpcs", items.len());

    let items = paginate!(
        c.site,
        c.page,
        "DescribeSubnets",
        c.client.describe_subnets()
    )?;
    out.subnets = items.iter().map(map::subnet).collect();
    c.done("DescribeSubnets", items.len());

    let items = paginate!(
        c.site,
        c.page,
        "DescribeRouteTables",
        c.client.describe_route_tables()
    )?;
    out.route_tables = items.iter().map(map::route_table).collect();
    c.done("DescribeRouteTables", items.len());

    let items = paginate!(
        c.site,
        c.page,
        "DescribeNetworkAcls",
        c.client.describe_network_acls()
    )?;
    out.network_acls = items.iter().map(map::network_acl).collect();
    c.done("DescribeNetworkAcls", items.len());

    let items = paginate!(
        c.site,
        c.page,
        "DescribeSecurityGroups",
        c.client.describe_security_groups()
    )?;
    out.security_groups = items.iter().map(map::security_group).collect();
    c.done("DescribeSecurityGroups", items.len());

    let items = paginate!(
        c.site,
        c.page,
        "DescribeNetworkInterfaces",
        c.client.describe_network_interfaces()
    )?;
    out.network_interfaces = items.iter().map(map::network_interface).collect();
    c.done("DescribeNetworkInterfaces", items.len());

    let items = paginate!(
        c.site,
        c.page,
        "DescribeInstances",
        c.client.describe_instances()
    )?;
    out.reservations = items.iter().map(map::reservation).collect();
    c.done("DescribeInstances", items.len());
    Ok(())
}

/// The ways in and out of a VPC: internet, egress-only and NAT gateways, peering connections.
async fn gateways(c: &Calls<'_>, out: &mut RegionResources) -> Result<(), AwsError> {
    let items = paginate!(
        c.site,
        c.page,
        "DescribeInternetGateways",
        c.client.describe_internet_gateways()
    )?;
    out.internet_gateways = items.iter().map(map::internet_gateway).collect();
    c.done("DescribeInternetGateways", items.len());

    let items = paginate!(
        c.site,
        c.page,
        "DescribeEgressOnlyInternetGateways",
        c.client.describe_egress_only_internet_gateways()
    )?;
    out.egress_only_internet_gateways = items
        .iter()
        .map(map::egress_only_internet_gateway)
        .collect();
    c.done("DescribeEgressOnlyInternetGateways", items.len());

    let items = paginate!(
        c.site,
        c.page,
        "DescribeNatGateways",
        c.client.describe_nat_gateways()
    )?;
    out.nat_gateways = items.iter().map(map::nat_gateway).collect();
    c.done("DescribeNatGateways", items.len());

    let items = paginate!(
        c.site,
        c.page,
        "DescribeVpcPeeringConnections",
        c.client.describe_vpc_peering_connections()
    )?;
    out.vpc_peering_connections = items.iter().map(map::vpc_peering_connection).collect();
    c.done("DescribeVpcPeeringConnections", items.len());
    Ok(())
}

/// AWS and managed prefix lists, the managed ones with their entries.
async fn prefix_lists(c: &Calls<'_>, out: &mut RegionResources) -> Result<(), AwsError> {
    let items = paginate!(
        c.site,
        c.page,
        "DescribePrefixLists",
        c.client.describe_prefix_lists()
    )?;
    out.prefix_lists = items.iter().map(map::prefix_list).collect();
    c.done("DescribePrefixLists", items.len());

    let lists = paginate!(
        c.site,
        c.page,
        "DescribeManagedPrefixLists",
        c.client.describe_managed_prefix_lists()
    )?;
    for list in &lists {
        let Some(id) = list.prefix_list_id() else {
            continue;
        };
        let entries = paginate!(
            c.site,
            c.page,
            "GetManagedPrefixListEntries",
            c.client
                .get_managed_prefix_list_entries()
                .prefix_list_id(id)
        )?;
        out.managed_prefix_lists
            .push(map::managed_prefix_list(list, &entries));
    }
    c.done("DescribeManagedPrefixLists", lists.len());
    Ok(())
}

/// VPC endpoints and Elastic IPs.
async fn endpoints_and_addresses(c: &Calls<'_>, out: &mut RegionResources) -> Result<(), AwsError> {
    let items = paginate!(
        c.site,
        c.page,
        "DescribeVpcEndpoints",
        c.client.describe_vpc_endpoints()
    )?;
    out.vpc_endpoints = items.iter().map(map::vpc_endpoint).collect();
    c.done("DescribeVpcEndpoints", items.len());

    // `DescribeAddresses` has no pagination: one call answers with every address.
    let addresses = c
        .client
        .describe_addresses()
        .send()
        .await
        .map_err(|e| classify(e, "DescribeAddresses", c.site))?;
    out.addresses = addresses.addresses().iter().map(map::address).collect();
    c.done("DescribeAddresses", out.addresses.len());
    Ok(())
}

/// The VPC Flow Logs: what each captures and whether it delivers.
async fn flow_logs(c: &Calls<'_>, out: &mut RegionResources) -> Result<(), AwsError> {
    let items = paginate!(
        c.site,
        c.page,
        "DescribeFlowLogs",
        c.client.describe_flow_logs()
    )?;
    out.flow_logs = items.iter().map(map::flow_log).collect();
    c.done("DescribeFlowLogs", items.len());
    Ok(())
}

/// Whether an error of a call means the endpoint does not offer it (an older partition or a
/// compatible server without the API), so the call is reported as not collected, rather than
/// one that must stop the collection (access denied, credentials, throttling, the network).
fn not_offered(e: &AwsError) -> bool {
    match e {
        AwsError::Service { code, .. } => {
            code.starts_with("HTTP 5")
                || code.starts_with("HTTP 404")
                || matches!(
                    code.as_str(),
                    "InvalidAction"
                        | "UnknownOperationException"
                        | "NotImplemented"
                        | "NotImplementedError"
                        | "InternalError"
                        | "InternalFailure"
                        | "UnsupportedOperation"
                )
        }
        AwsError::Other { .. } => true,
        _ => false,
    }
}

/// VPC Block Public Access: the account and Region's options, and every exclusion (paginated
/// by hand: the SDK has no paginator for it; the page guard still sees every page).
async fn block_public_access(c: &Calls<'_>, out: &mut RegionResources) -> Result<(), AwsError> {
    const OPTIONS: &str = "DescribeVpcBlockPublicAccessOptions";
    const EXCLUSIONS: &str = "DescribeVpcBlockPublicAccessExclusions";
    match c
        .client
        .describe_vpc_block_public_access_options()
        .send()
        .await
        .map_err(|e| classify(e, OPTIONS, c.site))
    {
        Ok(r) => {
            out.bpa_options = r
                .vpc_block_public_access_options()
                .map(map::bpa_options)
                .into_iter()
                .collect();
        }
        Err(e) if not_offered(&e) => out.not_collected.push(e.to_string()),
        Err(e) => return Err(e),
    }
    c.done(OPTIONS, out.bpa_options.len());
    let mut token: Option<String> = None;
    let mut items = Vec::new();
    loop {
        let mut req = c
            .client
            .describe_vpc_block_public_access_exclusions()
            .set_next_token(token.take());
        if let Some(size) = c.page {
            // The API takes 5–1000 results a page.
            req = req.max_results(size.clamp(5, 1000));
        }
        match req
            .send()
            .await
            .map_err(|e| classify(e, EXCLUSIONS, c.site))
        {
            Ok(page) => {
                items.extend(
                    page.vpc_block_public_access_exclusions()
                        .iter()
                        .map(map::bpa_exclusion),
                );
                match page.next_token().filter(|t| !t.is_empty()) {
                    Some(t) => token = Some(t.to_string()),
                    None => break,
                }
            }
            Err(e) if not_offered(&e) && items.is_empty() => {
                out.not_collected.push(e.to_string());
                break;
            }
            Err(e) => return Err(e),
        }
    }
    out.bpa_exclusions = items;
    c.done(EXCLUSIONS, out.bpa_exclusions.len());
    Ok(())
}

/// Transit gateways, their attachments, and their route tables with their routes.
async fn transit(c: &Calls<'_>, out: &mut RegionResources) -> Result<(), AwsError> {
    let items = paginate!(
        c.site,
        c.page,
        "DescribeTransitGateways",
        c.client.describe_transit_gateways()
    )?;
    out.transit_gateways = items.iter().map(map::transit_gateway).collect();
    c.done("DescribeTransitGateways", items.len());

    let items = paginate!(
        c.site,
        c.page,
        "DescribeTransitGatewayAttachments",
        c.client.describe_transit_gateway_attachments()
    )?;
    out.transit_gateway_attachments = items.iter().map(map::transit_gateway_attachment).collect();
    c.done("DescribeTransitGatewayAttachments", items.len());

    let items = paginate!(
        c.site,
        c.page,
        "DescribeTransitGatewayVpcAttachments",
        c.client.describe_transit_gateway_vpc_attachments()
    )?;
    out.transit_gateway_vpc_attachments = items
        .iter()
        .map(map::transit_gateway_vpc_attachment)
        .collect();
    c.done("DescribeTransitGatewayVpcAttachments", items.len());

    let tables = paginate!(
        c.site,
        c.page,
        "DescribeTransitGatewayRouteTables",
        c.client.describe_transit_gateway_route_tables()
    )?;
    for table in &tables {
        let Some(id) = table.transit_gateway_route_table_id() else {
            continue;
        };
        let routes = tgw_routes(c.client, id, c.site).await?;
        out.transit_gateway_route_tables
            .push(map::transit_gateway_route_table(table, &routes));
    }
    c.done("DescribeTransitGatewayRouteTables", tables.len());
    Ok(())
}

/// The static and propagated routes of one transit gateway route table. (The service's own page
/// size: a page size breaks some compatible endpoints here.)
async fn tgw_routes(
    client: &aws_sdk_ec2::Client,
    table: &str,
    site: &CallSite,
) -> Result<Vec<aws_sdk_ec2::types::TransitGatewayRoute>, AwsError> {
    let filter = Filter::builder()
        .name("type")
        .values("static")
        .values("propagated")
        .build();
    paginate!(
        site,
        None::<i32>,
        "SearchTransitGatewayRoutes",
        client
            .search_transit_gateway_routes()
            .transit_gateway_route_table_id(table)
            .filters(filter)
    )
}
