//! Needs assessments and the matches made from them (the client organization's rows; a match is
//! also its advisor organization's).

use chrono::{DateTime, Utc};
use domain::marketplace::MatchStatus;
use domain::{AdvisorId, AssessmentId, ClientId, MatchId, OrganizationId};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{Postgres, QueryBuilder};

use crate::cursor::{self, Page};
use crate::query_mode::Mode;
use crate::{Db, StoreError, StoreResult, TenantTx};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Assessment {
    pub id: AssessmentId,
    pub client_id: Option<ClientId>,
    pub business_size: String,
    pub annual_revenue: Option<Decimal>,
    pub industry: Option<String>,
    pub services_needed: Vec<String>,
    pub budget_type: String,
    pub budget_min: Option<Decimal>,
    pub budget_max: Option<Decimal>,
    pub urgency: String,
    pub engagement_length: String,
    pub required_certifications: Vec<String>,
    pub min_years_experience: i32,
    pub languages: Vec<String>,
    pub remote_ok: bool,
    pub created_at: DateTime<Utc>,
}

macro_rules! assessment_columns {
    () => {
        "id, client_id, business_size, annual_revenue, industry, services_needed, budget_type, budget_min,
         budget_max, urgency, engagement_length, required_certifications, min_years_experience, languages,
         remote_ok, created_at"
    };
}

pub async fn create_assessment(tx: &mut TenantTx, a: &Assessment) -> StoreResult<Assessment> {
    let org = tx.org_uuid();
    let created_by = tx.actor().id;
    let saved: Option<Assessment> = sqlx::query_as(concat!(
        "insert into needs_assessments (id, organization_id, client_id, business_size, annual_revenue, industry,
             services_needed, budget_type, budget_min, budget_max, urgency, engagement_length,
             required_certifications, min_years_experience, languages, remote_ok, created_by)
         select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17
         where $3::uuid is null or exists (select 1 from clients where organization_id = $2 and id = $3
                                            and deleted_at is null)
         returning ",
        assessment_columns!()
    ))
    .bind(a.id)
    .bind(org)
    .bind(a.client_id)
    .bind(&a.business_size)
    .bind(a.annual_revenue)
    .bind(&a.industry)
    .bind(&a.services_needed)
    .bind(&a.budget_type)
    .bind(a.budget_min)
    .bind(a.budget_max)
    .bind(&a.urgency)
    .bind(&a.engagement_length)
    .bind(&a.required_certifications)
    .bind(a.min_years_experience)
    .bind(&a.languages)
    .bind(a.remote_ok)
    .bind(created_by)
    .fetch_optional(tx.conn())
    .await?;
    saved.ok_or(StoreError::NotFound)
}

pub async fn assessment(tx: &mut TenantTx, id: AssessmentId) -> StoreResult<Assessment> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        assessment_columns!(),
        " from needs_assessments where organization_id = $1 and id = $2"
    ))
    .bind(org)
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

#[derive(Serialize, serde::Deserialize)]
struct AssessmentKey(DateTime<Utc>, AssessmentId);

/// The organization's assessments, newest first.
pub async fn list_assessments(
    tx: &mut TenantTx,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<Assessment>> {
    let org = tx.org_uuid();
    let after: Option<AssessmentKey> = after.map(cursor::decode).transpose()?;
    let (t, id) = after.map(|k| (Some(k.0), Some(k.1))).unwrap_or((None, None));
    let rows: Vec<Assessment> = sqlx::query_as(concat!(
        "select ",
        assessment_columns!(),
        " from needs_assessments where organization_id = $1
           and ($2::timestamptz is null or (created_at, id) < ($2, $3))
         order by created_at desc, id desc limit $4"
    ))
    .bind(org)
    .bind(t)
    .bind(id)
    .bind(limit as i64 + 1)
    .fetch_all(tx.conn())
    .await?;
    Ok(Page::from_overfetch(rows, limit, |a| AssessmentKey(a.created_at, a.id)))
}

/// A listing row as matching needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CandidateRow {
    pub advisor_id: AdvisorId,
    pub industries: Vec<String>,
    pub services: Vec<String>,
    pub certifications: Vec<String>,
    pub years_experience: i32,
    pub rating: Decimal,
    pub max_clients: i32,
    pub current_clients: i32,
    pub hourly_rate: Option<Decimal>,
    pub retainer_min: Option<Decimal>,
    pub retainer_max: Option<Decimal>,
    pub project_rate_min: Option<Decimal>,
}

/// The hard filters of matching, in SQL: available now, offering at least one needed service,
/// holding every required certification, experienced enough, speaking a needed language, on site
/// when the client needs that. The best-rated candidates first, at most `limit`.
pub async fn candidates(db: &Db, a: &Assessment, limit: i64) -> StoreResult<Vec<CandidateRow>> {
    let mut qb = candidates_query(Mode::Run, a, limit);
    Ok(qb.build_query_as().fetch_all(db.pool()).await?)
}

pub(crate) fn candidates_query(mode: Mode, a: &Assessment, limit: i64) -> QueryBuilder<Postgres> {
    let mut qb = mode.builder(
        "select advisor_id, industries, services, certifications, years_experience, rating, max_clients,
                current_clients, hourly_rate, retainer_min, retainer_max, project_rate_min
         from marketplace_listings where available_now and services && ",
    );
    qb.push_bind(a.services_needed.clone());
    if !a.required_certifications.is_empty() {
        qb.push(" and certifications @> ").push_bind(a.required_certifications.clone());
    }
    if a.min_years_experience > 0 {
        qb.push(" and years_experience >= ").push_bind(a.min_years_experience);
    }
    if !a.languages.is_empty() {
        qb.push(" and languages && ").push_bind(a.languages.clone());
    }
    if !a.remote_ok {
        qb.push(" and not remote_only");
    }
    qb.push(" order by rating desc, review_count desc, advisor_id limit ").push_bind(limit);
    qb
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Match {
    pub id: MatchId,
    pub assessment_id: AssessmentId,
    pub advisor_id: AdvisorId,
    pub organization_id: OrganizationId,
    pub advisor_organization_id: OrganizationId,
    pub score: Decimal,
    pub breakdown: serde_json::Value,
    pub algorithm_version: String,
    pub rank: i32,
    pub status: MatchStatus,
    pub status_changed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

macro_rules! match_columns {
    () => {
        "id, assessment_id, advisor_id, organization_id, advisor_organization_id, score, breakdown,
         algorithm_version, rank, status, status_changed_at, expires_at, created_at"
    };
}

pub struct NewMatch {
    pub id: MatchId,
    pub advisor: AdvisorId,
    pub score: Decimal,
    pub breakdown: serde_json::Value,
    pub rank: i32,
}

/// Saves the top matches of an assessment (replacing earlier suggestions that were never acted
/// on); the advisor's organization is looked up from the profile.
pub async fn save_matches(
    tx: &mut TenantTx,
    assessment: AssessmentId,
    matches: &[NewMatch],
    version: &str,
    expires_at: DateTime<Utc>,
) -> StoreResult<Vec<Match>> {
    let org = tx.org_uuid();
    sqlx::query("delete from advisor_matches where organization_id = $1 and assessment_id = $2 and status = 'suggested'")
        .bind(org)
        .bind(assessment)
        .execute(tx.conn())
        .await?;
    let ids: Vec<MatchId> = matches.iter().map(|m| m.id).collect();
    let advisors: Vec<AdvisorId> = matches.iter().map(|m| m.advisor).collect();
    let scores: Vec<Decimal> = matches.iter().map(|m| m.score).collect();
    let breakdowns: Vec<serde_json::Value> = matches.iter().map(|m| m.breakdown.clone()).collect();
    let ranks: Vec<i32> = matches.iter().map(|m| m.rank).collect();
    // The advisor's organization comes from the listing (the client cannot read another
    // organization's profile row); an advisor no longer listed is skipped.
    Ok(sqlx::query_as(concat!(
        "insert into advisor_matches (id, organization_id, assessment_id, advisor_id, advisor_organization_id,
             score, breakdown, algorithm_version, rank, expires_at)
         select m.id, $1, $2, m.advisor, l.advisor_organization_id, m.score, m.breakdown, $3, m.rank, $4
         from unnest($5::uuid[], $6::uuid[], $7::numeric[], $8::jsonb[], $9::int[])
              as m(id, advisor, score, breakdown, rank)
         join marketplace_listings l on l.advisor_id = m.advisor
         on conflict (assessment_id, advisor_id) do nothing
         returning ",
        match_columns!()
    ))
    .bind(org)
    .bind(assessment)
    .bind(version)
    .bind(expires_at)
    .bind(&ids)
    .bind(&advisors)
    .bind(&scores)
    .bind(&breakdowns)
    .bind(&ranks)
    .fetch_all(tx.conn())
    .await?)
}

pub async fn matches_of_assessment(tx: &mut TenantTx, assessment: AssessmentId) -> StoreResult<Vec<Match>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        match_columns!(),
        " from advisor_matches where organization_id = $1 and assessment_id = $2 order by rank"
    ))
    .bind(org)
    .bind(assessment)
    .fetch_all(tx.conn())
    .await?)
}

/// Matches addressed to the caller's organization's advisors, newest first.
pub async fn matches_for_advisors(tx: &mut TenantTx, limit: i64) -> StoreResult<Vec<Match>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        match_columns!(),
        " from advisor_matches where advisor_organization_id = $1 and status not in ('suggested', 'viewed')
         order by created_at desc limit $2"
    ))
    .bind(org)
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

/// A match the caller's organization is a party to, locked for a status change.
pub async fn match_for_update(tx: &mut TenantTx, id: MatchId) -> StoreResult<Match> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        match_columns!(),
        " from advisor_matches where id = $1 and (organization_id = $2 or advisor_organization_id = $2) for update"
    ))
    .bind(id)
    .bind(org)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn set_match_status(
    tx: &mut TenantTx,
    id: MatchId,
    from: MatchStatus,
    to: MatchStatus,
) -> StoreResult<Match> {
    sqlx::query_as(concat!(
        "update advisor_matches set status = $3, status_changed_at = now() where id = $1 and status = $2 returning ",
        match_columns!()
    ))
    .bind(id)
    .bind(from)
    .bind(to)
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| StoreError::Conflict("match status changed concurrently".into()))
}
