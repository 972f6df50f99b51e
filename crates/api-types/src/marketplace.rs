//! The advisor marketplace: profiles, public search, featured lists, reviews, needs assessments
//! and matches.

use chrono::{DateTime, Utc};
use domain::marketplace::{
    BudgetType, BusinessSize, EngagementLength, MatchStatus, ProfileStatus, ScoreComponent, Urgency,
};
use domain::{AdvisorId, AssessmentId, ClientId, MatchId, ReviewId, UserId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::decimal;
use crate::patch;

/// A new or changed profile. Lists use the controlled vocabularies of `GET /v1/marketplace/vocabulary`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRequest {
    pub display_name: Option<String>,
    /// "Fractional CFO", "Controller", …
    pub title: Option<String>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub headline: Option<Option<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    pub years_experience: Option<i32>,
    pub certifications: Option<Vec<String>>,
    pub industries: Option<Vec<String>>,
    pub services: Option<Vec<String>>,
    /// startup, smb, mid_market, enterprise
    pub business_sizes: Option<Vec<String>>,
    /// ISO 639-1 codes.
    pub languages: Option<Vec<String>>,
    #[serde(default, deserialize_with = "patch::field")]
    #[schema(value_type = Option<String>)]
    pub timezone: Option<Option<String>>,
    pub remote_only: Option<bool>,
    #[serde(default, deserialize_with = "decimal::patch")]
    #[schema(value_type = Option<String>)]
    pub hourly_rate: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "decimal::patch")]
    #[schema(value_type = Option<String>)]
    pub retainer_min: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "decimal::patch")]
    #[schema(value_type = Option<String>)]
    pub retainer_max: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "decimal::patch")]
    #[schema(value_type = Option<String>)]
    pub project_rate_min: Option<Option<Decimal>>,
    /// hourly, retainer, project, value_based
    pub pricing_models: Option<Vec<String>>,
    pub max_clients: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProfileResponse {
    pub id: AdvisorId,
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
    #[schema(value_type = Option<String>)]
    pub hourly_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub retainer_min: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub retainer_max: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub project_rate_min: Option<Decimal>,
    pub pricing_models: Vec<String>,
    pub max_clients: i32,
    pub current_clients: i32,
    pub is_available: bool,
    pub status: ProfileStatus,
    /// Why it was rejected or suspended.
    pub status_reason: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityRequest {
    pub is_available: Option<bool>,
    pub current_clients: Option<i32>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// Shown to the advisor (required to reject or suspend).
    pub reason: Option<String>,
}

/// `GET /v1/marketplace/advisors`: the public search.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AdvisorSearchParams {
    /// Words matched in titles, headlines and bios (prefixes; typos tolerated in titles). With
    /// `q`, results are ranked by relevance: one page of up to `limit`.
    pub q: Option<String>,
    /// Comma-separated industries.
    pub industries: Option<String>,
    /// `any` (default) or `all` of the industries.
    pub industries_match: Option<String>,
    pub services: Option<String>,
    pub services_match: Option<String>,
    /// Comma-separated; advisors holding all of them.
    pub certifications: Option<String>,
    /// 0–5.
    pub min_rating: Option<Decimal>,
    pub max_hourly_rate: Option<Decimal>,
    /// Advisors whose monthly retainer range overlaps `retainer_min`..`retainer_max`.
    pub retainer_min: Option<Decimal>,
    pub retainer_max: Option<Decimal>,
    pub min_years: Option<i32>,
    pub business_size: Option<BusinessSize>,
    pub language: Option<String>,
    /// true: remote-only advisors; false: those who also work on site.
    pub remote_only: Option<bool>,
    /// Only advisors available and under capacity.
    pub available_now: Option<bool>,
    /// relevance, rating (default), reviews, experience, price_asc, price_desc, newest
    pub sort: Option<String>,
    /// Include facet counts (industries, services, rate bands) under these filters.
    pub facets: Option<bool>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// An advisor in a list (no bio).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdvisorSummary {
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
    #[schema(value_type = Option<String>)]
    pub hourly_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub retainer_min: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub retainer_max: Option<Decimal>,
    #[schema(value_type = String)]
    pub rating: Decimal,
    pub review_count: i32,
    pub available_now: bool,
    pub listed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacetValue {
    pub value: String,
    pub count: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Facets {
    pub industries: Vec<FacetValue>,
    pub services: Vec<FacetValue>,
    pub rate_bands: Vec<FacetValue>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdvisorSearchResponse {
    pub items: Vec<AdvisorSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<Facets>,
}

/// Everything public about an advisor, with recent published reviews.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AdvisorDetail {
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
    #[schema(value_type = Option<String>)]
    pub hourly_rate: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub retainer_min: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub retainer_max: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub project_rate_min: Option<Decimal>,
    pub pricing_models: Vec<String>,
    pub available_now: bool,
    pub open_client_slots: i32,
    #[schema(value_type = String)]
    pub rating: Decimal,
    pub review_count: i32,
    pub listed_at: DateTime<Utc>,
    pub reviews: Vec<ReviewResponse>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeaturedParams {
    /// top_rated, recently_joined or industry_experts.
    pub kind: String,
    /// For industry_experts.
    pub industry: Option<String>,
    /// 1–20, default 10.
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CompareParams {
    /// 2 to 5 comma-separated advisor ids.
    pub ids: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReviewResponse {
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

/// A review of an accepted match's advisor; scores 1–10.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReviewRequest {
    pub overall: i16,
    pub communication: Option<i16>,
    pub responsiveness: Option<i16>,
    pub expertise: Option<i16>,
    pub value: Option<i16>,
    pub professionalism: Option<i16>,
    pub testimonial: Option<String>,
    /// Show on the advisor's profile (and count in the rating).
    #[serde(default)]
    pub publish: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssessmentRequest {
    /// The client the advisor is sought for.
    pub client_id: Option<ClientId>,
    pub business_size: BusinessSize,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub annual_revenue: Option<Decimal>,
    pub industry: Option<String>,
    pub services_needed: Vec<String>,
    pub budget_type: BudgetType,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub budget_min: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    #[serde(default, deserialize_with = "decimal::optional")]
    pub budget_max: Option<Decimal>,
    pub urgency: Urgency,
    pub engagement_length: EngagementLength,
    #[serde(default)]
    pub required_certifications: Vec<String>,
    #[serde(default)]
    pub min_years_experience: i32,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default = "yes")]
    pub remote_ok: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssessmentResponse {
    pub id: AssessmentId,
    pub client_id: Option<ClientId>,
    pub business_size: String,
    #[schema(value_type = Option<String>)]
    pub annual_revenue: Option<Decimal>,
    pub industry: Option<String>,
    pub services_needed: Vec<String>,
    pub budget_type: String,
    #[schema(value_type = Option<String>)]
    pub budget_min: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub budget_max: Option<Decimal>,
    pub urgency: String,
    pub engagement_length: String,
    pub required_certifications: Vec<String>,
    pub min_years_experience: i32,
    pub languages: Vec<String>,
    pub remote_ok: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MatchParams {
    /// How many matches to keep, 1–20 (default 5).
    pub count: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MatchResponse {
    pub id: MatchId,
    pub assessment_id: AssessmentId,
    pub advisor_id: AdvisorId,
    #[schema(value_type = String)]
    pub score: Decimal,
    /// Each component's points, its maximum and why.
    pub breakdown: Vec<ScoreComponent>,
    pub algorithm_version: String,
    pub rank: i32,
    pub status: MatchStatus,
    pub status_changed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The advisor's public summary (absent if no longer listed).
    pub advisor: Option<AdvisorSummary>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchStatusRequest {
    pub status: MatchStatus,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Vocabulary {
    pub services: Vec<String>,
    pub industries: Vec<String>,
    pub certifications: Vec<String>,
    pub languages: Vec<String>,
    pub business_sizes: Vec<String>,
    pub pricing_models: Vec<String>,
}
