//! Signing in (with the MFA code when the account has one), signing out, and accepting an
//! invitation (the link an invitee is sent).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use identity::{IdentityError, LoginRequest, SignedIn};
use maud::{Markup, html};
use serde::Deserialize;

use api::AppState;
use api::extract::Meta;

use crate::error::{PageError, PageResult};
use crate::layout;
use crate::session::{
    self, CSRF_FIELD, CsrfForm, NoFields, PendingViewer, SESSION_COOKIE, pre_session_cookie,
    pre_session_token, safe_next, set_cookie,
};
use crate::ui::PageQuery;

#[derive(Debug, Default, Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    organization: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct SignInForm {
    organization: String,
    email: String,
    password: String,
    mfa_code: Option<String>,
    next: Option<String>,
}

struct FormState<'a> {
    csrf: &'a str,
    organization: &'a str,
    email: &'a str,
    next: &'a str,
    ask_mfa: bool,
    error: Option<&'a str>,
}

fn form(s: &FormState<'_>) -> Markup {
    layout::bare(
        "Sign in",
        html! {
            form class="card" method="post" action="/sign-in" {
                div class="brand" { span class="brand-mark" aria-hidden="true" { "CH" } "Countinghouse" }
                h1 { "Sign in" }
                @if let Some(e) = s.error { div class="alert error" role="alert" id="sign-in-error" { (e) } }
                input type="hidden" name=(CSRF_FIELD) value=(s.csrf);
                input type="hidden" name="next" value=(s.next);
                label { "Firm" span class="field-hint" { "Your firm's short name, as in its sign-in link" }
                    input name="organization" required autocomplete="organization" value=(s.organization) autofocus[s.organization.is_empty()];
                }
                label { "Email" input type="email" name="email" required autocomplete="username" value=(s.email); }
                label { "Password" input type="password" name="password" required autocomplete="current-password" autofocus[!s.organization.is_empty() && !s.ask_mfa]; }
                @if s.ask_mfa {
                    label { "Authentication code"
                        span class="field-hint" { "The 6 digits from your authenticator app, or a recovery code" }
                        input name="mfa_code" required inputmode="numeric" autocomplete="one-time-code" autofocus;
                    }
                }
                button class="btn primary" type="submit" { "Sign in" }
                p { a id="forgot-password" href={ "/forgot-password?organization=" (crate::error::url_encode(s.organization)) } { "Forgot your password?" } }
            }
        },
    )
}

/// `GET /sign-in`: the form (or, already signed in, onward).
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<SignInQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    let (csrf, fresh) = pre_session_token(&headers);
    let page = form(&FormState {
        csrf: &csrf,
        organization: q.organization.as_deref().unwrap_or(""),
        email: "",
        next: &next,
        ask_mfa: false,
        error: None,
    });
    let mut r = page.into_response();
    if fresh {
        r.headers_mut().append(header::SET_COOKIE, pre_session_cookie(&state, &csrf));
    }
    r
}

/// Starts the browser's session: the token in its cookie, until the session expires.
fn signed_in(state: &AppState, s: &SignedIn, to: &str) -> Response {
    let max_age = (s.expires_at - chrono::Utc::now()).num_seconds().max(0);
    let to = if s.mfa_enrolment_required { "/profile?enrol=mfa" } else { to };
    let mut r = session::see_other(to);
    r.headers_mut().append(header::SET_COOKIE, set_cookie(state, SESSION_COOKIE, &s.token, max_age));
    r.headers_mut().append(header::SET_COOKIE, set_cookie(state, "ch_csrf", "", 0));
    r
}

/// `POST /sign-in`.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Meta(meta): Meta,
    CsrfForm(f): CsrfForm<SignInForm>,
) -> PageResult<Response> {
    let next = safe_next(f.next.as_deref());
    let request = LoginRequest {
        organization: f.organization.trim().to_owned(),
        email: f.email.trim().to_owned(),
        password: f.password,
        mfa_code: f.mfa_code.filter(|c| !c.trim().is_empty()),
    };
    match state.identity.login(request, &meta).await {
        Ok(s) => Ok(signed_in(&state, &s, &next)),
        Err(e) => {
            let (message, ask_mfa, status) = match &e {
                IdentityError::MfaRequired => (
                    "Enter the code from your authenticator app to finish signing in.",
                    true,
                    StatusCode::UNAUTHORIZED,
                ),
                IdentityError::InvalidMfaCode => {
                    ("That code is not valid; try the current one.", true, StatusCode::UNAUTHORIZED)
                }
                IdentityError::InvalidCredentials => (
                    "The firm, email or password is not right (after 5 failures the account is locked for 30 minutes).",
                    false,
                    StatusCode::UNAUTHORIZED,
                ),
                IdentityError::RateLimited { .. } => (
                    "Too many attempts from here; wait a minute and try again.",
                    false,
                    StatusCode::TOO_MANY_REQUESTS,
                ),
                _ => return Err(e.into()),
            };
            let csrf = session::cookie(&headers, "ch_csrf").unwrap_or_default().to_owned();
            let page = form(&FormState {
                csrf: &csrf,
                organization: &f.organization,
                email: &f.email,
                next: &next,
                ask_mfa,
                error: Some(message),
            });
            Ok((status, page).into_response())
        }
    }
}

/// `POST /sign-out`: ends the session (as `DELETE /v1/sessions/current` does) and forgets the cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    PendingViewer(viewer): PendingViewer,
    CsrfForm(NoFields {}): CsrfForm<NoFields>,
) -> PageResult<Response> {
    state.identity.logout(&viewer.caller).await?;
    let mut r = session::see_other("/sign-in");
    r.headers_mut().append(header::SET_COOKIE, set_cookie(&state, SESSION_COOKIE, "", 0));
    Ok(r)
}

#[derive(Debug, Deserialize)]
pub struct InvitationQuery {
    token: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    token: String,
    name: Option<String>,
    password: String,
}

fn accept_form(csrf: &str, token: &str, error: Option<&str>) -> Markup {
    layout::bare(
        "Accept your invitation",
        html! {
            form class="card" method="post" action="/invitations/accept" {
                div class="brand" { span class="brand-mark" aria-hidden="true" { "CH" } "Countinghouse" }
                h1 { "Join your firm" }
                p class="muted" { "Choose your name and a password to accept the invitation." }
                @if let Some(e) = error { div class="alert error" role="alert" { (e) } }
                input type="hidden" name=(CSRF_FIELD) value=(csrf);
                input type="hidden" name="token" value=(token);
                label { "Your name" input name="name" autocomplete="name"; }
                label { "Password" span class="field-hint" { "At least 12 characters" }
                    input type="password" name="password" required minlength="12" autocomplete="new-password";
                }
                button class="btn primary" type="submit" { "Accept and sign in" }
            }
        },
    )
}

/// `GET /invitations/accept?token=…`: the page an invitation link opens.
pub async fn show_accept(
    State(state): State<AppState>,
    headers: HeaderMap,
    PageQuery(q): PageQuery<InvitationQuery>,
) -> PageResult<Response> {
    let Some(token) = q.token else {
        return Err(PageError::BadForm(
            "this invitation link has no token; open the link from the email again".into(),
        ));
    };
    let (csrf, fresh) = pre_session_token(&headers);
    let mut r = accept_form(&csrf, &token, None).into_response();
    if fresh {
        r.headers_mut().append(header::SET_COOKIE, pre_session_cookie(&state, &csrf));
    }
    Ok(r)
}

/// `POST /invitations/accept`: creates the member and signs them in.
pub async fn accept(
    State(state): State<AppState>,
    headers: HeaderMap,
    Meta(meta): Meta,
    CsrfForm(f): CsrfForm<AcceptForm>,
) -> PageResult<Response> {
    let name = f.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    match state.identity.accept_invitation(&f.token, name, &f.password, &meta).await {
        Ok(s) => Ok(signed_in(&state, &s, "/")),
        Err(e @ (IdentityError::Invalid { .. } | IdentityError::Conflict(_))) => {
            let csrf = session::cookie(&headers, "ch_csrf").unwrap_or_default().to_owned();
            let message = api::ApiError::from(e).detail().to_owned();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, accept_form(&csrf, &f.token, Some(&message)))
                .into_response())
        }
        Err(IdentityError::NotFound) => Err(PageError::Api(api::ApiError::new(
            api_types::ProblemType::NotFound,
            "this invitation is not valid any more (used, revoked or expired); ask your firm for a new one",
        ))),
        Err(e) => Err(e.into()),
    }
}
