//! QuickBooks datetimes: ISO 8601 with an offset (`2015-07-24T10:33:39-07:00`), sometimes with
//! milliseconds, in webhooks without the colon (`-0700`); we hold them as `DateTime<Utc>`.

use chrono::{DateTime, SecondsFormat, Utc};

/// Parses a QuickBooks datetime; `None` if it has no offset or is malformed.
pub fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The form we send in queries and CDC: RFC 3339 in UTC, with milliseconds when there are any
/// (server `time` watermarks have them, and truncating would re-read or skip a change).
pub fn format_datetime(time: DateTime<Utc>) -> String {
    let precision =
        if time.timestamp_subsec_millis() == 0 { SecondsFormat::Secs } else { SecondsFormat::Millis };
    time.to_rfc3339_opts(precision, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_offset_form_quickbooks_uses() {
        let expected =
            DateTime::parse_from_rfc3339("2015-07-24T17:33:39Z").expect("valid").with_timezone(&Utc);
        assert_eq!(parse_datetime("2015-07-24T10:33:39-07:00"), Some(expected));
        assert_eq!(parse_datetime("2015-07-24T10:33:39-0700"), Some(expected));
        assert_eq!(parse_datetime("2015-07-24T17:33:39Z"), Some(expected));
        let millis = parse_datetime("2015-12-23T12:56:06.196-08:00").expect("parses");
        assert_eq!(millis.timestamp_subsec_millis(), 196);
        assert_eq!(parse_datetime("2015-07-24T10:33:39"), None);
        assert_eq!(format_datetime(millis), "2015-12-23T20:56:06.196+00:00");
        assert_eq!(format_datetime(expected), "2015-07-24T17:33:39+00:00");
    }
}
