//! The audit as a table for a terminal: one row per finding (highest severity first) with its
//! message, witness and rules beneath, then suppressed and resolved findings and the summary.

use crate::audit::report::{BaselineState, Report, ReportedFinding};
use crate::policy::Severity;
use crate::render::sanitize;
use std::fmt::Write;

/// Untrusted text without control characters (escape sequences), not cut short.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if crate::render::is_unsafe_char(c) {
                '?'
            } else {
                c
            }
        })
        .collect()
}

fn paint(text: &str, code: &str, color: bool) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn severity(s: Severity, color: bool) -> String {
    let code = match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
    };
    paint(&format!("{:<8}", s.as_str()), code, color)
}

fn resources(f: &ReportedFinding) -> String {
    let x = &f.finding;
    if !x.enis.is_empty()
        && (x.grouped || !x.cause.is_empty())
        && x.resources.first() != x.enis.first()
    {
        // Grouped: the cause, and how many ENIs it affects.
        return format!(
            "{} ({} ENI{})",
            x.resources.first().map_or("-".into(), |r| sanitize(r)),
            x.enis.len(),
            if x.enis.len() == 1 { "" } else { "s" }
        );
    }
    let r = &x.resources;
    match r.len() {
        0 => "-".into(),
        1 => sanitize(&r[0]),
        n => format!("{} (+{})", sanitize(&r[0]), n - 1),
    }
}

/// ENIs named in a finding's rows; the JSON lists them all.
const SHOWN_ENIS: usize = 5;

/// `ENIs (N): a, b, c, … (all in --output json)`.
fn enis_line(enis: &[String]) -> String {
    let shown: Vec<String> = enis.iter().take(SHOWN_ENIS).map(|e| sanitize(e)).collect();
    if enis.len() > SHOWN_ENIS {
        format!(
            "ENIs ({}): {}, … and {} more (all in --output json)",
            enis.len(),
            shown.join(", "),
            enis.len() - SHOWN_ENIS
        )
    } else {
        format!("ENIs ({}): {}", enis.len(), shown.join(", "))
    }
}

/// Column widths: status, check and resource, from the rows shown (within reason).
#[derive(Clone, Copy)]
struct Widths(usize, usize, usize);

impl Widths {
    fn of(rows: &[&ReportedFinding]) -> Widths {
        let w = |f: &dyn Fn(&ReportedFinding) -> usize, min: usize| {
            rows.iter().map(|r| f(r)).max().unwrap_or(0).clamp(min, 40)
        };
        Widths(
            w(&|r| r.finding.status.label().len(), 6),
            w(&|r| sanitize(&r.finding.check).chars().count(), 5),
            w(&|r| resources(r).chars().count(), 8),
        )
    }
}

fn row(out: &mut String, f: &ReportedFinding, w: Widths, color: bool) {
    let x = &f.finding;
    let mut marks = Vec::new();
    if f.baseline == Some(BaselineState::New) {
        marks.push(paint("NEW", "1", color));
    }
    if f.failing {
        marks.push(paint("FAIL", "1;31", color));
    }
    let line = format!(
        "{} {:<sw$} {:<cw$} {:<rw$} {}",
        severity(x.severity, color),
        x.status.label(),
        sanitize(&x.check),
        resources(f),
        marks.join(" "),
        sw = w.0,
        cw = w.1,
        rw = w.2,
    );
    let _ = writeln!(out, "{}", line.trim_end());
    let _ = writeln!(out, "         {}", clean(&x.message));
    if let Some(w) = &x.witness {
        let port = w.port.map(|p| format!("/{p}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "         witness: {} -> {} {}{port}",
            sanitize(&w.src),
            sanitize(&w.dst),
            sanitize(&w.protocol)
        );
    }
    for b in &x.because {
        let _ = writeln!(out, "         because: {}", clean(b));
    }
    if let Some(i) = &x.introduced_by {
        let _ = writeln!(
            out,
            "         introduced by: {}",
            clean(&introduced_text(i))
        );
    }
    for w in x.witnesses.iter().skip(1) {
        let port = w.port.map(|p| format!("/{p}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "         also: {} -> {} {}{port}",
            sanitize(&w.src),
            sanitize(&w.dst),
            sanitize(&w.protocol)
        );
    }
    if x.resources.len() > 1 {
        let all: Vec<String> = x.resources.iter().map(|r| sanitize(r)).collect();
        let _ = writeln!(out, "         resources: {}", all.join(", "));
    }
    if !x.enis.is_empty() {
        let _ = writeln!(out, "         {}", enis_line(&x.enis));
    }
    if !f.suppressed_enis.is_empty() {
        let _ = writeln!(
            out,
            "         {} more ENI(s) suppressed: {}",
            f.suppressed_enis.len(),
            f.suppressed_enis
                .iter()
                .take(SHOWN_ENIS)
                .map(|s| format!("{} ({})", sanitize(&s.eni), sanitize(&s.suppression.reason)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(e) = &f.expired_suppression {
        let _ = writeln!(
            out,
            "         {} on {} ({}): {}",
            paint("suppression expired", "33", color),
            e.expires,
            sanitize(&e.at),
            sanitize(&e.reason)
        );
    }
    let _ = writeln!(out, "         id: {}", x.id);
}

/// The report as text; `color` adds ANSI colours (only on a terminal, and not with `NO_COLOR`).
pub fn report(r: &Report, color: bool) -> String {
    let mut out = String::new();
    for e in &r.errors {
        let _ = writeln!(out, "incomplete: {}", crate::render::sanitize(e));
    }
    let open: Vec<&ReportedFinding> = r
        .findings
        .iter()
        .filter(|f| f.suppressed.is_none())
        .collect();
    if open.is_empty() {
        let _ = writeln!(out, "no open finding");
    } else {
        let w = Widths::of(&open);
        let header = format!(
            "{:<8} {:<sw$} {:<cw$} {:<rw$} {}",
            "SEVERITY",
            "STATUS",
            "CHECK",
            "RESOURCE",
            "RESULT",
            sw = w.0,
            cw = w.1,
            rw = w.2,
        );
        let _ = writeln!(out, "{}", paint(&header, "1", color));
        for f in &open {
            row(&mut out, f, w, color);
        }
    }
    let hidden: Vec<&ReportedFinding> = r
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .collect();
    if !hidden.is_empty() {
        let _ = writeln!(out, "\nsuppressed ({}):", hidden.len());
        for f in hidden {
            if let Some(s) = &f.suppressed {
                let _ = writeln!(
                    out,
                    "  {} {:<32} {:<26} until {}: {}",
                    severity(f.finding.severity, color),
                    sanitize(&f.finding.check),
                    resources(f),
                    s.expires,
                    sanitize(&s.reason)
                );
            }
        }
    }
    if let Some(resolved) = r.resolved.as_ref().filter(|r| !r.is_empty()) {
        let _ = writeln!(out, "\nresolved since the baseline ({}):", resolved.len());
        for p in resolved {
            let sev = p.severity.map_or("-", Severity::as_str);
            let _ = writeln!(
                out,
                "  {:<8} {:<32} {} {}",
                sev,
                sanitize(&p.check),
                sanitize(&p.resources.join(", ")),
                p.id
            );
        }
    }
    let s = &r.summary;
    let counts: Vec<String> = ["critical", "high", "medium", "low"]
        .iter()
        .map(|k| format!("{} {k}", s.by_severity.get(k).copied().unwrap_or(0)))
        .collect();
    let _ = write!(
        out,
        "\n{} open finding(s) ({}), {} suppressed",
        s.open,
        counts.join(", "),
        s.suppressed
    );
    if let Some(b) = &s.baseline {
        let _ = write!(
            out,
            "; {} new, {} unchanged, {} resolved",
            b.new, b.unchanged, b.resolved
        );
    }
    let _ = writeln!(
        out,
        "; {} statement(s), {} ENI(s)",
        s.statements, s.interfaces
    );
    let verdict = if s.failing == 0 {
        paint(
            &format!("pass: no finding at or above `{}`", s.fail_on.as_str()),
            "32",
            color,
        )
    } else {
        paint(
            &format!(
                "fail: {} finding(s) at or above `{}`{}",
                s.failing,
                s.fail_on.as_str(),
                if s.baseline.is_some() {
                    " and new since the baseline"
                } else {
                    ""
                }
            ),
            "1;31",
            color,
        )
    };
    let _ = writeln!(out, "{verdict}");
    // How the analysis represents traffic is for the JSON reader, not for the table.
    for n in s
        .notes
        .iter()
        .filter(|n| n.as_str() != crate::audit::analysis::REPRESENTATION)
    {
        let _ = writeln!(out, "note: {}", clean(n));
    }
    out
}

/// A finding's [`IntroducedBy`](crate::audit::finding::IntroducedBy) in words (untrusted parts
/// inside: sanitize the result).
pub(crate) fn introduced_text(i: &crate::audit::finding::IntroducedBy) -> String {
    format!(
        "{} {} by {} from {} (event {})",
        i.time,
        i.api,
        i.principal.as_deref().unwrap_or("?"),
        i.source_ip.as_deref().unwrap_or("?"),
        i.event_id
    )
}
