//! Renderers of flow-log coverage ([`Coverage`]): a readable report, JSON, and Markdown. Every
//! string from the snapshot (ids, destinations, delivery errors) goes through the sanitizer of
//! its output kind.

use crate::coverage::{Capture, Coverage, LogCoverage, ResourceCoverage};
use crate::render::audit::markdown::escape;
use crate::render::sanitize;
use std::fmt::Write;

/// How many ENIs the human report lists by name in each group before counting the rest.
const SHOWN: usize = 20;

/// The coverage as JSON: `flow_logs`, `vpcs`, `subnets`, `enis` (each resource under its own
/// id key: `vpc_id`, `subnet_id`, `eni`), and `totals`.
pub fn json(c: &Coverage) -> serde_json::Value {
    let resource = |key: &str, r: &ResourceCoverage| {
        let mut v = serde_json::json!({
            key: r.id,
            "flow_logs": r.flow_logs,
            "capture": r.capture,
        });
        if key != "vpc_id" {
            v["vpc_id"] = serde_json::json!(r.vpc_id);
        }
        if key == "eni" {
            v["subnet_id"] = serde_json::json!(r.subnet_id);
        }
        v
    };
    serde_json::json!({
        "flow_logs": c.flow_logs,
        "vpcs": c.vpcs.iter().map(|r| resource("vpc_id", r)).collect::<Vec<_>>(),
        "subnets": c.subnets.iter().map(|r| resource("subnet_id", r)).collect::<Vec<_>>(),
        "enis": c.enis.iter().map(|r| resource("eni", r)).collect::<Vec<_>>(),
        "totals": c.totals,
    })
}

fn log_line(l: &LogCoverage) -> String {
    let mut s = format!(
        "{} on {} ({}): {} to {}",
        sanitize(&l.flow_log_id),
        sanitize(l.resource_id.as_deref().unwrap_or("-")),
        l.level,
        sanitize(l.traffic_type.as_deref().unwrap_or("-")),
        sanitize(
            l.destination
                .as_deref()
                .or(l.destination_type.as_deref())
                .unwrap_or("-")
        ),
    );
    if let Some(i) = l.aggregation_interval {
        let _ = write!(s, ", {i} s windows");
    }
    let _ = write!(s, ", {} ENI(s)", l.enis);
    if let Some(why) = &l.why_not {
        let _ = write!(s, "; captures nothing: {}", sanitize(why));
    }
    s
}

/// The coverage in words: each flow log (what it keeps, where, whether it delivers, the fields
/// its format lacks and what each costs), the VPCs and subnets, the ENIs that are only partly
/// or not covered, and the totals.
pub fn human(c: &Coverage) -> String {
    let mut out = String::new();
    if c.flow_logs.is_empty() {
        out.push_str("flow logs: none in the snapshot (`describe-flow-logs`)\n");
    } else {
        out.push_str("flow logs:\n");
    }
    for l in &c.flow_logs {
        let _ = writeln!(out, "  {}", log_line(l));
        if let Some(e) = &l.format_error {
            let _ = writeln!(out, "      its format cannot be read: {}", sanitize(e));
        }
        for m in &l.missing_fields {
            let _ = writeln!(out, "      lacks `{}`: {}", m.field, m.cost);
        }
    }
    let _ = writeln!(out, "VPCs:");
    for v in &c.vpcs {
        let _ = writeln!(
            out,
            "  {}: {}{}",
            sanitize(&v.id),
            v.capture.words(),
            logs_text(&v.flow_logs, v.capture)
        );
    }
    let _ = writeln!(out, "subnets:");
    for s in &c.subnets {
        let _ = writeln!(
            out,
            "  {}: {}{}",
            sanitize(&s.id),
            s.capture.words(),
            logs_text(&s.flow_logs, s.capture)
        );
    }
    for (what, pick) in [
        (
            "ENIs partly covered",
            [Capture::AcceptOnly, Capture::RejectOnly],
        ),
        ("ENIs not covered", [Capture::None, Capture::None]),
    ] {
        let list: Vec<&ResourceCoverage> = c
            .enis
            .iter()
            .filter(|e| pick.contains(&e.capture))
            .collect();
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{what}:");
        for e in list.iter().take(SHOWN) {
            let _ = writeln!(
                out,
                "  {} ({}): {}{}",
                sanitize(&e.id),
                sanitize(e.subnet_id.as_deref().unwrap_or("no subnet")),
                e.capture.words(),
                logs_text(&e.flow_logs, e.capture)
            );
        }
        if list.len() > SHOWN {
            let _ = writeln!(out, "  … and {} more", list.len() - SHOWN);
        }
    }
    let t = c.totals;
    let _ = writeln!(
        out,
        "ENIs: {} covered, {} partly covered (ACCEPT or REJECT only), {} not covered, of {}",
        t.covered, t.partly, t.not_covered, t.enis
    );
    out
}

/// The logs behind a resource's coverage, in words: what captures it, or, when nothing that
/// counts does, which logs are there but do not count.
fn logs_text(ids: &[String], capture: Capture) -> String {
    let ids: Vec<String> = ids.iter().map(|i| sanitize(i)).collect();
    match (ids.is_empty(), capture) {
        (true, _) => String::new(),
        (false, Capture::None) => format!(" ({} does not count)", ids.join(", ")),
        (false, _) => format!(" (by {})", ids.join(", ")),
    }
}

/// The coverage as Markdown: a table of flow logs, a table of VPCs and subnets, the ENIs that
/// are not fully covered, and the totals.
pub fn markdown(c: &Coverage) -> String {
    let mut out = String::from("# Flow-log coverage\n\n## Flow logs\n\n");
    if c.flow_logs.is_empty() {
        out.push_str("No flow log in the snapshot.\n");
    } else {
        out.push_str(
            "| flow log | resource | traffic | destination | delivers | missing fields |\n|---|---|---|---|---|---|\n",
        );
        for l in &c.flow_logs {
            let missing: Vec<String> = l
                .missing_fields
                .iter()
                .map(|m| format!("`{}`", m.field))
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                escape(&l.flow_log_id),
                escape(l.resource_id.as_deref().unwrap_or("-")),
                escape(l.traffic_type.as_deref().unwrap_or("-")),
                escape(l.destination.as_deref().unwrap_or("-")),
                match &l.why_not {
                    None => "yes".to_string(),
                    Some(why) => format!("no: {}", escape(why)),
                },
                if missing.is_empty() {
                    "none".to_string()
                } else {
                    missing.join(", ")
                }
            );
        }
    }
    out.push_str("\n## VPCs and subnets\n\n| resource | coverage | flow logs |\n|---|---|---|\n");
    for r in c.vpcs.iter().chain(&c.subnets) {
        let ids: Vec<String> = r.flow_logs.iter().map(|i| escape(i)).collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} |",
            escape(&r.id),
            r.capture.words(),
            ids.join(", ")
        );
    }
    let gaps: Vec<&ResourceCoverage> = c
        .enis
        .iter()
        .filter(|e| e.capture != Capture::All)
        .collect();
    if !gaps.is_empty() {
        out.push_str("\n## ENIs not fully covered\n\n| ENI | subnet | coverage |\n|---|---|---|\n");
        for e in gaps {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                escape(&e.id),
                escape(e.subnet_id.as_deref().unwrap_or("-")),
                e.capture.words()
            );
        }
    }
    let t = c.totals;
    let _ = writeln!(
        out,
        "\n## Totals\n\n{} ENIs: {} covered, {} partly covered (ACCEPT or REJECT only), {} not covered.",
        t.enis, t.covered, t.partly, t.not_covered
    );
    out
}
