//! Coverage measured from the flow-log records themselves: per ENI the records seen, the first
//! and last record time, the `NODATA` windows (no traffic) and the `SKIPDATA` windows (records
//! lost), the covered ENIs that sent no record at all, and the records of ENIs that no flow log
//! of the snapshot covers (a stale snapshot, or a log of another account).

use super::{Capture, Coverage};
use crate::flow_log::{
    run_ordered, Chunk, ChunkReader, Counts, Format, LogStatus, ReadError, Scanned, Scanner,
};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// How many windows of each kind are listed per ENI (the rest are counted).
pub const WINDOWS_LISTED: usize = 20;

/// A window of a `NODATA` or `SKIPDATA` record: `start` and `end` in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Window {
    /// Start of the aggregation window.
    pub start: Option<u64>,
    /// End of the aggregation window.
    pub end: Option<u64>,
}

/// What the records of one interface say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EniRecords {
    /// Records with flow data (`OK`).
    pub records: u64,
    /// `NODATA` records: windows without traffic.
    pub nodata: u64,
    /// `SKIPDATA` records: windows whose records were lost.
    pub skipdata: u64,
    /// The earliest `start` of any of its records.
    pub first: Option<u64>,
    /// The latest `end` of any of its records.
    pub last: Option<u64>,
    /// The first [`WINDOWS_LISTED`] `NODATA` windows, in time order.
    pub nodata_windows: Vec<Window>,
    /// The first [`WINDOWS_LISTED`] `SKIPDATA` windows, in time order.
    pub skipdata_windows: Vec<Window>,
    /// Whether an `ACCEPT` record was seen (the logs keep accepted traffic).
    pub saw_accept: bool,
    /// Whether a `REJECT` record was seen (the logs keep rejected traffic).
    pub saw_reject: bool,
}

impl EniRecords {
    /// Records of every kind.
    pub fn total(&self) -> u64 {
        self.records + self.nodata + self.skipdata
    }

    fn merge(&mut self, o: EniRecords) {
        self.records += o.records;
        self.nodata += o.nodata;
        self.skipdata += o.skipdata;
        self.first = min_opt(self.first, o.first);
        self.last = self.last.max(o.last);
        self.saw_accept |= o.saw_accept;
        self.saw_reject |= o.saw_reject;
        for (mine, theirs) in [
            (&mut self.nodata_windows, o.nodata_windows),
            (&mut self.skipdata_windows, o.skipdata_windows),
        ] {
            mine.extend(theirs);
            mine.sort();
            mine.dedup();
            mine.truncate(WINDOWS_LISTED);
        }
    }
}

fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (x, None) | (None, x) => x,
    }
}

/// What the records of all inputs say, by interface.
#[derive(Debug, Clone, Default)]
pub struct Records {
    /// Every record line: `read == parsed + nodata + skipdata + malformed`.
    pub counts: Counts,
    /// Records per `interface-id` (as the record writes it).
    pub by_interface: BTreeMap<String, EniRecords>,
    /// Valid records without an `interface-id` (a format without the field): they cannot be
    /// tied to an ENI.
    pub without_interface: u64,
    /// Inputs that could not be read (a truncated `.gz`, a missing file).
    pub errors: Vec<String>,
    /// What reading passed by (a FIFO, a link loop), one message each.
    pub warnings: Vec<String>,
}

impl Records {
    /// Reads every record of `paths` (files, folders, `.gz`; the fast field scan, on
    /// `threads` worker threads, 0 for one per core) and counts it for its interface.
    pub fn read(paths: Vec<PathBuf>, format: Option<Format>, threads: usize) -> Records {
        let reader = ChunkReader::new(paths, format).with_threads(threads);
        let work = |item: Result<Chunk, ReadError>| item.map(|chunk| of_chunk(&chunk));
        let mut all = Records::default();
        let res = run_ordered(reader, threads, work, |item| {
            match item {
                Ok(r) => all.merge(r),
                Err(e) if e.is_warning() => all.warnings.push(e.to_string()),
                Err(e) => all.errors.push(e.to_string()),
            }
            std::ops::ControlFlow::Continue(())
        });
        if let Err(e) = res {
            all.errors.push(e.to_string());
        }
        all
    }

    fn merge(&mut self, o: Records) {
        self.counts += o.counts;
        self.without_interface += o.without_interface;
        for (k, v) in o.by_interface {
            self.by_interface.entry(k).or_default().merge(v);
        }
        self.errors.extend(o.errors);
        self.warnings.extend(o.warnings);
    }
}

fn of_chunk(chunk: &Chunk) -> Records {
    let mut r = Records::default();
    let mut scanner = Scanner::new(chunk);
    // Interface ids repeat: look them up by their bytes before making a string.
    let mut by: HashMap<Vec<u8>, EniRecords> = HashMap::new();
    r.counts = scanner.scan(|item, _| {
        let Scanned::Record(lite) = item else { return };
        let Some(id) = lite.interface_id else {
            r.without_interface += 1;
            return;
        };
        let e = match by.get_mut(id) {
            Some(e) => e,
            None => by.entry(id.to_vec()).or_default(),
        };
        e.first = min_opt(e.first, lite.start);
        e.last = e.last.max(lite.end);
        let window = Window {
            start: lite.start,
            end: lite.end,
        };
        match lite.log_status {
            Some(LogStatus::NoData) => {
                e.nodata += 1;
                if e.nodata_windows.len() < WINDOWS_LISTED * 4 {
                    e.nodata_windows.push(window);
                }
            }
            Some(LogStatus::SkipData) => {
                e.skipdata += 1;
                if e.skipdata_windows.len() < WINDOWS_LISTED * 4 {
                    e.skipdata_windows.push(window);
                }
            }
            _ => {
                e.records += 1;
                match lite.action {
                    Some(crate::flow_log::Action::Accept) => e.saw_accept = true,
                    Some(crate::flow_log::Action::Reject) => e.saw_reject = true,
                    None => {}
                }
            }
        }
    });
    for (id, mut e) in by {
        for w in [&mut e.nodata_windows, &mut e.skipdata_windows] {
            w.sort();
            w.dedup();
            w.truncate(WINDOWS_LISTED);
        }
        r.by_interface
            .entry(String::from_utf8_lossy(&id).into_owned())
            .or_default()
            .merge(e);
    }
    r
}

/// Records of an interface that no effective flow log of the snapshot covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uncovered {
    /// The `interface-id` of the records.
    pub eni: String,
    /// Whether the snapshot has the ENI at all (if not: a stale snapshot or another account).
    pub in_snapshot: bool,
    /// What its records say.
    pub seen: EniRecords,
}

/// The coverage seen in the records, against the snapshot's flow logs.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// Per ENI of the snapshot (parallel to [`Coverage::enis`]): what its records say, `None`
    /// when none was read.
    pub enis: Vec<Option<EniRecords>>,
    /// ENIs the snapshot's flow logs capture (wholly or partly) that sent no record at all.
    pub silent: Vec<String>,
    /// Records of interfaces no effective flow log of the snapshot captures.
    pub uncovered: Vec<Uncovered>,
    /// Totals of records.
    pub counts: Counts,
    /// Valid records without an `interface-id`.
    pub without_interface: u64,
    /// Records (of every kind) counted at an ENI of the snapshot that a log captures.
    pub at_covered: u64,
    /// Records (of every kind) counted at an interface in [`Observed::uncovered`].
    pub at_uncovered: u64,
    /// Records (of every kind) counted at an ENI whose flow-log configuration is not in the
    /// snapshot: whether a log covers it is unknown.
    pub at_unknown: u64,
    /// ENIs of the snapshot with at least one record.
    pub enis_seen: usize,
    /// ENIs with at least one `SKIPDATA` window.
    pub enis_with_lost_windows: usize,
}

impl Observed {
    /// Sets the records against the coverage of the snapshot.
    pub fn of(coverage: &Coverage, records: &Records) -> Observed {
        let mut o = Observed {
            counts: records.counts,
            without_interface: records.without_interface,
            ..Observed::default()
        };
        let index: HashMap<&str, usize> = coverage
            .enis
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.as_str(), i))
            .collect();
        o.enis = vec![None; coverage.enis.len()];
        for (id, seen) in &records.by_interface {
            match index.get(id.as_str()) {
                Some(&i) if !coverage.enis[i].known => {
                    o.at_unknown += seen.total();
                    o.enis[i] = Some(seen.clone());
                }
                Some(&i) if coverage.enis[i].capture != Capture::None => {
                    o.at_covered += seen.total();
                    o.enis[i] = Some(seen.clone());
                }
                found => {
                    o.at_uncovered += seen.total();
                    if let Some(&i) = found {
                        o.enis[i] = Some(seen.clone());
                    }
                    o.uncovered.push(Uncovered {
                        eni: id.clone(),
                        in_snapshot: found.is_some(),
                        seen: seen.clone(),
                    });
                }
            }
        }
        for (e, seen) in coverage.enis.iter().zip(&o.enis) {
            if seen.is_none() && e.known && e.capture != Capture::None {
                o.silent.push(e.id.clone());
            }
        }
        o.enis_seen = o.enis.iter().flatten().count();
        o.enis_with_lost_windows = o.enis.iter().flatten().filter(|e| e.skipdata > 0).count();
        o
    }

    /// Whether the totals add up: every valid record is counted at exactly one place.
    pub fn adds_up(&self) -> bool {
        self.counts.parsed + self.counts.nodata + self.counts.skipdata
            == self.at_covered + self.at_uncovered + self.at_unknown + self.without_interface
            && self.counts.read
                == self.counts.parsed
                    + self.counts.nodata
                    + self.counts.skipdata
                    + self.counts.malformed
    }
}
