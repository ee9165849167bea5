//! Renderers: one per output format over one result type. Analyses never print; the binary picks
//! a renderer and writes what it returns.

pub mod audit;
pub mod dot;
pub mod explain;
pub mod human;
pub mod ip;

/// Makes untrusted text (tags, names, descriptions from AWS) safe to print on a terminal: control
/// characters (escape sequences included) become `?`, and very long text is cut.
///
/// ```
/// assert_eq!(vpcreach::render::sanitize("web\u{1b}[31m-1"), "web?[31m-1");
/// ```
pub fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(120)
        .collect();
    if s.chars().count() > 120 {
        out.push('…');
    }
    out
}
