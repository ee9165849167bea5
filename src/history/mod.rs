//! The network over time: CloudTrail records of the calls that change reachability, read into
//! typed [`Change`]s ([`read()`]), and the snapshot turned back to an earlier time by undoing the
//! later changes ([`at`], [`undo()`]).
//!
//! AWS Config configuration items ([`ConfigItem`]) are history too: each is a [`Change::Config`]
//! at its capture time, saying what its resource is from then on. How they join the CloudTrail
//! changes in the model at a time is said in [`undo`](undo()) and [`at`].
//!
//! What the history cannot tell is never guessed. A deleted or replaced NACL entry whose earlier
//! content is in no earlier event or item becomes an entry of unknown content
//! ([`crate::snapshot::NetworkAcl::unknown_entries`]), naming the change: a decision that
//! reaches it is `unknown`, one made before reaching it stays exact. Anything else (a route
//! replaced with an unknown old target, a deleted group, an interface's earlier groups, …): the
//! resource is left out of the model through [`crate::Snapshot::withheld`], naming the change,
//! so that every verdict depending on it is `unknown`.

mod config;
mod footprint;
mod introduced;
mod parse;
mod read;
mod timeline;
mod undo;

pub use config::{body_to_snapshot, parse_item, ConfigItem, ConfigKind, ConfigState};
pub(crate) use footprint::{Footprint, FootprintIndex, Tuple};
pub use introduced::introduced_by;
pub use parse::{parse_record, CHANGE_APIS};
pub use read::{read, read_bytes, History, Stats};
pub use timeline::{effects, Effect, Effected};
pub(crate) use undo::toggles;
pub use undo::{apply, at, config_disagreements, config_known_before, finish_at, undo, Undone};

use crate::snapshot::{NetworkAclEntry, Route};
use serde::Serialize;

/// One change to the network, from one successful CloudTrail event or one AWS Config
/// configuration item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// CloudTrail `eventID`; for a Config item, `<resourceId>@<configurationStateId>` (or the
    /// capture time when the item has no state id).
    pub event_id: String,
    /// `eventTime` (a Config item's `configurationItemCaptureTime`), Unix seconds.
    pub time: i64,
    /// `eventName` (the API call); for a Config item, `ConfigurationItem <status>`.
    pub api: String,
    /// The caller's ARN (`userIdentity.arn`, or the service that invoked it).
    pub principal: Option<String>,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// `awsRegion`.
    pub region: Option<String>,
    /// `recipientAccountId` (or the caller's account).
    pub account: Option<String>,
    /// What it changed.
    pub change: Change,
}

impl Event {
    /// The change named for a reason: `event … at … (API)`.
    pub fn named(&self) -> String {
        if let Change::Config(item) = &self.change {
            return format!(
                "AWS Config item for {} ({}) at {} (config item {})",
                item.resource_id, item.status, item.capture_time, self.event_id
            );
        }
        format!(
            "{} at {} (event {})",
            self.api,
            crate::timestamp::Rfc3339(self.time),
            self.event_id
        )
    }
}

/// The peer of one security-group rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Peer {
    /// An IPv4 CIDR.
    Cidr4(String),
    /// An IPv6 CIDR.
    Cidr6(String),
    /// A prefix list.
    PrefixList(String),
    /// A referenced security group.
    Group(String),
}

/// One security-group rule with a single peer (the form `securityGroupRuleSet` uses).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SgRule {
    /// `tcp`, `udp`, `icmp`, `icmpv6`, `-1`, or a protocol number, normalised.
    pub protocol: String,
    /// First port (ICMP type); `None` for all ports.
    pub from: Option<i32>,
    /// Last port (ICMP code).
    pub to: Option<i32>,
    /// The peer.
    pub peer: Peer,
}

/// A network ACL entry operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// `Create…`.
    Create,
    /// `Replace…`.
    Replace,
    /// `Delete…`.
    Delete,
}

/// What one event changed. (A history holds thousands of these at most: the size of the
/// largest variant does not matter.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// `AuthorizeSecurityGroupIngress/Egress`: rules added (with their ids when the response
    /// listed them).
    Authorize {
        /// The group.
        group_id: String,
        /// Outbound rules.
        egress: bool,
        /// The rules, with `securityGroupRuleId` when known.
        rules: Vec<(SgRule, Option<String>)>,
    },
    /// `RevokeSecurityGroupIngress/Egress`.
    Revoke {
        /// The group.
        group_id: String,
        /// Outbound rules.
        egress: bool,
        /// The rules removed, when the event says exactly which (`revokedSecurityGroupRuleSet`).
        rules: Option<Vec<SgRule>>,
        /// What the request asked for (for the report).
        requested: Vec<SgRule>,
        /// Rule ids asked for.
        rule_ids: Vec<String>,
    },
    /// `ModifySecurityGroupRules`: rules (by id) given new content.
    ModifyRules {
        /// The group.
        group_id: String,
        /// Rule id and its new content.
        rules: Vec<(String, SgRule)>,
    },
    /// `CreateSecurityGroup`.
    CreateGroup {
        /// The new group's id.
        group_id: String,
        /// Its name.
        group_name: Option<String>,
        /// Its VPC.
        vpc_id: Option<String>,
    },
    /// `DeleteSecurityGroup`.
    DeleteGroup {
        /// The group (id, or name when only a name was given).
        group: String,
    },
    /// `Create/Replace/DeleteNetworkAclEntry`.
    NaclEntry {
        /// Which.
        op: Op,
        /// The NACL.
        acl_id: String,
        /// Rule number.
        rule_number: i64,
        /// Outbound.
        egress: bool,
        /// The entry's content (create and replace).
        entry: Option<NetworkAclEntry>,
    },
    /// `ReplaceNetworkAclAssociation`.
    NaclAssociation {
        /// The association replaced.
        association_id: String,
        /// The NACL now associated.
        acl_id: String,
        /// The new association's id.
        new_association_id: Option<String>,
    },
    /// `Create/Replace/DeleteRoute`.
    Route {
        /// Which.
        op: Op,
        /// The route table.
        route_table_id: String,
        /// The route (destination, and target for create and replace).
        route: Route,
    },
    /// `AssociateRouteTable`.
    AssociateRouteTable {
        /// The table.
        route_table_id: String,
        /// The subnet (or gateway for an edge association).
        subnet_id: Option<String>,
        /// The association's id, from the response.
        association_id: Option<String>,
    },
    /// `ReplaceRouteTableAssociation`.
    ReplaceRouteTableAssociation {
        /// The association replaced.
        association_id: String,
        /// The table now associated.
        route_table_id: String,
        /// The new association's id.
        new_association_id: Option<String>,
    },
    /// `DisassociateRouteTable`.
    DisassociateRouteTable {
        /// The association removed.
        association_id: String,
    },
    /// `ModifyNetworkInterfaceAttribute` / `ModifyInstanceAttribute` with `groupSet`: the
    /// complete new list of groups.
    GroupSet {
        /// `eni-…` or `i-…` (an instance's primary interface).
        target: String,
        /// The groups now attached.
        groups: Vec<String>,
    },
    /// An AWS Config configuration item: from its capture time on, its resource is exactly
    /// this (or deleted, or not recorded).
    Config(Box<ConfigItem>),
}

impl Event {
    /// The Config item this change is, if it is one.
    pub fn config_item(&self) -> Option<&ConfigItem> {
        match &self.change {
            Change::Config(item) => Some(item),
            _ => None,
        }
    }
}

impl Change {
    /// The resources it touches, by id.
    pub fn resources(&self) -> Vec<String> {
        match self {
            Change::Authorize { group_id, .. }
            | Change::Revoke { group_id, .. }
            | Change::ModifyRules { group_id, .. }
            | Change::CreateGroup { group_id, .. } => vec![group_id.clone()],
            Change::DeleteGroup { group } => vec![group.clone()],
            Change::NaclEntry { acl_id, .. } => vec![acl_id.clone()],
            Change::NaclAssociation {
                association_id,
                acl_id,
                ..
            } => vec![acl_id.clone(), association_id.clone()],
            Change::Route { route_table_id, .. } => vec![route_table_id.clone()],
            Change::AssociateRouteTable {
                route_table_id,
                subnet_id,
                ..
            } => std::iter::once(route_table_id.clone())
                .chain(subnet_id.clone())
                .collect(),
            Change::ReplaceRouteTableAssociation {
                association_id,
                route_table_id,
                ..
            } => vec![route_table_id.clone(), association_id.clone()],
            Change::DisassociateRouteTable { association_id } => vec![association_id.clone()],
            Change::GroupSet { target, groups } => std::iter::once(target.clone())
                .chain(groups.iter().cloned())
                .collect(),
            Change::Config(item) => {
                let mut ids = vec![item.resource_id.clone()];
                if let ConfigState::NetworkInterface { groups } = &item.state {
                    ids.extend(groups.iter().cloned());
                }
                ids
            }
        }
    }

    /// True for changes of routes and route-table associations (which `diff` does not compare).
    pub fn is_routing(&self) -> bool {
        matches!(
            self,
            Change::Route { .. }
                | Change::AssociateRouteTable { .. }
                | Change::ReplaceRouteTableAssociation { .. }
                | Change::DisassociateRouteTable { .. }
        ) || matches!(self, Change::Config(item) if item.kind == ConfigKind::RouteTable)
    }
}
