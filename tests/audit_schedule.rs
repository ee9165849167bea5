//! The scheduled-job examples under `examples/schedule/`: the nightly script run twice against
//! the example network (with `vpcreach collect` stood in by a copy of the snapshot, as there is
//! no AWS account here), and the example suppressions file.

use assert_cmd::cargo::cargo_bin;
use std::path::Path;
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[cfg(unix)]
#[test]
fn the_nightly_script_fails_once_per_new_finding_and_rolls_its_baseline() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // `vpcreach collect --out DIR` copies the example network; everything else is the real binary.
    let shim = format!(
        "#!/usr/bin/env bash\nset -e\nif [ \"$1\" = collect ]; then\n  while [ \"$#\" -gt 0 ]; do [ \"$1\" = --out ] && out=$2; shift; done\n  mkdir -p \"$out\" && cp {net}/*.json \"$out\"/\n  exit 0\nfi\nexec {real} \"$@\"\n",
        net = root().join("examples/network").display(),
        real = cargo_bin("vpcreach").display()
    );
    let shim_path = bin.join("vpcreach");
    std::fs::write(&shim_path, shim).unwrap();
    std::fs::set_permissions(&shim_path, std::fs::Permissions::from_mode(0o755)).unwrap();

    let state = tmp.path().join("state");
    let run = || {
        Command::new("bash")
            .arg(root().join("examples/schedule/vpcreach-audit.sh"))
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("VPCREACH_STATE", &state)
            .env("VPCREACH_POLICIES", root().join("policies"))
            .env("VPCREACH_SUPPRESSIONS", tmp.path().join("none.toml"))
            .env("VPCREACH_FAIL_ON", "low")
            .output()
            .unwrap()
    };
    let first = run();
    let stderr = String::from_utf8_lossy(&first.stderr);
    // The example network has findings: the first run fails on them.
    assert_eq!(first.status.code(), Some(1), "{stderr}");
    let reports: Vec<_> = std::fs::read_dir(state.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(reports.len(), 3, "{reports:?}");
    assert!(reports.iter().any(|r| r.ends_with(".json")));
    assert!(reports.iter().any(|r| r.ends_with(".md")));
    assert!(reports.iter().any(|r| r.ends_with(".sarif")));
    let baseline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("baseline.json")).unwrap())
            .unwrap();
    assert!(!baseline["findings"].as_array().unwrap().is_empty());

    // Nothing changed since: the same findings are `unchanged` and the run passes.
    let second = run();
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(state.join("baseline.json")).unwrap())
            .unwrap();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["baseline"] == "unchanged"));
}

#[test]
fn the_example_suppressions_file_is_valid() {
    let path = root().join("examples/schedule/suppressions.toml");
    let s = vpcreach::audit::report::Suppressions::load(&path).unwrap();
    assert_eq!(s.entries.len(), 2);
    assert!(s.entries.iter().all(|e| !e.reason.is_empty()));
    // On the example network, the bastion's SSH exposure is suppressed by its instance id.
    let out = Command::new(cargo_bin("vpcreach"))
        .current_dir(root())
        .args([
            "audit",
            "--snapshot",
            "examples/network",
            "--policies",
            "policies",
            "--output",
            "json",
            "--suppressions",
        ])
        .arg(&path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ssh: Vec<&serde_json::Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["check"] == "cis-5.2-ssh-from-internet"
                && f["enis"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|x| x == "eni-0de1a09baeda39360"))
        })
        .collect();
    assert!(!ssh.is_empty(), "the example bastion's SSH exposure");
    for f in ssh {
        assert_eq!(
            f["suppressed"]["reason"],
            "bastion host; SSH only from the office prefix list, reviewed in SEC-1234"
        );
    }
}
