//! Liveness, readiness and the Prometheus exposition.

use std::time::Duration;

use api_types::ProblemType;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use subtle::ConstantTimeEq;

use crate::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// Alive: the process answers. Says nothing about dependencies (so a database outage does not
/// make an orchestrator restart every instance).
async fn healthz() -> &'static str {
    "ok"
}

/// Ready to serve: the database answers within a second.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let ping = sqlx_ping(&state);
    match tokio::time::timeout(Duration::from_secs(1), ping).await {
        Ok(Ok(())) => (StatusCode::OK, "ready"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
    }
}

async fn sqlx_ping(state: &AppState) -> Result<(), store::sqlx::Error> {
    store::sqlx::query("select 1").execute(state.db.pool()).await.map(|_| ())
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse, ApiError> {
    let Some(expected) = state.config.metrics_token.as_deref() else {
        return Err(ApiError::not_found("metrics (set server.metrics_token to serve them)"));
    };
    let shown = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    // Constant-time: the comparison must not tell a guesser how much of the token was right.
    if !shown.is_some_and(|s| bool::from(s.as_bytes().ct_eq(expected.as_bytes()))) {
        return Err(ApiError::new(ProblemType::Unauthenticated, "show the metrics token as a bearer token"));
    }
    let (size, idle) = state.db.pool_stats();
    metrics::gauge!("db_pool_connections").set(size as f64);
    metrics::gauge!("db_pool_idle_connections").set(idle as f64);
    // Queue depth and age are the database's, whichever process is scraped.
    match jobs::admin::queue_stats(state.db.pool(), Duration::from_secs(300)).await {
        Ok(stats) => jobs::admin::export_gauges(&stats),
        Err(e) => tracing::warn!(error = %e, "job queue figures unavailable for /metrics"),
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render()))
}
