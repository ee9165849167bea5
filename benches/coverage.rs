//! Coverage benchmark: `vpcreach coverage` on a generated 10,000-ENI snapshot at AWS-quota
//! shape with flow logs at every level (a VPC log on every other VPC, a `REJECT` log on every
//! third subnet, an `ACCEPT` log on every seventh ENI, one log in ten failing to deliver).
//!
//! `cargo bench --bench coverage` prints the median of several runs of the release binary end
//! to end (load, build, coverage, JSON) and of the coverage analysis alone. Target: under 1 s.
//! Then the same with FLOWS: 20 records for each ENI (200,000 lines, a SKIPDATA window at every
//! hundredth ENI), read with the field scan and counted per ENI.

use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vpcreach::coverage::Coverage;
use vpcreach::testkit::synth::{write_snapshot, SynthSpec};
use vpcreach::{Network, Snapshot};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The ids under `key` of the generated file `key.json` (`id` the id field).
fn ids(dir: &std::path::Path, key: &str, id: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(format!("{key}.json"))).expect("generated file");
    let v: Value = serde_json::from_str(&text).expect("JSON");
    v[key]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|x| x[id].as_str().map(str::to_string))
        .collect()
}

fn main() {
    let enis = 10_000;
    let runs = 5;
    let dir = tempfile::tempdir().expect("temp dir");
    write_snapshot(&SynthSpec::quota(enis), dir.path()).expect("snapshot");
    let mut logs = Vec::new();
    let mut add = |resource: &str, traffic: &str| {
        let n = logs.len();
        logs.push(json!({
            "FlowLogId": format!("fl-{n:017x}"), "ResourceId": resource, "TrafficType": traffic,
            "FlowLogStatus": "ACTIVE",
            "DeliverLogsStatus": if n % 10 == 9 { "FAILED" } else { "SUCCESS" },
            "LogDestinationType": "s3", "LogDestination": "arn:aws:s3:::flow-logs",
            "MaxAggregationInterval": 600
        }));
    };
    for (i, v) in ids(dir.path(), "Vpcs", "VpcId").iter().enumerate() {
        if i % 2 == 0 {
            add(v, "ALL");
        }
    }
    for (i, s) in ids(dir.path(), "Subnets", "SubnetId").iter().enumerate() {
        if i % 3 == 0 {
            add(s, "REJECT");
        }
    }
    for (i, e) in ids(dir.path(), "NetworkInterfaces", "NetworkInterfaceId")
        .iter()
        .enumerate()
    {
        if i % 7 == 0 {
            add(e, "ACCEPT");
        }
    }
    let count = logs.len();
    std::fs::write(
        dir.path().join("FlowLogs.json"),
        serde_json::to_string(&json!({ "FlowLogs": logs })).expect("JSON"),
    )
    .expect("write");

    let mut end_to_end = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_vpcreach"))
            .args(["coverage", "--output", "json", "--snapshot"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("vpcreach coverage");
        end_to_end.push(t.elapsed());
        assert!(status.success());
    }
    // The FLOWS path: records of every ENI.
    let flows = tempfile::tempdir().expect("temp dir");
    let eni_ids = ids(dir.path(), "NetworkInterfaces", "NetworkInterfaceId");
    let mut text = String::from(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n",
    );
    let per_eni = 20;
    for (i, e) in eni_ids.iter().enumerate() {
        for k in 0..per_eni {
            let t = 1_700_000_000 + k * 60;
            text.push_str(&format!(
                "2 111122223333 {e} 10.0.0.1 10.0.0.2 40000 443 6 1 40 {t} {} ACCEPT OK\n",
                t + 60
            ));
        }
        if i % 100 == 0 {
            text.push_str(&format!(
                "2 111122223333 {e} - - - - - - - 1700002000 1700002060 - SKIPDATA\n"
            ));
        }
    }
    let lines = text.lines().count() - 1;
    std::fs::write(flows.path().join("flows.log"), text).expect("write flows");
    let mut with_flows = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_vpcreach"))
            .args(["coverage", "--output", "json", "--snapshot"])
            .arg(dir.path())
            .arg(flows.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("vpcreach coverage FLOWS");
        with_flows.push(t.elapsed());
        assert!(status.success());
    }
    println!(
        "coverage of {enis} ENIs with FLOWS ({lines} record lines): end to end (release binary) {:.1} ms (median of {runs})",
        median(with_flows).as_secs_f64() * 1e3
    );

    let snap = Snapshot::load(dir.path()).expect("load");
    let net = Network::build(&snap);
    let mut alone = Vec::new();
    let mut covered = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let c = Coverage::of(&snap, &net);
        alone.push(t.elapsed());
        covered = c.totals.covered;
    }
    println!(
        "coverage of {enis} ENIs with {count} flow logs ({covered} ENIs fully covered): \
         end to end (release binary, load + build + coverage + JSON) {:.1} ms, \
         the analysis alone {:.2} ms (medians of {runs}; target: under 1 s)",
        median(end_to_end).as_secs_f64() * 1e3,
        median(alone).as_secs_f64() * 1e3
    );
}
