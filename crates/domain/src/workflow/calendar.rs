//! Business days: weekends and a firm's holidays, for due dates and "the 5th business day".

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// Saturdays, Sundays and the listed holidays are not business days.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BusinessCalendar {
    holidays: BTreeSet<NaiveDate>,
}

impl BusinessCalendar {
    pub fn new(holidays: impl IntoIterator<Item = NaiveDate>) -> Self {
        BusinessCalendar { holidays: holidays.into_iter().collect() }
    }

    /// The US federal holidays of `years`, each on the day it is observed (a Saturday holiday
    /// on the Friday before, a Sunday one on the Monday after) — the firm calendar's default.
    pub fn us_federal(years: impl IntoIterator<Item = i32>) -> Self {
        Self::new(years.into_iter().flat_map(us_federal_holidays))
    }

    /// This calendar with `days` closed as well (a firm's own holidays on top of the federal ones).
    pub fn with_holidays(mut self, days: impl IntoIterator<Item = NaiveDate>) -> Self {
        self.holidays.extend(days);
        self
    }

    pub fn is_business_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&day)
    }

    /// `day` itself if it is a business day, else the next one.
    pub fn on_or_after(&self, mut day: NaiveDate) -> NaiveDate {
        while !self.is_business_day(day) {
            day = day + Days::new(1);
        }
        day
    }

    /// `day` itself if it is a business day, else the one before.
    pub fn on_or_before(&self, mut day: NaiveDate) -> NaiveDate {
        while !self.is_business_day(day) {
            day = day - Days::new(1);
        }
        day
    }

    /// `n` business days after `day` (`day` need not be one).
    pub fn add(&self, mut day: NaiveDate, n: u32) -> NaiveDate {
        for _ in 0..n {
            day = self.on_or_after(day + Days::new(1));
        }
        day
    }

    /// `n` business days before `day`; with `n = 0`, the last business day on or before it.
    pub fn subtract(&self, day: NaiveDate, n: u32) -> NaiveDate {
        let mut day = self.on_or_before(day);
        for _ in 0..n {
            day = self.on_or_before(day - Days::new(1));
        }
        day
    }

    /// The `n`th (1-based) business day of a month, if the month has that many.
    pub fn nth_of_month(&self, year: i32, month: u32, n: u32) -> Option<NaiveDate> {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let day = self.add(first - Days::new(1), n.max(1));
        (day.month() == month && n >= 1).then_some(day)
    }
}

fn us_federal_holidays(year: i32) -> Vec<NaiveDate> {
    let fixed = |m, d| NaiveDate::from_ymd_opt(year, m, d).map(observed);
    let nth = |m, wd, n| NaiveDate::from_weekday_of_month_opt(year, m, wd, n);
    let last_monday_of_may = (1..=5).rev().find_map(|n| nth(5, Weekday::Mon, n));
    [
        fixed(1, 1),
        nth(1, Weekday::Mon, 3),
        nth(2, Weekday::Mon, 3),
        last_monday_of_may,
        fixed(6, 19),
        fixed(7, 4),
        nth(9, Weekday::Mon, 1),
        nth(10, Weekday::Mon, 2),
        fixed(11, 11),
        nth(11, Weekday::Thu, 4),
        fixed(12, 25),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn observed(day: NaiveDate) -> NaiveDate {
    match day.weekday() {
        Weekday::Sat => day - Days::new(1),
        Weekday::Sun => day + Days::new(1),
        _ => day,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weekends_and_holidays_are_skipped_both_ways() {
        let cal = BusinessCalendar::us_federal([2026]);
        // Fri 2026-07-03 is Independence Day observed (the 4th is a Saturday).
        assert!(!cal.is_business_day(d(2026, 7, 3)));
        assert_eq!(cal.add(d(2026, 7, 2), 1), d(2026, 7, 6));
        assert_eq!(cal.subtract(d(2026, 7, 6), 1), d(2026, 7, 2));
        // A due date on a Sunday moves back to the Friday.
        assert_eq!(cal.subtract(d(2026, 12, 6), 0), d(2026, 12, 4));
        // Thanksgiving 2026 is Thu 11-26.
        assert_eq!(cal.add(d(2026, 11, 25), 1), d(2026, 11, 27));
    }

    #[test]
    fn the_fifth_business_day_of_a_month() {
        let cal = BusinessCalendar::us_federal([2026, 2027]);
        // January 2027: Fri 1 is New Year's Day; 4,5,6,7,8 are the first five.
        assert_eq!(cal.nth_of_month(2027, 1, 5), Some(d(2027, 1, 8)));
        // September 2026: Mon 7 is Labor Day.
        assert_eq!(cal.nth_of_month(2026, 9, 5), Some(d(2026, 9, 8)));
        assert_eq!(cal.nth_of_month(2026, 2, 25), None);
    }

    #[test]
    fn us_holidays_of_a_year() {
        let h = us_federal_holidays(2027);
        assert!(h.contains(&d(2027, 5, 31)), "Memorial Day");
        assert!(h.contains(&d(2027, 12, 24)), "Christmas (Sat) observed on Friday");
        assert!(h.contains(&d(2027, 6, 18)), "Juneteenth (Sat) observed on Friday");
        assert_eq!(h.len(), 11);
    }
}
