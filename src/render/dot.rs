//! The path as a Graphviz graph: forward hops in order, return hops dashed, the blocking hop red.

use crate::trace::{Decision, PathTrace, Trace};
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

fn emit(
    out: &mut String,
    prefix: &str,
    p: &PathTrace,
    dashed: bool,
    start: Option<String>,
) -> Option<String> {
    let mut prev = start;
    for (i, h) in p.hops.iter().enumerate() {
        let id = format!("{prefix}{i}");
        let blocked = h.checks.iter().any(|c| c.decision == Decision::Deny);
        let unknown = h.checks.iter().any(|c| c.decision == Decision::Unknown);
        // Pieces are escaped one by one; the `\\n` separators stay raw for Graphviz.
        let mut label = escape(&h.component);
        if let Some(n) = &h.name {
            label.push_str(&format!("\\n{}", escape(n)));
        }
        for c in &h.checks {
            label.push_str(&format!("\\n{}", escape(&c.detail)));
        }
        let style = if blocked {
            ", color=red, fontcolor=red, penwidth=2"
        } else if unknown {
            ", color=orange, fontcolor=orange"
        } else {
            ""
        };
        let _ = writeln!(out, "  {id} [label=\"{}\"{style}];", label);
        if let Some(p) = prev {
            let _ = writeln!(
                out,
                "  {p} -> {id}{};",
                if dashed { " [style=dashed]" } else { "" }
            );
        }
        prev = Some(id);
    }
    prev
}

/// Renders a trace as a Graphviz `digraph`.
pub fn trace(t: &Trace) -> String {
    let mut out = String::from(
        "digraph vpcreach {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    let _ = writeln!(
        out,
        "  label=\"{} -> {} {}{}: {}\";",
        escape(&t.from.input),
        escape(&t.to.input),
        t.protocol,
        t.port.map(|p| format!("/{p}")).unwrap_or_default(),
        t.verdict
    );
    let last = emit(&mut out, "f", &t.forward, false, None);
    if let Some(r) = &t.return_path {
        emit(&mut out, "r", r, true, last);
    }
    out.push_str("}\n");
    out
}
