//! The public marketplace: search with filters, sorts, keyset paging and facets; featured lists;
//! comparison; an advisor's detail with published reviews. No sign-in needed.

use api_types::marketplace::{
    AdvisorDetail, AdvisorSearchParams, AdvisorSearchResponse, AdvisorSummary, CompareParams, FacetValue,
    Facets, FeaturedParams, ReviewResponse, Vocabulary,
};
use domain::AdvisorId;
use domain::marketplace::{
    BUSINESS_SIZES, CERTIFICATIONS, INDUSTRIES, LANGUAGES, PRICING_MODELS, SERVICES, vocabulary,
};
use rust_decimal::Decimal;
use store::Db;
use store::marketplace::{
    self, ArrayMatch, Featured, Listing, ListingFilter, ListingQuery, ListingSort, PublishedReview,
};

use crate::error::NotFoundAs;
use crate::views::summary_response;
use crate::{Marketplace, MarketplaceError, MarketplaceResult};
use domain::validate::Problems;

pub(crate) fn review_response(r: PublishedReview) -> ReviewResponse {
    ReviewResponse {
        id: r.id,
        overall: r.overall,
        communication: r.communication,
        responsiveness: r.responsiveness,
        expertise: r.expertise,
        value: r.value,
        professionalism: r.professionalism,
        testimonial: r.testimonial,
        created_at: r.created_at,
    }
}

fn detail(l: Listing, reviews: Vec<PublishedReview>) -> AdvisorDetail {
    AdvisorDetail {
        advisor_id: l.advisor_id,
        display_name: l.display_name,
        title: l.title,
        headline: l.headline,
        bio: l.bio,
        years_experience: l.years_experience,
        certifications: l.certifications,
        industries: l.industries,
        services: l.services,
        business_sizes: l.business_sizes,
        languages: l.languages,
        timezone: l.timezone,
        remote_only: l.remote_only,
        hourly_rate: l.hourly_rate,
        retainer_min: l.retainer_min,
        retainer_max: l.retainer_max,
        project_rate_min: l.project_rate_min,
        pricing_models: l.pricing_models,
        available_now: l.available_now,
        open_client_slots: (l.max_clients - l.current_clients).max(0),
        rating: l.rating,
        review_count: l.review_count,
        listed_at: l.listed_at,
        reviews: reviews.into_iter().map(review_response).collect(),
    }
}

fn csv_list(p: &mut Problems, field: &str, v: Option<&str>, allowed: &[&str]) -> Vec<String> {
    let Some(v) = v else { return Vec::new() };
    let values: Vec<String> = v.split(',').map(str::to_owned).collect();
    match vocabulary(&values, allowed) {
        Ok(v) => v,
        Err(unknown) => {
            p.add(field, format!("unknown: {}; see GET /v1/marketplace/vocabulary", unknown.join(", ")));
            Vec::new()
        }
    }
}

fn array_match(p: &mut Problems, field: &str, v: Option<&str>) -> ArrayMatch {
    match v {
        None | Some("any") => ArrayMatch::Any,
        Some("all") => ArrayMatch::All,
        Some(_) => {
            p.add(field, "must be any or all");
            ArrayMatch::Any
        }
    }
}

/// Parses the search parameters into a filter, a sort and a text query.
pub(crate) fn parse_search(
    q: &AdvisorSearchParams,
) -> MarketplaceResult<(ListingFilter, ListingSort, Option<ListingQuery>)> {
    let mut p = Problems::default();
    let filter = ListingFilter {
        industries: csv_list(&mut p, "industries", q.industries.as_deref(), INDUSTRIES),
        industries_match: array_match(&mut p, "industries_match", q.industries_match.as_deref()),
        services: csv_list(&mut p, "services", q.services.as_deref(), SERVICES),
        services_match: array_match(&mut p, "services_match", q.services_match.as_deref()),
        certifications: csv_list(&mut p, "certifications", q.certifications.as_deref(), CERTIFICATIONS),
        min_rating: q.min_rating,
        max_hourly_rate: q.max_hourly_rate,
        retainer_min: q.retainer_min,
        retainer_max: q.retainer_max,
        min_years: q.min_years,
        business_size: q.business_size.map(|b| b.as_str().to_owned()),
        language: q.language.as_ref().map(|l| {
            let l = l.trim().to_lowercase();
            if !LANGUAGES.contains(&l.as_str()) {
                p.add("language", "unknown language code; see GET /v1/marketplace/vocabulary");
            }
            l
        }),
        remote_only: q.remote_only,
        available_now: q.available_now.unwrap_or(false),
    };
    if filter.min_rating.is_some_and(|r| r < Decimal::ZERO || r > Decimal::from(5)) {
        p.add("min_rating", "must be 0 to 5");
    }
    if let (Some(lo), Some(hi)) = (filter.retainer_min, filter.retainer_max)
        && lo > hi
    {
        p.add("retainer_max", "must not be below retainer_min");
    }
    let sort = match q.sort.as_deref() {
        None => {
            if q.q.is_some() {
                ListingSort::Relevance
            } else {
                ListingSort::Rating
            }
        }
        Some(s) => match serde_json::from_value::<ListingSort>(serde_json::Value::String(s.to_owned())) {
            Ok(sort) => sort,
            Err(_) => {
                p.add(
                    "sort",
                    "must be relevance, rating, reviews, experience, price_asc, price_desc or newest",
                );
                ListingSort::Rating
            }
        },
    };
    let query = match q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) if raw.chars().count() > 200 => {
            p.add("q", "must be at most 200 characters");
            None
        }
        Some(raw) => {
            let words: Vec<String> = raw
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .take(8)
                .map(str::to_lowercase)
                .collect();
            if words.is_empty() {
                p.add("q", "needs at least one letter or digit");
                None
            } else {
                let tsquery = words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & ");
                Some(ListingQuery { words, tsquery })
            }
        }
    };
    if query.is_some() && sort == ListingSort::Relevance && q.cursor.is_some() {
        p.add("cursor", "relevance-ranked results are one page; refine `q` or sort otherwise to page");
    }
    p.into_result()?;
    Ok((filter, sort, query))
}

/// The search, uncached (see `cached.rs`).
pub(crate) async fn load_search(
    db: &Db,
    q: &AdvisorSearchParams,
    limit: usize,
) -> MarketplaceResult<AdvisorSearchResponse> {
    let (filter, sort, query) = parse_search(q)?;
    let (items, next_cursor) = match (&query, sort) {
        (Some(text), ListingSort::Relevance) => {
            (marketplace::text_search_listings(db, &filter, text, limit).await?, None)
        }
        (Some(text), _) => {
            // A text query with another sort: the matches, in that order (full text only).
            let rows = marketplace::text_search_listings(db, &filter, text, 1000).await?;
            let mut rows = rows;
            sort_in_memory(&mut rows, sort);
            rows.truncate(limit);
            (rows, None)
        }
        (None, _) => {
            let page = marketplace::search_listings(db, &filter, sort, q.cursor.as_deref(), limit).await?;
            (page.items, page.next_cursor)
        }
    };
    let facets = if q.facets.unwrap_or(false) {
        let mut f = Facets::default();
        for c in marketplace::facets(db, &filter, query.as_ref()).await? {
            let v = FacetValue { value: c.value, count: c.count };
            match c.facet.as_str() {
                "industries" => f.industries.push(v),
                "services" => f.services.push(v),
                _ => f.rate_bands.push(v),
            }
        }
        Some(f)
    } else {
        None
    };
    Ok(AdvisorSearchResponse {
        items: items.into_iter().map(summary_response).collect(),
        next_cursor,
        facets,
    })
}

pub(crate) async fn load_detail(db: &Db, id: AdvisorId) -> MarketplaceResult<AdvisorDetail> {
    let listing = marketplace::listing(db, id).await.or_not_found("advisor")?;
    let reviews = marketplace::published_reviews(db, id, 10).await?;
    Ok(detail(listing, reviews))
}

pub(crate) async fn load_featured(db: &Db, q: &FeaturedParams) -> MarketplaceResult<Vec<AdvisorSummary>> {
    let kind =
        serde_json::from_value::<Featured>(serde_json::Value::String(q.kind.clone())).map_err(|_| {
            MarketplaceError::invalid("kind", "must be top_rated, recently_joined or industry_experts")
        })?;
    let limit = q.limit.unwrap_or(10);
    if !(1..=20).contains(&limit) {
        return Err(MarketplaceError::invalid("limit", "must be 1 to 20"));
    }
    if let Some(i) = &q.industry
        && !INDUSTRIES.contains(&i.as_str())
    {
        return Err(MarketplaceError::invalid(
            "industry",
            "unknown industry; see GET /v1/marketplace/vocabulary",
        ));
    }
    let rows = marketplace::featured(db, kind, q.industry.as_deref(), limit as i64).await?;
    Ok(rows.into_iter().map(summary_response).collect())
}

impl Marketplace {
    pub async fn advisor_reviews(&self, id: AdvisorId) -> MarketplaceResult<Vec<ReviewResponse>> {
        marketplace::listing(&self.db, id).await.or_not_found("advisor")?;
        Ok(marketplace::published_reviews(&self.db, id, 200)
            .await?
            .into_iter()
            .map(review_response)
            .collect())
    }

    /// Two to five advisors side by side, in the order asked.
    pub async fn compare_advisors(&self, q: &CompareParams) -> MarketplaceResult<Vec<AdvisorDetail>> {
        let ids: Vec<AdvisorId> = q
            .ids
            .split(',')
            .map(|s| s.trim().parse())
            .collect::<Result<_, _>>()
            .map_err(|_| MarketplaceError::invalid("ids", "must be advisor ids separated by commas"))?;
        if !(2..=5).contains(&ids.len()) {
            return Err(MarketplaceError::invalid("ids", "compare 2 to 5 advisors"));
        }
        let mut rows = marketplace::listings(&self.db, &ids).await?;
        if rows.len() != ids.len() {
            return Err(MarketplaceError::NotFound("advisor"));
        }
        rows.sort_by_key(|l| ids.iter().position(|id| *id == l.advisor_id));
        Ok(rows.into_iter().map(|l| detail(l, Vec::new())).collect())
    }

    pub fn vocabulary() -> Vocabulary {
        let own = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        Vocabulary {
            services: own(SERVICES),
            industries: own(INDUSTRIES),
            certifications: own(CERTIFICATIONS),
            languages: own(LANGUAGES),
            business_sizes: own(BUSINESS_SIZES),
            pricing_models: own(PRICING_MODELS),
        }
    }
}

fn sort_in_memory(rows: &mut [store::marketplace::ListingSummary], sort: ListingSort) {
    use std::cmp::Reverse;
    match sort {
        ListingSort::Relevance => {}
        ListingSort::Rating => {
            rows.sort_by_key(|l| (Reverse(l.rating), Reverse(l.review_count), l.advisor_id))
        }
        ListingSort::Reviews => rows.sort_by_key(|l| (Reverse(l.review_count), l.advisor_id)),
        ListingSort::Experience => rows.sort_by_key(|l| (Reverse(l.years_experience), l.advisor_id)),
        ListingSort::PriceAsc => rows.sort_by_key(|l| (l.hourly_rate.is_none(), l.hourly_rate, l.advisor_id)),
        ListingSort::PriceDesc => {
            rows.sort_by_key(|l| (l.hourly_rate.is_none(), Reverse((l.hourly_rate, l.advisor_id))))
        }
        ListingSort::Newest => rows.sort_by_key(|l| (Reverse(l.listed_at), l.advisor_id)),
    }
}
