//! Inviting staff and client users, and accepting an invitation.

use api_types::auth::{
    AcceptInvitationRequest, CreateInvitationRequest, CreatedInvitationResponse, InvitationListParams,
    InvitationResponse, SessionResponse,
};
use api_types::{Page, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::InvitationId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::convert::IntoApi;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, Meta};
use crate::routes::page_limit;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invitation, list_invitations))
        .routes(routes!(revoke_invitation))
        .routes(routes!(accept_invitation))
}

/// Invite someone by email to a role at or below yours (`users:invite`). The response carries the
/// token to send; it is accepted once (`POST /v1/invitations/accept`) and expires after 7 days.
#[utoipa::path(post, path = "/v1/invitations", tag = "invitations", security(("bearer" = [])),
    request_body = CreateInvitationRequest,
    responses((status = 201, body = CreatedInvitationResponse), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_invitation(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateInvitationRequest>,
) -> ApiResult<(StatusCode, Json<CreatedInvitationResponse>)> {
    let created = state.identity.invite(&caller, &req.email, req.name.as_deref(), req.role).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvitationResponse { invitation: created.invitation.into_api(), token: created.token }),
    ))
}

/// Invitations, newest first, keyset-paged (`users:invite`).
#[utoipa::path(get, path = "/v1/invitations", tag = "invitations", security(("bearer" = [])),
    params(InvitationListParams),
    responses((status = 200, body = Page<InvitationResponse>), (status = 403, body = Problem)))]
async fn list_invitations(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<InvitationListParams>,
) -> ApiResult<Json<Page<InvitationResponse>>> {
    let limit = page_limit(q.limit)?;
    let page =
        state.identity.list_invitations(&caller, q.open.unwrap_or(true), q.cursor.as_deref(), limit).await?;
    Ok(Json(page.into_api()))
}

/// Revoke an invitation that has not been accepted.
#[utoipa::path(delete, path = "/v1/invitations/{id}", tag = "invitations", security(("bearer" = [])),
    params(("id" = InvitationId, Path)),
    responses((status = 200, body = InvitationResponse), (status = 404, body = Problem)))]
async fn revoke_invitation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<InvitationId>,
) -> ApiResult<Json<InvitationResponse>> {
    Ok(Json(state.identity.revoke_invitation(&caller, id).await?.into_api()))
}

/// Accept an invitation with its token: creates the account and signs it in.
#[utoipa::path(post, path = "/v1/invitations/accept", tag = "invitations",
    request_body = AcceptInvitationRequest,
    responses((status = 201, body = SessionResponse),
              (status = 404, description = "unknown, used, revoked or expired", body = Problem),
              (status = 422, body = Problem)))]
async fn accept_invitation(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<AcceptInvitationRequest>,
) -> ApiResult<(StatusCode, Json<SessionResponse>)> {
    let s = state
        .identity
        .accept_invitation(&req.token, req.name.as_deref(), &req.password, &meta)
        .await
        .map_err(|e| match e {
            identity::IdentityError::NotFound => crate::ApiError::new(
                api_types::ProblemType::NotFound,
                "this invitation does not exist, was already used or revoked, or has expired; ask for a new one",
            ),
            other => other.into(),
        })?;
    Ok((
        StatusCode::CREATED,
        Json(SessionResponse {
            token: s.token,
            expires_at: s.expires_at,
            mfa_enrolment_required: s.mfa_enrolment_required,
            user: s.user.into_api(),
            organization: s.organization.into_api(),
        }),
    ))
}
