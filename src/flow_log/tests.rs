//! Parsing whole texts: formats, headers, the odd lines of published examples, and errors.

use super::*;
use std::net::IpAddr;

fn parse(text: &str, format: Format) -> ParsedChunk {
    parse_chunk(&Chunk::new("test.log", text.as_bytes().to_vec(), format))
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

fn t(s: &str) -> Option<Text> {
    Some(Text::from(s))
}

const V8_ALL: &str = "8 123456789010 eni-1235b8ca123456789 10.0.0.1 2001:db8::2 443 51234 6 10 8400 1700000000 1700000060 REJECT OK \
    vpc-0a1 subnet-0b2 i-0c3 19 IPv6 192.0.2.1 2001:db8::9 us-east-1 use1-az1 outpost op-1 S3 EC2 egress 8 \
    arn:aws:ecs:us-east-1:1:cluster/c c arn:aws:ecs:us-east-1:1:container-instance/c/x x cid1 cid2 svc \
    arn:aws:ecs:us-east-1:1:task-definition/t:1 arn:aws:ecs:us-east-1:1:task/c/t t BPA";

#[test]
fn every_field_lands_in_its_place() {
    let parsed = parse(V8_ALL, Format::all_fields(8));
    assert_eq!(parsed.malformed, []);
    let r = &parsed.records[0];
    assert_eq!(r.line, 1);
    assert_eq!(r.version, Some(8));
    assert_eq!(r.account_id, t("123456789010"));
    assert_eq!(r.interface_id, t("eni-1235b8ca123456789"));
    assert_eq!(r.srcaddr, ip("10.0.0.1"));
    assert_eq!(r.dstaddr, ip("2001:db8::2"));
    assert_eq!((r.srcport, r.dstport), (Some(443), Some(51234)));
    assert_eq!(r.protocol, Some(6));
    assert_eq!((r.packets, r.bytes), (Some(10), Some(8400)));
    assert_eq!((r.start, r.end), (Some(1_700_000_000), Some(1_700_000_060)));
    assert_eq!(r.action, Some(Action::Reject));
    assert_eq!(r.log_status, Some(LogStatus::Ok));
    assert_eq!(r.vpc_id, t("vpc-0a1"));
    assert_eq!(r.subnet_id, t("subnet-0b2"));
    assert_eq!(r.instance_id, t("i-0c3"));
    assert_eq!(r.tcp_flags, Some(19));
    assert_eq!(r.r#type, t("IPv6"));
    assert_eq!(r.pkt_srcaddr, ip("192.0.2.1"));
    assert_eq!(r.pkt_dstaddr, ip("2001:db8::9"));
    assert_eq!(r.region, t("us-east-1"));
    assert_eq!(r.az_id, t("use1-az1"));
    assert_eq!(r.sublocation_type, t("outpost"));
    assert_eq!(r.sublocation_id, t("op-1"));
    assert_eq!(r.pkt_src_aws_service, t("S3"));
    assert_eq!(r.pkt_dst_aws_service, t("EC2"));
    assert_eq!(r.flow_direction, Some(FlowDirection::Egress));
    assert_eq!(r.traffic_path, Some(8));
    let ecs = r.ecs.as_deref().unwrap();
    assert_eq!(ecs.cluster_arn, t("arn:aws:ecs:us-east-1:1:cluster/c"));
    assert_eq!(ecs.cluster_name, t("c"));
    assert_eq!(
        ecs.container_instance_arn,
        t("arn:aws:ecs:us-east-1:1:container-instance/c/x")
    );
    assert_eq!(ecs.container_instance_id, t("x"));
    assert_eq!(ecs.container_id, t("cid1"));
    assert_eq!(ecs.second_container_id, t("cid2"));
    assert_eq!(ecs.service_name, t("svc"));
    assert_eq!(
        ecs.task_definition_arn,
        t("arn:aws:ecs:us-east-1:1:task-definition/t:1")
    );
    assert_eq!(ecs.task_arn, t("arn:aws:ecs:us-east-1:1:task/c/t"));
    assert_eq!(ecs.task_id, t("t"));
    assert_eq!(r.reject_reason, t("BPA"));
    assert!(r.extra.is_empty());
    // The generic view agrees, and prints the record back as it was written.
    let words: Vec<String> = r.fields().map(|(_, v)| v.to_string()).collect();
    assert_eq!(
        words.join(" "),
        V8_ALL.split_whitespace().collect::<Vec<_>>().join(" ")
    );
}

#[test]
fn dash_is_absent_for_every_field() {
    let dashes = vec!["-"; 40].join(" ");
    let parsed = parse(&dashes, Format::all_fields(8));
    let r = &parsed.records[0];
    assert_eq!(
        r,
        &FlowRecord {
            line: 1,
            ..FlowRecord::default()
        }
    );
    assert!(r.fields().all(|(_, v)| v == FieldValue::Absent));
    assert_eq!(r.community_id(), None);
}

#[test]
fn header_in_any_order() {
    let text = "account-id bytes dstaddr dstport end instance-id packets pkt-dstaddr pkt-srcaddr protocol srcaddr srcport start subnet-id tcp-flags type version vpc-id\n\
                000000000000 6392 172.18.160.93 47460 1568300425 i-06f9249b 10 172.18.160.93 192.168.0.1 6 172.18.160.68 443 1568300367 subnet-089e7569 19 IPv4 3 vpc-0461a061\n";
    let parsed = parse(text, Format::default());
    assert_eq!(
        parsed.counts,
        Counts {
            read: 1,
            parsed: 1,
            headers: 1,
            ..Counts::default()
        }
    );
    let r = &parsed.records[0];
    assert_eq!(r.line, 2);
    assert_eq!(r.account_id, t("000000000000"));
    assert_eq!(r.bytes, Some(6392));
    assert_eq!(r.srcaddr, ip("172.18.160.68"));
    assert_eq!(r.pkt_srcaddr, ip("192.168.0.1"));
    assert_eq!((r.srcport, r.dstport), (Some(443), Some(47460)));
    assert_eq!(r.version, Some(3));
    assert_eq!(r.action, None);
}

#[test]
fn aws_format_strings_and_plain_lists() {
    let aws: Format = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${action} ${log-status}"
        .parse()
        .unwrap();
    let text = "3 eni-1 10.0.0.1 10.0.0.2 ACCEPT OK\n";
    let a = parse(text, aws);
    let b = parse(
        text,
        "version interface-id srcaddr dstaddr action log-status"
            .parse()
            .unwrap(),
    );
    assert_eq!(a.records, b.records);
    assert_eq!(a.records[0].dstaddr, ip("10.0.0.2"));
}

#[test]
fn records_starting_with_ids_are_not_headers() {
    // Custom formats may start with `interface-id`, so records start with `eni-…`.
    let format: Format = "interface-id vpc-id subnet-id".parse().unwrap();
    let parsed = parse("eni-0a1 vpc-0b2 subnet-0c3\n", format);
    assert_eq!(parsed.counts.headers, 0);
    assert_eq!(parsed.records[0].vpc_id, t("vpc-0b2"));
}

#[test]
fn double_spaces_tabs_and_crlf() {
    let text = "2 123456789010 eni-1 10.0.0.62 52.213.180.42 5001 43638  10.0.0.62\t6 967 14 1566933133 1566933193 ACCEPT 19\r\n";
    let format: Format =
        "version account-id interface-id srcaddr dstaddr srcport dstport pkt-srcaddr protocol bytes packets start end action tcp-flags"
            .parse()
            .unwrap();
    let parsed = parse(text, format);
    assert_eq!(parsed.malformed, []);
    assert_eq!(parsed.records[0].dstport, Some(43638));
    assert_eq!(parsed.records[0].tcp_flags, Some(19));
}

#[test]
fn comment_tails_blank_lines_and_comment_lines() {
    let text = "instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr\n\
                \n\
                # a comment line\n\
                i-01234567890123456 eni-1111aaaa2222bbbb3 10.0.1.5 203.0.113.5 10.0.1.5 203.0.113.5 #Traffic from the source instance to host on the internet\n\
                \t  \n\
                - eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5\n";
    let parsed = parse(text, Format::default());
    assert_eq!(parsed.malformed, []);
    assert_eq!(
        parsed.counts,
        Counts {
            read: 2,
            parsed: 2,
            headers: 1,
            ..Counts::default()
        }
    );
    assert_eq!(parsed.records[0].line, 4);
    assert_eq!(parsed.records[0].pkt_dstaddr, ip("203.0.113.5"));
    assert_eq!(parsed.records[1].line, 6);
    assert_eq!(parsed.records[1].instance_id, None);
}

#[test]
fn json_wrapped_lines() {
    let text = r#"{"message":"2 428961148399 eni-0e0bf7be352692297 - - - - - - - 1671029698 1671029728 - NODATA"}
{"id": "1", "timestamp": 1, "message": "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 17 1 40 1 2 ACCEPT OK\n"}
{"version":5,"account_id":"012345678901","srcaddr":"1.2.3.4","srcport":25238.0,"protocol":6.0,"instance_id":"-","traffic_path":null,"tgw_id":"tgw-1"}
"#;
    let parsed = parse(text, Format::default());
    assert_eq!(parsed.malformed, []);
    assert_eq!(
        parsed.counts,
        Counts {
            read: 3,
            parsed: 2,
            nodata: 1,
            ..Counts::default()
        }
    );
    let r = &parsed.records;
    assert_eq!(r[0].log_status, Some(LogStatus::NoData));
    assert_eq!(r[0].start, Some(1_671_029_698));
    assert_eq!(r[1].protocol, Some(17));
    assert_eq!(r[2].version, Some(5));
    assert_eq!(r[2].srcport, Some(25238));
    assert_eq!(r[2].protocol, Some(6));
    assert_eq!(r[2].instance_id, None);
    assert_eq!(r[2].traffic_path, None);
    assert_eq!(r[2].extra("tgw-id"), Some("tgw-1"));
}

#[test]
fn malformed_lines_say_where_and_what() {
    let text = "2 1 eni-1 10.0.0.1 10.0.0.2 abc 2 6 1 40 1 2 ACCEPT OK\n\
                2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT\n\
                2 1 eni-1 10.0.0.999 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK\n\
                2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ALLOW OK\n\
                2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK extra\n\
                2 1 eni-1 10.0.0.1 10.0.0.2 1 70000 6 1 40 1 2 ACCEPT OK\n\
                {\"message\": 3}\n\
                {not json\n\
                2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK\n";
    let parsed = parse(text, Format::default());
    let messages: Vec<String> = parsed.malformed.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        messages[..6],
        [
            "test.log:1:29: `abc` is not a valid `srcport`: expected a port number from 0 to 65535",
            "test.log:2:50: expected 14 fields as in the default version 2 format (`version account-id interface-id … action log-status`), found 13",
            "test.log:3:11: `10.0.0.999` is not a valid `srcaddr`: expected an IPv4 or IPv6 address",
            "test.log:4:44: `ALLOW` is not a valid `action`: expected `ACCEPT` or `REJECT`",
            "test.log:5:54: expected 14 fields as in the default version 2 format (`version account-id interface-id … action log-status`), found 15",
            "test.log:6:31: `70000` is not a valid `dstport`: expected a port number from 0 to 65535",
        ]
    );
    assert_eq!(
        messages[6],
        "test.log:7: expected a JSON object with a `message` string or flow-log fields"
    );
    assert!(
        messages[7].starts_with("test.log:8: invalid JSON: key must be a string"),
        "{}",
        messages[7]
    );
    assert_eq!(parsed.malformed[0].line, 1);
    assert_eq!(parsed.malformed[0].column, Some(29));
    assert!(matches!(
        &parsed.malformed[0].problem,
        Problem::Value { field, value, .. } if field == "srcport" && value == "abc"
    ));
    // The bad lines are counted and skipped; the good one is kept.
    assert_eq!(
        parsed.counts,
        Counts {
            read: 9,
            parsed: 1,
            malformed: 8,
            ..Counts::default()
        }
    );
    assert_eq!(parsed.records[0].line, 9);
    let order: Vec<u64> = parsed
        .in_line_order()
        .map(|e| match e {
            Entry::Record(r) => r.line,
            Entry::Malformed(m) => m.line,
        })
        .collect();
    assert_eq!(order, (1..=9).collect::<Vec<_>>());
}

#[test]
fn header_errors_and_columns_in_characters() {
    let text = "version srcaddr srcaddr\necs-service-name srcaddr\nnaïve 10.0.0.é\n";
    let parsed = parse(text, Format::default());
    let messages: Vec<String> = parsed.malformed.iter().map(|m| m.to_string()).collect();
    assert_eq!(
        messages,
        [
            "test.log:1: invalid header: field `srcaddr` appears twice in the format",
            "test.log:3:7: `10.0.0.é` is not a valid `srcaddr`: expected an IPv4 or IPv6 address",
        ]
    );
    let not_utf8 = parse_chunk(&Chunk::new("x", b"2 \xff\n".to_vec(), Format::default()));
    assert_eq!(
        not_utf8.malformed[0].to_string(),
        "x:1: the line is not UTF-8 text"
    );
}

#[test]
fn header_repeated_mid_stream_switches_format() {
    let text = "version srcaddr dstaddr\n\
                3 10.0.0.1 10.0.0.2\n\
                version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status\n\
                3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789010 - - - - - - - - - - 1566848875 1566848933 - - SKIPDATA\n\
                version srcaddr dstaddr\n\
                3 10.0.0.3 10.0.0.4 extra\n";
    let parsed = parse(text, Format::default());
    assert_eq!(
        parsed.counts,
        Counts {
            read: 3,
            parsed: 1,
            skipdata: 1,
            malformed: 1,
            headers: 3,
            ..Counts::default()
        }
    );
    assert_eq!(parsed.records[1].vpc_id, t("vpc-abcdefab012345678"));
    assert_eq!(parsed.records[1].log_status, Some(LogStatus::SkipData));
    assert!(!parsed.records[1].has_flow_data());
    assert_eq!(
        parsed.malformed[0].to_string(),
        "test.log:6:21: expected 3 fields as in the header at line 5 (`version srcaddr dstaddr`), found 4"
    );
}

#[test]
fn unknown_fields_are_kept_as_text() {
    let format: Format = "version tgw-id srcaddr packets-lost-no-route"
        .parse()
        .unwrap();
    let parsed = parse("6 tgw-0a1 10.0.0.1 -\n", format);
    let r = &parsed.records[0];
    assert_eq!(r.extra("tgw-id"), Some("tgw-0a1"));
    assert_eq!(r.extra("packets-lost-no-route"), None);
    assert_eq!(r.extra.len(), 2);
    assert_eq!(r.srcaddr, ip("10.0.0.1"));
}

#[test]
fn community_id_of_records() {
    let parsed = parse(
        "2 123456789010 eni-1 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK\n\
         2 123456789010 eni-1 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK\n\
         2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA\n",
        Format::default(),
    );
    let ids: Vec<Option<String>> = parsed.records.iter().map(|r| r.community_id()).collect();
    // As Elastic computes them (elastic-vpcflow/test-extra-samples.log-expected.json): ICMP
    // "ports" 0/0 are type 0 (echo reply), paired with type 8.
    assert_eq!(ids[0].as_deref(), Some("1:H//CCQJhRqDUJ9c23S0VrQ+drxU="));
    assert_eq!(ids[1].as_deref(), Some("1:cfQqw/Kh6+4yqhEKgkCw/m3WoJM="));
    assert_eq!(ids[2], None);
}

#[test]
fn records_stay_small() {
    // A chunk holds thousands of records: the rare ECS fields are boxed to keep each small.
    // (512 bytes, then 520 with the log event number of envelope records.)
    let size = std::mem::size_of::<FlowRecord>();
    println!("FlowRecord: {size} bytes");
    assert!(size <= 520, "{size}");
}
