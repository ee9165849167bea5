//! The reachability delta ([`crate::diff::Delta`]) for people (text, Markdown), programs (JSON)
//! and code-scanning dashboards (SARIF). Names from AWS are untrusted: sanitized for a terminal,
//! escaped for Markdown, plain JSON strings elsewhere.

use crate::diff::{Change, Delta};
use crate::render::audit::markdown::escape;
use crate::render::{sanitize, sanitize_line};
use serde_json::{json, Value};
use std::fmt::Write;

pub(crate) fn label(c: &Change) -> String {
    match &c.name {
        Some(n) => format!("{} ({})", c.eni, n),
        None => c.eni.clone(),
    }
}

pub(crate) fn what(c: &Change) -> String {
    let way = match c.direction {
        crate::security_group::Direction::Inbound => "from",
        crate::security_group::Direction::Outbound => "to",
    };
    let parts: Vec<String> = c
        .ranges
        .iter()
        .map(|r| {
            let more = r.peer_count.saturating_sub(r.peers.len());
            let peers = if more > 0 {
                format!("{} … and {more} more", r.peers.join(", "))
            } else {
                r.peers.join(", ")
            };
            if r.ports == "-" {
                format!("{way} {peers}")
            } else {
                format!("port {} {way} {peers}", r.ports)
            }
        })
        .collect();
    format!("{} {} {}", c.direction, c.protocol, parts.join("; "))
}

/// Whether the witness works end to end, in words: `effective …`, or `latent: <why>`.
/// `opened`: the change is in the opened list (else closed).
pub(crate) fn end_to_end(c: &Change, opened: bool) -> String {
    match (c.end_to_end.status, opened) {
        ("effective", true) => "effective (the connection now works end to end)".into(),
        ("effective", false) => "effective (the connection worked end to end before)".into(),
        (status, _) => format!("{status}: {}", c.end_to_end.because),
    }
}

pub(crate) fn witness(c: &Change) -> String {
    match c.witness.port {
        Some(p) => format!("{} port {p}", c.witness.peer),
        None => c.witness.peer.to_string(),
    }
}

/// Text for a terminal: each change with its witness and what decided it before and after.
pub fn human(d: &Delta) -> String {
    let mut out = String::new();
    for (title, list) in [("opened", &d.opened), ("closed", &d.closed)] {
        for c in list {
            let _ = writeln!(out, "{title}: {} {}", sanitize(&label(c)), what(c));
            let _ = writeln!(out, "  e.g. {}", witness(c));
            let _ = writeln!(
                out,
                "  before: {}",
                sanitize_line(&c.old.because.join("; "))
            );
            let _ = writeln!(
                out,
                "  after:  {}",
                sanitize_line(&c.new.because.join("; "))
            );
            let e2e = end_to_end(c, title == "opened");
            let _ = writeln!(out, "  end to end: {}", sanitize_line(&e2e));
        }
    }
    for n in &d.notes {
        let _ = writeln!(out, "note: {}", sanitize_line(n));
    }
    let _ = writeln!(
        out,
        "{} opened, {} closed, {} ENI(s) compared",
        d.opened.len(),
        d.closed.len(),
        d.enis
    );
    out
}

/// JSON: `{"opened": [...], "closed": [...], "enis": N, "notes": [...]}`.
pub fn json(d: &Delta) -> Value {
    json!(d)
}

/// Markdown: a table of opened and of closed traffic, for a pull request.
pub fn markdown(d: &Delta) -> String {
    let mut out = String::from("# Reachability changes\n\n");
    let _ = writeln!(
        out,
        "{} opened, {} closed, {} ENI(s) compared.\n",
        d.opened.len(),
        d.closed.len(),
        d.enis
    );
    for (title, list) in [("Opened", &d.opened), ("Closed", &d.closed)] {
        if list.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {title}\n");
        out.push_str(
            "| ENI | traffic | e.g. | before | after | end to end |\n|---|---|---|---|---|---|\n",
        );
        for c in list {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                escape(&label(c)),
                escape(&what(c)),
                escape(&witness(c)),
                escape(&c.old.because.join("; ")),
                escape(&c.new.because.join("; ")),
                escape(&end_to_end(c, title == "Opened"))
            );
        }
        out.push('\n');
    }
    for n in &d.notes {
        let _ = writeln!(out, "- note: {}", escape(n));
    }
    out
}

/// SARIF 2.1.0: one result per change (`reachability-opened` at level `warning`,
/// `reachability-closed` at `note`), located at the ENI (a logical location: there is no source
/// file for an ENI), with a fingerprint from the ENI, direction, protocol and ranges.
pub fn sarif(d: &Delta) -> Value {
    use sha1::{Digest, Sha1};
    let result = |c: &Change, rule: &str, level: &str, verb: &str| {
        let e2e = end_to_end(c, verb == "opened");
        let mut h = Sha1::new();
        h.update(rule.as_bytes());
        h.update(c.eni.as_bytes());
        h.update(what(c).as_bytes());
        let fp: String = h
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        json!({
            "ruleId": rule,
            "level": level,
            "message": {"text": format!("{verb} at {}: {} (e.g. {}); before: {}; after: {}; end to end: {}",
                label(c), what(c), witness(c), c.old.because.join("; "), c.new.because.join("; "), e2e)},
            "properties": {"endToEnd": c.end_to_end.status},
            "locations": [{"logicalLocations": [{"name": c.eni, "kind": "resource"}]}],
            "partialFingerprints": {"vpcreachChange/v1": fp},
        })
    };
    let mut results: Vec<Value> = d
        .opened
        .iter()
        .map(|c| result(c, "reachability-opened", "warning", "opened"))
        .collect();
    results.extend(
        d.closed
            .iter()
            .map(|c| result(c, "reachability-closed", "note", "closed")),
    );
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "vpcreach",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "version": env!("CARGO_PKG_VERSION"),
                "rules": [
                    {"id": "reachability-opened", "shortDescription": {"text": "Traffic the new configuration allows and the old did not"}},
                    {"id": "reachability-closed", "shortDescription": {"text": "Traffic the old configuration allowed and the new does not"}}
                ]
            }},
            "results": results,
        }]
    })
}
