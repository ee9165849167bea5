//! Renderers of flow-log coverage ([`Coverage`]): a readable report, JSON, and Markdown. Every
//! string from the snapshot (ids, destinations, delivery errors) goes through the sanitizer of
//! its output kind.

use crate::coverage::records::{EniRecords, Observed, Window};
use crate::coverage::{Capture, Coverage, LogCoverage, ResourceCoverage};
use crate::render::audit::markdown::escape;
use crate::render::sanitize;
use crate::timestamp::Rfc3339;
use std::fmt::Write;

/// How many ENIs the human report lists by name in each group before counting the rest.
const SHOWN: usize = 20;

fn time(t: Option<u64>) -> serde_json::Value {
    match t.and_then(|t| i64::try_from(t).ok()) {
        Some(t) => serde_json::json!(Rfc3339(t).to_string()),
        None => serde_json::Value::Null,
    }
}

fn windows_json(w: &[Window]) -> serde_json::Value {
    w.iter()
        .map(|w| serde_json::json!({"start": time(w.start), "end": time(w.end)}))
        .collect()
}

/// What the records of one interface say, as JSON.
fn records_json(e: &EniRecords) -> serde_json::Value {
    serde_json::json!({
        "records": e.records,
        "nodata": e.nodata,
        "skipdata": e.skipdata,
        "first": time(e.first),
        "last": time(e.last),
        "nodata_windows": windows_json(&e.nodata_windows),
        "skipdata_windows": windows_json(&e.skipdata_windows),
    })
}

/// The coverage as JSON: `flow_logs`, `vpcs`, `subnets`, `enis` (each resource under its own
/// id key: `vpc_id`, `subnet_id`, `eni`), and `totals`; with records (`observed`), each ENI's
/// `seen` and a `records` object (counts that add up, `silent` ENIs, `uncovered` interfaces).
pub fn json(c: &Coverage, observed: Option<&Observed>) -> serde_json::Value {
    let resource = |key: &str, r: &ResourceCoverage| {
        let mut v = serde_json::json!({
            key: r.id,
            "flow_logs": r.flow_logs,
            "capture": if r.known { serde_json::json!(r.capture) } else { serde_json::json!("unknown") },
        });
        if !r.known {
            v["why_unknown"] = serde_json::json!(UNKNOWN);
        }
        if key != "vpc_id" {
            v["vpc_id"] = serde_json::json!(r.vpc_id);
        }
        if key == "eni" {
            v["subnet_id"] = serde_json::json!(r.subnet_id);
        }
        v
    };
    let mut enis: Vec<serde_json::Value> = c.enis.iter().map(|r| resource("eni", r)).collect();
    let mut v = serde_json::json!({
        "flow_logs": c.flow_logs,
        "vpcs": c.vpcs.iter().map(|r| resource("vpc_id", r)).collect::<Vec<_>>(),
        "subnets": c.subnets.iter().map(|r| resource("subnet_id", r)).collect::<Vec<_>>(),
    });
    if let Some(o) = observed {
        for (e, seen) in enis.iter_mut().zip(&o.enis) {
            e["seen"] = seen
                .as_ref()
                .map(records_json)
                .unwrap_or(serde_json::Value::Null);
        }
        let k = o.counts;
        v["records"] = serde_json::json!({
            "read": k.read,
            "parsed": k.parsed,
            "nodata": k.nodata,
            "skipdata": k.skipdata,
            "malformed": k.malformed,
            "header_lines": k.headers,
            "at_covered_enis": o.at_covered,
            "at_uncovered_interfaces": o.at_uncovered,
            "at_enis_of_unknown_configuration": o.at_unknown,
            "without_interface_id": o.without_interface,
            "enis_seen": o.enis_seen,
            "enis_with_lost_windows": o.enis_with_lost_windows,
            "silent": o.silent,
            "uncovered": o.uncovered.iter().map(|u| {
                let mut r = records_json(&u.seen);
                r["eni"] = serde_json::json!(u.eni);
                r["in_snapshot"] = serde_json::json!(u.in_snapshot);
                r
            }).collect::<Vec<_>>(),
        });
    }
    v["enis"] = serde_json::Value::Array(enis);
    v["totals"] = serde_json::json!(c.totals);
    v
}

/// Why a resource's coverage is unknown.
const UNKNOWN: &str = "flow-log configuration not in the snapshot (no `FlowLogs` key read for its place: save `aws ec2 describe-flow-logs`)";

fn words(r: &ResourceCoverage) -> &'static str {
    if r.known {
        r.capture.words()
    } else {
        "unknown (flow-log configuration not in the snapshot)"
    }
}

fn span(e: &EniRecords) -> String {
    match (e.first, e.last) {
        (Some(a), Some(b)) => format!(
            "{} .. {}",
            Rfc3339(i64::try_from(a).unwrap_or(i64::MAX)),
            Rfc3339(i64::try_from(b).unwrap_or(i64::MAX))
        ),
        _ => "no time".into(),
    }
}

fn window_text(w: &Window) -> String {
    match (w.start, w.end) {
        (Some(a), Some(b)) => format!(
            "{} .. {}",
            Rfc3339(i64::try_from(a).unwrap_or(i64::MAX)),
            Rfc3339(i64::try_from(b).unwrap_or(i64::MAX))
        ),
        _ => "a window without times".into(),
    }
}

/// The records part of the human report.
fn observed_human(c: &Coverage, o: &Observed, out: &mut String) {
    let k = o.counts;
    let _ = writeln!(
        out,
        "records: {} read = {} with flow data + {} NODATA + {} SKIPDATA + {} malformed; {} at covered ENIs, {} at interfaces no flow log of the snapshot covers, {} without `interface-id`",
        k.read, k.parsed, k.nodata, k.skipdata, k.malformed, o.at_covered, o.at_uncovered, o.without_interface
    );
    if o.at_unknown > 0 {
        let _ = writeln!(
            out,
            "records: {} at ENIs whose flow-log configuration is not in the snapshot",
            o.at_unknown
        );
    }
    let _ = writeln!(
        out,
        "ENIs seen: {} of {} ({}), {} with lost windows (SKIPDATA)",
        o.enis_seen,
        c.enis.len(),
        share(o.enis_seen, c.enis.len()),
        o.enis_with_lost_windows
    );
    let seen: Vec<(&ResourceCoverage, &EniRecords)> = c
        .enis
        .iter()
        .zip(&o.enis)
        .filter_map(|(r, s)| s.as_ref().map(|s| (r, s)))
        .collect();
    if !seen.is_empty() {
        let _ = writeln!(out, "records per ENI:");
    }
    for (r, s) in seen.iter().take(SHOWN) {
        let _ = writeln!(
            out,
            "  {}: {} record(s), {} NODATA, {} SKIPDATA, {}",
            sanitize(&r.id),
            s.records,
            s.nodata,
            s.skipdata,
            span(s)
        );
        for w in &s.skipdata_windows {
            let _ = writeln!(out, "      records lost (SKIPDATA): {}", window_text(w));
        }
        for w in &s.nodata_windows {
            let _ = writeln!(out, "      no traffic (NODATA): {}", window_text(w));
        }
    }
    if seen.len() > SHOWN {
        let _ = writeln!(out, "  … and {} more", seen.len() - SHOWN);
    }
    if !o.silent.is_empty() {
        let ids: Vec<String> = o.silent.iter().take(SHOWN).map(|i| sanitize(i)).collect();
        let more = o.silent.len().saturating_sub(SHOWN);
        let _ = writeln!(
            out,
            "covered ENIs that sent no record at all: {}{}",
            ids.join(", "),
            if more > 0 {
                format!(" … and {more} more")
            } else {
                String::new()
            }
        );
    }
    for u in o.uncovered.iter().take(SHOWN) {
        let _ = writeln!(
            out,
            "records of {} that no flow log of the snapshot covers: {} record(s) ({}){}",
            sanitize(&u.eni),
            u.seen.total(),
            span(&u.seen),
            if u.in_snapshot {
                ""
            } else {
                "; the ENI is not in the snapshot (a stale snapshot, or another account)"
            }
        );
    }
    if o.uncovered.len() > SHOWN {
        let _ = writeln!(out, "  … and {} more interfaces", o.uncovered.len() - SHOWN);
    }
}

fn share(n: usize, of: usize) -> String {
    if of == 0 {
        "-".into()
    } else {
        format!("{:.0}%", n as f64 * 100.0 / of as f64)
    }
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
pub fn human(c: &Coverage, observed: Option<&Observed>) -> String {
    let mut out = String::new();
    if !c.config_read {
        let _ = writeln!(out, "flow logs: {UNKNOWN}");
    } else if c.flow_logs.is_empty() {
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
            words(v),
            logs_text(&v.flow_logs, v.capture)
        );
    }
    let _ = writeln!(out, "subnets:");
    for s in &c.subnets {
        let _ = writeln!(
            out,
            "  {}: {}{}",
            sanitize(&s.id),
            words(s),
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
            .filter(|e| e.known && pick.contains(&e.capture))
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
    if let Some(o) = observed {
        observed_human(c, o, &mut out);
    }
    let t = c.totals;
    let unknown = if t.unknown > 0 {
        format!(
            ", {} unknown (flow-log configuration not in the snapshot)",
            t.unknown
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "ENIs: {} covered, {} partly covered (ACCEPT or REJECT only), {} not covered{unknown}, of {}",
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
pub fn markdown(c: &Coverage, observed: Option<&Observed>) -> String {
    let mut out = String::from("# Flow-log coverage\n\n## Flow logs\n\n");
    if !c.config_read {
        let _ = writeln!(out, "{}.", escape(UNKNOWN));
    } else if c.flow_logs.is_empty() {
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
            words(r),
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
                words(e)
            );
        }
    }
    if let Some(o) = observed {
        let k = o.counts;
        let _ = writeln!(
            out,
            "\n## Records\n\n{} read = {} with flow data + {} NODATA + {} SKIPDATA + {} malformed. ENIs seen: {} of {} ({}); {} with lost windows (SKIPDATA); {} covered ENI(s) sent no record; {} record(s) of interfaces no flow log of the snapshot covers.",
            k.read, k.parsed, k.nodata, k.skipdata, k.malformed, o.enis_seen, c.enis.len(),
            share(o.enis_seen, c.enis.len()), o.enis_with_lost_windows, o.silent.len(), o.at_uncovered
        );
        let lost: Vec<(&ResourceCoverage, &EniRecords)> = c
            .enis
            .iter()
            .zip(&o.enis)
            .filter_map(|(r, s)| s.as_ref().filter(|s| s.skipdata > 0).map(|s| (r, s)))
            .collect();
        if !lost.is_empty() {
            out.push_str("\n| ENI | SKIPDATA windows | first lost |\n|---|---|---|\n");
            for (r, s) in lost {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    escape(&r.id),
                    s.skipdata,
                    s.skipdata_windows
                        .first()
                        .map(window_text)
                        .unwrap_or_default()
                );
            }
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
