//! `vpcreach collect` and `--live` against a local AWS-compatible endpoint (moto), through the
//! real SDK: the collected snapshot answers queries (an SG reference, a NACL deny rule), every
//! page of a paginated call is read, and the written folder loads back to the very model
//! collected in memory.
//!
//! One test, run in sections, because it sets this process's environment for the in-memory
//! collection.

mod aws_support;

use aws_support::*;
use std::sync::Arc;
use vpcreach::aws::{collect, AwsOptions, NoProgress};
use vpcreach::{Network, Protocol, Query, Reason, Snapshot, Verdict};

/// More resources of every kind the collector reads, for the round trip.
async fn seed_more(ec2: &aws_sdk_ec2::Client, net: &Seeded) {
    use aws_sdk_ec2::types::{AddPrefixListEntry, VpcEndpointType};
    let igw = ec2
        .create_internet_gateway()
        .send()
        .await
        .expect("CreateInternetGateway")
        .internet_gateway
        .and_then(|g| g.internet_gateway_id)
        .expect("igw id");
    ec2.attach_internet_gateway()
        .internet_gateway_id(&igw)
        .vpc_id(&net.vpc)
        .send()
        .await
        .expect("AttachInternetGateway");
    ec2.create_egress_only_internet_gateway()
        .vpc_id(&net.vpc)
        .send()
        .await
        .expect("CreateEgressOnlyInternetGateway");
    let eip = ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .expect("AllocateAddress")
        .allocation_id
        .expect("allocation id");
    ec2.create_nat_gateway()
        .subnet_id(&net.app_subnet)
        .allocation_id(&eip)
        .send()
        .await
        .expect("CreateNatGateway");
    let other_vpc = ec2
        .create_vpc()
        .cidr_block("10.9.0.0/16")
        .send()
        .await
        .expect("CreateVpc")
        .vpc
        .and_then(|v| v.vpc_id)
        .expect("vpc id");
    ec2.create_vpc_peering_connection()
        .vpc_id(&net.vpc)
        .peer_vpc_id(&other_vpc)
        .send()
        .await
        .expect("CreateVpcPeeringConnection");
    ec2.create_managed_prefix_list()
        .prefix_list_name("office")
        .address_family("IPv4")
        .max_entries(10)
        .entries(
            AddPrefixListEntry::builder()
                .cidr("203.0.113.0/24")
                .description("office")
                .build(),
        )
        .entries(
            AddPrefixListEntry::builder()
                .cidr("198.51.100.0/24")
                .build(),
        )
        .send()
        .await
        .expect("CreateManagedPrefixList");
    let tables = ec2
        .describe_route_tables()
        .send()
        .await
        .expect("DescribeRouteTables");
    let table = tables
        .route_tables()
        .iter()
        .find(|t| t.vpc_id() == Some(net.vpc.as_str()))
        .and_then(|t| t.route_table_id())
        .expect("the VPC's main route table")
        .to_string();
    ec2.create_vpc_endpoint()
        .vpc_id(&net.vpc)
        .service_name(format!("com.amazonaws.{REGION}.s3"))
        .vpc_endpoint_type(VpcEndpointType::Gateway)
        .route_table_ids(&table)
        .send()
        .await
        .expect("CreateVpcEndpoint");
    let tgw = ec2
        .create_transit_gateway()
        .description("hub")
        .send()
        .await
        .expect("CreateTransitGateway")
        .transit_gateway
        .and_then(|t| t.transit_gateway_id)
        .expect("tgw id");
    let attachment = ec2
        .create_transit_gateway_vpc_attachment()
        .transit_gateway_id(&tgw)
        .vpc_id(&net.vpc)
        .subnet_ids(&net.app_subnet)
        .send()
        .await
        .expect("CreateTransitGatewayVpcAttachment")
        .transit_gateway_vpc_attachment
        .and_then(|a| a.transit_gateway_attachment_id)
        .expect("attachment id");
    let tgw_table = ec2
        .create_transit_gateway_route_table()
        .transit_gateway_id(&tgw)
        .send()
        .await
        .expect("CreateTransitGatewayRouteTable")
        .transit_gateway_route_table
        .and_then(|t| t.transit_gateway_route_table_id)
        .expect("tgw route table id");
    ec2.create_transit_gateway_route()
        .transit_gateway_route_table_id(&tgw_table)
        .destination_cidr_block("10.0.0.0/16")
        .transit_gateway_attachment_id(&attachment)
        .send()
        .await
        .expect("CreateTransitGatewayRoute");
    // A flow log of the VPC that keeps only rejected traffic, delivered to S3.
    let made = ec2
        .create_flow_logs()
        .resource_type(aws_sdk_ec2::types::FlowLogsResourceType::Vpc)
        .resource_ids(&net.vpc)
        .traffic_type(aws_sdk_ec2::types::TrafficType::Reject)
        .log_destination_type(aws_sdk_ec2::types::LogDestinationType::S3)
        .log_destination("arn:aws:s3:::vpcreach-flow-logs")
        .send()
        .await
        .expect("CreateFlowLogs");
    assert!(made.unsuccessful().is_empty(), "{made:?}");
    let image = ec2
        .describe_images()
        .owners("amazon")
        .send()
        .await
        .expect("DescribeImages")
        .images()
        .first()
        .and_then(|i| i.image_id())
        .expect("an AMI")
        .to_string();
    ec2.run_instances()
        .image_id(image)
        .min_count(1)
        .max_count(1)
        .subnet_id(&net.app_subnet)
        .security_group_ids(&net.sg_app)
        .send()
        .await
        .expect("RunInstances");
}

fn assert_same(loaded: &Snapshot, memory: &Snapshot) {
    macro_rules! same {
        ($($field:ident),*) => {$(
            assert_eq!(loaded.$field, memory.$field, "`{}` differs", stringify!($field));
        )*};
    }
    same!(
        vpcs,
        subnets,
        route_tables,
        network_acls,
        security_groups,
        network_interfaces,
        instances,
        internet_gateways,
        egress_only_internet_gateways,
        nat_gateways,
        vpc_peering_connections,
        prefix_lists,
        managed_prefix_lists,
        vpc_endpoints,
        addresses,
        transit_gateways,
        transit_gateway_attachments,
        transit_gateway_route_tables,
        transit_gateway_route_sets,
        transit_gateway_propagations,
        flow_logs,
        vpc_block_public_access_options,
        vpc_block_public_access_exclusions
    );
    assert!(loaded.not_modelled.is_empty(), "{:?}", loaded.not_modelled);
}

fn query(net: &Network, from: &str, to: &str, port: u16) -> vpcreach::Trace {
    let (from, _) = net.resolve(from).expect("source in the snapshot");
    let (to, _) = net.resolve(to).expect("destination in the snapshot");
    net.query(&Query {
        from,
        to,
        protocol: Protocol::Number(6),
        port: Some(port),
        src_port: None,
    })
}

#[test]
fn collect_against_a_local_endpoint() {
    let moto = Moto::start();
    let env = aws_env(&moto.url, TEST_KEYS);
    set_process_env(&env);
    let rt = runtime();
    let config = rt.block_on(sdk_config(&moto.url, ("testing", "testing")));
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let net = rt.block_on(seed_network(&ec2));
    // The bucket the flow log delivers to (the endpoint checks that it exists).
    rt.block_on(async {
        s3(&config)
            .create_bucket()
            .bucket("vpcreach-flow-logs")
            .send()
            .await
            .expect("CreateBucket")
    });
    rt.block_on(seed_more(&ec2, &net));

    // 130 reservations: more than one page. (The endpoint pages `DescribeInstances`, at 100 by
    // default; it answers `DescribeSecurityGroups` whole, so a page there proves nothing.)
    let image = rt.block_on(async {
        ec2.describe_images()
            .owners("amazon")
            .send()
            .await
            .expect("DescribeImages")
            .images()
            .first()
            .and_then(|i| i.image_id())
            .expect("an AMI")
            .to_string()
    });
    rt.block_on(async {
        for _ in 0..130 {
            ec2.run_instances()
                .image_id(&image)
                .min_count(1)
                .max_count(1)
                .subnet_id(&net.db_subnet)
                .send()
                .await
                .expect("RunInstances");
        }
    });
    let (total_reservations, first_page_has_more) = rt.block_on(async {
        let page = ec2
            .describe_instances()
            .max_results(50)
            .send()
            .await
            .expect("DescribeInstances");
        let total = ec2
            .describe_instances()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .expect("DescribeInstances")
            .len();
        (
            total,
            page.reservations().len() == 50 && page.next_token().is_some(),
        )
    });
    assert_eq!(total_reservations, 131);
    assert!(
        first_page_has_more,
        "the endpoint does not page DescribeInstances at 50"
    );

    // Collect to a folder through the binary, timed.
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("snap");
    let started = std::time::Instant::now();
    vpcreach(&env)
        .args(["collect", "--out"])
        .arg(&out)
        .assert()
        .code(0)
        .stderr(predicates::str::contains("us-east-1:"))
        .stderr(predicates::str::contains("wrote"))
        // The endpoint does not implement VPC Block Public Access: said, never a silent gap.
        .stderr(predicates::str::contains(
            "warning: not collected (us-east-1): DescribeVpcBlockPublicAccessOptions in us-east-1 failed",
        ))
        .stderr(predicates::str::contains(
            "warning: not collected (us-east-1): DescribeVpcBlockPublicAccessExclusions in us-east-1 failed",
        ));
    eprintln!("collect against moto took {:?}", started.elapsed());
    assert!(out.join(REGION).join("SecurityGroups.json").is_file());
    assert!(out.join(vpcreach::aws::MARKER_FILE).is_file());

    // In memory, 50 per page: the whole of every call, and the same model as the folder.
    let opts = AwsOptions {
        page_size: Some(50),
        ..AwsOptions::default()
    };
    let collected = collect(&opts, Arc::new(NoProgress)).expect("collect in memory");
    let memory = collected.to_snapshot();
    assert_eq!(
        memory.instances.len(),
        131,
        "every page of DescribeInstances"
    );
    let mut loaded = Snapshot::load(&out).expect("load the collected folder");
    // What was not collected is left out of the folder, named in its marker, and a warning of
    // every command that loads it; a query over the internet says BPA state is not known.
    assert!(!out
        .join(REGION)
        .join("VpcBlockPublicAccessOptions.json")
        .exists());
    let marker = std::fs::read_to_string(out.join(vpcreach::aws::MARKER_FILE)).unwrap();
    assert!(
        marker.contains(
            "not-collected: not collected (us-east-1): DescribeVpcBlockPublicAccessOptions"
        ),
        "{marker}"
    );
    assert_eq!(
        loaded
            .warnings
            .iter()
            .filter(|w| w.contains("not collected (us-east-1): DescribeVpcBlockPublicAccess"))
            .count(),
        2,
        "{:?}",
        loaded.warnings
    );
    assert_eq!(
        memory
            .warnings
            .iter()
            .filter(|w| w.contains("not collected (us-east-1): DescribeVpcBlockPublicAccess"))
            .count(),
        2,
        "{:?}",
        memory.warnings
    );
    assert!(!loaded.files.is_empty());
    loaded.files.clear();
    assert_same(&loaded, &memory);
    // The flow log came along, and `coverage` reads it: the VPC keeps only rejections.
    assert_eq!(memory.flow_logs.len(), 1, "{:?}", memory.flow_logs);
    assert_eq!(
        memory.flow_logs[0].resource_id.as_deref(),
        Some(net.vpc.as_str())
    );
    let report = vpcreach(&env)
        .args(["coverage", "--output", "json", "--snapshot"])
        .arg(&out)
        .output()
        .expect("coverage");
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).expect("JSON");
    let vpc = report["vpcs"]
        .as_array()
        .and_then(|v| v.iter().find(|r| r["vpc_id"] == net.vpc.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(vpc["capture"], "reject_only", "{report:#}");
    // The kinds seeded came through.
    let pl = loaded
        .managed_prefix_lists
        .iter()
        .find(|p| p.prefix_list_name.as_deref() == Some("office"))
        .expect("the managed prefix list");
    assert_eq!(pl.entries.as_ref().map(Vec::len), Some(2));
    assert!(
        loaded
            .transit_gateway_route_tables
            .iter()
            .flat_map(|t| &t.routes)
            .any(
                |r| r.destination_cidr_block.as_deref() == Some("10.0.0.0/16")
                    && r.route_type.as_deref() == Some("static")
            ),
        "{:?}",
        loaded.transit_gateway_route_tables
    );
    assert_eq!(
        loaded.instances.len(),
        131,
        "every page of DescribeInstances"
    );
    assert_eq!(loaded.vpcs[0].origin.region.as_deref(), Some(REGION));
    for (what, n) in [
        ("internet gateways", loaded.internet_gateways.len()),
        (
            "egress-only gateways",
            loaded.egress_only_internet_gateways.len(),
        ),
        ("NAT gateways", loaded.nat_gateways.len()),
        ("peering connections", loaded.vpc_peering_connections.len()),
        ("VPC endpoints", loaded.vpc_endpoints.len()),
        ("addresses", loaded.addresses.len()),
        ("transit gateways", loaded.transit_gateways.len()),
        ("TGW attachments", loaded.transit_gateway_attachments.len()),
    ] {
        assert!(n >= 1, "no {what} collected");
    }

    // The snapshot answers queries: an SG reference allows, a NACL rule denies, no rule refuses.
    let network = Network::build(&loaded);
    let t = query(&network, &net.eni_app, &net.eni_db, 5432);
    assert_eq!(t.verdict, Verdict::Reachable, "{}", t.message);
    let t = query(&network, &net.eni_app, &net.eni_db, 22);
    assert_eq!(t.verdict, Verdict::Unreachable, "{}", t.message);
    assert_eq!(
        t.reason,
        Some(Reason::SubnetAclRestriction),
        "{}",
        t.message
    );
    let blocked = t.blocked_at.expect("where it was blocked");
    assert_eq!(blocked.resources, std::slice::from_ref(&net.nacl));
    assert_eq!(blocked.rule_number, Some(100));
    let t = query(&network, &net.eni_app, &net.eni_db, 3306);
    assert_eq!(t.reason, Some(Reason::SgRulesMismatch), "{}", t.message);

    // The same through the binary, from the folder and live.
    let json = vpcreach(&env)
        .args(["query", "--snapshot"])
        .arg(&out)
        .args(["--from", &net.eni_app, "--to", &net.eni_db, "--port", "22"])
        .args(["--output", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&json).expect("query JSON");
    assert_eq!(v["reason"], "SUBNET_ACL_RESTRICTION");
    assert_eq!(v["blocked_at"]["resources"][0], net.nacl.as_str());
    vpcreach(&env)
        .args(["query", "--live", "--region", REGION])
        .args([
            "--from",
            &net.eni_app,
            "--to",
            &net.eni_db,
            "--port",
            "5432",
        ])
        .assert()
        .code(0)
        .stdout(predicates::str::contains(net.sg_db.as_str()));
    vpcreach(&env)
        .args(["query", "--live"])
        .args(["--from", &net.eni_app, "--to", &net.eni_db, "--port", "22"])
        .assert()
        .code(1)
        .stdout(predicates::str::contains(net.nacl.as_str()));

    // A second run replaces the first snapshot; with --role-arn it goes under accounts/<id>/.
    let role = format!("arn:aws:iam::{ACCOUNT}:role/audit");
    vpcreach(&env)
        .args([
            "collect",
            "--quiet",
            "--role-arn",
            &role,
            "--external-id",
            "x",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(0)
        // --quiet prints no progress; what was not collected is still said.
        .stderr(predicates::function::function(|err: &str| {
            err.lines().count() == 2
                && err.lines().all(|l| {
                    l.starts_with(
                    "warning: not collected (123456789012/us-east-1): DescribeVpcBlockPublicAccess",
                )
                })
        }));
    assert!(out
        .join("accounts")
        .join(ACCOUNT)
        .join(REGION)
        .join("Vpcs.json")
        .is_file());
    assert!(!out.join(REGION).exists());
    let by_account = Snapshot::load(&out).expect("load");
    assert_eq!(by_account.vpcs.len(), loaded.vpcs.len());
    assert_eq!(by_account.vpcs[0].origin.account.as_deref(), Some(ACCOUNT));
}
