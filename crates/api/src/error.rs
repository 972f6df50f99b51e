//! The one place errors become HTTP: every crate's typed error maps to a problem type here.
//!
//! `IntoResponse` only builds the response; the cause of a 5xx rides in a response extension and
//! is logged once by the observing middleware, inside the request's span.

use std::sync::Arc;

use api_types::{FieldError, Problem, ProblemType};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use documents::UploadRejection;
use documents::service::DocumentsError;
use identity::IdentityError;
use jobs::JobsError;
use marketplace::MarketplaceError;
use practice::PracticeError;
use qbo_sync::SyncError;
use qbo_sync::webhooks::WebhookRejection;
use store::StoreError;
use workflow_reminders::RemindersError;

tokio::task_local! {
    /// The current request's id, so problem bodies can carry it without threading it everywhere.
    pub static REQUEST_ID: String;
}

/// What went wrong, as the client will see it.
#[derive(Debug)]
pub struct ApiError {
    kind: ProblemType,
    detail: String,
    errors: Vec<FieldError>,
    retry_after_secs: Option<u64>,
    /// For the log only; never sent.
    cause: Option<String>,
}

/// The logged cause of a server-side failure, attached to the response for the access log.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub Arc<String>);

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        ApiError { kind, detail: detail.into(), errors: Vec::new(), retry_after_secs: None, cause: None }
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(ProblemType::NotFound, format!("{what} not found"))
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail =
            errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ");
        ApiError { errors, ..ApiError::new(ProblemType::Validation, detail) }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::validation(vec![FieldError::new(field, message)])
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError {
            cause: Some(cause.to_string()),
            ..ApiError::new(ProblemType::Internal, "something went wrong on our side; it has been logged")
        }
    }

    pub fn kind(&self) -> ProblemType {
        self.kind
    }

    /// What the client is told (never the logged cause).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The field-by-field reasons of a validation problem.
    pub fn field_errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The HTTP status this problem is answered with.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.kind.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Logs a server-side cause the way the access log would (for edges that render their own body).
    pub fn log_cause(&self) {
        if let Some(cause) = &self.cause {
            tracing::error!(error.cause = %cause, "request failed");
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::validation(vec![e])
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::new(ProblemType::NotFound, "not found"),
            StoreError::Conflict(constraint) => {
                ApiError::new(ProblemType::Conflict, format!("conflicts with existing data ({constraint})"))
            }
            StoreError::Constraint(constraint) => {
                ApiError::new(ProblemType::Validation, format!("refused by a data rule ({constraint})"))
            }
            StoreError::InvalidValue(message) => {
                ApiError::new(ProblemType::Validation, format!("a value cannot be stored: {message}"))
            }
            StoreError::InvalidCursor(e) => ApiError::new(ProblemType::InvalidCursor, e.to_string()),
            StoreError::Unavailable(source) => ApiError {
                cause: Some(source.to_string()),
                retry_after_secs: Some(1),
                ..ApiError::new(
                    ProblemType::Unavailable,
                    "the database is busy or unreachable; retry shortly",
                )
            },
            other => ApiError::internal(error_chain(&other)),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        let detail = e.to_string();
        match e {
            IdentityError::InvalidCredentials => ApiError::new(
                ProblemType::InvalidCredentials,
                "organization, email or password is wrong, or the account is locked after repeated \
                 failures (it unlocks after 30 minutes)",
            ),
            IdentityError::MfaRequired => ApiError::new(ProblemType::MfaRequired, detail),
            IdentityError::InvalidMfaCode => ApiError::new(ProblemType::InvalidMfaCode, detail),
            IdentityError::RateLimited { retry_after } => ApiError {
                retry_after_secs: Some(retry_after.as_secs().max(1)),
                ..ApiError::new(ProblemType::RateLimited, detail)
            },
            IdentityError::Unauthenticated => ApiError::new(
                ProblemType::Unauthenticated,
                "send a valid session token or API key as `Authorization: Bearer <token>`; \
                 sessions expire when idle — sign in again at POST /v1/sessions",
            ),
            IdentityError::Forbidden(p) => {
                ApiError::new(ProblemType::Forbidden, format!("your role does not grant `{p}`"))
            }
            IdentityError::NotAllowed(_) => ApiError::new(ProblemType::NotAllowed, detail),
            IdentityError::MfaEnrolmentRequired => ApiError::new(ProblemType::MfaEnrolmentRequired, detail),
            IdentityError::Invalid { field, message } => ApiError::field(field, message),
            IdentityError::Conflict(_) => ApiError::new(ProblemType::Conflict, detail),
            IdentityError::NotFound => ApiError::new(ProblemType::NotFound, "not found"),
            IdentityError::Store(e) => e.into(),
        }
    }
}

impl From<JobsError> for ApiError {
    fn from(e: JobsError) -> Self {
        let detail = e.to_string();
        match e {
            JobsError::NotFound(_) => ApiError::new(ProblemType::NotFound, detail),
            JobsError::WrongState { .. } | JobsError::UniqueKeyTaken(_) => {
                ApiError::new(ProblemType::Conflict, detail)
            }
            JobsError::Database(e) => StoreError::from(e).into(),
            JobsError::Store(e) => e.into(),
            other => ApiError::internal(error_chain(&other)),
        }
    }
}

impl From<PracticeError> for ApiError {
    fn from(e: PracticeError) -> Self {
        let detail = e.to_string();
        match e {
            PracticeError::Forbidden(p) => {
                ApiError::new(ProblemType::Forbidden, format!("your role does not grant `{p}`"))
            }
            PracticeError::NotAllowed(_) => ApiError::new(ProblemType::NotAllowed, detail),
            PracticeError::NotFound(_) | PracticeError::Missing(_) => {
                ApiError::new(ProblemType::NotFound, detail)
            }
            PracticeError::Invalid(errors) => {
                ApiError::validation(errors.into_iter().map(|(f, m)| FieldError::new(f, m)).collect())
            }
            PracticeError::Conflict(_) => ApiError::new(ProblemType::Conflict, detail),
            PracticeError::Unreadable(_) => ApiError::new(ProblemType::Validation, detail),
            PracticeError::ImportRejected(report) => {
                let errors = report
                    .rejected
                    .iter()
                    .flat_map(|row| {
                        row.errors.iter().map(move |e| {
                            FieldError::new(format!("line {}: {}", row.line, e.field), &e.message)
                        })
                    })
                    .collect();
                ApiError { errors, ..ApiError::new(ProblemType::Validation, detail) }
            }
            PracticeError::Store(e) => e.into(),
        }
    }
}

impl From<RemindersError> for ApiError {
    fn from(e: RemindersError) -> Self {
        let detail = e.to_string();
        match e {
            RemindersError::Forbidden(p) => {
                ApiError::new(ProblemType::Forbidden, format!("your role does not grant `{p}`"))
            }
            RemindersError::NotFound(_) => ApiError::new(ProblemType::NotFound, detail),
            RemindersError::Invalid(errors) => {
                ApiError::validation(errors.into_iter().map(|(f, m)| FieldError::new(f, m)).collect())
            }
            RemindersError::Conflict(_) => ApiError::new(ProblemType::Conflict, detail),
            RemindersError::Mail(_) => ApiError::internal(detail),
            RemindersError::Store(e) => e.into(),
        }
    }
}

impl From<MarketplaceError> for ApiError {
    fn from(e: MarketplaceError) -> Self {
        let detail = e.to_string();
        match e {
            MarketplaceError::Forbidden(p) => {
                ApiError::new(ProblemType::Forbidden, format!("your role does not grant `{p}`"))
            }
            MarketplaceError::NotAllowed(_) => ApiError::new(ProblemType::NotAllowed, detail),
            MarketplaceError::NotFound(_) => ApiError::new(ProblemType::NotFound, detail),
            MarketplaceError::Invalid(errors) => {
                ApiError::validation(errors.into_iter().map(|(f, m)| FieldError::new(f, m)).collect())
            }
            MarketplaceError::Conflict(_) => ApiError::new(ProblemType::Conflict, detail),
            MarketplaceError::Store(e) => e.into(),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        let detail = e.to_string();
        match e {
            SyncError::NotFound(_) => ApiError::new(ProblemType::NotFound, detail),
            SyncError::NotConfigured => ApiError::new(ProblemType::Unavailable, detail),
            SyncError::Identity(identity) => identity.into(),
            SyncError::InvalidState => ApiError::field("state", detail),
            SyncError::Invalid { field, message } => ApiError::field(field, message),
            SyncError::AlreadyConnected
            | SyncError::RealmTaken(_)
            | SyncError::ReconnectNeeded(_)
            | SyncError::NotConnected => ApiError::new(ProblemType::Conflict, detail),
            SyncError::RealmNotAuthorized(_) => ApiError::field("realmId", detail),
            // The callback's code was refused (used twice, expired): the user starts over.
            SyncError::OAuth(ref oauth) if oauth.needs_reconnect() => ApiError::field(
                "code",
                "QuickBooks refused the authorization code (expired or already used); connect again",
            ),
            SyncError::Store(store) => store.into(),
            ref other if other.is_transient() => ApiError {
                cause: Some(error_chain(other)),
                retry_after_secs: Some(5),
                ..ApiError::new(ProblemType::Unavailable, "QuickBooks cannot be reached; retry shortly")
            },
            other => ApiError::internal(error_chain(&other)),
        }
    }
}

impl From<WebhookRejection> for ApiError {
    fn from(e: WebhookRejection) -> Self {
        match e {
            WebhookRejection::NotConfigured => ApiError::new(ProblemType::Unavailable, e.to_string()),
            WebhookRejection::Invalid(qbo_sync::webhooks::WebhookError::Payload(detail)) => {
                ApiError::new(ProblemType::MalformedJson, detail)
            }
            WebhookRejection::Invalid(error) => {
                ApiError::new(ProblemType::Unauthenticated, error.to_string())
            }
            WebhookRejection::Sync(error) => error.into(),
        }
    }
}

/// The problem type of a refused upload.
pub fn upload_problem(r: &UploadRejection) -> ProblemType {
    match r {
        UploadRejection::TooLarge { .. } | UploadRejection::TooManyEntries { .. } => {
            ProblemType::FileTooLarge
        }
        UploadRejection::UnsupportedType { .. } => ProblemType::UnsupportedFileType,
        UploadRejection::MismatchedExtension { .. } => ProblemType::FileTypeMismatch,
        UploadRejection::Encrypted { .. } => ProblemType::FileEncrypted,
        UploadRejection::Empty | UploadRejection::Corrupt { .. } => ProblemType::FileCorrupt,
        UploadRejection::TooManyPages { .. }
        | UploadRejection::PageTooLarge { .. }
        | UploadRejection::BadImageDimensions { .. } => ProblemType::FileLimitExceeded,
        UploadRejection::ZipBomb { .. } => ProblemType::ZipBomb,
        UploadRejection::NestedArchive
        | UploadRejection::UnsafeEntryName { .. }
        | UploadRejection::NotABatch => ProblemType::BadArchive,
    }
}

impl From<DocumentsError> for ApiError {
    fn from(e: DocumentsError) -> Self {
        let detail = e.to_string();
        match e {
            DocumentsError::Identity(e) => e.into(),
            DocumentsError::Store(e) => e.into(),
            DocumentsError::Jobs(e) => e.into(),
            // Each refused file is listed, named, with its own reason.
            DocumentsError::Rejected { rejection, files } => {
                let errors = files
                    .iter()
                    .map(|f| {
                        FieldError::new(
                            f.file_name.clone().unwrap_or_else(|| "file".to_owned()),
                            f.rejection.to_string(),
                        )
                    })
                    .collect();
                ApiError { errors, ..ApiError::new(upload_problem(&rejection), detail) }
            }
            DocumentsError::NotFound(_) => ApiError::new(ProblemType::NotFound, detail),
            DocumentsError::Invalid { field, message } => ApiError::field(&field, message),
            DocumentsError::BadLink => ApiError::new(ProblemType::InvalidLink, detail),
            DocumentsError::QuotaExceeded { .. } => ApiError::new(ProblemType::StorageQuotaExceeded, detail),
            DocumentsError::Unavailable(_) | DocumentsError::Blob(_) => ApiError {
                cause: Some(error_chain(&e)),
                retry_after_secs: Some(5),
                ..ApiError::new(
                    ProblemType::Unavailable,
                    "document storage or tools are unavailable; retry shortly",
                )
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut problem = Problem::new(self.kind, self.detail);
        problem.errors = self.errors;
        problem.request_id = REQUEST_ID.try_with(Clone::clone).ok();
        let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = self.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(ErrorCause(Arc::new(cause)));
        }
        response
    }
}

/// `error: cause: cause…`, for logs.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
