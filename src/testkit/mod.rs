//! Test support, not part of the tool: generated networks and flow logs at AWS-quota shape
//! ([`synth`]) and a deliberately simple reference evaluator ([`reference`]) that the engine is
//! checked against. Compiled only with the `testkit` cargo feature, which the crate's own tests
//! and benchmarks turn on (a dev-dependency of the crate on itself); the tool never uses it.

pub mod reference;
pub mod synth;
