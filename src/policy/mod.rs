//! Intended policy: groups of endpoints chosen by selectors, and statements about the traffic
//! between them (`deny`: must never be possible; `require`: must be possible; `allow`: intended),
//! read from TOML files under `policies/`.

mod check;
mod parse;
pub mod text;
mod traffic;

pub use check::unknown_ids;
pub use parse::{PolicyError, PolicyErrors, BUILTIN_GROUPS};
pub use traffic::TrafficError;

use crate::protocol::{PortRange, Protocol};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// How bad a finding of a statement is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Low (the default, for `Finding { .., ..Default::default() }`).
    #[default]
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl Severity {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// One step lower (a latent exposure is reported one step below its statement).
    pub fn lower(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            _ => Severity::Low,
        }
    }
}

/// What a statement says about its traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// This traffic must never be possible.
    Deny,
    /// This traffic must be possible.
    Require,
    /// This traffic is intended (in allowlist mode, anything else possible is a finding).
    Allow,
}

/// A file's stance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Only `deny` and `require` statements make findings.
    #[default]
    Denylist,
    /// Also: anything possible that no `allow` statement covers is a finding.
    Allowlist,
}

/// One way of choosing endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Selector {
    /// Every ENI attached to a security group, by id (`sg-…`) or by name.
    SecurityGroup(String),
    /// Every ENI whose (or whose instance's) tag `key` has `value` (`Tier=web`); `value` `None`
    /// matches any value.
    Tag {
        /// Tag key.
        key: String,
        /// Tag value.
        value: Option<String>,
    },
    /// Every ENI in a subnet.
    Subnet(String),
    /// Every ENI in a VPC.
    Vpc(String),
    /// One ENI.
    Eni(String),
    /// The ENIs of an instance.
    Instance(String),
    /// Addresses in a CIDR (ENIs holding them, or outside hosts).
    Cidr(IpNet),
    /// The CIDRs of a prefix list.
    PrefixList(String),
    /// Every address on the internet (public addresses outside the snapshot).
    Internet,
    /// Every ENI in the snapshot.
    Any,
}

/// In words, names quoted as a policy writes them (`security group `web``), for messages.
impl std::fmt::Display for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let q = |s: &str| crate::render::sanitize(s);
        match self {
            Selector::SecurityGroup(g) => write!(f, "security group `{}`", q(g)),
            Selector::Tag {
                key,
                value: Some(v),
            } => write!(f, "tag `{}={}`", q(key), q(v)),
            Selector::Tag { key, value: None } => write!(f, "tag `{}`", q(key)),
            Selector::Subnet(s) => write!(f, "subnet `{}`", q(s)),
            Selector::Vpc(v) => write!(f, "VPC `{}`", q(v)),
            Selector::Eni(e) => write!(f, "ENI `{}`", q(e)),
            Selector::Instance(i) => write!(f, "instance `{}`", q(i)),
            Selector::Cidr(c) => write!(f, "CIDR `{c}`"),
            Selector::PrefixList(p) => write!(f, "prefix list `{}`", q(p)),
            Selector::Internet => f.write_str("`internet`"),
            Selector::Any => f.write_str("`any`"),
        }
    }
}

/// A named group of endpoints: the union of its selectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// The name statements use.
    pub name: String,
    /// Its selectors (a union).
    pub selectors: Vec<Selector>,
    /// Where each selector is written (parallel to `selectors`; empty for built-in groups).
    pub selector_locations: Vec<Location>,
    /// Where it is defined.
    pub location: Location,
}

/// Protocol and destination ports of a statement (`tcp/22`, `udp/53`, `tcp/1024-65535`, `icmp`,
/// `all`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Traffic {
    /// The protocol (`All` for `all`).
    pub protocol: Protocol,
    /// The destination ports (all ports for protocols without ports).
    pub ports: PortRange,
}

/// Where something is written in a policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Location {
    /// The file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// One statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statement {
    /// A stable id (`CIS-5.2`, `no-internet-db`), unique across the policy set.
    pub id: String,
    /// What it means, in words.
    pub description: String,
    /// The severity of its findings.
    pub severity: Severity,
    /// Deny, require or allow.
    pub kind: Kind,
    /// Sources: group names (resolved against [`PolicyFile::groups`]; `internet` and `any` are
    /// built in).
    pub from: Vec<String>,
    /// Destinations: group names.
    pub to: Vec<String>,
    /// The traffic (any of these).
    pub traffic: Vec<Traffic>,
    /// Where it is written.
    pub location: Location,
}

/// One policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyFile {
    /// The file.
    pub path: PathBuf,
    /// Its stance.
    pub mode: Mode,
    /// In allowlist mode, the severity of possible traffic that no `allow` covers
    /// (`unlisted_severity`, default medium).
    pub unlisted_severity: Severity,
    /// Its groups.
    pub groups: Vec<Group>,
    /// Its statements.
    pub statements: Vec<Statement>,
}

impl PolicyFile {
    /// The group a statement names: the file's own, or the built-in `internet` and `any`.
    pub fn group(&self, name: &str) -> Option<Group> {
        if let Some(g) = self.groups.iter().find(|g| g.name == name) {
            return Some(g.clone());
        }
        let builtin = match name {
            "internet" => Selector::Internet,
            "any" => Selector::Any,
            _ => return None,
        };
        Some(Group {
            name: name.to_string(),
            selectors: vec![builtin],
            selector_locations: Vec::new(),
            location: Location::default(),
        })
    }
}

/// A built-in check a policy file turns on (`[[check]]`), with its own id and severity: the
/// flow-log checks, which look at the flow-log configuration rather than at traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// The id its findings carry (`cis-3.7-vpc-flow-logs`), unique across the policy set.
    pub id: String,
    /// Which check: one of [`CHECKS`].
    pub check: String,
    /// What it means, in words.
    pub description: String,
    /// The severity of its findings.
    pub severity: Severity,
    /// Where it is written.
    pub location: Location,
}

/// The built-in checks a `[[check]]` may name: a VPC without an active flow log of its own
/// (`vpc-flow-logs`), a flow log whose deliveries fail (`flow-log-delivery`), and a flow-log
/// format without the fields explanations need (`flow-log-fields`).
pub const CHECKS: &[&str] = &["vpc-flow-logs", "flow-log-delivery", "flow-log-fields"];

/// Every policy file of a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct PolicySet {
    /// The files, sorted by path.
    pub files: Vec<PolicyFile>,
    /// The built-in checks the files turn on (`[[check]]`), in file order.
    pub checks: Vec<Check>,
    /// Entries of the folder passed by (a FIFO, a symbolic link loop), each a warning naming
    /// it: never fatal, never silent.
    #[serde(skip)]
    pub warnings: Vec<PolicyError>,
}
