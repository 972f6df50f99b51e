//! When time-driven workflow notifications are due: a step due soon or overdue, the reminders of a
//! client request, a run without progress and a step far over its estimate. Pure rules over a
//! `now` the caller passes, so the job and the tests run them on any clock.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::firm::text_enum;
use crate::workflow::BusinessCalendar;

text_enum!(
    /// What a reminder was about; one of each per subject and occurrence.
    ReminderKind {
        DueSoon = "due_soon",
        Overdue = "overdue",
        ClientRequest = "client_request",
        StuckRun = "stuck_run",
        OverEstimate = "over_estimate",
    }
);

/// "Due soon": due within this many business days from today.
pub const DUE_SOON_BUSINESS_DAYS: u32 = 2;
/// A client request's first reminder, this many days after it became ready…
pub const CLIENT_REQUEST_FIRST_DAYS: i64 = 3;
/// … then every this many days …
pub const CLIENT_REQUEST_EVERY_DAYS: i64 = 7;
/// … at most this many in all.
pub const CLIENT_REQUEST_MAX: i16 = 3;
/// A run with no step status change for this many days is stuck.
pub const STUCK_AFTER_DAYS: i64 = 7;
/// A step in progress with logged time over its estimate times this is over its estimate (50% over).
pub const OVER_ESTIMATE_FACTOR: Decimal = Decimal::from_parts(15, 0, 0, false, 1);

/// Due soon or overdue on `today`, for an open step due `due`; `None` when neither yet.
pub fn due_kind(calendar: &BusinessCalendar, today: NaiveDate, due: NaiveDate) -> Option<ReminderKind> {
    if due < today {
        Some(ReminderKind::Overdue)
    } else if due <= calendar.add(today, DUE_SOON_BUSINESS_DAYS) {
        Some(ReminderKind::DueSoon)
    } else {
        None
    }
}

/// The last day a step may be due and count as due soon on `today` (for the query's bound).
pub fn due_soon_until(calendar: &BusinessCalendar, today: NaiveDate) -> NaiveDate {
    calendar.add(today, DUE_SOON_BUSINESS_DAYS)
}

/// When the `n`th (1-based) reminder of a client request that became ready at `ready_at` is due.
pub fn client_request_at(ready_at: DateTime<Utc>, n: i16) -> DateTime<Utc> {
    ready_at + Duration::days(CLIENT_REQUEST_FIRST_DAYS + CLIENT_REQUEST_EVERY_DAYS * i64::from(n.max(1) - 1))
}

/// The reminder to send now, if any: the latest one due at `now` when it is later than the last
/// sent (`sent`, 0 for none). Reminders missed while nothing ran are not replayed one after the
/// other: the latest due is sent once, as the job scheduler catches up.
pub fn client_request_due(ready_at: DateTime<Utc>, sent: i16, now: DateTime<Utc>) -> Option<i16> {
    let latest = (1..=CLIENT_REQUEST_MAX).rev().find(|&n| client_request_at(ready_at, n) <= now)?;
    (latest > sent).then_some(latest)
}

/// When the next reminder will be due, or `None` after the last.
pub fn client_request_next(ready_at: DateTime<Utc>, sent: i16) -> Option<DateTime<Utc>> {
    (sent < CLIENT_REQUEST_MAX).then(|| client_request_at(ready_at, sent + 1))
}

/// Whether a run that last progressed at `progressed_at` is stuck at `now`.
pub fn is_stuck(progressed_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now - progressed_at >= Duration::days(STUCK_AFTER_DAYS)
}

/// The time before which a run's last progress makes it stuck at `now`.
pub fn stuck_before(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::days(STUCK_AFTER_DAYS)
}

/// Whether `logged_minutes` on a step estimated at `estimated_hours` is 50% over (a step with no
/// estimate never is).
pub fn is_over_estimate(estimated_hours: Decimal, logged_minutes: i64) -> bool {
    estimated_hours > Decimal::ZERO
        && Decimal::from(logged_minutes) > estimated_hours * Decimal::from(60) * OVER_ESTIMATE_FACTOR
}

/// The minutes that make a step over its estimate (the query's bound).
pub fn over_estimate_minutes(estimated_hours: Decimal) -> Decimal {
    estimated_hours * Decimal::from(60) * OVER_ESTIMATE_FACTOR
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn due_soon_counts_business_days() {
        let cal = BusinessCalendar::us_federal([2026]).with_holidays([d(2026, 12, 9)]);
        // Mon 12-07: two business days ahead is Thu 12-10 (the 9th is the firm's holiday).
        let today = d(2026, 12, 7);
        assert_eq!(due_soon_until(&cal, today), d(2026, 12, 10));
        assert_eq!(due_kind(&cal, today, d(2026, 12, 10)), Some(ReminderKind::DueSoon));
        assert_eq!(due_kind(&cal, today, d(2026, 12, 7)), Some(ReminderKind::DueSoon));
        assert_eq!(due_kind(&cal, today, d(2026, 12, 11)), None);
        assert_eq!(due_kind(&cal, today, d(2026, 12, 4)), Some(ReminderKind::Overdue));
        // Fri 12-11: over the weekend to Tue 12-15.
        assert_eq!(due_soon_until(&cal, d(2026, 12, 11)), d(2026, 12, 15));
    }

    #[test]
    fn client_requests_are_reminded_at_days_3_10_17_then_never() {
        let ready = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
        let at = |days: i64, sent| client_request_due(ready, sent, ready + Duration::days(days));
        assert_eq!(at(2, 0), None);
        assert_eq!(at(3, 0), Some(1));
        assert_eq!(at(3, 1), None);
        assert_eq!(at(9, 1), None);
        assert_eq!(at(10, 1), Some(2));
        assert_eq!(at(17, 2), Some(3));
        assert_eq!(at(24, 3), None);
        assert_eq!(at(400, 3), None);
        // Missed while nothing ran: the latest due is sent once, not all three in a row.
        assert_eq!(at(18, 0), Some(3));
        assert_eq!(client_request_next(ready, 1), Some(ready + Duration::days(10)));
        assert_eq!(client_request_next(ready, 3), None);
    }

    #[test]
    fn stuck_and_over_estimate() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
        assert!(!is_stuck(t, t + Duration::days(6)));
        assert!(is_stuck(t, t + Duration::days(7)));
        assert!(!is_over_estimate(Decimal::from(2), 180));
        assert!(is_over_estimate(Decimal::from(2), 181));
        assert!(!is_over_estimate(Decimal::ZERO, 10_000));
    }
}
