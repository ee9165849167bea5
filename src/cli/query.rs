//! `vpcreach query`: can A reach B on this port, and if not, what stops it?

use std::io::{IsTerminal, Write};
use vpcreach::render::sanitize_line;
use vpcreach::{Network, Protocol, Query, Verdict};

/// Output formats of `query`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum QueryOutput {
    /// A readable trace, one hop per line.
    Human,
    /// The trace as JSON.
    Json,
    /// The path as a Graphviz graph.
    Dot,
}

/// Arguments of `vpcreach query`.
#[derive(Debug, clap::Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub source: super::source::SnapshotSource,
    /// Source: ENI id, instance id, private or public IP in the snapshot, or any address.
    #[arg(long, value_name = "SRC")]
    pub from: String,
    /// Destination: ENI id, instance id, private or public IP in the snapshot, or any address.
    #[arg(long, value_name = "DST")]
    pub to: String,
    /// tcp, udp, icmp, icmpv6, all, or a protocol number.
    #[arg(long, default_value = "tcp", value_parser = parse_protocol)]
    pub protocol: Protocol,
    /// Destination port (TCP/UDP), or ICMP type (default 8, echo request).
    #[arg(long, value_parser = parse_port)]
    pub port: Option<u16>,
    /// The client's source port; without it, the whole ephemeral range of a common client
    /// (Linux 32768-60999, Windows 49152-65535, NAT gateway and ELB 1024-65535) must pass.
    #[arg(long, value_parser = parse_port)]
    pub src_port: Option<u16>,
    #[command(flatten)]
    pub at: super::history::AtArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub output: QueryOutput,
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    s.parse()
}

/// Well-known service names a user may type for a port.
const SERVICES: [(&str, u16); 12] = [
    ("ssh", 22),
    ("smtp", 25),
    ("dns", 53),
    ("http", 80),
    ("ntp", 123),
    ("https", 443),
    ("mysql", 3306),
    ("rdp", 3389),
    ("postgres", 5432),
    ("postgresql", 5432),
    ("redis", 6379),
    ("mongodb", 27017),
];

fn parse_port(s: &str) -> Result<u16, String> {
    if let Ok(p) = s.trim().parse::<u16>() {
        return Ok(p);
    }
    let lower = s.trim().to_ascii_lowercase();
    match SERVICES.iter().find(|(n, _)| *n == lower) {
        Some((_, p)) => Err(format!("`{s}` is not a port number: did you mean `{p}`?")),
        None => Err(format!("`{s}` is not a port number (0-65535)")),
    }
}

/// Runs `vpcreach query`: exit 0 reachable, 1 unreachable or unknown.
pub fn run(args: QueryArgs) -> anyhow::Result<u8> {
    check_endpoint("--from", &args.from)?;
    check_endpoint("--to", &args.to)?;
    args.at.check()?;
    if args.protocol.is_icmp() && args.port.is_some_and(|p| p > 255) {
        anyhow::bail!(
            "`--port` is the ICMP type for {} (0-255), not `{}`",
            args.protocol,
            args.port.unwrap_or_default()
        );
    }
    if !args.protocol.has_ports() && !args.protocol.is_icmp() {
        if let Some(flag) = [("--port", args.port), ("--src-port", args.src_port)]
            .iter()
            .find_map(|(f, p)| p.map(|_| *f))
        {
            anyhow::bail!(
                "`{flag}` does not apply to protocol {}: it has no ports (ports apply to tcp and udp, and `--port` is the type for icmp and icmpv6)",
                args.protocol
            );
        }
    }
    if args.protocol.is_icmp() && args.src_port.is_some() {
        anyhow::bail!(
            "`--src-port` does not apply to {}: it has no ports",
            args.protocol
        );
    }
    if args.protocol.has_ports() && args.port.is_none() {
        anyhow::bail!(
            "`--port` is required for {} (the destination port to test)",
            args.protocol
        );
    }
    let mut snap = args.source.load()?;
    let model = args.at.apply(&snap, &args.source.aws)?;
    let net = match &model {
        Some(m) => {
            let net = Network::build(&m.snapshot);
            super::report_model(&m.snapshot, &net);
            net
        }
        // The query needs the model, not the parsed JSON: the security groups (most of a large
        // snapshot) are dropped one by one as they are compiled, so the two are never held
        // whole at once.
        None => {
            let net = Network::build_taking_groups(&mut snap);
            super::report_model(&snap, &net);
            net
        }
    };
    drop(snap);
    let from = match net.resolve(&args.from) {
        Ok(f) => f,
        Err(e) => return unresolved(model.as_ref(), "--from", e, args.output),
    };
    if let Some(lb) = net.load_balancer(&args.to) {
        if model.is_some() {
            anyhow::bail!(
                "--at does not apply to a load balancer destination yet: query one of its targets"
            );
        }
        return run_load_balancer(&net, lb, from, &args);
    }
    let to = match net.resolve(&args.to) {
        Ok(t) => t,
        Err(e) => return unresolved(model.as_ref(), "--to", e, args.output),
    };
    let ((from, from_info), (to, to_info)) = net.orient(from, to)?;
    let v6 = to_info.address.is_ipv6();
    match (args.protocol, v6) {
        (Protocol::Number(vpcreach::protocol::ICMPV6), false) => anyhow::bail!(
            "`--protocol icmpv6` needs IPv6 ends, and `{}` is IPv4 (did you mean `icmp`?)",
            to_info.address
        ),
        (Protocol::Number(vpcreach::protocol::ICMP), true) => anyhow::bail!(
            "`--protocol icmp` needs IPv4 ends, and `{}` is IPv6 (did you mean `icmpv6`?)",
            to_info.address
        ),
        _ => {}
    }
    let q = Query {
        from,
        to,
        protocol: args.protocol,
        port: args.port,
        src_port: args.src_port,
    };
    let trace = net.query_labeled(&q, from_info, to_info);
    let text = match args.output {
        QueryOutput::Human => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let t = vpcreach::render::human::trace(&trace, color);
            match &model {
                Some(m) => format!("{}\n{t}", m.line()),
                None => t,
            }
        }
        QueryOutput::Json => {
            let mut v = serde_json::to_value(&trace)?;
            if let (Some(m), Some(o)) = (&model, v.as_object_mut()) {
                o.insert("model".into(), m.json());
            }
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            s
        }
        QueryOutput::Dot => vpcreach::render::dot::trace(&trace),
    };
    super::write_stdout(&text)?;
    Ok(if trace.verdict == Verdict::Reachable {
        0
    } else {
        1
    })
}

/// An end that cannot be resolved: with `--at`, an end left out of the model at that time
/// (its configuration then is not known) makes the verdict `unknown`, naming why; otherwise
/// (and for any other reason) an error.
fn unresolved(
    model: Option<&super::history::AtModel>,
    flag: &str,
    e: vpcreach::query::ResolveError,
    output: QueryOutput,
) -> anyhow::Result<u8> {
    let (Some(m), vpcreach::query::ResolveError::Withheld { input, why }) = (model, &e) else {
        anyhow::bail!("{flag}: {e}");
    };
    let reason = format!("`{input}` ({flag}) is not known at that time: {why}");
    let text = match output {
        QueryOutput::Json => {
            let v = serde_json::json!({
                "verdict": "unknown",
                "reasons": [reason],
                "model": m.json(),
            });
            let mut s = serde_json::to_string_pretty(&v)?;
            s.push('\n');
            s
        }
        _ => format!(
            "{}\nverdict: unknown\n  because {}\n",
            m.line(),
            sanitize_line(&reason)
        ),
    };
    super::write_stdout(&text)?;
    Ok(1)
}

/// `query --to <load balancer>`: the client to each node, each node to each target.
fn run_load_balancer(
    net: &Network,
    lb: usize,
    (from, info): vpcreach::query::End,
    args: &QueryArgs,
) -> anyhow::Result<u8> {
    let Some(port) = args.port else {
        anyhow::bail!("`--port` is required: the listener port of the load balancer");
    };
    if matches!(args.output, QueryOutput::Dot) {
        anyhow::bail!("`--output dot` draws one path; a load balancer has one per node and target: use `--output human` or `json`");
    }
    let trace = net
        .query_load_balancer(lb, from, info, args.protocol, port, args.src_port)
        .map_err(|e| anyhow::anyhow!("--to: {e}"))?;
    let text = match args.output {
        QueryOutput::Json => {
            let mut s = serde_json::to_string_pretty(&trace)?;
            s.push('\n');
            s
        }
        _ => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            vpcreach::render::load_balancer::lb_trace(&trace, color)
        }
    };
    super::write_stdout(&text)?;
    Ok(if trace.verdict == Verdict::Reachable {
        0
    } else {
        1
    })
}

/// Writes to stdout; a closed pipe is not an error.
pub fn write_all(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Checks `--from`/`--to` (`flag`): no id or address is longer than 256 characters, and a
/// longer text is not echoed whole (nor are its control characters).
fn check_endpoint(flag: &str, text: &str) -> anyhow::Result<()> {
    if text.chars().count() > 256 {
        anyhow::bail!(
            "{flag}: `{}` is too long for an ENI id, an instance id or an IP address",
            vpcreach::render::sanitize(text)
        );
    }
    Ok(())
}
