//! Static audit benchmark: the shipped baseline policy (`policies/baseline.toml`) on generated
//! networks at AWS-quota shape (wide rules).
//!
//! `cargo bench --bench audit` — for 1,000 and 10,000 ENIs, load + build time and audit time in
//! process; then, for 10,000 and 100,000 ENIs (`VPCREACH_BENCH_ENIS=N,M` to choose), the release
//! binary end to end (`audit --policies policies --output json`, findings grouped by cause) under
//! `/usr/bin/time -v`: wall time, peak resident memory and the number of findings, and the same
//! for `query` alone (load + build + one query: the floor of loading the snapshot), and
//! `audit --output sarif` (wall time, peak resident memory, size of the log).
//! Targets (issue 18): 100,000 ENIs under 60 s and 2 GB; 10,000 ENIs under 5 s.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;
use vpcreach::audit::analysis::static_audit;
use vpcreach::policy::PolicySet;
use vpcreach::testkit::synth::{write_snapshot, SynthSpec};
use vpcreach::{Network, Snapshot};

/// Wall seconds and peak RSS (MB) of a command, from `/usr/bin/time -v`, and its stdout.
fn timed(args: &[&str]) -> (f64, f64, Vec<u8>, bool) {
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_vpcreach"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("/usr/bin/time runs");
    let err = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| {
        err.lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string()))
            .unwrap_or_default()
    };
    let rss_kb: f64 = field("Maximum resident set size (kbytes):")
        .parse()
        .unwrap_or(0.0);
    // `h:mm:ss` or `m:ss.ss`.
    let wall = field("Elapsed (wall clock) time (h:mm:ss or m:ss):")
        .split(':')
        .fold(0.0, |acc, p| acc * 60.0 + p.parse::<f64>().unwrap_or(0.0));
    let ok = out.status.code().is_some_and(|c| c == 0 || c == 1);
    (wall, rss_kb / 1024.0, out.stdout, ok)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let policies = PolicySet::load(&root.join("policies")).expect("the shipped policies load");
    let statements: usize = policies.files.iter().map(|f| f.statements.len()).sum();
    println!("static audit: baseline policy ({statements} statements)");
    for enis in [1_000, 10_000] {
        let dir = tempfile::tempdir().expect("temp dir");
        write_snapshot(&SynthSpec::quota(enis), dir.path()).expect("snapshot");
        let t0 = Instant::now();
        let net = Network::build(&Snapshot::load(dir.path()).expect("load"));
        let t1 = Instant::now();
        let result = static_audit(&net, &policies);
        let t2 = Instant::now();
        println!(
            "{enis:>7} ENIs: load + build {:>7.2} s, audit {:>7.2} s, total {:>7.2} s; {} findings",
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t2 - t0).as_secs_f64(),
            result.findings.len()
        );
    }
    let sizes: Vec<usize> = std::env::var("VPCREACH_BENCH_ENIS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    let policies_dir = root.join("policies");
    let policies_arg = policies_dir.to_str().expect("UTF-8 path");
    println!("release binary under /usr/bin/time -v (wall time, peak RSS):");
    for enis in sizes {
        let dir = tempfile::tempdir().expect("temp dir");
        write_snapshot(&SynthSpec::quota(enis), dir.path()).expect("snapshot");
        let bytes: u64 = std::fs::read_dir(dir.path())
            .expect("listing")
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        let snap = dir.path().to_str().expect("UTF-8 path");
        // The floor: load + build + one query.
        let eni = {
            let net = Network::build(&Snapshot::load(dir.path()).expect("load"));
            net.enis.first().map(|e| e.id.clone()).unwrap_or_default()
        };
        let (qw, qr, _, _) = timed(&[
            "query",
            "--snapshot",
            snap,
            "--from",
            "8.8.8.8",
            "--to",
            &eni,
            "--port",
            "22",
        ]);
        println!(
            "{enis:>7} ENIs ({:.0} MB of JSON): load + build + one query {qw:>6.2} s, {qr:>6.0} MB",
            bytes as f64 / 1e6
        );
        let (w, r, out, ok) = timed(&[
            "audit",
            "--snapshot",
            snap,
            "--policies",
            policies_arg,
            "--output",
            "json",
        ]);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap_or_default();
        let findings = v["findings"].as_array().map_or(0, Vec::len);
        let memberships: u64 = v["findings"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["eni_count"].as_u64()).sum())
            .unwrap_or(0);
        println!(
            "{enis:>7} ENIs: audit --output json {w:>6.2} s, {r:>6.0} MB peak; {findings} findings (grouped by cause) over {memberships} ENI memberships{}",
            if ok { "" } else { " (FAILED)" }
        );
        drop(out);
        // SARIF is written as it is made, like the JSON: memory does not grow with the log.
        let (w, r, out, ok) = timed(&[
            "audit",
            "--snapshot",
            snap,
            "--policies",
            policies_arg,
            "--output",
            "sarif",
        ]);
        println!(
            "{enis:>7} ENIs: audit --output sarif {w:>6.2} s, {r:>6.0} MB peak; {:.0} MB of SARIF{}",
            out.len() as f64 / 1e6,
            if ok { "" } else { " (FAILED)" }
        );
    }
}
