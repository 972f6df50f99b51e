//! Extractors that answer bad input with problem+json, and the caller's identity.

use std::net::{IpAddr, SocketAddr};

use api_types::ProblemType;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
pub use identity::Caller;
use identity::{IdentityError, RequestMeta};
use serde::de::DeserializeOwned;
pub use store::PlatformAdmin;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON body; rejections become `malformed-json` (400), `validation` (422, wrong types, missing
/// or unknown fields), `unsupported-media-type` (415) or `payload-too-large` (413).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // Every request body is an object: serde would otherwise read a struct from an array.
        match axum::Json::<api_types::Object<T>>::from_request(req, state).await {
            Ok(axum::Json(api_types::Object(v))) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    match r {
        JsonRejection::JsonDataError(e) => {
            // serde's message names the field and what was wrong with it.
            let text = e.body_text();
            let detail = text
                .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                .unwrap_or(&text)
                .to_owned();
            ApiError::new(ProblemType::Validation, detail)
        }
        JsonRejection::JsonSyntaxError(e) => ApiError::new(ProblemType::MalformedJson, e.body_text()),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ProblemType::UnsupportedMediaType,
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonRejection::BytesRejection(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(ProblemType::PayloadTooLarge, "the request body exceeds this route's size limit")
        }
        other => ApiError::new(ProblemType::MalformedJson, other.body_text()),
    }
}

/// Query parameters; a bad one is `invalid-parameter` (400).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::new(ProblemType::InvalidParameter, e.body_text()))
    }
}

/// Path parameters; a malformed id is `invalid-parameter` (400).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|e: PathRejection| ApiError::new(ProblemType::InvalidParameter, e.body_text()))
    }
}

/// Where the request came from: request id, client address, user agent.
pub struct Meta(pub RequestMeta);

impl FromRequestParts<AppState> for Meta {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(Meta(request_meta(parts, state)))
    }
}

/// Where a request came from, as the audit log records it.
pub fn request_meta(parts: &Parts, state: &AppState) -> RequestMeta {
    let request_id = parts.headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let forwarded = state
        .config
        .trust_forwarded_for
        .then(|| {
            parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|ip| ip.trim().parse::<IpAddr>().ok())
        })
        .flatten();
    let ip = forwarded
        .or_else(|| parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip()));
    let user_agent = parts.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    RequestMeta { request_id, ip, user_agent }
}

/// An authenticated caller who may still have to enrol in MFA (for `/v1/me` and the MFA
/// routes). Every other route takes [`Caller`], which refuses such a caller.
pub struct PendingMfa(pub Caller);

pub(crate) async fn authenticate(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    let meta = request_meta(parts, state);
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or(IdentityError::Unauthenticated)?;
    let ctx = state.identity.authenticate(token, &meta).await?;
    Ok(Caller::new(ctx, meta))
}

/// An authenticated caller whose organization's MFA policy is satisfied: the argument of every
/// use case behind a signed-in route.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = authenticate(parts, state).await?;
        if caller.mfa_enrolment_required {
            return Err(IdentityError::MfaEnrolmentRequired.into());
        }
        Ok(caller)
    }
}

impl FromRequestParts<AppState> for PendingMfa {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Ok(PendingMfa(authenticate(parts, state).await?))
    }
}

/// A platform administrator: the capability the platform's use cases require, issued by
/// `identity` after checking the caller against the database (403 `forbidden` otherwise).
impl FromRequestParts<AppState> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        Ok(state.identity.platform_admin(&caller).await?)
    }
}
