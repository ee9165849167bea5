//! Renderers of flow-log explanations: a readable line per record and the run's summary; one
//! explanation's JSON and message (`record`); rule usage as JSON (`usage`).

use crate::explain::{Explanation, Status, Tally};
use crate::flow_log::Counts;
use crate::network::Network;
use crate::timestamp::Rfc3339;
use serde_json::{json, Value};
use std::fmt::Write;

mod record;
mod usage;

pub use record::{JsonParts, RenderCache};

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// One readable line: where, status, observed (and expected when they differ), and the reason.
pub fn line(e: &Explanation<'_>, net: &Network, color: bool) -> String {
    line_of(e, e.message(net), color)
}

/// [`line()`], the same text, with the message's clauses from `cache`.
pub fn line_cached(e: &Explanation<'_>, cache: &mut RenderCache<'_>, color: bool) -> String {
    line_of(e, e.message_cached(cache), color)
}

fn line_of(e: &Explanation<'_>, message: String, color: bool) -> String {
    let status = match e.status {
        Status::Consistent => paint("consistent   ", "32", color),
        Status::Contradiction => paint("CONTRADICTION", "31;1", color),
        Status::Unknown => paint("unknown      ", "33", color),
        Status::Skipped => paint("skipped      ", "2", color),
        Status::Malformed => paint("malformed    ", "35", color),
    };
    let action = match (e.observed, e.expected) {
        (Some(o), Some(x)) if o != x => format!("{o} (expected {x})"),
        (Some(o), _) => o.to_string(),
        (None, Some(x)) => format!("- (expected {x})"),
        (None, None) => "-".into(),
    };
    let event = e.event.map(|n| format!(" event {n}")).unwrap_or_default();
    let file = e.file.display().to_string();
    let file = if file.chars().any(crate::render::is_unsafe_char) {
        crate::render::sanitize_line(&file)
    } else {
        file
    };
    let mut s = format!(
        "{file}:{}{event}  {status}  {action:<6}  {}",
        e.line,
        if message.chars().any(crate::render::is_unsafe_char) {
            message
                .chars()
                .map(|c| {
                    if crate::render::is_unsafe_char(c) {
                        '?'
                    } else {
                        c
                    }
                })
                .collect::<String>()
        } else {
            message
        }
    );
    for h in &e.hints {
        let _ = write!(s, "\n    possible cause: {h}");
    }
    if let Some(via) = &e.via {
        let _ = write!(s, "\n    through: {}", crate::render::sanitize_line(via));
    }
    if let Some(then) = &e.then {
        let _ = write!(
            s,
            "\n    judged at its start ({}); the snapshot's configuration says: {}{}",
            then.at,
            then.snapshot_status.as_str(),
            then.snapshot_expected
                .map(|a| format!(" (expected {})", a.as_str()))
                .unwrap_or_default()
        );
        if then.changes.is_empty() {
            let _ = write!(s, "\n    changed since: nothing the history holds names this interface's groups, subnet, NACL or route table");
        }
        for c in &then.changes {
            if let Some(id) = &c.config_item {
                let _ = write!(
                    s,
                    "\n    changed since: {} {} recorded by AWS Config ({}; config item {})",
                    c.time,
                    crate::render::sanitize_line(&c.api),
                    crate::render::sanitize_line(&c.resources.join(", ")),
                    crate::render::sanitize_line(id)
                );
                continue;
            }
            let _ = write!(
                s,
                "\n    changed since: {} {} by {} from {} ({}; event {})",
                c.time,
                crate::render::sanitize_line(&c.api),
                crate::render::sanitize_line(c.principal.as_deref().unwrap_or("?")),
                crate::render::sanitize_line(c.source_ip.as_deref().unwrap_or("?")),
                crate::render::sanitize_line(&c.resources.join(", ")),
                crate::render::sanitize_line(&c.event_id)
            );
        }
    }
    s
}

fn top<K: ToString>(map: impl IntoIterator<Item = (K, u64)>, n: usize) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = map.into_iter().map(|(k, c)| (k.to_string(), c)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// The summary as JSON: counts per status (adding up to the records read), the window, rejects
/// by deciding rule, top rejected sources, rule hits, and with `rule_usage` every rule of the
/// ENIs seen.
pub fn summary_json(t: &Tally, c: &Counts, net: &Network, rule_usage: bool) -> Value {
    let by_status: serde_json::Map<String, Value> = Status::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), json!(t.count(*s))))
        .collect();
    let usage = t.rule_usage_json_of(net, rule_usage);
    let mut hits: Vec<Value> = usage
        .iter()
        .filter(|u| u["hits"].as_u64().unwrap_or(0) > 0)
        .cloned()
        .collect();
    hits.sort_by_key(|u| std::cmp::Reverse(u["hits"].as_u64().unwrap_or(0)));
    let mut v = json!({
        "records_read": c.read,
        "by_status": by_status,
        "nodata": c.nodata,
        "skipdata": c.skipdata,
        "skipdata_by_interface": t.lost_windows(net).into_iter()
            .map(|(eni, n)| json!({"interface": eni, "windows": n})).collect::<Vec<_>>(),
        "malformed": c.malformed,
        "header_lines": c.headers,
        "window": t.window.map(|(s, e)| json!({"start": s, "end": e, "seconds": e.saturating_sub(s)})),
        "snapshot_time": net.snapshot_time.map(|t| Rfc3339(t).to_string()),
        "interfaces_seen": t.enis_seen.len(),
        "interfaces_in_snapshot": net.enis.len(),
        "interfaces_with_lost_windows": t.skipdata_by_eni.len(),
        "rejects_by_rule": top(t.rejects_by_rule_text(net), 20)
            .into_iter().map(|(k, v)| json!({"rule": k, "count": v})).collect::<Vec<_>>(),
        "top_rejected_sources": top(t.rejected_talkers.iter().map(|(k, v)| (*k, *v)), 10)
            .into_iter().map(|(k, v)| json!({"address": k, "count": v})).collect::<Vec<_>>(),
        // Counts are lower bounds, low by at most this, once sources were too many to hold.
        "top_rejected_sources_undercount": t.rejected_talkers.undercount(),
        "rule_hits": hits,
    });
    if rule_usage {
        if let Some(o) = v.as_object_mut() {
            o.insert("rule_usage".into(), Value::Array(usage));
        }
    }
    if t.judged_earlier > 0 {
        if let Some(o) = v.as_object_mut() {
            o.insert("judged_earlier".into(), json!(t.judged_earlier));
            o.insert(
                "judged_earlier_by_other_rules".into(),
                json!(t.judged_earlier_by_other_rules),
            );
        }
    }
    v
}

/// How many rules the human summary lists without `--rule-usage`.
const TOP_RULES: usize = 20;

/// The summary for a terminal: counts, window, rejects by deciding rule, top rejected sources,
/// and the most used rules (with `rule_usage`, every rule of the ENIs seen).
pub fn summary_human(t: &Tally, c: &Counts, net: &Network, rule_usage: bool) -> String {
    let mut s = String::new();
    let n = |st: Status| t.count(st);
    let _ = writeln!(
        s,
        "\n{} records read: {} consistent, {} contradiction, {} unknown, {} skipped ({} NODATA, {} SKIPDATA), {} malformed",
        c.read,
        n(Status::Consistent),
        n(Status::Contradiction),
        n(Status::Unknown),
        n(Status::Skipped),
        c.nodata,
        c.skipdata,
        n(Status::Malformed)
    );
    let seen = t.enis_seen.len();
    let _ = writeln!(
        s,
        "ENIs seen: {seen} of the snapshot's {} ({}), {} with lost windows (SKIPDATA)",
        net.enis.len(),
        match net.enis.len() {
            0 => "-".to_string(),
            n => format!("{:.0}%", seen as f64 * 100.0 / n as f64),
        },
        t.skipdata_by_eni.len()
    );
    if c.skipdata > 0 {
        let _ = writeln!(
            s,
            "note: SKIPDATA records mean the record set is incomplete"
        );
        for (eni, n) in t.lost_windows(net) {
            let _ = writeln!(s, "records lost: {eni}: {n} window(s) (SKIPDATA)");
        }
    }
    if let Some((a, b)) = t.window {
        let _ = writeln!(
            s,
            "window: {} .. {} ({})",
            Rfc3339(a as i64),
            Rfc3339(b as i64),
            crate::explain::duration(b.saturating_sub(a) as i64)
        );
    }
    if let Some(taken) = net.snapshot_time {
        let _ = writeln!(s, "snapshot taken: {}", Rfc3339(taken));
    }
    if t.judged_earlier > 0 {
        let _ = writeln!(
            s,
            "history: {} record(s) judged by the configuration at their start, older than the snapshot's; {} of them decided by rules other than the snapshot's (not in the rule hits below)",
            t.judged_earlier, t.judged_earlier_by_other_rules
        );
    }
    let rejects = top(t.rejects_by_rule_text(net), 10);
    if !rejects.is_empty() {
        let _ = writeln!(s, "rejects by deciding rule:");
        for (k, v) in rejects {
            let _ = writeln!(s, "  {v:>8}  {k}");
        }
    }
    let talkers = top(t.rejected_talkers.iter().map(|(k, v)| (*k, *v)), 10);
    if !talkers.is_empty() {
        match t.rejected_talkers.undercount() {
            0 => {
                let _ = writeln!(s, "top rejected sources:");
            }
            low => {
                let _ = writeln!(
                    s,
                    "top rejected sources (too many sources to hold: each count may be low by up to {low}):"
                );
            }
        }
        for (k, v) in talkers {
            let _ = writeln!(s, "  {v:>8}  {k}");
        }
    }
    // Without --rule-usage, the most used rules only: a large network has thousands.
    let (show, all) = if rule_usage {
        let every = t.rule_usage_json_of(net, true);
        let n = every.len();
        (every, n)
    } else {
        t.rule_usage_top(net, TOP_RULES)
    };
    if !show.is_empty() {
        let _ = match (rule_usage, all > show.len()) {
            (true, _) => writeln!(s, "rule usage (every rule of the interfaces seen):"),
            (false, false) => writeln!(s, "rule hits:"),
            (false, true) => writeln!(
                s,
                "rule hits (the {} most used of {all} rules with hits; --rule-usage or --output json lists them all):",
                show.len()
            ),
        };
        for u in &show {
            let mut extra = String::new();
            if let Some(p) = u["used_peers"].as_array() {
                let peers: Vec<&str> = p.iter().filter_map(Value::as_str).collect();
                let _ = write!(extra, "  used: {}", peers.join(", "));
            }
            if let Some(p) = u["used_ports"].as_str() {
                let _ = write!(extra, " ports {p}");
            }
            let _ = writeln!(
                s,
                "  {:>8}  {} {} {}{}{}",
                u["hits"].as_u64().unwrap_or(0),
                u["resource"].as_str().unwrap_or(""),
                u["direction"].as_str().unwrap_or(""),
                u["rule"].as_str().unwrap_or(""),
                if u["hits"].as_u64() == Some(0) {
                    "  (no hits)"
                } else {
                    ""
                },
                extra
            );
        }
        if show.iter().any(|u| u["hits"].as_u64() == Some(0)) {
            // Whether the logs could have seen a rule's traffic is not judged here.
            let _ = writeln!(
                s,
                "note: a rule with no hits in these records is not called unused: `vpcreach audit --flows` judges that against what the ENIs' flow logs keep and lost"
            );
        }
    }
    // Names and descriptions come from AWS: no control character reaches the terminal.
    s.chars()
        .map(|c| {
            if crate::render::is_unsafe_char(c) && c != '\n' {
                '?'
            } else {
                c
            }
        })
        .collect()
}
