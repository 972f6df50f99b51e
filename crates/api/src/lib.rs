//! The HTTP API: axum routes under `/v1`, problem+json errors, OpenAPI at `/openapi.json`
//! rendered at `/docs`, health at `/healthz` and `/readyz`, Prometheus at `/metrics`.
//!
//! # Layout
//! - [`routes`]: one module per resource; handlers extract, call one use case, map the error.
//! - [`extract`]: JSON, query and path extractors that answer bad input with problem+json, and
//!   the `Auth` extractors.
//! - [`error`]: the single mapping from typed errors to problem types.
//! - [`middleware`]: request ids, access log and route latency histogram, timeouts, fallbacks.
//! - [`operations`]: the last hour of the server's own figures, sampled in process, for the
//!   console's operations page.
//! - `idempotency`: `Idempotency-Key` on POST (stored responses replayed); `etag`: `ETag` and
//!   `If-None-Match` on GET.

/// `impl IntoApi<$to> for $from` by moving the named fields across.
macro_rules! impl_into_api {
    ($from:ty => $to:ident { $($field:ident),* $(,)? }) => {
        impl $crate::convert::IntoApi<$to> for $from {
            fn into_api(self) -> $to {
                $to { $($field: self.$field.into(),)* }
            }
        }
    };
}

mod convert;
pub mod error;
mod etag;
pub mod extract;
mod idempotency;
pub mod middleware;
mod openapi;
pub mod operations;
pub mod routes;
mod state;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

pub use error::{ApiError, ApiResult};
pub use state::{ApiConfig, App, AppState};

/// The whole application router.
pub fn router(state: AppState) -> Router {
    router_with(state, Router::new())
}

/// The application router with `pages` (the console's HTML routes) served beside the API, under
/// the same security headers, request ids, timeouts and body limits.
pub fn router_with(state: AppState, pages: Router<AppState>) -> Router {
    let (api, openapi) = routes::api_router().split_for_parts();
    let openapi = openapi::finish(openapi);
    let docs = utoipa_swagger_ui::SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", openapi);
    let config = state.config.clone();
    let https = config.public_url.starts_with("https://");
    Router::new()
        .merge(api)
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::idempotency))
        .route_layer(axum::middleware::from_fn(etag::etag))
        .merge(routes::health::router())
        .route_layer(axum::middleware::from_fn(middleware::observe))
        .merge(docs)
        .merge(observed(pages))
        .fallback(middleware::not_found)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(axum::middleware::from_fn_with_state(https, middleware::security_headers))
                .layer(axum::middleware::from_fn(middleware::sanitize_request_id))
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(axum::middleware::from_fn(middleware::scope_request_id))
                .layer(axum::middleware::from_fn(middleware::problem_bodies))
                .layer(axum::middleware::from_fn(middleware::bound_uri))
                .layer(CatchPanicLayer::custom(middleware::panic_response))
                .layer(HandleErrorLayer::new(middleware::handle_layer_error))
                .timeout(config.request_timeout)
                .layer(DefaultBodyLimit::max(config.json_body_limit)),
        )
}

/// `pages` with the access log and latency histogram (axum refuses a route layer on no routes).
fn observed(pages: Router<AppState>) -> Router<AppState> {
    if pages.has_routes() { pages.route_layer(axum::middleware::from_fn(middleware::observe)) } else { pages }
}

/// The OpenAPI document (for `countinghouse openapi` and tests).
pub fn openapi() -> serde_json::Value {
    openapi::finish(routes::api_router().split_for_parts().1)
}

/// Serves until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}
