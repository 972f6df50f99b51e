//! A client's portal access (`users:invite`): which of the firm's client-role members see this
//! client in the portal, with which abilities; granting it to one more and revoking it.

use api_types::invoices::GrantPortalAccessRequest;
use axum::extract::{Path, State};
use axum::response::Response;
use domain::{AccessLevel, ClientId, PortalAccessId, Role, UserId, UserStatus};
use maud::{Markup, html};
use serde::Deserialize;
use store::users::MemberFilter;

use api::AppState;

use crate::error::PageResult;
use crate::form::{self, Refusal};
use crate::layout::csrf;
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui;

fn tab_url(client: ClientId) -> String {
    format!("/clients/{client}?tab=portal")
}

/// The client page's "Portal access" tab.
pub async fn tab(state: &AppState, viewer: &Viewer, id: ClientId) -> PageResult<Markup> {
    let grants = state.practice.list_portal_access(&viewer.caller, id).await?;
    let filter = MemberFilter { role: Some(Role::Client), status: Some(UserStatus::Active) };
    let people = state.identity.list_members(&viewer.caller, &filter, None, 500).await?.items;
    let name =
        |user: UserId| people.iter().find(|m| m.id == user).map(|m| format!("{} <{}>", m.name, m.email));
    let live = |user: UserId| grants.iter().any(|g| g.user_id == user && g.revoked_at.is_none());
    let grantable: Vec<_> = people.iter().filter(|m| !live(m.id)).collect();
    Ok(html! {
        div class="card flush" {
            @if grants.is_empty() {
                (ui::empty("No portal users", "Give a person of this client access below: they then see this client's documents and invoices in the portal, and can upload.", None))
            } @else {
                table class="data" {
                    caption class="visually-hidden" { "Portal access" }
                    thead { tr { th scope="col" { "Person" } th scope="col" { "Level" } th scope="col" { "Financials" } th scope="col" { "Uploads" } th scope="col" { "Since" } th scope="col" { "State" } th scope="col" { span class="visually-hidden" { "Revoke" } } } }
                    tbody {
                        @for g in &grants {
                            tr {
                                td { @if let Some(n) = name(g.user_id) { (n) } @else { span class="muted" { "a former member" } } }
                                td { (ui::label(&g.access_level)) }
                                td { @if g.can_view_financials { "yes" } @else { "no" } }
                                td { @if g.can_upload_documents { "yes" } @else { "no" } }
                                td { (ui::date(g.created_at.date_naive())) }
                                td { @if g.revoked_at.is_some() { (ui::badge("revoked")) } @else { (ui::badge("active")) } }
                                td class="row-actions" {
                                    @if g.revoked_at.is_none() {
                                        (form::confirm(viewer, &format!("/clients/{id}/portal/{}/revoke", g.id), "Revoke", "They stop seeing this client in the portal at once."))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section class="card" aria-labelledby="grant-h" {
            h2 id="grant-h" { "Give portal access" }
            @if grantable.is_empty() {
                p class="muted" { "Everyone with the client role already has access here. Invite a person of this client from " a href="/members" { "Members" } " (role: client) first." }
            } @else {
                form class="form" method="post" action={ "/clients/" (id) "/portal" } {
                    (csrf(viewer))
                    label { "Person"
                        select name="user_id" required {
                            @for m in &grantable { option value=(m.id) { (m.name) " <" (m.email) ">" } }
                        }
                    }
                    (form::select(Refusal::default(), "access_level", "Level", AccessLevel::ALL, Some(AccessLevel::View), None))
                    label class="inline" { input type="checkbox" name="can_view_financials" value="true" checked; " Sees invoices and financials" }
                    label class="inline" { input type="checkbox" name="can_upload_documents" value="true" checked; " Uploads documents" }
                    div { button class="btn primary" type="submit" { "Give access" } }
                }
            }
        }
    })
}

#[derive(Debug, Deserialize)]
pub struct GrantForm {
    user_id: UserId,
    access_level: Option<AccessLevel>,
    can_view_financials: Option<bool>,
    can_upload_documents: Option<bool>,
}

/// `POST /clients/{id}/portal`.
pub async fn grant(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(client): Path<ClientId>,
    CsrfForm(f): CsrfForm<GrantForm>,
) -> PageResult<Response> {
    let req = GrantPortalAccessRequest {
        user_id: f.user_id,
        access_level: f.access_level,
        // An unticked box is absent from the form: no.
        can_view_financials: Some(f.can_view_financials.unwrap_or(false)),
        can_upload_documents: Some(f.can_upload_documents.unwrap_or(false)),
        can_message: None,
        can_approve_invoices: None,
        can_manage_team: None,
        can_export_data: None,
        expires_at: None,
    };
    state.practice.grant_portal_access(&viewer.caller, client, req).await?;
    Ok(see_other(&tab_url(client)))
}

/// `POST /clients/{id}/portal/{grant}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((client, grant)): Path<(ClientId, PortalAccessId)>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    state.practice.revoke_portal_access(&viewer.caller, grant).await?;
    Ok(see_other(&tab_url(client)))
}
