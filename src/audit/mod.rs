//! The compliance audit: intended policy against configuration (static, over the whole header
//! space) and against observed traffic (flow logs), as findings with stable ids.

pub mod analysis;
mod bpa;
pub mod finding;
mod load_balancer;
pub mod flow_logs;
mod observed;
pub mod region;
pub mod report;

pub use finding::{Finding, FindingStatus, Witness};
