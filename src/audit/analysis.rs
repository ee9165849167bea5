//! The audit's analyses: static (policy against configuration) and observed (policy against
//! flow-log records).
//!
//! The static audit never samples. For each destination ENI it computes, exactly, the region of
//! (source address × destination port) that the statement covers and the ENI's filters let
//! through — security groups (a union of rule boxes), the NACL (first match over boxes), the
//! route back and the NACL's return rules on ephemeral ports — as disjoint-able boxes
//! ([`super::region`]). An empty region proves the statement holds for that ENI. A non-empty
//! one yields a concrete witness flow, which the query engine then walks hop by hop, so every
//! finding carries the rules that let it through (or, for a latent one, the rule that stops it).

use super::finding::Grouper;
use super::packed::PackedFindings;
use super::region::{internet, AddrRange, Region};
use super::{Finding, FindingStatus, Witness};
use crate::network::Network;
use crate::network_acl::{Action as RuleAction, CompiledNacl, NaclRule};
use crate::policy::{
    Group, Kind, Mode, PolicyFile, PolicySet, Selector, Severity, Statement, Traffic,
};
use crate::protocol::{PortRange, Protocol};
use crate::query::{is_private, Endpoint, Query};
use crate::route::{CompiledRouteTable, Destination, Target};
use crate::security_group::SgDecision;
use crate::security_group::{Direction, PortMatch, SgPeer, SgRule};
use crate::trace::{Trace, Verdict};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Mutex;

/// What an analysis found, with the facts a report needs beside the findings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AuditResult {
    /// The findings, sorted by severity (highest first), then check, then id.
    pub findings: Vec<Finding>,
    /// Statements evaluated.
    pub statements: usize,
    /// ENIs considered.
    pub interfaces: usize,
    /// Remarks a reader should see (the header-space representation used, selectors that matched
    /// nothing, …).
    pub notes: Vec<String>,
    /// Inputs that could not be read (a truncated `.gz`, a missing file): the findings are
    /// then incomplete.
    pub errors: Vec<String>,
    /// Entries of a flow-log folder passed by (a FIFO, a link loop, a README among the logs):
    /// named for the reader; the findings are complete without them.
    pub warnings: Vec<String>,
    /// Findings grouped by cause still held packed ([`static_audit_packed`]): empty unless the
    /// caller asked for them so; [`AuditResult::unpack`] adds them to `findings`.
    #[serde(skip)]
    pub packed: PackedFindings,
}

impl AuditResult {
    /// Makes the packed findings whole and adds them to `findings`, in the order of
    /// [`static_audit`] (nothing to do when none are packed).
    pub fn unpack(&mut self) {
        if self.packed.is_empty() {
            return;
        }
        let packed = std::mem::take(&mut self.packed);
        let findings = std::mem::take(&mut self.findings);
        self.findings = packed.merge_sorted(findings).collect();
    }
}

/// Options of the observed audit.
#[derive(Debug, Clone, Default)]
pub struct FlowOptions {
    /// Flow-log files and folders.
    pub paths: Vec<PathBuf>,
    /// Their format when files have no header.
    pub format: Option<crate::flow_log::Format>,
    /// Worker threads (0: one per core).
    pub threads: usize,
}

/// Errors of the observed audit.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The flow-log pipeline failed.
    #[error("cannot read the flow logs: {0}")]
    Flows(String),
}

/// The header-space representation, said in every report.
pub const REPRESENTATION: &str = "header space: exact unions of (source address interval × destination port interval) boxes per protocol and address family; NACLs by first match over boxes; every non-empty region yields a witness flow that the query engine walks hop by hop";

// ---- endpoint sets -----------------------------------------------------------------------

/// The endpoints a group selects.
#[derive(Debug, Clone, Default)]
pub(super) struct Endpoints {
    pub(super) enis: Vec<usize>,
    /// Addresses outside the snapshot (internet or CIDR hosts).
    outside: Vec<AddrRange>,
    internet: bool,
    /// Selectors that selected nothing.
    empty: Vec<String>,
}

fn resolve(net: &Network, g: &Group) -> Endpoints {
    let mut out = Endpoints::default();
    let mut set: HashSet<usize> = HashSet::new();
    for sel in &g.selectors {
        let before = set.len();
        let mut outside_added = false;
        match sel {
            Selector::Any => set.extend(0..net.enis.len()),
            Selector::Internet => {
                out.internet = true;
                outside_added = true;
            }
            Selector::SecurityGroup(x) => {
                for (i, e) in net.enis.iter().enumerate() {
                    if e.groups
                        .iter()
                        .any(|&gi| net.groups[gi].id == *x || net.groups[gi].name == *x)
                        || e.missing_groups.contains(x)
                    {
                        set.insert(i);
                    }
                }
            }
            Selector::Tag { key, value } => {
                for (i, e) in net.enis.iter().enumerate() {
                    if e.tags
                        .iter()
                        .any(|(k, v)| k == key && value.as_ref().is_none_or(|want| want == v))
                    {
                        set.insert(i);
                    }
                }
            }
            Selector::Subnet(id) => {
                for (i, e) in net.enis.iter().enumerate() {
                    if e.subnet.is_some_and(|s| net.subnets[s].id == *id) {
                        set.insert(i);
                    }
                }
            }
            Selector::Vpc(id) => {
                for (i, e) in net.enis.iter().enumerate() {
                    if e.vpc_id.as_deref() == Some(id.as_str()) {
                        set.insert(i);
                    }
                }
            }
            Selector::Eni(id) => set.extend(net.eni_idx(id)),
            Selector::Instance(id) => {
                for (i, e) in net.enis.iter().enumerate() {
                    if e.instance_id.as_deref() == Some(id.as_str()) {
                        set.insert(i);
                    }
                }
            }
            Selector::Cidr(c) => {
                add_cidr(net, c, &mut set, &mut out.outside);
                outside_added = true;
            }
            Selector::PrefixList(id) => match net.prefix_list(id) {
                Some(cidrs) => {
                    for c in cidrs {
                        add_cidr(net, c, &mut set, &mut out.outside);
                    }
                    outside_added = !cidrs.is_empty();
                }
                None => out.empty.push(format!(
                    "prefix list `{id}` (its entries are not in the snapshot)"
                )),
            },
        }
        if set.len() == before && !outside_added {
            out.empty.push(sel.to_string());
        }
    }
    out.enis = set.into_iter().collect();
    out.enis.sort_unstable();
    out
}

fn add_cidr(
    net: &Network,
    c: &ipnet::IpNet,
    set: &mut HashSet<usize>,
    outside: &mut Vec<AddrRange>,
) {
    for (i, e) in net.enis.iter().enumerate() {
        if e.private_ipv4
            .iter()
            .chain(e.ipv6.iter())
            .any(|ip| c.contains(ip))
        {
            set.insert(i);
        }
    }
    outside.push(AddrRange::from_cidr(c));
}

impl Endpoints {
    pub(super) fn contains_eni(&self, e: usize) -> bool {
        self.enis.binary_search(&e).is_ok()
    }

    /// Whether an address outside the snapshot is selected (internet or a CIDR).
    pub(super) fn contains_outside(&self, ip: IpAddr) -> bool {
        (self.internet && !is_private(ip)) || self.outside.iter().any(|r| r.contains(ip))
    }

    /// The outside addresses as ranges (internet ranges included).
    fn outside_ranges(&self, internet_ranges: &[AddrRange]) -> Vec<AddrRange> {
        let mut v = self.outside.clone();
        if self.internet {
            v.extend_from_slice(internet_ranges);
        }
        v
    }
}

// ---- filter regions ----------------------------------------------------------------------

fn proto_matches(rule: Protocol, stmt: Protocol) -> bool {
    match (rule, stmt) {
        (Protocol::All, _) => true,
        (Protocol::Number(_), Protocol::All) => false,
        (Protocol::Number(a), Protocol::Number(b)) => a == b,
    }
}

fn rule_ports(m: &PortMatch) -> PortRange {
    match m {
        PortMatch::Ports { range } => *range,
        _ => PortRange::ALL,
    }
}

/// The ports a statement's traffic covers, as the filters see them (all ports for protocols
/// without ports).
fn stmt_ports(t: &Traffic) -> PortRange {
    if t.protocol.has_ports() {
        t.ports
    } else {
        PortRange::ALL
    }
}

/// The region an ENI's security groups allow in one direction for a protocol, and the rules
/// that could allow something but reference what the snapshot lacks.
pub(crate) fn sg_region(
    net: &Network,
    eni: usize,
    dir: Direction,
    proto: Protocol,
) -> (Region, Vec<&SgRule>) {
    let mut r = Region::empty();
    let mut unresolved = Vec::new();
    for rule in net.eni_rules(eni, dir) {
        if !proto_matches(rule.protocol, proto) {
            continue;
        }
        let ports = rule_ports(&rule.ports);
        match &rule.peer {
            SgPeer::Cidr { cidr } => r.push(AddrRange::from_cidr(cidr), ports),
            SgPeer::PrefixList { id } => match net.prefix_list(id) {
                Some(cidrs) => {
                    for c in cidrs {
                        r.push(AddrRange::from_cidr(c), ports);
                    }
                }
                None => unresolved.push(rule),
            },
            SgPeer::Group(g) => match net.group_member_ips(&g.id) {
                Some(members) => {
                    for ip in members {
                        if net.refs_apply(eni, *ip) == Some(true) {
                            r.push(AddrRange::single(*ip), ports);
                        }
                    }
                }
                None => unresolved.push(rule),
            },
        }
    }
    (r, unresolved)
}

/// The part of `universe` a NACL's rules of one direction allow (first match over boxes).
/// What reaches an entry of unknown content is not in it (see [`nacl_regions`]).
pub(crate) fn nacl_region(
    nacl: &CompiledNacl,
    dir: Direction,
    proto: Protocol,
    universe: &Region,
) -> Region {
    nacl_regions(nacl, dir, proto, universe).0
}

/// The part of `universe` a NACL's rules of one direction allow, and the part that reaches an
/// entry of unknown content first ([`RuleAction::Unknown`], a model at an earlier time): what
/// that entry does with it is not known.
pub(crate) fn nacl_regions(
    nacl: &CompiledNacl,
    dir: Direction,
    proto: Protocol,
    universe: &Region,
) -> (Region, Region) {
    let mut remaining = universe.clone();
    let mut allowed = Region::empty();
    let mut unknown = Region::empty();
    for rule in nacl.rules(dir) {
        if remaining.is_empty() {
            break;
        }
        let hits = match (rule.protocol, proto) {
            (Protocol::All, _) => true,
            // "All traffic" passes only if all of it does: any deny stops it; an allow of one
            // protocol does not let all of it through.
            (Protocol::Number(_), Protocol::All) => rule.action == RuleAction::Deny,
            (Protocol::Number(a), Protocol::Number(b)) => a == b,
        };
        if !hits {
            continue;
        }
        let ports = if proto.has_ports() {
            rule_ports(&rule.ports)
        } else {
            PortRange::ALL
        };
        let bx = Region::from_box(AddrRange::from_cidr(&rule.cidr), ports);
        match rule.action {
            RuleAction::Allow => allowed = allowed.union(&remaining.intersect(&bx)),
            RuleAction::Unknown => unknown = unknown.union(&remaining.intersect(&bx)),
            RuleAction::Deny => {}
        }
        remaining = remaining.minus(&bx);
    }
    (allowed, unknown)
}

/// The addresses a route table sends to a target accepted by `pred` (longest prefix match,
/// static over propagated, CIDR over prefix list; blackholes excluded).
fn routed(
    net: &Network,
    rt: &CompiledRouteTable,
    pred: impl Fn(&Target) -> bool,
) -> Vec<AddrRange> {
    let mut routes: Vec<(AddrRange, u8, bool, bool, bool)> = Vec::new();
    for r in &rt.routes {
        let cidrs: Vec<ipnet::IpNet> = match &r.destination {
            Destination::Cidr(c) => vec![*c],
            Destination::PrefixList(id) => {
                net.prefix_list(id).map(<[_]>::to_vec).unwrap_or_default()
            }
        };
        for c in cidrs {
            let ok = !r.blackhole && pred(&r.target);
            routes.push((
                AddrRange::from_cidr(&c),
                c.prefix_len(),
                !r.propagated,
                matches!(r.destination, Destination::Cidr(_)),
                ok,
            ));
        }
    }
    let mut out = Vec::new();
    for v6 in [false, true] {
        let fam: Vec<_> = routes.iter().filter(|r| r.0.v6 == v6).collect();
        let mut cuts: Vec<u128> = vec![0];
        for r in &fam {
            cuts.push(r.0.lo);
            if let Some(n) = r.0.hi.checked_add(1) {
                cuts.push(n);
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let max = AddrRange::all(v6).hi;
        for (i, &start) in cuts.iter().enumerate() {
            if start > max {
                break;
            }
            let end = cuts.get(i + 1).map(|n| n - 1).unwrap_or(max).min(max);
            let best = fam
                .iter()
                .filter(|r| r.0.lo <= start && start <= r.0.hi)
                .max_by_key(|r| (r.1, r.2, r.3));
            if best.is_some_and(|b| b.4) {
                out.push(AddrRange {
                    v6,
                    lo: start,
                    hi: end,
                });
            }
        }
    }
    out
}

// ---- the static audit ---------------------------------------------------------------------

struct Ctx<'n> {
    net: &'n Network,
    internet: Vec<AddrRange>,
    /// Addresses routed back to an internet gateway, per route table.
    igw_routes: Mutex<HashMap<usize, Vec<AddrRange>>>,
}

impl<'n> Ctx<'n> {
    fn igw_routes(&self, rt: usize) -> Vec<AddrRange> {
        if let Ok(mut cache) = self.igw_routes.lock() {
            if let Some(v) = cache.get(&rt) {
                return v.clone();
            }
            let v = routed(self.net, &self.net.route_tables[rt], |t| {
                matches!(
                    t,
                    Target::InternetGateway(_) | Target::EgressOnlyInternetGateway(_)
                )
            });
            cache.insert(rt, v.clone());
            return v;
        }
        Vec::new()
    }

    fn eni_label(&self, e: usize) -> String {
        let en = &self.net.enis[e];
        match (&en.name, &en.instance_id) {
            (Some(n), _) => format!("{} ({})", en.id, n),
            (None, Some(i)) => format!("{} ({i})", en.id),
            _ => en.id.clone(),
        }
    }

    fn query(&self, from: Endpoint, to: Endpoint, proto: Protocol, port: u16) -> Trace {
        self.net.query(&Query {
            from,
            to,
            protocol: proto,
            port: (proto.has_ports() || proto.is_icmp())
                .then_some(port)
                .filter(|_| proto.has_ports()),
            src_port: None,
        })
    }
}

/// The rules a trace passed or was stopped by, in words.
fn because(t: &Trace) -> Vec<String> {
    let mut v = Vec::new();
    for h in t
        .forward
        .hops
        .iter()
        .chain(t.return_path.iter().flat_map(|p| p.hops.iter()))
    {
        for c in &h.checks {
            let relevant = matches!(
                c.layer,
                crate::trace::Layer::SecurityGroup | crate::trace::Layer::NetworkAcl
            ) || c.decision != crate::trace::Decision::Allow;
            if relevant && !v.contains(&c.detail) {
                v.push(format!("{}: {}", h.component, c.detail));
            }
        }
    }
    v.dedup();
    v
}

/// What lets a `deny` statement's traffic into ENI `d` (the thing to fix): the security-group
/// rule that allows the witness, named in the finding's resources and `because`, with advice in
/// the message; an exposure limited to a prefix list or a CIDR says so. Returns the cause: the
/// group and its rule.
fn what_is_open(
    net: &Network,
    d: usize,
    src: IpAddr,
    proto: Protocol,
    port: u16,
    f: &mut Finding,
) -> Option<Vec<String>> {
    let port = proto.has_ports().then_some(port);
    let refs = net.enis[d]
        .vpc_id
        .as_deref()
        .map(|v| net.vpc_contains(v, src));
    let SgDecision::Allow(rule) =
        net.sg_evaluate(d, Direction::Inbound, src, proto, port, None, refs)
    else {
        return None;
    };
    let text = crate::query::sg_rule_text(net, rule);
    if !f.resources.iter().any(|r| **r == *rule.group_id) {
        f.resources.push(rule.group_id.to_string());
    }
    let open = format!("{} inbound rule {text} allows it", rule.group_id);
    if !f.because.contains(&open) {
        f.because.insert(0, open);
    }
    let only = match &rule.peer {
        SgPeer::Cidr { cidr } if cidr.prefix_len() > 0 => {
            Some(format!("only from {}", crate::render::ip::Cidr(cidr)))
        }
        SgPeer::PrefixList { id } => Some(match net.prefix_list(id) {
            Some(entries) => format!(
                "only from {id} ({})",
                entries
                    .iter()
                    .map(|c| crate::render::ip::Cidr(c).to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => format!("only from {id} (its entries are not in the snapshot)"),
        }),
        _ => None,
    };
    if let Some(only) = only {
        f.message.push_str(&format!(" ({only})"));
    }
    f.message.push_str(&format!(
        "; to fix: remove rule {text} of {} or narrow it to the sources that need it",
        rule.group_id
    ));
    Some(vec![
        rule.group_id.to_string(),
        format!("inbound rule {text}"),
    ])
}

/// The finding as a member of its cause's group (ENI `d`), when it has a cause.
fn eni_member(net: &Network, d: usize, f: Finding, cause: Option<Vec<String>>) -> Finding {
    let eni = net.enis[d].id.clone();
    match cause {
        Some(c) => member(f, vec![eni], c),
        None => {
            let mut f = f;
            f.enis = vec![eni];
            f
        }
    }
}

impl Witness {
    fn with_dst(mut self, dst: &str) -> Witness {
        self.dst = dst.to_string();
        self
    }
}

/// The address an internet host reaches the first of `enis` at: its public or Elastic IPv4, else
/// its private address of the family (`v6`).
fn behind_address(net: &Network, enis: &[usize], v6: bool) -> Option<IpAddr> {
    let e = &net.enis[*enis.first()?];
    let public = (!v6)
        .then(|| e.public_ips.first().map(|(p, _)| *p))
        .flatten();
    public.or_else(|| e.primary(v6))
}

fn witness(src: IpAddr, dst: IpAddr, proto: Protocol, port: Option<u16>) -> Witness {
    Witness {
        src: src.to_string(),
        dst: dst.to_string(),
        protocol: proto.short(),
        port: port.filter(|_| proto.has_ports()),
    }
}

fn traffic_text(t: &Traffic) -> String {
    if t.protocol.has_ports() {
        format!("{}/{}", t.protocol, t.ports)
    } else {
        t.protocol.to_string()
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn finding(
    check: &str,
    severity: Severity,
    status: FindingStatus,
    resources: Vec<String>,
    witness: Option<Witness>,
    because: Vec<String>,
    message: String,
) -> Finding {
    Finding::new(
        check, severity, status, resources, witness, because, message,
    )
}

/// Marks a finding as one ENI's member of a cause group: the ENIs it affects, what causes it,
/// and the shape of its witness path (its deciding rules, with the ENIs' own ids and the
/// witness addresses left out, and the witness protocol, port and address family).
fn member(mut f: Finding, enis: Vec<String>, cause: Vec<String>) -> Finding {
    let mut shape = String::new();
    if let Some(w) = &f.witness {
        let v6 = if w.src.contains(':') { "v6" } else { "v4" };
        shape.push_str(&format!("{v6} {} {:?}", w.protocol, w.port));
    }
    for b in &f.because {
        let mut line = b.clone();
        for e in &enis {
            line = line.replace(e.as_str(), "<eni>");
        }
        if let Some(w) = &f.witness {
            line = line
                .replace(w.src.as_str(), "<src>")
                .replace(w.dst.as_str(), "<dst>");
        }
        shape.push('\n');
        shape.push_str(&line);
    }
    f.shape = shape;
    f.enis = enis;
    f.cause = cause;
    f
}

/// The cause of a failed `require` walk (or of an unknown one): what stopped it.
fn blocked_cause(trace: &Trace) -> Vec<String> {
    match &trace.blocked_at {
        Some(b) => {
            let mut c = b.resources.clone();
            if c.is_empty() {
                c.push(b.component.clone());
            }
            c.push(match b.rule_number {
                Some(n) => format!(
                    "{} rule {n}",
                    b.direction.map(|d| d.to_string()).unwrap_or_default()
                ),
                None => b.detail.clone(),
            });
            c
        }
        None => vec![trace
            .reason
            .map(|r| format!("{r:?}"))
            .unwrap_or_else(|| trace.message.clone())],
    }
}

/// How findings about ENIs are reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum GroupBy {
    /// One finding per cause (the rule that makes the check fail), listing its ENIs.
    #[default]
    Cause,
    /// One finding per ENI, statement traffic and status (the view before grouping).
    Eni,
}

/// Options of the static audit.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditOptions {
    /// Grouping of findings about ENIs.
    pub group_by: GroupBy,
}

/// Checks every statement against the configuration, findings grouped by cause. Never samples
/// (see the module notes).
pub fn static_audit(net: &Network, policies: &PolicySet) -> AuditResult {
    static_audit_with(net, policies, AuditOptions::default())
}

/// [`static_audit`] with options (`--group-by eni`: one finding per ENI).
pub fn static_audit_with(net: &Network, policies: &PolicySet, opts: AuditOptions) -> AuditResult {
    let mut res = static_audit_packed(net, policies, opts);
    res.unpack();
    res
}

/// [`static_audit_with`], leaving the findings of `deny` statements grouped by cause (most of an
/// organization's) packed in [`AuditResult::packed`]: a caller that drops the model before
/// [`AuditResult::unpack`] never holds the model and those findings whole at once (at 100,000
/// ENIs, about a gigabyte each).
pub fn static_audit_packed(net: &Network, policies: &PolicySet, opts: AuditOptions) -> AuditResult {
    let group = opts.group_by == GroupBy::Cause;
    let ctx = Ctx {
        net,
        internet: internet(),
        igw_routes: Mutex::new(HashMap::new()),
    };
    let mut res = AuditResult {
        interfaces: net.enis.len(),
        notes: vec![REPRESENTATION.to_string()],
        ..Default::default()
    };
    let mut jobs: Vec<DenyJob<'_>> = Vec::new();
    // Findings of `require` statements and allowlists, grouped at the end.
    let mut members: Vec<Finding> = Vec::new();
    for file in &policies.files {
        for st in &file.statements {
            res.statements += 1;
            let (from, to) = match (groups_of(file, &st.from), groups_of(file, &st.to)) {
                (Ok(f), Ok(t)) => (resolve_all(net, &f), resolve_all(net, &t)),
                (Err(name), _) | (_, Err(name)) => {
                    res.findings.push(finding(
                        &st.id,
                        st.severity,
                        FindingStatus::Unknown,
                        vec![],
                        None,
                        vec![],
                        format!("statement `{}` names group `{name}`, which is not defined: it cannot be evaluated", st.id),
                    ));
                    continue;
                }
            };
            for e in from.empty.iter().chain(to.empty.iter()) {
                res.notes.push(format!(
                    "statement `{}`: selector {e} selects nothing",
                    st.id
                ));
            }
            match st.kind {
                Kind::Deny => {
                    let outside = from.outside_ranges(&ctx.internet);
                    let traffic = st
                        .traffic
                        .iter()
                        .map(|t| {
                            let mut stmt = Region::empty();
                            for a in &outside {
                                stmt.push(*a, stmt_ports(t));
                            }
                            (*t, stmt)
                        })
                        .collect();
                    jobs.push(DenyJob {
                        st,
                        from,
                        to,
                        traffic,
                    });
                }
                Kind::Require => require(&ctx, st, &from, &to, &mut members),
                Kind::Allow => {}
            }
        }
        if file.mode == Mode::Allowlist {
            allowlist(&ctx, file, &mut members);
        }
    }
    let (mut denied, packed) = deny_all(&ctx, &jobs, group);
    open_nacls(&ctx, &jobs, &denied, &packed, &mut res.findings);
    res.packed = packed;
    // The few findings so far, then the denied ones (most of an organization's): the many are
    // moved, not copied, and the vector keeps room for the findings still to come.
    denied.reserve(res.findings.len() + 1024);
    denied.splice(0..0, std::mem::take(&mut res.findings));
    res.findings = denied;
    if group {
        res.findings.extend(super::finding::group_by_cause(members));
    } else {
        res.findings.extend(members);
    }
    default_groups(net, &mut res.findings);
    super::bpa::audit(net, &mut res.findings, &mut res.notes);
    shadowed_nacl_rules(net, &mut res.findings);
    super::load_balancer::findings(net, &mut res.findings);
    sort(&mut res.findings);
    res
}

/// Network ACLs that let a `deny` statement's traffic in from outside the snapshot (the internet,
/// CIDRs) while the security groups of every ENI behind them stop it: `latent` (CIS AWS
/// Foundations 5.1 asks this of NACLs on their own), one security-group change away from
/// exposure. A NACL already behind an exposed or latent ENI finding of the statement is not
/// reported again.
fn open_nacls(
    ctx: &Ctx<'_>,
    jobs: &[DenyJob<'_>],
    denied: &[Finding],
    packed: &PackedFindings,
    out: &mut Vec<Finding>,
) {
    let net = ctx.net;
    let mut found = Vec::new();
    // CIS 5.1: the remote administration ports.
    let admin = |t: &Traffic| [22, 3389].iter().any(|&p| t.ports.contains(p));
    // The statements looked at below: only their findings need be indexed (an organization's
    // findings list millions of ENIs; at 100,000 ENIs, indexing them all raised the audit's peak
    // resident memory by about 150 MiB).
    let asked: HashSet<&str> = jobs
        .iter()
        .filter(|j| {
            j.traffic
                .iter()
                .any(|(t, stmt)| !stmt.is_empty() && admin(t))
        })
        .map(|j| j.st.id.as_str())
        .collect();
    // The ENIs behind an exposed or latent finding, per statement.
    let covered_enis: HashSet<(&str, &str)> = denied
        .iter()
        .map(|f| {
            (
                f.check.as_str(),
                f.status,
                f.enis.iter().map(String::as_str).collect::<Vec<_>>(),
            )
        })
        .chain(packed.summaries())
        .filter(|(_, status, _)| matches!(status, FindingStatus::Exposed | FindingStatus::Latent))
        .filter(|(check, _, _)| asked.contains(check))
        .flat_map(|(check, _, enis)| enis.into_iter().map(move |e| (check, e)))
        .collect();
    for job in jobs {
        let st = job.st;
        for (t, stmt) in &job.traffic {
            if stmt.is_empty() || !admin(t) {
                continue;
            }
            // The NACLs in front of the statement's destinations in subnets the internet can
            // reach (a route to an internet gateway), with the ENIs behind them.
            let mut behind: HashMap<usize, Vec<usize>> = HashMap::new();
            for &d in &job.to.enis {
                if is_gateway_eni(net, d) || !internet_facing(net, d) {
                    continue;
                }
                if let Some(n) = net.enis[d].subnet.and_then(|s| net.subnets[s].nacl) {
                    behind.entry(n).or_default().push(d);
                }
            }
            let mut nacls: Vec<_> = behind.into_iter().collect();
            nacls.sort_unstable();
            for (n, enis) in nacls {
                let covered = enis
                    .iter()
                    .any(|&d| covered_enis.contains(&(st.id.as_str(), net.enis[d].id.as_str())));
                if covered {
                    continue;
                }
                let nacl = &net.nacls[n];
                let allowed = nacl_region(nacl, Direction::Inbound, t.protocol, stmt);
                let Some((src, port)) = allowed.witness(Some(t.ports.from)) else {
                    continue;
                };
                let port = t.protocol.has_ports().then_some(port);
                let Some(rule) = nacl.decide(Direction::Inbound, src, t.protocol, port, None)
                else {
                    continue;
                };
                let enis_text: Vec<String> = enis.iter().map(|&d| ctx.eni_label(d)).collect();
                found.push(finding(
                    &st.id,
                    st.severity.lower(),
                    FindingStatus::Latent,
                    vec![nacl.id.clone(), format!("inbound rule {}", rule.rule_number)],
                    Some(match behind_address(net, &enis, src.is_ipv6()) {
                        Some(dst) => witness(src, dst, t.protocol, port),
                        None => witness(src, src, t.protocol, port)
                            .with_dst(&ctx.eni_label(enis[0])),
                    }),
                    vec![
                        format!("{} inbound {rule} allows it", nacl.id),
                        format!("the security groups of {} stop it today", enis_text.join(", ")),
                    ],
                    format!(
                        "{} {} from {src} passes {} inbound {rule}; only the security groups of {} stop it today; to fix: add a deny rule for {} before rule {} of {}, or narrow rule {} to the sources that need it",
                        st.id,
                        traffic_text(t),
                        nacl.id,
                        enis_text.join(", "),
                        traffic_text(t),
                        rule.rule_number,
                        nacl.id,
                        rule.rule_number,
                    ),
                ));
            }
        }
    }
    out.extend(found);
}

/// Whether the subnet of ENI `d` has a route to an internet gateway.
fn internet_facing(net: &Network, d: usize) -> bool {
    net.enis[d]
        .subnet
        .and_then(|s| net.subnets[s].route_table)
        .is_some_and(|rt| {
            net.route_tables[rt]
                .routes
                .iter()
                .any(|r| matches!(r.target, Target::InternetGateway(_)) && !r.blackhole)
        })
}

/// NACL rules that can never match: the rules before them in their list (rule-number order)
/// match all of their traffic first (aws-semantics 11). A shadowed rule of the opposite action
/// does nothing its author meant (a deny that never denies); one of the same action is dead
/// weight. The `*` rules are not judged: they are the end of every list.
fn shadowed_nacl_rules(net: &Network, out: &mut Vec<Finding>) {
    // A rule's traffic as regions per protocol: `None` is every protocol.
    let space = |r: &NaclRule| {
        let ports = match r.protocol {
            Protocol::Number(_) if r.protocol.has_ports() => rule_ports(&r.ports),
            _ => PortRange::ALL,
        };
        Region::from_box(AddrRange::from_cidr(&r.cidr), ports)
    };
    for nacl in &net.nacls {
        for dir in [Direction::Inbound, Direction::Outbound] {
            let rules = nacl.rules(dir);
            for (i, r) in rules.iter().enumerate() {
                // An entry of unknown content (a model at an earlier time) is not judged.
                if r.is_default || r.unknown.is_some() {
                    continue;
                }
                let mut rest = space(r);
                let mut by: Vec<&NaclRule> = Vec::new();
                for e in &rules[..i] {
                    if e.unknown.is_some() {
                        // What reaches it is not known: whether the rule is shadowed is not
                        // known either, unless the rules before cover it all.
                        break;
                    }
                    let covers = match (e.protocol, r.protocol) {
                        (Protocol::All, _) => true,
                        (Protocol::Number(a), Protocol::Number(b)) => a == b,
                        (Protocol::Number(_), Protocol::All) => false,
                    };
                    if !covers || e.cidr.addr().is_ipv6() != r.cidr.addr().is_ipv6() {
                        continue;
                    }
                    let eb = if matches!(e.protocol, Protocol::All) || !r.protocol.has_ports() {
                        Region::from_box(AddrRange::from_cidr(&e.cidr), PortRange::ALL)
                    } else {
                        space(e)
                    };
                    if !rest.intersect(&eb).is_empty() {
                        by.push(e);
                        rest = rest.minus(&eb);
                    }
                    if rest.is_empty() {
                        break;
                    }
                }
                if !rest.is_empty() {
                    continue;
                }
                let opposite = by.iter().any(|e| e.action != r.action);
                let by_text: Vec<String> = by.iter().map(|e| e.to_string()).collect();
                out.push(finding(
                    "nacl-shadowed-rule",
                    if opposite { Severity::Medium } else { Severity::Low },
                    FindingStatus::Shadowed,
                    vec![nacl.id.clone(), format!("{dir} rule {}", r.rule_number)],
                    None,
                    std::iter::once(format!("{} {dir} {r}", nacl.id))
                        .chain(by_text.iter().map(|b| format!("{} {dir} {b}", nacl.id)))
                        .collect(),
                    format!(
                        "{} {dir} {} can never match: {} match{} all of its traffic first{}; to fix: give it a lower rule number than {} or remove it",
                        nacl.id,
                        r,
                        by_text.join(", "),
                        if by.len() == 1 { "es" } else { "" },
                        if opposite {
                            format!(", so its {} never applies", r.action)
                        } else {
                            String::new()
                        },
                        by.first().map(|e| e.rule_number).unwrap_or_default()
                    ),
                ));
            }
        }
    }
}

pub(super) fn sort(f: &mut [Finding]) {
    // A stable sort of the positions, then the findings moved into place: a stable sort of the
    // findings themselves would need room for half of them beside them (hundreds of MB at an
    // organization's scale).
    let mut order: Vec<usize> = (0..f.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&f[a], &f[b]);
        order_of(
            (
                a.severity,
                a.check.as_str(),
                a.status,
                a.resources.as_slice(),
            ),
            (
                b.severity,
                b.check.as_str(),
                b.status,
                b.resources.as_slice(),
            ),
        )
    });
    permute(f, &mut order);
}

/// The order of the audit's findings ([`sort`]): highest severity first, then check, status and
/// resources.
pub(super) fn order_of<R: AsRef<str>, S: AsRef<str>>(
    a: (Severity, &str, FindingStatus, &[R]),
    b: (Severity, &str, FindingStatus, &[S]),
) -> std::cmp::Ordering {
    b.0.cmp(&a.0)
        .then_with(|| a.1.cmp(b.1))
        .then_with(|| a.2.cmp(&b.2))
        .then_with(|| {
            a.3.iter()
                .map(AsRef::as_ref)
                .cmp(b.3.iter().map(AsRef::as_ref))
        })
}

/// Reorders `items` so that position `i` holds what was at `order[i]` (`order` a permutation),
/// in place: each cycle of the permutation is followed once with swaps. `order` is used up.
pub(crate) fn permute<T>(items: &mut [T], order: &mut [usize]) {
    for start in 0..order.len() {
        if order[start] == usize::MAX {
            continue;
        }
        // Follow the cycle through `start`: position `at` takes the item at `order[at]`.
        let mut at = start;
        loop {
            let from = order[at];
            order[at] = usize::MAX;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

pub(super) fn groups_of(file: &PolicyFile, names: &[String]) -> Result<Vec<Group>, String> {
    names
        .iter()
        .map(|n| file.group(n).ok_or_else(|| n.clone()))
        .collect()
}

pub(super) fn resolve_all(net: &Network, groups: &[Group]) -> Endpoints {
    let mut out = Endpoints::default();
    let mut set: HashSet<usize> = HashSet::new();
    for g in groups {
        let r = resolve(net, g);
        set.extend(r.enis);
        out.outside.extend(r.outside);
        out.internet |= r.internet;
        out.empty.extend(
            r.empty
                .into_iter()
                .map(|e| format!("{e} of group `{}`", g.name)),
        );
    }
    out.enis = set.into_iter().collect();
    out.enis.sort_unstable();
    out
}

fn is_gateway_eni(net: &Network, e: usize) -> bool {
    net.enis[e]
        .interface_type
        .as_deref()
        .is_some_and(|t| t != "interface" && t != "efa" && t != "trunk" && t != "branch")
}

/// The region of outside sources (internet or public CIDRs) that reaches `d` end to end,
/// and the region its security groups alone allow.
fn outside_regions(
    ctx: &Ctx<'_>,
    d: usize,
    proto: Protocol,
    stmt: &Region,
    sg: &SgCache,
) -> (Region, Region, Vec<SgRule>) {
    let net = ctx.net;
    let e = &net.enis[d];
    let cached = sg.get(net, d, proto);
    let (sg, unresolved) = (&cached.0, &cached.1);
    let sg_part = sg.intersect(stmt).normalized();
    if sg_part.is_empty() {
        return (Region::empty(), sg_part, unresolved.to_vec());
    }
    let Some(subnet) = e.subnet else {
        return (Region::empty(), sg_part, vec![]);
    };
    let s = &net.subnets[subnet];
    let (Some(ni), Some(rt)) = (s.nacl, s.route_table) else {
        return (Region::empty(), sg_part, vec![]);
    };
    let nacl = &net.nacls[ni];
    let mut full = nacl_region(nacl, Direction::Inbound, proto, &sg_part);
    // Reachable from outside only through the VPC's internet gateway, at a public address
    // (IPv4) or the ENI's own global IPv6 address.
    let igw = e
        .vpc_id
        .as_deref()
        .and_then(|v| net.vpc(v))
        .and_then(|v| v.internet_gateway.clone());
    let mut families = Vec::new();
    if igw.is_some() && !e.public_ips.is_empty() {
        families.push(AddrRange::all(false));
    }
    if igw.is_some() && !e.ipv6.is_empty() {
        families.push(AddrRange::all(true));
    }
    full = full.restrict_addrs(&families);
    // The response must be routed back to the internet gateway…
    full = full.restrict_addrs(&ctx.igw_routes(rt));
    // …and pass the NACL's outbound rules on some ephemeral port.
    if !full.is_empty() {
        let eph = if proto.has_ports() {
            PortRange::EPHEMERAL
        } else {
            PortRange::ALL
        };
        let mut back = Region::empty();
        for a in full.addrs() {
            back.push(a, eph);
        }
        let ret = nacl_region(nacl, Direction::Outbound, proto, &back);
        full = full.restrict_addrs(&ret.addrs());
    }
    (full, sg_part, unresolved.to_vec())
}

/// The inbound security-group regions of one ENI, per protocol, computed once for every
/// statement that asks.
#[derive(Default)]
struct SgCache {
    map: std::cell::RefCell<HashMap<Protocol, SgRegion>>,
}

/// An ENI's inbound security-group region for one protocol, and its unresolvable rules.
type SgRegion = std::rc::Rc<(Region, Vec<SgRule>)>;

impl SgCache {
    fn get(&self, net: &Network, d: usize, proto: Protocol) -> SgRegion {
        if let Some(v) = self.map.borrow().get(&proto) {
            return v.clone();
        }
        let (r, u) = sg_region(net, d, Direction::Inbound, proto);
        let v = std::rc::Rc::new((r.normalized(), u.into_iter().cloned().collect()));
        self.map.borrow_mut().insert(proto, v.clone());
        v
    }
}

fn dst_endpoint(net: &Network, d: usize, src: IpAddr) -> Option<Endpoint> {
    let e = &net.enis[d];
    if src.is_ipv6() {
        e.ipv6.first().map(|a| Endpoint::Eni { eni: d, addr: *a })
    } else {
        e.public_ips.first().map(|(p, private)| Endpoint::PublicIp {
            eni: d,
            public: *p,
            private: *private,
        })
    }
}

/// One `deny` statement, resolved, with its traffic as header-space regions of outside sources.
struct DenyJob<'p> {
    st: &'p Statement,
    from: Endpoints,
    to: Endpoints,
    traffic: Vec<(Traffic, Region)>,
}

/// Evaluates every `deny` statement, destination ENI by destination ENI on every core (each ENI's
/// security-group regions are computed once for all statements). With `group`, the workers fold
/// each ENI's findings into one shared grouper as soon as the ENI is done, keyed by ENI and
/// statement order, so the groups are those of a single worker taking the ENIs in order and
/// memory holds each cause once (not once per worker).
fn deny_all(ctx: &Ctx<'_>, jobs: &[DenyJob<'_>], group: bool) -> (Vec<Finding>, PackedFindings) {
    let n = ctx.net.enis.len();
    let threads = std::thread::available_parallelism()
        .map(|x| x.get())
        .unwrap_or(1)
        .clamp(1, 16);
    let per = n.div_ceil(threads).max(1);
    let shared = Mutex::new(Grouper::default());
    let parts: Vec<Vec<Finding>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .step_by(per)
            .map(|start| {
                let shared = &shared;
                scope.spawn(move || {
                    let mut found = Vec::new();
                    let mut batch = Vec::new();
                    for d in start..(start + per).min(n) {
                        if is_gateway_eni(ctx.net, d) {
                            continue;
                        }
                        let cache = SgCache::default();
                        for job in jobs.iter().filter(|j| j.to.contains_eni(d)) {
                            for (t, stmt) in &job.traffic {
                                if let Some(f) = deny_one(ctx, job, t, stmt, d, &cache) {
                                    found.push(f);
                                }
                            }
                        }
                        if group && !found.is_empty() {
                            // Key: the ENI, then the finding's place among the ENI's.
                            let base = (d as u64) << 24;
                            batch.extend(
                                found
                                    .drain(..)
                                    .enumerate()
                                    .map(|(i, f)| (base | i as u64, f)),
                            );
                            if batch.len() >= 64 {
                                let mut g = shared.lock().unwrap_or_else(|p| p.into_inner());
                                for (k, f) in batch.drain(..) {
                                    g.add_at(f, k);
                                }
                            }
                        }
                    }
                    let mut g = shared.lock().unwrap_or_else(|p| p.into_inner());
                    for (k, f) in batch.drain(..) {
                        g.add_at(f, k);
                    }
                    drop(g);
                    found
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let out: Vec<Finding> = parts.into_iter().flatten().collect();
    let grouped = shared
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .finish_packed();
    (out, grouped)
}

/// A `deny` statement's traffic `t` to destination `d`: exposed, latent or unknown, or nothing.
fn deny_one(
    ctx: &Ctx<'_>,
    job: &DenyJob<'_>,
    t: &Traffic,
    stmt: &Region,
    d: usize,
    cache: &SgCache,
) -> Option<Finding> {
    let net = ctx.net;
    let st = job.st;
    // Sources outside the snapshot (the internet, public CIDRs).
    if !stmt.is_empty() {
        let (full, sg_part, unresolved) = outside_regions(ctx, d, t.protocol, stmt, cache);
        if let Some((src, port)) = full.witness(Some(t.ports.from)) {
            if let Some(to_ep) = dst_endpoint(net, d, src) {
                let trace = ctx.query(Endpoint::External(src), to_ep, t.protocol, port);
                let (status, severity) = match trace.verdict {
                    Verdict::Reachable => (FindingStatus::Exposed, st.severity),
                    Verdict::Unreachable => (FindingStatus::Latent, st.severity.lower()),
                    // A NACL entry of unknown content on the way (a model at an earlier time).
                    Verdict::Unknown if rule_unknown(net, d) => {
                        (FindingStatus::Unknown, st.severity)
                    }
                    Verdict::Unknown => (FindingStatus::Latent, st.severity.lower()),
                };
                let mut f = finding(
                    &st.id,
                    severity,
                    status,
                    vec![net.enis[d].id.clone()],
                    Some(witness(src, trace.to.address, t.protocol, Some(port))),
                    because(&trace),
                    format!(
                        "{} {} is {} from {src} to {}: {}",
                        st.id,
                        traffic_text(t),
                        match status {
                            FindingStatus::Exposed => "possible",
                            FindingStatus::Unknown => "not known to be possible or not",
                            _ => "allowed by a security group but stopped",
                        },
                        ctx.eni_label(d),
                        trace.message
                    ),
                );
                let cause = what_is_open(net, d, src, t.protocol, port, &mut f);
                return Some(eni_member(net, d, f, cause));
            }
        } else if let Some((src, port)) = sg_part.witness(Some(t.ports.from)) {
            // A security group allows it; something else stops it today.
            let to_ep = dst_endpoint(net, d, src).unwrap_or(Endpoint::Eni {
                eni: d,
                addr: net.enis[d].primary(src.is_ipv6()).unwrap_or(src),
            });
            let trace = ctx.query(Endpoint::External(src), to_ep, t.protocol, port);
            // Stopped, unless a check on the way cannot decide (a NACL entry of unknown
            // content): then whether it is stopped is not known.
            let unknown = trace.verdict == Verdict::Unknown && rule_unknown(net, d);
            let mut f = finding(
                &st.id,
                if unknown {
                    st.severity
                } else {
                    st.severity.lower()
                },
                if unknown {
                    FindingStatus::Unknown
                } else {
                    FindingStatus::Latent
                },
                vec![net.enis[d].id.clone()],
                Some(witness(src, trace.to.address, t.protocol, Some(port))),
                because(&trace),
                format!(
                    "{} {} from {src} to {} is allowed by a security group but {} today: {}",
                    st.id,
                    traffic_text(t),
                    ctx.eni_label(d),
                    if unknown {
                        "not known to be stopped"
                    } else {
                        "stopped"
                    },
                    trace.message
                ),
            );
            let cause = what_is_open(net, d, src, t.protocol, port, &mut f);
            return Some(eni_member(net, d, f, cause));
        } else if let Some(r) = unresolved.first() {
            return Some(unknown_finding(ctx, st, d, r));
        }
    }
    // Sources inside the snapshot.
    for &s in &job.from.enis {
        if s == d || is_gateway_eni(net, s) {
            continue;
        }
        if let Some(f) = eni_pair(ctx, st, t, s, d, Kind::Deny) {
            return Some(f);
        }
    }
    None
}

/// Whether the NACL of `d`'s subnet holds an entry of unknown content (a model at an earlier
/// time, see [`crate::snapshot::UnknownNaclEntry`]).
fn rule_unknown(net: &Network, d: usize) -> bool {
    net.enis[d]
        .subnet
        .and_then(|s| net.subnets[s].nacl)
        .and_then(|n| net.nacls.get(n))
        .is_some_and(|n| {
            n.inbound
                .iter()
                .chain(&n.outbound)
                .any(|r| r.unknown.is_some())
        })
}

fn unknown_finding(ctx: &Ctx<'_>, st: &Statement, d: usize, r: &SgRule) -> Finding {
    let cause = vec![
        r.group_id.to_string(),
        format!(
            "{} rule {}",
            r.direction,
            crate::network::sg_rule_text(ctx.net, r)
        ),
    ];
    let f = finding(
        &st.id,
        st.severity,
        FindingStatus::Unknown,
        vec![ctx.net.enis[d].id.clone(), r.group_id.to_string()],
        None,
        vec![format!(
            "{} rule {}",
            r.group_id,
            crate::network::sg_rule_text(ctx.net, r)
        )],
        format!(
            "{} cannot be decided for {}: {} rule {} references {}, which is not in the snapshot",
            st.id,
            ctx.eni_label(d),
            r.group_id,
            crate::network::sg_rule_text(ctx.net, r),
            r.peer
        ),
    );
    member(f, vec![ctx.net.enis[d].id.clone()], cause)
}

/// A source ENI `s` to a destination ENI `d`: the exact ports both ends' filters allow, then the
/// engine's walk of a witness. For `deny`, returns an exposed/latent/unknown finding when the
/// destination's groups allow `s` at all; for `require`, a blocked/unknown finding when it fails.
fn eni_pair(
    ctx: &Ctx<'_>,
    st: &Statement,
    t: &Traffic,
    s: usize,
    d: usize,
    kind: Kind,
) -> Option<Finding> {
    let net = ctx.net;
    let ports = stmt_ports(t);
    let src_ip = net.enis[s]
        .primary(false)
        .or_else(|| net.enis[s].primary(true))?;
    let dst_ip = net.enis[d].primary(src_ip.is_ipv6())?;
    let point = Region::from_box(AddrRange::single(src_ip), ports);
    let (sg_in, unresolved) = sg_region(net, d, Direction::Inbound, t.protocol);
    let sg_part = sg_in.intersect(&point);
    if kind == Kind::Deny && sg_part.is_empty() {
        let r = unresolved.first()?;
        return Some(unknown_finding(ctx, st, d, r));
    }
    // Ports every filter on the way allows: destination NACL in, source groups and NACL out.
    let mut allowed = sg_part.clone();
    let same_subnet = net.enis[s].subnet.is_some() && net.enis[s].subnet == net.enis[d].subnet;
    if !same_subnet {
        if let Some(n) = net.enis[d].subnet.and_then(|x| net.subnets[x].nacl) {
            allowed = nacl_region(&net.nacls[n], Direction::Inbound, t.protocol, &allowed);
        }
    }
    let (sg_out, _) = sg_region(net, s, Direction::Outbound, t.protocol);
    let to_dst = sg_out.intersect(&Region::from_box(AddrRange::single(dst_ip), ports));
    let mut out_ports = Region::empty();
    for (_, p) in to_dst.boxes() {
        out_ports.push(AddrRange::single(src_ip), *p);
    }
    allowed = allowed.intersect(&out_ports);
    if !same_subnet {
        if let Some(n) = net.enis[s].subnet.and_then(|x| net.subnets[x].nacl) {
            let dst_box: Vec<_> = allowed
                .boxes()
                .iter()
                .map(|(_, p)| (AddrRange::single(dst_ip), *p))
                .collect();
            let mut r = Region::empty();
            for (a, p) in dst_box {
                r.push(a, p);
            }
            let ok = nacl_region(&net.nacls[n], Direction::Outbound, t.protocol, &r);
            let mut back = Region::empty();
            for (_, p) in ok.boxes() {
                back.push(AddrRange::single(src_ip), *p);
            }
            allowed = allowed.intersect(&back);
        }
    }
    let port = allowed
        .witness(Some(t.ports.from))
        .or_else(|| sg_part.witness(Some(t.ports.from)))
        .map(|(_, p)| p)
        .unwrap_or(t.ports.from);
    let trace = ctx.query(
        Endpoint::Eni {
            eni: s,
            addr: src_ip,
        },
        Endpoint::Eni {
            eni: d,
            addr: dst_ip,
        },
        t.protocol,
        port,
    );
    let w = Some(witness(src_ip, dst_ip, t.protocol, Some(port)));
    let resources = vec![net.enis[d].id.clone(), net.enis[s].id.clone()];
    match kind {
        Kind::Deny => {
            let status = match trace.verdict {
                Verdict::Reachable => FindingStatus::Exposed,
                Verdict::Unreachable => FindingStatus::Latent,
                Verdict::Unknown => FindingStatus::Unknown,
            };
            let severity = if status == FindingStatus::Latent {
                st.severity.lower()
            } else {
                st.severity
            };
            let mut f = finding(
                &st.id,
                severity,
                status,
                resources,
                w,
                because(&trace),
                format!(
                    "{} {} from {} to {}: {}",
                    st.id,
                    traffic_text(t),
                    ctx.eni_label(s),
                    ctx.eni_label(d),
                    trace.message
                ),
            );
            let cause = if status != FindingStatus::Unknown {
                what_is_open(net, d, src_ip, t.protocol, port, &mut f)
            } else {
                Some(blocked_cause(&trace))
            };
            Some(eni_member(net, d, f, cause))
        }
        Kind::Require | Kind::Allow => match trace.verdict {
            Verdict::Reachable => None,
            v => Some(member(
                finding(
                    &st.id,
                    st.severity,
                    if v == Verdict::Unknown {
                        FindingStatus::Unknown
                    } else {
                        FindingStatus::Blocked
                    },
                    resources,
                    w,
                    because(&trace),
                    format!(
                        "{} requires {} from {} to {}, but: {}",
                        st.id,
                        traffic_text(t),
                        ctx.eni_label(s),
                        ctx.eni_label(d),
                        trace.message
                    ),
                ),
                vec![net.enis[d].id.clone(), net.enis[s].id.clone()],
                blocked_cause(&trace),
            )),
        },
    }
}

/// At most this many source/destination pairs are walked per `require` statement.
const MAX_REQUIRE_PAIRS: usize = 10_000;

fn require(
    ctx: &Ctx<'_>,
    st: &Statement,
    from: &Endpoints,
    to: &Endpoints,
    out: &mut Vec<Finding>,
) {
    let net = ctx.net;
    if to.enis.is_empty() || (from.enis.is_empty() && from.outside.is_empty() && !from.internet) {
        out.push(finding(
            &st.id,
            st.severity,
            FindingStatus::Unknown,
            vec![],
            None,
            vec![],
            format!(
                "{} cannot be evaluated: its groups select no endpoint in the snapshot",
                st.id
            ),
        ));
        return;
    }
    let outside = from.outside_ranges(&ctx.internet);
    let mut pairs = 0;
    for t in &st.traffic {
        let ports = stmt_ports(t);
        for &d in &to.enis {
            if is_gateway_eni(net, d) {
                continue;
            }
            if !outside.is_empty() {
                let mut stmt = Region::empty();
                for a in &outside {
                    stmt.push(
                        *a,
                        PortRange::single(t.ports.from)
                            .intersect(&ports)
                            .unwrap_or(ports),
                    );
                }
                let (full, sg_part, _) =
                    outside_regions(ctx, d, t.protocol, &stmt, &SgCache::default());
                if full.is_empty() {
                    let src = sg_part
                        .witness(Some(t.ports.from))
                        .map(|(a, _)| a)
                        .or_else(|| outside.first().map(|a| a.first()))
                        .unwrap_or(IpAddr::from([8, 8, 8, 8]));
                    let to_ep = dst_endpoint(net, d, src).unwrap_or(Endpoint::Eni {
                        eni: d,
                        addr: net.enis[d].primary(src.is_ipv6()).unwrap_or(src),
                    });
                    let trace = ctx.query(Endpoint::External(src), to_ep, t.protocol, t.ports.from);
                    let cause = blocked_cause(&trace);
                    out.push(member(
                        finding(
                            &st.id,
                            st.severity,
                            if trace.verdict == Verdict::Unknown {
                                FindingStatus::Unknown
                            } else {
                                FindingStatus::Blocked
                            },
                            vec![net.enis[d].id.clone()],
                            Some(witness(
                                src,
                                trace.to.address,
                                t.protocol,
                                Some(t.ports.from),
                            )),
                            because(&trace),
                            format!(
                                "{} requires {} from outside to {}, but no source can reach it: {}",
                                st.id,
                                traffic_text(t),
                                ctx.eni_label(d),
                                trace.message
                            ),
                        ),
                        vec![net.enis[d].id.clone()],
                        cause,
                    ));
                }
            }
            for &s in &from.enis {
                if s == d || is_gateway_eni(net, s) {
                    continue;
                }
                pairs += 1;
                if pairs > MAX_REQUIRE_PAIRS {
                    continue;
                }
                if let Some(f) = eni_pair(ctx, st, t, s, d, Kind::Require) {
                    out.push(f);
                }
            }
        }
    }
    if pairs > MAX_REQUIRE_PAIRS {
        out.push(finding(
            &st.id,
            st.severity,
            FindingStatus::Unknown,
            vec![],
            None,
            vec![],
            format!(
                "{} covers {pairs} source/destination pairs; only the first {MAX_REQUIRE_PAIRS} were walked",
                st.id
            ),
        ));
    }
}

fn allowlist(ctx: &Ctx<'_>, file: &PolicyFile, out: &mut Vec<Finding>) {
    let net = ctx.net;
    let check = format!(
        "allowlist:{}",
        file.path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    );
    // The allowed regions, per destination ENI and protocol.
    let mut allowed: HashMap<(usize, u8), Region> = HashMap::new();
    let mut allowed_all: HashMap<usize, Region> = HashMap::new();
    for st in file.statements.iter().filter(|s| s.kind == Kind::Allow) {
        let (Ok(f), Ok(t)) = (groups_of(file, &st.from), groups_of(file, &st.to)) else {
            continue;
        };
        let (from, to) = (resolve_all(net, &f), resolve_all(net, &t));
        let mut srcs = from.outside_ranges(&ctx.internet);
        for &s in &from.enis {
            for ip in net.enis[s]
                .private_ipv4
                .iter()
                .chain(net.enis[s].ipv6.iter())
            {
                srcs.push(AddrRange::single(*ip));
            }
        }
        for tr in &st.traffic {
            for &d in &to.enis {
                let mut r = Region::empty();
                for a in &srcs {
                    r.push(*a, stmt_ports(tr));
                }
                match tr.protocol {
                    Protocol::All => {
                        let e = allowed_all.entry(d).or_default();
                        *e = std::mem::take(e).union(&r);
                    }
                    Protocol::Number(n) => {
                        let e = allowed.entry((d, n)).or_default();
                        *e = std::mem::take(e).union(&r);
                    }
                }
            }
        }
    }
    let everything = {
        let mut r = Region::empty();
        r.push(AddrRange::all(false), PortRange::ALL);
        r.push(AddrRange::all(true), PortRange::ALL);
        r
    };
    for d in 0..net.enis.len() {
        if is_gateway_eni(net, d) {
            continue;
        }
        for proto in [6u8, 17, 1] {
            let p = Protocol::Number(proto);
            let (sg, _) = sg_region(net, d, Direction::Inbound, p);
            let mut possible = sg.intersect(&everything);
            // What reaches a NACL entry of unknown content (a model at an earlier time).
            let mut undecided = Region::empty();
            let nacl = net.enis[d].subnet.and_then(|s| net.subnets[s].nacl);
            if let Some(n) = nacl {
                (possible, undecided) =
                    nacl_regions(&net.nacls[n], Direction::Inbound, p, &possible);
            }
            if possible.is_empty() && undecided.is_empty() {
                continue;
            }
            let mut ok = allowed.get(&(d, proto)).cloned().unwrap_or_default();
            if let Some(a) = allowed_all.get(&d) {
                ok = ok.union(a);
            }
            let rest = possible.minus(&ok);
            if rest.is_empty() {
                // Nothing outside the allowlist for sure; what reaches an entry of unknown
                // content may be: not known.
                let unsure = undecided.minus(&ok);
                let entry = nacl.and_then(|n| {
                    let acl = &net.nacls[n];
                    acl.inbound
                        .iter()
                        .find(|r| r.unknown.is_some())
                        .map(|r| format!("{} inbound {r}", acl.id))
                });
                if let (Some((src, port)), Some(entry)) = (unsure.witness(None), entry) {
                    let dst = net.enis[d].primary(src.is_ipv6()).unwrap_or(src);
                    let f = finding(
                        &check,
                        file.unlisted_severity,
                        FindingStatus::Unknown,
                        vec![net.enis[d].id.clone(), p.to_string()],
                        Some(witness(src, dst, p, Some(port))),
                        vec![entry.clone()],
                        format!(
                            "whether {} accepts {p} traffic no `allow` statement of {} covers is not known: e.g. from {src}{} it reaches {entry}",
                            ctx.eni_label(d),
                            file.path.display(),
                            if p.has_ports() { format!(" to port {port}") } else { String::new() }
                        ),
                    );
                    out.push(member(f, vec![net.enis[d].id.clone()], vec![entry]));
                }
                continue;
            }
            // A telling witness: a source in the ENI's own VPC, else on the internet, else any.
            let vpc_ranges: Vec<AddrRange> = net.enis[d]
                .vpc_id
                .as_deref()
                .and_then(|v| net.vpc(v))
                .map(|v| v.cidrs.iter().map(AddrRange::from_cidr).collect())
                .unwrap_or_default();
            let pick = rest
                .restrict_addrs(&vpc_ranges)
                .witness(None)
                .or_else(|| rest.restrict_addrs(&ctx.internet).witness(None))
                .or_else(|| rest.witness(None));
            if let Some((src, port)) = pick {
                let rule = net
                    .eni_rules(d, Direction::Inbound)
                    .find(|r| {
                        proto_matches(r.protocol, p)
                            && matches!(net.sg_evaluate(d, Direction::Inbound, src, p, Some(port), None, Some(true)), SgDecision::Allow(x) if x == *r)
                    })
                    .map(|r| (r.group_id.to_string(), format!("{} rule {}", r.group_id, crate::network::sg_rule_text(net, r)), format!("inbound rule {}", crate::network::sg_rule_text(net, r))));
                let cause = rule
                    .as_ref()
                    .map(|(g, _, text)| vec![g.clone(), text.clone(), p.to_string()]);
                let rule = rule.map(|(_, r, _)| r);
                let dst = net.enis[d].primary(src.is_ipv6()).unwrap_or(src);
                let f = finding(
                    &check,
                    file.unlisted_severity,
                    FindingStatus::NotAllowed,
                    vec![net.enis[d].id.clone(), p.to_string()],
                    Some(witness(src, dst, p, Some(port))),
                    rule.into_iter().collect(),
                    format!(
                        "{} accepts {p} traffic no `allow` statement of {} covers, e.g. from {src}{}",
                        ctx.eni_label(d),
                        file.path.display(),
                        if p.has_ports() { format!(" to port {port}") } else { String::new() }
                    ),
                );
                out.push(eni_member(net, d, f, cause));
            }
        }
    }
}

fn default_groups(net: &Network, out: &mut Vec<Finding>) {
    for g in net.groups.iter().filter(|g| g.name == "default") {
        if g.inbound.is_empty() && g.outbound.is_empty() {
            continue;
        }
        let members: Vec<String> = net
            .enis
            .iter()
            .filter(|e| e.groups.iter().any(|&i| net.groups[i].id == g.id))
            .map(|e| e.id.clone())
            .collect();
        let rules: Vec<String> = g
            .inbound
            .iter()
            .chain(g.outbound.iter())
            .map(|r| {
                format!(
                    "{} {} rule {}",
                    g.id,
                    r.direction,
                    crate::network::sg_rule_text(net, r)
                )
            })
            .collect();
        out.push(finding(
            "default-security-group",
            Severity::Medium,
            FindingStatus::DefaultSecurityGroupInUse,
            vec![g.id.clone()],
            None,
            rules,
            format!(
                "default security group {} has {} rule(s); it should restrict all traffic (CIS AWS Foundations 5.4){}",
                g.id,
                g.inbound.len() + g.outbound.len(),
                if members.is_empty() {
                    String::new()
                } else {
                    format!("; attached to {}", members.join(", "))
                }
            ),
        ));
    }
}

pub use super::observed::{observed_audit, observed_audit_with};

#[cfg(test)]
mod sort_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// `permute` puts at each position what the order names, as a copy would.
        #[test]
        fn permute_is_the_gather_of_the_order(keys in proptest::collection::vec(0u8..4, 0..60)) {
            let mut order: Vec<usize> = (0..keys.len()).collect();
            order.sort_by_key(|&i| keys[i]);
            let expected: Vec<(u8, usize)> = order.iter().map(|&i| (keys[i], i)).collect();
            let mut items: Vec<(u8, usize)> = keys.iter().copied().zip(0..).collect();
            permute(&mut items, &mut order);
            prop_assert_eq!(items, expected);
        }

        /// `sort` is the stable sort of the findings by severity (highest first), check,
        /// status and resources.
        #[test]
        fn sort_is_stable(keys in proptest::collection::vec((0u8..3, 0u8..3), 0..40)) {
            let findings: Vec<Finding> = keys
                .iter()
                .enumerate()
                .map(|(i, &(c, r))| Finding {
                    check: format!("c{c}"),
                    resources: vec![format!("r{r}")],
                    message: i.to_string(),
                    ..Default::default()
                })
                .collect();
            let mut expected = findings.clone();
            expected.sort_by(|a, b| {
                a.check.cmp(&b.check).then_with(|| a.resources.cmp(&b.resources))
            });
            let mut got = findings;
            sort(&mut got);
            prop_assert_eq!(got, expected);
        }
    }
}
