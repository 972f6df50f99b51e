//! Profile and security: the password, multi-factor sign-in (enrol with an authenticator app,
//! recovery codes, turn off) and API keys. A member whose firm requires MFA and who has none lands
//! here and can do nothing else until they enrol.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::{ApiKeyId, Permission};
use maud::{Markup, html};
use serde::Deserialize;

use api::AppState;

use crate::error::{PageResult, fixable};
use crate::layout::{self, Nav, csrf};
use crate::session::{CsrfForm, NoFields, PendingViewer, Viewer, see_other};
use crate::ui;

/// What the page shows above its sections after an action.
enum Outcome {
    None,
    Error(String),
    Ok(String),
    Enrolling { secret: String, uri: String },
    RecoveryCodes(Vec<String>),
    NewKey { name: String, secret: String },
}

async fn render(state: &AppState, viewer: &Viewer, outcome: Outcome, must_enrol: bool) -> PageResult<Markup> {
    let keys = if viewer.caller.has(Permission::ApiKeys) && !must_enrol {
        Some(state.identity.list_api_keys(&viewer.caller).await?)
    } else {
        None
    };
    let body = html! {
        (layout::head_row("Profile & security", None, None))
        @if must_enrol {
            div class="alert info" role="status" { "Your firm requires multi-factor sign-in. Set it up below to continue." }
        }
        @match &outcome {
            Outcome::None => {},
            Outcome::Error(e) => div class="alert error" role="alert" { (e) },
            Outcome::Ok(m) => div class="alert ok" role="status" { (m) },
            Outcome::Enrolling { .. } => {},
            Outcome::RecoveryCodes(codes) => div class="alert ok" role="status" id="recovery-codes" {
                strong { "Multi-factor sign-in is on. " } "Keep these recovery codes somewhere safe; each works once, and they are shown only now:"
                ul { @for c in codes { li { code { (c) } } } }
            },
            Outcome::NewKey { name, secret } => div class="alert ok" role="status" id="new-key" {
                "API key " strong { (name) } " created. Copy it now; it is shown only once: " br; code { (secret) }
            },
        }
        div class="grid-2" {
            section class="card" aria-labelledby="me-h" {
                h2 id="me-h" { (viewer.user.name) }
                dl class="facts" {
                    dt { "Email" } dd { (viewer.user.email) }
                    dt { "Role" } dd { (ui::label(&viewer.user.role)) }
                    dt { "Firm" } dd { (viewer.organization.name) " (" code { (viewer.organization.slug) } ")" }
                }
            }
            section class="card" aria-labelledby="mfa-h" {
                h2 id="mfa-h" { "Multi-factor sign-in" }
                @if let Outcome::Enrolling { secret, uri } = &outcome {
                    p { "Add this account to your authenticator app with the key below (or open the link on your phone), then enter the 6-digit code it shows." }
                    p { code id="mfa-secret" { (secret) } }
                    p class="small" { a href=(uri) { "Open in an authenticator app" } }
                    form class="form" method="post" action="/profile/mfa/confirm" {
                        (csrf(viewer))
                        label { "Code" input name="code" required inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" autofocus; }
                        div { button class="btn primary" type="submit" { "Turn on" } }
                    }
                } @else if viewer.user.mfa_enabled {
                    p { (ui::badge("on")) " Signing in asks for a code from your authenticator app." }
                    form class="form" method="post" action="/profile/mfa/disable" {
                        (csrf(viewer))
                        label { "Current code (to turn it off)" input name="code" required inputmode="numeric" autocomplete="one-time-code"; }
                        div { button class="btn danger" type="submit" { "Turn off" } }
                    }
                } @else {
                    p { "Off. With it on, signing in also asks for a code from an authenticator app." }
                    form method="post" action="/profile/mfa/enrol" {
                        (csrf(viewer))
                        button class="btn primary" type="submit" { "Set up" }
                    }
                }
            }
            @if !must_enrol {
                form class="card form" method="post" action="/profile/password" {
                    h2 { "Password" }
                    (csrf(viewer))
                    label { "Current password" input type="password" name="current" required autocomplete="current-password"; }
                    label { "New password" span class="field-hint" { "At least 12 characters; your other sessions end" }
                        input type="password" name="new" required minlength="12" autocomplete="new-password"; }
                    div { button class="btn" type="submit" { "Change password" } }
                }
            }
            @if let Some(keys) = &keys {
                section class="card" aria-labelledby="keys-h" {
                    h2 id="keys-h" { "API keys" }
                    p class="small muted" { "For scripts and integrations: a key acts for you, with your permissions for this firm." }
                    @if keys.is_empty() { p class="muted" { "No keys." } }
                    @else {
                        table class="data" {
                            thead { tr { th scope="col" { "Name" } th scope="col" { "Prefix" } th scope="col" { "Last used" } th scope="col" { span class="visually-hidden" { "Actions" } } } }
                            tbody {
                                @for k in keys {
                                    tr {
                                        td { (k.name) }
                                        td { code { (k.prefix) } }
                                        td { @if let Some(t) = k.last_used_at { (ui::time(t)) } @else { span class="muted" { "never" } } }
                                        td class="row-actions" {
                                            @if k.revoked_at.is_some() { (ui::badge("revoked")) } @else {
                                                form method="post" action={ "/profile/api-keys/" (k.id) "/revoke" } {
                                                    (csrf(viewer))
                                                    button class="btn link" type="submit" aria-label={ "Revoke " (k.name) } { "Revoke" }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    form class="form" method="post" action="/profile/api-keys" {
                        (csrf(viewer))
                        label { "New key's name" input name="name" required maxlength="100" placeholder="e.g. bookkeeping export"; }
                        div { button class="btn" type="submit" { "Create key" } }
                    }
                }
            }
        }
    };
    Ok(layout::page(viewer, Nav::Profile, "Profile & security", body))
}

async fn respond(state: &AppState, viewer: &Viewer, outcome: Outcome) -> PageResult<Response> {
    let status =
        if matches!(outcome, Outcome::Error(_)) { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let must = viewer.caller.mfa_enrolment_required;
    Ok((status, render(state, viewer, outcome, must).await?).into_response())
}

/// A refusal the person can act on is shown on the page; anything else is an error page.
fn shown(e: impl Into<api::ApiError>) -> PageResult<Outcome> {
    Ok(Outcome::Error(fixable(e)?.detail().to_owned()))
}

/// `GET /profile`.
pub async fn show(
    State(state): State<AppState>,
    PendingViewer(viewer): PendingViewer,
) -> PageResult<Response> {
    respond(&state, &viewer, Outcome::None).await
}

/// `POST /profile/mfa/enrol`: a new secret to add to an authenticator app.
pub async fn enrol(
    State(state): State<AppState>,
    PendingViewer(viewer): PendingViewer,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    let outcome = match state.identity.begin_mfa_enrolment(&viewer.caller).await {
        Ok(e) => Outcome::Enrolling { secret: e.secret_base32, uri: e.otpauth_uri },
        Err(e) => shown(e)?,
    };
    respond(&state, &viewer, outcome).await
}

#[derive(Debug, Deserialize)]
pub struct CodeForm {
    code: String,
}

/// `POST /profile/mfa/confirm`: the first code proves the app has the secret; shows recovery codes.
pub async fn confirm(
    State(state): State<AppState>,
    PendingViewer(viewer): PendingViewer,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> PageResult<Response> {
    let outcome = match state.identity.confirm_mfa(&viewer.caller, f.code.trim()).await {
        Ok(codes) => Outcome::RecoveryCodes(codes),
        Err(e) => shown(e)?,
    };
    respond(&state, &viewer, outcome).await
}

/// `POST /profile/mfa/disable`.
pub async fn disable(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> PageResult<Response> {
    let outcome = match state.identity.disable_mfa(&viewer.caller, f.code.trim()).await {
        Ok(()) => return Ok(see_other("/profile")),
        Err(e) => shown(e)?,
    };
    respond(&state, &viewer, outcome).await
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current: String,
    new: String,
}

/// `POST /profile/password`.
pub async fn password(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> PageResult<Response> {
    let outcome = match state.identity.change_password(&viewer.caller, &f.current, &f.new).await {
        Ok(()) => Outcome::Ok("Password changed; your other sessions have ended.".into()),
        Err(identity::IdentityError::InvalidCredentials) => {
            Outcome::Error("The current password is not right.".into())
        }
        Err(e) => shown(e)?,
    };
    respond(&state, &viewer, outcome).await
}

#[derive(Debug, Deserialize)]
pub struct KeyForm {
    name: String,
}

/// `POST /profile/api-keys`: a key with all of the caller's own permissions.
pub async fn create_key(
    State(state): State<AppState>,
    viewer: Viewer,
    CsrfForm(f): CsrfForm<KeyForm>,
) -> PageResult<Response> {
    let scopes: Vec<Permission> = viewer.caller.permissions.iter().collect();
    let outcome = match state.identity.create_api_key(&viewer.caller, &f.name, &scopes, None).await {
        Ok(k) => Outcome::NewKey { name: k.key.name, secret: k.secret },
        Err(e) => shown(e)?,
    };
    respond(&state, &viewer, outcome).await
}

/// `POST /profile/api-keys/{id}/revoke`.
pub async fn revoke_key(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ApiKeyId>,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    state.identity.revoke_api_key(&viewer.caller, id).await?;
    Ok(see_other("/profile"))
}
