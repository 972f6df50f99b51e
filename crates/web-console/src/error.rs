//! What a page answers when it cannot show what was asked: typed errors go through the API's one
//! mapping ([`api::ApiError`]) and are rendered as an HTML page with the same status and detail.

use api::ApiError;
use api_types::ProblemType;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;

use crate::layout;

#[derive(Debug)]
pub enum PageError {
    /// Not signed in (or the session ended): to the sign-in page, then back here.
    SignIn {
        back_to: String,
    },
    Redirect(String),
    /// A state-changing request without this browser's CSRF token.
    Csrf,
    /// A form body that could not be read.
    BadForm(String),
    Api(ApiError),
}

pub type PageResult<T> = Result<T, PageError>;

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Api(e)
    }
}

macro_rules! through_api_error {
    ($($t:ty),*) => {$(
        impl From<$t> for PageError {
            fn from(e: $t) -> Self {
                PageError::Api(ApiError::from(e))
            }
        }
    )*};
}

through_api_error!(
    identity::IdentityError,
    practice::PracticeError,
    documents::service::DocumentsError,
    marketplace::MarketplaceError,
    qbo_sync::SyncError,
    workflow_reminders::RemindersError
);

impl PageError {
    pub fn not_found(what: &str) -> Self {
        PageError::Api(ApiError::not_found(what))
    }
}

/// A refusal the person can fix on the form they sent (a bad value, a conflict, a file too large,
/// too many tries): `Ok`, for the page to show it beside the form; anything else (signed out, no
/// permission, not found, a failure) is `Err`, the error page.
pub fn fixable(e: impl Into<ApiError>) -> PageResult<ApiError> {
    let e = e.into();
    match e.status().as_u16() {
        400 | 409 | 413 | 415 | 422 | 429 => Ok(e),
        _ => Err(PageError::Api(e)),
    }
}

fn sign_in_url(back_to: &str) -> String {
    let next: String = url_encode(back_to);
    format!("/sign-in?next={next}")
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).map(|e| e[2..].to_owned()).unwrap_or_default()
}

fn page(status: StatusCode, title: &str, detail: &str, hint: Option<&str>) -> Response {
    let body = layout::bare(
        title,
        html! {
            div class="card" role="alert" {
                h1 { (title) }
                p id="problem" { (detail) }
                @if let Some(hint) = hint { p class="muted" { (hint) } }
                p { a class="btn" href="/" { "Back to the dashboard" } }
            }
        },
    );
    (status, body).into_response()
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { back_to } => {
                let to = sign_in_url(&back_to);
                let mut r = Redirect::to(&to).into_response();
                // htmx follows a redirect inside the swap; this makes it load the whole page instead.
                if let Ok(v) = HeaderValue::from_str(&to) {
                    r.headers_mut().insert("hx-redirect", v);
                }
                r
            }
            PageError::Redirect(to) => Redirect::to(&to).into_response(),
            PageError::Csrf => page(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The request did not carry this browser's security token, so nothing was changed.",
                Some("Reload the page and submit it again."),
            ),
            PageError::BadForm(detail) => {
                page(StatusCode::BAD_REQUEST, "The form could not be read", &detail, None)
            }
            PageError::Api(e) => {
                e.log_cause();
                let status = e.status();
                match e.kind() {
                    ProblemType::Unauthenticated => PageError::SignIn { back_to: "/".into() }.into_response(),
                    ProblemType::Forbidden | ProblemType::NotAllowed => page(
                        status,
                        "You do not have access to this",
                        e.detail(),
                        Some("Ask an owner or admin of your firm if you need it."),
                    ),
                    ProblemType::NotFound => page(
                        status,
                        "Not found",
                        e.detail(),
                        Some("It may have been deleted, or it belongs to another firm or client."),
                    ),
                    _ => {
                        let mut r = page(status, e.kind().title(), e.detail(), None);
                        if status == StatusCode::SERVICE_UNAVAILABLE {
                            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                        }
                        r
                    }
                }
            }
        }
    }
}
