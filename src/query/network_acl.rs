//! The network-ACL hop: a subnet's NACL, in either direction, evaluated in rule-number order,
//! and crossing from one subnet to another (which NACLs apply).

use super::*;

impl<'n> Walker<'n> {
    pub(super) fn nacl_check(
        &mut self,
        subnet: usize,
        dir: Direction,
        pkt: &mut Pkt,
    ) -> Result<(), Stop> {
        let net = self.net;
        let s = &net.subnets[subnet];
        let Some(ni) = s.nacl else {
            return Err(self.stop(
                (&s.id, ComponentKind::Subnet),
                Layer::NetworkAcl,
                vec![],
                format!("{dir}: the subnet's network ACL is not in the snapshot"),
                Stop::Unknown(Reason::IncompleteSnapshot),
            ));
        };
        let nacl = &net.nacls[ni];
        let nacl_label = match net.names.get(&nacl.id) {
            Some(n) => format!("{} ({})", nacl.id, crate::render::sanitize(n)),
            None => nacl.id.clone(),
        };
        let peer = match dir {
            Direction::Inbound => pkt.src,
            Direction::Outbound => pkt.dst,
        };
        let outcome = nacl.evaluate(dir, peer, pkt.proto, &pkt.dport, pkt.icmp);
        let allowed = if pkt.proto.has_ports() {
            outcome.allowed()
        } else if outcome.allowed().is_empty() {
            PortSet::empty()
        } else {
            pkt.dport.clone()
        };
        let on_ports = pkt.proto.has_ports();
        // An entry of unknown content that some of the ports reach: what it does with them is
        // not known. Those ports may pass (never guessed either way): the walk goes on with
        // them, so that a check further on that denies anyway decides exactly; otherwise the
        // answer is unknown here (`Walker::pending`).
        let reached: Vec<_> = outcome
            .parts
            .iter()
            .filter(|(_, r)| r.action == Action::Unknown)
            .collect();
        let mut may_pass = None;
        if let Some((ports, rule)) = reached.first().map(|(p, r)| (p, *r)) {
            let mut maybe = allowed.clone();
            for (p, _) in &reached {
                maybe = maybe.union(p);
            }
            let stopped = self.mode == Mode::Response
                && self.clients
                && on_ports
                && maybe.clients().is_empty();
            if !stopped {
                let detail = format!(
                    "{dir}: {} {rule} decides {}{} {} {peer}: what it does is not known{}",
                    nacl_label,
                    pkt.proto,
                    if on_ports {
                        format!("/{ports}")
                    } else {
                        port_text(pkt)
                    },
                    if dir == Direction::Inbound {
                        "from"
                    } else {
                        "to"
                    },
                    if on_ports && !allowed.is_empty() {
                        format!(" (ports {allowed} are allowed)")
                    } else {
                        String::new()
                    }
                );
                let check = Check {
                    layer: Layer::NetworkAcl,
                    decision: Decision::Unknown,
                    direction: Some(dir),
                    resources: vec![nacl.id.clone()],
                    rule_number: Some(rule.rule_number),
                    rule: rule_json(rule),
                    ports_allowed: None,
                    tracking: None,
                    detail,
                };
                self.undecided(
                    &s.id,
                    ComponentKind::Subnet,
                    check,
                    Reason::IncompleteSnapshot,
                );
                if on_ports {
                    pkt.dport = maybe;
                }
                return Ok(());
            }
            may_pass = Some(maybe);
        }
        // Even if the entries of unknown content let their ports through, no client's whole
        // range would pass: the denial below holds either way.
        let allowed = may_pass.unwrap_or(allowed);
        // Without a given client port, a response must pass the whole ephemeral range of at
        // least one common client: a few odd ports that pass help no real client.
        let no_client = self.mode == Mode::Response
            && self.clients
            && on_ports
            && !allowed.is_empty()
            && allowed.clients().is_empty();
        if no_client {
            // The rule that stops the first client range (Linux) decides.
            let linux = PortSet::from_range(PortRange::LINUX);
            let mut denied = linux.clone();
            for x in allowed.ranges() {
                denied = denied.minus_range(x);
            }
            let first = denied.first().and_then(|w| {
                outcome
                    .parts
                    .iter()
                    .find(|(p, r)| {
                        r.action == Action::Deny
                            && !p.intersect_range(&PortRange::single(w)).is_empty()
                    })
                    .map(|(_, r)| *r)
            });
            let detail = format!(
                "{dir}: {} {} denies the response to client ports {} (it passes only ports {allowed}, the whole ephemeral range of no common client: Linux {}, Windows {}, NAT gateway and ELB {})",
                nacl_label,
                first.map(|r| r.to_string()).unwrap_or_default(),
                denied,
                PortRange::LINUX,
                PortRange::WINDOWS,
                PortRange::NAT_GATEWAY,
            );
            let check = Check {
                layer: Layer::NetworkAcl,
                decision: Decision::Deny,
                direction: Some(dir),
                resources: vec![nacl.id.clone()],
                rule_number: first.map(|r| r.rule_number),
                rule: first.and_then(rule_json),
                ports_allowed: Some(allowed.clone()),
                tracking: None,
                detail,
            };
            self.passing_ports = Some(allowed);
            return Err(self.deny(
                &s.id,
                ComponentKind::Subnet,
                check,
                Reason::SubnetAclRestriction,
            ));
        }
        if allowed.is_empty() {
            let deciding: Vec<_> = outcome
                .parts
                .iter()
                .filter(|(_, r)| r.action == Action::Deny)
                .collect();
            let first = deciding.first().map(|(_, r)| *r);
            let rules_text: Vec<String> = deciding
                .iter()
                .map(|(p, r)| {
                    if on_ports && deciding.len() > 1 {
                        format!("{r} for ports {p}")
                    } else {
                        r.to_string()
                    }
                })
                .collect();
            let detail = format!(
                "{dir}: {} {} denies {}{} {} {peer}",
                nacl_label,
                rules_text.join(", "),
                pkt.proto,
                port_text(pkt),
                if dir == Direction::Inbound {
                    "from"
                } else {
                    "to"
                }
            );
            let check = Check {
                layer: Layer::NetworkAcl,
                decision: Decision::Deny,
                direction: Some(dir),
                resources: vec![nacl.id.clone()],
                rule_number: first.map(|r| r.rule_number),
                rule: first.and_then(rule_json),
                ports_allowed: None,
                tracking: None,
                detail,
            };
            return Err(self.deny(
                &s.id,
                ComponentKind::Subnet,
                check,
                Reason::SubnetAclRestriction,
            ));
        }
        let witness = allowed.first();
        let allowing = outcome
            .parts
            .iter()
            .find(|(p, r)| {
                r.action == Action::Allow
                    && (!on_ports
                        || witness
                            .is_some_and(|w| !p.intersect_range(&PortRange::single(w)).is_empty()))
            })
            .map(|(_, r)| *r);
        let partial = on_ports && allowed != pkt.dport;
        let mut detail = format!(
            "{dir}: {} {} allows {}{}",
            nacl_label,
            allowing.map(|r| r.to_string()).unwrap_or_default(),
            pkt.proto,
            if partial {
                format!(" on ports {allowed}")
            } else {
                port_text(pkt)
            }
        );
        if partial {
            let denied: Vec<String> = outcome
                .parts
                .iter()
                .filter(|(_, r)| r.action == Action::Deny)
                .map(|(p, r)| format!("ports {p} by {r}"))
                .collect();
            detail.push_str(&format!("; denied: {}", denied.join(", ")));
        }
        let check = Check {
            layer: Layer::NetworkAcl,
            decision: Decision::Allow,
            direction: Some(dir),
            resources: vec![nacl.id.clone()],
            rule_number: allowing.map(|r| r.rule_number),
            rule: allowing.and_then(rule_json),
            ports_allowed: partial.then(|| allowed.clone()),
            tracking: None,
            detail,
        };
        self.push(&s.id, ComponentKind::Subnet, check);
        if on_ports {
            pkt.dport = allowed;
        }
        Ok(())
    }

    /// NACL checks for traffic moving between two subnets (none within one subnet).
    pub(super) fn cross(
        &mut self,
        from: Option<usize>,
        to: Option<usize>,
        pkt: &mut Pkt,
    ) -> Result<(), Stop> {
        if from.is_some() && from == to {
            return Ok(());
        }
        if let Some(f) = from {
            self.nacl_check(f, Direction::Outbound, pkt)?;
        }
        if let Some(t) = to {
            self.nacl_check(t, Direction::Inbound, pkt)?;
        }
        Ok(())
    }
}
