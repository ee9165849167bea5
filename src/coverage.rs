//! Flow-log coverage: which VPC Flow Logs of a snapshot capture each VPC, subnet and ENI, what
//! they keep (all traffic, or only accepted or only rejected), whether their deliveries
//! succeed, and which fields an explanation needs that their format lacks. Every explanation
//! and every "unused rule" is only as good as the logs behind it; this says what they can see.
//!
//! A flow log of a VPC captures every ENI of the VPC, a flow log of a subnet every ENI of the
//! subnet, a flow log of an ENI that ENI (aws-semantics, flow logs). Only logs whose status is
//! `ACTIVE` count, and a log whose deliveries fail captures nothing that can be read.
//!
//! ```
//! use vpcreach::{coverage::Coverage, Network, Snapshot};
//! let snap = Snapshot::from_json_str(r#"{
//!   "Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}],
//!   "Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"}],
//!   "NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "SubnetId": "subnet-1", "VpcId": "vpc-1",
//!                          "PrivateIpAddress": "10.0.1.5"}],
//!   "FlowLogs": [{"FlowLogId": "fl-1", "ResourceId": "vpc-1", "TrafficType": "REJECT",
//!                 "FlowLogStatus": "ACTIVE", "DeliverLogsStatus": "SUCCESS"}]
//! }"#).unwrap();
//! let cov = Coverage::of(&snap, &Network::build(&snap));
//! assert_eq!(cov.enis[0].capture, vpcreach::coverage::Capture::RejectOnly);
//! assert_eq!((cov.totals.covered, cov.totals.partly, cov.totals.not_covered), (0, 1, 0));
//! ```

pub mod records;

use crate::flow_log::{Field, Format};
use crate::network::Network;
use crate::snapshot::{FlowLog, Snapshot};
use serde::Serialize;
use std::collections::BTreeMap;

/// What the logs of a resource keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Capture {
    /// Accepted and rejected traffic (an `ALL` log, or an `ACCEPT` and a `REJECT` log).
    All,
    /// Only accepted traffic: rejections are not seen.
    AcceptOnly,
    /// Only rejected traffic: nothing that passed is seen.
    RejectOnly,
    /// No active log that delivers.
    None,
}

impl Capture {
    fn add(self, traffic_type: &str) -> Capture {
        let (accept, reject) = match self {
            Capture::All => (true, true),
            Capture::AcceptOnly => (true, false),
            Capture::RejectOnly => (false, true),
            Capture::None => (false, false),
        };
        let (a, r) = match traffic_type {
            "ALL" => (true, true),
            "ACCEPT" => (true, false),
            "REJECT" => (false, true),
            _ => (false, false),
        };
        match (accept || a, reject || r) {
            (true, true) => Capture::All,
            (true, false) => Capture::AcceptOnly,
            (false, true) => Capture::RejectOnly,
            (false, false) => Capture::None,
        }
    }

    /// In words, for tables.
    pub fn words(self) -> &'static str {
        match self {
            Capture::All => "covered",
            Capture::AcceptOnly => "partly (ACCEPT only)",
            Capture::RejectOnly => "partly (REJECT only)",
            Capture::None => "not covered",
        }
    }
}

/// A field the explanation reads that a log's format lacks, and what its absence costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingField {
    /// The field (`tcp-flags`).
    pub field: &'static str,
    /// What explanations lose without it.
    pub cost: &'static str,
}

/// The fields an explanation is better for, with what their absence costs, in the order a
/// reader should add them.
const WANTED: &[(Field, &str)] = &[
    (
        Field::InterfaceId,
        "records cannot be tied to an ENI: they are matched by address only",
    ),
    (
        Field::TcpFlags,
        "requests and responses are told apart by pairing the two directions and by ports only",
    ),
    (
        Field::FlowDirection,
        "the direction is inferred from the ENI's addresses (ambiguous where it sends to itself)",
    ),
    (
        Field::PktSrcaddr,
        "on NAT gateways and other intermediate ENIs the original source is not known",
    ),
    (
        Field::PktDstaddr,
        "on NAT gateways and other intermediate ENIs the final destination is not known",
    ),
    (
        Field::VpcId,
        "records of ENIs the snapshot lacks cannot be placed in a VPC",
    ),
    (
        Field::SubnetId,
        "records of ENIs the snapshot lacks cannot be placed in a subnet",
    ),
];

/// One flow log as coverage sees it.
#[derive(Debug, Clone, Serialize)]
pub struct LogCoverage {
    /// `fl-…`.
    pub flow_log_id: String,
    /// The resource it captures.
    pub resource_id: Option<String>,
    /// `vpc`, `subnet`, `eni`, or `other` (transit gateway logs, unknown ids).
    pub level: &'static str,
    /// `ALL`, `ACCEPT` or `REJECT`.
    pub traffic_type: Option<String>,
    /// Where it delivers (`s3`, `cloud-watch-logs`, `kinesis-data-firehose`).
    pub destination_type: Option<String>,
    /// The destination (ARN or log group).
    pub destination: Option<String>,
    /// `ACTIVE` when in place.
    pub status: Option<String>,
    /// `SUCCESS` or `FAILED`.
    pub delivery: Option<String>,
    /// Why deliveries fail.
    pub delivery_error: Option<String>,
    /// Seconds per aggregation window.
    pub aggregation_interval: Option<i64>,
    /// Whether it counts: active, and not failing to deliver.
    pub effective: bool,
    /// Why it does not count, when it does not.
    pub why_not: Option<String>,
    /// Fields the explanation wants that its format lacks.
    pub missing_fields: Vec<MissingField>,
    /// The format could not be read (the text of the error).
    pub format_error: Option<String>,
    /// How many ENIs of the snapshot it captures.
    pub enis: usize,
}

/// The coverage of one resource (VPC, subnet or ENI).
#[derive(Debug, Clone)]
pub struct ResourceCoverage {
    /// Its id.
    pub id: String,
    /// Its VPC (for subnets and ENIs).
    pub vpc_id: Option<String>,
    /// Its subnet (for ENIs).
    pub subnet_id: Option<String>,
    /// The flow logs that capture it (its own and its VPC's and subnet's), effective or not.
    pub flow_logs: Vec<String>,
    /// What the effective ones keep together.
    pub capture: Capture,
    /// Whether the flow-log configuration of its place is in the snapshot (a `FlowLogs` key
    /// was read there); when not, `capture` is `None` for want of knowledge, not of logs.
    pub known: bool,
}

/// Totals over the ENIs of the snapshot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// ENIs of the snapshot.
    pub enis: usize,
    /// ENIs whose effective logs keep all traffic.
    pub covered: usize,
    /// ENIs whose effective logs keep only accepted or only rejected traffic.
    pub partly: usize,
    /// ENIs no effective log captures.
    pub not_covered: usize,
    /// ENIs whose flow-log configuration is not in the snapshot (counted in none of the above).
    #[serde(skip_serializing_if = "is_zero")]
    pub unknown: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The flow-log coverage of a snapshot.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Whether any `FlowLogs` key was read (else nothing is known of the flow logs).
    pub config_read: bool,
    /// Every flow log of the snapshot.
    pub flow_logs: Vec<LogCoverage>,
    /// Every VPC, with the logs of the VPC itself.
    pub vpcs: Vec<ResourceCoverage>,
    /// Every subnet, with its own logs and its VPC's.
    pub subnets: Vec<ResourceCoverage>,
    /// Every ENI, with its own logs, its subnet's and its VPC's.
    pub enis: Vec<ResourceCoverage>,
    /// Totals over the ENIs.
    pub totals: Totals,
}

fn level_of(resource: Option<&str>) -> &'static str {
    match resource.and_then(|r| r.split('-').next()) {
        Some("vpc") => "vpc",
        Some("subnet") => "subnet",
        Some("eni") => "eni",
        _ => "other",
    }
}

fn log_coverage(log: &FlowLog) -> LogCoverage {
    let active = log
        .flow_log_status
        .as_deref()
        .is_none_or(|s| s.eq_ignore_ascii_case("ACTIVE"));
    let failing = log
        .deliver_logs_status
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("FAILED"));
    let why_not = if !active {
        Some(format!(
            "its status is `{}`, not `ACTIVE`",
            log.flow_log_status.as_deref().unwrap_or_default()
        ))
    } else if failing {
        Some(match log.deliver_logs_error_message.as_deref() {
            Some(e) => format!("its deliveries fail ({e})"),
            None => "its deliveries fail".to_string(),
        })
    } else {
        None
    };
    let (format, format_error) = match log.log_format.as_deref().map(str::trim) {
        None | Some("") => (Some(Format::default()), None),
        Some(text) => match Format::parse(text) {
            Ok(f) => (Some(f), None),
            Err(e) => (None, Some(e.to_string())),
        },
    };
    let missing_fields = format
        .map(|f| {
            WANTED
                .iter()
                .filter(|(field, _)| !f.contains(*field))
                .map(|(field, cost)| MissingField {
                    field: field.name(),
                    cost,
                })
                .collect()
        })
        .unwrap_or_default();
    LogCoverage {
        flow_log_id: log.flow_log_id.clone(),
        resource_id: log.resource_id.clone(),
        level: level_of(log.resource_id.as_deref()),
        traffic_type: log.traffic_type.clone(),
        destination_type: log.log_destination_type.clone(),
        destination: log
            .log_destination
            .clone()
            .or_else(|| log.log_group_name.clone()),
        status: log.flow_log_status.clone(),
        delivery: log.deliver_logs_status.clone(),
        delivery_error: log.deliver_logs_error_message.clone(),
        aggregation_interval: log.max_aggregation_interval,
        effective: why_not.is_none(),
        why_not,
        missing_fields,
        format_error,
        enis: 0,
    }
}

impl Coverage {
    /// The coverage of every VPC, subnet and ENI of `snap` (built into `net`) by its flow logs.
    pub fn of(snap: &Snapshot, net: &Network) -> Coverage {
        let mut flow_logs: Vec<LogCoverage> = snap.flow_logs.iter().map(log_coverage).collect();
        // Logs by the resource they capture.
        let mut by_resource: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, log) in snap.flow_logs.iter().enumerate() {
            if let Some(r) = log.resource_id.as_deref() {
                by_resource.entry(r).or_default().push(i);
            }
        }
        let logs_of = |ids: &[Option<&str>]| -> Vec<usize> {
            ids.iter()
                .flatten()
                .filter_map(|id| by_resource.get(id))
                .flatten()
                .copied()
                .collect()
        };
        let origins: BTreeMap<&str, &crate::snapshot::Origin> = snap
            .vpcs
            .iter()
            .map(|v| (v.vpc_id.as_str(), &v.origin))
            .collect();
        let known = |vpc: Option<&str>| {
            let origin = vpc.and_then(|v| origins.get(v).copied());
            snap.flow_logs_known(origin.unwrap_or(&crate::snapshot::Origin::default()))
        };
        let resource = |id: &str, vpc: Option<&str>, subnet: Option<&str>, logs: &[usize]| {
            let capture =
                logs.iter()
                    .filter(|&&i| flow_logs[i].effective)
                    .fold(Capture::None, |c, &i| {
                        c.add(
                            snap.flow_logs[i]
                                .traffic_type
                                .as_deref()
                                .unwrap_or_default(),
                        )
                    });
            ResourceCoverage {
                id: id.to_string(),
                vpc_id: vpc.map(str::to_string),
                subnet_id: subnet.map(str::to_string),
                flow_logs: logs
                    .iter()
                    .map(|&i| snap.flow_logs[i].flow_log_id.clone())
                    .collect(),
                capture,
                known: known(vpc.or(Some(id))),
            }
        };
        let vpcs = net
            .vpcs
            .iter()
            .map(|v| resource(&v.id, None, None, &logs_of(&[Some(&v.id)])))
            .collect();
        let subnets = net
            .subnets
            .iter()
            .map(|s| {
                let logs = logs_of(&[Some(&s.vpc_id), Some(&s.id)]);
                resource(&s.id, Some(&s.vpc_id), None, &logs)
            })
            .collect();
        let mut totals = Totals::default();
        let mut eni_logs: Vec<Vec<usize>> = Vec::with_capacity(net.enis.len());
        let enis: Vec<ResourceCoverage> = net
            .enis
            .iter()
            .map(|e| {
                let subnet = e.subnet.map(|s| net.subnets[s].id.as_str());
                let logs = logs_of(&[e.vpc_id.as_deref(), subnet, Some(&e.id)]);
                let r = resource(&e.id, e.vpc_id.as_deref(), subnet, &logs);
                eni_logs.push(logs);
                r
            })
            .collect();
        for (e, logs) in enis.iter().zip(&eni_logs) {
            totals.enis += 1;
            for &i in logs {
                flow_logs[i].enis += 1;
            }
            match e.capture {
                _ if !e.known => totals.unknown += 1,
                Capture::All => totals.covered += 1,
                Capture::AcceptOnly | Capture::RejectOnly => totals.partly += 1,
                Capture::None => totals.not_covered += 1,
            }
        }
        Coverage {
            config_read: !snap.flow_logs_read.is_empty(),
            flow_logs,
            vpcs,
            subnets,
            enis,
            totals,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_types_add_up() {
        assert_eq!(Capture::None.add("ACCEPT").add("REJECT"), Capture::All);
        assert_eq!(Capture::None.add("REJECT"), Capture::RejectOnly);
        assert_eq!(Capture::AcceptOnly.add("ACCEPT"), Capture::AcceptOnly);
        assert_eq!(Capture::None.add("ALL"), Capture::All);
        assert_eq!(Capture::None.add("bogus"), Capture::None);
    }

    #[test]
    fn the_default_format_lacks_the_v3_and_v5_fields() {
        let log = log_coverage(&FlowLog {
            flow_log_id: "fl-1".into(),
            ..FlowLog::default()
        });
        let missing: Vec<&str> = log.missing_fields.iter().map(|m| m.field).collect();
        assert_eq!(
            missing,
            [
                "tcp-flags",
                "flow-direction",
                "pkt-srcaddr",
                "pkt-dstaddr",
                "vpc-id",
                "subnet-id"
            ]
        );
        let full = log_coverage(&FlowLog {
            flow_log_id: "fl-2".into(),
            log_format: Some("${version} ${interface-id} ${srcaddr} ${dstaddr} ${tcp-flags} ${flow-direction} ${pkt-srcaddr} ${pkt-dstaddr} ${vpc-id} ${subnet-id}".into()),
            ..FlowLog::default()
        });
        assert!(full.missing_fields.is_empty(), "{:?}", full.missing_fields);
    }
}
