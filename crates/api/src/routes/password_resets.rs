//! Forgotten passwords: asking for a reset link by mail, and setting the new password with it.
//! (A member admin's `POST /v1/members/{id}/password-reset` is in `members`.)

use api_types::Problem;
use api_types::auth::{CompletePasswordResetRequest, PasswordResetAccepted, PasswordResetRequest};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::extract::{ApiJson, Meta};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(request_password_reset)).routes(routes!(complete_password_reset))
}

/// What every reset request is told, whether or not the account exists.
pub const RESET_ACCEPTED: &str = "If the address belongs to an active member of this organization, a link to \
     choose a new password is on its way; it works once, for one hour.";

/// Ask for a password-reset link by mail. The answer is the same whether or not the organization
/// and address name an account (no enumeration); requests are rate-limited like sign-in.
#[utoipa::path(post, path = "/v1/password-resets", tag = "auth", request_body = PasswordResetRequest,
    responses((status = 202, body = PasswordResetAccepted), (status = 422, body = Problem),
              (status = 429, body = Problem)))]
async fn request_password_reset(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> ApiResult<(StatusCode, Json<PasswordResetAccepted>)> {
    state.identity.request_password_reset(&req.organization, &req.email, &meta).await?;
    Ok((StatusCode::ACCEPTED, Json(PasswordResetAccepted { detail: RESET_ACCEPTED.to_owned() })))
}

/// Set a new password with a reset link's token. The link works once; every session of the
/// account ends, and a sign-in lockout is lifted.
#[utoipa::path(post, path = "/v1/password-resets/complete", tag = "auth",
    request_body = CompletePasswordResetRequest,
    responses((status = 204),
              (status = 404, description = "unknown, used or expired link", body = Problem),
              (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn complete_password_reset(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<CompletePasswordResetRequest>,
) -> ApiResult<StatusCode> {
    state.identity.complete_password_reset(&req.token, &req.password, &meta).await.map_err(|e| match e {
        identity::IdentityError::NotFound => crate::ApiError::new(
            api_types::ProblemType::NotFound,
            "this reset link does not exist, was already used, or has expired; ask for a new one",
        ),
        other => other.into(),
    })?;
    Ok(StatusCode::NO_CONTENT)
}
