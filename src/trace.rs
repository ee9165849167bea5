//! A trace is the answer to a reachability question: the verdict, the reason in AWS Reachability
//! Analyzer's vocabulary, and every hop of the forward and return paths with the check and the
//! exact rule that decided it.

use crate::network::ComponentKind;
use crate::protocol::{PortSet, Protocol};
use crate::security_group::Direction;
use serde::Serialize;
use std::fmt;
use std::net::IpAddr;

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The connection works: forward and return paths pass.
    Reachable,
    /// Something stops it; `reason` and `blocked_at` say what.
    Unreachable,
    /// The snapshot cannot decide (an unresolvable reference, an unmodelled component).
    Unknown,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Reachable => "reachable",
            Verdict::Unreachable => "unreachable",
            Verdict::Unknown => "unknown",
        })
    }
}

macro_rules! reasons {
    ($( $(#[$doc:meta])* $name:ident => $code:literal, $text:literal; )*) => {
        /// Why a path is unreachable or unknown. Codes follow AWS Reachability Analyzer's
        /// explanation codes where one fits; the others are vpcreach's own.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Reason {
            $( $(#[$doc])* $name, )*
        }

        impl Reason {
            /// Every reason, for documentation.
            pub const ALL: &'static [Reason] = &[$(Reason::$name),*];

            /// The stable code, e.g. `ENI_SG_RULES_MISMATCH`.
            pub fn code(self) -> &'static str {
                match self { $(Reason::$name => $code,)* }
            }

            /// What the code means, in plain words.
            pub fn description(self) -> &'static str {
                match self { $(Reason::$name => $text,)* }
            }
        }
    };
}

reasons! {
    /// No security-group rule allows the traffic.
    SgRulesMismatch => "ENI_SG_RULES_MISMATCH", "no rule of the ENI's security groups allows the traffic";
    /// A NACL rule (or the `*` rule) denies the traffic.
    SubnetAclRestriction => "SUBNET_ACL_RESTRICTION", "a network ACL rule of the subnet denies the traffic";
    /// No route matches, or the route leads nowhere that delivers the destination.
    NoRoute => "NO_ROUTE_TO_DESTINATION", "no route delivers the traffic to its destination";
    /// The matching route is a blackhole.
    BadStateRoute => "BAD_STATE_ROUTE", "the longest matching route is a blackhole (its target was deleted)";
    /// The internet gateway needs a public IPv4 on the source.
    IgwExpectsPublicAddress => "IGW_EXPECTS_PUBLIC_ADDRESS", "traffic through the internet gateway needs a public or Elastic IPv4 address on the ENI";
    /// A security-group reference cannot be resolved in the snapshot.
    UnknownPeeredSgs => "UNKNOWN_PEERED_SGS", "a rule that could decide references a security group that is not in the snapshot";
    /// A prefix list's entries are not in the snapshot.
    UnknownPrefixList => "UNKNOWN_PREFIX_LIST", "a rule or route that could decide references a prefix list whose entries are not in the snapshot";
    /// Source/destination check drops traffic routed through an ENI that is not its endpoint.
    SourceDestCheck => "ENI_SOURCE_DEST_CHECK_RESTRICTION", "the route sends traffic through an ENI whose source/destination check is enabled";
    /// The peering connection is not active.
    PeeringNotActive => "PEERING_CONNECTION_NOT_ACTIVE", "the route's peering connection is not active";
    /// Unsolicited inbound traffic to a NAT gateway is dropped.
    NatUnsolicitedInbound => "NAT_GATEWAY_UNSOLICITED_INBOUND", "a NAT gateway drops inbound traffic that is not a response to a connection it translated";
    /// Inbound traffic through an egress-only internet gateway is dropped.
    EgressOnlyInbound => "EGRESS_ONLY_GATEWAY_INBOUND", "an egress-only internet gateway drops inbound connections";
    /// The transit gateway has no attachment subnet in the source's availability zone.
    TgwNoAttachmentInAz => "TGW_NO_ATTACHMENT_IN_AZ", "the transit gateway attachment has no subnet in the source's availability zone";
    /// The path depends on a component the engine does not model (VPN, Direct Connect, GWLB, an
    /// appliance's forwarding, …).
    NotModelled => "NOT_MODELLED", "the path depends on a component vpcreach does not model";
    /// The snapshot lacks something the path needs (a subnet's NACL or route table).
    IncompleteSnapshot => "INCOMPLETE_SNAPSHOT", "the snapshot lacks a resource the path needs";
    /// The path loops.
    RoutingLoop => "ROUTING_LOOP", "the routes send the traffic around in a loop";
    /// The query's ends are of different address families (a library caller's mistake: the
    /// command line refuses such a query before it is asked).
    MixedAddressFamilies => "MIXED_ADDRESS_FAMILIES", "the source and the destination are of different address families: a packet has one";
    /// VPC Block Public Access blocks the traffic at the internet or egress-only internet
    /// gateway (Reachability Analyzer's code).
    VpcBlockPublicAccess => "VPC_BLOCK_PUBLIC_ACCESS_ENABLED", "VPC Block Public Access blocks traffic through the internet or egress-only internet gateway";
    /// What VPC Block Public Access does depends on an exclusion the snapshot cannot settle.
    VpcBlockPublicAccessUnknown => "VPC_BLOCK_PUBLIC_ACCESS_UNKNOWN", "what VPC Block Public Access does depends on an exclusion or option the snapshot cannot settle";
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Reason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// The layer a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    /// Security groups of an ENI.
    SecurityGroup,
    /// A subnet's network ACL.
    NetworkAcl,
    /// A route table lookup.
    RouteTable,
    /// Public addressing and translation at an internet gateway.
    InternetGateway,
    /// NAT gateway translation.
    NatGateway,
    /// Egress-only internet gateway.
    EgressOnlyInternetGateway,
    /// VPC Block Public Access, at an internet or egress-only internet gateway.
    BlockPublicAccess,
    /// VPC peering.
    PeeringConnection,
    /// Transit gateway routing.
    TransitGateway,
    /// Source/destination check of an ENI.
    SourceDestCheck,
    /// Address resolution: which ENI holds an address.
    Address,
    /// Services AWS does not filter (DNS resolver, metadata, time sync).
    Exempt,
    /// A component not modelled.
    NotModelled,
}

/// Allow, deny, or cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Passes.
    Allow,
    /// Stops the traffic.
    Deny,
    /// Cannot be decided from the snapshot.
    Unknown,
}

/// One check at one hop, with the rule that decided it.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The layer.
    pub layer: Layer,
    /// The decision.
    pub decision: Decision,
    /// Inbound or outbound, for filters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// The resources whose rule decided (for an implicit SG deny, every group on the ENI).
    pub resources: Vec<String>,
    /// The NACL rule number (32767 for `*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_number: Option<u32>,
    /// The matched rule or route, as data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<serde_json::Value>,
    /// For return-path NACL checks: the client ports that pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ports_allowed: Option<PortSet>,
    /// `tracked` or `untracked` for stateful security-group responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking: Option<&'static str>,
    /// The check in plain words.
    pub detail: String,
}

/// One hop: a component the traffic passes and the checks made there.
#[derive(Debug, Clone, Serialize)]
pub struct Hop {
    /// The component id (`eni-…`, `subnet-…`, `igw-…`, `internet`, …).
    pub component: String,
    /// Its kind.
    pub kind: ComponentKind,
    /// A name for display (a `Name` tag; untrusted text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The checks made at this hop.
    pub checks: Vec<Check>,
}

/// The hops of one direction.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathTrace {
    /// Hops in order.
    pub hops: Vec<Hop>,
}

/// Forward or return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PathDir {
    /// From the source to the destination.
    Forward,
    /// The response, from the destination back to the source.
    Return,
}

/// Where the path was stopped.
#[derive(Debug, Clone, Serialize)]
pub struct BlockedAt {
    /// Forward or return path.
    pub path: PathDir,
    /// The component.
    pub component: String,
    /// Its kind.
    pub kind: ComponentKind,
    /// The layer of the deciding check.
    pub layer: Layer,
    /// Inbound or outbound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    /// The resources whose rule decided.
    pub resources: Vec<String>,
    /// The NACL rule number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_number: Option<u32>,
    /// The deciding rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<serde_json::Value>,
    /// In plain words.
    pub detail: String,
}

/// An end of a query, as resolved.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointInfo {
    /// What the user typed.
    pub input: String,
    /// The ENI, when the end is in the snapshot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eni: Option<String>,
    /// The instance, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The address used.
    pub address: IpAddr,
    /// `eni`, `public_ip`, `internet`, `external_private` or `in_subnet` (an address of a subnet
    /// that no ENI of the snapshot holds).
    pub kind: &'static str,
    /// How the address was chosen, when the user named the end by id or name rather than by
    /// address (its public address seen from the internet, the ENI of a NAT gateway).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Whether the user named the end by id or `Name` tag (so its address may be chosen to suit
    /// the other end), not by address.
    #[serde(skip)]
    pub by_name: bool,
}

/// The complete answer to a query.
#[derive(Debug, Clone, Serialize)]
pub struct Trace {
    /// The source.
    pub from: EndpointInfo,
    /// The destination.
    pub to: EndpointInfo,
    /// The protocol.
    pub protocol: Protocol,
    /// The destination port (or ICMP type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The client's source ports considered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src_ports: Option<PortSet>,
    /// The verdict.
    pub verdict: Verdict,
    /// `null` when reachable, else the code.
    pub reason: Option<Reason>,
    /// Where it was stopped.
    pub blocked_at: Option<BlockedAt>,
    /// The verdict in one plain sentence.
    pub message: String,
    /// The forward path.
    pub forward: PathTrace,
    /// The return path (absent when the forward path did not complete).
    #[serde(rename = "return")]
    pub return_path: Option<PathTrace>,
    /// Caveats worth reading (partial port coverage, unmodelled details).
    pub notes: Vec<String>,
}
