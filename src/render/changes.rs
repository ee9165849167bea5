//! The changes of a history with their effect on reachability (`vpcreach changes`): text,
//! JSON and Markdown. Principals, addresses and ids come from CloudTrail records: untrusted,
//! sanitized for a terminal and escaped for Markdown.

use crate::diff::Change;
use crate::history::{Effected, Stats};
use crate::render::audit::markdown::escape;
use crate::render::diff::{end_to_end, label, what, witness};
use crate::render::{sanitize, sanitize_line};
use crate::timestamp::Rfc3339;
use serde_json::{json, Value};
use std::fmt::Write;

fn effect_name(e: &Effected) -> Value {
    json!(e.effect)
}

fn effect_text(e: &Effected) -> String {
    effect_name(e)
        .as_str()
        .unwrap_or_default()
        .replace('_', " ")
}

fn who(e: &Effected) -> String {
    if e.event.config_item().is_some() {
        return "AWS Config (who made the change is not in the item)".into();
    }
    let p = e.event.principal.as_deref().unwrap_or("unknown principal");
    match &e.event.source_ip {
        Some(ip) => format!("{p} from {ip}"),
        None => p.to_string(),
    }
}

/// Text for a terminal: one block per change, oldest first.
pub fn human(list: &[Effected]) -> String {
    let mut out = String::new();
    for e in list {
        let ev = &e.event;
        let _ = writeln!(
            out,
            "{} {} by {} ({}): {}",
            Rfc3339(ev.time),
            sanitize(&ev.api),
            sanitize(&who(e)),
            sanitize(&ev.change.resources().join(", ")),
            effect_text(e)
        );
        match ev.config_item() {
            Some(c) => {
                let _ = writeln!(
                    out,
                    "  config item {} ({} {}, {}, captured {})",
                    sanitize(&ev.event_id),
                    sanitize(c.kind.resource_type()),
                    sanitize(&c.resource_id),
                    sanitize(&c.status),
                    sanitize(&c.capture_time)
                );
            }
            None => {
                let _ = writeln!(out, "  event {}", sanitize(&ev.event_id));
            }
        }
        if let Some(r) = &e.reason {
            let _ = writeln!(out, "  unknown: {}", sanitize_line(r));
        }
        for n in &e.delta.notes {
            let _ = writeln!(out, "  note: {}", sanitize_line(n));
        }
        for (title, changes) in [("opened", &e.delta.opened), ("closed", &e.delta.closed)] {
            for c in changes {
                let _ = writeln!(
                    out,
                    "  {title}: {} {}",
                    sanitize(&label(c)),
                    sanitize(&what(c))
                );
                let _ = writeln!(out, "    e.g. {}", witness(c));
                let _ = writeln!(
                    out,
                    "    before: {}",
                    sanitize_line(&c.old.because.join("; "))
                );
                let _ = writeln!(
                    out,
                    "    after:  {}",
                    sanitize_line(&c.new.because.join("; "))
                );
                let e2e = end_to_end(c, title == "opened");
                let _ = writeln!(out, "    end to end: {}", sanitize_line(&e2e));
            }
        }
    }
    let count = |f: crate::history::Effect| list.iter().filter(|e| e.effect == f).count();
    use crate::history::Effect::*;
    let _ = writeln!(
        out,
        "{} change(s): {} opened, {} closed, {} opened and closed, {} unchanged, {} unknown",
        list.len(),
        count(Opened),
        count(Closed),
        count(OpenedAndClosed),
        count(Unchanged),
        count(Unknown)
    );
    out
}

fn changes_json(c: &[Change]) -> Value {
    json!(c)
}

/// JSON: `{"changes": [{"time", "event_id", "principal", "source_ip", "api", "region",
/// "account", "resources", "effect", "reason", "opened", "closed", "notes"}], "history":
/// {counts}}`;
/// an AWS Config item has `config_item` (`{"id", "resource_type", "resource_id",
/// "capture_time", "status", "configuration_state_id"}`) in place of `event_id`.
pub fn json(list: &[Effected], stats: &Stats) -> Value {
    let changes: Vec<Value> = list
        .iter()
        .map(|e| {
            let ev = &e.event;
            let mut v = json!({
                "time": Rfc3339(ev.time).to_string(),
                "event_id": ev.event_id,
                "principal": ev.principal,
                "source_ip": ev.source_ip,
                "api": ev.api,
                "region": ev.region,
                "account": ev.account,
                "resources": ev.change.resources(),
                "change": ev.change,
                "effect": effect_name(e),
                "reason": e.reason,
                "opened": changes_json(&e.delta.opened),
                "closed": changes_json(&e.delta.closed),
                "notes": e.delta.notes,
            });
            // An AWS Config item: `config_item` in place of `event_id`.
            if let (Some(c), Some(m)) = (ev.config_item(), v.as_object_mut()) {
                m.remove("event_id");
                m.insert(
                    "config_item".into(),
                    json!({
                        "id": ev.event_id,
                        "resource_type": c.kind,
                        "resource_id": c.resource_id,
                        "capture_time": c.capture_time,
                        "status": c.status,
                        "configuration_state_id": c.state_id,
                    }),
                );
            }
            v
        })
        .collect();
    json!({"changes": changes, "history": stats})
}

/// Markdown: a table of the changes, then what each opened and closed.
pub fn markdown(list: &[Effected]) -> String {
    let mut out = String::from(
        "# Changes\n\n| time | API | who | resources | effect |\n|---|---|---|---|---|\n",
    );
    for e in list {
        let ev = &e.event;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            Rfc3339(ev.time),
            escape(&ev.api),
            escape(&who(e)),
            escape(&ev.change.resources().join(", ")),
            escape(&effect_text(e))
        );
    }
    out.push('\n');
    for e in list {
        if e.reason.is_none() && e.delta.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "## {} {} ({} {})\n",
            Rfc3339(e.event.time),
            escape(&e.event.api),
            if e.event.config_item().is_some() {
                "config item"
            } else {
                "event"
            },
            escape(&e.event.event_id)
        );
        if let Some(r) = &e.reason {
            let _ = writeln!(out, "- unknown: {}", escape(r));
        }
        for (title, changes) in [("opened", &e.delta.opened), ("closed", &e.delta.closed)] {
            for c in changes {
                let _ = writeln!(
                    out,
                    "- {title}: {} {} (e.g. {}); before: {}; after: {}; end to end: {}",
                    escape(&label(c)),
                    escape(&what(c)),
                    escape(&witness(c)),
                    escape(&c.old.because.join("; ")),
                    escape(&c.new.because.join("; ")),
                    escape(&end_to_end(c, title == "opened"))
                );
            }
        }
        out.push('\n');
    }
    out
}
