//! The audit as Markdown for a pull request or a ticket: a verdict and summary table, the open
//! findings grouped by severity with their witness and rules, then suppressed and resolved
//! findings, warnings and the checks that ran.
//!
//! Every string that comes from AWS or from a policy file is escaped: Markdown and HTML
//! syntax is neutralized, `@` mentions are broken, and code spans cannot be closed early.

use crate::audit::report::{BaselineState, Report, ReportedFinding};
use crate::policy::Severity;
use std::fmt::Write;

/// Escapes untrusted text for Markdown prose and table cells.
///
/// ```
/// use vpcreach::render::audit::markdown::escape;
/// assert_eq!(escape("a|b *c* <img> @team"), "a\\|b \\*c\\* &lt;img&gt; &#64;team");
/// ```
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' => out.push_str("&#64;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if crate::render::is_unsafe_char(c) => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// An untrusted id or name as a code span: backticks and line breaks cannot occur in it, and a
/// `|` is escaped for table cells.
pub fn code(s: &str) -> String {
    let inner: String = s
        .chars()
        .map(|c| match c {
            '`' => '\'',
            c if crate::render::is_unsafe_char(c) => '?',
            c => c,
        })
        .collect();
    format!("`{}`", inner.replace('|', "\\|"))
}

/// ENIs named per finding; the JSON report lists them all.
const SHOWN_ENIS: usize = 10;

fn heading(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
    }
}

fn finding(out: &mut String, f: &ReportedFinding) {
    let x = &f.finding;
    // The first resource (what the finding is about) and the finding's id make each heading
    // unique, so that every finding has an anchor of its own.
    let mut title = format!("### {} — {}", code(&x.check), x.status.label());
    if let Some(first) = x.resources.first() {
        title.push_str(&format!(" — {}", code(first)));
    }
    title.push_str(&format!(" ({})", code(&x.id)));
    if f.baseline == Some(BaselineState::New) {
        title.push_str(" · **new**");
    }
    if f.failing {
        title.push_str(" · fails the run");
    }
    let _ = writeln!(out, "{title}\n");
    let _ = writeln!(out, "{}\n", escape(&x.message));
    if !x.resources.is_empty() {
        let r: Vec<String> = x.resources.iter().map(|r| code(r)).collect();
        let _ = writeln!(out, "- **Resources:** {}", r.join(", "));
    }
    if !x.enis.is_empty() {
        let shown: Vec<String> = x.enis.iter().take(SHOWN_ENIS).map(|e| code(e)).collect();
        let more = x.enis.len().saturating_sub(SHOWN_ENIS);
        let _ = writeln!(
            out,
            "- **ENIs ({}):** {}{}",
            x.enis.len(),
            shown.join(", "),
            if more > 0 {
                format!(", … and {more} more (all in the JSON report)")
            } else {
                String::new()
            }
        );
    }
    if !f.suppressed_enis.is_empty() {
        let shown: Vec<String> = f
            .suppressed_enis
            .iter()
            .take(SHOWN_ENIS)
            .map(|s| format!("{} ({})", code(&s.eni), escape(&s.suppression.reason)))
            .collect();
        let _ = writeln!(
            out,
            "- **Suppressed ENIs ({}):** {}",
            f.suppressed_enis.len(),
            shown.join(", ")
        );
    }
    let witnesses: Vec<&crate::audit::Witness> = if x.witnesses.is_empty() {
        x.witness.iter().collect()
    } else {
        x.witnesses.iter().collect()
    };
    for (i, w) in witnesses.iter().enumerate() {
        let port = w.port.map(|p| format!("/{p}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "- **{}:** {} → {} {}",
            if i == 0 { "Witness" } else { "Also" },
            code(&w.src),
            code(&w.dst),
            code(&format!("{}{port}", w.protocol))
        );
    }
    if !x.because.is_empty() {
        let _ = writeln!(out, "- **Because:**");
        for b in &x.because {
            let _ = writeln!(out, "  - {}", escape(b));
        }
    }
    if let Some(i) = &x.introduced_by {
        let _ = writeln!(
            out,
            "- **Introduced by:** {}",
            escape(&super::human::introduced_text(i))
        );
    }
    if let Some(e) = &f.expired_suppression {
        let _ = writeln!(
            out,
            "- **Suppression expired** on {} ({}): {}",
            e.expires,
            code(&e.at),
            escape(&e.reason)
        );
    }
    let _ = writeln!(out, "- **Finding id:** {}\n", code(&x.id));
}

/// The report as Markdown.
pub fn report(r: &Report) -> String {
    let mut out = String::new();
    let s = &r.summary;
    let _ = writeln!(out, "# vpcreach audit\n");
    let verdict = if s.failing == 0 {
        format!(
            "✅ **Pass**: no finding at or above `{}`",
            s.fail_on.as_str()
        )
    } else {
        format!(
            "❌ **Fail**: {} finding(s) at or above `{}`{}",
            s.failing,
            s.fail_on.as_str(),
            if s.baseline.is_some() {
                ", new since the baseline"
            } else {
                ""
            }
        )
    };
    let _ = writeln!(out, "{verdict}\n");
    let _ = writeln!(out, "| severity | open |");
    let _ = writeln!(out, "|---|---:|");
    for k in ["critical", "high", "medium", "low"] {
        let _ = writeln!(
            out,
            "| {k} | {} |",
            s.by_severity.get(k).copied().unwrap_or(0)
        );
    }
    let _ = writeln!(out, "| **total** | **{}** |\n", s.open);
    let mut facts = vec![
        format!("{} suppressed", s.suppressed),
        format!("{} statement(s)", s.statements),
        format!("{} ENI(s)", s.interfaces),
    ];
    if let Some(b) = &s.baseline {
        facts.insert(
            0,
            format!(
                "{} new, {} unchanged, {} resolved",
                b.new, b.unchanged, b.resolved
            ),
        );
    }
    if !s.by_status.is_empty() {
        let st: Vec<String> = s
            .by_status
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect();
        facts.insert(0, st.join(", "));
    }
    let _ = writeln!(out, "{}\n", facts.join(" · "));

    for sev in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        let group: Vec<&ReportedFinding> = r
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none() && f.finding.severity == sev)
            .collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "## {} ({})\n", heading(sev), group.len());
        for f in group {
            finding(&mut out, f);
        }
    }

    let hidden: Vec<&ReportedFinding> = r
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .collect();
    if !hidden.is_empty() {
        let _ = writeln!(out, "## Suppressed ({})\n", hidden.len());
        let _ = writeln!(out, "| severity | check | resources | until | reason |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for f in hidden {
            if let Some(sup) = &f.suppressed {
                let res: Vec<String> = f.finding.resources.iter().map(|r| code(r)).collect();
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    f.finding.severity.as_str(),
                    code(&f.finding.check),
                    res.join(", "),
                    sup.expires,
                    escape(&sup.reason)
                );
            }
        }
        let _ = writeln!(out);
    }
    if let Some(resolved) = r.resolved.as_ref().filter(|r| !r.is_empty()) {
        let _ = writeln!(out, "## Resolved since the baseline ({})\n", resolved.len());
        let _ = writeln!(out, "| severity | check | resources | message |");
        let _ = writeln!(out, "|---|---|---|---|");
        for p in resolved {
            let res: Vec<String> = p.resources.iter().map(|r| code(r)).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                p.severity.map_or("-", Severity::as_str),
                code(&p.check),
                res.join(", "),
                escape(&p.message)
            );
        }
        let _ = writeln!(out);
    }
    if !r.errors.is_empty() {
        let _ = writeln!(out, "## Incomplete: inputs that could not be read\n");
        for e in &r.errors {
            let _ = writeln!(out, "- {}", escape(e));
        }
        let _ = writeln!(out);
    }
    if !r.warnings.is_empty() {
        let _ = writeln!(out, "## Warnings\n");
        for w in &r.warnings {
            let _ = writeln!(out, "- {}", escape(w));
        }
        let _ = writeln!(out);
    }
    if !s.notes.is_empty() {
        let _ = writeln!(out, "## Notes\n");
        for n in &s.notes {
            let _ = writeln!(out, "- {}", escape(n));
        }
        let _ = writeln!(out);
    }
    if !r.rules.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Checks ({})</summary>\n",
            r.rules.len()
        );
        let _ = writeln!(out, "| check | kind | severity | description |");
        let _ = writeln!(out, "|---|---|---|---|");
        for rule in &r.rules {
            let kind = match rule.kind {
                Some(crate::policy::Kind::Deny) => "deny",
                Some(crate::policy::Kind::Require) => "require",
                Some(crate::policy::Kind::Allow) => "allow",
                None => "built in",
            };
            let _ = writeln!(
                out,
                "| {} | {kind} | {} | {} |",
                code(&rule.id),
                rule.severity.as_str(),
                escape(&rule.description)
            );
        }
        let _ = writeln!(out, "\n</details>");
    }
    out
}
