//! A snapshot is what AWS said about a network at one moment: plain data, normalized, with no
//! behaviour. It is loaded from a folder of saved `aws ec2 describe-*` JSON (or, later, from the
//! API) and turned into a [`crate::Network`] for evaluation.

mod check;
mod load;
pub mod load_balancer;
pub mod model;

pub use load::SnapshotError;
pub use load_balancer::*;
pub use model::*;

/// The file that marks a folder as a snapshot `vpcreach collect` wrote (so that a later run
/// may replace it), with the time of collection (`collected-at:`). Not `.json`, so the loader
/// passes it by.
pub const MARKER_FILE: &str = ".vpcreach-snapshot";

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Everything a snapshot holds, grouped by resource type.
///
/// ```
/// use vpcreach::Snapshot;
/// let snap = Snapshot::from_json_str(r#"{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}"#)
///     .unwrap();
/// assert_eq!(snap.vpcs[0].vpc_id, "vpc-1");
/// ```
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// VPCs.
    pub vpcs: Vec<Vpc>,
    /// Subnets.
    pub subnets: Vec<Subnet>,
    /// Route tables.
    pub route_tables: Vec<RouteTable>,
    /// Network ACLs.
    pub network_acls: Vec<NetworkAcl>,
    /// Security groups.
    pub security_groups: Vec<SecurityGroup>,
    /// ENIs from `describe-network-interfaces`.
    pub network_interfaces: Vec<NetworkInterface>,
    /// Instances from `describe-instances` (reservations flattened).
    pub instances: Vec<Instance>,
    /// Internet gateways.
    pub internet_gateways: Vec<InternetGateway>,
    /// Egress-only internet gateways.
    pub egress_only_internet_gateways: Vec<EgressOnlyInternetGateway>,
    /// NAT gateways.
    pub nat_gateways: Vec<NatGateway>,
    /// Peering connections.
    pub vpc_peering_connections: Vec<VpcPeeringConnection>,
    /// AWS service prefix lists (`describe-prefix-lists`).
    pub prefix_lists: Vec<PrefixList>,
    /// Managed prefix lists with their entries.
    pub managed_prefix_lists: Vec<ManagedPrefixList>,
    /// VPC endpoints.
    pub vpc_endpoints: Vec<VpcEndpoint>,
    /// Elastic IPs.
    pub addresses: Vec<Address>,
    /// Transit gateways.
    pub transit_gateways: Vec<TransitGateway>,
    /// Transit gateway attachments (both the generic and the VPC form).
    pub transit_gateway_attachments: Vec<TransitGatewayAttachment>,
    /// Transit gateway route tables.
    pub transit_gateway_route_tables: Vec<TransitGatewayRouteTable>,
    /// Transit gateway routes given per table (`TransitGatewayStaticRoutes`).
    pub transit_gateway_route_sets: Vec<TgwRouteSet>,
    /// Transit gateway propagations.
    pub transit_gateway_propagations: Vec<TgwPropagationSet>,
    /// VPC Flow Logs (`describe-flow-logs`).
    pub flow_logs: Vec<FlowLog>,
    /// Load balancers (`describe-load-balancers`).
    pub load_balancers: Vec<LoadBalancer>,
    /// Listeners (`describe-listeners`).
    pub listeners: Vec<Listener>,
    /// Listener rules (`describe-rules`).
    pub lb_rules: Vec<LbRule>,
    /// Target groups (`describe-target-groups`).
    pub target_groups: Vec<TargetGroup>,
    /// Registered targets per target group (`describe-target-health` with `TargetGroupArn`).
    pub target_health: Vec<TargetHealthSet>,
    /// Target group attributes (`describe-target-group-attributes` with `TargetGroupArn`).
    pub target_group_attributes: Vec<AttributeSet>,
    /// Load balancer attributes (`describe-load-balancer-attributes` with `LoadBalancerArn`).
    pub load_balancer_attributes: Vec<AttributeSet>,
    /// VPC Block Public Access options, one per account and Region
    /// (`describe-vpc-block-public-access-options`).
    pub vpc_block_public_access_options: Vec<VpcBlockPublicAccessOptions>,
    /// VPC Block Public Access exclusions (`describe-vpc-block-public-access-exclusions`).
    pub vpc_block_public_access_exclusions: Vec<VpcBlockPublicAccessExclusion>,
    /// Where a `FlowLogs` key was read (the account and region folders of each file that had
    /// one, even an empty list): the flow-log configuration of those places is known. A place
    /// with no `FlowLogs` key says nothing about flow logs, which is not "no flow log".
    pub flow_logs_read: Vec<Origin>,
    /// Top-level keys that were read but are not modelled (load balancers, VPN, …), with the files
    /// they came from. Never fatal; a path that depends on them is reported as unknown.
    pub not_modelled: BTreeMap<String, Vec<PathBuf>>,
    /// The files that were read.
    pub files: Vec<PathBuf>,
    /// What loading passed by or found doubtful (a FIFO or a link loop in the folder, …), one
    /// message each: printed as warnings, never fatal, never silent.
    pub warnings: Vec<String>,
    /// When the snapshot was taken (Unix seconds), when known: `vpcreach collect` records it in
    /// the folder's `.vpcreach-snapshot` file (`collected-at: <RFC 3339>`).
    pub collected_at: Option<i64>,
    /// Resources left out because the snapshot cannot be believed about them (defined twice
    /// differently, a rule that cannot be read, or depending on such a resource), by id, with
    /// why: verdicts about them are `unknown` and say this, not only a warning.
    pub withheld: BTreeMap<String, String>,
    /// What a user may type for a withheld ENI besides its id (its instance id, its `Name` tag
    /// or its instance's, its private, public and IPv6 addresses), with the ENI's id: a query
    /// naming it is told why it is left out, not that the name is unknown or that the address is
    /// one of the internet.
    pub withheld_aliases: BTreeMap<String, String>,
}

impl Snapshot {
    /// Notes in [`Snapshot::withheld_aliases`] the other names of the ENIs (top-level and
    /// instances') that `pick` selects, before they are left out.
    pub(crate) fn note_aliases_of(&mut self, pick: impl Fn(&NetworkInterface) -> bool) {
        for (alias, id) in self.aliases_of(pick) {
            self.withheld_aliases.entry(alias).or_insert(id);
        }
    }

    /// The other names of the ENIs (top-level and instances') that `pick` selects:
    /// (alias, ENI id).
    pub(crate) fn aliases_of(
        &self,
        pick: impl Fn(&NetworkInterface) -> bool,
    ) -> Vec<(String, String)> {
        let by_instance = |id: &str| self.instances.iter().find(|i| i.instance_id == id);
        let top = self.network_interfaces.iter().map(|e| {
            let instance = e
                .attachment
                .as_ref()
                .and_then(|a| a.instance_id.as_deref())
                .and_then(by_instance);
            (e, instance)
        });
        let inner = self
            .instances
            .iter()
            .flat_map(|i| i.network_interfaces.iter().map(move |e| (e, Some(i))));
        top.chain(inner)
            .filter(|(e, _)| pick(e))
            .flat_map(|(e, instance)| {
                eni_aliases(e, instance)
                    .into_iter()
                    .map(|a| (a, e.network_interface_id.clone()))
            })
            .collect()
    }

    /// Runs the consistency checks a folder load runs (duplicates, rules that cannot be read:
    /// see [`Snapshot::withheld`]) on a snapshot assembled in memory, as `--live` does; its
    /// resources are said to come from `source`.
    pub fn check_consistency(&mut self, source: &str) {
        let merged = vec![(std::path::PathBuf::from(source), check::Lengths::default())];
        check::check(self, &merged);
    }

    /// Returns true when the snapshot holds no resource the engine models.
    pub fn is_empty(&self) -> bool {
        self.vpcs.is_empty()
            && self.subnets.is_empty()
            && self.network_interfaces.is_empty()
            && self.instances.is_empty()
            && self.security_groups.is_empty()
            && self.route_tables.is_empty()
            && self.network_acls.is_empty()
    }

    /// Whether the flow-log configuration of a resource from `origin` is in the snapshot: a
    /// `FlowLogs` key was read at its place or above it (a file at the root covers every
    /// region folder below it).
    ///
    /// ```
    /// use vpcreach::{snapshot::Origin, Snapshot};
    /// let snap = Snapshot::from_json_str(r#"{"FlowLogs": []}"#).unwrap();
    /// assert!(snap.flow_logs_known(&Origin::default()));
    /// assert!(!Snapshot::from_json_str(r#"{"Vpcs": []}"#).unwrap().flow_logs_known(&Origin::default()));
    /// ```
    pub fn flow_logs_known(&self, origin: &Origin) -> bool {
        self.flow_logs_read.iter().any(|r| {
            (r.account.is_none() || r.account == origin.account)
                && (r.region.is_none() || r.region == origin.region)
        })
    }

    /// Counts of the modelled resources, for summaries.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        vec![
            ("VPCs", self.vpcs.len()),
            ("subnets", self.subnets.len()),
            ("route tables", self.route_tables.len()),
            ("network ACLs", self.network_acls.len()),
            ("security groups", self.security_groups.len()),
            ("network interfaces", self.network_interfaces.len()),
            ("instances", self.instances.len()),
            ("internet gateways", self.internet_gateways.len()),
            ("NAT gateways", self.nat_gateways.len()),
            ("peering connections", self.vpc_peering_connections.len()),
            ("transit gateways", self.transit_gateways.len()),
            ("flow logs", self.flow_logs.len()),
            ("load balancers", self.load_balancers.len()),
            ("target groups", self.target_groups.len()),
        ]
    }
}

/// What a user may type for the ENI `e` besides its id: its instance's id, the `Name` tag of the
/// ENI and of its instance, and its addresses (private, public or Elastic, IPv6), addresses in
/// their canonical text.
fn eni_aliases(e: &NetworkInterface, instance: Option<&Instance>) -> Vec<String> {
    let name = |tags: &[Tag]| {
        tags.iter()
            .find(|t| t.key == "Name")
            .map(|t| t.value.clone())
    };
    let mut out = Vec::new();
    out.extend(instance.map(|i| i.instance_id.clone()));
    out.extend(e.attachment.as_ref().and_then(|a| a.instance_id.clone()));
    out.extend(name(&e.tag_set));
    out.extend(instance.and_then(|i| name(&i.tags)));
    let addresses = e
        .private_ip_address
        .iter()
        .chain(e.private_ip_addresses.iter().flat_map(|p| {
            std::iter::once(&p.private_ip_address)
                .chain(p.association.as_ref().and_then(|a| a.public_ip.as_ref()))
        }))
        .chain(e.association.as_ref().and_then(|a| a.public_ip.as_ref()))
        .chain(e.ipv6_addresses.iter().map(|a| &a.ipv6_address));
    out.extend(addresses.filter_map(|a| {
        a.trim()
            .parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| ip.to_string())
    }));
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod alias_tests {
    use super::*;

    #[test]
    fn an_eni_is_named_by_its_instance_its_name_tags_and_every_address() {
        let snap = Snapshot::from_json_str(
            r#"{"Reservations": [{"Instances": [{"InstanceId": "i-1", "Tags": [{"Key": "Name", "Value": "web"}],
                "NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-1",
                  "PrivateIpAddress": "10.0.0.5",
                  "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.0.5", "Primary": true,
                     "Association": {"PublicIp": "54.0.0.5"}},
                     {"PrivateIpAddress": "10.0.0.6", "Association": {"PublicIp": "54.0.0.6"}}],
                  "Ipv6Addresses": [{"Ipv6Address": "2600:1f18:0:0:0:0:0:10"}],
                  "TagSet": [{"Key": "Name", "Value": "web-eni"}]}]}]}],
              "NetworkInterfaces": [{"NetworkInterfaceId": "eni-2", "SubnetId": "subnet-1",
                  "PrivateIpAddress": "10.0.0.7", "Association": {"PublicIp": "54.0.0.7"},
                  "Attachment": {"InstanceId": "i-1", "DeviceIndex": 1}}]}"#,
        )
        .unwrap();
        let all = snap.aliases_of(|_| true);
        let of = |id: &str| -> Vec<&str> {
            let mut v: Vec<&str> = all
                .iter()
                .filter(|(_, e)| e == id)
                .map(|(a, _)| a.as_str())
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            of("eni-1"),
            [
                "10.0.0.5",
                "10.0.0.6",
                "2600:1f18::10",
                "54.0.0.5",
                "54.0.0.6",
                "i-1",
                "web",
                "web-eni"
            ]
        );
        assert_eq!(of("eni-2"), ["10.0.0.7", "54.0.0.7", "i-1", "web"]);
        assert!(snap
            .aliases_of(|e| e.network_interface_id == "eni-2")
            .iter()
            .all(|(_, e)| e == "eni-2"));
    }
}
