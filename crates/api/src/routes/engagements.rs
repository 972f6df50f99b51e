//! Engagements, and notes on clients and engagements.

use api_types::engagements::{
    CreateEngagementRequest, CreateNoteRequest, EngagementListParams, EngagementResponse, NoteResponse,
    UpdateEngagementRequest, UpdateNoteRequest,
};
use api_types::{Page, PageParams, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{ClientId, EngagementId, NoteId};
use practice::NoteSubject;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::page_limit;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_engagement, list_engagements))
        .routes(routes!(get_engagement, update_engagement, delete_engagement))
        .routes(routes!(list_client_engagements))
        .routes(routes!(create_client_note, list_client_notes))
        .routes(routes!(create_engagement_note, list_engagement_notes))
        .routes(routes!(update_note, delete_note))
}

/// Create an engagement for a client (`engagements:create`).
#[utoipa::path(post, path = "/v1/engagements", tag = "engagements", security(("bearer" = [])),
    request_body = CreateEngagementRequest,
    responses((status = 201, body = EngagementResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_engagement(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateEngagementRequest>,
) -> ApiResult<(StatusCode, Json<EngagementResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.create_engagement(&caller, req).await?)))
}

/// Engagements across clients, newest first; with `assigned_to` (`me` or a member id), that
/// member's open work by due date (`engagements:read`).
#[utoipa::path(get, path = "/v1/engagements", tag = "engagements", security(("bearer" = [])),
    params(EngagementListParams),
    responses((status = 200, body = Page<EngagementResponse>)))]
async fn list_engagements(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<EngagementListParams>,
) -> ApiResult<Json<Page<EngagementResponse>>> {
    let limit = page_limit(q.limit)?;
    Ok(Json(state.practice.list_engagements(&caller, None, &q, limit).await?))
}

/// A client's engagements, newest first (`engagements:read`).
#[utoipa::path(get, path = "/v1/clients/{id}/engagements", tag = "engagements", security(("bearer" = [])),
    params(("id" = ClientId, Path), EngagementListParams),
    responses((status = 200, body = Page<EngagementResponse>), (status = 404, body = Problem)))]
async fn list_client_engagements(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
    ApiQuery(q): ApiQuery<EngagementListParams>,
) -> ApiResult<Json<Page<EngagementResponse>>> {
    let limit = page_limit(q.limit)?;
    Ok(Json(state.practice.list_engagements(&caller, Some(id), &q, limit).await?))
}

#[utoipa::path(get, path = "/v1/engagements/{id}", tag = "engagements", security(("bearer" = [])),
    params(("id" = EngagementId, Path)),
    responses((status = 200, body = EngagementResponse), (status = 404, body = Problem)))]
async fn get_engagement(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<EngagementId>,
) -> ApiResult<Json<EngagementResponse>> {
    Ok(Json(state.practice.get_engagement(&caller, id).await?))
}

/// Change status, hours, dates, assignee… (`engagements:update`). Completing stamps `completed_at`.
#[utoipa::path(patch, path = "/v1/engagements/{id}", tag = "engagements", security(("bearer" = [])),
    params(("id" = EngagementId, Path)), request_body = UpdateEngagementRequest,
    responses((status = 200, body = EngagementResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_engagement(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<EngagementId>,
    ApiJson(req): ApiJson<UpdateEngagementRequest>,
) -> ApiResult<Json<EngagementResponse>> {
    Ok(Json(state.practice.update_engagement(&caller, id, req).await?))
}

#[utoipa::path(delete, path = "/v1/engagements/{id}", tag = "engagements", security(("bearer" = [])),
    params(("id" = EngagementId, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_engagement(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<EngagementId>,
) -> ApiResult<StatusCode> {
    state.practice.delete_engagement(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Add a note to a client (staff only).
#[utoipa::path(post, path = "/v1/clients/{id}/notes", tag = "notes", security(("bearer" = [])),
    params(("id" = ClientId, Path)), request_body = CreateNoteRequest,
    responses((status = 201, body = NoteResponse), (status = 404, body = Problem)))]
async fn create_client_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
    ApiJson(req): ApiJson<CreateNoteRequest>,
) -> ApiResult<(StatusCode, Json<NoteResponse>)> {
    let note = state.practice.create_note(&caller, NoteSubject::Client(id), req).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// A client's notes, newest first (yours private ones included).
#[utoipa::path(get, path = "/v1/clients/{id}/notes", tag = "notes", security(("bearer" = [])),
    params(("id" = ClientId, Path), PageParams),
    responses((status = 200, body = Page<NoteResponse>), (status = 404, body = Problem)))]
async fn list_client_notes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<NoteResponse>>> {
    let limit = q.limit().map_err(crate::ApiError::from)?;
    let page =
        state.practice.list_notes(&caller, NoteSubject::Client(id), q.cursor.as_deref(), limit).await?;
    Ok(Json(page))
}

/// Add a note to an engagement (staff only).
#[utoipa::path(post, path = "/v1/engagements/{id}/notes", tag = "notes", security(("bearer" = [])),
    params(("id" = EngagementId, Path)), request_body = CreateNoteRequest,
    responses((status = 201, body = NoteResponse), (status = 404, body = Problem)))]
async fn create_engagement_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<EngagementId>,
    ApiJson(req): ApiJson<CreateNoteRequest>,
) -> ApiResult<(StatusCode, Json<NoteResponse>)> {
    let note = state.practice.create_note(&caller, NoteSubject::Engagement(id), req).await?;
    Ok((StatusCode::CREATED, Json(note)))
}

#[utoipa::path(get, path = "/v1/engagements/{id}/notes", tag = "notes", security(("bearer" = [])),
    params(("id" = EngagementId, Path), PageParams),
    responses((status = 200, body = Page<NoteResponse>), (status = 404, body = Problem)))]
async fn list_engagement_notes(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<EngagementId>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<NoteResponse>>> {
    let limit = q.limit().map_err(crate::ApiError::from)?;
    let page =
        state.practice.list_notes(&caller, NoteSubject::Engagement(id), q.cursor.as_deref(), limit).await?;
    Ok(Json(page))
}

/// Edit your note.
#[utoipa::path(patch, path = "/v1/notes/{id}", tag = "notes", security(("bearer" = [])),
    params(("id" = NoteId, Path)), request_body = UpdateNoteRequest,
    responses((status = 200, body = NoteResponse), (status = 404, body = Problem)))]
async fn update_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<NoteId>,
    ApiJson(req): ApiJson<UpdateNoteRequest>,
) -> ApiResult<Json<NoteResponse>> {
    Ok(Json(state.practice.update_note(&caller, id, req).await?))
}

/// Delete your note.
#[utoipa::path(delete, path = "/v1/notes/{id}", tag = "notes", security(("bearer" = [])),
    params(("id" = NoteId, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_note(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<NoteId>,
) -> ApiResult<StatusCode> {
    state.practice.delete_note(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
