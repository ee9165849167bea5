//! A flow-log record: one line of a flow log, its fields typed.

use super::community_id::community_id;
use super::field::Field;
use compact_str::CompactString;
use serde::ser::{Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// Text of a string field. Values up to 24 bytes (account, ENI, VPC, subnet and instance IDs)
/// are stored inline, without an allocation.
pub type Text = CompactString;

/// One flow-log record. A field that is absent from the format, or `-` in the record, is `None`.
///
/// The file the record came from is carried by its batch ([`super::ParsedChunk::file`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowRecord {
    /// 1-based line number in the source file (after decompression).
    pub line: u64,
    /// For a line of several records (CloudWatch Logs subscription envelopes, JSON objects one
    /// after the other): the record's 1-based position among the line's log events, as
    /// malformed events are numbered. `None` for a line of one record.
    pub event: Option<u32>,
    /// `version`: the flow-log version that defined the format.
    pub version: Option<u8>,
    /// `account-id`: the AWS account that owns the source network interface.
    pub account_id: Option<Text>,
    /// `interface-id`: the ENI the traffic was recorded on.
    pub interface_id: Option<Text>,
    /// `srcaddr`: source address (the ENI's primary private address for traffic through it).
    pub srcaddr: Option<IpAddr>,
    /// `dstaddr`: destination address.
    pub dstaddr: Option<IpAddr>,
    /// `srcport`: source port (for ICMP, Elastic reads it as the ICMP type).
    pub srcport: Option<u16>,
    /// `dstport`: destination port (for ICMP, the ICMP code).
    pub dstport: Option<u16>,
    /// `protocol`: IANA protocol number.
    pub protocol: Option<u8>,
    /// `packets`: packets in the aggregation interval.
    pub packets: Option<u64>,
    /// `bytes`: bytes in the aggregation interval.
    pub bytes: Option<u64>,
    /// `start`: start of the interval, seconds since the Unix epoch.
    pub start: Option<u64>,
    /// `end`: end of the interval, seconds since the Unix epoch.
    pub end: Option<u64>,
    /// `action`: what the security groups and network ACL together did.
    pub action: Option<Action>,
    /// `log-status`: whether the record holds flow data.
    pub log_status: Option<LogStatus>,
    /// `vpc-id` (v3).
    pub vpc_id: Option<Text>,
    /// `subnet-id` (v3).
    pub subnet_id: Option<Text>,
    /// `instance-id` (v3); `-` on NAT gateway and transit gateway ENIs.
    pub instance_id: Option<Text>,
    /// `tcp-flags` (v3): TCP flags OR-ed over the interval (SYN 2, SYN-ACK 18, FIN 1, RST 4).
    pub tcp_flags: Option<u16>,
    /// `type` (v3): `IPv4`, `IPv6` or `EFA`.
    pub r#type: Option<Text>,
    /// `pkt-srcaddr` (v3): the packet's real source address.
    pub pkt_srcaddr: Option<IpAddr>,
    /// `pkt-dstaddr` (v3): the packet's real destination address.
    pub pkt_dstaddr: Option<IpAddr>,
    /// `region` (v4).
    pub region: Option<Text>,
    /// `az-id` (v4).
    pub az_id: Option<Text>,
    /// `sublocation-type` (v4): `wavelength`, `outpost` or `localzone`.
    pub sublocation_type: Option<Text>,
    /// `sublocation-id` (v4).
    pub sublocation_id: Option<Text>,
    /// `pkt-src-aws-service` (v5): AWS service of `pkt-srcaddr`, such as `S3`.
    pub pkt_src_aws_service: Option<Text>,
    /// `pkt-dst-aws-service` (v5).
    pub pkt_dst_aws_service: Option<Text>,
    /// `flow-direction` (v5), relative to the ENI.
    pub flow_direction: Option<FlowDirection>,
    /// `traffic-path` (v5): the path egress traffic takes (1 to 8).
    pub traffic_path: Option<u8>,
    /// The ECS fields (v7), boxed because most records have none.
    pub ecs: Option<Box<EcsFields>>,
    /// `reject-reason` (v8): `BPA` when VPC Block Public Access rejected the traffic.
    pub reject_reason: Option<Text>,
    /// Fields whose names are not VPC flow-log fields (transit gateway fields, …), as text,
    /// under their names as written in the format; `None` for `-`.
    pub extra: Vec<(Arc<str>, Option<Text>)>,
}

/// The ECS fields of a record (version 7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EcsFields {
    /// `ecs-cluster-arn`.
    pub cluster_arn: Option<Text>,
    /// `ecs-cluster-name`.
    pub cluster_name: Option<Text>,
    /// `ecs-container-instance-arn`.
    pub container_instance_arn: Option<Text>,
    /// `ecs-container-instance-id`.
    pub container_instance_id: Option<Text>,
    /// `ecs-container-id`.
    pub container_id: Option<Text>,
    /// `ecs-second-container-id`.
    pub second_container_id: Option<Text>,
    /// `ecs-service-name`.
    pub service_name: Option<Text>,
    /// `ecs-task-definition-arn`.
    pub task_definition_arn: Option<Text>,
    /// `ecs-task-arn`.
    pub task_arn: Option<Text>,
    /// `ecs-task-id`.
    pub task_id: Option<Text>,
}

/// `action`: the combined outcome of the security groups and the network ACL at the ENI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `ACCEPT`.
    Accept,
    /// `REJECT`.
    Reject,
}

/// `log-status`: whether the record holds flow data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogStatus {
    /// `OK`: data is logging normally.
    Ok,
    /// `NODATA`: no traffic in the interval.
    NoData,
    /// `SKIPDATA`: records were skipped during the interval (the record set is incomplete).
    SkipData,
}

/// `flow-direction`: direction of the flow relative to the ENI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlowDirection {
    /// `ingress`.
    Ingress,
    /// `egress`.
    Egress,
}

impl Action {
    /// The text AWS writes.
    pub const fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "ACCEPT",
            Action::Reject => "REJECT",
        }
    }
}

impl LogStatus {
    /// The text AWS writes.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogStatus::Ok => "OK",
            LogStatus::NoData => "NODATA",
            LogStatus::SkipData => "SKIPDATA",
        }
    }
}

impl FlowDirection {
    /// The text AWS writes.
    pub const fn as_str(self) -> &'static str {
        match self {
            FlowDirection::Ingress => "ingress",
            FlowDirection::Egress => "egress",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for LogStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for FlowDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The value of one field of a record, borrowed, for generic access ([`FlowRecord::get`]).
///
/// Serializes as JSON `null`, a number, or a string (addresses and AWS keywords as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// Not in the format, or `-`.
    Absent,
    /// A number (version, ports, protocol, counters, times, flags, traffic path).
    Number(u64),
    /// An address.
    Addr(IpAddr),
    /// Text, including the AWS keywords of `action`, `log-status` and `flow-direction`.
    Text(&'a str),
}

impl fmt::Display for FieldValue<'_> {
    /// Writes the value as AWS does, `-` when absent.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Absent => f.write_str("-"),
            FieldValue::Number(n) => write!(f, "{n}"),
            FieldValue::Addr(a) => write!(f, "{a}"),
            FieldValue::Text(t) => f.write_str(t),
        }
    }
}

impl Serialize for FieldValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Absent => serializer.serialize_none(),
            FieldValue::Number(n) => serializer.serialize_u64(*n),
            FieldValue::Addr(a) => serializer.collect_str(a),
            FieldValue::Text(t) => serializer.serialize_str(t),
        }
    }
}

fn text(t: &Option<Text>) -> FieldValue<'_> {
    t.as_deref().map_or(FieldValue::Absent, FieldValue::Text)
}

fn number<T: Into<u64> + Copy>(n: &Option<T>) -> FieldValue<'static> {
    n.map_or(FieldValue::Absent, |n| FieldValue::Number(n.into()))
}

fn addr(a: &Option<IpAddr>) -> FieldValue<'static> {
    a.map_or(FieldValue::Absent, FieldValue::Addr)
}

impl FlowRecord {
    /// Where it is, to order it among malformed lines and events: its line, and its log event
    /// (0 for a line of one record).
    pub fn place(&self) -> (u64, usize) {
        (self.line, self.event.map_or(0, |e| e as usize))
    }

    /// The value of `field`.
    ///
    /// ```
    /// use vpcreach::flow_log::{parse_line, Field, FieldValue, Format};
    /// let rec = parse_line(
    ///     "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK",
    ///     &Format::default(),
    /// )
    /// .unwrap();
    /// assert_eq!(rec.get(Field::Dstport), FieldValue::Number(22));
    /// assert_eq!(rec.get(Field::Action), FieldValue::Text("ACCEPT"));
    /// assert_eq!(rec.get(Field::VpcId), FieldValue::Absent);
    /// ```
    pub fn get(&self, field: Field) -> FieldValue<'_> {
        let ecs = |pick: fn(&EcsFields) -> &Option<Text>| {
            self.ecs
                .as_deref()
                .map_or(FieldValue::Absent, |e| text(pick(e)))
        };
        match field {
            Field::Version => number(&self.version),
            Field::AccountId => text(&self.account_id),
            Field::InterfaceId => text(&self.interface_id),
            Field::Srcaddr => addr(&self.srcaddr),
            Field::Dstaddr => addr(&self.dstaddr),
            Field::Srcport => number(&self.srcport),
            Field::Dstport => number(&self.dstport),
            Field::Protocol => number(&self.protocol),
            Field::Packets => number(&self.packets),
            Field::Bytes => number(&self.bytes),
            Field::Start => number(&self.start),
            Field::End => number(&self.end),
            Field::Action => self
                .action
                .map_or(FieldValue::Absent, |a| FieldValue::Text(a.as_str())),
            Field::LogStatus => self
                .log_status
                .map_or(FieldValue::Absent, |s| FieldValue::Text(s.as_str())),
            Field::VpcId => text(&self.vpc_id),
            Field::SubnetId => text(&self.subnet_id),
            Field::InstanceId => text(&self.instance_id),
            Field::TcpFlags => number(&self.tcp_flags),
            Field::Type => text(&self.r#type),
            Field::PktSrcaddr => addr(&self.pkt_srcaddr),
            Field::PktDstaddr => addr(&self.pkt_dstaddr),
            Field::Region => text(&self.region),
            Field::AzId => text(&self.az_id),
            Field::SublocationType => text(&self.sublocation_type),
            Field::SublocationId => text(&self.sublocation_id),
            Field::PktSrcAwsService => text(&self.pkt_src_aws_service),
            Field::PktDstAwsService => text(&self.pkt_dst_aws_service),
            Field::FlowDirection => self
                .flow_direction
                .map_or(FieldValue::Absent, |d| FieldValue::Text(d.as_str())),
            Field::TrafficPath => number(&self.traffic_path),
            Field::EcsClusterArn => ecs(|e| &e.cluster_arn),
            Field::EcsClusterName => ecs(|e| &e.cluster_name),
            Field::EcsContainerInstanceArn => ecs(|e| &e.container_instance_arn),
            Field::EcsContainerInstanceId => ecs(|e| &e.container_instance_id),
            Field::EcsContainerId => ecs(|e| &e.container_id),
            Field::EcsSecondContainerId => ecs(|e| &e.second_container_id),
            Field::EcsServiceName => ecs(|e| &e.service_name),
            Field::EcsTaskDefinitionArn => ecs(|e| &e.task_definition_arn),
            Field::EcsTaskArn => ecs(|e| &e.task_arn),
            Field::EcsTaskId => ecs(|e| &e.task_id),
            Field::RejectReason => text(&self.reject_reason),
        }
    }

    /// Every known field with its value, in [`Field::ALL`] order.
    pub fn fields(&self) -> impl Iterator<Item = (Field, FieldValue<'_>)> + '_ {
        Field::ALL.iter().map(move |f| (*f, self.get(*f)))
    }

    /// The value of a field that is not a VPC flow-log field, by the name the format gave it.
    pub fn extra(&self, name: &str) -> Option<&str> {
        self.extra
            .iter()
            .find(|(n, _)| &**n == name)
            .and_then(|(_, v)| v.as_deref())
    }

    /// True unless `log-status` is `NODATA` or `SKIPDATA`: the record describes traffic.
    pub fn has_flow_data(&self) -> bool {
        !matches!(
            self.log_status,
            Some(LogStatus::NoData) | Some(LogStatus::SkipData)
        )
    }

    /// The Community ID (v1, seed 0) of the record's flow, when its addresses and protocol are
    /// known, and its ports too for TCP, UDP, SCTP, ICMP and ICMPv6 (see [`community_id`]).
    pub fn community_id(&self) -> Option<String> {
        community_id(
            self.srcaddr?,
            self.dstaddr?,
            self.protocol?,
            self.srcport,
            self.dstport,
        )
    }

    pub(crate) fn ecs_mut(&mut self) -> &mut EcsFields {
        self.ecs.get_or_insert_with(Box::default)
    }
}
