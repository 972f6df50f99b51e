//! Notifications to one user each (migrations/0050_notifications.sql). Every query names the
//! recipient: a notification is its recipient's alone, whoever else is in the firm.

use chrono::{DateTime, Utc};
use domain::{NotificationId, NotificationKind, UserId};
use serde::{Deserialize, Serialize};

use crate::cursor::{self, Page};
use crate::{StoreError, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Notification {
    pub id: NotificationId,
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub read_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "id, user_id, kind, title, body, payload, created_at, read_at"
    };
}

pub struct NewNotification<'a> {
    pub user_id: UserId,
    pub kind: NotificationKind,
    pub title: &'a str,
    pub body: &'a str,
    pub payload: serde_json::Value,
    /// What it is about: one notification per key and recipient.
    pub dedupe_key: &'a str,
}

/// Writes a notification, unless its recipient already has one with the same key (`None`).
pub async fn insert(tx: &mut TenantTx, n: NewNotification<'_>) -> StoreResult<Option<Notification>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "insert into notifications (id, organization_id, user_id, kind, title, body, payload, dedupe_key)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (organization_id, user_id, dedupe_key) do nothing
         returning ",
        columns!()
    ))
    .bind(NotificationId::new())
    .bind(org)
    .bind(n.user_id)
    .bind(n.kind)
    .bind(n.title)
    .bind(n.body)
    .bind(&n.payload)
    .bind(n.dedupe_key)
    .fetch_optional(tx.conn())
    .await?)
}

/// Writes many notifications in one statement, each unless its recipient already has its key.
/// Returns how many were written.
pub async fn insert_many(tx: &mut TenantTx, all: &[NewNotification<'_>]) -> StoreResult<u64> {
    if all.is_empty() {
        return Ok(0);
    }
    let org = tx.org_uuid();
    let done = sqlx::query(
        "insert into notifications (id, organization_id, user_id, kind, title, body, payload, dedupe_key)
         select n.id, $1, n.user_id, n.kind, n.title, n.body, n.payload, n.dedupe_key
           from unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::jsonb[], $8::text[])
                as n(id, user_id, kind, title, body, payload, dedupe_key)
         on conflict (organization_id, user_id, dedupe_key) do nothing",
    )
    .bind(org)
    .bind(all.iter().map(|_| NotificationId::new()).collect::<Vec<_>>())
    .bind(all.iter().map(|n| n.user_id).collect::<Vec<_>>())
    .bind(all.iter().map(|n| n.kind).collect::<Vec<_>>())
    .bind(all.iter().map(|n| n.title).collect::<Vec<_>>())
    .bind(all.iter().map(|n| n.body).collect::<Vec<_>>())
    .bind(all.iter().map(|n| n.payload.clone()).collect::<Vec<_>>())
    .bind(all.iter().map(|n| n.dedupe_key).collect::<Vec<_>>())
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}

#[derive(Serialize, Deserialize)]
struct NotificationKey(DateTime<Utc>, NotificationId);

/// The recipient's notifications, newest first; `unread_only` leaves out those read.
pub async fn list(
    tx: &mut TenantTx,
    recipient: UserId,
    unread_only: bool,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<Notification>> {
    let org = tx.org_uuid();
    let after: Option<NotificationKey> = after.map(cursor::decode).transpose()?;
    let (t, id) = after.map(|k| (Some(k.0), Some(k.1))).unwrap_or((None, None));
    let rows: Vec<Notification> = sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from notifications where organization_id = $1 and user_id = $2
           and (not $3 or read_at is null)
           and ($4::timestamptz is null or (created_at, id) < ($4, $5))
         order by created_at desc, id desc limit $6"
    ))
    .bind(org)
    .bind(recipient)
    .bind(unread_only)
    .bind(t)
    .bind(id)
    .bind(limit as i64 + 1)
    .fetch_all(tx.conn())
    .await?;
    Ok(Page::from_overfetch(rows, limit, |n| NotificationKey(n.created_at, n.id)))
}

/// Marks one of the recipient's notifications read (kept as first read if it already was);
/// anyone else's is `NotFound`.
pub async fn mark_read(
    tx: &mut TenantTx,
    recipient: UserId,
    id: NotificationId,
) -> StoreResult<Notification> {
    let org = tx.org_uuid();
    let n: Option<Notification> = sqlx::query_as(concat!(
        "update notifications set read_at = coalesce(read_at, now())
         where organization_id = $1 and user_id = $2 and id = $3 returning ",
        columns!()
    ))
    .bind(org)
    .bind(recipient)
    .bind(id)
    .fetch_optional(tx.conn())
    .await?;
    n.ok_or(StoreError::NotFound)
}

/// Marks every unread notification of the recipient read; returns how many.
pub async fn mark_all_read(tx: &mut TenantTx, recipient: UserId) -> StoreResult<u64> {
    let org = tx.org_uuid();
    let done = sqlx::query(
        "update notifications set read_at = now()
         where organization_id = $1 and user_id = $2 and read_at is null",
    )
    .bind(org)
    .bind(recipient)
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected())
}
