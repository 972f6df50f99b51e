//! `Idempotency-Key` on POST (DESIGN §5): a retried POST gets the first attempt's response.
//!
//! The key is claimed in its own committed transaction before the handler runs, so a concurrent
//! duplicate sees it (409 while the first runs); the response (status, content type, location,
//! body) is stored once the handler answers below 500; a 5xx gives the key back so the client
//! can retry. The same key with a different request is 422. Keys are per caller (session user or
//! API key) and organization and live 24 hours. Requests without a key, or unauthenticated ones,
//! pass through untouched.
//!
//! A request is its method, path and query, content type and body; a multipart body is its parts
//! (see [`body_identity`]), since every retry of an upload draws a new boundary.

use api_types::ProblemType;
use std::borrow::Cow;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use identity::{Caller, Principal};
use sha2::{Digest, Sha256};
use store::idempotency::{self, Claim, StoredResponse};
use store::{Actor, TenantTx};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

pub const HEADER: &str = "idempotency-key";
/// Set on a response replayed from a key.
pub const REPLAYED: &str = "idempotent-replayed";
/// Largest request body kept for fingerprinting (uploads included).
const BODY_LIMIT: usize = 64 * 1024 * 1024;
/// Responses larger than this are returned but not kept (the key is given back).
const STORED_RESPONSE_LIMIT: usize = 1024 * 1024;

pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(raw) = req.headers().get(HEADER) else {
        return next.run(req).await;
    };
    let key = match raw.to_str() {
        Ok(k) if (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()) => k.to_owned(),
        _ => {
            return ApiError::new(
                ProblemType::InvalidParameter,
                "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is a good choice)",
            )
            .into_response();
        }
    };
    let (parts, body) = req.into_parts();
    let Ok(Caller { ctx, .. }) = crate::extract::authenticate(&parts, &state).await else {
        // The handler answers the missing or bad credentials.
        return next.run(Request::from_parts(parts, body)).await;
    };
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(ProblemType::PayloadTooLarge, "the request body is too large")
                .into_response();
        }
    };
    let principal: Uuid = match ctx.principal {
        Principal::Session { user_id, .. } => user_id.as_uuid(),
        Principal::ApiKey { key_id, .. } => key_id.as_uuid(),
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let path = parts.uri.path_and_query().map_or(parts.uri.path(), |p| p.as_str());
    let (content_type, body_id) = body_identity(content_type, &bytes).await;
    let fingerprint = idempotency::fingerprint(parts.method.as_str(), path, content_type, &body_id);

    let claim = async {
        let mut tx = TenantTx::begin(&state.db, ctx.organization_id, Actor::system()).await?;
        let claim = idempotency::claim(&mut tx, principal, &key, &fingerprint).await?;
        tx.commit().await?;
        Ok::<_, store::StoreError>(claim)
    };
    match claim.await {
        Err(e) => ApiError::from(e).into_response(),
        Ok(Claim::Done(stored)) => replay(stored),
        Ok(Claim::InFlight) => {
            let mut response = ApiError::new(
                ProblemType::Conflict,
                "a request with this Idempotency-Key is still being processed; retry in a moment",
            )
            .into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1));
            response
        }
        Ok(Claim::Mismatch) => ApiError::new(
            ProblemType::Validation,
            "this Idempotency-Key was used for a different request; send a new key with a new request",
        )
        .into_response(),
        Ok(Claim::Claimed) => {
            let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            settle(&state, ctx.organization_id, principal, &key, response).await
        }
    }
}

/// What identifies a request's body, with the content type to fingerprint it under. A
/// `multipart/form-data` body is its parts in order, each as its name, file name, content type
/// and the SHA-256 of its content, under the bare media type: the boundary (in the content type
/// and between the parts) is drawn anew by every client retry, so the raw bytes of the same upload
/// never match. Any other body, or one that does not parse as multipart (its handler refuses
/// it), is its bytes.
async fn body_identity<'a>(content_type: &'a str, body: &'a Bytes) -> (&'a str, Cow<'a, [u8]>) {
    const MULTIPART: &str = "multipart/form-data";
    let is_multipart =
        content_type.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case(MULTIPART));
    let parts = match multer::parse_boundary(content_type) {
        Ok(boundary) if is_multipart => multipart_parts(body.clone(), boundary).await,
        _ => None,
    };
    match parts {
        Some(parts) => (MULTIPART, Cow::Owned(parts)),
        None => (content_type, Cow::Borrowed(body.as_ref())),
    }
}

async fn multipart_parts(body: Bytes, boundary: String) -> Option<Vec<u8>> {
    let mut multipart = multer::Multipart::new(Body::from(body).into_data_stream(), boundary);
    let mut out = Vec::new();
    while let Some(mut field) = multipart.next_field().await.ok()? {
        let content_type = field.content_type().map(ToString::to_string);
        for text in [field.name(), field.file_name(), content_type.as_deref()] {
            // Absent and empty differ: a length of u64::MAX marks absent.
            match text {
                Some(t) => {
                    out.extend_from_slice(&(t.len() as u64).to_be_bytes());
                    out.extend_from_slice(t.as_bytes());
                }
                None => out.extend_from_slice(&u64::MAX.to_be_bytes()),
            }
        }
        let mut content = Sha256::new();
        while let Some(chunk) = field.chunk().await.ok()? {
            content.update(&chunk);
        }
        out.extend_from_slice(&content.finalize());
    }
    Some(out)
}

/// Stores the claimed request's response (or gives the key back) and returns the response.
async fn settle(
    state: &AppState,
    org: domain::OrganizationId,
    principal: Uuid,
    key: &str,
    response: Response,
) -> Response {
    let (parts, body) = response.into_parts();
    let header_text =
        |name: header::HeaderName| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "response body failed; idempotency key given back");
            let _ = give_back(state, org, principal, key).await;
            return ApiError::new(ProblemType::Internal, "the response could not be produced")
                .into_response();
        }
    };
    let keep = parts.status.as_u16() < 500 && bytes.len() <= STORED_RESPONSE_LIMIT;
    let outcome = if keep {
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            content_type: header_text(header::CONTENT_TYPE),
            location: header_text(header::LOCATION),
            body: bytes.to_vec(),
        };
        async {
            let mut tx = TenantTx::begin(&state.db, org, Actor::system()).await?;
            idempotency::complete(&mut tx, principal, key, &stored).await?;
            tx.commit().await
        }
        .await
    } else {
        give_back(state, org, principal, key).await
    };
    if let Err(e) = outcome {
        // The work is done and answered; a retry will see 409 until the key expires.
        tracing::error!(error = %e, "storing the idempotent response failed");
    }
    Response::from_parts(parts, Body::from(bytes))
}

async fn give_back(
    state: &AppState,
    org: domain::OrganizationId,
    principal: Uuid,
    key: &str,
) -> store::StoreResult<()> {
    let mut tx = TenantTx::begin(&state.db, org, Actor::system()).await?;
    idempotency::release(&mut tx, principal, key).await?;
    tx.commit().await
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [(header::CONTENT_TYPE, stored.content_type), (header::LOCATION, stored.location)] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, v);
        }
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}
