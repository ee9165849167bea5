//! Synthetic snapshots and flow logs at AWS-quota shape, for benchmarks and property tests.
