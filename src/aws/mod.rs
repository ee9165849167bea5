//! Reading live AWS: network configuration from the EC2 API into a [`Snapshot`] (in memory, or
//! as a folder `Snapshot::load` reads), VPC Flow Logs from S3 and CloudWatch Logs into local
//! files for the flow-log reader, and the history of changes (CloudTrail and AWS Config files
//! in S3, CloudTrail's event history) into local files for [`crate::history::read`].
//!
//! Credentials, region and endpoint come only from the standard AWS configuration chain
//! (environment, shared config and credentials files, SSO, web identity, container and instance
//! metadata; `AWS_PROFILE`, `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_MAX_ATTEMPTS` and
//! `AWS_RETRY_MODE` honoured). Only read-only calls are made. Each call is retried by the SDK's
//! standard retry policy (3 attempts with exponential backoff and jitter unless
//! `AWS_MAX_ATTEMPTS` or the profile's `max_attempts` says otherwise).
//!
//! ```no_run
//! use std::sync::Arc;
//! use vpcreach::aws::{collect, AwsOptions, NoProgress};
//! let opts = AwsOptions { regions: vec!["eu-west-1".into()], ..AwsOptions::default() };
//! let collected = collect(&opts, Arc::new(NoProgress))?;
//! let snapshot = collected.to_snapshot();
//! collected.write(std::path::Path::new("snapshots/today"))?;
//! # Ok::<(), vpcreach::aws::AwsError>(())
//! ```

mod collect;
mod config;
mod elb;
mod error;
mod flows;
mod guard;
mod history;
mod map;
mod write;

pub use crate::snapshot::MARKER_FILE;
pub use crate::timestamp::{Rfc3339, TimeArg, Window};
pub use collect::{RegionResources, CALLS, ELB_CALLS, ELB_PERMISSIONS};
pub use elb::ElbResources;
pub use error::AwsError;
pub use flows::{fetch, list_s3_objects, parse_location, FetchProgress, Fetched, Location};
pub use guard::{PageError, DEFAULT_MAX_PAGES};
pub use history::{fetch_history, parse_history_location, HistoryLocation};
pub use write::check_out;

use crate::snapshot::{Origin, Snapshot};
use std::fmt;
use std::sync::Arc;

/// How to reach AWS: the options of `collect` and `--live`.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    /// The shared-config profile (`--profile`); the chain's default (`AWS_PROFILE`) when `None`.
    pub profile: Option<String>,
    /// Regions to read (`--region`); the configured region when empty.
    pub regions: Vec<String>,
    /// Read every region enabled for the account (`--all-regions`, via `DescribeRegions`).
    pub all_regions: bool,
    /// A role to assume first (`--role-arn`); its account names the snapshot's account folder.
    pub role_arn: Option<String>,
    /// The external id the role's trust policy requires (`--external-id`).
    pub external_id: Option<String>,
    /// Items asked per page of paginated calls, 5 to 100 (`None`: each service's default, which
    /// for most EC2 calls is everything in one page). Every page is read either way.
    pub page_size: Option<i32>,
    /// Time allowed to connect to an endpoint (`--connect-timeout`; `None`:
    /// [`DEFAULT_CONNECT_TIMEOUT`]).
    pub connect_timeout: Option<std::time::Duration>,
    /// Time allowed for an answer, or for the next bytes of a download (`--read-timeout`;
    /// `None`: [`DEFAULT_READ_TIMEOUT`]).
    pub read_timeout: Option<std::time::Duration>,
    /// Time allowed for one call, retries included (`--operation-timeout`; `None`:
    /// [`DEFAULT_OPERATION_TIMEOUT`]).
    pub operation_timeout: Option<std::time::Duration>,
    /// Pages of one paginated call before it is stopped with an error (`--max-pages`; `None`:
    /// [`DEFAULT_MAX_PAGES`]). A token handed out twice stops it too.
    pub max_pages: Option<usize>,
}

/// The default of [`AwsOptions::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// The default of [`AwsOptions::read_timeout`].
pub const DEFAULT_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// The default of [`AwsOptions::operation_timeout`].
pub const DEFAULT_OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// One account (when a role was assumed) and region.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    /// The account of the assumed role.
    pub account: Option<String>,
    /// The region.
    pub region: String,
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.account {
            Some(account) => write!(f, "{account}/{}", self.region),
            None => f.write_str(&self.region),
        }
    }
}

/// Receives progress while collecting; every method has a do-nothing default.
pub trait Progress: Send + Sync {
    /// Collection of these scopes begins, with [`CALLS`]`.len()` + [`ELB_CALLS`]`.len()` steps each.
    fn start(&self, scopes: &[Scope]) {
        let _ = scopes;
    }
    /// One call (with its pages) finished in one scope, with this many items.
    fn call_done(&self, scope: &Scope, call: &'static str, items: usize) {
        let _ = (scope, call, items);
    }
    /// Every call of one scope finished.
    fn scope_done(&self, scope: &Scope) {
        let _ = scope;
    }
}

/// A [`Progress`] that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What [`collect()`] read: one [`RegionResources`] per account and region, in sorted order.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// The scopes' resources, sorted by account and region.
    pub regions: Vec<RegionResources>,
}

/// Starts the single-threaded runtime the SDK's futures run on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, AwsError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| AwsError::Io {
            path: "<async runtime>".into(),
            error: source,
        })
}

/// Reads the network configuration of every chosen region (and account) through the EC2 API.
/// Regions are read concurrently; within one, the calls of [`CALLS`] then [`ELB_CALLS`] run in order, each
/// paginated to the end. The first error stops everything.
pub fn collect(opts: &AwsOptions, progress: Arc<dyn Progress>) -> Result<Collected, AwsError> {
    runtime()?.block_on(collect_async(opts, progress))
}

async fn collect_async(
    opts: &AwsOptions,
    progress: Arc<dyn Progress>,
) -> Result<Collected, AwsError> {
    let session = config::session(opts).await?;
    let regions = config::regions(&session, opts).await?;
    let mut scopes: Vec<Scope> = regions
        .into_iter()
        .map(|region| Scope {
            account: session.account.clone(),
            region,
        })
        .collect();
    scopes.sort();
    progress.start(&scopes);
    let mut tasks = tokio::task::JoinSet::new();
    for (i, scope) in scopes.iter().enumerate() {
        let (session, scope, progress) = (session.clone(), scope.clone(), Arc::clone(&progress));
        tasks.spawn(async move { (i, collect::region(session, scope, progress).await) });
    }
    let mut done: Vec<Option<RegionResources>> = vec![None; scopes.len()];
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.map_err(|e| AwsError::Other {
            operation: "collect".into(),
            region: "-".into(),
            detail: e.to_string(),
        })?;
        match result {
            Ok(resources) => done[i] = Some(resources),
            Err(e) => {
                tasks.abort_all();
                return Err(e);
            }
        }
    }
    Ok(Collected {
        regions: done.into_iter().flatten().collect(),
    })
}

fn with_origin<T: Clone>(items: &[T], origin: &Origin, set: fn(&mut T, Origin)) -> Vec<T> {
    items
        .iter()
        .map(|it| {
            let mut it = it.clone();
            set(&mut it, origin.clone());
            it
        })
        .collect()
}

/// The origin the loader gives to files of this scope's folder.
fn origin_of(scope: &Scope) -> Origin {
    match &scope.account {
        Some(account) => Origin {
            account: Some(account.clone()),
            region: Some(scope.region.clone()),
        },
        None => Origin {
            account: None,
            region: write::looks_like_region(&scope.region).then(|| scope.region.clone()),
        },
    }
}

impl Collected {
    /// The calls no scope's endpoint could answer, one message each ("… not collected").
    pub fn not_collected(&self) -> Vec<String> {
        self.regions
            .iter()
            .flat_map(|r| {
                r.not_collected
                    .iter()
                    .map(move |n| format!("not collected ({}): {n}", r.scope))
            })
            .collect()
    }

    /// The snapshot, exactly as [`Snapshot::load`] reads it back from the folder
    /// [`Collected::write`] writes (same order, same origins; `files` left empty).
    pub fn to_snapshot(&self) -> Snapshot {
        let mut snap = Snapshot::default();
        for r in &self.regions {
            let o = origin_of(&r.scope);
            snap.vpcs
                .extend(with_origin(&r.vpcs, &o, |x, o| x.origin = o));
            snap.subnets
                .extend(with_origin(&r.subnets, &o, |x, o| x.origin = o));
            snap.route_tables
                .extend(with_origin(&r.route_tables, &o, |x, o| x.origin = o));
            snap.network_acls
                .extend(with_origin(&r.network_acls, &o, |x, o| x.origin = o));
            snap.security_groups
                .extend(with_origin(&r.security_groups, &o, |x, o| x.origin = o));
            snap.network_interfaces
                .extend(with_origin(&r.network_interfaces, &o, |x, o| x.origin = o));
            for reservation in &r.reservations {
                for inst in &reservation.instances {
                    let mut inst = inst.clone();
                    for eni in &mut inst.network_interfaces {
                        eni.origin = o.clone();
                    }
                    snap.instances.push(inst);
                }
            }
            snap.internet_gateways
                .extend(r.internet_gateways.iter().cloned());
            snap.egress_only_internet_gateways
                .extend(r.egress_only_internet_gateways.iter().cloned());
            snap.nat_gateways.extend(r.nat_gateways.iter().cloned());
            snap.flow_logs.extend(r.flow_logs.iter().cloned());
            // `collect` always calls `DescribeFlowLogs` and writes the key, even empty.
            if !snap.flow_logs_read.contains(&o) {
                snap.flow_logs_read.push(o.clone());
            }
            snap.vpc_peering_connections
                .extend(r.vpc_peering_connections.iter().cloned());
            snap.prefix_lists.extend(r.prefix_lists.iter().cloned());
            snap.managed_prefix_lists
                .extend(r.managed_prefix_lists.iter().cloned());
            snap.vpc_endpoints.extend(r.vpc_endpoints.iter().cloned());
            snap.addresses.extend(r.addresses.iter().cloned());
            snap.transit_gateways
                .extend(r.transit_gateways.iter().cloned());
            // The files sort `TransitGatewayAttachments` before `TransitGatewayVpcAttachments`.
            snap.transit_gateway_attachments
                .extend(r.transit_gateway_attachments.iter().cloned());
            snap.transit_gateway_attachments
                .extend(r.transit_gateway_vpc_attachments.iter().cloned());
            snap.transit_gateway_route_tables
                .extend(r.transit_gateway_route_tables.iter().cloned());
            // The files sort `…Exclusions` before `…Options`; each key has its own list.
            snap.vpc_block_public_access_exclusions.extend(with_origin(
                &r.bpa_exclusions,
                &o,
                |x, o| x.origin = o,
            ));
            snap.vpc_block_public_access_options
                .extend(with_origin(&r.bpa_options, &o, |x, o| x.origin = o));
            let e = &r.elb;
            snap.load_balancers
                .extend(with_origin(&e.load_balancers, &o, |x, o| x.origin = o));
            snap.listeners.extend(e.listeners.iter().cloned());
            snap.lb_rules.extend(e.rules.iter().cloned());
            snap.target_groups.extend(e.target_groups.iter().cloned());
            snap.target_health.extend(e.target_health.iter().cloned());
            snap.target_group_attributes
                .extend(e.target_group_attributes.iter().cloned());
            snap.load_balancer_attributes
                .extend(e.load_balancer_attributes.iter().cloned());
            for what in &e.not_collected {
                snap.warnings.push(format!(
                    "{}: not collected: {what}; what depends on it is missing from the snapshot",
                    r.scope.region
                ));
            }
        }
        // What AWS returned is checked as a saved snapshot is: two regions' answers that
        // disagree, or a rule that cannot be read, leave the resource out (never a silent pick).
        snap.check_consistency("the AWS API");
        snap.warnings.extend(self.not_collected());
        snap
    }
}
