//! History sources where AWS keeps them (issue 15), through the real binary and the real SDK:
//! `--history s3://BUCKET/PREFIX` against a local `moto_server` holding CloudTrail and AWS
//! Config files in AWS's key layout, and `--history cloudtrail://REGION` against a local
//! CloudTrail endpoint that answers `LookupEvents` (`aws_support/fake_cloudtrail.py`: moto does
//! not implement that call). Each gives what the same files read from a local folder give.

mod aws_support;

use aws_sdk_s3::primitives::ByteStream;
use aws_support::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every regular file under `dir`, with its path relative to `dir` (`/`-separated).
fn files_under(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, path));
            }
        }
    }
    out.sort();
    out
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `history:` summary line of a run's stderr.
fn summary(stderr: &str) -> String {
    stderr
        .lines()
        .find(|l| l.starts_with("history: "))
        .unwrap_or_else(|| panic!("no history summary in:\n{stderr}"))
        .to_string()
}

#[test]
fn history_from_s3_reads_as_the_same_files_do_locally() {
    let moto = Moto::start();
    let env = aws_env(&moto.url, TEST_KEYS);
    let rt = runtime();
    let config = rt.block_on(sdk_config(&moto.url, ("testing", "testing")));
    let s3 = s3(&config);
    let trail = root().join("examples/history/trail");
    let config_dir = root().join("examples/history/config");
    rt.block_on(async {
        s3.create_bucket()
            .bucket("org-trail")
            .send()
            .await
            .expect("CreateBucket");
        let mut put = Vec::new();
        for dir in [&trail, &config_dir] {
            for (key, path) in files_under(dir) {
                put.push((key, std::fs::read(path).expect("read")));
            }
        }
        // Gzipped as CloudTrail delivers: one trail file again, under another name.
        let (key, body) = put[0].clone();
        put.push((
            key.replace(".json", "-again.json.gz"),
            gzip(&String::from_utf8(body).expect("utf-8")),
        ));
        // Passed over: a digest file, Config's writability check, a flow log.
        put.push((
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/26/d.json.gz".into(),
            gzip("{\"digestStartTime\": \"2026-11-26T08:00:00Z\"}"),
        ));
        put.push((
            "AWSLogs/111122223333/Config/ConfigWritabilityCheckFile".into(),
            b"check".to_vec(),
        ));
        put.push((
            "AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/26/f.log.gz".into(),
            gzip("version account-id\n"),
        ));
        for (key, body) in put {
            s3.put_object()
                .bucket("org-trail")
                .key(&key)
                .body(ByteStream::from(body))
                .send()
                .await
                .expect("PutObject");
        }
    });

    let explain = |history: &[&str]| {
        let mut cmd = vpcreach(&env);
        cmd.current_dir(root()).args([
            "explain",
            "--snapshot",
            "examples/network",
            "--snapshot-time",
            "2026-11-27T09:00:00Z",
            "--output",
            "jsonl",
        ]);
        for h in history {
            cmd.args(["--history", h]);
        }
        cmd.arg("examples/history/flows/").output().expect("run")
    };
    let local = explain(&["examples/history/trail", "examples/history/config"]);
    let remote = explain(&["s3://org-trail/AWSLogs/"]);
    assert_eq!(local.status.code(), remote.status.code());
    let (local_err, remote_err) = (stderr_of(&local), stderr_of(&remote));
    // The gzipped copy of one file adds one file and its record, read as a duplicate.
    let expected = summary(&local_err)
        .replacen(&format!("{} file(s)", 4), &format!("{} file(s)", 5), 1)
        .replacen("0 duplicate(s)", "1 duplicate(s)", 1);
    assert!(
        summary(&local_err).starts_with("history: 4 file(s), "),
        "{local_err}"
    );
    let records = |s: &str| -> usize {
        s.split(", ")
            .nth(1)
            .and_then(|p| p.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("record count in {s}"))
    };
    let local_records = records(&summary(&local_err));
    let expected = expected.replacen(
        &format!("{local_records} record(s)"),
        &format!("{} record(s)", local_records + 1),
        1,
    );
    assert_eq!(summary(&remote_err), expected, "{remote_err}");
    assert!(
        remote_err.contains("note: s3://org-trail/AWSLogs/: 3 object(s) that are not CloudTrail or AWS Config files"),
        "{remote_err}"
    );
    assert!(remote_err.contains("fetched 5 file(s)"), "{remote_err}");
    // Same explanations, record by record: the history decided them (some were judged by an
    // earlier configuration and name the changes in between).
    let out = stdout_of(&remote);
    assert_eq!(stdout_of(&local), out);
    assert!(out.contains("\"then\""), "{out}");
    assert!(
        out.contains("7a1e0c52-0000-4000-8000-000000001103"),
        "the RevokeSecurityGroupIngress event is named: {out}"
    );

    // A bucket that is not there: an error naming it, exit 2.
    let missing = explain(&["s3://no-such-bucket/AWSLogs/"]);
    assert_eq!(missing.status.code(), Some(2), "{}", stderr_of(&missing));
    assert!(
        stderr_of(&missing).contains("no-such-bucket"),
        "{}",
        stderr_of(&missing)
    );
}

/// The local CloudTrail endpoint, killed on drop.
struct FakeTrail {
    child: Child,
    url: String,
    calls: PathBuf,
}

impl Drop for FakeTrail {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl FakeTrail {
    fn start(trail: &Path, calls: PathBuf) -> FakeTrail {
        let port = free_port();
        let script = root().join("tests/aws_support/fake_cloudtrail.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(port.to_string())
            .arg(trail)
            .arg(&calls)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the fake CloudTrail endpoint");
        // It prints `ready` once it listens.
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut r = std::io::BufReader::new(stdout);
            let _ = r.read_line(&mut line);
            let _ = tx.send(line);
            // Keep reading so that the child never blocks on a full pipe.
            let mut rest = String::new();
            while r.read_line(&mut rest).is_ok_and(|n| n > 0) {
                rest.clear();
            }
        });
        let started = Instant::now();
        let ready = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
        assert_eq!(
            ready.trim(),
            "ready",
            "the fake CloudTrail endpoint did not start within {:?}",
            started.elapsed()
        );
        FakeTrail {
            child,
            url: format!("http://127.0.0.1:{port}"),
            calls,
        }
    }
}

/// The `changes` list of `vpcreach changes --output json`.
fn changes_json(out: &std::process::Output) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr_of(out)));
    v["changes"].clone()
}

#[test]
fn history_from_cloudtrail_event_history_reads_as_the_trail_files_do() {
    let work = tempfile::tempdir().expect("tempdir");
    // A trail folder of one file per event kind (the fixtures' `{"Records": [...]}` files,
    // with failed calls and a dry run), and the example network's day.
    let trail = work.path().join("trail");
    std::fs::create_dir_all(&trail).expect("mkdir");
    let mut n = 0;
    for (rel, path) in files_under(&root().join("tests/fixtures/cloudtrail"))
        .into_iter()
        .chain(files_under(&root().join("examples/history/trail")))
    {
        let text = std::fs::read_to_string(&path).expect("read");
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if rel.ends_with(".json") && doc.get("Records").is_some() {
            std::fs::write(trail.join(format!("{n:02}.json")), text).expect("write");
            n += 1;
        }
    }
    assert!(n >= 20, "{n} trail files");
    let fake = FakeTrail::start(&trail, work.path().join("calls.jsonl"));
    let env = aws_env(&fake.url, TEST_KEYS);

    let changes = |history: &str| {
        vpcreach(&env)
            .current_dir(root())
            .args([
                "changes",
                "--snapshot",
                "examples/network",
                "--snapshot-time",
                "2030-01-01T00:00:00Z",
                "--output",
                "json",
                "--history",
                history,
            ])
            .output()
            .expect("run")
    };
    let local = changes(&trail.to_string_lossy());
    let remote = changes("cloudtrail://us-east-1");
    assert_eq!(local.status.code(), Some(0), "{}", stderr_of(&local));
    assert_eq!(remote.status.code(), Some(0), "{}", stderr_of(&remote));
    let (local_list, remote_list) = (changes_json(&local), changes_json(&remote));
    assert!(
        local_list.as_array().is_some_and(|a| a.len() >= 15),
        "{local_list}"
    );
    assert_eq!(local_list, remote_list);
    let err = stderr_of(&remote);
    assert!(
        err.contains("note: cloudtrail://us-east-1: 1 event(s) whose `CloudTrailEvent` is not JSON passed over"),
        "{err}"
    );
    assert!(err.contains("from cloudtrail://us-east-1"), "{err}");

    // Every call that changes reachability was looked up by name, each through as many
    // pages as it had, and nothing but `LookupEvents` was called.
    let calls = std::fs::read_to_string(&fake.calls).expect("calls log");
    let mut names = std::collections::BTreeMap::<String, usize>::new();
    for line in calls.lines() {
        let call: serde_json::Value = serde_json::from_str(line).expect("call");
        assert_eq!(call["target"], "CloudTrail_20131101.LookupEvents");
        let name = call["attributes"][0]["AttributeValue"]
            .as_str()
            .expect("an EventName")
            .to_string();
        *names.entry(name).or_default() += 1;
    }
    let expected: std::collections::BTreeSet<String> = vpcreach::history::CHANGE_APIS
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        names
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        expected
    );
    assert!(
        names.values().any(|&pages| pages > 1),
        "some lookup went over more than one page: {names:?}"
    );
}
