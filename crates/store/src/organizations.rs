//! Organizations (tenants) and the public slug directory used at login.

use chrono::{DateTime, Utc};
use domain::{OrgSlug, OrganizationId};
use serde::Serialize;

use crate::{Change, Db, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub slug: String,
    pub mfa_required_for_staff: bool,
    pub mfa_required_for_clients: bool,
    pub created_at: DateTime<Utc>,
}

macro_rules! org_select {
    () => {
        "select o.id, o.name, d.slug::text as slug, o.mfa_required_for_staff,
                o.mfa_required_for_clients, o.created_at
         from organizations o join organization_directory d on d.organization_id = o.id "
    };
}

/// Creates the organization of `tx` (opened for a freshly generated id) and claims its slug.
/// A taken slug is `StoreError::Conflict("organization_directory_pkey")`.
pub async fn create(tx: &mut TenantTx, name: &str, slug: &OrgSlug) -> StoreResult<Organization> {
    let id = tx.org_uuid();
    sqlx::query("insert into organizations (id, name) values ($1, $2)")
        .bind(id)
        .bind(name)
        .execute(tx.conn())
        .await?;
    sqlx::query("insert into organization_directory (slug, organization_id) values ($1, $2)")
        .bind(slug.as_str())
        .bind(id)
        .execute(tx.conn())
        .await?;
    get(tx).await
}

pub async fn get(tx: &mut TenantTx) -> StoreResult<Organization> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(org_select!(), "where o.id = $1")).bind(org).fetch_one(tx.conn()).await?)
}

/// The organization a login names. The directory is public routing data, not tenant data.
pub async fn find_id_by_slug(db: &Db, slug: &str) -> StoreResult<Option<OrganizationId>> {
    Ok(sqlx::query_scalar("select organization_id from organization_directory where slug = $1")
        .bind(slug)
        .fetch_optional(db.pool())
        .await?)
}

/// Every organization id, for operator tasks that visit each tenant in turn (`audit verify`).
pub async fn all_ids(db: &Db) -> StoreResult<Vec<(OrganizationId, String)>> {
    Ok(sqlx::query_as("select organization_id, slug::text from organization_directory order by created_at")
        .fetch_all(db.pool())
        .await?)
}

#[derive(Debug, Clone, Default)]
pub struct SettingsPatch {
    pub name: Option<String>,
    pub mfa_required_for_staff: Option<bool>,
    pub mfa_required_for_clients: Option<bool>,
}

/// Returns the organization before and after.
pub async fn update_settings(tx: &mut TenantTx, patch: &SettingsPatch) -> StoreResult<Change<Organization>> {
    let before = get(tx).await?;
    let org = tx.org_uuid();
    sqlx::query(
        "update organizations set
             name = coalesce($2, name),
             mfa_required_for_staff = coalesce($3, mfa_required_for_staff),
             mfa_required_for_clients = coalesce($4, mfa_required_for_clients)
         where id = $1",
    )
    .bind(org)
    .bind(&patch.name)
    .bind(patch.mfa_required_for_staff)
    .bind(patch.mfa_required_for_clients)
    .execute(tx.conn())
    .await?;
    let after = get(tx).await?;
    Ok(Change { before, after })
}
