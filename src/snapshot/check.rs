//! Inconsistent snapshots: what AWS would never return, or two files that disagree. Each case is
//! a warning naming the file and the resource; where an answer would depend on which version is
//! believed (or on reading a broken rule one way or another), the resource is left out of the
//! snapshot, so that every verdict that depends on it is `unknown` (the engine never guesses
//! about a resource it does not have), never a silent pick by file order.

use super::model::*;
use super::Snapshot;
use ipnet::{Ipv4Net, Ipv6Net};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// How many resources of each checked kind the snapshot held before a file was merged: the
/// file of a resource is found from its position.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Lengths {
    security_groups: usize,
    network_interfaces: usize,
    network_acls: usize,
    route_tables: usize,
}

impl Lengths {
    pub(crate) fn of(snap: &Snapshot) -> Lengths {
        Lengths {
            security_groups: snap.security_groups.len(),
            network_interfaces: snap.network_interfaces.len(),
            network_acls: snap.network_acls.len(),
            route_tables: snap.route_tables.len(),
        }
    }
}

/// The files merged into a snapshot, in order, each with the [`Lengths`] before it.
pub(crate) type Files = Vec<(PathBuf, Lengths)>;

/// The file the `index`-th resource of a kind (`len` picks its count) came from.
fn file_of(files: &Files, index: usize, len: impl Fn(&Lengths) -> usize) -> &Path {
    files
        .iter()
        .rev()
        .find(|(_, l)| len(l) <= index)
        .map_or(Path::new("<memory>"), |(p, _)| p)
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

/// What to drop and why.
#[derive(Default)]
struct Verdicts {
    warnings: Vec<String>,
    drop_sgs: BTreeSet<String>,
    drop_enis: BTreeSet<String>,
    drop_nacls: BTreeSet<String>,
    drop_subnets: BTreeSet<String>,
    /// Exact copies to drop (index), keeping the first.
    copy_sgs: BTreeSet<usize>,
    copy_enis: BTreeSet<usize>,
}

const UNKNOWN: &str = "it is left out, so verdicts that depend on it are unknown";

/// Checks `snap` (merged from `files`) and leaves out what cannot be believed; the warnings go
/// to [`Snapshot::warnings`].
pub(crate) fn check(snap: &mut Snapshot, files: &Files) {
    let mut v = Verdicts::default();
    duplicates(
        &snap.security_groups,
        |g| &g.group_id,
        |g| {
            let mut g = g.clone();
            g.origin = Origin::default();
            g
        },
        |i| file_of(files, i, |l| l.security_groups),
        "security group",
        &mut v.warnings,
        &mut v.drop_sgs,
        &mut v.copy_sgs,
    );
    duplicates(
        &snap.network_interfaces,
        |e| &e.network_interface_id,
        |e| {
            let mut e = e.clone();
            e.origin = Origin::default();
            e
        },
        |i| file_of(files, i, |l| l.network_interfaces),
        "ENI",
        &mut v.warnings,
        &mut v.drop_enis,
        &mut v.copy_enis,
    );
    for (i, g) in snap.security_groups.iter().enumerate() {
        let file = shown(file_of(files, i, |l| l.security_groups));
        for (direction, perms) in [
            ("inbound", &g.ip_permissions),
            ("outbound", &g.ip_permissions_egress),
        ] {
            for p in perms {
                if let Some(why) = permission_problem(p) {
                    v.warnings.push(format!(
                        "{file}: security group `{}` has an {direction} rule that cannot be read ({why}): {UNKNOWN}",
                        g.group_id
                    ));
                    v.drop_sgs.insert(g.group_id.clone());
                }
            }
        }
    }
    let mut nacl_of_subnet: BTreeMap<&str, Vec<(&str, PathBuf)>> = BTreeMap::new();
    for (i, acl) in snap.network_acls.iter().enumerate() {
        let path = file_of(files, i, |l| l.network_acls).to_path_buf();
        let file = shown(&path);
        let mut numbers: HashMap<(bool, i64, bool), usize> = HashMap::new();
        for e in &acl.entries {
            let v6 = e.ipv6_cidr_block.is_some();
            *numbers.entry((e.egress, e.rule_number, v6)).or_default() += 1;
            if let Some(why) = nacl_entry_problem(e) {
                v.warnings.push(format!(
                    "{file}: network ACL `{}` has rule {} that cannot be read ({why}): {UNKNOWN}",
                    acl.network_acl_id, e.rule_number
                ));
                v.drop_nacls.insert(acl.network_acl_id.clone());
            }
        }
        let mut repeated: Vec<_> = numbers.into_iter().filter(|(_, n)| *n > 1).collect();
        repeated.sort();
        for ((egress, number, _), _) in repeated {
            v.warnings.push(format!(
                "{file}: network ACL `{}` has two {} rules numbered {number}: which one decides cannot be told, {UNKNOWN}",
                acl.network_acl_id,
                if egress { "outbound" } else { "inbound" },
            ));
            v.drop_nacls.insert(acl.network_acl_id.clone());
        }
        for a in &acl.associations {
            if let Some(s) = a.subnet_id.as_deref() {
                let list = nacl_of_subnet.entry(s).or_default();
                if !list.iter().any(|(id, _)| *id == acl.network_acl_id) {
                    list.push((&acl.network_acl_id, path.clone()));
                }
            }
        }
    }
    let mut table_of_subnet: BTreeMap<&str, Vec<(&str, PathBuf)>> = BTreeMap::new();
    for (i, rt) in snap.route_tables.iter().enumerate() {
        let path = file_of(files, i, |l| l.route_tables).to_path_buf();
        for a in &rt.associations {
            if let Some(s) = a.subnet_id.as_deref() {
                let list = table_of_subnet.entry(s).or_default();
                if !list.iter().any(|(id, _)| *id == rt.route_table_id) {
                    list.push((&rt.route_table_id, path.clone()));
                }
            }
        }
    }
    for (what, map) in [
        ("network ACLs", &nacl_of_subnet),
        ("route tables", &table_of_subnet),
    ] {
        for (subnet, owners) in map {
            if owners.len() > 1 {
                let named: Vec<String> = owners
                    .iter()
                    .map(|(id, p)| format!("`{id}` ({})", p.display()))
                    .collect();
                v.warnings.push(format!(
                    "subnet `{subnet}` is associated with two {what}: {}; which one applies cannot be told, {UNKNOWN}",
                    named.join(" and ")
                ));
                v.drop_subnets.insert((*subnet).to_string());
            }
        }
    }
    apply(snap, v);
}

/// Finds resources with the same id: exact copies (origin aside) are read once, with a warning;
/// different versions are all left out.
#[allow(clippy::too_many_arguments)]
fn duplicates<'a, T, K: PartialEq>(
    items: &[T],
    id: impl Fn(&T) -> &String,
    key: impl Fn(&T) -> K,
    file: impl Fn(usize) -> &'a Path,
    what: &str,
    warnings: &mut Vec<String>,
    drop: &mut BTreeSet<String>,
    copies: &mut BTreeSet<usize>,
) {
    let mut first: HashMap<&String, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let name = id(item);
        if name.is_empty() {
            continue;
        }
        let Some(&j) = first.get(name) else {
            first.insert(name, i);
            continue;
        };
        let (a, b) = (shown(file(j)), shown(file(i)));
        if key(&items[j]) == key(item) {
            warnings.push(format!(
                "{b}: {what} `{name}` is defined again, the same as in {a}: it is read once"
            ));
            copies.insert(i);
        } else {
            warnings.push(format!(
                "{b}: {what} `{name}` is defined again, differently from {a}: which one is right cannot be told, {UNKNOWN}"
            ));
            drop.insert(name.clone());
        }
    }
}

/// Why a security-group permission cannot be read, if it cannot: an address of the wrong
/// family in a CIDR field, or a port range that is reversed or out of range.
fn permission_problem(p: &IpPermission) -> Option<String> {
    for r in &p.ip_ranges {
        if r.cidr_ip.parse::<Ipv4Net>().is_err() && r.cidr_ip.parse::<Ipv6Net>().is_ok() {
            return Some(format!("`CidrIp` `{}` is not an IPv4 CIDR", r.cidr_ip));
        }
    }
    for r in &p.ipv6_ranges {
        if r.cidr_ipv6.parse::<Ipv6Net>().is_err() && r.cidr_ipv6.parse::<Ipv4Net>().is_ok() {
            return Some(format!("`CidrIpv6` `{}` is not an IPv6 CIDR", r.cidr_ipv6));
        }
    }
    let ported = matches!(p.ip_protocol.as_str(), "tcp" | "udp" | "6" | "17");
    match (p.from_port, p.to_port) {
        (Some(from), Some(to)) if ported => port_range_problem(from, to),
        (Some(from), Some(to)) if !(-1..=255).contains(&from) || !(-1..=255).contains(&to) => Some(
            format!("ICMP type and code `{from}`, `{to}` are out of range"),
        ),
        _ => None,
    }
}

fn port_range_problem(from: i32, to: i32) -> Option<String> {
    if !(0..=65535).contains(&from) || !(0..=65535).contains(&to) {
        return Some(format!("ports `{from}`-`{to}` are not within 0 to 65535"));
    }
    (from > to).then(|| format!("the port range `{from}`-`{to}` is reversed"))
}

/// Why a NACL entry cannot be read, if it cannot.
fn nacl_entry_problem(e: &NetworkAclEntry) -> Option<String> {
    // 32767 and 32768 are the `*` rules of IPv4 and IPv6.
    if !(1..=32768).contains(&e.rule_number) {
        return Some(format!(
            "rule number {} is not within 1 to 32768",
            e.rule_number
        ));
    }
    if let Some(c) = &e.cidr_block {
        if c.parse::<Ipv4Net>().is_err() && c.parse::<Ipv6Net>().is_ok() {
            return Some(format!("`CidrBlock` `{c}` is not an IPv4 CIDR"));
        }
    }
    if let Some(c) = &e.ipv6_cidr_block {
        if c.parse::<Ipv6Net>().is_err() && c.parse::<Ipv4Net>().is_ok() {
            return Some(format!("`Ipv6CidrBlock` `{c}` is not an IPv6 CIDR"));
        }
    }
    let ported = matches!(e.protocol.as_str(), "6" | "17" | "tcp" | "udp");
    match &e.port_range {
        Some(PortRange {
            from: Some(from),
            to: Some(to),
        }) if ported => port_range_problem(*from, *to),
        _ => None,
    }
}

/// Why `id` is left out: the first warning that names it.
fn why<'w>(warnings: &'w [String], id: &str) -> Option<&'w str> {
    let named = format!("`{id}`");
    warnings
        .iter()
        .find(|w| w.contains(&named))
        .map(|w| w.strip_suffix(&format!(": {UNKNOWN}")).unwrap_or(w))
}

fn apply(snap: &mut Snapshot, v: Verdicts) {
    let mut withheld = std::collections::BTreeMap::new();
    let mut note = |id: &str, reason: String| {
        withheld.entry(id.to_string()).or_insert(reason);
    };
    for id in v.drop_sgs.iter().chain(&v.drop_enis).chain(&v.drop_nacls) {
        if let Some(w) = why(&v.warnings, id) {
            note(id, w.to_string());
        }
    }
    let mut k = 0;
    snap.security_groups.retain(|g| {
        k += 1;
        !v.copy_sgs.contains(&(k - 1)) && !v.drop_sgs.contains(&g.group_id)
    });
    snap.note_aliases_of(|e| v.drop_enis.contains(&e.network_interface_id));
    let mut k = 0;
    snap.network_interfaces.retain(|e| {
        k += 1;
        !v.copy_enis.contains(&(k - 1)) && !v.drop_enis.contains(&e.network_interface_id)
    });
    // A subnet whose NACL is left out is left out too: it would otherwise fall back to its VPC's
    // default NACL, a silent pick.
    let mut drop_subnets = v.drop_subnets;
    for acl in snap
        .network_acls
        .iter()
        .filter(|a| v.drop_nacls.contains(&a.network_acl_id))
    {
        drop_subnets.extend(acl.associations.iter().filter_map(|a| a.subnet_id.clone()));
        if acl.is_default == Some(true) {
            let associated: BTreeSet<&str> = snap
                .network_acls
                .iter()
                .flat_map(|a| a.associations.iter().filter_map(|s| s.subnet_id.as_deref()))
                .collect();
            drop_subnets.extend(
                snap.subnets
                    .iter()
                    .filter(|s| {
                        s.vpc_id == acl.vpc_id && !associated.contains(s.subnet_id.as_str())
                    })
                    .map(|s| s.subnet_id.clone()),
            );
        }
    }
    for acl in snap
        .network_acls
        .iter()
        .filter(|a| v.drop_nacls.contains(&a.network_acl_id))
    {
        for subnet in acl.associations.iter().filter_map(|a| a.subnet_id.as_ref()) {
            note(
                subnet,
                format!("its network ACL `{}` is left out", acl.network_acl_id),
            );
        }
    }
    for subnet in &drop_subnets {
        let reason = why(&v.warnings, subnet)
            .map(str::to_string)
            .unwrap_or_else(|| "its VPC's default network ACL is left out".into());
        note(subnet, reason);
    }
    snap.network_acls
        .retain(|a| !v.drop_nacls.contains(&a.network_acl_id));
    snap.subnets
        .retain(|s| !drop_subnets.contains(&s.subnet_id));
    // The ENIs that depend on what is left out are left out too: a record at one of them is
    // then at an ENI the snapshot does not hold, `unknown`, whatever the engine would have made
    // of a missing group or subnet.
    let depends = |e: &NetworkInterface| {
        v.drop_enis.contains(&e.network_interface_id)
            || e.subnet_id
                .as_ref()
                .is_some_and(|s| drop_subnets.contains(s))
            || e.groups.iter().any(|g| v.drop_sgs.contains(&g.group_id))
    };
    for e in snap.network_interfaces.iter().filter(|e| depends(e)) {
        let id = &e.network_interface_id;
        let reason = if let Some(w) = why(&v.warnings, id).filter(|_| v.drop_enis.contains(id)) {
            w.to_string()
        } else if let Some(s) = e.subnet_id.as_ref().filter(|s| drop_subnets.contains(*s)) {
            format!("its subnet `{s}` is left out")
        } else if let Some(g) = e.groups.iter().find(|g| v.drop_sgs.contains(&g.group_id)) {
            format!("its security group `{}` is left out", g.group_id)
        } else {
            "it is defined inconsistently".to_string()
        };
        note(id, reason);
    }
    snap.note_aliases_of(depends);
    snap.network_interfaces.retain(|e| !depends(e));
    for instance in &mut snap.instances {
        instance.network_interfaces.retain(|e| !depends(e));
    }
    snap.warnings.extend(v.warnings);
    for (id, reason) in withheld {
        snap.withheld.entry(id).or_insert(reason);
    }
}
