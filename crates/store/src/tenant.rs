//! `TenantTx`: a transaction confined to one organization by row-level security, which also
//! carries who is acting and writes the audit log on commit.

use std::net::IpAddr;

use chrono::Utc;
use domain::OrganizationId;
use domain::audit::{AuditContent, GENESIS, canonical_before_seq, to_db_precision};
use serde_json::Value;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Postgres, Transaction};
use uuid::Uuid;

use crate::{Db, StoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    User,
    ApiKey,
    System,
}

impl ActorKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            ActorKind::User => "user",
            ActorKind::ApiKey => "api_key",
            ActorKind::System => "system",
        }
    }
}

/// Who is acting, for the audit log: a user, an API key or the system, with the request it came in.
#[derive(Debug, Clone)]
pub struct Actor {
    pub kind: ActorKind,
    pub id: Option<Uuid>,
    pub request_id: Option<String>,
    pub ip: Option<IpAddr>,
}

impl Actor {
    pub fn system() -> Self {
        Actor { kind: ActorKind::System, id: None, request_id: None, ip: None }
    }

    pub fn user(id: impl Into<Uuid>) -> Self {
        Actor { kind: ActorKind::User, id: Some(id.into()), request_id: None, ip: None }
    }

    pub fn with_request(mut self, request_id: Option<String>, ip: Option<IpAddr>) -> Self {
        self.request_id = request_id;
        self.ip = ip;
        self
    }
}

/// One audit entry of a mutation: what was done to which entity, with its state before and after.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditRecord {
    pub fn new(action: &'static str, entity_type: &'static str, entity_id: impl ToString) -> Self {
        AuditRecord { action, entity_type, entity_id: Some(entity_id.to_string()), before: None, after: None }
    }

    pub fn before(mut self, v: impl serde::Serialize) -> Self {
        self.before = as_stored(v);
        self
    }

    pub fn after(mut self, v: impl serde::Serialize) -> Self {
        self.after = as_stored(v);
        self
    }
}

/// The value as the database will give it back: printed to JSON text (what `jsonb` stores) and
/// parsed again, so the chain hashes exactly what verification will read (an `f32` confidence, say,
/// becomes the `f64` its text denotes).
fn as_stored(v: impl serde::Serialize) -> Option<Value> {
    let text = serde_json::to_string(&v).ok()?;
    serde_json::from_str(&text).ok()
}

/// A transaction in which `app.organization_id` is set: row-level security shows and accepts only
/// that organization's rows. Repository functions take `&mut TenantTx`, so a query that forgot its
/// tenant does not compile. Dropping it without [`TenantTx::commit`] rolls back.
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    org: OrganizationId,
    actor: Actor,
    pending_audit: Vec<AuditRecord>,
}

impl TenantTx {
    /// Opens the transaction and sets the tenant in one round trip.
    pub async fn begin(db: &Db, org: OrganizationId, actor: Actor) -> StoreResult<TenantTx> {
        TenantTx::open(db, org, actor, false).await
    }

    /// `platform` also sets `app.platform_admin`; only [`crate::PlatformAdmin`] asks for it
    /// (through `TenantTx::begin_platform`).
    pub(crate) async fn open(
        db: &Db,
        org: OrganizationId,
        actor: Actor,
        platform: bool,
    ) -> StoreResult<TenantTx> {
        // The id is a formatted UUID (hex and hyphens only), so inlining it is injection-safe;
        // a simple-query BEGIN saves the separate set_config round trip on every request.
        let platform = if platform { ", set_config('app.platform_admin', 'on', true)" } else { "" };
        let begin =
            format!("BEGIN; SELECT set_config('app.organization_id', '{}', true){platform}", org.as_uuid());
        let tx = db.pool().begin_with(AssertSqlSafe(begin)).await?;
        Ok(TenantTx { tx, org, actor, pending_audit: Vec::new() })
    }

    pub fn organization_id(&self) -> OrganizationId {
        self.org
    }

    /// The organization id as a plain UUID, for binding in queries' explicit tenant filter.
    pub fn org_uuid(&self) -> Uuid {
        self.org.as_uuid()
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Attributes the rest of this transaction's audit entries to `actor` (sign-in learns who is
    /// acting only after opening the transaction).
    pub fn act_as(&mut self, actor: Actor) {
        self.actor = actor;
    }

    /// The connection, for repository functions.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Records an audit entry; it is written, chained, when the transaction commits.
    pub fn audit(&mut self, record: AuditRecord) {
        self.pending_audit.push(record);
    }

    pub async fn commit(mut self) -> StoreResult<()> {
        if !self.pending_audit.is_empty() {
            self.flush_audit().await?;
        }
        self.tx.commit().await?;
        Ok(())
    }

    pub async fn rollback(self) -> StoreResult<()> {
        self.tx.rollback().await?;
        Ok(())
    }

    /// Writes the buffered entries after the organization's chain head. The head is locked, the
    /// entries numbered and chained and the head moved by `audit_append` in one round trip, last
    /// in the transaction, so an organization's writers queue on the head only for that call and
    /// the commit. Everything that does not depend on the head is prepared here, before it.
    async fn flush_audit(&mut self) -> StoreResult<()> {
        let org = self.org.as_uuid();
        let n = self.pending_audit.len();
        let mut ids = Vec::with_capacity(n);
        let mut times = Vec::with_capacity(n);
        let mut actions = Vec::with_capacity(n);
        let mut entity_types = Vec::with_capacity(n);
        let mut entity_ids = Vec::with_capacity(n);
        let mut befores = Vec::with_capacity(n);
        let mut afters = Vec::with_capacity(n);
        let mut prefixes = Vec::with_capacity(n);
        let now = to_db_precision(Utc::now());
        let request_id = self.actor.request_id.clone();
        for mut rec in self.pending_audit.drain(..) {
            // Records may be built without the builders: normalize here too, where it must hold.
            rec.before = rec.before.and_then(as_stored);
            rec.after = rec.after.and_then(as_stored);
            let id = Uuid::now_v7();
            prefixes.push(canonical_before_seq(&AuditContent {
                organization_id: org,
                seq: 0,
                id,
                occurred_at: now,
                actor_kind: self.actor.kind.as_str(),
                actor_id: self.actor.id,
                action: rec.action,
                entity_type: rec.entity_type,
                entity_id: rec.entity_id.as_deref(),
                before: rec.before.as_ref(),
                after: rec.after.as_ref(),
                request_id: request_id.as_deref(),
            }));
            ids.push(id);
            times.push(now);
            actions.push(rec.action);
            entity_types.push(rec.entity_type);
            entity_ids.push(rec.entity_id);
            befores.push(rec.before);
            afters.push(rec.after);
        }

        sqlx::query(
            "select audit_append($1, $2, $3, $4, $5, $6::text::inet, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(org)
        .bind(&GENESIS[..])
        .bind(self.actor.kind.as_str())
        .bind(self.actor.id)
        .bind(request_id)
        .bind(self.actor.ip.map(|ip| ip.to_string()))
        .bind(&ids)
        .bind(&times)
        .bind(&actions)
        .bind(&entity_types)
        .bind(&entity_ids)
        .bind(&befores)
        .bind(&afters)
        .bind(&prefixes)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
