//! Members and invitations: who is in the firm with which role, inviting someone (the page shows
//! the link to send them), revoking an open invitation, and a password-reset link for a member
//! (after a confirm step; mailed to them and shown once, like an invitation's).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{InvitationId, Permission, Role, UserId, UserStatus};
use identity::MemberPatch;
use maud::{Markup, html};
use serde::Deserialize;
use store::users::MemberFilter;

use api::AppState;

use crate::error::{PageError, PageResult, fixable};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, NoFields, Viewer, see_other};
use crate::ui;

const PAGE_SIZE: usize = 200;

async fn page(
    state: &AppState,
    viewer: &Viewer,
    notice: Option<Markup>,
    error: Option<&str>,
) -> PageResult<Markup> {
    let members =
        state.identity.list_members(&viewer.caller, &MemberFilter::default(), None, PAGE_SIZE).await?;
    let can_invite = viewer.caller.has(Permission::UsersInvite);
    let can_manage = viewer.caller.has(Permission::UsersUpdate);
    let me = viewer.caller.user_id();
    let invitations = if can_invite {
        Some(state.identity.list_invitations(&viewer.caller, true, None, PAGE_SIZE).await?)
    } else {
        None
    };
    let body = html! {
        (layout::head_row("Members", None, None))
        @if let Some(n) = notice { (n) }
        @if let Some(e) = error { div class="alert error" role="alert" { (e) } }
        div class="card flush" {
            table class="data" {
                caption class="visually-hidden" { "Members" }
                thead { tr {
                    th scope="col" { "Name" } th scope="col" { "Email" } th scope="col" { "Role" } th scope="col" { "Status" } th scope="col" { "MFA" } th scope="col" { "Last sign-in" }
                    @if can_manage { th scope="col" { span class="visually-hidden" { "Change" } } }
                } }
                tbody {
                    @for m in &members.items {
                        tr {
                            td { (m.name) }
                            td class="wrap" { (m.email) }
                            td { (ui::label(&m.role)) }
                            td { (ui::badge(&ui::label(&m.status))) }
                            td { @if m.mfa_enabled { (ui::badge("on")) } @else { span class="muted" { "off" } } }
                            td { @if let Some(t) = m.last_login_at { (ui::time(t)) } @else { span class="muted" { "never" } } }
                            @if can_manage {
                                td class="row-actions" {
                                    @if m.id != me && viewer.caller.role.may_grant(m.role) {
                                        div class="row-actions-line" {
                                        form class="filters" method="post" action={ "/members/" (m.id) } {
                                            (csrf(viewer))
                                            select name="role" aria-label={ "Role of " (m.name) } {
                                                @for r in Role::ALL.iter().filter(|r| viewer.caller.role.may_grant(**r)) {
                                                    option value=(r.as_str()) selected[*r == m.role] { (ui::label(r)) }
                                                }
                                            }
                                            select name="status" aria-label={ "Status of " (m.name) } {
                                                @for st in [UserStatus::Active, UserStatus::Disabled] {
                                                    option value=(ui::label(&st)) selected[st == m.status] { (ui::label(&st)) }
                                                }
                                            }
                                            button class="btn" type="submit" aria-label={ "Save " (m.name) } { "Save" }
                                        }
                                        @if m.status == UserStatus::Active {
                                            a class="btn link" href={ "/members/" (m.id) "/password-reset" } aria-label={ "Reset link for " (m.name) } { "Reset link" }
                                        }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(inv) = &invitations {
            div class="grid-2" {
                form class="card form" method="post" action="/members/invitations" {
                    h2 { "Invite someone" }
                    (csrf(viewer))
                    label { "Email" input type="email" name="email" required; }
                    label { "Name (optional)" input name="name"; }
                    label { "Role"
                        select name="role" {
                            @for r in Role::ALL.iter().filter(|r| viewer.caller.role.may_grant(**r)) {
                                option value=(r.as_str()) selected[*r == Role::Staff] { (ui::label(r)) }
                            }
                        }
                    }
                    div { button class="btn primary" type="submit" { "Create invitation" } }
                }
                section class="card flush" aria-labelledby="inv-h" {
                    div class="table-foot" { h2 id="inv-h" { "Open invitations" } }
                    @if inv.items.is_empty() { (ui::empty("No open invitations", "Invitations waiting to be accepted appear here until they expire.", None)) }
                    @else {
                        table class="data" {
                            thead { tr { th scope="col" { "Email" } th scope="col" { "Role" } th scope="col" { "Expires" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                            tbody {
                                @for i in &inv.items {
                                    tr {
                                        td { (i.email) }
                                        td { (ui::label(&i.role)) }
                                        td { (ui::time(i.expires_at)) }
                                        td class="row-actions" {
                                            form method="post" action={ "/members/invitations/" (i.id) "/revoke" } {
                                                (csrf(viewer))
                                                button class="btn link" type="submit" aria-label={ "Revoke the invitation of " (i.email) } { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::page(viewer, Nav::Members, "Members", body))
}

/// `GET /members`.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> PageResult<Response> {
    Ok(page(&state, &viewer, None, None).await?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct InviteForm {
    email: String,
    name: Option<String>,
    role: String,
}

/// `POST /members/invitations`: creates it and shows the link to send (shown once; tokens are
/// stored hashed).
pub async fn invite(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<InviteForm>,
) -> PageResult<Response> {
    let role: Role = f.role.parse().map_err(|_| PageError::BadForm("choose a role from the list".into()))?;
    let name = f.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    match state.identity.invite(&viewer.caller, f.email.trim(), name, role).await {
        Ok(created) => {
            let link = format!("{}/invitations/accept?token={}", state.config.public_url, created.token);
            let notice = html! {
                div class="alert ok" role="status" {
                    "Invitation created for " strong { (created.invitation.email) } ". Send them this link (shown once): "
                    br; code id="invitation-link" { (link) }
                }
            };
            Ok((StatusCode::CREATED, page(&state, &viewer, Some(notice), None).await?).into_response())
        }
        Err(e) => {
            let e = fixable(e)?;
            Ok((e.status(), page(&state, &viewer, None, Some(e.detail())).await?).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct MemberForm {
    role: String,
    status: String,
}

/// `POST /members/{id}`: a member's role and status (within the caller's own authority).
pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<UserId>,
    CsrfForm(f): CsrfForm<MemberForm>,
) -> PageResult<Response> {
    let patch = MemberPatch {
        role: Some(f.role.parse().map_err(|_| PageError::BadForm("choose a role from the list".into()))?),
        status: Some(match f.status.as_str() {
            "active" => UserStatus::Active,
            "disabled" => UserStatus::Disabled,
            _ => return Err(PageError::BadForm("choose a status from the list".into())),
        }),
    };
    match state.identity.update_member(&viewer.caller, id, &patch).await {
        Ok(_) => Ok(see_other("/members")),
        Err(e) => {
            let e = fixable(e)?;
            Ok((e.status(), page(&state, &viewer, None, Some(e.detail())).await?).into_response())
        }
    }
}

/// `POST /members/invitations/{id}/revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<InvitationId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    state.identity.revoke_invitation(&viewer.caller, id).await?;
    Ok(see_other("/members"))
}

/// `GET /members/{id}/password-reset`: the confirm step before a reset link is made.
pub async fn confirm_reset(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<UserId>,
) -> PageResult<Response> {
    viewer.caller.require(Permission::UsersUpdate)?;
    let member = state.identity.get_member(&viewer.caller, id).await?;
    let body = html! {
        (layout::head_row("Reset link", Some(html! { a href="/members" { "Members" } }), None))
        form class="card form" method="post" action={ "/members/" (member.id) "/password-reset" } {
            h2 { "Create a password-reset link for " (member.name) "?" }
            (csrf(&viewer))
            p { "A link to choose a new password is mailed to " strong { (member.email) } " and shown to you once, to pass on yourself if the mail does not reach them." }
            p class="muted" { "It works once, for one hour. Their current password keeps working until the link is used; using it signs them out everywhere." }
            div class="row-actions" {
                button class="btn primary" type="submit" { "Create the link" }
                a class="btn" href="/members" { "Cancel" }
            }
        }
    };
    Ok(layout::page(&viewer, Nav::Members, "Reset link", body).into_response())
}

/// `POST /members/{id}/password-reset`: creates the link, mails it, and shows it on the members page.
pub async fn create_reset(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<UserId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    match state.identity.create_password_reset(&viewer.caller, id).await {
        Ok(created) => {
            let notice = html! {
                div class="alert ok" role="status" {
                    "A reset link was mailed to " strong { (created.email) } " (it works once, until " (ui::time(created.reset.expires_at)) "). If it does not reach them, send this link yourself (shown once): "
                    br; code id="reset-link" { (created.link) }
                }
            };
            Ok((StatusCode::CREATED, page(&state, &viewer, Some(notice), None).await?).into_response())
        }
        Err(e) => {
            let e = fixable(e)?;
            Ok((e.status(), page(&state, &viewer, None, Some(e.detail())).await?).into_response())
        }
    }
}
