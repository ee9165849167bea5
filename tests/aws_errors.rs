//! Failures of `vpcreach collect` (and of remote flow-log inputs) say what went wrong in plain
//! words, exit 2, and leave no snapshot folder behind: an endpoint that does not answer, no
//! credentials anywhere in the chain, and credentials that lack a permission (moto enforcing
//! IAM policies).

mod aws_support;

use aws_support::*;
use predicates::prelude::*;
use std::path::Path;

/// Nothing at all was left in `dir`: no snapshot, no temporary folder.
fn assert_empty(dir: &Path) {
    let left: Vec<_> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn a_dead_endpoint_is_unreachable() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let env = aws_env(&url, TEST_KEYS);
    let dir = tempfile::tempdir().expect("tempdir");
    vpcreach(&env)
        .args(["collect", "--out"])
        .arg(dir.path().join("snap"))
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "cannot reach the AWS endpoint {url} (DescribeVpcs in us-east-1)"
        )));
    assert_empty(dir.path());
    // The same for flow logs in S3.
    let snap = tempfile::tempdir().expect("tempdir");
    std::fs::write(snap.path().join("Vpcs.json"), r#"{"Vpcs": []}"#).expect("write");
    vpcreach(&env)
        .args(["explain", "--snapshot"])
        .arg(snap.path())
        .arg("s3://flow-logs/AWSLogs/")
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot reach the AWS endpoint"));
}

#[test]
fn no_credentials_anywhere() {
    // Nothing listens here: no call may be made without credentials.
    let url = format!("http://127.0.0.1:{}", free_port());
    let env = aws_env(&url, None);
    let dir = tempfile::tempdir().expect("tempdir");
    vpcreach(&env)
        .args(["collect", "--out"])
        .arg(dir.path().join("snap"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no AWS credentials found"))
        .stderr(predicate::str::contains("run `aws configure`"))
        .stderr(predicate::str::contains("pass `--profile`"))
        // Not the chain's internals.
        .stderr(predicate::str::contains("provider").not())
        .stderr(predicate::str::contains("IMDS").not());
    assert_empty(dir.path());
    // With the instance metadata service left on (and none here), the same words.
    let on: Vec<_> = env
        .iter()
        .filter(|(k, _)| k != "AWS_EC2_METADATA_DISABLED")
        .cloned()
        .chain([
            ("AWS_EC2_METADATA_DISABLED".to_string(), None),
            (
                "AWS_EC2_METADATA_SERVICE_ENDPOINT".to_string(),
                Some(format!("http://127.0.0.1:{}", free_port())),
            ),
        ])
        .collect();
    vpcreach(&on)
        .args(["collect", "--out"])
        .arg(dir.path().join("snap"))
        .timeout(std::time::Duration::from_secs(120))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no AWS credentials found"))
        .stderr(predicate::str::contains("IMDS").not());
    assert_empty(dir.path());
    vpcreach(&env)
        .args([
            "query", "--live", "--from", "10.0.0.1", "--to", "10.0.0.2", "--port", "22",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no AWS credentials found"));
    // A profile that does not exist is named.
    vpcreach(&env)
        .args(["collect", "--profile", "nosuch", "--out"])
        .arg(dir.path().join("snap"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nosuch"));
    assert_empty(dir.path());
}

#[test]
fn keys_are_never_taken_on_the_command_line() {
    let env = aws_env("http://127.0.0.1:9", TEST_KEYS);
    for flag in [
        "--access-key-id",
        "--secret-access-key",
        "--aws-secret-access-key",
    ] {
        vpcreach(&env)
            .args(["collect", flag, "x", "--out", "/nonexistent"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("unexpected argument"));
    }
}

#[test]
fn a_missing_permission_is_named() {
    // moto enforces IAM policies after the first three actions (the seeding below).
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]);
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ec2:DescribeVpcs"],"Resource":"*"}]}"#;
    let (id, secret) = user_with_policy(&moto.url, "vpcs-only", policy);
    let env = aws_env(&moto.url, Some((&id, &secret)));
    let dir = tempfile::tempdir().expect("tempdir");
    vpcreach(&env)
        .args(["collect", "--out"])
        .arg(dir.path().join("snap"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "access denied: DescribeSubnets in us-east-1 needs the IAM permission `ec2:DescribeSubnets`",
        ));
    assert_empty(dir.path());
    let snap = tempfile::tempdir().expect("tempdir");
    std::fs::write(snap.path().join("Vpcs.json"), r#"{"Vpcs": []}"#).expect("write");
    // (moto checks S3 signatures with IAM enforced and refuses the SDK's, so S3's access-denied
    // answer is covered by the unit tests of the error mapping instead.)
    vpcreach(&env)
        .args(["explain", "--snapshot"])
        .arg(snap.path())
        .arg("cloudwatch://flows")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`logs:FilterLogEvents`"));
}

/// The actions of `examples/iam-policy.json`.
fn policy_actions() -> Vec<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/iam-policy.json"
    ))
    .expect("examples/iam-policy.json");
    let policy: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut actions = Vec::new();
    for statement in policy["Statement"].as_array().expect("statements") {
        assert_eq!(statement["Effect"], "Allow");
        match &statement["Action"] {
            serde_json::Value::String(a) => actions.push(a.clone()),
            serde_json::Value::Array(list) => {
                actions.extend(list.iter().filter_map(|a| a.as_str().map(str::to_string)))
            }
            other => panic!("unexpected Action {other}"),
        }
    }
    actions
}

#[test]
fn the_example_policy_is_read_only_and_names_every_call() {
    let actions = policy_actions();
    for action in &actions {
        let (_, name) = action.split_once(':').expect("service:Action");
        assert!(
            ["Describe", "Get", "List", "Search", "Filter", "Lookup"]
                .iter()
                .any(|p| name.starts_with(p))
                || action == "sts:AssumeRole",
            "`{action}` is not read-only"
        );
    }
    let mut needed: Vec<String> = vpcreach::aws::CALLS
        .iter()
        .map(|c| format!("ec2:{c}"))
        .collect();
    needed.extend(
        [
            "ec2:DescribeRegions",
            "ec2:GetManagedPrefixListEntries",
            "ec2:SearchTransitGatewayRoutes",
            "s3:ListBucket",
            "s3:GetObject",
            "logs:FilterLogEvents",
            "cloudtrail:LookupEvents",
            "sts:AssumeRole",
        ]
        .map(str::to_string),
    );
    needed.extend(vpcreach::aws::ELB_PERMISSIONS.iter().map(|p| p.to_string()));
    for action in &needed {
        assert!(
            actions.contains(action),
            "the example policy lacks `{action}`"
        );
    }
    assert_eq!(actions.len(), needed.len(), "{actions:?}");
}

#[test]
fn the_example_policy_is_enough() {
    // IAM is enforced after the user is made (3 calls) and the log group seeded (3 calls).
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "6")]);
    let group = "flows";
    // moto checks actions against resource `*` for CloudWatch Logs (it derives no log-group
    // ARN), so the log-group statement is widened to `*` here; the actions stay the policy's.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/iam-policy.json"
    ))
    .expect("examples/iam-policy.json");
    let mut policy: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    for statement in policy["Statement"].as_array_mut().expect("statements") {
        if statement["Action"] == "logs:FilterLogEvents" {
            statement["Resource"] = serde_json::Value::String("*".into());
        }
    }
    let policy = policy.to_string();
    let (id, secret) = user_with_policy(&moto.url, "vpcreach", &policy);
    let rt = runtime();
    rt.block_on(async {
        let config = sdk_config(&moto.url, ("testing", "testing")).await;
        let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
        logs.create_log_group()
            .log_group_name(group)
            .send()
            .await
            .expect("CreateLogGroup");
        logs.create_log_stream()
            .log_group_name(group)
            .log_stream_name("eni-1-all")
            .send()
            .await
            .expect("CreateLogStream");
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64;
        logs.put_log_events()
            .log_group_name(group)
            .log_stream_name("eni-1-all")
            .log_events(
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(now_ms - 60_000)
                    .message("2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK")
                    .build()
                    .expect("event"),
            )
            .send()
            .await
            .expect("PutLogEvents");
    });
    let env = aws_env(&moto.url, Some((&id, &secret)));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("snap");
    vpcreach(&env)
        .args([
            "collect",
            "--quiet",
            "--region",
            "us-east-1",
            "--region",
            "eu-west-1",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(0);
    assert!(out.join("us-east-1").join("Vpcs.json").is_file());
    assert!(out.join("eu-west-1").join("Vpcs.json").is_file());
    vpcreach(&env)
        .args(["explain", "--snapshot"])
        .arg(&out)
        .arg(format!("cloudwatch://{group}"))
        .assert()
        .stderr(predicate::str::contains("fetched 1 file(s)"));
}

#[test]
fn the_profile_asked_for_wins_over_keys_in_the_environment() {
    // moto enforces IAM after the seeding below: unknown keys are rejected.
    let moto = Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "3")]);
    // The example policy: whatever `collect` calls, it allows.
    let policy = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/iam-policy.json"
    ))
    .expect("examples/iam-policy.json");
    let (id, secret) = user_with_policy(&moto.url, "reader", &policy);
    let home = tempfile::tempdir().expect("tempdir");
    let credentials = home.path().join("credentials");
    std::fs::write(
        &credentials,
        format!("[reader]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"),
    )
    .expect("write");
    // Keys that moto does not know are in the environment.
    let mut env = aws_env(&moto.url, Some(("AKIAUNKNOWNKEY000000", "not-a-secret")));
    env.push((
        "AWS_SHARED_CREDENTIALS_FILE".into(),
        Some(credentials.display().to_string()),
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    // Without `--profile` the environment's keys are used, and rejected.
    vpcreach(&env)
        .args(["collect", "--out"])
        .arg(dir.path().join("a"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("rejected the credentials"));
    // With it, the profile's keys are used, as the AWS CLI does.
    vpcreach(&env)
        .args(["collect", "--profile", "reader", "--out"])
        .arg(dir.path().join("b"))
        .assert()
        .code(0);
    assert!(dir.path().join("b").is_dir());
}
