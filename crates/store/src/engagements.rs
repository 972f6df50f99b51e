//! Engagements: the work a firm does for a client (a tax return, monthly books, a CFO retainer).

use chrono::{DateTime, NaiveDate, Utc};
use domain::{ClientId, ClientScope, EngagementId, EngagementStatus, EngagementType, Priority, UserId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};

use crate::cursor::{self, Page};
use crate::query_mode::Mode;
use crate::{Change, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Engagement {
    pub id: EngagementId,
    pub client_id: ClientId,
    pub name: String,
    pub engagement_type: EngagementType,
    pub status: EngagementStatus,
    pub priority: Priority,
    pub description: Option<String>,
    pub start_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    pub completed_at: Option<DateTime<Utc>>,
    pub estimated_hours: Option<Decimal>,
    pub actual_hours: Decimal,
    pub hourly_rate: Option<Decimal>,
    pub fixed_fee: Option<Decimal>,
    pub tax_year: Option<i32>,
    pub assigned_to: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! columns {
    () => {
        "e.id, e.client_id, e.name, e.engagement_type, e.status, e.priority, e.description, e.start_date,
         e.due_date, e.completed_at, e.estimated_hours, e.actual_hours, e.hourly_rate, e.fixed_fee, e.tax_year,
         e.assigned_to, e.created_at, e.updated_at"
    };
}

/// Fields of a create (all set) or a patch (the `Some`s).
#[derive(Debug, Clone, Default)]
pub struct EngagementFields {
    pub client_id: Option<ClientId>,
    pub name: Option<String>,
    pub engagement_type: Option<EngagementType>,
    pub status: Option<EngagementStatus>,
    pub priority: Option<Priority>,
    pub description: Option<Option<String>>,
    pub start_date: Option<Option<NaiveDate>>,
    pub due_date: Option<Option<NaiveDate>>,
    pub estimated_hours: Option<Option<Decimal>>,
    pub actual_hours: Option<Decimal>,
    pub hourly_rate: Option<Option<Decimal>>,
    pub fixed_fee: Option<Option<Decimal>>,
    pub tax_year: Option<Option<i32>>,
    pub assigned_to: Option<Option<UserId>>,
}

pub async fn create(tx: &mut TenantTx, id: EngagementId, f: &EngagementFields) -> StoreResult<Engagement> {
    let org = tx.org_uuid();
    let created_by = tx.actor().id;
    sqlx::query(
        "insert into engagements (id, organization_id, client_id, name, engagement_type, status, priority,
             description, start_date, due_date, estimated_hours, actual_hours, hourly_rate, fixed_fee, tax_year,
             assigned_to, created_by)
         select $1, $2, c.id, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17
         from clients c where c.organization_id = $2 and c.id = $3 and c.deleted_at is null",
    )
    .bind(id)
    .bind(org)
    .bind(f.client_id)
    .bind(&f.name)
    .bind(f.engagement_type)
    .bind(f.status.unwrap_or(EngagementStatus::Planning))
    .bind(f.priority.unwrap_or(Priority::Normal))
    .bind(f.description.clone().flatten())
    .bind(f.start_date.flatten())
    .bind(f.due_date.flatten())
    .bind(f.estimated_hours.flatten())
    .bind(f.actual_hours.unwrap_or_default())
    .bind(f.hourly_rate.flatten())
    .bind(f.fixed_fee.flatten())
    .bind(f.tax_year.flatten())
    .bind(f.assigned_to.flatten())
    .bind(created_by)
    .execute(tx.conn())
    .await
    .and_then(|done| if done.rows_affected() == 1 { Ok(()) } else { Err(sqlx::Error::RowNotFound) })?;
    get(tx, id, &ClientScope::All).await
}

pub async fn get(tx: &mut TenantTx, id: EngagementId, scope: &ClientScope) -> StoreResult<Engagement> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from engagements e where e.organization_id = $1 and e.id = $2
           and ($3::uuid[] is null or e.client_id = any($3))"
    ))
    .bind(org)
    .bind(id)
    .bind(scope.ids())
    .fetch_one(tx.conn())
    .await?)
}

/// Applies a patch; returns the engagement before and after.
pub async fn update(
    tx: &mut TenantTx,
    id: EngagementId,
    f: &EngagementFields,
) -> StoreResult<Change<Engagement>> {
    let before = get(tx, id, &ClientScope::All).await?;
    let org = tx.org_uuid();
    sqlx::query(
        "update engagements set
            name = coalesce($3, name),
            engagement_type = coalesce($4, engagement_type),
            status = coalesce($5, status),
            completed_at = case when $5 = 'completed' and status <> 'completed' then now()
                                when $5 is not null and $5 <> 'completed' then null
                                else completed_at end,
            priority = coalesce($6, priority),
            description = case when $7 then $8 else description end,
            start_date = case when $9 then $10 else start_date end,
            due_date = case when $11 then $12 else due_date end,
            estimated_hours = case when $13 then $14 else estimated_hours end,
            actual_hours = coalesce($15, actual_hours),
            hourly_rate = case when $16 then $17 else hourly_rate end,
            fixed_fee = case when $18 then $19 else fixed_fee end,
            tax_year = case when $20 then $21 else tax_year end,
            assigned_to = case when $22 then $23 else assigned_to end
         where organization_id = $1 and id = $2",
    )
    .bind(org)
    .bind(id)
    .bind(&f.name)
    .bind(f.engagement_type)
    .bind(f.status)
    .bind(f.priority)
    .bind(f.description.is_some())
    .bind(f.description.clone().flatten())
    .bind(f.start_date.is_some())
    .bind(f.start_date.flatten())
    .bind(f.due_date.is_some())
    .bind(f.due_date.flatten())
    .bind(f.estimated_hours.is_some())
    .bind(f.estimated_hours.flatten())
    .bind(f.actual_hours)
    .bind(f.hourly_rate.is_some())
    .bind(f.hourly_rate.flatten())
    .bind(f.fixed_fee.is_some())
    .bind(f.fixed_fee.flatten())
    .bind(f.tax_year.is_some())
    .bind(f.tax_year.flatten())
    .bind(f.assigned_to.is_some())
    .bind(f.assigned_to.flatten())
    .execute(tx.conn())
    .await?;
    let after = get(tx, id, &ClientScope::All).await?;
    Ok(Change { before, after })
}

/// Deletes an engagement; returns it as it was.
pub async fn delete(tx: &mut TenantTx, id: EngagementId) -> StoreResult<Engagement> {
    let before = get(tx, id, &ClientScope::All).await?;
    let org = tx.org_uuid();
    sqlx::query("delete from engagements where organization_id = $1 and id = $2")
        .bind(org)
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(before)
}

#[derive(Debug, Clone, Default)]
pub struct EngagementFilter {
    pub client_id: Option<ClientId>,
    pub assigned_to: Option<UserId>,
    pub status: Option<EngagementStatus>,
    pub engagement_type: Option<EngagementType>,
}

#[derive(Serialize, Deserialize)]
struct ByCreated(DateTime<Utc>, EngagementId);

#[derive(Serialize, Deserialize)]
struct ByDue(Option<NaiveDate>, EngagementId);

/// Per client: newest first. Per assignee: open work by due date (no date last).
pub async fn list(
    tx: &mut TenantTx,
    scope: &ClientScope,
    filter: &EngagementFilter,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<Engagement>> {
    let (mut qb, by_due) = list_query(Mode::Run, tx.org_uuid(), scope, filter, after, limit)?;
    let rows: Vec<Engagement> = qb.build_query_as().fetch_all(tx.conn()).await?;
    Ok(if by_due {
        Page::from_overfetch(rows, limit, |e| cursor::encode_value(&ByDue(e.due_date, e.id)))
    } else {
        Page::from_overfetch(rows, limit, |e| cursor::encode_value(&ByCreated(e.created_at, e.id)))
    })
}

/// The list's query, and whether it is ordered by due date (an assignee's open work).
pub(crate) fn list_query(
    mode: Mode,
    org: uuid::Uuid,
    scope: &ClientScope,
    filter: &EngagementFilter,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<(QueryBuilder<Postgres>, bool)> {
    let mut qb =
        mode.builder(concat!("select ", columns!(), " from engagements e where e.organization_id = "));
    qb.push_bind(org);
    if let Some(ids) = scope.ids() {
        qb.push(" and e.client_id = any(").push_bind(ids).push(")");
    }
    if let Some(c) = filter.client_id {
        qb.push(" and e.client_id = ").push_bind(c);
    }
    if let Some(s) = filter.status {
        qb.push(" and e.status = ").push_bind(s);
    }
    if let Some(t) = filter.engagement_type {
        qb.push(" and e.engagement_type = ").push_bind(t);
    }
    let by_due = filter.assigned_to.is_some() && filter.client_id.is_none();
    if let Some(u) = filter.assigned_to {
        qb.push(" and e.assigned_to = ").push_bind(u);
        if by_due && filter.status.is_none() {
            qb.push(" and e.status not in ('completed', 'cancelled')");
        }
    }
    if by_due {
        if let Some(ByDue(due, id)) = after.map(cursor::decode).transpose()? {
            // Keyset over (due_date nulls last, id), written out so the index on due_date serves it.
            match due {
                Some(d) => qb
                    .push(" and (e.due_date > ")
                    .push_bind(d)
                    .push(" or (e.due_date = ")
                    .push_bind(d)
                    .push(" and e.id > ")
                    .push_bind(id)
                    .push(") or e.due_date is null)"),
                None => qb.push(" and e.due_date is null and e.id > ").push_bind(id),
            };
        }
        qb.push(" order by e.due_date asc nulls last, e.id asc limit ").push_bind(limit as i64 + 1);
    } else {
        if let Some(ByCreated(t, id)) = after.map(cursor::decode).transpose()? {
            qb.push(" and (e.created_at, e.id) < (").push_bind(t).push(", ").push_bind(id).push(")");
        }
        qb.push(" order by e.created_at desc, e.id desc limit ").push_bind(limit as i64 + 1);
    }
    Ok((qb, by_due))
}
