//! `vpcreach collect` reads load balancers through the real ELBv2 SDK: against moto (an ALB
//! with a listener, a rule to a second target group, registered targets and attributes), the
//! folder it writes loads back to the model collected in memory, and an endpoint that does not
//! implement the ELB API gives "not collected", never a silent gap.
//!
//! One test, run in sections, because it sets this process's environment.

mod aws_support;

use aws_sdk_elasticloadbalancingv2 as elb;
use aws_support::*;
use std::io::{Read, Write};
use std::sync::Arc;
use vpcreach::aws::{collect, AwsOptions, NoProgress};
use vpcreach::{Network, Snapshot};

/// An endpoint that answers every request as AWS answers an action it does not know.
fn endpoint_without_elb() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // Read the head and the body the head announces, then answer and close.
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n) = stream.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some(head_end) = text.find("\r\n\r\n") {
                    let length = text[..head_end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() >= head_end + 4 + length {
                        break;
                    }
                }
            }
            let body = r#"<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>The action is not valid for this web service.</Message></Error><RequestId>1</RequestId></ErrorResponse>"#;
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn collect_reads_load_balancers() {
    let moto = Moto::start();
    let env = aws_env(&moto.url, TEST_KEYS);
    set_process_env(&env);
    let rt = runtime();
    let config = rt.block_on(sdk_config(&moto.url, ("testing", "testing")));
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let client = elb::Client::new(&config);
    let net = rt.block_on(seed_network(&ec2));
    let (lb_arn, tg_app, tg_admin) = rt.block_on(async {
        let subnet_b = ec2
            .create_subnet()
            .vpc_id(&net.vpc)
            .cidr_block("10.0.3.0/24")
            .availability_zone("us-east-1b")
            .send()
            .await
            .expect("CreateSubnet")
            .subnet
            .and_then(|s| s.subnet_id)
            .expect("subnet id");
        let lb = client
            .create_load_balancer()
            .name("web-alb")
            .subnets(&net.app_subnet)
            .subnets(&subnet_b)
            .security_groups(&net.sg_app)
            .scheme(elb::types::LoadBalancerSchemeEnum::Internal)
            .r#type(elb::types::LoadBalancerTypeEnum::Application)
            .send()
            .await
            .expect("CreateLoadBalancer");
        let lb_arn = lb.load_balancers()[0]
            .load_balancer_arn()
            .expect("ARN")
            .to_string();
        let tg = |name: &'static str, port: i32| {
            let client = client.clone();
            let vpc = net.vpc.clone();
            async move {
                client
                    .create_target_group()
                    .name(name)
                    .protocol(elb::types::ProtocolEnum::Http)
                    .port(port)
                    .vpc_id(vpc)
                    .target_type(elb::types::TargetTypeEnum::Ip)
                    .send()
                    .await
                    .expect("CreateTargetGroup")
                    .target_groups()[0]
                    .target_group_arn()
                    .expect("ARN")
                    .to_string()
            }
        };
        let tg_app = tg("app", 8080).await;
        let tg_admin = tg("admin", 9090).await;
        client
            .register_targets()
            .target_group_arn(&tg_app)
            .targets(
                elb::types::TargetDescription::builder()
                    .id("10.0.1.10")
                    .port(8080)
                    .build(),
            )
            .send()
            .await
            .expect("RegisterTargets");
        let forward = |arn: &str| {
            elb::types::Action::builder()
                .r#type(elb::types::ActionTypeEnum::Forward)
                .target_group_arn(arn)
                .build()
        };
        let listener = client
            .create_listener()
            .load_balancer_arn(&lb_arn)
            .protocol(elb::types::ProtocolEnum::Http)
            .port(80)
            .default_actions(forward(&tg_app))
            .send()
            .await
            .expect("CreateListener");
        let listener_arn = listener.listeners()[0]
            .listener_arn()
            .expect("ARN")
            .to_string();
        client
            .create_rule()
            .listener_arn(&listener_arn)
            .priority(5)
            .conditions(
                elb::types::RuleCondition::builder()
                    .field("path-pattern")
                    .values("/admin/*")
                    .build(),
            )
            .actions(forward(&tg_admin))
            .send()
            .await
            .expect("CreateRule");
        (lb_arn, tg_app, tg_admin)
    });

    // Through the binary, to a folder.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("snap");
    vpcreach(&env)
        .args(["collect", "--out"])
        .arg(&out)
        .assert()
        .code(0)
        .stderr(predicates::str::contains("1 load balancers"));
    let region = out.join(REGION);
    for f in [
        "LoadBalancers.json",
        "Listeners.json",
        "Rules.json",
        "TargetGroups.json",
    ] {
        assert!(region.join(f).is_file(), "{f}");
    }
    // `describe-target-health` output is written with the ARN it describes (point 45).
    let mut with_arn = 0;
    for e in std::fs::read_dir(&region).expect("region folder") {
        let path = e.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        if name.starts_with("TargetHealth-") {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("JSON");
            assert!(v["TargetGroupArn"].is_string(), "{v}");
            assert!(v["TargetHealthDescriptions"].is_array(), "{v}");
            with_arn += 1;
        }
    }
    assert_eq!(with_arn, 2, "one file per target group");

    let mut loaded = Snapshot::load(&out).expect("load the collected folder");
    loaded.files.clear();
    assert!(loaded.not_modelled.is_empty(), "{:?}", loaded.not_modelled);
    // moto lacks the VPC Block Public Access calls: those (and only those) are "not collected".
    assert!(
        loaded
            .warnings
            .iter()
            .all(|w| w.contains("not collected") && w.contains("DescribeVpcBlockPublicAccess")),
        "{:?}",
        loaded.warnings
    );
    let lb = &loaded.load_balancers[0];
    assert_eq!(lb.load_balancer_arn, lb_arn);
    assert_eq!(lb.lb_type.as_deref(), Some("application"));
    assert_eq!(lb.scheme.as_deref(), Some("internal"));
    assert_eq!(lb.availability_zones.len(), 2);
    assert_eq!(loaded.listeners[0].port, Some(80));
    let rule = loaded
        .lb_rules
        .iter()
        .find(|r| r.priority.as_deref() == Some("5"))
        .expect("the rule");
    assert_eq!(rule.actions[0].forwards_to(), vec![tg_admin.as_str()]);
    assert_eq!(
        rule.listener_arn().as_deref(),
        loaded.listeners[0].listener_arn.as_str().into()
    );
    let health = loaded
        .target_health
        .iter()
        .find(|h| h.target_group_arn == tg_app)
        .expect("targets of app");
    assert_eq!(health.descriptions[0].target.id, "10.0.1.10");
    assert_eq!(health.descriptions[0].target.port, Some(8080));
    assert!(loaded
        .target_group_attributes
        .iter()
        .any(|a| a.arn == tg_app && !a.attributes.is_empty()));
    assert!(loaded
        .load_balancer_attributes
        .iter()
        .any(|a| a.arn == lb_arn));

    // The model links them: the listener forwards to both groups.
    let network = Network::build(&loaded);
    let i = network.load_balancer("web-alb").expect("by name");
    let forwards = &network.load_balancers[i].listeners[0].forwards;
    assert_eq!(forwards.len(), 2, "{forwards:?}");
    assert!(forwards.iter().any(|f| f.via.starts_with("rule 5")));

    // In memory: the same model as the folder.
    let collected = collect(&AwsOptions::default(), Arc::new(NoProgress)).expect("collect");
    let memory = collected.to_snapshot();
    assert_eq!(loaded.load_balancers, memory.load_balancers);
    assert_eq!(loaded.listeners, memory.listeners);
    assert_eq!(loaded.lb_rules, memory.lb_rules);
    assert_eq!(loaded.target_groups, memory.target_groups);
    assert_eq!(loaded.target_health, memory.target_health);
    assert_eq!(
        loaded.target_group_attributes,
        memory.target_group_attributes
    );
    assert_eq!(
        loaded.load_balancer_attributes,
        memory.load_balancer_attributes
    );

    // An endpoint without the ELB API: EC2 is collected, ELB is "not collected", said aloud.
    let mut env2 = env.clone();
    env2.push((
        "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2".into(),
        Some(endpoint_without_elb()),
    ));
    let out2 = dir.path().join("snap2");
    vpcreach(&env2)
        .args(["collect", "--out"])
        .arg(&out2)
        .assert()
        .code(0)
        .stderr(predicates::str::contains(
            "not collected: elasticloadbalancing:DescribeLoadBalancers (InvalidAction",
        ))
        .stderr(predicates::str::contains(
            "not collected: elasticloadbalancing:DescribeTargetGroups (InvalidAction",
        ));
    let snap2 = Snapshot::load(&out2).expect("load");
    assert!(snap2.load_balancers.is_empty());
    assert!(!snap2.vpcs.is_empty(), "EC2 still collected");
}
