//! Loading a snapshot from saved `describe-*` JSON files.
//!
//! Each file is recognized by its top-level keys, whatever it is called (as Batfish does). Folders
//! `<region>/…` and `accounts/<id>/<region>/…` below the root are one snapshot; the account and
//! region become each resource's [`Origin`].

use super::load_balancer::*;
use super::model::*;
use super::Snapshot;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;
use std::path::{Path, PathBuf};

/// Why a snapshot could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The path could not be read.
    #[error("cannot read `{path}`: {error}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        /// It is part of the message, not also the error's `source()`, so that a printed
        /// chain says it once.
        error: std::io::Error,
    },
    /// A file is not valid JSON, or a known key has the wrong shape.
    #[error("{path}:{line}:{column}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// The folder holds no `.json` file at all.
    #[error("no `.json` files under `{0}`: expected saved `aws ec2 describe-*` output")]
    NoFiles(PathBuf),
}

impl Snapshot {
    /// Loads a snapshot from a folder (recursively) or from a single `.json` file.
    pub fn load(path: &Path) -> Result<Snapshot, SnapshotError> {
        let mut snap = Snapshot::default();
        let meta = std::fs::metadata(path).map_err(|source| SnapshotError::Io {
            path: path.to_path_buf(),
            error: source,
        })?;
        if meta.is_file() {
            snap.load_file(path, Origin::default())?;
            let merged = vec![(path.to_path_buf(), super::check::Lengths::default())];
            super::check::check(&mut snap, &merged);
            return Ok(snap);
        }
        let walk = crate::walk::walk(path, |p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        })
        .map_err(|error| SnapshotError::Io {
            path: path.to_path_buf(),
            error,
        })?;
        // A folder that cannot be read leaves the snapshot incomplete: that changes verdicts.
        if let Some((path, error)) = walk.errors.into_iter().next() {
            return Err(SnapshotError::Io { path, error });
        }
        snap.warnings
            .extend(walk.skipped.iter().map(ToString::to_string));
        if walk.files.is_empty() {
            return Err(SnapshotError::NoFiles(path.to_path_buf()));
        }
        let mut merged: super::check::Files = Vec::new();
        for file in walk.files {
            let rel = file.strip_prefix(path).unwrap_or(&file);
            let origin = origin_of(rel);
            merged.push((file.clone(), super::check::Lengths::of(&snap)));
            snap.load_file(&file, origin)?;
        }
        super::check::check(&mut snap, &merged);
        snap.collected_at = collected_at(path);
        snap.warnings.extend(not_collected(path));
        Ok(snap)
    }

    /// Parses one describe-* JSON document held in memory (for tests and examples).
    pub fn from_json_str(text: &str) -> Result<Snapshot, SnapshotError> {
        let mut snap = Snapshot::default();
        snap.merge_json(text.as_bytes(), Path::new("<memory>"), Origin::default())?;
        let merged = vec![(PathBuf::from("<memory>"), super::check::Lengths::default())];
        super::check::check(&mut snap, &merged);
        Ok(snap)
    }

    fn load_file(&mut self, path: &Path, origin: Origin) -> Result<(), SnapshotError> {
        let io = |error| SnapshotError::Io {
            path: path.to_path_buf(),
            error,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > STREAM_ABOVE {
            // A large file is parsed as it is read rather than held whole beside what it
            // parses into (an organization's `SecurityGroups.json` runs to hundreds of MB).
            self.merge_json_reader(
                std::io::BufReader::with_capacity(1 << 20, file),
                path,
                origin,
            )?;
        } else {
            let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
            std::io::Read::read_to_end(&mut { file }, &mut bytes).map_err(io)?;
            self.merge_json(&bytes, path, origin)?;
        }
        self.files.push(path.to_path_buf());
        Ok(())
    }

    /// [`Snapshot::merge_json`] over a reader (a large file): the same keys and errors, except
    /// that invalid UTF-8 is found string by string ("invalid unicode code point") and a
    /// column may be one further (past the value the parser looked at).
    fn merge_json_reader(
        &mut self,
        reader: impl std::io::Read,
        path: &Path,
        origin: Origin,
    ) -> Result<(), SnapshotError> {
        let mut de = serde_json::Deserializer::from_reader(reader);
        let seed = FileSeed {
            snap: self,
            origin: &origin,
            path,
        };
        let res = seed.deserialize(&mut de).and_then(|()| de.end());
        res.map_err(|e| json_error(path, &e))
    }

    /// Merges one JSON document into the snapshot.
    pub fn merge_json(
        &mut self,
        bytes: &[u8],
        path: &Path,
        origin: Origin,
    ) -> Result<(), SnapshotError> {
        // Validated once as a whole (fast for long runs of ASCII) rather than string by string.
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
                let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
                return Err(SnapshotError::Json {
                    path: path.to_path_buf(),
                    line: good.iter().filter(|&&b| b == b'\n').count() + 1,
                    column: good.len() - line_start + 1,
                    message: "invalid UTF-8: JSON text must be UTF-8".into(),
                });
            }
        };
        let mut de = serde_json::Deserializer::from_str(text);
        let seed = FileSeed {
            snap: self,
            origin: &origin,
            path,
        };
        let res = seed.deserialize(&mut de).and_then(|()| de.end());
        res.map_err(|e| json_error(path, &e))
    }
}

/// Snapshot files larger than this (64 MiB) are parsed as they are read.
const STREAM_ABOVE: u64 = 64 << 20;

/// A JSON error of a snapshot file, with its place.
fn json_error(path: &Path, e: &serde_json::Error) -> SnapshotError {
    SnapshotError::Json {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or("")
            .to_string(),
    }
}

/// Account and region from a path relative to the snapshot root.
fn origin_of(rel: &Path) -> Origin {
    let dirs: Vec<String> = rel
        .parent()
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut origin = Origin::default();
    if let Some(i) = dirs.iter().position(|d| d == "accounts") {
        origin.account = dirs.get(i + 1).cloned();
        origin.region = dirs.get(i + 2).cloned();
    } else if let Some(last) = dirs.last() {
        if looks_like_region(last) {
            origin.region = Some(last.clone());
        }
    }
    origin
}

fn looks_like_region(s: &str) -> bool {
    // us-east-1, eu-central-2, us-gov-west-1, ap-southeast-4 …
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].chars().all(|c| c.is_ascii_lowercase())
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

struct FileSeed<'a> {
    snap: &'a mut Snapshot,
    origin: &'a Origin,
    path: &'a Path,
}

impl<'de> DeserializeSeed<'de> for FileSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

fn with_origin<T>(mut items: Vec<T>, origin: &Origin, set: fn(&mut T, Origin)) -> Vec<T> {
    for it in &mut items {
        set(it, origin.clone());
    }
    items
}

impl<'de> Visitor<'de> for FileSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(
            "a JSON object whose keys are `aws ec2 describe-*` results (`Vpcs`, `Subnets`, …)",
        )
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let s = self.snap;
        let o = self.origin;
        // `describe-target-health` and `describe-*-attributes` name their resource only through
        // a top-level ARN `collect` adds, which may come before or after the list.
        let mut elb = ElbParts::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "Vpcs" => {
                    let v: Vec<Vpc> = map.next_value()?;
                    s.vpcs.extend(with_origin(v, o, |x, o| x.origin = o));
                }
                "Subnets" => {
                    let v: Vec<Subnet> = map.next_value()?;
                    s.subnets.extend(with_origin(v, o, |x, o| x.origin = o));
                }
                "RouteTables" => {
                    let v: Vec<RouteTable> = map.next_value()?;
                    s.route_tables
                        .extend(with_origin(v, o, |x, o| x.origin = o));
                }
                "NetworkAcls" => {
                    let v: Vec<NetworkAcl> = map.next_value()?;
                    s.network_acls
                        .extend(with_origin(v, o, |x, o| x.origin = o));
                }
                "SecurityGroups" => {
                    let v: Vec<SecurityGroup> = map.next_value()?;
                    s.security_groups
                        .extend(with_origin(v, o, |x, o| x.origin = o));
                }
                "NetworkInterfaces" => {
                    let v: Vec<NetworkInterface> = map.next_value()?;
                    s.network_interfaces
                        .extend(with_origin(v, o, |x, o| x.origin = o));
                }
                "Reservations" => {
                    let v: Vec<Reservation> = map.next_value()?;
                    for r in v {
                        for mut inst in r.instances {
                            for eni in &mut inst.network_interfaces {
                                eni.origin = o.clone();
                            }
                            s.instances.push(inst);
                        }
                    }
                }
                "InternetGateways" => s.internet_gateways.extend(map.next_value::<Vec<_>>()?),
                "EgressOnlyInternetGateways" => s
                    .egress_only_internet_gateways
                    .extend(map.next_value::<Vec<_>>()?),
                "NatGateways" => s.nat_gateways.extend(map.next_value::<Vec<_>>()?),
                "FlowLogs" => {
                    s.flow_logs.extend(map.next_value::<Vec<_>>()?);
                    if !s.flow_logs_read.contains(o) {
                        s.flow_logs_read.push(o.clone());
                    }
                }
                // One object per account and Region (not a list), as the CLI prints it.
                "VpcBlockPublicAccessOptions" => {
                    let v: OneOrMany<VpcBlockPublicAccessOptions> = map.next_value()?;
                    let v = match v {
                        OneOrMany::One(x) => vec![x],
                        OneOrMany::Many(v) => v,
                    };
                    s.vpc_block_public_access_options
                        .extend(with_origin(v, o, |x, o| x.origin = o));
                }
                "VpcBlockPublicAccessExclusions" => {
                    let v: Vec<VpcBlockPublicAccessExclusion> = map.next_value()?;
                    s.vpc_block_public_access_exclusions
                        .extend(with_origin(v, o, |x, o| x.origin = o));
                }
                "VpcPeeringConnections" => s
                    .vpc_peering_connections
                    .extend(map.next_value::<Vec<_>>()?),
                "PrefixLists" => s.prefix_lists.extend(map.next_value::<Vec<_>>()?),
                "ManagedPrefixLists" => s.managed_prefix_lists.extend(map.next_value::<Vec<_>>()?),
                "VpcEndpoints" => s.vpc_endpoints.extend(map.next_value::<Vec<_>>()?),
                "Addresses" => s.addresses.extend(map.next_value::<Vec<_>>()?),
                "TransitGateways" => s.transit_gateways.extend(map.next_value::<Vec<_>>()?),
                "TransitGatewayAttachments" | "TransitGatewayVpcAttachments" => s
                    .transit_gateway_attachments
                    .extend(map.next_value::<Vec<_>>()?),
                "TransitGatewayRouteTables" => s
                    .transit_gateway_route_tables
                    .extend(map.next_value::<Vec<_>>()?),
                "TransitGatewayStaticRoutes" | "TransitGatewayRoutes" => s
                    .transit_gateway_route_sets
                    .extend(map.next_value::<Vec<_>>()?),
                "TransitGatewayPropagations" => s
                    .transit_gateway_propagations
                    .extend(map.next_value::<Vec<_>>()?),
                "LoadBalancers" => {
                    let v: Vec<LoadBalancer> = map.next_value()?;
                    s.load_balancers
                        .extend(with_origin(v, o, |x, o| x.origin = o));
                }
                "Listeners" => s.listeners.extend(map.next_value::<Vec<_>>()?),
                "Rules" => s.lb_rules.extend(map.next_value::<Vec<_>>()?),
                "TargetGroups" => s.target_groups.extend(map.next_value::<Vec<_>>()?),
                "TargetHealthDescriptions" => elb.health = Some(map.next_value()?),
                "Attributes" => elb.attributes = Some(map.next_value()?),
                "TargetGroupArn" => elb.target_group = Some(map.next_value()?),
                "LoadBalancerArn" => elb.load_balancer = Some(map.next_value()?),
                // Context that changes no decision the engine makes.
                "AvailabilityZones" | "ServiceNames" | "ServiceDetails" => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    let files = s.not_modelled.entry(key).or_default();
                    if !files.iter().any(|f| f == self.path) {
                        files.push(self.path.to_path_buf());
                    }
                }
            }
        }
        elb.store(s, self.path);
        Ok(())
    }
}

/// The parts of an ELB file that only make sense together.
#[derive(Default)]
struct ElbParts {
    health: Option<Vec<TargetHealthDescription>>,
    attributes: Option<Vec<Tag>>,
    target_group: Option<String>,
    load_balancer: Option<String>,
}

impl ElbParts {
    fn store(self, s: &mut Snapshot, path: &Path) {
        let file = path.display();
        if let Some(descriptions) = self.health {
            match &self.target_group {
                Some(arn) => s.target_health.push(TargetHealthSet {
                    target_group_arn: arn.clone(),
                    descriptions,
                }),
                None => s.warnings.push(format!(
                    "{file}: `TargetHealthDescriptions` without a top-level `TargetGroupArn` is not read: `describe-target-health` output does not say which target group it describes; add `\"TargetGroupArn\": \"arn:…\"` (as `vpcreach collect` writes it)"
                )),
            }
        }
        if let Some(attributes) = self.attributes {
            match (&self.target_group, &self.load_balancer) {
                (Some(arn), _) => s.target_group_attributes.push(AttributeSet {
                    arn: arn.clone(),
                    attributes,
                }),
                (None, Some(arn)) => s.load_balancer_attributes.push(AttributeSet {
                    arn: arn.clone(),
                    attributes,
                }),
                (None, None) => s.warnings.push(format!(
                    "{file}: `Attributes` without a top-level `TargetGroupArn` or `LoadBalancerArn` is not read: `describe-target-group-attributes` and `describe-load-balancer-attributes` output does not say what it describes; add the ARN (as `vpcreach collect` writes it)"
                )),
            }
        }
    }
}

/// A key whose value is one object (as the CLI prints `VpcBlockPublicAccessOptions`) or a list
/// of them (as `vpcreach collect` writes every key).
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

/// What `vpcreach collect` could not read, from the marker file's `not-collected:` lines.
fn not_collected(dir: &Path) -> Vec<String> {
    let Ok(Some(bytes)) =
        crate::walk::read_small(&dir.join(crate::snapshot::MARKER_FILE), 64 * 1024)
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|l| l.strip_prefix("not-collected: "))
        .map(|l| format!("{l} (`vpcreach collect` could not read it: the snapshot lacks it)"))
        .collect()
}

/// The `collected-at:` time in the marker file `vpcreach collect` leaves in a snapshot folder.
fn collected_at(dir: &Path) -> Option<i64> {
    let bytes =
        crate::walk::read_small(&dir.join(crate::snapshot::MARKER_FILE), 64 * 1024).ok()??;
    let text = String::from_utf8(bytes).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("collected-at:"))
        .and_then(|t| t.trim().parse::<crate::timestamp::TimeArg>().ok())
        .map(|t| t.start)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large file is parsed as it is read: the same snapshot as from memory, and errors
    /// with the same place.
    #[test]
    fn a_file_read_as_a_stream_gives_what_the_file_in_memory_gives() {
        let text = std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/network/SecurityGroups.json"),
        )
        .unwrap();
        let mut whole = Snapshot::default();
        whole
            .merge_json(&text, Path::new("SecurityGroups.json"), Origin::default())
            .unwrap();
        let mut streamed = Snapshot::default();
        streamed
            .merge_json_reader(
                &text[..],
                Path::new("SecurityGroups.json"),
                Origin::default(),
            )
            .unwrap();
        assert!(!whole.security_groups.is_empty());
        assert_eq!(whole.security_groups, streamed.security_groups);
        let bad = b"{\"Vpcs\": [\n  {\"VpcId\": 7}]}";
        let a = Snapshot::default()
            .merge_json(bad, Path::new("Vpcs.json"), Origin::default())
            .unwrap_err()
            .to_string();
        let b = Snapshot::default()
            .merge_json_reader(&bad[..], Path::new("Vpcs.json"), Origin::default())
            .unwrap_err()
            .to_string();
        // serde_json's reader counts the column after the value it looked at: one further.
        assert_eq!(
            a,
            "Vpcs.json:2:13: invalid type: integer `7`, expected a string"
        );
        assert_eq!(
            b,
            "Vpcs.json:2:14: invalid type: integer `7`, expected a string"
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_is_named_with_the_place_of_its_first_bad_byte() {
        let mut snap = Snapshot::default();
        let bytes = b"{\"Vpcs\": [\n  {\"VpcId\": \"vpc-\xff1\"}]}";
        let err = snap
            .merge_json(bytes, Path::new("Vpcs.json"), Origin::default())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Vpcs.json:2:18: invalid UTF-8: JSON text must be UTF-8"
        );
        // Valid files load as before.
        snap.merge_json(
            br#"{"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}]}"#,
            Path::new("Vpcs.json"),
            Origin::default(),
        )
        .unwrap();
        assert_eq!(snap.vpcs.len(), 1);
    }

    #[test]
    fn the_collection_time_comes_from_the_marker() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Vpcs.json"), r#"{"Vpcs": []}"#).unwrap();
        assert_eq!(Snapshot::load(dir.path()).unwrap().collected_at, None);
        std::fs::write(
            dir.path().join(crate::snapshot::MARKER_FILE),
            "Written by vpcreach collect\ncollected-at: 2024-05-01T13:00:00Z\n",
        )
        .unwrap();
        assert_eq!(
            Snapshot::load(dir.path()).unwrap().collected_at,
            Some(1_714_568_400)
        );
    }

    #[test]
    fn origin_from_layout() {
        let o = origin_of(Path::new("accounts/111/us-west-1/Vpcs.json"));
        assert_eq!(o.account.as_deref(), Some("111"));
        assert_eq!(o.region.as_deref(), Some("us-west-1"));
        let o = origin_of(Path::new("us-east-2/Vpcs.json"));
        assert_eq!(o.region.as_deref(), Some("us-east-2"));
        assert_eq!(o.account, None);
        let o = origin_of(Path::new("Vpcs.json"));
        assert_eq!(o, Origin::default());
    }

    #[test]
    fn malformed_json_names_line_and_column() {
        let err =
            Snapshot::from_json_str("{\n  \"Vpcs\": [\n    {\"VpcId\": 12}\n  ]\n}").unwrap_err();
        match err {
            SnapshotError::Json {
                line,
                column,
                message,
                ..
            } => {
                assert_eq!(line, 3);
                assert!(column > 5, "column {column}");
                assert!(message.contains("expected a string"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_keys_are_listed_not_fatal() {
        let snap =
            Snapshot::from_json_str(r#"{"LoadBalancerDescriptions": [{"x": 1}], "Vpcs": []}"#)
                .unwrap();
        assert!(snap.not_modelled.contains_key("LoadBalancerDescriptions"));
    }

    #[test]
    fn top_level_must_be_an_object() {
        let err = Snapshot::from_json_str("[1, 2]").unwrap_err();
        assert!(err.to_string().contains("describe-"), "{err}");
    }
}
