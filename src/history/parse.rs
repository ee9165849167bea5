//! One CloudTrail record into a typed [`Change`], for the EC2 calls that change reachability.
//! The shapes are those of `aws-data-formats.md` §3: EC2 lists as `{"items": [...]}` (an empty
//! list as `{}`), ports as integers or numeric strings, `ModifySecurityGroupRules` wrapped and
//! PascalCase.

use super::{Change, Event, Op, Peer, SgRule};
use crate::snapshot::{IcmpTypeCode, NetworkAclEntry, PortRange, Route};
use serde_json::Value;

/// The CloudTrail event names (EC2 API calls) that can change reachability: the calls
/// [`parse_record`] reads as a [`Change`]; it reads every other call as not a change.
/// `cloudtrail://REGION` looks up each of these by name.
pub const CHANGE_APIS: &[&str] = &[
    "AuthorizeSecurityGroupIngress",
    "AuthorizeSecurityGroupEgress",
    "RevokeSecurityGroupIngress",
    "RevokeSecurityGroupEgress",
    "ModifySecurityGroupRules",
    "CreateSecurityGroup",
    "DeleteSecurityGroup",
    "CreateNetworkAclEntry",
    "ReplaceNetworkAclEntry",
    "DeleteNetworkAclEntry",
    "ReplaceNetworkAclAssociation",
    "CreateRoute",
    "ReplaceRoute",
    "DeleteRoute",
    "AssociateRouteTable",
    "ReplaceRouteTableAssociation",
    "DisassociateRouteTable",
    "ModifyNetworkInterfaceAttribute",
    "ModifyInstanceAttribute",
];

/// A record read: its id and what it is.
#[derive(Debug)]
pub struct Parsed {
    /// `eventID`.
    pub event_id: String,
    /// What the record means.
    pub outcome: Outcome,
}

/// What a record means for the network.
#[derive(Debug)]
pub enum Outcome {
    /// A successful call that changed reachability.
    Change(Box<Event>),
    /// A failed call (or a dry run): nothing changed.
    Failed {
        /// `Client.DryRunOperation`.
        dry_run: bool,
    },
    /// A call that does not change reachability.
    NotAChange,
    /// A call that changes reachability but whose parameters cannot be read: why.
    Bad(String),
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// An integer, or a numeric string (one fixture has `"fromPort": "443"`).
fn int(v: &Value, k: &str) -> Option<i64> {
    match v.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn boolean(v: &Value, k: &str) -> Option<bool> {
    match v.get(k)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// The elements of an EC2 list: `{"items": [...]}`, `{}` (empty), or a bare list.
fn items(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Object(m)) => match m.get("items") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => Vec::new(),
        },
        Some(Value::Array(a)) => a.iter().collect(),
        _ => Vec::new(),
    }
}

/// `tcp`/`6` → `tcp` and so on; `-1`/`all` → `-1`.
pub(super) fn norm_protocol(p: &str) -> String {
    match p.trim().to_ascii_lowercase().as_str() {
        "6" | "tcp" => "tcp".into(),
        "17" | "udp" => "udp".into(),
        "1" | "icmp" => "icmp".into(),
        "58" | "icmpv6" => "icmpv6".into(),
        "-1" | "all" => "-1".into(),
        other => other.to_string(),
    }
}

/// Ports as a rule keeps them: none for all protocols, and none for `-1`/`-1` of TCP or UDP
/// (AWS's all ports).
pub(super) fn norm_ports(
    protocol: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> (Option<i32>, Option<i32>) {
    if protocol == "-1" {
        return (None, None);
    }
    let from = from.and_then(|f| i32::try_from(f).ok());
    let to = to.and_then(|t| i32::try_from(t).ok());
    (from, to)
}

/// Reads one CloudTrail record (already out of an EventBridge wrapper). An `Err` is a record
/// without an `eventID`, `eventName` or readable `eventTime`.
pub fn parse_record(rec: &Value) -> Result<Parsed, String> {
    if !rec.is_object() {
        return Err("not a JSON object".into());
    }
    let event_id = s(rec, "eventID").ok_or("no `eventID`")?.to_string();
    let api = s(rec, "eventName").ok_or("no `eventName`")?.to_string();
    let time_text = s(rec, "eventTime").ok_or("no `eventTime`")?;
    let time = time_text
        .parse::<crate::timestamp::TimeArg>()
        .map_err(|e| format!("`eventTime`: {e}"))?
        .start;
    let outcome = if rec
        .get("errorCode")
        .is_some_and(|e| !e.is_null() && e.as_str() != Some(""))
    {
        Outcome::Failed {
            dry_run: s(rec, "errorCode").is_some_and(|c| c.ends_with("DryRunOperation")),
        }
    } else if s(rec, "eventSource").is_some_and(|src| src != "ec2.amazonaws.com") {
        Outcome::NotAChange
    } else {
        let req = rec.get("requestParameters").unwrap_or(&Value::Null);
        let resp = rec.get("responseElements").unwrap_or(&Value::Null);
        match change(&api, req, resp) {
            Ok(None) => Outcome::NotAChange,
            Ok(Some(change)) => Outcome::Change(Box::new(Event {
                event_id: event_id.clone(),
                time,
                api,
                principal: rec
                    .get("userIdentity")
                    .and_then(|u| s(u, "arn").or_else(|| s(u, "invokedBy")))
                    .map(str::to_string),
                source_ip: s(rec, "sourceIPAddress").map(str::to_string),
                region: s(rec, "awsRegion").map(str::to_string),
                account: s(rec, "recipientAccountId")
                    .or_else(|| rec.get("userIdentity").and_then(|u| s(u, "accountId")))
                    .map(str::to_string),
                change,
            })),
            Err(e) => Outcome::Bad(e),
        }
    };
    Ok(Parsed { event_id, outcome })
}

/// The rules of an `ipPermissions` list (and the legacy flat form).
fn request_rules(req: &Value) -> Result<Vec<SgRule>, String> {
    let mut out = Vec::new();
    let perms = items(req.get("ipPermissions"));
    for p in perms {
        let protocol = norm_protocol(
            s(p, "ipProtocol").ok_or("an `ipPermissions` item without `ipProtocol`")?,
        );
        let (from, to) = norm_ports(&protocol, int(p, "fromPort"), int(p, "toPort"));
        let mut push = |peer| {
            out.push(SgRule {
                protocol: protocol.clone(),
                from,
                to,
                peer,
            })
        };
        for r in items(p.get("ipRanges")) {
            push(Peer::Cidr4(
                s(r, "cidrIp")
                    .ok_or("an `ipRanges` item without `cidrIp`")?
                    .into(),
            ));
        }
        for r in items(p.get("ipv6Ranges")) {
            push(Peer::Cidr6(
                s(r, "cidrIpv6")
                    .ok_or("an `ipv6Ranges` item without `cidrIpv6`")?
                    .into(),
            ));
        }
        for r in items(p.get("prefixListIds")) {
            push(Peer::PrefixList(
                s(r, "prefixListId")
                    .ok_or("a `prefixListIds` item without `prefixListId`")?
                    .into(),
            ));
        }
        for r in items(p.get("groups")) {
            push(Peer::Group(
                s(r, "groupId")
                    .ok_or("a `groups` item without `groupId`")?
                    .into(),
            ));
        }
    }
    // The legacy flat form (`--protocol/--port/--cidr`).
    if let Some(cidr) = s(req, "cidrIp") {
        let protocol = norm_protocol(s(req, "ipProtocol").ok_or("`cidrIp` without `ipProtocol`")?);
        let (from, to) = norm_ports(&protocol, int(req, "fromPort"), int(req, "toPort"));
        let peer = if cidr.contains(':') {
            Peer::Cidr6(cidr.into())
        } else {
            Peer::Cidr4(cidr.into())
        };
        out.push(SgRule {
            protocol,
            from,
            to,
            peer,
        });
    }
    if let Some(g) = s(req, "sourceSecurityGroupId") {
        let protocol = norm_protocol(s(req, "ipProtocol").unwrap_or("-1"));
        let (from, to) = norm_ports(&protocol, int(req, "fromPort"), int(req, "toPort"));
        out.push(SgRule {
            protocol,
            from,
            to,
            peer: Peer::Group(g.into()),
        });
    }
    Ok(out)
}

/// One item of `securityGroupRuleSet` / `revokedSecurityGroupRuleSet` (camelCase), or the
/// PascalCase rule of `ModifySecurityGroupRules` (`pascal`).
fn set_rule(r: &Value, pascal: bool) -> Result<SgRule, String> {
    let k = |camel: &'static str, pas: &'static str| if pascal { pas } else { camel };
    let protocol =
        norm_protocol(s(r, k("ipProtocol", "IpProtocol")).ok_or("a rule without `ipProtocol`")?);
    let (from, to) = norm_ports(
        &protocol,
        int(r, k("fromPort", "FromPort")),
        int(r, k("toPort", "ToPort")),
    );
    let peer = if let Some(c) = s(r, k("cidrIpv4", "CidrIpv4")) {
        Peer::Cidr4(c.into())
    } else if let Some(c) = s(r, k("cidrIpv6", "CidrIpv6")) {
        Peer::Cidr6(c.into())
    } else if let Some(c) = s(r, k("prefixListId", "PrefixListId")) {
        Peer::PrefixList(c.into())
    } else if let Some(g) = s(r, k("referencedGroupId", "ReferencedGroupId"))
        .or_else(|| r.get("referencedGroupInfo").and_then(|g| s(g, "groupId")))
    {
        Peer::Group(g.into())
    } else {
        return Err("a rule without a CIDR, prefix list or group".into());
    };
    Ok(SgRule {
        protocol,
        from,
        to,
        peer,
    })
}

fn nacl_entry(req: &Value, egress: bool, rule_number: i64) -> Result<NetworkAclEntry, String> {
    let protocol = s(req, "aclProtocol")
        .or_else(|| s(req, "protocol"))
        .map(str::to_string)
        .or_else(|| int(req, "aclProtocol").map(|n| n.to_string()))
        .ok_or("no `aclProtocol`")?;
    let action = s(req, "ruleAction")
        .ok_or("no `ruleAction`")?
        .to_ascii_lowercase();
    let port_range = req
        .get("portRange")
        .filter(|p| p.get("from").is_some())
        .map(|p| PortRange {
            from: int(p, "from").and_then(|v| i32::try_from(v).ok()),
            to: int(p, "to").and_then(|v| i32::try_from(v).ok()),
        });
    let icmp = req
        .get("icmpTypeCode")
        .filter(|p| p.get("type").is_some())
        .map(|p| IcmpTypeCode {
            code: int(p, "code").and_then(|v| i32::try_from(v).ok()),
            icmp_type: int(p, "type").and_then(|v| i32::try_from(v).ok()),
        });
    let cidr = s(req, "cidrBlock").map(str::to_string);
    let cidr6 = s(req, "ipv6CidrBlock").map(str::to_string);
    if cidr.is_none() && cidr6.is_none() {
        return Err("no `cidrBlock` or `ipv6CidrBlock`".into());
    }
    Ok(NetworkAclEntry {
        cidr_block: cidr,
        ipv6_cidr_block: cidr6,
        egress,
        icmp_type_code: icmp,
        port_range,
        protocol,
        rule_action: action,
        rule_number,
    })
}

/// The route of a route call: destination, and target when there is one.
fn route(req: &Value) -> Result<Route, String> {
    let g = |k| s(req, k).map(str::to_string);
    let r = Route {
        destination_cidr_block: g("destinationCidrBlock"),
        destination_ipv6_cidr_block: g("destinationIpv6CidrBlock"),
        destination_prefix_list_id: g("destinationPrefixListId"),
        gateway_id: g("gatewayId").or_else(|| g("vpcEndpointId")),
        nat_gateway_id: g("natGatewayId"),
        network_interface_id: g("networkInterfaceId"),
        instance_id: g("instanceId"),
        vpc_peering_connection_id: g("vpcPeeringConnectionId"),
        transit_gateway_id: g("transitGatewayId"),
        egress_only_internet_gateway_id: g("egressOnlyInternetGatewayId"),
        local_gateway_id: g("localGatewayId"),
        carrier_gateway_id: g("carrierGatewayId"),
        core_network_arn: g("coreNetworkArn"),
        origin: Some("CreateRoute".into()),
        state: Some("active".into()),
    };
    if r.destination_cidr_block.is_none()
        && r.destination_ipv6_cidr_block.is_none()
        && r.destination_prefix_list_id.is_none()
    {
        return Err("no route destination".into());
    }
    Ok(r)
}

fn req_str(req: &Value, k: &str) -> Result<String, String> {
    s(req, k)
        .map(str::to_string)
        .ok_or_else(|| format!("no `{k}` in `requestParameters`"))
}

fn change(api: &str, req: &Value, resp: &Value) -> Result<Option<Change>, String> {
    Ok(Some(match api {
        "AuthorizeSecurityGroupIngress" | "AuthorizeSecurityGroupEgress" => {
            let egress = api.ends_with("Egress");
            let set = items(resp.get("securityGroupRuleSet"));
            let group_id = s(req, "groupId")
                .or_else(|| set.first().and_then(|r| s(r, "groupId")))
                .or_else(|| s(req, "groupName"))
                .ok_or("no `groupId` or `groupName`")?
                .to_string();
            let rules = if set.is_empty() {
                request_rules(req)?.into_iter().map(|r| (r, None)).collect()
            } else {
                set.iter()
                    .map(|r| {
                        Ok((
                            set_rule(r, false)?,
                            s(r, "securityGroupRuleId").map(str::to_string),
                        ))
                    })
                    .collect::<Result<Vec<_>, String>>()?
            };
            if rules.is_empty() {
                return Err("no rule in the request".into());
            }
            Change::Authorize {
                group_id,
                egress,
                rules,
            }
        }
        "RevokeSecurityGroupIngress" | "RevokeSecurityGroupEgress" => {
            let egress = api.ends_with("Egress");
            let set = resp.get("revokedSecurityGroupRuleSet");
            let group_id = s(req, "groupId")
                .or_else(|| s(req, "groupName"))
                .ok_or("no `groupId` or `groupName`")?
                .to_string();
            let rules = match set {
                Some(_) => Some(
                    items(set)
                        .iter()
                        .map(|r| set_rule(r, false))
                        .collect::<Result<Vec<_>, String>>()?,
                ),
                None => None,
            };
            let rule_ids = items(req.get("securityGroupRuleIds"))
                .iter()
                .filter_map(|r| s(r, "securityGroupRuleId").or_else(|| r.as_str()))
                .map(str::to_string)
                .collect();
            Change::Revoke {
                group_id,
                egress,
                rules,
                requested: request_rules(req)?,
                rule_ids,
            }
        }
        "ModifySecurityGroupRules" => {
            let inner = req.get("ModifySecurityGroupRulesRequest").unwrap_or(req);
            let group_id = req_str(inner, "GroupId")?;
            let list = match inner.get("SecurityGroupRule") {
                Some(Value::Array(a)) => a.iter().collect(),
                Some(v @ Value::Object(_)) => vec![v],
                _ => return Err("no `SecurityGroupRule`".into()),
            };
            let mut rules = Vec::new();
            for r in list {
                let id = req_str(r, "SecurityGroupRuleId")?;
                let body = r
                    .get("SecurityGroupRule")
                    .ok_or("a rule without its content")?;
                rules.push((id, set_rule(body, true)?));
            }
            Change::ModifyRules { group_id, rules }
        }
        "CreateSecurityGroup" => Change::CreateGroup {
            group_id: s(resp, "groupId")
                .ok_or("no `groupId` in the response")?
                .to_string(),
            group_name: s(req, "groupName").map(str::to_string),
            vpc_id: s(req, "vpcId").map(str::to_string),
        },
        "DeleteSecurityGroup" => Change::DeleteGroup {
            group: s(req, "groupId")
                .or_else(|| s(resp, "groupId"))
                .or_else(|| s(req, "groupName"))
                .ok_or("no `groupId` or `groupName`")?
                .to_string(),
        },
        "CreateNetworkAclEntry" | "ReplaceNetworkAclEntry" | "DeleteNetworkAclEntry" => {
            let op = match api {
                "CreateNetworkAclEntry" => Op::Create,
                "ReplaceNetworkAclEntry" => Op::Replace,
                _ => Op::Delete,
            };
            let egress = boolean(req, "egress").ok_or("no `egress`")?;
            let rule_number = int(req, "ruleNumber").ok_or("no `ruleNumber`")?;
            Change::NaclEntry {
                op,
                acl_id: req_str(req, "networkAclId")?,
                rule_number,
                egress,
                entry: match op {
                    Op::Delete => None,
                    _ => Some(nacl_entry(req, egress, rule_number)?),
                },
            }
        }
        "ReplaceNetworkAclAssociation" => Change::NaclAssociation {
            association_id: req_str(req, "associationId")?,
            acl_id: req_str(req, "networkAclId")?,
            new_association_id: s(resp, "newAssociationId").map(str::to_string),
        },
        "CreateRoute" | "ReplaceRoute" | "DeleteRoute" => Change::Route {
            op: match api {
                "CreateRoute" => Op::Create,
                "ReplaceRoute" => Op::Replace,
                _ => Op::Delete,
            },
            route_table_id: req_str(req, "routeTableId")?,
            route: route(req)?,
        },
        "AssociateRouteTable" => Change::AssociateRouteTable {
            route_table_id: req_str(req, "routeTableId")?,
            subnet_id: s(req, "subnetId")
                .or_else(|| s(req, "gatewayId"))
                .map(str::to_string),
            association_id: s(resp, "associationId").map(str::to_string),
        },
        "ReplaceRouteTableAssociation" => Change::ReplaceRouteTableAssociation {
            association_id: req_str(req, "associationId")?,
            route_table_id: req_str(req, "routeTableId")?,
            new_association_id: s(resp, "newAssociationId").map(str::to_string),
        },
        "DisassociateRouteTable" => Change::DisassociateRouteTable {
            association_id: req_str(req, "associationId")?,
        },
        "ModifyNetworkInterfaceAttribute" | "ModifyInstanceAttribute" => {
            let Some(set) = req.get("groupSet") else {
                return Ok(None);
            };
            let groups = items(Some(set))
                .iter()
                .map(|g| {
                    s(g, "groupId")
                        .map(str::to_string)
                        .ok_or("a `groupSet` item without `groupId`")
                })
                .collect::<Result<Vec<_>, _>>()?;
            let key = if api == "ModifyInstanceAttribute" {
                "instanceId"
            } else {
                "networkInterfaceId"
            };
            Change::GroupSet {
                target: req_str(req, key)?,
                groups,
            }
        }
        _ => return Ok(None),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(api: &str) -> Outcome {
        let rec = serde_json::json!({
            "eventID": "e-1",
            "eventName": api,
            "eventTime": "2024-10-14T12:00:00Z",
            "eventSource": "ec2.amazonaws.com",
            "requestParameters": {"groupSet": {"items": []}},
        });
        match parse_record(&rec) {
            Ok(p) => p.outcome,
            Err(e) => Outcome::Bad(e),
        }
    }

    /// `cloudtrail://` looks up exactly the calls the parser reads as changes: each listed
    /// name is read as one (here without its parameters: a change that cannot be read), and
    /// other calls are not.
    #[test]
    fn change_apis_are_the_calls_read_as_changes() {
        for api in CHANGE_APIS {
            assert!(
                !matches!(outcome(api), Outcome::NotAChange),
                "{api} is listed but not read as a change"
            );
        }
        for api in [
            "DescribeSecurityGroups",
            "CreateVpc",
            "CreateNetworkAcl",
            "DeleteNetworkAcl",
            "CreateRouteTable",
            "RunInstances",
            "ModifyVpcAttribute",
            "UpdateSecurityGroupRuleDescriptionsIngress",
        ] {
            assert!(
                matches!(outcome(api), Outcome::NotAChange),
                "{api} is read as a change but `cloudtrail://` does not look it up"
            );
        }
    }
}
