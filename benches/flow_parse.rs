//! Flow-log parsing throughput on generated data: about 2,000,000 version 2 records, parsed with
//! the parallel reader on one thread and on every core, next to `wc -l` on the same file.
//!
//! Run with `cargo bench --bench flow_parse`; set `FLOW_PARSE_LINES` for another size.

mod common;

use std::io::{BufWriter, Write};
use std::ops::ControlFlow;
use std::path::Path;
use std::time::{Duration, Instant};
use vpcreach::flow_log::{parse_parallel, worker_threads, ChunkReader, Counts};

fn main() {
    let lines: u64 = std::env::var("FLOW_PARSE_LINES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000_000);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("flows.log");
    let size = generate(&path, lines).expect("writing the test file");
    println!(
        "flow_parse: {lines} v2 records, {:.1} MiB",
        size as f64 / (1 << 20) as f64
    );

    let wc = time(|| {
        let out = std::process::Command::new("wc")
            .arg("-l")
            .arg(&path)
            .output()
            .expect("running wc");
        assert!(out.status.success());
    });
    report("wc -l", wc, lines, size);

    let cores = worker_threads(0);
    // The full parser, then the fast pass `explain` makes (the fields it reads, no full record).
    let passes: [(&str, Pass); 2] = [("parse", parse), ("scan", common::scan)];
    for (name, pass) in passes {
        for threads in [1, cores] {
            let mut counts = Counts::default();
            let elapsed = time(|| counts = pass(&path, threads));
            assert_eq!(counts.read, lines);
            assert_eq!(counts.malformed, 0);
            report(
                &format!(
                    "{name}, {threads} thread{}",
                    if threads == 1 { "" } else { "s" }
                ),
                elapsed,
                lines,
                size,
            );
            if threads == cores {
                break;
            }
        }
    }
}

/// A pass over the file on some threads, with what it read.
type Pass = fn(&Path, usize) -> Counts;

fn parse(path: &Path, threads: usize) -> Counts {
    let mut counts = Counts::default();
    let reader = ChunkReader::new(vec![path.to_path_buf()], None);
    let flow = parse_parallel(reader, threads, |parsed| {
        let parsed = parsed.expect("reading the test file");
        counts += parsed.counts;
        ControlFlow::Continue(())
    });
    assert_eq!(flow.expect("parsing"), ControlFlow::Continue(()));
    counts
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn report(what: &str, elapsed: Duration, lines: u64, size: u64) {
    let secs = elapsed.as_secs_f64();
    println!(
        "{what:>18}: {:>8.3} s  {:>12.0} records/s  {:>8.1} MiB/s",
        secs,
        lines as f64 / secs,
        size as f64 / (1 << 20) as f64 / secs
    );
}

/// Writes a header and `lines` records that look like a busy VPC: a few ENIs, private and
/// public addresses, TCP/UDP/ICMP, mostly ACCEPT, some NODATA.
fn generate(path: &Path, lines: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
    )?;
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let start = 1_700_000_000u64;
    for i in 0..lines {
        let r = next();
        let eni = r % 64;
        let t = start + i / 2000;
        if r % 100 == 0 {
            writeln!(
                out,
                "2 123456789010 eni-0a1b2c3d4e5f{eni:05x} - - - - - - - {t} {} - NODATA",
                t + 60
            )?;
            continue;
        }
        let inside = format!(
            "10.{}.{}.{}",
            (r >> 8) % 4,
            (r >> 16) % 256,
            (r >> 24) % 254 + 1
        );
        let outside = format!(
            "{}.{}.{}.{}",
            (r >> 32) % 223 + 1,
            (r >> 40) % 256,
            (r >> 48) % 256,
            (r >> 56) % 254 + 1
        );
        let (protocol, service) = match (r >> 5) % 10 {
            0 => (1, 0),
            1 | 2 => (17, 53),
            _ => (6, [22, 80, 443, 3306, 5432][(r >> 12) as usize % 5]),
        };
        let ephemeral = 32768 + (r >> 20) % 28000;
        let (src, dst, sport, dport) = if r & 1 == 0 {
            (&outside, &inside, ephemeral, service)
        } else {
            (&inside, &outside, service, ephemeral)
        };
        let (sport, dport) = if protocol == 1 {
            (0, 0)
        } else {
            (sport, dport)
        };
        let packets = 1 + (r >> 28) % 2000;
        let bytes = packets * (40 + (r >> 36) % 1400);
        let action = if (r >> 3) % 8 == 0 {
            "REJECT"
        } else {
            "ACCEPT"
        };
        writeln!(
            out,
            "2 123456789010 eni-0a1b2c3d4e5f{eni:05x} {src} {dst} {sport} {dport} {protocol} {packets} {bytes} {t} {} {action} OK",
            t + 60
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}
