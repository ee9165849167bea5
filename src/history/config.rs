//! AWS Config configuration items as history: each says "from its capture time on, resource R
//! is exactly this" (`aws-data-formats.md` §2).
//!
//! Three shapes are read, told apart by their fields, not by the file's name:
//! - the files Config delivers to S3 (`{"fileVersion", "configurationItems": [...]}`, history and
//!   snapshot files alike), with `awsAccountId`, `ARN`, a numeric `configurationStateId` and
//!   `configuration` as a JSON object;
//! - the output of `aws configservice get-resource-config-history` (`{"configurationItems":
//!   [...]}`), with `accountId`, a string `configurationStateId`, the capture time as epoch
//!   seconds (or RFC 3339 with CLI v2) and `configuration` as a JSON *string*;
//! - older spellings the AWS documentation shows (`configurationStateID`).
//!
//! The `configuration` body is the `describe-*` output with lowerCamelCase keys; it is turned
//! into the snapshot's own types ([`crate::snapshot`], PascalCase) by [`body_to_snapshot`]:
//! keys capitalised, nulls dropped (an absent field), and for security groups the legacy
//! `ipRanges` list of strings merged with `ipv4Ranges` (deduplicated).
//!
//! Only the types that matter to reachability are kept: security groups, network ACLs, route
//! tables and network interfaces (their groups). Items of other types are counted as passed by.

use crate::snapshot::{NetworkAcl, RouteTable, SecurityGroup};
use serde::Serialize;
use serde_json::{Map, Value};

/// The resource types kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ConfigKind {
    /// `AWS::EC2::SecurityGroup`.
    #[serde(rename = "AWS::EC2::SecurityGroup")]
    SecurityGroup,
    /// `AWS::EC2::NetworkAcl`.
    #[serde(rename = "AWS::EC2::NetworkAcl")]
    NetworkAcl,
    /// `AWS::EC2::RouteTable`.
    #[serde(rename = "AWS::EC2::RouteTable")]
    RouteTable,
    /// `AWS::EC2::NetworkInterface` (its security groups).
    #[serde(rename = "AWS::EC2::NetworkInterface")]
    NetworkInterface,
}

impl ConfigKind {
    /// The kind of a Config `resourceType`, when it matters to reachability.
    pub fn of(resource_type: &str) -> Option<ConfigKind> {
        match resource_type {
            "AWS::EC2::SecurityGroup" => Some(ConfigKind::SecurityGroup),
            "AWS::EC2::NetworkAcl" => Some(ConfigKind::NetworkAcl),
            "AWS::EC2::RouteTable" => Some(ConfigKind::RouteTable),
            "AWS::EC2::NetworkInterface" => Some(ConfigKind::NetworkInterface),
            _ => None,
        }
    }

    /// The Config `resourceType`.
    pub fn resource_type(self) -> &'static str {
        match self {
            ConfigKind::SecurityGroup => "AWS::EC2::SecurityGroup",
            ConfigKind::NetworkAcl => "AWS::EC2::NetworkAcl",
            ConfigKind::RouteTable => "AWS::EC2::RouteTable",
            ConfigKind::NetworkInterface => "AWS::EC2::NetworkInterface",
        }
    }
}

/// What an item says the resource is from its capture time on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigState {
    /// A security group, exactly.
    SecurityGroup(SecurityGroup),
    /// A network ACL, exactly (entries and associations).
    NetworkAcl(NetworkAcl),
    /// A route table, exactly (routes and associations).
    RouteTable(RouteTable),
    /// A network interface's security groups (ids).
    NetworkInterface {
        /// The groups attached.
        groups: Vec<String>,
    },
    /// `ResourceDeleted` / `ResourceDeletedNotRecorded`: the resource no longer exists.
    Deleted,
    /// `ResourceNotRecorded`: Config does not say what it is (not a state: nothing is known
    /// from this item).
    NotRecorded,
}

/// One configuration item of a type that matters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfigItem {
    /// Which type (`resource_type` in JSON).
    #[serde(rename = "resource_type")]
    pub kind: ConfigKind,
    /// `resourceId` (`sg-…`, `acl-…`, `rtb-…`, `eni-…`).
    pub resource_id: String,
    /// `configurationItemStatus`.
    pub status: String,
    /// `configurationStateId`, as text.
    pub state_id: Option<String>,
    /// `configurationItemCaptureTime`, RFC 3339 as read back (to the millisecond when given).
    pub capture_time: String,
    /// What the resource is.
    pub state: ConfigState,
}

/// An item read: kept, of a type that does not matter, or bad.
#[derive(Debug)]
pub enum Read {
    /// An item of a type that matters, with its time (Unix seconds) and the account and Region
    /// it names.
    Item {
        /// The item.
        item: Box<ConfigItem>,
        /// Capture time, Unix seconds.
        time: i64,
        /// `awsAccountId` / `accountId`.
        account: Option<String>,
        /// `awsRegion`.
        region: Option<String>,
    },
    /// A resource type that does not matter to reachability (its `resourceType`).
    PassedBy(String),
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Whether a JSON object looks like a configuration item (rather than a CloudTrail record).
pub fn is_item(v: &Value) -> bool {
    v.get("configurationItemCaptureTime").is_some() && v.get("resourceType").is_some()
}

/// The capture time: an RFC 3339 string (file form, CLI v2) or epoch seconds (API, CLI v1).
/// Returns Unix seconds and the RFC 3339 text.
fn capture_time(v: &Value) -> Result<(i64, String), String> {
    match v.get("configurationItemCaptureTime") {
        Some(Value::String(t)) => {
            let parsed = t
                .parse::<crate::timestamp::TimeArg>()
                .map_err(|e| format!("`configurationItemCaptureTime`: {e}"))?;
            Ok((parsed.start, t.clone()))
        }
        Some(Value::Number(n)) => {
            let secs = n
                .as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1e12)
                .ok_or("`configurationItemCaptureTime` is not a time")?;
            let whole = secs.floor() as i64;
            Ok((whole, crate::timestamp::Rfc3339(whole).to_string()))
        }
        _ => Err("no `configurationItemCaptureTime`".into()),
    }
}

/// Reads one configuration item (any of the three shapes).
pub fn parse_item(v: &Value) -> Result<Read, String> {
    if !v.is_object() {
        return Err("not a JSON object".into());
    }
    let resource_type = s(v, "resourceType").ok_or("no `resourceType`")?;
    let Some(kind) = ConfigKind::of(resource_type) else {
        return Ok(Read::PassedBy(resource_type.to_string()));
    };
    let status = s(v, "configurationItemStatus").ok_or("no `configurationItemStatus`")?;
    let (time, capture) = capture_time(v)?;
    let body = match v.get("configuration") {
        // API form: the body is a JSON string, decoded again.
        Some(Value::String(text)) if !text.trim().is_empty() => Some(
            serde_json::from_str::<Value>(text)
                .map_err(|e| format!("`configuration` is a string but not JSON: {e}"))?,
        ),
        Some(Value::Object(_)) => v.get("configuration").cloned(),
        _ => None,
    };
    let resource_id = s(v, "resourceId")
        .map(str::to_string)
        .or_else(|| {
            let key = match kind {
                ConfigKind::SecurityGroup => "groupId",
                ConfigKind::NetworkAcl => "networkAclId",
                ConfigKind::RouteTable => "routeTableId",
                ConfigKind::NetworkInterface => "networkInterfaceId",
            };
            body.as_ref().and_then(|b| s(b, key)).map(str::to_string)
        })
        .ok_or("no `resourceId`")?;
    let state_id = ["configurationStateId", "configurationStateID"]
        .iter()
        .find_map(|k| match v.get(*k) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        });
    let account = s(v, "awsAccountId")
        .or_else(|| s(v, "accountId"))
        .map(str::to_string);
    let region = s(v, "awsRegion").map(str::to_string);
    let state = match status {
        "OK" | "ResourceDiscovered" => {
            let body =
                body.ok_or_else(|| format!("status `{status}` without a `configuration` body"))?;
            let mut state = body_to_snapshot(kind, &body)?;
            set_origin(&mut state, account.as_deref(), region.as_deref());
            check_id(&state, &resource_id)?;
            state
        }
        "ResourceDeleted" | "ResourceDeletedNotRecorded" => ConfigState::Deleted,
        "ResourceNotRecorded" => ConfigState::NotRecorded,
        other => {
            return Err(format!(
                "unknown `configurationItemStatus` `{}`",
                crate::render::sanitize(other)
            ))
        }
    };
    Ok(Read::Item {
        item: Box::new(ConfigItem {
            kind,
            resource_id,
            status: status.to_string(),
            state_id,
            capture_time: capture,
            state,
        }),
        time,
        account,
        region,
    })
}

/// The body names the same resource as the item.
fn check_id(state: &ConfigState, id: &str) -> Result<(), String> {
    let body_id = match state {
        ConfigState::SecurityGroup(g) => &g.group_id,
        ConfigState::NetworkAcl(a) => &a.network_acl_id,
        ConfigState::RouteTable(r) => &r.route_table_id,
        _ => return Ok(()),
    };
    if body_id != id {
        return Err(format!(
            "`resourceId` `{}` and the body's id `{}` differ",
            crate::render::sanitize(id),
            crate::render::sanitize(body_id)
        ));
    }
    Ok(())
}

fn set_origin(state: &mut ConfigState, account: Option<&str>, region: Option<&str>) {
    let origin = crate::snapshot::Origin {
        account: account.map(str::to_string),
        region: region.map(str::to_string),
    };
    match state {
        ConfigState::SecurityGroup(g) => {
            if g.owner_id.is_none() {
                g.owner_id = origin.account.clone();
            }
            g.origin = origin;
        }
        ConfigState::NetworkAcl(a) => a.origin = origin,
        ConfigState::RouteTable(r) => r.origin = origin,
        _ => {}
    }
}

/// A `configuration` body (lowerCamelCase `describe-*` form) as the snapshot's type.
pub fn body_to_snapshot(kind: ConfigKind, body: &Value) -> Result<ConfigState, String> {
    if !body.is_object() {
        return Err("`configuration` is not a JSON object".into());
    }
    let mut body = body.clone();
    if kind == ConfigKind::SecurityGroup {
        for key in ["ipPermissions", "ipPermissionsEgress"] {
            if let Some(Value::Array(perms)) = body.get_mut(key) {
                for p in perms.iter_mut() {
                    merge_ranges(p)?;
                }
            }
        }
    }
    let pascal = pascal(body);
    let bad = |e: serde_json::Error| format!("`configuration` of {}: {e}", kind.resource_type());
    Ok(match kind {
        ConfigKind::SecurityGroup => {
            let g: SecurityGroup = serde_json::from_value(pascal).map_err(bad)?;
            if g.group_id.is_empty() {
                return Err("`configuration` without `groupId`".into());
            }
            ConfigState::SecurityGroup(g)
        }
        ConfigKind::NetworkAcl => {
            let a: NetworkAcl = serde_json::from_value(pascal).map_err(bad)?;
            if a.network_acl_id.is_empty() {
                return Err("`configuration` without `networkAclId`".into());
            }
            ConfigState::NetworkAcl(a)
        }
        ConfigKind::RouteTable => {
            let r: RouteTable = serde_json::from_value(pascal).map_err(bad)?;
            if r.route_table_id.is_empty() {
                return Err("`configuration` without `routeTableId`".into());
            }
            ConfigState::RouteTable(r)
        }
        ConfigKind::NetworkInterface => {
            let groups = match pascal.get("Groups") {
                Some(Value::Array(gs)) => gs
                    .iter()
                    .map(|g| {
                        g.get("GroupId")
                            .and_then(Value::as_str)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .ok_or_else(|| "a `groups` item without `groupId`".to_string())
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                None => Vec::new(),
                Some(_) => return Err("`groups` is not a list".into()),
            };
            ConfigState::NetworkInterface { groups }
        }
    })
}

/// One permission's `ipRanges` (legacy: CIDR strings) and `ipv4Ranges` (`{cidrIp,
/// description}`) as one `ipRanges` list of objects, each CIDR once (the one with a
/// description kept).
fn merge_ranges(p: &mut Value) -> Result<(), String> {
    let Some(m) = p.as_object_mut() else {
        return Err("an `ipPermissions` item is not an object".into());
    };
    let mut out: Vec<Value> = Vec::new();
    let mut push = |cidr: &str, description: Option<&Value>| {
        if let Some(existing) = out
            .iter_mut()
            .find(|x| x.get("cidrIp").and_then(Value::as_str) == Some(cidr))
        {
            if let (Some(d), Some(o)) = (description, existing.as_object_mut()) {
                o.insert("description".into(), d.clone());
            }
            return;
        }
        let mut o = Map::new();
        o.insert("cidrIp".into(), Value::String(cidr.to_string()));
        if let Some(d) = description {
            o.insert("description".into(), d.clone());
        }
        out.push(Value::Object(o));
    };
    for key in ["ipv4Ranges", "ipRanges"] {
        match m.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(rs)) => {
                for r in rs {
                    match r {
                        Value::String(c) => push(c, None),
                        Value::Object(o) => {
                            let c = o
                                .get("cidrIp")
                                .and_then(Value::as_str)
                                .ok_or_else(|| format!("an `{key}` item without `cidrIp`"))?;
                            push(c, o.get("description").filter(|d| !d.is_null()));
                        }
                        _ => {
                            return Err(format!("an `{key}` item is neither a CIDR nor an object"))
                        }
                    }
                }
            }
            Some(_) => return Err(format!("`{key}` is not a list")),
        }
    }
    m.remove("ipv4Ranges");
    m.insert("ipRanges".into(), Value::Array(out));
    Ok(())
}

/// Keys with their first letter capitalised (`groupId` → `GroupId`), all the way down; null
/// values dropped (the snapshot's types read an absent field as empty).
fn pascal(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let key = match c.next() {
                        Some(f) => f.to_uppercase().chain(c).collect(),
                        None => k,
                    };
                    (key, pascal(v))
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(pascal).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(kind: &str, id: &str, status: &str, body: Value) -> Value {
        json!({
            "configurationItemVersion": "1.3",
            "configurationItemCaptureTime": "2019-08-22T20:35:49.316Z",
            "configurationStateId": 1566506149316_i64,
            "awsAccountId": "123456789012",
            "configurationItemStatus": status,
            "resourceType": kind,
            "resourceId": id,
            "awsRegion": "us-east-1",
            "configuration": body,
        })
    }

    fn read(v: &Value) -> (ConfigItem, i64) {
        match parse_item(v) {
            Ok(Read::Item { item, time, .. }) => (*item, time),
            other => panic!("not an item: {other:?}"),
        }
    }

    /// The security group of `aws-data-formats.md` §2.2 (a real CI): `ipRanges` strings and
    /// `ipv4Ranges` objects both, prefix lists, an all-protocol egress rule.
    #[test]
    fn security_group_body() {
        let body = json!({"description":"ssh access","groupName":"ssh access","groupId":"sg-0818e372ea99a715f","ownerId":"XXXXXXXXXXXX","vpcId":"vpc-08300e6e","tags":[],
         "ipPermissions":[{"fromPort":80,"ipProtocol":"tcp","ipv6Ranges":[],"prefixListIds":[{"prefixListId":"pl-07a5406e"}],"toPort":80,"userIdGroupPairs":[],"ipv4Ranges":[],"ipRanges":[]},
                          {"fromPort":22,"ipProtocol":"tcp","ipv6Ranges":[{"cidrIpv6":"2001:db8::/32"}],"prefixListIds":[{"prefixListId":"pl-07a5406e"}],"toPort":22,"userIdGroupPairs":[{"userId":"987654321","groupName":null,"groupId":"sg-gfedcba","vpcId":null,"vpcPeeringConnectionId":null,"peeringStatus":null}],"ipv4Ranges":[{"cidrIp":"54.240.197.232/32","description":"office"}],"ipRanges":["54.240.197.232/32","10.0.0.0/8"]}],
         "ipPermissionsEgress":[{"ipProtocol":"-1","ipv6Ranges":[],"prefixListIds":[],"userIdGroupPairs":[],"ipv4Ranges":[{"cidrIp":"0.0.0.0/0"}],"ipRanges":["0.0.0.0/0"]}]});
        let (it, time) = read(&item(
            "AWS::EC2::SecurityGroup",
            "sg-0818e372ea99a715f",
            "OK",
            body,
        ));
        assert_eq!(time, 1566506149);
        assert_eq!(it.state_id.as_deref(), Some("1566506149316"));
        let ConfigState::SecurityGroup(g) = it.state else {
            panic!("not a group")
        };
        assert_eq!(g.group_id, "sg-0818e372ea99a715f");
        assert_eq!(g.vpc_id.as_deref(), Some("vpc-08300e6e"));
        assert_eq!(g.ip_permissions.len(), 2);
        let ssh = &g.ip_permissions[1];
        assert_eq!(
            (ssh.ip_protocol.as_str(), ssh.from_port, ssh.to_port),
            ("tcp", Some(22), Some(22))
        );
        let cidrs: Vec<(&str, Option<&str>)> = ssh
            .ip_ranges
            .iter()
            .map(|r| (r.cidr_ip.as_str(), r.description.as_deref()))
            .collect();
        assert_eq!(
            cidrs,
            vec![("54.240.197.232/32", Some("office")), ("10.0.0.0/8", None)]
        );
        assert_eq!(ssh.ipv6_ranges[0].cidr_ipv6, "2001:db8::/32");
        assert_eq!(ssh.prefix_list_ids[0].prefix_list_id, "pl-07a5406e");
        assert_eq!(
            ssh.user_id_group_pairs[0].group_id.as_deref(),
            Some("sg-gfedcba")
        );
        assert_eq!(
            ssh.user_id_group_pairs[0].user_id.as_deref(),
            Some("987654321")
        );
        let all = &g.ip_permissions_egress[0];
        assert_eq!((all.ip_protocol.as_str(), all.from_port), ("-1", None));
        assert_eq!(all.ip_ranges.len(), 1);
        assert_eq!(g.origin.region.as_deref(), Some("us-east-1"));
    }

    /// The older form: only `ipRanges` strings, `fromPort`/`toPort` null on `-1` rules.
    #[test]
    fn security_group_older_form() {
        let body = json!({"ownerId":"605053316265","groupName":"default","groupId":"sg-6fbb3807",
            "ipPermissions":[{"ipProtocol":"-1","fromPort":null,"toPort":null,"userIdGroupPairs":[{"userId":"amazon-elb","groupName":"amazon-elb-sg","groupId":"sg-843f59ed"}],"ipRanges":[]},
                             {"ipProtocol":"tcp","fromPort":80,"toPort":80,"userIdGroupPairs":[],"ipRanges":["0.0.0.0/0"]}],
            "ipPermissionsEgress":[],"vpcId":null,"tags":[]});
        let (it, _) = read(&item("AWS::EC2::SecurityGroup", "sg-6fbb3807", "OK", body));
        let ConfigState::SecurityGroup(g) = it.state else {
            panic!("not a group")
        };
        assert_eq!(g.vpc_id, None);
        assert_eq!(g.ip_permissions[0].from_port, None);
        assert_eq!(g.ip_permissions[1].ip_ranges[0].cidr_ip, "0.0.0.0/0");
        assert!(g.ip_permissions_egress.is_empty());
    }

    /// The network ACL of §2.2: string protocols, null port ranges, the `*` rule.
    #[test]
    fn network_acl_body() {
        let body = json!({"associations":[{"networkAclAssociationId":"aclassoc-bbb81bc5","networkAclId":"acl-d23888ab","subnetId":"subnet-1ddeb67b"}],
         "entries":[{"cidrBlock":"0.0.0.0/0","egress":true,"icmpTypeCode":null,"ipv6CidrBlock":null,"portRange":null,"protocol":"-1","ruleAction":"allow","ruleNumber":100},
                    {"cidrBlock":"0.0.0.0/0","egress":true,"icmpTypeCode":null,"ipv6CidrBlock":null,"portRange":null,"protocol":"-1","ruleAction":"deny","ruleNumber":32767},
                    {"cidrBlock":"203.0.113.0/24","egress":false,"icmpTypeCode":null,"ipv6CidrBlock":null,"portRange":{"from":22,"to":22},"protocol":"6","ruleAction":"deny","ruleNumber":90},
                    {"cidrBlock":"0.0.0.0/0","egress":false,"icmpTypeCode":{"code":-1,"type":8},"ipv6CidrBlock":null,"portRange":null,"protocol":"1","ruleAction":"allow","ruleNumber":110}],
         "isDefault":true,"networkAclId":"acl-d23888ab","tags":[],"vpcId":"vpc-08300e6e","ownerId":"XXXXXXXXXXXX"});
        let (it, _) = read(&item("AWS::EC2::NetworkAcl", "acl-d23888ab", "OK", body));
        let ConfigState::NetworkAcl(a) = it.state else {
            panic!("not a NACL")
        };
        assert_eq!(a.vpc_id, "vpc-08300e6e");
        assert_eq!(a.is_default, Some(true));
        assert_eq!(
            a.associations[0].subnet_id.as_deref(),
            Some("subnet-1ddeb67b")
        );
        assert_eq!(a.entries.len(), 4);
        let ssh = &a.entries[2];
        assert_eq!(
            (
                ssh.rule_number,
                ssh.egress,
                ssh.protocol.as_str(),
                ssh.rule_action.as_str()
            ),
            (90, false, "6", "deny")
        );
        assert_eq!(ssh.port_range.as_ref().and_then(|p| p.from), Some(22));
        assert_eq!(ssh.cidr_block.as_deref(), Some("203.0.113.0/24"));
        assert_eq!(a.entries[0].port_range, None);
        let icmp = a.entries[3]
            .icmp_type_code
            .as_ref()
            .map(|c| (c.icmp_type, c.code));
        assert_eq!(icmp, Some((Some(8), Some(-1))));
    }

    /// The route table of §2.2: a local route, a NAT gateway route, a subnet association.
    #[test]
    fn route_table_body() {
        let body = json!({"associations":[{"main":false,"routeTableAssociationId":"rtbassoc-0f005326220ab8f1e","routeTableId":"rtb-0c849aeeb00bc7385","subnetId":"subnet-0306ddd2f189b4662"}],
         "propagatingVgws":[],"routeTableId":"rtb-0c849aeeb00bc7385","vpcId":"vpc-0e10109041c39ad16","ownerId":"XXXXXXXXXXXX",
         "routes":[{"destinationCidrBlock":"10.0.0.0/16","destinationIpv6CidrBlock":null,"destinationPrefixListId":null,"egressOnlyInternetGatewayId":null,"gatewayId":"local","instanceId":null,"instanceOwnerId":null,"natGatewayId":null,"transitGatewayId":null,"networkInterfaceId":null,"origin":"CreateRouteTable","state":"active","vpcPeeringConnectionId":null},
                   {"destinationCidrBlock":"0.0.0.0/0","gatewayId":null,"natGatewayId":"nat-0bbd8ef44d5997e77","origin":"CreateRoute","state":"active"}]});
        let (it, _) = read(&item(
            "AWS::EC2::RouteTable",
            "rtb-0c849aeeb00bc7385",
            "OK",
            body,
        ));
        let ConfigState::RouteTable(r) = it.state else {
            panic!("not a route table")
        };
        assert_eq!(r.vpc_id, "vpc-0e10109041c39ad16");
        assert_eq!(r.associations[0].main, Some(false));
        assert_eq!(
            r.associations[0].subnet_id.as_deref(),
            Some("subnet-0306ddd2f189b4662")
        );
        assert_eq!(r.routes[0].gateway_id.as_deref(), Some("local"));
        assert_eq!(
            r.routes[1].destination_cidr_block.as_deref(),
            Some("0.0.0.0/0")
        );
        assert_eq!(
            r.routes[1].nat_gateway_id.as_deref(),
            Some("nat-0bbd8ef44d5997e77")
        );
        assert_eq!(r.routes[1].gateway_id, None);
    }

    /// A network interface: its groups.
    #[test]
    fn network_interface_body() {
        let body = json!({"networkInterfaceId":"eni-0a1","subnetId":"subnet-1","vpcId":"vpc-1","interfaceType":"interface",
            "groups":[{"groupName":"web","groupId":"sg-1"},{"groupName":"ssh","groupId":"sg-2"}],
            "attachment":{"attachmentId":"eni-attach-1","instanceId":"i-1","deviceIndex":0,"status":"attached"},
            "privateIpAddress":"10.0.1.5","status":"in-use","tagSet":[]});
        let (it, _) = read(&item("AWS::EC2::NetworkInterface", "eni-0a1", "OK", body));
        assert_eq!(
            it.state,
            ConfigState::NetworkInterface {
                groups: vec!["sg-1".into(), "sg-2".into()]
            }
        );
        let bad = json!({"networkInterfaceId":"eni-0a1","groups":[{"groupName":"web"}]});
        let e = parse_item(&item("AWS::EC2::NetworkInterface", "eni-0a1", "OK", bad));
        assert!(e.is_err_and(|e| e.contains("groupId")));
    }

    /// The deleted instance of §2.1 is passed by (an instance); a deleted group is `Deleted`
    /// with `configuration: null`; a not-recorded one is `NotRecorded`.
    #[test]
    fn statuses() {
        let v = json!({"relationships":[],"configurationItemCaptureTime":"2018-07-04T01:54:02.810Z","availabilityZone":null,"configurationStateMd5Hash":"",
         "tags":{},"resourceType":"AWS::EC2::Instance","configurationItemVersion":"1.3","configurationStateId":1530669242810_i64,"relatedEvents":[],
         "awsRegion":"ap-northeast-1","ARN":"arn:aws:ec2:…:instance/i-05888074e384774ef","supplementaryConfiguration":{},"resourceName":null,
         "configuration":null,"resourceId":"i-05888074e384774ef","resourceCreationTime":null,"configurationItemStatus":"ResourceDeleted","awsAccountId":"…"});
        assert!(matches!(parse_item(&v), Ok(Read::PassedBy(t)) if t == "AWS::EC2::Instance"));
        let (it, _) = read(&item(
            "AWS::EC2::SecurityGroup",
            "sg-1",
            "ResourceDeleted",
            Value::Null,
        ));
        assert_eq!(it.state, ConfigState::Deleted);
        let (it, _) = read(&item(
            "AWS::EC2::SecurityGroup",
            "sg-1",
            "ResourceDeletedNotRecorded",
            Value::Null,
        ));
        assert_eq!(it.state, ConfigState::Deleted);
        let (it, _) = read(&item(
            "AWS::EC2::NetworkAcl",
            "acl-1",
            "ResourceNotRecorded",
            Value::Null,
        ));
        assert_eq!(it.state, ConfigState::NotRecorded);
        // OK without a body, an unknown status, a body naming another resource: errors.
        for (status, body) in [
            ("OK", Value::Null),
            ("Sideways", json!({})),
            ("OK", json!({"groupId": "sg-2"})),
        ] {
            let e = parse_item(&item("AWS::EC2::SecurityGroup", "sg-1", status, body));
            assert!(e.is_err(), "{status}: {e:?}");
        }
    }

    /// The API form (`get-resource-config-history`): `configuration` a JSON string, the time
    /// in epoch seconds, `accountId`, the state id a string.
    #[test]
    fn api_form() {
        let v = json!({"version":"1.3","accountId":"605053316265","configurationItemCaptureTime":1414708529.922,
           "configurationItemStatus":"ResourceDiscovered","configurationStateId":"1","configurationItemMD5Hash":"",
           "arn":"arn:aws:ec2:us-east-2:012345678912:security-group/default","resourceType":"AWS::EC2::SecurityGroup",
           "resourceId":"sg-6fbb3807","availabilityZone":"Not Applicable","tags":{},"relatedEvents":[],
           "relationships":[{"resourceType":"AWS::EC2::Instance","resourceId":"i-7a3b232a","relationshipName":"Is associated with Instance"}],
           "configuration":"{\"ownerId\":\"605053316265\",\"groupName\":\"default\",\"groupId\":\"sg-6fbb3807\",\"ipPermissions\":[{\"ipProtocol\":\"tcp\",\"fromPort\":80,\"toPort\":80,\"userIdGroupPairs\":[],\"ipRanges\":[\"0.0.0.0/0\"]}],\"ipPermissionsEgress\":[],\"vpcId\":null,\"tags\":[]}",
           "supplementaryConfiguration":{}});
        let (it, time) = read(&v);
        assert_eq!(time, 1414708529);
        assert_eq!(it.state_id.as_deref(), Some("1"));
        let ConfigState::SecurityGroup(g) = it.state else {
            panic!("not a group")
        };
        assert_eq!(g.owner_id.as_deref(), Some("605053316265"));
        assert_eq!(g.ip_permissions[0].ip_ranges[0].cidr_ip, "0.0.0.0/0");
        // A string that is not JSON is named.
        let mut bad = v.clone();
        bad["configuration"] = json!("{not json");
        assert!(parse_item(&bad).is_err_and(|e| e.contains("not JSON")));
    }
}
