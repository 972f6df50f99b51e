//! One sync run of one connection: full or incremental, resumable, idempotent.
//!
//! **Full**: every kind read by paged query (`EntityPager`), kinds started as soon as the kinds
//! they reference are done (the DAG of `EntityKind::depends_on`; independent kinds run
//! concurrently, all sharing the realm's limiter). Each page is stored in one transaction with the
//! kind's next position, the run's counts and progress: an interrupted run resumes at the page
//! after the last one committed. When a kind is read to the end, the server time of its first
//! page becomes its CDC watermark, and the rows the run did not see are removed (id
//! reconciliation: deletions CDC can no longer report).
//!
//! **Incremental**: one CDC call for the kinds asked (all, or a webhook's), from the oldest of
//! their watermarks; upserts, tombstones and the new watermark (the answer's server `time`) in one
//! transaction. A truncated answer (1,000 objects) is asked again one kind per call; a kind still
//! truncated alone is re-read by a `MetaData.LastUpdatedTime` window with paging. A kind without a
//! watermark, or one beyond CDC's 30 days, turns the run into a full one.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use domain::{ConnectionStatus, OrganizationId, SyncMode};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use jobs::JobContext;
use quickbooks::{CdcResponse, CompanyClient, EntityKind, EntityPager, QboError, Query, RealmId};
use store::{Actor, TenantTx};
use uuid::Uuid;

use crate::connections;
use crate::mirror::{self, Applied};
use crate::tokens::ConnectionTokens;
use crate::{QuickBooks, SyncError, SyncResult};

/// What a finished run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    pub mode: Option<SyncMode>,
    pub counts: BTreeMap<EntityKind, Applied>,
    /// API calls of this attempt.
    pub api_calls: u64,
}

/// A run row with its connection: (connection, mode, started, API calls so far, realm, status).
type RunRow = (Uuid, SyncMode, Option<DateTime<Utc>>, i64, String, ConnectionStatus);

/// One attempt at a run.
struct Run {
    qb: QuickBooks,
    org: OrganizationId,
    run: Uuid,
    connection: Uuid,
    realm: RealmId,
    company: CompanyClient,
    /// API calls recorded by earlier attempts.
    calls_before: i64,
    page_size: u32,
}

/// Runs (or resumes) sync run `run_id` of organization `org`. Under a job, `job` is completed in
/// the transaction that marks the run succeeded: while the run shows as waiting or running its
/// job holds the connection's unique key, and once it shows as done the key is free, so a sync
/// asked for right after is queued anew rather than folded into a run that has ended.
pub async fn run(
    qb: &QuickBooks,
    org: OrganizationId,
    run_id: Uuid,
    kinds: Option<&[EntityKind]>,
    job: Option<&JobContext>,
) -> SyncResult<Outcome> {
    let mut tx = TenantTx::begin(qb.db(), org, Actor::system()).await?;
    let row: Option<RunRow> = sqlx::query_as(
        "select r.connection_id, r.mode, r.started_at, r.api_calls, c.realm_id, c.status
         from qbo_sync_runs r join qbo_connections c on c.organization_id = r.organization_id and c.id = r.connection_id
         where r.organization_id = $1 and r.id = $2 for update of r",
    )
    .bind(tx.org_uuid())
    .bind(run_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some((connection, mut mode, started_at, calls_before, realm, status)) = row else {
        return Err(SyncError::NotFound("sync run"));
    };
    if status != ConnectionStatus::Connected {
        return Err(SyncError::ReconnectNeeded(format!("the connection is {status}")));
    }
    let realm = RealmId::parse(&realm).map_err(|e| SyncError::Corrupt(e.to_string()))?;
    sqlx::query(
        "update qbo_sync_runs set status = 'running', attempts = attempts + 1, started_at = coalesce(started_at, now())
         where organization_id = $1 and id = $2",
    )
    .bind(tx.org_uuid())
    .bind(run_id)
    .execute(tx.conn())
    .await?;
    if mode == SyncMode::Full && started_at.is_none() {
        begin_full(&mut tx, connection).await?;
    }
    tx.commit().await?;

    let tokens = std::sync::Arc::new(ConnectionTokens::new(qb.clone(), org, connection));
    let company = qb.client().company(realm.clone(), tokens);
    let page_size = qb.config().page_size.clamp(1, 1000);
    let run = Run { qb: qb.clone(), org, run: run_id, connection, realm, company, calls_before, page_size };
    let mut counts = BTreeMap::new();
    if mode == SyncMode::Incremental {
        let kinds: Vec<EntityKind> = kinds.map_or_else(|| EntityKind::LISTED.to_vec(), <[_]>::to_vec);
        match run.incremental(&kinds, &mut counts).await {
            Ok(()) => {}
            Err(SyncError::Qbo(QboError::CdcLookbackExceeded { .. }))
            | Err(SyncError::NotFound("watermark")) => {
                tracing::info!(run = %run_id, "incremental sync needs a full sync first");
                let mut tx = run.tx().await?;
                sqlx::query("update qbo_sync_runs set mode = 'full' where organization_id = $1 and id = $2")
                    .bind(tx.org_uuid())
                    .bind(run_id)
                    .execute(tx.conn())
                    .await?;
                begin_full(&mut tx, connection).await?;
                tx.commit().await?;
                mode = SyncMode::Full;
            }
            Err(other) => return Err(other),
        }
    }
    if mode == SyncMode::Full {
        run.full(&mut counts).await?;
    }
    run.finish(mode, job).await?;
    Ok(Outcome { mode: Some(mode), counts, api_calls: run.company.api_calls() })
}

/// Sets every kind of `connection` to be read from position 1.
async fn begin_full(tx: &mut TenantTx, connection: Uuid) -> SyncResult<()> {
    let kinds: Vec<&str> = EntityKind::ALL.iter().map(|k| k.name()).collect();
    sqlx::query(
        "insert into qbo_sync_state (organization_id, connection_id, entity, full_position, pending_watermark)
         select $1, $2, k, 1, null from unnest($3::text[]) as k
         on conflict (organization_id, connection_id, entity) do update
             set full_position = 1, pending_watermark = null, updated_at = now()",
    )
    .bind(tx.org_uuid())
    .bind(connection)
    .bind(&kinds)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A page's effect on the run row: counts, progress, API calls.
struct PageNote {
    kind: EntityKind,
    applied: Applied,
    progress: serde_json::Value,
}

impl Run {
    async fn tx(&self) -> SyncResult<TenantTx> {
        Ok(TenantTx::begin(self.qb.db(), self.org, Actor::system()).await?)
    }

    fn api_calls(&self) -> i64 {
        self.calls_before + i64::try_from(self.company.api_calls()).unwrap_or(i64::MAX)
    }

    async fn note(&self, tx: &mut TenantTx, note: PageNote) -> SyncResult<()> {
        sqlx::query(
            "update qbo_sync_runs set
                 counts = counts || jsonb_build_object($3::text, jsonb_build_object(
                     'upserted', coalesce((counts -> $3 ->> 'upserted')::bigint, 0) + $4,
                     'unchanged', coalesce((counts -> $3 ->> 'unchanged')::bigint, 0) + $5,
                     'deleted', coalesce((counts -> $3 ->> 'deleted')::bigint, 0) + $6)),
                 progress = progress || jsonb_build_object($3::text, $7::jsonb),
                 api_calls = greatest(api_calls, $8)
             where organization_id = $1 and id = $2",
        )
        .bind(tx.org_uuid())
        .bind(self.run)
        .bind(note.kind.name())
        .bind(note.applied.upserted as i64)
        .bind(note.applied.unchanged as i64)
        .bind(note.applied.deleted as i64)
        .bind(note.progress)
        .bind(self.api_calls())
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    async fn full(&self, counts: &mut BTreeMap<EntityKind, Applied>) -> SyncResult<()> {
        let mut pending: Vec<EntityKind> = EntityKind::ALL.to_vec();
        let mut done: HashSet<EntityKind> = HashSet::new();
        let mut running = FuturesUnordered::new();
        loop {
            let (ready, rest): (Vec<_>, Vec<_>) =
                pending.into_iter().partition(|k| k.depends_on().iter().all(|d| done.contains(d)));
            pending = rest;
            for kind in ready {
                running.push(async move { (kind, self.full_kind(kind).await) });
            }
            match running.next().await {
                None => break,
                Some((kind, result)) => {
                    counts.insert(kind, result?);
                    done.insert(kind);
                }
            }
        }
        Ok(())
    }

    /// Reads one kind from its stored position to the end.
    async fn full_kind(&self, kind: EntityKind) -> SyncResult<Applied> {
        let mut total = Applied::default();
        let mut tx = self.tx().await?;
        let position: Option<Option<i64>> = sqlx::query_scalar(
            "select full_position from qbo_sync_state where organization_id = $1 and connection_id = $2 and entity = $3",
        )
        .bind(tx.org_uuid())
        .bind(self.connection)
        .bind(kind.name())
        .fetch_optional(tx.conn())
        .await?;
        tx.rollback().await?;
        let Some(Some(position)) = position else { return Ok(total) };
        if kind == EntityKind::CompanyInfo {
            let record = self.company.company_info().await?;
            let mut tx = self.tx().await?;
            let applied = mirror::upsert(
                &mut tx,
                self.connection,
                self.realm.as_str(),
                kind,
                std::slice::from_ref(&record),
            )
            .await?;
            if let quickbooks::Entity::CompanyInfo(info) = &record.entity {
                sqlx::query("update qbo_connections set company_name = left($3, 300) where organization_id = $1 and id = $2")
                    .bind(tx.org_uuid())
                    .bind(self.connection)
                    .bind(&info.company_name)
                    .execute(tx.conn())
                    .await?;
            }
            self.kind_done(&mut tx, kind, None).await?;
            self.note(
                &mut tx,
                PageNote { kind, applied, progress: serde_json::json!({"done": true, "read": 1}) },
            )
            .await?;
            tx.commit().await?;
            return Ok(applied);
        }
        let mut pager = EntityPager::new(kind).page_size(self.page_size).resume_at(position as u64);
        let mut read = 0u64;
        while let Some(page) = pager.next_page(&self.company).await? {
            let mut tx = self.tx().await?;
            let mut applied =
                mirror::upsert(&mut tx, self.connection, self.realm.as_str(), kind, &page.records).await?;
            mirror::mark_seen(&mut tx, self.realm.as_str(), kind, self.run, &page.records).await?;
            read += page.records.len() as u64;
            match pager.position() {
                Some(next) => {
                    sqlx::query(
                        "update qbo_sync_state set full_position = $4, pending_watermark = coalesce(pending_watermark, $5),
                             updated_at = now()
                         where organization_id = $1 and connection_id = $2 and entity = $3",
                    )
                    .bind(tx.org_uuid())
                    .bind(self.connection)
                    .bind(kind.name())
                    .bind(next as i64)
                    .bind(page.time)
                    .execute(tx.conn())
                    .await?;
                }
                None => {
                    applied.deleted +=
                        mirror::remove_unseen(&mut tx, self.realm.as_str(), kind, self.run).await?;
                    self.kind_done(&mut tx, kind, page.time).await?;
                }
            }
            let progress = serde_json::json!({"position": pager.position(), "done": pager.position().is_none(), "read": read});
            self.note(&mut tx, PageNote { kind, applied, progress }).await?;
            tx.commit().await?;
            total.upserted += applied.upserted;
            total.unchanged += applied.unchanged;
            total.deleted += applied.deleted;
        }
        Ok(total)
    }

    /// A kind read to the end: its watermark becomes the time of its read's first page.
    async fn kind_done(
        &self,
        tx: &mut TenantTx,
        kind: EntityKind,
        last_page_time: Option<DateTime<Utc>>,
    ) -> SyncResult<()> {
        sqlx::query(
            "update qbo_sync_state set full_position = null,
                 watermark = coalesce(pending_watermark, $4, now()), pending_watermark = null,
                 full_completed_at = now(), updated_at = now()
             where organization_id = $1 and connection_id = $2 and entity = $3",
        )
        .bind(tx.org_uuid())
        .bind(self.connection)
        .bind(kind.name())
        .bind(last_page_time)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    async fn watermarks(&self, kinds: &[EntityKind]) -> SyncResult<BTreeMap<EntityKind, DateTime<Utc>>> {
        let mut tx = self.tx().await?;
        let rows: Vec<(String, Option<DateTime<Utc>>)> = sqlx::query_as(
            "select entity, watermark from qbo_sync_state where organization_id = $1 and connection_id = $2",
        )
        .bind(tx.org_uuid())
        .bind(self.connection)
        .fetch_all(tx.conn())
        .await?;
        tx.rollback().await?;
        let stored: BTreeMap<String, Option<DateTime<Utc>>> = rows.into_iter().collect();
        kinds
            .iter()
            .map(|k| match stored.get(k.name()).copied().flatten() {
                Some(w) => Ok((*k, w)),
                None => Err(SyncError::NotFound("watermark")),
            })
            .collect()
    }

    async fn incremental(
        &self,
        kinds: &[EntityKind],
        counts: &mut BTreeMap<EntityKind, Applied>,
    ) -> SyncResult<()> {
        let watermarks = self.watermarks(kinds).await?;
        let since = watermarks.values().min().copied().ok_or(SyncError::NotFound("watermark"))?;
        let response = self.company.cdc(kinds, since).await?;
        if !response.is_truncated() {
            return self.apply_cdc(kinds, &response, counts).await;
        }
        if kinds.len() > 1 {
            tracing::info!(run = %self.run, "CDC answer truncated; asking one kind at a time");
            for kind in kinds {
                Box::pin(self.incremental(std::slice::from_ref(kind), counts)).await?;
            }
            return Ok(());
        }
        self.windowed(kinds[0], since, &response, counts).await
    }

    async fn apply_cdc(
        &self,
        kinds: &[EntityKind],
        response: &CdcResponse,
        counts: &mut BTreeMap<EntityKind, Applied>,
    ) -> SyncResult<()> {
        let mut tx = self.tx().await?;
        for kind in kinds {
            let mut applied = Applied::default();
            if let Some(changes) = response.changes_for(*kind) {
                applied =
                    mirror::upsert(&mut tx, self.connection, self.realm.as_str(), *kind, &changes.upserts)
                        .await?;
                applied.deleted =
                    mirror::delete(&mut tx, self.realm.as_str(), *kind, &changes.deletes).await?;
            }
            let entry = counts.entry(*kind).or_default();
            entry.upserted += applied.upserted;
            entry.unchanged += applied.unchanged;
            entry.deleted += applied.deleted;
            let progress = serde_json::json!({"done": true, "watermark": response.time});
            self.note(&mut tx, PageNote { kind: *kind, applied, progress }).await?;
        }
        self.set_watermark(&mut tx, kinds, response.time).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_watermark(
        &self,
        tx: &mut TenantTx,
        kinds: &[EntityKind],
        time: DateTime<Utc>,
    ) -> SyncResult<()> {
        let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
        sqlx::query(
            "update qbo_sync_state set watermark = $4, updated_at = now()
             where organization_id = $1 and connection_id = $2 and entity = any($3)",
        )
        .bind(tx.org_uuid())
        .bind(self.connection)
        .bind(&names)
        .bind(time)
        .execute(tx.conn())
        .await?;
        Ok(())
    }

    /// One kind changed more than CDC returns at once: its tombstones from the truncated answer,
    /// then every record updated since `since` by paged query; the watermark is the time of the
    /// CDC answer (every change up to it is covered by the query, which started later).
    async fn windowed(
        &self,
        kind: EntityKind,
        since: DateTime<Utc>,
        truncated: &CdcResponse,
        counts: &mut BTreeMap<EntityKind, Applied>,
    ) -> SyncResult<()> {
        tracing::info!(run = %self.run, kind = kind.name(), "CDC truncated for one kind; reading a LastUpdatedTime window");
        let mut pager = EntityPager::over(Query::select(kind).include_inactive().updated_since(since))
            .page_size(self.page_size);
        let mut tx = self.tx().await?;
        let mut applied = Applied::default();
        if let Some(changes) = truncated.changes_for(kind) {
            applied.deleted = mirror::delete(&mut tx, self.realm.as_str(), kind, &changes.deletes).await?;
        }
        tx.commit().await?;
        while let Some(page) = pager.next_page(&self.company).await? {
            let mut tx = self.tx().await?;
            let page_applied =
                mirror::upsert(&mut tx, self.connection, self.realm.as_str(), kind, &page.records).await?;
            applied.upserted += page_applied.upserted;
            applied.unchanged += page_applied.unchanged;
            let progress =
                serde_json::json!({"position": pager.position(), "done": pager.position().is_none()});
            self.note(&mut tx, PageNote { kind, applied: page_applied, progress }).await?;
            tx.commit().await?;
        }
        let mut tx = self.tx().await?;
        self.set_watermark(&mut tx, &[kind], truncated.time).await?;
        tx.commit().await?;
        let entry = counts.entry(kind).or_default();
        entry.upserted += applied.upserted;
        entry.unchanged += applied.unchanged;
        entry.deleted += applied.deleted;
        Ok(())
    }

    async fn finish(&self, mode: SyncMode, job: Option<&JobContext>) -> SyncResult<()> {
        let mut tx = self.tx().await?;
        sqlx::query(
            "update qbo_sync_runs set status = 'succeeded', finished_at = now(), api_calls = greatest(api_calls, $3)
             where organization_id = $1 and id = $2",
        )
        .bind(tx.org_uuid())
        .bind(self.run)
        .bind(self.api_calls())
        .execute(tx.conn())
        .await?;
        let column = match mode {
            SyncMode::Full => "last_full_sync_at",
            SyncMode::Incremental => "last_incremental_sync_at",
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "update qbo_connections set {column} = now() where organization_id = $1 and id = $2"
        )))
        .bind(tx.org_uuid())
        .bind(self.connection)
        .execute(tx.conn())
        .await?;
        if let Some(job) = job {
            job.complete_in(tx.conn()).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Records a failed attempt on the run: the error, the API calls, and — when no attempt follows —
/// the final status. An error only a new connection can cure (Intuit refusing the tokens or the
/// company) marks the connection `reconnect_needed` in the same transaction, which also stops its
/// scheduled and webhook syncs.
pub async fn record_failure(
    qb: &QuickBooks,
    org: OrganizationId,
    run: Uuid,
    error: &SyncError,
    last: bool,
) -> SyncResult<()> {
    let mut tx = TenantTx::begin(qb.db(), org, Actor::system()).await?;
    let entry = serde_json::json!({"at": Utc::now(), "error": error.to_string(), "final": last});
    let connection: Option<Uuid> = sqlx::query_scalar(
        "update qbo_sync_runs set errors = errors || jsonb_build_array($3::jsonb),
             status = case when $4 then 'failed' else status end,
             finished_at = case when $4 then now() else finished_at end
         where organization_id = $1 and id = $2
         returning connection_id",
    )
    .bind(tx.org_uuid())
    .bind(run)
    .bind(entry)
    .bind(last)
    .fetch_optional(tx.conn())
    .await?;
    if let Some(connection) = connection.filter(|_| error.needs_reconnect()) {
        connections::mark_reconnect_needed(&mut tx, connection, &error.to_string()).await?;
    }
    tx.commit().await?;
    Ok(())
}
