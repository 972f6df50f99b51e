//! Value parsers: amounts, quantities, dates, times, tax ids, years and document numbers as
//! they are printed on invoices, receipts, tax forms and statements. They read plain strings
//! and know nothing of where the string came from, so layout (is this cell an amount?), the
//! extractors and manual corrections in review all parse values the same way.

use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveTime};
use regex::Regex;
use rust_decimal::Decimal;

#[expect(clippy::unwrap_used, reason = "the patterns are literals, checked by the tests")]
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap()
}

static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^\(?\s*(-)?\s*[$S]?\s*(-)?\s*((?:\d{1,3}(?:,\d{3})+)|\d+)\.(\d{2})\s*(-|CR)?\s*\)?$")
});
static MONEY_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| re(r"\(?-?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)\.\d{2}\)?"));
static DATE_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}|\d{1,2}-\d{1,2}-\d{4}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s*\d{4}|\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,?\s+\d{4})\b",
    )
});
static SHORT_DATE: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d{1,2})/(\d{1,2})$"));
static TIME_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?"));
static TAX_ID_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:\b\d{2}-\d{7}\b|\b\d{3}-\d{2}-\d{4}\b|[X*]{3}-[X*]{2}-\d{4}\b|[X*]{5}\d{4}\b)"));
static DOCUMENT_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[A-Za-z0-9][A-Za-z0-9\-/.]*[A-Za-z0-9]$|^\d$"));
static YEAR_TOKEN: LazyLock<Regex> = LazyLock::new(|| re(r"\b(19[89]\d|20\d{2})\b"));
static LAST4: LazyLock<Regex> = LazyLock::new(|| re(r"(\d{4})\b\s*$"));

/// Parses an amount: `1,234.56`, `$12.00`, `(45.00)` and `-3.10` (negative), `12.00-`, `12.00 CR`.
pub fn parse_money(s: &str) -> Option<Decimal> {
    let s = s.trim().trim_start_matches("USD").trim();
    let c = MONEY.captures(s)?;
    let whole = c.get(3)?.as_str().replace(',', "");
    let cents = c.get(4)?.as_str();
    let mut value: Decimal = format!("{whole}.{cents}").parse().ok()?;
    let negative = c.get(1).is_some()
        || c.get(2).is_some()
        || c.get(5).is_some()
        || (s.starts_with('(') && s.ends_with(')'));
    if negative {
        value = -value;
    }
    Some(value)
}

/// Parses a quantity (`2`, `1.5`, `10.00`).
pub fn parse_number(s: &str) -> Option<Decimal> {
    let s = s.trim().replace(',', "");
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    s.parse::<Decimal>().ok().map(|d| d.normalize())
}

const DATE_FORMATS: &[&str] = &[
    "%m/%d/%Y",
    "%m/%d/%y",
    "%Y-%m-%d",
    "%m-%d-%Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%b %d, %Y",
    "%b %d %Y",
    "%d %B %Y",
    "%d %b %Y",
];

/// Parses a full date in the formats invoices and statements use.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let cleaned = s
        .trim()
        .trim_end_matches(['.', ',', ';', ':'])
        .replace('.', "")
        .replace("Sept ", "Sep ")
        .replace(',', ", ");
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    DATE_FORMATS.iter().find_map(|f| NaiveDate::parse_from_str(&cleaned, f).ok())
}

/// Parses `MM/DD` with the year taken from `year`.
pub fn parse_short_date(s: &str, year: i32) -> Option<NaiveDate> {
    let c = SHORT_DATE.captures(s.trim())?;
    NaiveDate::from_ymd_opt(year, c[1].parse().ok()?, c[2].parse().ok()?)
}

/// The first date in `s`, with its byte range.
pub fn find_date(s: &str) -> Option<(NaiveDate, std::ops::Range<usize>)> {
    DATE_TOKEN.find_iter(s).find_map(|m| parse_date(m.as_str()).map(|d| (d, m.range())))
}

/// All dates in `s`, in order.
pub fn find_dates(s: &str) -> Vec<(NaiveDate, std::ops::Range<usize>)> {
    DATE_TOKEN.find_iter(s).filter_map(|m| parse_date(m.as_str()).map(|d| (d, m.range()))).collect()
}

/// The first time of day in `s` (`14:05`, `2:05 PM`, `14:05:09`).
pub fn find_time(s: &str) -> Option<(NaiveTime, std::ops::Range<usize>)> {
    TIME_TOKEN.captures_iter(s).find_map(|c| {
        let mut hour: u32 = c[1].parse().ok()?;
        let minute: u32 = c[2].parse().ok()?;
        if let Some(ampm) = c.get(4) {
            let pm = ampm.as_str().to_ascii_lowercase().starts_with('p');
            if hour == 12 {
                hour = 0;
            }
            if pm {
                hour += 12;
            }
        }
        let second = c.get(3).and_then(|s| s.as_str().parse().ok()).unwrap_or(0);
        NaiveTime::from_hms_opt(hour, minute, second).map(|t| (t, c.get(0).map_or(0..0, |m| m.range())))
    })
}

/// The first EIN- or SSN-shaped token (masked SSNs like `XXX-XX-1234` included).
pub fn find_tax_id(s: &str) -> Option<std::ops::Range<usize>> {
    TAX_ID_TOKEN.find(s).map(|m| m.range())
}

/// The first money token in `s`.
pub fn find_money(s: &str) -> Option<(Decimal, std::ops::Range<usize>)> {
    MONEY_TOKEN.find_iter(s).find_map(|m| parse_money(m.as_str()).map(|d| (d, m.range())))
}

/// The first year (1980–2099) in `s`.
pub fn find_year(s: &str) -> Option<std::ops::Range<usize>> {
    YEAR_TOKEN.find(s).map(|m| m.range())
}

/// Whether `token` is a document number: one token of letters, digits and `-/.`, with at least
/// one digit (`INV-2024-001`, `7`).
pub fn is_document_number(token: &str) -> bool {
    DOCUMENT_NUMBER.is_match(token) && token.chars().any(|c| c.is_ascii_digit())
}

/// The last four digits at the end of `s` (`****1234`, `XXXX-XX-1234`), with their byte range.
pub fn find_last4(s: &str) -> Option<std::ops::Range<usize>> {
    LAST4.captures(s)?.get(1).map(|m| m.range())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_money_forms() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(parse_money("$1,234.56"), Some(d("1234.56")));
        assert_eq!(parse_money("(45.00)"), Some(d("-45.00")));
        assert_eq!(parse_money("-3.10"), Some(d("-3.10")));
        assert_eq!(parse_money("12.00 CR"), Some(d("-12.00")));
        assert_eq!(parse_money("$ 7.05"), Some(d("7.05")));
        assert_eq!(parse_money("1,23.45"), None);
        assert_eq!(parse_money("8.25%"), None);
        assert_eq!(parse_money("12"), None);
    }

    #[test]
    fn parses_dates_and_times() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert_eq!(parse_date("03/07/2024"), Some(d(2024, 3, 7)));
        assert_eq!(parse_date("2024-03-07"), Some(d(2024, 3, 7)));
        assert_eq!(parse_date("March 7, 2024"), Some(d(2024, 3, 7)));
        assert_eq!(parse_date("Sept. 7, 2024"), Some(d(2024, 9, 7)));
        assert_eq!(parse_date("7 Mar 2024"), Some(d(2024, 3, 7)));
        assert_eq!(parse_short_date("12/31", 2023), Some(d(2023, 12, 31)));
        assert_eq!(find_dates("Statement Period: 01/01/2024 - 01/31/2024").len(), 2);
        assert_eq!(find_time("Time: 2:05 PM").map(|t| t.0), NaiveTime::from_hms_opt(14, 5, 0));
        assert_eq!(find_time("13:59:07").map(|t| t.0), NaiveTime::from_hms_opt(13, 59, 7));
    }
}
