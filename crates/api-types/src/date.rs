//! Calendar dates on the wire are bounded to years 1900–2199: `0000-01-01`, `-1000-…` and
//! `9999-12-31` parse as ISO dates, but none is a date a firm bills, files or meets on, and each
//! has broken reports and aging buckets downstream. Refused at the edge with the field named.

use chrono::{Datelike, NaiveDate};
use serde::de::Error;
use serde::{Deserialize, Deserializer};

pub const MIN_YEAR: i32 = 1900;
pub const MAX_YEAR: i32 = 2199;

fn bounded<E: Error>(d: NaiveDate) -> Result<NaiveDate, E> {
    if (MIN_YEAR..=MAX_YEAR).contains(&d.year()) {
        Ok(d)
    } else {
        Err(E::custom(format!("date {d} is outside the years {MIN_YEAR} to {MAX_YEAR}")))
    }
}

/// A required date.
pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    bounded(NaiveDate::deserialize(d)?)
}

/// An optional date: a date or null.
pub fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    Option::<NaiveDate>::deserialize(d)?.map(bounded).transpose()
}

/// A patched date: absent (unchanged), null (cleared) or a date.
pub fn patch<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<NaiveDate>>, D::Error> {
    optional(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "optional")]
        on: Option<NaiveDate>,
    }

    #[test]
    fn dates_outside_the_bounds_are_refused() {
        let ok: Body = serde_json::from_str(r#"{"on":"2026-12-07"}"#).unwrap();
        assert_eq!(ok.on, NaiveDate::from_ymd_opt(2026, 12, 7));
        assert_eq!(serde_json::from_str::<Body>(r#"{"on":null}"#).unwrap().on, None);
        for bad in ["0000-01-01", "-1000-01-01", "9999-12-31", "1899-12-31"] {
            let e = serde_json::from_str::<Body>(&format!(r#"{{"on":"{bad}"}}"#)).err().expect(bad);
            assert!(e.to_string().contains("outside the years"), "{bad}: {e}");
        }
    }
}
