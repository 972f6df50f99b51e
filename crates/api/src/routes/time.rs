//! Time entries: the caller's timer, manual entries, editing and deleting, the week's time
//! sheet, an engagement's time and billing it.

use api_types::invoices::InvoiceResponse;
use api_types::time::{
    BillTimeRequest, EngagementTimeResponse, ManualEntryRequest, StartTimerRequest, TimeEntryResponse,
    TimesheetParams, TimesheetResponse, UpdateTimeEntryRequest,
};
use api_types::{PageParams, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{EngagementId, TimeEntryId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(log_time))
        .routes(routes!(start_timer))
        .routes(routes!(stop_timer))
        .routes(routes!(update_entry, delete_entry))
        .routes(routes!(timesheet))
        .routes(routes!(engagement_time))
        .routes(routes!(bill_time))
}

/// Log finished time on a workflow step or an engagement: 1 minute to 24 hours, started no
/// later than now. The engagement's actual hours follow (`workflows:read`).
#[utoipa::path(post, path = "/v1/time-entries", tag = "time", security(("bearer" = [])),
    request_body = ManualEntryRequest,
    responses((status = 201, body = TimeEntryResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn log_time(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ManualEntryRequest>,
) -> ApiResult<(StatusCode, Json<TimeEntryResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.log_time(&caller, req).await?)))
}

/// Start your timer on a step or an engagement; a timer already running is stopped first
/// (`workflows:read`).
#[utoipa::path(post, path = "/v1/time-entries/timer", tag = "time", security(("bearer" = [])),
    request_body = StartTimerRequest,
    responses((status = 201, body = TimeEntryResponse), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn start_timer(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<StartTimerRequest>,
) -> ApiResult<(StatusCode, Json<TimeEntryResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.start_timer(&caller, req).await?)))
}

/// Stop your running timer: its minutes are the time elapsed (404 when none runs).
#[utoipa::path(post, path = "/v1/time-entries/timer/stop", tag = "time", security(("bearer" = [])),
    responses((status = 200, body = TimeEntryResponse), (status = 404, body = Problem)))]
async fn stop_timer(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TimeEntryResponse>> {
    Ok(Json(state.practice.stop_timer(&caller).await?))
}

/// Change an entry: yours, or anyone's with `workflows:update`; billed time cannot change (409).
#[utoipa::path(patch, path = "/v1/time-entries/{id}", tag = "time", security(("bearer" = [])),
    params(("id" = TimeEntryId, Path)), request_body = UpdateTimeEntryRequest,
    responses((status = 200, body = TimeEntryResponse), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_entry(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<TimeEntryId>,
    ApiJson(req): ApiJson<UpdateTimeEntryRequest>,
) -> ApiResult<Json<TimeEntryResponse>> {
    Ok(Json(state.practice.update_time_entry(&caller, id, req).await?))
}

/// Delete an entry: yours, or anyone's with `workflows:update`; billed time cannot be deleted (409).
#[utoipa::path(delete, path = "/v1/time-entries/{id}", tag = "time", security(("bearer" = [])),
    params(("id" = TimeEntryId, Path)),
    responses((status = 204), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn delete_entry(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<TimeEntryId>,
) -> ApiResult<StatusCode> {
    state.practice.delete_time_entry(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your week (Monday to Sunday, UTC): each day's entries with totals, billable against not, and
/// your running timer (`workflows:read`).
#[utoipa::path(get, path = "/v1/me/timesheet", tag = "time", security(("bearer" = [])),
    params(TimesheetParams),
    responses((status = 200, body = TimesheetResponse)))]
async fn timesheet(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TimesheetParams>,
) -> ApiResult<Json<TimesheetResponse>> {
    Ok(Json(state.practice.timesheet(&caller, q.week).await?))
}

/// An engagement's entries, newest first, with its actual hours and work in progress
/// (`workflows:read`).
#[utoipa::path(get, path = "/v1/engagements/{id}/time-entries", tag = "time", security(("bearer" = [])),
    params(("id" = EngagementId, Path), PageParams),
    responses((status = 200, body = EngagementTimeResponse), (status = 404, body = Problem)))]
async fn engagement_time(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<EngagementId>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<EngagementTimeResponse>> {
    let limit = q.limit().map_err(crate::ApiError::from)?;
    Ok(Json(state.practice.engagement_time(&caller, id, q.cursor.as_deref(), limit).await?))
}

/// Bill the engagement's work in progress: its finished billable time with a rate, not billed
/// yet, becomes a draft invoice (a line per member and rate) and each entry names it; a billed
/// entry can no longer be changed. 422 when there is nothing to bill (`billing:create`).
#[utoipa::path(post, path = "/v1/engagements/{id}/bill-time", tag = "time", security(("bearer" = [])),
    params(("id" = EngagementId, Path)),
    request_body = BillTimeRequest,
    responses((status = 201, body = InvoiceResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn bill_time(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<EngagementId>,
    ApiJson(req): ApiJson<BillTimeRequest>,
) -> ApiResult<(StatusCode, Json<InvoiceResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.bill_engagement_time(&caller, id, req).await?)))
}
