//! Documents: the list, uploading to a client (several files or a zip; `console.js` shows each
//! file's progress), a batch's progress while the pipeline reads it, and the files themselves
//! (page preview, download) for a signed-in browser.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use documents::service::FileOutcome;
use domain::{ClientId, DocType, DocumentBatchId, DocumentId, DocumentStatus, Permission};
use maud::{Markup, html};
use serde::Deserialize;
use store::documents::{Document, DocumentFilter};

use api::AppState;

use crate::error::{PageError, PageResult};
use crate::layout::{self, Nav};
use crate::session::{CSRF_FIELD, Viewer, csrf_header, csrf_matches, see_other};
use crate::ui::{self, PageQuery};

const PAGE_SIZE: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct DocumentQuery {
    q: Option<String>,
    status: Option<String>,
    needs_review: Option<bool>,
    client_id: Option<ClientId>,
    cursor: Option<String>,
}

/// A document's state as a person reads it.
pub fn status_text(d: &Document) -> String {
    if d.needs_review && d.approved_at.is_none() { "needs review".into() } else { ui::label(&d.status) }
}

/// The documents table (also the client page's documents tab).
pub fn table(items: &[Document], review_links: bool) -> Markup {
    html! {
        table class="data" {
            thead { tr {
                th scope="col" { "File" } th scope="col" { "Type" } th scope="col" { "Status" }
                th scope="col" class="num" { "Pages" } th scope="col" { "Uploaded" }
            } }
            tbody {
                @for d in items {
                    tr {
                        td {
                            @if review_links && d.needs_review && d.approved_at.is_none() { a href={ "/review/" (d.id) } { (d.file_name) } }
                            @else { a href={ "/documents/" (d.id) "/download" } { (d.file_name) } }
                        }
                        td { (d.doc_type.map_or("—", DocType::as_str)) }
                        td { (ui::badge(&status_text(d))) }
                        td class="num" { (d.pages) }
                        td { (ui::time(d.created_at)) }
                    }
                }
            }
        }
    }
}

/// `GET /documents`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(q): PageQuery<DocumentQuery>,
) -> PageResult<Response> {
    let filter = DocumentFilter {
        client_id: q.client_id,
        status: q.status.clone(),
        needs_review: q.needs_review,
        q: q.q.clone(),
        ..Default::default()
    };
    let page = state.documents.list(&viewer.caller, &filter, q.cursor.as_deref(), PAGE_SIZE).await?;
    let staff = viewer.caller.role.is_staff();
    let params = vec![
        ("q", q.q.clone().unwrap_or_default()),
        ("status", q.status.clone().unwrap_or_default()),
        ("client_id", q.client_id.map(|c| c.to_string()).unwrap_or_default()),
        ("cursor", q.cursor.clone().unwrap_or_default()),
    ];
    let body = html! {
        (layout::head_row("Documents", None, staff.then(|| html! { a class="btn" href="/review" { "Review queue" } })))
        form class="filters" method="get" action="/documents" role="search"
            hx-get="/documents" hx-trigger="input changed delay:250ms from:find input[name=q], change from:find select" hx-target="#document-table" hx-select="#document-table" hx-swap="outerHTML" hx-push-url="true" {
            label { "Search" input type="search" name="q" value=(q.q.as_deref().unwrap_or("")) placeholder="File name or text in the document" data-focus-key="/"; }
            label { "Status"
                select name="status" {
                    option value="" { "Any" }
                    @for s in DocumentStatus::ALL {
                        option value=(s.as_str()) selected[q.status.as_deref() == Some(s.as_str())] { (s.as_str().replace('_', " ")) }
                    }
                }
            }
            @if let Some(c) = q.client_id { input type="hidden" name="client_id" value=(c); }
            noscript { button class="btn" type="submit" { "Filter" } }
        }
        div id="document-table" class="card flush" {
            @if page.items.is_empty() {
                (ui::empty("No documents", "Upload documents from a client's page (Documents tab); they are read and filed here.", Some(html! { a class="btn" href="/clients" { "Go to clients" } })))
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="Table (scrolls)" { (table(&page.items, staff)) }
                (ui::pager("/documents", &params, page.next_cursor.as_deref(), page.items.len()))
            }
        }
    };
    Ok(layout::page(&viewer, Nav::Documents, "Documents", body).into_response())
}

/// The upload form for one client: multi-file, or a zip; works as a plain form post, and with
/// `console.js` sends each file on its own request with a progress bar.
pub fn upload_form(viewer: &Viewer, client: ClientId) -> Markup {
    let action = format!("/clients/{client}/upload?{CSRF_FIELD}={}", viewer.csrf);
    html! {
        form class="card form" method="post" action=(action) enctype="multipart/form-data" data-upload {
            h3 { "Upload documents" }
            label { "Files" span class="field-hint" { "PDF, images, Office files, CSV or e-invoice XML (CII, UBL); a zip is read as a batch" }
                input type="file" name="file" multiple required;
            }
            label { "Type (optional)"
                select name="category" {
                    option value="" { "Detect automatically" }
                    @for t in DocType::ALL.iter().filter(|t| **t != DocType::General) {
                        option value=(t.as_str()) { (t.as_str().replace('_', " ")) }
                    }
                }
            }
            div { button class="btn primary" type="submit" { "Upload" } }
            ul class="upload-progress" data-upload-progress aria-live="polite" {}
        }
    }
}

/// `POST /clients/{id}/upload`: the CSRF token is in the query (or the header), so it is checked
/// before any of the body is read; then as `POST /v1/clients/{id}/documents`, or a batch for a zip.
pub async fn upload(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(client): Path<ClientId>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<std::collections::HashMap<String, String>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult<Response> {
    let presented = q.get(CSRF_FIELD).map(String::as_str).or_else(|| csrf_header(&headers));
    if !csrf_matches(&headers, presented) {
        return Err(PageError::Csrf);
    }
    state.documents.check_upload_target(&viewer.caller, client).await?;
    let mut form = api::routes::documents::read_form(multipart, state.documents.limits().max_bytes).await?;
    let is_zip = form.files.len() == 1
        && form.files[0].name.as_deref().is_some_and(|n| n.to_ascii_lowercase().ends_with(".zip"));
    let uploaded = if is_zip {
        let zip = form.files.remove(0);
        state.documents.upload_batch(&viewer.caller, client, &zip.bytes, form.category).await?
    } else {
        state.documents.upload(&viewer.caller, client, form).await?
    };
    let rejected = uploaded.files.iter().filter(|f| matches!(f, FileOutcome::Rejected(_))).count();
    Ok(see_other(&format!("/batches/{}{}", uploaded.batch_id, if rejected > 0 { "?rejected=1" } else { "" })))
}

/// `GET /batches/{id}`: how far the pipeline is with an upload; refreshes itself until done.
pub async fn batch(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<DocumentBatchId>,
) -> PageResult<Response> {
    let p = state.documents.batch(&viewer.caller, id).await?;
    let c = &p.counts;
    let total = (c.pending + c.processed + c.duplicates).max(1);
    let filter = DocumentFilter { client_id: Some(p.batch.client_id), ..Default::default() };
    let recent = state
        .documents
        .list(&viewer.caller, &filter, None, (p.batch.accepted.max(1) as usize).min(PAGE_SIZE))
        .await?;
    let docs: Vec<&Document> = recent.items.iter().filter(|d| d.batch_id == Some(id)).collect();
    let done = p.batch.finished_at.is_some();
    let body = html! {
        (layout::head_row("Upload progress", Some(html! { a href={ "/clients/" (p.batch.client_id) "?tab=documents" } { (p.batch.client_name) } }), None))
        section class="card" id="batch" hx-get={ "/batches/" (id) } hx-trigger=[(!done).then_some("every 1s")] hx-select="#batch" hx-swap="outerHTML" {
            @if done { h2 { "Done: " (c.processed) " read, " (c.needs_review) " to review" } }
            @else { h2 { "Reading " (c.pending) " of " (total) " documents…" } }
            progress max=(total) value=(total - c.pending) aria-label="Documents read" {}
            dl class="facts" {
                dt { "Accepted" } dd { (p.batch.accepted) }
                dt { "Refused at upload" } dd { (p.batch.rejected) }
                dt { "Approved automatically" } dd { (c.approved) }
                dt { "Waiting for review" } dd { (c.needs_review) }
                dt { "Stored unread" } dd { (c.stored) }
                dt { "Already held (duplicates)" } dd { (c.duplicates) }
            }
            @if !docs.is_empty() { div class="table-wrap" tabindex="0" role="region" aria-label="Table (scrolls)" { (table(&docs.into_iter().cloned().collect::<Vec<_>>(), viewer.caller.role.is_staff())) } }
            @if done && c.needs_review > 0 && viewer.caller.role.is_staff() { p { a class="btn primary" href="/review" { "Review them" } } }
        }
    };
    Ok(layout::page(&viewer, Nav::Documents, "Upload progress", body).into_response())
}

/// `GET /documents/{id}/preview`: the first page, large enough to read.
pub async fn preview(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<DocumentId>,
) -> PageResult<Response> {
    let jpeg = state.documents.preview(&viewer.caller, id).await?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg"), (header::CACHE_CONTROL, "private, max-age=300")], jpeg)
        .into_response())
}

/// `GET /documents/{id}/download`: on to a short-lived signed link of the file.
pub async fn download(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<DocumentId>,
) -> PageResult<Response> {
    viewer.caller.require(Permission::DocumentsDownload)?;
    let link = state.documents.download_link(&viewer.caller, id).await?;
    Ok(Redirect::to(&link.path).into_response())
}
