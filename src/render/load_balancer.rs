//! The human-readable answer of a query through a load balancer: the verdict, the client to each
//! node, then one line per registered target naming the failing node and rule.

use super::{sanitize, sanitize_line};
use crate::query::{LbTrace, TargetVerdict};
use crate::trace::Verdict;
use std::fmt::Write;

/// Renders an [`LbTrace`] for a terminal (`color`: ANSI colours for verdicts).
pub fn lb_trace(t: &LbTrace, color: bool) -> String {
    let paint = |text: String, ok: Option<bool>| -> String {
        match (color, ok) {
            (true, Some(true)) => format!("\x1b[32m{text}\x1b[0m"),
            (true, Some(false)) => format!("\x1b[31m{text}\x1b[0m"),
            (true, None) => format!("\x1b[33m{text}\x1b[0m"),
            _ => text,
        }
    };
    let mut out = String::new();
    let lb = &t.load_balancer;
    let _ = writeln!(
        out,
        "{} {} ({}, {}{})",
        sanitize(&lb.name),
        lb.arn,
        lb.kind_text(),
        lb.scheme,
        if lb.security_groups.is_empty() {
            ", no security groups".to_string()
        } else {
            format!(", security groups {}", lb.security_groups.join(", "))
        }
    );
    let _ = writeln!(
        out,
        "listener {}/{} from {}",
        sanitize(&t.listener.protocol),
        t.listener.port,
        sanitize(&t.from.input)
    );
    let _ = writeln!(out);
    let _ = writeln!(out, "client to node:");
    for n in &t.nodes {
        let ok = match n.verdict {
            Verdict::Reachable => Some(true),
            Verdict::Unreachable => Some(false),
            Verdict::Unknown => None,
        };
        let _ = writeln!(
            out,
            "  {} {} ({}): {}",
            paint(format!("{:<11}", n.verdict.to_string()), ok),
            n.eni.as_deref().unwrap_or("?"),
            sanitize(n.zone.as_deref().unwrap_or("?")),
            sanitize_line(&n.message)
        );
    }
    for g in &t.target_groups {
        let _ = writeln!(out);
        let _ =
            writeln!(
            out,
            "target group {} ({}; {}): client addresses {}{}, cross-zone {}{}, health checks on {}",
            sanitize(&g.name),
            g.target_type,
            g.via.iter().map(|v| sanitize(v)).collect::<Vec<_>>().join(", "),
            if g.client_ip_preserved { "preserved" } else { "not preserved" },
            if g.client_ip_preserved_from == "default" { " (default)" } else { "" },
            if g.cross_zone { "on" } else { "off" },
            if g.cross_zone_from == "default" { " (default)" } else { "" },
            sanitize(&g.health_check_port)
        );
        for r in t.targets.iter().filter(|r| r.target_group_arn == g.arn) {
            let ok = match r.verdict {
                TargetVerdict::Reachable => Some(true),
                TargetVerdict::Unreachable => Some(false),
                TargetVerdict::Partial | TargetVerdict::Unknown => None,
            };
            let _ = writeln!(
                out,
                "  {} {}:{} ({}{}): {}",
                paint(format!("{:<11}", r.verdict.to_string()), ok),
                sanitize(&r.id),
                r.port,
                sanitize(r.zone.as_deref().unwrap_or("?")),
                r.reported_health
                    .as_deref()
                    .map(|h| format!(", ELB said {}", sanitize(h)))
                    .unwrap_or_default(),
                sanitize_line(&r.message)
            );
        }
    }
    if !t.notes.is_empty() {
        let _ = writeln!(out);
        for n in &t.notes {
            let _ = writeln!(out, "note: {}", sanitize_line(n));
        }
    }
    let _ = writeln!(out);
    let ok = match t.verdict {
        Verdict::Reachable => Some(true),
        Verdict::Unreachable => Some(false),
        Verdict::Unknown => None,
    };
    let _ = writeln!(
        out,
        "{}{}",
        paint(sanitize_line(&t.message), ok),
        t.reason
            .map(|r| format!(" [{}]", r.code()))
            .unwrap_or_default()
    );
    out
}
