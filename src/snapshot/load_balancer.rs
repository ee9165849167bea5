//! Elastic Load Balancing (v2) resources as `aws elbv2 describe-*` returns them: load balancers,
//! listeners, listener rules, target groups, registered targets with their health, and attributes.
//!
//! `describe-target-health` and `describe-*-attributes` do not name the target group or load
//! balancer they describe; a saved file is read when it also holds a top-level `TargetGroupArn`
//! or `LoadBalancerArn` (aws-semantics 45), as `vpcreach collect` writes it.

use super::model::{Origin, Tag};
use serde::{Deserialize, Serialize};

/// A load balancer (`describe-load-balancers`, key `LoadBalancers`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoadBalancer {
    /// `arn:aws:elasticloadbalancing:<region>:<account>:loadbalancer/app/<name>/<id>`.
    pub load_balancer_arn: String,
    /// Its DNS name.
    #[serde(rename = "DNSName")]
    pub dns_name: Option<String>,
    /// Its name.
    pub load_balancer_name: Option<String>,
    /// `internet-facing` or `internal`.
    pub scheme: Option<String>,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// `application`, `network` or `gateway`.
    #[serde(rename = "Type")]
    pub lb_type: Option<String>,
    /// `{"Code": "active"}`.
    pub state: Option<LoadBalancerState>,
    /// One entry per enabled subnet (one node each).
    pub availability_zones: Vec<LoadBalancerZone>,
    /// Attached security groups (ALBs always; NLBs optionally).
    pub security_groups: Vec<String>,
    /// `ipv4`, `dualstack`, …
    pub ip_address_type: Option<String>,
    /// Where it was found.
    #[serde(skip)]
    pub origin: Origin,
}

/// The state of a load balancer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoadBalancerState {
    /// `active`, `provisioning`, `active_impaired`, `failed`.
    pub code: Option<String>,
}

/// An enabled zone (subnet) of a load balancer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoadBalancerZone {
    /// The zone name.
    pub zone_name: Option<String>,
    /// The subnet of the node.
    pub subnet_id: Option<String>,
    /// Elastic IPs and private addresses of an NLB node.
    pub load_balancer_addresses: Vec<LoadBalancerAddress>,
}

/// An address of an NLB node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LoadBalancerAddress {
    /// Public (Elastic) address.
    pub ip_address: Option<String>,
    /// Its allocation.
    pub allocation_id: Option<String>,
    /// Private address of the node.
    #[serde(rename = "PrivateIPv4Address")]
    pub private_ipv4_address: Option<String>,
}

/// A listener (`describe-listeners`, key `Listeners`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Listener {
    /// Its ARN.
    pub listener_arn: String,
    /// Its load balancer.
    pub load_balancer_arn: Option<String>,
    /// The port it listens on.
    pub port: Option<u16>,
    /// `HTTP`, `HTTPS`, `TCP`, `TLS`, `UDP`, `TCP_UDP`, `QUIC`, `TCP_QUIC`.
    pub protocol: Option<String>,
    /// The default actions.
    pub default_actions: Vec<LbAction>,
}

/// An action of a listener or rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LbAction {
    /// `forward`, `redirect`, `fixed-response`, `authenticate-oidc`, `authenticate-cognito`.
    #[serde(rename = "Type")]
    pub action_type: Option<String>,
    /// The target group of a simple forward.
    pub target_group_arn: Option<String>,
    /// Weighted target groups of a forward.
    pub forward_config: Option<ForwardConfig>,
    /// Order among the actions.
    pub order: Option<i64>,
}

/// The target groups of a forward action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ForwardConfig {
    /// The target groups and their weights.
    pub target_groups: Vec<WeightedTargetGroup>,
}

/// A target group of a forward action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WeightedTargetGroup {
    /// The target group.
    pub target_group_arn: Option<String>,
    /// Its weight (0 sends it nothing).
    pub weight: Option<i64>,
}

impl LbAction {
    /// The target groups this action forwards to (weight 0 excluded).
    pub fn forwards_to(&self) -> Vec<&str> {
        if self.action_type.as_deref() != Some("forward") {
            return Vec::new();
        }
        let mut out: Vec<&str> = Vec::new();
        if let Some(fc) = &self.forward_config {
            for t in &fc.target_groups {
                if let (Some(arn), true) = (&t.target_group_arn, t.weight != Some(0)) {
                    out.push(arn);
                }
            }
        }
        if let Some(arn) = &self.target_group_arn {
            if !out.contains(&arn.as_str()) {
                out.push(arn);
            }
        }
        out
    }
}

/// A listener rule (`describe-rules`, key `Rules`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LbRule {
    /// `arn:…:listener-rule/app/<name>/<lb-id>/<listener-id>/<rule-id>`.
    pub rule_arn: String,
    /// `default` or a number.
    pub priority: Option<String>,
    /// Conditions (kept as data: which requests match does not change which targets the
    /// network must let through).
    pub conditions: Vec<serde_json::Value>,
    /// The actions.
    pub actions: Vec<LbAction>,
    /// Whether it is the listener's default rule.
    pub is_default: Option<bool>,
}

impl LbRule {
    /// The listener ARN, derived from the rule ARN (`listener-rule/…/<rule-id>` →
    /// `listener/…`): `describe-rules` output does not name it otherwise.
    pub fn listener_arn(&self) -> Option<String> {
        let (head, tail) = self.rule_arn.split_once(":listener-rule/")?;
        let (path, _rule_id) = tail.rsplit_once('/')?;
        Some(format!("{head}:listener/{path}"))
    }
}

/// A target group (`describe-target-groups`, key `TargetGroups`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetGroup {
    /// Its ARN.
    pub target_group_arn: String,
    /// Its name.
    pub target_group_name: Option<String>,
    /// `HTTP`, `HTTPS`, `TCP`, `TLS`, `UDP`, `TCP_UDP`, `GENEVE`, …
    pub protocol: Option<String>,
    /// The default port of its targets.
    pub port: Option<u16>,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// The health-check protocol.
    pub health_check_protocol: Option<String>,
    /// `traffic-port` or a number.
    pub health_check_port: Option<String>,
    /// Whether health checks are on.
    pub health_check_enabled: Option<bool>,
    /// `instance`, `ip`, `lambda`, `alb`.
    pub target_type: Option<String>,
    /// The load balancers that use it.
    pub load_balancer_arns: Vec<String>,
}

/// `describe-target-health` output for one target group (keys `TargetGroupArn`, which
/// `collect` adds, and `TargetHealthDescriptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TargetHealthSet {
    /// The target group.
    pub target_group_arn: String,
    /// Its registered targets.
    pub descriptions: Vec<TargetHealthDescription>,
}

/// A registered target and its health.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetHealthDescription {
    /// The target.
    pub target: TargetDescription,
    /// The port health checks use.
    pub health_check_port: Option<String>,
    /// What ELB reports.
    pub target_health: Option<TargetHealth>,
}

/// A registered target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetDescription {
    /// An instance id, an IP address, a Lambda ARN or an ALB ARN.
    pub id: String,
    /// Its port.
    pub port: Option<u16>,
    /// Its zone, or `all`.
    pub availability_zone: Option<String>,
}

/// The health ELB reports for a target.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TargetHealth {
    /// `initial`, `healthy`, `unhealthy`, `unused`, `draining`, `unavailable`, …
    pub state: Option<String>,
    /// A reason code.
    pub reason: Option<String>,
    /// In words (untrusted text).
    pub description: Option<String>,
}

/// A set of attributes (`describe-target-group-attributes` or
/// `describe-load-balancer-attributes`) of one resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttributeSet {
    /// The target group or load balancer.
    pub arn: String,
    /// Key/value pairs.
    pub attributes: Vec<Tag>,
}

impl AttributeSet {
    /// The value of an attribute.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_names_its_listener_through_its_arn() {
        let r = LbRule {
            rule_arn: "arn:aws:elasticloadbalancing:us-west-2:123456789012:listener-rule/app/my-load-balancer/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee".into(),
            ..Default::default()
        };
        assert_eq!(
            r.listener_arn().as_deref(),
            Some("arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/my-load-balancer/50dc6c495c0c9188/f2f7dc8efc522ab2")
        );
        let bad = LbRule {
            rule_arn: "not-an-arn".into(),
            ..Default::default()
        };
        assert_eq!(bad.listener_arn(), None);
    }

    #[test]
    fn forward_targets_skip_zero_weights_and_other_actions() {
        let a: LbAction = serde_json::from_str(
            r#"{"Type": "forward", "ForwardConfig": {"TargetGroups": [
                {"TargetGroupArn": "tg-a", "Weight": 1}, {"TargetGroupArn": "tg-b", "Weight": 0}]}}"#,
        )
        .unwrap();
        assert_eq!(a.forwards_to(), vec!["tg-a"]);
        let r: LbAction = serde_json::from_str(r#"{"Type": "redirect"}"#).unwrap();
        assert!(r.forwards_to().is_empty());
    }
}
