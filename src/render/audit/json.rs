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

/// [`report`] written to `w` as it is made: an organization's report runs to hundreds of MB,
/// which need not be held in memory beside the findings. The same bytes as [`report`].
///
/// ```
/// use vpcreach::audit::report::{Report, ReportOptions, ResourceTags, Day};
/// let report = Report::build(Default::default(), &Default::default(), ReportOptions {
///     fail_on: vpcreach::policy::Severity::Low, today: Day::today(), baseline: None,
///     suppressions: None, tags: &ResourceTags::default(),
/// });
/// let mut out = Vec::new();
/// vpcreach::render::audit::json::write(&report, &mut out).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(), vpcreach::render::audit::json::report(&report));
/// ```
pub fn write(r: &Report, mut w: impl std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut w, r).map_err(std::io::Error::from)?;
    w.write_all(b"\n")?;
    w.flush()
}
