//! A TOML file's text with its line starts, to turn the byte spans `toml` reports into the file,
//! line and column a person reads, and the shared checks of human-edited TOML (keys, lists of
//! strings) that policy and suppression files both need.

use super::{Location, PolicyError};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// A spanned TOML value, as `toml`'s span-keeping parser returns it.
pub type Value<'i> = Spanned<DeValue<'i>>;

/// The text of one file, for locating byte offsets and collecting mistakes.
#[derive(Debug)]
pub struct SourceText<'a> {
    path: PathBuf,
    text: &'a str,
    line_starts: Vec<usize>,
    /// The mistakes found so far.
    pub errors: Vec<PolicyError>,
    /// Whether the TOML itself was malformed (values of broken lines are then empty, and
    /// "missing key" errors would only repeat the syntax error).
    pub had_syntax_errors: bool,
}

impl<'a> SourceText<'a> {
    /// Wraps a file's text.
    pub fn new(path: &Path, text: &'a str) -> SourceText<'a> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceText {
            path: path.to_path_buf(),
            text,
            line_starts,
            errors: Vec::new(),
            had_syntax_errors: false,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn location(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        Location {
            file: self.path.clone(),
            line,
            column,
        }
    }

    /// The text of a span (empty when the span is not on character boundaries).
    pub fn slice(&self, span: &Range<usize>) -> &'a str {
        self.text.get(span.clone()).unwrap_or("")
    }

    /// Records a mistake at a span.
    pub fn error(&mut self, span: &Range<usize>, message: impl Into<String>, help: Option<String>) {
        let location = self.location(span.start);
        let first_line = self.slice(span).lines().next().unwrap_or("");
        let length = first_line.chars().count().max(1);
        self.errors.push(PolicyError {
            location,
            message: message.into(),
            help,
            length,
        });
    }

    /// Parses the TOML, recording every syntax error, and returns what could be read.
    pub fn parse(&mut self) -> Spanned<DeTable<'a>> {
        let (table, errors) = DeTable::parse_recoverable(self.text);
        self.had_syntax_errors = !errors.is_empty();
        for e in errors {
            let span = e.span().unwrap_or(0..0);
            let found = self.slice(&span).to_string();
            let (message, help) = syntax_message(e.message(), &found);
            self.error(&span, message, help);
        }
        table
    }

    /// Whether a value was lost to a syntax error (so checking it would only add noise).
    pub fn lost(&self, value: &Value<'_>) -> bool {
        self.had_syntax_errors && value.span().is_empty()
    }

    /// Reports a key that is not one of `known`, with a "did you mean".
    pub fn unknown_key(
        &mut self,
        key: &Spanned<std::borrow::Cow<'_, str>>,
        known: &[&str],
        place: &str,
    ) {
        let name = key.get_ref().as_ref();
        let help = match closest(name, known) {
            Some(k) => format!("did you mean `{k}`?"),
            None => format!("expected one of {}", list(known)),
        };
        self.error(
            &key.span(),
            format!("unknown key `{}` in {place}", crate::render::sanitize(name)),
            Some(help),
        );
    }

    /// Reads a string, or reports what was expected.
    pub fn string(&mut self, value: &Value<'_>, key: &str, expected: &str) -> Option<String> {
        if self.lost(value) {
            return None;
        }
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                self.error(
                    &value.span(),
                    format!("`{key}` expects {expected}, found {}", a_type(other)),
                    None,
                );
                None
            }
        }
    }

    /// Reads a string or a list of strings, each with its span, or reports what was expected.
    pub fn strings(
        &mut self,
        value: &Value<'_>,
        key: &str,
        expected: &str,
    ) -> Vec<(String, Range<usize>)> {
        if self.lost(value) {
            return Vec::new();
        }
        match value.get_ref() {
            DeValue::String(s) => vec![(s.to_string(), value.span())],
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push((s.to_string(), item.span())),
                        other if !self.lost(item) => self.error(
                            &item.span(),
                            format!(
                                "`{key}` expects {expected}, found {} in the list",
                                a_type(other)
                            ),
                            None,
                        ),
                        _ => {}
                    }
                }
                if items.iter().next().is_none() {
                    self.error(
                        &value.span(),
                        format!("`{key}` is empty: expected {expected}"),
                        None,
                    );
                }
                out
            }
            other => {
                self.error(
                    &value.span(),
                    format!("`{key}` expects {expected}, found {}", a_type(other)),
                    None,
                );
                Vec::new()
            }
        }
    }
}

/// Rewords `toml`'s syntax messages in the project's style and adds a hint for the common slips.
fn syntax_message(message: &str, found: &str) -> (String, Option<String>) {
    let found = crate::render::sanitize(found);
    if message.starts_with("duplicate key") {
        return (format!("duplicate key `{found}`"), None);
    }
    let message = message.trim_end_matches('.').to_string();
    let message = if message.starts_with("invalid TOML") {
        message
    } else {
        format!("invalid TOML: {message}")
    };
    let bare = !found.is_empty()
        && !found.starts_with(['"', '\'', '[', '{'])
        && found.chars().any(|c| c.is_ascii_alphabetic())
        && found != "true"
        && found != "false";
    let help = (message.contains("string values must be quoted")
        || message.contains("invalid boolean")
        || message.contains("invalid float")
        || message.contains("invalid integer"))
        && bare;
    (
        message,
        help.then(|| format!("text is written in quotes: `\"{found}\"`")),
    )
}

/// "a string", "an integer", … for messages.
pub fn a_type(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date",
        DeValue::Array(_) => "a list",
        DeValue::Table(_) => "a table",
    }
}

/// "`a`, `b` or `c`".
pub fn list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => format!("`{one}`"),
        [rest @ .., last] => {
            let head: Vec<String> = rest.iter().map(|i| format!("`{i}`")).collect();
            format!("{} or `{last}`", head.join(", "))
        }
    }
}

/// A "did you mean" for a value that should be one of `known`.
pub fn did_you_mean(input: &str, known: &[&str]) -> Option<String> {
    closest(&input.to_ascii_lowercase(), known).map(|k| format!("did you mean `{k}`?"))
}

/// The known name closest to a short name typed by hand: one within a few edits (a swapped
/// pair counts as one, so `wbe` finds `web`), else the project's general suggestion.
pub fn closest<'k>(input: &str, known: &[&'k str]) -> Option<&'k str> {
    let budget = (input.chars().count() / 3).max(1);
    let near = known
        .iter()
        .map(|k| (strsim::osa_distance(input, k), *k))
        .filter(|(d, _)| *d <= budget)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k);
    near.or_else(|| {
        let best = crate::suggest::closest(input, known.iter().copied())?;
        known.iter().copied().find(|k| *k == best)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nbé = 2\n";
        let src = SourceText::new(Path::new("p.toml"), text);
        assert_eq!((src.location(0).line, src.location(0).column), (1, 1));
        let b = text.find("= 2").unwrap_or_default();
        // `é` is two bytes but one column.
        assert_eq!((src.location(b).line, src.location(b).column), (2, 4));
        assert_eq!(src.location(text.len()).line, 3);
    }

    #[test]
    fn lists_read_as_prose() {
        assert_eq!(list(&["a", "b", "c"]), "`a`, `b` or `c`");
        assert_eq!(list(&["a"]), "`a`");
    }
}
