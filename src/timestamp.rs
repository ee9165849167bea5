//! Times of the `--since`/`--until` window: RFC 3339 dates and date-times, without a calendar
//! library.

use std::fmt;

/// A point in time given on the command line: an RFC 3339 date (`2024-05-01`, the whole day in
/// UTC) or date-time (`2024-05-01T13:00:00Z`, `2024-05-01T15:00:00+02:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeArg {
    /// The first second it names (Unix time).
    pub start: i64,
    /// The first second after it (the next day for a date, the next second for a date-time).
    pub end: i64,
}

impl std::str::FromStr for TimeArg {
    type Err = String;

    fn from_str(text: &str) -> Result<TimeArg, String> {
        parse(text.trim()).ok_or_else(|| {
            format!(
                "`{}` is not an RFC 3339 date or date-time from 1970 to 9999 (e.g. 2024-05-01 or 2024-05-01T13:00:00Z)",
                crate::render::sanitize(text)
            )
        })
    }
}

fn parse(text: &str) -> Option<TimeArg> {
    let bytes = text.as_bytes();
    if bytes.len() < 10 {
        return None;
    }
    let year: i64 = digits(text.get(0..4)?)?;
    let month: u32 = digits(text.get(5..7)?)?;
    let day: u32 = digits(text.get(8..10)?)?;
    if bytes[4] != b'-' || bytes[7] != b'-' || !valid_date(year, month, day) {
        return None;
    }
    // Flow logs and snapshots are from after 1970: an earlier time is a mistake, and would make
    // every comparison with a record's time meaningless.
    if year < 1970 {
        return None;
    }
    let midnight = days_from_civil(year, month, day) * 86_400;
    if bytes.len() == 10 {
        return Some(TimeArg {
            start: midnight,
            end: midnight + 86_400,
        });
    }
    if !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let rest = &text[11..];
    // HH:MM[:SS[.fraction]] then Z or ±HH:MM.
    let zone_at = rest.find(['Z', 'z', '+', '-'])?;
    let (clock, zone) = rest.split_at(zone_at);
    let mut parts = clock.split(':');
    let hour: i64 = digits(parts.next()?)?;
    let minute: i64 = digits(parts.next()?)?;
    let second: i64 = match parts.next() {
        Some(s) => {
            let whole = s.split('.').next()?;
            if let Some(frac) = s.split('.').nth(1) {
                if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
            }
            digits(whole)?
        }
        None => 0,
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let offset = match zone {
        "Z" | "z" => 0,
        _ => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (h, m) = zone[1..].split_once(':')?;
            let (h, m): (i64, i64) = (digits(h)?, digits(m)?);
            if h > 23 || m > 59 {
                return None;
            }
            sign * (h * 3600 + m * 60)
        }
    };
    let at = midnight + hour * 3600 + minute * 60 + second.min(59) - offset;
    Some(TimeArg {
        start: at,
        end: at + 1,
    })
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn valid_date(year: i64, month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (the inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The window `[since, until)` in Unix seconds; either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Window {
    /// The first second included.
    pub since: Option<i64>,
    /// The first second no longer included.
    pub until: Option<i64>,
}

impl Window {
    /// The window from `--since` (its start) to `--until` (its end: a date includes its day).
    pub fn new(since: Option<TimeArg>, until: Option<TimeArg>) -> Window {
        Window {
            since: since.map(|t| t.start),
            until: until.map(|t| t.end),
        }
    }

    /// True when `[start, end)` overlaps the window.
    pub fn overlaps(&self, start: i64, end: i64) -> bool {
        self.since.is_none_or(|s| end > s) && self.until.is_none_or(|u| start < u)
    }

    /// True when neither end is set.
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.since, self.until) {
            (None, None) => Ok(()),
            (Some(s), None) => write!(f, " since {}", Rfc3339(s)),
            (None, Some(u)) => write!(f, " before {}", Rfc3339(u)),
            (Some(s), Some(u)) => write!(f, " from {} to {}", Rfc3339(s), Rfc3339(u)),
        }
    }
}

/// Unix seconds printed as an RFC 3339 UTC date-time.
pub struct Rfc3339(pub i64);

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> TimeArg {
        s.parse().unwrap()
    }

    #[test]
    fn dates_and_date_times() {
        assert_eq!(
            t("1970-01-01"),
            TimeArg {
                start: 0,
                end: 86_400
            }
        );
        assert_eq!(t("2024-02-29").start, 1_709_164_800);
        assert_eq!(t("2024-05-01T13:00:00Z").start, 1_714_568_400);
        assert_eq!(t("2024-05-01T15:00:00+02:00").start, 1_714_568_400);
        assert_eq!(t("2024-05-01T08:30:00.250-04:30").start, 1_714_568_400);
        assert_eq!(t("2024-05-01t13:00Z").start, 1_714_568_400);
        for bad in [
            "2024-02-30",
            "2023-02-29",
            "2024-13-01",
            "24-05-01",
            "2024-05-01T25:00:00Z",
            "2024-05-01T13:00:00",
            "2024-05-01T13:00:00+0200",
            "yesterday",
        ] {
            assert!(bad.parse::<TimeArg>().is_err(), "{bad}");
        }
    }

    #[test]
    fn civil_round_trip() {
        for days in [-1000, -1, 0, 1, 19_000, 19_782, 60_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(Rfc3339(1_714_568_400).to_string(), "2024-05-01T13:00:00Z");
    }

    #[test]
    fn windows() {
        let w = Window::new(Some(t("2024-05-01")), Some(t("2024-05-02")));
        let day = |s: &str| t(s).start;
        assert!(w.overlaps(day("2024-05-01"), day("2024-05-02")));
        assert!(w.overlaps(day("2024-05-02"), day("2024-05-03")));
        assert!(!w.overlaps(day("2024-05-03"), day("2024-05-04")));
        assert!(!w.overlaps(day("2024-04-30"), day("2024-05-01")));
        assert!(Window::default().overlaps(0, 1));
    }
}
