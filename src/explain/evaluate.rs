//! Judging one record at its ENI: which direction and role it has, what the ENI's network ACL
//! and security groups do with it (statefully for responses), the rule that decided, and whether
//! the observed action agrees; with the hints that could explain a contradiction.

use super::*;

/// Up to three checks (a NACL rule, a security-group decision, and VPC Block Public Access at
/// the internet gateway), in the order the packet meets them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checks<'n> {
    items: [Decided<'n>; 3],
    len: usize,
}

impl<'n> Checks<'n> {
    const NONE: Checks<'static> = Checks {
        items: [Decided::NaclMissing { subnet: 0 }; 3],
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
    /// The memos of the models of earlier times (`explain --history`), by epoch, the last
    /// used first: kept from chunk to chunk as this one is (see [`Memo::take_epoch`]).
    epochs: Vec<(usize, Memo)>,
}

/// The most memos of earlier models a [`Memo`] keeps.
const EPOCH_MEMOS: usize = 64;

impl Memo {
    /// The memo of the model of history epoch `epoch` (of the one timeline this memo is used
    /// with), kept since it was last given back with [`Memo::keep_epoch`]; a new one if none
    /// is kept. A model of the same epoch is the same configuration however it was built, so
    /// what the memo holds stays true of it.
    pub(crate) fn take_epoch(&mut self, epoch: usize) -> Memo {
        match self.epochs.iter().position(|(k, _)| *k == epoch) {
            Some(p) => self.epochs.remove(p).1,
            None => Memo::default(),
        }
    }

    /// Gives back the memo of epoch `epoch` (the least recently used is let go past
    /// [`EPOCH_MEMOS`]).
    pub(crate) fn keep_epoch(&mut self, epoch: usize, memo: Memo) {
        self.epochs.insert(0, (epoch, memo));
        self.epochs.truncate(EPOCH_MEMOS);
    }
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
    /// The record's `reject-reason` is `BPA`.
    pub(crate) reject_bpa: bool,
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
            reject_bpa: false,
        }
    }
}

/// Explains records against a network.
pub struct Explainer<'n> {
    pub(crate) net: &'n Network,
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
        let records = self.explain_records_near(parsed, before, after, |_| true);
        let mut out = Vec::with_capacity(parsed.records.len() + parsed.malformed.len());
        let mut m = parsed.malformed.iter().peekable();
        for ((_, e), r) in records.into_iter().zip(&parsed.records) {
            while let Some(bad) = m.next_if(|bad| bad.place() < r.place()) {
                out.push(self.malformed(bad));
            }
            out.push(e);
        }
        for bad in m {
            out.push(self.malformed(bad));
        }
        out
    }

    /// The explanations of the records of `parsed` that `wanted` selects (by index into
    /// `parsed.records`), in record order: every record of the chunk and around it is in view
    /// for request/response evidence, only the selected ones are explained
    /// ([`Explainer::explain_chunk_near`] selects them all).
    pub(crate) fn explain_records_near(
        &self,
        parsed: &ParsedChunk,
        before: &[FlowRecord],
        after: &[FlowRecord],
        wanted: impl Fn(usize) -> bool,
    ) -> Vec<(usize, Explanation<'n>)> {
        let near = |rs: &[FlowRecord]| -> Vec<Facts> {
            rs.iter().map(|r| self.facts(&Lite::of(r))).collect()
        };
        let facts = near(&parsed.records);
        let mut flows = Flows::default();
        for f in near(before).iter().chain(&facts).chain(&near(after)) {
            flows.add(f);
        }
        parsed
            .records
            .iter()
            .zip(&facts)
            .enumerate()
            .filter(|(i, _)| wanted(*i))
            .map(|(i, (r, f))| {
                let core = self.core(f, flows.pairing(f), None);
                (i, self.explanation(&parsed.file, r, &core))
            })
            .collect()
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
            e.hints = self.bpa_hints(c, r);
            e.hints
                .extend(hints(e.expected, r, role, self.net.snapshot_time));
        }
        if let Some(i) = c.eni.filter(|_| !self.net.load_balancers.is_empty()) {
            let mine = |a: Option<IpAddr>| a.is_some_and(|a| self.net.enis[i].has_private(a));
            let (peer, port) = if mine(r.dstaddr) {
                (r.srcaddr, r.dstport)
            } else if mine(r.srcaddr) {
                (r.dstaddr, r.srcport)
            } else {
                (c.peer, None)
            };
            e.via = self.net.load_balancer_context(i, peer, port);
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
            reject_bpa: l.reject_reason == Some(b"BPA"),
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
                // The interface whose records were lost, for the count of lost windows per ENI.
                if let Iface::Eni(i) = r.iface {
                    c.eni = Some(i as usize);
                }
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
        if src.is_ipv6() != dst.is_ipv6() {
            c.code = Code::MixedAddressFamilies;
            return c;
        }
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
        let (role, role_evidence) = role_of(r, pairing);
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
            // A REJECT that says BPA agrees only when the model says BPA blocks it.
            (Some(Action::Reject), Some(Action::Reject))
                if r.reject_bpa && c.code != Code::VpcBlockPublicAccess =>
            {
                Status::Contradiction
            }
            (Some(x), Some(y)) if x == y => Status::Consistent,
            (Some(_), Some(_)) => Status::Contradiction,
        };
        c.reject_bpa = r.reject_bpa && r.action == Some(Action::Reject);
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
        // Same subnet: a peer ENI of it, or any address in its CIDRs (a peer that no ENI of the
        // snapshot holds: shared from another account, or created after the snapshot).
        let same_subnet = en.subnet.is_some_and(|s| {
            net.subnets[s].cidrs.iter().any(|c| c.contains(&peer))
                || crate::NetworkBase::pick_in_vpc(&net.enis, peer_enis, en.vpc_id.as_deref())
                    .is_some_and(|p| net.enis[p].subnet == Some(s))
        });
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
                            let v6 = peer.is_ipv6();
                            let untracked = (wide
                                && protocol.has_ports()
                                && self.allows_all(&mut memo, eni, direction, v6))
                            .then(|| {
                                net.eni_rules(eni, direction)
                                    .find(|x| x.is_allow_all_for(v6))
                            })
                            .flatten();
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
        // VPC Block Public Access, at the internet gateway: met before the NACL on the way in,
        // after the groups and the NACL on the way out.
        if let Some((b, j)) = self.bpa(eni, direction, role, peer) {
            use crate::bpa::Outcome;
            let shown = match j.outcome {
                Outcome::Deny | Outcome::Unknown => true,
                Outcome::Allow => !j.exclusions.is_empty(),
                Outcome::NoData => false,
            };
            if shown {
                if direction == Direction::Inbound && j.outcome == Outcome::Deny {
                    checks = Checks::NONE;
                    checks.push(b);
                } else if !checks.iter().any(Decided::denies) {
                    checks.push(b);
                }
            }
        }
        // 5. What the configuration predicts.
        let deny = checks.iter().find(|d| d.denies());
        let unknown = checks.iter().find(|d| d.unknown());
        let (expected, code) = match (deny, unknown) {
            (Some(Decided::Bpa { .. }), _) => (Some(Action::Reject), Code::VpcBlockPublicAccess),
            (None, Some(Decided::Bpa { .. })) => (None, Code::VpcBlockPublicAccessUnknown),
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
        via: None,
        problem: None,
        then: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_memo_is_given_back_as_kept_and_the_least_used_let_go() {
        let mut memo = Memo::default();
        let mut first = memo.take_epoch(7);
        assert!(first.untracked.is_empty(), "none kept yet: a new one");
        first.untracked.insert((3, Direction::Inbound, false), true);
        memo.keep_epoch(7, first);
        assert_eq!(
            memo.take_epoch(7)
                .untracked
                .get(&(3, Direction::Inbound, false)),
            Some(&true)
        );
        // Taken and not given back: gone. Another epoch's memo is its own.
        assert!(memo.take_epoch(7).untracked.is_empty());
        for k in 0..EPOCH_MEMOS + 5 {
            let mut m = Memo::default();
            m.untracked
                .insert((k as u32, Direction::Outbound, true), false);
            memo.keep_epoch(k, m);
        }
        assert_eq!(memo.epochs.len(), EPOCH_MEMOS);
        assert!(memo.take_epoch(0).untracked.is_empty(), "the oldest let go");
        let last = EPOCH_MEMOS + 4;
        assert!(memo.take_epoch(last).untracked.contains_key(&(
            last as u32,
            Direction::Outbound,
            true
        )));
    }
}
