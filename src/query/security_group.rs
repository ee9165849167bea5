//! The security-group hop: an ENI's groups on the request (stateless rule match) and on the
//! response (tracked connections pass; untracked ones need a rule of their own).

use super::*;

pub(super) fn sg_rule_json(net: &Network, r: &SgRule) -> Option<serde_json::Value> {
    let mut v = rule_json(r)?;
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "text".into(),
            serde_json::Value::String(sg_rule_text(net, r)),
        );
    }
    Some(v)
}

impl<'n> Walker<'n> {
    pub(super) fn sg_check(&mut self, eni: usize, dir: Direction, pkt: &Pkt) -> Result<(), Stop> {
        let net = self.net;
        let e = &net.enis[eni];
        if let Some(why) = &e.unfiltered {
            let mut check = Self::simple(
                Layer::SecurityGroup,
                Decision::Allow,
                vec![],
                format!("{dir}: {why}"),
            );
            check.direction = Some(dir);
            self.push(&e.id, ComponentKind::NetworkInterface, check);
            return Ok(());
        }
        let peer = match dir {
            Direction::Inbound => pkt.src,
            Direction::Outbound => pkt.dst,
        };
        let mut resources: Vec<String> =
            e.groups.iter().map(|&g| net.groups[g].id.clone()).collect();
        resources.extend(e.missing_groups.iter().cloned());
        if self.mode == Mode::Response {
            return self.sg_response(eni, dir, pkt, resources);
        }
        let port = pkt.dport.first();
        let refs_ok = match dir {
            Direction::Outbound => net.refs_apply(eni, peer),
            Direction::Inbound => Some(pkt.refs_ok),
        };
        let mut unresolved: Option<(Reason, &SgRule)> = None;
        match net.sg_evaluate(eni, dir, peer, pkt.proto, port, pkt.icmp, refs_ok) {
            SgDecision::Allow(rule) => {
                self.sg_allowed.insert((eni, dir), rule.clone());
                let detail = format!(
                    "{dir} allowed by {} rule {}",
                    rule.group_id,
                    sg_rule_text(net, rule)
                );
                self.push(
                    &e.id,
                    ComponentKind::NetworkInterface,
                    Check {
                        layer: Layer::SecurityGroup,
                        decision: Decision::Allow,
                        direction: Some(dir),
                        resources: vec![rule.group_id.to_string()],
                        rule_number: None,
                        rule: sg_rule_json(net, rule),
                        ports_allowed: None,
                        tracking: None,
                        detail,
                    },
                );
                return Ok(());
            }
            SgDecision::Unresolved(rule) => {
                let r = match rule.peer {
                    SgPeer::PrefixList { .. } => Reason::UnknownPrefixList,
                    _ => Reason::UnknownPeeredSgs,
                };
                unresolved = Some((r, rule));
            }
            SgDecision::Deny | SgDecision::MissingGroups => {}
        }
        if let Some((reason, rule)) = unresolved {
            let detail = format!(
                "{dir}: no rule allows it, but {} rule {} references {} which is not in the snapshot",
                rule.group_id,
                sg_rule_text(net, rule),
                rule.peer
            );
            let check = Check {
                layer: Layer::SecurityGroup,
                decision: Decision::Unknown,
                direction: Some(dir),
                resources: vec![rule.group_id.to_string()],
                rule_number: None,
                rule: sg_rule_json(net, rule),
                ports_allowed: None,
                tracking: None,
                detail,
            };
            return Err(self.unknown(&e.id, ComponentKind::NetworkInterface, check, reason));
        }
        if !e.missing_groups.is_empty() {
            let detail = format!(
                "{dir}: no known rule allows it; groups {} are not in the snapshot",
                e.missing_groups.join(", ")
            );
            return Err(self.stop(
                (&e.id, ComponentKind::NetworkInterface),
                Layer::SecurityGroup,
                resources,
                detail,
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        }
        let what = match dir {
            Direction::Inbound => format!("from {peer}"),
            Direction::Outbound => format!("to {peer}"),
        };
        let detail = format!(
            "{dir}: no rule of {} allows {}{} {what}",
            if resources.is_empty() {
                "its security groups (none attached)".to_string()
            } else {
                resources.join(", ")
            },
            pkt.proto,
            port_text(pkt)
        );
        let mut check = Self::simple(Layer::SecurityGroup, Decision::Deny, resources, detail);
        check.direction = Some(dir);
        Err(self.deny(
            &e.id,
            ComponentKind::NetworkInterface,
            check,
            Reason::SgRulesMismatch,
        ))
    }

    pub(super) fn sg_response(
        &mut self,
        eni: usize,
        dir: Direction,
        pkt: &Pkt,
        resources: Vec<String>,
    ) -> Result<(), Stop> {
        let net = self.net;
        let e = &net.enis[eni];
        let request_rule = self.sg_allowed.get(&(eni, dir.reverse())).cloned();
        // Untracked (aws-semantics 7): TCP/UDP allowed by a rule for 0.0.0.0/0 or ::/0 whose
        // opposite direction allows all traffic everywhere; then the response is judged by rules.
        let v6 = pkt.dst.is_ipv6();
        let untracked_by = request_rule.as_ref().and_then(|rr| {
            let wide = matches!(&rr.peer, SgPeer::Cidr { cidr } if cidr.prefix_len() == 0);
            let tcp_udp = pkt.proto.has_ports();
            if !(wide && tcp_udp) {
                return None;
            }
            net.eni_rules(eni, dir)
                .find(|r| r.is_allow_all_for(v6))
                .cloned()
        });
        let (tracking, rule, detail) = match (&untracked_by, &request_rule) {
            (Some(r), _) => (
                "untracked",
                Some(r.clone()),
                format!(
                    "{dir} response allowed by {} rule {} (untracked: the request matched a rule for all addresses)",
                    r.group_id,
                    sg_rule_text(net, r)
                ),
            ),
            (None, Some(rr)) => (
                "tracked",
                Some(rr.clone()),
                format!(
                    "{dir} response allowed by connection tracking: the request was allowed by {} rule {}",
                    rr.group_id,
                    sg_rule_text(net, rr)
                ),
            ),
            (None, None) => (
                "tracked",
                None,
                format!("{dir} response allowed by connection tracking"),
            ),
        };
        self.push(
            &e.id,
            ComponentKind::NetworkInterface,
            Check {
                layer: Layer::SecurityGroup,
                decision: Decision::Allow,
                direction: Some(dir),
                resources: rule
                    .as_ref()
                    .map(|r| vec![r.group_id.to_string()])
                    .unwrap_or(resources),
                rule_number: None,
                rule: rule.as_ref().and_then(|r| sg_rule_json(net, r)),
                ports_allowed: None,
                tracking: Some(tracking),
                detail,
            },
        );
        Ok(())
    }
}
