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
        let pending: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|id| !defined.contains_key(*id))
            .collect();
        let Ok(found) = find_in_file(file, &pending, &mentioned) else {
            continue;
        };
        for (id, definition, l) in found {
            if definition {
                defined.insert(id.to_string(), l);
            } else {
                mentioned.entry(id.to_string()).or_insert(l);
            }
        }
    }
    for (id, l) in mentioned {
        defined.entry(id).or_insert(l);
    }
    defined
}

/// Bytes of a snapshot file read at a time by [`find_in_file`] (a file is never held whole:
/// an organization's `SecurityGroups.json` runs to hundreds of MB).
const FIND_CHUNK: usize = 8 << 20;

/// For each of `ids`, where `file` defines it (when the file is of the list that defines it, as
/// the CLI and `collect` write them: its first key is the list's), or else where it first
/// appears as a JSON string (unless `mentioned` has it already): `(id, defined, location)`.
/// The file is read in chunks, each searched for what is still to be found.
fn find_in_file<'a>(
    file: &Path,
    ids: &[&'a str],
    mentioned: &HashMap<String, Location>,
) -> std::io::Result<Vec<(&'a str, bool, Location)>> {
    use std::io::Read;
    let mut f = std::fs::File::open(file)?;
    let mut buf: Vec<u8> = Vec::with_capacity(FIND_CHUNK);
    // Fill the first chunk to see the file's first key.
    (&mut f).take(FIND_CHUNK as u64).read_to_end(&mut buf)?;
    let list_of_file = {
        let start = buf.iter().position(|b| !b.is_ascii_whitespace());
        start
            .and_then(|s| buf[s..].strip_prefix(b"{"))
            .and_then(|rest| {
                let first = rest.iter().position(|b| !b.is_ascii_whitespace())?;
                let key = rest[first..].strip_prefix(b"\"")?;
                let end = memchr::memchr(b'"', key)?;
                Some(key[..end].to_vec())
            })
    };
    // Per id: its definition's needle (if this file is of its list) and its mention's.
    let mut needles: Vec<Needles<'_>> = ids
        .iter()
        .map(|id| {
            let definition = defining_key(id)
                .filter(|(list, _)| list_of_file.as_deref() == Some(list.as_bytes()))
                .map(|(_, key)| format!("\"{key}\": \"{id}\"").into_bytes());
            let mention = (!mentioned.contains_key(*id)).then(|| format!("\"{id}\"").into_bytes());
            (*id, definition, mention)
        })
        .collect();
    let longest = needles
        .iter()
        .flat_map(|(_, d, m)| {
            [
                d.as_ref().map_or(0, Vec::len),
                m.as_ref().map_or(0, Vec::len),
            ]
        })
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    // Where `buf` starts in the file: lines before it, and characters between the last line
    // break before it and it.
    let (mut lines_before, mut chars_carry) = (0usize, 0usize);
    loop {
        let mut i = 0;
        while i < needles.len() {
            let (id, definition, mention) = &mut needles[i];
            if let Some(at) = definition
                .as_deref()
                .and_then(|n| memchr::memmem::find(&buf, n))
            {
                out.push((*id, true, place(file, &buf, at, lines_before, chars_carry)));
                needles.swap_remove(i);
                continue;
            }
            if let Some(at) = mention
                .as_deref()
                .and_then(|n| memchr::memmem::find(&buf, n))
            {
                out.push((*id, false, place(file, &buf, at, lines_before, chars_carry)));
                *mention = None;
            }
            if definition.is_none() && mention.is_none() {
                needles.swap_remove(i);
                continue;
            }
            i += 1;
        }
        if needles.is_empty() {
            break;
        }
        // Keep the last bytes (a needle may straddle the chunks), read the next chunk.
        let keep = longest.saturating_sub(1).min(buf.len());
        let consumed = buf.len() - keep;
        let head = &buf[..consumed];
        lines_before += memchr::memchr_iter(b'\n', head).count();
        chars_carry = match memchr::memrchr(b'\n', head) {
            Some(j) => chars(&head[j + 1..]),
            None => chars_carry + chars(head),
        };
        buf.drain(..consumed);
        let before = buf.len();
        (&mut f).take(FIND_CHUNK as u64).read_to_end(&mut buf)?;
        if buf.len() == before {
            break;
        }
    }
    Ok(out)
}

/// An id, the needle of its definition and that of its mention (`None`: not looked for).
type Needles<'a> = (&'a str, Option<Vec<u8>>, Option<Vec<u8>>);

/// Characters in UTF-8 text (bytes that do not continue a character).
fn chars(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c & 0xC0 != 0x80).count()
}

/// The location of byte `at` of `buf`, which starts after `lines_before` line breaks and
/// `chars_carry` characters into its line.
fn place(file: &Path, buf: &[u8], at: usize, lines_before: usize, chars_carry: usize) -> Location {
    let before = &buf[..at];
    let line = lines_before + memchr::memchr_iter(b'\n', before).count() + 1;
    let column = match memchr::memrchr(b'\n', before) {
        Some(j) => chars(&before[j + 1..]),
        None => chars_carry + chars(before),
    } + 1;
    Location {
        file: file.to_path_buf(),
        line,
        column,
    }
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

    /// The line and column of byte `at` of the whole text, as the whole file in memory gives
    /// them (columns in characters).
    fn whole(text: &str, at: usize) -> (usize, usize) {
        let before = &text[..at];
        let line = before.matches('\n').count() + 1;
        let start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[start..].chars().count() + 1)
    }

    /// A file larger than the chunks it is read in: ids found across chunks, one straddling a
    /// chunk's end, on a line longer than a chunk and after lines of multi-byte characters, get
    /// the line and column the whole file gives; a definition beats an earlier mention.
    #[test]
    fn ids_are_found_in_a_file_read_in_chunks_where_the_whole_file_puts_them() {
        let mut text = String::from("{\"SecurityGroups\": [\n");
        text.push_str("{\"Description\": \"naïve € ü\", \"Ref\": \"sg-b\"},\n");
        for i in 0..20_000 {
            text.push_str(&format!("{{\"Description\": \"ǅ{i} ü € ✓\"}},\n"));
        }
        // Up to a chunk's end, then the definition of sg-a across it.
        let pad = super::FIND_CHUNK - text.len() - 8;
        text.push_str(&"x".repeat(pad));
        let straddle = text.len();
        text.push_str("\"GroupId\": \"sg-a\"\n");
        // A line longer than a chunk, with sg-b defined at its end.
        text.push_str(&"é".repeat(super::FIND_CHUNK / 2 + 10));
        let long = text.len();
        text.push_str("\"GroupId\": \"sg-b\"]}\n");
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("SecurityGroups.json");
        std::fs::write(&file, &text).expect("write");
        let found = super::find_in_file(
            &file,
            &["sg-a", "sg-b", "sg-none"],
            &std::collections::HashMap::new(),
        )
        .expect("read");
        let mut got: Vec<(&str, bool, usize, usize)> = found
            .iter()
            .map(|(id, d, l)| (*id, *d, l.line, l.column))
            .collect();
        got.sort();
        let mention = text.find("\"sg-b\"").expect("mention");
        let (la, ca) = whole(&text, straddle);
        let (lb, cb) = whole(&text, long);
        let (lm, cm) = whole(&text, mention);
        assert_eq!(
            got,
            [
                ("sg-a", true, la, ca),
                ("sg-b", false, lm, cm),
                ("sg-b", true, lb, cb)
            ]
        );
        assert!(straddle < super::FIND_CHUNK && straddle + 17 > super::FIND_CHUNK);
        assert!(cb > super::FIND_CHUNK / 2, "{cb}");
    }
}
