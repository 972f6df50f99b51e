//! The audit log: reading with filters, and verifying the hash chain.

use api_types::audit::{AuditEntryResponse, AuditListParams, AuditVerifyResponse};
use api_types::{Page, Problem};
use axum::Json;
use axum::extract::State;
use store::audit::AuditFilter;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::convert::IntoApi;
use crate::error::ApiResult;
use crate::extract::{ApiQuery, Caller};
use crate::routes::page_limit;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit)).routes(routes!(verify_audit))
}

/// Audit entries, newest first, with filters (`system:audit`).
#[utoipa::path(get, path = "/v1/audit-log", tag = "audit", security(("bearer" = [])),
    params(AuditListParams),
    responses((status = 200, body = Page<AuditEntryResponse>), (status = 403, body = Problem)))]
async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditListParams>,
) -> ApiResult<Json<Page<AuditEntryResponse>>> {
    let limit = page_limit(q.limit)?;
    let filter = AuditFilter {
        actor_id: q.actor_id,
        action: q.action,
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        from: q.from,
        to: q.to,
    };
    let page = state.identity.audit_log(&caller, &filter, q.cursor.as_deref(), limit).await?;
    Ok(Json(page.into_api()))
}

/// Re-hash the organization's audit chain and report whether it is intact, with every break
/// (`system:audit`).
#[utoipa::path(post, path = "/v1/audit-log/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = AuditVerifyResponse), (status = 403, body = Problem)))]
async fn verify_audit(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<AuditVerifyResponse>> {
    Ok(Json(state.identity.verify_audit_chain(&caller).await?.into_api()))
}
