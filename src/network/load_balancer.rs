//! Load balancers in the model: each ALB or NLB with its nodes (the ENIs ELB creates, one per
//! enabled subnet), its listeners and the target groups they forward to, and each target group's
//! registered targets resolved to ENIs (aws-semantics 41–45).

use super::*;
use crate::snapshot::{AttributeSet, LbAction};

/// The kind of a load balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LbKind {
    /// An Application Load Balancer.
    Application,
    /// A Network Load Balancer.
    Network,
    /// A Gateway Load Balancer (not modelled).
    Gateway,
    /// A type vpcreach does not know.
    Other,
}

impl LbKind {
    /// `app`, `net`, `gwy`: the word ELB uses in ARNs and node descriptions.
    pub fn arn_word(self) -> &'static str {
        match self {
            LbKind::Application => "app",
            LbKind::Network => "net",
            LbKind::Gateway => "gwy",
            LbKind::Other => "?",
        }
    }

    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            LbKind::Application => "Application Load Balancer",
            LbKind::Network => "Network Load Balancer",
            LbKind::Gateway => "Gateway Load Balancer",
            LbKind::Other => "load balancer",
        }
    }
}

/// A node of a load balancer: its ENI in one enabled subnet.
#[derive(Debug, Clone)]
pub struct LbNode {
    /// The subnet id.
    pub subnet_id: String,
    /// The zone.
    pub zone: Option<String>,
    /// The node's ENI (index into [`Network::enis`](crate::NetworkBase::enis)), when the snapshot holds it.
    pub eni: Option<usize>,
}

/// Where a listener sends traffic: a target group, by its default action or by a rule.
#[derive(Debug, Clone, Serialize)]
pub struct Forward {
    /// The target group's ARN.
    pub target_group_arn: String,
    /// Index into [`Network::target_groups`](crate::NetworkBase::target_groups), when the snapshot holds it.
    #[serde(skip)]
    pub target_group: Option<usize>,
    /// `default action`, or `rule <priority> (<rule ARN>)`.
    pub via: String,
}

/// A listener.
#[derive(Debug, Clone)]
pub struct ListenerInfo {
    /// Its ARN.
    pub arn: String,
    /// Its port.
    pub port: u16,
    /// Its protocol (`HTTP`, `TCP`, …).
    pub protocol: String,
    /// The target groups it forwards to.
    pub forwards: Vec<Forward>,
}

/// A load balancer.
#[derive(Debug, Clone)]
pub struct LoadBalancerInfo {
    /// Its ARN.
    pub arn: String,
    /// Its name (untrusted text).
    pub name: String,
    /// Its DNS name.
    pub dns_name: Option<String>,
    /// Its kind.
    pub kind: LbKind,
    /// Whether its scheme is `internet-facing`.
    pub internet_facing: bool,
    /// Its VPC.
    pub vpc_id: Option<String>,
    /// Its security groups.
    pub security_groups: Vec<String>,
    /// Its nodes.
    pub nodes: Vec<LbNode>,
    /// Its listeners.
    pub listeners: Vec<ListenerInfo>,
    /// `load_balancing.cross_zone.enabled` of the load balancer, when its attributes are in
    /// the snapshot.
    pub cross_zone: Option<bool>,
    /// Whether `describe-listeners` output for it is in the snapshot.
    pub listeners_known: bool,
}

/// A registered target.
#[derive(Debug, Clone)]
pub struct TargetInfo {
    /// Instance id, IP address, Lambda or ALB ARN.
    pub id: String,
    /// Its port.
    pub port: u16,
    /// Its zone as registered (`all` for an IP outside the VPC).
    pub zone: Option<String>,
    /// What ELB reported (`healthy`, `unhealthy`, …).
    pub health: Option<String>,
    /// The ENI that receives its traffic, when the snapshot holds it.
    pub eni: Option<usize>,
    /// The address traffic is sent to.
    pub addr: Option<IpAddr>,
}

/// A target group.
#[derive(Debug, Clone)]
pub struct TargetGroupInfo {
    /// Its ARN.
    pub arn: String,
    /// Its name (untrusted text).
    pub name: String,
    /// Its protocol.
    pub protocol: String,
    /// Its port.
    pub port: Option<u16>,
    /// `instance`, `ip`, `lambda`, `alb`.
    pub target_type: String,
    /// `traffic-port` or a number.
    pub health_check_port: String,
    /// Whether health checks are on.
    pub health_check_enabled: bool,
    /// Registered targets; `None` when its `describe-target-health` output is not in the
    /// snapshot.
    pub targets: Option<Vec<TargetInfo>>,
    /// Its attributes; `None` when not in the snapshot.
    pub attributes: Option<AttributeSet>,
}

impl TargetGroupInfo {
    /// The health-check port of a target on `port`.
    pub fn health_port(&self, port: u16) -> Option<u16> {
        if self.health_check_port.is_empty() || self.health_check_port == "traffic-port" {
            Some(port)
        } else {
            self.health_check_port.parse().ok()
        }
    }

    /// Whether client addresses are preserved (`preserve_client_ip.enabled`, aws-semantics 44),
    /// and whether that was read from the attributes (`true`) or is AWS's default (`false`).
    pub fn preserves_client_ip(&self, kind: LbKind) -> (bool, bool) {
        if kind != LbKind::Network {
            return (false, true);
        }
        let udp = matches!(
            self.protocol.as_str(),
            "UDP" | "TCP_UDP" | "QUIC" | "TCP_QUIC"
        );
        if self.target_type == "ip" && udp {
            // Always on for these protocols: the attribute cannot turn it off.
            return (true, true);
        }
        let set = self
            .attributes
            .as_ref()
            .and_then(|a| a.get("preserve_client_ip.enabled"))
            .map(|v| v.eq_ignore_ascii_case("true"));
        match set {
            Some(v) => (v, true),
            None => (self.target_type == "instance" || udp, false),
        }
    }

    /// Whether nodes send to targets in every zone: the target group's
    /// `load_balancing.cross_zone.enabled` when `true`/`false`, else the load balancer's (ALB:
    /// always on; NLB: its attribute, off by default). The second value says whether the answer
    /// rests on data of the snapshot (`false`: a default was assumed).
    pub fn cross_zone(&self, lb: &LoadBalancerInfo) -> (bool, bool) {
        let tg = self
            .attributes
            .as_ref()
            .and_then(|a| a.get("load_balancing.cross_zone.enabled"));
        match tg {
            Some("true") => return (true, true),
            Some("false") => return (false, true),
            _ => {}
        }
        match lb.kind {
            LbKind::Application => (true, true),
            _ => match lb.cross_zone {
                Some(v) => (v, true),
                None => (false, false),
            },
        }
    }
}

fn kind_of(t: Option<&str>) -> LbKind {
    match t {
        Some("application") => LbKind::Application,
        Some("network") => LbKind::Network,
        Some("gateway") => LbKind::Gateway,
        _ => LbKind::Other,
    }
}

fn forwards(actions: &[LbAction], via: &str, out: &mut Vec<Forward>) {
    let mut sorted: Vec<&LbAction> = actions.iter().collect();
    sorted.sort_by_key(|a| a.order.unwrap_or(i64::MAX));
    for a in sorted {
        for arn in a.forwards_to() {
            if !out
                .iter()
                .any(|f| f.target_group_arn == arn && f.via == via)
            {
                out.push(Forward {
                    target_group_arn: arn.to_string(),
                    target_group: None,
                    via: via.to_string(),
                });
            }
        }
    }
}

impl NetworkBase {
    pub(super) fn build_load_balancers(&mut self, snap: &Snapshot) {
        // Node ENIs by their description, `ELB app/<name>/<id>`.
        let mut by_description: HashMap<&str, Vec<usize>> = HashMap::new();
        for ni in &snap.network_interfaces {
            if let Some(d) = ni.description.as_deref() {
                if let (Some(rest), Some(i)) = (
                    d.strip_prefix("ELB "),
                    self.eni_idx(&ni.network_interface_id),
                ) {
                    by_description.entry(rest).or_default().push(i);
                }
            }
        }
        for tg in &snap.target_groups {
            let attributes = snap
                .target_group_attributes
                .iter()
                .find(|a| a.arn == tg.target_group_arn)
                .cloned();
            let targets = snap
                .target_health
                .iter()
                .find(|h| h.target_group_arn == tg.target_group_arn)
                .map(|h| {
                    h.descriptions
                        .iter()
                        .map(|d| self.target_info(d, tg))
                        .collect()
                });
            self.target_group_index
                .insert(tg.target_group_arn.clone(), self.target_groups.len());
            self.target_groups.push(TargetGroupInfo {
                arn: tg.target_group_arn.clone(),
                name: tg.target_group_name.clone().unwrap_or_default(),
                protocol: tg.protocol.clone().unwrap_or_default(),
                port: tg.port,
                target_type: tg.target_type.clone().unwrap_or_else(|| "instance".into()),
                health_check_port: tg
                    .health_check_port
                    .clone()
                    .unwrap_or_else(|| "traffic-port".into()),
                health_check_enabled: tg.health_check_enabled.unwrap_or(true),
                targets,
                attributes,
            });
        }
        for lb in &snap.load_balancers {
            let kind = kind_of(lb.lb_type.as_deref());
            let path = lb
                .load_balancer_arn
                .split_once(":loadbalancer/")
                .map(|(_, p)| p)
                .unwrap_or("");
            let node_enis = by_description.get(path).cloned().unwrap_or_default();
            let mut nodes = Vec::new();
            for z in &lb.availability_zones {
                let Some(subnet_id) = z.subnet_id.clone() else {
                    continue;
                };
                let subnet = self.subnet_idx(&subnet_id);
                let eni = node_enis
                    .iter()
                    .copied()
                    .find(|&e| subnet.is_some() && self.enis[e].subnet == subnet);
                nodes.push(LbNode {
                    subnet_id,
                    zone: z.zone_name.clone(),
                    eni,
                });
            }
            let mut listeners = Vec::new();
            let mut listeners_known = false;
            for l in snap
                .listeners
                .iter()
                .filter(|l| l.load_balancer_arn.as_deref() == Some(lb.load_balancer_arn.as_str()))
            {
                listeners_known = true;
                let mut fw = Vec::new();
                let mut rules: Vec<_> = snap
                    .lb_rules
                    .iter()
                    .filter(|r| r.listener_arn().as_deref() == Some(l.listener_arn.as_str()))
                    .collect();
                rules.sort_by_key(|r| {
                    r.priority
                        .as_deref()
                        .and_then(|p| p.parse::<u32>().ok())
                        .unwrap_or(u32::MAX)
                });
                for r in rules {
                    if r.is_default == Some(true) || r.priority.as_deref() == Some("default") {
                        continue;
                    }
                    // The rule's own id (its ARN's last part): the full ARN is in the snapshot.
                    let via = format!(
                        "rule {} ({})",
                        r.priority.as_deref().unwrap_or("?"),
                        r.rule_arn.rsplit('/').next().unwrap_or("")
                    );
                    forwards(&r.actions, &via, &mut fw);
                }
                forwards(&l.default_actions, "default action", &mut fw);
                for f in &mut fw {
                    f.target_group = self.target_group_index.get(&f.target_group_arn).copied();
                }
                listeners.push(ListenerInfo {
                    arn: l.listener_arn.clone(),
                    port: l.port.unwrap_or(0),
                    protocol: l.protocol.clone().unwrap_or_default(),
                    forwards: fw,
                });
            }
            let cross_zone = snap
                .load_balancer_attributes
                .iter()
                .find(|a| a.arn == lb.load_balancer_arn)
                .and_then(|a| a.get("load_balancing.cross_zone.enabled"))
                .map(|v| v.eq_ignore_ascii_case("true"));
            let name = lb
                .load_balancer_name
                .clone()
                .unwrap_or_else(|| path.split('/').nth(1).unwrap_or(path).to_string());
            let info = LoadBalancerInfo {
                arn: lb.load_balancer_arn.clone(),
                name,
                dns_name: lb.dns_name.clone(),
                kind,
                internet_facing: lb.scheme.as_deref() == Some("internet-facing"),
                vpc_id: lb.vpc_id.clone(),
                security_groups: lb.security_groups.clone(),
                nodes,
                listeners,
                cross_zone,
                listeners_known,
            };
            // An NLB without security groups lets everything in and out of its nodes.
            if kind == LbKind::Network && info.security_groups.is_empty() {
                for n in &info.nodes {
                    if let Some(e) = n.eni {
                        self.enis[e].unfiltered = Some(format!(
                            "network load balancer {} has no security groups: its nodes let all client traffic in and all traffic out",
                            info.name
                        ));
                    }
                }
            }
            for n in &info.nodes {
                if let Some(e) = n.eni {
                    self.lb_of_eni.insert(e, self.load_balancers.len());
                }
            }
            self.load_balancers.push(info);
        }
    }

    fn target_info(
        &self,
        d: &crate::snapshot::TargetHealthDescription,
        tg: &crate::snapshot::TargetGroup,
    ) -> TargetInfo {
        let t = &d.target;
        let port = t.port.or(tg.port).unwrap_or(0);
        let (eni, addr) = match tg.target_type.as_deref().unwrap_or("instance") {
            "instance" => {
                let eni = self.eni_of_instance(&t.id);
                (eni, eni.and_then(|e| self.enis[e].primary(false)))
            }
            "ip" => match t.id.parse::<IpAddr>() {
                Ok(ip) => (self.eni_by_private_ip(ip, tg.vpc_id.as_deref()), Some(ip)),
                Err(_) => (None, None),
            },
            _ => (None, None),
        };
        TargetInfo {
            id: t.id.clone(),
            port,
            zone: t
                .availability_zone
                .clone()
                .or_else(|| eni.and_then(|e| self.enis[e].availability_zone.clone())),
            health: d.target_health.as_ref().and_then(|h| h.state.clone()),
            eni,
            addr,
        }
    }

    /// Finds a load balancer by name, ARN or DNS name (a trailing dot and case ignored in DNS
    /// names, and a `dualstack.` prefix).
    pub fn load_balancer(&self, input: &str) -> Option<usize> {
        let dns = input.trim_end_matches('.').to_ascii_lowercase();
        let dns = dns.strip_prefix("dualstack.").unwrap_or(&dns);
        self.load_balancers.iter().position(|lb| {
            lb.arn == input
                || lb.name == input
                || lb
                    .dns_name
                    .as_deref()
                    .is_some_and(|d| d.trim_end_matches('.').eq_ignore_ascii_case(dns))
        })
    }

    /// What a flow-log record at ENI `eni` with `peer` on `local_port` (the ENI's side) came
    /// through, when a load balancer explains it: the ENI is a node, or it is a registered
    /// target on that port and the peer is one of the load balancer's nodes, or an internet
    /// address whose client address a target group preserves.
    pub fn load_balancer_context(
        &self,
        eni: usize,
        peer: Option<IpAddr>,
        local_port: Option<u16>,
    ) -> Option<String> {
        if let Some(lb) = self.load_balancer_of_eni(eni) {
            return Some(format!(
                "{} is a node of {} {} ({})",
                self.enis[eni].id,
                lb.kind.describe(),
                lb.name,
                self.enis[eni].availability_zone.as_deref().unwrap_or("?")
            ));
        }
        let (peer, port) = (peer?, local_port?);
        let eni_addrs = &self.enis[eni];
        for tg in &self.target_groups {
            let Some(targets) = &tg.targets else { continue };
            let serves = targets.iter().any(|t| {
                t.eni == Some(eni)
                    && t.addr.is_some_and(|a| eni_addrs.has_private(a))
                    && (t.port == port || tg.health_port(t.port) == Some(port))
            });
            if !serves {
                continue;
            }
            for lb in &self.load_balancers {
                let uses = lb
                    .listeners
                    .iter()
                    .any(|l| l.forwards.iter().any(|f| f.target_group_arn == tg.arn));
                if !uses {
                    continue;
                }
                let node = lb
                    .nodes
                    .iter()
                    .filter_map(|n| n.eni)
                    .find(|&n| self.enis[n].has_private(peer));
                if let Some(n) = node {
                    return Some(format!(
                        "{} is a node of {} {}: traffic of target group {} (port {port})",
                        self.enis[n].id,
                        lb.kind.describe(),
                        lb.name,
                        tg.name
                    ));
                }
                let (preserved, _) = tg.preserves_client_ip(lb.kind);
                let public = !crate::query::is_private(peer) && self.subnet_of(peer).is_none();
                if preserved && public && lb.internet_facing {
                    return Some(format!(
                        "{peer} is a client of {} {}, target group {} (port {port}): client addresses are preserved",
                        lb.kind.describe(),
                        lb.name,
                        tg.name
                    ));
                }
            }
        }
        None
    }

    /// The load balancer whose node an ENI is.
    pub fn load_balancer_of_eni(&self, eni: usize) -> Option<&LoadBalancerInfo> {
        self.lb_of_eni.get(&eni).map(|&i| &self.load_balancers[i])
    }
}
