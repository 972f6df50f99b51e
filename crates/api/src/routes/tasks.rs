//! Ad-hoc tasks (`/v1/tasks…`), work items (`/v1/work-items/{id}/…`) and the open-work lists
//! (`/v1/me/work`).
//!
//! Checklists, comments and attachments live under one `/v1/work-items/{id}` shape for a run's
//! step and a task alike rather than twice (under `/v1/workflow-runs/{run}/steps/{key}` and
//! `/v1/tasks/{id}`): the id of either names it (they are distinct UUIDs), the use cases are
//! one, and a client (the console's work board, bulk reassignment) handles a mixed list of
//! items without knowing where each came from.

use api_types::tasks::{
    AttachRequest, AttachmentResponse, ChecklistItemRequest, ChecklistItemResponse, ChecklistOrderRequest,
    CommentRequest, CommentResponse, CreateTaskRequest, ReassignRequest, ReassignResponse, TaskActionRequest,
    TaskDependenciesRequest, TaskResponse, UpdateTaskRequest, WorkItemDetail, WorkItemSummary,
    WorkListParams,
};
use api_types::{Page, PageParams, Problem};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::{ChecklistItemId, CommentId, DocumentId, TaskId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::page_limit;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_task))
        .routes(routes!(get_task, update_task))
        .routes(routes!(act_on_task))
        .routes(routes!(set_dependencies))
        .routes(routes!(my_work))
        .routes(routes!(get_work_item))
        .routes(routes!(add_checklist_item))
        .routes(routes!(update_checklist_item, remove_checklist_item))
        .routes(routes!(reorder_checklist))
        .routes(routes!(list_comments, add_comment))
        .routes(routes!(edit_comment, delete_comment))
        .routes(routes!(attach_document))
        .routes(routes!(detach_document))
        .routes(routes!(reassign))
}

/// Create an ad-hoc task (`workflows:execute`); its assignee is notified.
#[utoipa::path(post, path = "/v1/tasks", tag = "tasks", security(("bearer" = [])),
    request_body = CreateTaskRequest,
    responses((status = 201, body = TaskResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn create_task(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateTaskRequest>,
) -> ApiResult<(StatusCode, Json<TaskResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.create_task(&caller, req).await?)))
}

/// A task with its dependencies (`workflows:read`).
#[utoipa::path(get, path = "/v1/tasks/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)),
    responses((status = 200, body = TaskResponse), (status = 404, body = Problem)))]
async fn get_task(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<TaskId>,
) -> ApiResult<Json<TaskResponse>> {
    Ok(Json(state.practice.get_task(&caller, id).await?))
}

/// Change an open task's fields (`workflows:execute`); 409 for a finished task (reopen it first).
#[utoipa::path(patch, path = "/v1/tasks/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), request_body = UpdateTaskRequest,
    responses((status = 200, body = TaskResponse), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn update_task(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<TaskId>,
    ApiJson(req): ApiJson<UpdateTaskRequest>,
) -> ApiResult<Json<TaskResponse>> {
    Ok(Json(state.practice.update_task(&caller, id, req).await?))
}

/// Start, complete, reopen or cancel a task. Its assignee or reviewer may start, complete and
/// reopen it; others (and cancelling) need `workflows:execute`. 409 when its status does not
/// allow the action, or while a task it depends on is not done.
#[utoipa::path(post, path = "/v1/tasks/{id}/action", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), request_body = TaskActionRequest,
    responses((status = 200, body = TaskResponse), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn act_on_task(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<TaskId>,
    ApiJson(req): ApiJson<TaskActionRequest>,
) -> ApiResult<Json<TaskResponse>> {
    Ok(Json(state.practice.act_on_task(&caller, id, req.action).await?))
}

/// Replace the tasks this one depends on (`workflows:execute`); 422 for an unknown task, the
/// task itself, or a dependency that would make a cycle.
#[utoipa::path(put, path = "/v1/tasks/{id}/dependencies", tag = "tasks", security(("bearer" = [])),
    params(("id" = TaskId, Path)), request_body = TaskDependenciesRequest,
    responses((status = 200, body = TaskResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn set_dependencies(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<TaskId>,
    ApiJson(req): ApiJson<TaskDependenciesRequest>,
) -> ApiResult<Json<TaskResponse>> {
    Ok(Json(state.practice.set_task_dependencies(&caller, id, req.depends_on).await?))
}

/// Open work — run steps of active runs and ad-hoc tasks — soonest due first (`workflows:read`):
/// `view=mine` (default: assigned to you), `review` (tasks you review, approval steps assigned to
/// you), `client` (one client's, with `client_id`), `overdue` and `week` (due today through
/// Sunday; the firm's, or one member's with `assignee`).
#[utoipa::path(get, path = "/v1/me/work", tag = "tasks", security(("bearer" = [])),
    params(WorkListParams),
    responses((status = 200, body = Page<WorkItemSummary>), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn my_work(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<WorkListParams>,
) -> ApiResult<Json<Page<WorkItemSummary>>> {
    let limit = page_limit(q.limit)?;
    Ok(Json(state.practice.work_list(&caller, &q, limit, chrono::Utc::now()).await?))
}

/// A step's or a task's checklist, comments and attachments (`workflows:read`).
#[utoipa::path(get, path = "/v1/work-items/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path, description = "A run step's or a task's id", format = Uuid)),
    responses((status = 200, body = WorkItemDetail), (status = 404, body = Problem)))]
async fn get_work_item(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> ApiResult<Json<WorkItemDetail>> {
    Ok(Json(state.practice.work_item(&caller, id).await?))
}

/// Add a checklist item at the end (the item's assignee or reviewer, or `workflows:execute`).
#[utoipa::path(post, path = "/v1/work-items/{id}/checklist", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = ChecklistItemRequest,
    responses((status = 201, body = Vec<ChecklistItemResponse>), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn add_checklist_item(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<uuid::Uuid>,
    ApiJson(req): ApiJson<ChecklistItemRequest>,
) -> ApiResult<(StatusCode, Json<Vec<ChecklistItemResponse>>)> {
    Ok((StatusCode::CREATED, Json(state.practice.add_checklist_item(&caller, id, &req.text).await?)))
}

/// Tick, untick or rename a checklist item.
#[utoipa::path(patch, path = "/v1/work-items/{id}/checklist/{item}", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("item" = ChecklistItemId, Path)),
    request_body = api_types::tasks::UpdateChecklistItemRequest,
    responses((status = 200, body = Vec<ChecklistItemResponse>), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_checklist_item(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, item)): ApiPath<(uuid::Uuid, ChecklistItemId)>,
    ApiJson(req): ApiJson<api_types::tasks::UpdateChecklistItemRequest>,
) -> ApiResult<Json<Vec<ChecklistItemResponse>>> {
    Ok(Json(state.practice.update_checklist_item(&caller, id, item, req).await?))
}

/// Remove a checklist item.
#[utoipa::path(delete, path = "/v1/work-items/{id}/checklist/{item}", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("item" = ChecklistItemId, Path)),
    responses((status = 200, body = Vec<ChecklistItemResponse>), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn remove_checklist_item(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, item)): ApiPath<(uuid::Uuid, ChecklistItemId)>,
) -> ApiResult<Json<Vec<ChecklistItemResponse>>> {
    Ok(Json(state.practice.remove_checklist_item(&caller, id, item).await?))
}

/// Reorder the checklist: `items` names every item once, in the new order.
#[utoipa::path(put, path = "/v1/work-items/{id}/checklist/order", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = ChecklistOrderRequest,
    responses((status = 200, body = Vec<ChecklistItemResponse>), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn reorder_checklist(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<uuid::Uuid>,
    ApiJson(req): ApiJson<ChecklistOrderRequest>,
) -> ApiResult<Json<Vec<ChecklistItemResponse>>> {
    Ok(Json(state.practice.reorder_checklist(&caller, id, req.items).await?))
}

/// Comment on a step or task (`workflows:read`); `@email` of a staff member mentions them, and
/// each mentioned member is notified once.
#[utoipa::path(post, path = "/v1/work-items/{id}/comments", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = CommentRequest,
    responses((status = 201, body = CommentResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn add_comment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<uuid::Uuid>,
    ApiJson(req): ApiJson<CommentRequest>,
) -> ApiResult<(StatusCode, Json<CommentResponse>)> {
    Ok((StatusCode::CREATED, Json(state.practice.comment_on_work_item(&caller, id, &req.body).await?)))
}

/// A step's or task's comments, a page at a time, newest first: the first page is the latest
/// comments and each `next_cursor` leads to the ones written before (`workflows:read`). A thread
/// shown top down reverses each page and puts the next one above it ("Show earlier comments").
#[utoipa::path(get, path = "/v1/work-items/{id}/comments", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), PageParams),
    responses((status = 200, body = Page<CommentResponse>), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn list_comments(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<uuid::Uuid>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<CommentResponse>>> {
    let limit = page_limit(q.limit)?;
    Ok(Json(state.practice.work_item_comments(&caller, id, q.cursor.as_deref(), limit).await?))
}

/// Edit a comment's body; only its author may (403 `not-allowed` for anyone else). Members the
/// new body mentions that the comment did not mention before are notified.
#[utoipa::path(patch, path = "/v1/work-items/{id}/comments/{comment_id}", tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("comment_id" = CommentId, Path)), request_body = CommentRequest,
    responses((status = 200, body = CommentResponse), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn edit_comment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, comment)): ApiPath<(uuid::Uuid, CommentId)>,
    ApiJson(req): ApiJson<CommentRequest>,
) -> ApiResult<Json<CommentResponse>> {
    Ok(Json(state.practice.edit_work_item_comment(&caller, id, comment, &req.body).await?))
}

/// Delete a comment; only its author may (403 `not-allowed` for anyone else). The audit log keeps
/// what it said.
#[utoipa::path(delete, path = "/v1/work-items/{id}/comments/{comment_id}", tag = "tasks",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("comment_id" = CommentId, Path)),
    responses((status = 204), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem)))]
async fn delete_comment(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, comment)): ApiPath<(uuid::Uuid, CommentId)>,
) -> ApiResult<StatusCode> {
    state.practice.delete_work_item_comment(&caller, id, comment).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Attach one of the item's client's documents (`documents:read`, and the assignee, reviewer or
/// `workflows:execute`); 422 for a document of another client or firm.
#[utoipa::path(post, path = "/v1/work-items/{id}/attachments", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)), request_body = AttachRequest,
    responses((status = 201, body = Vec<AttachmentResponse>), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn attach_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<uuid::Uuid>,
    ApiJson(req): ApiJson<AttachRequest>,
) -> ApiResult<(StatusCode, Json<Vec<AttachmentResponse>>)> {
    Ok((StatusCode::CREATED, Json(state.practice.attach_document(&caller, id, req.document_id).await?)))
}

/// Remove an attachment (the document itself stays).
#[utoipa::path(delete, path = "/v1/work-items/{id}/attachments/{document}", tag = "tasks", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("document" = DocumentId, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn detach_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, document)): ApiPath<(uuid::Uuid, DocumentId)>,
) -> ApiResult<StatusCode> {
    state.practice.detach_document(&caller, id, document).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Give several steps and tasks to one member in one transaction (`workflows:execute`): all or
/// nothing; each change audited and the member notified.
#[utoipa::path(post, path = "/v1/work-items/reassign", tag = "tasks", security(("bearer" = [])),
    request_body = ReassignRequest,
    responses((status = 200, body = ReassignResponse), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn reassign(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ReassignRequest>,
) -> ApiResult<Json<ReassignResponse>> {
    Ok(Json(state.practice.reassign_work_items(&caller, &req.items, req.assignee).await?))
}
