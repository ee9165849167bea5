//! Counting over a run: explanations by status, reason, ENI and peer, and how often each
//! security-group and NACL rule decided (rule usage), merged across threads.

use super::*;

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

pub(crate) fn span<T: Ord + Copy>(a: Option<(T, T)>, b: Option<(T, T)>) -> Option<(T, T)> {
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
    /// SKIPDATA records (windows whose records were lost) per ENI.
    pub skipdata_by_eni: FxHashMap<usize, u64>,
    /// Records judged by a configuration older than the snapshot's (`explain --history`):
    /// counted in the statuses, the ENIs seen and the rejected sources, not in the rule hits and
    /// rejects by rule (which are keyed by the snapshot's rules).
    pub judged_earlier: u64,
    /// Of those, the records decided by other rules than the snapshot's configuration decides
    /// them by (a rule added or removed since): not counted in the rule hits.
    pub judged_earlier_by_other_rules: u64,
}

/// What [`Tally`] counts of one explanation.
pub(crate) struct Seen<'a, 'n> {
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
    /// A SKIPDATA record: a window of records lost at the ENI.
    skipdata: bool,
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

/// A set of ENI indexes (into [`Network::enis`](crate::NetworkBase::enis)), as bits.
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
            skipdata: e.code == crate::explain::Code::SkipData,
        });
    }

    /// Adds an explanation made by a configuration older than the snapshot's (`then`), with
    /// the snapshot's explanation of the same record (`now`). When both were decided by the
    /// same rules (`same_rules`), the record counts as `now` does; otherwise in the statuses,
    /// the ENIs seen and the rejected sources, not in the rule hits (see
    /// [`Tally::judged_earlier_by_other_rules`]).
    pub fn add_judged_earlier(
        &mut self,
        then: &Explanation<'_>,
        now: &Explanation<'_>,
        r: Option<&FlowRecord>,
        same_rules: bool,
    ) {
        self.judged_earlier += 1;
        if same_rules {
            return self.add(now, r);
        }
        self.judged_earlier_by_other_rules += 1;
        self.add_seen(Seen {
            status: then.status,
            eni: now.eni,
            observed: then.observed,
            expected: then.expected,
            srcaddr: then.srcaddr,
            peer: then.peer,
            dstport: then.dstport,
            protocol: then.protocol,
            window: r.and_then(|r| r.start.zip(r.end)),
            checks: &[],
            skipdata: then.code == crate::explain::Code::SkipData,
        });
    }

    /// [`Tally::add_judged_earlier`] for the cores of the two explanations (`f`: the
    /// record's fields), as the fast scan has them.
    pub(crate) fn add_judged_earlier_core(
        &mut self,
        then: &Core<'_>,
        now: &Core<'_>,
        f: &Facts,
        same_rules: bool,
    ) {
        self.judged_earlier += 1;
        if same_rules {
            return self.add_core(now, f);
        }
        self.judged_earlier_by_other_rules += 1;
        self.add_seen(Seen {
            status: then.status,
            eni: now.eni,
            observed: f.action,
            expected: then.expected,
            srcaddr: f.srcaddr,
            peer: then.peer,
            dstport: f.dstport,
            protocol: f.protocol,
            window: f.start.zip(f.end),
            checks: &[],
            skipdata: then.code == crate::explain::Code::SkipData,
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
            skipdata: c.code == crate::explain::Code::SkipData,
        });
    }

    fn add_seen(&mut self, e: Seen<'_, '_>) {
        self.counts[e.status as usize] += 1;
        if let Some(w) = e.window {
            self.window = span(self.window, Some(w));
        }
        let Some(eni) = e.eni else { return };
        self.enis_seen.insert(eni);
        if e.skipdata {
            *self.skipdata_by_eni.entry(eni).or_default() += 1;
            return;
        }
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
                // An entry of unknown content (a model at an earlier time) is no rule to count.
                Decided::Nacl { rule, .. } if rule.unknown.is_some() => continue,
                Decided::Nacl { nacl, rule } => {
                    RuleKey::Nacl(nacl, rule.direction == Direction::Outbound, rule.position)
                }
                Decided::SgAllow(rule)
                | Decided::SgTracked {
                    untracked: Some(rule),
                    ..
                } => RuleKey::Sg(
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
        for (k, v) in o.skipdata_by_eni {
            *self.skipdata_by_eni.entry(k).or_default() += v;
        }
        self.judged_earlier += o.judged_earlier;
        self.judged_earlier_by_other_rules += o.judged_earlier_by_other_rules;
    }

    /// The ENIs with SKIPDATA records and how many windows of records each lost, most first.
    pub fn lost_windows(&self, net: &Network) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self
            .skipdata_by_eni
            .iter()
            .filter_map(|(&e, &n)| net.enis.get(e).map(|x| (x.id.clone(), n)))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// The number of records counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Records of one status.
    pub fn count(&self, s: Status) -> u64 {
        self.counts[s as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
