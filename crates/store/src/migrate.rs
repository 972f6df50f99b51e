//! Schema migrations, run as the owner. Idempotent: applied versions are recorded by sqlx in
//! `_sqlx_migrations`, and concurrent runners serialise on its advisory lock.

use domain::{Permission, PermissionSet, Role};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor};

use crate::StoreResult;
use crate::db::APP_ROLE;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// What `migrate` did.
#[derive(Debug, Clone, Default)]
pub struct MigrationReport {
    pub applied: Vec<String>,
    pub already_applied: usize,
}

/// Applies pending migrations, then writes the permission catalogue and role grants from the code
/// and sets the app role's password if one is configured.
pub async fn migrate(owner: &PgConnectOptions, app_password: Option<&str>) -> StoreResult<MigrationReport> {
    let mut conn = PgConnection::connect_with(owner).await?;
    let before: Vec<i64> = applied_versions(&mut conn).await;
    MIGRATOR.run(&mut conn).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::Execute(e) => crate::StoreError::from(e),
        other => crate::StoreError::Corrupt(format!("migration failed: {other}")),
    })?;
    let report = MigrationReport {
        applied: MIGRATOR
            .iter()
            .filter(|m| !before.contains(&m.version))
            .map(|m| format!("{:04} {}", m.version, m.description))
            .collect(),
        already_applied: before.len(),
    };
    sync_permissions(&mut conn).await?;
    if let Some(pw) = app_password {
        // ALTER ROLE takes no bind parameters; quote the literal the way PostgreSQL does.
        let quoted = pw.replace('\'', "''");
        conn.execute(sqlx::AssertSqlSafe(format!("alter role {APP_ROLE} password '{quoted}'"))).await?;
    }
    conn.execute("select ensure_audit_partitions(3)").await?;
    conn.close().await?;
    Ok(report)
}

/// One migration as `migrate --status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    pub version: i64,
    pub description: String,
    /// When it was applied; `None` while pending.
    pub applied_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Applied to the database but unknown to this binary (a newer binary applied it).
    pub unknown: bool,
}

/// Every migration this binary knows, applied or pending, and any applied one it does not know,
/// in version order. A database never migrated has every known migration pending.
pub async fn status(owner: &PgConnectOptions) -> StoreResult<Vec<MigrationStatus>> {
    let mut conn = PgConnection::connect_with(owner).await?;
    let table: Option<String> =
        sqlx::query_scalar("select to_regclass('_sqlx_migrations')::text").fetch_one(&mut conn).await?;
    let applied: Vec<(i64, String, chrono::DateTime<chrono::Utc>)> = match table {
        Some(_) => sqlx::query_as(
            "select version, description, installed_on from _sqlx_migrations where success order by version",
        )
        .fetch_all(&mut conn)
        .await?,
        None => Vec::new(),
    };
    conn.close().await?;
    let mut rows: Vec<MigrationStatus> = MIGRATOR
        .iter()
        .map(|m| MigrationStatus {
            version: m.version,
            description: m.description.to_string(),
            applied_at: applied.iter().find(|(v, ..)| *v == m.version).map(|(.., at)| *at),
            unknown: false,
        })
        .collect();
    for (version, description, at) in applied {
        if !rows.iter().any(|r| r.version == version) {
            rows.push(MigrationStatus { version, description, applied_at: Some(at), unknown: true });
        }
    }
    rows.sort_by_key(|r| r.version);
    Ok(rows)
}

async fn applied_versions(conn: &mut PgConnection) -> Vec<i64> {
    sqlx::query_scalar("select version from _sqlx_migrations where success order by version")
        .fetch_all(conn)
        .await
        .unwrap_or_default()
}

async fn sync_permissions(conn: &mut PgConnection) -> StoreResult<()> {
    let names: Vec<&str> = Permission::ALL.iter().map(|p| p.as_str()).collect();
    let descriptions: Vec<&str> = Permission::ALL.iter().map(|p| p.description()).collect();
    let (roles, perms): (Vec<&str>, Vec<&str>) = Role::ALL
        .iter()
        .flat_map(|r| PermissionSet::for_role(*r).iter().map(move |p| (r.as_str(), p.as_str())))
        .unzip();
    let mut tx = conn.begin().await?;
    sqlx::query(
        "insert into permissions (name, description) select * from unnest($1::text[], $2::text[])
         on conflict (name) do update set description = excluded.description",
    )
    .bind(&names)
    .bind(&descriptions)
    .execute(&mut *tx)
    .await?;
    sqlx::query("delete from permissions where name <> all($1::text[])")
        .bind(&names)
        .execute(&mut *tx)
        .await?;
    sqlx::query("delete from role_permissions").execute(&mut *tx).await?;
    sqlx::query(
        "insert into role_permissions (role, permission) select * from unnest($1::text[], $2::text[])",
    )
    .bind(&roles)
    .bind(&perms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A fingerprint of the migrations this binary carries (versions and checksums): test
/// templates are keyed by it, so a changed migration gets a fresh template.
pub fn fingerprint() -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for m in MIGRATOR.iter() {
        h.update(m.version.to_be_bytes());
        h.update(&m.checksum[..]);
    }
    hex::encode(&h.finalize()[..6])
}
