//! Static audit benchmark: the shipped baseline policy (`policies/baseline.toml`) on generated
//! networks of 1,000 and 10,000 ENIs at AWS-quota shape.
//!
//! `cargo bench --bench audit` — prints load + build time and audit time per size.

use std::path::Path;
use std::time::Instant;
use vpcreach::audit::analysis::static_audit;
use vpcreach::policy::PolicySet;
use vpcreach::testkit::synth::{write_snapshot, SynthSpec};
use vpcreach::{Network, Snapshot};

fn main() {
    let policies = PolicySet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("policies"))
        .expect("the shipped policies load");
    let statements: usize = policies.files.iter().map(|f| f.statements.len()).sum();
    println!("static audit: baseline policy ({statements} statements)");
    for enis in [1_000, 10_000] {
        let dir = tempfile::tempdir().expect("temp dir");
        write_snapshot(&SynthSpec::quota(enis), dir.path()).expect("snapshot");
        let t0 = Instant::now();
        let net = Network::build(&Snapshot::load(dir.path()).expect("load"));
        let t1 = Instant::now();
        let result = static_audit(&net, &policies);
        let t2 = Instant::now();
        println!(
            "{enis:>6} ENIs: load + build {:>7.2} s, audit {:>7.2} s, total {:>7.2} s; {} findings",
            (t1 - t0).as_secs_f64(),
            (t2 - t1).as_secs_f64(),
            (t2 - t0).as_secs_f64(),
            result.findings.len()
        );
    }
}
