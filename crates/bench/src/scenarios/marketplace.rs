//! The advisor marketplace's public reads and matching: the common listing query, filtered text
//! queries, facets, profile detail, a realistic mix, and matching for a needs assessment.
//!
//! Run each against a server with the cache on and one with it off (`--compare-url`) to compare.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;

use super::{Credentials, MakeRequest, call, call_bytes, login};
use crate::{BenchError, Request};

/// The marketplace's scenarios (`countinghouse bench list` prints each with its help).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MarketplaceScenario {
    /// the common listing query: first page by relevance/rating, a few common filters
    #[value(name = "marketplace-list")]
    List,
    /// free-text queries (title words, prefixes) with a filter
    #[value(name = "marketplace-text")]
    Text,
    /// listing with facet counts under a few filters
    #[value(name = "marketplace-facets")]
    Facets,
    /// one advisor's profile, across a few thousand advisors (skewed to popular ones)
    #[value(name = "marketplace-detail")]
    Detail,
    /// list 45% / detail 30% / text 15% / facets 10%, detail skewed to popular advisors
    #[value(name = "marketplace-mix")]
    Mix,
    /// scoring and saving the matches of one needs assessment (POST, uncached)
    #[value(name = "marketplace-match")]
    Match,
}

/// Common filters a visitor clicks; the first is the bare listing.
const LISTINGS: &[&str] = &[
    "/v1/marketplace/advisors?limit=20",
    "/v1/marketplace/advisors?limit=20&sort=rating",
    "/v1/marketplace/advisors?limit=20&available_now=true",
    "/v1/marketplace/advisors?limit=20&services=tax_planning",
    "/v1/marketplace/advisors?limit=20&industries=technology&sort=rating",
    "/v1/marketplace/advisors?limit=20&certifications=cpa&max_hourly_rate=200",
];

const FACETS: &[&str] = &[
    "/v1/marketplace/advisors?limit=20&facets=true",
    "/v1/marketplace/advisors?limit=20&facets=true&available_now=true",
    "/v1/marketplace/advisors?limit=20&facets=true&certifications=cpa",
];

struct Pools {
    token: Arc<str>,
    advisors: Vec<String>,
    terms: Vec<String>,
    assessment: Option<String>,
}

async fn pools(addr: SocketAddr, creds: &Credentials, matching: bool) -> Result<Pools, BenchError> {
    let email = creds.emails.first().map(String::as_str).unwrap_or("owner@bench-cpa.test");
    let token = login(addr, &creds.organization, email, &creds.password).await?;
    let (mut advisors, mut words) = (Vec::new(), Vec::new());
    let mut path = "/v1/marketplace/advisors?limit=100&sort=newest".to_owned();
    while advisors.len() < 3000 {
        let (status, page) = call(addr, http::Method::GET, &path, None, None).await?;
        if status != 200 {
            return Err(BenchError::Setup(format!("listing advisors answered {status}: {page}")));
        }
        for a in page["items"].as_array().into_iter().flatten() {
            advisors.push(a["advisor_id"].as_str().unwrap_or_default().to_owned());
            for w in a["title"].as_str().unwrap_or_default().split_whitespace().take(2) {
                words.push(w.to_lowercase());
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/marketplace/advisors?limit=100&sort=newest&cursor={c}"),
            None => break,
        }
    }
    if advisors.is_empty() {
        return Err(BenchError::Setup(
            "no listed advisors; seed first: countinghouse seed --scale seed".into(),
        ));
    }
    words.retain(|w| w.chars().all(char::is_alphanumeric) && w.len() >= 3);
    words.sort();
    words.dedup();
    // Whole words and 4-letter prefixes.
    let mut terms: Vec<String> = words.iter().take(100).cloned().collect();
    terms.extend(words.iter().take(100).map(|w| w.chars().take(4).collect::<String>()));
    terms.sort();
    terms.dedup();
    let assessment = if matching { Some(assessment(addr, &token).await?) } else { None };
    Ok(Pools { token, advisors, terms, assessment })
}

/// A needs assessment for one of the firm's clients, asking for the vocabulary's first services.
async fn assessment(addr: SocketAddr, token: &Arc<str>) -> Result<String, BenchError> {
    let (_, clients) = call(addr, http::Method::GET, "/v1/clients?limit=1", Some(token), None).await?;
    let client = clients["items"][0]["id"].clone();
    let (_, vocab) = call(addr, http::Method::GET, "/v1/marketplace/vocabulary", None, None).await?;
    let body = json!({
        "client_id": client,
        "business_size": "smb",
        "industry": vocab["industries"][0],
        "services_needed": [vocab["services"][0], vocab["services"][1]],
        "budget_type": "flexible",
        "urgency": "within_month",
        "engagement_length": "ongoing",
    });
    let (status, v) =
        call(addr, http::Method::POST, "/v1/marketplace/needs-assessments", Some(token), Some(body)).await?;
    match v["id"].as_str() {
        Some(id) if status == 201 => Ok(id.to_owned()),
        _ => Err(BenchError::Setup(format!("creating a needs assessment answered {status}: {v}"))),
    }
}

pub async fn prepare(
    scenario: MarketplaceScenario,
    addr: SocketAddr,
    creds: &Credentials,
) -> Result<MakeRequest, BenchError> {
    let p = pools(addr, creds, scenario == MarketplaceScenario::Match).await?;
    let mut rng = SmallRng::seed_from_u64(42);
    let make: MakeRequest = match scenario {
        MarketplaceScenario::List => Box::new(move |_| listing(&mut rng, &p)),
        MarketplaceScenario::Text => Box::new(move |_| text(&mut rng, &p)),
        MarketplaceScenario::Facets => Box::new(move |_| facets(&mut rng, &p)),
        MarketplaceScenario::Detail => Box::new(move |_| detail(&mut rng, &p)),
        MarketplaceScenario::Mix => Box::new(move |_| match rng.random_range(0..20) {
            0..9 => listing(&mut rng, &p),
            9..15 => detail(&mut rng, &p),
            15..18 => text(&mut rng, &p),
            _ => facets(&mut rng, &p),
        }),
        MarketplaceScenario::Match => {
            let path = format!(
                "/v1/marketplace/needs-assessments/{}/matches?count=10",
                p.assessment.clone().unwrap_or_default()
            );
            Box::new(move |_| Request {
                method: http::Method::POST,
                path: path.clone(),
                token: Some(p.token.clone()),
                as_cookie: false,
                body: Some(Bytes::from_static(b"{}")),
            })
        }
    };
    Ok(make)
}

/// The bare listing most of the time, as on a real site; the other filters now and then.
fn listing(rng: &mut SmallRng, p: &Pools) -> Request {
    let path =
        if rng.random_bool(0.6) { LISTINGS[0] } else { LISTINGS.choose(rng).copied().unwrap_or(LISTINGS[0]) };
    Request::get(path, &p.token)
}

fn text(rng: &mut SmallRng, p: &Pools) -> Request {
    let term = p.terms.choose(rng).cloned().unwrap_or_else(|| "tax".into());
    let filter = ["", "&available_now=true", "&certifications=cpa"].choose(rng).copied().unwrap_or("");
    Request::get(format!("/v1/marketplace/advisors?limit=20&q={term}{filter}"), &p.token)
}

fn facets(rng: &mut SmallRng, p: &Pools) -> Request {
    Request::get(FACETS.choose(rng).copied().unwrap_or(FACETS[0]), &p.token)
}

/// Popular profiles are viewed far more than others: the index is skewed toward the front.
fn detail(rng: &mut SmallRng, p: &Pools) -> Request {
    let skew: f64 = rng.random::<f64>().powi(3);
    let i = ((skew * p.advisors.len() as f64) as usize).min(p.advisors.len() - 1);
    Request::get(format!("/v1/marketplace/advisors/{}", p.advisors[i]), &p.token)
}

/// The share of marketplace reads answered by the cache (L1, L2 or stale) since the server at
/// `addr` started, from its `cache_requests_total` metric; `None` when it made no cached reads.
pub async fn cache_hit_rate(addr: SocketAddr) -> Result<Option<f64>, BenchError> {
    let (_, body) = call_bytes(addr, http::Method::GET, "/metrics", None, None).await?;
    let (mut hits, mut total) = (0.0, 0.0);
    for line in String::from_utf8_lossy(&body).lines() {
        let Some(rest) = line.strip_prefix("cache_requests_total{") else { continue };
        let Some((labels, value)) = rest.split_once("} ") else { continue };
        if !labels.contains("use=\"marketplace.") {
            continue;
        }
        let n: f64 = value.trim().parse().unwrap_or(0.0);
        if ["hit_l1", "hit_l2", "stale"].iter().any(|o| labels.contains(&format!("outcome=\"{o}\""))) {
            hits += n;
            total += n;
        } else if labels.contains("outcome=\"miss\"") {
            total += n;
        }
    }
    Ok((total > 0.0).then(|| hits / total))
}
