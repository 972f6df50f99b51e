//! Cross-cutting request handling: request ids, the access log with route-level latency
//! metrics, timeouts and the problem+json fallbacks.

use std::time::Instant;

use api_types::ProblemType;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorCause, REQUEST_ID};

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
