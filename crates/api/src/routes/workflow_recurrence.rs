//! A client's recurring workflow schedules, and bulk starts of a template for many clients.

use api_types::Problem;
use api_types::workflow_recurrence::{
    BulkStartRequest, BulkStartResponse, PauseScheduleRequest, PreviewParams, SchedulePreview,
    ScheduleRequest, ScheduleResponse, StartPeriodRequest,
};
use api_types::workflows::RunResponse;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{ClientId, WorkflowBulkId, WorkflowScheduleId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_schedules, create_schedule))
        .routes(routes!(preview_schedule))
        .routes(routes!(delete_schedule))
        .routes(routes!(pause_schedule))
        .routes(routes!(start_missed_period))
        .routes(routes!(start_bulk))
        .routes(routes!(get_bulk))
}

/// A client's recurring schedules with their next three periods and missed periods
/// (`workflows:read`).
#[utoipa::path(get, path = "/v1/clients/{id}/workflow-schedules", tag = "workflows", security(("bearer" = [])),
    params(("id" = ClientId, Path)),
    responses((status = 200, body = Vec<ScheduleResponse>), (status = 404, body = Problem)))]
async fn list_schedules(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
) -> ApiResult<Json<Vec<ScheduleResponse>>> {
    Ok(Json(state.practice.workflow_schedules(&caller, id).await?))
}

/// Start a template for the client at every occurrence of a cron expression in the firm's time
/// zone, each run due on the given business day from the period start (`workflows:execute`).
#[utoipa::path(post, path = "/v1/clients/{id}/workflow-schedules", tag = "workflows", security(("bearer" = [])),
    params(("id" = ClientId, Path)), request_body = ScheduleRequest,
    responses((status = 201, body = ScheduleResponse), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn create_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
    ApiJson(req): ApiJson<ScheduleRequest>,
) -> ApiResult<(StatusCode, Json<ScheduleResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.create_workflow_schedule(&caller, id, req).await?)))
}

/// The next three periods of a cron expression in the firm's time zone, with their due dates
/// (`workflows:read`).
#[utoipa::path(get, path = "/v1/workflow-schedules/preview", tag = "workflows", security(("bearer" = [])),
    params(PreviewParams),
    responses((status = 200, body = SchedulePreview), (status = 422, body = Problem)))]
async fn preview_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PreviewParams>,
) -> ApiResult<Json<SchedulePreview>> {
    Ok(Json(
        state.practice.preview_workflow_schedule(&caller, &q.cron, q.due_business_day.unwrap_or(1)).await?,
    ))
}

/// Delete a schedule; the runs it created stay (`workflows:execute`).
#[utoipa::path(delete, path = "/v1/workflow-schedules/{id}", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowScheduleId, Path)),
    responses((status = 204), (status = 404, body = Problem)))]
async fn delete_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<WorkflowScheduleId>,
) -> ApiResult<StatusCode> {
    state.practice.delete_workflow_schedule(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pause or resume a schedule; resuming starts from the next period after now
/// (`workflows:execute`).
#[utoipa::path(post, path = "/v1/workflow-schedules/{id}/pause", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowScheduleId, Path)), request_body = PauseScheduleRequest,
    responses((status = 200, body = ScheduleResponse), (status = 404, body = Problem)))]
async fn pause_schedule(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<WorkflowScheduleId>,
    ApiJson(req): ApiJson<PauseScheduleRequest>,
) -> ApiResult<Json<ScheduleResponse>> {
    Ok(Json(state.practice.pause_workflow_schedule(&caller, id, req.paused).await?))
}

/// Start one missed period of a schedule: catch-up is explicit, period by period
/// (`workflows:execute`).
#[utoipa::path(post, path = "/v1/workflow-schedules/{id}/periods/start", tag = "workflows",
    security(("bearer" = [])),
    params(("id" = WorkflowScheduleId, Path)), request_body = StartPeriodRequest,
    responses((status = 201, body = RunResponse), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn start_missed_period(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<WorkflowScheduleId>,
    ApiJson(req): ApiJson<StartPeriodRequest>,
) -> ApiResult<(StatusCode, Json<RunResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.start_missed_period(&caller, id, req.period_start).await?)))
}

/// Start a template for up to 1,000 clients (or every active client) as a job: answers 202 with
/// the bulk start, whose progress `GET /v1/workflow-bulk-starts/{id}` reads (`workflows:execute`).
#[utoipa::path(post, path = "/v1/workflow-bulk-starts", tag = "workflows", security(("bearer" = [])),
    request_body = BulkStartRequest,
    responses((status = 202, body = BulkStartResponse), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn start_bulk(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BulkStartRequest>,
) -> ApiResult<(StatusCode, Json<BulkStartResponse>)> {
    Ok((StatusCode::ACCEPTED, Json(state.practice.start_workflow_bulk(&caller, req).await?)))
}

/// A bulk start's progress and its failures (`workflows:read`).
#[utoipa::path(get, path = "/v1/workflow-bulk-starts/{id}", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowBulkId, Path)),
    responses((status = 200, body = BulkStartResponse), (status = 404, body = Problem)))]
async fn get_bulk(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<WorkflowBulkId>,
) -> ApiResult<Json<BulkStartResponse>> {
    Ok(Json(state.practice.workflow_bulk(&caller, id).await?))
}
