//! The observed audit: intended policy against flow-log records. Accepted records that a `deny`
//! covers (`violation`), accepted records outside every `allow` in allowlist mode
//! (`unexpected`), `require` traffic seen only as REJECT (`broken`), and rules of the ENIs seen
//! that no record used (`unused`, with the window's length), with least-privilege suggestions.

use super::analysis::{
    finding, groups_of, resolve_all, sort, AuditError, AuditResult, Endpoints, FlowOptions,
};
use super::{FindingStatus, Witness};
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
    let reader = ChunkReader::new(flows.paths.clone(), flows.format.clone());
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
pub fn observed_audit(
    net: &Network,
    policies: &PolicySet,
    flows: &FlowOptions,
) -> Result<AuditResult, AuditError> {
    let stmts = Statements::new(net, policies);
    let mut total = observe(net, &stmts, flows)?;
    let window = total.window();
    let mut res = AuditResult {
        statements: stmts.list.len(),
        interfaces: total.tally.enis_seen.len(),
        ..Default::default()
    };
    res.notes.push(format!(
        "observed: {} records read ({} malformed), {} interfaces seen, a window of {window} s",
        total.counts.read,
        total.counts.malformed,
        total.tally.enis_seen.len()
    ));
    res.errors = std::mem::take(&mut total.errors);
    res.warnings = std::mem::take(&mut total.warnings);
    for (eni, n) in total.tally.lost_windows(net) {
        res.notes.push(format!(
            "records lost at {eni}: {n} window(s) of SKIPDATA; what was observed there is incomplete"
        ));
    }
    usage_findings(net, &total.tally, window, &mut res);
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
fn usage_findings(net: &Network, tally: &Tally, window: u64, res: &mut AuditResult) {
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
