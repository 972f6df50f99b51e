//! Sync-run history and progress, as the API shows it.

use chrono::{DateTime, Utc};
use domain::{SyncMode, SyncRunStatus, SyncTrigger};
use quickbooks::EntityKind;
use serde::Serialize;
use store::cursor::Page;
use store::{StoreError, TenantTx};
use uuid::Uuid;

use crate::{SyncError, SyncResult};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SyncRun {
    pub id: Uuid,
    pub connection_id: Uuid,
    pub mode: SyncMode,
    pub trigger: SyncTrigger,
    pub status: SyncRunStatus,
    pub attempts: i32,
    pub api_calls: i64,
    /// Per kind: `{"upserted", "unchanged", "deleted"}`.
    pub counts: serde_json::Value,
    /// Per kind while running: `{"position", "done", "read"}`.
    pub progress: serde_json::Value,
    pub errors: serde_json::Value,
    pub queued_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, connection_id, mode, trigger, status, attempts, api_calls, counts, progress, errors, \
     queued_at, started_at, finished_at";

/// A page of the runs of the client's connections, newest first, after `cursor` (the
/// `next_cursor` of the previous page).
pub async fn list(
    tx: &mut TenantTx,
    client: Uuid,
    cursor: Option<&str>,
    limit: usize,
) -> SyncResult<Page<SyncRun>> {
    let after: Option<(DateTime<Utc>, Uuid)> =
        cursor.map(store::cursor::decode).transpose().map_err(StoreError::from)?;
    let (queued_at, id) = after.map_or((None, None), |(t, id)| (Some(t), Some(id)));
    let rows: Vec<SyncRun> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from qbo_sync_runs r
         where r.organization_id = $1
           and r.connection_id in (select id from qbo_connections where organization_id = $1 and client_id = $2)
           and ($3::timestamptz is null or (r.queued_at, r.id) < ($3, $4))
         order by r.queued_at desc, r.id desc limit $5"
    )))
    .bind(tx.org_uuid())
    .bind(client)
    .bind(queued_at)
    .bind(id)
    .bind(limit as i64 + 1)
    .fetch_all(tx.conn())
    .await?;
    Ok(Page::from_overfetch(rows, limit, |r| (r.queued_at, r.id)))
}

/// One run of the client's connections.
pub async fn get(tx: &mut TenantTx, client: Uuid, run: Uuid) -> SyncResult<SyncRun> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {COLUMNS} from qbo_sync_runs r
         where r.organization_id = $1 and r.id = $3
           and r.connection_id in (select id from qbo_connections where organization_id = $1 and client_id = $2)"
    )))
    .bind(tx.org_uuid())
    .bind(client)
    .bind(run)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(SyncError::NotFound("sync run"))
}

/// A run's progress and counts added up over its entity kinds, as a person reads them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunTally {
    /// Kinds read to the end, of the kinds the run reads (every kind for a full run; the kinds
    /// asked for, or every listed kind, for an incremental one).
    pub kinds_done: usize,
    pub kinds_total: usize,
    pub upserted: u64,
    pub unchanged: u64,
    pub deleted: u64,
}

impl SyncRun {
    pub fn tally(&self) -> RunTally {
        let entries = |v: &serde_json::Value| v.as_object().cloned().unwrap_or_default();
        let progress = entries(&self.progress);
        let kinds_done = progress.values().filter(|p| p["done"].as_bool() == Some(true)).count();
        let planned = match self.mode {
            SyncMode::Full => EntityKind::ALL.len(),
            SyncMode::Incremental => EntityKind::LISTED.len(),
        };
        let counts = entries(&self.counts);
        let sum = |field: &str| counts.values().filter_map(|c| c[field].as_u64()).sum();
        RunTally {
            kinds_done,
            kinds_total: planned.max(progress.len()),
            upserted: sum("upserted"),
            unchanged: sum("unchanged"),
            deleted: sum("deleted"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tally_adds_the_kinds_up() {
        let run = SyncRun {
            id: Uuid::nil(),
            connection_id: Uuid::nil(),
            mode: SyncMode::Full,
            trigger: SyncTrigger::Manual,
            status: SyncRunStatus::Running,
            attempts: 1,
            api_calls: 3,
            counts: serde_json::json!({
                "Customer": {"upserted": 5, "unchanged": 1, "deleted": 0},
                "Invoice": {"upserted": 2, "unchanged": 0, "deleted": 1}
            }),
            progress: serde_json::json!({
                "Customer": {"position": null, "done": true, "read": 6},
                "Invoice": {"position": 3, "done": false, "read": 3}
            }),
            errors: serde_json::json!([]),
            queued_at: Utc::now(),
            started_at: None,
            finished_at: None,
        };
        let t = run.tally();
        assert_eq!((t.kinds_done, t.kinds_total), (1, EntityKind::ALL.len()));
        assert_eq!((t.upserted, t.unchanged, t.deleted), (7, 1, 1));
    }
}
