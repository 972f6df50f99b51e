//! Browser sessions and CSRF.
//!
//! A signed-in browser holds the same session token an API client gets from `POST /v1/sessions`,
//! in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` when the deployment is https), so sign-out,
//! expiry and revocation work exactly as for the API.
//!
//! CSRF: every state-changing request carries a token in a form field (`_csrf`) or in the
//! `X-CSRF-Token` header (htmx and `console.js` send it). For a signed-in browser the token is a
//! hash of its session token (a synchroniser token that needs no storage: another site can neither
//! read the cookie nor compute the hash); before sign-in it is the double-submit of a random
//! `ch_csrf` cookie. Either is compared in constant time.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use identity::{Caller, IdentityError};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use api::AppState;

use crate::error::PageError;
pub use crate::viewer::{CSRF_FIELD, PendingViewer, Viewer};

pub const SESSION_COOKIE: &str = "ch_session";
const PRE_SESSION_COOKIE: &str = "ch_csrf";
const CSRF_HEADER: &str = "x-csrf-token";
/// The largest form body read (bulk actions over many rows stay far below this).
const FORM_LIMIT: usize = 256 * 1024;

/// A value of a request's `Cookie` header.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The CSRF token bound to a session token.
pub fn csrf_for_session(session_token: &str) -> String {
    let digest =
        Sha256::new().chain_update(b"countinghouse console csrf v1\0").chain_update(session_token).finalize();
    URL_SAFE_NO_PAD.encode(&digest[..24])
}

/// A fresh random token for the pre-sign-in double submit.
pub fn new_pre_session_token() -> String {
    URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

/// `Set-Cookie` for a cookie this console sets: `HttpOnly`, `SameSite=Lax`, path `/`, and `Secure`
/// when the deployment is https. `max_age` 0 deletes it.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    let secure = if state.config.public_url.starts_with("https://") { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}"
    ))
    .expect("cookie values are URL-safe base64 or tokens")
}

/// The pre-sign-in token of this browser, and whether it has to be set.
pub fn pre_session_token(headers: &HeaderMap) -> (String, bool) {
    match cookie(headers, PRE_SESSION_COOKIE) {
        Some(t) if t.len() >= 16 && t.len() <= 64 => (t.to_owned(), false),
        _ => (new_pre_session_token(), true),
    }
}

pub fn pre_session_cookie(state: &AppState, token: &str) -> HeaderValue {
    set_cookie(state, PRE_SESSION_COOKIE, token, 2 * 3600)
}

async fn viewer(parts: &Parts, state: &AppState) -> Result<Viewer, PageError> {
    let back_to = parts.uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned();
    let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Err(PageError::SignIn { back_to });
    };
    let meta = api::extract::request_meta(parts, state);
    let ctx = match state.identity.authenticate(token, &meta).await {
        Ok(ctx) => ctx,
        Err(IdentityError::Unauthenticated) => return Err(PageError::SignIn { back_to }),
        Err(e) => return Err(e.into()),
    };
    let caller = Caller::new(ctx, meta);
    let (user, organization) = state.identity.me(&caller).await?;
    Ok(Viewer { csrf: csrf_for_session(token), caller, user, organization })
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        let v = viewer(parts, state).await?;
        if v.caller.mfa_enrolment_required {
            return Err(PageError::Redirect("/profile?enrol=mfa".into()));
        }
        Ok(v)
    }
}

impl FromRequestParts<AppState> for PendingViewer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        Ok(PendingViewer(viewer(parts, state).await?))
    }
}

/// The token this request must carry: the session's when signed in, else the pre-session cookie's.
fn expected_csrf(headers: &HeaderMap) -> Option<String> {
    if let Some(session) = cookie(headers, SESSION_COOKIE) {
        return Some(csrf_for_session(session));
    }
    cookie(headers, PRE_SESSION_COOKIE).map(str::to_owned)
}

/// Whether `presented` is this request's CSRF token.
pub fn csrf_matches(headers: &HeaderMap, presented: Option<&str>) -> bool {
    match (expected_csrf(headers), presented) {
        (Some(expected), Some(presented)) => bool::from(expected.as_bytes().ct_eq(presented.as_bytes())),
        _ => false,
    }
}

/// The CSRF token in the `X-CSRF-Token` header, if any.
pub fn csrf_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())
}

/// A URL-encoded form whose CSRF token was checked (403 otherwise, before anything is read into `T`).
pub struct CsrfForm<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, _state: &AppState) -> Result<Self, PageError> {
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| PageError::BadForm("the form is larger than this page accepts".into()))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| PageError::BadForm("the form could not be read".into()))?;
        let presented = pairs
            .iter()
            .find(|(k, _)| k == CSRF_FIELD)
            .map(|(_, v)| v.as_str())
            .or_else(|| csrf_header(&parts.headers));
        if !csrf_matches(&parts.headers, presented) {
            return Err(PageError::Csrf);
        }
        let rest: Vec<&(String, String)> = pairs.iter().filter(|(k, _)| k != CSRF_FIELD).collect();
        let encoded = serde_urlencoded::to_string(&rest).map_err(|e| PageError::BadForm(e.to_string()))?;
        let value = serde_urlencoded::from_str(&encoded).map_err(|e| PageError::BadForm(e.to_string()))?;
        Ok(CsrfForm(value))
    }
}

/// The body of a form that is only a button (sign out, approve): its CSRF token and nothing else.
#[derive(Debug, serde::Deserialize)]
pub struct NoFields {}

/// Only a local path is a place to go back to after sign-in (never another site).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".to_owned(),
    }
}

/// See other: where a form post goes next (htmx follows it too).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}
