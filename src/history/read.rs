//! Reading CloudTrail log files as delivered to S3 (`{"Records": [...]}`, `.json` or
//! `.json.gz`, in `AWSLogs/…/CloudTrail/<region>/yyyy/mm/dd/` folders), EventBridge events
//! that wrap one record under `detail`, and AWS Config history and snapshot files
//! (`{"fileVersion", "configurationItems": [...]}`, in `AWSLogs/…/Config/<region>/y/m/d/
//! ConfigHistory|ConfigSnapshot/` folders) or `aws configservice get-resource-config-history`
//! output (`{"configurationItems": [...]}`): told apart by content, mixed freely. Both list kinds
//! are read item by item (bounded memory).

use super::Event;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Counts of what was read. `records == applied + duplicates + failed + not_changes +
/// passed_by + malformed` (CloudTrail records and Config items together).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Files read.
    pub files: usize,
    /// Records read, in all.
    pub records: usize,
    /// Records kept as changes.
    pub applied: usize,
    /// Records whose `eventID` was seen before (delivered twice).
    pub duplicates: usize,
    /// Failed calls (`errorCode` set), dry runs included: they changed nothing.
    pub failed: usize,
    /// Of those, dry runs (`Client.DryRunOperation`).
    pub dry_runs: usize,
    /// Calls that do not change reachability (reads, other services, other attributes).
    pub not_changes: usize,
    /// Config items of a resource type that does not matter to reachability.
    pub passed_by: usize,
    /// Records that could not be read (named in [`History::problems`]).
    pub malformed: usize,
    /// Of `records`, AWS Config configuration items.
    pub config_items: usize,
}

use serde::Serialize;

/// What the history sources hold: the changes in time order, and what was passed by.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The changes, by time (then event id).
    pub events: Vec<Event>,
    /// Counts.
    pub stats: Stats,
    /// Bad input, one message each naming the file (and record index): never fatal.
    pub problems: Vec<String>,
    /// Files and folder entries passed by (digest files, links seen twice, …).
    pub warnings: Vec<String>,
}

/// Largest log file read (CloudTrail files are a few MB; a gzip bomb stops here).
const MAX_FILE: u64 = 512 * 1024 * 1024;

fn is_log(p: &Path) -> bool {
    let digest = p
        .components()
        .any(|c| c.as_os_str().to_string_lossy() == "CloudTrail-Digest");
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    !digest
        && !name.starts_with("ConfigWritabilityCheckFile")
        && (name.ends_with(".json") || name.ends_with(".json.gz"))
}

/// Reads every CloudTrail file in `sources` (files, or folders walked with
/// [`crate::walk::walk`]; digest files are passed by). Only a source that cannot be found or
/// listed is an `Err`: a bad file or record is a problem named in [`History::problems`].
pub fn read(sources: &[PathBuf]) -> std::io::Result<History> {
    let mut h = History::default();
    let mut seen = BTreeSet::new();
    for src in sources {
        let files = if src.is_dir() {
            let walk = crate::walk::walk(src, is_log)?;
            for s in &walk.skipped {
                h.warnings.push(format!("{s}"));
            }
            for (p, e) in &walk.errors {
                h.problems
                    .push(format!("{}: cannot be read: {e}", p.display()));
            }
            let digests = walk
                .passed
                .iter()
                .filter(|p| {
                    p.components()
                        .any(|c| c.as_os_str().to_string_lossy() == "CloudTrail-Digest")
                })
                .count();
            for p in walk.passed.iter().filter(|p| {
                p.file_name().is_some_and(|n| {
                    n.to_string_lossy()
                        .starts_with("ConfigWritabilityCheckFile")
                })
            }) {
                h.warnings.push(format!(
                    "{}: AWS Config's writability check file passed by",
                    p.display()
                ));
            }
            if digests > 0 {
                h.warnings.push(format!(
                    "{}: {digests} CloudTrail digest file(s) passed by",
                    src.display()
                ));
            }
            walk.files
        } else {
            std::fs::metadata(src)?;
            vec![src.clone()]
        };
        for f in files {
            let name = f.display().to_string();
            // A trail file (`{"Records": [...]}`) is read record by record: memory holds one
            // record at a time, whatever the file's size. Anything else is read whole.
            match read_streamed(&f, &name, &mut h, &mut seen) {
                Streamed::Done => continue,
                Streamed::NotATrailFile => {}
            }
            let bytes = match read_file(&f) {
                Ok(b) => b,
                Err(e) => {
                    h.problems.push(format!("{name}: {e}"));
                    continue;
                }
            };
            read_bytes(&bytes, &name, &mut h, &mut seen);
        }
    }
    sort(&mut h.events);
    Ok(h)
}

/// Changes by time; in the same second, CloudTrail events before Config items (an item
/// records the state a call made), then by id.
pub(super) fn sort(events: &mut [Event]) {
    events.sort_by(|a, b| {
        (a.time, a.config_item().is_some(), &a.event_id).cmp(&(
            b.time,
            b.config_item().is_some(),
            &b.event_id,
        ))
    });
}

/// What [`read_streamed`] did with a file.
enum Streamed {
    /// Read (what could be read, with its problems named).
    Done,
    /// Not a `{"Records": [...]}` document: nothing was taken from it.
    NotATrailFile,
}

/// The file's content, unpacked when it is a `.gz`, at most [`MAX_FILE`] bytes of it.
fn open_content(path: &Path) -> std::io::Result<Box<dyn Read>> {
    let file = std::fs::File::open(path)?;
    Ok(if path.to_string_lossy().ends_with(".gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file).take(MAX_FILE + 1))
    } else {
        Box::new(file.take(MAX_FILE + 1))
    })
}

/// Reads a `{"Records": [...]}` file record by record into `h`. A file whose first value is not
/// such an object is left for [`read_bytes`] ([`Streamed::NotATrailFile`]), unless records were
/// already taken from it: then what follows is named as a problem.
fn read_streamed(
    path: &Path,
    name: &str,
    h: &mut History,
    seen: &mut BTreeSet<String>,
) -> Streamed {
    use serde::de::{
        DeserializeSeed, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor,
    };
    let too_long = !path.to_string_lossy().ends_with(".gz")
        && std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_FILE);
    let content = match open_content(path) {
        Ok(c) if !too_long => c,
        // Named by the whole-file path, which opens it again.
        _ => return Streamed::NotATrailFile,
    };
    struct Trail<'a> {
        name: &'a str,
        h: &'a mut History,
        seen: &'a mut BTreeSet<String>,
        taken: usize,
        /// The list read is `configurationItems`.
        config: bool,
    }
    struct Records<'t, 'a>(&'t mut Trail<'a>);
    impl<'de> DeserializeSeed<'de> for Records<'_, '_> {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> Visitor<'de> for Records<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of records")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            let t = self.0;
            let config = t.config;
            while let Some(rec) = seq.next_element::<Value>()? {
                if config {
                    take_config_item(t.taken, &rec, t.name, t.h, t.seen);
                } else {
                    take_record(t.taken, rec, t.name, t.h, t.seen);
                }
                t.taken += 1;
            }
            Ok(())
        }
    }
    struct Top<'t, 'a>(&'t mut Trail<'a>, &'t mut bool);
    impl<'de> Visitor<'de> for Top<'_, '_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str(r#"{"Records": [...]} or {"configurationItems": [...]}"#)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                if (key == "Records" || key == "configurationItems") && !*self.1 {
                    *self.1 = true;
                    self.0.config = key == "configurationItems";
                    map.next_value_seed(Records(&mut *self.0))?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        }
    }
    let mut trail = Trail {
        name,
        h,
        seen,
        taken: 0,
        config: false,
    };
    let mut has_records = false;
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::new(content));
    let result = de
        .deserialize_map(Top(&mut trail, &mut has_records))
        .and_then(|()| de.end());
    let (taken, h) = (trail.taken, trail.h);
    match result {
        Ok(()) if has_records => {
            h.stats.files += 1;
            Streamed::Done
        }
        // Another kind of document (or lines of events): read whole.
        Ok(()) => Streamed::NotATrailFile,
        Err(_) if taken == 0 => Streamed::NotATrailFile,
        Err(e) => {
            h.stats.files += 1;
            h.problems.push(format!(
                "{name}: after record {}: {e} (the records before it are kept)",
                taken - 1
            ));
            Streamed::Done
        }
    }
}

fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let mut raw = Vec::new();
    let gz = path.to_string_lossy().ends_with(".gz");
    if gz {
        flate2::read::MultiGzDecoder::new(file)
            .take(MAX_FILE + 1)
            .read_to_end(&mut raw)?;
    } else {
        file.take(MAX_FILE + 1).read_to_end(&mut raw)?;
    }
    if raw.len() as u64 > MAX_FILE {
        return Err(std::io::Error::other(format!(
            "longer than {MAX_FILE} bytes: not read"
        )));
    }
    Ok(raw)
}

/// Reads one file's content (`{"Records": [...]}`, one EventBridge event, or a JSON array or
/// lines of them) into `h`, naming `name` in problems. `seen` holds the event ids read so far.
pub fn read_bytes(bytes: &[u8], name: &str, h: &mut History, seen: &mut BTreeSet<String>) {
    h.stats.files += 1;
    let docs: Vec<Value> = match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => vec![v],
        Err(whole) => {
            // EventBridge deliveries are often one event per line.
            let mut docs = Vec::new();
            for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match serde_json::from_slice::<Value>(line) {
                    Ok(v) => docs.push(v),
                    Err(e) => {
                        if n == 0 {
                            h.problems.push(format!(
                                "{name}:{}:{}: not JSON: {whole}",
                                whole.line(),
                                whole.column()
                            ));
                            return;
                        }
                        h.stats.records += 1;
                        h.stats.malformed += 1;
                        h.problems
                            .push(format!("{name}:{}: not a JSON event: {e}", n + 1));
                    }
                }
            }
            docs
        }
    };
    let mut records = Vec::new();
    for doc in docs {
        // A Config file or `get-resource-config-history` output.
        if let Value::Object(m) = &doc {
            if let Some(items) = m.get("configurationItems") {
                match items {
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            take_config_item(i, item, name, h, seen);
                        }
                    }
                    _ => h.problems.push(format!(
                        "{name}: `configurationItems` is not a list of items"
                    )),
                }
                continue;
            }
        }
        // One item, or a change notification wrapping one (`configurationItem`).
        let single = match &doc {
            Value::Object(m) if m.get("messageType").is_some() => m.get("configurationItem"),
            d if super::config::is_item(d) => Some(d),
            _ => None,
        };
        if let Some(item) = single {
            take_config_item(0, item, name, h, seen);
            continue;
        }
        match doc {
            Value::Object(ref m) if m.contains_key("Records") => match m.get("Records") {
                Some(Value::Array(rs)) => records.extend(rs.iter().cloned()),
                _ => h
                    .problems
                    .push(format!("{name}: `Records` is not a list of records")),
            },
            Value::Array(rs) => records.extend(rs),
            other => records.push(other),
        }
    }
    for (i, rec) in records.into_iter().enumerate() {
        if super::config::is_item(&rec) {
            take_config_item(i, &rec, name, h, seen);
        } else {
            take_record(i, rec, name, h, seen);
        }
    }
}

/// Counts one Config item of `name` (the `i`-th) and keeps it, if it is of a type that matters
/// and not seen before (the same resource and `configurationStateId`, or the same resource,
/// capture time and content).
fn take_config_item(
    i: usize,
    item: &Value,
    name: &str,
    h: &mut History,
    seen: &mut BTreeSet<String>,
) {
    h.stats.records += 1;
    h.stats.config_items += 1;
    match super::config::parse_item(item) {
        Err(e) => {
            h.stats.malformed += 1;
            let id = item
                .get("resourceId")
                .and_then(Value::as_str)
                .map(|r| format!(" ({})", crate::render::sanitize(r)))
                .unwrap_or_default();
            h.problems
                .push(format!("{name}: configuration item {i}{id}: {e}"));
        }
        Ok(super::config::Read::PassedBy(_)) => h.stats.passed_by += 1,
        Ok(super::config::Read::Item {
            item,
            time,
            account,
            region,
        }) => {
            let by_state = item
                .state_id
                .as_ref()
                .map(|sid| format!("config\u{0}{}\u{0}{sid}", item.resource_id));
            let content = serde_json::to_string(&item.state).unwrap_or_default();
            let by_content = format!(
                "config\u{0}{}\u{0}{time}\u{0}{}\u{0}{content}",
                item.resource_id, item.status
            );
            let again =
                by_state.as_ref().is_some_and(|k| seen.contains(k)) || seen.contains(&by_content);
            if again {
                h.stats.duplicates += 1;
                return;
            }
            if let Some(k) = by_state {
                seen.insert(k);
            }
            seen.insert(by_content);
            h.stats.applied += 1;
            let event_id = format!(
                "{}@{}",
                item.resource_id,
                item.state_id
                    .clone()
                    .unwrap_or_else(|| item.capture_time.clone())
            );
            h.events.push(Event {
                event_id,
                time,
                api: format!("ConfigurationItem {}", item.status),
                principal: None,
                source_ip: None,
                region,
                account,
                change: super::Change::Config(item),
            });
        }
    }
}

/// Counts one record of `name` (the `i`-th) and keeps its change, if it is one.
fn take_record(i: usize, rec: Value, name: &str, h: &mut History, seen: &mut BTreeSet<String>) {
    h.stats.records += 1;
    let rec = match rec {
        Value::Object(mut m) if m.contains_key("detail") && m.contains_key("detail-type") => {
            m.remove("detail").unwrap_or(Value::Null)
        }
        other => other,
    };
    match super::parse::parse_record(&rec) {
        Err(e) => {
            h.stats.malformed += 1;
            h.problems.push(format!("{name}: record {i}: {e}"));
        }
        Ok(parsed) => {
            let id = parsed.event_id.clone();
            if !seen.insert(id) {
                h.stats.duplicates += 1;
                return;
            }
            match parsed.outcome {
                super::parse::Outcome::Failed { dry_run } => {
                    h.stats.failed += 1;
                    if dry_run {
                        h.stats.dry_runs += 1;
                    }
                }
                super::parse::Outcome::NotAChange => h.stats.not_changes += 1,
                super::parse::Outcome::Change(ev) => {
                    h.stats.applied += 1;
                    h.events.push(*ev);
                }
                super::parse::Outcome::Bad(e) => {
                    h.stats.malformed += 1;
                    h.problems.push(format!(
                        "{name}: record {i} (event {}): {e}",
                        crate::render::sanitize(&parsed.event_id)
                    ));
                }
            }
        }
    }
}
