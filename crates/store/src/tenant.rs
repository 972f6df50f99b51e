//! `TenantTx`: a transaction confined to one organization by row-level security, which also
//! carries who is acting and writes the audit log on commit.

use std::net::IpAddr;

use chrono::Utc;
use domain::OrganizationId;
use domain::audit::{AuditContent, GENESIS, chain_hash, to_db_precision};
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

    /// Writes the buffered entries after the head of one of the organization's chain lanes
    /// (migration 0101): the first lane no other transaction holds, so a firm's audited
    /// transactions commit side by side instead of each waiting out the last one's WAL flush.
    /// When every open lane is held it opens the next, and only when all eight are open and held
    /// does it queue on one picked at random.
    /// Locking the head last in the transaction keeps the lock short while still ordering each
    /// lane's entries by commit.
    async fn flush_audit(&mut self) -> StoreResult<()> {
        let org = self.org.as_uuid();
        let (lanes, free_lane, free_seq, free_hash): (i16, Option<i16>, Option<i64>, Option<Vec<u8>>) =
            sqlx::query_as(concat!(
                "select n.lanes, f.lane, f.last_seq, f.last_hash",
                " from (select count(*)::int2 as lanes from audit_chain_heads where organization_id = $1) n",
                " left join lateral (select lane, last_seq, last_hash from audit_chain_heads",
                "   where organization_id = $1 order by lane limit 1 for update skip locked) f on true"
            ))
            .bind(org)
            .fetch_one(&mut *self.tx)
            .await?;
        let (lane, mut seq, mut prev) = match (free_lane, free_seq, free_hash) {
            (Some(lane), Some(seq), Some(hash)) => (lane, seq, hash),
            // Every lane is held: open the next one, or queue on one when all are open.
            _ => {
                let lane = if lanes < domain::audit::LANES {
                    lanes
                } else {
                    rand::random_range(0..domain::audit::LANES)
                };
                sqlx::query_as(
                    "insert into audit_chain_heads (organization_id, lane, last_seq, last_hash)
                     values ($1, $3, 0, $2)
                     on conflict (organization_id, lane) do update set last_seq = audit_chain_heads.last_seq
                     returning lane, last_seq, last_hash",
                )
                .bind(org)
                .bind(&GENESIS[..])
                .bind(lane)
                .fetch_one(&mut *self.tx)
                .await?
            }
        };

        let n = self.pending_audit.len();
        let mut seqs = Vec::with_capacity(n);
        let mut ids = Vec::with_capacity(n);
        let mut times = Vec::with_capacity(n);
        let mut actions = Vec::with_capacity(n);
        let mut entity_types = Vec::with_capacity(n);
        let mut entity_ids = Vec::with_capacity(n);
        let mut befores = Vec::with_capacity(n);
        let mut afters = Vec::with_capacity(n);
        let mut prevs = Vec::with_capacity(n);
        let mut hashes = Vec::with_capacity(n);
        let now = to_db_precision(Utc::now());
        let request_id = self.actor.request_id.clone();
        for mut rec in self.pending_audit.drain(..) {
            // Records may be built without the builders: normalize here too, where it must hold.
            rec.before = rec.before.and_then(as_stored);
            rec.after = rec.after.and_then(as_stored);
            seq += 1;
            let id = Uuid::now_v7();
            let hash = chain_hash(
                &prev,
                &AuditContent {
                    organization_id: org,
                    seq,
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
                },
            );
            seqs.push(seq);
            ids.push(id);
            times.push(now);
            actions.push(rec.action);
            entity_types.push(rec.entity_type);
            entity_ids.push(rec.entity_id);
            befores.push(rec.before);
            afters.push(rec.after);
            prevs.push(std::mem::replace(&mut prev, hash.to_vec()));
            hashes.push(hash.to_vec());
        }

        sqlx::query(
            "with entries as (
                 insert into audit_log (organization_id, lane, seq, id, occurred_at, actor_kind, actor_id,
                     action, entity_type, entity_id, before, after, request_id, ip, prev_hash, hash)
                 select $1, $18, e.seq, e.id, e.occurred_at, $2, $3, e.action, e.entity_type, e.entity_id,
                     e.before, e.after, $4, $5::text::inet, e.prev_hash, e.hash
                 from unnest($6::bigint[], $7::uuid[], $8::timestamptz[], $9::text[], $10::text[],
                      $11::text[], $12::jsonb[], $13::jsonb[], $14::bytea[], $15::bytea[])
                      as e(seq, id, occurred_at, action, entity_type, entity_id, before, after,
                           prev_hash, hash)
             )
             update audit_chain_heads set last_seq = $16, last_hash = $17
             where organization_id = $1 and lane = $18",
        )
        .bind(org)
        .bind(self.actor.kind.as_str())
        .bind(self.actor.id)
        .bind(request_id)
        .bind(self.actor.ip.map(|ip| ip.to_string()))
        .bind(&seqs)
        .bind(&ids)
        .bind(&times)
        .bind(&actions)
        .bind(&entity_types)
        .bind(&entity_ids)
        .bind(&befores)
        .bind(&afters)
        .bind(&prevs)
        .bind(&hashes)
        .bind(seq)
        .bind(&prev)
        .bind(lane)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
