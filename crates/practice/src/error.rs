//! What can go wrong in the firm's use cases. Mapped to problem+json at the edge.

use api_types::clients::ImportReport;
use domain::Permission;
use domain::validate::FieldErrors;
use identity::IdentityError;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PracticeError {
    #[error("missing permission `{0}`")]
    Forbidden(Permission),
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Not found, with the detail of what is missing.
    #[error("{0}")]
    Missing(String),
    /// Field-level problems: (field, message).
    #[error("invalid input")]
    Invalid(Vec<(String, String)>),
    #[error("{0}")]
    Conflict(String),
    /// A CSV import with rejected rows: nothing was imported.
    #[error("{} of {} rows were rejected; nothing was imported", .0.rejected.len(), .0.rows)]
    ImportRejected(Box<ImportReport>),
    #[error("{0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(StoreError),
}

pub type PracticeResult<T> = Result<T, PracticeError>;

impl PracticeError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        PracticeError::Invalid(vec![(field.into(), message.into())])
    }
}

impl From<FieldErrors> for PracticeError {
    fn from(e: FieldErrors) -> Self {
        PracticeError::Invalid(e.0)
    }
}

impl From<StoreError> for PracticeError {
    fn from(e: StoreError) -> Self {
        PracticeError::Store(e)
    }
}

impl From<IdentityError> for PracticeError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Forbidden(p) => PracticeError::Forbidden(p),
            IdentityError::Store(s) => PracticeError::Store(s),
            other => PracticeError::NotAllowed(other.to_string()),
        }
    }
}

/// `NotFound` from the store as a named resource.
pub(crate) trait NotFoundAs<T> {
    fn or_not_found(self, what: &'static str) -> PracticeResult<T>;
}

impl<T> NotFoundAs<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &'static str) -> PracticeResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => PracticeError::NotFound(what),
            other => PracticeError::Store(other),
        })
    }
}
