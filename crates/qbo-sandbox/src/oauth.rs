//! Intuit's OAuth 2.0 endpoints: authorize (consent is automatic: it redirects straight back with
//! `code`, `state` and `realmId`; the company is the `realm_id` parameter, a sandbox extension,
//! or else the first company the app is not connected to yet — as a user would pick another
//! company for another client — falling back to the first one), the token endpoint (authorization-code and refresh-token
//! grants, client auth by HTTP Basic or form fields), revocation (JSON or form body), the OpenID
//! discovery document, userinfo and an empty JWKS (no `id_token` is ever issued).
//!
//! Grants behave as Intuit documents: a code works once, and a second use revokes what the first
//! minted; every refresh rotates the refresh token and the old one stops working at once (so a
//! client that refreshes concurrently, or loses the newest token, gets `invalid_grant`); revoking
//! either token ends the whole connection.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use crate::grants::{Code, random_token};
use crate::state::{AppState, SandboxState};

/// Paths, as on Intuit's hosts (which are several; here they share one origin).
pub const AUTHORIZE_PATH: &str = "/connect/oauth2";
pub const TOKEN_PATH: &str = "/oauth2/v1/tokens/bearer";
pub const REVOKE_PATH: &str = "/v2/oauth2/tokens/revoke";
pub const USERINFO_PATH: &str = "/v1/openid_connect/userinfo";
pub const JWKS_PATH: &str = "/op/v1/jwks";
pub const DISCOVERY_PATH: &str = "/.well-known/openid_configuration";
pub const SANDBOX_DISCOVERY_PATH: &str = "/.well-known/openid_sandbox_configuration";

fn oauth_error(status: StatusCode, error: &str, description: Option<&str>) -> Response {
    let mut body = json!({ "error": error });
    if let Some(description) = description {
        body["error_description"] = json!(description);
    }
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

fn invalid_grant(state: &SandboxState, description: &str) -> Response {
    state.oauth_counters(|c| c.invalid_grants += 1);
    oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", Some(description))
}

#[derive(Deserialize)]
pub struct AuthorizeParams {
    client_id: Option<String>,
    response_type: Option<String>,
    scope: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    /// Sandbox extension standing in for the company picker: which realm to connect.
    realm_id: Option<String>,
}

/// The consent screen, consented to at once.
pub async fn authorize(State(state): State<AppState>, Query(params): Query<AuthorizeParams>) -> Response {
    let Some(app) = params.client_id.as_deref().and_then(|id| state.app(id)) else {
        return (StatusCode::BAD_REQUEST, "unknown client_id").into_response();
    };
    let Some(redirect_uri) = params.redirect_uri.clone() else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is required").into_response();
    };
    if !app.redirect_uris.is_empty() && !app.redirect_uris.contains(&redirect_uri) {
        return (StatusCode::BAD_REQUEST, "redirect_uri is not registered for this app").into_response();
    }
    let mut target = redirect_uri.clone();
    let separator = if target.contains('?') { '&' } else { '?' };
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(s) = &params.state {
        pairs.push(("state", s.clone()));
    }
    let scopes = params.scope.unwrap_or_default();
    if params.response_type.as_deref() != Some("code") {
        pairs.push(("error", "unsupported_response_type".into()));
    } else if !scopes.split_whitespace().any(|s| s == "com.intuit.quickbooks.accounting") {
        pairs.push(("error", "invalid_scope".into()));
    } else {
        let realm = params.realm_id.clone().or_else(|| {
            let realms = state.realm_ids();
            let tokens = state.tokens();
            realms.iter().find(|r| !tokens.connected(&app.client_id, r)).or(realms.first()).cloned()
        });
        let Some(realm) = realm.filter(|r| state.company(r).is_some()) else {
            return (StatusCode::BAD_REQUEST, "no such company").into_response();
        };
        let code = {
            let mut rng = state.rng();
            random_token(&mut *rng, "XAB")
        };
        state.tokens().codes.insert(
            code.clone(),
            Code {
                client_id: app.client_id.clone(),
                realm: realm.clone(),
                redirect_uri,
                expires: Instant::now() + Duration::from_secs(state.lifetimes.authorization_code_secs),
                grant: None,
            },
        );
        state.oauth_counters(|c| c.authorizations += 1);
        pairs.push(("code", code));
        pairs.push(("realmId", realm));
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    target.push(separator);
    target.push_str(&query);
    (StatusCode::FOUND, [(header::LOCATION, target)]).into_response()
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// The authenticated client id, from HTTP Basic or from form fields (`client_secret_post`).
fn client_auth(
    state: &SandboxState,
    headers: &HeaderMap,
    id: Option<&str>,
    secret: Option<&str>,
) -> Option<String> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let (id, secret) = match &basic {
        Some(pair) => pair.split_once(':').map(|(i, s)| (i.to_owned(), s.to_owned()))?,
        None => (id?.to_owned(), secret?.to_owned()),
    };
    state.app(&id).filter(|app| app.client_secret == secret).map(|app| app.client_id.clone())
}

pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let Ok(request) = serde_urlencoded::from_str::<TokenRequest>(&body) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", Some("malformed form body"));
    };
    let Some(client_id) =
        client_auth(&state, &headers, request.client_id.as_deref(), request.client_secret.as_deref())
    else {
        state.oauth_counters(|c| c.invalid_clients += 1);
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", None);
    };
    let hard = headers
        .get("x-include-refresh-token-hard-expires-in")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let issued = match request.grant_type.as_deref() {
        Some("authorization_code") => {
            let (Some(code), Some(redirect_uri)) = (request.code, request.redirect_uri) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    Some("code and redirect_uri are required"),
                );
            };
            state.oauth_counters(|c| c.code_exchanges += 1);
            let mut tokens = state.tokens();
            let Some(entry) = tokens.codes.get(&code) else {
                drop(tokens);
                return invalid_grant(&state, "Invalid authorization code");
            };
            if let Some(grant) = entry.grant {
                tokens.revoke_grant(grant);
                drop(tokens);
                return invalid_grant(&state, "Authorization code has already been used");
            }
            if entry.client_id != client_id
                || entry.redirect_uri != redirect_uri
                || entry.expires <= Instant::now()
            {
                drop(tokens);
                return invalid_grant(&state, "Invalid authorization code");
            }
            let realm = entry.realm.clone();
            let (grant, issued) = {
                let mut rng = state.rng();
                tokens.connect(&client_id, &realm, state.token_terms(), &mut *rng, hard)
            };
            if let Some(entry) = tokens.codes.get_mut(&code) {
                entry.grant = Some(grant);
            }
            issued
        }
        Some("refresh_token") => {
            let Some(refresh_token) = request.refresh_token else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    Some("refresh_token is required"),
                );
            };
            state.oauth_counters(|c| c.refreshes += 1);
            let inject = state.roll(state.faults().refresh_invalid_grant_rate);
            let mut tokens = state.tokens();
            let grant_id = tokens.refresh_index.get(&refresh_token).copied();
            let usable = grant_id.and_then(|id| tokens.grants.get(&id)).is_some_and(|g| {
                !g.revoked && g.client_id == client_id && g.refresh_expires > Instant::now()
            });
            let Some(grant_id) = grant_id.filter(|_| usable) else {
                drop(tokens);
                return invalid_grant(&state, "Incorrect or invalid refresh token");
            };
            if inject {
                tokens.revoke_grant(grant_id);
                drop(tokens);
                return invalid_grant(&state, "Incorrect or invalid refresh token");
            }
            let mut rng = state.rng();
            tokens.mint(grant_id, state.token_terms(), &mut *rng, hard)
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", None),
    };
    (
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store"), (header::PRAGMA, "no-cache")],
        [("intuit_tid", uuid::Uuid::new_v4().to_string())],
        Json(issued),
    )
        .into_response()
}

#[derive(Deserialize)]
struct RevokeRequest {
    token: Option<String>,
}

/// Revokes the connection a refresh or access token belongs to. python's intuit-oauth sends
/// JSON, node-quickbooks a form; both are accepted.
pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: String) -> Response {
    let request: Option<RevokeRequest> = if body.trim_start().starts_with('{') {
        serde_json::from_str(&body).ok()
    } else {
        serde_urlencoded::from_str(&body).ok()
    };
    let Some(token) = request.and_then(|r| r.token) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", Some("token is required"));
    };
    let Some(client_id) = client_auth(&state, &headers, None, None) else {
        state.oauth_counters(|c| c.invalid_clients += 1);
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", None);
    };
    let mut tokens = state.tokens();
    let grant =
        tokens.refresh_index.get(&token).copied().or_else(|| tokens.access.get(&token).map(|a| a.grant));
    if let Some(grant) = grant.filter(|g| tokens.grants.get(g).is_some_and(|g| g.client_id == client_id)) {
        tokens.revoke_grant(grant);
    }
    drop(tokens);
    state.oauth_counters(|c| c.revocations += 1);
    StatusCode::OK.into_response()
}

pub async fn discovery(State(state): State<AppState>) -> Response {
    let base = &state.base_url;
    Json(json!({
        "issuer": "https://oauth.platform.intuit.com/op/v1",
        "authorization_endpoint": format!("{base}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{base}{TOKEN_PATH}"),
        "userinfo_endpoint": format!("{base}{USERINFO_PATH}"),
        "revocation_endpoint": format!("{base}{REVOKE_PATH}"),
        "jwks_uri": format!("{base}{JWKS_PATH}"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }))
    .into_response()
}

pub async fn jwks() -> Response {
    Json(json!({ "keys": [] })).into_response()
}

/// OpenID userinfo for a valid access token.
pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let tokens = state.tokens();
    let Some(access) = token.and_then(|t| tokens.access.get(t)).filter(|a| a.expires > Instant::now()) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    Json(json!({
        "sub": format!("sandbox-user-{}", access.grant),
        "email": "owner@sandbox.example.com",
        "emailVerified": true,
        "givenName": "Sandbox",
        "familyName": "Owner",
    }))
    .into_response()
}
