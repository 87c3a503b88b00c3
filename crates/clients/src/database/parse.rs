//! Parsing of the strings node-postgres users pass for typed parameters, accepting what
//! PostgreSQL itself accepts for the common forms: ISO 8601 with `T` or a space, offsets `Z`,
//! `+HH`, `+HHMM` or `+HH:MM`, and boolean words.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};

/// `t`, `true`, `y`, `yes`, `on`, `1` and their opposites, in any case.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "y" | "yes" | "on" | "1" => Some(true),
        "f" | "false" | "n" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// The text with a space between date and time replaced by `T`.
fn normalized(s: &str) -> String {
    let s = s.trim();
    let mut out = s.to_string();
    if s.len() > 10 && s.as_bytes()[10] == b' ' {
        out.replace_range(10..11, "T");
    }
    // `Z` is an offset of zero.
    if out.ends_with('Z') || out.ends_with('z') {
        out.pop();
        out.push_str("+00:00");
    }
    out
}

const WITH_OFFSET: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M%#z"];
const WITHOUT_OFFSET: &[&str] = &["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"];

fn with_offset(s: &str) -> Option<DateTime<chrono::FixedOffset>> {
    WITH_OFFSET
        .iter()
        .find_map(|f| DateTime::parse_from_str(s, f).ok())
}

fn without_offset(s: &str) -> Option<NaiveDateTime> {
    WITHOUT_OFFSET
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

/// A point in time; text without an offset is taken as UTC.
pub(crate) fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = normalized(s);
    with_offset(&s)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| without_offset(&s).map(|t| t.and_utc()))
}

/// A zoneless date-time; an offset, if given, is ignored as PostgreSQL ignores it for
/// `timestamp without time zone`.
pub(crate) fn parse_naive_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = normalized(s);
    without_offset(&s).or_else(|| with_offset(&s).map(|t| t.naive_local()))
}

/// A date, given alone or as the date part of a date-time.
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let t = s.trim();
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .or_else(|| parse_naive_datetime(t).map(|d| d.date()))
}

/// A time of day, `HH:MM[:SS[.f]]`.
pub(crate) fn parse_time(s: &str) -> Option<NaiveTime> {
    let t = s.trim();
    NaiveTime::parse_from_str(t, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_the_usual_forms() {
        let want = DateTime::parse_from_rfc3339("2024-01-02T03:04:05.678Z")
            .unwrap()
            .with_timezone(&Utc);
        for s in [
            "2024-01-02T03:04:05.678Z",
            "2024-01-02 03:04:05.678+00",
            "2024-01-02T05:04:05.678+02:00",
            "2024-01-02T05:04:05.678+0200",
            "2024-01-02T03:04:05.678",
        ] {
            assert_eq!(parse_timestamp(s), Some(want), "{s}");
        }
        assert_eq!(
            parse_timestamp("2024-01-02").unwrap().to_rfc3339(),
            "2024-01-02T00:00:00+00:00"
        );
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(parse_timestamp("2024-13-02"), None);
    }

    #[test]
    fn naive_dates_and_times() {
        assert_eq!(
            parse_naive_datetime("2024-01-02T05:04:05+02:00")
                .unwrap()
                .to_string(),
            "2024-01-02 05:04:05"
        );
        assert_eq!(parse_date("2024-02-29").unwrap().to_string(), "2024-02-29");
        assert_eq!(
            parse_date("2024-02-29T10:00:00Z").unwrap().to_string(),
            "2024-02-29"
        );
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_time("13:45").unwrap().to_string(), "13:45:00");
        assert_eq!(parse_bool(" Yes "), Some(true));
        assert_eq!(parse_bool("maybe"), None);
    }
}
