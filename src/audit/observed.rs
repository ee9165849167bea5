//! The observed audit: intended policy against flow-log records. Accepted records that a `deny`
//! covers (`violation`), accepted records outside every `allow` in allowlist mode
//! (`unexpected`), `require` traffic seen only as REJECT (`broken`), and rules of the ENIs seen
//! that no record used (`unused`, with the window's length), with least-privilege suggestions.

use super::analysis::{
    finding, groups_of, resolve_all, sort, AuditError, AuditResult, Endpoints, FlowOptions,
};
use super::{FindingStatus, Witness};
use crate::coverage::{Capture, Coverage};
use crate::explain::{Explainer, Facts, MemoPool, Step, Tally};
use crate::flow_log::{run_ordered, Action, ChunkReader, Counts};
use crate::network::Network;
use crate::policy::{Kind, Mode, PolicyFile, PolicySet, Severity, Statement, Traffic};
use crate::protocol::Protocol;
use crate::security_group::Direction;
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

struct Resolved {
    stmt: usize,
    from: Endpoints,
    to: Endpoints,
}

#[derive(Default)]
struct Observed {
    /// (statement, destination, status) → (count, first witness, file:line).
    hits: HashMap<(usize, String, FindingStatus), (u64, Witness, String)>,
    /// require statement → (accepted, rejected) per destination.
    require: HashMap<(usize, String), (u64, u64, Witness, String)>,
    tally: Tally,
    counts: Counts,
    /// Inputs that could not be read.
    errors: Vec<String>,
    /// Folder entries passed by (a FIFO, a link loop, a file without a log's name).
    warnings: Vec<String>,
    /// ENIs with an `ACCEPT` record: their logs keep accepted traffic.
    accept_seen: std::collections::HashSet<usize>,
}

fn traffic_covers(t: &Traffic, proto: u8, port: Option<u16>) -> bool {
    match t.protocol {
        Protocol::All => true,
        Protocol::Number(n) => {
            n == proto && (!t.protocol.has_ports() || port.is_some_and(|p| t.ports.contains(p)))
        }
    }
}

/// The statements of a policy set with their ends resolved against the network.
struct Statements<'p> {
    policies: &'p PolicySet,
    /// Every statement with its file, in file order.
    list: Vec<(&'p PolicyFile, &'p Statement)>,
    /// The statements whose ends resolve (a statement naming an unknown group has none).
    resolved: Vec<Resolved>,
    /// The files in allowlist mode (indexes into `policies.files`).
    allowlist_files: Vec<usize>,
}

impl<'p> Statements<'p> {
    fn new(net: &Network, policies: &'p PolicySet) -> Statements<'p> {
        let list: Vec<(&PolicyFile, &Statement)> = policies
            .files
            .iter()
            .flat_map(|f| f.statements.iter().map(move |s| (f, s)))
            .collect();
        let resolved = list
            .iter()
            .enumerate()
            .filter_map(|(i, (f, s))| {
                let from = groups_of(f, &s.from).ok()?;
                let to = groups_of(f, &s.to).ok()?;
                Some(Resolved {
                    stmt: i,
                    from: resolve_all(net, &from),
                    to: resolve_all(net, &to),
                })
            })
            .collect();
        let allowlist_files = policies
            .files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.mode == Mode::Allowlist)
            .map(|(i, _)| i)
            .collect();
        Statements {
            policies,
            list,
            resolved,
            allowlist_files,
        }
    }

    /// Notes what one explained request says about the statements: a `deny` it breaks, a
    /// `require` it serves or fails, or (accepted, in an allowlist file) that no `allow` covers it.
    fn see(
        &self,
        net: &Network,
        o: &mut Observed,
        f: &Facts,
        (eni, dir, peer, proto): (usize, Direction, IpAddr, u8),
        file: &Path,
        line: u64,
    ) {
        let port = f.dstport;
        let accepted = f.action == Some(Action::Accept);
        // Who is the source and who the destination, as the policy sees them.
        let (src_eni, src_ip, dst_eni, dst_ip) = match dir {
            Direction::Inbound => (
                net.eni_by_private_ip(peer, None),
                peer,
                Some(eni),
                f.dstaddr,
            ),
            Direction::Outbound => (
                Some(eni),
                f.srcaddr.unwrap_or(peer),
                net.eni_by_private_ip(peer, None),
                Some(peer),
            ),
        };
        let Some(dst_ip) = dst_ip else { return };
        let in_from = |r: &Resolved| match src_eni {
            Some(s) => r.from.contains_eni(s),
            None => !in_snapshot(net, src_ip) && r.from.contains_outside(src_ip),
        };
        let in_to = |r: &Resolved| match dst_eni {
            Some(d) => r.to.contains_eni(d),
            None => !in_snapshot(net, dst_ip) && r.to.contains_outside(dst_ip),
        };
        let dst_key = || {
            dst_eni
                .map(|d| net.enis[d].id.clone())
                .unwrap_or_else(|| dst_ip.to_string())
        };
        // The witness and its place, written only for the first hit of a finding.
        let w = || Witness {
            src: src_ip.to_string(),
            dst: dst_ip.to_string(),
            protocol: Protocol::Number(proto).to_string(),
            port: port.filter(|_| Protocol::Number(proto).has_ports()),
        };
        let at = || format!("{}:{}", file.display(), line);
        let mut covered_by_allow: HashMap<usize, bool> = HashMap::new();
        for r in &self.resolved {
            let (file, st) = self.list[r.stmt];
            if !st.traffic.iter().any(|t| traffic_covers(t, proto, port))
                || !in_from(r)
                || !in_to(r)
            {
                continue;
            }
            match st.kind {
                Kind::Deny if accepted => {
                    let entry = o
                        .hits
                        .entry((r.stmt, dst_key(), FindingStatus::Violation))
                        .or_insert_with(|| (0, w(), at()));
                    entry.0 += 1;
                }
                Kind::Require => {
                    let entry = o
                        .require
                        .entry((r.stmt, dst_key()))
                        .or_insert_with(|| (0, 0, w(), at()));
                    if accepted {
                        entry.0 += 1;
                    } else {
                        entry.1 += 1;
                    }
                }
                Kind::Allow => {
                    if let Some(fi) = self
                        .policies
                        .files
                        .iter()
                        .position(|f| std::ptr::eq(f, file))
                    {
                        covered_by_allow.insert(fi, true);
                    }
                }
                Kind::Deny => {}
            }
        }
        if accepted {
            for &fi in &self.allowlist_files {
                if !covered_by_allow.contains_key(&fi) {
                    let witness = w();
                    let key = (
                        usize::MAX - fi,
                        format!(
                            "{} {}{}",
                            dst_key(),
                            witness.protocol,
                            witness.port.map(|p| format!("/{p}")).unwrap_or_default()
                        ),
                        FindingStatus::Unexpected,
                    );
                    let entry = o.hits.entry(key).or_insert_with(|| (0, witness, at()));
                    entry.0 += 1;
                }
            }
        }
    }
}

/// Whether an address belongs to an ENI of the snapshot (privately or publicly).
fn in_snapshot(net: &Network, ip: IpAddr) -> bool {
    net.eni_by_private_ip(ip, None).is_some() || net.eni_by_public_ip(ip).is_some()
}

impl Observed {
    /// Adds what another part of the logs observed.
    fn merge(&mut self, o: Observed) {
        self.accept_seen.extend(o.accept_seen);
        self.counts += o.counts;
        self.tally.merge(o.tally);
        for (k, v) in o.hits {
            let e = self.hits.entry(k).or_insert((0, v.1.clone(), v.2.clone()));
            e.0 += v.0;
        }
        for (k, v) in o.require {
            let e = self
                .require
                .entry(k)
                .or_insert((0, 0, v.2.clone(), v.3.clone()));
            e.0 += v.0;
            e.1 += v.1;
        }
    }

    /// The window the records span, in seconds.
    fn window(&self) -> u64 {
        self.tally
            .window
            .map(|(a, b)| b.saturating_sub(a))
            .unwrap_or(0)
    }
}

/// Reads and explains every flow-log record (on every core), noting for each request what it
/// says about the statements.
fn observe(
    net: &Network,
    stmts: &Statements<'_>,
    flows: &FlowOptions,
) -> Result<Observed, AuditError> {
    let explainer = Explainer::new(net);
    let reader =
        ChunkReader::new(flows.paths.clone(), flows.format.clone()).with_threads(flows.threads);
    let memos = MemoPool::default();
    let work = |item: Result<crate::flow_log::Chunk, crate::flow_log::ReadError>| {
        item.map(|chunk| {
            let mut o = Observed::default();
            let counts = memos.with(|memo| {
                explainer.for_each_in_chunk(&chunk, memo, |_, step| {
                    let (e, f, line) = match step {
                        Step::Record(core, facts, at) => (core, facts, at.line),
                        Step::Malformed(bad) => {
                            o.tally.add(&explainer.malformed(bad), None);
                            return;
                        }
                    };
                    o.tally.add_core(e, f);
                    if let (Some(eni), Some(Action::Accept)) = (e.eni, f.action) {
                        o.accept_seen.insert(eni);
                    }
                    let (Some(eni), Some(dir), Some(peer), Some(proto)) =
                        (e.eni, e.direction, e.peer, f.protocol)
                    else {
                        return;
                    };
                    if e.role != Some(crate::explain::Role::Request) || f.action.is_none() {
                        return;
                    }
                    stmts.see(net, &mut o, f, (eni, dir, peer, proto), &chunk.file, line);
                })
            });
            o.counts = counts;
            o
        })
    };
    let mut total = Observed::default();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let _flow = run_ordered(reader, flows.threads, work, |item| {
        match item {
            Ok(o) => total.merge(o),
            Err(e) if e.is_warning() => warnings.push(e.to_string()),
            Err(e) => errors.push(e.to_string()),
        }
        std::ops::ControlFlow::Continue(())
    })
    .map_err(|e| AuditError::Flows(e.to_string()))?;
    total.errors = errors;
    total.warnings = warnings;
    Ok(total)
}

/// Checks every statement against observed traffic: accepted records a `deny` covers
/// (`violation`), accepted records outside every `allow` in allowlist mode (`unexpected`),
/// `require` traffic seen only as REJECT (`broken`), and rules of the ENIs seen that no record
/// used (`unused`, with the window's length).
///
/// Without the flow-log configuration (`coverage`), what an ENI's logs keep is known only from
/// its records (an `ACCEPT` record shows they keep accepted traffic).
pub fn observed_audit(
    net: &Network,
    policies: &PolicySet,
    flows: &FlowOptions,
) -> Result<AuditResult, AuditError> {
    observed_audit_with(net, policies, flows, None)
}

/// [`observed_audit`] with the flow-log coverage of the snapshot ([`Coverage::of`] of the
/// snapshot `net` was built from): a rule is called unused only when every ENI it applies to
/// has logs that keep the traffic it would pass (`ALL`, or `ACCEPT` for allow rules) and lost
/// no window (SKIPDATA) in the period; otherwise the finding says it could not be judged, and
/// why.
pub fn observed_audit_with(
    net: &Network,
    policies: &PolicySet,
    flows: &FlowOptions,
    coverage: Option<&Coverage>,
) -> Result<AuditResult, AuditError> {
    let stmts = Statements::new(net, policies);
    let mut total = observe(net, &stmts, flows)?;
    let window = total.window();
    let mut res = AuditResult {
        statements: stmts.list.len(),
        interfaces: total.tally.enis_seen.len(),
        ..Default::default()
    };
    let seen = total.tally.enis_seen.len();
    let lost = total.tally.skipdata_by_eni.len();
    res.notes.push(format!(
        "observed: {} records read ({} malformed), {seen} interfaces seen of the snapshot's {} ({}), {lost} with lost windows (SKIPDATA), a window of {window} s",
        total.counts.read,
        total.counts.malformed,
        net.enis.len(),
        share(seen, net.enis.len()),
    ));
    res.errors = std::mem::take(&mut total.errors);
    res.warnings = std::mem::take(&mut total.warnings);
    for (eni, n) in total.tally.lost_windows(net) {
        res.notes.push(format!(
            "records lost at {eni}: {n} window(s) of SKIPDATA; what was observed there is incomplete"
        ));
    }
    let judge = Judge::new(
        net,
        coverage,
        &total.accept_seen,
        &total.tally.skipdata_by_eni,
    );
    usage_findings(net, &total.tally, window, &judge, &mut res);
    statement_findings(&stmts, total.hits, total.require, &mut res);
    sort(&mut res.findings);
    Ok(res)
}

/// The findings of the statements: violations, unexpected traffic, broken requirements.
fn statement_findings(
    stmts: &Statements<'_>,
    hits: HashMap<(usize, String, FindingStatus), (u64, Witness, String)>,
    require: HashMap<(usize, String), (u64, u64, Witness, String)>,
    res: &mut AuditResult,
) {
    for ((si, dst, status), (count, w, at)) in hits {
        if si > usize::MAX - stmts.policies.files.len() - 1 {
            let fi = usize::MAX - si;
            let file = &stmts.policies.files[fi];
            let check = format!(
                "allowlist:{}",
                file.path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default()
            );
            res.findings.push(finding(
                &check,
                file.unlisted_severity,
                status,
                vec![dst.clone()],
                Some(w.clone()),
                vec![format!("first seen at {at}")],
                format!(
                    "{count} accepted record(s) to {dst} outside every `allow` of {}, e.g. {} → {}",
                    file.path.display(),
                    w.src,
                    w.dst
                ),
            ));
            continue;
        }
        let (_, st) = stmts.list[si];
        res.findings.push(finding(
            &st.id,
            st.severity,
            status,
            vec![dst.clone()],
            Some(w.clone()),
            vec![format!("first seen at {at}")],
            format!(
                "{count} accepted record(s) of traffic {} denies: {} → {} ({})",
                st.id, w.src, w.dst, w.protocol
            ),
        ));
    }
    for ((si, dst), (acc, rej, w, at)) in require {
        if acc == 0 && rej > 0 {
            let (_, st) = stmts.list[si];
            res.findings.push(finding(
                &st.id,
                st.severity,
                FindingStatus::Broken,
                vec![dst.clone()],
                Some(w.clone()),
                vec![format!("first seen at {at}")],
                format!(
                    "traffic {} requires was seen only rejected ({rej} record(s)), e.g. {} → {}",
                    st.id, w.src, w.dst
                ),
            ));
        }
    }
}

/// The findings of rule usage: rules no record used, and wide rules that the accepted traffic
/// used only narrowly (least privilege). A deny rule or a NACL's `*` rule is never "unused" (it
/// does its work by matching nothing that should pass); an outbound rule is judged by where the
/// traffic went; a rule on client ports (a return path) is judged by the ephemeral ranges of
/// common clients, never narrowed to the ports one client happened to use.
fn usage_findings(
    net: &Network,
    tally: &Tally,
    window: u64,
    judge: &Judge<'_>,
    res: &mut AuditResult,
) {
    for u in tally.rule_usage_json(net) {
        let hits = u["hits"].as_u64().unwrap_or(0);
        let resource = u["resource"].as_str().unwrap_or("").to_string();
        let rule = u["rule"].as_str().unwrap_or("").to_string();
        let dir = u["direction"].as_str().unwrap_or("").to_string();
        let deny = u["action"].as_str() == Some("deny");
        let default = u["default"].as_bool().unwrap_or(false);
        let rule_text = match u["rule_number"].as_u64() {
            Some(n) if !default => format!("rule {n} ({rule})"),
            _ => format!("rule {rule}"),
        };
        if hits == 0 {
            if deny || default {
                continue;
            }
            let layer = u["layer"].as_str().unwrap_or("");
            let why_not = judge.why_not(layer, &resource);
            if !why_not.is_empty() {
                res.findings.push(finding(
                    "unused-rule",
                    Severity::Low,
                    FindingStatus::Unknown,
                    vec![resource.clone(), format!("{dir} {rule}")],
                    None,
                    why_not.clone(),
                    format!("{resource} {dir} {rule_text} was used by no record in a window of {window} s, but whether it is unused cannot be judged: {}", why_not.join("; ")),
                ));
                continue;
            }
            res.findings.push(finding(
                "unused-rule",
                Severity::Low,
                FindingStatus::Unused,
                vec![resource.clone(), format!("{dir} {rule}")],
                None,
                vec![format!("{resource} {dir} {rule}")],
                format!("{resource} {dir} {rule_text} was used by no record in a window of {window} s (a short window is weak evidence); to fix: remove it if nothing needs it"),
            ));
        } else if let (Some(peers), true, false) = (
            u["used_peers"].as_array(),
            u["accepted"].as_u64().unwrap_or(0) > 0,
            deny,
        ) {
            let used: Vec<&str> = peers.iter().filter_map(|p| p.as_str()).collect();
            let wide = rule.contains("0.0.0.0/0") || rule.contains("::/0");
            if wide && !used.is_empty() && used.iter().all(|p| !p.ends_with("/0")) {
                let (went, to) = if dir == "outbound" {
                    ("went only to", "destinations")
                } else {
                    ("came only from", "sources")
                };
                let rule_ports = u["rule_ports"]
                    .as_array()
                    .and_then(|a| Some((a.first()?.as_u64()?, a.get(1)?.as_u64()?)));
                // A rule over client ports serves responses: keep whole client ranges.
                let client_rule = rule_ports.is_some_and(|(a, b)| {
                    crate::protocol::CLIENT_RANGES
                        .iter()
                        .any(|(_, r)| a <= u64::from(r.from) && u64::from(r.to) <= b)
                });
                let ports = u["used_ports"].as_str();
                let port_text = match (ports, client_rule) {
                    (Some(p), true) => format!(
                        " on client ports {p} (a return path: keep the whole ephemeral range of the clients it serves: {})",
                        crate::protocol::CLIENT_RANGES
                            .iter()
                            .map(|(n, r)| format!("{n} {r}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    (Some(p), false) => format!(" on ports {p}"),
                    (None, _) => String::new(),
                };
                res.findings.push(finding(
                    "least-privilege",
                    Severity::Low,
                    FindingStatus::Unused,
                    vec![resource.clone(), format!("{dir} {rule}")],
                    None,
                    vec![format!("{resource} {dir} {rule}")],
                    format!(
                        "{resource} {dir} {rule_text}: the accepted traffic in {window} s {went} {}{port_text}; to fix: narrow its {to} to {}",
                        used.join(", "),
                        used.join(", "),
                    ),
                ));
            }
        }
    }
}

fn share(n: usize, of: usize) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{:.0}%", n as f64 * 100.0 / of as f64)
    }
}

/// Whether the logs could have seen a rule's traffic: what every ENI the rule applies to keeps.
struct Judge<'a> {
    net: &'a Network,
    coverage: Option<&'a Coverage>,
    accept_seen: &'a std::collections::HashSet<usize>,
    skipdata: &'a rustc_hash::FxHashMap<usize, u64>,
    /// The ENIs of each security group and of each NACL, by id.
    by_group: HashMap<&'a str, Vec<usize>>,
    by_nacl: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Judge<'a> {
    fn new(
        net: &'a Network,
        coverage: Option<&'a Coverage>,
        accept_seen: &'a std::collections::HashSet<usize>,
        skipdata: &'a rustc_hash::FxHashMap<usize, u64>,
    ) -> Judge<'a> {
        let mut by_group: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_nacl: HashMap<&str, Vec<usize>> = HashMap::new();
        for (e, en) in net.enis.iter().enumerate() {
            for &g in &en.groups {
                by_group
                    .entry(net.groups[g].id.as_str())
                    .or_default()
                    .push(e);
            }
            if let Some(n) = en.subnet.and_then(|s| net.subnets[s].nacl) {
                by_nacl.entry(net.nacls[n].id.as_str()).or_default().push(e);
            }
        }
        Judge {
            net,
            coverage,
            accept_seen,
            skipdata,
            by_group,
            by_nacl,
        }
    }
}

/// How many ENIs each reason names before counting the rest.
const NAMED: usize = 5;

impl Judge<'_> {
    /// The ENIs an allow rule of `resource` (a security group or a NACL) applies to.
    fn members(&self, layer: &str, resource: &str) -> Vec<usize> {
        let map = if layer == "security_group" {
            &self.by_group
        } else {
            &self.by_nacl
        };
        map.get(resource).cloned().unwrap_or_default()
    }

    /// Why an allow rule of `resource` that no record used cannot be called unused (empty when
    /// it can): ENIs whose logs do not keep accepted traffic, or that lost windows.
    fn why_not(&self, layer: &str, resource: &str) -> Vec<String> {
        let mut blind: Vec<(String, &'static str)> = Vec::new();
        let mut lost: Vec<String> = Vec::new();
        for e in self.members(layer, resource) {
            let id = self.net.enis[e].id.clone();
            if let Some(n) = self.skipdata.get(&e) {
                lost.push(format!("{id} ({n})"));
            }
            let cov = self
                .coverage
                .and_then(|c| c.enis.get(e))
                .filter(|r| r.known);
            let keeps = match cov.map(|r| r.capture) {
                Some(Capture::All | Capture::AcceptOnly) => None,
                Some(Capture::RejectOnly) => Some("its flow logs keep only REJECT"),
                Some(Capture::None) => Some("no active flow log of the snapshot that delivers captures it"),
                None if self.accept_seen.contains(&e) => None,
                None => Some("flow-log configuration not in the snapshot, and no ACCEPT record of it shows its logs keep accepted traffic"),
            };
            // Records are evidence too: an ACCEPT record shows accepted traffic is kept.
            if let Some(why) = keeps.filter(|_| !self.accept_seen.contains(&e)) {
                blind.push((id, why));
            }
        }
        let mut out = Vec::new();
        let mut reasons: Vec<&'static str> = blind.iter().map(|(_, w)| *w).collect();
        reasons.sort_unstable();
        reasons.dedup();
        for why in reasons {
            let ids: Vec<&str> = blind
                .iter()
                .filter(|(_, w)| *w == why)
                .map(|(i, _)| i.as_str())
                .collect();
            out.push(format!("{}: {why}", named(&ids)));
        }
        if !lost.is_empty() {
            let ids: Vec<&str> = lost.iter().map(String::as_str).collect();
            out.push(format!(
                "records lost (SKIPDATA windows) at {}",
                named(&ids)
            ));
        }
        out
    }
}

fn named(ids: &[&str]) -> String {
    let mut s = ids
        .iter()
        .take(NAMED)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > NAMED {
        s.push_str(&format!(" and {} more ENI(s)", ids.len() - NAMED));
    }
    s
}
