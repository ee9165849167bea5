//! Reading policy files (TOML) with every mistake reported at once, with file, line and column.
//!
//! The TOML is read with `toml`'s span-keeping parser, which recovers from syntax errors, and
//! the document is then walked by hand rather than through `serde`: a derived deserializer stops
//! at the first mistake, and a person fixing a policy wants all of them.

use super::text::{a_type, did_you_mean, list, SourceText, Value};
use super::{
    Check, Group, Kind, Location, Mode, PolicyFile, PolicySet, Selector, Severity, Statement,
    Traffic,
};
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};

/// One mistake in a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// Where (line and column 0 when the mistake is about the whole file).
    pub location: Location,
    /// What was wrong and what was expected.
    pub message: String,
    /// A "did you mean", when a name is close to a known one.
    pub help: Option<String>,
    /// How many characters of the line the mistake spans (at least 1), for underlining.
    pub length: usize,
}

impl PolicyError {
    /// A mistake about a whole file (unreadable, not UTF-8).
    pub fn file(path: &Path, message: impl Into<String>) -> PolicyError {
        PolicyError {
            location: Location {
                file: path.to_path_buf(),
                line: 0,
                column: 0,
            },
            message: message.into(),
            help: None,
            length: 1,
        }
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = &self.location;
        if l.line == 0 {
            write!(f, "{}: {}", l.file.display(), self.message)?;
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                l.file.display(),
                l.line,
                l.column,
                self.message
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, " ({help})")?;
        }
        Ok(())
    }
}

impl std::error::Error for PolicyError {}

/// Every mistake found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} error(s) in the policies", errors.len())]
pub struct PolicyErrors {
    /// The mistakes, in file and line order.
    pub errors: Vec<PolicyError>,
}

impl PolicyErrors {
    /// The mistakes in file, line and column order.
    pub fn sorted(mut errors: Vec<PolicyError>) -> PolicyErrors {
        errors.sort_by(|a, b| {
            (&a.location.file, a.location.line, a.location.column).cmp(&(
                &b.location.file,
                b.location.line,
                b.location.column,
            ))
        });
        PolicyErrors { errors }
    }
}

const TOP_KEYS: &[&str] = &["mode", "unlisted_severity", "groups", "statement", "check"];
const CHECK_KEYS: &[&str] = &["id", "check", "description", "severity"];
const STATEMENT_KEYS: &[&str] = &[
    "id",
    "description",
    "severity",
    "kind",
    "from",
    "to",
    "traffic",
];
const SELECTOR_KEYS: &[&str] = &[
    "security_groups",
    "tags",
    "subnets",
    "vpcs",
    "enis",
    "instances",
    "cidrs",
    "prefix_lists",
];
const MODES: &[&str] = &["denylist", "allowlist"];
const SEVERITIES: &[&str] = &["low", "medium", "high", "critical"];
const KINDS: &[&str] = &["deny", "require", "allow"];
/// Group names every file knows.
pub const BUILTIN_GROUPS: &[&str] = &["internet", "any"];

impl PolicySet {
    /// Reads every `.toml` file of a folder and its sub-folders (or one file), in path order.
    /// Every mistake of every file is reported, and statement ids must be unique across files.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("a.toml"), r#"
    /// [[statement]]
    /// id = "no-ssh"
    /// description = "no SSH from the internet"
    /// severity = "high"
    /// kind = "deny"
    /// from = "internet"
    /// to = "any"
    /// traffic = "tcp/22"
    /// "#).unwrap();
    /// let set = vpcreach::policy::PolicySet::load(dir.path()).unwrap();
    /// assert_eq!(set.files[0].statements[0].id, "no-ssh");
    /// ```
    pub fn load(path: &Path) -> Result<PolicySet, PolicyErrors> {
        let (set, errors) = PolicySet::load_partial(path);
        if errors.errors.is_empty() {
            Ok(set)
        } else {
            Err(errors)
        }
    }

    /// Reads what it can of a folder's policies: what was readable (statements and groups
    /// without mistakes) and every mistake, sorted. Lets a checker go on with the readable part.
    pub fn load_partial(path: &Path) -> (PolicySet, PolicyErrors) {
        let mut errors = Vec::new();
        let mut warnings = Vec::new();
        let mut paths = Vec::new();
        if !path.exists() {
            errors.push(PolicyError::file(path, "no such file or folder"));
        } else if path.is_dir() {
            collect_toml(path, &mut paths, &mut errors, &mut warnings);
            if paths.is_empty() && errors.is_empty() {
                errors.push(PolicyError::file(
                    path,
                    "no `.toml` policy file in this folder",
                ));
            }
        } else {
            paths.push(path.to_path_buf());
        }
        paths.sort();
        let mut set = PolicySet {
            warnings,
            ..PolicySet::default()
        };
        for p in paths {
            let text = match std::fs::read(&p) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(t) => t,
                    Err(_) => {
                        errors.push(PolicyError::file(&p, "the file is not UTF-8 text"));
                        continue;
                    }
                },
                Err(e) => {
                    errors.push(PolicyError::file(&p, format!("cannot read the file: {e}")));
                    continue;
                }
            };
            let (file, file_errors) = parse_file(&p, &text, &mut set.checks);
            errors.extend(file_errors);
            set.files.push(file);
        }
        // Ids are unique across statements and checks of every file (two statements of one
        // file are reported by `parse_file`).
        let mut first: HashMap<&str, (&Location, bool)> = HashMap::new();
        let ids = set
            .files
            .iter()
            .flat_map(|f| &f.statements)
            .map(|s| (&s.id, &s.location, false));
        let check_ids = set.checks.iter().map(|c| (&c.id, &c.location, true));
        for (id, location, is_check) in ids.chain(check_ids) {
            match first.get(id.as_str()) {
                Some((l, was_check)) if l.file != location.file || is_check || *was_check => errors
                    .push(PolicyError {
                        location: location.clone(),
                        message: format!(
                            "duplicate statement id `{}`",
                            crate::render::sanitize(id)
                        ),
                        help: Some(format!(
                            "it is first used at {}:{}:{}; ids are unique across all policy files",
                            l.file.display(),
                            l.line,
                            l.column
                        )),
                        length: 1,
                    }),
                Some(_) => {} // reported by `parse_file`
                None => {
                    first.insert(id, (location, is_check));
                }
            }
        }
        (set, PolicyErrors::sorted(errors))
    }

    /// Every statement with its file.
    pub fn statements(&self) -> impl Iterator<Item = (&PolicyFile, &Statement)> {
        self.files
            .iter()
            .flat_map(|f| f.statements.iter().map(move |s| (f, s)))
    }
}

/// The policy files of a folder and below, walked as every folder is ([`crate::walk`]): what
/// is passed by (a FIFO, a link loop) is a warning, what cannot be read an error.
fn collect_toml(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    errors: &mut Vec<PolicyError>,
    warnings: &mut Vec<PolicyError>,
) {
    let walk = match crate::walk::walk(dir, |p| p.extension().is_some_and(|e| e == "toml")) {
        Ok(w) => w,
        Err(e) => {
            errors.push(PolicyError::file(
                dir,
                format!("cannot read the folder: {e}"),
            ));
            return;
        }
    };
    out.extend(walk.files);
    for (path, e) in walk.errors {
        errors.push(PolicyError::file(&path, format!("cannot read: {e}")));
    }
    for s in walk.skipped {
        warnings.push(PolicyError::file(s.path(), skip_reason(&s)));
    }
}

/// Why a walk passed an entry by, without its path (the location names it).
fn skip_reason(s: &crate::walk::Skipped) -> String {
    use crate::walk::Skipped;
    match s {
        Skipped::NotRegular { kind, .. } => format!("skipped: not a regular file ({kind})"),
        Skipped::Loop { target, .. } => format!(
            "skipped: a symbolic link loop back to `{}`",
            target.display()
        ),
        Skipped::Again { first, .. } => {
            format!("skipped: the same as `{}`, already read", first.display())
        }
        Skipped::Broken { .. } => "skipped: a broken symbolic link".into(),
        Skipped::NotWanted { expected, .. } => format!("skipped: not {expected}"),
    }
}

impl PolicyFile {
    /// Reads one policy file from its text; `path` is used in messages.
    ///
    /// ```
    /// use vpcreach::policy::PolicyFile;
    /// let err = PolicyFile::parse("p.toml".as_ref(), "mode = \"allowlst\"\n").unwrap_err();
    /// assert_eq!(err.errors[0].to_string(),
    ///     "p.toml:1:8: `mode` expects `denylist` or `allowlist`, found `allowlst` (did you mean `allowlist`?)");
    /// ```
    pub fn parse(path: &Path, text: &str) -> Result<PolicyFile, PolicyErrors> {
        let (file, errors) = parse_file(path, text, &mut Vec::new());
        if errors.is_empty() {
            Ok(file)
        } else {
            Err(PolicyErrors::sorted(errors))
        }
    }
}

/// Reads one file as far as it can: the file with whatever was readable, and every mistake.
fn parse_file(path: &Path, text: &str, checks: &mut Vec<Check>) -> (PolicyFile, Vec<PolicyError>) {
    let mut src = SourceText::new(path, text);
    let doc = src.parse();
    let mut file = PolicyFile {
        path: path.to_path_buf(),
        mode: Mode::default(),
        unlisted_severity: Severity::Medium,
        groups: Vec::new(),
        statements: Vec::new(),
    };
    let mut refs: Vec<(String, Range<usize>)> = Vec::new();
    for (key, value) in doc.get_ref().iter() {
        match key.get_ref().as_ref() {
            "mode" => {
                if let Some(m) = enum_value(&mut src, value, "mode", MODES) {
                    file.mode = if m == "allowlist" {
                        Mode::Allowlist
                    } else {
                        Mode::Denylist
                    };
                }
            }
            "unlisted_severity" => {
                if let Some(s) = enum_value(&mut src, value, "unlisted_severity", SEVERITIES) {
                    file.unlisted_severity = severity(&s);
                }
            }
            "groups" => groups(&mut src, value, &mut file.groups),
            "statement" => statements(&mut src, value, &mut file.statements, &mut refs),
            "check" => check_tables(&mut src, value, checks),
            _ => src.unknown_key(key, TOP_KEYS, "a policy file"),
        }
    }
    // Statements may name groups defined further down the file: resolve once all are read.
    let mut known: Vec<&str> = file.groups.iter().map(|g| g.name.as_str()).collect();
    known.extend(BUILTIN_GROUPS);
    for (name, span) in refs {
        if known.contains(&name.as_str()) {
            continue;
        }
        let help = match super::text::closest(&name, &known) {
            Some(k) => format!("did you mean `{k}`?"),
            None => format!(
                "groups are defined in the same file under `[groups.NAME]`; known here: {}",
                list(&known)
            ),
        };
        src.error(
            &span,
            format!("unknown group `{}`", crate::render::sanitize(&name)),
            Some(help),
        );
    }
    (file, src.errors)
}

fn severity(s: &str) -> Severity {
    match s {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "medium" => Severity::Medium,
        _ => Severity::Low,
    }
}

/// Reads a string that must be one of `allowed`.
fn enum_value(
    src: &mut SourceText<'_>,
    value: &Value<'_>,
    key: &str,
    allowed: &[&str],
) -> Option<String> {
    let expected = list(allowed);
    let s = src.string(value, key, &expected)?;
    if allowed.contains(&s.as_str()) {
        return Some(s);
    }
    src.error(
        &value.span(),
        format!(
            "`{key}` expects {expected}, found `{}`",
            crate::render::sanitize(&s)
        ),
        did_you_mean(&s, allowed),
    );
    None
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))
}

fn groups(src: &mut SourceText<'_>, value: &Value<'_>, out: &mut Vec<Group>) {
    let DeValue::Table(table) = value.get_ref() else {
        if !src.lost(value) {
            src.error(
                &value.span(),
                format!(
                    "`groups` expects a table of groups (`[groups.NAME]`), found {}",
                    a_type(value.get_ref())
                ),
                None,
            );
        }
        return;
    };
    for (name_key, body) in table.iter() {
        let name = name_key.get_ref().to_string();
        let shown = crate::render::sanitize(&name);
        if BUILTIN_GROUPS.contains(&name.as_str()) {
            src.error(
                &name_key.span(),
                format!("group `{shown}` is built in and cannot be redefined"),
                Some("choose another name".into()),
            );
            continue;
        }
        if !valid_name(&name) {
            src.error(
                &name_key.span(),
                format!("`{shown}` is not a valid group name: expected letters, digits, `-`, `_`, `.` or `:`"),
                None,
            );
        }
        let DeValue::Table(body_table) = body.get_ref() else {
            if !src.lost(body) {
                src.error(
                    &body.span(),
                    format!(
                        "group `{shown}` expects a table of selectors such as `tags = \"Tier=web\"`, found {}",
                        a_type(body.get_ref())
                    ),
                    None,
                );
            }
            continue;
        };
        let mut group = Group {
            name,
            selectors: Vec::new(),
            selector_locations: Vec::new(),
            location: src.location(body.span().start),
        };
        for (key, v) in body_table.iter() {
            let k = key.get_ref().as_ref();
            if !SELECTOR_KEYS.contains(&k) {
                src.unknown_key(key, SELECTOR_KEYS, &format!("group `{shown}`"));
                continue;
            }
            for (text, span) in src.strings(v, k, &selector_expected(k)) {
                if let Some(s) = selector(src, k, &text, &span) {
                    group.selectors.push(s);
                    group.selector_locations.push(src.location(span.start));
                }
            }
        }
        if body_table.iter().next().is_none() {
            src.error(
                &body.span(),
                format!("group `{shown}` selects nothing"),
                Some(format!("add one of {}", list(SELECTOR_KEYS))),
            );
        }
        out.push(group);
    }
}

fn selector_expected(key: &str) -> String {
    let what = match key {
        "security_groups" => "a security group id or name",
        "tags" => "a tag `Key=Value` (or `Key` for any value)",
        "subnets" => "a subnet id",
        "vpcs" => "a VPC id",
        "enis" => "an ENI id",
        "instances" => "an instance id",
        "cidrs" => "a CIDR",
        _ => "a prefix list id",
    };
    format!("{what} or a list of them")
}

/// The selector key whose ids start like `text`.
fn key_of_id(text: &str) -> Option<(&'static str, &'static str)> {
    [
        ("sg-", "security_groups"),
        ("subnet-", "subnets"),
        ("vpc-", "vpcs"),
        ("eni-", "enis"),
        ("i-", "instances"),
        ("pl-", "prefix_lists"),
    ]
    .into_iter()
    .find(|(p, _)| {
        text.strip_prefix(p).is_some_and(|r| {
            !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
    })
}

fn selector(
    src: &mut SourceText<'_>,
    key: &str,
    text: &str,
    span: &Range<usize>,
) -> Option<Selector> {
    let shown = crate::render::sanitize(text);
    let id =
        |prefix: &str, noun: &str, example: &str, src: &mut SourceText<'_>| -> Option<String> {
            match key_of_id(text) {
                Some((p, _)) if p == prefix => Some(text.to_string()),
                Some((_, other)) => {
                    src.error(
                        span,
                        format!("`{shown}` is not {noun}"),
                        Some(format!("it looks like an id for `{other}`: move it there")),
                    );
                    None
                }
                None => {
                    src.error(
                        span,
                        format!("`{shown}` is not {noun}: expected an id like `{example}`"),
                        None,
                    );
                    None
                }
            }
        };
    match key {
        "security_groups" => {
            if text.trim().is_empty() {
                src.error(span, "empty security group name", None);
                return None;
            }
            match key_of_id(text) {
                Some((_, other)) if other != "security_groups" => {
                    src.error(
                        span,
                        format!("`{shown}` is not a security group"),
                        Some(format!("it looks like an id for `{other}`: move it there")),
                    );
                    None
                }
                _ => Some(Selector::SecurityGroup(text.to_string())),
            }
        }
        "tags" => {
            let (k, v) = match text.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (text, None),
            };
            if k.trim().is_empty() {
                src.error(
                    span,
                    format!("`{shown}` is not a tag: expected `Key=Value` or `Key`"),
                    None,
                );
                return None;
            }
            Some(Selector::Tag {
                key: k.to_string(),
                value: v,
            })
        }
        "subnets" => {
            id("subnet-", "a subnet id", "subnet-0159ec2fddce7b80c", src).map(Selector::Subnet)
        }
        "vpcs" => id("vpc-", "a VPC id", "vpc-0bf0174f4733eeaf8", src).map(Selector::Vpc),
        "enis" => id("eni-", "an ENI id", "eni-0de1a09baeda39360", src).map(Selector::Eni),
        "instances" => {
            id("i-", "an instance id", "i-09c59af6d96b75e39", src).map(Selector::Instance)
        }
        "prefix_lists" => {
            id("pl-", "a prefix list id", "pl-02cd2c6b", src).map(Selector::PrefixList)
        }
        _ => cidr(src, text, span).map(Selector::Cidr),
    }
}

fn cidr(src: &mut SourceText<'_>, text: &str, span: &Range<usize>) -> Option<ipnet::IpNet> {
    let shown = crate::render::sanitize(text);
    match text.trim().parse::<ipnet::IpNet>() {
        Ok(net) if net.trunc() == net => Some(net),
        Ok(net) => {
            src.error(
                span,
                format!("`{shown}` has bits set after its prefix length"),
                Some(format!("did you mean `{}`?", net.trunc())),
            );
            None
        }
        Err(_) => {
            let help = text.trim().parse::<std::net::IpAddr>().ok().map(|ip| {
                let len = if ip.is_ipv4() { 32 } else { 128 };
                format!("did you mean `{ip}/{len}`?")
            });
            src.error(
                span,
                format!("`{shown}` is not a CIDR: expected e.g. `10.0.0.0/16` or `2001:db8::/32`"),
                help,
            );
            None
        }
    }
}

fn statements(
    src: &mut SourceText<'_>,
    value: &Value<'_>,
    out: &mut Vec<Statement>,
    refs: &mut Vec<(String, Range<usize>)>,
) {
    let items: Vec<&Value<'_>> = match value.get_ref() {
        DeValue::Array(a) => a.iter().collect(),
        _ => {
            if !src.lost(value) {
                src.error(
                    &value.span(),
                    format!(
                        "`statement` expects tables written `[[statement]]`, found {}",
                        a_type(value.get_ref())
                    ),
                    None,
                );
            }
            return;
        }
    };
    let mut seen: HashMap<String, Location> = HashMap::new();
    for item in items {
        let DeValue::Table(table) = item.get_ref() else {
            if !src.lost(item) {
                src.error(
                    &item.span(),
                    format!(
                        "a statement is a table written `[[statement]]`, found {}",
                        a_type(item.get_ref())
                    ),
                    None,
                );
            }
            continue;
        };
        if let Some(s) = statement(src, item.span(), table, refs) {
            if let Some(first) = seen.get(&s.id) {
                let help = format!("it is first used at line {}", first.line);
                src.errors.push(super::PolicyError {
                    location: s.location.clone(),
                    message: format!(
                        "duplicate statement id `{}`",
                        crate::render::sanitize(&s.id)
                    ),
                    help: Some(help),
                    length: 1,
                });
            } else {
                seen.insert(s.id.clone(), s.location.clone());
            }
            out.push(s);
        }
    }
}

fn statement(
    src: &mut SourceText<'_>,
    span: Range<usize>,
    table: &DeTable<'_>,
    refs: &mut Vec<(String, Range<usize>)>,
) -> Option<Statement> {
    let mut id = None;
    let mut description = None;
    let mut sev = None;
    let mut kind = None;
    let mut from = None;
    let mut to = None;
    let mut traffic: Option<Vec<Traffic>> = None;
    for (key, v) in table.iter() {
        match key.get_ref().as_ref() {
            "id" => {
                let Some(s) = src.string(v, "id", "a string such as `no-internet-ssh`") else {
                    continue;
                };
                if valid_name(&s) {
                    id = Some(s);
                } else {
                    src.error(
                        &v.span(),
                        format!(
                            "`{}` is not a valid statement id: expected letters, digits, `-`, `_`, `.` or `:`",
                            crate::render::sanitize(&s)
                        ),
                        None,
                    );
                }
            }
            "description" => {
                if let Some(s) = src.string(v, "description", "a string") {
                    if s.trim().is_empty() {
                        src.error(
                            &v.span(),
                            "`description` is empty",
                            Some("say what the statement means".into()),
                        );
                    }
                    description = Some(s);
                }
            }
            "severity" => sev = enum_value(src, v, "severity", SEVERITIES).map(|s| severity(&s)),
            "kind" => {
                kind = enum_value(src, v, "kind", KINDS).map(|k| match k.as_str() {
                    "deny" => Kind::Deny,
                    "require" => Kind::Require,
                    _ => Kind::Allow,
                })
            }
            "from" | "to" => {
                let k = key.get_ref().as_ref();
                let names = src.strings(v, k, "a group name or a list of group names");
                let list: Vec<String> = names.iter().map(|(n, _)| n.clone()).collect();
                refs.extend(names);
                if k == "from" {
                    from = Some(list);
                } else {
                    to = Some(list);
                }
            }
            "traffic" => {
                let mut all = Vec::new();
                for (text, span) in src.strings(
                    v,
                    "traffic",
                    "`tcp/22`, `udp/53`, `tcp/1024-65535`, `icmp`, `all` or a list of them",
                ) {
                    match text.parse::<Traffic>() {
                        Ok(t) => all.push(t),
                        Err(e) => src.error(&span, e.message, e.help),
                    }
                }
                traffic = Some(all);
            }
            _ => src.unknown_key(key, STATEMENT_KEYS, "a statement"),
        }
    }
    let location = src.location(span.start);
    let mut missing: Vec<&str> = Vec::new();
    let mut need = |present: bool, key: &'static str| {
        if !present {
            missing.push(key);
        }
    };
    let has = |k: &str| table.iter().any(|(key, _)| key.get_ref() == k);
    need(has("id"), "id");
    need(has("description"), "description");
    need(has("kind"), "kind");
    // `allow` statements make no findings of their own, so their severity may be left out.
    need(has("severity") || kind == Some(Kind::Allow), "severity");
    need(has("from"), "from");
    need(has("to"), "to");
    need(has("traffic"), "traffic");
    if !missing.is_empty() && !src.had_syntax_errors {
        let names: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
        let label = id
            .as_deref()
            .map(|i| format!("statement `{}`", crate::render::sanitize(i)))
            .unwrap_or_else(|| "this statement".into());
        src.error(&span, format!("{label} has no {}", names.join(", ")), None);
    }
    Some(Statement {
        id: id?,
        description: description?,
        severity: sev.or((kind == Some(Kind::Allow)).then_some(Severity::Low))?,
        kind: kind?,
        from: from?,
        to: to?,
        traffic: traffic?,
        location,
    })
}

/// Reads `[[check]]` tables: a built-in check turned on with its id, description and severity.
fn check_tables(src: &mut SourceText<'_>, value: &Value<'_>, out: &mut Vec<Check>) {
    let DeValue::Array(items) = value.get_ref() else {
        if !src.lost(value) {
            src.error(
                &value.span(),
                format!(
                    "`check` expects tables written `[[check]]`, found {}",
                    a_type(value.get_ref())
                ),
                None,
            );
        }
        return;
    };
    for item in items.iter() {
        let DeValue::Table(table) = item.get_ref() else {
            if !src.lost(item) {
                src.error(
                    &item.span(),
                    format!(
                        "a check is a table written `[[check]]`, found {}",
                        a_type(item.get_ref())
                    ),
                    None,
                );
            }
            continue;
        };
        let (mut id, mut check, mut description, mut sev) = (None, None, None, None);
        for (key, v) in table.iter() {
            match key.get_ref().as_ref() {
                "id" => {
                    let Some(s) = src.string(v, "id", "a string such as `cis-3.7-vpc-flow-logs`")
                    else {
                        continue;
                    };
                    if valid_name(&s) {
                        id = Some(s);
                    } else {
                        src.error(
                            &v.span(),
                            format!(
                                "`{}` is not a valid check id: expected letters, digits, `-`, `_`, `.` or `:`",
                                crate::render::sanitize(&s)
                            ),
                            None,
                        );
                    }
                }
                "check" => check = enum_value(src, v, "check", super::CHECKS),
                "description" => description = src.string(v, "description", "a string"),
                "severity" => {
                    sev = enum_value(src, v, "severity", SEVERITIES).map(|s| severity(&s))
                }
                _ => src.unknown_key(key, CHECK_KEYS, "a check"),
            }
        }
        let span = item.span();
        let missing: Vec<String> = CHECK_KEYS
            .iter()
            .filter(|k| !table.iter().any(|(key, _)| key.get_ref() == **k))
            .map(|k| format!("`{k}`"))
            .collect();
        if !missing.is_empty() && !src.had_syntax_errors {
            src.error(
                &span,
                format!("this check has no {}", missing.join(", ")),
                None,
            );
        }
        if let (Some(id), Some(check), Some(description), Some(severity)) =
            (id, check, description, sev)
        {
            out.push(Check {
                id,
                check,
                description,
                severity,
                location: src.location(span.start),
            });
        }
    }
}
