//! The firm's own closed days (migrations/0092_workflow_reminders.sql), and the business calendar
//! they make with the US federal holidays: what due dates are counted in.

use std::ops::RangeInclusive;

use chrono::{DateTime, NaiveDate, Utc};
use domain::UserId;
use domain::workflow::BusinessCalendar;
use serde::Serialize;

use crate::{StoreError, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Holiday {
    pub day: NaiveDate,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// Every holiday of the firm by date (tens a year: a bounded list).
pub async fn list(tx: &mut TenantTx) -> StoreResult<Vec<Holiday>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "select day, name, created_at from firm_holidays where organization_id = $1 order by day limit 2000",
    )
    .bind(org)
    .fetch_all(tx.conn())
    .await?)
}

/// Adds a holiday; a day the firm already has is `Conflict("firm_holidays_pkey")`.
pub async fn insert(
    tx: &mut TenantTx,
    day: NaiveDate,
    name: &str,
    created_by: Option<UserId>,
) -> StoreResult<Holiday> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(
        "insert into firm_holidays (organization_id, day, name, created_by) values ($1, $2, $3, $4)
         returning day, name, created_at",
    )
    .bind(org)
    .bind(day)
    .bind(name)
    .bind(created_by)
    .fetch_one(tx.conn())
    .await?)
}

/// Removes the holiday on `day`; returns it (`NotFound` when there is none).
pub async fn delete(tx: &mut TenantTx, day: NaiveDate) -> StoreResult<Holiday> {
    let org = tx.org_uuid();
    let gone: Option<Holiday> = sqlx::query_as(
        "delete from firm_holidays where organization_id = $1 and day = $2 returning day, name, created_at",
    )
    .bind(org)
    .bind(day)
    .fetch_optional(tx.conn())
    .await?;
    gone.ok_or(StoreError::NotFound)
}

/// The firm's business calendar for `years`: weekends, the US federal holidays and its own.
pub async fn calendar(tx: &mut TenantTx, years: RangeInclusive<i32>) -> StoreResult<BusinessCalendar> {
    let org = tx.org_uuid();
    let (from, to) = (
        NaiveDate::from_ymd_opt(*years.start(), 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(*years.end(), 12, 31).unwrap_or(NaiveDate::MAX),
    );
    let days: Vec<NaiveDate> = sqlx::query_scalar(
        "select day from firm_holidays where organization_id = $1 and day between $2 and $3",
    )
    .bind(org)
    .bind(from)
    .bind(to)
    .fetch_all(tx.conn())
    .await?;
    Ok(BusinessCalendar::us_federal(years).with_holidays(days))
}
