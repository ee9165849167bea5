//! Synthetic snapshots and flow logs at AWS-quota shape, for benchmarks and property tests.
//!
//! [`write_snapshot`] writes a folder of `describe-*` JSON files (one per call, compact JSON, the
//! shapes the AWS CLI saves) that [`crate::Snapshot::load`] reads like a real one. The network is
//! built deterministically from a [`SynthSpec`] and its seed:
//!
//! - VPC `v` owns `10.v.0.0/16` (smaller blocks when there are more than 256 VPCs) and an IPv6
//!   `/56`; VPCs `2m` and `2m+1` are peered.
//! - Subnet 0 of each VPC is public (route `0.0.0.0/0` and `::/0` to the internet gateway, the NAT
//!   gateway lives there, most of its ENIs have a public IPv4 address); subnet 1 has IPv6 with
//!   `::/0` to an egress-only internet gateway; the other subnets are private (`0.0.0.0/0` to the
//!   NAT gateway, the peer VPC through the peering, now and then a blackhole route to a deleted
//!   transit gateway). Every eighth subnet has no explicit route table and uses the main one.
//! - Three subnets in four have their own NACL with `nacl_rules` rules per direction mixing allow
//!   and deny, port ranges, ICMP type/code, IPv6 and protocol numbers, then the `*` rules (32767
//!   for IPv4, 32768 for IPv6, as AWS numbers them); the others use the VPC's default NACL.
//! - Each VPC has a pool of security groups (plus its `default` group) with `rules_per_sg` rules per
//!   direction, counted as AWS counts them (one per source): `tcp`, `udp`, `icmp`, `icmpv6`, `-1`
//!   and protocol numbers; IPv4 and IPv6 CIDRs, references to other groups of the pool (and to the
//!   peer VPC's groups through the peering), and references to managed prefix lists.
//! - ENIs are spread round-robin over the subnets, each with `sgs_per_eni` groups from its VPC's
//!   pool, chosen with a skew so that a few groups are shared by many ENIs, as in real accounts.
//!
//! [`write_flow_log`] writes version-2 flow-log records whose interface ids and addresses are those
//! of the same ENIs; it recomputes them from the spec, so it needs neither the snapshot nor memory
//! proportional to the number of ENIs.
//!
//! ```no_run
//! use vpcreach::testkit::synth::{write_flow_log, write_snapshot, SynthSpec};
//! # fn main() -> std::io::Result<()> {
//! let spec = SynthSpec::quota(10_000);
//! let summary = write_snapshot(&spec, std::path::Path::new("/tmp/snap"))?;
//! println!("{} ENIs, for example {}", summary.network_interfaces, summary.samples[0].network_interface_id);
//! write_flow_log(&spec, 1_000_000, std::path::Path::new("/tmp/flows.log"), 7)?;
//! # Ok(())
//! # }
//! ```

use serde_json::{json, Map, Value};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

/// The account that owns every synthetic resource.
pub const ACCOUNT_ID: &str = "111122223333";

/// The region of every synthetic resource.
pub const REGION: &str = "us-east-1";

/// The shape of a synthetic network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthSpec {
    /// Number of instance ENIs (NAT gateway ENIs come on top, one per VPC).
    pub enis: usize,
    /// Number of VPCs (at least 1).
    pub vpcs: usize,
    /// Subnets per VPC (at least 1; subnet 0 is the public one).
    pub subnets_per_vpc: usize,
    /// Security groups attached to each ENI (AWS default quota: 5).
    pub sgs_per_eni: usize,
    /// Rules per security group per direction, one per source (AWS quota: 60).
    pub rules_per_sg: usize,
    /// Rules per custom NACL per direction, besides the `*` rules (AWS default quota: 20).
    pub nacl_rules: usize,
    /// Total size of the security-group pool, shared out over the VPCs (each VPC gets at least
    /// `sgs_per_eni` groups); the VPCs' `default` groups come on top.
    pub sg_pool: usize,
    /// Seed: the same spec always gives the same files.
    pub seed: u64,
}

impl SynthSpec {
    /// The quota shape for `enis` ENIs: 5 groups per ENI, 60 rules per group per direction,
    /// 20-rule NACLs, one VPC per 1,000 ENIs, 16 subnets per VPC and a pool of `enis / 2` groups.
    pub fn quota(enis: usize) -> SynthSpec {
        SynthSpec {
            enis,
            vpcs: enis.div_ceil(1000).max(1),
            subnets_per_vpc: 16,
            sgs_per_eni: 5,
            rules_per_sg: 60,
            nacl_rules: 20,
            sg_pool: (enis / 2).max(5),
            seed: 0x7670_6372_6561_6368,
        }
    }
}

impl Default for SynthSpec {
    /// [`SynthSpec::quota`] for 1,000 ENIs.
    fn default() -> Self {
        SynthSpec::quota(1000)
    }
}

/// An ENI of a synthetic snapshot, for a benchmark to query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleEni {
    /// `eni-…`.
    pub network_interface_id: String,
    /// The instance it is attached to.
    pub instance_id: String,
    /// Its VPC.
    pub vpc_id: String,
    /// Its subnet.
    pub subnet_id: String,
    /// Its primary private IPv4 address.
    pub private_ip: Ipv4Addr,
    /// Its public IPv4 address, when it has one.
    pub public_ip: Option<Ipv4Addr>,
    /// Its IPv6 address, when its subnet has IPv6.
    pub ipv6: Option<Ipv6Addr>,
    /// Its security groups.
    pub security_groups: Vec<String>,
}

/// What [`write_snapshot`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynthSummary {
    /// VPCs.
    pub vpcs: usize,
    /// Subnets.
    pub subnets: usize,
    /// Route tables (main tables included).
    pub route_tables: usize,
    /// Routes over all route tables.
    pub routes: usize,
    /// Network ACLs (default NACLs included).
    pub network_acls: usize,
    /// NACL entries over all NACLs, `*` rules included.
    pub nacl_entries: usize,
    /// Security groups (default groups included).
    pub security_groups: usize,
    /// Security-group rules over both directions, one per source as AWS counts them.
    pub sg_rules: usize,
    /// ENIs (instance ENIs and NAT gateway ENIs).
    pub network_interfaces: usize,
    /// Internet gateways.
    pub internet_gateways: usize,
    /// Egress-only internet gateways.
    pub egress_only_internet_gateways: usize,
    /// NAT gateways.
    pub nat_gateways: usize,
    /// Peering connections.
    pub peering_connections: usize,
    /// Managed prefix lists.
    pub managed_prefix_lists: usize,
    /// The files written.
    pub files: Vec<PathBuf>,
    /// Their total size in bytes.
    pub bytes: u64,
    /// A few ENIs to query: the first ENI of each of the first subnets of VPC 0 (the first one in
    /// the public subnet, with a public IP), then one of VPC 1 when there is one.
    pub samples: Vec<SampleEni>,
}

/// What [`write_flow_log`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowLogSummary {
    /// Records written (header excluded).
    pub records: usize,
    /// Records with action `ACCEPT`.
    pub accept: usize,
    /// Records with action `REJECT`.
    pub reject: usize,
    /// `NODATA` records.
    pub nodata: usize,
    /// `SKIPDATA` records.
    pub skipdata: usize,
    /// Bytes written.
    pub bytes: u64,
}

// ---------------------------------------------------------------------------------------------
// Randomness and ids

/// The splitmix64 finalizer: a bijection on `u64`.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A splitmix64 generator; one per generated item so that items can be recomputed alone.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64, index: u64) -> Rng {
        Rng(mix(seed
            ^ mix(
                stream.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ mix(index)
            )))
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `0..n` as a `usize`.
    fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// A uniform element of a non-empty constant table.
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.index(xs.len())]
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
}

// Streams of the per-item generators and salts of the ids.
const S_ENI: u64 = 1;
const S_SG: u64 = 2;
const S_NACL: u64 = 3;
const S_RT: u64 = 4;
const S_PL: u64 = 5;
const S_FLOW: u64 = 6;
const S_ID: u64 = 7;

/// A 17-hex-digit AWS-style id, unique per (kind, index) for a given seed.
fn aws_id(prefix: &str, seed: u64, kind: u64, index: u64) -> String {
    let base = mix(seed ^ mix(S_ID.wrapping_mul(31).wrapping_add(kind)));
    format!("{prefix}-0{:016x}", mix(base.wrapping_add(index)))
}

fn tags(name: String) -> Value {
    json!([{"Key": "Name", "Value": name}])
}

fn cidr4(base: u32, prefix: u8) -> String {
    format!("{}/{}", Ipv4Addr::from(base), prefix)
}

fn cidr6(base: u128, prefix: u8) -> String {
    format!("{}/{}", Ipv6Addr::from(base), prefix)
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

fn ceil_log2(n: usize) -> u32 {
    if n <= 1 {
        0
    } else {
        usize::BITS - (n - 1).leading_zeros()
    }
}

// ---------------------------------------------------------------------------------------------
// The plan: addresses and ids computed from the spec, item by item

const AZS: [&str; 6] = [
    "us-east-1a",
    "us-east-1b",
    "us-east-1c",
    "us-east-1d",
    "us-east-1e",
    "us-east-1f",
];
const AZ_IDS: [&str; 6] = [
    "use1-az4", "use1-az6", "use1-az1", "use1-az2", "use1-az3", "use1-az5",
];
/// Kinds of ids.
const K_VPC: u64 = 1;
const K_SUBNET: u64 = 2;
const K_RTB: u64 = 3;
const K_ACL: u64 = 4;
const K_SG: u64 = 5;
const K_ENI: u64 = 6;
const K_INSTANCE: u64 = 7;
const K_IGW: u64 = 8;
const K_EIGW: u64 = 9;
const K_NAT: u64 = 10;
const K_PCX: u64 = 11;
const K_PL: u64 = 12;
const K_TGW: u64 = 13;
const K_ASSOC: u64 = 14;
const K_EIP: u64 = 15;
const K_ATTACH: u64 = 16;

/// First address of the public IPv4 pool of instance ENIs (44.192.0.0/11 is a us-east-1 block).
const PUBLIC_POOL: u32 = 0x2cc0_0000;
/// First address of the NAT gateways' Elastic IPs.
const NAT_EIP_POOL: u32 = 0x03d0_0000;
/// `2600:1f18::/32`, Amazon's us-east-1 IPv6 block.
const V6_BASE: u128 = 0x2600_1f18 << 96;

/// Customer-managed prefix lists (name, address family) and the AWS-managed ones.
const CUSTOMER_PLS: [(&str, &str); 5] = [
    ("corp-offices", "IPv4"),
    ("partners", "IPv4"),
    ("monitoring-vendors", "IPv4"),
    ("onprem-datacenters", "IPv4"),
    ("corp-offices-v6", "IPv6"),
];
const AWS_PLS: [(&str, &str, &[&str]); 2] = [
    (
        "pl-63a5400a",
        "com.amazonaws.us-east-1.s3",
        &[
            "3.5.0.0/19",
            "16.182.0.0/16",
            "18.34.0.0/19",
            "52.216.0.0/15",
            "54.231.0.0/16",
        ],
    ),
    (
        "pl-02cd2c6b",
        "com.amazonaws.us-east-1.dynamodb",
        &["3.218.180.0/22", "35.71.64.0/22", "52.94.0.0/22"],
    ),
];

#[derive(Debug, Clone)]
struct Plan {
    spec: SynthSpec,
    vpc_prefix: u8,
    subnet_prefix: u8,
    total_subnets: usize,
    /// ENI slots per subnet (the busiest subnet's count).
    per_subnet: usize,
    /// Whether there is room for secondary addresses.
    secondaries: bool,
    /// Pool groups per VPC (the `default` group excluded).
    pool_per_vpc: usize,
}

/// One instance ENI, recomputed from its index.
#[derive(Debug, Clone)]
struct Eni {
    index: usize,
    vpc: usize,
    /// Subnet index within the VPC.
    subnet: usize,
    ip: u32,
    secondary: Option<u32>,
    public_ip: Option<u32>,
    ipv6: Option<u128>,
    /// Pool indices within the VPC.
    groups: Vec<usize>,
}

impl Plan {
    fn new(spec: &SynthSpec) -> io::Result<Plan> {
        if spec.vpcs == 0 || spec.subnets_per_vpc == 0 {
            return Err(invalid(
                "a synthetic network needs at least one VPC and one subnet per VPC".into(),
            ));
        }
        if spec.subnets_per_vpc > 256 {
            return Err(invalid(format!(
                "{} subnets per VPC: at most 256 are generated",
                spec.subnets_per_vpc
            )));
        }
        let vpc_prefix = if spec.vpcs <= 256 {
            16
        } else {
            8 + ceil_log2(spec.vpcs)
        };
        let min_subnet_prefix = vpc_prefix + ceil_log2(spec.subnets_per_vpc);
        if min_subnet_prefix > 28 {
            return Err(invalid(format!(
                "{} VPCs of {} subnets do not fit in 10.0.0.0/8",
                spec.vpcs, spec.subnets_per_vpc
            )));
        }
        let total_subnets = spec.vpcs * spec.subnets_per_vpc;
        let per_subnet = spec.enis.div_ceil(total_subnets);
        // 5 addresses reserved by AWS, one for the NAT gateway of the public subnet.
        let fits = |need: usize, prefix: u32| need <= (1usize << (32 - prefix));
        let (secondaries, need) = if fits(2 * per_subnet + 6, min_subnet_prefix) {
            (true, 2 * per_subnet + 6)
        } else if fits(per_subnet + 6, min_subnet_prefix) {
            (false, per_subnet + 6)
        } else {
            return Err(invalid(format!(
                "{} ENIs do not fit in {} subnets of /{}: add VPCs or subnets",
                spec.enis, total_subnets, min_subnet_prefix
            )));
        };
        // The smallest subnet that holds them, /24 or smaller when possible, as people size them.
        let mut subnet_prefix = min_subnet_prefix;
        while subnet_prefix < 24 && fits(need, subnet_prefix + 1) {
            subnet_prefix += 1;
        }
        let pool_per_vpc = spec
            .sg_pool
            .div_ceil(spec.vpcs)
            .max(spec.sgs_per_eni)
            .max(1);
        Ok(Plan {
            spec: spec.clone(),
            vpc_prefix: vpc_prefix as u8,
            subnet_prefix: subnet_prefix as u8,
            total_subnets,
            per_subnet,
            secondaries,
            pool_per_vpc,
        })
    }

    fn seed(&self) -> u64 {
        self.spec.seed
    }

    fn id(&self, prefix: &str, kind: u64, index: usize) -> String {
        aws_id(prefix, self.seed(), kind, index as u64)
    }

    fn vpc_id(&self, v: usize) -> String {
        self.id("vpc", K_VPC, v)
    }

    fn vpc_base(&self, v: usize) -> u32 {
        (10u32 << 24) | ((v as u32) << (32 - u32::from(self.vpc_prefix)))
    }

    fn vpc_cidr(&self, v: usize) -> String {
        cidr4(self.vpc_base(v), self.vpc_prefix)
    }

    fn vpc_v6(&self, v: usize) -> u128 {
        V6_BASE | ((v as u128) << 72)
    }

    fn peer(&self, v: usize) -> Option<usize> {
        let p = v ^ 1;
        (p < self.spec.vpcs).then_some(p)
    }

    fn pcx_index(&self, v: usize) -> usize {
        v / 2
    }

    fn subnet_global(&self, v: usize, j: usize) -> usize {
        v * self.spec.subnets_per_vpc + j
    }

    fn subnet_id(&self, v: usize, j: usize) -> String {
        self.id("subnet", K_SUBNET, self.subnet_global(v, j))
    }

    fn subnet_base(&self, v: usize, j: usize) -> u32 {
        self.vpc_base(v) | ((j as u32) << (32 - u32::from(self.subnet_prefix)))
    }

    fn subnet_cidr(&self, v: usize, j: usize) -> String {
        cidr4(self.subnet_base(v, j), self.subnet_prefix)
    }

    /// Subnets 0 and 1 of each VPC have an IPv6 `/64`.
    fn subnet_v6(&self, v: usize, j: usize) -> Option<u128> {
        (j < 2).then(|| self.vpc_v6(v) | ((j as u128) << 64))
    }

    fn nat_ip(&self, v: usize) -> u32 {
        self.subnet_base(v, 0) + 4
    }

    fn sg_id(&self, v: usize, local: usize) -> String {
        self.id("sg", K_SG, v * (self.pool_per_vpc + 1) + local)
    }

    /// The `default` group of VPC `v` (pool index `pool_per_vpc`).
    fn default_sg_id(&self, v: usize) -> String {
        self.sg_id(v, self.pool_per_vpc)
    }

    /// The generator of pool group `g` of VPC `v`, and the group's name (drawn first).
    fn sg_rng_and_name(&self, v: usize, g: usize) -> (Rng, String) {
        let mut rng = Rng::new(self.seed(), S_SG, (v * self.pool_per_vpc + g) as u64);
        let role = rng.pick(&SG_ROLES);
        (rng, format!("{role}-{v}-{g}"))
    }

    fn pl_count(&self) -> usize {
        CUSTOMER_PLS.len() + AWS_PLS.len()
    }

    fn pl_id(&self, i: usize) -> String {
        match i.checked_sub(CUSTOMER_PLS.len()) {
            Some(a) if a < AWS_PLS.len() => AWS_PLS[a].0.to_string(),
            _ => self.id("pl", K_PL, i),
        }
    }

    /// How many ENIs live in global subnet `gs` (round-robin placement).
    fn enis_in_subnet(&self, gs: usize) -> usize {
        if gs >= self.spec.enis {
            0
        } else {
            (self.spec.enis - gs).div_ceil(self.total_subnets)
        }
    }

    fn eni(&self, k: usize) -> Eni {
        let gs = k % self.total_subnets;
        let slot = k / self.total_subnets;
        let v = gs / self.spec.subnets_per_vpc;
        let j = gs % self.spec.subnets_per_vpc;
        let base = self.subnet_base(v, j);
        let mut rng = Rng::new(self.seed(), S_ENI, k as u64);
        let ip = base + 5 + slot as u32;
        let secondary = (self.secondaries && rng.chance(100))
            .then(|| base + 5 + self.per_subnet as u32 + slot as u32);
        let public_ip =
            (j == 0 && (slot == 0 || rng.chance(800))).then(|| PUBLIC_POOL.wrapping_add(k as u32));
        let ipv6 = self
            .subnet_v6(v, j)
            .map(|net| net | u128::from(mix(k as u64 ^ 0x6666) | 1));
        // Skewed choice: low pool indices (the "common" groups) are picked far more often.
        let want = self.spec.sgs_per_eni.min(self.pool_per_vpc);
        let mut groups: Vec<usize> = Vec::with_capacity(want);
        let mut tries = 0;
        while groups.len() < want && tries < 8 * want {
            tries += 1;
            let r = rng.next_u64() as f64 / u64::MAX as f64;
            let g = ((r * r * r) * self.pool_per_vpc as f64) as usize;
            let g = g.min(self.pool_per_vpc - 1);
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        // When the pool is barely larger than the choice, complete it with the first free groups.
        let mut g = 0;
        while groups.len() < want {
            if !groups.contains(&g) {
                groups.push(g);
            }
            g += 1;
        }
        Eni {
            index: k,
            vpc: v,
            subnet: j,
            ip,
            secondary,
            public_ip,
            ipv6,
            groups,
        }
    }

    fn sample(&self, e: &Eni) -> SampleEni {
        SampleEni {
            network_interface_id: self.id("eni", K_ENI, e.index),
            instance_id: self.id("i", K_INSTANCE, e.index),
            vpc_id: self.vpc_id(e.vpc),
            subnet_id: self.subnet_id(e.vpc, e.subnet),
            private_ip: Ipv4Addr::from(e.ip),
            public_ip: e.public_ip.map(Ipv4Addr::from),
            ipv6: e.ipv6.map(Ipv6Addr::from),
            security_groups: e.groups.iter().map(|&g| self.sg_id(e.vpc, g)).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Writing

/// A `{"Key": [ … ]}` file written one element at a time.
struct ArrayFile {
    path: PathBuf,
    out: BufWriter<File>,
    first: bool,
}

impl ArrayFile {
    fn create(dir: &Path, key: &str) -> io::Result<ArrayFile> {
        let path = dir.join(format!("{key}.json"));
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        write!(out, "{{\"{key}\":[")?;
        Ok(ArrayFile {
            path,
            out,
            first: true,
        })
    }

    fn push(&mut self, v: &Value) -> io::Result<()> {
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, v)?;
        Ok(())
    }

    fn finish(mut self, summary: &mut SynthSummary) -> io::Result<()> {
        self.out.write_all(b"]}\n")?;
        self.out.flush()?;
        summary.bytes += std::fs::metadata(&self.path)?.len();
        summary.files.push(self.path);
        Ok(())
    }
}

/// Writes a synthetic snapshot into `dir` (created if missing): `Vpcs.json`, `Subnets.json`,
/// `RouteTables.json`, `NetworkAcls.json`, `SecurityGroups.json`, `NetworkInterfaces.json`,
/// `InternetGateways.json`, `EgressOnlyInternetGateways.json`, `NatGateways.json`,
/// `VpcPeeringConnections.json` and `ManagedPrefixLists.json`.
///
/// Fails with [`io::ErrorKind::InvalidInput`] when the spec has no VPC or subnet, or when its ENIs
/// do not fit in the address space (at most 10.0.0.0/8 is used).
pub fn write_snapshot(spec: &SynthSpec, dir: &Path) -> io::Result<SynthSummary> {
    let plan = Plan::new(spec)?;
    std::fs::create_dir_all(dir)?;
    let mut s = SynthSummary::default();
    write_vpcs(&plan, dir, &mut s)?;
    write_subnets(&plan, dir, &mut s)?;
    write_gateways(&plan, dir, &mut s)?;
    write_route_tables(&plan, dir, &mut s)?;
    write_nacls(&plan, dir, &mut s)?;
    write_prefix_lists(&plan, dir, &mut s)?;
    write_security_groups(&plan, dir, &mut s)?;
    write_enis(&plan, dir, &mut s)?;
    // Samples: the first ENI of the first few subnets of VPC 0, then one of VPC 1.
    let mut picks: Vec<usize> = (0..spec.subnets_per_vpc.min(4)).collect();
    if spec.vpcs > 1 {
        picks.push(spec.subnets_per_vpc);
    }
    s.samples = picks
        .into_iter()
        .filter(|&k| k < spec.enis)
        .map(|k| plan.sample(&plan.eni(k)))
        .collect();
    Ok(s)
}

fn write_vpcs(p: &Plan, dir: &Path, s: &mut SynthSummary) -> io::Result<()> {
    let mut f = ArrayFile::create(dir, "Vpcs")?;
    for v in 0..p.spec.vpcs {
        f.push(&json!({
            "CidrBlock": p.vpc_cidr(v),
            "CidrBlockAssociationSet": [{
                "AssociationId": p.id("vpc-cidr-assoc", K_ASSOC, 2 * v),
                "CidrBlock": p.vpc_cidr(v),
                "CidrBlockState": {"State": "associated"}
            }],
            "Ipv6CidrBlockAssociationSet": [{
                "AssociationId": p.id("vpc-cidr-assoc", K_ASSOC, 2 * v + 1),
                "Ipv6CidrBlock": cidr6(p.vpc_v6(v), 56),
                "Ipv6CidrBlockState": {"State": "associated"},
                "Ipv6Pool": "Amazon",
                "NetworkBorderGroup": REGION
            }],
            "DhcpOptionsId": p.id("dopt", K_ASSOC, 0),
            "InstanceTenancy": "default",
            "IsDefault": false,
            "OwnerId": ACCOUNT_ID,
            "State": "available",
            "Tags": tags(format!("synth-vpc-{v}")),
            "VpcId": p.vpc_id(v)
        }))?;
        s.vpcs += 1;
    }
    f.finish(s)
}

fn write_subnets(p: &Plan, dir: &Path, s: &mut SynthSummary) -> io::Result<()> {
    let mut f = ArrayFile::create(dir, "Subnets")?;
    let size = 1usize << (32 - u32::from(p.subnet_prefix));
    for v in 0..p.spec.vpcs {
        for j in 0..p.spec.subnets_per_vpc {
            let gs = p.subnet_global(v, j);
            let used = p.enis_in_subnet(gs) + usize::from(j == 0);
            let v6: Vec<Value> = p
                .subnet_v6(v, j)
                .map(|net| {
                    json!({
                        "AssociationId": p.id("subnet-cidr-assoc", K_ASSOC, 1_000_000 + gs),
                        "Ipv6CidrBlock": cidr6(net, 64),
                        "Ipv6CidrBlockState": {"State": "associated"}
                    })
                })
                .into_iter()
                .collect();
            let id = p.subnet_id(v, j);
            f.push(&json!({
                "AssignIpv6AddressOnCreation": !v6.is_empty(),
                "AvailabilityZone": AZS[j % AZS.len()],
                "AvailabilityZoneId": AZ_IDS[j % AZ_IDS.len()],
                "AvailableIpAddressCount": size.saturating_sub(5 + used),
                "CidrBlock": p.subnet_cidr(v, j),
                "DefaultForAz": false,
                "Ipv6CidrBlockAssociationSet": v6,
                "MapPublicIpOnLaunch": j == 0,
                "OwnerId": ACCOUNT_ID,
                "State": "available",
                "SubnetArn": format!("arn:aws:ec2:{REGION}:{ACCOUNT_ID}:subnet/{id}"),
                "SubnetId": id,
                "Tags": tags(format!("synth-vpc-{v}-{}-{j}", if j == 0 { "public" } else { "private" })),
                "VpcId": p.vpc_id(v)
            }))?;
            s.subnets += 1;
        }
    }
    f.finish(s)
}

fn write_gateways(p: &Plan, dir: &Path, s: &mut SynthSummary) -> io::Result<()> {
    let mut igw = ArrayFile::create(dir, "InternetGateways")?;
    let mut eigw = ArrayFile::create(dir, "EgressOnlyInternetGateways")?;
    let mut nat = ArrayFile::create(dir, "NatGateways")?;
    let mut pcx = ArrayFile::create(dir, "VpcPeeringConnections")?;
    for v in 0..p.spec.vpcs {
        igw.push(&json!({
            "Attachments": [{"State": "available", "VpcId": p.vpc_id(v)}],
            "InternetGatewayId": p.id("igw", K_IGW, v),
            "OwnerId": ACCOUNT_ID,
            "Tags": tags(format!("synth-vpc-{v}-igw"))
        }))?;
        eigw.push(&json!({
            "Attachments": [{"State": "attached", "VpcId": p.vpc_id(v)}],
            "EgressOnlyInternetGatewayId": p.id("eigw", K_EIGW, v),
            "Tags": tags(format!("synth-vpc-{v}-eigw"))
        }))?;
        nat.push(&json!({
            "ConnectivityType": "public",
            "CreateTime": "2024-01-15T10:00:00+00:00",
            "NatGatewayAddresses": [{
                "AllocationId": p.id("eipalloc", K_EIP, v),
                "AssociationId": p.id("eipassoc", K_EIP, v),
                "IsPrimary": true,
                "NetworkInterfaceId": p.id("eni", K_ENI, p.spec.enis + v),
                "PrivateIp": Ipv4Addr::from(p.nat_ip(v)).to_string(),
                "PublicIp": Ipv4Addr::from(NAT_EIP_POOL.wrapping_add(v as u32)).to_string(),
                "Status": "succeeded"
            }],
            "NatGatewayId": p.id("nat", K_NAT, v),
            "State": "available",
            "SubnetId": p.subnet_id(v, 0),
            "Tags": tags(format!("synth-vpc-{v}-nat")),
            "VpcId": p.vpc_id(v)
        }))?;
        s.internet_gateways += 1;
        s.egress_only_internet_gateways += 1;
        s.nat_gateways += 1;
        if let Some(peer) = p.peer(v).filter(|&peer| peer > v) {
            let side = |x: usize| {
                json!({
                    "CidrBlock": p.vpc_cidr(x),
                    "CidrBlockSet": [{"CidrBlock": p.vpc_cidr(x)}],
                    "Ipv6CidrBlockSet": [{"Ipv6CidrBlock": cidr6(p.vpc_v6(x), 56)}],
                    "OwnerId": ACCOUNT_ID,
                    "PeeringOptions": {
                        "AllowDnsResolutionFromRemoteVpc": false,
                        "AllowEgressFromLocalClassicLinkToRemoteVpc": false,
                        "AllowEgressFromLocalVpcToRemoteClassicLink": false
                    },
                    "Region": REGION,
                    "VpcId": p.vpc_id(x)
                })
            };
            pcx.push(&json!({
                "AccepterVpcInfo": side(peer),
                "RequesterVpcInfo": side(v),
                "Status": {"Code": "active", "Message": "Active"},
                "Tags": tags(format!("synth-vpc-{v}-to-{peer}")),
                "VpcPeeringConnectionId": p.id("pcx", K_PCX, p.pcx_index(v))
            }))?;
            s.peering_connections += 1;
        }
    }
    igw.finish(s)?;
    eigw.finish(s)?;
    nat.finish(s)?;
    pcx.finish(s)
}

fn local_routes(p: &Plan, v: usize) -> Vec<Value> {
    vec![
        json!({"DestinationCidrBlock": p.vpc_cidr(v), "GatewayId": "local",
               "Origin": "CreateRouteTable", "State": "active"}),
        json!({"DestinationIpv6CidrBlock": cidr6(p.vpc_v6(v), 56), "GatewayId": "local",
               "Origin": "CreateRouteTable", "State": "active"}),
    ]
}

fn route(dest: &str, v6: bool, target_key: &str, target: &str, state: &str) -> Value {
    let mut m = Map::new();
    let dkey = if v6 {
        "DestinationIpv6CidrBlock"
    } else {
        "DestinationCidrBlock"
    };
    m.insert(dkey.into(), dest.into());
    m.insert(target_key.into(), target.into());
    m.insert("Origin".into(), "CreateRoute".into());
    m.insert("State".into(), state.into());
    Value::Object(m)
}

fn write_route_tables(p: &Plan, dir: &Path, s: &mut SynthSummary) -> io::Result<()> {
    let mut f = ArrayFile::create(dir, "RouteTables")?;
    let spv = p.spec.subnets_per_vpc;
    // Route table index space: per VPC, 0 = main, 1 + j = subnet j's table.
    let rtb_index = |v: usize, t: usize| v * (spv + 1) + t;
    for v in 0..p.spec.vpcs {
        let vpc_id = p.vpc_id(v);
        let main_id = p.id("rtb", K_RTB, rtb_index(v, 0));
        let mut main_routes = local_routes(p, v);
        if let Some(peer) = p.peer(v) {
            let pcx = p.id("pcx", K_PCX, p.pcx_index(v));
            main_routes.push(route(
                &p.vpc_cidr(peer),
                false,
                "VpcPeeringConnectionId",
                &pcx,
                "active",
            ));
        }
        s.routes += main_routes.len();
        f.push(&json!({
            "Associations": [{
                "AssociationState": {"State": "associated"},
                "Main": true,
                "RouteTableAssociationId": p.id("rtbassoc", K_RTB, rtb_index(v, 0)),
                "RouteTableId": main_id
            }],
            "OwnerId": ACCOUNT_ID,
            "PropagatingVgws": [],
            "RouteTableId": main_id,
            "Routes": main_routes,
            "Tags": tags(format!("synth-vpc-{v}-main")),
            "VpcId": vpc_id
        }))?;
        s.route_tables += 1;
        for j in 0..spv {
            // Every eighth subnet keeps the main route table.
            if j % 8 == 7 {
                continue;
            }
            let mut rng = Rng::new(p.seed(), S_RT, p.subnet_global(v, j) as u64);
            let id = p.id("rtb", K_RTB, rtb_index(v, 1 + j));
            let mut routes = local_routes(p, v);
            if j == 0 {
                let igw = p.id("igw", K_IGW, v);
                routes.push(route("0.0.0.0/0", false, "GatewayId", &igw, "active"));
                routes.push(route("::/0", true, "GatewayId", &igw, "active"));
            } else {
                let nat = p.id("nat", K_NAT, v);
                routes.push(route("0.0.0.0/0", false, "NatGatewayId", &nat, "active"));
                if j == 1 {
                    let eigw = p.id("eigw", K_EIGW, v);
                    routes.push(route(
                        "::/0",
                        true,
                        "EgressOnlyInternetGatewayId",
                        &eigw,
                        "active",
                    ));
                }
                if let Some(peer) = p.peer(v) {
                    let pcx = p.id("pcx", K_PCX, p.pcx_index(v));
                    routes.push(route(
                        &p.vpc_cidr(peer),
                        false,
                        "VpcPeeringConnectionId",
                        &pcx,
                        "active",
                    ));
                }
                if rng.chance(125) {
                    let tgw = p.id("tgw", K_TGW, v);
                    routes.push(route(
                        "192.168.0.0/16",
                        false,
                        "TransitGatewayId",
                        &tgw,
                        "blackhole",
                    ));
                }
                // A few more-specific routes to the NAT gateway (partner networks).
                for _ in 0..rng.below(4) {
                    let net = 0x3400_0000u32 | ((rng.below(1 << 16) as u32) << 8);
                    routes.push(route(
                        &cidr4(net, 24),
                        false,
                        "NatGatewayId",
                        &nat,
                        "active",
                    ));
                }
            }
            s.routes += routes.len();
            f.push(&json!({
                "Associations": [{
                    "AssociationState": {"State": "associated"},
                    "Main": false,
                    "RouteTableAssociationId": p.id("rtbassoc", K_RTB, rtb_index(v, 1 + j)),
                    "RouteTableId": id,
                    "SubnetId": p.subnet_id(v, j)
                }],
                "OwnerId": ACCOUNT_ID,
                "PropagatingVgws": [],
                "RouteTableId": id,
                "Routes": routes,
                "Tags": tags(format!("synth-vpc-{v}-rt-{j}")),
                "VpcId": vpc_id
            }))?;
            s.route_tables += 1;
        }
    }
    f.finish(s)
}

struct NaclEntry<'a> {
    number: u32,
    egress: bool,
    allow: bool,
    protocol: &'a str,
    v4: Option<String>,
    v6: Option<String>,
    ports: Option<(u16, u16)>,
    icmp: Option<(i32, i32)>,
}

impl NaclEntry<'_> {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(c) = &self.v4 {
            m.insert("CidrBlock".into(), c.as_str().into());
        }
        if let Some(c) = &self.v6 {
            m.insert("Ipv6CidrBlock".into(), c.as_str().into());
        }
        m.insert("Egress".into(), self.egress.into());
        if let Some((t, c)) = self.icmp {
            m.insert("IcmpTypeCode".into(), json!({"Code": c, "Type": t}));
        }
        if let Some((from, to)) = self.ports {
            m.insert("PortRange".into(), json!({"From": from, "To": to}));
        }
        m.insert("Protocol".into(), self.protocol.into());
        let action = if self.allow { "allow" } else { "deny" };
        m.insert("RuleAction".into(), action.into());
        m.insert("RuleNumber".into(), self.number.into());
        Value::Object(m)
    }
}

/// Port choices of NACL and security-group rules.
const TCP_PORTS: [(u16, u16); 16] = [
    (22, 22),
    (80, 80),
    (443, 443),
    (443, 443),
    (3306, 3306),
    (5432, 5432),
    (6379, 6379),
    (8080, 8080),
    (8443, 8443),
    (9200, 9300),
    (27017, 27017),
    (3389, 3389),
    (1024, 65535),
    (32768, 60999),
    (8000, 8999),
    (0, 65535),
];
const UDP_PORTS: [(u16, u16); 6] = [
    (53, 53),
    (123, 123),
    (161, 162),
    (514, 514),
    (8125, 8125),
    (1024, 65535),
];
const ICMP_TYPES: [(i32, i32); 5] = [(-1, -1), (8, -1), (0, -1), (3, 4), (11, 0)];
const ICMP6_TYPES: [(i32, i32); 4] = [(-1, -1), (128, -1), (129, -1), (2, 0)];
/// First octets of "internet" addresses (no private or reserved block).
const INTERNET_OCTETS: [u32; 12] = [23, 34, 45, 52, 66, 77, 91, 104, 142, 151, 185, 203];

fn internet_v4(rng: &mut Rng) -> u32 {
    (rng.pick(&INTERNET_OCTETS) << 24) | (rng.below(1 << 24) as u32)
}

fn internet_v6(rng: &mut Rng) -> u128 {
    (0x2a00u128 << 112) | (u128::from(rng.next_u64()) << 48)
}

/// A random CIDR a NACL or security-group rule could name, for VPC `v`.
fn some_v4_cidr(p: &Plan, v: usize, rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => "0.0.0.0/0".into(),
        1 | 2 => p.vpc_cidr(v),
        3 | 4 => p.subnet_cidr(v, rng.index(p.spec.subnets_per_vpc)),
        5 => p
            .peer(v)
            .map(|x| p.vpc_cidr(x))
            .unwrap_or_else(|| "10.0.0.0/8".into()),
        6 => "10.0.0.0/8".into(),
        7 => cidr4(internet_v4(rng) & !0xff, 24),
        8 => cidr4(internet_v4(rng), 32),
        _ => {
            let prefix = rng.range(16, 28) as u8;
            let mask = u32::MAX << (32 - u32::from(prefix));
            cidr4(internet_v4(rng) & mask, prefix)
        }
    }
}

fn some_v6_cidr(p: &Plan, v: usize, rng: &mut Rng) -> String {
    match rng.below(5) {
        0 | 1 => "::/0".into(),
        2 => cidr6(p.vpc_v6(v), 56),
        3 => cidr6(p.vpc_v6(v) | ((rng.below(2) as u128) << 64), 64),
        _ => cidr6(internet_v6(rng) & (u128::MAX << 80), 48),
    }
}

fn nacl_rules(p: &Plan, v: usize, rng: &mut Rng, egress: bool) -> Vec<NaclEntry<'static>> {
    let n = p.spec.nacl_rules;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let number = 100 + 10 * i as u32;
        let mut e = NaclEntry {
            number,
            egress,
            allow: true,
            protocol: "6",
            v4: None,
            v6: None,
            ports: None,
            icmp: None,
        };
        let last = i + 1 == n;
        let second_last = i + 2 == n;
        if last {
            // The broad rules people end a NACL with: everything inside 10/8.
            e.protocol = "-1";
            e.v4 = Some("10.0.0.0/8".into());
        } else if second_last {
            // Return traffic: ephemeral ports from anywhere.
            e.ports = Some(if rng.chance(500) {
                (1024, 65535)
            } else {
                (32768, 60999)
            });
            e.v4 = Some("0.0.0.0/0".into());
        } else {
            // Early rules lean to denials of specific sources; later ones to allowances.
            e.allow = !rng.chance(if i < n / 4 { 600 } else { 150 });
            match rng.below(20) {
                0..=10 => {
                    e.ports = Some(rng.pick(&TCP_PORTS));
                    e.v4 = Some(some_v4_cidr(p, v, rng));
                }
                11 | 12 => {
                    e.protocol = "17";
                    e.ports = Some(rng.pick(&UDP_PORTS));
                    e.v4 = Some(some_v4_cidr(p, v, rng));
                }
                13 => {
                    e.protocol = "1";
                    e.icmp = Some(rng.pick(&ICMP_TYPES));
                    e.v4 = Some(some_v4_cidr(p, v, rng));
                }
                14 => {
                    e.protocol = "58";
                    e.icmp = Some(rng.pick(&ICMP6_TYPES));
                    e.v6 = Some(some_v6_cidr(p, v, rng));
                }
                15 | 16 => {
                    e.ports = Some(rng.pick(&TCP_PORTS));
                    e.v6 = Some(some_v6_cidr(p, v, rng));
                }
                17 => {
                    e.protocol = rng.pick(&["50", "47", "132"]);
                    e.v4 = Some(some_v4_cidr(p, v, rng));
                }
                18 => {
                    e.protocol = "-1";
                    e.v4 = Some(some_v4_cidr(p, v, rng));
                }
                _ => {
                    e.protocol = "-1";
                    e.v6 = Some(some_v6_cidr(p, v, rng));
                }
            }
        }
        out.push(e);
    }
    out
}

fn star_rules(egress: bool) -> [NaclEntry<'static>; 2] {
    let star = |number, v4: Option<&str>, v6: Option<&str>| NaclEntry {
        number,
        egress,
        allow: false,
        protocol: "-1",
        v4: v4.map(String::from),
        v6: v6.map(String::from),
        ports: None,
        icmp: None,
    };
    [
        star(32767, Some("0.0.0.0/0"), None),
        star(32768, None, Some("::/0")),
    ]
}

fn write_nacls(p: &Plan, dir: &Path, s: &mut SynthSummary) -> io::Result<()> {
    let mut f = ArrayFile::create(dir, "NetworkAcls")?;
    let spv = p.spec.subnets_per_vpc;
    let acl_index = |v: usize, t: usize| v * (spv + 1) + t;
    for v in 0..p.spec.vpcs {
        let vpc_id = p.vpc_id(v);
        // The default NACL: allow everything, IPv4 and IPv6; subnets j % 4 == 3 use it.
        let default_id = p.id("acl", K_ACL, acl_index(v, 0));
        let mut entries = Vec::new();
        for egress in [true, false] {
            for (number, v4, v6) in [(100, Some("0.0.0.0/0"), None), (101, None, Some("::/0"))] {
                entries.push(NaclEntry {
                    number,
                    egress,
                    allow: true,
                    protocol: "-1",
                    v4: v4.map(String::from),
                    v6: v6.map(String::from),
                    ports: None,
                    icmp: None,
                });
            }
            entries.extend(star_rules(egress));
        }
        let assocs: Vec<Value> = (0..spv)
            .filter(|j| j % 4 == 3)
            .map(|j| {
                json!({
                    "NetworkAclAssociationId": p.id("aclassoc", K_ACL, p.subnet_global(v, j)),
                    "NetworkAclId": default_id,
                    "SubnetId": p.subnet_id(v, j)
                })
            })
            .collect();
        s.nacl_entries += entries.len();
        f.push(&json!({
            "Associations": assocs,
            "Entries": entries.iter().map(NaclEntry::to_json).collect::<Vec<_>>(),
            "IsDefault": true,
            "NetworkAclId": default_id,
            "OwnerId": ACCOUNT_ID,
            "Tags": [],
            "VpcId": vpc_id
        }))?;
        s.network_acls += 1;
        for j in (0..spv).filter(|j| j % 4 != 3) {
            let gs = p.subnet_global(v, j);
            let mut rng = Rng::new(p.seed(), S_NACL, gs as u64);
            let id = p.id("acl", K_ACL, acl_index(v, 1 + j));
            // AWS lists egress entries first, the `*` rules among them; keep that mixed order.
            let mut entries = nacl_rules(p, v, &mut rng, true);
            entries.extend(star_rules(true));
            entries.extend(nacl_rules(p, v, &mut rng, false));
            entries.extend(star_rules(false));
            s.nacl_entries += entries.len();
            f.push(&json!({
                "Associations": [{
                    "NetworkAclAssociationId": p.id("aclassoc", K_ACL, gs),
                    "NetworkAclId": id,
                    "SubnetId": p.subnet_id(v, j)
                }],
                "Entries": entries.iter().map(NaclEntry::to_json).collect::<Vec<_>>(),
                "IsDefault": false,
                "NetworkAclId": id,
                "OwnerId": ACCOUNT_ID,
                "Tags": tags(format!("synth-vpc-{v}-acl-{j}")),
                "VpcId": vpc_id
            }))?;
            s.network_acls += 1;
        }
    }
    f.finish(s)
}

fn write_prefix_lists(p: &Plan, dir: &Path, s: &mut SynthSummary) -> io::Result<()> {
    let mut f = ArrayFile::create(dir, "ManagedPrefixLists")?;
    for (i, (name, family)) in CUSTOMER_PLS.iter().enumerate() {
        let mut rng = Rng::new(p.seed(), S_PL, i as u64);
        let n = rng.range(2, 20) as usize;
        let entries: Vec<Value> = (0..n)
            .map(|k| {
                let cidr = if *family == "IPv6" {
                    cidr6(internet_v6(&mut rng) & (u128::MAX << 80), 48)
                } else if name.starts_with("onprem") {
                    cidr4(0xac10_0000 | ((k as u32) << 12), 20)
                } else {
                    cidr4(internet_v4(&mut rng) & !0xff, 24)
                };
                json!({"Cidr": cidr, "Description": format!("{name} {k}")})
            })
            .collect();
        let id = p.pl_id(i);
        f.push(&json!({
            "AddressFamily": family,
            "Entries": entries,
            "MaxEntries": 20,
            "OwnerId": ACCOUNT_ID,
            "PrefixListArn": format!("arn:aws:ec2:{REGION}:{ACCOUNT_ID}:prefix-list/{id}"),
            "PrefixListId": id,
            "PrefixListName": name,
            "State": "create-complete",
            "Tags": tags((*name).to_string()),
            "Version": 1
        }))?;
        s.managed_prefix_lists += 1;
    }
    for (id, name, cidrs) in AWS_PLS {
        f.push(&json!({
            "AddressFamily": "IPv4",
            "Entries": cidrs.iter().map(|c| json!({"Cidr": c})).collect::<Vec<_>>(),
            "OwnerId": "AWS",
            "PrefixListArn": format!("arn:aws:ec2:{REGION}:aws:prefix-list/{id}"),
            "PrefixListId": id,
            "PrefixListName": name,
            "State": "create-complete",
            "Tags": [],
            "Version": 1
        }))?;
        s.managed_prefix_lists += 1;
    }
    f.finish(s)
}

const SG_ROLES: [&str; 12] = [
    "web",
    "app",
    "api",
    "db",
    "cache",
    "batch",
    "ops",
    "monitoring",
    "lb",
    "queue",
    "etl",
    "admin",
];

/// One security-group source, AWS's unit of rule counting.
enum Source {
    V4(String),
    V6(String),
    PrefixList(String),
    Group(Value),
}

/// `count` rules (sources) grouped into permissions as `describe-security-groups` returns them.
fn sg_permissions(p: &Plan, v: usize, rng: &mut Rng, count: usize, egress: bool) -> Vec<Value> {
    let mut perms = Vec::new();
    let mut left = count;
    if egress && left > 0 && rng.chance(500) {
        // The usual "all outbound" rule, IPv4 and IPv6 in one permission.
        let both = left >= 2;
        perms.push(json!({
            "IpProtocol": "-1",
            "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            "Ipv6Ranges": if both { json!([{"CidrIpv6": "::/0"}]) } else { json!([]) },
            "PrefixListIds": [],
            "UserIdGroupPairs": []
        }));
        left -= if both { 2 } else { 1 };
    }
    while left > 0 {
        let (proto, ports): (&str, Option<(i32, i32)>) = match rng.below(100) {
            0..=59 => {
                let (a, b) = rng.pick(&TCP_PORTS);
                ("tcp", Some((i32::from(a), i32::from(b))))
            }
            60..=74 => {
                let (a, b) = rng.pick(&UDP_PORTS);
                ("udp", Some((i32::from(a), i32::from(b))))
            }
            75..=82 => ("icmp", Some(rng.pick(&ICMP_TYPES))),
            83..=86 => ("icmpv6", Some(rng.pick(&ICMP6_TYPES))),
            87..=94 => ("-1", None),
            _ => (rng.pick(&["50", "47", "132", "4"]), None),
        };
        let n = (match rng.below(10) {
            0..=6 => 1,
            7 | 8 => 2,
            _ => 3,
        })
        .min(left);
        let mut sources = Vec::with_capacity(n);
        for _ in 0..n {
            let kind = rng.below(100);
            // ICMP rules name IPv4 sources, ICMPv6 rules IPv6 ones (or groups and lists).
            let src = if proto == "icmpv6" && kind < 55 {
                Source::V6(some_v6_cidr(p, v, rng))
            } else if kind < 45 || (proto == "icmp" && kind < 55) {
                Source::V4(some_v4_cidr(p, v, rng))
            } else if kind < 55 {
                Source::V6(some_v6_cidr(p, v, rng))
            } else if kind < 90 {
                let peer = p.peer(v).filter(|_| rng.chance(50));
                match peer {
                    Some(peer) => Source::Group(json!({
                        "GroupId": p.sg_id(peer, rng.index(p.pool_per_vpc)),
                        "PeeringStatus": "active",
                        "UserId": ACCOUNT_ID,
                        "VpcId": p.vpc_id(peer),
                        "VpcPeeringConnectionId": p.id("pcx", K_PCX, p.pcx_index(v))
                    })),
                    None => Source::Group(json!({
                        "GroupId": p.sg_id(v, rng.index(p.pool_per_vpc)),
                        "UserId": ACCOUNT_ID
                    })),
                }
            } else {
                Source::PrefixList(p.pl_id(rng.index(p.pl_count())))
            };
            sources.push(src);
        }
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        let mut pls = Vec::new();
        let mut groups = Vec::new();
        for src in sources {
            match src {
                Source::V4(c) => v4.push(json!({"CidrIp": c})),
                Source::V6(c) => v6.push(json!({"CidrIpv6": c})),
                Source::PrefixList(id) => pls.push(json!({"PrefixListId": id})),
                Source::Group(g) => groups.push(g),
            }
        }
        let mut m = Map::new();
        if let Some((from, _)) = ports {
            m.insert("FromPort".into(), from.into());
        }
        m.insert("IpProtocol".into(), proto.into());
        m.insert("IpRanges".into(), Value::Array(v4));
        m.insert("Ipv6Ranges".into(), Value::Array(v6));
        m.insert("PrefixListIds".into(), Value::Array(pls));
        if let Some((_, to)) = ports {
            m.insert("ToPort".into(), to.into());
        }
        m.insert("UserIdGroupPairs".into(), Value::Array(groups));
        perms.push(Value::Object(m));
        left -= n;
    }
    perms
}

fn write_security_groups(p: &Plan, dir: &Path, s: &mut SynthSummary) -> io::Result<()> {
    let mut f = ArrayFile::create(dir, "SecurityGroups")?;
    for v in 0..p.spec.vpcs {
        let vpc_id = p.vpc_id(v);
        let default_id = p.default_sg_id(v);
        f.push(&json!({
            "Description": "default VPC security group",
            "GroupId": default_id,
            "GroupName": "default",
            "IpPermissions": [{
                "IpProtocol": "-1", "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": [],
                "UserIdGroupPairs": [{"GroupId": default_id, "UserId": ACCOUNT_ID}]
            }],
            "IpPermissionsEgress": [{
                "IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}], "PrefixListIds": [], "UserIdGroupPairs": []
            }],
            "OwnerId": ACCOUNT_ID,
            "VpcId": vpc_id
        }))?;
        s.security_groups += 1;
        s.sg_rules += 3;
        for g in 0..p.pool_per_vpc {
            let (mut rng, name) = p.sg_rng_and_name(v, g);
            let role = name.split('-').next().unwrap_or("app");
            let n = p.spec.rules_per_sg;
            let ingress = sg_permissions(p, v, &mut rng, n, false);
            let egress = sg_permissions(p, v, &mut rng, n, true);
            f.push(&json!({
                "Description": format!("{role} tier"),
                "GroupId": p.sg_id(v, g),
                "GroupName": name,
                "IpPermissions": ingress,
                "IpPermissionsEgress": egress,
                "OwnerId": ACCOUNT_ID,
                "Tags": tags(name.clone()),
                "VpcId": vpc_id
            }))?;
            s.security_groups += 1;
            s.sg_rules += 2 * n;
        }
    }
    f.finish(s)
}

fn write_enis(p: &Plan, dir: &Path, s: &mut SynthSummary) -> io::Result<()> {
    let mut f = ArrayFile::create(dir, "NetworkInterfaces")?;
    for k in 0..p.spec.enis {
        let e = p.eni(k);
        let id = p.id("eni", K_ENI, k);
        let ip = Ipv4Addr::from(e.ip).to_string();
        let dns = |ip: &str| format!("ip-{}.ec2.internal", ip.replace('.', "-"));
        let assoc = e.public_ip.map(|pip| {
            let pip = Ipv4Addr::from(pip).to_string();
            json!({
                "IpOwnerId": "amazon",
                "PublicDnsName": format!("ec2-{}.compute-1.amazonaws.com", pip.replace('.', "-")),
                "PublicIp": pip
            })
        });
        let mut primary = Map::new();
        if let Some(a) = &assoc {
            primary.insert("Association".into(), a.clone());
        }
        primary.insert("Primary".into(), true.into());
        primary.insert("PrivateDnsName".into(), dns(&ip).into());
        primary.insert("PrivateIpAddress".into(), ip.as_str().into());
        let mut addrs = vec![Value::Object(primary)];
        if let Some(sec) = e.secondary {
            let sec = Ipv4Addr::from(sec).to_string();
            addrs.push(
                json!({"Primary": false, "PrivateDnsName": dns(&sec), "PrivateIpAddress": sec}),
            );
        }
        let groups: Vec<Value> = e
            .groups
            .iter()
            .map(|&g| json!({"GroupId": p.sg_id(e.vpc, g), "GroupName": p.sg_rng_and_name(e.vpc, g).1}))
            .collect();
        let mut m = Map::new();
        if let Some(a) = assoc {
            m.insert("Association".into(), a);
        }
        m.insert(
            "Attachment".into(),
            json!({
                "AttachTime": "2024-01-15T10:05:00+00:00",
                "AttachmentId": p.id("eni-attach", K_ATTACH, k),
                "DeleteOnTermination": true,
                "DeviceIndex": 0,
                "InstanceId": p.id("i", K_INSTANCE, k),
                "InstanceOwnerId": ACCOUNT_ID,
                "Status": "attached"
            }),
        );
        m.insert("AvailabilityZone".into(), AZS[e.subnet % AZS.len()].into());
        m.insert("Description".into(), "".into());
        m.insert("Groups".into(), Value::Array(groups));
        m.insert("InterfaceType".into(), "interface".into());
        let v6: Vec<Value> = e
            .ipv6
            .map(|a| json!({"Ipv6Address": Ipv6Addr::from(a).to_string(), "IsPrimaryIpv6": false}))
            .into_iter()
            .collect();
        m.insert("Ipv6Addresses".into(), Value::Array(v6));
        m.insert("NetworkInterfaceId".into(), id.into());
        m.insert("OwnerId".into(), ACCOUNT_ID.into());
        m.insert("PrivateDnsName".into(), dns(&ip).into());
        m.insert("PrivateIpAddress".into(), ip.into());
        m.insert("PrivateIpAddresses".into(), Value::Array(addrs));
        m.insert("RequesterManaged".into(), false.into());
        m.insert("SourceDestCheck".into(), true.into());
        m.insert("Status".into(), "in-use".into());
        m.insert("SubnetId".into(), p.subnet_id(e.vpc, e.subnet).into());
        m.insert("TagSet".into(), json!([]));
        m.insert("VpcId".into(), p.vpc_id(e.vpc).into());
        f.push(&Value::Object(m))?;
        s.network_interfaces += 1;
    }
    // NAT gateway ENIs.
    for v in 0..p.spec.vpcs {
        let ip = Ipv4Addr::from(p.nat_ip(v)).to_string();
        let eip = Ipv4Addr::from(NAT_EIP_POOL.wrapping_add(v as u32)).to_string();
        let assoc = json!({
            "AllocationId": p.id("eipalloc", K_EIP, v),
            "AssociationId": p.id("eipassoc", K_EIP, v),
            "IpOwnerId": ACCOUNT_ID,
            "PublicIp": eip
        });
        let nat = p.id("nat", K_NAT, v);
        f.push(&json!({
            "Association": assoc,
            "Attachment": {
                "AttachmentId": p.id("ela-attach", K_ATTACH, p.spec.enis + v),
                "DeleteOnTermination": false,
                "DeviceIndex": 1,
                "InstanceOwnerId": "amazon-aws",
                "Status": "attached"
            },
            "AvailabilityZone": AZS[0],
            "Description": format!("Interface for NAT Gateway {nat}"),
            "Groups": [],
            "InterfaceType": "nat_gateway",
            "Ipv6Addresses": [],
            "NetworkInterfaceId": p.id("eni", K_ENI, p.spec.enis + v),
            "OwnerId": ACCOUNT_ID,
            "PrivateIpAddress": ip,
            "PrivateIpAddresses": [{"Association": assoc, "Primary": true, "PrivateIpAddress": ip}],
            "RequesterId": "062328495474",
            "RequesterManaged": true,
            "SourceDestCheck": false,
            "Status": "in-use",
            "SubnetId": p.subnet_id(v, 0),
            "TagSet": [],
            "VpcId": p.vpc_id(v)
        }))?;
        s.network_interfaces += 1;
    }
    f.finish(s)
}

// ---------------------------------------------------------------------------------------------
// Flow logs

/// The v2 flow-log header.
pub const FLOW_LOG_HEADER: &str =
    "version account-id interface-id srcaddr dstaddr srcport dstport \
                                   protocol packets bytes start end action log-status";

/// Server ports of flow-log traffic, by protocol.
const FLOW_TCP_SERVICES: [u16; 10] = [443, 443, 443, 80, 22, 5432, 3306, 6379, 8080, 9200];
const FLOW_UDP_SERVICES: [u16; 4] = [53, 123, 514, 8125];

/// Writes `records` v2 flow-log records (after the header line) to the file at `path`; see
/// [`write_flow_log_to`].
pub fn write_flow_log(
    spec: &SynthSpec,
    records: usize,
    path: &Path,
    seed: u64,
) -> io::Result<FlowLogSummary> {
    let file = File::create(path)?;
    write_flow_log_to(spec, records, seed, BufWriter::with_capacity(1 << 20, file))
}

/// Writes a header line and `records` v2 flow-log records to `out`, streaming (memory does not
/// grow with `records` or with the number of ENIs).
///
/// Records are captured at the ENIs of the snapshot [`write_snapshot`] writes for `spec`, with
/// their primary private addresses: inbound and outbound, requests to well-known ports from
/// ephemeral ports and their responses, TCP, UDP and ICMP (ports 0), IPv4 and some IPv6, peers in
/// the same VPC, the peered VPC or the internet (servers only on ENIs with a public address,
/// clients anywhere, through the NAT gateway), about 10%
/// `REJECT`, and a few `NODATA` and `SKIPDATA` records. Start times advance through the file in
/// one-minute windows from 2024-01-15T12:00:00Z.
///
/// Fails with [`io::ErrorKind::InvalidInput`] when the spec is invalid or has no ENI.
pub fn write_flow_log_to<W: Write>(
    spec: &SynthSpec,
    records: usize,
    seed: u64,
    out: W,
) -> io::Result<FlowLogSummary> {
    write_flow_log_with(spec, records, seed, Actions::Random, out)
}

/// How [`write_flow_log_with`] sets each record's `action`.
#[derive(Clone, Copy)]
pub enum Actions<'a> {
    /// About 10% `REJECT` (40% for inbound requests from the internet), whatever the
    /// configuration says: about a fifth of the records then contradict it.
    Random,
    /// What the configuration predicts, as a real log against an accurate snapshot shows it:
    /// each record is explained against `net` (the network built from the snapshot
    /// [`write_snapshot`] writes for the same spec) and gets the expected action, except
    /// `contradictions_per_million` of them, which get the other one. Records the configuration
    /// cannot decide keep the random action.
    AsConfigured {
        /// The network of the snapshot.
        net: &'a crate::Network,
        /// Records per million whose action contradicts the configuration.
        contradictions_per_million: u64,
    },
}

/// [`write_flow_log_to`] with a choice of how actions are set.
pub fn write_flow_log_with<W: Write>(
    spec: &SynthSpec,
    records: usize,
    seed: u64,
    actions: Actions<'_>,
    mut out: W,
) -> io::Result<FlowLogSummary> {
    let explainer = match actions {
        Actions::AsConfigured { net, .. } => Some(crate::explain::Explainer::new(net)),
        Actions::Random => None,
    };
    let file: std::sync::Arc<Path> = Path::new("generated").into();
    let v2 = crate::flow_log::Format::default();
    let plan = Plan::new(spec)?;
    if spec.enis == 0 {
        return Err(invalid("a flow log needs at least one ENI".into()));
    }
    let mut sum = FlowLogSummary::default();
    let mut counter = CountingWriter {
        inner: &mut out,
        bytes: 0,
    };
    writeln!(counter, "{FLOW_LOG_HEADER}")?;
    let mut rng = Rng::new(seed ^ spec.seed, S_FLOW, 0);
    let t0: u64 = 1_705_320_000;
    // About four records per ENI per minute.
    let per_window = (spec.enis as u64 * 4).max(1);
    let mut eni_cache: Option<(usize, Eni, String)> = None;
    for i in 0..records as u64 {
        let start = t0 + 60 * (i / per_window) + rng.below(5);
        let end = start + rng.range(10, 60);
        let k = rng.index(spec.enis);
        if eni_cache.as_ref().map(|c| c.0) != Some(k) {
            let e = plan.eni(k);
            let id = plan.id("eni", K_ENI, k);
            eni_cache = Some((k, e, id));
        }
        let Some((_, eni, eni_id)) = eni_cache.as_ref() else {
            continue;
        };
        let roll = rng.below(1000);
        if roll < 6 {
            let status = if roll < 5 { "NODATA" } else { "SKIPDATA" };
            writeln!(
                counter,
                "2 {ACCOUNT_ID} {eni_id} - - - - - - - {start} {end} - {status}"
            )?;
            if roll < 5 {
                sum.nodata += 1;
            } else {
                sum.skipdata += 1;
            }
            sum.records += 1;
            continue;
        }
        // 0: inbound request, 1: outbound response, 2: outbound request, 3: inbound response.
        let kind = rng.below(4);
        // The peer: the internet (servers need a public address; clients may go through the NAT
        // gateway), the peered VPC, or the same VPC.
        let use_v6 = eni.ipv6.is_some() && rng.chance(150);
        let peer_roll = rng.below(100);
        let reachable_from_internet = eni.public_ip.is_some() || use_v6;
        let internet = (reachable_from_internet && peer_roll < 60) || (kind >= 2 && peer_roll < 20);
        let (local, remote) = if use_v6 {
            let local = eni
                .ipv6
                .map(|a| Ipv6Addr::from(a).to_string())
                .unwrap_or_default();
            let remote = if internet {
                Ipv6Addr::from(internet_v6(&mut rng) | u128::from(rng.next_u64())).to_string()
            } else {
                let other = plan.eni(rng.index(spec.enis));
                match other.ipv6 {
                    Some(a) => Ipv6Addr::from(a).to_string(),
                    None => Ipv6Addr::from(internet_v6(&mut rng) | 7).to_string(),
                }
            };
            (local, remote)
        } else {
            let remote = if internet {
                internet_v4(&mut rng)
            } else {
                let vpc = match plan.peer(eni.vpc) {
                    Some(peer) if peer_roll >= 90 => peer,
                    _ => eni.vpc,
                };
                random_eni_ip(&plan, vpc, &mut rng).unwrap_or_else(|| internet_v4(&mut rng))
            };
            (
                Ipv4Addr::from(eni.ip).to_string(),
                Ipv4Addr::from(remote).to_string(),
            )
        };
        let (protocol, service) = match rng.below(100) {
            0..=79 => (6u8, rng.pick(&FLOW_TCP_SERVICES)),
            80..=94 => (17, rng.pick(&FLOW_UDP_SERVICES)),
            _ => (if use_v6 { 58 } else { 1 }, 0),
        };
        let ephemeral = rng.range(32768, 60999) as u16;
        let (ephemeral, service) = if protocol == 1 || protocol == 58 {
            (0, 0)
        } else {
            (ephemeral, service)
        };
        let (src, dst, sport, dport) = match kind {
            0 => (&remote, &local, ephemeral, service),
            1 => (&local, &remote, service, ephemeral),
            2 => (&local, &remote, ephemeral, service),
            _ => (&remote, &local, service, ephemeral),
        };
        let reject_per_mille = if kind == 0 && internet { 400 } else { 60 };
        let reject = rng.chance(reject_per_mille);
        let packets = if reject {
            rng.range(1, 3)
        } else {
            rng.range(1, 400)
        };
        let bytes = packets * rng.range(40, 1500);
        let mut action = if reject { "REJECT" } else { "ACCEPT" };
        if let (
            Some(ex),
            Actions::AsConfigured {
                contradictions_per_million: flip,
                ..
            },
        ) = (&explainer, actions)
        {
            let text = format!(
                "2 {ACCOUNT_ID} {eni_id} {src} {dst} {sport} {dport} {protocol} {packets} {bytes} {start} {end} ACCEPT OK"
            );
            if let Ok(record) = crate::flow_log::parse_line(&text, &v2) {
                let expected = ex.explain(&file, &record, None).expected;
                let flipped = rng.below(1_000_000) < flip;
                action = match (expected, flipped) {
                    (Some(crate::flow_log::Action::Accept), false)
                    | (Some(crate::flow_log::Action::Reject), true) => "ACCEPT",
                    (Some(_), _) => "REJECT",
                    (None, _) => action,
                };
            }
        }
        let reject = action == "REJECT";
        writeln!(
            counter,
            "2 {ACCOUNT_ID} {eni_id} {src} {dst} {sport} {dport} {protocol} {packets} {bytes} {start} {end} {action} OK"
        )?;
        if reject {
            sum.reject += 1;
        } else {
            sum.accept += 1;
        }
        sum.records += 1;
    }
    counter.flush()?;
    sum.bytes = counter.bytes;
    Ok(sum)
}

/// The primary address of a random ENI of VPC `v`, if the VPC has any.
fn random_eni_ip(p: &Plan, v: usize, rng: &mut Rng) -> Option<u32> {
    for _ in 0..4 {
        let j = rng.index(p.spec.subnets_per_vpc);
        let gs = p.subnet_global(v, j);
        let n = p.enis_in_subnet(gs);
        if n > 0 {
            let slot = rng.index(n);
            return Some(p.subnet_base(v, j) + 5 + slot as u32);
        }
    }
    None
}

struct CountingWriter<W> {
    inner: W,
    bytes: u64,
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Snapshot;
    use std::collections::HashSet;

    #[test]
    fn synthetic_snapshot_loads_with_its_counts() {
        let dir = tempfile::tempdir().unwrap();
        let spec = SynthSpec {
            seed: 42,
            ..SynthSpec::quota(200)
        };
        let sum = write_snapshot(&spec, dir.path()).unwrap();
        let snap = Snapshot::load(dir.path()).unwrap();
        assert!(snap.not_modelled.is_empty(), "{:?}", snap.not_modelled);
        assert_eq!(snap.vpcs.len(), 1);
        assert_eq!(sum.vpcs, 1);
        assert_eq!(snap.subnets.len(), 16);
        assert_eq!(snap.network_interfaces.len(), 201);
        assert_eq!(sum.network_interfaces, 201);
        assert_eq!(snap.security_groups.len(), sum.security_groups);
        assert_eq!(snap.security_groups.len(), 101);
        assert_eq!(snap.route_tables.len(), sum.route_tables);
        assert_eq!(snap.network_acls.len(), sum.network_acls);
        assert_eq!(snap.internet_gateways.len(), 1);
        assert_eq!(snap.egress_only_internet_gateways.len(), 1);
        assert_eq!(snap.nat_gateways.len(), 1);
        assert_eq!(snap.managed_prefix_lists.len(), 7);
        let routes: usize = snap.route_tables.iter().map(|t| t.routes.len()).sum();
        assert_eq!(routes, sum.routes);
        let entries: usize = snap.network_acls.iter().map(|a| a.entries.len()).sum();
        assert_eq!(entries, sum.nacl_entries);

        // Quota shape: 60 sources per direction, 20 NACL rules per direction plus `*` rules.
        for sg in snap
            .security_groups
            .iter()
            .filter(|g| g.group_name != "default")
        {
            for perms in [&sg.ip_permissions, &sg.ip_permissions_egress] {
                let n: usize = perms
                    .iter()
                    .map(|p| {
                        p.ip_ranges.len()
                            + p.ipv6_ranges.len()
                            + p.prefix_list_ids.len()
                            + p.user_id_group_pairs.len()
                    })
                    .sum();
                assert_eq!(n, 60, "{}", sg.group_id);
            }
        }
        for acl in snap
            .network_acls
            .iter()
            .filter(|a| a.is_default != Some(true))
        {
            assert_eq!(acl.entries.len(), 2 * (20 + 2));
        }
        // Every subnet has exactly one NACL.
        let assoc: Vec<&str> = snap
            .network_acls
            .iter()
            .flat_map(|a| a.associations.iter().filter_map(|x| x.subnet_id.as_deref()))
            .collect();
        assert_eq!(assoc.len(), 16);
        assert_eq!(assoc.iter().collect::<HashSet<_>>().len(), 16);

        // Ids are unique, 17 hex digits, and every attached group and referenced group exists.
        let sg_ids: HashSet<&str> = snap
            .security_groups
            .iter()
            .map(|g| g.group_id.as_str())
            .collect();
        let eni_ids: HashSet<&str> = snap
            .network_interfaces
            .iter()
            .map(|e| e.network_interface_id.as_str())
            .collect();
        assert_eq!(eni_ids.len(), 201);
        for id in &eni_ids {
            let hex = id.trim_start_matches("eni-");
            assert_eq!(hex.len(), 17, "{id}");
            assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{id}");
        }
        for eni in &snap.network_interfaces {
            for g in &eni.groups {
                assert!(sg_ids.contains(g.group_id.as_str()), "{}", g.group_id);
            }
        }
        for sg in &snap.security_groups {
            for p in sg.ip_permissions.iter().chain(&sg.ip_permissions_egress) {
                for pair in &p.user_id_group_pairs {
                    let id = pair.group_id.as_deref().unwrap_or("");
                    assert!(sg_ids.contains(id), "{id}");
                }
            }
        }
        // Private addresses are unique.
        let ips: Vec<&str> = snap
            .network_interfaces
            .iter()
            .flat_map(|e| {
                e.private_ip_addresses
                    .iter()
                    .map(|a| a.private_ip_address.as_str())
            })
            .collect();
        assert_eq!(ips.len(), ips.iter().collect::<HashSet<_>>().len());

        // The samples are real ENIs, in different subnets, the first with a public IP.
        assert!(sum.samples.len() >= 2);
        assert!(sum.samples[0].public_ip.is_some());
        assert_ne!(sum.samples[0].subnet_id, sum.samples[1].subnet_id);
        for s in &sum.samples {
            let eni = snap
                .network_interfaces
                .iter()
                .find(|e| e.network_interface_id == s.network_interface_id)
                .unwrap();
            assert_eq!(
                eni.private_ip_address.as_deref(),
                Some(s.private_ip.to_string().as_str())
            );
            assert_eq!(eni.subnet_id.as_deref(), Some(s.subnet_id.as_str()));
        }
        assert_eq!(sum.files.len(), 11);
    }

    #[test]
    fn deterministic_per_seed() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let spec = SynthSpec {
            rules_per_sg: 5,
            ..SynthSpec::quota(50)
        };
        write_snapshot(&spec, a.path()).unwrap();
        write_snapshot(&spec, b.path()).unwrap();
        for name in [
            "SecurityGroups.json",
            "NetworkAcls.json",
            "NetworkInterfaces.json",
        ] {
            let x = std::fs::read(a.path().join(name)).unwrap();
            let y = std::fs::read(b.path().join(name)).unwrap();
            assert_eq!(x, y, "{name}");
        }
        let c = tempfile::tempdir().unwrap();
        write_snapshot(&SynthSpec { seed: 1, ..spec }, c.path()).unwrap();
        let x = std::fs::read(a.path().join("SecurityGroups.json")).unwrap();
        let z = std::fs::read(c.path().join("SecurityGroups.json")).unwrap();
        assert_ne!(x, z);
    }

    #[test]
    fn several_vpcs_peer_and_fit() {
        let dir = tempfile::tempdir().unwrap();
        let spec = SynthSpec {
            rules_per_sg: 4,
            nacl_rules: 3,
            ..SynthSpec::quota(3000)
        };
        let sum = write_snapshot(&spec, dir.path()).unwrap();
        let snap = Snapshot::load(dir.path()).unwrap();
        assert_eq!(snap.vpcs.len(), 3);
        assert_eq!(snap.vpc_peering_connections.len(), 1);
        assert_eq!(sum.peering_connections, 1);
        assert_eq!(snap.network_interfaces.len(), 3003);
        assert!(sum
            .samples
            .iter()
            .any(|s| s.vpc_id != sum.samples[0].vpc_id));
        // Peered references name the peering.
        let peered = snap
            .security_groups
            .iter()
            .flat_map(|g| g.ip_permissions.iter().chain(&g.ip_permissions_egress))
            .flat_map(|p| &p.user_id_group_pairs)
            .filter(|p| p.vpc_peering_connection_id.is_some())
            .count();
        assert!(peered > 0);
    }

    #[test]
    fn impossible_specs_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let none = SynthSpec {
            vpcs: 0,
            ..SynthSpec::quota(10)
        };
        let err = write_snapshot(&none, dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let crowded = SynthSpec {
            vpcs: 1,
            subnets_per_vpc: 1,
            ..SynthSpec::quota(100_000)
        };
        let err = write_snapshot(&crowded, dir.path()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        let err = write_flow_log_to(&SynthSpec::quota(0), 10, 1, Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn flow_log_uses_the_snapshot_enis() {
        let spec = SynthSpec {
            rules_per_sg: 2,
            ..SynthSpec::quota(300)
        };
        let dir = tempfile::tempdir().unwrap();
        write_snapshot(&spec, dir.path()).unwrap();
        let snap = Snapshot::load(dir.path()).unwrap();
        let mut buf = Vec::new();
        let sum = write_flow_log_to(&spec, 5000, 9, &mut buf).unwrap();
        assert_eq!(sum.records, 5000);
        assert_eq!(sum.accept + sum.reject + sum.nodata + sum.skipdata, 5000);
        assert!(sum.reject > 0 && sum.nodata > 0);
        assert_eq!(sum.bytes, buf.len() as u64);
        let text = String::from_utf8(buf).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(FLOW_LOG_HEADER));
        let by_id: std::collections::HashMap<&str, &crate::snapshot::NetworkInterface> = snap
            .network_interfaces
            .iter()
            .map(|e| (e.network_interface_id.as_str(), e))
            .collect();
        let mut inbound = 0;
        let mut outbound = 0;
        for line in lines {
            let f: Vec<&str> = line.split_whitespace().collect();
            assert_eq!(f.len(), 14, "{line}");
            assert_eq!(f[0], "2");
            let eni = by_id.get(f[2]).unwrap();
            if f[13] != "OK" {
                assert_eq!(f[3], "-");
                continue;
            }
            let mine: Vec<String> = eni
                .private_ip_addresses
                .iter()
                .map(|a| a.private_ip_address.clone())
                .chain(eni.ipv6_addresses.iter().map(|a| a.ipv6_address.clone()))
                .collect();
            if mine.iter().any(|a| a == f[4]) {
                inbound += 1;
            } else {
                assert!(mine.iter().any(|a| a == f[3]), "{line}");
                outbound += 1;
            }
        }
        assert!(inbound > 1000 && outbound > 1000);
        // Deterministic.
        let mut again = Vec::new();
        write_flow_log_to(&spec, 5000, 9, &mut again).unwrap();
        assert_eq!(text.as_bytes(), &again[..]);
    }

    #[test]
    fn example_network_loads() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/network");
        let snap = Snapshot::load(&dir).unwrap();
        assert!(snap.not_modelled.is_empty(), "{:?}", snap.not_modelled);
        assert_eq!(snap.vpcs.len(), 2);
        assert_eq!(snap.subnets.len(), 4);
        assert_eq!(snap.route_tables.len(), 5);
        assert_eq!(snap.network_acls.len(), 4);
        assert_eq!(snap.security_groups.len(), 8);
        assert_eq!(snap.network_interfaces.len(), 9);
        assert_eq!(snap.load_balancers.len(), 1);
        assert_eq!(snap.instances.len(), 6);
        assert_eq!(snap.internet_gateways.len(), 1);
        assert_eq!(snap.nat_gateways.len(), 1);
        assert_eq!(snap.vpc_peering_connections.len(), 1);
        assert_eq!(snap.managed_prefix_lists.len(), 1);
        assert_eq!(snap.addresses.len(), 3);
        // Every instance ENI is also in NetworkInterfaces, attached to that instance.
        for inst in &snap.instances {
            for ie in &inst.network_interfaces {
                let eni = snap
                    .network_interfaces
                    .iter()
                    .find(|e| e.network_interface_id == ie.network_interface_id)
                    .unwrap();
                let att = eni
                    .attachment
                    .as_ref()
                    .and_then(|a| a.instance_id.as_deref());
                assert_eq!(att, Some(inst.instance_id.as_str()));
            }
        }
        // The prefix list has its entries; the peered reference names the peering.
        let pl = &snap.managed_prefix_lists[0];
        assert_eq!(pl.entries.as_ref().map(Vec::len), Some(2));
        let peered = snap
            .security_groups
            .iter()
            .flat_map(|g| &g.ip_permissions)
            .flat_map(|p| &p.user_id_group_pairs)
            .filter(|p| p.vpc_peering_connection_id.is_some())
            .count();
        assert_eq!(peered, 1);
    }

    /// Speed check, run on demand: `cargo test --release --lib synth::tests::quota_write_speed
    /// -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn quota_write_speed() {
        for enis in [1_000, 10_000] {
            let dir = tempfile::tempdir().unwrap();
            let t = std::time::Instant::now();
            let sum = write_snapshot(&SynthSpec::quota(enis), dir.path()).unwrap();
            let dt = t.elapsed();
            println!(
                "{enis} ENIs: {:.1} MB in {:.2?} ({} groups, {} SG rules, {} NACL entries)",
                sum.bytes as f64 / 1e6,
                dt,
                sum.security_groups,
                sum.sg_rules,
                sum.nacl_entries
            );
            let t = std::time::Instant::now();
            let snap = Snapshot::load(dir.path()).unwrap();
            println!(
                "  loaded {} ENIs in {:.2?}",
                snap.network_interfaces.len(),
                t.elapsed()
            );
            let t = std::time::Instant::now();
            let fl = write_flow_log(
                &SynthSpec::quota(enis),
                1_000_000,
                &dir.path().join("f.log"),
                1,
            )
            .unwrap();
            println!(
                "  1M flow records: {:.1} MB in {:.2?}",
                fl.bytes as f64 / 1e6,
                t.elapsed()
            );
        }
    }
}
