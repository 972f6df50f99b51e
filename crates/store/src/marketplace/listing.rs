//! The public listing of active advisors (public by design, no tenant needed to read): filtered
//! and sorted pages, text search with typo correction, facets, featured lists.

use chrono::{DateTime, Utc};
use domain::AdvisorId;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{Postgres, QueryBuilder};

use crate::cursor::{self, InvalidCursor, Page};
use crate::query_mode::Mode;
use crate::{Db, StoreError, StoreResult};

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
    // Not prepared: planned for its words every time. A common word is found fastest by reading
    // the table until the candidates are full, a rare one through the full-text index; a prepared
    // statement's generic plan knows neither.
    let mut rows: Vec<ListingSummary> = qb.build_query_as().persistent(false).fetch_all(db.pool()).await?;
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
    let mut qb = if typos {
        // Materialized: the correction reads the vocabulary, so it cannot be folded into the plan;
        // inlined, it would be computed again for every candidate's rank.
        let mut qb = mode.builder("with q as materialized (select marketplace_corrected_query(");
        qb.push_bind(query.words.clone()).push(concat!(
            ") as tsq) select * from (select ",
            summary_columns!(),
            ", ts_rank(search, q.tsq) as rank from marketplace_listings, q where search @@ q.tsq"
        ));
        qb
    } else {
        // `to_tsquery` with a configuration is immutable: planned with its text (see
        // `text_search_listings`), the parsed query is a constant, computed once, whose words the
        // planner weighs against the column's statistics.
        let mut qb = mode.builder(concat!(
            "select * from (select ",
            summary_columns!(),
            ", ts_rank(search, to_tsquery('english', "
        ));
        qb.push_bind(query.tsquery.clone())
            .push(")) as rank from marketplace_listings where search @@ to_tsquery('english', ")
            .push_bind(query.tsquery.clone())
            .push(")");
        qb
    };
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
    // One pass: the sum of the filtered listings' tallies holds every value's count (migration 0098).
    let mut qb = mode.builder(
        "select facet, value, count from marketplace_facet_counts((select sum(facet_tally) from marketplace_listings
         where true",
    );
    if let Some(q) = query {
        // A sub-select: the query is parsed once, not once a row.
        qb.push(" and search @@ (select to_tsquery('english', ").push_bind(q.tsquery.clone()).push("))");
    }
    push_listing_filters(&mut qb, filter);
    qb.push(")) order by 1, 3 desc, 2");
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
