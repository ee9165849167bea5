//! The history of changes where AWS keeps it, fetched into local files that
//! [`crate::history::read`] reads: CloudTrail log files and AWS Config files in S3
//! (`s3://BUCKET/PREFIX`, one file per object, as delivered), and CloudTrail's event history
//! (`cloudtrail://REGION`, through the read-only `LookupEvents` call: the last 90 days of
//! management events of that Region, written as one `{"Records": [...]}` file).

use super::config::{self, Session};
use super::error::{classify, AwsError};
use super::flows::{fetch_s3, local_path, s3_parts, FetchProgress, Fetched, Pick, Picker};
use super::AwsOptions;
use crate::history::CHANGE_APIS;
use crate::timestamp::Window;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

/// A remote history source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryLocation {
    /// `s3://BUCKET/PREFIX`: CloudTrail log files (`AWSLogs/<account>/CloudTrail/<region>/…`)
    /// and AWS Config files (`AWSLogs/<account>/Config/<region>/…`) under the prefix.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key prefix (may be empty).
        prefix: String,
    },
    /// `cloudtrail://REGION`: the Region's CloudTrail event history (`LookupEvents`).
    CloudTrail {
        /// The Region.
        region: String,
    },
}

impl std::fmt::Display for HistoryLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HistoryLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            HistoryLocation::CloudTrail { region } => write!(f, "cloudtrail://{region}"),
        }
    }
}

/// Reads a `--history` argument: `None` when it is not a remote source (a local path).
///
/// ```
/// use vpcreach::aws::{parse_history_location, HistoryLocation};
/// assert_eq!(
///     parse_history_location("cloudtrail://eu-west-1").unwrap().unwrap(),
///     HistoryLocation::CloudTrail { region: "eu-west-1".into() }
/// );
/// assert!(parse_history_location("cloudtrail://not a region").unwrap().is_err());
/// assert!(parse_history_location("trail/").is_none());
/// ```
pub fn parse_history_location(arg: &str) -> Option<Result<HistoryLocation, AwsError>> {
    let invalid = |reason: &str| {
        Some(Err(AwsError::InvalidLocation {
            location: arg.to_string(),
            reason: reason.to_string(),
        }))
    };
    if let Some(rest) = arg.strip_prefix("s3://") {
        return match s3_parts(rest) {
            Some((bucket, prefix)) => Some(Ok(HistoryLocation::S3 { bucket, prefix })),
            None => invalid("expected `s3://BUCKET/PREFIX` with a valid bucket name"),
        };
    }
    if let Some(region) = arg.strip_prefix("cloudtrail://") {
        let region = region.trim_end_matches('/');
        let valid = (1..=64).contains(&region.len())
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid {
            return invalid("expected `cloudtrail://REGION`, e.g. `cloudtrail://eu-west-1`");
        }
        return Some(Ok(HistoryLocation::CloudTrail {
            region: region.to_string(),
        }));
    }
    None
}

/// What to do with an S3 key under a history prefix: CloudTrail and AWS Config files
/// (`.json`, `.json.gz`) are taken; digest files, Config's writability check file and
/// anything else are not.
fn history_pick(key: &str) -> Pick {
    let segs: Vec<&str> = key.split('/').collect();
    let name = segs.last().copied().unwrap_or_default();
    let wanted = !key.ends_with('/')
        && !segs.contains(&"CloudTrail-Digest")
        && !name.starts_with("ConfigWritabilityCheckFile")
        && (name.ends_with(".json") || name.ends_with(".json.gz"));
    if wanted {
        Pick::Take
    } else {
        Pick::Other
    }
}

/// Fetches one remote history source into files under `dir` (which must exist), for
/// [`crate::history::read`]. S3 objects are fetched whole under the prefix (a change long
/// before a record can still tell what a rule was, so no window is applied: give a prefix as
/// narrow as wanted, e.g. a Region's folder); `cloudtrail://REGION` looks up, by event name,
/// every call that changes reachability ([`CHANGE_APIS`]) in the event history, which holds
/// the last 90 days.
pub fn fetch_history(
    location: &HistoryLocation,
    opts: &AwsOptions,
    dir: &Path,
    progress: Arc<dyn FetchProgress>,
) -> Result<Fetched, AwsError> {
    super::runtime()?.block_on(async {
        let session = config::session(opts).await?;
        match location {
            HistoryLocation::S3 { bucket, prefix } => {
                let region = opts
                    .regions
                    .first()
                    .cloned()
                    .or_else(|| session.default_region())
                    .unwrap_or_else(|| "us-east-1".to_string());
                let picker = Picker {
                    pick: &history_pick,
                    others: "CloudTrail or AWS Config files (digest files included)",
                };
                let window = Window::default();
                let source = (bucket.as_str(), prefix.as_str());
                fetch_s3(&session, region, source, &window, picker, dir, progress).await
            }
            HistoryLocation::CloudTrail { region } => {
                lookup_events(&session, region, dir, &*progress).await
            }
        }
    })
}

/// Writes the Region's event history of every call in [`CHANGE_APIS`] to one
/// `{"Records": [...]}` file: each event's `CloudTrailEvent`, the record as a trail file
/// holds it.
async fn lookup_events(
    session: &Session,
    region: &str,
    dir: &Path,
    progress: &dyn FetchProgress,
) -> Result<Fetched, AwsError> {
    use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
    let path = dir
        .join("cloudtrail")
        .join(local_path(&[region]))
        .join("LookupEvents.json");
    let io = |error| AwsError::Io {
        path: path.clone(),
        error,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let mut out = BufWriter::new(File::create(&path).map_err(io)?);
    out.write_all(b"{\"Records\":[").map_err(io)?;
    let client = session.cloudtrail(region);
    let site = session.site("cloudtrail", region);
    let mut fetched = Fetched::default();
    let mut unreadable = 0usize;
    for api in CHANGE_APIS {
        let attribute = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::EventName)
            .attribute_value(*api)
            .build()
            .map_err(|e| AwsError::Other {
                operation: "LookupEvents".into(),
                region: region.to_string(),
                detail: e.to_string(),
            })?;
        let mut pages = client
            .lookup_events()
            .lookup_attributes(attribute)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(e, "LookupEvents", &site))?;
            for event in page.events() {
                // The record itself, as JSON text: kept only when it is one JSON value, so
                // that the file stays one readable document.
                let raw = event.cloud_trail_event().unwrap_or_default();
                if serde_json::from_str::<serde::de::IgnoredAny>(raw).is_err() {
                    unreadable += 1;
                    continue;
                }
                if fetched.events > 0 {
                    out.write_all(b",").map_err(io)?;
                }
                out.write_all(raw.as_bytes()).map_err(io)?;
                fetched.events += 1;
                fetched.bytes += raw.len() as u64;
                progress.fetched(raw.len() as u64);
            }
        }
    }
    out.write_all(b"]}\n").map_err(io)?;
    out.flush().map_err(io)?;
    if unreadable > 0 {
        fetched.notes.push(format!(
            "{unreadable} event(s) whose `CloudTrailEvent` is not JSON passed over"
        ));
    }
    fetched.names.push(format!("cloudtrail://{region}"));
    fetched.files.push(path);
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keys() {
        let take = [
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/10/14/111122223333_CloudTrail_eu-west-1_20241014T1200Z_abc.json.gz",
            "AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2024/10/14/x.json",
            "AWSLogs/111122223333/Config/eu-west-1/2024/10/4/ConfigHistory/x.json.gz",
        ];
        for k in take {
            assert_eq!(history_pick(k), Pick::Take, "{k}");
        }
        let other = [
            "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/10/14/d.json.gz",
            "AWSLogs/111122223333/Config/ConfigWritabilityCheckFile",
            "AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/10/14/f.log.gz",
            "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/10/14/",
            "notes.txt",
        ];
        for k in other {
            assert_eq!(history_pick(k), Pick::Other, "{k}");
        }
    }

    #[test]
    fn locations() {
        assert_eq!(
            parse_history_location("s3://trail-bucket/AWSLogs/")
                .and_then(Result::ok)
                .map(|l| l.to_string()),
            Some("s3://trail-bucket/AWSLogs/".to_string())
        );
        assert!(matches!(
            parse_history_location("s3://A/x"),
            Some(Err(AwsError::InvalidLocation { .. }))
        ));
        assert!(matches!(
            parse_history_location("cloudtrail://"),
            Some(Err(AwsError::InvalidLocation { .. }))
        ));
        assert!(matches!(
            parse_history_location("cloudtrail://../etc"),
            Some(Err(AwsError::InvalidLocation { .. }))
        ));
        assert!(parse_history_location("/tmp/trail").is_none());
    }
}
