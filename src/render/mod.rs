//! Renderers: one per output format over one result type. Analyses never print; the binary picks
//! a renderer and writes what it returns.

pub mod audit;
pub mod changes;
pub mod coverage;
pub mod diff;
pub mod dot;
pub mod explain;
pub mod human;
pub mod ip;
pub mod load_balancer;

/// True for characters that must not reach a reader as they are: control characters (escape
/// sequences, BEL, CR, LF), bidirectional overrides and isolates (U+202E can show a name
/// backwards), line and paragraph separators (U+2028 starts a new line in some terminals and
/// editors), and invisible format characters (zero-width spaces, byte-order marks).
///
/// Every output kind's sanitizer replaces them: [`sanitize`] and [`sanitize_line`] for a
/// terminal, [`audit::markdown::escape`] for Markdown, and the Graphviz escape of [`dot`].
///
/// ```
/// assert!(vpcreach::render::is_unsafe_char('\u{202e}'));
/// assert!(!vpcreach::render::is_unsafe_char('é'));
/// ```
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// Makes untrusted text (tags, names, descriptions from AWS) safe to print on a terminal: control
/// characters (escape sequences included), bidirectional overrides and line separators become
/// `?` ([`is_unsafe_char`]), and very long text is cut.
///
/// ```
/// assert_eq!(vpcreach::render::sanitize("web\u{1b}[31m-1"), "web?[31m-1");
/// assert_eq!(vpcreach::render::sanitize("a\u{202e}b\u{2028}c"), "a?b?c");
/// ```
pub fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if is_unsafe_char(c) { '?' } else { c })
        .take(120)
        .collect();
    if s.chars().count() > 120 {
        out.push('…');
    }
    out
}

/// As [`sanitize`], for a whole message that quotes outside text (a file name, a key from a
/// snapshot) on one line of a terminal: nothing is cut, but a message longer than 4,000
/// characters is cut in the middle, so that one line cannot flood the terminal.
///
/// ```
/// assert_eq!(
///     vpcreach::render::sanitize_line("x.log\r\nerror: forged"),
///     "x.log??error: forged"
/// );
/// ```
pub fn sanitize_line(s: &str) -> String {
    const MAX: usize = 4000;
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| if is_unsafe_char(c) { '?' } else { c })
            .collect()
    };
    let count = s.chars().count();
    if count <= MAX {
        return clean(s);
    }
    let head: String = s.chars().take(MAX / 2).collect();
    let tail: String = s.chars().skip(count - MAX / 2).collect();
    format!(
        "{} … ({} characters left out) … {}",
        clean(&head),
        count - MAX,
        clean(&tail)
    )
}
