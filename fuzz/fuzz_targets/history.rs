//! The history reader: any bytes as a history file (a CloudTrail file `{"Records": [...]}`, an
//! EventBridge event, a JSON array or lines of them, an AWS Config history or snapshot file or
//! `get-resource-config-history` output), plain or as a `.json.gz`, read as `--history` does,
//! and the changes read undone from and applied to the example network. No panic, and the counts
//! add up (records = applied + duplicates + failed + not changes + passed by + malformed).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeSet;
use std::sync::OnceLock;
use vpcreach::history::{self, History, Stats};
use vpcreach::Snapshot;

fn adds_up(s: &Stats) -> bool {
    s.records == s.applied + s.duplicates + s.failed + s.not_changes + s.passed_by + s.malformed
}

/// The example network, loaded once: changes that name its resources are undone against it.
fn network() -> &'static Snapshot {
    static SNAP: OnceLock<Snapshot> = OnceLock::new();
    SNAP.get_or_init(|| {
        Snapshot::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/network"))
            .unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&choice, data)) = data.split_first() else {
        return;
    };
    // The file as given (a `.json.gz` that is not gzip is a problem, not a panic), in a folder
    // as `--history DIR` reads it.
    let dir = tempfile::tempdir().unwrap();
    let name = if choice & 1 == 1 { "t.json.gz" } else { "t.json" };
    let day = dir.path().join("AWSLogs/1/CloudTrail/us-east-1/2024/01/01");
    std::fs::create_dir_all(&day).unwrap();
    std::fs::write(day.join(name), data).unwrap();
    let h = history::read(&[dir.path().to_path_buf()]).unwrap();
    assert!(adds_up(&h.stats), "{:?}", h.stats);
    assert!(h.stats.applied == h.events.len());
    assert!(h.events.windows(2).all(|w| w[0].time <= w[1].time));

    // The bytes read whole (the path a file that is not `{"Records": [...]}` takes): the same
    // counts when the streamed reading kept every record.
    let mut whole = History::default();
    history::read_bytes(data, "t.json", &mut whole, &mut BTreeSet::new());
    assert!(adds_up(&whole.stats), "{:?}", whole.stats);
    if choice & 1 == 0 && h.problems.is_empty() && whole.problems.is_empty() {
        assert_eq!(h.stats, whole.stats);
    }

    // Undone back to before the first change, then applied forward: no panic.
    let snap = network();
    let back = history::at(snap, &h.events, i64::MAX, i64::MIN);
    let mut state = back.snapshot;
    for e in &h.events {
        let _ = history::apply(&mut state, e);
    }
    let _ = vpcreach::Network::build(&state);
    if h.events.len() <= 4 {
        let _ = history::effects(snap, &h.events, i64::MAX, None, None);
    }
});
