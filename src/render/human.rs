//! The human-readable trace: one hop per line with the check and the rule that decided it, and a
//! one-line verdict.

use super::sanitize;
use crate::trace::{Decision, Hop, Layer, PathTrace, Trace, Verdict};
use std::fmt::Write;

fn layer_name(l: Layer) -> &'static str {
    match l {
        Layer::SecurityGroup => "security group",
        Layer::NetworkAcl => "network ACL",
        Layer::RouteTable => "route table",
        Layer::InternetGateway => "internet gateway",
        Layer::NatGateway => "NAT gateway",
        Layer::EgressOnlyInternetGateway => "egress-only gateway",
        Layer::BlockPublicAccess => "VPC BPA",
        Layer::PeeringConnection => "peering",
        Layer::TransitGateway => "transit gateway",
        Layer::SourceDestCheck => "source/dest check",
        Layer::Address => "address",
        Layer::Exempt => "not filtered",
        Layer::NotModelled => "not modelled",
    }
}

fn decision(d: Decision, color: bool) -> String {
    let (text, code) = match d {
        Decision::Allow => ("allow", "32"),
        Decision::Deny => ("DENY", "31"),
        Decision::Unknown => ("UNKNOWN", "33"),
    };
    if color {
        format!("\x1b[{code}m{text:<7}\x1b[0m")
    } else {
        format!("{text:<7}")
    }
}

fn hop_label(h: &Hop) -> String {
    match &h.name {
        Some(n) => format!("{} ({})", h.component, sanitize(n)),
        None => h.component.clone(),
    }
}

/// The width of the first column: the longest hop label of both paths (names included).
fn label_width(t: &Trace) -> usize {
    t.forward
        .hops
        .iter()
        .chain(t.return_path.iter().flat_map(|p| p.hops.iter()))
        .map(|h| hop_label(h).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(34, 64)
}

fn path(out: &mut String, title: &str, p: &PathTrace, width: usize, color: bool) {
    let _ = writeln!(out, "{title}:");
    for h in &p.hops {
        let label = hop_label(h);
        for (i, c) in h.checks.iter().enumerate() {
            let who = if i == 0 { label.as_str() } else { "" };
            let _ = writeln!(
                out,
                "  {who:<width$} {:<18} {} {}",
                layer_name(c.layer),
                decision(c.decision, color),
                sanitize_detail(&c.detail)
            );
        }
    }
}

/// Details contain rule descriptions and names: keep them printable but allow long lines.
fn sanitize_detail(s: &str) -> String {
    s.chars()
        .map(|c| if super::is_unsafe_char(c) { '?' } else { c })
        .collect()
}

/// Renders a trace for a terminal. `color` adds ANSI colours to decisions.
pub fn trace(t: &Trace, color: bool) -> String {
    let mut out = String::new();
    let describe = |e: &crate::trace::EndpointInfo| {
        let mut s = e.input.clone();
        let mut extra = Vec::new();
        if let Some(eni) = &e.eni {
            if *eni != e.input {
                extra.push(eni.clone());
            }
        }
        if let Some(i) = &e.instance {
            if *i != e.input {
                extra.push(i.clone());
            }
        }
        if e.address.to_string() != e.input {
            extra.push(e.address.to_string());
        }
        match e.kind {
            "internet" => extra.push("internet".into()),
            "external_private" => extra.push("outside the snapshot".into()),
            "public_ip" => extra.push("public IP".into()),
            _ => {}
        }
        if !extra.is_empty() {
            s.push_str(&format!(" ({})", extra.join(", ")));
        }
        s
    };
    let _ = write!(
        out,
        "query: {} -> {} {}",
        describe(&t.from),
        describe(&t.to),
        t.protocol
    );
    if let Some(p) = t.port {
        let _ = write!(out, "/{p}");
    }
    if let Some(sp) = &t.src_ports {
        let _ = write!(out, ", client ports {sp}");
    }
    out.push_str("\n\n");
    let width = label_width(t);
    path(&mut out, "forward", &t.forward, width, color);
    if let Some(r) = &t.return_path {
        out.push('\n');
        path(&mut out, "return", r, width, color);
    }
    out.push('\n');
    let verdict = match t.verdict {
        Verdict::Reachable => "REACHABLE",
        Verdict::Unreachable => "UNREACHABLE",
        Verdict::Unknown => "UNKNOWN",
    };
    let code = t
        .reason
        .map(|r| format!(" [{}]", r.code()))
        .unwrap_or_default();
    // The message starts with the verdict word; the line already says it.
    let message = t
        .message
        .split_once(": ")
        .filter(|(head, _)| *head == t.verdict.to_string())
        .map(|(_, rest)| rest)
        .unwrap_or(&t.message);
    let _ = writeln!(
        out,
        "verdict: {verdict}{code}: {}",
        sanitize_detail(message)
    );
    for n in &t.notes {
        let _ = writeln!(out, "note: {n}");
    }
    out
}
