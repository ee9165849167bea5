//! `vpcreach explain` reading flow logs where AWS delivers them, from a local AWS-compatible
//! endpoint (moto) through the real SDK: gzipped objects of an S3 bucket in the
//! `AWSLogs/<account>/vpcflowlogs/<region>/yyyy/mm/dd/` layout, and the streams of a CloudWatch
//! Logs group, give the same explanations as the same records in local files.
//!
//! One test, run in sections, because it sets this process's environment for the library calls.

mod aws_support;
mod parquet_support;

use aws_sdk_s3::primitives::ByteStream;
use aws_support::*;
use std::path::Path;
use std::sync::Arc;
use vpcreach::aws::{fetch, parse_location, AwsOptions, NoProgress, TimeArg, Window};

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

/// `(day folder, records)` of two days of flow logs.
fn days(net: &Seeded) -> Vec<(&'static str, Vec<String>)> {
    let (db, app) = (&net.eni_db, &net.eni_app);
    let day1 = 1_714_521_600; // 2024-05-01
    let day2 = day1 + 86_400;
    vec![
        (
            "2024/05/01",
            vec![
                format!(
                    "2 {ACCOUNT} {db} 10.0.1.10 10.0.2.20 40000 5432 6 10 840 {day1} {} ACCEPT OK",
                    day1 + 60
                ),
                format!(
                    "2 {ACCOUNT} {db} 10.0.1.10 10.0.2.20 40001 22 6 3 180 {day1} {} REJECT OK",
                    day1 + 60
                ),
                format!(
                    "2 {ACCOUNT} {app} 10.0.1.10 10.0.2.20 40000 5432 6 10 840 {day1} {} ACCEPT OK",
                    day1 + 60
                ),
            ],
        ),
        (
            "2024/05/02",
            vec![
                format!(
                    "2 {ACCOUNT} {db} 10.0.1.10 10.0.2.20 40002 3306 6 2 120 {day2} {} REJECT OK",
                    day2 + 60
                ),
                // The NACL denies this: a contradiction, so explain exits 1.
                format!(
                    "2 {ACCOUNT} {db} 10.0.1.10 10.0.2.20 40003 22 6 2 120 {day2} {} ACCEPT OK",
                    day2 + 60
                ),
                "2 not a record".to_string(),
            ],
        ),
    ]
}

/// Runs `explain --output jsonl` and returns (exit code, records with `file` cut to what
/// follows `cut`).
fn explain(
    env: &[(String, Option<String>)],
    snapshot: &Path,
    input: &str,
    cut: fn(&str) -> String,
) -> (i32, Vec<serde_json::Value>) {
    let out = vpcreach(env)
        .args(["explain", "--snapshot"])
        .arg(snapshot)
        // Every status, malformed lines included: they are printed on stdout only when asked
        // for (issue 12, item 11).
        .args([
            "--output",
            "jsonl",
            "--only",
            "consistent,contradiction,unknown,skipped,malformed",
            input,
        ])
        .output()
        .expect("run vpcreach explain");
    let code = out.status.code().unwrap_or(-1);
    // 2 when an input has no valid record (issue 12, item 9), and records are still printed.
    assert!(
        (0..=2).contains(&code),
        "explain {input} failed ({code}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            let file = v["file"].as_str().unwrap_or_default().to_string();
            v["file"] = serde_json::Value::String(cut(&file));
            if let Some(message) = v["message"].as_str() {
                // A malformed line's message names the file too.
                v["message"] = serde_json::Value::String(message.replace(&file, &cut(&file)));
            }
            v
        })
        .collect();
    (code, records)
}

fn after_awslogs(file: &str) -> String {
    file.split_once("AWSLogs/")
        .map(|(_, rest)| rest.to_string())
        .unwrap_or_else(|| file.to_string())
}

/// A stream's name (`cloudwatch://group/a-all` is shown under the stream name) or a local
/// file's name without `.log`, so the two compare.
fn base_name(file: &str) -> String {
    let name = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    name.strip_suffix(".log")
        .map(str::to_string)
        .unwrap_or(name)
}

#[test]
fn explain_reads_flow_logs_from_s3_and_cloudwatch() {
    let moto = Moto::start();
    let env = aws_env(&moto.url, TEST_KEYS);
    set_process_env(&env);
    let rt = runtime();
    let config = rt.block_on(sdk_config(&moto.url, ("testing", "testing")));
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let net = rt.block_on(seed_network(&ec2));
    let work = tempfile::tempdir().expect("tempdir");
    let snapshot = work.path().join("snap");
    vpcreach(&env)
        .args(["collect", "--quiet", "--out"])
        .arg(&snapshot)
        .assert()
        .code(0);

    // The same objects in a local folder and in a bucket, in AWS's key layout.
    let local = work.path().join("local");
    let s3 = s3(&config);
    let bucket = "flow-logs";
    let prefix = format!("AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}");
    rt.block_on(async {
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .expect("CreateBucket");
        for (day, records) in days(&net) {
            let stamp = day.replace('/', "");
            let key = format!(
                "{prefix}/{day}/{ACCOUNT}_vpcflowlogs_{REGION}_fl-0123456789abcdef0_{stamp}T0000Z_5e5c1f.log.gz"
            );
            let body = gzip(&format!("{HEADER}\n{}\n", records.join("\n")));
            let path = local.join(&key);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, &body).expect("write");
            s3.put_object()
                .bucket(bucket)
                .key(&key)
                .body(ByteStream::from(body))
                .send()
                .await
                .expect("PutObject");
        }
        // Passed over: another service's logs.
        s3.put_object()
            .bucket(bucket)
            .key(format!("AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2024/05/01/trail.json.gz"))
            .body(ByteStream::from_static(b"not a flow log"))
            .send()
            .await
            .expect("PutObject");
        // A Parquet flow log (issue 17), in the Hive-compatible layout: the first day's records
        // again, read as the text ones are.
        let (_, first) = days(&net).into_iter().next().expect("a day");
        let key = format!(
            "AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/aws-region={REGION}/year=2024/month=05/day=03/{ACCOUNT}_vpcflowlogs_{REGION}_fl-0123456789abcdef0_20240503T0000Z_5e5c1f.log.parquet"
        );
        let path = local.join(&key);
        parquet_support::write_text_as_parquet(
            &format!("{HEADER}\n{}\n", first.join("\n")),
            &path,
            parquet::basic::Compression::GZIP(Default::default()),
            2,
        );
        s3.put_object()
            .bucket(bucket)
            .key(&key)
            .body(ByteStream::from(std::fs::read(&path).expect("parquet")))
            .send()
            .await
            .expect("PutObject");
    });

    let (code_local, local_records) =
        explain(&env, &snapshot, &local.to_string_lossy(), after_awslogs);
    let (code_s3, s3_records) = explain(&env, &snapshot, "s3://flow-logs/AWSLogs/", after_awslogs);
    assert_eq!(local_records.len(), 9, "{local_records:#?}");
    assert_eq!(s3_records, local_records);
    assert_eq!((code_s3, code_local), (1, 1));
    assert!(
        s3_records.iter().any(|r| r["status"] == "contradiction"),
        "{s3_records:#?}"
    );

    // Objects chosen by the date in their key (listed day by day below the region).
    let one_day = Window::new(
        Some("2024-05-02".parse::<TimeArg>().expect("date")),
        Some(
            "2024-05-02T23:59:59Z"
                .parse::<TimeArg>()
                .expect("date-time"),
        ),
    );
    for location in [
        format!("s3://{bucket}/{prefix}/"),
        format!("s3://{bucket}/AWSLogs/"),
    ] {
        let location = parse_location(&location).expect("remote").expect("valid");
        let scratch = tempfile::tempdir().expect("tempdir");
        let fetched = fetch(
            &location,
            &one_day,
            &AwsOptions::default(),
            scratch.path(),
            Arc::new(NoProgress),
        )
        .expect("fetch one day");
        assert_eq!(fetched.files.len(), 1, "{location}: {:?}", fetched.names);
        assert!(
            fetched.names[0].contains("/2024/05/02/"),
            "{:?}",
            fetched.names
        );
        // Streamed to disk byte for byte.
        let local_twin = local.join(fetched.names[0].trim_start_matches("s3://flow-logs/"));
        assert_eq!(
            std::fs::read(&fetched.files[0]).expect("fetched file"),
            std::fs::read(local_twin).expect("local file")
        );
    }
    let empty = Window::new(
        Some("2023-01-01".parse().expect("date")),
        Some("2023-01-02".parse().expect("date")),
    );
    let location = parse_location("s3://flow-logs/AWSLogs/")
        .expect("remote")
        .expect("valid");
    let scratch = tempfile::tempdir().expect("tempdir");
    let err = fetch(
        &location,
        &empty,
        &AwsOptions::default(),
        scratch.path(),
        Arc::new(NoProgress),
    )
    .expect_err("nothing in 2023");
    assert!(err.to_string().contains("nothing to read"), "{err}");

    // Listing a prefix chooses the objects fetching it does (what splits a prefix over a
    // cluster's executors); a URL that names an object reads that object alone, even when
    // another key starts with it.
    let all = Window::new(None, None);
    let scratch = tempfile::tempdir().expect("tempdir");
    let whole = fetch(
        &location,
        &all,
        &AwsOptions::default(),
        scratch.path(),
        Arc::new(NoProgress),
    )
    .expect("fetch the prefix");
    let (listed, notes) =
        vpcreach::aws::list_s3_objects(&location, &all, &AwsOptions::default()).expect("list");
    assert_eq!(listed, whole.names);
    assert_eq!(notes, whole.notes);
    assert_eq!(listed.len(), 3, "{listed:?}");
    let named = listed[0].clone();
    let longer = format!("{}.gz", named.trim_start_matches("s3://flow-logs/"));
    rt.block_on(async {
        s3.put_object()
            .bucket(bucket)
            .key(&longer)
            .body(ByteStream::from(gzip("")))
            .send()
            .await
            .expect("PutObject");
    });
    let object = parse_location(&named).expect("remote").expect("valid");
    let scratch = tempfile::tempdir().expect("tempdir");
    let one = fetch(
        &object,
        &all,
        &AwsOptions::default(),
        scratch.path(),
        Arc::new(NoProgress),
    )
    .expect("fetch one object");
    assert_eq!(one.names, std::slice::from_ref(&named));
    let (listed, _) =
        vpcreach::aws::list_s3_objects(&object, &all, &AwsOptions::default()).expect("list");
    assert_eq!(listed, [named]);

    // CloudWatch Logs: one stream per ENI, records without a header line.
    let cw_local = work.path().join("cloudwatch");
    std::fs::create_dir_all(&cw_local).expect("mkdir");
    let group = "/vpc/flow-logs";
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    rt.block_on(async {
        logs.create_log_group()
            .log_group_name(group)
            .send()
            .await
            .expect("CreateLogGroup");
        let mut streams: Vec<(String, Vec<String>)> = Vec::new();
        for (_, records) in days(&net) {
            for r in records {
                let eni = r.split(' ').nth(2).unwrap_or("eni-unknown").to_string();
                let stream = format!("{eni}-all");
                match streams.iter_mut().find(|(s, _)| *s == stream) {
                    Some((_, lines)) => lines.push(r),
                    None => streams.push((stream, vec![r])),
                }
            }
        }
        for (stream, lines) in &streams {
            std::fs::write(
                cw_local.join(format!("{stream}.log")),
                format!("{}\n", lines.join("\n")),
            )
            .expect("write");
            logs.create_log_stream()
                .log_group_name(group)
                .log_stream_name(stream)
                .send()
                .await
                .expect("CreateLogStream");
            // Recent times: older events are refused, as AWS refuses them.
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("clock")
                .as_millis() as i64;
            let mut put = logs
                .put_log_events()
                .log_group_name(group)
                .log_stream_name(stream);
            for (i, line) in lines.iter().enumerate() {
                put = put.log_events(
                    aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                        .timestamp(now_ms - 3_600_000 + i as i64 * 1000)
                        .message(line)
                        .build()
                        .expect("event"),
                );
            }
            put.send().await.expect("PutLogEvents");
        }
    });
    let (code_local, local_records) =
        explain(&env, &snapshot, &cw_local.to_string_lossy(), base_name);
    let (code_cw, cw_records) =
        explain(&env, &snapshot, &format!("cloudwatch://{group}"), base_name);
    assert_eq!(local_records.len(), 6, "{local_records:#?}");
    assert_eq!(cw_records, local_records);
    // The stream that holds only the malformed line has no valid record: an error, named, and
    // the other streams are still explained (issue 12, item 9).
    assert_eq!((code_cw, code_local), (2, 2));

    // Events chosen by their time (three streams: the malformed line has its own).
    let location = parse_location(&format!("cloudwatch://{group}"))
        .expect("remote")
        .expect("valid");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let scratch = tempfile::tempdir().expect("tempdir");
    let recent = Window {
        since: Some(now - 7200),
        until: None,
    };
    let fetched = fetch(
        &location,
        &recent,
        &AwsOptions::default(),
        scratch.path(),
        Arc::new(NoProgress),
    )
    .expect("fetch the last two hours");
    assert_eq!(
        (fetched.files.len(), fetched.events),
        (3, 6),
        "{:?}",
        fetched.names
    );
    let err = fetch(
        &location,
        &empty,
        &AwsOptions::default(),
        scratch.path(),
        Arc::new(NoProgress),
    )
    .expect_err("nothing in 2023");
    assert!(err.to_string().contains("nothing to read"), "{err}");

    // A missing bucket or group is a plain error, exit 2.
    vpcreach(&env)
        .args(["explain", "--snapshot"])
        .arg(&snapshot)
        .arg("cloudwatch://no-such-group")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("FilterLogEvents"));
    vpcreach(&env)
        .args(["explain", "--snapshot"])
        .arg(&snapshot)
        .arg("s3://no-such-bucket/x")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("NoSuchBucket"));
}
