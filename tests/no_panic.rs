//! Every parser of outside input survives arbitrary and mutated input: it answers with a value or
//! an error, never a panic (the fuzzing habit of the style guide, run as property tests).

use proptest::prelude::*;
use std::path::Path;
use vpcreach::explain::{Explainer, Memo, Status};
use vpcreach::flow_log::{parse_line, ChunkReader, Counts, Format};
use vpcreach::policy::PolicyFile;
use vpcreach::{Network, Snapshot};

const FLOW: &str = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
const SNAPSHOT: &str = r#"{"Vpcs":[{"VpcId":"vpc-1","CidrBlock":"10.0.0.0/16"}],"Subnets":[{"SubnetId":"subnet-1","VpcId":"vpc-1","CidrBlock":"10.0.1.0/24"}],"SecurityGroups":[{"GroupId":"sg-1","GroupName":"a","IpPermissions":[{"IpProtocol":"tcp","FromPort":22,"ToPort":22,"IpRanges":[{"CidrIp":"0.0.0.0/0"}]}]}],"NetworkAcls":[{"NetworkAclId":"acl-1","VpcId":"vpc-1","IsDefault":true,"Entries":[{"RuleNumber":100,"Protocol":"-1","RuleAction":"allow","Egress":false,"CidrBlock":"0.0.0.0/0"}]}],"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1","SubnetId":"subnet-1","PrivateIpAddress":"10.0.1.5","Groups":[{"GroupId":"sg-1"}]}]}"#;
const POLICY: &str = "mode = \"denylist\"\n[groups.web]\nsecurity_groups = [\"web\"]\n[[statement]]\nid = \"a\"\ndescription = \"d\"\nseverity = \"high\"\nkind = \"deny\"\nfrom = \"internet\"\nto = \"web\"\ntraffic = [\"tcp/22\"]\n";

/// A copy of `base` with one span replaced by `insert`.
fn mutate(base: &str, at: usize, len: usize, insert: &str) -> String {
    let chars: Vec<char> = base.chars().collect();
    let at = at % (chars.len() + 1);
    let end = (at + len).min(chars.len());
    let mut s: String = chars[..at].iter().collect();
    s.push_str(insert);
    s.extend(&chars[end..]);
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn flow_lines_never_panic(line in ".{0,200}", at in 0usize..200, len in 0usize..8, ins in "[-0-9a-z .:{}\"\\[\\]#]{0,12}") {
        let _ = parse_line(&line, &Format::default());
        let _ = parse_line(&mutate(FLOW, at, len, &ins), &Format::default());
        let _ = parse_line(&mutate(FLOW, at, len, &ins), &Format::all_fields(8));
    }

    #[test]
    fn snapshots_never_panic_and_always_build(text in ".{0,200}", at in 0usize..600, len in 0usize..10, ins in "[-0-9a-z.:/,{}\"\\[\\]]{0,16}") {
        let _ = Snapshot::from_json_str(&text);
        if let Ok(snap) = Snapshot::from_json_str(&mutate(SNAPSHOT, at, len, &ins)) {
            let net = Network::build(&snap);
            // A query between whatever resolves must not panic either.
            if let (Ok((a, _)), Ok((b, _))) = (net.resolve("eni-1"), net.resolve("8.8.8.8")) {
                let _ = net.query(&vpcreach::Query { from: a, to: b, protocol: vpcreach::Protocol::Number(6), port: Some(22), src_port: None });
            }
        }
    }

    /// Whole files of mixed lines (records, headers, NODATA, JSON-wrapped records, CloudWatch
    /// envelopes, damaged lines), read at any chunk size and explained: no panic, and the
    /// totals are those of reading the file as one chunk and add up (every record line is
    /// explained, skipped or malformed).
    #[test]
    fn files_read_in_any_chunks_are_explained_and_add_up(
        picks in proptest::collection::vec((0usize..9, 0usize..140, 0usize..6, "[-0-9a-z .:{}\"#]{0,8}"), 0..40),
        chunk_size in 1usize..400,
    ) {
        let text: String = picks
            .iter()
            .map(|(kind, at, len, ins)| {
                let line = match kind {
                    0 => FLOW.to_string(),
                    1 => "2 123456789010 eni-1 10.0.1.5 198.51.100.7 22 40000 6 20 4249 1418530012 1418530070 ACCEPT OK".into(),
                    2 => "version interface-id srcaddr dstaddr srcport dstport protocol start end action log-status".into(),
                    3 => "eni-1 198.51.100.7 10.0.1.5 40000 22 6 1418530010 1418530070 ACCEPT OK".into(),
                    4 => "2 123456789010 eni-1 - - - - - - - 1418530010 1418530070 - NODATA".into(),
                    5 => format!("{{\"message\": \"{FLOW}\"}}"),
                    6 => format!("{{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[{{\"message\":\"{FLOW}\"}},{{\"message\":\"x\"}}]}}"),
                    7 => mutate(FLOW, *at, *len, ins),
                    _ => String::new(),
                };
                line + "\n"
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.log");
        std::fs::write(&path, &text).unwrap();
        let net = Network::build(&Snapshot::from_json_str(SNAPSHOT).unwrap());
        let ex = Explainer::new(&net);
        let run = |size: usize| -> (Counts, u64, u64) {
            let mut memo = Memo::default();
            let (mut counts, mut total, mut printed) = (Counts::default(), 0, 0);
            for chunk in ChunkReader::new(vec![path.clone()], None).with_chunk_size(size) {
                let (tally, c) = ex.explain_chunk_counted(&chunk.unwrap(), &mut memo, |_| true, |_| printed += 1);
                counts += c;
                total += tally.total();
                assert_eq!(tally.count(Status::Malformed), c.malformed);
            }
            (counts, total, printed)
        };
        let (counts, total, printed) = run(chunk_size);
        prop_assert_eq!(counts, run(1 << 20).0);
        prop_assert_eq!(total, counts.read);
        prop_assert_eq!(printed, counts.read);
        prop_assert_eq!(counts.read, counts.parsed + counts.nodata + counts.skipdata + counts.malformed);
    }

    #[test]
    fn policies_never_panic(text in ".{0,200}", at in 0usize..300, len in 0usize..10, ins in "[-0-9a-z_ =/\"\\[\\]\n]{0,16}") {
        let _ = PolicyFile::parse(Path::new("p.toml"), &text);
        let _ = PolicyFile::parse(Path::new("p.toml"), &mutate(POLICY, at, len, &ins));
    }
}
