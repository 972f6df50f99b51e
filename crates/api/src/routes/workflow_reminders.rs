//! The firm's holidays (due dates skip them), a run's reminders and the stuck work.

use api_types::Problem;
use api_types::workflow_reminders::{
    HolidayRequest, HolidayResponse, RunRemindersResponse, StuckWorkResponse,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use domain::WorkflowRunId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_holidays, add_holiday))
        .routes(routes!(remove_holiday))
        .routes(routes!(run_reminders))
        .routes(routes!(stuck_work))
}

/// The firm's own holidays by date; due dates of new runs skip them and the US federal
/// holidays (`workflows:read`).
#[utoipa::path(get, path = "/v1/workflow-holidays", tag = "workflows", security(("bearer" = [])),
    responses((status = 200, body = Vec<HolidayResponse>)))]
async fn list_holidays(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<HolidayResponse>>> {
    Ok(Json(state.reminders.list_holidays(&caller).await?))
}

/// Add a day the firm is closed; runs started from now on count it out of their due dates
/// (`workflows:update`). 409 when the day is already a holiday.
#[utoipa::path(post, path = "/v1/workflow-holidays", tag = "workflows", security(("bearer" = [])),
    request_body = HolidayRequest,
    responses((status = 201, body = HolidayResponse), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_holiday(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<HolidayRequest>,
) -> ApiResult<(StatusCode, Json<HolidayResponse>)> {
    Ok((StatusCode::CREATED, Json(state.reminders.add_holiday(&caller, req).await?)))
}

/// Remove the holiday on a date (`workflows:update`).
#[utoipa::path(delete, path = "/v1/workflow-holidays/{date}", tag = "workflows", security(("bearer" = [])),
    params(("date" = NaiveDate, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = HolidayResponse), (status = 404, body = Problem)))]
async fn remove_holiday(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(date): ApiPath<NaiveDate>,
) -> ApiResult<Json<HolidayResponse>> {
    Ok(Json(state.reminders.remove_holiday(&caller, date).await?))
}

/// The reminders a run's steps had (due soon, overdue, client-request mails, stuck alerts) and
/// when each open client request's next reminder is due (`workflows:read`).
#[utoipa::path(get, path = "/v1/workflow-runs/{id}/reminders", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowRunId, Path)),
    responses((status = 200, body = RunRemindersResponse), (status = 404, body = Problem)))]
async fn run_reminders(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<WorkflowRunId>,
) -> ApiResult<Json<RunRemindersResponse>> {
    Ok(Json(state.reminders.run_reminders(&caller, id).await?))
}

/// Active runs without progress for 7 days and steps in progress 50% over their estimate, now
/// (`workflows:read`).
#[utoipa::path(get, path = "/v1/workflow-stuck", tag = "workflows", security(("bearer" = [])),
    responses((status = 200, body = StuckWorkResponse)))]
async fn stuck_work(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<StuckWorkResponse>> {
    Ok(Json(state.reminders.stuck_work(&caller, Utc::now()).await?))
}
