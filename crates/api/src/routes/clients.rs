//! Clients: CRUD, archive/restore, lists with filters and search, bulk actions, CSV import/export.

use api_types::clients::{
    BulkClientRequest, BulkClientResponse, ClientExportParams, ClientListParams, ClientResponse,
    ClientSummaryResponse, CreateClientRequest, ImportParams, ImportReport, UpdateClientRequest,
};
use api_types::{Page, Problem, ProblemType};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::ClientId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::page_limit;
use crate::state::AppState;

/// Largest CSV accepted by an import (about 100,000 rows).
const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    let import =
        OpenApiRouter::new().routes(routes!(import_clients)).layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT));
    OpenApiRouter::new()
        .routes(routes!(create_client, list_clients))
        .routes(routes!(get_client, update_client, delete_client))
        .routes(routes!(archive_client))
        .routes(routes!(restore_client))
        .routes(routes!(bulk_clients))
        .routes(routes!(export_clients))
        .merge(import)
}

/// Create a client (`clients:create`).
#[utoipa::path(post, path = "/v1/clients", tag = "clients", security(("bearer" = [])),
    request_body = CreateClientRequest,
    responses((status = 201, body = ClientResponse), (status = 409, description = "tax id already used", body = Problem),
              (status = 422, body = Problem)))]
async fn create_client(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateClientRequest>,
) -> ApiResult<(StatusCode, Json<ClientResponse>)> {
    let c = state.practice.create_client(&caller, req).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// List clients with filters, a sort and keyset paging; or, with `q`, search them (`clients:read`).
///
/// Portal users see only the clients they were granted. Archived clients are left out unless
/// `status` names them.
#[utoipa::path(get, path = "/v1/clients", tag = "clients", security(("bearer" = [])),
    params(ClientListParams),
    responses((status = 200, body = Page<ClientSummaryResponse>), (status = 422, body = Problem)))]
async fn list_clients(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ClientListParams>,
) -> ApiResult<Json<Page<ClientSummaryResponse>>> {
    let limit = page_limit(q.limit)?;
    Ok(Json(state.practice.list_clients(&caller, &q, limit).await?))
}

/// One client.
#[utoipa::path(get, path = "/v1/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = ClientId, Path)),
    responses((status = 200, body = ClientResponse), (status = 404, body = Problem)))]
async fn get_client(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
) -> ApiResult<Json<ClientResponse>> {
    Ok(Json(state.practice.get_client(&caller, id).await?))
}

/// Change a client: absent fields stay, `null` clears (`clients:update`).
#[utoipa::path(patch, path = "/v1/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = ClientId, Path)), request_body = UpdateClientRequest,
    responses((status = 200, body = ClientResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_client(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
    ApiJson(req): ApiJson<UpdateClientRequest>,
) -> ApiResult<Json<ClientResponse>> {
    Ok(Json(state.practice.update_client(&caller, id, req).await?))
}

/// Delete a client (soft: kept for the audit trail, gone everywhere else) (`clients:delete`).
#[utoipa::path(delete, path = "/v1/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = ClientId, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_client(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
) -> ApiResult<StatusCode> {
    state.practice.delete_client(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Archive a client: out of working lists, restorable (`clients:update`).
#[utoipa::path(post, path = "/v1/clients/{id}/archive", tag = "clients", security(("bearer" = [])),
    params(("id" = ClientId, Path)), responses((status = 200, body = ClientResponse), (status = 404, body = Problem)))]
async fn archive_client(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
) -> ApiResult<Json<ClientResponse>> {
    Ok(Json(state.practice.set_client_archived(&caller, id, true).await?))
}

/// Restore an archived client to the status it had (`clients:update`).
#[utoipa::path(post, path = "/v1/clients/{id}/restore", tag = "clients", security(("bearer" = [])),
    params(("id" = ClientId, Path)), responses((status = 200, body = ClientResponse), (status = 404, body = Problem)))]
async fn restore_client(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
) -> ApiResult<Json<ClientResponse>> {
    Ok(Json(state.practice.set_client_archived(&caller, id, false).await?))
}

/// Archive, restore, activate, set the status of or assign up to 1,000 clients in one
/// transaction: all ids must exist, or nothing changes (`clients:update`).
#[utoipa::path(post, path = "/v1/clients/bulk", tag = "clients", security(("bearer" = [])),
    request_body = BulkClientRequest,
    responses((status = 200, body = BulkClientResponse), (status = 422, body = Problem)))]
async fn bulk_clients(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BulkClientRequest>,
) -> ApiResult<Json<BulkClientResponse>> {
    Ok(Json(state.practice.bulk_clients(&caller, req).await?))
}

/// Import clients from CSV (`text/csv` body, header row first; see the column list in the
/// description of `ImportReport`). Every row is validated; if any is rejected, nothing is
/// imported and the problem lists each rejected line's reasons. `dry_run=true` only validates
/// (`clients:create`).
#[utoipa::path(post, path = "/v1/clients/import", tag = "clients", security(("bearer" = [])),
    params(ImportParams), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 413, body = Problem), (status = 415, body = Problem),
              (status = 422, description = "rows rejected; nothing imported", body = Problem)))]
async fn import_clients(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ImportParams>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<Json<ImportReport>> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !matches!(essence.as_str(), "text/csv" | "application/csv" | "text/plain") {
        return Err(ApiError::new(
            ProblemType::UnsupportedMediaType,
            "send the file as `Content-Type: text/csv`",
        ));
    }
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(ProblemType::PayloadTooLarge, "imports take at most 32 MiB; split the file")
        } else {
            ApiError::new(ProblemType::MalformedJson, e.body_text())
        }
    })?;
    let report = state.practice.import_clients(&caller, &body, q.dry_run.unwrap_or(false)).await?;
    Ok(Json(report))
}

/// Export the clients matching the filters as CSV, streamed (`clients:export`). Tax ids are
/// masked unless you have `clients:tax_id`. The export is recorded in the audit log.
#[utoipa::path(get, path = "/v1/clients/export", tag = "clients", security(("bearer" = [])),
    params(ClientExportParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = Problem)))]
async fn export_clients(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ClientExportParams>,
) -> ApiResult<Response> {
    let stream = state.practice.export_clients(&caller, &q).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"clients.csv\""),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
