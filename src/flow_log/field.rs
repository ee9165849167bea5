//! The fields a VPC flow-log record can carry, by their AWS names, with the version that
//! introduced each one.

use std::fmt;

macro_rules! fields {
    ($( $variant:ident = $name:literal, $json:literal, $version:literal; )*) => {
        /// A field of a VPC flow-log record, named as in AWS's format strings (`srcaddr`,
        /// `log-status`, …).
        ///
        /// ```
        /// use vpcreach::flow_log::Field;
        /// assert_eq!(Field::from_name("log-status"), Some(Field::LogStatus));
        /// assert_eq!(Field::LogStatus.json_name(), "log_status");
        /// assert_eq!(Field::TcpFlags.version(), 3);
        /// ```
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Field {
            $(
                #[doc = concat!("`", $name, "` (version ", stringify!($version), ").")]
                $variant,
            )*
        }

        impl Field {
            /// Every field, in the order AWS lists them (the order of the default format of
            /// each version, the later versions' fields appended).
            pub const ALL: [Field; 40] = [$(Field::$variant),*];

            /// The AWS name, as in a format string or a file header (`pkt-srcaddr`).
            pub const fn name(self) -> &'static str {
                match self { $(Field::$variant => $name,)* }
            }

            /// The AWS name with `-` replaced by `_` (`pkt_srcaddr`), as used in JSON output.
            pub const fn json_name(self) -> &'static str {
                match self { $(Field::$variant => $json,)* }
            }

            /// The flow-log version that introduced the field (2, 3, 4, 5, 7 or 8).
            pub const fn version(self) -> u8 {
                match self { $(Field::$variant => $version,)* }
            }

            /// Looks a field up by its AWS name; names are case-sensitive, as AWS writes them.
            pub fn from_name(name: &str) -> Option<Field> {
                match name {
                    $($name => Some(Field::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

fields! {
    Version = "version", "version", 2;
    AccountId = "account-id", "account_id", 2;
    InterfaceId = "interface-id", "interface_id", 2;
    Srcaddr = "srcaddr", "srcaddr", 2;
    Dstaddr = "dstaddr", "dstaddr", 2;
    Srcport = "srcport", "srcport", 2;
    Dstport = "dstport", "dstport", 2;
    Protocol = "protocol", "protocol", 2;
    Packets = "packets", "packets", 2;
    Bytes = "bytes", "bytes", 2;
    Start = "start", "start", 2;
    End = "end", "end", 2;
    Action = "action", "action", 2;
    LogStatus = "log-status", "log_status", 2;
    VpcId = "vpc-id", "vpc_id", 3;
    SubnetId = "subnet-id", "subnet_id", 3;
    InstanceId = "instance-id", "instance_id", 3;
    TcpFlags = "tcp-flags", "tcp_flags", 3;
    Type = "type", "type", 3;
    PktSrcaddr = "pkt-srcaddr", "pkt_srcaddr", 3;
    PktDstaddr = "pkt-dstaddr", "pkt_dstaddr", 3;
    Region = "region", "region", 4;
    AzId = "az-id", "az_id", 4;
    SublocationType = "sublocation-type", "sublocation_type", 4;
    SublocationId = "sublocation-id", "sublocation_id", 4;
    PktSrcAwsService = "pkt-src-aws-service", "pkt_src_aws_service", 5;
    PktDstAwsService = "pkt-dst-aws-service", "pkt_dst_aws_service", 5;
    FlowDirection = "flow-direction", "flow_direction", 5;
    TrafficPath = "traffic-path", "traffic_path", 5;
    EcsClusterArn = "ecs-cluster-arn", "ecs_cluster_arn", 7;
    EcsClusterName = "ecs-cluster-name", "ecs_cluster_name", 7;
    EcsContainerInstanceArn = "ecs-container-instance-arn", "ecs_container_instance_arn", 7;
    EcsContainerInstanceId = "ecs-container-instance-id", "ecs_container_instance_id", 7;
    EcsContainerId = "ecs-container-id", "ecs_container_id", 7;
    EcsSecondContainerId = "ecs-second-container-id", "ecs_second_container_id", 7;
    EcsServiceName = "ecs-service-name", "ecs_service_name", 7;
    EcsTaskDefinitionArn = "ecs-task-definition-arn", "ecs_task_definition_arn", 7;
    EcsTaskArn = "ecs-task-arn", "ecs_task_arn", 7;
    EcsTaskId = "ecs-task-id", "ecs_task_id", 7;
    RejectReason = "reject-reason", "reject_reason", 8;
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Field names of transit gateway flow logs. They are not modelled (a record keeps them as
/// text), but they are recognised so that the header of a transit gateway log is seen as one.
const TRANSIT_GATEWAY_NAMES: &[&str] = &[
    "resource-type",
    "tgw-id",
    "tgw-attachment-id",
    "tgw-src-vpc-account-id",
    "tgw-dst-vpc-account-id",
    "tgw-src-vpc-id",
    "tgw-dst-vpc-id",
    "tgw-src-subnet-id",
    "tgw-dst-subnet-id",
    "tgw-src-eni",
    "tgw-dst-eni",
    "tgw-src-az-id",
    "tgw-dst-az-id",
    "tgw-pair-attachment-id",
    "packets-lost-no-route",
    "packets-lost-blackhole",
    "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired",
];

/// True for a name AWS uses in VPC or transit gateway flow-log formats.
pub(crate) fn is_aws_field_name(name: &str) -> bool {
    Field::from_name(name).is_some() || TRANSIT_GATEWAY_NAMES.contains(&name)
}

/// True when `token` has the shape of a field name: a lower-case letter, then lower-case
/// letters, digits and `-`.
pub(crate) fn looks_like_field_name(token: &str) -> bool {
    let mut bytes = token.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
}

/// The known field whose name is closest to `name`, when one is close enough to be a likely
/// typo (`srcadr` → `srcaddr`).
///
/// ```
/// use vpcreach::flow_log::{suggest_field, Field};
/// assert_eq!(suggest_field("srcadr"), Some(Field::Srcaddr));
/// assert_eq!(suggest_field("tgw-id"), None);
/// ```
pub fn suggest_field(name: &str) -> Option<Field> {
    let normalized = name.replace('_', "-").to_ascii_lowercase();
    if is_aws_field_name(&normalized) && Field::from_name(&normalized).is_none() {
        return None;
    }
    Field::ALL
        .iter()
        .map(|f| (strsim::levenshtein(&normalized, f.name()), *f))
        .filter(|(distance, f)| *distance <= 2.max(f.name().len() / 4))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_versions_are_ordered() {
        for (i, f) in Field::ALL.iter().enumerate() {
            assert_eq!(Field::from_name(f.name()), Some(*f));
            assert_eq!(f.json_name(), f.name().replace('-', "_"));
            if i > 0 {
                assert!(Field::ALL[i - 1].version() <= f.version());
            }
        }
        assert_eq!(Field::from_name("Version"), None);
    }

    #[test]
    fn field_name_shape() {
        assert!(looks_like_field_name("pkt-src-aws-service"));
        assert!(looks_like_field_name("eni-1235b8ca123456789"));
        assert!(!looks_like_field_name("-"));
        assert!(!looks_like_field_name("2"));
        assert!(!looks_like_field_name("IPv4"));
        assert!(is_aws_field_name("tgw-src-eni"));
        assert!(!is_aws_field_name("eni-1235b8ca123456789"));
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest_field("log_status"), Some(Field::LogStatus));
        assert_eq!(suggest_field("dst-port"), Some(Field::Dstport));
        assert_eq!(suggest_field("completely-different"), None);
    }
}
