//! vpcreach: validate AWS security groups, network ACLs and route tables against what the network
//! really does.
//!
//! Data flows one way: a [`Snapshot`] (plain data from `describe-*` JSON) is built into a
//! [`Network`], which answers reachability questions ([`Network::query`]) with the evidence for
//! every hop. Flow-log records ([`flow_log`]) are explained against the same model.

pub mod audit;
#[cfg(feature = "aws")]
pub mod aws;
pub mod bpa;
pub mod cidr;
pub mod coverage;
pub mod diff;
pub mod explain;
pub mod flow_log;
pub mod history;
pub mod network;
pub mod network_acl;
pub mod policy;
pub mod protocol;
pub mod query;
pub mod render;
pub mod route;
pub mod security_group;
pub mod snapshot;
pub mod suggest;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod timestamp;
pub mod trace;
pub mod walk;

pub use network::{Network, NetworkBase};
pub use protocol::{PortRange, PortSet, Protocol};
pub use query::{Endpoint, Query, ResolveError};
pub use snapshot::{Snapshot, SnapshotError};
pub use trace::{Reason, Trace, Verdict};
