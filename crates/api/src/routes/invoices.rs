//! Invoices, payments, AR aging, and client portal access.

use api_types::invoices::{
    AgingParams, AgingResponse, CreateInvoiceRequest, GrantPortalAccessRequest, InvoiceListParams,
    InvoiceResponse, PortalAccessResponse, RecordPaymentRequest, UpdateInvoiceRequest,
};
use api_types::{Page, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{ClientId, InvoiceId, PortalAccessId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::page_limit;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invoice, list_invoices))
        .routes(routes!(aging))
        .routes(routes!(get_invoice, update_invoice, delete_invoice))
        .routes(routes!(send_invoice))
        .routes(routes!(cancel_invoice))
        .routes(routes!(record_payment))
        .routes(routes!(grant_portal_access, list_portal_access))
        .routes(routes!(revoke_portal_access))
}

/// Create a draft invoice; the server numbers it and computes every amount (`billing:create`).
#[utoipa::path(post, path = "/v1/invoices", tag = "invoices", security(("bearer" = [])),
    request_body = CreateInvoiceRequest,
    responses((status = 201, body = InvoiceResponse), (status = 404, body = Problem), (status = 409, body = Problem),
              (status = 422, body = Problem)))]
async fn create_invoice(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateInvoiceRequest>,
) -> ApiResult<(StatusCode, Json<InvoiceResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.create_invoice(&caller, req).await?)))
}

/// Invoices, newest issue date first (`billing:read`).
#[utoipa::path(get, path = "/v1/invoices", tag = "invoices", security(("bearer" = [])),
    params(InvoiceListParams), responses((status = 200, body = Page<InvoiceResponse>)))]
async fn list_invoices(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<InvoiceListParams>,
) -> ApiResult<Json<Page<InvoiceResponse>>> {
    let limit = page_limit(q.limit)?;
    Ok(Json(state.practice.list_invoices(&caller, &q, limit).await?))
}

/// Accounts receivable aging: open balances current, 1–30, 31–60, 61–90 and over 90 days past
/// due (`billing:read`).
#[utoipa::path(get, path = "/v1/invoices/aging", tag = "invoices", security(("bearer" = [])),
    params(AgingParams), responses((status = 200, body = AgingResponse)))]
async fn aging(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AgingParams>,
) -> ApiResult<Json<AgingResponse>> {
    Ok(Json(state.practice.aging(&caller, &q).await?))
}

/// One invoice with its lines and payments. A portal user opening a sent invoice marks it viewed.
#[utoipa::path(get, path = "/v1/invoices/{id}", tag = "invoices", security(("bearer" = [])),
    params(("id" = InvoiceId, Path)), responses((status = 200, body = InvoiceResponse), (status = 404, body = Problem)))]
async fn get_invoice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<InvoiceId>,
) -> ApiResult<Json<InvoiceResponse>> {
    Ok(Json(state.practice.get_invoice(&caller, id).await?))
}

/// Edit a draft; amounts are recomputed (`billing:update`).
#[utoipa::path(patch, path = "/v1/invoices/{id}", tag = "invoices", security(("bearer" = [])),
    params(("id" = InvoiceId, Path)), request_body = UpdateInvoiceRequest,
    responses((status = 200, body = InvoiceResponse), (status = 409, description = "not a draft", body = Problem),
              (status = 422, body = Problem)))]
async fn update_invoice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<InvoiceId>,
    ApiJson(req): ApiJson<UpdateInvoiceRequest>,
) -> ApiResult<Json<InvoiceResponse>> {
    Ok(Json(state.practice.update_invoice(&caller, id, req).await?))
}

/// Delete a draft (`billing:delete`); sent invoices are cancelled instead.
#[utoipa::path(delete, path = "/v1/invoices/{id}", tag = "invoices", security(("bearer" = [])),
    params(("id" = InvoiceId, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_invoice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<InvoiceId>,
) -> ApiResult<StatusCode> {
    state.practice.delete_invoice(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send (or re-send) an invoice: draft → sent (`billing:update`).
#[utoipa::path(post, path = "/v1/invoices/{id}/send", tag = "invoices", security(("bearer" = [])),
    params(("id" = InvoiceId, Path)),
    responses((status = 200, body = InvoiceResponse), (status = 409, body = Problem)))]
async fn send_invoice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<InvoiceId>,
) -> ApiResult<Json<InvoiceResponse>> {
    Ok(Json(state.practice.send_invoice(&caller, id).await?))
}

/// Cancel an unpaid invoice (`billing:update`).
#[utoipa::path(post, path = "/v1/invoices/{id}/cancel", tag = "invoices", security(("bearer" = [])),
    params(("id" = InvoiceId, Path)),
    responses((status = 200, body = InvoiceResponse), (status = 409, body = Problem)))]
async fn cancel_invoice(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<InvoiceId>,
) -> ApiResult<Json<InvoiceResponse>> {
    Ok(Json(state.practice.cancel_invoice(&caller, id).await?))
}

/// Record a payment: the invoice becomes partial or paid (`billing:update`).
#[utoipa::path(post, path = "/v1/invoices/{id}/payments", tag = "invoices", security(("bearer" = [])),
    params(("id" = InvoiceId, Path)), request_body = RecordPaymentRequest,
    responses((status = 200, body = InvoiceResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn record_payment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<InvoiceId>,
    ApiJson(req): ApiJson<RecordPaymentRequest>,
) -> ApiResult<Json<InvoiceResponse>> {
    Ok(Json(state.practice.record_payment(&caller, id, req).await?))
}

/// Grant a portal user (a member with the `client` role) access to a client (`users:invite`).
#[utoipa::path(post, path = "/v1/clients/{id}/portal-access", tag = "portal", security(("bearer" = [])),
    params(("id" = ClientId, Path)), request_body = GrantPortalAccessRequest,
    responses((status = 201, body = PortalAccessResponse), (status = 404, body = Problem)))]
async fn grant_portal_access(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
    ApiJson(req): ApiJson<GrantPortalAccessRequest>,
) -> ApiResult<(StatusCode, Json<PortalAccessResponse>)> {
    let access = state.practice.grant_portal_access(&caller, id, req).await?;
    // A portal user's reach is part of their cached authentication.
    state.identity.forget_cached_auth(caller.organization_id).await;
    Ok((StatusCode::CREATED, Json(access)))
}

/// Who can reach a client through the portal (`users:invite`).
#[utoipa::path(get, path = "/v1/clients/{id}/portal-access", tag = "portal", security(("bearer" = [])),
    params(("id" = ClientId, Path)),
    responses((status = 200, body = Vec<PortalAccessResponse>), (status = 404, body = Problem)))]
async fn list_portal_access(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
) -> ApiResult<Json<Vec<PortalAccessResponse>>> {
    Ok(Json(state.practice.list_portal_access(&caller, id).await?))
}

/// Revoke a portal grant; it stops working at once (`users:invite`).
#[utoipa::path(delete, path = "/v1/portal-access/{id}", tag = "portal", security(("bearer" = [])),
    params(("id" = PortalAccessId, Path)),
    responses((status = 200, body = PortalAccessResponse), (status = 404, body = Problem)))]
async fn revoke_portal_access(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<PortalAccessId>,
) -> ApiResult<Json<PortalAccessResponse>> {
    let access = state.practice.revoke_portal_access(&caller, id).await?;
    state.identity.forget_cached_auth(caller.organization_id).await;
    Ok(Json(access))
}
