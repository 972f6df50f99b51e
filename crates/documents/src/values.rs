//! Value parsers: amounts, quantities, dates, times, tax ids, years and document numbers as
//! they are printed on invoices, receipts, tax forms and statements. They read plain strings
//! and know nothing of where the string came from, so layout (is this cell an amount?), the
//! extractors and manual corrections in review all parse values the same way.

use std::sync::LazyLock;

use chrono::{NaiveDate, NaiveTime};
use regex::Regex;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[expect(clippy::unwrap_used, reason = "the patterns are literals, checked by the tests")]
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap()
}

/// An amount: optional sign or parentheses, optional currency marker before or after, digits with
/// either decimal separator and optional thousands separators, optional trailing sign or `CR`.
/// The marker list is what invoices print (`$`, `€`, `RM`, `Rs`, `EUR`...); an `S` before the
/// digits is OCR's common misreading of `$`.
static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^\(?\s*(-)?\s*(?:([$€£¥₹S]|Rs\.?|RM|[A-Z]{3})\s*)?(-)?\s*(\d[\d.,' ]*\d|\d)\s*(?:([€$£¥₹]|[A-Z]{3})\s*)?(-|CR)?\s*\)?$",
    )
});
static DATE_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:\d{4}|\d{2})|\p{L}{3,}\.?\s+\d{1,2}(?:st|nd|rd|th)?\s*,?\s*\d{4}|\d{1,2}(?:st|nd|rd|th|er|\.)?\s+(?:de\s+)?\p{L}{3,}\.?,?\s+(?:de\s+)?\d{4})\b",
    )
});
static SHORT_DATE: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d{1,2})/(\d{1,2})$"));
static TIME_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]\.?m\.?)?"));
static TAX_ID_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:\b\d{2}-\d{7}\b|\b\d{3}-\d{2}-\d{4}\b|[X*]{3}-[X*]{2}-\d{4}\b|[X*]{5}\d{4}\b)"));
static DOCUMENT_NUMBER: LazyLock<Regex> =
    LazyLock::new(|| re(r"^[A-Za-z0-9][A-Za-z0-9_\-/.]*[A-Za-z0-9]$|^\d$"));
static YEAR_TOKEN: LazyLock<Regex> = LazyLock::new(|| re(r"\b(19[89]\d|20\d{2})\b"));
static LAST4: LazyLock<Regex> = LazyLock::new(|| re(r"(\d{4})\b\s*$"));

/// Currency codes invoices print, ISO 4217.
const CURRENCY_CODES: &[&str] = &[
    "USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "JPY", "CNY", "INR", "MYR", "SGD", "HKD", "SEK", "NOK",
    "DKK", "PLN", "CZK", "HUF", "MXN", "BRL", "ZAR", "AED", "RON",
];

/// The ISO 4217 code of a currency marker: a code itself, a symbol (`$` is read as USD, the
/// symbol's most common meaning; a code or the country decides otherwise), or a local
/// abbreviation (`Rs`, `RM`).
pub fn currency_of(marker: &str) -> Option<&'static str> {
    let m = marker.trim().trim_end_matches('.');
    if let Some(code) = CURRENCY_CODES.iter().find(|c| c.eq_ignore_ascii_case(m) && m.len() == 3) {
        return Some(code);
    }
    Some(match m {
        "$" | "US$" => "USD",
        "€" | "EURO" | "Euro" | "euro" => "EUR",
        "£" => "GBP",
        "¥" => "JPY",
        "₹" | "Rs" => "INR",
        "RM" => "MYR",
        _ => return None,
    })
}

/// Parses an amount as invoices print it: `1,234.56`, `1.234,56`, `529,87`, `$12.00`,
/// `RM 17.45`, `45,93 €`, `EUR 10`, `Rs 1939`, `16,500`; `(45.00)` and `-3.10` are negative, as
/// are `12.00-` and `12.00 CR`. A whole number counts only with a currency marker or thousands
/// separators (a bare `12` is a quantity, a year or a box number).
pub fn parse_money(s: &str) -> Option<Decimal> {
    let s = s.trim();
    let c = MONEY.captures(s)?;
    let markers = [c.get(2), c.get(5)];
    // A three-letter word beside the number must be a currency code, not a unit (`PCE 1,00`).
    if markers.iter().flatten().any(|m| m.as_str() != "S" && currency_of(m.as_str()).is_none()) {
        return None;
    }
    let mut value = parse_amount(c.get(4)?.as_str(), markers.iter().any(Option::is_some))?;
    let negative = c.get(1).is_some()
        || c.get(3).is_some()
        || c.get(6).is_some()
        || (s.starts_with('(') && s.ends_with(')'));
    if negative {
        value = -value;
    }
    Some(value)
}

/// The currency marker printed with an amount (`EUR` for `45,93 €`), if any.
pub fn money_currency(s: &str) -> Option<&'static str> {
    let c = MONEY.captures(s.trim())?;
    [c.get(2), c.get(5)].into_iter().flatten().find_map(|m| currency_of(m.as_str()))
}

/// The number of an amount: the last `.` or `,` is the decimal separator when the other one
/// comes before it (`1.234,56`), or when it is alone and followed by one, two or four digits
/// (`529,87`, `9,9000`) or by three after a zero (`0,025`); otherwise separators group
/// thousands (`1,234`, `1.234.567`), which must come in threes.
fn parse_amount(body: &str, whole_ok: bool) -> Option<Decimal> {
    let (int_part, frac) = match body.rfind(['.', ',']) {
        None => (body, ""),
        Some(i) => {
            let sep = if body.as_bytes()[i] == b'.' { '.' } else { ',' };
            let other = if sep == '.' { ',' } else { '.' };
            let after = &body[i + 1..];
            let decimal = if body[..i].contains(other) {
                true
            } else if body.matches(sep).count() > 1 {
                false
            } else if after.len() == 3 {
                &body[..i] == "0"
            } else {
                matches!(after.len(), 1 | 2 | 4)
            };
            if decimal { (&body[..i], after) } else { (body, "") }
        }
    };
    let groups: Vec<&str> = int_part.split(['.', ',', '\'']).collect();
    let grouped = groups.len() > 1;
    if grouped && (groups[0].is_empty() || groups[0].len() > 3 || groups[1..].iter().any(|g| g.len() != 3)) {
        return None;
    }
    if frac.is_empty() && !grouped && !whole_ok {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let digits = groups.concat();
    let number = if frac.is_empty() { digits } else { format!("{digits}.{frac}") };
    number.parse().ok()
}

/// Parses a quantity (`2`, `1.5`, `10.00`).
pub fn parse_number(s: &str) -> Option<Decimal> {
    let s = s.trim().replace(',', "");
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return None;
    }
    s.parse::<Decimal>().ok().map(|d| d.normalize())
}

/// Which of day and month a numeric date prints first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// `31/12/2017`, `05.03.2018`: Europe and most of the world.
    DayFirst,
    /// `12/31/2017`: the United States.
    MonthFirst,
}

/// A date as read: the date, and the other reading when the day and the month could be swapped
/// and nothing decided which is which (`03/07/2024` with no known order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateReading {
    pub date: NaiveDate,
    pub alternative: Option<NaiveDate>,
}

/// Month names in English, French, German, Dutch and Spanish (abbreviations are their prefixes).
const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("janvier", 1),
    ("januar", 1),
    ("jänner", 1),
    ("januari", 1),
    ("enero", 1),
    ("february", 2),
    ("février", 2),
    ("fevrier", 2),
    ("februar", 2),
    ("februari", 2),
    ("febrero", 2),
    ("march", 3),
    ("mars", 3),
    ("märz", 3),
    ("maerz", 3),
    ("maart", 3),
    ("mrt", 3),
    ("marzo", 3),
    ("april", 4),
    ("avril", 4),
    ("abril", 4),
    ("may", 5),
    ("mai", 5),
    ("mei", 5),
    ("mayo", 5),
    ("june", 6),
    ("juin", 6),
    ("juni", 6),
    ("junio", 6),
    ("july", 7),
    ("juillet", 7),
    ("juli", 7),
    ("julio", 7),
    ("august", 8),
    ("août", 8),
    ("aout", 8),
    ("augustus", 8),
    ("agosto", 8),
    ("september", 9),
    ("septembre", 9),
    ("septiembre", 9),
    ("setiembre", 9),
    ("october", 10),
    ("octobre", 10),
    ("oktober", 10),
    ("octubre", 10),
    ("november", 11),
    ("novembre", 11),
    ("noviembre", 11),
    ("december", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("dezember", 12),
    ("diciembre", 12),
];

/// The month a word names: a full name, or a prefix of three or more letters that names one
/// month only (`Sept`, `Dez`, `févr`).
fn month_of(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    if let Some((_, m)) = MONTHS.iter().find(|(name, _)| *name == w) {
        return Some(*m);
    }
    if w.chars().count() < 3 {
        return None;
    }
    let mut months = MONTHS.iter().filter(|(name, _)| name.starts_with(&w)).map(|(_, m)| *m);
    let first = months.next()?;
    months.all(|m| m == first).then_some(first)
}

static NUMERIC_DATE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(\d{1,2})([-/.])(\d{1,2})([-/.])(\d{4}|\d{2})$"));
static ISO_DATE: LazyLock<Regex> = LazyLock::new(|| re(r"^(\d{4})([-/.])(\d{1,2})([-/.])(\d{1,2})$"));

/// A two-digit year: this century up to 69, the last one from 70 (`09-06-18` is 2018).
fn full_year(digits: &str) -> Option<i32> {
    let y: i32 = digits.parse().ok()?;
    Some(match digits.len() {
        2 if y < 70 => 2000 + y,
        2 => 1900 + y,
        _ => y,
    })
}

/// Reads a full date: ISO (`2024-03-07`), numeric with `/`, `-` or `.` and a two- or four-digit
/// year, or with a month name in any order (`August 3 , 2014`, `19 april 2014`, `17. Dezember
/// 2025`, `3 de marzo de 2024`). A numeric date whose day and month could swap is read in
/// `order`; with no order it is read month first (dotted dates day first: only European
/// writers use dots) and the other reading is kept as [`DateReading::alternative`].
pub fn read_date(s: &str, order: Option<DateOrder>) -> Option<DateReading> {
    let t = s.trim().trim_end_matches([',', ';', ':']);
    let sure = |date| Some(DateReading { date, alternative: None });
    if let Some(c) = ISO_DATE.captures(t) {
        if c[2] != c[4] {
            return None;
        }
        return sure(NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[3].parse().ok()?, c[5].parse().ok()?)?);
    }
    if let Some(c) = NUMERIC_DATE.captures(t) {
        if c[2] != c[4] {
            return None;
        }
        let (a, b): (u32, u32) = (c[1].parse().ok()?, c[3].parse().ok()?);
        let year = full_year(&c[5])?;
        let day_first = NaiveDate::from_ymd_opt(year, b, a);
        let month_first = NaiveDate::from_ymd_opt(year, a, b);
        return match (day_first, month_first) {
            (Some(d), None) | (None, Some(d)) => sure(d),
            (Some(d), Some(m)) if d == m => sure(d),
            (Some(d), Some(m)) => match order {
                Some(DateOrder::DayFirst) => sure(d),
                Some(DateOrder::MonthFirst) => sure(m),
                None if &c[2] == "." => sure(d),
                None => Some(DateReading { date: m, alternative: Some(d) }),
            },
            (None, None) => None,
        };
    }
    let words: Vec<String> = t
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|w| w.trim_end_matches('.').to_string())
        .filter(|w| !w.is_empty() && !matches!(w.to_lowercase().as_str(), "de" | "of" | "the"))
        .collect();
    if words.len() != 3 {
        return None;
    }
    let month_at = words.iter().position(|w| month_of(w).is_some())?;
    let month = month_of(&words[month_at])?;
    let rest: Vec<&String> =
        words.iter().enumerate().filter(|(i, _)| *i != month_at).map(|(_, w)| w).collect();
    let day_text = rest[0].trim_end_matches(|c: char| c.is_alphabetic());
    let (day, year): (u32, i32) = (day_text.parse().ok()?, rest[1].parse().ok()?);
    (rest[1].len() == 4).then_some(())?;
    sure(NaiveDate::from_ymd_opt(year, month, day)?)
}

/// Parses a full date (see [`read_date`]; an ambiguous numeric date is read month first).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    read_date(s, None).map(|r| r.date)
}

/// Parses `MM/DD` with the year taken from `year`.
pub fn parse_short_date(s: &str, year: i32) -> Option<NaiveDate> {
    let c = SHORT_DATE.captures(s.trim())?;
    NaiveDate::from_ymd_opt(year, c[1].parse().ok()?, c[2].parse().ok()?)
}

/// The first date in `s` read in `order`, with its byte range.
pub fn find_date(s: &str, order: Option<DateOrder>) -> Option<(DateReading, std::ops::Range<usize>)> {
    DATE_TOKEN.find_iter(s).find_map(|m| read_date(m.as_str(), order).map(|d| (d, m.range())))
}

/// All dates in `s` read in `order`, in order.
pub fn find_dates(s: &str, order: Option<DateOrder>) -> Vec<(DateReading, std::ops::Range<usize>)> {
    DATE_TOKEN.find_iter(s).filter_map(|m| read_date(m.as_str(), order).map(|d| (d, m.range()))).collect()
}

/// What the numeric dates in `s` say about their order: a first number over 12 can only be a
/// day, a second one only a day too. None when they say nothing, or contradict each other.
pub fn date_order_evidence(s: &str) -> Option<DateOrder> {
    let (mut day_first, mut month_first) = (0, 0);
    for m in DATE_TOKEN.find_iter(s) {
        let Some(c) = NUMERIC_DATE.captures(m.as_str()) else { continue };
        let (a, b): (u32, u32) = (c[1].parse().unwrap_or(0), c[3].parse().unwrap_or(0));
        if a > 12 && b <= 12 {
            day_first += 1;
        } else if b > 12 && a <= 12 {
            month_first += 1;
        }
    }
    match (day_first, month_first) {
        (d, 0) if d > 0 => Some(DateOrder::DayFirst),
        (0, m) if m > 0 => Some(DateOrder::MonthFirst),
        _ => None,
    }
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

/// The first year (1980–2099) in `s`.
pub fn find_year(s: &str) -> Option<std::ops::Range<usize>> {
    YEAR_TOKEN.find(s).map(|m| m.range())
}

/// Whether `token` is a document number: one token of letters, digits and `_-/.`, with at least
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
    fn parses_either_decimal_separator_and_currency_markers() {
        let d = |s: &str| Some(s.parse::<Decimal>().unwrap());
        assert_eq!(parse_money("529,87"), d("529.87"));
        assert_eq!(parse_money("1.234,56"), d("1234.56"));
        assert_eq!(parse_money("1,234.56"), d("1234.56"));
        assert_eq!(parse_money("€ 4.904,94"), d("4904.94"));
        assert_eq!(parse_money("45,93 €"), d("45.93"));
        assert_eq!(parse_money("104,90 EUR"), d("104.90"));
        assert_eq!(parse_money("RM7.70"), d("7.70"));
        assert_eq!(parse_money("RM 17.45"), d("17.45"));
        assert_eq!(parse_money("Rs 1939"), d("1939"));
        assert_eq!(parse_money("16,500"), d("16500"), "a whole-dollar box");
        assert_eq!(parse_money("1.021,91"), d("1021.91"));
        assert_eq!(parse_money("0,025 €"), d("0.025"));
        assert_eq!(parse_money("-14,73"), d("-14.73"));
        assert_eq!(parse_money("0€"), d("0"));
        // Units, years, dates and percentages are not amounts.
        assert_eq!(parse_money("PCE 1,00"), None);
        assert_eq!(parse_money("2014"), None);
        assert_eq!(parse_money("05.03.2018"), None);
        assert_eq!(parse_money("19,00%"), None);
        assert_eq!(money_currency("45,93 €"), Some("EUR"));
        assert_eq!(money_currency("Rs 1939"), Some("INR"));
        assert_eq!(money_currency("4.11"), None);
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
        assert_eq!(find_dates("Statement Period: 01/01/2024 - 01/31/2024", None).len(), 2);
        assert_eq!(find_time("Time: 2:05 PM").map(|t| t.0), NaiveTime::from_hms_opt(14, 5, 0));
        assert_eq!(find_time("13:59:07").map(|t| t.0), NaiveTime::from_hms_opt(13, 59, 7));
    }

    #[test]
    fn reads_dates_in_any_order_and_language() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        let sure = |s: &str, order| read_date(s, order).filter(|r| r.alternative.is_none()).map(|r| r.date);
        assert_eq!(sure("August 3 , 2014", None), Some(d(2014, 8, 3)));
        assert_eq!(sure("20-10-2015", None), Some(d(2015, 10, 20)), "a day over 12 decides");
        assert_eq!(sure("31/12/2017", None), Some(d(2017, 12, 31)));
        assert_eq!(sure("05.03.2018", None), Some(d(2018, 3, 5)), "dots are day first");
        assert_eq!(sure("09-06-18", Some(DateOrder::DayFirst)), Some(d(2018, 6, 9)), "not year 18");
        assert_eq!(sure("09-06-18", Some(DateOrder::MonthFirst)), Some(d(2018, 9, 6)));
        assert_eq!(sure("19 april 2014", None), Some(d(2014, 4, 19)));
        assert_eq!(sure("29 maart 2014", None), Some(d(2014, 3, 29)));
        assert_eq!(sure("17. Dezember 2025", None), Some(d(2025, 12, 17)));
        assert_eq!(sure("1er février 2020", None), Some(d(2020, 2, 1)));
        assert_eq!(sure("3 de marzo de 2024", None), Some(d(2024, 3, 3)));
        // Nothing decides: read month first, the other reading kept.
        let r = read_date("03/07/2024", None).unwrap();
        assert_eq!((r.date, r.alternative), (d(2024, 3, 7), Some(d(2024, 7, 3))));
        assert_eq!(sure("03/07/2024", Some(DateOrder::DayFirst)), Some(d(2024, 7, 3)));
        let (found, range) = find_date("Invoice Date: August 3 , 2014 ok", None).unwrap();
        assert_eq!((found.date, range), (d(2014, 8, 3), 14..29));
        assert_eq!(date_order_evidence("Date 31/12/2017, due 01/02/2018"), Some(DateOrder::DayFirst));
        assert_eq!(date_order_evidence("12/31/2017 and 01/02/2018"), Some(DateOrder::MonthFirst));
        assert_eq!(date_order_evidence("01/02/2018"), None);
    }
}
