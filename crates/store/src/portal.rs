//! Client portal access: which client a portal user may see, at what level, with which abilities.

use chrono::{DateTime, Utc};
use domain::{AccessLevel, ClientId, PortalAccessId, UserId};
use serde::Serialize;

use crate::{StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PortalAccess {
    pub id: PortalAccessId,
    pub user_id: UserId,
    pub client_id: ClientId,
    pub access_level: AccessLevel,
    pub can_view_financials: bool,
    pub can_upload_documents: bool,
    pub can_message: bool,
    pub can_approve_invoices: bool,
    pub can_manage_team: bool,
    pub can_export_data: bool,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

macro_rules! columns {
    () => {
        "id, user_id, client_id, access_level, can_view_financials, can_upload_documents, can_message,
         can_approve_invoices, can_manage_team, can_export_data, created_at, expires_at, revoked_at"
    };
}

#[derive(Debug, Clone)]
pub struct Capabilities {
    pub access_level: AccessLevel,
    pub can_view_financials: bool,
    pub can_upload_documents: bool,
    pub can_message: bool,
    pub can_approve_invoices: bool,
    pub can_manage_team: bool,
    pub can_export_data: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Grants (or replaces the live grant of) a portal user's access to a client. The user must be a
/// member with the `client` role and the client must exist: else `NotFound`.
pub async fn grant(
    tx: &mut TenantTx,
    user: UserId,
    client: ClientId,
    c: &Capabilities,
) -> StoreResult<PortalAccess> {
    let org = tx.org_uuid();
    let granted_by = tx.actor().id;
    sqlx::query(
        "update client_portal_access set revoked_at = now()
         where organization_id = $1 and user_id = $2 and client_id = $3 and revoked_at is null",
    )
    .bind(org)
    .bind(user)
    .bind(client)
    .execute(tx.conn())
    .await?;
    let access: Option<PortalAccess> = sqlx::query_as(concat!(
        "insert into client_portal_access (id, organization_id, user_id, client_id, access_level,
             can_view_financials, can_upload_documents, can_message, can_approve_invoices, can_manage_team,
             can_export_data, granted_by, expires_at)
         select $1, $2, m.user_id, c.id, $5, $6, $7, $8, $9, $10, $11, $12, $13
         from memberships m, clients c
         where m.organization_id = $2 and m.user_id = $3 and m.role = 'client'
           and c.organization_id = $2 and c.id = $4 and c.deleted_at is null
         returning ",
        columns!()
    ))
    .bind(uuid::Uuid::now_v7())
    .bind(org)
    .bind(user)
    .bind(client)
    .bind(c.access_level)
    .bind(c.can_view_financials)
    .bind(c.can_upload_documents)
    .bind(c.can_message)
    .bind(c.can_approve_invoices)
    .bind(c.can_manage_team)
    .bind(c.can_export_data)
    .bind(granted_by)
    .bind(c.expires_at)
    .fetch_optional(tx.conn())
    .await?;
    access.ok_or(crate::StoreError::NotFound)
}

pub async fn revoke(tx: &mut TenantTx, id: PortalAccessId) -> StoreResult<PortalAccess> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "update client_portal_access set revoked_at = coalesce(revoked_at, now())
         where organization_id = $1 and id = $2 returning ",
        columns!()
    ))
    .bind(org)
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

/// Live grants, for a client (staff view) or a user (what they can reach).
pub async fn list(
    tx: &mut TenantTx,
    client: Option<ClientId>,
    user: Option<UserId>,
) -> StoreResult<Vec<PortalAccess>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        columns!(),
        " from client_portal_access
         where organization_id = $1 and revoked_at is null and (expires_at is null or expires_at > now())
           and ($2::uuid is null or client_id = $2) and ($3::uuid is null or user_id = $3)
         order by created_at limit 1000"
    ))
    .bind(org)
    .bind(client)
    .bind(user)
    .fetch_all(tx.conn())
    .await?)
}
