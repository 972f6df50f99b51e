//! Cross-cutting request handling: request ids, the access log with route-level latency
//! metrics, timeouts and the problem+json fallbacks.

use std::time::Instant;

use api_types::ProblemType;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCause, REQUEST_ID};

/// The longest request id taken from a client; a longer one (or one with other than visible ASCII) is
/// replaced by one of ours rather than echoed and stored.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// Drops an `x-request-id` that is too long or not visible ASCII, so that the next layer makes one.
pub async fn sanitize_request_id(mut req: Request, next: Next) -> Response {
    let acceptable = |v: &HeaderValue| {
        let b = v.as_bytes();
        !b.is_empty() && b.len() <= MAX_REQUEST_ID_LEN && b.iter().all(|c| c.is_ascii_graphic())
    };
    if req.headers().get("x-request-id").is_some_and(|v| !acceptable(v)) {
        req.headers_mut().remove("x-request-id");
    }
    next.run(req).await
}

/// Headers every response carries unless a handler set its own: no MIME sniffing, no framing by other
/// sites, no referrer (links can carry tokens), and HSTS when the deployment is served over https.
pub async fn security_headers(State(https): State<bool>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "no-referrer");
    set(header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'");
    if https {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000; includeSubDomains");
    }
    response
}

/// The longest path and query answered; a longer one is refused before routing. (Past 65,534 bytes
/// hyper refuses the request line itself, with an empty 414, before any of this code runs.)
pub const MAX_URI_LEN: usize = 8 * 1024;

/// Refuses an over-long URI with a problem instead of parsing and routing it.
pub async fn bound_uri(req: Request, next: Next) -> Response {
    let len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if len > MAX_URI_LEN {
        return ApiError::new(
            ProblemType::UriTooLong,
            format!("the path and query are {len} bytes; at most {MAX_URI_LEN} are accepted"),
        )
        .into_response();
    }
    next.run(req).await
}

/// Makes every error a problem: a refusal produced below our handlers (a body over the limit, a
/// framework rejection) that arrives as text or empty becomes problem+json of its status, keeping
/// any short text as the detail.
pub async fn problem_bodies(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    // A problem already, or an HTML page of the console (which renders its own error pages).
    let rendered = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(b"application/problem+json") || v.as_bytes().starts_with(b"text/html")
    });
    if !(status.is_client_error() || status.is_server_error()) || rendered {
        return response;
    }
    let Some(kind) = ProblemType::for_status(status.as_u16()) else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 2048).await.ok().and_then(|b| String::from_utf8(b.to_vec()).ok());
    let detail =
        text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).unwrap_or_else(|| kind.title().into());
    let mut problem = ApiError::new(kind, detail).into_response();
    for name in [header::RETRY_AFTER, header::ALLOW, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            problem.headers_mut().insert(name, v.clone());
        }
    }
    *problem.status_mut() = status;
    problem
}

/// Puts the request id in scope, so every problem body (fallbacks included) carries it.
pub async fn scope_request_id(req: Request, next: Next) -> Response {
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    REQUEST_ID.scope(request_id, next.run(req)).await
}

/// Records `http_request_duration_seconds{method,route,status}` and writes the access log line;
/// logs the cause of any 5xx once, here.
pub async fn observe(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let response = next.run(req).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    metrics::histogram!(
        "http_request_duration_seconds",
        "method" => method.to_string(),
        "route" => route.clone(),
        "status" => status.to_string(),
    )
    .record(elapsed.as_secs_f64());
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    if let Some(ErrorCause(cause)) = response.extensions().get::<ErrorCause>() {
        tracing::error!(%method, route, status, latency_ms, request_id, error.cause = %cause, "request failed");
    } else if status >= 500 {
        tracing::error!(%method, route, status, latency_ms, request_id, "request failed");
    } else if route.starts_with("/v1") {
        tracing::debug!(%method, route, status, latency_ms, request_id, "request");
    }
    response
}

pub async fn not_found() -> ApiError {
    ApiError::new(ProblemType::NotFound, "no such route; the API is described at /docs and /openapi.json")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(ProblemType::MethodNotAllowed, "this route does not answer that method; see /docs")
}

/// Turns a timed-out request into a problem.
pub async fn handle_layer_error(err: tower::BoxError) -> Response {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(ProblemType::Timeout, "the request took too long and was cancelled; retry later")
            .into_response()
    } else {
        ApiError::internal(err).into_response()
    }
}

/// A panicking handler answers 500 problem+json instead of dropping the connection.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal("handler panicked").into_response()
}
