//! `explain` benchmark through the release binary: `explain --only contradiction --output
//! jsonl` over 2,000,000 generated records (plain text, v2) against a generated 1,000-ENI
//! snapshot (AWS-quota shape: 5 groups of 60 rules per ENI, 20 NACL rules), compared with
//! `wc -l` on the same file; peak memory read from /proc while it runs.
//!
//! Two inputs:
//! - *as configured*: each record's action is what the snapshot predicts, and 0.1% are flipped,
//!   as in a real log explained against an accurate snapshot (the contradictions are printed);
//! - *random actions*: about a fifth of the records contradict the snapshot and are printed.
//!
//! The first input is also explained with a history of 1,000 changes (`--history`) spread over
//! the log's window, against the same run without it.
//!
//! Next to them, two floors: `explain` on an empty log (start, load the snapshot, exit), and
//! the scan of the fields `explain` reads, on every core, with nothing evaluated.
//!
//! `cargo bench --bench explain` (`VPCREACH_BENCH_RECORDS` for another number of records,
//! `VPCREACH_BENCH_ENIS` for another network size, `VPCREACH_BENCH_DIR` to keep the generated
//! files).

use std::fs::File;
use std::io::BufWriter;
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vpcreach::testkit::synth::{
    write_flow_log, write_flow_log_with, write_snapshot, Actions, SynthSpec,
};
use vpcreach::{Network, Snapshot};

fn peak_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn timed(cmd: &mut Command) -> (Duration, u64, bool) {
    let t = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).spawn().expect("spawn");
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(k) = peak_kib(pid) {
            peak = peak.max(k);
        }
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    (
        t.elapsed(),
        peak,
        status.code() == Some(0) || status.code() == Some(1),
    )
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn explain(snap: &Path, flows: &Path, only: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vpcreach"));
    cmd.args(["explain", "--only", only, "--output", "jsonl", "--snapshot"])
        .arg(snap)
        .arg(flows)
        .stderr(Stdio::null());
    cmd
}

/// The status counts `explain` reports for `flows` (from its JSON summary).
fn statuses(snap: &Path, flows: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_vpcreach"))
        .args([
            "explain",
            "--only",
            "malformed",
            "--output",
            "json",
            "--snapshot",
        ])
        .arg(snap)
        .arg(flows)
        .stderr(Stdio::null())
        .output()
        .expect("explain");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    v["summary"]["by_status"].to_string()
}

/// The fast scan `explain` makes of every line, on every core, in this process: what
/// explaining costs before any evaluation.
fn scan_only(flows: &Path, records: usize) -> Duration {
    let t = Instant::now();
    let counts = common::scan(flows, 0);
    assert_eq!(counts.read, records as u64);
    t.elapsed()
}

fn measure(label: &str, snap: &Path, flows: &Path, records: usize) {
    // Warm the page cache, then measure.
    let _ = timed(Command::new("wc").arg("-l").arg(flows));
    let _ = timed(&mut explain(snap, flows, "contradiction"));
    let empty = flows.with_extension("empty.log");
    std::fs::write(&empty, "").expect("an empty log");
    let (mut wc, mut ex, mut quiet, mut every) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut load, mut scan) = (Vec::new(), Vec::new());
    let (mut peak, mut every_peak) = (0, 0);
    for _ in 0..5 {
        wc.push(timed(Command::new("wc").arg("-l").arg(flows)).0);
        load.push(timed(&mut explain(snap, &empty, "contradiction")).0);
        scan.push(scan_only(flows, records));
        let (t, p, ok) = timed(&mut explain(snap, flows, "contradiction"));
        assert!(ok, "explain failed");
        ex.push(t);
        peak = peak.max(p);
        let (t, _, ok) = timed(&mut explain(snap, flows, "unknown"));
        assert!(ok, "explain failed");
        quiet.push(t);
        // Every record printed, as a pipeline into a log store reads it.
        let (t, p, ok) = timed(&mut explain(
            snap,
            flows,
            "consistent,contradiction,unknown,skipped",
        ));
        assert!(ok, "explain failed");
        every.push(t);
        every_peak = every_peak.max(p);
    }
    let (w, e, q, a) = (median(wc), median(ex), median(quiet), median(every));
    let (l, sc) = (median(load), median(scan));
    let _ = std::fs::remove_file(&empty);
    println!("{label}: statuses {}", statuses(snap, flows));
    println!("  wc -l:   {:>7.3} s (median of 5)", w.as_secs_f64());
    println!(
        "  floor: explain on an empty log (start, load the snapshot, exit): {:.3} s = {:.1}x wc -l; \
         the fields explain reads, scanned on every core, nothing evaluated: {:.3} s = {:.1}x wc -l",
        l.as_secs_f64(),
        l.as_secs_f64() / w.as_secs_f64(),
        sc.as_secs_f64(),
        sc.as_secs_f64() / w.as_secs_f64()
    );
    println!(
        "  explain --only contradiction: {:>7.3} s (median of 5) = {:.0} records/s, {:.1}x wc -l, peak memory {:.0} MB",
        e.as_secs_f64(),
        records as f64 / e.as_secs_f64(),
        e.as_secs_f64() / w.as_secs_f64(),
        peak as f64 / 1024.0
    );
    println!(
        "  explain --only unknown (nothing printed): {:>7.3} s = {:.0} records/s, {:.1}x wc -l",
        q.as_secs_f64(),
        records as f64 / q.as_secs_f64(),
        q.as_secs_f64() / w.as_secs_f64()
    );
    println!(
        "  explain --output jsonl, every record printed: {:>7.3} s (median of 5) = {:.0} records/s, {:.1}x wc -l, peak memory {:.0} MB",
        a.as_secs_f64(),
        records as f64 / a.as_secs_f64(),
        a.as_secs_f64() / w.as_secs_f64(),
        every_peak as f64 / 1024.0
    );
}

/// The first and last `start` of a v2 log.
fn window(flows: &Path) -> (i64, i64) {
    use std::io::BufRead;
    let file = std::io::BufReader::new(File::open(flows).expect("flows"));
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for line in file.lines() {
        let line = line.expect("line");
        if let Some(t) = line.split(' ').nth(10).and_then(|f| f.parse::<i64>().ok()) {
            first = first.min(t);
            last = last.max(t);
        }
    }
    (first, last)
}

/// One CloudTrail record: `api` (an authorize or a revoke) of tcp ports `ports` from `cidr` on
/// `group`.
fn trail_record(
    api: &str,
    group: &str,
    (cidr, ports): (&str, (u16, u16)),
    time: i64,
    n: usize,
) -> serde_json::Value {
    let (from, to) = ports;
    let set = if api.starts_with("Authorize") {
        "securityGroupRuleSet"
    } else {
        "revokedSecurityGroupRuleSet"
    };
    serde_json::json!({
        "eventVersion": "1.10",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/bench"},
        "eventTime": vpcreach::timestamp::Rfc3339(time).to_string(),
        "eventSource": "ec2.amazonaws.com",
        "eventName": api,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.1",
        "requestParameters": {"groupId": group, "ipPermissions": {"items": [{
            "ipProtocol": "tcp", "fromPort": from, "toPort": to,
            "ipRanges": {"items": [{"cidrIp": cidr}]}}]}},
        "responseElements": {"_return": true, set: {"items": [{
            "securityGroupRuleId": format!("sgr-{n:017x}"), "groupId": group, "isEgress": false,
            "ipProtocol": "tcp", "fromPort": from, "toPort": to, "cidrIpv4": cidr}]}},
        "eventID": format!("00000000-0000-4000-8000-{n:012}"),
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012"
    })
}

/// `explain --only contradiction` over `flows` with a history of `changes` changes (rules
/// authorized and revoked again, spread evenly over the log's window) against the same run
/// without the history, medians of 3: on the snapshot's own groups with rules that match no
/// record (tcp/10000+ from 192.0.2.0/24: each change reaches the ENIs of its group, but cannot
/// alter how their records are judged), on the snapshot's own groups with rules that match
/// every TCP record (tcp/0-65535 from 0.0.0.0/0, each revoked again soon after: a record
/// before both is judged by the snapshot's configuration, which is the same for it), on a group
/// no ENI uses (no record is), and with rules that match every TCP record authorized and never
/// revoked (tcp/0-65535 from halves and quarters of the IPv4 space, in a copy of the snapshot
/// that has them: every record at the ENIs of those groups before a change is judged by an
/// earlier configuration, and judged twice, then and now, to say where they differ).
fn with_history(snap: &Path, net: &Network, flows: &Path, changes: usize, base: &Path) {
    let (first, last) = window(flows);
    let snapshot_time = last + 3_600;
    let step = ((last - first).max(1) as f64 / changes as f64).max(1.0);
    let trail = |name: &str, group: &dyn Fn(usize) -> String, wide: bool, stay: bool| {
        let records: Vec<serde_json::Value> = (0..changes)
            .map(|i| {
                let pair = if stay { i } else { i / 2 };
                let port = 10_000 + (pair % 50_000) as u16;
                let rule = if stay {
                    (stay_cidr(i, net.groups.len()), (0, 65_535))
                } else if wide {
                    ("0.0.0.0/0", (0, 65_535))
                } else {
                    ("192.0.2.0/24", (port, port))
                };
                let api = if i % 2 == 0 || stay {
                    "AuthorizeSecurityGroupIngress"
                } else {
                    "RevokeSecurityGroupIngress"
                };
                let t = first + (i as f64 * step) as i64;
                trail_record(api, &group(pair), rule, t, i)
            })
            .collect();
        let path = base.join(name);
        std::fs::write(&path, serde_json::json!({ "Records": records }).to_string())
            .expect("trail");
        path
    };
    let own_group = |pair: usize| net.groups[pair % net.groups.len()].id.clone();
    let own = trail("trail.json", &own_group, false, false);
    let own_wide = trail("trail-wide.json", &own_group, true, false);
    let own_stay = trail("trail-stay.json", &own_group, true, true);
    // The snapshot those rules are in (they were never revoked).
    let snap_stay = base.join("snap-stay");
    std::fs::create_dir_all(&snap_stay).expect("snap-stay");
    for entry in std::fs::read_dir(snap).expect("snapshot folder") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), snap_stay.join(entry.file_name())).expect("copy");
        }
    }
    let sgs_path = snap_stay.join("SecurityGroups.json");
    let mut sgs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sgs_path).expect("groups")).expect("groups");
    for i in 0..changes {
        let id = own_group(i);
        let groups = sgs["SecurityGroups"].as_array_mut().expect("groups");
        let g = groups
            .iter_mut()
            .find(|g| g["GroupId"] == *id)
            .expect("group");
        g["IpPermissions"]
            .as_array_mut()
            .expect("permissions")
            .push(serde_json::json!({
            "IpProtocol": "tcp", "FromPort": 0, "ToPort": 65_535,
            "IpRanges": [{"CidrIp": stay_cidr(i, net.groups.len())}]}));
    }
    std::fs::write(&sgs_path, sgs.to_string()).expect("groups");
    let unused = trail(
        "trail-unused.json",
        &|_| "sg-00000000000000000".to_string(),
        false,
        false,
    );
    let at = vpcreach::timestamp::Rfc3339(snapshot_time).to_string();
    let run_on = |snap: &Path, history: Option<&Path>| {
        let mut cmd = explain(snap, flows, "contradiction");
        cmd.args(["--snapshot-time", &at]);
        if let Some(h) = history {
            cmd.arg("--history").arg(h);
        }
        let (t, p, ok) = timed(&mut cmd);
        assert!(ok, "explain failed");
        (t, p)
    };
    let run = |history: Option<&Path>| run_on(snap, history);
    let (mut without, mut with_own, mut with_wide, mut with_unused, mut with_stay) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut without_stay = Vec::new();
    let (mut peak_own, mut peak_wide, mut peak_stay) = (0, 0, 0);
    for _ in 0..3 {
        without.push(run(None).0);
        let (t, p) = run(Some(&own));
        with_own.push(t);
        peak_own = peak_own.max(p);
        let (t, p) = run(Some(&own_wide));
        with_wide.push(t);
        peak_wide = peak_wide.max(p);
        with_unused.push(run(Some(&unused)).0);
        without_stay.push(run_on(&snap_stay, None).0);
        let (t, p) = run_on(&snap_stay, Some(&own_stay));
        with_stay.push(t);
        peak_stay = peak_stay.max(p);
    }
    let (a, b, w, c, st, a_st) = (
        median(without),
        median(with_own),
        median(with_wide),
        median(with_unused),
        median(with_stay),
        median(without_stay),
    );
    let x = |d: std::time::Duration| d.as_secs_f64() / a.as_secs_f64();
    println!(
        "  with a history of {changes} changes over the log's window (explain --only contradiction, medians of 3): {:.3} s without; {:.3} s with changes to a group no ENI uses = {:.2}x; {:.3} s with changes to the snapshot's groups of rules that match no record = {:.2}x (peak memory {:.0} MB); {:.3} s with changes to the snapshot's groups of rules that match every TCP record, each revoked again = {:.2}x (peak memory {:.0} MB); {:.3} s with such rules authorized and never revoked (in the snapshot), against {:.3} s without the history on that snapshot = {:.2}x (peak memory {:.0} MB)",
        a.as_secs_f64(),
        c.as_secs_f64(),
        x(c),
        b.as_secs_f64(),
        x(b),
        peak_own as f64 / 1024.0,
        w.as_secs_f64(),
        x(w),
        peak_wide as f64 / 1024.0,
        st.as_secs_f64(),
        a_st.as_secs_f64(),
        st.as_secs_f64() / a_st.as_secs_f64(),
        peak_stay as f64 / 1024.0
    );
}

/// The peer of the `i`-th rule authorized and never revoked in [`with_history`]: halves and
/// quarters of the IPv4 space, so that each group gets distinct rules that match most records.
/// `groups` is how many groups the rules go round (the `i`-th to group `i % groups`).
fn stay_cidr(i: usize, groups: usize) -> &'static str {
    ["0.0.0.0/1", "128.0.0.0/1", "0.0.0.0/2", "64.0.0.0/2"][(i / groups.max(1)) % 4]
}

/// A copy of the snapshot folder `snap` with VPC BPA options (block-bidirectional) and an
/// allow-bidirectional exclusion for each VPC of `net`.
fn with_bpa(snap: &Path, net: &Network, out: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(out).expect("snap-bpa");
    for entry in std::fs::read_dir(snap).expect("snapshot folder") {
        let entry = entry.expect("entry");
        if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), out.join(entry.file_name())).expect("copy");
        }
    }
    let options = serde_json::json!({"VpcBlockPublicAccessOptions": {
        "State": "update-complete", "InternetGatewayBlockMode": "block-bidirectional",
        "ExclusionsAllowed": "allowed"}});
    std::fs::write(
        out.join("VpcBlockPublicAccessOptions.json"),
        options.to_string(),
    )
    .expect("options");
    let exclusions: Vec<serde_json::Value> = net
        .vpcs
        .iter()
        .enumerate()
        .map(|(i, v)| {
            serde_json::json!({"ExclusionId": format!("exclusion-{i:017x}"),
                "InternetGatewayExclusionMode": "allow-bidirectional",
                "ResourceArn": format!("arn:aws:ec2:us-east-1:123456789012:vpc/{}", v.id),
                "State": "create-complete"})
        })
        .collect();
    std::fs::write(
        out.join("VpcBlockPublicAccessExclusions.json"),
        serde_json::json!({ "VpcBlockPublicAccessExclusions": exclusions }).to_string(),
    )
    .expect("exclusions");
    out.to_path_buf()
}

fn main() {
    let records: usize = std::env::var("VPCREACH_BENCH_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let keep = std::env::var_os("VPCREACH_BENCH_DIR").map(std::path::PathBuf::from);
    let base = keep.as_deref().unwrap_or(tmp.path());
    let enis: usize = std::env::var("VPCREACH_BENCH_ENIS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000);
    let spec = SynthSpec::quota(enis);
    let snap = base.join("snap");
    write_snapshot(&spec, &snap).expect("snapshot");
    let net = Network::build(&Snapshot::load(&snap).expect("load"));
    let configured = base.join("flows.log");
    let fs = write_flow_log_with(
        &spec,
        records,
        7,
        Actions::AsConfigured {
            net: &net,
            contradictions_per_million: 1_000,
        },
        BufWriter::with_capacity(1 << 20, File::create(&configured).expect("create")),
    )
    .expect("flows");
    println!(
        "{records} records, {:.1} MB, against a {enis}-ENI snapshot",
        fs.bytes as f64 / 1e6
    );
    // `VPCREACH_BENCH_ONLY=history`: only the history comparison (issue 15).
    if std::env::var("VPCREACH_BENCH_ONLY").as_deref() == Ok("history") {
        with_history(&snap, &net, &configured, 1_000, base);
        return;
    }
    // `VPCREACH_BENCH_ONLY=parquet`: only the Parquet and SQL comparisons (issue 17).
    if std::env::var("VPCREACH_BENCH_ONLY").as_deref() == Ok("parquet") {
        parquet_vs_text(&snap, &configured, base);
        sql_vs_explain(&snap, &configured);
        return;
    }
    // `VPCREACH_BENCH_ONLY=cluster`: only SQL on a local two-executor cluster (issue 17).
    if std::env::var("VPCREACH_BENCH_ONLY").as_deref() == Ok("cluster") {
        cluster_vs_sql(&snap, &configured, base);
        return;
    }
    measure("as configured, 0.1% flipped", &snap, &configured, records);
    parquet_vs_text(&snap, &configured, base);
    sql_vs_explain(&snap, &configured);
    with_history(&snap, &net, &configured, 1_000, base);
    // The same snapshot with VPC Block Public Access data: block-bidirectional, every VPC
    // excluded (allow-bidirectional), so the verdicts stay those the records were made for while
    // every record with an internet peer is judged by BPA and names its exclusion.
    let snap_bpa = with_bpa(&snap, &net, &base.join("snap-bpa"));
    measure(
        "as configured, 0.1% flipped, with VPC BPA data",
        &snap_bpa,
        &configured,
        records,
    );
    let random = base.join("flows-random.log");
    write_flow_log(&spec, records, &random, 7).expect("flows");
    measure("random actions", &snap, &random, records);
}

/// The text log's records as a Parquet file as AWS writes them (underscored column names,
/// AWS's types, GZIP column chunks), in row groups of 131,072 rows.
fn write_parquet_copy(text: &Path, out: &Path) {
    use parquet::basic::{Compression, GzipLevel};
    use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::io::BufRead;
    let reader = std::io::BufReader::new(File::open(text).expect("flows"));
    let mut lines = reader.lines();
    let header = lines.next().expect("a header").expect("read");
    let names: Vec<String> = header
        .split_whitespace()
        .map(|n| n.replace('-', "_"))
        .collect();
    let int32 = |n: &str| {
        matches!(
            n,
            "version" | "srcport" | "dstport" | "tcp_flags" | "traffic_path"
        )
    };
    let int64 = |n: &str| matches!(n, "protocol" | "packets" | "bytes" | "start" | "end");
    let fields: Vec<String> = names
        .iter()
        .map(|n| {
            if int32(n) {
                format!("optional int32 {n};")
            } else if int64(n) {
                format!("optional int64 {n};")
            } else {
                format!("optional binary {n} (STRING);")
            }
        })
        .collect();
    let schema = std::sync::Arc::new(
        parquet::schema::parser::parse_message_type(&format!(
            "message flows {{ {} }}",
            fields.join(" ")
        ))
        .expect("schema"),
    );
    let props = std::sync::Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::GZIP(GzipLevel::default()))
            .build(),
    );
    let mut w = SerializedFileWriter::new(File::create(out).expect("create"), schema, props)
        .expect("writer");
    let mut batch: Vec<String> = Vec::with_capacity(131_072);
    let mut flush = |batch: &mut Vec<String>| {
        if batch.is_empty() {
            return;
        }
        let rows: Vec<Vec<&str>> = batch.iter().map(|l| l.split(' ').collect()).collect();
        let mut rg = w.next_row_group().expect("row group");
        let mut i = 0;
        while let Some(mut col) = rg.next_column().expect("column") {
            let defs: Vec<i16> = rows.iter().map(|r| i16::from(r[i] != "-")).collect();
            let present = rows.iter().map(|r| r[i]).filter(|v| *v != "-");
            if int32(&names[i]) {
                let v: Vec<i32> = present.map(|x| x.parse().expect("int")).collect();
                col.typed::<Int32Type>()
                    .write_batch(&v, Some(&defs), None)
                    .expect("write");
            } else if int64(&names[i]) {
                let v: Vec<i64> = present.map(|x| x.parse().expect("int")).collect();
                col.typed::<Int64Type>()
                    .write_batch(&v, Some(&defs), None)
                    .expect("write");
            } else {
                let v: Vec<ByteArray> = present.map(ByteArray::from).collect();
                col.typed::<ByteArrayType>()
                    .write_batch(&v, Some(&defs), None)
                    .expect("write");
            }
            col.close().expect("close");
            i += 1;
        }
        rg.close().expect("close");
        batch.clear();
    };
    for line in lines {
        batch.push(line.expect("read"));
        if batch.len() == 131_072 {
            flush(&mut batch);
        }
    }
    flush(&mut batch);
    w.close().expect("close");
}

/// Issue 17: explaining the records from Parquet is no slower than from text.
fn parquet_vs_text(snap: &Path, text: &Path, base: &Path) {
    let pq = base.join("flows.log.parquet");
    if !pq.exists() {
        write_parquet_copy(text, &pq);
    }
    // The text as AWS delivers it to S3: gzip.
    let gz = base.join("flows.log.gz");
    if !gz.exists() {
        let mut enc = flate2::write::GzEncoder::new(
            BufWriter::new(File::create(&gz).expect("create")),
            flate2::Compression::default(),
        );
        std::io::copy(&mut File::open(text).expect("flows"), &mut enc).expect("gzip");
        enc.finish().expect("gzip");
    }
    let mb = |p: &Path| std::fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1e6);
    let _ = timed(&mut explain(snap, &pq, "contradiction"));
    let (mut t, mut p, mut g) = (Vec::new(), Vec::new(), Vec::new());
    let (mut peak_t, mut peak_p) = (0, 0);
    for _ in 0..3 {
        let (d, k, ok) = timed(&mut explain(snap, text, "contradiction"));
        assert!(ok, "explain failed");
        t.push(d);
        peak_t = peak_t.max(k);
        let (d, _, ok) = timed(&mut explain(snap, &gz, "contradiction"));
        assert!(ok, "explain failed");
        g.push(d);
        let (d, k, ok) = timed(&mut explain(snap, &pq, "contradiction"));
        assert!(ok, "explain failed");
        p.push(d);
        peak_p = peak_p.max(k);
    }
    let (t, p, g) = (median(t), median(p), median(g));
    println!(
        "Parquet vs text (issue 17): the same text gzipped ({:.1} MB) {:.3} s: Parquet {:.2}x of it",
        mb(&gz),
        g.as_secs_f64(),
        p.as_secs_f64() / g.as_secs_f64()
    );
    println!(
        "Parquet vs text (issue 17): explain --only contradiction, text ({:.1} MB) {:.3} s, {:.0} MB peak; \
         Parquet ({:.1} MB, GZIP) {:.3} s, {:.0} MB peak (medians of 3): {:.2}x",
        mb(text),
        t.as_secs_f64(),
        peak_t as f64 / 1024.0,
        mb(&pq),
        p.as_secs_f64(),
        peak_p as f64 / 1024.0,
        p.as_secs_f64() / t.as_secs_f64()
    );
}

/// Issue 17: `sql` with `GROUP BY status` over the records against `explain` alone, and a query
/// that reads the deciding checks (with the `sql` feature; without it, says so).
fn sql_vs_explain(snap: &Path, flows: &Path) {
    let mut probe = Command::new(env!("CARGO_BIN_EXE_vpcreach"));
    probe
        .args(["sql", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if !probe.status().is_ok_and(|s| s.success()) {
        println!("sql: not built (cargo bench --features sql --bench explain)");
        return;
    }
    const BY_STATUS: &str = "SELECT status, count(*) AS n FROM explained GROUP BY status";
    const BY_RULE: &str = "SELECT deciding_layer, deciding_rule_number, count(*) AS n \
                           FROM explained GROUP BY deciding_layer, deciding_rule_number";
    let sql = |query: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vpcreach"));
        cmd.args(["sql", "--snapshot"])
            .arg(snap)
            .arg(flows)
            .args(["--output", "csv", "-e", query])
            .stderr(Stdio::null());
        cmd
    };
    let (mut e, mut q, mut r) = (Vec::new(), Vec::new(), Vec::new());
    let (mut peak_e, mut peak_q, mut peak_r) = (0, 0, 0);
    for _ in 0..3 {
        let (d, k, ok) = timed(&mut explain(snap, flows, "contradiction"));
        assert!(ok, "explain failed");
        e.push(d);
        peak_e = peak_e.max(k);
        let (d, k, ok) = timed(&mut sql(BY_STATUS));
        assert!(ok, "sql failed");
        q.push(d);
        peak_q = peak_q.max(k);
        let (d, k, ok) = timed(&mut sql(BY_RULE));
        assert!(ok, "sql failed");
        r.push(d);
        peak_r = peak_r.max(k);
    }
    let (e, q, r) = (median(e), median(q), median(r));
    println!(
        "sql (issue 17): {BY_RULE} {:.3} s, {:.0} MB peak (median of 3): {:.2}x explain",
        r.as_secs_f64(),
        peak_r as f64 / 1024.0,
        r.as_secs_f64() / e.as_secs_f64()
    );
    println!(
        "sql (issue 17): SELECT status, count(*) FROM explained GROUP BY status {:.3} s, {:.0} MB peak; \
         explain --only contradiction {:.3} s, {:.0} MB peak (medians of 3): {:.2}x",
        q.as_secs_f64(),
        peak_q as f64 / 1024.0,
        e.as_secs_f64(),
        peak_e as f64 / 1024.0,
        q.as_secs_f64() / e.as_secs_f64()
    );
}

/// The log cut into `n` files of whole lines (each with the header line) in `dir`.
fn split_log(flows: &Path, dir: &Path, n: usize) {
    use std::io::{BufRead, BufReader, Write};
    std::fs::create_dir_all(dir).expect("split dir");
    let lines = BufReader::new(File::open(flows).expect("flows"))
        .lines()
        .count()
        - 1;
    let per = lines.div_ceil(n);
    let mut reader = BufReader::new(File::open(flows).expect("flows")).lines();
    let header = reader.next().expect("a header").expect("read");
    for i in 0..n {
        let mut out =
            BufWriter::new(File::create(dir.join(format!("part-{i:02}.log"))).expect("create"));
        writeln!(out, "{header}").expect("write");
        for line in reader.by_ref().take(per) {
            writeln!(out, "{}", line.expect("read")).expect("write");
        }
    }
}

/// The processes of a local cluster, killed when dropped.
struct LocalCluster(Vec<std::process::Child>);

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `sql` over the log cut into 8 files: on a scheduler and two executors started on
/// 127.0.0.1 (this machine's cores shared between them), locally, and `explain` alone.
fn cluster_vs_sql(snap: &Path, flows: &Path, base: &Path) {
    let mut probe = Command::new(env!("CARGO_BIN_EXE_vpcreach"));
    probe
        .args(["cluster", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if !probe.status().is_ok_and(|s| s.success()) {
        println!("cluster: not built (cargo bench --features cluster --bench explain)");
        return;
    }
    let dir = base.join("flows-split");
    split_log(flows, &dir, 8);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let bind = format!("127.0.0.1:{port}");
    let spawn = |args: &[&str], log: &Path| {
        Command::new(env!("CARGO_BIN_EXE_vpcreach"))
            .args(args)
            .stdout(Stdio::null())
            .stderr(File::create(log).expect("log"))
            .spawn()
            .expect("spawn")
    };
    let mut cluster = LocalCluster(vec![spawn(
        &["cluster", "scheduler", "--bind", &bind],
        &base.join("scheduler.log"),
    )]);
    let logs: Vec<_> = (0..2)
        .map(|i| base.join(format!("executor-{i}.log")))
        .collect();
    for log in &logs {
        cluster.0.push(spawn(
            &["cluster", "executor", "--scheduler", &bind, "-v"],
            log,
        ));
    }
    let start = Instant::now();
    for log in &logs {
        while !std::fs::read_to_string(log)
            .unwrap_or_default()
            .contains("Executor registration succeed")
        {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the executors did not register"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let query = "SELECT status, count(*) AS n FROM explained GROUP BY status ORDER BY status";
    let sql = |cluster: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_vpcreach"));
        cmd.args(["sql", "--snapshot"]).arg(snap).arg(&dir);
        if cluster {
            cmd.args(["--cluster", &format!("df://{bind}")]);
        }
        cmd.args(["--output", "csv", "-e", query])
            .stderr(Stdio::null());
        cmd
    };
    let answer = |mut cmd: Command| {
        let out = cmd.output().expect("sql");
        assert!(out.status.success(), "sql failed");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(
        answer(sql(true)),
        answer(sql(false)),
        "cluster and local answers differ"
    );
    let (mut e, mut l, mut c) = (Vec::new(), Vec::new(), Vec::new());
    let (mut peak_l, mut peak_c) = (0, 0);
    for _ in 0..3 {
        let (d, _, ok) = timed(&mut explain(snap, &dir, "contradiction"));
        assert!(ok, "explain failed");
        e.push(d);
        let (d, k, ok) = timed(&mut sql(false));
        assert!(ok, "sql failed");
        l.push(d);
        peak_l = peak_l.max(k);
        let (d, k, ok) = timed(&mut sql(true));
        assert!(ok, "sql --cluster failed");
        c.push(d);
        peak_c = peak_c.max(k);
    }
    let executors: Vec<String> = cluster.0[1..]
        .iter()
        .map(|c| format!("{:.0} MB", peak_kib(c.id()).unwrap_or(0) as f64 / 1024.0))
        .collect();
    let ran: Vec<usize> = logs
        .iter()
        .map(|log| {
            std::fs::read_to_string(log)
                .unwrap_or_default()
                .matches("runs `explained` partition")
                .count()
        })
        .collect();
    let (e, l, c) = (median(e), median(l), median(c));
    println!(
        "cluster (issue 17), 8 files: SELECT status, count(*) FROM explained GROUP BY status on a \
         scheduler and two executors on this machine {:.3} s (client {:.0} MB peak, executors {} peak, \
         partitions run per executor {:?} over 4 queries); local sql {:.3} s, {:.0} MB peak; \
         explain --only contradiction {:.3} s (medians of 3)",
        c.as_secs_f64(),
        peak_c as f64 / 1024.0,
        executors.join(" and "),
        ran,
        l.as_secs_f64(),
        peak_l as f64 / 1024.0,
        e.as_secs_f64(),
    );
}
