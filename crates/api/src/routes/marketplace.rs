//! The advisor marketplace: public search and profiles; an advisor's own profile; verification
//! by platform administrators; needs assessments, matches and reviews.

use api_types::marketplace::{
    AdvisorDetail, AdvisorSearchParams, AdvisorSearchResponse, AdvisorSummary, AssessmentResponse,
    AvailabilityRequest, CompareParams, CreateAssessmentRequest, CreateReviewRequest, FeaturedParams,
    MatchParams, MatchResponse, MatchStatusRequest, ProfileRequest, ProfileResponse, ReasonRequest,
    ReviewResponse, Vocabulary,
};
use api_types::{Page, PageParams, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::marketplace::ProfileAction;
use domain::{AdvisorId, AssessmentId, MatchId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, PlatformAdmin};
use crate::routes::page_limit;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_advisors))
        .routes(routes!(advisor_detail))
        .routes(routes!(advisor_reviews))
        .routes(routes!(featured_advisors))
        .routes(routes!(compare_advisors))
        .routes(routes!(vocabulary))
        .routes(routes!(create_profile, my_profile, update_profile))
        .routes(routes!(submit_profile))
        .routes(routes!(set_availability))
        .routes(routes!(review_queue))
        .routes(routes!(decide_profile))
        .routes(routes!(create_assessment, list_assessments))
        .routes(routes!(request_matches, assessment_matches))
        .routes(routes!(incoming_matches))
        .routes(routes!(move_match))
        .routes(routes!(review_match))
}

/// Search the marketplace (public). Filters combine; `facets=true` adds counts per industry,
/// service and rate band under the filters. Keyset paging for every sort but relevance.
#[utoipa::path(get, path = "/v1/marketplace/advisors", tag = "marketplace", params(AdvisorSearchParams),
    responses((status = 200, body = AdvisorSearchResponse), (status = 422, body = Problem)))]
async fn search_advisors(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AdvisorSearchParams>,
) -> ApiResult<Json<AdvisorSearchResponse>> {
    let limit = page_limit(q.limit)?;
    Ok(Json(state.marketplace.search_advisors(&q, limit).await?))
}

/// An advisor's public profile with recent published reviews.
#[utoipa::path(get, path = "/v1/marketplace/advisors/{id}", tag = "marketplace", params(("id" = AdvisorId, Path)),
    responses((status = 200, body = AdvisorDetail), (status = 404, body = Problem)))]
async fn advisor_detail(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<AdvisorId>,
) -> ApiResult<Json<AdvisorDetail>> {
    Ok(Json(state.marketplace.advisor_detail(id).await?))
}

/// An advisor's published reviews, newest first.
#[utoipa::path(get, path = "/v1/marketplace/advisors/{id}/reviews", tag = "marketplace",
    params(("id" = AdvisorId, Path)), responses((status = 200, body = Vec<ReviewResponse>), (status = 404, body = Problem)))]
async fn advisor_reviews(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<AdvisorId>,
) -> ApiResult<Json<Vec<ReviewResponse>>> {
    Ok(Json(state.marketplace.advisor_reviews(id).await?))
}

/// Featured advisors: top rated, recently joined, or industry experts.
#[utoipa::path(get, path = "/v1/marketplace/featured", tag = "marketplace", params(FeaturedParams),
    responses((status = 200, body = Vec<AdvisorSummary>), (status = 422, body = Problem)))]
async fn featured_advisors(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<FeaturedParams>,
) -> ApiResult<Json<Vec<AdvisorSummary>>> {
    Ok(Json(state.marketplace.featured_advisors(&q).await?))
}

/// Two to five advisors side by side.
#[utoipa::path(get, path = "/v1/marketplace/compare", tag = "marketplace", params(CompareParams),
    responses((status = 200, body = Vec<AdvisorDetail>), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn compare_advisors(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CompareParams>,
) -> ApiResult<Json<Vec<AdvisorDetail>>> {
    Ok(Json(state.marketplace.compare_advisors(&q).await?))
}

/// The controlled vocabularies profiles and searches use.
#[utoipa::path(get, path = "/v1/marketplace/vocabulary", tag = "marketplace",
    responses((status = 200, body = Vocabulary)))]
async fn vocabulary() -> Json<Vocabulary> {
    Json(marketplace::Marketplace::vocabulary())
}

/// Create your advisor profile (pending until verified).
#[utoipa::path(post, path = "/v1/marketplace/profile", tag = "marketplace", security(("bearer" = [])),
    request_body = ProfileRequest,
    responses((status = 201, body = ProfileResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_profile(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ProfileRequest>,
) -> ApiResult<(StatusCode, Json<ProfileResponse>)> {
    Ok((StatusCode::CREATED, Json(state.marketplace.create_profile(&caller, req).await?)))
}

/// Your advisor profile, whatever its status.
#[utoipa::path(get, path = "/v1/marketplace/profile", tag = "marketplace", security(("bearer" = [])),
    responses((status = 200, body = ProfileResponse), (status = 404, body = Problem)))]
async fn my_profile(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ProfileResponse>> {
    Ok(Json(state.marketplace.my_profile(&caller).await?))
}

/// Change your profile (a listed profile's listing follows).
#[utoipa::path(patch, path = "/v1/marketplace/profile", tag = "marketplace", security(("bearer" = [])),
    request_body = ProfileRequest,
    responses((status = 200, body = ProfileResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ProfileRequest>,
) -> ApiResult<Json<ProfileResponse>> {
    Ok(Json(state.marketplace.update_profile(&caller, req).await?))
}

/// Submit your profile for verification.
#[utoipa::path(post, path = "/v1/marketplace/profile/submit", tag = "marketplace", security(("bearer" = [])),
    responses((status = 200, body = ProfileResponse), (status = 409, body = Problem)))]
async fn submit_profile(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ProfileResponse>> {
    Ok(Json(state.marketplace.submit_profile(&caller).await?))
}

/// Set whether you take new clients, and how many you have.
#[utoipa::path(put, path = "/v1/marketplace/profile/availability", tag = "marketplace", security(("bearer" = [])),
    request_body = AvailabilityRequest,
    responses((status = 200, body = ProfileResponse), (status = 404, body = Problem)))]
async fn set_availability(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<AvailabilityRequest>,
) -> ApiResult<Json<ProfileResponse>> {
    Ok(Json(state.marketplace.set_availability(&caller, req).await?))
}

/// Profiles waiting for verification (platform administrators).
#[utoipa::path(get, path = "/v1/marketplace/admin/review-queue", tag = "marketplace", security(("bearer" = [])),
    responses((status = 200, body = Vec<ProfileResponse>), (status = 403, body = Problem)))]
async fn review_queue(
    State(state): State<AppState>,
    admin: PlatformAdmin,
) -> ApiResult<Json<Vec<ProfileResponse>>> {
    Ok(Json(state.marketplace.review_queue(&admin).await?))
}

/// Approve, reject, suspend or reinstate an advisor (platform administrators). Rejecting and
/// suspending need a reason.
#[utoipa::path(post, path = "/v1/marketplace/admin/advisors/{id}/{decision}", tag = "marketplace",
    security(("bearer" = [])),
    params(("id" = AdvisorId, Path), ("decision" = String, Path, description = "approve, reject, suspend or reinstate")),
    request_body = ReasonRequest,
    responses((status = 200, body = ProfileResponse), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
async fn decide_profile(
    State(state): State<AppState>,
    admin: PlatformAdmin,
    ApiPath((id, decision)): ApiPath<(AdvisorId, String)>,
    ApiJson(req): ApiJson<ReasonRequest>,
) -> ApiResult<Json<ProfileResponse>> {
    let action = match decision.as_str() {
        "approve" => ProfileAction::Approve,
        "reject" => ProfileAction::Reject,
        "suspend" => ProfileAction::Suspend,
        "reinstate" => ProfileAction::Reinstate,
        _ => {
            return Err(ApiError::new(
                api_types::ProblemType::NotFound,
                "the decision is approve, reject, suspend or reinstate",
            ));
        }
    };
    Ok(Json(state.marketplace.decide_profile(&admin, id, action, req.reason).await?))
}

/// Describe what a client needs from an advisor (`clients:update`).
#[utoipa::path(post, path = "/v1/marketplace/needs-assessments", tag = "marketplace", security(("bearer" = [])),
    request_body = CreateAssessmentRequest,
    responses((status = 201, body = AssessmentResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_assessment(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateAssessmentRequest>,
) -> ApiResult<(StatusCode, Json<AssessmentResponse>)> {
    Ok((StatusCode::CREATED, Json(state.marketplace.create_assessment(&caller, req).await?)))
}

/// The organization's needs assessments, newest first (`clients:read`).
#[utoipa::path(get, path = "/v1/marketplace/needs-assessments", tag = "marketplace", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Page<AssessmentResponse>), (status = 400, body = Problem)))]
async fn list_assessments(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<AssessmentResponse>>> {
    let limit = q.limit().map_err(ApiError::from)?;
    Ok(Json(state.marketplace.list_assessments(&caller, q.cursor.as_deref(), limit).await?))
}

/// Find the best advisors for an assessment: hard filters, then a score with a reason per
/// component; the top `count` are saved as suggested matches (`clients:update`).
#[utoipa::path(post, path = "/v1/marketplace/needs-assessments/{id}/matches", tag = "marketplace",
    security(("bearer" = [])), params(("id" = AssessmentId, Path), MatchParams),
    responses((status = 200, body = Vec<MatchResponse>), (status = 404, body = Problem)))]
async fn request_matches(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<AssessmentId>,
    ApiQuery(q): ApiQuery<MatchParams>,
) -> ApiResult<Json<Vec<MatchResponse>>> {
    let count = q.count.unwrap_or(5) as usize;
    Ok(Json(state.marketplace.request_matches(&caller, id, count).await?))
}

/// The matches of an assessment, best first.
#[utoipa::path(get, path = "/v1/marketplace/needs-assessments/{id}/matches", tag = "marketplace",
    security(("bearer" = [])), params(("id" = AssessmentId, Path)),
    responses((status = 200, body = Vec<MatchResponse>), (status = 404, body = Problem)))]
async fn assessment_matches(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<AssessmentId>,
) -> ApiResult<Json<Vec<MatchResponse>>> {
    Ok(Json(state.marketplace.assessment_matches(&caller, id).await?))
}

/// Matches addressed to your organization's advisors (after the client made contact).
#[utoipa::path(get, path = "/v1/marketplace/matches/incoming", tag = "marketplace", security(("bearer" = [])),
    responses((status = 200, body = Vec<MatchResponse>)))]
async fn incoming_matches(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<MatchResponse>>> {
    Ok(Json(state.marketplace.incoming_matches(&caller).await?))
}

/// Move a match along: suggested → viewed → contacted → responded → call_scheduled → proposal →
/// accepted, or declined. Each side may make only its own moves.
#[utoipa::path(post, path = "/v1/marketplace/matches/{id}/status", tag = "marketplace", security(("bearer" = [])),
    params(("id" = MatchId, Path)), request_body = MatchStatusRequest,
    responses((status = 200, body = MatchResponse), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem)))]
async fn move_match(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<MatchId>,
    ApiJson(req): ApiJson<MatchStatusRequest>,
) -> ApiResult<Json<MatchResponse>> {
    Ok(Json(state.marketplace.move_match(&caller, id, req.status).await?))
}

/// Review the advisor of an accepted match (once per match).
#[utoipa::path(post, path = "/v1/marketplace/matches/{id}/review", tag = "marketplace", security(("bearer" = [])),
    params(("id" = MatchId, Path)), request_body = CreateReviewRequest,
    responses((status = 201, body = ReviewResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn review_match(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<MatchId>,
    ApiJson(req): ApiJson<CreateReviewRequest>,
) -> ApiResult<(StatusCode, Json<ReviewResponse>)> {
    Ok((StatusCode::CREATED, Json(state.marketplace.review_match(&caller, id, req).await?)))
}
