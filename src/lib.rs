//! vpcreach: validate AWS security groups, network ACLs and route tables against what the network
//! really does.
//!
//! Data flows one way: a [`Snapshot`] (plain data from `describe-*` JSON) is built into a
//! [`Network`], which answers reachability questions ([`Network::query`]) with the evidence for
//! every hop. Flow-log records ([`flow_log`]) are explained against the same model.

pub mod flow_log;
pub mod snapshot;
pub mod synth;

pub use snapshot::{Snapshot, SnapshotError};
