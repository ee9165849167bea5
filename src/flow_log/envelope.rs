//! A CloudWatch Logs subscription envelope too long to hold whole
//! (`{"messageType": "DATA_MESSAGE", …, "logEvents": [event, …]}` past the line bound): read
//! event by event. The reader keeps the envelope's head (its keys up to `logEvents`), cuts its
//! log events into pieces between events, and reads its keys after the events at the end.
//!
//! What the head says holds for every event: a data message's events are records, a control
//! message's are not. A head without `messageType` cannot say (the key may come after the
//! events), so such an envelope is one malformed item rather than a guess. Read this way, an
//! envelope gives the same records, numbered the same, as read whole; what differs is only what
//! reading whole cannot do at all: a broken or too long log event is one malformed event (read
//! whole, the envelope would be one malformed item), and a key repeated after the events is one
//! malformed item after them.

use super::line::{is_json_space, json_error, string_end, Duplicates, Item, JsonValues, Problem};

/// What an envelope's keys before `logEvents` say about its log events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A data message: each log event is a record.
    Records,
    /// A control message, or a key given twice: no log event is a record (the envelope reads,
    /// at its end, as it would whole).
    NoRecords,
    /// `messageType` is not before `logEvents`: the envelope is one malformed item.
    Late,
}

/// An envelope's head: its bytes up to the `[` of `logEvents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    /// Its length, the `[` included.
    pub(crate) len: usize,
    /// What it says of the events.
    pub(crate) verdict: Verdict,
}

/// The head of the envelope `b` starts with (at its `{`), if `b` holds it whole and it is
/// valid JSON up to the `[` of `logEvents`.
pub(crate) fn head(b: &[u8]) -> Option<Head> {
    if b.first() != Some(&b'{') {
        return None;
    }
    let mut keys = std::collections::HashSet::new();
    let mut repeated = false;
    let mut control = None;
    let mut i = skip_space(b, 1);
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let end = string_end(b, i + 1)?;
        let key: String = serde_json::from_slice(&b[i..end]).ok()?;
        i = skip_space(b, end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_space(b, i + 1);
        if key == "logEvents" {
            if b.get(i) != Some(&b'[') {
                return None;
            }
            let verdict = match control {
                _ if repeated => Verdict::NoRecords,
                None => Verdict::Late,
                Some(true) => Verdict::NoRecords,
                Some(false) => Verdict::Records,
            };
            return Some(Head {
                len: i + 1,
                verdict,
            });
        }
        let (end, closed) = value_end(b, i);
        if !closed || end >= b.len() {
            return None;
        }
        let value: serde_json::Value = serde_json::from_slice(&b[i..end]).ok()?;
        if key == "messageType" {
            // As reading whole does: only the string `CONTROL_MESSAGE` is a control message.
            control = Some(value.as_str() == Some("CONTROL_MESSAGE"));
        }
        repeated |= !keys.insert(key);
        i = skip_space(b, end);
        if b.get(i) != Some(&b',') {
            return None;
        }
        i = skip_space(b, i + 1);
    }
}

/// How far [`scan_events`] got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Whole log events found.
    pub(crate) events: usize,
    /// Where the last of them ends (0 when none).
    pub(crate) cut: usize,
    /// What comes after them.
    pub(crate) end: End,
}

/// What ends a [`scan_events`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The bytes end inside a log event or between two: more are needed.
    More,
    /// The `]` that closes the log events is at this index.
    Closed(usize),
    /// The bytes at this index are neither a log event nor the `,` or `]` after one.
    Broken(usize),
}

/// What comes next among the log events of an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// A log event or the `]` (just after the `[`).
    First,
    /// The `,` or `]` after a log event.
    Separator,
    /// A log event (after a `,`).
    Event,
}

/// Finds the whole log events at the start of `b`, bytes of a `logEvents` array (after its
/// `[`) where `expect` comes next, stopping after the first that ends at or past `enough`
/// bytes. An event is any JSON value, found by its structure alone (reading it tells whether
/// it is a record).
pub(crate) fn scan_events(b: &[u8], mut expect: Expect, enough: usize) -> Scan {
    let mut scan = Scan {
        events: 0,
        cut: 0,
        end: End::More,
    };
    let mut i = 0;
    loop {
        i = skip_space(b, i);
        let Some(&c) = b.get(i) else {
            return scan;
        };
        match (expect, c) {
            (Expect::Separator, b',') => {
                expect = Expect::Event;
                i += 1;
                continue;
            }
            (Expect::Separator | Expect::First, b']') => scan.end = End::Closed(i),
            // `[…,]`, `[,…]`, `[… …]`.
            (Expect::Separator, _) | (_, b']' | b',') => scan.end = End::Broken(i),
            _ => {
                let (end, closed) = value_end(b, i);
                if !closed || end >= b.len() {
                    // Open, or a number or word the next bytes may go on with.
                    return scan;
                }
                scan.events += 1;
                scan.cut = end;
                if end >= enough {
                    return scan;
                }
                i = end;
                expect = Expect::Separator;
                continue;
            }
        }
        return scan;
    }
}

/// How many bytes at the start of `b` are white space (and the one `,` that may come next),
/// with `expect` moved past them: the reader drops them, so that a long run of white space
/// between log events is not taken for a long event.
pub(crate) fn pass_space(b: &[u8], expect: &mut Expect) -> usize {
    let mut i = skip_space(b, 0);
    if *expect == Expect::Separator && b.get(i) == Some(&b',') {
        *expect = Expect::Event;
        i = skip_space(b, i + 1);
    }
    i
}

/// The items of `raw`, whole log events of an envelope cut by [`scan_events`] (with the `,`
/// between them), `offset` bytes into their line: each a record's text, or what is wrong with
/// it, as reading the envelope whole gives for its events.
pub(crate) fn event_items(raw: &[u8], offset: usize) -> Vec<Item> {
    let mut items = Vec::new();
    let mut i = 0;
    loop {
        while raw.get(i).is_some_and(|&c| is_json_space(c) || c == b',') {
            i += 1;
        }
        if i >= raw.len() {
            return items;
        }
        let (end, _) = value_end(raw, i);
        let item = match std::str::from_utf8(&raw[i..end]) {
            Err(_) => Item::Bad(Problem::NotUtf8),
            Ok(text) => match serde_json::from_str::<serde_json::Value>(text) {
                Err(e) => Item::Bad(json_error(&e, offset + i)),
                Ok(serde_json::Value::Object(mut event)) => {
                    match (Duplicates::of(text).top, event.remove("message")) {
                        (Some(key), _) => Item::Bad(Problem::DuplicateKey(key)),
                        (None, Some(serde_json::Value::String(m))) => Item::Message(m),
                        (None, _) => Item::Bad(Problem::JsonShape),
                    }
                }
                Ok(_) => Item::Bad(Problem::JsonShape),
            },
        };
        items.push(item);
        i = end.max(i + 1);
    }
}

/// Where the JSON value starting at `start` ends, and whether it is closed: as the values of a
/// line are found ([`JsonValues`]), except that a number or word also ends before `,`, `]` and
/// `}` (it is inside an array or object here).
fn value_end(b: &[u8], start: usize) -> (usize, bool) {
    match b.get(start) {
        Some(b'{' | b'[' | b'"') => JsonValues::new(b).value_end(start),
        _ => {
            let len = b[start..]
                .iter()
                .position(|&c| {
                    is_json_space(c) || matches!(c, b'{' | b'[' | b'"' | b',' | b']' | b'}')
                })
                .unwrap_or(b.len() - start);
            (start + len.max(1), true)
        }
    }
}

fn skip_space(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|&c| is_json_space(c)) {
        i += 1;
    }
    i
}

/// Follows one JSON value (or the rest of an object) through bytes read a buffer at a time,
/// keeping nothing of them but its depth: to pass by a log event too long to keep, or find the
/// end of an envelope after its events.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Skip {
    depth: usize,
    in_string: bool,
    escaped: bool,
    started: bool,
}

impl Skip {
    /// The rest of an object whose `{` was passed: it ends at its closing bracket.
    pub(crate) fn inside_object() -> Skip {
        Skip {
            depth: 1,
            started: true,
            ..Skip::default()
        }
    }

    /// Follows the value through `b`, the bytes after those fed before; returns where in `b`
    /// it ends, if it does. White space and `,` before the value are passed by. Brackets are
    /// counted, not matched: a closing bracket at the outer level ends the value (as a broken
    /// value does when found whole).
    pub(crate) fn feed(&mut self, b: &[u8]) -> Option<usize> {
        for (k, &c) in b.iter().enumerate() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if c == b'\\' {
                    self.escaped = true;
                } else if c == b'"' {
                    self.in_string = false;
                    if self.depth == 0 {
                        return Some(k + 1);
                    }
                }
                continue;
            }
            match c {
                b'"' => {
                    self.in_string = true;
                    self.started = true;
                }
                b'{' | b'[' => {
                    self.depth += 1;
                    self.started = true;
                }
                b'}' | b']' if self.depth <= 1 => return Some(k + 1),
                b'}' | b']' => self.depth -= 1,
                b',' if !self.started => {}
                c if is_json_space(c) && !self.started => {}
                // The end of a number or word.
                b',' if self.depth == 0 => return Some(k),
                c if is_json_space(c) && self.depth == 0 => return Some(k),
                _ => self.started = true,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_say_what_the_events_are() {
        fn head_of(s: &str) -> Option<(Verdict, &str)> {
            head(s.as_bytes()).map(|h| (h.verdict, &s[..h.len]))
        }
        let data = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","subscriptionFilters":["a"],"logEvents": [{"id"#;
        assert_eq!(
            head_of(data),
            Some((Verdict::Records, &data[..data.rfind('[').unwrap() + 1]))
        );
        let control = r#"{ "messageType" : "CONTROL_MESSAGE" , "logEvents":[{"#;
        assert_eq!(head_of(control).unwrap().0, Verdict::NoRecords);
        let twice = r#"{"messageType":"DATA_MESSAGE","owner":"1","owner":"2","logEvents":["#;
        assert_eq!(head_of(twice).unwrap().0, Verdict::NoRecords);
        let late = r#"{"owner":"1","logEvents":[{"#;
        assert_eq!(head_of(late).unwrap().0, Verdict::Late);
        // Not a head: not JSON, no array, not whole yet.
        for s in [
            r#"{"messageType":DATA,"logEvents":["#,
            r#"{"messageType":"DATA_MESSAGE","logEvents":{"#,
            r#"{"messageType":"DATA_MESSAGE","#,
            r#"{"messageType""#,
            r#"["#,
        ] {
            assert_eq!(head_of(s), None, "{s}");
        }
    }

    #[test]
    fn events_are_cut_after_whole_ones() {
        let b = br#"{"message":"a"}, {"message":"b}"} ,{"mess"#;
        let scan = scan_events(b, Expect::First, usize::MAX);
        assert_eq!((scan.events, scan.end), (2, End::More));
        assert_eq!(&b[..scan.cut], br#"{"message":"a"}, {"message":"b}"}"#);
        let rest = &b[scan.cut..];
        assert_eq!(scan_events(rest, Expect::Separator, usize::MAX).events, 0);
        let mut expect = Expect::Separator;
        assert_eq!(pass_space(rest, &mut expect), 2);
        assert_eq!(expect, Expect::Event);
        assert_eq!(
            scan_events(b" , 12 ]}", Expect::Separator, usize::MAX).end,
            End::Closed(6)
        );
        assert_eq!(
            scan_events(b" , 12", Expect::Separator, usize::MAX).end,
            End::More
        );
        assert_eq!(
            scan_events(b"]", Expect::First, usize::MAX).end,
            End::Closed(0)
        );
        assert_eq!(
            scan_events(b" ]", Expect::Event, usize::MAX).end,
            End::Broken(1)
        );
        assert_eq!(
            scan_events(b"{} {}", Expect::First, usize::MAX).end,
            End::Broken(3)
        );
        assert_eq!(
            scan_events(b"{}, ]", Expect::First, usize::MAX).end,
            End::Broken(4)
        );
        assert_eq!(
            scan_events(b", {}", Expect::First, usize::MAX).end,
            End::Broken(0)
        );
    }

    #[test]
    fn event_items_read_as_whole_envelopes_do() {
        let raw = br#", {"message":"a"},{"message":"b","message":"c"},3,{"id":1},{"message":"#;
        let items = event_items(raw, 10);
        let shown: Vec<String> = items
            .iter()
            .map(|i| match i {
                Item::Message(m) => m.clone(),
                Item::Bad(p) => p.to_string(),
                Item::Fields(_) => "fields".into(),
            })
            .collect();
        assert_eq!(shown.len(), 5, "{shown:?}");
        assert_eq!(shown[0], "a");
        assert_eq!(shown[1], "the key `message` appears twice in a JSON object");
        assert!(shown[2].starts_with("expected a JSON object"), "{shown:?}");
        assert!(shown[3].starts_with("expected a JSON object"), "{shown:?}");
        assert!(shown[4].starts_with("invalid JSON: EOF"), "{shown:?}");
    }

    #[test]
    fn skipping_follows_strings_and_brackets() {
        let mut s = Skip::default();
        assert_eq!(s.feed(br#" ,{"a":"}\"" , "#), None);
        assert_eq!(s.feed(br#""b":[1,{}]}, {"c""#), Some(11));
        let mut s = Skip::default();
        assert_eq!(s.feed(b", 1234"), None);
        assert_eq!(s.feed(b"5,"), Some(1));
        let mut s = Skip::inside_object();
        assert_eq!(s.feed(br#", "k": "}", "l": [1]} {"#), Some(21));
    }
}
