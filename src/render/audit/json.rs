//! The JSON report: `{"findings": [...], "resolved": [...], "summary": {...}, "warnings": [...]}`,
//! which a later run reads back as its `--baseline`.

use crate::audit::report::Report;

/// The report as pretty-printed JSON, with a final newline.
///
/// ```
/// use vpcreach::audit::report::{Report, ReportOptions, ResourceTags, Day};
/// let report = Report::build(Default::default(), &Default::default(), ReportOptions {
///     fail_on: vpcreach::policy::Severity::Low, today: Day::today(), baseline: None,
///     suppressions: None, tags: &ResourceTags::default(),
/// });
/// let json: serde_json::Value = serde_json::from_str(&vpcreach::render::audit::json::report(&report)).unwrap();
/// assert_eq!(json["findings"], serde_json::json!([]));
/// assert_eq!(json["summary"]["by_severity"]["critical"], 0);
/// ```
pub fn report(r: &Report) -> String {
    let mut s =
        serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
