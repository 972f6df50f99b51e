//! What can go wrong when establishing or using an identity. Mapped to problem+json at the edge.

use std::time::Duration;

use domain::Permission;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Wrong organization, email or password, a disabled account, or a locked one: deliberately
    /// one answer, so that sign-in reveals nothing about which accounts exist.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("this account uses multi-factor sign-in: send `mfa_code` (authenticator code or recovery code)")]
    MfaRequired,
    #[error("the multi-factor code is wrong or was already used")]
    InvalidMfaCode,
    #[error("too many attempts; retry after {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    /// No credentials, or a token that is malformed, unknown, revoked or expired.
    #[error("authentication required")]
    Unauthenticated,
    #[error("missing permission `{0}`")]
    Forbidden(Permission),
    #[error("{0}")]
    NotAllowed(&'static str),
    #[error("the organization requires multi-factor sign-in; enrol at POST /v1/me/mfa/enrolment first")]
    MfaEnrolmentRequired,
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error("{0}")]
    Conflict(&'static str),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for IdentityError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => IdentityError::NotFound,
            other => IdentityError::Store(other),
        }
    }
}

impl IdentityError {
    pub fn invalid(field: &'static str, message: impl ToString) -> Self {
        IdentityError::Invalid { field, message: message.to_string() }
    }
}

pub type IdentityResult<T> = Result<T, IdentityError>;
