//! Explaining flow-log records: for each record, what the configuration does at that ENI (its
//! NACL and security groups, statefully for responses), the rule that decided, and whether the
//! observed `action` agrees.

use crate::flow_log::{
    Action, FlowDirection, FlowRecord, Lite, LogStatus, Malformed, ParsedChunk, Problem,
};
use crate::network::Network;
use crate::network_acl::{Action as RuleAction, NaclRule};
use crate::protocol::Protocol;
use crate::query::sg_rule_text;
use crate::security_group::SgDecision;
use crate::security_group::{Direction, SgPeer, SgRule};
use crate::timestamp::Rfc3339;
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::{json, Value};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

mod fast;
pub(crate) use fast::Step;

/// The outcome of comparing a record with the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The configuration predicts what was observed.
    Consistent,
    /// The configuration predicts the opposite of what was observed.
    Contradiction,
    /// The configuration cannot decide (ENI not in the snapshot, unresolvable reference, …).
    Unknown,
    /// A NODATA or SKIPDATA record: no flow to explain.
    Skipped,
    /// The line is not a valid record.
    Malformed,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Status; 5] = [
        Status::Consistent,
        Status::Contradiction,
        Status::Unknown,
        Status::Skipped,
        Status::Malformed,
    ];

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Consistent => "consistent",
            Status::Contradiction => "contradiction",
            Status::Unknown => "unknown",
            Status::Skipped => "skipped",
            Status::Malformed => "malformed",
        }
    }

    /// Parses a status name.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

/// Request (from the initiator) or response (from the responder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Traffic of the side that opened the connection.
    Request,
    /// Traffic of the side that answered.
    Response,
}

/// One check that decided (or helped decide) a record.
#[derive(Debug, Clone, Copy)]
pub enum Decided<'n> {
    /// A NACL rule decided (allow or deny).
    Nacl {
        /// The NACL's index in [`Network::nacls`].
        nacl: usize,
        /// The rule.
        rule: &'n NaclRule,
    },
    /// A security-group rule allowed the packet itself.
    SgAllow(&'n SgRule),
    /// A response allowed by connection tracking: the rule that allowed its request.
    SgTracked {
        /// The rule that allowed the request.
        rule: &'n SgRule,
        /// Whether the flow is untracked (then the response is judged by rules, which allow it).
        untracked: bool,
    },
    /// No rule of the ENI's groups allows it.
    SgDeny {
        /// The ENI.
        eni: usize,
        /// The direction evaluated.
        direction: Direction,
    },
    /// A rule could decide but references something not in the snapshot.
    SgUnresolved(&'n SgRule),
    /// Groups attached to the ENI are missing from the snapshot.
    SgMissing {
        /// The ENI.
        eni: usize,
    },
    /// The subnet's NACL is not in the snapshot.
    NaclMissing {
        /// The subnet index.
        subnet: usize,
    },
}

impl Decided<'_> {
    fn denies(&self) -> bool {
        match self {
            Decided::Nacl { rule, .. } => rule.action == RuleAction::Deny,
            Decided::SgDeny { .. } => true,
            _ => false,
        }
    }

    fn unknown(&self) -> bool {
        matches!(
            self,
            Decided::SgUnresolved(_) | Decided::SgMissing { .. } | Decided::NaclMissing { .. }
        )
    }
}

/// Why a record has the status it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Code {
    /// The configuration allows it.
    #[serde(rename = "ALLOWED")]
    Allowed,
    /// No security-group rule allows it.
    #[serde(rename = "ENI_SG_RULES_MISMATCH")]
    SgRulesMismatch,
    /// A NACL rule denies it.
    #[serde(rename = "SUBNET_ACL_RESTRICTION")]
    SubnetAclRestriction,
    /// The record's ENI is not in the snapshot.
    #[serde(rename = "UNKNOWN_ENI")]
    UnknownEni,
    /// A deciding rule references a group not in the snapshot.
    #[serde(rename = "UNKNOWN_PEERED_SGS")]
    UnknownPeeredSgs,
    /// A deciding rule references a prefix list whose entries are not in the snapshot.
    #[serde(rename = "UNKNOWN_PREFIX_LIST")]
    UnknownPrefixList,
    /// The snapshot lacks the ENI's groups or its subnet's NACL.
    #[serde(rename = "INCOMPLETE_SNAPSHOT")]
    IncompleteSnapshot,
    /// Neither address of the record belongs to the ENI and there is no `flow-direction`.
    #[serde(rename = "DIRECTION_UNKNOWN")]
    DirectionUnknown,
    /// The record has no addresses or protocol to evaluate.
    #[serde(rename = "MISSING_FIELDS")]
    MissingFields,
    /// The record has no `action` field to compare with.
    #[serde(rename = "NO_ACTION_FIELD")]
    NoActionField,
    /// NODATA.
    #[serde(rename = "NODATA")]
    NoData,
    /// SKIPDATA.
    #[serde(rename = "SKIPDATA")]
    SkipData,
    /// A malformed line.
    #[serde(rename = "MALFORMED")]
    Malformed,
}

impl Code {
    /// The code as text.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Allowed => "ALLOWED",
            Code::SgRulesMismatch => "ENI_SG_RULES_MISMATCH",
            Code::SubnetAclRestriction => "SUBNET_ACL_RESTRICTION",
            Code::UnknownEni => "UNKNOWN_ENI",
            Code::UnknownPeeredSgs => "UNKNOWN_PEERED_SGS",
            Code::UnknownPrefixList => "UNKNOWN_PREFIX_LIST",
            Code::IncompleteSnapshot => "INCOMPLETE_SNAPSHOT",
            Code::DirectionUnknown => "DIRECTION_UNKNOWN",
            Code::MissingFields => "MISSING_FIELDS",
            Code::NoActionField => "NO_ACTION_FIELD",
            Code::NoData => "NODATA",
            Code::SkipData => "SKIPDATA",
            Code::Malformed => "MALFORMED",
        }
    }
}

/// The explanation of one record (or one malformed line).
#[derive(Debug, Clone)]
pub struct Explanation<'n> {
    /// The file.
    pub file: Arc<Path>,
    /// 1-based line.
    pub line: u64,
    /// The record's 1-based position among the log events of its line, on a line of several
    /// records (see [`FlowRecord::event`]); for a malformed event, its number.
    pub event: Option<u32>,
    /// The status.
    pub status: Status,
    /// The record's `action`.
    pub observed: Option<Action>,
    /// What the configuration predicts.
    pub expected: Option<Action>,
    /// The ENI (index into [`Network::enis`]) the record was captured at.
    pub eni: Option<usize>,
    /// The record's `interface-id`.
    pub interface_id: Option<crate::flow_log::Text>,
    /// Inbound or outbound relative to the ENI.
    pub direction: Option<Direction>,
    /// What told the direction.
    pub direction_evidence: Option<&'static str>,
    /// Request or response.
    pub role: Option<Role>,
    /// What told the role.
    pub role_evidence: Option<&'static str>,
    /// The peer's address as evaluated.
    pub peer: Option<IpAddr>,
    /// The record's 5-tuple.
    pub srcaddr: Option<IpAddr>,
    /// Destination address.
    pub dstaddr: Option<IpAddr>,
    /// Source port.
    pub srcport: Option<u16>,
    /// Destination port.
    pub dstport: Option<u16>,
    /// Protocol number.
    pub protocol: Option<u8>,
    /// Whether the NACL was skipped because both ends are in one subnet.
    pub same_subnet: bool,
    /// The checks that decided, in the order the packet meets them.
    pub decided_by: Vec<Decided<'n>>,
    /// The reason code.
    pub code: Code,
    /// Hints for a contradiction (what could explain it).
    pub hints: Vec<Cow<'static, str>>,
    /// For malformed lines: what was wrong.
    pub problem: Option<String>,
}

/// Well-known service ports above 1023, for telling requests from responses by ports alone.
const SERVICE_PORTS: &[u16] = &[
    1433, 1521, 2049, 2379, 3000, 3306, 3389, 5000, 5432, 5601, 5672, 5984, 6379, 6443, 7000, 7001,
    8000, 8080, 8081, 8088, 8443, 8888, 9000, 9042, 9090, 9092, 9200, 9300, 9443, 10250, 11211,
    15672, 27017,
];

fn is_service_port(p: u16) -> bool {
    p < 1024 || SERVICE_PORTS.contains(&p)
}

fn role_from_flags(flags: u16) -> Option<Role> {
    // AWS reports SYN-ACK as 18 (ACK alone is never reported), OR-ed with FIN/RST/SYN.
    if flags & 0x12 == 0x12 {
        Some(Role::Response)
    } else if flags & 0x02 != 0 {
        Some(Role::Request)
    } else {
        None
    }
}

/// How a record names its ENI, resolved against the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Iface {
    /// No `interface-id`: the ENI is found by address.
    Absent,
    /// An `interface-id` the snapshot does not have.
    Unknown,
    /// An ENI of the snapshot (index into [`Network::enis`]).
    Eni(u32),
}

/// What explaining reads of a record, its ENI resolved.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    pub(crate) iface: Iface,
    pub(crate) srcaddr: Option<IpAddr>,
    pub(crate) dstaddr: Option<IpAddr>,
    pub(crate) srcport: Option<u16>,
    pub(crate) dstport: Option<u16>,
    pub(crate) protocol: Option<u8>,
    pub(crate) action: Option<Action>,
    pub(crate) log_status: Option<LogStatus>,
    pub(crate) start: Option<u64>,
    pub(crate) end: Option<u64>,
    pub(crate) tcp_flags: Option<u16>,
    pub(crate) flow_direction: Option<FlowDirection>,
    pub(crate) pkt_srcaddr: Option<IpAddr>,
    pub(crate) pkt_dstaddr: Option<IpAddr>,
}

impl Facts {
    fn has_flow_data(&self) -> bool {
        !matches!(
            self.log_status,
            Some(LogStatus::NoData) | Some(LogStatus::SkipData)
        )
    }

    /// Whether the record says something about a flow at a known interface (NODATA and
    /// SKIPDATA records and records of interfaces the snapshot lacks do not).
    fn is_flow(&self) -> bool {
        self.has_flow_data() && self.iface != Iface::Unknown
    }
}

/// A flow at an ENI: records of the same flow in both directions help each other tell request
/// from response. Hashed by a few packed words rather than field by field: every record of a
/// chunk is indexed by its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FlowKey {
    iface: Iface,
    src: Option<IpAddr>,
    dst: Option<IpAddr>,
    sport: Option<u16>,
    dport: Option<u16>,
    proto: Option<u8>,
}

impl std::hash::Hash for FlowKey {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        fn fold(a: Option<IpAddr>) -> u64 {
            match a {
                None => u64::MAX,
                Some(IpAddr::V4(a)) => u64::from(u32::from(a)),
                Some(IpAddr::V6(a)) => {
                    let x = u128::from(a);
                    (x as u64) ^ ((x >> 64) as u64).rotate_left(17) ^ (1 << 63)
                }
            }
        }
        let iface = match self.iface {
            Iface::Absent => 1 << 32,
            Iface::Unknown => 2 << 32,
            Iface::Eni(i) => u64::from(i),
        };
        let port = |p: Option<u16>| p.map_or(1 << 16, u64::from);
        h.write_u64(fold(self.src) ^ fold(self.dst).rotate_left(32));
        h.write_u64(
            iface
                ^ (port(self.sport) << 17)
                ^ (port(self.dport) << 34)
                ^ (self.proto.map_or(1 << 8, u64::from) << 51),
        );
    }
}

pub(crate) fn key_of(r: &Facts) -> FlowKey {
    FlowKey {
        iface: r.iface,
        src: r.srcaddr,
        dst: r.dstaddr,
        sport: r.srcport,
        dport: r.dstport,
        proto: r.protocol,
    }
}

pub(crate) fn opposite_key(r: &Facts) -> FlowKey {
    FlowKey {
        iface: r.iface,
        src: r.dstaddr,
        dst: r.srcaddr,
        sport: r.dstport,
        dport: r.srcport,
        proto: r.protocol,
    }
}

/// What the records in view (a chunk and the lines around it) say about each direction of each
/// flow at an ENI: when it was first seen and what its `tcp-flags` say. The role (request or
/// response) belongs to the connection, not to one record: after the first aggregation window
/// either direction may send first, and only the first window carries SYN or SYN-ACK, so a
/// record is judged by its flow's first record and by the flags of any record of its flow.
#[derive(Debug, Default)]
pub(crate) struct Flows {
    seen: FxHashMap<FlowKey, Side>,
    /// Whether any record noted carries flags that say a role.
    any_flags: bool,
}

/// One direction of a flow, as [`Flows`] keeps it.
#[derive(Debug, Clone, Copy)]
struct Side {
    /// The earliest `start` of its records, in seconds (Unix time up to 2106; `u32::MAX`:
    /// none). Kept small, as every record of a chunk is noted in a table.
    first: u32,
    /// The role the `tcp-flags` of its records say (the first record that says one).
    flags: Option<Role>,
}

impl Default for Side {
    fn default() -> Self {
        Side {
            first: u32::MAX,
            flags: None,
        }
    }
}

impl Side {
    fn first(&self) -> Option<u32> {
        (self.first != u32::MAX).then_some(self.first)
    }
}

/// What the records of a record's flow say: its own direction's and, when seen, the opposite
/// direction's [`Side`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pairing {
    own: Side,
    opposite: Option<Side>,
}

impl Flows {
    pub(crate) fn clear(&mut self) {
        self.seen.clear();
        self.any_flags = false;
    }

    /// Notes a record. NODATA and SKIPDATA records and records of interfaces the snapshot
    /// lacks say nothing about any flow.
    #[inline]
    pub(crate) fn add(&mut self, f: &Facts) {
        if !f.is_flow() {
            return;
        }
        let seen = self.seen.entry(key_of(f)).or_default();
        if let Some(start) = f.start {
            // Later than 2106: as late as can be told.
            let start = u32::try_from(start).unwrap_or(u32::MAX - 1);
            seen.first = seen.first.min(start);
        }
        if seen.flags.is_none() {
            seen.flags = f.tcp_flags.and_then(role_from_flags);
            self.any_flags |= seen.flags.is_some();
        }
    }

    /// What the records in view say about `f`'s flow (`f` among them), when they say more
    /// than `f` alone: the opposite direction was seen, or other records of `f`'s direction
    /// carry flags.
    pub(crate) fn pairing(&self, f: &Facts) -> Option<Pairing> {
        if self.seen.is_empty() || !f.is_flow() {
            return None;
        }
        let opposite = self.seen.get(&opposite_key(f)).copied();
        if opposite.is_none() && !self.any_flags {
            return None;
        }
        let own = self.seen.get(&key_of(f)).copied().unwrap_or_default();
        (opposite.is_some() || own.flags.is_some()).then_some(Pairing { own, opposite })
    }
}

/// Up to two checks (a NACL rule and a security-group decision), in the order the packet
/// meets them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checks<'n> {
    items: [Decided<'n>; 2],
    len: usize,
}

impl<'n> Checks<'n> {
    const NONE: Checks<'static> = Checks {
        items: [Decided::NaclMissing { subnet: 0 }; 2],
        len: 0,
    };

    fn push(&mut self, d: Decided<'n>) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = d;
            self.len += 1;
        }
    }

    pub(crate) fn as_slice(&self) -> &[Decided<'n>] {
        &self.items[..self.len]
    }

    pub(crate) fn iter(&self) -> std::slice::Iter<'_, Decided<'n>> {
        self.as_slice().iter()
    }
}

/// What the configuration does with a packet at an ENI.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Eval<'n> {
    checks: Checks<'n>,
    same_subnet: bool,
    expected: Option<Action>,
    code: Code,
}

/// Caches and scratch space for explaining, one per worker thread. Use a memo with one
/// [`Explainer`] only.
///
/// Security-group decisions themselves are not cached: with the compiled groups
/// ([`Network::sg_evaluate_fast`]) a cache lookup cost more than it saved on the benchmark's
/// records.
#[derive(Default)]
pub struct Memo {
    untracked: FxHashMap<(u32, Direction, bool), bool>,
    pub(crate) scratch: fast::Scratch,
}

/// Memos for worker threads: each piece of work takes one, uses it, and gives it back, so a
/// thread's caches and buffers carry over from chunk to chunk.
#[derive(Default)]
pub struct MemoPool {
    free: std::sync::Mutex<Vec<Memo>>,
}

impl MemoPool {
    /// Runs `f` with a memo of the pool (a new one when none is free).
    pub fn with<R>(&self, f: impl FnOnce(&mut Memo) -> R) -> R {
        let mut memo = self
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        let result = f(&mut memo);
        self.free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(memo);
        result
    }
}

/// The explanation of one record without its texts: what [`Tally`] counts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Core<'n> {
    pub(crate) status: Status,
    pub(crate) code: Code,
    pub(crate) expected: Option<Action>,
    pub(crate) eni: Option<usize>,
    pub(crate) direction: Option<Direction>,
    pub(crate) direction_evidence: Option<&'static str>,
    pub(crate) role: Option<Role>,
    pub(crate) role_evidence: Option<&'static str>,
    pub(crate) peer: Option<IpAddr>,
    pub(crate) same_subnet: bool,
    pub(crate) checks: Checks<'n>,
}

impl Core<'_> {
    fn new(status: Status, code: Code) -> Self {
        Core {
            status,
            code,
            expected: None,
            eni: None,
            direction: None,
            direction_evidence: None,
            role: None,
            role_evidence: None,
            peer: None,
            same_subnet: false,
            checks: Checks::NONE,
        }
    }
}

/// Explains records against a network.
pub struct Explainer<'n> {
    net: &'n Network,
}

impl<'n> Explainer<'n> {
    /// An explainer over a built network.
    pub fn new(net: &'n Network) -> Self {
        Explainer { net }
    }

    /// The network records are explained against.
    pub fn network(&self) -> &'n Network {
        self.net
    }

    /// Explains every record and malformed line of a parsed chunk, in line order. Records of
    /// the same flow in both directions within the chunk help each other tell request from
    /// response.
    pub fn explain_chunk(&self, parsed: &ParsedChunk) -> Vec<Explanation<'n>> {
        self.explain_chunk_near(parsed, &[], &[])
    }

    /// [`Explainer::explain_chunk`], with the records of the lines just before and just after
    /// the chunk ([`Chunk::before`](crate::flow_log::Chunk::before) and
    /// [`Chunk::after`](crate::flow_log::Chunk::after), parsed) also looked at for opposite
    /// records, as [`Explainer::explain_chunk_counted`] does; they are not explained.
    pub fn explain_chunk_near(
        &self,
        parsed: &ParsedChunk,
        before: &[FlowRecord],
        after: &[FlowRecord],
    ) -> Vec<Explanation<'n>> {
        let near = |rs: &[FlowRecord]| -> Vec<Facts> {
            rs.iter().map(|r| self.facts(&Lite::of(r))).collect()
        };
        let facts = near(&parsed.records);
        let mut flows = Flows::default();
        for f in near(before).iter().chain(&facts).chain(&near(after)) {
            flows.add(f);
        }
        let mut out = Vec::with_capacity(parsed.records.len() + parsed.malformed.len());
        let mut m = parsed.malformed.iter().peekable();
        for (r, f) in parsed.records.iter().zip(&facts) {
            while let Some(bad) = m.next_if(|bad| bad.place() < r.place()) {
                out.push(self.malformed(bad));
            }
            let core = self.core(f, flows.pairing(f), None);
            out.push(self.explanation(&parsed.file, r, &core));
        }
        for bad in m {
            out.push(self.malformed(bad));
        }
        out
    }

    /// The explanation of a malformed line.
    pub fn malformed(&self, bad: &Malformed) -> Explanation<'n> {
        let mut e = blank(
            bad.file.clone(),
            bad.line,
            Status::Malformed,
            Code::Malformed,
        );
        if let Problem::Event { index, .. } = bad.problem {
            e.event = u32::try_from(index).ok();
        }
        e.problem = Some(bad.to_string());
        e
    }

    /// Explains one record. `opposite` is the record of the same flow in the other direction at
    /// the same ENI, when known.
    pub fn explain(
        &self,
        file: &Arc<Path>,
        r: &FlowRecord,
        opposite: Option<&FlowRecord>,
    ) -> Explanation<'n> {
        let f = self.facts(&Lite::of(r));
        let mut flows = Flows::default();
        flows.add(&f);
        if let Some(o) = opposite {
            flows.add(&self.facts(&Lite::of(o)));
        }
        let core = self.core(&f, flows.pairing(&f), None);
        self.explanation(file, r, &core)
    }

    /// The full explanation of a record from its core.
    pub(crate) fn explanation(
        &self,
        file: &Arc<Path>,
        r: &FlowRecord,
        c: &Core<'n>,
    ) -> Explanation<'n> {
        let mut e = blank(file.clone(), r.line, c.status, c.code);
        e.event = r.event;
        e.observed = r.action;
        e.expected = c.expected;
        e.interface_id = r.interface_id.clone();
        e.srcaddr = r.srcaddr;
        e.dstaddr = r.dstaddr;
        e.srcport = r.srcport;
        e.dstport = r.dstport;
        e.protocol = r.protocol;
        e.eni = c.eni;
        e.direction = c.direction;
        e.direction_evidence = c.direction_evidence;
        e.role = c.role;
        e.role_evidence = c.role_evidence;
        e.peer = c.peer;
        e.same_subnet = c.same_subnet;
        e.decided_by = c.checks.iter().copied().collect();
        if let (Status::Contradiction, Some(role)) = (e.status, e.role) {
            e.hints = hints(e.expected, r, role, self.net.snapshot_time);
        }
        e
    }

    /// The fields of a record that explaining reads, its ENI looked up.
    pub(crate) fn facts(&self, l: &Lite<'_>) -> Facts {
        let iface = match l.interface_id {
            Some(id) => match self.net.eni_idx_bytes(id) {
                Some(i) => u32::try_from(i).map_or(Iface::Unknown, Iface::Eni),
                None => Iface::Unknown,
            },
            None => Iface::Absent,
        };
        Facts {
            iface,
            srcaddr: l.srcaddr,
            dstaddr: l.dstaddr,
            srcport: l.srcport,
            dstport: l.dstport,
            protocol: l.protocol,
            action: l.action,
            log_status: l.log_status,
            start: l.start,
            end: l.end,
            tcp_flags: l.tcp_flags,
            flow_direction: l.flow_direction,
            pkt_srcaddr: l.pkt_srcaddr,
            pkt_dstaddr: l.pkt_dstaddr,
        }
    }

    /// Explains a record: the steps of the module documentation. `memo` (one per thread)
    /// caches what does not depend on the record.
    pub(crate) fn core(
        &self,
        r: &Facts,
        pairing: Option<Pairing>,
        memo: Option<&mut Memo>,
    ) -> Core<'n> {
        let net = self.net;
        let mut c = Core::new(Status::Unknown, Code::MissingFields);
        match r.log_status {
            Some(LogStatus::NoData) => {
                c.status = Status::Skipped;
                c.code = Code::NoData;
                return c;
            }
            Some(LogStatus::SkipData) => {
                c.status = Status::Skipped;
                c.code = Code::SkipData;
                return c;
            }
            _ => {}
        }
        // 1. The ENI.
        let eni = match r.iface {
            Iface::Eni(i) => Some(i as usize),
            Iface::Unknown => None,
            Iface::Absent => r
                .dstaddr
                .and_then(|a| net.eni_by_private_ip(a, None))
                .or_else(|| r.srcaddr.and_then(|a| net.eni_by_private_ip(a, None))),
        };
        let Some(eni) = eni else {
            c.code = Code::UnknownEni;
            return c;
        };
        c.eni = Some(eni);
        let en = &net.enis[eni];
        let (Some(src), Some(dst), Some(proto)) = (r.srcaddr, r.dstaddr, r.protocol) else {
            c.code = Code::MissingFields;
            return c;
        };
        // 2. The direction.
        let owns = |a: IpAddr| en.has_private(a) || en.public_ips.iter().any(|(p, _)| *p == a);
        let (direction, evidence) = match r.flow_direction {
            Some(FlowDirection::Ingress) => (Direction::Inbound, "flow-direction"),
            Some(FlowDirection::Egress) => (Direction::Outbound, "flow-direction"),
            None if owns(dst) => (Direction::Inbound, "destination address is the ENI's"),
            None if owns(src) => (Direction::Outbound, "source address is the ENI's"),
            None if r.pkt_dstaddr.is_some_and(owns) => {
                (Direction::Inbound, "pkt-dstaddr is the ENI's")
            }
            None if r.pkt_srcaddr.is_some_and(owns) => {
                (Direction::Outbound, "pkt-srcaddr is the ENI's")
            }
            None => {
                c.code = Code::DirectionUnknown;
                return c;
            }
        };
        c.direction = Some(direction);
        c.direction_evidence = Some(evidence);
        // The packet's real peer address (pkt-* on intermediate ENIs such as NAT gateways).
        let peer = match direction {
            Direction::Inbound => r.pkt_srcaddr.unwrap_or(src),
            Direction::Outbound => r.pkt_dstaddr.unwrap_or(dst),
        };
        c.peer = Some(peer);
        // 3. The role.
        let (role, role_evidence) = if let Some(role) = r.tcp_flags.and_then(role_from_flags) {
            (role, "tcp-flags")
        } else if let Some(p) = pairing {
            let opposite = p.opposite.unwrap_or_default();
            match (opposite.flags, p.own.flags, p.own.first(), opposite.first()) {
                (Some(Role::Request), _, _, _) => {
                    (Role::Response, "tcp-flags of the opposite direction")
                }
                (Some(Role::Response), _, _, _) => {
                    (Role::Request, "tcp-flags of the opposite direction")
                }
                (None, Some(role), _, _) => (role, "tcp-flags of this direction's other records"),
                (None, None, Some(a), Some(b)) if a < b => {
                    (Role::Request, "first seen before the opposite direction")
                }
                (None, None, Some(a), Some(b)) if a > b => {
                    (Role::Response, "first seen after the opposite direction")
                }
                _ => role_by_ports(r),
            }
        } else {
            role_by_ports(r)
        };
        c.role = Some(role);
        c.role_evidence = Some(role_evidence);
        // 4. and 5. Evaluate at the ENI (cached: the same flows come back).
        let has_ports = Protocol::Number(proto).has_ports();
        let port = r.dstport.filter(|_| has_ports);
        let req_port = r.srcport.filter(|_| has_ports && role == Role::Response);
        let eval = self.evaluate(memo, eni, direction, role, peer, proto, port, req_port);
        c.checks = eval.checks;
        c.same_subnet = eval.same_subnet;
        c.expected = eval.expected;
        c.code = eval.code;
        c.status = match (c.expected, r.action) {
            (None, _) => Status::Unknown,
            (Some(_), None) => {
                c.code = Code::NoActionField;
                Status::Unknown
            }
            (Some(x), Some(y)) if x == y => Status::Consistent,
            (Some(_), Some(_)) => Status::Contradiction,
        };
        c
    }

    /// Steps 4 and 5: the NACL (unless the peer is in the same subnet) and the security groups
    /// (statefully for a response) at the ENI, and what they predict.
    #[allow(clippy::too_many_arguments)]
    fn evaluate(
        &self,
        mut memo: Option<&mut Memo>,
        eni: usize,
        direction: Direction,
        role: Role,
        peer: IpAddr,
        proto: u8,
        port: Option<u16>,
        req_port: Option<u16>,
    ) -> Eval<'n> {
        let net = self.net;
        let en = &net.enis[eni];
        let protocol = Protocol::Number(proto);
        // One lookup of the peer among the ENIs' addresses serves the subnet and the group
        // references.
        let peer_enis = net.enis_with_private_ip(peer);
        let same_subnet = en.subnet.is_some()
            && Network::pick_in_vpc(&net.enis, peer_enis, en.vpc_id.as_deref())
                .is_some_and(|p| net.enis[p].subnet == en.subnet);
        let refs = net.refs_apply_among(eni, peer, peer_enis);
        let nacl_check = |checks: &mut Checks<'n>| {
            if same_subnet {
                return;
            }
            let Some(s) = en.subnet else { return };
            let Some(ni) = net.subnets[s].nacl else {
                checks.push(Decided::NaclMissing { subnet: s });
                return;
            };
            if let Some(rule) = net.nacls[ni].decide(direction, peer, protocol, port, None) {
                checks.push(Decided::Nacl { nacl: ni, rule });
            }
        };
        let skip_sg = en.interface_type.as_deref().is_some_and(|t| {
            matches!(
                t,
                "nat_gateway" | "transit_gateway" | "gateway_load_balancer"
            )
        });
        let mut sg_check = |checks: &mut Checks<'n>| {
            if skip_sg {
                return;
            }
            let d = match role {
                Role::Request => self.sg(refs, peer_enis, eni, direction, peer, proto, port),
                Role::Response => {
                    match self.sg(
                        refs,
                        peer_enis,
                        eni,
                        direction.reverse(),
                        peer,
                        proto,
                        req_port,
                    ) {
                        SgDecision::Allow(rule) => {
                            let wide = matches!(&rule.peer, SgPeer::Cidr { cidr } if cidr.prefix_len() == 0);
                            let untracked = wide
                                && protocol.has_ports()
                                && self.allows_all(&mut memo, eni, direction, peer.is_ipv6());
                            checks.push(Decided::SgTracked { rule, untracked });
                            return;
                        }
                        // No tracked request: the response's own direction may still allow it.
                        _ => self.sg(refs, peer_enis, eni, direction, peer, proto, port),
                    }
                }
            };
            checks.push(match d {
                SgDecision::Allow(rule) => Decided::SgAllow(rule),
                SgDecision::Deny => Decided::SgDeny { eni, direction },
                SgDecision::Unresolved(rule) => Decided::SgUnresolved(rule),
                SgDecision::MissingGroups => Decided::SgMissing { eni },
            });
        };
        let mut checks = Checks::NONE;
        // The packet meets the NACL first on the way in, the groups first on the way out.
        match direction {
            Direction::Inbound => {
                nacl_check(&mut checks);
                if !checks.iter().any(Decided::denies) {
                    sg_check(&mut checks);
                }
            }
            Direction::Outbound => {
                sg_check(&mut checks);
                if !checks.iter().any(Decided::denies) {
                    nacl_check(&mut checks);
                }
            }
        }
        // 5. What the configuration predicts.
        let deny = checks.iter().find(|d| d.denies());
        let unknown = checks.iter().find(|d| d.unknown());
        let (expected, code) = match (deny, unknown) {
            (Some(Decided::Nacl { .. }), _) => (Some(Action::Reject), Code::SubnetAclRestriction),
            (Some(_), _) => (Some(Action::Reject), Code::SgRulesMismatch),
            (None, Some(Decided::SgUnresolved(rule))) => (
                None,
                match rule.peer {
                    SgPeer::PrefixList { .. } => Code::UnknownPrefixList,
                    _ => Code::UnknownPeeredSgs,
                },
            ),
            (None, Some(_)) => (None, Code::IncompleteSnapshot),
            (None, None) => (Some(Action::Accept), Code::Allowed),
        };
        Eval {
            checks,
            same_subnet,
            expected,
            code,
        }
    }

    /// The security groups' decision at an ENI.
    #[allow(clippy::too_many_arguments)]
    fn sg(
        &self,
        refs: Option<bool>,
        holders: &[usize],
        eni: usize,
        dir: Direction,
        peer: IpAddr,
        proto: u8,
        port: Option<u16>,
    ) -> SgDecision<'n> {
        self.net
            .sg_evaluate_among(eni, dir, peer, proto, port, None, refs, holders)
    }

    /// Whether a rule of the ENI's groups allows all traffic of one family in `dir` (then the
    /// other direction's flows are untracked); cached in `memo`.
    fn allows_all(
        &self,
        memo: &mut Option<&mut Memo>,
        eni: usize,
        dir: Direction,
        v6: bool,
    ) -> bool {
        let net = self.net;
        let compute = || net.eni_rules(eni, dir).any(|x| x.is_allow_all_for(v6));
        let (Some(memo), Ok(e)) = (memo.as_deref_mut(), u32::try_from(eni)) else {
            return compute();
        };
        *memo.untracked.entry((e, dir, v6)).or_insert_with(compute)
    }
}

fn role_by_ports(r: &Facts) -> (Role, &'static str) {
    match (r.srcport, r.dstport) {
        (Some(s), Some(d)) if is_service_port(d) && !is_service_port(s) => {
            (Role::Request, "destination port is a service port")
        }
        (Some(s), Some(d)) if is_service_port(s) && !is_service_port(d) => {
            (Role::Response, "source port is a service port")
        }
        (Some(s), Some(d)) if d < s => (Role::Request, "lower destination port (weak)"),
        (Some(s), Some(d)) if s < d => (Role::Response, "lower source port (weak)"),
        _ => (Role::Request, "assumed (no evidence)"),
    }
}

/// What could explain a contradiction. With the snapshot's time, says whether it was taken
/// before, during or after the record's interval.
fn hints(
    expected: Option<Action>,
    r: &FlowRecord,
    role: Role,
    snapshot_time: Option<i64>,
) -> Vec<Cow<'static, str>> {
    let mut h: Vec<Cow<'static, str>> = Vec::new();
    let when: Cow<'static, str> = match (snapshot_time, r.start, r.end) {
        (Some(t), _, Some(end)) if t > end as i64 => format!(
            "the snapshot was taken {} after this record ended ({}): the configuration may have changed in between",
            duration(t - end as i64),
            Rfc3339(t)
        )
        .into(),
        (Some(t), Some(start), _) if t < start as i64 => format!(
            "the snapshot was taken {} before this record started ({}): the configuration may have changed in between",
            duration(start as i64 - t),
            Rfc3339(t)
        )
        .into(),
        (Some(t), Some(_), Some(_)) => format!(
            "the snapshot was taken during this record's interval ({}): a change at that time would explain it",
            Rfc3339(t)
        )
        .into(),
        _ => "the snapshot may be older or newer than the record (its time is not known: `vpcreach collect` records it, or give --snapshot-time)".into(),
    };
    match expected {
        Some(Action::Reject) => {
            h.push("a tracked connection opened before a rule change outlives it: security-group changes do not cut tracked connections".into());
            h.push(when);
            h.push("traffic or rules the snapshot does not show (a group, rule or association added or removed since)".into());
        }
        Some(Action::Accept) => {
            if r.tcp_flags.is_some_and(|f| f & 0x05 != 0) || role == Role::Response {
                h.push(
                    "REJECT also counts packets that arrived after the connection closed (FIN/RST)"
                        .into(),
                );
            }
            h.push(when);
            h.push("a rule change between the snapshot and the record (untracked connections are cut at once)".into());
            h.push("traffic or rules the snapshot does not show".into());
        }
        None => {}
    }
    h
}

/// A length of time in words: `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`.
pub(crate) fn duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=119 => format!("{s} s"),
        120..=7_199 => format!("{} min", s / 60),
        7_200..=172_799 => format!("{} h {} min", s / 3600, s / 60 % 60),
        _ => format!("{} d {} h", s / 86_400, s / 3600 % 24),
    }
}

fn blank<'n>(file: Arc<Path>, line: u64, status: Status, code: Code) -> Explanation<'n> {
    Explanation {
        file,
        line,
        event: None,
        status,
        observed: None,
        expected: None,
        eni: None,
        interface_id: None,
        direction: None,
        direction_evidence: None,
        role: None,
        role_evidence: None,
        peer: None,
        srcaddr: None,
        dstaddr: None,
        srcport: None,
        dstport: None,
        protocol: None,
        same_subnet: false,
        decided_by: Vec::new(),
        code,
        hints: Vec::new(),
        problem: None,
    }
}

fn nacl_text(rule: &NaclRule) -> String {
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
        resources: vec![rule.group_id.as_str()],
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
        Decided::SgTracked { rule, untracked } => DecidedView {
            tracking: Some(if untracked { "untracked" } else { "tracked" }),
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
    }
}

/// The clause of the one-sentence message for one check that decided (`allowed by …`).
fn clause(s: &mut String, net: &Network, d: &Decided<'_>) {
    let _ = match *d {
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
        Decided::SgTracked { rule, untracked } => write!(
            s,
            "allowed by {} as the response to a request allowed by {} rule {}",
            if untracked {
                "its rules (untracked flow)"
            } else {
                "connection tracking"
            },
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
                return format!(
                    "{}: interface {} is not in the snapshot",
                    self.flow_text(),
                    self.interface_id.as_deref().unwrap_or("-")
                )
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
        buf.extend_from_slice(b",\"decided_by\":[");
        for (k, d) in self.decided_by.iter().enumerate() {
            if k > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(cache.rendered(self.direction, d).json.as_bytes());
        }
        buf.extend_from_slice(b"],\"reason\":");
        let message = self.message_with(net, Some(cache));
        let tail = serde_json::to_writer(&mut *buf, &self.code)
            .and_then(|()| {
                buf.extend_from_slice(b",\"message\":");
                serde_json::to_writer(&mut *buf, &message)
            })
            .and_then(|()| {
                if self.hints.is_empty() {
                    return Ok(());
                }
                buf.extend_from_slice(b",\"hints\":");
                serde_json::to_writer(&mut *buf, &self.hints)
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
    a: usize,
    b: usize,
    c: usize,
    direction: Option<Direction>,
}

impl DecidedKey {
    fn of(d: &Decided<'_>, direction: Option<Direction>) -> DecidedKey {
        let out = |dir: Direction| usize::from(dir == Direction::Outbound);
        let (kind, a, b, c) = match *d {
            Decided::Nacl { nacl, rule } => (0, nacl, out(rule.direction), rule.position),
            Decided::SgAllow(r) => (1, r.group, out(r.direction), r.position),
            Decided::SgTracked { rule: r, untracked } => (
                2 + u8::from(untracked),
                r.group,
                out(r.direction),
                r.position,
            ),
            Decided::SgDeny { eni, direction } => (4, eni, out(direction), 0),
            Decided::SgUnresolved(r) => (5, r.group, out(r.direction), r.position),
            Decided::SgMissing { eni } => (6, eni, 0, 0),
            Decided::NaclMissing { subnet } => (7, subnet, 0, 0),
        };
        DecidedKey {
            kind,
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
        }
    }
}

/// A rule identity for usage counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleKey {
    /// A security-group rule: group index, direction, position.
    Sg(usize, bool, usize),
    /// A NACL rule: NACL index, direction, position.
    Nacl(usize, bool, usize),
}

/// What the accepted traffic through a rule actually used.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// Records decided by the rule.
    pub hits: u64,
    /// Accepted records decided by the rule.
    pub accepted: u64,
    /// Lowest and highest peer address seen (IPv4 and IPv6 separately).
    pub peers_v4: Option<(u32, u32)>,
    /// IPv6 range.
    pub peers_v6: Option<(u128, u128)>,
    /// Lowest and highest destination port of accepted traffic.
    pub ports: Option<(u16, u16)>,
}

impl Usage {
    fn merge(&mut self, o: &Usage) {
        self.hits += o.hits;
        self.accepted += o.accepted;
        self.peers_v4 = span(self.peers_v4, o.peers_v4);
        self.peers_v6 = span(self.peers_v6, o.peers_v6);
        self.ports = span(self.ports, o.ports);
    }
}

fn span<T: Ord + Copy>(a: Option<(T, T)>, b: Option<(T, T)>) -> Option<(T, T)> {
    match (a, b) {
        (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
        (x, None) => x,
        (None, y) => y,
    }
}

/// Totals over many explanations; merged across threads.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Records per status, indexed as [`Status::ALL`].
    pub counts: [u64; 5],
    /// Observed rejects by the rule that explains them.
    pub rejects_by_rule: FxHashMap<RejectKey, u64>,
    /// Sources of observed rejects.
    pub rejected_talkers: TopCounts<IpAddr>,
    /// Rule usage.
    pub usage: FxHashMap<RuleKey, Usage>,
    /// ENIs seen in records.
    pub enis_seen: EniSet,
    /// Earliest `start` and latest `end`.
    pub window: Option<(u64, u64)>,
}

/// What [`Tally`] counts of one explanation.
struct Seen<'a, 'n> {
    status: Status,
    eni: Option<usize>,
    observed: Option<Action>,
    expected: Option<Action>,
    srcaddr: Option<IpAddr>,
    peer: Option<IpAddr>,
    dstport: Option<u16>,
    protocol: Option<u8>,
    window: Option<(u64, u64)>,
    checks: &'a [Decided<'n>],
}

/// Counts per key in bounded memory, for the heaviest keys (the top rejected sources of a year
/// of flow logs, where scanners bring millions of addresses): exact until more than
/// `2 × TopCounts::KEEP` keys are held, then reduced as in the Misra–Gries summary (every count
/// lowered by the `KEEP + 1`-th largest, keys at zero dropped). A count is then a lower bound,
/// low by at most [`TopCounts::undercount`]; any key with more than that many hits is kept.
/// Summaries merge (counts add, bounds add).
#[derive(Debug, Clone)]
pub struct TopCounts<K> {
    counts: FxHashMap<K, u64>,
    undercount: u64,
    keep: usize,
}

impl<K: std::hash::Hash + Eq> Default for TopCounts<K> {
    fn default() -> Self {
        TopCounts::with_keep(Self::KEEP)
    }
}

impl<K: std::hash::Hash + Eq> TopCounts<K> {
    /// Keys kept after a reduction.
    pub const KEEP: usize = 100_000;

    /// A summary that keeps `keep` keys after a reduction.
    pub fn with_keep(keep: usize) -> Self {
        TopCounts {
            counts: FxHashMap::default(),
            undercount: 0,
            keep: keep.max(1),
        }
    }

    /// Counts `n` more for `key`.
    pub fn add(&mut self, key: K, n: u64) {
        *self.counts.entry(key).or_default() += n;
        if self.counts.len() > 2 * self.keep {
            self.reduce();
        }
    }

    /// Adds another summary.
    pub fn merge(&mut self, other: TopCounts<K>) {
        self.undercount += other.undercount;
        for (k, v) in other.counts {
            *self.counts.entry(k).or_default() += v;
        }
        if self.counts.len() > 2 * self.keep {
            self.reduce();
        }
    }

    fn reduce(&mut self) {
        let mut values: Vec<u64> = self.counts.values().copied().collect();
        if values.len() <= self.keep {
            return;
        }
        let (_, &mut cut, _) = values.select_nth_unstable_by(self.keep, |a, b| b.cmp(a));
        self.counts.retain(|_, n| {
            *n -= cut.min(*n);
            *n > 0
        });
        self.undercount += cut;
    }

    /// The keys and their counts (lower bounds when [`TopCounts::undercount`] is not 0).
    pub fn iter(&self) -> impl Iterator<Item = (&K, &u64)> + '_ {
        self.counts.iter()
    }

    /// How much any count may be low by: 0 while every key is held exactly.
    pub fn undercount(&self) -> u64 {
        self.undercount
    }
}

/// A set of ENI indexes (into [`Network::enis`]), as bits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EniSet {
    bits: Vec<u64>,
    len: usize,
}

impl EniSet {
    /// Adds an ENI; false when it was there.
    pub fn insert(&mut self, eni: usize) -> bool {
        let (word, bit) = (eni / 64, 1u64 << (eni % 64));
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        let fresh = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        self.len += usize::from(fresh);
        fresh
    }

    /// Whether the set holds an ENI.
    pub fn contains(&self, eni: usize) -> bool {
        self.bits
            .get(eni / 64)
            .is_some_and(|w| w & (1u64 << (eni % 64)) != 0)
    }

    /// The number of ENIs.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The ENIs, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |b| bits & (1u64 << b) != 0)
                .map(move |b| w * 64 + b)
        })
    }

    /// Adds every ENI of `other`.
    pub fn union(&mut self, other: &EniSet) {
        if other.bits.len() > self.bits.len() {
            self.bits.resize(other.bits.len(), 0);
        }
        for (a, b) in self.bits.iter_mut().zip(&other.bits) {
            *a |= b;
        }
        self.len = self.bits.iter().map(|w| w.count_ones() as usize).sum();
    }
}

/// The rule that explains an observed reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectKey {
    /// A NACL rule: NACL index, direction (outbound?), position.
    Nacl(usize, bool, usize),
    /// No security-group rule of this ENI allows it.
    Sg(usize),
}

impl Tally {
    /// Adds one explanation (`r`: its record; `None` for a malformed line).
    pub fn add(&mut self, e: &Explanation<'_>, r: Option<&FlowRecord>) {
        self.add_seen(Seen {
            status: e.status,
            eni: e.eni,
            observed: e.observed,
            expected: e.expected,
            srcaddr: e.srcaddr,
            peer: e.peer,
            dstport: e.dstport,
            protocol: e.protocol,
            window: r.and_then(|r| r.start.zip(r.end)),
            checks: &e.decided_by,
        });
    }

    /// Adds the core of an explanation.
    pub(crate) fn add_core(&mut self, c: &Core<'_>, f: &Facts) {
        self.add_seen(Seen {
            status: c.status,
            eni: c.eni,
            observed: f.action,
            expected: c.expected,
            srcaddr: f.srcaddr,
            peer: c.peer,
            dstport: f.dstport,
            protocol: f.protocol,
            window: f.start.zip(f.end),
            checks: c.checks.as_slice(),
        });
    }

    fn add_seen(&mut self, e: Seen<'_, '_>) {
        self.counts[e.status as usize] += 1;
        if let Some(w) = e.window {
            self.window = span(self.window, Some(w));
        }
        let Some(eni) = e.eni else { return };
        self.enis_seen.insert(eni);
        if e.observed == Some(Action::Reject) {
            if let Some(src) = e.srcaddr {
                self.rejected_talkers.add(src, 1);
            }
            if e.status == Status::Consistent {
                if let Some(d) = e.checks.iter().find(|d| d.denies()) {
                    let key = match *d {
                        Decided::Nacl { nacl, rule } => Some(RejectKey::Nacl(
                            nacl,
                            rule.direction == Direction::Outbound,
                            rule.position,
                        )),
                        Decided::SgDeny { eni, .. } => Some(RejectKey::Sg(eni)),
                        _ => None,
                    };
                    if let Some(key) = key {
                        *self.rejects_by_rule.entry(key).or_default() += 1;
                    }
                }
            }
        }
        let accepted = e.observed == Some(Action::Accept) && e.expected == Some(Action::Accept);
        for d in e.checks {
            let key = match *d {
                Decided::Nacl { nacl, rule } => {
                    RuleKey::Nacl(nacl, rule.direction == Direction::Outbound, rule.position)
                }
                Decided::SgAllow(rule) => RuleKey::Sg(
                    rule.group,
                    rule.direction == Direction::Outbound,
                    rule.position,
                ),
                _ => continue,
            };
            let u = self.usage.entry(key).or_default();
            u.hits += 1;
            if accepted {
                u.accepted += 1;
                match e.peer {
                    Some(IpAddr::V4(a)) => {
                        let x = u32::from(a);
                        u.peers_v4 = span(u.peers_v4, Some((x, x)));
                    }
                    Some(IpAddr::V6(a)) => {
                        let x = u128::from(a);
                        u.peers_v6 = span(u.peers_v6, Some((x, x)));
                    }
                    None => {}
                }
                if let Some(p) = e
                    .dstport
                    .filter(|_| e.protocol.is_some_and(|x| Protocol::Number(x).has_ports()))
                {
                    u.ports = span(u.ports, Some((p, p)));
                }
            }
        }
    }

    /// Merges another tally into this one.
    pub fn merge(&mut self, o: Tally) {
        for (a, b) in self.counts.iter_mut().zip(o.counts) {
            *a += b;
        }
        for (k, v) in o.rejects_by_rule {
            *self.rejects_by_rule.entry(k).or_default() += v;
        }
        self.rejected_talkers.merge(o.rejected_talkers);
        for (k, v) in o.usage {
            self.usage.entry(k).or_default().merge(&v);
        }
        self.enis_seen.union(&o.enis_seen);
        self.window = span(self.window, o.window);
    }

    /// The number of records counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Records of one status.
    pub fn count(&self, s: Status) -> u64 {
        self.counts[s as usize]
    }

    /// Observed rejects by the rule that explains them, in words.
    pub fn rejects_by_rule_text(&self, net: &Network) -> Vec<(String, u64)> {
        self.rejects_by_rule
            .iter()
            .map(|(k, v)| {
                let text = match *k {
                    RejectKey::Nacl(n, out, pos) => {
                        let acl = &net.nacls[n];
                        let dir = if out {
                            Direction::Outbound
                        } else {
                            Direction::Inbound
                        };
                        match acl.rules(dir).get(pos) {
                            Some(rule) => format!("{} {}", acl.id, nacl_text(rule)),
                            None => acl.id.clone(),
                        }
                    }
                    RejectKey::Sg(eni) => {
                        format!("{}: no security-group rule allows it", net.enis[eni].id)
                    }
                };
                (text, *v)
            })
            .collect()
    }

    /// Every SG and NACL rule of the ENIs seen, with its usage (zero hits included), as JSON.
    pub fn rule_usage_json(&self, net: &Network) -> Vec<Value> {
        self.rule_usage_json_of(net, true)
    }

    /// [`Tally::rule_usage_json`] for every rule (`every`), or only for the rules with hits.
    pub fn rule_usage_json_of(&self, net: &Network, every: bool) -> Vec<Value> {
        self.rule_usage_views(net, every, None).0
    }

    /// The `n` rules with the most hits (in [`Tally::rule_usage_json`]'s form, most hits first),
    /// and how many rules have hits.
    pub fn rule_usage_top(&self, net: &Network, n: usize) -> (Vec<Value>, usize) {
        self.rule_usage_views(net, false, Some(n))
    }

    /// The rules of the ENIs seen (all, or those with hits), in group and NACL order or, with
    /// `top`, the most used first; and how many there were before `top`. Only the rules shown
    /// are rendered.
    fn rule_usage_views(
        &self,
        net: &Network,
        every: bool,
        top: Option<usize>,
    ) -> (Vec<Value>, usize) {
        enum Which<'a> {
            Sg(&'a str, &'a SgRule),
            Nacl(&'a str, &'a NaclRule),
        }
        let mut groups: Vec<usize> = Vec::new();
        let mut nacls: Vec<usize> = Vec::new();
        for e in self.enis_seen.iter() {
            let en = &net.enis[e];
            groups.extend(en.groups.iter().copied());
            if let Some(n) = en.subnet.and_then(|s| net.subnets[s].nacl) {
                nacls.push(n);
            }
        }
        groups.sort_unstable();
        groups.dedup();
        nacls.sort_unstable();
        nacls.dedup();
        let empty = Usage::default();
        let mut rows: Vec<(&Usage, Which<'_>)> = Vec::new();
        let shown = |key: RuleKey| {
            let u = self.usage.get(&key).unwrap_or(&empty);
            (u.hits > 0 || every).then_some(u)
        };
        for g in groups {
            let grp = &net.groups[g];
            for (out_dir, rules) in [(false, &grp.inbound), (true, &grp.outbound)] {
                for r in rules {
                    if let Some(u) = shown(RuleKey::Sg(g, out_dir, r.position)) {
                        rows.push((u, Which::Sg(grp.id.as_str(), r)));
                    }
                }
            }
        }
        for n in nacls {
            let acl = &net.nacls[n];
            for (out_dir, rules) in [(false, &acl.inbound), (true, &acl.outbound)] {
                for r in rules {
                    if let Some(u) = shown(RuleKey::Nacl(n, out_dir, r.position)) {
                        rows.push((u, Which::Nacl(acl.id.as_str(), r)));
                    }
                }
            }
        }
        let total = rows.len();
        if let Some(n) = top {
            // Stable: rules with as many hits keep their order.
            rows.sort_by_key(|(u, _)| std::cmp::Reverse(u.hits));
            rows.truncate(n);
        }
        let views = rows
            .into_iter()
            .map(|(u, which)| match which {
                Which::Sg(id, r) => usage_json(
                    "security_group",
                    id,
                    None,
                    &sg_rule_text(net, r),
                    r.direction,
                    u,
                ),
                Which::Nacl(id, r) => usage_json(
                    "network_acl",
                    id,
                    Some(r.rule_number),
                    &nacl_text(r),
                    r.direction,
                    u,
                ),
            })
            .collect();
        (views, total)
    }
}

fn covering_v4(lo: u32, hi: u32) -> String {
    let len = (lo ^ hi).leading_zeros();
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    format!(
        "{}/{len}",
        crate::render::ip::Ip(IpAddr::V4(std::net::Ipv4Addr::from(lo & mask)))
    )
}

fn covering_v6(lo: u128, hi: u128) -> String {
    let len = (lo ^ hi).leading_zeros();
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    format!("{}/{len}", std::net::Ipv6Addr::from(lo & mask))
}

fn usage_json(
    layer: &str,
    id: &str,
    rule_number: Option<u32>,
    text: &str,
    dir: Direction,
    u: &Usage,
) -> Value {
    let mut narrowest = Vec::new();
    if let Some((lo, hi)) = u.peers_v4 {
        narrowest.push(covering_v4(lo, hi));
    }
    if let Some((lo, hi)) = u.peers_v6 {
        narrowest.push(covering_v6(lo, hi));
    }
    json!({
        "layer": layer,
        "resource": id,
        "rule_number": rule_number,
        "direction": dir,
        "rule": text,
        "hits": u.hits,
        "accepted": u.accepted,
        "used_peers": if narrowest.is_empty() { Value::Null } else { json!(narrowest) },
        "used_ports": u.ports.map(|(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn facts(iface: u32, a: u8, b: u8, start: Option<u64>, flags: Option<u16>, ok: bool) -> Facts {
        let addr = |x: u8| Some(IpAddr::from([10, 0, 0, x]));
        Facts {
            iface: match iface {
                0 => Iface::Unknown,
                1 => Iface::Absent,
                i => Iface::Eni(i),
            },
            srcaddr: addr(a),
            dstaddr: addr(b),
            srcport: Some(u16::from(a) + 1000),
            dstport: Some(u16::from(b) + 1000),
            protocol: Some(6),
            action: Some(Action::Accept),
            log_status: Some(if ok { LogStatus::Ok } else { LogStatus::NoData }),
            start,
            end: start.map(|s| s + 60),
            tcp_flags: flags,
            flow_direction: None,
            pkt_srcaddr: None,
            pkt_dstaddr: None,
        }
    }

    /// What a plain search of every record says about one direction of a flow.
    fn seen_plainly(all: &[Facts], key: FlowKey) -> Option<Side> {
        let of: Vec<&Facts> = all
            .iter()
            .filter(|o| o.is_flow() && key_of(o) == key)
            .collect();
        (!of.is_empty()).then(|| Side {
            first: of
                .iter()
                .filter_map(|o| o.start)
                .min()
                .map_or(u32::MAX, |s| u32::try_from(s).unwrap_or(u32::MAX - 1)),
            flags: of
                .iter()
                .find_map(|o| o.tcp_flags.and_then(role_from_flags)),
        })
    }

    proptest! {
        /// [`Flows::pairing`] says what a plain search of every record says: per direction of
        /// the flow, the earliest start and the first role its flags give; nothing for a
        /// record that is no flow, or when nothing but the record itself speaks.
        #[test]
        fn pairings_say_what_every_record_of_the_flow_says(
            rows in proptest::collection::vec(
                (0u32..4, 1u8..4, 1u8..4, proptest::option::weighted(0.9, 0u64..30),
                 proptest::option::of(prop_oneof![Just(0u16), Just(2), Just(18), Just(1), Just(19)]),
                 proptest::bool::weighted(0.9)),
                0..40,
            )
        ) {
            let all: Vec<Facts> = rows
                .iter()
                .map(|&(i, a, b, start, flags, ok)| facts(i, a, b, start, flags, ok))
                .collect();
            let mut flows = Flows::default();
            for f in &all {
                flows.add(f);
            }
            for f in &all {
                let got = flows.pairing(f).map(|p| {
                    (p.own.first, p.own.flags, p.opposite.map(|o| (o.first, o.flags)))
                });
                let want = if f.is_flow() {
                    let own = seen_plainly(&all, key_of(f)).unwrap_or_default();
                    let opposite = seen_plainly(&all, opposite_key(f));
                    (opposite.is_some() || own.flags.is_some()).then(|| {
                        (own.first, own.flags, opposite.map(|o| (o.first, o.flags)))
                    })
                } else {
                    None
                };
                prop_assert_eq!(got, want);
            }
        }
    }

    #[test]
    fn roles_from_tcp_flags() {
        assert_eq!(role_from_flags(2), Some(Role::Request));
        assert_eq!(role_from_flags(3), Some(Role::Request));
        assert_eq!(role_from_flags(18), Some(Role::Response));
        assert_eq!(role_from_flags(19), Some(Role::Response));
        assert_eq!(role_from_flags(1), None);
        assert_eq!(role_from_flags(4), None);
    }

    #[test]
    fn top_counts_stay_bounded_and_keep_heavy_keys() {
        let mut t = TopCounts::with_keep(10);
        let mut truth = std::collections::HashMap::new();
        // Three heavy keys among 5,000 one-off keys.
        for i in 0u32..5000 {
            t.add(i + 100, 1);
            *truth.entry(i + 100).or_insert(0u64) += 1;
            for heavy in [1u32, 2, 3] {
                if i % (heavy * 10) == 0 {
                    t.add(heavy, 1);
                    *truth.entry(heavy).or_insert(0u64) += 1;
                }
            }
            assert!(t.counts.len() <= 20);
        }
        assert!(t.undercount() > 0);
        for (k, &n) in t.iter() {
            assert!(
                n <= truth[k] && truth[k] - n <= t.undercount(),
                "{k}: {n} vs {}",
                truth[k]
            );
        }
        // Every key with more hits than the bound is kept.
        for (k, &n) in &truth {
            if n > t.undercount() {
                assert!(t.iter().any(|(x, _)| x == k), "{k} ({n}) lost");
            }
        }
        // Merging two summaries keeps the guarantee.
        let mut a = TopCounts::with_keep(10);
        let mut b = TopCounts::with_keep(10);
        for i in 0u32..300 {
            a.add(i % 7, 1);
            b.add(1000 + i, 1);
        }
        a.merge(b);
        assert!(a.counts.len() <= 20);
        for k in 0u32..7 {
            let n = a.iter().find(|(x, _)| **x == k).map_or(0, |(_, n)| *n);
            let true_n = (0..300).filter(|i| i % 7 == k).count() as u64;
            assert!(n <= true_n && true_n - n <= a.undercount());
        }
        // Exact while small.
        let mut s = TopCounts::with_keep(10);
        s.add("x", 3);
        s.add("x", 2);
        assert_eq!((s.iter().next(), s.undercount()), (Some((&"x", &5)), 0));
    }

    #[test]
    fn covering_prefixes() {
        let a = u32::from(std::net::Ipv4Addr::new(10, 0, 2, 10));
        let b = u32::from(std::net::Ipv4Addr::new(10, 0, 2, 140));
        assert_eq!(covering_v4(a, b), "10.0.2.0/24");
        assert_eq!(covering_v4(a, a), "10.0.2.10/32");
        assert_eq!(covering_v4(0, u32::MAX), "0.0.0.0/0");
    }
}
