//! The firm's QuickBooks connections at a glance: each client's live connection (connected or
//! needing a reconnect) with its last sync run, for the console's QuickBooks screen.

use chrono::{DateTime, Utc};
use domain::{ClientScope, ConnectionStatus, SyncMode, SyncRunStatus};
use serde::Serialize;
use store::TenantTx;
use uuid::Uuid;

use crate::SyncResult;

/// One client's connection and how its last sync went.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ConnectionOverview {
    pub connection_id: Uuid,
    pub client_id: Uuid,
    pub client_name: String,
    pub realm_id: String,
    pub company_name: Option<String>,
    pub status: ConnectionStatus,
    pub connected_at: DateTime<Utc>,
    /// The later of the last full and the last incremental sync that succeeded.
    pub last_synced_at: Option<DateTime<Utc>>,
    pub last_run_status: Option<SyncRunStatus>,
    pub last_run_mode: Option<SyncMode>,
    /// When the last run finished, or started, or was queued.
    pub last_run_at: Option<DateTime<Utc>>,
}

/// The live connections of the clients in `scope`, by client name; at most `limit`.
pub async fn list(
    tx: &mut TenantTx,
    scope: &ClientScope,
    limit: usize,
) -> SyncResult<Vec<ConnectionOverview>> {
    Ok(sqlx::query_as(
        "select c.id as connection_id, c.client_id, cl.business_name as client_name, c.realm_id,
             c.company_name, c.status, c.connected_at,
             greatest(c.last_full_sync_at, c.last_incremental_sync_at) as last_synced_at,
             r.status as last_run_status, r.mode as last_run_mode,
             coalesce(r.finished_at, r.started_at, r.queued_at) as last_run_at
         from qbo_connections c
         join clients cl on cl.organization_id = c.organization_id and cl.id = c.client_id and cl.deleted_at is null
         left join lateral (
             select status, mode, queued_at, started_at, finished_at from qbo_sync_runs r
             where r.organization_id = c.organization_id and r.connection_id = c.id
             order by r.queued_at desc, r.id desc limit 1
         ) r on true
         where c.organization_id = $1 and c.status <> 'disconnected'
           and ($2::uuid[] is null or c.client_id = any($2))
         order by cl.business_name, cl.id limit $3",
    )
    .bind(tx.org_uuid())
    .bind(scope.ids())
    .bind(limit as i64)
    .fetch_all(tx.conn())
    .await?)
}
