//! Workflow templates, runs for a client and their steps (a member's open work: `tasks`).

use api_types::workflows::{
    ArchiveTemplateRequest, AssignStepRequest, CapacityRequest, CopyTemplateRequest, MemberWorkload,
    RoutingFiguresResponse, RoutingSettingsBody, RunCommandRequest, RunResponse, RunSummary, StartRunRequest,
    StepActionRequest, TeamWorkload, TemplateListParams, TemplateRequest, TemplateResponse,
};
use api_types::{Page, PageParams, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{ClientId, UserId, WorkflowRunId, WorkflowTemplateId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::page_limit;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_templates, create_template))
        .routes(routes!(get_template, update_template))
        .routes(routes!(copy_template))
        .routes(routes!(archive_template))
        .routes(routes!(start_run))
        .routes(routes!(get_run))
        .routes(routes!(command_run))
        .routes(routes!(act_on_step))
        .routes(routes!(assign_step))
        .routes(routes!(list_client_runs))
        .routes(routes!(get_settings, save_settings))
        .routes(routes!(team_workload))
        .routes(routes!(save_capacity))
        .routes(routes!(routing_figures))
}

/// The system templates, then the firm's (`workflows:read`).
#[utoipa::path(get, path = "/v1/workflow-templates", tag = "workflows", security(("bearer" = [])),
    params(TemplateListParams),
    responses((status = 200, body = Vec<TemplateResponse>)))]
async fn list_templates(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<TemplateListParams>,
) -> ApiResult<Json<Vec<TemplateResponse>>> {
    Ok(Json(state.practice.list_workflow_templates(&caller, q.archived).await?))
}

/// Create a firm template; its steps must form a DAG (`workflows:create`).
#[utoipa::path(post, path = "/v1/workflow-templates", tag = "workflows", security(("bearer" = [])),
    request_body = TemplateRequest,
    responses((status = 201, body = TemplateResponse), (status = 422, body = Problem)))]
async fn create_template(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<TemplateRequest>,
) -> ApiResult<(StatusCode, Json<TemplateResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.create_workflow_template(&caller, req).await?)))
}

#[utoipa::path(get, path = "/v1/workflow-templates/{id}", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowTemplateId, Path)),
    responses((status = 200, body = TemplateResponse), (status = 404, body = Problem)))]
async fn get_template(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<WorkflowTemplateId>,
) -> ApiResult<Json<TemplateResponse>> {
    Ok(Json(state.practice.get_workflow_template(&caller, id).await?))
}

/// Replace a firm template's content, saved as its next version; runs keep the version they
/// started from. System templates answer 409: copy one first (`workflows:update`).
#[utoipa::path(put, path = "/v1/workflow-templates/{id}", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowTemplateId, Path)), request_body = TemplateRequest,
    responses((status = 200, body = TemplateResponse), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_template(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<WorkflowTemplateId>,
    ApiJson(req): ApiJson<TemplateRequest>,
) -> ApiResult<Json<TemplateResponse>> {
    Ok(Json(state.practice.update_workflow_template(&caller, id, req).await?))
}

/// Copy a template (system or firm) into a new firm template (`workflows:create`).
#[utoipa::path(post, path = "/v1/workflow-templates/{id}/copy", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowTemplateId, Path)), request_body = CopyTemplateRequest,
    responses((status = 201, body = TemplateResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn copy_template(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<WorkflowTemplateId>,
    ApiJson(req): ApiJson<CopyTemplateRequest>,
) -> ApiResult<(StatusCode, Json<TemplateResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.copy_workflow_template(&caller, id, req).await?)))
}

/// Archive or restore a firm template (`workflows:update`).
#[utoipa::path(post, path = "/v1/workflow-templates/{id}/archive", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowTemplateId, Path)), request_body = ArchiveTemplateRequest,
    responses((status = 200, body = TemplateResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn archive_template(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<WorkflowTemplateId>,
    ApiJson(req): ApiJson<ArchiveTemplateRequest>,
) -> ApiResult<Json<TemplateResponse>> {
    Ok(Json(state.practice.archive_workflow_template(&caller, id, req.archived).await?))
}

/// Start a template for a client (`workflows:execute`).
#[utoipa::path(post, path = "/v1/workflow-runs", tag = "workflows", security(("bearer" = [])),
    request_body = StartRunRequest,
    responses((status = 201, body = RunResponse), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn start_run(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<StartRunRequest>,
) -> ApiResult<(StatusCode, Json<RunResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.start_workflow_run(&caller, req).await?)))
}

/// A run with its steps, progress and critical path (`workflows:read`).
#[utoipa::path(get, path = "/v1/workflow-runs/{id}", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowRunId, Path)),
    responses((status = 200, body = RunResponse), (status = 404, body = Problem)))]
async fn get_run(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<WorkflowRunId>,
) -> ApiResult<Json<RunResponse>> {
    Ok(Json(state.practice.get_workflow_run(&caller, id).await?))
}

/// Pause, resume or cancel a run (`workflows:execute`); 409 when the run's status does not allow it.
#[utoipa::path(post, path = "/v1/workflow-runs/{id}/command", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowRunId, Path)), request_body = RunCommandRequest,
    responses((status = 200, body = RunResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn command_run(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<WorkflowRunId>,
    ApiJson(req): ApiJson<RunCommandRequest>,
) -> ApiResult<Json<RunResponse>> {
    Ok(Json(state.practice.command_workflow_run(&caller, id, req.command).await?))
}

/// Start, complete, skip, block or unblock a step; completing one readies the steps that waited
/// on it. The step's assignee may move their own step (except skip); others need
/// `workflows:execute`. 409 when the step's status does not allow the action.
#[utoipa::path(post, path = "/v1/workflow-runs/{id}/steps/{key}", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowRunId, Path), ("key" = String, Path)), request_body = StepActionRequest,
    responses((status = 200, body = RunResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn act_on_step(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, key)): ApiPath<(WorkflowRunId, String)>,
    ApiJson(req): ApiJson<StepActionRequest>,
) -> ApiResult<Json<RunResponse>> {
    Ok(Json(state.practice.act_on_workflow_step(&caller, id, &key, req.action).await?))
}

/// Assign a step to a member, or unassign it (`workflows:execute`).
#[utoipa::path(put, path = "/v1/workflow-runs/{id}/steps/{key}/assignee", tag = "workflows", security(("bearer" = [])),
    params(("id" = WorkflowRunId, Path), ("key" = String, Path)), request_body = AssignStepRequest,
    responses((status = 200, body = RunResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn assign_step(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, key)): ApiPath<(WorkflowRunId, String)>,
    ApiJson(req): ApiJson<AssignStepRequest>,
) -> ApiResult<Json<RunResponse>> {
    Ok(Json(state.practice.assign_workflow_step(&caller, id, &key, req.assignee).await?))
}

/// A client's runs, newest first (`workflows:read`).
#[utoipa::path(get, path = "/v1/clients/{id}/workflow-runs", tag = "workflows", security(("bearer" = [])),
    params(("id" = ClientId, Path), PageParams),
    responses((status = 200, body = Page<RunSummary>), (status = 404, body = Problem)))]
async fn list_client_runs(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<RunSummary>>> {
    let limit = page_limit(q.limit)?;
    Ok(Json(state.practice.list_workflow_runs(&caller, id, q.cursor.as_deref(), limit).await?))
}

/// The firm's routing of ready steps (`workflows:read`).
#[utoipa::path(get, path = "/v1/workflow-settings", tag = "workflows", security(("bearer" = [])),
    responses((status = 200, body = RoutingSettingsBody)))]
async fn get_settings(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<RoutingSettingsBody>> {
    Ok(Json(state.practice.workflow_settings(&caller).await?))
}

/// Route ready steps off, round robin or by score, optionally splitting a share to a second
/// strategy to compare them (`workflows:update`).
#[utoipa::path(put, path = "/v1/workflow-settings", tag = "workflows", security(("bearer" = [])),
    request_body = RoutingSettingsBody,
    responses((status = 200, body = RoutingSettingsBody), (status = 422, body = Problem)))]
async fn save_settings(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RoutingSettingsBody>,
) -> ApiResult<Json<RoutingSettingsBody>> {
    Ok(Json(state.practice.save_workflow_settings(&caller, req).await?))
}

/// Each active staff member's open steps and hours against their weekly capacity, and by the
/// week they are due over the next four weeks (`workflows:read`).
#[utoipa::path(get, path = "/v1/team/workload", tag = "workflows", security(("bearer" = [])),
    responses((status = 200, body = TeamWorkload)))]
async fn team_workload(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<TeamWorkload>> {
    Ok(Json(state.practice.team_workload(&caller).await?))
}

/// A member's weekly capacity, skills and time off: your own, or anyone's with `workflows:update`.
#[utoipa::path(put, path = "/v1/members/{id}/capacity", tag = "workflows", security(("bearer" = [])),
    params(("id" = UserId, Path)), request_body = CapacityRequest,
    responses((status = 200, body = MemberWorkload), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn save_capacity(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(req): ApiJson<CapacityRequest>,
) -> ApiResult<Json<MemberWorkload>> {
    Ok(Json(state.practice.save_member_capacity(&caller, id, req).await?))
}

/// Time to assignment and reassignment rate per routing strategy, and the spread of the team's
/// utilisation now (`workflows:read`).
#[utoipa::path(get, path = "/v1/workflow-routing/figures", tag = "workflows", security(("bearer" = [])),
    responses((status = 200, body = RoutingFiguresResponse)))]
async fn routing_figures(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<RoutingFiguresResponse>> {
    Ok(Json(state.practice.routing_figures(&caller).await?))
}
