//! Writing a collected snapshot as the folder `Snapshot::load` reads: one JSON file per
//! `describe-*` key, under `<region>/` (or `accounts/<id>/<region>/`), written into a hidden
//! sibling folder and renamed into place only once complete.

use super::error::AwsError;
use super::{Collected, RegionResources};
use serde::Serialize;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::snapshot::MARKER_FILE;

/// True for names the loader takes as a region folder (`us-east-1`, `us-gov-west-1`, …).
pub(crate) fn looks_like_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> AwsError + '_ {
    move |source| AwsError::Io {
        path: path.to_path_buf(),
        error: source,
    }
}

/// Drops `null` members, as the AWS CLI omits absent fields.
fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

fn write_key<T: Serialize>(dir: &Path, key: &str, items: &[T]) -> Result<(), AwsError> {
    write_doc(dir, key, &[(key, items)], None)
}

/// Writes `<name>.json` holding `keys`, and a top-level ARN (`("TargetGroupArn", arn)`) that
/// names what a `describe-target-health` or `describe-*-attributes` answer describes
/// (aws-semantics 45).
fn write_doc<T: Serialize>(
    dir: &Path,
    name: &str,
    keys: &[(&str, &[T])],
    arn: Option<(&str, &str)>,
) -> Result<(), AwsError> {
    let path = dir.join(format!("{name}.json"));
    let mut doc = serde_json::Map::new();
    if let Some((k, v)) = arn {
        doc.insert(k.to_string(), Value::String(v.to_string()));
    }
    for (key, items) in keys {
        let mut value = serde_json::to_value(items).map_err(|e| AwsError::Io {
            path: path.clone(),
            error: e.into(),
        })?;
        strip_nulls(&mut value);
        doc.insert((*key).to_string(), value);
    }
    let file = std::fs::File::create(&path).map_err(io_err(&path))?;
    let mut out = std::io::BufWriter::new(file);
    serde_json::to_writer_pretty(&mut out, &Value::Object(doc)).map_err(|e| AwsError::Io {
        path: path.clone(),
        error: e.into(),
    })?;
    out.write_all(b"\n").map_err(io_err(&path))?;
    let file = out
        .into_inner()
        .map_err(|e| io_err(&path)(e.into_error()))?;
    file.sync_all().map_err(io_err(&path))
}

fn write_region(root: &Path, r: &RegionResources) -> Result<(), AwsError> {
    let dir = match &r.scope.account {
        Some(account) => root.join("accounts").join(account).join(&r.scope.region),
        None => root.join(&r.scope.region),
    };
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    write_key(&dir, "Vpcs", &r.vpcs)?;
    write_key(&dir, "Subnets", &r.subnets)?;
    write_key(&dir, "RouteTables", &r.route_tables)?;
    write_key(&dir, "NetworkAcls", &r.network_acls)?;
    write_key(&dir, "SecurityGroups", &r.security_groups)?;
    write_key(&dir, "NetworkInterfaces", &r.network_interfaces)?;
    write_key(&dir, "Reservations", &r.reservations)?;
    write_key(&dir, "InternetGateways", &r.internet_gateways)?;
    write_key(
        &dir,
        "EgressOnlyInternetGateways",
        &r.egress_only_internet_gateways,
    )?;
    write_key(&dir, "NatGateways", &r.nat_gateways)?;
    write_key(&dir, "FlowLogs", &r.flow_logs)?;
    // What the endpoint did not answer is left out (not written empty): the marker names it.
    if !r
        .not_collected
        .iter()
        .any(|n| n.starts_with("DescribeVpcBlockPublicAccessOptions "))
    {
        write_key(&dir, "VpcBlockPublicAccessOptions", &r.bpa_options)?;
    }
    if !r
        .not_collected
        .iter()
        .any(|n| n.starts_with("DescribeVpcBlockPublicAccessExclusions "))
    {
        write_key(&dir, "VpcBlockPublicAccessExclusions", &r.bpa_exclusions)?;
    }
    write_key(&dir, "VpcPeeringConnections", &r.vpc_peering_connections)?;
    write_key(&dir, "PrefixLists", &r.prefix_lists)?;
    write_key(&dir, "ManagedPrefixLists", &r.managed_prefix_lists)?;
    write_key(&dir, "VpcEndpoints", &r.vpc_endpoints)?;
    write_key(&dir, "Addresses", &r.addresses)?;
    write_key(&dir, "TransitGateways", &r.transit_gateways)?;
    write_key(
        &dir,
        "TransitGatewayAttachments",
        &r.transit_gateway_attachments,
    )?;
    write_key(
        &dir,
        "TransitGatewayVpcAttachments",
        &r.transit_gateway_vpc_attachments,
    )?;
    write_key(
        &dir,
        "TransitGatewayRouteTables",
        &r.transit_gateway_route_tables,
    )?;
    write_elb(&dir, &r.elb)
}

/// The load balancers: one file per key, and one per target group (targets, attributes) and
/// per load balancer (attributes), each with the ARN it describes. Numbered, not named after
/// the resource, so that names from AWS never become paths.
fn write_elb(dir: &Path, e: &super::ElbResources) -> Result<(), AwsError> {
    write_key(dir, "LoadBalancers", &e.load_balancers)?;
    write_key(dir, "Listeners", &e.listeners)?;
    write_key(dir, "Rules", &e.rules)?;
    write_key(dir, "TargetGroups", &e.target_groups)?;
    for (i, h) in e.target_health.iter().enumerate() {
        write_doc(
            dir,
            &format!("TargetHealth-{i:05}"),
            &[("TargetHealthDescriptions", &h.descriptions)],
            Some(("TargetGroupArn", &h.target_group_arn)),
        )?;
    }
    for (i, a) in e.target_group_attributes.iter().enumerate() {
        write_doc(
            dir,
            &format!("TargetGroupAttributes-{i:05}"),
            &[("Attributes", &a.attributes)],
            Some(("TargetGroupArn", &a.arn)),
        )?;
    }
    for (i, a) in e.load_balancer_attributes.iter().enumerate() {
        write_doc(
            dir,
            &format!("LoadBalancerAttributes-{i:05}"),
            &[("Attributes", &a.attributes)],
            Some(("LoadBalancerArn", &a.arn)),
        )?;
    }
    Ok(())
}

/// True when `dir` may be replaced: empty, or marked as written by `vpcreach collect`: its
/// marker file is a small regular file with the text vpcreach writes (its contents are checked,
/// not only its name: an empty `.vpcreach-snapshot` someone made does not qualify).
fn replaceable(dir: &Path) -> Result<bool, AwsError> {
    let marker = dir.join(MARKER_FILE);
    if let Ok(Some(bytes)) = crate::walk::read_small(&marker, 64 * 1024) {
        let text = String::from_utf8_lossy(&bytes);
        if is_own_marker(&text) {
            return Ok(true);
        }
    }
    let mut entries = std::fs::read_dir(dir).map_err(io_err(dir))?;
    Ok(entries.next().is_none())
}

/// True for the text of a marker file `vpcreach collect` wrote.
fn is_own_marker(text: &str) -> bool {
    let mut lines = text.lines();
    lines
        .next()
        .is_some_and(|l| l.starts_with("Written by vpcreach ") && l.contains(" collect: "))
        && lines
            .next()
            .and_then(|l| l.strip_prefix("collected-at: "))
            .is_some_and(|t| t.trim().parse::<super::TimeArg>().is_ok())
}

/// Checks that `out` can take a snapshot, before any API call: an existing folder must be an
/// earlier snapshot of `vpcreach collect` (or empty), and the folder it goes in must be (or be
/// able to become) a writable folder.
pub fn check_out(out: &Path) -> Result<(), AwsError> {
    if out.exists() && !(out.is_dir() && replaceable(out)?) {
        return Err(AwsError::OutExists(out.to_path_buf()));
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // The nearest part of the path that exists must be a folder.
    let mut existing = parent.as_path();
    while !existing.exists() {
        match existing.parent() {
            Some(p) if !p.as_os_str().is_empty() => existing = p,
            _ => return Ok(()),
        }
    }
    if !existing.is_dir() {
        return Err(AwsError::OutUnusable {
            path: existing.to_path_buf(),
            reason: "it is not a folder".into(),
        });
    }
    if existing == parent {
        // Writable: the snapshot is first written into a temporary folder there.
        tempfile::Builder::new()
            .prefix(".vpcreach-check-")
            .tempdir_in(&parent)
            .map_err(|e| AwsError::OutUnusable {
                path: parent.clone(),
                reason: e.to_string(),
            })?;
    }
    Ok(())
}

/// Moves the complete snapshot `new` to `out`, replacing an earlier snapshot there: the
/// earlier one is set aside first and removed last. When `new` cannot be moved in and the
/// earlier one cannot be moved back, the earlier one is kept where it was set aside and the
/// error names that folder: nothing is deleted. `rename` is [`std::fs::rename`] (a parameter,
/// for tests of the failures).
fn swap_in(
    new: &Path,
    out: &Path,
    parent: &Path,
    rename: &dyn Fn(&Path, &Path) -> std::io::Result<()>,
) -> Result<(), AwsError> {
    let old = if out.exists() {
        let aside = tempfile::Builder::new()
            .prefix(".vpcreach-old-")
            .tempdir_in(parent)
            .map_err(io_err(parent))?;
        rename(out, &aside.path().join("snapshot")).map_err(io_err(out))?;
        Some(aside)
    } else {
        None
    };
    if let Err(error) = rename(new, out) {
        let Some(aside) = old else {
            return Err(AwsError::Io {
                path: out.to_path_buf(),
                error,
            });
        };
        let kept = aside.path().join("snapshot");
        return match rename(&kept, out) {
            Ok(()) => Err(AwsError::Io {
                path: out.to_path_buf(),
                error,
            }),
            Err(restore_error) => {
                // Not removed on drop: it holds the only copy of the earlier snapshot.
                let _ = aside.keep();
                Err(AwsError::RestoreFailed {
                    out: out.to_path_buf(),
                    aside: kept,
                    error,
                    restore_error,
                })
            }
        };
    }
    // The earlier snapshot, set aside, is removed on drop.
    drop(old);
    Ok(())
}

impl Collected {
    /// Writes the snapshot folder `out` (replacing an earlier snapshot there, never anything
    /// else). The files are written into a hidden temporary sibling folder that is renamed to
    /// `out` only once every file is complete, so a failed or interrupted run leaves no folder
    /// that looks like a complete snapshot.
    pub fn write(&self, out: &Path) -> Result<(), AwsError> {
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        check_out(out)?;
        std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let tmp = tempfile::Builder::new()
            .prefix(".vpcreach-collect-")
            .tempdir_in(&parent)
            .map_err(io_err(&parent))?;
        for r in &self.regions {
            write_region(tmp.path(), r)?;
        }
        let marker = tmp.path().join(MARKER_FILE);
        let scopes: Vec<String> = self.regions.iter().map(|r| r.scope.to_string()).collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let mut text = format!(
            "Written by vpcreach {} collect: {}\ncollected-at: {}\n",
            env!("CARGO_PKG_VERSION"),
            scopes.join(", "),
            super::Rfc3339(now),
        );
        for n in self.not_collected() {
            text.push_str(&format!(
                "not-collected: {}\n",
                crate::render::sanitize_line(&n)
            ));
        }
        std::fs::write(&marker, text).map_err(io_err(&marker))?;
        // Move an earlier snapshot aside, put the new one in place, then drop the old one.
        // `tmp` no longer exists after that; dropping it is a no-op.
        swap_in(tmp.path(), out, &parent, &|a, b| std::fs::rename(a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::Scope;
    use crate::snapshot::{Snapshot, Vpc};

    fn collected(region: &str, account: Option<&str>) -> Collected {
        Collected {
            regions: vec![RegionResources {
                scope: Scope {
                    account: account.map(str::to_string),
                    region: region.into(),
                },
                vpcs: vec![Vpc {
                    vpc_id: "vpc-1".into(),
                    cidr_block: Some("10.0.0.0/16".into()),
                    ..Vpc::default()
                }],
                ..RegionResources::default()
            }],
        }
    }

    #[test]
    fn writes_the_loader_layout_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("snap");
        let c = collected("eu-west-1", None);
        c.write(&out).unwrap();
        let text = std::fs::read_to_string(out.join("eu-west-1/Vpcs.json")).unwrap();
        assert!(text.contains("\"VpcId\": \"vpc-1\""), "{text}");
        assert!(!text.contains("null"), "{text}");
        let loaded = Snapshot::load(&out).unwrap();
        assert_eq!(loaded.vpcs, c.to_snapshot().vpcs);
        assert_eq!(loaded.vpcs[0].origin.region.as_deref(), Some("eu-west-1"));
        // A second run replaces the first.
        collected("us-east-2", Some("123456789012"))
            .write(&out)
            .unwrap();
        assert!(!out.join("eu-west-1").exists());
        let loaded = Snapshot::load(&out).unwrap();
        assert_eq!(
            loaded.vpcs[0].origin.account.as_deref(),
            Some("123456789012")
        );
        // Only the snapshot remains beside it: no temporary folder.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        // It knows when it was taken.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let taken = loaded.collected_at.expect("collection time");
        assert!((now - taken).abs() < 120, "{taken} vs {now}");
    }

    #[test]
    fn a_failed_restore_keeps_the_earlier_snapshot_and_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("snap");
        collected("eu-west-1", None).write(&out).unwrap();
        let new = tempfile::tempdir_in(dir.path()).unwrap();
        // Setting the earlier snapshot aside works; moving anything to `out` fails.
        let rename = |a: &Path, b: &Path| {
            if b == out {
                Err(std::io::Error::other("no room"))
            } else {
                std::fs::rename(a, b)
            }
        };
        let err = swap_in(new.path(), &out, dir.path(), &rename).unwrap_err();
        let AwsError::RestoreFailed { aside, .. } = &err else {
            panic!("{err}")
        };
        assert!(
            err.to_string().contains(&aside.display().to_string()),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("nor the earlier snapshot back (no room)"),
            "{err}"
        );
        // The earlier snapshot is whole where the error says.
        let kept = Snapshot::load(aside).unwrap();
        assert_eq!(kept.vpcs[0].vpc_id, "vpc-1");
        // When moving back works, the earlier snapshot is back in place.
        let fails_once = std::cell::Cell::new(true);
        let rename = |a: &Path, b: &Path| {
            if b == out && fails_once.replace(false) {
                Err(std::io::Error::other("no room"))
            } else {
                std::fs::rename(a, b)
            }
        };
        std::fs::rename(aside, &out).unwrap();
        let new = tempfile::tempdir_in(dir.path()).unwrap();
        let err = swap_in(new.path(), &out, dir.path(), &rename).unwrap_err();
        assert!(matches!(err, AwsError::Io { .. }), "{err}");
        assert_eq!(Snapshot::load(&out).unwrap().vpcs[0].vpc_id, "vpc-1");
    }

    #[test]
    fn a_marker_is_checked_by_its_contents() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("snap");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join("keep.json"), "{}").unwrap();
        for text in [
            "",
            "Written by someone\n",
            "Written by vpcreach 0.1.0 collect: x\n",
        ] {
            std::fs::write(out.join(MARKER_FILE), text).unwrap();
            let err = collected("eu-west-1", None).write(&out).unwrap_err();
            assert!(matches!(err, AwsError::OutExists(_)), "{text:?}: {err}");
            assert!(out.join("keep.json").exists());
        }
        // A marker vpcreach wrote.
        std::fs::write(
            out.join(MARKER_FILE),
            "Written by vpcreach 0.1.0 collect: eu-west-1\ncollected-at: 2024-05-01T00:00:00Z\n",
        )
        .unwrap();
        collected("eu-west-1", None).write(&out).unwrap();
        assert!(!out.join("keep.json").exists());
    }

    #[test]
    fn never_replaces_a_folder_it_did_not_write() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
        let err = collected("eu-west-1", None).write(dir.path()).unwrap_err();
        assert!(matches!(err, AwsError::OutExists(_)), "{err}");
        assert!(dir.path().join("notes.txt").exists());
        let file = dir.path().join("notes.txt");
        assert!(collected("eu-west-1", None).write(&file).is_err());
    }
}
