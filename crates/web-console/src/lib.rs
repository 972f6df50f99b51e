//! The web console: the firm's and its clients' screens, served by the same binary and port as the
//! API (`api::router_with`).
//!
//! # Why maud and htmx
//! Pages are rendered on the server from [maud] templates: HTML written as Rust, so the compiler
//! checks every template and every value it shows, output is escaped by default, and a page is a
//! plain function (no template files to keep in step, no runtime parsing). htmx (vendored) swaps
//! fragments for search-as-you-type and progress; every page also works as plain links and forms
//! without JavaScript.
//!
//! # Shape
//! Each handler extracts a [`session::Viewer`] (the browser's session as the use cases' `Caller`),
//! calls the same use cases as the JSON API (no SQL, no permission rules here: a use case's
//! refusal becomes the page's 403), and renders. Errors map through the API's one mapping
//! ([`api::ApiError`]) into HTML pages ([`error`]).
//!
//! # Security
//! Session cookie `HttpOnly; SameSite=Lax` (+ `Secure` under https); a CSRF token on every
//! state-changing request ([`session`]); a strict Content-Security-Policy on every page: scripts
//! and styles only from this origin, no inline script or style, no framing.
//!
//! Layering inside the crate: `assets`, `viewer` ← `layout` ← `error` ← `ui`, `charts`, `session` ←
//! `form` ← `pages`.

mod assets;
mod charts;
pub mod error;
mod form;
mod layout;
mod pages;
pub mod session;
mod ui;
mod viewer;

use api::AppState;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{get, post};

use pages::{
    audit, client, client_edit, client_portal, clients, dashboard, documents, engagement, invoice,
    marketplace, marketplace_compare, marketplace_needs, marketplace_profile, marketplace_verification,
    members, operations, profile, quickbooks, reset_password, review, search, sign_in, task, team, time,
    vendor_memories, work, workflow_recurrence, workflow_reminders, workflow_run, workflows,
};

pub use pages::quickbooks::AFTER_CONNECT_PATH;

/// Every page's Content-Security-Policy.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'; object-src 'none'";

/// Largest upload through the console (the documents' own per-file limits still apply).
const UPLOAD_BODY_LIMIT: usize = 256 * 1024 * 1024;
/// Largest CSV import (as the API's).
const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// The console's routes, for [`api::router_with`].
pub fn router() -> Router<AppState> {
    let uploads = Router::new()
        .route("/clients/{id}/upload", post(documents::upload))
        .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT));
    let imports = Router::new()
        .route("/clients/import", get(clients::import_form).post(clients::import))
        .layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT));
    Router::new()
        .route("/", get(dashboard::show))
        .route("/sign-in", get(sign_in::show).post(sign_in::submit))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/invitations/accept", get(sign_in::show_accept).post(sign_in::accept))
        .route("/forgot-password", get(reset_password::show_forgot).post(reset_password::forgot))
        .route(identity::PASSWORD_RESET_PATH, get(reset_password::show_reset).post(reset_password::reset))
        .route("/search", get(search::palette))
        .route("/clients", get(clients::list))
        .route("/clients/new", get(clients::new).post(clients::create))
        .route("/clients/bulk", post(clients::bulk))
        .route("/clients/export", get(clients::export))
        .route("/clients/{id}", get(client::show))
        .route("/clients/{id}/notes", post(client::add_note))
        .route("/clients/{id}/edit", get(client_edit::show).post(client_edit::save))
        .route("/clients/{id}/engagements/new", get(engagement::new).post(engagement::create))
        .route("/engagements/{id}", get(engagement::show).post(engagement::update))
        .route("/engagements/{id}/bill-time", post(engagement::bill_time))
        .route("/clients/{id}/portal", post(client_portal::grant))
        .route("/clients/{id}/portal/{grant}/revoke", post(client_portal::revoke))
        .route("/documents", get(documents::list))
        .route("/documents/{id}/preview", get(documents::preview))
        .route("/documents/{id}/download", get(documents::download))
        .route("/batches/{id}", get(documents::batch))
        .route("/review", get(review::queue))
        .route("/review/{id}", get(review::show))
        .route("/review/{id}/fields", post(review::correct))
        .route("/review/{id}/approve", post(review::approve))
        .route("/review/{id}/reprocess", post(review::reprocess))
        .route("/vendor-memories", get(vendor_memories::list))
        .route("/vendor-memories/{id}/forget", post(vendor_memories::forget))
        .route("/quickbooks", get(quickbooks::list))
        .route(AFTER_CONNECT_PATH, get(quickbooks::connected))
        .route("/clients/{id}/quickbooks/connect", post(quickbooks::connect))
        .route("/clients/{id}/quickbooks/sync", post(quickbooks::sync))
        .route("/clients/{id}/quickbooks/disconnect", post(quickbooks::disconnect))
        .route("/marketplace", get(marketplace::search))
        .route("/marketplace/advisors/{id}", get(marketplace::advisor))
        .route("/marketplace/compare", get(marketplace_compare::compare))
        .route("/marketplace/needs", get(marketplace_needs::new).post(marketplace_needs::create))
        .route("/marketplace/needs/{id}", get(marketplace_needs::matches))
        .route("/marketplace/needs/{id}/matches", post(marketplace_needs::rematch))
        .route("/marketplace/matches/{id}/contact", post(marketplace_needs::contact))
        .route("/marketplace/profile", get(marketplace_profile::show).post(marketplace_profile::save))
        .route("/marketplace/profile/submit", post(marketplace_profile::submit))
        .route("/marketplace/profile/availability", post(marketplace_profile::availability))
        .route("/marketplace/verification", get(marketplace_verification::queue))
        .route("/marketplace/verification/{id}/{decision}", post(marketplace_verification::decide))
        .route("/workflows", get(workflows::list))
        .route("/workflows/templates/new", get(workflows::new).post(workflows::create))
        .route("/workflows/templates/{id}", get(workflows::show))
        .route("/workflows/templates/{id}/edit", get(workflows::edit).post(workflows::save))
        .route("/workflows/templates/{id}/copy", post(workflows::copy))
        .route("/workflows/templates/{id}/archive", post(workflows::archive))
        .route("/workflows/templates/{id}/restore", post(workflows::restore))
        .route("/clients/{id}/workflows", post(workflow_run::start))
        .route("/workflows/runs/{id}", get(workflow_run::show))
        .route("/workflows/runs/{id}/steps/{key}", post(workflow_run::act))
        .route("/workflows/runs/{id}/steps/{key}/assignee", post(workflow_run::assign))
        .route("/workflows/runs/{id}/command", post(workflow_run::command))
        .route("/workflows/runs/{id}/cancel", post(workflow_run::cancel))
        .route("/clients/{id}/workflow-schedules", post(workflow_recurrence::create))
        .route("/workflows/schedules/preview", get(workflow_recurrence::preview))
        .route("/workflows/schedules/{id}/periods/start", post(workflow_recurrence::start_period))
        .route("/workflows/schedules/{id}/pause", post(workflow_recurrence::pause))
        .route("/workflows/schedules/{id}/resume", post(workflow_recurrence::resume))
        .route("/workflows/schedules/{id}/delete", post(workflow_recurrence::delete))
        .route(
            "/workflows/templates/{id}/bulk",
            get(workflow_recurrence::bulk_form).post(workflow_recurrence::bulk_start),
        )
        .route("/workflows/bulk/{id}", get(workflow_recurrence::bulk_show))
        .route("/workflows/bulk/{id}/progress", get(workflow_recurrence::bulk_progress))
        .route("/work", get(work::board))
        .route("/work/reassign", post(work::reassign))
        .route("/work/steps/{id}", get(task::step))
        .route("/work/items/{id}/checklist", post(task::add_check))
        .route("/work/items/{id}/checklist/{item}/toggle", post(task::toggle_check))
        .route("/work/items/{id}/checklist/{item}/move", post(task::move_check))
        .route("/work/items/{id}/checklist/{item}/remove", post(task::remove_check))
        .route("/work/items/{id}/comments", post(task::comment))
        .route("/work/items/{id}/comments/{comment}/edit", post(task::edit_comment))
        .route("/work/items/{id}/comments/{comment}/delete", post(task::delete_comment))
        .route("/work/items/{id}/attachments", post(task::attach))
        .route("/work/items/{id}/attachments/{document}/remove", post(task::detach))
        .route("/tasks", post(task::create))
        .route("/tasks/new", get(task::new))
        .route("/tasks/{id}", get(task::show))
        .route("/tasks/{id}/action", post(task::act))
        .route("/tasks/{id}/edit", get(task::edit).post(task::save))
        .route("/tasks/{id}/dependencies", post(task::dependencies))
        .route("/team", get(team::show))
        .route("/team/routing", post(team::save_routing))
        .route("/team/holidays", post(workflow_reminders::add))
        .route("/team/holidays/{date}/delete", post(workflow_reminders::remove))
        .route("/team/members/{id}", get(team::edit).post(team::save))
        .route("/time", get(time::show))
        .route("/time/entries", post(time::log))
        .route("/time/entries/{id}/delete", post(time::delete))
        .route("/time/timer", post(time::start))
        .route("/time/stop", post(time::stop))
        .route("/invoices/{id}", get(invoice::show))
        .route("/invoices/{id}/send", post(invoice::send))
        .route("/invoices/{id}/cancel", post(invoice::cancel))
        .route("/invoices/{id}/payments", post(invoice::pay))
        .route("/members", get(members::list))
        .route("/members/invitations", post(members::invite))
        .route("/members/{id}", post(members::update))
        .route("/members/invitations/{id}/revoke", post(members::revoke))
        .route("/members/{id}/password-reset", get(members::confirm_reset).post(members::create_reset))
        .route("/audit", get(audit::list))
        .route("/audit/verify", post(audit::verify))
        .route("/operations", get(operations::show))
        .route("/profile", get(profile::show))
        .route("/profile/mfa/enrol", post(profile::enrol))
        .route("/profile/mfa/confirm", post(profile::confirm))
        .route("/profile/mfa/disable", post(profile::disable))
        .route("/profile/password", post(profile::password))
        .route("/profile/api-keys", post(profile::create_key))
        .route("/profile/api-keys/{id}/revoke", post(profile::revoke_key))
        .merge(uploads)
        .merge(imports)
        .layer(axum::middleware::from_fn(page_headers))
        .route("/assets/{file}", get(assets::serve))
}

/// The CSP, and no caching of pages that show a person's data.
async fn page_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}
