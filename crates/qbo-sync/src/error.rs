//! The sync engine's error.

use quickbooks::{OAuthError, QboError, TokenError};
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("QuickBooks is misconfigured: {0}")]
    Config(String),
    /// The deployment has no `[quickbooks]` section: nothing that talks to Intuit can run.
    #[error("QuickBooks is not configured on this deployment")]
    NotConfigured,
    /// The caller may not do this (a permission of the catalogue).
    #[error(transparent)]
    Identity(#[from] identity::IdentityError),
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The OAuth `state` is unknown, used, expired, or belongs to someone else.
    #[error("the QuickBooks connect link is invalid, used or expired; start connecting again")]
    InvalidState,
    #[error("the client already has a live QuickBooks connection; disconnect it first")]
    AlreadyConnected,
    /// The company is connected to another client of the firm (a company feeds one client).
    #[error("QuickBooks company {0} is already connected to another client of this firm")]
    RealmTaken(String),
    /// The callback's `realmId` is not a company the new tokens may read: the query string was
    /// changed, or the user picked another company than the one named.
    #[error(
        "QuickBooks did not authorize company {0} for this connection; connect again and pick that company"
    )]
    RealmNotAuthorized(String),
    #[error("the QuickBooks connection must be reconnected: {0}")]
    ReconnectNeeded(String),
    /// A manual sync of a connection that is not `connected`.
    #[error("the QuickBooks connection must be reconnected before it can sync")]
    NotConnected,
    #[error("invalid input: {field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error(transparent)]
    OAuth(#[from] OAuthError),
    #[error(transparent)]
    Qbo(#[from] QboError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Jobs(#[from] jobs::JobsError),
    /// Completing the sync job in the run's final transaction failed (its lease was lost, or
    /// the database).
    #[error(transparent)]
    Job(#[from] jobs::JobError),
    #[error("sealed tokens do not open: {0}")]
    Vault(#[from] vault::VaultError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
}

impl From<store::sqlx::Error> for SyncError {
    fn from(e: store::sqlx::Error) -> Self {
        SyncError::Store(e.into())
    }
}

impl From<TokenError> for SyncError {
    fn from(e: TokenError) -> Self {
        SyncError::Qbo(QboError::Token(e))
    }
}

impl SyncError {
    pub fn needs_reconnect(&self) -> bool {
        match self {
            SyncError::ReconnectNeeded(_) => true,
            SyncError::Qbo(e) => e.needs_reconnect(),
            SyncError::OAuth(e) => e.needs_reconnect(),
            _ => false,
        }
    }

    /// Worth running the job again later.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Qbo(e) => e.is_transient(),
            SyncError::OAuth(e) => matches!(e, OAuthError::Transport(_)),
            SyncError::Store(e) => !matches!(e, StoreError::Corrupt(_) | StoreError::InvalidValue(_)),
            SyncError::Jobs(_) => true,
            SyncError::Job(e) => matches!(e, jobs::JobError::Retry { .. }),
            _ => false,
        }
    }
}

pub type SyncResult<T> = Result<T, SyncError>;
