//! Explaining flow-log records through the real parser, model and explainer, and through the
//! built binary.

mod common;

use assert_cmd::Command;
use common::*;
use predicates::prelude::*;
use serde_json::{json, Value};
use std::path::Path;
use vpcreach::explain::{Code, Explainer, Memo, Status};
use vpcreach::flow_log::{parse_chunk, Chunk, Format};
use vpcreach::render::explain::RenderCache;

const V2: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const V5: &str = "version interface-id srcaddr dstaddr srcport dstport protocol start end action tcp-flags pkt-srcaddr pkt-dstaddr flow-direction log-status";

/// Explains the lines (after a header) against a fixture; returns (status, code, json) per line.
fn explain(v: &Value, header: &str, lines: &[&str]) -> Vec<(Status, Code, Value)> {
    let net = build(v);
    let text = format!("{header}\n{}\n", lines.join("\n"));
    let chunk = Chunk::new("flows.log", text.into_bytes(), Format::default());
    let parsed = parse_chunk(&chunk);
    let ex = Explainer::new(&net);
    let slow: Vec<_> = ex
        .explain_chunk(&parsed)
        .iter()
        .map(|e| (e.status, e.code, e.to_json(&net)))
        .collect();
    // The fast path (scan, cache, full explanation only when printed) says the same.
    // Rendering with cached rule pieces (as the binary prints) gives the same text.
    let mut cache = RenderCache::new(&net);
    let mut fast = Vec::new();
    let (tally, counts) = ex.explain_chunk_counted(
        &chunk,
        &mut Memo::default(),
        |_| true,
        |e| {
            for _ in 0..2 {
                assert_eq!(e.to_json_line_with(&mut cache), e.to_json_line(&net));
                assert_eq!(e.message_cached(&mut cache), e.message(&net));
                assert_eq!(
                    vpcreach::render::explain::line_cached(&e, &mut cache, false),
                    vpcreach::render::explain::line(&e, &net, false)
                );
            }
            fast.push((e.status, e.code, e.to_json(&net)))
        },
    );
    assert_eq!(fast, slow);
    assert_eq!(counts, parsed.counts);
    assert_eq!(tally.total(), counts.read);
    slow
}

fn one(v: &Value, header: &str, line: &str) -> (Status, Code, Value) {
    explain(v, header, &[line]).remove(0)
}

/// Checks the snapshot cannot decide: a group it lacks, a subnet without its NACL, a prefix
/// list it lacks; and a response of an untracked flow.
#[test]
fn undecided_checks_name_what_the_snapshot_lacks() {
    let mut v = base();
    v["NetworkInterfaces"].as_array_mut().unwrap().push(eni(
        "eni-lost",
        "subnet-app",
        "10.0.2.40",
        &["sg-gone"],
        None,
        None,
    ));
    // A VPC whose network ACLs the snapshot lacks.
    v["Vpcs"]
        .as_array_mut()
        .unwrap()
        .push(json!({"VpcId": "vpc-b", "CidrBlock": "10.9.0.0/16"}));
    v["Subnets"].as_array_mut().unwrap().push(
        json!({"SubnetId": "subnet-bare", "VpcId": "vpc-b", "CidrBlock": "10.9.4.0/24", "AvailabilityZone": "us-east-1a"}),
    );
    let mut bare = eni(
        "eni-bare",
        "subnet-bare",
        "10.9.4.40",
        &["sg-web"],
        None,
        None,
    );
    bare["VpcId"] = json!("vpc-b");
    v["NetworkInterfaces"].as_array_mut().unwrap().push(bare);
    find(&mut v, "SecurityGroups", "GroupId", "sg-db")["IpPermissions"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"IpProtocol": "tcp", "FromPort": 6432, "ToPort": 6432,
                     "PrefixListIds": [{"PrefixListId": "pl-gone"}]}),
        );
    let out = explain(
        &v,
        V2,
        &[
            "2 1 eni-lost 10.0.1.10 10.0.2.40 40000 22 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-bare 198.51.100.7 10.9.4.40 40000 443 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-db 10.0.2.20 10.0.3.30 40000 6432 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web 198.51.100.7 10.0.1.10 443 40000 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web 10.0.1.10 198.51.100.7 443 40000 6 5 500 100 160 ACCEPT OK",
        ],
    );
    let texts: Vec<String> = out
        .iter()
        .map(|(_, _, j)| j["decided_by"].to_string())
        .collect();
    assert!(
        texts[0].contains("attached groups are not in the snapshot"),
        "{}",
        texts[0]
    );
    assert!(
        texts[1].contains("the subnet's network ACL is not in the snapshot"),
        "{:?}",
        out[1]
    );
    assert!(
        texts[2].contains("pl-gone which is not in the snapshot"),
        "{}",
        texts[2]
    );
    assert_eq!(out[2].1, Code::UnknownPrefixList);
    assert!(texts[4].contains("tracking"), "{}", texts[4]);
}

#[test]
fn inbound_request_accepted_names_nacl_and_sg_rules() {
    let (s, c, j) = one(
        &base(),
        V2,
        "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
    );
    assert_eq!((s, c), (Status::Consistent, Code::Allowed), "{j}");
    assert_eq!(j["direction"], "inbound");
    assert_eq!(j["role"], "request");
    assert_eq!(j["expected"], "ACCEPT");
    let d = j["decided_by"].as_array().unwrap();
    assert_eq!(d[0]["layer"], "network_acl");
    assert_eq!(d[0]["rule_number"], 100);
    assert_eq!(d[1]["layer"], "security_group");
    assert_eq!(d[1]["resources"][0], "sg-web");
    assert!(
        j["message"]
            .as_str()
            .unwrap()
            .contains("sg-web rule tcp/443 from 0.0.0.0/0"),
        "{j}"
    );
}

#[test]
fn rejected_by_security_group_lists_every_group() {
    let (s, c, j) = one(
        &base(),
        V2,
        "2 1 eni-web 198.51.100.7 10.0.1.10 40000 22 6 5 500 100 160 REJECT OK",
    );
    assert_eq!((s, c), (Status::Consistent, Code::SgRulesMismatch), "{j}");
    let d = j["decided_by"].as_array().unwrap();
    let sg = d.iter().find(|x| x["layer"] == "security_group").unwrap();
    assert_eq!(sg["decision"], "deny");
    assert_eq!(sg["resources"], json!(["sg-web"]));
}

#[test]
fn rejected_by_a_nacl_rule_names_its_number() {
    let mut v = base();
    let acl = find(&mut v, "NetworkAcls", "NetworkAclId", "acl-default");
    acl["Entries"].as_array_mut().unwrap().push(json!(
        {"RuleNumber": 90, "Protocol": "6", "RuleAction": "deny", "Egress": false, "CidrBlock": "192.0.2.128/25", "PortRange": {"From": 443, "To": 443}}));
    let (s, c, j) = one(
        &v,
        V2,
        "2 1 eni-web 192.0.2.200 10.0.1.10 40000 443 6 5 500 100 160 REJECT OK",
    );
    assert_eq!(
        (s, c),
        (Status::Consistent, Code::SubnetAclRestriction),
        "{j}"
    );
    assert_eq!(j["decided_by"][0]["rule_number"], 90);
    assert_eq!(
        j["decided_by"].as_array().unwrap().len(),
        1,
        "the SG is never reached"
    );
    let msg = j["message"].as_str().unwrap();
    assert!(
        msg.contains("rule 90 (deny tcp/443 from 192.0.2.128/25)") && msg.contains("on the way in"),
        "{msg}"
    );
}

#[test]
fn response_rejected_for_lack_of_an_ephemeral_rule() {
    let mut v = base();
    // db's NACL: 5432 in from the VPC, and out only to Linux ephemeral ports.
    v["NetworkAcls"].as_array_mut().unwrap().push(json!({"NetworkAclId": "acl-db", "VpcId": "vpc-a",
        "Associations": [{"SubnetId": "subnet-db"}], "Entries": [
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": false, "CidrBlock": "10.0.0.0/16", "PortRange": {"From": 5432, "To": 5432}},
        {"RuleNumber": 100, "Protocol": "6", "RuleAction": "allow", "Egress": true, "CidrBlock": "10.0.0.0/16", "PortRange": {"From": 32768, "To": 60999}}]}));
    find(&mut v, "NetworkAcls", "NetworkAclId", "acl-default")["Associations"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a["SubnetId"] != "subnet-db");
    let rows = explain(
        &v,
        V2,
        &[
            "2 1 eni-db 10.0.2.20 10.0.3.30 61500 5432 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-db 10.0.3.30 10.0.2.20 5432 61500 6 5 500 100 160 REJECT OK",
            "2 1 eni-db 10.0.3.30 10.0.2.20 5432 40000 6 5 500 100 160 ACCEPT OK",
        ],
    );
    assert_eq!(
        (rows[0].0, rows[0].1),
        (Status::Consistent, Code::Allowed),
        "{}",
        rows[0].2
    );
    let (s, c, j) = &rows[1];
    assert_eq!(
        (*s, *c),
        (Status::Consistent, Code::SubnetAclRestriction),
        "{j}"
    );
    assert_eq!(j["role"], "response");
    assert_eq!(j["direction"], "outbound");
    let d = j["decided_by"].as_array().unwrap();
    // The response is allowed by tracking (the request's rule), then the NACL's `*` rule denies.
    assert_eq!(d[0]["tracking"], "tracked");
    assert_eq!(d[0]["resources"][0], "sg-db");
    assert_eq!(d[1]["rule_number"], 32767);
    assert_eq!(rows[2].0, Status::Consistent, "{}", rows[2].2);
}

#[test]
fn same_subnet_traffic_skips_the_nacl() {
    let mut v = base();
    let acl = find(&mut v, "NetworkAcls", "NetworkAclId", "acl-default");
    acl["Entries"] = json!([]);
    find(&mut v, "SecurityGroups", "GroupId", "sg-app")["IpPermissions"] =
        json!([{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": "sg-app"}]}]);
    let (s, _, j) = one(
        &v,
        V2,
        "2 1 eni-app2 10.0.2.20 10.0.2.22 40000 9000 6 5 500 100 160 ACCEPT OK",
    );
    assert_eq!(s, Status::Consistent, "{j}");
    assert!(j["decided_by"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d["layer"] != "network_acl"));
    assert!(j["message"].as_str().unwrap().contains("same subnet"));
    // From another subnet the empty NACL's `*` rule rejects it.
    let (s, c, _) = one(
        &v,
        V2,
        "2 1 eni-app2 10.0.3.30 10.0.2.22 40000 9000 6 5 500 100 160 REJECT OK",
    );
    assert_eq!((s, c), (Status::Consistent, Code::SubnetAclRestriction));
}

#[test]
fn contradictions_say_what_could_explain_them() {
    // Expected REJECT, observed ACCEPT: a long-lived tracked connection (aws-semantics 8).
    let (s, c, j) = one(
        &base(),
        V2,
        "2 1 eni-web 198.51.100.7 10.0.1.10 40000 22 6 5 500 100 160 ACCEPT OK",
    );
    assert_eq!((s, c), (Status::Contradiction, Code::SgRulesMismatch));
    let hints = j["hints"].as_array().unwrap();
    assert!(
        hints
            .iter()
            .any(|h| h.as_str().unwrap().contains("tracked connection")),
        "{j}"
    );
    assert!(j["message"]
        .as_str()
        .unwrap()
        .contains("expected REJECT but observed ACCEPT"));
    // Expected ACCEPT, observed REJECT with FIN: packets after the connection closed.
    let (s, _, j) = one(&base(), V5, "5 eni-web 198.51.100.7 10.0.1.10 40000 443 6 100 160 REJECT 1 198.51.100.7 10.0.1.10 ingress OK");
    assert_eq!(s, Status::Contradiction);
    assert!(
        j["hints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h.as_str().unwrap().contains("after the connection closed")),
        "{j}"
    );
}

#[test]
fn unknown_interfaces_and_references_are_unknown_never_guessed() {
    let (s, c, _) = one(
        &base(),
        V2,
        "2 1 eni-nothere 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
    );
    assert_eq!((s, c), (Status::Unknown, Code::UnknownEni));
    let mut v = base();
    find(&mut v, "SecurityGroups", "GroupId", "sg-db")["IpPermissions"] = json!([{"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": "sg-elsewhere"}]}]);
    let (s, c, j) = one(
        &v,
        V2,
        "2 1 eni-db 10.0.2.20 10.0.3.30 40000 5432 6 5 500 100 160 ACCEPT OK",
    );
    assert_eq!((s, c), (Status::Unknown, Code::UnknownPeeredSgs), "{j}");
    assert_eq!(j["expected"], Value::Null);
}

#[test]
fn nodata_and_skipdata_are_skipped() {
    let rows = explain(
        &base(),
        V2,
        &[
            "2 1 eni-web - - - - - - - 100 160 - NODATA",
            "2 1 eni-web - - - - - - - 100 160 - SKIPDATA",
        ],
    );
    assert_eq!((rows[0].0, rows[0].1), (Status::Skipped, Code::NoData));
    assert_eq!((rows[1].0, rows[1].1), (Status::Skipped, Code::SkipData));
}

#[test]
fn role_evidence_flags_then_opposite_record_then_ports() {
    let v = base();
    // tcp-flags SYN-ACK: a response even though the ports look like a request.
    let (_, _, j) = one(&v, V5, "5 eni-web 10.0.1.10 198.51.100.7 40000 443 6 100 160 ACCEPT 18 10.0.1.10 198.51.100.7 egress OK");
    assert_eq!(
        (j["role"].clone(), j["role_evidence"].clone()),
        (json!("response"), json!("tcp-flags"))
    );
    // The opposite direction was seen first: this one is the response.
    let rows = explain(
        &v,
        V2,
        &[
            "2 1 eni-web 198.51.100.7 10.0.1.10 0 0 1 4 336 100 160 ACCEPT OK",
            "2 1 eni-web 10.0.1.10 198.51.100.7 0 0 1 4 336 130 160 ACCEPT OK",
        ],
    );
    assert_eq!(rows[1].2["role"], "response");
    assert_eq!(
        rows[1].2["role_evidence"],
        "first seen after the opposite direction"
    );
    let roles = |rows: &[(Status, Code, Value)]| -> Vec<(String, String)> {
        rows.iter()
            .map(|r| {
                (
                    r.2["role"].as_str().unwrap_or_default().to_string(),
                    r.2["role_evidence"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect()
    };
    let role = |r: &str, e: &str| (r.to_string(), e.to_string());
    // A long-lived connection has a record per window in each direction, and after the first
    // window either side may send first: every record is judged by its flow's first records
    // (the server's data starts before the client's in the third window), including a window
    // where the other direction sent nothing.
    let rows = explain(
        &v,
        V2,
        &[
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 50000 6 4 336 100 160 ACCEPT OK",
            "2 1 eni-web 10.0.1.10 198.51.100.7 50000 40000 6 4 336 105 165 ACCEPT OK",
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 50000 6 4 336 160 220 ACCEPT OK",
            "2 1 eni-web 10.0.1.10 198.51.100.7 50000 40000 6 4 336 165 225 ACCEPT OK",
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 50000 6 4 336 230 290 ACCEPT OK",
            "2 1 eni-web 10.0.1.10 198.51.100.7 50000 40000 6 4 336 222 282 ACCEPT OK",
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 50000 6 4 336 900 960 ACCEPT OK",
        ],
    );
    let (req, resp) = (
        role("request", "first seen before the opposite direction"),
        role("response", "first seen after the opposite direction"),
    );
    assert_eq!(
        roles(&rows),
        [
            req.clone(),
            resp.clone(),
            req.clone(),
            resp.clone(),
            req.clone(),
            resp,
            req
        ]
    );
    // With tcp-flags (v5), only the first window carries SYN and SYN-ACK: later windows are
    // judged by them, whichever direction starts first; a direction seen alone by its own
    // earlier records.
    let rows = explain(
        &v,
        V5,
        &[
            "5 eni-web 198.51.100.7 10.0.1.10 40000 50000 6 100 160 ACCEPT 2 198.51.100.7 10.0.1.10 ingress OK",
            "5 eni-web 10.0.1.10 198.51.100.7 50000 40000 6 100 160 ACCEPT 18 10.0.1.10 198.51.100.7 egress OK",
            "5 eni-web 10.0.1.10 198.51.100.7 50000 40000 6 160 220 ACCEPT 0 10.0.1.10 198.51.100.7 egress OK",
            "5 eni-web 198.51.100.7 10.0.1.10 40000 50000 6 161 220 ACCEPT 0 198.51.100.7 10.0.1.10 ingress OK",
            "5 eni-web 198.51.100.7 10.0.1.11 40001 50000 6 100 160 ACCEPT 2 198.51.100.7 10.0.1.11 ingress OK",
            "5 eni-web 198.51.100.7 10.0.1.11 40001 50000 6 160 220 ACCEPT 0 198.51.100.7 10.0.1.11 ingress OK",
        ],
    );
    assert_eq!(
        roles(&rows),
        [
            role("request", "tcp-flags"),
            role("response", "tcp-flags"),
            role("response", "tcp-flags of the opposite direction"),
            role("request", "tcp-flags of the opposite direction"),
            role("request", "tcp-flags"),
            role("request", "tcp-flags of this direction's other records"),
        ]
    );
    // Ports alone.
    let (_, _, j) = one(
        &v,
        V2,
        "2 1 eni-web 10.0.1.10 198.51.100.7 443 50123 6 5 500 100 160 ACCEPT OK",
    );
    assert_eq!(j["role"], "response");
    assert_eq!(j["role_evidence"], "source port is a service port");
    // Direction from flow-direction, or from which address is the ENI's.
    assert_eq!(j["direction"], "outbound");
    assert_eq!(j["direction_evidence"], "source address is the ENI's");
}

#[test]
fn nat_gateway_records_use_packet_addresses_and_no_security_group() {
    let v = base();
    let h = "interface-id srcaddr dstaddr srcport dstport protocol pkt-srcaddr pkt-dstaddr action log-status";
    let (s, _, j) = one(
        &v,
        h,
        "eni-nat 10.0.1.5 203.0.113.5 1055 443 6 10.0.1.5 203.0.113.5 ACCEPT OK",
    );
    assert_eq!(s, Status::Consistent, "{j}");
    assert_eq!(j["direction"], "outbound");
    let d = j["decided_by"].as_array().unwrap();
    assert!(d.iter().all(|x| x["layer"] == "network_acl"), "{j}");
    // Inbound from the instance: the peer is the instance, the destination the internet host.
    let (s, _, j) = one(
        &v,
        h,
        "eni-nat 10.0.2.20 10.0.1.5 40000 443 6 10.0.2.20 203.0.113.5 ACCEPT OK",
    );
    assert_eq!(s, Status::Consistent, "{j}");
    assert_eq!(j["direction"], "inbound");
}

#[test]
fn untracked_responses_are_marked() {
    let v = base();
    let rows = explain(&v, V5, &[
        "5 eni-web 198.51.100.7 10.0.1.10 40000 443 6 100 160 ACCEPT 2 198.51.100.7 10.0.1.10 ingress OK",
        "5 eni-web 10.0.1.10 198.51.100.7 443 40000 6 100 160 ACCEPT 18 10.0.1.10 198.51.100.7 egress OK",
    ]);
    assert_eq!(
        rows[1].2["decided_by"][0]["tracking"], "untracked",
        "{}",
        rows[1].2
    );
    assert_eq!(rows[1].0, Status::Consistent);
}

// ---- the binary --------------------------------------------------------------------------

fn flows_file(dir: &Path, name: &str, lines: &[&str]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("{V2}\n{}\n", lines.join("\n"))).unwrap();
    p
}

fn bin() -> Command {
    let mut c = Command::cargo_bin("vpcreach").unwrap();
    c.env("NO_COLOR", "1");
    c
}

#[test]
fn contradictions_compare_the_snapshot_time_with_the_record() {
    let mut net = build(&base());
    let text = format!(
        "{V2}\n2 1 eni-web 198.51.100.7 10.0.1.10 40000 22 6 5 500 1700000000 1700000060 ACCEPT OK\n"
    );
    let chunk = Chunk::new("flows.log", text.into_bytes(), Format::default());
    let parsed = parse_chunk(&chunk);
    let hints = |net: &vpcreach::Network| -> Vec<String> {
        let e = Explainer::new(net).explain_chunk(&parsed).remove(0);
        assert_eq!(e.status, Status::Contradiction);
        e.hints.iter().map(|h| h.to_string()).collect()
    };
    // Unknown time: the hint says how to give it.
    assert!(hints(&net).iter().any(|h| h.contains("--snapshot-time")));
    // Taken two days after the record ended.
    net.snapshot_time = Some(1_700_000_060 + 2 * 86_400 + 3 * 3600);
    let h = hints(&net);
    assert!(
        h.iter().any(|h| h.contains(
            "the snapshot was taken 2 d 3 h after this record ended (2023-11-17T01:14:20Z)"
        )),
        "{h:?}"
    );
    assert!(!h.iter().any(|h| h.contains("--snapshot-time")), "{h:?}");
    // Taken 15 minutes before the record started.
    net.snapshot_time = Some(1_700_000_000 - 900);
    assert!(
        hints(&net)
            .iter()
            .any(|h| h.contains("taken 15 min before this record started")),
        "{:?}",
        hints(&net)
    );
    // Taken within the record's minute.
    net.snapshot_time = Some(1_700_000_030);
    assert!(hints(&net)
        .iter()
        .any(|h| h.contains("taken during this record's interval")));
}

/// The opposite direction of a record's flow tells its role even when the reader's chunk edge
/// (every megabyte) falls between the two: the binary reads the lines around each chunk for
/// them. Both parities of pairs against the edge are tried.
#[test]
fn cli_pairs_opposite_records_across_chunk_edges() {
    let snap = snapshot_dir(&base());
    let d = tempfile::tempdir().unwrap();
    for shift in [false, true] {
        let mut text = format!("{V2}\n");
        if shift {
            text += "2 1 eni-web - - - - - - - 100 160 - NODATA\n";
        }
        let mut pairs = 0;
        while text.len() < (1 << 20) + 100_000 {
            // Neither port is a service port, and the lower one is the client's: ports alone
            // would call the request a response.
            let (peer, port) = (pairs / 20_000, 30_000 + pairs % 20_000);
            text += &format!(
                "2 1 eni-web 198.51.100.{peer} 10.0.1.10 {port} 50000 6 4 336 100 160 ACCEPT OK\n\
                 2 1 eni-web 10.0.1.10 198.51.100.{peer} 50000 {port} 6 4 336 105 165 ACCEPT OK\n"
            );
            pairs += 1;
        }
        let file = d.path().join(format!("pairs-{shift}.log"));
        std::fs::write(&file, &text).unwrap();
        let out = bin()
            .args(["explain", "--output", "jsonl", "--snapshot"])
            .arg(snap.path())
            .arg(&file)
            .output()
            .unwrap();
        let lines: Vec<Value> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|v: &Value| v["status"] != "skipped")
            .collect();
        assert_eq!(lines.len(), 2 * pairs);
        for (i, v) in lines.iter().enumerate() {
            let want = if i % 2 == 0 {
                ("request", "first seen before the opposite direction")
            } else {
                ("response", "first seen after the opposite direction")
            };
            assert_eq!(
                (v["role"].as_str(), v["role_evidence"].as_str()),
                (Some(want.0), Some(want.1)),
                "shift {shift}, line {}",
                v["line"]
            );
        }
    }
}

/// Writes CloudWatch Logs envelopes, one per batch of messages, as Firehose writes them: back
/// to back, gzipped, without line ends. Returns the file's length before compression.
fn write_firehose_gz(path: &Path, batches: &[(&str, &[&str])]) -> usize {
    use std::io::Write;
    let mut text = String::new();
    for (n, (stream, messages)) in batches.iter().enumerate() {
        let events: Vec<Value> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| json!({"id": format!("{n}-{i}"), "timestamp": 1, "message": m}))
            .collect();
        text += &json!({"messageType": "DATA_MESSAGE", "owner": "1", "logGroup": "flows",
               "logStream": stream, "subscriptionFilters": ["all"], "logEvents": events})
        .to_string();
    }
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    text.len()
}

/// `explain --output jsonl` through the binary, which finds a contradiction: the printed
/// objects and standard error.
fn explain_jsonl(snap: &Path, file: &Path) -> (Vec<Value>, String) {
    // Every status, malformed lines included (printed on stdout only when asked for).
    let out = bin()
        .args([
            "explain",
            "--output",
            "jsonl",
            "--only",
            "consistent,contradiction,unknown,skipped,malformed",
            "--snapshot",
        ])
        .arg(snap)
        .arg(file)
        .assert()
        .code(1)
        .get_output()
        .clone();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect();
    (lines, String::from_utf8(out.stderr).unwrap())
}

/// Firehose objects hold megabytes of envelopes on one line: the reader cuts the line between
/// envelopes, and every record is still explained, numbered along the line, as in a plain file.
#[test]
fn cli_reads_megabytes_of_firehose_envelopes_on_one_line() {
    let snap = snapshot_dir(&base());
    let d = tempfile::tempdir().unwrap();
    let records = [
        "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
        "2 1 eni-web 198.51.100.7 10.0.1.10 40000 22 6 5 500 100 160 ACCEPT OK",
        "2 1 eni-web - - - - - - - 100 160 - NODATA",
        "2 1 eni-web 198.51.100.7 10.0.1.10 40000 http 6 5 500 100 160 ACCEPT OK",
    ];
    let many: Vec<&str> = records.iter().cycle().take(4 * 6000).copied().collect();
    let plain = flows_file(d.path(), "plain.log", &many);
    let gz = d.path().join("firehose-big.gz");
    let batches: Vec<(&str, &[&str])> = many.chunks(50).map(|b| ("s", b)).collect();
    let len = write_firehose_gz(&gz, &batches);
    assert!(len > 2 << 20, "{len} bytes");
    let ((mut from_plain, plain_err), (mut from_firehose, firehose_err)) = (
        explain_jsonl(snap.path(), &plain),
        explain_jsonl(snap.path(), &gz),
    );
    assert_eq!(from_plain.len(), many.len());
    assert_eq!(from_firehose.len(), many.len());
    for (k, (p, f)) in from_plain.iter_mut().zip(&mut from_firehose).enumerate() {
        let p = p.as_object_mut().unwrap();
        let f = f.as_object_mut().unwrap();
        assert_eq!(p.remove("line"), Some(json!(k + 2)));
        assert_eq!(f.remove("line"), Some(json!(1)));
        assert_eq!(f.remove("event"), Some(json!(k + 1)), "record {k}");
        p.remove("file");
        f.remove("file");
        if p["status"] == "malformed" {
            // Placed by line and column in the plain file, by log event on the Firehose line.
            let (pm, fm) = (p.remove("message").unwrap(), f.remove("message").unwrap());
            assert!(pm.as_str().unwrap().ends_with(&format!("plain.log:{}:42: `http` is not a valid `dstport`: expected a port number from 0 to 65535", k + 2)), "{pm}");
            assert!(fm.as_str().unwrap().ends_with(&format!("firehose-big.gz:1: log event {}: `http` is not a valid `dstport`: expected a port number from 0 to 65535", k + 1)), "{fm}");
        }
        assert!(p == f, "record {k}: {p:?} != {f:?}");
    }
    // The same summary: 6,000 malformed records (port `http`), 6,000 NODATA.
    let summary = |e: &str| {
        e.lines()
            .skip_while(|l| !l.contains("records read"))
            .map(String::from)
            .collect::<Vec<_>>()
    };
    // The last malformed event is among the records above; on stderr the first ten malformed
    // lines of a file are shown and the rest counted (issue 12, item 9).
    assert!(
        firehose_err.contains("log event 40: `http` is not a valid `dstport`"),
        "{firehose_err}"
    );
    assert!(
        firehose_err.contains("5990 more malformed line(s) not shown"),
        "{firehose_err}"
    );
    assert_eq!(summary(&firehose_err), summary(&plain_err));
    assert!(!summary(&plain_err).is_empty(), "{plain_err}");
}

#[test]
fn cli_reads_cloudwatch_subscription_envelopes_from_firehose_gzip() {
    let snap = snapshot_dir(&base());
    let d = tempfile::tempdir().unwrap();
    let records = [
        "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
        "2 1 eni-web 198.51.100.7 10.0.1.10 40000 22 6 5 500 100 160 ACCEPT OK",
        "2 1 eni-web - - - - - - - 100 160 - NODATA",
    ];
    let plain = flows_file(d.path(), "plain.log", &records);
    let gz = d.path().join("firehose-1.gz");
    write_firehose_gz(&gz, &[("a", &records[..2]), ("b", &records[2..])]);
    // Where each record is: its line, and on a line of several records, its log event.
    let place = |v: &mut Value| {
        let o = v.as_object_mut().unwrap();
        o.remove("file");
        (o.remove("line").unwrap(), o.remove("event"))
    };
    let (mut from_plain, mut from_firehose) = (
        explain_jsonl(snap.path(), &plain).0,
        explain_jsonl(snap.path(), &gz).0,
    );
    let plain_at: Vec<_> = from_plain.iter_mut().map(place).collect();
    let firehose_at: Vec<_> = from_firehose.iter_mut().map(place).collect();
    assert_eq!(
        plain_at,
        [(json!(2), None), (json!(3), None), (json!(4), None)]
    );
    // The events are numbered along the line, across its envelopes.
    assert_eq!(
        firehose_at,
        [
            (json!(1), Some(json!(1))),
            (json!(1), Some(json!(2))),
            (json!(1), Some(json!(3)))
        ]
    );
    assert_eq!(from_plain.len(), 3);
    assert_eq!(from_firehose, from_plain);
    assert_eq!(from_firehose[1]["status"], "contradiction");
    // `parse` says the same places, and human output names the event.
    let parsed = bin()
        .args(["parse", "--output", "jsonl"])
        .arg(&gz)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let events: Vec<(Value, Value)> = String::from_utf8(parsed)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["line"].clone(), v["event"].clone())
        })
        .collect();
    // The third event, NODATA, is printed too (issue 12, item 8).
    assert_eq!(
        events,
        [
            (json!(1), json!(1)),
            (json!(1), json!(2)),
            (json!(1), json!(3))
        ]
    );
    bin()
        .args(["explain", "--only", "contradiction", "--snapshot"])
        .arg(snap.path())
        .arg(&gz)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "firehose-1.gz:1 event 2  CONTRADICTION",
        ));
}

#[test]
fn cli_snapshot_time_reaches_hints_and_summary() {
    let snap = snapshot_dir(&base());
    let d = tempfile::tempdir().unwrap();
    let flows = flows_file(
        d.path(),
        "late.log",
        &["2 1 eni-web 198.51.100.7 10.0.1.10 40000 22 6 5 500 1700000000 1700000060 ACCEPT OK"],
    );
    let out = bin()
        .args([
            "explain",
            "--output",
            "json",
            "--snapshot-time",
            "2023-11-14T00:00:00Z",
            "--snapshot",
        ])
        .arg(snap.path())
        .arg(&flows)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["summary"]["snapshot_time"], "2023-11-14T00:00:00Z");
    let hints = v["records"][0]["hints"].to_string();
    assert!(
        hints.contains("the snapshot was taken 22 h 13 min before this record started"),
        "{hints}"
    );
    bin()
        .args(["explain", "--snapshot-time", "yesterday", "--snapshot"])
        .arg(snap.path())
        .arg(&flows)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("RFC 3339"));
}

#[test]
fn cli_exit_codes_only_filter_and_totals() {
    let snap = snapshot_dir(&base());
    let d = tempfile::tempdir().unwrap();
    let ok = flows_file(
        d.path(),
        "ok.log",
        &[
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web - - - - - - - 100 160 - NODATA",
        ],
    );
    bin()
        .args(["explain", "--snapshot"])
        .arg(snap.path())
        .arg(&ok)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("consistent"))
        .stderr(predicate::str::contains(
            "2 records read: 1 consistent, 0 contradiction, 0 unknown, 1 skipped",
        ));
    let bad = flows_file(
        d.path(),
        "bad.log",
        &[
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 22 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web 198.51.100.7 10.0.1.10 40000 443 6 5 500 100 160 ACCEPT OK",
            "2 1 eni-web 198.51.100.7 10.0.1.10 4x000 443 6 5 500 100 160 ACCEPT OK",
        ],
    );
    let out = bin()
        .args([
            "explain",
            "--output",
            "jsonl",
            "--only",
            "contradiction,malformed",
            "--snapshot",
        ])
        .arg(snap.path())
        .arg(&bad)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.log:4:"))
        .get_output()
        .stdout
        .clone();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["status"], "contradiction");
    assert_eq!(lines[0]["line"], 2);
    assert_eq!(lines[1]["status"], "malformed");
    assert_eq!(lines[1]["line"], 4);
    // --strict: the malformed line is an error.
    bin()
        .args(["explain", "--strict", "--snapshot"])
        .arg(snap.path())
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.log:4:"));
    // json: records and a summary whose counts add up to the records read.
    let out = bin()
        .args(["explain", "--output", "json", "--rule-usage", "--snapshot"])
        .arg(snap.path())
        .arg(&bad)
        .arg(&ok)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc: Value = serde_json::from_slice(&out).unwrap();
    // The malformed line is reported on stderr, not as a record (issue 12, item 11); the
    // summary still counts it.
    assert_eq!(doc["records"].as_array().unwrap().len(), 4);
    let s = &doc["summary"];
    let sum: u64 = s["by_status"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(sum, s["records_read"].as_u64().unwrap());
    assert_eq!(sum, 5);
    let usage = s["rule_usage"].as_array().unwrap();
    assert!(
        usage.iter().any(|u| u["resource"] == "sg-web"
            && u["hits"] == 2
            && u["used_peers"][0] == "198.51.100.7/32"),
        "{usage:?}"
    );
    assert!(usage
        .iter()
        .any(|u| u["resource"] == "sg-web" && u["direction"] == "outbound" && u["hits"] == 0));
    // Errors: a missing snapshot.
    bin()
        .args(["explain", "--snapshot", "/nonexistent/snap"])
        .arg(&ok)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot load the snapshot"))
        // The OS error is said once, not once per layer that carries it.
        .stderr(predicate::function(|e: &str| {
            e.matches("No such file or directory").count() == 1
        }));
}

#[test]
fn aws_ping_example_request_accepted_reply_rejected_by_nacl() {
    let Some(dir) = std::env::var_os("VPCREACH_CONFORMANCE_DIR") else {
        panic!(
            "VPCREACH_CONFORMANCE_DIR is not set: run the tests with `bash .ci/run`, which sets it"
        );
    };
    let file = Path::new(&dir).join("aws-doc-flow-examples/03_sg_nacl_icmp.log");
    assert!(file.is_file(), "{} is missing", file.display());
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws-ping");
    let out = bin()
        .args(["explain", "--output", "jsonl", "--snapshot"])
        .arg(&snap)
        .arg(&file)
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let rows: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (
            rows[0]["status"].as_str(),
            rows[0]["observed"].as_str(),
            rows[0]["direction"].as_str(),
            rows[0]["role"].as_str()
        ),
        (
            Some("consistent"),
            Some("ACCEPT"),
            Some("inbound"),
            Some("request")
        )
    );
    assert_eq!(
        (
            rows[1]["status"].as_str(),
            rows[1]["observed"].as_str(),
            rows[1]["direction"].as_str(),
            rows[1]["role"].as_str()
        ),
        (
            Some("consistent"),
            Some("REJECT"),
            Some("outbound"),
            Some("response")
        )
    );
    assert_eq!(rows[1]["reason"], "SUBNET_ACL_RESTRICTION");
    let deny = rows[1]["decided_by"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["decision"] == "deny")
        .unwrap();
    assert_eq!(deny["layer"], "network_acl");
    assert_eq!(deny["direction"], "outbound");
}

#[test]
fn human_summary_lists_the_most_used_rules_and_rule_usage_lists_all() {
    use vpcreach::testkit::synth::{write_flow_log, write_snapshot, SynthSpec};
    let d = tempfile::tempdir().unwrap();
    let spec = SynthSpec::quota(30);
    let snap = d.path().join("snap");
    write_snapshot(&spec, &snap).unwrap();
    let flows = d.path().join("flows.log");
    write_flow_log(&spec, 20_000, &flows, 3).unwrap();
    let run = |extra: &[&str]| -> String {
        let out = bin()
            .args(["explain", "--only", "unknown", "--snapshot"])
            .arg(&snap)
            .arg(&flows)
            .args(extra)
            .output()
            .unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{out:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    // The rule lines of a summary section: indented, a count first.
    let section = |text: &str, title: &str| -> Vec<u64> {
        text.lines()
            .skip_while(|l| !l.starts_with(title))
            .skip(1)
            .take_while(|l| l.starts_with("  "))
            .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
            .collect()
    };
    let short = run(&[]);
    let title = short
        .lines()
        .find(|l| l.starts_with("rule hits (the 20 most used of "))
        .unwrap_or_else(|| panic!("{short}"));
    let with_hits: usize = title
        .trim_start_matches("rule hits (the 20 most used of ")
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let top = section(&short, "rule hits");
    assert_eq!(top.len(), 20);
    assert!(top.windows(2).all(|w| w[0] >= w[1]), "{top:?}");
    // --rule-usage lists every rule of the ENIs seen: more than those with hits.
    let every = section(&run(&["--rule-usage"]), "rule usage (every rule");
    assert!(
        with_hits > 20 && every.len() > with_hits,
        "{with_hits} {}",
        every.len()
    );
    assert_eq!(every.iter().filter(|&&h| h > 0).count(), with_hits);
    // The most used rule is the same rule either way.
    assert_eq!(top[0], *every.iter().max().unwrap());
}

#[test]
fn names_from_aws_reach_the_terminal_summary_without_control_characters() {
    let mut net = base();
    net["SecurityGroups"][0]["GroupName"] = json!("web\u{1b}[31mred\u{7}");
    let snap = snapshot_dir(&net);
    let d = tempfile::tempdir().unwrap();
    // eni-app admits tcp/8080 from the members of sg-web, whose name is hostile.
    let flows = flows_file(
        d.path(),
        "f.log",
        &["2 1 eni-app 10.0.1.10 10.0.2.20 40000 8080 6 5 500 100 160 ACCEPT OK"],
    );
    let out = bin()
        .args(["explain", "--snapshot"])
        .arg(snap.path())
        .arg(&flows)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text}"
        );
    }
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("from sg-web (web?[31mred?)"), "{summary}");
}
