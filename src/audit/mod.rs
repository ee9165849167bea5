//! The compliance audit: intended policy against configuration (static, over the whole header
//! space) and against observed traffic (flow logs), as findings with stable ids.

pub mod analysis;
mod bpa;
pub mod finding;
pub mod flow_logs;
mod load_balancer;
mod observed;
pub mod packed;
pub mod region;
pub mod report;

pub use finding::{Finding, FindingStatus, Witness};
pub use packed::PackedFindings;
