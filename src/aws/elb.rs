//! Reading one region's load balancers from the Elastic Load Balancing (v2) API: load balancers,
//! their listeners and rules and attributes, target groups with their registered targets and
//! attributes. Read-only `Describe*` calls, each paginated to the end.
//!
//! An endpoint that does not implement a call (some AWS-compatible servers) does not fail the
//! collection: the call is recorded as "not collected", never silently left out.

use super::error::{classify, AwsError, CallSite};
use crate::snapshot as m;
use aws_sdk_elasticloadbalancingv2 as elb;
use aws_sdk_elasticloadbalancingv2::error::ProvideErrorMetadata;

/// What the ELB API said about one region.
#[derive(Debug, Clone, Default)]
pub struct ElbResources {
    /// `DescribeLoadBalancers`.
    pub load_balancers: Vec<m::LoadBalancer>,
    /// `DescribeListeners`, per load balancer.
    pub listeners: Vec<m::Listener>,
    /// `DescribeRules`, per listener.
    pub rules: Vec<m::LbRule>,
    /// `DescribeLoadBalancerAttributes`, per load balancer.
    pub load_balancer_attributes: Vec<m::AttributeSet>,
    /// `DescribeTargetGroups`.
    pub target_groups: Vec<m::TargetGroup>,
    /// `DescribeTargetHealth`, per target group.
    pub target_health: Vec<m::TargetHealthSet>,
    /// `DescribeTargetGroupAttributes`, per target group.
    pub target_group_attributes: Vec<m::AttributeSet>,
    /// Calls the endpoint does not implement (`elasticloadbalancing:DescribeRules`), with why.
    pub not_collected: Vec<String>,
}

/// Whether an error says the endpoint does not implement the call (as opposed to a denial, a
/// throttle or a network failure, which fail the collection as for any other call).
fn not_implemented<E: ProvideErrorMetadata>(
    err: &aws_sdk_elasticloadbalancingv2::error::SdkError<E, elb::config::http::HttpResponse>,
) -> Option<String> {
    let status = err.raw_response().map(|r| r.status().as_u16());
    let (code, message) = match err {
        aws_sdk_elasticloadbalancingv2::error::SdkError::ServiceError(ctx) => (
            ctx.err().code().unwrap_or_default().to_string(),
            ctx.err().message().unwrap_or_default().to_string(),
        ),
        _ => (String::new(), String::new()),
    };
    let unknown_action = matches!(
        code.as_str(),
        "InvalidAction" | "NotImplemented" | "UnknownOperationException" | "UnsupportedOperation"
    );
    let moto = message.contains("has not been implemented");
    (unknown_action || moto || status == Some(501)).then(|| {
        if code.is_empty() {
            format!("HTTP {}", status.unwrap_or_default())
        } else {
            code
        }
    })
}

macro_rules! pages {
    ($site:expr, $op:literal, $out:expr, $request:expr) => {{
        match $request
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
        {
            Ok(items) => Some(items),
            Err(e) => match not_implemented(&e) {
                Some(why) => {
                    $out.not_collected.push(format!(
                        "elasticloadbalancing:{} ({why}: the endpoint does not implement it)",
                        $op
                    ));
                    None
                }
                None => return Err(classify(e, $op, $site)),
            },
        }
    }};
}

macro_rules! once {
    ($site:expr, $op:literal, $out:expr, $request:expr) => {{
        match $request.send().await {
            Ok(r) => Some(r),
            Err(e) => match not_implemented(&e) {
                Some(why) => {
                    let note = format!(
                        "elasticloadbalancing:{} ({why}: the endpoint does not implement it)",
                        $op
                    );
                    if !$out.not_collected.contains(&note) {
                        $out.not_collected.push(note);
                    }
                    None
                }
                None => return Err(classify(e, $op, $site)),
            },
        }
    }};
}

fn attrs<'a>(
    arn: &str,
    kv: impl Iterator<Item = (Option<&'a str>, Option<&'a str>)>,
) -> m::AttributeSet {
    m::AttributeSet {
        arn: arn.to_string(),
        attributes: kv
            .filter_map(|(k, v)| {
                Some(m::Tag {
                    key: k?.to_string(),
                    value: v.unwrap_or_default().to_string(),
                })
            })
            .collect(),
    }
}

/// Reads the load balancers of one region. `progress(call, items)` is called after each step.
pub(crate) async fn region(
    client: &elb::Client,
    site: &CallSite,
    mut progress: impl FnMut(&'static str, usize),
) -> Result<ElbResources, AwsError> {
    let mut out = ElbResources::default();
    if let Some(lbs) = pages!(
        site,
        "DescribeLoadBalancers",
        out,
        client.describe_load_balancers()
    ) {
        let lbs: Vec<elb::types::LoadBalancer> = lbs;
        for lb in &lbs {
            out.load_balancers.push(load_balancer(lb));
            let Some(arn) = lb.load_balancer_arn() else {
                continue;
            };
            if let Some(listeners) = pages!(
                site,
                "DescribeListeners",
                out,
                client.describe_listeners().load_balancer_arn(arn)
            ) {
                let listeners: Vec<elb::types::Listener> = listeners;
                for l in &listeners {
                    out.listeners.push(listener(l));
                    let Some(larn) = l.listener_arn() else {
                        continue;
                    };
                    if let Some(rules) = pages!(
                        site,
                        "DescribeRules",
                        out,
                        client.describe_rules().listener_arn(larn)
                    ) {
                        let rules: Vec<elb::types::Rule> = rules;
                        out.rules.extend(rules.iter().map(rule));
                    }
                }
            }
            if let Some(a) = once!(
                site,
                "DescribeLoadBalancerAttributes",
                out,
                client
                    .describe_load_balancer_attributes()
                    .load_balancer_arn(arn)
            ) {
                out.load_balancer_attributes.push(attrs(
                    arn,
                    a.attributes().iter().map(|x| (x.key(), x.value())),
                ));
            }
        }
        progress("DescribeLoadBalancers", lbs.len());
    } else {
        progress("DescribeLoadBalancers", 0);
    }
    if let Some(tgs) = pages!(
        site,
        "DescribeTargetGroups",
        out,
        client.describe_target_groups()
    ) {
        let tgs: Vec<elb::types::TargetGroup> = tgs;
        for tg in &tgs {
            out.target_groups.push(target_group(tg));
            let Some(arn) = tg.target_group_arn() else {
                continue;
            };
            if let Some(h) = once!(
                site,
                "DescribeTargetHealth",
                out,
                client.describe_target_health().target_group_arn(arn)
            ) {
                out.target_health.push(m::TargetHealthSet {
                    target_group_arn: arn.to_string(),
                    descriptions: h.target_health_descriptions().iter().map(health).collect(),
                });
            }
            if let Some(a) = once!(
                site,
                "DescribeTargetGroupAttributes",
                out,
                client
                    .describe_target_group_attributes()
                    .target_group_arn(arn)
            ) {
                out.target_group_attributes.push(attrs(
                    arn,
                    a.attributes().iter().map(|x| (x.key(), x.value())),
                ));
            }
        }
        progress("DescribeTargetGroups", tgs.len());
    } else {
        progress("DescribeTargetGroups", 0);
    }
    Ok(out)
}

fn s(x: Option<&str>) -> Option<String> {
    x.map(str::to_string)
}

fn port(p: Option<i32>) -> Option<u16> {
    p.and_then(|p| u16::try_from(p).ok())
}

fn load_balancer(lb: &elb::types::LoadBalancer) -> m::LoadBalancer {
    m::LoadBalancer {
        load_balancer_arn: lb.load_balancer_arn().unwrap_or_default().to_string(),
        dns_name: s(lb.dns_name()),
        load_balancer_name: s(lb.load_balancer_name()),
        scheme: lb.scheme().map(|x| x.as_str().to_string()),
        vpc_id: s(lb.vpc_id()),
        lb_type: lb.r#type().map(|x| x.as_str().to_string()),
        state: lb.state().map(|st| m::LoadBalancerState {
            code: st.code().map(|c| c.as_str().to_string()),
        }),
        availability_zones: lb
            .availability_zones()
            .iter()
            .map(|z| m::LoadBalancerZone {
                zone_name: s(z.zone_name()),
                subnet_id: s(z.subnet_id()),
                load_balancer_addresses: z
                    .load_balancer_addresses()
                    .iter()
                    .map(|a| m::LoadBalancerAddress {
                        ip_address: s(a.ip_address()),
                        allocation_id: s(a.allocation_id()),
                        private_ipv4_address: s(a.private_ipv4_address()),
                    })
                    .collect(),
            })
            .collect(),
        security_groups: lb.security_groups().to_vec(),
        ip_address_type: lb.ip_address_type().map(|x| x.as_str().to_string()),
        origin: m::Origin::default(),
    }
}

fn action(a: &elb::types::Action) -> m::LbAction {
    m::LbAction {
        action_type: a.r#type().map(|x| x.as_str().to_string()),
        target_group_arn: s(a.target_group_arn()),
        forward_config: a.forward_config().map(|f| m::ForwardConfig {
            target_groups: f
                .target_groups()
                .iter()
                .map(|t| m::WeightedTargetGroup {
                    target_group_arn: s(t.target_group_arn()),
                    weight: t.weight().map(i64::from),
                })
                .collect(),
        }),
        order: a.order().map(i64::from),
    }
}

fn listener(l: &elb::types::Listener) -> m::Listener {
    m::Listener {
        listener_arn: l.listener_arn().unwrap_or_default().to_string(),
        load_balancer_arn: s(l.load_balancer_arn()),
        port: port(l.port()),
        protocol: l.protocol().map(|x| x.as_str().to_string()),
        default_actions: l.default_actions().iter().map(action).collect(),
    }
}

fn rule(r: &elb::types::Rule) -> m::LbRule {
    m::LbRule {
        rule_arn: r.rule_arn().unwrap_or_default().to_string(),
        priority: s(r.priority()),
        conditions: r
            .conditions()
            .iter()
            .map(|c| serde_json::json!({"Field": c.field(), "Values": c.values()}))
            .collect(),
        actions: r.actions().iter().map(action).collect(),
        is_default: r.is_default(),
    }
}

fn target_group(t: &elb::types::TargetGroup) -> m::TargetGroup {
    m::TargetGroup {
        target_group_arn: t.target_group_arn().unwrap_or_default().to_string(),
        target_group_name: s(t.target_group_name()),
        protocol: t.protocol().map(|x| x.as_str().to_string()),
        port: port(t.port()),
        vpc_id: s(t.vpc_id()),
        health_check_protocol: t.health_check_protocol().map(|x| x.as_str().to_string()),
        health_check_port: s(t.health_check_port()),
        health_check_enabled: t.health_check_enabled(),
        target_type: t.target_type().map(|x| x.as_str().to_string()),
        load_balancer_arns: t.load_balancer_arns().to_vec(),
    }
}

fn health(d: &elb::types::TargetHealthDescription) -> m::TargetHealthDescription {
    m::TargetHealthDescription {
        target: d
            .target()
            .map(|t| m::TargetDescription {
                id: t.id().unwrap_or_default().to_string(),
                port: port(t.port()),
                availability_zone: s(t.availability_zone()),
            })
            .unwrap_or_default(),
        health_check_port: s(d.health_check_port()),
        target_health: d.target_health().map(|h| m::TargetHealth {
            state: h.state().map(|x| x.as_str().to_string()),
            reason: h.reason().map(|x| x.as_str().to_string()),
            description: s(h.description()),
        }),
    }
}
