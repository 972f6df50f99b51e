//! The review queue: the documents the pipeline was unsure of, oldest first, and one document's
//! review — its page beside the extracted fields, each field's box drawn on the page where it
//! was read and its source named (an e-invoice's XML, the text layer, OCR …), each editable, with
//! approve, re-read, and keyboard shortcuts to move through the queue (`j`/`k` next/previous, `a` approve).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use documents::service::DocumentDetail;
use domain::{DocType, DocumentId, FieldOrigin, FileKind, Permission, Region};
use maud::{Markup, html};
use serde::Deserialize;
use store::documents::{DocumentField, DocumentFilter};

use api::AppState;

use crate::error::{PageError, PageResult, fixable};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui::{self, PageQuery};

/// How many of the queue one page lists (and how far next/previous look).
const QUEUE_PAGE: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct QueueQuery {
    cursor: Option<String>,
}

/// `GET /review`.
pub async fn queue(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(q): PageQuery<QueueQuery>,
) -> PageResult<Response> {
    let page = state
        .documents
        .review_queue(&viewer.caller, &DocumentFilter::default(), q.cursor.as_deref(), QUEUE_PAGE)
        .await?;
    let body = html! {
        (layout::head_row("Review queue", Some(html! { a href="/vendor-memories" { "Vendor memory" } }), page.items.first().map(|d| html! {
            a class="btn primary" href={ "/review/" (d.id) } aria-keyshortcuts="Enter" { "Start reviewing" }
        })))
        div class="card flush" {
            @if page.items.is_empty() {
                (ui::empty("Nothing to review", "Documents the pipeline is unsure of wait here; everything it could read with confidence was approved.", None))
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="Table (scrolls)" {
                    table class="data" {
                        thead { tr { th scope="col" { "File" } th scope="col" { "Type" } th scope="col" { "Why" } th scope="col" { "Uploaded" } } }
                        tbody {
                            @for d in &page.items {
                                tr {
                                    td { a href={ "/review/" (d.id) } { (d.file_name) } }
                                    td { (d.doc_type.map_or("—", DocType::as_str)) }
                                    td class="wrap small" { (reasons(&d.review_reasons).join("; ")) }
                                    td { (ui::time(d.created_at)) }
                                }
                            }
                        }
                    }
                }
                (ui::pager("/review", &[("cursor", q.cursor.clone().unwrap_or_default())], page.next_cursor.as_deref(), page.items.len()))
            }
        }
    };
    Ok(layout::page(&viewer, Nav::Review, "Review queue", body).into_response())
}

/// The review reasons' messages.
fn reasons(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| {
                    r.get("message").and_then(|m| m.as_str()).or_else(|| r.as_str()).map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The documents before and after `id` in the queue's first page.
async fn neighbours(
    state: &AppState,
    viewer: &Viewer,
    id: DocumentId,
) -> PageResult<(Option<DocumentId>, Option<DocumentId>, usize)> {
    let page =
        state.documents.review_queue(&viewer.caller, &DocumentFilter::default(), None, QUEUE_PAGE).await?;
    let ids: Vec<DocumentId> = page.items.iter().map(|d| d.id).collect();
    Ok(match ids.iter().position(|d| *d == id) {
        Some(i) => (i.checked_sub(1).map(|p| ids[p]), ids.get(i + 1).copied(), ids.len()),
        None => (None, ids.first().copied(), ids.len()),
    })
}

fn review_page(
    viewer: &Viewer,
    detail: &DocumentDetail,
    prev: Option<DocumentId>,
    next: Option<DocumentId>,
    left: usize,
    error: Option<&str>,
) -> Markup {
    let d = &detail.document;
    let can_edit = viewer.caller.has(Permission::DocumentsUpdate);
    let next_href = next.map(|n| format!("/review/{n}")).unwrap_or_else(|| "/review".into());
    html! {
        (layout::head_row(&d.file_name, Some(html! { a href="/review" { "Review queue" } " · " (left) " waiting" }), Some(html! {
            div class="queue-nav" {
                @if let Some(p) = prev { a class="btn" href={ "/review/" (p) } rel="prev" aria-keyshortcuts="k" data-key="k" { "← Previous" kbd { "k" } } }
                a class="btn" href=(next_href) rel="next" aria-keyshortcuts="j" data-key="j" { "Next →" kbd { "j" } }
            }
        })))
        @if let Some(e) = error { div class="alert error" role="alert" { (e) } }
        div class="review" {
            @if d.kind == FileKind::Xml {
                figure class="page-image" {
                    p class="muted" { "An e-invoice sent as XML: it has no page to show, and every field was read from its XML." }
                    figcaption class="small muted" { a href={ "/documents/" (d.id) "/download" } { "Open the original" } }
                }
            } @else {
                figure class="page-image" {
                    div class="page-frame" {
                        img src={ "/documents/" (d.id) "/preview" } alt={ "First page of " (d.file_name) };
                        (field_boxes(&detail.fields))
                    }
                    figcaption class="small muted" { (d.pages) " page(s) · " a href={ "/documents/" (d.id) "/download" } { "Open the original" } }
                }
            }
            section class="card" aria-labelledby="fields-h" {
                h2 id="fields-h" { "Extracted fields" }
                dl class="facts" {
                    dt { "Type" } dd { (d.doc_type.map_or("not classified", DocType::as_str)) @if let Some(c) = d.type_confidence { " " span class="muted" { "(" (ui::percent(c)) ")" } } }
                    dt { "Status" } dd { (ui::badge(&super::documents::status_text(d))) }
                }
                @let why = reasons(&d.review_reasons);
                @if !why.is_empty() {
                    div class="alert info" { strong { "Why it needs a look: " } (why.join("; ")) }
                }
                div class="fields" {
                    @for f in &detail.fields {
                        form class="field-row" data-field=(f.key) method="post" action={ "/review/" (d.id) "/fields" } {
                            (csrf(viewer))
                            input type="hidden" name="key" value=(f.key);
                            label for={ "f-" (f.key) } class="small" {
                                (field_label(&f.key))
                                @if let Some(r) = f.region.filter(|r| r.page > 1) { " " span class="muted" { "(page " (r.page) ")" } }
                            }
                            input id={ "f-" (f.key) } name="value" value=(f.display) disabled[!can_edit || f.masked]
                                aria-describedby={ "c-" (f.key) };
                            span id={ "c-" (f.key) } class={ "badge " (if f.corrected_at.is_some() { "ok" } else if f.confidence < 0.8 { "warn" } else { "" }) } {
                                @if f.corrected_at.is_some() { "corrected" } @else { (ui::percent(f.confidence)) }
                                @if let Some(source) = f.source { span class="field-source" { " · " (source_text(source)) } }
                            }
                        }
                    }
                    @if detail.fields.is_empty() { p class="muted" { "No fields were extracted." } }
                }
                @if can_edit {
                    div class="queue-nav" {
                        form method="post" action={ "/review/" (d.id) "/approve" } {
                            (csrf(viewer))
                            button class="btn primary" type="submit" aria-keyshortcuts="a" data-key="a" { "Approve" kbd { "a" } }
                        }
                        form method="post" action={ "/review/" (d.id) "/reprocess" } {
                            (csrf(viewer))
                            button class="btn" type="submit" { "Read again" }
                        }
                    }
                    p class="small muted" { "Edit a value and press Enter to save it; it then counts as certain." }
                }
            }
        }
    }
}

/// Where a field's value came from, as people say it.
fn source_text(source: FieldOrigin) -> &'static str {
    match source {
        FieldOrigin::EInvoice => "e-invoice XML",
        FieldOrigin::TextLayer => "PDF text",
        FieldOrigin::Ocr => "OCR",
        FieldOrigin::Provider => "provider model",
        FieldOrigin::Reviewer => "added in review",
        FieldOrigin::VendorMemory => "vendor memory",
    }
}

/// A field's key as people read it.
fn field_label(key: &str) -> String {
    key.replace('_', " ")
}

/// A fraction of the page as an SVG length (a percentage of the overlay, which covers the page).
fn svg_percent(fraction: f32) -> String {
    format!("{:.2}%", fraction.clamp(0.0, 1.0) * 100.0)
}

/// Margin around a value's box, in fractions of the page (the words' boxes are tight).
const PAD_X: f32 = 0.004;
const PAD_Y: f32 = 0.003;

/// The boxes of the fields read on the first page (the one shown), drawn over it: an SVG the
/// size of the image with one labelled rectangle per field, placed in percentages so they stay
/// on the values at any width. Plain SVG attributes and classes (strict CSP); `console.js`
/// links each box with its input (focus or hover one, the other lights up).
fn field_boxes(fields: &[DocumentField]) -> Markup {
    let boxed: Vec<(&DocumentField, Region)> =
        fields.iter().filter_map(|f| f.region.filter(|r| r.page == 1).map(|r| (f, r))).collect();
    if boxed.is_empty() {
        return html! {};
    }
    html! {
        svg class="field-boxes" xmlns="http://www.w3.org/2000/svg" role="img"
            aria-label={ "Where " (boxed.len()) " of the fields were read on this page" } {
            @for (f, r) in &boxed {
                @let (x0, y0) = ((r.x - PAD_X).max(0.0), (r.y - PAD_Y).max(0.0));
                @let (x1, y1) = ((r.x + r.width + PAD_X).min(1.0), (r.y + r.height + PAD_Y).min(1.0));
                @let state = if f.corrected_at.is_some() { " corrected" } else if f.confidence < 0.8 { " low" } else { "" };
                g class={ "field-box" (state) } data-field=(f.key) {
                    title { (field_label(&f.key)) ": " (f.display) }
                    rect x=(svg_percent(x0)) y=(svg_percent(y0)) width=(svg_percent(x1 - x0)) height=(svg_percent(y1 - y0)) rx="2" {}
                    // (`{}`, not `;`: in HTML an unclosed `<rect>` would swallow the label.) The
                    // label sits above the box, or below it at the top of the page.
                    @if y0 > 0.03 {
                        text x=(svg_percent(x0)) y=(svg_percent(y0)) dy="-0.3em" { (field_label(&f.key)) }
                    } @else {
                        text x=(svg_percent(x0)) y=(svg_percent(y1)) dy="1em" { (field_label(&f.key)) }
                    }
                }
            }
        }
    }
}

/// `GET /review/{id}`.
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<DocumentId>,
) -> PageResult<Response> {
    if !viewer.caller.role.is_staff() {
        return Err(PageError::not_found("document"));
    }
    let detail = state.documents.get(&viewer.caller, id).await?;
    let (prev, next, left) = neighbours(&state, &viewer, id).await?;
    let body = review_page(&viewer, &detail, prev, next, left, None);
    Ok(layout::page(&viewer, Nav::Review, &detail.document.file_name, body).into_response())
}

#[derive(Debug, Deserialize)]
pub struct FieldForm {
    key: String,
    value: String,
}

/// `POST /review/{id}/fields`: one correction; a bad value shows the page again with why.
pub async fn correct(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<DocumentId>,
    CsrfForm(f): CsrfForm<FieldForm>,
) -> PageResult<Response> {
    match state.documents.correct_field(&viewer.caller, id, &f.key, &f.value).await {
        Ok(_) => Ok(see_other(&format!("/review/{id}"))),
        Err(e) => {
            let e = fixable(e)?;
            let detail = state.documents.get(&viewer.caller, id).await?;
            let (prev, next, left) = neighbours(&state, &viewer, id).await?;
            let message = format!("{} was not saved: {}", f.key.replace('_', " "), e.detail());
            let body = review_page(&viewer, &detail, prev, next, left, Some(&message));
            Ok((e.status(), layout::page(&viewer, Nav::Review, &detail.document.file_name, body))
                .into_response())
        }
    }
}

/// `POST /review/{id}/approve`: approves it and moves on to the next in the queue.
pub async fn approve(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<DocumentId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    let (_, next, _) = neighbours(&state, &viewer, id).await?;
    state.documents.approve(&viewer.caller, id).await?;
    Ok(see_other(&next.map(|n| format!("/review/{n}")).unwrap_or_else(|| "/review".into())))
}

/// `POST /review/{id}/reprocess`.
pub async fn reprocess(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<DocumentId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    state.documents.reprocess(&viewer.caller, id).await?;
    Ok(see_other("/review"))
}
