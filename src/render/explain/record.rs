//! One explanation as JSON and as a sentence: the views of the checks that decided (the rule,
//! its group or NACL, the direction) and the message text, with a per-thread cache of what each
//! rule renders to.

use crate::explain::*;
use crate::flow_log::Action;
use crate::network::sg_rule_text;
use crate::network::Network;
use crate::network_acl::{Action as RuleAction, NaclRule};
use crate::protocol::Protocol;
use crate::security_group::{Direction, SgPeer, SgRule};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;

pub(super) fn nacl_text(rule: &NaclRule) -> String {
    rule.to_string()
}

/// The JSON view of a security-group rule's decision: the rule's group is the resource.
fn sg_rule_view<'a>(
    dir: Option<Direction>,
    decision: &'static str,
    rule: &'a SgRule,
    text: String,
) -> DecidedView<'a> {
    DecidedView {
        layer: "security_group",
        decision,
        direction: dir,
        resources: vec![&*rule.group_id],
        rule_number: None,
        rule: Some(RuleView::Sg(rule)),
        tracking: None,
        text,
    }
}

/// The JSON view of one check that decided; `dir` is the explanation's direction.
fn decided_view<'a>(net: &'a Network, dir: Option<Direction>, d: &Decided<'a>) -> DecidedView<'a> {
    match *d {
        Decided::Nacl { nacl, rule } => DecidedView {
            layer: "network_acl",
            decision: rule.action.into(),
            direction: dir,
            resources: vec![net.nacls[nacl].id.as_str()],
            rule_number: Some(rule.rule_number),
            rule: Some(RuleView::Nacl(rule)),
            tracking: None,
            text: nacl_text(rule),
        },
        Decided::SgAllow(rule) => sg_rule_view(dir, "allow", rule, sg_rule_text(net, rule)),
        Decided::SgTracked {
            rule,
            untracked: Some(own),
        } => DecidedView {
            tracking: Some("untracked"),
            ..sg_rule_view(
                dir,
                "allow",
                own,
                format!(
                    "{} (untracked: the request was allowed by {} rule {}, a rule for all addresses)",
                    sg_rule_text(net, own),
                    rule.group_id,
                    sg_rule_text(net, rule)
                ),
            )
        },
        Decided::SgTracked {
            rule,
            untracked: None,
        } => DecidedView {
            tracking: Some("tracked"),
            ..sg_rule_view(
                dir,
                "allow",
                rule,
                format!(
                    "response to a request allowed by {}",
                    sg_rule_text(net, rule)
                ),
            )
        },
        Decided::SgDeny { eni, direction } => {
            let e = &net.enis[eni];
            let mut groups: Vec<&str> = e
                .groups
                .iter()
                .map(|&g| net.groups[g].id.as_str())
                .collect();
            groups.extend(e.missing_groups.iter().map(String::as_str));
            DecidedView {
                layer: "security_group",
                decision: "deny",
                direction: Some(direction),
                resources: groups,
                rule_number: None,
                rule: None,
                tracking: None,
                text: "no rule allows it".into(),
            }
        }
        Decided::SgUnresolved(rule) => sg_rule_view(
            dir,
            "unknown",
            rule,
            format!(
                "{} references {} which is not in the snapshot",
                sg_rule_text(net, rule),
                rule.peer
            ),
        ),
        Decided::SgMissing { eni } => DecidedView {
            layer: "security_group",
            decision: "unknown",
            direction: dir,
            resources: net.enis[eni]
                .missing_groups
                .iter()
                .map(String::as_str)
                .collect(),
            rule_number: None,
            rule: None,
            tracking: None,
            text: "attached groups are not in the snapshot".into(),
        },
        Decided::NaclMissing { subnet } => DecidedView {
            layer: "network_acl",
            decision: "unknown",
            direction: dir,
            resources: vec![net.subnets[subnet].id.as_str()],
            rule_number: None,
            rule: None,
            tracking: None,
            text: "the subnet's network ACL is not in the snapshot".into(),
        },
        Decided::Bpa {
            subnet,
            path,
            init,
            outcome,
            nat_conflict,
        } => {
            let j = bpa_judgement(net, subnet, path, init, nat_conflict);
            DecidedView {
                layer: "block_public_access",
                decision: bpa_decision(outcome),
                direction: dir,
                resources: j
                    .map(|j| j.resources.iter().map(String::as_str).collect())
                    .unwrap_or_default(),
                rule_number: None,
                rule: None,
                tracking: None,
                text: j.map(|j| j.detail.clone()).unwrap_or_default(),
            }
        }
    }
}

fn bpa_judgement(
    net: &Network,
    subnet: usize,
    path: crate::bpa::Path,
    init: crate::bpa::Initiated,
    nat_conflict: Option<usize>,
) -> Option<&crate::bpa::Judgement> {
    match nat_conflict {
        Some(eni) => net.bpa_nat_judgement(eni),
        None => net.bpa_judgement(subnet, path, init),
    }
}

fn bpa_decision(outcome: crate::bpa::Outcome) -> &'static str {
    match outcome {
        crate::bpa::Outcome::Deny => "deny",
        crate::bpa::Outcome::Unknown => "unknown",
        crate::bpa::Outcome::Allow | crate::bpa::Outcome::NoData => "allow",
    }
}

/// The clause of the one-sentence message for one check that decided (`allowed by …`).
fn clause(s: &mut String, net: &Network, d: &Decided<'_>) {
    let _ = match *d {
        Decided::Nacl { nacl, rule } if rule.action == RuleAction::Unknown => write!(
            s,
            "reaches NACL {} {}, of unknown content",
            net.nacls[nacl].id,
            rule
        ),
        Decided::Nacl { nacl, rule } => write!(
            s,
            "{} by NACL {} {}",
            if rule.action == RuleAction::Allow {
                "allowed"
            } else {
                "rejected"
            },
            net.nacls[nacl].id,
            rule
        ),
        Decided::SgAllow(rule) => write!(
            s,
            "allowed by {} rule {}",
            rule.group_id,
            sg_rule_text(net, rule)
        ),
        Decided::SgTracked {
            rule,
            untracked: Some(own),
        } => write!(
            s,
            "allowed by {} rule {} (an untracked flow is judged by its own rules: its request was allowed by {} rule {}, a rule for all addresses)",
            own.group_id,
            sg_rule_text(net, own),
            rule.group_id,
            sg_rule_text(net, rule)
        ),
        Decided::SgTracked {
            rule,
            untracked: None,
        } => write!(
            s,
            "allowed by connection tracking as the response to a request allowed by {} rule {}",
            rule.group_id,
            sg_rule_text(net, rule)
        ),
        Decided::SgDeny { eni, .. } => {
            let e = &net.enis[eni];
            s.push_str("rejected: no rule of ");
            if e.groups.is_empty() {
                s.push_str("its security groups");
            } else {
                for (i, &g) in e.groups.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    s.push_str(&net.groups[g].id);
                }
            }
            s.push_str(" allows it");
            Ok(())
        }
        Decided::SgUnresolved(rule) => write!(
            s,
            "undecided: {} rule {} references {}, not in the snapshot",
            rule.group_id,
            sg_rule_text(net, rule),
            rule.peer
        ),
        Decided::SgMissing { eni } => write!(
            s,
            "undecided: groups {} are not in the snapshot",
            net.enis[eni].missing_groups.join(", ")
        ),
        Decided::NaclMissing { subnet } => write!(
            s,
            "undecided: the NACL of {} is not in the snapshot",
            net.subnets[subnet].id
        ),
        Decided::Bpa {
            subnet,
            path,
            init,
            outcome,
            nat_conflict,
        } => write!(
            s,
            "{} by VPC Block Public Access: {}",
            match outcome {
                crate::bpa::Outcome::Deny => "rejected",
                crate::bpa::Outcome::Unknown => "undecided",
                _ => "allowed",
            },
            bpa_judgement(net, subnet, path, init, nat_conflict)
                .map(|j| j.detail.as_str())
                .unwrap_or_default()
        ),
    };
}

impl Explanation<'_> {
    /// The checks that decided, as JSON (`layer`, `decision`, `direction`, `resources`,
    /// `rule_number`, `rule`).
    pub fn decided_json(&self, net: &Network) -> Vec<Value> {
        self.decided_views(net)
            .iter()
            .filter_map(|d| serde_json::to_value(d).ok())
            .collect()
    }

    fn decided_views<'a>(&'a self, net: &'a Network) -> Vec<DecidedView<'a>> {
        self.decided_by
            .iter()
            .map(|d| decided_view(net, self.direction, d))
            .collect()
    }

    fn flow_text(&self) -> String {
        let proto = self
            .protocol
            .map(|p| Protocol::Number(p).to_string())
            .unwrap_or_else(|| "-".into());
        let addr = |a: Option<IpAddr>, p: Option<u16>| match (a, p) {
            (Some(a), Some(p))
                if self
                    .protocol
                    .is_some_and(|x| Protocol::Number(x).has_ports()) =>
            {
                if a.is_ipv6() {
                    format!("[{a}]:{p}")
                } else {
                    format!("{}:{p}", crate::render::ip::Ip(a))
                }
            }
            (Some(a), _) => crate::render::ip::Ip(a).to_string(),
            _ => "-".into(),
        };
        format!(
            "{proto} {} -> {}",
            addr(self.srcaddr, self.srcport),
            addr(self.dstaddr, self.dstport)
        )
    }

    /// The explanation in one plain sentence.
    pub fn message(&self, net: &Network) -> String {
        self.message_with(net, None)
    }

    /// [`Explanation::message`], the same text, its clauses from `cache` (which must be for the
    /// explanation's network).
    pub fn message_cached(&self, cache: &mut RenderCache<'_>) -> String {
        self.message_with(cache.network(), Some(cache))
    }

    /// [`Explanation::message`], its clauses from `cache` when given.
    fn message_with(&self, net: &Network, mut cache: Option<&mut RenderCache<'_>>) -> String {
        match self.status {
            Status::Malformed => {
                return format!("malformed line: {}", self.problem.as_deref().unwrap_or(""));
            }
            Status::Skipped => {
                return match self.code {
                    Code::SkipData => "SKIPDATA: records were skipped in this interval; the record set is incomplete".into(),
                    _ => "NODATA: no traffic on the interface in this interval".into(),
                };
            }
            _ => {}
        }
        let at = self
            .eni
            .map(|i| {
                let e = &net.enis[i];
                match &e.name {
                    Some(n) => format!("{} ({})", e.id, crate::render::sanitize(n)),
                    None => e.id.clone(),
                }
            })
            .unwrap_or_else(|| self.interface_id.as_deref().unwrap_or("-").to_string());
        match self.code {
            Code::UnknownEni => {
                let id = self.interface_id.as_deref().unwrap_or("-");
                return match net.withheld.get(id) {
                    Some(why) => format!(
                        "{}: interface {id} is left out of the model: {}",
                        self.flow_text(),
                        crate::render::sanitize_line(why)
                    ),
                    None => format!("{}: interface {id} is not in the snapshot", self.flow_text()),
                };
            }
            Code::DirectionUnknown => {
                return format!(
                    "{} at {at}: neither address is the interface's and the record has no flow-direction",
                    self.flow_text()
                )
            }
            Code::MissingFields => {
                return format!("{} at {at}: the record lacks addresses or protocol", self.flow_text())
            }
            Code::MixedAddressFamilies => {
                return format!(
                    "{} at {at}: the source and destination are of different address families (a packet has one; NAT64 at a NAT gateway is not modelled)",
                    self.flow_text()
                )
            }
            _ => {}
        }
        let dir = match self.direction {
            Some(Direction::Inbound) => "inbound",
            Some(Direction::Outbound) => "outbound",
            None => "",
        };
        let role = match self.role {
            Some(Role::Request) => "request",
            Some(Role::Response) => "response",
            None => "flow",
        };
        let way = match self.direction {
            Some(Direction::Inbound) => "on the way in",
            _ => "on the way out",
        };
        // One buffer for the whole sentence (writing to a String cannot fail).
        let mut s = String::with_capacity(256);
        let _ = write!(s, "{dir} {role} {} at {at}: ", self.flow_text());
        for (k, d) in self.decided_by.iter().enumerate() {
            if k > 0 {
                s.push_str("; ");
            }
            match cache.as_deref_mut() {
                Some(cache) => s.push_str(&cache.rendered(self.direction, d).clause),
                None => clause(&mut s, net, d),
            }
        }
        if self.decided_by.is_empty() {
            s.push_str("no filter applies");
        }
        s.push(' ');
        s.push_str(way);
        if self.same_subnet {
            s.push_str(" (same subnet: no NACL)");
        }
        match (self.status, self.expected, self.observed) {
            (Status::Contradiction, Some(x), Some(y)) => {
                let _ = write!(s, "; expected {x} but observed {y}");
            }
            (Status::Unknown, None, _) => s.push_str("; the snapshot cannot decide"),
            _ => {}
        }
        s
    }

    /// The explanation as a JSON object (one line of `--output jsonl`).
    pub fn to_json(&self, net: &Network) -> Value {
        serde_json::to_value(self.view(net)).unwrap_or(Value::Null)
    }

    /// The explanation as one line of JSON (what `--output jsonl` prints), serialized directly.
    pub fn to_json_line(&self, net: &Network) -> String {
        // Sized for a typical line (a contradiction with its hints is about 1.6 KB).
        let mut buf = Vec::with_capacity(2048);
        match serde_json::to_writer(&mut buf, &self.view(net)) {
            Ok(()) => String::from_utf8(buf).unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// [`Explanation::to_json_line`], the same text, with the pieces that depend only on the
    /// deciding checks taken from `cache` (which must be for the explanation's network).
    pub fn to_json_line_with(&self, cache: &mut RenderCache<'_>) -> String {
        let mut buf = Vec::with_capacity(2048);
        self.write_json_line(cache, &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }

    /// Appends [`Explanation::to_json_line_with`] to `out` (JSON text, UTF-8).
    pub fn write_json_line(&self, cache: &mut RenderCache<'_>, out: &mut Vec<u8>) {
        self.write_json_line_parts(cache, out, JsonParts::ALL);
    }

    /// [`Explanation::write_json_line`] with the costly parts left out where `parts` says so
    /// (their keys absent): for a reader that needs only the rest.
    pub fn write_json_line_parts(
        &self,
        cache: &mut RenderCache<'_>,
        out: &mut Vec<u8>,
        parts: JsonParts,
    ) {
        let net = cache.network();
        let start = out.len();
        let buf = out;
        let head = self.head(net);
        // The plain path, should a piece fail to serialize (it does not: no map keys here
        // are non-strings).
        let plain = |buf: &mut Vec<u8>| {
            buf.truncate(start);
            buf.extend_from_slice(self.to_json_line(net).as_bytes());
        };
        if serde_json::to_writer(&mut *buf, &head).is_err() || buf.pop() != Some(b'}') {
            return plain(buf);
        }
        if parts.decided_by {
            buf.extend_from_slice(b",\"decided_by\":[");
            for (k, d) in self.decided_by.iter().enumerate() {
                if k > 0 {
                    buf.push(b',');
                }
                buf.extend_from_slice(cache.rendered(self.direction, d).json.as_bytes());
            }
            buf.push(b']');
        }
        buf.extend_from_slice(b",\"reason\":");
        let tail = serde_json::to_writer(&mut *buf, &self.code)
            .and_then(|()| {
                if !parts.message {
                    return Ok(());
                }
                let message = self.message_with(net, Some(cache));
                buf.extend_from_slice(b",\"message\":");
                serde_json::to_writer(&mut *buf, &message)
            })
            .and_then(|()| {
                if self.hints.is_empty() {
                    return Ok(());
                }
                buf.extend_from_slice(b",\"hints\":");
                serde_json::to_writer(&mut *buf, &self.hints)
            })
            .and_then(|()| match &self.via {
                Some(via) => {
                    buf.extend_from_slice(b",\"via\":");
                    serde_json::to_writer(&mut *buf, via)
                }
                None => Ok(()),
            })
            .and_then(|()| match &self.then {
                Some(then) => {
                    buf.extend_from_slice(b",\"then\":");
                    serde_json::to_writer(&mut *buf, then)
                }
                None => Ok(()),
            });
        if tail.is_err() {
            return plain(buf);
        }
        buf.push(b'}');
    }

    fn head<'a>(&'a self, net: &'a Network) -> HeadView<'a> {
        HeadView {
            file: self.file.to_string_lossy(),
            line: self.line,
            event: self.event,
            status: self.status,
            observed: self.observed.map(Action::as_str),
            expected: self.expected.map(Action::as_str),
            interface_id: self.interface_id.as_deref(),
            interface_name: self.eni.and_then(|i| net.enis[i].name.as_deref()),
            direction: self.direction,
            direction_evidence: self.direction_evidence,
            role: self.role,
            role_evidence: self.role_evidence,
            flow: (self.status != Status::Malformed).then_some(FlowView {
                srcaddr: self.srcaddr,
                dstaddr: self.dstaddr,
                srcport: self.srcport,
                dstport: self.dstport,
                protocol: self.protocol,
            }),
        }
    }

    fn view<'a>(&'a self, net: &'a Network) -> View<'a> {
        View {
            head: self.head(net),
            decided_by: self.decided_views(net),
            reason: self.code,
            message: self.message(net),
            hints: &self.hints,
            via: self.via.as_deref(),
            then: self.then.as_deref(),
        }
    }
}

/// Rendered pieces of explanations that depend only on the network and the check that
/// decided (the rule, the ENI), kept from record to record: each `decided_by` entry's JSON and
/// its clause of the message. Printing many records decided by the same rules then renders
/// each rule once. Keep one per thread; it holds the network borrowed, so it cannot outlive a
/// change to it.
pub struct RenderCache<'n> {
    net: &'n Network,
    decided: FxHashMap<DecidedKey, Rendered>,
}

/// What a cached check renders to.
struct Rendered {
    json: Box<str>,
    clause: Box<str>,
}

/// A check that decided, by the indexes of what it names, and the explanation's direction
/// (which its JSON shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DecidedKey {
    kind: u8,
    /// The rule of an untracked response's own direction (group, position).
    extra: (usize, usize),
    a: usize,
    b: usize,
    c: usize,
    direction: Option<Direction>,
}

impl DecidedKey {
    fn of(d: &Decided<'_>, direction: Option<Direction>) -> DecidedKey {
        let out = |dir: Direction| usize::from(dir == Direction::Outbound);
        let mut extra = (usize::MAX, usize::MAX);
        let (kind, a, b, c) = match *d {
            Decided::Nacl { nacl, rule } => (0, nacl, out(rule.direction), rule.position),
            Decided::SgAllow(r) => (1, r.group, out(r.direction), r.position),
            Decided::SgTracked {
                rule: r,
                untracked: Some(own),
            } => {
                extra = (own.group, own.position);
                (3, r.group, out(r.direction), r.position)
            }
            Decided::SgTracked {
                rule: r,
                untracked: None,
            } => (2, r.group, out(r.direction), r.position),
            Decided::SgDeny { eni, direction } => (4, eni, out(direction), 0),
            Decided::SgUnresolved(r) => (5, r.group, out(r.direction), r.position),
            Decided::SgMissing { eni } => (6, eni, 0, 0),
            Decided::NaclMissing { subnet } => (7, subnet, 0, 0),
            Decided::Bpa {
                subnet,
                path,
                init,
                nat_conflict,
                ..
            } => (
                8,
                subnet,
                crate::network::bpa_slot(path, init),
                nat_conflict.map_or(0, |e| e + 1),
            ),
        };
        DecidedKey {
            kind,
            extra,
            a,
            b,
            c,
            direction,
        }
    }
}

impl<'n> RenderCache<'n> {
    /// An empty cache for explanations of `net`.
    pub fn new(net: &'n Network) -> RenderCache<'n> {
        RenderCache {
            net,
            decided: FxHashMap::default(),
        }
    }

    /// The network it renders for.
    pub fn network(&self) -> &'n Network {
        self.net
    }

    /// The JSON of one deciding check, as `decided_by` shows it: the same text for the same
    /// rule (group or NACL id, direction, rule) in any network.
    pub(crate) fn decided_json(&mut self, direction: Option<Direction>, d: &Decided<'_>) -> &str {
        &self.rendered(direction, d).json
    }

    /// Whether a deciding check of an explanation by this cache's network (`d`, with the
    /// explanation's `direction`) shows as the same JSON as one by `other`'s (`od`, with
    /// `other_direction`). Without rendering them when the two networks share their base
    /// ([`Network::shares_base`]) and the checks name the same things there, and the groups
    /// they name are the same (shared) groups.
    pub(crate) fn same_decided(
        &mut self,
        direction: Option<Direction>,
        d: &Decided<'_>,
        other: &mut RenderCache<'_>,
        other_direction: Option<Direction>,
        od: &Decided<'_>,
    ) -> bool {
        if self.net.shares_base(other.net) && direction == other_direction {
            // A rule's JSON is its fields and its text, whose only part from the network is
            // the name of a group it names: the same when those are.
            let (a, b) = (self.net, other.net);
            let shown = |x: &SgRule, y: &SgRule| {
                x.group_id == y.group_id
                    && x.direction == y.direction
                    && x.permission_index == y.permission_index
                    && x.protocol == y.protocol
                    && x.ports == y.ports
                    && x.peer == y.peer
                    && x.description == y.description
                    && match &x.peer {
                        SgPeer::Group(g) => {
                            a.group(&g.id).map(|g| &g.name) == b.group(&g.id).map(|g| &g.name)
                        }
                        _ => true,
                    }
            };
            match (d, od) {
                (Decided::SgAllow(x), Decided::SgAllow(y))
                | (Decided::SgUnresolved(x), Decided::SgUnresolved(y)) => return shown(x, y),
                (
                    Decided::SgTracked {
                        rule: x,
                        untracked: ux,
                    },
                    Decided::SgTracked {
                        rule: y,
                        untracked: uy,
                    },
                ) => {
                    return shown(x, y)
                        && match (ux, uy) {
                            (None, None) => true,
                            (Some(x), Some(y)) => shown(x, y),
                            _ => false,
                        }
                }
                _ => {}
            }
            let key = DecidedKey::of(d, direction);
            if key == DecidedKey::of(od, other_direction) {
                let shared = |g: usize| {
                    g == usize::MAX
                        || matches!((a.groups.get(g), b.groups.get(g)),
                            (Some(x), Some(y)) if std::sync::Arc::ptr_eq(x, y))
                };
                let same = match *d {
                    Decided::Nacl { .. }
                    | Decided::SgMissing { .. }
                    | Decided::NaclMissing { .. }
                    | Decided::Bpa { .. } => true,
                    Decided::SgDeny { eni, .. } => a
                        .enis
                        .get(eni)
                        .is_some_and(|e| e.groups.iter().all(|&g| shared(g))),
                    Decided::SgAllow(_) | Decided::SgTracked { .. } | Decided::SgUnresolved(_) => {
                        shared(key.a) && shared(key.extra.0)
                    }
                };
                if same {
                    return true;
                }
            }
        }
        self.decided_json(direction, d) == other.decided_json(other_direction, od)
    }

    fn rendered(&mut self, direction: Option<Direction>, d: &Decided<'_>) -> &Rendered {
        // Bounded: a run that prints records decided by very many rules starts afresh.
        if self.decided.len() >= 1 << 14 {
            self.decided.clear();
        }
        let net = self.net;
        self.decided
            .entry(DecidedKey::of(d, direction))
            .or_insert_with(|| {
                let view = decided_view(net, direction, d);
                let mut clause_text = String::new();
                clause(&mut clause_text, net, d);
                Rendered {
                    json: serde_json::to_string(&view).unwrap_or_default().into(),
                    clause: clause_text.into(),
                }
            })
    }
}

/// Which costly parts a line of JSON holds ([`Explanation::write_json_line_parts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonParts {
    /// `decided_by`: every check, with its rule.
    pub decided_by: bool,
    /// `message`: the explanation in words.
    pub message: bool,
}

impl JsonParts {
    /// Every part (what `--output jsonl` prints).
    pub const ALL: JsonParts = JsonParts {
        decided_by: true,
        message: true,
    };
}

/// The fields of [`View`] before `decided_by` (written alone when a line is made of cached
/// pieces).
#[derive(Serialize)]
struct HeadView<'a> {
    file: Cow<'a, str>,
    line: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<u32>,
    status: Status,
    observed: Option<&'static str>,
    expected: Option<&'static str>,
    interface_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    interface_name: Option<&'a str>,
    direction: Option<Direction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction_evidence: Option<&'static str>,
    role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_evidence: Option<&'static str>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    flow: Option<FlowView>,
}

/// The JSON shape of an explanation, in the order a reader wants the fields.
#[derive(Serialize)]
struct View<'a> {
    #[serde(flatten)]
    head: HeadView<'a>,
    decided_by: Vec<DecidedView<'a>>,
    reason: Code,
    message: String,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    hints: &'a [Cow<'static, str>],
    /// The load balancer the traffic came through.
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<&'a str>,
    /// With a history: what the snapshot's configuration says, and the changes since.
    #[serde(skip_serializing_if = "Option::is_none")]
    then: Option<&'a crate::explain::JudgedThen>,
}

#[derive(Serialize)]
struct FlowView {
    #[serde(serialize_with = "crate::render::ip::serialize_opt")]
    srcaddr: Option<IpAddr>,
    #[serde(serialize_with = "crate::render::ip::serialize_opt")]
    dstaddr: Option<IpAddr>,
    srcport: Option<u16>,
    dstport: Option<u16>,
    protocol: Option<u8>,
}

#[derive(Serialize)]
struct DecidedView<'a> {
    layer: &'static str,
    decision: &'static str,
    direction: Option<Direction>,
    resources: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_number: Option<u32>,
    rule: Option<RuleView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tracking: Option<&'static str>,
    text: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum RuleView<'a> {
    Nacl(&'a NaclRule),
    Sg(&'a SgRule),
}

impl From<RuleAction> for &'static str {
    fn from(a: RuleAction) -> &'static str {
        match a {
            RuleAction::Allow => "allow",
            RuleAction::Deny => "deny",
            RuleAction::Unknown => "unknown",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::Explainer;
    use crate::{Network, Snapshot};
    use serde_json::json;

    fn snapshot(web_in: Value) -> Snapshot {
        let entries = json!([
            {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"},
            {"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": true, "CidrBlock": "0.0.0.0/0"}]);
        let v = json!({
            "Vpcs": [{"VpcId": "vpc-a", "CidrBlock": "10.0.0.0/16"}],
            "Subnets": [{"SubnetId": "subnet-a", "VpcId": "vpc-a", "CidrBlock": "10.0.1.0/24"}],
            "NetworkAcls": [{"NetworkAclId": "acl-a", "VpcId": "vpc-a", "IsDefault": true,
                "Associations": [{"NetworkAclId": "acl-a", "SubnetId": "subnet-a"}], "Entries": entries}],
            "SecurityGroups": [
                {"GroupId": "sg-web", "GroupName": "web", "VpcId": "vpc-a", "IpPermissions": web_in,
                 "IpPermissionsEgress": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                     "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]},
                {"GroupId": "sg-app", "GroupName": "app", "VpcId": "vpc-a"}],
            "NetworkInterfaces": [
                {"NetworkInterfaceId": "eni-web", "SubnetId": "subnet-a", "VpcId": "vpc-a",
                 "PrivateIpAddress": "10.0.1.10", "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.10", "Primary": true}],
                 "Groups": [{"GroupId": "sg-web"}]},
                {"NetworkInterfaceId": "eni-app", "SubnetId": "subnet-a", "VpcId": "vpc-a",
                 "PrivateIpAddress": "10.0.1.20", "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.20", "Primary": true}],
                 "Groups": [{"GroupId": "sg-app"}]}]
        });
        Snapshot::from_json_str(&v.to_string()).unwrap()
    }

    /// [`RenderCache::same_decided`] says what comparing the two checks' JSON says, for
    /// checks of a network and of one made from it with one group's rules changed
    /// ([`Network::with_groups`]): the same rules, rules moved to another permission,
    /// a description changed, a rule gone, a group named.
    #[test]
    fn same_decided_is_what_the_json_says() {
        let cidr = |port: u16, cidr: &str, d: Option<&str>| {
            json!({"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                   "IpRanges": [{"CidrIp": cidr, "Description": d}]})
        };
        let group = |port: u16| {
            json!({"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
                   "UserIdGroupPairs": [{"GroupId": "sg-app"}]})
        };
        let now_rules = json!([
            cidr(22, "10.0.0.0/8", None),
            cidr(443, "0.0.0.0/0", None),
            group(80)
        ]);
        let variants = [
            now_rules.clone(),
            json!([
                cidr(443, "0.0.0.0/0", None),
                cidr(22, "10.0.0.0/8", None),
                group(80)
            ]),
            json!([
                cidr(22, "10.0.0.0/8", Some("ssh")),
                cidr(443, "0.0.0.0/0", None),
                group(80)
            ]),
            json!([cidr(443, "0.0.0.0/0", None)]),
            json!([
                group(80),
                cidr(22, "10.0.0.0/8", None),
                cidr(443, "0.0.0.0/0", None),
                group(22)
            ]),
        ];
        let net = Network::build(&snapshot(now_rules));
        let lines = [
            "2 111122223333 eni-web 10.0.1.20 10.0.1.10 40000 22 6 1 40 100 130 ACCEPT OK",
            "2 111122223333 eni-web 10.0.1.20 10.0.1.10 40001 443 6 1 40 100 130 ACCEPT OK",
            "2 111122223333 eni-web 10.0.1.20 10.0.1.10 40002 80 6 1 40 100 130 ACCEPT OK",
            "2 111122223333 eni-web 10.0.1.10 10.0.1.20 443 40003 6 1 40 100 130 ACCEPT OK",
            "2 111122223333 eni-web 10.0.1.10 198.51.100.1 40004 443 6 1 40 100 130 ACCEPT OK",
            "2 111122223333 eni-web 198.51.100.1 10.0.1.10 40005 3389 6 1 40 100 130 REJECT OK",
        ];
        let chunk = crate::flow_log::Chunk::new(
            "t.log",
            lines.join("\n").into_bytes(),
            crate::flow_log::Format::default(),
        );
        let records = crate::flow_log::parse_chunk(&chunk).records;
        assert_eq!(records.len(), lines.len());
        let file: std::sync::Arc<std::path::Path> = std::path::Path::new("t.log").into();
        let (mut same, mut differ) = (0, 0);
        for rules in variants {
            let sg = snapshot(rules).security_groups[0].clone();
            let then = net.with_groups(&[&sg]).unwrap();
            assert!(then.shares_base(&net));
            let (mut a, mut b) = (RenderCache::new(&then), RenderCache::new(&net));
            for r in &records {
                let x = Explainer::new(&then).explain(&file, r, None);
                let y = Explainer::new(&net).explain(&file, r, None);
                for d in &x.decided_by {
                    for od in &y.decided_by {
                        let json =
                            a.decided_json(x.direction, d) == b.decided_json(y.direction, od);
                        assert_eq!(
                            a.same_decided(x.direction, d, &mut b, y.direction, od),
                            json,
                            "{d:?} / {od:?}"
                        );
                        if json {
                            same += 1
                        } else {
                            differ += 1
                        }
                    }
                }
            }
        }
        assert!(same > 5 && differ > 5, "{same} same, {differ} different");
    }
}
