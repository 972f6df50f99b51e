//! Documents: uploads (files or a zip, per-file results, one batch per request with its
//! progress), lists, search and the review queue, detail with fields and events, corrections,
//! approval, re-processing, signed download links and thumbnails. The pipeline itself runs in the
//! job workers (`documents.process`).

use api_types::documents::{
    BatchListParams, BatchResponse, BatchUploadForm, DocumentDetailResponse, DocumentFieldResponse,
    DocumentListParams, DocumentResponse, DownloadLinkResponse, FieldCorrection, LinkParams, StorageUsage,
    UploadForm, UploadResponse, VendorMemoryResponse,
};
use api_types::{Page, PageParams, Problem, ProblemType};
use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use documents::UploadRejection;
use documents::service::{RejectedFile, UploadFile, UploadRequest, Uploaded};
use domain::{ClientId, DocType, DocumentBatchId, DocumentId, VendorMemoryId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::convert::{IntoApi, document_filter};
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use crate::routes::page_limit;
use crate::state::AppState;

/// Most bytes one upload request may carry in all its files (per-file limits are checked as the
/// files stream in; more files go in more requests or a zip).
const UPLOAD_REQUEST_LIMIT: usize = 100 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(upload_batch))
        .layer(DefaultBodyLimit::max(UPLOAD_REQUEST_LIMIT));
    OpenApiRouter::new()
        .routes(routes!(list_documents))
        .routes(routes!(review_queue))
        .routes(routes!(get_document, delete_document))
        .routes(routes!(correct_field))
        .routes(routes!(approve))
        .routes(routes!(reprocess))
        .routes(routes!(download_link))
        .routes(routes!(open_link))
        .routes(routes!(thumbnail))
        .routes(routes!(list_batches))
        .routes(routes!(storage))
        .routes(routes!(get_batch))
        .routes(routes!(list_vendor_memories))
        .routes(routes!(get_vendor_memory, forget_vendor_memory))
        .merge(uploads)
}

/// Reads the multipart form of an upload: `file` parts (one or many), optional `category` (a
/// document type hint) and `replaces` (the id of the document this is a new version of). Files
/// over the size limit are refused as they stream in.
pub async fn read_form(
    multipart: Result<Multipart, MultipartRejection>,
    max_file_bytes: u64,
) -> ApiResult<UploadRequest> {
    let mut multipart = multipart.map_err(|e| {
        ApiError::new(
            ProblemType::UnsupportedMediaType,
            format!("send the files as `multipart/form-data` with `file` parts ({})", e.body_text()),
        )
    })?;
    let mut form = UploadRequest { files: Vec::new(), refused: Vec::new(), category: None, replaces: None };
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().map(str::to_owned);
                let mut bytes = Vec::new();
                let mut size = 0u64;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    size += chunk.len() as u64;
                    // Keep reading (to reach the next part) but stop keeping an oversized file.
                    if size <= max_file_bytes {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                if size > max_file_bytes {
                    let rejection = UploadRejection::TooLarge { size, limit: max_file_bytes };
                    form.refused.push(RejectedFile { file_name: name, rejection });
                } else {
                    form.files.push(UploadFile { name, bytes });
                }
            }
            "category" => {
                let text = field.text().await.map_err(multipart_error)?;
                // An HTML form's "detect it" choice sends the field empty: no category.
                form.category = match text.trim() {
                    "" => None,
                    t => Some(DocType::parse(t).ok_or_else(|| {
                        ApiError::field("category", format!("`{t}` is not a document type"))
                    })?),
                };
            }
            "replaces" => {
                let text = field.text().await.map_err(multipart_error)?;
                form.replaces = Some(
                    text.trim().parse().map_err(|_| ApiError::field("replaces", "must be a document id"))?,
                );
            }
            other => {
                return Err(ApiError::field(
                    other,
                    "unknown form field (use `file`, `category`, `replaces`)",
                ));
            }
        }
    }
    Ok(form)
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            ProblemType::FileTooLarge,
            format!(
                "one request takes at most {UPLOAD_REQUEST_LIMIT} bytes of files; send more requests or a zip"
            ),
        )
    } else {
        ApiError::new(
            ProblemType::MalformedJson,
            format!("the multipart body is malformed: {}", e.body_text()),
        )
    }
}

fn all_refused(refused: Vec<RejectedFile>) -> ApiError {
    let rejection = refused[0].rejection.clone();
    documents::service::DocumentsError::Rejected { rejection, files: refused }.into()
}

/// Upload one or many files to a client (`documents:create`; portal users to their own client
/// when their grant allows uploads). The type is read from the content; each file gets its own
/// result. An accepted file is stored durably and its processing queued before the answer.
/// The request is one batch (`batch_id`): see its progress at `/v1/document-batches/{id}`; its
/// uploader is notified when its last document is done. When every file is refused, the answer
/// is the (first) refusal's problem, listing each file; a zip archive (whatever its name) is
/// refused as 415 pointing to the batch endpoint. `replaces` must be a live document of this
/// client (else 404, nothing stored).
#[utoipa::path(post, path = "/v1/clients/{id}/documents", tag = "documents", security(("bearer" = [])),
    params(("id" = ClientId, Path)),
    request_body(content = inline(UploadForm), content_type = "multipart/form-data",
                 description = "`file` parts (one or many), optional `category` and `replaces`"),
    responses((status = 201, description = "the batch id and per-file results", body = UploadResponse),
              (status = 404, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem),
              (status = 422, body = Problem)))]
async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(client): ApiPath<ClientId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<UploadResponse>)> {
    state.documents.check_upload_target(&caller, client).await?;
    let form = read_form(multipart, state.documents.limits().max_bytes).await?;
    let uploaded = state.documents.upload(&caller, client, form).await?;
    Ok(respond(uploaded))
}

fn respond(uploaded: Uploaded) -> (StatusCode, Json<UploadResponse>) {
    (StatusCode::CREATED, Json(uploaded.into_api()))
}

/// Upload a zip of documents to a client, each entry with its own result (`documents:create`).
/// Entry count, sizes and expansion ratio are limited; nested archives are not expanded. The zip
/// is recognised by its content, whatever its name or first entry. The zip is one batch
/// (`batch_id`).
#[utoipa::path(post, path = "/v1/clients/{id}/documents/batch", tag = "documents", security(("bearer" = [])),
    params(("id" = ClientId, Path)),
    request_body(content = inline(BatchUploadForm), content_type = "multipart/form-data",
                 description = "one `file` part holding a zip; optional `category`"),
    responses((status = 201, description = "the batch id and per-entry results", body = UploadResponse),
              (status = 404, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem),
              (status = 422, body = Problem)))]
async fn upload_batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(client): ApiPath<ClientId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<UploadResponse>)> {
    state.documents.check_upload_target(&caller, client).await?;
    let mut form = read_form(multipart, state.documents.limits().max_bytes).await?;
    if !form.refused.is_empty() {
        return Err(all_refused(form.refused));
    }
    if form.files.len() != 1 {
        return Err(ApiError::field("file", "send exactly one zip archive as the `file` part"));
    }
    let zip = form.files.remove(0);
    let uploaded = state.documents.upload_batch(&caller, client, &zip.bytes, form.category).await?;
    Ok(respond(uploaded))
}

/// The organization's document storage and its quota (`documents:read`, staff only). An upload
/// that would take it past the quota is refused with 413 `storage-quota-exceeded`.
#[utoipa::path(get, path = "/v1/documents/storage", tag = "documents", security(("bearer" = [])),
    responses((status = 200, body = StorageUsage), (status = 403, body = Problem)))]
async fn storage(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<StorageUsage>> {
    let usage = state.documents.storage(&caller).await?;
    Ok(Json(StorageUsage { used_bytes: usage.used_bytes, limit_bytes: usage.limit_bytes }))
}

/// Upload batches, newest first, each with its progress (`documents:read`; portal users see their
/// own clients' batches).
#[utoipa::path(get, path = "/v1/document-batches", tag = "documents", security(("bearer" = [])),
    params(BatchListParams),
    responses((status = 200, body = Page<BatchResponse>), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn list_batches(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<BatchListParams>,
) -> ApiResult<Json<Page<BatchResponse>>> {
    let limit = page_limit(q.limit)?;
    let page =
        state.documents.batches(&caller, q.client_id, q.unfinished, q.cursor.as_deref(), limit).await?;
    Ok(Json(page.into_api()))
}

/// An upload batch's progress: files accepted and refused, its documents counted by status
/// (`pending` until the pipeline is done with them), and `finished_at` once none is pending
/// (`documents:read`; portal users see their own clients' batches).
#[utoipa::path(get, path = "/v1/document-batches/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = DocumentBatchId, Path)),
    responses((status = 200, body = BatchResponse), (status = 404, body = Problem)))]
async fn get_batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<DocumentBatchId>,
) -> ApiResult<Json<BatchResponse>> {
    Ok(Json(state.documents.batch(&caller, id).await?.into_api()))
}

/// List documents, newest first, with filters and full-text search (`documents:read`). Portal
/// users see their own clients' documents only.
#[utoipa::path(get, path = "/v1/documents", tag = "documents", security(("bearer" = [])),
    params(DocumentListParams),
    responses((status = 200, body = Page<DocumentResponse>), (status = 422, body = Problem)))]
async fn list_documents(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DocumentListParams>,
) -> ApiResult<Json<Page<DocumentResponse>>> {
    let limit = page_limit(q.limit)?;
    let page = state.documents.list(&caller, &document_filter(&q)?, q.cursor.as_deref(), limit).await?;
    Ok(Json(page.into_api()))
}

/// The review queue: documents that need review, oldest first, with the same filters
/// (`documents:read`, staff only: review is the firm's business).
#[utoipa::path(get, path = "/v1/documents/review-queue", tag = "documents", security(("bearer" = [])),
    params(DocumentListParams),
    responses((status = 200, body = Page<DocumentResponse>), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn review_queue(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DocumentListParams>,
) -> ApiResult<Json<Page<DocumentResponse>>> {
    let limit = page_limit(q.limit)?;
    let page =
        state.documents.review_queue(&caller, &document_filter(&q)?, q.cursor.as_deref(), limit).await?;
    Ok(Json(page.into_api()))
}

/// A document with its fields (value, confidence, text span), review reasons, per-step timings
/// and status events (`documents:read`).
#[utoipa::path(get, path = "/v1/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = DocumentId, Path)), responses((status = 200, body = DocumentDetailResponse), (status = 404, body = Problem)))]
async fn get_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<DocumentId>,
) -> ApiResult<Json<DocumentDetailResponse>> {
    Ok(Json(state.documents.get(&caller, id).await?.into_api()))
}

/// Delete a document (soft; audited) (`documents:delete`).
#[utoipa::path(delete, path = "/v1/documents/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = DocumentId, Path)), responses((status = 204), (status = 404, body = Problem)))]
async fn delete_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<DocumentId>,
) -> ApiResult<StatusCode> {
    state.documents.delete(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Correct (or add) one field; it then counts as certain (`documents:update`; audited).
#[utoipa::path(put, path = "/v1/documents/{id}/fields/{key}", tag = "documents", security(("bearer" = [])),
    params(("id" = DocumentId, Path), ("key" = String, Path)), request_body = FieldCorrection,
    responses((status = 200, body = DocumentFieldResponse), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn correct_field(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, key)): ApiPath<(DocumentId, String)>,
    ApiJson(req): ApiJson<FieldCorrection>,
) -> ApiResult<Json<DocumentFieldResponse>> {
    Ok(Json(state.documents.correct_field(&caller, id, &key, &req.value).await?.into_api()))
}

/// Approve a processed document (`documents:update`; audited).
#[utoipa::path(post, path = "/v1/documents/{id}/approve", tag = "documents", security(("bearer" = [])),
    params(("id" = DocumentId, Path)),
    responses((status = 200, body = DocumentResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn approve(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<DocumentId>,
) -> ApiResult<Json<DocumentResponse>> {
    Ok(Json(state.documents.approve(&caller, id).await?.into_api()))
}

/// Run the pipeline again on a processed document (`documents:update`; audited).
#[utoipa::path(post, path = "/v1/documents/{id}/reprocess", tag = "documents", security(("bearer" = [])),
    params(("id" = DocumentId, Path)),
    responses((status = 202, body = DocumentResponse), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn reprocess(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<DocumentId>,
) -> ApiResult<(StatusCode, Json<DocumentResponse>)> {
    Ok((StatusCode::ACCEPTED, Json(state.documents.reprocess(&caller, id).await?.into_api())))
}

/// A short-lived signed link to the original file (`documents:download`).
#[utoipa::path(post, path = "/v1/documents/{id}/download-link", tag = "documents", security(("bearer" = [])),
    params(("id" = DocumentId, Path)), responses((status = 200, body = DownloadLinkResponse), (status = 404, body = Problem)))]
async fn download_link(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<DocumentId>,
) -> ApiResult<Json<DownloadLinkResponse>> {
    let link = state.documents.download_link(&caller, id).await?;
    let url = format!("{}{}", state.config.public_url.trim_end_matches('/'), link.path);
    Ok(Json(DownloadLinkResponse { url, expires_at: link.expires_at }))
}

/// The file behind a signed link: the link is the credential (403 `invalid-link` when altered
/// or expired).
#[utoipa::path(get, path = "/v1/document-files/{id}", tag = "documents",
    params(("id" = DocumentId, Path), LinkParams),
    responses((status = 200, description = "the original file",
               headers(("content-disposition" = String,
                        description = "`attachment` with the file's base name as `filename` (ASCII) and `filename*` (UTF-8)"))),
              (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn open_link(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<DocumentId>,
    ApiQuery(q): ApiQuery<LinkParams>,
) -> ApiResult<Response> {
    let file = state.documents.open_link(q.org, id, q.expires, &q.sig).await?;
    Ok((
        [
            (header::CONTENT_TYPE, file.mime_type.to_owned()),
            (header::CONTENT_DISPOSITION, content_disposition(&file.file_name)),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        file.bytes,
    )
        .into_response())
}

/// `attachment` naming the file twice (RFC 6266): `filename` for old clients, ASCII with anything
/// else (quotes, backslashes, percent signs, non-ASCII) as `_`, and `filename*`, the exact name as
/// percent-encoded UTF-8 (RFC 8187). `name` is already a base name without control characters.
fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| if c == ' ' || c.is_ascii_graphic() && !matches!(c, '"' | '\\' | '%') { c } else { '_' })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// A small JPEG of an image or of a PDF's first page (`documents:read`).
#[utoipa::path(get, path = "/v1/documents/{id}/thumbnail", tag = "documents", security(("bearer" = [])),
    params(("id" = DocumentId, Path)),
    responses((status = 200, content_type = "image/jpeg", description = "the thumbnail"), (status = 404, body = Problem)))]
async fn thumbnail(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<DocumentId>,
) -> ApiResult<Response> {
    let jpeg = state.documents.thumbnail(&caller, id).await?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], jpeg).into_response())
}

/// The firm's vendor memories, newest first: what corrections of each vendor's documents taught
/// (where its fields sit, how its dates read, its name and currency), applied to its next
/// documents (`documents:read`, staff only).
#[utoipa::path(get, path = "/v1/vendor-memories", tag = "documents", security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Page<VendorMemoryResponse>), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_vendor_memories(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PageParams>,
) -> ApiResult<Json<Page<VendorMemoryResponse>>> {
    let limit = page_limit(q.limit)?;
    let page = state.documents.vendor_memories(&caller, q.cursor.as_deref(), limit).await?;
    Ok(Json(page.into_api()))
}

/// One vendor memory (`documents:read`, staff only).
#[utoipa::path(get, path = "/v1/vendor-memories/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = VendorMemoryId, Path)),
    responses((status = 200, body = VendorMemoryResponse), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_vendor_memory(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<VendorMemoryId>,
) -> ApiResult<Json<VendorMemoryResponse>> {
    Ok(Json(state.documents.vendor_memory(&caller, id).await?.into_api()))
}

/// Forget a vendor memory: the vendor's next documents are read as if it had never been corrected
/// (`documents:update`, staff only; audited with what was forgotten).
#[utoipa::path(delete, path = "/v1/vendor-memories/{id}", tag = "documents", security(("bearer" = [])),
    params(("id" = VendorMemoryId, Path)),
    responses((status = 204), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn forget_vendor_memory(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<VendorMemoryId>,
) -> ApiResult<StatusCode> {
    state.documents.forget_vendor_memory(&caller, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
