//! Liveness, readiness and the Prometheus exposition.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

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

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let (size, idle) = state.db.pool_stats();
    metrics::gauge!("db_pool_connections").set(size as f64);
    metrics::gauge!("db_pool_idle_connections").set(idle as f64);
    // Queue depth and age are the database's, whichever process is scraped.
    match jobs::admin::queue_stats(state.db.pool(), Duration::from_secs(300)).await {
        Ok(stats) => jobs::admin::export_gauges(&stats),
        Err(e) => tracing::warn!(error = %e, "job queue figures unavailable for /metrics"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}
