//! Explaining a whole chunk fast: plain lines are scanned for the fields explaining reads (no
//! [`FlowRecord`](crate::flow_log::FlowRecord) is built), security groups are evaluated in their
//! compiled form, and the full [`Explanation`] (texts, JSON) is built only for the records the
//! caller wants to print. Every record is still counted in the [`Tally`].

use super::{Core, Explainer, Explanation, Facts, Flows, Memo, Status, Tally};
use crate::flow_log::{Chunk, Counts, LineAt, Malformed, Scanned, Scanner};

/// One line of a scanned chunk (see [`Explainer::scan_chunk`]).
pub(crate) enum Item {
    /// A record: its fields and where it is.
    Record(Facts, LineAt),
    /// A line that is not a valid record.
    Malformed(Malformed),
}

/// One line of a chunk, as [`Explainer::for_each_in_chunk`] hands it out.
pub(crate) enum Step<'a, 'n> {
    /// A record: its explanation without texts, its fields, and where it is.
    Record(&'a Core<'n>, &'a Facts, LineAt),
    /// A line that is not a valid record.
    Malformed(&'a Malformed),
}

/// Buffers kept from chunk to chunk (in [`Memo`]).
#[derive(Default)]
pub(crate) struct Scratch {
    /// The lines of the chunk last scanned, in line order.
    pub(crate) items: Vec<Item>,
    /// The flow table of the chunk last scanned (its records and those around it).
    pub(crate) flows: Flows,
}

impl<'n> Explainer<'n> {
    /// Explains every record and malformed line of a chunk, with the same answers as
    /// [`parse_chunk`](crate::flow_log::parse_chunk) then [`Explainer::explain_chunk`], but
    /// builds the full explanation only of the lines whose status `want` accepts, and hands
    /// those to `emit` in line order. Every line is counted in the returned [`Tally`]; the
    /// [`Counts`] are the chunk's.
    ///
    /// `memo` keeps caches and buffers from chunk to chunk; keep one per thread, and use it with
    /// this explainer only.
    ///
    /// ```
    /// use vpcreach::explain::{Explainer, Memo, Status};
    /// use vpcreach::flow_log::{Chunk, Format};
    /// use vpcreach::{Network, Snapshot};
    /// let net = Network::build(&Snapshot::default());
    /// let explainer = Explainer::new(&net);
    /// let chunk = Chunk::new(
    ///     "a.log",
    ///     "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK\nnot a record\n".into(),
    ///     Format::default(),
    /// );
    /// let mut printed = Vec::new();
    /// let (tally, counts) = explainer.explain_chunk_counted(
    ///     &chunk,
    ///     &mut Memo::default(),
    ///     |s| s == Status::Malformed,
    ///     |e| printed.push(e.line),
    /// );
    /// assert_eq!(printed, [2]);
    /// assert_eq!((tally.count(Status::Unknown), tally.total(), counts.read), (1, 2, 2));
    /// ```
    pub fn explain_chunk_counted(
        &self,
        chunk: &Chunk,
        memo: &mut Memo,
        want: impl Fn(Status) -> bool,
        mut emit: impl FnMut(Explanation<'n>),
    ) -> (Tally, Counts) {
        let mut tally = Tally::default();
        let counts = self.for_each_in_chunk(chunk, memo, |scanner, step| match step {
            Step::Record(core, f, at) => {
                tally.add_core(core, f);
                if want(core.status) {
                    // The scan read this line as a record, so the full parser does too.
                    match scanner.full(at) {
                        Ok(r) => emit(self.explanation(&chunk.file, &r, core)),
                        Err(bad) => emit(self.malformed(&bad)),
                    }
                }
            }
            Step::Malformed(bad) => {
                let e = self.malformed(bad);
                tally.add(&e, None);
                if want(Status::Malformed) {
                    emit(e);
                }
            }
        });
        (tally, counts)
    }

    /// Explains every line of a chunk (fast pass, no full records or texts) and hands each
    /// record's core, or each malformed line, to `each` in line order; returns the counts.
    pub(crate) fn for_each_in_chunk(
        &self,
        chunk: &Chunk,
        memo: &mut Memo,
        mut each: impl FnMut(&mut Scanner<'_>, Step<'_, 'n>),
    ) -> Counts {
        let mut scratch = std::mem::take(&mut memo.scratch);
        let (mut scanner, counts) = self.scan_chunk(chunk, &mut scratch);
        for item in scratch.items.iter() {
            match item {
                Item::Record(f, at) => {
                    let core = self.core(f, scratch.flows.pairing(f), Some(memo));
                    each(&mut scanner, Step::Record(&core, f, *at));
                }
                Item::Malformed(bad) => each(&mut scanner, Step::Malformed(bad)),
            }
        }
        memo.scratch = scratch;
        counts
    }

    /// Scans a chunk (fast pass, no full records) into `scratch`: its lines in line order
    /// (`items`) and the flow table of its records and those around it (`flows`). Returns the
    /// scanner (to read a line in full later) and the chunk's counts.
    pub(crate) fn scan_chunk<'c>(
        &self,
        chunk: &'c Chunk,
        scratch: &mut Scratch,
    ) -> (Scanner<'c>, Counts) {
        let mut scanner = Scanner::new(chunk);
        let (items, flows) = (&mut scratch.items, &mut scratch.flows);
        items.clear();
        flows.clear();
        // Each record is indexed as it is scanned, while it is still in the cache.
        // The records of the lines around the chunk ([`Chunk::before`], [`Chunk::after`]) are
        // only seen, not explained.
        let near = |flows: &mut Flows, lines: Option<&Chunk>| {
            if let Some(lines) = lines {
                Scanner::new(lines).scan(|s, _| {
                    if let Scanned::Record(l) = s {
                        flows.add(&self.facts(&l));
                    }
                });
            }
        };
        near(flows, chunk.before.as_deref());
        let counts = scanner.scan(|s, at| {
            items.push(match s {
                Scanned::Record(l) => {
                    let f = self.facts(&l);
                    flows.add(&f);
                    Item::Record(f, at)
                }
                Scanned::Malformed(m) => Item::Malformed(m),
            })
        });
        near(flows, chunk.after.as_deref());
        (scanner, counts)
    }
}
