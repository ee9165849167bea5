//! `explain` benchmark through the release binary: `explain --only contradiction` over
//! 2,000,000 generated records (plain text, v2) against a generated 1,000-ENI snapshot, compared
//! with `wc -l` on the same file; peak memory read from /proc while it runs.
//!
//! `cargo bench --bench explain` (set `VPCREACH_BENCH_RECORDS` for another size).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use vpcreach::synth::{write_flow_log, write_snapshot, SynthSpec};

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
        std::thread::sleep(Duration::from_millis(5));
    };
    (
        t.elapsed(),
        peak,
        status.code() == Some(0) || status.code() == Some(1),
    )
}

struct Base<'a>(&'a std::path::Path);

impl Base<'_> {
    fn path(&self) -> &std::path::Path {
        self.0
    }
}

fn main() {
    let records: usize = std::env::var("VPCREACH_BENCH_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2_000_000);
    // VPCREACH_BENCH_DIR keeps the generated files (for profiling); by default a temp folder.
    let tmp = tempfile::tempdir().expect("temp dir");
    let keep = std::env::var_os("VPCREACH_BENCH_DIR").map(std::path::PathBuf::from);
    let base = keep.as_deref().unwrap_or(tmp.path());
    let dir = Base(base);
    let spec = SynthSpec::quota(1_000);
    write_snapshot(&spec, &dir.path().join("snap")).expect("snapshot");
    let flows = dir.path().join("flows.log");
    let fs = write_flow_log(&spec, records, &flows, 7).expect("flows");
    println!(
        "{records} records, {:.1} MB, against a 1,000-ENI snapshot",
        fs.bytes as f64 / 1e6
    );
    let bin = env!("CARGO_BIN_EXE_vpcreach");
    // Warm the page cache, then measure.
    let _ = timed(Command::new("wc").arg("-l").arg(&flows));
    let mut wc = Vec::new();
    let mut ex = Vec::new();
    let mut peak = 0;
    for _ in 0..3 {
        wc.push(timed(Command::new("wc").arg("-l").arg(&flows)).0);
        let (t, p, ok) = timed(
            Command::new(bin)
                .args([
                    "explain",
                    "--only",
                    "contradiction",
                    "--output",
                    "jsonl",
                    "--snapshot",
                ])
                .arg(dir.path().join("snap"))
                .arg(&flows)
                .stderr(Stdio::null()),
        );
        assert!(ok, "explain failed");
        ex.push(t);
        peak = peak.max(p);
    }
    // The generator's actions are random, so about a fifth of its records contradict the
    // configuration and are printed; also time the run with nothing to print.
    let mut quiet = Vec::new();
    for _ in 0..3 {
        let (t, _, ok) = timed(
            Command::new(bin)
                .args([
                    "explain",
                    "--only",
                    "unknown",
                    "--output",
                    "jsonl",
                    "--snapshot",
                ])
                .arg(dir.path().join("snap"))
                .arg(&flows)
                .stderr(Stdio::null()),
        );
        assert!(ok, "explain failed");
        quiet.push(t);
    }
    quiet.sort();
    wc.sort();
    ex.sort();
    let (w, e) = (wc[1], ex[1]);
    println!("wc -l:   {:>8.3} s (median of 3)", w.as_secs_f64());
    println!(
        "explain: {:>8.3} s (median of 3) = {:.0} records/s, {:.1}x wc -l, peak memory {:.0} MB",
        e.as_secs_f64(),
        records as f64 / e.as_secs_f64(),
        e.as_secs_f64() / w.as_secs_f64(),
        peak as f64 / 1024.0
    );
    let q = quiet[1];
    println!(
        "explain, nothing printed (--only unknown): {:>8.3} s = {:.0} records/s, {:.1}x wc -l",
        q.as_secs_f64(),
        records as f64 / q.as_secs_f64(),
        q.as_secs_f64() / w.as_secs_f64()
    );
}
