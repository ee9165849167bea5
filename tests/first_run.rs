//! What a new user meets (issue 12), through the built binary: query ends resolved as the other
//! end sees them, client port ranges on the stateless return path, untracked responses named by
//! their rule, and peers that no ENI of the snapshot holds.

mod common;

use assert_cmd::Command;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/network")
}

fn query(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("vpcreach").unwrap();
    cmd.arg("query")
        .arg("--snapshot")
        .arg(dir)
        .args(args)
        .env("NO_COLOR", "1");
    cmd
}

fn json_of(mut cmd: Command, code: i32) -> Value {
    let out = cmd.assert().code(code).get_output().stdout.clone();
    serde_json::from_slice(&out).unwrap()
}

fn stderr_of(mut cmd: Command, code: i32) -> String {
    String::from_utf8(cmd.assert().code(code).get_output().stderr.clone()).unwrap()
}

// Item 1: an instance id as the destination from the internet is its public address.
#[test]
fn instance_id_from_the_internet_is_reached_on_its_public_address() {
    let v = json_of(
        query(
            &example(),
            &[
                "--from",
                "1.2.3.4",
                "--to",
                "i-0a6ba572a20d54fe2",
                "--port",
                "443",
                "--output",
                "json",
            ],
        ),
        0,
    );
    assert_eq!(v["verdict"], "reachable", "{v:#}");
    assert_eq!(v["to"]["address"], "3.91.45.120");
    assert_eq!(v["to"]["kind"], "public_ip");
    let notes = v["notes"].to_string();
    assert!(notes.contains("public address 3.91.45.120"), "{notes}");
}

#[test]
fn instance_without_public_address_says_so() {
    let v = json_of(
        query(
            &example(),
            &[
                "--from",
                "1.2.3.4",
                "--to",
                "i-0506fe9697179334a",
                "--port",
                "443",
                "--output",
                "json",
            ],
        ),
        1,
    );
    assert_eq!(v["reason"], "IGW_EXPECTS_PUBLIC_ADDRESS", "{v:#}");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("has no public or Elastic IP"), "{msg}");
    assert!(!msg.contains("private address:"), "{msg}");
}

#[test]
fn ipv6_source_reaches_the_instance_on_its_ipv6_address() {
    let v = json_of(
        query(
            &example(),
            &[
                "--from",
                "2001:db8::1",
                "--to",
                "i-0a6ba572a20d54fe2",
                "--port",
                "443",
                "--output",
                "json",
            ],
        ),
        // Reachable or not, the destination is the instance's IPv6 address, never its IPv4 one.
        0,
    );
    assert_eq!(
        v["to"]["address"],
        "2600:1f18:1234:5601:4a1e:9f3b:2c7d:e820"
    );
}

// Item 7: an IPv6 source is never swapped for an IPv4 address.
#[test]
fn typed_addresses_of_two_families_are_refused() {
    let err = stderr_of(
        query(
            &example(),
            &[
                "--from",
                "2600:1f18:1234:5601:4a1e:9f3b:2c7d:e820",
                "--to",
                "10.0.2.10",
                "--port",
                "443",
            ],
        ),
        2,
    );
    assert!(err.contains("different address families"), "{err}");
}

// Item 7: gateway ids name the component.
#[test]
fn nat_gateway_id_starts_at_its_eni() {
    let d = common::snapshot_dir(&common::base());
    let v = json_of(
        query(
            d.path(),
            &[
                "--from",
                "nat-1",
                "--to",
                "10.0.2.20",
                "--port",
                "8080",
                "--output",
                "json",
            ],
        ),
        1,
    );
    assert_eq!(v["from"]["eni"], "eni-nat");
    assert!(v["notes"].to_string().contains("is a NAT gateway"), "{v:#}");
}

#[test]
fn internet_gateway_id_is_not_an_end() {
    let d = common::snapshot_dir(&common::base());
    let err = stderr_of(
        query(
            d.path(),
            &["--from", "igw-a", "--to", "eni-web", "--port", "443"],
        ),
        2,
    );
    assert!(err.contains("`igw-a` is an internet gateway"), "{err}");
    assert!(err.contains("use an internet address"), "{err}");
    assert!(!err.contains("not in the snapshot"), "{err}");
}

// Item 7: Name tags, with "did you mean".
#[test]
fn name_tags_are_accepted_with_did_you_mean() {
    let v = json_of(
        query(
            &example(),
            &[
                "--from", "1.2.3.4", "--to", "web-1", "--port", "443", "--output", "json",
            ],
        ),
        0,
    );
    assert_eq!(v["to"]["instance"], "i-0a6ba572a20d54fe2", "{v:#}");
    let err = stderr_of(
        query(
            &example(),
            &["--from", "1.2.3.4", "--to", "bastoin", "--port", "443"],
        ),
        2,
    );
    assert!(err.contains("did you mean `bastion`"), "{err}");
}

// Item 7: multicast and broadcast are refused; `::ffff:` addresses are IPv4.
#[test]
fn multicast_broadcast_and_mapped_addresses() {
    for bad in ["224.0.0.5", "255.255.255.255", "10.0.2.255"] {
        let err = stderr_of(
            query(
                &example(),
                &["--from", "10.0.2.10", "--to", bad, "--port", "443"],
            ),
            2,
        );
        assert!(err.contains("a query asks about one host"), "{bad}: {err}");
    }
    let v = json_of(
        query(
            &example(),
            &[
                "--from",
                "::ffff:10.0.1.20",
                "--to",
                "1.2.3.4",
                "--port",
                "443",
                "--output",
                "json",
            ],
        ),
        0,
    );
    assert_eq!(v["from"]["address"], "10.0.1.20", "{v:#}");
}

// Item 7: an address of a subnet that no ENI holds is in that subnet: no NACL between it and an
// ENI of the same subnet, and its security groups are unknown.
#[test]
fn unheld_address_in_the_same_subnet_crosses_no_nacl() {
    let mut net = common::base();
    // A NACL that denies everything: only traffic inside the subnet passes.
    let acl = common::find(&mut net, "NetworkAcls", "NetworkAclId", "acl-default");
    acl["Entries"] = json!([
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"},
        {"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": true, "CidrBlock": "0.0.0.0/0"}
    ]);
    let app = common::find(&mut net, "SecurityGroups", "GroupId", "sg-app");
    app["IpPermissions"] = json!([{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                                   "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}]);
    let d = common::snapshot_dir(&net);
    let v = json_of(
        query(
            d.path(),
            &[
                "--from",
                "10.0.2.77",
                "--to",
                "eni-app",
                "--port",
                "8080",
                "--output",
                "json",
            ],
        ),
        1,
    );
    assert_eq!(v["verdict"], "unknown", "{v:#}");
    assert_eq!(v["reason"], "INCOMPLETE_SNAPSHOT", "{v:#}");
    assert_eq!(v["from"]["kind"], "in_subnet");
    assert!(!v.to_string().contains("on-premises"), "{v:#}");
    assert!(
        !v.to_string().contains("acl-default"),
        "no NACL between them: {v:#}"
    );
    // From another subnet, the NACL decides.
    let v = json_of(
        query(
            d.path(),
            &[
                "--from",
                "10.0.1.77",
                "--to",
                "eni-app",
                "--port",
                "8080",
                "--output",
                "json",
            ],
        ),
        1,
    );
    assert_eq!(v["verdict"], "unreachable", "{v:#}");
    assert_eq!(v["reason"], "SUBNET_ACL_RESTRICTION", "{v:#}");
}

fn nacl_with_return_ports(ports: &[(u16, u16)]) -> Value {
    let mut net = common::base();
    let mut entries = vec![
        json!({"RuleNumber": 100, "Protocol": "-1", "RuleAction": "allow", "Egress": false, "CidrBlock": "0.0.0.0/0"}),
        json!({"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": false, "CidrBlock": "0.0.0.0/0"}),
        json!({"RuleNumber": 32767, "Protocol": "-1", "RuleAction": "deny", "Egress": true, "CidrBlock": "0.0.0.0/0"}),
    ];
    for (i, (from, to)) in ports.iter().enumerate() {
        entries.push(json!({"RuleNumber": 100 + i * 10, "Protocol": "6", "RuleAction": "allow", "Egress": true,
            "CidrBlock": "0.0.0.0/0", "PortRange": {"From": from, "To": to}}));
    }
    let acl = common::find(&mut net, "NetworkAcls", "NetworkAclId", "acl-default");
    acl["Entries"] = json!(entries);
    net
}

// Item 2: a response that passes only odd client ports is unreachable at the return NACL.
#[test]
fn odd_client_ports_only_is_unreachable_at_the_return_nacl() {
    let d = common::snapshot_dir(&nacl_with_return_ports(&[(9000, 9000)]));
    let v = json_of(
        query(
            d.path(),
            &[
                "--from", "1.2.3.4", "--to", "eni-web", "--port", "443", "--output", "json",
            ],
        ),
        1,
    );
    assert_eq!(v["verdict"], "unreachable", "{v:#}");
    assert_eq!(v["reason"], "SUBNET_ACL_RESTRICTION");
    assert_eq!(v["blocked_at"]["path"], "return");
    assert_eq!(v["blocked_at"]["rule_number"], 32767);
    assert_eq!(v["src_ports"], json!([{"from": 9000, "to": 9000}]), "{v:#}");
    // One client port, asked exactly, still passes.
    let v = json_of(
        query(
            d.path(),
            &[
                "--from",
                "1.2.3.4",
                "--to",
                "eni-web",
                "--port",
                "443",
                "--src-port",
                "9000",
                "--output",
                "json",
            ],
        ),
        0,
    );
    assert_eq!(v["verdict"], "reachable");
}

#[test]
fn linux_range_only_is_reachable_and_notes_which_clients_work() {
    let d = common::snapshot_dir(&nacl_with_return_ports(&[(32768, 60999)]));
    let v = json_of(
        query(
            d.path(),
            &[
                "--from", "1.2.3.4", "--to", "eni-web", "--port", "443", "--output", "json",
            ],
        ),
        0,
    );
    assert_eq!(v["verdict"], "reachable", "{v:#}");
    let notes = v["notes"].to_string();
    assert!(notes.contains("it works for Linux clients"), "{notes}");
    assert!(
        notes.contains("not for Windows, NAT gateway and ELB clients"),
        "{notes}"
    );
}

// Item 14: flags that would be ignored or misread are refused with a hint.
#[test]
fn port_flags_that_do_not_apply_are_refused() {
    let err = stderr_of(
        query(
            &example(),
            &[
                "--from",
                "10.0.2.10",
                "--to",
                "10.0.3.10",
                "--protocol",
                "all",
                "--port",
                "22",
            ],
        ),
        2,
    );
    assert!(
        err.contains("`--port` does not apply to protocol all"),
        "{err}"
    );
    let err = stderr_of(
        query(
            &example(),
            &[
                "--from",
                "10.0.2.10",
                "--to",
                "10.0.3.10",
                "--protocol",
                "47",
                "--port",
                "22",
            ],
        ),
        2,
    );
    assert!(err.contains("`--port` does not apply to protocol"), "{err}");
    let err = stderr_of(
        query(
            &example(),
            &[
                "--from",
                "10.0.2.10",
                "--to",
                "10.0.3.10",
                "--protocol",
                "icmpv6",
            ],
        ),
        2,
    );
    assert!(err.contains("did you mean `icmp`?"), "{err}");
    let err = stderr_of(
        query(
            &example(),
            &[
                "--from",
                "10.0.2.10",
                "--to",
                "10.0.3.10",
                "--port",
                "https",
            ],
        ),
        2,
    );
    assert!(
        err.contains("`https` is not a port number: did you mean `443`?"),
        "{err}"
    );
}

// Item 13: the dot output has the two ends and the two directions as rows; subnets, route tables
// and NACLs show their `Name` tags as ENIs do.
#[test]
fn dot_reads_on_one_screen_and_traces_show_names() {
    let out = query(
        &example(),
        &[
            "--from",
            "i-0506fe9697179334a",
            "--to",
            "i-0490966ced8ad8194",
            "--port",
            "5432",
            "--output",
            "dot",
        ],
    )
    .assert()
    .get_output()
    .stdout
    .clone();
    let dot = String::from_utf8(out).unwrap();
    for part in [
        "subgraph cluster_f",
        "subgraph cluster_r",
        "src [label=\"source",
        "dst [label=\"destination",
        "src -> f0;",
        "(prod-app-1a)",
    ] {
        assert!(dot.contains(part), "{part}: {dot}");
    }
    // Labels are short: no line of a label is a whole sentence.
    let longest = dot
        .lines()
        .flat_map(|l| l.split("\\n"))
        .map(|piece| piece.chars().count())
        .max()
        .unwrap_or(0);
    assert!(longest < 120, "{dot}");
    let v = json_of(
        query(
            &example(),
            &[
                "--from",
                "i-0506fe9697179334a",
                "--to",
                "i-0490966ced8ad8194",
                "--port",
                "5432",
                "--output",
                "json",
            ],
        ),
        0,
    );
    let named: Vec<&str> = v["forward"]["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["kind"] != "network_interface")
        .filter_map(|h| h["name"].as_str())
        .collect();
    assert!(named.contains(&"prod-app-1a"), "{v:#}");
}

// Item 14: the outputs shown in `examples/README.md` are what the binary prints (commands
// without a pipe, run from the repository root).
#[test]
fn examples_readme_outputs_match_the_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("examples/README.md")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(cmd) = line.strip_prefix("$ vpcreach ") else {
            continue;
        };
        if cmd.contains('|') {
            continue;
        }
        let expected: Vec<&str> = lines[i + 1..]
            .iter()
            .take_while(|l| !l.starts_with("```"))
            .copied()
            .collect();
        let out = Command::cargo_bin("vpcreach")
            .unwrap()
            .current_dir(root)
            .args(cmd.split_whitespace())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let actual = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            actual.trim_end().lines().collect::<Vec<_>>(),
            expected,
            "`vpcreach {cmd}` prints something else than examples/README.md shows"
        );
        checked += 1;
    }
    assert!(checked >= 2, "{checked} commands checked");
}
