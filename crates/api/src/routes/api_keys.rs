//! API keys for integrations.

use api_types::Problem;
use api_types::auth::{ApiKeyResponse, CreateApiKeyRequest, CreatedApiKeyResponse};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use domain::ApiKeyId;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::convert::IntoApi;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_api_key, list_api_keys)).routes(routes!(revoke_api_key))
}

/// Create a key scoped to some of your permissions (`api:keys`). The secret is shown only here.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    responses((status = 201, body = CreatedApiKeyResponse), (status = 403, body = Problem),
              (status = 422, body = Problem)))]
async fn create_api_key(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateApiKeyRequest>,
) -> ApiResult<(StatusCode, Json<CreatedApiKeyResponse>)> {
    let created = state.identity.create_api_key(&caller, &req.name, &req.scopes, req.expires_in_days).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKeyResponse { api_key: created.key.into_api(), secret: created.secret }),
    ))
}

/// The organization's keys, newest first (`api:keys`).
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", security(("bearer" = [])),
    responses((status = 200, body = Vec<ApiKeyResponse>), (status = 403, body = Problem)))]
async fn list_api_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Vec<ApiKeyResponse>>> {
    let keys = state.identity.list_api_keys(&caller).await?;
    Ok(Json(keys.into_api()))
}

/// Revoke a key; it stops working at once.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys", security(("bearer" = [])),
    params(("id" = ApiKeyId, Path)),
    responses((status = 200, body = ApiKeyResponse), (status = 404, body = Problem)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ApiKeyId>,
) -> ApiResult<Json<ApiKeyResponse>> {
    Ok(Json(state.identity.revoke_api_key(&caller, id).await?.into_api()))
}
