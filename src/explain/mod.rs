//! Explaining flow-log records: for each record, what the configuration does at that ENI (its
//! NACL and security groups, statefully for responses), the rule that decided, and whether the
//! observed `action` agrees.
//!
//! The concept is split by stage: `evaluate` judges one record at its ENI (NACL, security
//! groups, routes for the peer) into an [`Explanation`]; `flows` holds the request/response
//! evidence of the records in view (the flow table); `tally` counts explanations and rule
//! usage over a run; `fast` explains whole chunks without building records. The JSON views and
//! message text of an explanation live in [`crate::render::explain`]: nothing here prints.

use crate::flow_log::{
    Action, FlowDirection, FlowRecord, Lite, LogStatus, Malformed, ParsedChunk, Problem,
};
use crate::network::Network;
use crate::network_acl::{Action as RuleAction, NaclRule};
use crate::protocol::Protocol;
use crate::security_group::SgDecision;
use crate::security_group::{Direction, SgPeer, SgRule};
use crate::timestamp::Rfc3339;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

mod bpa;
mod evaluate;
mod fast;
mod flows;
mod history;
mod tally;

pub(crate) use evaluate::{duration, Core};
pub use evaluate::{Explainer, Memo, MemoPool};
pub(crate) use fast::Step;
pub(crate) use flows::*;
pub use history::{ChangeSeen, JudgedThen, Timeline};
pub use tally::{EniSet, RejectKey, RuleKey, Tally, TopCounts, Usage};

/// The outcome of comparing a record with the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The configuration predicts what was observed.
    Consistent,
    /// The configuration predicts the opposite of what was observed.
    Contradiction,
    /// The configuration cannot decide (ENI not in the snapshot, unresolvable reference, …).
    Unknown,
    /// A NODATA or SKIPDATA record: no flow to explain.
    Skipped,
    /// The line is not a valid record.
    Malformed,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 5] = [
        Status::Consistent,
        Status::Contradiction,
        Status::Unknown,
        Status::Skipped,
        Status::Malformed,
    ];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Consistent => "consistent",
            Status::Contradiction => "contradiction",
            Status::Unknown => "unknown",
            Status::Skipped => "skipped",
            Status::Malformed => "malformed",
        }
    }

    /// Parses a status name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

/// Request (from the initiator) or response (from the responder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Traffic of the side that opened the connection.
    Request,
    /// Traffic of the side that answered.
    Response,
}

/// One check that decided (or helped decide) a record.
#[derive(Debug, Clone, Copy)]
pub enum Decided<'n> {
    /// A NACL rule decided (allow or deny).
    Nacl {
        /// The NACL's index in [`Network::nacls`](crate::NetworkBase::nacls).
        nacl: usize,
        /// The rule.
        rule: &'n NaclRule,
    },
    /// A security-group rule allowed the packet itself.
    SgAllow(&'n SgRule),
    /// A response allowed by connection tracking: the rule that allowed its request.
    SgTracked {
        /// The rule that allowed the request.
        rule: &'n SgRule,
        /// When the flow is untracked (aws-semantics 7), the rule of the response's own direction
        /// that allows it: untracked responses are judged by the rules, not by tracking.
        untracked: Option<&'n SgRule>,
    },
    /// No rule of the ENI's groups allows it.
    SgDeny {
        /// The ENI.
        eni: usize,
        /// The direction evaluated.
        direction: Direction,
    },
    /// A rule could decide but references something not in the snapshot.
    SgUnresolved(&'n SgRule),
    /// Groups attached to the ENI are missing from the snapshot.
    SgMissing {
        /// The ENI.
        eni: usize,
    },
    /// The subnet's NACL is not in the snapshot.
    NaclMissing {
        /// The subnet index.
        subnet: usize,
    },
    /// VPC Block Public Access at the internet or egress-only internet gateway
    /// ([`Network::bpa_judgement`](crate::NetworkBase::bpa_judgement) of this subnet and slot).
    Bpa {
        /// The subnet whose exclusions count (the ENI's).
        subnet: usize,
        /// The path and the side that started the connection.
        path: crate::bpa::Path,
        /// Which side started the connection.
        init: crate::bpa::Initiated,
        /// What BPA does.
        outcome: crate::bpa::Outcome,
        /// For a NAT gateway's ENI whose subnet and a source subnet decide differently: the ENI
        /// (its judgement is [`Network::bpa_nat_judgement`](crate::NetworkBase::bpa_nat_judgement)).
        nat_conflict: Option<usize>,
    },
}

impl Decided<'_> {
    fn denies(&self) -> bool {
        match self {
            Decided::Nacl { rule, .. } => rule.action == RuleAction::Deny,
            Decided::SgDeny { .. } => true,
            Decided::Bpa { outcome, .. } => *outcome == crate::bpa::Outcome::Deny,
            _ => false,
        }
    }

    fn unknown(&self) -> bool {
        matches!(
            self,
            Decided::SgUnresolved(_) | Decided::SgMissing { .. } | Decided::NaclMissing { .. }
        ) || matches!(
            self,
            Decided::Nacl { rule, .. } if rule.action == RuleAction::Unknown
        ) || matches!(
            self,
            Decided::Bpa {
                outcome: crate::bpa::Outcome::Unknown,
                ..
            }
        )
    }
}

/// Why a record has the status it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Code {
    /// The configuration allows it.
    #[serde(rename = "ALLOWED")]
    Allowed,
    /// No security-group rule allows it.
    #[serde(rename = "ENI_SG_RULES_MISMATCH")]
    SgRulesMismatch,
    /// A NACL rule denies it.
    #[serde(rename = "SUBNET_ACL_RESTRICTION")]
    SubnetAclRestriction,
    /// The record's ENI is not in the snapshot.
    #[serde(rename = "UNKNOWN_ENI")]
    UnknownEni,
    /// A deciding rule references a group not in the snapshot.
    #[serde(rename = "UNKNOWN_PEERED_SGS")]
    UnknownPeeredSgs,
    /// A deciding rule references a prefix list whose entries are not in the snapshot.
    #[serde(rename = "UNKNOWN_PREFIX_LIST")]
    UnknownPrefixList,
    /// The snapshot lacks the ENI's groups or its subnet's NACL.
    #[serde(rename = "INCOMPLETE_SNAPSHOT")]
    IncompleteSnapshot,
    /// Neither address of the record belongs to the ENI and there is no `flow-direction`.
    #[serde(rename = "DIRECTION_UNKNOWN")]
    DirectionUnknown,
    /// The record has no addresses or protocol to evaluate.
    #[serde(rename = "MISSING_FIELDS")]
    MissingFields,
    /// The record's source and destination are of different address families: no packet is
    /// (NAT64 at a NAT gateway, which translates one into the other, is not modelled).
    #[serde(rename = "MIXED_ADDRESS_FAMILIES")]
    MixedAddressFamilies,
    /// The record has no `action` field to compare with.
    #[serde(rename = "NO_ACTION_FIELD")]
    NoActionField,
    /// NODATA.
    #[serde(rename = "NODATA")]
    NoData,
    /// SKIPDATA.
    #[serde(rename = "SKIPDATA")]
    SkipData,
    /// A malformed line.
    #[serde(rename = "MALFORMED")]
    Malformed,
    /// VPC Block Public Access blocks it at the internet or egress-only internet gateway.
    #[serde(rename = "VPC_BLOCK_PUBLIC_ACCESS_ENABLED")]
    VpcBlockPublicAccess,
    /// What VPC Block Public Access does depends on an exclusion the snapshot cannot settle.
    #[serde(rename = "VPC_BLOCK_PUBLIC_ACCESS_UNKNOWN")]
    VpcBlockPublicAccessUnknown,
}

impl Code {
    /// The code as text.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Allowed => "ALLOWED",
            Code::SgRulesMismatch => "ENI_SG_RULES_MISMATCH",
            Code::SubnetAclRestriction => "SUBNET_ACL_RESTRICTION",
            Code::UnknownEni => "UNKNOWN_ENI",
            Code::UnknownPeeredSgs => "UNKNOWN_PEERED_SGS",
            Code::UnknownPrefixList => "UNKNOWN_PREFIX_LIST",
            Code::IncompleteSnapshot => "INCOMPLETE_SNAPSHOT",
            Code::DirectionUnknown => "DIRECTION_UNKNOWN",
            Code::MissingFields => "MISSING_FIELDS",
            Code::MixedAddressFamilies => "MIXED_ADDRESS_FAMILIES",
            Code::NoActionField => "NO_ACTION_FIELD",
            Code::NoData => "NODATA",
            Code::SkipData => "SKIPDATA",
            Code::Malformed => "MALFORMED",
            Code::VpcBlockPublicAccess => "VPC_BLOCK_PUBLIC_ACCESS_ENABLED",
            Code::VpcBlockPublicAccessUnknown => "VPC_BLOCK_PUBLIC_ACCESS_UNKNOWN",
        }
    }
}

/// The explanation of one record (or one malformed line).
#[derive(Debug, Clone)]
pub struct Explanation<'n> {
    /// The file.
    pub file: Arc<Path>,
    /// 1-based line.
    pub line: u64,
    /// The record's 1-based position among the log events of its line, on a line of several
    /// records (see [`FlowRecord::event`]); for a malformed event, its number.
    pub event: Option<u32>,
    /// The status.
    pub status: Status,
    /// The record's `action`.
    pub observed: Option<Action>,
    /// What the configuration predicts.
    pub expected: Option<Action>,
    /// The ENI (index into [`Network::enis`](crate::NetworkBase::enis)) the record was captured at.
    pub eni: Option<usize>,
    /// The record's `interface-id`.
    pub interface_id: Option<crate::flow_log::Text>,
    /// Inbound or outbound relative to the ENI.
    pub direction: Option<Direction>,
    /// What told the direction.
    pub direction_evidence: Option<&'static str>,
    /// Request or response.
    pub role: Option<Role>,
    /// What told the role.
    pub role_evidence: Option<&'static str>,
    /// The peer's address as evaluated.
    pub peer: Option<IpAddr>,
    /// The record's 5-tuple.
    pub srcaddr: Option<IpAddr>,
    /// Destination address.
    pub dstaddr: Option<IpAddr>,
    /// Source port.
    pub srcport: Option<u16>,
    /// Destination port.
    pub dstport: Option<u16>,
    /// Protocol number.
    pub protocol: Option<u8>,
    /// Whether the NACL was skipped because both ends are in one subnet.
    pub same_subnet: bool,
    /// The checks that decided, in the order the packet meets them.
    pub decided_by: Vec<Decided<'n>>,
    /// The reason code.
    pub code: Code,
    /// Hints for a contradiction (what could explain it).
    pub hints: Vec<Cow<'static, str>>,
    /// The load balancer (and target group) the record's traffic came through, when one
    /// explains it (untrusted names inside).
    pub via: Option<String>,
    /// For malformed lines: what was wrong.
    pub problem: Option<String>,
    /// With a history (`explain --history`): set when the record, judged by the configuration
    /// at its start, gets another answer than the snapshot's configuration gives, with the
    /// changes in between.
    pub then: Option<Box<JudgedThen>>,
}
