//! A finding: one thing the audit reports, with a stable fingerprint so runs can be compared.

use super::packed::{Entry, Names, PackedFindings, Packer};
use crate::policy::Severity;
use crate::snapshot::Short;
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
    /// when an ENI joins or leaves). Empty for a finding that is not grouped, and once grouped:
    /// the group holds its cause once, as its resources ([`Finding::grouped`]).
    #[serde(skip)]
    pub cause: Vec<String>,
    /// Whether the finding is a cause's group ([`Grouper`]): its resources are the cause, its
    /// ENIs those the cause affects.
    #[serde(skip)]
    pub grouped: bool,
    /// The path shape of the witness (the deciding rules with the ENI's own ids left out), so a
    /// grouped finding keeps one witness per shape. Empty: the witness text.
    #[serde(skip)]
    pub shape: String,
    /// With a history (`audit --history`): the change after which the witness became what it
    /// is, the newest such change up to the time the network is judged at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced_by: Option<Box<IntroducedBy>>,
}

/// The change of the history a finding came from: its witness was not what it is before the
/// change, and is after it (and after every later change up to the time judged).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntroducedBy {
    /// CloudTrail `eventID`, or an AWS Config item (`<resourceId>@<configurationStateId>`, its
    /// `api` then `ConfigurationItem <status>`).
    pub event_id: String,
    /// When, RFC 3339.
    pub time: String,
    /// The API call.
    pub api: String,
    /// Who (untrusted text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// From where (untrusted text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
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
/// members' (in order, each once), its message, rules and first witness the first member's,
/// and it keeps one witness per distinct [`Finding::shape`] (the first [`MAX_WITNESSES`]
/// shapes). A finding without a cause is kept as it is (of two with the same id, the first).
///
/// "First" and "in order" follow each finding's *order key* ([`Grouper::add_at`]; [`Grouper::add`]
/// numbers findings as they come), not the order of arrival, so that workers adding findings of
/// their own ENIs to one shared grouper, in any interleaving, give the same groups as one worker
/// adding them in key order.
#[derive(Debug, Default)]
pub struct Grouper {
    /// Each group's finding (its first member), packed ([`super::packed`]), beside its
    /// [`Group`] in `groups`: kept apart so that `finish` moves them alone, sorted in place.
    findings: Chunked<Held>,
    groups: Chunked<Group>,
    by_id: std::collections::HashMap<String, usize>,
    /// The key [`Grouper::add`] gives next.
    next: u64,
    packer: Packer,
    checks: Names,
    enis: Names,
}

/// A group's finding while the audit runs: packed, with what orders it at hand.
#[derive(Debug)]
struct Held {
    blob: Box<[u8]>,
    check: u32,
    severity: Severity,
    status: FindingStatus,
    resources: Box<[Short]>,
}

impl Grouper {
    /// Packs a group's finding: its resources apart (they order the findings), the rest
    /// compressed.
    fn hold(&mut self, mut f: Finding) -> Held {
        let resources = std::mem::take(&mut f.resources)
            .into_iter()
            .map(Short::from)
            .collect();
        Held {
            blob: self.packer.pack(&f),
            check: self.checks.number(&f.check),
            severity: f.severity,
            status: f.status,
            resources,
        }
    }
}

/// A growing list kept in fixed-size chunks: growing never moves what it holds. (A vector that
/// doubles holds its old and new copies together while it moves, and keeps up to half of its
/// room unused: at 100,000 ENIs, 605,233 findings of 320 bytes each in room for 1,048,576,
/// about 140 MB asked of the allocator and never filled.)
#[derive(Debug)]
struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

/// Items in a chunk of [`Chunked`] (2.6 MB of findings).
const CHUNK: usize = 8192;

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Chunked<T> {
    fn len(&self) -> usize {
        self.len
    }

    fn push(&mut self, item: T) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => c.push(item),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(item);
                self.chunks.push(c);
            }
        }
        self.len += 1;
    }

    /// Everything in one vector, in order, with room for `spare` more; each chunk is freed as
    /// soon as it is moved (the vector's room is only touched as it is filled), so the list is
    /// never held twice.
    fn into_vec(self, spare: usize) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len.saturating_add(spare));
        for c in self.chunks {
            out.extend(c);
        }
        out
    }
}

impl<T> std::ops::Index<usize> for Chunked<T> {
    type Output = T;
    fn index(&self, i: usize) -> &T {
        &self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> std::ops::IndexMut<usize> for Chunked<T> {
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.chunks[i / CHUNK][i % CHUNK]
    }
}

impl<T> IntoIterator for Chunked<T> {
    type Item = T;
    type IntoIter = std::iter::Flatten<std::vec::IntoIter<Vec<T>>>;
    fn into_iter(self) -> Self::IntoIter {
        self.chunks.into_iter().flatten()
    }
}

#[derive(Debug)]
struct Group {
    /// The key of the first member (smallest key), whose finding (in [`Grouper::findings`])
    /// `finish` makes the group's.
    key: u64,
    /// Each member's ENIs (by number), with its key. A finding passed through as it is: its
    /// own ENIs.
    enis: Vec<(u64, u32)>,
    /// Up to [`MAX_WITNESSES`] distinct shapes with the smallest first keys: the shape as a
    /// 64-bit hash (a shape is the text of every deciding rule: hundreds of bytes, kept for each
    /// of hundreds of thousands of groups; two shapes of one group hashing alike would only cost
    /// a witness, never a verdict or an ENI), the first key seen and that member's witness
    /// (packed).
    shapes: Vec<(u64, u64, Box<[u8]>)>,
    /// A group of members with a cause (not a finding passed through as it is).
    by_cause: bool,
}

impl Group {
    /// Notes a member's shape and witness, keeping the [`MAX_WITNESSES`] shapes first seen in
    /// key order: a shape's key only goes down, and a new shape displaces the shape with the
    /// largest key when the list is full and it comes earlier.
    fn see_shape(&mut self, shape: u64, key: u64, w: Box<[u8]>) {
        if let Some(s) = self.shapes.iter_mut().find(|s| s.0 == shape) {
            if key < s.1 {
                s.1 = key;
                s.2 = w;
            }
            return;
        }
        if self.shapes.len() < MAX_WITNESSES {
            if self.shapes.capacity() == 0 {
                // Many causes have one shape: room for one, not the four a first push makes.
                self.shapes.reserve_exact(1);
            }
            self.shapes.push((shape, key, w));
            return;
        }
        if let Some(last) = self.shapes.iter_mut().max_by_key(|s| s.1) {
            if key < last.1 {
                *last = (shape, key, w);
            }
        }
    }
}

fn shape_hash(f: &mut Finding) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    if f.shape.is_empty() {
        format!("{:?}", f.witness).hash(&mut h);
    } else {
        std::mem::take(&mut f.shape).hash(&mut h);
    }
    h.finish()
}

impl Grouper {
    /// Adds one finding, after every finding added before it.
    pub fn add(&mut self, f: Finding) {
        let key = self.next;
        self.next += 1;
        self.add_at(f, key);
    }

    /// Adds one finding with its order key (see the type's notes; keys are distinct).
    pub fn add_at(&mut self, mut f: Finding, key: u64) {
        self.next = self.next.max(key.saturating_add(1));
        let Some(id) = f.cause_id() else {
            let existing = self.by_id.get(&f.id).copied();
            if existing.is_some_and(|i| key >= self.groups[i].key) {
                return;
            }
            let enis: Vec<(u64, u32)> = std::mem::take(&mut f.enis)
                .iter()
                .map(|e| (key, self.enis.number(e)))
                .collect();
            let id = f.id.clone();
            let held = self.hold(f);
            match existing {
                Some(i) => {
                    self.findings[i] = held;
                    let g = &mut self.groups[i];
                    g.key = key;
                    g.enis = enis;
                }
                None => {
                    self.by_id.insert(id, self.groups.len());
                    self.findings.push(held);
                    self.groups.push(Group {
                        key,
                        enis,
                        shapes: Vec::new(),
                        by_cause: false,
                    });
                }
            }
            return;
        };
        let shape = shape_hash(&mut f);
        let enis = std::mem::take(&mut f.enis);
        // The witness is kept once, among the group's shapes: `finish` gives the first member's
        // back to the finding (the shape whose first key is the group's).
        let witness = f.witness.take();
        // A kept member's resources become the cause (held once).
        f.resources = std::mem::take(&mut f.cause);
        f.grouped = true;
        let existing = self.by_id.get(&id).copied();
        let i = match existing {
            Some(i) if key >= self.groups[i].key => i,
            _ => {
                f.id = id.clone();
                let held = self.hold(f);
                match existing {
                    Some(i) => {
                        self.findings[i] = held;
                        self.groups[i].key = key;
                        i
                    }
                    None => {
                        self.by_id.insert(id, self.groups.len());
                        self.findings.push(held);
                        self.groups.push(Group {
                            key,
                            enis: Vec::new(),
                            shapes: Vec::new(),
                            by_cause: true,
                        });
                        self.groups.len() - 1
                    }
                }
            }
        };
        let numbers: Vec<u32> = enis.iter().map(|e| self.enis.number(e)).collect();
        let g = &mut self.groups[i];
        if g.enis.capacity() == 0 {
            // A cause's first member brings one ENI or a few: room for those, not the four a
            // first push makes (hundreds of thousands of causes).
            g.enis.reserve_exact(numbers.len());
        }
        for e in numbers {
            // A member's ENIs usually repeat the last one's (then the earlier key stays); other
            // repeats go in `finish`.
            match g.enis.last_mut() {
                Some(last) if last.1 == e => last.0 = last.0.min(key),
                _ => g.enis.push((key, e)),
            }
        }
        if let Some(w) = witness {
            g.see_shape(shape, key, super::packed::pack_witness(&w));
        }
    }

    /// The grouped findings, held packed (see [`PackedFindings`]), in key order.
    pub fn finish_packed(self) -> PackedFindings {
        let Grouper {
            findings,
            groups,
            by_id,
            packer,
            checks,
            enis: names,
            ..
        } = self;
        drop(by_id);
        let mut findings = findings.into_vec(0);
        let mut groups = groups.into_vec(0);
        // Into key order, in place (keys are distinct).
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_unstable_by_key(|&i| groups[i].key);
        let mut again = order.clone();
        crate::audit::analysis::permute(&mut findings, &mut order);
        crate::audit::analysis::permute(&mut groups, &mut again);
        let mut entries = Vec::with_capacity(findings.len());
        for (h, g) in findings.into_iter().zip(groups) {
            let mut entry = Entry {
                blob: h.blob,
                check: h.check,
                severity: h.severity,
                status: h.status,
                resources: h.resources,
                by_cause: g.by_cause,
                enis: Box::default(),
                witnesses: Box::default(),
                first_is_witness: false,
            };
            if !g.by_cause {
                entry.enis = g.enis.into_iter().map(|(_, e)| e).collect();
                entries.push(entry);
                continue;
            }
            // Each ENI once, in key order.
            let mut enis = g.enis;
            enis.sort_by_key(|(k, _)| *k);
            let mut seen = std::collections::HashSet::with_capacity(enis.len());
            entry.enis = enis
                .into_iter()
                .filter_map(|(_, e)| seen.insert(e).then_some(e))
                .collect();
            drop(seen);
            let mut shapes = g.shapes;
            shapes.sort_by_key(|s| s.1);
            // The first member's witness is the shape first seen at the group's key (a member
            // without a witness adds no shape).
            entry.first_is_witness = shapes.first().is_some_and(|s| s.1 == g.key);
            entry.witnesses = shapes.into_iter().map(|s| s.2).collect();
            entries.push(entry);
        }
        PackedFindings {
            entries,
            checks: checks.into_list(),
            enis: names.into_list(),
            dict: packer.dictionary(),
        }
    }

    /// The grouped findings; a group's message says how many ENIs share its cause.
    pub fn finish(self) -> Vec<Finding> {
        self.finish_packed().unpack()
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
        a.add(member("eni-c", "inbound rule tcp/22", 3389));
        a.add(member("eni-b", "inbound rule tcp/22", 22));
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

#[cfg(test)]
mod packed_tests {
    use super::*;

    /// Past the findings the dictionary is made of: each of hundreds of groups is its first
    /// member's finding (message, rules, resources, witness) with its ENIs, read back whole.
    #[test]
    fn many_groups_read_back_as_their_first_members() {
        let mut g = Grouper::default();
        let mut firsts = Vec::new();
        for i in 0..400u16 {
            for j in 0..3u16 {
                let eni = format!("eni-{:04}", i * 3 + j);
                let f = Finding {
                    enis: vec![eni.clone()],
                    cause: vec![format!("sg-{i}"), "inbound rule all from 0.0.0.0/0".into()],
                    witness: Some(Witness {
                        src: "198.51.100.1".into(),
                        dst: format!("10.{}.{}.{j}", i / 200, i % 200),
                        protocol: "tcp".into(),
                        port: Some(22),
                    }),
                    shape: "tcp 22".into(),
                    ..Finding::new(
                        "internet-ssh",
                        Severity::High,
                        FindingStatus::Exposed,
                        vec![eni.clone(), format!("sg-{i}")],
                        None,
                        vec![format!(
                            "sg-{i} inbound rule all from 0.0.0.0/0 allows it ({j})"
                        )],
                        format!("internet-ssh tcp/22 is possible from 198.51.100.1 to {eni}"),
                    )
                };
                if j == 0 {
                    firsts.push(f.clone());
                }
                g.add(f);
            }
        }
        let out = g.finish();
        assert_eq!(out.len(), 400);
        for (i, (got, first)) in out.iter().zip(&firsts).enumerate() {
            let i = i as u16;
            let enis: Vec<String> = (0..3).map(|j| format!("eni-{:04}", i * 3 + j)).collect();
            assert_eq!(got.enis, enis);
            assert_eq!(got.eni_count, 3);
            assert!(got.grouped);
            assert_eq!(got.resources, first.cause);
            assert_eq!(got.id, first.cause_id().unwrap_or_default());
            assert_eq!(got.because, first.because);
            assert_eq!(got.witness, first.witness);
            assert!(got.witnesses.is_empty());
            assert_eq!(
                got.message,
                format!(
                    "{} (3 ENIs share this cause: {})",
                    first.message,
                    enis.join(", ")
                )
            );
        }
    }
}

#[cfg(test)]
mod chunked_tests {
    use super::{Chunked, CHUNK};

    /// Across chunk boundaries: what is pushed is found at its index, changed in place, and
    /// comes out in order, by iteration and as one vector with the room asked for.
    #[test]
    fn a_chunked_list_is_a_vector_that_never_moves() {
        let n = 2 * CHUNK + 5;
        let mut c = Chunked::default();
        for i in 0..n {
            c.push(i);
        }
        assert_eq!(c.len(), n);
        assert_eq!(c.chunks.len(), 3);
        assert_eq!(
            (c[0], c[CHUNK - 1], c[CHUNK], c[n - 1]),
            (0, CHUNK - 1, CHUNK, n - 1)
        );
        c[CHUNK] = 7;
        let mut want: Vec<usize> = (0..n).collect();
        want[CHUNK] = 7;
        let iterated: Vec<usize> = Chunked {
            chunks: c.chunks.clone(),
            len: n,
        }
        .into_iter()
        .collect();
        assert_eq!(iterated, want);
        let v = c.into_vec(10);
        assert_eq!(v, want);
        assert!(v.capacity() >= n + 10);
    }
}

#[cfg(test)]
mod order_tests {
    use super::*;

    fn member(eni: &str, port: u16, dst: &str) -> Finding {
        Finding {
            enis: vec![eni.to_string()],
            cause: vec!["sg-1".into(), "inbound rule all".into()],
            witness: Some(Witness {
                src: "198.51.100.1".into(),
                dst: dst.into(),
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

    /// Workers adding their ENIs' findings to one grouper in any interleaving give the groups
    /// of one worker adding them in key order: the same first member (message, witness), ENI
    /// order and witnesses, including when more shapes than [`MAX_WITNESSES`] come late.
    #[test]
    fn keyed_adds_in_any_order_give_the_ordered_result() {
        let items: Vec<(u64, Finding)> = (0..40u16)
            .map(|i| {
                let eni = format!("eni-{:02}", i % 13);
                // Shapes repeat, so some shapes' first members come late.
                let port = 1000 + (i * 7) % 17;
                (u64::from(i), member(&eni, port, &format!("10.0.0.{i}")))
            })
            .collect();
        let mut ordered = Grouper::default();
        for (k, f) in items.clone() {
            ordered.add_at(f, k);
        }
        let want = ordered.finish();
        assert_eq!(want.len(), 1);
        assert_eq!(want[0].witnesses.len(), MAX_WITNESSES);
        assert_eq!(want[0].eni_count, 13);
        let mut x: u64 = 7;
        for _ in 0..50 {
            let mut shuffled = items.clone();
            for i in (1..shuffled.len()).rev() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                shuffled.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let mut g = Grouper::default();
            for (k, f) in shuffled {
                g.add_at(f, k);
            }
            assert_eq!(g.finish(), want);
        }
    }
}
