//! QuickBooks Online: connecting a client's company, sync runs and their history, the summary
//! read from the mirror, and Intuit's webhooks. Each handler calls one `qbo_sync::Integration` use case.
//!
//! Two routes carry no credentials of ours: the OAuth callback (a browser redirect from Intuit;
//! the single-use `state` names the organization, user and client) and the webhook receiver
//! (authenticated by its `intuit-signature` HMAC).

use api_types::quickbooks::{
    CallbackParams, ConnectResponse, ConnectionResponse, DisconnectResponse, StartSyncRequest,
    StartSyncResponse, SummaryParams, SummaryResponse, SyncRunResponse, WebhookNotification, WebhookResponse,
};
use api_types::{Page, PageParams, Problem};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{ClientId, SyncMode};
use qbo_sync::usecases::Callback;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::convert::IntoApi;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_connection, disconnect))
        .routes(routes!(connect))
        .routes(routes!(callback))
        .routes(routes!(start_sync))
        .routes(routes!(list_runs))
        .routes(routes!(get_run))
        .routes(routes!(summary))
        .routes(routes!(webhook))
}

/// The client's QuickBooks connection (`financial:read`).
#[utoipa::path(get, path = "/v1/clients/{id}/quickbooks", tag = "quickbooks", security(("bearer" = [])),
    params(("id" = ClientId, Path)),
    responses((status = 200, body = ConnectionResponse), (status = 404, body = Problem)))]
async fn get_connection(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
) -> ApiResult<Json<ConnectionResponse>> {
    let connection = state.quickbooks.connection(&caller, id).await?;
    Ok(Json(connection.ok_or_else(|| ApiError::not_found("QuickBooks connection"))?.into_api()))
}

/// Start connecting the client's QuickBooks company (`financial:update`, staff): an authorization
/// URL with a single-use, expiring `state` bound to you, your organization and this client.
#[utoipa::path(post, path = "/v1/clients/{id}/quickbooks/connect", tag = "quickbooks", security(("bearer" = [])),
    params(("id" = ClientId, Path)),
    responses((status = 201, body = ConnectResponse), (status = 404, body = Problem), (status = 503, body = Problem)))]
async fn connect(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
) -> ApiResult<(StatusCode, Json<ConnectResponse>)> {
    let link = state.quickbooks.start_connect(&caller, id).await?;
    Ok((StatusCode::CREATED, Json(link.into_api())))
}

/// Intuit's redirect after consent. Consumes the `state` (once, before it expires), exchanges the
/// code, checks with the new tokens that `realmId` is the company they are for (anyone can edit a
/// query string), stores the connection with its tokens sealed and queues the first full sync.
/// Redirects to the configured page when there is one (a refusal too, with its status), else
/// answers with the connection or the problem.
#[utoipa::path(get, path = "/v1/quickbooks/callback", tag = "quickbooks",
    params(CallbackParams),
    responses((status = 200, body = ConnectionResponse), (status = 303), (status = 400, body = Problem),
        (status = 409, body = Problem, description = "The client already has a live connection, or the company is connected to another client"),
        (status = 422, body = Problem, description = "A missing, used or expired `state`, a refused `code`, or a `realmId` the authorization is not for"),
        (status = 503, body = Problem)))]
async fn callback(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CallbackParams>,
) -> ApiResult<Response> {
    let callback = Callback { state: q.state, code: q.code, realm_id: q.realm_id, error: q.error };
    let connected = match state.quickbooks.complete_connect(callback).await {
        Ok(connected) => connected,
        Err(refused) => {
            let refused = ApiError::from(refused);
            return Ok(match state.quickbooks.refused_return_to(refused.status().as_u16()) {
                Some(target) => (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response(),
                None => refused.into_response(),
            });
        }
    };
    Ok(match connected.return_to {
        Some(target) => (StatusCode::SEE_OTHER, [(header::LOCATION, target)]).into_response(),
        None => Json::<ConnectionResponse>(connected.connection.into_api()).into_response(),
    })
}

/// Disconnect: revoke the tokens at Intuit and destroy them here; the mirror stays (`financial:update`).
#[utoipa::path(delete, path = "/v1/clients/{id}/quickbooks", tag = "quickbooks", security(("bearer" = [])),
    params(("id" = ClientId, Path)),
    responses((status = 200, body = DisconnectResponse), (status = 404, body = Problem)))]
async fn disconnect(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
) -> ApiResult<Json<DisconnectResponse>> {
    Ok(Json(state.quickbooks.disconnect(&caller, id).await?.into_api()))
}

/// Sync now (`financial:update`): queues a run; one sync per realm runs at a time.
#[utoipa::path(post, path = "/v1/clients/{id}/quickbooks/sync", tag = "quickbooks", security(("bearer" = [])),
    params(("id" = ClientId, Path)), request_body = StartSyncRequest,
    responses((status = 202, body = StartSyncResponse), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem, description = "The body is not a JSON object of the request's fields"),
        (status = 503, body = Problem)))]
async fn start_sync(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
    ApiJson(req): ApiJson<StartSyncRequest>,
) -> ApiResult<(StatusCode, Json<StartSyncResponse>)> {
    let mode = req.mode.unwrap_or(SyncMode::Incremental);
    let queued = state.quickbooks.start_sync(&caller, id, mode).await?;
    Ok((StatusCode::ACCEPTED, Json(queued.into_api())))
}

/// Sync history, newest first, with per-entity counts, API calls and errors (`financial:read`).
#[utoipa::path(get, path = "/v1/clients/{id}/quickbooks/sync-runs", tag = "quickbooks", security(("bearer" = [])),
    params(("id" = ClientId, Path), PageParams),
    responses((status = 200, body = Page<SyncRunResponse>), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn list_runs(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<SyncRunResponse>>> {
    let limit = q.limit().map_err(ApiError::from)?;
    let page = state.quickbooks.sync_runs(&caller, id, q.cursor.as_deref(), limit).await?;
    Ok(Json(page.into_api()))
}

/// One sync run, with its progress while it runs (`financial:read`).
#[utoipa::path(get, path = "/v1/clients/{id}/quickbooks/sync-runs/{run_id}", tag = "quickbooks", security(("bearer" = [])),
    params(("id" = ClientId, Path), ("run_id" = Uuid, Path)),
    responses((status = 200, body = SyncRunResponse), (status = 404, body = Problem)))]
async fn get_run(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, run)): ApiPath<(ClientId, Uuid)>,
) -> ApiResult<Json<SyncRunResponse>> {
    Ok(Json(state.quickbooks.sync_run(&caller, id, run).await?.into_api()))
}

/// P&L-style totals, receivables with aging and payables from the mirror (`financial:read`).
#[utoipa::path(get, path = "/v1/clients/{id}/quickbooks/summary", tag = "quickbooks", security(("bearer" = [])),
    params(("id" = ClientId, Path), SummaryParams),
    responses((status = 200, body = SummaryResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ClientId>,
    ApiQuery(q): ApiQuery<SummaryParams>,
) -> ApiResult<Json<SummaryResponse>> {
    Ok(Json(state.quickbooks.summary(&caller, id, q.from, q.to).await?.into_api()))
}

/// Intuit's webhook deliveries, authenticated by `intuit-signature` (HMAC-SHA256 of the body
/// under the app's verifier token); each realm's changes queue a targeted incremental sync.
#[utoipa::path(post, path = "/v1/quickbooks/webhooks", tag = "quickbooks",
    request_body(content = WebhookNotification, description = "Intuit's `eventNotifications` payload", content_type = "application/json"),
    responses((status = 200, body = WebhookResponse), (status = 401, body = Problem), (status = 400, body = Problem)))]
async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<WebhookResponse>> {
    let qb = state.quickbooks.service().ok_or(qbo_sync::SyncError::NotConfigured)?;
    let signature =
        headers.get(qbo_sync::webhooks::SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).ok_or_else(|| {
            ApiError::new(api_types::ProblemType::Unauthenticated, "the intuit-signature header is missing")
        })?;
    let received = qbo_sync::webhooks::receive(qb, &body, signature).await?;
    Ok(Json(WebhookResponse { syncs_queued: received.syncs_queued, unknown_realms: received.unknown_realms }))
}
