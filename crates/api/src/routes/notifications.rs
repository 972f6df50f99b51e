//! The signed-in user's notifications (an upload batch finished, …): list, mark one or all read.

use api_types::notifications::{NotificationListParams, NotificationResponse, ReadAllResponse};
use api_types::{Page, Problem};
use axum::Json;
use axum::extract::State;
use domain::NotificationId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::extract::{ApiPath, ApiQuery, Caller};
use crate::routes::page_limit;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
}

/// Your notifications, newest first; `unread=true` for those not read yet. Only your own, whatever
/// your role.
#[utoipa::path(get, path = "/v1/notifications", tag = "notifications", security(("bearer" = [])),
    params(NotificationListParams),
    responses((status = 200, body = Page<NotificationResponse>), (status = 400, body = Problem),
              (status = 422, body = Problem)))]
async fn list_notifications(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<NotificationListParams>,
) -> ApiResult<Json<Page<NotificationResponse>>> {
    let limit = page_limit(q.limit)?;
    let unread_only = q.unread.unwrap_or(false);
    Ok(Json(state.practice.list_notifications(&caller, unread_only, q.cursor.as_deref(), limit).await?))
}

/// Mark one of your notifications read (marking it again keeps the first time).
#[utoipa::path(post, path = "/v1/notifications/{id}/read", tag = "notifications", security(("bearer" = [])),
    params(("id" = NotificationId, Path)),
    responses((status = 200, body = NotificationResponse), (status = 404, body = Problem)))]
async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<NotificationId>,
) -> ApiResult<Json<NotificationResponse>> {
    Ok(Json(state.practice.mark_notification_read(&caller, id).await?))
}

/// Mark all your unread notifications read.
#[utoipa::path(post, path = "/v1/notifications/read-all", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = ReadAllResponse)))]
async fn mark_all_read(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<ReadAllResponse>> {
    let marked = state.practice.mark_all_notifications_read(&caller).await?;
    Ok(Json(ReadAllResponse { marked }))
}
