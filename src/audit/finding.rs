//! A finding: one thing the audit reports, with a stable fingerprint so runs can be compared.

use crate::policy::Severity;
use serde::{Deserialize, Serialize};

/// What kind of finding it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// A `deny` statement's traffic is possible end to end today.
    Exposed,
    /// A security group allows a `deny` statement's traffic but something else (a NACL rule, a
    /// missing route or public address) stops it today: one change away from exposure.
    Latent,
    /// A `require` statement's traffic is not possible.
    Blocked,
    /// In allowlist mode: traffic that is possible but no `allow` statement covers.
    NotAllowed,
    /// A default security group has rules (CIS).
    DefaultSecurityGroupInUse,
    /// Observed: an accepted record that a `deny` statement covers.
    Violation,
    /// Observed, allowlist mode: an accepted record outside every `allow`.
    Unexpected,
    /// Observed: `require` traffic seen only as REJECT.
    Broken,
    /// Observed: a rule that no record used in the window.
    Unused,
    /// A network ACL rule that can never match: earlier rules of its list match all of its
    /// traffic first.
    Shadowed,
    /// A VPC Block Public Access exclusion lets internet traffic through (what it exposes).
    BpaExclusion,
    /// A VPC without an active flow log of its own (CIS AWS Foundations 3.7).
    NoFlowLog,
    /// A flow log whose deliveries fail: it captures nothing that can be read.
    DeliveryFails,
    /// A flow-log format without fields an explanation needs.
    FieldsMissing,
    /// The statement cannot be evaluated (an unresolvable reference, a component not
    /// modelled): never reported as a pass.
    Unknown,
}

impl FindingStatus {
    /// The name in words, for tables (`default group has rules`, not the JSON name).
    pub fn label(self) -> &'static str {
        match self {
            FindingStatus::NotAllowed => "not allowed",
            FindingStatus::DefaultSecurityGroupInUse => "default group has rules",
            FindingStatus::BpaExclusion => "BPA exclusion",
            FindingStatus::NoFlowLog => "no flow log",
            FindingStatus::DeliveryFails => "delivery fails",
            FindingStatus::FieldsMissing => "fields missing",
            other => other.as_str(),
        }
    }

    /// The snake-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingStatus::Exposed => "exposed",
            FindingStatus::Latent => "latent",
            FindingStatus::Blocked => "blocked",
            FindingStatus::NotAllowed => "not_allowed",
            FindingStatus::DefaultSecurityGroupInUse => "default_security_group_in_use",
            FindingStatus::Violation => "violation",
            FindingStatus::Unexpected => "unexpected",
            FindingStatus::Broken => "broken",
            FindingStatus::Unused => "unused",
            FindingStatus::Shadowed => "shadowed",
            FindingStatus::BpaExclusion => "bpa_exclusion",
            FindingStatus::NoFlowLog => "no_flow_log",
            FindingStatus::DeliveryFails => "delivery_fails",
            FindingStatus::FieldsMissing => "fields_missing",
            FindingStatus::Unknown => "unknown",
        }
    }
}

/// A concrete flow that shows a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Witness {
    /// Source address (or `internet` host address).
    pub src: String,
    /// Destination address.
    pub dst: String,
    /// Protocol name.
    pub protocol: String,
    /// Destination port, where the protocol has ports.
    pub port: Option<u16>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// A stable fingerprint: the same problem gets the same id in every run.
    pub id: String,
    /// The statement id (or a built-in check id such as `default-security-group`).
    pub check: String,
    /// Severity.
    pub severity: Severity,
    /// What kind of finding.
    pub status: FindingStatus,
    /// The AWS resources involved (the ENI first, then groups, NACLs, routes).
    pub resources: Vec<String>,
    /// A concrete flow, where one exists.
    pub witness: Option<Witness>,
    /// The rules involved, in words (`sg-… rule tcp/22 from 0.0.0.0/0`, `acl-… rule 90 …`).
    pub because: Vec<String>,
    /// One plain sentence.
    pub message: String,
}

impl Finding {
    /// Computes the stable id from the check, the status and the resources (not from the
    /// message, whose wording may change).
    pub fn fingerprint(check: &str, status: FindingStatus, resources: &[String]) -> String {
        use sha1::{Digest, Sha1};
        let mut h = Sha1::new();
        h.update(check.as_bytes());
        h.update([0]);
        h.update(status.as_str().as_bytes());
        for r in resources {
            h.update([0]);
            h.update(r.as_bytes());
        }
        let d = h.finalize();
        d.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }
}
