//! The snapshot loader: any bytes as a `describe-*` JSON file, loaded from a folder as
//! `--snapshot` does, and built into a network model. No panic: an error or a model.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let region = dir.path().join("us-east-1");
    std::fs::create_dir(&region).unwrap();
    std::fs::write(region.join("a.json"), data).unwrap();
    if let Ok(snap) = vpcreach::Snapshot::load(dir.path()) {
        let net = vpcreach::Network::build(&snap);
        let _ = net.problems.len();
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(snap) = vpcreach::Snapshot::from_json_str(text) {
            let _ = vpcreach::Network::build(&snap);
        }
    }
});
