//! `vpcreach cluster` and `vpcreach sql --cluster` (issue 17, item 3), end to end: a Ballista
//! scheduler and two executors started from the built binary on 127.0.0.1, a query whose
//! tasks land on both, and its answer against local `sql` and `explain`.

mod aws_support;
mod parquet_support;

use parquet::basic::{Compression, GzipLevel};
use serde_json::Value;
use std::fs;
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn example(p: &str) -> PathBuf {
    root().join("examples").join(p)
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vpcreach"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The processes of a cluster: all killed when the test ends, failed or not.
struct Cluster {
    children: Vec<(String, Child, PathBuf)>,
    /// Environment variables set (or, `None`, removed) for each process.
    env: Vec<(String, Option<String>)>,
}

impl Cluster {
    /// Starts `vpcreach ARGS` with its stderr in `log`.
    fn start(&mut self, name: &str, args: &[&str], log: PathBuf) {
        let err = fs::File::create(&log).unwrap();
        let mut cmd = bin();
        with_env(&mut cmd, &self.env);
        let child = cmd
            .args(args)
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        self.children.push((name.to_string(), child, log));
    }

    fn log(&self, name: &str) -> String {
        let (_, _, path) = self.children.iter().find(|(n, _, _)| n == name).unwrap();
        fs::read_to_string(path).unwrap_or_default()
    }

    /// Waits until `name`'s log holds `text`, failing with every log after `limit`.
    fn wait_for_log(&mut self, name: &str, text: &str, limit: Duration) {
        let start = Instant::now();
        while !self.log(name).contains(text) {
            self.check_alive();
            assert!(
                start.elapsed() < limit,
                "{name} did not log `{text}` in {limit:?}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn check_alive(&mut self) {
        let mut dead = Vec::new();
        for (name, child, _) in &mut self.children {
            if let Ok(Some(status)) = child.try_wait() {
                dead.push(format!("{name} exited: {status}"));
            }
        }
        assert!(dead.is_empty(), "{dead:?}\n{}", self.logs());
    }

    fn logs(&self) -> String {
        self.children
            .iter()
            .map(|(n, _, p)| format!("--- {n}\n{}", fs::read_to_string(p).unwrap_or_default()))
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, child, _) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait_for_port(port: u16, limit: Duration) {
    let start = Instant::now();
    while TcpStream::connect_timeout(
        &format!("127.0.0.1:{port}").parse().unwrap(),
        Duration::from_millis(500),
    )
    .is_err()
    {
        assert!(
            start.elapsed() < limit,
            "nothing listens on {port} after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The example flow log cut into three files in `dir/flows`: two text files (each with the
/// header line) and a Parquet file of three row groups, as AWS writes them.
fn split_flows(dir: &Path) -> Vec<PathBuf> {
    let text = fs::read_to_string(example("flows/prod-2026-11-26.log")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let records: Vec<&str> = lines.collect();
    assert!(records.len() > 8);
    let flows = dir.join("flows");
    fs::create_dir_all(&flows).unwrap();
    let mut paths = Vec::new();
    for (i, chunk) in [&records[..4], &records[4..8]].into_iter().enumerate() {
        let path = flows.join(format!("part-{i}.log"));
        let mut f = fs::File::create(&path).unwrap();
        writeln!(f, "{header}").unwrap();
        for l in chunk {
            writeln!(f, "{l}").unwrap();
        }
        paths.push(path);
    }
    let rest = std::iter::once(header)
        .chain(records[8..].iter().copied())
        .map(|l| format!("{l}\n"))
        .collect::<String>();
    let path = flows.join("part-2.log.parquet");
    let group = (records.len() - 8).div_ceil(3);
    parquet_support::write_text_as_parquet(
        &rest,
        &path,
        Compression::GZIP(GzipLevel::default()),
        group,
    );
    paths.push(path);
    paths
}

fn with_env(cmd: &mut Command, env: &[(String, Option<String>)]) {
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
}

/// A scheduler and two executors (two tasks each) on 127.0.0.1, their logs in `dir`, each
/// process with `env`; and the scheduler's port.
fn start_cluster(dir: &Path, env: Vec<(String, Option<String>)>) -> (Cluster, u16) {
    let mut cluster = Cluster {
        children: Vec::new(),
        env,
    };
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    cluster.start(
        "scheduler",
        &["cluster", "scheduler", "--bind", &bind],
        dir.join("scheduler.log"),
    );
    wait_for_port(port, Duration::from_secs(60));
    for name in ["executor-a", "executor-b"] {
        let work = dir.join(name);
        fs::create_dir_all(&work).unwrap();
        cluster.start(
            name,
            &[
                "cluster",
                "executor",
                "--scheduler",
                &bind,
                "--concurrent-tasks",
                "2",
                "--work-dir",
                work.to_str().unwrap(),
                "-v",
            ],
            dir.join(format!("{name}.log")),
        );
    }
    for name in ["executor-a", "executor-b"] {
        cluster.wait_for_log(
            name,
            "Executor registration succeed",
            Duration::from_secs(60),
        );
    }
    (cluster, port)
}

/// The lines of both executors' logs that name an `explained` partition they ran; fails when
/// either ran none.
fn explained_partitions_run(cluster: &Cluster) -> Vec<String> {
    let mut ran = Vec::new();
    for name in ["executor-a", "executor-b"] {
        let mine: Vec<String> = cluster
            .log(name)
            .lines()
            .filter(|l| l.contains("runs `explained` partition"))
            .map(str::to_string)
            .collect();
        assert!(
            !mine.is_empty(),
            "{name} ran no partition:\n{}",
            cluster.logs()
        );
        ran.extend(mine);
    }
    ran
}

fn rows(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `vpcreach sql` over the example snapshot and `flows`, locally or on `cluster`.
fn sql(cluster: Option<u16>, flows: &Path, query: &str) -> Output {
    sql_with(&[], cluster, flows, query)
}

/// [`sql`] with environment variables set (or removed).
fn sql_with(
    env: &[(String, Option<String>)],
    cluster: Option<u16>,
    flows: &Path,
    query: &str,
) -> Output {
    let mut cmd = bin();
    with_env(&mut cmd, env);
    cmd.arg("sql").arg("--snapshot").arg(example("network"));
    cmd.arg(flows);
    if let Some(port) = cluster {
        cmd.args(["--cluster", &format!("df://127.0.0.1:{port}")]);
        cmd.args(["--cluster-timeout", "120"]);
    }
    cmd.args(["--output", "jsonl", "-e", query]);
    cmd.output().unwrap()
}

#[test]
fn a_query_on_two_executors_answers_as_local_sql_and_explain() {
    let dir = tempfile::tempdir().unwrap();
    let files = split_flows(dir.path());
    let flows = dir.path().join("flows");
    let (mut cluster, port) = start_cluster(dir.path(), Vec::new());

    let query = "SELECT status, count(*) AS n FROM explained GROUP BY status ORDER BY status";
    let remote = sql(Some(port), &flows, query);
    assert_eq!(
        remote.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&remote.stderr),
        cluster.logs()
    );
    let local = sql(None, &flows, query);
    assert_eq!(local.status.code(), Some(0));
    let (remote, local) = (rows(&remote), rows(&local));
    assert!(!remote.is_empty());
    assert_eq!(remote, local);

    // explain's own summary of the same files.
    let out = bin()
        .arg("explain")
        .arg("--snapshot")
        .arg(example("network"))
        .arg(&flows)
        .args(["--output", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses = doc["summary"]["by_status"].as_object().unwrap();
    let mut total = 0;
    for r in &remote {
        let status = r["status"].as_str().unwrap();
        assert_eq!(statuses[status].as_u64(), r["n"].as_u64(), "{status}");
        total += r["n"].as_u64().unwrap();
    }
    assert_eq!(
        total,
        statuses.values().filter_map(Value::as_u64).sum::<u64>()
    );
    assert_eq!(total, 14, "every record of the example");

    // Both executors ran partitions of `explained`, and every file was read once.
    let ran = explained_partitions_run(&cluster);
    // Two text files, and the Parquet file split by row group: five partitions.
    assert_eq!(ran.len(), 5, "{ran:?}");
    for (f, parts) in files.iter().zip([1, 1, 3]) {
        let name = f.display().to_string();
        assert_eq!(
            ran.iter().filter(|l| l.contains(&name)).count(),
            parts,
            "{name}: {ran:?}"
        );
    }
    for g in 1..=3 {
        let part = format!("part-2.log.parquet row group {g}");
        assert!(ran.iter().any(|l| l.ends_with(&part)), "{part}: {ran:?}");
    }

    // The flows table and a configuration table, joined on the cluster as locally.
    let query =
        "SELECT f.line, f.interface_id, e.name FROM flows f JOIN enis e ON f.interface_id = e.id \
                 WHERE f.dstport = 22 ORDER BY f.file, f.line";
    let remote = sql(Some(port), &flows, query);
    assert_eq!(
        remote.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    let local = sql(None, &flows, query);
    assert!(!rows(&remote).is_empty());
    assert_eq!(rows(&remote), rows(&local));

    // An SQL error is DataFusion's, exit 2, as locally.
    let bad = sql(Some(port), &flows, "SELECT nope FROM explained");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("nope"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    cluster.check_alive();
}

#[test]
fn an_unreachable_scheduler_is_a_clear_error() {
    let port = free_port();
    let out = bin()
        .arg("sql")
        .arg(example("flows"))
        .args(["--cluster", &format!("df://127.0.0.1:{port}")])
        .args(["-e", "SELECT count(*) FROM flows"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot reach the scheduler"), "{err}");
}

/// An `s3://` prefix is split by object: the client lists it (as `sql` would fetch it), each
/// executor fetches only the objects of the partitions it runs, and the answer is local `sql`'s
/// over the same files. Against a local moto S3 endpoint started here.
#[test]
fn an_s3_prefix_is_split_across_the_executors_by_object() {
    use aws_sdk_s3::primitives::ByteStream;
    use aws_support::{aws_env, runtime, s3, sdk_config, Moto, ACCOUNT, REGION, TEST_KEYS};
    let moto = Moto::start();
    let env = aws_env(&moto.url, TEST_KEYS);
    let dir = tempfile::tempdir().unwrap();
    let files = split_flows(dir.path());
    let rt = runtime();
    let config = rt.block_on(sdk_config(&moto.url, ("testing", "testing")));
    let client = s3(&config);
    let prefix = format!("AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/2026/11/26");
    let mut keys = Vec::new();
    rt.block_on(async {
        client
            .create_bucket()
            .bucket("flow-logs")
            .send()
            .await
            .expect("CreateBucket");
        for (i, file) in files.iter().enumerate() {
            let ext = if i == 2 { "log.parquet" } else { "log" };
            let key = format!(
                "{prefix}/{ACCOUNT}_vpcflowlogs_{REGION}_fl-0123456789abcdef0_20261126T0{i}00Z_5e5c1f.{ext}"
            );
            client
                .put_object()
                .bucket("flow-logs")
                .key(&key)
                .body(ByteStream::from(fs::read(file).unwrap()))
                .send()
                .await
                .expect("PutObject");
            keys.push(key);
        }
        // Not a flow log: passed over when the prefix is listed.
        client
            .put_object()
            .bucket("flow-logs")
            .key(format!("AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2026/11/26/trail.json.gz"))
            .body(ByteStream::from_static(b"not a flow log"))
            .send()
            .await
            .expect("PutObject");
    });
    let (mut cluster, port) = start_cluster(dir.path(), env.clone());
    let query = "SELECT status, count(*) AS n FROM explained GROUP BY status ORDER BY status";
    let remote = sql_with(
        &env,
        Some(port),
        Path::new("s3://flow-logs/AWSLogs/"),
        query,
    );
    assert_eq!(
        remote.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&remote.stderr),
        cluster.logs()
    );
    assert!(
        String::from_utf8_lossy(&remote.stderr)
            .contains("1 object(s) that are not flow logs passed over"),
        "{}",
        String::from_utf8_lossy(&remote.stderr)
    );
    let local = sql(None, &dir.path().join("flows"), query);
    assert_eq!(local.status.code(), Some(0));
    let remote = rows(&remote);
    assert_eq!(remote, rows(&local));
    let total: u64 = remote.iter().filter_map(|r| r["n"].as_u64()).sum();
    assert_eq!(total, 14, "every record of the example");

    // One partition per object, each run once, by both executors between them.
    let ran = explained_partitions_run(&cluster);
    assert_eq!(ran.len(), 3, "{ran:?}");
    for key in &keys {
        let object = format!("s3://flow-logs/{key}");
        assert_eq!(
            ran.iter().filter(|l| l.ends_with(&object)).count(),
            1,
            "{object}: {ran:?}"
        );
    }
    cluster.check_alive();
}
