//! What can go wrong in the marketplace's use cases. Mapped to problem+json at the edge.

use domain::Permission;
use domain::validate::FieldErrors;
use identity::IdentityError;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum MarketplaceError {
    #[error("missing permission `{0}`")]
    Forbidden(Permission),
    #[error("{0}")]
    NotAllowed(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Field-level problems: (field, message).
    #[error("invalid input")]
    Invalid(Vec<(String, String)>),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
}

pub type MarketplaceResult<T> = Result<T, MarketplaceError>;

impl MarketplaceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        MarketplaceError::Invalid(vec![(field.into(), message.into())])
    }
}

impl From<FieldErrors> for MarketplaceError {
    fn from(e: FieldErrors) -> Self {
        MarketplaceError::Invalid(e.0)
    }
}

impl From<StoreError> for MarketplaceError {
    fn from(e: StoreError) -> Self {
        MarketplaceError::Store(e)
    }
}

impl From<IdentityError> for MarketplaceError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::Forbidden(p) => MarketplaceError::Forbidden(p),
            IdentityError::Store(s) => MarketplaceError::Store(s),
            other => MarketplaceError::NotAllowed(other.to_string()),
        }
    }
}

/// `NotFound` from the store as a named resource.
pub(crate) trait NotFoundAs<T> {
    fn or_not_found(self, what: &'static str) -> MarketplaceResult<T>;
}

impl<T> NotFoundAs<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &'static str) -> MarketplaceResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => MarketplaceError::NotFound(what),
            other => MarketplaceError::Store(other),
        })
    }
}
