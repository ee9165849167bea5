//! A finding: one thing the audit reports, with a stable fingerprint so runs can be compared.

use crate::policy::Severity;
use serde::{Deserialize, Serialize};

/// What kind of finding it is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
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
    /// modelled): never reported as a pass. (The default, for `..Default::default()`.)
    #[default]
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

/// At most this many witnesses (one per distinct path shape) are kept per grouped finding.
pub const MAX_WITNESSES: usize = 10;

/// One finding.
///
/// A finding about ENIs is grouped by its *cause* (the security-group rule, or the rules and NACL
/// entries, that make the check fail): one finding per cause, listing the ENIs it affects in
/// [`Finding::enis`], with one witness per distinct path shape. A finding with no [`Finding::cause`]
/// (a default security group, a shadowed NACL rule, a finding of a check that does not group)
/// passes through grouping as a single-cause finding, unchanged.
///
/// New fields have defaults: build one with [`Finding::new`], or a struct literal ending in
/// `..Default::default()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// A stable fingerprint: the same problem gets the same id in every run.
    pub id: String,
    /// The statement id (or a built-in check id such as `default-security-group`).
    pub check: String,
    /// Severity.
    pub severity: Severity,
    /// What kind of finding.
    pub status: FindingStatus,
    /// The AWS resources involved. Grouped: the cause (the security group, then the rule;
    /// NACLs and their rule numbers). Per ENI (`--group-by eni`): the ENI first, then groups,
    /// NACLs, routes.
    pub resources: Vec<String>,
    /// The ENIs the finding affects (empty for a finding about a resource alone).
    #[serde(default)]
    pub enis: Vec<String>,
    /// How many ENIs it affects (`enis.len()`, said for readers of the JSON).
    #[serde(default)]
    pub eni_count: usize,
    /// A concrete flow, where one exists (the first of `witnesses`).
    pub witness: Option<Witness>,
    /// One witness per distinct path shape among the ENIs (at most [`MAX_WITNESSES`]); empty
    /// when there is at most one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub witnesses: Vec<Witness>,
    /// The rules involved, in words (`sg-… rule tcp/22 from 0.0.0.0/0`, `acl-… rule 90 …`).
    pub because: Vec<String>,
    /// One plain sentence.
    pub message: String,
    /// What makes the check fail, as resources (`["sg-…", "inbound rule tcp/22 from 0.0.0.0/0"]`):
    /// findings of the same check and status with the same cause are one grouped finding, whose id
    /// is the fingerprint of the check, the status and the cause (never the ENIs, so the id stays
    /// when an ENI joins or leaves). Empty: the finding is not grouped.
    #[serde(skip)]
    pub cause: Vec<String>,
    /// The path shape of the witness (the deciding rules with the ENI's own ids left out), so a
    /// grouped finding keeps one witness per shape. Empty: the witness text.
    #[serde(skip)]
    pub shape: String,
}

impl Finding {
    /// A finding about the given resources, its id computed from the check, the status and the
    /// resources, not grouped (no ENIs, no cause).
    pub fn new(
        check: &str,
        severity: Severity,
        status: FindingStatus,
        resources: Vec<String>,
        witness: Option<Witness>,
        because: Vec<String>,
        message: String,
    ) -> Finding {
        Finding {
            id: Finding::fingerprint(check, status, &resources),
            check: check.to_string(),
            severity,
            status,
            resources,
            witness,
            because,
            message,
            ..Default::default()
        }
    }

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

    /// The id of the cause group this finding belongs to, if it has a cause.
    pub fn cause_id(&self) -> Option<String> {
        (!self.cause.is_empty())
            .then(|| Finding::fingerprint(&self.check, self.status, &self.cause))
    }
}

/// Groups findings by cause as they come (streaming: a member's own message, rules and witness
/// are dropped once its shape is known), so memory grows with the number of causes and the
/// ENIs they list, not with every ENI × port result.
///
/// A finding with a [`Finding::cause`] joins the group of its check, status and cause; the
/// group's id is [`Finding::cause_id`], its resources the cause, its ENIs the union of its
/// members' (in order of arrival, each once), its message, rules and first witness the first
/// member's, and it keeps one witness per distinct [`Finding::shape`]. A finding without a cause
/// is kept as it is (a second one with the same id is dropped).
#[derive(Debug, Default)]
pub struct Grouper {
    groups: Vec<Group>,
    by_id: std::collections::HashMap<String, usize>,
}

#[derive(Debug)]
struct Group {
    finding: Finding,
    /// The shapes of `finding.witnesses`, in order.
    shapes: Vec<String>,
}

impl Grouper {
    /// Adds one finding.
    pub fn add(&mut self, mut f: Finding) {
        let Some(id) = f.cause_id() else {
            if self.by_id.contains_key(&f.id) {
                return;
            }
            self.by_id.insert(f.id.clone(), self.groups.len());
            f.eni_count = f.enis.len();
            self.groups.push(Group {
                finding: f,
                shapes: Vec::new(),
            });
            return;
        };
        let shape = if f.shape.is_empty() {
            format!("{:?}", f.witness)
        } else {
            std::mem::take(&mut f.shape)
        };
        match self.by_id.get(&id) {
            Some(&i) => {
                let g = &mut self.groups[i];
                for e in f.enis {
                    // An ENI's findings come together, so a repeat is usually the last one;
                    // any other repeat is removed by `finish`.
                    if g.finding.enis.last() != Some(&e) {
                        g.finding.enis.push(e);
                    }
                }
                if g.shapes.len() < MAX_WITNESSES && !g.shapes.contains(&shape) {
                    if let Some(w) = f.witness {
                        g.shapes.push(shape);
                        g.finding.witnesses.push(w);
                    }
                }
            }
            None => {
                f.id = id.clone();
                f.resources = f.cause.clone();
                f.witnesses = f.witness.iter().cloned().collect();
                self.by_id.insert(id, self.groups.len());
                self.groups.push(Group {
                    finding: f,
                    shapes: vec![shape],
                });
            }
        }
    }

    /// Adds every finding of another grouper (a worker's), keeping this one's first members.
    pub fn absorb(&mut self, other: Grouper) {
        for g in other.groups {
            let f = g.finding;
            match self.by_id.get(&f.id) {
                Some(&i) if !f.cause.is_empty() => {
                    let mine = &mut self.groups[i];
                    mine.finding.enis.extend(f.enis);
                    for (s, w) in g.shapes.into_iter().zip(f.witnesses) {
                        if mine.shapes.len() < MAX_WITNESSES && !mine.shapes.contains(&s) {
                            mine.shapes.push(s);
                            mine.finding.witnesses.push(w);
                        }
                    }
                }
                Some(_) => {}
                None => {
                    self.by_id.insert(f.id.clone(), self.groups.len());
                    self.groups.push(Group {
                        finding: f,
                        shapes: g.shapes,
                    });
                }
            }
        }
    }

    /// The grouped findings, in order of their first member; a group's message says how many
    /// ENIs share its cause.
    pub fn finish(self) -> Vec<Finding> {
        self.groups
            .into_iter()
            .map(|g| {
                let mut f = g.finding;
                // Each ENI once, in order of arrival (one group's set at a time).
                let mut seen = std::collections::HashSet::with_capacity(f.enis.len());
                f.enis.retain(|e| seen.insert(e.clone()));
                drop(seen);
                f.eni_count = f.enis.len();
                if f.witnesses.len() <= 1 {
                    f.witnesses.clear();
                }
                if !f.cause.is_empty() && f.enis.len() > 1 {
                    f.message.push_str(&format!(
                        " ({} ENIs share this cause: {}{})",
                        f.enis.len(),
                        f.enis
                            .iter()
                            .take(3)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", "),
                        if f.enis.len() > 3 { ", …" } else { "" }
                    ));
                }
                f
            })
            .collect()
    }
}

/// Groups findings by cause (see [`Grouper`]).
pub fn group_by_cause(findings: impl IntoIterator<Item = Finding>) -> Vec<Finding> {
    let mut g = Grouper::default();
    for f in findings {
        g.add(f);
    }
    g.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(eni: &str, rule: &str, port: u16) -> Finding {
        Finding {
            enis: vec![eni.to_string()],
            cause: vec!["sg-1".into(), rule.into()],
            witness: Some(Witness {
                src: "198.51.100.1".into(),
                dst: format!("10.0.0.{}", eni.len()),
                protocol: "tcp".into(),
                port: Some(port),
            }),
            shape: format!("tcp {port}"),
            ..Finding::new(
                "c",
                Severity::High,
                FindingStatus::Exposed,
                vec![eni.into(), "sg-1".into()],
                None,
                vec![],
                format!("on {eni}"),
            )
        }
    }

    #[test]
    fn members_of_a_cause_are_one_finding_and_others_pass_through() {
        let mut a = Grouper::default();
        a.add(member("eni-a", "inbound rule tcp/22", 22));
        a.add(member("eni-b", "inbound rule tcp/22", 22));
        a.add(member("eni-a", "inbound rule tcp/22", 22));
        a.add(member("eni-a", "inbound rule tcp/0-65535", 22));
        let plain = Finding::new(
            "default-security-group",
            Severity::Medium,
            FindingStatus::DefaultSecurityGroupInUse,
            vec!["sg-d".into()],
            None,
            vec![],
            "m".into(),
        );
        a.add(plain.clone());
        a.add(plain.clone());
        let mut b = Grouper::default();
        b.add(member("eni-c", "inbound rule tcp/22", 3389));
        b.add(member("eni-b", "inbound rule tcp/22", 22));
        a.absorb(b);
        let out = a.finish();
        assert_eq!(out.len(), 3, "{out:#?}");
        let g = &out[0];
        assert_eq!(g.enis, ["eni-a", "eni-b", "eni-c"]);
        assert_eq!(g.eni_count, 3);
        assert_eq!(g.resources, ["sg-1", "inbound rule tcp/22"]);
        assert_eq!(
            g.id,
            Finding::fingerprint("c", FindingStatus::Exposed, &g.resources)
        );
        // One witness per shape: port 22, then 3389.
        let ports: Vec<_> = g.witnesses.iter().map(|w| w.port).collect();
        assert_eq!(ports, [Some(22), Some(3389)]);
        assert!(g.message.starts_with("on eni-a (3 ENIs share this cause"));
        assert_eq!(out[1].enis, ["eni-a"]);
        assert!(out[1].witnesses.is_empty());
        assert_eq!(out[2], Finding { ..plain });
    }
}
