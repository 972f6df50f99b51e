//! What can go wrong in the reminders' use cases. Mapped to problem+json at the edge.

use domain::Permission;
use identity::IdentityError;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum RemindersError {
    #[error("missing permission `{0}`")]
    Forbidden(Permission),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Field-level problems: (field, message).
    #[error("invalid input")]
    Invalid(Vec<(String, String)>),
    #[error("{0}")]
    Conflict(String),
    /// Queueing a reminder mail failed.
    #[error("queueing a mail: {0}")]
    Mail(String),
    #[error(transparent)]
    Store(StoreError),
}

pub type RemindersResult<T> = Result<T, RemindersError>;

impl RemindersError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        RemindersError::Invalid(vec![(field.into(), message.into())])
    }
}

impl From<StoreError> for RemindersError {
    fn from(e: StoreError) -> Self {
        RemindersError::Store(e)
    }
}

impl From<IdentityError> for RemindersError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Forbidden(p) => RemindersError::Forbidden(p),
            IdentityError::Store(s) => RemindersError::Store(s),
            other => RemindersError::Conflict(other.to_string()),
        }
    }
}

impl From<mailer::MailError> for RemindersError {
    fn from(e: mailer::MailError) -> Self {
        RemindersError::Mail(e.to_string())
    }
}
