//! Routes, one module per resource.

pub mod admin;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod clients;
pub mod documents;
pub mod engagements;
pub mod health;
pub mod invitations;
pub mod invoices;
pub mod marketplace;
pub mod members;
pub mod notifications;
pub mod password_resets;
pub mod quickbooks;
pub mod tasks;
pub mod time;
pub mod workflow_recurrence;
pub mod workflow_reminders;
pub mod workflows;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::ApiDoc;
use crate::state::AppState;

/// Every documented route.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(members::router())
        .merge(invitations::router())
        .merge(password_resets::router())
        .merge(api_keys::router())
        .merge(audit::router())
        .merge(clients::router())
        .merge(documents::router())
        .merge(notifications::router())
        .merge(engagements::router())
        .merge(invoices::router())
        .merge(marketplace::router())
        .merge(admin::router())
        .merge(quickbooks::router())
        .merge(workflows::router())
        .merge(workflow_recurrence::router())
        .merge(time::router())
        .merge(tasks::router())
        .merge(workflow_reminders::router())
}

/// Page size from `?limit=`, as a validation problem when out of range.
pub(crate) fn page_limit(limit: Option<u32>) -> crate::ApiResult<usize> {
    api_types::PageParams { limit, cursor: None }.limit().map_err(Into::into)
}
