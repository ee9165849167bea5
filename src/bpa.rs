//! VPC Block Public Access (BPA): a per-account, per-Region switch that blocks traffic through
//! internet gateways and egress-only internet gateways above routes, security groups and NACLs,
//! with exclusions for single VPCs and subnets (aws-semantics 35–40).
//!
//! [`Bpa`] is built once from a snapshot's `VpcBlockPublicAccessOptions` and
//! `VpcBlockPublicAccessExclusions`; [`Bpa::judge`] says what BPA does with one connection at
//! one internet hop, naming the mode and the exclusion that decided, or why it cannot tell.

use crate::snapshot::{Snapshot, VpcBlockPublicAccessExclusion, VpcBlockPublicAccessOptions};
use std::fmt;

/// `InternetGatewayBlockMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `off`: BPA blocks nothing (AWS's default).
    Off,
    /// `block-bidirectional`: all traffic through internet and egress-only internet gateways
    /// is blocked, except for excluded VPCs and subnets.
    BlockBidirectional,
    /// `block-ingress`: internet traffic into the VPCs is blocked, except for excluded VPCs
    /// and subnets; connections NAT gateways and egress-only internet gateways start pass.
    BlockIngress,
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        match s {
            "off" => Some(Mode::Off),
            "block-bidirectional" => Some(Mode::BlockBidirectional),
            "block-ingress" => Some(Mode::BlockIngress),
            _ => None,
        }
    }

    /// The mode as AWS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::BlockBidirectional => "block-bidirectional",
            Mode::BlockIngress => "block-ingress",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `InternetGatewayExclusionMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExclusionMode {
    /// `allow-bidirectional`: all internet traffic to and from the VPC or subnet passes.
    AllowBidirectional,
    /// `allow-egress`: outbound connections (and their replies) pass, inbound is blocked; only
    /// in `block-bidirectional` mode.
    AllowEgress,
}

impl ExclusionMode {
    /// The mode as AWS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            ExclusionMode::AllowBidirectional => "allow-bidirectional",
            ExclusionMode::AllowEgress => "allow-egress",
        }
    }
}

/// Whether an exclusion is in force, from its `State`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// `create-complete` or `update-complete`.
    InForce,
    /// Deleted, disabled or failed: it does not count.
    NotInForce,
    /// Being created, updated, deleted or disabled, or a state or mode vpcreach does not know:
    /// a decision that depends on it is unknown.
    Uncertain,
}

fn standing_of(state: Option<&str>) -> Standing {
    match state {
        Some("create-complete" | "update-complete") => Standing::InForce,
        Some("delete-complete" | "disable-complete") => Standing::NotInForce,
        Some(s) if s.ends_with("-failed") => Standing::NotInForce,
        _ => Standing::Uncertain,
    }
}

/// What an exclusion names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A VPC.
    Vpc(String),
    /// A subnet.
    Subnet(String),
    /// An ARN that names neither (kept as written).
    Other(String),
}

impl Resource {
    fn of_arn(arn: &str) -> Resource {
        let tail = arn.rsplit(':').next().unwrap_or(arn);
        match tail.split_once('/') {
            Some(("vpc", id)) => Resource::Vpc(id.to_string()),
            Some(("subnet", id)) => Resource::Subnet(id.to_string()),
            _ => Resource::Other(arn.to_string()),
        }
    }

    /// The id (`vpc-…`, `subnet-…`) or the ARN.
    pub fn id(&self) -> &str {
        match self {
            Resource::Vpc(id) | Resource::Subnet(id) | Resource::Other(id) => id,
        }
    }
}

/// One account and Region's options.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The account (`AwsAccountId`, else the snapshot's account folder).
    pub account: Option<String>,
    /// The Region (`AwsRegion`, else the snapshot's Region folder).
    pub region: Option<String>,
    /// The mode; `None` when the snapshot's value is not one AWS documents.
    pub mode: Option<Mode>,
    /// The mode as written (untrusted text).
    pub mode_raw: String,
    /// `State` (`default-state`, `update-in-progress`, `update-complete`).
    pub state: Option<String>,
    /// `ExclusionsAllowed` is `not-allowed` (an organization's declarative policy).
    pub exclusions_not_allowed: bool,
    /// `ManagedBy` (`account`, `declarative-policy`).
    pub managed_by: Option<String>,
}

impl Scope {
    /// "account 111122223333, us-east-2", or as much of it as is known.
    pub fn label(&self) -> String {
        match (&self.account, &self.region) {
            (Some(a), Some(r)) => format!("account {a}, {r}"),
            (Some(a), None) => format!("account {a}"),
            (None, Some(r)) => r.clone(),
            (None, None) => "the snapshot's account and Region".into(),
        }
    }
}

/// One exclusion.
#[derive(Debug, Clone)]
pub struct Exclusion {
    /// `exclusion-…` (untrusted text).
    pub id: String,
    /// Its mode; `None` when the snapshot's value is not one AWS documents.
    pub mode: Option<ExclusionMode>,
    /// The mode as written.
    pub mode_raw: String,
    /// The VPC or subnet it names.
    pub resource: Resource,
    /// `State` as written.
    pub state: String,
    /// Whether it counts.
    pub standing: Standing,
    /// The account (from the ARN, else the snapshot folder).
    pub account: Option<String>,
    /// The Region (from the ARN, else the snapshot folder).
    pub region: Option<String>,
}

impl Exclusion {
    fn describe(&self) -> String {
        format!(
            "exclusion {} ({} on {}, {})",
            self.id,
            self.mode_raw,
            self.resource.id(),
            self.state
        )
    }

    /// Whether, in force, it lets this traffic through in this mode.
    ///
    /// `allow-egress` applies only in `block-bidirectional` mode, and there it makes the VPC or
    /// subnet behave as `block-ingress` does: connections that a NAT gateway or an egress-only
    /// internet gateway starts from inside pass, direct use of the internet gateway (an ENI's
    /// public address) does not, in either direction — the VPC User Guide's advanced example,
    /// scenario 6, where an instance with a public address in an `allow-egress` subnet cannot
    /// reach the internet.
    fn lets_through(&self, mode: Mode, path: Path, init: Initiated) -> Option<bool> {
        Some(match self.mode? {
            ExclusionMode::AllowBidirectional => true,
            ExclusionMode::AllowEgress => {
                mode == Mode::BlockBidirectional
                    && init == Initiated::FromInside
                    && matches!(path, Path::NatGateway | Path::EgressOnly)
            }
        })
    }
}

/// The gateway the traffic uses at the internet hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Path {
    /// An internet gateway, directly (an ENI's public, Elastic or IPv6 address).
    InternetGateway,
    /// A NAT gateway's connection through the internet gateway.
    NatGateway,
    /// An egress-only internet gateway (IPv6).
    EgressOnly,
}

/// Which side started the connection (its reply is judged with it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiated {
    /// From inside the VPC, to the internet.
    FromInside,
    /// From the internet.
    FromInternet,
}

/// Where the traffic meets the gateway: the subnet whose exclusion counts (the ENI's, or the
/// NAT gateway's for a NAT gateway's connection), its VPC, account and Region.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// `subnet-…`.
    pub subnet: &'a str,
    /// `vpc-…`.
    pub vpc: &'a str,
    /// The owning account, when known.
    pub account: Option<&'a str>,
    /// The Region, when known.
    pub region: Option<&'a str>,
}

/// What BPA does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The snapshot has no BPA options for this account and Region: taken as `off`.
    NoData,
    /// It passes.
    Allow,
    /// BPA blocks it.
    Deny,
    /// It depends on something the snapshot cannot settle (an exclusion in progress, or one
    /// that `ExclusionsAllowed: not-allowed` may have disabled).
    Unknown,
}

/// BPA's decision on one connection, with its evidence.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// The outcome.
    pub outcome: Outcome,
    /// The mode in force.
    pub mode: Option<Mode>,
    /// The exclusion that lets it through (allow), that applies but does not let this
    /// direction through (deny), or that the decision depends on (unknown).
    pub exclusions: Vec<String>,
    /// The resources to name: the exclusions, else the account/Region's options.
    pub resources: Vec<String>,
    /// In plain words.
    pub detail: String,
}

/// Every account and Region's BPA options and exclusions in a snapshot.
#[derive(Debug, Clone, Default)]
pub struct Bpa {
    /// Options, one per account and Region.
    pub scopes: Vec<Scope>,
    /// Exclusions.
    pub exclusions: Vec<Exclusion>,
    /// Where `BlockPublicAccessStates` of a VPC or subnet disagrees with options + exclusions,
    /// or the BPA data cannot be read as AWS writes it: one message each.
    pub warnings: Vec<String>,
}

fn compatible(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// The Region of an availability zone name (`us-east-1a` → `us-east-1`).
pub fn region_of_az(az: &str) -> Option<&str> {
    let r = az.trim_end_matches(|c: char| c.is_ascii_lowercase());
    (r.len() < az.len() && r.ends_with(|c: char| c.is_ascii_digit())).then_some(r)
}

impl Bpa {
    /// Builds the BPA state of a snapshot, checking the `BlockPublicAccessStates` of its VPCs
    /// and subnets against it.
    pub fn build(snap: &Snapshot) -> Bpa {
        let mut bpa = Bpa {
            scopes: snap
                .vpc_block_public_access_options
                .iter()
                .map(scope_of)
                .collect(),
            exclusions: snap
                .vpc_block_public_access_exclusions
                .iter()
                .map(exclusion_of)
                .collect(),
            warnings: Vec::new(),
        };
        for s in &bpa.scopes {
            if s.mode.is_none() {
                bpa.warnings.push(format!(
                    "VPC Block Public Access options of {}: unknown InternetGatewayBlockMode `{}`: internet paths there are unknown",
                    s.label(),
                    crate::render::sanitize(&s.mode_raw)
                ));
            }
        }
        bpa.check_states(snap);
        bpa
    }

    /// Whether the snapshot holds no BPA options at all.
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
    }

    /// The options that apply at a place: `Err` with a message when two disagree.
    fn scope_for(&self, place: &Place<'_>) -> Result<Option<&Scope>, String> {
        let fits: Vec<&Scope> = self
            .scopes
            .iter()
            .filter(|s| {
                compatible(s.region.as_deref(), place.region)
                    && compatible(s.account.as_deref(), place.account)
            })
            .collect();
        let exact: Vec<&Scope> = fits
            .iter()
            .copied()
            .filter(|s| {
                s.region.as_deref() == place.region
                    && place.region.is_some()
                    && s.account.as_deref() == place.account
                    && place.account.is_some()
            })
            .collect();
        let pick = if exact.is_empty() { fits } else { exact };
        match pick.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some(one)),
            [first, rest @ ..] => {
                if rest.iter().all(|s| {
                    s.mode_raw == first.mode_raw
                        && s.exclusions_not_allowed == first.exclusions_not_allowed
                }) {
                    Ok(Some(first))
                } else {
                    Err(format!(
                        "the snapshot holds {} VPC Block Public Access option sets that could apply to {} ({}) and they differ",
                        pick.len(),
                        place.subnet,
                        pick.iter().map(|s| format!("{}: {}", s.label(), s.mode_raw)).collect::<Vec<_>>().join("; ")
                    ))
                }
            }
        }
    }

    fn exclusions_at<'a>(&'a self, place: &'a Place<'_>) -> impl Iterator<Item = &'a Exclusion> {
        self.exclusions.iter().filter(move |e| match &e.resource {
            Resource::Subnet(id) => id == place.subnet,
            Resource::Vpc(id) => id == place.vpc,
            Resource::Other(_) => false,
        })
    }

    /// What BPA does with a connection at an internet or egress-only internet gateway hop.
    ///
    /// ```
    /// use vpcreach::bpa::{Bpa, Initiated, Outcome, Path, Place};
    /// let snap = vpcreach::Snapshot::from_json_str(r#"{"VpcBlockPublicAccessOptions":
    ///     {"AwsRegion": "us-east-2", "InternetGatewayBlockMode": "block-bidirectional"}}"#).unwrap();
    /// let bpa = Bpa::build(&snap);
    /// let place = Place { subnet: "subnet-1", vpc: "vpc-1", account: None, region: Some("us-east-2") };
    /// let j = bpa.judge(&place, Path::InternetGateway, Initiated::FromInternet);
    /// assert_eq!(j.outcome, Outcome::Deny);
    /// ```
    pub fn judge(&self, place: &Place<'_>, path: Path, init: Initiated) -> Judgement {
        let scope = match self.scope_for(place) {
            Ok(Some(s)) => s,
            Ok(None) => {
                return Judgement {
                    outcome: Outcome::NoData,
                    mode: None,
                    exclusions: vec![],
                    resources: vec![],
                    detail: format!(
                        "VPC Block Public Access state of {} is not in the snapshot: taken as off, AWS's default",
                        match (place.account, place.region) {
                            (Some(a), Some(r)) => format!("account {a}, {r}"),
                            (None, Some(r)) => r.to_string(),
                            (Some(a), None) => format!("account {a}"),
                            (None, None) => "this account and Region".into(),
                        }
                    ),
                }
            }
            Err(msg) => {
                return Judgement {
                    outcome: Outcome::Unknown,
                    mode: None,
                    exclusions: vec![],
                    resources: vec![],
                    detail: msg,
                }
            }
        };
        let label = scope.label();
        let options = vec![format!("VPC BPA options ({label})")];
        let unknown = |detail: String, exclusions: Vec<String>| Judgement {
            outcome: Outcome::Unknown,
            mode: scope.mode,
            resources: if exclusions.is_empty() {
                options.clone()
            } else {
                exclusions.clone()
            },
            exclusions,
            detail,
        };
        let Some(mode) = scope.mode else {
            return unknown(
                format!(
                    "VPC Block Public Access mode `{}` of {label} is not one AWS documents",
                    crate::render::sanitize(&scope.mode_raw)
                ),
                vec![],
            );
        };
        if scope.state.as_deref() == Some("update-in-progress") {
            return unknown(
                format!("VPC Block Public Access of {label} is being changed (update-in-progress, to {mode}): the mode in force is not known"),
                vec![],
            );
        }
        let what = match (path, init) {
            (Path::InternetGateway, Initiated::FromInside) => {
                format!(
                    "connections from {} to the internet through the internet gateway",
                    place.subnet
                )
            }
            (Path::InternetGateway, Initiated::FromInternet) => {
                format!("connections from the internet to {}", place.subnet)
            }
            (Path::NatGateway, _) => format!(
                "connections of the NAT gateway in {} to the internet",
                place.subnet
            ),
            (Path::EgressOnly, _) => format!(
                "connections from {} through the egress-only internet gateway",
                place.subnet
            ),
        };
        let base = match mode {
            Mode::Off => true,
            Mode::BlockIngress => {
                init == Initiated::FromInside && matches!(path, Path::NatGateway | Path::EgressOnly)
            }
            Mode::BlockBidirectional => false,
        };
        if base {
            let detail = match mode {
                Mode::Off => format!("VPC Block Public Access is off in {label}"),
                _ => format!(
                    "VPC Block Public Access is {mode} in {label}: it lets {what} through (NAT and egress-only internet gateways only start connections from inside)"
                ),
            };
            return Judgement {
                outcome: Outcome::Allow,
                mode: Some(mode),
                exclusions: vec![],
                resources: options,
                detail,
            };
        }
        let mut passing = Vec::new();
        let mut failing = Vec::new();
        let mut doubtful = Vec::new();
        let mut ignored = Vec::new();
        for e in self.exclusions_at(place) {
            match (e.standing, e.lets_through(mode, path, init)) {
                (Standing::NotInForce, _) => ignored.push(e),
                (_, None) => doubtful.push(e),
                (Standing::Uncertain, Some(true)) => doubtful.push(e),
                (Standing::Uncertain, Some(false)) => {}
                (Standing::InForce, Some(true)) if scope.exclusions_not_allowed => doubtful.push(e),
                (Standing::InForce, Some(true)) => passing.push(e),
                (Standing::InForce, Some(false)) => failing.push(e),
            }
        }
        let ids = |v: &[&Exclusion]| v.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
        let descs = |v: &[&Exclusion]| {
            v.iter()
                .map(|e| e.describe())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !passing.is_empty() && !failing.is_empty() {
            let mut all = passing.clone();
            all.extend(&failing);
            return unknown(
                format!(
                    "VPC Block Public Access is {mode} in {label}, and {} apply to {what}: {} would let it through, {} would not, and AWS does not document which wins",
                    descs(&all),
                    descs(&passing),
                    descs(&failing)
                ),
                ids(&all),
            );
        }
        if !passing.is_empty() {
            return Judgement {
                outcome: Outcome::Allow,
                mode: Some(mode),
                exclusions: ids(&passing),
                resources: ids(&passing),
                detail: format!(
                    "VPC Block Public Access is {mode} in {label}; {} lets {what} through",
                    descs(&passing)
                ),
            };
        }
        if !doubtful.is_empty() {
            let why = if scope.exclusions_not_allowed {
                format!("ExclusionsAllowed is not-allowed in {label} (what becomes of existing exclusions is not documented)")
            } else {
                "it is not in force for certain (its state or mode)".to_string()
            };
            return unknown(
                format!(
                    "VPC Block Public Access is {mode} in {label}: {} would let {what} through, but {why}",
                    descs(&doubtful)
                ),
                ids(&doubtful),
            );
        }
        let mut detail = format!("VPC Block Public Access is {mode} in {label}: it blocks {what}");
        for e in &failing {
            let why = match (e.mode, mode, init) {
                (Some(ExclusionMode::AllowEgress), Mode::BlockIngress, _) => {
                    "allow-egress applies only in block-bidirectional mode"
                }
                (_, _, Initiated::FromInternet) => "it does not let inbound connections through",
                _ => "allow-egress lets through only connections that NAT gateways and egress-only internet gateways start, not an ENI's own use of the internet gateway",
            };
            detail.push_str(&format!(
                "; {} does not let it through: {why}",
                e.describe()
            ));
        }
        for e in &ignored {
            detail.push_str(&format!("; {} is not in force", e.describe()));
        }
        let mut resources = options;
        resources.extend(ids(&failing));
        Judgement {
            outcome: Outcome::Deny,
            mode: Some(mode),
            exclusions: ids(&failing),
            resources,
            detail,
        }
    }

    /// The mode AWS should report in `BlockPublicAccessStates` for a VPC or subnet, or `None`
    /// when it cannot be told (no options, or an exclusion not surely in force).
    fn expected_state(&self, place: &Place<'_>, vpc_only: bool) -> Option<(Mode, String)> {
        let scope = self.scope_for(place).ok()??;
        let mode = scope.mode?;
        if scope.state.as_deref() == Some("update-in-progress") {
            return None;
        }
        let mut found: Option<(Mode, String)> = None;
        for e in self.exclusions.iter().filter(|e| match &e.resource {
            Resource::Subnet(id) => !vpc_only && id == place.subnet,
            Resource::Vpc(id) => id == place.vpc,
            Resource::Other(_) => false,
        }) {
            match e.standing {
                Standing::NotInForce => continue,
                Standing::Uncertain => return None,
                Standing::InForce if scope.exclusions_not_allowed => return None,
                Standing::InForce => {}
            }
            let m = match (e.mode?, mode) {
                (ExclusionMode::AllowBidirectional, _) => Mode::Off,
                (ExclusionMode::AllowEgress, Mode::BlockBidirectional) => Mode::BlockIngress,
                (ExclusionMode::AllowEgress, m) => m,
            };
            if found.as_ref().is_some_and(|(f, _)| *f != m) {
                return None;
            }
            found = Some((m, format!("{} of {}", e.describe(), scope.label())));
        }
        Some(found.unwrap_or((mode, format!("the VPC BPA options of {}", scope.label()))))
    }

    fn check_states(&mut self, snap: &Snapshot) {
        if self.scopes.is_empty() {
            return;
        }
        let vpc_owner = |id: &str| snap.vpcs.iter().find(|v| v.vpc_id == id);
        let mut warnings = Vec::new();
        for v in &snap.vpcs {
            let Some(reported) = v
                .block_public_access_states
                .as_ref()
                .and_then(|s| s.internet_gateway_block_mode.as_deref())
            else {
                continue;
            };
            let place = Place {
                subnet: "",
                vpc: &v.vpc_id,
                account: v.owner_id.as_deref().or(v.origin.account.as_deref()),
                region: v.origin.region.as_deref(),
            };
            if let Some((m, from)) = self.expected_state(&place, true) {
                if m.as_str() != reported {
                    warnings.push(format!(
                        "{}: BlockPublicAccessStates says `{}`, but {from} make it `{m}`",
                        v.vpc_id,
                        crate::render::sanitize(reported)
                    ));
                }
            }
        }
        for s in &snap.subnets {
            let Some(reported) = s
                .block_public_access_states
                .as_ref()
                .and_then(|s| s.internet_gateway_block_mode.as_deref())
            else {
                continue;
            };
            let vpc = vpc_owner(&s.vpc_id);
            let place = Place {
                subnet: &s.subnet_id,
                vpc: &s.vpc_id,
                account: s
                    .owner_id
                    .as_deref()
                    .or(vpc.and_then(|v| v.owner_id.as_deref()))
                    .or(s.origin.account.as_deref()),
                region: s
                    .origin
                    .region
                    .as_deref()
                    .or(s.availability_zone.as_deref().and_then(region_of_az)),
            };
            if let Some((m, from)) = self.expected_state(&place, false) {
                if m.as_str() != reported {
                    warnings.push(format!(
                        "{}: BlockPublicAccessStates says `{}`, but {from} make it `{m}`",
                        s.subnet_id,
                        crate::render::sanitize(reported)
                    ));
                }
            }
        }
        self.warnings.extend(warnings);
    }
}

fn scope_of(o: &VpcBlockPublicAccessOptions) -> Scope {
    let raw = o.internet_gateway_block_mode.clone().unwrap_or_default();
    Scope {
        account: o.aws_account_id.clone().or(o.origin.account.clone()),
        region: o.aws_region.clone().or(o.origin.region.clone()),
        // An options object without a mode: AWS's default.
        mode: if raw.is_empty() {
            Some(Mode::Off)
        } else {
            Mode::parse(&raw)
        },
        mode_raw: if raw.is_empty() { "off".into() } else { raw },
        state: o.state.clone(),
        exclusions_not_allowed: o.exclusions_allowed.as_deref() == Some("not-allowed"),
        managed_by: o.managed_by.clone(),
    }
}

fn exclusion_of(e: &VpcBlockPublicAccessExclusion) -> Exclusion {
    let arn = e.resource_arn.clone().unwrap_or_default();
    let mut parts = arn.split(':');
    let (region, account) = match (parts.nth(3), parts.next()) {
        (Some(r), Some(a)) if !r.is_empty() && !a.is_empty() => {
            (Some(r.to_string()), Some(a.to_string()))
        }
        _ => (e.origin.region.clone(), e.origin.account.clone()),
    };
    let mode_raw = e
        .internet_gateway_exclusion_mode
        .clone()
        .unwrap_or_default();
    let mode = match mode_raw.as_str() {
        "allow-bidirectional" => Some(ExclusionMode::AllowBidirectional),
        "allow-egress" => Some(ExclusionMode::AllowEgress),
        _ => None,
    };
    let standing = match (standing_of(e.state.as_deref()), mode) {
        (Standing::InForce, None) => Standing::Uncertain,
        (s, _) => s,
    };
    Exclusion {
        id: crate::render::sanitize(&e.exclusion_id),
        mode,
        mode_raw: crate::render::sanitize(&mode_raw),
        resource: Resource::of_arn(&arn),
        state: crate::render::sanitize(e.state.as_deref().unwrap_or("no state")),
        standing,
        account,
        region,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusion_states_count_only_when_complete() {
        assert_eq!(standing_of(Some("create-complete")), Standing::InForce);
        assert_eq!(standing_of(Some("update-complete")), Standing::InForce);
        for s in [
            "delete-complete",
            "disable-complete",
            "create-failed",
            "update-failed",
        ] {
            assert_eq!(standing_of(Some(s)), Standing::NotInForce, "{s}");
        }
        for s in [
            "create-in-progress",
            "update-in-progress",
            "delete-in-progress",
            "disable-in-progress",
            "bogus",
        ] {
            assert_eq!(standing_of(Some(s)), Standing::Uncertain, "{s}");
        }
        assert_eq!(standing_of(None), Standing::Uncertain);
    }

    #[test]
    fn arns_name_vpcs_and_subnets() {
        assert_eq!(
            Resource::of_arn("arn:aws:ec2:us-east-2:111122223333:subnet/subnet-0a"),
            Resource::Subnet("subnet-0a".into())
        );
        assert_eq!(
            Resource::of_arn("arn:aws:ec2:us-east-2:111122223333:vpc/vpc-0a"),
            Resource::Vpc("vpc-0a".into())
        );
        assert!(matches!(Resource::of_arn("nonsense"), Resource::Other(_)));
    }

    #[test]
    fn az_names_give_their_region() {
        assert_eq!(region_of_az("us-east-1a"), Some("us-east-1"));
        assert_eq!(region_of_az("us-east-1"), None);
    }
}
