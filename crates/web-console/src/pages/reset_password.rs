//! A forgotten password: asking for a link by mail (the same answer whether or not the account
//! exists), and the page the mailed link opens, where the new password is set.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::password::MIN_LEN;
use identity::IdentityError;
use maud::{Markup, html};
use serde::Deserialize;

use api::AppState;
use api::extract::Meta;

use crate::error::{PageResult, fixable, url_encode};
use crate::layout;
use crate::session::{self, CSRF_FIELD, CsrfForm, pre_session_cookie, pre_session_token};
use crate::ui::PageQuery;

fn brand() -> Markup {
    html! { div class="brand" { span class="brand-mark" aria-hidden="true" { "CH" } "Countinghouse" } }
}

/// This browser's pre-sign-in CSRF token, set on the response when it is new.
fn with_csrf(state: &AppState, headers: &HeaderMap, page: impl FnOnce(&str) -> Markup) -> Response {
    let (csrf, fresh) = pre_session_token(headers);
    let mut r = page(&csrf).into_response();
    if fresh {
        r.headers_mut().append(header::SET_COOKIE, pre_session_cookie(state, &csrf));
    }
    r
}

fn csrf_of(headers: &HeaderMap) -> String {
    session::cookie(headers, "ch_csrf").unwrap_or_default().to_owned()
}

#[derive(Debug, Default, Deserialize)]
pub struct ForgotQuery {
    organization: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    organization: String,
    email: String,
}

fn forgot_form(csrf: &str, organization: &str, email: &str, error: Option<&str>) -> Markup {
    layout::bare(
        "Forgot your password?",
        html! {
            form class="card" method="post" action="/forgot-password" {
                (brand())
                h1 { "Forgot your password?" }
                p class="muted" { "Tell us your firm and the email you sign in with; we mail you a link to choose a new password." }
                @if let Some(e) = error { div class="alert error" role="alert" id="forgot-error" { (e) } }
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                label { "Firm" span class="field-hint" { "Your firm's short name, as in its sign-in link" }
                    input name="organization" required autocomplete="organization" value=(organization) autofocus[organization.is_empty()];
                }
                label { "Email" input type="email" name="email" required autocomplete="username" value=(email) autofocus[!organization.is_empty()]; }
                button class="btn primary" type="submit" { "Send me a link" }
                p { a href={ "/sign-in?organization=" (url_encode(organization)) } { "Back to sign-in" } }
            }
        },
    )
}

/// `GET /forgot-password`.
pub async fn show_forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<ForgotQuery>,
) -> Response {
    let organization = q.organization.unwrap_or_default();
    with_csrf(&state, &headers, |csrf| forgot_form(csrf, &organization, "", None))
}

/// `POST /forgot-password`: asks for the link; the answer never says whether the account exists.
pub async fn forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Meta(meta): Meta,
    CsrfForm(f): CsrfForm<ForgotForm>,
) -> PageResult<Response> {
    let organization = f.organization.trim();
    match state.identity.request_password_reset(organization, f.email.trim(), &meta).await {
        Ok(()) => Ok(layout::bare(
            "Check your mail",
            html! {
                div class="card" role="status" {
                    (brand())
                    h1 { "Check your mail" }
                    p id="reset-requested" { "If the address is known, a link is on its way." }
                    p class="muted" { "It works once, for one hour. Nothing arrived? Check the spam folder, or ask an administrator of your firm for a reset link." }
                    p { a class="btn" href={ "/sign-in?organization=" (url_encode(organization)) } { "Back to sign-in" } }
                }
            },
        )
        .into_response()),
        Err(e) => {
            let e = fixable(e)?;
            let page = forgot_form(&csrf_of(&headers), organization, &f.email, Some(e.detail()));
            Ok((e.status(), page).into_response())
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetQuery {
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    token: String,
    password: String,
    confirm: String,
}

fn reset_form(csrf: &str, token: &str, error: Option<&str>) -> Markup {
    layout::bare(
        "Choose a new password",
        html! {
            form class="card" method="post" action="/reset-password" {
                (brand())
                h1 { "Choose a new password" }
                p class="muted" { "Every place you are signed in is signed out once it is set." }
                @if let Some(e) = error { div class="alert error" role="alert" id="reset-error" { (e) } }
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                input type="hidden" name="token" value=(token);
                label { "New password" span class="field-hint" { "At least " (MIN_LEN) " characters; a passphrase is best" }
                    input type="password" name="password" required minlength=(MIN_LEN) autocomplete="new-password" autofocus;
                }
                label { "The same again" input type="password" name="confirm" required minlength=(MIN_LEN) autocomplete="new-password"; }
                button class="btn primary" type="submit" { "Set the new password" }
            }
        },
    )
}

/// The page a used, expired or mangled link gets: says so, and offers to ask again.
fn link_dead() -> Response {
    let page = layout::bare(
        "This link does not work any more",
        html! {
            div class="card" role="alert" {
                (brand())
                h1 { "This link does not work any more" }
                p id="reset-dead" { "A password-reset link works once, for one hour. This one was already used, has expired, or was not copied whole." }
                p { a class="btn primary" href="/forgot-password" { "Ask for a new link" } }
                p { a href="/sign-in" { "Back to sign-in" } }
            }
        },
    );
    (StatusCode::NOT_FOUND, page).into_response()
}

/// `GET /reset-password?token=…`: the page the mailed link opens.
pub async fn show_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<ResetQuery>,
) -> PageResult<Response> {
    let Some(token) = q.token else { return Ok(link_dead()) };
    if !state.identity.password_reset_is_open(&token).await? {
        return Ok(link_dead());
    }
    Ok(with_csrf(&state, &headers, |csrf| reset_form(csrf, &token, None)))
}

/// `POST /reset-password`: sets the new password; then to sign in with it.
pub async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Meta(meta): Meta,
    CsrfForm(f): CsrfForm<ResetForm>,
) -> PageResult<Response> {
    if f.password != f.confirm {
        let page = reset_form(&csrf_of(&headers), &f.token, Some("The two passwords are not the same."));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response());
    }
    match state.identity.complete_password_reset(&f.token, &f.password, &meta).await {
        Ok(()) => Ok(layout::bare(
            "Password changed",
            html! {
                div class="card" role="status" {
                    (brand())
                    h1 { "Password changed" }
                    p id="reset-done" { "Your new password is set, and every session that was open is signed out." }
                    p { a class="btn primary" href="/sign-in" { "Sign in" } }
                }
            },
        )
        .into_response()),
        Err(IdentityError::NotFound) => Ok(link_dead()),
        Err(e) => {
            let e = fixable(e)?;
            let page = reset_form(&csrf_of(&headers), &f.token, Some(e.detail()));
            Ok((e.status(), page).into_response())
        }
    }
}
