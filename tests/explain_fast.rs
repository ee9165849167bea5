//! The fast path of `explain` (scan plain lines, cache evaluations, build the full explanation
//! only of printed records) against the full path (parse every record, explain it from
//! scratch): on generated records over a generated network, on the example flows, and on the
//! conformance flow logs, every explanation and every total must be the same.

mod parquet_support;

use parquet_support::Kind;
use std::path::{Path, PathBuf};
use vpcreach::explain::{Explainer, Memo, Status, Tally};
use vpcreach::flow_log::{parse_chunk, Chunk, ChunkReader, Counts, Entry, Format};
use vpcreach::render::explain::summary_json;
use vpcreach::testkit::synth::{write_snapshot, SynthSpec};
use vpcreach::{Network, Snapshot};

/// Both paths over the same chunks; the fast one keeps its cache from chunk to chunk.
fn agree(net: &Network, chunks: impl IntoIterator<Item = Chunk>) -> (u64, Tally) {
    let ex = Explainer::new(net);
    let mut memo = Memo::default();
    let (mut slow_tally, mut fast_tally) = (Tally::default(), Tally::default());
    let (mut slow_counts, mut fast_counts) = (Counts::default(), Counts::default());
    let mut records = 0;
    for chunk in chunks {
        let parsed = parse_chunk(&chunk);
        let near = |c: &Option<Box<Chunk>>| c.as_deref().map(parse_chunk).map(|p| p.records);
        let (before, after) = (near(&chunk.before), near(&chunk.after));
        let slow = ex.explain_chunk_near(
            &parsed,
            before.as_deref().unwrap_or_default(),
            after.as_deref().unwrap_or_default(),
        );
        let mut rs = parsed.in_line_order().map(|e| match e {
            Entry::Record(r) => Some(r),
            Entry::Malformed(_) => None,
        });
        for e in &slow {
            slow_tally.add(e, rs.next().flatten());
        }
        slow_counts += parsed.counts;
        let mut fast = Vec::new();
        let (t, c) = ex.explain_chunk_counted(&chunk, &mut memo, |_| true, |e| fast.push(e));
        assert_eq!(fast.len(), slow.len(), "{}", chunk.file.display());
        for (f, s) in fast.iter().zip(&slow) {
            assert_eq!(
                f.to_json(net),
                s.to_json(net),
                "{}:{}",
                chunk.file.display(),
                s.line
            );
        }
        // Printing only some statuses changes nothing in the totals.
        let mut printed = 0;
        let (t2, _) = ex.explain_chunk_counted(
            &chunk,
            &mut memo,
            |s| s == Status::Contradiction,
            |e| {
                assert_eq!(e.status, Status::Contradiction);
                printed += 1;
            },
        );
        assert_eq!(t2.counts, t.counts);
        assert_eq!(printed, t.count(Status::Contradiction));
        fast_tally.merge(t);
        fast_counts += c;
        records += parsed.counts.read;
    }
    assert_eq!(fast_counts, slow_counts);
    assert_eq!(fast_tally.total(), fast_counts.read);
    assert_eq!(
        summary_json(&fast_tally, &fast_counts, net, true),
        summary_json(&slow_tally, &slow_counts, net, true)
    );
    (records, fast_tally)
}

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
}

const V2: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const V5: &str = "version interface-id srcaddr dstaddr srcport dstport protocol start end action log-status tcp-flags flow-direction pkt-srcaddr pkt-dstaddr";

/// Records of every kind over the network's ENIs: known, unknown and absent interface IDs;
/// inbound and outbound; peers in the same subnet, elsewhere in the network and outside it;
/// requests with their responses (so that the opposite record counts); v5 fields; NODATA,
/// SKIPDATA, malformed lines and comments.
fn generate(net: &Network, seed: u64, lines: usize, v5: bool) -> String {
    let mut rng = Rng(seed | 1);
    let mut out = String::from(if v5 { V5 } else { V2 });
    out.push('\n');
    let ips: Vec<(usize, String)> = net
        .enis
        .iter()
        .enumerate()
        .flat_map(|(i, e)| {
            e.private_ipv4
                .iter()
                .chain(&e.ipv6)
                .map(move |a| (i, a.to_string()))
        })
        .collect();
    let outside = [
        "198.51.100.7",
        "203.0.113.9",
        "8.8.8.8",
        "2a00:1450::1",
        "10.200.0.1",
    ];
    let ports = [
        "443", "22", "80", "5432", "3389", "53", "0", "40000", "61000",
    ];
    let protos = ["6", "6", "6", "17", "1", "58", "50", "-"];
    let flags = ["-", "2", "18", "3", "19", "1", "4", "0", "27"];
    for n in 0..lines {
        let t = 1_700_000_000 + n as u64;
        match rng.below(100) {
            0 => {
                out.push_str("2 1 eni-x 10.0.0.1 nonsense\n");
                continue;
            }
            1 => {
                out.push_str("# a comment line\n\n");
                continue;
            }
            2 | 3 => {
                let (i, _) = rng.pick(&ips);
                let status = if rng.below(2) == 0 {
                    "NODATA"
                } else {
                    "SKIPDATA"
                };
                let id = &net.enis[*i].id;
                if v5 {
                    out.push_str(&format!(
                        "5 {id} - - - - - {t} {} - {status} - - - -\n",
                        t + 60
                    ));
                } else {
                    out.push_str(&format!(
                        "2 1 {id} - - - - - - - {t} {} - {status}\n",
                        t + 60
                    ));
                }
                continue;
            }
            _ => {}
        }
        let (i, own) = rng.pick(&ips).clone();
        let peer = match rng.below(3) {
            0 => rng.pick(&ips).1.clone(),
            1 => {
                // An ENI of the same subnet, when there is one.
                let subnet = net.enis[i].subnet;
                ips.iter()
                    .filter(|(j, _)| net.enis[*j].subnet == subnet && *j != i)
                    .nth(rng.below(4) as usize)
                    .map_or_else(|| own.clone(), |(_, a)| a.clone())
            }
            _ => rng.pick(&outside).to_string(),
        };
        let id = match rng.below(20) {
            0 => "eni-0000000000unknown".to_string(),
            1 => "-".to_string(),
            _ => net.enis[i].id.clone(),
        };
        let (sp, dp) = (*rng.pick(&ports), *rng.pick(&ports));
        let proto = *rng.pick(&protos);
        let inbound = rng.below(2) == 0;
        let (src, dst) = if inbound {
            (peer.clone(), own.clone())
        } else {
            (own.clone(), peer.clone())
        };
        let action = *rng.pick(&["ACCEPT", "ACCEPT", "REJECT", "-"]);
        let line = Line {
            id: &id,
            proto,
            action,
            v5,
        };
        let flag = *rng.pick(&flags);
        line.write(&mut out, &mut rng, [&src, &dst, sp, dp], t, flag);
        if rng.below(3) == 0 {
            // The other direction of the same flow, a little later.
            let back = *rng.pick(&flags);
            let later = t + rng.below(3);
            line.write(&mut out, &mut rng, [&dst, &src, dp, sp], later, back);
        }
    }
    out
}

/// What the records of one flow share.
struct Line<'a> {
    id: &'a str,
    proto: &'a str,
    action: &'a str,
    v5: bool,
}

impl Line<'_> {
    /// One record: `ends` is source, destination, source port, destination port.
    fn write(&self, out: &mut String, rng: &mut Rng, ends: [&str; 4], t: u64, flag: &str) {
        let [src, dst, sp, dp] = ends;
        let Line {
            id, proto, action, ..
        } = self;
        if self.v5 {
            let dir = *rng.pick(&["-", "ingress", "egress"]);
            let pkt = if rng.below(8) == 0 {
                "203.0.113.77"
            } else {
                "-"
            };
            out.push_str(&format!(
                "5 {id} {src} {dst} {sp} {dp} {proto} {t} {} {action} OK {flag} {dir} {pkt} -\n",
                t + 60
            ));
        } else {
            out.push_str(&format!(
                "2 1 {id} {src} {dst} {sp} {dp} {proto} 3 180 {t} {} {action} OK\n",
                t + 60
            ));
        }
    }
}

fn synthetic() -> Network {
    let dir = tempfile::tempdir().unwrap();
    let spec = SynthSpec {
        enis: 120,
        ..SynthSpec::quota(120)
    };
    write_snapshot(&spec, dir.path()).unwrap();
    Network::build(&Snapshot::load(dir.path()).unwrap())
}

#[test]
fn generated_records_get_the_same_explanations_both_ways() {
    let net = synthetic();
    let mut chunks = Vec::new();
    for seed in 0..12u64 {
        let text = generate(&net, 0x9e37_79b9 * (seed + 1), 1500, seed % 2 == 1);
        chunks.push(Chunk::new(
            format!("gen-{seed}.log"),
            text.into_bytes(),
            Format::default(),
        ));
    }
    let (records, tally) = agree(&net, chunks);
    assert!(records > 15_000, "{records}");
    // The generated records reach every status.
    for s in Status::ALL {
        assert!(tally.count(s) > 0, "{s:?}: {:?}", tally.counts);
    }
}

/// Parquet rows are explained from their columns (issue 17): the same explanations as their
/// text through the full parser, with the rows around each chunk (several row groups, several
/// chunks a file).
#[test]
fn parquet_rows_get_the_same_explanations_from_their_columns() {
    let net = synthetic();
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (seed, v5) in [(11u64, false), (12, true)] {
        let text = generate(&net, 0x9e37_79b9 * seed, 20_000, v5);
        let path = dir.path().join(format!("gen-{seed}.log.parquet"));
        // The generator writes odd lines too: a column with a value that is no integer is
        // written as strings, and every row has one value a column.
        let (mut columns, mut rows) = parquet_support::text_to_rows(&text);
        for row in &mut rows {
            row.resize(columns.len(), None);
        }
        // In the first file, no row reads as a comment line: its rows are read from their
        // columns; in the second, such rows make their chunks read by their text.
        if seed == 11 {
            rows.retain(|r| !r[0].as_deref().is_some_and(|v| v.starts_with('#')));
        }
        for (i, (_, kind)) in columns.iter_mut().enumerate() {
            let fits = |v: &str| match kind {
                Kind::I32 => v.parse::<i32>().is_ok(),
                Kind::I64 => v.parse::<i64>().is_ok(),
                Kind::Str => true,
            };
            if !rows.iter().all(|r| r[i].as_deref().is_none_or(fits)) {
                *kind = Kind::Str;
            }
        }
        let columns: Vec<(&str, Kind)> = columns.iter().map(|(n, k)| (n.as_str(), *k)).collect();
        parquet_support::write_parquet(
            &path,
            &columns,
            &rows,
            parquet::basic::Compression::SNAPPY,
            7_000,
        );
        files.push(path);
    }
    let chunks: Vec<Chunk> = ChunkReader::new(files, None).map(Result::unwrap).collect();
    assert!(chunks.len() >= 6, "{}", chunks.len());
    assert!(chunks.iter().all(|c| c.rows.is_some() && c.data.is_empty()));
    let linked = chunks
        .iter()
        .filter(|c| c.before.as_ref().is_some_and(|b| b.rows.is_some()))
        .count();
    assert!(linked >= 2, "{linked}");
    let (records, tally) = agree(&net, chunks);
    assert!(records > 38_000, "{records}");
    for s in Status::ALL {
        assert!(tally.count(s) > 0, "{s:?}: {:?}", tally.counts);
    }
}

#[test]
fn example_flows_get_the_same_explanations_both_ways() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let net = Network::build(&Snapshot::load(&root.join("examples/network")).unwrap());
    let chunks: Vec<Chunk> = ChunkReader::new(vec![root.join("examples/flows")], None)
        .with_chunk_size(700)
        .map(Result::unwrap)
        .collect();
    assert!(chunks.len() > 1);
    let (records, _) = agree(&net, chunks);
    assert!(records > 10);
}

#[test]
fn conformance_flow_logs_get_the_same_explanations_both_ways() {
    let dir = std::env::var_os("VPCREACH_CONFORMANCE_DIR")
        .map(PathBuf::from)
        .expect("VPCREACH_CONFORMANCE_DIR is not set (.ci/run sets it)");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let net = Network::build(&Snapshot::load(&root.join("examples/network")).unwrap());
    // The flow logs themselves, not the parsers' expected-output JSON beside them.
    fn logs(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                logs(&p, out);
            } else if !p.to_string_lossy().ends_with(".json") {
                out.push(p);
            }
        }
    }
    let mut inputs = Vec::new();
    for d in ["aws-doc-flow-examples", "elastic-vpcflow", "peer-samples"] {
        assert!(dir.join(d).is_dir(), "{d} is missing");
        logs(&dir.join(d), &mut inputs);
    }
    let chunks: Vec<Chunk> = ChunkReader::new(inputs, None).map(Result::unwrap).collect();
    let (records, _) = agree(&net, chunks);
    assert!(records > 100, "{records}");
}
