//! The shipped baseline policy on the example network, through the built binary: its findings
//! are checked against a reviewed snapshot (`tests/fixtures/audit/example-baseline.json`), exit
//! code included. `VPCREACH_UPDATE_SNAPSHOTS=1` rewrites the file after a deliberate change;
//! review the diff before committing it.

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::Path;

#[test]
fn baseline_policy_on_the_example_network() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("vpcreach")
        .unwrap()
        .args(["audit", "--output", "json", "--snapshot"])
        .arg(root.join("examples/network"))
        .arg("--policies")
        .arg(root.join("policies"))
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc: Value = serde_json::from_slice(&out).unwrap();
    // The parts of each finding that must not change by accident (messages may be reworded).
    let findings: Vec<Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            json!({
                "id": f["id"], "check": f["check"], "severity": f["severity"], "status": f["status"],
                "resources": f["resources"], "enis": f["enis"], "witness": f["witness"],
            })
        })
        .collect();
    let actual = serde_json::to_string_pretty(&findings).unwrap() + "\n";
    let file = root.join("tests/fixtures/audit/example-baseline.json");
    if std::env::var_os("VPCREACH_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&file, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&file).unwrap();
    assert_eq!(actual, expected, "findings changed; see {}", file.display());
}
