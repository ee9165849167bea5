//! Shared by the `aws_*` tests: a local `moto_server` (an AWS-compatible endpoint) started on a
//! free port of 127.0.0.1 and killed on drop, SDK clients that talk to it, and the environment
//! the `vpcreach` binary needs to reach it (and nothing else: no profile files, no instance
//! metadata).

#![allow(dead_code)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The region every test uses.
pub const REGION: &str = "us-east-1";
/// moto's default account.
pub const ACCOUNT: &str = "123456789012";

/// A running `moto_server`, killed when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on (at the moment of asking).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

fn answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(b"GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

impl Moto {
    /// Starts `moto_server` (the binary named by `VPCREACH_MOTO_SERVER`) with extra environment
    /// variables. Fails the test when the variable is unset: a test that skips would pass
    /// without testing anything.
    pub fn start_with(env: &[(&str, &str)]) -> Moto {
        let Some(binary) = std::env::var_os("VPCREACH_MOTO_SERVER").filter(|v| !v.is_empty())
        else {
            panic!(
                "VPCREACH_MOTO_SERVER is not set (the path of `moto_server`): run the tests with `bash .ci/run`, which installs it"
            );
        };
        let port = free_port();
        let mut cmd = Command::new(&binary);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.to_string_lossy()));
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !answers(port) {
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// Starts `moto_server`.
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }
}

/// The environment under which the `vpcreach` binary (or this process) reaches `url` with the
/// given keys; every other `AWS_*` variable of the caller is removed.
pub fn aws_env(url: &str, keys: Option<(&str, &str)>) -> Vec<(String, Option<String>)> {
    let mut env: Vec<(String, Option<String>)> = std::env::vars()
        .filter(|(k, _)| k.starts_with("AWS_"))
        .map(|(k, _)| (k, None))
        .collect();
    let mut set = |k: &str, v: &str| env.push((k.to_string(), Some(v.to_string())));
    set("AWS_ENDPOINT_URL", url);
    set("AWS_REGION", REGION);
    set("AWS_EC2_METADATA_DISABLED", "true");
    set("AWS_CONFIG_FILE", "/nonexistent/vpcreach-test/config");
    set(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/vpcreach-test/credentials",
    );
    if let Some((id, secret)) = keys {
        set("AWS_ACCESS_KEY_ID", id);
        set("AWS_SECRET_ACCESS_KEY", secret);
    }
    env
}

/// The test keys moto accepts.
pub const TEST_KEYS: Option<(&str, &str)> = Some(("testing", "testing"));

/// The `vpcreach` binary with the environment of [`aws_env`].
pub fn vpcreach(env: &[(String, Option<String>)]) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("vpcreach").expect("the vpcreach binary");
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Applies [`aws_env`] to this process. Only for test binaries with a single test, before
/// any other thread reads the environment.
pub fn set_process_env(env: &[(String, Option<String>)]) {
    for (k, v) in env {
        match v {
            Some(v) => std::env::set_var(k, v),
            None => std::env::remove_var(k),
        }
    }
}

/// A runtime for the SDK's futures.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// SDK configuration for seeding moto, with explicit endpoint, region and test keys.
pub async fn sdk_config(url: &str, keys: (&str, &str)) -> SdkConfig {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .endpoint_url(url)
        .region(Region::new(REGION))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            keys.0, keys.1, None, None, "test",
        ))
        .load()
        .await
}

/// An S3 client for moto (path-style addressing).
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// Gzip-compresses text.
pub fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(text.as_bytes()).expect("gzip");
    enc.finish().expect("gzip")
}

/// A small network with an SG reference and a NACL deny rule, seeded through the EC2 API.
pub struct Seeded {
    /// The VPC.
    pub vpc: String,
    /// App subnet 10.0.1.0/24 and its ENI 10.0.1.10 (group `app`).
    pub app_subnet: String,
    /// The app ENI.
    pub eni_app: String,
    /// DB subnet 10.0.2.0/24 (custom NACL) and its ENI 10.0.2.20 (group `db`).
    pub db_subnet: String,
    /// The DB ENI.
    pub eni_db: String,
    /// Group `app`.
    pub sg_app: String,
    /// Group `db`: tcp/5432 and tcp/22 from `app`.
    pub sg_db: String,
    /// The DB subnet's NACL: inbound 100 deny tcp/22 from 10.0.1.0/24, 200 allow all.
    pub nacl: String,
}

/// Seeds [`Seeded`].
pub async fn seed_network(ec2: &aws_sdk_ec2::Client) -> Seeded {
    use aws_sdk_ec2::types::{Filter, IpPermission, PortRange, RuleAction, UserIdGroupPair};
    let vpc = ec2
        .create_vpc()
        .cidr_block("10.0.0.0/16")
        .send()
        .await
        .expect("CreateVpc")
        .vpc
        .and_then(|v| v.vpc_id)
        .expect("vpc id");
    let subnet = |cidr: &'static str| {
        let vpc = vpc.clone();
        async move {
            ec2.create_subnet()
                .vpc_id(vpc)
                .cidr_block(cidr)
                .availability_zone("us-east-1a")
                .send()
                .await
                .expect("CreateSubnet")
                .subnet
                .and_then(|s| s.subnet_id)
                .expect("subnet id")
        }
    };
    let app_subnet = subnet("10.0.1.0/24").await;
    let db_subnet = subnet("10.0.2.0/24").await;
    let group = |name: &'static str| {
        let vpc = vpc.clone();
        async move {
            ec2.create_security_group()
                .group_name(name)
                .description(format!("{name} tier"))
                .vpc_id(vpc)
                .send()
                .await
                .expect("CreateSecurityGroup")
                .group_id
                .expect("group id")
        }
    };
    let sg_app = group("app").await;
    let sg_db = group("db").await;
    let from_app = |port: i32| {
        IpPermission::builder()
            .ip_protocol("tcp")
            .from_port(port)
            .to_port(port)
            .user_id_group_pairs(UserIdGroupPair::builder().group_id(&sg_app).build())
            .build()
    };
    ec2.authorize_security_group_ingress()
        .group_id(&sg_db)
        .ip_permissions(from_app(5432))
        .ip_permissions(from_app(22))
        .send()
        .await
        .expect("AuthorizeSecurityGroupIngress");
    let nacl = ec2
        .create_network_acl()
        .vpc_id(&vpc)
        .send()
        .await
        .expect("CreateNetworkAcl")
        .network_acl
        .and_then(|n| n.network_acl_id)
        .expect("nacl id");
    let entry = |number: i32,
                 egress: bool,
                 protocol: &'static str,
                 cidr: &'static str,
                 action: RuleAction,
                 port: Option<i32>| {
        let nacl = nacl.clone();
        async move {
            let mut req = ec2
                .create_network_acl_entry()
                .network_acl_id(nacl)
                .rule_number(number)
                .egress(egress)
                .protocol(protocol)
                .cidr_block(cidr)
                .rule_action(action);
            if let Some(p) = port {
                req = req.port_range(PortRange::builder().from(p).to(p).build());
            }
            req.send().await.expect("CreateNetworkAclEntry");
        }
    };
    entry(100, false, "6", "10.0.1.0/24", RuleAction::Deny, Some(22)).await;
    entry(200, false, "-1", "0.0.0.0/0", RuleAction::Allow, None).await;
    entry(100, true, "-1", "0.0.0.0/0", RuleAction::Allow, None).await;
    let current = ec2
        .describe_network_acls()
        .filters(
            Filter::builder()
                .name("association.subnet-id")
                .values(&db_subnet)
                .build(),
        )
        .send()
        .await
        .expect("DescribeNetworkAcls");
    let association = current
        .network_acls()
        .iter()
        .flat_map(|n| n.associations())
        .find(|a| a.subnet_id() == Some(db_subnet.as_str()))
        .and_then(|a| a.network_acl_association_id())
        .expect("the DB subnet's NACL association")
        .to_string();
    ec2.replace_network_acl_association()
        .association_id(association)
        .network_acl_id(&nacl)
        .send()
        .await
        .expect("ReplaceNetworkAclAssociation");
    let eni = |subnet: String, group: String, ip: &'static str| async move {
        ec2.create_network_interface()
            .subnet_id(subnet)
            .groups(group)
            .private_ip_address(ip)
            .send()
            .await
            .expect("CreateNetworkInterface")
            .network_interface
            .and_then(|n| n.network_interface_id)
            .expect("eni id")
    };
    let eni_app = eni(app_subnet.clone(), sg_app.clone(), "10.0.1.10").await;
    let eni_db = eni(db_subnet.clone(), sg_db.clone(), "10.0.2.20").await;
    Seeded {
        vpc,
        app_subnet,
        eni_app,
        db_subnet,
        eni_db,
        sg_app,
        sg_db,
        nacl,
    }
}

fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One IAM Query-API call to moto, by hand (no IAM client in the dependencies). moto routes by
/// the credential scope of the `Authorization` header; it checks no signature while it does not
/// enforce IAM yet.
pub fn iam_call(url: &str, params: &[(&str, &str)]) -> String {
    let addr = url.trim_start_matches("http://");
    let mut body = String::from("Version=2010-05-08");
    for (k, v) in params {
        body.push_str(&format!("&{k}={}", form_encode(v)));
    }
    let request = format!(
        "POST / HTTP/1.0\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=testing/20240101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(addr).expect("connect to moto");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(
        response.starts_with("HTTP/1.0 200") || response.starts_with("HTTP/1.1 200"),
        "IAM {params:?}: {response}"
    );
    response
}

fn xml_value(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .map(|i| i + open.len())
        .expect("tag in the answer");
    let end = xml[start..].find('<').expect("closing tag") + start;
    xml[start..end].to_string()
}

/// Creates (in 3 IAM calls) a user with this inline policy; returns its keys.
pub fn user_with_policy(url: &str, name: &str, policy: &str) -> (String, String) {
    iam_call(url, &[("Action", "CreateUser"), ("UserName", name)]);
    iam_call(
        url,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", name),
            ("PolicyName", name),
            ("PolicyDocument", policy),
        ],
    );
    let answer = iam_call(url, &[("Action", "CreateAccessKey"), ("UserName", name)]);
    (
        xml_value(&answer, "AccessKeyId"),
        xml_value(&answer, "SecretAccessKey"),
    )
}
