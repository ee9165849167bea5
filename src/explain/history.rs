//! Explaining records by the configuration in effect at their own time (`explain --history`):
//! the snapshot with every later change of the history undone ([`crate::history::at`]). A record
//! whose answer then differs from the snapshot's says so, with the changes to its ENI's groups,
//! subnet, NACL and route table since its start ([`JudgedThen`]).
//!
//! Each distinct configuration (an *epoch*: the time between two changes) is made when a
//! record first needs it (the last [`EPOCHS_KEPT`] used are kept): from a kept model (or the
//! snapshot's) by compiling anew only the security groups whose rules changed in between, when
//! nothing else did ([`RuleGroups`], [`Network::with_groups`]); otherwise built from the nearest
//! kept earlier configuration (at most [`STATES_KEPT`] kept) rather than from the snapshot with
//! every later change undone. A record is judged by an earlier model only when a change since
//! its time can alter how it is judged ([`Touches`]). [`Timeline::explain_chunk_counted`] explains records by the fast
//! scan, each by its epoch's model, and builds full explanations only for the lines printed;
//! [`Timeline::explain_chunk`] explains them all in full.

use super::fast::{Item, Scratch};
use super::{Core, Explainer, Explanation, Facts, Iface, Memo, Status, Tally};
use crate::flow_log::{
    parse_chunk, Action, Chunk, Counts, FlowRecord, ParsedChunk, Scanned, Scanner,
};
use crate::history::{finish_at, undo, Event, Footprint, FootprintIndex, Tuple};
use crate::network::Network;
use crate::render::explain::RenderCache;
use crate::snapshot::Snapshot;
use crate::timestamp::Rfc3339;
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

/// What the snapshot's configuration says of a record judged by an earlier one, and the
/// changes in between: set on an [`Explanation`] when the two answers differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JudgedThen {
    /// The time the record was judged at (its `start`), RFC 3339.
    pub at: String,
    /// The record's status by the snapshot's configuration.
    pub snapshot_status: Status,
    /// What the snapshot's configuration predicts.
    #[serde(serialize_with = "action_opt")]
    pub snapshot_expected: Option<Action>,
    /// The changes after the record's start (up to the snapshot's time) to the resources of
    /// its ENI, oldest first.
    pub changes: Vec<ChangeSeen>,
}

/// One change of the history, as a record's explanation names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeSeen {
    /// CloudTrail `eventID` (empty, and not in JSON, for an AWS Config item).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub event_id: String,
    /// The AWS Config item (`<resourceId>@<configurationStateId>`), when the change is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_item: Option<String>,
    /// When, RFC 3339.
    pub time: String,
    /// The API call.
    pub api: String,
    /// Who (untrusted text).
    pub principal: Option<String>,
    /// From where (untrusted text).
    pub source_ip: Option<String>,
    /// The resources it touched.
    pub resources: Vec<String>,
}

fn action_opt<S: serde::Serializer>(a: &Option<Action>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => s.serialize_some(a.as_str()),
        None => s.serialize_none(),
    }
}

/// The snapshot and its history: the network at any time up to the snapshot's.
pub struct Timeline {
    snapshot: Snapshot,
    snapshot_time: i64,
    /// The changes not after the snapshot's time, by time.
    events: Vec<Event>,
    /// The model at the snapshot's time.
    current: Network,
    /// Which changes reach each ENI of `current`, and which of them can alter how a given
    /// record there is judged: a record that none since its time can alter is judged by the
    /// snapshot's configuration, whatever else changed.
    touches: Touches,
    /// Resources whose newest AWS Config item says other than the snapshot
    /// ([`crate::history::config_disagreements`]): from the last change to the snapshot's time
    /// the model is then not the snapshot's, and that span is an epoch of its own
    /// (`events.len()`; the snapshot's is `events.len() + 1`).
    disagree: Vec<String>,
    /// The models of the last epochs used, most recent first (each is built on first use, and
    /// dropped when [`EPOCHS_KEPT`] others were used since), each with whether its interfaces
    /// are those of `current`, by the same indexes.
    epochs: Mutex<Vec<(usize, Arc<Network>, bool)>>,
    /// The snapshot with the changes from an index on undone (`events[m..]`, newest first),
    /// by that index: kept at every `stride`-th index reached, so that an epoch's model starts
    /// from the nearest kept state after it (fewer than `stride` changes to undo) instead of
    /// from the snapshot (every later change to undo). At most [`STATES_KEPT`] + 1 are kept.
    states: Mutex<BTreeMap<usize, Arc<Snapshot>>>,
    /// The spacing of `states`: `events.len()` / [`STATES_KEPT`], rounded up (at least 1).
    stride: usize,
    /// The groups whose every change is a rule change undone exactly (see [`RuleGroups`]):
    /// a model at one time is made from a model at another, when only their changes lie
    /// between, by compiling those groups anew ([`Network::with_groups`]) instead of building
    /// it.
    rule_groups: RuleGroups,
}

/// The security groups of the snapshot whose every change in the history is a rule added,
/// removed or modified, each undone exactly (nothing withheld), with no AWS Config item of
/// theirs in the history: the content of such a group at any time is known from the changes
/// alone, and those changes alter nothing else. Between two times with only such changes in
/// between, two models differ only in those groups' rules.
struct RuleGroups {
    /// The groups, each with its state just before each of its changes (by the change's
    /// index) and its state in the snapshot.
    groups: Vec<RuleGroup>,
    /// For each change, the group of `groups` it changes; `None` for any other change.
    of_event: Vec<Option<usize>>,
    /// How many changes before each index are not rule changes of `groups` (`events.len() + 1`
    /// entries): the changes in `a..b` all are when `other[a] == other[b]`.
    other: Vec<u32>,
}

/// One group of [`RuleGroups`].
struct RuleGroup {
    /// Its state just before each of its changes, by the change's index, ascending.
    before: Vec<(usize, Arc<crate::snapshot::SecurityGroup>)>,
    /// Its state in the snapshot.
    now: Arc<crate::snapshot::SecurityGroup>,
}

impl RuleGroup {
    /// Its state at epoch `k`: before its first change at or after `events[k]`.
    fn at(&self, k: usize) -> &crate::snapshot::SecurityGroup {
        let p = self.before.partition_point(|(i, _)| *i < k);
        self.before.get(p).map_or(&self.now, |(_, sg)| sg)
    }
}

impl RuleGroups {
    /// Whether every change of `events[a..b]` (or `b..a`) is a rule change of a group here.
    fn only_rules_between(&self, a: usize, b: usize) -> bool {
        let (a, b) = (a.min(b), a.max(b));
        matches!((self.other.get(a), self.other.get(b)), (Some(x), Some(y)) if x == y)
    }

    /// The states at epoch `k` of the groups the changes between epochs `j` and `k` change
    /// (each once); the caller knows [`RuleGroups::only_rules_between`] holds.
    fn changed_between(&self, j: usize, k: usize) -> Vec<&crate::snapshot::SecurityGroup> {
        let (a, b) = (j.min(k), j.max(k));
        let mut seen: Vec<usize> = self.of_event[a..b].iter().flatten().copied().collect();
        seen.sort_unstable();
        seen.dedup();
        seen.iter().map(|&g| self.groups[g].at(k)).collect()
    }
}

/// How many earlier models are kept built at once.
const EPOCHS_KEPT: usize = 8;

/// How many earlier configurations (as snapshots) are kept at most to build models from.
const STATES_KEPT: usize = 32;

impl Timeline {
    /// The timeline of `snapshot` (taken at `snapshot_time`) with the changes `events` (sorted
    /// by time; those after the snapshot's time are not in it and are passed by).
    pub fn new(snapshot: Snapshot, snapshot_time: i64, events: Vec<Event>) -> Timeline {
        let events: Vec<Event> = events
            .into_iter()
            .filter(|e| e.time <= snapshot_time)
            .collect();
        let mut current = Network::build(&snapshot);
        current.snapshot_time = Some(snapshot_time);
        // Compiled once here, so that the models made from it share its compiled groups.
        current.compile_groups();
        let disagree = crate::history::config_disagreements(&snapshot, &events);
        let undos = exact_undos(&snapshot, &events);
        let touches = Touches::new(&current, &events, &disagree, &undos);
        let rule_groups = rule_groups(
            &snapshot,
            &current,
            &events,
            &disagree,
            &undos.exact,
            undos.groups,
        );
        let stride = events.len().div_ceil(STATES_KEPT).max(1);
        Timeline {
            snapshot,
            snapshot_time,
            events,
            current,
            touches,
            disagree,
            epochs: Mutex::new(Vec::new()),
            states: Mutex::new(BTreeMap::new()),
            stride,
            rule_groups,
        }
    }

    /// The snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// The model at the snapshot's time.
    pub fn current(&self) -> &Network {
        &self.current
    }

    /// The changes the timeline holds (not after the snapshot's time), by time.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The epoch of a time: the number of changes at or before it (`events().len()` for the
    /// snapshot's own configuration).
    pub fn epoch_of(&self, t: i64) -> usize {
        let k = self.events.partition_point(|e| e.time <= t);
        if k == self.events.len() && (self.disagree.is_empty() || t >= self.snapshot_time) {
            self.now_epoch()
        } else {
            k
        }
    }

    /// The epoch of the snapshot's own configuration: `events().len()`, or one more when an
    /// AWS Config item says other than the snapshot (see [`Timeline::epoch_of`]).
    pub fn now_epoch(&self) -> usize {
        self.events.len() + usize::from(!self.disagree.is_empty())
    }

    /// The model of an epoch before the snapshot's (see [`Timeline::epoch_of`]): the snapshot
    /// with `events()[epoch..]` undone.
    pub fn network_at_epoch(&self, epoch: usize) -> Arc<Network> {
        self.epoch_model(epoch).0
    }

    /// [`Timeline::network_at_epoch`], with whether the model's interfaces are those of
    /// [`Timeline::current`] by the same indexes (records then have the same fields in both).
    fn epoch_model(&self, epoch: usize) -> (Arc<Network>, bool) {
        let kept = |epochs: &mut Vec<(usize, Arc<Network>, bool)>| {
            let p = epochs.iter().position(|(k, _, _)| *k == epoch)?;
            let hit = epochs.remove(p);
            let found = (Arc::clone(&hit.1), hit.2);
            epochs.insert(0, hit);
            Some(found)
        };
        let derived = {
            let mut epochs = self.epochs.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(found) = kept(&mut epochs) {
                return found;
            }
            self.derivable(epoch, &epochs)
        };
        if let Some((j, base, same)) = derived {
            let groups = self.rule_groups.changed_between(j, epoch);
            if let Some(net) = base.with_groups(&groups) {
                return self.keep_epoch(epoch, net, same);
            }
        }
        // Any time before the epoch's first later change (or the snapshot's time) gives the
        // same model: the one of `history::at`, whose steps these are (undo every change
        // after `t`, newest first, then `finish_at`).
        let t = self
            .events
            .get(epoch)
            .map_or(self.snapshot_time - 1, |e| e.time - 1);
        let from = self.events.partition_point(|e| e.time <= t);
        let mut undone = self.undone_from(from);
        finish_at(
            &self.snapshot,
            &mut undone,
            &self.events,
            self.snapshot_time,
            t,
        );
        let mut net = Network::build_taking_groups(&mut undone);
        drop(undone);
        net.snapshot_time = Some(self.snapshot_time);
        let same = net.eni_index == self.current.eni_index;
        self.keep_epoch(epoch, net, same)
    }

    /// Keeps the model of an epoch among the last used (unless another thread made it
    /// meanwhile: that one is kept and returned).
    fn keep_epoch(&self, epoch: usize, net: Network, same: bool) -> (Arc<Network>, bool) {
        let net = Arc::new(net);
        let mut epochs = self.epochs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = epochs.iter().position(|(k, _, _)| *k == epoch) {
            let hit = epochs.remove(p);
            let found = (Arc::clone(&hit.1), hit.2);
            epochs.insert(0, hit);
            return found;
        }
        epochs.insert(0, (epoch, Arc::clone(&net), same));
        epochs.truncate(EPOCHS_KEPT);
        (net, same)
    }

    /// A model the one of `epoch` can be made from by compiling some groups anew (see
    /// [`RuleGroups`]): the nearest of the kept models and the snapshot's (when it is the
    /// model of epoch `events().len()`) with only rule changes of those groups in between,
    /// with its epoch and whether its interfaces are those of [`Timeline::current`].
    fn derivable(
        &self,
        epoch: usize,
        epochs: &[(usize, Arc<Network>, bool)],
    ) -> Option<(usize, Arc<Network>, bool)> {
        let n = self.events.len();
        let kept = epochs
            .iter()
            .filter(|(j, _, _)| *j <= n && self.rule_groups.only_rules_between(*j, epoch))
            .min_by_key(|(j, _, _)| j.abs_diff(epoch));
        let now = (self.disagree.is_empty() && self.rule_groups.only_rules_between(n, epoch))
            .then_some(n);
        let from_now =
            now.is_some_and(|n| kept.is_none_or(|(j, _, _)| n.abs_diff(epoch) < j.abs_diff(epoch)));
        if from_now {
            return Some((n, Arc::new(self.current.clone()), true));
        }
        kept.map(|(j, net, same)| (*j, Arc::clone(net), *same))
    }

    /// The snapshot with `events[from..]` undone, newest first (as `history::at` undoes
    /// them): from the nearest kept state at or after `from` (see `states`), keeping the
    /// states reached at each `stride`-th index on the way.
    fn undone_from(&self, from: usize) -> Snapshot {
        let n = self.events.len();
        let nearest = self
            .states
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .range(from..)
            .next()
            .map(|(&k, s)| (k, Arc::clone(s)));
        let (mut k, mut state) = match nearest {
            Some((k, s)) => (k, Snapshot::clone(&s)),
            None => (n, self.snapshot.clone()),
        };
        while k > from {
            k -= 1;
            // Why an undo is not exact is in the state (what it left out): the model says it.
            let _ = undo(&mut state, &self.events, k);
            if k > from && k % self.stride == 0 {
                self.states
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .entry(k)
                    .or_insert_with(|| Arc::new(state.clone()));
            }
        }
        state
    }

    /// The epoch a record is judged in: the one of its start, or the snapshot's
    /// ([`Timeline::now_epoch`]) when it has no start, when the snapshot's model finds no
    /// interface for it, or when no change since its start can alter how it is judged there.
    /// `now` is its explanation by the snapshot's model.
    fn judged_epoch(&self, now: &Core<'_>, f: &Facts) -> usize {
        let now_epoch = self.now_epoch();
        let Some(start) = f.start else {
            return now_epoch;
        };
        let k = self.epoch_of(i64::try_from(start).unwrap_or(i64::MAX));
        if k >= now_epoch {
            return now_epoch;
        }
        let tuple = Tuple {
            protocol: f.protocol,
            addrs: [f.srcaddr, f.dstaddr, f.pkt_srcaddr, f.pkt_dstaddr],
            ports: [f.srcport, f.dstport],
        };
        match now.eni {
            Some(i) if self.touches.alters(i, k, &tuple) => k,
            // Not in the snapshot, nor at any earlier time (changes do not make ENIs), or one
            // that no change since reaches.
            _ => now_epoch,
        }
    }

    /// Explains a chunk as [`Timeline::explain_chunk`] does (each record by the configuration
    /// at its `start`), by the fast scan: every record is explained by its epoch's model
    /// without building its full explanation, and only the lines whose status `want` accepts
    /// (for a record judged earlier, its status then) are explained in full and handed to
    /// `emit`, in line order, with the network they refer to. Every line is counted in the
    /// returned tally (see [`Timeline::explain_chunk`]).
    ///
    /// A record that no change since its start can alter, or whose interface the snapshot's
    /// model does not know, is judged by the snapshot's model (with
    /// [`Timeline::hint_unchanged`]). A chunk that needs an earlier model whose interfaces
    /// differ from the snapshot's (an interface left out then) is explained by
    /// [`Timeline::explain_chunk`].
    ///
    /// `memo` keeps caches and buffers from chunk to chunk, as for
    /// [`Explainer::explain_chunk_counted`] with the explainer of [`Timeline::current`].
    pub fn explain_chunk_counted(
        &self,
        chunk: &Chunk,
        memo: &mut Memo,
        want: impl Fn(Status) -> bool,
        mut emit: impl for<'a> FnMut(&'a Network, Explanation<'a>),
    ) -> (Tally, Counts) {
        let now_epoch = self.now_epoch();
        let explainer = Explainer::new(&self.current);
        let mut scratch: Scratch = std::mem::take(&mut memo.scratch);
        let (mut scanner, counts) = explainer.scan_chunk(chunk, &mut scratch);
        // Each record's explanation by the snapshot's model, its epoch, and what the records
        // of its flow say (the same whichever model judges it).
        let judged: Vec<Option<(Core<'_>, usize, _)>> = scratch
            .items
            .iter()
            .map(|item| match item {
                Item::Record(f, _) => {
                    let pairing = scratch.flows.pairing(f);
                    let core = explainer.core(f, pairing, Some(memo));
                    let k = self.judged_epoch(&core, f);
                    Some((core, k, pairing))
                }
                Item::Malformed(_) => None,
            })
            .collect();
        let wanted: BTreeSet<usize> = judged
            .iter()
            .flatten()
            .map(|&(_, k, _)| k)
            .filter(|&k| k < now_epoch)
            .collect();
        let mut nets: Vec<(usize, Arc<Network>)> = Vec::with_capacity(wanted.len());
        for k in wanted {
            let (net, same) = self.epoch_model(k);
            if !same {
                // The records' fields (which interface) are not the same by that model.
                memo.scratch = scratch;
                drop(judged);
                return self.explain_chunk_wanted(chunk, want, emit);
            }
            nets.push((k, net));
        }
        let then: Vec<Explainer<'_>> = nets.iter().map(|(_, n)| Explainer::new(n)).collect();
        let mut memos: Vec<Memo> = nets.iter().map(|(k, _)| memo.take_epoch(*k)).collect();
        let mut then_texts: Vec<RenderCache<'_>> =
            nets.iter().map(|(_, n)| RenderCache::new(n)).collect();
        let mut now_texts = RenderCache::new(&self.current);
        let mut tally = Tally::default();
        for (item, judged) in scratch.items.iter().zip(&judged) {
            let (f, at, core, k, pairing) = match (item, judged) {
                (Item::Record(f, at), Some((core, k, pairing))) => (f, *at, core, *k, *pairing),
                // Every record has its epoch.
                (Item::Record(..), None) => continue,
                (Item::Malformed(bad), _) => {
                    let e = explainer.malformed(bad);
                    tally.add(&e, None);
                    if want(Status::Malformed) {
                        emit(&self.current, e);
                    }
                    continue;
                }
            };
            let Some(p) = nets.iter().position(|(j, _)| *j == k) else {
                // Judged by the snapshot's model.
                tally.add_core(core, f);
                if want(core.status) {
                    // The scan read this line as a record, so the full parser does too.
                    let e = match scanner.full(at) {
                        Ok(r) => {
                            let mut e = explainer.explanation(&chunk.file, &r, core);
                            self.hint_unchanged(&mut e);
                            e
                        }
                        Err(bad) => explainer.malformed(&bad),
                    };
                    emit(&self.current, e);
                }
                continue;
            };
            let net: &Network = &nets[p].1;
            let c = then[p].core(f, pairing, Some(&mut memos[p]));
            let same_answer = (c.status, c.expected) == (core.status, core.expected);
            let same_rules = same_answer
                && c.checks.as_slice().len() == core.checks.as_slice().len()
                && c.checks
                    .as_slice()
                    .iter()
                    .zip(core.checks.as_slice())
                    .all(|(a, b)| {
                        then_texts[p].same_decided(
                            c.direction,
                            a,
                            &mut now_texts,
                            core.direction,
                            b,
                        )
                    });
            tally.add_judged_earlier_core(&c, core, f, same_rules);
            if !want(c.status) {
                continue;
            }
            let r = match scanner.full(at) {
                Ok(r) => r,
                Err(bad) => {
                    emit(&self.current, explainer.malformed(&bad));
                    continue;
                }
            };
            let mut e = then[p].explanation(&chunk.file, &r, &c);
            self.hint_history(&mut e, &r, k);
            if !same_answer {
                e.then =
                    Some(self.judged_then(net, k, &r, &e, (core.status, core.expected, core.eni)));
            }
            emit(net, e);
        }
        drop(judged);
        for ((k, _), m) in nets.iter().zip(memos) {
            memo.keep_epoch(*k, m);
        }
        memo.scratch = scratch;
        (tally, counts)
    }

    /// Explains a chunk, each record by the configuration at its `start` (a record without a
    /// time by the snapshot's), and hands each line's explanation, in line order, to `emit`
    /// with the network it refers to (render it with that network). Returns the tally (its ENI
    /// and rule keys are the snapshot's, see [`Tally::judged_earlier`]) and the chunk's counts.
    pub fn explain_chunk(
        &self,
        chunk: &Chunk,
        emit: impl for<'a> FnMut(&'a Network, Explanation<'a>),
    ) -> (Tally, Counts) {
        self.explain_chunk_wanted(chunk, |_| true, emit)
    }

    /// [`Timeline::explain_chunk`] handing to `emit` only the lines whose status `want`
    /// accepts (every line is counted in the tally), and saying what the snapshot says of a
    /// record judged earlier ([`JudgedThen`]) only for those.
    fn explain_chunk_wanted(
        &self,
        chunk: &Chunk,
        want: impl Fn(Status) -> bool,
        mut emit: impl for<'a> FnMut(&'a Network, Explanation<'a>),
    ) -> (Tally, Counts) {
        let parsed = parse_chunk(chunk);
        let near = |c: Option<&Chunk>| c.map(|c| parse_chunk(c).records).unwrap_or_default();
        let (before, after) = (near(chunk.before.as_deref()), near(chunk.after.as_deref()));
        let now_epoch = self.now_epoch();
        let now = Explainer::new(&self.current).explain_chunk_near(&parsed, &before, &after);
        let records = line_records(&parsed);
        // The epoch each record is judged in: the one of its time, or the snapshot's when no
        // change since its time reaches its ENI.
        let mut judged = vec![now_epoch; parsed.records.len()];
        for (line, rec) in records.iter().enumerate() {
            let Some((ri, r)) = rec else { continue };
            let Some(start) = r.start else { continue };
            let k = self.epoch_of(i64::try_from(start).unwrap_or(i64::MAX));
            if k >= now_epoch {
                continue;
            }
            let tuple = Tuple {
                protocol: r.protocol,
                addrs: [r.srcaddr, r.dstaddr, r.pkt_srcaddr, r.pkt_dstaddr],
                ports: [r.srcport, r.dstport],
            };
            // As the fast scan does (`judged_epoch`): a record for which the snapshot's model
            // finds no interface (not in the snapshot, nor at any earlier time: changes do not
            // make interfaces; a NODATA record) is judged by the snapshot's.
            let untouched = now
                .get(line)
                .is_none_or(|e| e.eni.is_none_or(|i| !self.touches.alters(i, k, &tuple)));
            judged[*ri] = if untouched { now_epoch } else { k };
        }
        let wanted: BTreeSet<usize> = judged.iter().copied().filter(|&k| k < now_epoch).collect();
        let nets: Vec<(usize, Arc<Network>)> = wanted
            .into_iter()
            .map(|k| (k, self.network_at_epoch(k)))
            .collect();
        // Each earlier configuration explains only its own records.
        let mut then: Vec<(usize, &Network, Vec<Option<Explanation<'_>>>)> = nets
            .iter()
            .map(|(k, net)| {
                let mut slots: Vec<Option<Explanation<'_>>> =
                    (0..parsed.records.len()).map(|_| None).collect();
                let explainer = Explainer::new(net.as_ref());
                for (i, e) in
                    explainer.explain_records_near(&parsed, &before, &after, |i| judged[i] == *k)
                {
                    slots[i] = Some(e);
                }
                (*k, net.as_ref(), slots)
            })
            .collect();
        let mut tally = Tally::default();
        let mut now_texts = RenderCache::new(&self.current);
        let mut then_texts: Vec<RenderCache<'_>> = then
            .iter()
            .map(|(_, net, _)| RenderCache::new(net))
            .collect();
        for (line, e_now) in now.into_iter().enumerate() {
            let rec = records.get(line).copied().flatten();
            let Some((ri, r)) = rec else {
                tally.add(&e_now, None);
                if want(e_now.status) {
                    emit(&self.current, e_now);
                }
                continue;
            };
            let k = judged[ri];
            let taken = then
                .iter_mut()
                .enumerate()
                .find(|(_, (j, _, _))| *j == k)
                .and_then(|(p, (_, net, es))| Some((p, *net, es.get_mut(ri)?.take()?)));
            let Some((p, net, mut e)) = taken else {
                let mut e = e_now;
                self.hint_unchanged(&mut e);
                tally.add(&e, Some(r));
                if want(e.status) {
                    emit(&self.current, e);
                }
                continue;
            };
            let same_rules = (e.status, e.expected) == (e_now.status, e_now.expected)
                && e.decided_by.len() == e_now.decided_by.len()
                && e.decided_by.iter().zip(&e_now.decided_by).all(|(a, b)| {
                    then_texts[p].same_decided(e.direction, a, &mut now_texts, e_now.direction, b)
                });
            tally.add_judged_earlier(&e, &e_now, Some(r), same_rules);
            if !want(e.status) {
                continue;
            }
            self.hint_history(&mut e, r, k);
            if (e.status, e.expected) != (e_now.status, e_now.expected) {
                e.then = Some(self.judged_then(
                    net,
                    k,
                    r,
                    &e,
                    (e_now.status, e_now.expected, e_now.eni),
                ));
            }
            emit(net, e);
        }
        (tally, parsed.counts)
    }

    /// Whether some record of `chunk` is judged by a configuration older than the snapshot's;
    /// when none is, the chunk can be explained against [`Timeline::current`] as it is (with
    /// [`Timeline::hint_unchanged`] on its contradictions).
    pub fn needs_history(&self, chunk: &Chunk) -> bool {
        let now = self.now_epoch();
        if now == 0 {
            return false;
        }
        let explainer = Explainer::new(&self.current);
        let mut needs = false;
        Scanner::new(chunk).scan(|s, _| {
            let Scanned::Record(l) = s else { return };
            if needs {
                return;
            }
            let f = explainer.facts(&l);
            let Some(start) = f.start else { return };
            let k = self.epoch_of(i64::try_from(start).unwrap_or(i64::MAX));
            if k >= now {
                return;
            }
            let tuple = Tuple {
                protocol: f.protocol,
                addrs: [f.srcaddr, f.dstaddr, f.pkt_srcaddr, f.pkt_dstaddr],
                ports: [f.srcport, f.dstport],
            };
            needs = match f.iface {
                Iface::Eni(i) => self.touches.alters(i as usize, k, &tuple),
                // Not in the snapshot, nor at any earlier time (changes do not make ENIs).
                Iface::Unknown => false,
                // Found by address: which ENI is not known yet.
                Iface::Absent => true,
            };
        });
        needs
    }

    /// A contradiction's hint about the snapshot's age, for a record no change of the history
    /// since its start alters: the history says the configuration was the same for it.
    pub fn hint_unchanged(&self, e: &mut Explanation<'_>) {
        if let Some(h) = e.hints.iter_mut().find(|h| h.starts_with("the snapshot ")) {
            *h = Cow::Borrowed("judged by the snapshot's configuration, which no change of the history since its start alters for this record (none reaches this interface, none adds or removes a rule that matches the record, or each such rule was added and removed again, or removed and added again, since): a change the history does not hold (another trail or Region, a call not logged) would explain it");
        }
    }

    /// What the snapshot's configuration says of record `r` judged by the model `then_net` of
    /// epoch `k` (explanation `e`), when the two answers differ: the snapshot's status,
    /// expected action and ENI, and the changes in between.
    fn judged_then(
        &self,
        then_net: &Network,
        k: usize,
        r: &FlowRecord,
        e: &Explanation<'_>,
        (snapshot_status, snapshot_expected, snapshot_eni): (Status, Option<Action>, Option<usize>),
    ) -> Box<JudgedThen> {
        Box::new(JudgedThen {
            at: r
                .start
                .map(|s| Rfc3339(s as i64).to_string())
                .unwrap_or_default(),
            snapshot_status,
            snapshot_expected,
            changes: self.changes_at(then_net, k, e.eni, e.interface_id.as_deref(), snapshot_eni),
        })
    }

    /// The changes from epoch `k` on that touch the resources of the record's ENI (in the
    /// configuration then, `then_eni`, or now, `now_eni`), or the interface its
    /// `interface-id` names.
    fn changes_at(
        &self,
        then_net: &Network,
        k: usize,
        then_eni: Option<usize>,
        interface_id: Option<&str>,
        now_eni: Option<usize>,
    ) -> Vec<ChangeSeen> {
        let mut ids: BTreeSet<&str> = BTreeSet::new();
        for (net, eni) in [(then_net, then_eni), (&self.current, now_eni)] {
            if let Some(eni) = eni.and_then(|i| net.enis.get(i)) {
                ids.extend(eni_resources(net, eni, false));
            }
        }
        // An interface the model at that time left out: the record's `interface-id` names it.
        ids.extend(interface_id);
        // After the last change, the Config items that say other than the snapshot.
        let disagreeing: Vec<&Event> = self
            .disagree
            .iter()
            .filter(|d| ids.contains(d.as_str()))
            .filter_map(|d| {
                self.events[..k.min(self.events.len())]
                    .iter()
                    .rev()
                    .find(|e| e.config_item().is_some_and(|c| &c.resource_id == d))
            })
            .collect();
        self.events[k.min(self.events.len())..]
            .iter()
            .filter(|e| {
                e.change
                    .resources()
                    .iter()
                    .any(|r| ids.contains(r.as_str()))
            })
            .chain(disagreeing)
            .map(|e| ChangeSeen {
                event_id: if e.config_item().is_some() {
                    String::new()
                } else {
                    e.event_id.clone()
                },
                config_item: e.config_item().map(|_| e.event_id.clone()),
                time: Rfc3339(e.time).to_string(),
                api: e.api.clone(),
                principal: e.principal.clone(),
                source_ip: e.source_ip.clone(),
                resources: e.change.resources(),
            })
            .collect()
    }

    /// With the history known, a contradiction's hint about the snapshot's time says what the
    /// history says instead: the record was judged by the configuration at its start.
    fn hint_history(&self, e: &mut Explanation<'_>, r: &FlowRecord, k: usize) {
        let Some(h) = e.hints.iter_mut().find(|h| h.starts_with("the snapshot ")) else {
            return;
        };
        let later = self.events.len().saturating_sub(k);
        let during = match (r.start, r.end) {
            (Some(s), Some(end)) => self
                .events
                .iter()
                .filter(|ev| ev.time > s as i64 && ev.time <= end as i64)
                .map(Event::named)
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        *h = Cow::Owned(if during.is_empty() {
            format!(
                "judged by the configuration at its start (the snapshot of {} with the {later} later change(s) of the history undone): a change the history does not hold (another trail or Region, a call not logged) would explain it",
                Rfc3339(self.snapshot_time)
            )
        } else {
            format!(
                "the configuration changed during this record's interval ({}): judged by the configuration at its start",
                during.join(", ")
            )
        });
    }
}

/// For each explanation of a parsed chunk, in the order [`Explainer::explain_chunk_near`]
/// gives them (records and malformed lines by place), its record (with its index), if it is one.
fn line_records(parsed: &ParsedChunk) -> Vec<Option<(usize, &FlowRecord)>> {
    let mut out = Vec::with_capacity(parsed.records.len() + parsed.malformed.len());
    let mut m = parsed.malformed.iter().peekable();
    for (i, r) in parsed.records.iter().enumerate() {
        while m.next_if(|bad| bad.place() < r.place()).is_some() {
            out.push(None);
        }
        out.push(Some((i, r)));
    }
    out.extend(m.map(|_| None));
    out
}

/// Which changes reach each ENI, and which of them can matter to a given record there.
struct Touches {
    /// For each ENI, the last change reaching it that may matter to any of its records (one
    /// without a [`Footprint`]; see [`Touches::new`]).
    opaque: Vec<Option<usize>>,
    /// For each ENI, the resources (numbered as in `slots_of`) that changes with a footprint
    /// name and that reach it, ascending.
    slots: Vec<Vec<u32>>,
    /// The rules the changes with a footprint add or remove, by the addresses they match.
    index: FootprintIndex,
    /// For each rule of `index` (by its number), the last change adding or removing it that
    /// names each resource (numbered as in `slots`), by resource, ascending.
    last_change: Vec<Vec<(u32, u32)>>,
    /// For each ENI, the changes reaching it that add or remove a rule of `index`, by rule
    /// (its number), then change, ascending: `index` joined with `slots` ahead of time.
    /// `None` when that would hold more than [`PER_ENI_MAX`] of them.
    per_eni: Option<Vec<Vec<RuleChange>>>,
    /// For each ENI, the latest change of `per_eni` from which on the changes can alter
    /// something ([`RuleChange::alters`]).
    latest_altering: Vec<Option<u32>>,
}

/// The most [`RuleChange`]s [`Touches`] joins per ENI ahead of time (16 bytes each).
const PER_ENI_MAX: usize = 1 << 22;

/// One change adding or removing a rule of a [`FootprintIndex`], at an ENI it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RuleChange {
    /// The rule's number in the index.
    rule: u32,
    /// The change's index.
    change: u32,
    /// For a security-group rule authorized or revoked that the change toggles (see
    /// [`crate::history::toggles`]): the exact rule (group, direction, protocol, ports, peer),
    /// numbered; [`NO_KEY`] for anything else.
    key: u32,
    /// Whether this change and the later ones of the same rule at the ENI can alter how a
    /// record they match is judged ([`changed_since`]).
    alters: bool,
}

/// [`RuleChange::key`] of a change that is not a toggle of an exact security-group rule.
const NO_KEY: u32 = u32::MAX;

/// The key of a security-group rule a change names but leaves as it was in the model (a rule
/// revoked that is there after the revoke): no [`RuleChange`] is made of it.
const UNCHANGED: u32 = u32::MAX - 1;

/// Sets [`RuleChange::alters`] on the changes of one rule at one ENI (`changes`, by change,
/// ascending): the changes from one on (those after a record's time) can alter how a record
/// they match is judged unless each is a toggle of an exact security-group rule and each such
/// rule is toggled an even number of times (added and removed again, or removed and added
/// again): then every rule matching the record is at the record's time as in the snapshot, in
/// each group, and the snapshot's configuration judges it as the one then does.
fn changed_since(changes: &mut [RuleChange]) {
    let mut odd: rustc_hash::FxHashSet<u32> = rustc_hash::FxHashSet::default();
    let mut other = false;
    for c in changes.iter_mut().rev() {
        if c.key == NO_KEY {
            other = true;
        } else if !odd.remove(&c.key) {
            odd.insert(c.key);
        }
        c.alters = other || !odd.is_empty();
    }
}

impl Touches {
    /// Each change reaches the ENIs whose instance, groups, the groups their rules name,
    /// subnet, NACL or route table it names; one whose reach its resources do not tell
    /// (group membership, an association known by its id only, a group created or deleted,
    /// an interface's or a deleted group's AWS Config item) reaches every ENI. A change has a
    /// footprint (the rules it adds or removes: it matters only to records those rules match)
    /// when it is a rule added or removed whose content is known, undoing it from the snapshot
    /// back is exact (nothing withheld), and no AWS Config item of its resources is in the
    /// history (an item makes the model at an earlier time start from the item's state, not
    /// from the snapshot's).
    fn new(net: &Network, events: &[Event], disagree: &[String], undos: &Undos) -> Touches {
        use crate::history::Change;
        let exact = &undos.exact;
        let with_items: BTreeSet<&str> = events
            .iter()
            .filter_map(|e| e.config_item().map(|c| c.resource_id.as_str()))
            .collect();
        let footprints: Vec<Option<Footprint>> = (0..events.len())
            .map(|j| {
                let rs = events[j].change.resources();
                let clean = exact[j] && !rs.iter().any(|r| with_items.contains(r.as_str()));
                clean.then(|| Footprint::of(events, j)).flatten()
            })
            .collect();
        let index = FootprintIndex::new(&footprints);
        let mut opaque_by_resource: HashMap<String, usize> = HashMap::new();
        let mut slot_of: HashMap<String, u32> = HashMap::new();
        let mut slots_of: Vec<Vec<u32>> = vec![Vec::new(); events.len()];
        let mut everything: Option<usize> = None;
        for (j, e) in events.iter().enumerate() {
            match e.change {
                Change::GroupSet { .. }
                | Change::DisassociateRouteTable { .. }
                | Change::DeleteGroup { .. }
                | Change::CreateGroup { .. } => everything = Some(j),
                Change::Config(ref item)
                    if item.kind == crate::history::ConfigKind::NetworkInterface
                        || item.kind == crate::history::ConfigKind::SecurityGroup
                            && matches!(
                                item.state,
                                crate::history::ConfigState::Deleted
                                    | crate::history::ConfigState::NotRecorded
                            ) =>
                {
                    everything = Some(j)
                }
                _ => {
                    for r in e.change.resources() {
                        if footprints[j].is_some() {
                            let next = u32::try_from(slot_of.len()).unwrap_or(u32::MAX);
                            let slot = *slot_of.entry(r).or_insert(next);
                            slots_of[j].push(slot);
                        } else {
                            opaque_by_resource.insert(r, j);
                        }
                    }
                }
            }
        }
        // A resource whose newest AWS Config item says other than the snapshot: the model at
        // any time after that item is the item's (`history::at`), up to the snapshot's time
        // (the epoch `events.len()`).
        for id in disagree {
            opaque_by_resource.insert(id.clone(), events.len());
        }
        let mut opaque = Vec::with_capacity(net.enis.len());
        let mut slots = Vec::with_capacity(net.enis.len());
        for eni in &net.enis {
            // The groups its rules name too: a change to one that the history cannot undo
            // leaves it out, and the reference with it.
            let ids = eni_resources(net, eni, true);
            opaque.push(
                ids.iter()
                    .filter_map(|id| opaque_by_resource.get(*id).copied())
                    .chain(everything)
                    .max(),
            );
            // A rule added to or removed from a group its rules name (a change undone
            // exactly) matters not: a reference matches by the groups of the peer, not by the
            // rules of the group it names.
            let mut mine: Vec<u32> = eni_resources(net, eni, false)
                .iter()
                .filter_map(|id| slot_of.get(*id).copied())
                .collect();
            mine.sort_unstable();
            mine.dedup();
            slots.push(mine);
        }
        let last_change: Vec<Vec<(u32, u32)>> = index
            .changes_by_rule()
            .map(|changes| {
                let mut last: Vec<(u32, u32)> = changes
                    .iter()
                    .flat_map(|&j| {
                        slots_of
                            .get(j as usize)
                            .into_iter()
                            .flatten()
                            .map(move |&s| (s, j))
                    })
                    .collect();
                // By resource, the latest change last: keep that one.
                last.sort_unstable();
                last.reverse();
                last.dedup_by_key(|(s, _)| *s);
                last.reverse();
                last
            })
            .collect();
        let keys = rule_keys(events, &undos.toggles, &footprints);
        let per_eni = per_eni(&slots, &slots_of, &index, &keys);
        let latest_altering = per_eni
            .iter()
            .flatten()
            .map(|mine| mine.iter().filter(|c| c.alters).map(|c| c.change).max())
            .collect();
        Touches {
            opaque,
            slots,
            index,
            last_change,
            per_eni,
            latest_altering,
        }
    }

    /// Whether a change at or after `events()[k]` can alter how the record `t` at ENI `eni`
    /// is judged.
    fn alters(&self, eni: usize, k: usize, t: &Tuple) -> bool {
        let (Some(opaque), Some(slots)) = (self.opaque.get(eni), self.slots.get(eni)) else {
            return true;
        };
        if opaque.is_some_and(|l| l >= k) {
            return true;
        }
        // A rule matching the record, added or removed at or after `k` by a change that
        // reaches the ENI.
        if let Some(mine) = self.per_eni.as_ref().and_then(|p| p.get(eni)) {
            // None of them at or after `k` can alter anything: no need to match the rules.
            if self
                .latest_altering
                .get(eni)
                .copied()
                .flatten()
                .is_none_or(|l| (l as usize) < k)
            {
                return false;
            }
            return self.index.any_rule(t, |rule| {
                let rule = u32::try_from(rule).unwrap_or(u32::MAX);
                let k = u32::try_from(k).unwrap_or(u32::MAX);
                // The first change of the rule at or after `k`: whether it and those after it
                // leave the rule as in the snapshot.
                let lo = mine.partition_point(|c| (c.rule, c.change) < (rule, k));
                mine.get(lo).is_some_and(|c| c.rule == rule && c.alters)
            });
        }
        self.index.any_rule(t, |rule| {
            // The last change of the rule to each resource, by resource: one at or after `k`
            // to a resource of the ENI.
            let Some(last) = self.last_change.get(rule) else {
                return false;
            };
            if last.len() <= slots.len() {
                last.iter()
                    .any(|(s, j)| *j as usize >= k && slots.binary_search(s).is_ok())
            } else {
                slots.iter().any(|s| {
                    last.binary_search_by_key(s, |(x, _)| *x)
                        .is_ok_and(|p| last[p].1 as usize >= k)
                })
            }
        })
    }
}

/// For each change, for each rule of its footprint (in its order), the exact rule it toggles,
/// numbered ([`RuleChange::key`]): a security-group rule authorized or revoked that the change
/// toggles (`toggles`), or [`UNCHANGED`] for one it leaves as it was; for other changes, none
/// (every rule of their footprints is [`NO_KEY`]).
fn rule_keys(
    events: &[Event],
    toggles: &[Option<Vec<bool>>],
    footprints: &[Option<Footprint>],
) -> Vec<Vec<u32>> {
    use crate::history::Change;
    let mut numbers: BTreeMap<(&str, bool, &crate::history::SgRule), u32> = BTreeMap::new();
    let mut out = vec![Vec::new(); events.len()];
    for (j, e) in events.iter().enumerate() {
        let Some(Some(toggled)) = toggles.get(j) else {
            continue;
        };
        if footprints.get(j).is_none_or(Option::is_none) {
            continue;
        }
        let (group, egress, rules): (&str, bool, Vec<&crate::history::SgRule>) = match &e.change {
            Change::Authorize {
                group_id,
                egress,
                rules,
            } => (group_id, *egress, rules.iter().map(|(r, _)| r).collect()),
            Change::Revoke {
                group_id,
                egress,
                rules,
                requested,
                ..
            } => (
                group_id,
                *egress,
                rules.as_ref().unwrap_or(requested).iter().collect(),
            ),
            _ => continue,
        };
        out[j] = rules
            .into_iter()
            .zip(toggled)
            .map(|(r, &toggled)| {
                if !toggled {
                    return UNCHANGED;
                }
                let next = u32::try_from(numbers.len()).unwrap_or(UNCHANGED - 1);
                *numbers.entry((group, egress, r)).or_insert(next)
            })
            .collect();
    }
    out
}

/// [`Touches::per_eni`] from each ENI's resources (`slots`), the resources each change names
/// (`slots_of`), the rules of each change's footprint (`index`) and the exact rules they are
/// (`keys`, see [`rule_keys`]); `None` when it would exceed [`PER_ENI_MAX`] entries.
fn per_eni(
    slots: &[Vec<u32>],
    slots_of: &[Vec<u32>],
    index: &FootprintIndex,
    keys: &[Vec<u32>],
) -> Option<Vec<Vec<RuleChange>>> {
    let resources = slots.iter().flatten().max().map_or(0, |m| *m as usize + 1);
    let mut enis_of: Vec<Vec<u32>> = vec![Vec::new(); resources];
    for (eni, mine) in slots.iter().enumerate() {
        for &s in mine {
            enis_of[s as usize].push(u32::try_from(eni).ok()?);
        }
    }
    let mut out: Vec<Vec<RuleChange>> = vec![Vec::new(); slots.len()];
    let mut total = 0usize;
    for (j, named) in slots_of.iter().enumerate() {
        let change = u32::try_from(j).ok()?;
        for (p, &rule) in index.rules_of(j).iter().enumerate() {
            let key = keys
                .get(j)
                .and_then(|k| k.get(p))
                .copied()
                .unwrap_or(NO_KEY);
            if key == UNCHANGED {
                continue;
            }
            for &s in named {
                for &eni in enis_of.get(s as usize).into_iter().flatten() {
                    total += 1;
                    if total > PER_ENI_MAX {
                        return None;
                    }
                    out[eni as usize].push(RuleChange {
                        rule,
                        change,
                        key,
                        alters: true,
                    });
                }
            }
        }
    }
    for mine in &mut out {
        mine.sort_unstable();
        // The same change to the same rule through two resources of the ENI is one change.
        mine.dedup();
        for changes in mine.chunk_by_mut(|a, b| a.rule == b.rule) {
            changed_since(changes);
        }
        mine.shrink_to_fit();
    }
    Some(out)
}

/// For each change, whether undoing it (from the snapshot back, every later change undone
/// first, as [`at`](crate::history::at) does) is exact: nothing it touches was left out before,
/// and nothing had to be left out for it; and, for a rule change of a security group undone
/// exactly, whether it toggles its rules and the group as it was just before the change.
fn exact_undos(snapshot: &Snapshot, events: &[Event]) -> Undos {
    use crate::history::Change;
    let mut state = snapshot.clone();
    let mut exact = vec![false; events.len()];
    let mut toggles = vec![None; events.len()];
    let mut groups = vec![None; events.len()];
    for i in (0..events.len()).rev() {
        let before = events[i]
            .change
            .resources()
            .iter()
            .any(|r| state.withheld.contains_key(r));
        toggles[i] = crate::history::toggles(&state, &events[i]);
        let why = crate::history::undo(&mut state, events, i);
        exact[i] = !before && why.is_none();
        if let (
            true,
            Change::Authorize { group_id, .. }
            | Change::Revoke { group_id, .. }
            | Change::ModifyRules { group_id, .. },
        ) = (exact[i], &events[i].change)
        {
            groups[i] = state
                .security_groups
                .iter()
                .find(|g| &g.group_id == group_id)
                .cloned();
        }
        if !exact[i] {
            toggles[i] = None;
        }
    }
    Undos {
        exact,
        toggles,
        groups,
    }
}

/// What undoing each change of a history from the snapshot back ([`exact_undos`]) shows.
struct Undos {
    /// Whether the undo was exact.
    exact: Vec<bool>,
    /// For a rule change of a security group undone exactly, whether each rule it names went
    /// from absent to present or back ([`crate::history::toggles`]).
    toggles: Vec<Option<Vec<bool>>>,
    /// For a rule change of a security group undone exactly, the group just before it.
    groups: Vec<Option<crate::snapshot::SecurityGroup>>,
}

/// The [`RuleGroups`] of a history: the groups of the snapshot (in `net`, its model) whose
/// every change is a rule change undone exactly (`exact`, with the group just before it in
/// `before`), not named by any other change, with no AWS Config item nor a disagreement with
/// one (`disagree`).
fn rule_groups(
    snapshot: &Snapshot,
    net: &Network,
    events: &[Event],
    disagree: &[String],
    exact: &[bool],
    mut before: Vec<Option<crate::snapshot::SecurityGroup>>,
) -> RuleGroups {
    use crate::history::Change;
    let rule_change_of = |e: &Event| match &e.change {
        Change::Authorize { group_id, .. }
        | Change::Revoke { group_id, .. }
        | Change::ModifyRules { group_id, .. } => Some(group_id.clone()),
        _ => None,
    };
    // Groups some change other than an exact rule change of its own names.
    let mut excluded: BTreeSet<String> = disagree.iter().cloned().collect();
    for (i, e) in events.iter().enumerate() {
        let own = rule_change_of(e).filter(|_| exact[i] && before[i].is_some());
        for r in e.change.resources() {
            if own.as_ref() != Some(&r) {
                excluded.insert(r);
            }
        }
    }
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<RuleGroup> = Vec::new();
    let mut of_event = vec![None; events.len()];
    for (i, e) in events.iter().enumerate() {
        let Some(id) = rule_change_of(e) else {
            continue;
        };
        if excluded.contains(&id) || !net.group_index.contains_key(&id) {
            continue;
        }
        let Some(now) = snapshot.security_groups.iter().find(|g| g.group_id == id) else {
            continue;
        };
        let Some(state) = before[i].take() else {
            continue;
        };
        let g = *ids.entry(id).or_insert_with(|| {
            groups.push(RuleGroup {
                before: Vec::new(),
                now: Arc::new(now.clone()),
            });
            groups.len() - 1
        });
        groups[g].before.push((i, Arc::new(state)));
        of_event[i] = Some(g);
    }
    let mut other = Vec::with_capacity(events.len() + 1);
    let mut count = 0u32;
    other.push(0);
    for g in &of_event {
        count += u32::from(g.is_none());
        other.push(count);
    }
    RuleGroups {
        groups,
        of_event,
        other,
    }
}

/// The ids a record at `eni` is judged by: the ENI, its instance, its groups (and, with
/// `named`, the groups their rules name), its subnet, the subnet's NACL and route table.
fn eni_resources<'a>(net: &'a Network, eni: &'a crate::network::Eni, named: bool) -> Vec<&'a str> {
    let mut ids: Vec<&str> = vec![&eni.id];
    ids.extend(eni.instance_id.as_deref());
    ids.extend(eni.missing_groups.iter().map(String::as_str));
    for g in eni.groups.iter().filter_map(|&g| net.groups.get(g)) {
        ids.push(&g.id);
        if named {
            for rule in g.inbound.iter().chain(&g.outbound) {
                if let Some(id) = rule.peer.group_id() {
                    ids.push(id);
                }
            }
        }
    }
    if let Some(s) = eni.subnet.and_then(|s| net.subnets.get(s)) {
        ids.push(&s.id);
        ids.extend(s.nacl.and_then(|n| net.nacls.get(n)).map(|n| n.id.as_str()));
        ids.extend(
            s.route_table
                .and_then(|t| net.route_tables.get(t))
                .map(|t| t.id.as_str()),
        );
    }
    ids
}
