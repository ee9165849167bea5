//! Findings grouped by cause (issue 18), through the built binary: one finding per security-group
//! rule that makes a check fail, naming every ENI it affects; ids that stay when an ENI joins the
//! group; a fixed rule resolved in a baseline comparison; a NACL that stops the path making a
//! separate `latent` finding; suppressions by ENI; per-ENI baselines of earlier versions; and
//! `--group-by eni`, the view before grouping.
//!
//! The fixture: `eni-a` and `eni-b` in a public subnet share `sg-open` (Redis (tcp/6379) from anywhere);
//! `eni-c` has `sg-open` too, but its subnet's NACL denies Redis from the internet.

use assert_cmd::Command;
use serde_json::{json, Value};
use tempfile::TempDir;

fn eni(id: &str, subnet: &str, ip: &str, public: &str, sgs: &[&str]) -> Value {
    let groups: Vec<Value> = sgs.iter().map(|g| json!({"GroupId": g})).collect();
    json!({"NetworkInterfaceId": id, "SubnetId": subnet, "VpcId": "vpc-1", "PrivateIpAddress": ip,
           "PrivateIpAddresses": [{"PrivateIpAddress": ip, "Primary": true, "Association": {"PublicIp": public}}],
           "Association": {"PublicIp": public}, "Groups": groups})
}

fn nacl(n: u32, proto: &str, action: &str, egress: bool, ports: Option<(u16, u16)>) -> Value {
    let mut v = json!({"RuleNumber": n, "Protocol": proto, "RuleAction": action, "Egress": egress, "CidrBlock": "0.0.0.0/0"});
    if let Some((a, b)) = ports {
        v["PortRange"] = json!({"From": a, "To": b});
    }
    v
}

fn snapshot(enis: Vec<Value>, redis_open: bool) -> Value {
    let mut open = json!({"GroupId": "sg-open", "GroupName": "open", "VpcId": "vpc-1",
        "IpPermissions": [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}],
        "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]});
    if redis_open {
        open["IpPermissions"].as_array_mut().unwrap().push(
            json!({"IpProtocol": "tcp", "FromPort": 6379, "ToPort": 6379, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}),
        );
    }
    let allow_all = json!([
        nacl(100, "-1", "allow", false, None),
        nacl(32767, "-1", "deny", false, None),
        nacl(100, "-1", "allow", true, None),
        nacl(32767, "-1", "deny", true, None)
    ]);
    let no_redis = json!([
        nacl(50, "6", "deny", false, Some((6379, 6379))),
        nacl(100, "-1", "allow", false, None),
        nacl(32767, "-1", "deny", false, None),
        nacl(100, "-1", "allow", true, None),
        nacl(32767, "-1", "deny", true, None)
    ]);
    json!({
        "Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16"}],
        "Subnets": [
            {"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24", "AvailabilityZone": "us-east-1a"},
            {"SubnetId": "subnet-2", "VpcId": "vpc-1", "CidrBlock": "10.0.2.0/24", "AvailabilityZone": "us-east-1a"}],
        "InternetGateways": [{"InternetGatewayId": "igw-1", "Attachments": [{"VpcId": "vpc-1", "State": "available"}]}],
        "RouteTables": [{"RouteTableId": "rtb-1", "VpcId": "vpc-1", "Associations": [{"Main": true}],
            "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
                       {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1", "State": "active"}]}],
        "NetworkAcls": [
            {"NetworkAclId": "acl-1", "VpcId": "vpc-1", "IsDefault": true,
             "Associations": [{"NetworkAclId": "acl-1", "SubnetId": "subnet-1"}], "Entries": allow_all},
            {"NetworkAclId": "acl-2", "VpcId": "vpc-1", "IsDefault": false,
             "Associations": [{"NetworkAclId": "acl-2", "SubnetId": "subnet-2"}], "Entries": no_redis}],
        "SecurityGroups": [open],
        "NetworkInterfaces": enis,
        "Reservations": [{"Instances": [{"InstanceId": "i-b", "Tags": [{"Key": "Team", "Value": "ops"}]}]}]
    })
}

fn three() -> Vec<Value> {
    let mut b = eni("eni-b", "subnet-1", "10.0.1.20", "54.0.0.20", &["sg-open"]);
    b["Attachment"] = json!({"InstanceId": "i-b", "Status": "attached"});
    vec![
        eni("eni-a", "subnet-1", "10.0.1.10", "54.0.0.10", &["sg-open"]),
        b,
        eni("eni-c", "subnet-2", "10.0.2.30", "54.0.0.30", &["sg-open"]),
    ]
}

const POLICY: &str = r#"
[[statement]]
id = "no-redis"
description = "no Redis from the internet"
severity = "high"
kind = "deny"
from = "internet"
to = "any"
traffic = "tcp/6379"
"#;

struct Fx {
    dir: TempDir,
}

impl Fx {
    fn new(snap: &Value) -> Fx {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("policies")).unwrap();
        std::fs::write(dir.path().join("policies/p.toml"), POLICY).unwrap();
        let fx = Fx { dir };
        fx.snapshot(snap);
        fx
    }

    fn snapshot(&self, snap: &Value) {
        let d = self.dir.path().join("snap");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("snapshot.json"), snap.to_string()).unwrap();
    }

    fn write(&self, name: &str, text: &str) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = Command::cargo_bin("vpcreach")
            .unwrap()
            .current_dir(self.dir.path())
            .args(["audit", "--snapshot", "snap", "--policies", "policies"])
            .args(args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn json(&self, args: &[&str]) -> (i32, Value, String) {
        let (code, out, err) = self.run(&[&["--output", "json"], args].concat());
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        (code, v, err)
    }
}

fn redis(v: &Value, status: &str) -> Vec<Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "no-redis" && f["status"] == status)
        .cloned()
        .collect()
}

#[test]
fn two_enis_sharing_an_open_group_are_one_finding_and_a_nacl_makes_a_separate_latent_one() {
    let fx = Fx::new(&snapshot(three(), true));
    let (code, v, _) = fx.json(&[]);
    assert_eq!(code, 1);
    let exposed = redis(&v, "exposed");
    assert_eq!(exposed.len(), 1, "{v:#}");
    let e = &exposed[0];
    assert_eq!(e["enis"], json!(["eni-a", "eni-b"]));
    assert_eq!(e["eni_count"], 2);
    // The cause: the group and its rule, the thing to fix.
    assert_eq!(
        e["resources"],
        json!(["sg-open", "inbound rule tcp/6379 from 0.0.0.0/0"])
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("to fix: remove rule"),
        "{e:#}"
    );
    assert_eq!(e["witness"]["port"], 6379);
    assert_eq!(e["witness"]["protocol"], "tcp");
    // eni-c: the same rule, but its NACL stops Redis: latent, in a finding of its own.
    let latent = redis(&v, "latent");
    assert_eq!(latent.len(), 1, "{v:#}");
    assert_eq!(latent[0]["enis"], json!(["eni-c"]));
    assert_eq!(latent[0]["resources"], e["resources"]);
    assert_ne!(latent[0]["id"], e["id"]);
    assert_eq!(latent[0]["severity"], "medium");
    assert!(
        latent[0]["because"].as_array().unwrap().iter().any(|b| b
            .as_str()
            .unwrap()
            .contains("acl-2")
            && b.as_str().unwrap().contains("50")),
        "{latent:#?}"
    );

    // Every renderer names the ENIs of the cause; SARIF has one result per cause.
    let (_, human, _) = fx.run(&[]);
    assert!(human.contains("ENIs (2): eni-a, eni-b"), "{human}");
    assert!(human.contains("sg-open (2 ENIs)"), "{human}");
    let (_, md, _) = fx.run(&["--output", "markdown"]);
    assert!(md.contains("**ENIs (2):** `eni-a`, `eni-b`"), "{md}");
    let (_, sarif, _) = fx.run(&["--output", "sarif"]);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let results: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "no-redis")
        .collect();
    assert_eq!(results.len(), 2);
    let r = results
        .iter()
        .find(|r| r["properties"]["status"] == "exposed")
        .unwrap();
    let names: Vec<&str> = r["locations"][0]["logicalLocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "sg-open",
            "inbound rule tcp/6379 from 0.0.0.0/0",
            "eni-a",
            "eni-b"
        ]
    );
    assert_eq!(r["properties"]["eniCount"], 2);
    assert_eq!(r["partialFingerprints"]["vpcreachFindingId/v1"], e["id"]);
}

#[test]
fn ids_stay_when_an_eni_joins_and_removing_the_rule_resolves_the_finding() {
    let fx = Fx::new(&snapshot(three(), true));
    let (_, first, _) = fx.json(&[]);
    let id = redis(&first, "exposed")[0]["id"].clone();
    let base = fx.write("base.json", &first.to_string());

    // A fourth ENI joins the group: same id, unchanged, nothing fails.
    let mut four = three();
    four.push(eni(
        "eni-d",
        "subnet-1",
        "10.0.1.40",
        "54.0.0.40",
        &["sg-open"],
    ));
    fx.snapshot(&snapshot(four, true));
    let (code, v, _) = fx.json(&["--baseline", &base]);
    let e = &redis(&v, "exposed")[0];
    assert_eq!(e["id"], id);
    assert_eq!(e["enis"], json!(["eni-a", "eni-b", "eni-d"]));
    assert_eq!(e["baseline"], "unchanged");
    assert_eq!(code, 0, "{v:#}");

    // The rule is removed: both findings of the cause are resolved, nothing is open.
    fx.snapshot(&snapshot(three(), false));
    let (code, v, _) = fx.json(&["--baseline", &base]);
    assert!(redis(&v, "exposed").is_empty(), "{v:#}");
    assert!(redis(&v, "latent").is_empty(), "{v:#}");
    let resolved: Vec<&Value> = v["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["check"] == "no-redis")
        .collect();
    assert_eq!(resolved.len(), 2, "{v:#}");
    assert!(resolved.iter().any(|p| p["id"] == id));
    assert_eq!(code, 0);
}

#[test]
fn a_suppression_by_eni_takes_it_out_of_the_group() {
    let fx = Fx::new(&snapshot(three(), true));
    // By ENI: eni-a leaves the group; the finding stays open for eni-b.
    let s = fx.write(
        "s.toml",
        "[[suppression]]\nresource = \"eni-a\"\nreason = \"lab box\"\nexpires = 2999-01-01\n",
    );
    let (code, v, _) = fx.json(&["--suppressions", &s]);
    let e = &redis(&v, "exposed")[0];
    assert_eq!(e["enis"], json!(["eni-b"]));
    assert_eq!(e["eni_count"], 1);
    assert_eq!(e["suppressed_enis"][0]["eni"], "eni-a");
    assert_eq!(e["suppressed_enis"][0]["reason"], "lab box");
    assert!(e.get("suppressed").is_none());
    assert_eq!(e["failing"], true);
    assert_eq!(code, 1);

    // And eni-b by its instance's tag: none remain, the finding is suppressed.
    let s = fx.write(
        "s2.toml",
        "[[suppression]]\nresource = \"eni-a\"\nreason = \"lab box\"\nexpires = 2999-01-01\n\
         [[suppression]]\ntag = \"Team=ops\"\nreason = \"ops jump host\"\nexpires = 2999-01-01\n",
    );
    let (_, v, stderr) = fx.json(&["--suppressions", &s]);
    let e = &redis(&v, "exposed")[0];
    assert_eq!(e["suppressed"]["reason"], "lab box");
    assert_eq!(e["failing"], false);
    assert!(!stderr.contains("matches no finding"), "{stderr}");

    // By the group (a cause resource): the whole finding, exposed and latent.
    let s = fx.write(
        "s3.toml",
        "[[suppression]]\nresource = \"sg-open\"\nreason = \"accepted\"\nexpires = 2999-01-01\n",
    );
    let (_, v, _) = fx.json(&["--suppressions", &s]);
    assert_eq!(redis(&v, "exposed")[0]["suppressed"]["reason"], "accepted");
    assert_eq!(redis(&v, "latent")[0]["suppressed"]["reason"], "accepted");
}

#[test]
fn group_by_eni_keeps_the_view_per_eni_and_its_baselines_map_to_the_groups() {
    let fx = Fx::new(&snapshot(three(), true));
    let (_, per_eni, _) = fx.json(&["--group-by", "eni"]);
    let exposed = redis(&per_eni, "exposed");
    assert_eq!(exposed.len(), 2, "{per_eni:#}");
    let resources: Vec<&Value> = exposed.iter().map(|f| &f["resources"]).collect();
    assert!(resources.contains(&&json!(["eni-a", "sg-open"])));
    assert!(resources.contains(&&json!(["eni-b", "sg-open"])));
    assert_eq!(
        redis(&per_eni, "latent")[0]["resources"],
        json!(["eni-c", "sg-open"])
    );

    // A baseline of findings per ENI, as earlier versions wrote (no `enis`): each maps to the
    // grouped finding that lists its ENI and names its group; nothing is new or resolved.
    let mut old = per_eni.clone();
    for f in old["findings"].as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("enis");
        f.as_object_mut().unwrap().remove("eni_count");
    }
    let old = fx.write("old.json", &old.to_string());
    let (code, v, stderr) = fx.json(&["--baseline", &old]);
    assert_eq!(code, 0, "{v:#}");
    for f in v["findings"].as_array().unwrap() {
        assert_eq!(f["baseline"], "unchanged", "{f:#}");
    }
    assert_eq!(v["resolved"], json!([]));
    assert!(
        stderr.contains("3 of them were matched to the grouped findings"),
        "{stderr}"
    );

    // An old finding of another group does not map: the grouped finding is new.
    let mut other = per_eni.clone();
    for f in other["findings"].as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("enis");
        if f["check"] == "no-redis" {
            f["resources"][1] = json!("sg-other");
            f["id"] = json!(format!("x{}", f["id"].as_str().unwrap()));
        }
    }
    let other = fx.write("other.json", &other.to_string());
    let (code, v, _) = fx.json(&["--baseline", &other]);
    assert_eq!(code, 1);
    assert_eq!(redis(&v, "exposed")[0]["baseline"], "new");
    assert_eq!(v["summary"]["baseline"]["resolved"], 3);
}
