//! Platform administration as a capability.
//!
//! A [`PlatformAdmin`] value is the proof that whoever holds it runs the platform: only it opens
//! a [`TenantTx::begin_platform`] transaction (which sets `app.platform_admin`, honoured by the
//! marketplace's review policies), and the platform's use cases (advisor verification, the job
//! queue, health and cache figures) take it as an argument. Its fields are private and it has
//! exactly two constructors, each of which checks against the database rather than trusting
//! its arguments:
//! - [`PlatformAdmin::verify`]: a signed-in member of the platform's own organization whose
//!   session (or API key, with the `system:admin` scope) is live and whose role grants
//!   `system:admin` — re-read here, so a forged or stale context proves nothing;
//! - [`PlatformAdmin::operator`]: the command line, connected with the database owner's
//!   credentials (superuser or owner of the database), acting as the system.
//!
//! So platform access without one of these checks does not compile: there is no other way to
//! make the value, and `begin_platform` has no other signature.

use domain::{ApiKeyId, OrganizationId, Permission, PermissionSet, Role, SessionId, UserStatus};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection};

use crate::tenant::{Actor, TenantTx};
use crate::{Db, StoreError, StoreResult, organizations};

/// The credential a signed-in caller presented, as resolved by `identity`.
#[derive(Debug, Clone, Copy)]
pub enum PlatformClaim {
    Session(SessionId),
    ApiKey(ApiKeyId),
}

/// Proof that the holder administers the platform; see the module documentation.
#[derive(Debug, Clone)]
pub struct PlatformAdmin {
    org: OrganizationId,
    actor: Actor,
}

impl PlatformAdmin {
    /// The platform organization's member behind `claim`, if that credential is live and grants
    /// `system:admin`; `None` for anyone else (including every member of other organizations).
    pub async fn verify(
        db: &Db,
        platform_slug: &str,
        org: OrganizationId,
        claim: PlatformClaim,
        actor: Actor,
    ) -> StoreResult<Option<PlatformAdmin>> {
        if organizations::find_id_by_slug(db, platform_slug).await? != Some(org) {
            return Ok(None);
        }
        let mut tx = TenantTx::begin(db, org, actor.clone()).await?;
        let org_id = tx.org_uuid();
        let granted = match claim {
            PlatformClaim::Session(id) => {
                let row: Option<(Role, UserStatus, bool)> = sqlx::query_as(
                    "select m.role, u.status, s.mfa_enrolment_required
                     from sessions s
                     join users u on u.id = s.user_id and u.organization_id = s.organization_id
                     join memberships m on m.user_id = s.user_id and m.organization_id = s.organization_id
                     where s.organization_id = $1 and s.id = $2
                       and s.revoked_at is null and s.expires_at > now()",
                )
                .bind(org_id)
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
                row.is_some_and(|(role, status, pending_mfa)| {
                    status == UserStatus::Active
                        && !pending_mfa
                        && PermissionSet::for_role(role).contains(Permission::SystemAdmin)
                })
            }
            PlatformClaim::ApiKey(id) => {
                let row: Option<(Role, UserStatus, Vec<String>)> = sqlx::query_as(
                    "select m.role, u.status, k.scopes
                     from api_keys k
                     join users u on u.id = k.created_by and u.organization_id = k.organization_id
                     join memberships m on m.user_id = k.created_by and m.organization_id = k.organization_id
                     where k.organization_id = $1 and k.id = $2 and k.revoked_at is null
                       and (k.expires_at is null or k.expires_at > now())",
                )
                .bind(org_id)
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
                row.is_some_and(|(role, status, scopes)| {
                    status == UserStatus::Active
                        && PermissionSet::for_role(role).contains(Permission::SystemAdmin)
                        && scopes.iter().any(|s| s == Permission::SystemAdmin.as_str())
                })
            }
        };
        tx.commit().await?;
        Ok(granted.then_some(PlatformAdmin { org, actor }))
    }

    /// The operator at the command line: connects with `owner` (the database owner's options,
    /// as migrations use) and checks that the role is a superuser or owns the database (`None`
    /// if not); acts as the system in the platform organization named by `platform_slug`
    /// (`NotFound` if there is none).
    pub async fn operator(
        owner: &PgConnectOptions,
        db: &Db,
        platform_slug: &str,
    ) -> StoreResult<Option<PlatformAdmin>> {
        let mut conn = PgConnection::connect_with(owner).await?;
        let owns: bool = sqlx::query_scalar(
            "select r.rolsuper or pg_has_role(current_user, d.datdba, 'member')
             from pg_roles r, pg_database d
             where r.rolname = current_user and d.datname = current_database()",
        )
        .fetch_one(&mut conn)
        .await?;
        conn.close().await.ok();
        if !owns {
            return Ok(None);
        }
        let org = organizations::find_id_by_slug(db, platform_slug).await?.ok_or(StoreError::NotFound)?;
        Ok(Some(PlatformAdmin { org, actor: Actor::system() }))
    }

    /// The platform's own organization, whose audit log records platform actions.
    pub fn organization_id(&self) -> OrganizationId {
        self.org
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }
}

impl TenantTx {
    /// A transaction in the platform's organization that also sets `app.platform_admin`.
    pub async fn begin_platform(db: &Db, admin: &PlatformAdmin) -> StoreResult<TenantTx> {
        TenantTx::open(db, admin.org, admin.actor.clone(), true).await
    }
}
