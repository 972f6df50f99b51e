//! Reading and verifying the audit log. Entries are written by [`crate::TenantTx::commit`].

use chrono::{DateTime, Utc};
use domain::audit::{AuditContent, ChainBreak, ChainBreakReason, GENESIS, chain_hash};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::cursor::{self, Page};
use crate::{StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    /// The chain lane the entry was appended to (0–7), and its place in that lane.
    pub lane: i16,
    pub seq: i64,
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub actor_kind: String,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Serialize, Deserialize)]
struct AuditKey(DateTime<Utc>, Uuid);

/// Newest first, keyset-paginated on (occurred_at, id).
pub async fn list(
    tx: &mut TenantTx,
    filter: &AuditFilter,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<AuditEntry>> {
    let org = tx.org_uuid();
    let after: Option<AuditKey> = after.map(cursor::decode).transpose()?;
    let (after_time, after_id) = after.map(|k| (Some(k.0), Some(k.1))).unwrap_or((None, None));
    let rows: Vec<AuditEntry> = sqlx::query_as(
        "select lane, seq, id, occurred_at, actor_kind, actor_id, action, entity_type, entity_id, before, after,
                request_id, host(ip) as ip
         from audit_log
         where organization_id = $1
           and ($2::uuid is null or actor_id = $2)
           and ($3::text is null or action = $3)
           and ($4::text is null or entity_type = $4)
           and ($5::text is null or entity_id = $5)
           and ($6::timestamptz is null or occurred_at >= $6)
           and ($7::timestamptz is null or occurred_at < $7)
           and ($8::timestamptz is null or (occurred_at, id) < ($8, $9))
         order by occurred_at desc, id desc
         limit $10",
    )
    .bind(org)
    .bind(filter.actor_id)
    .bind(&filter.action)
    .bind(&filter.entity_type)
    .bind(&filter.entity_id)
    .bind(filter.from)
    .bind(filter.to)
    .bind(after_time)
    .bind(after_id)
    .bind(limit as i64 + 1)
    .fetch_all(tx.conn())
    .await?;
    Ok(Page::from_overfetch(rows, limit, |e| AuditKey(e.occurred_at, e.id)))
}

/// The result of checking one organization's chain.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub entries: i64,
    /// Every break found, in chain order (at most [`MAX_REPORTED_BREAKS`]); empty when intact.
    pub breaks: Vec<ChainBreakView>,
}

/// How many breaks one verification reports; past that, the chain is plainly compromised.
pub const MAX_REPORTED_BREAKS: usize = 1000;

impl ChainReport {
    pub fn first_break(&self) -> Option<&ChainBreakView> {
        self.breaks.first()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChainBreakView {
    pub lane: i16,
    pub seq: i64,
    pub reason: String,
}

impl From<ChainBreak> for ChainBreakView {
    fn from(b: ChainBreak) -> Self {
        let reason = match b.reason {
            ChainBreakReason::Gap { expected } => format!("entry {expected} is missing (deleted)"),
            ChainBreakReason::PrevMismatch => "previous-hash does not match the entry before".to_owned(),
            ChainBreakReason::HashMismatch => "content does not match its hash (edited)".to_owned(),
        };
        ChainBreakView { lane: b.lane, seq: b.seq, reason }
    }
}

#[derive(sqlx::FromRow)]
struct ChainRow {
    lane: i16,
    seq: i64,
    id: Uuid,
    occurred_at: DateTime<Utc>,
    actor_kind: String,
    actor_id: Option<Uuid>,
    action: String,
    entity_type: String,
    entity_id: Option<String>,
    before: Option<Value>,
    after: Option<Value>,
    request_id: Option<String>,
    prev_hash: Vec<u8>,
    hash: Vec<u8>,
}

/// Re-hashes each of the organization's chain lanes in order, streaming, and compares each
/// lane's end with its head (so a truncated tail is caught too, and a lane emptied out). It goes
/// on past a break, re-anchoring on the stored values, so every edited, deleted or re-linked
/// entry is reported, not only the first.
pub async fn verify(tx: &mut TenantTx) -> StoreResult<ChainReport> {
    let org = tx.org_uuid();
    let heads: Vec<(i16, i64, Vec<u8>)> = sqlx::query_as(
        "select lane, last_seq, last_hash from audit_chain_heads where organization_id = $1 order by lane",
    )
    .bind(org)
    .fetch_all(tx.conn())
    .await?;
    let mut entries = 0i64;
    let mut breaks: Vec<ChainBreak> = Vec::new();
    let mut record = |b: ChainBreak| {
        if breaks.len() < MAX_REPORTED_BREAKS {
            breaks.push(b);
        }
    };
    // The lane being walked: its number, the next sequence number it expects, the last hash.
    let mut lane: Option<(i16, i64, Vec<u8>)> = None;
    let mut seen_lanes: Vec<i16> = Vec::new();
    {
        let mut rows = sqlx::query_as::<_, ChainRow>(
            "select lane, seq, id, occurred_at, actor_kind, actor_id, action, entity_type, entity_id, before,
                    after, request_id, prev_hash, hash
             from audit_log where organization_id = $1 order by lane, seq",
        )
        .bind(org)
        .fetch(tx.conn());
        while let Some(row) = rows.try_next().await? {
            entries += 1;
            if lane.as_ref().is_none_or(|l| l.0 != row.lane) {
                if let Some(done) = lane.take() {
                    check_lane_end(&heads, done, &mut record);
                }
                seen_lanes.push(row.lane);
                lane = Some((row.lane, 1, GENESIS.to_vec()));
            }
            let Some((lane_no, expected_seq, prev)) = lane.as_mut() else { continue };
            let at = |reason| ChainBreak { lane: *lane_no, seq: row.seq, reason };
            if row.seq != *expected_seq {
                record(at(ChainBreakReason::Gap { expected: *expected_seq }));
            } else if row.prev_hash != *prev {
                // After a gap the stored previous-hash names the deleted entry: one break is enough.
                record(at(ChainBreakReason::PrevMismatch));
            }
            let hash = chain_hash(
                &row.prev_hash,
                &AuditContent {
                    organization_id: org,
                    seq: row.seq,
                    id: row.id,
                    occurred_at: row.occurred_at,
                    actor_kind: &row.actor_kind,
                    actor_id: row.actor_id,
                    action: &row.action,
                    entity_type: &row.entity_type,
                    entity_id: row.entity_id.as_deref(),
                    before: row.before.as_ref(),
                    after: row.after.as_ref(),
                    request_id: row.request_id.as_deref(),
                },
            );
            if hash[..] != row.hash[..] {
                record(at(ChainBreakReason::HashMismatch));
            }
            *prev = row.hash;
            *expected_seq = row.seq + 1;
        }
    }
    if let Some(done) = lane.take() {
        check_lane_end(&heads, done, &mut record);
    }
    // A head whose lane has no entry left: the whole lane was deleted.
    for (head_lane, last_seq, _) in &heads {
        if *last_seq > 0 && !seen_lanes.contains(head_lane) {
            record(ChainBreak { lane: *head_lane, seq: 1, reason: ChainBreakReason::Gap { expected: 1 } });
        }
    }
    Ok(ChainReport { entries, breaks: breaks.into_iter().map(Into::into).collect() })
}

/// A walked lane must end where its head says: otherwise its tail was cut off.
fn check_lane_end(
    heads: &[(i16, i64, Vec<u8>)],
    (lane, expected_seq, prev): (i16, i64, Vec<u8>),
    record: &mut impl FnMut(ChainBreak),
) {
    let genesis = (lane, 0, GENESIS.to_vec());
    let (_, last_seq, last_hash) = heads.iter().find(|h| h.0 == lane).unwrap_or(&genesis);
    if *last_seq != expected_seq - 1 || *last_hash != prev {
        record(ChainBreak {
            lane,
            seq: expected_seq,
            reason: ChainBreakReason::Gap { expected: expected_seq },
        });
    }
}

/// Creates the audit log's monthly partitions ahead of time (the app role may call this; the
/// function runs with its owner's rights). Returns how many it created.
pub async fn ensure_partitions(db: &crate::Db, months_ahead: i32) -> StoreResult<i32> {
    Ok(sqlx::query_scalar("select ensure_audit_partitions($1)")
        .bind(months_ahead)
        .fetch_one(db.pool())
        .await?)
}
