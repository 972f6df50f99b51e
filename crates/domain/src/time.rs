//! Time entries: what a member may log, how a stopped timer counts, what an entry is worth and
//! which week a day belongs to. Days and weeks are UTC days, Monday first (a firm's own time
//! zone is not recorded yet).

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::validate::Problems;

/// The longest entry: a day. A manual entry is 1 minute to this; a timer left running longer
/// counts this much (someone forgot to stop it; they can correct the entry).
pub const MAX_MINUTES: i64 = 24 * 60;
/// The highest hourly rate (the column is `numeric(12, 2)`).
pub const MAX_RATE: i64 = 1_000_000;
/// The longest note.
pub const MAX_NOTE: usize = 2_000;

/// Checks a manual entry (or an edit of one): `minutes` 1 to 24 h, a start not in the future.
pub fn check_manual(p: &mut Problems, started_at: DateTime<Utc>, minutes: i64, now: DateTime<Utc>) {
    if !(1..=MAX_MINUTES).contains(&minutes) {
        p.add("minutes", format!("must be 1 to {MAX_MINUTES} minutes (24 hours)"));
    }
    if started_at > now {
        p.add("started_at", "must not be in the future");
    } else if started_at.year() < 1900 {
        p.add("started_at", "must be in or after 1900");
    }
}

/// Checks an hourly rate: 0 to 1,000,000 with at most 2 decimals.
pub fn check_rate(p: &mut Problems, rate: Option<Decimal>) {
    if let Some(r) = rate
        && (r < Decimal::ZERO || r > Decimal::from(MAX_RATE) || r.scale() > 2)
    {
        p.add("hourly_rate", format!("must be an amount from 0 to {MAX_RATE} with at most 2 decimals"));
    }
}

/// The minutes a timer started at `started` and stopped at `stopped` counts: the elapsed time
/// rounded to the nearest minute, at least 1 (it was started and stopped: work was done), at
/// most 24 h.
pub fn timer_minutes(started: DateTime<Utc>, stopped: DateTime<Utc>) -> i64 {
    let seconds = (stopped - started).num_seconds().max(0);
    ((seconds + 30) / 60).clamp(1, MAX_MINUTES)
}

/// Minutes as hours, to the hundredth.
pub fn hours(minutes: i64) -> Decimal {
    (Decimal::from(minutes) / Decimal::from(60))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// What `minutes` at `rate` an hour is worth, to the cent (computed from the minutes, so 20
/// minutes at 90.00 is exactly 30.00, not 0.33 h × 90).
pub fn amount(minutes: i64, rate: Decimal) -> Decimal {
    (Decimal::from(minutes) * rate / Decimal::from(60))
        .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// A Monday-to-Sunday week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week {
    pub monday: NaiveDate,
}

impl Week {
    /// The week `day` falls in.
    pub fn of(day: NaiveDate) -> Week {
        Week { monday: day - Duration::days(i64::from(day.weekday().num_days_from_monday())) }
    }

    pub fn days(self) -> impl Iterator<Item = NaiveDate> {
        (0..7).map(move |i| self.monday + Duration::days(i))
    }

    pub fn sunday(self) -> NaiveDate {
        self.monday + Duration::days(6)
    }

    pub fn previous(self) -> Week {
        Week { monday: self.monday - Duration::days(7) }
    }

    pub fn next(self) -> Week {
        Week { monday: self.monday + Duration::days(7) }
    }

    /// The instants the week covers: from its Monday's midnight (UTC) to the next Monday's.
    pub fn bounds(self) -> (DateTime<Utc>, DateTime<Utc>) {
        let start = self.monday.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc();
        (start, start + Duration::days(7))
    }

    /// The day of the week (0 = Monday) an instant falls on, if it falls in the week.
    pub fn day_index(self, at: DateTime<Utc>) -> Option<usize> {
        let d = (at.date_naive() - self.monday).num_days();
        (0..7).contains(&d).then_some(d as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 7, h, m, s).unwrap()
    }

    fn problems(started: DateTime<Utc>, minutes: i64, now: DateTime<Utc>) -> Vec<String> {
        let mut p = Problems::default();
        check_manual(&mut p, started, minutes, now);
        p.0.into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn a_manual_entry_is_one_minute_to_a_day_and_not_in_the_future() {
        let now = at(12, 0, 0);
        assert!(problems(at(9, 0, 0), 1, now).is_empty());
        assert!(problems(at(9, 0, 0), 1440, now).is_empty());
        assert!(problems(now, 60, now).is_empty(), "a start of now is allowed");
        assert_eq!(problems(at(9, 0, 0), 0, now), ["minutes"]);
        assert_eq!(problems(at(9, 0, 0), -5, now), ["minutes"]);
        assert_eq!(problems(at(9, 0, 0), 1441, now), ["minutes"]);
        assert_eq!(problems(at(12, 0, 1), 30, now), ["started_at"]);
        assert_eq!(problems(at(13, 0, 0), 0, now), ["minutes", "started_at"], "every problem at once");
        assert_eq!(problems(Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(), 30, now), ["started_at"]);
    }

    #[test]
    fn rates_are_non_negative_with_two_decimals() {
        let check = |r: &str| {
            let mut p = Problems::default();
            check_rate(&mut p, Some(r.parse().unwrap()));
            p.0.is_empty()
        };
        assert!(check("0") && check("150.00") && check("99.5") && check("1000000"));
        assert!(!check("-0.01") && !check("150.001") && !check("1000000.01"));
        let mut p = Problems::default();
        check_rate(&mut p, None);
        assert!(p.0.is_empty(), "no rate is no problem");
    }

    #[test]
    fn a_timer_counts_rounded_minutes_at_least_one_at_most_a_day() {
        assert_eq!(timer_minutes(at(9, 0, 0), at(9, 0, 10)), 1);
        assert_eq!(timer_minutes(at(9, 0, 0), at(9, 0, 29)), 1);
        assert_eq!(timer_minutes(at(9, 0, 0), at(9, 1, 29)), 1);
        assert_eq!(timer_minutes(at(9, 0, 0), at(9, 1, 30)), 2);
        assert_eq!(timer_minutes(at(9, 0, 0), at(10, 15, 0)), 75);
        assert_eq!(timer_minutes(at(9, 0, 0), at(8, 0, 0)), 1, "a clock step backwards is still a minute");
        assert_eq!(timer_minutes(at(0, 0, 0), at(0, 0, 0) + Duration::days(3)), MAX_MINUTES);
    }

    #[test]
    fn amounts_come_from_minutes_to_the_cent() {
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(amount(20, d("90.00")), d("30.00"));
        assert_eq!(amount(60, d("150")), d("150"));
        assert_eq!(amount(1, d("100")), d("1.67"));
        assert_eq!(amount(7, d("0")), d("0"));
        assert_eq!(hours(90), d("1.5"));
        assert_eq!(hours(20), d("0.33"));
        assert_eq!(hours(1), d("0.02"));
    }

    #[test]
    fn weeks_run_monday_to_sunday() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let w = Week::of(d("2026-12-10"));
        assert_eq!(w.monday, d("2026-12-07"));
        assert_eq!(Week::of(d("2026-12-07")), w);
        assert_eq!(Week::of(d("2026-12-13")), w);
        assert_eq!(w.sunday(), d("2026-12-13"));
        assert_eq!(w.next().monday, d("2026-12-14"));
        assert_eq!(w.previous().monday, d("2026-11-30"));
        assert_eq!(w.days().count(), 7);
        let (from, to) = w.bounds();
        assert_eq!(w.day_index(from), Some(0));
        assert_eq!(w.day_index(to - Duration::seconds(1)), Some(6));
        assert_eq!(w.day_index(to), None);
        assert_eq!(w.day_index(from - Duration::seconds(1)), None);
        // A week across a year's end.
        assert_eq!(Week::of(d("2027-01-01")).monday, d("2026-12-28"));
    }
}
