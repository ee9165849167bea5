//! VPC Flow Logs where AWS delivers them, fetched into local files the flow-log reader reads:
//! S3 objects (`s3://BUCKET/PREFIX`, streamed to disk, one file per object so that each keeps its
//! header line) and CloudWatch Logs groups (`cloudwatch://LOG_GROUP`, one file per log stream).

use super::config::{self, Session};
use super::error::{classify, AwsError, CallSite};
use super::AwsOptions;
use crate::flow_log::is_log_name;
use crate::timestamp::{civil_from_days, days_from_civil, Window};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Objects fetched at once from S3.
const PARALLEL_DOWNLOADS: usize = 8;
/// Log-stream files kept open at once while reading CloudWatch Logs.
const OPEN_STREAM_FILES: usize = 256;
/// The longest window, in days, for which S3 is listed day by day rather than whole.
const MAX_LISTED_DAYS: i64 = 400;

/// A remote flow-log location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `s3://BUCKET/PREFIX`.
    S3 {
        /// The bucket.
        bucket: String,
        /// The key prefix (may be empty).
        prefix: String,
    },
    /// `cloudwatch://LOG_GROUP`.
    CloudWatch {
        /// The log group name (may contain `/`).
        group: String,
    },
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            Location::CloudWatch { group } => write!(f, "cloudwatch://{group}"),
        }
    }
}

/// Reads a flow-log argument: `None` when it is not a remote location (a local path).
pub fn parse_location(arg: &str) -> Option<Result<Location, AwsError>> {
    let invalid = |reason: &str| {
        Some(Err(AwsError::InvalidLocation {
            location: arg.to_string(),
            reason: reason.to_string(),
        }))
    };
    if let Some(rest) = arg.strip_prefix("s3://") {
        return Some(match s3_parts(rest) {
            Some((bucket, prefix)) => Ok(Location::S3 { bucket, prefix }),
            None => return invalid("expected `s3://BUCKET/PREFIX` with a valid bucket name"),
        });
    }
    if let Some(group) = arg.strip_prefix("cloudwatch://") {
        let valid = !group.is_empty()
            && group.len() <= 512
            && group
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-/.#".contains(c));
        if !valid {
            return invalid("expected `cloudwatch://LOG_GROUP` with a log group name");
        }
        return Some(Ok(Location::CloudWatch {
            group: group.to_string(),
        }));
    }
    None
}

/// The bucket and prefix of what follows `s3://`, when the bucket name is valid.
pub(crate) fn s3_parts(rest: &str) -> Option<(String, String)> {
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_bucket = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
    valid_bucket.then(|| (bucket.to_string(), prefix.to_string()))
}

/// What one remote location gave.
#[derive(Debug, Clone, Default)]
pub struct Fetched {
    /// Local files to read, in order (S3 key order; log streams by name).
    pub files: Vec<PathBuf>,
    /// The remote name of each file (`s3://bucket/key`, `cloudwatch://group/stream`).
    pub names: Vec<String>,
    /// Bytes written.
    pub bytes: u64,
    /// Records (CloudWatch events) read; 0 for S3.
    pub events: u64,
    /// Things passed over, in words (other services' logs, objects outside the window).
    pub notes: Vec<String>,
}

/// Receives progress while fetching; every method has a do-nothing default.
pub trait FetchProgress: Send + Sync {
    /// The objects to fetch are known (S3): this many, this many bytes.
    fn listed(&self, objects: usize, bytes: u64) {
        let _ = (objects, bytes);
    }
    /// This many more bytes arrived.
    fn fetched(&self, bytes: u64) {
        let _ = bytes;
    }
}

impl FetchProgress for super::NoProgress {}

/// Fetches one location into files under `dir` (which must exist), for the flow-log reader.
/// S3 objects are chosen by the date in their key (both the `AWSLogs/<account>/vpcflowlogs/
/// <region>/yyyy/mm/dd/` layout and the Hive-compatible `year=/month=/day=` layout) when the
/// window is set; CloudWatch events by their timestamp.
pub fn fetch(
    location: &Location,
    window: &Window,
    opts: &AwsOptions,
    dir: &Path,
    progress: Arc<dyn FetchProgress>,
) -> Result<Fetched, AwsError> {
    super::runtime()?.block_on(async {
        let session = config::session(opts).await?;
        let region = opts
            .regions
            .first()
            .cloned()
            .or_else(|| session.default_region());
        match location {
            Location::S3 { bucket, prefix } => {
                let region = region.unwrap_or_else(|| "us-east-1".to_string());
                let pick = flow_log_pick(window);
                let picker = Picker {
                    pick: &pick,
                    others: "flow logs",
                };
                fetch_s3(
                    &session,
                    region,
                    (bucket, prefix),
                    window,
                    picker,
                    dir,
                    progress,
                )
                .await
            }
            Location::CloudWatch { group } => {
                let region = region.ok_or(AwsError::NoRegion)?;
                fetch_cloudwatch(&session, &region, group, window, dir, progress).await
            }
        }
    })
}

/// The date span `[start, end)` in Unix seconds that an S3 key's path names, if it names one.
pub(crate) fn key_span(key: &str) -> Option<(i64, i64)> {
    let segs: Vec<&str> = key.split('/').collect();
    let num = |s: &str, len: usize| -> Option<u32> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (y, m, d, h) = if let Some(i) = segs.iter().position(|s| *s == "vpcflowlogs") {
        let get = |k: usize| segs.get(i + k).copied();
        let y = num(get(2)?, 4)?;
        let m = num(get(3)?, 2)?;
        let d = num(get(4)?, 2)?;
        // An hourly partition is a folder: another segment follows it.
        let h = match (get(5), get(6)) {
            (Some(hh), Some(_)) => num(hh, 2),
            _ => None,
        };
        (y, m, d, h)
    } else {
        let field = |name: &str| {
            segs.iter()
                .find_map(|s| s.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
        };
        let y = num(field("year")?, 4)?;
        let m = num(field("month")?, 2)?;
        let d = num(field("day")?, 2)?;
        let h = field("hour").and_then(|v| num(v, 2));
        (y, m, d, h)
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let day = days_from_civil(i64::from(y), m, d) * 86_400;
    Some(match h {
        Some(h) if h < 24 => {
            let start = day + i64::from(h) * 3600;
            (start, start + 3600)
        }
        _ => (day, day + 86_400),
    })
}

/// What to do with an S3 key.
#[derive(Debug, PartialEq, Eq)]
enum KeyKind {
    /// A text flow-log object.
    FlowLog,
    /// Not a flow log (another service's logs, a folder marker, …).
    Other,
}

fn key_kind(key: &str) -> KeyKind {
    let segs: Vec<&str> = key.split('/').collect();
    // `AWSLogs/<account>/<service>/…` and `aws-service=<service>` name the delivering service.
    let other_service = segs.windows(3).any(|w| {
        w[0] == "AWSLogs" && w[1].bytes().all(|b| b.is_ascii_digit()) && w[2] != "vpcflowlogs"
    }) || segs.iter().any(|s| {
        s.strip_prefix("aws-service=")
            .is_some_and(|v| v != "vpcflowlogs")
    });
    if other_service || key.ends_with('/') {
        return KeyKind::Other;
    }
    // Text (`.log.gz`) and Parquet (`.log.parquet`) objects alike.
    if is_log_name(Path::new(key)) {
        KeyKind::FlowLog
    } else {
        KeyKind::Other
    }
}

/// The per-day prefixes to list instead of the whole prefix, when the prefix ends at the
/// region of a known layout and the window is bounded on both sides.
fn day_prefixes(prefix: &str, window: &Window) -> Option<Vec<String>> {
    let (Some(since), Some(until)) = (window.since, window.until) else {
        return None;
    };
    let base = prefix.trim_end_matches('/');
    let segs: Vec<&str> = base.split('/').collect();
    let n = segs.len();
    let hive = n >= 2
        && segs[n - 1].starts_with("aws-region=")
        && segs[n - 2] == "aws-service=vpcflowlogs";
    let awslogs = n >= 2 && segs[n - 2] == "vpcflowlogs" && !segs[n - 1].is_empty();
    if !(hive || awslogs) {
        return None;
    }
    let first = since.div_euclid(86_400);
    let last = (until - 1).div_euclid(86_400);
    if last < first || last - first > MAX_LISTED_DAYS {
        return None;
    }
    Some(
        (first..=last)
            .map(|day| {
                let (y, m, d) = civil_from_days(day);
                if hive {
                    format!("{base}/year={y:04}/month={m:02}/day={d:02}/")
                } else {
                    format!("{base}/{y:04}/{m:02}/{d:02}/")
                }
            })
            .collect(),
    )
}

/// A local relative path for a remote name: its `/`-separated parts, with `.`, `..` and empty
/// parts made harmless.
pub(crate) fn local_path(parts: &[&str]) -> PathBuf {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| match *p {
            "." | ".." => "_".to_string(),
            other => other.replace('\\', "_"),
        })
        .collect()
}

/// A unique local file path under `dir` for `rel`.
fn unique(dir: &Path, rel: PathBuf, taken: &mut HashSet<PathBuf>) -> PathBuf {
    let mut path = dir.join(&rel);
    let mut n = 1;
    while !taken.insert(path.clone()) {
        path = dir.join(format!("{}~{n}", rel.display()));
        n += 1;
    }
    path
}

/// The bucket's region from a redirecting answer, when it is not the one asked.
fn bucket_region<E>(
    err: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    asked: &str,
) -> Option<String> {
    let raw = err.raw_response()?;
    let region = raw.headers().get("x-amz-bucket-region")?;
    (region != asked).then(|| region.to_string())
}

type ListError = aws_sdk_s3::error::SdkError<
    aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error,
    aws_sdk_s3::config::http::HttpResponse,
>;

async fn list_s3(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    out: &mut Vec<(String, u64)>,
) -> Result<(), ListError> {
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        for obj in page?.contents() {
            if let Some(key) = obj.key() {
                out.push((
                    key.to_string(),
                    obj.size().unwrap_or_default().max(0) as u64,
                ));
            }
        }
    }
    Ok(())
}

/// What [`fetch_s3`] does with a listed key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pick {
    /// Fetch it.
    Take,
    /// Not wanted: counted in a note ("N object(s) that are not … passed over").
    Other,
    /// Wanted, but dated outside the window.
    Outside,
}

/// The keys [`fetch_s3`] fetches: `pick` says of each; `others` names what `Other` keys are
/// not (for the note).
pub(crate) struct Picker<'a> {
    pub(crate) pick: &'a (dyn Fn(&str) -> Pick + Sync),
    pub(crate) others: &'a str,
}

/// Flow-log objects dated inside `window`.
fn flow_log_pick(window: &Window) -> impl Fn(&str) -> Pick + Sync + '_ {
    move |key: &str| match key_kind(key) {
        KeyKind::Other => Pick::Other,
        KeyKind::FlowLog => match key_span(key) {
            Some((start, end)) if !window.overlaps(start, end) => Pick::Outside,
            _ => Pick::Take,
        },
    }
}

/// The objects under `s3://bucket/prefix` that `picker` takes (listed day by day within the
/// window where the layout allows), in key order, with their sizes; the region that answered;
/// notes on what was passed over. When the prefix is itself the key of an object taken, that
/// object alone: a URL naming an object reads that object.
async fn choose_s3(
    session: &Session,
    mut region: String,
    (bucket, prefix): (&str, &str),
    window: &Window,
    picker: Picker<'_>,
) -> Result<(String, Vec<(String, u64)>, Vec<String>), AwsError> {
    let location = format!("s3://{bucket}/{prefix}");
    let prefixes = day_prefixes(prefix, window).unwrap_or_else(|| vec![prefix.to_string()]);
    let mut client = session.s3(&region);
    let mut listed = Vec::new();
    for p in &prefixes {
        let site = session.site("s3", &region);
        if let Err(e) = list_s3(&client, bucket, p, &mut listed).await {
            // A bucket in another region answers with a redirect naming its region.
            match bucket_region(&e, &region) {
                Some(other) => {
                    region = other;
                    client = session.s3(&region);
                    listed.clear();
                    let site = session.site("s3", &region);
                    for p in &prefixes {
                        list_s3(&client, bucket, p, &mut listed)
                            .await
                            .map_err(|e| classify(e, "ListObjectsV2", &site))?;
                    }
                    break;
                }
                None => return Err(classify(e, "ListObjectsV2", &site)),
            }
        }
    }
    let mut notes = Vec::new();
    let mut chosen = Vec::new();
    let (mut outside, mut others) = (0usize, 0usize);
    for (key, size) in listed {
        match (picker.pick)(&key) {
            Pick::Other => others += 1,
            Pick::Outside => outside += 1,
            Pick::Take => chosen.push((key, size)),
        }
    }
    if others > 0 {
        notes.push(format!(
            "{others} object(s) that are not {} passed over",
            picker.others
        ));
    }
    if chosen.is_empty() {
        let mut window_words = window.to_string();
        if outside > 0 {
            window_words.push_str(&format!(" ({outside} object(s) outside the window)"));
        }
        return Err(AwsError::NothingFound {
            location,
            window: window_words,
        });
    }
    if !prefix.is_empty() && chosen.iter().any(|(key, _)| key == prefix) {
        chosen.retain(|(key, _)| key == prefix);
    }
    Ok((region, chosen, notes))
}

/// The flow-log objects of an `s3://` location, as [`fetch`] chooses them (the same layouts,
/// window and names), without fetching them: `s3://bucket/key` each, in key order, with the
/// notes [`fetch`] would give. What splits a prefix across the executors of a cluster, each
/// fetching its objects.
pub fn list_s3_objects(
    location: &Location,
    window: &Window,
    opts: &AwsOptions,
) -> Result<(Vec<String>, Vec<String>), AwsError> {
    let Location::S3 { bucket, prefix } = location else {
        return Err(AwsError::InvalidLocation {
            location: location.to_string(),
            reason: "only an `s3://` location is made of objects".into(),
        });
    };
    super::runtime()?.block_on(async {
        let session = config::session(opts).await?;
        let region = opts
            .regions
            .first()
            .cloned()
            .or_else(|| session.default_region())
            .unwrap_or_else(|| "us-east-1".to_string());
        let pick = flow_log_pick(window);
        let picker = Picker {
            pick: &pick,
            others: "flow logs",
        };
        let (_, chosen, notes) =
            choose_s3(&session, region, (bucket, prefix), window, picker).await?;
        Ok((
            chosen
                .into_iter()
                .map(|(key, _)| format!("s3://{bucket}/{key}"))
                .collect(),
            notes,
        ))
    })
}

pub(crate) async fn fetch_s3(
    session: &Session,
    region: String,
    (bucket, prefix): (&str, &str),
    window: &Window,
    picker: Picker<'_>,
    dir: &Path,
    progress: Arc<dyn FetchProgress>,
) -> Result<Fetched, AwsError> {
    let (region, chosen, notes) =
        choose_s3(session, region, (bucket, prefix), window, picker).await?;
    let mut fetched = Fetched {
        notes,
        ..Fetched::default()
    };
    let client = session.s3(&region);
    progress.listed(chosen.len(), chosen.iter().map(|(_, s)| s).sum());
    let root = dir.join("s3").join(local_path(&[bucket]));
    let mut taken = HashSet::new();
    let targets: Vec<(String, PathBuf)> = chosen
        .into_iter()
        .map(|(key, _)| {
            let parts: Vec<&str> = key.split('/').collect();
            let path = unique(&root, local_path(&parts), &mut taken);
            (key, path)
        })
        .collect();
    let site = session.site("s3", &region);
    let mut tasks = tokio::task::JoinSet::new();
    let mut next = 0;
    while next < targets.len() || !tasks.is_empty() {
        while next < targets.len() && tasks.len() < PARALLEL_DOWNLOADS {
            let (key, path) = targets[next].clone();
            let (client, site, bucket) = (client.clone(), site.clone(), bucket.to_string());
            let progress = Arc::clone(&progress);
            let read_timeout = session.read_timeout;
            tasks.spawn(async move {
                let target = (&*bucket, &*key, &*path);
                download(&client, target, &site, read_timeout, &*progress).await
            });
            next += 1;
        }
        if let Some(joined) = tasks.join_next().await {
            let bytes = joined.map_err(|e| AwsError::Other {
                operation: "GetObject".into(),
                region: region.clone(),
                detail: e.to_string(),
            })??;
            fetched.bytes += bytes;
        }
    }
    for (key, path) in targets {
        fetched.names.push(format!("s3://{bucket}/{key}"));
        fetched.files.push(path);
    }
    Ok(fetched)
}

/// Streams one object to a file; returns its size.
pub(crate) async fn download(
    client: &aws_sdk_s3::Client,
    (bucket, key, path): (&str, &str, &Path),
    site: &CallSite,
    read_timeout: std::time::Duration,
    progress: &dyn FetchProgress,
) -> Result<u64, AwsError> {
    let io = |source| AwsError::Io {
        path: path.to_path_buf(),
        error: source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let resp = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| classify(e, "GetObject", site))?;
    let mut body = resp.body;
    let mut file = BufWriter::with_capacity(256 * 1024, File::create(path).map_err(io)?);
    let mut total = 0u64;
    loop {
        // A body that stops coming must not hold the run for ever.
        let next = tokio::time::timeout(read_timeout, body.try_next())
            .await
            .map_err(|_| AwsError::Unreachable {
                operation: "GetObject".into(),
                region: site.region.clone(),
                endpoint: format!("s3://{bucket}/{key}"),
                detail: format!(
                    "the download stalled: no data for {}s (`--read-timeout`)",
                    read_timeout.as_secs()
                ),
            })?;
        let chunk = next.map_err(|e| AwsError::Unreachable {
            operation: "GetObject".into(),
            region: site.region.clone(),
            endpoint: format!("s3://{bucket}/{key}"),
            detail: format!("the download broke off: {e}"),
        })?;
        let Some(chunk) = chunk else { break };
        file.write_all(&chunk).map_err(io)?;
        total += chunk.len() as u64;
        progress.fetched(chunk.len() as u64);
    }
    file.flush().map_err(io)?;
    Ok(total)
}

/// One log stream's file, opened for appending when its turn comes.
struct StreamFile {
    path: PathBuf,
    writer: Option<BufWriter<File>>,
}

async fn fetch_cloudwatch(
    session: &Session,
    region: &str,
    group: &str,
    window: &Window,
    dir: &Path,
    progress: Arc<dyn FetchProgress>,
) -> Result<Fetched, AwsError> {
    let site = session.site("logs", region);
    let client = session.logs(region);
    let mut request = client.filter_log_events().log_group_name(group);
    if let Some(since) = window.since {
        request = request.start_time(since.saturating_mul(1000));
    }
    if let Some(until) = window.until {
        // `endTime` is inclusive; the window's end is not.
        request = request.end_time(until.saturating_mul(1000) - 1);
    }
    let root = dir
        .join("cloudwatch")
        .join(local_path(&[group.replace('/', "_").as_str()]));
    std::fs::create_dir_all(&root).map_err(|source| AwsError::Io {
        path: root.clone(),
        error: source,
    })?;
    let mut streams: BTreeMap<String, StreamFile> = BTreeMap::new();
    let mut taken = HashSet::new();
    let mut open = 0usize;
    let mut fetched = Fetched::default();
    let mut pages = request.into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| classify(e, "FilterLogEvents", &site))?;
        for event in page.events() {
            let (Some(stream), Some(message)) = (event.log_stream_name(), event.message()) else {
                continue;
            };
            if !streams.contains_key(stream) {
                let rel = local_path(&[format!("{stream}.log").as_str()]);
                let path = unique(&root, rel, &mut taken);
                streams.insert(stream.to_string(), StreamFile { path, writer: None });
            }
            if open >= OPEN_STREAM_FILES && streams.get(stream).is_some_and(|s| s.writer.is_none())
            {
                for s in streams.values_mut() {
                    if let Some(mut w) = s.writer.take() {
                        w.flush().map_err(|source| AwsError::Io {
                            path: s.path.clone(),
                            error: source,
                        })?;
                    }
                }
                open = 0;
            }
            let Some(file) = streams.get_mut(stream) else {
                continue;
            };
            let io = |source| AwsError::Io {
                path: file.path.clone(),
                error: source,
            };
            if file.writer.is_none() {
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&file.path)
                    .map_err(io)?;
                file.writer = Some(BufWriter::new(f));
                open += 1;
            }
            if let Some(w) = file.writer.as_mut() {
                let line = message.trim_end_matches(['\n', '\r']);
                w.write_all(line.as_bytes()).map_err(io)?;
                w.write_all(b"\n").map_err(io)?;
                fetched.bytes += line.len() as u64 + 1;
                progress.fetched(line.len() as u64 + 1);
            }
            fetched.events += 1;
        }
    }
    for (stream, mut file) in streams {
        if let Some(mut w) = file.writer.take() {
            w.flush().map_err(|source| AwsError::Io {
                path: file.path.clone(),
                error: source,
            })?;
        }
        fetched.names.push(format!("cloudwatch://{group}/{stream}"));
        fetched.files.push(file.path);
    }
    if fetched.files.is_empty() {
        return Err(AwsError::NothingFound {
            location: format!("cloudwatch://{group}"),
            window: window.to_string(),
        });
    }
    Ok(fetched)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::TimeArg;

    fn window(since: &str, until: &str) -> Window {
        Window::new(
            Some(since.parse::<TimeArg>().unwrap()),
            Some(until.parse::<TimeArg>().unwrap()),
        )
    }

    #[test]
    fn locations() {
        assert_eq!(
            parse_location("s3://my-logs/AWSLogs/1/").unwrap().unwrap(),
            Location::S3 {
                bucket: "my-logs".into(),
                prefix: "AWSLogs/1/".into()
            }
        );
        assert_eq!(
            parse_location("s3://my-logs").unwrap().unwrap(),
            Location::S3 {
                bucket: "my-logs".into(),
                prefix: String::new()
            }
        );
        assert_eq!(
            parse_location("cloudwatch:///aws/vpc/flow-logs")
                .unwrap()
                .unwrap(),
            Location::CloudWatch {
                group: "/aws/vpc/flow-logs".into()
            }
        );
        assert!(parse_location("flows/x.log").is_none());
        assert!(parse_location("s3://").unwrap().is_err());
        assert!(parse_location("s3://Bad_Bucket/x").unwrap().is_err());
        assert!(parse_location("cloudwatch://").unwrap().is_err());
    }

    #[test]
    fn dates_from_keys() {
        let day = |s: &str| s.parse::<TimeArg>().unwrap().start;
        let k = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/01/123456789012_vpcflowlogs_us-east-1_fl-1_20240501T0000Z_abc.log.gz";
        assert_eq!(key_span(k), Some((day("2024-05-01"), day("2024-05-02"))));
        let k = "p/AWSLogs/1/vpcflowlogs/eu-west-1/2024/05/01/13/f.log.gz";
        assert_eq!(
            key_span(k),
            Some((day("2024-05-01T13:00:00Z"), day("2024-05-01T14:00:00Z")))
        );
        let k = "AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=05/day=02/f.log.gz";
        assert_eq!(key_span(k), Some((day("2024-05-02"), day("2024-05-03"))));
        let k = "AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=05/day=02/hour=07/f.log.gz";
        assert_eq!(
            key_span(k),
            Some((day("2024-05-02T07:00:00Z"), day("2024-05-02T08:00:00Z")))
        );
        assert_eq!(key_span("flows/a.log.gz"), None);
    }

    #[test]
    fn kinds_of_keys() {
        assert_eq!(
            key_kind("AWSLogs/1/vpcflowlogs/us-east-1/2024/05/01/a.log.gz"),
            KeyKind::FlowLog
        );
        assert_eq!(
            key_kind("AWSLogs/1/vpcflowlogs/us-east-1/2024/05/01/a.log.parquet"),
            KeyKind::FlowLog
        );
        assert_eq!(
            key_kind("AWSLogs/1/CloudTrail/us-east-1/2024/05/01/a.json.gz"),
            KeyKind::Other
        );
        assert_eq!(
            key_kind("AWSLogs/aws-account-id=1/aws-service=elb/x.log.gz"),
            KeyKind::Other
        );
        assert_eq!(key_kind("AWSLogs/1/vpcflowlogs/"), KeyKind::Other);
        assert_eq!(key_kind("mine/flows.log"), KeyKind::FlowLog);
        assert_eq!(key_kind("mine/readme.md"), KeyKind::Other);
    }

    #[test]
    fn day_by_day_listing() {
        let w = window("2024-02-28", "2024-03-01");
        assert_eq!(
            day_prefixes("AWSLogs/1/vpcflowlogs/us-east-1/", &w).unwrap(),
            [
                "AWSLogs/1/vpcflowlogs/us-east-1/2024/02/28/",
                "AWSLogs/1/vpcflowlogs/us-east-1/2024/02/29/",
                "AWSLogs/1/vpcflowlogs/us-east-1/2024/03/01/"
            ]
        );
        assert_eq!(
            day_prefixes("x/AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=eu-west-1", &window("2024-05-01", "2024-05-01")).unwrap(),
            ["x/AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=05/day=01/"]
        );
        assert!(day_prefixes("AWSLogs/1/", &w).is_none());
        assert!(day_prefixes("AWSLogs/1/vpcflowlogs/us-east-1/", &Window::default()).is_none());
    }

    #[test]
    fn local_paths_stay_inside() {
        assert_eq!(local_path(&["a", "..", "", "b"]), PathBuf::from("a/_/b"));
        let mut taken = HashSet::new();
        let dir = Path::new("/x");
        assert_eq!(unique(dir, "a".into(), &mut taken), PathBuf::from("/x/a"));
        assert_eq!(unique(dir, "a".into(), &mut taken), PathBuf::from("/x/a~1"));
    }
}
