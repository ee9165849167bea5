//! The audit as SARIF 2.1.0, for code-scanning dashboards.
//!
//! One `reportingDescriptor` (rule) per statement and built-in check, with the statement's
//! description and a default level from its severity (critical and high → `error`, medium →
//! `warning`, low → `note`). Each finding is a result whose `partialFingerprints` carry the
//! finding's stable id, whose logical locations are the AWS resources involved (there is no
//! source file for a security group; for a finding grouped by cause, the cause's resources and
//! then the ENIs it affects, at most [`MAX_ENI_LOCATIONS`]), and whose physical location is the
//! statement in its policy file (so a dashboard can point at the intent that was broken) or, for
//! built-in checks, the snapshot file and line that define the resource ([`resource_locations`]).
//! Suppressed findings carry a SARIF `suppressions` entry with the reason; with a baseline,
//! `baselineState` is `new` or `unchanged`. Warnings (expired suppressions) are tool
//! notifications of the invocation.

use crate::audit::report::{BaselineState, Report, ReportedFinding, Rule};
use crate::policy::{Location, Severity};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::path::Path;

/// At most this many ENIs of a grouped finding are logical locations of its result (the JSON
/// report lists them all; `eniCount` says how many there are).
pub const MAX_ENI_LOCATIONS: usize = 1000;

/// The SARIF level of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub code scanning's numeric `security-severity` for a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// A path as a URI reference: relative paths stay relative (to the checkout, `%SRCROOT%`), and
/// so do absolute paths inside the current folder (code scanning wants repository-relative
/// files); other absolute paths become `file://` URIs. Characters outside RFC 3986's unreserved
/// set and `/` are percent-encoded.
fn uri(path: &Path) -> (String, bool) {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf));
    let path = relative.as_deref().unwrap_or(path);
    let text = path.to_string_lossy().replace('\\', "/");
    let mut enc = String::with_capacity(text.len());
    for b in text.trim_start_matches("./").bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    if path.is_absolute() {
        (format!("file://{enc}"), true)
    } else {
        (enc, false)
    }
}

fn physical(l: &Location) -> Value {
    let (u, absolute) = uri(&l.file);
    let mut artifact = Map::new();
    artifact.insert("uri".into(), Value::String(u));
    if !absolute {
        artifact.insert("uriBaseId".into(), json!("%SRCROOT%"));
    }
    json!({
        "artifactLocation": artifact,
        "region": { "startLine": l.line.max(1), "startColumn": l.column.max(1) }
    })
}

/// The kind of AWS resource an id names, from its prefix.
fn resource_type(id: &str) -> &'static str {
    let prefixes = [
        ("eni-", "network-interface"),
        ("sg-", "security-group"),
        ("acl-", "network-acl"),
        ("rtb-", "route-table"),
        ("subnet-", "subnet"),
        ("vpc-", "vpc"),
        ("i-", "instance"),
        ("igw-", "internet-gateway"),
        ("eigw-", "egress-only-internet-gateway"),
        ("nat-", "nat-gateway"),
        ("pcx-", "vpc-peering-connection"),
        ("tgw-attach-", "transit-gateway-attachment"),
        ("tgw-rtb-", "transit-gateway-route-table"),
        ("tgw-", "transit-gateway"),
        ("pl-", "prefix-list"),
        ("vpce-", "vpc-endpoint"),
    ];
    prefixes
        .iter()
        .find(|(p, _)| id.starts_with(p))
        .map_or("resource", |(_, t)| t)
}

fn first_sentence(s: &str) -> String {
    let cut = ["; ", ". ", ": "]
        .iter()
        .filter_map(|sep| s.find(sep))
        .min()
        .map_or(s, |i| &s[..i]);
    let mut out: String = cut.chars().take(200).collect();
    if out.is_empty() {
        out = s.chars().take(200).collect();
    }
    out
}

fn rule(r: &Rule) -> Value {
    let mut tags = vec!["security", "network"];
    if let Some(k) = r.kind {
        tags.push(match k {
            crate::policy::Kind::Deny => "deny",
            crate::policy::Kind::Require => "require",
            crate::policy::Kind::Allow => "allow",
        });
    }
    json!({
        "id": r.id,
        "shortDescription": { "text": first_sentence(&r.description) },
        "fullDescription": { "text": r.description },
        "defaultConfiguration": { "level": level(r.severity) },
        "properties": {
            "tags": tags,
            "security-severity": security_severity(r.severity),
            "precision": "very-high",
        }
    })
}

/// Where resources are written in the snapshot's files: for each id, the file, line and column
/// of its first appearance (as a JSON string, `"sg-…"`). Built-in checks have no policy file to
/// point at; their results point at the snapshot file that holds the resource, so that code
/// scanning (which wants a file for every result) can show them. Only the ids of such findings
/// are looked up, each file read once.
pub fn resource_locations(r: &Report, files: &[std::path::PathBuf]) -> HashMap<String, Location> {
    let mut wanted: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| {
            let index = r.rules.iter().position(|x| x.id == f.finding.check);
            index.and_then(|i| r.rules[i].location.as_ref()).is_none()
        })
        .filter_map(|f| f.finding.resources.first().map(String::as_str))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    // Where each id is defined beats where it is only referenced: `"GroupId": "sg-…"` in a file
    // of `SecurityGroups` rather than an ENI's list of groups.
    let mut defined: HashMap<String, Location> = HashMap::new();
    let mut mentioned: HashMap<String, Location> = HashMap::new();
    for file in files {
        if defined.len() == wanted.len() {
            break;
        }
        let Ok(text) = std::fs::read(file) else {
            continue;
        };
        for id in &wanted {
            if defined.contains_key(*id) {
                continue;
            }
            // A file of that list: its first key is the list's (as the CLI and `collect`
            // write them).
            let definition = defining_key(id).and_then(|(list, key)| {
                let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
                let rest = text[start..].strip_prefix(b"{")?;
                let first = rest.iter().position(|b| !b.is_ascii_whitespace())?;
                if !rest[first..].starts_with(format!("\"{list}\"").as_bytes()) {
                    return None;
                }
                memchr::memmem::find(&text, format!("\"{key}\": \"{id}\"").as_bytes())
            });
            if let Some(at) = definition {
                defined.insert((*id).to_string(), location_at(file, &text, at));
            } else if !mentioned.contains_key(*id) {
                if let Some(at) = memchr::memmem::find(&text, format!("\"{id}\"").as_bytes()) {
                    mentioned.insert((*id).to_string(), location_at(file, &text, at));
                }
            }
        }
    }
    for (id, l) in mentioned {
        defined.entry(id).or_insert(l);
    }
    defined
}

/// The top-level key of the list that defines a resource of this id, and the key of its id.
fn defining_key(id: &str) -> Option<(&'static str, &'static str)> {
    let by_prefix = [
        ("sg-", ("SecurityGroups", "GroupId")),
        ("acl-", ("NetworkAcls", "NetworkAclId")),
        ("eni-", ("NetworkInterfaces", "NetworkInterfaceId")),
        ("subnet-", ("Subnets", "SubnetId")),
        ("vpc-", ("Vpcs", "VpcId")),
        ("rtb-", ("RouteTables", "RouteTableId")),
        ("fl-", ("FlowLogs", "FlowLogId")),
        ("i-", ("Reservations", "InstanceId")),
        (
            "exclusion-",
            ("VpcBlockPublicAccessExclusions", "ExclusionId"),
        ),
    ];
    if let Some((_, k)) = by_prefix.iter().find(|(p, _)| id.starts_with(p)) {
        return Some(*k);
    }
    if id.starts_with("arn:") && id.contains(":loadbalancer/") {
        return Some(("LoadBalancers", "LoadBalancerArn"));
    }
    if id.starts_with("arn:") && id.contains(":targetgroup/") {
        return Some(("TargetGroups", "TargetGroupArn"));
    }
    None
}

/// The 1-based line and column (in characters) of byte `at` of a file's text.
fn location_at(file: &Path, text: &[u8], at: usize) -> Location {
    let before = &text[..at];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Location {
        file: file.to_path_buf(),
        line,
        column,
    }
}

fn result(f: &ReportedFinding, rules: &[Rule], located: &HashMap<String, Location>) -> Value {
    let x = &f.finding;
    let index = rules.iter().position(|r| r.id == x.check);
    let logical: Vec<Value> = x
        .resources
        .iter()
        .chain(
            x.enis
                .iter()
                .filter(|e| !x.resources.contains(e))
                .take(MAX_ENI_LOCATIONS),
        )
        .map(|id| {
            json!({
                "name": id,
                "fullyQualifiedName": id,
                "kind": "resource",
                "properties": { "resourceType": resource_type(id) }
            })
        })
        .collect();
    let mut location = Map::new();
    let at = index
        .and_then(|i| rules[i].location.as_ref())
        .or_else(|| x.resources.first().and_then(|id| located.get(id)));
    if let Some(l) = at {
        location.insert("physicalLocation".into(), physical(l));
    }
    if !logical.is_empty() {
        location.insert("logicalLocations".into(), Value::Array(logical));
    }
    let mut out = Map::new();
    out.insert("ruleId".into(), json!(x.check));
    if let Some(i) = index {
        out.insert("ruleIndex".into(), json!(i));
    }
    out.insert("kind".into(), json!("fail"));
    out.insert("level".into(), json!(level(x.severity)));
    out.insert("message".into(), json!({ "text": x.message }));
    if !location.is_empty() {
        out.insert("locations".into(), json!([location]));
    }
    out.insert(
        "partialFingerprints".into(),
        json!({ "vpcreachFindingId/v1": x.id }),
    );
    if let Some(b) = f.baseline {
        let state = match b {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
        };
        out.insert("baselineState".into(), json!(state));
    }
    if let Some(s) = &f.suppressed {
        out.insert(
            "suppressions".into(),
            json!([{
                "kind": "external",
                "status": "accepted",
                "justification": s.reason,
                "properties": { "expires": s.expires, "at": s.at }
            }]),
        );
    }
    let mut props = json!({
        "findingId": x.id,
        "status": x.status.as_str(),
        "severity": x.severity.as_str(),
        "resources": x.resources,
        "eniCount": x.enis.len(),
        "because": x.because,
        "failing": f.failing,
    });
    if let Some(w) = &x.witness {
        props["witness"] = json!(w);
    }
    if let Some(i) = &x.introduced_by {
        props["introducedBy"] = json!(i);
    }
    if !x.witnesses.is_empty() {
        props["witnesses"] = json!(x.witnesses);
    }
    if !f.suppressed_enis.is_empty() {
        props["suppressedEnis"] = json!(f.suppressed_enis);
    }
    if let Some(e) = &f.expired_suppression {
        props["expiredSuppression"] = json!(e);
    }
    out.insert("properties".into(), props);
    Value::Object(out)
}

/// The report as a SARIF 2.1.0 log (pretty-printed, with a final newline); results of built-in
/// checks have logical locations only (see [`report_located`]).
pub fn report(r: &Report) -> String {
    report_located(r, &HashMap::new())
}

/// [`report`], with the physical locations of resources ([`resource_locations`]) for the
/// results of built-in checks.
pub fn report_located(r: &Report, located: &HashMap<String, Location>) -> String {
    let mut out = Vec::new();
    // Writing to memory fails only if serializing does, which these values never do.
    let _ = write_located(r, located, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// [`report_located`] written to `w` as it is made, result by result: an organization's SARIF
/// runs to hundreds of MB, which need not be held in memory (as one JSON value, several times
/// that) beside the findings. The same bytes as [`report_located`].
///
/// ```
/// use vpcreach::audit::report::{Report, ReportOptions, ResourceTags, Day};
/// use std::collections::HashMap;
/// let report = Report::build(Default::default(), &Default::default(), ReportOptions {
///     fail_on: vpcreach::policy::Severity::Low, today: Day::today(), baseline: None,
///     suppressions: None, tags: &ResourceTags::default(),
/// });
/// let mut out = Vec::new();
/// vpcreach::render::audit::sarif::write_located(&report, &HashMap::new(), &mut out).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), vpcreach::render::audit::sarif::report(&report));
/// ```
pub fn write_located(
    r: &Report,
    located: &HashMap<String, Location>,
    mut w: impl std::io::Write,
) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut w, &Log { r, located }).map_err(std::io::Error::from)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// The SARIF log, serialized as it is walked. Its objects' keys come in the order a
/// `serde_json::Value` object keeps them (sorted), so the bytes are those of the log built as
/// one value; each result is still made as a small value of its own, written, then dropped.
struct Log<'a> {
    r: &'a Report,
    located: &'a HashMap<String, Location>,
}

impl Serialize for Log<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("$schema", "https://json.schemastore.org/sarif-2.1.0.json")?;
        m.serialize_entry("runs", &[Run(self)])?;
        m.serialize_entry("version", "2.1.0")?;
        m.end()
    }
}

/// The log's one run.
struct Run<'a, 'b>(&'b Log<'a>);

impl Serialize for Run<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0.r;
        let notifications: Vec<Value> = r
            .warnings
            .iter()
            .map(|w| json!({ "level": "warning", "message": { "text": w } }))
            .collect();
        let mut properties = json!({ "summary": r.summary });
        if let Some(resolved) = &r.resolved {
            properties["resolved"] = json!(resolved);
        }
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("columnKind", "unicodeCodePoints")?;
        m.serialize_entry(
            "invocations",
            &json!([{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }]),
        )?;
        m.serialize_entry("properties", &properties)?;
        m.serialize_entry("results", &Results(self.0))?;
        m.serialize_entry(
            "tool",
            &json!({
                "driver": {
                    "name": "vpcreach",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": r.rules.iter().map(rule).collect::<Vec<_>>(),
                }
            }),
        )?;
        m.end()
    }
}

/// The run's results, each made when it is written.
struct Results<'a, 'b>(&'b Log<'a>);

impl Serialize for Results<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0.r;
        let mut seq = s.serialize_seq(Some(r.findings.len()))?;
        for f in &r.findings {
            seq.serialize_element(&result(f, &r.rules, self.0.located))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::uri;
    use std::path::Path;

    #[test]
    fn paths_inside_the_current_folder_are_repository_relative() {
        let cwd = std::env::current_dir().expect("cwd");
        assert_eq!(
            uri(&cwd.join("policies/my team.toml")),
            ("policies/my%20team.toml".to_string(), false)
        );
        assert_eq!(
            uri(Path::new("./policies/a.toml")),
            ("policies/a.toml".to_string(), false)
        );
        if !Path::new("/nonexistent-vpcreach").starts_with(&cwd) {
            assert_eq!(
                uri(Path::new("/nonexistent-vpcreach/a.toml")),
                ("file:///nonexistent-vpcreach/a.toml".to_string(), true)
            );
        }
    }
}
