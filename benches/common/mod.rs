//! What more than one benchmark runs.

use std::ops::ControlFlow;
use std::path::Path;
use vpcreach::flow_log::{run_ordered, ChunkReader, Counts, Scanned, Scanner};

/// The fast pass `explain` makes over a flow-log file (the fields it reads, no full record,
/// nothing evaluated), on `threads` threads (0: every core); what it read.
pub fn scan(path: &Path, threads: usize) -> Counts {
    let mut counts = Counts::default();
    let reader = ChunkReader::new(vec![path.to_path_buf()], None);
    let flow = run_ordered(
        reader,
        threads,
        |chunk| {
            let chunk = chunk.expect("reading the test file");
            let mut ports = 0u64;
            let counts = Scanner::new(&chunk).scan(|s, _| {
                if let Scanned::Record(r) = s {
                    ports += u64::from(r.dstport.unwrap_or(0));
                }
            });
            (counts, ports)
        },
        |(c, _)| {
            counts += c;
            ControlFlow::Continue(())
        },
    );
    assert_eq!(flow.expect("scanning"), ControlFlow::Continue(()));
    counts
}
