//! Recurring runs: a cron expression evaluated in the firm's time zone. Each occurrence starts a
//! period; the run of a period is due on the schedule's nth business day counted from the
//! period's start (`0 0 1 * *` with 5: "the monthly close, due on the 5th business day").
//!
//! Everything takes `now` (or a cursor) as a parameter: no clock is read here.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use croner::Cron;

use super::calendar::BusinessCalendar;
use crate::firm::text_enum;

/// The zone firms get until they choose theirs.
pub const DEFAULT_TIME_ZONE: &str = "UTC";

/// Earlier missed periods kept for the user to start (the most recent ones); older ones are dropped.
pub const MAX_MISSED: usize = 24;

/// Missed periods are counted up to this many occurrences past the cursor.
const MAX_SCAN: usize = 10_000;

/// Shortest gap between two periods: a recurring run at most once a day (22 h so that a daily
/// schedule across a DST change passes).
const MIN_GAP_HOURS: i64 = 22;

text_enum!(
    /// What happened to one period of a schedule.
    PeriodStatus {
        /// Its run was created.
        Started = "started",
        /// The scheduler was down past it; the user can start it from the schedule.
        Missed = "missed",
    }
);

text_enum!(
    /// A bulk start: waiting for its job, creating runs, or finished.
    BulkStatus {
        Queued = "queued",
        Running = "running",
        Done = "done",
    }
);

text_enum!(
    /// One client of a bulk start.
    BulkItemStatus {
        Pending = "pending",
        Started = "started",
        Failed = "failed",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    #[error("is not an IANA time zone name (e.g. America/New_York)")]
    TimeZone,
    #[error("is not a cron expression: {0}")]
    Cron(String),
    #[error("never occurs")]
    Never,
    #[error("occurs more than once a day; a recurring run can start at most daily")]
    TooFrequent,
}

/// Parses an IANA zone name (`America/New_York`, `UTC`).
pub fn parse_time_zone(name: &str) -> Result<Tz, RecurrenceError> {
    Tz::from_str(name.trim()).map_err(|_| RecurrenceError::TimeZone)
}

/// The date it is at `now` in the firm's zone (`zone` as stored; UTC if it does not parse): what
/// "today", "overdue" and "this week" mean to the firm.
pub fn firm_today(zone: &str, now: DateTime<Utc>) -> NaiveDate {
    match parse_time_zone(zone) {
        Ok(tz) => now.with_timezone(&tz).date_naive(),
        Err(_) => now.date_naive(),
    }
}

/// A schedule's cron expression in a zone.
#[derive(Debug, Clone)]
pub struct Recurrence {
    cron: Cron,
    zone: Tz,
}

/// What a tick finds due for one schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// The latest period that started at or before `now`: the one to create.
    pub latest: Option<DateTime<Utc>>,
    /// Earlier periods since the cursor, oldest first (at most [`MAX_MISSED`], the most recent).
    pub missed: Vec<DateTime<Utc>>,
    /// The new cursor: the first period after `now`.
    pub next: DateTime<Utc>,
}

impl Recurrence {
    /// Parses and checks an expression (5 fields, or 6 with seconds first): it must occur, and at
    /// most once a day.
    pub fn parse(expression: &str, zone: Tz, now: DateTime<Utc>) -> Result<Recurrence, RecurrenceError> {
        let cron = Cron::from_str(expression.trim()).map_err(|e| RecurrenceError::Cron(e.to_string()))?;
        let r = Recurrence { cron, zone };
        let upcoming = r.upcoming(now, 12);
        if upcoming.is_empty() {
            return Err(RecurrenceError::Never);
        }
        if upcoming.windows(2).any(|w| (w[1] - w[0]).num_hours() < MIN_GAP_HOURS) {
            return Err(RecurrenceError::TooFrequent);
        }
        Ok(r)
    }

    /// Rebuilds a stored (already checked) expression; `None` if it no longer parses.
    pub fn stored(expression: &str, zone: Tz) -> Option<Recurrence> {
        Cron::from_str(expression.trim()).ok().map(|cron| Recurrence { cron, zone })
    }

    pub fn zone(&self) -> Tz {
        self.zone
    }

    /// The first occurrence strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.zone);
        self.cron.find_next_occurrence(&local, false).ok().map(|t| t.with_timezone(&Utc))
    }

    /// The next `n` occurrences strictly after `after`.
    pub fn upcoming(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::with_capacity(n);
        let mut at = after;
        while out.len() < n {
            match self.next_after(at) {
                Some(t) if t > at => {
                    out.push(t);
                    at = t;
                }
                _ => break,
            }
        }
        out
    }

    /// The periods due at `now` for a schedule whose cursor (first unhandled period) is `cursor`.
    /// Nothing is due before the cursor.
    pub fn due(&self, cursor: DateTime<Utc>, now: DateTime<Utc>) -> Due {
        let mut passed = Vec::new();
        if cursor <= now {
            passed.push(cursor);
            let mut at = cursor;
            let mut scanned = 0;
            while let Some(t) = self.next_after(at).filter(|&t| t <= now && t > at) {
                passed.push(t);
                at = t;
                scanned += 1;
                if passed.len() > MAX_MISSED + 1 {
                    passed.remove(0);
                }
                if scanned >= MAX_SCAN {
                    // Far behind: the latest period is the last occurrence at or before `now`.
                    let local = now.with_timezone(&self.zone);
                    if let Ok(t) = self.cron.find_previous_occurrence(&local, true) {
                        let t = t.with_timezone(&Utc);
                        if t > at {
                            passed.push(t);
                        }
                    }
                    break;
                }
            }
        }
        let latest = passed.pop();
        if passed.len() > MAX_MISSED {
            passed.drain(..passed.len() - MAX_MISSED);
        }
        let next = if cursor > now {
            cursor
        } else {
            self.next_after(now).unwrap_or(now + chrono::Duration::days(36_500))
        };
        Due { latest, missed: passed, next }
    }

    /// The period's start as a date in the firm's zone.
    pub fn local_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.zone).date_naive()
    }
}

/// The run's due date: the `business_day`th business day counted from `period_start` (1 = the
/// first business day on or after it).
pub fn due_date(calendar: &BusinessCalendar, period_start: NaiveDate, business_day: u8) -> NaiveDate {
    calendar.add(period_start - Days::new(1), u32::from(business_day.max(1)))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("a valid instant")
    }

    fn ny() -> Tz {
        parse_time_zone("America/New_York").expect("a zone")
    }

    #[test]
    fn the_firms_today_is_its_own_zones_date() {
        // 03:00 UTC on the 8th is still the 7th in New York and already the 8th in Tokyo.
        let now = utc(2026, 12, 8, 3, 0);
        assert_eq!(firm_today("America/New_York", now), NaiveDate::from_ymd_opt(2026, 12, 7).unwrap());
        assert_eq!(firm_today("Asia/Tokyo", now), NaiveDate::from_ymd_opt(2026, 12, 8).unwrap());
        assert_eq!(firm_today("not a zone", now), NaiveDate::from_ymd_opt(2026, 12, 8).unwrap());
    }

    #[test]
    fn zones_and_expressions_are_checked() {
        assert!(parse_time_zone("Europe/Paris").is_ok());
        assert_eq!(parse_time_zone("Mars/Olympus"), Err(RecurrenceError::TimeZone));
        let now = utc(2026, 12, 7, 12, 0);
        assert!(matches!(Recurrence::parse("not cron", ny(), now), Err(RecurrenceError::Cron(_))));
        assert!(matches!(Recurrence::parse("* * * * *", ny(), now), Err(RecurrenceError::TooFrequent)));
        assert!(Recurrence::parse("0 0 1 */3 *", ny(), now).is_ok());
    }

    #[test]
    fn periods_start_at_local_midnight_across_dst() {
        let r = Recurrence::parse("0 0 1 * *", ny(), utc(2027, 2, 15, 0, 0)).expect("parses");
        // 1 March is EST (UTC-5), 1 April EDT (UTC-4).
        assert_eq!(r.upcoming(utc(2027, 2, 15, 0, 0), 2), vec![utc(2027, 3, 1, 5, 0), utc(2027, 4, 1, 4, 0)]);
    }

    #[test]
    fn a_tick_finds_the_latest_period_and_the_missed_ones() {
        let r = Recurrence::parse("0 0 1 * *", ny(), utc(2026, 12, 1, 0, 0)).expect("parses");
        let cursor = utc(2027, 1, 1, 5, 0);
        assert_eq!(
            r.due(cursor, utc(2026, 12, 31, 0, 0)),
            Due { latest: None, missed: vec![], next: cursor }
        );
        let due = r.due(cursor, utc(2027, 3, 10, 0, 0));
        assert_eq!(due.latest, Some(utc(2027, 3, 1, 5, 0)));
        assert_eq!(due.missed, vec![cursor, utc(2027, 2, 1, 5, 0)]);
        assert_eq!(due.next, utc(2027, 4, 1, 4, 0));
    }

    #[test]
    fn due_on_the_fifth_business_day() {
        let cal = BusinessCalendar::us_federal(2027..=2027);
        // March 2027 starts on a Monday: the 5th business day is Friday the 5th.
        assert_eq!(
            due_date(&cal, NaiveDate::from_ymd_opt(2027, 3, 1).expect("date"), 5),
            NaiveDate::from_ymd_opt(2027, 3, 5).expect("date")
        );
        // January 2027: the 1st is a holiday (Friday), so business days are 4, 5, 6, 7, 8.
        assert_eq!(
            due_date(&cal, NaiveDate::from_ymd_opt(2027, 1, 1).expect("date"), 5),
            NaiveDate::from_ymd_opt(2027, 1, 8).expect("date")
        );
    }
}
