//! The advisor marketplace: profiles (the advisor organization's, under row-level security), the
//! public listing and reviews (public by design, no tenant needed to read), needs assessments and
//! matches (the client organization's; a match is also its advisor's).

use chrono::{DateTime, Utc};
use domain::marketplace::{MatchStatus, ProfileStatus};
use domain::{AdvisorId, AssessmentId, ClientId, MatchId, OrganizationId, ReviewId, UserId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};

use crate::cursor::{self, InvalidCursor, Page};
use crate::plans::Mode;
use crate::{AuditRecord, Db, StoreError, StoreResult, TenantTx};

// ---------------------------------------------------------------------------------------------
// Profiles (tenant data)

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Profile {
    pub id: AdvisorId,
    pub organization_id: OrganizationId,
    pub user_id: UserId,
    pub display_name: String,
    pub title: String,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub years_experience: i32,
    pub certifications: Vec<String>,
    pub industries: Vec<String>,
    pub services: Vec<String>,
    pub business_sizes: Vec<String>,
    pub languages: Vec<String>,
    pub timezone: Option<String>,
    pub remote_only: bool,
    pub hourly_rate: Option<Decimal>,
    pub retainer_min: Option<Decimal>,
    pub retainer_max: Option<Decimal>,
    pub project_rate_min: Option<Decimal>,
    pub pricing_models: Vec<String>,
    pub max_clients: i32,
    pub current_clients: i32,
    pub is_available: bool,
    pub status: ProfileStatus,
    pub status_reason: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

macro_rules! profile_columns {
    () => {
        "id, organization_id, user_id, display_name, title, headline, bio, years_experience, certifications,
         industries, services, business_sizes, languages, timezone, remote_only, hourly_rate, retainer_min,
         retainer_max, project_rate_min, pricing_models, max_clients, current_clients, is_available, status,
         status_reason, verified_at, created_at, updated_at"
    };
}

/// The editable fields of a profile (all set on create; `None` leaves a field on update).
#[derive(Debug, Clone, Default)]
pub struct ProfileFields {
    pub display_name: Option<String>,
    pub title: Option<String>,
    pub headline: Option<Option<String>>,
    pub bio: Option<Option<String>>,
    pub years_experience: Option<i32>,
    pub certifications: Option<Vec<String>>,
    pub industries: Option<Vec<String>>,
    pub services: Option<Vec<String>>,
    pub business_sizes: Option<Vec<String>>,
    pub languages: Option<Vec<String>>,
    pub timezone: Option<Option<String>>,
    pub remote_only: Option<bool>,
    pub hourly_rate: Option<Option<Decimal>>,
    pub retainer_min: Option<Option<Decimal>>,
    pub retainer_max: Option<Option<Decimal>>,
    pub project_rate_min: Option<Option<Decimal>>,
    pub pricing_models: Option<Vec<String>>,
    pub max_clients: Option<i32>,
}

/// Creates the caller's profile (status `pending`). A second profile for one user is
/// `Conflict("advisor_profiles_user_id_key")`.
pub async fn create_profile(
    tx: &mut TenantTx,
    id: AdvisorId,
    user: UserId,
    f: &ProfileFields,
) -> StoreResult<Profile> {
    let org = tx.org_uuid();
    let p: Profile = sqlx::query_as(concat!(
        "insert into advisor_profiles (id, organization_id, user_id, display_name, title, headline, bio,
             years_experience, certifications, industries, services, business_sizes, languages, timezone,
             remote_only, hourly_rate, retainer_min, retainer_max, project_rate_min, pricing_models, max_clients)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
         returning ",
        profile_columns!()
    ))
    .bind(id)
    .bind(org)
    .bind(user)
    .bind(&f.display_name)
    .bind(&f.title)
    .bind(f.headline.clone().flatten())
    .bind(f.bio.clone().flatten())
    .bind(f.years_experience.unwrap_or(0))
    .bind(f.certifications.clone().unwrap_or_default())
    .bind(f.industries.clone().unwrap_or_default())
    .bind(f.services.clone().unwrap_or_default())
    .bind(f.business_sizes.clone().unwrap_or_default())
    .bind(f.languages.clone().unwrap_or_else(|| vec!["en".to_owned()]))
    .bind(f.timezone.clone().flatten())
    .bind(f.remote_only.unwrap_or(false))
    .bind(f.hourly_rate.flatten())
    .bind(f.retainer_min.flatten())
    .bind(f.retainer_max.flatten())
    .bind(f.project_rate_min.flatten())
    .bind(f.pricing_models.clone().unwrap_or_default())
    .bind(f.max_clients.unwrap_or(15))
    .fetch_one(tx.conn())
    .await?;
    tx.audit(AuditRecord::new("advisor_profile.create", "advisor_profile", id).after(&p));
    Ok(p)
}

pub async fn profile_of_user(tx: &mut TenantTx, user: UserId) -> StoreResult<Option<Profile>> {
    let org = tx.org_uuid();
    Ok(sqlx::query_as(concat!(
        "select ",
        profile_columns!(),
        " from advisor_profiles where organization_id = $1 and user_id = $2"
    ))
    .bind(org)
    .bind(user)
    .fetch_optional(tx.conn())
    .await?)
}

/// A profile by id, locked for a status change. Without the platform flag only the caller's
/// organization's profiles are visible (row-level security).
pub async fn profile_for_update(tx: &mut TenantTx, id: AdvisorId) -> StoreResult<Profile> {
    Ok(sqlx::query_as(concat!(
        "select ",
        profile_columns!(),
        " from advisor_profiles where id = $1 for update"
    ))
    .bind(id)
    .fetch_one(tx.conn())
    .await?)
}

pub async fn update_profile(tx: &mut TenantTx, id: AdvisorId, f: &ProfileFields) -> StoreResult<Profile> {
    let before = profile_for_update(tx, id).await?;
    let after: Profile = sqlx::query_as(concat!(
        "update advisor_profiles set
             display_name = coalesce($2, display_name), title = coalesce($3, title),
             headline = case when $4 then $5 else headline end, bio = case when $6 then $7 else bio end,
             years_experience = coalesce($8, years_experience), certifications = coalesce($9, certifications),
             industries = coalesce($10, industries), services = coalesce($11, services),
             business_sizes = coalesce($12, business_sizes), languages = coalesce($13, languages),
             timezone = case when $14 then $15 else timezone end, remote_only = coalesce($16, remote_only),
             hourly_rate = case when $17 then $18 else hourly_rate end,
             retainer_min = case when $19 then $20 else retainer_min end,
             retainer_max = case when $21 then $22 else retainer_max end,
             project_rate_min = case when $23 then $24 else project_rate_min end,
             pricing_models = coalesce($25, pricing_models), max_clients = coalesce($26, max_clients)
         where id = $1 returning ",
        profile_columns!()
    ))
    .bind(id)
    .bind(&f.display_name)
    .bind(&f.title)
    .bind(f.headline.is_some())
    .bind(f.headline.clone().flatten())
    .bind(f.bio.is_some())
    .bind(f.bio.clone().flatten())
    .bind(f.years_experience)
    .bind(&f.certifications)
    .bind(&f.industries)
    .bind(&f.services)
    .bind(&f.business_sizes)
    .bind(&f.languages)
    .bind(f.timezone.is_some())
    .bind(f.timezone.clone().flatten())
    .bind(f.remote_only)
    .bind(f.hourly_rate.is_some())
    .bind(f.hourly_rate.flatten())
    .bind(f.retainer_min.is_some())
    .bind(f.retainer_min.flatten())
    .bind(f.retainer_max.is_some())
    .bind(f.retainer_max.flatten())
    .bind(f.project_rate_min.is_some())
    .bind(f.project_rate_min.flatten())
    .bind(&f.pricing_models)
    .bind(f.max_clients)
    .fetch_one(tx.conn())
    .await?;
    tx.audit(AuditRecord::new("advisor_profile.update", "advisor_profile", id).before(&before).after(&after));
    Ok(after)
}

pub async fn set_availability(
    tx: &mut TenantTx,
    id: AdvisorId,
    is_available: Option<bool>,
    current_clients: Option<i32>,
) -> StoreResult<Profile> {
    let before = profile_for_update(tx, id).await?;
    let after: Profile = sqlx::query_as(concat!(
        "update advisor_profiles set is_available = coalesce($2, is_available),
             current_clients = coalesce($3, current_clients)
         where id = $1 returning ",
        profile_columns!()
    ))
    .bind(id)
    .bind(is_available)
    .bind(current_clients)
    .fetch_one(tx.conn())
    .await?;
    tx.audit(
        AuditRecord::new("advisor_profile.availability", "advisor_profile", id)
            .before(serde_json::json!({
                "is_available": before.is_available, "current_clients": before.current_clients,
            }))
            .after(serde_json::json!({
                "is_available": after.is_available, "current_clients": after.current_clients,
            })),
    );
    Ok(after)
}

/// Moves a profile along its lifecycle (the caller checked the move); approval stamps verification.
pub async fn set_profile_status(
    tx: &mut TenantTx,
    id: AdvisorId,
    from: ProfileStatus,
    to: ProfileStatus,
    reason: Option<&str>,
) -> StoreResult<Profile> {
    let verifier = tx.actor().id;
    let after: Option<Profile> = sqlx::query_as(concat!(
        "update advisor_profiles set status = $3, status_reason = $4,
             verified_at = case when $3 = 'active' and verified_at is null then now() else verified_at end,
             verified_by = case when $3 = 'active' and verified_at is null then $5 else verified_by end
         where id = $1 and status = $2 returning ",
        profile_columns!()
    ))
    .bind(id)
    .bind(from)
    .bind(to)
    .bind(reason)
    .bind(verifier)
    .fetch_optional(tx.conn())
    .await?;
    let after = after.ok_or_else(|| StoreError::Conflict("profile status changed concurrently".into()))?;
    tx.audit(
        AuditRecord::new("advisor_profile.status", "advisor_profile", id)
            .before(serde_json::json!({ "status": from }))
            .after(serde_json::json!({ "status": to, "reason": reason })),
    );
    Ok(after)
}

/// Profiles waiting for verification, oldest first (platform administrators).
pub async fn review_queue(tx: &mut TenantTx, limit: i64) -> StoreResult<Vec<Profile>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        profile_columns!(),
        " from advisor_profiles where status = 'under_review' order by updated_at limit $1"
    ))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?)
}

// ---------------------------------------------------------------------------------------------
// The public listing

/// An advisor as search results show it (no bio).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ListingSummary {
    pub advisor_id: AdvisorId,
    pub display_name: String,
    pub title: String,
    pub headline: Option<String>,
    pub years_experience: i32,
    pub certifications: Vec<String>,
    pub industries: Vec<String>,
    pub services: Vec<String>,
    pub languages: Vec<String>,
    pub remote_only: bool,
    pub hourly_rate: Option<Decimal>,
    pub retainer_min: Option<Decimal>,
    pub retainer_max: Option<Decimal>,
    pub rating: Decimal,
    pub review_count: i32,
    pub available_now: bool,
    pub listed_at: DateTime<Utc>,
}

macro_rules! summary_columns {
    () => {
        "advisor_id, display_name, title, headline, years_experience, certifications, industries, services,
         languages, remote_only, hourly_rate, retainer_min, retainer_max, rating, review_count, available_now,
         listed_at"
    };
}

/// Everything public about an advisor.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Listing {
    pub advisor_id: AdvisorId,
    pub display_name: String,
    pub title: String,
    pub headline: Option<String>,
    pub bio: Option<String>,
    pub years_experience: i32,
    pub certifications: Vec<String>,
    pub industries: Vec<String>,
    pub services: Vec<String>,
    pub business_sizes: Vec<String>,
    pub languages: Vec<String>,
    pub timezone: Option<String>,
    pub remote_only: bool,
    pub hourly_rate: Option<Decimal>,
    pub retainer_min: Option<Decimal>,
    pub retainer_max: Option<Decimal>,
    pub project_rate_min: Option<Decimal>,
    pub pricing_models: Vec<String>,
    pub max_clients: i32,
    pub current_clients: i32,
    pub is_available: bool,
    pub available_now: bool,
    pub rating: Decimal,
    pub review_count: i32,
    pub listed_at: DateTime<Utc>,
}

impl Listing {
    /// The advisor as a list shows it.
    pub fn summary(&self) -> ListingSummary {
        ListingSummary {
            advisor_id: self.advisor_id,
            display_name: self.display_name.clone(),
            title: self.title.clone(),
            headline: self.headline.clone(),
            years_experience: self.years_experience,
            certifications: self.certifications.clone(),
            industries: self.industries.clone(),
            services: self.services.clone(),
            languages: self.languages.clone(),
            remote_only: self.remote_only,
            hourly_rate: self.hourly_rate,
            retainer_min: self.retainer_min,
            retainer_max: self.retainer_max,
            rating: self.rating,
            review_count: self.review_count,
            available_now: self.available_now,
            listed_at: self.listed_at,
        }
    }
}

macro_rules! listing_columns {
    () => {
        "advisor_id, display_name, title, headline, bio, years_experience, certifications, industries, services,
         business_sizes, languages, timezone, remote_only, hourly_rate, retainer_min, retainer_max,
         project_rate_min, pricing_models, max_clients, current_clients, is_available, available_now, rating,
         review_count, listed_at"
    };
}

/// `any`: at least one of the values; `all`: every one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArrayMatch {
    #[default]
    Any,
    All,
}

#[derive(Debug, Clone, Default)]
pub struct ListingFilter {
    pub industries: Vec<String>,
    pub industries_match: ArrayMatch,
    pub services: Vec<String>,
    pub services_match: ArrayMatch,
    /// All of these.
    pub certifications: Vec<String>,
    pub min_rating: Option<Decimal>,
    pub max_hourly_rate: Option<Decimal>,
    /// The advisor's retainer range overlaps this one.
    pub retainer_min: Option<Decimal>,
    pub retainer_max: Option<Decimal>,
    pub min_years: Option<i32>,
    pub business_size: Option<String>,
    pub language: Option<String>,
    pub remote_only: Option<bool>,
    pub available_now: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingSort {
    /// With a text query; otherwise the same as `rating`.
    Relevance,
    #[default]
    Rating,
    Reviews,
    Experience,
    PriceAsc,
    PriceDesc,
    Newest,
}

/// A text query: prefix full text over title, headline and bio; then, to fill the page, the same
/// with each word corrected to the nearest word the listings use (typos).
#[derive(Debug, Clone)]
pub struct ListingQuery {
    /// The query's words, lower-cased.
    pub words: Vec<String>,
    /// The words as prefixes, all required: `word:* & word:*`.
    pub tsquery: String,
}

fn push_listing_filters(qb: &mut QueryBuilder<Postgres>, f: &ListingFilter) {
    let array = |qb: &mut QueryBuilder<Postgres>, col: &str, values: &[String], m: ArrayMatch| {
        if values.is_empty() {
            return;
        }
        let op = match m {
            ArrayMatch::Any => "&&",
            ArrayMatch::All => "@>",
        };
        qb.push(format_args!(" and {col} {op} ")).push_bind(values.to_vec());
    };
    array(qb, "industries", &f.industries, f.industries_match);
    array(qb, "services", &f.services, f.services_match);
    array(qb, "certifications", &f.certifications, ArrayMatch::All);
    if let Some(v) = f.min_rating {
        qb.push(" and rating >= ").push_bind(v);
    }
    if let Some(v) = f.max_hourly_rate {
        qb.push(" and hourly_rate <= ").push_bind(v);
    }
    if let Some(v) = f.retainer_min {
        qb.push(" and retainer_max >= ").push_bind(v);
    }
    if let Some(v) = f.retainer_max {
        qb.push(" and retainer_min <= ").push_bind(v);
    }
    if let Some(v) = f.min_years {
        qb.push(" and years_experience >= ").push_bind(v);
    }
    if let Some(v) = &f.business_size {
        qb.push(" and business_sizes @> ").push_bind(vec![v.clone()]);
    }
    if let Some(v) = &f.language {
        qb.push(" and languages @> ").push_bind(vec![v.clone()]);
    }
    if let Some(v) = f.remote_only {
        qb.push(" and remote_only = ").push_bind(v);
    }
    if f.available_now {
        qb.push(" and available_now");
    }
}

#[derive(Serialize, Deserialize)]
struct ListingKey {
    s: ListingSort,
    /// The sort value(s) of the last row, as decimal strings (rating, count, years, price) or a time.
    a: Option<String>,
    b: Option<i32>,
    t: Option<DateTime<Utc>>,
    id: AdvisorId,
}

/// One page of the listing, filtered and sorted, with a keyset cursor (sorts other than relevance).
pub async fn search_listings(
    db: &Db,
    filter: &ListingFilter,
    sort: ListingSort,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<Page<ListingSummary>> {
    let mut qb = listing_query(Mode::Run, filter, sort, after, limit)?;
    let rows: Vec<ListingSummary> = qb.build_query_as().fetch_all(db.pool()).await?;
    Ok(Page::from_overfetch(rows, limit, |l| listing_key(sort, l)))
}

fn listing_key(sort: ListingSort, l: &ListingSummary) -> ListingKey {
    let (a, b, t) = match sort {
        ListingSort::Relevance | ListingSort::Rating => {
            (Some(l.rating.to_string()), Some(l.review_count), None)
        }
        ListingSort::Reviews => (None, Some(l.review_count), None),
        ListingSort::Experience => (None, Some(l.years_experience), None),
        ListingSort::PriceAsc | ListingSort::PriceDesc => (l.hourly_rate.map(|p| p.to_string()), None, None),
        ListingSort::Newest => (None, None, Some(l.listed_at)),
    };
    ListingKey { s: sort, a, b, t, id: l.advisor_id }
}

pub(crate) fn listing_query(
    mode: Mode,
    filter: &ListingFilter,
    sort: ListingSort,
    after: Option<&str>,
    limit: usize,
) -> StoreResult<QueryBuilder<Postgres>> {
    let sort = if sort == ListingSort::Relevance { ListingSort::Rating } else { sort };
    let mut qb =
        mode.builder(concat!("select ", summary_columns!(), " from marketplace_listings where true"));
    push_listing_filters(&mut qb, filter);
    if matches!(sort, ListingSort::PriceAsc | ListingSort::PriceDesc) {
        qb.push(" and hourly_rate is not null");
    }
    if let Some(k) = after.map(cursor::decode::<ListingKey>).transpose()? {
        if k.s != sort {
            return Err(InvalidCursor.into());
        }
        let dec = |v: &Option<String>| -> StoreResult<Decimal> {
            v.as_deref().and_then(|s| s.parse().ok()).ok_or(StoreError::InvalidCursor(InvalidCursor))
        };
        match sort {
            ListingSort::Relevance | ListingSort::Rating => {
                let (r, c) = (dec(&k.a)?, k.b.ok_or(InvalidCursor)?);
                qb.push(" and (rating < ").push_bind(r).push(" or (rating = ").push_bind(r);
                qb.push(" and (review_count < ").push_bind(c).push(" or (review_count = ").push_bind(c);
                qb.push(" and advisor_id > ").push_bind(k.id).push("))))");
            }
            ListingSort::Reviews | ListingSort::Experience => {
                let col = if sort == ListingSort::Reviews { "review_count" } else { "years_experience" };
                let v = k.b.ok_or(InvalidCursor)?;
                qb.push(format_args!(" and ({col} < ")).push_bind(v);
                qb.push(format_args!(" or ({col} = "))
                    .push_bind(v)
                    .push(" and advisor_id > ")
                    .push_bind(k.id)
                    .push("))");
            }
            ListingSort::PriceAsc => {
                qb.push(" and (hourly_rate, advisor_id) > (")
                    .push_bind(dec(&k.a)?)
                    .push(", ")
                    .push_bind(k.id)
                    .push(")");
            }
            ListingSort::PriceDesc => {
                qb.push(" and (hourly_rate, advisor_id) < (")
                    .push_bind(dec(&k.a)?)
                    .push(", ")
                    .push_bind(k.id)
                    .push(")");
            }
            ListingSort::Newest => {
                let t = k.t.ok_or(InvalidCursor)?;
                qb.push(" and (listed_at < ").push_bind(t).push(" or (listed_at = ").push_bind(t);
                qb.push(" and advisor_id > ").push_bind(k.id).push("))");
            }
        }
    }
    qb.push(match sort {
        ListingSort::Relevance | ListingSort::Rating => {
            " order by rating desc, review_count desc, advisor_id"
        }
        ListingSort::Reviews => " order by review_count desc, advisor_id",
        ListingSort::Experience => " order by years_experience desc, advisor_id",
        ListingSort::PriceAsc => " order by hourly_rate, advisor_id",
        ListingSort::PriceDesc => " order by hourly_rate desc, advisor_id desc",
        ListingSort::Newest => " order by listed_at desc, advisor_id",
    });
    qb.push(" limit ").push_bind(limit as i64 + 1);
    Ok(qb)
}

/// The best text matches: full text ranked, then matches of the typo-corrected query to fill the page.
pub async fn text_search_listings(
    db: &Db,
    filter: &ListingFilter,
    query: &ListingQuery,
    limit: usize,
) -> StoreResult<Vec<ListingSummary>> {
    let mut qb = text_query(Mode::Run, filter, query, false, &[], limit);
    let mut rows: Vec<ListingSummary> = qb.build_query_as().fetch_all(db.pool()).await?;
    if rows.len() < limit {
        let found: Vec<AdvisorId> = rows.iter().map(|l| l.advisor_id).collect();
        let mut qb = text_query(Mode::Run, filter, query, true, &found, limit - rows.len());
        rows.extend(qb.build_query_as::<ListingSummary>().fetch_all(db.pool()).await?);
    }
    Ok(rows)
}

pub(crate) fn text_query(
    mode: Mode,
    filter: &ListingFilter,
    query: &ListingQuery,
    typos: bool,
    exclude: &[AdvisorId],
    limit: usize,
) -> QueryBuilder<Postgres> {
    let mut qb = mode.builder("with q as (select ");
    if typos {
        qb.push("marketplace_corrected_query(").push_bind(query.words.clone()).push(")");
    } else {
        qb.push("to_tsquery('english', ").push_bind(query.tsquery.clone()).push(")");
    }
    qb.push(concat!(
        " as tsq) select * from (select ",
        summary_columns!(),
        ", ts_rank(search, q.tsq) as rank from marketplace_listings, q where search @@ q.tsq"
    ));
    if !exclude.is_empty() {
        qb.push(" and advisor_id <> all(").push_bind(exclude.to_vec()).push(")");
    }
    push_listing_filters(&mut qb, filter);
    // Rank among at most 1,000 candidates: a common word must not rank the whole marketplace.
    qb.push(" limit 1000) m order by rank desc, rating desc, advisor_id limit ").push_bind(limit as i64);
    qb
}

/// How many listings under the current filters fall in each industry, service and rate band.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FacetCount {
    pub facet: String,
    pub value: String,
    pub count: i64,
}

pub async fn facets(
    db: &Db,
    filter: &ListingFilter,
    query: Option<&ListingQuery>,
) -> StoreResult<Vec<FacetCount>> {
    let mut qb = facets_query(Mode::Run, filter, query);
    Ok(qb.build_query_as().fetch_all(db.pool()).await?)
}

pub(crate) fn facets_query(
    mode: Mode,
    filter: &ListingFilter,
    query: Option<&ListingQuery>,
) -> QueryBuilder<Postgres> {
    let mut qb = mode
        .builder("with f as (select industries, services, hourly_rate from marketplace_listings where true");
    if let Some(q) = query {
        qb.push(" and search @@ to_tsquery('english', ").push_bind(q.tsquery.clone()).push(")");
    }
    push_listing_filters(&mut qb, filter);
    qb.push(
        ") select 'industries' as facet, v as value, count(*) as count from f, unnest(f.industries) v group by v
         union all select 'services', v, count(*) from f, unnest(f.services) v group by v
         union all select 'rate_band', case when hourly_rate is null then 'unpriced'
                                            when hourly_rate < 100 then 'under_100'
                                            when hourly_rate < 200 then '100_199'
                                            when hourly_rate < 300 then '200_299'
                                            else '300_plus' end, count(*) from f group by 2
         order by 1, 3 desc, 2",
    );
    qb
}

pub async fn listing(db: &Db, id: AdvisorId) -> StoreResult<Listing> {
    Ok(sqlx::query_as(concat!(
        "select ",
        listing_columns!(),
        " from marketplace_listings where advisor_id = $1"
    ))
    .bind(id)
    .fetch_one(db.pool())
    .await?)
}

pub async fn listings(db: &Db, ids: &[AdvisorId]) -> StoreResult<Vec<Listing>> {
    Ok(sqlx::query_as(concat!(
        "select ",
        listing_columns!(),
        " from marketplace_listings where advisor_id = any($1)"
    ))
    .bind(ids)
    .fetch_all(db.pool())
    .await?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Featured {
    /// Rated 4.5 or more with at least 5 reviews.
    TopRated,
    RecentlyJoined,
    /// Ten years or more, optionally in one industry.
    IndustryExperts,
}

pub async fn featured(
    db: &Db,
    kind: Featured,
    industry: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<ListingSummary>> {
    let mut qb =
        QueryBuilder::new(concat!("select ", summary_columns!(), " from marketplace_listings where true"));
    match kind {
        Featured::TopRated => {
            qb.push(" and rating >= 4.5 and review_count >= 5 order by rating desc, review_count desc, advisor_id");
        }
        Featured::RecentlyJoined => {
            qb.push(" order by listed_at desc, advisor_id");
        }
        Featured::IndustryExperts => {
            qb.push(" and years_experience >= 10");
            if let Some(i) = industry {
                qb.push(" and industries @> ").push_bind(vec![i.to_owned()]);
            }
            qb.push(" order by rating desc, review_count desc, advisor_id");
        }
    }
    qb.push(" limit ").push_bind(limit);
    Ok(qb.build_query_as().fetch_all(db.pool()).await?)
}

/// Published reviews of an advisor, newest first.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct PublishedReview {
    pub id: ReviewId,
    pub overall: i16,
    pub communication: Option<i16>,
    pub responsiveness: Option<i16>,
    pub expertise: Option<i16>,
    pub value: Option<i16>,
    pub professionalism: Option<i16>,
    pub testimonial: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub async fn published_reviews(db: &Db, advisor: AdvisorId, limit: i64) -> StoreResult<Vec<PublishedReview>> {
    Ok(sqlx::query_as(
        "select id, overall, communication, responsiveness, expertise, value, professionalism, testimonial, created_at
         from marketplace_reviews where advisor_id = $1 and is_published order by created_at desc limit $2",
    )
    .bind(advisor)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}

// ---------------------------------------------------------------------------------------------
// Reviews (written by the client organization of an accepted match)

pub struct NewReview<'a> {
    pub id: ReviewId,
    pub advisor: AdvisorId,
    pub match_id: MatchId,
    pub scores: [Option<i16>; 6],
    pub testimonial: Option<&'a str>,
    pub publish: bool,
}

pub async fn create_review(tx: &mut TenantTx, r: NewReview<'_>) -> StoreResult<PublishedReview> {
    let org = tx.org_uuid();
    let [overall, communication, responsiveness, expertise, value, professionalism] = r.scores;
    let review: PublishedReview = sqlx::query_as(
        "insert into marketplace_reviews (id, advisor_id, reviewer_organization_id, match_id, overall, communication,
             responsiveness, expertise, value, professionalism, testimonial, is_published)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         returning id, overall, communication, responsiveness, expertise, value, professionalism, testimonial, created_at",
    )
    .bind(r.id)
    .bind(r.advisor)
    .bind(org)
    .bind(r.match_id)
    .bind(overall)
    .bind(communication)
    .bind(responsiveness)
    .bind(expertise)
    .bind(value)
    .bind(professionalism)
    .bind(r.testimonial)
    .bind(r.publish)
    .fetch_one(tx.conn())
    .await?;
    tx.audit(AuditRecord::new("marketplace_review.create", "marketplace_review", r.id).after(&review));
    Ok(review)
}

// ---------------------------------------------------------------------------------------------
// Needs assessments and matches

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
    let saved = saved.ok_or(StoreError::NotFound)?;
    tx.audit(AuditRecord::new("needs_assessment.create", "needs_assessment", a.id).after(&saved));
    Ok(saved)
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
    let saved: Vec<Match> = sqlx::query_as(concat!(
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
    .await?;
    tx.audit(AuditRecord::new("advisor_match.create", "needs_assessment", assessment).after(
        serde_json::json!({
            "matches": saved.iter().map(|m| (m.advisor_id, m.score)).collect::<Vec<_>>(),
            "algorithm_version": version,
        }),
    ));
    Ok(saved)
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
    let m: Match = sqlx::query_as(concat!(
        "update advisor_matches set status = $3, status_changed_at = now() where id = $1 and status = $2 returning ",
        match_columns!()
    ))
    .bind(id)
    .bind(from)
    .bind(to)
    .fetch_optional(tx.conn())
    .await?
    .ok_or_else(|| StoreError::Conflict("match status changed concurrently".into()))?;
    tx.audit(
        AuditRecord::new("advisor_match.status", "advisor_match", id)
            .before(serde_json::json!({ "status": from }))
            .after(serde_json::json!({ "status": to })),
    );
    Ok(m)
}
