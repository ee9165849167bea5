//! A report is what one audit run says to its reader: the findings of the analyses, each marked
//! against a previous run (baseline) and against the accepted risks (suppressions), the findings
//! that went away, and the exit code a scheduled job acts on.
//!
//! Findings are compared by [`Finding::id`], a fingerprint of the check, the status and the
//! resources, so a reworded message does not make a finding new.

use super::analysis::AuditResult;
use super::Finding;
use crate::policy::text::{a_type, closest, SourceText, Value};
use crate::policy::{Kind, Location, PolicyError, PolicyErrors, PolicySet, Severity};
use crate::snapshot::{Snapshot, Tag};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use toml::de::DeValue;

/// Merges the results of two analyses (static and observed) into one.
pub fn merge(mut a: AuditResult, mut b: AuditResult) -> AuditResult {
    a.unpack();
    b.unpack();
    let known: std::collections::HashSet<String> =
        a.findings.iter().map(|f| f.id.clone()).collect();
    a.findings
        .extend(b.findings.into_iter().filter(|f| !known.contains(&f.id)));
    a.findings.sort_by(|x, y| {
        y.severity
            .cmp(&x.severity)
            .then_with(|| x.check.cmp(&y.check))
            .then_with(|| x.id.cmp(&y.id))
    });
    a.errors.extend(b.errors);
    a.warnings.extend(b.warnings);
    a.statements = a.statements.max(b.statements);
    a.interfaces = a.interfaces.max(b.interfaces);
    for n in b.notes {
        if !a.notes.contains(&n) {
            a.notes.push(n);
        }
    }
    a
}

/// The tags of every resource of a snapshot, by id, and the instance of each ENI. An ENI also
/// carries the tags of the instance it is attached to, so `Team=payments` on an instance matches
/// its ENIs' findings, and a suppression naming an instance matches its ENIs' findings.
#[derive(Debug, Clone, Default)]
pub struct ResourceTags {
    tags: HashMap<String, Vec<(String, String)>>,
    instance_of: HashMap<String, String>,
}

impl ResourceTags {
    /// Collects the tags of ENIs, instances, security groups, subnets, VPCs, route tables and
    /// network ACLs.
    pub fn from_snapshot(snap: &Snapshot) -> ResourceTags {
        let mut map: HashMap<String, Vec<(String, String)>> = HashMap::new();
        let mut instance_of: HashMap<String, String> = HashMap::new();
        let mut add = |id: &str, tags: &[Tag]| {
            if id.is_empty() {
                return;
            }
            let entry = map.entry(id.to_string()).or_default();
            for t in tags {
                let pair = (t.key.clone(), t.value.clone());
                if !entry.contains(&pair) {
                    entry.push(pair);
                }
            }
        };
        for i in &snap.instances {
            add(&i.instance_id, &i.tags);
            for eni in &i.network_interfaces {
                if !eni.network_interface_id.is_empty() {
                    instance_of.insert(eni.network_interface_id.clone(), i.instance_id.clone());
                }
                add(&eni.network_interface_id, &i.tags);
                add(&eni.network_interface_id, &eni.tag_set);
            }
        }
        let instance_tags: HashMap<&str, &[Tag]> = snap
            .instances
            .iter()
            .map(|i| (i.instance_id.as_str(), i.tags.as_slice()))
            .collect();
        for eni in &snap.network_interfaces {
            add(&eni.network_interface_id, &eni.tag_set);
            let instance = eni
                .attachment
                .as_ref()
                .and_then(|a| a.instance_id.as_deref());
            if let Some(tags) = instance.and_then(|i| instance_tags.get(i)) {
                add(&eni.network_interface_id, tags);
            }
            if let Some(i) = instance {
                instance_of.insert(eni.network_interface_id.clone(), i.to_string());
            }
        }
        for g in &snap.security_groups {
            add(&g.group_id, &g.tags);
        }
        for s in &snap.subnets {
            add(&s.subnet_id, &s.tags);
        }
        for v in &snap.vpcs {
            add(&v.vpc_id, &v.tags);
        }
        for r in &snap.route_tables {
            add(&r.route_table_id, &r.tags);
        }
        for n in &snap.network_acls {
            add(&n.network_acl_id, &n.tags);
        }
        ResourceTags {
            tags: map,
            instance_of,
        }
    }

    /// Adds one tag to a resource (for callers that build tags by hand).
    pub fn insert(&mut self, id: &str, key: &str, value: &str) {
        self.tags
            .entry(id.to_string())
            .or_default()
            .push((key.to_string(), value.to_string()));
    }

    /// Records that an ENI is attached to an instance.
    pub fn attach(&mut self, eni: &str, instance: &str) {
        self.instance_of
            .insert(eni.to_string(), instance.to_string());
    }

    /// The instance an ENI is attached to.
    pub fn instance_of(&self, eni: &str) -> Option<&str> {
        self.instance_of.get(eni).map(String::as_str)
    }

    /// Whether a resource has the tag (`value` `None`: any value).
    pub fn has(&self, id: &str, key: &str, value: Option<&str>) -> bool {
        self.tags.get(id).is_some_and(|tags| {
            tags.iter()
                .any(|(k, v)| k == key && value.is_none_or(|want| want == v))
        })
    }
}

/// A calendar date (`2026-12-31`), as suppressions give their expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(time::Date);

impl Day {
    /// Today, in UTC.
    pub fn today() -> Day {
        Day(time::OffsetDateTime::now_utc().date())
    }

    /// A date from its parts, if it exists.
    pub fn from_ymd(year: i32, month: u8, day: u8) -> Option<Day> {
        let month = time::Month::try_from(month).ok()?;
        time::Date::from_calendar_date(year, month, day)
            .ok()
            .map(Day)
    }
}

impl std::str::FromStr for Day {
    type Err = ();
    /// ```
    /// use vpcreach::audit::report::Day;
    /// assert_eq!("2026-12-31".parse::<Day>().map(|d| d.to_string()), Ok("2026-12-31".to_string()));
    /// assert!("2026-02-30".parse::<Day>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Day, ()> {
        let mut parts = s.trim().splitn(3, '-');
        let (Some(y), Some(m), Some(d)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(());
        }
        let y: i32 = y.parse().map_err(|_| ())?;
        let m: u8 = m.parse().map_err(|_| ())?;
        let d: u8 = d.parse().map_err(|_| ())?;
        Day::from_ymd(y, m, d).ok_or(())
    }
}

impl std::fmt::Display for Day {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One accepted risk: the findings it matches are reported as suppressed until it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Check ids (statement ids or built-in checks); empty: any.
    pub checks: Vec<String>,
    /// Resource ids, one of which the finding must involve; empty: any.
    pub resources: Vec<String>,
    /// Tags (`Key=Value`, or `Key` for any value), one of which a resource of the finding must
    /// carry; empty: any.
    pub tags: Vec<(String, Option<String>)>,
    /// Why the risk is accepted.
    pub reason: String,
    /// The last day it applies.
    pub expires: Day,
    /// Where it is written.
    pub location: Location,
}

impl Suppression {
    /// Whether it matches a finding (every given criterion must hold). A resource matches the
    /// finding's resources and the instances of its ENIs.
    pub fn matches(&self, f: &Finding, tags: &ResourceTags) -> bool {
        let names = |r: &String| {
            self.resources.contains(r)
                || tags
                    .instance_of(r)
                    .is_some_and(|i| self.resources.iter().any(|x| x == i))
        };
        (self.checks.is_empty() || self.checks.contains(&f.check))
            && (self.resources.is_empty() || f.resources.iter().any(names))
            && (self.tags.is_empty()
                || self
                    .tags
                    .iter()
                    .any(|(k, v)| f.resources.iter().any(|r| tags.has(r, k, v.as_deref()))))
    }

    /// Which of a grouped finding's ENIs it matches, when it does not match the finding as a
    /// whole: every criterion must hold of the finding's resources together with that ENI (so a
    /// suppression naming an ENI, its instance, or a tag they carry, takes that ENI out of the
    /// group). Indices into `f.enis`.
    pub fn matching_enis(&self, f: &Finding, tags: &ResourceTags) -> Vec<usize> {
        if !(self.checks.is_empty() || self.checks.contains(&f.check)) {
            return Vec::new();
        }
        let names = |r: &String| {
            self.resources.contains(r)
                || tags
                    .instance_of(r)
                    .is_some_and(|i| self.resources.iter().any(|x| x == i))
        };
        let cause_named = self.resources.is_empty() || f.resources.iter().any(names);
        let cause_tagged = self.tags.is_empty()
            || self
                .tags
                .iter()
                .any(|(k, v)| f.resources.iter().any(|r| tags.has(r, k, v.as_deref())));
        f.enis
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                (cause_named || names(e))
                    && (cause_tagged || self.tags.iter().any(|(k, v)| tags.has(e, k, v.as_deref())))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether it still applies on `today` (it applies through its expiry day).
    pub fn active(&self, today: Day) -> bool {
        today <= self.expires
    }

    fn info(&self) -> SuppressionInfo {
        SuppressionInfo {
            reason: self.reason.clone(),
            expires: self.expires,
            at: where_(&self.location),
        }
    }
}

fn where_(l: &Location) -> String {
    format!("{}:{}:{}", l.file.display(), l.line, l.column)
}

/// A suppressions file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Suppressions {
    /// The entries, in file order.
    pub entries: Vec<Suppression>,
}

const SUPPRESSION_KEYS: &[&str] = &["check", "resource", "tag", "reason", "expires"];

impl Suppressions {
    /// Reads a suppressions file.
    pub fn load(path: &Path) -> Result<Suppressions, PolicyErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyErrors {
            errors: vec![PolicyError::file(
                path,
                format!("cannot read the suppressions: {e}"),
            )],
        })?;
        Suppressions::parse(path, &text)
    }

    /// Reads suppressions from TOML text, reporting every mistake with its location.
    ///
    /// ```
    /// use vpcreach::audit::report::Suppressions;
    /// let s = Suppressions::parse("s.toml".as_ref(), r#"
    /// [[suppression]]
    /// check = "cis-5.2-ssh-from-internet"
    /// resource = "eni-0de1a09baeda39360"
    /// reason = "the bastion; SSH from the office only, SEC-1234"
    /// expires = 2026-12-31
    /// "#).unwrap();
    /// assert_eq!(s.entries[0].expires.to_string(), "2026-12-31");
    /// let err = Suppressions::parse("s.toml".as_ref(), "[[suppression]]\ncheck = \"x\"\n").unwrap_err();
    /// assert_eq!(err.errors[0].to_string(), "s.toml:1:1: this suppression has no `reason`, `expires`");
    /// ```
    pub fn parse(path: &Path, text: &str) -> Result<Suppressions, PolicyErrors> {
        let mut src = SourceText::new(path, text);
        let doc = src.parse();
        let mut out = Suppressions::default();
        for (key, value) in doc.get_ref().iter() {
            if key.get_ref().as_ref() != "suppression" {
                src.unknown_key(key, &["suppression"], "a suppressions file");
                continue;
            }
            let DeValue::Array(items) = value.get_ref() else {
                if !src.lost(value) {
                    src.error(
                        &value.span(),
                        format!(
                            "`suppression` expects tables written `[[suppression]]`, found {}",
                            a_type(value.get_ref())
                        ),
                        None,
                    );
                }
                continue;
            };
            for item in items.iter() {
                if let Some(s) = suppression(&mut src, item) {
                    out.entries.push(s);
                }
            }
        }
        if src.errors.is_empty() {
            Ok(out)
        } else {
            Err(PolicyErrors::sorted(src.errors))
        }
    }
}

fn suppression(src: &mut SourceText<'_>, item: &Value<'_>) -> Option<Suppression> {
    let DeValue::Table(table) = item.get_ref() else {
        if !src.lost(item) {
            src.error(
                &item.span(),
                format!(
                    "a suppression is a table written `[[suppression]]`, found {}",
                    a_type(item.get_ref())
                ),
                None,
            );
        }
        return None;
    };
    let mut s = Suppression {
        checks: Vec::new(),
        resources: Vec::new(),
        tags: Vec::new(),
        reason: String::new(),
        expires: Day::today(),
        location: src.location(item.span().start),
    };
    let (mut reason, mut expires) = (false, false);
    for (key, v) in table.iter() {
        match key.get_ref().as_ref() {
            "check" => {
                s.checks = src
                    .strings(v, "check", "a check id or a list of them")
                    .into_iter()
                    .map(|(c, _)| c)
                    .collect()
            }
            "resource" => {
                s.resources = src
                    .strings(v, "resource", "an AWS resource id or a list of them")
                    .into_iter()
                    .map(|(c, _)| c)
                    .collect()
            }
            "tag" => {
                for (t, span) in
                    src.strings(v, "tag", "a tag `Key=Value` (or `Key`) or a list of them")
                {
                    match t.split_once('=') {
                        _ if t.trim().is_empty() || t.starts_with('=') => src.error(
                            &span,
                            format!(
                                "`{}` is not a tag: expected `Key=Value` or `Key`",
                                crate::render::sanitize(&t)
                            ),
                            None,
                        ),
                        Some((k, val)) => s.tags.push((k.to_string(), Some(val.to_string()))),
                        None => s.tags.push((t, None)),
                    }
                }
            }
            "reason" => {
                reason = true;
                if let Some(r) = src.string(v, "reason", "a string saying why the risk is accepted")
                {
                    if r.trim().is_empty() {
                        src.error(
                            &v.span(),
                            "`reason` is empty",
                            Some("say why the risk is accepted, and who accepted it".into()),
                        );
                    }
                    s.reason = r;
                }
            }
            "expires" => {
                expires = true;
                if let Some(d) = expiry(src, v) {
                    s.expires = d;
                }
            }
            _ => src.unknown_key(key, SUPPRESSION_KEYS, "a suppression"),
        }
    }
    let mut missing = Vec::new();
    if !reason {
        missing.push("`reason`");
    }
    if !expires {
        missing.push("`expires`");
    }
    if !missing.is_empty() && !src.had_syntax_errors {
        src.error(
            &item.span(),
            format!("this suppression has no {}", missing.join(", ")),
            None,
        );
    }
    let has = |k: &str| table.iter().any(|(key, _)| key.get_ref() == k);
    if !has("check") && !has("resource") && !has("tag") && !src.had_syntax_errors {
        src.error(
            &item.span(),
            "this suppression has no `check`, `resource` or `tag`",
            Some("one with none would hide every finding".into()),
        );
    }
    Some(s)
}

fn expiry(src: &mut SourceText<'_>, v: &Value<'_>) -> Option<Day> {
    if src.lost(v) {
        return None;
    }
    let text = match v.get_ref() {
        DeValue::Datetime(d) => match (d.date, d.time) {
            (Some(date), None) => return Day::from_ymd(i32::from(date.year), date.month, date.day),
            _ => d.to_string(),
        },
        DeValue::String(s) => s.to_string(),
        other => {
            src.error(
                &v.span(),
                format!(
                    "`expires` expects a date like `2026-12-31`, found {}",
                    a_type(other)
                ),
                None,
            );
            return None;
        }
    };
    match text.parse::<Day>() {
        Ok(d) => Some(d),
        Err(()) => {
            src.error(
                &v.span(),
                format!(
                    "`expires` expects a date like `2026-12-31`, found `{}`",
                    crate::render::sanitize(&text)
                ),
                None,
            );
            None
        }
    }
}

/// A finding of a previous run, as its JSON report gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousFinding {
    /// Its stable id.
    pub id: String,
    /// Its check.
    #[serde(default)]
    pub check: String,
    /// Its severity.
    #[serde(default)]
    pub severity: Option<Severity>,
    /// Its status, as written.
    #[serde(default)]
    pub status: String,
    /// Its resources.
    #[serde(default)]
    pub resources: Vec<String>,
    /// The ENIs it affected (empty in a report made before findings were grouped by cause, and
    /// for findings about a resource alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enis: Vec<String>,
    /// Its message.
    #[serde(default)]
    pub message: String,
}

/// The findings of a previous run (`--baseline`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Baseline {
    /// The file it was read from.
    pub path: PathBuf,
    /// Its findings.
    pub findings: Vec<PreviousFinding>,
}

/// Why a baseline could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file could not be read.
    #[error("{path}: cannot read the baseline: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        /// It is part of the message, not also the error's `source()`, so that a printed
        /// chain says it once.
        error: std::io::Error,
    },
    /// The JSON is malformed or not a report.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was expected.
        message: String,
    },
}

#[derive(Deserialize)]
struct BaselineDoc {
    findings: Vec<PreviousFinding>,
}

impl Baseline {
    /// Reads a previous run's `--output json` report.
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|source| BaselineError::Read {
            path: path.display().to_string(),
            error: source,
        })?;
        Baseline::parse(path, &text)
    }

    /// Reads a previous run's report from its text.
    pub fn parse(path: &Path, text: &str) -> Result<Baseline, BaselineError> {
        if text.trim().is_empty() {
            // serde_json would say "EOF while parsing" at column 0.
            return Err(BaselineError::Invalid {
                path: path.display().to_string(),
                line: 1,
                column: 1,
                message: "the file is empty: expected the JSON report of a previous `vpcreach audit --output json`".into(),
            });
        }
        match serde_json::from_str::<BaselineDoc>(text) {
            Ok(doc) => Ok(Baseline {
                path: path.to_path_buf(),
                findings: doc.findings,
            }),
            Err(e) => Err(BaselineError::Invalid {
                path: path.display().to_string(),
                line: e.line(),
                // Columns are 1-based; serde_json gives 0 at the start of a line.
                column: e.column().max(1),
                message: format!(
                    "expected the JSON report of a previous `vpcreach audit --output json`: {}",
                    lower_first(&e.to_string())
                ),
            }),
        }
    }
}

fn lower_first(s: &str) -> String {
    // serde_json appends " at line L column C": the location is already given.
    let s = s.split(" at line ").next().unwrap_or(s);
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// How a finding compares with the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    /// Not in the baseline.
    New,
    /// In the baseline too.
    Unchanged,
}

/// The suppression that hides (or, expired, no longer hides) a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressionInfo {
    /// Why the risk was accepted.
    pub reason: String,
    /// The last day it applies.
    pub expires: Day,
    /// Where it is written (`file:line:column`).
    pub at: String,
}

/// A finding as reported: the analysis's finding and how it compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportedFinding {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// With a baseline: new or unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineState>,
    /// The suppression in force that hides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<SuppressionInfo>,
    /// A suppression that matched but has expired (so the finding is not hidden).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expired_suppression: Option<SuppressionInfo>,
    /// ENIs taken out of the finding's group by a suppression in force (by ENI, instance or
    /// tag), each with the suppression; the finding's `enis` are the others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppressed_enis: Vec<SuppressedEni>,
    /// Whether it fails the run (not suppressed, at or above `--fail-on`, new when there is a
    /// baseline).
    pub failing: bool,
}

/// An ENI taken out of a grouped finding by a suppression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuppressedEni {
    /// The ENI.
    pub eni: String,
    /// The suppression.
    #[serde(flatten)]
    pub suppression: SuppressionInfo,
}

/// What a check is, for SARIF rules and the Markdown report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// The check id.
    pub id: String,
    /// What it means.
    pub description: String,
    /// Its severity (the statement's; for built-in checks the highest of their findings).
    pub severity: Severity,
    /// The statement's kind; `None` for built-in checks.
    pub kind: Option<Kind>,
    /// Where the statement is written; `None` for built-in checks.
    pub location: Option<Location>,
}

/// Counts for the reader and for dashboards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Findings listed (suppressed included).
    pub findings: usize,
    /// Findings not suppressed.
    pub open: usize,
    /// Findings hidden by a suppression in force.
    pub suppressed: usize,
    /// Findings that fail the run.
    pub failing: usize,
    /// The `--fail-on` threshold.
    pub fail_on: Severity,
    /// Open findings by severity (every level present).
    pub by_severity: BTreeMap<&'static str, usize>,
    /// Open findings by status.
    pub by_status: BTreeMap<&'static str, usize>,
    /// With a baseline: new, unchanged and resolved counts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineCounts>,
    /// Statements evaluated.
    pub statements: usize,
    /// ENIs considered.
    pub interfaces: usize,
    /// The analyses' remarks.
    pub notes: Vec<String>,
}

/// New, unchanged and resolved counts against a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BaselineCounts {
    /// Findings not in the baseline.
    pub new: usize,
    /// Findings also in the baseline.
    pub unchanged: usize,
    /// Baseline findings gone now.
    pub resolved: usize,
}

/// One run's report. `--output json` is this value serialized.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The findings, highest severity first.
    pub findings: Vec<ReportedFinding>,
    /// With a baseline: its findings that are gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Vec<PreviousFinding>>,
    /// Counts.
    pub summary: Summary,
    /// Things the reader must act on besides findings (expired or unused suppressions).
    pub warnings: Vec<String>,
    /// Inputs that could not be read; when there are any the report is incomplete.
    pub errors: Vec<String>,
    /// Whether every input was read (no `errors`).
    pub complete: bool,
    /// The checks, for renderers that describe them (SARIF rules).
    #[serde(skip)]
    pub rules: Vec<Rule>,
}

/// How to build a report.
#[derive(Debug, Clone, Copy)]
pub struct ReportOptions<'a> {
    /// Fail on findings at or above this severity.
    pub fail_on: Severity,
    /// Today (suppressions apply through their expiry day).
    pub today: Day,
    /// A previous run to compare with.
    pub baseline: Option<&'a Baseline>,
    /// Accepted risks.
    pub suppressions: Option<&'a Suppressions>,
    /// Resource tags, for suppressions by tag.
    pub tags: &'a ResourceTags,
}

/// Descriptions of the analyses' own checks (those that no statement defines).
fn builtin_description(check: &str) -> String {
    match check {
        "default-security-group" => {
            "the default security group of every VPC restricts all traffic (CIS AWS Foundations 5.4)".into()
        }
        "vpc-bpa-exclusion" => {
            "VPC Block Public Access exclusions and what each lets through the blocked internet gateways".into()
        }
        "lb-target-unreachable" => {
            "every node of a load balancer reaches each registered target on its traffic and health-check ports".into()
        }
        "lb-client-address-dropped" => {
            "targets that see preserved client addresses (NLB) let the clients in, not only the health checks".into()
        }
        "unused-rule" => {
            "security-group and network ACL rules that no flow-log record used in the window".into()
        }
        "least-privilege" => {
            "rules wider than the traffic that used them in the window (least-privilege suggestion)".into()
        }
        other => format!("vpcreach check `{other}`"),
    }
}

impl Report {
    /// Marks the findings against the baseline and the suppressions and decides which fail.
    pub fn build(result: AuditResult, policies: &PolicySet, opts: ReportOptions<'_>) -> Report {
        let previous: HashMap<&str, &PreviousFinding> = opts
            .baseline
            .map(|b| b.findings.iter().map(|f| (f.id.as_str(), f)).collect())
            .unwrap_or_default();
        let entries: &[Suppression] = opts.suppressions.map_or(&[], |s| s.entries.as_slice());
        let mut hits = vec![0usize; entries.len()];
        let mut findings = Vec::with_capacity(result.findings.len() + result.packed.len());
        let AuditResult {
            findings: analysed,
            statements,
            interfaces,
            notes,
            errors,
            mut warnings,
            packed,
        } = result;
        // Findings still packed are made whole one by one as they are reported (the caller may
        // have dropped the model): never all at once beside their reported form.
        let analysed = packed.merge_sorted(analysed);
        // A baseline made before grouping holds one finding per ENI: each maps to the grouped
        // finding of the same check and status that lists its ENI and names its security group.
        let mut legacy: HashMap<(&str, &str, &str), Vec<&PreviousFinding>> = HashMap::new();
        if let Some(b) = opts.baseline {
            for p in &b.findings {
                if let (true, Some(first)) = (p.enis.is_empty(), p.resources.first()) {
                    legacy
                        .entry((p.check.as_str(), p.status.as_str(), first.as_str()))
                        .or_default()
                        .push(p);
                }
            }
        }
        let mut mapped: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for mut f in analysed {
            let mut suppressed = None;
            let mut expired = None;
            let mut taken: BTreeMap<usize, SuppressionInfo> = BTreeMap::new();
            for (i, s) in entries.iter().enumerate() {
                let whole = s.matches(&f, opts.tags);
                let some = if whole {
                    Vec::new()
                } else {
                    s.matching_enis(&f, opts.tags)
                };
                if !whole && some.is_empty() {
                    continue;
                }
                hits[i] += 1;
                if s.active(opts.today) {
                    if whole {
                        suppressed.get_or_insert_with(|| s.info());
                    } else {
                        for e in some {
                            taken.entry(e).or_insert_with(|| s.info());
                        }
                    }
                } else if expired.is_none() {
                    expired = Some(s.info());
                }
            }
            let mut suppressed_enis = Vec::new();
            if suppressed.is_none() && !taken.is_empty() {
                if taken.len() == f.enis.len() {
                    // Every ENI of the group is suppressed: so is the finding.
                    suppressed = taken.values().next().cloned();
                } else {
                    let enis = std::mem::take(&mut f.enis);
                    for (i, e) in enis.into_iter().enumerate() {
                        match taken.remove(&i) {
                            Some(info) => suppressed_enis.push(SuppressedEni {
                                eni: e,
                                suppression: info,
                            }),
                            None => f.enis.push(e),
                        }
                    }
                    f.eni_count = f.enis.len();
                }
            }
            let baseline = opts.baseline.map(|_| {
                if previous.contains_key(f.id.as_str()) {
                    return BaselineState::Unchanged;
                }
                let mut hit = false;
                // A finding with a cause: grouped, or per ENI (`--group-by eni`).
                if f.grouped || !f.cause.is_empty() {
                    for e in &f.enis {
                        let key = (f.check.as_str(), f.status.as_str(), e.as_str());
                        for p in legacy.get(&key).into_iter().flatten() {
                            let same_cause = p
                                .resources
                                .iter()
                                .skip(1)
                                .filter(|r| !r.starts_with("eni-"))
                                .all(|r| f.resources.contains(r));
                            if same_cause {
                                mapped.insert(p.id.as_str());
                                hit = true;
                            }
                        }
                    }
                }
                if hit {
                    BaselineState::Unchanged
                } else {
                    BaselineState::New
                }
            });
            let failing = suppressed.is_none()
                && f.severity >= opts.fail_on
                && baseline != Some(BaselineState::Unchanged);
            findings.push(ReportedFinding {
                finding: f,
                baseline,
                expired_suppression: if suppressed.is_some() { None } else { expired },
                suppressed,
                suppressed_enis,
                failing,
            });
        }
        let checks: Vec<&str> = policies.statements().map(|(_, s)| s.id.as_str()).collect();
        for (s, n) in entries.iter().zip(&hits) {
            let at = where_(&s.location);
            if !s.active(opts.today) {
                warnings.push(format!(
                    "{at}: suppression expired on {} and no longer hides {n} finding(s) (reason: {})",
                    s.expires,
                    crate::render::sanitize(&s.reason)
                ));
            } else if *n == 0 {
                let mut w = format!("{at}: suppression matches no finding");
                for c in &s.checks {
                    if !checks.contains(&c.as_str()) {
                        if let Some(k) = closest(c, &checks) {
                            w.push_str(&format!(
                                " (check `{}`: did you mean `{k}`?)",
                                crate::render::sanitize(c)
                            ));
                        }
                    }
                }
                warnings.push(w);
            }
        }
        let resolved = opts.baseline.map(|b| {
            let now: std::collections::HashSet<&str> =
                findings.iter().map(|f| f.finding.id.as_str()).collect();
            b.findings
                .iter()
                .filter(|p| !now.contains(p.id.as_str()) && !mapped.contains(p.id.as_str()))
                .cloned()
                .collect::<Vec<_>>()
        });
        if let (Some(b), false) = (opts.baseline, mapped.is_empty()) {
            warnings.push(format!(
                "{}: the baseline lists findings per ENI (made before findings were grouped by cause): {} of them were matched to the grouped findings that list their ENI and name their security group; tonight's report is a baseline by cause",
                b.path.display(),
                mapped.len()
            ));
        }
        let rules = rules(policies, &findings);
        let mut summary = summarize(&findings, resolved.as_deref(), opts.fail_on);
        summary.statements = statements;
        summary.interfaces = interfaces;
        summary.notes = notes;
        Report {
            findings,
            resolved,
            summary,
            warnings,
            complete: errors.is_empty(),
            errors,
            rules,
        }
    }

    /// The findings that fail the run.
    pub fn failing(&self) -> impl Iterator<Item = &ReportedFinding> {
        self.findings.iter().filter(|f| f.failing)
    }

    /// The exit code of a run: 1 when a finding fails it, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.complete {
            2
        } else {
            u8::from(self.summary.failing > 0)
        }
    }
}

fn rules(policies: &PolicySet, findings: &[ReportedFinding]) -> Vec<Rule> {
    let mut rules: Vec<Rule> = policies
        .statements()
        .map(|(_, s)| Rule {
            id: s.id.clone(),
            description: s.description.clone(),
            severity: s.severity,
            kind: Some(s.kind),
            location: Some(s.location.clone()),
        })
        .collect();
    rules.extend(policies.checks.iter().map(|c| Rule {
        id: c.id.clone(),
        description: c.description.clone(),
        severity: c.severity,
        kind: None,
        location: Some(c.location.clone()),
    }));
    for f in findings {
        let f = &f.finding;
        match rules.iter_mut().find(|r| r.id == f.check) {
            Some(r) if r.kind.is_none() => r.severity = r.severity.max(f.severity),
            Some(_) => {}
            None => rules.push(Rule {
                id: f.check.clone(),
                description: builtin_description(&f.check),
                severity: f.severity,
                kind: None,
                location: None,
            }),
        }
    }
    rules
}

fn summarize(
    findings: &[ReportedFinding],
    resolved: Option<&[PreviousFinding]>,
    fail_on: Severity,
) -> Summary {
    let mut by_severity: BTreeMap<&'static str, usize> = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ]
    .iter()
    .map(|s| (s.as_str(), 0))
    .collect();
    let mut by_status: BTreeMap<&'static str, usize> = BTreeMap::new();
    let open: Vec<&ReportedFinding> = findings.iter().filter(|f| f.suppressed.is_none()).collect();
    for f in &open {
        *by_severity.entry(f.finding.severity.as_str()).or_default() += 1;
        *by_status.entry(f.finding.status.as_str()).or_default() += 1;
    }
    let baseline = resolved.map(|r| BaselineCounts {
        new: findings
            .iter()
            .filter(|f| f.baseline == Some(BaselineState::New))
            .count(),
        unchanged: findings
            .iter()
            .filter(|f| f.baseline == Some(BaselineState::Unchanged))
            .count(),
        resolved: r.len(),
    });
    Summary {
        findings: findings.len(),
        open: open.len(),
        suppressed: findings.len() - open.len(),
        failing: findings.iter().filter(|f| f.failing).count(),
        fail_on,
        by_severity,
        by_status,
        baseline,
        statements: 0,
        interfaces: 0,
        notes: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::FindingStatus;

    fn finding(check: &str, severity: Severity, resources: &[&str]) -> Finding {
        let resources: Vec<String> = resources.iter().map(|r| r.to_string()).collect();
        Finding {
            id: Finding::fingerprint(check, FindingStatus::Exposed, &resources),
            check: check.into(),
            severity,
            status: FindingStatus::Exposed,
            resources,
            witness: None,
            because: Vec::new(),
            message: "m".into(),
            ..Default::default()
        }
    }

    #[test]
    fn merging_keeps_one_of_each_id_highest_severity_first() {
        let a = AuditResult {
            findings: vec![finding("a", Severity::Low, &["eni-1"])],
            statements: 2,
            interfaces: 3,
            notes: vec!["n".into()],
            errors: vec![],
            warnings: vec![],
            packed: Default::default(),
        };
        let b = AuditResult {
            findings: vec![
                finding("a", Severity::Low, &["eni-1"]),
                finding("b", Severity::High, &["eni-2"]),
            ],
            statements: 2,
            interfaces: 4,
            notes: vec!["n".into(), "m".into()],
            errors: vec![],
            warnings: vec![],
            packed: Default::default(),
        };
        let m = merge(a, b);
        let checks: Vec<&str> = m.findings.iter().map(|f| f.check.as_str()).collect();
        assert_eq!(checks, ["b", "a"]);
        assert_eq!((m.statements, m.interfaces), (2, 4));
        assert_eq!(m.notes, ["n", "m"]);
    }

    #[test]
    fn suppressions_expire_after_their_day() {
        let s = Suppression {
            checks: vec![],
            resources: vec!["eni-1".into()],
            tags: vec![],
            reason: "r".into(),
            expires: Day::from_ymd(2026, 3, 1).unwrap_or_else(Day::today),
            location: Location::default(),
        };
        let day = |d| Day::from_ymd(2026, 3, d).unwrap_or_else(Day::today);
        assert!(s.active(day(1)));
        assert!(!s.active(day(2)));
    }
}
