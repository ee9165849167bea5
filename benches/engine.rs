//! Engine benchmark: load + build + one query on generated snapshots at AWS-quota shape
//! (N ENIs, 5 security groups each, 60 rules per group per direction, 20-rule NACLs).
//!
//! `cargo bench --bench engine` — prints, for 1,000 and 10,000 ENIs, the best and median of
//! several runs, and the ratio between the two sizes.

use std::time::{Duration, Instant};
use vpcreach::testkit::synth::{write_snapshot, SynthSpec};
use vpcreach::{Network, Protocol, Query, Snapshot};

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn run(enis: usize, runs: usize) -> (Duration, Duration, Duration, Duration, Duration, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = SynthSpec::quota(enis);
    let summary = write_snapshot(&spec, dir.path()).expect("write snapshot");
    let a = &summary.samples[0];
    let b = summary
        .samples
        .iter()
        .find(|s| s.subnet_id != a.subnet_id && s.vpc_id == a.vpc_id)
        .unwrap_or(&summary.samples[1]);
    let (mut total, mut load, mut build, mut query) = (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        let t0 = Instant::now();
        let snap = Snapshot::load(dir.path()).expect("load");
        let t1 = Instant::now();
        let net = Network::build(&snap);
        let t2 = Instant::now();
        let (from, _) = net.resolve(&a.network_interface_id).expect("from");
        let (to, _) = net.resolve(&b.private_ip.to_string()).expect("to");
        let trace = net.query(&Query {
            from,
            to,
            protocol: Protocol::Number(6),
            port: Some(443),
            src_port: None,
        });
        let t3 = Instant::now();
        std::hint::black_box(&trace);
        load.push(t1 - t0);
        build.push(t2 - t1);
        query.push(t3 - t2);
        total.push(t3 - t0);
    }
    let best = *total.iter().min().expect("runs");
    (
        best,
        median(&mut total),
        median(&mut load),
        median(&mut build),
        median(&mut query),
        summary.bytes,
    )
}

fn main() {
    let runs = std::env::var("VPCREACH_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    println!("engine: load + build + one query, {runs} runs each (median of parts)");
    let mut medians = Vec::new();
    for enis in [1_000, 10_000] {
        let (best, med, load, build, query, bytes) = run(enis, runs);
        println!(
            "{enis:>6} ENIs ({:.1} MB of JSON): best {:>8.1} ms, median {:>8.1} ms  (load {:.1} ms, build {:.1} ms, query {:.3} ms)",
            bytes as f64 / 1e6,
            best.as_secs_f64() * 1e3,
            med.as_secs_f64() * 1e3,
            load.as_secs_f64() * 1e3,
            build.as_secs_f64() * 1e3,
            query.as_secs_f64() * 1e3,
        );
        medians.push(med);
    }
    println!(
        "10x the network costs {:.2}x the time (target: at most 12x; 10,000 ENIs under 2 s)",
        medians[1].as_secs_f64() / medians[0].as_secs_f64()
    );
}
