//! A build without the `aws` cargo feature (`cargo test --no-default-features`, which CI runs):
//! every command on saved snapshots and local flow logs works, and each use of live AWS access
//! (`collect`, `--live`, `s3://` and `cloudwatch://` flow logs, `s3://` and `cloudtrail://`
//! history) is refused with a message that
//! says why, exit 2, before anything is read.
#![cfg(not(feature = "aws"))]

use assert_cmd::Command;
use predicates::prelude::*;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/network");

fn vpcreach() -> Command {
    let mut cmd = Command::cargo_bin("vpcreach").expect("binary");
    // No AWS configuration of the machine may change what these runs do.
    cmd.env_remove("AWS_PROFILE").env_remove("AWS_REGION");
    cmd
}

#[test]
fn saved_snapshots_still_answer() {
    vpcreach()
        .args([
            "query",
            "--snapshot",
            EXAMPLE,
            "--from",
            "i-0506fe9697179334a",
            "--to",
            "i-0490966ced8ad8194",
            "--port",
            "5432",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("verdict: REACHABLE"));
}

#[test]
fn live_access_is_refused_with_the_reason() {
    let without_aws = || {
        predicate::str::contains("built without AWS access")
            .and(predicate::str::contains("`aws` cargo feature"))
    };
    vpcreach()
        .args(["collect", "--out"])
        .arg(tempfile::tempdir().expect("temp dir").path().join("snap"))
        .assert()
        .code(2)
        .stderr(without_aws());
    vpcreach()
        .args([
            "query", "--live", "--from", "10.0.0.1", "--to", "10.0.0.2", "--port", "22",
        ])
        .assert()
        .code(2)
        .stderr(without_aws().and(predicate::str::contains("`--live`")));
    for remote in [
        "s3://vpcreach-test-bucket/AWSLogs/",
        "cloudwatch://flow-logs",
    ] {
        vpcreach()
            .args(["explain", "--snapshot", EXAMPLE, remote])
            .assert()
            .code(2)
            .stderr(without_aws().and(predicate::str::contains(remote)));
    }
    for remote in [
        "s3://vpcreach-test-bucket/AWSLogs/",
        "cloudtrail://us-east-1",
    ] {
        vpcreach()
            .args([
                "changes",
                "--snapshot",
                EXAMPLE,
                "--snapshot-time",
                "2026-11-27T09:00:00Z",
                "--history",
                remote,
            ])
            .assert()
            .code(2)
            .stderr(without_aws().and(predicate::str::contains(remote)));
    }
}
