//! The connection rows: a client's QuickBooks connection as the API shows it, its status
//! (`reconnect_needed` included), and the realm routes webhooks and the scheduler use. Connecting
//! and disconnecting (the OAuth flow) are in the `connect` module above this one; the sealed
//! tokens are in `sealing`.

use chrono::{DateTime, Utc};
use domain::{ClientId, ConnectionStatus, OrganizationId};
use serde::Serialize;
use sqlx::AssertSqlSafe;
use store::{AuditRecord, TenantTx};
use uuid::Uuid;

use crate::{QuickBooks, SyncError, SyncResult};

/// A connection as the API shows it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Connection {
    pub id: Uuid,
    pub client_id: Uuid,
    pub realm_id: String,
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    pub company_name: Option<String>,
    pub connected_at: DateTime<Utc>,
    pub disconnected_at: Option<DateTime<Utc>>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
    pub last_full_sync_at: Option<DateTime<Utc>>,
    pub last_incremental_sync_at: Option<DateTime<Utc>>,
}

const CONNECTION_COLUMNS: &str = "id, client_id, realm_id, status, status_reason, company_name, connected_at, \
     disconnected_at, refresh_expires_at, last_full_sync_at, last_incremental_sync_at";

/// Marks a connection as needing the user to connect again, and stops routing to it.
pub(crate) async fn mark_reconnect_needed(
    tx: &mut TenantTx,
    connection: Uuid,
    reason: &str,
) -> SyncResult<()> {
    sqlx::query(
        "update qbo_connections set status = 'reconnect_needed', status_reason = left($3, 1000)
         where organization_id = $1 and id = $2 and status = 'connected'",
    )
    .bind(tx.org_uuid())
    .bind(connection)
    .bind(reason)
    .execute(tx.conn())
    .await?;
    sqlx::query("delete from qbo_realm_routes where connection_id = $1")
        .bind(connection)
        .execute(tx.conn())
        .await?;
    tx.audit(AuditRecord::new("quickbooks.reconnect_needed", "qbo_connection", connection).after(reason));
    Ok(())
}

/// Checks that `client` exists (and is not deleted) in the transaction's organization.
pub(crate) async fn ensure_client(tx: &mut TenantTx, client: ClientId) -> SyncResult<()> {
    let found: Option<Uuid> = sqlx::query_scalar(
        "select id from clients where organization_id = $1 and id = $2 and deleted_at is null",
    )
    .bind(tx.org_uuid())
    .bind(client.as_uuid())
    .fetch_optional(tx.conn())
    .await?;
    found.map(|_| ()).ok_or(SyncError::NotFound("client"))
}

pub async fn get(tx: &mut TenantTx, id: Uuid) -> SyncResult<Connection> {
    sqlx::query_as(AssertSqlSafe(format!(
        "select {CONNECTION_COLUMNS} from qbo_connections where organization_id = $1 and id = $2"
    )))
    .bind(tx.org_uuid())
    .bind(id)
    .fetch_optional(tx.conn())
    .await?
    .ok_or(SyncError::NotFound("QuickBooks connection"))
}

/// The client's connection that is not disconnected, if any (after checking the client exists).
pub async fn for_client(tx: &mut TenantTx, client: ClientId) -> SyncResult<Option<Connection>> {
    ensure_client(tx, client).await?;
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "select {CONNECTION_COLUMNS} from qbo_connections
         where organization_id = $1 and client_id = $2 and status <> 'disconnected'"
    )))
    .bind(tx.org_uuid())
    .bind(client.as_uuid())
    .fetch_optional(tx.conn())
    .await?)
}

/// The client's live connection, or `NotFound`.
pub async fn require_for_client(tx: &mut TenantTx, client: ClientId) -> SyncResult<Connection> {
    for_client(tx, client).await?.ok_or(SyncError::NotFound("QuickBooks connection"))
}

/// The live connections of a realm across organizations (webhooks name only the realm).
pub async fn routes_for_realm(qb: &QuickBooks, realm: &str) -> SyncResult<Vec<(OrganizationId, Uuid)>> {
    let rows: Vec<(Uuid, Uuid)> =
        sqlx::query_as("select organization_id, connection_id from qbo_realm_routes where realm_id = $1")
            .bind(realm)
            .fetch_all(qb.db().pool())
            .await?;
    Ok(rows.into_iter().map(|(org, c)| (OrganizationId::from_uuid(org), c)).collect())
}

/// Every live connection, for the scheduler.
pub async fn all_routes(qb: &QuickBooks) -> SyncResult<Vec<(OrganizationId, Uuid)>> {
    let rows: Vec<(Uuid, Uuid)> =
        sqlx::query_as("select organization_id, connection_id from qbo_realm_routes order by 1, 2")
            .fetch_all(qb.db().pool())
            .await?;
    Ok(rows.into_iter().map(|(org, c)| (OrganizationId::from_uuid(org), c)).collect())
}
