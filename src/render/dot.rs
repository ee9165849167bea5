//! The path as a Graphviz graph that reads on one screen: the source and destination as their
//! own nodes, the request and the response as two rows (clusters), each hop a short label (its
//! id, its `Name` tag, and per check the decision and the rule), the blocking hop red.

use crate::trace::{Check, Decision, EndpointInfo, Hop, Layer, PathTrace, Trace};
use std::fmt::Write;

fn escape(s: &str) -> String {
    s.chars()
        .filter(|&c| !super::is_unsafe_char(c))
        .map(|c| match c {
            '"' => "\\\"".to_string(),
            '\\' => "\\\\".to_string(),
            '<' | '>' | '{' | '}' | '|' => format!("\\{c}"),
            c => c.to_string(),
        })
        .collect()
}

/// Cuts untrusted or long text to `n` characters.
fn short(s: &str, n: usize) -> String {
    let mut out: String = s.chars().take(n).collect();
    if s.chars().count() > n {
        out.push('…');
    }
    out
}

/// One check in a few words: the decision and what decided it.
fn check_label(c: &Check) -> String {
    let decision = match c.decision {
        Decision::Allow => "allow",
        Decision::Deny => "DENY",
        Decision::Unknown => "unknown",
    };
    let dir = c
        .direction
        .map(|d| {
            format!(
                " {}",
                if matches!(d, crate::security_group::Direction::Inbound) {
                    "in"
                } else {
                    "out"
                }
            )
        })
        .unwrap_or_default();
    let what = match c.layer {
        Layer::NetworkAcl => format!(
            "NACL{dir} {}",
            match c.rule_number {
                Some(32767) => "rule *".to_string(),
                Some(n) => format!("rule {n}"),
                None => String::new(),
            }
        ),
        Layer::SecurityGroup => format!(
            "SG{dir} {}",
            c.resources.first().map(String::as_str).unwrap_or("")
        ),
        Layer::RouteTable => "route".to_string(),
        _ => short(&c.detail, 40),
    };
    format!("{decision} {}", what.trim_end())
}

fn hop_label(h: &Hop) -> String {
    // Pieces are escaped one by one; the `\n` separators stay raw for Graphviz.
    let mut label = escape(&h.component);
    if let Some(n) = &h.name {
        label.push_str(&format!("\\n({})", escape(&short(n, 30))));
    }
    for c in &h.checks {
        label.push_str(&format!("\\n{}", escape(&check_label(c))));
    }
    label
}

fn end_label(role: &str, e: &EndpointInfo) -> String {
    let mut label = format!("{role}\\n{}", escape(&short(&e.input, 40)));
    if e.address.to_string() != e.input {
        label.push_str(&format!("\\n{}", e.address));
    }
    label
}

/// Writes one path as a cluster; returns its first and last node ids.
fn cluster(
    out: &mut String,
    name: &str,
    title: &str,
    p: &PathTrace,
    dashed: bool,
) -> Option<(String, String)> {
    if p.hops.is_empty() {
        return None;
    }
    let _ = writeln!(
        out,
        "  subgraph cluster_{name} {{\n    label=\"{title}\";\n    style=rounded;"
    );
    let mut ids = Vec::new();
    for (i, h) in p.hops.iter().enumerate() {
        let id = format!("{name}{i}");
        let blocked = h.checks.iter().any(|c| c.decision == Decision::Deny);
        let unknown = h.checks.iter().any(|c| c.decision == Decision::Unknown);
        let style = if blocked {
            ", color=red, fontcolor=red, penwidth=2"
        } else if unknown {
            ", color=orange, fontcolor=orange"
        } else {
            ""
        };
        let _ = writeln!(out, "    {id} [label=\"{}\"{style}];", hop_label(h));
        ids.push(id);
    }
    for w in ids.windows(2) {
        let _ = writeln!(
            out,
            "    {} -> {}{};",
            w[0],
            w[1],
            if dashed { " [style=dashed]" } else { "" }
        );
    }
    out.push_str("  }\n");
    Some((ids[0].clone(), ids[ids.len() - 1].clone()))
}

/// Renders a trace as a Graphviz `digraph`.
pub fn trace(t: &Trace) -> String {
    let mut out = String::from(
        "digraph vpcreach {\n  rankdir=LR;\n  newrank=true;\n  labelloc=t;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n",
    );
    let _ = writeln!(
        out,
        "  label=\"{} -> {} {}{}: {}\";",
        escape(&short(&t.from.input, 40)),
        escape(&short(&t.to.input, 40)),
        t.protocol,
        t.port.map(|p| format!("/{p}")).unwrap_or_default(),
        t.verdict
    );
    let _ = writeln!(
        out,
        "  src [label=\"{}\", shape=ellipse];\n  dst [label=\"{}\", shape=ellipse];",
        end_label("source", &t.from),
        end_label("destination", &t.to)
    );
    let fwd = cluster(&mut out, "f", "request", &t.forward, false);
    let ret = t
        .return_path
        .as_ref()
        .and_then(|r| cluster(&mut out, "r", "response", r, true));
    let stopped_forward = t
        .blocked_at
        .as_ref()
        .is_some_and(|b| matches!(b.path, crate::trace::PathDir::Forward));
    if let Some((first, last)) = &fwd {
        let _ = writeln!(out, "  src -> {first};");
        if !stopped_forward {
            let _ = writeln!(out, "  {last} -> dst;");
        }
    }
    if let Some((first, last)) = &ret {
        let _ = writeln!(out, "  dst -> {first} [style=dashed];");
        if t.blocked_at.is_none() {
            let _ = writeln!(out, "  {last} -> src [style=dashed, constraint=false];");
        }
    }
    out.push_str("}\n");
    out
}
