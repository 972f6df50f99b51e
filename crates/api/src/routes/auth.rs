//! Signup, sign-in and sign-out, the current user, password and MFA, and the permission catalogue.

use api_types::Problem;
use api_types::auth::{
    ChangePasswordRequest, LoginRequest, MeResponse, MfaCodeRequest, MfaEnrolmentResponse,
    PermissionCatalogue, PermissionInfo, RecoveryCodesResponse, RoleGrant, SessionResponse, SignupRequest,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{Permission, PermissionSet, Role};
use identity::{Principal, SignedIn};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::convert::IntoApi;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Meta, PendingMfa};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(create_session))
        .routes(routes!(delete_current_session))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(begin_mfa_enrolment))
        .routes(routes!(confirm_mfa))
        .routes(routes!(disable_mfa))
        .routes(routes!(regenerate_recovery_codes))
        .routes(routes!(permission_catalogue))
}

fn session_response(s: SignedIn) -> SessionResponse {
    SessionResponse {
        token: s.token,
        expires_at: s.expires_at,
        mfa_enrolment_required: s.mfa_enrolment_required,
        user: s.user.into_api(),
        organization: s.organization.into_api(),
    }
}

/// Create an organization (a firm) and its owner, and sign the owner in.
#[utoipa::path(post, path = "/v1/signup", tag = "auth", request_body = SignupRequest,
    responses(
        (status = 201, body = SessionResponse),
        (status = 409, description = "slug taken", body = Problem),
        (status = 422, body = Problem),
        (status = 429, body = Problem),
    ))]
async fn signup(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<SignupRequest>,
) -> ApiResult<(StatusCode, Json<SessionResponse>)> {
    let signed_in = state
        .identity
        .signup(
            identity::SignupRequest {
                organization_name: req.organization_name,
                slug: req.slug,
                name: req.name,
                email: req.email,
                password: req.password,
            },
            &meta,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(session_response(signed_in))))
}

/// Sign in with the organization's slug, email and password (and MFA code when enrolled).
///
/// Five consecutive failures lock the account for 30 minutes; attempts are also rate-limited per
/// client address and per account. Every failure answers the same `invalid-credentials` problem.
#[utoipa::path(post, path = "/v1/sessions", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 201, body = SessionResponse),
        (status = 401, description = "invalid-credentials, mfa-required or invalid-mfa-code", body = Problem),
        (status = 429, body = Problem),
    ))]
async fn create_session(
    State(state): State<AppState>,
    Meta(meta): Meta,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<(StatusCode, Json<SessionResponse>)> {
    let signed_in = state
        .identity
        .login(
            identity::LoginRequest {
                organization: req.organization,
                email: req.email,
                password: req.password,
                mfa_code: req.mfa_code,
            },
            &meta,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(session_response(signed_in))))
}

/// Sign out: end the session whose token made this request.
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = Problem)))]
async fn delete_current_session(
    State(state): State<AppState>,
    PendingMfa(caller): PendingMfa,
) -> ApiResult<StatusCode> {
    state.identity.logout(&caller).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller: user, organization and effective permissions.
#[utoipa::path(get, path = "/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = MeResponse), (status = 401, body = Problem)))]
async fn me(State(state): State<AppState>, PendingMfa(caller): PendingMfa) -> ApiResult<Json<MeResponse>> {
    let (user, org) = state.identity.me(&caller).await?;
    Ok(Json(MeResponse {
        user: user.into_api(),
        organization: org.into_api(),
        permissions: caller.permissions.iter().collect(),
        authenticated_by: match caller.principal {
            Principal::Session { .. } => "session".to_owned(),
            Principal::ApiKey { .. } => "api_key".to_owned(),
        },
        mfa_enrolment_required: caller.mfa_enrolment_required,
    }))
}

/// Change the caller's password; every other session of theirs ends.
#[utoipa::path(post, path = "/v1/me/password", tag = "auth", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn change_password(
    State(state): State<AppState>,
    PendingMfa(caller): PendingMfa,
    ApiJson(req): ApiJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    state.identity.change_password(&caller, &req.current_password, &req.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start multi-factor enrolment: returns a TOTP secret for an authenticator app.
#[utoipa::path(post, path = "/v1/me/mfa/enrolment", tag = "auth", security(("bearer" = [])),
    responses((status = 201, body = MfaEnrolmentResponse), (status = 409, body = Problem)))]
async fn begin_mfa_enrolment(
    State(state): State<AppState>,
    PendingMfa(caller): PendingMfa,
) -> ApiResult<(StatusCode, Json<MfaEnrolmentResponse>)> {
    let e = state.identity.begin_mfa_enrolment(&caller).await?;
    Ok((
        StatusCode::CREATED,
        Json(MfaEnrolmentResponse { otpauth_uri: e.otpauth_uri, secret: e.secret_base32 }),
    ))
}

/// Confirm enrolment with a current code; returns single-use recovery codes.
#[utoipa::path(post, path = "/v1/me/mfa/confirm", tag = "auth", security(("bearer" = [])),
    request_body = MfaCodeRequest,
    responses((status = 200, body = RecoveryCodesResponse), (status = 401, body = Problem)))]
async fn confirm_mfa(
    State(state): State<AppState>,
    PendingMfa(caller): PendingMfa,
    ApiJson(req): ApiJson<MfaCodeRequest>,
) -> ApiResult<Json<RecoveryCodesResponse>> {
    let recovery_codes = state.identity.confirm_mfa(&caller, &req.code).await?;
    Ok(Json(RecoveryCodesResponse { recovery_codes }))
}

/// Turn multi-factor sign-in off (not allowed where the organization requires it).
#[utoipa::path(post, path = "/v1/me/mfa/disable", tag = "auth", security(("bearer" = [])),
    request_body = MfaCodeRequest,
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn disable_mfa(
    State(state): State<AppState>,
    PendingMfa(caller): PendingMfa,
    ApiJson(req): ApiJson<MfaCodeRequest>,
) -> ApiResult<StatusCode> {
    state.identity.disable_mfa(&caller, &req.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the recovery codes (the old ones stop working).
#[utoipa::path(post, path = "/v1/me/mfa/recovery-codes", tag = "auth", security(("bearer" = [])),
    request_body = MfaCodeRequest,
    responses((status = 200, body = RecoveryCodesResponse), (status = 401, body = Problem)))]
async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    PendingMfa(caller): PendingMfa,
    ApiJson(req): ApiJson<MfaCodeRequest>,
) -> ApiResult<Json<RecoveryCodesResponse>> {
    let recovery_codes = state.identity.regenerate_recovery_codes(&caller, &req.code).await?;
    Ok(Json(RecoveryCodesResponse { recovery_codes }))
}

/// The permission catalogue and each role's default grant.
#[utoipa::path(get, path = "/v1/permissions", tag = "auth",
    responses((status = 200, body = PermissionCatalogue)))]
async fn permission_catalogue() -> Json<PermissionCatalogue> {
    Json(PermissionCatalogue {
        permissions: Permission::ALL
            .iter()
            .map(|p| PermissionInfo { name: *p, description: p.description().to_owned() })
            .collect(),
        roles: Role::ALL
            .iter()
            .map(|r| RoleGrant { role: *r, permissions: PermissionSet::for_role(*r).iter().collect() })
            .collect(),
    })
}
