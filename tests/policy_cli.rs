//! `vpcreach policy check` through the built binary: every mistake at once with file, line,
//! column, the line underlined and the help; AWS ids checked against a snapshot; exit codes.

use assert_cmd::Command;
use predicates::prelude::*;
use std::path::Path;

fn check(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("vpcreach").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["policy", "check"])
        .args(args)
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn the_shipped_policies_are_sound() {
    check(&["policies"])
        .assert()
        .code(0)
        .stdout("ok: 1 file(s), 21 statement(s), 0 group(s)\n");
    check(&["policies/baseline.toml", "--snapshot", "examples/network"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "ids checked against `examples/network`",
        ));
}

#[test]
fn every_mistake_is_shown_with_its_line_underlined() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("web.toml");
    std::fs::write(
        &file,
        "[groups.web]\ntags = \"Tier=web\"\n\n[[statement]]\nid = \"web-in\"\ndescription = \"d\"\nseverity = \"hihg\"\nkind = \"allow\"\nfrom = \"internet\"\nto = \"wbe\"\ntraffic = \"tcp/80-22\"\n",
    )
    .unwrap();
    let expected = format!(
        "{f}:7:12: error: `severity` expects `low`, `medium`, `high` or `critical`, found `hihg`
  |
7 | severity = \"hihg\"
  |            ^^^^^^
  = help: did you mean `high`?
{f}:10:6: error: unknown group `wbe`
   |
10 | to = \"wbe\"
   |      ^^^^^
   = help: did you mean `web`?
{f}:11:11: error: `tcp/80-22`: the port range is reversed
   |
11 | traffic = \"tcp/80-22\"
   |           ^^^^^^^^^^^
   = help: did you mean `tcp/22-80`?
3 error(s) in 1 file(s)
",
        f = file.display()
    );
    check(&[dir.path().to_str().unwrap()])
        .assert()
        .code(2)
        .stdout("")
        .stderr(expected);
}

#[test]
fn ids_not_in_the_snapshot_get_a_did_you_mean() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ids.toml");
    std::fs::write(
        &file,
        "[groups.bastion]\ninstances = \"i-09c59af6d96b75e38\"\nsecurity_groups = [\"bastoin\", \"sg-01289891592a53786\"]\nsubnets = \"subnet-0159ec2fddce7b80c\"\nvpcs = \"vpc-0bf0174f4733eeaf9\"\n",
    )
    .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = check(&[
        file.to_str().unwrap(),
        "--snapshot",
        root.join("examples/network").to_str().unwrap(),
    ])
    .assert()
    .code(2)
    .get_output()
    .stderr
    .clone();
    let err = String::from_utf8_lossy(&out);
    let f = file.display();
    assert!(
        err.contains(&format!(
            "{f}:2:13: error: `i-09c59af6d96b75e38` is not in the snapshot"
        )),
        "{err}"
    );
    assert!(
        err.contains("help: did you mean `i-09c59af6d96b75e39`?"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{f}:3:20: error: no security group named `bastoin` in the snapshot"
        )),
        "{err}"
    );
    assert!(err.contains("help: did you mean `bastion`?"), "{err}");
    assert!(
        err.contains(&format!(
            "{f}:5:8: error: `vpc-0bf0174f4733eeaf9` is not in the snapshot"
        )),
        "{err}"
    );
    assert!(err.ends_with("3 error(s) in 1 file(s)\n"), "{err}");
    // Without a snapshot the same file is sound.
    check(&[file.to_str().unwrap()]).assert().code(0);
}

#[test]
fn unreadable_inputs_are_errors() {
    check(&["/nonexistent/policies"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/nonexistent/policies: error: no such file or folder",
        ));
    let empty = tempfile::tempdir().unwrap();
    check(&[empty.path().to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no `.toml` policy file in this folder",
        ));
}

#[test]
fn mistakes_and_unknown_ids_are_reported_together() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.toml");
    std::fs::write(
        &file,
        "mode = \"allowlst\"\n[groups.db]\nenis = \"eni-0f109688cd9dec984\"\n",
    )
    .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = check(&[
        file.to_str().unwrap(),
        "--snapshot",
        root.join("examples/network").to_str().unwrap(),
    ])
    .assert()
    .code(2)
    .get_output()
    .stderr
    .clone();
    let err = String::from_utf8_lossy(&out);
    let f = file.display();
    assert!(
        err.contains(&format!("{f}:1:8: error: `mode` expects")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{f}:3:8: error: `eni-0f109688cd9dec984` is not in the snapshot"
        )),
        "{err}"
    );
    assert!(
        err.contains("did you mean `eni-0f109688cd9dec985`?"),
        "{err}"
    );
    assert!(err.ends_with("2 error(s) in 1 file(s)\n"), "{err}");
}
