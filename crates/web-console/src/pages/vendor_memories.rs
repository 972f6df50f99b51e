//! Vendor memory: what the firm learnt from corrections of each vendor's documents (how it is
//! recognised, where each corrected field sits, how its dates read, its name and currency), how
//! often it was applied since, and "forget" (audited), after which the vendor's next documents
//! are read as if it had never been corrected.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use documents::values::DateOrder;
use documents::vendor_memories::VendorMemoryView;
use documents::vendor_memory::Anchor;
use domain::{Permission, VendorMemoryId};
use maud::{Markup, html};
use serde::Deserialize;

use api::AppState;

use crate::error::PageResult;
use crate::form::confirm;
use crate::layout::{self, Nav};
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui::{self, PageQuery};

const PAGE_SIZE: usize = 50;

#[derive(Debug, Default, Deserialize)]
pub struct MemoriesQuery {
    cursor: Option<String>,
}

fn recognised_by(kind: &str) -> &'static str {
    match kind {
        "tax_id" => "tax id",
        "name" => "name",
        _ => "layout",
    }
}

/// Where a learnt field sits, as a person reads it.
fn placement(anchor: &Anchor) -> String {
    match anchor {
        Anchor::Beside { label, .. } => format!("after “{}”", label.join(" ")),
        Anchor::Below { label, .. } => format!("under “{}”", label.join(" ")),
        Anchor::At { line, column, .. } if *line < 0 => {
            format!("line {} from the bottom, column {column}", -line)
        }
        Anchor::At { line, column, .. } => format!("line {}, column {column}", line + 1),
    }
}

fn row(viewer: &Viewer, m: &VendorMemoryView, can_forget: bool) -> Markup {
    let r = &m.row;
    let id = r.id;
    html! {
        tr id={ "memory-" (id) } {
            td {
                strong { (r.vendor_name.as_deref().unwrap_or("(no name)")) }
                div class="muted small" { (r.doc_type.as_str()) }
            }
            td { (recognised_by(&r.key_kind)) div class="muted small" { code { (r.key_value) } } }
            td class="wrap small" {
                @if m.memory.fields.is_empty() { span class="muted" { "—" } }
                ul class="plain" {
                    @for f in &m.memory.fields { li { code { (f.key) } " " (placement(&f.anchor)) } }
                }
            }
            td {
                (match m.memory.date_order {
                    Some(DateOrder::DayFirst) => "day first",
                    Some(DateOrder::MonthFirst) => "month first",
                    None => "—",
                })
            }
            td { (m.memory.currency.as_deref().unwrap_or("—")) }
            td class="num" { (r.corrections) }
            td class="num" { (r.times_applied) }
            td {
                (ui::time(r.updated_at))
                @if let Some(doc) = r.learned_from { div class="small" { a href={ "/review/" (doc) } { "from this document" } } }
            }
            td {
                @if can_forget {
                    (confirm(viewer, &format!("/vendor-memories/{id}/forget"), "Forget",
                        "This vendor's next documents will be read as if no one had corrected it."))
                }
            }
        }
    }
}

/// `GET /vendor-memories`.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    PageQuery(q): PageQuery<MemoriesQuery>,
) -> PageResult<Response> {
    let page = state.documents.vendor_memories(&viewer.caller, q.cursor.as_deref(), PAGE_SIZE).await?;
    let can_forget = viewer.caller.has(Permission::DocumentsUpdate);
    let body = html! {
        (layout::head_row("Vendor memory", Some(html! { a href="/review" { "Review queue" } }), None))
        p class="muted" {
            "When someone corrects a vendor's document, the firm remembers where each corrected field sits, how the vendor writes dates, its name and currency. "
            "Its next documents — recognised by tax id, name or layout — are read that way, and those fields show the source “vendor memory”."
        }
        div class="card flush" {
            @if page.items.is_empty() {
                (ui::empty("Nothing learnt yet", "Correct a field of a vendor's document in review, and what the correction teaches shows here.", None))
            } @else {
                div class="table-wrap" tabindex="0" role="region" aria-label="Vendor memories (scrolls)" {
                    table class="data" id="vendor-memories" {
                        thead { tr {
                            th scope="col" { "Vendor" } th scope="col" { "Recognised by" } th scope="col" { "Fields learnt" }
                            th scope="col" { "Dates" } th scope="col" { "Currency" } th scope="col" class="num" { "Corrections" }
                            th scope="col" class="num" { "Applied" } th scope="col" { "Learnt" } th scope="col" { span class="visually-hidden" { "Actions" } }
                        } }
                        tbody { @for m in &page.items { (row(&viewer, m, can_forget)) } }
                    }
                }
                (ui::pager("/vendor-memories", &[("cursor", q.cursor.clone().unwrap_or_default())], page.next_cursor.as_deref(), page.items.len()))
            }
        }
    };
    Ok(layout::page(&viewer, Nav::Review, "Vendor memory", body).into_response())
}

/// `POST /vendor-memories/{id}/forget`.
pub async fn forget(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<VendorMemoryId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    state.documents.forget_vendor_memory(&viewer.caller, id).await?;
    Ok(see_other("/vendor-memories"))
}
