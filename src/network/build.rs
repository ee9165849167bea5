//! Building a [`Network`] from a [`Snapshot`]: VPCs, subnets, ENIs, compiled filters, gateways,
//! transit gateways and the component graph, each from its `describe-*` data. Problems are
//! recorded in [`Network::problems`](crate::NetworkBase::problems), never fatal.

use super::*;

fn name_tag(tags: &[Tag]) -> Option<String> {
    tags.iter()
        .find(|t| t.key == "Name")
        .map(|t| t.value.clone())
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.trim().parse().ok()
}

fn parse_net(s: &str) -> Option<IpNet> {
    s.trim().parse().ok()
}

/// A group compiled for the place `gi` of [`Network::groups`] (its rules say so).
fn compile_at(sg: &crate::snapshot::SecurityGroup, gi: usize) -> CompiledGroup {
    let mut g = CompiledGroup::compile(sg);
    for r in g.inbound.iter_mut().chain(g.outbound.iter_mut()) {
        r.group = gi;
    }
    g
}

/// A problem of a group's rules as [`Network::problems`](crate::NetworkBase::problems) lists it.
fn group_problem(id: &str, problem: &str) -> String {
    format!("security group {id}: {problem}")
}

/// The problems of a compiled group's rules, as [`group_problem`] words them.
fn group_problems(g: &CompiledGroup) -> impl Iterator<Item = String> + '_ {
    g.problems.iter().map(|p| group_problem(&g.id, p))
}

impl Network {
    /// Builds the model from a snapshot. Problems (unreadable CIDRs, dangling ids) are recorded in
    /// [`Network::problems`](crate::NetworkBase::problems), never fatal.
    ///
    /// ```
    /// use vpcreach::{Network, Snapshot};
    /// let snap = Snapshot::from_json_str(r#"{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}"#).unwrap();
    /// let net = Network::build(&snap);
    /// assert_eq!(net.vpcs.len(), 1);
    /// ```
    pub fn build(snap: &Snapshot) -> Network {
        Network::build_with(snap, snap.security_groups.iter())
    }

    /// [`Network::build`] for a caller that no longer needs the snapshot's security groups:
    /// they are taken out of `snap` (left empty) and each is dropped as soon as it is compiled,
    /// so that the parsed groups (most of a large snapshot) and their compiled form are never
    /// held together in full. Everything else of `snap` is left as it was.
    ///
    /// ```
    /// use vpcreach::{Network, Snapshot};
    /// let mut snap = Snapshot::from_json_str(r#"{"SecurityGroups": [{"GroupId": "sg-1", "GroupName": "web"}]}"#).unwrap();
    /// let net = Network::build_taking_groups(&mut snap);
    /// assert_eq!(net.groups.len(), 1);
    /// assert!(snap.security_groups.is_empty());
    /// ```
    pub fn build_taking_groups(snap: &mut Snapshot) -> Network {
        let groups = std::mem::take(&mut snap.security_groups);
        Network::build_with(snap, groups)
    }

    fn build_with<G: std::borrow::Borrow<crate::snapshot::SecurityGroup>>(
        snap: &Snapshot,
        groups: impl IntoIterator<Item = G>,
    ) -> Network {
        let mut net = NetworkBase {
            not_modelled: snap.not_modelled.clone(),
            snapshot_time: snap.collected_at,
            withheld: snap.withheld.clone(),
            withheld_aliases: snap.withheld_aliases.clone(),
            ..Default::default()
        };
        net.build_vpcs(snap);
        let groups = net.build_groups(groups);
        net.build_filters(snap);
        net.build_subnets(snap);
        net.build_enis(snap);
        net.build_gateways(snap);
        net.build_transit(snap);
        net.build_load_balancers(snap);
        net.build_graph();
        net.build_names(snap);
        net.build_bpa(snap);
        Network {
            base: std::sync::Arc::new(net),
            groups,
            sg_index: std::sync::OnceLock::new(),
        }
    }

    /// Whether this network and `other` share their [`NetworkBase`] (one was made from the
    /// other by [`Network::with_groups`], or both from a third).
    pub fn shares_base(&self, other: &Network) -> bool {
        std::sync::Arc::ptr_eq(&self.base, &other.base)
    }

    /// Compiles the groups for [`Network::sg_evaluate_fast`] now rather than on first use.
    pub(crate) fn compile_groups(&self) {
        self.sg_index
            .get_or_init(|| super::sg_index::SgIndex::build(self));
    }

    /// This network with some security groups compiled anew from `groups` (snapshot form):
    /// each must already be in this network (same id), and takes its place. Everything else
    /// (the ENIs, subnets, NACLs, route tables, the other groups and their compiled rules) is
    /// shared with this network, so that this costs what compiling those groups costs, not a
    /// build: the network at another time whose only differences are rules of some groups.
    /// `None` when a group is not in this network.
    ///
    /// ```
    /// use vpcreach::{Network, Snapshot};
    /// let snap = Snapshot::from_json_str(r#"{"SecurityGroups": [{"GroupId": "sg-1", "GroupName": "web"}]}"#).unwrap();
    /// let net = Network::build(&snap);
    /// let mut sg = snap.security_groups[0].clone();
    /// sg.group_name = "web-then".into();
    /// let then = net.with_groups(&[&sg]).unwrap();
    /// assert_eq!(then.groups[0].name, "web-then");
    /// assert_eq!(net.groups[0].name, "web");
    /// ```
    pub fn with_groups(&self, groups: &[&crate::snapshot::SecurityGroup]) -> Option<Network> {
        let mut out = Network {
            base: std::sync::Arc::clone(&self.base),
            groups: self.groups.clone(),
            sg_index: std::sync::OnceLock::new(),
        };
        let mut changed = Vec::with_capacity(groups.len());
        let mut problems_changed = false;
        for sg in groups {
            let gi = *self.group_index.get(&sg.group_id)?;
            let g = compile_at(sg, gi);
            problems_changed |= g.problems != out.groups.get(gi)?.problems;
            out.groups[gi] = std::sync::Arc::new(g);
            changed.push(gi);
        }
        if problems_changed {
            // The base's list of problems names each group's: it is made anew (a copy of the
            // base, which is rare: a rule that cannot be read).
            let ids: HashSet<&str> = groups.iter().map(|g| g.group_id.as_str()).collect();
            let prefixes: Vec<String> = ids.iter().map(|id| group_problem(id, "")).collect();
            let mut problems: Vec<String> = self
                .problems
                .iter()
                .filter(|p| !prefixes.iter().any(|x| p.starts_with(x.as_str())))
                .cloned()
                .collect();
            for &gi in &changed {
                problems.extend(group_problems(&out.groups[gi]));
            }
            out.problems = problems;
        }
        let index = self
            .sg_index
            .get_or_init(|| super::sg_index::SgIndex::build(self))
            .with_groups(&out, &changed);
        let _ = out.sg_index.set(index);
        Some(out)
    }
}

impl NetworkBase {
    fn build_bpa(&mut self, snap: &Snapshot) {
        use crate::bpa::{Initiated, Path, Place};
        self.bpa = crate::bpa::Bpa::build(snap);
        for w in &self.bpa.warnings {
            self.problems.push(w.clone());
        }
        if self.bpa.is_empty() {
            return;
        }
        let bpa = &self.bpa;
        self.bpa_table = self
            .subnets
            .iter()
            .map(|s| {
                let place = Place {
                    subnet: &s.id,
                    vpc: &s.vpc_id,
                    account: s.account.as_deref(),
                    region: s.region.as_deref(),
                };
                let j = |p, i| bpa.judge(&place, p, i);
                [
                    j(Path::InternetGateway, Initiated::FromInside),
                    j(Path::InternetGateway, Initiated::FromInternet),
                    j(Path::NatGateway, Initiated::FromInside),
                    j(Path::NatGateway, Initiated::FromInternet),
                    j(Path::EgressOnly, Initiated::FromInside),
                    j(Path::EgressOnly, Initiated::FromInternet),
                ]
            })
            .collect();
        // NAT gateways whose subnet and a source subnet would decide differently.
        let slot = super::bpa_slot(Path::NatGateway, Initiated::FromInside);
        for nat in self.nat_gateways.values() {
            let (Some(ns), Some(eni)) = (nat.subnet, nat.eni) else {
                continue;
            };
            let own = &self.bpa_table[ns][slot];
            let mut resources = own.resources.clone();
            let mut details = Vec::new();
            for (s, sub) in self.subnets.iter().enumerate() {
                let routes_here = sub.route_table.is_some_and(|rt| {
                    self.route_tables[rt]
                        .routes
                        .iter()
                        .any(|r| matches!(&r.target, crate::route::Target::NatGateway(id) if *id == nat.id))
                });
                let other = &self.bpa_table[s][slot];
                if s != ns
                    && routes_here
                    && other.outcome != own.outcome
                    && other.outcome != crate::bpa::Outcome::NoData
                {
                    resources.extend(other.resources.iter().cloned());
                    details.push(format!("at source subnet {}: {}", sub.id, other.detail));
                }
            }
            if !details.is_empty() {
                resources.dedup();
                self.bpa_nat_conflicts.insert(
                    eni,
                    crate::bpa::Judgement {
                        outcome: crate::bpa::Outcome::Unknown,
                        mode: own.mode,
                        exclusions: own.exclusions.clone(),
                        resources,
                        detail: format!(
                            "at the NAT gateway's subnet {}: {}; {}; which of these subnets' exclusions counts for a NAT gateway's traffic is not documented",
                            self.subnets[ns].id,
                            own.detail,
                            details.join("; ")
                        ),
                    },
                );
            }
        }
    }

    /// The judgement of a NAT gateway ENI's connections when its subnet and a subnet that
    /// routes to it would be judged differently.
    pub fn bpa_nat_judgement(&self, eni: usize) -> Option<&crate::bpa::Judgement> {
        self.bpa_nat_conflicts.get(&eni)
    }

    /// BPA's judgement for a connection at an internet hop of a subnet; `None` when the
    /// snapshot has no BPA options at all.
    pub fn bpa_judgement(
        &self,
        subnet: usize,
        path: crate::bpa::Path,
        init: crate::bpa::Initiated,
    ) -> Option<&crate::bpa::Judgement> {
        self.bpa_table
            .get(subnet)
            .and_then(|row| row.get(super::bpa_slot(path, init)))
    }

    fn build_names(&mut self, snap: &Snapshot) {
        let tagged = snap
            .vpcs
            .iter()
            .map(|v| (&v.vpc_id, &v.tags))
            .chain(snap.subnets.iter().map(|s| (&s.subnet_id, &s.tags)))
            .chain(
                snap.route_tables
                    .iter()
                    .map(|r| (&r.route_table_id, &r.tags)),
            )
            .chain(
                snap.network_acls
                    .iter()
                    .map(|n| (&n.network_acl_id, &n.tags)),
            )
            .chain(
                snap.internet_gateways
                    .iter()
                    .map(|g| (&g.internet_gateway_id, &g.tags)),
            )
            .chain(
                snap.nat_gateways
                    .iter()
                    .map(|g| (&g.nat_gateway_id, &g.tags)),
            );
        for (id, tags) in tagged {
            if let Some(n) = name_tag(tags) {
                self.names.insert(id.clone(), n);
            }
        }
    }

    fn build_vpcs(&mut self, snap: &Snapshot) {
        for v in &snap.vpcs {
            if self.vpc_index.contains_key(&v.vpc_id) {
                continue;
            }
            let mut cidrs = Vec::new();
            let mut texts: Vec<&str> = Vec::new();
            texts.extend(v.cidr_block.as_deref());
            for a in &v.cidr_block_association_set {
                let active = a
                    .cidr_block_state
                    .as_ref()
                    .and_then(|s| s.state.as_deref())
                    .is_none_or(|s| s == "associated");
                if active {
                    texts.extend(a.cidr_block.as_deref());
                }
            }
            for a in &v.ipv6_cidr_block_association_set {
                texts.extend(a.ipv6_cidr_block.as_deref());
            }
            for t in texts {
                match parse_net(t) {
                    Some(n) if !cidrs.contains(&n) => cidrs.push(n),
                    Some(_) => {}
                    None => self
                        .problems
                        .push(format!("VPC {}: `{t}` is not a CIDR", v.vpc_id)),
                }
            }
            self.vpc_index.insert(v.vpc_id.clone(), self.vpcs.len());
            self.vpcs.push(VpcInfo {
                id: v.vpc_id.clone(),
                cidrs,
                internet_gateway: None,
                egress_only_gateways: Vec::new(),
                owner: v.owner_id.clone(),
                region: v.origin.region.clone(),
            });
        }
    }

    fn build_groups<G: std::borrow::Borrow<crate::snapshot::SecurityGroup>>(
        &mut self,
        groups: impl IntoIterator<Item = G>,
    ) -> Vec<std::sync::Arc<CompiledGroup>> {
        let mut out = Vec::new();
        for sg in groups {
            let sg = sg.borrow();
            if self.group_index.contains_key(&sg.group_id) {
                continue;
            }
            let gi = out.len();
            let g = compile_at(sg, gi);
            self.problems.extend(group_problems(&g));
            self.group_index.insert(g.id.clone(), gi);
            out.push(std::sync::Arc::new(g));
        }
        self.group_members = vec![FxHashSet::default(); out.len()];
        out
    }

    fn build_filters(&mut self, snap: &Snapshot) {
        for acl in &snap.network_acls {
            if self.nacl_index.contains_key(&acl.network_acl_id) {
                continue;
            }
            let n = CompiledNacl::compile(acl);
            for p in &n.problems {
                self.problems.push(format!("network ACL {}: {p}", n.id));
            }
            self.nacl_index.insert(n.id.clone(), self.nacls.len());
            self.nacls.push(n);
        }
        for rt in &snap.route_tables {
            if self.route_table_index.contains_key(&rt.route_table_id) {
                continue;
            }
            let t = CompiledRouteTable::compile(rt);
            for p in &t.problems {
                self.problems.push(format!("route table {}: {p}", t.id));
            }
            self.route_table_index
                .insert(t.id.clone(), self.route_tables.len());
            self.route_tables.push(t);
        }
        for pl in &snap.prefix_lists {
            let cidrs: Vec<IpNet> = pl.cidrs.iter().filter_map(|c| parse_net(c)).collect();
            self.prefix_lists.insert(pl.prefix_list_id.clone(), cidrs);
        }
        for pl in &snap.managed_prefix_lists {
            match &pl.entries {
                Some(entries) => {
                    let cidrs = entries.iter().filter_map(|e| parse_net(&e.cidr)).collect();
                    self.prefix_lists.insert(pl.prefix_list_id.clone(), cidrs);
                }
                None => {
                    if !self.prefix_lists.contains_key(&pl.prefix_list_id) {
                        self.prefix_lists_without_entries
                            .insert(pl.prefix_list_id.clone());
                    }
                }
            }
        }
    }

    fn build_subnets(&mut self, snap: &Snapshot) {
        let vpc_owner: HashMap<&str, Option<String>> = snap
            .vpcs
            .iter()
            .map(|v| {
                (
                    v.vpc_id.as_str(),
                    v.owner_id.clone().or_else(|| v.origin.account.clone()),
                )
            })
            .collect();
        // NACL per subnet: the associated one, else the VPC's default.
        let mut nacl_of: HashMap<&str, usize> = HashMap::new();
        let mut default_nacl: HashMap<&str, usize> = HashMap::new();
        for acl in &snap.network_acls {
            let Some(&i) = self.nacl_index.get(&acl.network_acl_id) else {
                continue;
            };
            if acl.is_default == Some(true) {
                default_nacl.insert(acl.vpc_id.as_str(), i);
            }
            for a in &acl.associations {
                if let Some(s) = a.subnet_id.as_deref() {
                    nacl_of.insert(s, i);
                }
            }
        }
        let mut rt_of: HashMap<String, usize> = HashMap::new();
        let mut main_rt: HashMap<String, usize> = HashMap::new();
        for (i, t) in self.route_tables.iter().enumerate() {
            if t.main {
                main_rt.insert(t.vpc_id.clone(), i);
            }
            for s in &t.subnets {
                rt_of.insert(s.clone(), i);
            }
        }
        for s in &snap.subnets {
            if self.subnet_index.contains_key(&s.subnet_id) {
                continue;
            }
            let mut cidrs = Vec::new();
            if let Some(c) = s.cidr_block.as_deref() {
                match parse_net(c) {
                    Some(n) => cidrs.push(n),
                    None => self
                        .problems
                        .push(format!("subnet {}: `{c}` is not a CIDR", s.subnet_id)),
                }
            }
            for a in &s.ipv6_cidr_block_association_set {
                if let Some(n) = a.ipv6_cidr_block.as_deref().and_then(parse_net) {
                    cidrs.push(n);
                }
            }
            let nacl = nacl_of
                .get(s.subnet_id.as_str())
                .or_else(|| default_nacl.get(s.vpc_id.as_str()))
                .copied();
            if nacl.is_none() {
                self.problems.push(format!(
                    "subnet {}: no network ACL in the snapshot; traffic crossing it is unknown",
                    s.subnet_id
                ));
            }
            let route_table = rt_of
                .get(&s.subnet_id)
                .or_else(|| main_rt.get(&s.vpc_id))
                .copied();
            self.subnet_index
                .insert(s.subnet_id.clone(), self.subnets.len());
            self.subnets.push(SubnetInfo {
                id: s.subnet_id.clone(),
                vpc_id: s.vpc_id.clone(),
                cidrs,
                nacl,
                route_table,
                availability_zone: s.availability_zone.clone(),
                account: s
                    .owner_id
                    .clone()
                    .or_else(|| vpc_owner.get(s.vpc_id.as_str()).cloned().flatten())
                    .or_else(|| s.origin.account.clone()),
                region: s.origin.region.clone().or_else(|| {
                    s.availability_zone
                        .as_deref()
                        .and_then(crate::bpa::region_of_az)
                        .map(str::to_string)
                }),
            });
        }
    }

    fn add_eni(&mut self, ni: &NetworkInterface, instance: Option<(&str, &[Tag])>) {
        if let Some(&i) = self.eni_index.get(ni.network_interface_id.as_bytes()) {
            // Seen before (describe-network-interfaces and describe-instances both list it):
            // keep the first, fill the instance link.
            if let Some((iid, itags)) = instance {
                if self.enis[i].instance_id.is_none() {
                    self.enis[i].instance_id = Some(iid.to_string());
                }
                for t in itags {
                    if !self.enis[i].tags.iter().any(|(k, _)| *k == t.key) {
                        self.enis[i].tags.push((t.key.clone(), t.value.clone()));
                    }
                }
            }
            return;
        }
        let mut private_ipv4: Vec<IpAddr> = Vec::new();
        let mut public_ips = Vec::new();
        if let Some(p) = ni.private_ip_address.as_deref().and_then(parse_ip) {
            private_ipv4.push(p);
            if let Some(pub_ip) = ni
                .association
                .as_ref()
                .and_then(|a| a.public_ip.as_deref())
                .and_then(parse_ip)
            {
                public_ips.push((pub_ip, p));
            }
        }
        let mut secondary = Vec::new();
        for a in &ni.private_ip_addresses {
            let Some(p) = parse_ip(&a.private_ip_address) else {
                self.problems.push(format!(
                    "network interface {}: `{}` is not an address",
                    ni.network_interface_id, a.private_ip_address
                ));
                continue;
            };
            if let Some(pub_ip) = a
                .association
                .as_ref()
                .and_then(|x| x.public_ip.as_deref())
                .and_then(parse_ip)
            {
                if !public_ips.contains(&(pub_ip, p)) {
                    public_ips.push((pub_ip, p));
                }
            }
            if private_ipv4.contains(&p) {
                continue;
            }
            if a.primary == Some(true) {
                private_ipv4.insert(0, p);
            } else {
                secondary.push(p);
            }
        }
        private_ipv4.extend(secondary);
        let ipv6: Vec<IpAddr> = ni
            .ipv6_addresses
            .iter()
            .filter_map(|a| parse_ip(&a.ipv6_address))
            .collect();
        let mut groups = Vec::new();
        let mut missing_groups = Vec::new();
        for g in &ni.groups {
            match self.group_index.get(&g.group_id) {
                Some(&gi) => groups.push(gi),
                None => missing_groups.push(g.group_id.clone()),
            }
        }
        let subnet = ni
            .subnet_id
            .as_ref()
            .and_then(|s| self.subnet_index.get(s))
            .copied();
        let vpc_id = ni
            .vpc_id
            .clone()
            .or_else(|| subnet.map(|s| self.subnets[s].vpc_id.clone()));
        let instance_id = instance
            .map(|(i, _)| i.to_string())
            .or_else(|| ni.attachment.as_ref().and_then(|a| a.instance_id.clone()));
        let mut tags: Vec<(String, String)> = ni
            .tag_set
            .iter()
            .map(|t| (t.key.clone(), t.value.clone()))
            .collect();
        if let Some((_, itags)) = instance {
            for t in itags {
                if !tags.iter().any(|(k, _)| *k == t.key) {
                    tags.push((t.key.clone(), t.value.clone()));
                }
            }
        }
        let name = name_tag(&ni.tag_set)
            .or_else(|| instance.and_then(|(_, tags)| name_tag(tags)))
            .or_else(|| ni.description.clone().filter(|d| !d.is_empty()));
        let idx = self.enis.len();
        for ip in private_ipv4.iter().chain(ipv6.iter()) {
            self.private_ip_index.entry(*ip).or_default().push(idx);
            for &g in &groups {
                self.group_members[g].insert(*ip);
            }
        }
        for (pub_ip, p) in &public_ips {
            self.public_ip_index.insert(*pub_ip, (idx, *p));
        }
        if let Some(iid) = &instance_id {
            let primary = ni.attachment.as_ref().and_then(|a| a.device_index) == Some(0);
            if primary || !self.instance_index.contains_key(iid) {
                self.instance_index.insert(iid.clone(), idx);
            }
        }
        self.eni_index
            .insert(ni.network_interface_id.as_bytes().into(), idx);
        self.enis.push(Eni {
            id: ni.network_interface_id.clone(),
            subnet,
            vpc_id,
            groups,
            missing_groups,
            private_ipv4,
            ipv6,
            public_ips,
            instance_id,
            interface_type: ni.interface_type.clone(),
            source_dest_check: ni.source_dest_check.unwrap_or(true),
            name,
            tags,
            unfiltered: None,
            availability_zone: ni
                .availability_zone
                .clone()
                .or_else(|| subnet.and_then(|s| self.subnets[s].availability_zone.clone())),
        });
    }

    fn build_enis(&mut self, snap: &Snapshot) {
        let mut instance_of: HashMap<&str, (&str, &[Tag])> = HashMap::new();
        for inst in &snap.instances {
            for ni in &inst.network_interfaces {
                instance_of.insert(
                    ni.network_interface_id.as_str(),
                    (inst.instance_id.as_str(), inst.tags.as_slice()),
                );
            }
        }
        for ni in &snap.network_interfaces {
            let inst = instance_of.get(ni.network_interface_id.as_str()).copied();
            self.add_eni(ni, inst);
        }
        for inst in &snap.instances {
            for ni in &inst.network_interfaces {
                let mut ni = ni.clone();
                if ni.subnet_id.is_none() {
                    ni.subnet_id = inst.subnet_id.clone();
                }
                if ni.vpc_id.is_none() {
                    ni.vpc_id = inst.vpc_id.clone();
                }
                if ni.groups.is_empty() {
                    ni.groups = inst.security_groups.clone();
                }
                self.add_eni(&ni, Some((&inst.instance_id, &inst.tags)));
            }
        }
        // Elastic IPs listed only in describe-addresses.
        for a in &snap.addresses {
            let (Some(pub_ip), Some(eni)) = (
                a.public_ip.as_deref().and_then(parse_ip),
                a.network_interface_id.as_ref(),
            ) else {
                continue;
            };
            let Some(&i) = self.eni_index.get(eni.as_bytes()) else {
                continue;
            };
            let private = a
                .private_ip_address
                .as_deref()
                .and_then(parse_ip)
                .or_else(|| self.enis[i].primary(false));
            if let Some(p) = private {
                if !self.enis[i].public_ips.contains(&(pub_ip, p)) {
                    self.enis[i].public_ips.push((pub_ip, p));
                    self.public_ip_index.insert(pub_ip, (i, p));
                }
            }
        }
    }

    fn build_gateways(&mut self, snap: &Snapshot) {
        for igw in &snap.internet_gateways {
            let vpcs: Vec<String> = igw
                .attachments
                .iter()
                .filter(|a| {
                    a.state
                        .as_deref()
                        .is_none_or(|s| s == "available" || s == "attached")
                })
                .map(|a| a.vpc_id.clone())
                .collect();
            for v in &vpcs {
                if let Some(&vi) = self.vpc_index.get(v) {
                    self.vpcs[vi].internet_gateway = Some(igw.internet_gateway_id.clone());
                }
            }
            self.internet_gateways
                .insert(igw.internet_gateway_id.clone(), vpcs);
        }
        for g in &snap.egress_only_internet_gateways {
            let vpcs: Vec<String> = g.attachments.iter().map(|a| a.vpc_id.clone()).collect();
            for v in &vpcs {
                if let Some(&vi) = self.vpc_index.get(v) {
                    self.vpcs[vi]
                        .egress_only_gateways
                        .push(g.egress_only_internet_gateway_id.clone());
                }
            }
            self.egress_only_gateways
                .insert(g.egress_only_internet_gateway_id.clone(), vpcs);
        }
        for n in &snap.nat_gateways {
            let addr = n.nat_gateway_addresses.first();
            let eni = addr
                .and_then(|a| a.network_interface_id.as_ref())
                .and_then(|e| self.eni_index.get(e.as_bytes()))
                .copied();
            let info = NatInfo {
                id: n.nat_gateway_id.clone(),
                subnet: n
                    .subnet_id
                    .as_ref()
                    .and_then(|s| self.subnet_index.get(s))
                    .copied(),
                eni,
                private_ip: addr
                    .and_then(|a| a.private_ip.as_deref())
                    .and_then(parse_ip),
                public_ip: addr.and_then(|a| a.public_ip.as_deref()).and_then(parse_ip),
                available: n.state.as_deref().is_none_or(|s| s == "available"),
                private_connectivity: n.connectivity_type.as_deref() == Some("private"),
            };
            // A deleted NAT gateway may share an id-less history with a live one; keep the live.
            let keep = self
                .nat_gateways
                .get(&info.id)
                .is_none_or(|old| !old.available);
            if keep {
                self.nat_gateways.insert(info.id.clone(), info);
            }
        }
        for p in &snap.vpc_peering_connections {
            let status = p
                .status
                .as_ref()
                .and_then(|s| s.code.clone())
                .unwrap_or_else(|| "unknown".into());
            self.peerings.insert(
                p.vpc_peering_connection_id.clone(),
                PeeringInfo {
                    id: p.vpc_peering_connection_id.clone(),
                    requester: p.requester_vpc_info.vpc_id.clone(),
                    accepter: p.accepter_vpc_info.vpc_id.clone(),
                    active: status == "active",
                    status,
                    requester_cidrs: peering_cidrs(&p.requester_vpc_info),
                    accepter_cidrs: peering_cidrs(&p.accepter_vpc_info),
                },
            );
        }
        for e in &snap.vpc_endpoints {
            self.endpoints.insert(
                e.vpc_endpoint_id.clone(),
                EndpointInfo {
                    id: e.vpc_endpoint_id.clone(),
                    endpoint_type: e.vpc_endpoint_type.clone().unwrap_or_default(),
                    service_name: e.service_name.clone(),
                },
            );
        }
    }

    fn build_transit(&mut self, snap: &Snapshot) {
        for t in &snap.transit_gateways {
            self.transit_gateways.insert(t.transit_gateway_id.clone());
        }
        for a in &snap.transit_gateway_attachments {
            let entry = self
                .tgw_attachments
                .entry(a.transit_gateway_attachment_id.clone())
                .or_insert_with(|| TgwAttachmentInfo {
                    id: a.transit_gateway_attachment_id.clone(),
                    tgw: a.transit_gateway_id.clone().unwrap_or_default(),
                    resource_type: a.resource_type.clone().unwrap_or_else(|| "vpc".into()),
                    resource_id: None,
                    subnets: Vec::new(),
                    route_table: None,
                    available: true,
                });
            // The generic and the VPC-specific descriptions complete each other.
            if entry.resource_id.is_none() {
                entry.resource_id = a.resource_id.clone().or_else(|| a.vpc_id.clone());
            }
            if a.resource_type.is_some() {
                entry.resource_type = a.resource_type.clone().unwrap_or_default();
            }
            if entry.subnets.is_empty() {
                entry.subnets = a.subnet_ids.clone();
            }
            if let Some(rt) = a
                .association
                .as_ref()
                .and_then(|x| x.transit_gateway_route_table_id.clone())
            {
                entry.route_table = Some(rt);
            }
            if let Some(s) = a.state.as_deref() {
                entry.available = s == "available";
            }
        }
        let mut tables: HashMap<String, Vec<TgwRouteInfo>> = HashMap::new();
        for t in &snap.transit_gateway_route_tables {
            let routes = tables
                .entry(t.transit_gateway_route_table_id.clone())
                .or_default();
            add_tgw_routes(routes, &t.routes);
        }
        for set in &snap.transit_gateway_route_sets {
            let routes = tables
                .entry(set.transit_gateway_route_table_id.clone())
                .or_default();
            add_tgw_routes(routes, &set.routes);
        }
        // Propagated routes: each enabled VPC attachment propagates its VPC's CIDRs.
        for p in &snap.transit_gateway_propagations {
            for prop in &p.transit_gateway_route_table_propagations {
                if prop.state.as_deref() != Some("enabled")
                    || prop.resource_type.as_deref() != Some("vpc")
                {
                    continue;
                }
                let Some(vpc) = prop
                    .resource_id
                    .as_ref()
                    .and_then(|v| self.vpc_index.get(v))
                else {
                    continue;
                };
                let routes = tables
                    .entry(p.transit_gateway_route_table_id.clone())
                    .or_default();
                for cidr in &self.vpcs[*vpc].cidrs {
                    let exists = routes.iter().any(|r| r.destination == *cidr);
                    if !exists {
                        routes.push(TgwRouteInfo {
                            destination: *cidr,
                            attachment: prop.transit_gateway_attachment_id.clone(),
                            blackhole: false,
                            route_type: "propagated".into(),
                        });
                    }
                }
            }
        }
        self.tgw_route_tables = tables;
    }

    fn node(&mut self, id: &str, kind: ComponentKind) -> NodeIndex {
        if let Some(&n) = self.node_index.get(id) {
            return n;
        }
        let n = self.graph.add_node(Component {
            id: id.to_string(),
            kind,
        });
        self.node_index.insert(id.to_string(), n);
        n
    }

    fn build_graph(&mut self) {
        let vpcs: Vec<String> = self.vpcs.iter().map(|v| v.id.clone()).collect();
        for v in &vpcs {
            self.node(v, ComponentKind::Vpc);
        }
        let subnets: Vec<(String, String, Option<usize>)> = self
            .subnets
            .iter()
            .map(|s| (s.id.clone(), s.vpc_id.clone(), s.route_table))
            .collect();
        for (sid, vid, rt) in &subnets {
            let s = self.node(sid, ComponentKind::Subnet);
            let v = self.node(vid, ComponentKind::Vpc);
            self.graph.add_edge(v, s, "contains".into());
            if let Some(rt) = rt {
                let rid = self.route_tables[*rt].id.clone();
                let r = self.node(&rid, ComponentKind::RouteTable);
                self.graph.add_edge(s, r, "routes by".into());
            }
        }
        let enis: Vec<(String, Option<usize>)> =
            self.enis.iter().map(|e| (e.id.clone(), e.subnet)).collect();
        for (eid, sub) in enis {
            let e = self.node(&eid, ComponentKind::NetworkInterface);
            if let Some(s) = sub {
                let sid = self.subnets[s].id.clone();
                let s = self.node(&sid, ComponentKind::Subnet);
                self.graph.add_edge(e, s, "in".into());
                self.graph.add_edge(s, e, "delivers to".into());
            }
        }
        let tables: Vec<(String, Vec<String>)> = self
            .route_tables
            .iter()
            .map(|t| {
                (
                    t.id.clone(),
                    t.routes
                        .iter()
                        .filter(|r| !r.blackhole && r.target != Target::Local)
                        .map(|r| r.target.to_string())
                        .collect(),
                )
            })
            .collect();
        for (tid, targets) in tables {
            let t = self.node(&tid, ComponentKind::RouteTable);
            for target in targets {
                let kind = component_kind_of(&target);
                let n = self.node(&target, kind);
                if self.graph.find_edge(t, n).is_none() {
                    self.graph.add_edge(t, n, "route".into());
                }
            }
        }
    }
}

fn peering_cidrs(info: &crate::snapshot::PeeringVpcInfo) -> Vec<IpNet> {
    let mut v: Vec<IpNet> = Vec::new();
    let texts = info
        .cidr_block
        .iter()
        .chain(
            info.cidr_block_set
                .iter()
                .filter_map(|c| c.cidr_block.as_ref()),
        )
        .chain(
            info.ipv6_cidr_block_set
                .iter()
                .filter_map(|c| c.ipv6_cidr_block.as_ref()),
        );
    for t in texts {
        if let Some(n) = parse_net(t) {
            if !v.contains(&n) {
                v.push(n);
            }
        }
    }
    v
}

fn add_tgw_routes(routes: &mut Vec<TgwRouteInfo>, from: &[crate::snapshot::TgwRoute]) {
    for r in from {
        let Some(dest) = r.destination_cidr_block.as_deref().and_then(parse_net) else {
            continue;
        };
        routes.push(TgwRouteInfo {
            destination: dest,
            attachment: r
                .transit_gateway_attachments
                .first()
                .and_then(|a| a.transit_gateway_attachment_id.clone()),
            blackhole: r.state.as_deref() == Some("blackhole"),
            route_type: r.route_type.clone().unwrap_or_else(|| "static".into()),
        });
    }
}
