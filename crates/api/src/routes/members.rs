//! Organization settings and members.

use api_types::auth::{
    CreatedPasswordResetResponse, MemberListParams, MemberResponse, OrganizationResponse,
    UpdateMemberRequest, UpdateOrganizationRequest,
};
use api_types::{Page, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::UserId;
use identity::MemberPatch;
use store::organizations::SettingsPatch;
use store::users::MemberFilter;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::convert::IntoApi;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::page_limit;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_organization, update_organization))
        .routes(routes!(list_members))
        .routes(routes!(get_member, update_member))
        .routes(routes!(create_password_reset))
}

/// The caller's organization.
#[utoipa::path(get, path = "/v1/organization", tag = "organization", security(("bearer" = [])),
    responses((status = 200, body = OrganizationResponse), (status = 401, body = Problem)))]
async fn get_organization(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<OrganizationResponse>> {
    let org = state.identity.organization(&caller).await?;
    Ok(Json(org.into_api()))
}

/// Change the organization's name or its MFA policy (`system:settings`).
#[utoipa::path(patch, path = "/v1/organization", tag = "organization", security(("bearer" = [])),
    request_body = UpdateOrganizationRequest,
    responses((status = 200, body = OrganizationResponse), (status = 403, body = Problem)))]
async fn update_organization(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<UpdateOrganizationRequest>,
) -> ApiResult<Json<OrganizationResponse>> {
    let patch = SettingsPatch {
        name: req.name.map(|n| n.trim().to_owned()),
        mfa_required_for_staff: req.mfa_required_for_staff,
        mfa_required_for_clients: req.mfa_required_for_clients,
    };
    let org = state.identity.update_organization(&caller, &patch).await?;
    Ok(Json(org.into_api()))
}

/// Members of the organization, oldest first (`users:read`).
#[utoipa::path(get, path = "/v1/members", tag = "organization", security(("bearer" = [])),
    params(MemberListParams),
    responses((status = 200, body = Page<MemberResponse>), (status = 403, body = Problem)))]
async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<MemberListParams>,
) -> ApiResult<Json<Page<MemberResponse>>> {
    let limit = page_limit(q.limit)?;
    let filter = MemberFilter { role: q.role, status: q.status };
    let page = state.identity.list_members(&caller, &filter, q.cursor.as_deref(), limit).await?;
    Ok(Json(page.into_api()))
}

/// One member (yourself, or anyone with `users:read`).
#[utoipa::path(get, path = "/v1/members/{id}", tag = "organization", security(("bearer" = [])),
    params(("id" = UserId, Path)),
    responses((status = 200, body = MemberResponse), (status = 404, body = Problem)))]
async fn get_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<Json<MemberResponse>> {
    Ok(Json(state.identity.get_member(&caller, id).await?.into_api()))
}

/// Change a member's role or status (`users:update`, within your own authority).
#[utoipa::path(patch, path = "/v1/members/{id}", tag = "organization", security(("bearer" = [])),
    params(("id" = UserId, Path)), request_body = UpdateMemberRequest,
    responses((status = 200, body = MemberResponse), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn update_member(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(req): ApiJson<UpdateMemberRequest>,
) -> ApiResult<Json<MemberResponse>> {
    let patch = MemberPatch { role: req.role, status: req.status };
    Ok(Json(state.identity.update_member(&caller, id, &patch).await?.into_api()))
}

/// Create a password-reset link for a member (`users:update`, members at or below your own role;
/// not yourself). The link is mailed to the member and returned once, for you to pass on; it works
/// once, for one hour.
#[utoipa::path(post, path = "/v1/members/{id}/password-reset", tag = "organization", security(("bearer" = [])),
    params(("id" = UserId, Path)),
    responses((status = 201, body = CreatedPasswordResetResponse), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, description = "the member is disabled", body = Problem)))]
async fn create_password_reset(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<(StatusCode, Json<CreatedPasswordResetResponse>)> {
    let created = state.identity.create_password_reset(&caller, id).await?;
    Ok((StatusCode::CREATED, Json(created.into_api())))
}
