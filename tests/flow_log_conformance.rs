//! The flow-log reader against flow logs and parsed output written by others: the AWS
//! documentation's examples, Elastic's ingest-pipeline tests, Filebeat's processor samples,
//! flowlogs-reader, OpenSearch and Sekoia (see `conformance/README.md` in the shared folder).
//!
//! Needs `VPCREACH_CONFORMANCE_DIR` (`.ci/run` sets it); without it the tests fail.

use serde_json::Value;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use vpcreach::flow_log::{
    parse_chunk, parse_parallel, Chunk, ChunkReader, Counts, Field, FieldValue, FlowRecord, Format,
    Malformed,
};

fn conformance_dir() -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("VPCREACH_CONFORMANCE_DIR") else {
        panic!(
            "VPCREACH_CONFORMANCE_DIR is not set: run the tests with `bash .ci/run`, which sets it"
        );
    };
    let dir = PathBuf::from(dir);
    for sub in ["aws-doc-flow-examples", "elastic-vpcflow", "peer-samples"] {
        assert!(
            dir.join(sub).is_dir(),
            "VPCREACH_CONFORMANCE_DIR is set but {} is missing",
            dir.join(sub).display()
        );
    }
    Some(dir)
}

fn files_in(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == extension))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no .{extension} file in {}",
        dir.display()
    );
    files
}

struct Parsed {
    records: Vec<FlowRecord>,
    malformed: Vec<Malformed>,
    counts: Counts,
}

/// Parses a file twice: in one big chunk on this thread, and in tiny chunks on two threads
/// (so chunk boundaries fall everywhere and headers must be followed across them); both must
/// agree.
fn parse_file(path: &Path, format: Option<Format>) -> Parsed {
    let whole = read_all(ChunkReader::new(vec![path.into()], format.clone()), 1);
    let tiny = read_all(
        ChunkReader::new(vec![path.into()], format).with_chunk_size(64),
        2,
    );
    assert_eq!(whole.records, tiny.records, "{}", path.display());
    assert_eq!(whole.malformed, tiny.malformed, "{}", path.display());
    assert_eq!(whole.counts, tiny.counts, "{}", path.display());
    whole
}

fn read_all(reader: ChunkReader, threads: usize) -> Parsed {
    let mut out = Parsed {
        records: Vec::new(),
        malformed: Vec::new(),
        counts: Counts::default(),
    };
    let flow = parse_parallel(reader, threads, |parsed| {
        let parsed = parsed.unwrap_or_else(|e| panic!("{e}"));
        out.records.extend(parsed.records);
        out.malformed.extend(parsed.malformed);
        out.counts += parsed.counts;
        ControlFlow::Continue(())
    });
    assert_eq!(flow.unwrap(), ControlFlow::Continue(()));
    out
}

fn parse_text(text: &str, format: Format) -> Parsed {
    let parsed = parse_chunk(&Chunk::new(
        "sample",
        format!("{text}\n").into_bytes(),
        format,
    ));
    Parsed {
        records: parsed.records,
        malformed: parsed.malformed,
        counts: parsed.counts,
    }
}

fn assert_clean(parsed: &Parsed, what: &str) {
    let messages: Vec<String> = parsed.malformed.iter().map(|m| m.to_string()).collect();
    assert!(messages.is_empty(), "{what}: {messages:#?}");
    let c = parsed.counts;
    assert_eq!(
        c.read,
        c.parsed + c.nodata + c.skipdata + c.malformed,
        "{what}"
    );
    assert_eq!(c.read as usize, parsed.records.len(), "{what}");
}

/// The format Elastic's and Sekoia's pipelines assume for a header-less line, by its number
/// of fields: every field up to a version, in AWS's order.
fn format_for_field_count(count: usize) -> Format {
    let version = match count {
        14 => 2,
        21 => 3,
        25 => 4,
        29 => 5,
        39 => 7,
        40 => 8,
        36 => return Format::parse(TRANSIT_GATEWAY).unwrap(),
        _ => panic!("no AWS format has {count} fields"),
    };
    Format::all_fields(version)
}

/// The transit gateway flow-log format (36 fields), as Elastic's pipeline reads it.
const TRANSIT_GATEWAY: &str = "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service";

// ---- The AWS documentation's examples -----------------------------------------------------

#[test]
fn aws_doc_examples_parse_and_fields_land_where_the_header_says() {
    let Some(dir) = conformance_dir() else { return };
    let mut total = 0;
    for path in files_in(&dir.join("aws-doc-flow-examples"), "log") {
        let parsed = parse_file(&path, None);
        assert_clean(&parsed, &path.display().to_string());
        assert_eq!(parsed.counts.headers, 1, "{}", path.display());
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let header = Format::from_header(lines[0], 1).unwrap().unwrap();
        assert_eq!(parsed.records.len(), lines.len() - 1, "{}", path.display());
        for record in &parsed.records {
            let line = lines[record.line as usize - 1];
            let line = line.split(" #").next().unwrap();
            let words: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(
                words.len(),
                header.len(),
                "{}:{}",
                path.display(),
                record.line
            );
            for (slot, word) in header.slots().iter().zip(&words) {
                let vpcreach::flow_log::Slot::Known(field) = slot else {
                    panic!("unknown field {slot:?}")
                };
                assert_same(
                    record.get(*field),
                    word,
                    &format!("{}:{} {field}", path.display(), record.line),
                );
            }
            total += 1;
        }
    }
    assert_eq!(total, 2 + 2 + 2 + 1 + 8 + 6 + 4 + 2);
}

fn assert_same(value: FieldValue<'_>, word: &str, what: &str) {
    match (value, word.parse::<IpAddr>()) {
        (FieldValue::Addr(a), Ok(b)) => assert_eq!(a, b, "{what}"),
        _ => assert_eq!(value.to_string(), word, "{what}"),
    }
}

#[test]
fn aws_doc_examples_details() {
    let Some(dir) = conformance_dir() else { return };
    let dir = dir.join("aws-doc-flow-examples");

    let nodata = parse_file(&dir.join("02_nodata_skipdata.log"), None);
    assert_eq!(
        (
            nodata.counts.nodata,
            nodata.counts.skipdata,
            nodata.counts.parsed
        ),
        (1, 1, 0)
    );
    assert!(nodata
        .records
        .iter()
        .all(|r| r.action.is_none() && r.srcaddr.is_none()));

    // The doc's double space (line 9) does not shift the fields after it.
    let flags = parse_file(&dir.join("05_tcp_flags_v3.log"), None);
    let last = flags.records.last().unwrap();
    assert_eq!(last.line, 9);
    assert_eq!((last.srcport, last.dstport), (Some(5001), Some(43638)));
    assert_eq!(last.pkt_srcaddr, Some("10.0.0.62".parse().unwrap()));
    assert_eq!(
        (last.protocol, last.bytes, last.packets),
        (Some(6), Some(967), Some(14))
    );
    assert_eq!(last.tcp_flags, Some(19));

    // `#comment` tails in the NAT gateway example.
    let nat = parse_file(&dir.join("06_nat_gateway.log"), None);
    assert_eq!(nat.records.len(), 6);
    assert!(nat.records[..4].iter().all(|r| r.instance_id.is_none()));
    let annotated = &nat.records[5];
    assert_eq!(
        annotated.instance_id.as_deref(),
        Some("i-01234567890123456")
    );
    assert_eq!(annotated.pkt_dstaddr, Some("10.0.1.5".parse().unwrap()));
    assert!(annotated.extra.is_empty());

    // The ping pair: the same flow in both directions has one Community ID in Elastic's terms
    // only for request/reply types; flow logs write 0/0, read as type 0 (echo reply).
    let ping = parse_file(&dir.join("03_sg_nacl_icmp.log"), None);
    let ids: Vec<String> = ping
        .records
        .iter()
        .map(|r| r.community_id().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "1:H//CCQJhRqDUJ9c23S0VrQ+drxU=",
            "1:cfQqw/Kh6+4yqhEKgkCw/m3WoJM="
        ]
    );

    let v5 = parse_file(&dir.join("08_traffic_path_v5.log"), None);
    assert_eq!(v5.records[0].pkt_src_aws_service.as_deref(), Some("S3"));
    assert_eq!(v5.records[0].traffic_path, None);
    assert_eq!(v5.records[1].traffic_path, Some(8));
    assert_eq!(
        v5.records[1].flow_direction,
        Some(vpcreach::flow_log::FlowDirection::Egress)
    );
}

// ---- Elastic's ingest pipeline tests ------------------------------------------------------

/// Flattens nested objects into dotted keys (the condensed files mix both forms).
fn flatten(value: &Value, prefix: &str, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(v, &key, out);
            }
        }
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

/// Our value for one of the keys other tools write, as text; `None` when we have no value.
/// `Err` when the key is not one we compare.
fn ours(record: &FlowRecord, key: &str) -> Result<Option<String>, ()> {
    let field = match key {
        "source.address" | "source.ip" => Field::Srcaddr,
        "destination.address" | "destination.ip" => Field::Dstaddr,
        "source.port" => Field::Srcport,
        "destination.port" => Field::Dstport,
        "network.iana_number" => Field::Protocol,
        "network.packets" | "source.packets" => Field::Packets,
        "network.bytes" | "source.bytes" => Field::Bytes,
        "event.start" => Field::Start,
        "event.end" => Field::End,
        "event.action" | "action.name" => Field::Action,
        "event.reason" => Field::RejectReason,
        "network.direction" => Field::FlowDirection,
        "cloud.account.id" => Field::AccountId,
        "cloud.instance.id" => Field::InstanceId,
        "cloud.region" => Field::Region,
        "cloud.availability_zone" => Field::AzId,
        "observer.ingress.interface.name" => Field::InterfaceId,
        "orchestrator.cluster.name" => Field::EcsClusterName,
        "orchestrator.cluster.id" => Field::EcsClusterArn,
        "orchestrator.resource.id" => Field::EcsContainerInstanceId,
        "orchestrator.resource.name" => Field::EcsContainerInstanceArn,
        "service.name" => Field::EcsServiceName,
        "aws.flowlogs.tcp_flags" => Field::TcpFlags,
        "aws.flowlogs.vpc.id" => Field::VpcId,
        "aws.flowlogs.subnet.id" => Field::SubnetId,
        "aws.vpcflow.pkt_src_service" => Field::PktSrcAwsService,
        "aws.vpcflow.pkt_dst_service" => Field::PktDstAwsService,
        "network.community_id" => return Ok(record.community_id()),
        _ => {
            let Some(name) = key.strip_prefix("aws.vpcflow.") else {
                return Err(());
            };
            let name = name.replace('_', "-");
            match Field::from_name(&name) {
                Some(field) => field,
                None if name.starts_with("tgw-") => {
                    return Ok(record.extra(&name).map(str::to_owned))
                }
                None => return Err(()),
            }
        }
    };
    Ok(match record.get(field) {
        FieldValue::Absent => None,
        value => Some(value.to_string()),
    })
}

/// An expected value as we would write it: numbers without `.0`, times as seconds since
/// 1970, `-` as nothing.
fn normalize(key: &str, value: &Value) -> Option<String> {
    let text = match value {
        Value::Null => return None,
        Value::String(s) if s == "-" => return None,
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_u64() {
            Some(u) => u.to_string(),
            None => format!("{}", n.as_f64().unwrap() as u64),
        },
        other => other.to_string(),
    };
    if (key.ends_with(".start") || key.ends_with(".end")) && text.contains('T') {
        return Some(iso_to_epoch(&text).to_string());
    }
    if key == "action.name" {
        return Some(text.to_uppercase());
    }
    if key == "network.iana_number" {
        return Some(format!("{}", text.parse::<f64>().unwrap() as u64));
    }
    if let Ok(addr) = text.parse::<IpAddr>() {
        return Some(addr.to_string());
    }
    Some(text)
}

/// `2021-12-20T11:38:17.000Z` or `2020-09-09T15:26:33Z` → seconds since 1970.
fn iso_to_epoch(text: &str) -> i64 {
    let n = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let (hh, mm, ss) = (n(11..13), n(14..16), n(17..19));
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

#[test]
fn iso_times() {
    assert_eq!(iso_to_epoch("1970-01-01T00:00:00Z"), 0);
    assert_eq!(iso_to_epoch("2021-12-20T11:38:17.000Z"), 1_640_000_297);
    assert_eq!(iso_to_epoch("1975-03-14T03:34:26.000Z"), 164_000_066);
}

/// The keys whose absence in a full expected document means we must have no value either.
const MUST_AGREE_ON_ABSENCE: &[&str] = &[
    "source.address",
    "destination.address",
    "source.port",
    "destination.port",
    "network.iana_number",
    "network.packets",
    "network.bytes",
    "network.community_id",
    "aws.vpcflow.action",
    "aws.vpcflow.tcp_flags",
];

/// Compares one record with one document of another tool's output; returns how many values
/// were compared.
fn compare(record: &FlowRecord, expected: &Value, absence_too: bool, what: &str) -> usize {
    let mut flat = BTreeMap::new();
    flatten(expected, "", &mut flat);
    let mut compared = 0;
    for (key, value) in &flat {
        let Ok(ours) = ours(record, key) else {
            continue;
        };
        if value.is_null() {
            continue; // Not transcribed in a condensed file.
        }
        let theirs = normalize(key, value);
        let ours = match (&ours, key.as_str()) {
            (
                Some(a),
                "source.address" | "source.ip" | "destination.address" | "destination.ip",
            ) => Some(a.parse::<IpAddr>().unwrap().to_string()),
            _ => ours,
        };
        assert_eq!(ours, theirs, "{what}: `{key}`");
        compared += 1;
    }
    if absence_too {
        for key in MUST_AGREE_ON_ABSENCE {
            if !flat.contains_key(*key) {
                assert_eq!(
                    ours(record, key),
                    Ok(None),
                    "{what}: `{key}` is absent in Elastic's output"
                );
            }
        }
    }
    compared
}

#[test]
fn elastic_pipeline_tests_give_the_same_fields() {
    let Some(dir) = conformance_dir() else { return };
    let dir = dir.join("elastic-vpcflow");
    // Elastic's pipeline picks the format by the number of fields; these files have no header
    // (but the tcp-flag one, whose header is repeated mid-file).
    let formats: BTreeMap<&str, Option<usize>> = BTreeMap::from([
        ("test-ecs-samples.log", Some(39)),
        ("test-extra-samples.log", Some(14)),
        ("test-tcp-flag-sequence.log", None),
        ("test-tgw-samples.log", Some(36)),
        ("test-v5-all-fields.log", Some(29)),
        ("test-v8-samples.log", Some(40)),
        ("test-with-message-field.log", Some(14)),
    ]);
    let mut total = 0;
    for path in files_in(&dir, "log") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let Some(count) = formats.get(name.as_str()) else {
            panic!("{name}: a new file, say which format it has")
        };
        let parsed = parse_file(&path, count.map(format_for_field_count));
        assert_clean(&parsed, &name);

        let full = dir.join(format!("{name}-expected.json"));
        let condensed = dir.join(format!("{name}-expected.condensed.json"));
        let is_full = full.exists();
        let doc: Value = serde_json::from_str(
            &std::fs::read_to_string(if is_full { &full } else { &condensed }).unwrap(),
        )
        .unwrap();
        let expected = doc["expected"].as_array().unwrap();
        if is_full {
            assert_eq!(expected.len(), parsed.records.len(), "{name}");
        } else {
            assert!(expected.len() <= parsed.records.len(), "{name}");
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let mut compared = 0;
        for (record, expected) in parsed.records.iter().zip(expected) {
            let what = format!("{name}:{}", record.line);
            // Same record on both sides.
            let original = expected
                .pointer("/event/original")
                .or_else(|| expected.get("event.original"))
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("{what}: no event.original"));
            assert!(lines[record.line as usize - 1].contains(original), "{what}");
            compared += compare(record, expected, is_full, &what);
        }
        assert!(
            compared >= expected.len() * 5,
            "{name}: only {compared} values compared"
        );
        total += compared;
    }
    assert!(total > 300, "{total}");
}

// ---- Other tools' samples ------------------------------------------------------------------

#[test]
fn filebeat_samples_parse_with_their_format_strings() {
    let Some(dir) = conformance_dir() else { return };
    let dir = dir.join("peer-samples/elastic-beats");
    let yml = std::fs::read_to_string(dir.join("aws-vpc-flow-logs.yml")).unwrap();
    // A small reader for this file's shape: `name:`, `  format: …`, `    - sample`.
    let mut samples: Vec<(String, Format, String)> = Vec::new();
    let (mut section, mut format) = (String::new(), None);
    for line in yml.lines() {
        if !line.starts_with(' ') && line.ends_with(':') || line.contains(": &") {
            section = line.split(':').next().unwrap().to_owned();
        } else if let Some(f) = line.trim_start().strip_prefix("format: ") {
            format = Some(Format::parse(f).unwrap_or_else(|e| panic!("{section}: {e}")));
        } else if let Some(sample) = line.strip_prefix("    - ") {
            let sample = match sample.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
                Some(quoted) => quoted.replace("''", "'"),
                None => sample.to_owned(),
            };
            samples.push((section.clone(), format.clone().unwrap(), sample));
        }
    }
    assert!(samples.len() >= 30, "{}", samples.len());
    let mut by_section: BTreeMap<String, Vec<(String, FlowRecord)>> = BTreeMap::new();
    for (section, format, sample) in &samples {
        let parsed = parse_text(sample, format.clone());
        assert_clean(&parsed, &format!("{section}: {sample}"));
        assert_eq!(parsed.records.len(), 1, "{section}");
        by_section
            .entry(section.clone())
            .or_default()
            .push((sample.clone(), parsed.records.into_iter().next().unwrap()));
    }
    // The transit gateway sample keeps its fields as text.
    let (_, tgw) = &by_section["v6-fields-original"][0];
    assert_eq!(
        tgw.extra("tgw-attachment-id"),
        Some("tgw-attach-3e0bbb28e9ac7e3d8")
    );
    assert_eq!(tgw.srcport, Some(43228));

    // Golden outputs: the same values, record by record.
    for (section, golden) in [
        ("custom-nat-gateway", "custom-nat-gateway.golden.json"),
        ("v7-fields-original", "v7-fields-original.golden.json"),
    ] {
        let golden: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(golden)).unwrap()).unwrap();
        let golden = golden.as_array().unwrap();
        let ours = &by_section[section];
        assert_eq!(golden.len(), ours.len(), "{section}");
        let mut compared = 0;
        for ((sample, record), expected) in ours.iter().zip(golden) {
            let message = expected["message"].as_str().unwrap();
            assert!(sample.starts_with(message), "{section}: {message}");
            compared += compare(record, expected, false, section);
        }
        assert!(compared >= golden.len() * 3, "{section}: {compared}");
    }
}

#[test]
fn flowlogs_reader_and_opensearch_samples() {
    let Some(dir) = conformance_dir() else { return };
    let peers = dir.join("peer-samples");
    let v2 = parse_file(&peers.join("flowlogs-reader/v2_records.log"), None);
    assert_clean(&v2, "v2_records.log");
    assert_eq!(
        (v2.counts.parsed, v2.counts.nodata, v2.counts.skipdata),
        (3, 1, 1)
    );

    // Headers in alphabetical order.
    for (file, version) in [
        ("v3_file_with_header.log", 3),
        ("v4_file_with_header.log", 4),
    ] {
        let parsed = parse_file(&peers.join("flowlogs-reader").join(file), None);
        assert_clean(&parsed, file);
        assert_eq!(parsed.records.len(), 2);
        let r = &parsed.records[0];
        assert_eq!(r.version, Some(version));
        assert_eq!(r.srcaddr, Some("172.18.160.68".parse().unwrap()));
        assert_eq!(r.dstaddr, Some("172.18.160.93".parse().unwrap()));
        assert_eq!(r.pkt_srcaddr, Some("192.168.0.1".parse().unwrap()));
        assert_eq!((r.srcport, r.dstport), (Some(443), Some(47460)));
        assert_eq!(
            (r.bytes, r.packets, r.tcp_flags),
            (Some(6392), Some(10), Some(19))
        );
        assert_eq!(r.vpc_id.as_deref(), Some("vpc-0461a061"));
        if version == 4 {
            assert_eq!(r.sublocation_type.as_deref(), Some("wavelength"));
            assert_eq!(
                parsed.records[1].sublocation_id.as_deref(),
                Some("outpostid04")
            );
        }
    }

    let bodies = parse_file(&peers.join("opensearch-catalog/sample_bodies.log"), None);
    assert_clean(&bodies, "sample_bodies.log");
    assert_eq!(bodies.records.len(), 22);
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(peers.join("opensearch-catalog/sample.json")).unwrap(),
    )
    .unwrap();
    for (doc, record) in sample.as_array().unwrap().iter().zip(&bodies.records) {
        let parsed = parse_text(doc["body"].as_str().unwrap(), Format::default());
        assert_clean(&parsed, "sample.json");
        assert_eq!(&parsed.records[0].srcaddr, &record.srcaddr);
    }
}

#[test]
fn sekoia_events_plain_and_json_wrapped() {
    let Some(dir) = conformance_dir() else { return };
    let mut compared = 0;
    let files = files_in(&dir.join("peer-samples/sekoia"), "json");
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let message = doc["input"]["message"].as_str().unwrap();
        // Plain records come without a header: Sekoia, like Elastic, goes by the field count.
        let format = if message.trim_start().starts_with('{') {
            Format::default()
        } else {
            format_for_field_count(message.split_whitespace().count())
        };
        let parsed = parse_text(message, format);
        assert_clean(&parsed, &name);
        assert_eq!(parsed.records.len(), 1, "{name}");
        let record = &parsed.records[0];
        compared += compare(record, &doc["expected"], false, &name);
        if name == "nodata.json" {
            assert_eq!(record.srcaddr, None);
            assert!(!record.has_flow_data());
        } else {
            assert!(record.srcaddr.is_some(), "{name}");
        }
    }
    assert!(compared >= files.len() * 5, "{compared}");
}
